//! Third-party personas: scaffold, build, install into a running server
//! (which tells the client its tool list changed), hostile components, and
//! the refusals at install and load.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rmcp::model::CallToolResult;
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::support::{BIN, GUESTS, project, spawn_server, text_of};

/// A client that reports every `notifications/tools/list_changed`.
struct Listener(UnboundedSender<()>);

impl ClientHandler for Listener {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.0.send(());
    }
}

/// A running server whose client hears tool-list changes.
struct Live {
    _child: tokio::process::Child,
    client: RunningService<RoleClient, Listener>,
    changes: UnboundedReceiver<()>,
}

impl Live {
    async fn start(project: &Path, config: &Path, extra: &[&str]) -> Result<Self> {
        let config = config.to_str().context("config dir is not UTF-8")?;
        let mut child = spawn_server(project, extra, &[("AGENT_OS_CONFIG_DIR", config)])?;
        let (tx, changes) = unbounded_channel();
        let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
        let client = Listener(tx).serve(io).await.context("MCP handshake")?;
        Ok(Self { _child: child, client, changes })
    }

    async fn tools(&self) -> Result<Vec<String>> {
        Ok(self.client.list_all_tools().await?.into_iter().map(|t| t.name.to_string()).collect())
    }

    async fn call(&self, name: &str, args: Value) -> Result<CallToolResult> {
        crate::support::call_tool(&self.client, name, args).await
    }

    async fn ok(&self, name: &str, args: Value) -> Result<Value> {
        crate::support::tool_ok(&self.client, name, args).await
    }

    async fn invoke(&self, persona: &str, args: Value) -> Result<String> {
        let v = self.ok(&format!("invoke_{persona}"), args).await?;
        Ok(v["job_id"].as_str().context("job_id")?.to_string())
    }

