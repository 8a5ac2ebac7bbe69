#!/bin/sh
# What a psql user expects of the shell's output: \x records and tables
# drawn as psql draws them (rule widths, multi-line values, tabs, wide
# characters), nested JSON in the json format, PostgreSQL arrays, the
# server's notices on stderr, \timing; at a terminal, RowMappings and
# database errors at the prompt.  SQLite always; PostgreSQL when
# RETORT_TEST_PG names a server, compared with psql itself when it is
# installed.
#   test_psql.sh RETORT
RETORT=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
. "$(dirname "$0")/lib.sh"
export TERM=xterm PAGER=

R() { "$RETORT" --norc "$@"; }

# --- records (\x, -f vertical) ---

check "records: one rule width for the whole result, + where | falls" \
  "-[ RECORD 1 ]---
name | AC/DC
-[ RECORD 2 ]---
name | Aerosmith
(2 rows)" "$(R -f vertical -c "select 'AC/DC' as name union all select 'Aerosmith'")"

check "records: a multi-line value padded to the widest and marked +" \
  "-[ RECORD 1 ]------------
a           | 1
longer_name | hello world
m           | two        +
            | lines
(1 row)" "$(R -f vertical -c "select 1 as a, 'hello world' as longer_name, 'two' || char(10) || 'lines' as m")"

check "records: the values' column reaches the title's width" \
  "-[ RECORD 1 ]
x | a       +
  | bb      +
  | ccc
(1 row)" "$(R -f vertical -c "select 'a' || char(10) || 'bb' || char(10) || 'ccc' as x")"

check "records: ten rows make the title a digit wider" \
  "-[ RECORD 9 ]-
x | ab
-[ RECORD 10 ]
x | ab
(10 rows)" "$(R -f vertical -c "with recursive n(i) as (select 1 union all select i + 1 from n where i < 10) select 'ab' as x from n" | tail -5)"

# --- tables ---

check "table: a multi-line value's + takes the space before |" \
  " a |    b
---+----------
 x+| line1   +
 y | line two
(1 row)" "$(R -c "select 'x' || char(10) || 'y' as a, 'line1' || char(10) || 'line two' as b")"

check "table: a tab is spaces to the next multiple of 8" \
  "         t
-------------------
 a       b
 abcdefgh        c
(2 rows)" "$(R -c "select 'a' || char(9) || 'b' as t union all select 'abcdefgh' || char(9) || 'c'")"

# 日本 is two wide characters; e and a combining accent take one column
check "table: wide and combining characters keep the alignment" \
  "  x   | y  | n
------+----+----
 日本 | $(printf 'e\314\201b') |  1
 a    | z  | 10
(2 rows)" "$(R -c "select '日本' as x, 'e' || char(769) || 'b' as y, 1 as n union all select 'a', 'z', 10")"

# --- json ---

db="sqlite:///$tmp/j.db"
R "$db" -c "create table j (id integer primary key, d JSON);
  insert into j (d) values ('{\"a\": [1, 2, {\"b\": null}]}'), ('not json'),
  ('\"s\"'), ('3'), (NULL)" >/dev/null
check "-f json: a JSON column's JSON is nested, other text a string" \
  '[
{"id": 1, "d": {"a": [1, 2, {"b": null}]}},
{"id": 2, "d": "not json"},
{"id": 3, "d": "s"},
{"id": 4, "d": 3},
{"id": 5, "d": null}
]' "$(R "$db" -f json -c 'select id, d from j order by id')"

# --- at a terminal ---

cat >"$tmp/model.lua" <<'EOF'
local Base = orm.declarative_base()
User = Base:class "User" {__tablename__ = "users",
  id = Column(Integer, {primary_key = true}),
  name = Column(String(30), {nullable = false}),
  note = Column(Text)}
Base.metadata:create_all(engine)
session:add_all({User{name = "alice"}, User{name = "bob", note = "hi"}})
session:commit()
users = User.__table__
EOF

T new-session -d -s rt -x 120 -y 50 "$RETORT --norc sqlite:///$tmp/t.db"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
enter "dofile('$tmp/model.lua')"

clear_screen
enter "session:execute(select(users):order_by(users.c.id)):mappings():all()"
check "a list of RowMappings is a table, columns in order" \
  " id | name  | note
----+-------+------
  1 | alice | NULL
  2 | bob   | hi
(2 rows)" "$(after 'retort> session:execute(select(users)')"

# a legacy Query's unlabelled function has no key (SQLAlchemy's
# Row._fields leaves it out) but is still a column of the table, headed
# as psql heads an unnamed one
clear_screen
enter "session:query(User.name, func.length(User.name)):order_by(User.id):all()"
check "a list of Rows shows a column that has no key" \
  " name  | ?column?
