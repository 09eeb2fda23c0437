//! `agent-os doctor`: one line per thing that can be wrong with an
//! installation, each ok / warn / fail with the fix.
//!
//! Doctor never needs a healthy project to run: it opens the jobs database
//! read-only, and each check catches its own errors.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::IndexCell;
use crate::personas::Registry;
use crate::plugins::{HostServices, Runtime};
use crate::project::Project;
use crate::rag::Index;
use crate::rag::embed::{Embedder, ModelPaths};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub detail: String,
    /// What to do about a warn or fail.
    pub fix: Option<String>,
}

fn ok(name: &'static str, detail: impl Into<String>) -> Check {
    Check { name, level: Level::Ok, detail: detail.into(), fix: None }
}

fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { name, level: Level::Warn, detail: detail.into(), fix: Some(fix.into()) }
}

fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { name, level: Level::Fail, detail: detail.into(), fix: Some(fix.into()) }
}

/// Runs every check, in the order a user would fix things.
pub async fn run(project: &Project) -> Vec<Check> {
    let mut out = Vec::new();
    let model = match ModelPaths::from_env() {
        Ok(paths) => {
            out.extend([model_files(&paths), onnx_runtime(&paths)]);
            let (load, model) = load_model(&paths).await;
            out.push(load);
            model
        }
        Err(e) => {
            out.push(warn("model files", e.to_string(), "set HOME, or AGENT_OS_MODELS_DIR to an absolute path"));
            None
        }
    };
    out.push(index(project, model).await);
    // What the project ships is looked at once; untrusted content is never
    // compiled, run or connected to.
    let trust = crate::trust::check(project);
    out.push(trust_check(&trust));
    let llm_check = llm(&trust).await;
    out.extend(personas(trust).await);
    out.push(llm_check);
    out.push(match project.state_path() {
        Ok(d) => jobs_db(&d.join(crate::project::JOBS_DB)),
        Err(e) => fail("jobs database", e.to_string(), "set HOME (or AGENT_OS_STATE_DIR) for the server"),
    });
    out.push(clients(project));
    out
}

fn model_files(paths: &ModelPaths) -> Check {
    let missing: Vec<&str> = ModelPaths::FILES.iter().copied().filter(|f| !paths.model_dir.join(f).is_file()).collect();
    if missing.is_empty() {
        ok("model files", format!("all-MiniLM-L6-v2 in {}", paths.model_dir.display()))
    } else {
        warn(
            "model files",
            format!("missing {} in {}; search runs on full text only", missing.join(", "), paths.model_dir.display()),
            "run `agent-os setup` or scripts/setup-models.sh (or set AGENT_OS_MODEL_DIR to a folder holding them)",
        )
    }
}

fn onnx_runtime(paths: &ModelPaths) -> Check {
    if paths.ort_lib.is_file() {
        match crate::rag::embed::check_library(&paths.ort_lib) {
            Ok(()) => ok("onnx runtime", paths.ort_lib.display().to_string()),
            Err(e) => fail("onnx runtime", e.to_string(), "reinstall with scripts/setup-models.sh"),
        }
    } else {
        warn(
            "onnx runtime",
            format!("{} is missing; search runs on full text only", paths.ort_lib.display()),
            "run `agent-os setup` or scripts/setup-models.sh (or set AGENT_OS_ORT_LIB to a libonnxruntime.so 1.2x+)",
        )
    }
}

async fn load_model(paths: &ModelPaths) -> (Check, Option<Embedder>) {
    if paths.check().is_err() {
        return (warn("embeddings", "not loaded: files missing (see above)", "install the model files first"), None);
    }
    let p = paths.clone();
    let started = Instant::now();
    let loaded = tokio::task::spawn_blocking(move || {
        let e = Embedder::load(&p)?;
        let v = e.embed(&["doctor check"])?;
        Ok::<_, crate::rag::embed::EmbedError>((e, v.first().map(Vec::len).unwrap_or(0)))
    })
    .await;
    match loaded {
        Ok(Ok((e, dims))) => (
            ok(
                "embeddings",
                format!("model loads and embeds ({dims} dimensions, {} ms)", started.elapsed().as_millis()),
            ),
            Some(e),
        ),
        Ok(Err(e)) => (fail("embeddings", e.to_string(), "reinstall with scripts/setup-models.sh"), None),
        Err(e) => (
            fail("embeddings", format!("the model loader crashed: {e}"), "reinstall with scripts/setup-models.sh"),
            None,
        ),
    }
}

