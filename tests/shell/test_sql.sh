#!/bin/sh
# SQL from the command line and from pipes: -c, -f FORMAT, statements
# mixed with Lua on stdin, transactions, errors and exit codes.  SQLite
# always; PostgreSQL and MariaDB when RETORT_TEST_PG / RETORT_TEST_MYSQL
# name a server.
#   test_sql.sh RETORT
RETORT=$1
. "$(dirname "$0")/lib.sh"

R() { "$RETORT" --norc "$@"; }

db="sqlite:///$tmp/t.db"
R "$db" -c "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, score REAL);
  INSERT INTO users (name, score) VALUES ('alice', 1.5), ('bob', NULL),
  ('', 2)" >/dev/null

check "-c prints an aligned table" " id | name  | score
----+-------+-------
  1 | alice |   1.5
  2 | bob   |  NULL
  3 |       |   2.0
(3 rows)" "$(R "$db" -c 'SELECT * FROM users ORDER BY id')"

check "-c one row" " n
---
 3
(1 row)" "$(R "$db" -c 'select count(*) as n from users;')"

check "-c command tags" "CREATE TABLE
INSERT 0 2
UPDATE 1
DELETE 2
DROP TABLE" "$(R "$db" -c "create table x (a int); insert into x values (1), (2);
  update x set a = 3 where a = 1; delete from x; drop table x")"

check "-f csv" "id,name,score
1,alice,1.5
2,bob,
3,\"\",2.0" "$(R "$db" -f csv -c 'select * from users order by id')"

check "-f csv quoting" 'a,"b,c"
"x,y","say ""hi"""' \
  "$(R -f csv -c "select 'x,y' as a, 'say \"hi\"' as \"b,c\"")"

check "-f tsv" "id	name	score
1	alice	1.5
2	bob	\\N
3		2.0" "$(R "$db" -f tsv -c 'select * from users order by id')"

check "-f json" '[
{"id": 1, "name": "alice", "score": 1.5},
{"id": 2, "name": "bob", "score": null},
{"id": 3, "name": "", "score": 2.0}
]' "$(R "$db" -f json -c 'select * from users order by id')"

check "-f json, no rows" "[]" \
  "$(R "$db" -f json -c 'select * from users where id < 0')"

check "-f json is valid" "3" \
  "$(R "$db" -f json -c 'select * from users' |
     python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')"

check "-f markdown" "| id  | name  | score |
|----:|-------|------:|
|   1 | alice |   1.5 |
|   2 | bob   |  NULL |
|   3 |       |   2.0 |" "$(R "$db" -f markdown -c 'select * from users order by id')"

check "-f vertical" "-[ RECORD 1 ]
id    | 1
name  | alice
score | 1.5
-[ RECORD 2 ]
id    | 2
name  | bob
score | NULL
(2 rows)" "$(R "$db" -f vertical -c 'select * from users where id < 3 order by id')"

check "-f vertical: a long name puts + where the | falls, as psql does" \
  "-[ RECORD 1 ]------+--
a_long_column_name | 1
(1 row)" "$(R -f vertical -c 'select 1 as a_long_column_name')"

check "-f markdown escapes | in column names too" '| a\|b |
|-----:|
|    1 |' "$(R -f markdown -c 'select 1 as "a|b"')"

check "-c is repeatable, run in turn" " a
---
 1
(1 row)
 b
---
 2
(1 row)" "$(R -c 'select 1 as a' -c 'select 2 as b')"
check "-c: the first error ends the run" "1:" \
  "$(R -c 'select nope' -c 'select 2 as b' 2>/dev/null; echo "$?:")"

check "unknown format is a usage error" "2" \
  "$(R -f xml -c 'select 1' 2>/dev/null; echo $?)"

R "$db" -c 'select * from nope' >"$tmp/out" 2>"$tmp/err"; rc=$?
check "-c error exits 1" "1" "$rc"
check "-c error message on stderr" "ERROR:  no such table: nope" \
  "$(head -1 "$tmp/err")"
check "-c error prints nothing on stdout" "" "$(cat "$tmp/out")"

check "-c error shows the position" "ERROR:  near \"selec\": syntax error
LINE 1: selec 1
        ^" "$(R -c 'selec 1' 2>&1)"

