-- Column attributes of inheriting classes in select() (SQLAlchemy's
-- annotated columns: each knows its mapped class), and selectin loads in
-- a sharded session, on every test database.  A joined subclass's
-- columns select FROM its tables joined (never a cartesian product), a
-- single-table subclass's get its discriminator criterion, last in the
-- WHERE clause; the table's own columns stay plain Core columns.  The
-- expected statements, parameters and rows are SQLAlchemy 1.4's for the
-- same mappings and steps.
local T = require "testing"
local hs = orm.ext.horizontal_shard

-- statements run on `engine`: {sql, params}
local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql, params)
      log[#log + 1] = {sql = sql, params = params}
    end)
  return log
end

local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

-- PostgreSQL's placeholders are $n; MariaDB writes INNER JOIN
local function norm(sql)
  return (sql:gsub("%$%d+", "?"):gsub("INNER JOIN", "JOIN"))
end

local function schema()
  local Base = orm.declarative_base()
  local Parent = Base:class "Parent" {
    __tablename__ = "inh9_parent",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    type = Column(String(20)),
    start = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "parent"},
  }
  local J = Parent:class "J" {
    __tablename__ = "inh9_child",
    id = Column(Integer, ForeignKey("inh9_parent.id"), {primary_key = true}),
    extra = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "j"},
  }
  local M = Parent:class "M" {
    name = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "m"},
  }
  local MM = M:class "MM" {__mapper_args__ = {polymorphic_identity = "mm"}}
  local JS = J:class "JS" {
    sx = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "js"},
  }
  return Base, Parent, J, M, MM, JS
end

-- rows as lists: values, and objects as their class names
local function plain(rows)
  local out = {}
  for i, r in ipairs(rows) do
    local t = {}
    for k = 1, #r do
      local v = r[k]
      local ok, cls = pcall(function() return v.__class__ end)
      if ok and cls then v = cls.__name__ end
      t[k] = v
    end
    out[i] = t
  end
  return out
end

