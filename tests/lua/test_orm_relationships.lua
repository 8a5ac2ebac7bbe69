-- Relationships on every test database: collections and both sides kept
-- in step in memory, the flush (statement order, foreign keys synced from
-- generated keys, cascades), lazy/selectin/joined/raise/noload loading
-- and the number of SELECTs each emits, many-to-many, adjacency lists,
-- one-to-one, and the relationship operators in queries.  The expected
-- statements and counts were checked against SQLAlchemy 1.4.
local T = require "testing"
local relationship, backref = orm.relationship, orm.backref

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "rel_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30), {nullable = false}),
    addresses = relationship("Address", {back_populates = "user",
                                         cascade = "all, delete-orphan",
                                         order_by = "Address.id"}),
    profile = relationship("Profile", {uselist = false, backref = "user"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "rel_address",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(50), {nullable = false}),
    user_id = Column(Integer, ForeignKey("rel_user.id")),
    user = relationship("User", {back_populates = "addresses"}),
  }
  M.Profile = Base:class "Profile" {
    __tablename__ = "rel_profile",
    id = Column(Integer, {primary_key = true}),
    bio = Column(String(50)),
    user_id = Column(Integer, ForeignKey("rel_user.id")),
  }
  -- no delete cascade: children keep their rows, the reference goes NULL
  M.Order = Base:class "Order" {
    __tablename__ = "rel_order",
    id = Column(Integer, {primary_key = true}),
    note = Column(String(20)),
    items = relationship("Item", {back_populates = "order"}),
  }
  M.Item = Base:class "Item" {
    __tablename__ = "rel_item",
    id = Column(Integer, {primary_key = true}),
    note = Column(String(20)),
    order_id = Column(Integer, ForeignKey("rel_order.id")),
    order = relationship("Order", {back_populates = "items"}),
  }
  local post_keywords = Table("rel_post_keywords", Base.metadata,
    Column("post_id", Integer, ForeignKey("rel_post.id"),
           {primary_key = true}),
    Column("keyword_id", Integer, ForeignKey("rel_keyword.id"),
           {primary_key = true}))
  M.Post = Base:class "Post" {
    __tablename__ = "rel_post",
    id = Column(Integer, {primary_key = true}),
    title = Column(String(50)),
    keywords = relationship("Keyword", {secondary = post_keywords,
                                        back_populates = "posts"}),
    tags = relationship("Keyword", {secondary = post_keywords,
                                    collection_class = "set",
                                    viewonly = true}),
  }
  M.Keyword = Base:class "Keyword" {
    __tablename__ = "rel_keyword",
    id = Column(Integer, {primary_key = true}),
    word = Column(String(50)),
    posts = relationship("Post", {secondary = "rel_post_keywords",
                                  back_populates = "keywords"}),
  }
  M.Node = Base:class "Node" {
    __tablename__ = "rel_node",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("rel_node.id")),
    data = Column(String(50)),
    children = relationship("Node", {cascade = "all, delete-orphan",
      backref = backref("parent", {
        remote_side = function() return M.Node.id end})}),
  }
  return M
end

local function state(obj)
  local st = orm.inspect(obj)
  for _, k in ipairs({"transient", "pending", "persistent", "deleted",
                      "detached"}) do
    if st[k] then return k end
  end
end

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = {sql = sql, params = params, many = many}
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end
-- "VERB table" of each statement
local function stmts(log)
  local out = {}
  for i, l in ipairs(log) do
    local verb = l.sql:match("^(%u+)")
    local tbl = l.sql:match("^INSERT INTO (%S+)") or
                l.sql:match("^UPDATE (%S+)") or
                l.sql:match("^DELETE FROM (%S+)") or
                l.sql:match("FROM (%S+)")
    out[i] = verb .. " " .. (tbl or "?"):gsub("[`\"]", "")
  end
  return out
