//! MCP over streamable HTTP (`agent-os serve --http ADDR`), for a team
//! sharing one server. Every request must carry `Authorization: Bearer
//! <token>` when a token is set; a token is required unless the address is
//! loopback.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use sha2::{Digest, Sha256};

use super::PersonaServer;
use crate::app::App;

/// The URL path MCP is served on.
pub const PATH: &str = "/mcp";

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "refusing to serve MCP on {0} without a token: it is not a loopback address. \
         Set AGENT_OS_HTTP_TOKEN (or --token) to a long random secret, or bind 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    #[error("the HTTP token is too short ({0} characters); use at least 16")]
    WeakToken(usize),
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

type Body = BoxBody<Bytes, Infallible>;

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

/// Serves MCP on `addr` until the process ends. Returns once listening
/// fails; connection errors are logged.
pub async fn serve(app: App, addr: SocketAddr, token: Option<String>) -> Result<(), HttpError> {
    check(addr, token.as_deref())?;
    let jobs = app.jobs.clone();
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| HttpError::Bind { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    let mut config = StreamableHttpServerConfig::default();
    if !addr.ip().is_loopback() {
        // Reached by other hosts under names we cannot know; the token guards it.
        config = config.disable_allowed_hosts();
    }
    let service = StreamableHttpService::new(
        move || Ok(PersonaServer::new(app.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let expected: Option<[u8; 32]> = token.as_deref().map(|t| Sha256::digest(t.as_bytes()).into());
    tracing::info!(
        "agent-os serving MCP on http://{local}{PATH}{}",
        if expected.is_some() { " (bearer token required)" } else { "" }
    );
    let stop = super::shutdown_signal();
    tokio::pin!(stop);
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
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accepting a connection failed: {e}");
                continue;
            }
        };
        let service = service.clone();
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |req: Request<Incoming>| {
                let service = service.clone();
                async move {
                    if req.uri().path() != PATH {
                        return Ok::<_, Infallible>(plain(StatusCode::NOT_FOUND, "MCP is served at /mcp\n"));
                    }
                    if let Some(expected) = &expected {
                        let header = req.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
                        if !token_ok(header, expected) {
                            let mut r = plain(StatusCode::UNAUTHORIZED, "missing or wrong bearer token\n");
                            r.headers_mut().insert(
                                hyper::header::WWW_AUTHENTICATE,
                                hyper::header::HeaderValue::from_static("Bearer"),
                            );
                            return Ok(r);
                        }
                    }
                    Ok(service.handle(req).await)
                }
            });
            if let Err(e) =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), handler).await
            {
                tracing::debug!(%peer, "HTTP connection ended: {e}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
