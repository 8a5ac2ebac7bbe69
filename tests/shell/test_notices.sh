#!/bin/sh
# What the server says besides results, as psql and the mariadb client
# show it: PostgreSQL's notices and MariaDB's warnings on stderr for
# everything the shell runs (SQL typed or given with -c, Lua at the prompt,
# -e code, a script), never from the module loaded by another program; and
# \d showing a MariaDB column's collation in a Collation column, as psql
# does, not in its type.  PostgreSQL and MariaDB when RETORT_TEST_PG /
# RETORT_TEST_MYSQL name a server.
#   test_notices.sh RETORT BUILDDIR
RETORT=$1
BUILD=$2
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
. "$(dirname "$0")/lib.sh"
export TERM=xterm PAGER=

R() { "$RETORT" --norc "$@"; }

# the module in a stock lua5.4 (another host): runs Lua $2 with `engine`
# on URL $1.  A stock lua5.4 cannot load a sanitized module (the runtime
# must come first): those checks are for the normal build.
module_check() { # name expected URL lua
  [ -n "${RETORT_SANITIZED:-}" ] && return 0
  check "$1" "$2" "$(module_run "$3" "$4" 2>&1)"
}
module_run() {
  (cd "$BUILD" && U="$1" lua5.4 -e 'package.cpath = "./?.so;" .. package.cpath
    local retort = require "retort"
    engine = retort.create_engine(os.getenv("U"))' -e "$2")
}

# a shell at a terminal on URL $1, at its prompt
start() {
  T new-session -d -s rt -x 150 -y 40 "$RETORT --norc $1"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
}

# --- SQLite: nothing to say, and \d as before ---

check "sqlite: \\d has no Collation column" " Column | Type | Nullable | Default" \
  "$(R -c 'create table t (a text collate nocase)' -c '\d t' 2>&1 | grep Column)"

# --- PostgreSQL ---

if [ -n "${RETORT_TEST_PG:-}" ]; then
  PG=$RETORT_TEST_PG
  do_notice="DO \$\$ BEGIN RAISE NOTICE 'from Lua'; RAISE WARNING 'careful'; END \$\$"

  check "pg: -e: conn:execute(text(...)) shows the notices" "NOTICE:  from Lua
WARNING:  careful
done" "$(R "$PG" -e "local c = engine:connect()
    c:execute(text([[$do_notice]]))
    print('done')" 2>&1)"
  check "pg: -e: session:execute too" \
    'NOTICE:  table "rt_nothere" does not exist, skipping
done' "$(R "$PG" -e "session:execute(text('drop table if exists rt_nothere'))
    print('done')" 2>&1)"
  printf '%s\n' "engine:connect():exec_driver_sql([[$do_notice]])" \
    "print('script done')" >"$tmp/notice.lua"
  check "pg: a script the shell runs" "NOTICE:  from Lua
WARNING:  careful
script done" "$(R "$PG" "$tmp/notice.lua" 2>&1)"
  check "pg: the notices are on stderr" "done" \
    "$(R "$PG" -e "engine:connect():exec_driver_sql([[$do_notice]])
      print('done')" 2>/dev/null)"
  module_check "pg: the module in another host never prints one" "done" \
    "$PG" "local c = engine:connect()
      c:exec_driver_sql('drop table if exists rt_nothere')
      c:exec_driver_sql([[$do_notice]])
      print('done')"

  start "$PG"
  enter "c = engine:connect()"
  clear_screen
  enter "c:execute(text([[DO \$\$ BEGIN RAISE NOTICE 'at the prompt'; END \$\$]]))"
  wait_grep "NOTICE:  at the prompt"
  check "pg: Lua at the prompt shows its notice" "NOTICE:  at the prompt" \
    "$(after "retort> c:execute(" | grep NOTICE)"
  clear_screen
  enter "drop table if exists rt_nothere;"
  check "pg: and SQL typed at the prompt, before its tag" \
    'NOTICE:  table "rt_nothere" does not exist, skipping
DROP TABLE' "$(after "retort> drop table if exists rt_nothere;")"
  kill_tmux
fi

# --- MariaDB ---

if [ -n "${RETORT_TEST_MYSQL:-}" ]; then
  my=$RETORT_TEST_MYSQL
  db=$(printf '%s' "$my" | sed 's|^[^/]*//[^/]*/\([^/?]*\).*|\1|')
  R "$my" -c 'drop table if exists rt_warn' >/dev/null 2>&1
  R "$my" -c 'create table rt_warn (id int primary key, s varchar(3))' >/dev/null

  check "mariadb: DROP TABLE IF EXISTS of a missing table: its note" \
    "WARNING:  Note 1051: Unknown table '$db.rt_nothere'
DROP TABLE" "$(R "$my" -c 'drop table if exists rt_nothere' 2>&1)"
  check "mariadb: a value cut in non-strict mode" "SET
WARNING:  Warning 1265: Data truncated for column 's' at row 1
INSERT 0 1" "$(R "$my" -c "set session sql_mode = ''" \
    -c "insert into rt_warn values (1, 'abcdef')" 2>&1)"
  check "mariadb: SELECT 1/0, its rows streamed" \
    "WARNING:  Warning 1365: Division by 0
  x
------
 NULL
(1 row)" "$(R "$my" -c 'select 1/0 as x' 2>&1)"
  check "mariadb: one line per warning" "2" \
    "$(R "$my" -c 'select 1/0 as x from rt_warn union all select 2/0' 2>&1 >/dev/null |
       grep -c '^WARNING:  Warning 1365: Division by 0$')"
  check "mariadb: a statement without warnings prints nothing more" "" \
    "$(R "$my" -c 'select s from rt_warn' -c 'update rt_warn set s = s' 2>&1 >/dev/null)"
  check "mariadb: the warnings are on stderr" "DROP TABLE" \
    "$(R "$my" -c 'drop table if exists rt_nothere' 2>/dev/null)"
  check "mariadb: -e: Lua's statements show them too" \
    "WARNING:  Note 1051: Unknown table '$db.rt_nothere'
WARNING:  Warning 1365: Division by 0
nil" "$(R "$my" -e "local c = engine:connect()
      c:exec_driver_sql('drop table if exists rt_nothere')
      print(c:exec_driver_sql('select 1/0'):scalar())" 2>&1)"
  module_check "mariadb: the module in another host never prints one" "nil" \
    "$my" "local c = engine:connect()
      c:exec_driver_sql('drop table if exists rt_nothere')
      print(c:exec_driver_sql('select 1/0'):scalar())"

  start "$my"
  enter "drop table if exists rt_nothere;"
  check "mariadb: SQL typed at the prompt" \
    "WARNING:  Note 1051: Unknown table '$db.rt_nothere'
DROP TABLE" "$(after "retort> drop table if exists rt_nothere;")"
  clear_screen
  enter "print(engine:connect():exec_driver_sql('select 1/0'):scalar())"
  check "mariadb: Lua at the prompt" "WARNING:  Warning 1365: Division by 0
nil" "$(after "retort> print(engine:connect()")"
  # a CALL whose procedure returns rows, then warns: the warning comes
  # with the status result after the rows, as the mariadb client shows it
  R "$my" -e "local c = engine:connect()
    c:exec_driver_sql('drop procedure if exists rt_pw')
    c:exec_driver_sql([[create procedure rt_pw() begin
      select 1 as a; drop table if exists rt_nothere; end]])
    c:exec_driver_sql('drop procedure if exists rt_pw2')
    c:exec_driver_sql([[create procedure rt_pw2() begin
      drop table if exists rt_nothere; drop table if exists rt_nothere2; end]])
    c:close()" >/dev/null 2>&1
  clear_screen
  enter "call rt_pw();"
  check "mariadb: a CALL's rows, then its warning" " a
---
 1
(1 row)
WARNING:  Note 1051: Unknown table '$db.rt_nothere'" \
    "$(after "retort> call rt_pw();")"
  clear_screen
  enter "call rt_pw2();"
  check "mariadb: a CALL without rows: its last statement's warning" \
    "WARNING:  Note 1051: Unknown table '$db.rt_nothere2'
CALL" "$(after "retort> call rt_pw2();")"
  clear_screen
  enter "print(engine:connect():exec_driver_sql('call rt_pw()'):scalar())"
  check "mariadb: a CALL from Lua" "WARNING:  Note 1051: Unknown table '$db.rt_nothere'
1" "$(after "retort> print(engine:connect()")"
  kill_tmux
  R "$my" -e "local c = engine:connect()
    c:exec_driver_sql('drop procedure rt_pw')
    c:exec_driver_sql('drop procedure rt_pw2')" >/dev/null 2>&1

  R "$my" -c 'drop table rt_warn' >/dev/null 2>&1
  R "$my" -c 'create table rt_coll (id int primary key,
    name varchar(20) collate utf8mb4_bin not null,
    code varchar(5) character set latin1, note text)
    default charset utf8mb4 collate utf8mb4_general_ci' >/dev/null
  check "mariadb: \\d: the type alone, the collation in its own column" \
    '                        Table "rt_coll"
 Column |    Type     |     Collation     | Nullable | Default
--------+-------------+-------------------+----------+---------
 id     | INTEGER     |                   | not null |
 name   | VARCHAR(20) | utf8mb4_bin       | not null |
 code   | VARCHAR(5)  | latin1_swedish_ci |          |
 note   | TEXT        |                   |          |
Indexes:
    PRIMARY KEY (id)' "$(R "$my" -c '\d rt_coll' 2>&1)"
  check "mariadb: \\d -f csv" "Column,Type,Collation,Nullable,Default
id,INTEGER,,not null,
name,VARCHAR(20),utf8mb4_bin,not null,
code,VARCHAR(5),latin1_swedish_ci,," \
    "$(R -f csv "$my" -c '\d rt_coll' 2>&1 | sed -e 's/""//g' | head -4)"
  R "$my" -c 'drop table rt_coll' >/dev/null 2>&1
fi

finish
