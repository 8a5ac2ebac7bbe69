#!/usr/bin/python3
"""Differential fuzzing of ORM Session behaviour against SQLAlchemy 1.4.

A random program of session operations on a User/Address mapping (add,
collection append/remove, attribute sets, delete, flush, commit, rollback,
expire, refresh, expunge, get, queries) is written in Python and in Lua.
Both run on SQLite; after each step each side prints the SQL statements
the step emitted (with their parameters) and a snapshot of every object
handle (its state, and its loaded attributes read without SQL), and the
first step where the two transcripts differ is reported.

    /usr/bin/python3 tests/oracle/fuzz_session.py [--seed S] [--count N] [--steps K]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

PY_PRELUDE = r'''
import sys
from sqlalchemy import *
from sqlalchemy.orm import *
from sqlalchemy import event
engine = create_engine("sqlite://", future=True)
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(30))
    addresses = relationship("Address", back_populates="user", cascade="all, delete-orphan", order_by="Address.id")
class Address(Base):
    __tablename__ = "addresses"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"))
    email = Column(String(30))
    user = relationship("User", back_populates="addresses")
Base.metadata.create_all(engine)
LOG = []
@event.listens_for(engine, "before_cursor_execute")
def _log(conn, cursor, stmt, params, context, executemany):
    LOG.append("%s %s" % (" ".join(stmt.split()), repr(params)))
session = Session(engine, future=True)
H = []
KEEP = []  # objects loaded by the program's queries, kept alive (the identity map is weak)
def state(o):
    st = inspect(o)
    s = ("transient" if st.transient else "pending" if st.pending else "persistent" if st.persistent
         else "deleted" if st.deleted else "detached")
    vals = []
    unloaded = st.unloaded
    for k in ("id", "name", "email", "user_id"):
        if k in st.mapper.column_attrs.keys() and k not in unloaded:
            v = st.attrs[k].loaded_value
            vals.append("%s=%s" % (k, "nil" if v is None else v))
    return s + "(" + ",".join(vals) + ")"
def step(n, fn):
    del LOG[:]
    try:
        r = fn()
        out = "ok" if r is None else "ok " + str(r)
    except Exception as e:
        out = "error " + type(e).__name__
    print("step %d: %s" % (n, out))
    for l in LOG:
        print("  sql " + l)
    print("  new=%d dirty=%d deleted=%d" % (len(session.new), len(session.dirty), len(session.deleted)))
    for i, o in enumerate(H):
        print("  h%d %s" % (i + 1, state(o)))
'''

LUA_PRELUDE = r'''
local engine = create_engine("sqlite://")
local Base = orm.declarative_base()
local User = Base:class "User" {__tablename__ = "users",
  id = Column(Integer, {primary_key = true}), name = Column(String(30)),
  addresses = relationship("Address", {back_populates = "user", cascade = "all, delete-orphan", order_by = "Address.id"})}
local Address = Base:class "Address" {__tablename__ = "addresses",
  id = Column(Integer, {primary_key = true}), user_id = Column(Integer, ForeignKey("users.id")),
  email = Column(String(30)), user = relationship("User", {back_populates = "addresses"})}
Base.metadata:create_all(engine)
local LOG = {}
local function repr(v)
  if v == nil or v == sa.null then return "None" end
  if type(v) == "string" then return "'" .. v .. "'" end
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = repr(v[i]) end
    if #v == 1 then return "(" .. parts[1] .. ",)" end
    return "(" .. table.concat(parts, ", ") .. ")"
  end
  return tostring(v)
end
local function reprparams(p, many)
  if many then
    local parts = {}
    for i = 1, #p do parts[i] = repr(p[i]) end
    return "(" .. table.concat(parts, ", ") .. ")"
  end
  return repr(p)
end
orm.event.listen(engine, "before_cursor_execute", function(conn, cursor, stmt, params, context, executemany)
  LOG[#LOG + 1] = stmt:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "") .. " " .. reprparams(params, executemany)
end)
local session = orm.Session(engine)
local H = {}
local KEEP = {}
local function state(o)
  local st = orm.inspect(o)
  local s = st.transient and "transient" or st.pending and "pending" or st.persistent and "persistent"
    or st.deleted and "deleted" or "detached"
  local vals, unloaded = {}, {}
  for _, k in ipairs(st.unloaded) do unloaded[k] = true end
  for _, k in ipairs({"id", "name", "email", "user_id"}) do
    if st.mapper.column_attrs[k] and not unloaded[k] then
      local v = st.attrs[k].loaded_value
      vals[#vals + 1] = k .. "=" .. ((v == nil or v == sa.null) and "nil" or tostring(v))
    end
  end
  return s .. "(" .. table.concat(vals, ",") .. ")"
end
local function step(n, fn)
  for i = #LOG, 1, -1 do LOG[i] = nil end
  local ok, r = pcall(fn)
  local out
  if ok then out = r == nil and "ok" or ("ok " .. tostring(r))
  else out = "error " .. tostring(type(r) == "table" and r.kind or r) end
  print(string.format("step %d: %s", n, out))
  for _, l in ipairs(LOG) do print("  sql " .. l) end
  local function count(t) local c = 0 for _ in pairs(t) do c = c + 1 end return c end
  print(string.format("  new=%d dirty=%d deleted=%d", #session.new, #session.dirty, #session.deleted))
  for i, o in ipairs(H) do print(string.format("  h%d %s", i, state(o))) end
end
'''


def program(r, nsteps):
    """(python lines, lua lines) of one random program."""
    py, lua = [], []
    users, addrs = [], []  # handle numbers (1-based) of each kind
    nh = 0
    names = ["ann", "bob", "cy", "dee"]
    for n in range(1, nsteps + 1):
        choices = ["new_user", "flush", "commit"]
        if users:
            choices += ["new_address", "set_name", "delete_user", "expire", "refresh",
                        "rollback", "get", "query", "expunge", "add_again",
                        "eager_query", "read_coll"]
        if addrs:
            choices += ["remove_address", "delete_address", "set_email", "move_address"]
        k = r.choice(choices)
        nm = r.choice(names)
        if k == "new_user":
            nh += 1
            users.append(nh)
            p = "H.append(User(name=%r)); session.add(H[-1])" % nm
            l = "H[#H + 1] = User{name = %s}; session:add(H[#H])" % lua_q(nm)
        elif k == "new_address":
            nh += 1
            addrs.append(nh)
            u = r.choice(users)
            em = nm + "@x"
            p = "H.append(Address(email=%r)); H[%d].addresses.append(H[-1])" % (em, u - 1)
            l = "H[#H + 1] = Address{email = %s}; H[%d].addresses:append(H[#H])" % (lua_q(em), u)
        elif k == "set_name":
            u = r.choice(users)
            p = "H[%d].name = %r" % (u - 1, nm)
            l = "H[%d].name = %s" % (u, lua_q(nm))
        elif k == "set_email":
            a = r.choice(addrs)
            p = "H[%d].email = %r" % (a - 1, nm + "@y")
            l = "H[%d].email = %s" % (a, lua_q(nm + "@y"))
        elif k == "delete_user":
            u = r.choice(users)
            p = "session.delete(H[%d])" % (u - 1)
            l = "session:delete(H[%d])" % u
        elif k == "delete_address":
            a = r.choice(addrs)
            p = "session.delete(H[%d])" % (a - 1)
            l = "session:delete(H[%d])" % a
        elif k == "remove_address":
            a, u = r.choice(addrs), r.choice(users)
            p = "H[%d].addresses.remove(H[%d]) if H[%d] in H[%d].addresses else None" % (u - 1, a - 1, a - 1, u - 1)
            l = ("(function() for i, x in ipairs(H[%d].addresses) do if x == H[%d] then "
                 "H[%d].addresses:remove(H[%d]) return end end end)()") % (u, a, u, a)
        elif k == "move_address":
            a, u = r.choice(addrs), r.choice(users)
            p = "setattr(H[%d], 'user', H[%d])" % (a - 1, u - 1)
            l = "H[%d].user = H[%d]" % (a, u)
        elif k == "flush":
            p, l = "session.flush()", "session:flush()"
        elif k == "commit":
            p, l = "session.commit()", "session:commit()"
        elif k == "rollback":
            p, l = "session.rollback()", "session:rollback()"
        elif k == "expire":
            h = r.randint(1, nh)
            p, l = "session.expire(H[%d])" % (h - 1), "session:expire(H[%d])" % h
        elif k == "refresh":
            h = r.randint(1, nh)
            p, l = "session.refresh(H[%d])" % (h - 1), "session:refresh(H[%d])" % h
        elif k == "expunge":
            h = r.randint(1, nh)
            p, l = "session.expunge(H[%d])" % (h - 1), "session:expunge(H[%d])" % h
        elif k == "add_again":
            h = r.randint(1, nh)
            p, l = "session.add(H[%d])" % (h - 1), "session:add(H[%d])" % h
        elif k == "eager_query":
            opt = r.choice(["selectinload", "joinedload", "subqueryload", "lazyload", "immediateload"])
            p = ("' '.join('%%s:%%d' %% (u.name, len(u.addresses)) for u in KEEP.extend(x for x in "
                 "session.execute(select(User).options(%s(User.addresses)).order_by(User.id)).unique().scalars()) "
                 "or [x for x in KEEP if isinstance(x, User) and inspect(x).persistent][-3:])" % opt)
            p = ("(lambda us: (KEEP.extend(us), ' '.join('%%s:%%d' %% (u.name, len(u.addresses)) for u in us))[1])"
                 "(session.execute(select(User).options(%s(User.addresses)).order_by(User.id)).unique().scalars().all())" % opt)
            l = ("(function() local us = session:execute(select(User):options(%s(User.addresses))"
                 ":order_by(User.id)):unique():scalars():all(); local t = {} for _, u in ipairs(us) do "
                 "KEEP[#KEEP + 1] = u; t[#t + 1] = u.name .. ':' .. #u.addresses end "
                 "return table.concat(t, ' ') end)()") % opt
        elif k == "read_coll":
            u = r.choice(users)
            p = "len(H[%d].addresses)" % (u - 1)
            l = "#H[%d].addresses" % u
        elif k == "get":
            i = r.randint(1, 3)
            p = "(lambda o: (KEEP.append(o), o and o.name)[1])(session.get(User, %d))" % i
            l = "(function() local o = session:get(User, %d); KEEP[#KEEP + 1] = o; return o and o.name end)()" % i
        else:
            p = ("' '.join(KEEP.append(u) or u.name or '-' for u in session.execute(select(User)"
                 ".where(User.name == %r).order_by(User.id)).scalars())" % nm)
            l = ("(function() local t = {} for _, u in ipairs(session:execute(select(User)"
                 ":where(User.name:eq(%s)):order_by(User.id)):scalars():all()) do "
                 "KEEP[#KEEP + 1] = u; t[#t + 1] = u.name or '-' end return table.concat(t, ' ') end)()") % lua_q(nm)
        if k in ("get", "query", "eager_query", "read_coll"):
            py.append("step(%d, lambda: %s)" % (n, p))
            lua.append("step(%d, function() return %s end)" % (n, l))
        else:
            py.append("step(%d, lambda: exec(%r, globals()))" % (n, p))
            lua.append("step(%d, function() %s end)" % (n, l))
    return py, lua


def lua_q(s):
    return "'" + s.replace("'", "\\'") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--retort", default=os.path.join(ROOT, "build", "retort"))
    a = ap.parse_args()
    r = random.Random(a.seed)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for c in range(a.count):
            py, lua = program(r, a.steps)
            pf, lf = os.path.join(tmp, "p.py"), os.path.join(tmp, "l.lua")
            open(pf, "w").write(PY_PRELUDE + "\n".join(py) + "\n")
            open(lf, "w").write(LUA_PRELUDE + "\n".join(lua) + "\n")
            want = subprocess.run(["/usr/bin/python3", "-W", "ignore", pf], capture_output=True,
                                  text=True).stdout.splitlines()
            got = subprocess.run([a.retort, "--norc", lf], capture_output=True, text=True)
            gotl = got.stdout.splitlines()
            if want != gotl:
                bad += 1
                i = next((k for k in range(min(len(want), len(gotl))) if want[k] != gotl[k]),
                         min(len(want), len(gotl)))
                # the step block holding line i, on each side
                def block(lines, i):
                    st = i
                    while st > 0 and not lines[st].startswith("step"):
                        st -= 1
                    en = st + 1
                    while en < len(lines) and not lines[en].startswith("step"):
                        en += 1
                    return lines[st:en]
                wb = block(want, min(i, len(want) - 1)) if want else []
                gb = block(gotl, min(i, len(gotl) - 1)) if gotl else []
                sn = int(wb[0].split()[1].rstrip(":")) if wb and wb[0].startswith("step") else 0
                print("PROGRAM %d differs at step %d" % (c, sn))
                for k in range(sn):
                    print("    lua: " + lua[k])
                print("  want: " + "\n        ".join(wb))
                print("  got:  " + "\n        ".join(gb))
                if got.stderr:
                    print("  stderr: " + got.stderr[-300:])
    print("%d of %d programs differ" % (bad, a.count))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
