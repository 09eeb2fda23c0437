//! The standards population tools: `propose_standard` (the calling agent
//! proposes), `list_standard_proposals` and `review_standard_proposal`
//! (a person approves, sends back or rejects).

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tools::ToolError;

pub mod rounds;
use crate::app::App;
use crate::standards::{NewProposal, Proposal, ProposalStatus, Standards, StandardsError, template};
use crate::time::iso8601;

/// Most proposals one list call returns.
pub const MAX_LIST_LIMIT: i64 = 100;

/// The tool definitions, with titles and annotations: proposing adds a
/// proposal and writes nothing else; reviewing may replace a standard
/// (approve with overwrite) and re-runs a job on revise.
pub fn tools() -> Vec<Tool> {
    use super::tools::{reads, titled, writes};
    definitions()
        .into_iter()
        .map(|t| {
            let annotations = match t.name.as_ref() {
                "propose_standard" => writes("Propose a standard", false, false),
                "list_standard_proposals" => reads("List standard proposals"),
                _ => writes("Review a standard proposal", true, false),
            };
            let t = match t.name.as_ref() {
                "list_standard_proposals" => t.with_output_schema::<ProposalList>(),
                _ => t.with_output_schema::<ProposalAnswer>(),
            };
            titled(t, annotations)
        })
        .collect()
}