async fn index(project: &Project, model: Option<Embedder>) -> Check {
    const NAME: &str = "standards index";
    let model = model.ok_or_else(|| crate::rag::embed::EmbedError::Load("not loaded".into()));
    let dir = match project.index_dir() {
        Ok(d) => d,
        Err(e) => return fail(NAME, e.to_string(), "set HOME (or AGENT_OS_STATE_DIR) for agent-os"),
    };
    let index = match Index::open(&dir, IndexCell::sources(project), model).await {
        Ok(i) => i,
        Err(e) => {
            return fail(NAME, e.to_string(), format!("delete {} and run `agent-os index`", dir.display()));
        }
    };
    match index.staleness().await {
        Ok(s) if !s.built => warn(
            NAME,
            format!("not built yet ({} standards to index)", s.files),
            "run `agent-os index` (the server also builds it at start)",
        ),
        Ok(s) if s.changed + s.removed > 0 => warn(
            NAME,
            format!("{} of {} standards changed and {} removed since the last index", s.changed, s.files, s.removed),
            "run `agent-os index` (a running server catches up by itself)",
        ),
        Ok(s) => {
            let skipped = if s.skipped > 0 {
                format!("; {} file(s) skipped, see `agent-os index`", s.skipped)
            } else {
                String::new()
            };
            ok(NAME, format!("up to date: {} standards, {} chunks{skipped}", s.files, index.chunk_count()))
        }
        Err(e) => fail(NAME, e.to_string(), "run `agent-os index --rebuild`"),
    }
}

/// One sentence on what the project ships that is not trusted, and the command.
fn trust_check(trust: &crate::trust::ProjectTrust) -> Check {
    const NAME: &str = "trust";
    let untrusted: Vec<String> = trust.untrusted().map(crate::trust::ProjectTrust::describe).collect();
    let unreadable: Vec<String> = trust
        .items()
        .iter()
        .filter(|i| i.status == crate::trust::Status::Unreadable)
        .map(|i| crate::text::escape_short(&i.key, 60))
        .collect();
    if !untrusted.is_empty() {
        let why = trust.problem.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
        return warn(
            NAME,
            format!("not used until you trust it: {}{why}", untrusted.join(", ")),
            format!("review and trust it with `{}`", trust.command()),
        );
    }
    if !unreadable.is_empty() {
        return warn(
            NAME,
            format!("never used, it cannot be read safely: {}", unreadable.join(", ")),
            "see `agent-os trust` for the reason, then fix or remove those files",
        );
    }
    let n = trust.items().len();
    if n == 0 {
        ok(NAME, "the project ships no personas and no [llm] settings; nothing needs trust")
    } else {
        ok(NAME, format!("everything the project ships that can run or spend is trusted ({n} item(s))"))
    }
}

async fn personas(trust: crate::trust::ProjectTrust) -> Vec<Check> {
    const NAME: &str = "personas";
    let project = Project::new(trust.root.clone());
    let (registry, errors) = Registry::from_trust(crate::personas::install::user_dir().as_deref(), trust);
    let mut out = Vec::new();
    for e in errors {
        out.push(fail(NAME, e.to_string(), "fix or remove that persona (`agent-os persona remove ID`)"));
    }
    let runtime = match Runtime::new(crate::plugins::components_dir()) {
        Ok(r) => r,
        Err(e) => {
            out.push(fail(
                NAME,
                e.to_string(),
                "check that the user cache folder (~/.cache/agent-os or $AGENT_OS_CACHE_DIR) is writable",
            ));
            return out;
        }
    };
    let services = Arc::new(HostServices::offline(project.clone()));
    let mut loaded = Vec::new();
    let started = Instant::now();
    for def in registry.all() {
        let id = def.manifest.id.clone();
        match runtime.describe(def, services.clone()).await {
            Ok(_) => loaded.push(id),
            Err(e) => out.push(fail(
                NAME,
                format!("{id} does not start: {e}"),
                "reinstall it, or report the bug if it is built in",
            )),
        }
    }
    out.insert(
        0,
        ok(NAME, format!("{} load: {} ({} ms)", loaded.len(), loaded.join(", "), started.elapsed().as_millis())),
    );
    out
}

