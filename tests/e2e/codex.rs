//! Codex CLI drives agent-os through a whole turn (see agent_turn.rs).
//! `agent-os init --client codex` writes the project's `.codex/config.toml`;
//! `codex exec` (the pinned Codex CLI from scripts/setup-clients.sh) reads it,
//! as it does in a project its user trusts, and starts the server. Codex's
//! model is a double on loopback that speaks OpenAI's Responses API (streamed
//! events).
//!
//! Without the client this test fails and names the setup command.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::agent_turn::{Call, FINAL, LIMIT, PROMPT, Step, check_turn, next_step};
use crate::clients::{World, clients_dir, describe};
use crate::llm_double::{Double, Recorded, Reply};
use crate::support::BIN;
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
            Call { name: name.rsplit("__").next().unwrap_or(name).to_string(), text }
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

/// The double's script (see agent_turn.rs).
fn agent(n: usize, req: &Recorded) -> Reply {
    match next_step(&calls(req)) {
        Step::Tool(tool, args) => call_tool(n, req, tool, args),
        Step::Done => say(FINAL),
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
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Codex reads it once you trust this project"),
        "{}",
        describe(&out)
    );
    let config = std::fs::read_to_string(world.root().join(".codex/config.toml")).unwrap();
    assert!(config.contains("[mcp_servers.agent-os]"), "{config}");
    pass_test_folders(world.root());

    let double = Double::start(agent).await;
    // doctor says Codex will not read the project's file until the project
    // is trusted, then that all is well once it is.
    let doctor = |home: &Path| {
        let mut c = world.command(Path::new(BIN));
        c.arg("--project").arg(world.root()).args(["doctor", "--json"]).env("CODEX_HOME", home);
        c
    };
    let clients_check = |out: &std::process::Output| {
        let checks: Vec<Value> = serde_json::from_slice(&out.stdout).expect("doctor --json prints JSON");
        checks.into_iter().find(|c| c["name"] == "mcp clients").expect("an mcp clients check")
    };
    let empty = world.root().join("home/.codex-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let before = clients_check(&world.run(doctor(&empty), "agent-os doctor").await);
    assert_eq!(before["level"], "warn", "{before}");
    let home = codex_home(&world, &double);
    let after = clients_check(&world.run(doctor(&home), "agent-os doctor").await);
    assert_eq!(after["level"], "ok", "{after}");
    let mut cmd = world.command(&program);
    cmd.current_dir(world.root()).env("CODEX_HOME", &home).args(["exec", "--skip-git-repo-check", PROMPT]);
    let out = world.run_within(cmd, "codex exec", LIMIT).await;
    let requests = double.requests();
    let last = requests.last().unwrap_or_else(|| panic!("Codex never asked the model: {}", describe(&out)));
    check_turn("codex exec", &calls(last), &out);
}
