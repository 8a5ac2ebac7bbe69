-- API.md §1 and §4 behaviours a user script meets early: Result views
-- with unique(), scalars by name, Row ordering, transactions ended by a
-- closed connection, __abstract__ bases as mixins, the Mapper's
-- SQLAlchemy attributes.  Expectations checked against SQLAlchemy 1.4.
local T = require "testing"

local function setup(db)
  local e = create_engine(db.url)
  local c = e:connect()
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_sweep")
  c:exec_driver_sql("CREATE TABLE rt_sweep (x INTEGER, y VARCHAR(10))")
  c:exec_driver_sql("INSERT INTO rt_sweep (x, y) VALUES " ..
                    "(1, 'a'), (2, 'b'), (3, 'c'), (4, 'a'), (5, 'b')")
  c:commit()
  return e, c
end

local SEL = "SELECT x, y FROM rt_sweep ORDER BY x"

local function ys(maps)
  local out = {}
  for i, m in ipairs(maps) do out[i] = m.y end
  return out
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "unique() on a MappingResult keys on the row", function()
    local e, c <close> = setup(db)
    local m = c:execute(text(SEL)):mappings():columns("y"):unique():all()
    T.eq(ys(m), {"a", "b", "c"})
    T.eq(m[1].y, "a")
    T.eq(m[1].x, nil)
    -- whole rows differ, so nothing is dropped
    T.eq(#c:execute(text(SEL)):mappings():unique():all(), 5)
    local parts = {}
    for p in c:execute(text(SEL)):mappings():columns("y"):unique()
               :partitions(2) do
      parts[#parts + 1] = ys(p)
    end
    T.eq(parts, {{"a", "b"}, {"c"}})
    local r = c:execute(text(SEL)):mappings():columns("y"):unique()
    T.eq(r:fetchone().y, "a")
    T.eq(ys(r:fetchmany(5)), {"b", "c"})
    T.eq(r:fetchone(), nil)
    e:dispose()
  end)

  T.test(n .. "views of a unique() Result stay unique", function()
    local e, c <close> = setup(db)
    T.eq(c:execute(text(SEL)):columns("y"):unique():scalars():all(),
         {"a", "b", "c"})
    T.eq(c:execute(text(SEL)):unique():scalars(2):all(), {"a", "b", "c"})
    T.eq(c:execute(text(SEL)):unique():scalars():all(), {1, 2, 3, 4, 5})
    T.eq(ys(c:execute(text(SEL)):columns("y"):unique():mappings():all()),
         {"a", "b", "c"})
    -- scalar_one() of a unique Result: duplicates are one row
    T.eq(c:execute(text("SELECT y FROM rt_sweep WHERE y = 'a'")):unique()
          :scalar_one(), "a")
    T.raises("MultipleResultsFound", function()
      c:execute(text("SELECT y FROM rt_sweep WHERE y = 'a'")):scalar_one()
    end)
    e:dispose()
  end)

  T.test(n .. "scalars() takes a column name", function()
    local e, c <close> = setup(db)
    T.eq(c:execute(text(SEL)):scalars("y"):all(),
         {"a", "b", "c", "a", "b"})
    T.eq(c:execute(text(SEL)):scalars("y"):unique():all(), {"a", "b", "c"})
    T.eq(c:execute(text(SEL)):scalars(2):first(), "a")
    local e2 = T.raises("NoSuchColumnError", function()
      c:execute(text(SEL)):scalars("nope")
    end)
    T.eq(e2.message, "Could not locate column in row for column 'nope'")
    e:dispose()
  end)

  T.test(n .. "Rows order as tuples", function()
    local e, c <close> = setup(db)
    local rows = c:execute(text(SEL)):all()
    T.ok(rows[1] < rows[2])
    T.ok(not (rows[2] < rows[1]))
    T.ok(rows[1] <= rows[1])
    T.ok(rows[3] > rows[2])
    T.ok(rows[5] >= rows[4])
    -- the first differing value decides, not the later ones
    local r = c:execute(text("SELECT 1 AS a, 'z' AS b UNION ALL " ..
                             "SELECT 2, 'a' ORDER BY a")):all()
    T.ok(r[1] < r[2])
    -- a shorter row that is a prefix sorts first
    local one = c:execute(text("SELECT 1 AS a")):one()
    T.ok(one < r[1])
    T.ok(not (r[1] < one))
    local sorted = c:execute(text(SEL)):all()
    table.sort(sorted, function(a, b) return a > b end)
    T.eq(tostring(sorted[1]), "(5, 'b')")
    e:dispose()
  end)

  T.test(n .. "a repeated column name answers with its last column",
         function()
    local e, c <close> = setup(db)
    local r = c:exec_driver_sql("SELECT 1 AS a, 2 AS a"):first()
    T.eq(r._fields, {"a", "a"})
    T.eq(r.a, 2)
    T.eq(r["a"], 2)
    T.eq(r._mapping.a, 2)
    T.eq(r[1], 1)
    T.eq(c:exec_driver_sql("SELECT 1 AS a, 2 AS a"):mappings():one().a, 2)
    -- a compiled select names the second one apart
    local t = sa.table("rt_sweep", sa.column("x"))
    local t2 = t:alias("t2")
    local r2 = c:execute(select(t.c.x, t2.c.x):select_from(
      t:join(t2, t.c.x:eq(t2.c.x))):where(t.c.x:eq(1))):one()
    T.eq(r2._fields, {"x", "x_1"})
    T.eq(r2.x, 1)
    e:dispose()
  end)

  T.test(n .. "a Transaction ended by closing its connection", function()
    local e, c = setup(db)
    local t = c:begin()
    c:execute(text("INSERT INTO rt_sweep (x, y) VALUES (6, 'f')"))
    c:close()
    T.eq(t.is_active, false)
    local err = T.raises("InvalidRequestError", function() t:commit() end)
    T.eq(err.message, "This transaction is inactive")
    t:rollback() -- a no-op, as SQLAlchemy's
    local c2 <close> = e:connect()
    -- the insert was rolled back, not committed
    T.eq(c2:execute(text("SELECT count(*) FROM rt_sweep WHERE x = 6"))
          :scalar(), 0)
    T.raises("ResourceClosedError", function() c:execute(text("SELECT 1")) end)
    c2:close()
    e:dispose()
  end)
end

T.test("an __abstract__ class is a mixin of the classes declared from it",
       function()
  local Base = orm.declarative_base()
  local AbstractThing = Base:class "AbstractThing" {
    __abstract__ = true,
    id = Column(Integer, {primary_key = true}),
    kind = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "kind",
                       polymorphic_identity = "thing"},
    __table_args__ = {comment = "things"},
  }
  local Thing = AbstractThing:class "Thing" {
    __tablename__ = "thing",
    name = Column(String),
  }
  local Other = AbstractThing:class "Other" {
    __tablename__ = "other",
    __mapper_args__ = {polymorphic_identity = "other"},
  }
  local cols = {}
  for _, col in ipairs(Thing.__table__.c) do cols[#cols + 1] = col.name end
  T.eq(cols, {"id", "kind", "name"})
  T.eq(Thing.__table__.comment, "things")
  local m = orm.inspect(Thing)
  T.eq(m.polymorphic_identity, "thing")
  -- each class has its own copy of the columns
  T.ok(Thing.__table__.c.id ~= Other.__table__.c.id)
  T.eq(Other.__table__.c.id.table.name, "other")
  -- a body's own __mapper_args__ replaces the inherited one
  T.eq(orm.inspect(Other).polymorphic_identity, "other")
  T.eq(rawget(Thing, "__abstract__"), nil)
  local engine = create_engine("sqlite://")
  Base.metadata:create_all(engine)
  local s <close> = orm.Session(engine)
  s:add(Thing{name = "n"})
  s:commit()
  local t = s:scalars(select(Thing)):one()
  T.eq(t.kind, "thing")
  T.eq(tostring(t), "Thing(id=1, kind='thing', name='n')")
end)

T.test("an abstract base's declared_attr runs for each subclass", function()
  local Base = orm.declarative_base()
  local Named = Base:class "Named" {
    __abstract__ = true,
    __tablename__ = orm.declared_attr(function(cls)
      return cls.__name__:lower()
    end),
    id = Column(Integer, {primary_key = true}),
  }
  local Target = Named:class "Target" {name = Column(String(20))}
  local Foo = Named:class "Foo" {
    target_id = orm.declared_attr(function()
      return Column(ForeignKey("target.id"))
    end),
    target = orm.declared_attr(function() return relationship("Target") end),
  }
  T.eq(Target.__tablename__, "target")
  T.eq(Foo.__tablename__, "foo")
  T.eq(select(Foo.id):join(Foo.target):compile().sql,
       "SELECT foo.id \nFROM foo JOIN target ON target.id = foo.target_id")
end)

T.test("declared attributes read __tablename__; mixin __mapper_args__ " ..
       "name the class's copy of a mixin Column", function()
  local Base = orm.declarative_base()
  local TArgs = {
    __table_args__ = orm.declared_attr(function(cls)
      return {Index("ix_" .. cls.__tablename__ .. "_name", "name")}
    end),
  }
  local vcol = Column("version", Integer, {nullable = false})
  local Versioned = {version = vcol,
                     __mapper_args__ = {version_id_col = vcol}}
  local Doc = Base:class("Doc", TArgs, Versioned) {
    __tablename__ = "doc",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(10)),
  }
  local Note = Base:class("Note", Versioned) {
    __tablename__ = "note",
    id = Column(Integer, {primary_key = true}),
  }
  T.eq(Doc.__table__.indexes[1].name, "ix_doc_name")
  local m = orm.inspect(Doc)
  T.ok(m.version_id_col == Doc.__table__.c.version)
  T.ok(orm.inspect(Note).version_id_col == Note.__table__.c.version)
  local engine = create_engine("sqlite://")
  Base.metadata:create_all(engine)
  local sqls = {}
  event.listen(engine, "before_cursor_execute", function(_, _, sql)
    sqls[#sqls + 1] = sql
  end)
  local s <close> = orm.Session(engine)
  local d = Doc{name = "a"}
  s:add(d)
  s:commit()
  T.eq(d.version, 1)
  d.name = "b"
  sqls = {}
  s:commit()
  T.eq(sqls[1], "UPDATE doc SET version=?, name=? WHERE doc.id = ? " ..
                "AND doc.version = ?")
  T.eq(d.version, 2)
end)

T.test("Mapper: SQLAlchemy's attributes and text form", function()
  local Base = orm.declarative_base()
  local Target = Base:class "Target" {
    __tablename__ = "target",
    id = Column(Integer, {primary_key = true}),
  }
  local Foo = Base:class "Foo" {
    __tablename__ = "foo",
    id = Column(Integer, {primary_key = true}),
    target_id = Column(ForeignKey("target.id")),
    target = relationship("Target"),
  }
  local m = orm.inspect(Foo)
  T.eq(tostring(m), "mapped class Foo->foo")
  -- registry:generate_base() gives a base of that registry
  local reg = orm.registry()
  local B2 = reg:generate_base()
  local A = B2:class "A" {__tablename__ = "a",
                          id = Column(Integer, {primary_key = true})}
  T.ok(B2.registry == reg and B2.metadata == reg.metadata)
  T.ok(reg.metadata.tables.a == A.__table__)
  T.ok(orm.inspect(A).registry == reg)
  T.ok(m.class_ == Foo)
  T.ok(m.c == m.columns)
  T.eq(m.c.target_id.name, "target_id")
  T.eq(m.is_mapper, true)
  T.eq(m:has_property("target"), true)
  T.eq(m:has_property("nope"), false)
  T.ok(m:get_property("target") == m.relationships.target)
  local err = T.raises("InvalidRequestError", function()
    m:get_property("nope")
  end)
  T.eq(err.message, "Mapper 'mapped class Foo->foo' has no property 'nope'")
  orm.configure_mappers()
  T.ok(m.relationships.target.mapper == orm.inspect(Target))
  local f = Foo{id = 4}
  T.eq(m:primary_key_from_instance(f), {4})
  local k = m:identity_key_from_instance(f)
  T.ok(k[1] == Foo)
  T.eq(k[2], {4})
  T.ok(m:primary_key_from_instance(Foo{})[1] == sa.null)
end)

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": an ORM result's Result API", function()
    local engine = create_engine(db.url)
    local Base = orm.declarative_base()
    local User = Base:class "User" {
      __tablename__ = "rt_sweep_user",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(30)),
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    for n in ("abcde"):gmatch(".") do s:add(User{name = n}) end
    s:commit()
    local q = select(User):order_by(User.id)
    -- fetchone, and fetchmany() without a size: the rest
    local r = s:execute(q)
    T.eq(tostring(r:fetchone()), "(User(id=1, name='a'),)")
    T.eq(#r:fetchmany(), 4)
    T.eq(r:fetchone(), nil)
    T.eq(s:execute(q):keys(), {"User"})
    local q2 = select(User, User.name:label("nm")):order_by(User.id)
    T.eq(s:execute(q2):keys(), {"User", "nm"})
    -- rows: _fields, _mapping, _asdict, comparison
    local row = s:execute(q2):first()
    T.eq(row._fields, {"User", "nm"})
    T.ok(row._mapping.User == row[1])
    T.eq(row:_asdict().nm, "a")
    T.eq(row.nm, "a")
    T.ok(s:execute(q):first() == s:execute(q):first())
    T.ok(s:execute(q):first() ~= s:execute(q2):first())
    -- mappings()
    local maps = s:execute(q2):mappings():fetchmany(2)
    T.eq(#maps, 2)
    T.eq(maps[2].nm, "b")
    T.ok(maps[1].User == s:get(User, 1))
    T.eq(s:execute(q2):mappings():keys(), {"User", "nm"})
    T.raises("MultipleResultsFound", function()
      s:execute(q2):mappings():one()
    end)
    -- columns() and scalars(i)
    local q3 = select(User.id, User):order_by(User.id)
    T.eq(tostring(s:execute(q3):columns(2):first()), "(User(id=1, name='a'),)")
    T.eq(s:execute(q3):columns("User"):first()._fields, {"User"})
    T.ok(s:execute(q3):scalars(2):first() == s:get(User, 1))
    T.eq(#s:execute(q3):scalars(2):all(), 5)
    T.ok(s:execute(q3):scalars("User"):all()[5] == s:get(User, 5))
    T.eq(s:execute(q3):scalars(1):all(), {1, 2, 3, 4, 5})
    local parts = {}
    for p in s:execute(q3):scalars(2):partitions(2) do
      parts[#parts + 1] = #p
    end
    T.eq(parts, {2, 2, 1})
    T.raises("NoSuchColumnError", function() s:execute(q3):columns("nope") end)
    T.raises("ArgumentError", function() s:execute(q3):scalars(3) end)
    s:close()
    Base.metadata:drop_all(engine)
    engine:dispose()
  end)
end

T.test("columns-clause names: CAST, col:label(nil), repeats", function()
  local m = MetaData()
  local t = Table("u", m, Column("id", Integer), Column("name", String))
  T.eq(tostring(select(t.c.id, cast(t.c.id, String))),
       "SELECT u.id, CAST(u.id AS VARCHAR) AS id__1 \nFROM u")
  T.eq(tostring(select(cast(t.c.id, String), t.c.id, t.c.id)),
       "SELECT CAST(u.id AS VARCHAR) AS id, u.id AS id_1, u.id AS id__1 " ..
       "\nFROM u")
  T.eq(tostring(select(cast(t.c.id, String), cast(t.c.id, String))),
       "SELECT CAST(u.id AS VARCHAR) AS id, CAST(u.id AS VARCHAR) AS id__1 " ..
       "\nFROM u")
  T.eq(tostring(select(t.c.id, t.c.id:label(nil), t.c.id:label(nil),
                       (t.c.id + 1):label(nil),
                       func.count(t.c.id):label(nil))),
       "SELECT u.id, u.id AS id_1, u.id AS id_2, u.id + :id_3 AS anon_1, " ..
       "count(u.id) AS count_1 \nFROM u")
  T.eq(tostring(select(select(t.c.id:label(nil)):subquery())),
       "SELECT anon_1.id_1 \nFROM (SELECT u.id AS id_1 \nFROM u) AS anon_1")
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  m:create_all(c)
  c:execute(insert(t):values{id = 7, name = "n"})
  local r = c:execute(select(cast(t.c.id, String), t.c.id, t.c.id)):one()
  T.eq(r._fields, {"id", "id_1", "id__1"})
  T.eq(r.id_1, 7)
  T.eq(r[1], "7")
end)

T.test("Session:in_transaction, in_nested_transaction", function()
  local e = create_engine("sqlite://")
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
                         id = Column(Integer, {primary_key = true})}
  B.metadata:create_all(e)
  local s = orm.Session(e)
  local out = {s:in_transaction()}
  local function note(v) out[#out + 1] = v end
  s:add(U{}); note(s:in_transaction())
  s:flush(); note(s:in_transaction())
  s:commit(); note(s:in_transaction())
  s:scalars(select(U)):all(); note(s:in_transaction())
  local n = s:begin_nested(); note(s:in_nested_transaction())
  n:commit(); note(s:in_nested_transaction())
  s:rollback(); note(s:in_transaction())
  s:begin(); note(s:in_transaction())
  s:close(); note(s:in_transaction())
  T.eq(out, {false, true, true, false, true, true, false, false, true, false})
end)

T.test("__table_args__ mysql_* options: MySQL's table options", function()
  local Base = orm.declarative_base()
  local A = Base:class "A" {
    __tablename__ = "rt_sweep_opts",
    __table_args__ = {mysql_engine = "InnoDB", comment = "hi"},
    id = Column(Integer, {primary_key = true}),
  }
  T.eq(CreateTable(A.__table__):compile("mysql").sql,
       "\nCREATE TABLE rt_sweep_opts (\n\tid INTEGER NOT NULL AUTO_INCREMENT, " ..
       "\n\tPRIMARY KEY (id)\n)ENGINE=InnoDB COMMENT='hi'\n\n")
  -- other dialects leave them out
  T.eq(CreateTable(A.__table__):compile("sqlite").sql,
       "\nCREATE TABLE rt_sweep_opts (\n\tid INTEGER NOT NULL, " ..
       "\n\tPRIMARY KEY (id)\n)\n\n")
  local t = Table("t3", MetaData(), Column("id", Integer, {primary_key = true}),
                  {mysql_collate = "utf8mb4_bin",
                   mysql_default_charset = "utf8mb4"})
  -- COLLATE after the character set; DEFAULT CHARSET spelled with a space
  T.match(CreateTable(t):compile("mysql").sql,
          "%)DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_bin\n\n$")
  for _, db in ipairs(T.databases()) do
    local e = create_engine(db.url)
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local c <close> = e:connect()
    c:execute(insert(A.__table__):values{id = 1})
    T.eq(c:execute(select(A.__table__.c.id)):scalar(), 1)
    c:rollback()
    c:close()
    Base.metadata:drop_all(e)
    e:dispose()
  end
end)

T.done()
