//! The LLM provider settings, in two layers that are never mixed across the
//! key boundary:
//!
//! - **yours**: the `[llm]` table of your own `config.toml` in the agent-os
//!   config folder (`$AGENT_OS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/agent-os`,
//!   else `~/.config/agent-os`), and the `AGENT_OS_LLM_*` variables;
//! - **the project's**: the `[llm]` table of `.agent-os/config.toml`, used only
//!   while you trust its current content (`agent-os trust`).
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
//! Field by field, `AGENT_OS_LLM_PROVIDER`, `_BASE_URL`, `_MODEL`, `_API_KEY_ENV`,
//! `_TIMEOUT_SECONDS` and `_MAX_RETRIES` win over a trusted project table, which
//! wins over your file. The API key is sent only to the endpoint named by the
//! same layer that named the key variable: a project table that sets only
//! `base_url` never receives your key. Tables are parsed (inline tables and
//! dotted keys included), never matched as text. A base URL must be `https://`
//! (plain `http://` only for a loopback host, or anywhere with
//! `AGENT_OS_LLM_ALLOW_HTTP=1`) and may not carry `user:password@`.

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
/// Lets `http://` reach a host other than loopback (your own choice, from the environment only).
pub const ALLOW_HTTP_VAR: &str = "AGENT_OS_LLM_ALLOW_HTTP";

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

/// Whose setting a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Built into agent-os (a provider's public endpoint and key variable).
    Default,
    /// Your own config file and `AGENT_OS_LLM_*` variables.
    User,
    /// The project's `.agent-os/config.toml`, once trusted.
    Project,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Default => "built-in default",
            Layer::User => "yours",
            Layer::Project => "the project's",
        }
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
    /// Where the endpoint was named: a file's `[llm]`, a variable, or the built-in default.
    pub base_url_from: String,
    /// Whose setting the endpoint (and so the key, if any) is.
    pub layer: Layer,
}

impl LlmConfig {
    /// The URL requests go to.
    pub fn endpoint(&self) -> String {
        match self.provider {
            ProviderKind::OpenAi => super::openai::endpoint(&self.base_url),
            ProviderKind::Anthropic => super::anthropic::endpoint(&self.base_url),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read {path}: {source}")]
    Read { path: PathBuf, source: crate::fsx::ReadError },
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
    #[error("{origin}: base_url '{value}' {why}")]
    BaseUrl { origin: String, value: String, why: String },
    #[error("{origin}: {field} must be {expected}, got '{value}'")]
    Number { origin: String, field: &'static str, expected: String, value: String },
    #[error(
        "{origin}: api_key_env '{value}' is not a valid variable name (letters, digits and '_'); give the NAME of the variable, not the key itself"
    )]
    KeyEnvName { origin: String, value: String },
    /// The key variable and the endpoint come from different layers.
    #[error("{message}")]
    KeyElsewhere { var: String, message: String },
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

/// Where a project's configuration file lives.
pub fn config_path(project_root: &Path) -> PathBuf {
    project_root.join(".agent-os").join("config.toml")
}

/// Your own configuration file: `config.toml` in the agent-os config folder.
pub fn user_config_path() -> Result<PathBuf, crate::dirs::DirsError> {
    Ok(crate::dirs::dir(crate::dirs::Kind::Config)?.join("config.toml"))
}

/// Reads your own configuration file (bounded, regular file); `None` when
/// there is none. It is yours, so a link to it (a dotfiles manager's) is followed.
pub fn read_user_file() -> Result<Option<(PathBuf, String)>, ConfigError> {
    let Ok(path) = user_config_path() else {
        return Ok(None);
    };
    let real = match std::fs::canonicalize(&path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) => path.clone(),
    };
    match crate::fsx::read_text_bounded(&real, crate::trust::MAX_CONFIG_BYTES) {
        Ok(t) => Ok(Some((path, t))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(source) => Err(ConfigError::Read { path, source }),
    }
}

/// The provider configuration for a project: yours (file and environment),
/// with the project's `[llm]` only when `trust` says its config is trusted.
/// `Ok(None)` means no provider is configured (or it is explicitly `"none"`).
pub fn load(trust: &crate::trust::ProjectTrust) -> Result<Option<LlmConfig>, ConfigError> {
    let user = read_user_file()?;
    let project = trust.trusted_config().map(|(p, b)| (p.to_path_buf(), String::from_utf8_lossy(b).into_owned()));
    load_with(
        user.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        project.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        |k| std::env::var(k).ok(),
    )
}

/// [`load`] from given file contents and environment: `user` is your own
/// file, `project` the project's (pass it only when trusted).
pub fn load_with(
    user: Option<(&Path, &str)>,
    project: Option<(&Path, &str)>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<LlmConfig>, ConfigError> {
    let parse = |file: Option<(&Path, &str)>| -> Result<Option<(RawLlm, String)>, ConfigError> {
        let Some((path, text)) = file else { return Ok(None) };
        let file: RawFile = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.message().to_string() + &location(text, e.span()),
        })?;
        Ok(file.llm.map(|l| (l, format!("{} [llm]", path.display()))))
    };
    let user = parse(user)?;
    let project = parse(project)?;
    resolve(user, project, env)
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

/// One value and where it came from.
struct Picked<T> {
    value: T,
    layer: Layer,
    origin: String,
}

/// The layers, highest precedence first: environment, trusted project file, your file.
struct Layers<'a, E: Fn(&str) -> Option<String>> {
    env: &'a E,
    project: Option<&'a (RawLlm, String)>,
    user: Option<&'a (RawLlm, String)>,
}

impl<E: Fn(&str) -> Option<String>> Layers<'_, E> {
    fn text(&self, var: &'static str, field: impl Fn(&RawLlm) -> Option<&String>) -> Option<Picked<String>> {
        let clean = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(v) = (self.env)(var).as_deref().and_then(clean) {
            return Some(Picked { value: v, layer: Layer::User, origin: var.to_string() });
        }
        for (file, layer) in [(self.project, Layer::Project), (self.user, Layer::User)] {
            if let Some((raw, origin)) = file
                && let Some(v) = field(raw).map(String::as_str).and_then(clean)
            {
                return Some(Picked { value: v, layer, origin: origin.clone() });
            }
        }
        None
    }

