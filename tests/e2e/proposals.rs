//! The standards population workflow end to end: propose → list → approve →
//! file on disk → searchable; refusals (secret, path escape, template,
//! existing file) that leave nothing behind; rejection; revision of a
//! persona's proposal as a new job; search usage counted and shown by
//! `agent-os standards list --json`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{BIN, GUESTS, Server, project};

const CONTENT: &str = "# Idempotency keys\n\n## Context\nClients retry payment requests after timeouts, so the server can see the same request twice.\n\n## Pattern\nEvery mutating payment endpoint requires an Idempotency-Key header and stores the first response under that key for 24 hours.\n\n## Examples\nPOST /payments with header Idempotency-Key: 7f6c... replays the stored response on a retry.\n\n## Anti-patterns\nDeduplicating on the request body, or retrying without a key.\n";

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn standards_dir(root: &Path) -> PathBuf {
    root.join(".agent-os/standards")
}

/// `agent-os standards list --json` on the project.
fn standards_list(root: &Path) -> Result<Vec<Value>> {
    let out = std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(root)
        .args(["standards", "list", "--json"])
        .output()
        .context("running agent-os standards list")?;
    if !out.status.success() {
        bail!("standards list failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("standards list --json prints JSON")?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

fn query_count(rows: &[Value], path: &str) -> i64 {
    rows.iter().find(|r| r["path"] == path).and_then(|r| r["query_count"].as_i64()).unwrap_or(-1)
}

/// Polls the CLI until `path` has been counted `want` times.
async fn wait_query_count(root: &Path, path: &str, want: i64) -> Result<Vec<Value>> {
    let start = Instant::now();
    loop {
        let rows = standards_list(root)?;
        if query_count(&rows, path) == want {
            return Ok(rows);
        }
        if start.elapsed() > Duration::from_secs(10) {
            bail!("query_count of {path} never reached {want}: {rows:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn hit_paths(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .map(|a| a.iter().filter_map(|h| h["path"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn approved_proposal_is_written_indexed_found_and_counted() -> Result<()> {
    let dir = project();
    let s = Server::start(dir.path()).await?;
    let start = Instant::now();
    // Let the first index build finish, so the figure below is the watcher's alone.
    loop {
        let v = s.ok("search_standards", json!({ "query": "retries with backoff" })).await?;
        if v["note"].as_str().is_none_or(|n| !n.contains("still being built")) {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the first index build did not finish in 30 s: {v}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("server start → index built: {:.2} s", start.elapsed().as_secs_f64());
    let propose_at = Instant::now();

    let v = s
        .ok(
            "propose_standard",
            json!({ "domain": "payments", "topic": "idempotency-keys", "content": CONTENT, "tags": ["payments", "retries"] }),
        )
        .await?;
    assert_eq!(v["status"], "pending", "{v}");
    assert_eq!(v["target_path"], ".agent-os/standards/payments/idempotency-keys.md");
    assert_eq!(v["title"], "Idempotency keys", "the title comes from the heading: {v}");
    let id = v["proposal_id"].as_str().context("proposal_id")?.to_string();
    assert!(!standards_dir(dir.path()).join("payments").exists(), "nothing is written before approval");

    let list = s.ok("list_standard_proposals", json!({ "status": "pending" })).await?;
    let row =
        list["proposals"].as_array().unwrap().iter().find(|p| p["proposal_id"] == id.as_str()).context("listed")?;
    assert_eq!(row["proposed_by"], "agent");
    assert_eq!(row["content"], CONTENT);
    assert_eq!(row["target_exists"], false);
    assert_eq!(list["total_count"], 1);

    // A person approves from the terminal (this client cannot show a form).
    let approved_at = Instant::now();
    let out = cli(dir.path(), &["standards", "review", &id, "approve", "--reviewer", "alice"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("approved by alice: wrote .agent-os/standards/payments/idempotency-keys.md"), "{said}");
    let file = standards_dir(dir.path()).join("payments/idempotency-keys.md");
    let text = std::fs::read_to_string(&file)?;
    for line in [
        "domain: payments",
        "topic: idempotency-keys",
        "tags: [payments, retries]",
        "created_by: \"agent\"",
        "approved_by: \"alice\"",
        &format!("proposal_id: {id}"),
    ] {
        assert!(text.lines().any(|l| l == line), "front matter line '{line}' missing:\n{text}");
    }
    assert!(text.starts_with("---\n") && text.contains("\n---\n\n# Idempotency keys\n"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("created_at: 20") && l.ends_with('Z')), "{text}");
    assert_eq!(
        files_under(&standards_dir(dir.path())),
        vec!["payments/idempotency-keys.md"],
        "no temporary file remains"
    );

    // The watcher indexes it; search_standards finds it.
    let path = ".agent-os/standards/payments/idempotency-keys.md";
    let query = "how do we make payment retries idempotent";
    loop {
        let v = s.ok("search_standards", json!({ "query": query })).await?;
        if hit_paths(&v).iter().any(|p| p == path) {
            let hit = v["results"].as_array().unwrap().iter().find(|h| h["path"] == path).unwrap();
            assert_eq!(hit["domain"], "payments", "{hit}");
            break;
        }
        if propose_at.elapsed() > Duration::from_secs(30) {
            bail!("the approved standard was not searchable within 30 s: {v}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "propose → searchable: {:.2} s; approve → searchable: {:.2} s",
        propose_at.elapsed().as_secs_f64(),
        approved_at.elapsed().as_secs_f64()
    );

    // A second decision on the same proposal is refused.
    let e = s.err("review_standard_proposal", json!({ "id": id, "decision": "reject" })).await?;
    assert!(e.contains("already approved"), "{e}");
    let v = s.ok("list_standard_proposals", json!({ "status": "approved" })).await?;
    assert_eq!(v["proposals"][0]["approved_by"], "alice");
    assert_eq!(v["proposals"][0]["written_path"], path);

    // Usage: every search that returned it counted once; one more adds one.
    let rows = wait_query_count_at_least(dir.path(), path, 1).await?;
    let before = query_count(&rows, path);
    let row = rows.iter().find(|r| r["path"] == path).unwrap();
    assert_eq!(row["domain"], "payments");
    assert_eq!(row["created_by"], "agent");
    assert_eq!(row["approved_by"], "alice");
    assert!(row["last_queried"].as_str().is_some_and(|t| t.ends_with('Z')), "{row}");
    let v = s.ok("search_standards", json!({ "query": query })).await?;
    assert!(hit_paths(&v).iter().any(|p| p == path));
    wait_query_count(dir.path(), path, before + 1).await?;
    s.stop().await
}

async fn wait_query_count_at_least(root: &Path, path: &str, min: i64) -> Result<Vec<Value>> {
    let start = Instant::now();
    loop {
        let rows = standards_list(root)?;
        if query_count(&rows, path) >= min {
            return Ok(rows);
        }
        if start.elapsed() > Duration::from_secs(10) {
            bail!("query_count of {path} stayed below {min}: {rows:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn refusals_and_rejections_leave_nothing_on_disk() -> Result<()> {
    let dir = project();
    let existing = standards_dir(dir.path()).join("payments/refunds.md");
    std::fs::create_dir_all(existing.parent().unwrap())?;
    std::fs::write(&existing, "# Refunds\n\nThe team's own text.\n")?;
    let s = Server::start(dir.path()).await?;

    // A secret on line 7: refused at proposal time, naming the line; nothing stored.
    let mut lines: Vec<&str> = CONTENT.lines().collect();
    lines.insert(6, "export AWS_ACCESS_KEY_ID=AKIAQ3EGX7LMZR2UBK4T");
    let with_secret = lines.join("\n");
    let e = s.err("propose_standard", json!({ "domain": "payments", "topic": "keys", "content": with_secret })).await?;
    assert!(e.contains("line 7") && e.contains("AWS access key id"), "{e}");
    assert!(!e.contains("Q3EGX7LMZR2UBK4T"), "the secret is not echoed: {e}");

    // Names that would leave the standards folder.
    for (domain, topic) in [
        ("payments", "../../x"),
        ("../../x", "t"),
        ("/etc", "passwd"),
        ("payments", "a/b"),
        ("payments", ".."),
        ("", "t"),
    ] {
        let e = s.err("propose_standard", json!({ "domain": domain, "topic": topic, "content": CONTENT })).await?;
        assert!(e.contains("domain") || e.contains("topic"), "{domain}/{topic}: {e}");
    }
    let e = s.err("propose_standard", json!({ "domain": "payments", "topic": "../../x", "content": CONTENT })).await?;
    assert!(e.contains("path separator or '..'"), "{e}");

    // Content that does not follow the template says what is missing.
    let e = s
        .err("propose_standard", json!({ "domain": "payments", "topic": "t", "content": "# T\n\n## Context\nWhy.\n" }))
        .await?;
    assert!(e.contains("Pattern, Examples, Anti-patterns"), "{e}");

    let v = s.ok("list_standard_proposals", json!({})).await?;
    assert_eq!(v["total_count"], 0, "refused proposals are not stored: {v}");

    // Reject: feedback kept, nothing written.
    let id = s
        .ok("propose_standard", json!({ "domain": "payments", "topic": "chargebacks", "content": CONTENT }))
        .await?["proposal_id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = s
        .ok(
            "review_standard_proposal",
            json!({ "id": id, "decision": "reject", "feedback": "We do not own chargebacks" }),
        )
        .await?;
    assert_eq!(v["status"], "rejected");
    assert_eq!(v["feedback"], "We do not own chargebacks");
    assert!(v["message"].as_str().unwrap().contains("nothing was written"), "{v}");
    let e = s.err("review_standard_proposal", json!({ "id": id, "decision": "approve" })).await?;
    assert!(e.contains("already rejected"), "{e}");

    // An approval whose edit adds a secret is refused and the proposal stays pending.
    let id = s.ok("propose_standard", json!({ "domain": "payments", "topic": "webhooks", "content": CONTENT })).await?
        ["proposal_id"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = format!("{CONTENT}\nwebhook_url = https://hooks:Sup3rSecretPw@pay.example.org/in\n");
    let e =
        s.err("review_standard_proposal", json!({ "id": id, "decision": "approve", "edited_content": edited })).await?;
    let line = edited.lines().count();
    assert!(e.contains(&format!("line {line}")) && e.contains("password inside a URL"), "{e}");
    let v = s.ok("list_standard_proposals", json!({ "status": "pending" })).await?;
    assert_eq!(v["proposals"][0]["proposal_id"], id.as_str());

    // Unknown ids and decisions.
    let e = s.err("review_standard_proposal", json!({ "id": "nope", "decision": "approve" })).await?;
    assert!(e.contains("no proposal with id 'nope'"), "{e}");
    let e = s.err("review_standard_proposal", json!({ "id": id, "decision": "maybe" })).await?;
    assert!(e.contains("approve, revise or reject"), "{e}");

    // An existing standard is not replaced without overwrite=true.
    let v = s.ok("propose_standard", json!({ "domain": "payments", "topic": "refunds", "content": CONTENT })).await?;
    assert!(v["message"].as_str().unwrap().contains("overwrite=true"), "{v}");
    let id = v["proposal_id"].as_str().unwrap().to_string();
    let e = s.err("review_standard_proposal", json!({ "id": id, "decision": "approve" })).await?;
    assert!(e.contains("already exists") && e.contains("overwrite=true"), "{e}");
    assert_eq!(std::fs::read_to_string(&existing)?, "# Refunds\n\nThe team's own text.\n");
    assert_eq!(files_under(&standards_dir(dir.path())), vec!["payments/refunds.md"], "nothing else was written");
    assert!(!dir.path().join(".agent-os/x.md").exists() && !dir.path().join("x.md").exists());

    // With overwrite=true the agent is still told that a person approves, and how.
    let e = s.err("review_standard_proposal", json!({ "id": id, "decision": "approve", "overwrite": true })).await?;
    assert!(e.contains(&format!("`agent-os standards review {id} approve --overwrite`")), "{e}");
    assert_eq!(std::fs::read_to_string(&existing)?, "# Refunds\n\nThe team's own text.\n");
    let out = cli(dir.path(), &["standards", "review", &id, "approve", "--overwrite", "--reviewer", "bob"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&existing)?;
    assert!(text.contains("approved_by: \"bob\"") && text.contains("## Anti-patterns"), "{text}");
    assert_eq!(files_under(&standards_dir(dir.path())), vec!["payments/refunds.md"]);
    s.stop().await
}

/// Installs the proposing test guest as persona `id`, with or without
/// `propose`, and trusts it.
fn install_proposer(root: &Path, id: &str, propose: bool) {
    let wasm = std::fs::read(Path::new(GUESTS).join("agent_os_test_proposer.wasm"))
        .expect("test guest built by host/build.rs");
    let dir = root.join(".agent-os/personas").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("proposer.wasm"), &wasm).unwrap();
    let sha = hex::encode(Sha256::digest(&wasm));
    std::fs::write(
        dir.join("persona.toml"),
        format!(
            "id = \"{id}\"\nname = \"Test {id}\"\nversion = \"0.1.0\"\napi = \"0.1\"\nkind = \"specialist\"\ndomain = \"testing\"\ndescription = \"Proposes a standard.\"\ncomponent = \"proposer.wasm\"\nsha256 = \"{sha}\"\n\n[capabilities]\nsearch = true\npropose = {propose}\n"
        ),
    )
    .unwrap();
    crate::support::trust(root, &[]);
}

#[tokio::test]
async fn persona_proposals_and_revision_as_a_new_job() -> Result<()> {
    let dir = project();
    install_proposer(dir.path(), "proposer", true);
    install_proposer(dir.path(), "silent", false);
    let s = Server::start(dir.path()).await?;
    let limit = Duration::from_secs(60);

    // The persona proposes through the host function.
    let job = s.invoke("proposer", json!({ "task": "topic=flaky-tests", "context": "tests/retry.rs" })).await?;
    let done = s.wait(&job, limit).await?;
    assert_eq!(done["status"], "complete", "{done}");
    assert!(done["result"].as_str().unwrap().contains("proposed standard testing/flaky-tests"), "{done}");
    assert!(done["tool_calls_made"].as_i64().unwrap() >= 1, "{done}");
    let v = s.ok("list_standard_proposals", json!({ "status": "pending" })).await?;
    let first = v["proposals"][0].clone();
    assert_eq!(first["proposed_by"], "proposer");
    assert_eq!(first["job_id"], job.as_str());
    assert_eq!(first["title"], "Flaky test budget");
    let first_id = first["proposal_id"].as_str().unwrap().to_string();

    // Revise: the feedback is stored and the persona runs again as a new job.
    let feedback = "Name the logger that records each retry";
    let v =
        s.ok("review_standard_proposal", json!({ "id": first_id, "decision": "revise", "feedback": feedback })).await?;
    assert_eq!(v["status"], "revised", "{v}");
    let revision_job = v["revision_job_id"].as_str().context("revision_job_id")?.to_string();
    assert_ne!(revision_job, job);
    let done = s.wait(&revision_job, limit).await?;
    assert_eq!(done["status"], "complete", "{done}");
    let jobs = s.ok("list_persona_jobs", json!({ "persona": "proposer" })).await?;
    assert_eq!(jobs["total_count"], 2, "{jobs}");
    let v = s.ok("list_standard_proposals", json!({ "status": "pending" })).await?;
    let second = &v["proposals"][0];
    assert_eq!(second["job_id"], revision_job.as_str(), "{v}");
    assert!(second["content"].as_str().unwrap().contains(feedback), "the revision saw the feedback: {second}");
    let v = s.ok("list_standard_proposals", json!({ "status": "revised" })).await?;
    assert_eq!(v["proposals"][0]["proposal_id"], first_id.as_str());
    assert_eq!(v["proposals"][0]["feedback"], feedback);
    let e = s.err("review_standard_proposal", json!({ "id": second["proposal_id"], "decision": "revise" })).await?;
    assert!(e.contains("needs feedback"), "{e}");

    // A delegated proposal sent back starts no job.
    let id = s.ok("propose_standard", json!({ "domain": "testing", "topic": "fixtures", "content": CONTENT })).await?["proposal_id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = s.ok("review_standard_proposal", json!({ "id": id, "decision": "revise", "feedback": "shorter" })).await?;
    assert!(v["revision_job_id"].is_null() && v["message"].as_str().unwrap().contains("propose_standard again"), "{v}");

    // The host checks what a persona proposes: a secret, another domain, no capability.
    let job = s.invoke("proposer", json!({ "task": "topic=keys example=key = AKIAQ3EGX7LMZR2UBK4T" })).await?;
    let done = s.wait(&job, limit).await?;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["error"].as_str().unwrap().contains("line 10: an AWS access key id"), "{done}");
    let job = s.invoke("proposer", json!({ "task": "topic=tls domain=security" })).await?;
    let done = s.wait(&job, limit).await?;
    assert!(done["error"].as_str().unwrap().contains("only in its own domain 'testing'"), "{done}");
    let job = s.invoke("silent", json!({ "task": "topic=quiet" })).await?;
    let done = s.wait(&job, limit).await?;
    assert!(done["error"].as_str().unwrap().contains("not granted the 'propose' capability"), "{done}");
    let v = s.ok("list_standard_proposals", json!({ "limit": 100 })).await?;
    assert_eq!(v["total_count"], 3, "refused persona proposals are not stored: {v}");
    assert!(!standards_dir(dir.path()).exists() || files_under(&standards_dir(dir.path())).is_empty());
    s.stop().await
}

/// An MCP client that supports form elicitation and answers each approval
/// form from a script: `Some(decision)` accepts with that decision, `None`
/// declines. It keeps the messages it was shown.
#[derive(Clone, Default)]
struct Reviewer {
    script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Option<&'static str>>>>,
    shown: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl rmcp::ClientHandler for Reviewer {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        let mut info = rmcp::model::ClientConfig::default();
        info.capabilities.elicitation = Some(rmcp::model::ElicitationCapability::default());
        info
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
        if let ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } = &request {
            let schema = serde_json::to_string(requested_schema).unwrap_or_default();
            self.shown.lock().unwrap().push(format!("{message}\n{schema}"));
        }
        let next = self.script.lock().unwrap().pop_front().flatten();
        Ok(match next {
            Some(decision) => ElicitResult::new(ElicitationAction::Accept)
                .with_content(json!({ "decision": decision, "feedback": "looks right" })),
            None => ElicitResult::new(ElicitationAction::Decline),
        })
    }
}

#[tokio::test]
async fn a_client_with_elicitation_approves_in_the_same_call() -> Result<()> {
    use rmcp::ServiceExt;
    let dir = project();
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let mut child = tokio::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(dir.path())
        .arg("serve")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::from(log))
        .kill_on_drop(true)
        .spawn()?;
    let (stdout, stdin) = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let reviewer = Reviewer::default();
    reviewer.script.lock().unwrap().extend([Some("approve"), None]);
    let client = reviewer.clone().serve((stdout, stdin)).await?;
    let call = |args: Value| {
        let Value::Object(map) = args else { unreachable!() };
        client.call_tool(rmcp::model::CallToolRequestParams::new("propose_standard").with_arguments(map))
    };

    // Accepted with "approve": written before the tool call returns.
    let r = call(json!({ "domain": "payments", "topic": "idempotency-keys", "content": CONTENT })).await?;
    let v = r.structured_content.clone().context("structured")?;
    assert_eq!(v["status"], "approved", "{v}");
    assert_eq!(v["elicitation"], "approve");
    let text = std::fs::read_to_string(standards_dir(dir.path()).join("payments/idempotency-keys.md"))?;
    assert!(text.contains("created_by: \"agent\"") && text.contains("## Anti-patterns"), "{text}");
    let shown = reviewer.shown.lock().unwrap()[0].clone();
    assert!(shown.contains("Idempotency keys") && shown.contains("Deduplicating on the request body"), "{shown}");
    assert!(shown.contains("\"approve\"") && shown.contains("\"reject\""), "the form offers the decisions: {shown}");

    // Declined: the proposal stays pending for review_standard_proposal.
    let r = call(json!({ "domain": "payments", "topic": "refunds", "content": CONTENT })).await?;
    let v = r.structured_content.clone().context("structured")?;
    assert_eq!((v["status"].as_str(), v["elicitation"].as_str()), (Some("pending"), Some("declined")), "{v}");
    assert!(!standards_dir(dir.path()).join("payments/refunds.md").exists());
    let _ = client.cancel().await;
    Ok(())
}

fn cli(root: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(root)
        .args(args)
        .output()
        .expect("running agent-os")
}

#[tokio::test]
async fn a_person_at_the_terminal_reviews_with_the_cli() -> Result<()> {
    let dir = project();
    let s = Server::start(dir.path()).await?;
    let propose = |topic: &'static str| {
        s.ok("propose_standard", json!({ "domain": "payments", "topic": topic, "content": CONTENT }))
    };
    let a = propose("ledger").await?["proposal_id"].as_str().unwrap().to_string();
    let b = propose("payouts").await?["proposal_id"].as_str().unwrap().to_string();

    let out = cli(dir.path(), &["standards", "proposals", "--status", "pending"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains(&a) && text.contains("payments/payouts"), "{text}");

    // An edit holding a secret is refused with the line, and nothing is written.
    let edit = dir.path().join("edit.md");
    std::fs::write(&edit, "# Ledger\n\n## Context\nx\n\napi_key = \"9f8e7d6c5b4a\"\n")?;
    let out = cli(dir.path(), &["standards", "review", &a, "approve", "--edited", edit.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("line 6"), "{err}");
    assert!(!standards_dir(dir.path()).join("payments").exists());

    let out = cli(dir.path(), &["standards", "review", &a, "approve", "--reviewer", "carol"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(standards_dir(dir.path()).join("payments/ledger.md"))?;
    assert!(text.contains("approved_by: \"carol\""), "{text}");
    let out = cli(dir.path(), &["standards", "review", &b, "reject", "--feedback", "not ours"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The server sees the decisions made from the terminal.
    let v = s.ok("list_standard_proposals", json!({})).await?;
    let status = |id: &str| {
        v["proposals"].as_array().unwrap().iter().find(|p| p["proposal_id"] == id).unwrap()["status"].clone()
    };
    assert_eq!((status(&a), status(&b)), (json!("approved"), json!("rejected")), "{v}");
    let rows = standards_list(dir.path())?;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["approved_by"], "carol");
    assert_eq!(rows[0]["query_count"], 0);
    s.stop().await
}
