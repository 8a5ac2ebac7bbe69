-- One statement object executed again and again on a connection (a get by
-- primary key with bindparam): every run after the first takes a shortcut
-- to what the first compiled, and every behaviour of conn:execute holds
-- there as on the first run (rows, conversions, errors, events, echo,
-- autobegin, a schema change).  Checked against SQLAlchemy 1.4, which
-- gives the same results for every run of a statement.
local T = require "testing"

local function setup(db)
  local md = MetaData()
  local t = Table("rt_reuse", md,
    Column("id", Integer, {primary_key = true}),
    Column("name", String(40)),
    Column("flag", Boolean))
  local e = create_engine(db.url)
  md:drop_all(e)
  md:create_all(e)
  e:begin(function(c)
    c:execute(insert(t), {{id = 1, name = "one", flag = true},
                          {id = 2, name = "two", flag = false}})
    c:execute(insert(t), {id = 3, name = "three"}) -- flag NULL
  end)
  return e, t, md
end

local RUNS = 5 -- the first run compiles, the second keeps a plan, then it is used

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "a statement reused with bindparam gives each run its row", function()
    local e, t = setup(db)
    local c <close> = e:connect()
    local stmt = select(t):where(t.c.id:eq(bindparam("id")))
    for i = 1, RUNS do
      for id = 1, 3 do
        local r = c:execute(stmt, {id = id}):one()
        T.eq(r.id, id)
        T.eq(r.name, ({"one", "two", "three"})[id])
        T.eq(r.flag, ({true, false, nil})[id], "flag run " .. i)
        T.eq(r._fields, {"id", "name", "flag"})
      end
    end
    -- no row, several rows: the same errors every time
    local any = select(t.c.name):where(t.c.id:ge(bindparam("lo")))
    for _ = 1, RUNS do
      T.raises("NoResultFound", function()
        c:execute(stmt, {id = 99}):one()
      end)
      T.eq(c:execute(stmt, {id = 99}):one_or_none(), nil)
      T.raises("MultipleResultsFound", function()
        c:execute(any, {lo = 1}):one()
      end)
      T.eq(c:execute(any, {lo = 3}):scalar_one(), "three")
    end
    e:dispose()
  end)

  T.test(n .. "statements taking turns on one connection, and one on two", function()
    local e, t = setup(db)
    local c1 <close> = e:connect()
    local c2 <close> = e:connect()
    local by_id = select(t.c.name):where(t.c.id:eq(bindparam("id")))
    local by_name = select(t.c.id, t.c.flag):where(t.c.name:eq(bindparam("n")))
    local all = select(t.c.id):order_by(t.c.id)
    for _ = 1, RUNS do
      T.eq(c1:execute(by_id, {id = 2}):scalar_one(), "two")
      T.eq(tostring(c1:execute(by_name, {n = "one"}):one()), "(1, True)")
      T.eq(c2:execute(by_id, {id = 3}):scalar_one(), "three")
      T.eq(c1:execute(all):scalars():all(), {1, 2, 3})
      T.eq(c2:execute(by_name, {n = "two"}):one().flag, false)
    end
    e:dispose()
  end)

  T.test(n .. "a missing parameter is an error on every run", function()
    local e, t = setup(db)
    local c <close> = e:connect()
    local stmt = select(t.c.name):where(t.c.id:eq(bindparam("id")))
    for _ = 1, RUNS do
      local err = T.raises("StatementError", function()
        c:execute(stmt, {other = 1})
      end)
      T.match(err.message, "A value is required for bind parameter 'id'")
      T.raises("StatementError", function() c:execute(stmt) end)
      T.eq(c:execute(stmt, {id = 1}):scalar_one(), "one")
    end
    -- a Row is no parameter map, however often the statement ran
    local row = c:execute(select(t.c.id):where(t.c.id:eq(1))):one()
    for _ = 1, RUNS do
      T.raises("ArgumentError", function() c:execute(stmt, row) end)
      T.eq(c:execute(stmt, {id = 2}):scalar_one(), "two")
    end
    e:dispose()
  end)

  T.test(n .. "parameter maps with __index, and values a bind processes", function()
    local e, t = setup(db)
    local c <close> = e:connect()
    local stmt = select(t.c.id):where(t.c.name:eq(bindparam("n")))
    local flagged = select(t.c.name):where(t.c.flag:eq(bindparam("f")))
    for i = 1, RUNS do
      local made = setmetatable({}, {__index = function(_, k)
        if k == "n" then return ("TWO"):lower() end
      end})
      T.eq(c:execute(stmt, made):scalar_one(), 2, "run " .. i)
      T.eq(c:execute(flagged, {f = false}):scalar_one(), "two")
      T.eq(c:execute(flagged, {f = true}):scalar_one(), "one")
    end
    e:dispose()
  end)

  T.test(n .. "a statement of many parameters runs again", function()
    local e, t = setup(db)
    local c <close> = e:connect()
    local conds, params = {}, {}
    for i = 1, 40 do
      conds[i] = t.c.id:ne(bindparam("p" .. i))
      params["p" .. i] = 100 + i
    end
    params.p7 = 2 -- rules out id 2
    local stmt = select(t.c.id):where(and_(table.unpack(conds))):order_by(t.c.id)
    for _ = 1, RUNS do
      T.eq(c:execute(stmt, params):scalars():all(), {1, 3})
    end
    e:dispose()
  end)

  T.test(n .. "events and autobegin on each run", function()
    local e, t = setup(db)
    local seen = {}
    event.listen(e, "before_cursor_execute", function(conn, _, sql, params)
      seen[#seen + 1] = {sql = sql, params = params}
    end)
    local begins = 0
    event.listen(e, "begin", function() begins = begins + 1 end)
    local c <close> = e:connect()
    local stmt = select(t.c.name):where(t.c.id:eq(bindparam("id")))
    for i = 1, RUNS do
      T.eq(c:in_transaction(), false)
      T.eq(c:execute(stmt, {id = 1}):scalar_one(), "one")
      T.eq(c:in_transaction(), true)
      T.eq(begins, i)
      c:commit()
    end
    T.eq(#seen, RUNS)
    for i = 1, RUNS do
      T.match(seen[i].sql, "^SELECT rt_reuse.name")
      T.eq(seen[i].params, {1})
    end
    e:dispose()
  end)

  T.test(n .. "a closed connection refuses the statement it ran", function()
    local e, t = setup(db)
    local c = e:connect()
    local stmt = select(t.c.name):where(t.c.id:eq(bindparam("id")))
    for _ = 1, RUNS do T.eq(c:execute(stmt, {id = 3}):scalar_one(), "three") end
    local r = c:execute(stmt, {id = 3})
    c:close()
    -- its rows were kept, as the DBAPI's buffered cursor keeps them
    T.eq(r.closed, false)
    T.eq(r:one().name, "three")
    local err = T.raises("ResourceClosedError", function()
      c:execute(stmt, {id = 3})
    end)
    T.eq(err.message, "This Connection is closed")
    e:dispose()
  end)

  T.test(n .. "a reused statement follows a schema change", function()
    local e, t, md = setup(db)
    local c <close> = e:connect()
    local stmt = select(t):where(t.c.id:eq(bindparam("id")))
    for _ = 1, RUNS do T.eq(c:execute(stmt, {id = 1}):one()._fields, {"id", "name", "flag"}) end
    c:exec_driver_sql("ALTER TABLE rt_reuse ADD COLUMN extra INTEGER")
    c:exec_driver_sql("UPDATE rt_reuse SET extra = id * 10")
    t:append_column(Column("extra", Integer))
    for _ = 1, RUNS do
      local r = c:execute(stmt, {id = 2}):one()
      T.eq(r._fields, {"id", "name", "flag", "extra"})
      T.eq(r.extra, 20)
    end
    c:commit()
    md:drop_all(e)
    e:dispose()
  end)
end

-- echo turned on after a statement ran: each run is logged as SQLAlchemy
-- logs it, the SQL and then the parameters with the compile cache's label
T.test("sqlite: echo logs every run of a reused statement", function()
  local bin = os.getenv("RETORT_BUILD_DIR")
  if not bin then return T.skip("echo", "RETORT_BUILD_DIR unset") end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
    local md = MetaData()
    local t = Table("t", md, Column("id", Integer, {primary_key = true}),
                    Column("x", Integer))
    local e = create_engine("sqlite://")
    md:create_all(e)
    local c <close> = e:connect()
    c:execute(insert(t), {{id = 1, x = 10}, {id = 2, x = 20}})
    local stmt = select(t.c.x):where(t.c.id:eq(bindparam("id")))
    for _ = 1, 5 do c:execute(stmt, {id = 1}):one() end
    e.echo = true
    for _ = 1, 2 do assert(c:execute(stmt, {id = 2}):scalar_one() == 20) end
    e.echo = false
    c:execute(stmt, {id = 1}):one()
  ]])
  f:close()
  local p = io.popen("'" .. bin .. "/retort' --norc " .. script .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(script)
  out = out:gsub("cached since [%d.e-]+s ago", "cached since X")
  local run = "INFO retort.engine.Engine SELECT t.x \nFROM t \nWHERE t.id = ?\n" ..
              "INFO retort.engine.Engine [cached since X] (2,)\n"
  T.eq(out, run .. run)
end)

