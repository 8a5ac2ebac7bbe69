-- Error objects: kinds, SQLAlchemy's hierarchy, context and messages.
local T = require "testing"

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local ph = function(i) return T.ph(db.name, i) end

  T.test(n .. "constraint violation is an IntegrityError with context",
         function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_uniq")
    c:exec_driver_sql("CREATE TABLE rt_uniq (x INTEGER UNIQUE)")
    c:commit()
    local sql = "INSERT INTO rt_uniq (x) VALUES (" .. ph(1) .. ")"
    c:exec_driver_sql(sql, {1})
    local err = T.raises("IntegrityError", function()
      c:exec_driver_sql(sql, {1})
    end)
    T.eq(err.kind, "IntegrityError")
    T.ok(err:isa("DatabaseError"))
    T.ok(err:isa("DBAPIError"))
    T.ok(err:isa("SQLAlchemyError"))
    T.ok(err:isa(exc.IntegrityError))
    T.ok(not err:isa("OperationalError"))
    T.eq(err.sql, sql)
    T.eq(err.params, {1})
    T.ok(err.code and #err.code > 0, "code is set")
    T.ok(err.orig and #err.orig > 0, "orig is set")
    T.match(tostring(err), "^%(IntegrityError%) ")
    T.match(tostring(err), "%[SQL: INSERT INTO rt_uniq")
    T.match(tostring(err), "%[parameters: %[1%]%]")
    -- the connection stays usable after a rollback
    c:rollback()
    T.eq(c:exec_driver_sql("SELECT count(*) FROM rt_uniq"):scalar(), 0)
    c:exec_driver_sql("DROP TABLE rt_uniq")
    c:commit()
    c:close()
    e:dispose()
  end)

  -- pysqlite reports every SQLITE_ERROR, syntax errors too, as an
  -- OperationalError; the servers' drivers call them ProgrammingError
  local syntax_kind = db.name == "sqlite" and "OperationalError" or
                      "ProgrammingError"
  T.test(n .. "syntax error is a " .. syntax_kind, function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    local err = T.raises(syntax_kind, function()
      c:exec_driver_sql("SELEC 1")
    end)
    T.eq(err.sql, "SELEC 1")
    T.match(err.message, "SELEC")
    e:dispose()
  end)
end

-- Each class of SQLite error as SQLAlchemy 1.4 with pysqlite raises it
-- (checked against it: Python's sqlite3 maps the result codes).
T.test("sqlite: error classes match pysqlite's", function()
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  c:exec_driver_sql("CREATE TABLE ek (id INTEGER PRIMARY KEY, " ..
                    "x INTEGER NOT NULL, u INTEGER UNIQUE, " ..
                    "ch INTEGER CHECK (ch > 0))")
  c:exec_driver_sql("CREATE TABLE ek_s (x TEXT) STRICT")
  c:exec_driver_sql("INSERT INTO ek (id, x, u) VALUES (1, 1, 1)")
  local cases = {
    {"SELEC 1", "OperationalError", "syntax error"},
    {"SELECT * FROM nope", "OperationalError", "no such table: nope"},
    {"SELECT nope FROM ek", "OperationalError", "no such column: nope"},
    {"CREATE TABLE ek (a)", "OperationalError", "already exists"},
    {"SELECT abs(-9223372036854775808)", "OperationalError",
     "integer overflow"},
    {"INSERT INTO ek (id) VALUES (2)", "IntegrityError",
     "NOT NULL constraint failed: ek.x"},
    {"INSERT INTO ek (id, x, u) VALUES (2, 1, 1)", "IntegrityError",
     "UNIQUE constraint failed: ek.u"},
    {"INSERT INTO ek (id, x) VALUES (1, 1)", "IntegrityError",
     "UNIQUE constraint failed: ek.id"},
    {"INSERT INTO ek (id, x, ch) VALUES (5, 1, -1)", "IntegrityError",
     "CHECK constraint failed"},
    {"INSERT INTO ek (id, x) VALUES ('abc', 1)", "IntegrityError",
     "datatype mismatch"},
    {"INSERT INTO ek_s VALUES (x'00')", "IntegrityError",
     "cannot store BLOB value"},
    {"SELECT zeroblob(2000000000)", "DataError", "too big"},
  }
  for _, case in ipairs(cases) do
    local err = T.raises(case[2], function() c:exec_driver_sql(case[1]) end)
    T.match(err.message, case[3], nil, true)
    T.eq(err.sql, case[1])
  end
  c:rollback()
  -- the same through the expression language
  local md = MetaData()
  local t = Table("ek_missing", md, Column("id", Integer, {primary_key = true}))
  T.raises("OperationalError", function() c:execute(select(t)) end)
end)

T.test("sqlite: readonly, busy and not-a-database errors", function()
  local dir = os.tmpname()
  os.remove(dir)
  local path = dir .. ".db"
  local e = create_engine("sqlite:///" .. path)
  local c = e:connect()
  c:exec_driver_sql("CREATE TABLE r (x INTEGER)")
  c:commit()
  c:close()
  -- a read-only open: SQLITE_READONLY is operational
  local ro = create_engine("sqlite:///file:" .. path .. "?mode=ro&uri=true")
  local rc <close> = ro:connect()
  T.raises("OperationalError", function()
    rc:exec_driver_sql("INSERT INTO r VALUES (1)")
  end)
  rc:close()
  ro:dispose()
  -- another connection holds the write lock: SQLITE_BUSY is operational
  local a <close> = e:connect()
  local b_engine = create_engine("sqlite:///" .. path,
                                 {connect_args = {timeout = 0.05}})
  local b <close> = b_engine:connect()
  a:exec_driver_sql("INSERT INTO r VALUES (1)")
  local err = T.raises("OperationalError", function()
    b:exec_driver_sql("INSERT INTO r VALUES (2)")
  end)
  T.match(err.message, "locked", nil, true)
  a:rollback()
  b:close()
  b_engine:dispose()
  a:close()
  e:dispose()
  os.remove(path)
  -- a file that is no database: SQLITE_NOTADB is a DatabaseError
  local f = assert(io.open(path, "w"))
  f:write(string.rep("this is not a database ", 100))
  f:close()
  local bad = create_engine("sqlite:///" .. path)
  err = T.raises("DatabaseError", function()
    local bc <close> = bad:connect()
    bc:exec_driver_sql("SELECT * FROM sqlite_master")
  end)
  T.eq(err.kind, "DatabaseError")
  bad:dispose()
  os.remove(path)
end)

T.test("executing a column, a table or an expression is "
       .. "ObjectNotExecutableError", function()
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  local t = Table("t_ne", MetaData(), Column("id", Integer,
                                             {primary_key = true}))
  for _, what in ipairs{t.c.id, t, t.c.id:eq(1), func.count(), 5,
                        "SELECT 1", select(t):subquery()} do
    local err = T.raises("ObjectNotExecutableError", function()
      c:execute(what)
    end)
    T.ok(err:isa("ArgumentError"), "ObjectNotExecutableError isa ArgumentError")
    T.match(err.message, "^Not an executable object: ")
  end
  T.match(T.raises("ObjectNotExecutableError", c.execute, c, t).message,
          "Table%('t_ne'%)")
end)

T.test("non-database errors read 'Kind: message'", function()
  local err = T.raises("ArgumentError", create_engine, "not a url")
  T.eq(tostring(err),
       "ArgumentError: Could not parse SQLAlchemy URL from string 'not a url'")
  T.eq(err.sql, nil)
end)

T.test("wrong parameter types name the position", function()
  local c <close> = create_engine("sqlite://"):connect()
  local err = T.raises("ArgumentError", function()
    c:exec_driver_sql("SELECT ?, ?", {1, {}})
  end)
  T.match(err.message, "parameter 2")
  T.raises("ArgumentError", function() c:exec_driver_sql(42) end)
  T.raises("ArgumentError", function() c:execute("SELECT 1") end)
end)

T.test("exc classes follow the hierarchy", function()
  T.eq(exc.IntegrityError.__name, "IntegrityError")
  T.eq(exc.IntegrityError.__base, "DatabaseError")
  T.eq(exc.NoResultFound.__base, "InvalidRequestError")
end)

T.done()
