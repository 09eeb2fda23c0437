//! Security Engineer: finds hard-coded secrets and risky calls in the given
//! material (the context and the project files it names) before any
//! language model sees it, then reviews with the project's security
//! standards.

mod hashing;
mod javascript;
mod python;
mod risky;
mod secrets;
mod sql;

use agent_os_persona_sdk::context;
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
                // Each file is scanned with its own line numbers and named in
                // the finding; what the context holds outside those files
                // (prose, an unlabelled paste) is scanned with the context's.
                let mut findings = Vec::new();
                for f in &material.files {
                    findings.extend(secrets::scan_file(f));
                }
                let covered: Vec<&str> = material.files.iter().map(|f| f.text.as_str()).collect();
                findings.extend(secrets::scan(ctx).into_iter().filter(|found| {
                    let line = found.line.and_then(|l| ctx.lines().nth(l - 1)).unwrap_or("").trim();
                    !line.is_empty() && !covered.iter().any(|t| t.contains(line))
                }));
                findings.extend(risky::scan(&material.files));
                Analysis::of(material, findings).checks(["secret scan", "risky calls"])
            },
            secrets::redact_text,
        )
    }
}

export_persona!(Security);


