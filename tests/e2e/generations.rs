//! The 2026-07-28 protocol generation, beside 2025-06-18 / 2025-11-25:
//! `server/discover` instead of `initialize`, per-request `_meta`, cache
//! hints on list results, `subscriptions/listen` for list changes, the
//! approval form as a multi round-trip input request, and the tasks
//! extension (a persona job as a task). Spoken by rmcp's client in its
//! discover lifecycle over stdio, and byte by byte over streamable HTTP.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientCapabilities, ClientConfig,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability, GetTaskParams, ProtocolVersion,
    ServerNotification, SubscriptionFilter, TaskPayload, TaskStatus,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::{ClientHandler, RoleClient};
use serde_json::{Value, json};

use crate::http::{exchange, free_port, http_server, rpc_reply};
use crate::support::{install_guest, project, spawn_server, text_of, tool_ok};

const V2026: &str = "2026-07-28";

/// Progress notifications as heard: (progress, message).
type Heard = Arc<Mutex<Vec<(f64, Option<String>)>>>;

/// A 2026-07-28 client: its capabilities go in every request's `_meta`.
/// With `forms`, it shows approval forms and answers them from `script`.
#[derive(Clone, Default)]
struct Modern {
    forms: bool,
    tasks: bool,
    script: Arc<Mutex<Vec<Value>>>,
    shown: Arc<Mutex<Vec<String>>>,
    progress: Heard,
}

impl ClientHandler for Modern {
    fn get_info(&self) -> ClientConfig {
        let mut caps =
            if self.tasks { ClientCapabilities::builder().enable_tasks().build() } else { Default::default() };
        if self.forms {
            caps.elicitation = Some(ElicitationCapability::default());
        }
        let mut info = ClientConfig::default();
        info.capabilities = caps;
        info
    }

    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push((params.progress, params.message));
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.shown.lock().unwrap().push(message.clone());
        }
        let next = self.script.lock().unwrap().pop();
        Ok(match next {
            Some(content) => ElicitResult::new(ElicitationAction::Accept).with_content(content),
            None => ElicitResult::new(ElicitationAction::Decline),
        })
    }
}

/// `agent-os serve` (stdio) and `client` opened with `server/discover` on 2026-07-28.
async fn start(root: &Path, client: Modern) -> Result<(tokio::process::Child, RunningService<RoleClient, Modern>)> {
    let mut child = spawn_server(root, &[], &[])?;
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = client.serve_with_lifecycle(io, lifecycle).await.context("server/discover")?;
    Ok((child, client))
}

/// Polls check_persona_job until the job is finished.
async fn wait_job(client: &RunningService<RoleClient, Modern>, job: &str) -> Result<Value> {
    let start = Instant::now();
    loop {
        let v = tool_ok(client, "check_persona_job", json!({ "job_id": job, "wait_seconds": 5 })).await?;
        if !matches!(v["status"].as_str(), Some("pending" | "running")) {
            return Ok(v);
        }
        if start.elapsed() > Duration::from_secs(120) {
            bail!("job {job} unfinished: {v}");
        }
    }
}

