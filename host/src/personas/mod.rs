//! The persona registry: the built-in personas embedded in the binary and
//! the ones installed into the project (`.agent-os/personas/<id>/`).

pub mod cli;
pub mod files;
pub mod install;
pub mod lock;
pub mod manifest;
pub mod oci;
pub mod remote;
pub mod verify;
pub mod watch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use files::{MAX_COMPONENT_BYTES, MAX_MANIFEST_BYTES, MAX_PROMPT_BYTES, PersonaFiles};
pub use manifest::{Capabilities, Kind, Limits, Manifest, ManifestError};
pub use verify::VerifyError;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_personas.rs"));
}

/// The WIT package version this host implements.
pub const HOST_API: semver::Version = semver::Version::new(0, 1, 0);

/// The ids of the six core personas, in the order tools are listed.
pub const CORE_IDS: [&str; 6] = ["architect", "engineer", "data", "qa", "security", "sre"];

#[derive(Debug, thiserror::Error)]
pub enum PersonaError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error(
        "{id}: the component's sha256 is {actual} but the manifest pins {expected}; reinstall the persona or fix the manifest"
    )]
    HashMismatch { id: String, expected: String, actual: String },
    #[error("{id}: an installed persona must pin its component with sha256 = \"{actual}\" in persona.toml")]
    HashMissing { id: String, actual: String },
    #[error(
        "{id}: built for persona API {wanted}, but this agent-os provides {HOST_API}; rebuild it against agent-os-persona-sdk {HOST_API}"
    )]
    IncompatibleApi { id: String, wanted: String },
    #[error("{id}: the id clashes with the core persona '{id}' (core personas: {}); choose another id", CORE_IDS.join(", "))]
    ClashesWithCore { id: String },
    #[error("{id}: {source}")]
    Verify { id: String, source: VerifyError },
    #[error("{file}: the manifest id '{id}' does not match its folder '{folder}'")]
    FolderMismatch { file: String, id: String, folder: String },
    #[error(transparent)]
    Read(#[from] crate::fsx::ReadError),
    #[error(
        "{id}: the project's persona {folder} has the id of your user-scope persona '{id}'; the project's copy is not loaded (a project persona never replaces yours): rename it in the project"
    )]
    ClashesWithUser { id: String, folder: String },
    #[error("{folder}: {reason}")]
    Unreadable { folder: String, reason: String },
}

/// One persona ready to run.
#[derive(Debug)]
pub struct PersonaDef {
    pub manifest: Manifest,
    pub prompt: String,
    pub component: Arc<[u8]>,
    /// Hex sha256 of the component bytes (the compile-cache key).
    pub sha256: String,
    pub builtin: bool,
    /// Where an installed persona was loaded from, and its scope.
    pub installed: Option<(Scope, PathBuf)>,
    /// The manifest's read-files globs, matched by `read_project_file`.
    pub readable: globset::GlobSet,
}

impl PersonaDef {
    pub fn new(manifest: Manifest, prompt: String, component: Arc<[u8]>, sha256: String, builtin: bool) -> Self {
        // Manifest::parse refuses globs that do not build; one that reaches
        // here unchecked grants nothing rather than everything.
        let readable = manifest.capabilities.read_set().unwrap_or_else(|e| {
            tracing::warn!(persona = %manifest.id, "read-files globs grant nothing: {e}");
            globset::GlobSet::empty()
        });
        Self { manifest, prompt, component, sha256, builtin, installed: None, readable }
    }
}

/// Where an installed persona lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `.agent-os/personas/<id>/` in the project.
    Project,
    /// The user's personas folder, shared by every project.
    User,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Project => "project",
            Scope::User => "user",
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Registry {
    personas: BTreeMap<String, Arc<PersonaDef>>,
    /// Project personas left out because their current content is not trusted.
    untrusted: Vec<Untrusted>,
    /// One sentence for the agent when the project ships untrusted content.
    trust_notice: Option<String>,
}

