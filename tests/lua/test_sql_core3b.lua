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

local function comment_table(md, name)
  return Table(name or "core3b_cm", md,
    Column("id", Integer, {primary_key = true, comment = "the id's"}),
    Column("x", String(10), {comment = "col x"}),
    Column("y", Integer), {comment = "tab's comment"})
end

T.test("table and column comments in DDL per dialect", function()
  local t = comment_table(MetaData(), "t")
  T.eq(t.comment, "tab's comment")
  T.eq(t.c.x.comment, "col x")
  T.eq(Table("t2", MetaData(), Column("a", Integer)).comment, nil)
  T.eq(CreateTable(t):compile("mysql").sql, "\nCREATE TABLE t (\n" ..
       "\tid INTEGER NOT NULL COMMENT 'the id''s' AUTO_INCREMENT, \n" ..
       "\tx VARCHAR(10) COMMENT 'col x', \n\ty INTEGER, \n" ..
       "\tPRIMARY KEY (id)\n)COMMENT='tab''s comment'\n\n")
  T.eq(CreateTable(t):compile("postgresql").sql, "\nCREATE TABLE t (\n" ..
       "\tid SERIAL NOT NULL, \n\tx VARCHAR(10), \n\ty INTEGER, \n" ..
       "\tPRIMARY KEY (id)\n)\n\n")
  T.eq(CreateTable(t):compile("sqlite").sql, "\nCREATE TABLE t (\n" ..
       "\tid INTEGER NOT NULL, \n\tx VARCHAR(10), \n\ty INTEGER, \n" ..
       "\tPRIMARY KEY (id)\n)\n\n")
  T.eq(tostring(CreateTable(t)), "\nCREATE TABLE t (\n" ..
       "\tid INTEGER NOT NULL, \n\tx VARCHAR(10), \n\ty INTEGER, \n" ..
       "\tPRIMARY KEY (id)\n)\n\n")
  -- MySQL's strings escape backslashes
  local b = Table("b", MetaData(), Column("a", Integer), {comment = "x\\y"})
  T.eq(squash(CreateTable(b):compile("mysql").sql),
       " CREATE TABLE b ( a INTEGER )COMMENT='x\\\\y' ")
  -- the COMMENT ON constructs create_all issues on PostgreSQL
  local u = Table("User", MetaData(),
    Column("select", Integer, {comment = "it's"}),
    Column("id", Integer, {primary_key = true, comment = "x"}),
    {comment = "x", schema = "Sc"})
  for _, d in ipairs{"postgresql", "sqlite"} do
    T.eq(sa.SetTableComment(u):compile(d).sql,
         [[COMMENT ON TABLE "Sc"."User" IS 'x']])
    T.eq(sa.DropTableComment(u):compile(d).sql,
         [[COMMENT ON TABLE "Sc"."User" IS NULL]])
    T.eq(sa.SetColumnComment(u.c.select):compile(d).sql,
         [[COMMENT ON COLUMN "Sc"."User"."select" IS 'it''s']])
    T.eq(sa.DropColumnComment(u.c.select):compile(d).sql,
         [[COMMENT ON COLUMN "User"."select" IS NULL]])
  end
  T.eq(tostring(sa.SetTableComment(u)), [[COMMENT ON TABLE "Sc"."User" IS 'x']])
  T.eq(sa.SetTableComment(u):compile("mysql").sql,
       "ALTER TABLE `Sc`.`User` COMMENT 'x'")
  T.eq(sa.DropTableComment(u):compile("mysql").sql,
       "ALTER TABLE `Sc`.`User` COMMENT ''")
  T.eq(sa.SetColumnComment(u.c.select):compile("mysql").sql,
       "ALTER TABLE `Sc`.`User` CHANGE `select` `select` INTEGER " ..
       "COMMENT 'it''s'")
  T.eq(sa.SetColumnComment(u.c.id):compile("mysql").sql,
       "ALTER TABLE `Sc`.`User` CHANGE id id INTEGER NOT NULL " ..
       "COMMENT 'x' AUTO_INCREMENT")
  T.eq(sa.DropColumnComment(u.c.select):compile("mysql").sql,
       "COMMENT ON COLUMN `User`.`select` IS NULL")
  T.raises("ArgumentError", sa.SetColumnComment, column("x"))
  T.raises("ArgumentError", sa.SetTableComment, u.c.id)
end)

