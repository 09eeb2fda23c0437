//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) over the
//! durable job store: when a client declares the extension, `invoke_*`
//! answers with a task whose id is the job id, and `tasks/get` /
//! `tasks/cancel` read and cancel that job. A task outlives the connection
//! and the server process exactly as the job does (SQLite). Clients without
//! the extension keep the `job_id` answer and `check_persona_job`.
//!
//! rmcp 3.11 routes `tasks/*` and refuses them (-32021) to clients that did
//! not declare the extension; what a task *is* is ours to say, here.

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, ContentBlock, CreateTaskResult, DetailedTask, Task, TaskPayload, TaskStatus};
use serde_json::{Value, json};

use super::instructions::Told;
use super::tools::job_view;
use crate::app::App;
use crate::jobs::{Job, JobsError, Status};
use crate::personas::Registry;
use crate::time::iso8601;

/// How often a client should poll `tasks/get`: reviews take seconds to minutes.
pub const POLL_INTERVAL_MS: u64 = 2_000;

fn error(e: JobsError, task_id: &str) -> McpError {
    match e {
        JobsError::NotFound(_) => McpError::invalid_params(format!("no task with id '{task_id}'"), None),
        other => McpError::internal_error(other.to_string(), None),
    }
}

/// The task view of a job. Tasks carry no TTL (`null`): a job is kept until
/// the job retention prunes finished ones (30 days unless configured), and
/// a pruned task then reads as unknown.
fn task_of(job: &Job) -> Task {
    let status = match job.status {
        Status::Pending | Status::Running => TaskStatus::Working,
        // A review that failed is a tool call that returned isError: true,
        // which the extension counts as completed (failed means a JSON-RPC error).
        Status::Complete | Status::Failed => TaskStatus::Completed,
        Status::Cancelled => TaskStatus::Cancelled,
    };
    let updated = job.completed_at.or(job.started_at).unwrap_or(job.created_at);
    let message = match job.status {
        Status::Pending => "queued".to_string(),
        Status::Running => format!(
            "{} {}%: {}",
            job.progress_phase.as_deref().unwrap_or("running"),
            job.progress_percent,
            job.progress_message.as_deref().unwrap_or("")
        ),
        other => other.as_str().to_string(),
    };
    let mut task = Task::new(job.id.clone(), status, iso8601(job.created_at), iso8601(updated))
        .with_status_message(message.trim_end_matches([' ', ':']).to_string());
    if !status.is_terminal() {
        task = task.with_poll_interval_ms(POLL_INTERVAL_MS);
    }
    task
}

/// The `CreateTaskResult` for a job `invoke_*` just queued.
pub async fn created(app: &App, job_id: &str) -> Result<CreateTaskResult, McpError> {
    let job = app.jobs.get(job_id).await.map_err(|e| error(e, job_id))?;
    Ok(CreateTaskResult::new(task_of(&job)))
}

