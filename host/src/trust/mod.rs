//! Trust: a cloned repository is data until its owner trusts it.
//!
//! What a project ships that could run or spend anything — each persona under
//! `.agent-os/personas/` and the `[llm]` table of `.agent-os/config.toml` — is
//! an *item*. `agent-os trust` records, in the user's own data folder
//! (`dirs::dir(Data)/trust/<project key>.toml`), the project's canonical root
//! and one sha256 per item. An item is trusted only while its current content
//! hashes to the recorded value: a pulled commit that changes one byte of a
//! persona's manifest, component or prompt, or of the config file, makes it
//! untrusted again until `agent-os trust` is run again. With no data folder,
//! nothing is trusted.
//!
//! Every file is read bounded, regular-file only and without following links
//! ([`crate::fsx`]); the bytes hashed are the bytes loaded.

pub mod cli;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dirs::{self, DirsError, Kind};
use crate::fsx::{self, ReadError};
use crate::personas::{PersonaError, PersonaFiles};
use crate::project::Project;

/// The item name of `.agent-os/config.toml` (trust-relevant for its `[llm]` table).
pub const CONFIG_ITEM: &str = "config";
/// Largest `.agent-os/config.toml` (and user `config.toml`) read.
pub const MAX_CONFIG_BYTES: u64 = 64 << 10;
/// Largest trust record read.
const MAX_RECORD_BYTES: u64 = 256 << 10;

/// The item name of a project persona.
pub fn persona_item(id: &str) -> String {
    format!("persona:{id}")
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(transparent)]
    Dirs(#[from] DirsError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{path} is not a trust record agent-os can read ({message}); delete it and run `agent-os trust` again")]
    BadRecord { path: String, message: String },
    #[error(
        "not trusted: there is no terminal to ask on. Read the summary above, then run `agent-os --project {root} trust --yes` to trust exactly that"
    )]
    NeedsConfirmation { root: String },
    #[error("not trusted: you declined")]
    Declined,
    #[error("nothing to trust: {0}")]
    Nothing(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrustError + '_ {
    move |source| TrustError::Io { path: path.display().to_string(), source }
}

/// The name of a project's files in the user's folders (the same key as its state folder).
pub use crate::project::project_key;

/// What the user trusted for one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The project's canonical root.
    pub root: String,
    /// Who trusted it (the OS user).
    pub trusted_by: String,
    /// When, as ISO 8601 UTC.
    pub trusted_at: String,
    /// Item name -> hex sha256 of its content.
    #[serde(default)]
    pub items: BTreeMap<String, String>,
}

impl Record {
    fn new(root: &Path) -> Self {
        Self {
            root: root.to_string_lossy().into_owned(),
            trusted_by: os_user(),
            trusted_at: crate::time::iso8601(crate::jobs::now_secs()),
            items: BTreeMap::new(),
        }
    }
}

/// The OS user running this command.
pub fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var)
            && !u.trim().is_empty()
        {
            return u;
        }
    }
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        format!("uid {}", unsafe { libc::geteuid() })
    }
    #[cfg(not(unix))]
    "unknown".into()
}

/// The folder of trust records.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    /// Whether `dir` is `dirs::dir(Data)/trust` (the data folder is then created private first).
    user: bool,
}

/// A trusted root and its record, or why the record could not be read.
pub type Listed = (PathBuf, Result<Record, String>);

impl Store {
    /// `dirs::dir(Data)/trust`; fails when no data folder can be found.
    pub fn user() -> Result<Self, TrustError> {
        Ok(Self { dir: dirs::dir(Kind::Data)?.join("trust"), user: true })
    }

    /// Records kept in `dir` (tests).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), user: false }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the record of the project rooted at `root` lives.
    pub fn record_path(&self, root: &Path) -> PathBuf {
        self.dir.join(format!("{}.toml", project_key(root)))
    }

