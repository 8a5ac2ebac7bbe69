-- Engines, connections and results checked against SQLAlchemy 1.4
-- (future=True) on the same calls: how a RowMapping prints, a
-- Transaction's close(), a Connection's execution options, Result.is_insert
-- and the error kinds each driver's DBAPI gives.
local T = require "testing"

local function setup(db)
  local e = create_engine(db.url)
  local c = e:connect()
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_a1")
  c:execute(text("CREATE TABLE rt_a1 (x INTEGER, y VARCHAR(10))"))
  c:execute(text("INSERT INTO rt_a1 (x, y) VALUES (:x, :y)"),
            {{x = 1, y = "a"}, {x = 2, y = null}})
  c:commit()
  return e, c
end

local function count(c)
  return c:execute(text("SELECT count(*) FROM rt_a1")):scalar()
end

-- API.md section 0: null() in a comparison is IS NULL, as a nil is
T.test("comparing with null(), true_() and false_()", function()
  local t = sa.table("t", sa.column("a"))
  T.eq(tostring(t.c.a:eq(null())), "t.a IS NULL")
  T.eq(tostring(t.c.a:ne(null())), "t.a IS NOT NULL")
  T.eq(tostring(t.c.a:is_not(null())), "t.a IS NOT NULL")
  T.eq(tostring(t.c.a:eq(true_())), "t.a = true")
  T.eq(tostring(t.c.a:is_(false_())), "t.a IS false")
  local msg = "Only '=', '!=', 'is_()', 'is_not()', 'is_distinct_from()', "
    .. "'is_not_distinct_from()' operators can be used with None/True/False"
  T.eq(T.raises("ArgumentError", t.c.a.lt, t.c.a, null()).message, msg)
  T.eq(T.raises("ArgumentError", t.c.a.gt, t.c.a, true_()).message, msg)
  T.eq(T.raises("ArgumentError", t.c.a.ge, t.c.a, nil).message, msg)
  local s = select(t.c.a):where(t.c.a:eq(null()))
  T.eq(tostring(s), "SELECT t.a \nFROM t \nWHERE t.a IS NULL")
end)

-- echo = "debug" logs each result's columns and rows too, as
-- SQLAlchemy 1.4's does (timings aside)
T.test("sqlite: echo = 'debug' logs Col and Row lines", function()
  local bin = os.getenv("RETORT_BUILD_DIR")
  if not bin then return T.skip("echo", "RETORT_BUILD_DIR unset") end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
    local e = create_engine('sqlite://', {echo = 'debug'})
    print(e.echo)
    local c = e:connect()
    c:execute(text("SELECT 1 AS a, 'x' AS b, NULL AS c, :p AS d"),
              {p = string.rep('z', 400)}):all()
    c:execute(text('SELECT 2 AS a')):first()
    c:execute(select(literal('ab', LargeBinary):label('b'))):all()
    c:execute(text('SELECT 1 WHERE 1 = 0')):all()
    c:exec_driver_sql('CREATE TABLE t (x INTEGER)')
    c:close()
    e.echo = true
    print(e.echo)
  ]])
  f:close()
  local p = io.popen("'" .. bin .. "/retort' --norc " .. script .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(script)
  out = out:gsub("generated in %d%.%d%d%d%d%ds", "generated in X")
           :gsub("no key %d%.%d%d%d%d%ds", "no key X")
  local I, D = "INFO retort.engine.Engine ", "DEBUG retort.engine.Engine "
  local function Z(n) return string.rep("z", n) end
  local want = {
    "debug",
    I .. "BEGIN (implicit)",
    I .. "SELECT 1 AS a, 'x' AS b, NULL AS c, ? AS d",
    I .. "[generated in X] ('" .. Z(149) .. " ... (102 characters "
      .. "truncated) ... " .. Z(149) .. "',)",
    D .. "Col ('a', 'b', 'c', 'd')",
    D .. "Row (1, 'x', None, '" .. Z(149) .. " ... (102 characters "
      .. "truncated) ... " .. Z(149) .. "')",
    I .. "SELECT 2 AS a",
    I .. "[generated in X] ()",
    D .. "Col ('a',)",
    D .. "Row (2,)",
    I .. "SELECT ? AS b",
    I .. "[generated in X] (<2 bytes>,)",
    D .. "Col ('b',)",
    D .. "Row (b'ab',)",
    I .. "SELECT 1 WHERE 1 = 0",
    I .. "[generated in X] ()",
    D .. "Col ('1',)",
    I .. "CREATE TABLE t (x INTEGER)",
    I .. "[raw sql] ()",
    I .. "ROLLBACK",
    "true",
  }
  T.eq(out, table.concat(want, "\n") .. "\n")
end)

