//! Security Engineer: finds hard-coded secrets and risky calls in the given
//! material (the context and the project files it names) before any
//! language model sees it, then reviews with the project's security
//! standards.

mod risky;
mod secrets;

use agent_os_persona_sdk::context::{self, Origin};
use agent_os_persona_sdk::flow::{self, Analysis, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, export_persona, host};

struct Security;

impl Persona for Security {
    fn describe() -> Info {
        Info::new("security", "Security Engineer", "security", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Security Engineer", domain: "security", standards_limit: 5, max_tokens: 2048 };
        // Secrets found in the context and in the files read are blanked
        // before a model sees them.
        flow::run_redacted(
            &req,
            &plan,
            |ctx| {
                let material = context::material(ctx, |path| host::read_file(path).ok());
                // The context itself is scanned whole, prose included, with
                // its own line numbers; files read from the project are
                // scanned each with theirs.
                let mut findings = secrets::scan(ctx);
                for f in material.files.iter().filter(|f| f.origin == Origin::Read) {
                    findings.extend(secrets::scan(&f.text).into_iter().map(|mut found| {
                        found.line = found.line.map(|l| f.line_number(l - 1));
                        found.title = format!("{} in `{}`", found.title, f.name());
                        found
                    }));
                }
                findings.extend(risky::scan(&material.files));
                Analysis::of(material, findings)
            },
            secrets::redact_text,
        )
    }
}

export_persona!(Security);
