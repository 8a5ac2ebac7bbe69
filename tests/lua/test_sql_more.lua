-- Statement-layer names and renderings found missing or different in an
-- audit.  Expected strings come from SQLAlchemy 1.4.46.
local T = require "testing"

local function squash(s)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local md = MetaData()
local t = Table("t", md, Column("id", Integer, {primary_key = true}),
                Column("name", String(50)))
local t2 = Table("t2", md, Column("id", Integer, {primary_key = true}),
                 Column("name", String(50)))

-- str(), sqlite, postgresql, mysql (nil: same as the previous)
local function check(stmt, def, lite, pg, my)
  T.eq(squash(tostring(stmt)), def)
  T.eq(squash(stmt:compile("sqlite").sql), lite or def)
  T.eq(squash(stmt:compile("postgresql").sql), pg or lite or def)
  T.eq(squash(stmt:compile("mysql").sql), my or lite or def)
end

T.test("LIMIT and OFFSET forms per dialect", function()
  local c = select(t):limit(5):compile("sqlite")
  T.eq(squash(c.sql), "SELECT t.id, t.name FROM t LIMIT ? OFFSET ?")
  T.eq(c.params, {5, 0})
  c = select(t):offset(5):compile("sqlite")
  T.eq(squash(c.sql), "SELECT t.id, t.name FROM t LIMIT ? OFFSET ?")
  T.eq(c.params, {-1, 5})
  T.eq(squash(tostring(select(t):offset(5))),
       "SELECT t.id, t.name FROM t LIMIT -1 OFFSET :param_1")
  T.eq(squash(select(t):offset(5):compile("postgresql").sql),
       "SELECT t.id, t.name FROM t LIMIT ALL OFFSET $1")
  T.eq(squash(select(t):offset(5):compile("mysql").sql),
       "SELECT t.id, t.name FROM t LIMIT ?, 18446744073709551615")
end)

T.test("bind names of comparisons with functions", function()
  check(select(t):where(func.upper(t.c.name):eq("x")),
        "SELECT t.id, t.name FROM t WHERE upper(t.name) = :upper_1",
        "SELECT t.id, t.name FROM t WHERE upper(t.name) = ?",
        "SELECT t.id, t.name FROM t WHERE upper(t.name) = $1")
  T.eq(squash(tostring(select(func.upper(t.c.name))
                         :where(func.upper(t.c.name):eq("y")))),
       "SELECT upper(t.name) AS upper_1 FROM t WHERE upper(t.name) = :upper_2")
end)

T.test("repeated columns get SQLAlchemy's dedupe labels", function()
  check(select(t.c.id, t), "SELECT t.id, t.id AS id__1, t.name FROM t")
  T.eq(squash(tostring(select(t.c.id, t.c.id, t.c.id))),
       "SELECT t.id, t.id AS id__1, t.id AS id__2 FROM t")
  T.eq(squash(tostring(select(t.c.id, t2.c.id))),
       "SELECT t.id, t2.id AS id_1 FROM t, t2")
  T.eq(squash(tostring(select(t.c.id, t2.c.id, t.c.id, t2.c.id, t.c.name,
                              t.c.name))),
       "SELECT t.id, t2.id AS id_1, t.id AS id__1, t2.id AS id__2, t.name, " ..
       "t.name AS name__1 FROM t, t2")
  T.eq(squash(tostring(select(t.c.id, t.c.id):subquery():select())),
       "SELECT anon_1.id, anon_1.id AS id_1 FROM (SELECT t.id AS id, " ..
       "t.id AS id__1 FROM t) AS anon_1")
end)

T.test("upper-case type names render SQLAlchemy's DDL", function()
  local u = Table("ut", MetaData(),
    Column("a", INTEGER, {primary_key = true}), Column("b", BIGINT),
    Column("c", SMALLINT), Column("d", VARCHAR(20)), Column("e", TEXT),
    Column("f", FLOAT), Column("g", NUMERIC(10, 2)), Column("h", DATE),
    Column("i", sa.INT))
  local cols = "b BIGINT, c SMALLINT, d VARCHAR(20), e TEXT, f FLOAT, " ..
    "g NUMERIC(10, 2), h DATE, i INTEGER, PRIMARY KEY (a) )"
  T.eq(squash(CreateTable(u):compile("sqlite").sql),
       "CREATE TABLE ut ( a INTEGER NOT NULL, " .. cols)
  T.eq(squash(CreateTable(u):compile("postgresql").sql),
       "CREATE TABLE ut ( a SERIAL NOT NULL, " .. cols)
  T.eq(squash(CreateTable(u):compile("mysql").sql),
       "CREATE TABLE ut ( a INTEGER NOT NULL AUTO_INCREMENT, " .. cols)
  T.eq(tostring(sa.VARCHAR(5)), "VARCHAR(5)")
end)

T.done()
