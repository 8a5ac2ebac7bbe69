-- Mapping details checked against SQLAlchemy 1.4, on every test database:
-- a legacy Query's row has no key for an unlabelled expression, the
-- Mapper's property collections walk in mapping order, a synonym of a name that is not mapped (no error until used), ordering
-- comparisons of a composite (NotImplementedError), include_properties /
-- exclude_properties, and a dynamic relationship's filter_by given a Row.
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = sql:gsub("%s+", " "):gsub('[`"]', ""):gsub(" $", "")
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

-- the SQL text with the dialect's placeholders made "?"
local function q(db, text)
  if db.name == "postgresql" then
    local n = 0
    text = text:gsub("%?", function() n = n + 1; return "$" .. n end)
  end
  return text
end

local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end
function Point:__composite_values__() return self.x, self.y end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Ex = Base:class "Ex" {
    __tablename__ = "ml_ex",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    secret = Column(String(20)),
    note = Column(String(20)),
    __mapper_args__ = {exclude_properties = {"secret", "note"}},
  }
  M.Inc = Base:class "Inc" {
    __tablename__ = "ml_inc",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    secret = Column(String(20)),
    __mapper_args__ = {include_properties = {"id", "name"}},
  }
  M.Shape = Base:class "Shape" {
    __tablename__ = "ml_shape",
    id = Column(Integer, {primary_key = true}),
    x = Column(Integer),
    y = Column(Integer),
    p = orm.composite(Point.new, "x", "y"),
    alias = orm.synonym("missing"),
  }
  M.Owner = Base:class "Owner" {
    __tablename__ = "ml_owner",
    id = Column(Integer, {primary_key = true}),
    items = relationship("Item", {lazy = "dynamic"}),
  }
  M.Item = Base:class "Item" {
    __tablename__ = "ml_item",
    id = Column(Integer, {primary_key = true}),
    owner_id = Column(ForeignKey("ml_owner.id")),
    email = Column(String(20)),
  }
  return M
end

T.test("synonym of a name not mapped: no error until used", function()
  local M = schema()
  orm.configure_mappers()
  -- the instance reads the plain attribute it stands for
  local sh = M.Shape{id = 1}
  T.eq(sh.alias, nil)
  sh.alias = 5
  T.eq(sh.missing, 5)
  T.eq(sh.alias, 5)
end)

T.test("a composite has no ordering comparisons", function()
  local M = schema()
  local Shape = M.Shape
  for _, op in ipairs({"lt", "le", "gt", "ge"}) do
    local e = T.raises("NotImplementedError", function()
      return Shape.p[op](Shape.p, Point.new(1, 2))
    end)
    T.match(e.message, "'" .. op .. "'")
    T.match(e.message, "Shape%.p")
  end
  T.raises("NotImplementedError", function() return Shape.p < Point.new(1, 2) end)
  T.raises("NotImplementedError", function() return Shape.p <= Point.new(1, 2) end)
  -- the other side: a > b is b < a
  T.match(T.raises("NotImplementedError", function()
    return Point.new(1, 2) < Shape.p end).message, "'gt'")
  -- equality still works
  T.eq(tostring(Shape.p:eq(Point.new(1, 2))),
       "ml_shape.x = :x_1 AND ml_shape.y = :y_1")
end)

