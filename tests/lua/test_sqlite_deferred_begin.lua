-- SQLite transactions begin as pysqlite's do under SQLAlchemy: BEGIN goes
-- out only before the first INSERT, UPDATE, DELETE or REPLACE, so a
-- transaction that has only read holds no lock on the database file and
-- other connections can write.  Every expectation here was checked
-- against SQLAlchemy 1.4 with Python's sqlite3 module on a file database.
local T = require "testing"

local function fresh()
  local path = os.tmpname()
  os.remove(path)
  local e = create_engine("sqlite:///" .. path,
                          {connect_args = {timeout = 0.1}})
  e:begin(function(c)
    c:exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
    c:exec_driver_sql("INSERT INTO t (x) VALUES ('a')")
  end)
  return e, path
end

local function done(e, path)
  e:dispose()
  os.remove(path)
end

local function xs(c)
  local got = c:exec_driver_sql("SELECT x FROM t ORDER BY id"):scalars():all()
  c:rollback()
  return got
end

local function count(c)
  return c:exec_driver_sql("SELECT count(*) FROM t"):scalar()
end

T.test("a transaction that only read lets another connection write",
       function()
  local e, path = fresh()
  local c1 <close> = e:connect()
  local c2 <close> = e:connect()
  local tx = c1:begin()
  T.eq(count(c1), 1)
  c2:exec_driver_sql("INSERT INTO t (x) VALUES ('b')")
  c2:commit()
  -- no snapshot either: c1's next read sees c2's row
  T.eq(count(c1), 2)
  T.eq(tx.is_active, true)
  tx:commit()
  c1:close()
  c2:close()
  done(e, path)
end)

T.test("after a write the transaction holds the file", function()
  local e, path = fresh()
  local c1 <close> = e:connect()
  local c2 <close> = e:connect()
  c1:begin()
  T.eq(count(c1), 1)
  c1:exec_driver_sql("INSERT INTO t (x) VALUES ('c')")
  local err = T.raises("OperationalError", function()
    c2:exec_driver_sql("INSERT INTO t (x) VALUES ('d')")
  end)
  T.match(err.message, "database is locked")
  c2:rollback()
  -- reading is still allowed, and sees only what was committed
  T.eq(count(c2), 1)
  c2:rollback()
  c1:rollback()
  T.eq(xs(c2), {"a"})
  c1:close()
  c2:close()
  done(e, path)
end)

T.test("the session reads, another connection writes", function()
  local e, path = fresh()
  local s <close> = orm.Session(e)
  T.eq(s:execute(text("SELECT count(*) FROM t")):scalar(), 1)
  local c <close> = e:connect()
  c:exec_driver_sql("UPDATE t SET x = 'z' WHERE id = 1")
  c:commit()
  T.eq(s:execute(text("SELECT x FROM t")):scalar(), "z")
  s:close()
  c:close()
  done(e, path)
end)

T.test("the statement log is unchanged: BEGIN is not a cursor statement",
       function()
  local e, path = fresh()
  local log = {}
  orm.event.listen(e, "before_cursor_execute", function(_, _, sql)
    log[#log + 1] = sql
  end)
  local c <close> = e:connect()
  c:exec_driver_sql("SELECT 1"):all()
  c:exec_driver_sql("DELETE FROM t")
  c:rollback()
  T.eq(log, {"SELECT 1", "DELETE FROM t"})
  T.eq(xs(c), {"a"})
  c:close()
  done(e, path)
end)

T.test("a write after a comment still begins first", function()
  local e, path = fresh()
  local c <close> = e:connect()
  c:exec_driver_sql("/* note */ -- and a line\n  delete FROM t")
  c:rollback()
  T.eq(xs(c), {"a"})
  -- REPLACE is a write too, and executemany begins as execute does
  c:exec_driver_sql("REPLACE INTO t (id, x) VALUES (1, 'r')")
  c:execute(text("INSERT INTO t (x) VALUES (:x)"), {{x = "m"}, {x = "n"}})
  c:rollback()
  T.eq(xs(c), {"a"})
  c:close()
  done(e, path)
end)

T.test("DDL before any write runs on its own; after one, it is undone",
       function()
  local e, path = fresh()
  local c <close> = e:connect()
  local function tables()
    local got = c:exec_driver_sql(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      :scalars():all()
    c:rollback()
    return got
  end
  c:exec_driver_sql("CREATE TABLE u (id INTEGER)")
  c:rollback()
  T.eq(tables(), {"t", "u"})
  c:exec_driver_sql("INSERT INTO t (x) VALUES ('q')")
  c:exec_driver_sql("CREATE TABLE v (id INTEGER)")
  c:rollback()
  T.eq(tables(), {"t", "u"})
  T.eq(xs(c), {"a"})
  c:close()
  done(e, path)
end)

T.test("a savepoint with nothing written opens and ends the transaction",
       function()
  local e, path = fresh()
  local c1 <close> = e:connect()
  local c2 <close> = e:connect()
  -- SAVEPOINT outside a transaction starts one, RELEASE ends it: the row
  -- stays although the outer transaction rolls back
  local tx = c1:begin()
  local sp = c1:begin_nested()
  c1:exec_driver_sql("INSERT INTO t (x) VALUES ('sp')")
  sp:commit()
  c2:exec_driver_sql("INSERT INTO t (x) VALUES ('free')")
  c2:commit()
  tx:rollback()
  T.eq(xs(c2), {"a", "sp", "free"})
  -- while the savepoint is open the file is held
  tx = c1:begin()
  sp = c1:begin_nested()
  c1:exec_driver_sql("INSERT INTO t (x) VALUES ('sp3')")
  local err = T.raises("OperationalError", function()
    c2:exec_driver_sql("INSERT INTO t (x) VALUES ('z')")
  end)
  T.match(err.message, "database is locked")
  c2:rollback()
  sp:rollback()
  tx:rollback()
  T.eq(xs(c2), {"a", "sp", "free"})
  -- a savepoint after a write nests in the BEGIN's transaction
  tx = c1:begin()
  c1:exec_driver_sql("INSERT INTO t (x) VALUES ('w')")
  sp = c1:begin_nested()
  c1:exec_driver_sql("INSERT INTO t (x) VALUES ('sp2')")
  sp:rollback()
  tx:commit()
  T.eq(xs(c2), {"a", "sp", "free", "w"})
  c1:close()
  c2:close()
  done(e, path)
end)

T.test("AUTOCOMMIT still commits each statement", function()
  local e, path = fresh()
  local c1 <close> = e:connect()
  local c2 <close> = e:connect()
  c1:execution_options({isolation_level = "AUTOCOMMIT"})
  c1:exec_driver_sql("INSERT INTO t (x) VALUES ('ac')")
  c2:exec_driver_sql("INSERT INTO t (x) VALUES ('c2')")
  c2:commit()
  T.eq(xs(c2), {"a", "ac", "c2"})
  c1:close()
  c2:close()
  done(e, path)
end)

T.done()
