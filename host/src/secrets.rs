//! A host-side scan for credentials in text the host is about to store or
//! write (standard proposals). The security persona has its own scanner
//! inside its sandbox; the host cannot call into it, and it must not trust a
//! persona to have checked, so it checks again here.
//!
//! The scan is line-based and errs on the side of refusing: a standard is
//! prose and examples, and an example that needs a credential should show a
//! placeholder (`$API_KEY`, `<token>`, `${DB_PASSWORD}`).

use std::sync::OnceLock;

use regex::Regex;

/// What kind of credential a line seems to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    AwsAccessKeyId,
    AwsSecretKey,
    PrivateKey,
    PasswordInUrl,
    KnownToken,
    NamedSecret,
}

impl SecretKind {
    pub fn describe(self) -> &'static str {
        match self {
            SecretKind::AwsAccessKeyId => "an AWS access key id",
            SecretKind::AwsSecretKey => "an AWS secret access key",
            SecretKind::PrivateKey => "a private key block",
            SecretKind::PasswordInUrl => "a password inside a URL",
            SecretKind::KnownToken => "a service token (GitHub, Slack, Stripe or Google)",
            SecretKind::NamedSecret => "a literal value assigned to a secret-looking name",
        }
    }
}

/// One suspected credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    /// 1-based line number in the scanned text.
    pub line: usize,
    pub kind: SecretKind,
    /// The first characters of the value, the rest elided.
    pub redacted: String,
}

impl std::fmt::Display for SecretFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {} ({})", self.line, self.kind.describe(), self.redacted)
    }
}

struct Patterns {
    aws_id: Regex,
    aws_secret: Regex,
    private_key: Regex,
    url_password: Regex,
    known_token: Regex,
    named: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("secret patterns compile");
        Patterns {
            // Access key ids: a four-letter prefix and sixteen upper-case alphanumerics.
            aws_id: re(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"),
            // A 40-character base64-ish value on a line that talks about an AWS secret.
            aws_secret: re(r"(?i)aws.{0,30}secret.{0,30}?[=:]\s*['\x22]?([A-Za-z0-9/+]{40})(?:['\x22\s]|$)"),
            private_key: re(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----"),
            // scheme://user:password@host
            url_password: re(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]+:([^\s/@]+)@[^\s/]"),
            known_token: re(
                r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}|AIza[A-Za-z0-9_\-]{35})",
            ),
            // name = value, name: value, name := value, "name": "value"
            named: re(
                r#"(?i)([a-z0-9_.\-]*(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|auth[_\-]?key|credentials?)[a-z0-9_.\-]*)['"]?\s*(?::=|=>|=|:)\s*(?:'([^']*)'|"([^"]*)"|([^\s'",;)]+))"#,
            ),
        }
    })
}

/// Whether `value` is a reference or a placeholder rather than a credential.
fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    let starts = ['$', '<', '%', '{', '[', '(', '@', '&', '*'];
    if v.starts_with(starts) || v.ends_with('>') || v.ends_with('}') {
        return true;
    }
    if v.chars().all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-' | '_' | '…')) {
        return true;
    }
    let markers = [
        "changeme",
        "change-me",
        "change_me",
        "placeholder",
        "example",
        "redacted",
        "dummy",
        "your-",
        "your_",
        "secret-manager",
        "vault:",
        "env(",
        "environ",
        "process.env",
        "getenv",
        "os.env",
        "null",
        "none",
        "true",
        "false",
        "todo",
        "...",
    ];
    markers.iter().any(|m| lower.contains(m))
}

/// Whether an unquoted value looks like a credential rather than a word of
/// prose or a type name: it mixes letters with digits or symbols.
fn looks_random(value: &str) -> bool {
    let has_alpha = value.chars().any(|c| c.is_ascii_alphabetic());
    let has_other = value.chars().any(|c| c.is_ascii_digit() || "!#%^+/=~".contains(c));
    has_alpha && has_other
}

