-- A session that reads, on every test database: its connection's
-- Transaction (made only when asked for), the engine's transaction events
-- of a lookup and of close(), its sets of new, modified and deleted
-- objects (made on first use), and the objects it leaves detached.  The
-- expected values are SQLAlchemy 1.4's for the same steps.
local T = require "testing"

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base = orm.declarative_base()
  local U = Base:class "U" {
    __tablename__ = "sr_user",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(20)),
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all({U {id = 1, name = "a"}, U {id = 2, name = "b"}})
    s:commit()
  end
  local log = {}
  for _, name in ipairs({"begin", "commit", "rollback"}) do
    orm.event.listen(engine, name, function() log[#log + 1] = name end)
  end

  T.test(pfx .. "the connection's Transaction, asked for", function()
    for k in pairs(log) do log[k] = nil end
    local s = orm.Session(engine)
    local c = s:connection()
    local t = c:get_transaction()
    T.ok(t ~= nil and t.is_active, "an active Transaction")
    T.ok(rawequal(c:get_transaction(), t), "the same one again")
    T.eq(c:in_transaction(), true)
    s:close()
    T.eq(t.is_active, false)
    T.eq(c.closed, true)
    T.eq(log, {"begin", "rollback"})
  end)

  T.test(pfx .. "a lookup, a change, close()", function()
    for k in pairs(log) do log[k] = nil end
    local s = orm.Session(engine)
    local u = s:execute(select(U):where(U.id:eq(1))):scalars():one()
    T.eq(u.name, "a")
    T.eq({#s.new, #s.dirty, #s.deleted}, {0, 0, 0})
    u.name = "z"
    T.eq(#s.dirty, 1)
    T.ok(rawequal(s.dirty[1], u))
    T.eq(s:is_modified(u), true)
    s:close()
    T.eq(log, {"begin", "rollback"})
    T.eq(orm.inspect(u).detached, true)
    T.eq(u.name, "z")
    -- the change was never written
    local s2 <close> = orm.Session(engine)
    T.eq(s2:get(U, 1).name, "a")
  end)

  T.test(pfx .. "sessions one after another, each with its own objects",
         function()
    for k in pairs(log) do log[k] = nil end
    local seen = {}
    for i = 1, 4 do
      local s <close> = orm.Session(engine)
      local u = s:execute(select(U):where(U.id:eq(i % 2 + 1)))
                 :scalars():one()
      T.ok(not seen[u], "a new object per session")
      seen[u] = true
      T.ok(rawequal(s:get(U, i % 2 + 1), u), "the identity map's")
    end
    T.eq(#log, 8)
    for i = 1, 8, 2 do T.eq({log[i], log[i + 1]}, {"begin", "rollback"}) end
  end)

  T.test(pfx .. "a commit, then close()", function()
    for k in pairs(log) do log[k] = nil end
    local s = orm.Session(engine)
    local u = s:get(U, 2)
    s:commit()
    T.eq(log, {"begin", "commit"})
    s:close()
    T.eq(log, {"begin", "commit"})
    T.eq(orm.inspect(u).detached, true)
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end

T.done()
