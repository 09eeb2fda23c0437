//! `agent-os init`: lays out `.agent-os/` in a project and wires the MCP
//! clients people use (Cursor, Claude Code, VS Code, Codex, Gemini CLI) to
//! this binary, each in its own project file.
//!
//! Every step is idempotent: a file whose content would not change is not
//! written again, so running `init` twice leaves byte-identical files. Files
//! the user owns (`.cursor/mcp.json`, `.mcp.json`, `.vscode/mcp.json`,
//! `.codex/config.toml`, `.gemini/settings.json`) are merged, never
//! replaced: other servers and unknown keys stay as they were, in order.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::project::Project;

/// The standards folder of each core persona's domain.
pub const DOMAINS: [&str; 6] = ["architecture", "development", "data", "testing", "security", "operations"];

/// The server's name in the clients' MCP configuration.
pub const SERVER_NAME: &str = "agent-os";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid JSON ({reason}); fix or move it, then run `agent-os init` again")]
    BadJson { path: PathBuf, reason: String },
    #[error("{path} is not valid TOML ({reason}); fix or move it, then run `agent-os init` again")]
    BadToml { path: PathBuf, reason: String },
    #[error("{path}: {what}; fix or move it, then run `agent-os init` again")]
    Shape { path: PathBuf, what: &'static str },
    #[error("unknown client '{0}'; choose from cursor, claude, vscode, codex, gemini, all")]
    UnknownClient(String),
    #[error(
        "{path} is a symbolic link to {points_to}; `agent-os init` never writes through a link, which would change what it points to (perhaps your own settings outside this project). Replace it with a real file or folder, then run `agent-os init` again. Nothing was written"
    )]
    Link { path: PathBuf, points_to: String },
    #[error("{path}: {reason}; move it aside, then run `agent-os init` again. Nothing was written")]
    Unreadable { path: PathBuf, reason: String },
}

/// Largest file `init` reads to merge or compare (an MCP client config is a
/// few hundred bytes).
pub const MAX_READ_BYTES: u64 = 1 << 20;

/// What happened to one file or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// Present with content of the user's own; left alone.
    Kept,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Kept => "kept",
        })
    }
}

/// One line of the report: a path relative to the project root.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub path: String,
    pub outcome: Outcome,
    pub note: Option<String>,
}

/// An MCP client `init` can wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Client {
    /// `.cursor/mcp.json` (`mcpServers`) and a rule in `.cursor/rules/`.
    Cursor,
    /// Claude Code: `.mcp.json` (`mcpServers`).
    Claude,
    /// VS Code: `.vscode/mcp.json` (`servers`).
    Vscode,
    /// Codex CLI: `.codex/config.toml` (`[mcp_servers.agent-os]`).
    Codex,
    /// Gemini CLI: `.gemini/settings.json` (`mcpServers`).
    Gemini,
}

impl Client {
    pub const ALL: [Client; 5] = [Client::Cursor, Client::Claude, Client::Vscode, Client::Codex, Client::Gemini];

    /// The clients named by `--client` values (`all` for every one), in
    /// a fixed order, each once.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Client>, InitError> {
        let mut out = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            match name.to_ascii_lowercase().as_str() {
                "all" => out.extend(Self::ALL),
                "cursor" => out.push(Client::Cursor),
                "claude" | "claude-code" => out.push(Client::Claude),
                "vscode" | "vs-code" | "code" => out.push(Client::Vscode),
                "codex" => out.push(Client::Codex),
                "gemini" | "gemini-cli" => out.push(Client::Gemini),
                _ => return Err(InitError::UnknownClient(crate::text::escape_short(name, 40))),
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The clients wired when none is named: Cursor and Claude Code always
    /// (as before), VS Code, Codex and Gemini CLI when the project has their
    /// folder (a real folder, not a link).
    pub fn found(root: &Path) -> Vec<Client> {
        let has = |d: &str| std::fs::symlink_metadata(root.join(d)).is_ok_and(|m| m.is_dir());
        let mut out = vec![Client::Cursor, Client::Claude];
        for (client, dir) in [(Client::Vscode, ".vscode"), (Client::Codex, ".codex"), (Client::Gemini, ".gemini")] {
            if has(dir) {
                out.push(client);
            }
        }
        out
    }
}

/// How the clients should start the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// The command clients run: `agent-os` when it is on PATH, else the
    /// absolute path of this executable.
    pub command: String,
    /// Replace an `agent-os` entry or rule file that differs from ours.
    pub force: bool,
    /// The clients to wire; `None`: [`Client::found`].
    pub clients: Option<Vec<Client>>,
}

