//! The `[llm]` table of `.agent-os/config.toml`, with environment overrides.
//!
//! ```toml
//! [llm]
//! provider = "openai"                 # "openai" (any OpenAI-compatible server), "anthropic" or "none"
//! base_url = "http://localhost:11434/v1"
//! model = "qwen2.5-coder:7b"
//! api_key_env = "OPENAI_API_KEY"      # the NAME of the variable holding the key
//! timeout_seconds = 120
//! max_retries = 3
//! ```
//!
//! `AGENT_OS_LLM_PROVIDER`, `AGENT_OS_LLM_BASE_URL`, `AGENT_OS_LLM_MODEL`,
//! `AGENT_OS_LLM_API_KEY_ENV`, `AGENT_OS_LLM_TIMEOUT_SECONDS` and
//! `AGENT_OS_LLM_MAX_RETRIES` override the file, field by field.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Default request timeout.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 120;
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Most retries a configuration may ask for.
const MAX_RETRIES_LIMIT: u32 = 10;
/// Longest request timeout a configuration may ask for.
const MAX_TIMEOUT_SECONDS: u64 = 3_600;

/// Which wire protocol the provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// `POST {base_url}/chat/completions`: OpenAI, Ollama, vLLM, llama.cpp, LM Studio, ...
    OpenAi,
    /// `POST {base_url}/v1/messages`: Anthropic's Messages API.
    Anthropic,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
        }
    }

    fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A complete provider configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmConfig {
    pub provider: ProviderKind,
    /// Without a trailing slash.
    pub base_url: String,
    pub model: String,
    /// Name of the environment variable holding the API key, if the provider needs one.
    pub api_key_env: Option<String>,
    pub timeout: Duration,
    pub max_retries: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error(
        "{origin}: unknown LLM provider '{value}'; use \"openai\" (also for Ollama, vLLM, llama.cpp, LM Studio), \"anthropic\" or \"none\""
    )]
    Provider { origin: String, value: String },
    #[error(
        "{origin}: the LLM provider is '{provider}' but no model is set; add `model = \"...\"` under [llm] or set AGENT_OS_LLM_MODEL"
    )]
    MissingModel { origin: String, provider: ProviderKind },
    #[error("{origin}: base_url '{value}' must start with http:// or https://")]
    BaseUrl { origin: String, value: String },
    #[error("{origin}: {field} must be {expected}, got '{value}'")]
    Number { origin: String, field: &'static str, expected: String, value: String },
    #[error(
        "{origin}: api_key_env '{value}' is not a valid variable name (letters, digits and '_'); give the NAME of the variable, not the key itself"
    )]
    KeyEnvName { origin: String, value: String },
}

/// The `[llm]` table as written; every field optional so env vars can fill it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLlm {
    provider: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    api_key_env: Option<String>,
    timeout_seconds: Option<i64>,
    max_retries: Option<i64>,
}

/// The config file: only `[llm]` is ours; other tables belong to other parts.
#[derive(Debug, Default, Deserialize)]
struct RawFile {
    llm: Option<RawLlm>,
}

/// Where the project's configuration file lives.
pub fn config_path(project_root: &Path) -> PathBuf {
    project_root.join(".agent-os").join("config.toml")
}

/// Reads the provider configuration for the project at `project_root`,
/// with overrides from the process environment. `Ok(None)` means no
/// provider is configured (or it is explicitly `"none"`).
pub fn load(project_root: &Path) -> Result<Option<LlmConfig>, ConfigError> {
    load_with(project_root, |k| std::env::var(k).ok())
}

