//! End-to-end tests: the built binary, a real MCP client, real SQLite and
//! real wasmtime. One test binary, a module per area.

mod support;

mod durability;
mod llm;
mod llm_double;
mod load;
mod progress;
mod prompts;
mod sandbox;
mod search;
mod skeleton;
