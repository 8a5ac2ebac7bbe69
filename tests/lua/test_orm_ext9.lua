-- Issue 9's remaining behaviours, each checked against SQLAlchemy 1.4
-- running the same steps: horizontal sharding's lazy loads, get() and
-- dynamic relationships going through the choosers as 1.4's
-- ShardedSession sends them (with the execution state it gives them),
-- relationships between joined-inheritance subclasses named by string
-- foreign_keys, and ordering_list numbering an assigned list.  Sharding
-- runs over two SQLite files and, with RETORT_TEST_PG / RETORT_TEST_MYSQL,
-- over two PostgreSQL and two MariaDB databases; the rest on every test
-- database.
local T = require "testing"
local hs = orm.ext.horizontal_shard
local relationship = orm.relationship

local function kind_of(fn)
  local ok, err = pcall(fn)
  T.ok(not ok, "an error was expected")
  return type(err) == "table" and err.kind or tostring(err)
end

-- PostgreSQL's placeholders are $n, the others' ?; MySQL's dialect
-- writes INNER JOIN
local function norm(sql)
  return (sql:gsub("%$%d+", "?"):gsub("INNER JOIN", "JOIN"):gsub("\n", ""))
end

------------------------------------------------------------------------
-- horizontal sharding
------------------------------------------------------------------------

local function shard_schema()
  local Base = orm.declarative_base()
  local W = Base:class "WeatherLocation" {
    __tablename__ = "x9_locations",
    id = Column(Integer, {primary_key = true}),
    continent = Column(String(30), {nullable = false}),
    city = Column(String(50), {nullable = false}),
    reports = relationship("Report", {backref = "location"}),
    dreports = relationship("Report", {lazy = "dynamic", viewonly = true,
                                       order_by = "Report.id"}),
  }
  local R = Base:class "Report" {
    __tablename__ = "x9_reports",
    id = Column(Integer, {primary_key = true}),
    location_id = Column(Integer, ForeignKey("x9_locations.id")),
    temperature = Column(Float),
  }
  return Base, W, R
end

local shard_lookup = {["North America"] = "north_america", Asia = "asia"}

