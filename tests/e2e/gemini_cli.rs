//! Gemini CLI drives agent-os through a whole turn. `agent-os init --client
//! gemini` writes the project's `.gemini/settings.json`; `gemini -p` (the
//! pinned Gemini CLI from scripts/setup-clients.sh, in a private HOME where
//! the folder is trusted and an API key is the chosen sign-in) starts the
//! server from it. Gemini's model is a double on loopback that speaks the
//! Gemini API (`streamGenerateContent` as server-sent events) and asks for
//! agent-os's tools in turn: search_standards, invoke_security on code holding
//! a key, check_persona_job until the review is done. Gemini CLI also asks a
//! small model to rate the prompt's complexity first; the double answers that
//! too. What each tool answered is read from what Gemini CLI sent the model.
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

/// How long the whole `gemini -p` turn may take.
const LIMIT: Duration = Duration::from_secs(600);
/// The model's last words, which Gemini CLI must print.
const FINAL: &str = "agent-os answered every call";
/// At most this many check_persona_job calls before the model gives up.
const CHECKS: usize = 20;

/// One tool call the model made and what the tool answered.
#[derive(Debug)]
struct Call {
    name: String,
    text: String,
}

impl Call {
    fn answer(&self) -> Value {
        first_object(&self.text).unwrap_or(Value::Null)
    }
}

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

fn streamed(parts: Value) -> Reply {
    Reply {
        status: 200,
        body: format!("data: {}\n\n", chunk(parts)),
        headers: vec![("Content-Type".into(), "text/event-stream".into())],
        delay: Duration::ZERO,
    }
}

fn use_tool(name: String, args: Value) -> Reply {
    streamed(json!([{ "functionCall": { "name": name, "args": args } }]))
}

/// The double's script.
fn agent(_n: usize, req: &Recorded) -> Reply {
    if !req.path.contains(":streamGenerateContent") {
        // The router's complexity rating (JSON in a text part), or anything else.
        let rating = json!({ "complexity_reasoning": "one lookup and one review", "complexity_score": 10 });
        return Reply::json(200, chunk(json!([{ "text": rating.to_string() }])));
    }
    let Some(prefix) = prefix(req) else {
        return streamed(json!([{ "text": "agent-os's tools were not offered" }]));
    };
    let calls = calls(req, &prefix);
    let tool = |t: &str| format!("{prefix}{t}");
    let checks = calls.iter().filter(|c| c.name == "check_persona_job").count();
    let job_id = || calls.iter().rfind(|c| c.name == "invoke_security").map(|c| c.answer()["job_id"].clone());
    match calls.last() {
        None => use_tool(tool("search_standards"), json!({ "query": QUERY })),
        Some(c) if c.name == "search_standards" => use_tool(
            tool("invoke_security"),
            json!({ "task": "Review this module for leaked credentials", "context": CONTEXT }),
        ),
        Some(c) if c.name == "invoke_security" => {
            use_tool(tool("check_persona_job"), json!({ "job_id": job_id(), "wait_seconds": 20 }))
        }
        Some(c)
            if c.name == "check_persona_job"
                && matches!(c.answer()["status"].as_str(), Some("pending" | "running"))
                && checks < CHECKS =>
        {
            use_tool(tool("check_persona_job"), json!({ "job_id": job_id(), "wait_seconds": 20 }))
        }
        Some(_) => streamed(json!([{ "text": FINAL }])),
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
        .args(["-p", "Check this module against our standards and review it for leaked credentials.", "--yolo"]);
    let out = world.run_within(cmd, "gemini -p", LIMIT).await;
    let requests = double.requests();
    let (last, prefix) = requests
        .iter()
        .rev()
        .find_map(|r| prefix(r).map(|p| (r, p)))
        .unwrap_or_else(|| panic!("Gemini CLI never offered the model agent-os's tools: {}", describe(&out)));
    let calls = calls(last, &prefix);
    let trail: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert!(out.status.success(), "gemini -p: {}\ncalls: {trail:?}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(FINAL),
        "Gemini CLI did not print the model's last words: {}\ncalls: {trail:?}",
        describe(&out)
    );

    let answer = |name: &str| {
        calls
            .iter()
            .rfind(|c| c.name == name)
            .unwrap_or_else(|| panic!("the model never called {name}: {trail:?}\n{}", describe(&out)))
    };
    // search_standards answers the model in text: each passage under its path.
    let search = answer("search_standards");
    assert!(search.text.contains(STANDARD_PATH), "search_standards through Gemini CLI: {}", search.text);
    let invoke = answer("invoke_security");
    assert!(invoke.answer()["job_id"].is_string(), "invoke_security through Gemini CLI: {}", invoke.text);
    let job = answer("check_persona_job").answer();
    assert_eq!(job["status"], "complete", "the review through Gemini CLI: {job}");
    let review = job["result"].as_str().unwrap_or_default();
    assert!(review.contains("AWS access key id") && review.contains("(line 2)"), "the review: {review}");
    assert!(!review.contains(AWS_KEY), "the review repeats the key unredacted: {review}");
    println!("gemini -p: {} model requests, calls {trail:?}", requests.len());
}
