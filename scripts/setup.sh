#!/usr/bin/env bash
# Installs what building and testing agent-os needs on a fresh machine:
# the wasm32-wasip2 target, protoc (LanceDB's build needs it), cargo-hakari,
# the local embedding model and the MCP clients the e2e tests drive it with. Safe to run
# again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    say "adding the wasm32-wasip2 target"
    rustup target add wasm32-wasip2 >&2
fi

if ! command -v protoc >/dev/null 2>&1; then
    say "installing protoc (protobuf-compiler)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >&2
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >&2
    else
        say "protoc is missing: install your system's protobuf-compiler package, or set PROTOC=/path/to/protoc"
        exit 1
    fi
fi

# cargo-hakari keeps workspace-hack/ (one feature set for every build of the
# workspace; see .config/hakari.toml); scripts/test.sh checks it is current.
HAKARI_VERSION=0.9.39
if [ "$(cargo hakari --version 2>/dev/null)" != "cargo-hakari $HAKARI_VERSION" ]; then
    say "installing cargo-hakari $HAKARI_VERSION from crates.io"
    hakari_build="$(mktemp -d "${TMPDIR:-/tmp}/cargo-hakari.XXXXXX")"
    cargo install --locked --quiet cargo-hakari --version "$HAKARI_VERSION" --target-dir "$hakari_build" >&2
    rm -rf -- "$hakari_build"
fi

if [ "${AGENT_OS_SKIP_MODELS:-0}" != 1 ] && [ -x scripts/setup-models.sh ]; then
    scripts/setup-models.sh >&2 || say "the embedding model could not be installed; search falls back to full-text only"
fi

[ "${AGENT_OS_SKIP_CLIENTS:-0}" = 1 ] || scripts/setup-clients.sh >&2 || say "the MCP test clients could not be installed; the client e2e tests will fail until scripts/setup-clients.sh succeeds"
