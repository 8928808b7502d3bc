#!/bin/sh
# MariaDB 10.11 with the upstream `mariadb` image's interface: MYSQL_/MARIADB_ DATABASE, USER,
# PASSWORD(_FILE), ROOT_PASSWORD(_FILE). The data directory is made on first start.
set -eu
pick() { for name in "$@"; do eval "v=\${$name:-}"; [ -n "$v" ] && { printf '%s' "$v"; return; }; done; }
read_secret() {
  file=$(pick "MARIADB_$1_FILE" "MYSQL_$1_FILE")
  if [ -n "$file" ]; then cat "$file"; else pick "MARIADB_$1" "MYSQL_$1"; fi
}
# A value inside '…' in SQL: generated secrets may hold quotes and backslashes.
sql_quote() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"; }
DATADIR=/var/lib/mysql
database=$(pick MARIADB_DATABASE MYSQL_DATABASE)
user=$(pick MARIADB_USER MYSQL_USER)
password=$(read_secret PASSWORD)
root_password=$(read_secret ROOT_PASSWORD)

mkdir -p "$DATADIR" /run/mysqld
chown -R mysql:mysql "$DATADIR" /run/mysqld
if [ ! -d "$DATADIR/mysql" ]; then
  mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db >/dev/null
  sql=$(mktemp)
  {
    echo "FLUSH PRIVILEGES;"
    [ -n "$root_password" ] && printf "ALTER USER 'root'@'localhost' IDENTIFIED BY %s;\n" "$(sql_quote "$root_password")"
    [ -n "$database" ] && printf 'CREATE DATABASE IF NOT EXISTS `%s`;\n' "$database"
    if [ -n "$user" ]; then
      printf "CREATE USER '%s'@'%%' IDENTIFIED BY %s;\n" "$user" "$(sql_quote "$password")"
      [ -n "$database" ] && printf "GRANT ALL ON \`%s\`.* TO '%s'@'%%';\n" "$database" "$user"
    fi
  } >"$sql"
  chown mysql "$sql"
  mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --bootstrap <"$sql"
  rm -f "$sql"
  echo "mariadb: initialised $DATADIR (database ${database:-none}, user ${user:-none})"
fi
exec mariadbd --user=mysql --datadir="$DATADIR" --bind-address=0.0.0.0
