#!/bin/sh
# The retort command as a program: -e, stdin, scripts, exit codes, arg,
# --version/--help, and the Lua module loaded by a stock lua5.4.
#   test_cli.sh RETORT BUILD_DIR
RETORT=$1
BUILD=$2
. "$(dirname "$0")/lib.sh"

check "-e prints" "2" "$("$RETORT" -e 'print(1+1)')"
check "-e repeatable, in order" "a
b" "$("$RETORT" -e 'print("a")' -e 'print("b")')"
check "stdin runs Lua" "42" "$(echo 'x = 40 print(x + 2)' | "$RETORT")"
check "stdin multi-line chunk keeps locals" "3" \
  "$(printf 'local a = 1\nlocal b = 2\nprint(a + b)\n' | "$RETORT")"

cat > "$tmp/args.lua" <<'LUA'
print(arg[0], arg[1], arg[2], select("#", ...), ...)
LUA
check "script gets arg and ..." "$tmp/args.lua	a	b	2	a	b" \
  "$("$RETORT" "$tmp/args.lua" a b)"

cat > "$tmp/fail.lua" <<'LUA'
local x = 1
error("it broke")
LUA
out=$("$RETORT" "$tmp/fail.lua" 2>"$tmp/err"); rc=$?
check "failing script exits 1" "1" "$rc"
check "failing script names file and line" "$tmp/fail.lua:2: it broke" \
  "$(head -1 "$tmp/err")"
check "failing script prints a traceback" "stack traceback:" \
  "$(sed -n 2p "$tmp/err")"

printf 'error("from stdin")\n' | "$RETORT" 2>"$tmp/err"; rc=$?
check "stdin error exits 1" "1" "$rc"
check "-e error exits 1" "1" "$("$RETORT" -e 'error("x")' 2>/dev/null; echo $?)"
check "syntax error exits 1" "1" "$("$RETORT" -e 'x = = 1' 2>/dev/null; echo $?)"
check "error objects print their message" \
  "ArgumentError: Could not parse SQLAlchemy URL from string 'bad'" \
  "$("$RETORT" -e 'create_engine("bad")' 2>&1 | head -1)"
"$RETORT" --norc "sqlite:///$tmp/file.db" -c 'create table t (a int)' >/dev/null
out=$("$RETORT" --norc "$tmp/file.db" 2>&1); rc=$?
check "an SQLite file given as the script says to use a URL" \
  "1 retort: $tmp/file.db is an SQLite database, not a Lua script: give it as a URL, sqlite:///$tmp/file.db" \
  "$rc $out"
check "unknown option exits 2" "2" "$("$RETORT" --bogus 2>/dev/null; echo $?)"
check "--version" "retort 0.1.0" "$("$RETORT" --version | cut -d' ' -f1,2)"
check "--help starts with usage" "usage: retort [options] [URL] [script.lua [args...]]" \
  "$("$RETORT" --help | head -1)"
check "URL argument becomes engine" "sqlite" \
  "$("$RETORT" "sqlite:///$tmp/x.db" -e 'print(engine.dialect.name)')"
check "DATABASE_URL is used" "$tmp/y.db" \
  "$(DATABASE_URL="sqlite:///$tmp/y.db" "$RETORT" -e 'print(engine.url.database)')"
check "--echo logs statements" "INFO retort.engine.Engine BEGIN (implicit)
INFO retort.engine.Engine select ?
INFO retort.engine.Engine [raw sql] (5,)
INFO retort.engine.Engine ROLLBACK" \
  "$("$RETORT" --echo -e 'engine:connect():exec_driver_sql("select ?", {5}):close()
      collectgarbage()')"
echo 'rc_value = 5' > "$tmp/.retortrc.lua"
check "~/.retortrc.lua runs" "5" "$("$RETORT" -e 'print(rc_value)')"
check "--norc skips it" "nil" "$("$RETORT" --norc -e 'print(rc_value)')"

if [ -z "${RETORT_SANITIZED:-}" ]; then
check "stock lua5.4 loads the module" "retort 0.1.0 true" \
  "$(cd "$BUILD" && lua5.4 -e 'package.cpath = "./?.so;" .. package.cpath
      local sa = require "retort"; local orm = require "retort.orm"
      print("retort " .. sa.__version__ .. " " .. tostring(type(orm) == "table"))')"
check "the module runs queries" "(1, 'x')" \
  "$(cd "$BUILD" && lua5.4 -e 'package.cpath = "./?.so;" .. package.cpath
      local sa = require "retort"
      local c = sa.create_engine("sqlite://"):connect()
      print(c:exec_driver_sql("select 1 as a, ? as b", {"x"}):one())')"
fi

finish
