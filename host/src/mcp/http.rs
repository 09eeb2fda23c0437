//! MCP over streamable HTTP (`agent-os serve --http ADDR`), for a team
//! sharing one server. Every request must carry `Authorization: Bearer
//! <token>` when a token is set; a token is required unless the address is
//! loopback.
//!
//! What a client without the token can do is bounded: a request whose
//! headers do not arrive within [`HEADER_READ_TIMEOUT`] is dropped; at most
//! [`MAX_CONNECTIONS`] connections are open, and when that many are, the
//! oldest connection that has not yet sent an authorised request is closed
//! to make room, so half-open connections cannot lock a team member out. A
//! failing `accept` (no file descriptors left) backs off instead of spinning.
//! A browser request whose `Origin` is not allowed gets 403 (the MCP
//! transport's rule against DNS rebinding): allowed are the server's own
//! loopback origins when it listens on loopback, and `--allow-origin`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rmcp::model::ProtocolVersion;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::PersonaServer;
use crate::app::App;

/// The URL path MCP is served on.
pub const PATH: &str = "/mcp";
/// Connections open at once; past this, unauthorised ones make room.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest token file read.
const TOKEN_FILE_LIMIT: u64 = 4096;
/// Longest pause between `accept` attempts while they fail.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "refusing to serve MCP on {0} without a token: it is not a loopback address. \
         Put a long random secret in a file and pass --token-file PATH (or set AGENT_OS_HTTP_TOKEN), or bind 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    #[error("the HTTP token is too short ({0} characters); use at least 16")]
    WeakToken(usize),
    #[error("cannot read the token file: {0}")]
    TokenFile(#[from] crate::fsx::ReadError),
    #[error("the token file {0} is empty")]
    EmptyTokenFile(String),
    #[error("give the token once: --token-file or --token, not both")]
    TwoTokens,
    #[error(
        "--allow-origin '{0}' is not an origin; write it as a browser sends it: scheme://host[:port] \
         (e.g. https://app.example.com or http://localhost:5173), or null"
    )]
    BadOrigin(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// Checks the address/token pair before anything listens.
pub fn check(addr: SocketAddr, token: Option<&str>) -> Result<(), HttpError> {
    match token {
        None if !addr.ip().is_loopback() => Err(HttpError::TokenRequired(addr)),
        Some(t) if t.chars().count() < 16 => Err(HttpError::WeakToken(t.chars().count())),
        _ => Ok(()),
    }
}

/// How the HTTP server runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    /// The bearer token clients must send (none: loopback only).
    pub token: Option<String>,
    /// Browser origins allowed besides the server's own loopback ones,
    /// normalised (`scheme://host:port`, or `null`).
    pub allowed_origins: Vec<String>,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

impl Options {
    /// The defaults for `addr` with `token`; checks the pair.
    pub fn new(addr: SocketAddr, token: Option<String>) -> Result<Self, HttpError> {
        let token = token.filter(|t| !t.is_empty());
        check(addr, token.as_deref())?;
        Ok(Self {
            addr,
            token,
            allowed_origins: Vec::new(),
            max_connections: MAX_CONNECTIONS,
            header_read_timeout: HEADER_READ_TIMEOUT,
        })
    }

    /// From the command line: the token from `--token-file` (read bounded and
    /// trimmed), else `token` (`--token` or AGENT_OS_HTTP_TOKEN); a token
    /// typed on the command line works but is visible to other users in `ps`.
    pub fn from_flags(
        addr: SocketAddr,
        token: Option<String>,
        token_file: Option<&Path>,
        token_on_command_line: bool,
        allow_origin: &[String],
    ) -> Result<Self, HttpError> {
        let token = match token_file {
            Some(_) if token_on_command_line => return Err(HttpError::TwoTokens),
            Some(path) => Some(read_token_file(path)?),
            None => {
                if token_on_command_line && token.as_deref().is_some_and(|t| !t.is_empty()) {
                    tracing::warn!(
                        "--token on the command line is visible to every user of this machine (`ps`); \
                         use --token-file PATH or the AGENT_OS_HTTP_TOKEN variable instead"
                    );
                }
                token
            }
        };
        let mut options = Self::new(addr, token)?;
        for o in allow_origin {
            let norm = normalise_origin(o).ok_or_else(|| HttpError::BadOrigin(crate::text::escape_short(o, 200)))?;
            if !options.allowed_origins.contains(&norm) {
                options.allowed_origins.push(norm);
            }
        }
        Ok(options)
    }
}

/// The first line of a token file, trimmed. A path the user names may be a
/// link (secrets are often mounted as links); what it leads to must be a
/// small regular file.
fn read_token_file(path: &Path) -> Result<String, HttpError> {
    let shown = path.display().to_string();
    let real = std::fs::canonicalize(path).map_err(|source| {
        HttpError::TokenFile(if source.kind() == std::io::ErrorKind::NotFound {
            crate::fsx::ReadError::NotFound { path: shown.clone() }
        } else {
            crate::fsx::ReadError::Io { path: shown.clone(), source }
        })
    })?;
    let text = crate::fsx::read_text_bounded(&real, TOKEN_FILE_LIMIT)?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(&real) {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o077 != 0 {
            tracing::warn!(
                "the token file {shown} can be read or written by other users (mode {:o}); run `chmod 600 {shown}`",
                meta.mode() & 0o777
            );
        }
    }
    let token = text.lines().next().unwrap_or_default().trim().to_string();
    if token.is_empty() {
        return Err(HttpError::EmptyTokenFile(shown));
    }
    Ok(token)
}

/// `scheme://host:port` in lower case with the scheme's default port made
/// explicit, or `null`; `None` for anything that is not an origin.
pub fn normalise_origin(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("null") {
        return Some("null".into());
    }
    let (scheme, rest) = raw.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty()
        || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\']) || rest.chars().any(|c| c.is_control() || c == ' ')
    {
        return None;
    }
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (inside, tail) = v6.split_once(']')?;
            inside.parse::<std::net::Ipv6Addr>().ok()?;
            let port = match tail {
                "" => None,
                t => Some(t.strip_prefix(':')?.parse::<u16>().ok()?),
            };
            (format!("[{}]", inside.to_ascii_lowercase()), port)
        }
        None => match rest.split_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p.parse::<u16>().ok()?)),
            None => (rest.to_ascii_lowercase(), None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = port.or(match scheme.as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    })?;
    Some(format!("{scheme}://{host}:{port}"))
}