    fn number(
        &self,
        var: &'static str,
        field_name: &'static str,
        field: impl Fn(&RawLlm) -> Option<i64>,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, ConfigError> {
        let expected = format!("a whole number from {min} to {max}");
        let found = match (self.env)(var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(text) => match text.parse::<i64>() {
                Ok(n) => Some((n, var.to_string())),
                Err(_) => {
                    return Err(ConfigError::Number {
                        origin: var.to_string(),
                        field: field_name,
                        expected,
                        value: text,
                    });
                }
            },
            None => [self.project, self.user]
                .into_iter()
                .flatten()
                .find_map(|(raw, origin)| field(raw).map(|n| (n, origin.clone()))),
        };
        match found {
            Some((n, from)) if !(min..=max).contains(&n) => {
                Err(ConfigError::Number { origin: from, field: field_name, expected, value: n.to_string() })
            }
            other => Ok(other.map(|(n, _)| n)),
        }
    }
}

fn resolve(
    user: Option<(RawLlm, String)>,
    project: Option<(RawLlm, String)>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<LlmConfig>, ConfigError> {
    let layers = Layers { env: &env, project: project.as_ref(), user: user.as_ref() };
    let Some(provider) = layers.text("AGENT_OS_LLM_PROVIDER", |r| r.provider.as_ref()) else {
        return Ok(None);
    };
    let kind = match provider.value.to_ascii_lowercase().as_str() {
        "none" | "off" => return Ok(None),
        "openai" | "openai-compatible" | "ollama" | "vllm" | "llamacpp" | "lmstudio" => ProviderKind::OpenAi,
        "anthropic" => ProviderKind::Anthropic,
        _ => return Err(ConfigError::Provider { origin: provider.origin, value: provider.value }),
    };

    // The endpoint belongs to whoever named it; a built-in endpoint to
    // whoever chose the provider.
    let url = layers.text("AGENT_OS_LLM_BASE_URL", |r| r.base_url.as_ref()).unwrap_or_else(|| Picked {
        value: kind.default_base_url().to_string(),
        layer: provider.layer,
        origin: format!("the built-in default for {kind} (chosen by {})", provider.origin),
    });
    let allow_http = env(ALLOW_HTTP_VAR).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    check_base_url(&url.value, allow_http).map_err(|why| ConfigError::BaseUrl {
        origin: url.origin.clone(),
        value: redact_url(&url.value),
        why,
    })?;
    let base_url = url.value.trim_end_matches('/').to_string();

    let Some(model) = layers.text("AGENT_OS_LLM_MODEL", |r| r.model.as_ref()) else {
        return Err(ConfigError::MissingModel { origin: provider.origin, provider: kind });
    };

    let key = match layers.text("AGENT_OS_LLM_API_KEY_ENV", |r| r.api_key_env.as_ref()) {
        Some(k) if !valid_var_name(&k.value) => {
            return Err(ConfigError::KeyEnvName { origin: k.origin, value: redact(&k.value) });
        }
        Some(k) => Some(k),
        // A provider's usual variable goes only to the endpoint it was chosen with.
        None if kind == ProviderKind::Anthropic => {
            Some(Picked { value: "ANTHROPIC_API_KEY".into(), layer: url.layer, origin: url.origin.clone() })
        }
        None if base_url == ProviderKind::OpenAi.default_base_url() => {
            Some(Picked { value: "OPENAI_API_KEY".into(), layer: url.layer, origin: url.origin.clone() })
        }
        None => None,
    };
    if let Some(k) = &key
        && k.layer != url.layer
    {
        let message = format!(
            "the API key variable {} is named by {} ({}), but the endpoint {base_url} comes from {} ({}); agent-os sends a key only to an endpoint named in the same place. Set base_url and api_key_env together, in one place",
            k.value,
            k.origin,
            k.layer.as_str(),
            url.origin,
            url.layer.as_str()
        );
        return Err(ConfigError::KeyElsewhere { var: k.value.clone(), message });
    }

    let timeout_seconds = layers
        .number(
            "AGENT_OS_LLM_TIMEOUT_SECONDS",
            "timeout_seconds",
            |r| r.timeout_seconds,
            1,
            MAX_TIMEOUT_SECONDS as i64,
        )?
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS as i64);
    let max_retries = layers
        .number("AGENT_OS_LLM_MAX_RETRIES", "max_retries", |r| r.max_retries, 0, MAX_RETRIES_LIMIT as i64)?
        .unwrap_or(DEFAULT_MAX_RETRIES as i64);

    Ok(Some(LlmConfig {
        provider: kind,
        base_url,
        model: model.value,
        api_key_env: key.map(|k| k.value),
        timeout: Duration::from_secs(timeout_seconds as u64),
        max_retries: max_retries as u32,
        base_url_from: url.origin,
        layer: url.layer,
    }))
}

/// Whether the URL's host is this machine (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(h) = url.host_str() else { return false };
    let h = h.trim_start_matches('[').trim_end_matches(']');
    match h.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => h.eq_ignore_ascii_case("localhost"),
    }
}

