//! `persona.toml`: who a persona is, what it may call, and its limits.

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Core,
    Specialist,
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
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub limits: Limits,
}

pub const MAX_MEMORY_MB: u32 = 4096;
pub const MAX_TIMEOUT_S: u64 = 3600;

impl Manifest {
    pub fn parse(file: &str, text: &str) -> Result<Self, ManifestError> {
        let m: Manifest = toml::from_str(text)
            .map_err(|e| ManifestError::Parse { file: file.to_string(), message: e.message().to_string() })?;
        m.validate(file)?;
        Ok(m)
    }

    fn validate(&self, file: &str) -> Result<(), ManifestError> {
        let bad = |message: String| ManifestError::Invalid { file: file.to_string(), message };
        if !is_slug(&self.id) {
            return Err(bad(format!(
                "id '{}' must be 1-40 lowercase letters, digits, '-' or '_', starting with a letter",
                self.id
            )));
        }
        if !is_slug(&self.domain) {
            return Err(bad(format!("domain '{}' must be 1-40 lowercase letters, digits, '-' or '_'", self.domain)));
        }
        if self.component.contains('/') || self.component.contains('\\') || self.component.starts_with('.') {
            return Err(bad(format!("component '{}' must be a plain file name beside the manifest", self.component)));
        }
        if let Some(h) = &self.sha256
            && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(bad("sha256 must be 64 hex digits".into()));
        }
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

    #[test]
    fn parses_a_good_manifest_with_defaults() {
        let m = Manifest::parse("persona.toml", GOOD).unwrap();
        assert_eq!(m.tool_name(), "invoke_security");
        assert!(m.capabilities.search && !m.capabilities.llm);
        assert_eq!(m.limits.memory_mb, 64);
        assert_eq!(m.limits.timeout_s, 300);
    }

    #[test]
    fn refuses_unknown_capability() {
        let text = GOOD.replace("search = true", "search = true\nnetwork = true");
        let err = Manifest::parse("persona.toml", &text).unwrap_err().to_string();
        assert!(err.contains("network"), "{err}");
    }

    #[test]
    fn refuses_path_like_component_and_bad_id() {
        let text = GOOD.replace("security.wasm", "../evil.wasm");
        assert!(Manifest::parse("p", &text).is_err());
        let text = GOOD.replace("id = \"security\"", "id = \"Sec urity\"");
        assert!(Manifest::parse("p", &text).is_err());
    }
}