/// A proposal as the tools show it.
#[derive(Serialize, JsonSchema)]
pub struct ProposalView {
    proposal_id: String,
    status: &'static str,
    /// The persona that proposed it, or `agent`.
    proposed_by: String,
    job_id: Option<String>,
    domain: String,
    topic: String,
    title: String,
    tags: Vec<String>,
    target_path: String,
    created_at: String,
    reviewed_at: Option<String>,
    feedback: Option<String>,
    approved_by: Option<String>,
    written_path: Option<String>,
    revision_job_id: Option<String>,
    /// Pending proposals only: a standard exists at target_path already
    /// (approving then needs overwrite=true).
    #[serde(skip_serializing_if = "Option::is_none")]
    target_exists: Option<bool>,
    /// In list_standard_proposals.
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

/// list_standard_proposals's answer.
#[derive(Serialize, JsonSchema)]
pub struct ProposalList {
    proposals: Vec<ProposalView>,
    total_count: i64,
    filtered_count: usize,
}

/// propose_standard's and review_standard_proposal's answer: the proposal
/// and what happened to it. (The handlers add these fields to
/// [`proposal_view`]'s object; this type is their schema.)
#[derive(Serialize, JsonSchema)]
pub struct ProposalAnswer {
    #[serde(flatten)]
    proposal: ProposalView,
    /// What happened and what to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// Approved: the standard's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// Sent back to its persona: how to follow the revision job.
    #[serde(skip_serializing_if = "Option::is_none")]
    poll_command: Option<String>,
    /// When the person was asked through a form: their answer, or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    elicitation: Option<String>,
}

fn definitions() -> Vec<Tool> {
    vec![
        Tool::new(
            "propose_standard",
            format!(
                "Propose a project standard for human review. Nothing is written until a person approves it (in a form the server shows them, or with `agent-os standards review`); then it lands in .agent-os/standards/<domain>/<topic>.md and is searchable within seconds. The content must follow the template (Context, Pattern, Examples, Anti-patterns) and must not contain secrets (use placeholders such as $API_KEY):\n{}",
                template::SKELETON
            ),
            JsonObject::new(),
        )
        .with_input_schema::<ProposeArgs>(),
        Tool::new(
            "list_standard_proposals",
            "Proposed standards, newest first, with their content, so a person can review them. Filter by status (pending, approving, approved, revised, rejected; approving = a person approved it and the file is being written).",
            JsonObject::new(),
        )
        .with_input_schema::<ListArgs>(),
        Tool::new(
            "review_standard_proposal",
            "Record a decision on a pending proposal. approve: only a person approves; the server shows them a form with the text to be written (MCP form elicitation) and writes it only if they accept, under their name; edited_content replaces the proposed text, overwrite=true replaces an existing file. A client without form elicitation gets the command the person runs instead (agent-os standards review <id> approve). revise: send it back with feedback (a persona's proposal is re-run as a new job). reject: keep the feedback, write nothing. Only call revise or reject with the user's decision.",
            JsonObject::new(),
        )
        .with_input_schema::<ReviewArgs>(),
    ]
}

// Input schemas are generated from these types (schemars), so a schema
// cannot drift from the code that parses the arguments.

#[derive(Deserialize, JsonSchema)]
#[schemars(transform = super::tools::plain_inputs)]
#[serde(deny_unknown_fields)]
struct ProposeArgs {
    /// Standards folder, a slug such as security, architecture, testing.
    domain: String,
    /// File name without .md, a slug such as api-conventions.
    topic: String,
    /// Title; defaults to the content's first # heading.
    #[serde(default)]
    title: Option<String>,
    /// The standard in markdown, following the template.
    content: String,
    /// Search tags.
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[schemars(transform = super::tools::plain_inputs)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    /// Only proposals in this status.
    #[serde(default)]
    #[schemars(extend("enum" = ["pending", "approving", "approved", "revised", "rejected"]))]
    status: Option<String>,
    /// Most proposals to return.
    #[serde(default)]
    #[schemars(range(min = 1, max = MAX_LIST_LIMIT), extend("default" = 10))]
    limit: Option<i64>,
}

#[derive(Deserialize, JsonSchema)]
#[schemars(transform = super::tools::plain_inputs)]
#[serde(deny_unknown_fields)]
struct ReviewArgs {
    /// The proposal id.
    id: String,
    /// approve, revise or reject.
    #[schemars(extend("enum" = ["approve", "revise", "reject"]))]
    decision: String,
    /// Why, or what to change (required for revise).
    #[serde(default)]
    feedback: Option<String>,
    /// Edited markdown to write instead of the proposal (approve only; shown to the person, checked like a proposal).
    #[serde(default)]
    edited_content: Option<String>,
    /// Replace an existing standard of the same domain and topic (approve only; shown to the person).
    #[serde(default)]
    overwrite: bool,
    /// No longer part of the schema: the reviewer is the person who answers
    /// the approval form. Accepted (older agents send it) and ignored.
    #[serde(default, rename = "reviewer")]
    #[schemars(skip)]
    _reviewer: Option<Value>,
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
/// With no client to ask (no `peer`), approving is refused with the command
/// a person runs; [`review_tool`] is the same tool with the client at hand.
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
        "review_standard_proposal" => match review_tool(app, Asker::Nobody, args).await {
            Ok(Reply::Done(v)) => Ok(v),
            Ok(Reply::Ask(_)) => unreachable!("nobody is asked without a client"),
            Err(e) => Err(e),
        },
        _ => return None,
    })
}

