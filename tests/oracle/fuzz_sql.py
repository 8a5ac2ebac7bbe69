#!/usr/bin/python3
"""Differential fuzzing of the SQL compiler against SQLAlchemy 1.4.

Builds random SELECT statements (expressions of every kind API.md section 3
lists, joins, subqueries, set operations), each written in Python and in
Lua from one random tree, renders the Python one with SQLAlchemy for the
default string form and the sqlite, postgresql and mysql dialects (as
gen_sql_cases.py renders its cases), has retort render the Lua one, and
prints the cases whose text differs (white space aside).

    /usr/bin/python3 tests/oracle/fuzz_sql.py [--seed S] [--count N] [--retort build/retort]

A difference found this way is fixed and then pinned as an ordinary case
of gen_sql_cases.py; this script itself is a development tool, not a test.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
src = open(os.path.join(HERE, "gen_sql_cases.py")).read().rsplit("\nmain()", 1)[0]
exec(compile(src, "gen_sql_cases.py", "exec"))
ua = users.alias("ua")
uan = users.alias()
FUZZ_PRELUDE = LUA_PRELUDE + 'local ua = users:alias("ua")\nlocal uan = users:alias()\n'


class E:
    """One random expression: its Python and Lua spellings and its type."""

    def __init__(self, py, lua, kind, atom=False):
        self.py, self.lua, self.kind, self.atom = py, lua, kind, atom


NUM_COLS = [("users.c.id", "users.c.id"), ("users.c.age", "users.c.age"),
            ("ua.c.id", "ua.c.id"), ("ua.c.age", "ua.c.age"), ("uan.c.id", "uan.c.id"),
            ("addresses.c.user_id", "addresses.c.user_id"),
            ("orders.c.amount", "orders.c.amount"), ("orders.c.order", "orders.c.order")]
STR_COLS = [("users.c.name", "users.c.name"), ("users.c.fullname", "users.c.fullname"),
            ("ua.c.name", "ua.c.name"),
            ("addresses.c.email", "addresses.c.email"), ("orders.c.status", "orders.c.status"),
            ("orders.c.Note", "orders.c.Note")]


class Gen:
    def __init__(self, rnd, num_cols=None, str_cols=None):
        self.r = rnd
        self.num_cols = num_cols or NUM_COLS
        self.str_cols = str_cols or STR_COLS

    def pick(self, xs):
        return self.r.choice(xs)

    def num(self, d):
        r = self.r
        if d <= 0 or r.random() < 0.3:
            c = self.pick(self.num_cols)
            if r.random() < 0.2:
                v = r.randint(0, 9)
                return E("literal(%d)" % v, "literal(%d)" % v, "num", True)
            return E(c[0], c[1], "num", True)
        k = r.randint(0, 9)
        if k <= 3:
            a, b = self.num(d - 1), self.num(d - 1)
            op = self.pick(["+", "-", "*", "/", "%"])
            if r.random() < 0.25:  # a plain number on one side
                v = r.randint(1, 9)
                if r.random() < 0.5:
                    return E("(%s %s %d)" % (a.py, op, v), "(%s %s %d)" % (a.lua, op, v), "num")
                return E("(%d %s %s)" % (v, op, a.py), "(%d %s %s)" % (v, op, a.lua), "num")
            return E("(%s %s %s)" % (a.py, op, b.py), "(%s %s %s)" % (a.lua, op, b.lua), "num")
        if k == 4:
            a = self.num(d - 1)
            return E("(-%s)" % a.py, "(-%s)" % a.lua, "num")
        if k == 5:
            f = self.pick(["abs", "max", "min", "count", "sum", "coalesce", "round"])
            a = self.num(d - 1)
            if f == "coalesce":
                b = self.num(d - 1)
                return E("func.coalesce(%s, %s)" % (a.py, b.py),
                         "func.coalesce(%s, %s)" % (a.lua, b.lua), "num", True)
            return E("func.%s(%s)" % (f, a.py), "func.%s(%s)" % (f, a.lua), "num", True)
        if k == 6:
            a = self.num(d - 1)
            t = self.pick(["Integer", "Numeric(10, 2)", "Float"])
            return E("cast(%s, %s)" % (a.py, t), "cast(%s, %s)" % (a.lua, t), "num", True)
        if k == 7:
            c, a, b = self.boolean(d - 1), self.num(d - 1), self.num(d - 1)
            if r.random() < 0.5:
                return E("case((%s, %s), else_=%s)" % (c.py, a.py, b.py),
                         "case({{%s, %s}}, {else_ = %s})" % (c.lua, a.lua, b.lua), "num", True)
            return E("case((%s, %s))" % (c.py, a.py), "case({{%s, %s}})" % (c.lua, a.lua), "num", True)
        if k == 8:
            return self.scalar_sub(d - 1)
        a = self.string(d - 1)
        return E("func.length(%s)" % a.py, "func.length(%s)" % a.lua, "num", True)

    def string(self, d):
        r = self.r
        if d <= 0 or r.random() < 0.35:
            if r.random() < 0.15:
                s = self.pick(["abc", "x%y", "it's"])
                return E("literal(%r)" % s, "literal(%s)" % lua_q(s), "str", True)
            c = self.pick(self.str_cols)
            return E(c[0], c[1], "str", True)
        k = r.randint(0, 4)
        if k <= 1:
            a, b = self.string(d - 1), self.string(d - 1)
            if r.random() < 0.3:
                return E("(%s + %r)" % (a.py, "-"), "(%s + %s)" % (a.lua, lua_q("-")), "str")
            return E("(%s + %s)" % (a.py, b.py), "(%s + %s)" % (a.lua, b.lua), "str")
        if k == 2:
            f = self.pick(["lower", "upper", "trim"])
            a = self.string(d - 1)
            return E("func.%s(%s)" % (f, a.py), "func.%s(%s)" % (f, a.lua), "str", True)
        if k == 3:
            a = self.string(d - 1)
            return E("func.coalesce(%s, %r)" % (a.py, "none"),
                     "func.coalesce(%s, %s)" % (a.lua, lua_q("none")), "str", True)
        a = self.string(d - 1)
        return E("cast(%s, String(20))" % a.py, "cast(%s, String(20))" % a.lua, "str", True)

    def scalar_sub(self, d):
        if self.r.random() < 0.5:
            w = self.boolean(max(d - 1, 0))
            return E("select(func.count(addresses.c.id)).where(%s).scalar_subquery()" % w.py,
                     "select(func.count(addresses.c.id)):where(%s):scalar_subquery()" % w.lua,
                     "num", True)
        return E("select(func.max(orders.c.amount)).where(orders.c.user_id == users.c.id)"
                 ".scalar_subquery()",
                 "select(func.max(orders.c.amount)):where(orders.c.user_id:eq(users.c.id))"
                 ":scalar_subquery()", "num", True)

    def boolean(self, d):
        r = self.r
        k = r.randint(0, 13)
        if d <= 0 and k >= 9:
            k = r.randint(0, 8)
        if k <= 2:
            op = self.pick([("==", "eq"), ("!=", "ne"), ("<", "lt"), (">", "gt"),
                            ("<=", "le"), (">=", "ge")])
            if r.random() < 0.5:
                a, b = self.num(d - 1), self.num(d - 1)
            else:
                a, b = self.string(d - 1), self.string(d - 1)
            if r.random() < 0.4:
                v = r.randint(0, 99) if a.kind == "num" else "v%d" % r.randint(0, 9)
                return E("(%s %s %r)" % (a.py, op[0], v),
                         "%s:%s(%s)" % (lp(a), op[1], lua_v(v)), "bool")
            if a.py.startswith("func.") and b.py.startswith("func."):
                # (Python reflects a > b to b < a when b's class derives
                # from a's, as coalesce's does from a plain function's)
                b = self.num(0) if a.kind == "num" else self.string(0)
            return E("(%s %s %s)" % (a.py, op[0], b.py), "%s:%s(%s)" % (lp(a), op[1], b.lua), "bool")
        if k == 3:
            a = self.string(d - 1)
            m = self.pick(["like", "not_like", "ilike", "startswith", "endswith", "contains"])
            pat = self.pick(["a%", "%b_", "x"])
            return E("%s.%s(%r)" % (a.py, m, pat), "%s:%s(%s)" % (lp(a), m, lua_q(pat)), "bool")
        if k == 4:
            a = self.num(d - 1)
            vs = [r.randint(0, 9) for _ in range(r.randint(1, 3))]
            m = self.pick(["in_", "not_in"])
            return E("%s.%s(%r)" % (a.py, m, vs),
                     "%s:%s({%s})" % (lp(a), m, ", ".join(map(str, vs))), "bool")
        if k == 5:
            a = self.num(d - 1)
            lo, hi = r.randint(0, 5), r.randint(5, 9)
            return E("%s.between(%d, %d)" % (a.py, lo, hi),
                     "%s:between(%d, %d)" % (lp(a), lo, hi), "bool")
        if k == 6:
            a = self.pick([self.num(0), self.string(0)])
            m = self.pick([("is_(None)", "is_(nil)"), ("is_not(None)", "is_not(nil)"),
                           ("== None", ":eq(nil)"), ("!= None", ":ne(nil)")])
            if m[0].startswith("="):
                return E("(%s %s)" % (a.py, m[0]), "%s%s" % (lp(a), m[1]), "bool")
            if m[0].startswith("!"):
                return E("(%s %s)" % (a.py, m[0]), "%s%s" % (lp(a), m[1]), "bool")
            return E("%s.%s" % (a.py, m[0]), "%s:%s" % (lp(a), m[1]), "bool")
        if k == 7:
            a = self.num(0)
            return E("%s.in_(select(orders.c.user_id).where(orders.c.amount > 5))" % a.py,
                     "%s:in_(select(orders.c.user_id):where(orders.c.amount:gt(5)))" % lp(a),
                     "bool")
        if k == 8:
            w = self.boolean(0)
            return E("exists().where(%s)" % w.py, "exists():where(%s)" % w.lua, "bool")
        if r.random() < 0.3:
            return self.misc_bool(d)
        a, b = self.boolean(d - 1), self.boolean(d - 1)
        if k == 9:
            return E("and_(%s, %s)" % (a.py, b.py), "and_(%s, %s)" % (a.lua, b.lua), "bool")
        if k == 10:
            return E("or_(%s, %s)" % (a.py, b.py), "or_(%s, %s)" % (a.lua, b.lua), "bool")
        if k == 11:
            return E("not_(%s)" % a.py, "not_(%s)" % a.lua, "bool")
        if k == 12:
            return E("(%s & %s)" % (a.py, b.py), "(%s & %s)" % (a.lua, b.lua), "bool")
        return E("(%s | %s)" % (a.py, b.py), "(%s | %s)" % (a.lua, b.lua), "bool")

    def misc_bool(self, d):
        r = self.r
        a = self.num(max(d - 1, 0))
        st = self.string(max(d - 1, 0))
        k = r.randint(0, 15)
        if k == 0:
            return E("%s.ilike('Ab%%')" % st.py, "%s:ilike(%s)" % (lp(st), lua_q("Ab%")), "bool")
        if k == 1:
            return E("%s.not_ilike('x')" % st.py, "%s:not_ilike(%s)" % (lp(st), lua_q("x")), "bool")
        if k == 2:
            return E("%s.in_([])" % a.py, "%s:in_({})" % lp(a), "bool")
        if k == 3:
            return E("%s.not_in([])" % a.py, "%s:not_in({})" % lp(a), "bool")
        if k == 4:
            return E("%s.is_distinct_from(%s)" % (a.py, self.num(0).py),
                     "%s:is_distinct_from(%s)" % (lp(a), self.num(0).lua), "bool") if False else \
                E("%s.between(1, 5, symmetric=True)" % a.py, "%s:between(1, 5, {symmetric = true})" % lp(a), "bool")
        if k == 5:
            return E("tuple_(users.c.id, users.c.name).in_([(1, 'a'), (2, 'b')])",
                     "tuple_(users.c.id, users.c.name):in_({{1, 'a'}, {2, 'b'}})", "bool")
        if k == 6:
            return E("%s.op('&')(3) == 1" % a.py if False else "(%s.op('&')(3) == 1)" % a.py,
                     "%s:op('&')(3):eq(1)" % lp(a), "bool")
        if k == 7:
            return E("and_(true(), %s)" % self.boolean(0).py if False else "and_(%s, true())" % (lambda b: b.py)(self._last_bool(0)),
                     "and_(%s, true_())" % self._lastb.lua, "bool")
        if k == 8:
            return E("or_(%s, false())" % (lambda b: b.py)(self._last_bool(0)),
                     "or_(%s, false_())" % self._lastb.lua, "bool")
        if k == 9:
            return E("%s.regexp_match('^a')" % st.py, "%s:regexp_match(%s)" % (lp(st), lua_q("^a")), "bool")
        if k == 10:
            return E("(%s == any_(select(orders.c.user_id).scalar_subquery()))" % a.py if False else
                     "%s.in_(select(orders.c.user_id).where(orders.c.user_id == users.c.id).scalar_subquery())" % a.py,
                     "%s:in_(select(orders.c.user_id):where(orders.c.user_id:eq(users.c.id)):scalar_subquery())" % lp(a), "bool")
        if k == 11:
            return E("%s.collate('nocase') == 'x'" % st.py if False else "(%s.collate('nocase') == 'x')" % st.py,
                     "%s:collate('nocase'):eq('x')" % lp(st), "bool")
        if k == 12:
            return E("text('users.id > 3')", "text('users.id > 3')", "bool")
        if k == 13:
            return E("exists(select(orders.c.id).where(orders.c.user_id == users.c.id))",
                     "exists(select(orders.c.id):where(orders.c.user_id:eq(users.c.id)))", "bool")
        if k == 14:
            return E("(%s == select(func.max(orders.c.amount)).scalar_subquery())" % a.py,
                     "%s:eq(select(func.max(orders.c.amount)):scalar_subquery())" % lp(a), "bool")
        return E("%s.startswith('a', autoescape=True)" % st.py,
                 "%s:startswith('a', {autoescape = true})" % lp(st), "bool")

    def _last_bool(self, d):
        self._lastb = self.boolean(d)
        return self._lastb

    def column(self, d, i):
        r = self.r
        e = self.pick([self.num, self.string])(d)
        if r.random() < 0.4 or not e.atom:
            if r.random() < 0.7:
                return E("%s.label('c%d')" % (e.py, i), "%s:label(%s)" % (lp(e), lua_q("c%d" % i)), e.kind)
        return e

    def select(self, d=2):
        r = self.r
        cols = [self.column(d, i) for i in range(r.randint(1, 3))]
        py = "select(%s)" % ", ".join(c.py for c in cols)
        lua = "select(%s)" % ", ".join(c.lua for c in cols)
        if r.random() < 0.3:
            j = self.pick([("users.join(addresses)", "users:join(addresses)"),
                           ("users.outerjoin(orders)", "users:outerjoin(orders)"),
                           ("users.join(orders, orders.c.user_id == users.c.id)",
                            "users:join(orders, orders.c.user_id:eq(users.c.id))")])
            py += ".select_from(%s)" % j[0]
            lua += ":select_from(%s)" % j[1]
        if r.random() < 0.8:
            w = self.boolean(d)
            py += ".where(%s)" % w.py
            lua += ":where(%s)" % w.lua
        if r.random() < 0.2:
            g = self.num(0)
            py += ".group_by(%s)" % g.py
            lua += ":group_by(%s)" % g.lua
            if r.random() < 0.5:
                h = self.boolean(0)
                py += ".having(%s)" % h.py
                lua += ":having(%s)" % h.lua
        if r.random() < 0.4:
            o = self.pick([self.num, self.string])(1)
            if r.random() < 0.5:
                py += ".order_by(%s.desc())" % o.py
                lua += ":order_by(%s:desc())" % lp(o)
            else:
                py += ".order_by(%s)" % o.py
                lua += ":order_by(%s)" % o.lua
        if r.random() < 0.2:
            py += ".distinct()"
            lua += ":distinct()"
        if r.random() < 0.25:
            n = r.randint(1, 20)
            py += ".limit(%d)" % n
            lua += ":limit(%d)" % n
            if r.random() < 0.5:
                py += ".offset(%d)" % n
                lua += ":offset(%d)" % n
        return py, lua


def labelled(g, d, n):
    """n labelled columns c0.. for a select used as a FROM."""
    cols = []
    for i in range(n):
        e = g.pick([g.num, g.string])(d)
        cols.append(E("%s.label('c%d')" % (e.py, i), "%s:label(%s)" % (lp(e), lua_q("c%d" % i)),
                      e.kind))
    return cols


def inner_select(g, n):
    cols = labelled(g, 1, n)
    py = "select(%s)" % ", ".join(c.py for c in cols)
    lua = "select(%s)" % ", ".join(c.lua for c in cols)
    if g.r.random() < 0.7:
        w = g.boolean(1)
        py += ".where(%s)" % w.py
        lua += ":where(%s)" % w.lua
    return py, lua, cols


def from_stmt(g):
    """A select from a subquery, CTE or set operation of labelled columns."""
    r = g.r
    n = r.randint(1, 3)
    shape = r.choice(["subquery", "cte", "compound", "compound_sq"])
    a_py, a_lua, cols = inner_select(g, n)
    if shape in ("compound", "compound_sq"):
        b_py, b_lua, _ = inner_select(g, n)
        op = r.choice(["union", "union_all", "except_", "intersect"])
        c_py = "%s(%s, %s)" % (op, a_py, b_py)
        c_lua = "%s(%s, %s)" % (op, a_lua, b_lua)
        if shape == "compound":
            if r.random() < 0.5:
                c_py += ".order_by(%r)" % "c0"
                c_lua += ":order_by(%s)" % lua_q("c0")
            if r.random() < 0.3:
                c_py += ".limit(3)"
                c_lua += ":limit(3)"
            return c_py, c_lua
        a_py, a_lua = c_py, c_lua
    name = r.choice([None, "sq"])
    meth = "cte" if shape == "cte" else "subquery"
    if name:
        src_py = "%s.%s(%r)" % (a_py, meth, name)
        src_lua = "%s:%s(%s)" % (a_lua, meth, lua_q(name))
    else:
        src_py = "%s.%s()" % (a_py, meth)
        src_lua = "%s:%s()" % (a_lua, meth)
    # the outer select names the source's columns through a local
    picks = sorted(set(r.randint(0, n - 1) for _ in range(r.randint(1, n))))
    outer = ["s.c.c%d" % i for i in picks]
    py_cols, lua_cols = list(outer), list(outer)
    if r.random() < 0.4:
        e = g.num(1)
        py_cols.append(e.py)
        lua_cols.append(e.lua)
    py = "select(%s)" % ", ".join(py_cols)
    lua = "select(%s)" % ", ".join(lua_cols)
    if r.random() < 0.6:
        i = r.randint(0, n - 1)
        if cols[i].kind == "num":
            py += ".where(s.c.c%d > 3)" % i
            lua += ":where(s.c.c%d:gt(3))" % i
        else:
            py += ".where(s.c.c%d.like('a%%'))" % i
            lua += ":where(s.c.c%d:like(%s))" % (i, lua_q("a%"))
    if r.random() < 0.3:
        py += ".order_by(s.c.c0.desc())"
        lua += ":order_by(s.c.c0:desc())"
    return ("(lambda s: %s)(%s)" % (py, src_py),
            "(function(s) return %s end)(%s)" % (lua, src_lua))


def window_stmt(g):
    r = g.r
    f = r.choice([("func.row_number()", "func.row_number()"), ("func.rank()", "func.rank()"),
                  ("func.sum(users.c.age)", "func.sum(users.c.age)"),
                  ("func.count(users.c.id)", "func.count(users.c.id)")])
    kw_py, kw_lua = [], []
    if r.random() < 0.6:
        p = g.num(0)
        kw_py.append("partition_by=%s" % p.py)
        kw_lua.append("partition_by = %s" % p.lua)
    if r.random() < 0.7:
        o = g.pick([g.num, g.string])(0)
        if r.random() < 0.5:
            kw_py.append("order_by=%s.desc()" % o.py)
            kw_lua.append("order_by = %s:desc()" % lp(o))
        else:
            kw_py.append("order_by=%s" % o.py)
            kw_lua.append("order_by = %s" % o.lua)
    w_py = "%s.over(%s)" % (f[0], ", ".join(kw_py))
    w_lua = "%s:over({%s})" % (f[1], ", ".join(kw_lua))
    if r.random() < 0.5:
        w_py += ".label('w')"
        w_lua += ":label('w')"
    c = g.column(1, 0)
    return "select(%s, %s)" % (c.py, w_py), "select(%s, %s)" % (c.lua, w_lua)


def dml_stmt(g):
    r = g.r
    k = r.choice(["update", "delete", "insert"])
    if k == "delete":
        w = g.boolean(1)
        return "delete(users).where(%s)" % w.py, "delete(users):where(%s)" % w.lua
    if k == "insert":
        v = g.string(1)
        return ("insert(users).values(name=%s, age=%d)" % (v.py, r.randint(0, 9)),
                "insert(users):values{name = %s, age = %d}" % (v.lua, r.randint(0, 9))) \
            if False else \
            ("insert(users).values(name=%r, age=%d)" % ("n", 4),
             "insert(users):values{name = %s, age = %d}" % (lua_q("n"), 4))
    s = g.string(1)
    n = g.num(1)
    w = g.boolean(1)
    return ("update(users).where(%s).values(name=%s, age=%s)" % (w.py, s.py, n.py),
            "update(users):where(%s):values{name = %s, age = %s}" % (w.lua, s.lua, n.lua))


def any_stmt(g):
    k = g.r.random()
    if k < 0.45:
        return g.select()
    if k < 0.75:
        return from_stmt(g)
    if k < 0.87:
        return window_stmt(g)
    return dml_stmt(g)


def lua_q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_v(v):
    return str(v) if isinstance(v, int) else lua_q(v)


def lp(e):
    """The Lua receiver of a method call: atoms as they are, the rest in
    parentheses (a Lua operator expression binds looser than ':')."""
    return e.lua if e.atom else "(" + e.lua + ")"


COMPARE_LUA = r'''
local cases = dofile(arg[1])
local function norm(s)
  s = s:gsub("%s+", " "):gsub("%( ", "("):gsub(" %)", ")")
  return (s:gsub("^ ", ""):gsub(" $", ""))
end
local env = setmetatable({}, {__index = _ENV})
local names = assert(load(cases.prelude .. "\nreturn {users = users, " ..
  "addresses = addresses, orders = orders, kinds = kinds, t1 = t1, " ..
  "pgonly = pgonly, nodes = nodes, seqd = seqd, ua = ua, uan = uan}", "prelude", "t", env))()
for k, v in pairs(names) do env[k] = v end
local failed = 0
for i, case in ipairs(cases.cases) do
  local fn, err = load("return " .. case.lua, "case " .. i, "t", env)
  local ok, stmt = pcall(fn or error, err)
  for _, dialect in ipairs({"default", "sqlite", "postgresql", "mysql"}) do
    local want = case.expect[dialect]
    if want == nil then goto next end
    local got
    if not ok then
      got = "!" .. tostring(stmt)
    else
      local cok, res = pcall(function()
        if dialect == "default" and not cases.lit then return tostring(stmt) end
        return stmt:compile(dialect, {literal_binds = cases.lit}).sql
      end)
      if cok then got = res
      elseif type(res) == "table" and res.kind then
        got = "!" .. res.kind .. ": " .. tostring(res.message)
      else got = "!" .. tostring(res) end
    end
    local match
    if want:sub(1, 1) == "!" then match = got:sub(1, 1) == "!"
    else match = norm(got) == norm(want) end
    if not match then
      failed = failed + 1
      io.write(string.format("FAIL case %d [%s]\n  py:   %s\n  lua:  %s\n  want: %s\n  got:  %s\n",
        i, dialect, case.py, case.lua, norm(want), norm(got)))
      break
    end
    ::next::
  end
end
print(string.format("%d of %d cases differ", failed, #cases.cases))
'''


def run_compare(retort, cases_text, compare_lua, *args):
    """Run the Lua comparison script compare_lua on the cases (a Lua chunk
    returning them) with retort, print its report; 1 when a case differs."""
    with tempfile.TemporaryDirectory() as tmp:
        cases = os.path.join(tmp, "cases.lua")
        cmp = os.path.join(tmp, "compare.lua")
        open(cases, "w").write(cases_text)
        open(cmp, "w").write(compare_lua)
        r = subprocess.run([retort, "--norc", cmp, cases] + list(args),
                           capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        sys.stdout.write(r.stderr)
        return 1 if r.returncode or " 0 of " not in r.stdout else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--retort", default=os.path.join(ROOT, "build", "retort"))
    ap.add_argument("--lit", action="store_true", help="compile with literal_binds")
    a = ap.parse_args()
    g = Gen(random.Random(a.seed))
    env = dict(globals())
    out = ["local M = {}\nM.lit = %s\nM.prelude = " % ("true" if a.lit else "false") +
           lua_str(FUZZ_PRELUDE) + "\nM.cases = {\n"]
    made = 0
    for _ in range(a.count):
        py, lua = any_stmt(g)
        try:
            stmt = eval(py, env)
        except Exception:
            continue  # SQLAlchemy refuses the construct: not a case
        exp = {}
        for name in DIALECTS:
            try:
                exp[name] = render(stmt, name, a.lit)
            except Exception as e:
                exp[name] = "!" + type(e).__name__
        out.append("  {py = %s, lua = %s, expect = {%s}},\n" % (
            lua_str(py), lua_str(lua),
            ", ".join("%s = %s" % (k, lua_str(v)) for k, v in exp.items())))
        made += 1
    out.append("}\nreturn M\n")
    return run_compare(a.retort, "".join(out), COMPARE_LUA)

if __name__ == "__main__":
    sys.exit(main())
