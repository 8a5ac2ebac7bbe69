-- The per-object work of the flush: UPDATEs in primary key order (one
-- integer key, string keys, composite keys), consecutive rows that change
-- the same columns batched, a deleted object never updated; add_all
-- making objects pending in order (cascades included) up to a value that
-- is not mapped; expiry after commit reaching loaded relationships.
-- The statements and states were checked against SQLAlchemy 1.4.
local T = require "testing"

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  local function setup()
    local e = create_engine(db.url)
    local Base = orm.declarative_base()
    local Item = Base:class "Item" {
      __tablename__ = "fo_item",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      name = Column(String(20)),
      note = Column(String(20)),
    }
    local Tag = Base:class "Tag" {
      __tablename__ = "fo_tag",
      code = Column(String(10), {primary_key = true}),
      label = Column(String(20)),
    }
    local Pair = Base:class "Pair" {
      __tablename__ = "fo_pair",
      a = Column(Integer, {primary_key = true, autoincrement = false}),
      b = Column(Integer, {primary_key = true, autoincrement = false}),
      v = Column(String(20)),
    }
    local Parent = Base:class "Parent" {
      __tablename__ = "fo_parent",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      kids = relationship("Kid", {order_by = "Kid.id"}),
    }
    local Kid = Base:class "Kid" {
      __tablename__ = "fo_kid",
      id = Column(Integer, {primary_key = true}),
      parent_id = Column(Integer, ForeignKey("fo_parent.id")),
      name = Column(String(20)),
    }
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    return e, Base, {Item = Item, Tag = Tag, Pair = Pair, Parent = Parent,
                     Kid = Kid}
  end

  local function capture(e)
    local log = {}
    orm.event.listen(e, "before_cursor_execute",
      function(conn, cursor, sql, params, context, many)
        log[#log + 1] = {sql = sql, params = params, many = many}
      end)
    return log
  end

  -- the statements of the log that start with `verb`, as "SQL | params"
  local function statements(log, verb)
    local out = {}
    for _, l in ipairs(log) do
      if l.sql:match("^" .. verb) then
        local ps = {}
        local rows = l.many and l.params or {l.params}
        for _, r in ipairs(rows) do
          local vs = {}
          for i, v in ipairs(r) do vs[i] = tostring(v) end
          ps[#ps + 1] = "(" .. table.concat(vs, ",") .. ")"
        end
        out[#out + 1] = l.sql .. " | " .. table.concat(ps)
      end
    end
    return out
  end

  local function ph(sql)
    local i = 0
    return (sql:gsub("%?", function()
      i = i + 1
      return T.ph(db.name, i)
    end))
  end

  T.test(n .. "UPDATEs go in key order, batched by the columns changed",
         function()
    local e, Base, M = setup()
    local s <close> = orm.Session(e)
    for i = 1, 7 do
      s:add(M.Item{id = i, name = "n" .. i, note = "o" .. i})
    end
    for _, c in ipairs{"b", "a10", "a9", "c"} do
      s:add(M.Tag{code = c, label = c})
    end
    for _, k in ipairs{{2, 1}, {1, 2}, {1, 1}} do
      s:add(M.Pair{a = k[1], b = k[2], v = "v"})
    end
    s:commit()
    local items, tags, pairs_ = {}, {}, {}
    for _, o in ipairs(s:scalars(select(M.Item)):all()) do items[o.id] = o end
    for _, t in ipairs(s:scalars(select(M.Tag)):all()) do tags[t.code] = t end
    for _, p in ipairs(s:scalars(select(M.Pair)):all()) do
      pairs_[p.a .. "." .. p.b] = p
    end
    local log = capture(e)
    for _, i in ipairs{6, 2, 5, 1, 3, 4, 7} do
      local o = items[i]
      if i == 1 or i == 2 or i == 4 or i == 5 then o.name = "N" .. i end
      if i == 3 then o.note = "O3" end
      if i == 6 then o.name, o.note = "N6", "O6" end
      if i == 7 then o.name = "n7" end -- the same value: no UPDATE
    end
    for _, c in ipairs{"c", "a9", "b", "a10"} do tags[c].label = c:upper() end
    for _, k in ipairs{"2.1", "1.1", "1.2"} do pairs_[k].v = "w" .. k end
    s:delete(items[4])
    T.eq(#s.dirty, 13)
    s:flush()
    T.eq(statements(log, "UPDATE fo_item"), {
      ph("UPDATE fo_item SET name=? WHERE fo_item.id = ? | (N1,1)(N2,2)"),
      ph("UPDATE fo_item SET note=? WHERE fo_item.id = ? | (O3,3)"),
      ph("UPDATE fo_item SET name=? WHERE fo_item.id = ? | (N5,5)"),
      ph("UPDATE fo_item SET name=?, note=? WHERE fo_item.id = ? | " ..
         "(N6,O6,6)"),
    })
    T.eq(statements(log, "UPDATE fo_tag"), {
      ph("UPDATE fo_tag SET label=? WHERE fo_tag.code = ? | " ..
         "(A10,a10)(A9,a9)(B,b)(C,c)"),
    })
    T.eq(statements(log, "UPDATE fo_pair"), {
      ph("UPDATE fo_pair SET v=? WHERE fo_pair.a = ? AND fo_pair.b = ? | " ..
         "(w1.1,1,1)(w1.2,1,2)(w2.1,2,1)"),
    })
    T.eq(statements(log, "DELETE"),
         {ph("DELETE FROM fo_item WHERE fo_item.id = ? | (4)")})
    T.eq(#s.dirty, 0)
    T.eq(orm.inspect(items[4]).deleted, true)
    T.eq(orm.inspect(items[6]).persistent, true)
    s:commit()
    T.eq(s:scalars(select(M.Item.name):order_by(M.Item.id)):all(),
         {"N1", "N2", "n3", "N5", "N6", "n7"})
    s:close()
    Base.metadata:drop_all(e)
  end)

  T.test(n .. "add_all makes pending in order until a value is not mapped",
         function()
    local e, Base, M = setup()
    local s <close> = orm.Session(e)
    local old = M.Item{id = 1, name = "old"}
    s:add(old)
    s:commit()
    local p = M.Parent{name = "p", kids = {M.Kid{name = "k1"},
                                           M.Kid{name = "k2"}}}
    local i8 = M.Item{id = 8, name = "x"}
    T.raises("UnmappedInstanceError", function()
      s:add_all{i8, p, old, i8, "not mapped", M.Item{id = 9}}
    end)
    local names = {}
    for i, o in ipairs(s.new) do names[i] = o.name end
    T.eq(names, {"x", "p", "k1", "k2"})
    T.eq(orm.inspect(i8).pending, true)
    T.eq(orm.inspect(old).persistent, true)
    s:commit()
    T.eq(s:scalars(select(M.Kid.parent_id)):all(), {p.id, p.id})
    T.eq(s:scalars(select(M.Item.id):order_by(M.Item.id)):all(), {1, 8})
    s:close()
    Base.metadata:drop_all(e)
  end)

  T.test(n .. "commit expires columns and loaded relationships", function()
    local e, Base, M = setup()
    local s <close> = orm.Session(e)
    local p = M.Parent{name = "p", kids = {M.Kid{name = "k1"}}}
    local plain = M.Item{id = 1, name = "a"}
    s:add_all{p, plain}
    s:commit()
    T.eq(#p.kids, 1)
    T.eq(plain.name, "a")
    -- (read before the commit: a read after it would begin the session's
    -- next transaction, whose snapshot predates the changes below)
    local pid = p.id
    s:commit()
    -- another connection changes the rows; the session sees it on access
    local c <close> = e:connect()
    c:execute(insert(M.Kid.__table__):values{parent_id = pid, name = "k2"})
    c:execute(update(M.Item.__table__):values{name = "b"})
    c:commit()
    c:close()
    T.eq(plain.name, "b")
    local names = {}
    for i, k in ipairs(p.kids) do names[i] = k.name end
    T.eq(names, {"k1", "k2"})
    s:close()
    Base.metadata:drop_all(e)
  end)
end

T.done()
