#!/bin/sh
# What the shell shows and keeps, at a real terminal (tmux) and through
# pipes: mapped objects, ORM rows and ORM results as tables; \o to a file
# and to a command; passwords masked in the history file and \history.
#   test_display.sh RETORT
RETORT=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
. "$(dirname "$0")/lib.sh"
export TERM=xterm PAGER=



cat >"$tmp/model.lua" <<'EOF'
local Base = orm.declarative_base()
User = Base:class "User" {__tablename__ = "users",
  id = Column(Integer, {primary_key = true}),
  name = Column(String(30), {nullable = false}),
  note = Column(Text), score = Column(Integer)}
Base.metadata:create_all(engine)
session:add_all({User{name = "alice", score = 10},
                 User{name = "bob", note = "", score = 7},
                 User{name = "carol", note = "hi", score = 12}})
session:commit()
EOF

T new-session -d -s rt -x 120 -y 50 "$RETORT --norc sqlite:///$tmp/t.db"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
enter "dofile('$tmp/model.lua')"

# Tab after a mapped class and after a Table's .c: their attributes
T send-keys -t rt -l "User.sc"
T send-keys -t rt Tab
wait_last "retort> User.score"
check "Tab completes a mapped class's attribute" "retort> User.score" "$(screen | tail -1)"
T send-keys -t rt C-u
T send-keys -t rt -l "User.__table__.c.no"
T send-keys -t rt Tab
wait_last "retort> User.__table__.c.note"
check "Tab completes a column after .c." "retort> User.__table__.c.note" "$(screen | tail -1)"
T send-keys -t rt C-u

# echo shows that printing a list of loaded objects reads nothing
clear_screen
enter "users = session:scalars(select(User):order_by(User.id)):all()"
enter "engine.echo = true"
clear_screen
enter "users"
check "a list of mapped objects is a table of their columns, no SQL" \
  " id | name  | note | score
----+-------+------+-------
  1 | alice | NULL |    10
  2 | bob   |      |     7
  3 | carol | hi   |    12
(3 rows)" "$(after 'retort> users')"
enter "engine.echo = false"

clear_screen
enter "session:expire(users[2])"
enter "engine.echo = true"
clear_screen
enter "{users[2], users[3]}"
check "an expired object: its identity, the rest blank, no SQL" \
  " id | name  | note | score
----+-------+------+-------
  2 |       |      |
  3 | carol | hi   |    12
(2 rows)" "$(after 'retort> {users[2], users[3]}')"
enter "engine.echo = false"

clear_screen
enter "session:query(User):filter(User.score:gt(8)):order_by(User.id):all()"
check "Query:all() prints as a table" " id | name  | note | score
----+-------+------+-------
  1 | alice | NULL |    10
  3 | carol | hi   |    12
(2 rows)" "$(after 'retort> session:query(User)')"

clear_screen
enter "session:scalars(select(User):where(User.id:eq(3)))"
check "an ORM result of objects prints as a table" " id | name  | note | score
----+-------+------+-------
  3 | carol | hi   |    12
(1 row)" "$(after 'retort> session:scalars(')"

clear_screen
enter "session:execute(select(User.name, User):order_by(User.id)):all()"
check "ORM rows: a column per entity, an object as its repr" \
  " name  |                     User
-------+-----------------------------------------------
 alice | User(id=1, name='alice', note=None, score=10)
 bob   | User(id=2, name='bob', note='', score=7)
 carol | User(id=3, name='carol', note='hi', score=12)
(3 rows)" "$(after 'retort> session:execute(select(User.name, User)')"

clear_screen
enter "session:scalars(select(User):where(User.id:gt(10)))"
check "an empty ORM result still has its header" " id | name | note | score
----+------+------+-------
(0 rows)" "$(after 'retort> session:scalars(select(User):where(User.id:gt(10)))')"

# a ScalarResult of values is a one-column table, NULLs shown as NULL
# (the empty string is a blank line, which screen leaves out)
clear_screen
enter "session:scalars(select(User.note):order_by(User.id))"
check "session:scalars of a column is a one-column table" " note
------
 NULL
 hi
