#!/bin/sh
# Starts coturn with the shared secret from the turn_secret Docker secret (never
# in a file of the repository or on the command line; the gateways derive the
# clients' TURN credentials from the same secret) and two optional addresses,
# from the environment or from /etc/parley/machine.env:
#   TURN_EXTERNAL_IP=<public address>   machines behind NAT (external-ip)
#   TURN_ALLOWED_PEER_IP=<address>      a private address media may be relayed to
#                                       (allowed-peer-ip; turnserver.conf denies private ranges)
# TURN_SECRET_FILE, MACHINE_ENV_FILE and TURN_CONFIG move the inputs (tests).
set -eu
umask 077
machine_env="${MACHINE_ENV_FILE:-/etc/parley/machine.env}"
conf="${TMPDIR:-/tmp}/turnserver.conf"
cp "${TURN_CONFIG:-/etc/coturn/turnserver.conf}" "$conf"
printf 'static-auth-secret=%s\n' "$(cat "${TURN_SECRET_FILE:-/run/secrets/turn_secret}")" >> "$conf"

# The environment's value of $1, else the last `$1=` line of the machine file.
setting() {
  value="$(printenv "$1" || true)"
  if [ -z "$value" ] && [ -f "$machine_env" ]; then
    value="$(sed -n "s/^$1=//p" "$machine_env" | tail -n 1)"
  fi
  printf '%s' "$value"
}
external="$(setting TURN_EXTERNAL_IP)"
[ -n "$external" ] && printf 'external-ip=%s\n' "$external" >> "$conf"
allowed="$(setting TURN_ALLOWED_PEER_IP)"
[ -n "$allowed" ] && printf 'allowed-peer-ip=%s\n' "$allowed" >> "$conf"
exec turnserver -c "$conf"
