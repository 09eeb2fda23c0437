//! Markdown → searchable chunks. A chunk is one section (its heading path is
//! the `section`); a long section is split at paragraph boundaries. Front
//! matter (`domain`, `tags`) is read when present.

/// Largest chunk, in words (~300 model tokens), so a chunk fits the embedding model's window.
pub const MAX_WORDS: usize = 220;
/// Sections shorter than this are folded into the following chunk.
pub const MIN_WORDS: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Heading path, e.g. `Secrets management > Rotation`.
    pub section: String,
    /// The section's text (without its heading line).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Path relative to its standards root, with `/` separators.
    pub path: String,
    pub domain: String,
    pub title: String,
    pub tags: Vec<String>,
    pub chunks: Vec<Chunk>,
}

impl Chunk {
    /// What is embedded and full-text indexed: the heading path gives the
    /// passage its topic even when the body never names it.
    pub fn indexed_text(&self) -> String {
        format!("{}\n{}", self.section, self.text)
    }
}

/// The domain a file belongs to when its front matter does not say:
/// `security/x.md` → security; `universal/security/x.md` → security.
pub fn domain_from_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["universal", d, _, ..] => d.to_string(),
        [d, _, ..] => d.to_string(),
        _ => "general".to_string(),
    }
}

fn split_front_matter(text: &str) -> (Vec<(String, String)>, &str) {
    let rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(after) = rest.strip_prefix("---\n").or_else(|| rest.strip_prefix("---\r\n")) else {
        return (Vec::new(), rest);
    };
    let Some(end) = after.find("\n---") else {
        return (Vec::new(), rest);
    };
    let block = &after[..end];
    let body = after[end + 4..].trim_start_matches(['-']).trim_start_matches(['\r', '\n']);
    let pairs = block
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (pairs, body)
}

fn parse_tags(v: &str) -> Vec<String> {
    v.trim_matches(['[', ']'])
        .split(',')
        .map(|t| t.trim().trim_matches(['"', '\'']).to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_end();
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if (1..=6).contains(&level) && t.as_bytes().get(level) == Some(&b' ') {
        Some((level, t[level..].trim().trim_end_matches('#').trim()))
    } else {
        None
    }
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Splits a section body into pieces of at most [`MAX_WORDS`] words, at
/// blank lines outside code fences; an oversized paragraph is cut by words.
fn split_long(body: &str) -> Vec<String> {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut fence = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
        }
        if !fence && line.trim().is_empty() {
            if !cur.trim().is_empty() {
                paragraphs.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    if !cur.trim().is_empty() {
        paragraphs.push(cur);
    }
    let mut out: Vec<String> = Vec::new();
    let mut acc = String::new();
    for p in paragraphs {
        let pw = words(&p);
        if pw > MAX_WORDS {
            if !acc.is_empty() {
                out.push(std::mem::take(&mut acc));
            }
            let ws: Vec<&str> = p.split_whitespace().collect();
            for piece in ws.chunks(MAX_WORDS) {
                out.push(piece.join(" "));
            }
            continue;
        }
        if words(&acc) + pw > MAX_WORDS && !acc.is_empty() {
            out.push(std::mem::take(&mut acc));
        }
        if !acc.is_empty() {
            acc.push('\n');
        }
        acc.push_str(p.trim_end());
    }
    if !acc.trim().is_empty() {
        out.push(acc);
    }
    out
}

/// Parses one markdown file. `path` is relative to its standards root.
pub fn parse(path: &str, text: &str) -> Document {
    let (front, body) = split_front_matter(text);
    let get = |k: &str| front.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let domain = get("domain")
        .map(|d| d.trim_matches(['"', '\'']).to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| domain_from_path(path));
    let tags = get("tags").map(|t| parse_tags(&t)).unwrap_or_default();

    // Collect (heading path, body) per section.
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut title = String::new();
    let mut cur = String::new();
    let mut fence = false;
    let path_of = |stack: &[(usize, String)]| stack.iter().map(|(_, h)| h.as_str()).collect::<Vec<_>>().join(" > ");
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
        }
        if !fence && let Some((level, h)) = heading(line) {
            sections.push((path_of(&stack), std::mem::take(&mut cur)));
            while stack.last().is_some_and(|(l, _)| *l >= level) {
                stack.pop();
            }
            if title.is_empty() {
                title = h.to_string();
            }
            stack.push((level, h.to_string()));
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    sections.push((path_of(&stack), cur));
    if title.is_empty() {
        title = path.rsplit('/').next().unwrap_or(path).trim_end_matches(".md").to_string();
    }

    let mut chunks = Vec::new();
    let mut carry = String::new();
    for (section, text) in sections {
        let section = if section.is_empty() { title.clone() } else { section };
        let mut text = text.trim().to_string();
        if text.is_empty() {
            continue;
        }
        if !carry.is_empty() {
            text = format!("{carry}\n\n{text}");
            carry.clear();
        }
        if words(&text) < MIN_WORDS {
            carry = format!("{}\n{text}", section.rsplit(" > ").next().unwrap_or(&section));
            continue;
        }
        for piece in split_long(&text) {
            chunks.push(Chunk { section: section.clone(), text: piece.trim().to_string() });
        }
    }
    if !carry.is_empty() {
        match chunks.last_mut() {
            Some(last) if words(&last.text) + words(&carry) <= MAX_WORDS => {
                last.text.push_str("\n\n");
                last.text.push_str(&carry);
            }
            _ => chunks.push(Chunk { section: title.clone(), text: carry }),
        }
    }
    Document { path: path.to_string(), domain, title, tags, chunks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_carry_their_heading_path_and_front_matter() {
        let md = "---\ndomain: security\ntags: [secrets, vault]\n---\n# Secrets\n\nIntro text about secrets that is long enough to stand alone as a chunk here, because it goes on and on about vaults, keys, tokens, rotation schedules, audits and the people who hold access to production systems and their backups.\n\n## Rotation\n\nRotate every key at least every ninety days and after anyone with access leaves the team.\n\n```sh\n# not a heading\n```\n";
        let d = parse("security/secrets.md", md);
        assert_eq!(d.domain, "security");
        assert_eq!(d.tags, ["secrets", "vault"]);
        assert_eq!(d.title, "Secrets");
        assert_eq!(d.chunks.len(), 2, "{:?}", d.chunks);
        assert_eq!(d.chunks[1].section, "Secrets > Rotation");
        assert!(d.chunks[1].text.contains("# not a heading"));
    }

    #[test]
    fn long_sections_split_at_paragraphs_under_the_limit() {
        let para = "word ".repeat(150);
        let md = format!("# T\n\n{para}\n\n{para}\n\n{para}\n");
        let d = parse("x/t.md", &md);
        assert_eq!(d.chunks.len(), 3);
        assert!(d.chunks.iter().all(|c| words(&c.text) <= MAX_WORDS));
    }

    #[test]
    fn domain_comes_from_the_path_without_front_matter() {
        assert_eq!(domain_from_path("testing/flaky.md"), "testing");
        assert_eq!(domain_from_path("universal/security/x.md"), "security");
        assert_eq!(domain_from_path("top.md"), "general");
    }

    #[test]
    fn short_sections_fold_into_the_next() {
        let md = "# A\n\nTiny.\n\n## B\n\nThis section has enough words in it to be a chunk of its own for search purposes, since it keeps talking about the subject at hand with plenty of detail, examples, caveats and the reasons behind each rule it states.\n";
        let d = parse("d/a.md", md);
        assert_eq!(d.chunks.len(), 1);
        assert!(d.chunks[0].text.contains("Tiny."));
    }
}
