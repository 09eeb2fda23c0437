//! Each core persona's own analysis, end to end: a small Rust crate on
//! disk, its files named by bare paths in the context (so the persona reads
//! them through the host's read-file), no language model configured, and the
//! persona's specific finding — with the file it is in — in the result.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::support::{Server, project};

/// The crate: `orders` has tests and an unwrap, `billing` has no tests,
/// the two import each other, `client` builds a reqwest client without a
/// timeout, and a migration drops a column.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nreqwest = \"0.12\"\n",
    ),
    ("src/lib.rs", "pub mod billing;\npub mod client;\npub mod orders;\n"),
    (
        "src/orders.rs",
        "use crate::billing::Invoice;\n\npub struct Order {\n    pub total: u32,\n}\n\npub fn parse(s: &str) -> Order {\n    Order { total: s.trim().parse().unwrap() }\n}\n\npub fn invoice(o: &Order) -> Invoice {\n    Invoice { amount: o.total }\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn parses_a_total() {\n        assert_eq!(parse(\" 7 \").total, 7);\n    }\n}\n",
    ),
    (
        "src/billing.rs",
        "use crate::orders::Order;\n\npub struct Invoice {\n    pub amount: u32,\n}\n\npub fn due(o: &Order) -> u32 {\n    o.total\n}\n",
    ),
    ("src/client.rs", "pub fn client() -> reqwest::Client {\n    reqwest::Client::new()\n}\n"),
    // Named only in the security review's context.
    (
        "scripts/deploy.py",
        "import subprocess\n\naws_secret_access_key = \"q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z\"\n\ndef deploy(host):\n    subprocess.run(\"ssh \" + host, shell=True)\n",
    ),
    (
        "migrations/0002_drop_legacy_email.sql",
        "-- the column moved to contacts\nALTER TABLE users DROP COLUMN legacy_email;\n",
    ),
];

/// The context every persona gets: bare paths only.
const CONTEXT: &str = "Please review these files:\n\nsrc/lib.rs\nsrc/orders.rs\nsrc/billing.rs\nsrc/client.rs\nmigrations/0002_drop_legacy_email.sql\nsrc/gone.rs\n";