(3 rows)" "$(after 'retort> session:scalars(select(User.note)')"
clear_screen
enter "c = engine:connect()"
enter "c:execute(select(User.name, User.score):order_by(User.id)):scalars(2)"
check "Result:scalars(2) on a connection: the second column" " score
-------
    10
     7
    12
(3 rows)" "$(after 'retort> c:execute(select(User.name, User.score)')"
clear_screen
enter "c:execute(select(User.note):where(User.id:gt(10))):scalars()"
check "an empty ScalarResult still has its header" " note
------
(0 rows)" "$(after 'retort> c:execute(select(User.note):where(')"
clear_screen
enter "c:execute(select(User.name, User.score):where(User.id:lt(3))):mappings()"
check "a MappingResult prints as a table too" " name  | score
-------+-------
 alice |    10
 bob   |     7
(2 rows)" "$(after 'retort> c:execute(select(User.name, User.score):where(User.id:lt(3)))')"
enter "c:close()"

# a NUMERIC comes to Lua as a decimal string: still a number to align
enter "session:close()"
enter "CREATE TABLE prices (item TEXT, price NUMERIC(10, 2));"
enter "INSERT INTO prices VALUES ('tea', 1.5), ('cake', 12.25);"
clear_screen
enter "engine:connect():execute(text('select * from prices order by item'))"
check "a Result's NUMERIC column is right-aligned" " item | price
------+-------
 cake | 12.25
 tea  |   1.5
(2 rows)" "$(after "retort> engine:connect():execute(text('select * from")"

clear_screen
enter "User{name = 'new'}"
check "one object prints as its repr" "User(name='new')" \
  "$(after "retort> User{name = 'new'}")"

# \timing times Lua input too, its values printed first
clear_screen
enter "\\timing on"
enter "20 + 22"
check "\\timing after a Lua expression" "yes" \
  "$(after 'retort> 20 + 22' | tr '\n' ' ' | grep -q '^42 Time: [0-9]*\.[0-9][0-9][0-9] ms $' && echo yes)"
enter "\\timing off"

# \watch re-runs the last input, Lua too, until Ctrl-C
clear_screen
enter "session:scalars(select(User):where(User.id:eq(3)))"
T send-keys -t rt -l '\watch 0.2'
T send-keys -t rt Enter
sleep 1
T send-keys -t rt C-c
# the prompt, on a line of its own or after the ^C that stopped the query
wait_grep 'retort>$'
check "\\watch repeats a Lua query" "yes" \
  "$([ "$(screen | grep -c '^  3 | carol | hi   |    12$')" -ge 4 ] && echo yes)"
# Ctrl-C while \watch waits (a long interval, the key sent once the first
# result is on the screen: not while the query runs, which is an interrupt
# of the query itself)
clear_screen
T send-keys -t rt -l '\watch 30'
T send-keys -t rt Enter
for _ in $(seq 50); do
  screen | grep -q '^  3 | carol | hi   |    12$' && break
  sleep 0.1
done
sleep 0.3
T send-keys -t rt C-c
wait_last "retort>"
check "\\watch: Ctrl-C, then the prompt on a line of its own" "^C
retort>" "$(screen | tail -2)"
# Ctrl-C at any moment of a fast \watch (the query, its table of 300 rows,
# the wait) ends it and never the shell
survived=0
enter "\\limit 300"
for delay in 0.05 0.13 0.21 0.34 0.45 0.55 0.62 0.8; do
  clear_screen
  enter "session:execute(text('with recursive n(i) as (select 1 union all select i + 1 from n where i < 400) select i from n')):all()"
  T send-keys -t rt -l '\watch 0.001'
  T send-keys -t rt Enter
  sleep $delay
  T send-keys -t rt C-c
  wait_last "retort>" && survived=$((survived + 1))
done
check "\\watch: Ctrl-C at random moments, the shell goes on" 8 "$survived"
enter "\\limit 1000"

# \o |COMMAND at the terminal: \o waits for the command to finish
clear_screen
enter "\\o |tr a-z A-Z >$tmp/upper.txt"
enter "select name from users order by id;"
enter "\\o"
enter "select 1 as back;"
check "\\o |COMMAND pipes results" " NAME
-------
 ALICE
 BOB
 CAROL
