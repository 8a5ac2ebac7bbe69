-- Mapping details checked against SQLAlchemy 1.4 on every test database:
-- the columns a hybrid_property selects (SQL label and row key),
-- single_parent on collections and many-to-one, ...
-- Expected SQL, rows and errors were produced by SQLAlchemy 1.4.46 for
-- the same steps.
local T = require "testing"

local function squash(sql) return (sql:gsub("%s+", " "):gsub(" $", "")) end

------------------------------------------------------------------------
-- hybrid_property: SQLAlchemy's proxy_key.  An expression with a name of
-- its own (column, function, label) keeps it in SQL and rows key it by
-- the attribute; anything else is labelled with the attribute.
------------------------------------------------------------------------

local function hybrid_schema()
  local Base = orm.declarative_base()
  local function h(get, expr)
    return orm.hybrid_property(get, {expression = expr})
  end
  local User = Base:class "User" {
    __tablename__ = "hy_users",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    first = Column(String(20)),
    last = Column(String(20)),
    whole = orm.hybrid_property(function(self)
      return self.first .. self.last
    end),
    flen = h(function(self) return #self.first end,
             function(cls) return func.length(cls.first) end),
    given = orm.hybrid_property(function(self) return self.first end),
    named = h(function(self) return self.first end,
              function(cls) return (cls.first .. cls.last):label("nm") end),
    idtext = h(function(self) return tostring(self.id) end,
               function(cls) return sa.cast(cls.id, String(10)) end),
  }
  return Base, User
end

local function fields(r) return r._fields end

for _, db in ipairs(T.databases()) do
  local engine = sa.create_engine(db.url)
  local Base, User = hybrid_schema()
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local s <close> = orm.Session(engine)
  s:add_all{User{id = 1, first = "ann", last = "b"},
            User{id = 2, first = "bo", last = "c"}}
  s:commit()

  local function run(stmt, sql, rows, keys)
    T.eq(squash(tostring(stmt)), sql)
    local r = s:execute(stmt):all()
    local got = {}
    for i, row in ipairs(r) do
      got[i] = {}
      for j = 1, #row do got[i][j] = row[j] end
    end
    T.eq(got, rows)
    T.eq(fields(r[1]), keys)
    return r
  end

  T.test(db.name .. ": hybrid columns: SQL labels and row keys", function()
    local r = run(select(User.whole):order_by(User.id),
      "SELECT hy_users.first || hy_users.last AS whole FROM hy_users " ..
      "ORDER BY hy_users.id", {{"annb"}, {"boc"}}, {"whole"})
    T.eq(r[1].whole, "annb")
    -- a function keeps its own anonymous label
    r = run(select(User.flen):order_by(User.id),
      "SELECT length(hy_users.first) AS length_1 FROM hy_users " ..
      "ORDER BY hy_users.id", {{3}, {2}}, {"flen"})
    T.eq(r[2].flen, 2)
    T.eq(r[2]._mapping.flen, 2)
    -- a column: no label at all
    run(select(User.given):order_by(User.id),
      "SELECT hy_users.first FROM hy_users ORDER BY hy_users.id",
      {{"ann"}, {"bo"}}, {"given"})
    -- an expression labelled by the class
    run(select(User.named):order_by(User.id),
      "SELECT hy_users.first || hy_users.last AS nm FROM hy_users " ..
      "ORDER BY hy_users.id", {{"annb"}, {"boc"}}, {"named"})
    -- a CAST of a column is keyed by the column (WrapsColumnExpression)
    run(select(User.idtext):order_by(User.id),
      "SELECT CAST(hy_users.id AS VARCHAR(10)) AS idtext FROM hy_users " ..
      "ORDER BY hy_users.id", {{"1"}, {"2"}}, {"id"})
    run(select(User.flen:label("n")):order_by(User.id),
      "SELECT length(hy_users.first) AS n FROM hy_users " ..
      "ORDER BY hy_users.id", {{3}, {2}}, {"n"})
  end)

  T.test(db.name .. ": hybrid in WHERE, ORDER BY, filter_by", function()
    run(select(User.id):where(User.flen:gt(2)):order_by(User.flen:desc()),
      "SELECT hy_users.id FROM hy_users WHERE length(hy_users.first) > " ..
      ":length_1 ORDER BY length(hy_users.first) DESC", {{1}}, {"id"})
    run(select(User.id):filter_by{flen = 2},
      "SELECT hy_users.id FROM hy_users WHERE length(hy_users.first) = " ..
      ":length_1", {{2}}, {"id"})
  end)

  T.test(db.name .. ": hybrid next to an entity, and alone", function()
    local r = s:execute(select(User, User.flen):order_by(User.id)):all()
    T.eq(fields(r[1]), {"User", "flen"})
    T.ok(rawequal(r[1].User, s:get(User, 1)))
    T.eq(r[1].flen, 3)
    T.eq(s:scalars(select(User.flen):order_by(User.flen)):all(), {2, 3})
  end)

  T.test(db.name .. ": hybrid in session:query", function()
    local r = s:query(User.flen, User.whole):order_by(User.id):all()
    T.eq(fields(r[1]), {"flen", "whole"})
    T.eq(r[1].flen, 3)
    T.eq(r[2].whole, "boc")
    T.eq(s:query(User.flen):filter(User.flen:gt(2)):scalar(), 3)
    T.eq(fields(s:query(User.given):order_by(User.id):first()), {"given"})
  end)

  T.test(db.name .. ": hybrid on an aliased class", function()
    local ua = orm.aliased(User, {name = "u2"})
    run(select(ua.flen, ua.id, ua.whole):where(ua.flen:gt(2)),
      "SELECT length(u2.first) AS length_1, u2.id, u2.first || u2.last " ..
      "AS whole FROM hy_users AS u2 WHERE length(u2.first) > :length_2",
      {{3, 1, "annb"}}, {"flen", "id", "whole"})
  end)

  s:close()
  Base.metadata:drop_all(engine)
  engine:dispose()
