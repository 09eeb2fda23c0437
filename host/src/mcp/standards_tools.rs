//! The standards population tools: `propose_standard` (the calling agent
//! proposes), `list_standard_proposals` and `review_standard_proposal`
//! (a person approves, sends back or rejects).

use rmcp::model::{JsonObject, Tool};
use serde::Deserialize;
use serde_json::{Value, json};

use super::tools::{ToolError, iso8601};
use crate::app::App;
use crate::standards::{NewProposal, Proposal, ProposalStatus, Standards, StandardsError, template};

/// Most proposals one list call returns.
pub const MAX_LIST_LIMIT: i64 = 100;

fn schema(v: Value) -> std::sync::Arc<JsonObject> {
    match v {
        Value::Object(map) => std::sync::Arc::new(map),
        _ => unreachable!("tool schemas are objects"),
    }
}

/// The tool definitions.
pub fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            "propose_standard",
            format!(
                "Propose a project standard for human review. Nothing is written until a person approves it with review_standard_proposal; then it lands in .agent-os/standards/<domain>/<topic>.md and is searchable within seconds. The content must follow the template (Context, Pattern, Examples, Anti-patterns) and must not contain secrets (use placeholders such as $API_KEY):\n{}",
                template::SKELETON
            ),
            schema(json!({
                "type": "object",
                "properties": {
                    "domain": { "type": "string", "description": "Standards folder, a slug such as security, architecture, testing." },
                    "topic": { "type": "string", "description": "File name without .md, a slug such as api-conventions." },
                    "title": { "type": "string", "description": "Title; defaults to the content's first # heading." },
                    "content": { "type": "string", "description": "The standard in markdown, following the template." },
                    "tags": { "type": "array", "items": { "type": "string" }, "description": "Search tags." }
                },
                "required": ["domain", "topic", "content"]
            })),
        ),
        Tool::new(
            "list_standard_proposals",
            "Proposed standards, newest first, with their content, so a person can review them. Filter by status (pending, approved, revised, rejected).",
            schema(json!({
                "type": "object",
                "properties": {
                    "status": { "type": "string", "enum": ["pending", "approved", "revised", "rejected"] },
                    "limit": { "type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT, "default": 10 }
                }
            })),
        ),
        Tool::new(
            "review_standard_proposal",
            "Record a person's decision on a pending proposal. approve: write the standard (edited_content replaces the proposed text; overwrite=true replaces an existing file). revise: send it back with feedback (a persona's proposal is re-run as a new job). reject: keep the feedback, write nothing. Only call this with the user's decision.",
            schema(json!({
                "type": "object",
                "properties": {
                    "id": { "type": "string", "description": "The proposal id." },
                    "decision": { "type": "string", "enum": ["approve", "revise", "reject"] },
                    "feedback": { "type": "string", "description": "Why, or what to change (required for revise)." },
                    "edited_content": { "type": "string", "description": "The reviewer's edited markdown, written instead of the proposal (approve only)." },
                    "overwrite": { "type": "boolean", "default": false, "description": "Replace an existing standard of the same domain and topic (approve only)." },
                    "reviewer": { "type": "string", "description": "Who approved, for the front matter; defaults to the server's $USER." }
                },
                "required": ["id", "decision"]
            })),
        ),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposeArgs {
    domain: String,
    topic: String,
    #[serde(default)]
    title: Option<String>,
    content: String,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewArgs {
    id: String,
    decision: String,
    #[serde(default)]
    feedback: Option<String>,
    #[serde(default)]
    edited_content: Option<String>,
    #[serde(default)]
    overwrite: bool,
    #[serde(default)]
    reviewer: Option<String>,
}

fn parse<T: for<'de> Deserialize<'de>>(tool: &str, args: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(args))
        .map_err(|e| ToolError::Invalid(format!("invalid arguments for {tool}: {e}")))
}

fn tool_error(e: StandardsError) -> ToolError {
    match e {
        StandardsError::Store(_) | StandardsError::Join(_) => ToolError::Unavailable(e.to_string()),
        StandardsError::Write(crate::standards::write::WriteError::Io { .. }) => ToolError::Unavailable(e.to_string()),
        other => ToolError::Invalid(other.to_string()),
    }
}

/// Runs one of this module's tools; `None` when `name` is not one of them.
pub async fn call(app: &App, name: &str, args: JsonObject) -> Option<Result<Value, ToolError>> {
    Some(match name {
        "propose_standard" => match parse(name, args) {
            Ok(a) => propose(app, a).await,
            Err(e) => Err(e),
        },
        "list_standard_proposals" => match parse(name, args) {
            Ok(a) => list(app, a).await,
            Err(e) => Err(e),
        },
        "review_standard_proposal" => match parse(name, args) {
            Ok(a) => review(app, a).await,
            Err(e) => Err(e),
        },
        _ => return None,
    })
}

/// A proposal as the tools show it.
pub fn proposal_view(app: &App, p: &Proposal, with_content: bool) -> Value {
    let mut v = json!({
        "proposal_id": p.id,
        "status": p.status.as_str(),
        "proposed_by": p.persona.as_deref().unwrap_or("agent"),
        "job_id": p.job_id,
        "domain": p.domain,
        "topic": p.topic,
        "title": p.title,
        "tags": p.tags,
        "target_path": Standards::target_path(&p.domain, &p.topic),
        "created_at": iso8601(p.created_at),
        "reviewed_at": p.reviewed_at.map(iso8601),
        "feedback": p.feedback,
        "approved_by": p.approved_by,
        "written_path": p.written_path,
        "revision_job_id": p.revision_job_id,
    });
    if p.status == ProposalStatus::Pending {
        v["target_exists"] = json!(app.standards.target_exists(&p.domain, &p.topic));
    }
    if with_content {
        v["content"] = json!(p.content);
    }
    v
}

async fn propose(app: &App, a: ProposeArgs) -> Result<Value, ToolError> {
    let p = app
        .standards
        .propose(NewProposal {
            persona: None,
            job_id: None,
            domain: a.domain.trim().to_string(),
            topic: a.topic.trim().to_string(),
            title: a.title,
            content: a.content,
            tags: a.tags,
        })
        .await
        .map_err(tool_error)?;
    let mut v = proposal_view(app, &p, false);
    let exists = app.standards.target_exists(&p.domain, &p.topic);
    v["message"] = json!(format!(
        "Proposal {} is pending; nothing is written yet. Show it to the user and ask them to approve, revise or reject it, then call review_standard_proposal(id='{}', decision=...).{}",
        p.id,
        p.id,
        if exists { " A standard already exists at that path: approving needs overwrite=true." } else { "" }
    ));
    Ok(v)
}

async fn list(app: &App, a: ListArgs) -> Result<Value, ToolError> {
    let status = match a.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(s.parse::<ProposalStatus>().map_err(ToolError::Invalid)?),
    };
    let limit = a.limit.unwrap_or(10);
    if !(1..=MAX_LIST_LIMIT).contains(&limit) {
        return Err(ToolError::Invalid(format!("limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")));
    }
    let (rows, total) = app.standards.list(status, limit as u32).await.map_err(tool_error)?;
    let views: Vec<Value> = rows.iter().map(|p| proposal_view(app, p, true)).collect();
    Ok(json!({ "proposals": views, "total_count": total, "filtered_count": rows.len() }))
}