/// The final `tools/call` result of a finished job: what `invoke_*` would
/// have returned had it waited. It keeps the fields of `invoke_*`'s answer
/// (its output schema) with the job's final status, and adds the review as
/// `check_persona_job` shows it (`result`, `error`, `partial_result`, …).
fn final_result(job: &Job, instructions: Option<(&Told, &Registry)>) -> CallToolResult {
    let mut value = job_view(job);
    if let Some((told, registry)) = instructions {
        super::instructions::add(&mut value, told, |id| registry.get(id).map(|p| p.prompt.clone()));
    }
    if let Some(obj) = value.as_object_mut() {
        obj.insert("priority".into(), json!(job.priority.as_str()));
        obj.insert("estimated_duration_seconds".into(), json!(job.duration_seconds.unwrap_or(0.0).ceil() as u64));
        obj.insert("poll_command".into(), json!(format!("check_persona_job('{}')", job.id)));
        obj.insert("message".into(), json!(format!("Job {} {}.", job.id, job.status)));
    }
    let text = match (&job.status, &job.result, &job.error) {
        (Status::Complete, Some(review), _) => match value["persona_instructions"].as_str() {
            // The text is the review itself: the instructions follow it, once.
            Some(how) => format!("{review}\n\n## Persona instructions (sent once per session)\n\n{how}\n"),
            None => review.clone(),
        },
        (Status::Failed, _, Some(error)) => error.clone(),
        _ => serde_json::to_string_pretty(&value).unwrap_or_default(),
    };
    let mut r = if job.status == Status::Failed {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    r.structured_content = Some(value);
    r
}

/// `tasks/get`: the job's state; once it completed, its final result.
pub async fn get(app: &App, task_id: &str, told: &Told) -> Result<DetailedTask, McpError> {
    let job = app.jobs.get(task_id.trim()).await.map_err(|e| error(e, task_id))?;
    let task = task_of(&job);
    let payload = match task.status {
        TaskStatus::Completed => {
            let Value::Object(result) = serde_json::to_value(final_result(&job, Some((told, &app.registry()))))
                .map_err(|e| McpError::internal_error(format!("task result: {e}"), None))?
            else {
                return Err(McpError::internal_error("task result is not an object", None));
            };
            TaskPayload::Completed { result }
        }
        TaskStatus::Cancelled => TaskPayload::Cancelled,
        _ => TaskPayload::Working,
    };
    Ok(DetailedTask::new(task, payload))
}

/// `tasks/cancel`: cancels the job (a finished one stays as it was).
pub async fn cancel(app: &App, task_id: &str) -> Result<(), McpError> {
    app.jobs.cancel(task_id.trim()).await.map_err(|e| error(e, task_id))?;
    Ok(())
}

/// `tasks/update`: a job never waits for input from the client (approval
/// forms belong to review_standard_proposal, not to persona jobs), so a task
/// here is never `input_required`: responses name no outstanding request
/// and are refused; an empty update is acknowledged; an unknown task is an error.
pub async fn update(app: &App, task_id: &str, responses: usize) -> Result<(), McpError> {
    app.jobs.get(task_id.trim()).await.map_err(|e| error(e, task_id))?;
    if responses > 0 {
        return Err(McpError::invalid_params(
            format!("task '{task_id}' has no outstanding input requests; a persona job never asks the client"),
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Priority;

    fn job(status: Status) -> Job {
        Job {
            id: "j1".into(),
            persona: "security".into(),
            task: "review".into(),
            context: None,
            feedback: None,
            status,
            priority: Priority::High,
            progress_phase: Some("analyzing".into()),
            progress_percent: 40,
            progress_message: Some("reading".into()),
            progress_eta_seconds: None,
            result: (status == Status::Complete).then(|| "the review".into()),
            error: (status == Status::Failed).then(|| "timed out after 4 s".into()),
            partial_result: None,
            created_at: 1_759_761_000.0,
            started_at: Some(1_759_761_001.0),
            completed_at: status.is_finished().then_some(1_759_761_010.0),
            tool_calls_made: 1,
            tokens_input: None,
            tokens_output: None,
            duration_seconds: status.is_finished().then_some(9.0),
            attempts: 1,
        }
    }

    #[test]
    fn job_states_map_onto_task_states() {
        let running = task_of(&job(Status::Running));
        assert_eq!(running.status, TaskStatus::Working);
        assert_eq!(running.poll_interval_ms, Some(POLL_INTERVAL_MS));
        assert_eq!(running.status_message.as_deref(), Some("analyzing 40%: reading"));
        assert_eq!(
            (running.created_at.as_str(), running.last_updated_at.as_str()),
            ("2025-10-06T14:30:00Z", "2025-10-06T14:30:01Z")
        );
        assert_eq!(task_of(&job(Status::Pending)).status, TaskStatus::Working);
        // A failed review is a tool result with isError, which the extension counts as completed.
        let failed = task_of(&job(Status::Failed));
        assert_eq!((failed.status, failed.poll_interval_ms), (TaskStatus::Completed, None));
        assert_eq!(task_of(&job(Status::Complete)).status, TaskStatus::Completed);
        assert_eq!(task_of(&job(Status::Cancelled)).status, TaskStatus::Cancelled);
    }

    #[test]
    fn the_final_result_keeps_invoke_s_fields_and_carries_the_review() {
        let done = serde_json::to_value(final_result(&job(Status::Complete), None)).unwrap();
        assert_eq!(done["isError"], false);
        assert_eq!(done["content"][0]["text"], "the review");
        let sc = &done["structuredContent"];
        for field in
            ["status", "job_id", "persona", "priority", "estimated_duration_seconds", "poll_command", "message"]
        {
            assert!(sc.get(field).is_some(), "{field} missing: {sc}");
        }
        assert_eq!((sc["status"].as_str(), sc["result"].as_str()), (Some("complete"), Some("the review")));

        let failed = serde_json::to_value(final_result(&job(Status::Failed), None)).unwrap();
        assert_eq!(failed["isError"], true);
        assert_eq!(failed["content"][0]["text"], "timed out after 4 s");
        assert_eq!(failed["structuredContent"]["status"], "failed");
    }

    #[test]
    fn a_task_s_first_delegated_brief_carries_the_persona_instructions_once() {
        let mut done = job(Status::Complete);
        done.result = Some("# Security Engineer review — delegated brief\n\nFindings.".into());
        let (told, registry) = (Told::default(), Registry::builtin());
        let first = serde_json::to_value(final_result(&done, Some((&told, &registry)))).unwrap();
        let text = first["content"][0]["text"].as_str().unwrap();
        assert!(text.starts_with("# Security Engineer review — delegated brief\n\nFindings."), "{text}");
        assert!(
            text.contains("## Persona instructions (sent once per session)") && text.contains("Severity guide:"),
            "{text}"
        );
        assert!(first["structuredContent"]["persona_instructions"].is_string(), "{first}");
        let again = serde_json::to_value(final_result(&done, Some((&told, &registry)))).unwrap();
        assert!(!again["content"][0]["text"].as_str().unwrap().contains("Persona instructions"), "{again}");
        assert_eq!(again["structuredContent"]["persona_instructions_uri"], "agent-os://personas/security/instructions");
    }
}
