//! Reading the review material out of a request's free-text context.
//!
//! [`Request::context`](crate::Request) is whatever the calling agent pasted:
//! plain code, a unified diff, markdown with fenced code blocks, or a list of
//! file paths. [`files`] turns it into [`SourceFile`]s, each with its path
//! (when the material names one), its text, its [`Language`] and a way back
//! to the line numbers the user sees, so a persona can run its own checks
//! file by file.
//!
//! What is recognised, in the order it appears:
//!
//! - **Unified diffs** (`--- a/x` / `+++ b/x` headers and `@@` hunks, bare
//!   or inside a ```` ```diff ```` block): one file per `+++` header holding
//!   the new side of its hunks (context and added lines), numbered as in the
//!   new file. Deleted files (`+++ /dev/null`) are skipped.
//! - **Fenced blocks** with a path in the info string (```` ```rust src/x.rs ````,
//!   ```` ```rust:src/x.rs ````, ```` ```src/x.rs ````, `title="src/x.rs"`), on
//!   the line just before the block (`// file: src/x.rs`, `# file: x.py`,
//!   `### src/x.rs`, `**src/x.rs**`, `` `src/x.rs`: ``), or on the block's
//!   first line (`// file: src/x.rs`). A block without a path becomes an
//!   anonymous file numbered as lines of the context.
//! - **File markers** outside a block (`// file: src/x.rs`): the lines after
//!   the marker, up to the next marker, block or diff, are that file.
//! - **Bare paths**: a line that is just a relative file path (optionally as
//!   a list item or in backticks) is resolved with the `read` callback — a
//!   persona passes a closure over [`host::read_file`](crate::host::read_file),
//!   a test passes a map. A path the material already contains is not read
//!   again.
//!
//! Context with no path at all is one anonymous file: the whole text,
//! numbered as the context. When the material does name files, prose
//! around them is ignored.
//!
//! ```
//! use agent_os_persona_sdk::context::{self, Language};
//!
//! let ctx = "Please review:\n\nsrc/lib.rs\n\n```python app/main.py\nprint('hi')\n```\n";
//! let files = context::files(ctx, |path| (path == "src/lib.rs").then(|| "pub fn f() {}\n".to_string()));
//! assert_eq!(files.len(), 2);
//! assert_eq!(files[0].path.as_deref(), Some("src/lib.rs"));
//! assert_eq!(files[0].language, Language::Rust);
//! assert_eq!(files[1].path.as_deref(), Some("app/main.py"));
//! assert_eq!(files[1].text, "print('hi')");
//! ```

use std::collections::HashSet;

/// The programming language of a [`SourceFile`], from its extension, the
/// fence's language tag, or a guess from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// `.rs`
    Rust,
    /// `.py`, `.pyi`
    Python,
    /// `.js`, `.mjs`, `.cjs`, `.jsx`
    JavaScript,
    /// `.ts`, `.mts`, `.cts`, `.tsx`
    TypeScript,
    /// `.go`
    Go,
    /// `.sql`
    Sql,
    /// A file of a known path whose language is none of the above (`.toml`, `.md`, ...).
    Other,
    /// Text without a path whose language could not be guessed.
    Unknown,
}

impl Language {
    /// The language of a file from its extension; [`Language::Other`] when
    /// the extension is missing or not one of the languages above.
    pub fn from_path(path: &str) -> Language {
        let name = path.rsplit('/').next().unwrap_or(path);
        let Some((_, ext)) = name.rsplit_once('.') else { return Language::Other };
        match ext.to_ascii_lowercase().as_str() {
            "rs" => Language::Rust,
            "py" | "pyi" => Language::Python,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "mts" | "cts" | "tsx" => Language::TypeScript,
            "go" => Language::Go,
            "sql" | "psql" | "pgsql" => Language::Sql,
            _ => Language::Other,
        }
    }

    /// The language named by a fenced block's tag (`rust`, `py`, `tsx`,
    /// `postgresql`, ...), or `None` for a tag that names none of them.
    pub fn from_fence_tag(tag: &str) -> Option<Language> {
        Some(match tag.trim().to_ascii_lowercase().as_str() {
            "rust" | "rs" => Language::Rust,
            "python" | "py" | "python3" | "py3" => Language::Python,
            "javascript" | "js" | "jsx" | "node" | "mjs" | "cjs" => Language::JavaScript,
            "typescript" | "ts" | "tsx" => Language::TypeScript,
            "go" | "golang" => Language::Go,
            "sql" | "postgres" | "postgresql" | "psql" | "pgsql" | "plpgsql" | "mysql" | "sqlite" | "tsql" => {
                Language::Sql
            }
            _ => return None,
        })
    }

