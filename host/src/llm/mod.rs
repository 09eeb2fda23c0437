//! Language-model providers behind the persona host function `complete`.
//!
//! One [`LlmClient`] speaks either OpenAI-compatible chat completions (OpenAI,
//! Ollama, vLLM, llama.cpp, LM Studio) or Anthropic's Messages API, with a
//! request timeout and retries with backoff on rate limits, server errors and
//! connection failures. Configuration comes from `[llm]` in your own
//! `config.toml`, `AGENT_OS_LLM_*` variables and, once you trust it, the
//! project's `.agent-os/config.toml` ([`config`]).
//! With no provider configured, personas return a delegated brief instead.

mod anthropic;
mod client;
pub mod config;
mod openai;
pub mod retry;

use std::sync::Arc;

pub use client::{LlmClient, LlmError};
pub use config::{ConfigError, LlmConfig, ProviderKind};

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

/// The model's answer and what it cost, from the provider's usage fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub tokens_input: u32,
    pub tokens_output: u32,
    /// The model stopped at the token limit.
    pub truncated: bool,
}

/// The two token counts a provider reports under `usage`; 0 when absent.
pub(crate) fn usage_tokens(body: &serde_json::Value, input: &str, output: &str) -> (u32, u32) {
    let count = |k: &str| {
        body.get("usage").and_then(|u| u.get(k)).and_then(serde_json::Value::as_u64).unwrap_or(0).min(u32::MAX as u64)
            as u32
    };
    (count(input), count(output))
}

/// Whether this server can reach a language model, and if not, why.
#[derive(Clone)]
pub enum LlmAccess {
    Ready(Arc<LlmClient>),
    /// No provider: the sentence says why (not configured, configuration
    /// error, missing key) and what to do.
    Unavailable(String),
}

/// The sentence a delegated brief carries when nothing is configured.
/// How to configure one is the README's to say (section "LLM providers"),
/// not every brief's.
pub const NOT_CONFIGURED: &str = "no LLM provider is configured; README: LLM providers";

impl LlmAccess {
    /// Reads your configuration (and the project's, when `trust` says it
    /// is trusted) and builds the client. Never fails: a configuration
    /// problem becomes the reason the model is unavailable, and is logged.
    pub fn for_project(trust: &crate::trust::ProjectTrust) -> Self {
        if let Some(item) = trust.config()
            && item.status != crate::trust::Status::Trusted
        {
            tracing::warn!(
                "the project's [llm] in {} is {}; it is ignored (your own settings apply) until you run `{}`",
                item.path.display(),
                item.status.as_str(),
                trust.command()
            );
        }
        Self::from_config(config::load(trust), |k| std::env::var(k).ok())
    }

    /// [`Self::for_project`] from an already loaded configuration.
    pub fn from_config(loaded: Result<Option<LlmConfig>, ConfigError>, env: impl Fn(&str) -> Option<String>) -> Self {
        match loaded {
            Ok(None) => LlmAccess::Unavailable(NOT_CONFIGURED.to_string()),
            Ok(Some(cfg)) => match LlmClient::new(cfg, env) {
                Ok(client) => {
                    tracing::info!("language model: {}", client.describe());
                    LlmAccess::Ready(Arc::new(client))
                }
                Err(e) => {
                    tracing::error!("the language model is not available: {e}");
                    LlmAccess::Unavailable(e.to_string())
                }
            },
            Err(e) => {
                tracing::error!("the LLM configuration is not valid, personas will return delegated briefs: {e}");
                LlmAccess::Unavailable(format!("the LLM configuration is not valid: {e}"))
            }
        }
    }

    /// No model, with the standard reason.
    pub fn none() -> Self {
        LlmAccess::Unavailable(NOT_CONFIGURED.to_string())
    }

    pub fn client(&self) -> Result<&Arc<LlmClient>, &str> {
        match self {
            LlmAccess::Ready(c) => Ok(c),
            LlmAccess::Unavailable(why) => Err(why),
        }
    }
}
