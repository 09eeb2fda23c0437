//! `agent-os trust [--yes] [--revoke] [--list] [--json]`: shows exactly what a
//! project ships that could run or spend anything, and records the user's
//! trust in that content.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::{Value, json};

use super::{Content, Item, ProjectTrust, Status, Store, TrustError, check_with};
use crate::llm::config as llm_config;
use crate::project::Project;
use crate::text::escape;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrustArgs {
    /// Trust without asking (read the summary first); for scripts.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Forget what you trusted in this project: its personas and [llm] stop being used.
    #[arg(long, conflicts_with_all = ["yes", "list"])]
    pub revoke: bool,
    /// Every project you have trusted: where, when, by whom, how many items.
    #[arg(long, conflicts_with = "yes")]
    pub list: bool,
    /// Print JSON; without --yes nothing is trusted.
    #[arg(long)]
    pub json: bool,
}

/// Runs one `trust` command, printing to stdout.
pub fn run(project: &Project, args: TrustArgs) -> Result<(), TrustError> {
    let store = Store::user()?;
    if args.list {
        return list(&store, args.json);
    }
    if args.revoke {
        let had = store.revoke(project.root())?;
        let root = escape(&project.root().display().to_string()).into_owned();
        if args.json {
            println!("{}", json!({ "root": root, "revoked": had }));
        } else if had {
            println!("revoked: nothing {root} ships is trusted any more (its personas and [llm] are not used)");
        } else {
            println!("nothing was trusted in {root}");
        }
        return Ok(());
    }
    let trust = check_with(project, Ok(store.clone()));
    let pending: Vec<&Item> = trust.untrusted().collect();
    if args.json && !args.yes {
        println!("{}", to_pretty(&summary_json(&trust, false)));
        return Ok(());
    }
    if !args.json {
        print!("{}", summary(&trust));
    }
    if pending.is_empty() {
        if args.json {
            println!("{}", to_pretty(&summary_json(&trust, false)));
        } else if trust.items().is_empty() {
            println!("Nothing to trust: this project ships no personas and no [llm] settings.");
        } else {
            println!("Nothing new to trust: everything readable that this project ships is trusted.");
        }
        return Ok(());
    }
    if !args.yes {
        confirm(&trust, pending.len())?;
    }
    let (path, record) = trust.trust_all(&store)?;
    if args.json {
        let mut v = summary_json(&trust, true);
        v["record"] = json!(path.display().to_string());
        println!("{}", to_pretty(&v));
        return Ok(());
    }
    println!(
        "Trusted {} item(s) of {}, as {} (record: {}).",
        record.items.len(),
        escape(&trust.root.display().to_string()),
        escape(&record.trusted_by),
        path.display()
    );
    println!(
        "A running agent-os server picks up trusted personas at once; restart it (or reload it in your MCP client) for trusted [llm] settings."
    );
    println!("If any of this content changes, it is untrusted again until you run `agent-os trust` again.");
    Ok(())
}

fn to_pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Asks on the terminal; refuses when there is none to ask on.
fn confirm(trust: &ProjectTrust, n: usize) -> Result<(), TrustError> {
    if !std::io::stdin().is_terminal() {
        return Err(TrustError::NeedsConfirmation { root: super::shell_word(&trust.root.to_string_lossy()) });
    }
    print!("Trust these {n} item(s) for this project, with exactly the grants and settings shown? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|source| TrustError::Io { path: "stdin".into(), source })?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(TrustError::Declined),
    }
}