/// [`load`] with an explicit environment, for tests.
pub fn load_with(project_root: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Option<LlmConfig>, ConfigError> {
    let path = config_path(project_root);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let raw = match &text {
        Some(t) => {
            let file: RawFile = toml::from_str(t).map_err(|e| ConfigError::Syntax {
                path: path.clone(),
                message: e.message().to_string() + &location(t, e.span()),
            })?;
            file.llm.unwrap_or_default()
        }
        None => RawLlm::default(),
    };
    resolve(raw, &display_origin(&path), env)
}

/// " (line N)" for a TOML error span, when it has one.
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(r) => {
            let line = text[..r.start.min(text.len())].matches('\n').count() + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

fn display_origin(path: &Path) -> String {
    format!("{} [llm]", path.display())
}

/// Picks the environment value over the file's, remembering where it came from.
fn pick(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    file: Option<String>,
    origin: &str,
) -> (Option<String>, String) {
    match env(var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        Some(v) => (Some(v), var.to_string()),
        None => (file.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()), origin.to_string()),
    }
}

fn resolve(raw: RawLlm, origin: &str, env: impl Fn(&str) -> Option<String>) -> Result<Option<LlmConfig>, ConfigError> {
    let (provider, provider_origin) = pick(&env, "AGENT_OS_LLM_PROVIDER", raw.provider, origin);
    let provider = match provider.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("none") | Some("off") => return Ok(None),
        Some("openai")
        | Some("openai-compatible")
        | Some("ollama")
        | Some("vllm")
        | Some("llamacpp")
        | Some("lmstudio") => ProviderKind::OpenAi,
        Some("anthropic") => ProviderKind::Anthropic,
        Some(_) => {
            return Err(ConfigError::Provider { origin: provider_origin, value: provider.unwrap_or_default() });
        }
    };

    let (base_url, url_origin) = pick(&env, "AGENT_OS_LLM_BASE_URL", raw.base_url, origin);
    let base_url = base_url.unwrap_or_else(|| provider.default_base_url().to_string());
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(ConfigError::BaseUrl { origin: url_origin, value: base_url });
    }
    let base_url = base_url.trim_end_matches('/').to_string();

    let (model, model_origin) = pick(&env, "AGENT_OS_LLM_MODEL", raw.model, origin);
    let Some(model) = model else {
        return Err(ConfigError::MissingModel { origin: model_origin, provider });
    };

    let (key_env, key_origin) = pick(&env, "AGENT_OS_LLM_API_KEY_ENV", raw.api_key_env, origin);
    let api_key_env = match key_env {
        Some(name) if !valid_var_name(&name) => {
            return Err(ConfigError::KeyEnvName { origin: key_origin, value: redact(&name) });
        }
        Some(name) => Some(name),
        None if provider == ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY".to_string()),
        None if base_url == ProviderKind::OpenAi.default_base_url() => Some("OPENAI_API_KEY".to_string()),
        None => None,
    };

    let timeout_seconds = number(
        &env,
        "AGENT_OS_LLM_TIMEOUT_SECONDS",
        raw.timeout_seconds,
        origin,
        "timeout_seconds",
        1,
        MAX_TIMEOUT_SECONDS as i64,
    )?
    .unwrap_or(DEFAULT_TIMEOUT_SECONDS as i64);
    let max_retries =
        number(&env, "AGENT_OS_LLM_MAX_RETRIES", raw.max_retries, origin, "max_retries", 0, MAX_RETRIES_LIMIT as i64)?
            .unwrap_or(DEFAULT_MAX_RETRIES as i64);

    Ok(Some(LlmConfig {
        provider,
        base_url,
        model,
        api_key_env,
        timeout: Duration::from_secs(timeout_seconds as u64),
        max_retries: max_retries as u32,
    }))
}

fn number(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    file: Option<i64>,
    origin: &str,
    field: &'static str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ConfigError> {
    let expected = format!("a whole number from {min} to {max}");
    let (value, from) = match env(var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        Some(text) => match text.parse::<i64>() {
            Ok(n) => (Some(n), var.to_string()),
            Err(_) => return Err(ConfigError::Number { origin: var.to_string(), field, expected, value: text }),
        },
        None => (file, origin.to_string()),
    };
    match value {
        Some(n) if !(min..=max).contains(&n) => {
            Err(ConfigError::Number { origin: from, field, expected, value: n.to_string() })
        }
        other => Ok(other),
    }
}

