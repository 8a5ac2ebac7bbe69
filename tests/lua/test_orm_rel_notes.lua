-- Relationship behaviours of seeds 001 and 002 on every test database:
-- mutable primary keys with passive_updates = false, passive_deletes
-- with ON DELETE CASCADE / SET NULL (loaded and unloaded children), the
-- notes on deleting objects still referenced from collections, and the
-- save-update cascade that does not follow a backref.  Statements and
-- rows were checked against SQLAlchemy 1.4.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "rn_user",
    username = Column(String(50), {primary_key = true}),
    fullname = Column(String(100)),
    addresses = relationship("Address", {passive_updates = false,
                                         order_by = "Address.email"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "rn_address",
    email = Column(String(50), {primary_key = true}),
    username = Column(String(50), ForeignKey("rn_user.username",
                                             {onupdate = "CASCADE"})),
  }
  M.P = Base:class "P" {
    __tablename__ = "rn_p",
    id = Column(Integer, {primary_key = true}),
    children = relationship("Ch", {cascade = "all, delete-orphan",
                                   passive_deletes = true,
                                   order_by = "Ch.id"}),
    others = relationship("O", {passive_deletes = true}),
  }
  M.Ch = Base:class "Ch" {
    __tablename__ = "rn_ch",
    id = Column(Integer, {primary_key = true}),
    p_id = Column(Integer, ForeignKey("rn_p.id", {ondelete = "CASCADE"})),
  }
  M.O = Base:class "O" {
    __tablename__ = "rn_o",
    id = Column(Integer, {primary_key = true}),
    p_id = Column(Integer, ForeignKey("rn_p.id", {ondelete = "SET NULL"})),
  }
  -- one-to-one without a backref
  M.Member = Base:class "Member" {
    __tablename__ = "rn_member",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    profile = relationship("Profile", {uselist = false}),
  }
  M.Profile = Base:class "Profile" {
    __tablename__ = "rn_profile",
    id = Column(Integer, {primary_key = true}),
    m_id = Column(Integer, ForeignKey("rn_member.id")),
    bio = Column(String(20)),
  }
  M.Order = Base:class "Order" {
    __tablename__ = "rn_order",
    id = Column(Integer, {primary_key = true}),
    items = relationship("Item", {back_populates = "order",
                                  cascade = "all, delete-orphan"}),
  }
  M.Item = Base:class "Item" {
    __tablename__ = "rn_item",
    id = Column(Integer, {primary_key = true}),
    order_id = Column(Integer, ForeignKey("rn_order.id")),
    order = relationship("Order", {back_populates = "items"}),
  }
  return M
end

local function norm(sql)
  sql = sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " ")
  return sql
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, P, Ch, O = M.User, M.Address, M.P, M.Ch, M.O
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  if db.name == "sqlite" then
    -- ON DELETE needs SQLite's foreign keys on (one connection: an
    -- in-memory database; outside a transaction, or it does nothing)
    local conn <close> = engine:connect():execution_options{
      isolation_level = "AUTOCOMMIT"}
    conn:exec_driver_sql("PRAGMA foreign_keys = ON")
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local function rows(sql)
    local out = {}
    local conn <close> = engine:connect()
    for _, r in ipairs(conn:execute(text(sql)):all()) do
      local t = {}
      for i = 1, #r do t[i] = r[i] == nil and "NULL" or r[i] end
      out[#out + 1] = t
    end
    return out
  end
  local pfx = db.name .. ": "

  T.test(pfx .. "passive_updates = false carries a new key", function()
    local s <close> = orm.Session(engine)
    local u = User{username = "jack", fullname = "J",
                   addresses = {Address{email = "a"}, Address{email = "b"}}}
    s:add(u)
    s:commit()
    clear()
    u.username = "ed" -- over an expired key: loaded first, as SQLAlchemy
    s:commit()
    T.eq(log, {
      "SELECT rn_user.username AS rn_user_username, rn_user.fullname AS " ..
      "rn_user_fullname FROM rn_user WHERE rn_user.username = ?",
      "SELECT rn_address.email, rn_address.username FROM rn_address " ..
      "WHERE rn_address.username = ? ORDER BY rn_address.email",
      "UPDATE rn_user SET username=? WHERE rn_user.username = ?",
      "UPDATE rn_address SET username=? WHERE rn_address.email = ?"})
    T.eq(rows("SELECT email, username FROM rn_address ORDER BY email"),
         {{"a", "ed"}, {"b", "ed"}})
    -- the collection loaded: its members take the key in memory too
    local list = u.addresses
    T.eq(#list, 2)
    u.username = "fred"
    s:flush()
    T.eq(list[1].username, "fred")
    T.eq(list[2].username, "fred")
    T.ok(rawequal(s:get(User, "fred"), u), "the identity follows the key")
    s:commit()
    T.eq(rows("SELECT email, username FROM rn_address ORDER BY email"),
         {{"a", "fred"}, {"b", "fred"}})
  end)

  T.test(pfx .. "passive_deletes: the database deletes and nulls",
         function()
    local s <close> = orm.Session(engine)
    s:add_all({P{id = 1, children = {Ch{id = 1}, Ch{id = 2}},
                 others = {O{id = 1}}},
               P{id = 2, children = {Ch{id = 3}}, others = {O{id = 2}}}})
    s:commit()
    s:expunge_all()
    -- nothing loaded: one DELETE, ON DELETE does the rest
    local p = s:get(P, 1)
    clear()
    s:delete(p)
    s:commit()
    T.eq(log, {"DELETE FROM rn_p WHERE rn_p.id = ?"})
    T.eq(rows("SELECT id, p_id FROM rn_ch ORDER BY id"), {{3, 2}})
    T.eq(rows("SELECT id, p_id FROM rn_o ORDER BY id"),
         {{1, "NULL"}, {2, 2}})
    -- loaded collections are handled by the flush as usual
    p = s:get(P, 2)
    T.eq(#p.children, 1)
    T.eq(#p.others, 1)
    clear()
    s:delete(p)
    s:commit()
    T.eq(log, {"UPDATE rn_o SET p_id=? WHERE rn_o.id = ?",
               "DELETE FROM rn_ch WHERE rn_ch.id = ?",
               "DELETE FROM rn_p WHERE rn_p.id = ?"})
    T.eq(rows("SELECT id FROM rn_ch"), {})
    T.eq(rows("SELECT id, p_id FROM rn_o ORDER BY id"),
         {{1, "NULL"}, {2, "NULL"}})
  end)

  T.test(pfx .. "a deleted object stays in its collection until expiry",
         function()
    local s <close> = orm.Session(engine)
    local u = User{username = "sue",
                   addresses = {Address{email = "s1"}, Address{email = "s2"}}}
    s:add(u)
    s:commit()
    local address = u.addresses[2]
    s:delete(address)
    s:flush()
    T.eq(u.addresses:contains(address), true)
    T.eq(orm.inspect(address).deleted, true)
    s:commit()
    T.eq(u.addresses:contains(address), false)
    T.eq(#u.addresses, 1)
  end)

  T.test(pfx .. "one-to-one without a backref: the key, a replacement",
         function()
    local s <close> = orm.Session(engine)
    local m = M.Member{name = "x"}
    m.profile = M.Profile{bio = "b1"}
    s:add(m)
    s:commit()
    T.eq(rows("SELECT id, m_id, bio FROM rn_profile ORDER BY id"),
         {{1, 1, "b1"}})
    m.profile = M.Profile{bio = "b2"}
    clear()
    s:commit()
    T.eq(log[#log - 1], "UPDATE rn_profile SET m_id=? WHERE rn_profile.id = ?")
    T.match(log[#log], "^INSERT INTO rn_profile")
    T.eq(rows("SELECT id, m_id, bio FROM rn_profile ORDER BY id"),
         {{1, "NULL", "b1"}, {2, 1, "b2"}})
  end)

  T.test(pfx .. "save-update follows the collection, not the backref",
         function()
    local s <close> = orm.Session(engine)
    local o1 = M.Order{}
    s:add(o1)
    local i1 = M.Item{}
    o1.items:append(i1)
    T.ok(rawequal(i1.order, o1))
    T.eq(s:contains(i1), true)
    local o2 = M.Order{}
    s:add(o2)
    local i2 = M.Item{}
    i2.order = o2
    T.eq(o2.items:contains(i2), true)
    T.eq(s:contains(i2), false)
    s:add(i2)
    s:commit()
    T.eq(#rows("SELECT id FROM rn_item"), 2)
  end)
  engine:dispose()
end

T.done()
