//! Where a project's state lives, and confinement of paths to its root.

use std::path::{Component, Path, PathBuf};

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

    pub fn cache_dir(&self) -> PathBuf {
        self.agent_dir().join(".cache")
    }

    pub fn jobs_db(&self) -> PathBuf {
        self.cache_dir().join("jobs.db")
    }

    /// The LanceDB standards index (a cache: safe to delete).
    pub fn index_dir(&self) -> PathBuf {
        self.cache_dir().join("standards-index")
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
