-- Relationship querying checked statement by statement against
-- SQLAlchemy 1.4 (future mode) on every test database: joins through a
-- many-to-many's secondary (aliased, nested in an outer join), with_parent
-- and any()/has() with keyword criteria, a backref that moves an object
-- between loaded collections, and the deletes of an adjacency list that
-- read nothing they do not need.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local kw = Table("rs_item_kw", Base.metadata,
    Column("item_id", ForeignKey("rs_item.id"), {primary_key = true}),
    Column("kw_id", ForeignKey("rs_kw.id"), {primary_key = true}))
  M.User = Base:class "User" {
    __tablename__ = "rs_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    addresses = relationship("Address", {back_populates = "user",
                                         cascade = "all, delete-orphan",
                                         order_by = "Address.id"}),
    orders = relationship("Order", {order_by = "Order.id"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "rs_address",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(50)),
    user_id = Column(ForeignKey("rs_user.id")),
    user = relationship("User", {back_populates = "addresses"}),
  }
  M.Order = Base:class "Order" {
    __tablename__ = "rs_order",
    id = Column(Integer, {primary_key = true}),
    descr = Column(String(30)),
    user_id = Column(ForeignKey("rs_user.id")),
    items = relationship("Item", {secondary = "rs_order_item",
                                  order_by = "Item.id"}),
  }
  Table("rs_order_item", Base.metadata,
    Column("order_id", ForeignKey("rs_order.id"), {primary_key = true}),
    Column("item_id", ForeignKey("rs_item.id"), {primary_key = true}))
  M.Item = Base:class "Item" {
    __tablename__ = "rs_item",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    keywords = relationship("Keyword", {secondary = kw,
                                        back_populates = "items",
                                        order_by = "Keyword.id"}),
  }
  M.Keyword = Base:class "Keyword" {
    __tablename__ = "rs_kw",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    items = relationship("Item", {secondary = kw,
                                  back_populates = "keywords"}),
  }
  M.Node = Base:class "Node" {
    __tablename__ = "rs_node",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(ForeignKey("rs_node.id")),
    name = Column(String(30)),
    children = relationship("Node", {
      backref = orm.backref("parent", {remote_side = "Node.id"}),
      order_by = "Node.id"}),
  }
  return M
end

-- (MySQL's dialect writes INNER JOIN)
local function norm(sql)
  sql = sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " ")
    :gsub("INNER JOIN", "JOIN")
  return sql
end

local function rowlist(rows)
  local out = {}
  for i, r in ipairs(rows) do
    local t = {}
    for k = 1, #r do t[k] = r[k] == nil and "NULL" or r[k] end
    out[i] = t
  end
  return out
end

