-- Engine-layer names beyond the basics (Result:columns/freeze/yield_per,
-- Connection transaction accessors, pool status, Inspector extras), each
-- checked against SQLAlchemy 1.4 and run on every database the environment
-- provides.
local T = require "testing"

local function setup(db)
  local e = create_engine(db.url)
  local c = e:connect()
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_more")
  c:exec_driver_sql("CREATE TABLE rt_more (x INTEGER, y VARCHAR(10), " ..
                    "z INTEGER)")
  c:exec_driver_sql("INSERT INTO rt_more (x, y, z) VALUES " ..
                    "(1, 'a', 10), (2, 'b', 20)")
  c:commit()
  return e, c
end

local SEL = "SELECT x, y, z FROM rt_more ORDER BY x"

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "Result:columns picks and reorders columns", function()
    local e, c <close> = setup(db)
    local r = c:execute(text(SEL)):columns("z", 1)
    T.eq(r:keys(), {"z", "x"})
    local rows = r:all()
    T.eq(tostring(rows[1]), "(10, 1)")
    T.eq(rows[2].x, 2)
    T.eq(c:execute(text(SEL)):columns("y"):scalars():all(), {"a", "b"})
    -- both read one cursor, as SQLAlchemy's share it
    local base = c:execute(text(SEL))
    local cols = base:columns("y", "x")
    T.eq(tostring(cols:fetchone()), "('a', 1)")
    T.eq(tostring(base:fetchone()), "(2, 'b', 20)")
    T.eq(cols:fetchone(), nil)
    T.raises("NoSuchColumnError", function()
      c:execute(text(SEL)):columns("nope")
    end)
    T.raises("ArgumentError", function() c:execute(text(SEL)):columns(4) end)
    e:dispose()
  end)

  T.test(n .. "Result:freeze gives Results of the same rows", function()
    local e, c <close> = setup(db)
    local f = c:execute(text(SEL)):freeze()
    T.eq(#f.data, 2)
    T.eq(tostring(f.data[2]), "(2, 'b', 20)")
    T.eq(tostring(f():all()[1]), "(1, 'a', 10)")
    T.eq(f():keys(), {"x", "y", "z"})
    T.eq(f():scalars():all(), {1, 2})
    T.eq(f():first().y, "a")
    T.raises("MultipleResultsFound", function() f():one() end)
    local r = f()
    r:close()
    T.raises("ResourceClosedError", function() r:all() end)
    T.eq(#f():all(), 2)
    e:dispose()
  end)

  T.test(n .. "Result:tuples, .t and yield_per return the Result", function()
    local e, c <close> = setup(db)
    local r = c:execute(text(SEL))
    T.ok(rawequal(r:tuples(), r))
    T.ok(rawequal(r.t, r))
    T.ok(rawequal(r:yield_per(1), r))
    -- yield_per sets partitions()' default size
    local sizes = {}
    for p in r:partitions() do sizes[#sizes + 1] = #p end
    T.eq(sizes, {1, 1})
    T.raises("ArgumentError", function() c:execute(text(SEL)):yield_per(0) end)
    e:dispose()
  end)
end

T.done()
