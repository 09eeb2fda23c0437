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

/// `init --client all`: every client's own file, merged into what the user
/// has (other servers, other keys, key order, TOML comments kept), twice
/// byte-identical.
#[test]
fn init_client_all_wires_every_client_in_its_own_file() -> Result<()> {
    let dir = project();
    let root = dir.path();
    for d in [".vscode", ".codex", ".gemini", ".cursor"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    std::fs::write(
        root.join(".vscode/mcp.json"),
        r#"{"inputs": [{"id": "tok", "type": "promptString"}], "servers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}}}"#,
    )?;
    let codex_before =
        "# my Codex settings\nmodel = \"o3\"\n\n[mcp_servers.github]\ncommand = \"gh-mcp\" # keep me\nargs = []\n";
    std::fs::write(root.join(".codex/config.toml"), codex_before)?;
    std::fs::write(
        root.join(".gemini/settings.json"),
        r#"{"theme": "dark", "mcpServers": {"other": {"command": "x"}}}"#,
    )?;

    let first = agent_os(root, &["init", "--client", "all", "--json"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let steps: Vec<Value> = serde_json::from_slice(&first.stdout)?;
    for p in [".cursor/mcp.json", ".mcp.json", ".vscode/mcp.json", ".codex/config.toml", ".gemini/settings.json"] {
        assert!(steps.iter().any(|s| s["path"] == p && s["outcome"] != "kept"), "{p} not wired: {steps:?}");
    }
    let after_first = files(root);
    let second = agent_os(root, &["init", "--client", "all", "--json"]);
    assert!(second.status.success());
    assert_eq!(after_first, files(root), "a second init --client all changed files");
    let steps: Vec<Value> = serde_json::from_slice(&second.stdout)?;
    assert!(steps.iter().all(|s| s["outcome"] == "unchanged"), "{steps:?}");

    let vscode_text = std::fs::read_to_string(root.join(".vscode/mcp.json"))?;
    let vscode: Value = serde_json::from_str(&vscode_text)?;
    assert_eq!(vscode["servers"]["github"]["url"], "https://api.githubcopilot.com/mcp/");
    assert_eq!(vscode["inputs"][0]["id"], "tok");
    assert!(vscode_text.find("\"inputs\"").unwrap() < vscode_text.find("\"servers\"").unwrap(), "key order");
    let ours = &vscode["servers"]["agent-os"];
    assert_eq!(ours["type"], "stdio");
    assert_eq!(ours["args"], serde_json::json!(["--project", "${workspaceFolder}", "serve"]));
    assert!(vscode.get("mcpServers").is_none(), "VS Code reads `servers`");

    let codex = std::fs::read_to_string(root.join(".codex/config.toml"))?;
    assert!(codex.starts_with(codex_before), "the user's TOML is kept byte for byte:\n{codex}");
    let parsed: toml::Table = codex.parse()?;
    assert_eq!(parsed["model"].as_str(), Some("o3"));
    assert_eq!(parsed["mcp_servers"]["github"]["command"].as_str(), Some("gh-mcp"));
    let entry = &parsed["mcp_servers"]["agent-os"];
    assert_eq!(Path::new(entry["command"].as_str().unwrap()).canonicalize()?, Path::new(BIN).canonicalize()?);
    assert_eq!(entry["args"].as_array().map(|a| a.len()), Some(1));

    let gemini_text = std::fs::read_to_string(root.join(".gemini/settings.json"))?;
    let gemini: Value = serde_json::from_str(&gemini_text)?;
    assert_eq!(gemini["theme"], "dark");
    assert_eq!(gemini["mcpServers"]["other"]["command"], "x");
    assert_eq!(gemini["mcpServers"]["agent-os"]["args"], serde_json::json!(["serve"]));
    assert!(gemini_text.find("theme").unwrap() < gemini_text.find("mcpServers").unwrap(), "key order");

    // doctor sees every one of them, and says Codex has not trusted the
    // project yet (an empty Codex home).
    let codex_home = tempfile::tempdir()?;
    let out = std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .env("CODEX_HOME", codex_home.path())
        .arg("--project")
        .arg(root)
        .args(["doctor", "--json"])
        .output()?;
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout)?;
    let clients = checks.iter().find(|c| c["name"] == "mcp clients").expect("an mcp clients check");
    let detail = clients["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("wired for Cursor, Claude Code, VS Code, Codex, Gemini CLI;"), "{clients}");
    assert_eq!(clients["level"], "warn", "{clients}");
    assert!(clients["fix"].as_str().is_some_and(|f| f.contains("trust_level")), "{clients}");
    Ok(())
}

/// Without --client: Cursor and Claude Code, plus the clients whose folder
/// the project has; only those files are written.
#[test]
fn init_wires_the_clients_found() -> Result<()> {
    let dir = project();
    let root = dir.path();
    std::fs::create_dir(root.join(".codex"))?;
    let out = agent_os(root, &["init"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(root.join(".codex/config.toml").is_file());
    assert!(root.join(".cursor/mcp.json").is_file() && root.join(".mcp.json").is_file());
    assert!(!root.join(".vscode").exists() && !root.join(".gemini").exists());
    // Only the one named.
    let dir = project();
    let out = agent_os(dir.path(), &["init", "--client", "gemini"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join(".gemini/settings.json").is_file());
    assert!(!dir.path().join(".mcp.json").exists() && !dir.path().join(".cursor").exists());
    let out = agent_os(dir.path(), &["init", "--client", "emacs"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown client 'emacs'"));
    Ok(())
}

/// Broken JSON or TOML is refused and left as it was; a client file that is
/// a link is never written through.
#[test]
fn init_client_refuses_broken_files_and_links() -> Result<()> {
    for (client, file, broken) in [
        ("vscode", ".vscode/mcp.json", "{ \"servers\": "),
        ("gemini", ".gemini/settings.json", "{ // comments are not JSON\n}"),
        ("codex", ".codex/config.toml", "[mcp_servers\ncommand = "),
        // mcp_servers written inline: a table cannot be appended.
        ("codex", ".codex/config.toml", "mcp_servers = { github = { command = \"gh\" } }\n"),
    ] {
        let dir = project();
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(&path, broken)?;
        let out = agent_os(dir.path(), &["init", "--client", client]);
        assert!(!out.status.success(), "{client} accepted {broken:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(file) && err.contains("agent-os init"), "{err}");
        assert_eq!(std::fs::read_to_string(&path)?, broken, "{file} was changed");
    }
    #[cfg(unix)]
    for (client, file) in
        [("vscode", ".vscode/mcp.json"), ("codex", ".codex/config.toml"), ("gemini", ".gemini/settings.json")]
    {
        let outside = project();
        let target = outside.path().join("mine");
        std::fs::write(&target, "{}")?;
        let dir = project();
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::os::unix::fs::symlink(&target, &path)?;
        let out = agent_os(dir.path(), &["init", "--client", client]);
        assert!(!out.status.success(), "{client} wrote through a link");
        assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
        assert_eq!(std::fs::read_to_string(&target)?, "{}");
        assert!(std::fs::symlink_metadata(&path)?.file_type().is_symlink());
    }
    Ok(())
}

/// The five client files as a user might have them, each with a server of
/// their own: `init --client all` adds ours to each, keeps theirs, and a
/// second run changes no byte.
#[test]
fn init_client_all_keeps_the_other_servers_of_every_client() -> Result<()> {
    let dir = project();
    let root = dir.path();
    let theirs: [(&str, &str); 5] = [
        (".cursor/mcp.json", r#"{"mcpServers": {"github": {"command": "gh-mcp", "args": ["--ro"]}}}"#),
        (".mcp.json", r#"{"mcpServers": {"sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"}}}"#),
        (
            ".vscode/mcp.json",
            r#"{"servers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}}}"#,
        ),
        (".codex/config.toml", "[mcp_servers.github]\ncommand = \"gh-mcp\"\n"),
        (".gemini/settings.json", r#"{"mcpServers": {"other": {"httpUrl": "http://127.0.0.1:9/mcp"}}}"#),
    ];
    for (file, text) in theirs {
        std::fs::create_dir_all(root.join(file).parent().unwrap())?;
        std::fs::write(root.join(file), text)?;
    }
    let first = agent_os(root, &["init", "--client", "all", "--json"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let after_first = files(root);
    let second = agent_os(root, &["init", "--client", "all", "--json"]);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert_eq!(after_first, files(root), "a second init --client all changed files");
    let steps: Vec<Value> = serde_json::from_slice(&second.stdout)?;
    assert!(steps.iter().all(|s| s["outcome"] == "unchanged"), "{steps:?}");

    let json =
        |file: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(root.join(file)).unwrap()).unwrap() };
    assert_eq!(json(".cursor/mcp.json")["mcpServers"]["github"]["args"], serde_json::json!(["--ro"]));
    assert!(json(".cursor/mcp.json")["mcpServers"]["agent-os"].is_object());
    assert_eq!(json(".mcp.json")["mcpServers"]["sentry"]["url"], "https://mcp.sentry.dev/mcp");
    assert_eq!(json(".mcp.json")["mcpServers"]["agent-os"]["args"], serde_json::json!(["serve"]));
    assert_eq!(json(".vscode/mcp.json")["servers"]["github"]["type"], "http");
    assert_eq!(json(".vscode/mcp.json")["servers"]["agent-os"]["type"], "stdio");
    assert_eq!(json(".gemini/settings.json")["mcpServers"]["other"]["httpUrl"], "http://127.0.0.1:9/mcp");
    assert!(json(".gemini/settings.json")["mcpServers"]["agent-os"].is_object());
    let codex: toml::Table = std::fs::read_to_string(root.join(".codex/config.toml"))?.parse()?;
    assert_eq!(codex["mcp_servers"]["github"]["command"].as_str(), Some("gh-mcp"));
    assert!(codex["mcp_servers"]["agent-os"].is_table());
    Ok(())
}

/// `init --client all` with one broken client file (each in turn, Cursor's
/// and Claude Code's included): refused with the file named, that file left
/// byte for byte, and no client file written at all, so a fixed file and a
/// second run give the same result as one clean run.
#[test]
fn init_client_all_with_one_broken_file_writes_no_client_file() -> Result<()> {
    const CLIENT_FILES: [&str; 6] = [
        ".cursor/mcp.json",
        ".cursor/rules/agent-os.mdc",
        ".mcp.json",
        ".vscode/mcp.json",
        ".codex/config.toml",
        ".gemini/settings.json",
    ];
    for (file, broken) in [
        (".cursor/mcp.json", "{\"mcpServers\": {\"github\": "),
        (".mcp.json", "{\"mcpServers\": [}"),
        (".vscode/mcp.json", "{ \"servers\": "),
        (".codex/config.toml", "[mcp_servers.github\ncommand = "),
        (".gemini/settings.json", "{ \"mcpServers\": {}, }"),
    ] {
        let dir = project();
        let root = dir.path();
        std::fs::create_dir_all(root.join(file).parent().unwrap())?;
        std::fs::write(root.join(file), broken)?;
        let out = agent_os(root, &["init", "--client", "all"]);
        assert!(!out.status.success(), "init --client all accepted a broken {file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(file) && (err.contains("not valid JSON") || err.contains("not valid TOML")), "{err}");
        assert_eq!(std::fs::read_to_string(root.join(file))?, broken, "{file} was changed");
        for other in CLIENT_FILES.iter().filter(|f| **f != file) {
            assert!(!root.join(other).exists(), "{other} was written although {file} is broken");
        }
    }
    Ok(())
}

/// Codex CLI and Gemini CLI start the server in the folder their user runs
/// them from: in a subfolder of the project, without `--project`, the server
/// and the CLI still work on the project (the nearest folder above with
/// `.agent-os`), and `init` still sets up the folder it is run in.
#[tokio::test]
async fn run_in_a_subfolder_it_finds_the_project() -> Result<()> {
    use rmcp::ServiceExt;
    let dir = project();
    let root = dir.path().canonicalize()?;
    std::fs::create_dir_all(root.join(".git"))?;
    let standard = root.join(".agent-os/standards/operations/deploys.md");
    std::fs::create_dir_all(standard.parent().unwrap())?;
    std::fs::write(&standard, "# Deploys\n\nDeploys wait for a green canary in the staging ring before production.\n")?;
    let deep = root.join("services/api/src");
    std::fs::create_dir_all(&deep)?;
    let run_here = |args: &[&str]| {
        std::process::Command::new(BIN)
            .current_dir(&deep)
            .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
            .env_remove("AGENT_OS_PROJECT")
            .args(args)
            .output()
            .expect("running agent-os")
    };
    let out = run_here(&["paths", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["project_root"]["path"].as_str(), Some(root.to_str().unwrap()), "{v}");

    let mut child = tokio::process::Command::new(BIN)
        .current_dir(&deep)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .env_remove("AGENT_OS_PROJECT")
        .arg("serve")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let client = ().serve((child.stdout.take().unwrap(), child.stdin.take().unwrap())).await?;
    let v = crate::support::tool_ok(
        &client,
        "search_standards",
        serde_json::json!({ "query": "canary before production" }),
    )
    .await?;
    let paths: Vec<&str> = v["results"].as_array().into_iter().flatten().filter_map(|h| h["path"].as_str()).collect();
    assert!(paths.contains(&".agent-os/standards/operations/deploys.md"), "{v}");
    client.cancel().await?;

    // `init` in the subfolder sets up that folder, as asked.
    let out = run_here(&["init", "--client", "codex"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(deep.join(".agent-os").is_dir() && deep.join(".codex/config.toml").is_file());
    Ok(())
}
