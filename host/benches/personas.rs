//! Every core persona's component: size, compile time (Cranelift, the
//! median of three, what a first start pays when no compiled copy is cached)
//! and warm instantiate + review of a small context with the code its
//! analysis reads, in process, with no standards index and no language model
//! (the delegated brief).
//!
//! `cargo bench --bench personas` measures the built-in components (or
//! `cargo test --workspace --bench personas` for a debug build of the host);
//! set `AGENT_OS_PERSONAS_WASM_DIR` to a folder of
//! `agent_os_persona_<id>.wasm` files to measure other builds of them (e.g.
//! older ones) the same way. Prints figures; asserts nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_os::personas::{PersonaDef, Registry};
use agent_os::plugins::{HostServices, Runtime};
use agent_os::project::Project;

/// A context per persona: inline files its checks read.
const CASES: &[(&str, &str)] = &[
    (
        "architect",
        "```python app/__init__.py\nfrom flask import Flask\ndb = 1\nfrom app import models\n```\n```python app/models.py\nfrom app import db\n```\n",
    ),
    (
        "data",
        "```sql\n-- db/migrations/0042_orders.sql\nALTER TABLE orders ADD COLUMN region text NOT NULL;\nCREATE INDEX orders_region_idx ON orders (region);\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n```\n",
    ),
    (
        "engineer",
        "```rust src/frame.rs\npub fn read(buf: &[u8]) -> usize {\n    let n = u16::from_le_bytes([buf[0], buf[1]]);\n    let body = n as usize - 2;\n    body + buf.len().checked_sub(1).unwrap()\n}\n```\n",
    ),
    (
        "qa",
        "```python app/orders.py\ndef total(items):\n    return sum(i.price for i in items)\n```\n```python tests/test_misc.py\nimport time\n\ndef test_x():\n    time.sleep(1)\n    assert True\n```\n",
    ),
    (
        "security",
        "```python app/dao.py\nfrom hashlib import md5\n\ndef find(cur, name):\n    cur.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n\ndef check(u, pw):\n    return u.hash == md5(pw.encode()).hexdigest()\n```\n",
    ),
    (
        "sre",
        "```python app/client.py\nimport requests\n\ndef fetch(url):\n    return requests.get(url)\n```\n```python app/routes.py\ndef setup(app):\n    app.router.add_route('GET', '/', index)\n```\n",
    ),
];

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    // The minimum moves least when other work shares the cores.
    println!(
        "{name:<40} n={:<5} min={:>7.3} ms  p50={:>8.3} ms  p95={:>8.3} ms",
        samples.len(),
        at(0.0),
        at(0.5),
        at(0.95)
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::new(dir.path());
    let registry = Registry::builtin();
    let other = std::env::var("AGENT_OS_PERSONAS_WASM_DIR").ok();
    let services = Arc::new(HostServices {
        project: project.clone(),
        search: None,
        standards: None,
        llm: agent_os::llm::LlmAccess::none(),
    });
    let rt = Runtime::new(dir.path().join("warm")).unwrap();
    for (id, context) in CASES {
        let builtin = registry.get(id).unwrap();
        let def = match &other {
            Some(d) => {
                let bytes = std::fs::read(format!("{d}/agent_os_persona_{id}.wasm")).unwrap();
                let sha256 = format!("bench-{id}-{}", bytes.len());
                PersonaDef::new(builtin.manifest.clone(), builtin.prompt.clone(), bytes.into(), sha256, false)
            }
            None => PersonaDef::new(
                builtin.manifest.clone(),
                builtin.prompt.clone(),
                builtin.component.clone(),
                builtin.sha256.clone(),
                true,
            ),
        };
        let def = Arc::new(def);
        let mut compile = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            wasmtime::component::Component::new(rt.engine(), &*def.component).unwrap();
            compile.push(t.elapsed());
        }
        compile.sort();
        rt.compile(&def).unwrap();
        let out = rt.review_once(def.clone(), services.clone(), "Review this code", context).await.unwrap();
        let findings = out.lines().filter(|l| l.starts_with("- **")).count();
        let mut review = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            rt.review_once(def.clone(), services.clone(), "Review this code", context).await.unwrap();
            review.push(t.elapsed());
        }
        println!(
            "{id:<10} {:>9} bytes, compile {:.0} ms, {findings} finding(s)",
            def.component.len(),
            compile[1].as_secs_f64() * 1e3
        );
        report(&format!("  {id}: warm instantiate + review"), review);
    }
}
