//! Codex CLI drives agent-os through a whole turn. `agent-os init --client
//! codex` writes the project's `.codex/config.toml`; `codex exec` (the pinned
//! Codex CLI from scripts/setup-clients.sh) reads it, as it does in a project
//! its user trusts, and starts the server. Codex's model is a double on
//! loopback that speaks OpenAI's Responses API (streamed events) and asks for
//! agent-os's tools one after another, as an agent does: search_standards for
//! the project's standard, invoke_security on code holding a key, then
//! check_persona_job until the review is done. What each tool answered is read
//! from what Codex sent the model next: the agent's own view of agent-os.
//!
//! Without the client this test fails and names the setup command.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::clients::{AWS_KEY, CONTEXT, QUERY, STANDARD_PATH, World, clients_dir, describe};
use crate::llm_double::{Double, Recorded, Reply};
use crate::support::BIN;

/// How long the whole `codex exec` turn may take (a debug server embeds the
/// bundled standards on its first start and compiles the components).
const LIMIT: Duration = Duration::from_secs(600);
/// The model's last words, which Codex must print.
const FINAL: &str = "agent-os answered every call";
/// At most this many check_persona_job calls before the model gives up.
const CHECKS: usize = 20;
/// agent-os variables the server needs in the tests' private world. Codex
/// starts MCP servers with a short list of variables (HOME, PATH, ...) plus
/// those a server's `env_vars` names.
const PASSED: [&str; 7] = [
    "AGENT_OS_STATE_DIR",
    "AGENT_OS_DATA_DIR",
    "AGENT_OS_CACHE_DIR",
    "AGENT_OS_MODELS_DIR",
    "AGENT_OS_MODEL_DIR",
    "AGENT_OS_ORT_LIB",
    "AGENT_OS_LOG",
];

fn codex() -> PathBuf {
    let path = clients_dir().join("cli/node_modules/.bin/codex");
    assert!(path.exists(), "Codex CLI is not installed (missing {}): run scripts/setup-clients.sh", path.display());
    path
}

/// One tool call the model made and what the tool answered.
#[derive(Debug)]
struct Call {
    name: String,
    /// The tool's JSON answer, taken from the text Codex gave the model.
    answer: Value,
    text: String,
}

/// The first JSON object in `text` (Codex puts a line or two before it).
pub(crate) fn first_object(text: &str) -> Option<Value> {
    text.match_indices('{').find_map(|(i, _)| {
        serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>().next()?.ok().filter(Value::is_object)
    })
}