/// The origins a browser page served by this machine on the server's own
/// port would send, when the server listens on loopback.
fn loopback_origins(local: SocketAddr) -> Vec<String> {
    if !local.ip().is_loopback() {
        return Vec::new();
    }
    let port = local.port();
    vec![format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}"), format!("http://[::1]:{port}")]
}

type Body = BoxBody<Bytes, Infallible>;

/// The first protocol revision whose clients expect SSE priming events.
const PRIMING_SINCE: ProtocolVersion = ProtocolVersion::V_2025_11_25;

/// MCP over HTTP, with SSE priming events only for clients that expect them.
///
/// rmcp 3.11 starts every SSE stream with a priming event (an empty `data:`
/// line with `id:` and `retry:`, SEP-1699, new in 2025-11-25) whenever
/// `StreamableHttpServerConfig::sse_retry` is set (the initialize answer and
/// the standalone GET stream, in tower.rs) and whenever the session manager's
/// `SessionConfig::sse_retry` is set (every request-wise stream,
/// `send_priming` in session/local.rs), whatever protocol the session
/// negotiated. Clients on 2025-06-18 and earlier parse every `data:` as
/// JSON-RPC: Gemini CLI fails on the empty one ("Unexpected end of JSON
/// input") and drops the server. Both settings are per service, so this
/// layer keeps two services, each with its own session manager: `primed`
/// (rmcp's defaults) and `plain` (no priming; event ids for resumption stay).
/// An `initialize` goes to the one matching the version it will negotiate;
/// every later request of a session goes to the service that holds the
/// session. Requests without a session (2026-07-28 is always stateless) go
/// to `primed`.
struct Mcp {
    primed: StreamableHttpService<PersonaServer, LocalSessionManager>,
    plain: StreamableHttpService<PersonaServer, LocalSessionManager>,
    plain_sessions: Arc<LocalSessionManager>,
    max_body: usize,
}