end

------------------------------------------------------------------------
-- single_parent = true: an object given to a second parent through the
-- relationship is refused (InvalidRequestError) before anything changes;
-- changes that arrive through the other side of a backref are not
-- checked; a removed or expired object is free again; loaded objects are
-- not tracked
------------------------------------------------------------------------

local function single_parent_schema()
  local Base = orm.declarative_base()
  local relationship = orm.relationship
  local assoc = Table("sp_assoc", Base.metadata,
    Column("p_id", ForeignKey("sp_parent.id"), {primary_key = true}),
    Column("t_id", ForeignKey("sp_tag.id"), {primary_key = true}))
  local M = {Base = Base}
  M.Parent = Base:class "Parent" {
    __tablename__ = "sp_parent",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    kids = relationship("Child", {single_parent = true,
      cascade = "all, delete-orphan", back_populates = "parent"}),
    tags = relationship("Tag", {secondary = assoc, single_parent = true,
      cascade = "all, delete-orphan"}),
  }
  M.Child = Base:class "Child" {
    __tablename__ = "sp_child",
    id = Column(Integer, {primary_key = true}),
    pid = Column(ForeignKey("sp_parent.id")),
    parent = relationship("Parent", {back_populates = "kids"}),
  }
  M.Tag = Base:class "Tag" {
    __tablename__ = "sp_tag",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
  }
  M.Addr = Base:class "Addr" {
    __tablename__ = "sp_addr",
    id = Column(Integer, {primary_key = true}),
    pid = Column(ForeignKey("sp_parent.id")),
    owner = relationship("Parent", {single_parent = true,
      cascade = "all, delete-orphan"}),
  }
  return M
end

local function refused(fn, class, attr)
  local err = T.raises("InvalidRequestError", fn)
  T.match(err.message, "^Instance <%w+ at 0x%x+> is already associated " ..
          "with an instance of <class '" .. class .. "'> via its " .. attr ..
          " attribute, and is only allowed a single parent%.$")
end

