-- Core statements with the ORM loaded: until a first class is mapped,
-- compile() and the joins of plain tables are the Core's own C methods
-- (no Lua wrapper in between: the compile benchmark counts on it); once a
-- class is mapped, compile() of a select of entities gives the ORM's form
-- (deferred columns left out), also for a statement built before the
-- mapping.  Expected SQL is SQLAlchemy 1.4's for the same constructs.
local T = require "testing"

local md = MetaData()
local p = Table("cp_parent", md,
  Column("id", Integer, {primary_key = true}),
  Column("name", String(20)))
local c = Table("cp_child", md,
  Column("id", Integer, {primary_key = true}),
  Column("parent_id", Integer, ForeignKey("cp_parent.id")),
  Column("name", String(20)))

local function core_join()
  return select(p.c.name, c.c.id)
    :select_from(p:join(c, p.c.id:eq(c.c.parent_id)))
    :where(c.c.id:gt(3))
end
local JOIN_SQL = "SELECT cp_parent.name, cp_child.id \nFROM cp_parent " ..
  "JOIN cp_child ON cp_parent.id = cp_child.parent_id \nWHERE cp_child.id > ?"
local OUTER_SQL = "SELECT cp_parent.id \nFROM cp_parent LEFT OUTER JOIN " ..
  "cp_child ON cp_parent.id = cp_child.parent_id"

local early -- built before any class is mapped

T.test("with no class mapped, compile and join are the C methods", function()
  local s = core_join()
  T.eq(debug.getinfo(s.compile, "S").what, "C")
  T.eq(debug.getinfo(p.join, "S").what, "C")
  T.eq(debug.getinfo(p.outerjoin, "S").what, "C")
  T.eq(s:compile("sqlite").sql, JOIN_SQL)
  T.eq(select(p.c.id):select_from(p:outerjoin(c)):compile("sqlite").sql,
       OUTER_SQL)
  early = s
end)

local Base = orm.declarative_base()
local Doc = Base:class "Doc" {
  __tablename__ = "cp_doc",
  id = Column(Integer, {primary_key = true}),
  title = Column(String(20)),
  body = orm.deferred(Column(Text)),
}

T.test("once a class is mapped, compile gives the ORM's form", function()
  T.eq(select(Doc):compile("sqlite").sql,
       "SELECT cp_doc.id, cp_doc.title \nFROM cp_doc")
  T.eq(select(Doc):options(orm.defer(Doc.title)):compile("sqlite").sql,
       "SELECT cp_doc.id \nFROM cp_doc")
  -- Core statements keep their own text, the one built before too
  T.eq(early:compile("sqlite").sql, JOIN_SQL)
  T.eq(core_join():compile("sqlite").sql, JOIN_SQL)
  T.eq(select(p.c.id):select_from(p:outerjoin(c)):compile("sqlite").sql,
       OUTER_SQL)
end)

for _, db in ipairs(T.databases()) do
  T.test("joins of Core tables run on " .. db.name, function()
    local e = create_engine(db.url)
    md:drop_all(e)
    md:create_all(e)
    local conn <close> = e:connect()
    conn:execute(insert(p), {{id = 1, name = "a"}, {id = 2, name = "b"}})
    conn:execute(insert(c), {{id = 4, parent_id = 2, name = "x"},
                             {id = 5, parent_id = 1, name = "y"},
                             {id = 2, parent_id = 1, name = "z"}})
    local rows = conn:execute(core_join():order_by(c.c.id)):all()
    T.eq(#rows, 2)
    T.eq({rows[1][1], rows[1][2], rows[2][1], rows[2][2]}, {"b", 4, "a", 5})
    conn:rollback()
    md:drop_all(e)
  end)
end

T.done()
