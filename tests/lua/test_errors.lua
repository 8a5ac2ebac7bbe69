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

  T.test(n .. "syntax error is a ProgrammingError", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    local err = T.raises("ProgrammingError", function()
      c:exec_driver_sql("SELEC 1")
    end)
    T.eq(err.sql, "SELEC 1")
    T.match(err.message, "SELEC")
    e:dispose()
  end)
end

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