T.test("Mapper collections walk in the mapper's property order", function()
  local Base = orm.declarative_base()
  Base:class "OA" {__tablename__ = "ml_oa",
                   id = Column(Integer, {primary_key = true})}
  Base:class "OB" {__tablename__ = "ml_ob",
                   id = Column(Integer, {primary_key = true}),
                   oc_id = Column(ForeignKey("ml_oc.id"))}
  local OC = Base:class "OC" {
    __tablename__ = "ml_oc",
    id = Column(Integer, {primary_key = true}),
    x = Column(Integer),
    y = Column(Integer),
    a_id = Column(ForeignKey("ml_oa.id")),
    bb = relationship("OB", {backref = "oc"}),
    p = orm.composite(Point.new, "x", "y"),
    aa = relationship("OA"),
    xx = orm.synonym("x"),
    total = orm.column_property(sa.literal_column("x") + 1),
  }
  orm.configure_mappers()
  local m = orm.inspect(OC)
  local function walk(t)
    local ks = {}
    for k, v in pairs(t) do
      T.ok(rawequal(v, t[k]))
      ks[#ks + 1] = k
    end
    return ks
  end
  -- (as SQLAlchemy 1.4's mapper.attrs.keys() and the others)
  local attrs = {"bb", "p", "aa", "xx", "total", "id", "x", "y", "a_id"}
  T.eq(walk(m.attrs), attrs)
  T.eq(m.attrs:keys(), attrs)
  T.eq(#m.attrs:values(), #attrs)
  T.eq(m.attrs:items()[3][1], "aa")
  T.eq(walk(m.column_attrs), {"total", "id", "x", "y", "a_id"})
  T.eq(m.column_attrs:keys(), {"total", "id", "x", "y", "a_id"})
  T.eq(walk(m.relationships), {"bb", "aa"})
  T.eq(walk(m.synonyms), {"xx"})
  T.eq(m.synonyms:keys(), {"xx"})
  T.eq(walk(m.composites), {"p"})
  T.eq(m.attrs.bb.key, "bb")
  -- a backref comes after the declared properties
  T.eq(walk(orm.inspect(Base.registry.classes.OB).attrs),
       {"id", "oc_id", "oc"})
end)

for _, db in ipairs(T.databases()) do
  local M = schema()
  local Ex, Inc, Owner, Item = M.Ex, M.Inc, M.Owner, M.Item
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  T.test(pfx .. "exclude_properties / include_properties", function()
    local s <close> = orm.Session(engine)
    T.eq(orm.inspect(Ex).columns.secret, nil)
    T.eq(orm.inspect(Inc).columns.secret, nil)
    T.ok(orm.inspect(Ex).columns.name ~= nil)
    clear(log)
    s:add(Ex{id = 1, name = "a"})
    s:flush()
    s:add(Inc{id = 1, name = "b"})
    s:flush()
    T.eq(log, {q(db, "INSERT INTO ml_ex (id, name) VALUES (?, ?)"),
               q(db, "INSERT INTO ml_inc (id, name) VALUES (?, ?)")})
    T.eq(tostring(select(Ex)), "SELECT ml_ex.id, ml_ex.name \nFROM ml_ex")
    s:expunge_all()
    clear(log)
    local ex = s:scalars(select(Ex)):one()
    T.eq(log[1], "SELECT ml_ex.id, ml_ex.name FROM ml_ex")
    T.eq({ex.id, ex.name}, {1, "a"})
    -- (as in SQLAlchemy, the class keeps its Column: not an attribute)
    T.eq(ex.secret, Ex.secret)
    clear(log)
    local inc = s:query(Inc):one()
    T.eq(log[1], "SELECT ml_inc.id AS ml_inc_id, ml_inc.name AS " ..
         "ml_inc_name FROM ml_inc")
    T.eq({inc.id, inc.name}, {1, "b"})
    -- an update writes the mapped columns alone
    clear(log)
    inc.name = "c"
    s:flush()
    T.eq(log[1], q(db, "UPDATE ml_inc SET name=? WHERE ml_inc.id = ?"))
    s:rollback()
  end)

  T.test(pfx .. "a legacy Query's unlabelled expression has no key",
    function()
      local s <close> = orm.Session(engine)
      s:add_all({Ex{id = 1, name = "a"}, Ex{id = 2, name = "b"}})
      s:flush()
      clear(log)
      local rows = s:query(Ex.id, func.count(Ex.id)):group_by(Ex.id)
        :order_by(Ex.id):all()
      T.eq(log[1], "SELECT ml_ex.id AS ml_ex_id, count(ml_ex.id) AS " ..
           "count_1 FROM ml_ex GROUP BY ml_ex.id ORDER BY ml_ex.id")
      local row = rows[1]
      -- (SQLAlchemy 1.4: row._fields == ('id',), row._mapping == {'id': 1})
      T.eq(row._fields, {"id"})
      T.eq(#row, 2)
      T.eq({row[1], row[2], row.id}, {1, 1, 1})
      T.eq(row._mapping, {id = 1})
      -- row.count is the tuple's method, as there
      T.eq(type(row.count), "function")
      -- labelled, binary and cast expressions, a literal column
      row = s:query(Ex.id, func.count(Ex.id):label("n"), Ex.id + 1,
                    sa.cast(Ex.id, String(10)), sa.literal_column("name"))
        :group_by(Ex.id, Ex.name):order_by(Ex.id):first()
      T.eq(row._fields, {"id", "n", "name"})
      T.eq({row[1], row[2], row[3], row[4], row[5]}, {1, 1, 2, "1", "a"})
      T.eq({row.id, row.n, row.name}, {1, 1, "a"})
      T.eq(s:query(func.count(Ex.id)):one()._fields, {})
      T.eq(s:query(func.count(Ex.id)):scalar(), 2)
      -- the 2.0 style keeps the function's name, as SQLAlchemy's does
      T.eq(s:execute(select(Ex.id, func.count(Ex.id)):group_by(Ex.id))
           :first()._fields, {"id", "count"})
      s:rollback()
    end)

  T.test(pfx .. "a dynamic relationship's filter_by refuses a Row",
    function()
      local s <close> = orm.Session(engine)
      local o = Owner{id = 1}
      o.items:append(Item{id = 1, email = "x"})
      s:add(o)
      s:flush()
      local row = s:execute(select(Item.email)):first()
      T.raises("ArgumentError", function() return o.items:filter_by(row) end)
      T.raises("ArgumentError", function() return select(Item):filter_by(row) end)
      T.raises("ArgumentError", function() return o.items:filter_by("x") end)
      local got = o.items:filter_by(row._mapping):all()
      T.eq(#got, 1)
      T.eq(got[1].email, "x")
      s:rollback()
    end)
end

T.done()
