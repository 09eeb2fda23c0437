//! A test persona that traps: it panics, which aborts the component.
use agent_os_persona_sdk::{Info, Persona, Request, export_persona};

struct Trap;

impl Persona for Trap {
    fn describe() -> Info {
        Info::new("trap", "Trapping test persona", "testing", "0.1.0")
    }
    fn review(req: Request) -> Result<String, String> {
        if req.task == "ok" {
            return Ok("fine".into());
        }
        panic!("deliberate failure for the test suite");
    }
}

export_persona!(Trap);
