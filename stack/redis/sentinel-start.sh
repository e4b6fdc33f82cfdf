#!/bin/sh
# One Redis Sentinel of the Sentinel layout (stack/swarm.yaml, service sentinel; one per machine
# labelled parley.redis, three for a quorum of two). It watches the primary the other sentinels name
# (or REDIS_SEED, host:port, on the set's first start), announces this machine's name, and resolves the names the
# servers announce. Its configuration is written fresh at each start into a private file (a sentinel
# rewrites its file as it learns). Sentinels take no password: keep port 26379 inside the cluster's
# private network (firewall), as the Redis port.
set -eu
. "$(dirname "$0")/current-primary.sh"
pw="$(cat "${REDIS_PASSWORD_FILE:?set REDIS_PASSWORD_FILE}")"
me="${REDIS_ANNOUNCE_HOST:?set REDIS_ANNOUNCE_HOST}"
name="${REDIS_MASTER_NAME:-parley}"
primary="$(current_primary)"
[ -n "$primary" ] || primary="${REDIS_SEED:?set REDIS_SEED (host:port)}"
conf="$(mktemp "${TMPDIR:-/tmp}/sentinel.XXXXXX")"
cat > "$conf" <<CONF
port ${SENTINEL_PORT:-26379}
protected-mode no
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $me
sentinel monitor $name ${primary%:*} ${primary##*:} 2
sentinel auth-pass $name $pw
sentinel down-after-milliseconds $name ${SENTINEL_DOWN_AFTER_MS:-5000}
sentinel failover-timeout $name ${SENTINEL_FAILOVER_TIMEOUT_MS:-10000}
sentinel parallel-syncs $name 1
CONF
echo "redis-sentinel: watching $primary as $name" >&2
exec redis-server "$conf" --sentinel
