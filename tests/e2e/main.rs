//! End-to-end tests: the built binary, a real MCP client, real SQLite and
//! real wasmtime. One test binary, a module per area.

mod support;

mod agent_turn;
mod analyses;
mod approvals;
mod claude_code;
mod clients;
mod codex;
mod durability;
mod fs_safety;
mod gemini_cli;
mod generations;
mod hardening;
mod hostile;
mod http;
mod llm;
mod llm_double;
mod load;
mod onboarding;
mod output;
mod plugins;
mod progress;
mod prompts;
mod proposals;
mod real_clients;
mod registry;
mod resources;
mod reviews;
mod sandbox;
mod search;
mod skeleton;
mod slash_prompts;
mod stdio;
mod tool_contract;
mod trust;
mod version;
