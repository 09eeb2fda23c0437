//! The standard template from the spec: every proposed standard explains its
//! context, states the pattern, shows examples and names the anti-patterns.

/// The sections a proposal must have, with the heading words accepted for each.
pub const SECTIONS: [(&str, &[&str]); 4] = [
    ("Context", &["context", "background", "why", "motivation"]),
    ("Pattern", &["pattern", "the pattern", "standard", "rule", "rules", "guideline", "guidelines"]),
    ("Examples", &["examples", "example"]),
    (
        "Anti-patterns",
        &["anti-patterns", "anti-pattern", "antipatterns", "antipattern", "anti patterns", "avoid", "don'ts"],
    ),
];

/// A skeleton to copy, shown in tool descriptions and errors.
pub const SKELETON: &str = "# <Title>\n\n## Context\nWhy this standard exists and where it applies.\n\n## Pattern\nWhat to do, stated as rules.\n\n## Examples\nA short example that follows the pattern.\n\n## Anti-patterns\nWhat not to do, and why.\n";

fn headings(content: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence = false;
    for line in content.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let level = t.bytes().take_while(|&b| b == b'#').count();
        if (1..=6).contains(&level) && t.as_bytes().get(level) == Some(&b' ') {
            let text = t[level..].trim().trim_end_matches('#').trim().to_ascii_lowercase();
            out.push((level, text));
        }
    }
    out
}

/// The template sections `content` lacks (empty when it follows the template).
pub fn missing_sections(content: &str) -> Vec<&'static str> {
    let hs = headings(content);
    SECTIONS
        .iter()
        .filter(|(_, words)| {
            !hs.iter().any(|(level, h)| {
                *level >= 2
                    && words
                        .iter()
                        .any(|w| h == w || h.starts_with(&format!("{w} ")) || h.starts_with(&format!("{w}:")))
            })
        })
        .map(|(name, _)| *name)
        .collect()
}

/// The text of the first level-1 heading, if any.
pub fn title(content: &str) -> Option<String> {
    let mut fence = false;
    for line in content.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
            continue;
        }
        if !fence && let Some(rest) = t.strip_prefix("# ") {
            let h = rest.trim().trim_end_matches('#').trim();
            if !h.is_empty() {
                return Some(h.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skeleton_follows_the_template() {
        assert!(missing_sections(SKELETON).is_empty());
        assert_eq!(title(SKELETON).as_deref(), Some("<Title>"));
    }

    #[test]
    fn names_what_is_missing_and_ignores_code_fences() {
        let text = "# Retries\n\n## Context\nx\n\n```md\n## Examples\n```\n## Anti-Patterns\ny\n";
        assert_eq!(missing_sections(text), vec!["Pattern", "Examples"]);
        let text = "# T\n## Why\n## Rules\n### Example: a client\n## Avoid\n";
        assert!(missing_sections(text).is_empty(), "{:?}", missing_sections(text));
    }
}
