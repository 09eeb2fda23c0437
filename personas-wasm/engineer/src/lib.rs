//! Software Engineer: reviews with the project's development standards.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::flow::{self, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, export_persona};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("engineer", "Software Engineer", "development", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Software Engineer", domain: "development", standards_limit: 5, max_tokens: 2048 };
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
        ".unwrap()",
        Severity::Medium,
        "unwrap() can panic",
        "Return or handle the error instead of panicking on bad input.",
    ),
    (".expect(", Severity::Low, "expect() can panic", "Make sure the invariant truly holds, or propagate the error."),
    ("panic!(", Severity::Medium, "Explicit panic", "A library should return an error the caller can handle."),
    ("todo!(", Severity::Medium, "Unfinished code", "todo!() panics when reached."),
    ("except:", Severity::Medium, "Bare except", "Catching everything hides bugs; catch the specific exception."),
    ("catch (e) {}", Severity::Medium, "Swallowed error", "An empty catch loses the failure; log or rethrow it."),
];

export_persona!(P);
