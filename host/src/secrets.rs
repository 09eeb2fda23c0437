//! A host-side scan for credentials in text the host is about to store or
//! write (standard proposals). The host cannot call into the security
//! persona and must not trust a persona to have checked, so it checks again
//! here, with the same rule set the persona compiles in
//! (`agent-os-secret-rules`), so the two agree on what a secret is.
//!
//! A standard is prose and examples; an example that needs a credential
//! should show a placeholder (`$API_KEY`, `<token>`, `${DB_PASSWORD}`), which
//! the rules leave alone.

use agent_os_secret_rules as rules;

/// What kind of credential a line seems to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKind {
    /// The rule that matched (`github-pat`, `generic-assignment`, …).
    pub rule: &'static str,
    what: String,
}

impl SecretKind {
    pub fn describe(&self) -> String {
        let w = &self.what;
        let article = if w.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
        format!("{article} {w}")
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

/// Every line of `text` that seems to hold a credential (one finding per line).
pub fn scan(text: &str) -> Vec<SecretFinding> {
    rules::scan(text)
        .into_iter()
        .map(|h| SecretFinding {
            line: h.line + 1,
            kind: SecretKind { rule: h.rule, what: h.what },
            redacted: h.redacted,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, &'static str)> {
        scan(text).into_iter().map(|f| (f.line, f.kind.rule)).collect()
    }

    #[test]
    fn names_the_line_of_an_aws_key() {
        let text = "# Keys\n\nSome prose.\nexport AWS_ACCESS_KEY_ID=AKIAQ3EGX7LMZR2UBK4T\n";
        assert_eq!(lines(text), vec![(4, "aws-access-key-id")]);
        let f = &scan(text)[0];
        assert!(f.to_string().starts_with("line 4: an AWS access key id (AKIA…"), "{f}");
        assert!(!f.to_string().contains("Q3EGX7LMZR2UBK4T"), "the value is redacted: {f}");
    }

    #[test]
    fn finds_private_keys_url_passwords_tokens_and_named_secrets() {
        let text = [
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
            "-----END OPENSSH PRIVATE KEY-----",
            "url = postgres://app:s3cretPass@db.internal:5432/app",
            "token = glpat-Rk4q9Zx2Lm7Vb3Nw8Tc1",
            "password=kT9#mQ2v",
            "\"client_secret\": \"Zq9!long-value\"",
            "aws_secret_access_key = q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z",
        ]
        .join("\n");
        assert_eq!(
            lines(&text),
            vec![
                (1, "private-key"),
                (4, "url-credentials"),
                (5, "gitlab-pat"),
                (6, "generic-assignment"),
                (7, "generic-assignment"),
                (8, "aws-secret-key"),
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
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "-----BEGIN RSA PRIVATE KEY-----",
            "curl https://example.com/path",
        ]
        .join("\n");
        assert_eq!(scan(&text), vec![], "{text}");
    }
}
