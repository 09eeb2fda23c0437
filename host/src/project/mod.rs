//! Where a project's state lives, and confinement of paths to its root.
//!
//! A project's mutable state (job database, standards index, proposals) is
//! the user's, not the repository's: it lives in the user's state folder
//! under [`project_key`], never in the checkout, so nothing a repository
//! ships is opened as a database.

pub mod paths;

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
    #[error(
        "{0} is a symbolic link; agent-os does not follow links in folders a repository controls (replace it with a real folder or file)"
    )]
    Symlink(String),
    #[error("{0} is not a folder")]
    NotDir(String),
}

/// Checks that no part of `path` below `base` (which `path` must start
/// with) is a symbolic link, and that every part but the last is a folder.
/// Parts that do not exist yet are fine. `base` itself is not checked: it is
/// the project root the user chose.
pub fn check_no_links(base: &Path, path: &Path) -> Result<(), PathError> {
    let rel = path.strip_prefix(base).map_err(|_| PathError::Escapes(path.display().to_string()))?;
    let mut at = base.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for (i, c) in parts.iter().enumerate() {
        match c {
            Component::Normal(s) => at.push(s),
            Component::CurDir => continue,
            _ => return Err(PathError::Escapes(path.display().to_string())),
        }
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Err(PathError::Symlink(at.display().to_string())),
            Ok(m) if i + 1 < parts.len() && !m.is_dir() => return Err(PathError::NotDir(at.display().to_string())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(PathError::Io { path: at.display().to_string(), source }),
        }
    }
    Ok(())
}

/// Creates the folder `dir` (below `base`) and the folders between, one at a
/// time, refusing when an existing part is a symbolic link or a file: no
/// folder is ever created through a link a repository planted.
pub fn create_dir_confined(base: &Path, dir: &Path) -> Result<(), PathError> {
    let rel = dir.strip_prefix(base).map_err(|_| PathError::Escapes(dir.display().to_string()))?;
    let mut at = base.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(s) => at.push(s),
            Component::CurDir => continue,
            _ => return Err(PathError::Escapes(dir.display().to_string())),
        }
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Err(PathError::Symlink(at.display().to_string())),
            Ok(m) if !m.is_dir() => return Err(PathError::NotDir(at.display().to_string())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(&at) {
                Ok(()) => {}
                // Made by someone else meanwhile: checked again on the next turn.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if std::fs::symlink_metadata(&at).map(|m| !m.is_dir()).unwrap_or(true) {
                        return Err(PathError::NotDir(at.display().to_string()));
                    }
                }
                Err(source) => return Err(PathError::Io { path: at.display().to_string(), source }),
            },
            Err(source) => return Err(PathError::Io { path: at.display().to_string(), source }),
        }
    }
    Ok(())
}

