//! Software Engineer: counts panic paths and swallowed errors in the given
//! material, then reviews with the project's development standards.

mod robustness;
mod rust_ast;

use agent_os_persona_sdk::flow::{self, Analysis, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, context, export_persona, host};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("engineer", "Software Engineer", "development", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Software Engineer", domain: "development", standards_limit: 5, max_tokens: 2048 };
        flow::run(&req, &plan, |ctx| {
            let material = context::material(ctx, |path| host::read_file(path).ok());
            let findings = robustness::analyse(&material.files);
            Analysis::of(material, findings).checks(["panic paths", "slices and underflow", "discarded errors"])
        })
    }
}

export_persona!(P);
