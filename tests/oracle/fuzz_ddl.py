#!/usr/bin/python3
"""Differential fuzzing of DDL (CREATE TABLE / CREATE INDEX) against
SQLAlchemy 1.4: random tables (column types, nullability, keys,
autoincrement, defaults, server defaults, unique/index flags, foreign keys,
check and unique constraints), each written in Python and in Lua, rendered
for the default, sqlite, postgresql and mysql dialects and compared.

    /usr/bin/python3 tests/oracle/fuzz_ddl.py [--seed S] [--count N] [--retort build/retort]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

from sqlalchemy import *  # noqa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.schema import CreateTable, CreateIndex

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

DIALECTS = {"default": None, "sqlite": sqlite.dialect(),
            "postgresql": postgresql.dialect(), "mysql": mysql.dialect()}

# (python, lua, kind) of a column type
TYPES = [
    ("Integer", "Integer", "int"), ("BigInteger", "BigInteger", "int"),
    ("SmallInteger", "SmallInteger", "int"), ("String(30)", "String(30)", "str"),
    ("String", "String", "str"), ("Text", "Text", "str"), ("Unicode(10)", "Unicode(10)", "str"),
    ("UnicodeText", "UnicodeText", "str"), ("Boolean", "Boolean", "bool"),
    ("Date", "Date", "date"), ("DateTime", "DateTime", "date"),
    ("DateTime(timezone=True)", "DateTime{timezone = true}", "date"),
    ("Time", "Time", "date"), ("Float", "Float", "num"), ("Numeric(10, 2)", "Numeric(10, 2)", "num"),
    ("Numeric", "Numeric", "num"), ("LargeBinary", "LargeBinary", "bin"),
    ("Enum('a', 'b', name='ab')", "Enum('a', 'b', {name = 'ab'})", "enum"),
    ("JSON", "JSON", "json"), ("Interval", "Interval", "iv"),
    ("Float(precision=10)", "Float{precision = 10}", "num"),
    ("String(5, collation='C')", "String(5, {collation = 'C'})", "str"),
    ("Boolean(create_constraint=True)", "Boolean{create_constraint = true}", "bool"),
    ("Enum('x', 'y', name='xy', create_constraint=True)", "Enum('x', 'y', {name = 'xy', create_constraint = true})", "enum"),
]


def lua_q(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table(r, tn):
    cols_py, cols_lua, extra_py, extra_lua = [], [], [], []
    ncols = r.randint(1, 5)
    pk = r.random()
    names = ["c%d" % i for i in range(ncols)]
    for i, n in enumerate(names):
        t = r.choice(TYPES)
        kw_py, kw_lua, args_py, args_lua = [], [], [], []
        if i == 0 and pk < 0.7:
            kw_py.append("primary_key=True")
            kw_lua.append("primary_key = true")
            if t[2] == "int" and r.random() < 0.3:
                v = r.choice(["False", "True"])
                kw_py.append("autoincrement=%s" % v)
                kw_lua.append("autoincrement = %s" % v.lower())
        elif i == 1 and pk >= 0.85:
            pass
        if r.random() < 0.25:
            kw_py.append("nullable=False")
            kw_lua.append("nullable = false")
        if r.random() < 0.15 and t[2] in ("int", "str"):
            kw_py.append("unique=True")
            kw_lua.append("unique = true")
        if r.random() < 0.15 and t[2] in ("int", "str", "date"):
            kw_py.append("index=True")
            kw_lua.append("index = true")
        if r.random() < 0.2:
            sd = {"int": ("'5'", "'5'"), "str": ("'x'", "'x'"), "num": ("'1.5'", "'1.5'"),
                  "date": ("func.now()", "func.now()"), "bool": ("text('1')", "text('1')")}.get(t[2])
            if sd:
                kw_py.append("server_default=%s" % sd[0])
                kw_lua.append("server_default = %s" % sd[1])
        if r.random() < 0.15:
            kw_py.append("default=5")
            kw_lua.append("default = 5")
        if r.random() < 0.15 and t[2] == "int" and tn != "p":
            od = r.choice([None, "CASCADE", "SET NULL"])
            if od:
                args_py.append("ForeignKey('p.id', ondelete=%r)" % od)
                args_lua.append("ForeignKey('p.id', {ondelete = %s})" % lua_q(od))
            else:
                args_py.append("ForeignKey('p.id')")
                args_lua.append("ForeignKey('p.id')")
        py = "Column(%r, %s%s%s)" % (n, t[0], "".join(", " + a for a in args_py),
                                    "".join(", " + k for k in kw_py))
        lua = "Column(%s, %s%s%s)" % (lua_q(n), t[1], "".join(", " + a for a in args_lua),
                                      (", {" + ", ".join(kw_lua) + "}") if kw_lua else "")
        cols_py.append(py)
        cols_lua.append(lua)
    if pk >= 0.85 and ncols >= 2:
        extra_py.append("PrimaryKeyConstraint('c0', 'c1')")
        extra_lua.append("PrimaryKeyConstraint('c0', 'c1')")
    if r.random() < 0.2 and ncols >= 2:
        nm = r.choice([None, "uq_%s" % tn])
        extra_py.append("UniqueConstraint('c0', 'c1'%s)" % (", name=%r" % nm if nm else ""))
        extra_lua.append("UniqueConstraint('c0', 'c1'%s)" % (", {name = %s}" % lua_q(nm) if nm else ""))
    if r.random() < 0.2:
        nm = r.choice([None, "ck_%s" % tn])
        extra_py.append("CheckConstraint('c0 > 0'%s)" % (", name=%r" % nm if nm else ""))
        extra_lua.append("CheckConstraint('c0 > 0'%s)" % (", {name = %s}" % lua_q(nm) if nm else ""))
    if r.random() < 0.15 and ncols >= 2:
        extra_py.append("Index('uix_%s_c1', 'c1', unique=True)" % tn)
        extra_lua.append("Index('uix_%s_c1', 'c1', {unique = true})" % tn)
    py = "Table(%r, m, %s)" % (tn, ", ".join(cols_py + extra_py))
    lua = "Table(%s, m, %s)" % (lua_q(tn), ", ".join(cols_lua + extra_lua))
    return py, lua


COMPARE = r'''
local cases = dofile(arg[1])
local function norm(s)
  s = s:gsub("%s+", " "):gsub("%( ", "("):gsub(" %)", ")")
  return (s:gsub("^ ", ""):gsub(" $", ""))
end
local failed = 0
for i, case in ipairs(cases) do
  local ok, res = pcall(function()
    local m = MetaData()
    Table("p", m, Column("id", Integer, {primary_key = true}))
    local t = assert(load("local m = ...; return " .. case.lua, "case", "t", _ENV))(m)
    local out = {}
    for _, d in ipairs({"default", "sqlite", "postgresql", "mysql"}) do
      local parts = {}
      local cok, err = pcall(function()
        parts[#parts + 1] = norm(CreateTable(t):compile(d).sql)
        local ixs = {}
        for _, ix in ipairs(t.indexes) do ixs[#ixs + 1] = ix end
        table.sort(ixs, function(a, b) return a.name < b.name end)
        for _, ix in ipairs(ixs) do parts[#parts + 1] = norm(CreateIndex(ix):compile(d).sql) end
      end)
      out[d] = cok and table.concat(parts, " ;; ") or ("!" .. tostring(type(err) == "table" and err.kind or err))
    end
    return out
  end)
  for _, d in ipairs({"default", "sqlite", "postgresql", "mysql"}) do
    local want = case.expect[d]
    local got = ok and res[d] or ("!" .. tostring(res))
    local match
    if want:sub(1, 1) == "!" then match = got:sub(1, 1) == "!" else match = got == norm(want) end
    if not match then
      failed = failed + 1
      io.write(string.format("FAIL case %d [%s]\n  py:   %s\n  lua:  %s\n  want: %s\n  got:  %s\n",
        i, d, case.py, case.lua, norm(want), got))
      break
    end
  end
end
print(string.format("%d of %d cases differ", failed, #cases))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--retort", default=os.path.join(ROOT, "build", "retort"))
    a = ap.parse_args()
    r = random.Random(a.seed)
    out = ["return {\n"]
    for k in range(a.count):
        py, lua = table(r, "t%d" % k)
        m = MetaData()
        Table("p", m, Column("id", Integer, primary_key=True))
        try:
            t = eval(py, dict(globals(), m=m))
        except Exception:
            continue
        exp = {}
        for name, d in DIALECTS.items():
            try:
                parts = [str(CreateTable(t).compile(dialect=d))]
                for ix in sorted(t.indexes, key=lambda i: i.name):
                    parts.append(str(CreateIndex(ix).compile(dialect=d)))
                import re
                exp[name] = " ;; ".join(re.sub(r"\s+", " ", p).replace("( ", "(").replace(" )", ")").strip()
                                        for p in parts)
            except Exception as e:
                exp[name] = "!" + type(e).__name__
        out.append("  {py = [==[%s]==], lua = [==[%s]==], expect = {%s}},\n" % (
            py, lua, ", ".join("%s = [==[%s]==]" % (k2, v) for k2, v in exp.items())))
    out.append("}\n")
    sys.path.insert(0, HERE)
    import fuzz_sql
    return fuzz_sql.run_compare(a.retort, "".join(out), COMPARE)


if __name__ == "__main__":
    sys.exit(main())