# stdin: SQL and Lua lines mixed
check "stdin still runs Lua" "42" "$(echo 'x = 40 print(x + 2)' | R)"
check "stdin Lua chunk keeps locals" "3" \
  "$(printf 'local a = 1\nlocal b = 2\nprint(a + b)\n' | R)"

check "stdin mixes SQL and Lua" "CREATE TABLE
INSERT 0 1
 x
---
 7
(1 row)
7" "$(printf '%s\n' 'create table t (x int);' 'insert into t values (7);' \
    'select x' '  from t;' \
    'local c = engine:connect()' \
    'print(c:exec_driver_sql("select x from t"):scalar())' | R)"

# an SQL file as SQL files are written: block comments before statements,
# and a comment alone between them and Lua
check "stdin reads an SQL file that opens with block comments" "CREATE TABLE
INSERT 0 1
1" "$(printf '%s\n' '' '/*****************' '   A script' '******************/' \
    '/* tables */' 'create table c (x int);' '/* rows */ insert into c values (1);' \
    '/* done */' 'print(engine:connect():exec_driver_sql("select x from c"):scalar())' | R)"

check "several statements on a line" "CREATE TABLE
INSERT 0 1
INSERT 0 1
 n
---
 2
(1 row)" "$(echo 'create table t (x); insert into t values (1); insert into t values (2); select count(*) as n from t;' | R)"

check "semicolons in strings and comments" "  a  |  b
-----+-----
 x;y | ;--
(1 row)" "$(printf '%s\n' "select 'x;y' as a, -- a comment; still the statement" \
    "  /* ; */ ';--' as b;" | R)"

check "a Lua long string is not SQL" "select * from t;
x" "$(printf '%s\n' 'local s = [[' 'select * from t;' ']]' 'print(s .. "x")' | R)"

check "BEGIN ... ROLLBACK leaves no rows" "BEGIN
INSERT 0 1
ROLLBACK
 n
---
 3
(1 row)" "$(printf '%s\n' 'begin;' "insert into users (name) values ('carol');" \
    'rollback;' 'select count(*) as n from users;' | R "$db")"

check "without BEGIN each statement commits" " n
---
 4
(1 row)" "$(echo "insert into users (name) values ('dave');" | R "$db" >/dev/null;
    R "$db" -c 'select count(*) as n from users')"

check "BEGIN ... COMMIT keeps them" " n
---
 6
(1 row)" "$(printf '%s\n' 'BEGIN;' "insert into users (name) values ('e');" \
    "insert into users (name) values ('f');" 'COMMIT;' | R "$db" >/dev/null;
    R "$db" -c 'select count(*) as n from users')"

printf '%s\n' 'select 1 as a;' 'select * from nope;' 'print("not reached")' |
  R >"$tmp/out" 2>"$tmp/err"; rc=$?
check "stdin SQL error exits 1" "1" "$rc"
check "stdin SQL error stops the run" " a
---
 1
(1 row)" "$(cat "$tmp/out")"
check "stdin SQL error message" "ERROR:  no such table: nope" "$(cat "$tmp/err")"

check "an error inside BEGIN rolls back" "ERROR:  no such table: nope
The transaction was rolled back." \
  "$(printf '%s\n' 'begin;' "insert into users (name) values ('g');" \
     'select * from nope;' | R "$db" 2>&1 >/dev/null)"
check "... and nothing was kept" " n
---
 6
(1 row)" "$(R "$db" -c 'select count(*) as n from users')"

check "an unfinished statement at the end still runs" " 1
---
 1
(1 row)" "$(printf 'select\n1' | R)"

# backslash commands from a pipe
check "\\f csv and \\x (quietly, from a pipe)" "a,b
1,2
-[ RECORD 1 ]
a | 1
b | 2
(1 row)" "$(printf '%s\n' '\f csv' 'select 1 as a, 2 as b;' '\f table' '\x' \
    'select 1 as a, 2 as b;' | R)"

check "\\x after \\x auto turns it off, as psql's" " a
---
 1
(1 row)" "$(printf '%s\n' '\x auto' '\x' 'select 1 as a;' | R)"

check "\\timing" "yes" "$(printf '%s\n' '\timing on' 'select 1;' | R |
  grep -Eq '^Time: [0-9]+\.[0-9]{3} ms$' && echo yes)"

