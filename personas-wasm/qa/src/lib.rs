//! QA Engineer: reviews with the project's testing standards.

use agent_os_persona_sdk::brief::{Finding, Severity};
use agent_os_persona_sdk::flow::{self, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, export_persona};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("qa", "QA Engineer", "testing", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "QA Engineer", domain: "testing", standards_limit: 5, max_tokens: 2048 };
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
        "#[ignore]",
        Severity::Medium,
        "Ignored test",
        "An ignored test hides a regression; fix it or delete it with a reason.",
    ),
    (
        ".skip(",
        Severity::Medium,
        "Skipped test",
        "A skipped test hides a regression; fix it or delete it with a reason.",
    ),
    (
        "sleep(",
        Severity::Medium,
        "Sleep in a test",
        "Fixed sleeps make tests slow and flaky; wait for the condition instead.",
    ),
    ("assert!(true", Severity::High, "Assertion that cannot fail", "The test checks nothing."),
];

export_persona!(P);