impl Mcp {
    fn new(app: App, config: StreamableHttpServerConfig) -> Self {
        let factory = move || Ok(PersonaServer::new(app.clone()));
        let primed =
            StreamableHttpService::new(factory.clone(), Arc::new(LocalSessionManager::default()), config.clone());
        let mut plain_sessions = LocalSessionManager::default();
        plain_sessions.session_config.sse_retry = None;
        let plain_sessions = Arc::new(plain_sessions);
        let max_body = config.max_request_body_bytes;
        let plain = StreamableHttpService::new(factory, plain_sessions.clone(), config.with_sse_retry(None));
        Self { primed, plain, plain_sessions, max_body }
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        // rmcp answers the DELETE that ends a session with 202 Accepted; the
        // Python SDK (mcp 2.x) counts only 200 and 204 as success and logs a
        // warning at every close. The session is gone when rmcp answers, so
        // say 204 No Content.
        if req.method() == hyper::Method::DELETE {
            let mut r = self.route(req).await;
            if r.status() == StatusCode::ACCEPTED {
                *r.status_mut() = StatusCode::NO_CONTENT;
            }
            return r;
        }
        self.route(req).await
    }

    async fn route(&self, req: Request<Incoming>) -> Response<Body> {
        if let Some(id) = req.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            let id: rmcp::transport::streamable_http_server::session::SessionId = id.into();
            return if self.plain_sessions.has_session(&id).await.unwrap_or(false) {
                self.plain.handle(req).await
            } else {
                self.primed.handle(req).await
            };
        }
        if req.method() != hyper::Method::POST {
            return self.primed.handle(req).await;
        }
        // A request without a session: read the body (bounded as rmcp bounds
        // it) to see whether it is an initialize for an older protocol.
        let (parts, body) = req.into_parts();
        let bytes = match http_body_util::Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
            }
            Err(_) => return plain(StatusCode::BAD_REQUEST, "could not read the request body\n"),
        };
        let unprimed = initialize_without_priming(&bytes);
        let mut parts = parts;
        if !parts.headers.contains_key("mcp-method")
            && let Some(method) = notification_method(&bytes)
            && let Ok(value) = hyper::header::HeaderValue::from_str(&method)
        {
            parts.headers.insert("mcp-method", value);
        }
        let req = Request::from_parts(parts, Full::new(bytes));
        if unprimed { self.plain.handle(req).await } else { self.primed.handle(req).await }
    }
}

/// Whether `body` is an `initialize` that will negotiate a protocol older
/// than [`PRIMING_SINCE`]: the server agrees to a requested version it knows
/// (rmcp's `negotiate_protocol_version`), otherwise answers with its newest
/// version that has `initialize`, which primes.
fn initialize_without_priming(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Init {
        method: String,
        #[serde(default)]
        params: Option<InitParams>,
    }
    #[derive(serde::Deserialize)]
    struct InitParams {
        #[serde(rename = "protocolVersion")]
        protocol_version: Option<String>,
    }
    let Ok(init) = serde_json::from_slice::<Init>(body) else { return false };
    let Some(version) = init.params.and_then(|p| p.protocol_version) else { return false };
    init.method == "initialize"
        && version.as_str() < PRIMING_SINCE.as_str()
        && ProtocolVersion::KNOWN_VERSIONS.iter().any(|v| v.as_str() == version)
}

/// The method of `body` when it is one JSON-RPC notification.
///
/// On 2026-07-28, SEP-2243 mirrors the method into an `Mcp-Method` header so
/// intermediaries can route without reading bodies. rmcp 3.11 refuses any
/// POST without it (-32020), notifications included; the TypeScript SDK v2
/// sends it on requests only (its own server exempts notifications), so a
/// client closing a `subscriptions/listen` (`notifications/cancelled`) gets
/// an HTTP error and reports it. A notification has no answer and its body
/// names its method, so this layer fills in an absent header from the body;
/// a header that is present is never changed, so a mismatch is still refused.
fn notification_method(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message {
        jsonrpc: String,
        method: String,
        #[serde(default)]
        id: Option<serde_json::Value>,
    }
    let m = serde_json::from_slice::<Message>(body).ok()?;
    (m.jsonrpc == "2.0" && m.id.is_none() && m.method.starts_with("notifications/")).then_some(m.method)
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())).boxed());
    *r.status_mut() = status;
    r
}

/// Compares digests so the time taken does not depend on the token's content.
fn token_ok(header: Option<&str>, expected: &[u8; 32]) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    let digest: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
    digest.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// What a request must pass before it reaches MCP.
