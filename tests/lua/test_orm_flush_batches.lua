-- How the flush groups INSERTs: rows with their key given go as one
-- executemany per column pattern; rows whose key the database generates
-- run one execution each (each key read back) in order, with the keys
-- set on the right objects; a failure part-way leaves nothing written.
local T = require "testing"

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  local function setup()
    local e = create_engine(db.url)
    local Base = orm.declarative_base()
    local Item = Base:class "Item" {
      __tablename__ = "flush_item",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20), {unique = true}),
      note = Column(String(20)),
    }
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    return e, Item, Base
  end

  T.test(n .. "generated keys land on the objects in the order added",
         function()
    local e, Item, Base = setup()
    local s <close> = orm.Session(e)
    local objs = {
      Item{name = "a"}, Item{name = "b", note = "x"}, Item{name = "c"},
      Item{id = 100, name = "d"}, Item{id = 101, name = "e"},
      Item{name = "f"}, Item{name = "g"},
    }
    s:add_all(objs)
    s:flush()
    local ids = {}
    for i, o in ipairs(objs) do ids[i] = o.id end
    -- a PostgreSQL sequence does not follow keys given explicitly
    if db.name == "postgresql" then
      T.eq(ids, {1, 2, 3, 100, 101, 4, 5})
    else
      T.eq(ids, {1, 2, 3, 100, 101, 102, 103})
    end
    s:commit()
    local c <close> = e:connect()
    local rows = c:execute(select(Item.__table__):order_by(
      Item.__table__.c.name)):all()
    local got = {}
    for i, r in ipairs(rows) do got[i] = r.id .. r.name .. (r.note or "") end
    T.eq(got, {"1a", "2bx", "3c", "100d", "101e", ids[6] .. "f",
               ids[7] .. "g"})
    c:close()
    s:close()
    Base.metadata:drop_all(e)
  end)

  -- (the session's pending list: objects that left it before the flush
  -- are not written, those added while it runs stay pending)
  T.test(n .. "pending objects expunged, re-added or added during a flush",
         function()
    local e, Item, Base = setup()
    local s <close> = orm.Session(e)
    local a, b, c = Item{name = "a"}, Item{name = "b"}, Item{name = "c"}
    s:add_all{a, b, c}
    s:expunge(b)
    s:flush()
    local function st(o) return orm.inspect(o).transient and "transient" or
      orm.inspect(o).persistent and "persistent" or "?" end
    T.eq({a.id, b.id, c.id, st(a), st(b), st(c)},
         {1, nil, 2, "persistent", "transient", "persistent"})
    local d = Item{name = "d"}
    s:add(b)
    s:add_all{d}
    T.eq(#s.new, 2)
    s:flush()
    T.eq({b.id, d.id}, {3, 4})
    local late = Item{name = "late"}
    event.listen(s, "after_flush", function(sess)
      if not sess:contains(late) then sess:add(late) end
    end)
    local x = Item{name = "x"}
    s:add(x)
    s:flush()
    T.eq({x.id, orm.inspect(late).pending, #s.new}, {5, true, 1})
    s:flush()
    T.eq({late.id, #s.new}, {6, 0})
    s:commit()
    local c2 <close> = e:connect()
    local got = {}
    for _, r in ipairs(c2:execute(select(Item.__table__.c.name,
        Item.__table__.c.id):order_by(Item.__table__.c.id)):all()) do
      got[#got + 1] = r.name .. r.id
    end
    T.eq(got, {"a1", "c2", "b3", "d4", "x5", "late6"})
    c2:close()
    s:close()
    Base.metadata:drop_all(e)
  end)

  T.test(n .. "a failing row in a run of generated keys writes nothing",
         function()
    local e, Item, Base = setup()
    local s <close> = orm.Session(e)
    s:add_all{Item{name = "a"}, Item{name = "b"}, Item{name = "a"},
              Item{name = "c"}}
    T.raises("IntegrityError", function() s:flush() end)
    s:rollback()
    local c <close> = e:connect()
    T.eq(c:execute(select(func.count()):select_from(Item.__table__))
           :scalar(), 0)
    c:close()
    -- the session works after the rollback
    s:add(Item{name = "z"})
    s:commit()
    T.eq(s:scalars(select(Item.name)):all(), {"z"})
    s:close()
    Base.metadata:drop_all(e)
  end)

  T.test(n .. "a failing executemany names its statement and the rows' " ..
         "values", function()
    local e, Item, Base = setup()
    local s <close> = orm.Session(e)
    s:add(Item{id = 1, name = "a"})
    s:commit()
    s:add_all{Item{id = 3, name = "c", note = "n3"}, Item{id = 1, name = "d"}}
    local err = T.raises("IntegrityError", function() s:flush() end)
    T.match(tostring(err), "INSERT INTO flush_item %(id, name, note%)")
    -- the values of both rows, in order, as the statement took them
    local vals = {}
    for _, v in ipairs(err.params) do
      vals[#vals + 1] = rawequal(v, sa.null) and "NULL" or tostring(v)
    end
    T.eq(vals, {"3", "c", "n3", "1", "d", "NULL"})
    s:rollback()
    T.eq(s:scalars(select(Item.name):order_by(Item.id)):all(), {"a"})
    s:close()
    Base.metadata:drop_all(e)
  end)

  -- (the values go to the driver from the objects: one a listener
  -- replaces while the rows are written must still be the one written)
  T.test(n .. "a listener changing the objects as their rows are written " ..
         "does not change what is written", function()
    -- (notes longer than Lua interns: each one its own string)
    local e = create_engine(db.url)
    local Base = orm.declarative_base()
    local Item = Base:class "Item" {
      __tablename__ = "flush_long_note",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      note = Column(String(100)),
    }
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local s <close> = orm.Session(e)
    local objs = {}
    for i = 1, 4 do
      objs[i] = Item{id = i, name = "name " .. i, note = ("note " .. i):rep(9)}
    end
    local function listener(_, _, stmt)
      if stmt:match("^INSERT") or stmt:match("^UPDATE") then
        for _, o in ipairs(objs) do o.note = "changed" end
        collectgarbage()
        collectgarbage()
      end
    end
    sa.event.listen(e, "before_cursor_execute", listener)
    s:add_all(objs)
    s:flush()
    sa.event.remove(e, "before_cursor_execute", listener)
    s:commit()
    local c <close> = e:connect()
    local rows = c:execute(select(Item.__table__.c.note)
      :order_by(Item.__table__.c.id)):scalars():all()
    T.eq(rows, {("note 1"):rep(9), ("note 2"):rep(9), ("note 3"):rep(9),
                ("note 4"):rep(9)})
    c:close()
    s:close()
    Base.metadata:drop_all(e)
  end)

  -- (the committed value of one changed attribute is kept apart from
  -- those of several: both forms compare the same way)
  T.test(n .. "an UPDATE sets the attributes whose value differs from " ..
         "the loaded one", function()
    local e, Item, Base = setup()
    local s <close> = orm.Session(e)
    s:add(Item{id = 1, name = "a", note = "x"})
    s:commit()
    local sets = {}
    local function listener(_, _, stmt)
      local cols = stmt:match("^UPDATE .- SET (.-) WHERE")
      if cols then sets[#sets + 1] = (cols:gsub("=[^,]*", "")) end
    end
    sa.event.listen(e, "before_cursor_execute", listener)
    local it = s:get(Item, 1)
    it.note = "y"
    s:flush()
    it.name, it.note = "b", "z"
    s:flush()
    -- set back to the loaded value: no change, no UPDATE
    it.note = "q"
    it.note = "z"
    T.eq(orm.inspect(it).attrs.note.history.unchanged, {"z"})
    s:flush()
    it.name, it.note = "c", "w"
    it.name = "b"
    s:flush()
    -- an expired attribute's change is dropped, the other one's kept
    it.name, it.note = "d", "v"
    s:expire(it, {"name"})
    T.eq(orm.inspect(it).attrs.note.history.deleted, {"w"})
    s:flush()
    sa.event.remove(e, "before_cursor_execute", listener)
    T.eq(sets, {"note", "name, note", "note", "note"})
    s:commit()
    T.eq({it.name, it.note}, {"b", "v"})
    s:close()
    Base.metadata:drop_all(e)
  end)
end

T.done()
