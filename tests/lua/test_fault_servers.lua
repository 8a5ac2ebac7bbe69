-- The database going away under a running program: the server process is
-- stopped (not just the connection killed) in the middle of a flush of
-- 10k objects and while a result streams.  The flush must raise
-- OperationalError and commit nothing, the session must be usable after
-- rollback(), the pool must reconnect once the server is back, and a
-- streamed result must end in a clear error, never a hang.  These tests
-- stop and start a private server (tests/lua/fault_server.sh), so the
-- shared test servers are left alone.  On SQLite, where there is no
-- server, the same flush meets a full disk (max_page_count) instead.
local T = require "testing"

local src = assert(os.getenv("RETORT_TEST_SRC"), "RETORT_TEST_SRC is not set")
local helper = src .. "/tests/lua/fault_server.sh"

local function sh(...)
  local cmd = table.concat({helper, ...}, " ")
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  if not ok then error(cmd .. " failed: " .. out, 2) end
  return (out:gsub("%s+$", ""))
end

local function elapsed(fn)
  local t0 = sa._monotonic()
  local ok, err = pcall(fn)
  return sa._monotonic() - t0, ok, err
end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Parent = Base:class "FaultParent" {
    __tablename__ = "fault_parent",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(40), {nullable = false}),
    kids = orm.relationship("FaultKid", {cascade = "all, delete-orphan"}),
  }
  M.Kid = Base:class "FaultKid" {
    __tablename__ = "fault_kid",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("fault_parent.id"),
                       {nullable = false}),
    n = Column(Integer),
  }
  return M
end

-- 10k new objects: 1000 parents with 9 children each
local function add_10k(M, session)
  local first
  for i = 1, 1000 do
    local p = M.Parent{name = "p" .. i}
    for j = 1, 9 do p.kids:append(M.Kid{n = j}) end
    session:add(p)
    first = first or p
  end
  return first
end

local function counts(engine)
  local c <close> = engine:connect()
  local p = c:exec_driver_sql("SELECT count(*) FROM fault_parent"):scalar()
  local k = c:exec_driver_sql("SELECT count(*) FROM fault_kid"):scalar()
  c:rollback()
  return math.tointeger(p), math.tointeger(k)
end

-- Calls fault() once, after the `at`-th statement the engine executes
-- while armed.  Returns a function that arms it and tells how many ran.
local function fault_after(engine, at, fault)
  local n, armed = 0, false
  orm.event.listen(engine, "after_cursor_execute", function()
    if not armed then return end
    n = n + 1
    if n == at then
      armed = false
      fault()
    end
  end)
  return function(on)
    armed = on
    if on then n = 0 end
  end, function() return n end
end

