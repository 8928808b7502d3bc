#!/bin/sh
# backup-bot-two hooks: dump the database into the volume before a backup, load it after a restore.
set -eu
BACKUP_FILE=/var/lib/postgresql/data/backup.sql

case "${1:-}" in
  backup)
    pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" --clean --if-exists >"$BACKUP_FILE"
    ;;
  restore)
    psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -q -f "$BACKUP_FILE" >/dev/null
    rm -f "$BACKUP_FILE"
    ;;
  *)
    echo "usage: $0 backup|restore" >&2
    exit 2
    ;;
esac
