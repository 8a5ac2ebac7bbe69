-- Faults from outside: SQLite database files that cannot be used, two
-- connections fighting over one row, and a server connection killed in
-- the middle of a streamed result.  Each must give a clear error in
-- bounded time, never a hang or a crash.
local T = require "testing"

local function tmpfile(contents)
  local path = os.tmpname()
  if contents then
    local f = assert(io.open(path, "wb"))
    f:write(contents)
    f:close()
  end
  return path
end

local function elapsed(fn)
  local t0 = sa._monotonic()
  local ok, err = pcall(fn)
  return sa._monotonic() - t0, ok, err
end

-- the message must name the file, so a user knows which one is wrong
local function names_file(err, path)
  T.ok(tostring(err.message):find(path, 1, true),
       "the message names " .. path .. ": " .. tostring(err.message))
end

T.test("sqlite: a file in a missing directory", function()
  local path = "/nonexistent-dir-" .. os.time() .. "/sub/app.db"
  local e = create_engine("sqlite:///" .. path)
  local err = T.raises("OperationalError", function() e:connect() end)
  names_file(err, path)
  T.match(err.message, "unable to open")
end)

T.test("sqlite: a text file is not a database", function()
  local path = tmpfile(("this is not a database\n"):rep(100))
  local e = create_engine("sqlite:///" .. path)
  local err = T.raises("DatabaseError", function()
    local c <close> = e:connect()
    c:exec_driver_sql("SELECT * FROM sqlite_master"):all()
  end)
  names_file(err, path)
  T.match(err.message, "not a database")
  -- the file is left alone
  local f = assert(io.open(path, "rb"))
  T.eq(f:read("a"), ("this is not a database\n"):rep(100))
  f:close()
  e:dispose()
  os.remove(path)
end)

local function make_db(path)
  local e = create_engine("sqlite:///" .. path)
  local c <close> = e:connect()
  c:exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
  c:exec_driver_sql("INSERT INTO t VALUES (1, 10)")
  c:commit()
  c:close()
  e:dispose()
end

T.test("sqlite: a database opened read-only (mode=ro)", function()
  local path = tmpfile()
  make_db(path)
  local e = create_engine("sqlite:///" .. path .. "?mode=ro")
  local c <close> = e:connect()
  T.eq(c:exec_driver_sql("SELECT x FROM t"):scalar(), 10)
  local err = T.raises("OperationalError", function()
    c:exec_driver_sql("UPDATE t SET x = 11")
  end)
  names_file(err, path)
  T.match(err.message, "readonly")
  c:rollback()
  T.eq(c:exec_driver_sql("SELECT x FROM t"):scalar(), 10)
  c:close()
  e:dispose()
  os.remove(path)
end)

T.test("sqlite: a missing file opened read-only (mode=ro)", function()
  -- read-only never creates the file, so a missing one is an error
  local path = os.tmpname()
  os.remove(path)
  local e = create_engine("sqlite:///" .. path .. "?mode=ro")
  local err = T.raises("OperationalError", function() e:connect() end)
  names_file(err, path)
  T.match(err.message, "unable to open")
  T.eq(io.open(path, "rb"), nil, "no file was created")
end)

-- A database file whose mode forbids writing.  Root writes to any file
-- whatever its mode, so as root the check runs as an unprivileged user.
local function read_only_file_check(path)
  local e = create_engine("sqlite:///" .. path)
  local c <close> = e:connect()
  assert(c:exec_driver_sql("SELECT x FROM t"):scalar() == 10)
  local ok, err = pcall(function()
    c:exec_driver_sql("UPDATE t SET x = 11")
  end)
  assert(not ok, "the update succeeded")
  c:rollback()
  assert(c:exec_driver_sql("SELECT x FROM t"):scalar() == 10)
  c:close()
  e:dispose()
  return err.kind, err.message
end

local probe = tmpfile("x")
os.execute("chmod 444 " .. probe)
local root = io.open(probe, "r+") ~= nil
os.remove(probe)

