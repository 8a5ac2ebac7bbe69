-- Table:to_metadata(metadata, {schema, referred_schema_fn, name}) and its
-- older name tometadata: a copy of a table in another MetaData, as
-- SQLAlchemy 1.4.46 makes it (columns, constraints, indexes; foreign keys
-- re-pointed by its schema rules).  SQLAlchemy copies a table's
-- constraints in set order, so the order of a copy's table-level
-- constraints varies from run to run there: CREATE TABLE is compared as
-- its set of lines wherever a copy has more than one.
local T = require "testing"

local expect = {
  ['p_m2'] = {
    fullname = 'tmx_p',
    indexes = {},
    fks = {},
    default = '\nCREATE TABLE tmx_p (\n\tid INTEGER NOT NULL, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)\n\n',
    sqlite = '\nCREATE TABLE tmx_p (\n\tid INTEGER NOT NULL, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)\n\n',
    postgresql = '\nCREATE TABLE tmx_p (\n\tid SERIAL NOT NULL, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)\n\n',
    mysql = "\nCREATE TABLE tmx_p (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)COMMENT='parents'\n\n",
  },
  ['c_m2'] = {
    fullname = 'tmx_c2',
    indexes = {'CREATE INDEX ix_tmx_c2_name ON tmx_c2 (name)', 'CREATE INDEX ix_tmx_lower ON tmx_c2 (lower(name))'},
    fks = {'tmx_c2.id', 'tmx_p.id'},
    default = '\nCREATE TABLE tmx_c2 (\n\tid INTEGER NOT NULL, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES tmx_c2 (id), \n\tFOREIGN KEY(p_id) REFERENCES tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
    sqlite = '\nCREATE TABLE tmx_c2 (\n\tid INTEGER NOT NULL, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES tmx_c2 (id), \n\tFOREIGN KEY(p_id) REFERENCES tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
    postgresql = '\nCREATE TABLE tmx_c2 (\n\tid SERIAL NOT NULL, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES tmx_c2 (id), \n\tFOREIGN KEY(p_id) REFERENCES tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
    mysql = '\nCREATE TABLE tmx_c2 (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES tmx_c2 (id), \n\tFOREIGN KEY(p_id) REFERENCES tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
  },
  ['p_sx'] = {
    fullname = 'sx.tmx_p',
    indexes = {},
    fks = {},
    default = '\nCREATE TABLE sx.tmx_p (\n\tid INTEGER NOT NULL, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)\n\n',
    sqlite = '\nCREATE TABLE sx.tmx_p (\n\tid INTEGER NOT NULL, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)\n\n',
    postgresql = '\nCREATE TABLE sx.tmx_p (\n\tid SERIAL NOT NULL, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)\n\n',
    mysql = "\nCREATE TABLE sx.tmx_p (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tcode VARCHAR(10), \n\tPRIMARY KEY (id), \n\tUNIQUE (code)\n)COMMENT='parents'\n\n",
  },
  ['c_sx'] = {
    fullname = 'sx.tmx_c',
    indexes = {'CREATE INDEX ix_sx_tmx_c_name ON sx.tmx_c (name)', 'CREATE INDEX ix_tmx_lower ON sx.tmx_c (lower(name))'},
    fks = {'sx.tmx_c.id', 'sx.tmx_p.id'},
    default = '\nCREATE TABLE sx.tmx_c (\n\tid INTEGER NOT NULL, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES sx.tmx_c (id), \n\tFOREIGN KEY(p_id) REFERENCES sx.tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
    sqlite = '\nCREATE TABLE sx.tmx_c (\n\tid INTEGER NOT NULL, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES tmx_c (id), \n\tFOREIGN KEY(p_id) REFERENCES tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
    postgresql = '\nCREATE TABLE sx.tmx_c (\n\tid SERIAL NOT NULL, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES sx.tmx_c (id), \n\tFOREIGN KEY(p_id) REFERENCES sx.tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
    mysql = '\nCREATE TABLE sx.tmx_c (\n\tid INTEGER NOT NULL AUTO_INCREMENT, \n\tp_id INTEGER NOT NULL, \n\tup_id INTEGER, \n\tname VARCHAR(20), \n\tqty INTEGER CHECK (qty > 0), \n\tnote VARCHAR(20), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(up_id) REFERENCES sx.tmx_c (id), \n\tFOREIGN KEY(p_id) REFERENCES sx.tmx_p (id) ON DELETE CASCADE, \n\tCONSTRAINT uq_tmx_name_qty UNIQUE (name, qty)\n)\n\n',
  },
  ['c_fn'] = {
    fullname = 'sy.tmx_c',
    indexes = {'CREATE INDEX ix_sy_tmx_c_name ON sy.tmx_c (name)', 'CREATE INDEX ix_tmx_lower ON sy.tmx_c (lower(name))'},
    fks = {'ref_none.tmx_c.id', 'ref_none.tmx_p.id'},
    default = 'ERR',
    sqlite = 'ERR',
    postgresql = 'ERR',
    mysql = 'ERR',
  },
}

