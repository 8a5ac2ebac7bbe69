-- Small behaviours matched to SQLAlchemy 1.4: NOT of a Boolean column
-- without a native boolean type, URL.set, DDL of a column without a type.
local T = require "testing"

local m = MetaData()
local t = Table("misc_flags", m, Column("id", Integer, {primary_key = true}),
                Column("flag", Boolean))

T.test("NOT of a Boolean column is a comparison with 0 in every clause",
       function()
  -- SQLAlchemy: str(select(~t.c.flag).compile(dialect=mysql.dialect()))
  for _, d in ipairs{"mysql", "sqlite"} do
    T.eq(select(~t.c.flag):compile(d).sql,
         "SELECT misc_flags.flag = 0 AS flag \nFROM misc_flags", d)
    T.eq(select(t.c.id, not_(t.c.flag):label("nf")):compile(d).sql,
         "SELECT misc_flags.id, misc_flags.flag = 0 AS nf \nFROM misc_flags",
         d)
    T.eq(select(t.c.id):where(~t.c.flag):compile(d).sql,
         "SELECT misc_flags.id \nFROM misc_flags \nWHERE misc_flags.flag = 0",
         d)
    T.eq(select(t.c.id):where(t.c.flag):compile(d).sql,
         "SELECT misc_flags.id \nFROM misc_flags \nWHERE misc_flags.flag = 1",
         d)
    T.eq(select(t.c.id):where(not_(and_(t.c.flag, t.c.id:gt(1))))
           :compile(d).sql,
         "SELECT misc_flags.id \nFROM misc_flags \n" ..
         "WHERE NOT (misc_flags.flag = 1 AND misc_flags.id > ?)", d)
  end
  -- PostgreSQL has a boolean type: NOT stays
  T.eq(select(~t.c.flag):compile("postgresql").sql,
       "SELECT NOT misc_flags.flag AS flag \nFROM misc_flags")
end)

T.test("CREATE TABLE of a column without a type is a CompileError",
       function()
  local m2 = MetaData()
  local nt = Table("misc_untyped", m2, Column("x"), Column("y", Integer))
  local msg = "(in table 'misc_untyped', column 'x'): Can't generate DDL " ..
              "for NullType(); did you forget to specify a type on this Column?"
  for _, d in ipairs{"sqlite", "postgresql", "mysql"} do
    local err = T.raises("CompileError", function()
      return CreateTable(nt):compile(d)
    end)
    T.eq(err.message, msg, d)
  end
  -- the default string form shows it as NULL
  T.eq(tostring(CreateTable(nt)),
       "\nCREATE TABLE misc_untyped (\n\tx NULL, \n\ty INTEGER\n)\n\n")
  local e = create_engine("sqlite://")
  T.raises("CompileError", function() m2:create_all(e) end)
  T.eq(inspect(e):get_table_names(), {})
end)

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": NOT of a Boolean column selects and filters",
         function()
    local e = create_engine(db.url)
    m:drop_all(e)
    m:create_all(e)
    local conn <close> = e:connect()
    conn:execute(insert(t), {{id = 1, flag = true}, {id = 2, flag = false}})
    T.eq(conn:execute(select(t.c.id):where(~t.c.flag)):scalars():all(), {2})
    local rows = conn:execute(select(t.c.id, (~t.c.flag):label("nf"))
                                :order_by(t.c.id)):all()
    T.eq(#rows, 2)
    T.ok(not rows[1].nf and rows[2].nf, "NOT flag values")
    conn:rollback()
    m:drop_all(e)
  end)
end

T.done()
