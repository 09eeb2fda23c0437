// An empty build script: it makes Cargo resolve the [build-dependencies] hakari
// writes into Cargo.toml with the same features as the rest of the workspace.
fn main() {}
