-- The Session on every test database: object states after each operation,
-- the SQL a flush emits (captured with the before_cursor_execute event),
-- expiry and reload, rollback semantics, failed flushes, the identity map.
-- The expected statements and states were checked against SQLAlchemy 1.4.
local T = require "testing"

local function schema()
  local Base = orm.declarative_base()
  local User = Base:class "User" {
    __tablename__ = "orm_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30), {nullable = false}),
    fullname = Column(String(50)),
    greet = function(self) return "hi " .. self.name end,
  }
  return Base, User
end

-- state name of an object, from inspect()
local function state(obj)
  local st = orm.inspect(obj)
  for _, k in ipairs({"transient", "pending", "persistent", "deleted",
                      "detached"}) do
    if st[k] then return k end
  end
end

-- statements sessions on `engine` execute: {sql, params, many}
local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = {sql = sql, params = params, many = many}
    end)
  return log
end

local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

-- the first word(s) of each statement
local function verbs(log)
  local out = {}
  for i, l in ipairs(log) do out[i] = l.sql:match("^(%u+)") end
  return out
end

-- SQLite renders `?`; PostgreSQL `$n`; MariaDB `?`: compare without them
local function norm(sql) return (sql:gsub("%$%d+", "?")) end

-- SQLite in a file: some tests change rows through a second connection
local sqlite_file = os.tmpname()