#[tokio::test]
async fn stdio_2026_discover_lists_with_cache_hints_and_runs_a_job() -> Result<()> {
    let dir = project();
    let modern = Modern::default();
    let (_child, client) = start(dir.path(), modern.clone()).await?;

    // server/discover: the generation and the server's capabilities, no initialize.
    let info = client.peer_info().context("discovered server")?;
    assert_eq!(info.protocol_version.as_str(), V2026);
    assert_eq!(info.server_info.as_ref().map(|s| s.name.as_str()), Some("agent-os"));
    assert!(info.capabilities.tools.as_ref().and_then(|t| t.list_changed) == Some(true), "{info:?}");
    assert!(info.capabilities.supports_tasks(), "the tasks extension is advertised: {info:?}");

    // Every list result carries ttlMs and cacheScope (private: one project's data).
    let tools = client.list_tools(None).await?;
    assert_eq!((tools.ttl_ms, tools.cache_scope), (Some(5_000), Some(CacheScope::Private)));
    assert!(tools.tools.iter().any(|t| t.name == "invoke_security"));
    let prompts = client.list_prompts(None).await?;
    assert_eq!((prompts.ttl_ms, prompts.cache_scope), (Some(5_000), Some(CacheScope::Private)));
    assert!(prompts.prompts.iter().any(|p| p.name == "security"));
    let resources = client.list_resources(None).await?;
    assert_eq!((resources.ttl_ms, resources.cache_scope), (Some(2_000), Some(CacheScope::Private)));
    let templates = client.list_resource_templates(None).await?;
    assert_eq!((templates.ttl_ms, templates.cache_scope), (Some(3_600_000), Some(CacheScope::Private)));

    // A persona job, start to end, through per-request metadata only.
    let started =
        tool_ok(&client, "invoke_engineer", json!({ "task": "review the parser", "context": "let x = y.unwrap();\n" }))
            .await?;
    assert_eq!(started["status"], "started", "a client without the tasks extension gets the job id: {started}");
    let done = wait_job(&client, started["job_id"].as_str().context("job_id")?).await?;
    assert_eq!(done["status"], "complete", "{done}");
    assert!(done["result"].as_str().unwrap_or_default().contains("unwrap() can panic"), "{done}");
    // rmcp's client puts a progressToken on each call: progress came back on the request.
    let progress = modern.progress.lock().unwrap().clone();
    assert!(progress.iter().any(|(p, m)| *p == 100.0 && m.as_deref() == Some("complete")), "{progress:?}");
    client.cancel().await?;
    Ok(())
}

/// One 2026-07-28 request over HTTP: the body with its `_meta`, and the
/// standard headers the generation requires (SEP-2243).
async fn post26(port: u16, bearer: &str, id: u64, method: &str, params: Value) -> Result<Value> {
    Ok(post26_body(port, bearer, id, method, params).await?.0)
}

/// [`post26`], with the whole response body (every SSE event before the result).
async fn post26_body(port: u16, bearer: &str, id: u64, method: &str, mut params: Value) -> Result<(Value, String)> {
    let meta = params["_meta"].as_object_mut().map(std::mem::take).unwrap_or_default();
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V2026,
        "io.modelcontextprotocol/clientInfo": { "name": "e2e-raw", "version": "0" },
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    params["_meta"].as_object_mut().unwrap().extend(meta);
    let name = params["name"].as_str().map(String::from);
    let mut headers = vec![("Authorization", bearer), ("MCP-Protocol-Version", V2026), ("Mcp-Method", method)];
    if let Some(n) = name.as_deref() {
        headers.push(("Mcp-Name", n));
    }
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    let (status, head, text) = exchange(port, &headers, &body).await?;
    assert_eq!(status, 200, "{method}: {head}\n{text}");
    assert!(!head.to_ascii_lowercase().contains("mcp-session-id"), "2026-07-28 has no sessions: {head}");
    let reply = rpc_reply(&text).with_context(|| format!("{method}: no JSON-RPC reply in {text}"))?;
    if reply.get("error").is_some() {
        bail!("{method} failed: {reply}");
    }
    Ok((reply["result"].clone(), text))
}

