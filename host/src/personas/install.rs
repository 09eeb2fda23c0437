//! Installing, listing and removing third-party personas.
//!
//! An install reads a manifest and its component, verifies both (the same
//! checks as at load, plus a trial `describe` in the sandbox), pins the
//! component's sha256 in the installed manifest, and moves the finished
//! folder into place with one rename, so a running server never sees half a
//! persona.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::verify::Surface;
use super::{CORE_IDS, HOST_API, Manifest, PersonaDef, PersonaError, Scope, sha256_hex};
use crate::plugins::{HostServices, Runtime};
use crate::project::Project;

use super::MAX_PROMPT_BYTES;
/// How long the trial `describe` at install may take.
const TRIAL_TIMEOUT_S: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error(
        "no persona.toml at {0}; pass the persona's folder, or --manifest FILE with a .wasm file (`agent-os persona new <id>` starts one)"
    )]
    NoManifest(String),
    #[error("cannot find the component '{name}'; looked at {}. Build it first with `cargo build --release --target wasm32-wasip2`", .looked.join(", "))]
    NoComponent { name: String, looked: Vec<String> },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Persona(#[from] PersonaError),
    #[error("{0}: prompt.md must be UTF-8 text of at most {MAX_PROMPT_BYTES} bytes")]
    BadPrompt(String),
    #[error("{id}: the component describes itself as '{described}', but the manifest id is '{id}'; make them match")]
    IdMismatch { id: String, described: String },
    #[error("{id}: the component failed its trial run in the sandbox: {reason}")]
    TrialFailed { id: String, reason: String },
    #[error("cannot tell where your config folder is; set AGENT_OS_CONFIG_DIR or HOME")]
    NoUserDir,
    #[error("not installed: {0}")]
    Unsafe(#[from] crate::project::PathError),
    #[error("not installed: {0}")]
    Read(#[from] crate::fsx::ReadError),
    #[error("'{0}' is a core persona built into agent-os; it cannot be removed")]
    CoreRemoval(String),
    #[error("no persona '{id}' is installed in the {scope} scope ({dir}){hint}")]
    NotInstalled { id: String, scope: &'static str, dir: String, hint: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io { path: path.display().to_string(), source }
}

/// The user's personas folder: `$AGENT_OS_CONFIG_DIR/personas`, else
/// `$XDG_CONFIG_HOME/agent-os/personas`, else `~/.config/agent-os/personas`
/// (absolute paths only, through [`crate::dirs`]; never the current directory).
pub fn user_dir() -> Option<PathBuf> {
    crate::dirs::dir(crate::dirs::Kind::Config).ok().map(|d| d.join("personas"))
}

/// The folders personas are loaded from, lowest precedence first: the
/// user's, then the project's.
pub fn scopes(project: &Project) -> Vec<(Scope, PathBuf)> {
    let mut out = Vec::new();
    if let Some(d) = user_dir() {
        out.push((Scope::User, d));
    }
    // Not through a planted `.agent-os` (or `personas`) link: that would
    // load personas from anywhere on the disk.
    let dir = project.personas_dir();
    match crate::project::check_no_links(project.root(), &dir) {
        Ok(()) => out.push((Scope::Project, dir)),
        Err(e) => tracing::warn!("the project's personas are not loaded: {e}"),
    }
    out
}

/// The folder of one scope.
pub fn scope_dir(project: &Project, scope: Scope) -> Result<PathBuf, InstallError> {
    match scope {
        Scope::Project => {
            // Installing or removing through a planted link would write or
            // delete outside the project.
            let dir = project.personas_dir();
            crate::project::check_no_links(project.root(), &dir)?;
            Ok(dir)
        }
        Scope::User => user_dir().ok_or(InstallError::NoUserDir),
    }
}

/// A verified persona, ready to be copied into place.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The manifest with the component's sha256 pinned.
    pub manifest: Manifest,
    pub wasm: Vec<u8>,
    pub sha256: String,
    /// Whether the source manifest pinned the hash itself.
    pub pinned_by_author: bool,
    pub prompt: Option<String>,
    pub surface: Surface,
    pub manifest_path: PathBuf,
    pub component_path: PathBuf,
    /// Where it came from when that is not `manifest_path`: a registry
    /// artifact `registry/repository@sha256:…` (then the installed header
    /// names it, and two clones install the same bytes).
    pub origin: Option<String>,
}

/// Reads and verifies the persona at `path`: a folder holding persona.toml
/// (the component beside it, or in the folder's cargo target directory), or
/// a `.wasm` file with persona.toml beside it or given as `manifest`.
pub fn prepare(path: &Path, manifest: Option<&Path>) -> Result<Candidate, InstallError> {
    if !path.exists() {
        return Err(InstallError::NotFound(path.display().to_string()));
    }
    let (manifest_path, component_file) = if path.is_dir() {
        (manifest.map(Path::to_path_buf).unwrap_or_else(|| path.join("persona.toml")), None)
    } else {
        let beside = path.parent().unwrap_or(Path::new(".")).join("persona.toml");
        (manifest.map(Path::to_path_buf).unwrap_or(beside), Some(path.to_path_buf()))
    };
    // Each file is read once, as a regular file that is not a symbolic link
    // (a link would copy whatever it points to into the install) and bounded.
    let text = match crate::fsx::read_bounded(&manifest_path, super::MAX_MANIFEST_BYTES) {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return Err(InstallError::NoManifest(manifest_path.display().to_string())),
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8_lossy(&text);
    let mut m = Manifest::parse(&manifest_path.display().to_string(), &text).map_err(PersonaError::from)?;
    let component_path = match component_file {
        Some(f) => f,
        None => find_component(path, &manifest_path, &m.component)?,
    };
    let wasm = crate::fsx::read_bounded(&component_path, super::MAX_COMPONENT_BYTES)?;
    let surface = super::verify(&m, &wasm)?;
    let sha256 = sha256_hex(&wasm);
    let pinned_by_author = m.sha256.is_some();
    m.sha256 = Some(sha256.clone());
    let prompt_path = manifest_path.parent().unwrap_or(Path::new(".")).join("prompt.md");
    let prompt = match crate::fsx::read_bounded(&prompt_path, MAX_PROMPT_BYTES) {
        Ok(bytes) => {
            Some(String::from_utf8(bytes).map_err(|_| InstallError::BadPrompt(prompt_path.display().to_string()))?)
        }
        Err(e) if e.is_not_found() => None,
        Err(crate::fsx::ReadError::TooLarge { .. }) => {
            return Err(InstallError::BadPrompt(prompt_path.display().to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Candidate {
        manifest: m,
        wasm,
        sha256,
        pinned_by_author,
        prompt,
        surface,
        manifest_path,
        component_path,
        origin: None,
    })
}

/// Where a folder's component may be: beside the manifest, in the folder,
/// or where `cargo build --release --target wasm32-wasip2` put it.
fn find_component(dir: &Path, manifest_path: &Path, name: &str) -> Result<PathBuf, InstallError> {
    let mut candidates = vec![
        manifest_path.parent().unwrap_or(Path::new(".")).join(name),
        dir.join(name),
        dir.join("target/wasm32-wasip2/release").join(name),
    ];
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        let t = PathBuf::from(t);
        let t = if t.is_absolute() { t } else { dir.join(t) };
        candidates.push(t.join("wasm32-wasip2/release").join(name));
    }
    candidates.dedup();
    // `symlink_metadata`: a link is found here and then refused when read.
    candidates.iter().find(|c| std::fs::symlink_metadata(c).is_ok_and(|m| !m.is_dir())).cloned().ok_or_else(|| {
        InstallError::NoComponent {
            name: name.to_string(),
            looked: candidates.iter().map(|c| c.display().to_string()).collect(),
        }
    })
}

/// Instantiates the candidate in the sandbox (no capabilities reach
/// anything: no project files, no index) and checks that `describe`
/// answers with the manifest's id. Compiling here also fills the compile
/// cache, so the server's first job does not wait for it.
pub async fn trial(candidate: &Candidate, runtime: &Arc<Runtime>, project: &Project) -> Result<(), InstallError> {
    let mut manifest = candidate.manifest.clone();
    manifest.limits.timeout_s = manifest.limits.timeout_s.min(TRIAL_TIMEOUT_S);
    manifest.capabilities = Default::default();
    let def = Arc::new(PersonaDef::new(
        manifest,
        String::new(),
        Arc::from(candidate.wasm.clone()),
        candidate.sha256.clone(),
        false,
    ));
    let services = Arc::new(HostServices::offline(project.clone()));
    let outer = Duration::from_secs(TRIAL_TIMEOUT_S + 5);
    let id = candidate.manifest.id.clone();
    let described = match tokio::time::timeout(outer, runtime.describe(def, services)).await {
        Ok(Ok((described, _domain))) => described,
        Ok(Err(reason)) => return Err(InstallError::TrialFailed { id, reason }),
        Err(_) => {
            return Err(InstallError::TrialFailed {
                id,
                reason: format!("describe did not answer in {TRIAL_TIMEOUT_S} s"),
            });
        }
    };
    if described != id {
        return Err(InstallError::IdMismatch { id, described });
    }
    Ok(())
}

/// Copies a verified candidate into `<root>/<id>/`, replacing an older
/// install of the same id. The folder appears complete or not at all.
pub fn commit(candidate: &Candidate, root: &Path) -> Result<PathBuf, InstallError> {
    let id = &candidate.manifest.id;
    std::fs::create_dir_all(root).map_err(io(root))?;
    let pid = std::process::id();
    let staging = root.join(format!(".installing-{id}-{pid}"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    std::fs::create_dir(&staging).map_err(io(&staging))?;
    let write = |name: &str, bytes: &[u8]| {
        let p = staging.join(name);
        std::fs::write(&p, bytes).map_err(io(&p))
    };
    let result = (|| {
        let from = candidate.origin.clone().unwrap_or_else(|| candidate.manifest_path.display().to_string());
        let header = format!(
            "# Installed by agent-os persona install from {from}.\n# The component's sha256 is pinned: agent-os refuses to load it if the file changes.\n\n"
        );
        write("persona.toml", format!("{header}{}", candidate.manifest.to_toml()).as_bytes())?;
        write(&candidate.manifest.component, &candidate.wasm)?;
        if let Some(p) = &candidate.prompt {
            write("prompt.md", p.as_bytes())?;
        }
        let target = root.join(id);
        let old = root.join(format!(".replaced-{id}-{pid}"));
        let had_old = std::fs::symlink_metadata(&target).is_ok();
        if had_old {
            std::fs::rename(&target, &old).map_err(io(&target))?;
        }
        if let Err(e) = std::fs::rename(&staging, &target) {
            if had_old {
                let _ = std::fs::rename(&old, &target);
            }
            return Err(io(&target)(e));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Removes `<root>/<id>/`; the folder disappears with one rename first.
pub fn remove(project: &Project, scope: Scope, id: &str) -> Result<PathBuf, InstallError> {
    if CORE_IDS.contains(&id) {
        return Err(InstallError::CoreRemoval(id.to_string()));
    }
    let root = scope_dir(project, scope)?;
    let folder = root.join(id);
    if !super::manifest::is_slug(id) || !folder.is_dir() {
        let other = match scope {
            Scope::Project => Scope::User,
            Scope::User => Scope::Project,
        };
        let hint = match scope_dir(project, other) {
            Ok(d) if super::manifest::is_slug(id) && d.join(id).is_dir() => {
                let fix = if other == Scope::User { "add --user" } else { "leave out --user" };
                format!("; it is installed in the {} scope: {fix}", other.as_str())
            }
            _ => String::new(),
        };
        return Err(InstallError::NotInstalled {
            id: id.to_string(),
            scope: scope.as_str(),
            dir: root.display().to_string(),
            hint,
        });
    }
    let doomed = root.join(format!(".removing-{id}-{}", std::process::id()));
    std::fs::rename(&folder, &doomed).map_err(io(&folder))?;
    std::fs::remove_dir_all(&doomed).map_err(io(&doomed))?;
    Ok(folder)
}

impl std::fmt::Display for Candidate {
    /// What the person installing is asked to approve.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::text::escape;
        let m = &self.manifest;
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        writeln!(
            f,
            "{} {} — {} ({}, domain {})",
            m.id,
            escape(&m.version),
            escape(&m.name),
            m.kind.as_str(),
            m.domain
        )?;
        writeln!(f, "  {}", escape(&m.description))?;
        match &self.origin {
            Some(origin) => {
                writeln!(f, "  source     {}", escape(origin))?;
                writeln!(f, "  component  {} ({} KiB)", escape(&m.component), self.wasm.len().div_ceil(1024))?;
            }
            None => {
                writeln!(f, "  manifest   {}", escape(&self.manifest_path.display().to_string()))?;
                writeln!(
                    f,
                    "  component  {} ({} KiB)",
                    escape(&self.component_path.display().to_string()),
                    self.wasm.len().div_ceil(1024)
                )?;
            }
        }
        let pin = if self.pinned_by_author { "matches the manifest" } else { "computed now; it will be pinned" };
        writeln!(f, "  sha256     {} ({pin})", self.sha256)?;
        writeln!(f, "  api        {} (this agent-os provides {HOST_API})", escape(&m.api))?;
        writeln!(f, "  tool       {}", m.tool_name())?;
        writeln!(f, "Capabilities requested (everything else is denied):")?;
        let c = &m.capabilities;
        writeln!(f, "  search standards        {}", yes_no(c.search))?;
        writeln!(f, "  propose standards       {}", yes_no(c.propose))?;
        writeln!(f, "  ask the language model  {}", yes_no(c.llm))?;
        let files =
            if c.read_files.is_empty() { "no".to_string() } else { escape(&c.read_files.join(", ")).into_owned() };
        writeln!(f, "  read project files      {files}")?;
        writeln!(f, "Limits: {} MB memory, {} s per review", m.limits.memory_mb, m.limits.timeout_s)?;
        let wasi: Vec<&str> = self
            .surface
            .imports
            .iter()
            .filter(|i| i.starts_with("wasi:"))
            .map(|i| i.split('@').next().unwrap_or(i))
            .collect();
        write!(
            f,
            "Imports: agent-os persona host; WASI {}",
            if wasi.is_empty() { "none".into() } else { wasi.join(", ") }
        )
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn guest_folder(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("persona.toml"), "id = \"x\"").unwrap();
    }

    #[test]
    fn a_linked_project_personas_folder_is_neither_loaded_nor_written() {
        let outside = tempfile::tempdir().unwrap();
        guest_folder(&outside.path().join("personas/x"));
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".agent-os")).unwrap();
        let project = Project::new(dir.path());
        assert!(scopes(&project).iter().all(|(s, _)| *s != Scope::Project));
        let e = scope_dir(&project, Scope::Project).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert!(remove(&project, Scope::Project, "x").is_err());
        assert!(outside.path().join("personas/x/persona.toml").exists(), "nothing removed through the link");
    }

    #[test]
    fn install_reads_no_link_from_its_source() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "id = \"x\"").unwrap();
        let src = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), src.path().join("persona.toml")).unwrap();
        let e = prepare(src.path(), None).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        // A manifest of 1 GiB (sparse): refused by its size, not read.
        let src = tempfile::tempdir().unwrap();
        std::fs::File::create(src.path().join("persona.toml")).unwrap().set_len(1 << 30).unwrap();
        let e = prepare(src.path(), None).unwrap_err().to_string();
        assert!(e.contains("limit"), "a 1 GiB manifest is refused by its size: {e}");
    }
}
