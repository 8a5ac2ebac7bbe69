#!/bin/sh
# The database at the prompt, on the Chinook sample database: the globals
# `db` and `session`, \dt, \d, \erd, \c, and tab completion at a real
# terminal (tmux), as a person would use them; -c with a backslash command;
# how fast completion answers on 1000 tables.  SQLite always; the listing
# on PostgreSQL and MariaDB when RETORT_TEST_PG / RETORT_TEST_MYSQL name a
# server.
#   test_schema.sh RETORT SRCDIR
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


# type $1, press Tab ($2 times, default 1), wait until the prompt line
# reads $3 (or up to 2 s)
tab() {
  T send-keys -t rt -l "$1"
  n=${2:-1}
  while [ "$n" -gt 0 ]; do
    T send-keys -t rt Tab
    n=$((n - 1))
  done
  i=0
  while [ $i -lt 20 ]; do
    [ "$(screen | tail -1)" = "retort> $3" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
}

clear_line() { T send-keys -t rt C-u; sleep 0.1; }

db="$tmp/chinook.db"
sqlite3 "$db" <"$chinook/Chinook_Sqlite.sql"
url="sqlite:///$db"

# --- without a terminal ---

# the whole Chinook script through \i: the same database the sqlite3 shell
# loads (the file is 15,000 lines of statements with no command among them)
"$RETORT" --norc "sqlite:///$tmp/chinook_i.db" \
  -c "\\i $chinook/Chinook_Sqlite.sql" >"$tmp/chinook_i.out" 2>&1
check "\\i loads Chinook as the sqlite3 shell does" \
  "$(sqlite3 "$db" .dump)" "$(sqlite3 "$tmp/chinook_i.db" .dump)"
check "\\i Chinook: a tag per statement" "11 DROP TABLE 11 CREATE TABLE 11 CREATE INDEX 24 INSERT" \
  "$(for w in 'DROP TABLE' 'CREATE TABLE' 'CREATE INDEX' 'INSERT'; do
      printf '%s %s ' "$(grep -c "^$w" "$tmp/chinook_i.out")" "$w"; done | sed 's/ $//')"

# and read from stdin, a statement of a thousand lines at a time
"$RETORT" --norc "sqlite:///$tmp/chinook_s.db" \
  <"$chinook/Chinook_Sqlite.sql" >"$tmp/chinook_s.out" 2>&1
check "stdin loads Chinook as the sqlite3 shell does" \
  "$(sqlite3 "$db" .dump)" "$(sqlite3 "$tmp/chinook_s.db" .dump)"
check "stdin Chinook: the same tags as \\i" "$(cat "$tmp/chinook_i.out")" \
  "$(cat "$tmp/chinook_s.out")"

check "-c runs a backslash command, titled as psql's" "   List of relations
     Name      | Type
---------------+-------
 Playlist      | table
 PlaylistTrack | table
(2 rows)" "$("$RETORT" --norc "$url" -c '\dt p*')"
check "-c: an unknown relation fails" "Did not find any relation named \"nope\".
1" "$("$RETORT" --norc "$url" -c '\d nope' 2>&1; echo $?)"
check "-c: \\dt in csv" "Name,Type
Album,table
Artist,table" "$("$RETORT" --norc -f csv "$url" -c '\dt a*')"
out=$("$RETORT" --norc "$url" -c '\erd dot')
check "\\erd dot: a digraph, a record per table, an edge per foreign key" \
  "digraph schema { 11 11 }" \
  "$(printf '%s\n' "$out" | head -1) \
$(printf '%s\n' "$out" | grep -c 'label="{') \
$(printf '%s\n' "$out" | grep -c ' -> ') \
$(printf '%s\n' "$out" | tail -1)"
check "\\erd dot: a table's record" \
  '    "Album" [label="{Album|AlbumId INTEGER PK\lTitle NVARCHAR(160)\lArtistId INTEGER FK\l}"];' \
  "$(printf '%s\n' "$out" | grep '^    "Album" \[')"
check "\\erd: an unknown format" '\erd: unknown format "svg": use mermaid or dot' \
  "$("$RETORT" --norc "$url" -c '\erd svg' 2>&1)"
cp "$db" "$tmp/views.db"
sqlite3 "$tmp/views.db" "CREATE VIEW AlbumTitles AS SELECT AlbumId, Title FROM Album;"
check "\\dv lists the views" " List of relations
    Name     | Type
-------------+------
 AlbumTitles | view
(1 row)" "$("$RETORT" --norc "sqlite:///$tmp/views.db" -c '\dv')"
check "\\d describes a view (any case)" '              View "AlbumTitles"
 Column  |     Type      | Nullable | Default
---------+---------------+----------+---------
 AlbumId | INTEGER       |          |
 Title   | NVARCHAR(160) |          |' \
  "$("$RETORT" --norc "sqlite:///$tmp/views.db" -c '\d albumtitles')"
check "\\d alone lists tables and views" "12 rows, AlbumTitles | view" \
  "$("$RETORT" --norc "sqlite:///$tmp/views.db" -c '\d' |
    sed -n -e 's/^(\(.*\))$/\1/p' -e 's/^ \(AlbumTitles *| view\)$/\1/p' |
    sed 's/  */ /g' | sort | tr '\n' ',' | sed -e 's/,$//' -e 's/,/, /')"