T.test("single_parent: a one-to-many collection", function()
  local M = single_parent_schema()
  local p1, p2, c = M.Parent{name = "p1"}, M.Parent{name = "p2"}, M.Child{}
  p1.kids:append(c)
  refused(function() p2.kids:append(c) end, "Parent", "Parent.kids")
  T.eq(#p2.kids, 0)
  T.ok(rawequal(c.parent, p1))
  refused(function() p2.kids:insert(1, c) end, "Parent", "Parent.kids")
  -- appending it again to the same parent is refused too
  refused(function() p1.kids:append(c) end, "Parent", "Parent.kids")
  local c2 = M.Child{}
  p1.kids:append(c2)
  refused(function() p2.kids = {c2} end, "Parent", "Parent.kids")
  -- assigning a list that keeps a member is no new association
  p1.kids = {c, c2}
  T.eq(#p1.kids, 2)
  -- through the other side of the backref: not checked, and the member
  -- now belongs to its new parent
  local c3 = M.Child{}
  p1.kids:append(c3)
  c3.parent = p2
  T.ok(rawequal(p2.kids[1], c3))
  refused(function() p1.kids:append(c3) end, "Parent", "Parent.kids")
  -- removed: free again
  p1.kids:remove(c)
  p2.kids:append(c)
  T.ok(rawequal(c.parent, p2))
end)

T.test("single_parent: a many-to-many collection", function()
  local M = single_parent_schema()
  local p1, p2, t = M.Parent{name = "p1"}, M.Parent{name = "p2"},
                    M.Tag{name = "t"}
  p1.tags:append(t)
  refused(function() p2.tags:append(t) end, "Parent", "Parent.tags")
  refused(function() p1.tags:append(t) end, "Parent", "Parent.tags")
  T.eq(#p1.tags, 1)
  p1.tags:remove(t)
  p2.tags:append(t)
  T.eq(#p2.tags, 1)
end)

T.test("single_parent: a many-to-one", function()
  local M = single_parent_schema()
  local a1, a2, p = M.Addr{}, M.Addr{}, M.Parent{name = "pp"}
  a1.owner = p
  refused(function() a2.owner = p end, "Addr", "Addr.owner")
  T.eq(a2.owner, nil)
  a1.owner = p -- (the same value again)
  a1.owner = nil
  a2.owner = p
  T.ok(rawequal(a2.owner, p))
end)

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": single_parent: expired and loaded objects", function()
    local M = single_parent_schema()
    local engine = sa.create_engine(db.url)
    M.Base.metadata:drop_all(engine)
    M.Base.metadata:create_all(engine)
    local s = orm.Session(engine)
    local p, t = M.Parent{name = "x"}, M.Tag{name = "tx"}
    p.tags:append(t)
    s:add(p)
    s:flush()
    -- flushed but not expired: still p's
    refused(function() M.Parent{name = "y"}.tags:append(t) end, "Parent",
            "Parent.tags")
    s:commit()
    -- expired by the commit: its parent is forgotten
    local p2 = M.Parent{name = "y"}
    p2.tags:append(t)
    T.eq(#p2.tags, 1)
    p2.tags:remove(t)
    -- loaded from a row: never tracked
    local s2 = orm.Session(engine)
    local loaded = s2:get(M.Parent, p.id)
    T.eq(#loaded.tags, 1)
    local p3 = M.Parent{name = "z"}
    p3.tags:append(loaded.tags[1])
    T.eq(#p3.tags, 1)
    s2:close()
    s:close()
    M.Base.metadata:drop_all(engine)
    engine:dispose()
  end)
end

T.test("delete-orphan on a many-to-many needs single_parent", function()
  local Base = orm.declarative_base()
  local assoc = Table("dm_assoc", Base.metadata,
    Column("p_id", ForeignKey("dm_p.id"), {primary_key = true}),
    Column("t_id", ForeignKey("dm_t.id"), {primary_key = true}))
  Base:class "P" {
    __tablename__ = "dm_p",
    id = Column(Integer, {primary_key = true}),
    tags = orm.relationship("T", {secondary = assoc,
                                  cascade = "all, delete-orphan"}),
  }
  Base:class "T" {
    __tablename__ = "dm_t",
    id = Column(Integer, {primary_key = true}),
  }
  local err = T.raises("ArgumentError", orm.configure_mappers)
  T.eq(err.message, "For many-to-many relationship P.tags, delete-orphan " ..
    "cascade is normally configured only on the \"one\" side of a " ..
    "one-to-many relationship, and not on the \"many\" side of a " ..
    "many-to-one or many-to-many relationship.  To force this " ..
    "relationship to allow a particular \"T\" object to be referred " ..
    "towards by only a single \"P\" object at a time via the P.tags " ..
    "relationship, which would allow delete-orphan cascade to take place " ..
    "in this direction, set the single_parent=True flag. (Background on " ..
    "this error at: https://sqlalche.me/e/14/bbf0)")
end)

T.done()
