//! MCP prompts (slash commands): one per persona, named by its id, with
//! `task` and `context`; a persona installed into a running server shows up
//! as a prompt, announced by notifications/prompts/list_changed.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rmcp::model::{GetPromptRequestParams, JsonObject};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::support::{BIN, project, spawn_server, write_guest};

/// A client that reports every notifications/prompts/list_changed.
struct PromptListener(UnboundedSender<()>);

impl ClientHandler for PromptListener {
    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.0.send(());
    }
}

async fn prompt_names(client: &RunningService<RoleClient, PromptListener>) -> Result<Vec<String>> {
    Ok(client.list_all_prompts().await?.into_iter().map(|p| p.name).collect())
}

fn prompt_text(r: &rmcp::model::GetPromptResult) -> String {
    r.messages.iter().filter_map(|m| m.content.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn each_persona_is_a_prompt_and_an_installed_one_appears_live() -> Result<()> {
    let dir = project();
    let (data, config) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let env = [
        ("AGENT_OS_DATA_DIR", data.path().to_str().unwrap()),
        ("AGENT_OS_CONFIG_DIR", config.path().to_str().unwrap()),
    ];
    let mut child = spawn_server(dir.path(), &[], &env)?;
    let (tx, mut changes): (_, UnboundedReceiver<()>) = unbounded_channel();
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client = PromptListener(tx).serve(io).await.context("MCP handshake")?;

    let caps = client.peer_info().and_then(|i| i.capabilities.prompts.clone()).context("prompts capability")?;
    assert_eq!(caps.list_changed, Some(true));

    // The six core personas, with a required task and an optional context.
    let prompts = client.list_all_prompts().await?;
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["architect", "engineer", "data", "qa", "security", "sre"]);
    let security = &prompts[4];
    let args = security.arguments.as_ref().context("arguments")?;
    assert_eq!(
        args.iter().map(|a| (a.name.as_str(), a.required)).collect::<Vec<_>>(),
        [("task", Some(true)), ("context", Some(false))]
    );

    // `/security review the login handler`, with some code as context.
    let mut a = JsonObject::new();
    a.insert("task".into(), "review the login handler".into());
    a.insert("context".into(), "fn login(user: &str, pw: &str) { query(format!(\"{user}\")) }".into());
    let got = client.get_prompt(GetPromptRequestParams::new("security").with_arguments(a)).await?;
    let text = prompt_text(&got);
    assert!(text.contains("`invoke_security`"), "{text}");
    assert!(text.contains("`check_persona_job`") && text.contains("`wait_seconds` ="), "{text}");
    assert!(text.contains("review the login handler") && text.contains("fn login(user"), "{text}");
    assert!(text.contains("standards it cites"), "{text}");

    // Without the task: an error, not a prompt.
    let missing = client.get_prompt(GetPromptRequestParams::new("security")).await;
    assert!(missing.is_err(), "{missing:?}");

    // An untrusted project persona is no prompt ...
    write_guest(dir.path(), "spin", 5, 64);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!prompt_names(&client).await?.contains(&"spin".to_string()));
    while changes.try_recv().is_ok() {}

    // ... until the user trusts it: then the client hears within 3 s and it is listed.
    let t0 = Instant::now();
    let out = std::process::Command::new(BIN)
        .arg("--project")
        .arg(dir.path())
        .args(["trust", "--yes"])
        .envs(env)
        .stdin(Stdio::null())
        .output()?;
    assert!(out.status.success(), "trust: {}", String::from_utf8_lossy(&out.stderr));
    tokio::time::timeout(Duration::from_secs(3), changes.recv())
        .await
        .context("no notifications/prompts/list_changed within 3 s")?;
    eprintln!("trust to prompts/list_changed: {:.2} s", t0.elapsed().as_secs_f64());
    assert!(prompt_names(&client).await?.contains(&"spin".to_string()));
    let mut a = JsonObject::new();
    a.insert("task".into(), "spin".into());
    let got = client.get_prompt(GetPromptRequestParams::new("spin").with_arguments(a)).await?;
    assert!(prompt_text(&got).contains("`invoke_spin`"));

    // Removed: announced again and gone.
    std::fs::remove_dir_all(dir.path().join(".agent-os/personas/spin"))?;
    tokio::time::timeout(Duration::from_secs(3), changes.recv())
        .await
        .context("no notifications/prompts/list_changed after the removal")?;
    assert!(!prompt_names(&client).await?.contains(&"spin".to_string()));
    let _ = client.cancel().await;
    Ok(())
}

/// The same prompts and resources over streamable HTTP, spoken byte by byte.
#[tokio::test]
async fn prompts_and_resources_over_http() -> Result<()> {
    use crate::http::{exchange, free_port, header, http_server, rpc_reply};
    use serde_json::json;

    let dir = project();
    std::fs::create_dir_all(dir.path().join(".agent-os/standards/api"))?;
    std::fs::write(dir.path().join(".agent-os/standards/api/paging.md"), "# Paging\n\nCursor paging only.\n")?;
    let port = free_port();
    let _child = http_server(dir.path(), port, &[], &[]).await?;
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "0"}}
    });
    let (status, head, body) = exchange(port, &[], &init).await?;
    assert_eq!(status, 200, "{head}\n{body}");
    let caps = &rpc_reply(&body).context("initialize reply")?["result"]["capabilities"];
    assert_eq!(caps["prompts"]["listChanged"], true, "{caps}");
    assert_eq!(caps["resources"]["listChanged"], true, "{caps}");
    let session = header(&head, "mcp-session-id").context("session id")?.to_string();
    let h = [("Mcp-Session-Id", session.as_str()), ("MCP-Protocol-Version", "2025-06-18")];
    exchange(port, &h, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;

    let ask = |id: u32, method: &str, params: serde_json::Value| json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let (_, _, body) = exchange(port, &h, &ask(2, "prompts/list", json!({}))).await?;
    let list = rpc_reply(&body).context("prompts/list")?;
    let names: Vec<&str> =
        list["result"]["prompts"].as_array().context("prompts")?.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"security") && names.contains(&"sre"), "{list}");
    let (_, _, body) = exchange(
        port,
        &h,
        &ask(3, "prompts/get", json!({"name": "security", "arguments": {"task": "review the login handler"}})),
    )
    .await?;
    let got = rpc_reply(&body).context("prompts/get")?;
    let text = got["result"]["messages"][0]["content"]["text"].as_str().context("prompt text")?;
    assert!(text.contains("`invoke_security`") && text.contains("`check_persona_job`"), "{got}");

    let uri = "agent-os://standards/.agent-os/standards/api/paging.md";
    let (_, _, body) = exchange(port, &h, &ask(4, "resources/list", json!({}))).await?;
    let list = rpc_reply(&body).context("resources/list")?;
    let uris: Vec<&str> =
        list["result"]["resources"].as_array().context("resources")?.iter().filter_map(|r| r["uri"].as_str()).collect();
    assert!(uris.contains(&uri), "{list}");
    let (_, _, body) = exchange(port, &h, &ask(5, "resources/read", json!({"uri": uri}))).await?;
    let read = rpc_reply(&body).context("resources/read")?;
    let contents = &read["result"]["contents"][0];
    assert_eq!(contents["mimeType"], "text/markdown", "{read}");
    assert!(contents["text"].as_str().is_some_and(|t| t.contains("Cursor paging only.")), "{read}");
    Ok(())
}
