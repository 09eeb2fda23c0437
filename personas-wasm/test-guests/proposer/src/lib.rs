//! A test persona that proposes a standard through the host. The task names
//! the topic (`topic=<slug>`) and, optionally, a domain (`domain=<slug>`,
//! default testing) and a line to put in the Examples section
//! (`example=<text>` up to the end of the line). When the job carries
//! reviewer feedback, the feedback is added under "Revision notes", so a
//! test can see a revision reach the new proposal.
use agent_os_persona_sdk::{Info, Persona, Request, export_persona, host};

struct Proposer;

fn field<'a>(task: &'a str, key: &str) -> Option<&'a str> {
    let start = task.find(key)? + key.len();
    let rest = &task[start..];
    let end = if key == "example=" {
        rest.find('\n').unwrap_or(rest.len())
    } else {
        rest.find(char::is_whitespace).unwrap_or(rest.len())
    };
    Some(&rest[..end])
}

impl Persona for Proposer {
    fn describe() -> Info {
        Info::new("proposer", "Proposing test persona", "testing", "0.1.0")
    }
    fn review(req: Request) -> Result<String, String> {
        let topic = field(&req.task, "topic=").unwrap_or("guest-pattern");
        let domain = field(&req.task, "domain=").unwrap_or("testing");
        let example = field(&req.task, "example=").unwrap_or("assert_eq!(retry_budget(3), 3);");
        let mut content = format!(
            "# Flaky test budget\n\n## Context\nFlaky tests hide real failures; this project bounds retries.\n\n## Pattern\nA test may be retried at most twice, and every retry is logged.\n\n## Examples\n{example}\n\n## Anti-patterns\nRetrying until green; marking tests ignored without an issue.\n"
        );
        if let Some(fb) = &req.feedback {
            content.push_str(&format!("\n## Revision notes\n{fb}\n"));
        }
        let id = host::propose_standard(domain, topic, &content)
            .map_err(|e| format!("proposal refused: {}", e.message()))?;
        Ok(format!("proposed standard {domain}/{topic} as {id}"))
    }
}

export_persona!(Proposer);
