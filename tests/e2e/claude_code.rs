//! Claude Code drives agent-os through a whole turn (see agent_turn.rs).
//! `agent-os init --client claude` writes the project's `.mcp.json`;
//! `claude -p` (the pinned Claude Code from scripts/setup-clients.sh, in a
//! private HOME where the project and its server are trusted) starts the
//! server from it. Claude Code's model is a double on loopback that speaks
//! Anthropic's Messages API (streamed events). Claude Code lists MCP tools by
//! name only until the model asks for their schemas with ToolSearch, so the
//! double does that first, as a real model does.
//!
//! Without the client this test fails and names the setup command.

use std::path::Path;

use serde_json::{Value, json};

use crate::agent_turn::{Call, FINAL, LIMIT, PROMPT, Step, check_turn, next_step};
use crate::clients::{World, describe};
use crate::llm_double::{Double, Recorded, Reply};
use crate::real_clients::Cli;
use crate::support::BIN;

/// How Claude Code names agent-os's tools.
const PREFIX: &str = "mcp__agent-os__";
/// The tools the model loads and calls.
const TOOLS: [&str; 3] = ["search_standards", "invoke_security", "check_persona_job"];

/// The text parts of a `tool_result`'s content.
fn parts(content: &Value) -> Vec<String> {
    match content {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|p| p["text"].as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The calls so far and their answers, in order, from a request's messages.
fn calls(req: &Recorded) -> Vec<Call> {
    let blocks: Vec<&Value> = req.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_array())
        .flatten()
        .collect();
    blocks
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .map(|call| {
            let texts = blocks
                .iter()
                .find(|b| b["type"] == "tool_result" && b["tool_use_id"] == call["id"])
                .map(|b| parts(&b["content"]))
                .unwrap_or_default();
            let name = call["name"].as_str().unwrap_or_default();
            Call { name: name.strip_prefix(PREFIX).unwrap_or(name).to_string(), text: texts.join("\n") }
        })
        .collect()
}

fn offers(req: &Recorded, name: &str) -> bool {
    req.body["tools"].as_array().is_some_and(|t| t.iter().any(|t| t["name"] == name))
}

/// One streamed message holding one content block.
fn message(n: usize, block: Value, delta: Value, stop: &str) -> Reply {
    let start = json!({ "type": "message_start", "message": {
        "id": format!("msg_{n}"), "type": "message", "role": "assistant", "model": "claude-double",
        "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": { "input_tokens": 10, "output_tokens": 1 },
    }});
    Reply::sse(&[
        ("message_start", start),
        ("content_block_start", json!({ "type": "content_block_start", "index": 0, "content_block": block })),
        ("content_block_delta", json!({ "type": "content_block_delta", "index": 0, "delta": delta })),
        ("content_block_stop", json!({ "type": "content_block_stop", "index": 0 })),
        (
            "message_delta",
            json!({ "type": "message_delta", "delta": { "stop_reason": stop, "stop_sequence": null },
                    "usage": { "output_tokens": 5 } }),
        ),
        ("message_stop", json!({ "type": "message_stop" })),
    ])
}

fn use_tool(n: usize, name: &str, input: Value) -> Reply {
    message(
        n,
        json!({ "type": "tool_use", "id": format!("toolu_{n}"), "name": name, "input": {} }),
        json!({ "type": "input_json_delta", "partial_json": input.to_string() }),
        "tool_use",
    )
}

fn say(n: usize, text: &str) -> Reply {
    message(n, json!({ "type": "text", "text": "" }), json!({ "type": "text_delta", "text": text }), "end_turn")
}

/// The double's script: load agent-os's tools when Claude Code has
/// deferred them, then the turn of agent_turn.rs.
fn agent(n: usize, req: &Recorded) -> Reply {
    let search = format!("{PREFIX}search_standards");
    // A request without agent-os's tools (a title, a summary) gets a word.
    if req.method != "POST" || !(offers(req, "ToolSearch") || offers(req, &search)) {
        return say(n, "ok");
    }
    let calls: Vec<Call> = calls(req).into_iter().filter(|c| c.name != "ToolSearch").collect();
    if calls.is_empty() && !offers(req, &search) {
        let wanted: Vec<String> = TOOLS.iter().map(|t| format!("{PREFIX}{t}")).collect();
        return use_tool(n, "ToolSearch", json!({ "query": format!("select:{}", wanted.join(",")), "max_results": 5 }));
    }
    match next_step(&calls) {
        Step::Tool(tool, input) => use_tool(n, &format!("{PREFIX}{tool}"), input),
        Step::Done => say(n, FINAL),
    }
}

#[tokio::test]
async fn claude_code_runs_a_review_through_agent_os_after_init() {
    let program = Cli::Claude.program();
    let world = World::new();
    let mut init = world.command(Path::new(BIN));
    init.arg("--project").arg(world.root()).args(["init", "--client", "claude"]);
    let out = world.run(init, "agent-os init --client claude").await;
    assert!(out.status.success(), "agent-os init --client claude: {}", describe(&out));
    Cli::Claude.trust(&world);

    let double = Double::start(agent).await;
    let allowed: Vec<String> = TOOLS.iter().map(|t| format!("{PREFIX}{t}")).collect();
    let mut cmd = world.command(&program);
    cmd.current_dir(world.root())
        .env("ANTHROPIC_BASE_URL", double.url())
        .env("ANTHROPIC_API_KEY", "sk-ant-e2e-double")
        .args(["-p", PROMPT, "--allowedTools", &allowed.join(",")]);
    let out = world.run_within(cmd, "claude -p", LIMIT).await;
    let requests = double.requests();
    let search = format!("{PREFIX}search_standards");
    let last = requests
        .iter()
        .rfind(|r| r.method == "POST" && (offers(r, "ToolSearch") || offers(r, &search)))
        .unwrap_or_else(|| panic!("Claude Code never offered the model agent-os's tools: {}", describe(&out)));
    check_turn("claude -p", &calls(last), &out);
}
