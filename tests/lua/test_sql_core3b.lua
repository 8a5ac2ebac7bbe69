-- Core fidelity: str() of a schema Column, '%' doubling in literal_binds
-- for the format-paramstyle dialects, table comments in DDL and
-- reflection, FetchedValue markers.  Expected text from SQLAlchemy 1.4.46.
local T = require "testing"
local sa = require "retort"

local function squash(s) return (s:gsub("%s+", " ")) end

T.test("tostring of a Column prints table.name unquoted", function()
  local md = MetaData()
  local t = Table("Artist", md, Column("Name", String),
    Column("select", Integer), Column("id", Integer))
  T.eq(tostring(t.c.Name), "Artist.Name")
  T.eq(tostring(t.c.select), "Artist.select")
  -- expressions over it stay compiled and quoted
  T.eq(tostring(t.c.Name:label("x")), '"Artist"."Name"')
  T.eq(tostring(t.c.Name:desc()), '"Artist"."Name" DESC')
  T.eq(tostring(t.c.Name .. "a"), '"Artist"."Name" || :Name_1')
  -- a ColumnClause (sa.column / sa.table) is compiled
  T.eq(tostring(sa.table("My T", column("a")).c.a), '"My T".a')
  T.eq(tostring(column("Foo Bar")), '"Foo Bar"')
  -- an unattached Column is its bare name
  T.eq(tostring(Column("Foo Bar", Integer)), "Foo Bar")
  -- aliases, subqueries and CTEs: their name, anon_1 when anonymous
  T.eq(tostring(t:alias("a").c.Name), "a.Name")
  T.eq(tostring(t:alias("a b").c.Name), "a b.Name")
  T.eq(tostring(t:alias().c.Name), "anon_1.Name")
  T.eq(tostring(t:alias("a"):alias("b").c.Name), "b.Name")
  T.eq(tostring(select(t):subquery("sq").c.Name), "sq.Name")
  T.eq(tostring(select(t):subquery().c.Name), "anon_1.Name")
  T.eq(tostring(select(t):subquery("sq"):alias("sq2").c.Name), "sq2.Name")
  T.eq(tostring(select(t):cte("c").c.Name), "c.Name")
  T.eq(tostring(select(t):cte().c.id), "anon_1.id")
  T.eq(tostring(select(t.c.Name):lateral("l").c.Name), "l.Name")
  T.eq(tostring(union(select(t), select(t)):subquery("u").c.Name), "u.Name")
  -- a subquery's proxy of a labelled Column is a Column; of an expression,
  -- a ColumnClause (compiled)
  local sq = select(t.c.Name:label("x"), (t.c.id + 1):label("Y"),
    literal_column("z"), func.count(t.c.id)):subquery("sq")
  T.eq(tostring(sq.c.x), "sq.x")
  T.eq(tostring(sq.c.Y), 'sq."Y"')
  T.eq(tostring(sq.c.z), "sq.z")
  T.eq(tostring(sq.c.count), "sq.count_1")
  T.eq(tostring(select(sa.table("My T", column("A"))):subquery("s").c.A),
       's."A"')
  -- the name, not the key; the table's name without its schema
  T.eq(tostring(Table("kt", md, Column("x", Integer, {key = "k"})).c.k),
       "kt.x")
  T.eq(tostring(Table("users", md, Column("id", Integer),
    {schema = "Sch"}).c.id), "users.id")
  -- in a statement the column is quoted as before
  T.eq(squash(tostring(select(t.c.Name))),
       'SELECT "Artist"."Name" FROM "Artist"')
end)

T.test("literal_binds doubles % for postgresql and mysql only", function()
  local t = sa.table("t", column("a"))
  local function lit(e, d)
    return squash(e:compile(d, {literal_binds = true}).sql)
  end
  local like = t.c.a:like("a/%")
  T.eq(lit(like, "postgresql"), "t.a LIKE 'a/%%'")
  T.eq(lit(like, "mysql"), "t.a LIKE 'a/%%'")
  T.eq(lit(like, "sqlite"), "t.a LIKE 'a/%'")
  T.eq(squash(like:compile({literal_binds = true}).sql), "t.a LIKE 'a/%'")
  T.eq(tostring(like), "t.a LIKE :a_1")
  local sel = select(t):where(like)
  T.eq(lit(sel, "postgresql"), "SELECT t.a FROM t WHERE t.a LIKE 'a/%%'")
  T.eq(lit(sel, "sqlite"), "SELECT t.a FROM t WHERE t.a LIKE 'a/%'")
  T.eq(lit(literal_column("'5%'"), "postgresql"), "'5%%'")
  T.eq(lit(literal_column("'5%'"), "mysql"), "'5%%'")
  T.eq(lit(literal_column("'5%'"), "sqlite"), "'5%'")
  local tx = text("select '5%' from t where a = :x"):bindparams{x = "1%"}
  T.eq(lit(tx, "postgresql"), "select '5%%' from t where a = '1%%'")
  T.eq(lit(tx, "mysql"), "select '5%%' from t where a = '1%%'")
  T.eq(lit(tx, "sqlite"), "select '5%' from t where a = '1%'")
  T.eq(lit(t.c.a:contains("x"), "postgresql"), "t.a LIKE '%%' || 'x' || '%%'")
  T.eq(lit(t.c.a:contains("x"), "mysql"),
       "t.a LIKE concat(concat('%%', 'x'), '%%')")
  T.eq(lit(t.c.a:contains("x"), "sqlite"), "t.a LIKE '%' || 'x' || '%'")
  T.eq(lit(t.c.a % 5, "postgresql"), "t.a %% 5")
  T.eq(lit(t.c.a % 5, "mysql"), "t.a %% 5")
  T.eq(lit(t.c.a % 5, "sqlite"), "t.a % 5")
  T.eq(lit(select(literal("5%")), "postgresql"), "SELECT '5%%' AS anon_1")
  -- identifiers too
  local q = sa.table("t", column("a%b"))
  T.eq(lit(select(q):where(q.c["a%b"]:eq("q%")), "mysql"),
       "SELECT t.`a%%b` FROM t WHERE t.`a%%b` = 'q%%'")
  -- without literal_binds the driver's own placeholders: nothing doubled
  T.eq(squash(sel:compile("postgresql").sql),
       "SELECT t.a FROM t WHERE t.a LIKE $1")
  T.eq(squash(literal_column("'5%'"):compile("postgresql").sql), "'5%'")
end)

T.test("statements with % run undoubled on each database", function()
  for _, db in ipairs(T.databases()) do
    local e = create_engine(db.url)
    local conn <close> = e:connect()
    local row = conn:execute(select(literal_column("'5%'"):label("x"),
      (literal_column("7") % 4):label("m"),
      literal("a%"):like("a%"):label("l"))):first()
    T.eq(row.x, "5%", db.name)
    T.eq(math.tointeger(row.m), 3, db.name)
    T.ok(row.l == true or row.l == 1, db.name)
  end
end)

T.done()