fn default_reviewer() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "human".into())
}

async fn review(app: &App, a: ReviewArgs) -> Result<Value, ToolError> {
    let id = a.id.trim();
    match a.decision.trim() {
        "approve" => {
            let reviewer = a
                .reviewer
                .map(|r| r.trim().replace('\n', " "))
                .filter(|r| !r.is_empty())
                .unwrap_or_else(default_reviewer);
            if reviewer.chars().count() > 100 {
                return Err(ToolError::Invalid("reviewer must be at most 100 characters".into()));
            }
            let p = app.standards.approve(id, &reviewer, a.edited_content, a.overwrite).await.map_err(tool_error)?;
            let mut v = proposal_view(app, &p, false);
            v["path"] = json!(p.written_path);
            v["message"] = json!(format!(
                "Standard created at {}; it is indexed within seconds and search_standards will return it.",
                p.written_path.as_deref().unwrap_or_default()
            ));
            Ok(v)
        }
        "reject" => {
            let p = app.standards.reject(id, a.feedback).await.map_err(tool_error)?;
            let mut v = proposal_view(app, &p, false);
            v["message"] = json!("Proposal rejected; nothing was written.");
            Ok(v)
        }
        "revise" => {
            let current = app.standards.get(id).await.map_err(tool_error)?;
            if let Some(persona) = &current.persona
                && app.registry().get(persona).is_none()
            {
                return Err(ToolError::Invalid(format!(
                    "proposal '{id}' came from persona '{persona}', which is no longer installed; reject it and propose again"
                )));
            }
            let feedback = a.feedback.unwrap_or_default();
            let p = app.standards.revise(id, &feedback, &app.jobs).await.map_err(tool_error)?;
            let mut v = proposal_view(app, &p, false);
            match &p.revision_job_id {
                Some(job) => {
                    v["poll_command"] = json!(format!("check_persona_job('{job}')"));
                    v["message"] = json!(format!(
                        "Sent back to {} as job {job} with the feedback; its revised proposal will appear in list_standard_proposals(status='pending').",
                        p.persona.as_deref().unwrap_or("the persona")
                    ));
                }
                None => {
                    v["message"] = json!(
                        "This proposal came from the calling agent, not a persona: revise the content following the feedback and call propose_standard again."
                    );
                }
            }
            Ok(v)
        }
        "" => Err(ToolError::Invalid("decision is required: approve, revise or reject".into())),
        other => Err(ToolError::Invalid(format!("unknown decision '{other}': use approve, revise or reject"))),
    }
}

