//! `agent-os --version` names what the binary carries (the persona components,
//! by sha256) and what it finds on disk (the model, ONNX Runtime), without
//! loading anything; `agent-os setup` runs the embedded setup script.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::support::{BIN, GUESTS};

const CORE: [&str; 6] = ["architect", "engineer", "data", "qa", "security", "sre"];
const MODEL_FILES: [&str; 5] =
    ["model.onnx", "tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"];

fn version(models: &Path, state: &Path, flag: &str) -> String {
    let out = Command::new(BIN)
        .arg(flag)
        .env("AGENT_OS_MODELS_DIR", models)
        .env("AGENT_OS_STATE_DIR", state)
        .env_remove("AGENT_OS_MODEL_DIR")
        .env_remove("AGENT_OS_ORT_LIB")
        .output()
        .expect("running agent-os --version");
    assert!(out.status.success(), "{flag}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn version_names_the_embedded_components_and_what_it_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let (models, state) = (tmp.path().join("models"), tmp.path().join("state"));
    let text = version(&models, &state, "--version");
    assert!(text.starts_with(&format!("agent-os {} (", env!("CARGO_PKG_VERSION"))), "{text}");
    for id in CORE {
        let wasm = std::fs::read(Path::new(GUESTS).join(format!("agent_os_persona_{id}.wasm"))).unwrap();
        let sha = hex::encode(Sha256::digest(&wasm));
        let line = text.lines().find(|l| l.trim_start().starts_with(&format!("{id} "))).unwrap_or_else(|| {
            panic!("no line for {id}:\n{text}");
        });
        assert!(line.contains(&format!("sha256:{}", &sha[..12])), "{id} is not the built component:\n{line}");
    }
    let ort = format!("ONNX Runtime: {}", agent_os::version::ORT_VERSION);
    for want in ["all-MiniLM-L6-v2", &ort, "wasmtime 48.0.8", "lancedb 0.41.0"] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    // Nothing installed: both are reported missing, with the command that installs them.
    assert_eq!(text.matches("missing").count(), 2, "{text}");
    assert!(text.contains("run `agent-os setup`"), "{text}");
    // Cheap: it opened no state and wrote nothing.
    assert!(!state.exists() && !models.exists(), "--version created folders");

    // With the files in place, both are found (presence only: nothing is loaded).
    let model_dir = models.join("all-minilm-l6-v2");
    std::fs::create_dir_all(&model_dir).unwrap();
    for f in MODEL_FILES {
        std::fs::write(model_dir.join(f), b"x").unwrap();
    }
    std::fs::create_dir_all(models.join("onnxruntime")).unwrap();
    std::fs::write(models.join("onnxruntime/libonnxruntime.so"), b"x").unwrap();
    let found = version(&models, &state, "-V");
    assert_eq!(found.matches(": found").count(), 2, "{found}");
    assert!(!found.contains("missing"), "{found}");
}

#[test]
fn setup_runs_the_embedded_script_and_reports_its_failure() {
    let tmp = tempfile::tempdir().unwrap();
    // No python: the script stops before any download and says why.
    let out = Command::new(BIN)
        .arg("setup")
        .env("AGENT_OS_MODELS_DIR", tmp.path())
        .env("PYTHON", tmp.path().join("no-python"))
        .output()
        .expect("running agent-os setup");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("setup-models: FAILED") && err.contains("no-python is not installed"), "{err}");
    assert!(err.contains("`agent-os setup` did not finish"), "{err}");
}