(3 ROWS)" "$(cat "$tmp/upper.txt")"
check "\\o goes back to the terminal" " back
------
    1
(1 row)" "$(after 'retort> select 1 as back;')"

# the history file masks passwords; this session's history keeps them
clear_screen
enter "x = 'postgresql://scott:tiger@db.example/test'"
enter "\\c mysql://root:hunter2@/nope?unix_socket=$tmp/none"
enter "u = {password = 's3cret'}"
clear_screen
enter "\\history"
screen >"$tmp/screen.txt"
hist="$tmp/state/retort/history"
check "the history file masks passwords" "yes" \
  "$(grep -q "^x = 'postgresql://scott:\*\*\*@db.example/test'$" "$hist" &&
    grep -q '^\\c mysql://root:\*\*\*@/nope' "$hist" &&
    grep -q "^u = {password = '\*\*\*'}$" "$hist" &&
    ! grep -q 'tiger\|hunter2\|s3cret' "$hist" && echo yes)"
check "\\history shows them masked" "yes" \
  "$(grep -q "x = 'postgresql://scott:\*\*\*@db.example" "$tmp/screen.txt" &&
    ! grep -q 'tiger\|s3cret' "$tmp/screen.txt" && echo yes)"
clear_screen
T send-keys -t rt Up Up Up Up
sleep 0.3
check "Up recalls the line as typed" \
  "retort> x = 'postgresql://scott:tiger@db.example/test'" "$(screen | tail -1)"
T send-keys -t rt C-u
T send-keys -t rt -l '\q'
T send-keys -t rt Enter
i=0
while T has-session -t rt 2>/dev/null && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
kill_tmux

# --- through pipes ---

printf '%s\n' "\\o $tmp/out.txt" 'select 1 as x;' '\o |sed s/^/P:/' \
  '\f csv' 'select 2 as y;' '\o' 'select 1 as z;' |
  "$RETORT" --norc >"$tmp/stdout.txt"
check "\\o FILE writes to the file" " x
---
 1
(1 row)" "$(cat "$tmp/out.txt")"
check "then \\o |COMMAND to the command, then \\o to stdout" "P:y
P:2
z
1" "$(cat "$tmp/stdout.txt")"
check "\\o |COMMAND: the command's output first" "P:y
P:2
z
1" "$(printf '%s\n' '\f csv' '\o |sed s/^/P:/' 'select 2 as y;' '\o' \
  'select 1 as z;' | "$RETORT" --norc)"
check "\\o |COMMAND that quits early: the rest is not read, the shell goes on" \
  "i
1
2
The output was closed: the rest of the result was not read.
z
5" "$(printf '%s\n' '\f csv' '\o |head -3' \
  'with recursive n(i) as (select 1 union all select i + 1 from n) select i from n;' \
  '\o' 'select 5 as z;' | timeout 20 "$RETORT" --norc 2>&1)"
check "\\o |: a command is needed" "\\o |: which command?" \
  "$(printf '%s\n' '\o |' | "$RETORT" --norc 2>&1)"
check "\\o: a file that cannot be written" "\\o: cannot open $tmp/no/such/dir: No such file or directory" \
  "$(printf '%s\n' "\\o $tmp/no/such/dir" | "$RETORT" --norc 2>&1)"

# csv and json stream: the first rows of an endless result come out
check "csv streams an endless result" "i
1
2" "$(timeout 20 "$RETORT" --norc -f csv -c \
  'with recursive n(i) as (select 1 union all select i + 1 from n) select i from n' |
  head -3)"
check "json streams an endless result" '[
{"i": 1},
{"i": 2},' "$(timeout 20 "$RETORT" --norc -f json -c \
  'with recursive n(i) as (select 1 union all select i + 1 from n) select i from n' |
  head -3)"
check "a table for a program comes in chunks of 1000 rows" "  i
------
    1" "$(timeout 20 "$RETORT" --norc -c \
  'with recursive n(i) as (select 1 union all select i + 1 from n) select i from n' |
  head -3)"

finish
