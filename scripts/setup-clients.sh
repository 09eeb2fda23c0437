#!/usr/bin/env bash
# Installs the MCP clients written elsewhere that the end-to-end tests in
# tests/e2e/clients.rs, real_clients.rs, codex.rs, claude_code.rs and
# gemini_cli.rs drive agent-os with, over stdio and streamable HTTP:
#
#   $AGENT_OS_CLIENTS_DIR (default ~/.cache/agent-os/clients)
#     venv/           Python venv, the official MCP SDK mcp==$MCP_PY_VERSION (v1 client API)
#     venv-mcp2/      Python venv, mcp==$MCP2_PY_VERSION (v2 client API, both protocol
#                     generations), every package pinned by tests/clients/requirements-mcp2.txt
#     venv-fastmcp/   Python venv, FastMCP's client fastmcp==$FASTMCP_VERSION (on mcp 2.x),
#                     every package pinned by tests/clients/requirements-fastmcp.txt
#     node_modules/   the TypeScript SDK v1 (@modelcontextprotocol/sdk) and v2
#                     (@modelcontextprotocol/client), the MCP Inspector (its --cli mode);
#                     the whole tree pinned by tests/clients/package-lock.json
#     cli/            Claude Code (`claude`), Gemini CLI (`gemini`) and Codex CLI (`codex`),
#                     pinned by tests/clients/cli/package-lock.json; cli/node_modules/.bin
#                     holds all three
#
# Needs python3 (with the venv module) and node (20 or later) + npm, and access
# to PyPI and the npm registry (or the ones set in pip.conf / .npmrc). Nothing
# else is fetched: npm runs with --ignore-scripts. The one install script that
# matters, Claude Code's (it puts the native `claude` binary from its platform
# package in place of a stub), is run by hand below; Claude Code 2.1 is that
# native binary and needs no Node.js of its own. Safe to run again: what is
# installed at the pinned versions is only checked.
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

MCP_PY_VERSION=1.30.0        # the newest 1.x: tests/clients/mcp_client.py uses the v1 client API (mcp<2)
MCP2_PY_VERSION=2.3.0        # must match tests/clients/requirements-mcp2.txt and -fastmcp.txt
FASTMCP_VERSION=4.2.3        # must match tests/clients/requirements-fastmcp.txt
INSPECTOR_VERSION=2.12.0     # these three must match tests/clients/package.json
TS_SDK_V1_VERSION=1.32.2
TS_SDK_V2_VERSION=2.4.0
CLAUDE_VERSION=2.1.328       # these three must match tests/clients/cli/package.json
GEMINI_VERSION=0.61.0
CODEX_VERSION=0.171.0

DEST="${AGENT_OS_CLIENTS_DIR:-${HOME:?HOME is not set; set AGENT_OS_CLIENTS_DIR}/.cache/agent-os/clients}"
PY="${PYTHON:-python3}"

command -v "$PY" >/dev/null 2>&1 || die "$PY is not installed (Debian: apt-get install python3 python3-venv)"
command -v node >/dev/null 2>&1 || die "node is not installed (the TypeScript SDKs and Gemini CLI run on Node.js 20 or later)"
command -v npm >/dev/null 2>&1 || die "npm is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: the TypeScript SDK v2 and Gemini CLI need 20 or later"

pinned() { # FILE PACKAGE VERSION: the package.json pins it exactly
    grep -q "\"$2\": \"$3\"" "$1" || die "$1 does not pin $2 $3 like this script"
}
pinned tests/clients/package.json @modelcontextprotocol/inspector "$INSPECTOR_VERSION"
pinned tests/clients/package.json @modelcontextprotocol/sdk "$TS_SDK_V1_VERSION"
pinned tests/clients/package.json @modelcontextprotocol/client "$TS_SDK_V2_VERSION"
pinned tests/clients/cli/package.json @anthropic-ai/claude-code "$CLAUDE_VERSION"
pinned tests/clients/cli/package.json @google/gemini-cli "$GEMINI_VERSION"
grep -qx "mcp==$MCP2_PY_VERSION" tests/clients/requirements-mcp2.txt \
    || die "tests/clients/requirements-mcp2.txt does not pin mcp==$MCP2_PY_VERSION like this script"
grep -qx "fastmcp==$FASTMCP_VERSION" tests/clients/requirements-fastmcp.txt \
    && grep -qx "mcp==$MCP2_PY_VERSION" tests/clients/requirements-fastmcp.txt \
    || die "tests/clients/requirements-fastmcp.txt does not pin fastmcp==$FASTMCP_VERSION and mcp==$MCP2_PY_VERSION like this script"

mkdir -p "$DEST"
started=$(date +%s)
# The CLIs write their settings under HOME even for --version: give them a scratch one.
SCRATCH_HOME=$(mktemp -d)
trap 'rm -rf "$SCRATCH_HOME"' EXIT