-- "<shard> <VERB> <table>" of each statement
local function statement_log(engines)
  local log = {}
  for shard, e in pairs(engines) do
    orm.event.listen(e, "before_cursor_execute", function(_, _, sql)
      local verb = sql:match("^%s*(%u+)")
      if verb == "SAVEPOINT" or verb == "RELEASE" then return end
      log[#log + 1] = shard .. " " .. verb .. " " ..
                      (sql:match("x9_%a+") or "?")
    end)
  end
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

local function shard_suite(name, na_url, asia_url)
  local Base, W, R = shard_schema()
  local engines = {north_america = create_engine(na_url),
                   asia = create_engine(asia_url)}
  for _, e in pairs(engines) do
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
  end
  local log = statement_log(engines)
  local function shard_chooser(mapper, obj)
    if obj.__class__ == W then return shard_lookup[obj.continent] end
    return shard_chooser(mapper, obj.location)
  end
  -- what the choosers were given
  local ctxs, ids = {}, {}
  local narrow = false -- execute_chooser keeps lazy loads on the parent's
  local S = orm.sessionmaker{class_ = hs.ShardedSession, shards = engines}
  S:configure{
    shard_chooser = shard_chooser,
    id_chooser = function(q, ident)
      ids[#ids + 1] = {q.lazy_loaded_from, ident}
      return {"north_america", "asia"}
    end,
    execute_chooser = function(ctx)
      ctxs[#ctxs + 1] = ctx
      if narrow and ctx.lazy_loaded_from then
        return {ctx.lazy_loaded_from.identity_token}
      end
      return {"north_america", "asia"}
    end,
  }
  do
    local s <close> = S()
    local tokyo = W{id = 1, continent = "Asia", city = "Tokyo"}
    local newyork = W{id = 2, continent = "North America", city = "New York"}
    tokyo.reports:append(R{temperature = 80.0})
    tokyo.reports:append(R{temperature = 60.0})
    newyork.reports:append(R{temperature = 75.0})
    s:add_all{tokyo, newyork}
    s:commit()
  end
  local function reset() clear(log); clear(ctxs); clear(ids) end

  T.test(name .. ": get() -- id_chooser for the identity maps, " ..
         "execute_chooser for the SELECT", function()
    local s <close> = S()
    reset()
    local t = s:get(W, 1)
    T.eq({t.city, orm.inspect(t).identity_token}, {"Tokyo", "asia"})
    T.eq(log, {"north_america SELECT x9_locations", "asia SELECT x9_locations"})
    T.eq(#ids, 1)
    T.eq(ids[1][1], nil)
    T.eq(ids[1][2], {1})
    T.eq(#ctxs, 1)
    local c = ctxs[1]
    T.ok(c.session == s and c.is_select and not c.is_update)
    T.ok(c.is_orm_statement and not c.is_relationship_load)
    T.ok(not c.is_column_load and c.lazy_loaded_from == nil)
    T.ok(c.bind_mapper == orm.inspect(W))
    T.ok(c.bind_arguments.mapper == orm.inspect(W))
    T.ok(c.bind_arguments.clause == c.statement)
    T.eq(#c.all_mappers, 1)
    T.eq(c.load_options.lazy_loaded_from, nil)
    T.eq(norm(tostring(c.statement)),
         "SELECT x9_locations.id, x9_locations.continent, " ..
         "x9_locations.city FROM x9_locations WHERE x9_locations.id = :pk_1")
    T.eq(c.parameters, {pk_1 = 1})
    -- the statement's comparisons, for a chooser that narrows
    local cmp = hs.select_comparisons(c.statement)
    T.eq(#cmp, 1)
    T.ok(cmp[1].column == W.id)
    T.eq({cmp[1].operator, cmp[1].value}, {"eq", 1})
    -- in the identity map: no SQL, no execute_chooser
    reset()
    T.ok(s:get(W, 1) == t)
    T.eq({#log, #ctxs, #ids}, {0, 0, 1})
    -- an identity on two shards: both rows come back, one too many
    T.eq(kind_of(function() s:get(R, 1) end), "MultipleResultsFound")
    T.eq(s:get(R, 1, {identity_token = "north_america"}).temperature, 75.0)
    T.eq(s:get(W, 99), nil)
  end)

  T.test(name .. ": a lazy collection runs on execute_chooser's shards, " ..
         "given lazy_loaded_from", function()
    local s <close> = S()
    local tokyo = s:get(W, 1)
    reset()
    local reps = tokyo.reports
    T.eq(log, {"north_america SELECT x9_reports", "asia SELECT x9_reports"})
    T.eq(#reps, 2)
    T.eq({reps[1].temperature, reps[2].temperature}, {80.0, 60.0})
    T.eq(orm.inspect(reps[1]).identity_token, "asia")
    T.eq(#ctxs, 1)
    local c = ctxs[1]
    T.ok(c.lazy_loaded_from.object == tokyo)
    T.eq(c.lazy_loaded_from.identity_token, "asia")
    T.ok(c.load_options.lazy_loaded_from.object == tokyo)
    T.ok(c.is_select and c.is_relationship_load and c.is_orm_statement)
    T.ok(c.bind_mapper == orm.inspect(R))
    T.eq(norm(tostring(c.statement)),
         "SELECT x9_reports.id, x9_reports.location_id, " ..
         "x9_reports.temperature FROM x9_reports WHERE :param_1 = " ..
         "x9_reports.location_id")
    -- loaded: no SQL the second time
    reset()
    T.eq(#tokyo.reports, 2)
    T.eq(log, {})
    -- a chooser that keeps the load on the parent's shard
    narrow = true
    s:expire(tokyo, {"reports"})
    reset()
    T.eq(#tokyo.reports, 2)
    T.eq(log, {"asia SELECT x9_reports"})
    narrow = false
  end)

  T.test(name .. ": a lazy many-to-one -- the identity maps of " ..
         "id_chooser's shards, then execute_chooser's", function()
    local s <close> = S()
    local tokyo = s:get(W, 1)
    local rep = tokyo.reports[1]
    s:expire(rep, {"location"})
    reset()
    T.ok(rep.location == tokyo)
    T.eq(log, {})
    T.eq(#ctxs, 0)
    T.eq(#ids, 1)
    T.ok(ids[1][1].object == rep)
    T.eq(ids[1][2], {1})
    -- not in any identity map: the SELECT by key, on the chooser's shards
    s:expunge(tokyo)
    s:expire(rep, {"location"})
    reset()
    local loc = rep.location
    T.eq({loc.city, orm.inspect(loc).identity_token}, {"Tokyo", "asia"})
    T.ok(loc ~= tokyo)
    T.eq(log, {"north_america SELECT x9_locations",
               "asia SELECT x9_locations"})
    T.ok(ids[1][1].object == rep)
    T.eq(#ctxs, 1)
    T.ok(ctxs[1].lazy_loaded_from.object == rep)
    T.ok(ctxs[1].is_relationship_load)
    T.ok(ctxs[1].bind_mapper == orm.inspect(W))
    -- an expired column loads on the object's own shard, no chooser
    s:expire(loc, {"city"})
    reset()
    T.eq(loc.city, "Tokyo")
    T.eq(log, {"asia SELECT x9_locations"})
    T.eq({#ctxs, #ids}, {0, 0})
  end)

  T.test(name .. ": a dynamic relationship queries execute_chooser's " ..
         "shards", function()
    local s <close> = S()
    local tokyo = s:get(W, 1)
    reset()
    local q = tokyo.dreports
    local all = q:all()
    T.eq({all[1].temperature, all[2].temperature}, {80.0, 60.0})
    T.eq(orm.inspect(all[1]).identity_token, "asia")
    T.eq(log, {"north_america SELECT x9_reports", "asia SELECT x9_reports"})
    -- (a dynamic query is a Query of the session: no lazy_loaded_from)
    T.eq(#ctxs, 1)
    T.eq(ctxs[1].lazy_loaded_from, nil)
    T.ok(ctxs[1].bind_mapper == orm.inspect(R))
    -- the same objects as the identity map's
    T.ok(all[1] == tokyo.reports[1])
    reset()
    local hot = q:filter(R.temperature:gt(70)):all()
    T.eq(#hot, 1)
    T.eq(hot[1].temperature, 80.0)
    T.eq(log, {"north_america SELECT x9_reports", "asia SELECT x9_reports"})
    -- count(): one row per shard, where Query.count reads one
    T.eq(kind_of(function() return q:count() end), "MultipleResultsFound")
    narrow = true
    local s2 <close> = S{execute_chooser = function() return {"asia"} end}
    local t2 = s2:get(W, 1)
    T.eq(t2.dreports:count(), 2)
    T.eq(t2.dreports[2].temperature, 60.0)
    narrow = false
  end)

  T.test(name .. ": a bulk UPDATE's execution state", function()
    local s <close> = S()
    reset()
    local r = s:execute(sa.update(R):where(R.temperature:gt(100))
                          :values{temperature = 0}
                          :execution_options{synchronize_session = "fetch"})
    T.eq(r.rowcount, 0)
    T.eq(#ctxs, 1)
    local c = ctxs[1]
    T.ok(c.is_update and not c.is_select and not c.is_delete)
    T.ok(c.bind_mapper == orm.inspect(R))
    T.eq(c.load_options, nil)
    T.eq(c.update_delete_options.synchronize_session, "fetch")
    T.eq(c.execution_options.synchronize_session, "fetch")
    -- a shard named: no chooser
    reset()
    s:execute(select(W), nil, {bind_arguments = {shard_id = "asia"}})
    T.eq(#ctxs, 0)
    T.eq(log, {"asia SELECT x9_locations"})
  end)

  T.test(name .. ": a dynamic relationship written in a sharded session",
         function()
    local B2 = orm.declarative_base()
    local L = B2:class "DLoc" {
      __tablename__ = "x9_dloc",
      id = Column(Integer, {primary_key = true}),
      region = Column(String(20)),
      items = relationship("DItem", {lazy = "dynamic", backref = "loc",
                                     order_by = "DItem.id"}),
    }
    local Item = B2:class "DItem" {
      __tablename__ = "x9_ditem",
      id = Column(Integer, {primary_key = true}),
      loc_id = Column(Integer, ForeignKey("x9_dloc.id")),
      v = Column(Integer),
    }
    for _, e in pairs(engines) do
      B2.metadata:drop_all(e)
      B2.metadata:create_all(e)
    end
    local function chooser(m, obj)
      if obj.__class__ == L then return obj.region end
      return chooser(m, obj.loc)
    end
    local s <close> = hs.ShardedSession{shards = engines,
      shard_chooser = chooser,
      id_chooser = function() return {"north_america", "asia"} end,
      execute_chooser = function() return {"north_america", "asia"} end}
    local a = L{id = 1, region = "north_america"}
    local b = L{id = 2, region = "asia"}
    s:add_all{a, b}
    a.items:append(Item{v = 1})
    b.items:append(Item{v = 2})
    b.items:append(Item{v = 3})
    s:commit()
    local function vals(list)
      local out = {}
      for i, x in ipairs(list) do out[i] = x.v end
      return out
    end
    T.eq(vals(a.items:all()), {1})
    T.eq(vals(b.items:all()), {2, 3})
    local function rows(e)
      local c <close> = e:connect()
      local out = {}
      for _, r in ipairs(c:execute(text(
        "SELECT coalesce(loc_id, -1), v FROM x9_ditem ORDER BY v")):all()) do
        out[#out + 1] = {r[1], r[2]}
      end
      return out
    end
    T.eq(rows(engines.north_america), {{1, 1}})
    T.eq(rows(engines.asia), {{2, 2}, {2, 3}})
    -- removed from the collection: its key set to NULL on its shard
    b.items:remove(b.items:all()[1])
    s:commit()
    T.eq(vals(b.items:all()), {3})
    T.eq(rows(engines.asia), {{-1, 2}, {2, 3}})
    s:close()
    for _, e in pairs(engines) do B2.metadata:drop_all(e) end
  end)

  for _, e in pairs(engines) do
    Base.metadata:drop_all(e)
    e:dispose()
  end
end

T.test("ShardedSession: twophase is refused, not ignored", function()
  local e = create_engine("sqlite://")
  local f = function() return {"a"} end
  T.eq(kind_of(function()
    hs.ShardedSession{shards = {a = e}, shard_chooser = f, id_chooser = f,
                      execute_chooser = f, twophase = true}
  end), "ArgumentError")
  e:dispose()
end)

do
  local dir = os.tmpname()
  os.remove(dir)
  local na_file, asia_file = dir .. "-na.db", dir .. "-asia.db"
  shard_suite("sqlite", "sqlite:///" .. na_file, "sqlite:///" .. asia_file)
  os.remove(na_file)
  os.remove(asia_file)
end

-- a second database on a server: made, used, dropped
local function with_second(env, name, autocommit)
  local url = os.getenv(env)
  if not url or url == "" then
    T.skip(name .. " sharding", env .. " is not set")
    return
  end
  local admin = create_engine(url)
  local function admin_sql(sql)
    local c <close> = admin:connect()
    if autocommit then c:execution_options{isolation_level = "AUTOCOMMIT"} end
    c:exec_driver_sql(sql)
  end
  admin_sql("DROP DATABASE IF EXISTS retort_x9_shard2")
  admin_sql("CREATE DATABASE retort_x9_shard2")
  shard_suite(name, url, (url:gsub("/retort_test", "/retort_x9_shard2", 1)))
  admin_sql("DROP DATABASE retort_x9_shard2")
  admin:dispose()
end
with_second("RETORT_TEST_PG", "postgresql", true)
with_second("RETORT_TEST_MYSQL", "mysql", false)

------------------------------------------------------------------------
-- joined inheritance: relationships between subclasses
------------------------------------------------------------------------

local function subclass_schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Company = Base:class "Company" {
    __tablename__ = "x9_companies",
    company_id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    employees = relationship("Employee", {back_populates = "company",
                                          order_by = "Employee.employee_id"}),
    engineers = relationship("Engineer", {viewonly = true}),
    managers = relationship("Manager", {viewonly = true}),
  }
  M.Employee = Base:class "Employee" {
    __tablename__ = "x9_employees",
    employee_id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    type = Column(String(30), {nullable = false}),
    company_id = Column(ForeignKey("x9_companies.company_id")),
    company = relationship("Company", {back_populates = "employees"}),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
  }
  -- engineers refer to employees twice (the key, the mentor's manager
  -- row): foreign_keys, given as SQLAlchemy's strings, tells them apart
  M.Engineer = M.Employee:class "Engineer" {
    __tablename__ = "x9_engineers",
    employee_id = Column(Integer, ForeignKey("x9_employees.employee_id"),
                         {primary_key = true}),
    engineer_info = Column(String(50)),
    mentor_id = Column(ForeignKey("x9_managers.employee_id")),
    mentor = relationship("Manager", {foreign_keys = "Engineer.mentor_id",
                                      back_populates = "mentees"}),
    __mapper_args__ = {polymorphic_identity = "engineer"},
  }
  M.Manager = M.Employee:class "Manager" {
    __tablename__ = "x9_managers",
    employee_id = Column(Integer, ForeignKey("x9_employees.employee_id"),
                         {primary_key = true}),
    manager_data = Column(String(50)),
    mentees = relationship("Engineer", {foreign_keys = "[Engineer.mentor_id]",
                                        back_populates = "mentor"}),
    __mapper_args__ = {polymorphic_identity = "manager"},
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local M = subclass_schema()
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute", function(_, _, sql, p)
    log[#log + 1] = {norm(sql), p}
  end)

  T.test(pfx .. "relationships between joined subclasses", function()
    local s <close> = orm.Session(engine)
    local c = M.Company{name = "c1"}
    local m = M.Manager{name = "m1", manager_data = "md", company = c}
    local g = M.Engineer{name = "g1", engineer_info = "gi", company = c,
                         mentor = m}
    s:add_all{c, m, g, M.Employee{name = "e1", company = c}}
    s:commit()
    T.eq(g.mentor_id, m.employee_id)
    s:close()
    c = s:get(M.Company, 1)
    clear(log)
    local engs = c.engineers
    T.eq(#engs, 1)
    T.eq({engs[1].__class__.__name__, engs[1].name}, {"Engineer", "g1"})
    -- SQLAlchemy's lazy load of a subclass: its columns labelled
    T.eq(log[1][1],
      "SELECT x9_engineers.employee_id AS x9_engineers_employee_id, " ..
      "x9_employees.employee_id AS x9_employees_employee_id, " ..
      "x9_employees.name AS x9_employees_name, x9_employees.type AS " ..
      "x9_employees_type, x9_employees.company_id AS " ..
      "x9_employees_company_id, x9_engineers.engineer_info AS " ..
      "x9_engineers_engineer_info, x9_engineers.mentor_id AS " ..
      "x9_engineers_mentor_id FROM x9_employees JOIN x9_engineers ON " ..
      "x9_employees.employee_id = x9_engineers.employee_id WHERE ? = " ..
      "x9_employees.company_id")
    T.eq(log[1][2], {1})
    clear(log)
    local mgr = c.managers[1]
    T.eq(mgr.manager_data, "md")
    T.eq(#mgr.mentees, 1)
    T.ok(mgr.mentees[1] == engs[1])
    T.eq(log[2][1],
      "SELECT x9_engineers.employee_id AS x9_engineers_employee_id, " ..
      "x9_employees.employee_id AS x9_employees_employee_id, " ..
      "x9_employees.name AS x9_employees_name, x9_employees.type AS " ..
      "x9_employees_type, x9_employees.company_id AS " ..
      "x9_employees_company_id, x9_engineers.engineer_info AS " ..
      "x9_engineers_engineer_info, x9_engineers.mentor_id AS " ..
      "x9_engineers_mentor_id FROM x9_employees JOIN x9_engineers ON " ..
      "x9_employees.employee_id = x9_engineers.employee_id WHERE ? = " ..
      "x9_engineers.mentor_id")
    T.ok(engs[1].mentor == mgr)
    s:close()
    -- joinedload of a subclass's many-to-one to another subclass
    clear(log)
    local rows = s:scalars(select(M.Engineer)
                             :options(orm.joinedload(M.Engineer.mentor)))
                  :all()
    T.eq(#log, 1)
    T.eq(log[1][1],
      "SELECT x9_engineers.employee_id, x9_employees.employee_id AS " ..
      "employee_id_1, x9_employees.name, x9_employees.type, " ..
      "x9_employees.company_id, x9_engineers.engineer_info, " ..
      "x9_engineers.mentor_id, x9_managers_1.employee_id AS " ..
      "employee_id_2, x9_employees_1.employee_id AS employee_id_3, " ..
      "x9_employees_1.name AS name_1, x9_employees_1.type AS type_1, " ..
      "x9_employees_1.company_id AS company_id_1, " ..
      "x9_managers_1.manager_data FROM x9_employees JOIN x9_engineers ON " ..
      "x9_employees.employee_id = x9_engineers.employee_id LEFT OUTER " ..
      "JOIN (x9_employees AS x9_employees_1 JOIN x9_managers AS " ..
      "x9_managers_1 ON x9_employees_1.employee_id = " ..
      "x9_managers_1.employee_id) ON x9_managers_1.employee_id = " ..
      "x9_engineers.mentor_id")
    T.eq({rows[1].name, rows[1].mentor.name}, {"g1", "m1"})
    T.eq(#log, 1)
    s:close()
    -- with_polymorphic "*": each subclass table joined on its inherit
    -- condition, not on the engineers' foreign key to managers
    local wp = orm.with_polymorphic(M.Employee, "*")
    T.eq(norm(tostring(select(wp))),
      "SELECT x9_employees.employee_id, x9_employees.name, " ..
      "x9_employees.type, x9_employees.company_id, x9_engineers.employee_id" ..
      " AS employee_id_1, x9_engineers.engineer_info, " ..
      "x9_engineers.mentor_id, x9_managers.employee_id AS employee_id_2, " ..
      "x9_managers.manager_data FROM x9_employees LEFT OUTER JOIN " ..
      "x9_engineers ON x9_employees.employee_id = x9_engineers.employee_id" ..
      " LEFT OUTER JOIN x9_managers ON x9_employees.employee_id = " ..
      "x9_managers.employee_id")
    -- flat: each table aliased, joined on the aliased inherit condition
    local wpf = orm.with_polymorphic(M.Employee, {M.Engineer}, {flat = true})
    T.eq(norm(tostring(select(wpf))),
      "SELECT x9_employees_1.employee_id, x9_employees_1.name, " ..
      "x9_employees_1.type, x9_employees_1.company_id, " ..
      "x9_engineers_1.employee_id AS employee_id_1, " ..
      "x9_engineers_1.engineer_info, x9_engineers_1.mentor_id FROM " ..
      "x9_employees AS x9_employees_1 LEFT OUTER JOIN x9_engineers AS " ..
      "x9_engineers_1 ON x9_employees_1.employee_id = " ..
      "x9_engineers_1.employee_id")
    -- of_type(with_polymorphic): the join and any() reach the subclass
    -- tables outer joined
    local wpe = orm.with_polymorphic(M.Employee, {M.Engineer})
    local jq = select(M.Company):join(M.Company.employees:of_type(wpe))
      :where(wpe.Engineer.engineer_info:eq("gi"))
    T.eq(norm(tostring(jq)),
      "SELECT x9_companies.company_id, x9_companies.name FROM " ..
      "x9_companies JOIN (x9_employees LEFT OUTER JOIN x9_engineers ON " ..
      "x9_employees.employee_id = x9_engineers.employee_id) ON " ..
      "x9_companies.company_id = x9_employees.company_id WHERE " ..
      "x9_engineers.engineer_info = :engineer_info_1")
    T.eq(#s:scalars(jq):all(), 1)
    local aq = select(M.Company):where(M.Company.employees:of_type(wpe)
      :any(wpe.Engineer.engineer_info:eq("zz")))
    T.eq(norm(tostring(aq)),
      "SELECT x9_companies.company_id, x9_companies.name FROM " ..
      "x9_companies WHERE EXISTS (SELECT 1 FROM x9_employees LEFT OUTER " ..
      "JOIN x9_engineers ON x9_employees.employee_id = " ..
      "x9_engineers.employee_id WHERE x9_companies.company_id = " ..
      "x9_employees.company_id AND x9_engineers.engineer_info = " ..
      ":engineer_info_1)")
    T.eq(#s:scalars(aq):all(), 0)
    clear(log)
    local all = s:scalars(select(wp):order_by(wp.name)):all()
    local got = {}
    for i, x in ipairs(all) do
      got[i] = x.__class__.__name__ .. " " .. x.name .. " " ..
               tostring(x.manager_data or x.engineer_info)
    end
    T.eq(got, {"Employee e1 nil", "Engineer g1 gi", "Manager m1 md"})
    T.eq(#log, 1)
    s:close()
    -- moving a mentee: the subclass table's key column is written
    local g2 = s:get(M.Engineer, g.employee_id)
    g2.mentor = nil
    clear(log)
    s:commit()
    T.eq(log[1][1], "UPDATE x9_engineers SET mentor_id=? WHERE " ..
                    "x9_engineers.employee_id = ?")
    T.eq(log[1][2], {sa.null, g.employee_id})
  end)

  M.Base.metadata:drop_all(engine)
  engine:dispose()
end

------------------------------------------------------------------------
-- ordering_list: an assigned list is numbered
------------------------------------------------------------------------

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base = orm.declarative_base()
  local Slide = Base:class "Slide" {
    __tablename__ = "x9_slide",
    id = Column(Integer, {primary_key = true}),
    bullets = relationship("Bullet", {order_by = "Bullet.position",
      collection_class = orm.ordering_list("position")}),
    pages = relationship("Page", {order_by = "Page.num",
      collection_class = orm.ordering_list("num", {count_from = 1})}),
  }
  local Bullet = Base:class "Bullet" {
    __tablename__ = "x9_bullet",
    id = Column(Integer, {primary_key = true}),
    slide_id = Column(ForeignKey("x9_slide.id")),
    position = Column(Integer),
    text = Column(String(20)),
  }
  local Page = Base:class "Page" {
    __tablename__ = "x9_page",
    id = Column(Integer, {primary_key = true}),
    slide_id = Column(ForeignKey("x9_slide.id")),
    num = Column(Integer),
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)

  T.test(pfx .. "ordering_list numbers an assigned list", function()
    local function show(l)
      local out = {}
      for i, b in ipairs(l) do out[i] = b.text .. "=" .. tostring(b.position) end
      return table.concat(out, " ")
    end
    local s <close> = orm.Session(engine)
    local sl = Slide{bullets = {Bullet{text = "x"}, Bullet{text = "y"}}}
    T.eq(show(sl.bullets), "x=0 y=1")
    sl.bullets = {Bullet{text = "a"}, Bullet{text = "b", position = 9},
                  Bullet{text = "c"}}
    -- (a position already set is kept, as append keeps it)
    T.eq(show(sl.bullets), "a=0 b=9 c=2")
    sl.pages = {Page{}, Page{}}
    T.eq({sl.pages[1].num, sl.pages[2].num}, {1, 2})
    s:add(sl)
    s:commit()
    local id = sl.id
    local c <close> = engine:connect()
    local got = {}
    for _, r in ipairs(c:execute(text(
      "SELECT text, position FROM x9_bullet WHERE slide_id IS NOT NULL " ..
      "ORDER BY position")):all()) do
      got[#got + 1] = r[1] .. "=" .. r[2]
    end
    T.eq(got, {"a=0", "c=2", "b=9"})
    -- loaded back in position order
    s:close()
    T.eq(show(s:get(Slide, id).bullets), "a=0 c=2 b=9")
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end

------------------------------------------------------------------------
-- hybrid_property: inherited by subclasses, and in filter_by
------------------------------------------------------------------------

local function squash(sql) return (norm(sql):gsub("%s+", " ")) end

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base = orm.declarative_base()
  local I = Base:class "Interval" {
    __tablename__ = "x9_iv",
    id = Column(Integer, {primary_key = true}),
    start = Column(Integer), stop = Column(Integer),
    kind = Column(String(10)),
    __mapper_args__ = {polymorphic_on = "kind", polymorphic_identity = "i"},
    length = orm.hybrid_property(function(self)
      return self.stop - self.start
    end),
  }
  local J = I:class "Jump" {
    __tablename__ = "x9_jv",
    id = Column(ForeignKey("x9_iv.id"), {primary_key = true}),
    extra = Column(Integer),
    __mapper_args__ = {polymorphic_identity = "j"},
    double = orm.hybrid_property(function(self) return self.extra * 2 end),
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)

  T.test(pfx .. "hybrid_property of a parent class and of a subclass",
         function()
    local s <close> = orm.Session(engine)
    local j = J{start = 1, stop = 5, extra = 4}
    T.eq({j.length, j.double}, {4, 8})
    s:add_all{j, I{start = 2, stop = 3}}
    s:commit()
    T.eq(squash(tostring(select(J):filter_by{length = 4}
                                   :filter_by{extra = 4})),
         "SELECT x9_jv.id, x9_iv.id AS id_1, x9_iv.start, x9_iv.stop, " ..
         "x9_iv.kind, x9_jv.extra FROM x9_iv JOIN x9_jv ON x9_iv.id = " ..
         "x9_jv.id WHERE x9_iv.stop - x9_iv.start = :param_1 AND " ..
         "x9_jv.extra = :extra_1")
    local got = s:scalars(select(I):filter_by{length = 4}):all()
    T.eq(#got, 1)
    T.eq({got[1].__class__.__name__, got[1].length}, {"Jump", 4})
    got = s:scalars(select(J):where(J.double:gt(7))):all()
    T.eq({#got, got[1].double}, {1, 8})
    T.eq(s:query(I):filter_by{length = 1}:one().start, 2)
    T.eq(squash(tostring(select(I.length):where(I.length:gt(0)))),
         "SELECT x9_iv.stop - x9_iv.start AS length FROM x9_iv WHERE " ..
         "x9_iv.stop - x9_iv.start > :param_1")
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end

------------------------------------------------------------------------
-- ConcreteBase: _concrete_discriminator_name (seed 004)
------------------------------------------------------------------------

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base = orm.declarative_base()
  -- the tables have a column named type: the union's discriminator is
  -- given another name
  local Employee = Base:class("Employee", orm.ConcreteBase) {
    __tablename__ = "x9_c_employee",
    _concrete_discriminator_name = "_concrete_discriminator",
    employee_id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    type = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "employee", concrete = true},
  }
  local Manager = Employee:class "Manager" {
    __tablename__ = "x9_c_manager",
    employee_id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    type = Column(String(20)),
    manager_data = Column(String(40)),
    __mapper_args__ = {polymorphic_identity = "manager", concrete = true},
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)

  T.test(pfx .. "ConcreteBase with _concrete_discriminator_name", function()
    local s <close> = orm.Session(engine)
    s:add_all{Employee{name = "e", type = "full"},
              Manager{name = "m", type = "part", manager_data = "md"}}
    s:commit()
    s:close()
    if db.name == "sqlite" then
      T.eq(squash(tostring(select(Employee))),
        "SELECT pjoin.employee_id, pjoin.name, pjoin.type, " ..
        "pjoin._concrete_discriminator, pjoin.manager_data FROM (SELECT " ..
        "x9_c_employee.employee_id AS employee_id, x9_c_employee.name AS " ..
        "name, x9_c_employee.type AS type, CAST(NULL AS VARCHAR(40)) AS " ..
        "manager_data, 'employee' AS _concrete_discriminator FROM " ..
        "x9_c_employee UNION ALL SELECT x9_c_manager.employee_id AS " ..
        "employee_id, x9_c_manager.name AS name, x9_c_manager.type AS " ..
        "type, x9_c_manager.manager_data AS manager_data, 'manager' AS " ..
        "_concrete_discriminator FROM x9_c_manager) AS pjoin")
    end
    local got = {}
    for _, x in ipairs(s:scalars(select(Employee):order_by(Employee.name))
                         :all()) do
      got[#got + 1] = {x.__class__.__name__, x.name, x.type}
    end
    T.eq(got, {{"Employee", "e", "full"}, {"Manager", "m", "part"}})
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end

-- a relationship to a ConcreteBase: the union's rows, each as its class
for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base = orm.declarative_base()
  local Company = Base:class "Company" {
    __tablename__ = "x9_co",
    id = Column(Integer, {primary_key = true}),
    employees = relationship("Employee", {order_by = "Employee.name"}),
  }
  local Employee = Base:class("Employee", orm.ConcreteBase) {
    __tablename__ = "x9_ce",
    employee_id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    company_id = Column(ForeignKey("x9_co.id")),
    __mapper_args__ = {polymorphic_identity = "employee", concrete = true},
  }
  local Manager = Employee:class "Manager" {
    __tablename__ = "x9_cm",
    employee_id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    company_id = Column(ForeignKey("x9_co.id")),
    manager_data = Column(String(40)),
    __mapper_args__ = {polymorphic_identity = "manager", concrete = true},
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute", function(_, _, sql, p)
    log[#log + 1] = {squash(sql), p}
  end)

  T.test(pfx .. "a relationship to a ConcreteBase loads the union",
         function()
    local s <close> = orm.Session(engine)
    s:add_all{Company{id = 1}, Employee{name = "e", company_id = 1},
              Manager{name = "m", company_id = 1, manager_data = "x"}}
    s:commit()
    s:close()
    local c = s:get(Company, 1)
    clear(log)
    local got = {}
    for i, x in ipairs(c.employees) do
      got[i] = x.__class__.__name__ .. " " .. x.name
    end
    T.eq(got, {"Employee e", "Manager m"})
    T.eq(c.employees[2].manager_data, "x")
    T.eq(#log, 1)
    if db.name ~= "mysql" then -- (MySQL's CAST is to CHAR)
      T.eq(log[1][1],
        "SELECT pjoin.employee_id AS pjoin_employee_id, pjoin.name AS " ..
        "pjoin_name, pjoin.company_id AS pjoin_company_id, pjoin.type AS " ..
        "pjoin_type, pjoin.manager_data AS pjoin_manager_data FROM (SELECT " ..
        "x9_ce.employee_id AS employee_id, x9_ce.name AS name, " ..
        "x9_ce.company_id AS company_id, CAST(NULL AS VARCHAR(40)) AS " ..
        "manager_data, 'employee' AS type FROM x9_ce UNION ALL SELECT " ..
        "x9_cm.employee_id AS employee_id, x9_cm.name AS name, " ..
        "x9_cm.company_id AS company_id, x9_cm.manager_data AS " ..
        "manager_data, 'manager' AS type FROM x9_cm) AS pjoin WHERE ? = " ..
        "pjoin.company_id ORDER BY pjoin.name")
    end
    T.eq(log[1][2], {1})
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end

T.test("ConcreteBase: a column named as the discriminator", function()
  local Base = orm.declarative_base()
  local E2 = Base:class("E2", orm.ConcreteBase) {
    __tablename__ = "x9_e2",
    id = Column(Integer, {primary_key = true}),
    type = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "e", concrete = true},
  }
  E2:class "M2" {
    __tablename__ = "x9_m2",
    id = Column(Integer, {primary_key = true}),
    type = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "m", concrete = true},
  }
  -- (SQLAlchemy raises it when the mappers are configured; retort when
  -- the union is first needed)
  local ok, err = pcall(function() return select(E2) end)
  T.ok(not ok)
  T.eq(err.kind, "InvalidRequestError")
  T.match(err.message, "^Polymorphic union can't use 'type' as the " ..
          "discriminator column due to mapped column")
end)

-- (last: a mapping that fails to configure stops every later one, as
-- in SQLAlchemy)
T.test("foreign_keys naming an unknown attribute", function()
  local Base = orm.declarative_base()
  Base:class "A" {
    __tablename__ = "x9_a",
    id = Column(Integer, {primary_key = true}),
    bs = relationship("B", {foreign_keys = "B.nope"}),
  }
  Base:class "B" {
    __tablename__ = "x9_b",
    id = Column(Integer, {primary_key = true}),
    a_id = Column(ForeignKey("x9_a.id")),
  }
  local ok, err = pcall(function() Base.registry:configure() end)
  T.ok(not ok)
  T.eq(err.kind, "InvalidRequestError")
  T.match(err.message, "expression 'B.nope' failed to locate a name %('nope'%)")
end)

T.done()
