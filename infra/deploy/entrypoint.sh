#!/bin/sh
# Swarm secrets arrive as files: TASTER_X_FILE=/run/secrets/y becomes TASTER_X=<contents>,
# so the values never sit in the service spec (where `docker service inspect` would show them).
set -eu

# Says which secret is missing, where it was looked for, and how to provide it; exits 2.
missing_secret() {
  name=$(basename "${2:-(empty)}")
  if [ -e "$2" ]; then why="is not readable by uid $(id -u)"; else why="does not exist"; fi
  echo "taster: secret '$name' for $1 is missing: $1_FILE=$2 $why" >&2
  echo "  fix: create the swarm secret (\`abra app secret insert <app> $name v1 <value>\`, or \`docker secret create <stack>_${name}_<version> -\`)" >&2
  echo "       and mount it in this service's \`secrets:\` (infra/deploy/compose*.yml), mode 0400 for root" >&2
  exit 2
}

for var in $(env | sed -n 's/^\(TASTER_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file=$(printenv "${var}_FILE")
  [ -r "$file" ] || missing_secret "$var" "$file"
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
