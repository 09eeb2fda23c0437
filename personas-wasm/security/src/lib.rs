//! Security Engineer: finds hard-coded secrets in the given context before
//! any language model sees it, then reviews with the project's security
//! standards.

mod secrets;

use agent_os_persona_sdk::flow::{self, Plan};
use agent_os_persona_sdk::{Info, Persona, Request, export_persona};

struct Security;

impl Persona for Security {
    fn describe() -> Info {
        Info::new("security", "Security Engineer", "security", env!("CARGO_PKG_VERSION"))
    }

    fn review(req: Request) -> Result<String, String> {
        let plan = Plan { name: "Security Engineer", domain: "security", standards_limit: 5, max_tokens: 2048 };
        // Secrets found in the context are blanked before a model sees it.
        flow::run_redacted(&req, &plan, secrets::scan, secrets::redact_text)
    }
}

export_persona!(Security);
