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
    #[error("embedding model file {0} is missing; run scripts/setup-models.sh (or set AGENT_OS_MODEL_DIR)")]
    MissingFile(PathBuf),
    #[error("ONNX Runtime library {0} is missing; run scripts/setup-models.sh (or set AGENT_OS_ORT_LIB)")]
    MissingRuntime(PathBuf),
    #[error("could not load the embedding model: {0}")]
    Load(String),
    #[error("embedding failed: {0}")]
    Embed(String),
}

/// Where the model and the runtime library are looked for.
#[derive(Debug, Clone)]
pub struct ModelPaths {
    pub model_dir: PathBuf,
    pub ort_lib: PathBuf,
}

impl ModelPaths {
    /// `AGENT_OS_MODEL_DIR` / `AGENT_OS_ORT_LIB`, else under
    /// `$AGENT_OS_MODELS_DIR` (default `~/.cache/agent-os/models`).
    pub fn from_env() -> Self {
        let base = std::env::var_os("AGENT_OS_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            home.join(".cache/agent-os/models")
        });
        let model_dir =
            std::env::var_os("AGENT_OS_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| base.join("all-minilm-l6-v2"));
        let ort_lib = std::env::var_os("AGENT_OS_ORT_LIB")
            .map(PathBuf::from)
            .unwrap_or_else(|| base.join("onnxruntime/libonnxruntime.so"));
        Self { model_dir, ort_lib }
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
        let opts = fastembed::InitOptionsUserDefined::new().with_max_length(MAX_TOKENS);
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
        let out = model.embed(texts.to_vec(), Some(32)).map_err(|e| EmbedError::Embed(format!("{e:#}")))?;
        Ok(out.into_iter().map(normalise).collect())
    }
}

fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}