impl Options {
    /// Uses `agent-os` if PATH finds this same executable, else its full path.
    pub fn detect(force: bool) -> Self {
        let exe = std::env::current_exe().ok().and_then(|p| p.canonicalize().ok());
        let on_path = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(SERVER_NAME))
                .find(|p| p.is_file())
                .and_then(|p| p.canonicalize().ok())
        });
        let command = match (&exe, &on_path) {
            (Some(e), Some(p)) if e == p => SERVER_NAME.to_string(),
            (Some(e), _) => e.display().to_string(),
            (None, _) => SERVER_NAME.to_string(),
        };
        Self { command, force, clients: None }
    }
}

const CONFIG: &str = r#"# Agent OS Personas: project configuration. Everything here is optional;
# commented values are the defaults. Environment variables override the file.
#
# Server (flags of `agent-os serve`, or environment variables):
#   AGENT_OS_WORKERS=3           persona jobs that run at the same time
#   AGENT_OS_RETENTION_DAYS=30   finished jobs older than this are deleted
#   AGENT_OS_MODELS_DIR=~/.cache/agent-os/models   embedding model and ONNX Runtime
#   AGENT_OS_HTTP_TOKEN=...      bearer token for `agent-os serve --http ADDR`
#
# LLM provider. Without one, personas run their own checks and return a
# delegated brief (prompt, standards, findings) for your assistant to finish.
# [llm]
# provider = "openai"                  # "openai" (any OpenAI-compatible server) or "anthropic"
# base_url = "https://api.openai.com/v1"
# model = "gpt-4o-mini"
# api_key_env = "OPENAI_API_KEY"       # the NAME of the variable holding the key
# timeout_seconds = 120
# max_retries = 3
#
# Local models through Ollama:
# [llm]
# provider = "openai"
# base_url = "http://127.0.0.1:11434/v1"
# model = "qwen2.5-coder:7b"
"#;

const GITIGNORE: &str = "# agent-os keeps this project's index and jobs in your own state folder\n# (`agent-os paths` shows where), never here. Older versions used .cache/.\n.cache/\n";

const CURSOR_RULE: &str = r#"---
description: Project standards and specialist reviewers from Agent OS
alwaysApply: true
---
This project keeps its engineering standards in `.agent-os/standards/` and serves
them through the `agent-os` MCP server.

- Before you design, write or review code, call `search_standards` with what you
  are about to do (e.g. "retry policy for HTTP clients") and follow what it returns.
- Cite the standards you relied on by their path, e.g. `standards/security/secrets.md`.
- When a standard is missing or wrong, say so instead of inventing one; a persona
  can propose it with `propose_standard` and a human approves it.
- For a specialist review, call `invoke_architect`, `invoke_engineer`, `invoke_data`,
  `invoke_qa`, `invoke_security` or `invoke_sre` with the task and the relevant code,
  then poll `check_persona_job` with the job id (pass `wait_seconds` to wait).
- If a job returns a delegated brief, finish the review yourself from that brief.
"#;

