//! Line checks an architect cares about: global mutable state, one lock
//! around a shared map, and blocking sleeps.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::context::{Language, SourceFile};

/// Global mutable state, coarse locks and blocking sleeps in non-test code, with their file and line.
pub fn analyse(files: &[SourceFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files {
        for line in f.lines() {
            if line.in_test || line.comment {
                continue;
            }
            let t = line.text.trim();
            let found = if is_global_mutable(t, f.language) {
                Some((
                    Severity::High,
                    "Global mutable state",
                    "Shared mutable globals couple modules and break under concurrency; pass state explicitly.",
                ))
            } else if t.contains("Mutex<HashMap") || t.contains("RwLock<HashMap") {
                Some((
                    Severity::Low,
                    "Single lock around a shared map",
                    "One lock serialises every caller; consider sharding or a concurrent map if it is hot.",
                ))
            } else if t.contains("thread::sleep") || t.contains("time.sleep(") && f.language != Language::Rust {
                Some((
                    Severity::Medium,
                    "Blocking sleep",
                    "A blocking sleep stalls the thread; in async code use the runtime timer.",
                ))
            } else {
                None
            };
            if let Some((severity, title, detail)) = found {
                let title = match &f.path {
                    Some(p) => format!("{title} in `{p}`"),
                    None => title.to_string(),
                };
                out.push(Finding::new(severity, title, detail).at_line(line.number));
            }
        }
    }
    out
}

/// `static mut`, a `static` holding a lock or cell, or Python's `global` statement.
fn is_global_mutable(t: &str, language: Language) -> bool {
    let rust = matches!(language, Language::Rust | Language::Unknown);
    let t = t.trim_start_matches("pub(crate) ").trim_start_matches("pub ");
    (rust
        && (t.starts_with("static mut ")
            || (t.starts_with("static ") && ["Mutex<", "RwLock<", "RefCell<", "Cell<"].iter().any(|k| t.contains(k)))))
        || (matches!(language, Language::Python | Language::Unknown) && t.starts_with("global ") && !t.contains('='))
}

#[cfg(test)]
mod tests {
    use agent_os_persona_sdk::context::Origin;

    use super::*;
    use agent_os_persona_sdk::testing::awkward_files;

    #[test]
    fn survives_awkward_input() {
        let _ = analyse(&awkward_files());
    }

    #[test]
    fn global_state_locks_and_sleeps_with_file_and_line() {
        let text = "static mut COUNT: u32 = 0;\npub static CACHE: Mutex<HashMap<String, u32>> = todo();\nstatic NAME: &str = \"x\";\nfn f() {\n    std::thread::sleep(D);\n}\n#[cfg(test)]\nmod tests { static mut T: u8 = 0; }\n";
        let f = analyse(&[SourceFile::new(Some("src/state.rs".into()), text, Origin::Read)]);
        let got: Vec<(&str, Option<usize>)> = f.iter().map(|f| (f.title.as_str(), f.line)).collect();
        assert_eq!(
            got,
            [
                ("Global mutable state in `src/state.rs`", Some(1)),
                ("Global mutable state in `src/state.rs`", Some(2)),
                ("Blocking sleep in `src/state.rs`", Some(5)),
            ]
        );
        let py =
            SourceFile::new(Some("app/a.py".into()), "def f():\n    global counter\n    time.sleep(1)\n", Origin::Read);
        assert_eq!(analyse(&[py]).len(), 2);
    }

    #[test]
    fn anonymous_context_keeps_the_context_line() {
        let ctx =
            "fn refund(q: &PaymentQueue) {\n    let msg = q.read_direct();\n    std::thread::sleep(ONE_SECOND);\n}\n";
        let f = analyse(&[SourceFile::new(None, ctx, Origin::Context)]);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].title.as_str(), f[0].line), ("Blocking sleep", Some(3)));
    }
}
