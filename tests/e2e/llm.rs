//! Persona reviews written by a language model: the OpenAI-compatible and
//! Anthropic providers against a real HTTP double on loopback, retries,
//! failures, a missing key and cancellation during the model call.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::llm_double::{Double, Reply};
use crate::support::{Server, project};

const PHASES: [&str; 4] = ["initializing", "searching", "analyzing", "generating"];

const QUEUES_MD: &str = "---\ndomain: architecture\n---\n# Payment queues\n\nEvery payment queue is owned by exactly one service; other services publish to it through the ledger gateway and never read it directly.\n\n## Retention\n\nSettled payment messages are kept for fourteen days, then archived to cold storage.\n";
const QUEUES_PATH: &str = ".agent-os/standards/architecture/payment-queues.md";
const ANSWER: &str = "**Verdict:** approve with changes — the refund worker reads the payment queue directly (`architecture/payment-queues.md` § Payment queues). [double-7f3a]";

fn write_standard(root: &Path) {
    let p = root.join(QUEUES_PATH);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, QUEUES_MD).unwrap();
}

/// Writes the project's [llm] and trusts it (an untrusted one is ignored).
fn write_config(root: &Path, llm: &str) {
    std::fs::create_dir_all(root.join(".agent-os")).unwrap();
    std::fs::write(root.join(".agent-os/config.toml"), format!("[llm]\n{llm}")).unwrap();
    crate::support::trust(root, &[]);
}

/// Debug logs of the plugin host carry every progress report.
const LOG_ENV: (&str, &str) = ("AGENT_OS_LOG", "info,agent_os::plugins=debug");

