use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::support::{Server, install_guest, project};

#[tokio::test]
async fn jobs_survive_a_restart_and_a_killed_running_job_does_not_stay_running() -> Result<()> {
    let dir = project();
    install_guest(dir.path(), "spin", 3, 64);
    let server = Server::start_with(dir.path(), &["--workers", "1"]).await?;

    let finished = server.invoke("qa", json!({ "task": "review the tests", "context": "assert!(true)" })).await?;
    let done = server.wait(&finished, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");

    let looping = server.invoke("spin", json!({ "task": "loop" })).await?;
    server.wait_for_status(&looping, "running", Duration::from_secs(60)).await?;
    // Queued behind the running job (one worker), so still pending when killed.
    let queued = server.invoke("security", json!({ "task": "later", "context": "x" })).await?;
    server.kill9().await?;

    let server = Server::start(dir.path()).await?;
    let v = server.ok("check_persona_job", json!({ "job_id": finished })).await?;
    assert_eq!(v["status"], "complete");
    assert_eq!(v["result"], done["result"]);

    // The interrupted job is re-queued once and then ends (here: its timeout).
    let v = server.wait(&looping, Duration::from_secs(120)).await?;
    assert_eq!(v["status"], "failed", "{v}");
    assert!(v["error"].as_str().unwrap().contains("timed out"), "{v}");
    // The pending one resumes and completes.
    let v = server.wait(&queued, Duration::from_secs(120)).await?;
    assert_eq!(v["status"], "complete", "{v}");

    let all = server.ok("list_persona_jobs", json!({ "limit": 50 })).await?;
    for j in all["jobs"].as_array().unwrap() {
        assert!(!matches!(j["status"].as_str(), Some("running" | "pending")), "{j}");
    }
    server.stop().await
}

#[tokio::test]
async fn a_job_killed_twice_is_failed_with_a_reason() -> Result<()> {
    let dir = project();
    install_guest(dir.path(), "spin", 600, 64);
    let server = Server::start(dir.path()).await?;
    let id = server.invoke("spin", json!({ "task": "loop" })).await?;
    server.wait_for_status(&id, "running", Duration::from_secs(60)).await?;
    server.kill9().await?;

    // First restart: re-queued and running again (attempt 2).
    let server = Server::start(dir.path()).await?;
    server.wait_for_status(&id, "running", Duration::from_secs(60)).await?;
    server.kill9().await?;

    // Second restart: not retried again.
    let server = Server::start(dir.path()).await?;
    let v = server.wait(&id, Duration::from_secs(30)).await?;
    assert_eq!(v["status"], "failed", "{v}");
    assert!(v["error"].as_str().unwrap().contains("server restart"), "{v}");
    server.stop().await
}
