-- Relationships reached through a with_polymorphic entity: joins along
-- wp.company and wp.Engineer.machines (aliased, flat and plain),
-- any()/has() correlated to wp's selectable, and loader options
-- selectinload/joinedload of wp.company and of a subclass's
-- relationship (run on the objects of that class only).  The expected
-- SQL and rows are SQLAlchemy 1.4's for the same statements.
local T = require "testing"
local relationship = orm.relationship

local function norm(sql)
  return (sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " ")
    :gsub(" INNER JOIN ", " JOIN "))
end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Company = Base:class "Company" {
    __tablename__ = "wr_company",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    employees = relationship("Employee", {back_populates = "company"}),
  }
  M.Employee = Base:class "Employee" {
    __tablename__ = "wr_employee",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    type = Column(String(20)),
    company_id = Column(Integer, ForeignKey("wr_company.id")),
    company = relationship("Company", {back_populates = "employees"}),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
  }
  M.Engineer = M.Employee:class "Engineer" {
    __tablename__ = "wr_engineer",
    id = Column(Integer, ForeignKey("wr_employee.id"), {primary_key = true}),
    eng_info = Column(String(30)),
    machines = relationship("Machine", {order_by = "Machine.id"}),
    __mapper_args__ = {polymorphic_identity = "engineer"},
  }
  M.Manager = M.Employee:class "Manager" {
    __tablename__ = "wr_manager",
    id = Column(Integer, ForeignKey("wr_employee.id"), {primary_key = true}),
    mgr_info = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "manager"},
  }
  M.Machine = Base:class "Machine" {
    __tablename__ = "wr_machine",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    engineer_id = Column(Integer, ForeignKey("wr_engineer.id")),
  }
  return M
end

local SUB = "(SELECT wr_employee.id AS wr_employee_id, wr_employee.name AS " ..
  "wr_employee_name, wr_employee.type AS wr_employee_type, " ..
  "wr_employee.company_id AS wr_employee_company_id, wr_engineer.id AS " ..
  "wr_engineer_id, wr_engineer.eng_info AS wr_engineer_eng_info, " ..
  "wr_manager.id AS wr_manager_id, wr_manager.mgr_info AS " ..
  "wr_manager_mgr_info FROM wr_employee LEFT OUTER JOIN wr_engineer ON " ..
  "wr_employee.id = wr_engineer.id LEFT OUTER JOIN wr_manager ON " ..
  "wr_employee.id = wr_manager.id) AS anon_1"
local COLS = "anon_1.wr_employee_id, anon_1.wr_employee_name, " ..
  "anon_1.wr_employee_type, anon_1.wr_employee_company_id, " ..
  "anon_1.wr_engineer_id, anon_1.wr_engineer_eng_info, " ..
  "anon_1.wr_manager_id, anon_1.wr_manager_mgr_info"
local PLAIN = "SELECT wr_employee.id, wr_employee.name, wr_employee.type, " ..
  "wr_employee.company_id, wr_engineer.id AS id_1, wr_engineer.eng_info, " ..
  "wr_manager.id AS id_2, wr_manager.mgr_info"
local PLAIN_FROM = "FROM wr_employee LEFT OUTER JOIN wr_engineer ON " ..
  "wr_employee.id = wr_engineer.id LEFT OUTER JOIN wr_manager ON " ..
  "wr_employee.id = wr_manager.id"

