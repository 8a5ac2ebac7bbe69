#!/bin/sh
# scripts/automap_walk.lua on the Chinook sample database: the classes,
# relationships (PlaylistTrack as many-to-many, Employee.ReportsTo as a
# self-reference) and related objects automap finds, and `db.classes` in
# the shell.  SQLite always; PostgreSQL and MariaDB when RETORT_TEST_PG /
# RETORT_TEST_MYSQL name a server.  The expected walk of SQLite and MariaDB
# (automap_walk_chinook.txt) is what SQLAlchemy's automap gives on SQLite,
# printed the same way; PostgreSQL's Chinook names its tables and columns
# in snake case: automap_walk_chinook_pg.txt is SQLAlchemy's walk of a
# SQLite copy whose tables and columns were renamed so, its classes in the
# order SQLAlchemy's automap makes them on PostgreSQL (the catalog's order
# of the tables, each after the tables its keys refer to).
#   test_automap_walk.sh RETORT SRCDIR
RETORT=$1
SRC=${2:-.}
here=$(cd "$(dirname "$0")" && pwd)
chinook="$SRC/../shared/data/chinook"
if [ ! -r "$chinook/Chinook_Sqlite.sql" ] || ! command -v sqlite3 >/dev/null 2>&1; then
  echo "SKIP: needs $chinook/Chinook_Sqlite.sql and the sqlite3 shell"
  exit 77
fi
. "$here/lib.sh"
walk="$SRC/scripts/automap_walk.lua"

db="$tmp/chinook.db"
sqlite3 "$db" <"$chinook/Chinook_Sqlite.sql"
url="sqlite:///$db"

check "sqlite: the walk SQLAlchemy's automap gives" \
  "$(cat "$here/automap_walk_chinook.txt")" \
  "$("$RETORT" --norc "$walk" "$url" 2>&1)"
check "sqlite: db.classes in the shell" "AC/DC	2	10	1	Employee" \
  "$("$RETORT" --norc "$url" -e 'local a = session:get(db.classes.Artist, 1)
    local e = session:get(db.classes["Employee"], 2)
    print(a.Name, #a.album_collection, #db.classes, e.employee.EmployeeId,
          orm.inspect(e.employee).mapper.class.__name__)' 2>&1)"
check "usage without a URL" "usage: retort scripts/automap_walk.lua URL [N]
2" "$("$RETORT" --norc "$walk" 2>&1; echo $?)"

if [ -n "$RETORT_TEST_PG" ] && command -v psql >/dev/null 2>&1; then
  sed -e 's/^DROP DATABASE IF EXISTS chinook;/DROP DATABASE IF EXISTS retort_am_chinook;/' \
    -e 's/^CREATE DATABASE chinook;/CREATE DATABASE retort_am_chinook;/' \
    -e 's/^\\c chinook;/\\c retort_am_chinook/' "$chinook/Chinook_PostgreSql.sql" |
    psql -q -v ON_ERROR_STOP=1 "$RETORT_TEST_PG" >"$tmp/pg.log" 2>&1
  if [ $? -eq 0 ]; then
    pgurl=$(printf '%s' "$RETORT_TEST_PG" | sed 's|/retort_test|/retort_am_chinook|')
    check "postgresql: the walk" "$(cat "$here/automap_walk_chinook_pg.txt")" \
      "$("$RETORT" --norc "$walk" "$pgurl" 2>&1)"
  else
    failed=$((failed + 1))
    echo "FAIL loading Chinook into PostgreSQL:"
    tail -5 "$tmp/pg.log"
  fi
fi

if [ -n "$RETORT_TEST_MYSQL" ] && command -v mariadb >/dev/null 2>&1; then
  mysock=$(printf '%s' "$RETORT_TEST_MYSQL" | sed -n 's/.*unix_socket=\([^&]*\).*/\1/p')
  myuser=$(printf '%s' "$RETORT_TEST_MYSQL" | sed -n 's|^mysql://\([^:@]*\).*|\1|p')
  sed -e 's/`Chinook`/`retort_am_chinook`/g' "$chinook/Chinook_MySql.sql" |
    mariadb -u"$myuser" ${mysock:+--socket="$mysock"} >"$tmp/my.log" 2>&1
  if [ $? -eq 0 ]; then
    myurl=$(printf '%s' "$RETORT_TEST_MYSQL" | sed 's|/retort_test|/retort_am_chinook|')
    check "mariadb: the walk" "$(cat "$here/automap_walk_chinook.txt")" \
      "$("$RETORT" --norc "$walk" "$myurl" 2>&1)"
  else
    failed=$((failed + 1))
    echo "FAIL loading Chinook into MariaDB:"
    tail -5 "$tmp/my.log"
  fi
fi

finish
