//! search_standards end to end: project and bundled standards, live
//! re-indexing of an edited file, bad input, a damaged index, and the
//! full-text fallback without a model.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::support::{BIN, Server, project};

const SECRETS_MD: &str = "---\ndomain: security\ntags: [secrets]\n---\n# Secret handling\n\nEvery service loads its credentials from the vault at start-up; nothing secret is committed to the repository or baked into images.\n\n## Rotation\n\nRotate database passwords and API keys every ninety days, and at once when someone with access leaves the team.\n";

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(".agent-os/standards").join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Whether the embedding model is installed where the server looks for it.
fn model_installed() -> bool {
    agent_os::rag::ModelPaths::from_env().is_ok_and(|p| p.check().is_ok())
}

async fn search(s: &Server, query: &str) -> Result<Value> {
    s.ok("search_standards", json!({ "query": query })).await
}

fn paths(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .map(|a| a.iter().map(|h| h["path"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

/// Searches until `pred` holds on the answer or `limit` passes.
async fn search_until(
    s: &Server,
    query: &str,
    limit: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Result<(Value, Duration)> {
    let start = Instant::now();
    loop {
        let v = search(s, query).await?;
        if pred(&v) {
            return Ok((v, start.elapsed()));
        }
        if start.elapsed() > limit {
            bail!("after {limit:?} the search for '{query}' still answers {v}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn project_and_universal_standards_are_found_with_citations() -> Result<()> {
    let dir = project();
    write(dir.path(), "security/secrets.md", SECRETS_MD.as_bytes());
    let s = Server::start(dir.path()).await?;
    let (v, _) = search_until(&s, "how often should API keys be rotated", Duration::from_secs(60), |v| {
        paths(v).iter().any(|p| p == ".agent-os/standards/security/secrets.md")
    })
    .await?;
    let hit = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"] == ".agent-os/standards/security/secrets.md")
        .unwrap();
    assert_eq!(hit["domain"], "security");
    assert_eq!(hit["section"], "Secret handling > Rotation", "{hit}");
    assert!(hit["snippet"].as_str().unwrap().contains("ninety days"), "{hit}");
    let score = hit["score"].as_f64().unwrap();
    assert!(score > 0.0 && score <= 1.0, "{hit}");
    let expected_mode = if model_installed() { "hybrid" } else { "full-text" };
    assert_eq!(v["mode"], expected_mode, "{v}");

    // Bundled universal standards are indexed beside the project's own.
    let v = search(&s, "exponential backoff with jitter for retries").await?;
    assert!(paths(&v).iter().any(|p| p.starts_with("universal/")), "{v}");
    // A domain filter keeps only that domain.
    let v = s.ok("search_standards", json!({ "query": "rotate keys", "domain": "testing" })).await?;
    assert!(v["results"].as_array().unwrap().iter().all(|h| h["domain"] == "testing"), "{v}");
    // One passage per document by default, and the limit holds.
    let v = s.ok("search_standards", json!({ "query": "tests", "limit": 3 })).await?;
    let p = paths(&v);
    assert!(p.len() <= 3 && !p.is_empty(), "{v}");
    let mut dedup = p.clone();
    dedup.dedup();
    assert_eq!(p.len(), dedup.len());
    // The identical query is answered from the cache.
    let again = s.ok("search_standards", json!({ "query": "tests", "limit": 3 })).await?;
    assert_eq!(again["cached"], true);
    assert_eq!(paths(&again), p);
    s.stop().await
}

/// The first search of a server that has just started on a new project,
/// sent right after the handshake (as an agent does with its first
/// question), waits for the first index build instead of answering from an
/// index that holds none of the standards yet.
#[tokio::test]
async fn a_search_made_as_the_server_starts_sees_every_standard() -> Result<()> {
    let dir = project();
    write(dir.path(), "security/secrets.md", SECRETS_MD.as_bytes());
    let s = Server::start(dir.path()).await?;
    let v = search(&s, "how often should API keys be rotated").await?;
    assert!(v["note"].as_str().is_none_or(|n| !n.contains("still being built")), "{v}");
    assert!(paths(&v).iter().any(|p| p == ".agent-os/standards/security/secrets.md"), "{v}");
    let v = search(&s, "exponential backoff with jitter for retries").await?;
    assert!(paths(&v).iter().any(|p| p.starts_with("universal/")), "{v}");
    s.stop().await
}

#[tokio::test]
async fn an_edited_standard_is_searchable_within_30_seconds() -> Result<()> {
    let dir = project();
    write(dir.path(), "security/secrets.md", SECRETS_MD.as_bytes());
    let s = Server::start(dir.path()).await?;
    search_until(&s, "rotate API keys", Duration::from_secs(60), |v| !paths(v).is_empty()).await?;
    // Cache the answer, then change the file: the edit must show through.
    let query = "quokka escalation ladder for pager alerts";
    let before = search(&s, query).await?;
    assert!(
        !before["results"].as_array().unwrap().iter().any(|h| h["snippet"].as_str().unwrap_or("").contains("quokka"))
    );
    let edited = format!(
        "{SECRETS_MD}\n## Quokka escalation\n\nThe quokka escalation ladder pages the on-call engineer first, then the team lead after fifteen minutes.\n"
    );
    write(dir.path(), "security/secrets.md", edited.as_bytes());
    let (_, took) = search_until(&s, query, Duration::from_secs(30), |v| {
        v["results"].as_array().unwrap().iter().any(|h| h["section"] == "Secret handling > Quokka escalation")
    })
    .await?;
    eprintln!("edited standard searchable after {took:?}");
    // A new file is picked up, and a deleted one disappears.
    write(dir.path(), "ops/pager.md", b"# Pager duty\n\nWombat rotations hand over the pager every Monday at ten with a written summary of open incidents.\n");
    search_until(&s, "wombat pager rotation handover", Duration::from_secs(30), |v| {
        paths(v).iter().any(|p| p.ends_with("ops/pager.md"))
    })
    .await?;
    std::fs::remove_file(dir.path().join(".agent-os/standards/ops/pager.md"))?;
    search_until(&s, "wombat pager rotation handover", Duration::from_secs(30), |v| {
        !paths(v).iter().any(|p| p.ends_with("ops/pager.md"))
    })
    .await?;
    s.stop().await
}

#[tokio::test]
async fn bad_queries_and_bad_files_get_clear_errors() -> Result<()> {
    let dir = project();
    write(dir.path(), "security/secrets.md", SECRETS_MD.as_bytes());
    write(dir.path(), "security/binary.md", b"# Bin\n\x00\x01\x02\xff");
    write(dir.path(), "security/latin1.md", b"# Caf\xe9 rules\n\nLatin-1 text.");
    let s = Server::start(dir.path()).await?;
    let e = s.err("search_standards", json!({ "query": "   " })).await?;
    assert!(e.contains("empty"), "{e}");
    let e = s.err("search_standards", json!({ "query": "x".repeat(2_001) })).await?;
    assert!(e.contains("2000"), "{e}");
    let e = s.err("search_standards", json!({ "query": "rotation", "limit": 500 })).await?;
    assert!(e.contains("between 1 and 20"), "{e}");
    let e = s.err("search_standards", json!({ "limit": 3 })).await?;
    assert!(e.to_lowercase().contains("query"), "{e}");
    // The unreadable files are skipped; the good one is still found.
    search_until(&s, "rotate API keys", Duration::from_secs(60), |v| {
        paths(v).iter().any(|p| p.ends_with("security/secrets.md"))
    })
    .await?;
    let v = search(&s, "Latin-1 text cafe rules").await?;
    assert!(!paths(&v).iter().any(|p| p.ends_with("latin1.md") || p.ends_with("binary.md")), "{v}");
    let log = std::fs::read_to_string(dir.path().join("server.log"))?;
    assert!(log.contains("latin1.md") && log.contains("UTF-8"), "no warning in the log:\n{log}");
    s.stop().await
}

#[tokio::test]
async fn a_deleted_or_corrupted_index_is_rebuilt() -> Result<()> {
    let dir = project();
    write(dir.path(), "security/secrets.md", SECRETS_MD.as_bytes());
    let s = Server::start(dir.path()).await?;
    let found = |v: &Value| paths(v).iter().any(|p| p.ends_with("security/secrets.md"));
    search_until(&s, "rotate API keys", Duration::from_secs(60), found).await?;
    let index = crate::support::state_path(dir.path(), "index_dir");
    assert!(index.is_dir());

    std::fs::remove_dir_all(&index)?;
    let v = s.ok("search_standards", json!({ "query": "database password rotation" })).await?;
    assert!(found(&v), "after deletion: {v}");

    // Overwrite every file of the table with garbage.
    let mut stack = vec![index.clone()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                std::fs::write(&p, b"not a lance file")?;
                n += 1;
            }
        }
    }
    assert!(n > 0);
    let v = s.ok("search_standards", json!({ "query": "vault credentials at start-up" })).await?;
    assert!(found(&v), "after corruption: {v}");
    // And the server still runs jobs.
    s.ok("list_persona_jobs", json!({})).await?;
    s.stop().await
}

#[tokio::test]
async fn without_a_model_search_is_full_text_and_says_so() -> Result<()> {
    let dir = project();
    write(dir.path(), "security/secrets.md", SECRETS_MD.as_bytes());
    let empty = dir.path().join("no-models");
    std::fs::create_dir_all(&empty)?;
    let env = [
        ("AGENT_OS_MODELS_DIR", empty.to_str().unwrap()),
        ("AGENT_OS_MODEL_DIR", empty.to_str().unwrap()),
        ("AGENT_OS_ORT_LIB", "/nonexistent/libonnxruntime.so"),
    ];
    let s = Server::start_env(dir.path(), &[], &env).await?;
    let (v, _) = search_until(&s, "rotate database passwords", Duration::from_secs(60), |v| {
        paths(v).iter().any(|p| p.ends_with("security/secrets.md"))
    })
    .await?;
    assert_eq!(v["mode"], "full-text");
    assert!(v["note"].as_str().unwrap_or("").contains("full-text search only"), "{v}");
    s.stop().await?;

    // The CLI says so too.
    let out = std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .args(["--project", dir.path().to_str().unwrap(), "search", "rotate database passwords"])
        .envs(env)
        .output()
        .context("running agent-os search")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("full-text search only"), "{stdout}");
    assert!(stdout.contains(".agent-os/standards/security/secrets.md"), "{stdout}");
    Ok(())
}

#[tokio::test]
async fn cli_search_prints_json_and_refuses_an_empty_query() -> Result<()> {
    let dir = project();
    write(dir.path(), "security/secrets.md", SECRETS_MD.as_bytes());
    let run = |args: &[&str]| {
        std::process::Command::new(BIN)
            .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
            .arg("--project")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["search", "--json", "rotate API keys"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["hits"][0]["path"], ".agent-os/standards/security/secrets.md", "{v}");
    let out = run(&["search", ""]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    Ok(())
}
