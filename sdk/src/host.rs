//! Safe wrappers over the host functions. Each may be refused with
//! [`HostError::AccessDenied`](crate::HostError) when the persona's manifest
//! does not grant the capability.

use crate::bindings::agent_os::persona::host as raw;
use crate::{Completion, Hit, HostError, Message, Phase};

/// Searches the project's and the universal standards; at most `limit` hits.
/// Needs the `search` capability.
pub fn search_standards(query: &str, limit: u32) -> Result<Vec<Hit>, HostError> {
    raw::search_standards(query, limit)
}

/// Tells the user where the review is; `percent` is clamped to 0..=100.
pub fn report_progress(phase: Phase, percent: u8, message: &str) {
    raw::report_progress(phase, percent.min(100), message)
}

/// Proposes a standard for human review and returns the proposal id. The
/// standard is written only when a person approves it. Needs `propose`.
pub fn propose_standard(domain: &str, topic: &str, content: &str) -> Result<String, HostError> {
    raw::propose_standard(domain, topic, content)
}

/// Asks the configured language model. Answers
/// [`HostError::Unavailable`](crate::HostError) when no provider is
/// configured; a persona then returns a [`crate::brief::DelegatedBrief`].
/// Needs `llm`.
pub fn complete(messages: &[Message], max_tokens: u32) -> Result<Completion, HostError> {
    raw::complete(messages, max_tokens)
}

/// Reads a project file (path relative to the project root) that the
/// manifest's `read-files` globs allow.
pub fn read_file(path: &str) -> Result<String, HostError> {
    raw::read_file(path)
}
