//! `persona.toml`: who a persona is, what it may call, and its limits.
//!
//! Everything a persona may ask the host for is denied unless the manifest
//! grants it. A key or capability this host does not know is refused by name
//! rather than ignored, so a typo never silently drops (or adds) a grant.

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: unknown capability '{name}' in [capabilities]; a persona may request only {}", KNOWN_CAPABILITIES.join(", "))]
    UnknownCapability { file: String, name: String },
    #[error("{file}: unknown key '{name}'{}; the known keys there are {}", in_table(.table), .known.join(", "))]
    UnknownKey { file: String, name: String, table: Option<String>, known: Vec<&'static str> },
}

fn in_table(table: &Option<String>) -> String {
    table.as_ref().map(|t| format!(" in [{t}]")).unwrap_or_default()
}

/// The top-level keys of a manifest.
pub const KNOWN_KEYS: [&str; 11] =
    ["id", "name", "version", "api", "kind", "domain", "description", "component", "sha256", "capabilities", "limits"];
/// What a persona may request under `[capabilities]`.
pub const KNOWN_CAPABILITIES: [&str; 4] = ["search", "propose", "llm", "read-files"];
/// The keys of `[limits]`.
pub const KNOWN_LIMITS: [&str; 2] = ["memory-mb", "timeout-s"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Core,
    Specialist,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Core => "core",
            Kind::Specialist => "specialist",
        }
    }
}

/// Everything a persona may ask the host for; all denied unless granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Capabilities {
    #[serde(default)]
    pub search: bool,
    #[serde(default)]
    pub propose: bool,
    #[serde(default)]
    pub llm: bool,
    /// Globs, relative to the project root, of files the persona may read.
    #[serde(default)]
    pub read_files: Vec<String>,
}

impl Capabilities {
    /// The read-files globs as one matcher (built once per loaded persona).
    pub fn read_set(&self) -> Result<globset::GlobSet, String> {
        let mut builder = globset::GlobSetBuilder::new();
        for g in &self.read_files {
            builder.add(globset::Glob::new(g).map_err(|e| format!("glob '{g}': {e}"))?);
        }
        builder.build().map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u32,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
}

fn default_memory_mb() -> u32 {
    128
}
fn default_timeout_s() -> u64 {
    300
}

impl Default for Limits {
    fn default() -> Self {
        Self { memory_mb: default_memory_mb(), timeout_s: default_timeout_s() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The WIT package version the component was built against, e.g. "0.1".
    pub api: String,
    pub kind: Kind,
    /// The standards directory this persona writes to.
    pub domain: String,
    pub description: String,
    /// File name of the component, beside the manifest.
    pub component: String,
    /// Hex sha256 of the component; required for installed personas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub limits: Limits,
}

pub const MAX_MEMORY_MB: u32 = 4096;
pub const MAX_TIMEOUT_S: u64 = 3600;
/// Longest display name and description, in characters.
const MAX_NAME_CHARS: usize = 80;
const MAX_DESCRIPTION_CHARS: usize = 1_000;

impl Manifest {
    pub fn parse(file: &str, text: &str) -> Result<Self, ManifestError> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| ManifestError::Parse { file: file.to_string(), message: e.message().trim().to_string() })?;
        check_keys(file, &table)?;
        let m: Manifest = table.try_into().map_err(|e: toml::de::Error| ManifestError::Parse {
            file: file.to_string(),
            message: e.message().trim().to_string(),
        })?;
        m.validate(file)?;
        Ok(m)
    }

    /// The manifest as TOML (comments are not kept).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a manifest always serialises")
    }

