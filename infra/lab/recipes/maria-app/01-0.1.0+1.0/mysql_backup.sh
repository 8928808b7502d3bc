#!/bin/sh
# backup-bot-two hooks: dump the database into the volume before a backup, load it after a restore.
set -eu
BACKUP_FILE=/var/lib/mysql/backup.sql
export MYSQL_PWD="$(cat "$MYSQL_ROOT_PASSWORD_FILE")"

case "${1:-}" in
  backup)
    mariadb-dump -u root --single-transaction --databases "$MYSQL_DATABASE" >"$BACKUP_FILE"
    ;;
  restore)
    mariadb -u root <"$BACKUP_FILE"
    rm -f "$BACKUP_FILE"
    ;;
  *)
    echo "usage: $0 backup|restore" >&2
    exit 2
    ;;
esac
