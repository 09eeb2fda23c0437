//! agent-os driven by the MCP clients people use, installed by
//! scripts/setup-clients.sh from the package registries:
//!
//! - the TypeScript SDK v1 (`@modelcontextprotocol/sdk`) and v2
//!   (`@modelcontextprotocol/client`), through tests/clients/ts_client.mjs, and
//!   the Python SDK on `mcp` 2.x, through tests/clients/mcp2_client.py: over
//!   stdio and streamable HTTP, each `AGENT_OS_CLIENT_RUNS` runs (20 by
//!   default) in one client process. A run lists tools, prompts, resources and
//!   resource templates, gets the `security` prompt, and runs invoke_security
//!   to the end, waiting with check_persona_job and a progress callback. No run
//!   may see a protocol error the client reports (TypeScript `onerror`, console
//!   errors; Python exceptions and SDK log records at WARNING or above).
//!   Both protocol generations: the 2025 revisions (`initialize`) and
//!   2026-07-28 (`server/discover`; TypeScript v2 and Python only, v1 has none).
//! - FastMCP's client (`fastmcp` 4.x) through tests/clients/fastmcp_client.py,
//!   the same runs plus a search that must find the project's standard: over
//!   stdio on the 2025 revisions and over HTTP on 2026-07-28.
//! - Claude Code and Gemini CLI: `claude mcp list` and `gemini mcp list` report
//!   the server connected after `agent-os init` (stdio) and over HTTP with a
//!   bearer token read by `serve --token-file`, in a private HOME.
//!
//! Without the clients these tests fail and name the setup command.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::clients::{HttpServer, World, clients_dir, describe};
use crate::support::BIN;

/// A bearer token long enough for `serve --http`.
const TOKEN: &str = "e2e-real-clients-7c41d09b2f6e58a3";

/// How long one client process (all of its runs) may take.
const SDK_LIMIT: Duration = Duration::from_secs(900);
const CLI_LIMIT: Duration = Duration::from_secs(120);

