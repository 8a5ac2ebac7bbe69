-- PostgreSQL ARRAY operators (SQLAlchemy's postgresql.ARRAY comparator):
-- a[i], a[{i, j}] for the slice i:j, any/all, any_/all_, contains,
-- contained_by, overlap, concatenation; and Float{asdecimal = true}.
-- Expected text from SQLAlchemy 1.4: str(e) and
-- str(e.compile(dialect=postgresql.dialect())) (with psycopg2's %(x)s
-- placeholders as $n).
local T = require "testing"

local function squash(s) return (s:gsub("%s+", " ")) end

local md = MetaData()
local t = Table("t", md, Column("id", Integer, {primary_key = true}),
                Column("a", ARRAY(Integer)), Column("s", ARRAY(String)),
                Column("b", ARRAY(Integer, {dimensions = 2})))

-- {expression, str(), postgresql, params}
local cases = {
  {t.c.a[2], "t.a[:a_1]", "t.a[$1]", {2}},
  {t.c.a[{2, 3}], nil, "t.a[$1:$2]", {2, 3}},
  {t.c.b[1][2], "t.b[:b_1][:param_1]", "t.b[$1][$2]", {1, 2}},
  {t.c.a[{1, 2}][1], nil, "t.a[$1:$2][$3]", {1, 2, 1}},
  {t.c.a[t.c.id], "t.a[t.id]", "t.a[t.id]", {}},
  {t.c.a[{t.c.id, 2}], nil, "t.a[t.id:$1]", {2}},
  {t.c.a[2]:eq(3), "t.a[:a_1] = :param_1", "t.a[$1] = $2", {2, 3}},
  {t.c.s[1]:like("x%"), "t.s[:s_1] LIKE :param_1", "t.s[$1] LIKE $2",
   {1, "x%"}},
  {(t.c.a[1] + 2) * 3, "(t.a[:a_1] + :param_1) * :param_2",
   "(t.a[$1] + $2) * $3", {1, 2, 3}},
  {t.c.a:any(3), ":a_1 = ANY (t.a)", "$1 = ANY (t.a)", {3}},
  {t.c.a:all(3), ":a_1 = ALL (t.a)", "$1 = ALL (t.a)", {3}},
  {t.c.a:any(3, {operator = "lt"}), ":a_1 < ANY (t.a)", "$1 < ANY (t.a)",
   {3}},
  {~t.c.a:any(3), "NOT (:a_1 = ANY (t.a))", "NOT ($1 = ANY (t.a))", {3}},
  {t.c.a:any(t.c.id), "t.id = ANY (t.a)", "t.id = ANY (t.a)", {}},
  {t.c.s:any("x"), ":s_1 = ANY (t.s)", "$1 = ANY (t.s)", {"x"}},
  {any_(t.c.a):eq(3), ":param_1 = ANY (t.a)", "$1 = ANY (t.a)", {3}},
  {all_(t.c.a):eq(3), ":param_1 = ALL (t.a)", "$1 = ALL (t.a)", {3}},
  {any_(t.c.a):lt(3), ":param_1 > ANY (t.a)", "$1 > ANY (t.a)", {3}},
  {~(any_(t.c.a):eq(3)), ":param_1 != ANY (t.a)", "$1 != ANY (t.a)", {3}},
  {all_(t.c.a):ne(3), ":param_1 != ALL (t.a)", "$1 != ALL (t.a)", {3}},
  {t.c.a:any_():eq(3), ":param_1 = ANY (t.a)", "$1 = ANY (t.a)", {3}},
  {any_(func.f(t.c.id)):eq(2), ":param_1 = ANY (f(t.id))",
   "$1 = ANY (f(t.id))", {2}},
  {any_(t.c.a + {1}):eq(2), ":param_1 = ANY (t.a || :a_1)",
   "$1 = ANY (t.a || $2::INTEGER[])", {2, "{1}"}},
  {any_(select(t.c.a):scalar_subquery()):eq(2),
   ":param_1 = ANY (SELECT t.a FROM t)", "$1 = ANY (SELECT t.a FROM t)", {2}},
  {t.c.a:any(3) & t.c.a:all(4), ":a_1 = ANY (t.a) AND :a_2 = ALL (t.a)",
   "$1 = ANY (t.a) AND $2 = ALL (t.a)", {3, 4}},
  {t.c.a:contains({1, 2}), "t.a @> :a_1", "t.a @> $1::INTEGER[]", {"{1,2}"}},
  {t.c.s:contains({"x"}), "t.s @> :s_1", "t.s @> $1::VARCHAR[]", {'{"x"}'}},
  {~t.c.a:contains({1, 2}), "NOT t.a @> :a_1", "NOT t.a @> $1::INTEGER[]",
   {"{1,2}"}},
  {t.c.a:contained_by({1}), "t.a <@ :a_1", "t.a <@ $1::INTEGER[]", {"{1}"}},
  {t.c.a:overlap({1}), "t.a && :a_1", "t.a && $1::INTEGER[]", {"{1}"}},
  {t.c.a + {1}, "t.a || :a_1", "t.a || $1::INTEGER[]", {"{1}"}},
  {t.c.a:eq({1, 2}), "t.a = :a_1", "t.a = $1::INTEGER[]", {"{1,2}"}},
  {select(t.c.id):where(t.c.a:any(5)),
   "SELECT t.id FROM t WHERE :a_1 = ANY (t.a)",
   "SELECT t.id FROM t WHERE $1 = ANY (t.a)", {5}},
  {insert(t):values{a = {1, 2}}, "INSERT INTO t (a) VALUES (:a)",
   "INSERT INTO t (a) VALUES ($1::INTEGER[]) RETURNING t.id", {"{1,2}"}},
}

T.test("ARRAY operators render as SQLAlchemy's", function()
  for i, case in ipairs(cases) do
    local what = "case " .. i
    if case[2] then T.eq(squash(tostring(case[1])), case[2], what) end
    local c = case[1]:compile("postgresql")
    T.eq(squash(c.sql), case[3], what)
    T.eq(c.params, case[4], what)
  end
  -- literal binds: the values inline
  T.eq(t.c.a[2]:compile("postgresql", {literal_binds = true}).sql, "t.a[2]")
  T.eq(squash(select(t.c.id):where(t.c.a:any(5))
       :compile("postgresql", {literal_binds = true}).sql),
       "SELECT t.id FROM t WHERE 5 = ANY (t.a)")
  -- an element has the element type; a slice stays an ARRAY
  T.eq(t.c.a[2].type.__name__, "Integer")
  T.eq(t.c.s[1].type.__name__, "String")
  T.eq(t.c.a[{1, 2}].type.__name__, "ARRAY")
  T.eq(t.c.b[1].type.__name__, "ARRAY")
  T.eq(t.c.b[1][1].type.__name__, "Integer")
end)

T.test("ARRAY index on a database without arrays is a CompileError",
       function()
  for _, d in ipairs{"sqlite", "mysql"} do
    local err = T.raises("CompileError", function()
      return select(t.c.a[2]):compile(d)
    end)
    T.match(err.message, d)
  end
  -- ANY and the containment operators render everywhere, as SQLAlchemy's
  T.eq(t.c.a:any(3):compile("sqlite").sql, "? = ANY (t.a)")
  T.eq(t.c.a:contains({1}):compile("mysql").sql, "t.a @> ?")
  T.raises("ArgumentError", function() return t.c.a[{1}] end)
  T.raises("ArgumentError", function() return t.c.a["x"] end)
  T.raises("ArgumentError", function() return t.c.id:any(1) end)
  T.raises("ArgumentError", function() return t.c.a:any(1, {operator = "~"}) end)
end)

T.test("JSONB containment and has_key render as SQLAlchemy's", function()
  local j = Table("tj", MetaData(), Column("j", JSONB)).c.j
  -- str() | postgresql | the bound value
  local cases = {
    {j:contains({a = 1}), "tj.j @> :j_1", "tj.j @> $1", '{"a": 1}'},
    {j:contained_by({1}), "tj.j <@ :j_1", "tj.j <@ $1", "[1]"},
    {j:has_key("x"), "tj.j ? :j_1", "tj.j ? $1", "x"},
    {~j:contains({a = 1}), "NOT tj.j @> :j_1", "NOT tj.j @> $1", '{"a": 1}'},
  }
  for i, case in ipairs(cases) do
    T.eq(tostring(case[1]), case[2], "case " .. i)
    local c = case[1]:compile("postgresql")
    T.eq(c.sql, case[3], "case " .. i)
    T.eq(c.params, {case[4]}, "case " .. i)
  end
  T.raises("ArgumentError", function() return j:overlap({1}) end)
end)

for _, db in ipairs(T.databases()) do
  if db.name == "postgresql" then
    T.test("postgresql: JSONB containment on the server", function()
      local e = create_engine(db.url)
      local m = MetaData()
      local jt = Table("jb_ops", m, Column("id", Integer, {primary_key = true}),
                       Column("j", JSONB))
      m:drop_all(e)
      m:create_all(e)
      local c <close> = e:connect()
      c:execute(insert(jt), {{id = 1, j = {a = 1, b = {2, 3}}},
                             {id = 2, j = {c = true}}})
      local function ids(crit)
        return c:execute(select(jt.c.id):where(crit):order_by(jt.c.id))
          :scalars():all()
      end
      T.eq(ids(jt.c.j:contains({a = 1})), {1})
      T.eq(ids(jt.c.j:contains({b = {3}})), {1})
      T.eq(ids(jt.c.j:contained_by({c = true, d = 1})), {2})
      T.eq(ids(jt.c.j:has_key("c")), {2})
      T.eq(ids(~jt.c.j:has_key("c")), {1})
      c:rollback()
      m:drop_all(e)
      e:dispose()
    end)

    T.test("postgresql: ARRAY operators on the server", function()
      local e = create_engine(db.url)
      local m = MetaData()
      local at = Table("arr_ops", m,
                       Column("id", Integer, {primary_key = true}),
                       Column("a", ARRAY(Integer)), Column("s", ARRAY(String)),
                       Column("b", ARRAY(Integer, {dimensions = 2})))
      m:drop_all(e)
      m:create_all(e)
      local c <close> = e:connect()
      c:execute(insert(at), {
        {id = 1, a = {1, 2, 3}, s = {"x", "y"}, b = {{1, 2}, {3, 4}}},
        {id = 2, a = {4, 5}, s = {"z"}, b = {{5, 6}, {7, 8}}}})
      local function ids(crit)
        return c:execute(select(at.c.id):where(crit):order_by(at.c.id))
          :scalars():all()
      end
      local row = c:execute(select(at.c.a[2], at.c.a[{2, 3}], at.c.s[1],
                                   at.c.b[2][1]):where(at.c.id:eq(1))):one()
      T.eq({row[1], row[2], row[3], row[4]}, {2, {2, 3}, "x", 3})
      T.eq(math.type(row[1]), "integer")
      T.eq(ids(at.c.a:contains({1, 2})), {1})
      T.eq(ids(~at.c.a:contains({1, 2})), {2})
      T.eq(ids(at.c.a:overlap({5, 9})), {2})
      T.eq(ids(at.c.a:contained_by({1, 2, 3, 4})), {1})
      T.eq(ids(at.c.s:contains({"z"})), {2})
      T.eq(ids(at.c.a:any(5)), {2})
      T.eq(ids(any_(at.c.a):gt(3)), {2})
      T.eq(ids(at.c.a:all(4, {operator = "le"})), {2})
      T.eq(ids(~at.c.a:any(1)), {2})
      T.eq(ids(at.c.a[1]:eq(4)), {2})
      T.eq(ids(at.c.a:eq({4, 5})), {2})
      T.eq(c:execute(select(at.c.a + {9}):where(at.c.id:eq(2))):scalar(),
           {4, 5, 9})
      c:rollback()
      m:drop_all(e)
      e:dispose()
    end)
  end

  T.test(db.name .. ": Float{asdecimal = true} gives decimal text", function()
    local e = create_engine(db.url)
    local m = MetaData()
    local ft = Table("fdec", m, Column("id", Integer, {primary_key = true}),
                     Column("f", Float{asdecimal = true}),
                     Column("g", Float{asdecimal = true,
                                       decimal_return_scale = 3}),
                     Column("n", Numeric(10, 2, {asdecimal = false})),
                     Column("d", Double{asdecimal = true}),
                     Column("p", Float))
    m:drop_all(e)
    m:create_all(e)
    local c <close> = e:connect()
    c:execute(insert(ft), {id = 1, f = 1.5, g = 2.25, n = 3.5, d = 0.1,
                           p = 0.5})
    -- SQLAlchemy: (1, Decimal('1.5000000000'), Decimal('2.250'), 3.5,
    -- Decimal('0.1000000000'), 0.5)
    local r = c:execute(select(ft)):one()
    T.eq({r.f, r.g, r.n, r.d, r.p}, {"1.5000000000", "2.250", 3.5,
                                     "0.1000000000", 0.5})
    T.eq(math.type(r.n), "float")
    T.eq(c:execute(select(func.max(ft.c.f))):scalar(), "1.5000000000")
    T.eq(c:execute(select(cast(ft.c.n, Float{asdecimal = true}))):scalar(),
         "3.5000000000")
    c:rollback()
    m:drop_all(e)
    e:dispose()
  end)
end

T.test("Float{precision} is FLOAT(p)", function()
  -- SQLAlchemy's generic string form drops the precision: str(Float(10))
  -- is FLOAT; PostgreSQL and MySQL keep it
  T.eq(tostring(Float{precision = 10}), "FLOAT")
  T.eq(tostring(Float(10)), "FLOAT")
  local t = Table("fl", MetaData(), Column("f", Float{precision = 10}))
  T.match(CreateTable(t):compile("postgresql").sql, "f FLOAT%(10%)")
  T.match(CreateTable(t):compile("mysql").sql, "f FLOAT%(10%)")
  T.match(CreateTable(t):compile("sqlite").sql, "f FLOAT\n")
end)

T.done()