struct Gate {
    token: Option<[u8; 32]>,
    origins: Vec<String>,
}

impl Gate {
    /// Every `Origin` header present must be an allowed origin.
    fn origin_ok(&self, headers: &hyper::HeaderMap) -> bool {
        headers
            .get_all(hyper::header::ORIGIN)
            .iter()
            .all(|v| v.to_str().ok().and_then(normalise_origin).is_some_and(|o| self.origins.contains(&o)))
    }

    /// `None` when the request may go on; otherwise the refusal.
    fn refuse(&self, req: &Request<Incoming>) -> Option<Response<Body>> {
        if req.uri().path() != PATH {
            return Some(plain(StatusCode::NOT_FOUND, "MCP is served at /mcp\n"));
        }
        if !self.origin_ok(req.headers()) {
            tracing::debug!("refused a request from a browser origin that is not allowed");
            return Some(plain(
                StatusCode::FORBIDDEN,
                "this Origin is not allowed; the server's owner can add it with --allow-origin\n",
            ));
        }
        if let Some(expected) = &self.token {
            let header = req.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            if !token_ok(header, expected) {
                let mut r = plain(StatusCode::UNAUTHORIZED, "missing or wrong bearer token\n");
                r.headers_mut()
                    .insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Bearer"));
                return Some(r);
            }
        }
        None
    }
}

/// One open connection as the limiter sees it.
struct Slot {
    id: u64,
    /// Set once the connection sent a request that passed the gate.
    authorised: Arc<AtomicBool>,
    /// Notified to close the connection.
    evict: Arc<Notify>,
}

#[derive(Default)]
struct Slots {
    next_id: u64,
    /// In accept order, oldest first.
    open: VecDeque<Slot>,
    last_warned: Option<Instant>,
}

/// The open connections, capped.
struct Connections {
    max: usize,
    slots: Mutex<Slots>,
}

/// Removes its connection from [`Connections`] when the connection ends.
struct SlotGuard {
    conns: Arc<Connections>,
    id: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.conns.lock().open.retain(|s| s.id != self.id);
    }
}

impl Connections {
    fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max: max.max(1), slots: Mutex::default() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the oldest connection that has not sent an authorised request;
    /// returns whether there was one.
    fn evict_oldest_unauthorised(slots: &mut Slots) -> bool {
        match slots.open.iter().position(|s| !s.authorised.load(Ordering::Relaxed)) {
            Some(i) => {
                if let Some(old) = slots.open.remove(i) {
                    old.evict.notify_one();
                }
                true
            }
            None => false,
        }
    }

    /// Makes room for a new connection, closing the oldest unauthorised one
    /// at the cap. `None` when every slot holds an authorised client.
    fn admit(self: &Arc<Self>) -> Option<(SlotGuard, Arc<AtomicBool>, Arc<Notify>)> {
        let mut slots = self.lock();
        if slots.open.len() >= self.max {
            let made_room = Self::evict_oldest_unauthorised(&mut slots);
            if slots.last_warned.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                slots.last_warned = Some(Instant::now());
                tracing::warn!(
                    "{} HTTP connections are open, the most allowed; {}",
                    self.max,
                    if made_room {
                        "closing the oldest that sent no authorised request"
                    } else {
                        "every one is an authorised client, so new connections are refused"
                    }
                );
            }
            if !made_room {
                return None;
            }
        }
        let id = slots.next_id;
        slots.next_id += 1;
        let authorised = Arc::new(AtomicBool::new(false));
        let evict = Arc::new(Notify::new());
        slots.open.push_back(Slot { id, authorised: authorised.clone(), evict: evict.clone() });
        Some((SlotGuard { conns: self.clone(), id }, authorised, evict))
    }

    /// Frees a file descriptor when the process has none left.
    fn shed(&self) {
        Self::evict_oldest_unauthorised(&mut self.lock());
    }
}

/// Whether an `accept` error means the process or system ran out of something.
fn is_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM))
}

