-- Rows keyed by Column objects (row._mapping[users.c.name], the deprecated
-- row[col] SQLAlchemy 1.4 still answers, MappingResult items), and the
-- error for a column the result lacks.
-- Expectations from running SQLAlchemy 1.4 (future engine, select()).
local T = require "testing"

T.test("an anonymous bind's name cleans the column's as SQLAlchemy does",
       function()
  -- runs of % ( ) space $ become one _, and _ is stripped from both ends
  T.eq(tostring(literal_column("x%(y)"):eq(5)), "x%(y) = :x_y_1")
  T.eq(tostring(column("x%(y)"):eq(5)), '"x%(y)" = :x_y_1')
  T.eq(tostring(column("_x_"):eq(5)), "_x_ = :x_1")
  T.eq(tostring(column("a$b"):eq(5)), "a$b = :a_b_1")
  T.eq(tostring(column("%"):eq(5)), '"%" = :_1')
  T.eq(tostring(and_(column("x y"):eq(5), column("x(y"):eq(6))),
       '"x y" = :x_y_1 AND "x(y" = :x_y_2')
  -- : [ ] are still escaped where the placeholder is written
  T.eq(tostring(column("a:b[1]"):eq(5)), '"a:b[1]" = :aCb_1__1')
  -- a named bindparam keeps its name, escaped only when written
  T.eq(tostring(bindparam("x y", 5)), ":x_y")
  T.eq(tostring(column("q"):eq(bindparam("x%(y)", 5))), "q = :xPAyZ")
end)

T.test("a subquery of a repeated table-less column names both alike",
       function()
  local function flat(s) return (tostring(s):gsub("%s+", " ")) end
  T.eq(flat(select(column("q"), column("q")):subquery():select()),
       "SELECT anon_1.q, anon_1.q AS q_1 FROM (SELECT q, q) AS anon_1")
  T.eq(flat(select(column("q"), column("q"), column("q")):subquery()
              :select()),
       "SELECT anon_1.q, anon_1.q AS q_1, anon_1.q AS q_2 " ..
       "FROM (SELECT q, q, q) AS anon_1")
  T.eq(flat(select(column("q"), column("q")):cte("c"):select()),
       "WITH c AS (SELECT q, q) SELECT c.q, c.q AS q_1 FROM c")
  local md = MetaData()
  local users = Table("users", md, Column("id", Integer),
                      Column("name", String))
  local a = users:alias("u2")
  -- a table's column and a table-less one do not rename each other
  T.eq(flat(select(column("name"), users.c.name):subquery():select()),
       "SELECT anon_1.name, anon_1.name AS name_1 " ..
       "FROM (SELECT name, users.name AS name FROM users) AS anon_1")
  -- two tables' columns of one name still do
  T.eq(flat(select(users.c.id, a.c.id):subquery():select()),
       "SELECT anon_1.id, anon_1.id_1 FROM (SELECT users.id AS id, " ..
       "u2.id AS id_1 FROM users, users AS u2) AS anon_1")
end)

