//! The HTTP side: one request per attempt, retries with backoff, and an
//! error that names the provider, the URL, the status and the attempts.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::config::{LlmConfig, ProviderKind};
use super::openai::TokenField;
use super::retry::{self, MAX_RETRY_AFTER};
use super::{ChatMessage, Completion, anthropic, openai};

/// Largest answer body read from a provider.
const MAX_BODY_BYTES: usize = 8 << 20;
/// Longest connection set-up, whatever the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many attempts a request took, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts(pub u32);

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 | 1 => write!(f, "after 1 attempt (no retries)"),
            2 => write!(f, "after 2 attempts (1 retry)"),
            n => write!(f, "after {n} attempts ({} retries)", n - 1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(
        "the {provider} provider needs an API key, but the environment variable {var} (named by api_key_env) \
         is not set for the agent-os server; set it where your MCP client starts agent-os"
    )]
    MissingKey { provider: ProviderKind, var: String },
    #[error("the API key in {var} is not a valid HTTP header value")]
    BadKey { var: String },
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
    #[error("{provider} at {url} answered HTTP {status} {attempts}: {detail}")]
    Status { provider: ProviderKind, url: String, status: u16, attempts: Attempts, detail: String },
    #[error("{provider} at {url} could not be reached {attempts}: {detail}")]
    Transport { provider: ProviderKind, url: String, attempts: Attempts, detail: String },
    #[error("{provider} at {url} did not answer within {timeout_s} s {attempts}")]
    Timeout { provider: ProviderKind, url: String, timeout_s: u64, attempts: Attempts },
    #[error("{provider} at {url} sent an answer agent-os could not read: {detail}")]
    BadResponse { provider: ProviderKind, url: String, detail: String },
    #[error("{provider}: {detail}")]
    BadRequest { provider: ProviderKind, detail: String },
}

impl LlmError {
    /// The provider refused the request's content (too long, malformed):
    /// the persona could change it. Everything else is the operator's or
    /// the network's problem.
    pub fn is_rejected_request(&self) -> bool {
        matches!(self, LlmError::Status { status: 400 | 413 | 422, .. } | LlmError::BadRequest { .. })
    }
}

/// A configured provider, ready to answer.
pub struct LlmClient {
    config: LlmConfig,
    http: reqwest::Client,
    headers: HeaderMap,
}

impl fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmClient").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Attempt {
    Done(Completion),
    /// Worth another try after the wait (the provider's `Retry-After`, if any).
    Retry(LlmError, Option<Duration>),
    Fail(LlmError),
}

