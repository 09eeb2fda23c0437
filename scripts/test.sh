#!/usr/bin/env bash
# The project's test command: set up what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# One feature set: workspace-hack/ must be what `cargo hakari generate` makes
# of the current dependencies (after adding one: run `cargo hakari generate`),
# agent-os must depend on it, and every build must unify through it.
cargo hakari generate --diff --quiet || {
    echo "test: workspace-hack/Cargo.toml is out of date; run 'cargo hakari generate' and commit it" >&2
    exit 1
}
cargo hakari manage-deps --dry-run --quiet || {
    echo "test: a workspace member lacks its workspace-hack dependency; run 'cargo hakari manage-deps'" >&2
    exit 1
}
cargo hakari verify
# The persona components' own unit tests run natively.
cargo test --manifest-path personas-wasm/Cargo.toml --workspace --quiet \
    --target-dir "${CARGO_TARGET_DIR:-target}/guests-native"
# The SDK's parser modules (features `python`, `javascript`) are built only
# into components; their own tests run natively beside the guests'.
cargo test --manifest-path sdk/Cargo.toml --features python,javascript --quiet \
    --target-dir "${CARGO_TARGET_DIR:-target}/guests-native"
# The benchmarks are not run here, but they must keep compiling (dev
# profile, the tests' feature set: only their own binaries are linked).
cargo build --workspace --benches --quiet
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
