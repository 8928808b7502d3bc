#!/bin/sh
# Debian's package makes a cluster in /var/lib/postgresql/15/main; the entrypoint makes its own.
rm -rf "$1"/var/lib/postgresql/15 "$1"/etc/postgresql/15
