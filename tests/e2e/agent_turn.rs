//! What the coding-agent CLI tests (codex.rs, claude_code.rs, gemini_cli.rs)
//! share: the turn their model double plays, and what must hold after it.
//! Each CLI gets the same task and its model asks for the same tools in the
//! same order, as an agent does: search_standards for the project's standard,
//! invoke_security on code holding a key, check_persona_job until the review
//! is done, then its last words. Each test maps these steps to its provider's
//! wire format and reads the tools' answers back from the requests the CLI
//! sent its model: the agent's own view of agent-os.

use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};

use crate::clients::{AWS_KEY, CONTEXT, QUERY, STANDARD_PATH, describe};

/// How long one whole turn may take (a debug server may embed the bundled
/// standards and compile the components on its first start).
pub(crate) const LIMIT: Duration = Duration::from_secs(600);
/// What the user asks.
pub(crate) const PROMPT: &str = "Check this module against our standards and review it for leaked credentials.";
/// The model's last words, which the CLI must print.
pub(crate) const FINAL: &str = "agent-os answered every call";
/// At most this many check_persona_job calls before the model gives up.
const CHECKS: usize = 20;

/// One tool call the model made and the text its answer reached the model as.
#[derive(Debug)]
pub(crate) struct Call {
    /// agent-os's name for the tool (the CLI's prefix taken off).
    pub(crate) name: String,
    pub(crate) text: String,
}

impl Call {
    /// The tool's JSON answer: the first JSON object in its text.
    pub(crate) fn answer(&self) -> Value {
        first_object(&self.text).unwrap_or(Value::Null)
    }
}

/// The first JSON object in `text` (CLIs put a line or two before it).
pub(crate) fn first_object(text: &str) -> Option<Value> {
    text.match_indices('{').find_map(|(i, _)| {
        serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>().next()?.ok().filter(Value::is_object)
    })
}

/// What the model does next.
pub(crate) enum Step {
    /// Calls agent-os's tool with these arguments.
    Tool(&'static str, Value),
    /// Ends the turn with [`FINAL`].
    Done,
}

/// The model's next step after agent-os's `calls` so far.
pub(crate) fn next_step(calls: &[Call]) -> Step {
    let job_id = || calls.iter().rfind(|c| c.name == "invoke_security").map(|c| c.answer()["job_id"].clone());
    let check = || Step::Tool("check_persona_job", json!({ "job_id": job_id(), "wait_seconds": 20 }));
    let checks = calls.iter().filter(|c| c.name == "check_persona_job").count();
    match calls.last() {
        None => Step::Tool("search_standards", json!({ "query": QUERY })),
        Some(c) if c.name == "search_standards" => Step::Tool(
            "invoke_security",
            json!({ "task": "Review this module for leaked credentials", "context": CONTEXT }),
        ),
        Some(c) if c.name == "invoke_security" => check(),
        Some(c)
            if c.name == "check_persona_job"
                && matches!(c.answer()["status"].as_str(), Some("pending" | "running"))
                && checks < CHECKS =>
        {
            check()
        }
        Some(_) => Step::Done,
    }
}

/// What must hold after `cli`'s turn: it ended well and printed the model's
/// last words, the search found the project's standard, and the review it
/// waited for names the key and its line without repeating the key.
pub(crate) fn check_turn(cli: &str, calls: &[Call], out: &Output) {
    let trail: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert!(out.status.success(), "{cli}: {}\ncalls: {trail:?}", describe(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(FINAL), "{cli} did not print the model's last words: {}\ncalls: {trail:?}", describe(out));
    let answer = |name: &str| {
        calls
            .iter()
            .rfind(|c| c.name == name)
            .unwrap_or_else(|| panic!("the model never called {name} through {cli}: {trail:?}\n{}", describe(out)))
    };
    let search = answer("search_standards");
    assert!(search.text.contains(STANDARD_PATH), "search_standards through {cli}: {}", search.text);
    let invoke = answer("invoke_security");
    assert!(invoke.answer()["job_id"].is_string(), "invoke_security through {cli}: {}", invoke.text);
    let job = answer("check_persona_job").answer();
    assert_eq!(job["status"], "complete", "the review through {cli}: {job}");
    let review = job["result"].as_str().unwrap_or_default();
    assert!(review.contains("AWS access key id") && review.contains("(line 2)"), "the review: {review}");
    assert!(!review.contains(AWS_KEY), "the review repeats the key unredacted: {review}");
    println!("{cli}: calls {trail:?}");
}
