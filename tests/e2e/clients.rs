//! agent-os driven by two MCP clients written elsewhere, over stdio and
//! streamable HTTP: the official Python SDK (`mcp` 1.x, through
//! tests/clients/mcp_client.py) and the MCP Inspector's `--cli` mode. Each
//! lists the tools, finds a project standard with search_standards, and runs
//! invoke_security on code holding an AWS key, polling check_persona_job until
//! the review names the key.
//!
//! The clients are installed by scripts/setup-clients.sh (scripts/setup.sh
//! runs it) into ~/.cache/agent-os/clients or $AGENT_OS_CLIENTS_DIR. Without
//! them these tests fail and say so; they do not pass silently.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{BIN, project};

/// The project standard the searches must find, and a query only it answers.
pub(crate) const STANDARD_PATH: &str = ".agent-os/standards/operations/release-freeze.md";
const STANDARD_MD: &str = "---\ndomain: operations\ntags: [releases]\n---\n# Release freeze\n\n\
Nobody deploys to production on Friday afternoons: the release freeze starts at 15:00 UTC on Friday and \
ends on Monday morning. Hotfixes during the freeze need the on-call lead's approval in the incident channel.\n";
pub(crate) const QUERY: &str = "can we deploy to production on a Friday afternoon";

/// An AWS access key id (the documented format, a made-up value) on line 2.
pub(crate) const AWS_KEY: &str = "AKIAQ7RX2MBN4KD5TW3P";
pub(crate) const CONTEXT: &str = "import boto3\nKEY_ID = \"AKIAQ7RX2MBN4KD5TW3P\"\nclient = boto3.client(\"s3\")\n";

/// The tools every agent-os server lists.
const CORE_TOOLS: [&str; 9] = [
    "invoke_architect",
    "invoke_engineer",
    "invoke_data",
    "invoke_qa",
    "invoke_security",
    "invoke_sre",
    "check_persona_job",
    "list_persona_jobs",
    "search_standards",
];

/// A bearer token of the length the server asks for.
const TOKEN: &str = "e2e-clients-token-5f0c2a9d7b1e";

/// How long one client run may take, and the search for the standard.
const CLIENT_LIMIT: Duration = Duration::from_secs(300);
const SEARCH_LIMIT: Duration = Duration::from_secs(180);

// ---- the installed clients -------------------------------------------------

struct Clients {
    python: PathBuf,
    inspector: PathBuf,
}

pub(crate) fn clients_dir() -> PathBuf {
    match std::env::var_os("AGENT_OS_CLIENTS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/agent-os/clients"),
    }
}

/// The installed clients, or a panic that says how to install them.
fn clients() -> Clients {
    let dir = clients_dir();
    let c = Clients { python: dir.join("venv/bin/python"), inspector: dir.join("node_modules/.bin/mcp-inspector") };
    let missing: Vec<String> =
        [&c.python, &c.inspector].iter().filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    assert!(
        missing.is_empty(),
        "the MCP test clients are not installed (missing {}): run scripts/setup-clients.sh",
        missing.join(", ")
    );
    c
}

// ---- an isolated environment -------------------------------------------------

/// A project with one standard, plus a private HOME and cache so neither the
/// server nor the clients touch the real user's state. The embedding model is
/// still taken from where setup put it, so search runs as it does for users.
pub(crate) struct World {
    dir: tempfile::TempDir,
    pub(crate) env: Vec<(String, String)>,
}

