-- Fidelity of the schema layer with SQLAlchemy 1.4: which column is the
-- autoincrement column (PrimaryKeyConstraint._autoincrement_column) and
-- how each dialect renders it, reflected serials, MySQL SET values.
-- Expected text comes from SQLAlchemy's own output for the same
-- constructs (white space runs collapsed).
local T = require "testing"

local function norm(s) return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")) end

local ddl_cases = {
  ["a"] = {sqlite = "CREATE TABLE a ( id INTEGER DEFAULT 1 NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE a ( id INTEGER DEFAULT 1 NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE a ( id INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (id) )"},
  ["b"] = {sqlite = "CREATE TABLE b ( id INTEGER NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE b ( id INTEGER NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE b ( id INTEGER NOT NULL, PRIMARY KEY (id) )"},
  ["c"] = {sqlite = "CREATE TABLE c ( id INTEGER DEFAULT 1 NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE c ( id SERIAL NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE c ( id INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (id) )"},
  ["d"] = {sqlite = "CREATE TABLE d ( id INTEGER NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE d ( id INTEGER NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE d ( id INTEGER NOT NULL, PRIMARY KEY (id) )"},
  ["e"] = {sqlite = "CREATE TABLE e ( id INTEGER NOT NULL, x INTEGER NOT NULL, PRIMARY KEY (id, x) )", postgresql = "CREATE TABLE e ( id INTEGER NOT NULL, x INTEGER NOT NULL, PRIMARY KEY (id, x) )", mysql = "CREATE TABLE e ( id INTEGER NOT NULL, x INTEGER NOT NULL, PRIMARY KEY (id, x) )"},
  ["f"] = {sqlite = {'CompileError', "(in table 'f', column 'id'): SQLite does not support autoincrement for composite primary keys"}, postgresql = "CREATE TABLE f ( id SERIAL NOT NULL, x INTEGER NOT NULL, PRIMARY KEY (id, x) )", mysql = "CREATE TABLE f ( id INTEGER NOT NULL AUTO_INCREMENT, x INTEGER NOT NULL, PRIMARY KEY (id, x) )"},
  ["g"] = {sqlite = "CREATE TABLE g ( id VARCHAR(10) NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE g ( id VARCHAR(10) NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE g ( id VARCHAR(10) NOT NULL, PRIMARY KEY (id) )"},
  ["h"] = {sqlite = "CREATE TABLE h ( id INTEGER NOT NULL, PRIMARY KEY (id), FOREIGN KEY(id) REFERENCES a (id) )", postgresql = "CREATE TABLE h ( id INTEGER NOT NULL, PRIMARY KEY (id), FOREIGN KEY(id) REFERENCES a (id) )", mysql = "CREATE TABLE h ( id INTEGER NOT NULL, PRIMARY KEY (id), FOREIGN KEY(id) REFERENCES a (id) )"},
  ["i"] = {sqlite = "CREATE TABLE i ( id INTEGER NOT NULL, PRIMARY KEY (id), FOREIGN KEY(id) REFERENCES a (id) )", postgresql = "CREATE TABLE i ( id SERIAL NOT NULL, PRIMARY KEY (id), FOREIGN KEY(id) REFERENCES a (id) )", mysql = "CREATE TABLE i ( id INTEGER NOT NULL AUTO_INCREMENT, PRIMARY KEY (id), FOREIGN KEY(id) REFERENCES a (id) )"},
  ["j"] = {sqlite = "CREATE TABLE j ( id INTEGER NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE j ( id SERIAL NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE j ( id INTEGER NOT NULL AUTO_INCREMENT, PRIMARY KEY (id) )"},
  ["k"] = {sqlite = "CREATE TABLE k ( id BIGINT DEFAULT 7 NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE k ( id BIGINT DEFAULT 7 NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE k ( id BIGINT NOT NULL DEFAULT 7, PRIMARY KEY (id) )"},
  ["l"] = {sqlite = {'CompileError', "(in table 'l', column 'x'): SQLite does not support autoincrement for composite primary keys"}, postgresql = "CREATE TABLE l ( id INTEGER NOT NULL, x SERIAL NOT NULL, PRIMARY KEY (x, id) )", mysql = "CREATE TABLE l ( id INTEGER NOT NULL, x INTEGER NOT NULL AUTO_INCREMENT, PRIMARY KEY (x, id) )"},
  ["m"] = {sqlite = {'CompileError', "(in table 'm', column 'x'): SQLite does not support autoincrement for composite primary keys"}, postgresql = "CREATE TABLE m ( id INTEGER NOT NULL, x SERIAL NOT NULL, PRIMARY KEY (id, x) )", mysql = "CREATE TABLE m ( id INTEGER NOT NULL, x INTEGER NOT NULL AUTO_INCREMENT, PRIMARY KEY (id, x) )"},
  ["o"] = {sqlite = "CREATE TABLE o ( id NUMERIC(10, 0) NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE o ( id SERIAL NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE o ( id NUMERIC(10, 0) NOT NULL AUTO_INCREMENT, PRIMARY KEY (id) )"},
  ["p"] = {sqlite = "CREATE TABLE p ( id INTEGER NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE p ( id INTEGER NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE p ( id INTEGER NOT NULL, PRIMARY KEY (id) )"},
  ["q"] = {sqlite = "CREATE TABLE q ( id INTEGER DEFAULT '3' NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE q ( id INTEGER DEFAULT '3' NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE q ( id INTEGER NOT NULL DEFAULT '3', PRIMARY KEY (id) )"},
  ["r"] = {sqlite = "CREATE TABLE r ( id INTEGER NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE r ( id SERIAL NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE r ( id INTEGER NOT NULL, PRIMARY KEY (id) )"},
  ["s"] = {sqlite = {'ArgumentError', "Column type VARCHAR(5) on column 's.id' is not compatible with autoincrement=True"}, postgresql = {'ArgumentError', "Column type VARCHAR(5) on column 's.id' is not compatible with autoincrement=True"}, mysql = {'ArgumentError', "Column type VARCHAR(5) on column 's.id' is not compatible with autoincrement=True"}},
  ["w"] = {sqlite = "CREATE TABLE w ( id SMALLINT DEFAULT 2 NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE w ( id SMALLSERIAL NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE w ( id SMALLINT NOT NULL DEFAULT 2, PRIMARY KEY (id) )"},
  ["y"] = {sqlite = "CREATE TABLE y ( id INTEGER NOT NULL, PRIMARY KEY (id) )", postgresql = "CREATE TABLE y ( id INTEGER NOT NULL, PRIMARY KEY (id) )", mysql = "CREATE TABLE y ( id INTEGER NOT NULL AUTO_INCREMENT, PRIMARY KEY (id) )"},
  ["z"] = {sqlite = {'CompileError', "(in table 'z', column 'id'): SQLite does not support autoincrement for composite primary keys"}, postgresql = "CREATE TABLE z ( id SERIAL NOT NULL, v INTEGER NOT NULL, PRIMARY KEY (id, v), FOREIGN KEY(id) REFERENCES a (id), FOREIGN KEY(v) REFERENCES a (id) )", mysql = "CREATE TABLE z ( id INTEGER NOT NULL AUTO_INCREMENT, v INTEGER NOT NULL, PRIMARY KEY (id, v), FOREIGN KEY(id) REFERENCES a (id), FOREIGN KEY(v) REFERENCES a (id) )"},
}