impl LlmClient {
    /// Builds the client; reads the API key from the variable the
    /// configuration names, through `env`.
    pub fn new(config: LlmConfig, env: impl Fn(&str) -> Option<String>) -> Result<Self, LlmError> {
        let allow_http = env(super::config::ALLOW_HTTP_VAR).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        super::config::check_base_url(&config.base_url, allow_http)
            .map_err(|why| LlmError::Client(format!("the base URL {why}")))?;
        let mut headers = HeaderMap::new();
        if let Some(var) = &config.api_key_env {
            let key = env(var).map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
            let Some(key) = key else {
                return Err(LlmError::MissingKey { provider: config.provider, var: var.clone() });
            };
            let (name, value) = match config.provider {
                ProviderKind::OpenAi => ("authorization", format!("Bearer {key}")),
                ProviderKind::Anthropic => ("x-api-key", key),
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| LlmError::BadKey { var: var.clone() })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        if config.provider == ProviderKind::Anthropic {
            headers.insert("anthropic-version", HeaderValue::from_static(anthropic::API_VERSION));
        }
        let http = reqwest::Client::builder()
            .redirect(same_origin_redirects())
            .timeout(config.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(config.timeout))
            .user_agent(concat!("agent-os/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Client(e.to_string()))?;
        Ok(Self { config, http, headers })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// "openai model gpt-4.1-mini at https://api.openai.com/v1/chat/completions".
    pub fn describe(&self) -> String {
        format!("{} model {} at {}", self.config.provider, self.config.model, self.endpoint())
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> String {
        self.config.endpoint()
    }

    /// Asks the model, retrying transient failures up to `max_retries` times.
    pub async fn complete(&self, messages: &[ChatMessage], max_tokens: u32) -> Result<Completion, LlmError> {
        let provider = self.config.provider;
        let url = self.endpoint();
        let mut field = TokenField::MaxTokens;
        let mut attempts = 0u32;
        let mut retries = 0u32;
        loop {
            let body = match provider {
                ProviderKind::OpenAi => openai::request_body(&self.config.model, messages, max_tokens, field),
                ProviderKind::Anthropic => anthropic::request_body(&self.config.model, messages, max_tokens)
                    .map_err(|detail| LlmError::BadRequest { provider, detail })?,
            };
            attempts += 1;
            match self.attempt(&url, &body, Attempts(attempts)).await {
                Attempt::Done(c) => {
                    if c.truncated {
                        tracing::warn!(provider = %provider, "the model stopped at the {max_tokens}-token limit");
                    }
                    return Ok(c);
                }
                Attempt::Fail(LlmError::Status { status: 400, ref detail, .. })
                    if provider == ProviderKind::OpenAi
                        && field == TokenField::MaxTokens
                        && openai::wants_completion_tokens_field(detail) =>
                {
                    // Not a retry: the same request in the form this model accepts.
                    tracing::debug!("the model wants max_completion_tokens; asking again");
                    field = TokenField::MaxCompletionTokens;
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, _) if retries >= self.config.max_retries => return Err(e),
                Attempt::Retry(e, Some(wait)) if wait > MAX_RETRY_AFTER => {
                    tracing::warn!("{e}; the provider asks to wait {} s, longer than agent-os waits", wait.as_secs());
                    return Err(e);
                }
                Attempt::Retry(e, after) => {
                    let wait = after.unwrap_or_else(|| retry::backoff(retries, retry::jitter_unit()));
                    retries += 1;
                    tracing::warn!(
                        retry = retries,
                        of = self.config.max_retries,
                        wait_ms = wait.as_millis() as u64,
                        "{e}; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(&self, url: &str, body: &Value, attempts: Attempts) -> Attempt {
        let provider = self.config.provider;
        let sent = self.http.post(url).headers(self.headers.clone()).json(body).send().await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(self.transport_error(url, &e, attempts), None),
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, std::time::SystemTime::now()));
        let bytes = match read_capped(resp).await {
            Ok(b) => b,
            Err(e) => return Attempt::Retry(self.transport_error(url, &e, attempts), None),
        };
        if !status.is_success() {
            let err = LlmError::Status {
                provider,
                url: url.to_string(),
                status: status.as_u16(),
                attempts,
                detail: error_detail(status, &bytes),
            };
            return if retry::retryable_status(status.as_u16()) {
                Attempt::Retry(err, retry_after)
            } else {
                Attempt::Fail(err)
            };
        }
        let bad = |detail: String| Attempt::Fail(LlmError::BadResponse { provider, url: url.to_string(), detail });
        let json: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return bad(format!("not JSON ({e}): {}", snippet(&bytes))),
        };
        let parsed = match provider {
            ProviderKind::OpenAi => openai::parse_response(&json),
            ProviderKind::Anthropic => anthropic::parse_response(&json),
        };
        match parsed {
            Ok(c) => Attempt::Done(c),
            Err(detail) => bad(detail),
        }
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error, attempts: Attempts) -> LlmError {
        let provider = self.config.provider;
        if e.is_timeout() {
            return LlmError::Timeout {
                provider,
                url: url.to_string(),
                timeout_s: self.config.timeout.as_secs(),
                attempts,
            };
        }
        LlmError::Transport { provider, url: url.to_string(), attempts, detail: chain(e) }
    }
}

/// Follows a redirect only to the same scheme, host and port (at most 3):
/// the key header never travels to another host, and never over a
/// downgrade to plain HTTP. Any other redirect ends the request with the
/// 3xx status, reported as an error.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt.previous().first().is_some_and(|first| {
            let next = attempt.url();
            first.scheme() == next.scheme()
                && first.host_str() == next.host_str()
                && first.port_or_known_default() == next.port_or_known_default()
        });
        if attempt.previous().len() > 3 {
            attempt.error("too many redirects")
        } else if same {
            attempt.follow()
        } else {
            tracing::warn!("the LLM provider redirected to another host; not following it with the API key");
            attempt.stop()
        }
    })
}

/// The error and its causes, e.g. "error sending request: connection refused".
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = MAX_BODY_BYTES.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok(out)
}

