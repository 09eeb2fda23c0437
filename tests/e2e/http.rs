//! `agent-os serve --http`: the token rules, and MCP over streamable HTTP
//! spoken byte by byte so nothing in between can hide a mistake. The
//! Python SDK and the MCP Inspector drive the same endpoint in clients.rs.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{BIN, project};

const TOKEN: &str = "e2e-token-0123456789abcdef";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.0 POST: (status, headers, body). HTTP/1.0 keeps the body
/// unchunked; the server closes the connection when the answer is done.
pub(crate) async fn exchange(port: u16, headers: &[(&str, &str)], body: &Value) -> Result<(u16, String, String)> {
    request(port, "POST", headers, Some(body)).await
}

/// One HTTP/1.0 request of any method on a new connection: (status, head, body).
pub(crate) async fn request(
    port: u16,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Result<(u16, String, String)> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} /mcp HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let n = tokio::time::timeout_at(deadline.into(), s.read(&mut buf))
            .await
            .context("no complete answer within 90 s")??;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        // An SSE answer may stay open; stop once the JSON-RPC reply is in.
        let text = String::from_utf8_lossy(&raw);
        if let Some((_, b)) = text.split_once("\r\n\r\n")
            && rpc_reply(b).is_some()
        {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").context("no header end")?;
    let status = head.split_whitespace().nth(1).context("status")?.parse()?;
    Ok((status, head.to_string(), body.to_string()))
}

/// The JSON-RPC reply in a JSON or SSE body.
pub(crate) fn rpc_reply(body: &str) -> Option<Value> {
    let direct = body.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or(body);
    if let Ok(v) = serde_json::from_str::<Value>(direct.trim()) {
        return Some(v);
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some()))
}

pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// `agent-os serve --http 127.0.0.1:PORT` with `extra` arguments and `env`,
/// its log in `project/server.log`, once it listens.
pub(crate) async fn http_server(
    project: &Path,
    port: u16,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Result<tokio::process::Child> {
    http_server_with_fds(project, port, extra, env, None).await
}

/// [`http_server`], with at most `max_fds` open files when given.
pub(crate) async fn http_server_with_fds(
    project: &Path,
    port: u16,
    extra: &[&str],
    env: &[(&str, &str)],
    max_fds: Option<u64>,
) -> Result<tokio::process::Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(project.join("server.log"))?;
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(project)
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env_remove("AGENT_OS_HTTP_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    if let Some(n) = max_fds {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit { rlim_cur: n, rlim_max: n };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn()?;
    let start = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("server exited early: {status}: {}", log_of(project));
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("server did not listen on {port} within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(child)
}

pub(crate) fn log_of(project: &Path) -> String {
    std::fs::read_to_string(project.join("server.log")).unwrap_or_default()
}

#[tokio::test]
async fn non_loopback_without_a_token_is_refused_at_start() -> Result<()> {
    let dir = project();
    for (token, expect) in [(None, "without a token"), (Some("short"), "too short")] {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.arg("--project").arg(dir.path()).args(["serve", "--http", "0.0.0.0:0"]).env_remove("AGENT_OS_HTTP_TOKEN");
        if let Some(t) = token {
            cmd.args(["--token", t]);
        }
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.stdin(Stdio::null()).output()).await??;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "serve on 0.0.0.0 with token {token:?} started");
        assert!(err.contains(expect), "expected '{expect}' in: {err}");
    }
    Ok(())
}

#[tokio::test]
async fn http_needs_the_bearer_token_and_speaks_mcp() -> Result<()> {
    let dir = project();
    let port = free_port();
    let mut child = http_server(dir.path(), port, &[], &[("AGENT_OS_HTTP_TOKEN", TOKEN)]).await?;

    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "0"}}
    });
    let (status, head, _) = exchange(port, &[], &init).await?;
    assert_eq!(status, 401, "no token: {head}");
    assert_eq!(header(&head, "www-authenticate"), Some("Bearer"));
    let (status, _, _) = exchange(port, &[("Authorization", "Bearer wrong-token-0123456789")], &init).await?;
    assert_eq!(status, 401, "wrong token");

    let bearer = format!("Bearer {TOKEN}");
    let (status, head, body) = exchange(port, &[("Authorization", &bearer)], &init).await?;
    assert_eq!(status, 200, "{head}\n{body}");
    let reply = rpc_reply(&body).context("initialize reply")?;
    assert_eq!(reply["result"]["serverInfo"]["name"].as_str().map(|n| n.contains("agent-os")), Some(true), "{reply}");
    let session = header(&head, "mcp-session-id").context("session id")?.to_string();
    let auth = [
        ("Authorization", bearer.as_str()),
        ("Mcp-Session-Id", session.as_str()),
        ("MCP-Protocol-Version", "2025-06-18"),
    ];

    let (status, _, _) =
        exchange(port, &auth, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;
    assert!(status == 202 || status == 200, "initialized: {status}");
    let (status, _, body) = exchange(port, &auth, &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await?;
    assert_eq!(status, 200);
    let tools = rpc_reply(&body).context("tools/list reply")?;
    let names: Vec<&str> =
        tools["result"]["tools"].as_array().context("tools")?.iter().filter_map(|t| t["name"].as_str()).collect();
    for t in ["invoke_security", "check_persona_job", "search_standards"] {
        assert!(names.contains(&t), "{t} missing from {names:?}");
    }

    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "invoke_security", "arguments": {"task": "review", "context": "x = 1\npassword = \"hunter2hunter2\"\n"}}});
    let (status, _, body) = exchange(port, &auth, &call).await?;
    assert_eq!(status, 200);
    let started = rpc_reply(&body).context("invoke reply")?;
    let job = started["result"]["structuredContent"]["job_id"].as_str().context("job id")?.to_string();
    let check = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": "check_persona_job", "arguments": {"job_id": job, "wait_seconds": 60}}});
    let (_, _, body) = exchange(port, &auth, &check).await?;
    let done = rpc_reply(&body).context("check reply")?;
    assert_eq!(done["result"]["structuredContent"]["status"], "complete", "{done}");

    // SIGTERM: the server stops accepting, drains (nothing is running) and exits cleanly.
    let pid = child.id().context("server pid")?;
    let sent = tokio::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
    assert!(sent.success());
    let status =
        tokio::time::timeout(Duration::from_secs(20), child.wait()).await.context("no exit after SIGTERM")??;
    assert!(status.success(), "SIGTERM should end the server cleanly: {status}");
    let log = std::fs::read_to_string(dir.path().join("server.log"))?;
    assert!(log.contains("SIGTERM; no new connections"), "{log}");
    Ok(())
}