check "\\limit caps only a terminal's table" " x
---
 1
 2
 3
(3 rows)" "$(printf '%s\n' '\limit 2' \
  'select 1 as x union all select 2 union all select 3;' | R)"

check "\\limit does not cap csv" "x
1
2
3" "$(printf '%s\n' '\limit 2' '\f csv' \
  'select 1 as x union all select 2 union all select 3;' | R)"

printf '%s\n' "\\o $tmp/o.txt" "select 'to the file' as v;" '\o' \
  "select 'back' as v;" | R >"$tmp/out"
check "\\o writes results to a file" "      v
-------------
 to the file
(1 row)" "$(cat "$tmp/o.txt")"
check "\\o with no file goes back to stdout" "  v
------
 back
(1 row)" "$(cat "$tmp/out")"

printf '%s\n' 'create table k (v text);' "insert into k values ('a;b');" \
  "insert into k values ('c');" > "$tmp/script.sql"
printf '%s\n' 'print("from lua", engine.dialect.name)' > "$tmp/script.lua"
check "\\i runs SQL and Lua files" "CREATE TABLE
INSERT 0 1
INSERT 0 1
from lua	sqlite
 n
---
 2
(1 row)" "$(printf '%s\n' "\\i $tmp/script.sql" "\\i $tmp/script.lua" \
    'select count(*) as n from k;' | R)"

printf "%s\n" 'select 1 as a;' '\f csv' 'select' '  2 as b' '\echo off' ';' \
  "select '" '\dt' "' as s;" 'select 3 as c' >"$tmp/cmds.sql"
check "\\i runs a file's backslash commands where they stand, as psql's" " a
---
 1
(1 row)
b
2
s
\"
\\dt
\"
c
3" "$(R -c "\\i $tmp/cmds.sql")"

check "\\i: a missing file says why" \
  "\\i: cannot read $tmp/none.sql: No such file or directory" \
  "$(R -c "\\i $tmp/none.sql" 2>&1)"
check "\\i: a directory is not read as an empty file" \
  "\\i: cannot read $tmp: Is a directory" "$(R -c "\\i $tmp" 2>&1)"

check "\\c NAME on SQLite: that database file" \
  "You are now connected to sqlite:///$tmp/other.db.
$tmp/other.db" "$(printf '%s\n' "\\c $tmp/other.db;" 'print(engine.url.database)' |
    R "sqlite:///$tmp/t.db")"

R "$db" -c 'CREATE TABLE "Odd.Name" (a INTEGER)' >/dev/null
check "\\d takes psql's quoted names" 'Table "users"
Table "Odd.Name"' "$(R "$db" -c '\d "users"' -c '\d "Odd.Name"' |
  sed -n 's/^ *Table/Table/p')"

check "backslash commands in a file with CRLF line ends" "a
1
Name,Type" "$(printf '\\f csv\r\nselect 1 as a;\r\n\\dt\r\n' | R)"

# a session that has only read holds no lock (BEGIN waits for a write, as
# with SQLAlchemy's pysqlite); one that has written holds the file
check "SQL at the prompt writes after the session read" "DROP TABLE
0" \
  "$(printf '%s\n' 'CREATE TABLE rd (x INTEGER);' \
    'session:execute(text("select * from rd")):all()' 'DROP TABLE rd;' \
    'print(#session:execute(text("select name from sqlite_master")):all())' |
    R "sqlite:///$tmp/rd.db" 2>&1 | tail -2)"
printf '%s\n' 'CREATE TABLE lk (x INTEGER);' 'session:execute(text("insert into lk values (1)"))' \
  'DROP TABLE lk;' | R "sqlite:///$tmp/lk.db" >/dev/null 2>"$tmp/err"
check "SQLite's database is locked says who may hold it" "ERROR:  database is locked
HINT:  another connection holds the database file in a transaction: the session's" \
  "$(head -2 "$tmp/err")"

check "\\d lists check constraints, as psql's does" "Check constraints:
    CHECK (n >= 0)" "$(R "sqlite:///$tmp/ck.db" -c 'create table ck (n int check (n >= 0))' \
    -c '\d ck' | sed -n '/^Check/,$p')"

check "unknown command" "invalid command \\nope: try \\? for help" \
  "$(printf '%s\n' '\nope' | R 2>&1)"