    /// A best guess at the language of a snippet without a path, from
    /// tell-tale syntax; [`Language::Unknown`] when nothing stands out. A
    /// fenced block's tag in the text wins over the guess.
    pub fn guess(text: &str) -> Language {
        for line in text.lines() {
            let t = line.trim_start();
            if let Some(info) = t.strip_prefix("```").or_else(|| t.strip_prefix("~~~")) {
                let tag = info.trim_start_matches(['`', '~']).split([' ', ':', '{']).next().unwrap_or("");
                if let Some(lang) = Language::from_fence_tag(tag) {
                    return lang;
                }
            }
        }
        let mut score = [0u32; 6]; // Rust, Python, JavaScript, TypeScript, Go, Sql
        for line in text.lines() {
            let t = line.trim();
            let has = |s: &str| t.contains(s);
            let starts = |s: &str| t.starts_with(s);
            for (needle, w) in [
                (".unwrap()", 3),
                ("#[", 3),
                ("impl ", 3),
                ("pub fn ", 3),
                ("println!", 3),
                ("&self", 3),
                ("&mut ", 3),
                ("let mut ", 3),
                ("::", 1),
            ] {
                if has(needle) {
                    score[0] += w;
                }
            }
            if starts("fn ") || starts("use ") || (starts("let ") && t.ends_with(';')) {
                score[0] += 2;
            }
            if starts("def ") || starts("elif ") || starts("except") || starts("from ") && has(" import ") {
                score[1] += 3;
            }
            if (starts("import ") && !t.ends_with(';') && !has(" from ") && !t.contains('"'))
                || has("None")
                || has("self.")
                || (t.ends_with(':') && (starts("if ") || starts("for ") || starts("class ")))
            {
                score[1] += 1;
            }
            for (needle, w) in [("function ", 3), ("require(", 3), ("console.", 3), ("===", 3), ("=>", 1)] {
                if has(needle) {
                    score[2] += w;
                }
            }
            if starts("const ") || starts("export ") || (starts("import ") && has(" from ")) {
                score[2] += 2;
            }
            if starts("interface ") || has(": string") || has(": number") || starts("type ") && has(" = ") {
                score[3] += 3;
            }
            if starts("func ") || starts("package ") || has("err != nil") || has("fmt.") {
                score[4] += 3;
            }
            if has(":=") {
                score[4] += 2;
            }
            let upper = t.to_ascii_uppercase();
            if [
                "SELECT ",
                "INSERT INTO",
                "UPDATE ",
                "DELETE FROM",
                "CREATE TABLE",
                "ALTER TABLE",
                "DROP ",
                "CREATE INDEX",
            ]
            .iter()
            .any(|k| upper.starts_with(k))
            {
                score[5] += 3;
            }
        }
        if score[3] > 0 && score[2] > 0 {
            score[3] += score[2];
        }
        let langs =
            [Language::Rust, Language::Python, Language::JavaScript, Language::TypeScript, Language::Go, Language::Sql];
        let (best, &top) =
            score.iter().enumerate().max_by_key(|(i, s)| (**s, std::cmp::Reverse(*i))).unwrap_or((0, &0));
        if top == 0 { Language::Unknown } else { langs[best] }
    }

    /// Lowercase name, e.g. `"rust"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Go => "go",
            Language::Sql => "sql",
            Language::Other => "other",
            Language::Unknown => "unknown",
        }
    }

    /// True for the general-purpose languages (Rust, Python, JavaScript,
    /// TypeScript, Go) — the ones that have source files and tests.
    pub fn is_code(self) -> bool {
        matches!(self, Language::Rust | Language::Python | Language::JavaScript | Language::TypeScript | Language::Go)
    }

    /// True when `line` is (the start or middle of) a comment in this
    /// language: `//`, `/*` and `*` lines for C-like languages, `#` for
    /// Python, `--` for SQL, any of them for [`Language::Unknown`]. Rust
    /// attributes (`#[...]`) are not comments.
    pub fn is_comment(self, line: &str) -> bool {
        let t = line.trim_start();
        let c_like = t.starts_with("//") || t.starts_with("/*") || t.starts_with("* ") || t == "*" || t == "*/";
        let hash = t.starts_with('#') && !t.starts_with("#[") && !t.starts_with("#!");
        match self {
            Language::Rust | Language::JavaScript | Language::TypeScript | Language::Go => c_like,
            Language::Python => hash,
            Language::Sql => t.starts_with("--") || t.starts_with("/*") || t.starts_with("* "),
            Language::Other | Language::Unknown => c_like || hash || t.starts_with("--"),
        }
    }
}

/// Where a [`SourceFile`]'s text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Written out in the context (a fenced block, a marked section, or the
    /// whole context); may be an excerpt of the real file.
    Context,
    /// The new side of a diff's hunks: only the lines around the change.
    Diff,
    /// Read in full through the `read` callback because the context named its path.
    Read,
}

/// One file of the review material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path relative to the project root, when the material names one.
    pub path: Option<String>,
    /// The text to analyse; for a diff, the new side of its hunks.
    pub text: String,
    /// The file's language.
    pub language: Language,
    /// Where the text came from.
    pub origin: Origin,
    /// The line number shown to the user for each line of `text`; empty
    /// means the lines are numbered 1, 2, 3, ...
    numbers: Vec<usize>,
}

/// One line of a [`SourceFile`], as returned by [`SourceFile::lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 0-based position in [`SourceFile::text`].
    pub index: usize,
    /// The line number to show the user (see [`SourceFile::line_number`]).
    pub number: usize,
    /// The line, without its line ending.
    pub text: &'a str,
    /// True inside test code: a test file, or a Rust `#[cfg(test)]` /
    /// `#[test]` item.
    pub in_test: bool,
    /// True when the line is a comment in the file's language.
    pub comment: bool,
}

