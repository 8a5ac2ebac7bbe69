-- aliased() classes on every test database (seed 003 2.3.2's queries
-- through aliased nodes, two joins to one table, a named alias as a row
-- key, relationships and of_type() from and to aliases, contains_eager
-- through an alias) and join_depth for self-referential eager loading.
-- The expected SQL is SQLAlchemy 1.4's for the same statements.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Node = Base:class "Node" {
    __tablename__ = "al_nodes",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("al_nodes.id")),
    data = Column(String(50)),
    children = relationship("Node", {order_by = "Node.id",
      backref = orm.backref("parent", {
        remote_side = function() return M.Node.id end})}),
  }
  M.Tree = Base:class "Tree" {
    __tablename__ = "al_tree",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("al_tree.id")),
    data = Column(String(50)),
    children = relationship("Tree", {lazy = "joined", join_depth = 2,
                                     order_by = "Tree.id"}),
  }
  M.Cat = Base:class "Cat" {
    __tablename__ = "al_cat",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("al_cat.id")),
    children = relationship("Cat", {lazy = "selectin"}),
  }
  local friends = Table("al_friends", Base.metadata,
    Column("a_id", Integer, ForeignKey("al_person.id"), {primary_key = true}),
    Column("b_id", Integer, ForeignKey("al_person.id"), {primary_key = true}))
  M.Person = Base:class "Person" {
    __tablename__ = "al_person",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    friends = relationship("Person", {secondary = friends,
      primaryjoin = function() return M.Person.id:eq(friends.c.a_id) end,
      secondaryjoin = function() return M.Person.id:eq(friends.c.b_id) end}),
  }
  M.User = Base:class "User" {
    __tablename__ = "al_users",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    addresses = relationship("Address", {order_by = "Address.id"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "al_addresses",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(20)),
    user_id = Column(Integer, ForeignKey("al_users.id")),
  }
  return M
end

local function norm(sql)
  sql = sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " ")
    :gsub(" INNER JOIN ", " JOIN ")
  return sql
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local Node, Tree, User, Address = M.Node, M.Tree, M.User, M.Address
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local root_id
  do
    local s <close> = orm.Session(engine)
    local root = Node{data = "root", children = {Node{data = "child1"},
      Node{data = "child2", children = {Node{data = "subchild1"}}}}}
    s:add(root)
    s:add(User{name = "jack", addresses = {Address{email = "j1"},
                                           Address{email = "j2"}}})
    s:add(M.Cat{id = 1, children = {M.Cat{id = 2, children = {
      M.Cat{id = 3}}}}})
    s:add(Tree{data = "root", children = {Tree{data = "c1", children = {
      Tree{data = "g1", children = {Tree{data = "gg"}}}}}}})
    s:commit()
    root_id = root.id
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local pfx = db.name .. ": "

  T.test(pfx .. "self-referential queries through an aliased node",
         function()
    local s <close> = orm.Session(engine)
    local na = orm.aliased(Node)
    clear()
    local r = s:query(Node):filter(Node.data:eq("subchild1"))
      :join(na, Node.parent):filter(na.data:eq("child2")):all()
    T.eq(#r, 1)
    T.eq(r[1].data, "subchild1")
    T.eq(log[1], "SELECT al_nodes.id AS al_nodes_id, al_nodes.parent_id AS " ..
      "al_nodes_parent_id, al_nodes.data AS al_nodes_data " ..
      "FROM al_nodes JOIN al_nodes AS al_nodes_1 ON al_nodes_1.id = " ..
      "al_nodes.parent_id WHERE al_nodes.data = ? AND al_nodes_1.data = ?")
    -- the same through of_type()
    clear()
    r = s:scalars(select(Node):join(Node.parent:of_type(na))
      :where(na.data:eq("child2"))):all()
    T.eq(#r, 1)
    T.eq(log[1], "SELECT al_nodes.id, al_nodes.parent_id, al_nodes.data " ..
      "FROM al_nodes JOIN al_nodes AS al_nodes_1 ON al_nodes_1.id = " ..
      "al_nodes.parent_id WHERE al_nodes_1.data = ?")
    local pairs_ = {}
    for _, row in ipairs(s:execute(select(Node.data, na.data)
        :join(na, Node.children):order_by(Node.id, na.id)):all()) do
      pairs_[#pairs_ + 1] = row[1] .. ">" .. row[2]
    end
    T.eq(pairs_, {"root>child1", "root>child2", "child2>subchild1"})
    -- the alias selected as an entity: the identity map's objects
    local got = s:scalars(select(na):where(na.data:eq("root"))):one()
    T.eq(got.id, root_id)
    T.ok(rawequal(got, s:get(Node, root_id)))
    -- relationships of the alias
    clear()
    T.eq(#s:scalars(select(na):join(na.children)):unique():all(), 2)
    T.eq(log[1], "SELECT al_nodes_1.id, al_nodes_1.parent_id, " ..
      "al_nodes_1.data FROM al_nodes AS al_nodes_1 JOIN al_nodes ON " ..
      "al_nodes_1.id = al_nodes.parent_id")
    local w = s:scalars(select(na):where(na.children:any(
      Node.data:eq("subchild1")))):all()
    T.eq(#w, 1)
    T.eq(w[1].data, "child2")
    T.raises("ArgumentError", function() return orm.aliased({}) end)
    T.raises("ArgumentError", function()
      return Node.children:of_type(orm.aliased(User))
    end)
  end)

  T.test(pfx .. "any/has on a self-referential relationship", function()
    local s <close> = orm.Session(engine)
    local stmt = select(Node):where(Node.children:any(
      Node.data:eq("subchild1")))
    T.eq(norm(tostring(stmt)), "SELECT al_nodes.id, al_nodes.parent_id, " ..
      "al_nodes.data FROM al_nodes WHERE EXISTS (SELECT 1 FROM al_nodes AS " ..
      "al_nodes_1 WHERE al_nodes.id = al_nodes_1.parent_id AND " ..
      "al_nodes_1.data = :data_1)")
    local got = s:scalars(stmt):all()
    T.eq(#got, 1)
    T.eq(got[1].data, "child2")
    stmt = select(Node):where(Node.parent:has(Node.data:eq("root")))
      :order_by(Node.id)
    T.eq(norm(tostring(stmt)), "SELECT al_nodes.id, al_nodes.parent_id, " ..
      "al_nodes.data FROM al_nodes WHERE EXISTS (SELECT 1 FROM al_nodes AS " ..
      "al_nodes_1 WHERE al_nodes_1.id = al_nodes.parent_id AND " ..
      "al_nodes_1.data = :data_1) ORDER BY al_nodes.id")
    local names = {}
    for i, n in ipairs(s:scalars(stmt):all()) do names[i] = n.data end
    T.eq(names, {"child1", "child2"})
    -- without a criterion: the nodes that have children
    T.eq(#s:scalars(select(Node):where(Node.children:any())):all(), 2)
    -- a self-referential many-to-many
    local P = M.Person
    local a, b, x = P{name = "a"}, P{name = "b"}, P{name = "x"}
    a.friends = {x}
    b.friends = {a}
    s:add_all({a, b, x})
    s:flush()
    stmt = select(P):where(P.friends:any(P.name:eq("x")))
    T.eq(norm(tostring(stmt)), "SELECT al_person.id, al_person.name FROM " ..
      "al_person WHERE EXISTS (SELECT 1 FROM al_friends AS al_friends_1, " ..
      "al_person AS al_person_1 WHERE al_person.id = al_friends_1.a_id AND " ..
      "al_person_1.id = al_friends_1.b_id AND al_person_1.name = :name_1)")
    got = s:scalars(stmt):all()
    T.eq(#got, 1)
    T.ok(rawequal(got[1], a))
    s:rollback()
  end)

  T.test(pfx .. "two aliases of one table, a named alias", function()
    local s <close> = orm.Session(engine)
    local a1, a2 = orm.aliased(Address), orm.aliased(Address)
    clear()
    local rows = s:query(User.name, a1.email, a2.email)
      :join(a1, User.addresses):join(a2, User.addresses)
      :filter(a1.email:eq("j1")):filter(a2.email:eq("j2")):all()
    T.eq(#rows, 1)
    T.eq({rows[1][1], rows[1][2], rows[1][3]}, {"jack", "j1", "j2"})
    T.eq(log[1], "SELECT al_users.name AS al_users_name, " ..
      "al_addresses_1.email AS al_addresses_1_email, al_addresses_2.email " ..
      "AS al_addresses_2_email FROM al_users JOIN al_addresses AS " ..
      "al_addresses_1 ON al_users.id = al_addresses_1.user_id JOIN " ..
      "al_addresses AS al_addresses_2 ON al_users.id = " ..
      "al_addresses_2.user_id WHERE al_addresses_1.email = ? AND " ..
      "al_addresses_2.email = ?")
    local ua = orm.aliased(User, {name = "user_alias"})
    clear()
    local row = s:execute(select(ua, ua.name:label("uname"))):first()
    T.eq(log[1], "SELECT user_alias.id, user_alias.name, user_alias.name " ..
      "AS uname FROM al_users AS user_alias")
    T.eq(row.user_alias.name, "jack")
    T.eq(row.uname, "jack")
    -- contains_eager through an alias given by of_type()
    local aa = orm.aliased(Address)
    clear()
    local us = s:scalars(select(User):join(User.addresses:of_type(aa))
      :where(aa.email:eq("j2"))
      :options(orm.contains_eager(User.addresses:of_type(aa)))):unique()
      :all()
    T.eq(#us[1].addresses, 1)
    T.eq(us[1].addresses[1].email, "j2")
    T.eq(#log, 1)
  end)

  T.test(pfx .. "join_depth: self-referential eager joins", function()
    local s <close> = orm.Session(engine)
    clear()
    local r = s:scalars(select(Tree):where(Tree.data:eq("root"))):unique()
      :all()
    T.eq(log[1], "SELECT al_tree.id, al_tree.parent_id, al_tree.data, " ..
      "al_tree_1.id AS id_1, al_tree_1.parent_id AS parent_id_1, " ..
      "al_tree_1.data AS data_1, al_tree_2.id AS id_2, al_tree_2.parent_id " ..
      "AS parent_id_2, al_tree_2.data AS data_2 FROM al_tree LEFT OUTER " ..
      "JOIN al_tree AS al_tree_2 ON al_tree.id = al_tree_2.parent_id LEFT " ..
      "OUTER JOIN al_tree AS al_tree_1 ON al_tree_2.id = " ..
      "al_tree_1.parent_id WHERE al_tree.data = ? ORDER BY al_tree_2.id, " ..
      "al_tree_1.id")
    T.eq(#log, 1)
    T.eq(r[1].children[1].data, "c1")
    T.eq(r[1].children[1].children[1].data, "g1")
    T.eq(#log, 1)
    T.eq(r[1].children[1].children[1].children[1].data, "gg") -- lazy
    T.eq(#log, 2)
    -- without join_depth a self-referential joined default loads lazily
    s:expunge_all()
    clear()
    local n = s:scalars(select(Node):where(Node.id:eq(root_id))):one()
    T.eq(#log, 1)
    T.eq(#n.children, 2)
    T.eq(#log, 2)
    -- a self-referential selectin default without join_depth: lazy too
    clear()
    local c = s:scalars(select(M.Cat):where(M.Cat.id:eq(1))):one()
    T.eq(#log, 1)
    T.eq(c.children[1].id, 2)
    T.eq(#log, 2)
  end)
  engine:dispose()
end

T.done()