-------+----------
 alice |        5
 bob   |        3
(2 rows)" "$(after 'retort> session:query(User.name')"

clear_screen
enter "session:query(User, func.length(User.name)):order_by(User.id):all()"
check "ORM rows too: the object and the column with no key" \
  "                User                 | ?column?
-------------------------------------+----------
 User(id=1, name='alice', note=None) |        5
 User(id=2, name='bob', note='hi')   |        3
(2 rows)" \
  "$(after 'retort> session:query(User, func.length')"

clear_screen
enter "session:execute(select(users):order_by(users.c.id)):mappings():first()"
check "a RowMapping prints as SQLAlchemy's repr" \
  "{'id': 1, 'name': 'alice', 'note': None}" \
  "$(after 'retort> session:execute(select(users)')"

clear_screen
enter "session:execute(select(User.name, User):order_by(User.id)):mappings():all()"
check "ORM RowMappings: a column per entity" \
  " name  |                User
-------+-------------------------------------
 alice | User(id=1, name='alice', note=None)
 bob   | User(id=2, name='bob', note='hi')
(2 rows)" "$(after 'retort> session:execute(select(User.name, User)')"

clear_screen
enter "session:execute(select(users):order_by(users.c.id)):first()._mapping"
check "row._mapping prints as a RowMapping" \
  "{'id': 1, 'name': 'alice', 'note': None}" \
  "$(after 'retort> session:execute(select(users)')"

clear_screen
enter "session:execute(select(users):order_by(users.c.id)):first()"
check "a Row prints as its repr" "(1, 'alice', None)" \
  "$(after 'retort> session:execute(select(users)')"

clear_screen
enter "session:execute(select(users.c.name):order_by(users.c.id)):mappings()"
check "a MappingResult is a table" " name
-------
 alice
 bob
(2 rows)" "$(after 'retort> session:execute(select(users.c.name)')"

clear_screen
enter "session:execute(select(users.c.name):order_by(users.c.id)):scalars()"
check "a ScalarResult is a one-column table" " name
-------
 alice
 bob
(2 rows)" "$(after 'retort> session:execute(select(users.c.name)')"

clear_screen
enter "c = engine:connect()"
enter "c:exec_driver_sql('select nope from users')"
check "a database error at the prompt: its message, no traceback" \
  "(OperationalError) no such column: nope
[SQL: select nope from users]" "$(after "retort> c:exec_driver_sql('select nope")"
clear_screen
enter "c:exec_driver_sql('select count(*) from users'):scalar()"
check "and the connection is still usable" "2" \
  "$(after "retort> c:exec_driver_sql('select count")"
clear_screen
enter "error('boom')"
check "a Lua error still has its traceback" "stdin:1: boom
stack traceback:" "$(after "retort> error('boom')" | head -2)"
kill_tmux

# --- PostgreSQL ---

if [ -n "${RETORT_TEST_PG:-}" ]; then
  PG=$RETORT_TEST_PG

  check "notices go to stderr as psql prints them" \
    'NOTICE:  table "rt_nothere" does not exist, skipping
DROP TABLE' "$(R "$PG" -c 'drop table if exists rt_nothere' 2>&1)"
  check "RAISE NOTICE and WARNING" "NOTICE:  hi
WARNING:  careful
DO" "$(R "$PG" -c "do \$\$ begin raise notice 'hi'; raise warning 'careful'; end \$\$" 2>&1)"
  # (the module loaded by another program never prints: test_notices.sh)
  check "and so are those of Lua's statements, as psql shows any" 'NOTICE:  table "rt_nothere" does not exist, skipping
NOTICE:  hi
done' \
    "$(R "$PG" -e "local c = engine:connect()
      c:exec_driver_sql('drop table if exists rt_nothere')
      c:exec_driver_sql([[do \$\$ begin raise notice 'hi'; end \$\$]])
      print('done')" 2>&1)"

  q="select array[1,2,NULL] as a, array['x','y,z',NULL,'q\"'] as t,
    '{\"a\": [1, 2, {\"b\": null}]}'::jsonb as j, '\"s\"'::json as s,
    array[[1,2],[3,4]] as m, array['{\"x\": 1}'::jsonb] as ja,
    array[1.5, 2]::numeric[] as n, array[true, false] as b,
    '{}'::int[] as e"
  check "-f json: arrays and JSON values nested" \
    '[
{"a": [1, 2, null], "t": ["x", "y,z", null, "q\""], "j": {"a": [1, 2, {"b": null}]}, "s": "s", "m": [[1, 2], [3, 4]], "ja": [{"x": 1}], "n": [1.5, 2], "b": [true, false], "e": []}
]' "$(R "$PG" -f json -c "$q")"
  check "-f csv: arrays as psql prints them" \
    'a,t,j,s,m,ja,n,b,e
