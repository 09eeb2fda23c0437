//! Walking-skeleton figures: cold start until tools/list answers, invoke_*
//! round trip, check_persona_job round trip, persona instantiation with a
//! warm compile cache, and a cold compile. Prints numbers; asserts nothing.
//!
//! Run: `cargo bench -p agent-os --bench skeleton` (release) or add
//! `--profile dev` for a quick look with an unoptimised build.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_os::personas::Registry;
use agent_os::plugins::{HostServices, Runtime};
use agent_os::project::Project;
use serde_json::json;

mod common;
use common::{call, spawn};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<44} n={:<5} p50={:>9.3} ms  p95={:>9.3} ms  p99={:>9.3} ms  max={:>9.3} ms",
        samples.len(),
        pct(&samples, 0.50).as_secs_f64() * 1e3,
        pct(&samples, 0.95).as_secs_f64() * 1e3,
        pct(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "agent-os skeleton benchmark ({})",
        if cfg!(debug_assertions) { "dev profile" } else { "release profile" }
    );

    // Cold start: process spawn, MCP initialize, tools/list.
    let mut cold = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let (child, client) = spawn(dir.path()).await;
        client.list_all_tools().await.unwrap();
        cold.push(t.elapsed());
        let _ = client.cancel().await;
        drop(child);
    }
    report("cold start until tools/list answers", cold);

    let (_child, client) = spawn(dir.path()).await;
    // Let the background compile of the personas finish first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut invoke = Vec::new();
    let mut ids = Vec::new();
    for i in 0..300 {
        let t = Instant::now();
        let v = call(&client, "invoke_qa", json!({ "task": format!("bench {i}"), "context": "assert!(true)" })).await;
        invoke.push(t.elapsed());
        ids.push(v["job_id"].as_str().unwrap().to_string());
    }
    report("invoke_qa round trip (MCP stdio)", invoke);

    let mut check = Vec::new();
    for id in ids.iter().take(300) {
        let t = Instant::now();
        call(&client, "check_persona_job", json!({ "job_id": id })).await;
        check.push(t.elapsed());
    }
    report("check_persona_job round trip", check);

    let t = Instant::now();
    for id in &ids {
        loop {
            let v = call(&client, "check_persona_job", json!({ "job_id": id })).await;
            if v["status"] != "pending" && v["status"] != "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    println!(
        "{:<44} {} jobs drained in {:.2} s",
        "300 queued qa jobs, 3 workers",
        ids.len(),
        t.elapsed().as_secs_f64()
    );
    let _ = client.cancel().await;

    // In-process: compile and instantiate the security persona.
    let project = Project::new(dir.path());
    let registry = Registry::builtin();
    let def = registry.get("security").unwrap();
    let services = Arc::new(HostServices {
        project: project.clone(),
        search: None,
        standards: None,
        llm: agent_os::llm::LlmAccess::none(),
    });
    let cold_dir = tempfile::tempdir().unwrap();
    let mut compile = Vec::new();
    for _ in 0..3 {
        let rt = Runtime::new(cold_dir.path().join(format!("c{}", compile.len()))).unwrap();
        let t = Instant::now();
        rt.compile(&def).unwrap();
        compile.push(t.elapsed());
    }
    report("compile security component, empty cache", compile);

    let rt = Runtime::new(cold_dir.path().join("warm")).unwrap();
    rt.compile(&def).unwrap();
    let mut disk = Vec::new();
    for _ in 0..10 {
        let fresh = Runtime::new(cold_dir.path().join("warm")).unwrap();
        let t = Instant::now();
        fresh.compile(&def).unwrap();
        disk.push(t.elapsed());
    }
    report("load compiled component from disk cache", disk);

    let mut inst = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        rt.describe(def.clone(), services.clone()).await.unwrap();
        inst.push(t.elapsed());
    }
    report("instantiate + describe (warm cache)", inst);
}
