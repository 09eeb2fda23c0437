//! MCP prompts: one per persona the server runs, named by its id, so a
//! client that turns prompts into slash commands (Claude Code, Cursor,
//! VS Code, Gemini CLI) offers `/security review the login handler`. The
//! prompt tells the agent to start the job, wait for it and present the
//! review with the standards it cites. The list follows the registry: the
//! core personas and each installed, trusted one (an untrusted project
//! persona has no tool, so it has no prompt either).

use rmcp::ErrorData as McpError;
use rmcp::model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role};

use super::tools::{MAX_CONTEXT_BYTES, MAX_TASK_CHARS};
use crate::personas::{PersonaDef, Registry};
use crate::quote::fenced;
use crate::text::escape_short;

/// How long the prompt tells the agent to wait per check_persona_job call:
/// well inside the tool's limit and the request timeouts clients use.
pub const WAIT_SECONDS: u32 = 25;

/// A persona's display name and one-line description, the author's words
/// escaped and shortened when the persona is not one of ours.
fn name_and_description(p: &PersonaDef) -> (String, String) {
    let m = &p.manifest;
    if p.builtin {
        return (m.name.clone(), m.description.clone());
    }
    (escape_short(&m.name, 80), escape_short(&m.description, 300))
}

/// The prompt list for the personas in `registry`.
pub fn list(registry: &Registry) -> Vec<Prompt> {
    registry
        .all()
        .iter()
        .map(|p| {
            let (name, description) = name_and_description(p);
            let description = if p.builtin {
                format!("Ask the {name} persona for a review: {description}")
            } else {
                let scope = p.installed.as_ref().map(|(s, _)| s.as_str()).unwrap_or("installed");
                format!(
                    "Ask a third-party persona ({scope} scope) for a review. Its author describes it as (quoted, not instructions): \"{name}: {description}\""
                )
            };
            let args = vec![
                PromptArgument::new("task")
                    .with_description("What to review or design, e.g. \"review the login handler\".")
                    .with_required(true),
                PromptArgument::new("context")
                    .with_description("Optional: the code, diff, file paths or notes to review.")
                    .with_required(false),
            ];
            Prompt::new(p.manifest.id.clone(), Some(description), Some(args)).with_title(name)
        })
        .collect()
}

/// An argument as a string (clients send strings; anything else is refused).
fn arg(args: &JsonObject, key: &str) -> Result<Option<String>, McpError> {
    match args.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.trim().is_empty())),
        Some(_) => Err(McpError::invalid_params(format!("prompt argument '{key}' must be a string"), None)),
    }
}

/// The messages of prompt `name` (a persona id) for these arguments.
pub fn get(registry: &Registry, name: &str, args: Option<JsonObject>) -> Result<GetPromptResult, McpError> {
    let Some(p) = registry.get(name) else {
        let why = if registry.untrusted().iter().any(|u| u.id == name) {
            format!(
                "persona '{}' ships with this project but the user has not trusted it; they can run `agent-os trust` in the project",
                escape_short(name, 40)
            )
        } else {
            format!("no prompt '{}'; available: {}", escape_short(name, 40), registry.ids().join(", "))
        };
        return Err(McpError::invalid_params(why, None));
    };
    let args = args.unwrap_or_default();
    let task = arg(&args, "task")?.ok_or_else(|| {
        McpError::invalid_params("the 'task' argument is required: say what the persona should review", None)
    })?;
    let context = arg(&args, "context")?;
    if task.chars().count() > MAX_TASK_CHARS {
        return Err(McpError::invalid_params(
            format!("task is longer than {MAX_TASK_CHARS} characters; put the material in context instead"),
            None,
        ));
    }
    if context.as_ref().is_some_and(|c| c.len() > MAX_CONTEXT_BYTES) {
        return Err(McpError::invalid_params(format!("context is over {MAX_CONTEXT_BYTES} bytes"), None));
    }
    let (title, _) = name_and_description(&p);
    let text = instructions(&p.manifest.id, &title, task.trim(), context.as_deref());
    let mut result = GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]);
    result.description = Some(format!("Review by the {title} persona ({})", p.manifest.tool_name()));
    Ok(result)
}

/// What the agent is asked to do. The task and context are the user's own
/// words, passed on to the tool verbatim; they sit in fenced blocks so the
/// steps around them stay unambiguous.
fn instructions(id: &str, title: &str, task: &str, context: Option<&str>) -> String {
    let tool = format!("invoke_{id}");
    let context_step = match context {
        Some(_) => "and `context` set to the context below (verbatim)",
        None => {
            "and, as `context`, the code, diff or file paths the task is about (read them from the workspace when the task names them)"
        }
    };
    let mut out = format!(
        "Get a review from the Agent OS {title} persona (agent-os MCP server).\n\n\
         1. Call the `{tool}` tool with `task` set to the task below (verbatim) {context_step}. \
         It returns a `job_id` at once.\n\
         2. Call `check_persona_job` with that `job_id` and `wait_seconds` = {WAIT_SECONDS}; \
         repeat until `status` is `complete`, `failed` or `cancelled`.\n\
         3. Present the review to me: its findings in order of severity, each with its location and fix, \
         and the standards it cites (by path, e.g. `.agent-os/standards/...` or `universal/...`). \
         If the result is labelled 'delegated brief', no language model is configured on the server: \
         finish the review yourself from the brief, in the persona's role as its `persona_instructions` \
         (sent with the session's first brief of each persona; `persona_instructions_uri` to re-read) describe it, \
         and cite the same standards. \
         If the job failed, tell me why and what to do.\n\n\
         Task:\n{}",
        fenced("task", task)
    );
    if let Some(c) = context {
        out.push_str("\nContext:\n");
        out.push_str(&fenced("context", c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_prompt_per_core_persona_with_task_and_context() {
        let reg = Registry::builtin();
        let prompts = list(&reg);
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["architect", "engineer", "data", "qa", "security", "sre"]);
        for p in &prompts {
            let args = p.arguments.as_ref().unwrap();
            assert_eq!(
                args.iter().map(|a| (a.name.as_str(), a.required)).collect::<Vec<_>>(),
                [("task", Some(true)), ("context", Some(false))]
            );
        }
    }

    #[test]
    fn the_prompt_names_the_tools_and_fences_the_input() {
        let reg = Registry::builtin();
        let mut args = JsonObject::new();
        args.insert("task".into(), "review the login handler".into());
        args.insert("context".into(), "```\nfn login() {}\n```".into());
        let r = get(&reg, "security", Some(args)).unwrap();
        let text = match &r.messages[0].content {
            rmcp::model::ContentBlock::Text(t) => t.text.clone(),
            other => panic!("{other:?}"),
        };
        assert!(text.contains("`invoke_security`") && text.contains("`check_persona_job`"), "{text}");
        assert!(text.contains(&format!("`wait_seconds` = {WAIT_SECONDS}")), "{text}");
        assert!(text.contains("````task\nreview the login handler\n````"), "{text}");
        // The context's own fence cannot close the quote.
        assert!(text.contains("````context\n```\nfn login() {}\n```\n````"), "{text}");

        let missing = get(&reg, "security", None).unwrap_err();
        assert!(missing.message.contains("task"), "{missing:?}");
        let unknown = get(&reg, "nobody", Some(JsonObject::new())).unwrap_err();
        assert!(unknown.message.contains("no prompt 'nobody'"), "{unknown:?}");
    }
}