/// A project persona that is not loaded, compiled or run because the user
/// has not trusted its current content (`agent-os trust`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted {
    /// The folder name (the id it would have).
    pub id: String,
    pub folder: PathBuf,
    /// Trusted once, changed since.
    pub changed: bool,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether a component built for `api` (e.g. "0.1" or "0.1.0") runs on this host.
pub fn api_compatible(api: &str) -> bool {
    semver::VersionReq::parse(&format!("^{api}")).map(|req| req.matches(&HOST_API)).unwrap_or(false)
}

impl Registry {
    /// The built-in personas only.
    pub fn builtin() -> Self {
        let mut personas = BTreeMap::new();
        for (id, manifest, prompt, wasm) in builtin::BUILTIN {
            let manifest = Manifest::parse(&format!("personas/{id}/persona.toml"), manifest)
                .expect("built-in manifests are checked by the test suite");
            personas.insert(
                id.to_string(),
                Arc::new(PersonaDef::new(manifest, prompt.to_string(), Arc::from(*wasm), sha256_hex(wasm), true)),
            );
        }
        Self { personas, ..Self::default() }
    }

    /// Built-ins, the user's personas, and the project's personas whose
    /// current content the user has trusted.
    pub fn load_project(project: &crate::project::Project) -> (Self, Vec<PersonaError>) {
        Self::from_trust(install::user_dir().as_deref(), crate::trust::check(project))
    }