impl SourceFile {
    /// A file whose lines are numbered 1, 2, 3, ...; the language comes
    /// from the path's extension, or is guessed from the text when there is
    /// no path.
    pub fn new(path: Option<String>, text: impl Into<String>, origin: Origin) -> Self {
        let text = text.into();
        let language = match path.as_deref() {
            Some(p) => Language::from_path(p),
            None => Language::guess(&text),
        };
        SourceFile { path, text, language, origin, numbers: Vec::new() }
    }

    /// The same file, with line `i` of `text` shown as `numbers[i]` (for a
    /// diff hunk or a block inside a longer context).
    pub fn with_line_numbers(mut self, numbers: Vec<usize>) -> Self {
        self.numbers = numbers;
        self
    }

    /// The same file, in `language`.
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// The path, or `"the context"` for an anonymous file — for finding titles.
    pub fn name(&self) -> &str {
        self.path.as_deref().unwrap_or("the context")
    }

    /// The file name without directory and extension (`src/db/pool.rs` → `pool`).
    pub fn stem(&self) -> Option<&str> {
        let name = self.path.as_deref()?.rsplit('/').next()?;
        Some(name.split_once('.').map(|(s, _)| s).unwrap_or(name))
    }

    /// The line number to show for the 0-based line `index` of `text`: its
    /// line in the real file for a path, in the context for an anonymous file.
    pub fn line_number(&self, index: usize) -> usize {
        self.numbers.get(index).copied().unwrap_or(index + 1)
    }

    /// True when the path says this is a test file (see [`is_test_path`]).
    pub fn is_test(&self) -> bool {
        self.path.as_deref().is_some_and(is_test_path)
    }

    /// Every line of `text` with its number, and whether it is test code or a comment.
    pub fn lines(&self) -> Vec<Line<'_>> {
        let whole = self.is_test();
        let mask = if !whole && self.language == Language::Rust || self.language == Language::Unknown {
            rust_test_mask(&self.text)
        } else {
            Vec::new()
        };
        let mut in_block_comment = false;
        self.text
            .lines()
            .enumerate()
            .map(|(index, text)| {
                let t = text.trim();
                let mut comment = in_block_comment || self.language.is_comment(text);
                if self.language != Language::Python {
                    if in_block_comment {
                        in_block_comment = !t.contains("*/");
                    } else if t.starts_with("/*") && !t.contains("*/") {
                        in_block_comment = true;
                        comment = true;
                    }
                }
                Line {
                    index,
                    number: self.line_number(index),
                    text,
                    in_test: whole || mask.get(index).copied().unwrap_or(false),
                    comment,
                }
            })
            .collect()
    }
}

/// True when a path names a test file by the usual conventions: a `tests`,
/// `test`, `__tests__` or `spec` directory; `test_*.py`, `*_test.py`,
/// `tests.py`, `conftest.py`; `*_test.go`; `*.test.*`, `*.spec.*`; Rust `tests.rs` or `*_test(s).rs`.
pub fn is_test_path(path: &str) -> bool {
    let path = path.trim_start_matches("./");
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or("");
    if parts.iter().any(|d| matches!(*d, "tests" | "test" | "__tests__" | "spec" | "specs" | "e2e")) {
        return true;
    }
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    (ext == "py" && (stem.starts_with("test_") || stem.ends_with("_test") || matches!(stem, "conftest" | "tests")))
        || (ext == "go" && stem.ends_with("_test"))
        || (ext == "rs" && (stem == "tests" || stem.ends_with("_test") || stem.ends_with("_tests")))
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
}

/// The material of a context: its files, and the bare paths it named that
/// could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Material {
    /// Every file found, in the order the context names them.
    pub files: Vec<SourceFile>,
    /// Bare paths the `read` callback could not resolve.
    pub unreadable: Vec<String>,
    /// Bare paths past [`MAX_BARE_PATHS`], not read at all.
    pub not_read: usize,
}

/// The most distinct bare paths one context may have read.
pub const MAX_BARE_PATHS: usize = 500;

/// The files in `context` (see the [module documentation](self)); `read`
/// returns the contents of a bare path, or `None` when it cannot.
pub fn files(context: &str, read: impl Fn(&str) -> Option<String>) -> Vec<SourceFile> {
    material(context, read).files
}

/// [`files`], plus the bare paths that could not be read.
pub fn material(context: &str, read: impl Fn(&str) -> Option<String>) -> Material {
    let lines: Vec<&str> = context.lines().collect();
    let mut entries = Vec::new();
    scan(&lines, 0, &mut entries);

    let named: HashSet<String> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::File(f) => f.path.clone(),
            _ => None,
        })
        .collect();
    let mut out = Material::default();
    let mut seen_bare: HashSet<String> = HashSet::new();
    let mut skipped = 0usize;
    for entry in entries {
        match entry {
            Entry::File(f) => out.files.push(f),
            Entry::Bare(path) => {
                if named.contains(&path) || !seen_bare.insert(path.clone()) {
                    continue;
                }
                if seen_bare.len() > MAX_BARE_PATHS {
                    skipped += 1;
                    continue;
                }
                match read(&path) {
                    Some(text) => out.files.push(SourceFile::new(Some(path), text, Origin::Read)),
                    None => out.unreadable.push(path),
                }
            }
        }
    }
    out.not_read = skipped;
    if out.files.iter().all(|f| f.path.is_none()) && !context.trim().is_empty() {
        out.files = vec![SourceFile::new(None, context, Origin::Context)];
    }
    out
}

