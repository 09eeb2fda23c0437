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

# The OCI registry the registry-persona e2e tests start on loopback (Debian's
# docker-registry: the CNCF distribution server). Without it those tests skip.
if ! command -v docker-registry >/dev/null 2>&1; then
    say "installing docker-registry (an OCI registry for the persona publish/install tests)"
    if [ "$(id -u)" = 0 ]; then
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry; } >&2 ||
            say "docker-registry could not be installed; the registry persona tests will skip"
    elif command -v sudo >/dev/null 2>&1; then
        { sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry; } >&2 ||
            say "docker-registry could not be installed; the registry persona tests will skip"
    else
        say "docker-registry is missing and there is no sudo: install your system's docker-registry package (or put a 'registry' binary of the CNCF distribution project on PATH as docker-registry); the registry persona tests skip until then"
    fi
fi
# The package starts a system service on port 5000 where it can; the tests start their own.

if [ "${AGENT_OS_SKIP_MODELS:-0}" != 1 ] && [ -x scripts/setup-models.sh ]; then
    scripts/setup-models.sh >&2 || say "the embedding model could not be installed; search falls back to full-text only"
fi

[ "${AGENT_OS_SKIP_CLIENTS:-0}" = 1 ] || scripts/setup-clients.sh >&2 || say "the MCP test clients could not be installed; the client e2e tests will fail until scripts/setup-clients.sh succeeds"
