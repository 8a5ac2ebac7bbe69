#!/usr/bin/python3
"""Differential fuzzing of executed SELECTs against SQLAlchemy 1.4: the
random statements of fuzz_sql.py, run on the same rows in SQLite (or on the
servers of RETORT_TEST_PG / RETORT_TEST_MYSQL with --db), and the rows each
returns compared value by value (None/nil, integers, floats, exact numerics
as strings, text, booleans, dates as ISO strings), or the kind of error.

    /usr/bin/python3 tests/oracle/fuzz_exec.py [--seed S] [--count N] [--db sqlite|postgresql|mysql]
"""
import argparse
import datetime
import decimal
import os
import random
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fuzz_sql  # noqa: E402
from fuzz_sql import Gen  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

ROWS = {
    "users": [dict(id=1, name="ann", fullname="Ann A", age=30),
              dict(id=2, name="bob", fullname=None, age=None),
              dict(id=3, name="it's", fullname="Cy %_", age=7)],
    "addresses": [dict(id=1, user_id=1, email="a@x"), dict(id=2, user_id=1, email="b@y"),
                  dict(id=3, user_id=3, email="c@z")],
    "orders": [dict(id=1, user_id=1, amount=decimal.Decimal("10.50"), status="new", order=2, Note="n1"),
               dict(id=2, user_id=3, amount=decimal.Decimal("3.25"), status="old", order=1, Note=None)],
}

LUA_FILL = r'''
local conn <close> = engine:connect()
conn:execute(users:insert(), {{id = 1, name = "ann", fullname = "Ann A", age = 30},
  {id = 2, name = "bob", fullname = sa.null, age = sa.null}, {id = 3, name = "it's", fullname = "Cy %_", age = 7}})
conn:execute(addresses:insert(), {{id = 1, user_id = 1, email = "a@x"}, {id = 2, user_id = 1, email = "b@y"},
  {id = 3, user_id = 3, email = "c@z"}})
conn:execute(orders:insert(), {{id = 1, user_id = 1, amount = "10.50", status = "new", order = 2, Note = "n1"},
  {id = 2, user_id = 3, amount = "3.25", status = "old", order = 1, Note = sa.null}})
conn:commit()
'''