async fn llm(trust: &crate::trust::ProjectTrust) -> Check {
    const NAME: &str = "llm provider";
    let loaded = crate::llm::config::load(trust);
    if matches!(loaded, Ok(None)) {
        return ok(NAME, "none configured: personas return delegated briefs for your assistant to finish");
    }
    match crate::llm::LlmAccess::from_config(loaded, |k| std::env::var(k).ok()) {
        crate::llm::LlmAccess::Unavailable(why) => fail(
            NAME,
            why,
            "fix [llm] in your config.toml (or the trusted .agent-os/config.toml) or the AGENT_OS_LLM_* variables (README: LLM providers)",
        ),
        crate::llm::LlmAccess::Ready(client) => {
            let url = client.endpoint();
            match reachable(&url).await {
                Ok(ms) => ok(
                    NAME,
                    format!(
                        "{} answers a connection at {url} ({ms} ms); `agent-os llm --ping` asks it",
                        client.describe()
                    ),
                ),
                Err(e) => fail(
                    NAME,
                    format!("{url}: {e}"),
                    format!("start the provider or correct base_url ({})", client.config().base_url_from),
                ),
            }
        }
    }
}

/// Opens a TCP connection to the URL's host and port.
async fn reachable(url: &str) -> Result<u128, String> {
    let rest = url.split_once("://").map(|(_, r)| r).ok_or("not a URL (no scheme)")?;
    let https = url.starts_with("https");
    let authority = rest.split('/').next().unwrap_or(rest);
    let addr = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        authority.to_string()
    } else {
        format!("{authority}:{}", if https { 443 } else { 80 })
    };
    let started = Instant::now();
    match tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(&addr)).await {
        Ok(Ok(_)) => Ok(started.elapsed().as_millis()),
        Ok(Err(e)) => Err(format!("cannot connect to {addr}: {e}")),
        Err(_) => Err(format!("no answer from {addr} within 3 s")),
    }
}

fn jobs_db(path: &Path) -> Check {
    const NAME: &str = "jobs database";
    if !path.exists() {
        return ok(NAME, "not created yet (the server creates it)");
    }
    let fix = format!("stop the server and move {} aside; a fresh one is created at start", path.display());
    let conn = match rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(c) => c,
        Err(e) => return fail(NAME, format!("cannot open {}: {e}", path.display()), fix),
    };
    let verdict: Result<String, _> = conn.query_row("PRAGMA quick_check", [], |r| r.get(0));
    match verdict {
        Ok(v) if v == "ok" => {
            let jobs: i64 = conn.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0)).unwrap_or(-1);
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            ok(NAME, format!("intact: {jobs} jobs, {:.2} MB", size as f64 / 1048576.0))
        }
        Ok(v) => fail(NAME, format!("damaged: {v}"), fix),
        Err(e) => fail(NAME, format!("damaged: {e}"), fix),
    }
}