/// Serves MCP until SIGTERM or Ctrl-C, then drains running jobs. Returns
/// early only when listening fails; connection errors are logged.
pub async fn serve(app: App, options: Options) -> Result<(), HttpError> {
    let Options { addr, token, allowed_origins, max_connections, header_read_timeout } = options;
    check(addr, token.as_deref())?;
    let jobs = app.jobs.clone();
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| HttpError::Bind { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    let mut config = StreamableHttpServerConfig::default();
    if !addr.ip().is_loopback() {
        // Reached by other hosts under names we cannot know; the token guards it.
        config = config.disable_allowed_hosts();
    }
    let service = Arc::new(Mcp::new(app, config));
    let mut origins = loopback_origins(local);
    origins.extend(allowed_origins);
    let gate = Arc::new(Gate { token: token.as_deref().map(|t| Sha256::digest(t.as_bytes()).into()), origins });
    let conns = Connections::new(max_connections);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
    let builder = Arc::new(builder);
    tracing::info!(
        "agent-os serving MCP on http://{local}{PATH}{}",
        if gate.token.is_some() { " (bearer token required)" } else { "" }
    );
    let stop = super::shutdown_signal();
    tokio::pin!(stop);
    let mut backoff = Duration::ZERO;
    let mut failures = 0u64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            signal = &mut stop => {
                tracing::info!("{signal}; no new connections, letting running jobs finish");
                super::drain(&jobs).await;
                return Ok(());
            }
        };
        let (stream, peer) = match accepted {
            Ok(c) => {
                if failures > 0 {
                    tracing::info!("accepting connections again after {failures} failure(s)");
                }
                backoff = Duration::ZERO;
                failures = 0;
                c
            }
            Err(e) => {
                // Out of file descriptors, accept fails at once and forever:
                // wait (longer each time), and free one held by a client
                // that never authorised.
                if is_exhaustion(&e) {
                    conns.shed();
                }
                if failures == 0 {
                    tracing::warn!("accepting a connection failed: {e}; backing off");
                }
                failures += 1;
                backoff = (backoff * 2).clamp(Duration::from_millis(10), ACCEPT_BACKOFF_MAX);
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let Some((slot, authorised, evict)) = conns.admit() else {
            drop(stream);
            continue;
        };
        let service = service.clone();
        let gate = gate.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let flag = authorised.clone();
            let handler = hyper::service::service_fn(move |req: Request<Incoming>| {
                let service = service.clone();
                let gate = gate.clone();
                let flag = flag.clone();
                async move {
                    if let Some(refusal) = gate.refuse(&req) {
                        return Ok::<_, Infallible>(refusal);
                    }
                    flag.store(true, Ordering::Relaxed);
                    Ok(service.handle(req).await)
                }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), handler);
            tokio::pin!(conn);
            tokio::select! {
                ended = conn.as_mut() => {
                    if let Err(e) = ended {
                        tracing::debug!(%peer, "HTTP connection ended: {e}");
                    }
                }
                () = evict.notified() => {
                    tracing::debug!(%peer, "closed to make room: the connection limit was reached and it never authorised");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_initialize_for_older_protocols_goes_without_priming() {
        let init = |v: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"{v}","capabilities":{{}}}}}}"#
            )
        };
        for old in ["2024-11-05", "2025-03-26", "2025-06-18"] {
            assert!(initialize_without_priming(init(old).as_bytes()), "{old}");
        }
        // Newer, and unknown (answered with the newest version): primed.
        for new in ["2025-11-25", "2026-07-28", "2025-01-01", "1999-01-01", "x"] {
            assert!(!initialize_without_priming(init(new).as_bytes()), "{new}");
        }
        assert!(!initialize_without_priming(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#));
        assert!(!initialize_without_priming(b"not json"));
    }

    #[test]
    fn only_a_notification_gets_its_method_header_filled_in() {
        let m = |b: &str| notification_method(b.as_bytes());
        assert_eq!(
            m(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#).as_deref(),
            Some("notifications/cancelled")
        );
        assert_eq!(m(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#), None, "a request keeps the rule");
        assert_eq!(m(r#"{"jsonrpc":"2.0","method":"tools/list"}"#), None);
        assert_eq!(m(r#"[{"jsonrpc":"2.0","method":"notifications/cancelled"}]"#), None);
        assert_eq!(m("not json"), None);
    }

    #[test]
    fn non_loopback_needs_a_strong_token() {
        let lan: SocketAddr = "0.0.0.0:7000".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        assert!(matches!(check(lan, None), Err(HttpError::TokenRequired(_))));
        assert!(matches!(check(lan, Some("short")), Err(HttpError::WeakToken(5))));
        assert!(check(lan, Some("0123456789abcdef")).is_ok());
        assert!(check(lo, None).is_ok());
    }

    #[test]
    fn bearer_tokens_are_compared_exactly() {
        let expected: [u8; 32] = Sha256::digest(b"0123456789abcdef").into();
        assert!(token_ok(Some("Bearer 0123456789abcdef"), &expected));
        assert!(!token_ok(Some("Bearer 0123456789abcdeX"), &expected));
        assert!(!token_ok(Some("0123456789abcdef"), &expected));
        assert!(!token_ok(None, &expected));
    }

    #[test]
    fn origins_are_normalised_the_way_browsers_send_them() {
        assert_eq!(normalise_origin("http://LocalHost:7411").as_deref(), Some("http://localhost:7411"));
        assert_eq!(normalise_origin("https://app.example.com").as_deref(), Some("https://app.example.com:443"));
        assert_eq!(normalise_origin("https://app.example.com/").as_deref(), Some("https://app.example.com:443"));
        assert_eq!(normalise_origin("http://[::1]:80").as_deref(), Some("http://[::1]:80"));
        assert_eq!(normalise_origin("null").as_deref(), Some("null"));
        for bad in [
            "",
            "localhost:7411",
            "http://",
            "http://a.example/path",
            "http://u@a.example",
            "http://a.example:99999",
            "http://[zz]:1",
            "foo://a.example",
            "http://a b",
        ] {
            assert_eq!(normalise_origin(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_listed_origins_pass_and_no_origin_passes() {
        let gate = Gate { token: None, origins: loopback_origins("127.0.0.1:7411".parse().unwrap()) };
        let with = |o: &str| {
            let mut h = hyper::HeaderMap::new();
            h.insert(hyper::header::ORIGIN, o.parse().unwrap());
            gate.origin_ok(&h)
        };
        assert!(gate.origin_ok(&hyper::HeaderMap::new()));
        assert!(with("http://localhost:7411"));
        assert!(with("http://127.0.0.1:7411"));
        assert!(!with("http://localhost:7412"));
        assert!(!with("https://localhost:7411"));
        assert!(!with("http://evil.example"));
        assert!(!with("null"));
        assert!(loopback_origins("0.0.0.0:7411".parse().unwrap()).is_empty());
    }

    #[test]
    fn the_cap_closes_the_oldest_unauthorised_connection_first() {
        let conns = Connections::new(3);
        let (a, a_auth, _) = conns.admit().unwrap();
        let (_b, _, _b_evict) = conns.admit().unwrap();
        let (_c, _, _) = conns.admit().unwrap();
        a_auth.store(true, Ordering::Relaxed);
        // Full: the oldest unauthorised (b) makes room, not the authorised a.
        let (_d, d_auth, _) = conns.admit().unwrap();
        let ids: Vec<u64> = conns.lock().open.iter().map(|s| s.id).collect();
        assert_eq!(ids, [0, 2, 3]);
        // Once every slot is authorised, a new connection is refused.
        d_auth.store(true, Ordering::Relaxed);
        conns.lock().open.iter().for_each(|s| s.authorised.store(true, Ordering::Relaxed));
        assert!(conns.admit().is_none());
        // A closed connection frees its slot.
        drop(a);
        assert!(conns.admit().is_some());
    }

    #[test]
    fn token_file_is_trimmed_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let lan: SocketAddr = "0.0.0.0:7000".parse().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "  0123456789abcdef-secret \n").unwrap();
        let o = Options::from_flags(lan, None, Some(&f), false, &[]).unwrap();
        assert_eq!(o.token.as_deref(), Some("0123456789abcdef-secret"));
        std::fs::write(&f, vec![b'x'; 10_000]).unwrap();
        assert!(matches!(Options::from_flags(lan, None, Some(&f), false, &[]), Err(HttpError::TokenFile(_))));
        std::fs::write(&f, "\n").unwrap();
        assert!(matches!(Options::from_flags(lan, None, Some(&f), false, &[]), Err(HttpError::EmptyTokenFile(_))));
        assert!(matches!(
            Options::from_flags(lan, Some("x".repeat(20)), Some(&f), true, &[]),
            Err(HttpError::TwoTokens)
        ));
        let bad = Options::from_flags("127.0.0.1:1".parse().unwrap(), None, None, false, &["evil".into()]);
        assert!(matches!(bad, Err(HttpError::BadOrigin(_))));
    }
}
