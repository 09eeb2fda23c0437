//! `.agent-os/personas.lock`: the registry personas of a project, each
//! pinned by the digest of its artifact, so every clone installs the same
//! bytes (`agent-os persona sync`). The user commits it. It is written
//! whole to a temporary file and renamed into place, after the persona it
//! records is in place.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::project::Project;

pub const FILE: &str = "personas.lock";
const HEADER: &str = "# Registry personas of this project, pinned by digest. Written by `agent-os persona install`\n\
# and `agent-os persona update`; commit it. `agent-os persona sync` installs exactly these.\n\n";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: {message}; fix or delete it (then install the personas again)")]
    Parse { path: String, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("not written: {0}")]
    Unsafe(#[from] crate::project::PathError),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(default, rename = "persona")]
    pub personas: Vec<Entry>,
}

/// One persona installed from a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Entry {
    pub id: String,
    /// `registry/repository`, without tag or digest.
    pub repository: String,
    /// The tag it was installed or updated from (none when installed by digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The persona's version (its manifest's).
    pub version: String,
    /// `sha256:…` of the artifact's OCI manifest.
    pub digest: String,
    /// Hex sha256 of the component.
    pub component_sha256: String,
}

impl Entry {
    /// `registry/repository@digest`: exactly what sync pulls.
    pub fn pinned(&self) -> String {
        format!("{}@{}", self.repository, self.digest)
    }

    /// Where it came from, for a person: `registry/repository:tag`, or the pin.
    pub fn source(&self) -> String {
        match &self.tag {
            Some(t) => format!("{}:{t}", self.repository),
            None => self.pinned(),
        }
    }
}

pub fn path(project: &Project) -> PathBuf {
    project.agent_dir().join(FILE)
}

impl Lock {
    /// The project's lock; empty when there is none.
    pub fn load(project: &Project) -> Result<Self, LockError> {
        let p = path(project);
        let bytes = match crate::fsx::read_bounded(&p, 1 << 20) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(Self { version: 1, personas: Vec::new() }),
            Err(e) => return Err(LockError::Parse { path: p.display().to_string(), message: e.to_string() }),
        };
        let text = String::from_utf8_lossy(&bytes);
        let lock: Lock = toml::from_str(&text)
            .map_err(|e| LockError::Parse { path: p.display().to_string(), message: e.message().trim().to_string() })?;
        if lock.version != 1 {
            return Err(LockError::Parse {
                path: p.display().to_string(),
                message: format!("version {} is not one this agent-os reads (1)", lock.version),
            });
        }
        for e in &lock.personas {
            if !super::manifest::is_slug(&e.id) {
                return Err(LockError::Parse { path: p.display().to_string(), message: format!("bad id '{}'", e.id) });
            }
        }
        Ok(lock)
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.personas.iter().find(|e| e.id == id)
    }

    /// Adds or replaces the entry of its id; entries stay sorted by id.
    pub fn upsert(&mut self, entry: Entry) {
        self.personas.retain(|e| e.id != entry.id);
        self.personas.push(entry);
        self.personas.sort_by(|a, b| a.id.cmp(&b.id));
    }

    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.personas.len();
        self.personas.retain(|e| e.id != id);
        before != self.personas.len()
    }

    pub fn to_text(&self) -> String {
        format!("{HEADER}{}", toml::to_string_pretty(self).expect("a lock serialises"))
    }

    /// Writes the lock atomically ([`crate::fsx::write_atomic`]).
    pub fn save(&self, project: &Project) -> Result<PathBuf, LockError> {
        let dir = project.agent_dir();
        crate::project::create_dir_confined(project.root(), &dir)?;
        let p = path(project);
        crate::project::check_no_links(project.root(), &p)?;
        crate::fsx::write_atomic(&p, self.to_text().as_bytes())
            .map_err(|source| LockError::Io { path: p.display().to_string(), source })?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_sorted_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path());
        let mut lock = Lock::load(&project).unwrap();
        assert!(lock.personas.is_empty());
        let e = |id: &str| Entry {
            id: id.into(),
            repository: "localhost:5000/acme/x".into(),
            tag: Some("0.1.0".into()),
            version: "0.1.0".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            component_sha256: "b".repeat(64),
        };
        lock.upsert(e("zeta"));
        lock.upsert(e("alpha"));
        lock.upsert(Entry { tag: None, ..e("zeta") });
        lock.save(&project).unwrap();
        let again = Lock::load(&project).unwrap();
        assert_eq!(again, lock);
        assert_eq!(again.personas.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["alpha", "zeta"]);
        assert_eq!(again.get("zeta").unwrap().source(), format!("localhost:5000/acme/x@sha256:{}", "a".repeat(64)));
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join(".agent-os")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, [std::ffi::OsString::from(FILE)], "no temporary file is left");
        std::fs::write(path(&project), "version = 1\n[[persona]]\nid = \"x\"\nsurprise = 1\n").unwrap();
        assert!(Lock::load(&project).unwrap_err().to_string().contains("personas.lock"));
    }
}
