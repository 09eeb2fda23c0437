//! MCP progress notifications: check_persona_job with wait_seconds and a
//! progressToken streams the job's progress until it ends.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use rmcp::model::{CallToolRequestParams, ProgressNotificationParam, ProgressToken};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;

use crate::support::{BIN, install_guest, project};

/// One progress notification: (token, progress, message).
type Heard = (ProgressToken, f64, Option<String>);

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Heard>>>);

impl ClientHandler for Recorder {
    async fn on_progress(&self, params: ProgressNotificationParam, _ctx: NotificationContext<RoleClient>) {
        self.0.lock().unwrap().push((params.progress_token, params.progress, params.message));
    }
}

#[tokio::test]
async fn waiting_on_a_job_streams_progress_notifications() -> Result<()> {
    let dir = project();
    install_guest(dir.path(), "spin", 3, 64);
    // A client that records progress notifications.
    let mut child = tokio::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(dir.path())
        .args(["serve", "--workers", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let recorder = Recorder::default();
    let client = recorder.clone().serve(io).await?;
    let call = |name: &str, args: serde_json::Value| {
        CallToolRequestParams::new(name.to_string()).with_arguments(args.as_object().unwrap().clone())
    };
    let started = client.call_tool(call("invoke_spin", json!({ "task": "loop" }))).await?;
    let id = started.structured_content.unwrap()["job_id"].as_str().unwrap().to_string();
    // rmcp's client attaches a progressToken to every request.
    let params = call("check_persona_job", json!({ "job_id": id, "wait_seconds": 30 }));
    let result = client.call_tool(params).await?;
    let v = result.structured_content.unwrap();
    assert_eq!(v["status"], "failed", "{v}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // rmcp's client gives every request its own token: keep the check call's.
    let all = recorder.0.lock().unwrap().clone();
    let token = all.iter().find(|(_, _, m)| m.as_deref() == Some("failed")).map(|(t, _, _)| t.clone());
    let seen: Vec<(f64, Option<String>)> =
        all.into_iter().filter(|(t, _, _)| Some(t) == token.as_ref()).map(|(_, p, m)| (p, m)).collect();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1].0 > w[0].0), "progress must increase: {seen:?}");
    assert!(seen.iter().any(|(_, m)| m.as_deref().is_some_and(|m| m.contains("spinning"))), "{seen:?}");
    assert_eq!(seen.last().unwrap().1.as_deref(), Some("failed"));
    let _ = client.cancel().await;
    Ok(())
}

/// Every progress notification of a call goes out before the call's response
/// (a client forgets the token once it has the response). The messages are
/// recorded as they cross the pipe, in wire order, both ways.
#[tokio::test]
async fn progress_never_follows_the_response() -> Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let dir = project();
    let mut child = tokio::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(dir.path())
        .args(["serve", "--workers", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let wire: Arc<Mutex<Vec<(bool, serde_json::Value)>>> = Arc::default();
    // server stdout -> recorder -> client
    let (client_in, mut to_client) = tokio::io::duplex(1 << 20);
    let mut server_out = BufReader::new(child.stdout.take().unwrap()).lines();
    let log = wire.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = server_out.next_line().await {
            if let Ok(v) = serde_json::from_str(&line) {
                log.lock().unwrap().push((true, v));
            }
            if to_client.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                break;
            }
        }
    });
    // client -> recorder -> server stdin
    let (from_client, client_out) = tokio::io::duplex(1 << 20);
    let mut server_in = child.stdin.take().unwrap();
    let log = wire.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(from_client).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(v) = serde_json::from_str(&line) {
                log.lock().unwrap().push((false, v));
            }
            if server_in.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let client = Recorder::default().serve((client_in, client_out)).await?;
    let call = |name: &str, args: serde_json::Value| {
        CallToolRequestParams::new(name.to_string()).with_arguments(args.as_object().unwrap().clone())
    };
    for run in 0..20 {
        let started =
            client.call_tool(call("invoke_security", json!({ "task": "review", "context": "x = 1\n" }))).await?;
        let id = started.structured_content.unwrap()["job_id"].as_str().unwrap().to_string();
        let done = client.call_tool(call("check_persona_job", json!({ "job_id": id, "wait_seconds": 30 }))).await?;
        assert_eq!(done.structured_content.unwrap()["status"], "complete", "run {run}");
    }
    // Let anything late arrive before judging.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wire = wire.lock().unwrap().clone();
    // The check calls: request id -> progress token.
    let checks: Vec<(serde_json::Value, serde_json::Value)> = wire
        .iter()
        .filter(|(from_server, v)| !from_server && v["params"]["name"] == "check_persona_job")
        .map(|(_, v)| (v["id"].clone(), v["params"]["_meta"]["progressToken"].clone()))
        .collect();
    assert_eq!(checks.len(), 20);
    let server: Vec<&serde_json::Value> = wire.iter().filter(|(s, _)| *s).map(|(_, v)| v).collect();
    let mut with_progress = 0;
    for (id, token) in &checks {
        assert!(!token.is_null(), "the client sent no progressToken");
        let response = server
            .iter()
            .position(|v| v["id"] == *id && v.get("result").is_some())
            .unwrap_or_else(|| panic!("no response to {id}"));
        let notes: Vec<usize> = server
            .iter()
            .enumerate()
            .filter(|(_, v)| v["method"] == "notifications/progress" && v["params"]["progressToken"] == *token)
            .map(|(i, _)| i)
            .collect();
        assert!(!notes.is_empty(), "no progress for call {id}");
        with_progress += 1;
        let late: Vec<&&serde_json::Value> = notes.iter().filter(|&&i| i > response).map(|&i| &server[i]).collect();
        assert!(late.is_empty(), "progress after the response to call {id}: {late:?}");
        assert_eq!(server[*notes.last().unwrap()]["params"]["message"], "complete");
    }
    assert_eq!(with_progress, 20);
    let _ = client.cancel().await;
    Ok(())
}
