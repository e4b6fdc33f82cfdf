#!/usr/bin/env bash
# Build the mediasoup worker offline against Debian's shared libraries.
#
# mediasoup's own postinstall downloads a prebuilt worker or, failing that,
# pip-installs meson and lets meson download abseil, openssl, libuv, libsrtp
# and usrsctp. None of that is reachable here, so:
#   - the subprojects are replaced by the shims in scripts/mediasoup-shims/,
#     which wrap the system libraries (see the README there);
#   - Debian's meson (1.0.1) is used, with the worker's meson_version
#     requirement lowered in the node_modules copy.
#
# The binary is cached per mediasoup version at
#   .cache/mediasoup-worker/<version>/mediasoup-worker
# and copied on every run to node_modules/mediasoup/worker/out/Release/,
# where `require('mediasoup')` looks for it without MEDIASOUP_WORKER_BIN.
#
# Environment:
#   MEDIASOUP_BUILD_JOBS   ninja -j value (default: number of cores)
#   KEEP_BUILD_DIR=1       keep the meson build dir after a successful build
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
cd "$REPO_ROOT"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

MS_DIR="$REPO_ROOT/node_modules/mediasoup"
WORKER_SRC="$MS_DIR/worker"
SHIMS_DIR="$SCRIPT_DIR/mediasoup-shims"

[[ -f "$MS_DIR/package.json" ]] \
  || die "node_modules/mediasoup is not installed; run scripts/setup.sh (or npm ci) first"
command -v node >/dev/null 2>&1 || die "node is not on PATH"

MS_VERSION="$(node -p "require(process.argv[1]).version" "$MS_DIR/package.json")"
[[ -n "$MS_VERSION" ]] || die "could not read the mediasoup version from $MS_DIR/package.json"

CACHE_DIR="$REPO_ROOT/.cache/mediasoup-worker/$MS_VERSION"
CACHED_BIN="$CACHE_DIR/mediasoup-worker"
BUILD_DIR="$REPO_ROOT/.cache/mediasoup-worker/build-$MS_VERSION"
INSTALL_BIN="$WORKER_SRC/out/Release/mediasoup-worker"

# A cached binary is usable when it is executable and all its shared
# libraries resolve (a machine without e.g. libusrsctp2 needs a rebuild
# after its packages are installed anyway).
cached_bin_ok() {
  [[ -x "$CACHED_BIN" ]] || return 1
  if command -v ldd >/dev/null 2>&1 && ldd "$CACHED_BIN" 2>/dev/null | grep -q 'not found'; then
    log "mediasoup worker $MS_VERSION: cached binary has unresolved libraries, rebuilding"
    return 1
  fi
  return 0
}

