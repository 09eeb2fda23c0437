//! Data Engineer: finds schema and migration risks, statements touching
//! every row and SQL built from strings in the given material, then reviews
//! with the project's data standards.

#[cfg(test)]
mod bench;
mod migrate;
mod schema;

use agent_os_persona_sdk::flow::{self, Analysis, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, context, export_persona, host};

struct P;

impl Persona for P {
    fn describe() -> Info {
        Info::new("data", "Data Engineer", "data", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Data Engineer", domain: "data", standards_limit: 5, max_tokens: 2048 };
        flow::run(&req, &plan, |ctx| {
            let read = |path: &str| host::read_file(path).ok();
            let material = context::material(ctx, read);
            let (findings, notes) = schema::analyse_with_notes(&material.files, read);
            let mut analysis = Analysis::of(material, findings).checks(["migration rules", "schema and SQL in code"]);
            analysis.notes.extend(notes);
            analysis
        })
    }
}

export_persona!(P);
