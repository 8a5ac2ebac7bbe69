-- Session behaviours of API.md section 5 in combinations the other
-- tests leave out, each checked against SQLAlchemy 1.4.46 (statements in
-- order, object states, errors): refresh autoflushes what it does not
-- discard, as does get() of an expired object; attaching a detached
-- object whose identity is taken,
-- Query.update keyed by attribute and refused after a join, Query.union
-- and its kin, order_by(nil).
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = sql:gsub("%s+", " "):gsub('[`"]', ""):gsub("%$%d+", "?")
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "sw_user",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(30), {nullable = false}),
    fullname = Column(String(50)),
    addresses = relationship("Address", {back_populates = "user",
                                         cascade = "all, delete-orphan"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "sw_address",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    email = Column(String(50), {nullable = false, unique = true}),
    user_id = Column(Integer, ForeignKey("sw_user.id")),
    user = relationship("User", {back_populates = "addresses"}),
  }
  return M
end

local function state(o)
  local i = orm.inspect(o)
  for _, k in ipairs({"transient", "pending", "persistent", "deleted",
                      "detached"}) do
    if i[k] then return k end
  end
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address = M.User, M.Address
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "
  local SEL_U = "SELECT sw_user.id AS sw_user_id, sw_user.name AS " ..
                "sw_user_name, sw_user.fullname AS sw_user_fullname " ..
                "FROM sw_user WHERE sw_user.id = ?"
  local UPD_NAME = "UPDATE sw_user SET name=? WHERE sw_user.id = ?"

  local function seed()
    engine:begin(function(conn)
      conn:execute(delete(Address.__table__))
      conn:execute(delete(User.__table__))
      conn:execute(insert(User.__table__),
                   {{id = 1, name = "a", fullname = "A"},
                    {id = 2, name = "b", fullname = "B"},
                    {id = 3, name = "c", fullname = "C"}})
      conn:execute(insert(Address.__table__),
                   {{id = 1, email = "e1", user_id = 1}})
    end)
  end

  T.test(pfx .. "refresh autoflushes what it does not expire", function()
    seed()
    local s <close> = orm.Session(engine)
    local u1, u2 = s:get(User, 1), s:get(User, 2)
    -- another object's change is flushed before the SELECT
    u2.name = "y"
    clear(log)
    s:refresh(u1)
    T.eq(log, {"UPDATE sw_user SET name=? WHERE sw_user.id = ?",
               "SELECT sw_user.id, sw_user.name, sw_user.fullname " ..
               "FROM sw_user WHERE sw_user.id = ?"})
    T.eq(#s.dirty, 0)
    -- a change to a named attribute is discarded, the others flushed
    u1.name = "q"
    u1.fullname = "QQ"
    clear(log)
    s:refresh(u1, {"name"})
    T.eq(log, {"UPDATE sw_user SET fullname=? WHERE sw_user.id = ?",
               "SELECT sw_user.name FROM sw_user WHERE sw_user.id = ?"})
    T.eq({u1.name, u1.fullname, #s.dirty}, {"a", "QQ", 0})
    -- a refresh of only the changed attribute writes nothing
    u1.fullname = "changed"
    clear(log)
    s:refresh(u1, {"fullname"})
    T.eq(log, {"SELECT sw_user.fullname FROM sw_user WHERE sw_user.id = ?"})
    T.eq({u1.fullname, #s.dirty}, {"QQ", 0})
    s:rollback()
  end)

  T.test(pfx .. "get() of an expired object autoflushes before its load",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local u1, u2 = s:get(User, 1), s:get(User, 2)
    s:expire(u1)
    u2.name = "v"
    clear(log)
    T.ok(s:get(User, 1) == u1)
    T.eq(log, {UPD_NAME, SEL_U})
    s:expire(u1)
    u2.name = "y"
    clear(log)
    T.ok(s:query(User):get(1) == u1)
    T.eq(log, {UPD_NAME, SEL_U})
    -- (one only partly expired is returned as it is)
    s:expire(u1, {"name"})
    u2.name = "z"
    clear(log)
    T.ok(s:get(User, 1) == u1)
    T.eq({log, #s.dirty}, {{}, 1})
    s:rollback()
  end)

  T.test(pfx .. "a detached object whose identity is taken is refused",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 3)
    local d = User{id = 3, name = "zz"}
    orm.make_transient_to_detached(d)
    T.eq(state(d), "detached")
    local e = T.raises("InvalidRequestError", function() s:add(d) end)
    T.match(e.message, "^Can't attach instance <User at 0x%x+>; another " ..
            "instance with key %(<class 'User'>, %(3,%), None%) is " ..
            "already present in this session%.$")
    T.eq({state(d), state(u), s:get(User, 3) == u}, {"detached",
                                                     "persistent", true})
    -- the same after an expunge and a new load
    s:expunge(u)
    local u3 = s:get(User, 3)
    T.ok(u3 ~= u)
    T.raises("InvalidRequestError", function() s:add(u) end)
    T.eq(state(u), "detached")
    s:rollback()
  end)

  T.test(pfx .. "Query.update keyed by attribute or Column", function()
    seed()
    local s <close> = orm.Session(engine)
    local u1 = s:get(User, 1)
    clear(log)
    T.eq(s:query(User):filter(User.name:like("a%"))
           :update({[User.fullname] = "QU"}, {synchronize_session = "fetch"}),
         1)
    T.eq(u1.fullname, "QU")
    T.eq(s:query(User):filter(User.id:eq(1))
           :update{[User.__table__.c.fullname] = "QC"}, 1)
    T.eq(u1.fullname, "QC")
    -- (MariaDB has no RETURNING: fetch SELECTs the keys first)
    local upd = "UPDATE sw_user SET fullname=? WHERE sw_user.name LIKE ?"
    if db.name == "postgresql" then
      T.eq(log[1], upd .. " RETURNING sw_user.id")
    else
      T.eq(log, {"SELECT sw_user.id FROM sw_user WHERE sw_user.name LIKE ?",
                 upd,
                 "UPDATE sw_user SET fullname=? WHERE sw_user.id = ?"})
    end
    s:rollback()
  end)

  T.test(pfx .. "Query.union and its kin select from the compound",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local q = s:query(User)
    local function ids(list)
      local out = {}
      for i, u in ipairs(list) do out[i] = u.id end
      return out
    end
    clear(log)
    local u = q:filter(User.id:eq(1)):union(q:filter(User.id:eq(3)))
    T.eq(ids(u:order_by(User.id:desc()):all()), {3, 1})
    local cols = "user_id AS anon_1_sw_user_id, anon_1.sw_user_name AS " ..
                 "anon_1_sw_user_name, anon_1.sw_user_fullname AS " ..
                 "anon_1_sw_user_fullname"
    local inner = "SELECT sw_user.id AS sw_user_id, sw_user.name AS " ..
                  "sw_user_name, sw_user.fullname AS sw_user_fullname " ..
                  "FROM sw_user WHERE sw_user.id = ?"
    T.eq(log, {"SELECT anon_1.sw_" .. cols .. " FROM (" .. inner ..
               " UNION " .. inner .. ") AS anon_1 ORDER BY " ..
               "anon_1.sw_user_id DESC"})
    -- (entities come back once each, as SQLAlchemy's Query makes them)
    T.eq(ids(q:filter(User.id:lt(3))
               :union_all(q:filter(User.id:eq(1)), q:filter(User.id:eq(3)))
               :filter(User.name:ne("b")):order_by(User.name, User.id):all()),
         {1, 3})
    T.eq(ids(q:filter(User.id:lt(3)):intersect(q:filter(User.id:gt(1)))
               :all()), {2})
    if db.name ~= "mysql" then
      T.eq(ids(q:except_(q:filter(User.id:eq(2))):order_by(User.id):all()),
           {1, 3})
    end
    -- the objects are the session's
    local a = u:filter_by{name = "a"}:one()
    T.ok(a == s:get(User, 1))
    -- a query of columns: rows keyed as the query's columns
    clear(log)
    local rows = s:query(User.id, User.name):filter(User.id:eq(1))
      :union_all(s:query(User.id, User.name):filter(User.id:eq(2)))
      :filter(User.id:gt(0)):order_by(User.id):all()
    T.eq({#rows, rows[1].id, rows[2].name, rows[1]._fields},
         {2, 1, "b", {"id", "name"}})
    local ci = "SELECT sw_user.id AS sw_user_id, sw_user.name AS " ..
               "sw_user_name FROM sw_user WHERE sw_user.id = ?"
    T.eq(log, {"SELECT anon_1.sw_user_id AS anon_1_sw_user_id, " ..
               "anon_1.sw_user_name AS anon_1_sw_user_name FROM (" .. ci ..
               " UNION ALL " .. ci .. ") AS anon_1 WHERE " ..
               "anon_1.sw_user_id > ? ORDER BY anon_1.sw_user_id"})
    -- count wraps it once more; the outer subquery is numbered first
    clear(log)
    T.eq(u:count(), 2)
    T.eq(log, {"SELECT count(*) AS count_1 FROM (SELECT anon_2.sw_" ..
               cols:gsub("anon_1", "anon_2") .. " FROM (" .. inner ..
               " UNION " .. inner .. ") AS anon_2) AS anon_1"})
    s:rollback()
  end)

  T.test(pfx .. "order_by(nil) cancels the ordering given before", function()
    seed()
    local s <close> = orm.Session(engine)
    local q = s:query(User):order_by(User.name:desc())
    clear(log)
    local ids = {}
    for i, u in ipairs(q:order_by(nil):order_by(User.id):all()) do
      ids[i] = u.id
    end
    T.eq(ids, {1, 2, 3})
    T.eq(log, {"SELECT sw_user.id AS sw_user_id, sw_user.name AS " ..
               "sw_user_name, sw_user.fullname AS sw_user_fullname " ..
               "FROM sw_user ORDER BY sw_user.id"})
    -- the same in Core, and for GROUP BY
    local t = User.__table__
    local stmt = select(t.c.name):group_by(t.c.name):order_by(t.c.name)
    T.eq(tostring(stmt:group_by(nil):order_by(nil)):gsub("%s+", " "),
         "SELECT sw_user.name FROM sw_user")
    s:rollback()
  end)

  T.test(pfx .. "Query.update and delete refuse a query with joins",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local q = s:query(User)
    clear(log)
    local msg = "^Can't call Query%.update%(%) or Query%.delete%(%) when " ..
                "join%(%), outerjoin%(%), select_from%(%), or from_self%(%) " ..
                "has been called$"
    local e = T.raises("InvalidRequestError", function()
      return q:join(User.addresses):filter(Address.email:eq("e1")):delete()
    end)
    T.match(e.message, msg)
    e = T.raises("InvalidRequestError", function()
      return q:outerjoin(User.addresses):update{name = "x"}
    end)
    T.match(e.message, msg)
    T.raises("InvalidRequestError", function()
      return s:query(User.name):select_from(User):delete()
    end)
    T.eq(log, {})
    -- (the session stays usable)
    T.eq(q:filter(User.id:eq(2)):delete(), 1)
    s:rollback()
  end)

  T.test(pfx .. "expiring some changed attributes leaves the object dirty",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    local function dirty()
      for _, o in ipairs(s.dirty) do if o == u then return true end end
      return false
    end
    u.name, u.fullname = "y", "Y"
    s:expire(u, {"name"})
    -- (SQLAlchemy 1.4: True True Y, then True False, then False False)
    T.eq({dirty(), s:is_modified(u), u.fullname}, {true, true, "Y"})
    s:expire(u, {"fullname"})
    T.eq({dirty(), s:is_modified(u)}, {true, false})
    u.name = "z"
    s:expire(u)
    T.eq({dirty(), s:is_modified(u)}, {false, false})
    s:rollback()
  end)
end

T.done()
