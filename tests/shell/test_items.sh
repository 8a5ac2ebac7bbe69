#!/bin/sh
# Items of the shell's contract at a real terminal (tmux) on the Chinook
# database, as a person meets them: completion that reads names while
# --echo is on prints nothing into the line being edited (SQLite always,
# PostgreSQL and MariaDB when RETORT_TEST_PG / RETORT_TEST_MYSQL name a
# server); an empty list prints as an empty list of Rows; SQL keyword
# completion; a statement's SQL; wide values cut to the terminal; \x on;
# the pager only on a terminal; \d with defaults; sqlite:// by default.
#   test_items.sh RETORT SRCDIR
RETORT=$1
SRC=${2:-.}
chinook="$SRC/../shared/data/chinook"
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
if [ ! -r "$chinook/Chinook_Sqlite.sql" ] || ! command -v sqlite3 >/dev/null 2>&1; then
  echo "SKIP: needs $chinook/Chinook_Sqlite.sql and the sqlite3 shell"
  exit 77
fi
. "$(dirname "$0")/lib.sh"
export TERM=xterm PAGER=
unset DATABASE_URL


# type $1, press Tab, wait until the prompt line reads $2 (up to 3 s)
tab() {
  alive
  T send-keys -t rt -l "$1"
  T send-keys -t rt Tab
  i=0
  while [ $i -lt 30 ]; do
    [ "$(screen | tail -1)" = "retort> $2" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
}

# end the tmux server (the next T starts a server of its own)
stop() { kill_tmux; }

clear_line() { T send-keys -t rt C-u; sleep 0.1; }

# quiet_checks NAME URL TABLE COLUMN-PREFIX COLUMN LUA-TABLE LUA-PREFIX
# LUA-COLUMN: with \echo on, Tab in SQL after a table the statement names
# reads its columns on the spot, and Tab after db.TABLE.c. reflects the
# table: their SQL is logged nowhere on the screen, the line stays whole,
# and Enter runs it as typed.
quiet_checks() {
  T new-session -d -s rt -x 150 -y 40 "$RETORT --norc $2"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
  enter '\echo on'
  clear_screen
  tab "select count(*) from $3 where $4" "select count(*) from $3 where $5"
  check "$1: Tab reads the columns in SQL, the line stays whole" \
    "retort> select count(*) from $3 where $5" "$(screen)"
  T send-keys -t rt -l "is null"
  T send-keys -t rt -H 3b
  T send-keys -t rt Enter
  wait_grep '^(1 row)$'
  check "$1: and Enter runs it as typed (the echo of the query only)" \
    "retort> select count(*) from $3 where $5 is null;
INFO retort.engine.Engine select count(*) from $3 where $5 is null" \
    "$(screen | head -2)"
  wait_last "retort>"
  clear_screen
  tab "db.$6.c.$7" "db.$6.c.$8"
  check "$1: Tab reflects db.$6 for .c., printing nothing" \
    "retort> db.$6.c.$8" "$(screen)"
  clear_line
  stop
}

db="$tmp/chinook.db"
sqlite3 "$db" <"$chinook/Chinook_Sqlite.sql"
url="sqlite:///$db"

quiet_checks sqlite "$url" Artist Na Name Album Ti Title

# what Lua prints or warns while completion walks a value is not shown
T new-session -d -s rt -x 100 -y 30 "$RETORT --norc $url"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
enter 'noisy = setmetatable({}, {__pairs = function() print("OUT") io.stderr:write("ERR\n") warn("@on") warn("WARN") return next, {alpha = 1} end})'
clear_screen
tab "noisy.al" "noisy.alpha"
check "print, stderr and warn during completion stay off the screen" \
  "retort> noisy.alpha" "$(screen)"
clear_line

# an empty list is an empty list of Rows: its row count, in every format
clear_screen
enter "{}"
enter "session:execute(select(db.Artist):where(db.Artist.c.ArtistId:lt(0))):all()"
check "an empty list prints as (0 rows)" "retort> {}
(0 rows)
retort> session:execute(select(db.Artist):where(db.Artist.c.ArtistId:lt(0))):all()
(0 rows)
retort>" "$(screen)"
clear_screen
enter '\f json'
enter "{}"
enter '\f csv'
enter "{}"
enter '\f markdown'
enter "{}"
enter '\f table'
check "an empty list: [] in json, nothing in csv and markdown" "retort> \\f json
Output format is json.
retort> {}
[]
retort> \\f csv
Output format is csv.
retort> {}
retort> \\f markdown
Output format is markdown.
retort> {}
retort> \\f table
Output format is table.
retort>" "$(screen)"
clear_screen
enter "{1, 2}"
check "a list of other values prints as Lua would" "yes" \
  "$(after 'retort> {1, 2}' | grep -q '^table: 0x[0-9a-f]*$' && echo yes)"

# SQL keywords complete in the case typed
clear_screen
tab "sel" "select"
check "Tab completes an SQL keyword" "retort> select" "$(screen | tail -1)"
clear_line
tab "SELECT * FROM Album ORD" "SELECT * FROM Album ORDER"
check "Tab completes an SQL keyword later in the statement" \
  "retort> SELECT * FROM Album ORDER" "$(screen | tail -1)"
clear_line

# on a continuation line, the columns of a table an earlier line names
clear_screen
enter "select * from Album"
T send-keys -t rt -l "where Ti"
T send-keys -t rt Tab
wait_last "   ...> where Title"
check "Tab on a continuation line: a column of a table named above" \
  "retort> select * from Album
   ...> where Title" "$(screen)"
T send-keys -t rt C-c
wait_last "retort>"

# a statement prints its SQL, one clause per line
clear_screen
enter 'select(db.Album.c.Title):where(db.Album.c.AlbumId:eq(1))'
check "a statement prints its SQL, a clause per line" 'SELECT "Album"."Title"
FROM "Album"
WHERE "Album"."AlbumId" = :AlbumId_1' \
  "$(after 'retort> select(db.Album.c.Title)')"
stop

# a backslash command between the lines of a statement runs at once, as
# in psql, unless it is inside a string literal; \q there leaves
T new-session -d -s rt -x 100 -y 30 "$RETORT --norc $url"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
clear_screen
enter "select AlbumId, Title from Album where AlbumId < 3"
enter '\x on'
enter ";"
check "a command on a continuation line runs, the statement goes on" \
  "retort> select AlbumId, Title from Album where AlbumId < 3
   ...> \x on
Expanded display is on.
   ...> ;
-[ RECORD 1 ]----------------------------------
AlbumId | 1
Title   | For Those About To Rock We Salute You
-[ RECORD 2 ]----------------------------------
AlbumId | 2
Title   | Balls to the Wall
(2 rows)
retort>" "$(screen)"
enter '\x off'
clear_screen
enter "select 'a"
enter "\\x' as v;"
check "inside a string literal a backslash line is text" "retort> select 'a
   ...> \\x' as v;
 v
----
 a +
 \\x
(1 row)
retort>" "$(screen)"
enter "select 1"
T send-keys -t rt -l '\q'
T send-keys -t rt Enter
i=0
while T has-session -t rt 2>/dev/null && [ $i -lt 30 ]; do
  sleep 0.1
  i=$((i + 1))
done
check "\\q on a continuation line leaves the shell" "gone" \
  "$(T has-session -t rt 2>/dev/null && echo running || echo gone)"
stop
check "from a pipe too" 'a
1
b
"x
\y"' "$(printf 'select 1 as a\n\\f csv\n;\nselect '"'x\\n\\\\y'"' as b;\n' | "$RETORT" --norc)"

check "from a pipe, \\q drops the unfinished statement" "0" \
  "$(printf 'select 1 as a\n\\q\nselect 2;\n' | "$RETORT" --norc | wc -c | tr -d ' ')"

# wide values are cut to the terminal's width, with an indicator; \x on
# shows records
T new-session -d -s rt -x 60 -y 30 "$RETORT --norc $url"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
clear_screen
enter "select TrackId, Name, Composer, Milliseconds from Track where TrackId < 3;"
check "values cut to the terminal, … marks the cut, numbers right-aligned" \
  " TrackId |      Name       |    Composer     | Milliseconds
---------+-----------------+-----------------+--------------
       1 | For Those Abou… | Angus Young, M… |       343719
       2 | Balls to the W… | U. Dirkschneid… |       342562
(2 rows)" "$(after 'ack where TrackId < 3;')"
clear_screen
enter '\x on'
enter "select AlbumId, Title from Album where AlbumId < 3;"
check "\\x on: a record per row" "-[ RECORD 1 ]----------------------------------
AlbumId | 1
Title   | For Those About To Rock We Salute You
-[ RECORD 2 ]----------------------------------
AlbumId | 2
Title   | Balls to the Wall
(2 rows)" "$(after 'retort> select AlbumId, Title from Album')"
clear_screen
enter '\x off'
enter "select AlbumId, Title from Album where AlbumId < 3;"
check "\\x off: a table again" " AlbumId |                 Title
---------+---------------------------------------
       1 | For Those About To Rock We Salute You
       2 | Balls to the Wall
(2 rows)" "$(after 'retort> select AlbumId, Title from Album')"
stop

# with $PAGER unset, a result taller than the terminal goes through
# less -SRFX: its prompt waits for q, then the shell's prompt comes back
if command -v less >/dev/null 2>&1; then
  T new-session -d -s rt -x 80 -y 15 "env -u PAGER $RETORT --norc $url"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
  clear_screen
  T send-keys -t rt -l "select TrackId from Track where TrackId <= 40"
  T send-keys -t rt -H 3b
  T send-keys -t rt Enter
  wait_last ":"
  check "no \$PAGER: less shows a tall result" ":" "$(screen | tail -1)"
  T send-keys -t rt q
  wait_last "retort>"
  check "q leaves less for the prompt" "retort>" "$(screen | tail -1)"
  stop
fi

# the pager is for a terminal only: -c and pipes never page
out=$(PAGER='sed s/^/P:/' "$RETORT" --norc "$url" -c 'select TrackId from Track')
check "-c: no pager when output is not a terminal" "3506 0" \
  "$(printf '%s\n' "$out" | wc -l | tr -d ' ') $(printf '%s\n' "$out" | grep -c '^P:')"
out=$(echo 'select TrackId from Track;' | PAGER='sed s/^/P:/' "$RETORT" --norc "$url")
check "a pipe: no pager" "3506 0" \
  "$(printf '%s\n' "$out" | wc -l | tr -d ' ') $(printf '%s\n' "$out" | grep -c '^P:')"

# \d: columns, types, nullability, defaults, keys, indexes, references
sqlite3 "$tmp/u.db" "create table teams (id integer primary key, name text not null unique);
create table users (id integer primary key, name varchar(30) not null,
  email text default 'none', score integer default 0,
  team_id integer references teams(id));
create index ix_users_name on users(name);
create table posts (id integer primary key,
  user_id integer not null references users(id));"
check "\\d users: defaults, keys, indexes, references both ways" '               Table "users"
 Column  |    Type     | Nullable | Default
---------+-------------+----------+---------
 id      | INTEGER     |          |
 name    | VARCHAR(30) | not null |
 email   | TEXT        |          | '"'none'"'
 score   | INTEGER     |          | 0
 team_id | INTEGER     |          |
Indexes:
    PRIMARY KEY (id)
    "ix_users_name" (name)
Foreign-key constraints:
    FOREIGN KEY (team_id) REFERENCES "teams"(id)
Referenced by:
    TABLE "posts" FOREIGN KEY (user_id) REFERENCES "users"(id)' \
  "$("$RETORT" --norc "sqlite:///$tmp/u.db" -c '\d users' 2>&1)"

# --echo logs what the ORM sends too: a flush's INSERT and its parameters
check "--echo logs an ORM flush" "INFO retort.engine.Engine BEGIN (implicit)
INFO retort.engine.Engine INSERT INTO users (name) VALUES (?)
INFO retort.engine.Engine [generated in Xs] ('ann',)
INFO retort.engine.Engine COMMIT" \
  "$("$RETORT" --norc --echo -e 'local Base = orm.declarative_base()
    User = Base:class "User" {__tablename__ = "users",
      id = Column(Integer, {primary_key = true}), name = Column(String(30))}
    Base.metadata:create_all(engine)
    print("--")
    session:add(User{name = "ann"})
    session:commit()' 2>&1 | sed -e '1,/^--$/d' -e 's/generated in [0-9.]*s/generated in Xs/')"

# no URL and no $DATABASE_URL: an in-memory SQLite database
check "the engine is sqlite:// by default" "sqlite://" \
  "$("$RETORT" --norc -e 'print(engine.url)')"

# --- Chinook on the servers, loaded with their own clients ---

if [ -n "$RETORT_TEST_PG" ] && command -v psql >/dev/null 2>&1; then
  sed -e 's/^DROP DATABASE IF EXISTS chinook;/DROP DATABASE IF EXISTS retort_chinook_items;/' \
    -e 's/^CREATE DATABASE chinook;/CREATE DATABASE retort_chinook_items;/' \
    -e 's/^\\c chinook;/\\c retort_chinook_items/' "$chinook/Chinook_PostgreSql.sql" |
    psql -q -v ON_ERROR_STOP=1 "$RETORT_TEST_PG" >"$tmp/pg.log" 2>&1
  if [ $? -eq 0 ]; then
    quiet_checks postgresql \
      "$(printf '%s' "$RETORT_TEST_PG" | sed 's|/retort_test|/retort_chinook_items|')" \
      artist na name album ti title
  else
    failed=$((failed + 1))
    echo "FAIL loading Chinook into PostgreSQL:"
    tail -5 "$tmp/pg.log"
  fi
fi

if [ -n "$RETORT_TEST_MYSQL" ] && command -v mariadb >/dev/null 2>&1; then
  # mysql://root@localhost/retort_test?unix_socket=PATH
  mysock=$(printf '%s' "$RETORT_TEST_MYSQL" | sed -n 's/.*unix_socket=\([^&]*\).*/\1/p')
  myuser=$(printf '%s' "$RETORT_TEST_MYSQL" | sed -n 's|^mysql://\([^:@]*\).*|\1|p')
  sed -e 's/`Chinook`/`retort_chinook_items`/g' "$chinook/Chinook_MySql.sql" |
    mariadb -u"$myuser" ${mysock:+--socket="$mysock"} >"$tmp/my.log" 2>&1
  if [ $? -eq 0 ]; then
    quiet_checks mariadb \
      "$(printf '%s' "$RETORT_TEST_MYSQL" | sed 's|/retort_test|/retort_chinook_items|')" \
      Artist Na Name Album Ti Title
  else
    failed=$((failed + 1))
    echo "FAIL loading Chinook into MariaDB:"
    tail -5 "$tmp/my.log"
  fi
fi

finish
