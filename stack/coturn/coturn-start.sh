#!/bin/sh
# Starts coturn with the shared secret from the turn_secret Docker secret (never
# in a file of the repository or on the command line) and, on machines behind
# NAT, the public address from /etc/parley/machine.env (TURN_EXTERNAL_IP=...).
set -eu
umask 077
conf=/tmp/turnserver.conf
cp /etc/coturn/turnserver.conf "$conf"
printf 'static-auth-secret=%s\n' "$(cat /run/secrets/turn_secret)" >> "$conf"
if [ -f /etc/parley/machine.env ]; then
  external="$(sed -n 's/^TURN_EXTERNAL_IP=//p' /etc/parley/machine.env | tail -n 1)"
  [ -n "$external" ] && printf 'external-ip=%s\n' "$external" >> "$conf"
fi
exec turnserver -c "$conf"