/// Polls as fast as it can, collecting the phases seen while the job runs.
async fn poll_phases(s: &Server, id: &str, limit: Duration) -> Result<(Value, Vec<String>)> {
    let start = Instant::now();
    let mut phases: Vec<String> = Vec::new();
    loop {
        let v = s.ok("check_persona_job", json!({ "job_id": id })).await?;
        match v["status"].as_str().unwrap_or_default() {
            "pending" | "running" => {
                if let Some(p) = v["progress"]["phase"].as_str()
                    && phases.last().map(String::as_str) != Some(p)
                {
                    phases.push(p.to_string());
                }
            }
            _ => return Ok((v, phases)),
        }
        if start.elapsed() > limit {
            bail!("job {id} did not finish within {limit:?}: {v}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The phases, in order, that the server logged for job `id`.
fn logged_phases(root: &Path, id: &str) -> Vec<String> {
    let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for line in log.lines().filter(|l| l.contains(id) && l.contains("progress:")) {
        if let Some(p) =
            PHASES.iter().find(|p| line.contains(&format!("phase=\"{p}\"")) || line.contains(&format!("phase={p} ")))
            && out.last().map(String::as_str) != Some(*p)
        {
            out.push(p.to_string());
        }
    }
    out
}

/// Whether `seen` follows the phase order without going back.
fn in_phase_order(seen: &[String]) -> bool {
    let ranks: Vec<usize> = seen.iter().filter_map(|p| PHASES.iter().position(|q| q == p)).collect();
    ranks.len() == seen.len() && ranks.windows(2).all(|w| w[0] < w[1])
}

#[tokio::test]
async fn architect_review_is_written_by_an_openai_compatible_model() -> Result<()> {
    let dir = project();
    write_standard(dir.path());
    // The answer takes 1.5 s, long enough to watch the generating phase.
    let double = Double::start(|_, _| Reply::openai(ANSWER, 1234, 56).after(Duration::from_millis(1500))).await;
    write_config(
        dir.path(),
        &format!(
            "provider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"test-model\"\napi_key_env = \"AGENT_OS_E2E_LLM_KEY\"\n",
            double.url()
        ),
    );
    let s = Server::start_env(dir.path(), &[], &[("AGENT_OS_E2E_LLM_KEY", "sk-e2e-secret"), LOG_ENV]).await?;
    s.wait_indexed("who owns the payment queue", QUEUES_PATH).await?;

    let task = "review the payment queue design of the refund worker";
    let context =
        "fn refund(q: &PaymentQueue) {\n    let msg = q.read_direct();\n    std::thread::sleep(ONE_SECOND);\n}\n";
    let id = s.invoke("architect", json!({ "task": task, "context": context })).await?;
    let (done, polled) = poll_phases(&s, &id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");

    // Progress: polling sees generating while the model thinks, never out
    // of order; the log has every phase in order.
    assert!(polled.iter().any(|p| p == "generating"), "polling never saw generating: {polled:?}");
    assert!(in_phase_order(&polled), "{polled:?}");
    assert_eq!(logged_phases(dir.path(), &id), PHASES, "phases in the server log");

    // The provider got one request: the persona prompt as the system
    // message; the task, context and retrieved standards (quoted, fenced) as
    // the user message.
    let reqs = double.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(r.header("authorization"), Some("Bearer sk-e2e-secret"));
    assert_eq!(r.body["model"], "test-model");
    assert_eq!(r.body["max_tokens"], 2048);
    let msgs = r.body["messages"].as_array().context("messages")?;
    assert_eq!(msgs[0]["role"], "system");
    let system = msgs[0]["content"].as_str().unwrap();
    let prompt = std::fs::read_to_string(crate::support::repo().join("personas/architect/prompt.md"))?;
    assert!(system.starts_with(prompt.trim()), "the system message starts with the persona prompt: {system}");
    assert!(!system.contains(QUEUES_PATH), "no quoted standard in the system message: {system}");
    assert_eq!(msgs[1]["role"], "user");
    let user = msgs[1]["content"].as_str().unwrap();
    assert!(
        user.contains(QUEUES_PATH)
            && user.contains("````quoted-standard\n")
            && user.contains("owned by exactly one service"),
        "retrieved standard missing or not quoted: {user}"
    );
    assert!(user.contains(task) && user.contains("q.read_direct()"), "{user}");
    assert!(user.contains("(line 3): Blocking sleep"), "automated findings go to the model: {user}");

    // The result is the model's review, with the standards it used cited.
    let result = done["result"].as_str().unwrap();
    assert!(result.contains("[double-7f3a]"), "{result}");
    assert!(!result.contains("delegated brief"), "{result}");
    assert!(result.contains("## Standards consulted") && result.contains(QUEUES_PATH), "{result}");
    assert_eq!(done["tokens_used"], json!({ "input": 1234, "output": 56 }), "{done}");
    assert!(done["tool_calls_made"].as_i64().unwrap() >= 2, "search and complete are counted: {done}");
    // The key never reaches the log.
    let log = std::fs::read_to_string(dir.path().join("server.log"))?;
    assert!(!log.contains("sk-e2e-secret"));
    s.stop().await
}

#[tokio::test]
async fn a_provider_that_keeps_failing_fails_the_job_after_its_retries() -> Result<()> {
    let dir = project();
    let double = Double::start(|_, _| {
        Reply::json(500, json!({ "error": { "message": "upstream exploded", "type": "server_error" } }))
    })
    .await;
    write_config(
        dir.path(),
        &format!(
            "provider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"test-model\"\nmax_retries = 2\n",
            double.url()
        ),
    );
    let s = Server::start_env(dir.path(), &[], &[LOG_ENV]).await?;
    let id = s.invoke("engineer", json!({ "task": "review the retry loop" })).await?;
    let done = s.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "failed", "{done}");
    let reqs = double.requests();
    assert_eq!(reqs.len(), 3, "max_retries + 1 requests: {reqs:?}");
    // Backoff: the retries were spaced out, not fired back to back.
    let gaps: Vec<Duration> = reqs.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(240) && gaps[1] >= Duration::from_millis(490), "{gaps:?}");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("the language model call failed"), "{error}");
    assert!(error.contains("HTTP 500") && error.contains("after 3 attempts (2 retries)"), "{error}");
    assert!(
        error.contains(&format!("{}/v1/chat/completions", double.url())) && error.contains("upstream exploded"),
        "{error}"
    );
    // The partial result keeps the progress the persona made, in order.
    let partial = done["partial_result"].as_str().unwrap_or_default();
    let order: Vec<usize> = PHASES.iter().map(|p| partial.find(&format!("- {p} ")).unwrap_or(usize::MAX)).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]) && order[3] != usize::MAX, "{partial}");
    s.stop().await
}

