#!/usr/bin/env bash
# Publishes a sample recipe as a bare git repo with the history operators would see upstream.
# A recipe source dir holds numbered steps applied in order, each an overlay of files:
#   NN-<semver>+<upstream>/  a release commit on main with an annotated tag
#   NN-pull-<n>/             a commit one ahead of main, published as refs/pull/<n>/head
# A step's `.message` file is its commit message. Dates and authors are fixed so the shas are the
# same on every machine.
set -euo pipefail
src=$1 dest=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME="Taster Lab" GIT_AUTHOR_EMAIL="lab@taster.test"
export GIT_COMMITTER_NAME="Taster Lab" GIT_COMMITTER_EMAIL="lab@taster.test"
git -C "$work" init -q -b main
git -C "$work" config tag.gpgSign false
n=0
for step in "$src"/[0-9][0-9]-*/; do
  n=$((n + 1))
  name=$(basename "$step"); name=${name#[0-9][0-9]-}
  export GIT_AUTHOR_DATE="2026-01-0${n}T12:00:00Z" GIT_COMMITTER_DATE="2026-01-0${n}T12:00:00Z"
  # Releases build on main; a pull request is one commit ahead of main as it is at that step.
  if [[ $name == pull-* ]]; then
    git -C "$work" checkout -q -B "$name" main
  elif git -C "$work" rev-parse -q --verify main >/dev/null; then
    git -C "$work" checkout -q main
  fi
  # -m: fresh mtimes, or git may miss a same-size edit made within the same second.
  (cd "$step" && tar -c --exclude=.message .) | tar -x -m -C "$work"
  message=$(cat "$step/.message" 2>/dev/null || echo "$name")
  git -C "$work" add -A
  git -C "$work" commit -q -m "$message"
  if [[ $name == pull-* ]]; then
    git -C "$work" update-ref "refs/pull/${name#pull-}/head" HEAD
  else
    git -C "$work" tag -a "$name" -m "Release $name"
  fi
done
git -C "$work" checkout -q main
rm -rf "$dest"
git clone -q --bare "$work" "$dest"
# A bare clone copies branches and tags; PR refs need an explicit push.
git -C "$work" push -q "$dest" 'refs/pull/*:refs/pull/*'
# Like a forge, a PR is reachable only through its pull ref, not as a branch of the upstream repo.
git -C "$dest" for-each-ref --format='%(refname)' refs/heads/pull-* | xargs -r -n1 git -C "$dest" update-ref -d
