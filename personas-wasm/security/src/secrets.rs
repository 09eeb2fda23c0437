//! A line-by-line scan for credentials written into code or config.

use std::sync::OnceLock;

use agent_os_persona_sdk::brief::{Finding, Severity};
use regex::Regex;

struct Rule {
    name: &'static str,
    severity: Severity,
    pattern: &'static str,
    /// Capture group holding the secret value, for redaction and placeholder checks.
    value_group: usize,
}

const RULES: &[Rule] = &[
    Rule {
        name: "Private key block",
        severity: Severity::Critical,
        pattern: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----()",
        value_group: 0,
    },
    Rule {
        name: "AWS secret access key",
        severity: Severity::Critical,
        pattern: r#"(?i)aws[a-z0-9_.-]{0,20}(?:secret|sk)[a-z0-9_.-]{0,20}["']?\s*[:=]+\s*["']?([A-Za-z0-9/+=]{40})\b"#,
        value_group: 1,
    },
    Rule {
        name: "AWS access key id",
        severity: Severity::High,
        pattern: r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b",
        value_group: 1,
    },
    Rule {
        name: "GitHub token",
        severity: Severity::Critical,
        pattern: r"\b(gh[pousr]_[A-Za-z0-9]{36,})\b",
        value_group: 1,
    },
    Rule {
        name: "Slack token",
        severity: Severity::High,
        pattern: r"\b(xox[abprs]-[A-Za-z0-9-]{10,})",
        value_group: 1,
    },
    Rule { name: "Google API key", severity: Severity::High, pattern: r"\b(AIza[0-9A-Za-z_-]{35})\b", value_group: 1 },
    Rule {
        name: "Password in a URL",
        severity: Severity::High,
        pattern: r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@[^\s]+",
        value_group: 1,
    },
    Rule {
        name: "Secret assigned to a secret-looking name",
        severity: Severity::High,
        pattern: r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|credential)[a-z0-9_.-]*["']?\s*(?::|=|:=|=>)\s*["']([^"'\s]{6,})["']"#,
        value_group: 1,
    },
];

fn compiled() -> &'static [(Regex, &'static Rule)] {
    static CELL: OnceLock<Vec<(Regex, &'static Rule)>> = OnceLock::new();
    CELL.get_or_init(|| RULES.iter().map(|r| (Regex::new(r.pattern).expect("secret rules are valid"), r)).collect())
}

/// Values that are clearly not real secrets: references and placeholders.
fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with("${")
        || v.starts_with('<')
        || v.starts_with('%')
        || lower.chars().all(|c| c == 'x' || c == '*' || c == '.')
        || ["changeme", "placeholder", "your-", "your_", "redacted", "dummy"].iter().any(|p| lower.contains(p))
}

fn redact(value: &str) -> String {
    let shown: String = value.chars().take(4).collect();
    if value.chars().count() <= 4 { "****".into() } else { format!("{shown}…") }
}

/// What replaces a secret in text sent to a language model.
pub const REDACTED: &str = "[secret removed by agent-os]";

/// `text` with every secret value `scan` would report replaced by
/// [`REDACTED`], and private key blocks dropped, so the material can go to a
/// language model.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_key = false;
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if in_key {
            if body.contains("-----END") {
                in_key = false;
            }
            continue;
        }
        if compiled()[0].0.is_match(body) {
            in_key = !body.contains("-----END");
            out.push_str(REDACTED);
            out.push_str(end);
            continue;
        }
        let mut clean = body.to_string();
        for (re, rule) in compiled().iter().filter(|(_, r)| r.value_group != 0) {
            let mut spans: Vec<std::ops::Range<usize>> = re
                .captures_iter(&clean)
                .filter_map(|c| c.get(rule.value_group))
                .filter(|m| !is_placeholder(m.as_str()))
                .map(|m| m.range())
                .collect();
            spans.reverse();
            for r in spans {
                clean.replace_range(r, REDACTED);
            }
        }
        out.push_str(&clean);
        out.push_str(end);
    }
    out
}

/// Every hard-coded secret in `text`, one finding per line (the most severe rule wins).
pub fn scan(text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        for (re, rule) in compiled() {
            let Some(caps) = re.captures(line) else { continue };
            let value = caps.get(rule.value_group).map(|m| m.as_str()).unwrap_or("");
            if rule.value_group != 0 && is_placeholder(value) {
                continue;
            }
            let detail = if rule.value_group == 0 {
                "Remove it from the source, rotate it, and load it from a secret store or an environment variable."
                    .to_string()
            } else {
                format!(
                    "Value `{}` is committed in clear text; rotate it and read it from the environment or a secret manager instead.",
                    redact(value)
                )
            };
            findings.push(
                Finding::new(rule.severity, format!("Hard-coded secret: {}", rule.name), detail).at_line(idx + 1),
            );
            break;
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_aws_secret_on_its_line() {
        let text = "import boto3\n\naws_secret_access_key = \"q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z\"\n";
        let f = scan(text);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].line, Some(3));
        assert!(f[0].title.contains("AWS secret access key"));
    }

    #[test]
    fn redaction_removes_every_reported_secret_and_keeps_the_rest() {
        let text = "import boto3\naws_secret_access_key = \"q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z\"\n\
                    DB=postgres://admin:hunter22@db.internal:5432/app\n\
                    -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n\
                    password = \"${DB_PASSWORD}\"\nlet x = 1;";
        let clean = redact_text(text);
        for secret in ["q8Lr0Xf3Tn2EMI", "hunter22", "MIIEowIBAAKCAQEA7", "END RSA"] {
            assert!(!clean.contains(secret), "{secret} left in {clean}");
        }
        assert!(
            clean.contains("import boto3") && clean.contains("${DB_PASSWORD}") && clean.ends_with("let x = 1;"),
            "{clean}"
        );
        assert!(clean.contains("postgres://admin:[secret removed by agent-os]@db.internal"), "{clean}");
        assert!(scan(&clean).is_empty(), "{:?}", scan(&clean));
    }

    #[test]
    fn ignores_placeholders() {
        let text = "password = \"${DB_PASSWORD}\"\nurl = \"postgres://app:$PASS@db/app\"\napi_key = \"your-api-key\"";
        assert!(scan(text).is_empty(), "{:?}", scan(text));
    }

    #[test]
    fn finds_private_keys_tokens_and_url_passwords() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nDB=postgres://admin:hunter22@db.internal:5432/app\nconst token = \"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"\nclient_secret: 'S3cr3tValue!'";
        let lines: Vec<_> = scan(text).iter().map(|f| f.line.unwrap()).collect();
        assert_eq!(lines, [1, 2, 3, 4]);
    }
}
