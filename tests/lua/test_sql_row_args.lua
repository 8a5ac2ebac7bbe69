-- A Row (values by position and by name) is a tuple, as SQLAlchemy's
-- Row is: statement builders that take keyword arguments refuse it
-- (SQLAlchemy raises for the positional argument), case() takes it as
-- one (condition, value) pair, never as a map of its names.  Expected
-- text from SQLAlchemy 1.4.46.
local T = require "testing"

local md = MetaData()
local t = Table("rowarg_t", md, Column("a", Integer), Column("b", String(10)))

local function kind(f)
  local ok, e = pcall(f)
  if ok then return "no error" end
  return type(e) == "table" and e.kind or tostring(e)
end

for _, db in ipairs(T.databases()) do
  T.test("Row arguments on " .. db.name, function()
    local engine = create_engine(db.url)
    local conn <close> = engine:connect()
    conn:exec_driver_sql("DROP TABLE IF EXISTS rowarg_t")
    md:create_all(conn)
    conn:execute(insert(t), {{a = 1, b = "x"}, {a = 2, b = "y"}})
    local row = conn:execute(select(t.c.a, t.c.b):where(t.c.a:eq(1))):one()
    -- filter_by: a Row is refused, its _mapping is keyword arguments
    T.eq(kind(function() return select(t):filter_by(row) end), "ArgumentError")
    local ok, e = pcall(function() return select(t):filter_by(row) end)
    T.ok(not ok and e.message:find("not a Row", 1, true), e)
    local stmt = select(t):filter_by(row._mapping)
    T.eq(tostring(stmt), "SELECT rowarg_t.a, rowarg_t.b \nFROM rowarg_t \n" ..
         "WHERE rowarg_t.a = :a_1 AND rowarg_t.b = :b_1")
    T.eq(conn:execute(stmt):all()[1]._fields, {"a", "b"})
    T.eq(#conn:execute(stmt):all(), 1)
    local s = orm.Session(conn)
    T.eq(kind(function() return s:query(t):filter_by(row) end), "ArgumentError")
    s:close()
    -- case(row, {value}): the Row is one WHEN pair, (1, 'x')
    local c = case(row, {value = t.c.a, else_ = "z"})
    T.eq(tostring(c), "CASE rowarg_t.a WHEN :param_1 THEN :param_2 ELSE :param_3 END")
    T.eq(conn:execute(select(c):order_by(t.c.a)):scalars():all(), {"x", "z"})
    -- not a map of its names: a Row of another length is no pair
    local row3 = conn:execute(text("SELECT 1 AS a, 2 AS b, 3 AS c")):one()
    local row1 = conn:execute(text("SELECT 1 AS a")):one()
    T.eq(kind(function() return case(row3, {value = t.c.a}) end), "ArgumentError")
    T.eq(kind(function() return case(row1, {value = t.c.a}) end), "ArgumentError")
    -- schema constructors take no Row as their options table
    T.eq(kind(function() return Table("rowarg_q", MetaData(), Column("a", Integer), row) end),
         "ArgumentError")
    T.eq(kind(function() return Column("a", Integer, row) end), "ArgumentError")
    T.eq(kind(function() return MetaData(row) end), "ArgumentError")
    conn:rollback()
    md:drop_all(conn)
    conn:commit()
  end)
end

T.done()