#[tokio::test]
async fn anthropic_messages_api_writes_the_review() -> Result<()> {
    let dir = project();
    let double = Double::start(|_, _| Reply::anthropic("Verdict: approve. [anthropic-double-91]", 2048, 300)).await;
    write_config(
        dir.path(),
        &format!(
            "provider = \"anthropic\"\nbase_url = \"{}\"\nmodel = \"claude-test\"\napi_key_env = \"AGENT_OS_E2E_ANTHROPIC\"\n",
            double.url()
        ),
    );
    // The context names a file by its path only; the persona reads it and
    // the model gets its contents.
    std::fs::create_dir_all(dir.path().join("src"))?;
    std::fs::write(dir.path().join("src/health.rs"), "pub fn healthz() -> u16 {\n    200 // HEALTH-7c1\n}\n")?;
    let s = Server::start_env(dir.path(), &[], &[("AGENT_OS_E2E_ANTHROPIC", "ak-e2e-1")]).await?;
    let id = s.invoke("sre", json!({ "task": "review the health check endpoint", "context": "src/health.rs" })).await?;
    let done = s.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    assert!(done["result"].as_str().unwrap().contains("[anthropic-double-91]"), "{done}");
    assert_eq!(done["tokens_used"], json!({ "input": 2048, "output": 300 }));
    let reqs = double.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key"), Some("ak-e2e-1"));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert!(r.header("authorization").is_none());
    assert_eq!(r.body["model"], "claude-test");
    assert!(r.body["system"].as_str().unwrap().contains("Site Reliability Engineer"), "{}", r.body);
    let msgs = r.body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "the system prompt is not a message: {msgs:?}");
    assert_eq!(msgs[0]["role"], "user");
    let user = msgs[0]["content"].as_str().unwrap();
    assert!(user.contains("review the health check endpoint"), "{user}");
    assert!(
        user.contains("### `src/health.rs`") && user.contains("200 // HEALTH-7c1"),
        "the file read reaches the model: {user}"
    );
    s.stop().await
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_the_wait_the_provider_asks_for() -> Result<()> {
    let dir = project();
    let double = Double::start(|n, _| match n {
        0 => Reply::json(429, json!({ "error": { "message": "slow down" } })).header("Retry-After", "1"),
        _ => Reply::openai("All good. [after-429]", 10, 5),
    })
    .await;
    write_config(dir.path(), &format!("provider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\n", double.url()));
    let s = Server::start(dir.path()).await?;
    let id = s.invoke("qa", json!({ "task": "review the test plan" })).await?;
    let done = s.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    assert!(done["result"].as_str().unwrap().contains("[after-429]"));
    let reqs = double.requests();
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(950), "Retry-After: 1 was not honoured: {gap:?}");
    s.stop().await
}

#[tokio::test]
async fn a_missing_api_key_gives_a_delegated_brief_that_says_which_variable() -> Result<()> {
    let dir = project();
    let double = Double::start(|_, _| Reply::openai("unused", 1, 1)).await;
    write_config(
        dir.path(),
        &format!(
            "provider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\napi_key_env = \"AGENT_OS_E2E_UNSET_KEY_4821\"\n",
            double.url()
        ),
    );
    let s = Server::start(dir.path()).await?;
    let id = s.invoke("data", json!({ "task": "review the orders migration" })).await?;
    let done = s.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    let result = done["result"].as_str().unwrap();
    assert!(result.contains("delegated brief") && result.contains("AGENT_OS_E2E_UNSET_KEY_4821"), "{result}");
    assert!(double.requests().is_empty(), "nothing is sent without a key");
    s.stop().await
}

