//! The host functions a persona may call, each checked against the
//! persona's granted capabilities before it does anything.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::HostState;
use super::bindings::agent_os::persona::{host, types};
use crate::jobs::Progress;
use crate::llm::{ChatMessage, Role};
use crate::project::Project;

/// Longest search query a persona may send.
const MAX_QUERY_CHARS: usize = 2_000;
/// Largest file a persona may read.
const MAX_READ_BYTES: u64 = 1 << 20;
/// Most hits one search may return.
const MAX_SEARCH_LIMIT: u32 = 20;
/// Largest conversation a persona may send to the model, in bytes.
const MAX_PROMPT_BYTES: usize = 2 << 20;
/// Largest answer a persona may ask the model for, in tokens.
const MAX_COMPLETION_TOKENS: u32 = 32_768;

/// One passage returned by the standards search.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub path: String,
    pub heading: String,
    pub text: String,
    pub score: f32,
}

/// What one search gave a persona.
#[derive(Debug, Clone, Default)]
pub struct PersonaSearch {
    pub hits: Vec<SearchHit>,
    /// The index was still being built: a standard may be missing.
    pub incomplete: bool,
}

/// The standards index, as the sandbox sees it.
pub trait StandardsSearch: Send + Sync {
    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: u32,
    ) -> Pin<Box<dyn Future<Output = Result<PersonaSearch, String>> + Send + 'a>>;
}

/// Added to a finished review that searched the standards while the index
/// was still being built and found some: the persona cannot tell, since
/// its search only returns passages.
pub const INDEX_INCOMPLETE_NOTE: &str = "**Note:** the standards index was still being built when this review \
searched it, so a standard may be missing from the ones quoted; run the review again once search_standards no \
longer says the index is building.";

/// `review` with [`INDEX_INCOMPLETE_NOTE`] after it when `incomplete`.
pub fn with_index_note(review: String, incomplete: bool) -> String {
    if incomplete { format!("{}\n\n{INDEX_INCOMPLETE_NOTE}\n", review.trim_end()) } else { review }
}

/// What the host functions reach: the project and the services configured.
pub struct HostServices {
    pub project: Project,
    /// `None` until a standards index exists.
    pub search: Option<Arc<dyn StandardsSearch>>,
    /// Where proposed standards wait for review; `None` refuses proposals.
    pub standards: Option<Arc<crate::standards::Standards>>,
    /// The language model behind `complete`, or why there is none.
    pub llm: crate::llm::LlmAccess,
}

impl HostServices {
    /// Services with nothing behind them but the project's files; for
    /// checks that start a persona outside a server.
    pub fn offline(project: Project) -> Self {
        Self { project, search: None, standards: None, llm: crate::llm::LlmAccess::none() }
    }
}

type HostResult<T> = wasmtime::Result<Result<T, types::Error>>;

fn denied(what: &str, id: &str) -> types::Error {
    types::Error::AccessDenied(format!("persona '{id}' was not granted the '{what}' capability in its persona.toml"))
}