/// A proposal as the tools show it.
pub fn proposal_view(app: &App, p: &Proposal, with_content: bool) -> Value {
    let view = ProposalView {
        proposal_id: p.id.clone(),
        status: p.status.as_str(),
        proposed_by: p.persona.clone().unwrap_or_else(|| "agent".into()),
        job_id: p.job_id.clone(),
        domain: p.domain.clone(),
        topic: p.topic.clone(),
        title: p.title.clone(),
        tags: p.tags.clone(),
        target_path: Standards::target_path(&p.domain, &p.topic),
        created_at: iso8601(p.created_at),
        reviewed_at: p.reviewed_at.map(iso8601),
        feedback: p.feedback.clone(),
        approved_by: p.approved_by.clone(),
        written_path: p.written_path.clone(),
        revision_job_id: p.revision_job_id.clone(),
        target_exists: (p.status == ProposalStatus::Pending).then(|| app.standards.target_exists(&p.domain, &p.topic)),
        content: with_content.then(|| p.content.clone()),
    };
    serde_json::to_value(view).expect("a proposal always serialises")
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
        "Proposal {} is pending; nothing is written yet. Show it to the user. Only they can approve it: review_standard_proposal(id='{}', decision='approve') shows them a form where this client supports it, otherwise they run `agent-os standards review {} approve`. Revise or reject with their decision.{}",
        p.id,
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

/// `review_standard_proposal`, where `peer` is the client that called it
/// (the one an approval form is sent to).
pub async fn review_tool(app: &App, asker: Asker<'_>, args: JsonObject) -> Result<Reply, ToolError> {
    let a: ReviewArgs = parse("review_standard_proposal", args)?;
    if a._reviewer.is_some() {
        tracing::info!(proposal = %a.id.trim(), "review_standard_proposal: the reviewer argument is ignored; the person answering the form is the reviewer");
    }
    review(app, asker, a).await
}

/// `propose_standard`, where `asker` reaches the person: when their client
/// shows forms, they are asked at once whether to approve (see [`ask_reviewer`]).
pub async fn propose_tool(app: &App, asker: Asker<'_>, args: JsonObject) -> Result<Reply, ToolError> {
    let a: ProposeArgs = parse("propose_standard", args)?;
    match asker {
        Asker::Nobody => propose(app, a).await.map(Reply::Done),
        Asker::Session(peer) => {
            let mut v = propose(app, a).await?;
            ask_reviewer(app, peer, &mut v).await;
            Ok(Reply::Done(v))
        }
        // The client's retry after the person answered: the proposal exists
        // already (made by the first round), only the decision is left.
        Asker::Rounds(r) if r.state.is_some() => {
            let Some(p) = rounds::recall(r.state.as_deref(), "propose_standard", None, None) else {
                return Err(rounds::form_gone("the proposal stays pending; list_standard_proposals shows it"));
            };
            let mut v = proposal_view(app, &app.standards.get(&p.proposal_id).await.map_err(tool_error)?, false);
            decide(app, &p.proposal_id, r.answer(&p.proposal_id), &mut v).await;
            Ok(Reply::Done(v))
        }
        Asker::Rounds(r) => {
            let v = propose(app, a).await?;
            let Some(id) = v["proposal_id"].as_str() else { return Ok(Reply::Done(v)) };
            let p = app.standards.get(id).await.map_err(tool_error)?;
            if !r.forms || app.standards.target_exists(&p.domain, &p.topic) {
                return Ok(Reply::Done(v));
            }
            let form = Form { proposal: &p, edited: None, overwrite: false };
            let state = rounds::remember("propose_standard", id, None, false);
            Ok(Reply::Ask(rounds::input_required(&form, state)?))
        }
    }
}

/// How the approval form reaches the person who decides.
pub enum Asker<'a> {
    /// No client at hand: approving is refused with the command a person runs.
    Nobody,
    /// 2025-06-18 / 2025-11-25: an `elicitation/create` request to the
    /// session's client, answered while the tool call waits.
    Session(&'a rmcp::Peer<rmcp::RoleServer>),
    /// 2026-07-28: a server may no longer send requests to the client; the form
    /// goes back as an input request of the call's result (multi round-trip
    /// requests, SEP-2322) and the person's answer comes with the client's
    /// retry of the same call.
    Rounds(rounds::Rounds),
}

/// A tool's answer, or the form the person must answer first (2026-07-28).
pub enum Reply {
    Done(Value),
    Ask(rmcp::model::InputRequiredResult),
}

/// The refusal when no person can be asked: what the person runs instead.
fn needs_a_person(id: &str, a: &ReviewArgs) -> ToolError {
    let mut command = format!("agent-os standards review {id} approve");
    if a.overwrite {
        command.push_str(" --overwrite");
    }
    if a.edited_content.is_some() {
        command.push_str(" --edited FILE");
    }
    ToolError::Invalid(format!(
        "Approving a standard needs a person, and this MCP client cannot show them the approval form (form elicitation). Nothing was written; proposal {id} is still pending. Ask the user to run, in the project folder: `{command}`{}. You may still revise or reject it with the user's decision.",
        if a.edited_content.is_some() { " (FILE holding the edited text)" } else { "" }
    ))
}

async fn review(app: &App, asker: Asker<'_>, a: ReviewArgs) -> Result<Reply, ToolError> {
    let id = a.id.trim().to_string();
    let id = id.as_str();
    match a.decision.trim() {
        "approve" => {
            let current = app.standards.get(id).await.map_err(tool_error)?;
            match current.status {
                ProposalStatus::Pending => {}
                // The person's decision is recorded; only the write is left to do.
                ProposalStatus::Approving => {
                    let p = app.standards.approve(id, "", None, false).await.map_err(tool_error)?;
                    return Ok(Reply::Done(approved_view(app, &p)));
                }
                status => return Err(tool_error(StandardsError::NotPending { id: id.to_string(), status })),
            }
            // Refuse what could never be written before asking anybody.
            if let Some(text) = &a.edited_content {
                crate::standards::check_edit(text).map_err(tool_error)?;
            }
            let exists = app.standards.target_exists(&current.domain, &current.topic);
            if exists && !a.overwrite {
                return Err(ToolError::Invalid(format!(
                    "{} already exists; pass overwrite=true to replace it (the person sees that it replaces the file), or propose a different topic",
                    Standards::target_path(&current.domain, &current.topic)
                )));
            }
            let form = Form { proposal: &current, edited: a.edited_content.as_deref(), overwrite: exists };
            // What the person answered, and whether the form they saw said the
            // file is replaced.
            let (answer, overwrite) = match asker {
                Asker::Session(peer) if supports_forms(peer) => (ask(peer, &form).await, exists),
                Asker::Rounds(r) if r.state.is_some() => {
                    let edited = a.edited_content.as_deref();
                    let Some(shown) = rounds::recall(r.state.as_deref(), "review_standard_proposal", Some(id), edited)
                    else {
                        return Err(rounds::form_gone(&format!(
                            "nothing was written; proposal {id} is still pending: call review_standard_proposal again to show a new form"
                        )));
                    };
                    (r.answer(id), shown.overwrite)
                }
                Asker::Rounds(r) if r.forms => {
                    let state = rounds::remember("review_standard_proposal", id, a.edited_content.as_deref(), exists);
                    return Ok(Reply::Ask(rounds::input_required(&form, state)?));
                }
                _ => return Err(needs_a_person(id, &a)),
            };
            match answer {
                Answer::Accepted { decision, reviewer, feedback } => {
                    // Replace a file only if the form said so: one that appeared
                    // while the person read it is not overwritten.
                    let mut v = apply(app, id, &decision, &reviewer, feedback, a.edited_content, overwrite).await?;
                    v["elicitation"] = json!(decision);
                    Ok(Reply::Done(v))
                }
                Answer::Not(how) => {
                    let p = app.standards.get(id).await.map_err(tool_error)?;
                    let mut v = proposal_view(app, &p, false);
                    v["elicitation"] = json!(how);
                    v["message"] = json!(format!(
                        "Not approved: the person {} the approval form. Nothing was written; proposal {id} is still pending.",
                        match how {
                            "declined" => "declined",
                            "cancelled" => "cancelled",
                            _ => "did not answer",
                        }
                    ));
                    Ok(Reply::Done(v))
                }
            }
        }
        "reject" => reject_now(app, id, a.feedback).await.map(Reply::Done),
        "revise" => revise_now(app, id, a.feedback).await.map(Reply::Done),
        "" => Err(ToolError::Invalid("decision is required: approve, revise or reject".into())),
        other => Err(ToolError::Invalid(format!("unknown decision '{other}': use approve, revise or reject"))),
    }
}

fn approved_view(app: &App, p: &Proposal) -> Value {
    let mut v = proposal_view(app, p, false);
    v["path"] = json!(p.written_path);
    v["message"] = json!(format!(
        "Standard created at {}, approved by {}; it is indexed within seconds and search_standards will return it.",
        p.written_path.as_deref().unwrap_or_default(),
        p.approved_by.as_deref().unwrap_or("a person")
    ));
    v
}

async fn reject_now(app: &App, id: &str, feedback: Option<String>) -> Result<Value, ToolError> {
    let p = app.standards.reject(id, feedback).await.map_err(tool_error)?;
    let mut v = proposal_view(app, &p, false);
    v["message"] = json!("Proposal rejected; nothing was written.");
    Ok(v)
}

async fn revise_now(app: &App, id: &str, feedback: Option<String>) -> Result<Value, ToolError> {
    let current = app.standards.get(id).await.map_err(tool_error)?;
    if let Some(persona) = &current.persona
        && app.registry().get(persona).is_none()
    {
        return Err(ToolError::Invalid(format!(
            "proposal '{id}' came from persona '{persona}', which is no longer installed; reject it and propose again"
        )));
    }
    let feedback = feedback.unwrap_or_default();
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

/// Applies the decision a person gave in the approval form.
async fn apply(
    app: &App,
    id: &str,
    decision: &str,
    reviewer: &str,
    feedback: Option<String>,
    edited: Option<String>,
    overwrite: bool,
) -> Result<Value, ToolError> {
    match decision {
        "approve" => {
            let p = app.standards.approve(id, reviewer, edited, overwrite).await.map_err(tool_error)?;
            Ok(approved_view(app, &p))
        }
        "reject" => reject_now(app, id, feedback).await,
        "revise" => revise_now(app, id, feedback).await,
        other => Err(ToolError::Invalid(format!("the form answered an unknown decision '{other}'; nothing was done"))),
    }
}

/// Longest the server waits for a person to answer an approval form.
pub const ELICIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

fn supports_forms(peer: &rmcp::Peer<rmcp::RoleServer>) -> bool {
    peer.supported_elicitation_modes().contains(&rmcp::service::ElicitationMode::Form)
}

/// What the approval form shows the person.
struct Form<'a> {
    proposal: &'a Proposal,
    /// The agent's edit, written instead of the proposed text.
    edited: Option<&'a str>,
    /// Whether approving replaces a standard that exists now.
    overwrite: bool,
}

impl Form<'_> {
    /// The message: everything the person approves, the text exactly as it
    /// will be written (hidden characters shown as escapes).
    fn message(&self) -> String {
        use crate::text::escape;
        let p = self.proposal;
        let who = match (&p.persona, &p.job_id) {
            (Some(persona), Some(job)) => format!("persona '{}' (job {})", escape(persona), escape(job)),
            (Some(persona), None) => format!("persona '{}'", escape(persona)),
            (None, _) => "the calling agent".to_string(),
        };
        let action = if self.overwrite { "REPLACES the existing file" } else { "a new file" };
        let (label, body) = match self.edited {
            Some(text) => ("Text to be written (edited by the agent, not the proposal as first made)", text),
            None => ("Text to be written", p.content.as_str()),
        };
        let body = crate::quote::escape_lines(crate::standards::write::strip_front_matter(body).trim());
        format!(
            "Approve this project standard? Only you can approve it; the agent cannot.\n\n\
             Proposal: {id}\n\
             Writes: {path} ({action})\n\
             Domain / topic: {domain} / {topic}\n\
             Title: {title}\n\
             Proposed by: {who}\n\n\
             {label}:\n\n{block}\n\
             Choose approve to write it under your name, or revise or reject (feedback is kept with the proposal). \
             Declining writes nothing.",
            id = escape(&p.id),
            path = escape(&Standards::target_path(&p.domain, &p.topic)),
            domain = escape(&p.domain),
            topic = escape(&p.topic),
            title = escape(&p.title),
            block = crate::quote::fenced("markdown", &body),
        )
    }

    fn schema() -> Result<rmcp::model::ElicitationSchema, &'static str> {
        use rmcp::model::{ElicitationSchema, EnumSchema};
        ElicitationSchema::builder()
            .required_enum_schema(
                "decision",
                EnumSchema::builder(vec!["approve".into(), "revise".into(), "reject".into()]).title("Decision").build(),
            )
            .required_string_with("reviewer", |s| {
                s.title("Your name (written as approved_by)")
                    .length(1, crate::standards::MAX_REVIEWER_CHARS as u32)
                    .with_default(crate::standards::os_user())
            })
            .optional_string_with("feedback", |s| s.title("Feedback (why, or what to change)"))
            .build()
    }
}

