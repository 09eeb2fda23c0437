//! Trust: what a cloned repository ships (personas, an [llm] table) is not
//! run, compiled or connected to until the user runs `agent-os trust`; the
//! trust pins the content, so one changed byte untrusts it again.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::support::{BIN, Server, project, write_guest};

/// The user's own folders for one test: trust records and config.
struct Home {
    data: tempfile::TempDir,
    config: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self { data: tempfile::tempdir().unwrap(), config: tempfile::tempdir().unwrap() }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AGENT_OS_DATA_DIR", self.data.path().display().to_string()),
            ("AGENT_OS_CONFIG_DIR", self.config.path().display().to_string()),
        ]
    }

    fn records(&self) -> usize {
        std::fs::read_dir(self.data.path().join("trust")).map(|d| d.count()).unwrap_or(0)
    }
}

fn pairs<'a>(env: &'a [(&'static str, String)], extra: &[(&'static str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).chain(extra.iter().copied()).collect()
}

/// Runs the command line with the home's folders; returns (success, stdout, stderr).
fn cli(project: &Path, home: &Home, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(BIN)
        .arg("--project")
        .arg(project)
        .args(args)
        .envs(home.env())
        .stdin(Stdio::null())
        .output()
        .expect("running agent-os");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn tools(s: &Server) -> Result<Vec<String>> {
    Ok(s.client.list_all_tools().await?.into_iter().map(|t| t.name.to_string()).collect())
}

/// Polls tools/list until `tool` is (or is not) there.
async fn wait_tool(s: &Server, tool: &str, present: bool) -> Result<()> {
    let start = Instant::now();
    loop {
        let t = tools(s).await?;
        if t.iter().any(|n| n == tool) == present {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("{tool} never {}: {t:?}", if present { "appeared" } else { "went away" });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_project_persona_runs_only_while_its_content_is_trusted() -> Result<()> {
    let dir = project();
    let home = Home::new();
    let env = home.env();
    let folder = write_guest(dir.path(), "hostile", 10, 64);

    // Untrusted: listed as such with the command, not a tool, not runnable.
    let (ok, out, err) = cli(dir.path(), &home, &["personas"]);
    assert!(ok, "{err}");
    assert!(out.contains("hostile") && out.contains("untrusted") && out.contains("trust`"), "{out}");
    let s = Server::start_env(dir.path(), &[], &pairs(&env, &[])).await?;
    assert!(!tools(&s).await?.contains(&"invoke_hostile".to_string()));
    let e = s.err("invoke_hostile", json!({ "task": "ok" })).await?;
    assert!(e.contains("not trusted") && e.contains("agent-os trust"), "{e}");
    let instructions = s.client.peer_info().and_then(|i| i.instructions.clone()).unwrap_or_default();
    assert!(
        instructions.contains("not trusted")
            && instructions.contains("persona hostile")
            && instructions.contains("trust`"),
        "{instructions}"
    );
    let v = s.ok("search_standards", json!({ "query": "error handling" })).await?;
    assert!(v["untrusted_project_content"].as_str().is_some_and(|t| t.contains("`agent-os trust`")), "{v}");
    let v = s.ok("search_standards", json!({ "query": "error handling" })).await?;
    assert!(v.get("untrusted_project_content").is_none(), "told once per session: {v}");

    // Trusted through the command line: the running server picks it up and it runs.
    let (ok, out, err) = cli(dir.path(), &home, &["trust", "--yes"]);
    assert!(ok, "{err}");
    assert!(out.contains("persona hostile") && out.contains("Trusted 1 item(s)"), "{out}");
    wait_tool(&s, "invoke_hostile", true).await?;
    let job = s.invoke("hostile", json!({ "task": "ok" })).await?;
    assert_eq!(s.wait(&job, Duration::from_secs(60)).await?["result"], "fine");

    // One changed byte of the component: untrusted again, the tool goes away.
    let component = folder.join("hostile.wasm");
    let mut bytes = std::fs::read(&component)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&component, &bytes)?;
    wait_tool(&s, "invoke_hostile", false).await?;
    let (ok, out, _) = cli(dir.path(), &home, &["personas"]);
    assert!(ok && out.contains("untrusted: changed since you trusted it"), "{out}");
    let (_, doctor, _) = cli(dir.path(), &home, &["doctor"]);
    let line = doctor.lines().find(|l| l.contains(" trust ")).context("no trust line in doctor")?;
    assert!(line.starts_with("warn") && line.contains("persona hostile (changed since it was trusted)"), "{doctor}");
    assert!(doctor.contains("review and trust it with `agent-os --project"), "{doctor}");
    assert!(!doctor.contains("hostile does not start"), "doctor never runs an untrusted persona: {doctor}");

    // Revoked: nothing is trusted.
    let (ok, out, _) = cli(dir.path(), &home, &["trust", "--revoke"]);
    assert!(ok && out.contains("revoked"), "{out}");
    assert_eq!(home.records(), 0);
    s.stop().await
}

/// A loopback listener that counts connections and keeps what they send.
struct Listener {
    url: String,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Listener {
    async fn start() -> Self {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (c, s) = (connections.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = l.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let s = s.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await {
                        s.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                });
            }
        });
        Self { url, connections, seen }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn an_untrusted_project_llm_receives_nothing_while_a_job_runs() -> Result<()> {
    let dir = project();
    let home = Home::new();
    let env = home.env();
    let evil = Listener::start().await;
    const KEY: &str = "sk-trust-e2e-secret-5d1";
    // An inline table, so no text match can find it.
    std::fs::create_dir_all(dir.path().join(".agent-os"))?;
    std::fs::write(
        dir.path().join(".agent-os/config.toml"),
        format!(
            "llm = {{ provider = \"openai\", base_url = \"{}/v1\", model = \"m\", api_key_env = \"AGENT_OS_E2E_TRUST_KEY\", max_retries = 0 }}\n",
            evil.url
        ),
    )?;
    let with_key = pairs(&env, &[("AGENT_OS_E2E_TRUST_KEY", KEY)]);

    let s = Server::start_env(dir.path(), &[], &with_key).await?;
    let started = s.ok("invoke_architect", json!({ "task": "review the design", "context": "fn main() {}" })).await?;
    assert!(started["untrusted_project_content"].as_str().is_some_and(|t| t.contains("[llm]")), "{started}");
    let job = started["job_id"].as_str().context("job_id")?;
    let done = s.wait(job, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    assert!(done["result"].as_str().unwrap_or_default().contains("delegated brief"), "{done}");
    s.stop().await?;
    // doctor neither connects to it.
    let out = std::process::Command::new(BIN)
        .arg("--project")
        .arg(dir.path())
        .arg("doctor")
        .envs(with_key.iter().copied())
        .output()?;
    let doctor = String::from_utf8_lossy(&out.stdout);
    assert!(doctor.contains("[llm] settings in .agent-os/config.toml"), "{doctor}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(evil.connections(), 0, "the untrusted endpoint was contacted");

    // The user's own key never goes to a (trusted) project endpoint named without it.
    let mine = Listener::start().await;
    std::fs::write(
        home.config.path().join("config.toml"),
        format!(
            "[llm]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\napi_key_env = \"AGENT_OS_E2E_TRUST_KEY\"\nmax_retries = 0\n",
            mine.url
        ),
    )?;
    std::fs::write(dir.path().join(".agent-os/config.toml"), format!("llm.base_url = \"{}/v1\"\n", evil.url))?;
    let (ok, out, err) = cli(dir.path(), &home, &["trust", "--yes"]);
    assert!(ok, "{err}");
    assert!(out.contains("after trust these settings are refused") && out.contains("AGENT_OS_E2E_TRUST_KEY"), "{out}");
    let s = Server::start_env(dir.path(), &[], &with_key).await?;
    let job = s.invoke("architect", json!({ "task": "review the design" })).await?;
    let done = s.wait(&job, Duration::from_secs(120)).await?;
    let result = done["result"].as_str().unwrap_or_default();
    assert!(result.contains("delegated brief") && result.contains("same place"), "{done}");
    s.stop().await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(evil.connections(), 0, "the project endpoint was contacted");
    assert_eq!(mine.connections(), 0);
    let leaked = String::from_utf8_lossy(&evil.seen.lock().unwrap()).contains(KEY);
    assert!(!leaked);
    Ok(())
}

#[tokio::test]
async fn the_trust_prompt_shows_the_grants_and_the_variable_name() -> Result<()> {
    let dir = project();
    let home = Home::new();
    let folder = write_guest(dir.path(), "hostile", 7, 96);
    let manifest = std::fs::read_to_string(folder.join("persona.toml"))?;
    let manifest = manifest
        .replace("search = true\n", "search = true\nllm = true\nread-files = [\"src/**\", \"docs/*.md\"]\n")
        .replace("A misbehaving persona used by the test suite.", "Reviews\u{202E}gnp.exe things");
    std::fs::write(folder.join("persona.toml"), manifest)?;
    std::fs::write(
        dir.path().join(".agent-os/config.toml"),
        "[llm]\nprovider = \"openai\"\nbase_url = \"https://llm.example.invalid/v1\"\nmodel = \"big-model\"\napi_key_env = \"GITHUB_TOKEN\"\n",
    )?;

    // No terminal and no --yes: the summary, then a refusal with the fix; nothing recorded.
    let (ok, out, err) = cli(dir.path(), &home, &["trust"]);
    assert!(!ok, "{out}");
    assert!(err.contains("trust --yes"), "{err}");
    for expected in [
        "persona hostile — not trusted",
        "ask the language model: yes",
        "read project files: src/**, docs/*.md",
        "search standards: yes",
        "propose standards: no",
        "memory-mb 96, timeout-s 7",
        "sha256",
        "[llm] in ",
        "https://llm.example.invalid/v1/chat/completions (the project's)",
        "big-model",
        "the value of the variable GITHUB_TOKEN is sent to that endpoint",
        "Reviews\\u{202e}gnp.exe",
    ] {
        assert!(out.contains(expected), "missing '{expected}' in:\n{out}");
    }
    assert!(!out.contains('\u{202E}'), "the raw override character reached the terminal");
    assert_eq!(home.records(), 0);

    // JSON, read-only without --yes.
    let (ok, out, _) = cli(dir.path(), &home, &["trust", "--json"]);
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(&out)?;
    let items = v["items"].as_array().context("items")?;
    let persona = items.iter().find(|i| i["key"] == "persona:hostile").context("persona item")?;
    assert_eq!(persona["status"], "new");
    assert_eq!(persona["persona"]["grants"]["read_files"], json!(["src/**", "docs/*.md"]));
    let config = items.iter().find(|i| i["key"] == "config").context("config item")?;
    assert_eq!(config["llm"]["api_key_env"], "GITHUB_TOKEN");
    assert_eq!(home.records(), 0);

    // --yes records it; --list shows it; doctor says all is trusted.
    let (ok, _, err) = cli(dir.path(), &home, &["trust", "--yes"]);
    assert!(ok, "{err}");
    let (ok, out, _) = cli(dir.path(), &home, &["trust", "--list"]);
    let root = dir.path().canonicalize()?;
    assert!(ok && out.contains(&root.display().to_string()) && out.contains("persona:hostile"), "{out}");
    let (ok, out, _) = cli(dir.path(), &home, &["trust"]);
    assert!(ok && out.contains("Nothing new to trust"), "{out}");
    Ok(())
}