fn redact(value: &str) -> String {
    let n = value.chars().count();
    if n <= 6 {
        return "…".into();
    }
    let head: String = value.chars().take(4).collect();
    format!("{head}…")
}

/// Every line of `text` that seems to hold a credential (one finding per line).
pub fn scan(text: &str) -> Vec<SecretFinding> {
    let p = patterns();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(kind_value) = scan_line(p, line) {
            out.push(SecretFinding { line: i + 1, kind: kind_value.0, redacted: redact(&kind_value.1) });
        }
    }
    out
}

fn scan_line(p: &Patterns, line: &str) -> Option<(SecretKind, String)> {
    if p.private_key.is_match(line) {
        return Some((SecretKind::PrivateKey, "-----BEGIN …".into()));
    }
    if let Some(m) = p.aws_id.find(line) {
        return Some((SecretKind::AwsAccessKeyId, m.as_str().to_string()));
    }
    if let Some(c) = p.aws_secret.captures(line) {
        return Some((SecretKind::AwsSecretKey, c[1].to_string()));
    }
    if let Some(m) = p.known_token.find(line) {
        return Some((SecretKind::KnownToken, m.as_str().to_string()));
    }
    for c in p.url_password.captures_iter(line) {
        let pw = &c[1];
        if !is_placeholder(pw) {
            return Some((SecretKind::PasswordInUrl, pw.to_string()));
        }
    }
    for c in p.named.captures_iter(line) {
        let (value, quoted) = match (c.get(2), c.get(3), c.get(4)) {
            (Some(v), _, _) | (_, Some(v), _) => (v.as_str(), true),
            (_, _, Some(v)) => (v.as_str(), false),
            _ => continue,
        };
        if value.chars().count() < 6 || is_placeholder(value) || value.contains(' ') {
            continue;
        }
        if !quoted && !looks_random(value) {
            continue;
        }
        return Some((SecretKind::NamedSecret, value.to_string()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, SecretKind)> {
        scan(text).into_iter().map(|f| (f.line, f.kind)).collect()
    }

    #[test]
    fn names_the_line_of_an_aws_key() {
        let text = "# Keys\n\nSome prose.\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n";
        assert_eq!(lines(text), vec![(4, SecretKind::AwsAccessKeyId)]);
        let f = &scan(text)[0];
        assert!(f.to_string().starts_with("line 4: an AWS access key id (AKIA…"), "{f}");
        assert!(!f.to_string().contains("IOSFODNN7EXAMPLE"), "the value is redacted: {f}");
    }

    #[test]
    fn finds_private_keys_url_passwords_tokens_and_named_secrets() {
        let text = [
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "url = postgres://app:s3cretPass@db.internal:5432/app",
            "token = ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
            "password=abc123",
            "\"client_secret\": \"Zq9!long-value\"",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ]
        .join("\n");
        let kinds = lines(&text);
        assert_eq!(
            kinds,
            vec![
                (1, SecretKind::PrivateKey),
                (2, SecretKind::PasswordInUrl),
                (3, SecretKind::KnownToken),
                (4, SecretKind::NamedSecret),
                (5, SecretKind::NamedSecret),
                (6, SecretKind::AwsSecretKey),
            ]
        );
    }

    #[test]
    fn placeholders_and_prose_pass() {
        let text = [
            "Load the password from the vault; never write `password = \"...\"` in code.",
            "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
            "api_key = os.environ[\"API_KEY\"]",
            "token: string",
            "api_key: str",
            "password = \"<your password>\"",
            "secret = $SECRET",
            "Use Vault at $VAULT_ADDR/secrets/db, not a literal.",
            "password_min_length: 12",
            "| token | a bearer token for the API |",
            "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID",
            "curl https://example.com/path",
        ]
        .join("\n");
        assert_eq!(scan(&text), vec![], "{text}");
    }
}