local function names(objs)
  local out = {}
  for i, x in ipairs(objs) do out[i] = x.name or x.email or x.descr end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Order, Item, Keyword, Node =
    M.User, M.Address, M.Order, M.Item, M.Keyword, M.Node
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    local k1, k2, k3 = Keyword{name = "red"}, Keyword{name = "big"},
                       Keyword{name = "old"}
    local i1 = Item{name = "i1", keywords = {k1, k2}}
    local i2 = Item{name = "i2", keywords = {k2}}
    local i3 = Item{name = "i3", keywords = {k3}}
    s:add_all({
      User{name = "jack",
           addresses = {Address{email = "j1@x"}, Address{email = "j2@y"}},
           orders = {Order{descr = "o1", items = {i1, i2}},
                     Order{descr = "o2", items = {i3}}}},
      User{name = "ed", addresses = {Address{email = "e1@x"}},
           orders = {Order{descr = "o3", items = {i1}}}},
      User{name = "wendy"},
      Order{descr = "o4"},
      Node{name = "root", children = {
        Node{name = "c1", children = {Node{name = "g1"}}},
        Node{name = "c2"}}}})
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local pfx = db.name .. ": "
  local ocols = "SELECT rs_order.id, rs_order.descr, rs_order.user_id " ..
                "FROM rs_order"

  T.test(pfx .. "join through a secondary aliases it", function()
    local s <close> = orm.Session(engine)
    clear()
    local rows = s:execute(select(User.name, Item.name, Keyword.name)
      :join(User.orders):join(Order.items):join(Item.keywords)
      :order_by(User.id, Order.id, Item.id, Keyword.id)):all()
    T.eq(rowlist(rows), {{"jack", "i1", "red"}, {"jack", "i1", "big"},
                         {"jack", "i2", "big"}, {"jack", "i3", "old"},
                         {"ed", "i1", "red"}, {"ed", "i1", "big"}})
    T.eq(log, {"SELECT rs_user.name, rs_item.name AS name_1, rs_kw.name " ..
      "AS name_2 FROM rs_user JOIN rs_order ON rs_user.id = " ..
      "rs_order.user_id " ..
      "JOIN rs_order_item AS rs_order_item_1 ON rs_order.id = " ..
      "rs_order_item_1.order_id JOIN rs_item ON rs_item.id = " ..
      "rs_order_item_1.item_id JOIN rs_item_kw AS rs_item_kw_1 ON " ..
      "rs_item.id = rs_item_kw_1.item_id JOIN rs_kw ON rs_kw.id = " ..
      "rs_item_kw_1.kw_id ORDER BY rs_user.id, rs_order.id, rs_item.id, " ..
      "rs_kw.id"})
    -- the explicit target form and an aliased() target
    local kk = orm.aliased(Keyword, {name = "kk"})
    clear()
    rows = s:execute(select(Item.name, kk.name)
      :join(Item.keywords:of_type(kk)):where(kk.name:ne("red"))
      :order_by(Item.id, kk.id)):all()
    T.eq(rowlist(rows), {{"i1", "big"}, {"i2", "big"}, {"i3", "old"}})
    T.eq(log, {"SELECT rs_item.name, kk.name AS name_1 FROM rs_item " ..
      "JOIN rs_item_kw AS rs_item_kw_1 ON rs_item.id = " ..
      "rs_item_kw_1.item_id JOIN rs_kw AS kk ON kk.id = " ..
      "rs_item_kw_1.kw_id WHERE kk.name != ? ORDER BY rs_item.id, kk.id"})
    local oa = orm.aliased(Order)
    clear()
    rows = s:execute(select(oa.descr, Item.name):join(Item, oa.items)
      :order_by(oa.id, Item.id)):all()
    T.eq(rowlist(rows), {{"o1", "i1"}, {"o1", "i2"}, {"o2", "i3"},
                         {"o3", "i1"}})
    T.eq(log, {"SELECT rs_order_1.descr, rs_item.name FROM rs_order AS " ..
      "rs_order_1 JOIN rs_order_item AS rs_order_item_1 ON rs_order_1.id " ..
      "= rs_order_item_1.order_id JOIN rs_item ON rs_item.id = " ..
      "rs_order_item_1.item_id ORDER BY rs_order_1.id, rs_item.id"})
  end)

  T.test(pfx .. "an outer join through a secondary nests it", function()
    local s <close> = orm.Session(engine)
    clear()
    local rows = s:query(Order.descr, func.count(Item.id))
      :outerjoin(Order.items):group_by(Order.descr)
      :order_by(Order.descr):all()
    T.eq(rowlist(rows), {{"o1", 2}, {"o2", 1}, {"o3", 1}, {"o4", 0}})
    T.eq(log, {"SELECT rs_order.descr AS rs_order_descr, " ..
      "count(rs_item.id) AS count_1 FROM rs_order LEFT OUTER JOIN " ..
      "(rs_order_item AS rs_order_item_1 JOIN rs_item ON rs_item.id = " ..
      "rs_order_item_1.item_id) ON rs_order.id = rs_order_item_1.order_id " ..
      "GROUP BY rs_order.descr ORDER BY rs_order.descr"})
    -- isouter, an explicit target, then an inner join onwards
    local kk = orm.aliased(Keyword, {name = "kk"})
    T.eq(norm(tostring(select(Item.name, kk.name)
      :join(kk, Item.keywords, {isouter = true}))),
      "SELECT rs_item.name, kk.name AS name_1 FROM rs_item LEFT OUTER " ..
      "JOIN (rs_item_kw AS rs_item_kw_1 JOIN rs_kw AS kk ON kk.id = " ..
      "rs_item_kw_1.kw_id) ON rs_item.id = rs_item_kw_1.item_id")
    T.eq(norm(tostring(select(Order.descr, Keyword.name)
      :outerjoin(Order.items):join(Item.keywords))),
      "SELECT rs_order.descr, rs_kw.name FROM rs_order LEFT OUTER JOIN " ..
      "(rs_order_item AS rs_order_item_1 JOIN rs_item ON rs_item.id = " ..
      "rs_order_item_1.item_id) ON rs_order.id = rs_order_item_1.order_id " ..
      "JOIN rs_item_kw AS rs_item_kw_1 ON rs_item.id = " ..
      "rs_item_kw_1.item_id JOIN rs_kw ON rs_kw.id = rs_item_kw_1.kw_id")
    -- contains_eager over the nested join fills the collections
    clear()
    local orders = s:scalars(select(Order):outerjoin(Order.items)
      :options(orm.contains_eager(Order.items))
      :order_by(Order.id, Item.id)):unique():all()
    T.eq(#log, 1)
    local got = {}
    for i, o in ipairs(orders) do got[i] = {o.descr, names(o.items)} end
    T.eq(got, {{"o1", {"i1", "i2"}}, {"o2", {"i3"}}, {"o3", {"i1"}},
               {"o4", {}}})
    T.eq(#log, 1)
  end)

  T.test(pfx .. "with_parent and any() through a secondary", function()
    local s <close> = orm.Session(engine)
    local o1 = s:scalars(select(Order):where(Order.descr:eq("o1"))):one()
    clear()
    T.eq(names(s:scalars(select(Item):where(orm.with_parent(o1, Order.items))
      :order_by(Item.id)):all()), {"i1", "i2"})
    T.eq(log, {"SELECT rs_item.id, rs_item.name FROM rs_item, " ..
      "rs_order_item AS rs_order_item_1 WHERE ? = rs_order_item_1.order_id" ..
      " AND rs_item.id = rs_order_item_1.item_id ORDER BY rs_item.id"})
    -- from an alias, the EXISTS aliases the secondary as well
    local oa = orm.aliased(Order)
    clear()
    T.eq(names(s:scalars(select(oa):where(oa.items:any(Item.name:eq("i3"))))
      :all()), {"o2"})
    T.eq(log, {"SELECT rs_order_1.id, rs_order_1.descr, rs_order_1.user_id" ..
      " FROM rs_order AS rs_order_1 WHERE EXISTS (SELECT 1 FROM " ..
      "rs_order_item AS rs_order_item_1, rs_item WHERE rs_order_1.id = " ..
      "rs_order_item_1.order_id AND rs_item.id = rs_order_item_1.item_id " ..
      "AND rs_item.name = ?)"})
  end)

  T.test(pfx .. "with_parent from an aliased entity", function()
    local s <close> = orm.Session(engine)
    local jack = s:scalars(select(User):where(User.name:eq("jack"))):one()
    local o1 = s:scalars(select(Order):where(Order.descr:eq("o1"))):one()
    local aa = orm.aliased(Address, {name = "aa"})
    local ia = orm.aliased(Item)
    clear()
    T.eq(names(s:scalars(select(aa):where(orm.with_parent(jack,
      User.addresses, {from_entity = aa})):order_by(aa.id)):all()),
      {"j1@x", "j2@y"})
    T.eq(names(s:scalars(select(aa):where(orm.with_parent(jack,
      User.addresses:of_type(aa))):order_by(aa.id)):all()),
      {"j1@x", "j2@y"})
    T.eq(names(s:scalars(select(ia):where(orm.with_parent(o1, Order.items,
      {from_entity = ia})):order_by(ia.id)):all()), {"i1", "i2"})
    local acols = "SELECT aa.id, aa.email, aa.user_id FROM rs_address AS " ..
      "aa WHERE ? = aa.user_id ORDER BY aa.id"
    T.eq(log, {acols, acols,
      "SELECT rs_item_1.id, rs_item_1.name FROM rs_item AS rs_item_1, " ..
      "rs_order_item AS rs_order_item_1 WHERE ? = rs_order_item_1.order_id" ..
      " AND rs_item_1.id = rs_order_item_1.item_id ORDER BY rs_item_1.id"})
    local ok, err = pcall(orm.with_parent, jack, User.addresses,
                          {from_entity = Order.descr})
    T.eq(ok, false)
    T.eq(err.kind, "ArgumentError")
  end)

  T.test(pfx .. "any()/has() of an of_type() relationship", function()
    local s <close> = orm.Session(engine)
    local kk = orm.aliased(Keyword, {name = "kk"})
    local ua = orm.aliased(User, {name = "ua"})
    clear()
    T.eq(names(s:scalars(select(Item):where(Item.keywords:of_type(kk)
      :any(kk.name:eq("red")))):all()), {"i1"})
    T.eq(names(s:scalars(select(Address):where(Address.user:of_type(ua)
      :has(ua.name:eq("jack"))):order_by(Address.id)):all()),
      {"j1@x", "j2@y"})
    T.eq(log, {"SELECT rs_item.id, rs_item.name FROM rs_item WHERE EXISTS " ..
      "(SELECT 1 FROM rs_item_kw AS rs_item_kw_1, rs_kw AS kk WHERE " ..
      "rs_item.id = rs_item_kw_1.item_id AND kk.id = rs_item_kw_1.kw_id " ..
      "AND kk.name = ?)",
      "SELECT rs_address.id, rs_address.email, rs_address.user_id FROM " ..
      "rs_address WHERE EXISTS (SELECT 1 FROM rs_user AS ua WHERE ua.id = " ..
      "rs_address.user_id AND ua.name = ?) ORDER BY rs_address.id"})
  end)

  T.test(pfx .. "any()/has() with keyword criteria", function()
    local s <close> = orm.Session(engine)
    clear()
    T.eq(names(s:scalars(select(Item):where(Item.keywords:any(nil,
      {name = "red"}))):all()), {"i1"})
    T.eq(log, {"SELECT rs_item.id, rs_item.name FROM rs_item WHERE EXISTS " ..
      "(SELECT 1 FROM rs_item_kw, rs_kw WHERE rs_item.id = " ..
      "rs_item_kw.item_id AND rs_kw.id = rs_item_kw.kw_id AND " ..
      "rs_kw.name = ?)"})
    clear()
    T.eq(names(s:scalars(select(Address):where(Address.user:has(
      User.id:gt(0), {name = "jack"})):order_by(Address.id)):all()),
      {"j1@x", "j2@y"})
    T.eq(log, {"SELECT rs_address.id, rs_address.email, rs_address.user_id" ..
      " FROM rs_address WHERE EXISTS (SELECT 1 FROM rs_user WHERE " ..
      "rs_user.id = rs_address.user_id AND rs_user.id > ? AND " ..
      "rs_user.name = ?) ORDER BY rs_address.id"})
    local ok, err = pcall(function() return Item.keywords:any(nil, 5) end)
    T.eq(ok, false)
    T.eq(err.kind, "ArgumentError")
  end)

  T.test(pfx .. "an append moves the object out of its old collection",
         function()
    local s <close> = orm.Session(engine)
    local jack = s:scalars(select(User):where(User.name:eq("jack"))):one()
    local ed = s:scalars(select(User):where(User.name:eq("ed"))):one()
    local a = jack.addresses[1]
    T.eq(#ed.addresses, 1)
    clear()
    -- a.user is not loaded: the identity map tells its old owner
    ed.addresses:append(a)
    T.eq(log, {})
    T.eq(names(jack.addresses), {"j2@y"})
    T.eq(names(ed.addresses), {"e1@x", "j1@x"})
    T.ok(rawequal(a.user, ed))
    s:flush()
    T.eq(log, {"UPDATE rs_address SET user_id=? WHERE rs_address.id = ?"})
    s:rollback()
  end)

  T.test(pfx .. "a pending orphan leaves the session at once", function()
    local s <close> = orm.Session(engine)
    local wendy = s:scalars(select(User):where(User.name:eq("wendy"))):one()
    local a = Address{email = "p@q"}
    wendy.addresses:append(a)
    T.eq(s:contains(a), true)
    wendy.addresses:remove(a)
    T.eq(s:contains(a), false)
    T.eq(orm.inspect(a).transient, true)
    T.eq(a.user, nil)
    clear()
    s:flush()
    T.eq(log, {})
    -- one that moved to another parent stays
    local ed = s:scalars(select(User):where(User.name:eq("ed"))):one()
    local b = Address{email = "m@q"}
    wendy.addresses:append(b)
    ed.addresses:append(b)
    T.eq(s:contains(b), true)
    T.eq(#wendy.addresses, 0)
    s:rollback()
  end)

  T.test(pfx .. "a path through a lazy load goes on when it loads",
         function()
    local s <close> = orm.Session(engine)
    clear()
    local users = s:scalars(select(User):options(
      orm.lazyload(User.orders):selectinload(Order.items))
      :where(User.name:ne("wendy")):order_by(User.id)):all()
    local got = {}
    for i, u in ipairs(users) do
      local os = {}
      for k, o in ipairs(u.orders) do os[k] = {o.descr, names(o.items)} end
      got[i] = os
    end
    T.eq(got, {{{"o1", {"i1", "i2"}}, {"o2", {"i3"}}}, {{"o3", {"i1"}}}})
    local lazy = "SELECT rs_order.id AS rs_order_id, rs_order.descr AS " ..
      "rs_order_descr, rs_order.user_id AS rs_order_user_id FROM " ..
      "rs_order WHERE ? = rs_order.user_id ORDER BY rs_order.id"
    local items = "SELECT rs_order_1.id AS rs_order_1_id, rs_item.id AS " ..
      "rs_item_id, rs_item.name AS rs_item_name FROM rs_order AS " ..
      "rs_order_1 JOIN rs_order_item AS rs_order_item_1 ON rs_order_1.id " ..
      "= rs_order_item_1.order_id JOIN rs_item ON rs_item.id = " ..
      "rs_order_item_1.item_id WHERE rs_order_1.id IN "
    T.eq(log, {"SELECT rs_user.id, rs_user.name FROM rs_user WHERE " ..
               "rs_user.name != ? ORDER BY rs_user.id",
               lazy, items .. "(?, ?) ORDER BY rs_item.id",
               lazy, items .. "(?) ORDER BY rs_item.id"})
    s:close()
    -- defaultload: the same, the relationship keeps its own strategy
    clear()
    local ed = s:scalars(select(User):options(
      orm.defaultload(User.orders):selectinload(Order.items))
      :where(User.name:eq("ed"))):one()
    T.eq(names(ed.orders[1].items), {"i1"})
    T.eq(log, {"SELECT rs_user.id, rs_user.name FROM rs_user WHERE " ..
               "rs_user.name = ?", lazy, items .. "(?) ORDER BY rs_item.id"})
  end)

  T.test(pfx .. "a nested has() on an adjacency list", function()
    local s <close> = orm.Session(engine)
    clear()
    -- the inner criterion is moved onto the outer EXISTS's alias
    T.eq(names(s:scalars(select(Node):where(Node.parent:has(
      Node.parent:has()))):all()), {"g1"})
    T.eq(log, {"SELECT rs_node.id, rs_node.parent_id, rs_node.name FROM " ..
      "rs_node WHERE EXISTS (SELECT 1 FROM rs_node AS rs_node_1 WHERE " ..
      "rs_node_1.id = rs_node.parent_id AND (EXISTS (SELECT 1 FROM " ..
      "rs_node AS rs_node_2 WHERE rs_node_2.id = rs_node_1.parent_id)))"})
    clear()
    T.eq(names(s:scalars(select(Node):where(Node.children:any(
      Node.children:any(Node.name:eq("g1"))))):all()), {"root"})
    T.eq(log, {"SELECT rs_node.id, rs_node.parent_id, rs_node.name FROM " ..
      "rs_node WHERE EXISTS (SELECT 1 FROM rs_node AS rs_node_1 WHERE " ..
      "rs_node.id = rs_node_1.parent_id AND (EXISTS (SELECT 1 FROM " ..
      "rs_node AS rs_node_2 WHERE rs_node_1.id = rs_node_2.parent_id AND " ..
      "rs_node_2.name = ?)))"})
  end)

  T.test(pfx .. "deleting a node nulls its children, reads no parent",
         function()
    local cols = "SELECT rs_node.id AS rs_node_id, rs_node.parent_id AS " ..
      "rs_node_parent_id, rs_node.name AS rs_node_name FROM rs_node WHERE "
    local s <close> = orm.Session(engine)
    local c1 = s:scalars(select(Node):where(Node.name:eq("c1"))):one()
    local id = c1.id
    s:close()
    clear()
    s:delete(s:get(Node, id))
    s:flush()
    -- the parent is neither loaded nor in the identity map: not read
    T.eq(log, {cols .. "rs_node.id = ?",
               cols .. "? = rs_node.parent_id ORDER BY rs_node.id",
               "UPDATE rs_node SET parent_id=? WHERE rs_node.id = ?",
               "DELETE FROM rs_node WHERE rs_node.id = ?"})
    local left = {}
    for i, n in ipairs(s:scalars(select(Node):order_by(Node.id)):all()) do
      left[i] = {n.name, n.parent_id == nil and "NULL" or "set"}
    end
    T.eq(left, {{"root", "NULL"}, {"c2", "set"}, {"g1", "NULL"}})
    s:rollback()
  end)
  M.Base.metadata:drop_all(engine)
  engine:dispose()
end

T.done()