check "\\? lists commands" "yes" \
  "$(printf '%s\n' '\?' | R | grep -q '\\watch' && echo yes)"
check "\\q stops" "1" "$(printf '%s\n' 'print(1)' '\q' 'print(2)' | R)"

check "\\echo on logs statements" "INFO retort.engine.Engine select 1 as a
INFO retort.engine.Engine [raw sql] ()
 a
---
 1
(1 row)" "$(printf '%s\n' '\echo on' 'select 1 as a;' | R)"

check "a Lua list of Rows prints as a table (script print unchanged)" \
  "(1, 'x')" "$(R -e 'print(engine:connect():exec_driver_sql("select 1, ?", {"x"}):one())')"

# the same on the servers, when there are servers
server_checks() { # name url
  n=$1
  u=$2
  R "$u" -c 'drop table if exists rt_shell_t' >/dev/null 2>&1
  check "$n: -c table" "CREATE TABLE
INSERT 0 2
 id | name
----+------
  1 | a
  2 | NULL
(2 rows)
DROP TABLE" "$(R "$u" -c "create table rt_shell_t (id int primary key, name varchar(10));
    insert into rt_shell_t values (1, 'a'), (2, NULL);
    select * from rt_shell_t order by id; drop table rt_shell_t")"
  check "$n: -f json" '[
{"n": 1, "s": "x;y"}
]' "$(R "$u" -f json -c "select 1 as n, 'x;y' as s")"
  check "$n: -f csv" 'n,s
1,"a,b"' "$(R "$u" -f csv -c "select 1 as n, 'a,b' as s")"
  check "$n: BEGIN ... ROLLBACK" " n
---
 0
(1 row)" "$(printf '%s\n' 'create table rt_shell_t (id int);' 'begin;' \
      'insert into rt_shell_t values (1);' 'rollback;' \
      'select count(*) as n from rt_shell_t;' 'drop table rt_shell_t;' |
      R "$u" | sed -n '/^ n$/,/^(/p')"
  R "$u" -c 'select nope from nowhere' >/dev/null 2>"$tmp/err"; rc=$?
  check "$n: error exits 1" "1" "$rc"
  check "$n: error message" "ERROR:" "$(head -1 "$tmp/err" | cut -c1-6)"
}
if [ -n "${RETORT_TEST_PG:-}" ]; then
  server_checks postgresql "$RETORT_TEST_PG"
  check "postgresql: \\d names its check constraints" 'Check constraints:
    "pos" CHECK (n > 0)' "$(R "$RETORT_TEST_PG" -c 'drop table if exists rt_ck' \
      -c 'create table rt_ck (n int constraint pos check (n > 0))' -c '\d rt_ck' \
      -c 'drop table rt_ck' | sed -n '/^Check/,/^    /p')"
  check "postgresql: START TRANSACTION and TRUNCATE tags are the server's" \
    "START TRANSACTION
TRUNCATE TABLE
ROLLBACK" "$(R "$RETORT_TEST_PG" -c 'create table if not exists rt_tag_t (a int)' \
      -c 'start transaction; truncate rt_tag_t; rollback' -c 'drop table rt_tag_t' |
      sed -n 2,4p)"
  check "postgresql: \\c NAME; (psql's form) keeps the server, takes the database" \
    "retort_test postgres" \
    "$(printf '%s\n' '\c template1;' '\c retort_test;' \
        'print(engine.url.database, engine.url.username)' | R "$RETORT_TEST_PG" |
       tail -1 | tr '\t' ' ')"
  check "postgresql: dollar quotes" "  s
-----
 a;b
(1 row)" "$(printf '%s\n' 'select $$a;b$$ as s;' | R "$RETORT_TEST_PG")"
  check "postgresql: error position, once" "ERROR:  column \"nope\" does not exist
LINE 2:   nope from pg_class
          ^" "$(R "$RETORT_TEST_PG" -c 'select 1,
  nope from pg_class' 2>&1)"
fi
if [ -n "${RETORT_TEST_MYSQL:-}" ]; then
  server_checks mysql "$RETORT_TEST_MYSQL"
  check "mysql: backticks" " a;b
-----
   1
(1 row)" "$(printf '%s\n' 'select 1 as `a;b`;' | R "$RETORT_TEST_MYSQL")"
fi

finish
