//! Data Engineer: reviews with the project's data standards.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::flow::{self, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, export_persona};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("data", "Data Engineer", "data", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Data Engineer", domain: "data", standards_limit: 5, max_tokens: 2048 };
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
        "DROP TABLE",
        Severity::High,
        "Destructive migration",
        "Dropping a table loses data; migrate in expand/contract steps with a backup.",
    ),
    (
        "DROP COLUMN",
        Severity::High,
        "Destructive migration",
        "Dropping a column breaks readers still deployed; remove usages first, drop later.",
    ),
    ("SELECT *", Severity::Low, "SELECT *", "Select the columns you need so schema changes do not break consumers."),
    (
        "ALTER TABLE",
        Severity::Medium,
        "Schema change",
        "Check the change is backward compatible and does not lock a large table.",
    ),
];

export_persona!(P);