T.test("create_all keeps comments; reflection reads them back", function()
  for _, db in ipairs(T.databases()) do
    local e = create_engine(db.url)
    local md = MetaData()
    local t = comment_table(md)
    md:drop_all(e)
    local seen = {}
    local function log(_, _, stmt) seen[#seen + 1] = squash(stmt) end
    orm.event.listen(e, "before_cursor_execute", log)
    md:create_all(e)
    orm.event.remove(e, "before_cursor_execute", log)
    local insp = sa.inspect(e)
    local cols = {}
    for _, c in ipairs(insp:get_columns("core3b_cm")) do cols[c.name] = c end
    local md2 = MetaData()
    local r = Table("core3b_cm", md2, {autoload_with = e})
    if db.name == "sqlite" then
      T.raises("NotSupportedError", insp.get_table_comment, insp, "core3b_cm")
      T.eq(r.comment, nil)
      T.eq(cols.x.comment, nil)
    else
      T.eq(insp:get_table_comment("core3b_cm"), {text = "tab's comment"})
      T.eq(r.comment, "tab's comment", db.name)
      T.eq(cols.x.comment, "col x")
      T.eq(cols.id.comment, "the id's")
      T.eq(cols.y.comment, nil)
      T.eq(r.c.x.comment, "col x")
    end
    if db.name == "postgresql" then
      T.eq(seen[#seen - 2], "COMMENT ON TABLE core3b_cm IS 'tab''s comment'")
      T.eq(seen[#seen - 1], "COMMENT ON COLUMN core3b_cm.id IS 'the id''s'")
      T.eq(seen[#seen], "COMMENT ON COLUMN core3b_cm.x IS 'col x'")
    else
      T.match(seen[#seen], "^ ?CREATE TABLE core3b_cm")
    end
    md:drop_all(e)
  end
end)

local function fetched_table(md, name)
  return Table(name or "ft", md, Column("id", Integer, {primary_key = true}),
    Column("x", String(10)),
    Column("fv", Integer, {server_default = sa.FetchedValue()}),
    Column("fu", Integer, {server_onupdate = sa.FetchedValue()}),
    Column("both", Integer, sa.FetchedValue(),
           sa.FetchedValue({for_update = true})),
    Column("sd", Integer, {server_default = "3"}))
end

T.test("FetchedValue: no DDL, fetched by return_defaults", function()
  local md = MetaData()
  local t = fetched_table(md)
  local t2 = Table("ft2", md, Column("id", Integer,
    {primary_key = true, server_default = sa.FetchedValue()}),
    Column("x", Integer))
  T.eq(squash(CreateTable(t):compile("postgresql").sql),
       ' CREATE TABLE ft ( id SERIAL NOT NULL, x VARCHAR(10), fv INTEGER, ' ..
       'fu INTEGER, "both" INTEGER, sd INTEGER DEFAULT \'3\', ' ..
       'PRIMARY KEY (id) ) ')
  T.eq(squash(CreateTable(t):compile("mysql").sql),
       " CREATE TABLE ft ( id INTEGER NOT NULL AUTO_INCREMENT, " ..
       "x VARCHAR(10), fv INTEGER, fu INTEGER, `both` INTEGER, " ..
       "sd INTEGER DEFAULT '3', PRIMARY KEY (id) ) ")
  T.eq(squash(CreateTable(t):compile("sqlite").sql),
       " CREATE TABLE ft ( id INTEGER NOT NULL, x VARCHAR(10), fv INTEGER, " ..
       "fu INTEGER, both INTEGER, sd INTEGER DEFAULT '3', PRIMARY KEY (id) ) ")
  -- a primary key the server fills is not autoincrement
  for _, d in ipairs{"postgresql", "mysql", "sqlite"} do
    T.eq(squash(CreateTable(t2):compile(d).sql),
         " CREATE TABLE ft2 ( id INTEGER NOT NULL, x INTEGER, " ..
         "PRIMARY KEY (id) ) ", d)
  end
  T.eq(t:insert():values{x = "a"}:return_defaults():compile("postgresql").sql,
       'INSERT INTO ft (x) VALUES ($1) RETURNING ft.id, ft.fv, ft.fu, ' ..
       'ft."both", ft.sd')
  T.eq(t:update():values{x = "a"}:return_defaults():compile("postgresql").sql,
       'UPDATE ft SET x=$1 RETURNING ft.fu, ft."both"')
  T.eq(t2:insert():values{x = 1}:compile("postgresql").sql,
       "INSERT INTO ft2 (x) VALUES ($1) RETURNING ft2.id")
  for _, d in ipairs{"mysql", "sqlite"} do
    T.eq(t:insert():values{x = "a"}:return_defaults():compile(d).sql,
         "INSERT INTO ft (x) VALUES (?)")
    T.eq(t:update():values{x = "a"}:return_defaults():compile(d).sql,
         "UPDATE ft SET x=?")
    T.eq(t2:insert():values{x = 1}:compile(d).sql,
         "INSERT INTO ft2 (x) VALUES (?)")
  end
  T.eq(tostring(t:insert():values{x = "a"}), "INSERT INTO ft (x) VALUES (:x)")
  T.eq(tostring(t:update():values{x = "a"}), "UPDATE ft SET x=:x")
  -- the markers as SQLAlchemy shows them
  T.eq(tostring(t.c.fv.server_default), "FetchedValue()")
  T.eq(t.c.fv.server_onupdate, nil)
  T.eq(t.c.fu.server_default, nil)
  T.eq(tostring(t.c.fu.server_onupdate), "FetchedValue(for_update=True)")
  T.eq(tostring(t.c.both.server_default), "FetchedValue()")
  T.eq(tostring(t.c.both.server_onupdate), "FetchedValue(for_update=True)")
  T.raises("ArgumentError", sa.FetchedValue, 5)
end)

-- triggers that play the server's part
local triggers = {
  sqlite = {
    "CREATE TRIGGER core3b_fv_ins AFTER INSERT ON core3b_fv BEGIN " ..
      "UPDATE core3b_fv SET fv = COALESCE(fv, 42), fu = 0 " ..
      "WHERE id = NEW.id; END",
    "CREATE TRIGGER core3b_fv_upd AFTER UPDATE OF x ON core3b_fv BEGIN " ..
      "UPDATE core3b_fv SET fu = fu + 1 WHERE id = NEW.id; END"},
  postgresql = {
    "CREATE OR REPLACE FUNCTION core3b_fv_ins() RETURNS trigger AS $$ " ..
      "BEGIN NEW.fv := COALESCE(NEW.fv, 42); NEW.fu := 0; RETURN NEW; " ..
      "END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION core3b_fv_upd() RETURNS trigger AS $$ " ..
      "BEGIN NEW.fu := OLD.fu + 1; RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER core3b_fv_ins BEFORE INSERT ON core3b_fv " ..
      "FOR EACH ROW EXECUTE PROCEDURE core3b_fv_ins()",
    "CREATE TRIGGER core3b_fv_upd BEFORE UPDATE ON core3b_fv " ..
      "FOR EACH ROW EXECUTE PROCEDURE core3b_fv_upd()"},
  mysql = {
    "CREATE TRIGGER core3b_fv_ins BEFORE INSERT ON core3b_fv " ..
      "FOR EACH ROW SET NEW.fv = COALESCE(NEW.fv, 42), NEW.fu = 0",
    "CREATE TRIGGER core3b_fv_upd BEFORE UPDATE ON core3b_fv " ..
      "FOR EACH ROW SET NEW.fu = OLD.fu + 1"},
}

T.test("FetchedValue: the ORM loads server-set values on access", function()
  for _, db in ipairs(T.databases()) do
    local e = create_engine(db.url)
    local Base = orm.declarative_base()
    local Thing = Base:class "Thing" {
      __tablename__ = "core3b_fv",
      id = Column(Integer, {primary_key = true}),
      x = Column(String(10)),
      fv = Column(Integer, {server_default = sa.FetchedValue()}),
      fu = Column(Integer, {server_onupdate = sa.FetchedValue()}),
    }
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    do
      local c <close> = e:connect()
      for _, q in ipairs(triggers[db.name]) do c:exec_driver_sql(q) end
      c:commit()
    end
    local log = {}
    local function listen(_, _, stmt) log[#log + 1] = squash(stmt) end
    orm.event.listen(e, "before_cursor_execute", listen)
    local s <close> = orm.Session(e)
    local t = Thing{x = "a"}
    s:add(t)
    s:flush()
    -- fv is left to the server, fu (no server default) goes as NULL
    T.match(log[#log], "^INSERT INTO core3b_fv %(x, fu%) VALUES")
    local n = #log
    T.eq(t.fv, 42, db.name)
    T.eq(#log, n + 1, db.name) -- loaded on access
    T.match(log[#log], "^SELECT .*core3b_fv%.fv")
    t.x = "b"
    s:flush()
    n = #log
    T.eq(t.fu, 1, db.name) -- the UPDATE expired it
    T.eq(#log, n + 1, db.name)
    T.eq(t.x, "b")
    T.eq(#log, n + 1, db.name)
    -- a value the object sets goes in the statement and stays loaded
    local t2 = Thing{x = "c", fv = 7}
    s:add(t2)
    s:flush()
    T.match(log[#log], "^INSERT INTO core3b_fv %(x, fv, fu%) VALUES")
    n = #log
    T.eq(t2.fv, 7, db.name)
    T.eq(#log, n, db.name)
    -- a row updated by a bulk UPDATE elsewhere is not this flush's
    s:expire(t2)
    T.eq(s:execute(sa.select(Thing.fv):where(Thing.id:eq(t2.id))):scalar(), 7)
    s:rollback()
    orm.event.remove(e, "before_cursor_execute", listen)
    Base.metadata:drop_all(e)
    if db.name == "postgresql" then
      local c <close> = e:connect()
      c:exec_driver_sql("DROP FUNCTION core3b_fv_ins()")
      c:exec_driver_sql("DROP FUNCTION core3b_fv_upd()")
      c:commit()
    end
  end
end)

T.test("an onupdate SQL expression expires its attribute after UPDATE",
       function()
  local e = create_engine("sqlite://")
  local Base = orm.declarative_base()
  local Thing = Base:class "Thing" {
    __tablename__ = "core3b_ou",
    id = Column(Integer, {primary_key = true}),
    x = Column(String(10)),
    u = Column(Integer, {onupdate = func.length("abcd")}),
    v = Column(Integer, {onupdate = 9}),
  }
  Base.metadata:create_all(e)
  local s <close> = orm.Session(e)
  local t = Thing{x = "a"}
  s:add(t)
  s:flush()
  T.eq(t.u, nil)
  t.x = "b"
  s:flush()
  local st = sa.inspect(t)
  T.eq(st.expired_attributes, {"u"})
  T.eq(t.u, 4)
  -- a value set on the object is what the UPDATE sends: not expired
  t.x, t.u = "c", 1
  s:flush()
  T.eq(sa.inspect(t).expired_attributes, {})
  T.eq(t.u, 1)
end)

T.done()
