-- ForeignKey("schema.table.col") resolves to the Table of that schema in
-- the same MetaData: the column's type, join inference, REFERENCES
-- qualified by the schema (SQLite leaves out a key into another schema and
-- never qualifies, as SQLAlchemy's SQLite dialect does) and create_all's
-- order.  Expected text from SQLAlchemy 1.4.46.
local T = require "testing"

local function squash(s)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local ddl = {
  sfk_at = {
    default = '\nCREATE TABLE sfk_a.sfk_at (\n\tid INTEGER NOT NULL, \n\tname VARCHAR(20), \n\tPRIMARY KEY (id)\n)\n\n',
    sqlite = '\nCREATE TABLE sfk_a.sfk_at (\n\tid INTEGER NOT NULL, \n\tname VARCHAR(20), \n\tPRIMARY KEY (id)\n)\n\n',
    postgresql = '\nCREATE TABLE sfk_a.sfk_at (\n\tid SERIAL NOT NULL, \n\tname VARCHAR(20), \n\tPRIMARY KEY (id)\n)\n\n',
    mysql = '\nCREATE TABLE sfk_a.sfk_at (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tname VARCHAR(20), \n\tPRIMARY KEY (id)\n)\n\n',
  },
  sfk_bt = {
    default = '\nCREATE TABLE sfk_b.sfk_bt (\n\tid INTEGER NOT NULL, \n\ta_id INTEGER, \n\tparent_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(a_id) REFERENCES sfk_a.sfk_at (id) ON DELETE CASCADE, \n\tFOREIGN KEY(parent_id) REFERENCES sfk_b.sfk_bt (id)\n)\n\n',
    sqlite = '\nCREATE TABLE sfk_b.sfk_bt (\n\tid INTEGER NOT NULL, \n\ta_id INTEGER, \n\tparent_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(parent_id) REFERENCES sfk_bt (id)\n)\n\n',
    postgresql = '\nCREATE TABLE sfk_b.sfk_bt (\n\tid SERIAL NOT NULL, \n\ta_id INTEGER, \n\tparent_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(a_id) REFERENCES sfk_a.sfk_at (id) ON DELETE CASCADE, \n\tFOREIGN KEY(parent_id) REFERENCES sfk_b.sfk_bt (id)\n)\n\n',
    mysql = '\nCREATE TABLE sfk_b.sfk_bt (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\ta_id INTEGER, \n\tparent_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(a_id) REFERENCES sfk_a.sfk_at (id) ON DELETE CASCADE, \n\tFOREIGN KEY(parent_id) REFERENCES sfk_b.sfk_bt (id)\n)\n\n',
  },
  sfk_c = {
    default = '\nCREATE TABLE sfk_c (\n\tid INTEGER NOT NULL, \n\tb_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(b_id) REFERENCES sfk_b.sfk_bt (id)\n)\n\n',
    sqlite = '\nCREATE TABLE sfk_c (\n\tid INTEGER NOT NULL, \n\tb_id INTEGER, \n\tPRIMARY KEY (id)\n)\n\n',
    postgresql = '\nCREATE TABLE sfk_c (\n\tid SERIAL NOT NULL, \n\tb_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(b_id) REFERENCES sfk_b.sfk_bt (id)\n)\n\n',
    mysql = '\nCREATE TABLE sfk_c (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tb_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(b_id) REFERENCES sfk_b.sfk_bt (id)\n)\n\n',
  },
  sfk_at2 = {
    default = '\nCREATE TABLE sfk_a.sfk_at2 (\n\tid INTEGER NOT NULL, \n\ta_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(a_id) REFERENCES sfk_a.sfk_at (id)\n)\n\n',
    sqlite = '\nCREATE TABLE sfk_a.sfk_at2 (\n\tid INTEGER NOT NULL, \n\ta_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(a_id) REFERENCES sfk_at (id)\n)\n\n',
    postgresql = '\nCREATE TABLE sfk_a.sfk_at2 (\n\tid SERIAL NOT NULL, \n\ta_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(a_id) REFERENCES sfk_a.sfk_at (id)\n)\n\n',
    mysql = '\nCREATE TABLE sfk_a.sfk_at2 (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\ta_id INTEGER, \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(a_id) REFERENCES sfk_a.sfk_at (id)\n)\n\n',
  },
}
local joins = {
  b_a = 'SELECT sfk_b.sfk_bt.id, sfk_a.sfk_at.name \nFROM sfk_b.sfk_bt JOIN sfk_a.sfk_at ON sfk_a.sfk_at.id = sfk_b.sfk_bt.a_id',
  c_b = 'SELECT sfk_c.id, sfk_b.sfk_bt.id AS bid \nFROM sfk_c JOIN sfk_b.sfk_bt ON sfk_b.sfk_bt.id = sfk_c.b_id',
  c_b_a = 'SELECT sfk_c.id, sfk_a.sfk_at.name \nFROM sfk_c JOIN sfk_b.sfk_bt ON sfk_b.sfk_bt.id = sfk_c.b_id JOIN sfk_a.sfk_at ON sfk_a.sfk_at.id = sfk_b.sfk_bt.a_id',
  a2 = 'SELECT sfk_a.sfk_at2.id \nFROM sfk_a.sfk_at2 JOIN sfk_a.sfk_at ON sfk_a.sfk_at.id = sfk_a.sfk_at2.a_id',
}
local other = {
  default = {'CREATE INDEX ix_sfk_b_sfk_bt_a_id ON sfk_b.sfk_bt (a_id)', '\nDROP INDEX sfk_b.ix_sfk_b_sfk_bt_a_id', '\nDROP TABLE sfk_b.sfk_bt'},
  sqlite = {'CREATE INDEX sfk_b.ix_sfk_b_sfk_bt_a_id ON sfk_bt (a_id)', '\nDROP INDEX sfk_b.ix_sfk_b_sfk_bt_a_id', '\nDROP TABLE sfk_b.sfk_bt'},
  postgresql = {'CREATE INDEX ix_sfk_b_sfk_bt_a_id ON sfk_b.sfk_bt (a_id)', '\nDROP INDEX sfk_b.ix_sfk_b_sfk_bt_a_id', '\nDROP TABLE sfk_b.sfk_bt'},
  mysql = {'CREATE INDEX ix_sfk_b_sfk_bt_a_id ON sfk_b.sfk_bt (a_id)', '\nDROP INDEX ix_sfk_b_sfk_bt_a_id ON sfk_b.sfk_bt', '\nDROP TABLE sfk_b.sfk_bt'},
}

local m = MetaData()
local a = Table("sfk_at", m, Column("id", Integer, {primary_key = true}),
  Column("name", String(20)), {schema = "sfk_a"})
local a2 = Table("sfk_at2", m, Column("id", Integer, {primary_key = true}),
  Column("a_id", ForeignKey("sfk_a.sfk_at.id")), {schema = "sfk_a"})
local b = Table("sfk_bt", m, Column("id", Integer, {primary_key = true}),
  Column("a_id", ForeignKey("sfk_a.sfk_at.id", {ondelete = "CASCADE"}),
    {index = true}),
  Column("parent_id", ForeignKey("sfk_b.sfk_bt.id")), {schema = "sfk_b"})
local c = Table("sfk_c", m, Column("id", Integer, {primary_key = true}),
  Column("b_id", ForeignKey("sfk_b.sfk_bt.id")))
local tables = {sfk_at = a, sfk_at2 = a2, sfk_bt = b, sfk_c = c}
local stmts = {
  b_a = select(b.c.id, a.c.name):join_from(b, a),
  c_b = select(c.c.id, b.c.id:label("bid")):join_from(c, b),
  c_b_a = select(c.c.id, a.c.name):select_from(c:join(b):join(a)),
  a2 = select(a2.c.id):join_from(a2, a),
}

T.test("schema-qualified foreign keys: DDL and joins as SQLAlchemy's", function()
  for name, exp in pairs(ddl) do
    local t = tables[name]
    T.eq(squash(tostring(CreateTable(t))), squash(exp.default), name)
    for _, d in ipairs{"sqlite", "postgresql", "mysql"} do
      T.eq(squash(CreateTable(t):compile(d).sql), squash(exp[d]), name .. " " .. d)
    end
  end
  local ix = b.indexes[1]
  for d, exp in pairs(other) do
    T.eq({squash(CreateIndex(ix):compile(d).sql),
          squash(DropIndex(ix):compile(d).sql),
          squash(DropTable(b):compile(d).sql)},
         {squash(exp[1]), squash(exp[2]), squash(exp[3])}, d)
  end
  for name, exp in pairs(joins) do
    T.eq(tostring(stmts[name]), exp, name)
  end
  -- typed by the referenced column
  T.eq(b.c.a_id.type.__name__, "Integer")
  T.eq(c.c.b_id.type.__name__, "Integer")
  local names = {}
  for i, t in ipairs(m.sorted_tables) do names[i] = t.name end
  T.eq(names, {"sfk_at", "sfk_at2", "sfk_bt", "sfk_c"})
  -- the schema counts: a key into another schema's table of that name
  -- doesn't join
  local m2 = MetaData()
  local x = Table("sfk_at", m2, Column("id", Integer, {primary_key = true}),
    {schema = "other"})
  local y = Table("sfk_y", m2, Column("id", Integer, {primary_key = true}),
    Column("x_id", Integer, ForeignKey("sfk_a.sfk_at.id")))
  T.raises("ArgumentError", function() return y:join(x) end)
  T.raises("ArgumentError", function() return b:join(x) end)
end)

T.test("sorted_tables in SQLAlchemy's order", function()
  -- key order, then rounds of tables whose targets came before; a cycle
  -- (cy_a, cy_b) drops its tables' dependencies
  local m3 = MetaData()
  Table("cy_a", m3, Column("id", Integer, {primary_key = true}),
    Column("b", Integer, ForeignKey("cy_b.id")))
  Table("cy_b", m3, Column("id", Integer, {primary_key = true}),
    Column("a", Integer, ForeignKey("cy_a.id")),
    Column("e", Integer, ForeignKey("cy_e.id")))
  Table("cy_c", m3, Column("id", Integer, {primary_key = true}),
    Column("a", Integer, ForeignKey("cy_a.id")))
  Table("cy_0", m3, Column("id", Integer, {primary_key = true}),
    Column("c", Integer, ForeignKey("cy_c.id")))
  Table("cy_e", m3, Column("id", Integer, {primary_key = true}))
  Table("y", m3, Column("id", Integer, {primary_key = true}), {schema = "a"})
  Table("zc", m3, Column("id", Integer, {primary_key = true}),
    Column("y", ForeignKey("a.y.id")))
  local names = {}
  for i, t in ipairs(m3.sorted_tables) do names[i] = t.fullname end
  T.eq(names, {"a.y", "cy_a", "cy_b", "cy_e", "cy_c", "zc", "cy_0"})
end)

T.test("MetaData({schema}): its tables' schema by default", function()
  local m4 = MetaData({schema = "ms"})
  T.eq(m4.schema, "ms")
  local ta = Table("a", m4, Column("id", Integer, {primary_key = true}))
  local tb = Table("b", m4, Column("id", Integer, {primary_key = true}),
    Column("a_id", ForeignKey("a.id")), {comment = "bees"})
  local tc = Table("c", m4, Column("id", Integer, {primary_key = true}),
    {schema = "other"})
  local td = Table("d", m4, Column("id", Integer, {primary_key = true}),
    {schema = false})
  T.eq({tb.fullname, tc.fullname, td.fullname}, {"ms.b", "other.c", "d"})
  T.eq(tb.foreign_keys[1].target_fullname, "a.id")
  -- SQLAlchemy 1.4.46's text
  T.eq(squash(CreateTable(tb):compile("postgresql").sql), squash([[
CREATE TABLE ms.b (
	id SERIAL NOT NULL, 
	a_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(a_id) REFERENCES ms.a (id)
)]]))
  T.eq(tostring(select(tb):join_from(tb, ta)),
       "SELECT ms.b.id, ms.b.a_id \nFROM ms.b JOIN ms.a ON ms.a.id = ms.b.a_id")
  -- to_metadata keeps the table's schema, or takes the target's for none
  T.eq(ta:to_metadata(MetaData({schema = "zz"})).fullname, "ms.a")
  T.eq(ta:to_metadata(MetaData({schema = "zz"}), {schema = false}).fullname,
       "zz.a")
  -- extend_existing with options keeps the table's schema
  T.eq(Table("b", m4, Column("x", Integer), {extend_existing = true,
    comment = "x"}).fullname, "ms.b")
  T.raises("ArgumentError", function() return MetaData({schema = 5}) end)
  T.raises("ArgumentError", function() return MetaData(5) end)
end)

-- each database's form of another schema
local function make_schemas(conn, db, drop)
  -- what a failed run may have left
  conn:exec_driver_sql("DROP TABLE IF EXISTS sfk_c")
  -- sfk_b's table refers to sfk_a's: it goes first
  for _, s in ipairs{"sfk_b", "sfk_a"} do
    if db.name == "sqlite" then
      if not drop then conn:exec_driver_sql("ATTACH ':memory:' AS " .. s) end
    elseif db.name == "postgresql" then
      conn:exec_driver_sql("DROP SCHEMA IF EXISTS " .. s .. " CASCADE")
      if not drop then conn:exec_driver_sql("CREATE SCHEMA " .. s) end
    else
      conn:exec_driver_sql("DROP DATABASE IF EXISTS " .. s)
      if not drop then conn:exec_driver_sql("CREATE DATABASE " .. s) end
    end
  end
end

for _, db in ipairs(T.databases()) do
  T.test("schema-qualified foreign keys on " .. db.name, function()
    local engine = create_engine(db.url)
    local conn <close> = engine:connect()
    make_schemas(conn, db)
    conn:commit()
    local log = {}
    orm.event.listen(engine, "before_cursor_execute", function(_, _, sql)
      if sql:find("^%s*CREATE TABLE") then log[#log + 1] = squash(sql) end
    end)
    m:create_all(conn)
    T.eq(log, {squash(ddl.sfk_at[db.name]), squash(ddl.sfk_at2[db.name]),
               squash(ddl.sfk_bt[db.name]), squash(ddl.sfk_c[db.name])})
    -- checkfirst looks in each table's own schema
    m:create_all(conn)
    T.eq(#log, 4)
    conn:execute(insert(a), {{id = 1, name = "one"}, {id = 2, name = "two"}})
    conn:execute(insert(a2), {{id = 1, a_id = 2}})
    conn:execute(insert(b), {{id = 10, a_id = 1}, {id = 20, a_id = 2, parent_id = 10}})
    conn:execute(insert(c), {{id = 100, b_id = 20}})
    T.eq(conn:execute(stmts.c_b_a):all()[1][2], "two")
    local got = {}
    for _, r in ipairs(conn:execute(stmts.b_a:order_by(b.c.id)):all()) do
      got[#got + 1] = {r[1], r[2]}
    end
    T.eq(got, {{10, "one"}, {20, "two"}})
    T.eq(conn:execute(stmts.a2):scalars():all(), {1})
    if db.name ~= "sqlite" then
      conn:execute(delete(c))
      conn:execute(delete(b):where(b.c.id:eq(20)))
      conn:execute(delete(a):where(a.c.id:eq(1)))  -- cascades to b 10
      T.eq(conn:execute(select(func.count()):select_from(b)):scalar(), 0)
      conn:commit()
      -- the key exists in the database: a missing target is refused
      T.raises("IntegrityError", function()
        return conn:execute(insert(b), {{id = 30, a_id = 99}})
      end)
      conn:rollback()
    end
    conn:commit()
    m:drop_all(conn)
    conn:commit()
    make_schemas(conn, db, true)
    conn:commit()
  end)
end

T.done()
