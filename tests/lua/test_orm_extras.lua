-- Session options and helpers on SQLite: expire_on_commit, sessionmaker,
-- begin() as a to-be-closed transaction, session and engine events,
-- attribute history, composite primary keys, a Lua-function default.
local T = require "testing"

local function setup()
  local Base = orm.declarative_base()
  local User = Base:class "User" {
    __tablename__ = "users",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
  }
  local Pair = Base:class "Pair" {
    __tablename__ = "pairs",
    a = Column(Integer, {primary_key = true, autoincrement = false}),
    b = Column(String(10), {primary_key = true}),
    v = Column(String(10)),
    tag = Column(String(20), {default = function() return "made" end}),
  }
  local engine = create_engine("sqlite://")
  Base.metadata:create_all(engine)
  return engine, User, Pair
end

T.test("expire_on_commit = false keeps loaded values", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine, {expire_on_commit = false})
  local u = User{name = "kept"}
  s:add(u)
  s:commit()
  T.eq(tostring(u), "User(id=1, name='kept')")
  T.eq(orm.inspect(u).expired_attributes, {})
end)

T.test("sessionmaker makes configured sessions", function()
  local engine, User = setup()
  local Session = orm.sessionmaker{bind = engine, expire_on_commit = false}
  local s <close> = Session()
  T.ok(s.bind == engine)
  T.eq(s.expire_on_commit, false)
  local s2 <close> = Session{autoflush = false}
  T.eq(s2.autoflush, false)
end)

T.test("begin() as a to-be-closed transaction", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine)
  do
    local tx <close> = s:begin()
    s:add(User{id = 5, name = "tx"})
  end
  T.eq(s:get(User, 5).name, "tx")
  T.raises("InvalidRequestError", function() return s:begin() end)
end)

