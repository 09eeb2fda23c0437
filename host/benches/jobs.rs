//! Job-store figures: job creation and lookup latency with 10,000 jobs
//! already in the table, and database size per 1,000 jobs. Prints numbers.
//!
//! Run: `cargo bench -p agent-os --bench jobs` (add `--profile dev` for a
//! quicker build).

use std::time::Instant;

use agent_os::jobs::{Jobs, NewJob, Priority};

fn job(i: usize) -> NewJob {
    NewJob {
        persona: ["architect", "engineer", "data", "qa", "security", "sre"][i % 6].to_string(),
        task: format!("review change {i}: the login handler and its session store"),
        context: Some("fn login(user: &str, password: &str) -> Result<Session, Error> { /* ... */ }\n".repeat(8)),
        feedback: None,
        priority: Priority::Normal,
    }
}

fn stats(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[(((v.len() - 1) as f64) * p).round() as usize];
    println!("{name:<44} n={:<6} p50={:>7.3} ms  p99={:>7.3} ms  max={:>7.3} ms", v.len(), at(0.5), at(0.99), at(1.0));
}

#[tokio::main]
async fn main() {
    println!("agent-os jobs benchmark ({})", if cfg!(debug_assertions) { "dev profile" } else { "release profile" });
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::open(&dir.path().join("jobs.db")).unwrap();
    let t = Instant::now();
    let mut ids = Vec::new();
    for i in 0..10_000 {
        ids.push(jobs.submit(job(i)).await.unwrap().id);
    }
    println!("10,000 jobs inserted one by one in {:.2} s", t.elapsed().as_secs_f64());
    let s = jobs.stats().await.unwrap();
    println!(
        "database size: {:.2} MB for {} jobs ({:.3} MB per 1,000)",
        s.size_bytes as f64 / 1048576.0,
        s.total,
        s.size_bytes as f64 / 1048576.0 / 10.0
    );

    let mut create = Vec::new();
    for i in 0..2_000 {
        let t = Instant::now();
        jobs.submit(job(10_000 + i)).await.unwrap();
        create.push(t.elapsed().as_secs_f64() * 1e3);
    }
    stats("create job (10,000+ rows in the table)", create);
    let mut get = Vec::new();
    for i in 0..2_000 {
        let id = &ids[(i * 7919) % ids.len()];
        let t = Instant::now();
        jobs.get(id).await.unwrap();
        get.push(t.elapsed().as_secs_f64() * 1e3);
    }
    stats("get job by id (check_persona_job's lookup)", get);
    let mut list = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        jobs.list(agent_os::jobs::ListFilter { status: None, persona: Some("qa".into()), limit: 10 }).await.unwrap();
        list.push(t.elapsed().as_secs_f64() * 1e3);
    }
    stats("list 10 jobs of one persona", list);
}