    async fn wait(&self, job: &str, limit: Duration) -> Result<Value> {
        let start = Instant::now();
        loop {
            let v = self.ok("check_persona_job", json!({ "job_id": job })).await?;
            if !matches!(v["status"].as_str(), Some("pending" | "running")) {
                return Ok(v);
            }
            if start.elapsed() > limit {
                bail!("job {job} unfinished after {limit:?}: {v}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for a tools/list_changed notification.
    async fn changed(&mut self, limit: Duration) -> Result<()> {
        tokio::time::timeout(limit, self.changes.recv())
            .await
            .context("no notifications/tools/list_changed arrived")?
            .context("client closed")
    }
}

/// Runs the agent-os command line; returns (success, stdout, stderr).
async fn cli(project: &Path, config: &Path, args: &[&str], env: &[(&str, &Path)]) -> Result<(bool, String, String)> {
    let out = tokio::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(project)
        .args(args)
        .env("AGENT_OS_CONFIG_DIR", config)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .stdin(Stdio::null())
        .output()
        .await?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn guest(name: &str) -> PathBuf {
    Path::new(GUESTS).join(format!("agent_os_test_{name}.wasm"))
}

fn sha_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// A manifest for a test guest; `extra` goes at the end of [capabilities].
fn manifest(id: &str, component: &str, api: &str, sha256: Option<&str>, extra: &str) -> String {
    let sha = sha256.map(|s| format!("sha256 = \"{s}\"\n")).unwrap_or_default();
    format!(
        r#"id = "{id}"
name = "Test {id}"
version = "0.1.0"
api = "{api}"
kind = "specialist"
domain = "testing"
description = "A persona used by the test suite."
component = "{component}"
{sha}
[capabilities]
search = true
read-files = ["src/**"]
{extra}

[limits]
memory-mb = 256
timeout-s = 5
"#
    )
}

/// Writes a manifest to its own folder and returns the file.
fn write_manifest(dir: &Path, name: &str, text: &str) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("persona.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// Cargo, with nothing of this build's environment leaking into the nested build.
pub(crate) fn cargo() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[tokio::test]
async fn a_scaffolded_persona_builds_installs_into_a_running_server_and_answers() -> Result<()> {
    let dir = project();
    let config = tempfile::tempdir()?;
    let work = tempfile::tempdir()?;
    let crate_dir = work.path().join("hello");
    let sdk = crate::support::repo().join("sdk").canonicalize()?;
    let crate_arg = crate_dir.to_str().unwrap();

    // 1. Scaffold.
    let (ok, out, err) = cli(
        dir.path(),
        config.path(),
        &["persona", "new", "hello", "--dir", crate_arg, "--sdk-path", sdk.to_str().unwrap()],
        &[],
    )
    .await?;
    assert!(ok, "persona new failed: {err}");
    assert!(out.contains("cargo build --release --target wasm32-wasip2"), "{out}");
    for f in ["Cargo.toml", "src/lib.rs", "persona.toml", "prompt.md"] {
        assert!(crate_dir.join(f).is_file(), "{f} not scaffolded");
    }

    // 2. Build it with the one command (offline, into a target dir reused between runs).
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    let t0 = Instant::now();
    let build = cargo()
        .args(["build", "--release", "--target", "wasm32-wasip2", "--offline", "--quiet", "--target-dir"])
        .arg(&target)
        .current_dir(&crate_dir)
        .output()
        .await?;
    assert!(build.status.success(), "building the scaffold failed: {}", String::from_utf8_lossy(&build.stderr));
    eprintln!("scaffold build: {:.1} s", t0.elapsed().as_secs_f64());

    // 3. A running server, before the install.
    let mut live = Live::start(dir.path(), config.path(), &[]).await?;
    assert!(!live.tools().await?.contains(&"invoke_hello".to_string()));

    // 4. Install (the component is found through CARGO_TARGET_DIR, as after a build).
    let t0 = Instant::now();
    let (ok, out, err) = cli(
        dir.path(),
        config.path(),
        &["persona", "install", crate_arg, "--yes"],
        &[("CARGO_TARGET_DIR", target.as_path())],
    )
    .await?;
    assert!(ok, "install failed: {err}\n{out}");
    assert!(out.contains("search standards        yes"), "{out}");
    assert!(out.contains("read project files      no"), "{out}");
    assert!(out.contains("propose standards       no"), "{out}");
    let installed = dir.path().join(".agent-os/personas/hello");
    let pinned = std::fs::read_to_string(installed.join("persona.toml"))?;
    let sha = sha_of(&installed.join("hello_persona.wasm"));
    assert!(pinned.contains(&format!("sha256 = \"{sha}\"")), "{pinned}");
    assert!(installed.join("prompt.md").is_file());

    // 5. The client is told, and the new tool is there and works.
    live.changed(Duration::from_secs(30)).await?;
    eprintln!("install to tools/list_changed: {:.2} s", t0.elapsed().as_secs_f64());
    assert!(live.tools().await?.contains(&"invoke_hello".to_string()));
    let job = live
        .invoke("hello", json!({ "task": "review the parser", "context": "fn parse() {}\n// TODO: handle errors\n" }))
        .await?;
    let done = live.wait(&job, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    let result = done["result"].as_str().unwrap();
    assert!(result.contains("Hello Reviewer"), "{result}");
    assert!(result.contains("Unfinished work") && result.contains("(line 2)"), "{result}");

    let (ok, out, _) = cli(dir.path(), config.path(), &["persona", "list"], &[]).await?;
    assert!(ok && out.lines().any(|l| l.starts_with("hello ") && l.contains("project")), "{out}");
    let (ok, out, _) = cli(dir.path(), config.path(), &["persona", "info", "hello"], &[]).await?;
    assert!(ok && out.contains("invoke_hello") && out.contains(&sha), "{out}");

    // 6. Removal: the client is told again and the tool is gone.
    let (ok, _, err) = cli(dir.path(), config.path(), &["persona", "remove", "hello"], &[]).await?;
    assert!(ok, "remove failed: {err}");
    live.changed(Duration::from_secs(30)).await?;
    assert!(!live.tools().await?.contains(&"invoke_hello".to_string()));
    let r = live.call("invoke_hello", json!({ "task": "again" })).await?;
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("no persona 'hello'"), "{}", text_of(&r));
    assert!(!installed.exists());
    Ok(())
}

#[tokio::test]
async fn hostile_components_fail_with_reasons_while_a_normal_job_completes() -> Result<()> {
    let outer = tempfile::tempdir()?;
    let root = outer.path().join("project");
    std::fs::create_dir_all(root.join("src"))?;
    std::fs::write(root.join("src/lib.rs"), "pub fn ok() {}\n")?;
    std::fs::write(outer.path().join("secret.txt"), "TOP SECRET outside the project")?;
    std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("src/leak.txt"))?;
    let config = tempfile::tempdir()?;

    // Installed through the real install path: verified, trial-run, pinned.
    let m = write_manifest(outer.path(), "src-hostile", &manifest("hostile", "hostile.wasm", "0.1", None, ""));
    let wasm = guest("hostile");
    let (ok, out, err) = cli(
        &root,
        config.path(),
        &["persona", "install", wasm.to_str().unwrap(), "--manifest", m.to_str().unwrap(), "--yes"],
        &[],
    )
    .await?;
    assert!(ok, "install failed: {err}\n{out}");

    let live = Live::start(&root, config.path(), &["--workers", "16"]).await?;
    let cases: &[(&str, &str)] = &[
        ("loop", "timed out after 5 s"),
        ("alloc", "ran out of memory: it tried to grow past its limit of 256 MB"),
        ("recurse", "overflowed its stack"),
        ("passwd", "could not open /etc/passwd"),
        ("llm", "was not granted the 'llm' capability"),
        ("stdout", "printed more than 64 KiB to stdout/stderr"),
        ("result", "returned 104857600 bytes; the limit is 1048576 bytes"),
        ("read:../secret.txt", "leaves the project root"),
        ("read:/etc/passwd", "is absolute"),
        ("read:src/leak.txt", "leaves the project root"),
    ];
    let t0 = Instant::now();
    let mut jobs = Vec::new();
    for (task, _) in cases {
        jobs.push(live.invoke("hostile", json!({ "task": task })).await?);
    }
    let normal = live
        .invoke("security", json!({ "task": "review", "context": "password = \"hunter2hunter2hunter2\"\n" }))
        .await?;
    let allowed = live.invoke("hostile", json!({ "task": "read:src/lib.rs" })).await?;

    // The server keeps answering while they run.
    let stats = live.ok("persona_database_stats", json!({})).await?;
    assert_eq!(stats["total_jobs"].as_u64(), Some(cases.len() as u64 + 2), "every job submitted is recorded: {stats}");

    let done = live.wait(&normal, Duration::from_secs(180)).await?;
    assert_eq!(done["status"], "complete", "the normal job: {done}");
    let done = live.wait(&allowed, Duration::from_secs(60)).await?;
    assert_eq!(done["result"], "pub fn ok() {}\n", "{done}");

    for ((task, reason), job) in cases.iter().zip(&jobs) {
        let v = live.wait(job, Duration::from_secs(120)).await?;
        assert_eq!(v["status"], "failed", "{task}: {v}");
        let error = v["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{task}: expected '{reason}' in '{error}'");
        let all = v.to_string();
        assert!(!all.contains("root:x:0:0") && !all.contains("TOP SECRET"), "{task} leaked: {all}");
        eprintln!("{task:<20} -> {}", error.chars().take(160).collect::<String>());
    }
    eprintln!("all hostile jobs ended in {:.1} s", t0.elapsed().as_secs_f64());

    // The same component still runs, and the server still answers.
    let ok_job = live.invoke("hostile", json!({ "task": "ok" })).await?;
    assert_eq!(live.wait(&ok_job, Duration::from_secs(60)).await?["result"], "fine");
    assert!(live.tools().await?.contains(&"invoke_security".to_string()));
    Ok(())
}

#[tokio::test]
async fn bad_personas_are_refused_with_reasons_and_nothing_is_lost() -> Result<()> {
    let dir = project();
    let config = tempfile::tempdir()?;
    let src = tempfile::tempdir()?;
    let hostile = guest("hostile");
    let hostile_sha = sha_of(&hostile);
    let installed = dir.path().join(".agent-os/personas");

    // A good install first; every refusal below must leave it as it is.
    let good = write_manifest(src.path(), "good", &manifest("hostile", "hostile.wasm", "0.1", Some(&hostile_sha), ""));
    let install = |wasm: PathBuf, m: PathBuf| {
        let (dir, config) = (dir.path().to_path_buf(), config.path().to_path_buf());
        async move {
            cli(
                &dir,
                &config,
                &["persona", "install", wasm.to_str().unwrap(), "--manifest", m.to_str().unwrap(), "--yes"],
                &[],
            )
            .await
        }
    };
    let (ok, _, err) = install(hostile.clone(), good.clone()).await?;
    assert!(ok, "{err}");
    let before = std::fs::read(installed.join("hostile/persona.toml"))?;

    let wrong_sha = "0".repeat(64);
    let rogue = guest("rogue");
    let not_wasm = src.path().join("notes.wasm");
    std::fs::write(&not_wasm, "this is not a component")?;
    let cases: Vec<(&str, PathBuf, String, Vec<String>)> = vec![
        (
            "wrong hash",
            hostile.clone(),
            manifest("hostile", "hostile.wasm", "0.1", Some(&wrong_sha), ""),
            vec![format!("the manifest pins {wrong_sha}"), format!("sha256 is {hostile_sha}")],
        ),
        (
            "incompatible API",
            hostile.clone(),
            manifest("hostile", "hostile.wasm", "0.2", None, ""),
            vec!["persona API 0.2".into(), "provides 0.1.0".into()],
        ),
        (
            "import not provided",
            rogue.clone(),
            manifest("rogue", "rogue.wasm", "0.1", None, ""),
            vec!["imports evil:exfil/net".into(), "does not provide".into()],
        ),
        (
            "unknown capability",
            hostile.clone(),
            manifest("hostile", "hostile.wasm", "0.1", None, "network = true"),
            vec!["unknown capability 'network'".into()],
        ),
        (
            "clash with a core persona",
            hostile.clone(),
            manifest("security", "hostile.wasm", "0.1", None, ""),
            vec!["clashes with the core persona 'security'".into()],
        ),
        (
            "id the component does not answer to",
            hostile.clone(),
            manifest("friendly", "hostile.wasm", "0.1", None, ""),
            vec!["describes itself as 'hostile'".into()],
        ),
        (
            "not a component",
            not_wasm.clone(),
            manifest("notes", "notes.wasm", "0.1", None, ""),
            vec!["not a WebAssembly component".into()],
        ),
    ];
    for (i, (what, wasm, text, expected)) in cases.into_iter().enumerate() {
        let m = write_manifest(src.path(), &format!("case{i}"), &text);
        let (ok, out, err) = install(wasm, m).await?;
        assert!(!ok, "{what}: install succeeded: {out}");
        for e in &expected {
            assert!(err.contains(e.as_str()), "{what}: expected '{e}' in: {err}");
        }
        eprintln!("{what}: {}", err.trim());
        let mut ids: Vec<String> =
            std::fs::read_dir(&installed)?.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        ids.sort();
        assert_eq!(ids, ["hostile"], "{what}: the personas folder changed");
        assert_eq!(std::fs::read(installed.join("hostile/persona.toml"))?, before, "{what}");
    }

    // Without --yes and without a terminal to ask on, nothing is installed.
    // (A reinstall of the same id, so verification passes and only the consent is missing.)
    let m = write_manifest(src.path(), "noyes", &manifest("hostile", "hostile.wasm", "0.1", None, "llm = true\n"));
    let (ok, _, err) = cli(
        dir.path(),
        config.path(),
        &["persona", "install", hostile.to_str().unwrap(), "--manifest", m.to_str().unwrap()],
        &[],
    )
    .await?;
    assert!(!ok && err.contains("--yes"), "{err}");
    assert_eq!(
        std::fs::read(installed.join("hostile/persona.toml"))?,
        before,
        "a refused reinstall changed the manifest"
    );

    // Removing a core persona or an unknown one is refused.
    let (ok, _, err) = cli(dir.path(), config.path(), &["persona", "remove", "qa"], &[]).await?;
    assert!(!ok && err.contains("core persona"), "{err}");
    let (ok, _, err) = cli(dir.path(), config.path(), &["persona", "remove", "nobody"], &[]).await?;
    assert!(!ok && err.contains("no persona 'nobody' is installed"), "{err}");

    // At load: a component changed after install is untrusted (listed, never
    // loaded); trusting the changed bytes still does not load it, since the
    // manifest's pin refuses them. The server leaves it out either way.
    let component = installed.join("hostile/hostile.wasm");
    let mut bytes = std::fs::read(&component)?;
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&component, &bytes)?;
    let (ok, out, _) = cli(dir.path(), config.path(), &["persona", "list"], &[]).await?;
    assert!(ok, "{out}");
    assert!(out.contains("untrusted: changed since you trusted it") && out.contains("agent-os --project"), "{out}");
    let (ok, _, err) = cli(dir.path(), config.path(), &["trust", "--yes"], &[]).await?;
    assert!(ok, "{err}");
    let (ok, out, _) = cli(dir.path(), config.path(), &["persona", "list"], &[]).await?;
    assert!(ok, "{out}");
    assert!(out.contains("not loaded") && out.contains("the manifest pins"), "{out}");
    let live = Live::start(dir.path(), config.path(), &[]).await?;
    let tools = live.tools().await?;
    assert!(!tools.contains(&"invoke_hostile".to_string()) && tools.contains(&"invoke_qa".to_string()), "{tools:?}");
    Ok(())
}

#[tokio::test]
async fn a_user_scope_install_serves_every_project() -> Result<()> {
    let (a, b) = (project(), project());
    let config = tempfile::tempdir()?;
    let src = tempfile::tempdir()?;
    let m = write_manifest(src.path(), "hostile", &manifest("hostile", "hostile.wasm", "0.1", None, ""));
    let wasm = guest("hostile");
    let args = ["persona", "install", wasm.to_str().unwrap(), "--manifest", m.to_str().unwrap(), "--user", "--yes"];
    let (ok, out, err) = cli(a.path(), config.path(), &args, &[]).await?;
    assert!(ok, "{err}");
    assert!(out.contains("user scope"), "{out}");
    assert!(config.path().join("personas/hostile/persona.toml").is_file());
    assert!(!a.path().join(".agent-os/personas/hostile").exists());

    let live = Live::start(b.path(), config.path(), &[]).await?;
    let job = live.invoke("hostile", json!({ "task": "ok" })).await?;
    assert_eq!(live.wait(&job, Duration::from_secs(60)).await?["result"], "fine");

    let (ok, _, err) = cli(b.path(), config.path(), &["persona", "remove", "hostile"], &[]).await?;
    assert!(!ok && err.contains("add --user"), "{err}");
    let (ok, _, err) = cli(b.path(), config.path(), &["persona", "remove", "hostile", "--user"], &[]).await?;
    assert!(ok, "{err}");
    assert!(!config.path().join("personas/hostile").exists());
    Ok(())
}