enum Entry {
    File(SourceFile),
    Bare(String),
}

/// Scans `lines` (whose first line is context line `base + 1`) into entries.
fn scan(lines: &[&str], base: usize, out: &mut Vec<Entry>) {
    let mut i = 0;
    // A name for the next fenced block: (path, index of the line that named it).
    let mut label: Option<(String, usize)> = None;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if is_diff_start(lines, i) {
            i = diff(lines, i, out);
            continue;
        }
        if let Some(fence) = Fence::open(line) {
            let end = fence.close(lines, i + 1);
            let body = &lines[i + 1..end];
            let labelled = label.take().filter(|(_, at)| lines[*at + 1..i].iter().all(|l| l.trim().is_empty()));
            let mut path = fence.path.clone().or(labelled.map(|(p, _)| p));
            let mut skip = 0;
            if path.is_none()
                && let Some(p) = body.first().and_then(|l| marker_path(l.trim()))
            {
                path = Some(p);
                skip = 1;
            }
            let first = body.iter().position(|l| !l.trim().is_empty());
            let is_diff = fence.tag.as_deref().is_some_and(|t| t == "diff" || t == "patch")
                || first.is_some_and(|k| body[k].starts_with("diff --git ") || is_diff_start(body, k));
            if is_diff {
                scan(body, base + i + 1, out);
            } else {
                let text = body[skip..].join("\n");
                let lang = fence.tag.as_deref().and_then(Language::from_fence_tag);
                let file = match path {
                    Some(p) => {
                        let f = SourceFile::new(Some(p), text, Origin::Context);
                        match lang {
                            Some(l) if matches!(f.language, Language::Other | Language::Unknown) => f.with_language(l),
                            _ => f,
                        }
                    }
                    None => {
                        let numbers = (0..body.len() - skip).map(|k| base + i + 2 + skip + k).collect();
                        let f = SourceFile::new(None, text, Origin::Context).with_line_numbers(numbers);
                        match lang {
                            Some(l) => f.with_language(l),
                            None => f,
                        }
                    }
                };
                if !file.text.trim().is_empty() {
                    out.push(Entry::File(file));
                }
            }
            i = end + 1;
            continue;
        }
        if let Some(path) = marker_path(t) {
            if next_is_fence(lines, i) {
                label = Some((path, i));
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < lines.len()
                && marker_path(lines[end].trim()).is_none()
                && Fence::open(lines[end]).is_none()
                && !is_diff_start(lines, end)
            {
                end += 1;
            }
            let text = lines[i + 1..end].join("\n");
            out.push(Entry::File(SourceFile::new(Some(path), text, Origin::Context)));
            i = end;
            continue;
        }
        // A path just before a block without one names the block.
        if next_is_fence(lines, i)
            && next_fence_unnamed(lines, i)
            && let Some(path) = heading_path(t)
        {
            label = Some((path, i));
            i += 1;
            continue;
        }
        if let Some(path) = bare_path(t) {
            out.push(Entry::Bare(path));
        }
        i += 1;
    }
}

/// True when the line after `i` (skipping at most one blank line) opens a fenced block.
fn next_is_fence(lines: &[&str], i: usize) -> bool {
    let mut j = i + 1;
    if j < lines.len() && lines[j].trim().is_empty() {
        j += 1;
    }
    j < lines.len() && Fence::open(lines[j]).is_some()
}

/// True when the block after line `i` (see [`next_is_fence`]) has no path in its info string.
fn next_fence_unnamed(lines: &[&str], i: usize) -> bool {
    lines[i + 1..].iter().find_map(|l| Fence::open(l)).is_some_and(|f| f.path.is_none())
}

struct Fence {
    ch: char,
    len: usize,
    tag: Option<String>,
    path: Option<String>,
}

impl Fence {
    fn open(line: &str) -> Option<Fence> {
        let t = line.trim_start();
        let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let len = t.chars().take_while(|c| *c == ch).count();
        if len < 3 {
            return None;
        }
        let info = t[len..].trim();
        if ch == '`' && info.contains('`') {
            return None;
        }
        let mut tag = None;
        let mut path = None;
        for (k, token) in info.split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}').enumerate() {
            let token = token.trim_matches(['"', '\'']);
            if token.is_empty() {
                continue;
            }
            if let Some((key, value)) = token.split_once('=') {
                if matches!(key, "title" | "file" | "path" | "filename") && path.is_none() {
                    path = loose_path(value.trim_matches(['"', '\'']));
                }
                continue;
            }
            if k == 0 {
                if let Some((lang, p)) = token.split_once(':') {
                    tag = Some(lang.to_ascii_lowercase());
                    path = loose_path(p);
                    continue;
                }
                if Language::from_fence_tag(token).is_some() || !token.contains('.') && !token.contains('/') {
                    tag = Some(token.to_ascii_lowercase());
                    continue;
                }
            }
            if path.is_none() {
                path = loose_path(token);
            }
        }
        Some(Fence { ch, len, tag, path })
    }

    /// The index of the closing fence line at or after `from`, or `lines.len()`.
    fn close(&self, lines: &[&str], from: usize) -> usize {
        (from..lines.len())
            .find(|&j| {
                let t = lines[j].trim();
                let run = t.chars().take_while(|c| *c == self.ch).count();
                run >= self.len && t[run * self.ch.len_utf8()..].trim().is_empty()
            })
            .unwrap_or(lines.len())
    }
}

