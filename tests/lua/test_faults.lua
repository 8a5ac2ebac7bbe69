-- Faults on every database: a wrong password, a connection that dies under
-- us, and errors that leave the connection usable.
local T = require "testing"

local function with_password(url, user, password)
  -- replace the user part of the URL (the test servers trust local users)
  return (url:gsub("://[^@/]*@", "://" .. user .. ":" .. password .. "@", 1))
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  if db.name ~= "sqlite" then
    T.test(n .. "a wrong password is an OperationalError without it",
           function()
      local user = db.name == "postgresql" and "retort_pwtest" or "root"
      if db.name == "postgresql" then
        local c <close> = create_engine(db.url):connect()
        c:exec_driver_sql("DROP ROLE IF EXISTS retort_pwtest")
        c:exec_driver_sql("CREATE ROLE retort_pwtest LOGIN PASSWORD 'right'")
        c:commit()
      end
      local url = with_password(db.url, user, "s3cr3t-Wr0ng")
      local e = create_engine(url)
      T.eq(tostring(e.url):find("s3cr3t", 1, true), nil)
      local err = T.raises("OperationalError", function() e:connect() end)
      T.eq(err.message:find("s3cr3t", 1, true), nil)
      T.eq(tostring(err):find("s3cr3t", 1, true), nil)
      T.ok(#err.message > 0, "the server's message")
    end)

    T.test(n .. "a connection killed by the server; the pool recovers",
           function()
      local e = create_engine(db.url)
      local victim = e:connect()
      local pid_sql = db.name == "postgresql" and "SELECT pg_backend_pid()"
                      or "SELECT CONNECTION_ID()"
      local pid = victim:exec_driver_sql(pid_sql):scalar()
      victim:commit()
      do
        local killer <close> = e:connect()
        if db.name == "postgresql" then
          killer:exec_driver_sql("SELECT pg_terminate_backend(" .. pid .. ")")
        else
          killer:exec_driver_sql("KILL " .. pid)
        end
        killer:commit()
      end
      local err = T.raises("OperationalError", function()
        victim:exec_driver_sql("SELECT 1")
      end)
      T.ok(err:isa("DBAPIError"))
      victim:close()
      -- the dead connection is not handed out again
      for _ = 1, 3 do
        local c <close> = e:connect()
        T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
      end
      e:dispose()
    end)
  end

  T.test(n .. "errors inside a transaction: rollback makes it usable",
         function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_fault")
    c:exec_driver_sql("CREATE TABLE rt_fault (x INTEGER PRIMARY KEY)")
    c:commit()
    c:exec_driver_sql("INSERT INTO rt_fault VALUES (1)")
    T.raises(db.name == "sqlite" and "OperationalError" or "ProgrammingError",
             function()
      c:exec_driver_sql("SELEC oops")
    end)
    c:rollback()
    T.eq(c:exec_driver_sql("SELECT count(*) FROM rt_fault"):scalar(), 0)
    -- a failed executemany writes nothing once rolled back
    local ins = "INSERT INTO rt_fault VALUES (" .. T.ph(db.name, 1) .. ")"
    T.raises("IntegrityError", function()
      c:exec_driver_sql(ins, {{1}, {2}, {2}, {3}})
    end)
    c:rollback()
    T.eq(c:exec_driver_sql("SELECT count(*) FROM rt_fault"):scalar(), 0)
    c:exec_driver_sql("DROP TABLE rt_fault")
    c:commit()
  end)
end

T.done()
