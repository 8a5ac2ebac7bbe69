-- Crashes found by fuzzing (scripts/fuzz), each kept as a test; the
-- inputs themselves are in tests/fuzz/corpus.  Expectations were checked
-- against SQLAlchemy 1.4.
local T = require "testing"

-- found by fuzz_lua_api: a Column not yet named, printed or compiled,
-- passed NULL to the identifier quoting
T.test("a Column without a name in its string form", function()
  T.eq(tostring(Column(Integer)), "(no name)")
  T.eq(tostring(select(Column(Integer))), 'SELECT "<name unknown>"')
  T.eq(tostring(Column(Integer):eq(5)), '"<name unknown>" = :param_1')
end)

T.test("a Column without a name does not compile for a database", function()
  local e = create_engine("sqlite://")
  for _, dialect in ipairs({"sqlite", "postgresql", "mysql"}) do
    local err = T.raises("CompileError", function()
      return select(Column(Integer)):compile(dialect)
    end)
    T.eq(err.message,
         "Cannot compile Column object until its 'name' is assigned.")
  end
  local c <close> = e:connect()
  T.raises("CompileError", function()
    return c:execute(select(Column(JSON)))
  end)
  -- the connection is still good
  T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
end)

T.done()
