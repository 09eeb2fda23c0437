#!/usr/bin/env bash
# Installs the two MCP clients written elsewhere that the end-to-end tests in
# tests/e2e/clients.rs drive agent-os with, over stdio and streamable HTTP:
#
#   $AGENT_OS_CLIENTS_DIR (default ~/.cache/agent-os/clients)
#     venv/                 Python venv with the official MCP SDK, mcp==$MCP_PY_VERSION (v1 client API)
#     node_modules/         the MCP Inspector (its --cli mode), @modelcontextprotocol/inspector@$INSPECTOR_VERSION,
#                           every package pinned by tests/clients/package-lock.json
#
# Needs python3 (with the venv module) and node + npm, and access to PyPI and
# the npm registry (or the ones set in pip.conf / .npmrc). Nothing else is
# fetched: npm runs with --ignore-scripts. Safe to run again: when both clients
# are installed at the pinned versions it only checks them and returns.
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."

say() { printf 'setup-clients: %s\n' "$*" >&2; }
die() {
    say "FAILED: $*"
    say "to fix: check that pip and npm can reach their registries (proxy, PIP_INDEX_URL, .npmrc registry)"
    say "  and that $DEST is writable, then run scripts/setup-clients.sh again"
    exit 1
}

MCP_PY_VERSION=1.30.0      # the newest 1.x: the tests use the v1 client API (mcp<2)
INSPECTOR_VERSION=2.12.0   # must match tests/clients/package.json

DEST="${AGENT_OS_CLIENTS_DIR:-${HOME:?HOME is not set; set AGENT_OS_CLIENTS_DIR}/.cache/agent-os/clients}"
PY="${PYTHON:-python3}"
LOCK_SRC=tests/clients/package-lock.json
PKG_SRC=tests/clients/package.json

command -v "$PY" >/dev/null 2>&1 || die "$PY is not installed (Debian: apt-get install python3 python3-venv)"
command -v node >/dev/null 2>&1 || die "node is not installed (the MCP Inspector runs on Node.js)"
command -v npm >/dev/null 2>&1 || die "npm is not installed"
grep -q "\"@modelcontextprotocol/inspector\": \"$INSPECTOR_VERSION\"" "$PKG_SRC" \
    || die "$PKG_SRC does not pin @modelcontextprotocol/inspector $INSPECTOR_VERSION like this script"

mkdir -p "$DEST"

# ---- Python: the mcp SDK in its own venv -----------------------------------
VENV="$DEST/venv"
py_ok() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MCP_PY_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
assert version("mcp") == sys.argv[1]
from mcp.client.stdio import stdio_client  # noqa: F401  (v1 client API)
from mcp.client.streamable_http import streamablehttp_client  # noqa: F401
EOF
}
if py_ok; then
    say "python mcp $MCP_PY_VERSION already installed in $VENV"
else
    say "installing python mcp==$MCP_PY_VERSION into $VENV"
    if [ ! -x "$VENV/bin/python" ]; then
        rm -rf "$VENV"
        "$PY" -m venv "$VENV" >&2 || die "could not create a venv with $PY (Debian: apt-get install python3-venv)"
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mcp==$MCP_PY_VERSION" >&2 \
        || die "pip could not install mcp==$MCP_PY_VERSION"
    py_ok || die "mcp $MCP_PY_VERSION was installed but its client modules do not import"
fi

# ---- Node: the MCP Inspector, whole tree pinned by the lock file -------------
INSPECTOR_JS="$DEST/node_modules/@modelcontextprotocol/inspector/package.json"
node_ok() {
    [ -f "$INSPECTOR_JS" ] && [ -e "$DEST/node_modules/.bin/mcp-inspector" ] \
        && cmp -s "$LOCK_SRC" "$DEST/.package-lock.installed" \
        && node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
            "$INSPECTOR_JS" "$INSPECTOR_VERSION"
}
if node_ok; then
    say "@modelcontextprotocol/inspector $INSPECTOR_VERSION already installed in $DEST"
else
    say "installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION into $DEST"
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$node_major" -lt 22 ]; then
        say "note: Node.js $(node --version) is older than the Inspector declares (>= 22.19); its --cli mode works on 20"
    fi
    cp "$PKG_SRC" "$DEST/package.json"
    cp "$LOCK_SRC" "$DEST/package-lock.json"
    rm -f "$DEST/.package-lock.installed"
    npm install --prefix "$DEST" --ignore-scripts --no-audit --no-fund --loglevel=error >&2 \
        || die "npm could not install @modelcontextprotocol/inspector@$INSPECTOR_VERSION"
    cp "$LOCK_SRC" "$DEST/.package-lock.installed"
    node_ok || die "the Inspector was installed but is not version $INSPECTOR_VERSION"
fi

say "clients ready: $VENV/bin/python, $DEST/node_modules/.bin/mcp-inspector"