local JOIN = "FROM inh9_parent JOIN inh9_child ON inh9_parent.id = " ..
             "inh9_child.id"

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base, Parent, J, M, MM, JS = schema()
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all{Parent{id = 1, start = "a"}, J{id = 2, start = "b", extra = "x"},
              M{id = 3, start = "c", name = "m1"},
              MM{id = 4, start = "d", name = "m2"},
              JS{id = 5, start = "e", extra = "y", sx = "z"}}
    s:commit()
  end
  local log = capture(engine)

  -- the statement run by fn(session) and its rows
  local function run(fn)
    local s <close> = orm.Session(engine)
    clear(log)
    local rows = plain(fn(s))
    T.eq(#log, 1)
    return norm(log[1].sql), rows, log[1].params
  end
  local function exec(stmt)
    return run(function(s) return s:execute(stmt):all() end)
  end

  T.test(pfx .. "joined subclass columns select FROM the join", function()
    local sql, rows = exec(select(J.extra, J.start):order_by(J.id))
    T.eq(sql, "SELECT inh9_child.extra, inh9_parent.start \n" .. JOIN ..
         " ORDER BY inh9_child.id")
    T.eq(rows, {{"x", "b"}, {"y", "e"}})
    sql, rows = exec(select(J.extra):order_by(J.extra))
    T.eq(sql, "SELECT inh9_child.extra \n" .. JOIN ..
         " ORDER BY inh9_child.extra")
    T.eq(rows, {{"x"}, {"y"}})
    local params
    sql, rows, params = exec(select(J.id, J.extra):where(J.extra:eq("x")))
    T.eq(sql, "SELECT inh9_child.id, inh9_child.extra \n" .. JOIN ..
         " \nWHERE inh9_child.extra = ?")
    T.eq(params, {"x"})
    T.eq(rows, {{2, "x"}})
    -- an inherited attribute is the subclass's too
    sql, rows = exec(select(J.start):where(J.extra:eq("y")))
    T.eq(sql, "SELECT inh9_parent.start \n" .. JOIN ..
         " \nWHERE inh9_child.extra = ?")
    T.eq(rows, {{"e"}})
  end)

  -- (the statement a query shows; it runs without the labels)
  T.test(pfx .. "query() of joined subclass columns", function()
    local s <close> = orm.Session(engine)
    local q = s:query(J.extra):order_by(J.extra)
    T.eq(norm(tostring(q)), "SELECT inh9_child.extra AS inh9_child_extra \n" ..
         JOIN .. " ORDER BY inh9_child.extra")
    T.eq(plain(q:all()), {{"x"}, {"y"}})
  end)

  T.test(pfx .. "single-table subclass columns get the criterion", function()
    local sql, rows, params = exec(select(M.name):order_by(M.name))
    T.eq(sql, "SELECT inh9_parent.name \nFROM inh9_parent \nWHERE " ..
         "inh9_parent.type IN (?, ?) ORDER BY inh9_parent.name")
    T.eq(params, {"m", "mm"})
    T.eq(rows, {{"m1"}, {"m2"}})
    -- after the statement's own WHERE terms
    sql, rows, params = exec(select(M.name):where(M.start:eq("c")))
    T.eq(sql, "SELECT inh9_parent.name \nFROM inh9_parent \nWHERE " ..
         "inh9_parent.start = ? AND inh9_parent.type IN (?, ?)")
    T.eq(params, {"c", "m", "mm"})
    T.eq(rows, {{"m1"}})
    sql, rows, params = exec(select(M.id, M.name):where(M.id:gt(0))
                               :order_by(M.id))
    T.eq(sql, "SELECT inh9_parent.id, inh9_parent.name \nFROM inh9_parent " ..
         "\nWHERE inh9_parent.id > ? AND inh9_parent.type IN (?, ?) " ..
         "ORDER BY inh9_parent.id")
    T.eq(params, {0, "m", "mm"})
    T.eq(rows, {{3, "m1"}, {4, "m2"}})
    -- a subclass of a single-table subclass: its identity alone
    sql, rows, params = exec(select(MM.name))
    T.eq(sql, "SELECT inh9_parent.name \nFROM inh9_parent \nWHERE " ..
         "inh9_parent.type IN (?)")
    T.eq(params, {"mm"})
    T.eq(rows, {{"m2"}})
    local s <close> = orm.Session(engine)
    local q = s:query(M.name):filter(M.start:eq("c"))
    T.eq(norm(tostring(q)), "SELECT inh9_parent.name AS inh9_parent_name " ..
         "\nFROM inh9_parent \nWHERE inh9_parent.start = ? AND " ..
         "inh9_parent.type IN (?, ?)")
    T.eq(plain(q:all()), {{"m1"}})
  end)

  T.test(pfx .. "labels and functions of subclass columns", function()
    local sql, rows = exec(select(M.name:label("nm")):order_by(M.name))
    T.eq(sql, "SELECT inh9_parent.name AS nm \nFROM inh9_parent \nWHERE " ..
         "inh9_parent.type IN (?, ?) ORDER BY inh9_parent.name")
    T.eq(rows, {{"m1"}, {"m2"}})
    sql, rows = exec(select(func.count(M.id)))
    T.eq(sql, "SELECT count(inh9_parent.id) AS count_1 \nFROM inh9_parent " ..
         "\nWHERE inh9_parent.type IN (?, ?)")
    T.eq(rows, {{2}})
    sql, rows = exec(select(J.extra, func.count(J.id)):group_by(J.extra)
                       :order_by(J.extra:desc()))
    T.eq(sql, "SELECT inh9_child.extra, count(inh9_child.id) AS count_1 \n" ..
         JOIN .. " GROUP BY inh9_child.extra ORDER BY inh9_child.extra DESC")
    T.eq(rows, {{"y", 1}, {"x", 1}})
  end)

  T.test(pfx .. "joined and single-table classes together", function()
    local sql, rows, params = exec(select(JS.sx, JS.extra))
    T.eq(sql, "SELECT inh9_child.sx, inh9_child.extra \n" .. JOIN ..
         " \nWHERE inh9_parent.type IN (?)")
    T.eq(params, {"js"})
    T.eq(rows, {{"z", "y"}})
    sql, rows, params = exec(select(M.name, J.extra))
    T.eq(sql, "SELECT inh9_parent.name, inh9_child.extra \n" .. JOIN ..
         " \nWHERE inh9_parent.type IN (?, ?)")
    T.eq(params, {"m", "mm"})
    T.eq(rows, {})
    sql, rows = exec(select(Parent.id, J.extra):order_by(Parent.id))
    T.eq(sql, "SELECT inh9_parent.id, inh9_child.extra \n" .. JOIN ..
         " ORDER BY inh9_parent.id")
    T.eq(rows, {{2, "x"}, {5, "y"}})
  end)

  T.test(pfx .. "entities, aliased classes and Core columns", function()
    local cols = "SELECT inh9_child.id, inh9_parent.id AS id_1, " ..
                 "inh9_parent.type, inh9_parent.start, inh9_child.extra \n"
    local sql, rows = exec(select(J):order_by(J.id))
    T.eq(sql, cols .. JOIN .. " ORDER BY inh9_child.id")
    T.eq(rows, {{"J"}, {"JS"}})
    sql, rows = exec(select(J):where(J.extra:eq("x")))
    T.eq(sql, cols .. JOIN .. " \nWHERE inh9_child.extra = ?")
    T.eq(rows, {{"J"}})
    local a = orm.aliased(J)
    sql, rows = exec(select(a.extra, a.start):order_by(a.extra))
    T.eq(sql, "SELECT anon_1.inh9_child_extra, anon_1.inh9_parent_start \n" ..
         "FROM (SELECT inh9_parent.id AS inh9_parent_id, inh9_parent.type " ..
         "AS inh9_parent_type, inh9_parent.start AS inh9_parent_start, " ..
         "inh9_parent.name AS inh9_parent_name, inh9_child.id AS " ..
         "inh9_child_id, inh9_child.extra AS inh9_child_extra, " ..
         "inh9_child.sx AS inh9_child_sx \n" .. JOIN .. ") AS anon_1 " ..
         "ORDER BY anon_1.inh9_child_extra")
    T.eq(rows, {{"x", "b"}, {"y", "e"}})
    -- the table's column is the plain column: its table alone
    local t = J.__table__
    sql, rows = exec(select(t.c.extra):order_by(t.c.extra))
    T.eq(sql, "SELECT inh9_child.extra \nFROM inh9_child " ..
         "ORDER BY inh9_child.extra")
    T.eq(rows, {{"x"}, {"y"}})
    T.ok(not rawequal(J.extra, t.c.extra))
    T.eq({J.extra.key, J.extra.name, J.extra.table.name},
         {"extra", "extra", "inh9_child"})
    T.eq(tostring(J.extra:eq(1)), tostring(t.c.extra:eq(1)))
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end

-- selectin loads in a sharded session ----------------------------------

local function shard_schema()
  local Base = orm.declarative_base()
  local W = Base:class "W" {
    __tablename__ = "inh9_locations",
    id = Column(Integer, {primary_key = true}),
    continent = Column(String(30), {nullable = false}),
    city = Column(String(50), {nullable = false}),
    reports = orm.relationship("R", {backref = "location"}),
  }
  local R = Base:class "R" {
    __tablename__ = "inh9_reports",
    id = Column(Integer, {primary_key = true}),
    location_id = Column(Integer, ForeignKey("inh9_locations.id")),
    temperature = Column(Float),
  }
  return Base, W, R
end

local function cities(locs)
  local out = {}
  for i, l in ipairs(locs) do
    out[i] = l.city .. " " .. orm.inspect(l).identity_token
  end
  return out
end

local function shard_suite(name, na_url, asia_url)
  local Base, W, R = shard_schema()
  local engines = {north_america = create_engine(na_url),
                   asia = create_engine(asia_url)}
  local log = {}
  for shard, e in pairs(engines) do
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    orm.event.listen(e, "before_cursor_execute", function(_, _, sql, params)
      local ps = {}
      for i, p in ipairs(params or {}) do ps[i] = tostring(p) end
      log[#log + 1] = shard .. " " .. sql:match("^%s*(%u+)") .. " " ..
                      (sql:match("inh9_%a+") or "?") .. " " ..
                      table.concat(ps, ",")
    end)
  end
  local lookup = {["North America"] = "north_america", Asia = "asia"}
  local function shard_chooser(mapper, obj)
    if obj.__class__ == W then return lookup[obj.continent] end
    return shard_chooser(mapper, obj.location)
  end
  local ctxs = {}
  local S = orm.sessionmaker{class_ = hs.ShardedSession, shards = engines,
    shard_chooser = shard_chooser,
    id_chooser = function() return {"north_america", "asia"} end,
    execute_chooser = function(ctx)
      ctxs[#ctxs + 1] = {ctx.is_relationship_load,
                         ctx.lazy_loaded_from == nil,
                         ctx.bind_mapper == orm.inspect(R)}
      return {"north_america", "asia"}
    end}
  do
    local s <close> = S()
    local tokyo = W{id = 1, continent = "Asia", city = "Tokyo"}
    local ny = W{id = 2, continent = "North America", city = "New York"}
    local toronto = W{id = 3, continent = "North America", city = "Toronto"}
    tokyo.reports:append(R{temperature = 80.0})
    ny.reports:append(R{temperature = 75})
    s:add_all{tokyo, ny, toronto}
    s:commit()
  end

  T.test(name .. ": a selectin load goes to execute_chooser's shards",
         function()
    clear(log)
    local s <close> = S()
    local locs = s:scalars(select(W):options(orm.selectinload(W.reports))
                             :order_by(W.id)):all()
    -- each shard's locations, then each shard's selectin load on both
    T.eq(log, {"north_america SELECT inh9_locations ",
               "asia SELECT inh9_locations ",
               "north_america SELECT inh9_reports 2,3",
               "asia SELECT inh9_reports 2,3",
               "north_america SELECT inh9_reports 1",
               "asia SELECT inh9_reports 1"})
    -- the locations' statement, then the two relationship loads
    T.eq(ctxs, {{false, true, false}, {true, true, true},
                {true, true, true}})
    T.eq({#locs[1].reports, #locs[2].reports, #locs[3].reports}, {1, 0, 1})
    T.eq(orm.inspect(locs[3].reports[1]).identity_token, "asia")
    T.eq(orm.inspect(locs[1].reports[1]).identity_token, "north_america")
  end)

  -- a location 2 on each shard, with a report on each: each shard's
  -- load finds both reports, each with its own shard's token
  T.test(name .. ": a selectin load's rows keep their own shard", function()
    do
      local c <close> = engines.asia:connect()
      c:execute(text("INSERT INTO inh9_locations (id, continent, city) " ..
                     "VALUES (2, 'Asia', 'Osaka')"))
      c:execute(text("INSERT INTO inh9_reports (id, location_id, " ..
                     "temperature) VALUES (7, 2, 11.5)"))
      c:commit()
    end
    clear(log)
    local s <close> = S()
    local locs = s:scalars(select(W):options(orm.selectinload(W.reports))
                             :order_by(W.id)):all()
    local got = {}
    for i, loc in ipairs(locs) do
      got[i] = {}
      for k, r in ipairs(loc.reports) do
        got[i][k] = {r.id, r.temperature, orm.inspect(r).identity_token}
      end
    end
    T.eq(log, {"north_america SELECT inh9_locations ",
               "asia SELECT inh9_locations ",
               "north_america SELECT inh9_reports 2,3",
               "asia SELECT inh9_reports 2,3",
               "north_america SELECT inh9_reports 1,2",
               "asia SELECT inh9_reports 1,2"})
    T.eq(cities(locs), {"New York north_america", "Toronto north_america",
                        "Tokyo asia", "Osaka asia"})
    T.eq(got, {{{1, 75.0, "north_america"}, {7, 11.5, "asia"}}, {},
               {{1, 80.0, "asia"}},
               {{1, 75.0, "north_america"}, {7, 11.5, "asia"}}})
    -- (the same objects as New York's)
    T.ok(rawequal(locs[4].reports[1], locs[1].reports[1]))
    T.ok(rawequal(locs[4].reports[2], locs[1].reports[2]))
  end)

  for _, e in pairs(engines) do
    Base.metadata:drop_all(e)
    e:dispose()
  end
end

local dir = os.tmpname()
os.remove(dir)
shard_suite("sqlite", "sqlite:///" .. dir .. "-na.db",
            "sqlite:///" .. dir .. "-asia.db")
os.remove(dir .. "-na.db")
os.remove(dir .. "-asia.db")

-- the test server's database and a second one made here
local function server_suite(name, url, autocommit)
  local admin = create_engine(url)
  local function admin_sql(sql)
    local c <close> = admin:connect()
    if autocommit then
      c:execution_options{isolation_level = "AUTOCOMMIT"}
    end
    c:exec_driver_sql(sql)
  end
  admin_sql("DROP DATABASE IF EXISTS retort_inh9_shard")
  admin_sql("CREATE DATABASE retort_inh9_shard")
  shard_suite(name, url, (url:gsub("/retort_test", "/retort_inh9_shard", 1)))
  admin_sql("DROP DATABASE retort_inh9_shard")
  admin:dispose()
end

for _, d in ipairs({{"postgresql", "RETORT_TEST_PG", true},
                    {"mysql", "RETORT_TEST_MYSQL", false}}) do
  local url = os.getenv(d[2])
  if url and url ~= "" then
    server_suite(d[1], url, d[3])
  else
    T.skip(d[1] .. " sharding", d[2] .. " is not set")
  end
end

T.done()
