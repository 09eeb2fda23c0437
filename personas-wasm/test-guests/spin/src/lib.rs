//! A test persona that never returns unless asked to: it reports progress and then spins.
use agent_os_persona_sdk::{Info, Persona, Phase, Request, export_persona, host};

struct Spin;

impl Persona for Spin {
    fn describe() -> Info {
        Info::new("spin", "Looping test persona", "testing", "0.1.0")
    }
    fn review(req: Request) -> Result<String, String> {
        host::report_progress(Phase::Analyzing, 10, "spinning");
        if req.task == "ok" {
            return Ok("fine".into());
        }
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

export_persona!(Spin);
