//! Software Architect: reviews with the project's architecture standards.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::flow::{self, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, export_persona};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("architect", "Software Architect", "architecture", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Software Architect", domain: "architecture", standards_limit: 5, max_tokens: 2048 };
        flow::run(&req, &plan, checks)
    }
}

/// Lines of the context that match a pattern worth a reviewer's look.
fn checks(context: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (idx, line) in context.lines().enumerate() {
        let l = line.trim();
        for (needle, severity, title, detail) in PATTERNS {
            if l.contains(needle) {
                out.push(Finding::new(*severity, *title, *detail).at_line(idx + 1));
                break;
            }
        }
    }
    out
}

const PATTERNS: &[(&str, Severity, &str, &str)] = &[
    (
        "static mut ",
        Severity::High,
        "Global mutable state",
        "Shared mutable globals couple modules and break under concurrency; pass state explicitly.",
    ),
    (
        "Mutex<HashMap",
        Severity::Low,
        "Single lock around a shared map",
        "One lock serialises every caller; consider sharding or a concurrent map if it is hot.",
    ),
    (
        "thread::sleep",
        Severity::Medium,
        "Blocking sleep",
        "A blocking sleep stalls the thread; in async code use the runtime timer.",
    ),
];

export_persona!(P);
