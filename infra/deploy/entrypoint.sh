#!/bin/sh
# Swarm secrets arrive as files: TASTER_X_FILE=/run/secrets/y becomes TASTER_X=<contents>,
# so the values never sit in the service spec (where `docker service inspect` would show them).
set -eu
for var in $(env | sed -n 's/^\(TASTER_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file=$(printenv "${var}_FILE")
  [ -r "$file" ] || { echo "taster: ${var}_FILE points at unreadable $file" >&2; exit 2; }
  export "$var=$(cat "$file")"
  unset "${var}_FILE"
done
# Redis wants a password (infra/deploy/redis.conf.tmpl): it joins the URL here, percent-encoded.
if [ -n "${TASTER_REDIS_PASSWORD:-}" ]; then
  TASTER_REDIS_URL=$(node -e 'const u = new URL(process.env.TASTER_REDIS_URL); u.password = process.env.TASTER_REDIS_PASSWORD; process.stdout.write(u.href)')
  export TASTER_REDIS_URL
  unset TASTER_REDIS_PASSWORD
fi
exec /opt/taster/taster "$@"
