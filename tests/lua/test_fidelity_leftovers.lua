-- Column default and onupdate functions as SQLAlchemy 1.4 runs them: an
-- error one raises comes out of Core's execute and the ORM's flush as a
-- StatementError wrapping it (its message, .orig the error itself, the
-- statement's SQL and the parameters given), and the context argument
-- has get_current_parameters() beside current_parameters, with the
-- parameter names SQLAlchemy uses (an ORM UPDATE's key as
-- <table>_<column>).
local T = require "testing"

-- SQL with every database's placeholders as SQLite's
local function norm(sql)
  return (T.norm(sql):gsub("%%s", "?"))
end

local function sorted(t)
  local out = {}
  for k, v in pairs(t) do
    out[#out + 1] = k .. "=" .. (v == sa.null and "null" or tostring(v))
  end
  table.sort(out)
  return table.concat(out, " ")
end

local function boom() error("boom", 0) end

-- a literal_column() selected from a subquery: the subquery's column is
-- literal too, its text unquoted and unlabelled (SQLAlchemy 1.4's text,
-- even where the database then refuses it); a dedupe label is quoted as
-- any name is
T.test("a subquery's literal column", function()
  local function sql(stmt) return (tostring(stmt):gsub("%s+", " ")) end
  local sq = select(literal_column("5")):subquery()
  T.eq(sql(select(sq)), "SELECT anon_1.5 FROM (SELECT 5) AS anon_1")
  T.eq(sql(select(sq.c[1])), "SELECT anon_1.5 FROM (SELECT 5) AS anon_1")
  T.eq(sql(select(sq):set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)),
       "SELECT anon_1.5 FROM (SELECT 5) AS anon_1")
  T.eq(sql(select(sq, sq.c[1])),
       "SELECT anon_1.5, anon_1.5 AS \"5__1\" FROM (SELECT 5) AS anon_1")
  T.eq(sql(select(select(literal_column("5"), literal_column("5")):subquery())),
       "SELECT anon_1.5, anon_1.5 AS \"5_1\" FROM (SELECT 5, 5) AS anon_1")
  local sq2 = select(literal_column("5"), literal_column("'a'"),
                     literal_column("x+1")):subquery()
  T.eq(sql(select(sq2)), "SELECT anon_1.5, anon_1.'a', anon_1.x+1 " ..
       "FROM (SELECT 5, 'a', x+1) AS anon_1")
  T.eq(sql(select(select(literal_column("5")):subquery("s"))),
       "SELECT s.5 FROM (SELECT 5) AS s")
  T.eq(sql(select(select(literal_column("5"):label("five")):subquery())),
       "SELECT anon_1.five FROM (SELECT 5 AS five) AS anon_1")
  -- a subquery of one: the outer one's columns have the literal's name
  local sq3 = select(literal_column("5"), literal_column("x")):subquery()
  local want = "SELECT anon_1.5, anon_1.x FROM (SELECT anon_2.5, anon_2.x " ..
               "FROM (SELECT 5, x) AS anon_2) AS anon_1"
  T.eq(sql(select(sq3):subquery():select()), want)
  T.eq(sql(select(sq3):set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
             :subquery():select()), want)
  local cte = select(literal_column("7")):cte("c")
  T.eq(sql(select(cte)), "WITH c AS (SELECT 7) SELECT c.7 FROM c")
  -- the dedupe label of a name that needs quoting
  local m = MetaData()
  local a = Table("a", m, Column("Foo", Integer), Column("x", Integer))
  local b = Table("b", m, Column("Foo", Integer), Column("x", Integer))
  T.eq(sql(select(a.c.Foo, b.c.Foo, a.c.x, b.c.x)),
       "SELECT a.\"Foo\", b.\"Foo\" AS \"Foo_1\", a.x, b.x AS x_1 FROM a, b")
  -- run: a column name works, a number is SQLite's syntax error
  local e = create_engine("sqlite://")
  local c = e:connect()
  c:exec_driver_sql("CREATE TABLE lit (x INTEGER)")
  c:exec_driver_sql("INSERT INTO lit VALUES (3)")
  local r = c:execute(select(select(literal_column("x"))
                               :select_from(sa.table("lit")):subquery()))
  T.eq(r:keys(), {"x"})
  T.eq(r:scalars():all(), {3})
  T.raises("OperationalError", c.execute, c, select(sq))
  c:close()
end)

-- an unnamed aliased() class names no entity of a row: _fields,
-- _mapping, the result's keys() and column_descriptions leave it out (a
-- named one keeps its name)
T.test("an unnamed aliased() class has no row key", function()
  local Base = orm.declarative_base()
  local User = Base:class "User" {
    __tablename__ = "users",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
  }
  local e = create_engine("sqlite://")
  Base.metadata:create_all(e)
  local s = orm.Session(e)
  s:add(User{id = 1, name = "a"})
  s:commit()
  local ua = orm.aliased(User)
  local ub = orm.aliased(User, {name = "ub"})
  local function keys_of(stmt)
    local r = s:execute(stmt)
    local keys = r:keys()
    local row = r:first()
    local mk = {}
    for k in pairs(row._mapping) do mk[#mk + 1] = k end
    table.sort(mk)
    return {keys, row._fields, mk, #row}
  end
  T.eq(keys_of(select(ua)), {{}, {}, {}, 1})
  T.eq(keys_of(select(User, ua)), {{"User"}, {"User"}, {"User"}, 2})
  T.eq(keys_of(select(ua, User)), {{"User"}, {"User"}, {"User"}, 2})
  T.eq(keys_of(select(ua, ub)), {{"ub"}, {"ub"}, {"ub"}, 2})
  T.eq(keys_of(select(User, ua, ub)),
       {{"User", "ub"}, {"User", "ub"}, {"User", "ub"}, 3})
  T.eq(keys_of(select(ua, ua.name)), {{"name"}, {"name"}, {"name"}, 2})
  -- the row still answers the alias itself, and holds both objects
  local row = s:execute(select(User, ua)):first()
  T.ok(row._mapping[ua] == row[2], "row._mapping[ua]")
  T.ok(row[1] == row[2], "one identity")
  local q = s:query(User, ua)
  T.eq(q:first()._fields, {"User"})
  local d = q.column_descriptions
  T.eq({d[1].name, d[2].name, d[2].aliased}, {"User", nil, true})
  T.eq(s:query(ub).column_descriptions[1].name, "ub")
  s:close()
end)

-- a LIMIT on an aliased() class that joins a collection eagerly wraps
-- the limited select in a subquery first (as for the class itself), so
-- the limit counts objects, not joined rows
T.test("aliased() class, joinedload and LIMIT: a subquery", function()
  local Base = orm.declarative_base()
  local A = Base:class "A" {
    __tablename__ = "a", id = Column(Integer, {primary_key = true}),
    x = Column(Integer), bs = orm.relationship("B", {order_by = "B.id"}),
  }
  local B = Base:class "B" {
    __tablename__ = "b", id = Column(Integer, {primary_key = true}),
    a_id = Column(Integer, ForeignKey("a.id")),
  }
  local e = create_engine("sqlite://")
  Base.metadata:create_all(e)
  local s = orm.Session(e)
  s:add_all{A{id = 1, x = 1, bs = {B{id = 1}, B{id = 2}}},
            A{id = 2, x = 2, bs = {B{id = 3}, B{id = 4}}}, A{id = 3, x = 3}}
  s:commit()
  local log = {}
  orm.event.listen(e, "before_cursor_execute", function(_, _, sql)
    log[#log + 1] = (sql:gsub("%s+", " "))
  end)
  local function loaded(objs)
    local out = {}
    for _, a in ipairs(objs) do
      local ids = {}
      for _, b in ipairs(a.bs) do ids[#ids + 1] = b.id end
      out[#out + 1] = a.id .. ":" .. table.concat(ids, ",")
    end
    return out
  end
  local aa = orm.aliased(A, select(A):where(A.x:gt(1)):subquery())
  local q = s:query(aa):options(orm.joinedload(aa.bs)):limit(1)
  local want = "SELECT anon_1.anon_2_id AS anon_1_anon_2_id, " ..
    "anon_1.anon_2_x AS anon_1_anon_2_x, b_1.id AS b_1_id, " ..
    "b_1.a_id AS b_1_a_id FROM (SELECT anon_2.id AS anon_2_id, " ..
    "anon_2.x AS anon_2_x FROM (SELECT a.id AS id, a.x AS x FROM a " ..
    "WHERE a.x > ?) AS anon_2 LIMIT ? OFFSET ?) AS anon_1 LEFT OUTER " ..
    "JOIN b AS b_1 ON anon_1.anon_2_id = b_1.a_id ORDER BY b_1.id"
  T.eq((tostring(q):gsub("%s+", " ")), want)
  T.eq(loaded(q:all()), {"2:3,4"})
  T.eq(log, {want})
  s:expunge_all()
  -- ordered: the outer query orders by the subquery's columns
  q = s:query(aa):options(orm.joinedload(aa.bs)):order_by(aa.id):limit(2)
  T.eq(loaded(q:all()), {"2:3,4", "3:"})
  T.eq(log[2], "SELECT anon_1.anon_2_id AS anon_1_anon_2_id, " ..
    "anon_1.anon_2_x AS anon_1_anon_2_x, b_1.id AS b_1_id, " ..
    "b_1.a_id AS b_1_a_id FROM (SELECT anon_2.id AS anon_2_id, " ..
    "anon_2.x AS anon_2_x FROM (SELECT a.id AS id, a.x AS x FROM a " ..
    "WHERE a.x > ?) AS anon_2 ORDER BY anon_2.id LIMIT ? OFFSET ?) AS " ..
    "anon_1 LEFT OUTER JOIN b AS b_1 ON anon_1.anon_2_id = b_1.a_id " ..
    "ORDER BY anon_1.anon_2_id, b_1.id")
  s:expunge_all()
  -- an aliased() class of the table; a 2.0 select; the class itself
  local a2 = orm.aliased(A)
  T.eq(loaded(s:query(a2):options(orm.joinedload(a2.bs)):limit(1):all()),
       {"1:1,2"})
  T.eq(log[3], "SELECT anon_1.a_1_id AS anon_1_a_1_id, anon_1.a_1_x AS " ..
    "anon_1_a_1_x, b_1.id AS b_1_id, b_1.a_id AS b_1_a_id FROM (SELECT " ..
    "a_1.id AS a_1_id, a_1.x AS a_1_x FROM a AS a_1 LIMIT ? OFFSET ?) AS " ..
    "anon_1 LEFT OUTER JOIN b AS b_1 ON anon_1.a_1_id = b_1.a_id ORDER BY " ..
    "b_1.id")
  s:expunge_all()
  T.eq(loaded(s:scalars(select(aa):options(orm.joinedload(aa.bs)):limit(1))
                :unique():all()), {"2:3,4"})
  T.eq(log[4], "SELECT anon_1.id, anon_1.x, b_1.id AS id_1, b_1.a_id " ..
    "FROM (SELECT anon_2.id AS id, anon_2.x AS x FROM (SELECT a.id AS id, " ..
    "a.x AS x FROM a WHERE a.x > ?) AS anon_2 LIMIT ? OFFSET ?) AS anon_1 " ..
    "LEFT OUTER JOIN b AS b_1 ON anon_1.id = b_1.a_id ORDER BY b_1.id")
  T.eq((tostring(s:query(A):options(orm.joinedload(A.bs)):limit(1))
          :gsub("%s+", " ")),
       "SELECT anon_1.a_id AS anon_1_a_id, anon_1.a_x AS anon_1_a_x, " ..
       "b_1.id AS b_1_id, b_1.a_id AS b_1_a_id FROM (SELECT a.id AS a_id, " ..
       "a.x AS a_x FROM a LIMIT ? OFFSET ?) AS anon_1 LEFT OUTER JOIN b AS " ..
       "b_1 ON anon_1.a_id = b_1.a_id ORDER BY b_1.id")
  s:close()
end)

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "

  local function core_table(e, name, cols)
    local m = MetaData()
    local t = Table(name, m, Column("id", Integer, {primary_key = true,
                                                    autoincrement = false}),
                    table.unpack(cols))
    m:drop_all(e)
    m:create_all(e)
    return t, m
  end

  T.test(pfx .. "a default function's error is a StatementError", function()
    local e = create_engine(db.url)
    local t, m = core_table(e, "fl_core",
                            {Column("x", Integer, {default = boom}),
                             Column("y", Integer, {onupdate = boom})})
    local c = e:connect()
    local err = T.raises("StatementError", c.execute, c, t:insert(), {id = 1})
    T.eq(err.message, "boom")
    T.eq(err.orig, "boom")
    T.eq(err.orig_kind, nil)
    T.eq(norm(err.sql), "INSERT INTO fl_core (id, x) VALUES (?, ?)")
    T.eq(norm(tostring(err)), "StatementError: boom\n" ..
         "[SQL: INSERT INTO fl_core (id, x) VALUES (?, ?)]\n" ..
         "[parameters: [{'id': 1}]]")
    T.ok(not err:isa("DBAPIError"), "not a DBAPIError")
    -- nothing ran: no transaction begun, the connection goes on
    T.eq(c:in_transaction(), false)
    -- an executemany: every parameter set shown
    err = T.raises("StatementError", c.execute, c, t:insert(),
                   {{id = 3}, {id = 4}})
    T.eq(norm(tostring(err)), "StatementError: boom\n" ..
         "[SQL: INSERT INTO fl_core (id, x) VALUES (?, ?)]\n" ..
         "[parameters: [{'id': 3}, {'id': 4}]]")
    -- values() without parameters: no parameters line
    err = T.raises("StatementError", c.execute, c,
                   t:insert():values({id = 5}))
    T.eq(norm(tostring(err)), "StatementError: boom\n" ..
         "[SQL: INSERT INTO fl_core (id, x) VALUES (?, ?)]")
    -- inside a transaction: it stays open, the next statement runs
    c:execute(t:insert(), {id = 2, x = 5})
    T.eq(c:in_transaction(), true)
    err = T.raises("StatementError", c.execute, c, t:update():values({x = 3}))
    T.eq(norm(tostring(err)), "StatementError: boom\n" ..
         "[SQL: UPDATE fl_core SET x=?, y=?]")
    T.eq(c:in_transaction(), true)
    c:commit()
    local r = c:execute(select(t)):one()
    T.eq({r.id, r.x, r.y == nil}, {2, 5, true})
    c:close()
    m:drop_all(e)
    e:dispose()
  end)

  T.test(pfx .. "a default raising a retort error: orig and its kind",
         function()
    local e = create_engine(db.url)
    local t, m = core_table(e, "fl_core2", {Column("x", Integer, {
      default = function() sa._raise("ArgumentError", "bad arg") end})})
    local c = e:connect()
    local err = T.raises("StatementError", c.execute, c, t:insert(), {id = 1})
    T.eq(err.message, "bad arg")
    T.eq(err.orig_kind, "ArgumentError")
    T.eq(err.orig.kind, "ArgumentError")
    T.eq(norm(tostring(err)), "StatementError: (ArgumentError) bad arg\n" ..
         "[SQL: INSERT INTO fl_core2 (id, x) VALUES (?, ?)]\n" ..
         "[parameters: [{'id': 1}]]")
    c:close()
    m:drop_all(e)
    e:dispose()
  end)

  T.test(pfx .. "Core: the context's get_current_parameters()", function()
    local e = create_engine(db.url)
    local seen = {}
    local function d(ctx)
      seen[#seen + 1] = sorted(ctx.current_parameters) .. " | " ..
                        sorted(ctx:get_current_parameters()) .. " | " ..
                        sorted(ctx:get_current_parameters(false))
      return 7
    end
    local t, m = core_table(e, "fl_ctx", {Column("a", Integer),
                                          Column("x", Integer, {default = d})})
    local c = e:connect()
    c:execute(t:insert(), {id = 1, a = 2})
    c:execute(t:insert(), {{id = 2, a = 3}, {id = 3, a = 4}})
    c:execute(t:insert():values({id = 4, a = 5}))
    T.eq(seen, {"a=2 id=1 | a=2 id=1 | a=2 id=1",
                "a=3 id=2 | a=3 id=2 | a=3 id=2",
                "a=4 id=3 | a=4 id=3 | a=4 id=3",
                "a=5 id=4 | a=5 id=4 | a=5 id=4"})
    T.eq(c:execute(select(t.c.x):order_by(t.c.id)):scalars():all(),
         {7, 7, 7, 7})
    c:rollback()
    c:close()
    m:drop_all(e)
    e:dispose()
  end)

  T.test(pfx .. "a function sees the scalar defaults made before it",
         function()
    local e = create_engine(db.url)
    local seen = {}
    local function d(ctx)
      seen[#seen + 1] = sorted(ctx.current_parameters)
      return 7
    end
    local t, m = core_table(e, "fl_sc", {
      Column("s", Integer, {default = 3, onupdate = 4}),
      Column("x", Integer, {default = d, onupdate = d}),
      Column("u", Integer, {default = 5})})
    local c = e:connect()
    c:execute(t:insert(), {id = 1})
    c:execute(t:insert():values({id = 2, s = 9}))
    c:execute(t:update():values({u = 1}))
    T.eq(seen, {"id=1 s=3", "id=2 s=9", "s=4 u=1"})
    local rows = {}
    for _, r in ipairs(c:execute(select(t):order_by(t.c.id)):all()) do
      rows[#rows + 1] = table.concat({r[1], r[2], r[3], r[4]}, ",")
    end
    T.eq(rows, {"1,4,7,1", "2,4,7,1"})
    c:rollback()
    c:close()
    m:drop_all(e)
    e:dispose()
  end)

  T.test(pfx .. "a multi-row VALUES: defaults per row, groups isolated",
         function()
    local e = create_engine(db.url)
    local seen = {}
    local function d(ctx)
      seen[#seen + 1] = sorted(ctx.current_parameters) .. " | " ..
                        sorted(ctx:get_current_parameters()) .. " | " ..
                        sorted(ctx:get_current_parameters(false))
      return 7
    end
    local t, m = core_table(e, "fl_mv", {
      Column("a", Integer), Column("x", Integer, {default = d}),
      Column("s", Integer, {default = 3}),
      Column("q", Integer, {default = text("4")}),
      Column("n", Integer)})
    local c = e:connect()
    local log = T.capture(e)
    c:execute(t:insert():values({{id = 5, a = 6}, {id = 6, a = 7}}))
    T.eq(norm(log[1]), "INSERT INTO fl_mv (id, a, x, s, q) VALUES " ..
         "(?, ?, ?, ?, 4), (?, ?, ?, ?, 4)")
    T.eq(seen, {
      "a_m0=6 a_m1=7 id_m0=5 id_m1=6 | a=6 id=5 | a_m0=6 a_m1=7 id_m0=5 id_m1=6",
      "a_m0=6 a_m1=7 id_m0=5 id_m1=6 s=3 x=7 | a=7 id=6 | " ..
      "a_m0=6 a_m1=7 id_m0=5 id_m1=6 s=3 x=7"})
    seen = {}
    -- a row's own value; a later row without it takes the default
    c:execute(t:insert():values({{id = 7, a = 6, x = 1, s = 2},
                                 {id = 8, a = 7}}))
    T.eq(seen, {"a_m0=6 a_m1=7 id_m0=7 id_m1=8 s_m0=2 x_m0=1 | a=7 id=8 | " ..
                "a_m0=6 a_m1=7 id_m0=7 id_m1=8 s_m0=2 x_m0=1"})
    local rows = {}
    for _, r in ipairs(c:execute(select(t.c.id, t.c.x, t.c.s, t.c.q)
                                  :order_by(t.c.id)):all()) do
      rows[#rows + 1] = table.concat({r[1], r[2], r[3], r[4]}, ",")
    end
    T.eq(rows, {"5,7,3,4", "6,7,3,4", "7,1,2,4", "8,7,3,4"})
    -- a later row lacking a column with no default cannot be written
    local err = T.raises("CompileError", c.execute, c,
                         t:insert():values({{id = 9, n = 1}, {id = 10}}))
    T.eq(err.message, "INSERT value for column fl_mv.n is explicitly " ..
         "rendered as a boundparameter in the VALUES clause; a Python-side " ..
         "value or SQL expression is required")
    c:rollback()
    c:close()
    m:drop_all(e)
    e:dispose()
  end)

  T.test(pfx .. "a multi-row VALUES: a default's error", function()
    local e = create_engine(db.url)
    local t, m = core_table(e, "fl_mv2", {
      Column("a", Integer), Column("x", Integer, {default = 3}),
      Column("q", Integer, {default = text("4")}),
      Column("z", Integer, {default = boom})})
    local c = e:connect()
    local err = T.raises("StatementError", c.execute, c,
                         t:insert():values({{id = 1, a = 1}, {id = 2, a = 2}}))
    T.eq(norm(tostring(err)), "StatementError: boom\n[SQL: INSERT INTO " ..
         "fl_mv2 (id, a, x, q, z) VALUES (?, ?, ?, 4, ?), (?, ?, ?, 4, ?)]")
    T.eq(c:execute(select(sa.func.count()):select_from(t)):scalar(), 0)
    c:close()
    m:drop_all(e)
    e:dispose()
  end)

  T.test(pfx .. "ORM: context names and a default's error in the flush",
         function()
    local Base = orm.declarative_base()
    local seen = {}
    local function d(ctx)
      seen[#seen + 1] = sorted(ctx.current_parameters) .. " | " ..
                        sorted(ctx:get_current_parameters())
      return 7
    end
    local U = Base:class "U" {
      __tablename__ = "fl_u",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      a = Column(Integer),
      x = Column(Integer, {default = d}),
      y = Column(Integer, {onupdate = d}),
    }
    local V = Base:class "V" {
      __tablename__ = "fl_v",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      x = Column(Integer, {default = boom}),
      y = Column(Integer, {onupdate = boom}),
    }
    local e = create_engine(db.url)
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local s = orm.Session(e)
    s:add(U{id = 1, a = 1})
    s:flush()
    local u = s:get(U, 1)
    u.a = 5
    s:flush()
    -- (SQLAlchemy's maps also hold the column being made, as None)
    T.eq(seen, {"a=1 id=1 y=null | a=1 id=1 y=null",
                "a=5 fl_u_id=1 | a=5 fl_u_id=1"})
    T.eq({u.x, u.y}, {7, 7})
    s:commit()

    s:add(V{id = 1})
    local err = T.raises("StatementError", s.flush, s)
    T.eq(err.orig, "boom")
    T.eq(norm(tostring(err)), "StatementError: boom\n" ..
         "[SQL: INSERT INTO fl_v (id, x, y) VALUES (?, ?, ?)]\n" ..
         "[parameters: [{'id': 1, 'y': None}]]")
    s:rollback()
    s:add(V{id = 1, x = 1, y = 2})
    s:commit()
    local v = s:get(V, 1)
    v.x = 5
    err = T.raises("StatementError", s.flush, s)
    T.eq(err.orig, "boom")
    T.eq(norm(tostring(err)), "StatementError: boom\n" ..
         "[SQL: UPDATE fl_v SET x=?, y=? WHERE fl_v.id = ?]\n" ..
         "[parameters: [{'fl_v_id': 1, 'x': 5}]]")
    s:rollback()
    -- nothing was written
    T.eq(s:execute(select(V.x)):scalars():all(), {1})
    s:close()
    Base.metadata:drop_all(e)
    e:dispose()
  end)

  T.test(pfx .. "ORM: a joined table's UPDATE key named by its column",
         function()
    local Base = orm.declarative_base()
    local seen = {}
    local function d(ctx)
      seen[#seen + 1] = sorted(ctx:get_current_parameters())
      return 7
    end
    local P = Base:class "P" {
      __tablename__ = "fl_p",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      kind = Column(String(10)),
      a = Column(Integer, {onupdate = d}),
      __mapper_args__ = {polymorphic_on = "kind",
                         polymorphic_identity = "p"},
    }
    local E = P:class "E" {
      __tablename__ = "fl_e",
      eid = Column("id", Integer, ForeignKey("fl_p.id"),
                   {primary_key = true}),
      b = Column(Integer),
      c = Column(Integer, {onupdate = d}),
      __mapper_args__ = {polymorphic_identity = "e"},
    }
    local e = create_engine(db.url)
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local s = orm.Session(e)
    s:add(E{id = 1, b = 1})
    s:commit()
    local o = s:get(E, 1)
    o.b, o.a = 2, 3
    s:flush()
    T.eq(seen, {"b=2 fl_e_id=1"})
    T.eq({o.a, o.c}, {3, 7})
    s:close()
    Base.metadata:drop_all(e)
    e:dispose()
  end)
end

T.done()
