#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 (bookworm) machine.
#
#   bash scripts/setup.sh          # runtime + build dependencies
#   bash scripts/setup.sh --test   # also what the test suite needs
#
# Steps: apt packages (only the missing ones), Node version check, npm ci
# (only when node_modules is older than the lock file), the mediasoup worker
# (scripts/build-mediasoup-worker.sh, cached per version), the web bundle.
# Everything already present is skipped, so a re-run takes a few seconds.
set -euo pipefail

# ---------------------------------------------------------------------------
# Package lists (Debian names). Add new packages here.
# ---------------------------------------------------------------------------
APT_PACKAGES=(
  # services
  redis-server
  # mediasoup worker build (scripts/build-mediasoup-worker.sh)
  meson ninja-build pkg-config build-essential python3
  libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev
  # offline speech engines: TTS, audio tools, ASR (+ models, test clips), MT
  espeak-ng sox bzip2
  pocketsphinx pocketsphinx-en-us pocketsphinx-testdata python3-pocketsphinx
  apertium apertium-eng-spa
)
APT_TEST_PACKAGES=(
  # browser end-to-end tests (playwright-core drives /usr/bin/chromium)
  chromium fonts-liberation
  # promtool for checking Prometheus config and rules
  prometheus
  # bench: Janus (VideoRoom SFU) measured side by side; reliability: a real TURN server
  janus coturn
)
NODE_MIN_MAJOR=20

# ---------------------------------------------------------------------------
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
cd "$REPO_ROOT"

START_NS=$(date +%s%N)
log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

WITH_TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (usage: scripts/setup.sh [--test])" ;;
  esac
done

# 1. apt packages -----------------------------------------------------------
packages=("${APT_PACKAGES[@]}")
((WITH_TEST)) && packages+=("${APT_TEST_PACKAGES[@]}")

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  log "apt: installing ${#missing[@]} missing package(s): ${missing[*]}"
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 \
      || die "not root and sudo is not available; as root run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    SUDO=(sudo)
  fi
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
else
  log "apt: all ${#packages[@]} packages present"
fi

# 2. Node -------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node is not installed; Node.js >= $NODE_MIN_MAJOR is required"
command -v npm >/dev/null 2>&1 || die "npm is not installed (it comes with Node.js >= $NODE_MIN_MAJOR)"
NODE_VERSION="$(node --version)"
node_major="${NODE_VERSION#v}"; node_major="${node_major%%.*}"
[[ "$node_major" =~ ^[0-9]+$ ]] && ((node_major >= NODE_MIN_MAJOR)) \
  || die "Node.js >= $NODE_MIN_MAJOR is required, found $NODE_VERSION"
log "node $NODE_VERSION, npm $(npm --version)"

# 3. npm dependencies -------------------------------------------------------
[[ -f package.json ]] || die "package.json not found in $REPO_ROOT"
stamp=node_modules/.package-lock.json
need_ci=0
if [[ ! -f "$stamp" ]]; then
  need_ci=1
elif [[ -f package-lock.json && "$stamp" -ot package-lock.json ]] || [[ "$stamp" -ot package.json ]]; then
  need_ci=1
fi
if ((need_ci)); then
  [[ -f package-lock.json ]] || die "package-lock.json is missing; npm ci needs it (create it with npm install and commit it)"
  log "npm ci (node_modules missing or older than package-lock.json/package.json)"
  # mediasoup's postinstall would try to download or build its worker (both
  # fail offline): with MEDIASOUP_WORKER_BIN set it skips that; step 4 builds
  # the worker. onnxruntime-node's installer would fetch CUDA binaries (also
  # switched off in .npmrc).
  MEDIASOUP_WORKER_BIN="$REPO_ROOT/.cache/mediasoup-worker/skip" \
  ONNXRUNTIME_NODE_INSTALL=skip \
    npm ci
  touch "$stamp"
else
  log "npm: node_modules up to date"
fi

# 4. mediasoup worker -------------------------------------------------------
bash "$SCRIPT_DIR/build-mediasoup-worker.sh"

# 5. web bundle --------------------------------------------------------------
if [[ -f scripts/build-web.mjs ]]; then
  log "building web bundle (scripts/build-web.mjs)"
  node scripts/build-web.mjs
else
  log "no scripts/build-web.mjs yet; skipping web bundle"
fi

# 6. ---------------------------------------------------------------------------
elapsed_ms=$((($(date +%s%N) - START_NS) / 1000000))
log "done in $((elapsed_ms / 1000)).$(printf '%01d' $((elapsed_ms % 1000 / 100)))s"
