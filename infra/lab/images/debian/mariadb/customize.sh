#!/bin/sh
# Debian's package initialises /var/lib/mysql at install; the entrypoint initialises its own data
# directory (a fresh volume would otherwise be seeded with the package's, without our users).
rm -rf "$1"/var/lib/mysql/*
