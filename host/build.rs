//! Compiles the persona components (the `personas-wasm` workspace) for
//! wasm32-wasip2 and embeds the six core personas into the binary.
//!
//! The nested cargo call gets its own target directory beside ours so a warm
//! build reuses it, and a clean environment so our own flags do not leak into
//! the wasm build.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const CORE: [&str; 6] = ["architect", "engineer", "data", "qa", "security", "sre"];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let guests = root.join("personas-wasm");

    for dir in ["personas-wasm", "sdk", "secret-rules", "wit", "personas"] {
        rerun_tree(&root.join(dir));
    }
    println!("cargo:rerun-if-env-changed=AGENT_OS_GUEST_TARGET_DIR");

    let target_dir = env::var_os("AGENT_OS_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| out.ancestors().nth(4).unwrap().join("wasm-guests"));

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--workspace")
        .arg("--target")
        .arg("wasm32-wasip2")
        .arg("--manifest-path")
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("could not run cargo for the persona components");
    if !status.success() {
        panic!(
            "building the persona components failed; is the wasm32-wasip2 target installed? \
             Run `rustup target add wasm32-wasip2` (scripts/setup.sh does it)."
        );
    }

    let wasm_dir = target_dir.join("wasm32-wasip2").join("release");
    let mut table = String::from("/// (id, persona.toml, prompt.md, component bytes) of each built-in persona.\n");
    table.push_str("pub static BUILTIN: &[(&str, &str, &str, &[u8])] = &[\n");
    for id in CORE {
        let file = format!("agent_os_persona_{id}.wasm");
        let src = wasm_dir.join(&file);
        let dst = out.join(format!("{id}.wasm"));
        std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("missing persona component {}: {e}", src.display()));
        let persona_dir = root.join("personas").join(id);
        writeln!(
            table,
            "    ({id:?}, include_str!({:?}), include_str!({:?}), include_bytes!({:?})),",
            persona_dir.join("persona.toml").display().to_string(),
            persona_dir.join("prompt.md").display().to_string(),
            dst.display().to_string(),
        )
        .unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out.join("builtin_personas.rs"), table).unwrap();

    bundle_standards(&manifest_dir.join("standards"), &out);
    built_with(&root);

    // Test guests (hostile and misbehaving components) are used by the tests.
    println!("cargo:rustc-env=AGENT_OS_TEST_GUESTS_DIR={}", wasm_dir.display());
}

/// Sets what `agent-os --version` reports about the build: the target, the
/// profile, and the versions of the main libraries as Cargo.lock pins them.
fn built_with(root: &Path) {
    let lock_path = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    let mut parts = Vec::new();
    for name in ["wasmtime", "lancedb", "fastembed", "ort", "rmcp"] {
        let wanted = format!("name = \"{name}\"\nversion = \"");
        let versions: Vec<&str> =
            lock.match_indices(&wanted).filter_map(|(i, m)| lock[i + m.len()..].split('"').next()).collect();
        if !versions.is_empty() {
            parts.push(format!("{name} {}", versions.join("/")));
        }
    }
    println!("cargo:rustc-env=AGENT_OS_BUILT_WITH={}", parts.join(", "));
    println!("cargo:rustc-env=AGENT_OS_TARGET={}", env::var("TARGET").unwrap_or_default());
    println!("cargo:rustc-env=AGENT_OS_PROFILE={}", env::var("PROFILE").unwrap_or_default());
}

/// Writes `bundled_standards.rs`: every `standards/universal/**/*.md` as
/// (path from `standards/`, include_str!(file)).
fn bundle_standards(standards: &Path, out: &Path) {
    rerun_tree(standards);
    let mut files = Vec::new();
    collect_md(&standards.join("universal"), &mut files);
    files.sort();
    let mut table = String::from("/// (path, markdown) of each bundled universal standard.\n");
    table.push_str("pub static UNIVERSAL: &[(&str, &str)] = &[\n");
    for f in files {
        let rel = f.strip_prefix(standards).unwrap().to_string_lossy().replace('\\', "/");
        writeln!(table, "    ({rel:?}, include_str!({:?})),", f.display().to_string()).unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out.join("bundled_standards.rs"), table).unwrap();
}

fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_md(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

fn rerun_tree(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rerun_tree(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
