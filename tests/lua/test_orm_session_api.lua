-- Session behaviours of API.md section 5 on every test database, each
-- checked against SQLAlchemy 1.4.46 (states and statements): object
-- states after each operation and rollback (savepoints too),
-- expire_on_commit = false, autoflush off and session.no_autoflush,
-- get() with populate_existing / with_for_update / options and of a
-- class with eager relationships, Query:get with options, scalar /
-- scalars / one_or_none, execute with bindparams, merge(load = false),
-- eager loads of a target with deferred columns and column_property.
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = sql:gsub("%s+", " "):gsub('[`"]', ""):gsub("%$%d+", "?")
                         :gsub(" INNER JOIN ", " JOIN ")
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "sa_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    addresses = relationship("Address", {back_populates = "user",
                                         cascade = "all, delete-orphan"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "sa_address",
    id = Column(Integer, {primary_key = true}),
    uid = Column(Integer, ForeignKey("sa_user.id")),
    email = Column(String(30)),
    user = relationship("User", {back_populates = "addresses"}),
  }
  local bid = Column(Integer, {primary_key = true, autoincrement = false})
  local bname = Column(String(30))
  M.Boss = Base:class "Boss" {
    __tablename__ = "sa_boss",
    id = bid,
    name = bname,
    bio = orm.deferred(Column(String(30))),
    up = orm.column_property(func.upper(bname)),
  }
  M.Report = Base:class "Report" {
    __tablename__ = "sa_report",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    boss_id = Column(Integer, ForeignKey("sa_boss.id")),
    boss = relationship("Boss", {lazy = "joined"}),
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
local function states(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = state((select(i, ...))) end
  return out
end
local function unloaded(o)
  local t = orm.inspect(o).unloaded
  table.sort(t)
  return t
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Boss, Report = M.User, M.Address, M.Boss, M.Report
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "
  local SEL_U = "SELECT sa_user.id AS sa_user_id, sa_user.name AS " ..
                "sa_user_name FROM sa_user WHERE sa_user.id = ?"
  local SEL_AU = "SELECT sa_address.id AS sa_address_id, sa_address.uid " ..
                 "AS sa_address_uid, sa_address.email AS sa_address_email " ..
                 "FROM sa_address WHERE ? = sa_address.uid"

  local function seed()
    engine:begin(function(conn)
      conn:execute(delete(Report.__table__))
      conn:execute(delete(Boss.__table__))
      conn:execute(delete(Address.__table__))
      conn:execute(delete(User.__table__))
      -- (ids given everywhere: a PostgreSQL sequence knows none of them)
      conn:execute(insert(User.__table__), {{id = 1, name = "a"},
                                            {id = 2, name = "b"}})
      conn:execute(insert(Address.__table__),
                   {{id = 1, uid = 1, email = "x"}})
      conn:execute(insert(Boss.__table__), {{id = 1, name = "b", bio = "x"}})
      conn:execute(insert(Report.__table__), {{id = 1, boss_id = 1}})
    end)
  end

  T.test(pfx .. "object states through flush, commit and rollback",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local u = User{id = 10, name = "a"}
    T.eq({state(u), orm.inspect(u).modified}, {"transient", true})
    s:add(u)
    T.eq(state(u), "pending")
    s:flush()
    T.eq({state(u), orm.inspect(u).modified}, {"persistent", false})
    s:commit()
    T.eq(unloaded(u), {"addresses", "id", "name"})
    u.name = "b"
    T.eq(#s.dirty, 1)
    s:rollback()
    -- the change is gone, the object expired
    T.eq({state(u), unloaded(u), u.name}, {"persistent",
                                           {"addresses", "id", "name"}, "a"})
    clear(log)
    s:delete(u) -- (the delete cascade loads the collection)
    T.eq(log, {SEL_AU})
    T.eq({state(u), #s.deleted}, {"persistent", 1})
    s:flush()
    T.eq(state(u), "deleted")
    s:rollback()
    T.eq({state(u), unloaded(u)}, {"persistent", {"addresses", "id", "name"}})
    s:delete(u)
    s:commit()
    T.eq(state(u), "detached")
    -- a new object flushed, then rolled back: transient, values kept
    local u2 = User{id = 11, name = "c"}
    s:add(u2)
    s:flush()
    s:rollback()
    T.eq({state(u2), u2.id, unloaded(u2), orm.inspect(u2).has_identity},
         {"transient", 11, {"addresses"}, false})
    -- pending, not flushed: transient; deleted, not flushed: persistent
    local u3 = User{id = 13, name = "h"}
    s:add(u3)
    s:rollback()
    T.eq(state(u3), "transient")
    local u4 = s:get(User, 2)
    s:delete(u4)
    -- (marked, not flushed: still what get() finds, without SQL)
    clear(log)
    T.ok(s:get(User, 2) == u4)
    T.eq({#log, s:contains(u4)}, {0, true})
    s:rollback()
    T.eq(state(u4), "persistent")
    -- expunge, add, close
    local u5 = User{id = 14, name = "d"}
    s:add(u5)
    s:commit()
    s:expunge(u5)
    T.eq(state(u5), "detached")
    s:add(u5)
    T.eq(state(u5), "persistent")
    s:close()
    T.eq({state(u5), unloaded(u5)}, {"detached", {"addresses", "id", "name"}})
  end)

  T.test(pfx .. "a savepoint rolled back", function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    local sp = s:begin_nested()
    u.name = "f"
    local n = User{id = 12, name = "g"}
    s:add(n)
    s:flush()
    T.eq(states(u, n), {"persistent", "persistent"})
    sp:rollback()
    T.eq(states(u, n), {"persistent", "transient"})
    T.eq({unloaded(u), unloaded(n)}, {{"addresses", "id", "name"},
                                      {"addresses"}})
    T.eq(u.name, "a")
    s:rollback()
  end)

  T.test(pfx .. "delete-orphan and the delete cascade", function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    local a = u.addresses[1]
    u.addresses:remove(a)
    T.eq({state(a), orm.inspect(a).modified}, {"persistent", true})
    s:flush()
    T.eq(state(a), "deleted")
    s:rollback()
    T.eq(state(a), "persistent")
    local objs = {u}
    for _, x in ipairs(u.addresses) do objs[#objs + 1] = x end
    s:delete(u)
    T.eq(states(table.unpack(objs)), {"persistent", "persistent"})
    s:flush()
    T.eq(states(table.unpack(objs)), {"deleted", "deleted"})
    s:rollback()
  end)

  T.test(pfx .. "expire_on_commit = false, autoflush off, no_autoflush",
         function()
    seed()
    local s <close> = orm.Session(engine, {expire_on_commit = false})
    local u = s:get(User, 1)
    u.name = "a2"
    s:commit()
    T.eq({unloaded(u), u.name}, {{"addresses"}, "a2"})
    s:close()
    local s2 <close> = orm.Session(engine, {autoflush = false})
    u = s2:get(User, 1)
    u.name = "z"
    clear(log)
    T.eq(#s2:scalars(select(User):where(User.name:eq("z"))):all(), 0)
    T.eq(#log, 1)
    s2:flush()
    T.eq(log[2], "UPDATE sa_user SET name=? WHERE sa_user.id = ?")
    s2:rollback()
    local s3 <close> = orm.Session(engine)
    u = s3:get(User, 1)
    u.name = "z"
    clear(log)
    do
      local _ <close> = s3.no_autoflush
      T.eq(#s3:scalars(select(User):where(User.name:eq("z"))):all(), 0)
    end
    T.eq(#log, 1)
    -- the function form; autoflush is back after it
    T.eq(s3.no_autoflush(function()
      return #s3:scalars(select(User):where(User.name:eq("z"))):all()
    end), 0)
    T.eq(#log, 2)
    T.eq(#s3:scalars(select(User):where(User.name:eq("z"))):all(), 1)
    T.eq(log[3], "UPDATE sa_user SET name=? WHERE sa_user.id = ?")
    s3:rollback()
  end)

  T.test(pfx .. "scalar, scalars, one_or_none, bindparams", function()
    seed()
    local s <close> = orm.Session(engine)
    T.eq(s:scalar(select(User.name):where(User.id:eq(1))), "a")
    T.eq(s:scalar(select(User.name):where(User.id:eq(9))), nil)
    T.eq(s:scalar(select(User):where(User.id:eq(1))).name, "a")
    T.eq(s:scalars(select(User):where(User.id:eq(9))):one_or_none(), nil)
    T.eq(s:scalars(select(User):order_by(User.id)):first().id, 1)
    T.raises("MultipleResultsFound",
             function() s:execute(select(User)):one_or_none() end)
    T.raises("MultipleResultsFound",
             function() s:scalars(select(User)):one() end)
    T.raises("NoResultFound", function()
      s:scalars(select(User):where(User.id:eq(9))):one()
    end)
    local r = s:execute(select(User.name):where(User.id:eq(bindparam("x"))),
                        {x = 2}):all()
    T.eq({#r, r[1][1]}, {1, "b"})
    T.eq(s:scalars(select(User):where(User.name:eq(bindparam("n"))),
                   {n = "b"}):one().id, 2)
    T.eq(s:execute(update(User):where(User.id:eq(bindparam("i")))
                     :values{name = bindparam("n")}, {i = 2, n = "bb"})
           .rowcount, 1)
    s:rollback()
  end)

  T.test(pfx .. "get with options", function()
    seed()
    local s <close> = orm.Session(engine)
    -- populate_existing: read again (after the autoflush)
    local u = s:get(User, 1)
    u.name = "zz"
    clear(log)
    T.ok(s:get(User, 1, {populate_existing = true}) == u)
    T.eq(log, {"UPDATE sa_user SET name=? WHERE sa_user.id = ?", SEL_U})
    s:rollback()
    clear(log)
    T.eq(s:get(User, 2, {with_for_update = true}).name, "b")
    T.eq(log, {SEL_U .. (db.name == "sqlite" and "" or " FOR UPDATE")})
    s:rollback()
    s:close()
    clear(log)
    u = s:get(User, 1, {options = {orm.selectinload(User.addresses)}})
    T.eq(log, {SEL_U, "SELECT sa_address.uid AS sa_address_uid, " ..
               "sa_address.id AS sa_address_id, sa_address.email AS " ..
               "sa_address_email FROM sa_address WHERE sa_address.uid IN (?)"})
    T.eq(#u.addresses, 1)
    s:close()
    clear(log)
    u = s:get(User, 1, {options = {orm.joinedload(User.addresses)}})
    T.eq(log, {"SELECT sa_user.id AS sa_user_id, sa_user.name AS " ..
               "sa_user_name, sa_address_1.id AS sa_address_1_id, " ..
               "sa_address_1.uid AS sa_address_1_uid, sa_address_1.email " ..
               "AS sa_address_1_email FROM sa_user LEFT OUTER JOIN " ..
               "sa_address AS sa_address_1 ON sa_user.id = " ..
               "sa_address_1.uid WHERE sa_user.id = ?"})
    T.eq(#u.addresses, 1)
    s:close()
    clear(log)
    T.eq(s:get(User, 1, {options = {orm.load_only(User.id)}}).id, 1)
    T.eq(log, {"SELECT sa_user.id AS sa_user_id FROM sa_user WHERE " ..
               "sa_user.id = ?"})
    -- in the identity map: no SQL, the options are not applied
    clear(log)
    T.eq(s:get(User, 1, {options = {orm.joinedload(User.addresses)}}).id, 1)
    T.eq(log, {})
    -- the legacy Query's get with options
    s:close()
    clear(log)
    u = s:query(User):options(orm.joinedload(User.addresses)):get(1)
    T.eq(#log, 1)
    T.match(log[1], "LEFT OUTER JOIN sa_address AS sa_address_1")
    T.eq(#u.addresses, 1)
    clear(log)
    T.ok(s:query(User):populate_existing():get(1) == u)
    T.eq(log, {SEL_U})
  end)

  T.test(pfx .. "eager relationships of the mapping: get, deferred " ..
         "columns and column_property of the target", function()
    seed()
    local s <close> = orm.Session(engine)
    local J = "SELECT sa_report.id AS sa_report_id, sa_report.boss_id AS " ..
              "sa_report_boss_id, upper(sa_boss_1.name) AS upper_1, " ..
              "sa_boss_1.id AS sa_boss_1_id, sa_boss_1.name AS " ..
              "sa_boss_1_name FROM sa_report LEFT OUTER JOIN sa_boss AS " ..
              "sa_boss_1 ON sa_boss_1.id = sa_report.boss_id"
    clear(log)
    local r = s:get(Report, 1)
    T.eq(log, {J .. " WHERE sa_report.id = ?"})
    T.eq({r.boss.name, r.boss.up}, {"b", "B"})
    T.eq((tostring(s:query(Report)):gsub("%s+", " "):gsub('[`"]', "")), J)
    s:close()
    clear(log)
    local rs = s:scalars(select(Report):options(orm.subqueryload(Report.boss)))
                :all()
    T.eq(log[2], "SELECT upper(sa_boss.name) AS upper_1, sa_boss.id AS " ..
                 "sa_boss_id, sa_boss.name AS sa_boss_name, " ..
                 "anon_1.sa_report_boss_id AS anon_1_sa_report_boss_id " ..
                 "FROM (SELECT DISTINCT sa_report.boss_id AS " ..
                 "sa_report_boss_id FROM sa_report) AS anon_1 JOIN sa_boss " ..
                 "ON sa_boss.id = anon_1.sa_report_boss_id")
    T.eq({rs[1].boss.id, rs[1].boss.name, rs[1].boss.up}, {1, "b", "B"})
    T.eq(unloaded(rs[1].boss), {"bio"})
    s:close()
    clear(log)
    rs = s:scalars(select(Report):options(orm.selectinload(Report.boss)))
           :all()
    T.eq(log[2], "SELECT sa_boss.id AS sa_boss_id, upper(sa_boss.name) AS " ..
                 "upper_1, sa_boss.name AS sa_boss_name FROM sa_boss WHERE " ..
                 "sa_boss.id IN (?)")
    T.eq({rs[1].boss.id, rs[1].boss.name, rs[1].boss.up}, {1, "b", "B"})
    T.eq(unloaded(rs[1].boss), {"bio"})
  end)

  T.test(pfx .. "merge with load = false", function()
    seed()
    local s0 <close> = orm.Session(engine)
    local d = s0:get(User, 2)
    s0:close()
    local s <close> = orm.Session(engine)
    clear(log)
    local m = s:merge(d, {load = false})
    T.eq({m.name, unloaded(m), state(m), orm.inspect(m).modified},
         {"b", {"addresses"}, "persistent", false})
    T.eq(log, {})
    m = nil
    -- a dirty object is refused (the copy above is gone: not held)
    d.name = "changed"
    local err = T.raises("InvalidRequestError",
                         function() s:merge(d, {load = false}) end)
    T.eq(err.message, "merge() with load=False option does not support " ..
         "objects marked as 'dirty'.  flush() all changes on mapped " ..
         "instances before merging with load=False.")
    s:close()
    -- its loaded collection comes along, nothing is loaded
    local d2 = s0:get(User, 1)
    local _ = d2.addresses
    s0:close()
    clear(log)
    m = s:merge(d2, {load = false})
    T.eq(log, {})
    T.eq(#m.addresses, 1)
    T.eq({m.addresses[1].email, state(m.addresses[1])}, {"x", "persistent"})
    T.eq(log, {})
    s:close()
    -- an expired copy stays expired
    local d3 = s0:get(User, 1)
    s0:commit()
    s0:close()
    m = s:merge(d3, {load = false})
    T.eq(unloaded(m), {"addresses", "id", "name"})
    clear(log)
    T.eq(m.name, "a")
    T.eq(log, {SEL_U})
  end)

  T.test(pfx .. "dirty, is_modified, the delete cascade after a move",
         function()
    seed()
    engine:begin(function(conn)
      conn:execute(insert(Address.__table__),
                   {{id = 2, uid = 1, email = "y"}})
    end)
    local s <close> = orm.Session(engine)
    local u1 = s:get(User, 1)
    u1.name = "a" -- the same value: dirty, not modified
    T.eq({#s.dirty, s:is_modified(u1), orm.inspect(u1).modified},
         {1, false, true})
    local u2, a = s:get(User, 2), s:get(Address, 1)
    local c = u1.addresses
    T.eq(#c, 2)
    -- a's user is not loaded; the identity map knows it is u1: a leaves
    -- u1's loaded collection, and u2's (not loaded) gets it
    a.user = u2
    T.eq({#c, c[1].id}, {1, 2})
    T.eq(#s.dirty, 3) -- a, u1 and u2: changes to relationships count
    T.eq({s:is_modified(a), s:is_modified(u2),
          s:is_modified(u1, {include_collections = false})},
         {true, false, false})
    -- the delete cascade follows the loaded collection: a, moved to
    -- u2, is not deleted with u1
    clear(log)
    s:delete(u1)
    T.eq({#s.deleted, #s.dirty, #log}, {2, 2, 0})
    s:flush()
    T.eq({state(u1), state(a), a.uid}, {"deleted", "persistent", 2})
    T.eq(log, {"UPDATE sa_address SET uid=? WHERE sa_address.id = ?",
               "DELETE FROM sa_address WHERE sa_address.id = ?",
               "DELETE FROM sa_user WHERE sa_user.id = ?"})
    s:rollback()
    -- not loaded: the cascade's load autoflushes first, so the moved
    -- object is not among what it finds
    u1, u2, a = s:get(User, 1), s:get(User, 2), s:get(Address, 1)
    a.user = u2
    clear(log)
    s:delete(u1)
    T.eq(log[1], "UPDATE sa_address SET uid=? WHERE sa_address.id = ?")
    T.eq({#s.deleted, state(a)}, {2, "persistent"})
    s:flush()
    T.eq({state(u1), state(a), a.uid}, {"deleted", "persistent", 2})
    s:rollback()
  end)

  T.test(pfx .. "a failed flush: in the transaction, in a savepoint, " ..
         "in begin(fn)", function()
    seed()
    local s <close> = orm.Session(engine)
    local u1 = s:get(User, 1)
    u1.name = "changed"
    local good, bad = User{id = 5, name = "g"}, User{id = 1, name = "dup"}
    s:add_all{good, bad}
    T.raises("IntegrityError", function() s:flush() end)
    -- at once: the new objects transient, the others expired
    T.eq({states(good, bad, u1), #s.new, #s.dirty, unloaded(u1)},
         {{"transient", "transient", "persistent"}, 0, 0,
          {"addresses", "id", "name"}})
    T.raises("PendingRollbackError", function()
      s:scalars(select(User)):all()
    end)
    s:flush() -- nothing to write: no error
    T.raises("PendingRollbackError", function() s:commit() end)
    s:rollback()
    T.eq(u1.name, "a")
    s:close()
    -- begin(fn): a commit that fails rolls back; the session is usable
    T.raises("IntegrityError", function()
      s:begin(function() s:add(User{id = 1, name = "x"}) end)
    end)
    T.eq(s:get(User, 1).name, "a")
    s:close()
    -- in a savepoint: only the savepoint rolls back; what was flushed
    -- before it stays, as do objects it did not change
    local u = s:get(User, 1)
    local other = s:get(User, 2)
    u.name = "outer"
    clear(log)
    T.raises("IntegrityError", function()
      s:begin_nested(function() s:add(User{id = 1, name = "dup"}) end)
    end)
    T.eq(log, {"UPDATE sa_user SET name=? WHERE sa_user.id = ?",
               "SAVEPOINT sa_savepoint_1",
               "INSERT INTO sa_user (id, name) VALUES (?, ?)",
               "ROLLBACK TO SAVEPOINT sa_savepoint_1"})
    T.eq({state(u), orm.inspect(u).attrs.name.loaded_value, unloaded(u),
          unloaded(other)}, {"persistent", "outer", {"addresses"},
                             {"addresses"}})
    T.eq(s:scalars(select(User.name):order_by(User.id)):all(), {"outer", "b"})
    s:commit()
    T.eq(s:get(User, 1).name, "outer")
  end)

  T.test(pfx .. "make_transient, make_transient_to_detached", function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    u.name = "k"
    orm.make_transient(u)
    -- loaded values and their history stay; out of the session
    local h = orm.inspect(u).attrs.name.history
    T.eq({state(u), orm.inspect(u).identity_key, u.name, h.added, h.deleted,
          s:contains(u), #s.dirty},
         {"transient", nil, "k", {"k"}, {"a"}, false, 0})
    s:rollback()
    -- an expired object: what it lacks is nil
    local e = s:get(User, 2)
    s:commit()
    orm.make_transient(e)
    T.eq({state(e), unloaded(e), e.name}, {"transient",
                                           {"addresses", "id", "name"}, nil})
    s:close()
    local d = User{id = 1, name = "z"}
    orm.make_transient_to_detached(d)
    T.eq({state(d), orm.inspect(d).identity, orm.inspect(d).modified},
         {"detached", {1}, false})
    T.raises("InvalidRequestError",
             function() orm.make_transient_to_detached(d) end)
    s:add(d)
    T.eq(state(d), "persistent")
    d.name = "y"
    clear(log)
    s:flush()
    T.eq(log, {"UPDATE sa_user SET name=? WHERE sa_user.id = ?"})
    s:rollback()
    s:close()
    -- what it was not given loads once it is in a session
    local p = User{id = 1}
    orm.make_transient_to_detached(p)
    T.eq(unloaded(p), {"addresses", "name"})
    s:add(p)
    clear(log)
    T.eq(p.name, "a")
    T.eq(log, {"SELECT sa_user.name AS sa_user_name FROM sa_user WHERE " ..
               "sa_user.id = ?"})
  end)

  T.test(pfx .. "bulk UPDATE and DELETE: synchronize_session", function()
    local UPD1 = "UPDATE sa_user SET name=? WHERE sa_user.id = ?"
    local UPD = "UPDATE sa_user SET name=? WHERE sa_user.id >= ?"
    local pg = db.name == "postgresql"
    for _, sync in ipairs({"evaluate", "fetch", false}) do
      seed()
      engine:begin(function(conn)
        conn:execute(insert(User.__table__), {{id = 3, name = "c"}})
      end)
      local s <close> = orm.Session(engine)
      local us = s:scalars(select(User):order_by(User.id)):all()
      s:expire(us[2], {"name"})
      us[3].name = "mod"
      clear(log)
      T.eq(s:execute(update(User):where(User.id:ge(1)):values{name = "n"}
                       :execution_options{synchronize_session = sync})
             .rowcount, 3)
      -- the autoflush, then the statement (fetch: the keys matched,
      -- RETURNING them where the database can)
      if sync == "fetch" and pg then
        T.eq(log, {UPD1, UPD .. " RETURNING sa_user.id"})
      elseif sync == "fetch" then
        T.eq(log, {UPD1, "SELECT sa_user.id FROM sa_user WHERE " ..
                         "sa_user.id >= ?", UPD})
      else
        T.eq(log, {UPD1, UPD})
      end
      local got = {}
      for i, u in ipairs(us) do
        got[i] = {orm.inspect(u).attrs.name.loaded_value,
                  orm.inspect(u).modified}
      end
      if sync then
        T.eq(got, {{"n", false}, {nil, false}, {"n", false}})
      else
        T.eq(got, {{"a", false}, {nil, false}, {"mod", false}})
      end
      s:rollback()
      for _, u in ipairs(us) do local _ = u.name end
      -- a criterion Lua cannot evaluate
      if sync == "evaluate" then
        local err = T.raises("InvalidRequestError", function()
          s:execute(update(User):where(func.lower(User.name):eq("a"))
                      :values{name = "q"}
                      :execution_options{synchronize_session = sync})
        end)
        T.eq(err.message, "Could not evaluate current criteria in " ..
             "Python: \"Cannot evaluate Function\". Specify 'fetch' or " ..
             "False for the synchronize_session execution option.")
      else
        s:execute(update(User):where(func.lower(User.name):eq("a"))
                    :values{name = "q"}
                    :execution_options{synchronize_session = sync})
        T.eq(us[1].name, sync and "q" or "a")
      end
      s:rollback()
      for _, u in ipairs(us) do local _ = u.name end
      clear(log)
      T.eq(s:execute(delete(User):where(User.id:gt(2))
                       :execution_options{synchronize_session = sync})
             .rowcount, 1)
      if sync == "fetch" and pg then
        T.eq(log, {"DELETE FROM sa_user WHERE sa_user.id > ? RETURNING " ..
                   "sa_user.id"})
      end
      T.eq({state(us[3]), s:contains(us[3])},
           sync and {"deleted", false} or {"persistent", true})
      s:commit()
      T.eq(state(us[3]), sync and "detached" or "persistent")
    end
  end)

  T.test(pfx .. "get() of a composite key given the wrong identity",
         function()
    -- (SQLAlchemy 1.4.46's messages, the columns joined by a bare comma)
    local CB = orm.declarative_base()
    local Pair = CB:class("Pair"){
      __tablename__ = "sa_pair",
      a = Column(Integer, {primary_key = true}),
      b = Column(Integer, {primary_key = true}),
    }
    local s <close> = orm.Session(engine)
    local ok, err = pcall(s.get, s, Pair, 1)
    T.eq(ok, false)
    T.eq(err.kind, "InvalidRequestError")
    T.eq(err.message, "Incorrect number of values in identifier to " ..
         "formulate primary key for session.get(); primary key columns " ..
         "are 'sa_pair.a','sa_pair.b'")
    T.raises("InvalidRequestError", function() s:get(Pair, {1, 2, 3}) end)
    T.raises("InvalidRequestError",
             function() s:get(Pair, 1, {populate_existing = true}) end)
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
