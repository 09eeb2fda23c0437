//! `agent-os persona new`: a persona crate over the SDK that builds with one
//! command, with its manifest and prompt.

use std::path::{Path, PathBuf};

use crate::personas::manifest::is_slug;
use crate::personas::{CORE_IDS, HOST_API};

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(
        "'{0}' is not a valid persona id: use 1-40 lowercase letters, digits, '-' or '_', starting with a letter (the tool becomes invoke_<id>)"
    )]
    BadId(String),
    #[error("'{0}' is a core persona; choose another id")]
    CoreId(String),
    #[error("{0} already exists and is not empty; choose another --dir")]
    NotEmpty(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// How the new crate depends on agent-os-persona-sdk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkDep {
    /// A path dependency on an SDK checkout.
    Path(PathBuf),
    /// A registry dependency on this version.
    Version(String),
}

impl SdkDep {
    /// `$AGENT_OS_SDK_PATH` when set; else the SDK of the source tree this
    /// binary was built from, when it is still there; else the registry
    /// version matching this binary.
    pub fn detect() -> Self {
        if let Some(p) = std::env::var_os("AGENT_OS_SDK_PATH").filter(|p| !p.is_empty()) {
            return SdkDep::Path(PathBuf::from(p));
        }
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
        match built_from.join("Cargo.toml").is_file() {
            true => SdkDep::Path(built_from.canonicalize().unwrap_or(built_from)),
            false => SdkDep::Version(env!("CARGO_PKG_VERSION").to_string()),
        }
    }

    fn toml(&self) -> String {
        match self {
            SdkDep::Path(p) => format!("{{ path = {} }}", toml_string(&p.display().to_string())),
            SdkDep::Version(v) => toml_string(v),
        }
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// What `persona new` wrote.
#[derive(Debug, Clone)]
pub struct Scaffold {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// File name of the component the build produces (and the manifest names).
    pub component: String,
}

/// "my-persona" → "MyPersona".
fn type_name(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// "my-persona" → "My Persona Reviewer".
fn display_name(id: &str) -> String {
    let words: Vec<String> = id.split(['-', '_']).filter(|p| !p.is_empty()).map(type_name).collect();
    format!("{} Reviewer", words.join(" "))
}

/// Writes a new persona crate for `id` into `dir` (which must not exist or be empty).
pub fn scaffold(id: &str, dir: &Path, sdk: &SdkDep) -> Result<Scaffold, ScaffoldError> {
    if !is_slug(id) {
        return Err(ScaffoldError::BadId(id.to_string()));
    }
    if CORE_IDS.contains(&id) {
        return Err(ScaffoldError::CoreId(id.to_string()));
    }
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| ScaffoldError::Io { path, source }
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        if entries.next().is_some() {
            return Err(ScaffoldError::NotEmpty(dir.display().to_string()));
        }
    }
    let lib = format!("{}_persona", id.replace('-', "_"));
    let component = format!("{lib}.wasm");
    let ty = type_name(id);
    let name = display_name(id);
    let api = format!("{}.{}", HOST_API.major, HOST_API.minor);
    let files: Vec<(&str, String)> = vec![
        ("Cargo.toml", cargo_toml(id, &lib, sdk)),
        ("src/lib.rs", lib_rs(id, &ty, &name)),
        ("persona.toml", persona_toml(id, &name, &api, &component)),
        ("prompt.md", prompt_md(&name)),
        ("README.md", readme(id, &component)),
        (".gitignore", "/target\n".to_string()),
    ];
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(path);
    }
    Ok(Scaffold { dir: dir.to_path_buf(), files: written, component })
}

fn cargo_toml(id: &str, lib: &str, sdk: &SdkDep) -> String {
    format!(
        r#"[package]
name = "{id}-persona"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# The build writes target/wasm32-wasip2/release/{lib}.wasm, the component persona.toml names.
name = "{lib}"
crate-type = ["cdylib"]

[dependencies]
agent-os-persona-sdk = {sdk}

[profile.release]
opt-level = "s"
strip = true

# A crate of its own, even when created inside another cargo workspace.
[workspace]
"#,
        sdk = sdk.toml()
    )
}

fn lib_rs(id: &str, ty: &str, name: &str) -> String {
    format!(
        r#"//! {name}: a reviewer persona for Agent OS, compiled to a sandboxed
//! WebAssembly component. It can only call the host functions its
//! persona.toml grants.

use agent_os_persona_sdk::brief::{{Finding, Severity}};
use agent_os_persona_sdk::flow::{{self, Plan}};
use agent_os_persona_sdk::{{Info, Persona, Request, export_persona}};

struct {ty};

impl Persona for {ty} {{
    fn describe() -> Info {{
        // The id must match persona.toml; install checks it.
        Info::new("{id}", "{name}", "{id}", env!("CARGO_PKG_VERSION"))
    }}

    fn review(req: Request) -> Result<String, String> {{
        // Search the standards, run `checks`, then ask the language model,
        // or return a delegated brief when none is configured.
        let plan = Plan {{ name: "{name}", domain: "{id}", standards_limit: 5, max_tokens: 2048 }};
        flow::run(&req, &plan, checks)
    }}
}}

/// This persona's own deterministic checks over the request's context.
/// Replace them with yours.
fn checks(context: &str) -> Vec<Finding> {{
    context
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains("TODO") || line.contains("FIXME"))
        .map(|(i, _)| {{
            Finding::new(Severity::Low, "Unfinished work", "A TODO or FIXME marks work left to do; finish it or track it in an issue.")
                .at_line(i + 1)
        }})
        .collect()
}}

export_persona!({ty});

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn flags_todo_lines() {{
        let found = checks("fn a() {{}}\n// TODO: handle errors\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, Some(2));
    }}
}}
"#
    )
}