/// Lays out `.agent-os/` and wires the chosen clients. Returns one step per
/// path, in order.
pub fn init(project: &Project, opts: &Options) -> Result<Vec<Step>, InitError> {
    let root = project.root();
    let clients = opts.clients.clone().unwrap_or_else(|| Client::found(root));
    let keeps: Vec<PathBuf> = DOMAINS.iter().map(|d| project.standards_dir().join(d).join(".gitkeep")).collect();
    let config = project.agent_dir().join("config.toml");
    let gitignore = project.agent_dir().join(".gitignore");
    let cursor = root.join(".cursor").join("mcp.json");
    let claude = root.join(".mcp.json");
    let rule = root.join(".cursor").join("rules").join("agent-os.mdc");
    let vscode = root.join(".vscode").join("mcp.json");
    let codex = root.join(".codex").join("config.toml");
    let gemini = root.join(".gemini").join("settings.json");
    let mut client_paths: Vec<&PathBuf> = Vec::new();
    for c in &clients {
        match c {
            Client::Cursor => client_paths.extend([&cursor, &rule]),
            Client::Claude => client_paths.push(&claude),
            Client::Vscode => client_paths.push(&vscode),
            Client::Codex => client_paths.push(&codex),
            Client::Gemini => client_paths.push(&gemini),
        }
    }

    // Every path is checked before anything is written: a planted link
    // (`.mcp.json` -> ~/.claude.json, `.cursor` -> ~/.cursor) stops the whole
    // run, so the user's own files outside the project are never changed.
    for p in keeps.iter().chain([&config, &gitignore]).chain(client_paths) {
        refuse_links(root, p)?;
    }

    // Every file is read, merged and checked first without writing (a broken
    // JSON or TOML file anywhere stops the run before any file changes), then
    // the same steps are run again, writing.
    let run = |write: bool| -> Result<Vec<Step>, InitError> {
        let mut steps = Vec::new();
        for keep in &keeps {
            steps.push(write_if_absent_or_same(root, keep, "", false, write)?);
        }
        steps.push(write_if_absent_or_same(root, &config, CONFIG, false, write)?);
        steps.push(write_if_absent_or_same(root, &gitignore, GITIGNORE, false, write)?);

        for c in &clients {
            match c {
                Client::Cursor => {
                    // Cursor starts servers from its own folder; name the project explicitly.
                    let cursor_entry = entry(&opts.command, &["--project", "${workspaceFolder}"]);
                    steps.push(merge_server(root, &cursor, MCP_SERVERS, cursor_entry, opts.force, write)?);
                    steps.push(write_if_absent_or_same(root, &rule, CURSOR_RULE, opts.force, write)?);
                }
                // Claude Code starts project servers in the project folder.
                Client::Claude => {
                    steps.push(merge_server(root, &claude, MCP_SERVERS, entry(&opts.command, &[]), opts.force, write)?)
                }
                Client::Vscode => {
                    // VS Code substitutes ${workspaceFolder}; its file says `servers`
                    // and names the transport.
                    let mut e = entry(&opts.command, &["--project", "${workspaceFolder}"]);
                    if let Value::Object(map) = &mut e {
                        map.shift_insert(0, "type".into(), Value::String("stdio".into()));
                    }
                    steps.push(merge_server(root, &vscode, "servers", e, opts.force, write)?);
                }
                // Codex and Gemini CLI start servers in the folder they run in.
                Client::Codex => steps.push(merge_codex(root, &codex, &opts.command, opts.force, write)?),
                Client::Gemini => {
                    steps.push(merge_server(root, &gemini, MCP_SERVERS, entry(&opts.command, &[]), opts.force, write)?)
                }
            }
        }
        Ok(steps)
    };
    run(false)?;
    run(true)
}

const MCP_SERVERS: &str = "mcpServers";

/// Adds `[mcp_servers.agent-os]` to Codex's TOML. Without a TOML editor that
/// keeps comments, the user's file is never rewritten: our table is appended
/// to it byte for byte, and the result must parse with our entry in it. An
/// entry of the user's own is kept (even with --force: edit it by hand).
fn merge_codex(root: &Path, path: &Path, command: &str, replace: bool, write: bool) -> Result<Step, InitError> {
    let step = |outcome, note: Option<&str>| Step { path: rel(root, path), outcome, note: note.map(str::to_string) };
    let bad = |reason: String| InitError::BadToml { path: path.to_path_buf(), reason };
    let existing = match read_existing(path)? {
        Some(bytes) => Some(String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?),
        None => None,
    };
    let text = existing.clone().unwrap_or_default();
    let doc: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
    let mut ours = toml::Table::new();
    ours.insert("command".into(), toml::Value::String(command.to_string()));
    ours.insert("args".into(), toml::Value::Array(vec![toml::Value::String("serve".into())]));
    let theirs = match doc.get("mcp_servers") {
        None => None,
        Some(toml::Value::Table(servers)) => servers.get(SERVER_NAME),
        Some(_) => return Err(InitError::Shape { path: path.to_path_buf(), what: "\"mcp_servers\" is not a table" }),
    };
    match theirs {
        Some(toml::Value::Table(t)) if *t == ours => return Ok(step(Outcome::Unchanged, None)),
        Some(_) if replace => {
            return Ok(step(
                Outcome::Kept,
                Some(
                    "has an agent-os entry of your own; init does not rewrite TOML, edit [mcp_servers.agent-os] by hand",
                ),
            ));
        }
        Some(_) => return Ok(step(Outcome::Kept, Some("has an agent-os entry of your own; left as is"))),
        None => {}
    }
    let block = format!(
        "[mcp_servers.{SERVER_NAME}]\ncommand = {}\nargs = {}\n",
        toml::Value::String(command.to_string()),
        toml::Value::Array(vec![toml::Value::String("serve".into())])
    );
    let mut new = text.clone();
    if !new.is_empty() {
        if !new.ends_with('\n') {
            new.push('\n');
        }
        new.push('\n');
    }
    new.push_str(&block);
    // Appending a table is wrong when mcp_servers was written inline or as
    // dotted keys; the result then fails to parse or lacks our entry.
    let check: Result<toml::Table, _> = toml::from_str(&new);
    let added = check.ok().and_then(|d| match d.get("mcp_servers")?.get(SERVER_NAME)? {
        toml::Value::Table(t) => Some(*t == ours),
        _ => None,
    });
    if added != Some(true) {
        return Err(InitError::Shape {
            path: path.to_path_buf(),
            what: "cannot add a [mcp_servers.agent-os] table to it (is mcp_servers written inline?)",
        });
    }
    if write {
        write_atomic(root, path, new.as_bytes())?;
    }
    Ok(step(
        if existing.is_some() { Outcome::Updated } else { Outcome::Created },
        Some("Codex reads it once you trust this project: its first-run question, or `agent-os doctor` shows how"),
    ))
}

