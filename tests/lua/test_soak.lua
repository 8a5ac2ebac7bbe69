-- The soak (scripts/soak.lua) in a short run on every database: 20k mixed
-- ORM operations whose rows must match the script's own account, and whose
-- resident memory must stay flat after the warm-up.  scripts/soak runs the
-- full million.
local T = require "testing"

local src = assert(os.getenv("RETORT_TEST_SRC"), "RETORT_TEST_SRC is not set")
local soak = dofile(src .. "/scripts/soak.lua")
-- the sanitizers hold freed memory in quarantine, so RSS grows by design
-- there; they check for leaks themselves
local sanitized = os.getenv("RETORT_SANITIZED") ~= nil

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": 20k mixed ORM operations", function()
    local lines = {}
    local r = soak.run(db.url, {ops = 20000, check_rss = not sanitized,
                                log = function(l) lines[#lines + 1] = l end})
    T.eq(#r.series, 10, "an RSS sample every 2000 operations")
    T.eq(r.users, r.expected.users)
    T.eq(r.addresses, r.expected.addresses)
    T.eq(r.visits, r.expected.visits)
    T.ok(r.users > 0 and r.addresses > 0 and r.visits > 0,
         "something was left to count")
    for _, kind in ipairs({"insert", "query", "update", "delete", "load"}) do
      T.ok(r.kinds[kind] > 1000, kind .. ": " .. r.kinds[kind])
    end
    T.match(lines[#lines], "^done: 20000 ops")
  end)
end

T.test("sqlite: a row changed behind the soak's back is caught", function()
  local path = os.tmpname()
  local url = "sqlite:///" .. path
  -- the same seed gives the same run; a trigger drops every 50th address
  -- as it is written, which the final count must notice
  local e = create_engine(url)
  local ok, err = pcall(soak.run, url, {ops = 2000, quiet = true,
    after_create = function(engine)
      local c <close> = engine:connect()
      c:exec_driver_sql([[CREATE TRIGGER soak_lose AFTER INSERT ON
        soak_address WHEN new.id % 50 = 0
        BEGIN DELETE FROM soak_address WHERE id = new.id; END]])
      c:commit()
    end})
  e:dispose()
  os.remove(path)
  T.eq(ok, false)
  T.match(tostring(err), "^soak: ")
end)

T.done()
