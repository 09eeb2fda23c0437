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

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(ProgressToken, f64, Option<String>)>>>);

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
