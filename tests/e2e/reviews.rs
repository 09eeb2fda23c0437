//! The review-case benchmark (bench/analyses/reviews): each case is a small
//! project made of real public code with known defects and its own
//! standard. The built binary reviews it over MCP stdio with the case's
//! persona (no language model: the delegated brief), and the brief is
//! scored against the list of what an expert raises. It prints figures and
//! asserts nothing about them; run it with bench/analyses/reviews/run.sh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::json;

use crate::support::{Server, project};

#[derive(Deserialize)]
struct Case {
    persona: String,
    task: String,
    files: Vec<String>,
    own_standard: String,
    #[serde(default)]
    expect: Vec<Expect>,
}

#[derive(Deserialize)]
struct Expect {
    /// The file, or `files`: any of them (all of them for an import cycle).
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    /// First and last line; none means the whole file.
    #[serde(default)]
    lines: Option<[usize; 2]>,
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    why: String,
}

#[derive(Deserialize)]
struct Kind {
    titles: Vec<String>,
    terms: Vec<String>,
}

/// One finding as the brief renders it.
#[derive(Debug)]
struct Found {
    file: Option<String>,
    lines: Vec<usize>,
    title: String,
    text: String,
}

/// One quoted standard.
#[derive(Debug)]
struct Quoted {
    path: String,
    text: String,
}

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/analyses/reviews")
}

/// The text of the brief's `## {title}` section.
fn section<'a>(brief: &'a str, title: &str) -> &'a str {
    let head = format!("## {title}\n");
    let Some(start) = brief.find(&head) else { return "" };
    let rest = &brief[start + head.len()..];
    let end = rest.find("\n## ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

/// The numbers in "Line 8." / "Lines 3, 11." of a finding's detail.
fn detail_lines(detail: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for key in ["Lines ", "Line ", "lines ", "line "] {
        let mut at = 0;
        while let Some(i) = detail[at..].find(key) {
            let tail = &detail[at + i + key.len()..];
            for part in tail
                .split([',', ' '])
                .take_while(|p| p.is_empty() || p.trim_end_matches('.').parse::<usize>().is_ok() || *p == "and")
            {
                if let Ok(n) = part.trim_end_matches('.').parse::<usize>() {
                    out.push(n);
                }
            }
            at += i + key.len();
        }
    }
    out
}

/// The findings of a brief: "- **sev** `file:line`: Title. detail".
fn findings(brief: &str) -> Vec<Found> {
    let mut out = Vec::new();
    for line in section(brief, "Findings from automated checks").lines() {
        let Some(rest) = line.strip_prefix("- **") else { continue };
        let Some((_, rest)) = rest.split_once("**") else { continue };
        let rest = rest.trim_start();
        let (loc, rest) = if let Some(r) = rest.strip_prefix('`') {
            let (loc, r) = r.split_once('`').unwrap_or(("", r));
            (Some(loc.to_string()), r)
        } else if let Some(r) = rest.strip_prefix("(line ") {
            let (n, r) = r.split_once(')').unwrap_or(("", r));
            (Some(format!(":{n}")), r)
        } else {
            (None, rest)
        };
        let rest = rest.trim_start().trim_start_matches(':').trim();
        // The title ends at the first ". " outside backticks.
        let mut tick = false;
        let mut cut = rest.len();
        for (i, c) in rest.char_indices() {
            if c == '`' {
                tick = !tick;
            } else if c == '.' && !tick && rest[i + 1..].starts_with(' ') {
                cut = i;
                break;
            }
        }
        let title = rest[..cut].to_string();
        let detail = rest[cut..].to_string();
        let (mut file, mut lines) = (None, Vec::new());
        if let Some(loc) = loc {
            match loc.rsplit_once(':') {
                Some((f, n)) if n.parse::<usize>().is_ok() => {
                    lines.push(n.parse().unwrap());
                    file = (!f.is_empty()).then(|| f.to_string());
                }
                _ => file = Some(loc),
            }
        }
        lines.extend(detail_lines(&detail));
        out.push(Found { file, lines, title, text: line.to_string() });
    }
    out
}

/// The quoted standards: "`path` § heading (score x)" and a fenced passage.
fn quoted(brief: &str) -> Vec<Quoted> {
    let body = section(brief, "Standards consulted");
    let lines: Vec<&str> = body.lines().collect();
    let mut out: Vec<Quoted> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with('`') && l.contains("` § ") {
            let path = l[1..l.find("` § ").unwrap()].to_string();
            let mut text = l[l.find("` § ").unwrap() + 4..].to_string();
            // The fenced block after it.
            let mut j = i + 1;
            while j < lines.len() && !lines[j].trim_start().starts_with("```") {
                j += 1;
            }
            if j < lines.len() {
                let fence: String = lines[j].chars().take_while(|c| *c == '`').collect();
                j += 1;
                while j < lines.len() && lines[j].trim() != fence {
                    text.push('\n');
                    text.push_str(lines[j]);
                    j += 1;
                }
            }
            out.push(Quoted { path, text });
            i = j;
        }
        i += 1;
    }
    out
}