-- The flush of 10k objects fails in its middle (after the `at`-th of its
-- statements, 5000 unless told); then the checks that hold on every
-- database.  `fault` breaks things, `repair` mends them.
local function flush_fault(engine, kind_pattern, fault, repair, at)
  local M = schema()
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  at = at or 5000
  local arm, statements = fault_after(engine, at, fault)
  local session = orm.Session(engine)
  local first = add_10k(M, session)
  arm(true)
  local secs, ok, err = elapsed(function() session:flush() end)
  arm(false)
  T.eq(ok, false, "the flush fails")
  T.ok(type(err) == "table" and err.isa and err:isa("OperationalError"),
       "an OperationalError: " .. tostring(err))
  T.match(err.message, kind_pattern)
  T.ok(statements() >= at, "the fault came in the middle of the flush")
  T.ok(secs < 30, ("the flush failed in bounded time (%.1f s)"):format(secs))
  repair()
  -- nothing of the failed flush was committed
  T.eq({counts(engine)}, {0, 0})
  -- the session is usable again after rollback(), on a new connection
  session:rollback()
  -- as in SQLAlchemy, objects added in the rolled back transaction are
  -- expunged, transient again, their keys unset
  T.eq(#session.new, 0)
  T.eq(orm.inspect(first).transient, true)
  T.eq(session:scalar(select(func.count(M.Parent.id))), 0)
  local p = M.Parent{name = "after"}
  p.kids:append(M.Kid{n = 1})
  session:add(p)
  session:commit()
  T.eq({counts(engine)}, {1, 1})
  T.eq(session:get(M.Parent, p.id).name, "after")
  session:close()
  M.Base.metadata:drop_all(engine)
  return session
end

T.test("sqlite: the disk fills in the middle of a flush of 10k objects",
       function()
  local path = os.tmpname()
  local engine = create_engine("sqlite:///" .. path)
  local conn_used
  orm.event.listen(engine, "after_cursor_execute", function(conn)
    conn_used = conn
  end)
  flush_fault(engine, "database or disk is full", function()
    -- no room past the pages the database has now
    local pages = conn_used:exec_driver_sql("PRAGMA page_count"):scalar()
    conn_used:exec_driver_sql("PRAGMA max_page_count = " .. pages)
  end, function()
    -- room again, on the connection that may go back to the pool
    conn_used:exec_driver_sql("PRAGMA max_page_count = 1073741823")
  end)
  engine:dispose()
  os.remove(path)
end)

local servers = {
  {name = "postgresql", kind = "pg", env = "RETORT_TEST_PG",
   lost = "server closed the connection\0terminat\0connection",
   stream_sql = "SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g"},
  {name = "mysql", kind = "mysql", env = "RETORT_TEST_MYSQL",
   lost = "Lost connection\0gone away\0Can't connect",
   stream_sql = "SELECT seq, REPEAT('x', 100) FROM seq_1_to_100000"},
}

-- a message that says the server went away, in one of the driver's words
local function lost(err, words)
  local m = tostring(err.message)
  for w in words:gmatch("[^%z]+") do
    if m:find(w, 1, true) then return true end
  end
  return false
end

for _, db in ipairs(servers) do
  local n = db.name .. ": "
  if not os.getenv(db.env) or os.getenv(db.env) == "" then
    T.skip(n .. "server stopped", db.env .. " is not set (no servers here)")
  else
    local dir = ("/tmp/rtf%s.%d"):format(db.kind, math.random(1e9))
    local url = sh(db.kind, dir, "init")
    -- the statement after which the server stops, in the middle of the
    -- flush: PostgreSQL inserts the parents in one executemany with
    -- RETURNING, the kids in another (SQLAlchemy 1.4 with psycopg2)
    local middle = db.kind == "pg" and 1 or nil
    -- each test starts from a running server, whatever the last one left
    local function test(name, fn)
      T.test(n .. name, function()
        sh(db.kind, dir, "start")
        fn()
      end)
    end

    test("the server stopped in the middle of a flush of 10k objects",
         function()
      local engine = create_engine(url)
      local stopped = false
      flush_fault(engine, ".", function()
        sh(db.kind, dir, "stop")
        stopped = true
      end, function()
        T.ok(stopped)
        sh(db.kind, dir, "start")
      end, middle)
      engine:dispose()
    end)

    test("the error of a flush the server died under", function()
      -- the same fault, looking at the error itself
      local engine = create_engine(url)
      local M = schema()
      M.Base.metadata:create_all(engine)
      local arm = fault_after(engine, middle or 100, function()
        sh(db.kind, dir, "stop")
      end)
      local session = orm.Session(engine)
      add_10k(M, session)
      arm(true)
      local err = T.raises("OperationalError", function() session:flush() end)
      T.ok(err:isa("DBAPIError"))
      T.ok(lost(err, db.lost), "says the server went away: " .. err.message)
      sh(db.kind, dir, "start")
      session:rollback()
      session:expunge_all()
      -- the pool hands out a working connection again
      for _ = 1, 3 do
        local c <close> = engine:connect()
        T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
      end
      T.eq({counts(engine)}, {0, 0})
      session:close()
      M.Base.metadata:drop_all(engine)
      engine:dispose()
    end)

    test("the server stopped before a batched insert (executemany)",
         function()
      -- objects with their keys given go in one executemany per table
      -- (a pipeline on PostgreSQL): the server is gone when the second
      -- one starts
      local engine = create_engine(url)
      local M = schema()
      M.Base.metadata:create_all(engine)
      local n, armed = 0, true
      orm.event.listen(engine, "before_cursor_execute", function()
        if not armed then return end
        n = n + 1
        if n == 2 then
          armed = false
          sh(db.kind, dir, "stop")
        end
      end)
      local session = orm.Session(engine)
      for i = 1, 1000 do
        local p = M.Parent{id = i, name = "p" .. i}
        for j = 1, 9 do p.kids:append(M.Kid{id = i * 10 + j, n = j}) end
        session:add(p)
      end
      local secs, ok, err = elapsed(function() session:commit() end)
      T.eq(ok, false)
      T.ok(type(err) == "table" and err.isa and err:isa("OperationalError"),
           "an OperationalError: " .. tostring(err))
      T.ok(lost(err, db.lost), "says the server went away: " ..
           tostring(err.message))
      T.ok(secs < 30, ("bounded time (%.1f s)"):format(secs))
      T.eq(n, 2, "two batches were started")
      sh(db.kind, dir, "start")
      session:rollback()
      T.eq({counts(engine)}, {0, 0})
      session:close()
      M.Base.metadata:drop_all(engine)
      engine:dispose()
    end)

    test("the server stopped while a statement runs", function()
      -- the stop comes from outside, half a second into a 5 s statement
      local engine = create_engine(url)
      local c = engine:connect()
      T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
      local done = dir .. ".stopped"
      os.remove(done)
      os.execute(("(sleep 0.5; %s %s %s stop; touch %s) >/dev/null 2>&1 &")
        :format(helper, db.kind, dir, done))
      local secs, ok, err = elapsed(function()
        c:exec_driver_sql(db.name == "postgresql" and "SELECT pg_sleep(5)"
                          or "SELECT SLEEP(5)")
      end)
      T.eq(ok, false, "the statement fails")
      T.ok(type(err) == "table" and err.isa and err:isa("OperationalError"),
           "an OperationalError: " .. tostring(err))
      T.ok(secs < 4.5, ("it did not wait out the statement (%.2f s)")
        :format(secs))
      c:close()
      -- the background stop may still be finishing: wait for it, or it
      -- could tear down the server started next
      for _ = 1, 300 do
        local f = io.open(done)
        if f then
          f:close()
          break
        end
        os.execute("sleep 0.1")
      end
      os.remove(done)
      sh(db.kind, dir, "start")
      local c2 <close> = engine:connect()
      T.eq(c2:exec_driver_sql("SELECT 1"):scalar(), 1)
      c2:close()
      engine:dispose()
    end)

    test("the server stopped while a result streams", function()
      local engine = create_engine(url)
      local c = engine:connect()
      c:execution_options{yield_per = 100}
      local result = c:exec_driver_sql(db.stream_sql)
      local seen = 0
      local secs, ok, err = elapsed(function()
        for _ in result do
          seen = seen + 1
          if seen == 1000 then sh(db.kind, dir, "stop") end
        end
      end)
      T.eq(ok, false, "iteration ends in an error, not a clean end")
      T.ok(type(err) == "table" and err.isa and err:isa("OperationalError"),
           "an OperationalError: " .. tostring(err))
      T.ok(lost(err, db.lost), "says the server went away: " ..
           tostring(err.message))
      T.ok(seen >= 1000 and seen < 100000, "rows before the stop: " .. seen)
      T.ok(secs < 10, ("no hang (%.2f s)"):format(secs))
      -- while the server is down: a clear error, not a hang
      T.raises("DBAPIError", function() c:exec_driver_sql("SELECT 1") end)
      c:close()
      local secs2, ok2, err2 = elapsed(function() engine:connect() end)
      T.eq(ok2, false)
      T.ok(type(err2) == "table" and err2.isa and
           err2:isa("OperationalError"), "connecting to a stopped server: " ..
           tostring(err2))
      T.ok(secs2 < 10, ("connect fails fast (%.2f s)"):format(secs2))
      sh(db.kind, dir, "start")
      local c2 <close> = engine:connect()
      T.eq(c2:exec_driver_sql("SELECT 1"):scalar(), 1)
      c2:close()
      engine:dispose()
    end)

    sh(db.kind, dir, "destroy")
  end
end

T.done()
