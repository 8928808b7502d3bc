#!/usr/bin/env bash
# The local lab: a real Docker Swarm, Redis, sshd and the sample recipes as git repos, on this
# machine. `up` is idempotent (a second run changes nothing), `status` says what is up line by line,
# `down` stops only what `up` started. Everything lab-owned lives under $TASTER_LAB_DIR.
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LAB_SRC/../.." && pwd)
# One lab per machine, outside any checkout: every clone and worktree reuses it (its fixed ports
# could not be bound twice anyway). Each checkout publishes the sample recipes it knows.
STATE=${TASTER_LAB_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/taster-lab}
REDIS_PORT=${TASTER_LAB_REDIS_PORT:-6390}
SSH_PORT=${TASTER_LAB_SSH_PORT:-2222}
ENGINE=${DOCKER_HOST:-unix:///var/run/docker.sock}
# chromium: the dashboard's browser tests drive it (playwright-core, no browser download).
PACKAGES=(docker.io redis-server openssh-server busybox-static git chromium mmdebstrap)
IMAGES=(taster-lab/web:1.0 taster-lab/web:1.1 taster-lab/probe:latest)
# Every directory under recipes/ is a sample recipe (see publish-recipe.sh for its layout).
mapfile -t RECIPES < <(cd "$LAB_SRC/recipes" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)

say() { printf '%s\n' "$*" >&2; }
die() { say "lab: $*"; exit 1; }
docker_ok() { DOCKER_HOST=$ENGINE timeout 10 docker info >/dev/null 2>&1; }
pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return
  say "lab: installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_engine() {
  export DOCKER_HOST=$ENGINE
  if ! docker_ok; then
    [[ $ENGINE == unix:///var/run/docker.sock ]] || die "no Docker engine answers at DOCKER_HOST=$ENGINE"
    say "lab: starting dockerd"
    # setsid: the engine must outlive the shell (and the test run) that started it.
    setsid dockerd --host "$ENGINE" >"$STATE/dockerd.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STATE/dockerd.pid"
    for _ in $(seq 60); do docker_ok && break; sleep 0.5; done
    docker_ok || die "dockerd did not come up; see $STATE/dockerd.log"
  fi
  if [[ $(docker info --format '{{.Swarm.LocalNodeState}}') != active ]]; then
    say "lab: docker swarm init"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  fi
  [[ $(docker info --format '{{.Swarm.ControlAvailable}}') == true ]] || die "engine is in a swarm but not a manager"
  docker network inspect proxy >/dev/null 2>&1 ||
    docker network create --driver overlay --attachable proxy >/dev/null
}

# A busybox-static root filesystem plus our small scripts, imported as an image (no registry needed).
build_image() {
  local tag=$1 version=$2 cmd=$3 dir
  docker image inspect "$tag" >/dev/null 2>&1 && return
  say "lab: building $tag"
  dir=$(mktemp -d)
  mkdir -p "$dir"/{bin,etc,tmp,var/www,run/secrets}
  cp "$(command -v busybox)" "$dir/bin/busybox"
  # `--list` names busybox itself: linking that would replace the binary with a link to itself.
  for applet in $("$dir/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$dir/bin/$applet"
  done
  install -m 0755 "$LAB_SRC"/images/bin/* "$dir/bin/"
  echo "$version" >"$dir/etc/web-version"
  echo "taster-lab web $version" >"$dir/var/www/index.html"
  echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
  tar -C "$dir" -c . | docker import --change "CMD $cmd" - "$tag" >/dev/null
  rm -rf "$dir"
}

ensure_images() {
  build_image taster-lab/web:1.0 1.0 '["/bin/serve"]'
  build_image taster-lab/web:1.1 1.1 '["/bin/serve"]'
  build_image taster-lab/probe:latest probe '["/bin/idle"]'
}

# Real databases and servers, from Debian's packages (images/debian/README.md): built once per
# machine, rebuilt only when their definition changes; in parallel, as they download.
ensure_debian_images() {
  local pids=() dir failed=0
  for dir in "$LAB_SRC"/images/debian/*/; do
    "$LAB_SRC/images/build-debian.sh" "$dir" 9>&- &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  ((failed == 0)) || die "a Debian lab image did not build (see above)"
}

debian_tags() { cat "$LAB_SRC"/images/debian/*/tag | tr '\n' ' '; }

# Answers at all (a password-protected Redis answers NOAUTH, which still means "up").
redis_up() { redis-cli -p "$REDIS_PORT" ping 2>&1 | grep -qE 'PONG|NOAUTH'; }

# The lab's Redis wants a password: recipe test code runs on this machine (sandboxed, as `nobody`)
# and must not reach the queue. The password lives in root-only files, never on a command line
# (where `ps` would show it to every user).
ensure_redis() {
  pid_alive "$STATE/redis.pid" && return
  if redis_up; then return; fi
  say "lab: starting redis on $REDIS_PORT"
  mkdir -p "$STATE/redis"
  (
    umask 077
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/redis.pass"
    cat >"$STATE/redis.conf" <<EOF
port $REDIS_PORT
bind 127.0.0.1
daemonize yes
dir $STATE/redis
pidfile $STATE/redis.pid
logfile $STATE/redis.log
appendonly yes
save ""
requirepass $(cat "$STATE/redis.pass")
EOF
  )
  redis-server "$STATE/redis.conf" 9>&-
  for _ in $(seq 40); do redis_up && return; sleep 0.25; done
  die "redis did not come up; see $STATE/redis.log"
}

# The URL clients use: with the password when our Redis was started with one.
redis_url() {
  if pid_alive "$STATE/redis.pid" && [[ -s $STATE/redis.pass ]]; then
    echo "redis://:$(cat "$STATE/redis.pass")@127.0.0.1:$REDIS_PORT"
  else
    echo "redis://127.0.0.1:$REDIS_PORT"
  fi
}

ensure_sshd() {
  local ssh=$STATE/ssh
  mkdir -p "$ssh" /run/sshd
  [[ -f $ssh/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_ed25519"
  [[ -f $ssh/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/id_ed25519"
  cp "$ssh/id_ed25519.pub" "$ssh/authorized_keys"
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1-2 "$ssh/host_ed25519.pub")" >"$ssh/known_hosts"
  cat >"$ssh/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $ssh/host_ed25519
AuthorizedKeysFile $ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
StrictModes no
PidFile $ssh/sshd.pid
SetEnv DOCKER_HOST=$ENGINE
EOF
  pid_alive "$ssh/sshd.pid" && return
  say "lab: starting sshd on $SSH_PORT"
  "$(command -v sshd || echo /usr/sbin/sshd)" -f "$ssh/sshd_config" -E "$ssh/sshd.log" 9>&-
  for _ in $(seq 20); do pid_alive "$ssh/sshd.pid" && return; sleep 0.25; done
  die "sshd did not come up; see $ssh/sshd.log"
}

recipe_stamp() { (cd "$LAB_SRC" && find "recipes/$1" publish-recipe.sh -type f | sort | xargs sha256sum | sha256sum | cut -c1-16); }

ensure_recipes() {
  mkdir -p "$STATE/recipes"
  for r in "${RECIPES[@]}"; do
    local stamp; stamp=$(recipe_stamp "$r")
    [[ -d $STATE/recipes/$r.git && $(cat "$STATE/recipes/$r.stamp" 2>/dev/null) == "$stamp" ]] && continue
    say "lab: publishing recipe $r"
    "$LAB_SRC/publish-recipe.sh" "$LAB_SRC/recipes/$r" "$STATE/recipes/$r.git"
    echo "$stamp" >"$STATE/recipes/$r.stamp"
  done
}

# Every recipe any checkout published (a newer checkout may know recipes this one does not).
published_recipes() {
  local r names=()
  for r in "$STATE"/recipes/*.git; do [[ -d $r ]] && names+=("$(basename "$r" .git)"); done
  printf '"%s", ' "${names[@]}" | sed 's/, $//'
}

write_info() {
  # lab.json holds the Redis password: root only — also when an older lab left it world-readable
  # (creating it under umask 077 does not change the mode of a file that exists).
  (umask 077 && : >"$STATE/lab.json")
  chmod 600 "$STATE/lab.json"
  cat >"$STATE/lab.json" <<EOF
{
  "stateDir": "$STATE",
  "dockerHost": "$ENGINE",
  "redisUrl": "$(redis_url)",
  "ssh": {
    "url": "ssh://root@127.0.0.1:$SSH_PORT",
    "privateKeyPath": "$STATE/ssh/id_ed25519",
    "knownHostsPath": "$STATE/ssh/known_hosts"
  },
  "recipesDir": "$STATE/recipes",
  "recipes": [$(published_recipes)],
  "images": {
    "web": ["taster-lab/web:1.0", "taster-lab/web:1.1"],
    "probe": "taster-lab/probe:latest",
    "debian": [$(for t in $(debian_tags); do printf '"%s", ' "$t"; done | sed 's/, $//')]
  }
}
EOF
}

up() {
  ensure_packages
  ensure_engine
  ensure_images
  ensure_debian_images
  ensure_redis
  ensure_sshd
  ensure_recipes
  write_info
  say "lab: up ($STATE/lab.json)"
}

# Up and current, checked read-only: every daemon answers, every image is there and built from
# this checkout's definition, every recipe published from this checkout's files.
already_up() {
  export DOCKER_HOST=$ENGINE
  # lab.json holds the Redis password: a world-readable one is fixed by the full `up` (write_info).
  [[ -f $STATE/lab.json && $(stat -c %a "$STATE/lab.json") == 600 ]] && pid_alive "$STATE/ssh/sshd.pid" && redis_up && docker_ok || return 1
  [[ $(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null) == true ]] || return 1
  docker network inspect proxy >/dev/null 2>&1 && docker image inspect "${IMAGES[@]}" >/dev/null 2>&1 || return 1
  local dir tag hash r
  for dir in "$LAB_SRC"/images/debian/*/; do
    tag=$(<"$dir/tag") hash=$("$LAB_SRC/images/build-debian.sh" --hash "$dir")
    [[ $(docker image inspect "$tag" --format '{{.Id}}' 2>/dev/null) == \
      "$(docker image inspect "${tag%%:*}:def-$hash" --format '{{.Id}}' 2>/dev/null)" ]] || return 1
  done
  for r in "${RECIPES[@]}"; do
    [[ -d $STATE/recipes/$r.git && $(cat "$STATE/recipes/$r.stamp" 2>/dev/null) == "$(recipe_stamp "$r")" ]] || return 1
  done
}

line() { printf '%-8s %-5s %s\n' "$1" "$2" "$3"; }

status() {
  local ok=0 state
  export DOCKER_HOST=$ENGINE
  if docker_ok; then
    state=$(docker info --format '{{.ServerVersion}} swarm={{.Swarm.LocalNodeState}} manager={{.Swarm.ControlAvailable}}')
    if [[ $state == *"manager=true"* ]]; then line engine up "$ENGINE ($state)"; else line engine down "$ENGINE ($state)"; ok=1; fi
    if docker network inspect proxy --format '{{.Driver}}' 2>/dev/null | grep -q overlay; then line proxy up "overlay network"; else line proxy down "no overlay network 'proxy'"; ok=1; fi
    local missing=()
    for i in "${IMAGES[@]}" $(debian_tags); do docker image inspect "$i" >/dev/null 2>&1 || missing+=("$i"); done
    if ((${#missing[@]} == 0)); then line images up "${IMAGES[*]}"; else line images down "missing: ${missing[*]}"; ok=1; fi
  else
    line engine down "no engine answers at $ENGINE"; line proxy down "(engine down)"; line images down "(engine down)"; ok=1
  fi
  if redis_up; then line redis up "redis://127.0.0.1:$REDIS_PORT"; else line redis down "nothing on port $REDIS_PORT"; ok=1; fi
  if pid_alive "$STATE/ssh/sshd.pid"; then line sshd up "ssh://root@127.0.0.1:$SSH_PORT"; else line sshd down "not running"; ok=1; fi
  local have=()
  for r in "${RECIPES[@]}"; do [[ -d $STATE/recipes/$r.git ]] && have+=("$r"); done
  if ((${#have[@]} == ${#RECIPES[@]})); then line recipes up "${have[*]} in $STATE/recipes"; else line recipes down "have: ${have[*]:-none}"; ok=1; fi
  return $ok
}

down() {
  if pid_alive "$STATE/ssh/sshd.pid"; then kill "$(cat "$STATE/ssh/sshd.pid")"; say "lab: sshd stopped"; fi
  if pid_alive "$STATE/redis.pid"; then kill "$(cat "$STATE/redis.pid")"; say "lab: redis stopped"; fi
  if pid_alive "$STATE/dockerd.pid"; then
    kill "$(cat "$STATE/dockerd.pid")"; say "lab: dockerd stopped"
    for _ in $(seq 60); do pid_alive "$STATE/dockerd.pid" || break; sleep 0.5; done
  fi
  rm -f "$STATE/dockerd.pid" "$STATE/redis.pid" "$STATE/redis.pass" "$STATE/ssh/sshd.pid"
}

mkdir -p "$STATE"
# The common case, a lab already up and current, is answered without the lock: every test file
# calls `up`, and queueing for the lock behind each other's full check cost a loaded machine
# 30 s and more per file (a beforeAll timing out).
if [[ ${1:-} == up ]] && already_up; then say "lab: up ($STATE/lab.json)"; exit 0; fi
# Concurrent test files all call `up`: one at a time. Daemons we start get `9>&-` so they don't
# hold the lock after we exit.
exec 9>"$STATE/.lock"
flock 9
case "${1:-}" in
  up) up ;;
  status) status ;;
  down) down ;;
  *) say "usage: taster lab up|status|down"; exit 2 ;;
esac