/// How the person answered.
enum Answer {
    Accepted {
        decision: String,
        reviewer: String,
        feedback: Option<String>,
    },
    /// "declined", "cancelled" or "unanswered": nothing is done.
    Not(&'static str),
}

/// Shows the approval form and waits up to [`ELICIT_TIMEOUT`] for the answer.
async fn ask(peer: &rmcp::Peer<rmcp::RoleServer>, form: &Form<'_>) -> Answer {
    let id = &form.proposal.id;
    let params = match form_params(form) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(proposal = %id, "the approval form could not be built: {e}");
            return Answer::Not("unanswered");
        }
    };
    let reply = match peer.create_elicitation_with_timeout(params, Some(ELICIT_TIMEOUT)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(proposal = %id, "approval form not answered ({e}); the proposal stays pending");
            return Answer::Not("unanswered");
        }
    };
    answer_of(id, reply)
}

/// The form's parameters: the message and the decision schema.
fn form_params(form: &Form<'_>) -> Result<rmcp::model::ElicitRequestParams, &'static str> {
    Ok(rmcp::model::ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: form.message(),
        requested_schema: Form::schema()?,
    })
}

/// What the person answered in the form (whichever way it came back).
fn answer_of(id: &str, reply: rmcp::model::ElicitResult) -> Answer {
    use rmcp::model::ElicitationAction;
    match reply.action {
        ElicitationAction::Accept => {}
        ElicitationAction::Decline => return Answer::Not("declined"),
        _ => return Answer::Not("cancelled"),
    }
    let content = reply.content.unwrap_or_default();
    let decision = content["decision"].as_str().unwrap_or_default().trim().to_string();
    let reviewer = content["reviewer"]
        .as_str()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(crate::standards::os_user);
    let feedback = content["feedback"].as_str().map(String::from).filter(|f| !f.trim().is_empty());
    tracing::info!(proposal = %id, decision = %decision, reviewer = %crate::text::escape(&reviewer), "approval form answered");
    Answer::Accepted { decision, reviewer, feedback }
}