-- the lines of a CREATE TABLE, without their separators, sorted
local function lines(sql)
  local out = {}
  for l in sql:gmatch("[^\n]+") do
    l = l:gsub("^%s+", ""):gsub(",%s*$", ""):gsub("%s+$", "")
    if l ~= "" then out[#out + 1] = l end
  end
  table.sort(out)
  return out
end

local m = MetaData()
local p = Table("tmx_p", m, Column("id", Integer, {primary_key = true}),
  Column("code", String(10), {unique = true}), {comment = "parents"})
local c = Table("tmx_c", m, Column("id", Integer, {primary_key = true}),
  Column("p_id", ForeignKey("tmx_p.id", {ondelete = "CASCADE"}),
         {nullable = false}),
  Column("up_id", Integer, ForeignKey("tmx_c.id")),
  Column("name", String(20), {index = true}),
  Column("qty", Integer, CheckConstraint("qty > 0"), {default = 1}),
  Column("note", String(20), {default = function() return "from Lua" end}),
  UniqueConstraint("name", "qty", {name = "uq_tmx_name_qty"}))
Index("ix_tmx_lower", func.lower(c.c.name))

local function copies()
  local m2, m3, m4 = MetaData(), MetaData(), MetaData()
  local r = {m2 = m2}
  r.p_m2 = p:to_metadata(m2)
  r.c_m2 = c:to_metadata(m2, {name = "tmx_c2"})
  r.p_sx = p:tometadata(m3, {schema = "sx"})
  r.c_sx = c:to_metadata(m3, {schema = "sx"})
  p:to_metadata(m4, {schema = "ref_none"})
  local seen
  r.c_fn = c:to_metadata(m4, {schema = "sy",
    referred_schema_fn = function(t, to_schema, k, referred)
      seen = {t.name, to_schema, referred}
      return "ref_" .. (referred or "none")
    end})
  r.seen = seen
  return r
end

T.test("to_metadata copies as SQLAlchemy's does", function()
  local r = copies()
  for key, exp in pairs(expect) do
    local t = r[key]
    T.eq(t.fullname, exp.fullname, key)
    local ix = {}
    for _, i in ipairs(t.indexes) do
      ix[#ix + 1] = CreateIndex(i):compile("postgresql").sql
    end
    table.sort(ix)
    T.eq(ix, exp.indexes, key .. " indexes")
    local fks = {}
    for _, fk in ipairs(t.foreign_keys) do fks[#fks + 1] = fk.target_fullname end
    table.sort(fks)
    T.eq(fks, exp.fks, key .. " foreign keys")
    for _, d in ipairs{"default", "sqlite", "postgresql", "mysql"} do
      -- SQLAlchemy can't render a key into a table its MetaData lacks
      if exp[d] ~= "ERR" then
        local sql = CreateTable(t):compile(d).sql
        T.eq(lines(sql), lines(exp[d]), key .. " " .. d)
        if key:sub(1, 1) == "p" then T.eq(sql, exp[d], key .. " " .. d) end
      end
    end
  end
  T.eq(r.seen, {"tmx_c", "sy", nil})
  -- the copy is a Table of its MetaData, with its own columns
  T.ok(r.m2.tables.tmx_c2 == r.c_m2)
  T.ok(r.c_m2.c.name ~= c.c.name)
  T.eq(r.c_m2.c.name.table.name, "tmx_c2")
  -- a table the MetaData has already is returned as it is
  T.ok(p:to_metadata(r.m2) == r.p_m2)
  -- the copy joins and is sorted by its foreign keys
  T.eq(tostring(select(r.c_m2.c.id):join_from(r.c_m2, r.p_m2)),
       "SELECT tmx_c2.id \nFROM tmx_c2 JOIN tmx_p ON tmx_p.id = tmx_c2.p_id")
  local names = {}
  for i, t in ipairs(r.m2.sorted_tables) do names[i] = t.name end
  T.eq(names, {"tmx_p", "tmx_c2"})
  T.eq(r.c_m2.c.p_id.type.__name__, "Integer")
end)

T.test("to_metadata arguments", function()
  T.raises("ArgumentError", function() return p:to_metadata({}) end)
  T.raises("ArgumentError", function() return p:to_metadata(MetaData(), 5) end)
  T.raises("ArgumentError", function()
    return p:to_metadata(MetaData(), {schema = 5})
  end)
  T.raises("ArgumentError", function()
    return p:to_metadata(MetaData(), {referred_schema_fn = "x"})
  end)
  T.raises("ArgumentError", function()
    return c:to_metadata(MetaData(), {referred_schema_fn = function() return 1 end})
  end)
  -- schema = false: no schema
  local m5 = MetaData()
  T.eq(p:to_metadata(MetaData(), {schema = "q"})
       :to_metadata(m5, {schema = false}).fullname, "tmx_p")
end)

for _, db in ipairs(T.databases()) do
  T.test("to_metadata copies execute on " .. db.name, function()
    local r = copies()
    local engine = create_engine(db.url)
    local conn <close> = engine:connect()
    conn:exec_driver_sql("DROP TABLE IF EXISTS tmx_c2")
    conn:exec_driver_sql("DROP TABLE IF EXISTS tmx_p")
    conn:commit()
    local cp, cc = r.p_m2, r.c_m2
    if db.name == "mysql" then
      -- MariaDB has no index on an expression (ix_tmx_lower)
      conn:execute(CreateTable(cp))
      conn:execute(CreateTable(cc))
    else
      r.m2:create_all(conn)
    end
    conn:commit()
    conn:execute(insert(cp), {{id = 1, code = "a"}, {id = 2, code = "b"}})
    conn:execute(insert(cc), {{id = 10, p_id = 1, name = "x"},
                              {id = 11, p_id = 2, up_id = 10, name = "y", qty = 3}})
    local got = {}
    local st = select(cc.c.id, cp.c.code, cc.c.qty, cc.c.note)
      :join_from(cc, cp):order_by(cc.c.id)
    for _, row in ipairs(conn:execute(st):all()) do
      got[#got + 1] = {row[1], row[2], row[3], row[4]}
    end
    -- the Lua-function default and the SQL default came with the copy
    T.eq(got, {{10, "a", 1, "from Lua"}, {11, "b", 3, "from Lua"}})
    conn:commit()
    -- the copied constraints exist in the database
    T.raises("IntegrityError", function()
      return conn:execute(insert(cp), {{id = 3, code = "a"}})
    end)
    conn:rollback()
    T.raises("IntegrityError", function()
      return conn:execute(insert(cc), {{id = 12, p_id = 1, name = "x", qty = 1}})
    end)
    conn:rollback()
    conn:execute(delete(cc))
    r.m2:drop_all(conn)
    conn:commit()
  end)
end

T.done()
