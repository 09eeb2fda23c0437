//! Where a project's state lives, and confinement of paths to its root.
//!
//! A project's mutable state (job database, standards index, proposals) is
//! the user's, not the repository's: it lives in the user's state folder
//! under [`project_key`], never in the checkout, so nothing a repository
//! ships is opened as a database.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dirs::{self, DirsError, Kind};

/// The name of a project's folder in the user's state and data folders:
/// `<basename>-<first 16 hex digits of sha256(canonical root)>`, the basename
/// cut to `[A-Za-z0-9._-]` and 32 characters. Two checkouts of the same
/// repository get different keys; the same folder always gets the same one.
/// Helper code that records per-project data (trust records) uses it too.
pub fn project_key(root: &Path) -> String {
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(canonical.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = canonical.to_string_lossy().as_bytes().to_vec();
    let digest = hex::encode(Sha256::digest(&bytes));
    let base: String = canonical
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .take(32)
                .collect()
        })
        .unwrap_or_default();
    let base = if base.is_empty() { "project" } else { &base };
    format!("{base}-{}", &digest[..16])
}

/// The job database's file name in a project's state folder.
pub const JOBS_DB: &str = "jobs.db";
/// The standards index's folder name in a project's state folder.
pub const INDEX_DIR: &str = "standards-index";
/// The proposals database's file name in a project's state folder.
pub const PROPOSALS_DB: &str = "standards.db";

/// The directories of one project (the folder the server runs for).
#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("'{0}' is absolute; give a path relative to the project root")]
    Absolute(String),
    #[error("'{0}' leaves the project root")]
    Escapes(String),
    #[error("'{path}': {source}")]
    Io { path: String, source: std::io::Error },
}

impl Project {
    /// A project rooted at `root` (made absolute and canonical when it exists).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let root = root.canonicalize().unwrap_or(root);
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn agent_dir(&self) -> PathBuf {
        self.root.join(".agent-os")
    }

    pub fn standards_dir(&self) -> PathBuf {
        self.agent_dir().join("standards")
    }

    pub fn personas_dir(&self) -> PathBuf {
        self.agent_dir().join("personas")
    }

    /// This project's key in the user's folders: see [`project_key`].
    pub fn key(&self) -> String {
        project_key(&self.root)
    }

    /// Where this project's mutable state lives:
    /// `<user state folder>/projects/<key>`. Only the path; it may not exist.
    pub fn state_path(&self) -> Result<PathBuf, DirsError> {
        Ok(dirs::dir(Kind::State)?.join("projects").join(self.key()))
    }

    /// [`Project::state_path`], created (mode 0700) when missing and checked
    /// to be a real folder of this user that nobody else can write.
    pub fn state_dir(&self) -> Result<PathBuf, DirsError> {
        let base = dirs::ensure(Kind::State)?;
        let projects = base.join("projects");
        dirs::ensure_private(&projects, Kind::State)?;
        let d = projects.join(self.key());
        dirs::ensure_private(&d, Kind::State)?;
        Ok(d)
    }

    /// The job database, in the state folder (created when missing).
    pub fn jobs_db(&self) -> Result<PathBuf, DirsError> {
        Ok(self.state_dir()?.join(JOBS_DB))
    }

    /// The LanceDB standards index (rebuilt from the standards when deleted),
    /// in the state folder (created when missing).
    pub fn index_dir(&self) -> Result<PathBuf, DirsError> {
        Ok(self.state_dir()?.join(INDEX_DIR))
    }

    /// The database of standard proposals and decisions, in the state folder
    /// (created when missing).
    pub fn proposals_db(&self) -> Result<PathBuf, DirsError> {
        Ok(self.state_dir()?.join(PROPOSALS_DB))
    }

    /// Where the user's trust record for this project is kept:
    /// `<user data folder>/trust/<key>.toml`. Only the path.
    pub fn trust_record_path(&self) -> Result<PathBuf, DirsError> {
        Ok(dirs::dir(Kind::Data)?.join("trust").join(format!("{}.toml", self.key())))
    }

    /// Resolves `rel` inside the root, following symlinks, and refuses any
    /// path that ends up outside it. The file must exist.
    pub fn resolve_existing(&self, rel: &str) -> Result<PathBuf, PathError> {
        let lexical = self.lexical(rel)?;
        let real = lexical.canonicalize().map_err(|source| PathError::Io { path: rel.to_string(), source })?;
        if !real.starts_with(&self.root) {
            return Err(PathError::Escapes(rel.to_string()));
        }
        Ok(real)
    }

    /// Joins `rel` to the root without touching the disk, refusing absolute
    /// paths and `..` that climbs out.
    pub fn lexical(&self, rel: &str) -> Result<PathBuf, PathError> {
        let p = Path::new(rel);
        if p.is_absolute() || rel.starts_with('\\') {
            return Err(PathError::Absolute(rel.to_string()));
        }
        let mut depth: i32 = 0;
        let mut out = self.root.clone();
        for c in p.components() {
            match c {
                Component::Normal(s) => {
                    depth += 1;
                    out.push(s);
                }
                Component::CurDir => {}
                Component::ParentDir => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(PathError::Escapes(rel.to_string()));
                    }
                    out.pop();
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(PathError::Absolute(rel.to_string()));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_absolute_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = Project::new(dir.path());
        assert!(matches!(p.lexical("../x"), Err(PathError::Escapes(_))));
        assert!(matches!(p.lexical("a/../../x"), Err(PathError::Escapes(_))));
        assert!(matches!(p.lexical("/etc/passwd"), Err(PathError::Absolute(_))));
        assert!(p.lexical("a/./b/../c").unwrap().ends_with("a/c"));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_out_of_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let p = Project::new(dir.path());
        std::os::unix::fs::symlink("/etc", dir.path().join("etc")).unwrap();
        assert!(matches!(p.resolve_existing("etc/hostname"), Err(PathError::Escapes(_)) | Err(PathError::Io { .. })));
    }
}

/// The user's cache folder: `$AGENT_OS_CACHE_DIR`, default `~/.cache/agent-os`.
pub fn user_cache_dir() -> PathBuf {
    std::env::var_os("AGENT_OS_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        home.join(".cache/agent-os")
    })
}