/// The text of a `function_call_output` (a string, or a list of text parts).
fn output_text(output: &Value) -> String {
    match output {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

/// The calls so far and their answers, in order, from a request's `input`.
fn calls(req: &Recorded) -> Vec<Call> {
    let input = req.body["input"].as_array().cloned().unwrap_or_default();
    input
        .iter()
        .filter(|i| i["type"] == "function_call")
        .map(|call| {
            let text = input
                .iter()
                .find(|o| o["type"] == "function_call_output" && o["call_id"] == call["call_id"])
                .map(|o| output_text(&o["output"]))
                .unwrap_or_default();
            let name = call["name"].as_str().unwrap_or_default();
            Call {
                name: name.rsplit("__").next().unwrap_or(name).to_string(),
                answer: first_object(&text).unwrap_or(Value::Null),
                text,
            }
        })
        .collect()
}

/// How Codex offers agent-os's `tool` to the model: inside a namespace tool
/// (Codex 0.1xx groups each MCP server's tools), or as one function whose
/// name ends with the tool's.
fn offered(req: &Recorded, tool: &str) -> Option<(Option<String>, String)> {
    let tools = req.body["tools"].as_array()?;
    for t in tools {
        let names = |v: &Value| v["name"].as_str().map(str::to_string);
        if t["type"] == "namespace"
            && t["tools"].as_array().is_some_and(|inner| inner.iter().any(|i| i["name"] == tool))
        {
            return Some((names(t), tool.to_string()));
        }
        if let Some(name) = names(t).filter(|n| n.ends_with(&format!("__{tool}"))) {
            return Some((None, name));
        }
    }
    None
}

/// The model's next move: a call to `tool` with `args`.
fn call_tool(n: usize, req: &Recorded, tool: &str, args: Value) -> Reply {
    let Some((namespace, name)) = offered(req, tool) else {
        return say(&format!("agent-os's {tool} was not offered to the model"));
    };
    let mut item = json!({
        "type": "function_call", "id": format!("fc_{n}"), "call_id": format!("call_{n}"),
        "name": name, "arguments": args.to_string(),
    });
    if let Some(ns) = namespace {
        item["namespace"] = json!(ns);
    }
    respond(n, item)
}

/// The model's last words.
fn say(text: &str) -> Reply {
    respond(
        0,
        json!({
            "type": "message", "role": "assistant", "id": "msg_final",
            "content": [{ "type": "output_text", "text": text }],
        }),
    )
}

/// One streamed response holding `item`.
fn respond(n: usize, item: Value) -> Reply {
    let id = format!("resp_{n}");
    Reply::sse(&[
        ("response.created", json!({ "type": "response.created", "response": { "id": id } })),
        ("response.output_item.done", json!({ "type": "response.output_item.done", "output_index": 0, "item": item })),
        (
            "response.completed",
            json!({ "type": "response.completed", "response": {
                "id": id,
                "usage": { "input_tokens": 10, "output_tokens": 5, "total_tokens": 15 },
            }}),
        ),
    ])
}

/// The double's script: search, review, wait for the review, finish.
fn agent(n: usize, req: &Recorded) -> Reply {
    let calls = calls(req);
    let checks = calls.iter().filter(|c| c.name == "check_persona_job").count();
    match calls.last() {
        None => call_tool(n, req, "search_standards", json!({ "query": QUERY })),
        Some(c) if c.name == "search_standards" => call_tool(
            n,
            req,
            "invoke_security",
            json!({ "task": "Review this module for leaked credentials", "context": CONTEXT }),
        ),
        Some(c) if c.name == "invoke_security" => match c.answer["job_id"].as_str() {
            Some(id) => call_tool(n, req, "check_persona_job", json!({ "job_id": id, "wait_seconds": 20 })),
            None => say("invoke_security gave no job id"),
        },
        Some(c)
            if c.name == "check_persona_job"
                && matches!(c.answer["status"].as_str(), Some("pending" | "running"))
                && checks < CHECKS =>
        {
            let id = calls.iter().rfind(|c| c.name == "invoke_security").map(|c| c.answer["job_id"].clone());
            call_tool(n, req, "check_persona_job", json!({ "job_id": id, "wait_seconds": 20 }))
        }
        Some(_) => say(FINAL),
    }
}

/// What a person's answers to Codex's first questions leave in its home: the
/// project is trusted (so its `.codex/config.toml` is read), and the model
/// provider is theirs (here, the double).
fn codex_home(world: &World, double: &Double) -> PathBuf {
    let home = world.root().join("home/.codex");
    std::fs::create_dir_all(&home).unwrap();
    let root = world.root().canonicalize().unwrap();
    let config = format!(
        "model = \"double\"\nmodel_provider = \"double\"\n\n\
         [model_providers.double]\nname = \"double\"\nbase_url = \"{}/v1\"\nwire_api = \"responses\"\n\n\
         [projects.{}]\ntrust_level = \"trusted\"\n",
        double.url(),
        toml_string(&root.display().to_string()),
    );
    std::fs::write(home.join("config.toml"), config).unwrap();
    home
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Lets the server Codex starts see the tests' own agent-os folders.
fn pass_test_folders(root: &Path) {
    let path = root.join(".codex/config.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let names: Vec<String> = PASSED.iter().map(|n| toml_string(n)).collect();
    text.push_str(&format!("env_vars = [{}]\n", names.join(", ")));
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn codex_cli_runs_a_review_through_agent_os_after_init() {
    let program = codex();
    let world = World::new();
    let mut init = world.command(Path::new(BIN));
    init.arg("--project").arg(world.root()).args(["init", "--client", "codex"]);
    let out = world.run(init, "agent-os init --client codex").await;
    assert!(out.status.success(), "agent-os init --client codex: {}", describe(&out));
    let config = std::fs::read_to_string(world.root().join(".codex/config.toml")).unwrap();
    assert!(config.contains("[mcp_servers.agent-os]"), "{config}");
    pass_test_folders(world.root());

    let double = Double::start(agent).await;
    let home = codex_home(&world, &double);
    let mut cmd = world.command(&program);
    cmd.current_dir(world.root()).env("CODEX_HOME", &home).args([
        "exec",
        "--skip-git-repo-check",
        "Check this module against our standards and review it for leaked credentials.",
    ]);
    let out = world.run_within(cmd, "codex exec", LIMIT).await;
    let requests = double.requests();
    let last = requests.last().unwrap_or_else(|| panic!("Codex never asked the model: {}", describe(&out)));
    let calls = calls(last);
    let trail: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert!(out.status.success(), "codex exec: {}\ncalls: {trail:?}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(FINAL), "Codex did not print the model's last words: {}\ncalls: {trail:?}", describe(&out));

    let answer = |name: &str| {
        calls
            .iter()
            .rfind(|c| c.name == name)
            .unwrap_or_else(|| panic!("the model never called {name}: {trail:?}\n{}", describe(&out)))
    };
    let search = answer("search_standards");
    let paths: Vec<&str> =
        search.answer["results"].as_array().into_iter().flatten().filter_map(|h| h["path"].as_str()).collect();
    assert!(paths.contains(&STANDARD_PATH), "search_standards through Codex: {}", search.text);
    let invoke = answer("invoke_security");
    assert!(invoke.answer["job_id"].is_string(), "invoke_security through Codex: {}", invoke.text);
    let job = &answer("check_persona_job").answer;
    assert_eq!(job["status"], "complete", "the review through Codex: {job}");
    let review = job["result"].as_str().unwrap_or_default();
    assert!(review.contains("AWS access key id") && review.contains("(line 2)"), "the review: {review}");
    assert!(!review.contains(AWS_KEY), "the review repeats the key unredacted: {review}");
    println!("codex exec: {} model requests, calls {trail:?}", requests.len());
}
