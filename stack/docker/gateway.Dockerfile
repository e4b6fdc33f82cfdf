# Parley gateway: signaling (uWebSockets.js), mediasoup SFU, translation taps.
# Build from the repository root:
#   docker build -f stack/docker/gateway.Dockerfile -t parley/gateway:0.1.0 .
# Build args (see stack/README.md#images):
#   NODE_IMAGE            base image for both stages (Debian bookworm + Node 20; pinned)
#   MEDIASOUP_BUILD_JOBS  ninja -j for the mediasoup worker build (default 2)

ARG NODE_IMAGE=node:20.18.1-bookworm-slim

# --- build: npm dependencies, the mediasoup worker, the web client ----------
FROM ${NODE_IMAGE} AS build
ARG MEDIASOUP_BUILD_JOBS=2
# Same build dependencies as scripts/setup.sh lists for scripts/build-mediasoup-worker.sh.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      meson ninja-build pkg-config build-essential python3 \
      libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# MEDIASOUP_WORKER_BIN makes mediasoup's postinstall skip its own (online) worker build;
# ONNXRUNTIME_NODE_INSTALL=skip keeps onnxruntime-node from fetching CUDA binaries.
RUN MEDIASOUP_WORKER_BIN=/app/.cache/mediasoup-worker/skip ONNXRUNTIME_NODE_INSTALL=skip npm ci
# The worker is built by the very script `parley setup` runs (shims in scripts/mediasoup-shims/).
COPY scripts/ scripts/
RUN MEDIASOUP_BUILD_JOBS="${MEDIASOUP_BUILD_JOBS}" bash scripts/build-mediasoup-worker.sh \
 && test -x node_modules/mediasoup/worker/out/Release/mediasoup-worker
COPY tsconfig.json ./
COPY bin/ bin/
COPY src/ src/
RUN node scripts/build-web.mjs \
 && npm prune --omit=dev \
 && rm -rf .cache node_modules/mediasoup/worker/subprojects node_modules/mediasoup/worker/deps

# --- runtime -------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# The shared libraries the worker was linked against (Debian's, as in the build stage).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 libuv1 libsrtp2-1 libusrsctp2 libabsl20220623 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules/ node_modules/
COPY --from=build --chown=node:node /app/bin/ bin/
COPY --from=build --chown=node:node /app/src/ src/
COPY --from=build --chown=node:node /app/dist/ dist/
COPY stack/docker/entrypoint.sh /usr/local/bin/parley-entrypoint
COPY stack/docker/healthcheck.mjs /usr/local/lib/parley/healthcheck.mjs
ENV NODE_ENV=production \
    MEDIASOUP_WORKER_BIN=/app/node_modules/mediasoup/worker/out/Release/mediasoup-worker \
    PARLEY_MODE=production \
    PARLEY_HTTP_PORT=8080 \
    PARLEY_MEDIA_LISTEN_IP=0.0.0.0
USER node
# Signaling/HTTP, WebRtcServer base port (worker i uses 40000+i, UDP and TCP), pipe range.
EXPOSE 8080/tcp 40000/udp 40000/tcp 41000-41999/udp
# Liveness only (/health): /ready turns 503 while Redis restarts, and calls must survive that.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node /usr/local/lib/parley/healthcheck.mjs "http://127.0.0.1:${PARLEY_HTTP_PORT}/health"
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/parley-entrypoint"]
CMD ["up", "--json-logs", "--ai-workers", "0"]
