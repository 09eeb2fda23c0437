//! Claude Code drives agent-os through a whole turn. `agent-os init --client
//! claude` writes the project's `.mcp.json`; `claude -p` (the pinned Claude
//! Code from scripts/setup-clients.sh, in a private HOME where the project and
//! its server are trusted) starts the server from it. Claude Code's model is a
//! double on loopback that speaks Anthropic's Messages API (streamed events)
//! and works as an agent does: it loads agent-os's tools (Claude Code lists
//! MCP tools by name only until the model asks for their schemas with
//! ToolSearch), searches the standards, starts invoke_security on code
//! holding a key, and polls check_persona_job until the review is done. What
//! each tool answered is read from what Claude Code sent the model next.
//!
//! Without the client this test fails and names the setup command.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::clients::{AWS_KEY, CONTEXT, QUERY, STANDARD_PATH, World, describe};
use crate::codex::first_object;
use crate::llm_double::{Double, Recorded, Reply};
use crate::real_clients::Cli;
use crate::support::BIN;

/// How long the whole `claude -p` turn may take.
const LIMIT: Duration = Duration::from_secs(600);
/// The model's last words, which Claude Code must print.
const FINAL: &str = "agent-os answered every call";
/// At most this many check_persona_job calls before the model gives up.
const CHECKS: usize = 20;
/// How Claude Code names agent-os's tools.
const PREFIX: &str = "mcp__agent-os__";

/// One tool call the model made and what the tool answered.
#[derive(Debug)]
struct Call {
    name: String,
    /// The tool's JSON answer (the text part that is one JSON object).
    answer: Value,
    text: String,
}

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
            let whole = texts.iter().find_map(|t| serde_json::from_str::<Value>(t).ok().filter(Value::is_object));
            let text = texts.join("\n");
            let name = call["name"].as_str().unwrap_or_default();
            Call {
                name: name.strip_prefix(PREFIX).unwrap_or(name).to_string(),
                answer: whole.or_else(|| first_object(&text)).unwrap_or(Value::Null),
                text,
            }
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

/// The double's script: load the tools, search, review, wait, finish.
fn agent(n: usize, req: &Recorded) -> Reply {
    if req.method != "POST" {
        return Reply::json(200, json!({}));
    }
    let tool = |t: &str| format!("{PREFIX}{t}");
    // A request without agent-os's tools (a title, a summary) gets a word.
    if !offers(req, "ToolSearch") && !offers(req, &tool("search_standards")) {
        return say(n, "ok");
    }
    let calls = calls(req);
    let checks = calls.iter().filter(|c| c.name == "check_persona_job").count();
    let job_id = || calls.iter().rfind(|c| c.name == "invoke_security").map(|c| c.answer["job_id"].clone());
    match calls.last() {
        None if offers(req, &tool("search_standards")) => {
            use_tool(n, &tool("search_standards"), json!({ "query": QUERY }))
        }
        None => {
            let wanted = ["search_standards", "invoke_security", "check_persona_job"].map(tool).join(",");
            use_tool(n, "ToolSearch", json!({ "query": format!("select:{wanted}"), "max_results": 5 }))
        }
        Some(c) if c.name == "ToolSearch" => use_tool(n, &tool("search_standards"), json!({ "query": QUERY })),
        Some(c) if c.name == "search_standards" => use_tool(
            n,
            &tool("invoke_security"),
            json!({ "task": "Review this module for leaked credentials", "context": CONTEXT }),
        ),
        Some(c) if c.name == "invoke_security" => {
            use_tool(n, &tool("check_persona_job"), json!({ "job_id": job_id(), "wait_seconds": 20 }))
        }
        Some(c)
            if c.name == "check_persona_job"
                && matches!(c.answer["status"].as_str(), Some("pending" | "running"))
                && checks < CHECKS =>
        {
            use_tool(n, &tool("check_persona_job"), json!({ "job_id": job_id(), "wait_seconds": 20 }))
        }
        Some(_) => say(n, FINAL),
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
    let allowed =
        ["search_standards", "invoke_security", "check_persona_job"].map(|t| format!("{PREFIX}{t}")).join(",");
    let mut cmd = world.command(&program);
    cmd.current_dir(world.root())
        .env("ANTHROPIC_BASE_URL", double.url())
        .env("ANTHROPIC_API_KEY", "sk-ant-e2e-double")
        .args(["-p", "Check this module against our standards and review it for leaked credentials."])
        .args(["--allowedTools", &allowed]);
    let out = world.run_within(cmd, "claude -p", LIMIT).await;
    let requests = double.requests();
    let last = requests
        .iter()
        .rfind(|r| r.method == "POST" && (offers(r, "ToolSearch") || offers(r, &format!("{PREFIX}search_standards"))))
        .unwrap_or_else(|| panic!("Claude Code never offered the model agent-os's tools: {}", describe(&out)));
    let calls = calls(last);
    let trail: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert!(out.status.success(), "claude -p: {}\ncalls: {trail:?}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(FINAL),
        "Claude Code did not print the model's last words: {}\ncalls: {trail:?}",
        describe(&out)
    );

    let answer = |name: &str| {
        calls
            .iter()
            .rfind(|c| c.name == name)
            .unwrap_or_else(|| panic!("the model never called {name}: {trail:?}\n{}", describe(&out)))
    };
    let search = answer("search_standards");
    let paths: Vec<&str> =
        search.answer["results"].as_array().into_iter().flatten().filter_map(|h| h["path"].as_str()).collect();
    assert!(paths.contains(&STANDARD_PATH), "search_standards through Claude Code: {}", search.text);
    let invoke = answer("invoke_security");
    assert!(invoke.answer["job_id"].is_string(), "invoke_security through Claude Code: {}", invoke.text);
    let job = &answer("check_persona_job").answer;
    assert_eq!(job["status"], "complete", "the review through Claude Code: {job}");
    let review = job["result"].as_str().unwrap_or_default();
    assert!(review.contains("AWS access key id") && review.contains("(line 2)"), "the review: {review}");
    assert!(!review.contains(AWS_KEY), "the review repeats the key unredacted: {review}");
    println!("claude -p: {} model requests, calls {trail:?}", requests.len());
}