def canon_py(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "b:" + ("true" if v else "false")
    if isinstance(v, int):
        return "i:%d" % v
    if isinstance(v, float):
        return "f:%.6g" % v
    if isinstance(v, decimal.Decimal):
        return "s:" + format(v, "f")  # (retort's exact numerics are strings)
    if isinstance(v, (datetime.date, datetime.time)):
        return "s:" + v.isoformat().replace("T", " ")
    if isinstance(v, bytes):
        return "x:" + v.hex()
    return "s:" + str(v)


CANON_LUA = r'''
local function canon(v)
  if v == nil then return "nil" end
  if type(v) == "boolean" then return "b:" .. tostring(v) end
  if math.type(v) == "integer" then return "i:" .. v end
  if math.type(v) == "float" then return string.format("f:%.6g", v) end
  if type(v) == "string" then return "s:" .. v end
  return "?:" .. tostring(v)
end
'''

COMPARE = r'''
local cases = dofile(arg[1])
local env = setmetatable({}, {__index = _ENV})
local names = assert(load(cases.prelude .. "\nreturn {users = users, " ..
  "addresses = addresses, orders = orders, kinds = kinds, t1 = t1, " ..
  "pgonly = pgonly, nodes = nodes, seqd = seqd, ua = ua, uan = uan, m = m}", "prelude", "t", env))()
for k, v in pairs(names) do env[k] = v end
engine = create_engine(arg[2])
users, addresses, orders, m = names.users, names.addresses, names.orders, names.m
for _, t in ipairs({orders, addresses, users}) do
  pcall(function() local c <close> = engine:connect(); c:exec_driver_sql("DROP TABLE IF EXISTS " .. t.name); c:commit() end)
end
users:create(engine); addresses:create(engine); orders:create(engine)
FILL
CANON
local function num_eq(a, b)
  -- an exact numeric: the same number however written
  local x, y = a:match("^[ns]:(.*)$"), b:match("^[ns]:(.*)$")
  return x and y and tonumber(x) and tonumber(y) and tonumber(x) == tonumber(y)
end
local failed = 0
for i, case in ipairs(cases.cases) do
  local fn = load("return " .. case.lua, "case " .. i, "t", env)
  local ok, res = pcall(function()
    local conn <close> = engine:connect()
    local out = {}
    for _, row in ipairs(conn:execute(fn()):all()) do
      local vals = {}
      for j = 1, #row._fields do vals[j] = canon(row[j]) end
      out[#out + 1] = table.concat(vals, ",")
    end
    table.sort(out)
    return table.concat(out, " | ")
  end)
  local got = ok and res or ("!" .. (type(res) == "table" and tostring(res.kind) or tostring(res)))
  local want = case.rows
  local match = got == want
  if not match and want:sub(1, 1) == "!" then match = got:sub(1, 1) == "!" end
  if not match and want:sub(1, 1) ~= "!" and got:sub(1, 1) ~= "!" then
    -- compare value by value, exact numerics by their number
    local wr, gr = {}, {}
    for r in (want .. " | "):gmatch("(.-) | ") do wr[#wr + 1] = r end
    for r in (got .. " | "):gmatch("(.-) | ") do gr[#gr + 1] = r end
    match = #wr == #gr
    for k = 1, #wr do
      if not match then break end
      local wv, gv = {}, {}
      for v in (wr[k] .. ","):gmatch("(.-),") do wv[#wv + 1] = v end
      for v in (gr[k] .. ","):gmatch("(.-),") do gv[#gv + 1] = v end
      if #wv ~= #gv then match = false break end
      for q = 1, #wv do
        if wv[q] ~= gv[q] and not num_eq(wv[q], gv[q]) then match = false break end
      end
    end
  end
  if not match then
    failed = failed + 1
    io.write(string.format("FAIL case %d\n  py:   %s\n  lua:  %s\n  want: %s\n  got:  %s\n",
      i, case.py, case.lua, want, got))
  end
end
print(string.format("%d of %d cases differ", failed, #cases.cases))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--retort", default=os.path.join(fuzz_sql.ROOT, "build", "retort"))
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    if a.db == "sqlite":
        tmpdb = tempfile.NamedTemporaryFile(suffix=".db", delete=False).name
        py_url, lua_url = "sqlite:///" + tmpdb, "sqlite:///" + tmpdb + ".lua"
    else:
        lua_url = os.environ["RETORT_TEST_PG" if a.db == "postgresql" else "RETORT_TEST_MYSQL"]
        py_url = lua_url.replace("postgresql://", "postgresql+psycopg2://").replace(
            "mysql://", "mysql+mysqldb://").replace("mariadb://", "mysql+mysqldb://")
    g = Gen(random.Random(a.seed))
    env = dict(fuzz_sql.__dict__)
    eng = create_engine(py_url, future=True)
    users, addresses, orders = env["users"], env["addresses"], env["orders"]
    for t in (orders, addresses, users):
        t.drop(eng, checkfirst=True)
    for t in (users, addresses, orders):
        t.create(eng)
    with eng.begin() as c:
        for t in (users, addresses, orders):
            c.execute(t.insert(), ROWS[t.name])
    out = ["local M = {}\nM.prelude = " + fuzz_sql.lua_str(fuzz_sql.FUZZ_PRELUDE + "\nm = m\n") +
           "\nM.cases = {\n"]
    for _ in range(a.count):
        py, lua = g.select()
        try:
            stmt = eval(py, env)
        except Exception:
            continue
        try:
            with eng.connect() as c:
                rows = c.execute(stmt).all()
            rs = sorted(",".join(canon_py(v) for v in row) for row in rows)
            res = " | ".join(rs)
        except Exception as e:
            res = "!" + type(e).__name__
        out.append("  {py = %s, lua = %s, rows = %s},\n" % (
            fuzz_sql.lua_str(py), fuzz_sql.lua_str(lua), fuzz_sql.lua_str(res)))
    out.append("}\nreturn M\n")
    return fuzz_sql.run_compare(a.retort, "".join(out), COMPARE.replace("FILL", LUA_FILL).replace("CANON", CANON_LUA), lua_url)


if __name__ == "__main__":
    sys.exit(main())
