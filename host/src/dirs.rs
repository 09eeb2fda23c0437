//! The user's own folders: configuration, data (trust records), state (each
//! project's index and job database) and cache (compiled components,
//! embeddings). Every one resolves to an absolute path from the user's
//! environment, never from the current directory: with no usable `HOME` or
//! XDG variable, the folder is unavailable and the caller says how to set one.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DirsError {
    #[error("cannot tell where your {kind} folder is: set {var} (or XDG_{xdg}_HOME, or HOME) to an absolute path")]
    Unknown { kind: &'static str, var: &'static str, xdg: &'static str },
    #[error(
        "{path} is not safe to use as your {kind} folder: {why}; remove it, or point {var} at a folder only you can write"
    )]
    Unsafe { kind: &'static str, path: String, why: String, var: &'static str },
    #[error(
        "your {kind} folder {path} is inside the project {root}, where a repository could plant its content; point {var} at a folder outside the project"
    )]
    InsideProject { kind: &'static str, path: String, root: String, var: &'static str },
    #[error("could not create {path}: {source}")]
    Create { path: String, source: std::io::Error },
}

/// One of the user's folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `$AGENT_OS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/agent-os`, else `~/.config/agent-os`.
    Config,
    /// `$AGENT_OS_DATA_DIR`, else `$XDG_DATA_HOME/agent-os`, else `~/.local/share/agent-os`.
    Data,
    /// `$AGENT_OS_STATE_DIR`, else `$XDG_STATE_HOME/agent-os`, else `~/.local/state/agent-os`.
    State,
    /// `$AGENT_OS_CACHE_DIR`, else `$XDG_CACHE_HOME/agent-os`, else `~/.cache/agent-os`.
    Cache,
}

impl Kind {
    fn vars(self) -> (&'static str, &'static str, &'static str, &'static str) {
        // (our variable, XDG name part, default under HOME, human name)
        match self {
            Kind::Config => ("AGENT_OS_CONFIG_DIR", "CONFIG", ".config", "config"),
            Kind::Data => ("AGENT_OS_DATA_DIR", "DATA", ".local/share", "data"),
            Kind::State => ("AGENT_OS_STATE_DIR", "STATE", ".local/state", "state"),
            Kind::Cache => ("AGENT_OS_CACHE_DIR", "CACHE", ".cache", "cache"),
        }
    }

    /// The variable that names this folder directly.
    pub fn var(self) -> &'static str {
        self.vars().0
    }
}

fn absolute_var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|s| !s.is_empty()).map(PathBuf::from).filter(|p| p.is_absolute())
}

/// The folder of `kind`, from the environment. It may not exist yet.
pub fn dir(kind: Kind) -> Result<PathBuf, DirsError> {
    let (var, xdg, home_rel, name) = kind.vars();
    if let Some(d) = absolute_var(var) {
        return Ok(d);
    }
    if let Some(d) = absolute_var(&format!("XDG_{xdg}_HOME")) {
        return Ok(d.join("agent-os"));
    }
    if let Some(h) = absolute_var("HOME") {
        return Ok(h.join(home_rel).join("agent-os"));
    }
    Err(DirsError::Unknown { kind: name, var, xdg })
}

/// The folder of `kind`, created (mode 0700) when missing and checked to be
/// a real folder owned by this user that nobody else can write.
pub fn ensure(kind: Kind) -> Result<PathBuf, DirsError> {
    let d = dir(kind)?;
    ensure_private(&d, kind)?;
    Ok(d)
}

/// Creates `d` (and its parents) when missing, then checks it like [`check_private`].
pub fn ensure_private(d: &Path, kind: Kind) -> Result<(), DirsError> {
    if std::fs::symlink_metadata(d).is_err() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(d).map_err(|source| DirsError::Create { path: d.display().to_string(), source })?;
    }
    check_private(d, kind)
}

/// Refuses a user folder that lies inside the project at `root` (a committed
/// editor configuration could point AGENT_OS_DATA_DIR or AGENT_OS_STATE_DIR
/// there, so that trust records or a job database come from the repository).
pub fn outside_project(root: &Path, d: &Path, kind: Kind) -> Result<(), DirsError> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    // The folder may not exist yet: resolve its deepest existing ancestor.
    let mut real = None;
    for a in d.ancestors() {
        if let Ok(c) = a.canonicalize() {
            real = Some(c.join(d.strip_prefix(a).unwrap_or(Path::new(""))));
            break;
        }
    }
    let real = real.unwrap_or_else(|| d.to_path_buf());
    if real.starts_with(&root) {
        return Err(DirsError::InsideProject {
            kind: kind.vars().3,
            path: d.display().to_string(),
            root: root.display().to_string(),
            var: kind.var(),
        });
    }
    Ok(())
}

/// Refuses a folder (or file) that is a symlink, is owned by another user,
/// or can be written by group or others: what is loaded from it (native
/// code, a shared library, trust records) must be the user's own.
pub fn check_private(p: &Path, kind: Kind) -> Result<(), DirsError> {
    let unsafe_because =
        |why: String| DirsError::Unsafe { kind: kind.vars().3, path: p.display().to_string(), why, var: kind.var() };
    let meta = std::fs::symlink_metadata(p).map_err(|e| unsafe_because(e.to_string()))?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_because("it is a symbolic link".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(unsafe_because(format!("it belongs to user id {}, not you ({me})", meta.uid())));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(unsafe_because(format!("group or others can write it (mode {:o})", meta.mode() & 0o777)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_folders_inside_the_project_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("repo");
        std::fs::create_dir_all(root.join(".agent-os")).unwrap();
        let e = outside_project(&root, &root.join(".agent-os/trust-here/trust"), Kind::Data).unwrap_err();
        assert!(e.to_string().contains("AGENT_OS_DATA_DIR"), "{e}");
        assert!(outside_project(&root, &t.path().join("elsewhere/state"), Kind::State).is_ok());
        #[cfg(unix)]
        {
            // Through a link into the project, too.
            std::os::unix::fs::symlink(&root, t.path().join("alias")).unwrap();
            assert!(outside_project(&root, &t.path().join("alias/x"), Kind::State).is_err());
        }
    }

    #[cfg(unix)]
    #[test]
    fn private_folders_are_checked() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        ensure_private(&d, Kind::Cache).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_private(&d, Kind::Cache).unwrap_err().to_string();
        assert!(e.contains("others can write"), "{e}");
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert!(check_private(&link, Kind::Cache).unwrap_err().to_string().contains("symbolic link"));
    }
}