local function ddl_tables()
  local md = MetaData()
  return {
    a = Table("a", md, Column("id", Integer, {primary_key = true, server_default = text("1")})),
    b = Table("b", md, Column("id", Integer, {primary_key = true, server_default = FetchedValue()})),
    c = Table("c", md, Column("id", Integer, {primary_key = true, autoincrement = true,
                                              server_default = text("1")})),
    d = Table("d", md, Column("id", Integer, {primary_key = true, autoincrement = false})),
    e = Table("e", md, Column("id", Integer, {primary_key = true}),
              Column("x", Integer, {primary_key = true})),
    f = Table("f", md, Column("id", Integer, {primary_key = true, autoincrement = true}),
              Column("x", Integer, {primary_key = true})),
    g = Table("g", md, Column("id", String(10), {primary_key = true})),
    h = Table("h", md, Column("id", Integer, ForeignKey("a.id"), {primary_key = true})),
    i = Table("i", md, Column("id", Integer, ForeignKey("a.id"),
                              {primary_key = true, autoincrement = "ignore_fk"})),
    j = Table("j", md, Column("id", Integer, {primary_key = true, autoincrement = "auto"})),
    k = Table("k", md, Column("id", BigInteger, {primary_key = true, server_default = text("7")})),
    l = Table("l", md, Column("id", Integer, {primary_key = true}),
              Column("x", Integer, {primary_key = true, autoincrement = true})),
    m = Table("m", md, Column("id", Integer, {primary_key = true}),
              Column("x", Integer, {primary_key = true, autoincrement = true}),
              PrimaryKeyConstraint("id", "x")),
    o = Table("o", md, Column("id", Numeric(10, 0), {primary_key = true})),
    p = Table("p", md, Column("id", Integer, {primary_key = true, default = 5})),
    q = Table("q", md, Column("id", Integer, {primary_key = true, autoincrement = "ignore_fk",
                                              server_default = "3"})),
    r = Table("r", md, Column("id", Integer, {primary_key = true, autoincrement = true,
                                              server_default = FetchedValue()})),
    s = Table("s", md, Column("id", String(5), {primary_key = true, autoincrement = true})),
    w = Table("w", md, Column("id", SmallInteger, {primary_key = true, autoincrement = true,
                                                   server_default = text("2")})),
    y = Table("y", md, Column("id", Integer, Sequence("y_seq"), {primary_key = true})),
    z = Table("z", md, Column("id", Integer, ForeignKey("a.id"),
                              {primary_key = true, autoincrement = true}),
              Column("v", Integer, ForeignKey("a.id"), {primary_key = true})),
  }