end
-- The statements `want` lists one per row, as SQLite and MariaDB run
-- them; on PostgreSQL consecutive INSERTs of one table whose keys the
-- database generates are one executemany with RETURNING (SQLAlchemy 1.4
-- with psycopg2).
local function batched(dbname, want)
  if dbname ~= "postgresql" then return want end
  local out = {}
  for _, w in ipairs(want) do
    if not (w:match("^INSERT") and out[#out] == w) then out[#out + 1] = w end
  end
  return out
end
local function count_selects(log)
  local n = 0
  for _, l in ipairs(log) do if l.sql:match("^SELECT") then n = n + 1 end end
  return n
end
local function emails(list)
  local out = {}
  for i, a in ipairs(list) do out[i] = a.email end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Order, Item = M.User, M.Address, M.Order, M.Item
  local Post, Keyword, Node, Profile = M.Post, M.Keyword, M.Node, M.Profile
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "
  local function wipe()
    engine:begin(function(conn)
      for _, t in ipairs({"rel_post_keywords", "rel_post", "rel_keyword",
                          "rel_address", "rel_profile", "rel_user",
                          "rel_item", "rel_order"}) do
        conn:execute(delete(M.Base.metadata.tables[t]))
      end
      conn:execute(update(Node.__table__):values{parent_id = null})
      conn:execute(delete(Node.__table__))
    end)
  end

  T.test(pfx .. "append keeps both sides; the flush inserts parents first", function()
    wipe()
    local s <close> = orm.Session(engine)
    local u = User{name = "sandy"}
    local a1, a2 = Address{email = "s1@x"}, Address{email = "s2@x"}
    u.addresses:append(a1)
    u.addresses:extend({a2})
    T.eq(#u.addresses, 2)
    T.ok(a1.user == u and a2.user == u)
    T.eq(state(a1), "transient")
    s:add(u)
    T.eq(state(a1), "pending") -- save-update cascade
    clear(log)
    s:flush()
    T.eq(stmts(log), batched(db.name, {"INSERT rel_user", "INSERT rel_address",
                                       "INSERT rel_address"}))
    T.eq(a1.user_id, u.id)
    T.eq(a2.user_id, u.id)
    T.eq(state(a2), "persistent")
    s:commit()
    -- expired on commit: the collection loads again, same objects (the
    -- expired owner refreshed first, as SQLAlchemy reads its key)
    clear(log)
    T.eq(emails(u.addresses), {"s1@x", "s2@x"})
    T.ok(u.addresses[1] == a1)
    T.eq(count_selects(log), 2)
  end)

  T.test(pfx .. "collection methods and list assignment", function()
    wipe()
    local s <close> = orm.Session(engine)
    local u = User{name = "c", addresses = {Address{email = "a"},
                                             Address{email = "b"}}}
    T.eq(emails(u.addresses), {"a", "b"})
    local c = Address{email = "c"}
    u.addresses:insert(1, c)
    T.eq(emails(u.addresses), {"c", "a", "b"})
    local popped = u.addresses:pop()
    T.eq(popped.email, "b")
    T.eq(popped.user, nil)
    u.addresses:remove(c)
    T.eq(c.user, nil)
    T.eq(emails(u.addresses), {"a"})
    local n = 0
    for _, a in ipairs(u.addresses) do n = n + 1; T.ok(a.user == u) end
    T.eq(n, 1)
    local old = u.addresses[1]
    u.addresses = {Address{email = "z"}}
    T.eq(old.user, nil)
    T.eq(emails(u.addresses), {"z"})
    -- one user's collection assigned to another: the objects move
    local v = User{name = "v", addresses = {Address{email = "p"},
                                             Address{email = "q"}}}
    u.addresses = v.addresses
    T.eq(emails(u.addresses), {"p", "q"})
    T.eq(#v.addresses, 0)
    T.ok(u.addresses[2].user == u)
    u.addresses:clear()
    T.eq(#u.addresses, 0)
    -- attribute events
    local seen = {}
    local function on(name)
      return function(target, value)
        seen[#seen + 1] = name .. " " .. (value and (value.email or
                                                     value.name) or "nil")
      end
    end
    orm.event.listen(User.addresses, "append", on("append"))
    orm.event.listen(User.addresses, "remove", on("remove"))
    orm.event.listen(Address.user, "set", on("set"))
    local e = Address{email = "ev"}
    u.addresses:append(e)
    u.addresses:remove(e)
    e.user = u
    -- the other side's event comes first (SQLAlchemy's order)
    T.eq(seen, {"set c", "append ev", "set nil", "remove ev", "append ev",
                "set c"})
    T.raises("ArgumentError", function() u.addresses:append(Item{note = "i"}) end)
  end)

  T.test(pfx .. "many-to-one: setting moves the object between collections", function()
    wipe()
    local s <close> = orm.Session(engine)
    local u1, u2 = User{name = "u1"}, User{name = "u2"}
    local a = Address{email = "m"}
    a.user = u1
    T.eq(#u1.addresses, 1)
    a.user = u2
    T.eq(#u1.addresses, 0)
    T.ok(u2.addresses[1] == a)
    s:add_all({u1, u2})
    s:commit()
    -- the identity map first: an expired target is refreshed (one
    -- SELECT by key), a loaded one costs nothing
    local a2 = s:scalars(select(Address)):one()
    clear(log)
    T.ok(a2.user == u2)
    T.eq(count_selects(log), 1)
    T.match(log[1].sql, "FROM rel_user")
    clear(log)
    T.ok(a2.user == u2)
    T.eq(#log, 0)
    -- de-associated from its user, the address is an orphan: deleted
    a2.user = nil
    T.eq(#u2.addresses, 0)
    s:flush()
    T.eq(state(a2), "deleted")
    -- without delete-orphan the reference becomes NULL, then moves
    local o1, o2 = Order{note = "1"}, Order{note = "2"}
    local i = Item{note = "i", order = o1}
    s:add_all({o1, o2, i})
    s:commit()
    i.order = nil
    s:flush()
    T.eq(i.order_id, nil)
    i.order = o2
    s:flush()
    T.eq(i.order_id, o2.id)
    T.eq(#o1.items, 0)
    T.ok(o2.items[1] == i)
  end)

  T.test(pfx .. "no cascade through backrefs into the session", function()
    wipe()
    local s <close> = orm.Session(engine)
    local o1 = Order{note = "o"}
    s:add(o1)
    local i1 = Item{note = "i"}
    i1.order = o1
    T.ok(o1.items[1] == i1)
    T.ok(not s:contains(i1))
    local i2 = Item{note = "i"}
    o1.items:append(i2)
    T.ok(i2.order == o1)
    T.ok(s:contains(i2))
    s:add(i1)
    s:commit()
    T.eq(i1.order_id, o1.id)
    T.eq(i2.order_id, o1.id)
  end)

  T.test(pfx .. "delete cascade; delete-orphan; SET NULL without cascade", function()
    wipe()
    local s <close> = orm.Session(engine)
    local u = User{name = "d", addresses = {Address{email = "1"},
                                             Address{email = "2"},
                                             Address{email = "3"}}}
    local o = Order{items = {Item{note = "i"}, Item{note = "i"}}}
    s:add_all({u, o})
    s:commit()
    -- delete-orphan: removing from the collection deletes the row
    u.addresses:remove(u.addresses[1])
    clear(log)
    s:flush()
    T.eq(stmts(log), {"DELETE rel_address"})
    -- delete cascade: children first
    s:delete(u)
    clear(log)
    s:flush()
    local st = stmts(log)
    T.eq(st[#st], "DELETE rel_user")
    T.eq(st[#st - 1], "DELETE rel_address")
    T.eq(s:scalar(select(func.count()):select_from(Address.__table__)), 0)
    -- without delete cascade the children stay, unreferenced
    local items = o.items
    s:delete(o)
    clear(log)
    s:flush()
    st = stmts(log)
    T.eq(st[#st], "DELETE rel_order")
    T.eq(st[1], "UPDATE rel_item")
    T.eq(items[1].order_id, nil)
    T.eq(s:scalar(select(func.count()):select_from(Item.__table__)), 2)
    s:commit()
  end)

  T.test(pfx .. "lazy, selectin, joined: objects and SELECT counts", function()
    wipe()
    local n = 1100
    engine:begin(function(conn)
      local us, as = {}, {}
      for i = 1, n do
        us[i] = {id = i, name = "u" .. i}
        as[#as + 1] = {id = 2 * i - 1, email = i .. "a", user_id = i}
        as[#as + 1] = {id = 2 * i, email = i .. "b", user_id = i}
      end
      conn:execute(insert(User.__table__), us)
      conn:execute(insert(Address.__table__), as)
    end)
    local function check(users)
      T.eq(#users, n)
      for _, u in ipairs(users) do
        T.eq(#u.addresses, 2)
        T.ok(u.addresses[1].user == u)
      end
    end
    do -- lazy: 1 + N
      local s <close> = orm.Session(engine)
      clear(log)
      local users = s:scalars(select(User):order_by(User.id)):all()
      check(users)
      T.eq(count_selects(log), 1 + n)
    end
    do -- selectin: 1 + ceil(N/500)
      local s <close> = orm.Session(engine)
      clear(log)
      local users = s:scalars(select(User):order_by(User.id)
                                :options(orm.selectinload(User.addresses)))
                      :all()
      check(users)
      T.eq(count_selects(log), 1 + math.ceil(n / 500))
      -- identity-map objects
      T.ok(s:get(Address, 1) == users[1].addresses[1])
    end
    do -- joined: 1, unique() required
      local s <close> = orm.Session(engine)
      clear(log)
      local r = s:execute(select(User):order_by(User.id)
                            :options(orm.joinedload(User.addresses)))
      local users = r:unique():scalars():all()
      check(users)
      T.eq(count_selects(log), 1)
      T.match(log[1].sql, "LEFT OUTER JOIN")
      T.raises("InvalidRequestError", function()
        s:execute(select(User):options(orm.joinedload(User.addresses)))
          :scalars():all()
      end)
    end
    do -- chained: users, addresses, then each address's user (identity map)
      local s <close> = orm.Session(engine)
      clear(log)
      local users = s:scalars(select(User):where(User.id:le(10)):options(
        orm.selectinload(User.addresses):selectinload(Address.user))):all()
      T.eq(#users, 10)
      T.eq(count_selects(log), 2)
      T.ok(users[3].addresses[2].user == users[3])
      T.eq(count_selects(log), 2)
    end
    do -- raise and noload
      local s <close> = orm.Session(engine)
      local u = s:scalars(select(User):where(User.id:eq(1))
                            :options(orm.raiseload(User.addresses))):one()
      T.raises("InvalidRequestError", function() return #u.addresses end)
      local s2 <close> = orm.Session(engine)
      local u2 = s2:scalars(select(User):where(User.id:eq(1))
                              :options(orm.noload(User.addresses))):one()
      T.eq(#u2.addresses, 0)
    end
  end)

  T.test(pfx .. "relationship operators and joins", function()
    wipe()
    local s <close> = orm.Session(engine)
    local u1 = User{name = "ann", addresses = {Address{email = "ann@x"}}}
    local u2 = User{name = "bob", addresses = {Address{email = "bob@x"},
                                                Address{email = "bob@y"}}}
    local u3 = User{name = "cy"}
    s:add_all({u1, u2, u3})
    s:commit()
    local function names(stmt)
      local out = {}
      for _, u in ipairs(s:scalars(stmt:order_by(User.name)):all()) do
        out[#out + 1] = u.name
      end
      return out
    end
    T.eq(names(select(User):where(User.addresses:any())), {"ann", "bob"})
    T.eq(names(select(User):where(User.addresses:any(
      Address.email:like("%y")))), {"bob"})
    T.eq(names(select(User):where(not_(User.addresses:any()))), {"cy"})
    local a = s:scalars(select(Address):where(Address.email:eq("ann@x"))):one()
    T.eq(names(select(User):where(User.addresses:contains(a))), {"ann"})
    local got = s:scalars(select(Address):where(Address.user:has(
      User.name:eq("bob"))):order_by(Address.email)):all()
    T.eq(emails(got), {"bob@x", "bob@y"})
    got = s:scalars(select(Address):where(orm.with_parent(u2, User.addresses))
                      :order_by(Address.email)):all()
    T.eq(emails(got), {"bob@x", "bob@y"})
    T.eq(names(select(User):join(User.addresses)
                 :where(Address.email:eq("bob@y"))), {"bob"})
    local rows = s:execute(select(User.name, func.count(Address.id):label("n"))
      :join(User.addresses):group_by(User.name):order_by(User.name)):all()
    T.eq(#rows, 2)
    T.eq(rows[2].n, 2)
    got = s:scalars(select(Address):join(User, Address.user)
                      :where(User.name:eq("ann"))):all()
    T.eq(emails(got), {"ann@x"})
  end)

  T.test(pfx .. "many-to-many: association rows follow the collections", function()
    wipe()
    local s <close> = orm.Session(engine)
    local k1, k2 = Keyword{word = "lua"}, Keyword{word = "sql"}
    local p = Post{title = "p1", keywords = {k1, k2}}
    T.ok(k1.posts[1] == p)
    s:add(p)
    clear(log)
    s:commit()
    local st = stmts(log)
    table.sort(st, function(a, b) return a < b end)
    local want = batched(db.name, {"INSERT rel_keyword", "INSERT rel_keyword",
                                   "INSERT rel_post", "INSERT rel_post_keywords"})
    T.eq(st, want)
    T.eq(stmts(log)[#want], "INSERT rel_post_keywords")
    T.ok(log[#want].many)
    T.eq(#p.keywords, 2)
    p.keywords:remove(k1)
    clear(log)
    s:flush()
    T.eq(stmts(log), {"DELETE rel_post_keywords"})
    T.eq(#k1.posts, 0)
    local p2 = Post{title = "p2"}
    k2.posts:append(p2)   -- from the other side: one row, not two
    T.ok(s:contains(p2))
    s:commit()
    T.eq(s:scalar(select(func.count()):select_from(
      M.Base.metadata.tables.rel_post_keywords)), 2)
    -- a set view of the same rows
    local tags = p.tags
    T.eq(#tags, 1)
    T.ok(tags:contains(k2))
    tags:add(k2)
    T.eq(#tags, 1)
    tags:add(k1)
    local n = 0
    for x, yes in pairs(tags) do
      T.ok(yes == true and x.word ~= nil)
      n = n + 1
    end
    T.eq(n, 2)
    tags:discard(k2)
    T.eq(#tags, 1)
    tags:discard(k2)
    T.raises("ArgumentError", function() tags:remove(k2) end)
    local posts = s:scalars(select(Post):order_by(Post.title)
                              :options(orm.selectinload(Post.keywords))):all()
    T.eq(#posts[2].keywords, 1)
    T.ok(posts[2].keywords[1] == k2)
    T.eq(#s:scalars(select(Post):where(Post.keywords:any(
      Keyword.word:eq("sql")))):all(), 2)
    s:delete(p)
    s:commit()
    T.eq(s:scalar(select(func.count()):select_from(
      M.Base.metadata.tables.rel_post_keywords)), 1)
  end)

  T.test(pfx .. "adjacency list: parents inserted before children", function()
    wipe()
    local s <close> = orm.Session(engine)
    local root = Node{data = "root"}
    local c1, c2 = Node{data = "c1"}, Node{data = "c2"}
    root.children:extend({c1, c2})
    local g = Node{data = "g"}
    g.parent = c1
    T.ok(c1.children[1] == g)
    s:add(root)
    s:commit()
    T.eq(c1.parent_id, root.id)
    T.eq(g.parent_id, c1.id)
    T.eq(root.parent, nil)
    s:expunge_all()
    local g2 = s:get(Node, g.id)
    T.eq(g2.parent.parent.data, "root")
    T.eq(#g2.parent.parent.children, 2)
    -- deleting the root deletes the tree, the leaves first
    s:delete(g2.parent.parent)
    clear(log)
    s:commit()
    T.eq(#log, 3)
    T.eq(log[1].params[1] or log[1].params.pk_id, g.id)
    T.eq(s:scalar(select(func.count()):select_from(Node.__table__)), 0)
  end)

  T.test(pfx .. "one-to-one (uselist = false) and its backref", function()
    wipe()
    local s <close> = orm.Session(engine)
    local u = User{name = "o"}
    local p = Profile{bio = "hi"}
    u.profile = p
    T.ok(p.user == u)
    s:add(u)
    s:commit()
    T.eq(p.user_id, u.id)
    local p2 = Profile{bio = "new"}
    u.profile = p2
    s:commit()
    T.eq(s:get(Profile, p.id).user_id, nil)
    T.eq(u.profile.bio, "new")
  end)

  T.test(pfx .. "expunge and expiry follow relationships", function()
    wipe()
    local s <close> = orm.Session(engine)
    local u = User{name = "e", addresses = {Address{email = "e@x"}}}
    s:add(u)
    s:commit()
    local a = u.addresses[1]
    s:expunge(u)
    T.eq(state(u), "detached")
    T.eq(state(a), "detached") -- expunge cascade (all)
    T.raises("DetachedInstanceError", function() return u.profile end)
  end)
end


-- the association object pattern, default eager strategies, viewonly,
-- passive_deletes
local function schema2()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Assoc = Base:class "Assoc" {
    __tablename__ = "rel2_assoc",
    left_id = Column(ForeignKey("rel2_left.id"), {primary_key = true}),
    right_id = Column(ForeignKey("rel2_right.id"), {primary_key = true}),
    extra = Column(String(50)),
    child = relationship("Right", {back_populates = "parents"}),
    parent = relationship("Left", {back_populates = "children"}),
  }
  M.Left = Base:class "Left" {
    __tablename__ = "rel2_left",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    children = relationship("Assoc", {back_populates = "parent",
                                      lazy = "selectin",
                                      cascade = "all, delete-orphan"}),
    seen = relationship("Assoc", {viewonly = true}),
    -- a join condition given as a function, called once classes exist
    threes = relationship("Assoc", {viewonly = true, primaryjoin = function()
      return and_(M.Left.id:eq(M.Assoc.left_id), M.Assoc.extra:eq("three"))
    end}),
  }
  M.Right = Base:class "Right" {
    __tablename__ = "rel2_right",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    parents = relationship("Assoc", {back_populates = "child",
                                     passive_deletes = true}),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema2()
  local Assoc, Left, Right = M.Assoc, M.Left, M.Right
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  T.test(pfx .. "association object: keys from both sides, eager default", function()
    local s <close> = orm.Session(engine)
    local l = Left{name = "l"}
    local r1, r2 = Right{name = "r1"}, Right{name = "r2"}
    l.children:append(Assoc{extra = "one", child = r1})
    l.children:append(Assoc{extra = "two", child = r2})
    T.ok(r1.parents[1].parent == l)
    s:add(l)
    clear(log)
    s:commit()
    T.eq(stmts(log), batched(db.name, {"INSERT rel2_left", "INSERT rel2_right",
                                       "INSERT rel2_right", "INSERT rel2_assoc"}))
    s:close()
    local s2 <close> = orm.Session(engine)
    clear(log)
    local got = s2:scalars(select(Left)):one()
    T.eq(count_selects(log), 2) -- lazy = "selectin"
    local extras = {}
    for i, a in ipairs(got.children) do extras[i] = a.extra end
    table.sort(extras)
    T.eq(extras, {"one", "two"})
    T.eq(count_selects(log), 2)
    -- viewonly: changes are not written
    got.seen:append(Assoc{extra = "ignored"})
    s2:flush()
    T.eq(s2:scalar(select(func.count()):select_from(Assoc.__table__)), 2)
    -- delete-orphan through the association
    got.children:remove(got.children[1])
    s2:commit()
    T.eq(s2:scalar(select(func.count()):select_from(Assoc.__table__)), 1)
  end)

  T.test(pfx .. "merge cascades along loaded relationships", function()
    local s <close> = orm.Session(engine)
    local l = s:scalars(select(Left)):one()
    local lid = l.id
    s:close()
    local copy = Left{id = lid, name = "merged"}
    local r = Right{name = "r3"}
    copy.children = {Assoc{extra = "three", child = r}}
    local s2 <close> = orm.Session(engine)
    local m = s2:merge(copy)
    T.ok(m ~= copy)
    T.eq(m.name, "merged")
    T.eq(#m.children, 1)
    T.ok(m.children[1] ~= copy.children[1])
    T.eq(state(m.children[1]), "pending")
    T.eq(state(copy), "transient")
    s2:commit()
    T.eq(s2:scalar(select(func.count()):select_from(Assoc.__table__)), 1)
    T.eq(s2:scalars(select(Assoc)):one().extra, "three")
  end)

  T.test(pfx .. "primaryjoin with extra criteria", function()
    local s <close> = orm.Session(engine)
    local l = s:scalars(select(Left)):one()
    clear(log)
    T.eq(#l.threes, 1)
    T.eq(l.threes[1].extra, "three")
    T.eq(count_selects(log), 1)
    s:close()
    local s2 <close> = orm.Session(engine)
    local ls = s2:scalars(select(Left):options(orm.selectinload(Left.threes)))
                 :all()
    T.eq(#ls[1].threes, 1)
    T.eq(#s2:scalars(select(Left):where(Left.threes:any())):all(), 1)
    T.eq(#s2:scalars(select(Left):where(Left.threes:any(
      Assoc.extra:eq("nope")))):all(), 0)
    T.eq(#s2:scalars(select(Left):join(Left.threes)):all(), 1)
  end)

  T.test(pfx .. "refresh-expire cascade and expire of one relationship", function()
    local s <close> = orm.Session(engine)
    local l = s:scalars(select(Left)):one()
    local a = l.children[1]
    T.eq(a.extra, "three")
    s:expire(l, {"children"})
    clear(log)
    T.eq(#l.children, 1)
    T.eq(count_selects(log), 1)
    s:expire(l)
    T.eq(state(a), "persistent")
    clear(log)
    T.eq(a.extra, "three") -- expired with l (cascade all): reloads
    T.eq(count_selects(log), 1)
  end)
end

-- self-referential many-to-many from primaryjoin/secondaryjoin; a
-- many-to-one on a column without a ForeignKey (foreign_keys)
for _, db in ipairs(T.databases()) do
  local Base = orm.declarative_base()
  local friendship = Table("rel3_friendship", Base.metadata,
    Column("a_id", Integer, ForeignKey("rel3_person.id"),
           {primary_key = true}),
    Column("b_id", Integer, ForeignKey("rel3_person.id"),
           {primary_key = true}))
  local Person, Note
  Person = Base:class "Person" {
    __tablename__ = "rel3_person",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    best_id = Column(Integer, ForeignKey("rel3_person.id")),
    -- two rows may name each other: the reference is a second UPDATE
    best = relationship("Person", {post_update = true,
      remote_side = function() return Person.id end}),
    friends = relationship("Person", {secondary = friendship,
      primaryjoin = function() return Person.id:eq(friendship.c.a_id) end,
      secondaryjoin = function() return Person.id:eq(friendship.c.b_id) end}),
  }
  Note = Base:class "Note" {
    __tablename__ = "rel3_note",
    id = Column(Integer, {primary_key = true}),
    author_name = Column(String(20)),
    author = relationship("Person", {
      primaryjoin = function() return Person.name:eq(Note.author_name) end,
      foreign_keys = function() return {Note.author_name} end}),
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local log = capture(engine)
  T.test(db.name .. ": self-referential many-to-many; primaryjoin on any column", function()
    local s <close> = orm.Session(engine)
    local a, b, c = Person{name = "a"}, Person{name = "b"}, Person{name = "c"}
    a.friends:extend({b, c})
    local n = Note{author = b}
    s:add_all({a, n})
    clear(log)
    s:commit()
    -- the relationship orders the rows though no foreign key links them
    -- (the association rows right after both sides' rows, as SQLAlchemy)
    T.eq(stmts(log), batched(db.name, {
      "INSERT rel3_person", "INSERT rel3_person", "INSERT rel3_person",
      "INSERT rel3_friendship", "INSERT rel3_note"}))
    s:close()
    local s2 <close> = orm.Session(engine)
    local a2 = s2:scalars(select(Person):where(Person.name:eq("a"))):one()
    local names = {}
    for i, f in ipairs(a2.friends) do names[i] = f.name end
    table.sort(names)
    T.eq(names, {"b", "c"})
    local n2 = s2:scalars(select(Note)):one()
    T.eq(n2.author.name, "b")
    T.eq(#s2:scalars(select(Person):where(Person.friends:any(
      Person.name:eq("zz")))):all(), 0)
  end)

  T.test(db.name .. ": post_update breaks a cycle of two rows", function()
    local s <close> = orm.Session(engine)
    local x, y = Person{name = "x"}, Person{name = "y"}
    x.best, y.best = y, x
    s:add_all({x, y})
    clear(log)
    s:flush()
    T.eq(stmts(log), batched(db.name, {
      "INSERT rel3_person", "INSERT rel3_person", "UPDATE rel3_person",
      "UPDATE rel3_person"}))
    T.eq(x.best_id, y.id)
    T.eq(y.best_id, x.id)
    s:commit()
    -- deleting both: the references go first
    s:delete(x)
    s:delete(y)
    clear(log)
    s:commit()
    local st = {}
    for _, x in ipairs(stmts(log)) do
      if not x:match("^SELECT") then st[#st + 1] = x end -- loads
    end
    T.eq(st, {"UPDATE rel3_person", "UPDATE rel3_person",
              "DELETE rel3_person"})
    T.eq(s:scalar(select(func.count()):select_from(Person.__table__)
                    :where(Person.name:in_{"x", "y"})), 0)
  end)
end

T.test("configure errors", function()
  local Base = orm.declarative_base()
  Base:class "A" {
    __tablename__ = "a_err",
    id = Column(Integer, {primary_key = true}),
    bs = relationship("Nope"),
  }
  T.raises("InvalidRequestError", function() orm.configure_mappers() end)
end)

T.done()
