//! Domain and topic names: the two path segments of
//! `.agent-os/standards/{domain}/{topic}.md`. Only short lowercase slugs are
//! accepted, so a name can never leave the standards directory, hide a file
//! or need quoting.

/// Longest domain or topic accepted.
pub const MAX_SLUG: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("{what} is empty; give a short lowercase name such as 'api-conventions'")]
    Empty { what: &'static str },
    #[error("{what} '{value}' is longer than {MAX_SLUG} characters")]
    TooLong { what: &'static str, value: String },
    #[error(
        "{what} '{value}' contains a path separator or '..'; it must be one name inside .agent-os/standards, using only a-z, 0-9, '-' and '_'"
    )]
    Path { what: &'static str, value: String },
    #[error("{what} '{value}' must not end in .md; give the name alone ('{stem}')")]
    Extension { what: &'static str, value: String, stem: String },
    #[error(
        "{what} '{value}' may use only lowercase letters a-z, digits, '-' and '_', starting with a letter or digit{hint}"
    )]
    Chars { what: &'static str, value: String, hint: String },
}

/// Checks that `value` is a slug: 1-64 of `[a-z0-9_-]`, starting with a
/// letter or digit. `what` names the field in the error ("domain", "topic").
pub fn validate(what: &'static str, value: &str) -> Result<(), SlugError> {
    if value.trim().is_empty() {
        return Err(SlugError::Empty { what });
    }
    if value.chars().count() > MAX_SLUG {
        return Err(SlugError::TooLong { what, value: value.chars().take(80).collect() });
    }
    if value.contains(['/', '\\']) || value.contains("..") || value.starts_with('~') {
        return Err(SlugError::Path { what, value: value.to_string() });
    }
    if let Some(stem) = value.strip_suffix(".md")
        && !stem.is_empty()
    {
        return Err(SlugError::Extension { what, value: value.to_string(), stem: stem.to_string() });
    }
    let ok_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
    let first_ok = value.as_bytes()[0].is_ascii_lowercase() || value.as_bytes()[0].is_ascii_digit();
    if !first_ok || !value.bytes().all(ok_char) {
        let suggestion = suggest(value);
        let hint = match suggestion {
            Some(s) if s != value => format!(", e.g. '{s}'"),
            _ => String::new(),
        };
        return Err(SlugError::Chars { what, value: value.to_string(), hint });
    }
    Ok(())
}

/// The nearest slug to `value`, if one can be made.
fn suggest(value: &str) -> Option<String> {
    let mut out = String::new();
    for c in value.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(['-', '_']).to_string();
    (!out.is_empty() && out.len() <= MAX_SLUG).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_slugs() {
        for ok in ["security", "api-conventions", "error_handling", "http2", "0-downtime"] {
            assert_eq!(validate("topic", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_anything_that_could_leave_the_directory() {
        for bad in ["../../x", "..", ".", "a/b", "a\\b", "/etc/passwd", "~root", "x/..", "..x"] {
            let e = validate("topic", bad).unwrap_err();
            assert!(matches!(e, SlugError::Path { .. } | SlugError::Chars { .. }), "{bad}: {e:?}");
        }
        assert!(matches!(validate("topic", "../../x"), Err(SlugError::Path { .. })));
        assert!(matches!(validate("domain", "/abs"), Err(SlugError::Path { .. })));
    }

    #[test]
    fn refuses_empty_hidden_long_and_odd_names_with_a_hint() {
        assert!(matches!(validate("domain", ""), Err(SlugError::Empty { .. })));
        assert!(matches!(validate("domain", "  "), Err(SlugError::Empty { .. })));
        assert!(matches!(validate("topic", ".hidden"), Err(SlugError::Chars { .. })));
        assert!(matches!(validate("topic", "-flag"), Err(SlugError::Chars { .. })));
        assert!(matches!(validate("topic", &"a".repeat(65)), Err(SlugError::TooLong { .. })));
        let e = validate("topic", "API Conventions").unwrap_err().to_string();
        assert!(e.contains("'api-conventions'"), "{e}");
        let e = validate("topic", "retries.md").unwrap_err().to_string();
        assert!(e.contains("('retries')"), "{e}");
        assert!(validate("topic", "naïve").is_err());
        assert!(validate("topic", "a\0b").is_err());
    }
}