fn valid_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Someone may paste the key itself into `api_key_env`; never echo it whole.
fn redact(value: &str) -> String {
    let head: String = value.chars().take(4).collect();
    if value.chars().count() > 8 { format!("{head}…") } else { value.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn project_with(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".agent-os")).unwrap();
        std::fs::write(config_path(dir.path()), config).unwrap();
        dir
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn no_file_and_no_env_means_no_provider() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_with(dir.path(), env_of(&[])).unwrap(), None);
    }

    #[test]
    fn other_tables_are_left_alone_and_no_llm_table_means_no_provider() {
        let dir = project_with("[retention]\ndays = 10\n");
        assert_eq!(load_with(dir.path(), env_of(&[])).unwrap(), None);
    }

    #[test]
    fn reads_an_ollama_table_with_defaults() {
        let dir = project_with(
            "[llm]\nprovider = \"openai\"\nbase_url = \"http://localhost:11434/v1/\"\nmodel = \"qwen2.5-coder:7b\"\n",
        );
        let c = load_with(dir.path(), env_of(&[])).unwrap().unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAi);
        assert_eq!(c.base_url, "http://localhost:11434/v1");
        assert_eq!(c.model, "qwen2.5-coder:7b");
        assert_eq!(c.api_key_env, None, "a local server needs no key");
        assert_eq!(c.timeout, Duration::from_secs(120));
        assert_eq!(c.max_retries, 3);
    }

    #[test]
    fn hosted_providers_default_their_key_variable() {
        let dir = project_with("[llm]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n");
        let c = load_with(dir.path(), env_of(&[])).unwrap().unwrap();
        assert_eq!(c.base_url, "https://api.anthropic.com");
        assert_eq!(c.api_key_env.as_deref(), Some("ANTHROPIC_API_KEY"));
        let dir = project_with("[llm]\nprovider = \"openai\"\nmodel = \"gpt-4.1-mini\"\n");
        let c = load_with(dir.path(), env_of(&[])).unwrap().unwrap();
        assert_eq!(c.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
    }

    #[test]
    fn environment_overrides_the_file_field_by_field() {
        let dir = project_with("[llm]\nprovider = \"openai\"\nmodel = \"a\"\ntimeout_seconds = 30\nmax_retries = 1\n");
        let c = load_with(
            dir.path(),
            env_of(&[
                ("AGENT_OS_LLM_PROVIDER", "anthropic"),
                ("AGENT_OS_LLM_MODEL", "b"),
                ("AGENT_OS_LLM_BASE_URL", "http://127.0.0.1:9"),
                ("AGENT_OS_LLM_API_KEY_ENV", "MY_KEY"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.provider, ProviderKind::Anthropic);
        assert_eq!(c.model, "b");
        assert_eq!(c.base_url, "http://127.0.0.1:9");
        assert_eq!(c.api_key_env.as_deref(), Some("MY_KEY"));
        assert_eq!(c.timeout, Duration::from_secs(30), "fields without an override come from the file");
        assert_eq!(c.max_retries, 1);
        // The environment alone is enough.
        let empty = tempfile::tempdir().unwrap();
        let c = load_with(empty.path(), env_of(&[("AGENT_OS_LLM_PROVIDER", "ollama"), ("AGENT_OS_LLM_MODEL", "m")]))
            .unwrap()
            .unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAi);
        // And "none" turns a configured provider off.
        assert_eq!(load_with(dir.path(), env_of(&[("AGENT_OS_LLM_PROVIDER", "none")])).unwrap(), None);
    }

    #[test]
    fn bad_values_are_refused_with_the_fix() {
        let err = |cfg: &str| load_with(project_with(cfg).path(), env_of(&[])).unwrap_err().to_string();
        let e = err("[llm]\nprovider = \"opena\"\nmodel = \"m\"\n");
        assert!(e.contains("unknown LLM provider 'opena'") && e.contains("\"anthropic\""), "{e}");
        let e = err("[llm]\nprovider = \"openai\"\n");
        assert!(e.contains("no model is set") && e.contains("AGENT_OS_LLM_MODEL"), "{e}");
        let e = err("[llm]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"localhost:11434\"\n");
        assert!(e.contains("must start with http://"), "{e}");
        let e = err("[llm]\nprovider = \"openai\"\nmodel = \"m\"\nmax_retries = 50\n");
        assert!(e.contains("max_retries must be a whole number from 0 to 10, got '50'"), "{e}");
        let e = err("[llm]\nprovider = \"openai\"\nmodel = \"m\"\ntimeout_seconds = 0\n");
        assert!(e.contains("timeout_seconds"), "{e}");
        let e = err("[llm]\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"sk-proj-abcdefghijklmnop\"\n");
        assert!(e.contains("NAME of the variable") && !e.contains("abcdefghijklmnop"), "the key is not echoed: {e}");
        let e = err("[llm]\nprovider = \"openai\"\nmodle = \"m\"\n");
        assert!(e.contains("unknown field `modle`") && e.contains("line 3"), "{e}");
        let e = err("[llm\nprovider = 1");
        assert!(e.contains("not valid TOML"), "{e}");
        let e = load_with(
            tempfile::tempdir().unwrap().path(),
            env_of(&[
                ("AGENT_OS_LLM_PROVIDER", "openai"),
                ("AGENT_OS_LLM_MODEL", "m"),
                ("AGENT_OS_LLM_MAX_RETRIES", "three"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("AGENT_OS_LLM_MAX_RETRIES:") && e.contains("'three'"), "{e}");
    }
}