/// The project a command run in `cwd` without `--project` means: the
/// nearest folder at or above `cwd` that has a `.agent-os` folder, looking no
/// higher than the repository `cwd` is in (the first folder with a `.git`)
/// nor than `home`, and taking only a `.agent-os` the user owns; `cwd`
/// (canonical) when there is none. Codex CLI and Gemini CLI start the server
/// in whatever folder their user runs them from, often a subfolder of the
/// project.
pub fn discover(cwd: &Path, home: Option<&Path>) -> PathBuf {
    let start = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let home = home.and_then(|h| h.canonicalize().ok());
    for dir in start.ancestors() {
        if home.as_deref() == Some(dir) && dir != start {
            break;
        }
        let marker = dir.join(".agent-os");
        if std::fs::symlink_metadata(&marker).is_ok_and(|m| m.is_dir() && mine(&m)) {
            return dir.to_path_buf();
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    start
}

/// Whether the calling user owns what `m` describes: a `.agent-os` someone
/// else left in a shared folder above (`/tmp/.agent-os`) is not a project.
#[cfg(unix)]
fn mine(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    m.uid() == unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn mine(_: &std::fs::Metadata) -> bool {
    true
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
        let d = dirs::dir(Kind::State)?.join("projects").join(self.key());
        dirs::outside_project(&self.root, &d, Kind::State)?;
        Ok(d)
    }

    /// [`Project::state_path`], created (mode 0700) when missing and checked
    /// to be a real folder of this user that nobody else can write.
    pub fn state_dir(&self) -> Result<PathBuf, DirsError> {
        self.state_path()?;
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

    /// A repository with `.agent-os` at its root, a nested folder, and a
    /// `.agent-os` above the repository that must not be picked up.
    #[test]
    fn a_subfolder_finds_its_project_within_the_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let outer = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(outer.join(".agent-os")).unwrap();
        let repo = outer.join("repo");
        let deep = repo.join("src/handlers");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        // No .agent-os in the repository: the folder itself, never the one above.
        assert_eq!(discover(&deep, None), deep);
        std::fs::create_dir_all(repo.join(".agent-os/standards")).unwrap();
        assert_eq!(discover(&deep, None), repo);
        assert_eq!(discover(&repo, None), repo);
        // A nearer .agent-os wins.
        std::fs::create_dir_all(repo.join("src/.agent-os")).unwrap();
        assert_eq!(discover(&deep, None), repo.join("src"));
        // Not above home, outside a repository.
        let home = outer.join("home");
        let work = home.join("work");
        std::fs::create_dir_all(&work).unwrap();
        assert_eq!(discover(&work, Some(&home)), work);
        // A .agent-os that is a file is not a project.
        let plain = outer.join("plain");
        std::fs::create_dir_all(plain.join("sub/.git")).unwrap();
        std::fs::write(plain.join("sub/.agent-os"), "").unwrap();
        assert_eq!(discover(&plain.join("sub"), None), plain.join("sub"));
        // Someone else's .agent-os (checked where the tests may hand a folder
        // to another user, i.e. as root).
        let shared = outer.join("shared");
        let mine = shared.join("me/work");
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::create_dir_all(shared.join(".git")).unwrap();
        std::fs::create_dir_all(shared.join(".agent-os")).unwrap();
        assert_eq!(discover(&mine, None), shared);
        if std::os::unix::fs::chown(shared.join(".agent-os"), Some(65534), Some(65534)).is_ok() {
            assert_eq!(discover(&mine, None), mine, "another user's .agent-os was taken for the project");
        } else {
            eprintln!("not root: the other user's .agent-os case is not checked");
        }
    }

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
    fn confined_folders_never_go_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path();
        create_dir_confined(root, &root.join("a/b/c")).unwrap();
        assert!(root.join("a/b/c").is_dir());
        check_no_links(root, &root.join("a/b/c/missing/x.md")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("a/link")).unwrap();
        assert!(matches!(create_dir_confined(root, &root.join("a/link/x")), Err(PathError::Symlink(_))));
        assert!(matches!(check_no_links(root, &root.join("a/link/x.md")), Err(PathError::Symlink(_))));
        assert!(matches!(check_no_links(root, &root.join("a/link")), Err(PathError::Symlink(_))));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing made outside");
        std::fs::write(root.join("a/file"), "x").unwrap();
        assert!(matches!(create_dir_confined(root, &root.join("a/file/x")), Err(PathError::NotDir(_))));
        assert!(matches!(check_no_links(root, &outside.path().join("x")), Err(PathError::Escapes(_))));
    }

    #[test]
    fn project_keys_are_stable_safe_and_distinct() {
        let a = tempfile::Builder::new().prefix("my proj\u{202e}ect.$(x)").tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let k = project_key(a.path());
        assert_eq!(k, project_key(a.path()));
        assert_ne!(k, project_key(b.path()));
        let (base, hash) = k.rsplit_once('-').unwrap();
        assert_eq!(hash.len(), 16);
        assert!(base.starts_with("myproject.x"), "{k}");
        assert!(base.len() <= 32 && k.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{k}");
        assert!(project_key(Path::new("/")).starts_with("project-"));
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