end

T.test("autoincrement column and its DDL on each dialect", function()
  local tables = ddl_tables()
  local names = {}
  for name in pairs(ddl_cases) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    for dialect, want in pairs(ddl_cases[name]) do
      local what = name .. " on " .. dialect
      if type(want) == "table" then
        local err = T.raises(want[1], function()
          return CreateTable(tables[name]):compile(dialect)
        end)
        T.eq(err.message, want[2], what)
      else
        T.eq(norm(CreateTable(tables[name]):compile(dialect).sql), want, what)
      end
    end
  end
end)

T.test("autoincrement option values", function()
  local md = MetaData()
  local t = Table("t", md, Column("a", Integer, {primary_key = true, autoincrement = "ignore_fk"}),
                  Column("b", Integer, {autoincrement = true}),
                  Column("c", Integer, {autoincrement = false}), Column("d", Integer))
  T.eq(t.c.a.autoincrement, "ignore_fk")
  T.eq(t.c.b.autoincrement, true)
  T.eq(t.c.c.autoincrement, false)
  T.eq(t.c.d.autoincrement, "auto")
  T.raises("ArgumentError", Column, "x", Integer, {autoincrement = "yes"})
end)

-- inserted_primary_key of a key the server fills: RETURNING brings back a
-- server default's value (PostgreSQL); without RETURNING only the
-- autoincrement column's lastrowid is known (SQLAlchemy's None otherwise)
local pk_expect = {
  sqlite = {{nil}, {1}, {1}},
  postgresql = {{5}, {1}, {1}},
  mysql = {{nil}, {1}, {1}},
}