impl World {
    pub(crate) fn new() -> World {
        let dir = project();
        let root = dir.path();
        let std_file = root.join(STANDARD_PATH);
        std::fs::create_dir_all(std_file.parent().unwrap()).unwrap();
        std::fs::write(&std_file, STANDARD_MD).unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let models = std::env::var_os("AGENT_OS_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/agent-os/models")
        });
        let mut env = vec![
            ("HOME".to_string(), home.display().to_string()),
            // Embeddings are cached by content, so the tests share one cache of
            // their own (not the user's): only the first embeds the bundled standards.
            ("AGENT_OS_CACHE_DIR".to_string(), concat!(env!("CARGO_TARGET_TMPDIR"), "/clients-cache").to_string()),
            ("AGENT_OS_MODELS_DIR".to_string(), models.display().to_string()),
            // HOME is inside the project here; agent-os refuses user folders
            // there, so its state and data folders are the tests' own.
            ("AGENT_OS_STATE_DIR".to_string(), crate::support::STATE_DIR.to_string()),
            ("AGENT_OS_DATA_DIR".to_string(), concat!(env!("CARGO_TARGET_TMPDIR"), "/e2e-data").to_string()),
            // The Inspector must never try to open a browser (it would for an OAuth challenge).
            ("MCP_AUTO_OPEN_ENABLED".to_string(), "false".to_string()),
            ("NO_COLOR".to_string(), "1".to_string()),
        ];
        for var in ["AGENT_OS_MODEL_DIR", "AGENT_OS_ORT_LIB", "AGENT_OS_LOG"] {
            if let Some(v) = std::env::var_os(var) {
                env.push((var.to_string(), v.to_string_lossy().into_owned()));
            }
        }
        World { dir, env }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The last lines of the server's log, for failure messages.
    pub(crate) fn server_log(&self) -> String {
        let text = std::fs::read_to_string(self.root().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    pub(crate) fn command(&self, program: &Path) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(program);
        c.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("AGENT_OS_HTTP_TOKEN")
            .env_remove("AGENT_OS_PROJECT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs a client to completion, killing it after `CLIENT_LIMIT`.
    pub(crate) async fn run(&self, cmd: tokio::process::Command, what: &str) -> Output {
        self.run_within(cmd, what, CLIENT_LIMIT).await
    }

    /// Runs a client to completion, killing it after `limit`.
    pub(crate) async fn run_within(&self, mut cmd: tokio::process::Command, what: &str, limit: Duration) -> Output {
        let child = cmd.spawn().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
        match tokio::time::timeout(limit, child.wait_with_output()).await {
            Ok(out) => out.unwrap_or_else(|e| panic!("{what}: {e}")),
            Err(_) => panic!("{what}: still running after {limit:?}\nserver log:\n{}", self.server_log()),
        }
    }

    /// The server's stderr goes to server.log, as in support.rs.
    pub(crate) fn log_file(&self) -> std::fs::File {
        std::fs::OpenOptions::new().create(true).append(true).open(self.root().join("server.log")).unwrap()
    }
}

pub(crate) fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---- agent-os over HTTP --------------------------------------------------------

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

/// `agent-os serve --http` on a free loopback port; killed when dropped.
pub(crate) struct HttpServer {
    child: tokio::process::Child,
    pub(crate) url: String,
}

impl HttpServer {
    async fn start(world: &World, token: Option<&str>) -> HttpServer {
        match token {
            Some(t) => HttpServer::start_with(world, &["--token", t]).await,
            None => HttpServer::start_with(world, &[]).await,
        }
    }

    /// `serve --http` on a free loopback port with `extra` arguments (e.g. `--token-file F`).
    pub(crate) async fn start_with(world: &World, extra: &[&str]) -> HttpServer {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = world.command(Path::new(BIN));
        cmd.arg("--project").arg(world.root()).args(["serve", "--http", &addr]).args(extra);
        cmd.stdout(Stdio::null()).stderr(world.log_file());
        let mut child = cmd.spawn().expect("spawning agent-os serve --http");
        let start = Instant::now();
        let sock: SocketAddr = addr.parse().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("agent-os serve --http {addr} exited with {status} before listening\n{}", world.server_log());
            }
            if TcpStream::connect_timeout(&sock, Duration::from_millis(200)).is_ok() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "agent-os serve --http {addr} was not listening after 60 s\n{}",
                world.server_log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        HttpServer { child, url: format!("http://{addr}/mcp") }
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

// ---- the Python SDK ------------------------------------------------------------------

fn python_client(world: &World, c: &Clients) -> tokio::process::Command {
    let mut cmd = world.command(&c.python);
    cmd.arg(crate::support::repo().join("tests/clients/mcp_client.py"))
        .args(["--search-query", QUERY, "--expect-path", STANDARD_PATH, "--timeout"])
        .arg(SEARCH_LIMIT.as_secs().to_string());
    cmd
}

/// Checks the driver's JSON lines: every expectation it makes, and ours on its summary.
fn check_python_run(world: &World, out: &Output, transport: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the Python MCP SDK client failed over {transport}: {}\nserver log:\n{}",
        describe(out),
        world.server_log()
    );
    let last: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("the Python client printed no JSON over {transport}: {}", describe(out)));
    assert_eq!(last["ok"], true, "python client over {transport}: {last}");
    assert_eq!(last["transport"], transport, "{last}");
    let paths = last["search_paths"].as_array().cloned().unwrap_or_default();
    assert!(
        paths.iter().any(|p| p == STANDARD_PATH),
        "search_standards over {transport} (Python SDK) did not return {STANDARD_PATH}: {last}"
    );
    assert_eq!(last["job_status"], "complete", "invoke_security over {transport} (Python SDK): {last}");
    let tools_line: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["step"] == "tools/list")
        .expect("a tools/list line");
    assert_tools(&tools_line, &format!("tools/list over {transport} (Python SDK)"));
}

