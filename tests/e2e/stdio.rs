//! The stdin/stdout the server is started with: pipes are served through
//! the reactor, anything else through Tokio's stdio (host/src/mcp/stdio.rs).
//! Every other test starts the server with two pipes; this one covers what
//! falls back.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{BIN, STATE_DIR};

const REQUESTS: [&str; 3] = [
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"stdio-test","version":"1"}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
];

/// Starts `agent-os serve` with stdin a pipe and stdout a pipe of its own
/// (`shared`: stderr writes to the same pipe, as `2>&1` does), lists the
/// tools, closes stdin and waits for a clean exit. Returns the tool names
/// and every line that was not the answer (the log, when shared).
fn serve_and_list(shared: bool) -> (Vec<String>, String) {
    let project = tempfile::tempdir().unwrap();
    let log_path = project.path().join("server.log");
    let (reader, writer) = std::io::pipe().unwrap();
    let stderr: Stdio =
        if shared { writer.try_clone().unwrap().into() } else { std::fs::File::create(&log_path).unwrap().into() };
    let mut child = Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", STATE_DIR)
        .env("AGENT_OS_LOG", "info")
        .arg("--project")
        .arg(project.path())
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(stderr)
        .spawn()
        .unwrap();
    let (lines, from_server) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    for request in REQUESTS {
        writeln!(stdin, "{request}").unwrap();
    }
    stdin.flush().unwrap();
    let mut seen = Vec::new();
    let tools = loop {
        let line = from_server.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|e| {
            let _ = child.kill();
            panic!("no tools/list answer ({e}); the server wrote: {seen:#?}")
        });
        // Log lines (when shared) are not JSON.
        let v: Value = serde_json::from_str(&line).unwrap_or(json!(null));
        if v["id"] == 2 {
            break v["result"]["tools"].clone();
        }
        seen.push(line);
    };
    let names = tools.as_array().unwrap().iter().filter_map(|t| t["name"].as_str().map(String::from)).collect();
    drop(stdin);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not end after stdin closed");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    seen.extend(from_server.try_iter());
    let log = if shared { seen.join("\n") } else { std::fs::read_to_string(&log_path).unwrap() };
    (names, log)
}

/// Two pipes, as every client starts it: served through the reactor.
#[test]
fn a_server_on_two_pipes_serves_them_through_the_reactor() {
    let (names, log) = serve_and_list(false);
    assert!(names.iter().any(|n| n == "invoke_qa") && names.iter().any(|n| n == "search_standards"), "{names:?}");
    assert!(log.contains("mode=Pipes"), "{log}");
}

/// Started as `agent-os serve 2>&1` (one pipe for stdout and stderr), the
/// server keeps Tokio's stdio (a non-blocking stdout would make the log's
/// writes fail), answers, and ends cleanly when stdin closes.
#[test]
fn a_server_whose_stdout_and_stderr_share_a_pipe_still_answers() {
    let (names, log) = serve_and_list(true);
    assert!(names.iter().any(|n| n == "invoke_qa") && names.iter().any(|n| n == "search_standards"), "{names:?}");
    assert!(log.contains("mode=TokioStdio"), "{log}");
}
