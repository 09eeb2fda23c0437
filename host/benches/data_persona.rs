//! The data persona's component: size, compile time and warm
//! instantiate + review of a small migration, in process.
//!
//! `cargo bench --bench data_persona` measures the built-in component; set
//! `AGENT_OS_DATA_WASM=/path/to/agent_os_persona_data.wasm` to measure another
//! build of it (e.g. an older one) the same way. Prints figures; asserts nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_os::personas::{PersonaDef, Registry};
use agent_os::plugins::{HostServices, Runtime};
use agent_os::project::Project;

const CONTEXT: &str = "Review this migration:\n\n```sql\n-- db/migrations/0042_orders.sql\nALTER TABLE orders ADD COLUMN region text NOT NULL;\nCREATE INDEX orders_region_idx ON orders (region);\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n```\n";

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name:<44} n={:<5} p50={:>9.3} ms  p95={:>9.3} ms  max={:>9.3} ms",
        samples.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::new(dir.path());
    let registry = Registry::builtin();
    let builtin = registry.get("data").unwrap();
    let def = match std::env::var("AGENT_OS_DATA_WASM") {
        Ok(path) => {
            let bytes = std::fs::read(&path).unwrap();
            println!("component: {path}");
            let sha256 = format!("bench-{}", bytes.len());
            PersonaDef::new(builtin.manifest.clone(), builtin.prompt.clone(), bytes.into(), sha256, false)
        }
        Err(_) => PersonaDef::new(
            builtin.manifest.clone(),
            builtin.prompt.clone(),
            builtin.component.clone(),
            builtin.sha256.clone(),
            true,
        ),
    };
    println!("data component: {} bytes", def.component.len());
    let def = Arc::new(def);
    let services = Arc::new(HostServices {
        project: project.clone(),
        search: None,
        standards: None,
        llm: agent_os::llm::LlmAccess::none(),
    });
    let mut compile = Vec::new();
    for i in 0..3 {
        let rt = Runtime::new(dir.path().join(format!("c{i}"))).unwrap();
        let t = Instant::now();
        rt.compile(&def).unwrap();
        compile.push(t.elapsed());
    }
    report("compile data component, empty cache", compile);
    let rt = Runtime::new(dir.path().join("warm")).unwrap();
    rt.compile(&def).unwrap();
    let out = rt.review_once(def.clone(), services.clone(), "Review the migration", CONTEXT).await.unwrap();
    println!("finds the non-concurrent index: {}", out.contains("Index built without CONCURRENTLY"));
    let mut describe = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        rt.describe(def.clone(), services.clone()).await.unwrap();
        describe.push(t.elapsed());
    }
    report("instantiate + describe (warm cache)", describe);
    let mut review = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        rt.review_once(def.clone(), services.clone(), "Review the migration", CONTEXT).await.unwrap();
        review.push(t.elapsed());
    }
    report("instantiate + review, 3-statement migration", review);
}
