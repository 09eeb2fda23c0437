//! Agent OS Personas: an MCP server that gives a coding assistant a team of
//! sandboxed reviewer personas and a searchable memory of the project's
//! standards.
//!
//! The host owns every side effect; personas are WebAssembly components that
//! reach the world only through the host functions in [`plugins`].

pub mod app;
pub mod background;
pub mod dirs;
pub mod doctor;
pub mod fsx;
pub mod init;
pub mod jobs;
pub mod llm;
pub mod mcp;
pub mod personas;
pub mod plugins;
pub mod project;
pub mod quote;
pub mod rag;
pub mod scaffold;
pub mod secrets;
pub mod setup;
pub mod standards;
pub mod text;
pub mod time;
pub mod trust;
pub mod version;
