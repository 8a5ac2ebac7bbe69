-- Objects made straight from a result's rows (orm/loading.c), on every
-- test database: long loads through the identity map, loads that outgrow
-- the heap they began with (the collector paused for their rest), rows
-- for objects already there (their pending changes kept, or discarded by
-- populate_existing), yield_per batches, composite primary keys, joined
-- eager loads whose rows repeat parents and children or have no child,
-- selectin batches of 500 keys, lazy loads, and a closed result.  Each as
-- SQLAlchemy 1.4 behaves.
local T = require "testing"
local relationship = orm.relationship

local N = 2500 -- past the 1024 rows after which a load asks to pause
-- rows of a load that outgrows the heap it began with, after which the
-- collector pauses for its rest
local BULK = 16000

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Item = Base:class "Item" {
    __tablename__ = "lr_item",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(40)),
    note = Column(String(40)),
  }
  M.Pair = Base:class "Pair" {
    __tablename__ = "lr_pair",
    a = Column(Integer, {primary_key = true, autoincrement = false}),
    b = Column(String(10), {primary_key = true}),
    v = Column(String(20)),
  }
  M.Parent = Base:class "Parent" {
    __tablename__ = "lr_parent",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    children = relationship("Child", {order_by = "Child.id"}),
    kids = relationship("Child", {order_by = "Child.id", viewonly = true}),
    bulk = relationship("Bulk", {order_by = "Bulk.id"}),
  }
  M.Child = Base:class "Child" {
    __tablename__ = "lr_child",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("lr_parent.id")),
    name = Column(String(20)),
    parent = relationship("Parent"),
  }
  M.Bulk = Base:class "Bulk" {
    __tablename__ = "lr_bulk",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("lr_parent.id")),
    name = Column(String(20)),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local Item, Pair, Parent, Child = M.Item, M.Pair, M.Parent, M.Child
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  engine:begin(function(conn)
    local items = {}
    for i = 1, N do
      items[i] = {id = i, name = "item " .. i, note = i % 7 == 0 and sa.null or
                  "note " .. i}
    end
    conn:execute(insert(Item.__table__), items)
    conn:execute(insert(Pair.__table__), {{a = 1, b = "x", v = "1x"},
                                          {a = 1, b = "y", v = "1y"},
                                          {a = 2, b = "x", v = "2x"}})
    local ps, cs = {}, {}
    for p = 1, 600 do
      ps[p] = {id = p, name = "p" .. p}
      if p <= 599 then -- the last parent has no child
        cs[#cs + 1] = {id = 2 * p - 1, parent_id = p, name = "c" .. p .. "a"}
        cs[#cs + 1] = {id = 2 * p, parent_id = p, name = "c" .. p .. "b"}
      end
    end
    conn:execute(insert(Parent.__table__), ps)
    conn:execute(insert(Child.__table__), cs)
    local bulk = {}
    for i = 1, BULK do -- parents 1..400, 40 rows each
      bulk[i] = {id = i, parent_id = (i - 1) // 40 + 1, name = "b" .. i}
    end
    conn:execute(insert(M.Bulk.__table__), bulk)
  end)
  local selects = 0
  orm.event.listen(engine, "before_cursor_execute", function(_, _, sql)
    if sql:match("^%s*SELECT") then selects = selects + 1 end
  end)
  local pfx = db.name .. ": "
  local order = Item.id:asc()

  T.test(pfx .. "a long load: each row one persistent object, once",
         function()
    local s <close> = orm.Session(engine)
    local objs = s:scalars(select(Item):order_by(order)):all()
    T.eq(#objs, N)
    T.eq(collectgarbage("isrunning"), true, "the collector runs again")
    for i = 1, N, 499 do
      local o = objs[i]
      T.eq({o.id, o.name}, {i, "item " .. i})
      if i % 7 == 0 then T.eq(o.note, nil) else T.eq(o.note, "note " .. i) end
      T.eq(orm.inspect(o).persistent, true)
      T.eq(orm.inspect(o).identity, {i})
    end
    selects = 0
    T.ok(s:get(Item, 1700) == objs[1700], "get finds the loaded object")
    T.eq(selects, 0, "get of a loaded object emits nothing")
    local again = s:scalars(select(Item):where(Item.id:le(3))
                              :order_by(order)):all()
    T.ok(again[3] == objs[3], "a second load gives the same objects")
  end)

  T.test(pfx .. "rows of objects in the identity map: changes kept, " ..
         "expired attributes loaded; populate_existing discards changes",
         function()
    local s <close> = orm.Session(engine, {autoflush = false})
    local a, b = s:get(Item, 10), s:get(Item, 11)
    a.name = "changed"
    s:expire(b, {"note"})
    local objs = s:scalars(select(Item):where(Item.id:in_({10, 11}))
                             :order_by(order)):all()
    T.ok(objs[1] == a and objs[2] == b)
    T.eq(a.name, "changed", "a pending change is not overwritten")
    T.eq(orm.inspect(b).unloaded, {}, "the expired attribute is loaded")
    T.eq(b.note, "note 11")
    T.eq(#s.dirty, 1)
    s:scalars(select(Item):where(Item.id:eq(10))
                :execution_options{populate_existing = true}):all()
    T.eq(a.name, "item 10", "populate_existing: the row's value")
    T.eq(#s.dirty, 0, "populate_existing: no longer dirty")
    T.eq(s:is_modified(a), false)
  end)

  T.test(pfx .. "yield_per: batches of objects, each row once", function()
    local s <close> = orm.Session(engine)
    local r = s:execute(select(Item):order_by(order)
                          :execution_options{yield_per = 1000})
    local sizes, seen, n = {}, {}, 0
    for part in r:scalars():partitions() do
      sizes[#sizes + 1] = #part
      for _, o in ipairs(part) do
        n = n + 1
        T.eq(o.id, n)
        T.ok(not seen[o])
        seen[o] = true
      end
    end
    T.eq(sizes, {1000, 1000, 500})
    T.ok(s:get(Item, 2500) ~= nil)
  end)

  T.test(pfx .. "first, one, one_or_none and fetchmany read the rows " ..
         "they need", function()
    local s <close> = orm.Session(engine)
    local r = s:execute(select(Item):order_by(order))
    local two = r:scalars():fetchmany(2)
    T.eq({two[1].id, two[2].id}, {1, 2})
    local next2 = r:scalars():fetchmany(2)
    T.eq({next2[1].id, next2[2].id}, {3, 4})
    r:close()
    T.raises("ResourceClosedError", function() r:scalars():all() end)
    T.eq(s:execute(select(Item):where(Item.id:eq(5))):scalar_one().name,
         "item 5")
    T.eq(s:execute(select(Item):where(Item.id:eq(-1))):scalar_one_or_none(),
         nil)
    T.raises("MultipleResultsFound", function()
      s:execute(select(Item):where(Item.id:le(2))):scalar_one()
    end)
    T.raises("NoResultFound", function()
      s:execute(select(Item):where(Item.id:eq(-1))):scalars():one()
    end)
  end)

  T.test(pfx .. "a composite primary key: identity of both values",
         function()
    local s <close> = orm.Session(engine)
    local objs = s:scalars(select(Pair):order_by(Pair.a, Pair.b)):all()
    T.eq(#objs, 3)
    T.eq(orm.inspect(objs[2]).identity, {1, "y"})
    selects = 0
    T.ok(s:get(Pair, {1, "y"}) == objs[2])
    T.ok(s:get(Pair, {a = 2, b = "x"}) == objs[3])
    T.eq(selects, 0)
    s:expire(objs[1])
    T.eq(objs[1].v, "1x", "an expired object loads by its key")
    T.eq(selects, 1)
  end)

  T.test(pfx .. "joinedload: repeated rows give each child once, a " ..
         "parent without children an empty list", function()
    local s <close> = orm.Session(engine)
    selects = 0
    -- the inner join repeats each parent per child, and the eager outer
    -- join each child per child: four rows per parent
    local ps = s:scalars(select(Parent):join(Parent.children)
                           :where(Parent.id:ge(598))
                           :options(orm.joinedload(Parent.children))
                           :order_by(Parent.id)):unique():all()
    T.eq(selects, 1)
    T.eq(#ps, 2)
    T.eq({ps[1].id, ps[2].id}, {598, 599})
    T.eq({ps[1].children[1].name, ps[1].children[2].name}, {"c598a", "c598b"})
    T.eq(#ps[2].children, 2)
    local all = s:scalars(select(Parent):where(Parent.id:ge(599))
                            :options(orm.joinedload(Parent.children))
                            :order_by(Parent.id)):unique():all()
    T.eq(#all, 2)
    T.ok(all[1] == ps[2], "the identity map's object")
    T.eq(#all[2].children, 0, "no child: an empty list")
    T.eq(selects, 2)
    T.raises("InvalidRequestError", function()
      s:scalars(select(Parent):options(orm.joinedload(Parent.children)))
        :all()
    end)
  end)

  T.test(pfx .. "selectinload: 600 parents in two batches, lazy loads",
         function()
    local s <close> = orm.Session(engine)
    selects = 0
    local ps = s:scalars(select(Parent):order_by(Parent.id)
                           :options(orm.selectinload(Parent.children))):all()
    T.eq(#ps, 600)
    T.eq(selects, 3, "the parents, then a SELECT per 500 keys")
    for _, p in ipairs({1, 500, 501, 599}) do
      local c = ps[p].children
      T.eq({#c, c[1].name, c[2].name}, {2, "c" .. p .. "a", "c" .. p .. "b"})
      T.ok(c[1].parent_id == p)
    end
    T.eq(#ps[600].children, 0)
    T.eq(selects, 3, "nothing more to load")
    local s2 <close> = orm.Session(engine)
    local p = s2:get(Parent, 42)
    selects = 0
    T.eq({p.children[1].id, p.children[2].id}, {83, 84})
    T.eq(selects, 1, "a lazy load")
    T.ok(s2:get(Child, 83) == p.children[1])
  end)

  T.test(pfx .. "joinedload of two collections: rows past the pause, " ..
         "each child once per collection", function()
    local s <close> = orm.Session(engine)
    selects = 0
    local ps = s:scalars(select(Parent):order_by(Parent.id):options(
      orm.joinedload(Parent.children), orm.joinedload(Parent.kids)))
      :unique():all()
    T.eq(#ps, 600)
    T.eq(selects, 1, "one statement (a row per child pair of a parent)")
    for _, p in ipairs({1, 300, 599}) do
      local c, k = ps[p].children, ps[p].kids
      T.eq({#c, c[1].name, c[2].name}, {2, "c" .. p .. "a", "c" .. p .. "b"})
      T.eq({#k, k[1].name, k[2].name}, {2, "c" .. p .. "a", "c" .. p .. "b"})
      T.ok(rawequal(c[1], k[1]) and rawequal(c[2], k[2]))
    end
    T.eq({#ps[600].children, #ps[600].kids}, {0, 0})
    T.eq(selects, 1, "nothing more to load")
  end)

  T.test(pfx .. "loads that outgrow the heap they began with: every " ..
         "row's object once, joined collections whole, the collector " ..
         "running after", function()
    local Bulk = M.Bulk
    local s <close> = orm.Session(engine)
    collectgarbage()
    local objs = s:scalars(select(Bulk):order_by(Bulk.id)):all()
    T.eq(#objs, BULK)
    T.eq(collectgarbage("isrunning"), true)
    for i = 1, BULK, 997 do
      T.eq({objs[i].id, objs[i].parent_id, objs[i].name}, {i, (i - 1) // 40 + 1,
                                                          "b" .. i})
    end
    T.ok(s:get(Bulk, BULK) == objs[BULK], "in the identity map")
    local s2 <close> = orm.Session(engine)
    objs = nil
    collectgarbage()
    local ps = s2:scalars(select(Parent):order_by(Parent.id)
                            :options(orm.joinedload(Parent.bulk))):unique()
                 :all()
    T.eq(#ps, 600)
    T.eq(#ps[401].bulk, 0, "a parent without rows: an empty list")
    T.eq(collectgarbage("isrunning"), true)
    for _, i in ipairs({1, 200, 400}) do
      local b = ps[i].bulk
      T.eq({#b, b[1].id, b[40].id, b[40].name},
           {40, 40 * i - 39, 40 * i, "b" .. 40 * i})
    end
  end)

  T.test(pfx .. "selectinload: a key's rows apart, owners sharing a key",
         function()
    local s <close> = orm.Session(engine)
    -- (children of parents 1 and 2 alternating: each parent's rows of the
    -- selectin SELECT are not together)
    s:add_all({Child{id = 5001, parent_id = 2, name = "x1"},
               Child{id = 5002, parent_id = 1, name = "x2"},
               Child{id = 5003, parent_id = 2, name = "x3"}})
    s:flush()
    selects = 0
    local ps = s:scalars(select(Parent):where(Parent.id:in_({1, 2}))
                           :order_by(Parent.id)
                           :options(orm.selectinload(Parent.children))):all()
    local function names(p)
      local out = {}
      for i, c in ipairs(p.children) do out[i] = c.name end
      return out
    end
    T.eq(names(ps[1]), {"c1a", "c1b", "x2"})
    T.eq(names(ps[2]), {"c2a", "c2b", "x1", "x3"})
    T.eq(selects, 2)
    s:rollback()
    -- many-to-one: the children of a parent are its owners in the load
    selects = 0
    local cs = s:scalars(select(Child):where(Child.parent_id:in_({3, 4}))
                           :order_by(Child.id)
                           :options(orm.selectinload(Child.parent))):all()
    T.eq(#cs, 4)
    T.eq(selects, 2)
    T.ok(rawequal(cs[1].parent, cs[2].parent), "one object for both")
    T.eq({cs[1].parent.id, cs[3].parent.id}, {3, 4})
    T.ok(rawequal(cs[4].parent, s:get(Parent, 4)))
    T.eq(selects, 2, "nothing more to load")
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
