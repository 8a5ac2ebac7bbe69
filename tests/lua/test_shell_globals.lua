-- The binary's globals: the two modules, their public names, and Lua's
-- standard library left intact.
local T = require "testing"

T.test("modules are globals and the same as require's", function()
  T.eq(type(sa), "table")
  T.eq(type(orm), "table")
  T.ok(require("retort") == sa, "require 'retort' is sa")
  T.ok(require("retort.orm") == orm, "require 'retort.orm' is orm")
  T.eq(sa.__version__, "0.1.0")
end)

T.test("public names are globals", function()
  T.ok(create_engine == sa.create_engine)
  T.ok(null == sa.null)
  T.eq(tostring(null), "null")
  T.eq(type(exc.IntegrityError), "table")
end)

T.test("Lua's select keeps working", function()
  T.eq(select("#", 1, nil, 3), 3)
  T.eq(select(2, "a", "b", "c"), "b")
  T.eq(select(-1, "a", "b"), "b")
  T.eq(select("#"), 0)
end)

T.test("the standard library is not shadowed", function()
  T.eq(type(table.concat), "function")
  T.eq(type(string.format), "function")
  T.eq(table.concat({1, 2}, ","), "1,2")
end)

T.test("engine is an in-memory SQLite database by default", function()
  T.eq(engine.dialect.name, "sqlite")
  T.eq(tostring(engine.url), "sqlite://")
  local c <close> = engine:connect()
  T.eq(c:exec_driver_sql("select 1 + 1"):scalar(), 2)
end)

T.test("arg holds the script and its arguments", function()
  T.match(arg[0], "test_shell_globals%.lua$")
  T.eq(arg[1], nil)
end)

T.done()
