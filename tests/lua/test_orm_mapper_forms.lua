-- The Mapper's tables, local_table, persist_selectable and selectable for
-- each inheritance form, and AbstractConcreteBase: the base mapped when
-- the mappers are configured, over the polymorphic union of its
-- subclasses' tables; queries of the base and of each subclass.  The
-- expected values, statements and rows are SQLAlchemy 1.4's for the same
-- mappings and steps; the rows on every test database.
local T = require "testing"

local function names(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t.name end
  return out
end

local function forms()
  local Base = orm.declarative_base()
  local F = {}
  F.Emp = Base:class "Emp" {
    __tablename__ = "mf_emp",
    id = Column(Integer, {primary_key = true}),
    type = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "type", polymorphic_identity = "emp"},
  }
  F.Eng = F.Emp:class "Eng" {
    __tablename__ = "mf_eng",
    id = Column(Integer, ForeignKey("mf_emp.id"), {primary_key = true}),
    __mapper_args__ = {polymorphic_identity = "eng"},
  }
  F.SEng = F.Eng:class "SEng" {
    __tablename__ = "mf_seng",
    id = Column(Integer, ForeignKey("mf_eng.id"), {primary_key = true}),
    __mapper_args__ = {polymorphic_identity = "seng"},
  }
  F.SSEng = F.SEng:class "SSEng" {
    __tablename__ = "mf_sseng",
    id = Column(Integer, ForeignKey("mf_seng.id"), {primary_key = true}),
    __mapper_args__ = {polymorphic_identity = "sseng"},
  }
  F.Mgr = F.Emp:class "Mgr" {
    golf = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "mgr"},
  }
  F.EngMgr = F.Eng:class "EngMgr" {
    x = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "em"},
  }
  F.P = Base:class("P", orm.ConcreteBase) {
    __tablename__ = "mf_p",
    id = Column(Integer, {primary_key = true}),
    __mapper_args__ = {polymorphic_identity = "p", concrete = true},
  }
  F.PC = F.P:class "PC" {
    __tablename__ = "mf_pc",
    id = Column(Integer, {primary_key = true}),
    extra = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "pc", concrete = true},
  }
  F.Plain = Base:class "Plain" {
    __tablename__ = "mf_plain",
    id = Column(Integer, {primary_key = true}),
  }
  return Base, F
end

T.test("Mapper.tables for each inheritance form", function()
  local _, F = forms()
  orm.configure_mappers()
  local function tables(c) return names(orm.inspect(c).tables) end
  T.eq(tables(F.Emp), {"mf_emp"})
  T.eq(tables(F.Eng), {"mf_emp", "mf_eng"})
  -- (the join walked breadth first, as SQLAlchemy finds its tables)
  T.eq(tables(F.SEng), {"mf_seng", "mf_emp", "mf_eng"})
  T.eq(tables(F.SSEng), {"mf_sseng", "mf_seng", "mf_emp", "mf_eng"})
  T.eq(tables(F.Mgr), {"mf_emp"})
  T.eq(tables(F.EngMgr), {"mf_emp", "mf_eng"})
  T.eq(tables(F.P), {"mf_p"})
  T.eq(tables(F.PC), {"mf_pc"})
  T.eq(tables(F.Plain), {"mf_plain"})
  -- (a fresh list: changing it changes nothing)
  local l = orm.inspect(F.Eng).tables
  l[1] = nil
  T.eq(tables(F.Eng), {"mf_emp", "mf_eng"})
end)

T.test("local_table, persist_selectable, selectable", function()
  local _, F = forms()
  orm.configure_mappers()
  local function m(c) return orm.inspect(c) end
  T.ok(rawequal(m(F.Emp).local_table, F.Emp.__table__))
  T.ok(rawequal(m(F.Emp).persist_selectable, F.Emp.__table__))
  T.ok(rawequal(m(F.Emp).selectable, F.Emp.__table__))
  T.eq(m(F.Eng).local_table.name, "mf_eng")
  T.eq(tostring(m(F.Eng).persist_selectable),
       "mf_emp JOIN mf_eng ON mf_emp.id = mf_eng.id")
  T.eq(tostring(m(F.Eng).selectable),
       "mf_emp JOIN mf_eng ON mf_emp.id = mf_eng.id")
  T.eq(m(F.SEng).local_table.name, "mf_seng")
  T.eq(tostring(m(F.SEng).persist_selectable),
       "mf_emp JOIN mf_eng ON mf_emp.id = mf_eng.id JOIN mf_seng ON " ..
       "mf_eng.id = mf_seng.id")
  -- single-table: the parent's table and join
  T.ok(rawequal(m(F.Mgr).local_table, F.Emp.__table__))
  T.ok(rawequal(m(F.Mgr).persist_selectable, F.Emp.__table__))
  T.eq(m(F.EngMgr).local_table.name, "mf_eng")
  T.eq(tostring(m(F.EngMgr).persist_selectable),
       "mf_emp JOIN mf_eng ON mf_emp.id = mf_eng.id")
  -- concrete: its own table; ConcreteBase selects the union
  T.eq(m(F.P).local_table.name, "mf_p")
  T.eq(m(F.P).persist_selectable.name, "mf_p")
  T.eq(m(F.P).selectable.name, "pjoin")
  T.eq(m(F.PC).local_table.name, "mf_pc")
  T.eq(m(F.PC).persist_selectable.name, "mf_pc")
  T.ok(rawequal(m(F.Plain).selectable, F.Plain.__table__))
  -- base_mapper: the hierarchy's root, a concrete one's too
  local function base(c) return m(c).base_mapper.class.__name__ end
  T.eq({base(F.Emp), base(F.SEng), base(F.Mgr), base(F.EngMgr), base(F.P),
        base(F.PC), base(F.Plain)},
       {"Emp", "Emp", "Emp", "Emp", "P", "P", "Plain"})
end)