/// The provider's own explanation: `error.message` (OpenAI, Anthropic,
/// vLLM), `error` as a string (Ollama, llama.cpp), else the start of the body.
fn error_detail(status: reqwest::StatusCode, body: &[u8]) -> String {
    let reason = status.canonical_reason().unwrap_or("error");
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let e = v.get("error")?;
        match e {
            Value::String(s) => Some(s.clone()),
            other => other.get("message").and_then(Value::as_str).map(str::to_string),
        }
        .or_else(|| v.get("message").and_then(Value::as_str).map(str::to_string))
    });
    match from_json {
        Some(m) => format!("{reason}: {}", m.chars().take(500).collect::<String>()),
        None if body.is_empty() => reason.to_string(),
        None => format!("{reason}: {}", snippet(body)),
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let s: String = text.chars().take(300).collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Role;

    fn cfg(provider: ProviderKind, key_env: Option<&str>) -> LlmConfig {
        LlmConfig {
            provider,
            base_url: "http://127.0.0.1:9".into(),
            model: "m".into(),
            api_key_env: key_env.map(str::to_string),
            timeout: Duration::from_secs(2),
            max_retries: 0,
            base_url_from: "test".into(),
            layer: crate::llm::config::Layer::User,
        }
    }

    #[test]
    fn a_missing_key_names_the_variable() {
        let e = LlmClient::new(cfg(ProviderKind::Anthropic, Some("MY_ANTHROPIC_KEY")), |_| None).unwrap_err();
        assert!(e.to_string().contains("MY_ANTHROPIC_KEY"), "{e}");
        let ok = LlmClient::new(cfg(ProviderKind::OpenAi, Some("K")), |_| Some("sk-test".into())).unwrap();
        assert_eq!(ok.headers["authorization"], "Bearer sk-test");
        assert!(ok.headers["authorization"].is_sensitive());
        assert!(!format!("{ok:?}").contains("sk-test"), "the key never shows in debug output");
    }

    #[test]
    fn attempts_read_naturally() {
        assert_eq!(Attempts(1).to_string(), "after 1 attempt (no retries)");
        assert_eq!(Attempts(4).to_string(), "after 4 attempts (3 retries)");
    }

    #[test]
    fn error_detail_prefers_the_providers_message() {
        let s = reqwest::StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            error_detail(s, br#"{"error":{"message":"Rate limit reached","type":"requests"}}"#),
            "Too Many Requests: Rate limit reached"
        );
        assert_eq!(error_detail(s, br#"{"error":"model 'x' not found"}"#), "Too Many Requests: model 'x' not found");
        assert_eq!(error_detail(s, b"<html>\n  busy </html>"), "Too Many Requests: <html> busy </html>");
        assert_eq!(error_detail(s, b""), "Too Many Requests");
    }

    #[tokio::test]
    async fn a_redirect_to_another_host_is_not_followed_with_the_key() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Where the redirect points: counts connections.
        let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let other_port = other.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((_s, _)) = other.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
            }
        });
        // The provider: answers every request with a redirect there.
        let provider = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = provider.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = provider.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 16384];
                    let _ = s.read(&mut buf).await;
                    let answer = format!(
                        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{other_port}/v1/chat/completions\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = s.write_all(answer.as_bytes()).await;
                });
            }
        });
        let mut c = cfg(ProviderKind::OpenAi, Some("K"));
        c.base_url = format!("http://127.0.0.1:{port}/v1");
        let client = LlmClient::new(c, |_| Some("sk-redirect-secret".into())).unwrap();
        let e = client.complete(&[ChatMessage::new(Role::User, "hi")], 10).await.unwrap_err();
        assert!(matches!(e, LlmError::Status { status: 307, .. }), "{e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(hits.load(Ordering::SeqCst), 0, "the request (and its key) followed the redirect");
    }

    #[test]
    fn a_base_url_with_credentials_or_remote_http_is_refused() {
        for url in ["https://u:p@x.example/v1", "http://x.example/v1"] {
            let mut c = cfg(ProviderKind::OpenAi, None);
            c.base_url = url.into();
            let e = LlmClient::new(c, |_| None).unwrap_err().to_string();
            assert!(!e.contains("u:p"), "{e}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_a_transport_error_naming_the_url() {
        // A loopback port that was free a moment ago: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut c = cfg(ProviderKind::OpenAi, None);
        c.base_url = format!("http://127.0.0.1:{port}/v1");
        c.max_retries = 1;
        let client = LlmClient::new(c, |_| None).unwrap();
        let started = std::time::Instant::now();
        let e = client.complete(&[ChatMessage::new(Role::User, "hi")], 10).await.unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, LlmError::Transport { attempts: Attempts(2), .. }), "{text}");
        assert!(
            text.contains(&format!("127.0.0.1:{port}/v1/chat/completions")) && text.contains("2 attempts (1 retry)"),
            "{text}"
        );
        assert!(started.elapsed() >= Duration::from_millis(250), "the retry waited its backoff");
        assert!(!e.is_rejected_request());
    }
}
