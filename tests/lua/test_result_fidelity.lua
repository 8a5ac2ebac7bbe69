-- Results as SQLAlchemy 1.4 (pysqlite, psycopg2, MySQLdb) gives them:
-- rows still readable after the connection closes, commits or rolls back;
-- first()/one()/scalar() on an exhausted result; what an INSERT, an
-- executemany and a SELECT report in returns_rows, lastrowid,
-- inserted_primary_key and rowcount.  Also Table/Column info assignment
-- and sa.table with a schema.  Expectations from running the oracle.
local T = require "testing"

-- rows as lists, for comparing
local function vals(rows)
  local out = {}
  for i, row in ipairs(rows) do out[i] = {table.unpack(row)} end
  return out
end

local ABC = {{1, "a"}, {2, "b"}, {3, "c"}}

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local function setup()
    local md = MetaData()
    local t = Table("rf_item", md,
      Column("id", Integer, {primary_key = true}),
      Column("x", String(20)))
    local e = create_engine(db.url)
    md:drop_all(e)
    md:create_all(e)
    e:begin(function(c)
      c:execute(insert(t), {{x = "a"}, {x = "b"}, {x = "c"}})
    end)
    return e, t, md, select(t):order_by(t.c.id)
  end

  T.test(n .. "a result keeps its unread rows when its connection closes",
         function()
    local e, _, md, sel = setup()
    local c <close> = e:connect()
    local r = c:execute(sel)
    T.eq({table.unpack(r:fetchone())}, {1, "a"})
    c:close()
    T.eq(r.closed, false)
    T.eq({table.unpack(r:fetchone())}, {2, "b"})
    T.eq(vals(r:all()), {{3, "c"}})
    T.eq(r:fetchone(), nil)
    -- not read at all: every way of reading still works
    for _, how in ipairs{"all", "iter", "scalar", "first", "fetchmany"} do
      local c <close> = e:connect()
      r = c:execute(sel)
      c:close()
      if how == "all" then
        T.eq(vals(r:all()), ABC)
      elseif how == "iter" then
        local got = {}
        for row in r do got[#got + 1] = row end
        T.eq(vals(got), ABC)
      elseif how == "scalar" then
        T.eq(r:scalar(), 1)
      elseif how == "first" then
        T.eq({table.unpack(r:first())}, {1, "a"})
      else
        T.eq(vals(r:fetchmany(2)), {{1, "a"}, {2, "b"}})
        T.eq(r:keys(), {"id", "x"})
      end
    end
    -- read to the end before the close: empty, not closed
    local c <close> = e:connect()
    r = c:execute(sel)
    T.eq(#r:all(), 3)
    c:close()
    T.eq(r:all(), {})
    T.eq(r:fetchone(), nil)
    md:drop_all(e)
    e:dispose()
  end)

  T.test(n .. "a result outlives commit and rollback", function()
    local e, _, md, sel = setup()
    local c <close> = e:connect()
    local r = c:execute(sel)
    c:rollback()
    T.eq(vals(r:all()), ABC)
    r = c:execute(sel)
    c:commit()
    T.eq(vals(r:all()), ABC)
    -- engine:begin's block returns a result read after its commit
    r = e:begin(function(conn) return conn:execute(sel) end)
    T.eq(vals(r:all()), ABC)
    c:close()
    md:drop_all(e)
    e:dispose()
  end)

  T.test(n .. "a closed result raises, but still has its keys", function()
    local e, _, md, sel = setup()
    local c <close> = e:connect()
    local r = c:execute(sel)
    r:close()
    for _, m in ipairs{"fetchone", "all", "scalar", "first", "one"} do
      local err = T.raises("ResourceClosedError", function() return r[m](r) end)
      T.eq(err.message, "This result object is closed.")
    end
    T.eq(r:keys(), {"id", "x"})
    c:close()
    md:drop_all(e)
    e:dispose()
  end)

  T.test(n .. "streamed rows after the connection closes", function()
    local e, _, md, sel = setup()
    local c <close> = e:connect():execution_options{stream_results = true}
    local r = c:execute(sel)
    T.eq({table.unpack(r:fetchone())}, {1, "a"})
    c:close()
    if db.name == "sqlite" then
      -- pysqlite has no server-side cursor: the rows are still there
      T.eq(vals(r:all()), {{2, "b"}, {3, "c"}})
    else
      -- psycopg2's named cursor is gone; MySQLdb's unbuffered one too
      T.raises("ResourceClosedError", function() return r:all() end)
    end
    md:drop_all(e)
    e:dispose()
  end)

  T.test(n .. "first/one/scalar on an exhausted result leave it open",
         function()
    local e, _, md, sel = setup()
    local c <close> = e:connect()
    for _, m in ipairs{"first", "scalar", "one_or_none",
                       "scalar_one_or_none"} do
      local r = c:execute(sel)
      r:all()
      T.eq(r[m](r), nil, m)
      T.eq(r.closed, false, m)
      T.eq(r:all(), {}, m)
    end
    local r = c:execute(sel)
    r:all()
    T.eq(T.raises("NoResultFound", function() return r:one() end).message,
         "No row was found when one was required")
    T.eq(r:all(), {})
    r = c:execute(sel)
    r:all()
    T.eq(r:scalars():first(), nil)
    T.eq(r:mappings():first(), nil)
    T.eq(r:all(), {})
    -- read one by one to the end: the same
    r = c:execute(sel)
    for _ = 1, 3 do r:fetchone() end
    T.eq(r:fetchone(), nil)
    T.eq(r:first(), nil)
    T.eq(r:all(), {})
    -- but first() on a live cursor closes it, rows or not
    r = c:execute(sel)
    T.eq({table.unpack(r:first())}, {1, "a"})
    T.raises("ResourceClosedError", function() return r:all() end)
    T.eq(r:keys(), {"id", "x"})
    r = c:execute(select(sa.table("rf_item", column("id"))):where(
      column("id"):eq(99)))
    T.eq(r:first(), nil)
    T.eq(r.closed, true)
    T.raises("ResourceClosedError", function() return r:all() end)
    c:close()
    md:drop_all(e)
    e:dispose()
  end)

  T.test(n .. "a single-row insert: returns_rows, keys, ids", function()
    local e, t, md = setup()
    local c <close> = e:connect()
    local r = c:execute(insert(t):values{x = "d"})
    T.eq(r.inserted_primary_key._t, {4})
    T.eq(r.rowcount, 1)
    T.eq(r.closed, false)
    if db.name == "postgresql" then
      -- psycopg2 takes the key by an implicit RETURNING: a result with
      -- rows, read to its end
      T.eq(r.returns_rows, true)
      T.eq(r:keys(), {"id"})
      T.eq(r:fetchall(), {})
      T.eq(r:all(), {})
      T.eq(r:first(), nil)
      T.eq(r:scalar(), nil)
      T.eq(r.closed, false)
      T.eq(r.lastrowid, 0)
    else
      T.eq(r.returns_rows, false)
      T.eq(r.lastrowid, 4)
      local err = T.raises("ResourceClosedError", function() return r:all() end)
      T.eq(err.message, "This result object does not return rows. It has " ..
           "been closed automatically.")
      T.raises("ResourceClosedError", function() return r:keys() end)
    end
    -- a key given: no RETURNING anywhere
    r = c:execute(insert(t):values{id = 50, x = "e"})
    T.eq(r.returns_rows, false)
    T.eq(r.inserted_primary_key._t, {50})
    T.eq(r.lastrowid, db.name == "postgresql" and 0 or 50)
    -- an explicit RETURNING is an ordinary result
    if db.name ~= "mysql" then
      r = c:execute(insert(t):values{x = "r"}:returning(t.c.x))
      T.eq(r.returns_rows, true)
      T.eq(vals(r:all()), {{"r"}})
    end
    -- text(): no inserted_primary_key
    r = c:execute(text("INSERT INTO rf_item (x) VALUES (:x)"), {x = "t"})
    T.eq(r.returns_rows, false)
    T.eq(r.rowcount, 1)
    T.eq(r.lastrowid, ({sqlite = 52, postgresql = 0, mysql = 51})[db.name])
    T.eq(T.raises("InvalidRequestError", function()
      return r.inserted_primary_key
    end).message, "Statement is not an insert() expression construct.")
    c:rollback()
    c:close()
    md:drop_all(e)
    e:dispose()
  end)

  T.test(n .. "executemany: rowcount, lastrowid, inserted_primary_key",
         function()
    local e, t, md = setup()
    local c <close> = e:connect()
    local r = c:execute(insert(t), {{x = "d"}, {x = "e"}})
    T.eq(r.returns_rows, false)
    T.eq(r.rowcount, 2)
    -- pysqlite: None; psycopg2: 0; MySQLdb: the first id of the batch
    local first = ({sqlite = nil, postgresql = 0, mysql = 4})[db.name]
    T.eq(r.lastrowid, first)
    T.eq(T.raises("InvalidRequestError", function()
      return r.inserted_primary_key
    end).message, "This statement was an executemany call; if primary " ..
       "key returning is supported, please use .inserted_primary_key_rows.")
    local rows = r.inserted_primary_key_rows
    T.eq({rows[1]._t, rows[2]._t}, {{}, {}})
    T.eq(#rows, 2)
    T.eq(#rows[1], 1)
    r = c:execute(insert(t), {{id = 70, x = "f"}, {id = 71, x = "g"}})
    rows = r.inserted_primary_key_rows
    T.eq({rows[1]._t, rows[2]._t}, {{70}, {71}})
    r = c:execute(text("INSERT INTO rf_item (x) VALUES (:x)"),
                  {{x = "h"}, {x = "i"}})
    T.eq(r.rowcount, 2)
    if db.name == "sqlite" then T.eq(r.lastrowid, nil) end
    if db.name == "postgresql" then T.eq(r.lastrowid, 0) end
    T.raises("InvalidRequestError", function() return r.inserted_primary_key end)
    -- an UPDATE executemany counts the rows it matched
    r = c:execute(update(t):where(t.c.id:eq(bindparam("i"))):values{x = "q"},
                  {{i = 1}, {i = 2}, {i = 999}})
    T.eq(r.rowcount, 2)
    T.eq(r.returns_rows, false)
    -- and a SELECT's rowcount: -1 on SQLite, the row count elsewhere
    r = c:execute(select(t):where(t.c.id:le(3)))
    T.eq(r.rowcount, db.name == "sqlite" and -1 or 3)
    r:close()
    c:rollback()
    c:close()
    md:drop_all(e)
    e:dispose()
  end)
  T.test(n .. "INSERT from a SELECT or of several VALUES rows", function()
    local e, t, md = setup()
    local c <close> = e:connect()
    local r = c:execute(insert(t):from_select({"x"}, select(t.c.x)))
    T.eq(tostring(r.inserted_primary_key), "(None,)")
    T.eq(r.inserted_primary_key._fields, {"id"})
    T.eq(r.rowcount, 3)
    T.eq(r.returns_rows, false)
    T.eq(r.lastrowid, ({sqlite = 6, postgresql = 0, mysql = 4})[db.name])
    r = c:execute(insert(t):values{{x = "p"}, {x = "q"}})
    T.eq(tostring(r.inserted_primary_key), "(None,)")
    T.eq(r.rowcount, 2)
    T.eq(r.lastrowid, ({sqlite = 8, postgresql = 0, mysql = 7})[db.name])
    -- one row whose value is a subquery: its key as usual
    r = c:execute(insert(t):values{x = select(func.max(t.c.x))
      :scalar_subquery()})
    T.eq(r.inserted_primary_key._t, {9})
    T.eq(r.returns_rows, db.name == "postgresql")
    c:close()
    md:drop_all(e)
    e:dispose()
  end)

  T.test(n .. "executemany numbers AUTO_INCREMENT keys without gaps",
         function()
    local e, t, md = setup()
    local c <close> = e:connect()
    -- the setup's three rows took 1..3; two more batches follow on
    local r = c:execute(insert(t), {{x = "d"}, {x = "e"}})
    if db.name == "mysql" then T.eq(r.lastrowid, 4) end
    r = c:execute(insert(t), {{x = "f"}, {x = "g"}, {x = "h"}})
    if db.name == "mysql" then T.eq(r.lastrowid, 6) end
    T.eq(c:execute(insert(t):values{x = "i"}).inserted_primary_key._t, {9})
    T.eq(c:execute(select(t.c.id):order_by(t.c.id)):scalars():all(),
         {1, 2, 3, 4, 5, 6, 7, 8, 9})
    -- more rows than one statement's parameters allow (65535)
    local many = {}
    for i = 1, 40000 do many[i] = {id = 100 + i, x = "v" .. i} end
    r = c:execute(insert(t), many)
    T.eq(r.rowcount, 40000)
    T.eq(c:execute(select(func.count(), func.min(t.c.id), func.max(t.c.id))
      :where(t.c.id:gt(100))):one()._t, {40000, 101, 40100})
    T.eq(c:execute(select(t.c.x):where(t.c.id:eq(40100))):scalar(), "v40000")
    -- a key taken: the whole statement fails, nothing half-written
    T.raises("IntegrityError", function()
      c:execute(insert(t), {{id = 50000, x = "new"}, {id = 5, x = "dup"}})
    end)
    c:rollback()
    T.eq(c:execute(select(func.count()):select_from(t)):scalar(), 3)
    c:close()
    md:drop_all(e)
    e:dispose()
  end)
end

T.test("Table.info and Column.info can be assigned", function()
  local md = MetaData()
  local t = Table("rf_info", md, Column("id", Integer, {primary_key = true}),
                  {info = {z = 1}})
  T.eq(t.info, {z = 1})
  t.info = {a = 1}
  T.eq(t.info, {a = 1})
  t.c.id.info = {b = 2}
  T.eq(t.c.id.info, {b = 2})
  T.eq(t.columns[1].info, {b = 2})
  local col = Column("q", Integer)
  col.info = {x = 3}
  T.eq(col.info, {x = 3})
  t:append_column(col)
  T.eq(t.c.q.info, {x = 3})
  collectgarbage()
  T.eq(md.tables.rf_info.info, {a = 1})
  T.eq(T.raises("ArgumentError", function() t.info = 5 end).message,
       "info must be a table, not number")
  T.raises("ArgumentError", function() t.name = "other" end)
  T.eq(t.name, "rf_info")
end)

T.test("sa.table with a schema renders it as SQLAlchemy does", function()
  local t = sa.table("users", column("id"), column("name"), {schema = "s"})
  T.eq(t.schema, "s")
  T.eq(t.fullname, "s.users")
  T.eq(t.name, "users")
  T.eq(sa.table("a", column("x")).schema, nil)
  local function flat(s) return (s:gsub("%s+", " ")) end
  T.eq(flat(tostring(select(t))), "SELECT s.users.id, s.users.name FROM s.users")
  T.eq(flat(tostring(select(t.c.id):where(t.c.name:eq("x")))),
       "SELECT s.users.id FROM s.users WHERE s.users.name = :name_1")
  T.eq(tostring(insert(t):values{id = 1}), "INSERT INTO s.users (id) VALUES (:id)")
  T.eq(tostring(update(t):values{name = "a"}:where(t.c.id:eq(1))),
       "UPDATE s.users SET name=:name WHERE s.users.id = :id_1")
  T.eq(tostring(delete(t):where(t.c.id:eq(2))),
       "DELETE FROM s.users WHERE s.users.id = :id_1")
  T.eq(flat(tostring(select(t:alias()))),
       "SELECT users_1.id, users_1.name FROM s.users AS users_1")
  T.eq(flat(select(t.c.id):where(t.c.name:eq("x")):compile("postgresql").sql),
       "SELECT s.users.id FROM s.users WHERE s.users.name = $1")
  local q = sa.table("user", column("id"), {schema = "order"})
  T.eq(flat(tostring(select(q))), 'SELECT "order"."user".id FROM "order"."user"')
  T.eq(flat(select(q):compile("sqlite").sql),
       'SELECT "order".user.id FROM "order".user')
  T.eq(flat(select(q):compile("postgresql").sql),
       'SELECT "order"."user".id FROM "order"."user"')
  T.eq(flat(select(q):compile("mysql").sql),
       "SELECT `order`.user.id FROM `order`.user")
  T.eq(flat(tostring(select(sa.table("Users", column("id"),
                                     {schema = "My Schema"})))),
       'SELECT "My Schema"."Users".id FROM "My Schema"."Users"')
  T.eq(T.raises("ArgumentError", function()
    return sa.table("x", column("a"), {schema = "s", other = 1})
  end).message, "Unsupported argument(s): ['other']")
end)

T.done()
