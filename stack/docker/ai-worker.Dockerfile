# Parley AI worker: speech recognition, translation and synthesis jobs (BullMQ).
# Build from the repository root:
#   docker build -f stack/docker/ai-worker.Dockerfile -t parley/ai-worker:0.1.0 .
# Build args (see stack/README.md#images):
#   NODE_IMAGE        base image for both stages (Debian bookworm + Node 20; pinned)
#   OFFLINE_ENGINES   Debian packages of the offline engines (pocketsphinx, apertium, espeak-ng);
#                     bzip2 is always added (`parley models download` unpacks .tar.bz2)

ARG NODE_IMAGE=node:20.18.1-bookworm-slim

# --- build: production npm dependencies (no mediasoup worker: the AI worker never starts one) ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN MEDIASOUP_WORKER_BIN=/app/.cache/mediasoup-worker/skip ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev

# --- runtime -------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG OFFLINE_ENGINES="python3 python3-pocketsphinx pocketsphinx-en-us espeak-ng sox apertium apertium-eng-spa"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${OFFLINE_ENGINES} bzip2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules/ node_modules/
COPY --chown=node:node bin/ bin/
COPY --chown=node:node src/ src/
COPY stack/docker/entrypoint.sh /usr/local/bin/parley-entrypoint
COPY stack/docker/healthcheck.mjs /usr/local/lib/parley/healthcheck.mjs
# Production models (parley models download) live on a volume mounted here.
RUN mkdir -p /models && chown node:node /models
VOLUME ["/models"]
ENV NODE_ENV=production
USER node
# /metrics and /health (the CMD's --metrics-port; keep the HEALTHCHECK in step if you change it).
EXPOSE 9101/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "/usr/local/lib/parley/healthcheck.mjs", "http://127.0.0.1:9101/health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/parley-entrypoint"]
CMD ["ai-worker", "--metrics-port", "9101", "--models-dir", "/models"]
