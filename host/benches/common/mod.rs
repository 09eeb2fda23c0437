//! What the benchmarks that drive the built binary over MCP share.

use std::path::Path;
use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_agent-os");

pub type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// `agent-os serve` on `project` over stdio, with a connected client.
pub async fn spawn(project: &Path) -> (tokio::process::Child, Client) {
    let mut child = tokio::process::Command::new(BIN)
        .arg("--project")
        .arg(project)
        .arg("serve")
        .env("AGENT_OS_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let inp = child.stdin.take().unwrap();
    let client = ().serve((out, inp)).await.unwrap();
    (child, client)
}

/// Calls tool `name`; panics on a tool error. Returns its structured result.
pub async fn call(client: &Client, name: &str, args: Value) -> Value {
    let Value::Object(map) = args else { unreachable!("tool arguments are an object") };
    let r = client.call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(map)).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{name} failed: {r:?}");
    r.structured_content.unwrap()
}