fn is_diff_start(lines: &[&str], i: usize) -> bool {
    lines[i].starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ "))
}

/// Parses one file of a diff starting at its `---` line; returns the index after it.
fn diff(lines: &[&str], start: usize, out: &mut Vec<Entry>) -> usize {
    let path = diff_path(&lines[start + 1][4..]);
    let mut i = start + 2;
    let mut text: Vec<&str> = Vec::new();
    let mut numbers = Vec::new();
    while i < lines.len() {
        let Some((mut old, mut new, mut at)) = hunk_header(lines[i]) else { break };
        i += 1;
        while i < lines.len() && (old > 0 || new > 0) {
            let l = lines[i];
            match l.chars().next() {
                Some('+') => {
                    text.push(&l[1..]);
                    numbers.push(at);
                    at += 1;
                    new = new.saturating_sub(1);
                }
                Some('-') => old = old.saturating_sub(1),
                Some('\\') => {}
                Some(' ') | None => {
                    text.push(l.get(1..).unwrap_or(""));
                    numbers.push(at);
                    at += 1;
                    old = old.saturating_sub(1);
                    new = new.saturating_sub(1);
                }
                Some(_) => break,
            }
            i += 1;
        }
        while i < lines.len() && lines[i].starts_with('\\') {
            i += 1;
        }
    }
    if let Some(path) = path {
        let file = SourceFile::new(Some(path), text.join("\n"), Origin::Diff).with_line_numbers(numbers);
        out.push(Entry::File(file));
    }
    i
}

/// `(old count, new count, new start)` of a `@@ -a,b +c,d @@` line.
fn hunk_header(line: &str) -> Option<(usize, usize, usize)> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(" +")?;
    let new = rest.split_once(" @@")?.0;
    let range = |s: &str| -> Option<(usize, usize)> {
        match s.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (_, old_count) = range(old)?;
    let (new_start, new_count) = range(new)?;
    Some((old_count, new_count, new_start))
}

/// The path of a `+++` header, without `b/` and timestamp; `None` for `/dev/null`.
fn diff_path(header: &str) -> Option<String> {
    let p = header.split('\t').next().unwrap_or("").trim().trim_matches('"');
    if p == "/dev/null" || p.is_empty() {
        return None;
    }
    let p = p.strip_prefix("b/").unwrap_or(p);
    Some(p.trim_start_matches("./").to_string())
}

/// The path of a marker line: `// file: x`, `# file: x`, `-- path: x`, `File: x`, `<!-- file: x -->`.
fn marker_path(t: &str) -> Option<String> {
    let mut s = t;
    for lead in ["<!--", "//", "/*", "--", "#", ";"] {
        if let Some(rest) = s.strip_prefix(lead) {
            s = rest.trim_start_matches(lead.chars().next().unwrap_or(' '));
            break;
        }
    }
    let s = s.trim().trim_end_matches("-->").trim_end_matches("*/").trim();
    let lower = s.to_ascii_lowercase();
    let rest = ["file:", "filename:", "path:"].iter().find_map(|k| lower.starts_with(k).then(|| &s[k.len()..]))?;
    loose_path(rest.trim().trim_matches(['`', '"', '\'']))
}

/// The path of a line naming the next block: `### src/x.rs`, `**src/x.rs**`, `` `src/x.rs`: ``, `src/x.rs:`.
fn heading_path(t: &str) -> Option<String> {
    let s = t.trim_start_matches('#').trim().trim_end_matches(':').trim_matches(['*', '`', '_']).trim_end_matches(':');
    loose_path(s)
}

/// A line that is only a relative file path with a known extension,
/// possibly as a list item, in backticks, or with a `:line` suffix.
fn bare_path(t: &str) -> Option<String> {
    let mut s = t;
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = s.strip_prefix(bullet) {
            s = rest.trim_start();
        }
    }
    if let Some((n, rest)) = s.split_once(". ")
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
    {
        s = rest.trim_start();
    }
    let s = s.trim_matches(['`', '"', '\'']).trim_end_matches([':', ',']).trim_matches('`');
    let s = strip_line_suffix(s);
    let path = loose_path(s)?;
    let ext = path.rsplit('/').next()?.rsplit_once('.')?.1.to_ascii_lowercase();
    KNOWN_EXTENSIONS.contains(&ext.as_str()).then_some(path)
}

const KNOWN_EXTENSIONS: &[&str] = &[
    "rs", "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "go", "sql", "psql", "toml", "yaml",
    "yml", "json", "md", "txt", "sh", "bash", "proto", "java", "kt", "rb", "c", "h", "cc", "cpp", "hpp", "cs", "swift",
    "lock", "cfg", "ini", "html", "css", "scss", "vue", "svelte", "graphql", "gql", "tf", "mod", "sum", "xml",
];

