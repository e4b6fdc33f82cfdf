#!/bin/sh
# Makes the secrets stack/compose.yaml reads (files next to this script), or,
# with --swarm, creates them as Docker Swarm secrets (run on a manager).
# Existing files/secrets are kept, so running it again changes nothing.
#
#   ./secrets/generate.sh            # compose: files in stack/secrets/
#   ./secrets/generate.sh --swarm    # swarm: docker secret create parley_<name>
#
# Values are random hex (safe inside a redis:// URL and a coturn config line).
set -eu
cd "$(dirname "$0")"

NAMES="auth_secret admin_token redis_password turn_secret metrics_token grafana_admin_password api_keys"

random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
# api_keys holds server API key pairs, key:secret (comma-separated when rotating); others one random value.
value_for() { if [ "$1" = api_keys ]; then printf 'app:%s' "$(random_hex)"; else random_hex; fi; }

if [ "${1:-}" = "--swarm" ]; then
  for name in $NAMES; do
    if docker secret inspect "parley_$name" >/dev/null 2>&1; then
      echo "secret parley_$name exists; kept"
    else
      value_for "$name" | docker secret create "parley_$name" - >/dev/null
      echo "created secret parley_$name"
    fi
  done
  # Traefik dashboard users (htpasswd lines), for the basicAuth middleware.
  if ! docker secret inspect parley_traefik_users >/dev/null 2>&1; then
    password="$(random_hex)"
    printf 'admin:%s\n' "$(openssl passwd -apr1 "$password")" | docker secret create parley_traefik_users - >/dev/null
    echo "created secret parley_traefik_users (user admin, password $password: note it now)"
  fi
  exit 0
fi

chmod 700 .
for name in $NAMES; do
  if [ -s "$name" ]; then
    echo "$name exists; kept"
  else
    value_for "$name" > "$name"
    # Readable by the containers' users (the directory itself is private to you).
    chmod 644 "$name"
    echo "wrote stack/secrets/$name"
  fi
done