T.test("URLs compare by their parts", function()
  local a = sa.make_url("postgresql://u:p@h/d?b=2&a=1")
  T.ok(a == sa.make_url("postgresql://u:p@h/d?a=1&b=2"))
  T.ok(a ~= sa.make_url("postgresql://u:q@h/d?a=1&b=2"))
  T.ok(a ~= sa.make_url("postgresql://u:p@h:5433/d?a=1&b=2"))
  T.ok(a:set{password = "q"} == sa.make_url("postgresql://u:q@h/d?a=1&b=2"))
  T.ok(a ~= {})
  T.ok(create_engine("sqlite://").url == sa.make_url("sqlite://"))
end)

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "a RowMapping prints as a dict, in column order", function()
    local e, c = setup(db)
    local q = text("SELECT x, y FROM rt_a1 ORDER BY x")
    local maps = c:execute(q):mappings():all()
    T.eq(tostring(maps[1]), "{'x': 1, 'y': 'a'}")
    T.eq(tostring(maps[2]), "{'x': 2, 'y': None}")
    T.eq(tostring(c:execute(q):first()._mapping), "{'x': 1, 'y': 'a'}")
    T.eq(tostring(c:execute(q):mappings():fetchone()), "{'x': 1, 'y': 'a'}")
    -- lookups stay a plain table's
    T.eq(maps[1].x, 1)
    T.eq(maps[2].y, nil)
    -- a repeated name is a dict's one key, with the last column's value
    T.eq(tostring(c:execute(text("SELECT 1 AS a, 2 AS a")):mappings():first()),
         "{'a': 2}")
    -- bytes print as bytes
    local b = c:execute(select(literal("ab", LargeBinary):label("b"),
                               literal("cd"):label("s"))):mappings():one()
    T.eq(tostring(b), "{'b': b'ab', 's': 'cd'}")
    c:close()
    e:dispose()
  end)

  T.test(n .. "Transaction:close() rolls back, and is quiet once ended",
         function()
    local e, c = setup(db)
    local t = c:begin()
    c:execute(text("INSERT INTO rt_a1 (x) VALUES (3)"))
    t:close()
    T.eq(t.is_active, false)
    T.eq(c:in_transaction(), false)
    T.eq(count(c), 2)
    c:rollback()
    t:close() -- ended: nothing to do, no error
    -- a savepoint's close() rolls back to it, the outer one goes on
    t = c:begin()
    c:execute(text("INSERT INTO rt_a1 (x) VALUES (4)"))
    local sp = c:begin_nested()
    c:execute(text("INSERT INTO rt_a1 (x) VALUES (5)"))
    sp:close()
    T.eq(sp.is_active, false)
    T.eq(t.is_active, true)
    T.eq(count(c), 3)
    t:commit()
    t:close()
    T.eq(count(c), 3)
    c:close()
    e:dispose()
  end)

  T.test(n .. "a Connection's execution options, its own included",
         function()
    local e = create_engine(db.url, {execution_options = {logging_token = "a"}})
    local c = e:connect()
    T.eq(c:get_execution_options(), {logging_token = "a"})
    T.ok(rawequal(c:execution_options{stream_results = true, mine = 7}, c))
    T.eq(c:get_execution_options(),
         {logging_token = "a", stream_results = true, mine = 7})
    -- a copy: changing it changes nothing
    c:get_execution_options().mine = 8
    T.eq(c:get_execution_options().mine, 7)
    T.raises("ArgumentError", c.execution_options, c, {true})
    T.eq(e:execution_options{mine = 1}:get_execution_options(),
         {logging_token = "a", mine = 1})
    c:close()
    T.raises("ResourceClosedError", c.execution_options, c, {mine = 1})
    e:dispose()
  end)

  T.test(n .. "Result.is_insert is true for insert() constructs only",
         function()
    local e, c = setup(db)
    local md = MetaData()
    local t = Table("rt_a1", md, Column("x", Integer), Column("y", String(10)))
    T.eq(c:execute(insert(t), {x = 7}).is_insert, true)
    T.eq(c:execute(insert(t), {{x = 8}, {x = 9}}).is_insert, true)
    T.eq(c:execute(text("INSERT INTO rt_a1 (x) VALUES (10)")).is_insert, false)
    T.eq(c:execute(update(t):values{y = "z"}).is_insert, false)
    T.eq(c:execute(select(t)).is_insert, false)
    c:rollback()
    c:close()
    e:dispose()
  end)

  -- each DBAPI's own mapping: MySQLdb (mysqlclient) calls most server
  -- errors OperationalError, psycopg2 goes by SQLSTATE class
  T.test(n .. "error kinds are the DBAPI's", function()
    local e, c = setup(db)
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_a1n")
    c:exec_driver_sql("CREATE TABLE rt_a1n (id INTEGER PRIMARY KEY, "
                      .. "v VARCHAR(10) NOT NULL)")
    c:commit()
    local want = {
      -- sql, sqlite, postgresql, mysql
      {"INSERT INTO rt_a1n (id, v) VALUES (1, NULL)",
       "IntegrityError", "IntegrityError", "OperationalError"},
      {"SELECT nosuch FROM rt_a1n",
       "OperationalError", "ProgrammingError", "OperationalError"},
      {"CREATE TABLE rt_a1n (x INTEGER)",
       "OperationalError", "ProgrammingError", "OperationalError"},
      {"DROP TABLE rt_a1_nosuch",
       "OperationalError", "ProgrammingError", "OperationalError"},
      {"SELECT * FROM rt_a1_nosuch",
       "OperationalError", "ProgrammingError", "ProgrammingError"},
      {"SELEC 1", "OperationalError", "ProgrammingError", "ProgrammingError"},
    }
    local col = ({sqlite = 2, postgresql = 3, mysql = 4})[db.name]
    for _, w in ipairs(want) do
      local err = T.raises(w[col], c.exec_driver_sql, c, w[1])
      T.ok(err:isa("DatabaseError"), w[1])
      c:rollback()
    end
    if db.name == "mysql" then
      c:exec_driver_sql("INSERT INTO rt_a1n (id, v) VALUES (1, 'a')")
      -- a duplicate key stays an IntegrityError, a too long value a
      -- DataError
      T.raises("IntegrityError", c.exec_driver_sql, c,
               "INSERT INTO rt_a1n (id, v) VALUES (1, 'b')")
      T.raises("DataError", c.exec_driver_sql, c,
               "INSERT INTO rt_a1n (id, v) VALUES (2, 'abcdefghijklm')")
      c:rollback()
    end
    c:exec_driver_sql("DROP TABLE rt_a1n")
    c:commit()
    c:close()
    e:dispose()
  end)
  T.test(n .. "unique(strategy) keys items by the function's answer",
         function()
    local e, c = setup(db)
    local q = text("SELECT 1 AS x, 2 AS y UNION ALL SELECT 3, 2 "
                   .. "UNION ALL SELECT 1, 5")
    local function ys(rows)
      local t = {}
      for i, r in ipairs(rows) do t[i] = tostring(r) end
      return t
    end
    -- SQLAlchemy calls it with the Row, for a MappingResult too
    local rows = c:execute(q):unique(function(r) return r.y end):all()
    T.eq(ys(rows), {"(1, 2)", "(1, 5)"})
    rows = c:execute(q):mappings():unique(function(r) return r.y end):all()
    T.eq(ys(rows), {"{'x': 1, 'y': 2}", "{'x': 1, 'y': 5}"})
    -- nil is a key like any other: one row
    T.eq(#c:execute(q):unique(function() return nil end):all(), 1)
    -- a ScalarResult's strategy sees the value
    T.eq(c:execute(q):scalars():unique(function(v) return v % 2 end):all(),
         {1})
    T.eq(c:execute(q):unique(function(r) return r.x end):fetchmany(5)[2].y, 2)
    T.raises("ArgumentError", function() return c:execute(q):unique(5) end)
    c:close()
    e:dispose()
  end)

  T.test(n .. "rowcount of a statement that is not DML", function()
    local e, c = setup(db)
    c:execute(text("DELETE FROM rt_a1"))
    -- sqlite3 and psycopg2 say -1, MySQLdb 0; never the last DML's count
    local r = c:exec_driver_sql("CREATE TABLE rt_a1d (x INTEGER)")
    T.eq(r.rowcount, db.name == "mysql" and 0 or -1)
    c:execute(text("INSERT INTO rt_a1 (x) VALUES (1)"))
    T.eq(c:execute(text("DROP TABLE rt_a1d")).rowcount,
         db.name == "mysql" and 0 or -1)
    T.eq(c:execute(text("UPDATE rt_a1 SET y = 'q'")).rowcount, 1)
    c:rollback()
    c:close()
    e:dispose()
  end)
  -- a disconnect error invalidates the connection, and the pool's others
  -- made before it retire, as SQLAlchemy's do
  if db.name ~= "sqlite" then
    T.test(n .. "a lost server invalidates the connection", function()
      local e = create_engine(db.url, {pool_size = 2})
      local ids = db.name == "postgresql" and "SELECT pg_backend_pid()"
                  or "SELECT CONNECTION_ID()"
      local ca, cb = e:connect(), e:connect()
      local pa = ca:exec_driver_sql(ids):scalar()
      local pb = cb:exec_driver_sql(ids):scalar()
      ca:close()
      cb:close()
      local k = create_engine(db.url):connect()
      for _, pid in ipairs{pa, pb} do
        k:exec_driver_sql(db.name == "postgresql"
                          and "SELECT pg_terminate_backend(" .. pid .. ")"
                          or "KILL " .. pid)
      end
      k:close()
      os.execute("sleep 0.3")
      local c = e:connect()
      local err = T.raises("OperationalError", c.exec_driver_sql, c,
                           "SELECT 1")
      T.ok(err:isa("DBAPIError"))
      T.eq(c.invalidated, true)
      T.eq(c:in_transaction(), true)
      T.eq(T.raises("PendingRollbackError", c.exec_driver_sql, c,
                    "SELECT 1").message,
           "Can't reconnect until invalid transaction is rolled back.")
      c:rollback()
      T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
      T.eq(c.invalidated, false)
      -- the other pooled connection was killed too: it reconnects
      local c2 = e:connect()
      T.eq(c2:exec_driver_sql("SELECT 2"):scalar(), 2)
      c:close()
      c2:close()
      e:dispose()
    end)
  end
  -- psycopg2's and MySQLdb's paramstyle, which SQLAlchemy passes through
  if db.name ~= "sqlite" then
    T.test(n .. "exec_driver_sql reads %s and %(name)s", function()
      local e = create_engine(db.url)
      local c = e:connect()
      c:exec_driver_sql("DROP TABLE IF EXISTS rt_a1p")
      c:exec_driver_sql("CREATE TABLE rt_a1p (x INTEGER, y VARCHAR(10))")
      local ins = "INSERT INTO rt_a1p (x, y) VALUES (%s, %s)"
      T.eq(c:exec_driver_sql(ins, {1, "a"}).rowcount, 1)
      T.eq(c:exec_driver_sql(ins, {{2, "b"}, {3, null}}).rowcount, 2)
      local named = "INSERT INTO rt_a1p (x, y) VALUES (%(x)s, %(y)s)"
      T.eq(c:exec_driver_sql(named, {x = 4, y = "d%"}).rowcount, 1)
      T.eq(c:exec_driver_sql(named, {{x = 5, y = "e"}, {x = 6, y = "f"}})
             .rowcount, 2)
      local rows = c:exec_driver_sql("SELECT x, y FROM rt_a1p WHERE x > %s "
                                     .. "AND x < %s ORDER BY x", {1, 4}):all()
      T.eq(tostring(rows[2]), "(3, None)")
      -- %% is a %, and a name may come twice
      T.eq(c:exec_driver_sql("SELECT x FROM rt_a1p WHERE y LIKE 'd%%' "
                             .. "AND x > %(a)s AND x < %(a)s + 5", {a = 0})
             :scalars():all(), {4})
      -- no parameters: the SQL as written
      T.eq(c:exec_driver_sql("SELECT x FROM rt_a1p WHERE y LIKE 'd%'")
             :scalar(), 4)
      T.raises("ArgumentError", c.exec_driver_sql, c, "SELECT %s, %s", {1})
      T.raises("ArgumentError", c.exec_driver_sql, c, "SELECT %(q)s", {a = 1})
      T.raises("ValueError", c.exec_driver_sql, c, "SELECT %d", {1})
      c:rollback()
      c:exec_driver_sql("DROP TABLE IF EXISTS rt_a1p")
      c:commit()
      c:close()
      e:dispose()
    end)
  end
  T.test(n .. "returned_defaults of an INSERT's implicit RETURNING",
         function()
    local e = create_engine(db.url)
    local c = e:connect()
    local md = MetaData()
    local t = Table("rt_a1r", md, Column("id", Integer, {primary_key = true}),
                    Column("v", String(5)))
    md:drop_all(c)
    md:create_all(c)
    local r = c:execute(insert(t):values{v = "x"})
    T.eq(tostring(r.inserted_primary_key), "(1,)")
    -- PostgreSQL returns the key by RETURNING: that row, else none
    if db.name == "postgresql" then
      T.eq(tostring(r.returned_defaults), "(1,)")
      T.eq(r.returned_defaults.id, 1)
      T.eq(#r.returned_defaults_rows, 1)
    else
      T.eq(r.returned_defaults, nil)
    end
    -- a key given: nothing returned
    T.eq(c:execute(insert(t):values{id = 7, v = "y"}).returned_defaults, nil)
    c:rollback()
    md:drop_all(c)
    c:commit()
    c:close()
    e:dispose()
  end)
end

T.done()
