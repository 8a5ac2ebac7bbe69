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

T.test("URL.set replaces parts as SQLAlchemy's URL.set", function()
  local u = create_engine("postgresql://a:b@h/d?x=1").url
  local function full(kw) return u:set(kw):render_as_string(false) end
  -- expectations: make_url(...).set(...).render_as_string(hide_password=False)
  T.eq(full{password = "p@ss:/w"}, "postgresql://a:p%40ss%3A%2Fw@h/d?x=1")
  T.eq(u:set{password = "p@ss:/w"}.password, "p@ss:/w")
  T.eq(tostring(u:set{password = "x"}), "postgresql://a:***@h/d?x=1")
  T.eq(full{password = ""}, "postgresql://a:@h/d?x=1")
  T.eq(full{password = 5}, "postgresql://a:5@h/d?x=1")
  T.eq(full{port = "5"}, "postgresql://a:b@h:5/d?x=1")
  T.eq(u:set{port = "5"}.port, 5)
  T.eq(full{host = "z", port = 1}, "postgresql://a:b@z:1/d?x=1")
  T.eq(full{query = {a = "1"}}, "postgresql://a:b@h/d?a=1")
  T.eq(full{query = {b = {"1", "2"}, a = "x"}},
       "postgresql://a:b@h/d?a=x&b=1&b=2")
  T.eq(u:set{query = {b = {"1", "2"}}}.query.b, {"1", "2"})
  T.eq(full{drivername = "mysql+pymysql", host = "z", database = "e"},
       "mysql+pymysql://a:b@z/e?x=1")
  -- the URL itself is unchanged
  T.eq(u:render_as_string(false), "postgresql://a:b@h/d?x=1")
  T.raises("ArgumentError", function() u:set{bogus = 1} end)
  T.raises("ArgumentError", function() u:set{port = "x"} end)
  -- only the password may be other than a string, as in SQLAlchemy
  local err = T.raises("ArgumentError", function() u:set{host = 5} end)
  T.eq(err.message, "host must be a string")
  err = T.raises("ArgumentError", function() u:set{query = {a = {1}}} end)
  T.eq(err.message,
       "Query dictionary values must be strings or sequences of strings")
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

  if db.name == "postgresql" then
    T.test(db.name .. ": enum and domain columns reflect as SQLAlchemy's",
           function()
      local e = create_engine(db.url)
      local c <close> = e:connect()
      local function run(list)
        for _, sql in ipairs(list) do c:exec_driver_sql(sql) end
        c:commit()
      end
      local drop = {"DROP TABLE IF EXISTS misc_enr",
                    "DROP TYPE IF EXISTS misc_mood",
                    "DROP DOMAIN IF EXISTS misc_posint",
                    "DROP DOMAIN IF EXISTS misc_vc"}
      run(drop)
      run{"CREATE TYPE misc_mood AS ENUM ('a', 'b''c')",
          "CREATE DOMAIN misc_posint AS integer NOT NULL DEFAULT 3 " ..
          "CHECK (VALUE > 0)",
          "CREATE DOMAIN misc_vc AS varchar(20)",
          "CREATE TABLE misc_enr (m misc_mood, p misc_posint, v misc_vc, " ..
          "ma misc_mood[])"}
      -- SQLAlchemy: m ENUM('a', "b'c", name='misc_mood') (str VARCHAR(3)),
      -- p INTEGER NOT NULL DEFAULT 3, v VARCHAR(), ma ARRAY(ENUM(...))
      local cols = inspect(e):get_columns("misc_enr")
      T.eq(tostring(cols[1].type), "VARCHAR(3)")
      T.eq(cols[1].type.enums, {"a", "b'c"})
      T.eq(cols[1].nullable, true)
      T.eq(tostring(cols[2].type), "INTEGER")
      T.eq({cols[2].nullable, cols[2].default}, {false, "3"})
      T.eq(tostring(cols[3].type), "VARCHAR")
      T.eq(tostring(cols[4].type), "ARRAY")
      local t = Table("misc_enr", MetaData(), {autoload_with = e})
      T.eq(CreateTable(t):compile("postgresql").sql,
           "\nCREATE TABLE misc_enr (\n\tm misc_mood, \n" ..
           "\tp INTEGER DEFAULT 3 NOT NULL, \n\tv VARCHAR, \n" ..
           "\tma misc_mood[]\n)\n\n")
      run(drop)
    end)
  end
end

T.done()