/// Refuses a base URL that is not http(s), carries credentials, or sends
/// plain HTTP off this machine.
pub fn check_base_url(value: &str, allow_http: bool) -> Result<(), String> {
    if !(value.starts_with("http://") || value.starts_with("https://")) {
        return Err("must start with http:// or https://".into());
    }
    let url = reqwest::Url::parse(value).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password; put the key in the variable api_key_env names".into());
    }
    if url.host().is_none() {
        return Err("names no host".into());
    }
    if url.scheme() == "http" && !allow_http && !is_loopback(&url) {
        return Err(format!(
            "uses plain http:// for a host that is not this machine; use https:// (or set {ALLOW_HTTP_VAR}=1 in your own environment to allow it)"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(())
}

/// A URL for messages, without any `user:password@`.
fn redact_url(value: &str) -> String {
    match value.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://…@{host}{path}"),
                None => value.to_string(),
            }
        }
        None => value.to_string(),
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

    const PROJECT: &str = "/work/repo/.agent-os/config.toml";
    const USER: &str = "/home/me/.config/agent-os/config.toml";

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    /// The project's file alone (as if trusted), with an environment.
    fn project_only(text: &str, env: &[(&str, &str)]) -> Result<Option<LlmConfig>, ConfigError> {
        load_with(None, Some((Path::new(PROJECT), text)), env_of(env))
    }

    fn both(user: &str, project: &str, env: &[(&str, &str)]) -> Result<Option<LlmConfig>, ConfigError> {
        load_with(Some((Path::new(USER), user)), Some((Path::new(PROJECT), project)), env_of(env))
    }

    #[test]
    fn no_file_and_no_env_means_no_provider() {
        assert_eq!(load_with(None, None, env_of(&[])).unwrap(), None);
    }

    #[test]
    fn other_tables_are_left_alone_and_no_llm_table_means_no_provider() {
        assert_eq!(project_only("[retention]\ndays = 10\n", &[]).unwrap(), None);
    }

    #[test]
    fn reads_an_ollama_table_with_defaults() {
        let c = project_only(
            "[llm]\nprovider = \"openai\"\nbase_url = \"http://localhost:11434/v1/\"\nmodel = \"qwen2.5-coder:7b\"\n",
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAi);
        assert_eq!(c.base_url, "http://localhost:11434/v1");
        assert_eq!(c.model, "qwen2.5-coder:7b");
        assert_eq!(c.api_key_env, None, "a local server needs no key");
        assert_eq!(c.timeout, Duration::from_secs(120));
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.layer, Layer::Project);
    }

    #[test]
    fn hosted_providers_default_their_key_variable() {
        let c = project_only("[llm]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n", &[]).unwrap().unwrap();
        assert_eq!(c.base_url, "https://api.anthropic.com");
        assert_eq!(c.api_key_env.as_deref(), Some("ANTHROPIC_API_KEY"));
        let c = project_only("[llm]\nprovider = \"openai\"\nmodel = \"gpt-4.1-mini\"\n", &[]).unwrap().unwrap();
        assert_eq!(c.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
    }

    #[test]
    fn environment_overrides_the_file_field_by_field() {
        let file = "[llm]\nprovider = \"openai\"\nmodel = \"a\"\ntimeout_seconds = 30\nmax_retries = 1\n";
        let c = load_with(
            Some((Path::new(USER), file)),
            None,
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
        let c = load_with(None, None, env_of(&[("AGENT_OS_LLM_PROVIDER", "ollama"), ("AGENT_OS_LLM_MODEL", "m")]))
            .unwrap()
            .unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAi);
        // And "none" turns a configured provider off.
        assert_eq!(project_only(file, &[("AGENT_OS_LLM_PROVIDER", "none")]).unwrap(), None);
    }

    #[test]
    fn your_key_never_goes_to_an_endpoint_the_project_named() {
        let mine = "[llm]\nprovider = \"openai\"\nmodel = \"gpt-4.1\"\napi_key_env = \"OPENAI_API_KEY\"\n";
        // A table, an inline table and dotted keys that set only base_url.
        for project in [
            "[llm]\nbase_url = \"https://evil.example/v1\"\n",
            "llm = { base_url = \"https://evil.example/v1\" }\n",
            "llm.base_url = \"https://evil.example/v1\"\n",
        ] {
            let e = both(mine, project, &[]).unwrap_err();
            assert!(matches!(e, ConfigError::KeyElsewhere { .. }), "{project}: {e}");
            let text = e.to_string();
            assert!(text.contains("OPENAI_API_KEY") && text.contains("evil.example"), "{text}");
        }
        // Key variable from the environment, endpoint from the project: refused too.
        let e = both(
            "",
            "[llm]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"https://evil.example/v1\"\n",
            &[("AGENT_OS_LLM_API_KEY_ENV", "GITHUB_TOKEN")],
        )
        .unwrap_err();
        assert!(matches!(e, ConfigError::KeyElsewhere { .. }), "{e}");
        // A project that picks another provider does not get your key at that provider's endpoint.
        let e = both(mine, "[llm]\nprovider = \"anthropic\"\n", &[]).unwrap_err();
        assert!(matches!(e, ConfigError::KeyElsewhere { .. }), "{e}");
        // A project that only picks the model keeps your endpoint and key.
        let c = both(mine, "[llm]\nmodel = \"gpt-4.1-mini\"\n", &[]).unwrap().unwrap();
        assert_eq!((c.base_url.as_str(), c.model.as_str()), ("https://api.openai.com/v1", "gpt-4.1-mini"));
        assert_eq!((c.api_key_env.as_deref(), c.layer), (Some("OPENAI_API_KEY"), Layer::User));
        // Endpoint and key named together by the project (trusted): used as named.
        let c = both(mine, "[llm]\nbase_url = \"https://llm.corp.example/v1\"\napi_key_env = \"CORP_KEY\"\n", &[])
            .unwrap()
            .unwrap();
        assert_eq!((c.api_key_env.as_deref(), c.layer), (Some("CORP_KEY"), Layer::Project));
        // No key at all may go to a project endpoint.
        let c =
            both("[llm]\nprovider = \"openai\"\nmodel = \"m\"\n", "[llm]\nbase_url = \"http://127.0.0.1:1/v1\"\n", &[])
                .unwrap()
                .unwrap();
        assert_eq!(c.api_key_env, None);
    }

    #[test]
    fn base_urls_are_https_without_credentials() {
        let cfg = |url: &str, env: &[(&str, &str)]| {
            project_only(&format!("[llm]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{url}\"\n"), env)
        };
        let e = cfg("http://llm.example.com/v1", &[]).unwrap_err().to_string();
        assert!(e.contains("https://") && e.contains(ALLOW_HTTP_VAR), "{e}");
        assert!(cfg("http://llm.example.com/v1", &[(ALLOW_HTTP_VAR, "1")]).is_ok());
        for ok in ["http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:1/v1", "https://x.example"] {
            assert!(cfg(ok, &[]).is_ok(), "{ok}");
        }
        let e = cfg("https://alice:hunter2@llm.example.com/v1", &[]).unwrap_err().to_string();
        assert!(e.contains("user name or password") && !e.contains("hunter2") && !e.contains("alice"), "{e}");
        let e = cfg("https://llm.example.com/v1?key=1", &[]).unwrap_err().to_string();
        assert!(e.contains("query"), "{e}");
    }

    #[test]
    fn bad_values_are_refused_with_the_fix() {
        let err = |cfg: &str| project_only(cfg, &[]).unwrap_err().to_string();
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
            None,
            None,
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
