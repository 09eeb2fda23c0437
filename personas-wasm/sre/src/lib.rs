//! Site Reliability Engineer: reviews with the project's operations standards.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::flow::{self, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, export_persona};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("sre", "Site Reliability Engineer", "operations", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan =
            Plan { name: "Site Reliability Engineer", domain: "operations", standards_limit: 5, max_tokens: 2048 };
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
        "reqwest::get(",
        Severity::Medium,
        "HTTP call without a timeout",
        "Set a timeout so a slow dependency cannot hang the service.",
    ),
    (
        "requests.get(",
        Severity::Medium,
        "HTTP call without a timeout",
        "Pass timeout= so a slow dependency cannot hang the service.",
    ),
    ("println!(", Severity::Low, "Unstructured log line", "Use structured logging with levels and fields."),
    ("print(", Severity::Low, "Unstructured log line", "Use structured logging with levels and fields."),
    ("loop {", Severity::Low, "Unbounded retry or loop", "Bound retries and add backoff with jitter."),
];

export_persona!(P);
