-- Events on every test database: engine events through Core and the ORM,
-- session events, mapper events (with changes made in before_flush,
-- before_insert and before_update flushed), attribute events (retval,
-- active_history, initiators), init, errors raised in listeners, and
-- listen/remove/contains/listens_for/once.  Each expected sequence is
-- what SQLAlchemy 1.4 gives for the same script (future mode).
local T = require "testing"
local event = orm.event

local function schema()
  local Base = orm.declarative_base()
  local User = Base:class "User" {
    __tablename__ = "ev_users",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    stamp = Column(String(30)),
    addresses = relationship("Address", {back_populates = "user"}),
  }
  local Address = Base:class "Address" {
    __tablename__ = "ev_address",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(50)),
    user_id = Column(ForeignKey("ev_users.id")),
    user = relationship("User", {back_populates = "addresses"}),
  }
  return Base, User, Address
end

-- a short text for an event argument
local function d(x)
  local mt = getmetatable(x)
  local name = type(mt) == "table" and rawget(mt, "__name")
  if type(x) == "userdata" and type(mt) == "table" and mt.__orm_instance then
    local cls = x.__class__
    local v = cls.__name__ == "User" and x.name or x.email
    return cls.__name__ .. "(" .. tostring(v) .. ")"
  end
  if name == "retort.Session" then return "S" end
  if name == "retort.Mapper" then return "M:" .. x.class.__name__ end
  if name == "retort.Connection" then return "C" end
  if type(x) == "table" and mt == nil then return table.concat(x, ",") end
  return tostring(x)
end