    fn validate(&self, file: &str) -> Result<(), ManifestError> {
        let bad = |message: String| ManifestError::Invalid { file: file.to_string(), message };
        if !is_slug(&self.id) {
            return Err(bad(format!(
                "id '{}' must be 1-40 lowercase letters, digits, '-' or '_', starting with a letter (it becomes the MCP tool name invoke_<id>)",
                self.id
            )));
        }
        if !is_slug(&self.domain) {
            return Err(bad(format!("domain '{}' must be 1-40 lowercase letters, digits, '-' or '_'", self.domain)));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > MAX_NAME_CHARS {
            return Err(bad(format!("name must be 1-{MAX_NAME_CHARS} characters")));
        }
        if self.description.trim().is_empty() || self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(bad(format!("description must be 1-{MAX_DESCRIPTION_CHARS} characters")));
        }
        // Control characters (a carriage return, an escape sequence) could
        // redraw the capability list `persona install` asks the user about.
        if self.name.chars().any(char::is_control) {
            return Err(bad("name must not contain control characters".into()));
        }
        if self.description.chars().any(char::is_control) {
            return Err(bad("description must be one line without control characters".into()));
        }
        if semver::Version::parse(&self.version).is_err() {
            return Err(bad(format!("version '{}' is not a semantic version like 0.1.0", self.version)));
        }
        if parse_api(&self.api).is_none() {
            return Err(bad(format!(
                "api '{}' must be the persona API version the component was built against, like \"0.1\" or \"0.1.0\"",
                self.api
            )));
        }
        if self.component.is_empty()
            || self.component.contains('/')
            || self.component.contains('\\')
            || self.component.starts_with('.')
            || !self.component.ends_with(".wasm")
        {
            return Err(bad(format!(
                "component '{}' must be a plain .wasm file name beside the manifest",
                self.component
            )));
        }
        if let Some(h) = &self.sha256
            && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(bad("sha256 must be 64 hex digits".into()));
        }
        for g in &self.capabilities.read_files {
            check_glob(g).map_err(|why| bad(format!("read-files glob {g:?} {why}")))?;
        }
        self.capabilities.read_set().map_err(|why| bad(format!("read-files globs: {why}")))?;
        if self.limits.memory_mb == 0 || self.limits.memory_mb > MAX_MEMORY_MB {
            return Err(bad(format!("limits.memory-mb must be 1..={MAX_MEMORY_MB}")));
        }
        if self.limits.timeout_s == 0 || self.limits.timeout_s > MAX_TIMEOUT_S {
            return Err(bad(format!("limits.timeout-s must be 1..={MAX_TIMEOUT_S}")));
        }
        Ok(())
    }

    pub fn tool_name(&self) -> String {
        format!("invoke_{}", self.id)
    }
}

/// Refuses unknown keys and capabilities by name before serde sees them.
fn check_keys(file: &str, table: &toml::Table) -> Result<(), ManifestError> {
    let unknown = |name: &str, table: Option<&str>, known: &[&'static str]| ManifestError::UnknownKey {
        file: file.to_string(),
        name: name.to_string(),
        table: table.map(str::to_string),
        known: known.to_vec(),
    };
    for key in table.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            return Err(unknown(key, None, &KNOWN_KEYS));
        }
    }
    if let Some(caps) = table.get("capabilities") {
        let Some(caps) = caps.as_table() else {
            return Err(ManifestError::Invalid {
                file: file.into(),
                message: "capabilities must be a table ([capabilities])".into(),
            });
        };
        for key in caps.keys() {
            if !KNOWN_CAPABILITIES.contains(&key.as_str()) {
                return Err(ManifestError::UnknownCapability { file: file.to_string(), name: key.clone() });
            }
        }
    }
    if let Some(limits) = table.get("limits") {
        let Some(limits) = limits.as_table() else {
            return Err(ManifestError::Invalid {
                file: file.into(),
                message: "limits must be a table ([limits])".into(),
            });
        };
        for key in limits.keys() {
            if !KNOWN_LIMITS.contains(&key.as_str()) {
                return Err(unknown(key, Some("limits"), &KNOWN_LIMITS));
            }
        }
    }
    Ok(())
}

/// A read-files glob must be relative to the project root and stay inside it.
fn check_glob(g: &str) -> Result<(), &'static str> {
    if g.trim().is_empty() {
        return Err("is empty");
    }
    if g.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    if g.starts_with('/') || g.starts_with('\\') || g.contains(':') {
        return Err("must be relative to the project root");
    }
    if g.split(['/', '\\']).any(|part| part == "..") {
        return Err("must not climb out of the project with '..'");
    }
    globset::Glob::new(g).map(|_| ()).map_err(|_| "is not a valid glob")
}

