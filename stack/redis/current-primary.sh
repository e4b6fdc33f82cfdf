#!/bin/sh
# Prints host:port of the primary the sentinels of REDIS_SENTINELS (host:port,host:port,...) name for
# REDIS_MASTER_NAME, or nothing when none answers (the first start of the whole set). Sourced by
# redis-start.sh and sentinel-start.sh.
current_primary() {
  for s in $(echo "${REDIS_SENTINELS:?set REDIS_SENTINELS}" | tr ',' ' '); do
    answer="$(redis-cli -h "${s%:*}" -p "${s##*:}" --raw SENTINEL get-master-addr-by-name "${REDIS_MASTER_NAME:-parley}" 2>/dev/null || true)"
    host="$(echo "$answer" | sed -n 1p)"
    port="$(echo "$answer" | sed -n 2p)"
    case "$port" in
      '' | *[!0-9]*) ;;
      *) echo "$host:$port"; return 0 ;;
    esac
  done
  return 0
}
