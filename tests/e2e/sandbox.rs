use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::support::{Server, install_guest, project};

#[tokio::test]
async fn a_trapping_and_a_looping_persona_fail_with_reasons_and_the_server_carries_on() -> Result<()> {
    let dir = project();
    install_guest(dir.path(), "trap", 30, 64);
    // Long enough for the guest to report progress on a loaded machine.
    install_guest(dir.path(), "spin", 6, 64);
    let server = Server::start(dir.path()).await?;

    let trap = server.invoke("trap", json!({ "task": "crash please" })).await?;
    let spin = server.invoke("spin", json!({ "task": "loop forever" })).await?;

    let done = server.wait(&trap, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("crashed"), "{error}");
    assert!(error.contains("deliberate failure"), "the guest's panic message is kept: {error}");

    let started = Instant::now();
    let done = server.wait(&spin, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"], "timed out after 6 s", "{done}");
    assert!(done["partial_result"].as_str().unwrap().contains("spinning"), "{done}");
    assert!(started.elapsed() < Duration::from_secs(60));

    // The same components still work, and so does everything else.
    let ok = server.invoke("trap", json!({ "task": "ok" })).await?;
    assert_eq!(server.wait(&ok, Duration::from_secs(60)).await?["result"], "fine");
    let sec = server.invoke("security", json!({ "task": "review", "context": "nothing here" })).await?;
    assert_eq!(server.wait(&sec, Duration::from_secs(120)).await?["status"], "complete");
    server.stop().await
}

#[tokio::test]
async fn cancelling_a_looping_persona_stops_it() -> Result<()> {
    let dir = project();
    install_guest(dir.path(), "spin", 600, 64);
    let server = Server::start(dir.path()).await?;

    let id = server.invoke("spin", json!({ "task": "loop forever" })).await?;
    server.wait_for_status(&id, "running", Duration::from_secs(120)).await?;
    // Wait until the guest itself runs (its progress report), not just the instantiation.
    let start = Instant::now();
    loop {
        let v = server.ok("check_persona_job", json!({ "job_id": id })).await?;
        if v["progress"]["message"] == "spinning" || start.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let t0 = Instant::now();
    let c = server.ok("cancel_persona_job", json!({ "job_id": id })).await?;
    assert_eq!(c["status"], "cancelled", "{c}");
    let v = server.wait(&id, Duration::from_secs(5)).await?;
    assert_eq!(v["status"], "cancelled");
    assert!(t0.elapsed() < Duration::from_secs(5));

    // The worker is free again: a new job runs to completion.
    let next = server.invoke("spin", json!({ "task": "ok" })).await?;
    assert_eq!(server.wait(&next, Duration::from_secs(60)).await?["status"], "complete");
    // And the cancelled job stays cancelled.
    let v = server.ok("check_persona_job", json!({ "job_id": id })).await?;
    assert_eq!(v["status"], "cancelled");
    server.stop().await
}
