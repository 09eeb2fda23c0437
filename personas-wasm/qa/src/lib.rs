//! QA Engineer: finds source files without tests and test smells in the
//! given material, then reviews with the project's testing standards.

mod coverage;

use agent_os_persona_sdk::flow::{self, Analysis, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, context, export_persona, host};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("qa", "QA Engineer", "testing", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "QA Engineer", domain: "testing", standards_limit: 5, max_tokens: 2048 };
        flow::run(&req, &plan, |ctx| {
            let read = |path: &str| host::read_file(path).ok();
            let material = context::material(ctx, read);
            let findings = coverage::analyse(&material.files, read);
            Analysis::of(material, findings).checks(["tests per source file", "test smells"])
        })
    }
}

export_persona!(P);