fn clients(project: &Project) -> Check {
    const NAME: &str = "mcp clients";
    let read = |p: &str| crate::fsx::read_text_bounded(&project.root().join(p), crate::init::MAX_READ_BYTES).ok();
    let json_names = |p: &str, key: &str| {
        read(p)
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v[key].get(crate::init::SERVER_NAME).is_some())
    };
    let toml_names = |p: &str| {
        read(p)
            .and_then(|t| t.parse::<toml::Table>().ok())
            .is_some_and(|t| t.get("mcp_servers").and_then(|s| s.get(crate::init::SERVER_NAME)).is_some())
    };
    let wired: Vec<&str> = [
        ("Cursor", json_names(".cursor/mcp.json", "mcpServers")),
        ("Claude Code", json_names(".mcp.json", "mcpServers")),
        ("VS Code", json_names(".vscode/mcp.json", "servers")),
        ("Codex", toml_names(".codex/config.toml")),
        ("Gemini CLI", json_names(".gemini/settings.json", "mcpServers")),
    ]
    .into_iter()
    .filter(|(_, yes)| *yes)
    .map(|(name, _)| name)
    .collect();
    if wired.is_empty() {
        return warn(
            NAME,
            "no MCP client config in the project names agent-os",
            "run `agent-os init` (--client cursor|claude|vscode|codex|gemini|all)",
        );
    }
    let detail = format!("wired for {}", wired.join(", "));
    let codex_home = std::env::var_os("CODEX_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".codex")));
    match codex_home {
        Some(home) if wired.contains(&"Codex") && !codex_trusts(project.root(), &home) => warn(
            NAME,
            format!(
                "{detail}; Codex reads .codex/config.toml only in a project you trusted, and has not trusted this one"
            ),
            format!(
                "run `codex` in {} and trust the project (or add [projects.\"{}\"] trust_level = \"trusted\" to {})",
                project.root().display(),
                project.root().display(),
                home.join("config.toml").display()
            ),
        ),
        _ => ok(NAME, detail),
    }
}

/// Whether Codex CLI trusts `root` or a folder above it: a `trust_level =
/// "trusted"` entry under `[projects."<path>"]` in `codex_home`/config.toml.
fn codex_trusts(root: &Path, codex_home: &Path) -> bool {
    let Ok(text) = crate::fsx::read_text_bounded(&codex_home.join("config.toml"), crate::init::MAX_READ_BYTES) else {
        return false;
    };
    let Ok(config) = text.parse::<toml::Table>() else { return false };
    let Some(projects) = config.get("projects").and_then(toml::Value::as_table) else { return false };
    root.ancestors().any(|dir| {
        let entry = dir.to_str().and_then(|k| projects.get(k));
        entry.and_then(|p| p.get("trust_level")).and_then(toml::Value::as_str) == Some("trusted")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_jobs_database_fails_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("jobs.db");
        std::fs::write(&db, vec![0x5au8; 8192]).unwrap();
        let c = jobs_db(&db);
        assert_eq!(c.level, Level::Fail, "{c:?}");
        assert!(c.fix.unwrap().contains("move"));
    }

    #[test]
    fn codex_trust_is_read_from_its_projects_table() {
        let home = tempfile::tempdir().unwrap();
        let root = Path::new("/work/repo/service");
        assert!(!codex_trusts(root, home.path()), "no config");
        let write = |text: &str| std::fs::write(home.path().join("config.toml"), text).unwrap();
        write("model = \"o3\"\n");
        assert!(!codex_trusts(root, home.path()));
        write("[projects.\"/work/repo/service\"]\ntrust_level = \"untrusted\"\n");
        assert!(!codex_trusts(root, home.path()));
        write("[projects.\"/work/repo/service\"]\ntrust_level = \"trusted\"\n");
        assert!(codex_trusts(root, home.path()));
        write("[projects.\"/work/repo\"]\ntrust_level = \"trusted\"\n");
        assert!(codex_trusts(root, home.path()), "a trusted folder above counts");
        write("[projects.\"/work/repo/service/sub\"]\ntrust_level = \"trusted\"\n");
        assert!(!codex_trusts(root, home.path()), "a folder below does not");
        write("not toml [[");
        assert!(!codex_trusts(root, home.path()));
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_named() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let e = reachable(&format!("http://127.0.0.1:{port}/v1")).await.unwrap_err();
        assert!(e.contains(&port.to_string()), "{e}");
    }
}
