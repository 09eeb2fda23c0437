//! Compiled components, kept in memory and on disk so a persona is compiled
//! once per machine rather than once per job.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;
use crate::dirs::Kind;
use crate::personas::PersonaDef;

/// The wasmtime release compiled artefacts belong to.
const WASMTIME_VERSION: &str = "48.0.8";

/// Where compiled components are kept: `<user cache>/components`. They are
/// native code loaded without re-checking, so they live in the user's own
/// cache, never in a project, where a cloned repository could plant one.
/// `None` when no cache folder is known (no `HOME`): components are then
/// compiled in memory only, never written next to the current directory.
pub fn default_dir() -> Option<PathBuf> {
    match crate::dirs::dir(Kind::Cache) {
        Ok(d) => Some(d.join("components")),
        Err(e) => {
            tracing::warn!("compiled components are kept in memory only: {e}");
            None
        }
    }
}

pub struct CompileCache {
    /// `None`: memory only.
    dir: Option<PathBuf>,
    /// Engine settings fingerprint; part of every file name.
    engine_key: String,
    memory: Mutex<HashMap<String, Component>>,
}

impl CompileCache {
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Self { dir, engine_key: format!("wasmtime{WASMTIME_VERSION}-{:016x}", h.finish()), memory: Mutex::default() }
    }

    fn file_for(&self, dir: &Path, sha256: &str) -> PathBuf {
        dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    pub fn get_or_compile(&self, engine: &Engine, def: &PersonaDef) -> Result<Component, PluginError> {
        if let Some(c) = self.memory.lock().unwrap_or_else(|p| p.into_inner()).get(&def.sha256) {
            return Ok(c.clone());
        }
        let file = self.dir.as_deref().map(|d| self.file_for(d, &def.sha256));
        // Only a folder (and file) of this user that nobody else can write is
        // used at all: what is in it is loaded as native code.
        let usable = match &self.dir {
            Some(dir) => match private_folder(dir) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!("not using the compiled-component cache: {e}");
                    false
                }
            },
            None => false,
        };
        if let (true, Some(file)) = (usable, &file)
            && std::fs::symlink_metadata(file).is_ok()
        {
            match crate::dirs::check_private(file, Kind::Cache) {
                // SAFETY: the file was written by `Component::serialize` of this
                // same wasmtime build (the engine fingerprint is in its name) into
                // the user's own cache directory (never the project's, which a
                // cloned repository controls), and both are checked above to be
                // this user's and writable by nobody else.
                Ok(()) => match unsafe { Component::deserialize_file(engine, file) } {
                    Ok(c) => {
                        self.remember(def, &c);
                        return Ok(c);
                    }
                    Err(e) => {
                        tracing::warn!("discarding unusable compiled component {}: {e}", file.display());
                        let _ = std::fs::remove_file(file);
                    }
                },
                Err(e) => tracing::warn!("not loading a compiled component: {e}"),
            }
        }
        let component = Component::new(engine, &*def.component)
            .map_err(|e| PluginError::Compile { id: def.manifest.id.clone(), reason: format!("{e:#}") })?;
        if let (true, Some(dir), Some(file)) = (usable, &self.dir, &file)
            && let Err(e) = store(dir, file, &component)
        {
            tracing::warn!("could not cache the compiled component at {}: {e}", file.display());
        }
        self.remember(def, &component);
        Ok(component)
    }

    fn remember(&self, def: &PersonaDef, c: &Component) {
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).insert(def.sha256.clone(), c.clone());
    }
}

/// Creates the cache folder (mode 0700) when missing and checks it and its
/// parent (the user's cache folder) with [`crate::dirs::check_private`].
fn private_folder(dir: &Path) -> Result<(), crate::dirs::DirsError> {
    if let Some(parent) = dir.parent() {
        crate::dirs::ensure_private(parent, Kind::Cache)?;
    }
    crate::dirs::ensure_private(dir, Kind::Cache)
}

fn store(dir: &Path, file: &Path, component: &Component) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(".{}.tmp{}", uuid::Uuid::new_v4().simple(), std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let written = opts.open(&tmp).and_then(|mut f| std::io::Write::write_all(&mut f, &bytes));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_cache_folder_others_can_write_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().join("cache");
        let dir = base.join("components");
        private_folder(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = private_folder(&dir).unwrap_err().to_string();
        assert!(e.contains("others can write") && e.contains("AGENT_OS_CACHE_DIR"), "{e}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o775)).unwrap();
        assert!(private_folder(&dir).is_err(), "the user cache folder itself is checked too");
    }
}
