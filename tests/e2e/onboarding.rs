//! The first five minutes: `agent-os init` and `agent-os doctor`, run as a
//! user would run them.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use crate::support::{BIN, project};

fn agent_os(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(dir)
        .args(args)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("running agent-os")
}

fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn init_twice_is_byte_identical_and_keeps_other_servers() -> Result<()> {
    let dir = project();
    let cursor = dir.path().join(".cursor/mcp.json");
    std::fs::create_dir_all(cursor.parent().unwrap())?;
    std::fs::write(&cursor, r#"{"mcpServers": {"github": {"command": "gh-mcp", "env": {"TOKEN": "x"}}}}"#)?;

    let first = agent_os(dir.path(), &["init"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let after_first = files(dir.path());
    let second = agent_os(dir.path(), &["init", "--json"]);
    assert!(second.status.success());
    assert_eq!(after_first, files(dir.path()), "a second init changed files");
    let steps: Vec<Value> = serde_json::from_slice(&second.stdout)?;
    assert!(steps.iter().all(|s| s["outcome"] == "unchanged"), "{steps:?}");

    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&cursor)?)?;
    assert_eq!(merged["mcpServers"]["github"]["command"], "gh-mcp");
    assert_eq!(merged["mcpServers"]["github"]["env"]["TOKEN"], "x");
    let ours = &merged["mcpServers"]["agent-os"];
    // Not on the test's PATH: the entry names the binary by its full path.
    assert_eq!(Path::new(ours["command"].as_str().unwrap()).canonicalize()?, Path::new(BIN).canonicalize()?);
    assert_eq!(ours["args"], serde_json::json!(["--project", "${workspaceFolder}", "serve"]));
    let claude: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join(".mcp.json"))?)?;
    assert_eq!(claude["mcpServers"]["agent-os"]["args"], serde_json::json!(["serve"]));
    let rule = std::fs::read_to_string(dir.path().join(".cursor/rules/agent-os.mdc"))?;
    assert!(rule.starts_with("---\n") && rule.contains("search_standards"));
    for d in ["architecture", "development", "data", "testing", "security", "operations"] {
        assert!(dir.path().join(".agent-os/standards").join(d).is_dir(), "{d}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join(".agent-os/.gitignore"))?.lines().last(), Some(".cache/"));
    let config = std::fs::read_to_string(dir.path().join(".agent-os/config.toml"))?;
    assert!(config.parse::<toml::Table>().is_ok(), "the commented config must parse");
    Ok(())
}

#[test]
fn init_refuses_a_broken_client_config_and_leaves_it() -> Result<()> {
    let dir = project();
    std::fs::write(dir.path().join(".mcp.json"), "{ \"mcpServers\": ")?;
    let out = agent_os(dir.path(), &["init"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".mcp.json is not valid JSON"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join(".mcp.json"))?, "{ \"mcpServers\": ");
    Ok(())
}

#[test]
fn doctor_reports_each_check_and_fails_on_a_damaged_jobs_db() -> Result<()> {
    let dir = project();
    assert!(agent_os(dir.path(), &["init"]).status.success());
    let out = agent_os(dir.path(), &["doctor", "--json"]);
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout)?;
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    for n in [
        "model files",
        "onnx runtime",
        "embeddings",
        "standards index",
        "personas",
        "llm provider",
        "jobs database",
        "mcp clients",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let personas = checks.iter().find(|c| c["name"] == "personas").unwrap();
    assert_eq!(personas["level"], "ok", "{personas}");
    assert!(personas["detail"].as_str().unwrap().starts_with("6 load"), "{personas}");
    assert!(checks.iter().all(|c| c["level"] != "fail"), "{checks:?}");
    assert!(out.status.success());

    let db = crate::support::state_path(dir.path(), "jobs_db");
    std::fs::create_dir_all(db.parent().unwrap())?;
    std::fs::write(&db, vec![0x42u8; 16384])?;
    let out = agent_os(dir.path(), &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("jobs database")).unwrap_or_default();
    assert!(line.starts_with("fail"), "{text}");
    assert!(text.contains("move") && text.contains("jobs.db"), "the fix is named: {text}");
    Ok(())
}