-- AbstractConcreteBase
local function acb()
  local Base = orm.declarative_base()
  local Employee = Base:class("Employee", orm.AbstractConcreteBase) {
    name = Column(String(50)),
  }
  local Manager = Employee:class "Manager" {
    __tablename__ = "mf_manager",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(50)),
    manager_data = Column(String(40)),
    __mapper_args__ = {polymorphic_identity = "manager", concrete = true},
  }
  local Engineer = Employee:class "Engineer" {
    __tablename__ = "mf_engineer",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(50)),
    engineer_info = Column(String(40)),
    __mapper_args__ = {polymorphic_identity = "engineer", concrete = true},
  }
  return Base, Employee, Manager, Engineer
end

local UNION = "SELECT mf_engineer.id AS id, mf_engineer.name AS name, " ..
              "mf_engineer.engineer_info AS engineer_info, CAST(NULL AS " ..
              "VARCHAR(40)) AS manager_data, 'engineer' AS type \nFROM " ..
              "mf_engineer UNION ALL SELECT mf_manager.id AS id, " ..
              "mf_manager.name AS name, CAST(NULL AS VARCHAR(40)) AS " ..
              "engineer_info, mf_manager.manager_data AS manager_data, " ..
              "'manager' AS type \nFROM mf_manager"
local PJ_COLS = "pjoin.id, pjoin.name, pjoin.engineer_info, " ..
                "pjoin.manager_data, pjoin.type"

T.test("AbstractConcreteBase: mapped when the mappers are configured",
  function()
    local _, Employee, _, Engineer = acb()
    T.eq(rawget(Employee, "__mapper__"), nil)
    orm.configure_mappers()
    local m = orm.inspect(Employee)
    T.eq(m.local_table.name, "pjoin")
    T.eq(m.persist_selectable.name, "pjoin")
    T.eq(m.selectable.name, "pjoin")
    T.eq(names(m.tables), {"mf_engineer", "mf_manager"})
    T.ok(rawequal(orm.inspect(Engineer).base_mapper, m))
    local keys = {}
    for i, c in ipairs(m.columns) do keys[i] = c.key end
    T.eq(keys, {"id", "name", "engineer_info", "manager_data", "type"})
  end)

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base, Employee, Manager, Engineer = acb()
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all{Manager{id = 1, name = "m1", manager_data = "d"},
              Engineer{id = 1, name = "e1", engineer_info = "i"},
              Engineer{id = 2, name = "e2", engineer_info = "j"}}
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql) log[#log + 1] = sql end)
  local function run(fn)
    local s <close> = orm.Session(engine)
    for i = #log, 1, -1 do log[i] = nil end
    local out = {}
    for i, x in ipairs(fn(s)) do
      out[i] = {x.__class__.__name__, x.id, x.name}
    end
    return out, log[1]
  end
  local sqlite = db.name == "sqlite"

  T.test(pfx .. "AbstractConcreteBase: queries of the base", function()
    local rows, sql = run(function(s)
      return s:scalars(select(Employee):order_by(Employee.name)):all()
    end)
    T.eq(rows, {{"Engineer", 1, "e1"}, {"Engineer", 2, "e2"},
                {"Manager", 1, "m1"}})
    if sqlite then
      T.eq(sql, "SELECT " .. PJ_COLS .. " \nFROM (" .. UNION .. ") AS " ..
           "pjoin ORDER BY pjoin.name")
    end
    rows, sql = run(function(s)
      return s:scalars(select(Employee):where(Employee.name:like("e%"))
                         :order_by(Employee.id)):all()
    end)
    T.eq(rows, {{"Engineer", 1, "e1"}, {"Engineer", 2, "e2"}})
    rows, sql = run(function(s)
      return s:query(Employee):filter(Employee.name:eq("m1")):all()
    end)
    T.eq(rows, {{"Manager", 1, "m1"}})
    if sqlite then
      T.eq(sql, "SELECT pjoin.id AS pjoin_id, pjoin.name AS pjoin_name, " ..
           "pjoin.engineer_info AS pjoin_engineer_info, pjoin.manager_data " ..
           "AS pjoin_manager_data, pjoin.type AS pjoin_type \nFROM (" ..
           UNION .. ") AS pjoin \nWHERE pjoin.name = ?")
    end
    local s <close> = orm.Session(engine)
    T.eq(s:execute(select(func.count()):select_from(Employee)):scalar(), 3)
    -- (the same row twice is the same object; a Manager and an Engineer
    -- of one id are two)
    local all = s:scalars(select(Employee)):all()
    T.eq(#all, 3)
    T.ok(s:get(Engineer, 1) ~= s:get(Manager, 1))
  end)

  T.test(pfx .. "AbstractConcreteBase: a subclass's own queries", function()
    local rows, sql = run(function(s)
      return s:scalars(select(Engineer):where(Engineer.id:eq(2))):all()
    end)
    T.eq(rows, {{"Engineer", 2, "e2"}})
    T.eq(sql:gsub("%$%d+", "?"), "SELECT mf_engineer.id, mf_engineer.name, " ..
         "mf_engineer.engineer_info \nFROM mf_engineer \nWHERE " ..
         "mf_engineer.id = ?")
    rows = run(function(s) return s:query(Manager):all() end)
    T.eq(rows, {{"Manager", 1, "m1"}})
  end)

  Base.metadata:drop_all(engine)
end

T.done()