/// Longest the server waits for a person to answer an approval form.
pub const ELICIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// When the client supports form elicitation, asks the person at once
/// whether to approve the proposal `answer` describes, and applies their
/// decision to it. Without support, or when they decline or do not answer,
/// the proposal stays pending for `review_standard_proposal`.
pub async fn ask_reviewer(app: &App, peer: &rmcp::Peer<rmcp::RoleServer>, answer: &mut Value) {
    use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema, EnumSchema};
    use rmcp::service::ElicitationMode;
    if !peer.supported_elicitation_modes().contains(&ElicitationMode::Form) {
        return;
    }
    let Some(id) = answer["proposal_id"].as_str().map(String::from) else { return };
    let Ok(p) = app.standards.get(&id).await else { return };
    let schema = ElicitationSchema::builder()
        .required_enum_schema(
            "decision",
            EnumSchema::builder(vec!["approve".into(), "revise".into(), "reject".into()]).build(),
        )
        .optional_string("feedback")
        .build();
    let Ok(schema) = schema else { return };
    let message = format!(
        "The calling agent proposes a project standard, \"{}\", to be written to {}.\n\n{}\n\nApprove, ask for a revision, or reject? Feedback is kept with the proposal.",
        p.title,
        Standards::target_path(&p.domain, &p.topic),
        p.content
    );
    let params = ElicitRequestParams::FormElicitationParams { meta: None, message, requested_schema: schema };
    let reply = match peer.create_elicitation_with_timeout(params, Some(ELICIT_TIMEOUT)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(proposal = %id, "approval form not answered ({e}); the proposal stays pending");
            answer["elicitation"] = json!("unanswered");
            return;
        }
    };
    if reply.action != ElicitationAction::Accept {
        answer["elicitation"] =
            json!(if reply.action == ElicitationAction::Decline { "declined" } else { "cancelled" });
        return;
    }
    let content = reply.content.unwrap_or_default();
    let decision = content["decision"].as_str().unwrap_or_default().to_string();
    let feedback = content["feedback"].as_str().map(String::from).filter(|f| !f.trim().is_empty());
    let args = ReviewArgs {
        id: id.clone(),
        decision: decision.clone(),
        feedback,
        edited_content: None,
        overwrite: false,
        reviewer: None,
    };
    answer["elicitation"] = json!(decision);
    match review(app, args).await {
        Ok(mut v) => {
            v["elicitation"] = json!(decision);
            *answer = v;
        }
        Err(e) => {
            answer["message"] = json!(format!(
                "The user chose '{decision}' but it could not be applied: {e}. Proposal {id} is still pending; use review_standard_proposal."
            ));
        }
    }
}
