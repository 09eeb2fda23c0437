//! Compiled components, kept in memory and on disk so a persona is compiled
//! once per machine rather than once per job.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;

use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;
use crate::personas::PersonaDef;

/// The wasmtime release compiled artefacts belong to.
const WASMTIME_VERSION: &str = "48.0.8";

/// Where compiled components are kept: `<user cache>/components`. They are
/// native code loaded without re-checking, so they live in the user's own
/// cache, never in a project, where a cloned repository could plant one.
pub fn default_dir() -> PathBuf {
    crate::project::user_cache_dir().join("components")
}

pub struct CompileCache {
    dir: PathBuf,
    /// Engine settings fingerprint; part of every file name.
    engine_key: String,
    memory: Mutex<HashMap<String, Component>>,
}

impl CompileCache {
    pub fn new(dir: PathBuf, engine: &Engine) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Self { dir, engine_key: format!("wasmtime{WASMTIME_VERSION}-{:016x}", h.finish()), memory: Mutex::default() }
    }

    fn file_for(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    pub fn get_or_compile(&self, engine: &Engine, def: &PersonaDef) -> Result<Component, PluginError> {
        if let Some(c) = self.memory.lock().unwrap_or_else(|p| p.into_inner()).get(&def.sha256) {
            return Ok(c.clone());
        }
        let file = self.file_for(&def.sha256);
        if file.exists() {
            // SAFETY: the file was written by `Component::serialize` of this
            // same wasmtime build (the engine fingerprint is in its name) into
            // the user's own cache directory (never the project's, which a
            // cloned repository controls).
            match unsafe { Component::deserialize_file(engine, &file) } {
                Ok(c) => {
                    self.remember(def, &c);
                    return Ok(c);
                }
                Err(e) => {
                    tracing::warn!("discarding unusable compiled component {}: {e}", file.display());
                    let _ = std::fs::remove_file(&file);
                }
            }
        }
        let component = Component::new(engine, &*def.component)
            .map_err(|e| PluginError::Compile { id: def.manifest.id.clone(), reason: format!("{e:#}") })?;
        if let Err(e) = self.store(&file, &component) {
            tracing::warn!("could not cache the compiled component at {}: {e}", file.display());
        }
        self.remember(def, &component);
        Ok(component)
    }

    fn remember(&self, def: &PersonaDef, c: &Component) {
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).insert(def.sha256.clone(), c.clone());
    }

    fn store(&self, file: &PathBuf, component: &Component) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, file)
    }
}