# ---- Python: one venv per SDK generation ---------------------------------------
# py_ok VENV VERSION CHECK: the venv has mcp VERSION and CHECK (Python) runs.
py_ok() {
    [ -x "$1/bin/python" ] && "$1/bin/python" - "$2" "$3" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
assert version("mcp") == sys.argv[1]
exec(sys.argv[2])
EOF
}
# py_install VENV VERSION CHECK PIP-ARGS...
py_install() {
    local venv=$1 ver=$2 check=$3
    shift 3
    if py_ok "$venv" "$ver" "$check"; then
        say "python mcp $ver already installed in $venv"
        return
    fi
    say "installing python mcp==$ver into $venv"
    if [ ! -x "$venv/bin/python" ]; then
        rm -rf "$venv"
        "$PY" -m venv "$venv" >&2 || die "could not create a venv with $PY (Debian: apt-get install python3-venv)"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2 \
        || die "pip could not install mcp==$ver into $venv"
    py_ok "$venv" "$ver" "$check" || die "mcp $ver was installed in $venv but its client modules do not import"
}
py_install "$DEST/venv" "$MCP_PY_VERSION" \
    'from mcp.client.stdio import stdio_client; from mcp.client.streamable_http import streamablehttp_client' \
    "mcp==$MCP_PY_VERSION"
py_install "$DEST/venv-mcp2" "$MCP2_PY_VERSION" \
    'from mcp import Client; from mcp.client.streamable_http import streamable_http_client; import httpx2' \
    -r tests/clients/requirements-mcp2.txt
py_install "$DEST/venv-fastmcp" "$MCP2_PY_VERSION" \
    "from importlib.metadata import version; assert version('fastmcp') == '$FASTMCP_VERSION'; from fastmcp import Client; from fastmcp.client.transports import StdioTransport, StreamableHttpTransport" \
    -r tests/clients/requirements-fastmcp.txt

# ---- Node: two npm trees, each pinned whole by its lock file -------------------
# npm_tree PREFIX SRC-DIR WHAT CHECK: CHECK (shell) passes once SRC-DIR's lock is installed in PREFIX.
npm_tree() {
    local prefix=$1 src=$2 what=$3 check=$4
    if cmp -s "$src/package-lock.json" "$prefix/.package-lock.installed" && eval "$check"; then
        say "$what already installed in $prefix"
        return
    fi
    say "installing $what into $prefix"
    mkdir -p "$prefix"
    cp "$src/package.json" "$prefix/package.json"
    cp "$src/package-lock.json" "$prefix/package-lock.json"
    rm -f "$prefix/.package-lock.installed"
    npm ci --prefix "$prefix" --ignore-scripts --no-audit --no-fund --loglevel=error >&2 \
        || die "npm could not install $what (npm ci --prefix $prefix)"
    if [ -f "$prefix/node_modules/@anthropic-ai/claude-code/install.cjs" ]; then
        # Claude Code's postinstall: copy the native binary of this platform over the bin/ stub.
        (cd "$prefix/node_modules/@anthropic-ai/claude-code" && node install.cjs >&2) \
            || die "Claude Code's install.cjs could not put its native binary in place"
    fi
    eval "$check" || die "$what was installed in $prefix but does not run at the pinned versions"
    cp "$src/package-lock.json" "$prefix/.package-lock.installed"
}
version_of() { node -p "require('$1/package.json').version" 2>/dev/null; }
npm_tree "$DEST" tests/clients \
    "the MCP Inspector $INSPECTOR_VERSION and the TypeScript SDKs $TS_SDK_V1_VERSION (v1), $TS_SDK_V2_VERSION (v2)" \
    '[ -e "$DEST/node_modules/.bin/mcp-inspector" ] &&
     [ "$(version_of "$DEST/node_modules/@modelcontextprotocol/inspector")" = "$INSPECTOR_VERSION" ] &&
     [ "$(version_of "$DEST/node_modules/@modelcontextprotocol/sdk")" = "$TS_SDK_V1_VERSION" ] &&
     [ "$(version_of "$DEST/node_modules/@modelcontextprotocol/client")" = "$TS_SDK_V2_VERSION" ]'
CLI="$DEST/cli/node_modules/.bin"
npm_tree "$DEST/cli" tests/clients/cli "Claude Code $CLAUDE_VERSION, Gemini CLI $GEMINI_VERSION and Codex CLI $CODEX_VERSION" \
    '[ "$(HOME="$SCRATCH_HOME" "$CLI/claude" --version 2>/dev/null)" = "$CLAUDE_VERSION (Claude Code)" ] &&
     [ "$(HOME="$SCRATCH_HOME" "$CLI/gemini" --version 2>/dev/null)" = "$GEMINI_VERSION" ] &&
     [ "$(HOME="$SCRATCH_HOME" CODEX_HOME="$SCRATCH_HOME/.codex" "$CLI/codex" --version 2>/dev/null)" = "codex-cli $CODEX_VERSION" ]'

say "clients ready in $(( $(date +%s) - started )) s: $DEST/venv/bin/python, $DEST/venv-mcp2/bin/python, $DEST/venv-fastmcp/bin/python,"
say "  $DEST/node_modules (TypeScript SDK v1 and v2, mcp-inspector), $CLI/claude, $CLI/gemini, $CLI/codex"