/// Refuses `path` when it, or a folder on the way to it below `root`, is a
/// symbolic link, or when an existing part is not what it should be.
fn refuse_links(root: &Path, path: &Path) -> Result<(), InitError> {
    use crate::project::PathError;
    match crate::project::check_no_links(root, path) {
        Ok(()) => {}
        Err(PathError::Symlink(link)) => {
            let link = PathBuf::from(link);
            let points_to = std::fs::read_link(&link).map(|t| t.display().to_string()).unwrap_or_else(|_| "?".into());
            return Err(InitError::Link { path: link, points_to: crate::text::escape(&points_to).into_owned() });
        }
        Err(PathError::NotDir(p)) => {
            return Err(InitError::Unreadable { path: p.into(), reason: "is a file where a folder belongs".into() });
        }
        Err(e) => return Err(InitError::Unreadable { path: path.to_path_buf(), reason: e.to_string() }),
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => {
            Err(InitError::Unreadable { path: path.to_path_buf(), reason: "is not a regular file".into() })
        }
        Ok(m) if m.len() > MAX_READ_BYTES => Err(InitError::Unreadable {
            path: path.to_path_buf(),
            reason: format!("is {} bytes, over the {MAX_READ_BYTES}-byte limit for a file init reads", m.len()),
        }),
        _ => Ok(()),
    }
}

/// The bytes of `path`, or `None` when it does not exist: a regular file,
/// not a link, of at most [`MAX_READ_BYTES`].
fn read_existing(path: &Path) -> Result<Option<Vec<u8>>, InitError> {
    match crate::fsx::read_bounded(path, MAX_READ_BYTES) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(crate::fsx::ReadError::Symlink { .. }) => {
            let points_to = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_else(|_| "?".into());
            Err(InitError::Link { path: path.to_path_buf(), points_to: crate::text::escape(&points_to).into_owned() })
        }
        Err(e) => Err(InitError::Unreadable { path: path.to_path_buf(), reason: e.to_string() }),
    }
}

fn entry(command: &str, args: &[&str]) -> Value {
    let mut e = Map::new();
    e.insert("command".into(), Value::String(command.to_string()));
    let mut all: Vec<Value> = args.iter().map(|a| Value::String(a.to_string())).collect();
    all.push(Value::String("serve".into()));
    e.insert("args".into(), Value::Array(all));
    Value::Object(e)
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InitError + '_ {
    move |source| InitError::Io { path: path.to_path_buf(), source }
}

/// Writes `content` to `path` unless the file exists. An existing file with
/// other content is kept unless `replace`.
fn write_if_absent_or_same(
    root: &Path,
    path: &Path,
    content: &str,
    replace: bool,
    write: bool,
) -> Result<Step, InitError> {
    let step = |outcome, note: Option<&str>| Step { path: rel(root, path), outcome, note: note.map(str::to_string) };
    match read_existing(path)? {
        Some(old) if old == content.as_bytes() => Ok(step(Outcome::Unchanged, None)),
        Some(_) if !replace => Ok(step(Outcome::Kept, Some("has your own content; left as is (--force replaces it)"))),
        Some(_) => {
            put(root, path, content.as_bytes(), write)?;
            Ok(step(Outcome::Updated, None))
        }
        None => {
            put(root, path, content.as_bytes(), write)?;
            Ok(step(Outcome::Created, None))
        }
    }
}