-- a listener that logs its event name and arguments
local function logger(log, name)
  return function(...)
    local parts = {name}
    for i = 1, select("#", ...) do parts[#parts + 1] = d((select(i, ...))) end
    log[#log + 1] = table.concat(parts, " ")
  end
end

-- the statement verb instead of the SQL, for cursor events
local function cursor_logger(log, name)
  return function(conn, cursor, sql, params, context, many)
    log[#log + 1] = string.format("%s %s %s %s %s %s", name, d(conn),
      tostring(cursor), sql:match("^%u+"), tostring(context), tostring(many))
  end
end

local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

local function rows_of(p)
  local out = {}
  for i, v in ipairs(p) do
    if type(v) == "table" and not rawequal(v, sa.null) then
      out[i] = rows_of(v)
    else
      out[i] = v
    end
  end
  return out
end

-- SQLite in a file: the tests make engines of their own on the same data
local sqlite_file = os.tmpname()

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base, User, Address = schema()
  local url = db.name == "sqlite" and "sqlite:///" .. sqlite_file or db.url
  local engine = create_engine(url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local function reset()
    local conn <close> = engine:connect()
    conn:execute(sa.delete(Address.__table__))
    conn:execute(sa.delete(User.__table__))
    conn:commit()
  end

  T.test(pfx .. "engine events through Core", function()
    local e = create_engine(url)
    local log = {}
    event.listen(e, "connect", logger(log, "connect"))
    for _, n in ipairs({"begin", "commit", "rollback"}) do
      event.listen(e, n, logger(log, n))
    end
    local params = {}
    event.listen(e, "before_cursor_execute", cursor_logger(log, "before"))
    event.listen(e, "before_cursor_execute",
      function(_, _, _, p) params[#params + 1] = rows_of(p) end)
    event.listen(e, "after_cursor_execute", cursor_logger(log, "after"))
    local conn <close> = e:connect()
    conn:execute(text("INSERT INTO ev_users (name) VALUES (:n)"),
                 {{n = "a"}, {n = "b"}})
    conn:commit()
    conn:execute(sa.select(User.__table__.c.name)
                   :where(User.__table__.c.name:eq("a")))
    conn:rollback()
    local tx = conn:begin()
    conn:execute(sa.update(User.__table__):values{stamp = sa.null})
    tx:commit()
    conn:close()
    T.eq(log, {
      "connect nil nil",
      "begin C",
      "before C nil INSERT nil true", "after C nil INSERT nil true",
      "commit C",
      "begin C",
      "before C nil SELECT nil false", "after C nil SELECT nil false",
      "rollback C",
      "begin C",
      "before C nil UPDATE nil false", "after C nil UPDATE nil false",
      "commit C",
    })
    T.eq(params, {{{"a"}, {"b"}}, {"a"}, {sa.null}})
    -- closing with a transaction open rolls it back: the rollback event
    clear(log)
    local c2 = e:connect()
    c2:exec_driver_sql("SELECT 1")
    c2:close()
    local want = {"begin C", "before C nil SELECT nil false",
                  "after C nil SELECT nil false", "rollback C"}
    -- a file's NullPool connects anew for each checkout (SQLAlchemy 1.4)
    if db.name == "sqlite" then table.insert(want, 1, "connect nil nil") end
    T.eq(log, want)
    reset()
  end)

  T.test(pfx .. "savepoint events", function()
    local e = create_engine(url)
    local log = {}
    for _, n in ipairs({"begin", "commit", "savepoint", "release_savepoint",
                        "rollback_savepoint"}) do
      event.listen(e, n, logger(log, n))
    end
    event.listen(e, "before_cursor_execute",
      function(_, _, sql) log[#log + 1] = sql end)
    local conn <close> = e:connect()
    local sp = conn:begin_nested()
    conn:exec_driver_sql("SELECT 1")
    sp:commit()
    sp = conn:begin_nested()
    sp:rollback()
    conn:commit()
    -- SQLAlchemy numbers the second savepoint 2: retort reuses 1
    for i, l in ipairs(log) do log[i] = l:gsub("sa_savepoint_%d", "sp") end
    T.eq(log, {"begin C", "savepoint C nil", "SAVEPOINT sp", "SELECT 1",
               "release_savepoint C sp nil", "RELEASE SAVEPOINT sp",
               "savepoint C nil", "SAVEPOINT sp",
               "rollback_savepoint C sp nil", "ROLLBACK TO SAVEPOINT sp",
               "commit C"})
    conn:close()
  end)

  T.test(pfx .. "session, mapper, attribute and engine events in order",
         function()
    local log = {}
    local targets = {}
    for n in ("before_insert after_insert before_update after_update " ..
              "before_delete after_delete load refresh"):gmatch("%S+") do
      local fn = logger(log, n)
      event.listen(User, n, fn)
      targets[#targets + 1] = {User, n, fn}
    end
    local Session = orm.sessionmaker{bind = engine}
    for n in ("before_flush after_flush after_flush_postexec after_commit " ..
              "after_rollback after_begin before_commit " ..
              "after_soft_rollback"):gmatch("%S+") do
      event.listen(Session, n, logger(log, n))
    end
    for _, n in ipairs({"begin", "commit", "rollback"}) do
      local fn = logger(log, n)
      event.listen(engine, n, fn)
      targets[#targets + 1] = {engine, n, fn}
    end
    local cursor = function(_, _, sql) log[#log + 1] = sql:match("^%u+") end
    event.listen(engine, "after_cursor_execute", cursor)
    event.listen(User.name, "set", logger(log, "set"))
    event.listen(User.addresses, "append", logger(log, "append"))
    local s <close> = Session()
    local u = User{name = "a"}
    s:add(u)
    u.addresses:append(Address{email = "x"})
    s:commit()
    T.eq(log, {
      "set User(nil) a symbol('NO_VALUE') <AttributeEvent name replace>",
      "append User(a) Address(x) <AttributeEvent addresses append>",
      "before_commit S",
      "before_flush S nil nil",
      "begin C",
      "after_begin S nil C",
      "before_insert M:User C User(a)",
      "INSERT",
      "after_insert M:User C User(a)",
      "INSERT",
      "after_flush S nil",
      "after_flush_postexec S nil",
      "commit C",
      "after_commit S",
    })
    clear(log)
    T.eq(u.name, "a") -- expired by the commit: loads (refresh)
    u.name = "b"
    s:flush()
    s:rollback()
    T.eq(log, {
      "begin C",
      "after_begin S nil C",
      "SELECT",
      "refresh User(a) nil id,name,stamp,addresses",
      "set User(a) b a <AttributeEvent name replace>",
      "before_flush S nil nil",
      "before_update M:User C User(b)",
      "UPDATE",
      "after_update M:User C User(b)",
      "after_flush S nil",
      "after_flush_postexec S nil",
      "rollback C",
      "after_rollback S",
      "after_soft_rollback S nil",
    })
    clear(log)
    local got = s:scalars(sa.select(User)):all()
    T.eq(#got, 1)
    -- u, expired by the rollback, is refreshed by the row
    T.eq(log, {"begin C", "after_begin S nil C", "SELECT",
               "refresh User(a) nil id,name,stamp,addresses"})
    s:close()
    clear(log)
    local s2 <close> = Session()
    local u2 = s2:get(User, u.id)
    T.eq(log[#log], "load User(a) nil")
    s2:delete(u2.addresses[1])
    s2:delete(u2)
    clear(log)
    s2:commit()
    T.eq(log, {
      "before_commit S",
      "before_flush S nil nil",
      "DELETE",
      "before_delete M:User C User(a)",
      "DELETE",
      "after_delete M:User C User(a)",
      "after_flush S nil",
      "after_flush_postexec S nil",
      "commit C",
      "after_commit S",
    })
    for _, t in ipairs(targets) do event.remove(t[1], t[2], t[3]) end
    event.remove(engine, "after_cursor_execute", cursor)
    T.ok(not event.contains(engine, "after_cursor_execute", cursor))
  end)
  -- the listeners above stay on these classes: new ones for what follows
  Base, User, Address = schema()

  T.test(pfx .. "changes made in before_flush, before_insert and " ..
         "before_update are flushed", function()
    reset()
    local Session = orm.sessionmaker{bind = engine}
    local sqls = {}
    local function cap(_, _, sql, params, _, many)
      sqls[#sqls + 1] = {sql:match("^%u+"), rows_of(params), many}
    end
    event.listen(engine, "before_cursor_execute", cap)
    event.listens_for(Session, "before_flush")(function(s)
      local extra = false
      for _, o in ipairs(s.new) do
        o.name = o.name:upper()
        if o.name == "EXTRA" then extra = true end
      end
      if not extra and #s.new > 0 then s:add(User{name = "extra"}) end
    end)
    event.listens_for(User, "before_insert")(function(m, c, t)
      t.stamp = "ins:" .. t.name
    end)
    event.listens_for(User, "before_update")(function(m, c, t)
      t.stamp = "upd:" .. t.name
    end)
    local seen = {}
    local setfn = event.listens_for(User.name, "set", {retval = true})(
      function(t, v, old, init)
        seen[#seen + 1] = {v, tostring(old), init.key}
        return type(v) == "string" and v:match("^%s*(.-)%s*$") or v
      end)
    local s <close> = Session()
    local c1 = User{name = " c "}
    T.eq(c1.name, "c")
    s:add(c1)
    s:commit()
    T.eq(seen, {{" c ", "symbol('NO_VALUE')", "name"},
                {"C", "c", "name"},
                {"extra", "symbol('NO_VALUE')", "name"}})
    -- (PostgreSQL inserts both in one executemany with RETURNING, as
    -- SQLAlchemy 1.4 with psycopg2 does; elsewhere one each, for the key)
    local ins, statements = {}, 0
    for _, q in ipairs(sqls) do
      if q[1] == "INSERT" then
        statements = statements + 1
        for _, row in ipairs(q[3] and q[2] or {q[2]}) do ins[#ins + 1] = row end
      end
    end
    T.eq(ins, {{"C", "ins:C"}, {"extra", "ins:extra"}})
    T.eq(statements, db.name == "postgresql" and 1 or 2)
    local names = {}
    for _, u in ipairs(s:query(User):order_by(User.id):all()) do
      names[#names + 1] = u.name .. "/" .. tostring(u.stamp)
    end
    T.eq(names, {"C/ins:C", "extra/ins:extra"})
    c1.name = "d  "
    clear(sqls)
    s:commit()
    T.eq(sqls[#sqls][1], "UPDATE")
    T.eq(sqls[#sqls][2], {"d", "upd:d", c1.id})
    T.eq({c1.name, c1.stamp}, {"d", "upd:d"})
    event.remove(User.name, "set", setfn)
    T.ok(not event.contains(User.name, "set", setfn))
    event.remove(engine, "before_cursor_execute", cap)
    s:close()
    reset()
  end)

  T.test(pfx .. "an error in a listener propagates; the session is left " ..
         "as SQLAlchemy leaves it", function()
    reset()
    local s <close> = orm.Session(engine)
    local function stop() error("stop", 0) end
    event.listen(s, "before_flush", stop)
    s:add(User{name = "a"})
    T.eq(select(2, pcall(s.flush, s)), "stop")
    T.eq(#s.new, 1) -- before anything: nothing rolled back
    event.remove(s, "before_flush", stop)
    s:commit()
    T.eq(s:query(User):count(), 1)
    local function bad(_, _, t)
      if t.name == "bad" then error("no bad users", 0) end
    end
    event.listen(User, "before_insert", bad)
    s:add(User{name = "bad"})
    T.eq(select(2, pcall(s.flush, s)), "no bad users")
    T.raises("InvalidRequestError", function() return s:query(User):all() end)
    s:rollback()
    T.eq(s:query(User):count(), 1)
    event.remove(User, "before_insert", bad)
    local function af() error("after", 0) end
    event.listen(s, "after_flush", af)
    s:add(User{name = "c"})
    T.eq(select(2, pcall(s.commit, s)), "after")
    T.raises("InvalidRequestError", function() return s:query(User):count() end)
    s:rollback()
    event.remove(s, "after_flush", af)
    T.eq(s:query(User):count(), 1)
    s:close()
    -- Core: the statement is not run; the transaction has begun
    local function boom(_, _, sql)
      if sql:find("ev_address") then error("no boom", 0) end
    end
    event.listen(engine, "before_cursor_execute", boom)
    local conn <close> = engine:connect()
    T.ok((pcall(conn.execute, conn, sa.delete(User.__table__))))
    T.eq(select(2, pcall(conn.execute, conn, sa.delete(Address.__table__))),
         "no boom")
    T.ok(conn:in_transaction())
    conn:rollback()
    event.remove(engine, "before_cursor_execute", boom)
    conn:close()
    reset()
  end)

  T.test(pfx .. "init, active_history, relationship initiators", function()
    reset()
    local log = {}
    event.listen(Base, "init", function(t, args, kw)
      local ks = {}
      for k in pairs(kw) do ks[#ks + 1] = k end
      table.sort(ks)
      log[#log + 1] = "init " .. t.__class__.__name__ .. " " ..
                      table.concat(ks, ",") .. " " .. #args
    end, {propagate = true})
    event.listen(User.name, "set", function(t, v, o)
      log[#log + 1] = "set " .. tostring(v) .. " " .. tostring(o)
    end, {active_history = true})
    event.listen(User.addresses, "append", function(t, v, i)
      log[#log + 1] = "append " .. v.email .. " " .. i.key .. " " .. i.op
    end)
    event.listen(User.addresses, "remove", function(t, v, i)
      log[#log + 1] = "remove " .. v.email .. " " .. i.op
    end)
    local s <close> = orm.Session(engine)
    local a = Address{email = "x"}
    local u = User{name = "a", addresses = {a}}
    s:add(u)
    s:commit()
    u.name = "b" -- expired by the commit: active_history loads "a"
    s:commit()
    s:expire(u, {"name"})
    u.name = "c"
    u.addresses:remove(a)
    s:rollback()
    T.eq(log, {"init Address email 0", "init User addresses,name 0",
               "set a symbol('NO_VALUE')", "append x addresses append", "set b a",
               "set c b", "remove x remove"})
    -- a class declared after the listener
    local Later = Base:class "Later" {
      __tablename__ = "ev_later",
      id = Column(Integer, {primary_key = true}),
      v = Column(Integer),
    }
    clear(log)
    Later{v = 1}
    T.eq(log, {"init Later v 0"})
    s:close()
    reset()
  end)

  T.test(pfx .. "mapper listeners of a base (propagate) run in the order " ..
         "they were added", function()
    reset()
    local B2, U2 = schema()
    local log = {}
    event.listen(U2, "before_insert", function() log[#log + 1] = "own1" end)
    event.listen(B2, "before_insert", function() log[#log + 1] = "base" end,
                 {propagate = true})
    event.listen(B2, "before_insert", function() log[#log + 1] = "noprop" end)
    event.listen(U2, "before_insert", function() log[#log + 1] = "own2" end)
    event.listen(U2, "before_insert", function() log[#log + 1] = "first" end,
                 {insert = true})
    local s <close> = orm.Session(engine)
    s:add(U2{name = "p"})
    s:commit()
    T.eq(log, {"first", "own1", "base", "own2"})
    s:close()
    reset()
  end)

  T.test(pfx .. "listen, remove, contains, once, listens_for, targets",
         function()
    local e = create_engine(url)
    local n = 0
    local function count() n = n + 1 end
    event.listen(e, "before_cursor_execute", count, {once = true})
    T.ok(event.contains(e, "before_cursor_execute", count))
    local conn <close> = e:connect()
    conn:exec_driver_sql("SELECT 1")
    conn:exec_driver_sql("SELECT 1")
    T.eq(n, 1)
    event.remove(e, "before_cursor_execute", count)
    T.ok(not event.contains(e, "before_cursor_execute", count))
    T.raises("InvalidRequestError", function()
      event.remove(e, "before_cursor_execute", count)
    end)
    T.raises("InvalidRequestError", function()
      event.listen(User, "bogus", count)
    end)
    T.raises("InvalidRequestError", function()
      event.listen(e, "before_flush", count)
    end)
    T.raises("ArgumentError", function()
      event.listen(User.addresses, "append", count, {retval = true})
    end)
    T.ok(sa.event == orm.event)
    -- orm.Session (every session), a sessionmaker, one session
    local Session = orm.sessionmaker{bind = e}
    local log = {}
    local all = logger(log, "all")
    event.listen(orm.Session, "before_commit", all)
    event.listen(Session, "before_commit", logger(log, "maker"))
    local s1 <close> = Session()
    local s2 <close> = orm.Session(e)
    event.listen(s2, "before_commit", logger(log, "one"))
    s1:commit()
    s2:commit()
    event.remove(orm.Session, "before_commit", all)
    s2:commit()
    T.eq(log, {"all S", "maker S", "all S", "one S", "one S"})
    -- a Mapper is the same target as its class
    local m = orm.inspect(User)
    local fn = function() end
    event.listen(m, "load", fn)
    T.ok(event.contains(User, "load", fn))
    event.remove(User, "load", fn)
    T.ok(not event.contains(m, "load", fn))
    conn:close()
  end)
end

os.remove(sqlite_file)
T.done()
