#!/bin/sh
# One Redis server of the Sentinel layout (stack/swarm.yaml, service redis; one per machine labelled
# parley.redis). It announces this machine's name (REDIS_ANNOUNCE_HOST) so that the sentinels, the
# host-network gateways and the AI workers all reach it at the same address. Its role: the replica of
# whichever server the sentinels name as primary; when no sentinel answers yet (the set's very first
# start), the server at REDIS_SEED (host:port) is the primary and the others its replicas.
set -eu
. "$(dirname "$0")/current-primary.sh"
pw="$(cat "${REDIS_PASSWORD_FILE:?set REDIS_PASSWORD_FILE}")"
me="${REDIS_ANNOUNCE_HOST:?set REDIS_ANNOUNCE_HOST}"
port="${REDIS_PORT:-6379}"
primary="$(current_primary)"
[ -n "$primary" ] || primary="${REDIS_SEED:?set REDIS_SEED (host:port)}"
set -- --port "$port" --appendonly yes --dir "${REDIS_DIR:-/data}" --requirepass "$pw" --masterauth "$pw" \
  --replica-announce-ip "$me" --replica-announce-port "$port"
if [ -n "$primary" ] && [ "$primary" != "$me:$port" ]; then
  echo "redis-start: replica of $primary" >&2
  set -- "$@" --replicaof "${primary%:*}" "${primary##*:}"
else
  echo "redis-start: primary" >&2
fi
exec redis-server "$@"
