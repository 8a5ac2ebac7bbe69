-- Engine-layer names beyond the basics (Result:columns/freeze/yield_per,
-- Connection transaction accessors, pool status, Inspector extras), each
-- checked against SQLAlchemy 1.4 and run on every database the environment
-- provides.
local T = require "testing"

local function setup(db)
  local e = create_engine(db.url)
  local c = e:connect()
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_more")
  c:exec_driver_sql("CREATE TABLE rt_more (x INTEGER, y VARCHAR(10), " ..
                    "z INTEGER)")
  c:exec_driver_sql("INSERT INTO rt_more (x, y, z) VALUES " ..
                    "(1, 'a', 10), (2, 'b', 20)")
  c:commit()
  return e, c
end

local SEL = "SELECT x, y, z FROM rt_more ORDER BY x"

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "Result:columns picks and reorders columns", function()
    local e, c <close> = setup(db)
    local r = c:execute(text(SEL)):columns("z", 1)
    T.eq(r:keys(), {"z", "x"})
    local rows = r:all()
    T.eq(tostring(rows[1]), "(10, 1)")
    T.eq(rows[2].x, 2)
    T.eq(c:execute(text(SEL)):columns("y"):scalars():all(), {"a", "b"})
    -- both read one cursor, as SQLAlchemy's share it
    local base = c:execute(text(SEL))
    local cols = base:columns("y", "x")
    T.eq(tostring(cols:fetchone()), "('a', 1)")
    T.eq(tostring(base:fetchone()), "(2, 'b', 20)")
    T.eq(cols:fetchone(), nil)
    T.raises("NoSuchColumnError", function()
      c:execute(text(SEL)):columns("nope")
    end)
    T.raises("ArgumentError", function() c:execute(text(SEL)):columns(4) end)
    e:dispose()
  end)

  T.test(n .. "one() of a statement executed again with a bound value",
         function()
    local e, c <close> = setup(db)
    local md = MetaData()
    local t = Table("rt_more", md, Column("x", Integer), Column("y", String(10)),
                    Column("z", Integer))
    local s = select(t):where(t.c.x:eq(bindparam("x")))
    T.eq(tostring(c:execute(s, {x = 2}):one()), "(2, 'b', 20)")
    -- a SELECT takes what it binds and ignores other keys
    T.eq(c:execute(s, {x = 1, y = "ignored"}):one().y, "a")
    T.eq(c:execute(s, {x = 9}):one_or_none(), nil)
    T.raises("NoResultFound", function() c:execute(s, {x = 9}):one() end)
    local r = c:execute(s, {x = 1})
    T.eq(r:one().z, 10)
    local err = T.raises("ResourceClosedError", function() r:fetchone() end)
    T.eq(err.message, "This result object is closed.")
    local s2 = select(t):where(t.c.x:gt(bindparam("x")))
    err = T.raises("MultipleResultsFound",
                   function() c:execute(s2, {x = 0}):one() end)
    T.eq(err.message, "Multiple rows were found when exactly one was required")
    err = T.raises("MultipleResultsFound",
                   function() c:execute(s2, {x = 0}):one_or_none() end)
    T.eq(err.message, "Multiple rows were found when one or none was required")
    T.eq(c:execute(s2, {x = 1}):one().x, 2)
    -- unique() filters before one() counts
    T.eq(tostring(c:execute(text("SELECT 'a' AS v UNION ALL SELECT 'a'"))
                    :unique():one()), "('a',)")
    -- the same statement on another database in turn: each runs its own SQL
    local e2 = create_engine("sqlite://")
    local c2 <close> = e2:connect()
    md:create_all(c2)
    c2:execute(insert(t), {{x = 1, y = "s1", z = 1}, {x = 2, y = "s2", z = 2}})
    for i = 1, 3 do
      T.eq(c:execute(s, {x = 2}):one().y, "b")
      T.eq(c2:execute(s, {x = 2}):one().y, "s2")
      T.eq(c:execute(s, {x = 1}):scalar_one_or_none(), 1)
      T.eq(c2:execute(s, {x = 3}):one_or_none(), nil)
    end
    local missing = T.raises("StatementError",
                             function() c2:execute(s, {}) end)
    T.ok(missing.sql:find("WHERE rt_more.x = ?", 1, true), missing.sql)
    e2:dispose()
    e:dispose()
  end)

  T.test(n .. "Result:freeze gives Results of the same rows", function()
    local e, c <close> = setup(db)
    local f = c:execute(text(SEL)):freeze()
    T.eq(#f.data, 2)
    T.eq(tostring(f.data[2]), "(2, 'b', 20)")
    T.eq(tostring(f():all()[1]), "(1, 'a', 10)")
    T.eq(f():keys(), {"x", "y", "z"})
    T.eq(f():scalars():all(), {1, 2})
    T.eq(f():first().y, "a")
    T.raises("MultipleResultsFound", function() f():one() end)
    local r = f()
    r:close()
    T.raises("ResourceClosedError", function() r:all() end)
    T.eq(#f():all(), 2)
    e:dispose()
  end)

  T.test(n .. "Result:tuples, .t and yield_per return the Result", function()
    local e, c <close> = setup(db)
    local r = c:execute(text(SEL))
    T.ok(rawequal(r:tuples(), r))
    T.ok(rawequal(r.t, r))
    T.ok(rawequal(r:yield_per(1), r))
    -- yield_per sets partitions()' default size
    local sizes = {}
    for p in r:partitions() do sizes[#sizes + 1] = #p end
    T.eq(sizes, {1, 1})
    T.raises("ArgumentError", function() c:execute(text(SEL)):yield_per(0) end)
    e:dispose()
  end)

  T.test(n .. "Connection transaction accessors", function()
    local e, c <close> = setup(db)
    T.eq(c:get_transaction(), nil)
    T.eq(c:in_nested_transaction(), false)
    T.eq(c:get_nested_transaction(), nil)
    c:execute(text(SEL)):all()
    local t = c:get_transaction()       -- the autobegun one
    T.ok(t ~= nil and t.is_active)
    T.ok(rawequal(c:get_transaction(), t))
    local sp = c:begin_nested()
    T.eq(c:in_nested_transaction(), true)
    T.ok(rawequal(c:get_nested_transaction(), sp))
    local sp2 = c:begin_nested()
    T.ok(rawequal(c:get_nested_transaction(), sp2))
    sp2:commit()
    T.ok(rawequal(c:get_nested_transaction(), sp))
    sp:rollback()
    T.eq(sp.is_active, false)
    T.eq(c:get_nested_transaction(), nil)
    T.eq(c:in_nested_transaction(), false)
    c:commit()
    T.eq(t.is_active, false)
    T.eq(c:get_transaction(), nil)
    local tx = c:begin()
    T.ok(rawequal(c:get_transaction(), tx))
    tx:rollback()
    T.eq(c:get_transaction(), nil)
    e:dispose()
  end)

  T.test(n .. "Connection.info and invalidate()", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c.info.note = "kept"
    T.eq(c.info.note, "kept")
    T.eq(c.invalidated, false)
    c:execute(text("SELECT 1")):all()
    c:invalidate()
    T.eq(c.invalidated, true)
    -- the transaction in progress is now invalid: roll it back first
    T.eq(c:in_transaction(), true)
    T.ok(c:get_transaction() ~= nil)
    local err = T.raises("PendingRollbackError", function()
      c:execute(text("SELECT 1"))
    end)
    T.ok(err:isa("InvalidRequestError"))
    T.match(err.message, "Can't reconnect until invalid transaction is " ..
                         "rolled back")
    T.raises("PendingRollbackError", function() c:commit() end)
    c:rollback()
    T.eq(c:in_transaction(), false)
    T.eq(c:execute(text("SELECT 2")):scalar(), 2) -- reconnected
    T.eq(c.invalidated, false)
    T.eq(c.info.note, nil)                         -- went with the old one
    c:close()
    T.raises("ResourceClosedError", function() c:invalidate() end)
    e:dispose()
  end)

  T.test(n .. "Inspector: has_index, sequences, views, default schema",
         function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP VIEW IF EXISTS rt_more_v")
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_more_t")
    c:exec_driver_sql("CREATE TABLE rt_more_t (x INTEGER, y INTEGER)")
    c:exec_driver_sql("CREATE INDEX ix_rt_more_t_x ON rt_more_t (x)")
    c:exec_driver_sql("CREATE VIEW rt_more_v AS SELECT x FROM rt_more_t")
    if db.name ~= "sqlite" then
      c:exec_driver_sql("DROP SEQUENCE IF EXISTS rt_more_seq")
      c:exec_driver_sql("CREATE SEQUENCE rt_more_seq")
    end
    c:commit()
    local i = sa.inspect(e)
    T.eq(i:has_index("rt_more_t", "ix_rt_more_t_x"), true)
    T.eq(i:has_index("rt_more_t", "ix_nope"), false)
    T.eq(i:has_index("rt_more_missing", "ix_rt_more_t_x"), false)
    local def = i:get_view_definition("rt_more_v")
    if db.name == "sqlite" then
      T.eq(i.default_schema_name, "main")
      T.eq(def, "CREATE VIEW rt_more_v AS SELECT x FROM rt_more_t")
      T.eq(i:get_view_definition("rt_more_nope"), nil)
      -- SQLite has no sequences: the dialect's NotImplementedError
      local err = T.raises("NotImplementedError", function()
        i:has_sequence("rt_more_seq")
      end)
      T.eq(err:isa("SQLAlchemyError"), false)
      T.raises("NotImplementedError", function() i:get_sequence_names() end)
    else
      if db.name == "postgresql" then
        T.eq(i.default_schema_name, "public")
        T.eq(def, " SELECT rt_more_t.x\n   FROM rt_more_t;")
        T.eq(i:get_view_definition("rt_more_nope"), nil)
      else
        T.eq(i.default_schema_name,
             c:exec_driver_sql("SELECT DATABASE()"):scalar())
        T.match(def, "^CREATE .*VIEW `rt_more_v` AS select `rt_more_t`.`x` " ..
                     "AS `x` from `rt_more_t`$")
        T.raises("NoSuchTableError", function()
          i:get_view_definition("rt_more_nope")
        end)
      end
      T.eq(i:has_sequence("rt_more_seq"), true)
      T.eq(i:has_sequence("rt_more_nope"), false)
      local found = false
      for _, name in ipairs(i:get_sequence_names()) do
        found = found or name == "rt_more_seq"
      end
      T.ok(found)
      c:exec_driver_sql("DROP SEQUENCE rt_more_seq")
    end
    -- through a Connection too
    T.eq(sa.inspect(c):has_index("rt_more_t", "ix_rt_more_t_x"), true)
    c:exec_driver_sql("DROP VIEW rt_more_v")
    c:exec_driver_sql("DROP TABLE rt_more_t")
    c:commit()
    e:dispose()
  end)

  T.test(n .. "engine:raw_connection(): a DBAPI-shaped connection",
         function()
    local e = create_engine(db.url)
    local ph = function(i) return T.ph(db.name, i) end
    local raw <close> = e:raw_connection()
    local cur = raw:cursor()
    T.eq(cur.rowcount, -1)
    T.eq(cur.description, nil)
    cur:execute("DROP TABLE IF EXISTS rt_raw")
    cur:execute("CREATE TABLE rt_raw (x INTEGER, y VARCHAR(5))")
    cur:executemany("INSERT INTO rt_raw (x) VALUES (" .. ph(1) .. ")",
                    {{1}, {2}, {3}})
    T.eq(cur.rowcount, 3)
    raw:commit()
    local rows = cur:execute("SELECT x, y FROM rt_raw WHERE x > " .. ph(1) ..
                             " ORDER BY x", {1}):fetchall()
    T.eq(#rows, 2)
    T.eq(rows[1][1], 2)
    cur:execute("SELECT x, y FROM rt_raw ORDER BY x")
    T.eq({cur.description[1][1], cur.description[2][1]}, {"x", "y"})
    T.eq(tostring(cur:fetchone()), "(1, None)")
    T.eq(#cur:fetchmany(1), 1)
    T.eq(#cur:fetchall(), 1)
    T.eq(cur:fetchone(), nil)
    -- an implicit transaction, as a DBAPI connection's
    cur:execute("DELETE FROM rt_raw")
    raw:rollback()
    T.eq(cur:execute("SELECT count(*) FROM rt_raw"):fetchone()[1], 3)
    cur:execute("DROP TABLE rt_raw")
    raw:commit()
    cur:close()
    raw:close()
    T.eq(raw.closed, true)
    T.raises("ResourceClosedError", function() cur:execute("SELECT 1") end)
    T.raises("ResourceClosedError", function() raw:cursor() end)
    e:dispose()
  end)

  if db.name ~= "sqlite" then
    -- (sqlite:// shares one connection among all; file databases and the
    -- servers use a QueuePool)
    T.test(n .. "engine.pool counts as QueuePool's", function()
      local e = create_engine(db.url, {pool_size = 2, max_overflow = 3})
      local p = e.pool
      T.ok(rawequal(e.pool, p))
      T.eq(p:status(), "Pool size: 2  Connections in pool: 0 Current " ..
           "Overflow: -2 Current Checked out connections: 0")
      T.eq({p:size(), p:checkedin(), p:checkedout(), p:overflow()},
           {2, 0, 0, -2})
      local cs = {e:connect(), e:connect(), e:connect()}
      T.eq({p:checkedin(), p:checkedout(), p:overflow()}, {0, 3, 1})
      cs[1]:close()
      T.eq(p:status(), "Pool size: 2  Connections in pool: 1 Current " ..
           "Overflow: 1 Current Checked out connections: 2")
      cs[2]:close()
      cs[3]:close()
      T.eq({p:checkedin(), p:checkedout(), p:overflow()}, {2, 0, 0})
      p:dispose()
      T.eq({p:checkedin(), p:checkedout(), p:overflow()}, {0, 0, -2})
      T.ok(rawequal(e:execution_options{}.pool, p))
      e:dispose()
    end)
  end
end

-- echo, line by line as SQLAlchemy 1.4 logs the same work (timings
-- aside): BEGIN (implicit) for every begin, explicit ones too, and the
-- ORM's flush statements labelled as its compiled cache would
T.test("echo: transaction lines and the ORM flush's labels", function()
  local bin = os.getenv("RETORT_BUILD_DIR")
  if not bin then return T.skip("echo", "RETORT_BUILD_DIR unset") end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
    local e = create_engine("sqlite://", {echo = true})
    local Base = orm.declarative_base()
    local U = Base:class "U" {
      __tablename__ = "t",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
    }
    local t = U.__table__
    local c = e:connect()
    c:execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
    c:execute(insert(t), {{name = "a"}, {name = "b"}})
    c:commit()
    c:exec_driver_sql("SELECT 1"):all()
    c:rollback()
    local tx = c:begin()
    c:execute(delete(t):where(t.c.id:eq(2)))
    tx:commit()
    c:close()
    local s = orm.Session(e)
    local q, r = U{name = "q"}, U{name = "r"} -- held, as the identity
    s:add(q)                                  -- map keeps them only weakly
    s:add(r)
    s:flush()
    s:get(U, 2).name = "w"
    s:commit()
    s:close()
  ]])
  f:close()
  local p = io.popen("'" .. bin .. "/retort' --norc " .. script .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(script)
  out = out:gsub("generated in %d%.%d%d%d%d%ds", "generated in X")
           :gsub("cached since [%d.e-]+s ago", "cached since X")
  local want = {
    "BEGIN (implicit)",
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))",
    "[generated in X] ()",
    "INSERT INTO t (name) VALUES (?)",
    "[generated in X] (('a',), ('b',))",
    "COMMIT",
    "BEGIN (implicit)",
    "SELECT 1",
    "[raw sql] ()",
    "ROLLBACK",
    "BEGIN (implicit)",
    "DELETE FROM t WHERE t.id = ?",
    "[generated in X] (2,)",
    "COMMIT",
    "BEGIN (implicit)",
    "INSERT INTO t (name) VALUES (?)",
    "[generated in X] ('q',)",
    "INSERT INTO t (name) VALUES (?)",
    "[cached since X] ('r',)",
    "UPDATE t SET name=? WHERE t.id = ?",
    "[generated in X] ('w', 2)",
    "COMMIT",
  }
  for i, line in ipairs(want) do
    want[i] = "INFO retort.engine.Engine " .. line
  end
  T.eq(out, table.concat(want, "\n") .. "\n")
end)

T.done()