/// Adds our server to an MCP client config's `key` (`mcpServers`, or
/// `servers` for VS Code), keeping every other key and server (and their
/// order) as they were.
fn merge_server(
    root: &Path,
    path: &Path,
    key: &str,
    ours: Value,
    replace: bool,
    write: bool,
) -> Result<Step, InitError> {
    let step = |outcome, note: Option<&str>| Step { path: rel(root, path), outcome, note: note.map(str::to_string) };
    let existing = match read_existing(path)? {
        Some(bytes) => Some(
            String::from_utf8(bytes)
                .map_err(|_| InitError::BadJson { path: path.to_path_buf(), reason: "not UTF-8 text".into() })?,
        ),
        None => None,
    };
    let mut doc = match &existing {
        Some(text) if !text.trim().is_empty() => serde_json::from_str::<Value>(text)
            .map_err(|e| InitError::BadJson { path: path.to_path_buf(), reason: e.to_string() })?,
        _ => Value::Object(Map::new()),
    };
    let top = doc
        .as_object_mut()
        .ok_or(InitError::Shape { path: path.to_path_buf(), what: "the top level is not an object" })?;
    let servers = top.entry(key).or_insert_with(|| Value::Object(Map::new()));
    let what = if key == "servers" { "\"servers\" is not an object" } else { "\"mcpServers\" is not an object" };
    let servers = servers.as_object_mut().ok_or(InitError::Shape { path: path.to_path_buf(), what })?;
    let mut note = None;
    match servers.get(SERVER_NAME) {
        Some(v) if *v == ours => {}
        Some(_) if !replace => note = Some("has an agent-os entry of your own; left as is (--force replaces it)"),
        _ => {
            servers.insert(SERVER_NAME.to_string(), ours);
        }
    }
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
    text.push('\n');
    match existing {
        Some(old) if old == text => Ok(step(if note.is_some() { Outcome::Kept } else { Outcome::Unchanged }, note)),
        Some(old) if note.is_some() && serde_json::from_str::<Value>(&old).ok().as_ref() == Some(&doc) => {
            // Only the formatting differs: leave the user's file alone.
            Ok(step(Outcome::Kept, note))
        }
        Some(_) => {
            put(root, path, text.as_bytes(), write)?;
            Ok(step(Outcome::Updated, note))
        }
        None => {
            put(root, path, text.as_bytes(), write)?;
            Ok(step(Outcome::Created, None))
        }
    }
}

/// Writes through a temporary file in the same folder and renames it, so a
/// crash never leaves half a file. Folders are made one by one below `root`
/// and never through a link; the path is checked again just before (a link
/// would have been replaced by the rename, never written through).
/// [`write_atomic`] when `write`; nothing on the checking pass.
fn put(root: &Path, path: &Path, bytes: &[u8], write: bool) -> Result<(), InitError> {
    if write { write_atomic(root, path, bytes) } else { Ok(()) }
}

