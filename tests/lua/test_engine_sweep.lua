-- Results of statements without rows, executemany results, transaction
-- and isolation level errors: the behaviour and messages of SQLAlchemy 1.4
-- (future=True) on the same calls.
local T = require "testing"

local NOROWS = "This result object does not return rows. It has been "
  .. "closed automatically."
local MANY_PK = "This statement was an executemany call; if primary key "
  .. "returning is supported, please use .inserted_primary_key_rows."
local MANY_DEFAULTS = "This statement was an executemany call; if return "
  .. "defaults is supported, please use .returned_defaults_rows."
-- what a connection in AUTOCOMMIT reports: the server's own level
local SERVER_LEVEL = {sqlite = "SERIALIZABLE", postgresql = "READ COMMITTED",
                      mysql = "REPEATABLE READ"}

local function setup(db)
  local e = create_engine(db.url)
  local c = e:connect()
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_esw")
  c:execute(text("CREATE TABLE rt_esw (x INTEGER, y VARCHAR(10))"))
  c:commit()
  return e, c
end

local function raises_msg(kind, msg, fn)
  local err = T.raises(kind, fn)
  T.eq(err.message, msg)
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "keys() of a statement without rows raises", function()
    local e, c = setup(db)
    local ins = text("INSERT INTO rt_esw (x, y) VALUES (:x, :y)")
    local r = c:execute(ins, {{x = 1, y = "a"}, {x = 2, y = "b"}})
    T.eq(r.returns_rows, false)
    T.eq(r.rowcount, 2)
    raises_msg("ResourceClosedError", NOROWS, function() return r:keys() end)
    local u = c:execute(text("UPDATE rt_esw SET y = 'z' WHERE x > 100"))
    T.eq(u.rowcount, 0)
    raises_msg("ResourceClosedError", NOROWS, function() return u:keys() end)
    raises_msg("ResourceClosedError", NOROWS, function() return u:first() end)
    -- a closed Result of rows still has its keys
    local s = c:execute(text("SELECT x, y FROM rt_esw ORDER BY x"))
    s:close()
    T.eq(s:keys(), {"x", "y"})
    T.eq(s.returns_rows, true)
    raises_msg("ResourceClosedError", "This result object is closed.",
               function() return s:fetchone() end)
    c:close()
    e:dispose()
  end)

  T.test(n .. "engine:begin() without a function, under <close>", function()
    local e, c0 = setup(db)
    c0:close()
    do
      local c <close> = e:begin()
      T.eq(c:in_transaction(), true)
      c:execute(text("INSERT INTO rt_esw (x) VALUES (1)"))
    end -- committed
    local ok, err = pcall(function()
      local c <close> = e:begin()
      c:execute(text("INSERT INTO rt_esw (x) VALUES (2)"))
      error("boom", 0)
    end)
    T.eq({ok, err}, {false, "boom"}) -- rolled back, the error kept
    -- its transaction is begun already, as SQLAlchemy's
    local berr = T.raises("InvalidRequestError", function()
      local c <close> = e:begin()
      c:begin()
    end)
    T.match(berr.message, "can't call begin%(%) here unless rollback%(%)")
    T.raises("ArgumentError", e.begin, e, 5)
    local c <close> = e:connect()
    T.eq(c:execute(text("SELECT x FROM rt_esw ORDER BY x")):scalars():all(),
         {1})
    c:close()
    e:dispose()
  end)

  T.test(n .. "row._mapping of a name no column has raises", function()
    local e, c = setup(db)
    c:execute(text("INSERT INTO rt_esw (x, y) VALUES (1, NULL)"))
    local row = c:execute(text("SELECT x, y FROM rt_esw")):one()
    local m = row._mapping
    T.eq(m.x, 1)
    T.eq(m["y"], nil) -- a NULL, not a missing column
    local err = T.raises("NoSuchColumnError", function() return m.nope end)
    T.eq(err.message, "Could not locate column in row for column 'nope'")
    T.raises("NoSuchColumnError", function() return row._mapping["a b"] end)
    c:rollback()
    c:close()
    e:dispose()
  end)

  T.test(n .. "inserted_primary_key of an executemany", function()
    local e, c = setup(db)
    local ins = text("INSERT INTO rt_esw (x, y) VALUES (:x, :y)")
    local many = c:execute(ins, {{x = 1, y = "a"}, {x = 2, y = "b"}})
    -- the executemany check comes before the statement's kind
    raises_msg("InvalidRequestError", MANY_PK,
               function() return many.inserted_primary_key end)
    raises_msg("InvalidRequestError", MANY_DEFAULTS,
               function() return many.returned_defaults end)
    local del = c:execute(text("DELETE FROM rt_esw WHERE x = :x"),
                          {{x = 1}, {x = 2}})
    T.eq(del.rowcount, 2)
    raises_msg("InvalidRequestError", MANY_PK,
               function() return del.inserted_primary_key end)
    -- one row of text() is not an insert() construct
    local one = c:execute(ins, {x = 3, y = "c"})
    raises_msg("InvalidRequestError",
               "Statement is not an insert() expression construct.",
               function() return one.inserted_primary_key end)
    T.eq(one.returned_defaults, nil)
    c:rollback()
    c:close()
    e:dispose()
  end)

  T.test(n .. "an ended savepoint is an inactive nested transaction",
         function()
    local e, c = setup(db)
    local sp = c:begin_nested()
    sp:commit()
    raises_msg("InvalidRequestError", "This nested transaction is inactive",
               function() sp:commit() end)
    local sp2 = c:begin_nested()
    sp2:rollback()
    raises_msg("InvalidRequestError", "This nested transaction is inactive",
               function() sp2:commit() end)
    sp2:rollback() -- rolling back an inactive one is allowed
    local t = c:begin_nested()
    T.eq(c:in_nested_transaction(), true)
    t:rollback()
    c:rollback()
    local root = c:begin()
    root:rollback()
    raises_msg("InvalidRequestError", "This transaction is inactive",
               function() root:commit() end)
    c:close()
    e:dispose()
  end)

  T.test(n .. "isolation level errors and AUTOCOMMIT's reported level",
         function()
    local e, c = setup(db)
    c:execute(text("SELECT 1"))
    raises_msg("InvalidRequestError",
               "This connection has already initialized a SQLAlchemy "
                 .. "Transaction() object via begin() or autobegin; "
                 .. "isolation_level may not be altered unless rollback() "
                 .. "or commit() is called first.",
               function()
                 c:execution_options{isolation_level = "SERIALIZABLE"}
               end)
    c:rollback()
    local err = T.raises("ArgumentError", function()
      c:execution_options{isolation_level = "FOO"}
    end)
    if db.name == "sqlite" then
      T.eq(err.message, "Invalid value 'FOO' for isolation_level. Valid "
        .. "isolation levels for sqlite are READ UNCOMMITTED, SERIALIZABLE, "
        .. "AUTOCOMMIT")
    elseif db.name == "postgresql" then
      T.eq(err.message, "Invalid value 'FOO' for isolation_level. Valid "
        .. "isolation levels for postgresql are AUTOCOMMIT, READ COMMITTED, "
        .. "READ UNCOMMITTED, REPEATABLE READ, SERIALIZABLE")
    else -- SQLAlchemy lists MySQL's from a set, in no fixed order
      T.match(err.message, "^Invalid value 'FOO' for isolation_level%. "
        .. "Valid isolation levels for mysql are ")
    end
    T.eq(c:execution_options{isolation_level = "AUTOCOMMIT"} == c, true)
    T.eq(c:get_isolation_level(), SERVER_LEVEL[db.name])
    c:execute(text("INSERT INTO rt_esw (x, y) VALUES (60, 'auto')"))
    c:rollback() -- committed already
    c:close()
    local c2 <close> = e:connect()
    T.eq(c2:execute(text("SELECT count(*) FROM rt_esw WHERE x = 60")):scalar(),
         1)
    T.eq(c2:get_isolation_level(), SERVER_LEVEL[db.name])
    c2:close()
    e:dispose()
  end)
end

T.done()
