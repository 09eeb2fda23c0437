//! Drives the built `agent-os` binary through rmcp's MCP client over stdio.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const BIN: &str = env!("CARGO_BIN_EXE_agent-os");

/// The repository these tests run from. Read when the test runs (cargo and
/// nextest set CARGO_MANIFEST_DIR for it), not when it was compiled: two
/// checkouts that share a target folder reuse each other's test binaries,
/// and a compiled-in path would name the other checkout.
pub fn repo() -> std::path::PathBuf {
    let host = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    std::path::Path::new(&host).join("..")
}
/// How long a standard written into a built index may take to become
/// searchable before a test calls it lost (the watcher needs well under a second).
pub const SETTLE: Duration = Duration::from_secs(60);
/// Where host/build.rs put the test guest components.
pub const GUESTS: &str = env!("AGENT_OS_TEST_GUESTS_DIR");
/// The state folder (AGENT_OS_STATE_DIR) the tests give agent-os: each
/// project's jobs and index go to a folder of their own in it, not into the
/// real `~/.local/state`.
pub const STATE_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/e2e-state");

/// Where `agent-os paths --json` puts location `name` (e.g. `jobs_db`,
/// `index_dir`, `state_dir`) for `project`, with the tests' state folder.
pub fn state_path(project: &Path, name: &str) -> PathBuf {
    let out = std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", STATE_DIR)
        .arg("--project")
        .arg(project)
        .args(["paths", "--json"])
        .output()
        .expect("running agent-os paths");
    assert!(out.status.success(), "agent-os paths: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("paths --json prints JSON");
    PathBuf::from(v[name]["path"].as_str().unwrap_or_else(|| panic!("no path for {name}: {v}")))
}

/// Spawns `agent-os serve` for `project` with piped stdio (for an MCP
/// client) and its log appended to `project/server.log`.
pub fn spawn_server(project: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<tokio::process::Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(project.join("server.log"))?;
    tokio::process::Command::new(BIN)
        .arg("--project")
        .arg(project)
        .arg("serve")
        .args(extra)
        .env("AGENT_OS_STATE_DIR", STATE_DIR)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .context("spawning agent-os")
}

/// A running server and a connected client.
pub struct Server {
    pub child: tokio::process::Child,
    pub client: RunningService<RoleClient, ()>,
}

impl Server {
    /// Starts `agent-os serve` for `project` and completes the MCP handshake.
    pub async fn start(project: &Path) -> Result<Self> {
        Self::start_with(project, &[]).await
    }

    pub async fn start_with(project: &Path, extra: &[&str]) -> Result<Self> {
        Self::start_env(project, extra, &[]).await
    }

    /// Starts the server with extra arguments and environment variables.
    pub async fn start_env(project: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let mut child = spawn_server(project, extra, env)?;
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take().unwrap();
        let client = ().serve((stdout, stdin)).await.context("MCP handshake")?;
        Ok(Self { child, client })
    }

    pub async fn call(&self, name: &str, args: Value) -> Result<CallToolResult> {
        call_tool(&self.client, name, args).await
    }

    /// Calls a tool that must succeed; returns its structured result.
    pub async fn ok(&self, name: &str, args: Value) -> Result<Value> {
        tool_ok(&self.client, name, args).await
    }

    /// Calls a tool that must fail; returns its error text.
    pub async fn err(&self, name: &str, args: Value) -> Result<String> {
        tool_err(&self.client, name, args).await
    }

    /// Starts a job and returns its id.
    pub async fn invoke(&self, persona: &str, args: Value) -> Result<String> {
        let v = self.ok(&format!("invoke_{persona}"), args).await?;
        Ok(v["job_id"].as_str().context("job_id")?.to_string())
    }

    /// Waits until the standards search returns `path`. Readiness is the
    /// server's own signal: while its answer says the first build of the
    /// index is running, the wait goes on however slow the machine is; once
    /// the index is built, the file (a change the watcher picks up) has
    /// [`SETTLE`] to appear.
    pub async fn wait_indexed(&self, query: &str, path: &str) -> Result<()> {
        let mut since_ready: Option<Instant> = None;
        loop {
            let v = self.ok("search_standards", serde_json::json!({ "query": query })).await?;
            if v["results"].as_array().is_some_and(|a| a.iter().any(|h| h["path"] == path)) {
                return Ok(());
            }
            let building = v["note"].as_str().is_some_and(|n| n.contains("index is still being built"));
            if building {
                since_ready = None;
            } else if since_ready.get_or_insert_with(Instant::now).elapsed() > SETTLE {
                bail!("{path} was not indexed {SETTLE:?} after the index was built: {v}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until the job leaves pending/running. `limit` bounds how long
    /// the job may go without any visible change (status, phase, percent,
    /// message): a job that keeps moving on a slow machine is waited for.
    pub async fn wait(&self, job_id: &str, limit: Duration) -> Result<Value> {
        let mut last = (String::new(), Value::Null);
        let mut changed = Instant::now();
        loop {
            let v = self.ok("check_persona_job", serde_json::json!({ "job_id": job_id })).await?;
            let status = v["status"].as_str().unwrap_or_default().to_string();
            if !matches!(status.as_str(), "pending" | "running") {
                return Ok(v);
            }
            let p = &v["progress"];
            let now = (
                status.clone(),
                serde_json::json!([p["phase"], p["percent_complete"], p["message"], p["tool_calls_completed"]]),
            );
            if now != last {
                last = now;
                changed = Instant::now();
            }
            if changed.elapsed() > limit {
                bail!("job {job_id} still {status}, unchanged for {limit:?}: {v}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until the job reports `status`.
    pub async fn wait_for_status(&self, job_id: &str, status: &str, limit: Duration) -> Result<Value> {
        let start = Instant::now();
        loop {
            let v = self.ok("check_persona_job", serde_json::json!({ "job_id": job_id })).await?;
            if v["status"] == status {
                return Ok(v);
            }
            if start.elapsed() > limit {
                bail!("job {job_id} never reached {status}: {v}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the server with SIGKILL: no chance to clean up.
    pub async fn kill9(mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    pub async fn stop(self) -> Result<()> {
        let Server { mut child, client } = self;
        let _ = client.cancel().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        Ok(())
    }
}

/// Calls tool `name` through any client (whatever its handler answers).
pub async fn call_tool<H: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, H>,
    name: &str,
    args: Value,
) -> Result<CallToolResult> {
    let Value::Object(map) = args else { bail!("arguments must be an object") };
    let params = CallToolRequestParams::new(name.to_string()).with_arguments(map);
    Ok(client.call_tool(params).await?)
}

/// Calls a tool that must succeed; returns its structured result.
pub async fn tool_ok<H: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, H>,
    name: &str,
    args: Value,
) -> Result<Value> {
    let r = call_tool(client, name, args).await?;
    if r.is_error == Some(true) {
        bail!("{name} failed: {}", text_of(&r));
    }
    r.structured_content.context("no structured content")
}

/// Calls a tool that must fail; returns its error text.
pub async fn tool_err<H: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, H>,
    name: &str,
    args: Value,
) -> Result<String> {
    let r = call_tool(client, name, args).await?;
    if r.is_error != Some(true) {
        bail!("{name} was expected to fail but returned {}", text_of(&r));
    }
    Ok(text_of(&r))
}

pub fn text_of(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

/// A fresh project directory.
pub fn project() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("agent-os-e2e").tempdir().unwrap()
}

/// Trusts everything `project` ships (its personas and its [llm]) through
/// the command line, as a person would: `agent-os --project P trust --yes`.
/// Pass the environment the server gets (AGENT_OS_DATA_DIR in particular).
pub fn trust(project: &Path, env: &[(&str, &str)]) {
    let out = std::process::Command::new(BIN)
        .arg("--project")
        .arg(project)
        .args(["trust", "--yes"])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("running agent-os trust");
    assert!(
        out.status.success(),
        "agent-os trust failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Installs a test guest as a project persona with the given limits, and
/// trusts it (`agent-os trust --yes`).
pub fn install_guest(project: &Path, id: &str, timeout_s: u64, memory_mb: u32) -> PathBuf {
    let dir = write_guest(project, id, timeout_s, memory_mb);
    trust(project, &[]);
    dir
}

/// Writes a test guest into the project's personas folder, untrusted.
pub fn write_guest(project: &Path, id: &str, timeout_s: u64, memory_mb: u32) -> PathBuf {
    let wasm = std::fs::read(Path::new(GUESTS).join(format!("agent_os_test_{id}.wasm")))
        .expect("test guest built by host/build.rs");
    let dir = project.join(".agent-os/personas").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{id}.wasm")), &wasm).unwrap();
    let sha = hex::encode(Sha256::digest(&wasm));
    std::fs::write(
        dir.join("persona.toml"),
        format!(
            r#"id = "{id}"
name = "Test {id}"
version = "0.1.0"
api = "0.1"
kind = "specialist"
domain = "testing"
description = "A misbehaving persona used by the test suite."
component = "{id}.wasm"
sha256 = "{sha}"

[capabilities]
search = true

[limits]
memory-mb = {memory_mb}
timeout-s = {timeout_s}
"#
        ),
    )
    .unwrap();
    dir
}