    /// The record of the project rooted at `root`, if the user trusted it.
    /// A record for another root (a key collision) counts as none.
    pub fn load(&self, root: &Path) -> Result<Option<Record>, TrustError> {
        if self.user {
            dirs::outside_project(root, &self.dir, Kind::Data)?;
        }
        if std::fs::symlink_metadata(&self.dir).is_err() {
            return Ok(None);
        }
        dirs::check_private(&self.dir, Kind::Data)?;
        let path = self.record_path(root);
        let record = match read_record(&path)? {
            Some(r) => r,
            None => return Ok(None),
        };
        if record.root != root.to_string_lossy() {
            tracing::warn!(record = %path.display(), "the trust record names another project ({}); ignoring it", crate::text::escape(&record.root));
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// Writes `record` for its project atomically (temporary file, then
    /// rename), readable by the user only.
    pub fn save(&self, record: &Record) -> Result<PathBuf, TrustError> {
        if self.user {
            dirs::outside_project(Path::new(&record.root), &self.dir, Kind::Data)?;
            dirs::ensure(Kind::Data)?;
        }
        dirs::ensure_private(&self.dir, Kind::Data)?;
        let path = self.record_path(Path::new(&record.root));
        let text = format!(
            "# agent-os trust record: what {} trusted in {} ({}).\n# Delete this file (or run `agent-os trust --revoke` there) to trust nothing of it.\n\n{}",
            record.trusted_by,
            record.root,
            record.trusted_at,
            toml::to_string_pretty(record)
                .map_err(|e| TrustError::BadRecord { path: path.display().to_string(), message: e.to_string() })?
        );
        let tmp = self.dir.join(format!(".{}.{}.tmp", project_key(Path::new(&record.root)), std::process::id()));
        let written = (|| {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let _ = std::fs::remove_file(&tmp);
            let mut f = opts.open(&tmp).map_err(io(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io(&path))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map(|()| path)
    }

    /// Deletes the project's record; whether there was one.
    pub fn revoke(&self, root: &Path) -> Result<bool, TrustError> {
        let path = self.record_path(root);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Every record, by root; unreadable ones as their error.
    pub fn list(&self) -> Result<Vec<Listed>, TrustError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        dirs::check_private(&self.dir, Kind::Data)?;
        let mut out: Vec<(PathBuf, Result<Record, String>)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "toml")
                    && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .map(|p| {
                let r = match read_record(&p) {
                    Ok(Some(r)) => Ok(r),
                    Ok(None) => Err("vanished".to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (p, r)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

fn read_record(path: &Path) -> Result<Option<Record>, TrustError> {
    let bytes = match fsx::read_bounded(path, MAX_RECORD_BYTES) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    dirs::check_private(path, Kind::Data)?;
    toml::from_str(&String::from_utf8_lossy(&bytes)).map(Some).map_err(|e| TrustError::BadRecord {
        path: path.display().to_string(),
        message: e.message().trim().to_string(),
    })
}

/// What kind of thing an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Config,
    Persona,
}

/// How an item's current content compares with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Hashes to what the user trusted.
    Trusted,
    /// Never trusted.
    New,
    /// Trusted once; its content changed since.
    Changed,
    /// Cannot be read (a link, not a regular file, too large, invalid): never used.
    Unreadable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Trusted => "trusted",
            Status::New => "not trusted",
            Status::Changed => "changed since you trusted it",
            Status::Unreadable => "cannot be read",
        }
    }
}

/// An item's content, as read.
#[derive(Debug, Clone)]
pub enum Content {
    /// The bytes of `.agent-os/config.toml`.
    Config(Vec<u8>),
    Persona(Box<PersonaFiles>),
    /// Why it cannot be read; it is never used.
    Unreadable(String),
}

/// One trust-relevant thing the project ships.
#[derive(Debug, Clone)]
pub struct Item {
    /// `config` or `persona:<folder>`.
    pub key: String,
    pub kind: ItemKind,
    /// The file (config) or folder (persona).
    pub path: PathBuf,
    pub content: Content,
    /// Hex sha256 of the content; `None` when unreadable.
    pub sha256: Option<String>,
    pub status: Status,
}

/// The project's items, compared with the user's record.
#[derive(Debug, Clone)]
pub struct ProjectTrust {
    pub root: PathBuf,
    /// Where the record is (or would be); `Err` says why there is none (no data folder).
    pub record_path: Result<PathBuf, String>,
    pub record: Option<Record>,
    /// Why the record could not be used, when it could not.
    pub problem: Option<String>,
    pub items: Vec<Item>,
}

/// Reads the project's items and the user's record.
pub fn check(project: &Project) -> ProjectTrust {
    check_with(project, Store::user())
}

/// [`check`] against a given record store.
pub fn check_with(project: &Project, store: Result<Store, TrustError>) -> ProjectTrust {
    let root = project.root().to_path_buf();
    let (record_path, record, problem) = match &store {
        Ok(s) => match s.load(&root) {
            Ok(r) => (Ok(s.record_path(&root)), r, None),
            Err(e) => (Ok(s.record_path(&root)), None, Some(e.to_string())),
        },
        Err(e) => (Err(e.to_string()), None, Some(e.to_string())),
    };
    if let Some(p) = &problem {
        tracing::warn!("nothing this project ships is trusted: {p}");
    }
    let mut items: Vec<Item> = config_item(project).into_iter().collect();
    items.extend(persona_items(project));
    for item in &mut items {
        item.status = match (&item.sha256, record.as_ref().and_then(|r| r.items.get(&item.key))) {
            (None, _) => Status::Unreadable,
            (Some(_), None) => Status::New,
            (Some(now), Some(then)) if now.eq_ignore_ascii_case(then) => Status::Trusted,
            (Some(_), Some(_)) => Status::Changed,
        };
    }
    ProjectTrust { root, record_path, record, problem, items }
}

fn unreadable(key: String, kind: ItemKind, path: PathBuf, why: String) -> Item {
    Item { key, kind, path, content: Content::Unreadable(why), sha256: None, status: Status::Unreadable }
}

/// `.agent-os/config.toml`, when it has an `llm` table (or cannot be read
/// or parsed, so it cannot be told apart from one). Other tables are not
/// trust-relevant.
fn config_item(project: &Project) -> Option<Item> {
    let path = project.agent_dir().join("config.toml");
    let kind = ItemKind::Config;
    if fsx::is_symlink(&project.agent_dir()) {
        return path.exists().then(|| {
            unreadable(CONFIG_ITEM.into(), kind, path.clone(), "the .agent-os folder is a symbolic link".into())
        });
    }
    let bytes = match fsx::read_bounded(&path, MAX_CONFIG_BYTES) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return None,
        Err(e) => return Some(unreadable(CONFIG_ITEM.into(), kind, path, e.to_string())),
    };
    match String::from_utf8_lossy(&bytes).parse::<toml::Table>() {
        Ok(t) if !t.contains_key("llm") => None,
        Ok(_) => {
            let sha = hex::encode(Sha256::digest(&bytes));
            Some(Item {
                key: CONFIG_ITEM.into(),
                kind,
                path,
                content: Content::Config(bytes),
                sha256: Some(sha),
                status: Status::New,
            })
        }
        Err(e) => Some(unreadable(CONFIG_ITEM.into(), kind, path, format!("not valid TOML: {}", e.message().trim()))),
    }
}

/// One item per folder under `.agent-os/personas/` (hidden folders, an
/// install in progress, are skipped); links are never followed.
fn persona_items(project: &Project) -> Vec<Item> {
    let dir = project.personas_dir();
    let kind = ItemKind::Persona;
    if fsx::is_symlink(&project.agent_dir()) || fsx::is_symlink(&dir) {
        return if dir.exists() {
            vec![unreadable(
                persona_item("*"),
                kind,
                dir,
                "the project's persona folder is reached through a symbolic link; no persona is loaded from it".into(),
            )]
        } else {
            Vec::new()
        };
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut entries: Vec<_> = entries.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).collect();
    entries.sort_by_key(|e| e.file_name());
    let mut out = Vec::new();
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let key = persona_item(&name);
        match e.file_type() {
            Ok(t) if t.is_symlink() => {
                out.push(unreadable(key, kind, path, "is a symbolic link; agent-os does not follow links here".into()))
            }
            Ok(t) if t.is_dir() => match PersonaFiles::read(&path) {
                Ok(files) => {
                    let sha = files.content_sha256();
                    out.push(Item {
                        key,
                        kind,
                        path,
                        content: Content::Persona(Box::new(files)),
                        sha256: Some(sha),
                        status: Status::New,
                    });
                }
                Err(e) => out.push(unreadable(key, kind, path, persona_error_text(&e))),
            },
            _ => {}
        }
    }
    out
}

fn persona_error_text(e: &PersonaError) -> String {
    e.to_string()
}

impl ProjectTrust {
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn into_items(self) -> Vec<Item> {
        self.items
    }

    /// The config item, when the project's config has an `[llm]` table.
    pub fn config(&self) -> Option<&Item> {
        self.items.iter().find(|i| i.kind == ItemKind::Config)
    }

    /// The bytes of `.agent-os/config.toml` when its current content is trusted.
    pub fn trusted_config(&self) -> Option<(&Path, &[u8])> {
        match self.config() {
            Some(Item { path, content: Content::Config(bytes), status: Status::Trusted, .. }) => {
                Some((path.as_path(), bytes.as_slice()))
            }
            _ => None,
        }
    }

    /// Items that could be trusted but are not (new or changed).
    pub fn untrusted(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| matches!(i.status, Status::New | Status::Changed))
    }

    /// Whether item `key` is trusted now.
    pub fn is_trusted(&self, key: &str) -> bool {
        self.items.iter().any(|i| i.key == key && i.status == Status::Trusted)
    }

    /// A short description of an item for sentences: "persona hello (new)".
    pub fn describe(item: &Item) -> String {
        let what = match item.kind {
            ItemKind::Config => "the [llm] settings in .agent-os/config.toml".to_string(),
            // Only a well-formed id is repeated: this sentence reaches the agent.
            ItemKind::Persona => match item.key.strip_prefix("persona:") {
                Some(id) if crate::personas::manifest::is_slug(id) => format!("persona {id}"),
                _ => "a persona in an oddly named folder".to_string(),
            },
        };
        match item.status {
            Status::Changed => format!("{what} (changed since it was trusted)"),
            _ => what,
        }
    }

    /// The command a person runs to review and trust this project.
    pub fn command(&self) -> String {
        format!("agent-os --project {} trust", shell_word(&self.root.to_string_lossy()))
    }

    /// One sentence saying what is untrusted and how the human trusts it;
    /// `None` when everything the project ships is trusted.
    pub fn notice(&self) -> Option<String> {
        let list: Vec<String> = self.untrusted().map(Self::describe).collect();
        if list.is_empty() {
            return None;
        }
        let why = match &self.problem {
            Some(p) => format!(" (no trust record can be used: {})", crate::text::escape_short(p, 200)),
            None => String::new(),
        };
        // The project's path is not repeated: a cloned repository chooses its folder name.
        Some(format!(
            "This project ships content the user has not trusted, so agent-os does not run or use it: {}{why}. \
             To review and trust it, the human runs `agent-os trust` in a terminal in the project folder \
             (do not run it for them).",
            list.join(", ")
        ))
    }

    /// Records every readable item as trusted (replacing the old record).
    pub fn trust_all(&self, store: &Store) -> Result<(PathBuf, Record), TrustError> {
        let mut record = Record::new(&self.root);
        for item in &self.items {
            if let Some(sha) = &item.sha256 {
                record.items.insert(item.key.clone(), sha.clone());
            }
        }
        let path = store.save(&record)?;
        Ok((path, record))
    }
}

/// Records the persona installed in the project's `folder` as trusted (a
/// person consented to its grants at `persona install`), keeping the rest
/// of the project's record.
pub fn record_persona(project: &Project, folder: &Path) -> Result<PathBuf, TrustError> {
    record_persona_in(&Store::user()?, project, folder)
}

/// [`record_persona`] into a given store.
pub fn record_persona_in(store: &Store, project: &Project, folder: &Path) -> Result<PathBuf, TrustError> {
    let files = PersonaFiles::read(folder)
        .map_err(|e| TrustError::BadRecord { path: folder.display().to_string(), message: e.to_string() })?;
    let root = project.root();
    let mut record = store.load(root)?.unwrap_or_else(|| Record::new(root));
    record.items.insert(persona_item(&files.manifest.id), files.content_sha256());
    record.trusted_by = os_user();
    record.trusted_at = crate::time::iso8601(crate::jobs::now_secs());
    store.save(&record)
}

/// Forgets one item of the project's record (a removed persona).
pub fn forget(project: &Project, key: &str) -> Result<(), TrustError> {
    let store = Store::user()?;
    let root = project.root();
    if let Some(mut record) = store.load(root)?
        && record.items.remove(key).is_some()
    {
        store.save(&record)?;
    }
    Ok(())
}

/// A path as one shell word (quoted when it needs to be), escaped for printing.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=,".contains(c));
    let quoted = if plain { s.to_string() } else { format!("'{}'", s.replace('\'', "'\\''")) };
    crate::text::escape(&quoted).into_owned()
}

#[cfg(test)]
mod tests;
