//! Checks a component before the host will run it: that it is a WebAssembly
//! component, that it exports the persona world, and that everything it
//! imports is the persona host interface (at a compatible version) or one of
//! the WASI interfaces the sandbox provides. Reads the binary's import and
//! export sections only; nothing is compiled or run.

use wasmparser::{ComponentTypeRef, Encoding, Parser, Payload};

use super::HOST_API;

/// The persona WIT package a component imports the host from.
pub const PERSONA_PACKAGE: &str = "agent-os:persona";

/// WASI interfaces a persona may import. The sandbox gives them nothing to
/// reach: no preopened directories, no environment, no network, small
/// captured stdout/stderr.
pub const ALLOWED_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// The functions a persona component must export.
pub const REQUIRED_EXPORTS: [&str; 2] = ["describe", "review"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "the file is not a WebAssembly component ({0}); build it with `cargo build --release --target wasm32-wasip2`"
    )]
    NotAComponent(String),
    #[error("the component imports {}, which this agent-os does not provide to personas; a persona may import only {PERSONA_PACKAGE}/host and the WASI interfaces for clocks, random, stdio and (empty) filesystem", .0.join(", "))]
    ForbiddenImports(Vec<String>),
    #[error(
        "the component was built for persona API {found} ({import}), but this agent-os provides {HOST_API}; rebuild it against agent-os-persona-sdk {HOST_API}"
    )]
    IncompatibleImport { import: String, found: String },
    #[error("the component does not export '{0}'; export the persona with agent_os_persona_sdk::export_persona!")]
    MissingExport(&'static str),
}

/// The top-level imports and exports of a component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surface {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Reads the component's top-level import and export names.
pub fn surface(bytes: &[u8]) -> Result<Surface, VerifyError> {
    if !bytes.starts_with(b"\0asm") {
        return Err(VerifyError::NotAComponent("it does not start with the WebAssembly magic bytes".into()));
    }
    let mut out = Surface::default();
    let mut depth = 0usize;
    let mut seen_header = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| VerifyError::NotAComponent(e.message().to_string()))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if !seen_header && encoding != Encoding::Component {
                    return Err(VerifyError::NotAComponent("it is a core module".into()));
                }
                seen_header = true;
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| VerifyError::NotAComponent(e.message().to_string()))?;
                    // A world's `use types.{request, info}` imports those
                    // types by name; a type grants nothing, so only
                    // instances and functions are checked.
                    if matches!(import.ty, ComponentTypeRef::Type(_)) {
                        continue;
                    }
                    out.imports.push(import.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|e| VerifyError::NotAComponent(e.message().to_string()))?;
                    out.exports.push(export.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    if !seen_header {
        return Err(VerifyError::NotAComponent("it is empty".into()));
    }
    Ok(out)
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, Some(`1.2.3`)).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((iface, v)) => (iface, Some(v)),
        None => (name, None),
    }
}

/// Whether a WASI import is one the sandbox provides (any 0.2.x version).
fn wasi_allowed(name: &str) -> bool {
    let (iface, version) = split_version(name);
    ALLOWED_WASI.contains(&iface)
        && version.is_some_and(|v| semver::Version::parse(v).is_ok_and(|v| v.major == 0 && v.minor == 2))
}

/// Checks a component's imports and exports; returns its surface.
pub fn check(bytes: &[u8]) -> Result<Surface, VerifyError> {
    let s = surface(bytes)?;
    let mut forbidden = Vec::new();
    for name in &s.imports {
        let (iface, version) = split_version(name);
        if let Some(rest) = iface.strip_prefix(PERSONA_PACKAGE) {
            if !matches!(rest, "/host" | "/types") {
                forbidden.push(name.clone());
                continue;
            }
            let found = version.unwrap_or("none");
            let req = semver::VersionReq::parse(&format!("^{found}"));
            if !req.is_ok_and(|r| r.matches(&HOST_API)) {
                return Err(VerifyError::IncompatibleImport { import: name.clone(), found: found.to_string() });
            }
        } else if !wasi_allowed(name) {
            forbidden.push(name.clone());
        }
    }
    if !forbidden.is_empty() {
        return Err(VerifyError::ForbiddenImports(forbidden));
    }
    for required in REQUIRED_EXPORTS {
        if !s.exports.iter().any(|e| e == required) {
            return Err(VerifyError::MissingExport(required));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personas::Registry;

    fn guest(name: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("AGENT_OS_TEST_GUESTS_DIR")).join(format!("agent_os_test_{name}.wasm")))
            .expect("test guest built by host/build.rs")
    }

    #[test]
    fn every_core_persona_passes() {
        for p in Registry::builtin().all() {
            let s = check(&p.component).unwrap_or_else(|e| panic!("{}: {e}", p.manifest.id));
            assert!(s.imports.iter().any(|i| i.starts_with("agent-os:persona/host@0.1")), "{:?}", s.imports);
        }
    }

    #[test]
    fn a_foreign_import_is_refused_by_name() {
        let e = check(&guest("rogue")).unwrap_err();
        let VerifyError::ForbiddenImports(names) = &e else { panic!("{e}") };
        assert!(names.iter().any(|n| n.starts_with("evil:exfil/net")), "{names:?}");
        assert!(e.to_string().contains("evil:exfil/net"), "{e}");
    }

    #[test]
    fn garbage_and_core_modules_are_not_components() {
        assert!(matches!(check(b"not wasm at all"), Err(VerifyError::NotAComponent(_))));
        // The smallest core module: magic and version 1.
        let e = check(b"\0asm\x01\0\0\0").unwrap_err();
        assert!(e.to_string().contains("core module"), "{e}");
    }

    #[test]
    fn wasi_versions_and_interfaces() {
        assert!(wasi_allowed("wasi:io/streams@0.2.6"));
        assert!(!wasi_allowed("wasi:io/streams@0.3.0"));
        assert!(!wasi_allowed("wasi:sockets/tcp@0.2.6"));
        assert!(!wasi_allowed("wasi:http/outgoing-handler@0.2.6"));
        assert!(!wasi_allowed("wasi:io/streams"));
    }
}