for _, db in ipairs(T.databases()) do
  T.test("inserted_primary_key of server-made keys on " .. db.name, function()
    local e = create_engine(db.url)
    local md = MetaData()
    local sd = Table("fid_sd", md,
      Column("id", Integer, {primary_key = true, server_default = text("5")}),
      Column("x", Integer))
    -- MySQL cannot give an AUTO_INCREMENT column a default
    local sd2 = Table("fid_sd2", md,
      Column("id", Integer, {primary_key = true, autoincrement = true,
        server_default = db.name ~= "mysql" and text("7") or nil}),
      Column("x", Integer))
    local sd3 = Table("fid_sd3", md, Column("id", Integer, {primary_key = true}),
                      Column("x", Integer))
    md:drop_all(e)
    md:create_all(e)
    local got = {}
    e:begin(function(c)
      for i, t in ipairs{sd, sd2, sd3} do
        local k = c:execute(insert(t):values{x = 1}).inserted_primary_key
        got[i] = {k[1]}
        T.eq(#k, 1)
      end
    end)
    md:drop_all(e)
    e:dispose()
    T.eq(got, pk_expect[db.name])
  end)

  if db.name == "postgresql" then
    T.test("a reflected serial creates as SERIAL", function()
      local e = create_engine(db.url)
      local c = e:connect()
      c:exec_driver_sql("DROP TABLE IF EXISTS fid_ser")
      c:exec_driver_sql("CREATE TABLE fid_ser (id SERIAL PRIMARY KEY, " ..
                        "b BIGSERIAL, n INTEGER DEFAULT 3)")
      c:commit()
      local t = Table("fid_ser", MetaData(), {autoload_with = e})
      T.eq(t.c.id.autoincrement, true)
      T.eq(t.c.b.autoincrement, true)
      T.eq(norm(CreateTable(t):compile(e).sql),
           "CREATE TABLE fid_ser ( id SERIAL NOT NULL, b BIGINT DEFAULT " ..
           "nextval('fid_ser_b_seq'::regclass) NOT NULL, n INTEGER DEFAULT 3, " ..
           "CONSTRAINT fid_ser_pkey PRIMARY KEY (id) )")
      T.eq(c:execute(insert(t):values{n = 5}).inserted_primary_key[1], 1)
      c:exec_driver_sql("DROP TABLE fid_ser")
      c:commit()
      c:close()
      e:dispose()
    end)
  end

  if db.name == "mysql" then
    T.test("MySQL SET: reflection and values as Lua sets", function()
      local e = create_engine(db.url)
      local c = e:connect()
      c:exec_driver_sql("DROP TABLE IF EXISTS fid_set")
      c:exec_driver_sql("CREATE TABLE fid_set (id INTEGER PRIMARY KEY, " ..
                        "s SET('a','b','c'))")
      c:commit()
      local t = Table("fid_set", MetaData(), {autoload_with = e})
      T.eq(tostring(t.c.s.type), "SET")
      T.eq(norm(CreateTable(t):compile(e).sql),
           "CREATE TABLE fid_set ( id INTEGER(11) NOT NULL, " ..
           "s SET('a','b','c'), PRIMARY KEY (id) )")
      c:execute(insert(t), {{id = 1, s = "a,b"}, {id = 2, s = ""},
                            {id = 3, s = null}})
      c:execute(insert(t), {id = 4, s = {"a", "c"}})
      c:execute(insert(t), {id = 5, s = {b = true, a = true, c = false}})
      local rows = {}
      for r in c:execute(select(t.c.id, t.c.s)) do rows[r.id] = r.s end
      T.eq(rows[1], {a = true, b = true})
      T.eq(rows[2], {})
      T.eq(rows[3], nil)
      T.eq(rows[4], {a = true, c = true})
      T.eq(rows[5], {a = true, b = true})
      -- text() has no type to go by: the driver's text, as SQLAlchemy's
      T.eq(c:execute(text("SELECT s FROM fid_set WHERE id = 4")):scalar(), "a,c")
      T.eq(c:execute(select(t.c.id):where(t.c.s:eq({"a", "b"}))
                       :order_by(t.c.id)):scalars():all(), {1, 5})
      T.raises("ArgumentError", function()
        c:execute(insert(t), {id = 6, s = {1, 2}})
      end)
      c:rollback()
      c:exec_driver_sql("DROP TABLE fid_set")
      c:commit()
      c:close()
      e:dispose()
    end)
  end
end

T.done()
