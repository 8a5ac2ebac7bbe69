#!/bin/sh
# The shell on each database (SQLite always; PostgreSQL and MariaDB when
# RETORT_TEST_PG / RETORT_TEST_MYSQL name a server): Ctrl-C cancelling a
# long query at a real terminal (tmux) within a second, with the
# connection still usable; schema-qualified names; how many catalog
# queries completion makes on 1000 tables.
#   test_servers.sh RETORT
RETORT=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
. "$(dirname "$0")/lib.sh"
export TERM=xterm PAGER=

# type a line (a final `;` as a byte: tmux takes it for a separator)
typeline() {
  case $1 in
  *\;)
    T send-keys -t rt -l "${1%;}"
    T send-keys -t rt -H 3b
    ;;
  *) T send-keys -t rt -l "$1" ;;
  esac
  T send-keys -t rt Enter
}

ms() { date +%s%N | cut -c1-13; }

# cancel_checks NAME URL LONG-QUERY: Ctrl-C while it runs
cancel_checks() {
  T new-session -d -s rt -x 120 -y 30 "$RETORT --norc $2"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
  typeline "$3"
  sleep 1
  check "$1: the query is still running after 1 s" "retort> $3" "$(screen | tail -1)"
  t0=$(ms)
  T send-keys -t rt C-c
  i=0
  while [ "$(screen | tail -1)" != "retort>" ] && [ $i -lt 500 ]; do
    sleep 0.01
    i=$((i + 1))
  done
  t1=$(ms)
  check "$1: Ctrl-C cancels within 1 s" "yes" \
    "$([ $((t1 - t0)) -lt 1000 ] && echo yes || echo "no: $((t1 - t0)) ms")"
  check "$1: it says canceled" "^C
canceled" "$(after "retort> $3")"
  typeline "select 41 + 1 as answer;"
  wait_grep '^(1 row)$'
  check "$1: the same connection runs the next query" "yes" \
    "$(screen | grep -q '^ *42$' && echo yes)"
  # inside a transaction: the statement is canceled, the transaction ends
  wait_last "retort>"
  clear_screen
  typeline "begin;"
  wait_grep '^BEGIN$'
  wait_last "retort>"
  typeline "$3"
  sleep 1
  T send-keys -t rt C-c
  wait_grep 'rolled back'
  typeline "select 2 as n;"
  wait_grep '^(1 row)$'
  check "$1: a cancel inside BEGIN rolls it back, the shell goes on" \
    "retort> begin;
BEGIN
retort> $3
^C
canceled
The transaction was rolled back.
retort> select 2 as n;
 n
---
 2
(1 row)
retort>" "$(screen)"
  kill_tmux
}