fn title_is(kind: &Kind, title: &str) -> bool {
    let t = title.to_lowercase();
    kind.titles.iter().any(|k| t.contains(k.as_str()))
}

/// Whether `f` is a finding of the expected item `e`.
fn matches(e: &Expect, kind: &Kind, f: &Found) -> bool {
    if !title_is(kind, &f.title) {
        return false;
    }
    if e.kind == "import-cycle" {
        return !e.files.is_empty() && e.files.iter().all(|p| f.text.contains(p.as_str()));
    }
    let in_file = match (&e.file, &f.file) {
        (Some(want), Some(got)) => want == got,
        (Some(want), None) => f.text.contains(want.as_str()),
        (None, got) => e.files.iter().any(|p| got.as_deref() == Some(p) || f.text.contains(p.as_str())),
    };
    in_file
        && match e.lines {
            None => true,
            Some([lo, hi]) => f.lines.iter().any(|&n| n + 1 >= lo && n <= hi + 1),
        }
}

struct Score {
    name: String,
    persona: String,
    expected: usize,
    caught: usize,
    findings: usize,
    correct: usize,
    own_rank: Option<usize>,
    passages: usize,
    irrelevant: usize,
    tokens: usize,
    /// Tokens per part of the brief: its head (title, label, task) and each `## ` section.
    sections: Vec<(String, usize)>,
    /// Tokens of the persona instructions sent once per session beside the brief.
    instructions: usize,
    misses: Vec<String>,
    wrong: Vec<String>,
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else if entry.file_name() != "case.toml" {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

async fn run_case(name: &str, dir: &Path, kinds: &BTreeMap<String, Kind>) -> Result<(Score, String)> {
    let case: Case = toml::from_str(&std::fs::read_to_string(dir.join("case.toml"))?).context(name.to_string())?;
    let tmp = project();
    copy_dir(dir, tmp.path())?;
    let server = Server::start(tmp.path()).await?;
    let own = std::fs::read_to_string(tmp.path().join(&case.own_standard))?;
    let heading = own.lines().next().unwrap_or("").trim_start_matches('#').trim().to_string();
    server.wait_indexed(&heading, &case.own_standard).await?;
    let context = format!("Files:\n\n{}\n", case.files.join("\n"));
    let id = server.invoke(&case.persona, json!({ "task": case.task, "context": context })).await?;
    let done = server.wait(&id, Duration::from_secs(180)).await?;
    anyhow::ensure!(done["status"] == "complete", "{name}: {done}");
    let brief = done["result"].as_str().unwrap_or_default().to_string();
    // Sent beside the session's first brief of each persona, not in it.
    let instructions = done["persona_instructions"].as_str().map_or(0, |t| crate::analyses::brief_tokens(t).0);
    server.stop().await?;

    let found = findings(&brief);
    let mut caught = 0;
    let mut misses = Vec::new();
    for e in &case.expect {
        let kind = kinds.get(&e.kind).with_context(|| format!("{name}: unknown kind {}", e.kind))?;
        if found.iter().any(|f| matches(e, kind, f)) {
            caught += 1;
        } else {
            let at = e.file.clone().unwrap_or_else(|| e.files.join(" + "));
            let lines = e.lines.map(|[a, b]| format!(":{a}-{b}")).unwrap_or_default();
            misses.push(format!("{} {at}{lines}", e.kind));
        }
    }
    let mut correct = 0;
    let mut wrong = Vec::new();
    for f in &found {
        if case.expect.iter().any(|e| matches(e, &kinds[&e.kind], f)) {
            correct += 1;
        } else {
            wrong.push(f.text.chars().take(160).collect());
        }
    }
    let terms: Vec<&str> = case.expect.iter().flat_map(|e| kinds[&e.kind].terms.iter().map(String::as_str)).collect();
    let passages = quoted(&brief);
    let irrelevant = passages
        .iter()
        .filter(|q| {
            let t = q.text.to_lowercase();
            !terms.iter().any(|k| t.contains(k))
        })
        .count();
    let own_rank = passages.iter().position(|q| q.path == case.own_standard).map(|i| i + 1);
    let (tokens, _) = crate::analyses::brief_tokens(&brief);
    let sections = section_tokens(&brief);
    Ok((
        Score {
            name: name.to_string(),
            persona: case.persona,
            expected: case.expect.len(),
            caught,
            findings: found.len(),
            correct,
            own_rank,
            passages: passages.len(),
            irrelevant,
            tokens,
            sections,
            instructions,
            misses,
            wrong,
        },
        brief,
    ))
}

/// The brief cut at its `## ` headings: (heading, tokens), the part before
/// the first heading named "head".
fn section_tokens(brief: &str) -> Vec<(String, usize)> {
    let mut parts: Vec<(String, String)> = vec![("head".into(), String::new())];
    for line in brief.split_inclusive('\n') {
        if let Some(h) = line.strip_prefix("## ") {
            parts.push((h.trim().to_string(), String::new()));
        }
        parts.last_mut().unwrap().1.push_str(line);
    }
    parts.into_iter().map(|(h, text)| (h, crate::analyses::brief_tokens(&text).0)).collect()
}

#[tokio::test]
#[ignore = "a benchmark: bench/analyses/reviews/run.sh"]
async fn reviews_benchmark() -> Result<()> {
    let root = bench_dir();
    let kinds: BTreeMap<String, Kind> = toml::from_str(&std::fs::read_to_string(root.join("kinds.toml"))?)?;
    let only = std::env::var("REVIEWS_CASE").ok();
    let verbose = std::env::var_os("VERBOSE").is_some();
    let mut names: Vec<String> = std::fs::read_dir(root.join("cases"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("case.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| only.as_deref().is_none_or(|o| n.contains(o)))
        .collect();
    names.sort();
    let mut scores = Vec::new();
    for name in &names {
        let (score, brief) = run_case(name, &root.join("cases").join(name), &kinds).await?;
        if verbose {
            eprintln!("===== {name} =====\n{}", brief.split("## Persona instructions").next().unwrap_or_default());
        }
        scores.push(score);
    }
    println!(
        "\n{:<24} {:<9} {:>8} {:>6} {:>8} {:>7} {:>8} {:>8} {:>10} {:>6}",
        "case", "persona", "expected", "caught", "findings", "correct", "own rank", "passages", "irrelevant", "tokens"
    );
    let (mut e, mut c, mut f, mut ok, mut p, mut irr, mut tok, mut own) = (0, 0, 0, 0, 0, 0, 0, 0);
    for s in &scores {
        println!(
            "{:<24} {:<9} {:>8} {:>6} {:>8} {:>7} {:>8} {:>8} {:>10} {:>6}",
            s.name,
            s.persona,
            s.expected,
            s.caught,
            s.findings,
            s.correct,
            s.own_rank.map_or("-".to_string(), |r| r.to_string()),
            s.passages,
            s.irrelevant,
            s.tokens
        );
        e += s.expected;
        c += s.caught;
        f += s.findings;
        ok += s.correct;
        p += s.passages;
        irr += s.irrelevant;
        tok += s.tokens;
        own += usize::from(s.own_rank.is_some());
    }
    let n = scores.len().max(1);
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    println!(
        "\n{} cases: recall {:.2} ({c}/{e}), precision {:.2} ({ok}/{f}), own standard retrieved in {own}/{}, \
         irrelevant passages {:.2} ({irr}/{p}), mean brief {} tokens ({})",
        scores.len(),
        ratio(c, e),
        ratio(ok, f),
        scores.len(),
        ratio(irr, p),
        tok / n,
        crate::analyses::brief_tokens("token").1
    );
    println!("\ntokens per part of each brief, and of the persona instructions sent once per session beside it:");
    for s in &scores {
        let parts: Vec<String> = s.sections.iter().map(|(h, n)| format!("{h} {n}")).collect();
        println!("{:<24} {} || instructions {}", s.name, parts.join(" | "), s.instructions);
    }
    let with = scores.iter().map(|s| s.tokens + s.instructions).sum::<usize>() / n;
    println!(
        "mean brief with the session's persona instructions counted in it (a session's first review): {with} tokens"
    );
    for s in &scores {
        for m in &s.misses {
            println!("miss  {:<24} {m}", s.name);
        }
        for w in &s.wrong {
            println!("wrong {:<24} {w}", s.name);
        }
    }
    Ok(())
}

#[test]
fn the_brief_parser_reads_findings_and_quoted_standards() {
    let brief = "# X review\n\n## Findings from automated checks\n\n- **high** `src/a.py:12`: SQL built from strings in `src/a.py`. Use parameters.\n- **medium** `src/b.rs:3`: unwrap() can panic: 2 in `src/b.rs`. Lines 3, 11.\n- **low** (line 4): Thing. Detail.\n- **medium**: No tests for `app/x.py`. None.\n\n**Coverage:** x\n\n## Standards consulted\n\nNote.\n\n`.agent-os/standards/security/db.md` § Pattern (score 0.50)\n\n````quoted-standard\nBind every value.\n````\n`universal/x.md` § Y (score 0.1)\n\n```quoted-standard\nOther.\n```\n\n## Notes\n";
    let f = findings(brief);
    assert_eq!(f.len(), 4, "{f:?}");
    assert_eq!(f[3].title, "No tests for `app/x.py`");
    assert_eq!(f[0].file.as_deref(), Some("src/a.py"));
    assert_eq!(f[0].lines, [12]);
    assert_eq!(f[0].title, "SQL built from strings in `src/a.py`");
    assert_eq!(f[1].lines, [3, 3, 11]);
    assert_eq!(f[2].file, None);
    assert_eq!(f[2].lines, [4]);
    let q = quoted(brief);
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(q[0].path, ".agent-os/standards/security/db.md");
    assert!(q[0].text.contains("Bind every value."), "{q:?}");
    assert!(q[1].text.contains("Other."), "{q:?}");
}
