-- MetaData keys its tables as SQLAlchemy does: "schema.name" for a table
-- with a schema, the bare name otherwise, so tables of one name in
-- several schemas share a MetaData; Table() with a key already held,
-- remove, sorted_tables, foreign keys and reflection go by those keys.
-- Expected values from SQLAlchemy 1.4.46.
local T = require "testing"

local function squash(s)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function keys(md)
  local out = {}
  for k in pairs(md.tables) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function colnames(t)
  local out = {}
  for i, c in ipairs(t.columns) do out[i] = c.name end
  return out
end

local function pk(name) return Column(name, Integer, {primary_key = true}) end

T.test("one name in several schemas: keys, Table() again, errors", function()
  local md = MetaData()
  local t1 = Table("t", md, pk("id"), {schema = "s1"})
  local t2 = Table("t", md, pk("id"), {schema = "s2"})
  local t0 = Table("t", md, pk("id"))
  T.ok(t1 ~= t2 and t2 ~= t0 and t1 ~= t0)
  T.eq(keys(md), {"s1.t", "s2.t", "t"})
  T.ok(md.tables["s1.t"] == t1 and md.tables["s2.t"] == t2 and md.tables.t == t0)
  T.eq({tostring(t1), tostring(t0), t1.key, t0.key}, {"s1.t", "t", "s1.t", "t"})
  -- the key held already: the same Table; with new columns, the error
  T.ok(Table("t", md, {schema = "s1"}) == t1)
  T.ok(Table("t", md) == t0)
  local ok, e = pcall(Table, "t", md, Column("x", Integer), {schema = "s1"})
  T.eq({ok, e.kind, e.message}, {false, "InvalidRequestError",
    "Table 's1.t' is already defined for this MetaData instance.  Specify " ..
    "'extend_existing=True' to redefine options and columns on an existing " ..
    "Table object."})
  ok, e = pcall(Table, "t", md, Column("x", Integer))
  T.eq(e.message:match("^Table '[^']*'"), "Table 't'")
  -- keep_existing ignores the new column, extend_existing adds it, to
  -- that schema's table alone
  T.eq(colnames(Table("t", md, Column("x", Integer),
                      {schema = "s1", keep_existing = true})), {"id"})
  T.ok(Table("t", md, Column("x", Integer),
             {schema = "s1", extend_existing = true}) == t1)
  T.eq({colnames(t1), colnames(t2), colnames(t0)}, {{"id", "x"}, {"id"}, {"id"}})
  T.raises("ArgumentError", function()
    return Table("t", md, {schema = "s1", keep_existing = true,
                           extend_existing = true})
  end)
  -- must_exist: the key must be held
  T.ok(Table("t", md, {schema = "s2", must_exist = true}) == t2)
  ok, e = pcall(Table, "u", md, {schema = "s1", must_exist = true})
  T.eq({ok, e.kind, e.message}, {false, "InvalidRequestError",
                                 "Table 's1.u' not defined"})
  ok, e = pcall(Table, "u", MetaData({schema = "q"}), {mustexist = true})
  T.eq(e.message, "Table 'q.u' not defined")
end)

