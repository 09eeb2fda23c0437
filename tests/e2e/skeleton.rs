use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::support::{Server, project};

const CORE_TOOLS: [&str; 6] =
    ["invoke_architect", "invoke_engineer", "invoke_data", "invoke_qa", "invoke_security", "invoke_sre"];

#[tokio::test]
async fn security_review_finds_an_aws_secret_on_line_3() -> Result<()> {
    let dir = project();
    let server = Server::start(dir.path()).await?;

    let tools = server.client.list_all_tools().await?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for t in CORE_TOOLS.iter().chain(&["check_persona_job", "list_persona_jobs", "search_standards"]) {
        assert!(names.contains(t), "missing tool {t} in {names:?}");
    }

    let context = "import boto3\n\
                   session = boto3.Session(\n\
                   aws_secret_access_key=\"Zr8vQm2LkP0xT7yN4cW1bH9sJ6dF3gA5eR8uI2oL\",\n\
                   )\n";
    let started =
        server.ok("invoke_security", json!({ "task": "security review of the S3 client", "context": context })).await?;
    assert_eq!(started["status"], "started");
    assert_eq!(started["persona"], "security");
    assert!(started["estimated_duration_seconds"].as_u64().unwrap() > 0);
    let id = started["job_id"].as_str().unwrap();
    assert!(started["poll_command"].as_str().unwrap().contains(id));

    let done = server.wait(id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    let result = done["result"].as_str().unwrap();
    assert!(result.contains("AWS secret access key"), "{result}");
    assert!(result.contains("(line 3)"), "{result}");
    assert!(!result.contains("Zr8vQm2LkP0xT7yN4cW1bH9sJ6dF3gA5eR8uI2oL"), "the secret must be redacted: {result}");
    assert!(result.contains("delegated brief"), "no LLM is configured: {result}");
    assert!(done["tool_calls_made"].as_i64().unwrap() >= 1);

    let listed = server.ok("list_persona_jobs", json!({ "persona": "security" })).await?;
    assert_eq!(listed["jobs"][0]["job_id"], id);
    assert_eq!(listed["jobs"][0]["status"], "complete");
    server.stop().await
}

#[tokio::test]
async fn bad_input_is_a_tool_error_that_says_why() -> Result<()> {
    let dir = project();
    let server = Server::start(dir.path()).await?;

    let e = server.err("check_persona_job", json!({ "job_id": "no-such-job" })).await?;
    assert!(e.contains("no job with id 'no-such-job'"), "{e}");

    let e = server.err("invoke_engineer", json!({ "task": "   " })).await?;
    assert!(e.contains("task is empty"), "{e}");

    let e = server.err("invoke_engineer", json!({ "context": "x" })).await?;
    assert!(e.contains("task"), "{e}");

    let e = server.err("invoke_qa", json!({ "task": "t", "priority": "urgent" })).await?;
    assert!(e.contains("low, normal, high"), "{e}");

    let e = server.err("list_persona_jobs", json!({ "limit": -1 })).await?;
    assert!(e.contains("between 1 and"), "{e}");

    let e = server.err("list_persona_jobs", json!({ "status": "done" })).await?;
    assert!(e.contains("pending, running, complete, failed, cancelled"), "{e}");

    let e = server.err("invoke_nobody", json!({ "task": "t" })).await?;
    assert!(e.contains("no persona 'nobody'"), "{e}");

    let e = server.err("reset_persona_jobs", json!({})).await?;
    assert!(e.contains("confirm=true"), "{e}");

    let e = server.err("search_standards", json!({ "query": "" })).await?;
    assert!(e.contains("query is empty"), "{e}");

    // The server still answers normally afterwards.
    let id = server.invoke("engineer", json!({ "task": "review", "context": "let x = y.unwrap();" })).await?;
    let done = server.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    assert!(done["result"].as_str().unwrap().contains("unwrap() can panic"));
    server.stop().await
}
