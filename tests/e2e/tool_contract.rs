//! What tools/list promises about each tool: a title, the four annotation
//! hints (clients decide from them what runs in plan mode or without asking),
//! and an outputSchema that the tool's real results match.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use rmcp::model::Tool;
use serde_json::{Value, json};

use crate::support::{Server, project};

/// (read-only, destructive, idempotent, open-world) for each tool.
fn expected(name: &str, llm: bool) -> Option<(bool, bool, bool, bool)> {
    Some(match name {
        n if n.starts_with("invoke_") => (false, false, false, llm),
        "check_persona_job"
        | "list_persona_jobs"
        | "persona_database_stats"
        | "search_standards"
        | "list_standard_proposals" => (true, false, true, false),
        "cancel_persona_job" | "reset_persona_jobs" => (false, true, true, false),
        "propose_standard" => (false, false, false, false),
        "review_standard_proposal" => (false, true, false, false),
        _ => return None,
    })
}

/// Tools whose result has a fixed shape, so they must declare it.
const TYPED: [&str; 10] = [
    "invoke_security",
    "check_persona_job",
    "list_persona_jobs",
    "cancel_persona_job",
    "persona_database_stats",
    "reset_persona_jobs",
    "propose_standard",
    "list_standard_proposals",
    "review_standard_proposal",
    "search_standards",
];

fn check_annotations(tools: &[Tool], llm: bool) -> Result<()> {
    for t in tools {
        let (ro, de, id, ow) = expected(&t.name, llm).with_context(|| format!("no expectation for {}", t.name))?;
        let title = t.title.as_deref().unwrap_or_default();
        assert!(!title.is_empty(), "{} has no title", t.name);
        let a = t.annotations.as_ref().with_context(|| format!("{} has no annotations", t.name))?;
        assert_eq!(a.title.as_deref(), Some(title), "{}", t.name);
        let got = (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint);
        assert_eq!(
            got,
            (Some(ro), Some(de), Some(id), Some(ow)),
            "{}: (readOnly, destructive, idempotent, openWorld)",
            t.name
        );
    }
    Ok(())
}