T.test("session and engine events", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine)
  local seen = {}
  orm.event.listen(s, "before_flush", function(sess)
    seen[#seen + 1] = "before_flush " .. #sess.new
  end)
  orm.event.listen(s, "after_commit", function() seen[#seen + 1] = "commit" end)
  orm.event.listen(s, "after_rollback", function() seen[#seen + 1] = "rollback" end)
  orm.event.listen(engine, "after_cursor_execute",
    function(conn, cursor, sql) seen[#seen + 1] = sql:match("^%u+") end)
  s:add(User{name = "e"})
  s:commit()
  s:rollback() -- no transaction left to roll back: no after_rollback
  T.eq(seen, {"before_flush 1", "INSERT", "commit"})
end)

T.test("attribute history", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine)
  local u = User{name = "h1"}
  T.eq(orm.inspect(u).attrs.name.history, {added = {"h1"}, unchanged = {},
                                           deleted = {}})
  s:add(u)
  s:flush()
  T.eq(orm.inspect(u).attrs.name.history, {added = {}, unchanged = {"h1"},
                                           deleted = {}})
  u.name = "h2"
  T.eq(orm.inspect(u).attrs.name.history, {added = {"h2"}, unchanged = {},
                                           deleted = {"h1"}})
  T.eq(orm.inspect(u).modified, true)
  T.eq(#s.dirty, 1)
  s:flush()
  T.eq(orm.inspect(u).modified, false)
  T.eq(#s.dirty, 0)
end)

T.test("composite primary keys and a Lua-function default", function()
  local engine, _, Pair = setup()
  local s <close> = orm.Session(engine)
  s:add_all{Pair{a = 1, b = "x", v = "one"}, Pair{a = 1, b = "y", v = "two"}}
  s:commit()
  local p = s:get(Pair, {1, "y"})
  T.eq(p.v, "two")
  T.eq(p.tag, "made")
  T.eq(orm.inspect(p).identity, {1, "y"})
  T.ok(s:get(Pair, {a = 1, b = "y"}) == p)
  p.v = "changed"
  s:commit()
  T.eq(s:get(Pair, {1, "y"}).v, "changed")
  s:delete(p)
  s:commit()
  T.eq(s:get(Pair, {1, "y"}), nil)
  T.eq(tostring(s:get(Pair, {1, "x"})), "Pair(a=1, b='x', v='one', tag='made')")
end)

T.test("objects are collected once nothing holds them", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine)
  s:add_all{User{name = "g1"}, User{name = "g2"}}
  s:commit()
  local n = #s:scalars(select(User)):all()
  T.eq(n, 2)
  collectgarbage()
  collectgarbage()
  T.eq(#s.identity_map, 0)        -- clean objects are held weakly
  local u = s:get(User, 1)
  u.name = "dirty"
  u = nil
  collectgarbage()
  T.eq(#s.identity_map, 1)        -- a modified one is held until flushed
  s:commit()
  T.eq(s:get(User, 1).name, "dirty")
end)

T.test("merge copies state onto the session's own object", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine)
  s:add(User{id = 1, name = "db"})
  s:commit()
  local mine = s:get(User, 1)
  local outside = User{id = 1, name = "merged"}
  local got = s:merge(outside)
  T.ok(got == mine)
  T.eq(mine.name, "merged")
  T.eq(orm.inspect(outside).transient, true)
  local fresh = s:merge(User{id = 2, name = "new"})
  T.eq(orm.inspect(fresh).pending, true)
  s:commit()
  T.eq(s:get(User, 2).name, "new")
  local s2 <close> = orm.Session(engine)
  -- load = false takes a detached object as it is; a transient one has
  -- no identity to take (SQLAlchemy raises)
  T.raises("InvalidRequestError", function()
    return s2:merge(User{id = 3, name = "noload"}, {load = false})
  end)
  local detached = s:get(User, 2)
  s:expunge(detached)
  detached.name = "noload"
  T.raises("InvalidRequestError", function()
    return s2:merge(detached, {load = false})
  end)
  detached = s:get(User, 2)
  s:expunge(detached)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql) log[#log + 1] = sql end)
  local nl = s2:merge(detached, {load = false})
  T.eq(#log, 0)
  T.ok(nl ~= detached)
  T.eq(nl.name, "new")
  T.eq(orm.inspect(nl).persistent, true)
  T.eq(orm.inspect(nl).modified, false)
end)

T.test("changing the primary key moves the identity", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql, params) log[#log + 1] = {sql, params} end)
  local u = User{id = 1, name = "pk"}
  s:add(u)
  s:flush()
  u.id = 50
  s:flush()
  T.eq(log[#log], {"UPDATE users SET id=? WHERE users.id = ?", {50, 1}})
  T.eq(orm.inspect(u).identity, {50})
  T.ok(s:get(User, 50) == u)
  s:commit()
  T.eq(s:get(User, 1), nil)
end)

T.test("bulk UPDATE and DELETE keep the session's objects in step", function()
  local engine, User = setup()
  local s <close> = orm.Session(engine)
  s:add_all{User{id = 1, name = "a"}, User{id = 2, name = "b"},
            User{id = 3, name = "c"}}
  s:commit()
  local a, b, c = s:get(User, 1), s:get(User, 2), s:get(User, 3)
  s:execute(update(User):where(User.id:lt(3)):values{name = "bulk"})
  T.eq(a.name, "bulk")
  T.eq(b.name, "bulk")
  T.eq(orm.inspect(c).expired_attributes, {})
  s:execute(delete(User):where(User.name:eq("bulk")))
  T.eq(orm.inspect(a).deleted, true)
  T.eq(s:get(User, 1), nil)
  s:commit()
  T.eq(orm.inspect(a).detached, true)
  T.eq(s:scalar(select(func.count()):select_from(User)), 1)
  -- synchronize_session = false leaves the objects alone
  T.eq(c.name, "c")
  s:execute(update(User):values{name = "quiet"}, nil,
            {synchronize_session = false})
  T.eq(c.name, "c")
end)

T.done()