fn assert_tools(list: &Value, what: &str) {
    let names: Vec<&str> = list["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no tools array in {list}"))
        .iter()
        .map(|t| t.as_str().or_else(|| t["name"].as_str()).unwrap_or_default())
        .collect();
    for t in CORE_TOOLS {
        assert!(names.contains(&t), "{what} lacks {t}: {names:?}");
    }
}

#[tokio::test]
async fn python_sdk_over_stdio() {
    let c = clients();
    let world = World::new();
    let mut cmd = python_client(&world, &c);
    // The SDK spawns the server; its stderr (our logs) comes through the client's stderr.
    cmd.args(["stdio", "--", BIN, "--project"]).arg(world.root()).arg("serve");
    let out = world.run(cmd, "python mcp client (stdio)").await;
    check_python_run(&world, &out, "stdio");
}

#[tokio::test]
async fn python_sdk_over_http() {
    let c = clients();
    let world = World::new();
    let server = HttpServer::start(&world, Some(TOKEN)).await;
    let mut cmd = python_client(&world, &c);
    cmd.args(["http", &server.url, "--token", TOKEN]);
    let out = world.run(cmd, "python mcp client (http)").await;
    server.stop().await;
    check_python_run(&world, &out, "http");
}

#[tokio::test]
async fn http_without_the_token_is_401() {
    let c = clients();
    let world = World::new();
    let server = HttpServer::start(&world, Some(TOKEN)).await;
    let mut cmd = world.command(&c.python);
    cmd.arg(crate::support::repo().join("tests/clients/mcp_client.py")).args(["unauthorized", &server.url]);
    let out = world.run(cmd, "python unauthorized check").await;
    // The Inspector without the token must fail too, not list anything.
    let mut insp = world.command(&c.inspector);
    insp.args(["--cli", &server.url, "--transport", "http", "--method", "tools/list"]);
    let insp_out = world.run(insp, "inspector without a token").await;
    server.stop().await;
    assert!(
        out.status.success(),
        "requests without (or with a wrong) bearer token were not all refused with 401: {}",
        describe(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"status\": 401"), "{}", describe(&out));
    assert!(
        !insp_out.status.success() && !String::from_utf8_lossy(&insp_out.stdout).contains("invoke_security"),
        "the Inspector listed tools without the token: {}",
        describe(&insp_out)
    );
}

#[tokio::test]
async fn http_on_a_public_address_without_a_token_refuses_to_start() {
    let world = World::new();
    let addr = format!("0.0.0.0:{}", free_port());
    let mut cmd = world.command(Path::new(BIN));
    cmd.arg("--project").arg(world.root()).args(["serve", "--http", &addr]);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("serve --http {addr} without a token kept running instead of refusing"))
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "serve --http {addr} without a token exited 0: {}", describe(&out));
    assert!(
        stderr.contains("token") && stderr.contains("AGENT_OS_HTTP_TOKEN"),
        "the refusal should say a token is needed and how to set it: {}",
        describe(&out)
    );
    // It refused before listening: nothing answers on that port.
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    assert!(
        TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), Duration::from_millis(300)).is_err(),
        "something listens on {port} after the refusal"
    );
}

// ---- the MCP Inspector CLI ---------------------------------------------------------------

/// Where the Inspector reaches the server: a command it spawns, or a URL.
enum Target<'a> {
    Stdio,
    Http(&'a str),
}

/// One `mcp-inspector --cli` call; returns its JSON answer.
async fn inspector(world: &World, c: &Clients, target: &Target<'_>, method_args: &[&str]) -> Value {
    // `--tool-arg` and `--header` take every value up to the next option, so the
    // URL goes first and the server command last, after `--`.
    let mut cmd = world.command(&c.inspector);
    cmd.arg("--cli");
    match target {
        Target::Stdio => {
            cmd.args(method_args);
            // The Inspector starts the server with only a few inherited variables; pass ours on.
            for (k, v) in &world.env {
                cmd.arg("-e").arg(format!("{k}={v}"));
            }
            cmd.args(["--", BIN, "--project"]).arg(world.root()).arg("serve");
        }
        Target::Http(url) => {
            cmd.args([url, "--transport", "http"]).args(method_args);
            cmd.args(["--header", &format!("Authorization: Bearer {TOKEN}")]);
        }
    }
    let what = format!("mcp-inspector --cli {}", method_args.join(" "));
    let out = world.run(cmd, &what).await;
    assert!(out.status.success(), "{what} failed: {}\nserver log:\n{}", describe(&out), world.server_log());
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what} printed no JSON ({e}): {}", describe(&out)))
}

