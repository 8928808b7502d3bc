#!/usr/bin/env bash
# Builds one lab image from Debian packages (see debian/README.md), without a registry:
#   build-debian.sh <image dir>        build it if its definition changed (or it is missing)
#   build-debian.sh --hash <image dir> print the definition hash
# mmdebstrap writes the root filesystem as a tar on stdout; `docker import` makes it an image.
set -euo pipefail
SUITE=bookworm
# Bump when the way images are built changes (it is part of every definition hash).
BUILD_VERSION=1
MIRROR=${TASTER_LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}

definition_hash() {
  # Everything that shapes the image: its files (names, modes, contents), the suite, the build.
  (cd "$1" && find . -type f -printf '%p %m\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat
   echo "$SUITE $BUILD_VERSION") | sha256sum | cut -c1-12
}

if [[ ${1:-} == --hash ]]; then definition_hash "$2"; exit 0; fi
dir=$(cd "$1" && pwd)
tag=$(<"$dir/tag")
hash=$(definition_hash "$dir")
# Built from this very definition already: the tag and its definition tag are the same image.
if [[ -n $(docker image inspect "${tag%%:*}:def-$hash" --format '{{.Id}}' 2>/dev/null) &&
  $(docker image inspect "$tag" --format '{{.Id}}' 2>/dev/null) == $(docker image inspect "${tag%%:*}:def-$hash" --format '{{.Id}}') ]]; then
  exit 0
fi
customize=$([[ -x $dir/customize.sh ]] && echo "$dir/customize.sh" || true)
packages=$(grep -v '^\s*#' "$dir/packages" | xargs | tr ' ' ',')
echo "lab: building $tag from Debian $SUITE packages ($packages); the first build takes a minute or two" >&2
started=$SECONDS
log=$(mktemp)
# A line every 20 s, so a long first build is never silent.
(while sleep 20; do echo "lab: still building $tag ($((SECONDS - started)) s)" >&2; done) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null; rm -f "$log"' EXIT
if ! mmdebstrap --variant=apt --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --customize-hook="cp -a '$dir/rootfs/.' \"\$1/\"" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  ${customize:+--customize-hook="$customize \"\$1\""} \
  "$SUITE" - "$MIRROR" 2>"$log" |
  docker import --change "CMD $(<"$dir/cmd")" --change "LABEL taster.lab.definition=$hash" - "$tag" >/dev/null; then
  tail -20 "$log" >&2
  echo "lab: building $tag failed (mmdebstrap or docker import; its log is above)" >&2
  exit 1
fi
docker tag "$tag" "${tag%%:*}:def-$hash"
# Earlier definitions of this image are no longer used by anything: free their space.
docker image ls "${tag%%:*}" --format '{{.Tag}}' | grep '^def-' | grep -vx "def-$hash" |
  sed "s|^|${tag%%:*}:|" | xargs -r docker rmi >/dev/null 2>&1 || true
echo "lab: built $tag in $((SECONDS - started)) s" >&2
