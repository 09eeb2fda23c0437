//! Panic paths and swallowed errors in non-test code, counted per file with
//! their lines.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::{Language, Line, SourceFile};

/// One kind of problem the scan counts.
struct Rule {
    severity: Severity,
    title: &'static str,
    advice: &'static str,
}

const UNWRAP: Rule = Rule {
    severity: Severity::Medium,
    title: "unwrap() can panic",
    advice: "Return or handle the error instead of panicking on bad input.",
};
const EXPECT: Rule = Rule {
    severity: Severity::Low,
    title: "expect() can panic",
    advice: "Make sure the invariant truly holds, or propagate the error.",
};
const PANIC: Rule = Rule {
    severity: Severity::Medium,
    title: "Explicit panic",
    advice: "A library should return an error the caller can handle.",
};
const UNREACHABLE: Rule = Rule {
    severity: Severity::Low,
    title: "unreachable!() can panic",
    advice: "Check the branch really cannot be reached, or return an error.",
};
const UNFINISHED: Rule = Rule {
    severity: Severity::Medium,
    title: "Unfinished code",
    advice: "todo!() and unimplemented!() panic when reached.",
};
const SLICE: Rule = Rule {
    severity: Severity::Low,
    title: "Slice or index that can panic",
    advice: "Indexing, range slicing and `split_at` panic when the input is shorter than the code assumes \
             (and a `str` slice off a char boundary); if the length is not guaranteed, check it first or use \
             `.get(..)`, `split_at_checked`, `strip_prefix`.",
};
const UNDERFLOW: Rule = Rule {
    severity: Severity::Medium,
    title: "Subtraction that can underflow",
    advice: "A number read from the input minus a constant underflows (a panic in debug, a huge value in \
             release) when the input declares less; use `checked_sub` and reject the input when it fails.",
};
const UNCHECKED: Rule = Rule {
    severity: Severity::High,
    title: "Unchecked memory access",
    advice: "`get_unchecked` and `from_raw_parts` read out of bounds when the length is wrong, which is \
             undefined behaviour; check the length first or use `get(..)` and a safe slice.",
};
const LET_UNDERSCORE: Rule = Rule {
    severity: Severity::Low,
    title: "Result discarded with `let _ =`",
    advice: "A failure here goes unnoticed; handle it, log it, or say in a comment why it cannot matter.",
};
const BARE_EXCEPT: Rule = Rule {
    severity: Severity::Medium,
    title: "Bare except",
    advice: "Catching everything hides bugs (and KeyboardInterrupt); catch the specific exception.",
};
const SWALLOWED: Rule = Rule {
    severity: Severity::Medium,
    title: "Swallowed error",
    advice: "An empty handler loses the failure; log it, handle it, or rethrow it.",
};
const GO_IGNORED: Rule = Rule {
    severity: Severity::Medium,
    title: "Error ignored",
    advice: "The error result is assigned to `_` or its check is empty; handle or return it.",
};

