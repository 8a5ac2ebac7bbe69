-- Engines, connections, transactions and results, run the same way on
-- every database the environment provides.
local T = require "testing"

local function setup(db)
  local e = create_engine(db.url)
  local c = e:connect()
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_things")
  c:exec_driver_sql("CREATE TABLE rt_things (id INTEGER PRIMARY KEY, " ..
                    "name VARCHAR(50), score FLOAT)")
  c:commit()
  return e, c
end

local function insert_sql(db)
  local p = function(i) return T.ph(db.name, i) end
  return "INSERT INTO rt_things (id, name, score) VALUES (" .. p(1) .. ", " ..
         p(2) .. ", " .. p(3) .. ")"
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local ph = function(i) return T.ph(db.name, i) end

  T.test(n .. "executemany, commit and read back", function()
    local e, c <close> = setup(db)
    -- PostgreSQL text can't hold NUL bytes; the others keep them
    local odd = db.name == "postgresql" and "ed 'quoted'" or "ed\0nul"
    local r = c:exec_driver_sql(insert_sql(db), {
      {1, "jack", 1.5}, {2, "wendy", sa.null}, {3, odd, 3.0}})
    T.eq(r.rowcount, 3)
    T.eq(r.returns_rows, false)
    c:commit()
    local rows = c:exec_driver_sql(
      "SELECT id, name, score FROM rt_things ORDER BY id"):all()
    T.eq(#rows, 3)
    T.eq(rows[1].name, "jack")
    T.eq(rows[1][1], 1)
    T.eq(rows[1].score, 1.5)
    T.eq(rows[2].score, nil)
    T.eq(rows[3].name, odd)
    T.eq(#rows[1], 3)
    T.eq(rows[1]._fields, {"id", "name", "score"})
    T.eq(rows[1]:_asdict(), {id = 1, name = "jack", score = 1.5})
    T.eq(tostring(rows[1]), "(1, 'jack', 1.5)")
    T.eq(tostring(rows[2]), "(2, 'wendy', None)")
    T.eq({table.unpack(rows[1])}, {1, "jack", 1.5})
    c:close()
    e:dispose()
  end)

  T.test(n .. "result methods", function()
    local e, c <close> = setup(db)
    c:exec_driver_sql(insert_sql(db), {{1, "a", 1.0}, {2, "b", 2.0},
                                       {3, "c", 3.0}})
    local q = "SELECT id, name FROM rt_things ORDER BY id"
    local seen = {}
    for row in c:exec_driver_sql(q) do seen[#seen + 1] = row.id end
    T.eq(seen, {1, 2, 3})
    T.eq(c:exec_driver_sql(q):first().name, "a")
    T.eq(c:exec_driver_sql(q):scalar(), 1)
    T.eq(c:exec_driver_sql(q):scalars():all(), {1, 2, 3})
    T.eq(c:exec_driver_sql(q):scalars(2):all(), {"a", "b", "c"})
    T.eq(c:exec_driver_sql(q):mappings():all()[2], {id = 2, name = "b"})
    T.eq(c:exec_driver_sql(q):keys(), {"id", "name"})
    local r = c:exec_driver_sql(q)
    T.eq(r:fetchone().id, 1)
    T.eq(#r:fetchmany(5), 2)
    T.eq(r:fetchone(), nil)
    local parts = {}
    for p in c:exec_driver_sql(q):partitions(2) do parts[#parts + 1] = #p end
    T.eq(parts, {2, 1})
    local one_q = "SELECT name FROM rt_things WHERE id = " .. ph(1)
    T.eq(c:exec_driver_sql(one_q, {2}):one().name, "b")
    T.eq(c:exec_driver_sql(one_q, {2}):scalar_one(), "b")
    T.eq(c:exec_driver_sql(one_q, {9}):one_or_none(), nil)
    T.eq(c:exec_driver_sql(one_q, {9}):scalar_one_or_none(), nil)
    T.raises("NoResultFound", function()
      c:exec_driver_sql(one_q, {9}):one()
    end)
    local err = T.raises("MultipleResultsFound", function()
      c:exec_driver_sql(q):one()
    end)
    T.eq(err.message, "Multiple rows were found when exactly one was required")
    T.raises("MultipleResultsFound", function()
      c:exec_driver_sql(q):scalars():one_or_none()
    end)
    T.raises("NoSuchColumnError", function()
      return c:exec_driver_sql(q):first().nope
    end)
    -- unique() drops rows (or scalars) already returned
    local dup = "SELECT name FROM rt_things UNION ALL SELECT name FROM rt_things"
    local u = c:exec_driver_sql(dup)
    T.ok(u:unique() == u, "unique returns the result")
    T.eq(#u:all(), 3)
    local names = c:exec_driver_sql(dup):scalars():unique():all()
    table.sort(names)
    T.eq(names, {"a", "b", "c"})
    T.eq(#c:exec_driver_sql(dup):all(), 6)
    local closed = c:exec_driver_sql(q)
    closed:close()
    T.raises("ResourceClosedError", function() closed:fetchone() end)
    c:close()
    e:dispose()
  end)

  T.test(n .. "scalars: a NULL is sa.null in loops and lists, nil alone",
         function()
    local e, c <close> = setup(db)
    c:exec_driver_sql(insert_sql(db), {{1, "a", 1.0}, {2, sa.null, 2.0},
                                       {3, "c", sa.null}, {4, sa.null, 4.0}})
    local q = "SELECT name FROM rt_things ORDER BY id"
    -- SQLAlchemy: ['a', None, 'c', None]; the loop must not end at a NULL
    local seen = {}
    for v in c:exec_driver_sql(q):scalars() do seen[#seen + 1] = v end
    T.eq(#seen, 4)
    T.ok(seen[2] == sa.null and seen[4] == sa.null, "NULLs as sa.null")
    T.eq(seen[3], "c")
    local all = c:exec_driver_sql(q):scalars():all()
    T.eq(#all, 4)
    T.ok(all[1] == "a" and all[2] == sa.null and all[3] == "c" and
         all[4] == sa.null, "positions kept")
    local some = c:exec_driver_sql(q):scalars():fetchmany(2)
    T.eq(#some, 2)
    T.ok(some[2] == sa.null, "fetchmany keeps the NULL")
    local parts = {}
    for p in c:exec_driver_sql(q):scalars():partitions(3) do
      parts[#parts + 1] = #p
    end
    T.eq(parts, {3, 1})
    local u = c:exec_driver_sql(q):scalars():unique():all()
    T.eq(#u, 3)
    T.ok(u[1] == "a" and u[2] == sa.null and u[3] == "c", "unique NULL once")
    -- one value alone is nil, as SQLAlchemy's None
    local one_q = "SELECT name FROM rt_things WHERE id = " .. ph(1)
    T.eq(c:exec_driver_sql(one_q, {2}):scalars():first(), nil)
    T.eq(c:exec_driver_sql(one_q, {2}):scalar_one(), nil)
    T.eq(c:exec_driver_sql(one_q, {2}):scalar_one_or_none(), nil)
    T.eq(c:exec_driver_sql(one_q, {2}):scalars():one(), nil)
    T.eq(c:exec_driver_sql(one_q, {2}):scalar(), nil)
    -- rows themselves keep nil for NULL
    T.eq(c:exec_driver_sql(q):all()[2].name, nil)
    local scores = c:exec_driver_sql("SELECT score FROM rt_things ORDER BY id")
                    :scalars():all()
    T.ok(scores[1] == 1.0 and scores[3] == sa.null and scores[4] == 4.0,
         "float column")
    c:close()
    e:dispose()
  end)

  T.test(n .. "rows compare by value", function()
    local e, c <close> = setup(db)
    local a = c:exec_driver_sql("SELECT 1 AS x, 'q' AS y"):one()
    local b = c:exec_driver_sql("SELECT 1 AS x, 'q' AS y"):one()
    local d = c:exec_driver_sql("SELECT 2 AS x, 'q' AS y"):one()
    T.eq(a.x, 1)
    T.ok(a == b, "equal rows")
    T.ok(a ~= d, "different rows")
    c:close()
    e:dispose()
  end)

  T.test(n .. "rollback, close without commit, autobegin", function()
    local e, c <close> = setup(db)
    T.eq(c:in_transaction(), false)
    c:exec_driver_sql(insert_sql(db), {1, "x", 0.5})
    T.eq(c:in_transaction(), true)
    c:rollback()
    T.eq(c:in_transaction(), false)
    T.eq(c:exec_driver_sql("SELECT count(*) FROM rt_things"):scalar(), 0)
    c:exec_driver_sql(insert_sql(db), {1, "x", 0.5})
    c:close() -- never commits
    T.eq(c.closed, true)
    T.raises("ResourceClosedError", function() c:exec_driver_sql("SELECT 1") end)
    local c2 <close> = e:connect()
    T.eq(c2:exec_driver_sql("SELECT count(*) FROM rt_things"):scalar(), 0)
    e:dispose()
  end)

  T.test(n .. "begin(), begin_nested() and engine:begin(fn)", function()
    local e, c <close> = setup(db)
    local tx = c:begin()
    T.eq(tx.is_active, true)
    T.raises("InvalidRequestError", function() c:begin() end)
    c:exec_driver_sql(insert_sql(db), {1, "kept", 1.0})
    local sp = c:begin_nested()
    c:exec_driver_sql(insert_sql(db), {2, "undone", 2.0})
    sp:rollback()
    local sp2 = c:begin_nested()
    c:exec_driver_sql(insert_sql(db), {3, "released", 3.0})
    sp2:commit()
    tx:commit()
    T.eq(tx.is_active, false)
    T.eq(c:exec_driver_sql("SELECT id FROM rt_things ORDER BY id")
           :scalars():all(), {1, 3})
    c:commit()
    local got = e:begin(function(conn)
      conn:exec_driver_sql(insert_sql(db), {4, "in begin", 4.0})
      return "done"
    end)
    T.eq(got, "done")
    local ok, err = pcall(e.begin, e, function(conn)
      conn:exec_driver_sql(insert_sql(db), {5, "rolled back", 5.0})
      error("boom")
    end)
    T.eq(ok, false)
    T.match(tostring(err), "boom")
    T.eq(c:exec_driver_sql("SELECT id FROM rt_things ORDER BY id")
           :scalars():all(), {1, 3, 4})
    c:close()
    e:dispose()
  end)

  -- as SQLAlchemy's `with conn.begin():`, a block left normally commits
  -- and one left by an error rolls back (savepoints: release / roll back)
  T.test(n .. "a <close> transaction commits on normal exit, rolls back on error", function()
    local e, c <close> = setup(db)
    do
      local tx <close> = c:begin()
      c:exec_driver_sql(insert_sql(db), {1, "x", 1.0})
    end
    T.eq(c:in_transaction(), false)
    local ok, err = pcall(function()
      local tx <close> = c:begin()
      c:exec_driver_sql(insert_sql(db), {2, "y", 2.0})
      error("boom")
    end)
    T.eq(ok, false)
    T.match(tostring(err), "boom")
    T.eq(c:in_transaction(), false)
    do
      local tx <close> = c:begin()
      do
        local sp <close> = c:begin_nested()
        c:exec_driver_sql(insert_sql(db), {3, "z", 3.0})
      end
      T.eq(c:in_transaction(), true)
      pcall(function()
        local sp <close> = c:begin_nested()
        c:exec_driver_sql(insert_sql(db), {4, "w", 4.0})
        error("inner")
      end)
      T.eq(c:in_transaction(), true)
    end
    T.eq(c:in_transaction(), false)
    T.eq(c:exec_driver_sql("SELECT id FROM rt_things ORDER BY id")
           :scalars():all(), {1, 3})
    c:rollback() -- the SELECT autobegan one
    -- a transaction already ended inside the block is left alone
    do
      local tx <close> = c:begin()
      c:exec_driver_sql(insert_sql(db), {5, "v", 5.0})
      tx:rollback()
    end
    T.eq(c:exec_driver_sql("SELECT count(*) FROM rt_things"):scalar(), 2)
    c:close()
    e:dispose()
  end)

  T.test(n .. "values round-trip through parameters", function()
    local eng = create_engine(db.url)
    local c <close> = eng:connect()
    -- PostgreSQL infers no type for a bare parameter: say which
    local int = db.name == "postgresql" and "CAST($1 AS BIGINT)" or ph(1)
    local txt = db.name == "postgresql" and "CAST($1 AS TEXT)" or ph(1)
    local big = math.maxinteger
    local row = c:exec_driver_sql("SELECT " .. int .. " AS a", {big}):one()
    T.eq(row.a, big)
    T.eq(c:exec_driver_sql("SELECT " .. int .. " AS a", {math.mininteger})
           :scalar(), math.mininteger)
    local s = "h\u{e9}llo \u{1F600} '; DROP TABLE x; --"
    T.eq(c:exec_driver_sql("SELECT " .. txt .. " AS a", {s}):scalar(), s)
  end)
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "isolation levels per engine and per connection", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    local default = c:get_isolation_level()
    T.ok(default == "SERIALIZABLE" or default == "READ COMMITTED" or
         default == "REPEATABLE READ", "a default level: " .. default)
    local level = db.name == "sqlite" and "READ UNCOMMITTED" or "SERIALIZABLE"
    T.ok(c:execution_options{isolation_level = level} == c, "returns self")
    T.eq(c:get_isolation_level(), level)
    c:close()
    -- the pool resets it for the next user
    local c2 = e:connect()
    T.eq(c2:get_isolation_level(), default)
    c2:close()
    e:dispose()
    local e2 = create_engine(db.url, {isolation_level = level})
    local c3 <close> = e2:connect()
    T.eq(c3:get_isolation_level(), level)
    local err = T.raises("ArgumentError", create_engine, db.url,
                         {isolation_level = "SOMETIMES"})
    T.match(err.message, "Invalid value 'SOMETIMES' for isolation_level")
    c3:exec_driver_sql("SELECT 1")
    T.raises("InvalidRequestError", function()
      c3:execution_options{isolation_level = "AUTOCOMMIT"}
    end)
  end)

  T.test(n .. "AUTOCOMMIT commits each statement", function()
    local e = create_engine(db.url)
    local setup_c = e:connect()
    setup_c:exec_driver_sql("DROP TABLE IF EXISTS rt_auto")
    setup_c:exec_driver_sql("CREATE TABLE rt_auto (x INTEGER)")
    setup_c:commit()
    setup_c:close()
    local c <close> = e:connect()
    c:execution_options{isolation_level = "AUTOCOMMIT"}
    -- SQLAlchemy 1.4 reports the level the server runs at
    T.eq(c:get_isolation_level(), ({sqlite = "SERIALIZABLE",
      postgresql = "READ COMMITTED", mysql = "REPEATABLE READ"})[db.name])
    c:exec_driver_sql("INSERT INTO rt_auto VALUES (1)")
    c:rollback() -- nothing to roll back: it is committed already
    c:close()
    local c2 <close> = e:connect()
    T.eq(c2:exec_driver_sql("SELECT count(*) FROM rt_auto"):scalar(), 1)
    c2:exec_driver_sql("DROP TABLE rt_auto")
    c2:commit()
  end)

  T.test(n .. "stream_results and yield_per", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_stream")
    c:exec_driver_sql("CREATE TABLE rt_stream (x INTEGER)")
    local rows = {}
    for i = 1, 250 do rows[i] = {i} end
    c:exec_driver_sql("INSERT INTO rt_stream VALUES (" .. T.ph(db.name, 1) ..
                      ")", rows)
    c:commit()
    c:execution_options{yield_per = 100}
    local sizes, total = {}, 0
    for part in c:exec_driver_sql("SELECT x FROM rt_stream ORDER BY x")
                 :partitions() do
      sizes[#sizes + 1] = #part
      for _, r in ipairs(part) do total = total + r.x end
    end
    T.eq(sizes, {100, 100, 50})
    T.eq(total, 250 * 251 // 2)
    -- a stream closed half way leaves the connection usable
    local r = c:exec_driver_sql("SELECT x FROM rt_stream ORDER BY x")
    T.eq(r:fetchone().x, 1)
    r:close()
    T.eq(c:exec_driver_sql("SELECT count(*) FROM rt_stream"):scalar(), 250)
    T.raises("ArgumentError", function()
      c:execution_options{yield_per = 0}
    end)
    c:exec_driver_sql("DROP TABLE rt_stream")
    c:commit()
  end)
end

T.test("pool: size, overflow, timeout, recycle, pre_ping", function()
  local path = os.tmpname()
  -- a file takes NullPool unless told (SQLAlchemy 1.4's pysqlite)
  local e = create_engine("sqlite:///" .. path,
                          {poolclass = sa.pool.QueuePool, pool_size = 1,
                           max_overflow = 1, pool_timeout = 0})
  local a, b = e:connect(), e:connect()
  local err = T.raises("TimeoutError", function() e:connect() end)
  T.match(err.message, "QueuePool limit of size 1 overflow 1 reached")
  a:close()
  b:close()
  local c <close> = e:connect()
  T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
  e:dispose()
  local e2 = create_engine("sqlite:///" .. path, {pool_recycle = 1,
                                                   pool_pre_ping = true})
  local c2 = e2:connect()
  c2:exec_driver_sql("SELECT 1")
  c2:close()
  local c3 <close> = e2:connect()
  T.eq(c3:exec_driver_sql("SELECT 2"):scalar(), 2)
  e2:dispose()
  os.remove(path)
end)

T.test("sqlite://: a second connection joins the open transaction", function()
  local e = create_engine("sqlite://")
  local c1 <close> = e:connect()
  c1:exec_driver_sql("CREATE TABLE j (x INTEGER)")
  local c2 <close> = e:connect()
  c2:exec_driver_sql("INSERT INTO j VALUES (1)") -- no "transaction within"
  c2:commit()
  T.eq(c1:exec_driver_sql("SELECT count(*) FROM j"):scalar(), 1)
end)

T.test("create_engine rejects bad arguments", function()
  T.raises("ArgumentError", create_engine, 42)
  T.raises("ArgumentError", create_engine, "nonsense")
  local err = T.raises("ArgumentError", create_engine, "sqlite://",
                       {pool_sise = 5})
  T.match(err.message, "pool_sise")
  T.raises("ArgumentError", create_engine, "nosuchdb://x")
end)

T.test("URLs: parts and masked password", function()
  local u = make_url("postgresql://scott:tiger@localhost:5432/test")
  T.eq(u.username, "scott")
  T.eq(u.password, "tiger")
  T.eq(u.port, 5432)
  T.eq(tostring(u), "postgresql://scott:***@localhost:5432/test")
end)

T.test("sqlite file databases are shared by their connections", function()
  local path = os.tmpname()
  local e = create_engine("sqlite:///" .. path)
  local c1 = e:connect()
  c1:exec_driver_sql("CREATE TABLE t (x INTEGER)")
  c1:exec_driver_sql("INSERT INTO t VALUES (7)")
  c1:commit()
  local c2 <close> = e:connect()
  T.eq(c2:exec_driver_sql("SELECT x FROM t"):scalar(), 7)
  c1:close()
  e:dispose()
  os.remove(path)
end)

T.test("a statement run again sees columns the schema changed", function()
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  c:exec_driver_sql("CREATE TABLE t (x INTEGER, y TEXT)")
  c:exec_driver_sql("INSERT INTO t VALUES (1, 'a')")
  local q = "SELECT * FROM t"
  for _ = 1, 3 do T.eq(c:exec_driver_sql(q):keys(), {"x", "y"}) end
  c:exec_driver_sql("ALTER TABLE t ADD COLUMN z BOOLEAN")
  c:exec_driver_sql("UPDATE t SET z = 1")
  local r = c:exec_driver_sql(q):one()
  T.eq(r._fields, {"x", "y", "z"})
  T.eq(r.z, true)
  T.eq(tostring(r), "(1, 'a', True)")
  c:exec_driver_sql("ALTER TABLE t RENAME COLUMN y TO w")
  r = c:exec_driver_sql(q):one()
  T.eq(r._fields, {"x", "w", "z"})
  T.eq(r.w, "a")
  -- the same text under other result types converts by those
  local t = sa.text(q):columns(sa.column("x", sa.Boolean))
  T.eq(c:execute(t):one().x, true)
  T.eq(c:exec_driver_sql(q):one().x, 1)
  e:dispose()
end)

T.test("results with the same columns share a row metatable, not conversions", function()
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  c:exec_driver_sql("CREATE TABLE b (flag BOOLEAN, a_rather_long_column_name_to_make_keys_long INTEGER)")
  c:exec_driver_sql("CREATE TABLE i (flag INTEGER, a_rather_long_column_name_to_make_keys_long INTEGER)")
  c:exec_driver_sql("INSERT INTO b VALUES (1, 2)")
  c:exec_driver_sql("INSERT INTO i VALUES (1, 2)")
  local q = "SELECT flag, a_rather_long_column_name_to_make_keys_long FROM "
  local r1 = c:exec_driver_sql(q .. "b"):one()
  collectgarbage()
  local r2 = c:exec_driver_sql(q .. "b"):one()
  T.eq(getmetatable(r1) == getmetatable(r2), true)
  T.eq(r2.flag, true)
  T.eq(r2.a_rather_long_column_name_to_make_keys_long, 2)
  local r3 = c:exec_driver_sql(q .. "i"):one()
  T.eq(r3.flag, 1)
  T.eq(r3._fields[2], "a_rather_long_column_name_to_make_keys_long")
  T.eq(tostring(r1), "(True, 2)")
  T.eq(tostring(r3), "(1, 2)")
end)

-- Row's tuple methods, as SQLAlchemy 1.4's Row (a position is 1-based,
-- as every list here)
T.test("Row count and index", function()
  local c = sa.create_engine("sqlite://"):connect()
  local r = c:execute(sa.text("SELECT 1 AS a, 2 AS b, 1 AS c, NULL AS d"))
             :one()
  T.eq({r:count(1), r:count(2), r:count(5), r:count(nil)}, {2, 1, 0, 1})
  T.eq({r:index(2), r:index(1)}, {2, 1})
  local err = T.raises("ValueError", r.index, r, 9)
  T.eq(err.message, "tuple.index(x): x not in tuple")
  -- a column of that name comes first, as row.name always does
  local r2 = c:execute(sa.text("SELECT 7 AS count")):one()
  T.eq(r2.count, 7)
  c:close()
end)

-- A text() statement run without one of its parameters: SQLAlchemy's
-- StatementError wrapping an InvalidRequestError, with the statement
T.test("missing bind parameter is a StatementError", function()
  local c = sa.create_engine("sqlite://"):connect()
  local err = T.raises("StatementError", c.execute, c,
                       sa.text("SELECT :a, :b"), {a = 1})
  T.eq(err.message, "A value is required for bind parameter 'b'")
  T.eq(err.sql, "SELECT ?, ?")
  T.eq(err.orig_kind, "InvalidRequestError")
  T.eq(tostring(err), "StatementError: (InvalidRequestError) A value is " ..
       "required for bind parameter 'b'\n[SQL: SELECT ?, ?]\n" ..
       "[parameters: {'a': 1}]")
  T.ok(err:isa("SQLAlchemyError"), "a SQLAlchemyError")
  T.ok(not err:isa("InvalidRequestError"), "not an InvalidRequestError")
  err = T.raises("StatementError", c.execute, c,
                 sa.select(sa.bindparam("x")))
  T.eq(err.message, "A value is required for bind parameter 'x'")
  T.eq(err.sql, "SELECT ? AS anon_1")
  -- in an executemany, the set that lacks it
  err = T.raises("StatementError", c.execute, c, sa.text("SELECT :a"),
                 {{a = 1}, {b = 2}})
  T.eq(err.message, "A value is required for bind parameter 'a', " ..
       "in parameter group 1")
  T.eq(err.params, {{a = 1}, {b = 2}})
  -- DBAPIError is a StatementError, as in SQLAlchemy
  err = T.raises("OperationalError", c.exec_driver_sql, c, "SELECT * FROM nope")
  T.ok(err:isa("StatementError"), "DBAPIError isa StatementError")
  c:close()
end)

-- in-memory SQLite: every Connection shares one database connection; one
-- left to the collector inside its own transaction must not roll back
-- another's (SQLAlchemy resets the shared connection only when its last
-- user gives it back)
T.test("a collected Connection leaves the shared connection's transaction alone", function()
  local e = create_engine("sqlite://")
  local c1 = e:connect()
  c1:exec_driver_sql("CREATE TABLE t (x INTEGER)")
  c1:commit()
  local c2 <close> = e:connect()
  c2:exec_driver_sql("INSERT INTO t VALUES (1)")
  c1:exec_driver_sql("SELECT 1")
  T.eq(c1:in_transaction(), true)
  c1 = nil
  collectgarbage()
  collectgarbage()
  T.eq(c2:in_transaction(), true)
  c2:commit()
  T.eq(c2:exec_driver_sql("SELECT count(*) FROM t"):scalar(), 1)
  -- an explicit close still rolls back, as SQLAlchemy's does
  local c3 = e:connect()
  c3:exec_driver_sql("INSERT INTO t VALUES (2)")
  local c4 = e:connect()
  c4:exec_driver_sql("SELECT 1")
  c4:close()
  T.eq(c3:exec_driver_sql("SELECT count(*) FROM t"):scalar(), 1)
  c3:close()
  e:dispose()
end)

T.done()
