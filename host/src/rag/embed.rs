//! Local sentence embeddings (all-MiniLM-L6-v2 through ONNX Runtime, loaded
//! from files on disk). Nothing is downloaded at run time: when the model or
//! the runtime library is missing, [`Embedder::load`] says which file and
//! search runs on full text alone.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Dimensions of the vectors the bundled model produces.
pub const DIM: usize = 384;
/// Word pieces per passage the model reads; longer text is truncated.
pub const MAX_TOKENS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "embedding model file {0} is missing; run `agent-os setup` or scripts/setup-models.sh (or set AGENT_OS_MODEL_DIR)"
    )]
    MissingFile(PathBuf),
    #[error(
        "ONNX Runtime library {0} is missing; run `agent-os setup` or scripts/setup-models.sh (or set AGENT_OS_ORT_LIB)"
    )]
    MissingRuntime(PathBuf),
    #[error("could not load the embedding model: {0}")]
    Load(String),
    #[error("embedding failed: {0}")]
    Embed(String),
    #[error("no embedding model: {0}; search runs on full text only")]
    NoFolder(String),
    #[error("not loading {path}: {why}")]
    Unsafe { path: PathBuf, why: String },
}

/// Where the model and the runtime library are looked for.
#[derive(Debug, Clone)]
pub struct ModelPaths {
    pub model_dir: PathBuf,
    pub ort_lib: PathBuf,
}

impl ModelPaths {
    /// `AGENT_OS_MODEL_DIR` / `AGENT_OS_ORT_LIB`, else under
    /// `$AGENT_OS_MODELS_DIR`, else `models` in the user's cache folder
    /// (`~/.cache/agent-os/models`; see [`crate::dirs`]). Every path is
    /// absolute: nothing is looked for under the current directory, which is
    /// usually the project a repository controls.
    pub fn from_env() -> Result<Self, EmbedError> {
        let var = |name: &str| -> Result<Option<PathBuf>, EmbedError> {
            match std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from) {
                Some(p) if p.is_absolute() => Ok(Some(p)),
                Some(p) => Err(EmbedError::NoFolder(format!("{name}={} is not an absolute path", p.display()))),
                None => Ok(None),
            }
        };
        let (model_dir, ort_lib) = (var("AGENT_OS_MODEL_DIR")?, var("AGENT_OS_ORT_LIB")?);
        let base = || -> Result<PathBuf, EmbedError> {
            match var("AGENT_OS_MODELS_DIR")? {
                Some(b) => Ok(b),
                None => crate::dirs::dir(crate::dirs::Kind::Cache)
                    .map(|d| d.join("models"))
                    .map_err(|e| EmbedError::NoFolder(format!("{e} (or AGENT_OS_MODELS_DIR)"))),
            }
        };
        let model_dir = match model_dir {
            Some(d) => d,
            None => base()?.join("all-minilm-l6-v2"),
        };
        let ort_lib = match ort_lib {
            Some(l) => l,
            None => base()?.join("onnxruntime/libonnxruntime.so"),
        };
        Ok(Self { model_dir, ort_lib })
    }

    pub const FILES: [&'static str; 5] =
        ["model.onnx", "tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"];

    /// The first required file that is missing, if any.
    pub fn check(&self) -> Result<(), EmbedError> {
        if !self.ort_lib.is_file() {
            return Err(EmbedError::MissingRuntime(self.ort_lib.clone()));
        }
        for f in Self::FILES {
            let p = self.model_dir.join(f);
            if !p.is_file() {
                return Err(EmbedError::MissingFile(p));
            }
        }
        Ok(())
    }
}

/// A loaded embedding model. Embedding is CPU-bound and blocking.
pub struct Embedder {
    model: Mutex<fastembed::TextEmbedding>,
    pub name: String,
}

fn read(p: &Path) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(p).map_err(|_| EmbedError::MissingFile(p.to_path_buf()))
}

