//! What a repository's files can no longer do to the user, through the
//! built binary: state planted in `.agent-os/.cache` is never opened;
//! symbolic links out of the project are never followed (search, index,
//! init, approve, watchers); huge or special files fail fast instead of
//! hanging; with no HOME, nothing falls back to the project folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::support::{BIN, STATE_DIR, Server, project, state_path};

/// `agent-os --project P <args>` with the tests' state folder and `env`.
fn agent_os(project: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", STATE_DIR)
        .envs(env.iter().copied())
        .arg("--project")
        .arg(project)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running agent-os")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn hit_paths(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .map(|a| a.iter().filter_map(|h| h["path"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

const OK_MD: &str = "# Retry budgets\n\n## Context\nWombat services retry calls to the ledger with a shared budget.\n";
const SECRET_MD: &str = "# Private notes\n\nThe quokkaberry vault passphrase is hunter2-quokkaberry.\n";

#[tokio::test]
async fn a_symlinked_standard_out_of_the_project_is_never_searched() -> Result<()> {
    let outside = tempfile::tempdir()?;
    write(&outside.path().join("notes.md"), SECRET_MD);
    write(&outside.path().join("tree/more.md"), SECRET_MD);
    let dir = project();
    let std_dir = dir.path().join(".agent-os/standards");
    write(&std_dir.join("operations/retries.md"), OK_MD);
    std::os::unix::fs::symlink(outside.path().join("notes.md"), std_dir.join("operations/notes.md"))?;
    std::os::unix::fs::symlink(outside.path().join("tree"), std_dir.join("tree"))?;

    let s = Server::start(dir.path()).await?;
    s.wait_indexed("wombat ledger retry budget", ".agent-os/standards/operations/retries.md").await?;
    for q in ["quokkaberry vault passphrase", "hunter2 quokkaberry", "private notes"] {
        let v = s.ok("search_standards", json!({ "query": q, "limit": 10 })).await?;
        let text = v["results"].to_string();
        assert!(!text.contains("hunter2") && !text.contains("quokkaberry vault"), "{q}: {v}");
        assert!(hit_paths(&v).iter().all(|p| !p.contains("notes.md") && !p.contains("tree/")), "{q}: {v}");
    }
    s.stop().await?;

    // The index report names what it skipped and why.
    let out = agent_os(dir.path(), &["index", "--json"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let skipped = report["skipped"].to_string();
    assert!(skipped.contains("operations/notes.md") && skipped.contains("symbolic link"), "{report}");
    assert!(skipped.contains(".agent-os/standards/tree"), "{report}");
    Ok(())
}

#[tokio::test]
async fn a_symlinked_standards_folder_is_refused_with_a_note() -> Result<()> {
    let outside = tempfile::tempdir()?;
    write(&outside.path().join("security/notes.md"), SECRET_MD);
    let dir = project();
    std::fs::create_dir_all(dir.path().join(".agent-os"))?;
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".agent-os/standards"))?;
    let out = agent_os(dir.path(), &["index", "--json"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let skipped = report["skipped"].to_string();
    assert!(skipped.contains(".agent-os/standards/") && skipped.contains("symbolic link"), "{report}");
    let out = agent_os(dir.path(), &["search", "quokkaberry vault passphrase", "--json"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("hunter2"), "{text}");

    // Approving into it is refused too, and nothing lands outside.
    let s = Server::start(dir.path()).await?;
    let content = "# Idempotency keys\n\n## Context\nClients retry.\n\n## Pattern\nSend a key.\n\n## Examples\nPOST with a key.\n\n## Anti-patterns\nNo key.\n";
    let v = s.ok("propose_standard", json!({ "domain": "payments", "topic": "keys", "content": content })).await?;
    let id = v["proposal_id"].as_str().context("proposal_id")?.to_string();
    s.stop().await?;
    let out = agent_os(dir.path(), &["standards", "review", &id, "approve", "--reviewer", "carol"], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!outside.path().join("payments").exists(), "nothing written through the link");
    Ok(())
}

#[tokio::test]
async fn a_planted_jobs_db_in_the_repository_runs_nothing() -> Result<()> {
    // A genuine jobs.db (this version's schema) with a pending and a
    // "running" job, as a repository could ship it.
    let donor = project();
    let out = agent_os(donor.path(), &["jobs", "list"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let planted_bytes = {
        let db = state_path(donor.path(), "jobs_db");
        let conn = rusqlite::Connection::open(&db)?;
        for (id, status) in [("planted-pending", "pending"), ("planted-running", "running")] {
            conn.execute(
                "INSERT INTO jobs (id, persona, task, status, priority, created_at) VALUES (?1, 'qa', 'exfiltrate', ?2, 1, 0)",
                rusqlite::params![id, status],
            )?;
        }
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        drop(conn);
        std::fs::read(&db)?
    };
    let dir = project();
    let planted = dir.path().join(".agent-os/.cache/jobs.db");
    std::fs::create_dir_all(planted.parent().unwrap())?;
    std::fs::write(&planted, &planted_bytes)?;

    let s = Server::start(dir.path()).await?;
    let v = s.ok("list_persona_jobs", json!({ "limit": 50 })).await?;
    assert_eq!(v["total_count"], 0, "the planted jobs are not this server's: {v}");
    let e = s.err("check_persona_job", json!({ "job_id": "planted-pending" })).await?;
    assert!(!e.is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.stop().await?;
    assert_eq!(std::fs::read(&planted)?, planted_bytes, "the planted file is never opened for writing");
    let names: Vec<String> = std::fs::read_dir(planted.parent().unwrap())?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["jobs.db"], "no journal beside it: it was never opened");
    // The server's own state is outside the project.
    let state = state_path(dir.path(), "state_dir");
    assert!(!state.starts_with(dir.path()) && state_path(dir.path(), "jobs_db").is_file(), "{}", state.display());
    Ok(())
}

#[test]
fn init_refuses_a_symlinked_mcp_json_and_leaves_its_target() -> Result<()> {
    let home = tempfile::tempdir()?;
    let own = home.path().join(".claude.json");
    let own_text = r#"{"mcpServers": {"github": {"command": "gh", "env": {"GITHUB_TOKEN": "ghp_secret"}}}}"#;
    std::fs::write(&own, own_text)?;
    let dir = project();
    std::os::unix::fs::symlink(&own, dir.path().join(".mcp.json"))?;
    let out = agent_os(dir.path(), &["init"], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".mcp.json is a symbolic link") && err.contains("Nothing was written"), "{err}");
    assert_eq!(std::fs::read_to_string(&own)?, own_text, "the link's target is untouched");
    assert!(std::fs::symlink_metadata(dir.path().join(".mcp.json"))?.file_type().is_symlink(), "still a link");
    assert!(!dir.path().join(".agent-os").exists(), "init stopped before writing anything");

    // A symlinked .cursor folder: the user's global Cursor config stays as it was.
    let cursor_home = home.path().join(".cursor");
    std::fs::create_dir(&cursor_home)?;
    write(&cursor_home.join("mcp.json"), "{\"mcpServers\": {}}");
    let dir = project();
    std::os::unix::fs::symlink(&cursor_home, dir.path().join(".cursor"))?;
    let out = agent_os(dir.path(), &["init"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".cursor is a symbolic link"));
    assert_eq!(std::fs::read_to_string(cursor_home.join("mcp.json"))?, "{\"mcpServers\": {}}");
    assert!(!cursor_home.join("rules").exists());
    Ok(())
}

#[test]
fn a_one_gib_persona_toml_fails_fast() -> Result<()> {
    let dir = project();
    // The user's own scope (trusted by definition) so the file is read at all.
    let config = tempfile::tempdir()?;
    let user = config.path().join("personas");
    for id in ["big", "zero", "fifo"] {
        std::fs::create_dir_all(user.join(id))?;
    }
    std::fs::File::create(user.join("big/persona.toml"))?.set_len(1 << 30)?;
    std::os::unix::fs::symlink("/dev/zero", user.join("zero/persona.toml"))?;
    let fifo = std::ffi::CString::new(user.join("fifo/persona.toml").to_str().unwrap())?;
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    // The same in the project's own folder.
    let project_personas = dir.path().join(".agent-os/personas");
    std::fs::create_dir_all(project_personas.join("big"))?;
    std::fs::File::create(project_personas.join("big/persona.toml"))?.set_len(1 << 30)?;

    let started = Instant::now();
    let out = agent_os(dir.path(), &["persona", "list"], &[("AGENT_OS_CONFIG_DIR", config.path().to_str().unwrap())]);
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(text.contains("big/persona.toml is larger than the 65536-byte limit"), "{text}");
    assert!(text.contains("zero/persona.toml is a symbolic link"), "{text}");
    assert!(text.contains("fifo/persona.toml is not a regular file"), "{text}");
    eprintln!("persona list with a 1 GiB persona.toml, a /dev/zero link and a FIFO: {took:?}");
    Ok(())
}

#[test]
fn without_home_nothing_falls_back_to_the_project() -> Result<()> {
    let dir = project();
    let run = |args: &[&str]| {
        std::process::Command::new(BIN)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .arg("--project")
            .arg(dir.path())
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("running agent-os")
    };
    let out = run(&["jobs", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot tell where your state folder is") && err.contains("AGENT_OS_STATE_DIR"), "{err}");
    let out = run(&["serve"]);
    assert!(!out.status.success(), "serve refuses too");
    let out = run(&["paths", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert!(v["jobs_db"]["path"].is_null() && v["jobs_db"]["unavailable"].is_string(), "{v}");
    assert!(v["components_dir"]["path"].is_null(), "{v}");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.path())?.map(|e| e.unwrap().path()).collect();
    assert!(leftovers.is_empty(), "nothing was created in the project: {leftovers:?}");

    // With only a state folder named: no model, no caches, and search says so,
    // run from inside the project (the current folder is never a fallback).
    write(&dir.path().join(".agent-os/standards/ops/retries.md"), OK_MD);
    let out = std::process::Command::new(BIN)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AGENT_OS_STATE_DIR", STATE_DIR)
        .current_dir(dir.path())
        .args(["search", "wombat ledger retry budget", "--json"])
        .stdin(std::process::Stdio::null())
        .output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["mode"], "full-text", "{v}");
    assert!(v["note"].as_str().unwrap_or("").contains("full-text"), "{v}");
    assert!(v["hits"].as_array().is_some_and(|h| h.iter().any(|h| h["path"] == ".agent-os/standards/ops/retries.md")));
    let mut top: Vec<String> =
        std::fs::read_dir(dir.path())?.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    top.sort();
    assert_eq!(top, [".agent-os"], "no cache or model folder appeared in the project");
    let agent: Vec<String> = std::fs::read_dir(dir.path().join(".agent-os"))?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(agent, ["standards"], "no state in the repository");
    Ok(())
}

/// The inotify watches a process holds (Linux: `inotify wd:` lines in fdinfo).
fn inotify_watches(pid: u32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else { return 0 };
    fds.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|t| t.lines().filter(|l| l.starts_with("inotify wd:")).count())
        .sum()
}

#[tokio::test]
async fn watchers_never_follow_a_symlinked_folder() -> Result<()> {
    let dir = project();
    let std_dir = dir.path().join(".agent-os/standards");
    for d in ["architecture", "development", "data", "testing", "security", "operations", "api", "ui", "ml", "docs"] {
        write(&std_dir.join(d).join("x.md"), &format!("# {d}\n\nNotes about {d}.\n"));
    }
    write(&std_dir.join("operations/retries.md"), OK_MD);
    std::os::unix::fs::symlink("/usr", std_dir.join("usr"))?;
    std::os::unix::fs::symlink("/usr", dir.path().join(".agent-os/personas"))?;
    let s = Server::start(dir.path()).await?;
    s.wait_indexed("wombat ledger retry budget", ".agent-os/standards/operations/retries.md").await?;
    let pid = s.child.id().context("server pid")?;
    let watches = inotify_watches(pid);
    eprintln!("inotify watches for a 10-folder project with links to /usr: {watches}");
    // The standards root, its 10 folders, and the user's persona folder if any.
    assert!((11..=20).contains(&watches), "{watches} watches");

    // A folder made later is watched too: a standard written in it is found.
    write(&std_dir.join("payments/refunds.md"), "# Refunds\n\nPlatypus refunds settle within five days.\n");
    tokio::time::sleep(Duration::from_millis(800)).await;
    write(&std_dir.join("payments/chargebacks.md"), "# Chargebacks\n\nEchidna chargebacks are disputed in writing.\n");
    s.wait_indexed("echidna chargebacks disputed", ".agent-os/standards/payments/chargebacks.md").await?;
    assert!(inotify_watches(pid) <= watches + 1);
    s.stop().await
}
