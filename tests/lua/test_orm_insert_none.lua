-- A None (nil, sa.null) set on an attribute before its INSERT: left out
-- of the INSERT, so a column default applies (a column without one gets
-- NULL all the same), and a scalar default's value is the object's after
-- the flush without a SELECT -- as SQLAlchemy 1.4 does (the expected
-- values are its, for the same steps).  Setting sa.null reads back nil.
-- An attribute never set, sent as NULL, reads as nil without SQL after
-- the flush (unloaded, not expired); a server default's is expired and
-- its SELECT loads only the expired ones.
local T = require "testing"

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local engine = create_engine(db.url)
  local Base = orm.declarative_base()
  local U = Base:class "U" {
    __tablename__ = "inone_u",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    n = Column(Integer, {default = 5}),
    sd = Column(Integer, {server_default = "7"}),
  }
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local selects, last = 0, nil
  sa.event.listen(engine, "before_cursor_execute",
    function(_, _, sql)
      if sql:find("^SELECT") then selects, last = selects + 1, sql end
    end)

  T.test(pfx .. "sa.null set on a persistent attribute is None", function()
    local s <close> = orm.Session(engine)
    local u = U{name = "x"}
    s:add(u)
    s:commit()
    T.eq(u.name, "x")
    u.name = sa.null
    T.eq(u.name, nil)
    T.eq(orm.inspect(u).attrs.name.history.added, {sa.null})
    T.eq(s:is_modified(u), true)
    s:commit()
    T.eq(u.name, nil)
    T.eq(s:scalar(select(func.count()):select_from(U):where(U.name:is_(nil))), 1)
    s:execute(delete(U))
    s:commit()
  end)

  T.test(pfx .. "None before the INSERT: the default applies, no SELECT after",
    function()
      local s <close> = orm.Session(engine)
      local v = U{name = "y"}
      v.n = sa.null
      local w = U{name = "z", n = 7}
      w.n = nil
      local plain = U{name = "q"}
      s:add_all{v, w, plain}
      s:flush()
      selects = 0
      T.eq({v.n, w.n, plain.n}, {5, 5, 5})
      T.eq(selects, 0, "the defaults are known")
      T.eq(s:scalars(select(U.n):order_by(U.id)):all(), {5, 5, 5})
      -- a column without a default still gets NULL
      local x = U{n = 1}
      x.name = nil
      s:add(x)
      s:flush()
      T.eq(s:scalar(select(U.name):where(U.id:eq(x.id))), nil)
      s:rollback()
    end)

  T.test(pfx .. "never set: nil without SQL after the INSERT, not expired",
    function()
      local s <close> = orm.Session(engine)
      local u = U{n = 1}
      s:add(u)
      s:flush()
      local function sorted(t) table.sort(t); return t end
      T.eq(sorted(orm.inspect(u).unloaded), {"name", "sd"})
      T.eq(orm.inspect(u).expired_attributes, {"sd"})
      local h = orm.inspect(u).attrs.name.history
      T.eq({#h.added, #h.unchanged, #h.deleted}, {0, 0, 0})
      selects = 0
      T.eq(u.name, nil)
      T.eq(selects, 0, "no SQL for a never-set attribute")
      T.eq(u.sd, 7)
      T.eq(selects, 1)
      T.eq(T.norm(last), "SELECT inone_u.sd AS inone_u_sd \nFROM inone_u " ..
                         "\nWHERE inone_u.id = ?")
      -- set, flushed, expired: loads again as any other
      u.name = "n"
      s:flush()
      s:expire(u, {"name"})
      selects = 0
      T.eq(u.name, "n")
      T.eq(selects, 1)
      -- after a commit everything is expired
      s:commit()
      local v = U{n = 2}
      s:add(v)
      s:commit()
      selects = 0
      T.eq(v.name, nil)
      T.eq(selects, 1)
      s:execute(delete(U))
      s:commit()
    end)

  Base.metadata:drop_all(engine)
end

T.done()
