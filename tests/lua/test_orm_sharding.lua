-- Horizontal sharding (seed 003 2.11.4, SQLAlchemy's weather example):
-- a ShardedSession over two SQLite files and, with RETORT_TEST_PG and
-- RETORT_TEST_MYSQL, over two PostgreSQL and two MariaDB databases (the
-- second of each made here).  Objects go to the shard shard_chooser picks
-- and keep it as their identity token; get() looks in id_chooser's
-- identity maps, then execute_chooser's shards; statements run on each
-- shard the chooser names and their results are concatenated; a lazy
-- relationship load goes through the choosers too, expired attributes
-- load on the object's shard; commit, rollback and savepoints reach
-- every shard.  Rows, tokens,
-- identity keys and the shard of each statement were checked against
-- SQLAlchemy 1.4 running the same steps (where 1.4 differs, the comment
-- says so).
local T = require "testing"
local hs = orm.ext.horizontal_shard

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.WeatherLocation = Base:class "WeatherLocation" {
    __tablename__ = "weather_locations",
    id = Column(Integer, {primary_key = true}),
    continent = Column(String(30), {nullable = false}),
    city = Column(String(50), {nullable = false}),
    reports = orm.relationship("Report", {backref = "location"}),
  }
  M.Report = Base:class "Report" {
    __tablename__ = "weather_reports",
    id = Column(Integer, {primary_key = true}),
    location_id = Column(Integer, ForeignKey("weather_locations.id")),
    temperature = Column(Float),
  }
  return M
end

local shard_lookup = {["North America"] = "north_america", Asia = "asia"}

-- the weather example's shard chooser: a location by its continent, a
-- report by its location's
local function chooser_for(M)
  local function shard_chooser(mapper, obj)
    if obj.__class__ == M.WeatherLocation then
      return shard_lookup[obj.continent]
    end
    return shard_chooser(mapper, obj.location)
  end
  return shard_chooser
end

-- "<shard> <VERB> <table>" of each statement run, in order
local function statement_log(engines)
  local log = {}
  for shard, e in pairs(engines) do
    orm.event.listen(e, "before_cursor_execute", function(_, _, sql)
      local verb = sql:match("^%s*(%u+)")
      if verb == "SAVEPOINT" or verb == "RELEASE" then return end
      log[#log + 1] = shard .. " " .. verb .. " " ..
                      (sql:match("weather_%a+") or "?")
    end)
  end
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

local function cities(list)
  local out = {}
  for i, c in ipairs(list) do out[i] = c.city end
  return out
end

local function raw_rows(engine, sql)
  local out = {}
  local conn <close> = engine:connect()
  for _, r in ipairs(conn:execute(text(sql)):all()) do
    local t = {}
    for i = 1, #r do t[i] = r[i] end
    out[#out + 1] = t
  end
  return out
end

local function kind_of(fn)
  local ok, err = pcall(fn)
  T.ok(not ok, "an error was expected")
  return type(err) == "table" and err.kind or tostring(err)
end

local function run_suite(name, na_url, asia_url)
  local engines, M, log, S

  local function fresh()
    if engines then
      for _, e in pairs(engines) do
        M.Base.metadata:drop_all(e)
        e:dispose()
      end
    end
    engines = {north_america = create_engine(na_url),
               asia = create_engine(asia_url)}
    M = schema()
    for _, e in pairs(engines) do
      M.Base.metadata:drop_all(e)
      M.Base.metadata:create_all(e)
    end
    log = statement_log(engines)
    S = orm.sessionmaker{class_ = hs.ShardedSession, shards = engines}
    S:configure{
      shard_chooser = chooser_for(M),
      id_chooser = function() return {"north_america", "asia"} end,
      execute_chooser = function() return {"north_america", "asia"} end,
    }
    -- the example's data: ids given (the example draws them from an id
    -- table), report ids from each shard's own sequence
    local s <close> = S()
    local W, R = M.WeatherLocation, M.Report
    local tokyo = W{id = 1, continent = "Asia", city = "Tokyo"}
    local newyork = W{id = 2, continent = "North America", city = "New York"}
    local toronto = W{id = 3, continent = "North America", city = "Toronto"}
    tokyo.reports:append(R{temperature = 80.0})
    newyork.reports:append(R{temperature = 75})
    s:add_all{tokyo, newyork, toronto}
    clear(log)
    s:commit()
  end

  T.test(name .. ": the flush writes each object on its shard", function()
    fresh()
    T.eq(log, {"asia INSERT weather_locations",
               "north_america INSERT weather_locations",
               "asia INSERT weather_reports",
               "north_america INSERT weather_reports"})
    T.eq(raw_rows(engines.asia, "SELECT id, city FROM weather_locations"),
         {{1, "Tokyo"}})
    T.eq(raw_rows(engines.north_america,
                  "SELECT id, city FROM weather_locations ORDER BY id"),
         {{2, "New York"}, {3, "Toronto"}})
    -- each shard numbered its own reports: both are id 1
    T.eq(raw_rows(engines.asia,
                  "SELECT id, location_id, temperature FROM weather_reports"),
         {{1, 1, 80.0}})
    T.eq(raw_rows(engines.north_america,
                  "SELECT id, location_id, temperature FROM weather_reports"),
         {{1, 2, 75.0}})
  end)

  T.test(name .. ": identity tokens and keys carry the shard", function()
    fresh()
    local s <close> = S()
    local W, R = M.WeatherLocation, M.Report
    local tokyo = s:get(W, 1)
    local newyork = s:get(W, 2)
    T.eq(orm.inspect(tokyo).identity_token, "asia")
    T.eq(orm.inspect(newyork).identity_token, "north_america")
    local tr, nr = tokyo.reports[1], newyork.reports[1]
    -- the same primary key on two shards: two objects
    T.ok(tr ~= nr)
    T.eq({tr.id, tr.temperature}, {1, 80.0})
    T.eq({nr.id, nr.temperature}, {1, 75.0})
    T.eq(orm.inspect(tr).identity_key, {R, {1}, "asia"})
    T.eq(orm.inspect(nr).identity_key, {R, {1}, "north_america"})
    T.eq(orm.inspect(nr).identity_token, "north_america")
    s:close()
    -- a detached object keeps its key
    T.ok(orm.inspect(tokyo).detached)
    T.eq(orm.inspect(tokyo).identity_key, {W, {1}, "asia"})
    -- a plain session's keys have no token
    local plain <close> = orm.Session(engines.asia)
    local t2 = plain:get(W, 1)
    T.eq(orm.inspect(t2).identity_key, {W, {1}})
    T.eq(orm.inspect(t2).identity_token, nil)
  end)

  T.test(name .. ": get() looks in id_chooser's shards, loads from " ..
         "execute_chooser's", function()
    fresh()
    local W, R = M.WeatherLocation, M.Report
    local seen = {}
    local s <close> = S{id_chooser = function(q, ident)
      seen[#seen + 1] = {q.lazy_loaded_from, ident}
      return {"north_america", "asia"}
    end}
    clear(log)
    local t = s:get(W, 1)
    T.eq({t.city, orm.inspect(t).identity_token}, {"Tokyo", "asia"})
    T.eq(seen, {{nil, {1}}})
    -- the SELECT by primary key on each shard execute_chooser names
    T.eq(log, {"north_america SELECT weather_locations",
               "asia SELECT weather_locations"})
    -- found in the identity map now: no SQL
    clear(log)
    T.ok(s:get(W, 1) == t)
    T.eq(log, {})
    T.eq(s:get(W, 99), nil)
    -- a key on both shards: both rows load, which is one too many
    local s2 <close> = S{id_chooser = function() return {"asia", "north_america"} end}
    T.eq(kind_of(function() s2:get(R, 1) end), "MultipleResultsFound")
    -- id_chooser narrows the identity maps looked in, not the SELECT
    local r = s2:get(R, 1, {identity_token = "asia"})
    T.eq({r.temperature, orm.inspect(r).identity_token}, {80.0, "asia"})
    local s4 <close> = S{execute_chooser = function(ctx)
      T.ok(ctx.is_select and ctx.bind_mapper == orm.inspect(R))
      T.eq(ctx.lazy_loaded_from, nil)
      return {"asia"}
    end}
    T.eq(orm.inspect(s4:get(R, 1)).identity_token, "asia")
    T.eq(s2:get(R, 1, {identity_token = "north_america"}).temperature, 75.0)
    -- identity_chooser (SQLAlchemy 2.0's form): mapper, key, options
    local got = {}
    local s3 <close> = S{id_chooser = false, identity_chooser =
      function(mapper, ident, kw)
        got = {mapper == orm.inspect(R), ident, kw.lazy_loaded_from}
        return {"north_america"}
      end, execute_chooser = function() return {"north_america"} end}
    T.eq(s3:get(R, 1).temperature, 75.0)
    T.eq(got, {true, {1}, nil})
  end)

  T.test(name .. ": a select runs on each chosen shard, results joined",
         function()
    fresh()
    local W = M.WeatherLocation
    local ctxs = {}
    local s <close> = S{execute_chooser = function(ctx)
      ctxs[#ctxs + 1] = ctx
      return {"north_america", "asia"}
    end}
    local stmt = select(W):order_by(W.id)
    clear(log)
    local all = s:scalars(stmt):all()
    T.eq(cities(all), {"New York", "Toronto", "Tokyo"})
    T.eq(log, {"north_america SELECT weather_locations",
               "asia SELECT weather_locations"})
    T.eq(#ctxs, 1)
    T.ok(ctxs[1].statement == stmt and ctxs[1].is_select)
    T.ok(not ctxs[1].is_update and ctxs[1].session == s)
    local toks = {}
    for i, c in ipairs(all) do toks[i] = orm.inspect(c).identity_token end
    T.eq(toks, {"north_america", "north_america", "asia"})
    -- rows of columns, ORM rows, single results, iteration
    local rows = s:execute(select(W.city, W.continent):order_by(W.city)):all()
    T.eq(#rows, 3)
    T.eq({rows[1][1], rows[2][1], rows[3][1]},
         {"New York", "Toronto", "Tokyo"})
    T.eq(s:execute(select(W):where(W.city:eq("Toronto"))):scalar_one().id, 3)
    T.eq(s:scalar(select(W.city):where(W.id:eq(1))), "Tokyo")
    T.eq(kind_of(function()
      s:execute(select(W):where(W.id:lt(3))):scalar_one()
    end), "MultipleResultsFound")
    T.eq(kind_of(function()
      s:execute(select(W):where(W.id:eq(9))):one()
    end), "NoResultFound")
    local n = 0
    for c in s:scalars(select(W)) do n = n + 1; T.ok(c.city ~= nil) end
    T.eq(n, 3)
    -- unique() over a join that repeats a row: no row of a shard is lost
    -- when a batch comes back short
    local R = M.Report
    local tokyo = s:get(W, 1)
    tokyo.reports:append(R{temperature = 81})
    s:add(W{id = 4, continent = "Asia", city = "Osaka",
            reports = {R{temperature = 70}}})
    s:flush()
    local seen = {}
    for part in s:scalars(select(W):join(W.reports):order_by(W.id)):unique()
                 :partitions(3) do
      for _, c in ipairs(part) do seen[#seen + 1] = c.city end
    end
    T.eq(seen, {"New York", "Tokyo", "Osaka"})
    s:rollback()
    -- streamed, a part at a time across the shards
    local sizes = {}
    local streamed = s:execute(select(W):order_by(W.id)
                                 :execution_options{yield_per = 2}):scalars()
    for part in streamed:partitions(2) do sizes[#sizes + 1] = cities(part) end
    T.eq(sizes, {{"New York", "Toronto"}, {"Tokyo"}})
    local maps = s:execute(select(W.id, W.city):order_by(W.id)):mappings()
                  :all()
    T.eq({maps[1].city, maps[3].id}, {"New York", 1})
    -- the shell prints a merged ORM result as a table
    local shell = package.loaded["retort.shell"]
    if shell then
      local keys, next_row = shell.tabular(
        s:scalars(select(W):order_by(W.id)))
      T.eq(keys, {"id", "continent", "city"})
      T.eq({next_row(), next_row(), next_row(), next_row()},
           {{2, "North America", "New York"}, {3, "North America",
            "Toronto"}, {1, "Asia", "Tokyo"}})
      keys, next_row = shell.tabular(
        s:execute(select(W.city, W.id):where(W.id:ne(3)):order_by(W.id)))
      T.eq(keys, {"city", "id"})
      T.eq({next_row(), next_row(), next_row()},
           {{"New York", 2}, {"Tokyo", 1}})
    end
    local ormrow = s:execute(select(W):where(W.id:eq(2))):first()
    T.eq(ormrow[1].city, "New York")
    T.eq(cities(s:query(W):order_by(W.city):all()),
         {"New York", "Toronto", "Tokyo"})
    T.eq(s:query(W):filter_by{city = "Tokyo"}:one().id, 1)
  end)

  T.test(name .. ": an execute_chooser that reads the WHERE clause",
         function()
    fresh()
    local W = M.WeatherLocation
    -- the example's chooser: the shards of the continents compared with
    local s <close> = S{execute_chooser = function(ctx)
      local ids = {}
      for _, c in ipairs(hs.select_comparisons(ctx.statement)) do
        if c.column == W.continent then
          if c.operator == "eq" then
            ids[#ids + 1] = shard_lookup[c.value]
          elseif c.operator == "in" then
            for _, v in ipairs(c.value) do ids[#ids + 1] = shard_lookup[v] end
          end
        end
      end
      if #ids == 0 then return {"north_america", "asia"} end
      return ids
    end}
    clear(log)
    local na = s:scalars(select(W):where(W.continent:eq("North America"))
                           :order_by(W.id)):all()
    T.eq(cities(na), {"New York", "Toronto"})
    T.eq(log, {"north_america SELECT weather_locations"})
    clear(log)
    local both = s:scalars(select(W):where(
      W.continent:in_({"Asia", "North America"})):order_by(W.id)):all()
    T.eq(cities(both), {"Tokyo", "New York", "Toronto"})
    T.eq(log, {"asia SELECT weather_locations",
               "north_america SELECT weather_locations"})
    clear(log)
    T.eq(cities(s:query(W):filter(W.continent:eq("Asia")):all()), {"Tokyo"})
    T.eq(log, {"asia SELECT weather_locations"})
    -- what it finds: mapped columns against values, either side, in AND/OR
    local cmp = hs.select_comparisons(select(W):where(
      or_(W.id:in_({1, 2}), sa.literal(3):lt(W.id))):where(W.city:eq(W.city)))
    T.eq(#cmp, 2)
    T.ok(cmp[1].column == W.id and cmp[2].column == W.id)
    T.eq({cmp[1].operator, cmp[1].value, cmp[2].operator, cmp[2].value},
         {"in", {1, 2}, "gt", 3})
  end)

  T.test(name .. ": query_chooser", function()
    fresh()
    local W = M.WeatherLocation
    local got
    local s <close> = S{execute_chooser = false, query_chooser = function(stmt)
      got = stmt
      return {"asia"}
    end}
    local stmt = select(W)
    T.eq(cities(s:scalars(stmt):all()), {"Tokyo"})
    T.ok(got == stmt)
  end)

  T.test(name .. ": set_shard and the shard_id option", function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    clear(log)
    T.eq(cities(s:query(W):set_shard("north_america"):order_by(W.city):all()),
         {"New York", "Toronto"})
    T.eq(log, {"north_america SELECT weather_locations"})
    T.eq(cities(s:scalars(select(W):execution_options{shard_id = "asia"})
                :all()), {"Tokyo"})
    T.eq(cities(s:scalars(select(W):execution_options{_sa_shard_id = "asia"})
                :all()), {"Tokyo"})
    T.eq(s:execute(select(W.city), nil,
                   {bind_arguments = {shard_id = "asia"}}):all()[1][1], "Tokyo")
    T.eq(s:query(W):set_shard("asia"):count(), 1)
    T.eq(s:query(W):set_shard("north_america"):count(), 2)
    -- unsharded, a count per shard: more than the one row Query.count
    -- reads (SQLAlchemy 1.4 raises the same)
    T.eq(kind_of(function() s:query(W):count() end), "MultipleResultsFound")
    T.eq(s:query(W.city):set_shard("asia"):scalar(), "Tokyo")
    T.eq(kind_of(function()
      s:query(W):set_shard("europe"):all()
    end), "InvalidRequestError")
  end)

  T.test(name .. ": loads from an object run on its shard", function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    local tokyo = s:get(W, 1)
    clear(log)
    local rep = tokyo.reports[1]
    -- a lazy collection: on the shards execute_chooser names (here both)
    T.eq(log, {"north_america SELECT weather_reports",
               "asia SELECT weather_reports"})
    T.eq(#tokyo.reports, 1)
    T.eq(rep.temperature, 80.0)
    s:expire(rep)
    clear(log)
    T.ok(rep.location == tokyo)
    T.eq(rep.temperature, 80.0)
    T.eq(log, {"asia SELECT weather_reports"})
    s:expire(tokyo)
    clear(log)
    T.eq(tokyo.city, "Tokyo")
    T.eq(log, {"asia SELECT weather_locations"})
    s:expire(rep, {"location"})
    clear(log)
    T.ok(rep.location == tokyo) -- from the identity map
    T.eq(log, {})
    s:refresh(tokyo)
    T.eq(log, {"asia SELECT weather_locations"})
    -- an expired attribute loads alone, on the object's shard; so does
    -- a refresh of it
    local sql = {}
    orm.event.listen(engines.asia, "before_cursor_execute",
      function(_, _, q)
        sql[#sql + 1] = q:gsub("%s+", " "):gsub('[`"]', ""):gsub("%$%d+", "?")
      end)
    s:expire(tokyo, {"city"})
    clear(log)
    T.eq(tokyo.city, "Tokyo")
    s:refresh(tokyo, {"continent"})
    T.eq(log, {"asia SELECT weather_locations",
               "asia SELECT weather_locations"})
    T.eq(sql, {"SELECT weather_locations.city AS weather_locations_city " ..
               "FROM weather_locations WHERE weather_locations.id = ?",
               "SELECT weather_locations.continent FROM weather_locations " ..
               "WHERE weather_locations.id = ?"})
    -- a commit expires the objects of every shard
    s:commit()
    local unloaded = orm.inspect(tokyo).unloaded
    table.sort(unloaded)
    T.eq(unloaded, {"city", "continent", "id", "reports"})
    clear(log)
    T.eq(tokyo.city, "Tokyo")
    T.eq(log, {"asia SELECT weather_locations"})
  end)

  T.test(name .. ": updates and deletes on the object's shard", function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    local tokyo, newyork = s:get(W, 1), s:get(W, 2)
    tokyo.city = "Kyoto"
    clear(log)
    s:commit()
    T.eq(log, {"asia UPDATE weather_locations"})
    s:delete(newyork)
    clear(log)
    s:commit()
    -- newyork, expired by the commit, loads first (on its shard); the
    -- reports are loaded (a lazy load: on both shards), unlinked on
    -- newyork's shard, then the row deleted
    T.eq(log, {"north_america SELECT weather_locations",
               "north_america SELECT weather_reports",
               "asia SELECT weather_reports",
               "north_america UPDATE weather_reports",
               "north_america DELETE weather_locations"})
    T.eq(raw_rows(engines.north_america,
                  "SELECT id, coalesce(location_id, -1) FROM weather_reports"),
         {{1, -1}})
    T.eq(raw_rows(engines.asia, "SELECT city FROM weather_locations"),
         {{"Kyoto"}})
    -- (each shard's rows in order, the shards one after the other)
    T.eq(cities(s:scalars(select(W):order_by(W.city)):all()),
         {"Toronto", "Kyoto"})
  end)

  T.test(name .. ": merge() and loader options on shards", function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    clear(log)
    local locs = s:scalars(select(W):options(orm.selectinload(W.reports))
                             :order_by(W.id)):all()
    T.eq(cities(locs), {"New York", "Toronto", "Tokyo"})
    -- each shard's selectin load goes to execute_chooser's shards, both
    -- (as 1.4 sends it)
    T.eq(log, {"north_america SELECT weather_locations",
               "asia SELECT weather_locations",
               "north_america SELECT weather_reports",
               "asia SELECT weather_reports",
               "north_america SELECT weather_reports",
               "asia SELECT weather_reports"})
    T.eq({#locs[1].reports, #locs[2].reports, #locs[3].reports}, {1, 0, 1})
    T.eq(orm.inspect(locs[3].reports[1]).identity_token, "asia")
    s:close()
    local joined = s:scalars(select(W):options(orm.joinedload(W.reports))
                               :order_by(W.id)):unique():all()
    T.eq(joined[3].reports[1].temperature, 80.0)
    T.eq(joined[1].reports[1].temperature, 75.0)
    s:close()
    -- a detached object merged back: its counterpart is found on its own
    -- shard, as are those of the reports the merge cascades to (report
    -- 1 is on both shards)
    local tokyo = joined[3]
    tokyo.city = "Kyoto"
    local begun = {}
    orm.event.listen(s, "after_begin", function(sess, _, conn)
      begun[#begun + 1] = sess == s and conn ~= nil
    end)
    local m = s:merge(tokyo)
    T.ok(m ~= tokyo and orm.inspect(m).persistent)
    T.eq({m.city, orm.inspect(m).identity_token}, {"Kyoto", "asia"})
    T.eq(orm.inspect(m.reports[1]).identity_token, "asia")
    clear(log)
    s:commit()
    T.eq(log, {"asia UPDATE weather_locations"})
    -- one transaction begun per shard used
    T.eq(begun, {true})
    T.eq(raw_rows(engines.asia, "SELECT city FROM weather_locations"),
         {{"Kyoto"}})
  end)

  T.test(name .. ": a bulk UPDATE runs on each chosen shard", function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    local tokyo = s:get(W, 1)
    T.eq(tokyo.city, "Tokyo")
    clear(log)
    local r = s:execute(sa.update(W):where(W.id:gt(0))
                          :values{city = W.city .. "!"})
    T.eq(r.rowcount, 3)
    T.eq(log, {"north_america UPDATE weather_locations",
               "asia UPDATE weather_locations"})
    T.eq(tokyo.city, "Tokyo!")
    s:commit()
    T.eq(raw_rows(engines.north_america,
                  "SELECT city FROM weather_locations ORDER BY id"),
         {{"New York!"}, {"Toronto!"}})
  end)

  T.test(name .. ": commit and rollback reach every shard", function()
    fresh()
    local W, R = M.WeatherLocation, M.Report
    local s <close> = S()
    local osaka = W{id = 9, continent = "Asia", city = "Osaka"}
    local boston = W{id = 10, continent = "North America", city = "Boston"}
    s:add_all{osaka, boston}
    s:flush()
    T.eq(orm.inspect(osaka).identity_key, {W, {9}, "asia"})
    T.ok(s:get(W, 10) == boston)
    s:rollback()
    T.ok(orm.inspect(osaka).transient and orm.inspect(boston).transient)
    T.eq(orm.inspect(osaka).identity_token, "asia")
    T.eq(s:get(W, 9), nil)
    T.eq(raw_rows(engines.asia, "SELECT count(*) FROM weather_locations"),
         {{1}})
    T.eq(raw_rows(engines.north_america,
                  "SELECT count(*) FROM weather_locations"), {{2}})
    -- added again: each on its shard, committed on both
    local lima = W{id = 11, continent = "North America", city = "Lima"}
    lima.reports:append(R{temperature = 20})
    s:add_all{osaka, lima}
    s:commit()
    T.eq(raw_rows(engines.asia, "SELECT count(*) FROM weather_locations"),
         {{2}})
    T.eq(raw_rows(engines.north_america,
                  "SELECT id, temperature FROM weather_reports ORDER BY id"),
         {{1, 75.0}, {2, 20.0}})
    -- a failed flush rolls back every shard's transaction
    local dup = W{id = 1, continent = "Asia", city = "Again"}
    s:add(W{id = 12, continent = "North America", city = "Denver"})
    s:add(dup)
    T.eq(kind_of(function() s:commit() end), "IntegrityError")
    s:rollback()
    T.eq(raw_rows(engines.north_america,
                  "SELECT count(*) FROM weather_locations WHERE id = 12"),
         {{0}})
    T.eq(cities(s:scalars(select(W):order_by(W.id)):all()),
         {"New York", "Toronto", "Lima", "Tokyo", "Osaka"})
  end)

  T.test(name .. ": a session over engines: connection() and get_bind()",
         function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    local c = s:connection{shard_id = "asia"}
    T.eq(c:execute(text("SELECT city FROM weather_locations")):all()[1][1],
         "Tokyo")
    T.ok(s:get_bind{shard_id = "north_america"} == engines.north_america)
    T.ok(s:get_bind{instance = W{continent = "Asia", city = "x"}} ==
         engines.asia)
    T.eq(kind_of(function() s:connection():execute(select(W)) end),
         "InvalidRequestError")
  end)

  -- (checked against SQLAlchemy's semantics; 1.4 over pysqlite cannot
  -- roll back to a savepoint without its SQLite workaround)
  T.test(name .. ": begin_nested makes a savepoint on every shard",
         function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    local t = s:get(W, 1)
    t.city = "Kyoto"
    clear(log)
    local sp = s:begin_nested()
    -- the change before it is flushed first, on asia
    T.eq(log, {"asia UPDATE weather_locations"})
    local boston = W{id = 10, continent = "North America", city = "Boston"}
    local osaka = W{id = 11, continent = "Asia", city = "Osaka"}
    s:add_all{boston, osaka}
    s:flush()
    sp:rollback()
    T.ok(orm.inspect(boston).transient and orm.inspect(osaka).transient)
    T.eq(t.city, "Kyoto")
    s:begin_nested(function(sess)
      sess:add(W{id = 12, continent = "North America", city = "Denver"})
    end)
    s:commit()
    T.eq(raw_rows(engines.north_america,
                  "SELECT id FROM weather_locations ORDER BY id"),
         {{2}, {3}, {12}})
    T.eq(raw_rows(engines.asia, "SELECT id, city FROM weather_locations"),
         {{1, "Kyoto"}})
  end)

  T.test(name .. ": a shard chooser's unknown shard is an error", function()
    fresh()
    local W = M.WeatherLocation
    local s <close> = S()
    s:add(W{id = 20, continent = "Europe", city = "London"})
    T.eq(kind_of(function() s:flush() end), "InvalidRequestError")
    s:rollback()
    local s2 <close> = S{execute_chooser = function() return {"mars"} end}
    T.eq(kind_of(function() s2:scalars(select(W)):all() end),
         "InvalidRequestError")
  end)

  -- (SQLAlchemy 1.4 asks shard_chooser(mapper, nil) where association
  -- rows go; here they go to the shard of the parent side's object)
  T.test(name .. ": many-to-many rows on the parent's shard", function()
    local Base = orm.declarative_base()
    local assoc = Table("shard_post_tag", Base.metadata,
      Column("post_id", Integer, ForeignKey("shard_post.id"),
             {primary_key = true}),
      Column("tag_id", Integer, ForeignKey("shard_tag.id"),
             {primary_key = true}))
    local Post = Base:class "Post" {
      __tablename__ = "shard_post",
      id = Column(Integer, {primary_key = true}),
      region = Column(String(10)),
      tags = orm.relationship("Tag", {secondary = assoc, order_by = "Tag.id"}),
    }
    local Tag = Base:class "Tag" {
      __tablename__ = "shard_tag",
      id = Column(Integer, {primary_key = true}),
      region = Column(String(10)),
      name = Column(String(10)),
    }
    local es = {a = create_engine(na_url), b = create_engine(asia_url)}
    for _, e in pairs(es) do
      Base.metadata:drop_all(e)
      Base.metadata:create_all(e)
    end
    local s <close> = hs.ShardedSession{shards = es,
      shard_chooser = function(_, obj) return obj.region end,
      id_chooser = function() return {"a", "b"} end,
      -- a lazy load on the parent's shard (SQLAlchemy's example's rule)
      execute_chooser = function(ctx)
        if ctx.lazy_loaded_from then
          return {ctx.lazy_loaded_from.identity_token}
        end
        return {"a", "b"}
      end}
    s:add_all{
      Post{id = 1, region = "a", tags = {Tag{id = 1, region = "a", name = "x"},
                                         Tag{id = 2, region = "a", name = "y"}}},
      Post{id = 1, region = "b", tags = {Tag{id = 1, region = "b", name = "z"}}}}
    s:commit()
    local q = "SELECT post_id, tag_id FROM shard_post_tag ORDER BY tag_id"
    T.eq(raw_rows(es.a, q), {{1, 1}, {1, 2}})
    T.eq(raw_rows(es.b, q), {{1, 1}})
    s:close()
    local names = {}
    for _, p in ipairs(s:scalars(select(Post)):all()) do
      local t = {}
      for i, tag in ipairs(p.tags) do t[i] = tag.name end
      names[p.region] = t
    end
    T.eq(names, {a = {"x", "y"}, b = {"z"}})
    local p = s:get(Post, 1, {identity_token = "a"})
    T.eq(p.region, "a")
    p.tags:remove(p.tags[1])
    s:commit()
    T.eq(raw_rows(es.a, q), {{1, 2}})
    T.eq(raw_rows(es.b, q), {{1, 1}})
    s:close()
    for _, e in pairs(es) do
      Base.metadata:drop_all(e)
      e:dispose()
    end
  end)

  if engines then
    for _, e in pairs(engines) do
      M.Base.metadata:drop_all(e)
      e:dispose()
    end
  end
end

T.test("ShardedSession arguments", function()
  local f = function() return {"a"} end
  local e = create_engine("sqlite://")
  T.eq(kind_of(function()
    hs.ShardedSession{shards = {a = e}, id_chooser = f, execute_chooser = f}
  end), "ArgumentError")
  T.eq(kind_of(function()
    hs.ShardedSession{shards = {a = e}, shard_chooser = f,
                      execute_chooser = f}
  end), "ArgumentError")
  T.eq(kind_of(function()
    hs.ShardedSession{shards = {a = e}, shard_chooser = f, id_chooser = f,
                      execute_chooser = f, query_chooser = f}
  end), "ArgumentError")
  T.eq(kind_of(function() hs.ShardedSession("x") end), "ArgumentError")
  local s = hs.ShardedSession{shards = {a = e}, shard_chooser = f,
                              id_chooser = f, query_chooser = f}
  s:bind_shard("b", e)
  T.ok(s:get_bind{shard_id = "b"} == e)
  s:close()
end)

-- two SQLite files
local dir = os.tmpname()
os.remove(dir)
local na_file, asia_file = dir .. "-na.db", dir .. "-asia.db"
run_suite("sqlite", "sqlite:///" .. na_file, "sqlite:///" .. asia_file)
os.remove(na_file)
os.remove(asia_file)

-- two PostgreSQL databases: the test server's and one made here
local pg = os.getenv("RETORT_TEST_PG")
if pg and pg ~= "" then
  local admin = create_engine(pg)
  local function admin_sql(sql)
    local c <close> = admin:connect()
    c:execution_options{isolation_level = "AUTOCOMMIT"}
    c:exec_driver_sql(sql)
  end
  admin_sql("DROP DATABASE IF EXISTS retort_shard2")
  admin_sql("CREATE DATABASE retort_shard2")
  local second = pg:gsub("/retort_test", "/retort_shard2", 1)
  run_suite("postgresql", pg, second)
  admin_sql("DROP DATABASE retort_shard2")
  admin:dispose()
else
  T.skip("postgresql", "RETORT_TEST_PG is not set")
end

-- and two MariaDB databases
local my = os.getenv("RETORT_TEST_MYSQL")
if my and my ~= "" then
  local admin = create_engine(my)
  local function admin_sql(sql)
    local c <close> = admin:connect()
    c:exec_driver_sql(sql)
  end
  admin_sql("DROP DATABASE IF EXISTS retort_shard2")
  admin_sql("CREATE DATABASE retort_shard2")
  local second = my:gsub("/retort_test", "/retort_shard2", 1)
  run_suite("mysql", my, second)
  admin_sql("DROP DATABASE retort_shard2")
  admin:dispose()
else
  T.skip("mysql", "RETORT_TEST_MYSQL is not set")
end

T.done()
