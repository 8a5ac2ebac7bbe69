-- Attribute history through orm.inspect(obj).attrs.<key>.history on every
-- test database, each case checked against SQLAlchemy 1.4.46: NULL shows
-- as sa.null in a list (SQLAlchemy's [None]) apart from an empty list
-- (its ()), for columns, column_property and scalar relationships, on
-- new, pending, persistent, expired and detached objects.
local T = require "testing"

local N = sa.null

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local name = Column(String(30))
  M.User = Base:class "User" {
    __tablename__ = "hi_user",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = name,
    note = Column(String(30)),
    up = orm.column_property(func.upper(name)),
    addresses = relationship("Address", {back_populates = "user"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "hi_address",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    uid = Column(Integer, ForeignKey("hi_user.id")),
    user = relationship("User", {back_populates = "addresses"}),
  }
  return M
end

-- {added, unchanged, deleted}
local function h(obj, key)
  local x = orm.inspect(obj).attrs[key].history
  return {x.added, x.unchanged, x.deleted}
end

T.test("history methods, as SQLAlchemy's History", function()
  local M = schema()
  local u = M.User{name = "a"}
  local x = orm.inspect(u).attrs.name.history
  T.eq(x:has_changes(), true)
  T.eq(x:empty(), false)
  T.eq(x:sum(), {"a"})
  T.eq(x:non_deleted(), {"a"})
  T.eq(x:non_added(), {})
  x = orm.inspect(u).attrs.note.history
  T.eq({x:empty(), x:has_changes()}, {true, false})
end)

T.test("new objects: nil set is [None], never set is ()", function()
  local M = schema()
  local u = M.User{}
  T.eq(h(u, "name"), {{}, {}, {}})
  local _ = u.name -- reading does not set it
  T.eq(h(u, "name"), {{}, {}, {}})
  u.name = nil
  T.eq(h(u, "name"), {{N}, {}, {}})
  u = M.User{name = N}
  T.eq(h(u, "name"), {{N}, {}, {}})
  u = M.User{name = "x"}
  u.name = nil
  T.eq(h(u, "name"), {{N}, {}, {}})
  -- scalar relationships: set to nil is a change too
  local a = M.Address{}
  T.eq(h(a, "user"), {{}, {}, {}})
  a.user = nil
  T.eq(h(a, "user"), {{N}, {}, {}})
  a = M.Address{}
  a.user = M.User{}
  a.user = nil
  T.eq(h(a, "user"), {{N}, {}, {}})
  -- a collection read on a new object is empty, no history
  u = M.User{}
  _ = u.addresses
  T.eq(h(u, "addresses"), {{}, {}, {}})
  local b = M.Address{}
  u.addresses:append(b)
  T.eq(h(u, "addresses"), {{b}, {}, {}})
  T.eq(h(b, "user"), {{u}, {}, {}})
  u.addresses:remove(b)
  T.eq(h(u, "addresses"), {{}, {}, {}})
  T.eq(h(b, "user"), {{N}, {}, {}})
end)

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address = M.User, M.Address
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local pfx = db.name .. ": "

  local function seed()
    engine:begin(function(conn)
      conn:execute(delete(Address.__table__))
      conn:execute(delete(User.__table__))
      conn:execute(insert(User.__table__), {
        {id = 1, name = "a"}, {id = 2, name = "b"}})
      conn:execute(insert(Address.__table__), {
        {id = 1, uid = 1}, {id = 2, uid = N}, {id = 3, uid = 1}})
    end)
  end

  T.test(pfx .. "columns through flush, commit, expire and detach",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local u = User{id = 5}
    s:add(u)
    T.eq(h(u, "name"), {{}, {}, {}})
    u.name = nil
    T.eq(h(u, "name"), {{N}, {}, {}})
    s:flush()
    T.eq(h(u, "name"), {{}, {N}, {}})
    T.eq(h(u, "note"), {{}, {}, {}}) -- not given: not loaded either
    T.eq(h(u, "id"), {{}, {5}, {}})
    u.note = nil
    T.eq(h(u, "note"), {{N}, {}, {}})
    s:commit()
    T.eq(h(u, "name"), {{}, {}, {}})
    u.name = nil -- expired: no previous value known
    T.eq(h(u, "name"), {{N}, {}, {}})
    s:rollback()
    local _ = u.name
    T.eq(h(u, "name"), {{}, {N}, {}})
    u.name = "x" -- from a loaded NULL: deleted is [None]
    T.eq(h(u, "name"), {{"x"}, {}, {N}})
    u.name = nil -- back to the committed value
    T.eq(h(u, "name"), {{}, {N}, {}})
    s:expire(u, {"name"})
    T.eq(h(u, "name"), {{}, {}, {}})
    u.name = nil
    T.eq(h(u, "name"), {{N}, {}, {}})
    s:flush()
    T.eq(h(u, "name"), {{}, {N}, {}})
    u.name = "a"
    s:flush()
    u.name = nil
    T.eq(h(u, "name"), {{N}, {}, {"a"}})
    s:flush()
    T.eq(h(u, "name"), {{}, {N}, {}})
    u.name = "y"
    s:flush()
    u.name = "y" -- the same value again
    T.eq(h(u, "name"), {{}, {"y"}, {}})
    s:commit()
    -- column_property: a value loaded as NULL, set to nil again
    u = s:get(User, 1)
    s:expire(u)
    u = s:get(User, 2)
    T.eq(h(u, "up"), {{}, {"B"}, {}})
    u.up = nil
    T.eq(h(u, "up"), {{N}, {}, {"B"}})
    s:rollback()
    -- an attribute load_only left out
    s:expunge_all()
    u = s:query(User):options(orm.load_only(User.id)):filter_by{id = 1}:one()
    T.eq(h(u, "name"), {{}, {}, {}})
    u.name = nil
    T.eq(h(u, "name"), {{N}, {}, {}})
    s:rollback()
    -- detached
    u = s:get(User, 2)
    _ = u.name
    s:expunge(u)
    T.eq(h(u, "name"), {{}, {"b"}, {}})
    u.name = nil
    T.eq(h(u, "name"), {{N}, {}, {"b"}})
  end)

  T.test(pfx .. "many-to-one: the previous value the identity map knows",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local u1, u2 = s:get(User, 1), s:get(User, 2)
    local a = s:get(Address, 1)
    -- not loaded, but its key finds u1 in the identity map
    a.user = nil
    T.eq(h(a, "user"), {{N}, {}, {u1}})
    a.user = u2
    T.eq(h(a, "user"), {{u2}, {}, {u1}})
    a.user = u1
    T.eq(h(a, "user"), {{}, {u1}, {}})
    s:rollback()
    -- after the rollback u1 is expired: not looked at, nothing known
    a = s:get(Address, 1)
    a.user = u2
    T.eq(h(a, "user"), {{u2}, {}, {}})
    s:rollback()
    -- a NULL key: the previous value is nil
    a = s:get(Address, 2)
    a.user = nil
    T.eq(h(a, "user"), {{}, {N}, {}})
    s:rollback()
    a = s:get(Address, 2)
    a.user = u2
    T.eq(h(a, "user"), {{u2}, {}, {}})
    s:flush()
    T.eq(h(a, "user"), {{}, {u2}, {}})
    s:rollback()
    -- the target not in the identity map
    s:expunge_all()
    a = s:get(Address, 1)
    a.user = nil
    T.eq(h(a, "user"), {{N}, {}, {}})
    s:rollback()
    -- loaded, then set
    a = s:get(Address, 2)
    T.eq(h(a, "user"), {{}, {}, {}})
    local _ = a.user
    T.eq(h(a, "user"), {{}, {N}, {}})
    a.user = nil
    T.eq(h(a, "user"), {{}, {N}, {}})
    local nu = User{id = 9}
    a.user = nu
    T.eq(h(a, "user"), {{nu}, {}, {}})
    a.user = nil
    T.eq(h(a, "user"), {{}, {N}, {}})
    s:rollback()
    -- expired: nothing known
    s:expire(a)
    a.user = nil
    T.eq(h(a, "user"), {{N}, {}, {}})
    s:rollback()
  end)

  T.test(pfx .. "nil over a new object's key given directly clears it",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local a = Address{id = 7, uid = 1}
    a.user = nil
    s:add(a)
    s:flush()
    T.eq(a.uid, nil)
    s:expire(a)
    T.eq(a.uid, nil) -- as stored
    s:rollback()
  end)

  T.test(pfx .. "collections: added, kept and removed members", function()
    seed()
    local s <close> = orm.Session(engine)
    local u1 = s:get(User, 1)
    local a1, a3 = s:get(Address, 1), s:get(Address, 3)
    local _ = u1.addresses
    T.eq(h(u1, "addresses"), {{}, {a1, a3}, {}})
    T.eq(orm.inspect(u1).modified, false)
    u1.addresses:remove(a1)
    T.eq(h(u1, "addresses"), {{}, {a3}, {a1}})
    -- the other side, not loaded, is set to nil all the same (its
    -- previous value found in the identity map); both are modified
    T.eq(h(a1, "user"), {{N}, {}, {u1}})
    T.eq(a1.user, nil)
    T.eq({orm.inspect(u1).modified, orm.inspect(a1).modified}, {true, true})
    local n = Address{id = 9}
    u1.addresses:append(n)
    T.eq(h(u1, "addresses"), {{n}, {a3}, {a1}})
    u1.addresses:remove(n)
    T.eq(h(u1, "addresses"), {{}, {a3}, {a1}})
    u1.addresses:append(a1)
    T.eq(h(u1, "addresses"), {{}, {a3, a1}, {}})
    T.eq(h(a1, "user"), {{}, {u1}, {}})
    s:rollback()
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
