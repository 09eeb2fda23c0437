//! A persona's instructions for an agent finishing a delegated brief: sent
//! once per session, beside the first delegated brief of that persona in
//! check_persona_job's answer (`persona_instructions`), and served as the
//! resource `agent-os://personas/{id}/instructions` to read again. A brief
//! itself no longer repeats them.
//!
//! What is sent is the prompt condensed to what finishing a review needs:
//! its opening (the role), its severity guide and its output format. The
//! checklists in between are what the persona's own checks and the quoted
//! standards stand in for; the resource serves the whole prompt.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::personas::PersonaDef;
use crate::text::escape_short;

pub const PERSONAS: &str = "agent-os://personas/";

/// The resource a persona's instructions are read at.
pub fn uri(id: &str) -> String {
    format!("{PERSONAS}{id}/instructions")
}

/// The persona id of a [`uri`].
pub fn id_of(uri: &str) -> Option<&str> {
    let id = uri.strip_prefix(PERSONAS)?.strip_suffix("/instructions")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// What the agent is asked to do with the instructions.
const TAKE_THE_ROLE: &str = "Take on this role and finish the review from the task, the findings and the standards \
of the brief; read the files the task names. Review only what you were shown: never invent file contents, paths \
or line numbers.";

/// The prompt's role, severity guide and output format, and what to do
/// with them. A prompt without an `## Output format` section is kept whole.
pub fn condensed(prompt: &str) -> String {
    let prompt = prompt.trim();
    let Some(format_at) = prompt.find("\n## Output format") else {
        return format!("{prompt}\n\n{TAKE_THE_ROLE}");
    };
    let role = prompt[..prompt.find("\n## ").unwrap_or(prompt.len())].trim();
    let format = prompt[format_at..].trim();
    let format = format[3..].find("\n## ").map_or(format, |end| format[..end + 3].trim());
    let mut out = format!("{role}\n\n");
    if let Some(guide) = prompt.lines().map(str::trim).find(|l| l.starts_with("Severity guide")) {
        out.push_str(guide);
        out.push_str("\n\n");
    }
    out.push_str(TAKE_THE_ROLE);
    out.push_str(" (Condensed from the persona's prompt; the whole prompt, checklists included, is the resource ");
    out.push_str("`persona_instructions_uri`.)\n\n");
    out.push_str(format);
    out
}

/// The whole prompt, as the resource serves it. A persona that is not one
/// of ours says whose words they are.
pub fn resource_text(p: &PersonaDef) -> String {
    if p.builtin {
        return p.prompt.trim().to_string();
    }
    format!(
        "Instructions written by the author of the installed persona '{}', for the agent finishing its delegated briefs.\n\n{}",
        escape_short(&p.manifest.id, 40),
        p.prompt.trim()
    )
}

/// Whether a finished job's result is a delegated brief (no language model
/// wrote it): its title line says so.
pub fn is_delegated(result: &str) -> bool {
    result.lines().next().is_some_and(|l| l.to_ascii_lowercase().contains("delegated brief"))
}

/// The personas whose instructions this session was sent.
#[derive(Clone, Default)]
pub struct Told(Arc<Mutex<HashSet<String>>>);

impl Told {
    /// True the first time `id` is asked about in this session.
    pub fn first(&self, id: &str) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string())
    }
}

/// Adds the instructions to a check_persona_job answer `value` that carries
/// a delegated brief: the resource's URI always, the condensed text only
/// the session's first time for that persona.
pub fn add(value: &mut serde_json::Value, told: &Told, prompt_of: impl Fn(&str) -> Option<String>) {
    let Some(obj) = value.as_object_mut() else { return };
    if obj.get("status").and_then(|s| s.as_str()) != Some("complete") {
        return;
    }
    if !obj.get("result").and_then(|r| r.as_str()).is_some_and(is_delegated) {
        return;
    }
    let Some(id) = obj.get("persona").and_then(|p| p.as_str()).map(str::to_string) else { return };
    let Some(prompt) = prompt_of(&id) else { return };
    obj.insert("persona_instructions_uri".into(), uri(&id).into());
    if told.first(&id) {
        obj.insert("persona_instructions".into(), condensed(&prompt).into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PROMPT: &str = "# QA\n\nYou are the QA reviewer.\n\n## What you check\n\n- a long checklist\n\nSeverity guide: critical means a core behaviour is untested.\n\n## Output format\n\n1. **Verdict:** one line.\n";

    #[test]
    fn the_prompt_is_condensed_to_role_severity_and_format() {
        let out = condensed(PROMPT);
        assert!(out.starts_with("# QA\n\nYou are the QA reviewer.\n\n"), "{out}");
        assert!(out.contains("Severity guide: critical means a core behaviour is untested."), "{out}");
        assert!(out.ends_with("## Output format\n\n1. **Verdict:** one line."), "{out}");
        assert!(!out.contains("a long checklist"), "{out}");
        assert_eq!(condensed("Just a prompt."), format!("Just a prompt.\n\n{TAKE_THE_ROLE}"));
    }

    #[test]
    fn every_core_prompt_keeps_its_severity_guide_and_format() {
        for p in crate::personas::Registry::builtin().all() {
            let out = condensed(&p.prompt);
            assert!(out.contains("Severity guide:"), "{}: {out}", p.manifest.id);
            assert!(out.contains("## Output format"), "{}: {out}", p.manifest.id);
            assert!(out.len() * 2 < p.prompt.len(), "{}: the condensed prompt is not shorter", p.manifest.id);
        }
    }

    #[test]
    fn sent_with_the_first_delegated_brief_of_each_persona_only() {
        let told = Told::default();
        let prompt_of = |id: &str| (id != "gone").then(|| PROMPT.to_string());
        let done = |persona: &str, result: &str| json!({ "status": "complete", "persona": persona, "result": result, "job_id": "j" });
        let brief = "# QA review — delegated brief\n\n...";
        let mut first = done("qa", brief);
        add(&mut first, &told, prompt_of);
        assert_eq!(first["persona_instructions_uri"], "agent-os://personas/qa/instructions");
        assert!(first["persona_instructions"].as_str().unwrap().contains("Severity guide"), "{first}");
        let mut again = done("qa", brief);
        add(&mut again, &told, prompt_of);
        assert_eq!(again["persona_instructions_uri"], "agent-os://personas/qa/instructions");
        assert!(again.get("persona_instructions").is_none(), "sent once per session: {again}");
        // Another persona's first brief carries its own.
        let mut sre = done("sre", "# SRE review — delegated brief\n");
        add(&mut sre, &told, prompt_of);
        assert!(sre.get("persona_instructions").is_some(), "{sre}");
        // A model's review, a job still running, an unknown persona: nothing added.
        for mut v in [
            done("architect", "# Architect review\n\nLooks fine."),
            json!({ "status": "running", "persona": "data", "job_id": "j" }),
            done("gone", brief),
        ] {
            let before = v.clone();
            add(&mut v, &told, prompt_of);
            assert_eq!(v, before);
        }
        // A new session is told again.
        let mut other = done("qa", brief);
        add(&mut other, &Told::default(), prompt_of);
        assert!(other.get("persona_instructions").is_some(), "{other}");
    }

    #[test]
    fn uris_name_one_persona() {
        assert_eq!(id_of(&uri("security")), Some("security"));
        for bad in
            ["agent-os://personas//instructions", "agent-os://personas/a/b/instructions", "agent-os://personas/a"]
        {
            assert_eq!(id_of(bad), None, "{bad}");
        }
    }
}