/// Every finding of the engineer persona's own analysis: one per file and
/// kind of problem, with the count and the lines.
pub fn analyse(files: &[SourceFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files {
        if skipped(f) {
            continue;
        }
        let lines = f.lines();
        let input_numbers = if f.language == Language::Rust { numbers_from_input(&lines) } else { Vec::new() };
        let mut hits: Vec<(&'static Rule, usize)> = Vec::new();
        // A Rust file that parses is judged on its expressions.
        let parsed = if f.language == Language::Rust { crate::rust_ast::sites(&f.text) } else { None };
        if let Some(sites) = &parsed {
            rust_sites(sites, &lines, &f.text, &mut hits);
        }
        for (i, line) in lines.iter().enumerate() {
            if line.in_test || line.comment {
                continue;
            }
            let code = strip_strings(line.text);
            let lang = f.language;
            if parsed.is_none() && matches!(lang, Language::Rust | Language::Unknown) {
                if !documented_unwrap(&lines, i) {
                    rust(&code, line, &mut hits);
                }
                if lang == Language::Rust && (panicking_slice(&code, &lines, i) || str_slice(&code, &f.text)) {
                    hits.push((&SLICE, line.number));
                }
                if lang == Language::Rust && underflow(&code, &lines, i, &input_numbers) {
                    hits.push((&UNDERFLOW, line.number));
                }
                if lang == Language::Rust && unchecked_access(&code, &lines, i) {
                    hits.push((&UNCHECKED, line.number));
                }
            }
            if matches!(lang, Language::Python | Language::Unknown) {
                python(&code, &lines, i, &mut hits);
            }
            if matches!(lang, Language::JavaScript | Language::TypeScript | Language::Unknown) {
                js(&code, &lines, i, &mut hits);
            }
            if matches!(lang, Language::Go | Language::Unknown) {
                go(&code, &lines, i, &mut hits);
            }
        }
        let mut rules: Vec<&'static Rule> = Vec::new();
        for (r, _) in &hits {
            if !rules.iter().any(|x| std::ptr::eq(*x, *r)) {
                rules.push(r);
            }
        }
        for rule in rules {
            let at: Vec<usize> = hits.iter().filter(|(r, _)| std::ptr::eq(*r, rule)).map(|(_, n)| *n).collect();
            let shown: Vec<String> = at.iter().take(15).map(|n| n.to_string()).collect();
            let more = if at.len() > shown.len() { ", …" } else { "" };
            let title = match &f.path {
                Some(p) => format!("{}: {} in `{p}`", rule.title, at.len()),
                None => format!("{}: {}", rule.title, at.len()),
            };
            let word = if at.len() == 1 { "Line" } else { "Lines" };
            let detail = format!("{word} {}{more}. {}", shown.join(", "), rule.advice);
            out.push(Finding::new(rule.severity, title, detail).at_line(at[0]));
        }
    }
    out
}

/// Test files, build scripts and examples are allowed to panic.
fn skipped(f: &SourceFile) -> bool {
    let Some(path) = f.path.as_deref() else { return false };
    f.is_test()
        || path == "build.rs"
        || path.ends_with("/build.rs")
        || path.split('/').any(|d| matches!(d, "examples" | "benches"))
        || !(f.language.is_code())
}

/// The line with the contents of string literals blanked and a trailing `//` comment removed.
fn strip_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    quote = None;
                    out.push(c);
                }
            }
            None => {
                if c == '"' || c == '`' {
                    quote = Some(c);
                    out.push(c);
                } else if c == '/' && chars.peek() == Some(&'/') {
                    break;
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

fn rust(code: &str, line: &Line<'_>, hits: &mut Vec<(&'static Rule, usize)>) {
    let n = line.number;
    for _ in code.matches(".unwrap()") {
        hits.push((&UNWRAP, n));
    }
    for _ in code.matches(".expect(") {
        hits.push((&EXPECT, n));
    }
    if code.contains("panic!(") {
        hits.push((&PANIC, n));
    }
    if code.contains("unreachable!(") {
        hits.push((&UNREACHABLE, n));
    }
    if code.contains("todo!(") || code.contains("unimplemented!(") {
        hits.push((&UNFINISHED, n));
    }
    let t = code.trim_start();
    if let Some(rhs) = t.strip_prefix("let _ =").or_else(|| t.strip_prefix("let _=")) {
        let rhs = rhs.trim();
        let infallible = ["write!(", "writeln!(", "format!("].iter().any(|m| rhs.starts_with(m));
        if rhs.contains('(') && !infallible {
            hits.push((&LET_UNDERSCORE, n));
        }
    }
}

/// Words on a line that show the length was checked before indexing.
/// Names of collections whose length comes from the input.
const INPUT_PIECES: &[&str] = &[
    "args",
    "argv",
    "parts",
    "fields",
    "tokens",
    "words",
    "pieces",
    "segments",
    "cols",
    "columns",
    "split",
    "splits",
    "params",
    "components",
    "lines",
    "items",
    "values",
    "cells",
    "row",
    "record",
];

const LENGTH_CHECKS: &[&str] =
    &[".len()", "is_empty()", "assert", ".min(", "checked_", "chunks", "windows(", "find(", "position("];

/// True when `code` (line `i`, strings blanked) slices or indexes with bounds
/// the type does not guarantee, and neither it nor the three lines before it
/// check a length.
fn panicking_slice(code: &str, lines: &[Line<'_>], i: usize) -> bool {
    let checked = |t: &str| LENGTH_CHECKS.iter().any(|k| t.contains(k));
    if lines[i.saturating_sub(3)..=i].iter().any(|l| checked(l.text)) {
        return false;
    }
    // Macro patterns (`$x:ident`) are not indexing.
    if code.contains('$') {
        return false;
    }
    if code.contains(".split_at(") || code.contains(".split_at_mut(") {
        return true;
    }
    let b = code.as_bytes();
    for (k, _) in code.match_indices('[') {
        let Some(&prev) = k.checked_sub(1).and_then(|p| b.get(p)) else { continue };
        if !(prev.is_ascii_alphanumeric() || prev == b'_' || prev == b')' || prev == b']') {
            continue;
        }
        let mut depth = 0usize;
        let Some(end) = code[k..].find(|c: char| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            depth == 0
        }) else {
            continue;
        };
        let inner = code[k + 1..k + end].trim();
        if inner.is_empty() || inner == ".." || inner == "0.." || inner.contains(';') || inner.starts_with(['"', '(']) {
            continue;
        }
        let recv_start = code[..k]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let recv = &code[recv_start..k];
        // Constant tables (`TABLE[i]`) are sized by their author.
        if !recv.is_empty() && recv.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
            continue;
        }
        if inner.contains("..") {
            // A range slice: `&s[..n]`, `&buf[4..]`, `&b[i..j]`.
            return true;
        }
        // A plain index: only where the length comes from the input — pieces of
        // a split, command-line arguments, tokens — not numeric code over
        // arrays whose sizes the types fix.
        let r = recv.to_ascii_lowercase();
        let from_input = INPUT_PIECES.iter().any(|w| r == *w || r.ends_with(&format!("_{w}")))
            || (recv.is_empty() && (code[..k].contains("split") || code[..k].contains("args()")));
        if from_input {
            return true;
        }
    }
    false
}

