//! Site Reliability Engineer: finds HTTP calls without timeouts, servers
//! without a health check and print-style logging in the given material,
//! then reviews with the project's operations standards.

mod javascript;
mod python;
mod readiness;

use agent_os_persona_sdk::flow::{self, Analysis, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, context, export_persona, host};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("sre", "Site Reliability Engineer", "operations", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan =
            Plan { name: "Site Reliability Engineer", domain: "operations", standards_limit: 5, max_tokens: 2048 };
        flow::run(&req, &plan, |ctx| {
            let material = context::material(ctx, |path| host::read_file(path).ok());
            let findings = readiness::analyse(&material.files);
            Analysis::of(material, findings).checks(["client timeouts", "health endpoint", "debug mode", "logging"])
        })
    }
}

export_persona!(P);