fn write_crate(root: &Path) {
    for (path, text) in FILES {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Runs `persona` on the crate and returns its result markdown.
async fn review(server: &Server, persona: &str) -> Result<String> {
    let id = server.invoke(persona, json!({ "task": "review the shop crate", "context": CONTEXT })).await?;
    let done = server.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{persona}: {done}");
    let result = done["result"].as_str().unwrap_or_default().to_string();
    eprintln!("----- {persona} -----\n{}", result.split("## Persona instructions").next().unwrap_or_default());
    assert!(result.contains("delegated brief"), "{persona}: no LLM is configured: {result}");
    assert!(result.contains("## Findings from automated checks"), "{persona}: {result}");
    assert!(
        result.contains("`src/gone.rs` (named in the context but could not be read"),
        "{persona}: a path that does not exist is reported: {result}"
    );
    assert!(result.contains("**Coverage:** "), "{persona}: the brief says what the checks looked at: {result}");
    assert!(
        result.contains("**Coverage:** Checks run ("),
        "{persona}: the coverage line names the checks that ran: {result}"
    );
    Ok(result)
}

/// The brief's length in tokens, counted with the all-MiniLM-L6-v2
/// tokenizer as prompts.rs does, or approximated as characters / 4 when the
/// tokenizer is not installed; the second value says which.
pub(crate) fn brief_tokens(text: &str) -> (usize, &'static str) {
    let file = agent_os::rag::ModelPaths::from_env().ok().map(|p| p.model_dir.join("tokenizer.json"));
    if let Some(file) = file.filter(|f| f.is_file())
        && let Ok(mut tok) = tokenizers::Tokenizer::from_file(&file)
        && tok.with_truncation(None).is_ok()
    {
        tok.with_padding(None);
        if let Ok(enc) = tok.encode(text, true) {
            return (enc.len(), "MiniLM tokens");
        }
    }
    (text.chars().count().div_ceil(4), "chars/4")
}

#[tokio::test]
async fn each_core_persona_shows_its_own_analysis_of_files_read_from_the_project() -> Result<()> {
    let dir = project();
    write_crate(dir.path());
    let server = Server::start(dir.path()).await?;
    server.wait_indexed("schema migrations rollback", "universal/data/schema-migrations.md").await?;

    // QA: billing.rs and client.rs have no tests; orders.rs has a test module.
    let qa = review(&server, "qa").await?;
    assert!(qa.contains("No tests for `src/billing.rs`"), "{qa}");
    assert!(qa.contains("`tests/billing.rs`"), "the test files looked for are named: {qa}");
    assert!(qa.contains("No tests for `src/client.rs`"), "{qa}");
    assert!(!qa.contains("No tests for `src/orders.rs`"), "orders.rs has tests: {qa}");
    assert!(!qa.contains("No tests for `src/lib.rs`"), "lib.rs only declares modules: {qa}");

    // SRE: the reqwest client has no timeout, on line 2 of client.rs.
    let sre = review(&server, "sre").await?;
    assert!(sre.contains("`src/client.rs:2`: HTTP client without a timeout."), "{sre}");
    // The standards search also looks for what the checks found.
    assert!(sre.contains("`universal/error-handling/retries-and-timeouts.md`"), "{sre}");

    // Engineer: the unwrap in orders.rs (line 8), not the one in its tests.
    let engineer = review(&server, "engineer").await?;
    assert!(engineer.contains("`src/orders.rs:8`: unwrap() can panic: 1."), "{engineer}");
    assert!(engineer.contains("Line 8."), "{engineer}");

    // Data: the migration drops a column, named with its table.
    let data = review(&server, "data").await?;
    assert!(data.contains("`migrations/0002_drop_legacy_email.sql:2`: Destructive migration: DROP COLUMN."), "{data}");
    assert!(data.contains("`users.legacy_email`"), "{data}");
    assert!(data.contains("`universal/data/schema-migrations.md`"), "{data}");

    // Architect: the module graph, and the orders ↔ billing cycle with its files.
    let architect = review(&server, "architect").await?;
    assert!(architect.contains("## Module dependencies\n\n4 modules"), "{architect}");
    assert!(architect.contains("| `orders` | src/orders.rs | `billing`"), "{architect}");
    assert!(architect.contains("Dependency cycle: billing → orders → billing"), "{architect}");
    assert!(architect.contains("`billing` in src/billing.rs, `orders` in src/orders.rs"), "{architect}");

    // Security: the secret and the shell call in a file named only by its path.
    let id = server
        .invoke("security", json!({ "task": "review the deploy script", "context": "scripts/deploy.py" }))
        .await?;
    let done = server.wait(&id, Duration::from_secs(120)).await?;
    assert_eq!(done["status"], "complete", "{done}");
    let security = done["result"].as_str().unwrap_or_default();
    assert!(security.contains("`scripts/deploy.py:3`: Hard-coded secret: AWS secret access key."), "{security}");
    assert!(security.contains("`scripts/deploy.py:6`: Shell command built at run time."), "{security}");
    assert!(
        !security.contains("q8Lr0Xf3Tn2EMI/K7MDENG/bPxRfiCYzW1x9Ab4z"),
        "the result never repeats the secret: {security}"
    );

    // Brief length over the six personas (the target: a mean of at
    // most 1,500 tokens).
    let briefs = [&qa, &sre, &engineer, &data, &architect, &security.to_string()];
    let (mut total, mut exact) = (0, true);
    for (name, b) in ["qa", "sre", "engineer", "data", "architect", "security"].iter().zip(briefs) {
        let (n, unit) = brief_tokens(b);
        eprintln!("brief length {name:<10} {n:>5} {unit}");
        total += n;
        exact &= unit == "MiniLM tokens";
    }
    let mean = total / 6;
    eprintln!("brief length mean {mean:>5}");
    if exact {
        assert!(mean <= 1_500, "the mean brief is {mean} tokens; the target is at most 1,500");
    }

    server.stop().await
}
