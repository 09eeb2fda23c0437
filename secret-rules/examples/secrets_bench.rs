//! The public secrets benchmark: every sample under
//! `bench/analyses/secrets/*.txt` is scanned and the figures printed per
//! rule family. Run from the repository root:
//!
//! ```text
//! cargo run --release -p agent-os-secret-rules --example secrets_bench
//! ```
//!
//! A sample file holds one sample per line: `+ family text` for a secret
//! the scan must report, `- family text` for text it must leave alone.
//! `⏎` stands for a line break inside a sample (multi-line material).

use std::collections::BTreeMap;

fn main() {
    // `--files LIST`: scan each file named in LIST whole and print every hit
    // (a false-positive check on real code: every hit there is to be read).
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--files") {
        let list = std::fs::read_to_string(args.get(2).expect("a file listing paths")).expect("list");
        let (mut files, mut lines, mut hits) = (0, 0, 0);
        for path in list.lines() {
            let Ok(text) = std::fs::read_to_string(path) else { continue };
            files += 1;
            lines += text.lines().count();
            for h in agent_os_secret_rules::scan(&text) {
                hits += 1;
                println!("{path}:{}: {} ({})", h.line + 1, h.what, h.rule);
            }
        }
        println!("{files} files, {lines} lines, {hits} hits");
        return;
    }
    // Cost of one scan of a typical config file: the first includes compiling
    // the patterns its lines need (what each fresh persona instance pays), the
    // second is warm.
    let sample = include_str!("../src/lib.rs");
    let t = std::time::Instant::now();
    let _ = agent_os_secret_rules::scan(sample);
    let first = t.elapsed();
    let t = std::time::Instant::now();
    let _ = agent_os_secret_rules::scan(sample);
    let warm = t.elapsed();
    println!(
        "scan of {} lines: first {:.2} ms (patterns compiled on demand), warm {:.2} ms",
        sample.lines().count(),
        first.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3
    );
    let dir = std::env::args().nth(1).unwrap_or_else(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/analyses/secrets");
        root.to_string()
    });
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    // family -> (tp, positives, fp, negatives)
    let mut figures: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut misses = Vec::new();
    let verbose = std::env::var_os("VERBOSE").is_some();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("sample file");
        for (n, line) in text.lines().enumerate() {
            let Some((label, rest)) = line.split_once(' ') else { continue };
            if label != "+" && label != "-" {
                continue;
            }
            let Some((family, sample)) = rest.split_once(' ') else { continue };
            let sample = sample.replace('⏎', "\n");
            let found = !agent_os_secret_rules::scan(&sample).is_empty();
            let f = figures.entry(family.to_string()).or_default();
            if label == "+" {
                f[1] += 1;
                if found {
                    f[0] += 1;
                } else {
                    misses.push(format!("missed  {}:{} {sample}", path.display(), n + 1));
                }
            } else {
                f[3] += 1;
                if found {
                    f[2] += 1;
                    misses.push(format!("flagged {}:{} {sample}", path.display(), n + 1));
                }
            }
        }
    }
    println!(
        "secrets benchmark: {} rules, {} services\n",
        agent_os_secret_rules::rule_count(),
        agent_os_secret_rules::services().len()
    );
    println!("{:<16} {:>9} {:>8} {:>9} {:>8}", "family", "positives", "recall", "negatives", "FP rate");
    let mut total = [0usize; 4];
    for (family, f) in &figures {
        for k in 0..4 {
            total[k] += f[k];
        }
        println!("{family:<16} {:>9} {:>8} {:>9} {:>8}", f[1], ratio(f[0], f[1]), f[3], ratio(f[2], f[3]));
    }
    println!(
        "{:<16} {:>9} {:>8} {:>9} {:>8}",
        "all",
        total[1],
        ratio(total[0], total[1]),
        total[3],
        ratio(total[2], total[3])
    );
    if verbose {
        for m in &misses {
            println!("{m}");
        }
    } else if !misses.is_empty() {
        println!("\n{} wrong; VERBOSE=1 lists them", misses.len());
    }
}

fn ratio(a: usize, b: usize) -> String {
    if b == 0 { "-".into() } else { format!("{:.3}", a as f64 / b as f64) }
}
