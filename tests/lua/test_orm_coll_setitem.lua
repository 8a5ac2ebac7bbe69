-- Collections written by place: c[i] = x on a member already there
-- replaces it with the events SQLAlchemy's __setitem__ fires (remove of
-- the old member, append of the new: backrefs, delete-orphan,
-- save-update, history), for list, ordering_list, many-to-many and set
-- collections; and everything a collection offers still works through
-- the view obj.rel gives (#, ipairs, pairs, tostring, ==, methods).  The
-- expected SQL and results are SQLAlchemy 1.4's for the same steps.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local assoc = Table("cs_assoc", Base.metadata,
    Column("a_id", Integer, ForeignKey("cs_a.id"), {primary_key = true}),
    Column("t_id", Integer, ForeignKey("cs_t.id"), {primary_key = true}))
  M.P = Base:class "P" {
    __tablename__ = "cs_p",
    id = Column(Integer, {primary_key = true}),
    kids = relationship("K", {back_populates = "p", order_by = "K.id",
                              cascade = "all, delete-orphan"}),
  }
  M.K = Base:class "K" {
    __tablename__ = "cs_k",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    p_id = Column(Integer, ForeignKey("cs_p.id")),
    p = relationship("P", {back_populates = "kids"}),
  }
  M.A = Base:class "A" {
    __tablename__ = "cs_a",
    id = Column(Integer, {primary_key = true}),
    tags = relationship("Tg", {secondary = assoc, back_populates = "as_",
                               order_by = "Tg.id"}),
    tagset = relationship("Tg", {secondary = assoc, collection_class = "set",
                                 viewonly = true}),
    items = relationship("It", {order_by = "It.pos",
                                collection_class = orm.ordering_list("pos"),
                                cascade = "all, delete-orphan"}),
  }
  M.Tg = Base:class "Tg" {
    __tablename__ = "cs_t",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    as_ = relationship("A", {secondary = assoc, back_populates = "tags"}),
  }
  M.It = Base:class "It" {
    __tablename__ = "cs_i",
    id = Column(Integer, {primary_key = true}),
    a_id = Column(Integer, ForeignKey("cs_a.id")),
    pos = Column(Integer),
    name = Column(String(20)),
  }
  return M
end

local function norm(sql)
  return (sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " "))
end