/// A JSON Schema check covering what schemars writes: $ref into $defs, type
/// (one or several), properties, required, additionalProperties, items,
/// enum, const, oneOf, anyOf, allOf, minimum and maximum.
fn validate(schema: &Value, root: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{at}: no value allowed"));
        }
        return;
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix("#/").map(|p| p.split('/').try_fold(root, |n, k| n.get(k))) {
            Some(Some(target)) => validate(target, root, v, at, errors),
            _ => errors.push(format!("{at}: unresolved $ref {r}")),
        }
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |ty: &str| match ty {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
            _ => false,
        };
        if !types.iter().any(|ty| is(ty)) {
            errors.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errors.push(format!("{at}: {v} not in {e:?}"));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        errors.push(format!("{at}: {v} is not {c}"));
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum").and_then(Value::as_f64).is_some_and(|m| n < m) {
            errors.push(format!("{at}: {n} below minimum"));
        }
        if s.get("maximum").and_then(Value::as_f64).is_some_and(|m| n > m) {
            errors.push(format!("{at}: {n} above maximum"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for req in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(req) {
                errors.push(format!("{at}: missing required '{req}'"));
            }
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(ps, root, val, &format!("{at}.{k}"), errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{at}: unexpected property '{k}'")),
                    Some(extra @ Value::Object(_)) => validate(extra, root, val, &format!("{at}.{k}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            validate(items, root, item, &format!("{at}[{i}]"), errors);
        }
    }
    let passes = |sub: &Value| {
        let mut e = Vec::new();
        validate(sub, root, v, at, &mut e);
        e.is_empty()
    };
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            validate(sub, root, v, at, errors);
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(passes)
    {
        errors.push(format!("{at}: matches none of anyOf"));
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let n = one.iter().filter(|sub| passes(sub)).count();
        if n != 1 {
            errors.push(format!("{at}: matches {n} of oneOf, not exactly one"));
        }
    }
}

fn conforms(tool: &Tool, result: &Value) -> Result<()> {
    let schema = Value::Object(
        tool.output_schema.as_ref().with_context(|| format!("{} has no outputSchema", tool.name))?.as_ref().clone(),
    );
    let mut errors = Vec::new();
    validate(&schema, &schema, result, "$", &mut errors);
    if !errors.is_empty() {
        bail!("{}'s result does not match its outputSchema: {errors:?}\nresult: {result}\nschema: {schema}", tool.name);
    }
    Ok(())
}

#[test]
fn the_schema_check_catches_mismatches() {
    let schema = json!({
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}, "n": {"type": ["integer", "null"], "minimum": 0}},
        "required": ["a"],
        "$defs": {"A": {"oneOf": [
            {"type": "object", "properties": {"s": {"type": "string", "const": "x"}}, "required": ["s"]},
            {"type": "object", "properties": {"s": {"type": "string", "const": "y"}, "k": {"type": "integer"}}, "required": ["s", "k"]}
        ]}}
    });
    let check = |v: Value| {
        let mut e = Vec::new();
        validate(&schema, &schema, &v, "$", &mut e);
        e
    };
    assert!(check(json!({"a": {"s": "x"}, "n": null})).is_empty());
    assert!(check(json!({"a": {"s": "y", "k": 3}, "n": 2})).is_empty());
    assert!(!check(json!({"a": {"s": "y"}})).is_empty(), "k missing");
    assert!(!check(json!({"a": {"s": "z"}})).is_empty(), "no oneOf branch");
    assert!(!check(json!({"n": 1})).is_empty(), "a missing");
    assert!(!check(json!({"a": {"s": "x"}, "n": -1})).is_empty(), "below minimum");
    assert!(!check(json!({"a": {"s": "x"}, "n": "1"})).is_empty(), "wrong type");
}

#[tokio::test]
async fn every_tool_is_annotated_and_typed_results_match_their_output_schema() -> Result<()> {
    let dir = project();
    let s = Server::start(dir.path()).await?;
    let tools = s.client.list_all_tools().await?;
    check_annotations(&tools, false)?;
    let tool = |name: &str| tools.iter().find(|t| t.name == name).with_context(|| format!("no tool {name}"));
    for name in TYPED {
        assert!(tool(name)?.output_schema.is_some(), "{name} declares no outputSchema");
    }
    // Every invoke_* shares the shape.
    for t in tools.iter().filter(|t| t.name.starts_with("invoke_")) {
        assert_eq!(t.output_schema, tool("invoke_security")?.output_schema, "{}", t.name);
    }

    let started =
        s.ok("invoke_security", json!({ "task": "review", "context": "password = \"hunter2hunter2\"\n" })).await?;
    conforms(tool("invoke_security")?, &started)?;
    let id = started["job_id"].as_str().context("job_id")?.to_string();
    // Whatever state it is in right now (pending or running), then complete.
    let now = s.ok("check_persona_job", json!({ "job_id": id })).await?;
    conforms(tool("check_persona_job")?, &now)?;
    let done = s.ok("check_persona_job", json!({ "job_id": id, "wait_seconds": 60 })).await?;
    assert_eq!(done["status"], "complete", "{done}");
    conforms(tool("check_persona_job")?, &done)?;
    // A cancelled job (a second one, cancelled before or while it runs) and
    // cancelling a finished one.
    let second = s.invoke("security", json!({ "task": "review", "context": "x = 1\n" })).await?;
    let cancelled = s.ok("cancel_persona_job", json!({ "job_id": second })).await?;
    conforms(tool("cancel_persona_job")?, &cancelled)?;
    let view = s.wait(&second, Duration::from_secs(60)).await?;
    conforms(tool("check_persona_job")?, &view)?;
    let again = s.ok("cancel_persona_job", json!({ "job_id": id })).await?;
    assert_eq!(again["status"], "complete", "{again}");
    conforms(tool("cancel_persona_job")?, &again)?;
    let list = s.ok("list_persona_jobs", json!({})).await?;
    assert!(list["jobs"].as_array().is_some_and(|j| j.len() >= 2), "{list}");
    conforms(tool("list_persona_jobs")?, &list)?;
    let stats = s.ok("persona_database_stats", json!({})).await?;
    conforms(tool("persona_database_stats")?, &stats)?;
    let reset = s.ok("reset_persona_jobs", json!({ "confirm": true })).await?;
    conforms(tool("reset_persona_jobs")?, &reset)?;
    // Standards proposals: proposed, listed (with content), sent back, rejected.
    let content = "# Retries\n\n## Context\nHTTP clients.\n\n## Pattern\nRetry idempotent calls 3 times with backoff.\n\n## Examples\nretry(3, call)\n\n## Anti-patterns\nRetrying a POST blindly.\n";
    let proposed = s
        .ok(
            "propose_standard",
            json!({ "domain": "development", "topic": "retries", "content": content, "tags": ["http"] }),
        )
        .await?;
    assert_eq!(proposed["status"], "pending", "{proposed}");
    conforms(tool("propose_standard")?, &proposed)?;
    let pid = proposed["proposal_id"].as_str().context("proposal_id")?.to_string();
    let listed = s.ok("list_standard_proposals", json!({})).await?;
    assert!(listed["proposals"][0]["content"].is_string(), "{listed}");
    conforms(tool("list_standard_proposals")?, &listed)?;
    let revised = s
        .ok("review_standard_proposal", json!({ "id": pid, "decision": "revise", "feedback": "name the backoff" }))
        .await?;
    conforms(tool("review_standard_proposal")?, &revised)?;
    let other =
        s.ok("propose_standard", json!({ "domain": "development", "topic": "timeouts", "content": content })).await?;
    let rejected = s
        .ok("review_standard_proposal", json!({ "id": other["proposal_id"], "decision": "reject", "feedback": "no" }))
        .await?;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    conforms(tool("review_standard_proposal")?, &rejected)?;
    // Search: with results (the bundled standards) and without.
    s.wait_indexed("schema migrations rollback", "universal/data/schema-migrations.md").await?;
    let found = s.ok("search_standards", json!({ "query": "schema migrations rollback" })).await?;
    assert!(found["results"].as_array().is_some_and(|r| !r.is_empty()), "{found}");
    conforms(tool("search_standards")?, &found)?;
    let none = s.ok("search_standards", json!({ "query": "zzqx", "domain": "no-such-domain" })).await?;
    conforms(tool("search_standards")?, &none)?;
    // A failing call is an error result, not a malformed success.
    let err = s.err("check_persona_job", json!({ "job_id": "no-such-job" })).await?;
    assert!(!err.is_empty());
    s.stop().await
}

/// With a language model configured a persona job sends project material to
/// that provider: invoke_* is then open-world, and nothing else changes.
#[tokio::test]
async fn invoke_is_open_world_only_with_a_language_model() -> Result<()> {
    let dir = project();
    std::fs::create_dir_all(dir.path().join(".agent-os"))?;
    std::fs::write(
        dir.path().join(".agent-os/config.toml"),
        "[llm]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\napi_key_env = \"AGENT_OS_E2E_OW_KEY\"\n",
    )?;
    crate::support::trust(dir.path(), &[]);
    let s = Server::start_env(dir.path(), &[], &[("AGENT_OS_E2E_OW_KEY", "sk-e2e")]).await?;
    let tools = s.client.list_all_tools().await?;
    check_annotations(&tools, true)?;
    s.stop().await
}