/// When the client supports form elicitation, asks the person at once
/// whether to approve the proposal `answer` describes, and applies their
/// decision to it. Without support, when the standard exists already (the
/// agent asks again with overwrite), or when they decline or do not
/// answer, the proposal stays pending.
async fn ask_reviewer(app: &App, peer: &rmcp::Peer<rmcp::RoleServer>, answer: &mut Value) {
    if !supports_forms(peer) {
        return;
    }
    let Some(id) = answer["proposal_id"].as_str().map(String::from) else { return };
    let Ok(p) = app.standards.get(&id).await else { return };
    if app.standards.target_exists(&p.domain, &p.topic) {
        return;
    }
    let form = Form { proposal: &p, edited: None, overwrite: false };
    decide(app, &id, ask(peer, &form).await, answer).await;
}

/// Applies what the person answered about a just-made proposal to the
/// answer `answer` (the proposal's view); it stays pending unless they decided.
async fn decide(app: &App, id: &str, said: Answer, answer: &mut Value) {
    let (decision, reviewer, feedback) = match said {
        Answer::Accepted { decision, reviewer, feedback } => (decision, reviewer, feedback),
        Answer::Not(how) => {
            answer["elicitation"] = json!(how);
            return;
        }
    };
    answer["elicitation"] = json!(decision);
    match apply(app, id, &decision, &reviewer, feedback, None, false).await {
        Ok(mut v) => {
            v["elicitation"] = json!(decision);
            *answer = v;
        }
        Err(e) => {
            answer["message"] = json!(format!(
                "The user chose '{decision}' but it could not be applied: {e}. Proposal {id} is still pending."
            ));
        }
    }
}
