-- Mapping details checked against SQLAlchemy 1.4 on every test database:
-- the columns a hybrid_property selects (SQL label and row key), ...
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

T.done()