for _, db in ipairs(T.databases()) do
  local Base, User = schema()
  local url = db.name == "sqlite" and "sqlite:///" .. sqlite_file or db.url
  local engine = create_engine(url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  T.test(pfx .. "states through add, flush, commit, delete", function()
    local session <close> = orm.Session(engine)
    local u = User{name = "sandy", fullname = "Sandy Cheeks"}
    T.eq(state(u), "transient")
    T.eq(tostring(u), "User(name='sandy', fullname='Sandy Cheeks')")
    session:add(u)
    T.eq(state(u), "pending")
    T.eq(#session.new, 1)
    T.ok(session:contains(u))
    session:flush()
    T.eq(state(u), "persistent")
    T.eq(math.type(u.id), "integer")
    T.eq(orm.inspect(u).identity, {u.id})
    T.eq(#session.new, 0)
    local id = u.id
    session:commit()
    T.eq(state(u), "persistent")
    -- expired: only the identity shows, without SQL
    clear(log)
    T.eq(tostring(u), "User(id=" .. id .. ")")
    T.eq(#log, 0)
    T.eq(u.name, "sandy")            -- reloads the row
    T.eq(#log, 1)
    T.match(log[1].sql, "^SELECT orm_user.id AS orm_user_id, orm_user.name " ..
            "AS orm_user_name, orm_user.fullname AS orm_user_fullname")
    T.eq(tostring(u), "User(id=" .. u.id ..
         ", name='sandy', fullname='Sandy Cheeks')")
    T.eq(u:greet(), "hi sandy")
    T.ok(u.__class__ == User)
    session:delete(u)
    T.eq(state(u), "persistent")
    T.eq(#session.deleted, 1)
    session:flush()
    T.eq(state(u), "deleted")
    session:commit()
    T.eq(state(u), "detached")
    T.eq(orm.inspect(u).session, nil)
  end)

  T.test(pfx .. "flush batches inserts and updates, sets changed columns",
         function()
    local session <close> = orm.Session(engine)
    local a = User{name = "a"}
    local b = User{id = 110, name = "b"}
    local c = User{id = 111, name = "c", fullname = null}
    local d = User{id = 112, name = "d"}
    session:add_all{a, b, c, d}
    clear(log)
    session:flush()
    T.eq(#log, 2)
    local first = norm(log[1].sql)
    if db.name == "postgresql" then
      T.eq(first, "INSERT INTO orm_user (name, fullname) VALUES (?, ?) " ..
                  "RETURNING orm_user.id")
    else
      T.eq(first, "INSERT INTO orm_user (name, fullname) VALUES (?, ?)")
    end
    T.eq(log[1].many, false)
    T.eq(norm(log[2].sql),
         "INSERT INTO orm_user (id, name, fullname) VALUES (?, ?, ?)")
    T.eq(log[2].many, true)
    T.eq(#log[2].params, 3)
    T.eq(a.id ~= nil, true)
    -- same value: no UPDATE; changed ones batch by column set, in key order
    b.name = "b"
    c.fullname = "C"
    d.fullname = "D"
    a.name = "A"
    T.eq(session:is_modified(b), false)
    T.eq(session:is_modified(a), true)
    T.eq(#session.dirty, 4)
    clear(log)
    session:flush()
    T.eq(verbs(log), {"UPDATE", "UPDATE"})
    T.eq(norm(log[1].sql),
         "UPDATE orm_user SET name=? WHERE orm_user.id = ?")
    T.eq(log[1].many, false)
    T.eq(norm(log[2].sql),
         "UPDATE orm_user SET fullname=? WHERE orm_user.id = ?")
    T.eq(log[2].many, true)
    T.eq(log[2].params, {{"C", 111}, {"D", 112}})
    T.eq(#session.dirty, 0)
    -- deletes batch too
    session:delete(c)
    session:delete(d)
    clear(log)
    session:flush()
    T.eq(#log, 1)
    T.eq(norm(log[1].sql), "DELETE FROM orm_user WHERE orm_user.id = ?")
    T.eq(log[1].params, {{111}, {112}})
    T.eq(state(c), "deleted")
    session:rollback()
    -- rollback: objects inserted in the transaction become transient,
    -- even when deleted since (as SQLAlchemy's)
    T.eq(state(a), "transient")
    T.eq(state(c), "transient")
    T.eq(orm.inspect(c).identity, nil)
    -- a committed object deleted in the transaction is restored
    session:add(b)
    session:commit()
    session:delete(b)
    session:flush()
    T.eq(state(b), "deleted")
    session:rollback()
    T.eq(state(b), "persistent")
    T.eq(orm.inspect(b).identity, {110})
    T.eq(b.name, "b")
  end)

  T.test(pfx .. "rollback expires, discards changes, pending -> transient",
         function()
    local session <close> = orm.Session(engine)
    local u = User{id = 120, name = "roll"}
    session:add(u)
    session:commit()
    u.name = "changed"
    T.eq(orm.inspect(u).modified, true)
    T.eq(orm.inspect(u).attrs.name.history.added, {"changed"})
    local p = User{name = "pending"}
    session:add(p)
    session:rollback()
    T.eq(state(p), "transient")
    T.eq(state(u), "persistent")
    T.eq(u.name, "roll")
    T.eq(orm.inspect(u).modified, false)
    T.eq(orm.inspect(u).attrs.name.history.unchanged, {"roll"})
  end)

  T.test(pfx .. "a failed flush rolls back and leaves the session usable",
         function()
    local session <close> = orm.Session(engine)
    session:add(User{id = 130, name = "one"})
    session:commit()
    local dup = User{id = 130, name = "dup"}
    session:add(dup)
    T.raises("IntegrityError", function() session:flush() end)
    -- (as SQLAlchemy's: the objects go back at once to the state the
    -- transaction began with; a PendingRollbackError isa
    -- InvalidRequestError)
    T.eq(state(dup), "transient")
    local e = T.raises("PendingRollbackError", function()
      session:execute(select(User)):all()
    end)
    T.match(e.message, "first issue Session.rollback%(%)")
    session:rollback()
    T.eq(state(dup), "transient")
    T.eq(session:get(User, 130).name, "one")
  end)

  T.test(pfx .. "identity map, get, get_one, refresh, expire", function()
    local session <close> = orm.Session(engine)
    session:add_all{User{id = 140, name = "x"}, User{id = 141, name = "y"}}
    session:commit()
    local x = session:get(User, 140)
    T.ok(session:get(User, 140) == x)
    local all = session:scalars(select(User):where(User.id:ge(140))
                                :order_by(User.id)):all()
    T.ok(all[1] == x)
    T.eq(session:get(User, 999), nil)
    T.raises("NoResultFound", function() session:get_one(User, 999) end)
    x.name = "local"
    session:expire(x, {"name"})
    T.eq(orm.inspect(x).modified, false)
    clear(log)
    T.eq(x.name, "x")
    T.eq(#log, 1)
    -- refresh reloads now, losing pending changes
    x.fullname = "F"
    session:refresh(x)
    T.eq(x.fullname, nil)
    -- a row changed behind the session's back is seen after the commit
    -- expired it
    session:commit()
    local conn <close> = engine:connect()
    conn:execute(update(User):where(User.id:eq(141)):values{name = "yy"})
    conn:commit()
    T.eq(session:get(User, 141).name, "yy")
  end)

  T.test(pfx .. "autoflush before queries", function()
    local session <close> = orm.Session(engine)
    session:add(User{id = 150, name = "auto"})
    local got = session:scalars(select(User):where(User.name:eq("auto"))):one()
    T.eq(got.id, 150)
    local s2 <close> = orm.Session(engine, {autoflush = false})
    s2:add(User{id = 151, name = "noauto"})
    T.eq(s2:scalars(select(User):where(User.name:eq("noauto"))):first(), nil)
    s2:rollback()
    session:rollback()
  end)

  T.test(pfx .. "StaleDataError when an UPDATE matches no row", function()
    -- (objects stay loaded over the commit: an expired key would be read
    -- first, and its missing row raise ObjectDeletedError, as in 1.4)
    local session <close> = orm.Session(engine, {expire_on_commit = false})
    session:add(User{id = 160, name = "stale"})
    session:commit()
    local u = session:get(User, 160)
    session:commit()
    local conn <close> = engine:connect()
    conn:execute(delete(User):where(User.id:eq(160)))
    conn:commit()
    u.name = "gone"
    local e = T.raises("StaleDataError", function() session:flush() end)
    T.match(e.message, "expected to update 1 row%(s%); 0 were matched")
    session:rollback()
  end)

  T.test(pfx .. "expunge, detached access, re-add", function()
    local session = orm.Session(engine)
    local u = User{id = 170, name = "ex"}
    session:add(u)
    session:commit()
    T.eq(u.name, "ex")
    session:expunge(u)
    T.eq(state(u), "detached")
    T.eq(u.name, "ex")   -- loaded values stay readable
    local s2 <close> = orm.Session(engine)
    s2:add(u)
    T.eq(state(u), "persistent")
    T.ok(s2:get(User, 170) == u)
    s2:close()
    T.eq(state(u), "detached")
    session:close()
    local s3 <close> = orm.Session(engine)
    local v = s3:get(User, 170)
    s3:commit()
    s3:close()
    T.raises("DetachedInstanceError", function() return v.name end)
  end)

  T.test(pfx .. "begin(fn) commits or rolls back; begin_nested", function()
    orm.Session(engine):begin(function(s)
      s:add(User{id = 180, name = "in fn"})
    end)
    local session <close> = orm.Session(engine)
    T.eq(session:get(User, 180).name, "in fn")
    T.raises("IntegrityError", function()
      orm.Session(engine):begin(function(s)
        s:add(User{id = 181, name = "a"})
        s:flush()
        s:add(User{id = 181, name = "b"})
      end)
    end)
    T.eq(session:get(User, 181), nil)
    local outer = User{id = 182, name = "outer"}
    session:add(outer)
    local inner = User{id = 183, name = "inner"}
    local sp = session:begin_nested()
    session:add(inner)
    session:flush()
    sp:rollback()
    T.eq(state(inner), "transient")
    T.eq(state(outer), "persistent")
    session:commit()
    T.eq(session:get(User, 183), nil)
    T.eq(session:get(User, 182).name, "outer")
  end)

  T.test(pfx .. "Query basics and Rows of columns", function()
    local session <close> = orm.Session(engine)
    session:add_all{User{id = 190, name = "q1", fullname = "Q"},
                    User{id = 191, name = "q2", fullname = "Q"}}
    session:flush()
    local q = session:query(User):filter(User.fullname:eq("Q"))
    T.eq(q:count(), 2)
    T.eq(q:order_by(User.id:desc()):first().name, "q2")
    T.eq(q:filter_by{name = "q1"}:one().id, 190)
    T.eq(q:filter_by{name = "none"}:one_or_none(), nil)
    T.raises("MultipleResultsFound", function() q:one() end)
    T.eq(#q:limit(1):offset(1):all(), 1)
    -- (get() refuses a query with criteria, as SQLAlchemy's Query.get)
    T.raises("InvalidRequestError", function() q:get(190) end)
    T.ok(session:query(User):get(190) == session:get(User, 190))
    local rows = session:execute(select(User.name, User.id)
                                 :where(User.fullname:eq("Q"))
                                 :order_by(User.id)):all()
    T.eq(rows[1].name, "q1")
    T.eq(rows[2][2], 191)
    local r = session:execute(select(User):where(User.id:eq(190))):one()
    T.ok(r[1] == session:get(User, 190))
    T.eq(tostring(r), "(User(id=190, name='q1', fullname='Q'),)")
    T.eq(session:scalar(select(User.name):where(User.id:eq(191))), "q2")
    session:rollback()
  end)

  T.test(pfx .. "scalars with NULLs: every item, positions kept", function()
    local session <close> = orm.Session(engine)
    session:add_all{User{id = 301, name = "n1", fullname = "F1"},
                    User{id = 302, name = "n2"},
                    User{id = 303, name = "n3", fullname = "F3"},
                    User{id = 304, name = "n4"}}
    session:flush()
    local q = select(User.fullname):where(User.id:ge(301)):order_by(User.id)
    local got = {}
    for v in session:scalars(q) do got[#got + 1] = v end
    T.eq(#got, 4)
    T.ok(got[1] == "F1" and got[2] == sa.null and got[3] == "F3" and
         got[4] == sa.null, "NULL names as sa.null")
    local all = session:scalars(q):all()
    T.eq(#all, 4)
    T.ok(all[2] == sa.null and all[3] == "F3", "all() keeps positions")
    -- an ORM result whose first item is a column: its scalars
    local q2 = select(User.fullname, User):where(User.id:ge(301))
                                           :order_by(User.id)
    got = {}
    for v in session:execute(q2):scalars() do got[#got + 1] = v end
    T.eq(#got, 4)
    T.ok(got[2] == sa.null and got[4] == sa.null and got[3] == "F3",
         "ORM scalars loop")
    all = session:execute(q2):scalars():all()
    T.eq(#all, 4)
    T.ok(all[2] == sa.null and all[3] == "F3", "ORM scalars all()")
    -- ORM rows: the loop goes on past a NULL column
    local n = 0
    for row in session:execute(q2) do
      n = n + 1
      T.ok(row[2].id == 300 + n, "the object of row " .. n)
      if n % 2 == 0 then T.eq(row[1], nil) end
    end
    T.eq(n, 4)
    -- one value alone is nil, as SQLAlchemy's None
    local q3 = select(User.fullname, User):where(User.id:eq(302))
    T.eq(session:execute(q3):scalars():first(), nil)
    T.eq(session:execute(q3):scalar_one(), nil)
    T.eq(session:execute(q3):scalar_one_or_none(), nil)
    T.eq(session:scalar(select(User.fullname):where(User.id:eq(302))), nil)
    session:rollback()
  end)

  T.test(pfx .. "errors: unmapped, not persisted, unknown keyword", function()
    local session <close> = orm.Session(engine)
    T.raises("UnmappedInstanceError", function() session:add({}) end)
    T.raises("InvalidRequestError", function() session:delete(User{name = "t"}) end)
    T.raises("ArgumentError", function() return User{nosuch = 1} end)
  end)

  T.test(pfx .. "a select of the mapped Table gives plain rows", function()
    local session <close> = orm.Session(engine)
    session:execute(delete(User))
    session:add_all{User{id = 401, name = "a"}, User{id = 402, name = "b"}}
    session:flush()
    local t = User.__table__
    local rows = session:execute(select(t):where(t.c.id:gt(400))
                                   :order_by(t.c.id)):all()
    T.eq(#rows, 2)
    T.eq({rows[1].id, rows[1].name, rows[1].fullname}, {401, "a", nil})
    T.eq(orm._row_parts(rows[1]), nil) -- a Core row
    T.eq(session:scalars(select(t):where(t.c.id:gt(400)):order_by(t.c.id))
           :all(), {401, 402})
    T.eq(session:execute(t:select():where(t.c.id:eq(402))):one().name, "b")
    T.eq(session:query(t):filter(t.c.id:eq(401)):all()[1].name, "a")
    -- with the class too: the object, then the Table's columns as values
    local r = session:execute(select(User, t):where(t.c.id:eq(401))):one()
    T.eq(state(r[1]), "persistent")
    T.eq({r[2], r[3], r[4]}, {401, "a", nil})
    T.eq(#r, 4)
    -- the class still gives objects
    T.eq(state(session:scalars(select(User):where(User.id:eq(402))):one()),
         "persistent")
    session:rollback()
  end)

  T.test(pfx .. "legacy Query: exists, subquery, with_entities", function()
    local session <close> = orm.Session(engine)
    session:execute(delete(User))
    session:add_all{User{id = 601, name = "sandy", fullname = "S"},
                    User{id = 602, name = "pat", fullname = "P"}}
    session:flush()
    local q = session:query(User)
    local ex = q:filter(User.name:eq("sandy")):exists()
    T.eq(norm(tostring(ex)):gsub("%s+", " "),
         "EXISTS (SELECT 1 FROM orm_user WHERE orm_user.name = :name_1)")
    T.eq(session:query(ex):scalar(), true)
    T.eq(session:query(q:filter(User.name:eq("nobody")):exists()):scalar(),
         false)
    local sub = q:filter(User.id:gt(600)):subquery()
    T.eq(tostring(select(sub.c.name)):gsub("%s+", " "),
         "SELECT anon_1.name FROM (SELECT orm_user.id AS id, orm_user.name " ..
         "AS name, orm_user.fullname AS fullname FROM orm_user WHERE " ..
         "orm_user.id > :id_1) AS anon_1")
    T.eq(session:execute(select(sa.func.count()):select_from(sub)):scalar(), 2)
    local rows = q:filter(User.id:gt(600)):with_entities(User.name)
                  :order_by(User.name):all()
    T.eq({#rows, rows[1].name, rows[2][1]}, {2, "pat", "sandy"})
    session:rollback()
  end)

  T.test(pfx .. "begin_nested: savepoints numbered per connection, " ..
         "each emitted with its first statement", function()
    local session <close> = orm.Session(engine)
    session:execute(delete(User))
    session:commit()
    clear(log)
    local n = session:begin_nested()
    local c = User{id = 501, name = "c"} -- (held: see the get below)
    session:add(c)
    n:commit()
    n = session:begin_nested()
    session:add(User{id = 502, name = "d"})
    n:rollback() -- never flushed: no SQL
    n = session:begin_nested()
    n:commit()
    n = session:begin_nested()
    session:add(User{id = 503, name = "e"})
    local m = session:begin_nested() -- flushes 503 inside n's savepoint
    -- (c is in the identity map, not expired by the rollback of a level
    -- that did not change it: the row is read again on purpose)
    T.ok(session:get(User, 501, {populate_existing = true}) == c)
    m:commit()
    n:commit()
    session:commit()
    n = session:begin_nested() -- a new connection: numbering starts again
    session:add(User{id = 504, name = "f"})
    n:commit()
    session:commit()
    local sqls = {}
    for i, l in ipairs(log) do
      sqls[i] = norm(l.sql):gsub("%s+", " "):gsub('[`"]', "")
    end
    local sel = "SELECT orm_user.id AS orm_user_id, orm_user.name AS " ..
      "orm_user_name, orm_user.fullname AS orm_user_fullname FROM " ..
      "orm_user WHERE orm_user.id = ?"
    local ins = "INSERT INTO orm_user (id, name, fullname) VALUES (?, ?, ?)"
    T.eq(sqls, {"SAVEPOINT sa_savepoint_1", ins,
                "RELEASE SAVEPOINT sa_savepoint_1",
                "SAVEPOINT sa_savepoint_2", ins,
                "SAVEPOINT sa_savepoint_3", sel,
                "RELEASE SAVEPOINT sa_savepoint_3",
                "RELEASE SAVEPOINT sa_savepoint_2",
                "SAVEPOINT sa_savepoint_1", ins,
                "RELEASE SAVEPOINT sa_savepoint_1"})
    local ids = session:scalars(select(User.id):order_by(User.id)):all()
    T.eq(ids, {501, 503, 504})
    session:execute(delete(User))
    session:commit()
    -- a Connection numbers its own savepoints the same way
    clear(log)
    do
      local conn <close> = engine:connect()
      local tx = conn:begin()
      conn:begin_nested():commit()
      local a = conn:begin_nested()
      conn:begin_nested():rollback()
      a:commit()
      tx:commit()
      tx = conn:begin()
      conn:begin_nested():rollback()
      tx:rollback()
    end
    sqls = {}
    for i, l in ipairs(log) do sqls[i] = l.sql end
    T.eq(sqls, {"SAVEPOINT sa_savepoint_1", "RELEASE SAVEPOINT sa_savepoint_1",
                "SAVEPOINT sa_savepoint_2", "SAVEPOINT sa_savepoint_3",
                "ROLLBACK TO SAVEPOINT sa_savepoint_3",
                "RELEASE SAVEPOINT sa_savepoint_2",
                "SAVEPOINT sa_savepoint_4",
                "ROLLBACK TO SAVEPOINT sa_savepoint_4"})
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end
os.remove(sqlite_file)

T.done()
