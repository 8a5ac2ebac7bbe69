-- Mapping details checked against SQLAlchemy 1.4 on every test database:
-- the columns a hybrid_property selects (SQL label and row key),
-- single_parent on collections and many-to-one, the target's eager
-- loaders in a lazy = "dynamic" relationship's query, the row keys of
-- synonyms, composite values given as one list, the order of validators
-- when a collection is replaced, deferred columns in subqueries of an
-- entity (Query.count), the columns of a with_polymorphic entity
-- selected alone, the first instance configuring the mappers.
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

-- a subclass reads a parent's hybrid with itself as the class (its
-- joins and criterion come along), and a single-table subclass's own
-- hybrids are mapped
for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": hybrid_property of subclasses", function()
    local Base = orm.declarative_base()
    local Employee = Base:class "Employee" {
      __tablename__ = "hy_emp",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      name = Column(String(30)),
      type = Column(String(20)),
      __mapper_args__ = {polymorphic_on = "type",
                         polymorphic_identity = "employee"},
      nlen = orm.hybrid_property(function(self) return #self.name end,
        {expression = function(cls) return func.length(cls.name) end}),
    }
    local Engineer = Employee:class "Engineer" {
      __tablename__ = "hy_eng",
      id = Column(Integer, ForeignKey("hy_emp.id"), {primary_key = true}),
      lang = Column(String(20)),
      __mapper_args__ = {polymorphic_identity = "engineer"},
    }
    local Mgr = Employee:class "Mgr" {
      __mapper_args__ = {polymorphic_identity = "mgr"},
      up = orm.hybrid_property(function(self) return self.name:upper() end,
        {expression = function(cls) return func.upper(cls.name) end}),
    }
    local engine = sa.create_engine(db.url)
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s = orm.Session(engine)
    s:add_all{Engineer{id = 1, name = "e1", lang = "lua"},
              Mgr{id = 2, name = "m1"}, Employee{id = 3, name = "p"}}
    s:commit()
    local stmt = select(Engineer.nlen)
    T.eq(squash(tostring(stmt)), "SELECT length(hy_emp.name) AS length_1 " ..
         "FROM hy_emp JOIN hy_eng ON hy_emp.id = hy_eng.id")
    local r = s:execute(stmt):all()
    T.eq(#r, 1)
    T.eq(r[1].nlen, 2)
    local log = T.capture(engine)
    T.eq(#s:execute(select(Mgr.nlen)):all(), 1)
    T.eq(squash(T.norm(log[1])), "SELECT length(hy_emp.name) AS length_1 " ..
         "FROM hy_emp WHERE hy_emp.type IN (?)")
    T.eq(#s:execute(select(Employee.nlen)):all(), 3)
    T.eq(Mgr{name = "ab"}.up, "AB")
    r = s:execute(select(Mgr.up)):all()
    T.eq(#r, 1)
    T.eq(r[1].up, "M1")
    T.eq(r[1]._fields, {"up"})
    s:close()
    Base.metadata:drop_all(engine)
    engine:dispose()
  end)
end

-- a parent's synonyms and validators hold for its subclasses (single
-- and joined), and a subclass body's own synonyms and validators too
T.test("synonyms and validators of subclasses", function()
  local Base = orm.declarative_base()
  local Employee = Base:class "Employee" {
    __tablename__ = "sv_emp",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    type = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
    nm = orm.synonym("name"),
    v = orm.validates("name", function(self, k, v) return v:upper() end),
  }
  local Mgr = Employee:class "Mgr" {
    __mapper_args__ = {polymorphic_identity = "mgr"},
  }
  local Eng = Employee:class "Eng" {
    __tablename__ = "sv_eng",
    id = Column(Integer, ForeignKey("sv_emp.id"), {primary_key = true}),
    lang = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "eng"},
    ln = orm.synonym("lang"),
    vl = orm.validates("lang", function(self, k, v) return v .. "!" end),
  }
  local m = Mgr{name = "m1"}
  T.eq({m.name, m.nm, m.type}, {"M1", "M1", "mgr"})
  local e = Eng{name = "e1", lang = "lua"}
  T.eq({e.name, e.nm, e.lang, e.ln, e.type}, {"E1", "E1", "lua!", "lua!",
                                              "eng"})
  e.nm = "zz"
  T.eq(e.name, "ZZ")
  e.ln = "c"
  T.eq(e.lang, "c!")
  -- the subclass's synonym is its own attribute: its criterion comes
  T.eq(squash(tostring(select(Eng.nm))),
       "SELECT sv_emp.name FROM sv_emp JOIN sv_eng ON sv_emp.id = sv_eng.id")
end)

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

------------------------------------------------------------------------
-- lazy = "dynamic": the query is one of the target entity, so the
-- target's own joined and selectin relationships load with its rows
------------------------------------------------------------------------

local function dynamic_schema()
  local Base = orm.declarative_base()
  local relationship = orm.relationship
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "dy_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    posts = relationship("Post", {lazy = "dynamic", order_by = "Post.id"}),
  }
  M.Post = Base:class "Post" {
    __tablename__ = "dy_post",
    id = Column(Integer, {primary_key = true}),
    uid = Column(ForeignKey("dy_user.id")),
    title = Column(String(20)),
    cat_id = Column(ForeignKey("dy_cat.id")),
    tags = relationship("Tag", {lazy = "selectin", order_by = "Tag.id"}),
    cat = relationship("Cat", {lazy = "joined"}),
  }
  M.Tag = Base:class "Tag" {
    __tablename__ = "dy_tag",
    id = Column(Integer, {primary_key = true}),
    pid = Column(ForeignKey("dy_post.id")),
    word = Column(String(20)),
  }
  M.Cat = Base:class "Cat" {
    __tablename__ = "dy_cat",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": dynamic relationship: the target's eager loaders",
         function()
    local M = dynamic_schema()
    local engine = sa.create_engine(db.url)
    M.Base.metadata:drop_all(engine)
    M.Base.metadata:create_all(engine)
    local s = orm.Session(engine)
    s:add(M.User{id = 1, name = "u", posts = {
      M.Post{id = 1, title = "a", cat = M.Cat{id = 1, name = "c"},
             tags = {M.Tag{id = 1, word = "x"}, M.Tag{id = 2, word = "y"}}},
      M.Post{id = 2, title = "b"}}})
    s:commit()
    s:close()
    local log = T.capture(engine)
    s = orm.Session(engine)
    local u = s:get(M.User, 1)
    T.clear(log)
    local posts = u.posts:all()
    T.eq(#log, 2)
    T.eq(squash(T.norm(log[1])),
      "SELECT dy_post.id AS dy_post_id, dy_post.uid AS dy_post_uid, " ..
      "dy_post.title AS dy_post_title, dy_post.cat_id AS dy_post_cat_id, " ..
      "dy_cat_1.id AS dy_cat_1_id, dy_cat_1.name AS dy_cat_1_name " ..
      "FROM dy_post LEFT OUTER JOIN dy_cat AS dy_cat_1 ON dy_cat_1.id = " ..
      "dy_post.cat_id WHERE ? = dy_post.uid ORDER BY dy_post.id")
    T.eq(squash(T.norm(log[2])),
      "SELECT dy_tag.pid AS dy_tag_pid, dy_tag.id AS dy_tag_id, " ..
      "dy_tag.word AS dy_tag_word FROM dy_tag WHERE dy_tag.pid IN (?, ?) " ..
      "ORDER BY dy_tag.id")
    T.clear(log)
    -- everything is loaded: no more SQL
    T.eq(posts[1].cat.name, "c")
    T.eq(posts[2].cat, nil)
    T.eq(#posts[1].tags, 2)
    T.eq(posts[1].tags[2].word, "y")
    T.eq(#posts[2].tags, 0)
    T.eq(#log, 0)
    T.ok(rawequal(posts[1], s:get(M.Post, 1)))
    -- the text of the query is the one that runs
    T.eq(squash(T.norm(tostring(u.posts))), squash(
      "SELECT dy_post.id AS dy_post_id, dy_post.uid AS dy_post_uid, " ..
      "dy_post.title AS dy_post_title, dy_post.cat_id AS dy_post_cat_id, " ..
      "dy_cat_1.id AS dy_cat_1_id, dy_cat_1.name AS dy_cat_1_name " ..
      "FROM dy_post LEFT OUTER JOIN dy_cat AS dy_cat_1 ON dy_cat_1.id = " ..
      "dy_post.cat_id WHERE ? = dy_post.uid ORDER BY dy_post.id"))
    -- a filtered query, first() and indexing load the same way
    s:close()
    s = orm.Session(engine)
    u = s:get(M.User, 1)
    T.clear(log)
    local a = u.posts:filter(M.Post.title:eq("a")):first()
    T.eq(#log, 2)
    T.match(log[1], "LEFT OUTER JOIN dy_cat AS dy_cat_1")
    T.match(log[2], "FROM dy_tag")
    T.clear(log)
    T.eq(a.cat.name, "c")
    T.eq(#a.tags, 2)
    T.eq(#log, 0)
    s:close()
    s = orm.Session(engine)
    u = s:get(M.User, 1)
    T.clear(log)
    T.eq(u.posts[2].title, "b")
    T.eq(#log, 2)
    T.eq(u.posts:count(), 2)
    T.eq(squash(T.norm(log[3])),
      "SELECT count(*) AS count_1 FROM (SELECT dy_post.id AS dy_post_id, " ..
      "dy_post.uid AS dy_post_uid, dy_post.title AS dy_post_title, " ..
      "dy_post.cat_id AS dy_post_cat_id FROM dy_post WHERE ? = " ..
      "dy_post.uid ORDER BY dy_post.id) AS anon_1")
    -- loader options of the target's rows
    s:close()
    s = orm.Session(engine)
    u = s:get(M.User, 1)
    T.clear(log)
    T.eq(#u.posts:options(orm.lazyload(M.Post.cat)):all(), 2)
    T.eq(#log, 2)
    T.eq(squash(T.norm(log[1])),
      "SELECT dy_post.id AS dy_post_id, dy_post.uid AS dy_post_uid, " ..
      "dy_post.title AS dy_post_title, dy_post.cat_id AS dy_post_cat_id " ..
      "FROM dy_post WHERE ? = dy_post.uid ORDER BY dy_post.id")
    T.match(log[2], "FROM dy_tag")
    s:close()
    M.Base.metadata:drop_all(engine)
    engine:dispose()
  end)
end

------------------------------------------------------------------------
-- synonyms select what they stand for, keyed by their own name; a
-- composite's __composite_values__ may give its values as one list
------------------------------------------------------------------------

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": synonym columns keyed by the synonym", function()
    local Base = orm.declarative_base()
    local User = Base:class "User" {
      __tablename__ = "sy_user",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      _email = Column("email", String(50)),
      email = orm.synonym("_email"),
      name = Column(String(20)),
      nm = orm.synonym("name"),
      nm2 = orm.synonym("nm"),
    }
    local engine = sa.create_engine(db.url)
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s = orm.Session(engine)
    s:add(User{id = 1, email = "a@b", name = "n"})
    s:commit()
    local function check(stmt, sql, keys)
      T.eq(squash(tostring(stmt)), sql)
      T.eq(s:execute(stmt):all()[1]._fields, keys)
    end
    check(select(User.email), "SELECT sy_user.email FROM sy_user", {"email"})
    check(select(User.nm, User.nm2, User.name),
          "SELECT sy_user.name, sy_user.name AS name__1, sy_user.name AS " ..
          "name__2 FROM sy_user", {"nm", "nm2", "name"})
    check(select(User.email:label("x")), "SELECT sy_user.email AS x FROM " ..
          "sy_user", {"x"})
    check(select(User.id):where(User.nm:eq("n")):order_by(User.email),
          "SELECT sy_user.id FROM sy_user WHERE sy_user.name = :name_1 " ..
          "ORDER BY sy_user.email", {"id"})
    local ua = orm.aliased(User)
    check(select(ua.email, ua.nm), "SELECT sy_user_1.email, sy_user_1.name " ..
          "FROM sy_user AS sy_user_1", {"email", "nm"})
    -- an aliased class's column under another name: the attribute's key
    check(select(ua._email, ua.name), "SELECT sy_user_1.email, " ..
          "sy_user_1.name FROM sy_user AS sy_user_1", {"_email", "name"})
    local r = s:query(User.nm, User.email):all()
    T.eq(r[1]._fields, {"nm", "email"})
    T.eq(r[1].email, "a@b")
    T.eq(s:scalars(select(User.nm)):all(), {"n"})
    s:close()
    Base.metadata:drop_all(engine)
    engine:dispose()
  end)
end

T.test("composite values given as one list", function()
  local Base = orm.declarative_base()
  local Point = {}
  Point.__index = Point
  Point.__eq = function(a, b) return a.x == b.x and a.y == b.y end
  local function new_point(x, y) return setmetatable({x = x, y = y}, Point) end
  function Point:__composite_values__() return {self.x, self.y} end
  local x1, y1 = Column(Integer), Column(Integer)
  local V = Base:class "V" {
    __tablename__ = "cv",
    id = Column(Integer, {primary_key = true}),
    x1 = x1, y1 = y1,
    start = orm.composite(new_point, x1, y1),
  }
  local engine = sa.create_engine("sqlite://")
  Base.metadata:create_all(engine)
  local s = orm.Session(engine)
  s:add(V{id = 1, start = new_point(1, 2)})
  s:commit()
  local conn <close> = engine:connect()
  local row = conn:execute(text("SELECT x1, y1 FROM cv")):one()
  T.eq({row[1], row[2]}, {1, 2})
  T.eq(#s:query(V.id):filter(V.start:eq(new_point(1, 2))):all(), 1)
  s:close()
end)

------------------------------------------------------------------------
-- assigning a list to a collection: the new members are appended (with
-- their backrefs) before the old ones are removed, as SQLAlchemy's
-- bulk_replace does; validators and events see that order
------------------------------------------------------------------------

T.test("validators when a collection is replaced", function()
  local Base = orm.declarative_base()
  local seen = {}
  local function note(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
    seen[#seen + 1] = table.concat(t, " ")
  end
  local User = Base:class "User" {
    __tablename__ = "v_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    addresses = orm.relationship("Address", {back_populates = "user"}),
    va = orm.validates("addresses", function(self, key, a, is_remove)
      note(key, a.email, is_remove)
      return a
    end, {include_removes = true}),
  }
  local Address = Base:class "Address" {
    __tablename__ = "v_addr",
    id = Column(Integer, {primary_key = true}),
    uid = Column(ForeignKey("v_user.id")),
    email = Column(String(20)),
    user = orm.relationship("User", {back_populates = "addresses"}),
    vu = orm.validates("user", function(self, key, u)
      note(key, u and u.name)
      return u
    end),
  }
  local u, q = User{name = "x"}, Address{email = "q"}
  u.addresses:append(q)
  T.eq(seen, {"addresses q false", "user x"})
  seen = {}
  local r = Address{email = "r"}
  u.addresses = {r}
  T.eq(seen, {"addresses r false", "user x", "addresses q true", "user nil"})
  T.eq(q.user, nil)
  T.ok(rawequal(r.user, u))
end)

------------------------------------------------------------------------
-- column_property and deferred: a subquery of an entity's select has its
-- deferred columns (not its deferred expressions), as Query.count()
-- shows; deferred expressions and groups load on access
------------------------------------------------------------------------

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": deferred columns in an entity's subquery", function()
    local Base = orm.declarative_base()
    local Address = Base:class "Address" {
      __tablename__ = "cp_addr",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      uid = Column(ForeignKey("cp_user.id")),
    }
    local id = Column(Integer, {primary_key = true, autoincrement = false})
    local first, last = Column(String(20)), Column(String(20))
    local User = Base:class "User" {
      __tablename__ = "cp_user",
      id = id, first = first, last = last,
      n_addr = orm.column_property(select(func.count(Address.id))
        :where(Address.uid:eq(id)):correlate_except(Address)
        :scalar_subquery()),
      up = orm.column_property(func.upper(first), {deferred = true}),
      lo = orm.column_property(func.lower(last), {group = "g",
                                                  deferred = true}),
      big = orm.deferred(Column(Text), {raiseload = true}),
    }
    local engine = sa.create_engine(db.url)
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s = orm.Session(engine)
    s:add(User{id = 1, first = "Ab", last = "Cd", big = "x"})
    s:flush()
    s:add_all{Address{id = 1, uid = 1}, Address{id = 2, uid = 1}}
    s:commit()
    s:close()
    local log = T.capture(engine)
    s = orm.Session(engine)
    T.eq(s:query(User):filter(User.n_addr:gt(1)):count(), 1)
    T.eq(squash(T.norm(log[1])),
      "SELECT count(*) AS count_1 FROM (SELECT (SELECT count(cp_addr.id) " ..
      "AS count_2 FROM cp_addr WHERE cp_addr.uid = cp_user.id) AS anon_2, " ..
      "cp_user.big AS cp_user_big, cp_user.id AS cp_user_id, " ..
      "cp_user.first AS cp_user_first, cp_user.last AS cp_user_last FROM " ..
      "cp_user WHERE (SELECT count(cp_addr.id) AS count_2 FROM cp_addr " ..
      "WHERE cp_addr.uid = cp_user.id) > ?) AS anon_1")
    T.eq(squash(tostring(select(func.count()):select_from(
      select(User):subquery()))),
      "SELECT count(*) AS count_1 FROM (SELECT (SELECT count(cp_addr.id) " ..
      "AS count_2 FROM cp_addr WHERE cp_addr.uid = cp_user.id) AS anon_2, " ..
      "cp_user.big AS big, cp_user.id AS id, cp_user.first AS first, " ..
      "cp_user.last AS last FROM cp_user) AS anon_1")
    -- the entity itself still loads without them
    T.clear(log)
    local u = s:get(User, 1)
    T.eq(squash(T.norm(log[1])),
      "SELECT (SELECT count(cp_addr.id) AS count_1 FROM cp_addr WHERE " ..
      "cp_addr.uid = cp_user.id) AS anon_1, cp_user.id AS cp_user_id, " ..
      "cp_user.first AS cp_user_first, cp_user.last AS cp_user_last FROM " ..
      "cp_user WHERE cp_user.id = ?")
    T.eq(u.n_addr, 2)
    T.clear(log)
    T.eq(u.up, "AB")
    T.eq(squash(T.norm(log[1])), "SELECT upper(cp_user.first) AS upper_1 " ..
         "FROM cp_user WHERE cp_user.id = ?")
    T.eq(u.lo, "cd")
    local err = T.raises("InvalidRequestError", function() return u.big end)
    T.eq(err.message, "'User.big' is not available due to raiseload=True")
    local r = s:execute(select(User.n_addr, User.up, User.lo)):all()
    T.eq(r[1]._fields, {"n_addr", "up", "lo"})
    T.eq({r[1][1], r[1][2], r[1][3]}, {2, "AB", "cd"})
    -- an aliased class's column_property: keyed by the attribute
    local ua = orm.aliased(User, {name = "u2"})
    r = s:execute(select(ua.id, ua.up):where(ua.up:eq("AB"))):all()
    T.eq(r[1]._fields, {"id", "up"})
    T.eq(r[1].up, "AB")
    s:close()
    Base.metadata:drop_all(engine)
    engine:dispose()
  end)
end

------------------------------------------------------------------------
-- with_polymorphic: its column attributes selected without the entity
-- bring its outer joins (not the subclass's inner join); in WHERE they
-- are plain columns
------------------------------------------------------------------------

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": with_polymorphic columns alone", function()
    local Base = orm.declarative_base()
    local Employee = Base:class "Employee" {
      __tablename__ = "wpc_employee",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      name = Column(String(30)),
      type = Column(String(20)),
      __mapper_args__ = {polymorphic_on = "type",
                         polymorphic_identity = "employee"},
    }
    local Engineer = Employee:class "Engineer" {
      __tablename__ = "wpc_engineer",
      id = Column(Integer, ForeignKey("wpc_employee.id"),
                  {primary_key = true}),
      lang = Column(String(20)),
      __mapper_args__ = {polymorphic_identity = "engineer"},
    }
    local Manager = Employee:class "Manager" {
      __tablename__ = "wpc_manager",
      id = Column(Integer, ForeignKey("wpc_employee.id"),
                  {primary_key = true}),
      budget = Column(Integer),
      __mapper_args__ = {polymorphic_identity = "manager"},
    }
    local engine = sa.create_engine(db.url)
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s = orm.Session(engine)
    s:add_all{Engineer{id = 1, name = "e1", lang = "lua"},
              Manager{id = 2, name = "m1", budget = 5},
              Employee{id = 3, name = "p"}}
    s:commit()
    local OUTER = "FROM wpc_employee LEFT OUTER JOIN wpc_engineer ON " ..
                  "wpc_employee.id = wpc_engineer.id"
    local wp = orm.with_polymorphic(Employee, {Engineer})
    local stmt = select(wp.name, wp.Engineer.lang):order_by(wp.id)
    T.eq(squash(tostring(stmt)), "SELECT wpc_employee.name, " ..
         "wpc_engineer.lang " .. OUTER .. " ORDER BY wpc_employee.id")
    local rows = {}
    for _, r in ipairs(s:execute(stmt):all()) do
      rows[#rows + 1] = {r[1], r[2] == nil and "NULL" or r[2]}
    end
    T.eq(rows, {{"e1", "lua"}, {"m1", "NULL"}, {"p", "NULL"}})
    T.eq(squash(tostring(select(wp.name))),
         "SELECT wpc_employee.name " .. OUTER)
    T.eq(squash(tostring(select(wp.name):where(wp.Engineer.lang:eq("x")))),
         "SELECT wpc_employee.name " .. OUTER ..
         " WHERE wpc_engineer.lang = :lang_1")
    -- the subclass's own attributes: its inner join
    T.eq(squash(tostring(select(Employee.name, Engineer.lang))),
         "SELECT wpc_employee.name, wpc_engineer.lang FROM wpc_employee " ..
         "JOIN wpc_engineer ON wpc_employee.id = wpc_engineer.id")
    local all = orm.with_polymorphic(Employee, "*")
    T.eq(squash(tostring(select(all.Manager.budget, all.Engineer.lang))),
         "SELECT wpc_manager.budget, wpc_engineer.lang " .. OUTER ..
         " LEFT OUTER JOIN wpc_manager ON wpc_employee.id = wpc_manager.id")
    -- the entity with them in WHERE: as before
    local objs = s:scalars(select(all):where(all.Engineer.lang:eq("lua")))
      :all()
    T.eq(#objs, 1)
    T.eq(objs[1].lang, "lua")
    s:close()
    Base.metadata:drop_all(engine)
    engine:dispose()
  end)
end

------------------------------------------------------------------------
-- the first instance of a mapped class configures the mappers: a bad
-- relationship raises there, and each later instance raises the failure
-- again (as SQLAlchemy's)
------------------------------------------------------------------------

T.test("constructing an instance configures the mappers", function()
  local Base = orm.declarative_base()
  local User = Base:class "User" {
    __tablename__ = "cfg_u",
    id = Column(Integer, {primary_key = true}),
    addrs = orm.relationship("Adress"),
  }
  local err = T.raises("InvalidRequestError", function()
    return User{id = 1}
  end)
  T.eq(err.message, "When initializing mapper mapped class User->cfg_u, " ..
       "expression 'Adress' failed to locate a name ('Adress'). If this " ..
       "is a class name, consider adding this relationship() to the " ..
       "<class 'User'> class after both dependent classes have been " ..
       "defined.")
  err = T.raises("InvalidRequestError", function() return User{id = 2} end)
  T.match(err.message, "^One or more mappers failed to initialize %- " ..
          "can't proceed with initialization of other mappers%. " ..
          "Triggering mapper: 'mapped class User%->cfg_u'%. Original " ..
          "exception was: When initializing mapper")
  -- a registry of its own is not held back by that one
  local Base2 = orm.declarative_base()
  local A = Base2:class "A" {
    __tablename__ = "cfg_a",
    id = Column(Integer, {primary_key = true}),
    bs = orm.relationship("B"),
  }
  Base2:class "B" {
    __tablename__ = "cfg_b",
    id = Column(Integer, {primary_key = true}),
    a_id = Column(ForeignKey("cfg_a.id")),
  }
  local a = A{id = 1}
  T.eq(#a.bs, 0)
end)

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
