-- The flush's INSERTs of rows that need values back from the database (a
-- key it generates, eager_defaults' server defaults).  On PostgreSQL,
-- SQLAlchemy 1.4 with psycopg2 sends consecutive such rows that set the
-- same columns as ONE executemany of INSERT ... RETURNING (one cursor
-- event, the list of parameter sets) and gives each object the returned
-- row in order; a row alone goes as a plain execute.  SQLite and MariaDB
-- (no RETURNING in 1.4's dialects) insert such rows one at a time, each
-- key read back by lastrowid.  Statements, parameters and keys below are
-- SQLAlchemy 1.4.46's for the same mappings.
local T = require "testing"

-- every statement: {sql (placeholders as ?), params, executemany}
local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql, params, _, many)
      log[#log + 1] = {T.norm(sql), params, many}
    end)
  return log
end

-- the log's entries, emptied; only the INSERTs when `inserts`
local function take(log, inserts)
  local out = {}
  for i = 1, #log do
    if not inserts or log[i][1]:match("^INSERT") then out[#out + 1] = log[i] end
    log[i] = nil
  end
  return out
end

local function mapping()
  local Base = orm.declarative_base()
  local A = Base:class "A" {
    __tablename__ = "pgb_a",
    id = Column(Integer, {primary_key = true}),
    x = Column(String(20), {unique = true}),
    y = Column(Integer),
  }
  local B = Base:class "B" {
    __tablename__ = "pgb_b",
    id = Column(Integer, {primary_key = true}),
    x = Column(String(20)),
    d = Column(Integer, {server_default = text("7")}),
    __mapper_args__ = {eager_defaults = true},
  }
  local P = Base:class "P" {
    __tablename__ = "pgb_p",
    id = Column(Integer, {primary_key = true}),
    kind = Column(String(10)),
    name = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "kind", polymorphic_identity = "p"},
  }
  local Q = P:class "Q" {
    __tablename__ = "pgb_q",
    id = Column(Integer, ForeignKey("pgb_p.id"), {primary_key = true}),
    qq = Column(Integer),
    __mapper_args__ = {polymorphic_identity = "q"},
  }
  local V = Base:class "V" {
    __tablename__ = "pgb_v",
    id = Column(Integer, {primary_key = true}),
    x = Column(String(20)),
    ver = Column(Integer, {nullable = false}),
    __mapper_args__ = {version_id_col = "ver"},
  }
  return Base, {A = A, B = B, P = P, Q = Q, V = V}
end

