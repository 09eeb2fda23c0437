//! Hard-coded secrets, found with the rule set the host also uses
//! (`agent-os-secret-rules`): provider formats, private keys with bodies,
//! JWTs, credentials in URLs, curl and headers, Kubernetes Secret data and
//! literal values assigned to credential-like names.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::SourceFile;
use agent_os_secret_rules::{self as rules, Level};

/// What replaces a secret in text sent to a language model.
pub const REDACTED: &str = "[secret removed by agent-os]";

/// `text` with every secret `scan` would report replaced by [`REDACTED`],
/// and private key blocks dropped, so the material can go to a language model.
pub fn redact_text(text: &str) -> String {
    let hits = MEMO.with_borrow(|m| m.iter().find(|(t, _)| t == text).map(|(_, h)| h.clone()));
    match hits {
        Some(hits) => rules::redact_hits(text, &hits, REDACTED),
        None => rules::redact(text, REDACTED),
    }
}

thread_local! {
    /// The last texts scanned and their hits: the review redacts the same
    /// context and files its checks scanned, and need not scan them again.
    static MEMO: std::cell::RefCell<Vec<(String, Vec<rules::Hit>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `rules::scan(text)`, remembered for [`redact_text`] (the last few texts).
fn scan_hits(text: &str) -> Vec<rules::Hit> {
    let hits = rules::scan(text);
    MEMO.with_borrow_mut(|m| {
        if m.len() >= 8 {
            m.remove(0);
        }
        m.push((text.to_string(), hits.clone()));
    });
    hits
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Critical => Severity::Critical,
        Level::High => Severity::High,
        Level::Medium => Severity::Medium,
    }
}

/// Every hard-coded secret in `text`, one finding per line, numbered 1, 2, 3…
pub fn scan(text: &str) -> Vec<Finding> {
    scan_hits(text).into_iter().map(|h| finding(&h, h.line + 1, None)).collect()
}

/// Every hard-coded secret in `file`, numbered as in the file and naming it.
pub fn scan_file(file: &SourceFile) -> Vec<Finding> {
    scan_hits(&file.text).into_iter().map(|h| finding(&h, file.line_number(h.line), file.path.as_deref())).collect()
}

fn finding(h: &rules::Hit, line: usize, path: Option<&str>) -> Finding {
    let title = match path {
        Some(p) => format!("Hard-coded secret: {} in `{p}`", h.what),
        None => format!("Hard-coded secret: {}", h.what),
    };
    let mut detail = format!("Value `{}` is committed in clear text. {}", h.redacted, rules::FIX);
    if let Some(note) = h.note {
        detail.push(' ');
        detail.push_str(note);
    }
    Finding::new(severity(h.level), title, detail).at_line(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_os_persona_sdk::testing;

    #[test]
    fn finds_aws_secret_on_its_line() {
        let text = "import boto3\n\naws_secret_access_key = \"q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z\"\n";
        let f = scan(text);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].line, Some(3));
        assert!(f[0].title.contains("AWS secret access key"), "{}", f[0].title);
    }

    #[test]
    fn a_file_keeps_its_own_numbering_and_name() {
        let file = SourceFile::new(
            Some("deploy/.env".into()),
            "A=1\nSTRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc\n",
            agent_os_persona_sdk::context::Origin::Context,
        )
        .with_line_numbers(vec![40, 41]);
        let f = scan_file(&file);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].line, Some(41));
        assert!(f[0].title.ends_with("in `deploy/.env`"), "{}", f[0].title);
        assert!(f[0].detail.contains("rotate"), "the fix is named: {}", f[0].detail);
    }

    #[test]
    fn redaction_removes_every_reported_secret_and_keeps_the_rest() {
        let text = "import boto3\naws_secret_access_key = \"q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z\"\n\
                    DB=postgres://admin:hunter22@db.internal:5432/app\n\
                    -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x4Jk9qPz2Lm8Vn3Rt6Yw1Hb5\n-----END RSA PRIVATE KEY-----\n\
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
    fn redaction_from_remembered_hits_equals_a_fresh_one() {
        let secret = "aws_secret_access_key = \"q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z\"\n\
                      -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x4Jk9qPz2Lm8Vn3Rt6Yw1Hb5\n-----END RSA PRIVATE KEY-----\n";
        let mut texts: Vec<String> =
            testing::awkward_files().into_iter().map(|f| f.text).filter(|t| t.len() < 10_000).collect();
        texts.push(secret.to_string());
        for text in &texts {
            let fresh = rules::redact(text, REDACTED);
            let _ = scan(text);
            assert_eq!(redact_text(text), fresh);
        }
        assert!(!redact_text(secret).contains("q8Lr0Xf3"));
    }

    #[test]
    fn ignores_placeholders() {
        let text = "password = \"${DB_PASSWORD}\"\nurl = \"postgres://app:$PASS@db/app\"\napi_key = \"your-api-key\"";
        assert!(scan(text).is_empty(), "{:?}", scan(text));
    }

    #[test]
    fn survives_awkward_input() {
        for f in testing::awkward_files() {
            let _ = scan_file(&f);
            let _ = redact_text(&f.text);
        }
    }
}