fn persona_toml(id: &str, name: &str, api: &str, component: &str) -> String {
    format!(
        r#"id = "{id}"                  # the MCP tool becomes invoke_{id}
name = "{name}"
version = "0.1.0"
api = "{api}"                   # the persona API (WIT) version this crate is built against
kind = "specialist"
domain = "{id}"                 # the standards folder it searches and proposes to
description = "Describe what this persona reviews; the calling agent reads this."
component = "{component}"
# sha256 is computed and pinned by `agent-os persona install`.

# Everything is denied unless granted here.
[capabilities]
search = true                 # search the project's standards
propose = false               # propose new standards for human review
llm = true                    # ask the configured language model
read-files = []               # globs of project files it may read, e.g. ["src/**"]

[limits]
memory-mb = 128
timeout-s = 300
"#
    )
}

fn prompt_md(name: &str) -> String {
    format!(
        "# {name}\n\nYou are the {name}. Say what you review, what you look for first, and how you report it:\n\
         a short summary, then findings ordered by severity, each with the line, why it matters and the fix.\n\
         Cite the project standards you apply. Keep this prompt under 1,500 tokens.\n"
    )
}

fn readme(id: &str, component: &str) -> String {
    format!(
        "# {id} persona\n\n\
         Build the component (needs `rustup target add wasm32-wasip2`):\n\n\
         ```sh\ncargo build --release --target wasm32-wasip2\n```\n\n\
         It is written to `target/wasm32-wasip2/release/{component}`. Install it into a project\n\
         (add `--user` to install it for every project):\n\n\
         ```sh\nagent-os --project /path/to/project persona install .\n```\n\n\
         A running `agent-os serve` picks it up at once as the `invoke_{id}` tool.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personas::Manifest;

    #[test]
    fn scaffolds_a_crate_whose_manifest_parses() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("my-lint");
        let s = scaffold("my-lint", &dir, &SdkDep::Path("/opt/sdk".into())).unwrap();
        assert_eq!(s.component, "my_lint_persona.wasm");
        let m = Manifest::parse("persona.toml", &std::fs::read_to_string(dir.join("persona.toml")).unwrap()).unwrap();
        assert_eq!(m.id, "my-lint");
        assert_eq!(m.component, s.component);
        assert!(m.sha256.is_none() && !m.capabilities.propose && m.capabilities.read_files.is_empty());
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(cargo.contains("agent-os-persona-sdk = { path = \"/opt/sdk\" }"), "{cargo}");
        assert!(cargo.contains("name = \"my_lint_persona\""), "{cargo}");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("struct MyLint;") && lib.contains("Info::new(\"my-lint\""), "{lib}");
        assert!(std::fs::read_to_string(dir.join("prompt.md")).unwrap().starts_with("# My Lint Reviewer"));
    }

    #[test]
    fn refuses_bad_ids_core_ids_and_occupied_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let sdk = SdkDep::Version("0.1.0".into());
        assert!(matches!(scaffold("Bad Id", &tmp.path().join("x"), &sdk), Err(ScaffoldError::BadId(_))));
        assert!(matches!(scaffold("qa", &tmp.path().join("y"), &sdk), Err(ScaffoldError::CoreId(_))));
        std::fs::write(tmp.path().join("keep.txt"), "mine").unwrap();
        let e = scaffold("fine", tmp.path(), &sdk).unwrap_err();
        assert!(matches!(e, ScaffoldError::NotEmpty(_)));
        assert_eq!(std::fs::read_to_string(tmp.path().join("keep.txt")).unwrap(), "mine");
        let dir = tmp.path().join("v");
        scaffold("fine", &dir, &sdk).unwrap();
        assert!(std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().contains("agent-os-persona-sdk = \"0.1.0\""));
    }
}