# refresh_checks NAME URL: a table another client makes while the prompt
# waits is read by the background refresh (within 3 s of idleness), so
# Tab completes it without a query of its own (echo would show one)
refresh_checks() {
  "$RETORT" --norc "$2" -c 'drop table if exists rt_refresh_new' >/dev/null 2>&1
  T new-session -d -s rt -x 120 -y 30 "$RETORT --norc $2"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
  typeline '\echo on'
  wait_last "retort>"
  "$RETORT" --norc "$2" -c 'create table rt_refresh_new (id int primary key)' >/dev/null
  sleep 7
  T send-keys -t rt C-l
  sleep 0.2
  T send-keys -t rt -l "select * from rt_refresh_n"
  T send-keys -t rt Tab
  i=0
  while [ "$(screen | tail -1)" != "retort> select * from rt_refresh_new" ] && [ $i -lt 20 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  check "$1: a table made by another client completes after the refresh, no query" \
    "retort> select * from rt_refresh_new 0" \
    "$(screen | tail -1) $(screen | grep -c 'INFO retort')"
  kill_tmux
  "$RETORT" --norc "$2" -c 'drop table rt_refresh_new' >/dev/null 2>&1
}

# completion_checks NAME URL COLUMN-QUERIES: the URL's database has
# tables t0..t999; reading a table's columns takes COLUMN-QUERIES queries
completion_checks() {
  out=$("$RETORT" --norc "$2" -e '
    local shell = require("retort.shell")
    local function step(name, kind, line, start, text)
      print("STEP " .. name)
      engine.echo = true
      local list = shell.complete(engine, kind, line, start, text)
      engine.echo = false
      print("MATCHES " .. #list)
    end
    step("first", "sql", "select * from t9", 14, "t9")
    step("again", "sql", "select * from t12", 14, "t12")
    step("lua", "lua", "db.t99", 0, "db.t99")
    step("command", "command", "\\d t5", 3, "t5")
    step("columns", "sql", "select t5.", 7, "t5.")
    step("columns again", "sql", "select t5.", 7, "t5.")
    -- a table made behind the cache: looked for again after a second
    local c = engine:connect()
    c:exec_driver_sql("CREATE TABLE zz_new (id INTEGER PRIMARY KEY)")
    c:commit()
    c:close()
    os.execute("sleep 1.1")
    step("new table", "sql", "select * from zz_", 14, "zz_")
    step("cached", "sql", "select * from t99", 14, "t99")' 2>&1)
  # the SQL statements echo logged in each step (not BEGIN/ROLLBACK or
  # parameters)
  counts=$(printf '%s\n' "$out" | awk '
    /^STEP / { if (name != "") printf "%s=%d ", name, n; name = substr($0, 6); n = 0; next }
    /^MATCHES / { m = m " " $2; next }
    /^INFO retort\.engine\.Engine (BEGIN|ROLLBACK|COMMIT)/ { next }
    /^INFO retort\.engine\.Engine [A-Za-z]/ { n++ }
    END { printf "%s=%d matches:%s", name, n, m }')
  check "$1: completion on 1000 tables: catalog queries per step" \
    "first=2 again=0 lua=0 command=0 columns=$3 columns again=0 new table=2 cached=0 matches: 111 11 11 111 2 2 1 11" \
    "$counts"
}

# a file of 1000 tables t0..t999 of SQL for a database
many_tables() {
  i=0
  echo "BEGIN;"
  while [ $i -lt 1000 ]; do
    echo "CREATE TABLE t$i (id INTEGER PRIMARY KEY, name VARCHAR(20));"
    i=$((i + 1))
  done
  echo "COMMIT;"
}

# --- SQLite ---

cancel_checks sqlite "sqlite:///$tmp/t.db" \
  "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n;"
refresh_checks sqlite "sqlite:///$tmp/t.db"
check "sqlite: \\di PATTERN" "   List of relations
 Name  | Type  | Table
-------+-------+-------
 t_a   | index | t
 t_b_c | index | t
(2 rows)" "$("$RETORT" --norc -c 'create table t (id integer primary key, a int, b int, c int,
  x int unique)' -c 'create index t_a on t (a)' -c 'create unique index t_b_c on t (b, c)' \
  -c 'create table u (id int)' -c 'create index u_id on u (id)' -c '\di t*' 2>&1 | sed 1,5d)"
check "sqlite: \\l lists the databases and their files" "Name,File
main,$tmp/t.db" "$("$RETORT" --norc -f csv "sqlite:///$tmp/t.db" -c '\l' 2>&1)"
check "sqlite: \\df: SQLite keeps no functions" "Schema,Name,Result data type,Argument data types,Type" \
  "$("$RETORT" --norc -f csv -c '\df' 2>&1)"
check "sqlite: \\d PATTERN describes each match, a blank line between" \
  '              Table "pa"
 Column |  Type   | Nullable | Default
--------+---------+----------+---------
 x      | INTEGER |          |

             View "pv"
 Column | Type | Nullable | Default
--------+------+----------+---------
 z      | NULL |          |' \
  "$("$RETORT" --norc -c 'create table pa (x int)' -c 'create table qa (y int)' \
     -c 'create view pv as select 1 as z' -c '\d p?' 2>&1 | sed 1,3d)"
check "sqlite: \\d PATTERN that matches nothing" 'Did not find any relation named "z*".
1' "$("$RETORT" --norc -c '\d z*' 2>&1; echo $?)"
check "sqlite: \\dn lists the attached databases" "List of schemas
 Name
------
 main
(1 row)" "$("$RETORT" --norc -c '\dn' 2>&1)"
check "sqlite: \\conninfo names the file" \
  "You are connected to database \"$tmp/t.db\"." \
  "$("$RETORT" --norc "sqlite:///$tmp/t.db" -c '\conninfo' 2>&1)"
check "sqlite: \\conninfo in memory" "You are connected to an in-memory database." \
  "$("$RETORT" --norc -c '\conninfo' 2>&1)"
many_tables >"$tmp/many.sql"
"$RETORT" --norc "sqlite:///$tmp/many.db" <"$tmp/many.sql" >/dev/null
completion_checks sqlite "sqlite:///$tmp/many.db" 1
check "sqlite: \\dt main.PATTERN lists with the schema" "Schema,Name,Type
main,t990,table
main,t991,table
 11" \
  "$("$RETORT" --norc -f csv "sqlite:///$tmp/many.db" -c '\dt main.t99?' >"$tmp/dt.csv"
    head -3 "$tmp/dt.csv"; echo " $(wc -l <"$tmp/dt.csv")")"

# --- PostgreSQL ---

if [ -n "$RETORT_TEST_PG" ]; then
  pg=$RETORT_TEST_PG
  pgdb=$(printf '%s' "$pg" | sed 's|^[^/]*//[^/]*/\([^/?]*\).*|\1|')
  pgsock=$(printf '%s' "$pg" | sed -n 's|.*[?&]host=\([^&]*\).*|\1|p')
  pguser=$(printf '%s' "$pg" | sed -n 's|^[^/]*//\([^@:/]*\)[:@].*|\1|p')
  check "postgresql: \\conninfo as psql says it" \
    "You are connected to database \"$pgdb\" as user \"$pguser\" via socket in \"$pgsock\" at port \"N\"." \
    "$("$RETORT" --norc "$pg" -c '\conninfo' 2>&1 | sed 's/port "[0-9]*"/port "N"/')"
  out=$("$RETORT" --norc "postgresql://nobody@/x?host=$tmp/none" -c '\conninfo' 2>&1)
  check "postgresql: \\conninfo when the server cannot be reached: its error" \
    "1 (OperationalError) connection to server on socket" \
    "$? $(printf '%s\n' "$out" | head -1 | cut -c1-49)"
  cancel_checks postgresql "$pg" "select pg_sleep(30);"
  refresh_checks postgresql "$pg"

  "$RETORT" --norc "$pg" >"$tmp/pg.log" 2>&1 <<'EOF'
drop schema if exists sales cascade;
drop table if exists thing;
create schema sales;
create table sales.customer (id serial primary key, name text not null);
create table sales.orders (id serial primary key,
  customer_id int references sales.customer(id), total numeric(10, 2));
create table thing (id int primary key, order_id int references sales.orders(id));
insert into sales.customer (name) values ('ann'), ('ben');
EOF
  check "postgresql: \\dt sales.*: psql's columns" "          List of relations
 Schema |   Name   | Type  |  Owner
--------+----------+-------+----------
 sales  | customer | table | postgres
 sales  | orders   | table | postgres
(2 rows)" "$("$RETORT" --norc "$pg" -c '\dt sales.*' 2>&1)"
  check "postgresql: \\di sales.*: the indexes of keys and constraints too" \
    "                  List of relations
 Schema |     Name      | Type  |  Owner   |  Table
--------+---------------+-------+----------+----------
 sales  | customer_pkey | index | postgres | customer
 sales  | orders_pkey   | index | postgres | orders
 sales  | orders_total  | index | postgres | orders
(3 rows)" "$("$RETORT" --norc "$pg" -c 'create index orders_total on sales.orders (total)' \
       -c '\di sales.*' -c 'drop index sales.orders_total' 2>&1 | sed -e 1d -e '$d')"
  check "postgresql: \\l PATTERN: psql's columns" \
    "Name,Owner,Encoding,Collate,Ctype,Access privileges|$pgdb,$pguser" \
    "$("$RETORT" --norc -f csv "$pg" -c "\\l $pgdb" 2>&1 | cut -d, -f1-2 | paste -sd'|' |
       sed 's/,Owner|/,Owner,Encoding,Collate,Ctype,Access privileges|/')"
  check "postgresql: \\l: its title, a line for each grant" "List of databases 2" \
    "$("$RETORT" --norc "$pg" -c '\l template0' 2>&1 | head -1 | sed 's/^ *//') \
$("$RETORT" --norc "$pg" -c '\l template0' 2>&1 | grep -c '| *[=a-z].*/')"
  check "postgresql: \\df PATTERN: psql's list" "                          List of functions
 Schema |    Name    | Result data type | Argument data types | Type
--------+------------+------------------+---------------------+------
 public | rt_add_one | integer          | i integer           | func
 public | rt_total   | bigint           | integer             | agg
(2 rows)" "$("$RETORT" --norc "$pg" -c "create function rt_add_one(i integer) returns integer
      language sql as 'select i + 1'" \
    -c 'create aggregate rt_total(int) (sfunc = int4_sum, stype = bigint)' \
    -c 'create function other_fn() returns int language sql as $$select 1$$' \
    -c '\df rt_*' -c '\df' -c 'drop function rt_add_one' -c 'drop aggregate rt_total(int)' \
    -c 'drop function other_fn' 2>&1 | sed -e 1,3d -e '/^DROP/d' -e '/ rtrim /d' |
    sed -n '1,/^(/p')"
  check "postgresql: \\df PATTERN takes the system's too, \\df alone not" "3 1 0" \
    "$("$RETORT" --norc "$pg" -c '\df rtrim' 2>&1 | grep -c '^ pg_catalog | rtrim ') \
$("$RETORT" --norc "$pg" -c 'create function other_fn() returns int language sql as $$select 1$$' \
    -c '\df' -c 'drop function other_fn' >"$tmp/df.out" 2>&1
  grep -c '^ public *| other_fn ' "$tmp/df.out") $(grep -c 'pg_catalog' "$tmp/df.out")"
  check "postgresql: \\d sales.*: each of the schema's tables, described" \
    'Table "sales.customer"
Table "sales.orders"' \
    "$("$RETORT" --norc "$pg" -c '\d sales.*' 2>&1 | grep '^ *Table' | sed 's/^ *//')"
  check "postgresql: \\d lists sequences too, as psql's" \
    " public | rt_seq_t_id_seq | sequence | postgres" \
    "$("$RETORT" --norc "$pg" -c 'create table rt_seq_t (id serial primary key)' -c '\d' \
       -c 'drop table rt_seq_t' 2>&1 | grep 'rt_seq_t.*sequence' | tr -s ' ')"
  check "postgresql: \\dt: the default schema named, as psql names it" \
    " public | thing | table | postgres" \
    "$("$RETORT" --norc "$pg" -c '\dt thing' 2>&1 | grep thing)"
  check "postgresql: \\dn: psql's list, its owners too" "      List of schemas
  Name  |       Owner
--------+-------------------
 public | pg_database_owner
 sales  | postgres
(2 rows)" "$("$RETORT" --norc "$pg" -c '\dn' 2>&1)"
  check "postgresql: \\dn PATTERN, in csv" "Name,Owner
sales,postgres" "$("$RETORT" --norc -f csv "$pg" -c '\dn s*' 2>&1)"
  check "postgresql: \\d sales.orders" '                                      Table "sales.orders"
   Column    |      Type      | Collation | Nullable |                 Default
-------------+----------------+-----------+----------+------------------------------------------
 id          | INTEGER        |           | not null | nextval('"'"'sales.orders_id_seq'"'"'::regclass)
 customer_id | INTEGER        |           |          |
 total       | NUMERIC(10, 2) |           |          |
Indexes:
    "orders_pkey" PRIMARY KEY (id)
Foreign-key constraints:
    "orders_customer_id_fkey" FOREIGN KEY (customer_id) REFERENCES "sales"."customer"(id)
Referenced by:
    TABLE "thing" CONSTRAINT "thing_order_id_fkey" FOREIGN KEY (order_id) REFERENCES "sales"."orders"(id)' \
    "$("$RETORT" --norc "$pg" -c '\d sales.orders' 2>&1)"
  check "postgresql: \\d thing: psql's title names the schema, and a Collation column" \
    'Table "public.thing"
  Column  |  Type   | Collation | Nullable | Default' \
    "$("$RETORT" --norc "$pg" -c '\d thing' 2>&1 | head -2 | sed 's/^ *Table/Table/')"
  check "postgresql: \\d public.thing is \\d thing, under the name typed" \
    'Table "public.thing"
    "thing_order_id_fkey" FOREIGN KEY (order_id) REFERENCES "sales"."orders"(id)' \
    "$("$RETORT" --norc "$pg" -c '\d public.thing' 2>&1 |
       grep -e 'Table' -e 'FOREIGN KEY' | sed 's/^ *Table/Table/')"
  check "postgresql: db.sales.customer and db[\"sales.customer\"]" \
    "$(printf 'ann,ben\ttrue\tSELECT sales.customer.name \nFROM sales.customer')" \
    "$("$RETORT" --norc "$pg" -e '
      local names = session:scalars(select(db.sales.customer.c.name)
        :order_by(db.sales.customer.c.id)):all()
      print(table.concat(names, ","), db["sales.customer"] == db.sales.customer,
            select(db.sales.customer.c.name))' 2>&1)"
  check "postgresql: a table missing from a schema" \
    'db: no table or view named "nope" in schema "sales" of URL' \
    "$("$RETORT" --norc "$pg" -e '
      local ok, e = pcall(function() return db.sales.nope end)
      local url = tostring(engine.url):gsub("%p", "%%%0")
      print((tostring(e):gsub("^[^:]*:%d+: ", ""):gsub(url, "URL")))' 2>&1)"
  check "postgresql: completion of schema.table and its columns" \
    "sales.customer sales.orders|sales.orders.customer_id sales.orders.id sales.orders.total|db.sales.customer db.sales.orders" \
    "$("$RETORT" --norc "$pg" -e '
      local shell = require("retort.shell")
      local function c(...) return table.concat(shell.complete(engine, ...), " ") end
      print(c("sql", "select * from sales.", 14, "sales.") .. "|" ..
            c("sql", "select sales.orders.", 7, "sales.orders.") .. "|" ..
            c("lua", "db.sales.", 0, "db.sales."))' 2>&1)"
  check "postgresql: \\dn completes schema names" "sales" \
    "$("$RETORT" --norc "$pg" -e '
      local shell = require("retort.shell")
      print(table.concat(shell.complete(engine, "command", "\\dn sa", 4, "sa"), " "))' 2>&1)"

  "$RETORT" --norc "$pg" -c 'drop database if exists retort_many' >/dev/null 2>&1
  "$RETORT" --norc "$pg" -c 'create database retort_many' >/dev/null
  many="$(printf '%s' "$pg" | sed 's|/retort_test|/retort_many|')"
  "$RETORT" --norc "$many" <"$tmp/many.sql" >/dev/null
  completion_checks postgresql "$many" 3
  "$RETORT" --norc "$pg" -c 'drop database retort_many' >/dev/null 2>&1
fi

# --- MariaDB ---

if [ -n "$RETORT_TEST_MYSQL" ]; then
  my=$RETORT_TEST_MYSQL
  mysock=$(printf '%s' "$my" | sed -n 's|.*[?&]unix_socket=\([^&]*\).*|\1|p')
  myuser=$(printf '%s' "$my" | sed -n 's|^[^/]*//\([^@:/]*\)[:@].*|\1|p')
  mydb=$(printf '%s' "$my" | sed 's|^[^/]*//[^/]*/\([^/?]*\).*|\1|')
  check "mariadb: \\conninfo" \
    "You are connected to database \"$mydb\" as user \"$myuser\" via socket \"$mysock\"." \
    "$("$RETORT" --norc "$my" -c '\conninfo' 2>&1)"
  cancel_checks mariadb "$my" "select sleep(30);"
  refresh_checks mariadb "$my"

  "$RETORT" --norc "$my" >"$tmp/my.log" 2>&1 <<'EOF'
drop database if exists retort_other;
create database retort_other;
create table retort_other.pets (id int primary key, name varchar(20) not null);
insert into retort_other.pets values (1, 'rex'), (2, 'tom');
EOF
  check "mariadb: \\dt retort_other.* (a database is a schema)" \
    "Schema,Name,Type
retort_other,pets,table" "$("$RETORT" --norc -f csv "$my" -c '\dt retort_other.*' 2>&1)"
  check "mariadb: \\l PATTERN: the databases, their character sets" \
    "Name,Encoding,Collate
rt_l_db,utf8mb4,utf8mb4_bin" \
    "$("$RETORT" --norc "$my" -c 'create database rt_l_db character set utf8mb4 collate utf8mb4_bin' >/dev/null
       "$RETORT" --norc -f csv "$my" -c '\l rt_l_d?' 2>&1
       "$RETORT" --norc "$my" -c 'drop database rt_l_db' >/dev/null)"
  "$RETORT" --norc "$my" -e "local c = engine:connect()
    c:exec_driver_sql('create function rt_f(a int, b varchar(5)) returns int deterministic return a + 1')
    c:exec_driver_sql('create procedure rt_p(in a int, out b int) begin set b = a; end')
    c:close()" >/dev/null 2>&1
  check "mariadb: \\df PATTERN: functions and procedures, OUT parameters marked" \
    "                            List of functions
   Schema    | Name | Result data type |   Argument data types    | Type
-------------+------+------------------+--------------------------+------
 $mydb | rt_f | int(11)          | a int(11), b varchar(5)  | func
 $mydb | rt_p |                  | a int(11), OUT b int(11) | proc
(2 rows)" "$("$RETORT" --norc "$my" -c '\df rt_*' 2>&1)"
  "$RETORT" --norc "$my" -c 'drop function rt_f' -c 'drop procedure rt_p' >/dev/null 2>&1
  check "mariadb: \\dn PATTERN lists databases" "List of schemas
     Name
--------------
 retort_other
(1 row)" "$("$RETORT" --norc "$my" -c '\dn retort_oth*' 2>&1)"
  check "mariadb: \\d retort_other.pets" '         Table "retort_other.pets"
 Column |    Type     | Nullable | Default
--------+-------------+----------+---------
 id     | INTEGER     | not null |
 name   | VARCHAR(20) | not null |
Indexes:
    PRIMARY KEY (id)' "$("$RETORT" --norc "$my" -c '\d retort_other.pets' 2>&1)"
  check "mariadb: db.retort_other.pets" "rex,tom" \
    "$("$RETORT" --norc "$my" -e '
      local t = db.retort_other.pets
      print(table.concat(session:scalars(select(t.c.name):order_by(t.c.id)):all(), ","))' 2>&1)"

  # USE typed at the prompt: the commands, completion and db follow the
  # database it chose, as the mysql client's do
  home=$(printf '%s' "$my" | sed 's|^[^/]*//[^/]*/\([^/?]*\).*|\1|')
  "$RETORT" --norc "$my" >>"$tmp/my.log" 2>&1 <<'EOF'
create table retort_other.owners (id int primary key, pet_id int,
  constraint owners_pet foreign key (pet_id) references retort_other.pets (id));
create view retort_other.pet_names as select name from retort_other.pets;
EOF
  T new-session -d -s rt -x 120 -y 40 "$RETORT --norc $my"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
  enter "use retort_other;"
  clear_screen
  enter '\dt'
  check "mariadb: after USE, \\dt lists that database's tables" \
    "List of relations
  Name  | Type
--------+-------
 owners | table
 pets   | table
(2 rows)" "$(after 'retort> \dt')"
  clear_screen
  enter '\dv'
  check "mariadb: and \\dv its views" "List of relations
   Name    | Type
-----------+------
 pet_names | view
(1 row)" "$(after 'retort> \dv')"
  clear_screen
  enter '\di'
  check "mariadb: and \\di its indexes" "      List of relations
    Name    | Type  | Table
------------+-------+--------
 owners_pet | index | owners
(1 row)" "$(after 'retort> \di')"
  clear_screen
  enter '\conninfo'
  check "mariadb: \\conninfo names it" \
    "You are connected to database \"retort_other\" as user \"$myuser\" via socket \"$mysock\"." \
    "$(after 'retort> \conninfo')"
  clear_screen
  enter '\d owners'
  check "mariadb: \\d NAME describes its table, keys without the schema" \
    '            Table "owners"
 Column |  Type   | Nullable | Default
--------+---------+----------+---------
 id     | INTEGER | not null |
 pet_id | INTEGER |          |
Indexes:
    PRIMARY KEY (id)
    "owners_pet" (pet_id)
Foreign-key constraints:
    "owners_pet" FOREIGN KEY (pet_id) REFERENCES "pets"(id)' \
    "$(after 'retort> \d owners')"
  clear_screen
  enter '\d pets'
  check "mariadb: \\d NAME: the tables that refer to it" \
    'Referenced by:
    TABLE "owners" CONSTRAINT "owners_pet" FOREIGN KEY (pet_id) REFERENCES "pets"(id)' \
    "$(after 'retort> \d pets' | sed -n '/^Referenced/,$p')"
  clear_screen
  T send-keys -t rt -l "select * from ow"
  T send-keys -t rt Tab
  wait_grep "from owners" || true
  check "mariadb: completion offers its tables" "retort> select * from owners" \
    "$(screen | tail -1)"
  T send-keys -t rt C-u
  clear_screen
  enter "print(db.pets, #session:scalars(select(db.pets.c.name)):all() .. ' rows')"
  check "mariadb: db reflects its tables" "retort_other.pets       2 rows" \
    "$(after 'retort> print(db.pets')"
  clear_screen
  enter "use $home;"
  clear_screen
  enter '\d pets'
  check "mariadb: USE of the URL's database again" \
    'Did not find any relation named "pets".' "$(after 'retort> \d pets')"
  kill_tmux
  "$RETORT" --norc "$my" -c 'drop database retort_other' >/dev/null 2>&1

  "$RETORT" --norc "$my" -c 'create table rt_erd_t (id int primary key,
    label varchar(10) collate utf8mb4_bin)' >/dev/null
  check "mariadb: \\erd leaves a column's COLLATE out of its type" \
    "        VARCHAR(10) label
label VARCHAR(10)" \
    "$("$RETORT" --norc "$my" -c '\erd' |
         awk '/ rt_erd_t \{/ { on = 1; next } /\}/ { on = 0 } on && / label$/'
       "$RETORT" --norc "$my" -c '\erd dot' | grep rt_erd_t |
         grep -o 'label [^\\]*')"
  "$RETORT" --norc "$my" -c 'drop table rt_erd_t' >/dev/null 2>&1

  "$RETORT" --norc "$my" -c 'drop database if exists retort_many' >/dev/null 2>&1
  "$RETORT" --norc "$my" -c 'create database retort_many' >/dev/null
  many="$(printf '%s' "$my" | sed 's|/retort_test|/retort_many|')"
  "$RETORT" --norc "$many" <"$tmp/many.sql" >/dev/null
  completion_checks mariadb "$many" 2
  "$RETORT" --norc "$my" -c 'drop database retort_many' >/dev/null 2>&1
fi

finish