T.test("sqlite: a read-only file", function()
  local path = tmpfile()
  make_db(path)
  os.execute("chmod 444 " .. path)
  local kind, message
  if not root then
    kind, message = read_only_file_check(path)
  else
    -- the same check in a child run as `nobody`
    local exe = assert(os.getenv("RETORT_BUILD_DIR"),
                       "RETORT_BUILD_DIR is not set") .. "/retort"
    local script = tmpfile(("local k, m = load(%q)(%q)\n" ..
      "io.write(k, '\\n', m)\n"):format(string.dump(read_only_file_check),
                                        path))
    os.execute("chmod 644 " .. script)
    local p = assert(io.popen(("runuser -u nobody -- %s --norc %s 2>&1")
      :format(exe, script)))
    local out = p:read("a")
    p:close()
    os.remove(script)
    kind, message = out:match("^(%w+)\n(.*)$")
    T.ok(kind, "the child's output: " .. out)
  end
  T.eq(kind, "OperationalError")
  names_file({message = message}, path)
  T.match(message, "readonly")
  os.remove(path)
end)

-- Lock contention: `holder` updates a row and keeps its transaction open;
-- `waiter` updates the same row and must fail within its timeout with an
-- OperationalError, after which both go on normally.
local function contend(holder, waiter, limit, pattern)
  holder:exec_driver_sql("UPDATE rt_lock SET x = x + 1 WHERE id = 1")
  local secs, ok, err = elapsed(function()
    waiter:exec_driver_sql("UPDATE rt_lock SET x = x + 10 WHERE id = 1")
  end)
  T.eq(ok, false, "the second update waits and fails")
  T.ok(type(err) == "table" and err.isa and err:isa("OperationalError"),
       "an OperationalError: " .. tostring(err))
  T.match(err.message, pattern)
  T.ok(secs < limit, ("failed within %.1f s (took %.2f)"):format(limit, secs))
  waiter:rollback()
  holder:commit()
  -- no deadlock: the waiter's turn now
  waiter:exec_driver_sql("UPDATE rt_lock SET x = x + 10 WHERE id = 1")
  waiter:commit()
  T.eq(holder:exec_driver_sql("SELECT x FROM rt_lock WHERE id = 1"):scalar(),
       11)
  holder:commit()
end

T.test("sqlite: two connections update one row", function()
  local path = tmpfile()
  local e = create_engine("sqlite:///" .. path,
                          {connect_args = {timeout = 0.2}})
  do
    local c <close> = e:connect()
    c:exec_driver_sql("CREATE TABLE rt_lock (id INTEGER PRIMARY KEY, x INTEGER)")
    c:exec_driver_sql("INSERT INTO rt_lock VALUES (1, 0)")
    c:commit()
  end
  local a <close> = e:connect()
  local b <close> = e:connect()
  contend(a, b, 2, "database is locked")
  a:close()
  b:close()
  e:dispose()
  os.remove(path)
end)

T.test("sqlite: the shell meets a locked database", function()
  -- `retort URL -c SQL` against a row another connection holds: an error
  -- and a failing exit within the URL's busy timeout, no hang
  local path = tmpfile()
  local e = create_engine("sqlite:///" .. path)
  local c <close> = e:connect()
  c:exec_driver_sql("CREATE TABLE rt_lock (id INTEGER PRIMARY KEY, x INTEGER)")
  c:exec_driver_sql("INSERT INTO rt_lock VALUES (1, 0)")
  c:commit()
  c:exec_driver_sql("UPDATE rt_lock SET x = 1 WHERE id = 1")
  local exe = assert(os.getenv("RETORT_BUILD_DIR"),
                     "RETORT_BUILD_DIR is not set") .. "/retort"
  local secs, ok, out = elapsed(function()
    local p = assert(io.popen(("%s --norc 'sqlite:///%s?timeout=0.3' -c " ..
      "'UPDATE rt_lock SET x = 5 WHERE id = 1' 2>&1; echo \"exit $?\"")
      :format(exe, path)))
    local text = p:read("a")
    p:close()
    return text
  end)
  T.ok(ok)
  T.match(out, "database is locked")
  T.match(out, "exit 1\n$")
  T.ok(secs < 3, ("the shell gave up in time (%.2f s)"):format(secs))
  c:commit()
  T.eq(c:exec_driver_sql("SELECT x FROM rt_lock"):scalar(), 1)
  c:close()
  e:dispose()
  os.remove(path)
end)