/// Resolves when the job's cancel flag is set; never without a flag.
async fn cancelled(flag: Option<Arc<std::sync::atomic::AtomicBool>>) {
    let Some(flag) = flag else { return std::future::pending().await };
    while !flag.load(std::sync::atomic::Ordering::Relaxed) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Counts a host call on the job (the spec's tool_calls_completed).
async fn count(control: Option<crate::jobs::JobControl>) {
    if let Some(c) = control {
        c.tool_call().await;
    }
}

impl types::Host for HostState {}

impl host::Host for HostState {
    async fn search_standards(&mut self, query: String, limit: u32) -> HostResult<Vec<types::Hit>> {
        let caps = &self.job.persona.manifest.capabilities;
        if !caps.search {
            return Ok(Err(denied("search", &self.job.persona.manifest.id)));
        }
        count(self.job.control.clone()).await;
        if query.trim().is_empty() {
            return Ok(Err(types::Error::InvalidInput("the search query is empty".into())));
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Ok(Err(types::Error::InvalidInput(format!(
                "the search query is longer than {MAX_QUERY_CHARS} characters"
            ))));
        }
        let Some(search) = self.job.services.search.clone() else {
            return Ok(Err(types::Error::Unavailable("the standards index is not built on this server".into())));
        };
        let answer = search.search(&query, limit.clamp(1, MAX_SEARCH_LIMIT)).await;
        if let Ok(a) = &answer {
            self.job.index_incomplete |= a.incomplete;
        }
        Ok(answer
            .map(|a| {
                a.hits
                    .into_iter()
                    .map(|h| types::Hit { path: h.path, heading: h.heading, text: h.text, score: h.score })
                    .collect()
            })
            .map_err(types::Error::Unavailable))
    }

    async fn report_progress(&mut self, phase: types::Phase, percent: u8, message: String) -> wasmtime::Result<()> {
        let phase = match phase {
            types::Phase::Initializing => "initializing",
            types::Phase::Searching => "searching",
            types::Phase::Analyzing => "analyzing",
            types::Phase::Generating => "generating",
        };
        let message: String = message.chars().take(500).collect();
        if let Some(c) = &self.job.control {
            tracing::debug!(job = %c.id, phase, percent, "progress: {message}");
        }
        if self.job.trail.len() < 200 {
            self.job.trail.push(format!("{phase} {}%: {message}", percent.min(100)));
        }
        if let Some(c) = self.job.control.clone() {
            c.progress(Progress { phase: phase.to_string(), percent: percent.min(100), message }).await;
        }
        Ok(())
    }

    async fn propose_standard(&mut self, domain: String, topic: String, content: String) -> HostResult<String> {
        let manifest = &self.job.persona.manifest;
        if !manifest.capabilities.propose {
            return Ok(Err(denied("propose", &manifest.id)));
        }
        count(self.job.control.clone()).await;
        Ok(propose(&self.job, domain, topic, content).await)
    }

    /// Asks the configured provider. No provider: `unavailable` (the
    /// persona delegates). The provider refused the request's content:
    /// `invalid-input` (the persona may shorten it). The provider failed
    /// after its retries: the job stops with that reason, like a timeout.
    async fn complete(&mut self, messages: Vec<types::Message>, max_tokens: u32) -> HostResult<types::Completion> {
        if !self.job.persona.manifest.capabilities.llm {
            return Ok(Err(denied("llm", &self.job.persona.manifest.id)));
        }
        count(self.job.control.clone()).await;
        let client = match self.job.services.llm.client() {
            Ok(c) => c.clone(),
            Err(why) => return Ok(Err(types::Error::Unavailable(why.to_string()))),
        };
        if messages.is_empty() {
            return Ok(Err(types::Error::InvalidInput("no messages to send to the language model".into())));
        }
        let bytes: usize = messages.iter().map(|m| m.content.len()).sum();
        if bytes > MAX_PROMPT_BYTES {
            return Ok(Err(types::Error::InvalidInput(format!(
                "the messages hold {bytes} bytes; the limit is {MAX_PROMPT_BYTES}"
            ))));
        }
        if max_tokens == 0 || max_tokens > MAX_COMPLETION_TOKENS {
            return Ok(Err(types::Error::InvalidInput(format!(
                "max-tokens must be from 1 to {MAX_COMPLETION_TOKENS}, got {max_tokens}"
            ))));
        }
        let messages: Vec<ChatMessage> = messages
            .into_iter()
            .map(|m| {
                let role = match m.role {
                    types::Role::System => Role::System,
                    types::Role::User => Role::User,
                    types::Role::Assistant => Role::Assistant,
                };
                ChatMessage::new(role, m.content)
            })
            .collect();
        // Epoch interruption reaches only wasm code, so while the host waits
        // on the network it watches the job's cancel flag itself.
        let cancel = self.job.control.as_ref().map(|c| c.cancel_flag());
        let answer = tokio::select! {
            answer = client.complete(&messages, max_tokens) => answer,
            () = cancelled(cancel) => return Err(super::Interrupt::Cancelled.into()),
        };
        match answer {
            Ok(done) => {
                if let Some(c) = &self.job.control {
                    c.tokens(i64::from(done.tokens_input), i64::from(done.tokens_output)).await;
                }
                Ok(Ok(types::Completion {
                    text: done.text,
                    input_tokens: done.tokens_input,
                    output_tokens: done.tokens_output,
                }))
            }
            Err(e) if e.is_rejected_request() => Ok(Err(types::Error::InvalidInput(e.to_string()))),
            Err(e) => Err(e.into()),
        }
    }

    async fn read_file(&mut self, path: String) -> HostResult<String> {
        let manifest = &self.job.persona.manifest;
        if manifest.capabilities.read_files.is_empty() {
            return Ok(Err(denied("read-files", &manifest.id)));
        }
        count(self.job.control.clone()).await;
        let persona = &self.job.persona;
        Ok(read_project_file(&self.job.services.project, &persona.readable, &manifest.capabilities.read_files, &path))
    }
}

/// Stores a persona's proposal as pending, within the persona's own domain.
async fn propose(job: &super::JobCtl, domain: String, topic: String, content: String) -> Result<String, types::Error> {
    use crate::standards::{NewProposal, StandardsError};
    let manifest = &job.persona.manifest;
    if domain != manifest.domain {
        return Err(types::Error::AccessDenied(format!(
            "persona '{}' may propose standards only in its own domain '{}', not '{domain}'",
            manifest.id, manifest.domain
        )));
    }
    let Some(standards) = job.services.standards.clone() else {
        return Err(types::Error::Unavailable("this server does not accept standard proposals".into()));
    };
    let proposal = NewProposal {
        persona: Some(manifest.id.clone()),
        job_id: job.control.as_ref().map(|c| c.id.clone()),
        domain,
        topic,
        title: None,
        content,
        tags: Vec::new(),
    };
    match standards.propose(proposal).await {
        Ok(p) => Ok(p.id),
        Err(
            e @ (StandardsError::Store(_)
            | StandardsError::Join(_)
            | StandardsError::Jobs(_)
            | StandardsError::Write(_)),
        ) => Err(types::Error::Unavailable(e.to_string())),
        Err(e) => Err(types::Error::InvalidInput(e.to_string())),
    }
}

/// Reads `rel` if it stays inside the project (after resolving symlinks),
/// matches `readable` (the persona's `globs`, named in the refusal), is not
/// host-private, and is small text.
///
/// The file is opened once, by its resolved path, without following a link
/// in its last part and without blocking (a FIFO or device is refused on
/// the opened handle); the opened file's own path is then checked again
/// (Linux: `/proc/self/fd`), so a folder swapped for a link between the
/// check and the open is caught, and at most [`MAX_READ_BYTES`] are read.
pub fn read_project_file(
    project: &Project,
    readable: &globset::GlobSet,
    globs: &[String],
    rel: &str,
) -> Result<String, types::Error> {
    let real = project.resolve_existing(rel).map_err(|e| match e {
        crate::project::PathError::Io { .. } => types::Error::NotFound(e.to_string()),
        other => types::Error::AccessDenied(other.to_string()),
    })?;
    let inside = real.strip_prefix(project.root()).unwrap_or(&real).to_path_buf();
    if inside.starts_with(".agent-os/.cache") || inside.starts_with(".git") {
        return Err(types::Error::AccessDenied(format!("'{rel}' is private to the host")));
    }
    if !readable.is_match(&inside) {
        return Err(types::Error::AccessDenied(format!(
            "'{rel}' is outside the persona's read-files globs ({})",
            globs.join(", ")
        )));
    }
    let (file, meta) = crate::fsx::open_regular(&real).map_err(|e| match e {
        crate::fsx::ReadError::NotFound { .. } => types::Error::NotFound(format!("'{rel}' was not found")),
        crate::fsx::ReadError::Symlink { .. } => {
            types::Error::AccessDenied(format!("'{rel}' changed while it was opened"))
        }
        crate::fsx::ReadError::NotRegular { .. } => types::Error::InvalidInput(format!("'{rel}' is not a file")),
        other => types::Error::NotFound(format!("'{rel}': {other}")),
    })?;
    if !opened_at(&file, &real) {
        return Err(types::Error::AccessDenied(format!("'{rel}' changed while it was opened")));
    }
    if meta.len() > MAX_READ_BYTES {
        return Err(types::Error::InvalidInput(format!(
            "'{rel}' is {} bytes; the limit is {MAX_READ_BYTES}",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_READ_BYTES + 1), &mut bytes)
        .map_err(|e| types::Error::NotFound(format!("'{rel}': {e}")))?;
    if bytes.len() as u64 > MAX_READ_BYTES {
        return Err(types::Error::InvalidInput(format!("'{rel}' grew past the limit of {MAX_READ_BYTES} bytes")));
    }
    String::from_utf8(bytes).map_err(|_| types::Error::InvalidInput(format!("'{rel}' is not UTF-8 text")))
}

/// A persona's read-files globs, compiled once per glob list rather than on
/// every read: building a set compiles regular expressions, which cost more
/// than the read itself when an analysis looks for a handful of files.
/// Whether the opened `file` is the file at `expected` (a path with no links).
#[cfg(target_os = "linux")]
fn opened_at(file: &std::fs::File, expected: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).is_ok_and(|p| p == expected)
}

/// Elsewhere: the opened file must be the one the resolved path names now
/// (same device and inode), which a swap after the open would change.
#[cfg(all(unix, not(target_os = "linux")))]
fn opened_at(file: &std::fs::File, expected: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(expected)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn opened_at(_file: &std::fs::File, _expected: &std::path::Path) -> bool {
    true
}