fn runs() -> u32 {
    std::env::var("AGENT_OS_CLIENT_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}

fn installed(paths: &[PathBuf], what: &str) {
    let missing: Vec<String> = paths.iter().filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    assert!(
        missing.is_empty(),
        "{what} is not installed (missing {}): run scripts/setup-clients.sh",
        missing.join(", ")
    );
}

#[derive(Clone, Copy, Debug)]
enum Sdk {
    TsV1,
    TsV2,
    Python,
    /// FastMCP's client (on the Python SDK 2.x).
    FastMcp,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Generation {
    /// `initialize`: 2025-06-18 / 2025-11-25, whichever the SDK asks for.
    Initialize,
    /// `server/discover`, per-request `_meta`: 2026-07-28.
    Discover,
}

impl Generation {
    fn arg(self) -> &'static str {
        match self {
            Generation::Initialize => "2025",
            Generation::Discover => "2026-07-28",
        }
    }
}

/// The client process for `sdk`, before its transport arguments.
fn sdk_command(world: &World, sdk: Sdk, generation: Generation) -> tokio::process::Command {
    let dir = clients_dir();
    let modules = dir.join("node_modules/@modelcontextprotocol");
    let mut cmd = match sdk {
        Sdk::TsV1 | Sdk::TsV2 => {
            let (pkg, flag) = if matches!(sdk, Sdk::TsV1) { ("sdk", "v1") } else { ("client", "v2") };
            installed(&[modules.join(pkg).join("package.json")], &format!("the TypeScript SDK {flag}"));
            let mut c = world.command(Path::new("node"));
            c.arg(crate::support::repo().join("tests/clients/ts_client.mjs")).args(["--sdk", flag]);
            c
        }
        Sdk::Python => {
            let python = dir.join("venv-mcp2/bin/python");
            installed(std::slice::from_ref(&python), "the Python MCP SDK 2.x (venv-mcp2)");
            let mut c = world.command(&python);
            c.arg(crate::support::repo().join("tests/clients/mcp2_client.py"));
            c
        }
        Sdk::FastMcp => {
            let python = dir.join("venv-fastmcp/bin/python");
            installed(std::slice::from_ref(&python), "FastMCP's client (venv-fastmcp)");
            let mut c = world.command(&python);
            c.arg(crate::support::repo().join("tests/clients/fastmcp_client.py"));
            c
        }
    };
    // World gives the client a private HOME: name the clients folder outright.
    cmd.env("AGENT_OS_CLIENTS_DIR", &dir);
    cmd.args(["--generation", generation.arg(), "--runs", &runs().to_string()]);
    cmd
}

/// Checks the driver's summary line; prints the figures.
fn check_sdk_run(world: &World, out: &Output, sdk: Sdk, generation: Generation, transport: &str) {
    let what = format!("{sdk:?} over {transport}, {}", generation.arg());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last: Value = stdout.lines().rev().find_map(|l| serde_json::from_str(l).ok()).unwrap_or_else(|| {
        panic!("{what}: the client printed no JSON: {}\nserver log:\n{}", describe(out), world.server_log())
    });
    assert!(
        out.status.success() && last["ok"] == true,
        "{what}: {last}\n{}\nserver log:\n{}",
        describe(out),
        world.server_log()
    );
    let n = runs();
    assert_eq!(last["runs"], n, "{what}: {last}");
    let protocols: Vec<&str> =
        last["protocols"].as_array().map(|a| a.iter().filter_map(|p| p.as_str()).collect()).unwrap_or_default();
    match generation {
        Generation::Initialize => {
            // TypeScript v1 over stdio does not expose the version (null): only HTTP does.
            assert!(protocols.iter().all(|p| p.starts_with("2025-")), "{what}: negotiated {protocols:?}");
        }
        Generation::Discover => assert_eq!(protocols, ["2026-07-28"], "{what}"),
    }
    assert!(
        last["progress_notifications"].as_u64().unwrap_or(0) >= u64::from(n),
        "{what}: fewer progress notifications than runs: {last}"
    );
    let runs_seen = stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v["step"] == "run");
    assert_eq!(runs_seen.count(), n as usize, "{what}: {stdout}");
    // The figures, for the record (nextest shows them with --no-capture).
    println!(
        "{what}: {n} runs ok, median {} ms, max {} ms, {} progress notifications, client warnings: {}",
        last["ms_median"], last["ms_max"], last["progress_notifications"], last["warnings"]
    );
}

async fn sdk_over_stdio(sdk: Sdk, generation: Generation) {
    let world = World::new();
    let mut cmd = sdk_command(&world, sdk, generation);
    cmd.args(["stdio", "--", BIN, "--project"]).arg(world.root()).arg("serve");
    let out = world.run_within(cmd, &format!("{sdk:?} client (stdio)"), SDK_LIMIT).await;
    check_sdk_run(&world, &out, sdk, generation, "stdio");
}

/// The token in a file of its own, as `serve --token-file` reads it.
fn token_file(world: &World) -> PathBuf {
    let path = world.root().join("http-token");
    std::fs::write(&path, format!("{TOKEN}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

async fn http_server(world: &World) -> HttpServer {
    let file = token_file(world);
    HttpServer::start_with(world, &["--token-file", file.to_str().unwrap()]).await
}

async fn sdk_over_http(sdk: Sdk, generation: Generation) {
    let world = World::new();
    let server = http_server(&world).await;
    let mut cmd = sdk_command(&world, sdk, generation);
    cmd.args(["http", &server.url, "--token", TOKEN]);
    let out = world.run_within(cmd, &format!("{sdk:?} client (http)"), SDK_LIMIT).await;
    server.stop().await;
    check_sdk_run(&world, &out, sdk, generation, "http");
}

// ---- the SDKs, protocol 2025-06-18 / 2025-11-25 (initialize) ----------------

#[tokio::test]
async fn ts_sdk_v1_over_stdio() {
    sdk_over_stdio(Sdk::TsV1, Generation::Initialize).await;
}

#[tokio::test]
async fn ts_sdk_v1_over_http() {
    sdk_over_http(Sdk::TsV1, Generation::Initialize).await;
}

#[tokio::test]
async fn ts_sdk_v2_over_stdio() {
    sdk_over_stdio(Sdk::TsV2, Generation::Initialize).await;
}

#[tokio::test]
async fn ts_sdk_v2_over_http() {
    sdk_over_http(Sdk::TsV2, Generation::Initialize).await;
}

#[tokio::test]
async fn python_mcp2_over_stdio() {
    sdk_over_stdio(Sdk::Python, Generation::Initialize).await;
}

#[tokio::test]
async fn python_mcp2_over_http() {
    sdk_over_http(Sdk::Python, Generation::Initialize).await;
}

// ---- the SDKs, protocol 2026-07-28 (server/discover) ------------------------

#[tokio::test]
async fn fastmcp_over_stdio() {
    sdk_over_stdio(Sdk::FastMcp, Generation::Initialize).await;
}

#[tokio::test]
async fn fastmcp_protocol_2026_07_28_over_http() {
    sdk_over_http(Sdk::FastMcp, Generation::Discover).await;
}

#[tokio::test]
async fn ts_sdk_v2_protocol_2026_07_28_over_stdio() {
    sdk_over_stdio(Sdk::TsV2, Generation::Discover).await;
}

#[tokio::test]
async fn ts_sdk_v2_protocol_2026_07_28_over_http() {
    sdk_over_http(Sdk::TsV2, Generation::Discover).await;
}

#[tokio::test]
async fn python_mcp2_protocol_2026_07_28_over_stdio() {
    sdk_over_stdio(Sdk::Python, Generation::Discover).await;
}

#[tokio::test]
async fn python_mcp2_protocol_2026_07_28_over_http() {
    sdk_over_http(Sdk::Python, Generation::Discover).await;
}

// ---- Claude Code and Gemini CLI: `mcp list` -----------------------------------

#[derive(Clone, Copy, Debug)]
pub(crate) enum Cli {
    Claude,
    Gemini,
}

impl Cli {
    pub(crate) fn program(self) -> PathBuf {
        let name = match self {
            Cli::Claude => "claude",
            Cli::Gemini => "gemini",
        };
        let path = clients_dir().join("cli/node_modules/.bin").join(name);
        installed(std::slice::from_ref(&path), &format!("{self:?}"));
        path
    }

    /// What a person's answers to the CLI's first-run questions leave behind,
    /// in the private HOME (and, for Claude Code, the project): the folder is
    /// trusted and, for Claude Code, the project's `.mcp.json` server approved.
    pub(crate) fn trust(self, world: &World) {
        let root = world.root().canonicalize().unwrap();
        let home = world.root().join("home");
        match self {
            Cli::Claude => {
                let mut projects = serde_json::Map::new();
                projects.insert(root.display().to_string(), serde_json::json!({ "hasTrustDialogAccepted": true }));
                std::fs::write(home.join(".claude.json"), serde_json::json!({ "projects": projects }).to_string())
                    .unwrap();
                std::fs::create_dir_all(root.join(".claude")).unwrap();
                std::fs::write(root.join(".claude/settings.local.json"), r#"{"enabledMcpjsonServers": ["agent-os"]}"#)
                    .unwrap();
            }
            Cli::Gemini => {
                std::fs::create_dir_all(home.join(".gemini")).unwrap();
                let mut folders = serde_json::Map::new();
                folders.insert(root.display().to_string(), Value::from("TRUST_FOLDER"));
                std::fs::write(home.join(".gemini/trustedFolders.json"), Value::Object(folders).to_string()).unwrap();
            }
        }
    }

    async fn run(self, world: &World, args: &[&str]) -> Output {
        let mut cmd = world.command(&self.program());
        cmd.current_dir(world.root()).args(args);
        let what = format!("{self:?} {}", args.join(" "));
        let out = world.run_within(cmd, &what, CLI_LIMIT).await;
        assert!(out.status.success(), "{what}: {}", describe(&out));
        out
    }
}

/// The `mcp list` line of server `name`, if it says the server is connected.
fn status_line<'a>(stdout: &'a str, name: &str) -> Option<&'a str> {
    stdout.lines().find(|l| l.trim_start_matches(|c: char| !c.is_ascii_alphanumeric()).starts_with(&format!("{name}:")))
}

fn connected(line: &str) -> bool {
    let line = line.trim_end();
    line.ends_with("Connected") && !line.contains("Disconnected") && !line.contains("Failed")
}

/// What `mcp list` printed: Claude Code writes the list to stdout, Gemini CLI to stderr.
fn listing(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_connected(cli: Cli, world: &World, out: &Output, name: &str, transport: &str) {
    let stdout = listing(out);
    let line = status_line(&stdout, name)
        .unwrap_or_else(|| panic!("{cli:?} mcp list ({transport}) does not list {name}: {}", describe(out)));
    assert!(
        connected(line),
        "{cli:?} mcp list ({transport}) does not report {name} connected: {line}\n{}\nserver log:\n{}",
        describe(out),
        world.server_log()
    );
    println!("{cli:?} mcp list ({transport}): {}", line.trim());
}

async fn cli_after_init(cli: Cli) {
    let world = World::new();
    let client = match cli {
        Cli::Claude => "claude",
        Cli::Gemini => "gemini",
    };
    let mut init = world.command(Path::new(BIN));
    init.arg("--project").arg(world.root()).args(["init", "--client", client]);
    let out = world.run(init, "agent-os init").await;
    assert!(out.status.success(), "agent-os init --client {client}: {}", describe(&out));
    cli.trust(&world);
    let out = cli.run(&world, &["mcp", "list"]).await;
    assert_connected(cli, &world, &out, "agent-os", "stdio, after init");
}

async fn cli_over_http(cli: Cli) {
    let world = World::new();
    let server = http_server(&world).await;
    let header = format!("Authorization: Bearer {TOKEN}");
    let url = server.url.as_str();
    cli.trust(&world);
    // The header goes last: both CLIs read every following word as another header.
    match cli {
        Cli::Claude => {
            cli.run(&world, &["mcp", "add", "--transport", "http", "agent-os", url, "--header", &header]).await;
            cli.run(&world, &["mcp", "add", "--transport", "http", "agent-os-no-token", url]).await;
        }
        Cli::Gemini => {
            cli.run(&world, &["mcp", "add", "--transport", "http", "agent-os", url, "-H", &header]).await;
            cli.run(&world, &["mcp", "add", "--transport", "http", "agent-os-no-token", url]).await;
        }
    }
    let out = cli.run(&world, &["mcp", "list"]).await;
    server.stop().await;
    assert_connected(cli, &world, &out, "agent-os", "http with the token");
    // The same server without the token is refused (401): the check above could fail.
    let stdout = listing(&out);
    let refused = status_line(&stdout, "agent-os-no-token")
        .unwrap_or_else(|| panic!("{cli:?} mcp list does not list agent-os-no-token: {}", describe(&out)));
    assert!(!connected(refused), "{cli:?} connected without the token: {refused}");
}

#[tokio::test]
async fn claude_code_mcp_list_after_init() {
    cli_after_init(Cli::Claude).await;
}

#[tokio::test]
async fn claude_code_mcp_list_over_http_with_a_token() {
    cli_over_http(Cli::Claude).await;
}

#[tokio::test]
async fn gemini_cli_mcp_list_after_init() {
    cli_after_init(Cli::Gemini).await;
}

#[tokio::test]
async fn gemini_cli_mcp_list_over_http_with_a_token() {
    cli_over_http(Cli::Gemini).await;
}

// ---- list changes heard by a real client ----------------------------------------

/// A persona installed (written and trusted) while a client (TypeScript SDK v2,
/// or Python on 2026-07-28) listens (list-changed notifications on 2025, `subscriptions/listen` on
/// 2026-07-28) appears in its tool and prompt lists: within 3 s on 2026-07-28.
async fn hears_an_installed_persona(sdk: Sdk, generation: Generation, http: bool) {
    use tokio::io::AsyncBufReadExt;

    let world = World::new();
    let server = if http { Some(http_server(&world).await) } else { None };
    let mut cmd = sdk_command(&world, sdk, generation);
    cmd.arg("--listen");
    match &server {
        None => {
            cmd.args(["stdio", "--", BIN, "--project"]).arg(world.root()).arg("serve");
        }
        Some(s) => {
            cmd.args(["http", &s.url, "--token", TOKEN]);
        }
    }
    // The server's log (stdio: through the client's stderr) goes to a file nobody has to drain.
    cmd.stderr(world.log_file());
    let mut child = cmd.spawn().expect("starting the client");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let what = format!("{sdk:?} --listen over {}, {}", if http { "http" } else { "stdio" }, generation.arg());
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{what}: no output for 120 s\nserver log:\n{}", world.server_log()))
            .unwrap()
            .unwrap_or_else(|| panic!("{what}: the client ended early\nserver log:\n{}", world.server_log()));
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{what}: not JSON: {line}"));
        assert_ne!(v["ok"], false, "{what}: {v}\nserver log:\n{}", world.server_log());
        v
    };
    let listening = next().await;
    assert_eq!(listening["step"], "listening", "{what}: {listening}");

    crate::support::write_guest(world.root(), "spin", 600, 64);
    let env: Vec<(&str, &str)> = world.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    crate::support::trust(world.root(), &env);
    let installed = std::time::Instant::now();
    let mut heard = Vec::new();
    let last = loop {
        let v = next().await;
        if v["step"] == "heard" {
            heard.push((v["list"].as_str().unwrap_or_default().to_string(), installed.elapsed()));
        } else if v.get("ok").is_some() {
            break v;
        }
    };
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    if let Some(s) = server {
        s.stop().await;
    }
    assert!(status.success() && last["ok"] == true, "{what}: {last}");
    // The bound the issue sets for a 2026-07-28 client on subscriptions/listen;
    // a 2025 client hears plain list_changed notifications, given more room.
    let limit = match generation {
        Generation::Discover => Duration::from_secs(3),
        Generation::Initialize => Duration::from_secs(10),
    };
    for list in ["tools", "prompts"] {
        let (_, took) = heard.iter().find(|(l, _)| l == list).unwrap_or_else(|| panic!("{what}: {list} never changed"));
        assert!(*took <= limit, "{what}: the {list} list changed {took:?} after the install (limit {limit:?})");
    }
    println!(
        "{what}: {}",
        heard.iter().map(|(l, t)| format!("{l} {} ms", t.as_millis())).collect::<Vec<_>>().join(", ")
    );
}

#[tokio::test]
async fn ts_sdk_v2_hears_an_installed_persona_over_stdio() {
    hears_an_installed_persona(Sdk::TsV2, Generation::Initialize, false).await;
}

#[tokio::test]
async fn ts_sdk_v2_protocol_2026_07_28_hears_an_installed_persona_over_stdio() {
    hears_an_installed_persona(Sdk::TsV2, Generation::Discover, false).await;
}

#[tokio::test]
async fn ts_sdk_v2_protocol_2026_07_28_hears_an_installed_persona_over_http() {
    hears_an_installed_persona(Sdk::TsV2, Generation::Discover, true).await;
}

#[tokio::test]
async fn python_mcp2_protocol_2026_07_28_hears_an_installed_persona_over_stdio() {
    hears_an_installed_persona(Sdk::Python, Generation::Discover, false).await;
}

#[tokio::test]
async fn python_mcp2_protocol_2026_07_28_hears_an_installed_persona_over_http() {
    hears_an_installed_persona(Sdk::Python, Generation::Discover, true).await;
}
