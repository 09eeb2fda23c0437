//! The review flow the core personas share, usable by any persona:
//! search the domain's standards, run the persona's own checks, then ask the
//! language model — or return a delegated brief when there is none.

use std::fmt::Write as _;

use crate::brief::{DelegatedBrief, Finding};
use crate::{HostError, Message, Phase, Request, host};

/// What distinguishes one persona's review from another's.
pub struct Plan<'a> {
    /// Display name, e.g. "Security Engineer".
    pub name: &'a str,
    /// Standards domain searched first, e.g. "security".
    pub domain: &'a str,
    /// Most standards passages to retrieve.
    pub standards_limit: u32,
    /// Largest answer to ask the language model for, in tokens.
    pub max_tokens: u32,
}

/// Runs the shared flow with `checks` as the persona's deterministic analysis
/// of the request's context.
pub fn run(req: &Request, plan: &Plan<'_>, checks: impl FnOnce(&str) -> Vec<Finding>) -> Result<String, String> {
    run_redacted(req, plan, checks, str::to_string)
}

/// [`run`], with `redact` applied to the context before the language model
/// sees it (the checks still see the original).
pub fn run_redacted(
    req: &Request,
    plan: &Plan<'_>,
    checks: impl FnOnce(&str) -> Vec<Finding>,
    redact: impl FnOnce(&str) -> String,
) -> Result<String, String> {
    if req.task.trim().is_empty() {
        return Err("the task is empty; say what to review".into());
    }
    host::report_progress(Phase::Initializing, 5, "Reading the request");

    host::report_progress(Phase::Searching, 15, &format!("Searching {} standards", plan.domain));
    let mut brief = DelegatedBrief::new(plan.name);
    let query = format!("{} {}", plan.domain, req.task);
    match host::search_standards(&query, plan.standards_limit) {
        Ok(hits) => brief = brief.standards(hits),
        Err(e) => brief = brief.note(format!("Standards search was not available: {}", e.message())),
    }

    host::report_progress(Phase::Analyzing, 40, "Running automated checks");
    let context = req.context.as_deref().unwrap_or("");
    brief = brief.findings(checks(context));

    host::report_progress(Phase::Generating, 70, "Asking the language model for the review");
    let redacted = req.context.as_deref().map(redact);
    let messages = messages(req, redacted.as_deref(), &brief);
    match host::complete(&messages, plan.max_tokens) {
        Ok(done) => {
            host::report_progress(Phase::Generating, 95, "Review written");
            Ok(brief.with_review(&done.text))
        }
        Err(HostError::Unavailable(why)) | Err(HostError::AccessDenied(why)) => {
            host::report_progress(Phase::Generating, 90, "No language model; writing a delegated brief");
            Ok(brief.delegated(req, &format!("no language model is available to this persona ({why}).")))
        }
        Err(e) => Err(format!("the language model call failed: {}", e.message())),
    }
}

fn messages(req: &Request, context: Option<&str>, brief: &DelegatedBrief) -> Vec<Message> {
    let mut user = format!("Task: {}\n", req.task.trim());
    if let Some(ctx) = context {
        let _ = write!(user, "\nContext:\n```\n{}\n```\n", ctx);
    }
    if let Some(fb) = &req.feedback {
        let _ = write!(user, "\nFeedback from the human reviewer: {fb}\n");
    }
    let findings = brief.sorted_findings();
    if !findings.is_empty() {
        user.push_str("\nAutomated checks found:\n");
        for f in findings {
            let at = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let _ = writeln!(user, "- {}{at}: {} {}", f.severity.as_str(), f.title, f.detail);
        }
    }
    user.push_str("\nWrite the review in the output format of your instructions. Cite every standard you apply by its path and section.\n");
    // The standards go into the system message so the model treats them as
    // the project's rules.
    let mut system = req.prompt.trim().to_string();
    let _ = write!(system, "\n\n# Standards retrieved for this task\n\n{}", brief.standards_for_prompt());
    vec![Message::system(system), Message::user(user)]
}
