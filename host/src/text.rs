//! Printing text that came from a repository or a persona (folder, file and
//! manifest names, job rows, descriptions) so it cannot forge output: control
//! characters, terminal escapes, line breaks, bidirectional overrides and
//! invisible characters are shown as `\u{..}` escapes.

use std::borrow::Cow;

/// Whether `c` could redraw, reorder, hide or split what a person reads.
pub fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'                  // soft hyphen
            | '\u{061C}'                // Arabic letter mark
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'   // zero-width, LRM/RLM
            | '\u{2028}' | '\u{2029}'   // line/paragraph separators
            | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}'   // word joiner, bidi isolates, invisible operators
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}' // tags
        )
}

/// `s` with every deceptive character escaped; one line, safe to print.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_deceptive) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_deceptive(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape`], then cut to at most `max` characters (with an ellipsis).
pub fn escape_short(s: &str, max: usize) -> String {
    let e = escape(s);
    if e.chars().count() <= max {
        return e.into_owned();
    }
    let mut out: String = e.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_forges_output() {
        assert_eq!(escape("plain name"), "plain name");
        assert_eq!(escape("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\ny"), "x\\u{a}y");
        assert_eq!(escape("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape("a\u{2028}b\u{2066}c\u{200B}"), "a\\u{2028}b\\u{2066}c\\u{200b}");
        assert_eq!(escape("café 日本"), "café 日本");
        assert_eq!(escape_short("abcdef", 4), "abc…");
    }
}