impl Embedder {
    pub fn load(paths: &ModelPaths) -> Result<Self, EmbedError> {
        paths.check()?;
        check_library(&paths.ort_lib)?;
        // ort (load-dynamic) reads the library path from this variable on first use.
        // SAFETY: set once, before any ONNX Runtime call, while no other thread reads it.
        unsafe { std::env::set_var("ORT_DYLIB_PATH", &paths.ort_lib) };
        let dir = &paths.model_dir;
        let tokenizer = fastembed::TokenizerFiles {
            tokenizer_file: read(&dir.join("tokenizer.json"))?,
            config_file: read(&dir.join("config.json"))?,
            special_tokens_map_file: read(&dir.join("special_tokens_map.json"))?,
            tokenizer_config_file: read(&dir.join("tokenizer_config.json"))?,
        };
        let onnx = read(&dir.join("model.onnx"))?;
        let model = fastembed::UserDefinedEmbeddingModel::new(onnx, tokenizer).with_pooling(fastembed::Pooling::Mean);
        // ONNX Runtime's pool threads spin for a while after each run by
        // default. On two cores that spinning takes the CPU from everything
        // else: the full-text ranker a hybrid search runs beside the query
        // embedding, the MCP request threads, the job workers. Measured on a
        // loaded two-core machine, one query's embedding p50: 20-23 ms
        // spinning, 3.8-4.5 ms not.
        let opts = fastembed::InitOptionsUserDefined::new()
            .with_max_length(MAX_TOKENS)
            .with_session_config("session.intra_op.allow_spinning", "0")
            .with_session_config("session.inter_op.allow_spinning", "0");
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fastembed::TextEmbedding::try_new_from_user_defined(model, opts)
        }))
        .map_err(|_| EmbedError::Load("ONNX Runtime panicked while loading (incompatible library?)".into()))?
        .map_err(|e| EmbedError::Load(format!("{e:#}")))?;
        let me = Self { model: Mutex::new(loaded), name: "all-MiniLM-L6-v2".into() };
        let probe = me.embed(&["probe"])?;
        if probe.first().map(|v| v.len()) != Some(DIM) {
            return Err(EmbedError::Load(format!(
                "the model produces {} dimensions; {DIM} are expected",
                probe.first().map(|v| v.len()).unwrap_or(0)
            )));
        }
        Ok(me)
    }

    /// Unit-length vectors for `texts`.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut model = self.model.lock().unwrap_or_else(|p| p.into_inner());
        let out = model.embed(texts, Some(32)).map_err(|e| EmbedError::Embed(format!("{e:#}")))?;
        Ok(out.into_iter().map(normalise).collect())
    }
}

/// Refuses to have ONNX Runtime load a native library (or one in a folder)
/// that another user could have written: the file, after following links,
/// and its folder must belong to this user or to root and be writable by
/// neither group nor others.
pub fn check_library(lib: &Path) -> Result<(), EmbedError> {
    let unsafe_because = |path: &Path, why: String| EmbedError::Unsafe {
        path: path.to_path_buf(),
        why: format!(
            "{why}; reinstall it with scripts/setup-models.sh or point AGENT_OS_ORT_LIB at a library only you (or root) can write"
        ),
    };
    let real = lib.canonicalize().map_err(|_| EmbedError::MissingRuntime(lib.to_path_buf()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        let folder = real.parent().unwrap_or(Path::new("/"));
        for p in [real.as_path(), folder] {
            let meta = std::fs::metadata(p).map_err(|e| unsafe_because(p, e.to_string()))?;
            if meta.uid() != me && meta.uid() != 0 {
                return Err(unsafe_because(
                    p,
                    format!("{} belongs to user id {}, not you ({me})", p.display(), meta.uid()),
                ));
            }
            // A sticky world-writable folder (/tmp) still lets others add files,
            // though not replace this one; refuse it anyway: a library belongs elsewhere.
            if meta.mode() & 0o022 != 0 {
                return Err(unsafe_because(
                    p,
                    format!("group or others can write {} (mode {:o})", p.display(), meta.mode() & 0o777),
                ));
            }
        }
    }
    Ok(())
}

fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_library_others_can_write_is_not_loaded() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("ort");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let lib = dir.join("libonnxruntime.so");
        std::fs::write(&lib, b"\x7fELF").unwrap();
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
        check_library(&lib).unwrap();
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = check_library(&lib).unwrap_err().to_string();
        assert!(e.contains("others can write") && e.contains("AGENT_OS_ORT_LIB"), "{e}");
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check_library(&lib).is_err(), "the folder is checked too");
        // A link is followed to the real file, which is what is checked.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = t.path().join("link.so");
        std::os::unix::fs::symlink(&lib, &link).unwrap();
        check_library(&link).unwrap();
    }

    #[test]
    fn model_paths_are_never_relative() {
        let var = |name: &str| std::env::var_os(name);
        if var("AGENT_OS_MODEL_DIR").is_some() || var("AGENT_OS_ORT_LIB").is_some() {
            return;
        }
        let e = ModelPaths::from_env();
        if let Ok(p) = e {
            assert!(p.model_dir.is_absolute() && p.ort_lib.is_absolute(), "{p:?}");
        }
    }
}