check "db: a table reflected on first use, select works" \
  "$(printf '3\tAlbumId,Title,ArtistId\t347')" \
  "$("$RETORT" --norc "$url" -e 'local t = db.Album
    local n = 0
    for _ in pairs(session:execute(select(db.Album)):all()) do n = n + 1 end
    print(#t.columns, table.concat((function() local c = {}
      for _, col in ipairs(t.columns) do c[#c + 1] = col.name end
      return c end)(), ","), n)' 2>&1)"
check "db: another case suggests the name" \
  'db: no table or view named "album" in '"$url"' (did you mean "Album"?)' \
  "$("$RETORT" --norc "$url" -e 'local ok, e = pcall(function() return db.album end)
    print((tostring(e):gsub("^[^:]*:%d+: ", "")))')"
check "db and \\dt see tables created from Lua" "zebra
Name,Type
zebra,table" \
  "$("$RETORT" --norc -e 'local md = MetaData()
    Table("zebra", md, Column("id", Integer, {primary_key = true}))
    local _ = pcall(function() return db.zebra end) -- caches the names
    md:create_all(engine)
    print(db.zebra.name)' -f csv -c '\dt')"
check "db: cached" "true" "$("$RETORT" --norc "$url" -e 'print(db.Track == db.Track)')"
check "db: pairs lists the tables" \
  "Album Artist Customer Employee Genre Invoice InvoiceLine MediaType Playlist PlaylistTrack Track" \
  "$("$RETORT" --norc "$url" -e 'local t = {}
    for k in pairs(db) do t[#t + 1] = k end
    print(table.concat(t, " "))')"
check "db: an unknown name is an error" \
  "$(printf 'false\tno table or view named "Nope"')" \
  "$("$RETORT" --norc "$url" -e 'local ok, e = pcall(function() return db.Nope end)
    print(ok, (tostring(e):match("no table.*Nope\"")))')"

check "completion: a mapped object's attributes and its class's methods" \
  "u.greet u.id u.name" \
  "$("$RETORT" --norc -e 'local Base = orm.declarative_base()
    User = Base:class "User" {__tablename__ = "u",
      id = Column(Integer, {primary_key = true}), name = Column(String(30)),
      greet = function(self) return "hi " .. self.name end}
    u = User{name = "x"}
    local all = require("retort.shell").complete(engine, "lua", "u.", 0, "u.")
    local some = {}
    for _, k in ipairs(all) do
      if k == "u.greet" or k == "u.id" or k == "u.name" then some[#some + 1] = k end
    end
    print(table.concat(some, " "))')"
# what SQLAlchemy's dir() of an automapped Artist lists (its columns, its
# relationship, the base's names; `class` is the base's declaring method),
# not the ORM's internal hooks
check "completion: an automapped object, only its attributes and its class's" \
  "a.ArtistId a.Name a.album_collection a.class a.classes a.metadata a.prepare a.registry" \
  "$("$RETORT" --norc "$url" -e 'a = session:get(db.classes.Artist, 1)
    print(table.concat(require("retort.shell").complete(engine, "lua", "a.", 0, "a."), " "))')"

# a column after an alias the statement gives a table (Track t, Album AS x)
check "completion: a column after a table's alias" \
  "t.Name|a.AlbumId|x.Title|" \
  "$("$RETORT" --norc "$url" -e 'local shell = require("retort.shell")
    local function c(line, text)
      local start = line:find(text, 1, true) - 1
      return table.concat(shell.complete(engine, "sql", line, start, text), " ")
    end
    print(c("select t.Na from Track t", "t.Na") .. "|" ..
      c("select * from Track t join Album a on a.Al", "a.Al") .. "|" ..
      c("select * from Album as x where x.Ti", "x.Ti") .. "|" ..
      c("select * from Album as x where y.Ti", "y.Ti"))' 2>&1)"

# --- at a terminal ---

T new-session -d -s rt -x 120 -y 50 "$RETORT --norc $url"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }

tab "db.Al" 1 "db.Album"
check "Tab completes a table after db." "retort> db.Album" "$(screen | tail -1)"
tab ".c." 2 "db.Album.c."
wait_grep "^AlbumId  *ArtistId  *Title$" # the first Tab reflects the table
check "Tab Tab lists the columns after db.Album.c." \
  "AlbumId   ArtistId  Title" \
  "$(screen | tail -2 | head -1)"
tab "Ti" 1 "db.Album.c.Title"
check "Tab completes a column" "retort> db.Album.c.Title" "$(screen | tail -1)"
clear_line
tab "engine:conn" 1 "engine:connect"
check "Tab completes a method after :" "retort> engine:connect" "$(screen | tail -1)"
clear_line
tab "sessi" 1 "session"
check "Tab completes a global" "retort> session" "$(screen | tail -1)"
clear_line
tab "select * from Al" 1 "select * from Album"
check "Tab completes a table name in SQL" "retort> select * from Album" \
  "$(screen | tail -1)"
tab "where ArtistI" 1 "select * from Album where ArtistId"
check "Tab completes a column of a table the statement names" \
  "retort> select * from Album where ArtistId" "$(screen | tail -1)"
clear_line
tab "\\d Tr" 1 "\\d Track"
check "Tab completes a table after \\d" "retort> \\d Track" "$(screen | tail -1)"
clear_line
tab "\\er" 1 "\\erd"
check "Tab completes a command" "retort> \\erd" "$(screen | tail -1)"
tab "m" 1 "\\erd mermaid"
check "Tab completes a command's argument" "retort> \\erd mermaid" "$(screen | tail -1)"
clear_line

clear_screen
enter "\\dt"
check "\\dt lists the tables" "   List of relations
     Name      | Type
---------------+-------
 Album         | table
 Artist        | table
 Customer      | table
 Employee      | table
 Genre         | table
 Invoice       | table
 InvoiceLine   | table
 MediaType     | table
 Playlist      | table
 PlaylistTrack | table
 Track         | table
(11 rows)" "$(after 'retort> \dt')"

clear_screen
enter "\\dt *t?ack"
check "\\dt takes a pattern" "   List of relations
     Name      | Type
---------------+-------
 PlaylistTrack | table
 Track         | table
(2 rows)" "$(after 'retort> \dt *t?ack')"

clear_screen
enter "\\d Track"
check "\\d Track" '                   Table "Track"
    Column    |      Type      | Nullable | Default
--------------+----------------+----------+---------
 TrackId      | INTEGER        | not null |
 Name         | NVARCHAR(200)  | not null |
 AlbumId      | INTEGER        |          |
 MediaTypeId  | INTEGER        | not null |
 GenreId      | INTEGER        |          |
 Composer     | NVARCHAR(220)  |          |
 Milliseconds | INTEGER        | not null |
 Bytes        | INTEGER        |          |
 UnitPrice    | NUMERIC(10, 2) | not null |
Indexes:
    PRIMARY KEY (TrackId)
    "IFK_TrackAlbumId" (AlbumId)
    "IFK_TrackGenreId" (GenreId)
    "IFK_TrackMediaTypeId" (MediaTypeId)
Foreign-key constraints:
    FOREIGN KEY (MediaTypeId) REFERENCES "MediaType"(MediaTypeId)
    FOREIGN KEY (GenreId) REFERENCES "Genre"(GenreId)
    FOREIGN KEY (AlbumId) REFERENCES "Album"(AlbumId)
Referenced by:
    TABLE "InvoiceLine" FOREIGN KEY (TrackId) REFERENCES "Track"(TrackId)
    TABLE "PlaylistTrack" FOREIGN KEY (TrackId) REFERENCES "Track"(TrackId)' \
  "$(after 'retort> \d Track')"

# \erd goes to the \o file (the diagram is longer than the screen)
enter "\\o $tmp/erd.mmd"
enter "\\erd mermaid"
enter "\\o"
check "\\erd mermaid" 'erDiagram
    Album {
        INTEGER AlbumId PK
        NVARCHAR(160) Title
        INTEGER ArtistId FK
    }
    Artist {
        INTEGER ArtistId PK
        NVARCHAR(120) Name
    }
    Customer {
        INTEGER CustomerId PK
        NVARCHAR(40) FirstName
        NVARCHAR(20) LastName
        NVARCHAR(80) Company
        NVARCHAR(70) Address
        NVARCHAR(40) City
        NVARCHAR(40) State
        NVARCHAR(40) Country
        NVARCHAR(10) PostalCode
        NVARCHAR(24) Phone
        NVARCHAR(24) Fax
        NVARCHAR(60) Email
        INTEGER SupportRepId FK
    }
    Employee {
        INTEGER EmployeeId PK
        NVARCHAR(20) LastName
        NVARCHAR(20) FirstName
        NVARCHAR(30) Title
        INTEGER ReportsTo FK
        DATETIME BirthDate
        DATETIME HireDate
        NVARCHAR(70) Address
        NVARCHAR(40) City
        NVARCHAR(40) State
        NVARCHAR(40) Country
        NVARCHAR(10) PostalCode
        NVARCHAR(24) Phone
        NVARCHAR(24) Fax
        NVARCHAR(60) Email
    }
    Genre {
        INTEGER GenreId PK
        NVARCHAR(120) Name
    }
    Invoice {
        INTEGER InvoiceId PK
        INTEGER CustomerId FK
        DATETIME InvoiceDate
        NVARCHAR(70) BillingAddress
        NVARCHAR(40) BillingCity
        NVARCHAR(40) BillingState
        NVARCHAR(40) BillingCountry
        NVARCHAR(10) BillingPostalCode
        NUMERIC(10-2) Total
    }
    InvoiceLine {
        INTEGER InvoiceLineId PK
        INTEGER InvoiceId FK
        INTEGER TrackId FK
        NUMERIC(10-2) UnitPrice
        INTEGER Quantity
    }
    MediaType {
        INTEGER MediaTypeId PK
        NVARCHAR(120) Name
    }
    Playlist {
        INTEGER PlaylistId PK
        NVARCHAR(120) Name
    }
    PlaylistTrack {
        INTEGER PlaylistId PK, FK
        INTEGER TrackId PK, FK
    }
    Track {
        INTEGER TrackId PK
        NVARCHAR(200) Name
        INTEGER AlbumId FK
        INTEGER MediaTypeId FK
        INTEGER GenreId FK
        NVARCHAR(220) Composer
        INTEGER Milliseconds
        INTEGER Bytes
        NUMERIC(10-2) UnitPrice
    }
    Artist ||--o{ Album : "ArtistId"
    Employee |o--o{ Customer : "SupportRepId"
    Employee |o--o{ Employee : "ReportsTo"
    Customer ||--o{ Invoice : "CustomerId"
    Track ||--o{ InvoiceLine : "TrackId"
    Invoice ||--o{ InvoiceLine : "InvoiceId"
    Track ||--o{ PlaylistTrack : "TrackId"
    Playlist ||--o{ PlaylistTrack : "PlaylistId"
    MediaType ||--o{ Track : "MediaTypeId"
    Genre |o--o{ Track : "GenreId"
    Album |o--o{ Track : "AlbumId"' "$(cat "$tmp/erd.mmd")"

# DDL at the prompt refreshes what completion knows
clear_screen
enter "create table Alpaca (id integer primary key, wool text);"
tab "select * from Alp" 1 "select * from Alpaca"
check "a table created at the prompt completes" "retort> select * from Alpaca" \
  "$(screen | tail -1)"
clear_line
tab "db.Alpaca.c.wo" 1 "db.Alpaca.c.wool"
check "and is in db" "retort> db.Alpaca.c.wool" "$(screen | tail -1)"
clear_line

# Another process changes the schema: the background refresh reads it
# while the prompt waits, so completion finds the new table, and the new
# column of a table whose columns it had read, without a query of its own
# (echo would show one).  A refresh comes within 3 s of idleness.
enter "select Alpaca.id from Alpaca;"
tab "select Alpaca." 2 "select Alpaca."
clear_line
enter "\\echo on"
sqlite3 "$db" "create table Zebra (id integer primary key, stripes integer);
  alter table Alpaca add column colour text;"
sleep 7
clear_screen
tab "select * from Zeb" 1 "select * from Zebra"
check "a table made by another process completes after the refresh" \
  "retort> select * from Zebra" "$(screen | tail -1)"
clear_line
tab "select Alpaca.col" 1 "select Alpaca.colour"
check "so does a column added to a table whose columns were read" \
  "retort> select Alpaca.colour" "$(screen | tail -1)"
check "completing them sent no query" "0" "$(screen | grep -c 'INFO retort')"
clear_line
enter "\\echo off"
# a table Lua code makes at the prompt: the refresh that follows the input
# reads it at once
enter "md = MetaData() Table('Yak', md, Column('id', Integer, {primary_key = true})) md:create_all(engine)"
enter "\\echo on"
sleep 0.5
clear_screen
tab "select * from Ya" 1 "select * from Yak"
check "a table made by Lua at the prompt completes, no query" "retort> select * from Yak 0" \
  "$(screen | tail -1) $(screen | grep -c 'INFO retort')"
clear_line
enter "\\echo off"

# \c switches engine, session and db, masking a password
clear_screen
enter "\\c sqlite:///$tmp/other.db"
check "\\c says where it connected" "You are now connected to sqlite:///$tmp/other.db." \
  "$(after "retort> \\c sqlite:///$tmp/other.db")"
enter "\\dt"
check "\\dt on the new engine" "Did not find any relations." "$(after 'retort> \dt')"
clear_screen
enter "print(session.bind == engine and not pcall(function() return db.Album end))"
check "session and db follow \\c" "true" "$(screen | tail -2 | head -1)"
clear_screen
enter "\\c postgresql://nobody@/nope?host=$tmp/none"
enter "print(engine.url)"
check "\\c to a server that does not answer keeps the engine" \
  "sqlite:///$tmp/other.db" "$(screen | tail -2 | head -1)"

T send-keys -t rt -l "\\q"
T send-keys -t rt Enter
i=0
while T has-session -t rt 2>/dev/null && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
check "\\q exits" "gone" "$(T has-session -t rt 2>/dev/null || echo gone)"
kill_tmux

# output taller than the terminal goes through $PAGER, \d's footers too
T new-session -d -s pg -x 100 -y 20 \
  "PAGER='sed s/^/P:/' $RETORT --norc $url; sleep 30"
i=0
until T capture-pane -p -t pg | grep -q '^retort>' || [ $i -ge 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
T send-keys -t pg -l '\d Track'
T send-keys -t pg Enter
i=0
until T capture-pane -p -t pg | grep -q '^P:    TABLE "PlaylistTrack"' || [ $i -ge 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
check "a tall \\d goes through the pager, footers and all" "yes" \
  "$(T capture-pane -p -t pg | grep -q '^P:    TABLE "PlaylistTrack"' && echo yes)"
kill_tmux

# --- completion on 1000 tables answers from the cache ---
big="$tmp/big.db"
i=0
{
  echo "BEGIN;"
  while [ $i -lt 1000 ]; do
    echo "CREATE TABLE t$i (id INTEGER PRIMARY KEY, name TEXT);"
    i=$((i + 1))
  done
  echo "COMMIT;"
} | sqlite3 "$big"
# what Lua code prints, then how many SQL statements echo logged while it
# ran (not BEGIN, ROLLBACK or parameters)
count_queries() {
  "$RETORT" --norc "sqlite:///$big" -e "engine.echo = true
    $1" 2>&1 | awk '
    /^INFO retort\.engine\.Engine (BEGIN|ROLLBACK|COMMIT)/ { next }
    /^INFO retort\.engine\.Engine \[/ { next }
    /^INFO retort\.engine\.Engine / { n++; next }
    { printf "%s ", $0 }
    END { printf "queries=%d", n }'
}
check "the first completion on 1000 tables reads the names once" \
  "111 queries=2" \
  "$(count_queries 'print(#require("retort.shell").complete(engine, "sql", "select * from t9", 14, "t9"))')"
check "completions on 1000 tables from the cache send no query" \
  "111 11 11 111 queries=2" \
  "$(count_queries 'local shell = require("retort.shell")
    print(#shell.complete(engine, "sql", "select * from t9", 14, "t9")) -- fills the cache
    print(#shell.complete(engine, "sql", "select * from t99", 14, "t99"))
    print(#shell.complete(engine, "lua", "db.t99", 0, "db.t99"))
    print(#shell.complete(engine, "command", "\\d t9", 3, "t9"))')"

# at the prompt, the background refresh reads the names as the shell
# starts: the first Tab finds them in the cache and sends no query
T new-session -d -s rt -x 120 -y 50 "$RETORT --norc sqlite:///$big"
wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
enter "\\echo on"
sleep 2
clear_screen
tab "select * from t99" 2 "select * from t99"
check "Tab Tab on 1000 tables: the 11 matches, no query" "11 0" \
  "$(screen | grep -v '^retort>' | grep -o 't99[0-9]*' | grep -c .) $(screen | grep -c 'INFO retort')"
kill_tmux

# --- Chinook on the servers, loaded with their own clients ---

# server_checks NAME URL TRACK INVOICE_LINE
server_checks() {
  check "$1: \\dt lists Chinook's tables" "11" \
    "$("$RETORT" --norc -f csv "$2" -c '\dt' | tail -n +2 | grep -c ',table\(,[^,]*\)\{0,1\}$')"
  out=$("$RETORT" --norc "$2" -c "\\d $3" 2>&1)
  check "$1: \\d $3 has its sections" "Indexes: Foreign-key constraints: Referenced by:" \
    "$(printf '%s\n' "$out" | grep -E '^[A-Z][a-z-]+( [a-z-]+)?:$' | tr '\n' ' ' | sed 's/ $//')"
  check "$1: \\d $3 names who refers to it" "yes" \
    "$(printf '%s\n' "$out" | grep -q "^    TABLE \"$4\"" && echo yes)"
  out=$("$RETORT" --norc "$2" -c '\erd mermaid' 2>&1)
  check "$1: \\erd mermaid draws 11 relationships" "erDiagram 11" \
    "$(printf '%s\n' "$out" | head -1) $(printf '%s\n' "$out" | grep -c -- '--o{')"
  check "$1: db reflects a table" "ok" \
    "$("$RETORT" --norc "$2" -e "print(#db.$3.columns == 9 and 'ok')" 2>&1)"
}

if [ -n "$RETORT_TEST_PG" ] && command -v psql >/dev/null 2>&1; then
  sed -e 's/^DROP DATABASE IF EXISTS chinook;/DROP DATABASE IF EXISTS retort_chinook;/' \
    -e 's/^CREATE DATABASE chinook;/CREATE DATABASE retort_chinook;/' \
    -e 's/^\\c chinook;/\\c retort_chinook/' "$chinook/Chinook_PostgreSql.sql" |
    psql -q -v ON_ERROR_STOP=1 "$RETORT_TEST_PG" >"$tmp/pg.log" 2>&1
  if [ $? -eq 0 ]; then
    pwurl=$(printf '%s' "$RETORT_TEST_PG" | sed 's|^postgresql://postgres@|postgresql://postgres:s3cret@|')
    out=$(printf '\\c %s\n' "$pwurl" | "$RETORT" --norc 2>&1)
    check "postgresql: \\c masks the password" "yes" \
      "$(printf '%s\n' "$out" | grep -q '^You are now connected to postgresql://postgres:\*\*\*@/' &&
        ! printf '%s\n' "$out" | grep -q s3cret && echo yes)"
    server_checks postgresql \
      "$(printf '%s' "$RETORT_TEST_PG" | sed 's|/retort_test|/retort_chinook|')" \
      track invoice_line
    check "postgresql: a rendered table of Chinook" " genre_id | name
----------+-------
        1 | Rock
        2 | Jazz
        3 | Metal
(3 rows)" "$("$RETORT" --norc "$(printf '%s' "$RETORT_TEST_PG" | sed 's|/retort_test|/retort_chinook|')" \
      -c 'select genre_id, name from genre order by genre_id limit 3' 2>&1)"
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
  sed -e 's/`Chinook`/`retort_chinook`/g' "$chinook/Chinook_MySql.sql" |
    mariadb -u"$myuser" ${mysock:+--socket="$mysock"} >"$tmp/my.log" 2>&1
  if [ $? -eq 0 ]; then
    server_checks mariadb \
      "$(printf '%s' "$RETORT_TEST_MYSQL" | sed 's|/retort_test|/retort_chinook|')" \
      Track InvoiceLine
    check "mariadb: a rendered table of Chinook" " GenreId | Name
---------+-------
       1 | Rock
       2 | Jazz
       3 | Metal
(3 rows)" "$("$RETORT" --norc "$(printf '%s' "$RETORT_TEST_MYSQL" | sed 's|/retort_test|/retort_chinook|')" \
      -c 'select GenreId, Name from Genre order by GenreId limit 3' 2>&1)"
  else
    failed=$((failed + 1))
    echo "FAIL loading Chinook into MariaDB:"
    tail -5 "$tmp/my.log"
  fi
fi

finish