    /// Built-ins, the personas in `user_dir`, and the trusted project
    /// personas of `trust`. A project persona never replaces a core or
    /// user-scope persona of the same id; an untrusted one is listed in
    /// [`Self::untrusted`] and nothing of it is compiled or run.
    pub fn from_trust(user_dir: Option<&Path>, trust: crate::trust::ProjectTrust) -> (Self, Vec<PersonaError>) {
        let mut reg = Self::builtin();
        let mut errors = Vec::new();
        reg.trust_notice = trust.notice();
        if let Some(dir) = user_dir {
            for folder in installed_folders(dir) {
                match load_installed(&folder) {
                    Ok(mut def) => {
                        def.installed = Some((Scope::User, folder));
                        reg.personas.insert(def.manifest.id.clone(), Arc::new(def));
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        for item in trust.into_items() {
            let files = match item.content {
                crate::trust::Content::Persona(files) => files,
                crate::trust::Content::Unreadable(reason) if item.kind == crate::trust::ItemKind::Persona => {
                    errors.push(PersonaError::Unreadable { folder: item.path.display().to_string(), reason });
                    continue;
                }
                _ => continue,
            };
            let id = files.manifest.id.clone();
            let folder = files.folder.clone();
            if CORE_IDS.contains(&id.as_str()) {
                errors.push(PersonaError::ClashesWithCore { id });
                continue;
            }
            if reg.personas.contains_key(&id) {
                errors.push(PersonaError::ClashesWithUser { id, folder: folder.display().to_string() });
                continue;
            }
            match item.status {
                crate::trust::Status::Trusted => match (*files).into_def() {
                    Ok(mut def) => {
                        def.installed = Some((Scope::Project, folder));
                        reg.personas.insert(id, Arc::new(def));
                    }
                    Err(e) => errors.push(e),
                },
                status => {
                    reg.untrusted.push(Untrusted { id, folder, changed: status == crate::trust::Status::Changed })
                }
            }
        }
        (reg, errors)
    }

    /// Project personas not loaded because they are not trusted.
    pub fn untrusted(&self) -> &[Untrusted] {
        &self.untrusted
    }

    /// The sentence that tells an agent the project ships untrusted content
    /// and how the human trusts it; `None` when there is none.
    pub fn trust_notice(&self) -> Option<&str> {
        self.trust_notice.as_deref()
    }

    /// What an installed persona set looks like, to tell whether a reload changed it.
    pub fn fingerprint(&self) -> Vec<(String, String, Manifest)> {
        self.all().iter().map(|p| (p.manifest.id.clone(), p.sha256.clone(), p.manifest.clone())).collect()
    }

    pub fn get(&self, id: &str) -> Option<Arc<PersonaDef>> {
        self.personas.get(id).cloned()
    }

    /// Core personas first in their fixed order, then installed ones by id.
    pub fn all(&self) -> Vec<Arc<PersonaDef>> {
        let mut out: Vec<_> = CORE_IDS.iter().filter_map(|id| self.get(id)).collect();
        out.extend(self.personas.values().filter(|p| !p.builtin).cloned());
        out
    }

    pub fn ids(&self) -> Vec<String> {
        self.all().iter().map(|p| p.manifest.id.clone()).collect()
    }
}

/// The persona folders under `dir`, sorted; hidden folders (an install or
/// removal in progress) and symbolic links are skipped, and so is `dir`
/// itself when it is a link.
pub fn installed_folders(dir: &Path) -> Vec<PathBuf> {
    if crate::fsx::is_symlink(dir) {
        tracing::warn!("{} is a symbolic link; personas are not loaded through links", dir.display());
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut folders: Vec<_> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        // The entry's own type: a link to a folder is not a folder here.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    folders.sort();
    folders
}

/// The checks every third-party persona passes at install and at load: its
/// id is free and a valid tool name (the manifest checks the latter), its API
/// version is compatible, the component matches the pinned sha256 (when one
/// is pinned) and imports only what the sandbox provides.
pub fn verify(manifest: &Manifest, wasm: &[u8]) -> Result<verify::Surface, PersonaError> {
    let id = manifest.id.clone();
    if CORE_IDS.contains(&id.as_str()) {
        return Err(PersonaError::ClashesWithCore { id });
    }
    if !api_compatible(&manifest.api) {
        return Err(PersonaError::IncompatibleApi { id, wanted: manifest.api.clone() });
    }
    let actual = sha256_hex(wasm);
    if let Some(expected) = &manifest.sha256
        && !expected.eq_ignore_ascii_case(&actual)
    {
        return Err(PersonaError::HashMismatch { id, expected: expected.clone(), actual });
    }
    verify::check(wasm).map_err(|source| PersonaError::Verify { id, source })
}

/// Loads and verifies one installed persona folder (bounded reads, no links).
pub fn load_installed(folder: &Path) -> Result<PersonaDef, PersonaError> {
    PersonaFiles::read(folder)?.into_def()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The read-files globs are compiled with the persona, and a grant
    /// that did not go through the manifest check grants nothing.
    #[test]
    fn a_persona_carries_its_read_files_matcher() {
        let registry = Registry::builtin();
        let qa = registry.get("qa").unwrap();
        assert!(qa.readable.is_match("src/lib.rs") && qa.readable.is_match("tests/a/b.py"));
        let mut manifest = qa.manifest.clone();
        manifest.capabilities.read_files = vec!["src/**".into()];
        let narrow = PersonaDef::new(manifest.clone(), String::new(), qa.component.clone(), qa.sha256.clone(), false);
        assert!(narrow.readable.is_match("src/a.rs") && !narrow.readable.is_match("secrets/.env"));
        manifest.capabilities.read_files = vec!["src/[".into()];
        let broken = PersonaDef::new(manifest, String::new(), qa.component.clone(), qa.sha256.clone(), false);
        assert!(!broken.readable.is_match("src/[") && !broken.readable.is_match("src/a.rs"));
    }

    #[test]
    fn builtins_are_the_six_core_personas() {
        let reg = Registry::builtin();
        assert_eq!(reg.ids(), CORE_IDS);
        for p in reg.all() {
            assert_eq!(p.manifest.kind, Kind::Core);
            assert!(api_compatible(&p.manifest.api));
            assert!(p.prompt.starts_with("# "), "{} prompt must start with a heading", p.manifest.id);
        }
    }

    #[test]
    fn api_versions() {
        assert!(api_compatible("0.1"));
        assert!(api_compatible("0.1.0"));
        assert!(!api_compatible("0.2"));
        assert!(!api_compatible("1.0"));
        assert!(!api_compatible("nonsense"));
    }
}