T.test("sqlite: results of one shape with other conversions", function()
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  c:exec_driver_sql("CREATE TABLE b (flag INTEGER)")
  c:exec_driver_sql("INSERT INTO b VALUES (1)")
  local plain = text("SELECT flag FROM b")
  local typed = text("SELECT flag FROM b"):columns(sa.column("flag", Boolean))
  local as_int = text("SELECT flag FROM b"):columns(sa.column("flag", Integer))
  local as_text = text("SELECT flag FROM b"):columns(sa.column("flag", String))
  for _ = 1, RUNS do
    T.eq(c:execute(plain):scalar_one(), 1)
    T.eq(c:execute(typed):scalar_one(), true)
    T.eq(c:execute(typed):scalar_one(), true)
    T.eq(c:execute(as_int):scalar_one(), 1)
    T.eq(c:execute(typed):scalar_one(), true)
    T.eq(c:execute(as_text):scalar_one(), 1)
    T.eq(c:execute(plain):scalar_one(), 1)
  end
  -- one shape, conversions of the same length for other columns
  local q = "SELECT flag AS aa, flag + 0 AS bb FROM b"
  local first = text(q):columns{aa = Boolean}
  local second = text(q):columns{bb = Boolean}
  for _ = 1, RUNS do
    T.eq(tostring(c:execute(first):one()), "(True, 1)")
    T.eq(tostring(c:execute(second):one()), "(1, True)")
  end
end)

T.done()