/// `src/x.rs:12` or `src/x.rs:12:5` or `src/x.rs#L12` → `src/x.rs`.
fn strip_line_suffix(s: &str) -> &str {
    let s = s.split_once("#L").map(|(p, _)| p).unwrap_or(s);
    let mut s = s;
    for _ in 0..2 {
        if let Some((p, n)) = s.rsplit_once(':')
            && !n.is_empty()
            && n.chars().all(|c| c.is_ascii_digit())
        {
            s = p;
        }
    }
    s
}

/// A relative path whose last segment has an extension, with `./` removed.
fn loose_path(s: &str) -> Option<String> {
    let s = s.trim().trim_start_matches("./");
    if s.is_empty()
        || s.starts_with('/')
        || s.contains("..")
        || !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@' | '+'))
    {
        return None;
    }
    let name = s.rsplit('/').next()?;
    let (stem, ext) = name.rsplit_once('.')?;
    let ext_ok = !ext.is_empty() && ext.len() <= 10 && ext.chars().all(|c| c.is_ascii_alphanumeric());
    (ext_ok && !stem.is_empty() && ext.chars().any(|c| c.is_ascii_alphabetic())).then(|| s.to_string())
}

/// For Rust text: which lines belong to a `#[cfg(test)]`, `#[test]` or
/// `#[...::test]` item (the attribute through the item's closing brace).
fn rust_test_mask(text: &str) -> Vec<bool> {
    let lines: Vec<&str> = text.lines().collect();
    let mut mask = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        let is_test_attr = t.starts_with("#[cfg(test)]")
            || t.starts_with("#[test]")
            || (t.starts_with("#[") && t.contains("::test") && !t.contains("cfg_attr"));
        if !is_test_attr {
            i += 1;
            continue;
        }
        let end = item_end(&lines, i);
        for m in mask.iter_mut().take(end + 1).skip(i) {
            *m = true;
        }
        i = end + 1;
    }
    mask
}

