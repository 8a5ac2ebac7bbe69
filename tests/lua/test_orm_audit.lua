-- ORM behaviours pinned against SQLAlchemy 1.4.46 on every test database:
-- inspection of mappers and instances, is_modified() for relationship
-- changes, add_all() given one object, delete-orphan after merge(),
-- assignment on an expired detached object, defaultload() of an eager
-- relationship, and the SQL text of a query.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "au_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    addresses = relationship("Address", {back_populates = "user",
                                         cascade = "all, delete-orphan",
                                         order_by = "Address.id"}),
    nick = orm.synonym("name"),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "au_address",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(50)),
    user_id = Column(Integer, ForeignKey("au_user.id")),
    user = relationship("User", {back_populates = "addresses"}),
  }
  M.P = Base:class "P" {
    __tablename__ = "au_p",
    id = Column(Integer, {primary_key = true}),
    kids = relationship("K", {cascade = "all, delete-orphan",
                              order_by = "K.id"}),
    kd = relationship("D", {cascade = "all, delete-orphan",
                            collection_class =
                              orm.attribute_keyed_dict("name")}),
  }
  M.K = Base:class "K" {
    __tablename__ = "au_k",
    id = Column(Integer, {primary_key = true}),
    p_id = Column(Integer, ForeignKey("au_p.id")),
  }
  M.D = Base:class "D" {
    __tablename__ = "au_d",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(10)),
    p_id = Column(Integer, ForeignKey("au_p.id")),
  }
  -- relationships eager by default
  M.EU = Base:class "EU" {
    __tablename__ = "au_eu",
    id = Column(Integer, {primary_key = true}),
    items = relationship("EA", {lazy = "joined", order_by = "EA.id"}),
    orders = relationship("EO", {lazy = "selectin", order_by = "EO.id"}),
  }
  M.EA = Base:class "EA" {
    __tablename__ = "au_ea",
    id = Column(Integer, {primary_key = true}),
    eu_id = Column(Integer, ForeignKey("au_eu.id")),
  }
  M.EO = Base:class "EO" {
    __tablename__ = "au_eo",
    id = Column(Integer, {primary_key = true}),
    eu_id = Column(Integer, ForeignKey("au_eu.id")),
  }
  -- a deferred column and a column_property
  local pu_id = Column(Integer, {primary_key = true})
  local pu_name = Column(String(30))
  M.PU = Base:class "PU" {
    __tablename__ = "au_pu",
    id = pu_id,
    name = pu_name,
    bio = orm.deferred(Column(String(30))),
    upper = orm.column_property(func.upper(pu_name)),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address = M.User, M.Address
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local function fresh()
    local s = orm.Session(engine)
    s:execute(delete(Address))
    s:execute(delete(User))
    s:add(User{id = 1, name = "a", addresses = {Address{id = 1, email = "x"},
                                                Address{id = 2, email = "y"}}})
    s:commit()
    return s
  end

  T.test(db.name .. ": is_modified after relationship changes", function()
    local s = fresh()
    local u = s:get(User, 1)
    local _ = #u.addresses
    T.eq(s:is_modified(u), false)
    u.addresses:append(Address{id = 3, email = "z"})
    T.eq(s:is_modified(u), true, "append")
    T.eq(s:is_modified(u, {include_collections = false}), false)
    s:commit()
    _ = #u.addresses
    T.eq(s:is_modified(u), false, "after commit")
    u.addresses:remove(u.addresses[1])
    T.eq(s:is_modified(u), true, "remove")
    s:rollback()
    T.eq(s:is_modified(u), false, "after rollback")
    u.addresses = {Address{id = 4, email = "q"}}
    T.eq(s:is_modified(u), true, "assignment")
    s:rollback()
    local a = s:get(Address, 1)
    T.eq(s:is_modified(a), false)
    a.user = nil
    T.eq(s:is_modified(a), true, "many-to-one set to nil")
    s:rollback()
    -- appended then removed again: no net change
    u = s:get(User, 1)
    _ = #u.addresses
    local n = Address{id = 5, email = "n"}
    u.addresses:append(n)
    u.addresses:remove(n)
    T.eq(s:is_modified(u), false, "append then remove")
    s:close()
  end)

  T.test(db.name .. ": add_all with one object", function()
    local s = orm.Session(engine)
    local err = T.raises("ArgumentError", s.add_all, s, User{name = "q"})
    T.match(err.message,
            "add_all%(%) takes a list of objects, not a single User")
    T.eq(#s.new, 0)
    T.raises("ArgumentError", s.add_all, s, 5)
    s:close()
  end)

  T.test(db.name .. ": assigning on an expired detached object", function()
    local s = fresh()
    local u = s:get(User, 1)
    s:commit() -- expires u
    s:close()
    local st = orm.inspect(u)
    T.eq(st.detached, true)
    u.name = "b"
    T.eq(u.name, "b")
    T.eq(st.modified, true)
    T.eq(st.attrs.name.history.added, {"b"})
    T.eq(st.attrs.name.history.deleted, {})
    -- the other expired attributes still cannot load
    T.raises("DetachedInstanceError", function() return u.id end)
    -- added to a session, the change is flushed by its primary key
    local s2 = orm.Session(engine)
    s2:add(u)
    T.eq(st.persistent, true)
    T.eq(s2:is_modified(u), true)
    s2:commit()
    T.eq(s2:execute(select(User.name):where(User.id:eq(1))):scalar(), "b")
    s2:close()
    -- a collection is loaded before it is replaced: not on a detached
    -- object (a many-to-one is set without loading)
    local s4 = orm.Session(engine)
    local u4 = s4:get(User, 1)
    local a4 = s4:get(Address, 1)
    s4:commit()
    s4:close()
    T.raises("DetachedInstanceError", function()
      u4.addresses = {Address{id = 9, email = "w"}}
    end)
    a4.user = User{id = 5, name = "n"}
    T.eq(a4.user.id, 5)
    -- merged: the merged copy takes the value and is dirty
    u.name = "c"
    local s3 = orm.Session(engine)
    local m = s3:merge(u)
    T.eq(m.name, "c")
    T.eq(s3:is_modified(m), true)
    s3:commit()
    T.eq(s3:execute(select(User.name):where(User.id:eq(1))):scalar(), "c")
    s3:close()
  end)

  T.test(db.name .. ": inspect(Class) attrs, columns, relationships", function()
    local m = orm.inspect(User)
    local keys = {}
    for k in pairs(m.attrs) do keys[#keys + 1] = k end
    table.sort(keys)
    T.eq(keys, {"addresses", "id", "name", "nick"})
    T.ok(rawequal(m.attrs.addresses, m.relationships.addresses))
    T.ok(rawequal(m.attrs.name, User.name))
    -- (a ColumnProperty prints as its attribute; the mapper's columns
    -- are the Columns themselves)
    T.eq(tostring(m.attrs.name), "User.name")
    T.eq(#m.columns, 2)
    T.ok(m.columns[2] == User.name)
    T.ok(m.columns.name == User.name)
    T.eq(tostring(m.columns.name), "au_user.name")
    T.eq(tostring(m.columns.id), "au_user.id")
    T.eq(m.columns.addresses, nil)
    T.eq(tostring(m.relationships.addresses), "User.addresses")
    T.eq(tostring(m.relationships.user), "nil")
    local syn = {}
    for k in pairs(m.synonyms) do syn[#syn + 1] = k end
    T.eq(syn, {"nick"})
    keys = {}
    for k in pairs(m.column_attrs) do keys[#keys + 1] = k end
    table.sort(keys)
    T.eq(keys, {"id", "name"})
  end)

  T.test(db.name .. ": inspect(obj).attrs of relationships", function()
    local s = fresh()
    local u = s:get(User, 1)
    local st = orm.inspect(u)
    local a = st.attrs.addresses
    T.ok(a ~= nil)
    -- not loaded: no history, no loaded value; .value loads
    T.eq(a.loaded_value, nil)
    T.eq(a.history, {added = {}, unchanged = {}, deleted = {}})
    local v = a.value
    T.eq(#v, 2)
    local x, y = v[1], v[2]
    a = st.attrs.addresses
    T.eq(#a.loaded_value, 2)
    T.ok(rawequal(a.loaded_value[1], x))
    T.eq(a.history, {added = {}, unchanged = {x, y}, deleted = {}})
    local z = Address{id = 3, email = "z"}
    u.addresses:append(z)
    T.eq(st.attrs.addresses.history, {added = {z}, unchanged = {x, y},
                                      deleted = {}})
    u.addresses:remove(x)
    T.eq(st.attrs.addresses.history, {added = {z}, unchanged = {y},
                                      deleted = {x}})
    -- a many-to-one
    local ad = s:get(Address, 2)
    local ast = orm.inspect(ad).attrs.user
    T.ok(rawequal(ast.value, u))
    T.eq(orm.inspect(ad).attrs.user.history,
         {added = {}, unchanged = {u}, deleted = {}})
    local u2 = User{id = 2, name = "b"}
    ad.user = u2
    T.eq(orm.inspect(ad).attrs.user.history,
         {added = {u2}, unchanged = {}, deleted = {u}})
    -- a synonym: the history of its column
    u.name = "b"
    T.eq(st.attrs.nick.history, {added = {"b"}, unchanged = {},
                                 deleted = {"a"}})
    T.eq(st.attrs.nick.value, "b")
    T.eq(st.attrs.nosuch, nil)
    local names = {}
    for k, v in pairs(st.attrs) do
      names[#names + 1] = k
      T.eq(v.key, k)
    end
    T.eq(names, {"addresses", "id", "name", "nick"})
    s:rollback()
    s:close()
  end)

  T.test(db.name .. ": tostring(query) labels its columns", function()
    local s = orm.Session(engine)
    -- (the bind's own placeholders, where SQLAlchemy's would be its
    -- DBAPI's; MySQL's joins are INNER JOIN, as its dialect writes them)
    local ph = T.ph(db.name, 1)
    T.eq(tostring(s:query(User):filter(User.name:eq("x"))),
         "SELECT au_user.id AS au_user_id, au_user.name AS au_user_name \n" ..
         "FROM au_user \nWHERE au_user.name = " .. ph)
    T.eq(tostring(s:query(User):join(User.addresses)
                   :filter(Address.email:eq("x"))),
         "SELECT au_user.id AS au_user_id, au_user.name AS au_user_name \n" ..
         "FROM au_user " .. (db.name == "mysql" and "INNER JOIN" or "JOIN") ..
         " au_address ON au_user.id = au_address.user_id \n" ..
         "WHERE au_address.email = " .. ph)
    T.eq(tostring(s:query(User.id, func.count(User.id), User.name:label("nm"))
                   :group_by(User.id)),
         "SELECT au_user.id AS au_user_id, count(au_user.id) AS count_1, " ..
         "au_user.name AS nm \nFROM au_user GROUP BY au_user.id")
    local u2 = orm.aliased(User, {name = "u2"})
    T.eq(tostring(s:query(u2):filter(u2.id:eq(1))),
         "SELECT u2.id AS u2_id, u2.name AS u2_name \n" ..
         "FROM au_user AS u2 \nWHERE u2.id = " .. ph)
    if db.name == "sqlite" then
      T.eq(tostring(s:query(User.id):order_by(User.id):limit(3)),
           "SELECT au_user.id AS au_user_id \nFROM au_user " ..
           "ORDER BY au_user.id\n LIMIT ? OFFSET ?")
    end
    -- without a bind: the default dialect's named parameters
    T.eq(tostring(orm.Session():query(User):filter(User.id:eq(1)):offset(2)),
         "SELECT au_user.id AS au_user_id, au_user.name AS au_user_name \n" ..
         "FROM au_user \nWHERE au_user.id = :id_1\n LIMIT -1 OFFSET :param_1")
    s:close()
  end)

  -- rows of a child table as {id, p_id} lists, in id order
  local function rows(t)
    local s = orm.Session(engine)
    local out = {}
    for _, r in ipairs(s:execute(select(t.id, t.p_id):order_by(t.id)):all()) do
      out[#out + 1] = {r[1], r[2]}
    end
    s:close()
    return out
  end
  local P, K, D = M.P, M.K, M.D
  local function fresh_p()
    local s = orm.Session(engine)
    s:execute(delete(K))
    s:execute(delete(D))
    s:execute(delete(P))
    s:add(P{id = 1, kids = {K{id = 1}, K{id = 2}},
            kd = {a = D{id = 1, name = "a"}, b = D{id = 2, name = "b"}}})
    s:commit()
    s:close()
  end
  local function merged(s)
    return s:merge(P{id = 1, kids = {K{id = 3}, K{id = 4}},
                     kd = {c = D{id = 3, name = "c"},
                           e = D{id = 4, name = "e"}}})
  end

  T.test(db.name .. ": delete after merge() replaced delete-orphan collections",
         function()
    fresh_p()
    local s = orm.Session(engine)
    local m = merged(s)
    s:commit()
    T.eq(rows(K), {{3, 1}, {4, 1}})
    T.eq(rows(D), {{3, 1}, {4, 1}})
    s:delete(m)
    s:commit()
    T.eq(rows(K), {})
    T.eq(rows(D), {})
    s:close()
    -- in the same transaction: the replaced members are orphans of the
    -- deleted parent and go; the merged-in ones were pending and are
    -- inserted without its key (as SQLAlchemy does)
    fresh_p()
    s = orm.Session(engine)
    m = merged(s)
    s:delete(m)
    s:commit()
    T.eq(rows(K), {{3, nil}, {4, nil}})
    T.eq(rows(D), {{3, nil}, {4, nil}})
    s:close()
  end)

  T.test(db.name .. ": defaultload() keeps a default eager load", function()
    local EU, EA, EO = M.EU, M.EA, M.EO
    local s = orm.Session(engine)
    s:execute(delete(EA))
    s:execute(delete(EO))
    s:execute(delete(EU))
    s:add(EU{id = 1, items = {EA{id = 1}, EA{id = 2}}, orders = {EO{id = 1}}})
    s:commit()
    s:close()
    local log = {}
    local function listener(_, _, sql)
      log[#log + 1] = (sql:gsub("%s+", " "):gsub(" $", ""))
    end
    orm.event.listen(engine, "before_cursor_execute", listener)
    s = orm.Session(engine)
    local ok, err = pcall(function()
      local us = s:execute(select(EU):options(orm.defaultload(EU.items),
                                              orm.defaultload(EU.orders)))
        :unique():scalars():all()
      local n = #log
      T.eq(#us[1].items, 2)
      T.eq(us[1].items[2].id, 2)
      T.eq(#us[1].orders, 1)
      T.eq(#log, n, "nothing loaded lazily")
    end)
    orm.event.remove(engine, "before_cursor_execute", listener)
    s:close()
    if not ok then error(err, 0) end
    local ph = T.ph(db.name, 1)
    local outer = "LEFT OUTER JOIN"
    T.eq(log, {
      "SELECT au_eu.id, au_ea_1.id AS id_1, au_ea_1.eu_id FROM au_eu " ..
      outer .. " au_ea AS au_ea_1 ON au_eu.id = au_ea_1.eu_id " ..
      "ORDER BY au_ea_1.id",
      "SELECT au_eo.eu_id AS au_eo_eu_id, au_eo.id AS au_eo_id FROM au_eo " ..
      "WHERE au_eo.eu_id IN (" .. ph .. ") ORDER BY au_eo.id"})
  end)

  T.test(db.name .. ": select(aliased(Class)) writes out its properties",
         function()
    local PU = M.PU
    T.eq(tostring(select(PU)),
         "SELECT upper(au_pu.name) AS upper_1, au_pu.id, au_pu.name \n" ..
         "FROM au_pu")
    T.eq(tostring(select(orm.aliased(PU))),
         "SELECT upper(au_pu_1.name) AS upper_1, au_pu_1.id, au_pu_1.name \n" ..
         "FROM au_pu AS au_pu_1")
    local pa = orm.aliased(PU, {name = "pa"})
    local stmt = select(pa):where(pa.id:eq(1))
    T.eq(tostring(stmt),
         "SELECT upper(pa.name) AS upper_1, pa.id, pa.name \n" ..
         "FROM au_pu AS pa \nWHERE pa.id = :id_1")
    local s = orm.Session(engine)
    s:execute(delete(PU))
    s:add(PU{id = 1, name = "ab", bio = "b"})
    s:commit()
    local got = s:execute(stmt):scalars():all()
    T.eq(#got, 1)
    T.ok(rawequal(got[1], s:get(PU, 1)), "the identity-map object")
    T.eq(got[1].upper, "AB")
    T.eq(orm.inspect(got[1]).unloaded, {"bio"})
    T.eq(got[1].bio, "b")
    s:close()
  end)
end

T.done()