fn list(store: &Store, json_out: bool) -> Result<(), TrustError> {
    let records = store.list()?;
    if json_out {
        let rows: Vec<Value> = records
            .iter()
            .map(|(path, r)| match r {
                Ok(r) => json!({
                    "record": path.display().to_string(),
                    "root": r.root,
                    "root_exists": std::path::Path::new(&r.root).is_dir(),
                    "trusted_by": r.trusted_by,
                    "trusted_at": r.trusted_at,
                    "items": r.items,
                }),
                Err(e) => json!({ "record": path.display().to_string(), "error": e }),
            })
            .collect();
        println!("{}", to_pretty(&Value::Array(rows)));
        return Ok(());
    }
    if records.is_empty() {
        println!("You have trusted no project (records live in {}).", store.dir().display());
        return Ok(());
    }
    for (path, r) in &records {
        match r {
            Ok(r) => {
                let gone = if std::path::Path::new(&r.root).is_dir() { "" } else { " (folder gone)" };
                let items: Vec<String> = r.items.keys().map(|k| escape(k).into_owned()).collect();
                println!(
                    "{}{gone}\n  trusted {} by {}: {}",
                    escape(&r.root),
                    escape(&r.trusted_at),
                    escape(&r.trusted_by),
                    if items.is_empty() { "nothing".to_string() } else { items.join(", ") }
                );
            }
            Err(e) => println!("{}: {}", path.display(), escape(e)),
        }
    }
    println!("{} record(s) in {}", records.len(), store.dir().display());
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The human-readable summary: every item, its status, and exactly what
/// trusting it allows. Everything that came from the repository is escaped.
pub fn summary(trust: &ProjectTrust) -> String {
    let mut out = String::new();
    let root = escape(&trust.root.display().to_string()).into_owned();
    out.push_str(&format!("Project {root}\n"));
    match &trust.record_path {
        Ok(p) => out.push_str(&format!("Trust record: {}\n", p.display())),
        Err(e) => out.push_str(&format!("Trust record: none can be kept ({e})\n")),
    }
    if let Some(p) = &trust.problem {
        out.push_str(&format!("note: the existing record cannot be used: {}\n", escape(p)));
    }
    out.push('\n');
    if trust.items().is_empty() {
        return out;
    }
    out.push_str(
        "What this project ships that can run or spend (standards are always searched as text and need no trust):\n\n",
    );
    for item in trust.items() {
        match &item.content {
            Content::Persona(files) => persona_text(&mut out, item, files),
            Content::Config(bytes) => config_text(&mut out, item, bytes),
            Content::Unreadable(why) => out.push_str(&format!(
                "{} — cannot be read, never used\n  path        {}\n  why         {}\n\n",
                escape(&item.key),
                escape(&item.path.display().to_string()),
                escape(why)
            )),
        }
    }
    out
}

fn persona_text(out: &mut String, item: &Item, files: &crate::personas::PersonaFiles) {
    let m = &files.manifest;
    let c = &m.capabilities;
    let files_granted =
        if c.read_files.is_empty() { "no".to_string() } else { escape(&c.read_files.join(", ")).into_owned() };
    out.push_str(&format!("persona {} — {}\n", escape(&m.id), item.status.as_str()));
    out.push_str(&format!(
        "  name        {} {} ({}, domain {})\n",
        escape(&m.name),
        escape(&m.version),
        m.kind.as_str(),
        escape(&m.domain)
    ));
    out.push_str(&format!("  says        {}\n", crate::text::escape_short(&m.description, 200)));
    out.push_str(&format!("  folder      {}\n", escape(&item.path.display().to_string())));
    out.push_str(&format!("  tool        {}\n", m.tool_name()));
    out.push_str(&format!(
        "  grants      search standards: {}; propose standards: {}; ask the language model: {}; read project files: {files_granted}\n",
        yes_no(c.search),
        yes_no(c.propose),
        yes_no(c.llm)
    ));
    out.push_str(&format!("  limits      memory-mb {}, timeout-s {}\n", m.limits.memory_mb, m.limits.timeout_s));
    out.push_str(&format!("  component   {} sha256 {}\n", escape(&m.component), files.component_sha256()));
    if crate::personas::CORE_IDS.contains(&m.id.as_str()) {
        out.push_str("  warning     it has the id of a built-in persona; it will not load\n");
    }
    if let Some(pinned) = &m.sha256
        && !pinned.eq_ignore_ascii_case(&files.component_sha256())
    {
        out.push_str(&format!("  warning     the manifest pins sha256 {}; it will not load\n", escape(pinned)));
    }
    out.push_str(&format!(
        "  content     sha256 {} (persona.toml, component, prompt.md)\n\n",
        item.sha256.as_deref().unwrap_or("-")
    ));
}

/// The project's `[llm]` table as written (parsed: inline tables and dotted keys included).
fn written_llm(bytes: &[u8]) -> Vec<(String, String)> {
    let Ok(table) = String::from_utf8_lossy(bytes).parse::<toml::Table>() else {
        return Vec::new();
    };
    match table.get("llm") {
        Some(toml::Value::Table(t)) => t
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        Some(other) => vec![("llm".into(), other.to_string())],
        None => Vec::new(),
    }
}

/// What the project's `[llm]` would do once trusted, in this environment.
fn effective_llm(item: &Item, bytes: &[u8]) -> Result<Option<llm_config::LlmConfig>, String> {
    let user = llm_config::read_user_file().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(bytes).into_owned();
    llm_config::load_with(
        user.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        Some((item.path.as_path(), text.as_str())),
        |k| std::env::var(k).ok(),
    )
    .map_err(|e| e.to_string())
}

fn config_text(out: &mut String, item: &Item, bytes: &[u8]) {
    out.push_str(&format!("[llm] in {} — {}\n", escape(&item.path.display().to_string()), item.status.as_str()));
    let written: Vec<String> =
        written_llm(bytes).iter().map(|(k, v)| format!("{} = {}", escape(k), escape(v))).collect();
    out.push_str(&format!(
        "  written     {}\n",
        if written.is_empty() { "(empty)".into() } else { written.join(", ") }
    ));
    match effective_llm(item, bytes) {
        Ok(Some(c)) => {
            let whose = |l: llm_config::Layer| match l {
                llm_config::Layer::Project => "the project's",
                llm_config::Layer::User => "yours",
                llm_config::Layer::Default => "built-in",
            };
            out.push_str(&format!("  provider    {}\n", c.provider));
            out.push_str(&format!("  endpoint    {} ({})\n", escape(&c.endpoint()), whose(c.layer)));
            out.push_str(&format!("  model       {}\n", escape(&c.model)));
            match &c.api_key_env {
                Some(var) => out.push_str(&format!(
                    "  key         the value of the variable {} is sent to that endpoint\n",
                    escape(var)
                )),
                None => out.push_str("  key         none is sent\n"),
            }
        }
        Ok(None) => out.push_str("  provider    none: no language model is used\n"),
        Err(e) => out.push_str(&format!("  after trust these settings are refused: {}\n", escape(&e))),
    }
    out.push_str(&format!("  content     sha256 {} (the whole file)\n\n", item.sha256.as_deref().unwrap_or("-")));
}

/// The same summary as JSON.
pub fn summary_json(trust: &ProjectTrust, trusted_now: bool) -> Value {
    let items: Vec<Value> = trust
        .items()
        .iter()
        .map(|item| {
            let status = if trusted_now && item.sha256.is_some() { Status::Trusted } else { item.status };
            let mut v = json!({
                "key": item.key,
                "kind": item.kind,
                "status": status,
                "path": item.path.display().to_string(),
                "sha256": item.sha256,
            });
            match &item.content {
                Content::Persona(files) => {
                    let m = &files.manifest;
                    v["persona"] = json!({
                        "id": m.id,
                        "name": m.name,
                        "version": m.version,
                        "tool": m.tool_name(),
                        "grants": {
                            "search": m.capabilities.search,
                            "propose": m.capabilities.propose,
                            "llm": m.capabilities.llm,
                            "read_files": m.capabilities.read_files,
                        },
                        "limits": { "memory_mb": m.limits.memory_mb, "timeout_s": m.limits.timeout_s },
                        "component": m.component,
                        "component_sha256": files.component_sha256(),
                    });
                }
                Content::Config(bytes) => {
                    let written: serde_json::Map<String, Value> =
                        written_llm(bytes).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
                    v["llm"] = match effective_llm(item, bytes) {
                        Ok(Some(c)) => json!({
                            "written": written,
                            "provider": c.provider.as_str(),
                            "endpoint": c.endpoint(),
                            "model": c.model,
                            "api_key_env": c.api_key_env,
                            "endpoint_is_the_projects": c.layer == llm_config::Layer::Project,
                        }),
                        Ok(None) => json!({ "written": written, "provider": "none" }),
                        Err(e) => json!({ "written": written, "refused": e }),
                    };
                }
                Content::Unreadable(why) => v["reason"] = json!(why),
            }
            v
        })
        .collect();
    json!({
        "root": trust.root.display().to_string(),
        "record": trust.record_path.as_ref().map(|p| p.display().to_string()).ok(),
        "items": items,
        "untrusted": trust.untrusted().count() > 0 && !trusted_now,
        "command": trust.command(),
    })
}
