#!/bin/sh
# SQL at a real terminal (tmux): the continuation prompt, rendered tables,
# errors, transactions, Results printed from Lua, NULL markers, the pager,
# \x auto, \e and \watch.
#   test_repl_sql.sh RETORT
RETORT=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
. "$(dirname "$0")/lib.sh"
export TERM=xterm
# a pager that marks what went through it
export PAGER="sed s/^/P:/"

# type lines literally, each followed by Enter (tmux takes an argument
# ending in `;` for a command separator, so that `;` goes as a byte)
typeline() {
  for l in "$@"; do
    case $l in
    *\;)
      T send-keys -t rt -l "${l%;}"
      T send-keys -t rt -H 3b
      ;;
    *) T send-keys -t rt -l "$l" ;;
    esac
    T send-keys -t rt Enter
  done
}

# type lines, then wait until $1 more main prompts show (the input ran)
enter() {
  want=$1
  shift
  alive
  before=$(prompts)
  typeline "$@"
  i=0
  while [ "$(prompts)" -lt $((before + want)) ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
}


T new-session -d -s rt -x 100 -y 30 "$RETORT --norc sqlite:///$tmp/t.db"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }

enter 1 "create table users (id integer primary key, name text);"
check "CREATE prints its tag" "CREATE TABLE" "$(screen | tail -2 | head -1)"

typeline "insert into users (name)"
wait_last "   ...>"
check "unfinished SQL continues" "   ...>" "$(screen | tail -1)"
typeline "  values ('alice'), ('bob'),"
wait_last "   ...>"
enter 1 "  (NULL);"
check "multi-line INSERT" "INSERT 0 3" "$(screen | tail -2 | head -1)"

clear_screen
enter 1 "SELECT id, name" "  FROM users" "  ORDER BY id;"
check "multi-line SELECT renders a table" " id | name
----+-------
  1 | alice
  2 | bob
  3 | NULL
(3 rows)" "$(after '   ...>   ORDER BY id;')"
check "NULL is dimmed on a terminal" "yes" \
  "$(T capture-pane -p -e -t rt | grep -q "$(printf '\033\\[2mNULL')" && echo yes)"

clear_screen
enter 1 "select * from nope;"
check "SQL error printed, REPL goes on" "ERROR:  no such table: nope" \
  "$(after 'retort> select * from nope;')"

clear_screen
enter 4 "begin;" "delete from users;" "rollback;" "select count(*) as n from users;"
check "BEGIN ... ROLLBACK keeps the rows" " n
---
 3
(1 row)" "$(after 'retort> select count(*)')"

clear_screen
enter 4 "begin;" "insert into users (name) values ('zed');" "rollback;" \
  "select count(*) as n from users where name = 'zed';"
check "BEGIN; INSERT; ROLLBACK leaves no rows" " n
---
 0
(1 row)" "$(after 'retort> select count(*)')"

clear_screen
enter 2 'c = engine:connect()' 'c:exec_driver_sql("select id, name from users where id < 3")'
check "a Result from Lua prints as a table" " id | name
----+-------
  1 | alice
  2 | bob
(2 rows)" "$(after 'retort> c:exec_driver_sql')"

clear_screen
enter 1 'c:exec_driver_sql("select name from users where id = 2"):all()'
check "a list of Rows prints as a table" " name
------
 bob
(1 row)" "$(after 'retort> c:exec_driver_sql')"
enter 1 'c:close()'

clear_screen
typeline '\limit 2' "select 1 as x union all select 2 union all select 3;"
wait_grep '^(3 rows'
check "\\limit caps the table" " x
---
 1
 2
(3 rows, 1 not shown: see \\limit)" "$(after 'retort> select 1 as x union')"
enter 1 '\limit 1000'

clear_screen
enter 2 'update = 5' 'print(update + 1)'
check "update = 5 is Lua" "6" "$(screen | tail -2 | head -1)"

clear_screen
typeline "select 1 as a,"
wait_last "   ...>"
T send-keys -t rt C-c
wait_last "retort>"
enter 1 "select 2 as b;"
check "Ctrl-C abandons unfinished SQL" " b
---
 2
(1 row)" "$(after 'retort> select 2 as b;')"

clear_screen
typeline "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n;"
sleep 0.5
T send-keys -t rt C-c
wait_last "retort>"
check "Ctrl-C cancels a running query" "^C
canceled" "$(after 'retort> with recursive')"
typeline "select 3 as n;"
wait_grep '^ 3$'
wait_last "retort>"
check "the connection works after a cancel" "(1 row)" "$(screen | tail -2 | head -1)"

clear_screen
typeline 'ok, err = pcall(function() return engine:connect():exec_driver_sql("with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"):scalar() end)'
sleep 0.5
T send-keys -t rt C-c
# the prompt follows the echoed ^C on its line: no message, pcall caught it
wait_grep 'retort>$'
enter 1 'print(ok, err.kind, err.canceled)'
check "Ctrl-C cancels a query Lua is running" "false   OperationalError        true" \
  "$(screen | tail -2 | head -1)"

clear_screen
enter 1 "with recursive n(i) as (select 1 union all select i + 1 from n where i < 40) select i from n;"
check "a tall table goes through the pager" "P: 40
P:(40 rows)" "$(screen | tail -3 | head -2)"

clear_screen
enter 2 '\x auto' "select hex(zeroblob(60)) as wide, 1 as n;"
check "\\x auto: a row wider than the terminal is a record" "-[ RECORD 1 ]
wide | 000000" "$(after "retort> select hex" | head -2 | cut -c1-13)"
enter 2 '\x on' "with recursive n(i) as (select 1 union all select i + 1 from n where i < 40) select i from n;"
check "tall records go through the pager too" "P:i | 40
P:(40 rows)" "$(screen | tail -3 | head -2)"
enter 1 '\x off'

clear_screen
printf '#!/bin/sh\nsed -i "s/select 1/select 40 + 2 as answer/" "$1"\n' > "$tmp/ed"
chmod +x "$tmp/ed"
# \e: an "editor" that changes the last input into another query; a new
# session for it, made before the old one goes (the server would exit)
T rename-session -t rt old
T new-session -d -s rt -x 100 -y 30 "EDITOR=$tmp/ed $RETORT --norc"
T kill-session -t old
wait_last "retort>"
typeline "select 1;"
wait_grep '^(1 row)$'
clear_screen
typeline '\e'
wait_grep '^     42$'
wait_last "retort>"
check "\\e runs what the editor left" " answer
--------
     42
(1 row)" "$(after 'retort> \e')"

clear_screen
typeline '\watch 0.2'
wait_grep '(every 0.2s)'
sleep 1
T send-keys -t rt C-c
wait_last "retort>"
check "\\watch repeats the query until Ctrl-C" "yes" \
  "$([ "$(screen | grep -c '^ *42$')" -ge 3 ] && echo yes)"
enter 1 'print("still here")'
check "works after \\watch" "still here" "$(screen | tail -2 | head -1)"

typeline '\q'
i=0
while T has-session -t rt 2>/dev/null && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
check "\\q exits" "gone" "$(T has-session -t rt 2>/dev/null || echo gone)"
kill_tmux

finish