T.test("auto-correlation that leaves a select no FROM is an error",
       function()
  local function flat(s) return (tostring(s):gsub("%s+", " ")) end
  local md = MetaData()
  local users = Table("users", md,
    Column("id", Integer, {primary_key = true}), Column("name", String))
  local addresses = Table("addresses", md,
    Column("id", Integer, {primary_key = true}),
    Column("user_id", ForeignKey("users.id")), Column("email", String))
  local one = literal_column("1")
  local both = users.c.id:eq(addresses.c.user_id)
  local s = select(users):select_from(users:outerjoin(addresses))
  local err = T.raises("InvalidRequestError", tostring,
                       s:where(exists(select(one):where(both))))
  T.match(err.message, "^Select statement '.*' returned no FROM clauses " ..
          "due to auto%-correlation; specify correlate%(<tables>%) to " ..
          "control correlation manually%.$")
  T.raises("InvalidRequestError", function()
    return s:where(exists(select(one):where(both))):compile(
      create_engine("sqlite://"))
  end)
  -- correlate() names what to leave out
  T.eq(flat(s:where(exists(select(one):where(both):correlate(users)))),
       "SELECT users.id, users.name FROM users LEFT OUTER JOIN addresses " ..
       "ON users.id = addresses.user_id WHERE EXISTS (SELECT 1 " ..
       "FROM addresses WHERE users.id = addresses.user_id)")
  -- a lone FROM is never correlated; of two, the outer one is left out
  T.eq(flat(select(users):where(exists(select(one)
              :where(users.c.id:eq(5))))),
       "SELECT users.id, users.name FROM users WHERE EXISTS (SELECT 1 " ..
       "FROM users WHERE users.id = :id_1)")
  T.eq(flat(select(users):where(exists(select(one):where(both)))),
       "SELECT users.id, users.name FROM users WHERE EXISTS (SELECT 1 " ..
       "FROM addresses WHERE users.id = addresses.user_id)")
end)

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local md = MetaData()
  local users = Table("ck_users", md,
    Column("id", Integer, {primary_key = true, autoincrement = false}),
    Column("name", String(20)))
  local addresses = Table("ck_addresses", md,
    Column("id", Integer, {primary_key = true}),
    Column("email", String(20)))
  local e = create_engine(db.url)
  md:drop_all(e)
  md:create_all(e)
  e:begin(function(c)
    c:execute(insert(users), {{id = 1, name = "a"}})
  end)
  local c = e:connect()

  T.test(n .. "a table's columns key the row's mapping and the row",
         function()
    local row = c:execute(select(users)):first()
    T.eq(row._mapping[users.c.name], "a")
    T.eq(row._mapping[users.c.id], 1)
    -- row[col]: deprecated in 1.4 (RemovedIn20Warning), still answered
    T.eq(row[users.c.name], "a")
    -- names and positions read as before
    T.eq(row._mapping.name, "a")
    T.eq(row[2], "a")
    T.eq(row.name, "a")
  end)

  T.test(n .. "a column not in the result is NoSuchColumnError", function()
    local row = c:execute(select(users)):first()
    local err = T.raises("NoSuchColumnError", function()
      return row._mapping[addresses.c.email]
    end)
    T.eq(err.message,
         "Could not locate column in row for column 'ck_addresses.email'")
    err = T.raises("NoSuchColumnError", function()
      return row[addresses.c.email]
    end)
    T.eq(err.message,
         "Could not locate column in row for column 'ck_addresses.email'")
    T.raises("NoSuchColumnError", function()
      return row._mapping[column("zz")]
    end)
  end)

  T.test(n .. "a label keys its column; the labelled column does not",
         function()
    local lab = users.c.name:label("nm")
    local row = c:execute(select(lab)):first()
    T.eq(row._mapping[lab], "a")
    T.eq(row._mapping.nm, "a")
    local err = T.raises("NoSuchColumnError", function()
      return row._mapping[users.c.name]
    end)
    T.eq(err.message,
         "Could not locate column in row for column 'ck_users.name'")
  end)

  T.test(n .. "columns of an alias and of a subquery", function()
    local a = users:alias("u2")
    local row = c:execute(select(a)):first()
    T.eq(row._mapping[a.c.name], "a")
    T.eq(row._mapping[a.c.id], 1)
    local sq = select(users):subquery()
    row = c:execute(select(sq)):first()
    T.eq(row._mapping[sq.c.name], "a")
  end)

  T.test(n .. "the same column twice is still found", function()
    local row = c:execute(select(users.c.name, users.c.name)):first()
    T.eq(row._fields, {"name", "name__1"})
    T.eq(row._mapping[users.c.name], "a")
  end)

  T.test(n .. "MappingResult items take Column keys too", function()
    local m = c:execute(select(users)):mappings():first()
    T.eq(m[users.c.name], "a")
    T.eq(m.name, "a")
    T.eq(m[users.c.id], 1)
    local err = T.raises("NoSuchColumnError", function()
      return m[addresses.c.email]
    end)
    T.eq(err.message,
         "Could not locate column in row for column 'ck_addresses.email'")
  end)

  T.test(n .. "a mapped attribute keys a Session's row", function()
    local Base = orm.declarative_base()
    local User = Base:class "CkUser" {__table__ = users}
    local s <close> = orm.Session(e)
    local row = s:execute(select(User.id, User.name)):first()
    T.eq(row._mapping[User.name], "a")
    T.eq(row._mapping[users.c.name], "a")
  end)

  c:close()
  md:drop_all(e)
end

T.done()