/// The index of the line that ends the item starting at (or after) line
/// `start`: the line with its `;` before any `{`, or with the `}` that closes
/// its first `{`. Skips strings, chars and comments.
fn item_end(lines: &[&str], start: usize) -> usize {
    let mut depth = 0usize;
    let mut opened = false;
    let mut in_str = false;
    let mut raw_hashes: Option<usize> = None;
    let mut block_comment = 0usize;
    for (li, line) in lines.iter().enumerate().skip(start) {
        let chars: Vec<char> = line.chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            if block_comment > 0 {
                if c == '*' && chars.get(k + 1) == Some(&'/') {
                    block_comment -= 1;
                    k += 1;
                } else if c == '/' && chars.get(k + 1) == Some(&'*') {
                    block_comment += 1;
                    k += 1;
                }
            } else if let Some(h) = raw_hashes {
                if c == '"' && chars[k + 1..].iter().take(h).filter(|c| **c == '#').count() == h {
                    raw_hashes = None;
                    k += h;
                }
            } else if in_str {
                if c == '\\' {
                    k += 1;
                } else if c == '"' {
                    in_str = false;
                }
            } else {
                match c {
                    '/' if chars.get(k + 1) == Some(&'/') => break,
                    '/' if chars.get(k + 1) == Some(&'*') => {
                        block_comment += 1;
                        k += 1;
                    }
                    '"' => in_str = true,
                    // Attributes before the item (`#[cfg(test)]`) hold none of its braces.
                    '#' if !opened && chars.get(k + 1) == Some(&'[') => {
                        let mut brackets = 0usize;
                        while k < chars.len() {
                            match chars[k] {
                                '[' => brackets += 1,
                                ']' => {
                                    brackets -= 1;
                                    if brackets == 0 {
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            k += 1;
                        }
                    }
                    'r' if (k == 0 || !is_ident(chars[k - 1])) && matches!(chars.get(k + 1), Some('"') | Some('#')) => {
                        let h = chars[k + 1..].iter().take_while(|c| **c == '#').count();
                        if chars.get(k + 1 + h) == Some(&'"') {
                            raw_hashes = Some(h);
                            k += 1 + h;
                        }
                    }
                    '\'' => {
                        // A char literal ('x', '\n', '{'); otherwise a lifetime.
                        if chars.get(k + 1) == Some(&'\\') {
                            if let Some(close) = chars[k + 2..].iter().position(|c| *c == '\'') {
                                k += 2 + close;
                            }
                        } else if chars.get(k + 2) == Some(&'\'') {
                            k += 2;
                        }
                    }
                    ';' if !opened => return li,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' if opened => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return li;
                        }
                    }
                    _ => {}
                }
            }
            k += 1;
        }
    }
    lines.len().saturating_sub(1)
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    fn reader(files: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
        move |p| map.get(p).cloned()
    }

    #[test]
    fn the_module_example_holds() {
        let ctx = "Please review:\n\nsrc/lib.rs\n\n```python app/main.py\nprint('hi')\n```\n";
        let files = files(ctx, |path| (path == "src/lib.rs").then(|| "pub fn f() {}\n".to_string()));
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path.as_deref(), Some("src/lib.rs"));
        assert_eq!(files[0].language, Language::Rust);
        assert_eq!(files[0].origin, Origin::Read);
        assert_eq!(files[1].path.as_deref(), Some("app/main.py"));
        assert_eq!(files[1].text, "print('hi')");
        assert_eq!(files[1].language, Language::Python);
    }

    #[test]
    fn plain_code_is_one_anonymous_file_numbered_as_the_context() {
        let ctx = "fn main() {\n    let x = y.unwrap();\n}\n";
        let f = files(ctx, none);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, None);
        assert_eq!(f[0].text, ctx);
        assert_eq!(f[0].language, Language::Rust);
        assert_eq!(f[0].name(), "the context");
        assert_eq!(f[0].lines()[1].number, 2);
        assert!(files("   \n", none).is_empty());
    }

    #[test]
    fn a_unified_diff_gives_the_new_side_with_new_file_line_numbers() {
        let ctx = "diff --git a/src/a.rs b/src/a.rs\nindex 1..2 100644\n--- a/src/a.rs\n+++ b/src/a.rs\n\
                   @@ -10,3 +10,4 @@ fn f() {\n     let a = 1;\n-    let b = 2;\n+    let b = 3;\n+    let c = b.unwrap();\n \
                   }\n@@ -40 +41 @@\n-old\n+new\n--- a/gone.py\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-x = 1\n\
                   --- src/b.py\t2024-01-01\n+++ src/b.py\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\nThanks!\n";
        let f = files(ctx, none);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].path.as_deref(), Some("src/a.rs"));
        assert_eq!(f[0].origin, Origin::Diff);
        assert_eq!(f[0].text, "    let a = 1;\n    let b = 3;\n    let c = b.unwrap();\n}\nnew");
        let numbers: Vec<usize> = f[0].lines().iter().map(|l| l.number).collect();
        assert_eq!(numbers, [10, 11, 12, 13, 41]);
        assert_eq!(f[1].path.as_deref(), Some("src/b.py"));
        assert_eq!(f[1].text, "b");
        assert_eq!(f[1].language, Language::Python);
    }

    #[test]
    fn a_diff_inside_a_fence_is_parsed_as_a_diff() {
        let ctx = "Here is the change:\n```diff\n--- a/m.go\n+++ b/m.go\n@@ -1,2 +1,2 @@\n package m\n-var x = 1\n+var x = 2\n```\n";
        let f = files(ctx, none);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].path.as_deref(), Some("m.go"));
        assert_eq!(f[0].text, "package m\nvar x = 2");
        assert_eq!(f[0].language, Language::Go);
    }

    #[test]
    fn fence_paths_come_from_the_info_string_the_line_before_or_the_first_line() {
        let ctx = "```rust src/one.rs\nfn one() {}\n```\n\
                   ```rust:src/two.rs\nfn two() {}\n```\n\
                   ```ts title=\"web/three.ts\"\nconst three = 3;\n```\n\
                   // file: four.py\n```\ndef four(): pass\n```\n\
                   ### `five/mod.go`\n\n```go\npackage five\n```\n\
                   ```\n# file: six.py\nsix = 6\n```\n\
                   ```src/seven.rs\nfn seven() {}\n```\n";
        let f = files(ctx, none);
        let paths: Vec<_> = f.iter().map(|f| f.path.as_deref().unwrap_or("-")).collect();
        assert_eq!(
            paths,
            ["src/one.rs", "src/two.rs", "web/three.ts", "four.py", "five/mod.go", "six.py", "src/seven.rs"]
        );
        assert_eq!(f[2].language, Language::TypeScript);
        assert_eq!(f[3].text, "def four(): pass");
        assert_eq!(f[5].text, "six = 6");
        assert!(f.iter().all(|f| f.origin == Origin::Context));
    }

    #[test]
    fn a_block_without_a_path_among_named_files_is_numbered_as_the_context() {
        let ctx = "src/a.rs\n\nAnd this snippet:\n```python\nx = 1\ny = 2\n```\n";
        let f = files(ctx, reader(&[("src/a.rs", "fn a() {}")]));
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[1].path, None);
        assert_eq!(f[1].language, Language::Python);
        assert_eq!(f[1].lines().iter().map(|l| l.number).collect::<Vec<_>>(), [5, 6]);
    }

    #[test]
    fn marker_sections_run_to_the_next_marker() {
        let ctx = "// file: src/a.rs\nfn a() {}\nfn a2() {}\n// file: src/b.rs\nfn b() {}\n";
        let f = files(ctx, none);
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].path.as_deref(), f[0].text.as_str()), (Some("src/a.rs"), "fn a() {}\nfn a2() {}"));
        assert_eq!((f[1].path.as_deref(), f[1].text.as_str()), (Some("src/b.rs"), "fn b() {}"));
    }

    #[test]
    fn bare_paths_are_read_once_and_unreadable_ones_reported() {
        let ctx = "Review these:\n- src/lib.rs\n* `src/db.rs`\n1. src/missing.rs\nsrc/lib.rs:12\nsee e.g. this\nv1.2\n";
        let read = reader(&[("src/lib.rs", "pub mod db;"), ("src/db.rs", "fn q() {}")]);
        let m = material(ctx, read);
        let paths: Vec<_> = m.files.iter().map(|f| f.path.as_deref().unwrap()).collect();
        assert_eq!(paths, ["src/lib.rs", "src/db.rs"]);
        assert!(m.files.iter().all(|f| f.origin == Origin::Read));
        assert_eq!(m.unreadable, ["src/missing.rs"]);
    }

    #[test]
    fn at_most_max_bare_paths_are_read() {
        let ctx: String = (0..MAX_BARE_PATHS + 20).map(|i| format!("src/m{i}.rs\n")).collect();
        let reads = std::cell::Cell::new(0);
        let m = material(&ctx, |_| {
            reads.set(reads.get() + 1);
            Some("fn f() {}".into())
        });
        assert_eq!(reads.get(), MAX_BARE_PATHS);
        assert_eq!(m.files.len(), MAX_BARE_PATHS);
        assert_eq!(m.not_read, 20);
    }

    #[test]
    fn a_path_given_inline_is_not_read_from_disk() {
        let ctx = "src/a.rs\n```rust src/a.rs\nfn edited() {}\n```\n";
        let f = files(ctx, |_| panic!("must not read"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].text, "fn edited() {}");
    }

    #[test]
    fn unreadable_paths_alone_leave_the_context_as_one_anonymous_file() {
        let f = files("src/nowhere.rs\n", none);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, None);
    }

    #[test]
    fn prose_and_code_lines_are_not_paths() {
        for t in ["let x = a.b();", "use crate::x;", "e.g.", "1.2.3", "/etc/passwd", "../up.rs", "foo.unknownext", "x"]
        {
            assert_eq!(bare_path(t), None, "{t}");
        }
        assert_eq!(bare_path("./src/x.rs"), Some("src/x.rs".into()));
        assert_eq!(bare_path("migrations/0001_init.sql"), Some("migrations/0001_init.sql".into()));
        assert_eq!(marker_path("<!-- file: docs/a.md -->"), Some("docs/a.md".into()));
        assert_eq!(marker_path("// a comment"), None);
    }

    #[test]
    fn languages_from_paths_tags_and_guesses() {
        assert_eq!(Language::from_path("a/b.tsx"), Language::TypeScript);
        assert_eq!(Language::from_path("Makefile"), Language::Other);
        assert_eq!(Language::from_path("x.toml"), Language::Other);
        assert_eq!(Language::from_fence_tag("PostgreSQL"), Some(Language::Sql));
        assert_eq!(Language::from_fence_tag("text"), None);
        assert_eq!(Language::guess("let x = y.unwrap();"), Language::Rust);
        assert_eq!(Language::guess("def f(x):\n    return None\n"), Language::Python);
        assert_eq!(Language::guess("package main\nfunc main() {\n  x := 1\n}"), Language::Go);
        assert_eq!(Language::guess("const a = require('a');\nconsole.log(a);"), Language::JavaScript);
        assert_eq!(Language::guess("interface A { x: string }\nconst a: A = { x: '' };"), Language::TypeScript);
        assert_eq!(Language::guess("ALTER TABLE users DROP COLUMN email;"), Language::Sql);
        assert_eq!(Language::guess("hello there"), Language::Unknown);
        assert_eq!(Language::guess("text\n```python\nx\n```"), Language::Python);
    }

    #[test]
    fn test_paths() {
        for p in [
            "tests/a.rs",
            "src/a/tests.rs",
            "pkg/x_test.go",
            "test_x.py",
            "a/x_test.py",
            "web/x.test.ts",
            "x.spec.js",
            "__tests__/x.js",
            "conftest.py",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in ["src/a.rs", "src/testing.rs", "x.go", "contest.py", "latest.ts", "src/attest/x.py"] {
            assert!(!is_test_path(p), "{p}");
        }
    }

    #[test]
    fn rust_test_modules_and_comments_are_marked() {
        let text = "fn a() { x.unwrap(); }\n// note\n#[cfg(test)]\nmod tests {\n    fn s() -> &'static str { \"}\" }\n    #[test]\n    fn t() { let c = '{'; }\n}\nfn b() {}\n/* block\n still */\n";
        let f = SourceFile::new(Some("src/a.rs".into()), text, Origin::Context);
        let lines = f.lines();
        let in_test: Vec<bool> = lines.iter().map(|l| l.in_test).collect();
        assert_eq!(in_test, [false, false, true, true, true, true, true, true, false, false, false]);
        let comment: Vec<bool> = lines.iter().map(|l| l.comment).collect();
        assert_eq!(comment, [false, true, false, false, false, false, false, false, false, true, true]);
        let decl = SourceFile::new(Some("src/b.rs".into()), "#[cfg(test)]\nmod tests;\nfn b() {}\n", Origin::Context);
        assert_eq!(decl.lines().iter().map(|l| l.in_test).collect::<Vec<_>>(), [true, true, false]);
        let inline =
            SourceFile::new(None, "fn a() {}\n#[cfg(test)] mod t { fn b() {\n} }\nfn c() {}\n", Origin::Context);
        assert_eq!(inline.lines().iter().map(|l| l.in_test).collect::<Vec<_>>(), [false, true, true, false]);
        let whole = SourceFile::new(Some("tests/e2e.rs".into()), "fn a() {}\n", Origin::Context);
        assert!(whole.lines()[0].in_test);
    }

    #[test]
    fn stems_and_names() {
        let f = SourceFile::new(Some("web/src/api.test.ts".into()), "", Origin::Read);
        assert_eq!(f.stem(), Some("api"));
        assert_eq!(f.name(), "web/src/api.test.ts");
    }
}
