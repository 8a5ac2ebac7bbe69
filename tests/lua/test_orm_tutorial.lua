-- The ORM tutorial script prints what SQLAlchemy prints for the same steps
-- (scripts/tutorial/orm_tutorial.expected, made by orm_tutorial.py).
local T = require "testing"

local src = os.getenv("RETORT_TEST_SRC") or "."
local dir = src .. "/scripts/tutorial/"

T.test("orm tutorial output matches SQLAlchemy's", function()
  local out = {}
  local real_print = print
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    out[#out + 1] = table.concat(parts, "\t")
  end
  local ok, err = pcall(dofile, dir .. "orm_tutorial.lua")
  print = real_print
  T.ok(ok, tostring(err))
  local expected = {}
  for line in io.lines(dir .. "orm_tutorial.expected") do
    expected[#expected + 1] = line
  end
  for i = 1, math.max(#out, #expected) do
    T.eq(out[i], expected[i], "line " .. i)
  end
end)

T.done()
