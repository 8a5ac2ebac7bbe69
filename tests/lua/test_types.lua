-- Values in and out by the SQL type of their column (API.md §1 and §2), on
-- every database.  Expected values are SQLAlchemy's: on SQLite checked
-- against SQLAlchemy 1.4 itself (Numeric's scale, the JSON text, None as
-- JSON null), elsewhere what its dialects give (Decimal text of the
-- server's NUMERIC; Uuid as 2.0 stores it: CHAR(32) hex unless the
-- database has a uuid type).
local T = require "testing"

local UUID = "12345678-1234-5678-1234-56781234abcd"
local HEX = "1234567812345678123456781234abcd"

local function setup(db, extra)
  local e = create_engine(db.url)
  local md = MetaData()
  local cols = {
    Column("id", Integer, {primary_key = true}),
    Column("n", Numeric(10, 2)),
    Column("n2", Numeric),
    Column("nf", Numeric(10, 2, {asdecimal = false})),
    Column("f", Float),
    Column("bi", BigInteger),
    Column("b", Boolean),
    Column("d", Date),
    Column("dt", DateTime),
    Column("tm", Time),
    Column("lb", LargeBinary),
    Column("j", JSON),
    Column("en", Enum("a", "b", {name = "kinds"})),
    Column("u", Uuid),
  }
  for _, c in ipairs(extra or {}) do cols[#cols + 1] = c end
  local t = Table("typed", md, table.unpack(cols))
  md:drop_all(e)
  md:create_all(e)
  return e, t, md
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local pg = db.name == "postgresql"

  T.test(n .. "every type round-trips through insert and select", function()
    local e, t, md = setup(db)
    local c <close> = e:connect()
    c:execute(insert(t), {
      n = "1.5", n2 = "3.14159", nf = 2.5, f = 1.5, bi = math.maxinteger,
      b = true, d = "2026-11-21", dt = "2026-11-21 08:30:00",
      tm = "08:30:01", lb = "a\0b\255", j = {a = {1, sa.null, "x"}},
      en = "b", u = UUID})
    c:execute(insert(t), {id = 2, bi = math.mininteger, b = false})
    local rows = c:execute(select(t):order_by(t.c.id)):all()
    local r = rows[1]
    T.eq(r.n, "1.50")
    -- a bare Numeric: SQLite gives SQLAlchemy's default scale of 10; MySQL
    -- makes the column DECIMAL(10, 0)
    T.eq(r.n2, ({sqlite = "3.1415900000", postgresql = "3.14159",
                 mysql = "3"})[db.name])
    T.eq(r.nf, 2.5)
    T.eq(math.type(r.nf), "float")
    T.eq(r.f, 1.5)
    T.eq(r.bi, math.maxinteger)
    T.eq(rows[2].bi, math.mininteger)
    T.eq(r.b, true)
    T.eq(rows[2].b, false)
    T.eq(rows[2].n, nil)
    T.eq(r.d, "2026-11-21")
    T.eq(r.dt, "2026-11-21 08:30:00")
    T.eq(r.tm, "08:30:01")
    T.eq(r.lb, "a\0b\255")
    T.eq(r.j.a[1], 1)
    T.ok(r.j.a[2] == sa.null, "null inside JSON is sa.null")
    T.eq(r.j.a[3], "x")
    T.eq(r.en, "b")
    T.eq(r.u, UUID)
    T.eq(rows[2].u, nil)
    T.eq(rows[2].j, nil)
    c:rollback()
    md:drop_all(e)
  end)

  T.test(n .. "what the columns store: JSON text, Uuid hex, booleans",
         function()
    local e, t, md = setup(db)
    local c <close> = e:connect()
    c:execute(insert(t), {{id = 1, j = {a = {1, sa.null, "x"}}, u = UUID,
                           b = true},
                          {id = 2, j = "abc", u = UUID:upper(), b = false},
                          {id = 3, j = sa.null, u = sa.null, b = sa.null}})
    local raw = c:exec_driver_sql(
      "SELECT CAST(j AS " .. (db.name == "mysql" and "CHAR" or "TEXT") ..
      "), CAST(u AS " .. (db.name == "mysql" and "CHAR" or "TEXT") ..
      ") FROM typed ORDER BY id"):all()
    if db.name == "sqlite" then
      -- SQLAlchemy's json.dumps text; None is JSON null, not SQL NULL
      T.eq(raw[1][1], '{"a": [1, null, "x"]}')
      T.eq(raw[2][1], '"abc"')
      T.eq(raw[3][1], "null")
    else
      local back = c:exec_driver_sql("SELECT j FROM typed ORDER BY id")
        :scalars():all()
      T.eq(back[2], "abc")
      T.eq(raw[3][1], "null")
    end
    if pg then
      T.eq(raw[1][2], UUID)
    else
      T.eq(raw[1][2], HEX)
      T.eq(raw[2][2], HEX) -- lower case, as uuid.UUID(...).hex
    end
    local u = c:execute(select(t.c.u):order_by(t.c.id)):scalars():all()
    T.eq(u[1], UUID)
    T.eq(u[2], UUID)
    -- the statement's own values go the same way
    c:execute(insert(t):values{id = 4, j = {k = true}, u = UUID})
    local r = c:execute(select(t.c.j, t.c.u):where(t.c.id:eq(4))):one()
    T.eq(r.j, {k = true})
    T.eq(r.u, UUID)
    c:execute(update(t):where(t.c.id:eq(4)):values{j = {1, 2}})
    T.eq(c:execute(select(t.c.j):where(t.c.id:eq(4))):scalar(), {1, 2})
    c:rollback()
    md:drop_all(e)
  end)

  T.test(n .. "DateTime and Time as Python's str() gives them", function()
    local e, t, md = setup(db)
    local c <close> = e:connect()
    c:execute(insert(t), {{id = 1, dt = "2026-11-21 08:30:00", tm = "08:30:01",
                           d = "2026-11-21"},
                          {id = 2, dt = "2026-11-21T08:30:00.5",
                           tm = "08:30:01.000005", d = "2026-01-02"}})
    local rows = c:execute(select(t.c.dt, t.c.tm, t.c.d):order_by(t.c.id))
      :all()
    T.eq(tostring(rows[1]), "('2026-11-21 08:30:00', '08:30:01', '2026-11-21')")
    if db.name == "mysql" then
      -- DATETIME and TIME without a fraction: MariaDB drops it
      T.eq(rows[2].dt, "2026-11-21 08:30:00")
      T.eq(rows[2].tm, "08:30:01")
    else
      T.eq(rows[2].dt, "2026-11-21 08:30:00.500000")
      T.eq(rows[2].tm, "08:30:01.000005")
    end
    if db.name == "sqlite" then
      -- stored as SQLAlchemy stores them, so they compare as text
      local raw = c:exec_driver_sql("SELECT dt, tm FROM typed ORDER BY id")
        :all()
      T.eq(tostring(raw[1]), "('2026-11-21 08:30:00.000000', '08:30:01.000000')")
      T.eq(tostring(raw[2]), "('2026-11-21 08:30:00.500000', '08:30:01.000005')")
      T.eq(c:execute(select(t.c.id):where(t.c.dt:gt("2026-11-21 08:30:00")))
             :scalars():all(), {2})
    end
    c:rollback()
    md:drop_all(e)
  end)

  T.test(n .. "text() with typed bindparams and typed columns", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS tt")
    c:exec_driver_sql("CREATE TABLE tt (id INTEGER, j TEXT, u " ..
                      (pg and "UUID" or "CHAR(32)") .. ", n NUMERIC(10, 2))")
    local ins = text("INSERT INTO tt (id, j, u, n) VALUES (:id, :j, :u, :n)")
      :bindparams{bindparam("j", nil, JSON), bindparam("u", nil, Uuid)}
    c:execute(ins, {id = 1, j = {a = 1}, u = UUID, n = 2})
    -- a typed bindparam with its value: the value in its stored form
    c:execute(text("INSERT INTO tt (id, j, n) VALUES (:id, :j, :n)")
                :bindparams{bindparam("j", {b = {true}}, JSON)},
              {id = 2, n = 3})
    T.raises("StatementError", function()
      c:execute(ins, {id = 3, u = UUID, n = 1})
    end)
    local raw = c:exec_driver_sql("SELECT j, u FROM tt ORDER BY id"):all()
    T.eq(raw[1].j, '{"a": 1}')
    T.eq(raw[2].j, '{"b": [true]}')
    T.eq(raw[1].u, pg and UUID or HEX)
    local sel = text("SELECT j, u, n FROM tt ORDER BY id")
    local rows = c:execute(sel:columns(column("j", JSON), column("u", Uuid),
                                       column("n", Numeric(10, 3)))):all()
    T.eq(rows[1].j, {a = 1})
    T.eq(rows[2].j, {b = {true}})
    T.eq(rows[1].u, UUID)
    -- Numeric's scale is SQLAlchemy's on SQLite; elsewhere the server's text
    T.eq(rows[1].n, db.name == "sqlite" and "2.000" or "2.00")
    -- a name alone stays untyped
    rows = c:execute(sel:columns("j", column("u", Uuid))):all()
    T.eq(rows[1].j, '{"a": 1}')
    c:exec_driver_sql("DROP TABLE tt")
    c:commit()
  end)

  -- what the ORM runs: compile_hook's SQL and positional values, executed
  -- with the kinds and conversions it gives
  T.test(n .. "compiled SQL with positional values, processed by type",
         function()
    local hook = debug.getregistry()["retort.compile_hook"]
    local e, t, md = setup(db)
    local c <close> = e:connect()
    local sql, pos, kinds, conv = hook(insert(t), db.name, {
      {id = 1, j = {1, {a = true}}, u = UUID, lb = "x\0y", dt = "2026-11-21"},
      {id = 2, j = "s", u = sa.null, lb = sa.null, dt = sa.null}})
    T.eq(#pos, 2)
    T.eq(pos[1][4], {1, {a = true}}) -- as given, in the table's order
    T.eq(kinds, "-tbju")
    T.eq(conv, nil)
    T.eq(c:_exec_compiled(sql, pos, kinds, conv).rowcount, 2)
    sql, pos, kinds, conv = hook(
      select(t.c.j, t.c.u, t.c.lb, t.c.dt, t.c.n):where(t.c.id:eq(1)),
      db.name)
    local r = c:_exec_compiled(sql, {pos}, kinds, conv):one()
    T.eq(r.j, {1, {a = true}})
    T.eq(r.u, UUID)
    T.eq(r.lb, "x\0y")
    T.eq(r.dt, "2026-11-21 00:00:00")
    -- the same SQL without them: values as the database has them
    local raw = c:exec_driver_sql(sql, pos):one()
    if db.name == "sqlite" then
      T.eq(raw.j, {1, {a = true}}) -- a column declared JSON
      T.eq(raw.u, HEX:sub(1, 28) .. "abcd")
      T.eq(raw.dt, "2026-11-21 00:00:00.000000")
    end
    T.eq(c:execute(select(t.c.j):where(t.c.id:eq(2))):scalar(), "s")
    T.raises("ArgumentError", function()
      c:_exec_compiled(sql, pos[1], kinds, conv)
    end)
    c:rollback()
    md:drop_all(e)
  end)

  T.test(n .. "insert ... returning converts by type", function()
    if db.name == "mysql" then
      return T.skip(n .. "returning", "MySQL has no RETURNING")
    end
    local e, t, md = setup(db)
    local c <close> = e:connect()
    local r = c:execute(insert(t):returning(t.c.id, t.c.n, t.c.j, t.c.u,
                                            t.c.b),
                        {n = 2, j = {x = 1}, u = UUID, b = true}):one()
    T.eq(r.id, 1)
    T.eq(r.n, "2.00")
    T.eq(r.j, {x = 1})
    T.eq(r.u, UUID)
    T.eq(r.b, true)
    c:rollback()
    md:drop_all(e)
  end)

  T.test(n .. "inserted_primary_key", function()
    local e = create_engine(db.url)
    local md = MetaData()
    local t = Table("ipk", md, Column("id", Integer, {primary_key = true}),
                    Column("x", String(20)))
    local t2 = Table("ipk2", md,
                     Column("a", String(10), {primary_key = true}),
                     Column("b", Integer, {primary_key = true}),
                     Column("x", String(20)))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    local r = c:execute(insert(t), {x = "a"})
    T.eq(tostring(r.inserted_primary_key), "(1,)")
    T.eq(r.inserted_primary_key.id, 1)
    T.eq(r.inserted_primary_key._fields, {"id"})
    -- psycopg2 reads the key through an implicit RETURNING: the result
    -- keeps returns_rows, with its one row already taken
    T.eq(r.returns_rows, db.name == "postgresql")
    r = c:execute(insert(t):values{x = "b"})
    T.eq(r.inserted_primary_key[1], 2)
    r = c:execute(insert(t), {id = 20, x = "c"})
    T.eq(r.inserted_primary_key[1], 20)
    r = c:execute(insert(t2), {a = "k", b = 3})
    T.eq(tostring(r.inserted_primary_key), "('k', 3)")
    r = c:execute(insert(t2):values{a = "k", b = 4, x = "y"})
    T.eq(tostring(r.inserted_primary_key), "('k', 4)")
    local err = T.raises("InvalidRequestError", function()
      return c:execute(insert(t), {{x = "d"}, {x = "e"}}).inserted_primary_key
    end)
    T.match(err.message, "executemany")
    T.raises("InvalidRequestError", function()
      return c:execute(select(t)).inserted_primary_key
    end)
    T.eq(#c:execute(select(t)):all(), 5)
    c:rollback()
    md:drop_all(e)
  end)

  if pg then
    T.test(n .. "ARRAY in and out as Lua lists", function()
      local e, t, md = setup(db, {Column("ai", ARRAY(Integer)),
                                  Column("as", ARRAY(String)),
                                  Column("af", ARRAY(Float)),
                                  Column("ab", ARRAY(Boolean))})
      local c <close> = e:connect()
      local odd = {"plain", "with, comma", 'qu"ote', "back\\slash", "",
                   "NULL", "{braces}"}
      c:execute(insert(t), {ai = {1, 2, 2147483647}, as = odd,
                            af = {1.5, -2}, ab = {true, false}})
      c:execute(insert(t), {id = 2, ai = {}, as = {"a", sa.null}})
      local rows = c:execute(select(t.c.ai, t.c.as, t.c.af, t.c.ab)
                               :order_by(t.c.id)):all()
      T.eq(rows[1].ai, {1, 2, 2147483647})
      T.eq(math.type(rows[1].ai[1]), "integer")
      T.eq(rows[1].as, odd)
      T.eq(rows[1].af, {1.5, -2.0})
      T.eq(rows[1].ab, {true, false})
      T.eq(rows[2].ai, {})
      T.eq(#rows[2].as, 2)
      T.ok(rows[2].as[2] == sa.null, "a NULL element is sa.null")
      -- without the statement's types: by the server's array type
      local raw = c:exec_driver_sql(
        "SELECT ai, \"as\", af, ab FROM typed ORDER BY id"):all()
      T.eq(raw[1][1], {1, 2, 2147483647})
      T.eq(raw[1][2], odd)
      T.eq(raw[1][3], {1.5, -2.0})
      T.eq(raw[1][4], {true, false})
      T.eq(c:exec_driver_sql("SELECT ARRAY[ARRAY[1, 2], ARRAY[3, 4]]")
             :scalar(), {{1, 2}, {3, 4}})
      c:rollback()
      md:drop_all(e)
    end)
  end
end

T.test("sqlite: DateTime and Time text in other forms", function()
  local e = create_engine("sqlite://")
  local md = MetaData()
  local t = Table("tt", md, Column("id", Integer), Column("dt", DateTime),
                  Column("tm", Time))
  md:create_all(e)
  local c <close> = e:connect()
  c:exec_driver_sql("INSERT INTO tt VALUES (?, ?, ?)", {
    {1, "2026-11-21T08:30:00Z", "08:30:00.1234567"},
    {2, "2026-11-21", "08:30:00+0530"},
    {3, "not a date", "8:30"},
    {4, "2026-11-21 08:30:00.", "08:30:00-05"}})
  local rows = c:execute(select(t.c.dt, t.c.tm):order_by(t.c.id)):all()
  T.eq(tostring(rows[1]), "('2026-11-21 08:30:00+00:00', '08:30:00.123456')")
  T.eq(tostring(rows[2]), "('2026-11-21 00:00:00', '08:30:00+05:30')")
  T.eq(tostring(rows[3]), "('not a date', '8:30')")
  T.eq(tostring(rows[4]), "('2026-11-21 08:30:00.', '08:30:00-05:00')")
  -- binds: an offset is dropped (SQLAlchemy's storage format has none and
  -- its strftime ignores a datetime's tzinfo); another form goes as it is
  c:execute(insert(t), {{id = 5, dt = "2026-11-21 08:30:00+01:00",
                         tm = "later"}})
  T.eq(tostring(c:exec_driver_sql("SELECT dt, tm FROM tt WHERE id = 5")
                  :one()), "('2026-11-21 08:30:00.000000', 'later')")
end)

-- echo: each statement, then its parameters after where the SQL came
-- from, in the shape SQLAlchemy 1.4 logs them
T.test("echo logs parameters as SQLAlchemy does", function()
  local bin = os.getenv("RETORT_BUILD_DIR")
  if not bin then return T.skip("echo", "RETORT_BUILD_DIR unset") end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
    local e = create_engine("sqlite://", {echo = true})
    local md = MetaData()
    local t = Table("t", md, Column("id", Integer, {primary_key = true}),
                    Column("j", JSON), Column("s", String))
    md:create_all(e)
    local c = e:connect()
    c:execute(insert(t), {j = sa.null, s = string.rep("x", 301)})
    local many = {}
    for i = 1, 15 do many[i] = {j = "abc", s = "y" .. i} end
    c:execute(insert(t), many)
    c:execute(text("select :x, :y"), {x = 1, y = "a'b"})
    c:execute(select(t.c.id):where(t.c.id:eq(1))):all()
    c:execute(select(t.c.id):where(t.c.id:eq(2))):all()
    c:exec_driver_sql("select 1")
    c:begin_nested()
    c:rollback()
  ]])
  f:close()
  local p = io.popen("'" .. bin .. "/retort' --norc " .. script .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(script)
  local E = "INFO retort%.engine%.Engine "
  -- JSON's None is 'null'; a long value is cut in the middle
  T.match(out, E .. "%[generated in %d%.%d%d%d%d%ds%] %('null', '" ..
          string.rep("x", 149) .. " %.%.%. %(3 characters truncated%) " ..
          "%.%.%. " .. string.rep("x", 149) .. "'%)\n")
  -- an executemany is cached apart from the same INSERT run once
  T.match(out, E .. "%[generated in %d%.%d%d%d%d%ds%] " ..
          "%(%('\"abc\"', 'y1'%), " ..
          ".-%('\"abc\"', 'y8'%)  %.%.%. displaying 10 of 15 total bound " ..
          "parameter sets %.%.%.  %('\"abc\"', 'y14'%), %('\"abc\"', " ..
          "'y15'%)%)\n")
  T.match(out, E .. "select %?, %?\n" .. E ..
          "%[generated in [%d.]+s%] %(1, \"a'b\"%)\n")
  T.match(out, "WHERE t%.id = %?\n" .. E .. "%[generated in [%d.]+s%] %(1,%)\n")
  T.match(out, "WHERE t%.id = %?\n" .. E ..
          "%[cached since [%d.e-]+s ago%] %(2,%)\n")
  T.match(out, E .. "select 1\n" .. E .. "%[raw sql%] %(%)\n")
  T.match(out, E .. "SAVEPOINT sa_savepoint_1\n" .. E ..
          "%[no key [%d.]+s%] %(%)\n")
end)

T.done()