/// "0.1" or "0.1.0" as a version (a missing patch is 0).
pub fn parse_api(api: &str) -> Option<semver::Version> {
    let api = api.trim();
    semver::Version::parse(api).ok().or_else(|| semver::Version::parse(&format!("{api}.0")).ok())
}

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "security"
name = "Security Engineer"
version = "0.1.0"
api = "0.1"
kind = "core"
domain = "security"
description = "Finds secrets"
component = "security.wasm"
[capabilities]
search = true
read-files = ["src/**"]
[limits]
memory-mb = 64
"#;

    fn err(text: &str) -> String {
        Manifest::parse("persona.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn control_characters_that_could_redraw_the_install_prompt_are_refused() {
        let e = err(&GOOD.replace("name = \"Security Engineer\"", "name = \"Sec\\u001b[2K\""));
        assert!(e.contains("name must not contain control characters"), "{e}");
        let e = err(&GOOD.replace("description = \"Finds secrets\"", "description = \"Finds\\n  llm  no\""));
        assert!(e.contains("description must be one line"), "{e}");
        let e =
            err(&GOOD.replace("read-files = [\"src/**\"]", "read-files = [\"**\", \"x\\r  read project files  no\"]"));
        assert!(e.contains("must not contain control characters"), "{e}");
    }

    #[test]
    fn parses_a_good_manifest_with_defaults() {
        let m = Manifest::parse("persona.toml", GOOD).unwrap();
        assert_eq!(m.tool_name(), "invoke_security");
        assert!(m.capabilities.search && !m.capabilities.llm && !m.capabilities.propose);
        assert_eq!(m.limits.memory_mb, 64);
        assert_eq!(m.limits.timeout_s, 300);
    }

    #[test]
    fn everything_is_denied_without_a_capabilities_table() {
        let text = GOOD.split("[capabilities]").next().unwrap();
        let m = Manifest::parse("p", text).unwrap();
        assert_eq!(m.capabilities, Capabilities::default());
        assert!(m.capabilities.read_files.is_empty());
    }

    #[test]
    fn round_trips_through_toml() {
        let mut m = Manifest::parse("p", GOOD).unwrap();
        m.sha256 = Some("ab".repeat(32));
        assert_eq!(Manifest::parse("p", &m.to_toml()).unwrap(), m);
    }

    #[test]
    fn refuses_unknown_capability_by_name() {
        let e = err(&GOOD.replace("search = true", "search = true\nnetwork = true"));
        assert!(e.contains("unknown capability 'network'"), "{e}");
        assert!(e.contains("search, propose, llm, read-files"), "{e}");
    }

    #[test]
    fn refuses_unknown_keys_by_name() {
        let e = err(&format!("homepage = \"x\"\n{GOOD}"));
        assert!(e.contains("unknown key 'homepage'") && e.contains("component"), "{e}");
        let e = err(&GOOD.replace("memory-mb = 64", "memory-mb = 64\ncpu = 2"));
        assert!(e.contains("unknown key 'cpu' in [limits]"), "{e}");
    }

    #[test]
    fn refuses_bad_values_with_reasons() {
        assert!(err(&GOOD.replace("security.wasm", "../evil.wasm")).contains("plain .wasm file name"));
        assert!(err(&GOOD.replace("id = \"security\"", "id = \"Sec urity\"")).contains("invoke_<id>"));
        assert!(err(&GOOD.replace("version = \"0.1.0\"", "version = \"one\"")).contains("semantic version"));
        assert!(err(&GOOD.replace("api = \"0.1\"", "api = \"latest\"")).contains("api 'latest'"));
        assert!(err(&GOOD.replace("\"src/**\"", "\"/etc/*\"")).contains("relative to the project root"));
        assert!(err(&GOOD.replace("\"src/**\"", "\"../**\"")).contains("'..'"));
        assert!(err(&GOOD.replace("\"src/**\"", "\"src/[\"")).contains("not a valid glob"));
        assert!(err(&GOOD.replace("memory-mb = 64", "memory-mb = 0")).contains("memory-mb"));
        assert!(err(&GOOD.replace("kind = \"core\"", "kind = \"plugin\"")).contains("plugin"));
        assert!(err("id = ").contains("persona.toml"));
    }

    #[test]
    fn api_versions_parse() {
        assert_eq!(parse_api("0.1"), Some(semver::Version::new(0, 1, 0)));
        assert_eq!(parse_api("0.2.3"), Some(semver::Version::new(0, 2, 3)));
        assert_eq!(parse_api("x"), None);
    }
}
