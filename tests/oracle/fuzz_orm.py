#!/usr/bin/python3
"""Differential fuzzing of ORM statement compilation against SQLAlchemy 1.4.

As fuzz_sql.py, for select() of mapped classes, aliased classes and their
attributes: joins along relationships, relationship operators (any, has),
eager loader options (joinedload with LIMIT wraps the statement in a
subquery), correlated subqueries.  The Python statements are compiled by
SQLAlchemy (str(), i.e. the ORM compile), the Lua ones by retort.

    /usr/bin/python3 tests/oracle/fuzz_orm.py [--seed S] [--count N] [--retort build/retort]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fuzz_sql  # noqa: E402
from fuzz_sql import E, Gen, lp, lua_q  # noqa: E402
from sqlalchemy.orm import (declarative_base, relationship, aliased,  # noqa: E402
                            joinedload, selectinload, contains_eager)

g_env = dict(fuzz_sql.__dict__)
g_env.update(declarative_base=declarative_base, relationship=relationship, aliased=aliased)
exec(compile('''
Base = declarative_base()
class User(Base):
    __table__ = users
    addresses = relationship("Address", back_populates="user")
    orders = relationship("Order")
class Address(Base):
    __table__ = addresses
    user = relationship("User", back_populates="addresses")
class Order(Base):
    __table__ = orders
ua = aliased(User, name="ua")
aa = aliased(Address)
''', "mapping", "exec"), g_env)
from sqlalchemy.orm import Session  # noqa: E402
g_env.update(joinedload=joinedload, selectinload=selectinload, aliased=aliased,
             contains_eager=contains_eager, sess=Session())

LUA_MAPPING = '''
local Base = orm.declarative_base()
local User = Base:class "User" {__table__ = users,
  addresses = relationship("Address", {back_populates = "user"}),
  orders = relationship("Order")}
local Address = Base:class "Address" {__table__ = addresses,
  user = relationship("User", {back_populates = "addresses"})}
local Order = Base:class "Order" {__table__ = orders}
local ua = orm.aliased(User, {name = "ua"})
local aa = orm.aliased(Address)
local sess = orm.Session()
'''

NUM = [("User.id", "User.id"), ("User.age", "User.age"), ("Address.user_id", "Address.user_id"),
       ("Order.amount", "Order.amount"), ("ua.id", "ua.id"), ("ua.age", "ua.age"),
       ("aa.id", "aa.id")]
STR = [("User.name", "User.name"), ("User.fullname", "User.fullname"),
       ("Address.email", "Address.email"), ("Order.status", "Order.status"),
       ("ua.name", "ua.name"), ("aa.email", "aa.email")]


def query(g):
    """A legacy Query: session.query(...).filter(...)... (its str())."""
    r = g.r
    k = r.randint(0, 4)
    if k == 0:
        py, lua = "sess.query(User)", "sess:query(User)"
    elif k == 1:
        cols = [g.column(1, i) for i in range(r.randint(1, 3))]
        py = "sess.query(%s)" % ", ".join(c.py for c in cols)
        lua = "sess:query(%s)" % ", ".join(c.lua for c in cols)
    elif k == 2:
        py, lua = "sess.query(User, Address)", "sess:query(User, Address)"
    elif k == 3:
        py, lua = "sess.query(User).options(joinedload(User.addresses))", \
            "sess:query(User):options(joinedload(User.addresses))"
    else:
        py, lua = "sess.query(ua, User.name)", "sess:query(ua, User.name)"
    if r.random() < 0.4:
        j = g.pick([(".join(User.addresses)", ":join(User.addresses)"),
                    (".outerjoin(User.orders)", ":outerjoin(User.orders)"),
                    (".join(Address, User.id == Address.user_id)",
                     ":join(Address, User.id:eq(Address.user_id))")])
        py += j[0]
        lua += j[1]
    if r.random() < 0.6:
        w = g.boolean(1)
        py += ".filter(%s)" % w.py
        lua += ":filter(%s)" % w.lua
    if r.random() < 0.2:
        py += ".filter_by(name='x')"
        lua += ":filter_by{name = 'x'}"
    if r.random() < 0.4:
        o = g.pick([g.num, g.string])(0)
        py += ".order_by(%s)" % o.py
        lua += ":order_by(%s)" % o.lua
    if r.random() < 0.2:
        py += ".distinct()"
        lua += ":distinct()"
    if r.random() < 0.3:
        n = r.randint(1, 9)
        py += ".limit(%d)" % n
        lua += ":limit(%d)" % n
        if r.random() < 0.5:
            py += ".offset(%d)" % n
            lua += ":offset(%d)" % n
    return py, lua


def stmt(g):
    r = g.r
    if r.random() < 0.3:
        return query(g)
    k = r.randint(0, 7)
    if k == 0:  # entity with a relationship join
        py, lua = "select(User)", "select(User)"
        j = g.pick([(".join(User.addresses)", ":join(User.addresses)"),
                    (".join(Address)", ":join(Address)"),
                    (".outerjoin(User.orders)", ":outerjoin(User.orders)"),
                    (".join(aa, User.addresses)", ":join(aa, User.addresses)"),
                    (".join(Address, User.id == Address.user_id)",
                     ":join(Address, User.id:eq(Address.user_id))")])
        py += j[0]
        lua += j[1]
    elif k == 1:  # columns of two entities
        cols = [g.column(1, i) for i in range(r.randint(1, 3))]
        py = "select(%s)" % ", ".join(c.py for c in cols)
        lua = "select(%s)" % ", ".join(c.lua for c in cols)
    elif k == 2:  # joined eager loading, maybe with LIMIT
        opt = g.pick([("joinedload(User.addresses)", "joinedload(User.addresses)"),
                      ("joinedload(User.orders)", "joinedload(User.orders)"),
                      ("selectinload(User.addresses)", "selectinload(User.addresses)"),
                      ("joinedload(User.addresses).joinedload(Address.user)",
                       "joinedload(User.addresses):joinedload(Address.user)")])
        py = "select(User).options(%s)" % opt[0]
        lua = "select(User):options(%s)" % opt[1]
        if r.random() < 0.6:
            n = r.randint(1, 9)
            py += ".limit(%d)" % n
            lua += ":limit(%d)" % n
    elif k == 3:  # relationship operators
        py, lua = "select(User)", "select(User)"
        w = g.pick([("User.addresses.any(Address.email.like('a%'))",
                     "User.addresses:any(Address.email:like('a%'))"),
                    ("User.addresses.any()", "User.addresses:any()"),
                    ("~User.orders.any(Order.amount > 5)", "~User.orders:any(Order.amount:gt(5))")])
        py += ".where(%s)" % w[0]
        lua += ":where(%s)" % w[1]
    elif k == 4:
        py, lua = "select(Address)", "select(Address)"
        w = g.pick([("Address.user.has(User.name == 'x')", "Address.user:has(User.name:eq('x'))"),
                    ("Address.user.has()", "Address.user:has()")])
        py += ".where(%s)" % w[0]
        lua += ":where(%s)" % w[1]
        if r.random() < 0.5:
            py += ".join(Address.user)"
            lua += ":join(Address.user)"
    elif k == 5:  # aliased self join
        py = "select(User, ua).join(ua, ua.id < User.id)"
        lua = "select(User, ua):join(ua, ua.id:lt(User.id))"
    elif k == 6:  # aggregate per entity
        py = ("select(User.name, func.count(Address.id).label('n')).join(User.addresses)"
              ".group_by(User.name)")
        lua = ("select(User.name, func.count(Address.id):label('n')):join(User.addresses)"
               ":group_by(User.name)")
        if r.random() < 0.5:
            py += ".having(func.count(Address.id) > 1)"
            lua += ":having(func.count(Address.id):gt(1))"
    else:  # subquery of an entity, then aliased to it
        py = "(lambda sq: select(aliased(User, sq)).where(sq.c.age > 1))(select(User).where(User.id > 2).subquery())"
        lua = ("(function(sq) return select(orm.aliased(User, sq)):where(sq.c.age:gt(1)) end)"
               "(select(User):where(User.id:gt(2)):subquery())")
    if r.random() < 0.6:
        w = g.boolean(1)
        py += ".where(%s)" % w.py
        lua += ":where(%s)" % w.lua
    if r.random() < 0.4:
        o = g.pick([g.num, g.string])(0)
        py += ".order_by(%s)" % o.py
        lua += ":order_by(%s)" % o.lua
    if r.random() < 0.15:
        py += ".distinct()"
        lua += ":distinct()"
    return py, lua


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--retort", default=os.path.join(fuzz_sql.ROOT, "build", "retort"))
    a = ap.parse_args()
    g = Gen(random.Random(a.seed), NUM, STR)
    out = ["local M = {}\nM.lit = false\nM.prelude = " +
           fuzz_sql.lua_str(fuzz_sql.FUZZ_PRELUDE + LUA_MAPPING +
                            "ORM = {User = User, Address = Address, Order = Order, ua = ua, aa = aa, sess = sess}\n") +
           "\nM.cases = {\n"]
    for _ in range(a.count):
        py, lua = stmt(g)
        try:
            s = eval(py, g_env)
            exp = {}
            if py.startswith("sess."):  # a Query: its str() alone
                try:
                    exp["default"] = str(s._statement_20().compile(
                        compile_kwargs={"render_postcompile": True}))
                except Exception as e:
                    exp["default"] = "!" + type(e).__name__
            else:
                for name in fuzz_sql.DIALECTS:
                    try:
                        exp[name] = fuzz_sql.render(s, name, False)
                    except Exception as e:
                        exp[name] = "!" + type(e).__name__
        except Exception:
            continue
        out.append("  {py = %s, lua = %s, expect = {%s}},\n" % (
            fuzz_sql.lua_str(py), fuzz_sql.lua_str(lua),
            ", ".join("%s = %s" % (k, fuzz_sql.lua_str(v)) for k, v in exp.items())))
    out.append("}\nreturn M\n")
    cmp_lua = fuzz_sql.COMPARE_LUA.replace(
        'for k, v in pairs(names) do env[k] = v end',
        'for k, v in pairs(names) do env[k] = v end\n'
        'for k, v in pairs(env.ORM) do env[k] = v end')
    return fuzz_sql.run_compare(a.retort, "".join(out), cmp_lua)


if __name__ == "__main__":
    sys.exit(main())