T.test("foreign keys resolve by key; sorted_tables; remove", function()
  local md = MetaData()
  local t1 = Table("t", md, pk("id"), {schema = "s1"})
  local t2 = Table("t", md, pk("id"), {schema = "s2"})
  local t0 = Table("t", md, pk("id"))
  local u = Table("u", md, pk("id"), Column("t_id", ForeignKey("s2.t.id")),
    Column("t0_id", ForeignKey("t.id")))
  -- a Column as the target names its table's schema
  local v = Table("v", md, pk("id"), Column("t_id", ForeignKey(t1.c.id)),
    {schema = "s2"})
  T.eq(v.foreign_keys[1].target_fullname, "s1.t.id")
  T.eq({u.c.t_id.type.__name__, v.c.t_id.type.__name__}, {"Integer", "Integer"})
  T.eq(tostring(select(u):join_from(u, t2)),
       "SELECT u.id, u.t_id, u.t0_id \nFROM u JOIN s2.t ON s2.t.id = u.t_id")
  T.eq(tostring(select(u):join_from(u, t0)),
       "SELECT u.id, u.t_id, u.t0_id \nFROM u JOIN t ON t.id = u.t0_id")
  local ok, e = pcall(function() return tostring(select(u):join_from(u, t1)) end)
  T.eq({ok, e.kind, e.message}, {false, "NoForeignKeysError",
    "Can't find any foreign key relationships between 'u' and 't'."})
  T.eq(tostring(select(v):join_from(v, t1)),
       "SELECT s2.v.id, s2.v.t_id \nFROM s2.v JOIN s1.t ON s1.t.id = s2.v.t_id")
  T.eq(squash(CreateTable(u):compile("postgresql").sql), squash([[
CREATE TABLE u (
	id SERIAL NOT NULL, 
	t_id INTEGER, 
	t0_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(t_id) REFERENCES s2.t (id), 
	FOREIGN KEY(t0_id) REFERENCES t (id)
)]]))
  T.eq(squash(tostring(CreateTable(v))), squash([[
CREATE TABLE s2.v (
	id INTEGER NOT NULL, 
	t_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(t_id) REFERENCES s1.t (id)
)]]))
  local order = {}
  for i, t in ipairs(md.sorted_tables) do order[i] = t.key end
  T.eq(order, {"s1.t", "s2.t", "t", "s2.v", "u"})
  -- remove goes by the key: the other schemas' tables stay
  md:remove(t1)
  T.eq(keys(md), {"s2.t", "s2.v", "t", "u"})
  T.eq(#md.sorted_tables, 4)
  -- the key is free again
  local t1b = Table("t", md, pk("id"), Column("y", Integer), {schema = "s1"})
  T.ok(t1b ~= t1 and md.tables["s1.t"] == t1b)
end)

T.test("a Table() that fails is forgotten", function()
  local md = MetaData()
  T.raises("ArgumentError", function()
    return Table("w", md, Column("id", Integer), 42)
  end)
  T.eq(keys(md), {})
  T.eq(#md.sorted_tables, 0)
  local w = Table("w", md, Column("id", Integer))
  T.eq({keys(md), colnames(w)}, {{"w"}, {"id"}})
end)

T.test("MetaData({schema}): keys, bare foreign keys, to_metadata", function()
  local m2 = MetaData({schema = "ms"})
  local a = Table("a", m2, pk("id"))
  local b = Table("a", m2, pk("id"), {schema = false})
  local c = Table("c", m2, pk("id"), Column("a_id", ForeignKey("a.id")))
  T.ok(a ~= b)
  T.eq(keys(m2), {"a", "ms.a", "ms.c"})
  T.eq(tostring(select(c):join_from(c, a)),
       "SELECT ms.c.id, ms.c.a_id \nFROM ms.c JOIN ms.a ON ms.a.id = ms.c.a_id")
  T.raises("NoForeignKeysError", function() return c:join(b) end)
  local md = MetaData()
  local t2 = Table("t", md, pk("id"), {schema = "s2"})
  local t0 = Table("t", md, pk("id"))
  T.eq(t2:to_metadata(m2).key, "s2.t")
  -- no schema kept: looked for as "t", made in the MetaData's schema
  local n2 = t0:to_metadata(m2)
  T.eq(n2.key, "ms.t")
  T.eq(keys(m2), {"a", "ms.a", "ms.c", "ms.t", "s2.t"})
  -- schema = false (SQLAlchemy's None): the MetaData's, found there now
  T.ok(t0:to_metadata(m2, {schema = false}) == n2)
end)

-- each database's form of a schema: SQLite attaches one, PostgreSQL
-- creates a schema, MySQL a database
local function make_schemas(conn, db, drop)
  for _, s in ipairs{"skk_a", "skk_b"} do
    if db.name == "sqlite" then
      conn:exec_driver_sql((drop and "DETACH " or "ATTACH ':memory:' AS ") .. s)
    elseif db.name == "postgresql" then
      conn:exec_driver_sql("DROP SCHEMA IF EXISTS " .. s .. " CASCADE")
      if not drop then conn:exec_driver_sql("CREATE SCHEMA " .. s) end
    else
      conn:exec_driver_sql("DROP DATABASE IF EXISTS " .. s)
      if not drop then conn:exec_driver_sql("CREATE DATABASE " .. s) end
    end
  end
  conn:exec_driver_sql("DROP TABLE IF EXISTS skk_parent")
end

for _, db in ipairs(T.databases()) do
  T.test("reflection keys tables by schema on " .. db.name, function()
    local engine = create_engine(db.url)
    local conn <close> = engine:connect()
    make_schemas(conn, db)
    local ok, err = pcall(function()
      local md = MetaData()
      local pa = Table("skk_parent", md, pk("id"), Column("name", String(20)),
        {schema = "skk_a"})
      Table("skk_child", md, pk("id"),
        Column("parent_id", ForeignKey("skk_a.skk_parent.id")), {schema = "skk_a"})
      Table("skk_parent", md, pk("id"), Column("code", String(5)),
        {schema = "skk_b"})
      Table("skk_parent", md, pk("id"), Column("other", Integer))
      md:create_all(conn)
      conn:execute(insert(pa), {{id = 1, name = "one"}})
      conn:execute(insert(md.tables["skk_a.skk_child"]), {{id = 7, parent_id = 1}})
      conn:commit()
      -- reflect(schema): "schema.name" keys; the key into the same
      -- schema names it
      local r = MetaData()
      r:reflect(conn, {schema = "skk_a"})
      T.eq(keys(r), {"skk_a.skk_child", "skk_a.skk_parent"})
      T.eq(r.tables["skk_a.skk_child"].foreign_keys[1].target_fullname,
           "skk_a.skk_parent.id")
      r:reflect(conn, {schema = "skk_b"})
      r:reflect(conn, {only = {"skk_parent"}})
      T.eq(keys(r), {"skk_a.skk_child", "skk_a.skk_parent", "skk_b.skk_parent",
                     "skk_parent"})
      T.eq({colnames(r.tables["skk_a.skk_parent"]),
            colnames(r.tables["skk_b.skk_parent"]),
            colnames(r.tables.skk_parent)},
           {{"id", "name"}, {"id", "code"}, {"id", "other"}})
      -- autoload of a key held already: that Table
      T.ok(Table("skk_parent", r, {autoload_with = conn, schema = "skk_b"}) ==
           r.tables["skk_b.skk_parent"])
      -- autoload brings the referred table in under its key, and joins
      local m2 = MetaData()
      local ch = Table("skk_child", m2, {autoload_with = conn, schema = "skk_a"})
      T.eq(keys(m2), {"skk_a.skk_child", "skk_a.skk_parent"})
      local stmt = select(ch.c.id, m2.tables["skk_a.skk_parent"].c.name)
        :join_from(ch, m2.tables["skk_a.skk_parent"])
      T.eq(tostring(stmt), "SELECT skk_a.skk_child.id, skk_a.skk_parent.name \n" ..
        "FROM skk_a.skk_child JOIN skk_a.skk_parent ON " ..
        "skk_a.skk_parent.id = skk_a.skk_child.parent_id")
      T.eq(conn:execute(stmt):all()[1]._fields, {"id", "name"})
      T.eq(tostring(conn:execute(stmt):one()), "(7, 'one')")
      -- MetaData({schema}) reflects its schema
      local m3 = MetaData({schema = "skk_a"})
      m3:reflect(conn)
      T.eq(keys(m3), {"skk_a.skk_child", "skk_a.skk_parent"})
      local m4 = MetaData()
      m4:reflect(conn, {schema = "skk_a", only = {"skk_child"}})
      T.eq(keys(m4), {"skk_a.skk_child", "skk_a.skk_parent"})
      md:drop_all(conn)
      conn:commit()
    end)
    conn:rollback()
    make_schemas(conn, db, true)
    conn:commit()
    if not ok then error(err, 0) end
  end)
end

-- Declarative classes of one table name in two schemas; relationships
-- through ForeignKey("schema.table.col"), a secondary named
-- "schema.table", foreign_keys naming "table.c.col"; automap of a schema.
local function orm_classes()
  local Base = orm.declarative_base()
  local C = {}
  C.PA = Base:class "PA" {
    __tablename__ = "skk_item", __table_args__ = {schema = "skk_a"},
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    kids = relationship("Kid", {back_populates = "parent"}),
    tags = relationship("Tag", {secondary = "skk_a.skk_assoc"}),
  }
  C.PB = Base:class "PB" {
    __tablename__ = "skk_item", __table_args__ = {schema = "skk_b"},
    id = Column(Integer, {primary_key = true}),
    code = Column(String(5)),
  }
  C.Kid = Base:class "Kid" {
    __tablename__ = "skk_kid",
    id = Column(Integer, {primary_key = true}),
    a_id = Column(ForeignKey("skk_a.skk_item.id")),
    b_id = Column(Integer),
    parent = relationship("PA", {back_populates = "kids"}),
    other = relationship("PB", {
      primaryjoin = function() return C.Kid.b_id:eq(C.PB.id) end,
      foreign_keys = "skk_kid.c.b_id"}),
    other2 = relationship("PB", {
      primaryjoin = function() return C.Kid.b_id:eq(C.PB.id) end,
      foreign_keys = "skk_b.skk_item.c.id", viewonly = true}),
  }
  C.Tag = Base:class "Tag" {
    __tablename__ = "skk_tag", __table_args__ = {schema = "skk_a"},
    id = Column(Integer, {primary_key = true}),
  }
  Table("skk_assoc", Base.metadata,
    Column("item_id", ForeignKey("skk_a.skk_item.id"), {primary_key = true}),
    Column("tag_id", ForeignKey("skk_a.skk_tag.id"), {primary_key = true}),
    {schema = "skk_a"})
  return Base, C
end

T.test("relationship strings name tables by key", function()
  local Base, C = orm_classes()
  T.eq(keys(Base.metadata), {"skk_a.skk_assoc", "skk_a.skk_item", "skk_a.skk_tag",
                             "skk_b.skk_item", "skk_kid"})
  T.eq(tostring(select(C.Kid):join(C.Kid.parent)),
       "SELECT skk_kid.id, skk_kid.a_id, skk_kid.b_id \nFROM skk_kid JOIN " ..
       "skk_a.skk_item ON skk_a.skk_item.id = skk_kid.a_id")
  orm.configure_mappers()
  -- SQLAlchemy's MANYTOONE and ONETOMANY: foreign_keys decides
  local rels = orm.inspect(C.Kid).relationships
  T.eq({rels.other.direction, rels.other2.direction}, {"manytoone", "onetomany"})
end)

for _, db in ipairs(T.databases()) do
  T.test("ORM and automap across schemas on " .. db.name, function()
    local engine = create_engine(db.url)
    local conn <close> = engine:connect()
    make_schemas(conn, db)
    local Base, C = orm_classes()
    local ok, err = pcall(function()
      conn:exec_driver_sql("DROP TABLE IF EXISTS skk_kid")
      Base.metadata:create_all(conn)
      conn:commit()
      local s = orm.Session(conn)
      local pa = C.PA{id = 1, name = "a"}
      local k = C.Kid{id = 5, parent = pa, b_id = 1}
      pa.tags:append(C.Tag{id = 3})
      s:add_all{pa, C.PB{id = 1, code = "b"}, k}
      s:commit()
      s:expire_all()
      k = s:get(C.Kid, 5)
      T.eq({k.parent.name, k.other.code, #k.other2, k.other2[1].code,
            k.parent.tags[1].id}, {"a", "b", 1, "b", 3})
      T.eq(conn:execute(select(C.PB.code)):scalars():all(), {"b"})
      s:close()
      -- automap of a schema: its tables, keyed "skk_a.name"; the
      -- association table becomes a many-to-many
      local AB = orm.automap_base()
      AB:prepare(conn, {schema = "skk_a"})
      T.eq(keys(AB.metadata), {"skk_a.skk_assoc", "skk_a.skk_item", "skk_a.skk_tag"})
      local I = AB.classes.skk_item
      T.ok(AB.classes.skk_tag ~= nil and AB.classes.skk_assoc == nil)
      local s2 = orm.Session(conn)
      local it = s2:get(I, 1)
      T.eq({it.name, it.skk_tag_collection[1].id,
            it.skk_tag_collection[1].skk_item_collection[1].name}, {"a", 3, "a"})
      s2:close()
      conn:rollback()
      Base.metadata:drop_all(conn)
      conn:commit()
    end)
    conn:rollback()
    if not ok then
      pcall(Base.metadata.drop_all, Base.metadata, conn)
      conn:commit()
    end
    make_schemas(conn, db, true)
    conn:commit()
    if not ok then error(err, 0) end
  end)
end

-- (last: a mapping that fails to configure stops every later one, as in
-- SQLAlchemy)
T.test("a relationship string naming no table", function()
  local B2 = orm.declarative_base()
  B2:class "X" {
    __tablename__ = "skk_x", id = Column(Integer, {primary_key = true}),
    y = relationship("X", {primaryjoin = function() return sa.true_() end,
                           foreign_keys = "nosuch.skk_x.c.id"}),
  }
  local ok, e = pcall(function() B2.registry:configure() end)
  T.eq({ok, e.kind}, {false, "InvalidRequestError"})
  T.ok(e.message:find("failed to locate a name ('nosuch')", 1, true), e.message)
end)

T.done()
