-- Mapping details found by comparing with SQLAlchemy 1.4, on every test
-- database: a column_property ordered by in a select that lists it (its
-- anonymous label), filter_by on a composite, a composite whose columns
-- are all NULL, map_imperatively properties naming table columns,
-- __table__ with an extra Column, and the Mapper's persist_selectable and
-- iterate_to_root under joined inheritance.  Expected SQL, values and
-- errors were checked against SQLAlchemy.
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = sql:gsub("%s+", " "):gsub('[`"]', "")
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
Point.__eq = function(a, b) return a.x == b.x and a.y == b.y end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Comment = Base:class "Comment" {
    __tablename__ = "ms_comment",
    id = Column(Integer, {primary_key = true}),
    post_id = Column(ForeignKey("ms_post.id")),
  }
  local pid, name = Column(Integer, {primary_key = true}), Column(String(20))
  M.Post = Base:class "Post" {
    __tablename__ = "ms_post",
    id = pid, name = name,
    ncomments = orm.column_property(
      select(func.count(M.Comment.id)):where(M.Comment.post_id:eq(pid))
        :scalar_subquery()),
  }
  local sid = Column(Integer, {primary_key = true})
  local x1, y1 = Column(Integer), Column(Integer)
  M.Shape = Base:class "Shape" {
    __tablename__ = "ms_shape",
    id = sid, x1 = x1, y1 = y1,
    start = orm.composite(Point.new, x1, y1),
    finish = orm.composite(Point.new, Column("x2", Integer),
                           Column("y2", Integer)),
    label_ = Column("label", String(20)),
    label = orm.synonym("label_"),
  }
  M.Vault = Base:class "Vault" {
    __tablename__ = "ms_vault",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(20)),
    secret = orm.deferred(Column(String(20)), {raiseload = true}),
  }
  M.ledger = Table("ms_ledger", Base.metadata,
    Column("code", String(10), {nullable = false}),
    Column("year", Integer, {nullable = false}),
    Column("amount", Integer))
  M.Entry = Base:class "Entry" {
    __table__ = M.ledger,
    __mapper_args__ = {primary_key = {M.ledger.c.code, M.ledger.c.year}},
  }
  M.users = Table("ms_users", Base.metadata,
    Column("id", Integer, {primary_key = true}),
    Column("name", String(20)), Column("nick", String(10)))
  M.User = {__name__ = "User"}
  Base.registry:map_imperatively(M.User, M.users,
                                 {properties = {nickname = M.users.c.nick}})
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local Post, Comment, Shape, User = M.Post, M.Comment, M.Shape, M.User
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  T.test(pfx .. "ORDER BY a listed column_property orders by its label",
    function()
      local s <close> = orm.Session(engine)
      s:add_all({Post{id = 1, name = "a"}, Post{id = 2, name = "b"}})
      s:flush()
      s:add_all({Comment{id = 1, post_id = 2}, Comment{id = 2, post_id = 2},
                 Comment{id = 3, post_id = 1}})
      s:flush()
      local sub = "(SELECT count(ms_comment.id) AS count_1 FROM ms_comment " ..
        "WHERE ms_comment.post_id = ms_post.id)"
      clear(log)
      local rows = s:execute(select(Post.name, Post.ncomments)
        :order_by(Post.ncomments:desc())):all()
      T.eq(log[1], q(db, "SELECT ms_post.name, " .. sub ..
        " AS anon_1 FROM ms_post ORDER BY anon_1 DESC"))
      T.eq({rows[1][1], rows[1][2], rows[2][1], rows[2][2]}, {"b", 2, "a", 1})
      -- the entity lists it too
      clear(log)
      local posts = s:scalars(select(Post):order_by(Post.ncomments)):all()
      T.eq(log[1], q(db, "SELECT " .. sub .. " AS anon_1, ms_post.id, " ..
        "ms_post.name FROM ms_post ORDER BY anon_1"))
      T.eq({posts[1].name, posts[2].name}, {"a", "b"})
      -- not listed: the expression itself
      T.eq(tostring(select(Post.name):order_by(Post.ncomments)),
           "SELECT ms_post.name \nFROM ms_post ORDER BY " ..
           sub:gsub(" FROM", " \nFROM"):gsub(" WHERE", " \nWHERE"))
      s:rollback()
    end)

  T.test(pfx .. "filter_by a composite; a composite of NULL columns",
    function()
      local s <close> = orm.Session(engine)
      local a = Shape{id = 1, start = Point.new(1, 2),
                      finish = Point.new(3, 4), label = "a"}
      local b = Shape{id = 2}
      T.eq(b.start, nil)   -- no row yet: nothing to make it from
      s:add_all({a, b})
      s:flush()
      clear(log)
      T.eq(s:scalars(select(Shape.id):filter_by{start = Point.new(1, 2)})
           :all(), {1})
      T.eq(log[1], q(db, "SELECT ms_shape.id FROM ms_shape " ..
        "WHERE ms_shape.x1 = ? AND ms_shape.y1 = ?"))
      T.eq(s:query(Shape):filter_by{finish = Point.new(3, 4), label = "a"}
           :one().id, 1)
      -- a persistent object's composite is made from its NULL columns
      T.eq(b.start, Point.new(nil, nil))
      -- set to nil: nil until the flush writes the NULLs
      a.finish = nil
      T.eq(a.finish, nil)
      clear(log)
      s:flush()
      T.eq(log[1], q(db, "UPDATE ms_shape SET x2=?, y2=? " ..
        "WHERE ms_shape.id = ?"))
      T.eq(a.finish, Point.new(nil, nil))
      s:commit()
      T.eq(a.finish, Point.new(nil, nil))
      T.eq(a.start, Point.new(1, 2))
    end)

  T.test(pfx .. "deferred with raiseload raises instead of loading",
    function()
      local Vault = M.Vault
      local s <close> = orm.Session(engine)
      local v = Vault{id = 1, name = "v"}
      T.eq(v.secret, nil)   -- no row: nothing to load, nothing raised
      s:add(v)
      s:flush()
      local e = T.raises("InvalidRequestError", function() return v.secret end)
      T.eq(e.message, "'Vault.secret' is not available due to raiseload=True")
      v.secret = "s"
      T.eq(v.secret, "s")
      s:commit()
      T.raises("InvalidRequestError", function() return v.secret end)
      -- loaded when asked for: refresh or an undefer option
      s:refresh(v, {"secret"})
      T.eq(v.secret, "s")
      s:expunge_all()
      clear(log)
      v = s:execute(select(Vault):options(orm.undefer(Vault.secret)))
        :scalar_one()
      T.eq(log[1], "SELECT ms_vault.secret, ms_vault.id, ms_vault.name " ..
        "FROM ms_vault")
      T.eq(v.secret, "s")
      s:execute(delete(Vault))
      s:commit()
    end)

  T.test(pfx .. "__mapper_args__ primary_key over a table without one",
    function()
      local Entry, ledger = M.Entry, M.ledger
      local m = orm.inspect(Entry)
      T.eq(#ledger.primary_key, 0)
      T.eq({m.primary_key[1].name, m.primary_key[2].name}, {"code", "year"})
      local s <close> = orm.Session(engine)
      s:add_all({Entry{code = "a", year = 2020, amount = 1},
                 Entry{code = "b", year = 2021, amount = 2}})
      s:commit()
      clear(log)
      local e = s:get(Entry, {"a", 2020})
      T.eq(e.amount, 1)
      e.amount = 5
      s:flush()
      s:delete(s:get(Entry, {"b", 2021}))
      s:flush()
      T.eq(log, {
        q(db, "SELECT ms_ledger.code AS ms_ledger_code, ms_ledger.year AS " ..
          "ms_ledger_year, ms_ledger.amount AS ms_ledger_amount FROM " ..
          "ms_ledger WHERE ms_ledger.code = ? AND ms_ledger.year = ?"),
        q(db, "UPDATE ms_ledger SET amount=? WHERE ms_ledger.code = ? " ..
          "AND ms_ledger.year = ?"),
        q(db, "SELECT ms_ledger.code AS ms_ledger_code, ms_ledger.year AS " ..
          "ms_ledger_year, ms_ledger.amount AS ms_ledger_amount FROM " ..
          "ms_ledger WHERE ms_ledger.code = ? AND ms_ledger.year = ?"),
        q(db, "DELETE FROM ms_ledger WHERE ms_ledger.code = ? AND " ..
          "ms_ledger.year = ?")})
      T.eq(m:identity_key_from_instance(e)[2], {"a", 2020})
      s:commit()
      T.eq(s:scalars(select(ledger.c.amount)):all(), {5})
      -- a key left unset is inserted as NULL (the database refuses it;
      -- mysqlclient calls that an OperationalError)
      s:add(Entry{amount = 3})
      T.raises(db.name == "mysql" and "OperationalError" or "IntegrityError",
               function() s:flush() end)
      s:rollback()
      s:execute(delete(ledger))
      s:commit()
    end)

  T.test(pfx .. "map_imperatively maps a table column under a new key",
    function()
      local s <close> = orm.Session(engine)
      local u = User{name = "ann", nickname = "an"}
      T.eq(u.nickname, "an")
      T.eq(tostring(User.nickname), "User.nickname")
      s:add(u)
      s:commit()
      T.eq(s:scalar(select(M.users.c.nick)), "an")
      T.eq(s:scalars(select(User.name):filter_by{nickname = "an"}):all(),
           {"ann"})
      s:execute(delete(M.users))
      s:commit()
    end)
  -- the servers' test database is shared by every test file
  M.Base.metadata:drop_all(engine)
end

T.test("map_imperatively: an expression property needs column_property",
  function()
    local reg = orm.registry()
    local t = Table("mi", reg.metadata,
                    Column("id", Integer, {primary_key = true}),
                    Column("name", String(20)))
    local e = T.raises("ArgumentError", function()
      reg:map_imperatively({__name__ = "U"}, t,
                           {properties = {shout = t.c.name .. "!"}})
    end)
    T.eq(e.message, "When configuring property 'shout' on mapped class " ..
      "U->mi, column 'mi.name || :name_1' is not represented in the " ..
      "mapper's table. Use the `column_property()` function to force this " ..
      "column to be mapped as a read-only attribute.")
  end)

T.test("__table__ with another Column is refused", function()
  local Base = orm.declarative_base()
  local t = Table("tt", Base.metadata,
                  Column("id", Integer, {primary_key = true}),
                  Column("created", String))
  local e = T.raises("ArgumentError", function()
    return Base:class "G" {__table__ = t, x = Column(Integer)}
  end)
  T.eq(e.message, "Can't add additional column 'x' when specifying __table__")
  -- a mixin's column the table has is that column; one it lacks is not
  local H = Base:class("H", {created = Column(String)}) {__table__ = t}
  T.ok(H.created ~= nil)
  e = T.raises("ArgumentError", function()
    return Base:class("J", {other = Column(String)}) {__table__ = t}
  end)
  T.eq(e.message,
       "Can't add additional column 'other' when specifying __table__")
end)

T.test("declarative_base{cls = ...}: a mixin of every class", function()
  local Common = {
    __tablename__ = orm.declared_attr(function(cls)
      return "c_" .. cls.__name__:lower()
    end),
    id = Column(Integer, {primary_key = true}),
    describe = function(self)
      return self.__class__.__name__ .. "#" .. tostring(self.id)
    end,
  }
  local Base = orm.declarative_base({cls = Common})
  local A = Base:class "A" {name = Column(String(20))}
  local B = Base:class "B" {
    a_id = Column(ForeignKey("c_a.id")),
    a = relationship("A", {backref = "bs"}),
  }
  local function colnames(t)
    local out = {}
    for _, c in ipairs(t.c) do out[#out + 1] = c.name end
    return out
  end
  T.eq({A.__tablename__, B.__tablename__}, {"c_a", "c_b"})
  T.eq(colnames(A.__table__), {"id", "name"})
  T.eq(colnames(B.__table__), {"id", "a_id"})
  T.ok(A.__table__.c.id ~= B.__table__.c.id)
  local engine = create_engine("sqlite://")
  Base.metadata:create_all(engine)
  local s <close> = orm.Session(engine)
  local a = A{name = "x", bs = {B{}}}
  s:add(a)
  s:commit()
  T.eq({a:describe(), a.bs[1]:describe()}, {"A#1", "B#1"})
end)

T.test("Mapper persist_selectable and iterate_to_root", function()
  local Base = orm.declarative_base()
  local kind = Column(String(10))
  local E = Base:class "E" {
    __tablename__ = "emp", id = Column(Integer, {primary_key = true}),
    kind = kind,
    __mapper_args__ = {polymorphic_on = kind, polymorphic_identity = "e"},
  }
  local Mg = E:class "Mg" {
    __tablename__ = "mgr",
    id = Column(ForeignKey("emp.id"), {primary_key = true}),
    __mapper_args__ = {polymorphic_identity = "m"},
  }
  local E2 = E:class "E2" {y = Column(String),
                           __mapper_args__ = {polymorphic_identity = "e2"}}
  local function root_path(cls)
    local out = {}
    for m in orm.inspect(cls):iterate_to_root() do
      out[#out + 1] = m.class_.__name__
    end
    return out
  end
  T.eq(root_path(E), {"E"})
  T.eq(root_path(Mg), {"Mg", "E"})
  T.eq(root_path(E2), {"E2", "E"})
  T.ok(orm.inspect(E).persist_selectable == E.__table__)
  T.ok(orm.inspect(E2).persist_selectable == E.__table__)
  T.eq(tostring(orm.inspect(Mg).persist_selectable),
       "emp JOIN mgr ON emp.id = mgr.id")
  T.eq(tostring(orm.inspect(Mg).mapped_table),
       "emp JOIN mgr ON emp.id = mgr.id")
  T.ok(orm.inspect(Mg).local_table == Mg.__table__)
  -- eager_defaults, from a mixin's __mapper_args__ too
  T.eq(orm.inspect(E).eager_defaults, false)
  local Ed = Base:class("Ed", {__mapper_args__ = {eager_defaults = true}}) {
    __tablename__ = "ed", id = Column(Integer, {primary_key = true}),
  }
  T.eq(orm.inspect(Ed).eager_defaults, true)
end)

-- (last: it leaves a registry that failed to configure)
T.test("a registry that fails to configure stops only itself", function()
  local B1 = orm.declarative_base()
  local D = B1:class "D" {
    __tablename__ = "ms_d", id = Column(Integer, {primary_key = true}),
    r = relationship("Nope"),
  }
  local e = T.raises("InvalidRequestError", orm.configure_mappers)
  T.match(e.message, "^When initializing mapper mapped class D%->ms_d, " ..
          "expression 'Nope' failed to locate a name %('Nope'%)")
  -- the registry in use raises again, naming the failure
  local failed = "^One or more mappers failed to initialize %- can't " ..
    "proceed with initialization of other mappers%. Triggering mapper: " ..
    "'mapped class D%->ms_d'%. Original exception was: When initializing"
  e = T.raises("InvalidRequestError", function()
    return orm.inspect(D).attrs
  end)
  T.match(e.message, failed)
  -- a registry declared after it configures and works on its own
  local B2 = orm.declarative_base()
  local E = B2:class "E" {
    __tablename__ = "ms_e", id = Column(Integer, {primary_key = true}),
  }
  B2:class "F" {
    __tablename__ = "ms_f", id = Column(Integer, {primary_key = true}),
    e_id = Column(ForeignKey("ms_e.id")),
    e = relationship(E, {backref = "fs"}),
  }
  B2.registry:configure()
  local engine = create_engine("sqlite://")
  B2.metadata:create_all(engine)
  local s <close> = orm.Session(engine)
  local x = E{fs = {}}
  s:add(x)
  s:commit()
  T.eq(s:query(E):count(), 1)
  T.eq(#x.fs, 0)
  -- configuring everything, or the failed registry, still raises
  T.match(T.raises("InvalidRequestError", orm.configure_mappers).message,
          failed)
  T.match(T.raises("InvalidRequestError", function()
    B1.registry:configure()
  end).message, failed)
end)

T.done()
