//! Gemini CLI drives agent-os through a whole turn (see agent_turn.rs).
//! `agent-os init --client gemini` writes the project's
//! `.gemini/settings.json`; `gemini -p` (the pinned Gemini CLI from
//! scripts/setup-clients.sh, in a private HOME where the folder is trusted and
//! an API key is the chosen sign-in) starts the server from it. Gemini's model
//! is a double on loopback that speaks the Gemini API (`streamGenerateContent`
//! as server-sent events); it also answers the small model Gemini CLI asks to
//! rate the prompt's complexity first.
//!
//! Without the client this test fails and names the setup command.

use std::path::Path;

use serde_json::{Value, json};

use crate::agent_turn::{Call, FINAL, LIMIT, PROMPT, Step, check_turn, next_step};
use crate::clients::{World, describe};
use crate::llm_double::{Double, Recorded, Reply};
use crate::real_clients::Cli;
use crate::support::BIN;

/// The calls so far, in order, each with the answer Gemini CLI sent back.
fn calls(req: &Recorded, prefix: &str) -> Vec<Call> {
    let mut out: Vec<Call> = Vec::new();
    let parts = req.body["contents"].as_array().into_iter().flatten().filter_map(|c| c["parts"].as_array()).flatten();
    for part in parts {
        if let Some(name) = part["functionCall"]["name"].as_str() {
            out.push(Call { name: name.strip_prefix(prefix).unwrap_or(name).to_string(), text: String::new() });
        } else if let Some(name) = part["functionResponse"]["name"].as_str() {
            let name = name.strip_prefix(prefix).unwrap_or(name);
            let response = &part["functionResponse"]["response"];
            let text = response["output"].as_str().map_or_else(|| response.to_string(), str::to_string);
            if let Some(call) = out.iter_mut().rfind(|c| c.name == name && c.text.is_empty()) {
                call.text = text;
            }
        }
    }
    out
}

/// The prefix Gemini CLI gives agent-os's tools (`mcp_agent-os_`), if it
/// offered them.
fn prefix(req: &Recorded) -> Option<String> {
    req.body["tools"]
        .as_array()?
        .iter()
        .filter_map(|t| t["functionDeclarations"].as_array())
        .flatten()
        .find_map(|d| d["name"].as_str().and_then(|n| n.strip_suffix("search_standards")).map(str::to_string))
}

fn chunk(parts: Value) -> Value {
    json!({
        "candidates": [{ "content": { "parts": parts, "role": "model" }, "finishReason": "STOP", "index": 0 }],
        "usageMetadata": { "promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15 },
    })
}

/// One server-sent event of data only, as the Gemini API streams.
fn streamed(parts: Value) -> Reply {
    Reply::event_stream(format!("data: {}\n\n", chunk(parts)))
}

/// The double's script (see agent_turn.rs).
fn agent(_n: usize, req: &Recorded) -> Reply {
    if !req.path.contains(":streamGenerateContent") {
        // The router's complexity rating (JSON in a text part), or anything else.
        let rating = json!({ "complexity_reasoning": "one lookup and one review", "complexity_score": 10 });
        return Reply::json(200, chunk(json!([{ "text": rating.to_string() }])));
    }
    let Some(prefix) = prefix(req) else {
        return streamed(json!([{ "text": "agent-os's tools were not offered" }]));
    };
    match next_step(&calls(req, &prefix)) {
        Step::Tool(tool, args) => {
            streamed(json!([{ "functionCall": { "name": format!("{prefix}{tool}"), "args": args } }]))
        }
        Step::Done => streamed(json!([{ "text": FINAL }])),
    }
}

#[tokio::test]
async fn gemini_cli_runs_a_review_through_agent_os_after_init() {
    let program = Cli::Gemini.program();
    let world = World::new();
    let mut init = world.command(Path::new(BIN));
    init.arg("--project").arg(world.root()).args(["init", "--client", "gemini"]);
    let out = world.run(init, "agent-os init --client gemini").await;
    assert!(out.status.success(), "agent-os init --client gemini: {}", describe(&out));
    Cli::Gemini.trust(&world);
    // The sign-in a person picks on the first run: an API key.
    let settings = json!({ "security": { "auth": { "selectedType": "gemini-api-key" } } });
    std::fs::write(world.root().join("home/.gemini/settings.json"), settings.to_string()).unwrap();

    let double = Double::start(agent).await;
    let mut cmd = world.command(&program);
    cmd.current_dir(world.root())
        .env("GEMINI_API_KEY", "e2e-double-key")
        .env("GOOGLE_GEMINI_BASE_URL", double.url())
        // Every tool call is approved: the model here is the double.
        .args(["-p", PROMPT, "--yolo"]);
    let out = world.run_within(cmd, "gemini -p", LIMIT).await;
    let requests = double.requests();
    let (last, prefix) = requests
        .iter()
        .rev()
        .find_map(|r| prefix(r).map(|p| (r, p)))
        .unwrap_or_else(|| panic!("Gemini CLI never offered the model agent-os's tools: {}", describe(&out)));
    check_turn("gemini -p", &calls(last, &prefix), &out);
}