local function names(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.name end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local P, K, A, Tg, It = M.P, M.K, M.A, M.Tg, M.It
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local function writes()
    local out = {}
    for _, q in ipairs(log) do
      if not q:match("^SELECT") then out[#out + 1] = q end
    end
    return out
  end
  local pfx = db.name .. ": "

  T.test(pfx .. "c[i] = x replaces a list member: events, backrefs, " ..
         "history, delete-orphan", function()
    local s <close> = orm.Session(engine)
    local p = P{id = 1, kids = {K{id = 1, name = "a"}, K{id = 2, name = "b"}}}
    s:add(p)
    s:commit()
    local ev = {}
    orm.event.listen(P.kids, "append",
      function(t, v) ev[#ev + 1] = "append " .. v.name end)
    orm.event.listen(P.kids, "remove",
      function(t, v) ev[#ev + 1] = "remove " .. v.name end)
    local a = p.kids[1]
    local c = K{id = 3, name = "c"}
    p.kids[1] = c
    T.eq(ev, {"remove a", "append c"})
    T.ok(rawequal(c.p, p), "the new member's backref")
    T.eq(a.p, nil, "the old member's backref")
    local ah = orm.inspect(a).attrs.p.history
    -- (SQLAlchemy: History(added=[None], unchanged=(), deleted=[p]))
    T.eq({#ah.added, #ah.unchanged, #ah.deleted}, {1, 0, 1})
    T.ok(rawequal(ah.added[1], sa.null))
    T.ok(rawequal(ah.deleted[1], p))
    T.ok(s:contains(c), "save-update cascade")
    local h = orm.inspect(p).attrs.kids.history
    T.eq(names(h.added), {"c"})
    T.eq(names(h.unchanged), {"b"})
    T.eq(names(h.deleted), {"a"})
    T.eq(names(p.kids), {"c", "b"})
    clear()
    s:flush()
    T.eq(writes(), {"INSERT INTO cs_k (id, name, p_id) VALUES (?, ?, ?)",
                    "DELETE FROM cs_k WHERE cs_k.id = ?"})
    T.ok(orm.inspect(a).deleted)
    -- the same member again: remove and append fire, nothing changes
    ev = {}
    p.kids[1] = c
    T.eq(ev, {"remove c", "append c"})
    h = orm.inspect(p).attrs.kids.history
    T.eq(#h.added + #h.deleted, 0)
    T.ok(rawequal(c.p, p))
    T.eq(#orm.inspect(c).attrs.p.history.deleted, 0)
    clear()
    s:commit()
    T.eq(writes(), {})
    T.eq(names(p.kids), {"b", "c"})
    s:close()
  end)

  T.test(pfx .. "c[#c + 1] = x appends, c[i] = nil removes, bad places " ..
         "raise", function()
    local s <close> = orm.Session(engine)
    local p = s:get(P, 1)
    local kids = p.kids
    kids[#kids + 1] = K{id = 4, name = "d"}
    T.eq(names(p.kids), {"b", "c", "d"})
    T.ok(rawequal(kids[3].p, p))
    local b = kids[1]
    kids[1] = nil
    T.eq(names(p.kids), {"c", "d"})
    T.eq(b.p, nil)
    T.raises("ArgumentError", function() kids[5] = K{name = "x"} end)
    T.raises("ArgumentError", function() kids[0] = K{name = "x"} end)
    T.raises("ArgumentError", function() kids.foo = 1 end)
    T.raises("ArgumentError", function() kids[1] = Tg{name = "x"} end)
    T.eq(names(p.kids), {"c", "d"})
    clear()
    s:commit()
    T.eq(writes(), {"INSERT INTO cs_k (id, name, p_id) VALUES (?, ?, ?)",
                    "DELETE FROM cs_k WHERE cs_k.id = ?"})
    T.eq(names(p.kids), {"c", "d"})
  end)

  T.test(pfx .. "a collection read through its view", function()
    local s <close> = orm.Session(engine)
    local p = s:get(P, 1)
    local kids = p.kids
    T.ok(rawequal(kids, p.kids), "one view per collection")
    T.eq(#kids, 2)
    local seen = {}
    for i, k in ipairs(kids) do seen[#seen + 1] = i .. k.name end
    for i, k in pairs(kids) do seen[#seen + 1] = i .. k.name end
    T.eq(seen, {"1c", "2d", "1c", "2d"})
    T.eq(tostring(kids), "[K(id=3, name='c', p_id=1), " ..
                         "K(id=4, name='d', p_id=1)]")
    T.ok(kids == {kids[1], kids[2]}, "equal to a list of its members")
    T.ok(not (kids == {kids[2], kids[1]}), "in order")
    T.ok(kids:contains(kids[2]))
    T.eq(kids:index(kids[2]), 2)
    T.eq(getmetatable(kids).__name, "retort.Collection")
    local e = K{id = 5, name = "e"}
    kids:insert(1, e)
    kids:extend({K{id = 6, name = "f"}})
    T.eq(names(kids), {"e", "c", "d", "f"})
    T.eq(kids:pop().name, "f")
    kids:remove(e)
    T.eq(names(kids), {"c", "d"})
    -- assigning the view of another collection copies its members
    local q = P{id = 2}
    s:add(q)
    q.kids = kids
    T.eq(names(q.kids), {"c", "d"})
    T.ok(rawequal(q.kids[1].p, q))
    s:rollback()
  end)

  T.test(pfx .. "many-to-many: c[i] = x swaps the association row",
         function()
    local s <close> = orm.Session(engine)
    local t1, t2, t3 = Tg{id = 1, name = "t1"}, Tg{id = 2, name = "t2"},
      Tg{id = 3, name = "t3"}
    local a = A{id = 1, tags = {t1, t2},
                items = {It{id = 1, name = "x"}, It{id = 2, name = "y"},
                         It{id = 3, name = "z"}}}
    s:add_all({a, t3})
    s:commit()
    clear()
    a.tags[2] = t3
    -- (reading the other sides flushes first)
    T.eq(names(t2.as_), {})
    T.eq(#t3.as_, 1)
    T.ok(rawequal(t3.as_[1], a))
    s:commit()
    -- (SQLAlchemy deletes the old row first; here the new row's INSERT
    -- comes with the flush's inserts, the DELETE with its deletes)
    local w = writes()
    table.sort(w)
    T.eq(w, {"DELETE FROM cs_assoc WHERE cs_assoc.a_id = ? AND " ..
             "cs_assoc.t_id = ?",
             "INSERT INTO cs_assoc (a_id, t_id) VALUES (?, ?)"})
    T.eq(names(a.tags), {"t1", "t3"})
    -- a set: s[obj] is membership; no places to assign
    local set = a.tagset
    T.eq(set[t1], true)
    T.eq(set[t2], false)
    T.eq(#set, 2)
    local n = 0
    for x, v in pairs(set) do
      T.ok(v == true and (x == t1 or x == t3))
      n = n + 1
    end
    T.eq(n, 2)
    T.ok(set == {t3, t1}, "sets compare by members")
    T.raises("ArgumentError", function() set[1] = t2 end)
  end)

  T.test(pfx .. "set collections: s[obj] = true adds, s[obj] = nil " ..
         "removes", function()
    local Base = orm.declarative_base()
    local SP = Base:class "SP" {
      __tablename__ = "cs_sp",
      id = Column(Integer, {primary_key = true}),
      kids = relationship("SK", {collection_class = "set",
                                 back_populates = "p"}),
    }
    local SK = Base:class "SK" {
      __tablename__ = "cs_sk",
      id = Column(Integer, {primary_key = true}),
      p_id = Column(Integer, ForeignKey("cs_sp.id")),
      p = relationship("SP", {back_populates = "kids"}),
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    local k1, k2 = SK{id = 1}, SK{id = 2}
    local p = SP{id = 1, kids = {k1}}
    s:add(p)
    p.kids[k2] = true
    T.ok(rawequal(k2.p, p))
    T.eq(#p.kids, 2)
    p.kids[k1] = nil
    T.eq(k1.p, nil)
    T.eq(#p.kids, 1)
    T.eq(tostring(p.kids), "{SK(id=2)}")
    T.raises("ArgumentError", function() p.kids[k1] = 5 end)
    clear()
    s:commit()
    T.eq(#s:scalars(select(SK):where(SK.p_id:eq(1))):all(), 1)
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "ordering_list: c[i] = x takes place i's position",
         function()
    local s <close> = orm.Session(engine)
    local a = s:get(A, 1)
    T.eq(names(a.items), {"x", "y", "z"})
    local w = It{id = 4, name = "w"}
    a.items[2] = w
    local got = {}
    for _, i in ipairs(a.items) do got[#got + 1] = {i.name, i.pos} end
    T.eq(got, {{"x", 0}, {"w", 1}, {"z", 2}})
    clear()
    s:commit()
    T.eq(writes(), {"INSERT INTO cs_i (id, a_id, pos, name) VALUES " ..
                    "(?, ?, ?, ?)", "DELETE FROM cs_i WHERE cs_i.id = ?"})
    got = {}
    for _, i in ipairs(a.items) do got[#got + 1] = {i.name, i.pos} end
    T.eq(got, {{"x", 0}, {"w", 1}, {"z", 2}})
    T.eq(getmetatable(a.items).__name, "retort.OrderingList")
    -- c[i] = nil takes the member out and renumbers the rest
    a.items[1] = nil
    got = {}
    for _, i in ipairs(a.items) do got[#got + 1] = {i.name, i.pos} end
    T.eq(got, {{"w", 0}, {"z", 1}})
    clear()
    s:commit()
    T.eq(writes(), {"UPDATE cs_i SET pos=? WHERE cs_i.id = ?",
                    "DELETE FROM cs_i WHERE cs_i.id = ?"})
  end)

  T.test(pfx .. "keyed dicts: d[key] = x over a member replaces it",
         function()
    local Base = orm.declarative_base()
    local DP = Base:class "DP" {
      __tablename__ = "cs_dp",
      id = Column(Integer, {primary_key = true}),
      notes = relationship("DN", {
        collection_class = orm.attribute_keyed_dict("k"),
        cascade = "all, delete-orphan"}),
    }
    local DN = Base:class "DN" {
      __tablename__ = "cs_dn",
      id = Column(Integer, {primary_key = true}),
      dp_id = Column(Integer, ForeignKey("cs_dp.id")),
      k = Column(String(10)),
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add(DP{id = 1, notes = {a = DN{id = 1, k = "a"}}})
    s:commit()
    local dp = s:get(DP, 1)
    local old = dp.notes.a
    dp.notes.a = DN{id = 2, k = "a"}
    clear()
    s:commit()
    T.eq(writes(), {"INSERT INTO cs_dn (id, dp_id, k) VALUES (?, ?, ?)",
                    "DELETE FROM cs_dn WHERE cs_dn.id = ?"})
    T.ok(orm.inspect(old).detached)
    T.eq(dp.notes.a.id, 2)
    s:close()
    Base.metadata:drop_all(engine)
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
