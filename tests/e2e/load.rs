//! Jobs under load and under a kill: none lost, none duplicated, none run
//! twice, none left pending or running. Checked from jobs.db itself.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::support::{Server, install_guest, project};

const CORE: [&str; 6] = ["architect", "engineer", "data", "qa", "security", "sre"];

fn db(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(crate::support::state_path(dir, "jobs_db")).unwrap()
}

#[tokio::test]
async fn two_hundred_concurrent_jobs_all_finish_exactly_once() -> Result<()> {
    let dir = project();
    let server = std::sync::Arc::new(Server::start(dir.path()).await?);
    let mut calls = Vec::new();
    for i in 0..200 {
        let s = server.clone();
        calls.push(tokio::spawn(async move {
            let persona = CORE[i % CORE.len()];
            let priority = ["low", "normal", "high"][i % 3];
            s.invoke(
                persona,
                json!({ "task": format!("load task {i}"), "context": format!("fn f{i}() {{}}"), "priority": priority }),
            )
            .await
        }));
    }
    let mut ids = Vec::new();
    for c in calls {
        ids.push(c.await??);
    }
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 200, "duplicate job ids");
    // Wait for every job through the MCP client.
    for id in &ids {
        let v = server.wait(id, Duration::from_secs(600)).await?;
        assert_eq!(v["status"], "complete", "{v}");
    }
    let conn = db(dir.path());
    let (rows, distinct_tasks, complete, once): (i64, i64, i64, i64) = conn.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT task), SUM(status = 'complete'), SUM(attempts = 1) FROM jobs",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    assert_eq!((rows, distinct_tasks, complete, once), (200, 200, 200, 200));
    let per_persona: i64 = conn.query_row("SELECT COUNT(DISTINCT persona) FROM jobs", [], |r| r.get(0))?;
    assert_eq!(per_persona, 6);
    std::sync::Arc::into_inner(server).unwrap().stop().await
}

#[tokio::test]
async fn after_kill_9_with_twenty_jobs_in_flight_every_job_ends() -> Result<()> {
    let dir = project();
    // The loopers must outlive twenty invoke calls on a loaded machine (about
    // 5 s at a load average of 17), or they end before the kill: 20 s.
    install_guest(dir.path(), "spin", 20, 64);
    let server = Server::start_with(dir.path(), &["--workers", "3"]).await?;
    let mut ids = Vec::new();
    // Three loopers occupy the workers; seventeen more wait behind them.
    for i in 0..3 {
        ids.push(server.invoke("spin", json!({ "task": format!("loop {i}") })).await?);
    }
    for i in 0..17 {
        ids.push(server.invoke(CORE[i % 6], json!({ "task": format!("queued {i}"), "context": "x = 1" })).await?);
    }
    server.wait_for_status(&ids[0], "running", Duration::from_secs(60)).await?;
    server.kill9().await?;
    {
        let conn = db(dir.path());
        let in_flight: i64 =
            conn.query_row("SELECT COUNT(*) FROM jobs WHERE status IN ('pending','running')", [], |r| r.get(0))?;
        assert!(in_flight >= 17, "only {in_flight} jobs were in flight at the kill");
    }

    let server = Server::start(dir.path()).await?;
    for id in &ids {
        let v = server.wait(id, Duration::from_secs(300)).await?;
        let status = v["status"].as_str().unwrap();
        assert!(matches!(status, "complete" | "failed" | "cancelled"), "{v}");
        if status == "failed" {
            assert!(!v["error"].as_str().unwrap_or("").is_empty(), "failed without a reason: {v}");
        }
    }
    let conn = db(dir.path());
    let stuck: i64 =
        conn.query_row("SELECT COUNT(*) FROM jobs WHERE status IN ('pending','running')", [], |r| r.get(0))?;
    assert_eq!(stuck, 0);
    let total: i64 = conn.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))?;
    assert_eq!(total, 20);
    server.stop().await
}

#[tokio::test]
async fn stats_show_the_next_cleanup_and_bad_filters_name_the_allowed_values() -> Result<()> {
    let dir = project();
    let server = Server::start(dir.path()).await?;
    let v = server.ok("persona_database_stats", json!({})).await?;
    for field in [
        "database_size_mb",
        "total_jobs",
        "jobs_by_status",
        "oldest_job_days",
        "next_cleanup",
        "cleanup_recommendation",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    assert!(v["next_cleanup"].as_str().is_some_and(|s| s.ends_with('Z')), "{v}");
    let e = server.err("invoke_qa", json!({ "task": "x", "priority": "urgent" })).await?;
    assert!(e.contains("low, normal, high"), "{e}");
    let e = server.err("list_persona_jobs", json!({ "status": "done" })).await?;
    assert!(e.contains("pending, running, complete, failed, cancelled"), "{e}");
    for limit in [-1, 0, 1_000_000] {
        let e = server.err("list_persona_jobs", json!({ "limit": limit })).await?;
        assert!(e.contains("between 1 and 200"), "{e}");
    }
    let e = server.err("check_persona_job", json!({ "job_id": "x", "wait_seconds": 3600 })).await?;
    assert!(e.contains("between 0 and 60"), "{e}");
    server.stop().await
}