#[tokio::test]
async fn cancelling_during_the_model_call_frees_the_worker_at_once() -> Result<()> {
    let dir = project();
    // The first request hangs for a minute; later ones answer at once.
    let double = Double::start(|n, _| match n {
        0 => Reply::openai("too late", 1, 1).after(Duration::from_secs(60)),
        _ => Reply::openai("Second review. [second]", 1, 1),
    })
    .await;
    write_config(dir.path(), &format!("provider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\n", double.url()));
    let s = Server::start_with(dir.path(), &["--workers", "1"]).await?;
    let first = s.invoke("security", json!({ "task": "review the login handler" })).await?;
    let start = Instant::now();
    while double.requests().is_empty() {
        if start.elapsed() > Duration::from_secs(60) {
            bail!("the persona never called the model");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let v = s.ok("cancel_persona_job", json!({ "job_id": first })).await?;
    assert_eq!(v["status"], "cancelled", "{v}");
    // The only worker is free again long before the hung answer would come.
    let cancelled = Instant::now();
    let second = s.invoke("security", json!({ "task": "review the logout handler" })).await?;
    let done = s.wait(&second, Duration::from_secs(20)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    assert!(done["result"].as_str().unwrap().contains("[second]"));
    assert!(cancelled.elapsed() < Duration::from_secs(15), "{:?}", cancelled.elapsed());
    let first = s.ok("check_persona_job", json!({ "job_id": first })).await?;
    assert_eq!(first["status"], "cancelled", "{first}");
    s.stop().await
}

#[tokio::test]
async fn the_security_persona_blanks_secrets_before_the_model_sees_them() -> Result<()> {
    let dir = project();
    let double = Double::start(|_, _| Reply::openai("Rotate the key. [sec-review]", 100, 20)).await;
    write_config(dir.path(), &format!("provider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\n", double.url()));
    let s = Server::start(dir.path()).await?;
    let secret = "Zr8vQm2LkP0xT7yN4cW1bH9sJ6dF3gA5eR8uI2oL";
    let context = format!("import boto3\nsession = boto3.Session(\naws_secret_access_key=\"{secret}\",\n)\n");
    let id = s.invoke("security", json!({ "task": "security review of the S3 client", "context": context })).await?;
    let done = s.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    let result = done["result"].as_str().unwrap();
    assert!(result.contains("[sec-review]") && result.contains("(line 3)"), "{result}");
    let body = double.requests()[0].body.to_string();
    assert!(!body.contains(secret), "the secret reached the provider: {body}");
    assert!(
        body.contains("aws_secret_access_key=\\\"[secret removed by agent-os]\\\"") && body.contains("import boto3"),
        "{body}"
    );
    s.stop().await
}

/// A stdio client that goes away mid-job (as the MCP Inspector's CLI does
/// after every call) does not cut the job short: the server lets it finish,
/// records the result, and then exits.
#[tokio::test]
async fn a_job_running_when_the_stdio_client_leaves_finishes_before_the_server_exits() -> Result<()> {
    let dir = project();
    let double = Double::start(|_, _| {
        Reply::openai("Done after the client left. [drain-5b]", 10, 5).after(Duration::from_secs(2))
    })
    .await;
    write_config(dir.path(), &format!("provider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\n", double.url()));
    let s = Server::start(dir.path()).await?;
    let id = s.invoke("engineer", json!({ "task": "review f", "context": "fn f() {}\n" })).await?;
    // Leave while the model is answering.
    let start = Instant::now();
    while double.requests().is_empty() {
        if start.elapsed() > Duration::from_secs(60) {
            bail!("the job never asked the model");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let crate::support::Server { mut child, client } = s;
    client.cancel().await?;
    let left = Instant::now();
    let status =
        tokio::time::timeout(Duration::from_secs(60), child.wait()).await.context("the server never exited")??;
    assert!(status.success(), "{status}");
    let waited = left.elapsed();
    eprintln!("server exited {:.2} s after the client left", waited.as_secs_f64());
    assert!(waited >= Duration::from_millis(500), "the server did not wait for the job: {waited:?}");

    let out = tokio::process::Command::new(crate::support::BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(dir.path())
        .args(["jobs", "show", &id])
        .output()
        .await?;
    let job: Value =
        serde_json::from_slice(&out.stdout).with_context(|| String::from_utf8_lossy(&out.stderr).into_owned())?;
    assert_eq!(job["status"], "complete", "{job}");
    assert!(job["result"].as_str().unwrap_or_default().contains("[drain-5b]"), "{job}");
    Ok(())
}