local function ids(objs, key)
  local out = {}
  for i, o in ipairs(objs) do out[i] = o[key or "id"] end
  return out
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local pg = db.name == "postgresql"
  local ret = function(cols) return pg and " RETURNING " .. cols or "" end

  -- body(s, classes, log, engine) with fresh tables, dropped whatever
  -- happens
  local function with_tables(body)
    local Base, cls = mapping()
    local e = create_engine(db.url)
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local s = orm.Session(e)
    local ok, err = pcall(body, s, cls, capture(e), e)
    s:close()
    Base.metadata:drop_all(e)
    e:dispose()
    if not ok then error(err, 0) end
  end

  T.test(n .. "rows with generated keys: one executemany with RETURNING",
         function()
    with_tables(function(s, c, log)
      local objs = {c.A{x = "a1", y = 1}, c.A{x = "a2", y = 2},
                    c.A{x = "a3", y = 3}}
      s:add_all(objs)
      s:flush()
      T.eq(ids(objs), {1, 2, 3})
      local sql = "INSERT INTO pgb_a (x, y) VALUES (?, ?)" .. ret("pgb_a.id")
      if pg then
        T.eq(take(log), {{sql, {{"a1", 1}, {"a2", 2}, {"a3", 3}}, true}})
      else
        T.eq(take(log), {{sql, {"a1", 1}, false}, {sql, {"a2", 2}, false},
                         {sql, {"a3", 3}, false}})
      end
      -- a column left unset goes as NULL: the same columns, the same batch
      objs = {c.A{x = "n1", y = 1}, c.A{x = "n2"}}
      s:add_all(objs)
      s:flush()
      T.eq(ids(objs), {4, 5})
      if pg then
        T.eq(take(log), {{sql, {{"n1", 1}, {"n2", sa.null}}, true}})
      else
        T.eq(#take(log), 2)
      end
      -- one row alone is a plain execute
      local one = c.A{x = "s1"}
      s:add(one)
      s:flush()
      T.eq(one.id, 6)
      T.eq(take(log), {{sql, {"s1", sa.null}, false}})
      s:commit()
      T.eq(s:scalars(select(c.A.x):order_by(c.A.id)):all(),
           {"a1", "a2", "a3", "n1", "n2", "s1"})
    end)
  end)

  T.test(n .. "rows with and without a key given alternate: one each",
         function()
    with_tables(function(s, c, log)
      local objs = {c.A{x = "m1"}, c.A{id = 100, x = "m2"}, c.A{x = "m3"},
                    c.A{id = 200, x = "m4"}, c.A{x = "m5"}}
      s:add_all(objs)
      s:flush()
      -- (a PostgreSQL sequence does not follow keys given explicitly)
      T.eq(ids(objs), pg and {1, 100, 2, 200, 3} or {1, 100, 101, 200, 201})
      local gen = "INSERT INTO pgb_a (x, y) VALUES (?, ?)" .. ret("pgb_a.id")
      local given = "INSERT INTO pgb_a (id, x, y) VALUES (?, ?, ?)"
      T.eq(take(log), {
        {gen, {"m1", sa.null}, false}, {given, {100, "m2", sa.null}, false},
        {gen, {"m3", sa.null}, false}, {given, {200, "m4", sa.null}, false},
        {gen, {"m5", sa.null}, false}})
    end)
  end)

  T.test(n .. "eager_defaults: the server defaults come back with the keys",
         function()
    with_tables(function(s, c, log)
      local objs = {c.B{x = "b1"}, c.B{x = "b2"}}
      s:add_all(objs)
      s:flush()
      T.eq({ids(objs), ids(objs, "d")}, {{1, 2}, {7, 7}})
      local got = take(log, true)
      if pg then
        T.eq(got, {{"INSERT INTO pgb_b (x) VALUES (?) RETURNING pgb_b.id, " ..
                    "pgb_b.d", {{"b1"}, {"b2"}}, true}})
      else
        T.eq(got, {{"INSERT INTO pgb_b (x) VALUES (?)", {"b1"}, false},
                   {"INSERT INTO pgb_b (x) VALUES (?)", {"b2"}, false}})
      end
      -- keys given: only the defaults come back
      objs = {c.B{id = 100, x = "g1"}, c.B{id = 101, x = "g2"}}
      s:add_all(objs)
      s:flush()
      T.eq({ids(objs), ids(objs, "d")}, {{100, 101}, {7, 7}})
      got = take(log, true)
      if pg then
        T.eq(got, {{"INSERT INTO pgb_b (id, x) VALUES (?, ?) RETURNING " ..
                    "pgb_b.d", {{100, "g1"}, {101, "g2"}}, true}})
      else
        T.eq(got, {{"INSERT INTO pgb_b (id, x) VALUES (?, ?)",
                    {{100, "g1"}, {101, "g2"}}, true}})
      end
    end)
  end)

  T.test(n .. "eager_defaults: rows returning different columns go apart",
         function()
    with_tables(function(s, c, log)
      local objs = {c.B{x = "c1", d = 1}, c.B{x = "c2"}, c.B{x = "c3"},
                    c.B{x = "c4", d = 4}, c.B{x = "c5", d = 5}}
      s:add_all(objs)
      s:flush()
      T.eq({ids(objs), ids(objs, "d")}, {{1, 2, 3, 4, 5}, {1, 7, 7, 4, 5}})
      local got = take(log, true)
      if pg then
        T.eq(got, {
          {"INSERT INTO pgb_b (x, d) VALUES (?, ?) RETURNING pgb_b.id",
           {"c1", 1}, false},
          {"INSERT INTO pgb_b (x) VALUES (?) RETURNING pgb_b.id, pgb_b.d",
           {{"c2"}, {"c3"}}, true},
          {"INSERT INTO pgb_b (x, d) VALUES (?, ?) RETURNING pgb_b.id",
           {{"c4", 4}, {"c5", 5}}, true}})
      else
        T.eq(#got, 5)
      end
    end)
  end)

  T.test(n .. "joined inheritance: the classes' parent rows in one batch",
         function()
    with_tables(function(s, c, log)
      local objs = {c.Q{name = "q1", qq = 1}, c.Q{name = "q2", qq = 2},
                    c.P{name = "p3"}}
      s:add_all(objs)
      s:flush()
      T.eq(ids(objs), {1, 2, 3})
      local parent = "INSERT INTO pgb_p (kind, name) VALUES (?, ?)" ..
                     ret("pgb_p.id")
      local child = {"INSERT INTO pgb_q (id, qq) VALUES (?, ?)",
                     {{1, 1}, {2, 2}}, true}
      if pg then
        T.eq(take(log), {{parent, {{"q", "q1"}, {"q", "q2"}, {"p", "p3"}},
                          true}, child})
      else
        T.eq(take(log), {{parent, {"q", "q1"}, false},
                         {parent, {"q", "q2"}, false},
                         {parent, {"p", "p3"}, false}, child})
      end
      s:commit()
      local objs2 = s:scalars(select(c.P):order_by(c.P.id)):all()
      T.eq({objs2[1].qq, objs2[2].qq, objs2[3].name}, {1, 2, "p3"})
    end)
  end)

  -- (every database: the parent rows of a hierarchy's classes that set
  -- the same columns are alike, whatever columns the classes add)
  T.test(n .. "joined inheritance, keys given: one executemany per table",
         function()
    with_tables(function(s, c, log)
      s:add_all{c.Q{id = 10, name = "q1", qq = 1}, c.P{id = 11, name = "p2"},
                c.Q{id = 12, name = "q3", qq = 3}}
      s:flush()
      T.eq(take(log), {
        {"INSERT INTO pgb_p (id, kind, name) VALUES (?, ?, ?)",
         {{10, "q", "q1"}, {11, "p", "p2"}, {12, "q", "q3"}}, true},
        {"INSERT INTO pgb_q (id, qq) VALUES (?, ?)", {{10, 1}, {12, 3}},
         true}})
    end)
  end)

  T.test(n .. "versioned rows: the version goes, the key comes back",
         function()
    with_tables(function(s, c, log)
      local objs = {c.V{x = "v1"}, c.V{x = "v2"}}
      s:add_all(objs)
      s:flush()
      T.eq({ids(objs), ids(objs, "ver")}, {{1, 2}, {1, 1}})
      local sql = "INSERT INTO pgb_v (x, ver) VALUES (?, ?)" .. ret("pgb_v.id")
      if pg then
        T.eq(take(log), {{sql, {{"v1", 1}, {"v2", 1}}, true}})
      else
        T.eq(take(log), {{sql, {"v1", 1}, false}, {sql, {"v2", 1}, false}})
      end
      objs[2].x = "v2b"
      s:flush()
      T.eq(objs[2].ver, 2)
    end)
  end)

  T.test(n .. "a failing batch raises IntegrityError and writes nothing",
         function()
    with_tables(function(s, c, log)
      s:add_all{c.A{x = "a"}, c.A{x = "b"}, c.A{x = "a"}}
      local err = T.raises("IntegrityError", function() s:flush() end)
      T.match(tostring(err), "INSERT INTO pgb_a %(x, y%)")
      s:rollback()
      T.eq(s:scalars(select(c.A.x)):all(), {})
      take(log)
      -- the session goes on: new keys as before
      local objs = {c.A{x = "ok1"}, c.A{x = "ok2"}}
      s:add_all(objs)
      s:commit()
      T.eq(#s:scalars(select(c.A.x)):all(), 2)
      T.ok(objs[1].id < objs[2].id)
    end)
  end)

  if pg then
    -- (a trigger that drops a row leaves a key without its row: the keys
    -- could not be matched to the objects)
    T.test(n .. "fewer rows returned than sent: FlushError", function()
      with_tables(function(s, c, log, e)
        local conn <close> = e:connect()
        conn:exec_driver_sql(
          "CREATE FUNCTION pgb_skip() RETURNS trigger AS $$ BEGIN " ..
          "IF NEW.x = 'skip' THEN RETURN NULL; END IF; RETURN NEW; END $$ " ..
          "LANGUAGE plpgsql")
        conn:exec_driver_sql("CREATE TRIGGER pgb_skip BEFORE INSERT ON " ..
                             "pgb_a FOR EACH ROW EXECUTE FUNCTION pgb_skip()")
        conn:commit()
        s:add_all{c.A{x = "a"}, c.A{x = "skip"}, c.A{x = "b"}}
        local err = T.raises("FlushError", function() s:flush() end)
        T.eq(err.message, "Multi-row INSERT statement for mapped class " ..
             "A->pgb_a did not produce the correct number of INSERTed " ..
             "rows for RETURNING.  Ensure there are no triggers or " ..
             "special driver issues preventing INSERT from functioning " ..
             "properly.")
        s:rollback()
        conn:exec_driver_sql("DROP TRIGGER pgb_skip ON pgb_a")
        conn:exec_driver_sql("DROP FUNCTION pgb_skip()")
        conn:commit()
      end)
    end)

    T.test(n .. "Core: insert():returning() with several rows gives them all",
           function()
      with_tables(function(s, c, log, e)
        local t = c.A.__table__
        local conn <close> = e:connect()
        local r = conn:execute(insert(t):returning(t.c.id, t.c.x),
                               {{x = "k1"}, {x = "k2"}, {x = "k3"}})
        T.eq(r:keys(), {"id", "x"})
        local rows = {}
        for i, row in ipairs(r:all()) do rows[i] = {row[1], row[2]} end
        T.eq(rows, {{1, "k1"}, {2, "k2"}, {3, "k3"}})
        T.eq(r.rowcount, 3)
        T.eq(take(log), {{"INSERT INTO pgb_a (x) VALUES (?) RETURNING " ..
                          "pgb_a.id, pgb_a.x", {{"k1"}, {"k2"}, {"k3"}},
                          true}})
        -- without RETURNING: a count, no rows
        r = conn:execute(insert(t), {{x = "k4"}, {x = "k5"}})
        T.eq(r.rowcount, 2)
        T.eq(r.returns_rows, false)
        conn:commit()
      end)
    end)
  end
end

T.done()