/// The hits of a parsed Rust file: each site judged with the same guards
/// as the line checks (a length check on the three lines before, a comment
/// saying why an unwrap cannot fail, constant tables, input-sized
/// collections), on the site's own line.
fn rust_sites(
    sites: &[(crate::rust_ast::Site, usize)],
    lines: &[Line<'_>],
    text: &str,
    hits: &mut Vec<(&'static Rule, usize)>,
) {
    use crate::rust_ast::Site;
    let checked = |t: &str| LENGTH_CHECKS.iter().any(|k| t.contains(k));
    for (site, at) in sites {
        let Some(i) = at.checked_sub(1).filter(|&i| i < lines.len()) else { continue };
        if lines[i].in_test {
            continue;
        }
        let n = lines[i].number;
        let guarded = lines[i.saturating_sub(3)..=i].iter().any(|l| !l.comment && checked(l.text));
        let rule: Option<&'static Rule> = match site {
            Site::Unwrap if !documented_unwrap(lines, i) => Some(&UNWRAP),
            Site::Expect if !documented_unwrap(lines, i) => Some(&EXPECT),
            Site::Unwrap | Site::Expect => None,
            Site::Panic => Some(&PANIC),
            Site::Unreachable => Some(&UNREACHABLE),
            Site::Unfinished => Some(&UNFINISHED),
            Site::LetUnderscore => Some(&LET_UNDERSCORE),
            Site::Unchecked => {
                (!lines[i.saturating_sub(3)..=i].iter().any(|l| !l.comment && l.text.contains(".len()")))
                    .then_some(&UNCHECKED)
            }
            Site::Underflow { name } => {
                let compared = lines[..i].iter().rev().take(20).any(|l| {
                    let t = l.text;
                    t.contains(&format!("{name} <"))
                        || t.contains(&format!("{name} >"))
                        || t.contains(&format!("< {name}"))
                        || t.contains(&format!("> {name}"))
                });
                (!compared && !lines[i].text.contains("checked_sub")).then_some(&UNDERFLOW)
            }
            Site::Index { receiver, range, bounds } => {
                let recv = receiver.as_deref().unwrap_or("");
                let constant =
                    !recv.is_empty() && recv.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                let code = strip_strings(lines[i].text);
                let str_cut = *range && !bounds.is_empty() && str_slice(&code, text);
                if constant {
                    None
                } else if str_cut {
                    Some(&SLICE)
                } else if guarded {
                    None
                } else if *range {
                    Some(&SLICE)
                } else {
                    let r = recv.to_ascii_lowercase();
                    let from_input = INPUT_PIECES.iter().any(|w| r == *w || r.ends_with(&format!("_{w}")))
                        || (recv.is_empty() && (code.contains("split") || code.contains("args()")));
                    from_input.then_some(&SLICE)
                }
            }
        };
        if let Some(r) = rule {
            hits.push((r, n));
        }
    }
}

/// True when the comment just above line `i` says why an `unwrap`/`expect`
/// on it cannot fail (the way a `// SAFETY:` comment documents `unsafe`).
fn documented_unwrap(lines: &[Line<'_>], i: usize) -> bool {
    const WHY: &[&str] = &[
        "cannot fail",
        "can't fail",
        "cannot fire",
        "can't fire",
        "never fail",
        "cannot panic",
        "can't panic",
        "never panic",
        "infallible",
        "always valid",
        "always succeed",
    ];
    let mut j = i;
    while j > 0 && lines[j - 1].comment {
        j -= 1;
        let t = lines[j].text.to_ascii_lowercase();
        if WHY.iter().any(|w| t.contains(w)) {
            return true;
        }
    }
    false
}

/// Names bound with `let` to a number decoded from bytes or text
/// (`u32::from_be_bytes(..)`, `.parse()`), which the input controls.
fn numbers_from_input(lines: &[Line<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines.iter().filter(|l| !l.in_test && !l.comment) {
        let t = l.text.trim_start();
        let Some(rest) = t.strip_prefix("let ") else { continue };
        let rest = rest.strip_prefix("mut ").unwrap_or(rest);
        let Some((name, init)) = rest.split_once('=') else { continue };
        let name = name.split(':').next().unwrap_or("").trim();
        let decoded = [
            "from_be_bytes(",
            "from_le_bytes(",
            "from_ne_bytes(",
            ".parse()",
            ".parse::<",
            "read_u16",
            "read_u32",
            "read_u64",
        ]
        .iter()
        .any(|k| init.contains(k));
        if decoded && !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            out.push(name.to_string());
        }
    }
    out
}

/// True when line `i` subtracts from a number the input controls (see
/// [`numbers_from_input`]) with a plain `-`, and neither it nor the lines
/// since the number was bound compare it first.
fn underflow(code: &str, lines: &[Line<'_>], i: usize, numbers: &[String]) -> bool {
    if numbers.is_empty()
        || code.contains("checked_sub")
        || code.contains("saturating_sub")
        || code.contains("wrapping_sub")
    {
        return false;
    }
    for n in numbers {
        let Some(at) = code.find(n.as_str()) else { continue };
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let after = code[at + n.len()..].trim_start();
        // `n - X` or `n as usize - X`.
        let after = after.strip_prefix("as ").map_or(after, |r| {
            r.trim_start().trim_start_matches(|c: char| c.is_alphanumeric() || c == '_').trim_start()
        });
        let minus = after.starts_with('-') && !after.starts_with("->") && !after.starts_with("-=");
        if !minus {
            continue;
        }
        // A comparison of `n` before it (`if n < HEADER`) guards it.
        let guarded = lines[..i].iter().rev().take(20).any(|l| {
            let t = l.text;
            t.contains(&format!("{n} <"))
                || t.contains(&format!("{n} >"))
                || t.contains(&format!("< {n}"))
                || t.contains(&format!("> {n}"))
        });
        if !guarded {
            return true;
        }
    }
    false
}

/// True when line `i` reads memory without a bounds check: `get_unchecked`
/// or `from_raw_parts`, with no `.len()` on it or the three lines before.
fn unchecked_access(code: &str, lines: &[Line<'_>], i: usize) -> bool {
    let raw = ["get_unchecked(", "get_unchecked_mut(", "from_raw_parts("].iter().any(|k| code.contains(k));
    raw && !lines[i.saturating_sub(3)..=i].iter().any(|l| !l.comment && l.text.contains(".len()"))
}

/// True when `code` slices a string with a range whose bound is computed:
/// `&value[..end]` on a `&str` cuts inside a multi-byte character unless the
/// bound comes from the string itself (`find`, `char_indices`).
fn str_slice(code: &str, text: &str) -> bool {
    let Some(open) = code.find('[') else { return false };
    let Some(close) = code[open..].find(']').map(|c| open + c) else { return false };
    let range = &code[open + 1..close];
    // A range with a computed bound (`..end`, `i..`), not a literal one.
    if !range.contains("..")
        || !range.split("..").any(|b| b.trim().starts_with(|c: char| c.is_alphabetic() || c == '_'))
    {
        return false;
    }
    let start = code[..open].rfind(['&', ' ', '(']).map_or(0, |p| p + 1);
    let recv = code[start..open].trim_start_matches('&');
    if recv.is_empty() || !recv.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return false;
    }
    // The receiver is a string when it was bound from one.
    let stringy = text.lines().any(|l| {
        let t = l.trim_start();
        let binds = t.starts_with(&format!("let {recv} "))
            || t.starts_with(&format!("let {recv}:"))
            || t.contains(&format!("{recv}: &str"))
            || t.contains(&format!("{recv}: String"));
        binds
            && (t.contains("&str")
                || t.contains("String")
                || t.contains("unwrap_or(\"")
                || t.contains(".to_string()")
                || t.contains(".trim()")
                || t.contains("as_str()"))
    });
    // A bound found in the string itself is on a character boundary.
    let safe =
        |t: &str| ["find(", "char_indices", "is_char_boundary", "floor_char_boundary"].iter().any(|k| t.contains(k));
    let bounds: Vec<&str> = range.split("..").map(str::trim).filter(|b| !b.is_empty()).collect();
    let bound_from_text = safe(code)
        || bounds.iter().all(|b| {
            text.lines().any(|l| {
                let t = l.trim_start();
                (t.starts_with(&format!("let {b} ")) || t.starts_with(&format!("let mut {b} "))) && safe(t)
            })
        });
    stringy && !bound_from_text
}

fn indent(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// The index of the next non-blank line after `i`.
fn next_code(lines: &[Line<'_>], i: usize) -> Option<usize> {
    (i + 1..lines.len()).find(|&j| !lines[j].text.trim().is_empty())
}

fn python(code: &str, lines: &[Line<'_>], i: usize, hits: &mut Vec<(&'static Rule, usize)>) {
    let t = code.trim();
    if !(t.starts_with("except") && t.contains(':')) {
        return;
    }
    let n = lines[i].number;
    let head = t.split(':').next().unwrap_or("").trim();
    if head == "except" {
        hits.push((&BARE_EXCEPT, n));
    }
    let body_inline = t.split_once(':').map(|(_, b)| b.trim()).unwrap_or("");
    let body_only_pass = if !body_inline.is_empty() {
        matches!(body_inline, "pass" | "...")
    } else {
        next_code(lines, i).is_some_and(|j| {
            let only = matches!(lines[j].text.trim(), "pass" | "...");
            let ends = next_code(lines, j).is_none_or(|k| indent(lines[k].text) <= indent(lines[i].text));
            only && ends && indent(lines[j].text) > indent(lines[i].text)
        })
    };
    if body_only_pass {
        hits.push((&SWALLOWED, n));
    }
}

fn js(code: &str, lines: &[Line<'_>], i: usize, hits: &mut Vec<(&'static Rule, usize)>) {
    let n = lines[i].number;
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains(".catch(()=>{})") || compact.contains(".catch(function(){})") {
        hits.push((&SWALLOWED, n));
        return;
    }
    let Some(pos) = compact.find("catch") else { return };
    let after = &compact[pos + 5..];
    let after = match after.strip_prefix('(') {
        Some(rest) => rest.split_once(')').map(|(_, r)| r).unwrap_or(""),
        None => after,
    };
    if !after.starts_with('{') || pos > 0 && compact[..pos].ends_with('.') {
        return;
    }
    let empty = if after.len() > 1 {
        after[1..].starts_with('}')
    } else {
        next_code(lines, i).is_some_and(|j| lines[j].text.trim().starts_with('}'))
    };
    if empty {
        hits.push((&SWALLOWED, n));
    }
}

fn go(code: &str, lines: &[Line<'_>], i: usize, hits: &mut Vec<(&'static Rule, usize)>) {
    let n = lines[i].number;
    let t = code.trim();
    if t.starts_with("for ") || t.contains("range ") {
        return;
    }
    let assign = t.split_once(":=").or_else(|| t.split_once(" = ")).or_else(|| t.split_once("= "));
    if let Some((lhs, rhs)) = assign {
        let last = lhs.rsplit(',').next().unwrap_or("").trim();
        if last == "_" && rhs.contains('(') && !lhs.contains('(') && !lhs.contains('"') {
            hits.push((&GO_IGNORED, n));
            return;
        }
    }
    if t.replace(' ', "").starts_with("iferr!=nil{") {
        let rest = t.split_once('{').map(|(_, r)| r.trim()).unwrap_or("");
        let empty = rest.starts_with('}')
            || rest.is_empty() && next_code(lines, i).is_some_and(|j| lines[j].text.trim() == "}");
        if empty {
            hits.push((&GO_IGNORED, n));
        }
    }
}

#[cfg(test)]
mod tests {
    use agent_os_persona_sdk::context::Origin;

    use super::*;
    use agent_os_persona_sdk::testing::{awkward_files, file};

    #[test]
    fn survives_awkward_input() {
        let _ = analyse(&awkward_files());
    }

    fn summary(f: &[Finding]) -> Vec<(String, Option<usize>)> {
        f.iter().map(|f| (f.title.clone(), f.line)).collect()
    }

    #[test]
    fn rust_panic_paths_are_counted_per_file_with_their_lines() {
        let text = "fn a() {\n    let x = y.unwrap();\n    let z = w.unwrap().unwrap();\n    let q = r.expect(\"set\");\n    // c.unwrap();\n    let s = \".unwrap()\";\n    todo!();\n}\n#[cfg(test)]\nmod tests {\n    fn t() { a.unwrap(); panic!(\"x\"); }\n}\n";
        let f = analyse(&[file("src/a.rs", text)]);
        assert_eq!(
            summary(&f),
            [
                ("unwrap() can panic: 3 in `src/a.rs`".to_string(), Some(2)),
                ("expect() can panic: 1 in `src/a.rs`".to_string(), Some(4)),
                ("Unfinished code: 1 in `src/a.rs`".to_string(), Some(7)),
            ]
        );
        assert!(f[0].detail.starts_with("Lines 2, 3, 3."), "{f:?}");
        assert!(f[1].detail.starts_with("Line 4."), "{f:?}");
    }

    #[test]
    fn rust_slices_and_indexing_on_unchecked_lengths() {
        let text = "fn parse(s: &str, buf: &[u8], i: usize) -> u8 {\n    let head = &s[..4];\n    let (a, b) = buf.split_at(i);\n    let c = fields[2];\n    let d = args()[1];\n    0\n}\n";
        let f = analyse(&[file("src/parse.rs", text)]);
        assert_eq!(summary(&f), [("Slice or index that can panic: 4 in `src/parse.rs`".to_string(), Some(2))]);
        assert!(f[0].detail.starts_with("Lines 2, 3, 4, 5."), "{f:?}");
        assert_eq!(f[0].severity, Severity::Low);
    }

    #[test]
    fn checked_lengths_types_and_tests_do_not_count_as_panicking_slices() {
        let quiet = [
            "fn f(b: &[u8]) -> Option<[u8; 4]> { None }",
            "fn f(s: &str) {\n    if s.len() < 4 {\n        return;\n    }\n    let h = &s[..4];\n}",
            "fn f(v: &[u8]) { for i in 0..v.len() { let _x = v[i]; } }",
            "fn f(s: &str) { if let Some(p) = s.find(':') { let _k = &s[..p]; } }",
            "fn f() { let mut key = [0u8; 32]; key[0] = 1; }",
            "fn f(v: &Value) -> &Value { &v[\"name\"] }",
            "fn f(m: &Matrix4, state: &mut [u64; 8]) { state[5] = m[(0, 3)] + TABLE[i] + buf[i]; }",
            "macro_rules! m { (@stack[$($s:ident,)*]) => {} }",
            "#[derive(Debug)]\nstruct A { x: Vec<[u8; 2]> }",
            "fn f() { let v = vec![1, 2]; let w = &v[..]; }",
            "#[cfg(test)]\nmod tests {\n    fn t(s: &str) { let _ = &s[..4]; }\n}",
        ];
        for text in quiet {
            let f = analyse(&[file("src/a.rs", text)]);
            assert!(!f.iter().any(|f| f.title.starts_with("Slice")), "{text}: {f:?}");
        }
        assert!(analyse(&[file("src/a.py", "x = s[:4]\ny = buf[i]")]).is_empty());
        // A receiver after a multi-byte character is read on a character boundary.
        let f = analyse(&[file("src/a.rs", "fn f() { let x = a→parts[0]; }")]);
        assert_eq!(f.len(), 1, "{f:?}");
    }

    #[test]
    fn let_underscore_on_a_call_is_a_discarded_result() {
        let text = "fn a() {\n    let _ = fs::remove_file(p);\n    let _ = writeln!(out, \"x\");\n    let _ = x;\n    let _guard = lock();\n}\n";
        assert_eq!(
            summary(&analyse(&[file("src/a.rs", text)])),
            [("Result discarded with `let _ =`: 1 in `src/a.rs`".to_string(), Some(2))]
        );
    }

    #[test]
    fn test_files_and_anonymous_context() {
        assert!(analyse(&[file("tests/api.rs", "x.unwrap();")]).is_empty());
        assert!(analyse(&[file("build.rs", "x.unwrap();")]).is_empty());
        let anon = SourceFile::new(None, "let x = y.unwrap();", Origin::Context);
        assert_eq!(summary(&analyse(&[anon])), [("unwrap() can panic: 1".to_string(), Some(1))]);
    }

    #[test]
    fn python_bare_and_swallowing_excepts() {
        let text = "try:\n    f()\nexcept:\n    pass\ntry:\n    g()\nexcept ValueError:\n    log(e)\ntry:\n    h()\nexcept KeyError: pass\n";
        let f = analyse(&[file("app/a.py", text)]);
        assert_eq!(
            summary(&f),
            [
                ("Bare except: 1 in `app/a.py`".to_string(), Some(3)),
                ("Swallowed error: 2 in `app/a.py`".to_string(), Some(3))
            ]
        );
        assert!(f[1].detail.starts_with("Lines 3, 11."), "{f:?}");
    }

    #[test]
    fn js_empty_catches() {
        let text = "try { f(); } catch (e) {}\ntry {\n  g();\n} catch {\n}\ntry { h(); } catch (e) { log(e); }\np.catch(() => {});\n";
        let f = analyse(&[file("web/a.js", text)]);
        assert_eq!(summary(&f), [("Swallowed error: 3 in `web/a.js`".to_string(), Some(1))]);
        assert!(f[0].detail.starts_with("Lines 1, 4, 7."), "{f:?}");
    }

    #[test]
    fn go_ignored_errors() {
        let text = "func f() {\n\tn, _ := strconv.Atoi(s)\n\t_ = os.Remove(p)\n\tv, _ := m[k]\n\tfor _, x := range xs {\n\t}\n\tif err != nil {\n\t}\n\tif err != nil {\n\t\treturn err\n\t}\n}\n";
        let f = analyse(&[file("pkg/a.go", text)]);
        assert_eq!(summary(&f), [("Error ignored: 3 in `pkg/a.go`".to_string(), Some(2))]);
        assert!(f[0].detail.starts_with("Lines 2, 3, 7."), "{f:?}");
    }
}

#[cfg(test)]
mod input_tests {
    use super::*;
    use agent_os_persona_sdk::testing::file;

    fn found(path: &str, text: &str) -> Vec<(String, usize)> {
        analyse(&[file(path, text)]).into_iter().map(|f| (f.title, f.line.unwrap_or(0))).collect()
    }

    #[test]
    fn lengths_read_from_the_input_string_slices_and_unchecked_reads() {
        let text = "fn read(buf: &[u8]) -> usize {\n    let n = u16::from_le_bytes([buf[0], buf[1]]);\n    let body = n as usize - 2;\n    body\n}\n\nfn name(req: &Req) -> String {\n    let v = req.get(\"h\").unwrap_or(\"\");\n    let cut = v.len().min(8);\n    v[..cut].to_string()\n}\n\nfn raw(b: &[u8]) -> u8 {\n    unsafe { *b.get_unchecked(3) }\n}\n";
        let got = found("src/frame.rs", text);
        assert!(got.contains(&("Subtraction that can underflow: 1 in `src/frame.rs`".into(), 3)), "{got:?}");
        assert!(got.contains(&("Slice or index that can panic: 1 in `src/frame.rs`".into(), 10)), "{got:?}");
        assert!(got.contains(&("Unchecked memory access: 1 in `src/frame.rs`".into(), 14)), "{got:?}");
    }

    #[test]
    fn guarded_lengths_char_boundaries_and_documented_unwraps_stay_quiet() {
        let text = "fn read(buf: &[u8]) -> Option<usize> {\n    let n = u16::from_le_bytes([buf[0], buf[1]]) as usize;\n    if n < 2 {\n        return None;\n    }\n    let a = n - 2;\n    let b = n.checked_sub(2)?;\n    Some(a + b)\n}\n\nfn name(v: &str) -> &str {\n    let at = v.find(':').unwrap_or(v.len());\n    &v[..at]\n}\n\nfn digits(raw: &str) -> u64 {\n    // The guards above make this a valid u64, so it cannot fail.\n    raw.parse().unwrap()\n}\n\nfn raw(b: &[u8]) -> u8 {\n    assert!(b.len() > 3);\n    unsafe { *b.get_unchecked(3) }\n}\n";
        let got = found("src/frame.rs", text);
        assert!(got.is_empty(), "{got:?}");
    }
}
