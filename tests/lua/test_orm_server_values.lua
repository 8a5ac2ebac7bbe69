-- Server-generated values of a joined-inheritance hierarchy (server
-- defaults, FetchedValue server_onupdate on the parent's and the child's
-- tables): which attributes a flush expires, and the SELECT that loads
-- them -- only those, from the join of the class's tables -- or, with
-- eager_defaults, reads them back at the end of the flush.  Statements,
-- their order and the object states are SQLAlchemy 1.4's for the same
-- mapping (PostgreSQL's eager_defaults, which SQLAlchemy reads with
-- RETURNING, is checked by state only).
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql)
      log[#log + 1] = sql:gsub("%s+", " "):gsub('[`"]', ""):gsub("%$%d+", "?")
    end)
  return log
end
local function take(log)
  local out = {}
  for i = 1, #log do out[i] = log[i]; log[i] = nil end
  return out
end
local function unloaded(obj)
  local t = orm.inspect(obj).unloaded
  table.sort(t)
  return t
end

local function mapping(eager)
  local Base = orm.declarative_base()
  local Emp = Base:class "Emp" {
    __tablename__ = "sv_emp",
    id = Column(Integer, {primary_key = true}),
    type = Column(String(20)),
    name = Column(String(20)),
    created = Column(Integer, {server_default = text("7")}),
    touched = Column(Integer, {server_default = text("1"),
                               server_onupdate = FetchedValue()}),
    __mapper_args__ = {polymorphic_on = "type", polymorphic_identity = "emp",
                       eager_defaults = eager},
  }
  local Mgr = Emp:class "Mgr" {
    __tablename__ = "sv_mgr",
    id = Column(ForeignKey("sv_emp.id"), {primary_key = true}),
    level = Column(Integer, {server_default = text("3")}),
    mtouched = Column(Integer, {server_default = text("2"),
                                server_onupdate = FetchedValue()}),
    dept = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "mgr", eager_defaults = eager},
  }
  return Base, Emp, Mgr
end

local INS = {"INSERT INTO sv_emp (type, name) VALUES (?, ?)",
             "INSERT INTO sv_mgr (id, dept) VALUES (?, ?)"}
local UPD_EMP = "UPDATE sv_emp SET name=? WHERE sv_emp.id = ?"
local UPD_MGR = "UPDATE sv_mgr SET dept=? WHERE sv_mgr.id = ?"

for _, db in ipairs(T.databases()) do
  -- (MySQL spells the join INNER JOIN, as SQLAlchemy's MySQL dialect)
  local JOIN = "FROM sv_emp " .. (db.name == "mysql" and "INNER " or "") ..
               "JOIN sv_mgr ON sv_emp.id = sv_mgr.id WHERE sv_emp.id = ?"
  -- body(s, Mgr, log) with the tables made, and dropped whatever happens
  -- (a failed check must not leave a transaction holding them)
  local function with_tables(eager, body)
    local Base, _, Mgr = mapping(eager)
    local e = create_engine(db.url)
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local s = orm.Session(e)
    local ok, err = pcall(body, s, Mgr, capture(e))
    s:close()
    Base.metadata:drop_all(e)
    e:dispose()
    if not ok then error(err, 0) end
  end
  local function insert_sql(log)
    -- (PostgreSQL brings the new key back with RETURNING)
    local got = take(log)
    if db.name == "postgresql" then
      got[1] = got[1]:gsub(" RETURNING sv_emp.id$", "")
    end
    return got
  end

  T.test(db.name .. ": server values expire and load from the join", function()
    with_tables(false, function(s, Mgr, log)
      local m = Mgr{name = "a", dept = "d"}
      s:add(m)
      s:flush()
      T.eq(insert_sql(log), INS)
      T.eq(unloaded(m), {"created", "level", "mtouched", "touched"})
      T.eq({m.created, m.touched, m.level, m.mtouched}, {7, 1, 3, 2})
      T.eq(take(log), {"SELECT sv_emp.created AS sv_emp_created, sv_emp.touched " ..
        "AS sv_emp_touched, sv_mgr.level AS sv_mgr_level, sv_mgr.mtouched AS " ..
        "sv_mgr_mtouched " .. JOIN})
      m.name = "b"
      s:flush()
      T.eq(take(log), {UPD_EMP})
      T.eq(unloaded(m), {"touched"})
      m.dept = "x"
      s:flush()
      T.eq(take(log), {UPD_MGR})
      T.eq(unloaded(m), {"mtouched", "touched"})
      m.name, m.dept = "c", "y"
      s:flush()
      T.eq(take(log), {UPD_EMP, UPD_MGR})
      T.eq(unloaded(m), {"mtouched", "touched"})
      T.eq({m.touched, m.mtouched}, {1, 2})
      T.eq(take(log), {"SELECT sv_emp.touched AS sv_emp_touched, " ..
        "sv_mgr.mtouched AS sv_mgr_mtouched " .. JOIN})
      -- only the subclass's table's: from that table, keyed by the parent's
      -- key value
      m.dept = "z"
      s:flush()
      T.eq(take(log), {UPD_MGR})
      T.eq(unloaded(m), {"mtouched"})
      T.eq(m.mtouched, 2)
      T.eq(take(log), {"SELECT sv_mgr.mtouched AS sv_mgr_mtouched FROM sv_mgr " ..
        "WHERE ? = sv_mgr.id"})
    end)
  end)

  T.test(db.name .. ": eager_defaults read them back in the flush", function()
    with_tables(true, function(s, Mgr, log)
      local m = Mgr{name = "a", dept = "d"}
      s:add(m)
      s:flush()
      local sql = insert_sql(log)
      T.eq(unloaded(m), {})
      T.eq({m.created, m.touched, m.level, m.mtouched}, {7, 1, 3, 2})
      if db.name ~= "postgresql" then
        T.eq(sql, {INS[1], INS[2], "SELECT sv_emp.created AS sv_emp_created, " ..
          "sv_emp.touched AS sv_emp_touched, sv_mgr.level AS sv_mgr_level, " ..
          "sv_mgr.mtouched AS sv_mgr_mtouched " .. JOIN})
      end
      m.name = "b"
      s:flush()
      sql = take(log)
      T.eq(unloaded(m), {})
      if db.name ~= "postgresql" then
        T.eq(sql, {UPD_EMP, "SELECT sv_emp.touched AS sv_emp_touched " .. JOIN})
      end
      m.dept = "x"
      s:flush()
      sql = take(log)
      T.eq(unloaded(m), {})
      if db.name ~= "postgresql" then
        T.eq(sql, {UPD_MGR, "SELECT sv_mgr.mtouched AS sv_mgr_mtouched " .. JOIN})
      end
      m.name, m.dept = "c", "y"
      s:flush()
      sql = take(log)
      T.eq(unloaded(m), {})
      if db.name ~= "postgresql" then
        T.eq(sql, {UPD_EMP, UPD_MGR, "SELECT sv_emp.touched AS sv_emp_touched, " ..
          "sv_mgr.mtouched AS sv_mgr_mtouched " .. JOIN})
      end
      T.eq({m.touched, m.mtouched}, {1, 2})
      T.eq(take(log), {})
    end)
  end)
end

T.done()
