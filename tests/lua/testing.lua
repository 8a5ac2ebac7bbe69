-- testing.lua -- the assertion helper for retort's Lua tests.
--
--   local T = require "testing"
--   T.test("name", function() T.eq(actual, expected) end)
--   T.done()            -- prints "N passed, N failed, N skipped", exits
--
-- Failures report the file:line of the failing assertion in the test, and
-- the expected and actual values.

local T = {}
local passed, failed, skipped = 0, 0, 0
local current = nil

local function repr(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" or depth > 3 then return tostring(v) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  local parts, n = {}, #v
  for i = 1, n do parts[#parts + 1] = repr(v[i], depth + 1) end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    parts[#parts + 1] = tostring(k) .. " = " .. repr(v[k], depth + 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
T.repr = repr

local function deepeq(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  if math.type(a) ~= math.type(b) then return false end
  for k, v in pairs(a) do if not deepeq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
T.deepeq = deepeq

-- where the assertion was called from (the first frame outside this file)
local function where()
  for level = 3, 20 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if not info.short_src:match("testing%.lua$") and info.currentline > 0 then
      return info.short_src .. ":" .. info.currentline
    end
  end
  return "?"
end

local function fail(msg)
  error({testing_failure = true, msg = where() .. ": " .. msg}, 0)
end

function T.eq(actual, expected, what)
  -- integers and floats are different things here (1 vs 1.0)
  local same = deepeq(actual, expected)
  if same and type(actual) == "number" and type(expected) == "number" then
    same = math.type(actual) == math.type(expected)
  end
  if not same then
    fail((what and (what .. ": ") or "") .. "expected " .. repr(expected) ..
         ", got " .. repr(actual))
  end
end

function T.ok(v, what)
  if not v then fail(what or "expected a true value, got " .. repr(v)) end
  return v
end

function T.match(s, pattern, what)
  if type(s) ~= "string" or not s:find(pattern) then
    fail((what and (what .. ": ") or "") .. "expected text matching " ..
         repr(pattern) .. ", got " .. repr(s))
  end
end

-- Call fn(...) and expect a retort error of `kind` (a SQLAlchemy class
-- name, matched with err:isa). Returns the error object.
function T.raises(kind, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then fail("expected " .. kind .. ", but no error was raised") end
  if type(err) ~= "table" or type(err.isa) ~= "function" then
    fail("expected " .. kind .. ", got a plain error: " .. tostring(err))
  end
  if not err:isa(kind) then
    fail("expected " .. kind .. ", got " .. tostring(err.kind) .. ": " ..
         tostring(err.message))
  end
  return err
end

function T.test(name, fn)
  current = name
  local ok, err = xpcall(fn, function(e)
    if type(e) == "table" and e.testing_failure then return e.msg end
    return debug.traceback(tostring(e), 2)
  end)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAIL ", name, "\n  ", tostring(err), "\n")
  end
  current = nil
end

function T.skip(name, why)
  skipped = skipped + 1
  io.stdout:write("SKIP ", name, ": ", why, "\n")
end

-- The databases to run against: SQLite always; PostgreSQL and MariaDB when
-- RETORT_TEST_PG / RETORT_TEST_MYSQL are set (scripts/test-servers sets
-- them).  Each entry: {name = "sqlite", url = ...}.
function T.databases()
  local dbs = {{name = "sqlite", url = "sqlite://"}}
  for _, d in ipairs({{"postgresql", "RETORT_TEST_PG"},
                      {"mysql", "RETORT_TEST_MYSQL"}}) do
    local url = os.getenv(d[2])
    if url and url ~= "" then
      dbs[#dbs + 1] = {name = d[1], url = url}
    else
      T.skip(d[1], d[2] .. " is not set")
    end
  end
  return dbs
end

-- Placeholder i in the driver's own style (for exec_driver_sql).
function T.ph(dialect, i)
  if dialect == "postgresql" then return "$" .. i end
  return "?"
end

-- The SQL text of each statement the engine runs, in order, in a list
-- (T.clear empties it between steps).
function T.capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql) log[#log + 1] = sql end)
  return log
end

function T.clear(log) for i = #log, 1, -1 do log[i] = nil end end

-- SQL as SQLite's: PostgreSQL's placeholders are $n, MariaDB writes INNER
-- JOIN.
function T.norm(sql)
  return (sql:gsub("%$%d+", "?"):gsub("INNER JOIN", "JOIN"))
end

function T.done()
  local script = arg and arg[0] or "?"
  io.stdout:write(string.format("%s: %d passed, %d failed, %d skipped\n",
                                script, passed, failed, skipped))
  io.stdout:flush()
  os.exit(failed > 0 and 1 or 0)
end

return T
