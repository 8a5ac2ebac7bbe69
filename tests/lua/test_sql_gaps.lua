-- Names of API.md §0-3 found missing in an audit: column options as
-- attributes, module-level between/collate/label/join/outerjoin/alias,
-- Connection:scalar/scalars.  Expected values from SQLAlchemy 1.4.
local T = require "testing"

local function squash(s) return (s:gsub("%s+", " ")) end

T.test("column options read back as SQLAlchemy's attributes", function()
  local md = MetaData()
  local onupd = function() return 1 end
  local users = Table("users", md,
    Column("id", Integer, {primary_key = true}),
    Column("name", String(50), {nullable = false, unique = true,
                                default = "x", onupdate = onupd}),
    Column("fullname", String, {index = true, autoincrement = false}),
    Column("created", DateTime, {server_default = func.now()}),
    Column("s", String, {server_default = "abc", default = func.lower("A")}))
  local a = Table("a", md, Column("id", Integer, {primary_key = true}),
                  Column("uid", ForeignKey("users.id")))
  local c = users.c
  -- True None True None auto False
  T.eq({c.name.unique, c.id.unique, c.fullname.index, c.name.index},
       {true, nil, true, nil})
  T.eq(c.id.autoincrement, "auto")
  T.eq(c.fullname.autoincrement, false)
  -- x True True None
  T.eq(c.name.default.arg, "x")
  T.eq(c.name.default.is_scalar, true)
  T.eq(c.name.onupdate.is_callable, true)
  T.ok(c.name.onupdate.arg == onupd, "the Lua function is the arg")
  T.eq(c.id.default, nil)
  -- now() abc lower(:lower_1) True
  T.eq(tostring(c.created.server_default.arg), "now()")
  T.eq(c.s.server_default.arg, "abc")
  T.eq(tostring(c.s.default.arg), "lower(:lower_1)")
  T.eq(c.s.default.is_clause_element, true)
  -- 1 users.id 0
  T.eq(#a.c.uid.foreign_keys, 1)
  T.eq(a.c.uid.foreign_keys[1].target_fullname, "users.id")
  T.eq(#a.c.id.foreign_keys, 0)
end)

T.test("module-level between, collate, label, join, outerjoin", function()
  local t = Table("t", MetaData(), Column("x", String), Column("y", Integer))
  local u = t:alias("u")
  T.eq(tostring(sa.between(t.c.y, 1, 2)), "t.y BETWEEN :y_1 AND :y_2")
  T.eq(tostring(sa.collate(t.c.x, "C")), 't.x COLLATE "C"')
  T.eq(squash(tostring(select(sa.label("lbl", t.c.y + 1)))),
       "SELECT t.y + :y_1 AS lbl FROM t")
  T.eq(squash(tostring(select(sa.join(t, u, t.c.y:eq(u.c.y))))),
       "SELECT t.x, t.y, u.x AS x_1, u.y AS y_1 FROM t JOIN t AS u " ..
       "ON t.y = u.y")
  T.eq(squash(tostring(select(sa.outerjoin(t, u, t.c.y:eq(u.c.y))))),
       "SELECT t.x, t.y, u.x AS x_1, u.y AS y_1 FROM t LEFT OUTER JOIN " ..
       "t AS u ON t.y = u.y")
end)

T.test("is_distinct_from, regexp_match and match in each dialect",
       function()
  local t = Table("t", MetaData(), Column("x", String), Column("y", Integer))
  -- str() | postgresql | sqlite | mysql, from SQLAlchemy 1.4
  local cases = {
    {t.c.x:is_distinct_from("a"), "t.x IS DISTINCT FROM :x_1",
     "t.x IS DISTINCT FROM $1", "t.x IS NOT ?", "NOT (t.x <=> ?)"},
    {t.c.x:is_not_distinct_from("a"), "t.x IS NOT DISTINCT FROM :x_1",
     "t.x IS NOT DISTINCT FROM $1", "t.x IS ?", "t.x <=> ?"},
    {~t.c.x:is_distinct_from("a"), "t.x IS NOT DISTINCT FROM :x_1",
     "t.x IS NOT DISTINCT FROM $1", "t.x IS ?", "t.x <=> ?"},
    {t.c.y:is_distinct_from(nil), "t.y IS DISTINCT FROM NULL",
     "t.y IS DISTINCT FROM NULL", "t.y IS NOT NULL", "NOT (t.y <=> NULL)"},
    {t.c.x:regexp_match("^a"), "t.x <regexp> :x_1", "t.x ~ $1",
     "t.x REGEXP ?", "t.x REGEXP ?"},
    {~t.c.x:regexp_match("^a"), "t.x <not regexp> :x_1", "t.x !~ $1",
     "t.x NOT REGEXP ?", "t.x NOT REGEXP ?"},
    {t.c.x:match("foo"), "t.x MATCH :x_1", "t.x @@ to_tsquery($1)",
     "t.x MATCH ?", "MATCH (t.x) AGAINST (? IN BOOLEAN MODE)"},
    {~t.c.x:match("foo"), "NOT t.x MATCH :x_1",
     "NOT t.x @@ to_tsquery($1)", "NOT t.x MATCH ?",
     "NOT MATCH (t.x) AGAINST (? IN BOOLEAN MODE)"},
    {t.c.x:notilike("a"), "lower(t.x) NOT LIKE lower(:x_1)",
     "t.x NOT ILIKE $1", "lower(t.x) NOT LIKE lower(?)",
     "lower(t.x) NOT LIKE lower(?)"},
  }
  for i, case in ipairs(cases) do
    T.eq(tostring(case[1]), case[2], "case " .. i)
    T.eq(case[1]:compile("postgresql").sql, case[3], "case " .. i)
    T.eq(case[1]:compile("sqlite").sql, case[4], "case " .. i)
    T.eq(case[1]:compile("mysql").sql, case[5], "case " .. i)
  end
end)

T.test("type_coerce renders its operand and types it", function()
  local t = Table("t", MetaData(), Column("x", String), Column("j", JSON),
                  Column("i", Integer))
  -- SQLAlchemy 1.4's str() of the same constructs
  T.eq(squash(tostring(select(type_coerce(t.c.x, Integer)))),
       "SELECT t.x AS x FROM t")
  T.eq(tostring(type_coerce("a", String):eq(t.c.x)), ":param_1 = t.x")
  T.eq(squash(tostring(select(type_coerce(t.c.x, Integer):label("y")))),
       "SELECT t.x AS y FROM t")
  T.eq(squash(tostring(select(type_coerce(t.c.x .. "a", Integer)))),
       "SELECT t.x || :x_1 AS anon_1 FROM t")
  T.eq(squash(tostring(select(type_coerce({a = 1}, JSON)))),
       "SELECT :param_1 AS anon_1")
  T.eq(tostring(type_coerce(t.c.i + 1, Integer) * 2),
       "(t.i + :i_1) * :param_1")
  T.eq(type_coerce(t.c.x, Integer).type.__name__, "Integer")
  T.raises("ArgumentError", type_coerce, t.c.x)
  -- the type reads the result: JSON text becomes a table
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  T.eq(c:scalar(select(type_coerce(sa.literal_column("'{\"a\": 2}'"),
                                   JSON))), {a = 2})
  -- and binds the value: a string is a JSON string, as json.dumps makes it
  T.eq(c:scalar(select(type_coerce('{"a": 2}', JSON))), '{"a": 2}')
end)

T.test("a subquery or CTE prints as its SELECT", function()
  local t = Table("t", MetaData(), Column("x", String), Column("y", Integer))
  -- str(select(t).subquery('s')) and str(select(t).cte('c'))
  T.eq(squash(tostring(select(t):subquery("s"))), "SELECT t.x, t.y FROM t")
  T.eq(squash(tostring(select(t):alias("s"))), "SELECT t.x, t.y FROM t")
  T.eq(squash(tostring(select(t):cte("c"))), "SELECT t.x, t.y FROM t")
  T.eq(squash(tostring(select(t.c.x):where(t.c.y:eq(1)):subquery())),
       "SELECT t.x FROM t WHERE t.y = :y_1")
  T.eq(squash(tostring(select(t):union(select(t)):subquery("s"))),
       "SELECT t.x, t.y FROM t UNION SELECT t.x, t.y FROM t")
  -- used in a statement it is still a named FROM
  local sq = select(t.c.x):subquery("s")
  T.eq(squash(tostring(select(sq.c.x))), "SELECT s.x FROM (SELECT t.x AS x " ..
       "FROM t) AS s")
end)

T.test("intersect_all, except_all; MetaData:remove and :clear", function()
  local md = MetaData()
  local a = Table("a", md, Column("x", Integer))
  local b = Table("b", md, Column("x", Integer))
  T.eq(squash(tostring(select(a.c.x):intersect_all(select(b.c.x)))),
       "SELECT a.x FROM a INTERSECT ALL SELECT b.x FROM b")
  T.eq(squash(tostring(sa.except_all(select(a.c.x), select(b.c.x)))),
       "SELECT a.x FROM a EXCEPT ALL SELECT b.x FROM b")
  T.eq(squash(tostring(sa.intersect_all(select(a.c.x), select(b.c.x)))),
       "SELECT a.x FROM a INTERSECT ALL SELECT b.x FROM b")
  md:remove(a)
  T.eq(#md.sorted_tables, 1)
  T.eq(md.tables.a, nil)
  T.raises("ArgumentError", md.remove, md, "a")
  md:clear()
  T.eq(#md.sorted_tables, 0)
  T.eq(md.tables.b, nil)
  -- the name is free again
  Table("a", md, Column("y", Integer))
  T.eq(md.sorted_tables[1].c.y.name, "y")
end)

T.test("row._mapping and row._t", function()
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  local row = c:execute(text("SELECT 1 AS a, 'x' AS b")):one()
  T.eq(row._mapping.a, 1)
  T.eq(row._mapping["b"], "x")
  T.eq(row:_mapping().b, "x")
  T.eq(row._t, {1, "x"})
end)

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": regexp_match and is_distinct_from on the database",
         function()
    local e = create_engine(db.url)
    local md = MetaData()
    local t = Table("rx", md, Column("id", Integer, {primary_key = true}),
                    Column("x", String(20)))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    c:execute(insert(t), {{id = 1, x = "apple"}, {id = 2, x = "banana"},
                          {id = 3, x = sa.null}})
    local function ids(crit)
      return c:execute(select(t.c.id):where(crit):order_by(t.c.id))
        :scalars():all()
    end
    -- SQLite has REGEXP through the function SQLAlchemy's dialect registers
    T.eq(ids(t.c.x:regexp_match("^a")), {1})
    T.eq(ids(~t.c.x:regexp_match("an+a$")), {1})
    T.eq(ids(t.c.x:is_distinct_from("apple")), {2, 3})
    T.eq(ids(t.c.x:is_not_distinct_from(nil)), {3})
    c:rollback()
    md:drop_all(e)
    e:dispose()
  end)


  T.test(db.name .. ": engine execution options reach its connections",
         function()
    local e = create_engine(db.url)
    local default = e:connect()
    local level = default:get_isolation_level()
    default:close()
    -- an OptionEngine on the same pool
    local e2 = e:execution_options{isolation_level = "SERIALIZABLE"}
    T.eq(e2:get_execution_options(), {isolation_level = "SERIALIZABLE"})
    T.eq(e2.dialect.name, db.name)
    local c = e2:connect()
    T.eq(c:get_isolation_level(), "SERIALIZABLE")
    c:close()
    -- the original engine's connections keep their level
    local c1 = e:connect()
    T.eq(c1:get_isolation_level(), level)
    c1:close()
    T.eq(e:get_execution_options(), {})
    -- an option of the user's own is kept, as SQLAlchemy keeps it
    T.eq(e:execution_options{bogus = 1}:get_execution_options(), {bogus = 1})
    T.raises("ArgumentError", e.execution_options, e, {[1] = true})
    -- create_engine's execution_options
    local e3 = create_engine(db.url,
                             {execution_options = {isolation_level =
                                                     "AUTOCOMMIT"}})
    local c3 <close> = e3:connect()
    -- SQLAlchemy 1.4 reports the level the server runs at
    T.eq(c3:get_isolation_level(), ({sqlite = "SERIALIZABLE",
      postgresql = "READ COMMITTED", mysql = "REPEATABLE READ"})[db.name])
    T.raises("ArgumentError", create_engine, db.url,
             {execution_options = {"nope"}})
    e2:dispose()
    e3:dispose()
  end)

  T.test(db.name .. ": bound integers and booleans come back as they went",
         function()
    -- SQLAlchemy (psycopg2 writes them as literals): 5, 7, 'bcd',
    -- 5000000000, True
    local e = create_engine(db.url)
    local c <close> = e:connect()
    local v = c:scalar(select(sa.literal(5)))
    T.eq(v, 5)
    T.eq(math.type(v), "integer")
    T.eq(c:scalar(select(case({{sa.literal(1):eq(1), 7}}, {else_ = 0}))), 7)
    T.eq(c:scalar(select(func.substr("abcdef", 2, 3))), "bcd")
    T.eq(c:scalar(select(sa.literal(5000000000))), 5000000000)
    T.eq(c:scalar(select(sa.literal(true))), true)
    -- 1.5 and 0.5 as floats (SQLAlchemy's Float result), 0.1 exactly
    local f = c:scalar(select(sa.literal(1.5)))
    T.eq(f, 1.5)
    T.eq(math.type(f), "float")
    T.eq(c:scalar(select(case({{sa.literal(1):eq(2), 7.25}},
                              {else_ = 0.5}))), 0.5)
    T.eq(c:scalar(select(cast(sa.literal(0.1), Numeric(10, 2)))), "0.10")
    c:rollback()
    e:dispose()
  end)

  T.test(db.name .. ": Connection:scalar and :scalars", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    T.eq(c:scalar(select(func.count())), 1)
    T.eq(c:scalar(text("SELECT :v"), {v = "a"}), "a")
    local sr = c:scalars(text("SELECT 1 UNION SELECT 2 ORDER BY 1"))
    T.eq(sr:all(), {1, 2})
    c:rollback()
    e:dispose()
  end)
end

T.done()