for _, db in ipairs(T.databases()) do
  if db.name ~= "sqlite" then
    local n = db.name .. ": "
    T.test(n .. "two connections update one row", function()
      local e = create_engine(db.url)
      do
        local c <close> = e:connect()
        c:exec_driver_sql("DROP TABLE IF EXISTS rt_lock")
        c:exec_driver_sql("CREATE TABLE rt_lock (id INTEGER PRIMARY KEY, " ..
                          "x INTEGER)")
        c:exec_driver_sql("INSERT INTO rt_lock VALUES (1, 0)")
        c:commit()
      end
      local a <close> = e:connect()
      local b <close> = e:connect()
      if db.name == "postgresql" then
        b:exec_driver_sql("SET lock_timeout = '200ms'")
        b:commit()
        contend(a, b, 2, "lock timeout")
        -- a statement timeout ends the wait as well (57014, a
        -- QueryCanceledError in psycopg2: an OperationalError)
        b:exec_driver_sql("SET lock_timeout = 0")
        b:exec_driver_sql("SET statement_timeout = '300ms'")
        b:commit()
        a:exec_driver_sql("UPDATE rt_lock SET x = 0 WHERE id = 1")
        a:commit()
        contend(a, b, 2, "statement timeout")
      else
        b:exec_driver_sql("SET innodb_lock_wait_timeout = 1")
        contend(a, b, 4, "Lock wait timeout")
      end
      a:exec_driver_sql("DROP TABLE rt_lock")
      a:commit()
      a:close()
      b:close()
      e:dispose()
    end)
  end

  if db.name ~= "sqlite" then
    local pg = db.name == "postgresql"
    T.test(db.name .. ": the connection killed while a result streams",
           function()
      local e = create_engine(db.url)
      local victim <close> = e:connect()
      local pid = victim:exec_driver_sql(pg and "SELECT pg_backend_pid()" or
                                         "SELECT CONNECTION_ID()"):scalar()
      victim:commit()
      victim:execution_options{yield_per = 100}
      local result = victim:exec_driver_sql(pg and
        "SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g" or
        "SELECT seq, REPEAT('x', 100) FROM seq_1_to_100000")
      local seen = 0
      local secs, ok, err = elapsed(function()
        for _ in result do
          seen = seen + 1
          if seen == 1000 then
            local killer <close> = e:connect()
            killer:exec_driver_sql(pg and "SELECT pg_terminate_backend(" ..
                                   pid .. ")" or "KILL " .. pid)
            killer:commit()
          end
        end
      end)
      T.eq(ok, false, "iteration ends in an error, not a clean end")
      T.ok(type(err) == "table" and err.isa and err:isa("OperationalError"),
           "an OperationalError: " .. tostring(err))
      T.ok(not tostring(err.message):find("unknown error", 1, true),
           "a message that says what happened: " .. tostring(err.message))
      T.ok(seen >= 1000 and seen < 100000, "rows before the kill: " .. seen)
      T.ok(secs < 10, ("no hang (%.2f s)"):format(secs))
      -- the connection is dead and says so; closing it is clean
      T.raises("DBAPIError", function()
        victim:exec_driver_sql("SELECT 1")
      end)
      victim:close()
      local c <close> = e:connect()
      T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
      c:close()
      e:dispose()
    end)
  end
end

T.done()