/// The SSE events in `body` whose data is empty (priming events: `id:` and
/// `retry:` with an empty `data:`), and every data payload that is not JSON.
fn empty_data_events(body: &str) -> (usize, Vec<String>) {
    let body = body.replace("\r\n", "\n");
    let mut empty = 0;
    let mut not_json = Vec::new();
    for event in body.split("\n\n") {
        let data: Vec<&str> =
            event.lines().filter_map(|l| l.strip_prefix("data:")).map(|d| d.strip_prefix(' ').unwrap_or(d)).collect();
        let has_field =
            event.lines().any(|l| l.starts_with("data:") || l.starts_with("id:") || l.starts_with("retry:"));
        if !has_field {
            continue;
        }
        let joined = data.join("\n");
        if joined.trim().is_empty() {
            empty += 1;
        } else if serde_json::from_str::<Value>(&joined).is_err() {
            not_json.push(joined);
        }
    }
    (empty, not_json)
}

/// Opens the session's standalone GET stream and returns what arrives in `for_time`.
async fn get_stream(port: u16, headers: &[(&str, &str)], for_time: Duration) -> Result<(u16, String)> {
    let mut req = format!("GET /mcp HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + for_time;
    while let Ok(read) = tokio::time::timeout_at(deadline.into(), s.read(&mut buf)).await {
        let n = read?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").context("no header end")?;
    let status = head.split_whitespace().nth(1).context("status")?.parse()?;
    Ok((status, body.to_string()))
}

/// Gemini CLI (protocol 2025-06-18) drops the server on an SSE event with
/// empty data; priming events go only to 2025-11-25 and later.
#[tokio::test]
async fn priming_events_only_for_clients_on_2025_11_25_or_later() -> Result<()> {
    let dir = project();
    let port = free_port();
    let mut child = http_server(dir.path(), port, &[], &[]).await?;

    for version in ["2025-06-18", "2025-03-26", "2025-11-25"] {
        let init = json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "e2e", "version": "0"}}
        });
        let (status, head, init_body) = exchange(port, &[], &init).await?;
        assert_eq!(status, 200, "{version}: {head}\n{init_body}");
        let reply = rpc_reply(&init_body).context("initialize reply")?;
        assert_eq!(reply["result"]["protocolVersion"], version, "{reply}");
        let session = header(&head, "mcp-session-id").context("session id")?.to_string();
        let auth = [("Mcp-Session-Id", session.as_str()), ("MCP-Protocol-Version", version)];
        let (status, _, _) =
            exchange(port, &auth, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;
        assert!(status == 202 || status == 200, "initialized: {status}");
        let (status, _, list_body) =
            exchange(port, &auth, &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await?;
        assert_eq!(status, 200);
        let tools = rpc_reply(&list_body).context("tools/list reply")?;
        assert!(tools["result"]["tools"].as_array().is_some_and(|t| t.len() > 5), "{version}: {tools}");
        let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "persona_database_stats", "arguments": {}}});
        let (status, _, call_body) = exchange(port, &auth, &call).await?;
        assert_eq!(status, 200);
        let stats = rpc_reply(&call_body).context("tools/call reply")?;
        assert!(stats["result"]["structuredContent"]["total_jobs"].is_number(), "{version}: {stats}");
        let (status, get_body) = get_stream(port, &auth, Duration::from_millis(1500)).await?;
        assert_eq!(status, 200, "GET stream for {version}: {get_body}");

        let mut empty = 0;
        for (what, body) in
            [("initialize", &init_body), ("tools/list", &list_body), ("tools/call", &call_body), ("GET", &get_body)]
        {
            let (e, not_json) = empty_data_events(body);
            assert!(not_json.is_empty(), "{version} {what}: data that is not JSON: {not_json:?}");
            if version < "2025-11-25" {
                assert_eq!(e, 0, "{version} {what}: an SSE event with empty data:\n{body}");
            }
            empty += e;
        }
        if version >= "2025-11-25" {
            // Still primed (so the check above could fail): initialize, the
            // two request streams and the GET stream each start with one.
            assert!(empty >= 4, "{version}: expected priming events, saw {empty}\n{init_body}\n{get_body}");
        }
    }
    let _ = child.start_kill();
    Ok(())
}