"{1,2,NULL}","{x,""y,z"",NULL,""q\""""}","{""a"": [1, 2, {""b"": null}]}","""s""","{{1,2},{3,4}}","{""{\""x\"": 1}""}","{1.5,2}","{t,f}",{}' \
    "$(R "$PG" -f csv -c "$q")"

  check "\\timing from a second on: (mm:ss.fff) too" "yes" \
    "$(printf '%s\n' '\timing on' 'select pg_sleep(1);' | R "$PG" |
      grep -Eq '^Time: 1[0-9]{3}\.[0-9]{3} ms \(00:01\.[0-9]{3}\)$' && echo yes)"

  # the same output as psql's, where psql is at hand
  if command -v psql >/dev/null 2>&1; then
    psql_out() { psql -X -q -P null=NULL "$@" "$PG" 2>&1 | sed -e 's/ *$//' -e '/^$/d'; }
    for sql in \
      "select 1 as a, 'hello world' as longer_name, E'two\\nlines' as m, 12.5 as num" \
      "select 'a' as abcdefghijklmnopqrst, 'x' as b from generate_series(1, 2)" \
      "select E'a\\nbb\\nccc' as x, 'hello' as y" \
      "select 'ab' as x from generate_series(1, 10)" \
      "select '日本語' as x, E'a\\u0301b' as y, 1 as n" \
      "select E'a\\tb' as t, E'日\\tx\\n\\ty' as u" \
      "select 1.5::numeric as a, -2 as b, 3.25::float8 as c, 'x' as d union all select 10, 200, NULL, NULL" \
      "select array[1,2] as a, '{\"k\": [1, 2]}'::jsonb as j"; do
      check "table as psql: $sql" "$(psql_out -c "$sql")" "$(R "$PG" -c "$sql")"
      check "\\x as psql: $sql" "$(psql_out -x -c "$sql")" \
        "$(R "$PG" -f vertical -c "$sql" | sed '$d')"
    done
  fi

  # Lua values: arrays and JSON arrive as Lua tables
  T new-session -d -s rt -x 150 -y 50 "$RETORT --norc $PG"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
  enter "c = engine:connect()"
  enter "q = [[select array[1,2,NULL] as a, array['x y','z'] as t, '{\"a\": [1, 2], \"é\": \"ü\"}'::jsonb as j, '[1, 2]'::json as l]]"
  clear_screen
  enter "c:exec_driver_sql(q)"
  check "a Result's arrays as psql prints them, JSON as JSON" \
    "     a      |     t     |            j            |   l
------------+-----------+-------------------------+--------
 {1,2,NULL} | {\"x y\",z} | {\"a\": [1, 2], \"é\": \"ü\"} | [1, 2]
(1 row)" "$(after 'retort> c:exec_driver_sql(q)')"
  enter '\f json'
  clear_screen
  enter "c:exec_driver_sql(q):all()"
  check "a list of Rows in json: arrays and JSON nested" \
    '[
{"a": [1, 2, null], "t": ["x y", "z"], "j": {"a": [1, 2], "é": "ü"}, "l": [1, 2]}
]' "$(after 'retort> c:exec_driver_sql(q):all()')"
  enter '\f table'
  enter "c:exec_driver_sql('create temporary table ins_t (id serial primary key, x int)')"
  enter "ins_t = Table('ins_t', MetaData(), Column('id', Integer, {primary_key = true}), Column('x', Integer))"
  clear_screen
  enter "c:execute(insert(ins_t):values{x = 1})"
  check "an INSERT's implicit RETURNING prints as the Result, not as rows" \
    "<Result object at" \
    "$(after 'retort> c:execute(insert(ins_t)' | cut -c1-17)"
  clear_screen
  enter "c:execute(insert(ins_t):values{x = 2}:returning(ins_t.c.id))"
  check "an INSERT ... RETURNING asked for prints its rows" \
    " id
----
  2
(1 row)" "$(after 'retort> c:execute(insert(ins_t)')"
  clear_screen
  enter "session:execute(text('select nope'))"
  enter "session:execute(text('select 1'))"
  check "an aborted transaction: the error, and how to end it" \
    "(InternalError) current transaction is aborted, commands ignored until end of transaction block
[SQL: select 1]
HINT:  an earlier statement of this transaction failed: session:rollback()
(or the Connection's rollback()) ends it." \
    "$(after "retort> session:execute(text('select 1'))")"
  enter "session:rollback()"
  clear_screen
  enter "session:execute(text('select 41 + 1')):scalar()"
  check "after session:rollback() the session works" "42" \
    "$(after "retort> session:execute(text('select 41")"
  kill_tmux
fi

finish