#[tokio::test]
async fn http_2026_discover_lists_with_cache_hints_and_runs_a_job() -> Result<()> {
    let dir = project();
    let port = free_port();
    let token = "generations-token-0123456789abcdef";
    let _child = http_server(dir.path(), port, &[], &[("AGENT_OS_HTTP_TOKEN", token)]).await?;
    let bearer = format!("Bearer {token}");

    let found = post26(port, &bearer, 1, "server/discover", json!({})).await?;
    let versions: Vec<&str> =
        found["supportedVersions"].as_array().context("versions")?.iter().filter_map(Value::as_str).collect();
    for v in [V2026, "2025-11-25", "2025-06-18"] {
        assert!(versions.contains(&v), "{v} not in {versions:?}");
    }
    assert_eq!(found["resultType"], "complete");
    assert_eq!(found["capabilities"]["tools"]["listChanged"], true, "{found}");
    assert!(found["capabilities"]["extensions"].get("io.modelcontextprotocol/tasks").is_some(), "{found}");

    for (id, method, items, ttl) in [
        (2, "tools/list", "tools", 5_000),
        (3, "prompts/list", "prompts", 5_000),
        (4, "resources/list", "resources", 2_000),
        (5, "resources/templates/list", "resourceTemplates", 3_600_000),
    ] {
        let r = post26(port, &bearer, id, method, json!({})).await?;
        assert!(r[items].is_array(), "{method}: {r}");
        assert_eq!(r["ttlMs"], ttl, "{method}: {r}");
        assert_eq!(r["cacheScope"], "private", "{method}: {r}");
        assert_eq!(r["resultType"], "complete", "{method}: {r}");
    }

    let started = post26(
        port,
        &bearer,
        6,
        "tools/call",
        json!({ "name": "invoke_security", "arguments": { "task": "review", "context": "password = \"hunter2hunter2\"\n" } }),
    )
    .await?;
    let job = started["structuredContent"]["job_id"].as_str().context("job id")?.to_string();
    let (done, body) = post26_body(
        port,
        &bearer,
        7,
        "tools/call",
        json!({ "name": "check_persona_job", "arguments": { "job_id": job, "wait_seconds": 60 },
                "_meta": { "progressToken": "p7" } }),
    )
    .await?;
    assert_eq!(done["structuredContent"]["status"], "complete", "{done}");
    // Progress rides on the request's own stream, before its result.
    let progress = body.find("notifications/progress").context(format!("no progress in {body}"))?;
    assert!(progress < body.find("\"result\"").unwrap_or(usize::MAX), "{body}");
    assert!(body.contains("\"progressToken\":\"p7\""), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_persona_installed_while_a_2026_client_listens_appears_within_3_s() -> Result<()> {
    let dir = project();
    let (_child, client) = start(dir.path(), Modern::default()).await?;
    let filter = SubscriptionFilter::builder().tools_list_changed().prompts_list_changed().build();
    let mut sub = client.listen(filter).await.context("subscriptions/listen")?;
    assert_eq!(sub.acknowledged().tools_list_changed, Some(true));
    assert_eq!(sub.acknowledged().prompts_list_changed, Some(true));
    assert!(!client.list_all_tools().await?.iter().any(|t| t.name == "invoke_spin"));

    // Installed and trusted through the command line while the client listens.
    install_guest(dir.path(), "spin", 600, 64);
    let installed = Instant::now();
    let mut heard = (false, false);
    while heard != (true, true) {
        let left = Duration::from_secs(3).saturating_sub(installed.elapsed());
        match tokio::time::timeout(left, sub.next()).await {
            Ok(Ok(Some(ServerNotification::ToolListChangedNotification(_)))) => {
                eprintln!("tools/list_changed after {:.2} s", installed.elapsed().as_secs_f64());
                heard.0 = true
            }
            Ok(Ok(Some(ServerNotification::PromptListChangedNotification(_)))) => heard.1 = true,
            Ok(Ok(Some(other))) => eprintln!("also heard {other:?}"),
            Ok(other) => bail!("the subscription ended: {other:?}"),
            Err(_) => bail!("no list_changed within 3 s of the install (heard tools, prompts: {heard:?})"),
        }
    }
    let tools = client.list_all_tools().await?;
    assert!(tools.iter().any(|t| t.name == "invoke_spin"), "invoke_spin not listed");
    let prompts = client.list_all_prompts().await?;
    assert!(prompts.iter().any(|p| p.name == "spin"), "no spin prompt");
    let took = installed.elapsed();
    eprintln!("install to listed on 2026-07-28: {:.2} s", took.as_secs_f64());
    assert!(took < Duration::from_secs(3), "listed after {took:?}");
    sub.cancel().await?;
    client.cancel().await?;
    Ok(())
}

const CONTENT: &str = "# Retry budgets\n\n## Context\nClients retry failed calls.\n\n## Pattern\nEvery client caps retries with a budget shared per host.\n\n## Examples\nThree retries per ten seconds per host.\n\n## Anti-patterns\nUnbounded retry loops.\n";

#[tokio::test]
async fn approval_on_2026_is_a_multi_round_trip_form() -> Result<()> {
    let dir = project();
    let person = Modern { forms: true, ..Default::default() };
    let (_child, client) = start(dir.path(), person.clone()).await?;

    // Proposing shows the form at once (as an input request); declined, it stays pending.
    let v = tool_ok(
        &client,
        "propose_standard",
        json!({ "domain": "reliability", "topic": "retry-budgets", "content": CONTENT }),
    )
    .await?;
    assert_eq!(v["status"], "pending", "{v}");
    assert_eq!(v["elicitation"], "declined", "{v}");
    let id = v["proposal_id"].as_str().context("proposal_id")?.to_string();
    assert_eq!(person.shown.lock().unwrap().len(), 1);

    let v =
        tool_ok(&client, "propose_standard", json!({ "domain": "reliability", "topic": "other", "content": CONTENT }))
            .await?;
    let other_id = v["proposal_id"].as_str().context("proposal_id")?.to_string();

    // The first round by hand: the form comes back as input_required, the
    // request state is a handle, and a retry for another proposal is refused
    // (and uses the state up).
    let args = json!({ "id": id, "decision": "approve" });
    let call = CallToolRequestParams::new("review_standard_proposal").with_arguments(args.as_object().unwrap().clone());
    let CallToolResponse::InputRequired(asked) = client.call_tool_once(call.clone()).await? else {
        bail!("approving on 2026-07-28 should ask for input");
    };
    let form = serde_json::to_value(&asked)?;
    assert_eq!(form["resultType"], "input_required", "{form}");
    assert_eq!(form["inputRequests"]["approval"]["method"], "elicitation/create", "{form}");
    let message = form["inputRequests"]["approval"]["params"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Approve this project standard?") && message.contains("Retry budgets"), "{message}");
    let state = asked.request_state.clone().context("requestState")?;
    let accept = json!({ "action": "accept", "content": { "decision": "approve", "reviewer": "Ada Lovelace" } });
    let responses: rmcp::model::InputResponses = [("approval".to_string(), accept.clone())].into();
    let other = CallToolRequestParams::new("review_standard_proposal")
        .with_arguments(json!({ "id": other_id, "decision": "approve" }).as_object().unwrap().clone())
        .with_input_responses(responses.clone())
        .with_request_state(state.clone());
    let refused = match client.call_tool_once(other).await? {
        CallToolResponse::Complete(r) => r,
        _ => bail!("a retry for another proposal is answered, not asked again"),
    };
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    assert!(text_of(&refused).contains("not for an approval form"), "{}", text_of(&refused));
    assert!(!dir.path().join(".agent-os/standards/reliability/other.md").exists());

    // The state was single-use: the genuine retry is refused too, and writes nothing.
    let retry = call.clone().with_input_responses(responses.clone()).with_request_state(state);
    match client.call_tool_once(retry).await? {
        CallToolResponse::Complete(r) => {
            assert_eq!(r.is_error, Some(true), "a used state is refused: {r:?}");
            assert!(text_of(&r).contains("not for an approval form"), "{}", text_of(&r));
            assert!(!dir.path().join(".agent-os/standards/reliability/retry-budgets.md").exists());
        }
        _ => bail!("a used request state is refused"),
    }

    // Through the client's own round-trip driver: the person accepts.
    person.script.lock().unwrap().push(json!({ "decision": "approve", "reviewer": "Ada Lovelace" }));
    let approved = tool_ok(&client, "review_standard_proposal", args).await?;
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["approved_by"], "Ada Lovelace", "{approved}");
    assert_eq!(approved["elicitation"], "approve", "{approved}");
    let written = std::fs::read_to_string(dir.path().join(".agent-os/standards/reliability/retry-budgets.md"))?;
    assert!(written.contains("Every client caps retries"), "{written}");
    assert_eq!(person.shown.lock().unwrap().len(), 3);
    client.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn approval_on_2026_without_forms_gives_the_command() -> Result<()> {
    let dir = project();
    let (_child, client) = start(dir.path(), Modern::default()).await?;
    let v = tool_ok(
        &client,
        "propose_standard",
        json!({ "domain": "reliability", "topic": "budgets", "content": CONTENT }),
    )
    .await?;
    assert!(v.get("elicitation").is_none(), "no form without the capability: {v}");
    let e = crate::support::tool_err(
        &client,
        "review_standard_proposal",
        json!({ "id": v["proposal_id"], "decision": "approve" }),
    )
    .await?;
    assert!(e.contains("agent-os standards review"), "{e}");
    client.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn a_tasks_client_gets_the_job_as_a_task_and_can_get_and_cancel_it() -> Result<()> {
    let dir = project();
    install_guest(dir.path(), "spin", 600, 64);
    let (_child, client) = start(dir.path(), Modern { tasks: true, ..Default::default() }).await?;

    // invoke_* answers with a task whose id is the job id.
    let call = CallToolRequestParams::new("invoke_engineer")
        .with_arguments(json!({ "task": "review", "context": "let x = y.unwrap();\n" }).as_object().unwrap().clone());
    let CallToolResponse::Task(created) = client.call_tool_once(call).await? else {
        bail!("a client with the tasks extension gets a task");
    };
    let task_id = created.task.task_id.clone();
    assert_eq!(created.task.status, TaskStatus::Working);
    assert!(created.task.poll_interval_ms.is_some());
    let job = tool_ok(&client, "check_persona_job", json!({ "job_id": task_id })).await?;
    assert_eq!(job["job_id"], task_id.as_str(), "the task is the job: {job}");

    // tasks/get until it completes; the result is the review.
    let start = Instant::now();
    let result = loop {
        let got = client.get_task(GetTaskParams::new(task_id.clone())).await?;
        match got.task.payload {
            TaskPayload::Completed { result } => break result,
            TaskPayload::Working => {}
            other => bail!("unexpected task state {other:?}"),
        }
        if start.elapsed() > Duration::from_secs(120) {
            bail!("task {task_id} never completed");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let result = Value::Object(result);
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["status"], "complete", "{result}");
    assert_eq!(result["structuredContent"]["job_id"], task_id.as_str(), "{result}");
    assert!(result["content"][0]["text"].as_str().unwrap_or_default().contains("unwrap() can panic"), "{result}");

    // A long job: cancelled through tasks/cancel, seen as cancelled by both views.
    let call = CallToolRequestParams::new("invoke_spin")
        .with_arguments(json!({ "task": "spin" }).as_object().unwrap().clone());
    let CallToolResponse::Task(spinning) = client.call_tool_once(call).await? else { bail!("a task") };
    let spin_id = spinning.task.task_id.clone();
    client.cancel_task(CancelTaskParams::new(spin_id.clone())).await?;
    let start = Instant::now();
    loop {
        let got = client.get_task(GetTaskParams::new(spin_id.clone())).await?;
        if got.task.status() == TaskStatus::Cancelled {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("task {spin_id} not cancelled: {:?}", got.task);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job = tool_ok(&client, "check_persona_job", json!({ "job_id": spin_id })).await?;
    assert_eq!(job["status"], "cancelled", "{job}");

    // An unknown task id is an error, not a task.
    assert!(client.get_task(GetTaskParams::new("no-such-task")).await.is_err());
    client.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn a_client_without_the_tasks_extension_is_refused_tasks_methods() -> Result<()> {
    let dir = project();
    let (_child, client) = start(dir.path(), Modern::default()).await?;
    let started = tool_ok(&client, "invoke_qa", json!({ "task": "review", "context": "fn f() {}" })).await?;
    let job = started["job_id"].as_str().context("job_id")?.to_string();
    let refused = client.get_task(GetTaskParams::new(job.clone())).await;
    let e = format!("{:?}", refused.err().context("tasks/get without the extension must fail")?);
    assert!(e.contains("-32021") || e.contains("MissingRequiredClientCapability") || e.contains("32021"), "{e}");
    wait_job(&client, &job).await?;
    client.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn a_2025_client_declaring_the_tasks_extension_keeps_the_job_id_answer() -> Result<()> {
    // The extension belongs to 2026-07-28; on the older generations (which had
    // their own task wire) invoke_* answers as it always did.
    let dir = project();
    let mut child = spawn_server(dir.path(), &[], &[])?;
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client = rmcp::ServiceExt::serve(Modern { tasks: true, ..Default::default() }, io).await?;
    let info = client.peer_info().context("initialized")?;
    assert!(info.protocol_version.as_str() < V2026, "{info:?}");
    let started = tool_ok(&client, "invoke_qa", json!({ "task": "review", "context": "fn f() {}" })).await?;
    assert_eq!(started["status"], "started", "{started}");
    wait_job(&client, started["job_id"].as_str().context("job_id")?).await?;
    client.cancel().await?;
    Ok(())
}

/// A `subscriptions/listen` request held open over HTTP: every JSON-RPC
/// message of its SSE stream, as it arrives.
async fn listen_http(
    port: u16,
    bearer: &str,
    notifications: Value,
) -> Result<tokio::sync::mpsc::UnboundedReceiver<Value>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = json!({ "jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen", "params": {
        "notifications": notifications,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": V2026,
            "io.modelcontextprotocol/clientInfo": { "name": "e2e-raw", "version": "0" },
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    }})
    .to_string();
    let req = format!(
        "POST /mcp HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nAuthorization: {bearer}\r\nMCP-Protocol-Version: {V2026}\r\n\
         Mcp-Method: subscriptions/listen\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(req.as_bytes()).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut raw = String::new();
        let mut buf = [0u8; 4096];
        let mut head_done = false;
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
            raw.push_str(&String::from_utf8_lossy(&buf[..n]));
            if !head_done {
                let Some((head, rest)) = raw.split_once("\r\n\r\n") else { continue };
                if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
                    let _ = tx.send(json!({ "http": head }));
                    break;
                }
                raw = rest.to_string();
                head_done = true;
            }
            // Whole SSE events only; keep a partial one for the next read.
            let text = raw.replace("\r\n", "\n");
            let Some(end) = text.rfind("\n\n") else { continue };
            for event in text[..end].split("\n\n") {
                let data: String =
                    event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect::<Vec<_>>().join("");
                if let Ok(v) = serde_json::from_str::<Value>(&data) {
                    let _ = tx.send(v);
                }
            }
            raw = text[end + 2..].to_string();
        }
    });
    Ok(rx)
}

/// The next message of the stream whose method is `method`, within `limit`.
async fn heard(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Value>, method: &str, limit: Duration) -> Result<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(v)) if v["method"] == method => return Ok(v),
            Ok(Some(v)) if v.get("http").is_some() || v.get("error").is_some() => bail!("listen refused: {v}"),
            Ok(Some(_)) => {}
            Ok(None) => bail!("the listen stream closed before {method}"),
            Err(_) => bail!("no {method} within {limit:?}"),
        }
    }
}

#[tokio::test]
async fn http_2026_listen_hears_installed_personas_and_edited_standards() -> Result<()> {
    let dir = project();
    let key = ".agent-os/standards/security/listen-tokens.md";
    let path = dir.path().join(key);
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, "# Listen tokens\n\nRotate quokka listen tokens every day.\n")?;
    let port = free_port();
    let token = "generations-token-0123456789abcdef";
    let _child = http_server(dir.path(), port, &[], &[("AGENT_OS_HTTP_TOKEN", token)]).await?;
    let bearer = format!("Bearer {token}");

    // The standard is in the index before anyone listens.
    let start = Instant::now();
    loop {
        let r = post26(
            port,
            &bearer,
            1,
            "tools/call",
            json!({ "name": "search_standards", "arguments": { "query": "quokka listen tokens" } }),
        )
        .await?;
        if r["structuredContent"]["results"].as_array().is_some_and(|a| a.iter().any(|h| h["path"] == key)) {
            break;
        }
        if start.elapsed() > Duration::from_secs(90) {
            bail!("{key} never indexed: {r}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let uri = format!("agent-os://standards/{key}");
    let mut rx = listen_http(
        port,
        &bearer,
        json!({ "toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true,
                "resourceSubscriptions": [uri, "https://elsewhere.example/x"] }),
    )
    .await?;
    let ack = heard(&mut rx, "notifications/subscriptions/acknowledged", Duration::from_secs(10)).await?;
    let accepted = &ack["params"]["notifications"];
    assert_eq!(accepted["toolsListChanged"], true, "{ack}");
    assert_eq!(accepted["resourceSubscriptions"], json!([uri]), "only agent-os:// URIs are followed: {ack}");
    assert_eq!(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "listen-1", "{ack}");

    install_guest(dir.path(), "spin", 600, 64);
    let installed = Instant::now();
    let note = heard(&mut rx, "notifications/tools/list_changed", Duration::from_secs(3)).await?;
    assert_eq!(note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "listen-1", "{note}");
    heard(&mut rx, "notifications/prompts/list_changed", Duration::from_secs(3).saturating_sub(installed.elapsed()))
        .await?;
    let tools = post26(port, &bearer, 2, "tools/list", json!({})).await?;
    assert!(tools["tools"].as_array().is_some_and(|t| t.iter().any(|t| t["name"] == "invoke_spin")), "{tools}");
    let prompts = post26(port, &bearer, 3, "prompts/list", json!({})).await?;
    assert!(prompts["prompts"].as_array().is_some_and(|p| p.iter().any(|p| p["name"] == "spin")), "{prompts}");
    assert!(installed.elapsed() < Duration::from_secs(3), "listed after {:?}", installed.elapsed());

    // Editing the followed standard: the resource list changed, and resources/updated for its URI.
    std::fs::write(&path, "# Listen tokens\n\nRotate quokka listen tokens every hour.\n")?;
    heard(&mut rx, "notifications/resources/list_changed", Duration::from_secs(60)).await?;
    let updated = heard(&mut rx, "notifications/resources/updated", Duration::from_secs(60)).await?;
    assert_eq!(updated["params"]["uri"], uri.as_str(), "{updated}");

    // The client cancels the subscription, as the TypeScript SDK v2 does: a
    // notification without the Mcp-Method header (its body names the method).
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": {
        "requestId": "listen-1",
        "_meta": { "io.modelcontextprotocol/protocolVersion": V2026 } } });
    let (status, head, body) =
        exchange(port, &[("Authorization", &bearer), ("MCP-Protocol-Version", V2026)], &cancel).await?;
    assert_eq!(status, 202, "{head}\n{body}");
    // Accepted (not -32020). Over stateless HTTP the subscription itself ends
    // when the client closes its stream, which the TypeScript SDK also does.
    drop(rx);
    Ok(())
}
