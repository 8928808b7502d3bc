# Versions of configs: bump one when its file changes so swarm gets a new config object.
export APP_PY_VERSION=v4
