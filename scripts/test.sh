#!/usr/bin/env bash
# The project's test command: set up what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The persona components' own unit tests run natively.
cargo test --manifest-path personas-wasm/Cargo.toml --workspace --quiet \
    --target-dir "${CARGO_TARGET_DIR:-target}/guests-native"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