/// A tools/call answer's JSON: structuredContent, else the text block parsed.
fn tool_json(answer: &Value, what: &str) -> Value {
    assert_ne!(answer["isError"], true, "{what} returned isError: {answer}");
    if answer["structuredContent"].is_object() {
        return answer["structuredContent"].clone();
    }
    let text = answer["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{what}: no text content in {answer}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: text is not JSON ({e}): {text}"))
}

async fn inspector_scenario(world: &World, c: &Clients, target: Target<'_>, transport: &str) {
    let list = inspector(world, c, &target, &["--method", "tools/list"]).await;
    assert_tools(&list, &format!("tools/list over {transport} (Inspector)"));

    // The index is built in the background when the server starts.
    let query_arg = format!("query={QUERY}");
    let start = Instant::now();
    loop {
        let answer = inspector(
            world,
            c,
            &target,
            &["--method", "tools/call", "--tool-name", "search_standards", "--tool-arg", &query_arg, "limit=5"],
        )
        .await;
        let found = tool_json(&answer, "search_standards");
        let paths: Vec<&str> = found["results"]
            .as_array()
            .map(|a| a.iter().filter_map(|h| h["path"].as_str()).collect())
            .unwrap_or_default();
        if paths.contains(&STANDARD_PATH) {
            break;
        }
        assert!(
            start.elapsed() < SEARCH_LIMIT,
            "search_standards over {transport} (Inspector) never returned {STANDARD_PATH} in {SEARCH_LIMIT:?}; last answer: {found}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let context_arg = format!("context={CONTEXT}");
    let answer = inspector(
        world,
        c,
        &target,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "invoke_security",
            "--tool-arg",
            "task=security review of the S3 upload helper",
            &context_arg,
        ],
    )
    .await;
    let started = tool_json(&answer, "invoke_security");
    assert_eq!(started["status"], "started", "invoke_security over {transport} (Inspector): {started}");
    let job_id = started["job_id"].as_str().unwrap_or_else(|| panic!("no job_id: {started}")).to_string();

    let job_arg = format!("job_id={job_id}");
    let start = Instant::now();
    let job = loop {
        let answer = inspector(
            world,
            c,
            &target,
            &["--method", "tools/call", "--tool-name", "check_persona_job", "--tool-arg", &job_arg, "wait_seconds=60"],
        )
        .await;
        let job = tool_json(&answer, "check_persona_job");
        if !matches!(job["status"].as_str(), Some("pending" | "running")) {
            break job;
        }
        assert!(
            start.elapsed() < SEARCH_LIMIT,
            "job {job_id} over {transport} (Inspector) still {} after {SEARCH_LIMIT:?}: {job}",
            job["status"]
        );
    };
    assert_eq!(job["status"], "complete", "job {job_id} over {transport} (Inspector): {job}");
    let result = job["result"].as_str().unwrap_or_default();
    assert!(result.contains("AWS access key id"), "the review over {transport} does not name the AWS key: {result}");
    assert!(result.contains("(line 2)"), "the review over {transport} does not give the key's line: {result}");
    assert!(!result.contains(AWS_KEY), "the review over {transport} repeats the key unredacted: {result}");
}

#[tokio::test]
async fn inspector_cli_over_stdio() {
    let c = clients();
    let world = World::new();
    // Each Inspector call starts its own server on the same project and ends it
    // as soon as it has its answer: too soon for a server to build the standards
    // index in the background. So index first, as a user of a per-call client
    // would (`agent-os index`); each server then only checks it is up to date.
    // The job started by one server is found and finished by the next through
    // the job store.
    let mut index = world.command(Path::new(BIN));
    index.arg("--project").arg(world.root()).arg("index");
    let out = world.run(index, "agent-os index").await;
    assert!(out.status.success(), "agent-os index failed: {}", describe(&out));
    inspector_scenario(&world, &c, Target::Stdio, "stdio").await;
}

#[tokio::test]
async fn inspector_cli_over_http() {
    let c = clients();
    let world = World::new();
    let server = HttpServer::start(&world, Some(TOKEN)).await;
    let url = server.url.clone();
    inspector_scenario(&world, &c, Target::Http(&url), "http").await;
    server.stop().await;
}
