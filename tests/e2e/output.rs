//! Text a repository or a job row controls cannot forge what the CLI
//! prints: `jobs list/show`, `standards list/proposals` and `doctor` show
//! terminal escapes, line breaks, bidirectional overrides and invisible
//! characters as escapes, in tables and in JSON alike (and the JSON still
//! parses to the original text).

use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};

use crate::support::{BIN, Server, project};

/// Characters that redraw, reorder, hide or split what a person reads.
const FORGING: [char; 8] = ['\u{1b}', '\u{9b}', '\u{7f}', '\u{202E}', '\u{2028}', '\u{2066}', '\u{200B}', '\r'];

fn run(root: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .env("AGENT_OS_STATE_DIR", crate::support::STATE_DIR)
        .arg("--project")
        .arg(root)
        .args(args)
        .output()
        .expect("running agent-os");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_clean(what: &str, out: &str) {
    for c in FORGING {
        assert!(!out.contains(c), "{what} printed {c:?} raw:\n{out}");
    }
}

#[tokio::test]
async fn planted_text_is_printed_escaped() -> Result<()> {
    let dir = project();
    let root = dir.path();
    let evil = "fix\u{1b}[2J\u{1b}[31mOK\u{202E}gnp.exe\u{2028}line\u{9b}31m\u{2066}x\u{200B}\u{7f}\r";
    // A standard whose file name and front matter carry the characters.
    let domain = root.join(".agent-os/standards/ops");
    std::fs::create_dir_all(&domain)?;
    std::fs::write(
        domain.join("evil\u{202E}dm.md"),
        format!("---\ncreated_by: \"{evil}\"\napproved_by: \"a\u{1b}[8mb\"\n---\n# Evil\n\nText.\n"),
    )?;

    let s = Server::start(root).await?;
    // A job row and a proposal's feedback.
    let job = s.invoke("security", json!({ "task": evil })).await?;
    let v = s
        .ok(
            "propose_standard",
            json!({ "domain": "ops", "topic": "t", "content": "# T\n\n## Context\nc\n\n## Pattern\np\n\n## Examples\ne\n\n## Anti-patterns\na\n" }),
        )
        .await?;
    let id = v["proposal_id"].as_str().unwrap().to_string();
    s.ok("review_standard_proposal", json!({ "id": id, "decision": "reject", "feedback": evil })).await?;
    // A title carrying them is refused at proposal time.
    let e = s
        .err(
            "propose_standard",
            json!({ "domain": "ops", "topic": "u", "title": "Evil\u{202E}", "content": "# T\n\n## Context\nc\n\n## Pattern\np\n\n## Examples\ne\n\n## Anti-patterns\na\n" }),
        )
        .await?;
    assert!(e.contains("invisible characters"), "{e}");

    let list = run(root, &["jobs", "list"]);
    assert_clean("jobs list", &list);
    assert!(list.contains("fix\\u{1b}[2J"), "{list}");
    let show = run(root, &["jobs", "show", &job]);
    assert_clean("jobs show", &show);
    let parsed: Value = serde_json::from_str(&show)?;
    assert_eq!(parsed["task"], evil.trim(), "the JSON still parses to the original (trimmed) task");

    let standards = run(root, &["standards", "list"]);
    assert_clean("standards list", &standards);
    assert!(standards.contains("evil\\u{202e}dm.md"), "{standards}");
    let standards_json = run(root, &["standards", "list", "--json"]);
    assert_clean("standards list --json", &standards_json);
    let rows: Value = serde_json::from_str(&standards_json)?;
    assert!(rows.as_array().unwrap().iter().any(|r| r["created_by"] == evil), "{rows}");

    let proposals = run(root, &["standards", "proposals"]);
    assert_clean("standards proposals", &proposals);
    assert!(proposals.contains("feedback: fix\\u{1b}[2J"), "{proposals}");
    assert_clean("standards proposals --json", &run(root, &["standards", "proposals", "--json"]));

    // A persona folder named to forge doctor's report.
    let bad = root.join(".agent-os/personas/bad\u{1b}[2J\u{202E}");
    std::fs::create_dir_all(&bad)?;
    std::fs::write(bad.join("persona.toml"), "id = \"x\u{1b}[31m\"\n")?;
    assert_clean("doctor", &run(root, &["doctor"]));
    assert_clean("doctor --json", &run(root, &["doctor", "--json"]));
    s.stop().await
}
