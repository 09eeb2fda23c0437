//! Software Architect: maps the internal module dependencies of the given
//! material (fan-in, fan-out, cycles) and flags global mutable state, then
//! reviews with the project's architecture standards.

mod deps;
mod state;

use agent_os_persona_sdk::flow::{self, Analysis, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, context, export_persona, host};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("architect", "Software Architect", "architecture", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Software Architect", domain: "architecture", standards_limit: 5, max_tokens: 2048 };
        flow::run(&req, &plan, |ctx| {
            let mut material = context::material(ctx, |path| host::read_file(path).ok());
            // Go imports are resolved against the module path in go.mod.
            let files = &mut material.files;
            let has_go = files.iter().any(|f| f.language == context::Language::Go);
            if has_go && !files.iter().any(|f| f.path.as_deref() == Some("go.mod")) {
                if let Ok(text) = host::read_file("go.mod") {
                    files.push(context::SourceFile::new(Some("go.mod".into()), text, context::Origin::Read));
                }
            }
            let (table, mut findings) = deps::analyse(&material.files);
            findings.extend(state::analyse(&material.files));
            let analysis =
                Analysis::of(material, findings).checks(["import graph and cycles", "fan-out", "global mutable state"]);
            match table {
                Some(table) => analysis.section("Module dependencies", table),
                None => analysis,
            }
        })
    }
}

export_persona!(P);