for _, db in ipairs(T.databases()) do
  local M = schema()
  local Company, Employee, Engineer, Manager, Machine =
    M.Company, M.Employee, M.Engineer, M.Manager, M.Machine
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    local c = Company{id = 1, name = "c"}
    s:add_all({c, Engineer{id = 1, name = "en", company = c,
                           machines = {Machine{id = 1, name = "m1"},
                                       Machine{id = 2, name = "m2"}}},
               Manager{id = 2, name = "ma", company = c},
               Employee{id = 3, name = "em"}})
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local pfx = db.name .. ": "
  local wp = orm.with_polymorphic(Employee, {Engineer, Manager},
                                  {aliased = true})

  -- each object's name and, for an engineer, its machines' names
  local function shape(list)
    local out = {}
    for i, x in ipairs(list) do
      local ms = {}
      if x.__class__ == Engineer then
        for k, m in ipairs(x.machines) do ms[k] = m.name end
      end
      out[i] = x.name .. ":" .. table.concat(ms, ",")
    end
    return out
  end

  T.test(pfx .. "joins along an aliased with_polymorphic's relationships",
         function()
    local s <close> = orm.Session(engine)
    clear()
    local rows = s:execute(select(wp.name, Machine.name)
      :join(wp.Engineer.machines):order_by(Machine.id)):all()
    T.eq({rows[1][1], rows[1][2], rows[2][1], rows[2][2]},
         {"en", "m1", "en", "m2"})
    T.eq(log[1], "SELECT anon_1.wr_employee_name, wr_machine.name FROM " ..
         SUB .. " JOIN wr_machine ON anon_1.wr_engineer_id = " ..
         "wr_machine.engineer_id ORDER BY wr_machine.id")
    rows = s:execute(select(wp.name, Company.name):join(wp.company)
      :order_by(wp.id)):all()
    T.eq(#rows, 2)
    T.eq({rows[1][1], rows[2][1], rows[2][2]}, {"en", "ma", "c"})
    T.eq(log[2], "SELECT anon_1.wr_employee_name, wr_company.name FROM " ..
         SUB .. " JOIN wr_company ON wr_company.id = " ..
         "anon_1.wr_employee_company_id ORDER BY anon_1.wr_employee_id")
    -- the target given first, and an outer join
    T.eq(tostring(select(wp):join(Machine, wp.Engineer.machines)):gsub(
      "%s+", " "), "SELECT " .. COLS .. " FROM " .. SUB .. " JOIN " ..
      "wr_machine ON anon_1.wr_engineer_id = wr_machine.engineer_id")
    local objs = s:scalars(select(wp):outerjoin(wp.Engineer.machines)
      :order_by(wp.id)):unique():all()
    T.eq(#objs, 3)
    T.eq(log[#log], "SELECT " .. COLS .. " FROM " .. SUB .. " LEFT OUTER " ..
         "JOIN wr_machine ON anon_1.wr_engineer_id = " ..
         "wr_machine.engineer_id ORDER BY anon_1.wr_employee_id")
  end)

  T.test(pfx .. "flat and plain with_polymorphic joins", function()
    local wpf = orm.with_polymorphic(Employee, {Engineer, Manager},
                                     {flat = true})
    T.eq(norm(tostring(select(wpf):join(wpf.Engineer.machines))),
         "SELECT wr_employee_1.id, wr_employee_1.name, wr_employee_1.type, " ..
         "wr_employee_1.company_id, wr_engineer_1.id AS id_1, " ..
         "wr_engineer_1.eng_info, wr_manager_1.id AS id_2, " ..
         "wr_manager_1.mgr_info FROM wr_employee AS wr_employee_1 LEFT " ..
         "OUTER JOIN wr_engineer AS wr_engineer_1 ON wr_employee_1.id = " ..
         "wr_engineer_1.id LEFT OUTER JOIN wr_manager AS wr_manager_1 ON " ..
         "wr_employee_1.id = wr_manager_1.id JOIN wr_machine ON " ..
         "wr_engineer_1.id = wr_machine.engineer_id")
    T.eq(norm(tostring(select(wpf):join(wpf.company)))
           :match("LEFT OUTER JOIN wr_manager .*$"),
         "LEFT OUTER JOIN wr_manager AS wr_manager_1 ON wr_employee_1.id = " ..
         "wr_manager_1.id JOIN wr_company ON wr_company.id = " ..
         "wr_employee_1.company_id")
    local wpn = orm.with_polymorphic(Employee, {Engineer, Manager})
    T.eq(norm(tostring(select(wpn):join(wpn.Engineer.machines))),
         PLAIN .. " " .. PLAIN_FROM .. " JOIN wr_machine ON " ..
         "wr_engineer.id = wr_machine.engineer_id")
  end)

  T.test(pfx .. "any() and has() correlated to the with_polymorphic",
         function()
    local s <close> = orm.Session(engine)
    clear()
    local objs = s:scalars(select(wp):where(
      wp.Engineer.machines:any(Machine.name:eq("m2")))):all()
    T.eq(shape(objs), {"en:m1,m2"})
    T.eq(log[1], "SELECT " .. COLS .. " FROM " .. SUB .. " WHERE EXISTS " ..
         "(SELECT 1 FROM wr_machine WHERE anon_1.wr_engineer_id = " ..
         "wr_machine.engineer_id AND wr_machine.name = ?)")
    objs = s:scalars(select(wp):where(wp.company:has(Company.name:eq("c")))
      :order_by(wp.id)):all()
    T.eq(#objs, 2)
    T.eq(log[#log]:match("WHERE EXISTS.*$"),
         "WHERE EXISTS (SELECT 1 FROM wr_company WHERE wr_company.id = " ..
         "anon_1.wr_employee_company_id AND wr_company.name = ?) ORDER BY " ..
         "anon_1.wr_employee_id")
  end)

  T.test(pfx .. "loader options through an aliased with_polymorphic",
         function()
    local s <close> = orm.Session(engine)
    local function run(opt)
      s:expunge_all()
      clear()
      return shape(s:scalars(select(wp):options(opt):order_by(wp.id))
        :unique():all())
    end
    local want = {"en:m1,m2", "ma:", "em:"}
    T.eq(run(orm.selectinload(wp.Engineer.machines)), want)
    T.eq(#log, 2)
    T.eq(log[2], "SELECT wr_machine.engineer_id AS wr_machine_engineer_id, " ..
         "wr_machine.id AS wr_machine_id, wr_machine.name AS " ..
         "wr_machine_name FROM wr_machine WHERE wr_machine.engineer_id IN " ..
         "(?) ORDER BY wr_machine.id")
    T.eq(run(orm.joinedload(wp.Engineer.machines)), want)
    T.eq(#log, 1)
    T.eq(log[1], "SELECT " .. COLS .. ", wr_machine_1.id, " ..
         "wr_machine_1.name, wr_machine_1.engineer_id " ..
         "FROM " .. SUB .. " LEFT OUTER JOIN wr_machine AS wr_machine_1 ON " ..
         "anon_1.wr_engineer_id = wr_machine_1.engineer_id ORDER BY " ..
         "anon_1.wr_employee_id, wr_machine_1.id")
    -- the others have no such attribute, loaded or not
    local ma = s:get(Manager, 2)
    T.eq(ma.machines, nil)
    s:expunge_all()
    clear()
    local objs = s:scalars(select(wp):options(orm.joinedload(wp.company))
      :order_by(wp.id)):unique():all()
    T.eq(log[1], "SELECT " .. COLS .. ", wr_company_1.id, " ..
         "wr_company_1.name FROM " .. SUB .. " LEFT OUTER JOIN wr_company " ..
         "AS wr_company_1 ON wr_company_1.id = " ..
         "anon_1.wr_employee_company_id ORDER BY anon_1.wr_employee_id")
    T.eq(objs[1].company.name, "c")
    T.eq(objs[3].company, nil)
    T.eq(#log, 1)
    s:expunge_all()
    clear()
    objs = s:scalars(select(wp):options(orm.selectinload(wp.company))
      :order_by(wp.id)):all()
    T.eq(log[2], "SELECT wr_company.id AS wr_company_id, wr_company.name " ..
         "AS wr_company_name FROM wr_company WHERE wr_company.id IN (?)")
    T.eq(objs[2].company.name, "c")
    T.eq(#log, 2)
  end)

  T.test(pfx .. "loader options through a plain with_polymorphic",
         function()
    local s <close> = orm.Session(engine)
    local wpn = orm.with_polymorphic(Employee, {Engineer, Manager})
    clear()
    local objs = s:scalars(select(wpn):options(
      orm.joinedload(wpn.Engineer.machines), orm.joinedload(wpn.company))
      :order_by(wpn.id)):unique():all()
    T.eq(log[1], PLAIN .. ", wr_company_1.id AS id_3, wr_company_1.name " ..
         "AS name_1, wr_machine_1.id AS id_4, wr_machine_1.name AS name_2, " ..
         "wr_machine_1.engineer_id " .. PLAIN_FROM .. " LEFT OUTER JOIN " ..
         "wr_company AS wr_company_1 ON wr_company_1.id = " ..
         "wr_employee.company_id LEFT OUTER JOIN wr_machine AS wr_machine_1 " ..
         "ON wr_engineer.id = wr_machine_1.engineer_id ORDER BY " ..
         "wr_employee.id, wr_machine_1.id")
    T.eq(shape(objs), {"en:m1,m2", "ma:", "em:"})
    T.eq(objs[2].company.name, "c")
    T.eq(#log, 1)
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
