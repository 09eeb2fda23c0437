//! The public migration benchmark (`bench/analyses/migrations/`): reads the
//! cases, runs the analysis on each and prints recall and false-positive
//! rate per rule family and per rule. Run it with
//! `bench/analyses/migrations/run.sh`; it asserts nothing.

use std::collections::BTreeMap;
use std::path::Path;

use agent_os_persona_sdk::brief::Finding;
use agent_os_persona_sdk::testing::file;

use crate::migrate::RULES;
use crate::schema::analyse;

struct Case {
    name: String,
    path: String,
    expect: Vec<String>,
    clean: Vec<String>,
    allow: Vec<String>,
    text: String,
    extra: Vec<(String, String)>,
}

fn parse(text: &str) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let mut extra: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("=== ") {
            if let (Some(c), Some(e)) = (out.last_mut(), extra.take()) {
                c.extra.push(e);
            }
            let parts: Vec<&str> = h.split(" | ").map(str::trim).collect();
            let list = |k: &str| -> Vec<String> {
                parts
                    .iter()
                    .find_map(|p| p.strip_prefix(k))
                    .map(|v| v.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default()
            };
            out.push(Case {
                name: parts[0].to_string(),
                path: parts.get(1).unwrap_or(&"").to_string(),
                expect: list("expect:"),
                clean: list("clean:"),
                allow: list("allow:"),
                text: String::new(),
                extra: Vec::new(),
            });
        } else if let Some(p) = line.strip_prefix("--- file: ") {
            if let (Some(c), Some(e)) = (out.last_mut(), extra.take()) {
                c.extra.push(e);
            }
            extra = Some((p.trim().to_string(), String::new()));
        } else if let Some((_, t)) = extra.as_mut() {
            t.push_str(line);
            t.push('\n');
        } else if let Some(c) = out.last_mut() {
            c.text.push_str(line);
            c.text.push('\n');
        }
    }
    if let (Some(c), Some(e)) = (out.last_mut(), extra.take()) {
        c.extra.push(e);
    }
    out
}

/// The rule id of a finding: the `[id]` in its detail, or its title.
fn rule_of(f: &Finding) -> String {
    for r in RULES {
        if f.detail.contains(&format!("[{}]", r.id)) {
            return r.id.to_string();
        }
    }
    RULES.iter().find(|r| f.title.starts_with(r.title)).map(|r| r.id.to_string()).unwrap_or_else(|| "other".into())
}

fn family(rule: &str) -> &'static str {
    RULES.iter().find(|r| r.id == rule).map(|r| r.family).unwrap_or("other")
}

#[derive(Default)]
struct Tally {
    pos: usize,
    found: usize,
    neg: usize,
    flagged: usize,
}

#[test]
#[ignore = "the public migration benchmark; run bench/analyses/migrations/run.sh"]
fn migrations_benchmark() {
    let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()))
        .join("../../bench/analyses/migrations/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("cases folder").flatten().map(|e| e.path()).collect();
    files.sort();
    let mut cases = Vec::new();
    for p in files.iter().filter(|p| p.extension().is_some_and(|e| e == "txt")) {
        cases.extend(parse(&std::fs::read_to_string(p).unwrap()));
    }
    let mut fams: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut rules: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut fps = Vec::new();
    for c in &cases {
        let extra = c.extra.clone();
        let read = move |p: &str| extra.iter().find(|(q, _)| q == p).map(|(_, t)| t.clone());
        let got: Vec<String> = analyse(&[file(&c.path, &c.text)], read).iter().map(rule_of).collect();
        for r in &c.expect {
            let t = rules.entry(r.clone()).or_default();
            let fam = fams.entry(family(r)).or_default();
            t.pos += 1;
            fam.pos += 1;
            if got.contains(r) {
                t.found += 1;
                fam.found += 1;
            } else {
                misses.push(format!("{} (wanted {r}, got {got:?})", c.name));
            }
        }
        for r in &c.clean {
            let t = rules.entry(r.clone()).or_default();
            let fam = fams.entry(family(r)).or_default();
            t.neg += 1;
            fam.neg += 1;
            // Strict: a clean sample is a false positive if anything not allowed fires.
            let wrong: Vec<&String> = got.iter().filter(|g| !c.allow.contains(g)).collect();
            if !wrong.is_empty() {
                t.flagged += 1;
                fam.flagged += 1;
                fps.push(format!("{} (got {wrong:?})", c.name));
            }
        }
    }
    let pct = |a: usize, b: usize| if b == 0 { "-".to_string() } else { format!("{:.3}", a as f64 / b as f64) };
    println!("\nMigration benchmark: {} cases, {} rules in the analysis\n", cases.len(), RULES.len());
    println!(
        "{:<16} {:>5} {:>6} {:>7}   {:>5} {:>7} {:>7}",
        "family", "true", "found", "recall", "clean", "flagged", "FP rate"
    );
    let mut total = Tally::default();
    for (f, t) in &fams {
        println!(
            "{:<16} {:>5} {:>6} {:>7}   {:>5} {:>7} {:>7}",
            f,
            t.pos,
            t.found,
            pct(t.found, t.pos),
            t.neg,
            t.flagged,
            pct(t.flagged, t.neg)
        );
        total.pos += t.pos;
        total.found += t.found;
        total.neg += t.neg;
        total.flagged += t.flagged;
    }
    println!(
        "{:<16} {:>5} {:>6} {:>7}   {:>5} {:>7} {:>7}",
        "ALL",
        total.pos,
        total.found,
        pct(total.found, total.pos),
        total.neg,
        total.flagged,
        pct(total.flagged, total.neg)
    );
    println!("\nper rule (true found/total, clean flagged/total):");
    for (r, t) in &rules {
        println!("  {:<28} {}/{}  {}/{}", r, t.found, t.pos, t.flagged, t.neg);
    }
    let untested: Vec<&str> = RULES.iter().map(|r| r.id).filter(|id| !rules.contains_key(*id)).collect();
    println!("\nrules without a case: {untested:?}");
    println!("misses: {misses:#?}");
    println!("false positives: {fps:#?}");
}
