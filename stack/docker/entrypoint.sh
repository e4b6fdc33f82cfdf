#!/bin/sh
# Entry point of the Parley images: prepares the environment, then runs the
# `parley` CLI (bin/parley.js) with the container's arguments, as PID 1 so it
# receives SIGTERM (a gateway drains, an AI worker finishes its running jobs).
#
#  1. Per-machine values: if the file $MACHINE_ENV_FILE (default
#     /etc/parley/machine.env, bind-mounted from the host) exists, its
#     PARLEY_*=value lines are exported (announced IPs, public URL: what differs
#     between machines running the same Swarm service).
#  2. Secrets: for every PARLEY_<KEY>_FILE variable, the file's content becomes
#     PARLEY_<KEY> (Docker/Swarm secrets are files under /run/secrets).
#  3. Redis password: with REDIS_PASSWORD_FILE set and a PARLEY_REDIS_URL that
#     carries no credentials, the password is put into the URL, whatever the
#     mode (redis://host:6379 -> redis://:<password>@host:6379, likewise
#     redis-sentinel://... and redis-cluster://...; use a hex password).
set -eu

machine_env="${MACHINE_ENV_FILE:-/etc/parley/machine.env}"
if [ -f "$machine_env" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      PARLEY_*=*) export "${line?}" ;;
      '' | '#'*) ;;
      *) echo "parley-entrypoint: ignoring line of $machine_env (only PARLEY_*=value lines): $line" >&2 ;;
    esac
  done < "$machine_env"
fi

for name in $(env | sed -n 's/^\(PARLEY_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file="$(printenv "${name}_FILE")"
  [ -r "$file" ] || { echo "parley-entrypoint: ${name}_FILE=$file is not readable" >&2; exit 64; }
  export "$name=$(cat "$file")"
  unset "${name}_FILE"
done

if [ -n "${REDIS_PASSWORD_FILE:-}" ] && [ -n "${PARLEY_REDIS_URL:-}" ]; then
  [ -r "$REDIS_PASSWORD_FILE" ] || { echo "parley-entrypoint: REDIS_PASSWORD_FILE=$REDIS_PASSWORD_FILE is not readable" >&2; exit 64; }
  case "$PARLEY_REDIS_URL" in
    *://*@*) ;;
    redis://* | rediss://* | redis-sentinel://* | rediss-sentinel://* | redis-cluster://* | rediss-cluster://*)
      PARLEY_REDIS_URL="${PARLEY_REDIS_URL%%://*}://:$(cat "$REDIS_PASSWORD_FILE")@${PARLEY_REDIS_URL#*://}" ;;
  esac
  export PARLEY_REDIS_URL
fi

exec node /app/bin/parley.js "$@"
