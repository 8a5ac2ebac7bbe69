-- Table.info and Column.info: the user's dictionary, as SQLAlchemy's
-- SchemaItem.info (given as an option, or empty and kept on first read;
-- copied by to_metadata; kept by __table_args__ in declarative).  The
-- expected values are SQLAlchemy 1.4's.
local T = require "testing"
local orm = require "retort.orm"

local function schema()
  local md = MetaData()
  local t = Table("si_t", md,
    Column("id", Integer, {primary_key = true, info = {a = 1}}),
    Column("x", Integer),
    {info = {k = "v"}})
  return md, t
end

T.test("info given to Table and Column, empty otherwise", function()
  local _, t = schema()
  T.eq(t.info, {k = "v"})
  T.eq(t.c.id.info, {a = 1})
  T.eq(t.c.x.info, {})
  T.ok(rawequal(t.c.x.info, t.c.x.info), "the empty one is kept")
  t.c.x.info.note = "later"
  T.eq(t.c.x.info, {note = "later"}, "written through")
  T.eq(t.c.x.table.info, {k = "v"}, "any handle on the table sees it")
  collectgarbage()
  collectgarbage()
  T.eq(t.c.x.info, {note = "later"}, "a collection keeps it")
end)

T.test("the table given is the info itself", function()
  local info = {n = 1}
  local c = Column("y", Integer, {info = info})
  T.ok(rawequal(c.info, info))
  local md = MetaData()
  local t = Table("si_y", md, c, {info = info})
  T.ok(rawequal(t.c.y.info, info) and rawequal(t.info, info))
end)

T.test("a Column's info follows it into a table", function()
  local _, t = schema()
  local c = Column("z", Integer)
  c.info.w = 5
  t:append_column(c)
  T.eq(t.c.z.info, {w = 5})
end)

T.test("to_metadata copies each info", function()
  local _, t = schema()
  t.c.x.info.q = 1
  local t2 = t:to_metadata(MetaData())
  T.eq(t2.info, {k = "v"})
  T.eq(t2.c.id.info, {a = 1})
  T.eq(t2.c.x.info, {q = 1})
  T.ok(not rawequal(t2.info, t.info) and not rawequal(t2.c.id.info, t.c.id.info),
       "copies, not the same tables")
  t.info.k = "changed"
  T.eq(t2.info, {k = "v"})
end)

T.test("extend_existing replaces the info", function()
  local md, t = schema()
  local again = Table("si_t", md, {extend_existing = true, info = {n = 1}})
  T.eq(again.info, {n = 1})
  T.eq(t.info, {n = 1})
end)

T.test("an alias's columns have an empty info; sa.table has none",
       function()
  local _, t = schema()
  T.eq(t:alias().c.id.info, {})
  T.eq(sa.table("lt", sa.column("a")).info, nil)
  T.raises("ArgumentError", function()
    return sa.table("lt", sa.column("a")).c.a.info
  end)
end)

T.test("info must be a table", function()
  T.raises("ArgumentError", function() return Column("q", Integer, {info = 5}) end)
  T.raises("ArgumentError", function()
    return Table("si_bad", MetaData(), Column("id", Integer), {info = "x"})
  end)
end)

T.test("declarative __table_args__ and class attributes keep it", function()
  local Base = orm.declarative_base()
  local U = Base:class "U" {
    __tablename__ = "si_u",
    __table_args__ = {info = {w = 2}},
    id = Column(Integer, {primary_key = true, info = {c = 3}}),
  }
  local V = Base:class "V" {
    __tablename__ = "si_v",
    __table_args__ = {UniqueConstraint("id"), {info = {w = 3}}},
    id = Column(Integer, {primary_key = true}),
  }
  T.eq(U.__table__.info, {w = 2})
  T.eq(U.__table__.c.id.info, {c = 3})
  T.eq(U.id.info, {c = 3}, "the attribute gives its column's")
  T.eq(V.__table__.info, {w = 3})
end)

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": info plays no part in the DDL", function()
    local md, t = schema()
    local engine = create_engine(db.url)
    md:drop_all(engine)
    md:create_all(engine)
    local conn <close> = engine:connect()
    conn:execute(insert(t):values{x = 4})
    T.eq(conn:execute(select(t.c.x)):scalar(), 4)
    conn:rollback()
    md:drop_all(engine)
  end)
end

T.done()