check_build_deps() {
  local missing=() tool pkg mod
  # tool -> Debian package
  local -A tools=([meson]=meson [ninja]=ninja-build [pkg-config]=pkg-config [cc]=build-essential [c++]=build-essential [python3]=python3)
  for tool in meson ninja pkg-config cc c++ python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${tools[$tool]}")
  done
  if command -v pkg-config >/dev/null 2>&1; then
    # pkg-config module -> Debian package
    local -A mods=(
      [libuv]=libuv1-dev
      [libsrtp2]=libsrtp2-dev
      [usrsctp]=libusrsctp-dev
      [openssl]=libssl-dev
      [absl_flat_hash_map]=libabsl-dev
      [absl_strings]=libabsl-dev
      [absl_optional]=libabsl-dev
      [nlohmann_json]=nlohmann-json3-dev
    )
    for mod in libuv libsrtp2 usrsctp openssl absl_flat_hash_map absl_strings absl_optional nlohmann_json; do
      pkg-config --exists "$mod" || missing+=("${mods[$mod]}")
    done
  fi
  if ((${#missing[@]})); then
    # de-duplicate, keep order
    local uniq=() seen=" "
    for pkg in "${missing[@]}"; do
      [[ "$seen" == *" $pkg "* ]] || { uniq+=("$pkg"); seen+="$pkg "; }
    done
    die "missing build dependencies for the mediasoup worker: ${uniq[*]}
        install them with: apt-get install -y --no-install-recommends ${uniq[*]}
        (scripts/setup.sh does this)"
  fi
}

# Copy each shim into the directory its .wrap names, so meson uses it
# instead of downloading anything.
install_shims() {
  local wrap name dir
  for wrap in "$WORKER_SRC"/subprojects/*.wrap; do
    name="$(basename "$wrap" .wrap)"
    [[ "$name" == wingetopt ]] && continue   # Windows only
    [[ -d "$SHIMS_DIR/$name" ]] \
      || die "no shim for worker subproject '$name' in scripts/mediasoup-shims/ (new mediasoup version?)"
    dir="$(sed -n 's/^[[:space:]]*directory[[:space:]]*=[[:space:]]*//p' "$wrap" | head -n1 | tr -d '[:space:]')"
    [[ -n "$dir" ]] || die "$wrap names no 'directory ='"
    rm -rf "$WORKER_SRC/subprojects/$dir"
    mkdir -p "$WORKER_SRC/subprojects/$dir"
    cp -R "$SHIMS_DIR/$name/." "$WORKER_SRC/subprojects/$dir/"
  done
}

# Debian bookworm's meson is 1.0.1; the worker asks for >= 1.1.0 but builds
# fine with 1.0.
relax_meson_version() {
  sed -i -E "s/meson_version:[[:space:]]*'>=[[:space:]]*1\.1\.0'/meson_version: '>= 1.0.0'/" "$WORKER_SRC/meson.build"
}

build_worker() {
  check_build_deps
  [[ -f "$WORKER_SRC/meson.build" ]] || die "$WORKER_SRC/meson.build not found"

  local start=$SECONDS jobs="${MEDIASOUP_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
  log "mediasoup worker $MS_VERSION: building with meson $(meson --version) (-j$jobs, takes a few minutes)"
  relax_meson_version
  install_shims

  mkdir -p "$(dirname "$BUILD_DIR")"
  if [[ -f "$BUILD_DIR/build.ninja" ]]; then
    log "reusing build dir ${BUILD_DIR#"$REPO_ROOT"/}"
    meson setup --reconfigure --buildtype=release "$BUILD_DIR" "$WORKER_SRC" >/dev/null \
      || { log "reconfigure failed, starting a fresh build dir"; rm -rf "$BUILD_DIR"; }
  else
    rm -rf "$BUILD_DIR"
  fi
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    meson setup --buildtype=release "$BUILD_DIR" "$WORKER_SRC" > "$BUILD_DIR.setup.log" 2>&1 || {
      tail -n 40 "$BUILD_DIR.setup.log" >&2
      die "meson setup failed (full log: ${BUILD_DIR#"$REPO_ROOT"/}.setup.log)"
    }
    rm -f "$BUILD_DIR.setup.log"
  fi
  log "meson configured after $((SECONDS - start))s; compiling"

  ninja -C "$BUILD_DIR" -j "$jobs" mediasoup-worker

  local built="$BUILD_DIR/mediasoup-worker"
  [[ -x "$built" ]] || die "ninja finished but $built is missing"
  mkdir -p "$CACHE_DIR"
  cp "$built" "$CACHED_BIN.tmp.$$"
  chmod 755 "$CACHED_BIN.tmp.$$"
  mv -f "$CACHED_BIN.tmp.$$" "$CACHED_BIN"
  if [[ "${KEEP_BUILD_DIR:-0}" != 1 ]]; then
    rm -rf "$BUILD_DIR"
  fi
  log "mediasoup worker $MS_VERSION: built in $((SECONDS - start))s ($(du -h "$CACHED_BIN" | cut -f1))"
}

if cached_bin_ok; then
  log "mediasoup worker $MS_VERSION: cached"
else
  build_worker
fi

# npm ci wipes node_modules, so put the binary where mediasoup looks every time.
if ! cmp -s "$CACHED_BIN" "$INSTALL_BIN" 2>/dev/null; then
  mkdir -p "$(dirname "$INSTALL_BIN")"
  cp "$CACHED_BIN" "$INSTALL_BIN.tmp.$$"
  chmod 755 "$INSTALL_BIN.tmp.$$"
  mv -f "$INSTALL_BIN.tmp.$$" "$INSTALL_BIN"
  log "installed ${INSTALL_BIN#"$REPO_ROOT"/}"
else
  log "${INSTALL_BIN#"$REPO_ROOT"/} is up to date"
fi