fn write_atomic(root: &Path, path: &Path, bytes: &[u8]) -> Result<(), InitError> {
    let dir = path.parent().unwrap_or(root);
    crate::project::create_dir_confined(root, dir)
        .map_err(|e| InitError::Unreadable { path: dir.to_path_buf(), reason: e.to_string() })?;
    refuse_links(root, path)?;
    crate::fsx::write_atomic(path, bytes).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options { command: "agent-os".into(), force: false, clients: None }
    }

    fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn twice_is_byte_identical_and_keeps_other_servers() {
        let dir = tempfile::tempdir().unwrap();
        let cursor = dir.path().join(".cursor/mcp.json");
        std::fs::create_dir_all(cursor.parent().unwrap()).unwrap();
        std::fs::write(&cursor, r#"{"zeta": 1, "mcpServers": {"other": {"command": "x", "args": ["--y"]}}}"#).unwrap();
        let project = Project::new(dir.path());

        let first = init(&project, &opts()).unwrap();
        assert!(first.iter().any(|s| s.path == ".cursor/mcp.json" && s.outcome == Outcome::Updated));
        let before = snapshot(dir.path());
        let second = init(&project, &opts()).unwrap();
        assert!(second.iter().all(|s| s.outcome == Outcome::Unchanged), "{second:?}");
        assert_eq!(before, snapshot(dir.path()));

        let merged: Value = serde_json::from_str(&std::fs::read_to_string(&cursor).unwrap()).unwrap();
        assert_eq!(merged["mcpServers"]["other"]["command"], "x");
        assert_eq!(merged["zeta"], 1);
        assert_eq!(merged["mcpServers"]["agent-os"]["args"][2], "serve");
        // The user's key order survives the merge.
        let text = std::fs::read_to_string(&cursor).unwrap();
        assert!(text.find("zeta").unwrap() < text.find("mcpServers").unwrap());
        for d in DOMAINS {
            assert!(dir.path().join(".agent-os/standards").join(d).is_dir());
        }
    }

    #[test]
    fn a_users_own_entry_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".mcp.json");
        let own = "{\n  \"mcpServers\": {\n    \"agent-os\": {\n      \"command\": \"/opt/agent-os\"\n    }\n  }\n}\n";
        std::fs::write(&path, own).unwrap();
        let project = Project::new(dir.path());
        let steps = init(&project, &opts()).unwrap();
        assert!(steps.iter().any(|s| s.path == ".mcp.json" && s.outcome == Outcome::Kept));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), own);
        init(&project, &Options { force: true, ..opts() }).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["mcpServers"]["agent-os"]["command"], "agent-os");
    }

    #[cfg(unix)]
    #[test]
    fn links_are_refused_and_their_targets_left_alone() {
        use std::os::unix::fs::symlink;
        let home = tempfile::tempdir().unwrap();
        let own = home.path().join("claude.json");
        std::fs::write(&own, r#"{"mcpServers": {"mine": {"command": "x", "env": {"TOKEN": "s3cret"}}}}"#).unwrap();
        // .mcp.json -> the user's own config.
        let dir = tempfile::tempdir().unwrap();
        symlink(&own, dir.path().join(".mcp.json")).unwrap();
        let err = init(&Project::new(dir.path()), &opts()).unwrap_err();
        assert!(matches!(err, InitError::Link { .. }) && err.to_string().contains("symbolic link"), "{err}");
        assert!(std::fs::read_to_string(&own).unwrap().contains("s3cret"));
        assert!(!dir.path().join(".agent-os").exists(), "nothing is written when one path is refused");
        assert!(fsx_is_link(&dir.path().join(".mcp.json")), "the link is not replaced by a file");
        // .cursor -> a folder outside.
        let dir = tempfile::tempdir().unwrap();
        let cursor = home.path().join("cursor");
        std::fs::create_dir(&cursor).unwrap();
        symlink(&cursor, dir.path().join(".cursor")).unwrap();
        assert!(matches!(init(&Project::new(dir.path()), &opts()), Err(InitError::Link { .. })));
        assert_eq!(std::fs::read_dir(&cursor).unwrap().count(), 0);
        // .cursor/mcp.json -> a file outside.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".cursor")).unwrap();
        symlink(&own, dir.path().join(".cursor/mcp.json")).unwrap();
        assert!(matches!(init(&Project::new(dir.path()), &opts()), Err(InitError::Link { .. })));
        // .agent-os -> a folder outside.
        let dir = tempfile::tempdir().unwrap();
        symlink(home.path(), dir.path().join(".agent-os")).unwrap();
        assert!(matches!(init(&Project::new(dir.path()), &opts()), Err(InitError::Link { .. })));
        assert!(!home.path().join("standards").exists() && !home.path().join("config.toml").exists());
    }

    fn fsx_is_link(p: &Path) -> bool {
        crate::fsx::is_symlink(p)
    }

    #[cfg(unix)]
    #[test]
    fn a_huge_or_special_client_config_is_refused_quickly() {
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(dir.path().join(".mcp.json")).unwrap();
        f.set_len(1 << 30).unwrap();
        let err = init(&Project::new(dir.path()), &opts()).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join(".mcp.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = init(&Project::new(dir.path()), &opts()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn client_names_parse_and_all_means_every_client() {
        assert_eq!(Client::parse_list(&["all"]).unwrap(), Client::ALL);
        assert_eq!(Client::parse_list(&["gemini", "Cursor", "cursor"]).unwrap(), [Client::Cursor, Client::Gemini]);
        assert!(matches!(Client::parse_list(&["emacs"]), Err(InitError::UnknownClient(_))));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Client::found(dir.path()), [Client::Cursor, Client::Claude]);
        std::fs::create_dir(dir.path().join(".vscode")).unwrap();
        std::fs::create_dir(dir.path().join(".gemini")).unwrap();
        assert_eq!(Client::found(dir.path()), [Client::Cursor, Client::Claude, Client::Vscode, Client::Gemini]);
    }

    #[test]
    fn broken_json_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".mcp.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = init(&Project::new(dir.path()), &opts()).unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
    }
}
