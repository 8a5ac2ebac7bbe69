-- INSERT of no values, Lua-function defaults and onupdates, aggregate
-- FILTER, IN with a NULL construct and packaged function names, executed on
-- SQLite and (when set) PostgreSQL and MariaDB.  Expected SQL text is
-- SQLAlchemy's (tests/oracle/gen_sql_cases.py pins the compiled forms).
local T = require "testing"

local function schema()
  local md = MetaData()
  local stamps = 0
  local t = Table("dml_t", md,
    Column("id", Integer, {primary_key = true}),
    Column("x", Integer),
    Column("made", String(20), {default = function(ctx)
      return "m-" .. tostring(ctx.current_parameters.x)
    end}),
    Column("stamp", Integer, {onupdate = function()
      stamps = stamps + 1
      return stamps
    end}))
  local bare = Table("dml_bare", md,
    Column("id", Integer, {primary_key = true}),
    Column("y", Integer, {server_default = "7"}))
  return md, t, bare
end

for _, db in ipairs(T.databases()) do
  local name = db.name

  T.test(name .. ": INSERT with no values is DEFAULT VALUES / () VALUES ()",
         function()
    local md, _, bare = schema()
    local engine = create_engine(db.url)
    md:drop_all(engine)
    md:create_all(engine)
    local conn <close> = engine:connect()
    local stmt = insert(bare)
    T.eq(stmt:compile(engine).sql,
         "INSERT INTO dml_bare (id, y) VALUES (" .. T.ph(name, 1) .. ", "
         .. T.ph(name, 2) .. ")", "compiled alone it names every column")
    conn:execute(stmt)
    conn:execute(insert(bare):values{})
    local rows = conn:execute(select(bare.c.id, bare.c.y):order_by(bare.c.id)):all()
    T.eq(#rows, 2)
    T.eq(rows[1].y, 7)
    T.eq(rows[2].id, 2)
    T.eq(insert(bare):values{}:compile(engine).sql,
         name == "mysql" and "INSERT INTO dml_bare () VALUES ()"
         or name == "postgresql"
            and "INSERT INTO dml_bare DEFAULT VALUES RETURNING dml_bare.id"
         or "INSERT INTO dml_bare DEFAULT VALUES")
    conn:rollback()
    md:drop_all(engine)
  end)

  T.test(name .. ": Lua-function default and onupdate run per row", function()
    local md, t = schema()
    local engine = create_engine(db.url)
    md:drop_all(engine)
    md:create_all(engine)
    local conn <close> = engine:connect()
    T.eq(tostring(insert(t):values{x = 1}),
         "INSERT INTO dml_t (x, made) VALUES (:x, :made)")
    T.eq(tostring(update(t):values{x = 1}), "UPDATE dml_t SET x=:x, stamp=:stamp")
    conn:execute(insert(t), {{x = 1}, {x = 2}})
    conn:execute(insert(t):values{x = 3})
    conn:execute(insert(t), {x = 4, made = "given"})
    -- (MariaDB may leave gaps in the ids of a multi-row insert)
    conn:execute(update(t):values{x = 10}:where(t.c.x:eq(1)))
    conn:execute(update(t):where(t.c.x:eq(2)), {x = 20})
    conn:execute(update(t):values{x = 40, stamp = 0}:where(t.c.x:eq(4)))
    local rows = conn:execute(select(t.c.x, t.c.made, t.c.stamp):order_by(t.c.made)):all()
    T.eq(#rows, 4)
    T.eq({rows[1].x, rows[1].made, rows[1].stamp}, {40, "given", 0},
         "a value given beats the function")
    T.eq({rows[2].x, rows[2].made, rows[2].stamp}, {10, "m-1", 1})
    T.eq({rows[3].x, rows[3].made, rows[3].stamp}, {20, "m-2", 2})
    T.eq({rows[4].x, rows[4].made, rows[4].stamp}, {3, "m-3", nil})
    conn:rollback()
    md:drop_all(engine)
  end)

  T.test(name .. ": IN with null() and aggregate FILTER", function()
    local md, t = schema()
    local engine = create_engine(db.url)
    md:drop_all(engine)
    md:create_all(engine)
    local conn <close> = engine:connect()
    conn:execute(insert(t), {{x = 1}, {x = 2}, {x = 3}})
    conn:execute(insert(t):values{x = sa.null})
    local n = conn:execute(select(func.count()):select_from(t)
      :where(t.c.x:in_{1, 3, null()})):scalar()
    T.eq(n, 2, "NULL in an IN list matches nothing")
    local stmt = select(func.count():filter(t.c.x:gt(1)):label("big"),
                        func.count(t.c.id):label("all"))
    if name == "mysql" then
      -- MariaDB has no FILTER clause: the database refuses it
      T.raises("ProgrammingError", function() conn:execute(stmt) end)
    else
      local row = conn:execute(stmt):one()
      T.eq({row.big, row.all}, {2, 4})
    end
    conn:rollback()
    md:drop_all(engine)
  end)
end

for _, db in ipairs(T.databases()) do
  local name = db.name
  if name ~= "mysql" then
    T.test(name .. ": executemany of INSERT .. RETURNING returns every row",
           function()
      -- SQLAlchemy 2.0's insertmanyvalues: one INSERT of as many VALUES rows
      local md, t = schema()
      local engine = create_engine(db.url)
      md:drop_all(engine)
      md:create_all(engine)
      local conn <close> = engine:connect()
      local r = conn:execute(insert(t):returning(t.c.id, t.c.x, t.c.made),
                             {{x = 1}, {x = 2, made = "two"}, {x = 3}})
      local rows = r:all()
      T.eq(#rows, 3)
      table.sort(rows, function(a, b) return a.x < b.x end)
      T.eq({rows[1].x, rows[1].made}, {1, "m-1"}, "Lua default per row")
      T.eq({rows[2].x, rows[2].made}, {2, "two"})
      T.eq({rows[3].x, rows[3].made}, {3, "m-3"})
      T.ok(rows[1].id < rows[2].id and rows[2].id < rows[3].id, "ids")
      T.eq(conn:execute(select(func.count()):select_from(t)):scalar(), 3)
      -- without RETURNING it stays an executemany that returns no rows
      r = conn:execute(insert(t), {{x = 4}, {x = 5}})
      T.eq(r.returns_rows, false)
      T.raises("ResourceClosedError", function() return r:all() end)
      conn:rollback()
      md:drop_all(engine)
    end)
  end
end

for _, db in ipairs(T.databases()) do
  local name = db.name
  T.test(name .. ": JSON index operators read values and paths", function()
    local md = MetaData()
    local j = Table("dml_json", md,
      Column("id", Integer, {primary_key = true}),
      Column("data", JSON))
    local engine = create_engine(db.url)
    md:drop_all(engine)
    md:create_all(engine)
    local conn <close> = engine:connect()
    conn:execute(insert(j), {
      {data = {k = "v", n = 3, a = {10, 20}, f = 1.5}},
      {data = {k = "w", n = 7, a = {30, 40}, f = 2.5}}})
    local d = j.c.data
    local rows = conn:execute(select(d["k"]:as_string(), d["n"]:as_integer(),
                                     d[{"a", 1}]:as_integer(),
                                     d["f"]:as_float())
      :where(d["n"]:as_integer():gt(2)):order_by(d["n"]:as_integer())):all()
    T.eq(#rows, 2)
    T.eq({rows[1][1], rows[1][2], rows[1][3], rows[1][4]}, {"v", 3, 20, 1.5})
    T.eq({rows[2][1], rows[2][2], rows[2][3], rows[2][4]}, {"w", 7, 40, 2.5})
    T.eq(conn:execute(select(j.c.id):where(d["k"]:as_string():eq("w")))
           :scalar(), 2)
    T.eq(d.name, "data", "attributes come before JSON keys")
    conn:rollback()
    md:drop_all(engine)
  end)
end

for _, db in ipairs(T.databases()) do
  local name = db.name
  T.test(name .. ": values() takes Column objects and mapped attributes as keys",
         function()
    local orm = require "retort.orm"
    local md = MetaData()
    local t = Table("dml_ck", md,
      Column("id", Integer, {primary_key = true}),
      Column("x", Integer),
      Column("y", String(10), {key = "yk"}))
    local Base = orm.declarative_base()
    local U = Base:class "U" {
      __tablename__ = "dml_cku",
      id = Column(Integer, {primary_key = true}),
      name = Column("nm", String(10)),
    }
    -- (the expected text is SQLAlchemy's)
    T.eq(tostring(insert(t):values{[t.c.x] = 1, [t.c.yk] = "a"}),
         "INSERT INTO dml_ck (x, y) VALUES (:x, :yk)")
    T.eq(tostring(insert(t):values{{[t.c.x] = 1}, {[t.c.x] = 2}}),
         "INSERT INTO dml_ck (x) VALUES (:x_m0), (:x_m1)")
    T.eq(tostring(update(t):values{[t.c.x] = t.c.x + 1}),
         "UPDATE dml_ck SET x=(dml_ck.x + :x_1)")
    T.eq(tostring(update(U):values{[U.name] = "a"}), "UPDATE dml_cku SET nm=:nm")
    T.eq(tostring(insert(U):values{[U.name] = "a"}),
         "INSERT INTO dml_cku (nm) VALUES (:nm)")
    T.raises("ArgumentError", function()
      return update(t):values{[t.c.x + 1] = 1}
    end)
    local engine = create_engine(db.url)
    md:drop_all(engine)
    Base.metadata:drop_all(engine)
    md:create_all(engine)
    Base.metadata:create_all(engine)
    local conn <close> = engine:connect()
    conn:execute(insert(t):values{[t.c.x] = 5, [t.c.yk] = "five"})
    conn:execute(update(t):values{[t.c.x] = t.c.x + 1})
    local row = conn:execute(select(t.c.x, t.c.yk)):one()
    T.eq({row[1], row[2]}, {6, "five"})
    conn:execute(insert(U):values{[U.name] = "ann"})
    conn:execute(update(U):where(U.id:eq(1)):values{[U.name] = U.name .. "e"})
    T.eq(conn:execute(select(U.__table__.c.nm)):scalar(), "anne")
    conn:rollback()
    md:drop_all(engine)
    Base.metadata:drop_all(engine)
  end)
end

T.test("packaged function names render dotted, labelled by the last part",
       function()
  local t = sa.table("t", column("x"))
  T.eq(tostring(select(func.myschema.myfunc(t.c.x))),
       "SELECT myschema.myfunc(t.x) AS myfunc_1 \nFROM t")
  T.eq(tostring(func.count), "func.count")
  T.ok(func.count == func.count, "func.<name> is made once")
end)

T.done()
