-- orm.with_polymorphic() with aliased = true and flat = true: the
-- polymorphic join as an anonymous subquery (anon_1) or each table
-- aliased on its own (wpoly_employee_1 ...), selected as an entity,
-- joined to (join(wp, on), join(Company.employees:of_type(wp))),
-- filtered on wp.Manager.manager_name, loaded by
-- joinedload(Company.employees:of_type(wp)), and two of them in one
-- query.  The expected statements, parameters and rows are SQLAlchemy
-- 1.4's for the same mapping and data on SQLite.
local T = require "testing"

local function schema()
  local Base = orm.declarative_base()
  local Company = Base:class "Company" {
    __tablename__ = "wpoly_company",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    employees = relationship("Employee", {back_populates = "company",
                                          order_by = "Employee.id"}),
  }
  local Employee = Base:class "Employee" {
    __tablename__ = "wpoly_employee",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    type = Column(String(50)),
    company_id = Column(ForeignKey("wpoly_company.id")),
    company = relationship("Company", {back_populates = "employees"}),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
  }
  local Engineer = Employee:class "Engineer" {
    __tablename__ = "wpoly_engineer",
    id = Column(Integer, ForeignKey("wpoly_employee.id"),
                {primary_key = true}),
    engineer_name = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "engineer"},
  }
  local Manager = Employee:class "Manager" {
    __tablename__ = "wpoly_manager",
    id = Column(Integer, ForeignKey("wpoly_employee.id"),
                {primary_key = true}),
    manager_name = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "manager"},
  }
  return Base, Company, Employee, Engineer, Manager
end

-- an object as Class(name,subclass column) (a company with its
-- loaded employees, unless `unloaded`), other values as they are
local function fmt(x, unloaded)
  local ok, cls = pcall(function() return x.__class__ end)
  if not ok or not cls then return x end
  if cls.__name__ == "Company" and unloaded then
    return "Company(" .. x.name .. ":)"
  elseif cls.__name__ == "Company" then
    local l = {}
    for _, y in ipairs(x.employees) do l[#l + 1] = fmt(y) end
    return "Company(" .. x.name .. ":" .. table.concat(l, ",") .. ")"
  end
  local extra = x.engineer_name or x.manager_name
  return cls.__name__ .. "(" .. x.name .. "," ..
         (extra == nil and "None" or extra) .. ")"
end

-- PostgreSQL's placeholders are $n; MariaDB and SQLite write ?; the
-- MySQL dialect writes INNER JOIN (as SQLAlchemy's does)
local function norm(sql)
  return (sql:gsub("%$%d+", "?"):gsub("INNER JOIN", "JOIN"))
end

-- what SQLAlchemy emits and returns for each statement of `cases` below
local expected =
{
  {sql = "SELECT anon_1.wpoly_employee_id, anon_1.wpoly_employee_name, " ..
     "anon_1.wpoly_employee_type, anon_1.wpoly_employee_company_id, " ..
     "anon_1.wpoly_manager_id, anon_1.wpoly_manager_manager_name, " ..
     "anon_2.wpoly_employee_id AS wpoly_employee_id_1, " ..
     "anon_2.wpoly_employee_name AS wpoly_employee_name_1, " ..
     "anon_2.wpoly_employee_type AS wpoly_employee_type_1, " ..
     "anon_2.wpoly_employee_company_id AS wpoly_employee_company_id_1, " ..
     "anon_2.wpoly_engineer_id, anon_2.wpoly_engineer_engineer_name " ..
     "\nFROM (SELECT wpoly_employee.id AS wpoly_employee_id, " ..
     "wpoly_employee.name AS wpoly_employee_name, wpoly_employee.type AS " ..
     "wpoly_employee_type, wpoly_employee.company_id AS " ..
     "wpoly_employee_company_id, wpoly_manager.id AS wpoly_manager_id, " ..
     "wpoly_manager.manager_name AS wpoly_manager_manager_name \nFROM " ..
     "wpoly_employee LEFT OUTER JOIN wpoly_manager ON wpoly_employee.id " ..
     "= wpoly_manager.id) AS anon_1 JOIN (SELECT wpoly_employee.id AS " ..
     "wpoly_employee_id, wpoly_employee.name AS wpoly_employee_name, " ..
     "wpoly_employee.type AS wpoly_employee_type, " ..
     "wpoly_employee.company_id AS wpoly_employee_company_id, " ..
     "wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name " ..
     "\nFROM wpoly_employee LEFT OUTER JOIN wpoly_engineer ON " ..
     "wpoly_employee.id = wpoly_engineer.id) AS anon_2 ON " ..
     "anon_2.wpoly_employee_company_id = " ..
     "anon_1.wpoly_employee_company_id \nWHERE " ..
     "anon_1.wpoly_employee_name = ? OR " ..
     "anon_1.wpoly_manager_manager_name = ? ORDER BY " ..
     "anon_2.wpoly_employee_name, anon_1.wpoly_employee_name",
   params = {"Mr. Krabs", "Eugene H. Krabs"},
   rows = {
     {"Manager(Mr. Krabs,Eugene H. Krabs)", "Employee(Gary,None)"},
     {"Manager(Mr. Krabs,Eugene H. Krabs)",
      "Manager(Mr. Krabs,Eugene H. Krabs)"},
     {"Manager(Mr. Krabs,Eugene H. Krabs)", "Engineer(SpongeBob,SpongeBob S)"},
     {"Manager(Mr. Krabs,Eugene H. Krabs)", "Engineer(Squidward,Squidward T)"}
   }},
  {sql = "SELECT anon_1.wpoly_employee_id, anon_1.wpoly_employee_name, " ..
     "anon_1.wpoly_employee_type, anon_1.wpoly_employee_company_id, " ..
     "anon_1.wpoly_engineer_id, anon_1.wpoly_engineer_engineer_name, " ..
     "anon_1.wpoly_manager_id, anon_1.wpoly_manager_manager_name \nFROM " ..
     "(SELECT wpoly_employee.id AS wpoly_employee_id, " ..
     "wpoly_employee.name AS wpoly_employee_name, wpoly_employee.type AS " ..
     "wpoly_employee_type, wpoly_employee.company_id AS " ..
     "wpoly_employee_company_id, wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name, " ..
     "wpoly_manager.id AS wpoly_manager_id, wpoly_manager.manager_name " ..
     "AS wpoly_manager_manager_name \nFROM wpoly_employee LEFT OUTER " ..
     "JOIN wpoly_engineer ON wpoly_employee.id = wpoly_engineer.id LEFT " ..
     "OUTER JOIN wpoly_manager ON wpoly_employee.id = wpoly_manager.id) " ..
     "AS anon_1 ORDER BY anon_1.wpoly_employee_id",
   params = {},
   rows = {
     {"Manager(Mr. Krabs,Eugene H. Krabs)"},
     {"Engineer(SpongeBob,SpongeBob S)"},
     {"Engineer(Squidward,Squidward T)"},
     {"Employee(Gary,None)"},
     {"Manager(Plankton,Sheldon)"},
     {"Engineer(Karen,Karen P)"}
   }},
  {sql = "SELECT wpoly_company.name, anon_1.wpoly_employee_name \nFROM " ..
     "wpoly_company JOIN (SELECT wpoly_employee.id AS wpoly_employee_id, " ..
     "wpoly_employee.name AS wpoly_employee_name, wpoly_employee.type AS " ..
     "wpoly_employee_type, wpoly_employee.company_id AS " ..
     "wpoly_employee_company_id, wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name, " ..
     "wpoly_manager.id AS wpoly_manager_id, wpoly_manager.manager_name " ..
     "AS wpoly_manager_manager_name \nFROM wpoly_employee LEFT OUTER " ..
     "JOIN wpoly_engineer ON wpoly_employee.id = wpoly_engineer.id LEFT " ..
     "OUTER JOIN wpoly_manager ON wpoly_employee.id = wpoly_manager.id) " ..
     "AS anon_1 ON wpoly_company.id = anon_1.wpoly_employee_company_id " ..
     "\nWHERE anon_1.wpoly_engineer_engineer_name = ? OR " ..
     "anon_1.wpoly_manager_manager_name = ? ORDER BY " ..
     "anon_1.wpoly_employee_id",
   params = {"SpongeBob S", "Sheldon"},
   rows = {{"Krusty Krab", "SpongeBob"}, {"Chum Bucket", "Plankton"}}},
  {sql = "SELECT wpoly_company.id, wpoly_company.name, " ..
     "anon_1.wpoly_employee_id, anon_1.wpoly_employee_name, " ..
     "anon_1.wpoly_employee_type, anon_1.wpoly_employee_company_id, " ..
     "anon_1.wpoly_engineer_id, anon_1.wpoly_engineer_engineer_name, " ..
     "anon_1.wpoly_manager_id, anon_1.wpoly_manager_manager_name \nFROM " ..
     "wpoly_company LEFT OUTER JOIN (SELECT wpoly_employee.id AS " ..
     "wpoly_employee_id, wpoly_employee.name AS wpoly_employee_name, " ..
     "wpoly_employee.type AS wpoly_employee_type, " ..
     "wpoly_employee.company_id AS wpoly_employee_company_id, " ..
     "wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name, " ..
     "wpoly_manager.id AS wpoly_manager_id, wpoly_manager.manager_name " ..
     "AS wpoly_manager_manager_name \nFROM wpoly_employee LEFT OUTER " ..
     "JOIN wpoly_engineer ON wpoly_employee.id = wpoly_engineer.id LEFT " ..
     "OUTER JOIN wpoly_manager ON wpoly_employee.id = wpoly_manager.id) " ..
     "AS anon_1 ON wpoly_company.id = anon_1.wpoly_employee_company_id " ..
     "ORDER BY wpoly_company.id, anon_1.wpoly_employee_id",
   params = {},
   rows = {
     {"Company(Krusty Krab:Manager(Mr. Krabs,Eugene H. Krabs)," ..
      "Engineer(SpongeBob,SpongeBob S),Engineer(Squidward," ..
      "Squidward T),Employee(Gary,None))"},
     {"Company(Chum Bucket:Manager(Plankton,Sheldon)," ..
      "Engineer(Karen,Karen P))"}
   }},
  {sql = "SELECT wpoly_company.name, anon_1.wpoly_employee_name \nFROM " ..
     "wpoly_company JOIN (SELECT wpoly_employee.id AS wpoly_employee_id, " ..
     "wpoly_employee.name AS wpoly_employee_name, wpoly_employee.type AS " ..
     "wpoly_employee_type, wpoly_employee.company_id AS " ..
     "wpoly_employee_company_id, wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name, " ..
     "wpoly_manager.id AS wpoly_manager_id, wpoly_manager.manager_name " ..
     "AS wpoly_manager_manager_name \nFROM wpoly_employee LEFT OUTER " ..
     "JOIN wpoly_engineer ON wpoly_employee.id = wpoly_engineer.id LEFT " ..
     "OUTER JOIN wpoly_manager ON wpoly_employee.id = wpoly_manager.id) " ..
     "AS anon_1 ON wpoly_company.id = anon_1.wpoly_employee_company_id " ..
     "ORDER BY anon_1.wpoly_employee_id",
   params = {},
   rows = {
     {"Krusty Krab", "Mr. Krabs"},
     {"Krusty Krab", "SpongeBob"},
     {"Krusty Krab", "Squidward"},
     {"Krusty Krab", "Gary"},
     {"Chum Bucket", "Plankton"},
     {"Chum Bucket", "Karen"}
   }},
  {sql = "SELECT wpoly_employee_1.id, wpoly_employee_1.name, " ..
     "wpoly_employee_1.type, wpoly_employee_1.company_id, " ..
     "wpoly_manager_1.id AS id_1, wpoly_manager_1.manager_name, " ..
     "wpoly_employee_2.id AS id_2, wpoly_employee_2.name AS name_1, " ..
     "wpoly_employee_2.type AS type_1, wpoly_employee_2.company_id AS " ..
     "company_id_1, wpoly_engineer_1.id AS id_3, " ..
     "wpoly_engineer_1.engineer_name \nFROM wpoly_employee AS " ..
     "wpoly_employee_1 LEFT OUTER JOIN wpoly_manager AS wpoly_manager_1 " ..
     "ON wpoly_employee_1.id = wpoly_manager_1.id JOIN (wpoly_employee " ..
     "AS wpoly_employee_2 LEFT OUTER JOIN wpoly_engineer AS " ..
     "wpoly_engineer_1 ON wpoly_employee_2.id = wpoly_engineer_1.id) ON " ..
     "wpoly_employee_2.company_id = wpoly_employee_1.company_id \nWHERE " ..
     "wpoly_employee_1.name = ? OR wpoly_manager_1.manager_name = ? " ..
     "ORDER BY wpoly_employee_2.name, wpoly_employee_1.name",
   params = {"Mr. Krabs", "Eugene H. Krabs"},
   rows = {
     {"Manager(Mr. Krabs,Eugene H. Krabs)", "Employee(Gary,None)"},
     {"Manager(Mr. Krabs,Eugene H. Krabs)",
      "Manager(Mr. Krabs,Eugene H. Krabs)"},
     {"Manager(Mr. Krabs,Eugene H. Krabs)", "Engineer(SpongeBob,SpongeBob S)"},
     {"Manager(Mr. Krabs,Eugene H. Krabs)", "Engineer(Squidward,Squidward T)"}
   }},
  {sql = "SELECT wpoly_employee_1.id, wpoly_employee_1.name, " ..
     "wpoly_employee_1.type, wpoly_employee_1.company_id, " ..
     "wpoly_engineer_1.id AS id_1, wpoly_engineer_1.engineer_name, " ..
     "wpoly_manager_1.id AS id_2, wpoly_manager_1.manager_name \nFROM " ..
     "wpoly_employee AS wpoly_employee_1 LEFT OUTER JOIN wpoly_engineer " ..
     "AS wpoly_engineer_1 ON wpoly_employee_1.id = wpoly_engineer_1.id " ..
     "LEFT OUTER JOIN wpoly_manager AS wpoly_manager_1 ON " ..
     "wpoly_employee_1.id = wpoly_manager_1.id ORDER BY " ..
     "wpoly_employee_1.id",
   params = {},
   rows = {
     {"Manager(Mr. Krabs,Eugene H. Krabs)"},
     {"Engineer(SpongeBob,SpongeBob S)"},
     {"Engineer(Squidward,Squidward T)"},
     {"Employee(Gary,None)"},
     {"Manager(Plankton,Sheldon)"},
     {"Engineer(Karen,Karen P)"}
   }},
  {sql = "SELECT wpoly_company.name, wpoly_employee_1.name AS name_1 \nFROM " ..
     "wpoly_company JOIN (wpoly_employee AS wpoly_employee_1 LEFT OUTER " ..
     "JOIN wpoly_engineer AS wpoly_engineer_1 ON wpoly_employee_1.id = " ..
     "wpoly_engineer_1.id LEFT OUTER JOIN wpoly_manager AS " ..
     "wpoly_manager_1 ON wpoly_employee_1.id = wpoly_manager_1.id) ON " ..
     "wpoly_company.id = wpoly_employee_1.company_id \nWHERE " ..
     "wpoly_engineer_1.engineer_name = ? OR wpoly_manager_1.manager_name " ..
     "= ? ORDER BY wpoly_employee_1.id",
   params = {"SpongeBob S", "Sheldon"},
   rows = {{"Krusty Krab", "SpongeBob"}, {"Chum Bucket", "Plankton"}}},
  {sql = "SELECT wpoly_company.id, wpoly_company.name, wpoly_employee_1.id " ..
     "AS id_1, wpoly_employee_1.name AS name_1, wpoly_employee_1.type, " ..
     "wpoly_employee_1.company_id, wpoly_engineer_1.id AS id_2, " ..
     "wpoly_engineer_1.engineer_name, wpoly_manager_1.id AS id_3, " ..
     "wpoly_manager_1.manager_name \nFROM wpoly_company LEFT OUTER JOIN " ..
     "(wpoly_employee AS wpoly_employee_1 LEFT OUTER JOIN wpoly_engineer " ..
     "AS wpoly_engineer_1 ON wpoly_employee_1.id = wpoly_engineer_1.id " ..
     "LEFT OUTER JOIN wpoly_manager AS wpoly_manager_1 ON " ..
     "wpoly_employee_1.id = wpoly_manager_1.id) ON wpoly_company.id = " ..
     "wpoly_employee_1.company_id ORDER BY wpoly_company.id, " ..
     "wpoly_employee_1.id",
   params = {},
   rows = {
     {"Company(Krusty Krab:Manager(Mr. Krabs,Eugene H. Krabs)," ..
      "Engineer(SpongeBob,SpongeBob S),Engineer(Squidward," ..
      "Squidward T),Employee(Gary,None))"},
     {"Company(Chum Bucket:Manager(Plankton,Sheldon)," ..
      "Engineer(Karen,Karen P))"}
   }},
  {sql = "SELECT wpoly_company.name, wpoly_employee_1.name AS name_1 \nFROM " ..
     "wpoly_company JOIN (wpoly_employee AS wpoly_employee_1 LEFT OUTER " ..
     "JOIN wpoly_engineer AS wpoly_engineer_1 ON wpoly_employee_1.id = " ..
     "wpoly_engineer_1.id LEFT OUTER JOIN wpoly_manager AS " ..
     "wpoly_manager_1 ON wpoly_employee_1.id = wpoly_manager_1.id) ON " ..
     "wpoly_company.id = wpoly_employee_1.company_id ORDER BY " ..
     "wpoly_employee_1.id",
   params = {},
   rows = {
     {"Krusty Krab", "Mr. Krabs"},
     {"Krusty Krab", "SpongeBob"},
     {"Krusty Krab", "Squidward"},
     {"Krusty Krab", "Gary"},
     {"Chum Bucket", "Plankton"},
     {"Chum Bucket", "Karen"}
   }},
  {sql = "SELECT wpoly_company.id, wpoly_company.name, " ..
     "anon_1.wpoly_employee_id, anon_1.wpoly_employee_name, " ..
     "anon_1.wpoly_employee_type, anon_1.wpoly_employee_company_id, " ..
     "anon_1.wpoly_engineer_id, anon_1.wpoly_engineer_engineer_name, " ..
     "anon_1.wpoly_manager_id, anon_1.wpoly_manager_manager_name \nFROM " ..
     "wpoly_company JOIN (SELECT wpoly_employee.id AS wpoly_employee_id, " ..
     "wpoly_employee.name AS wpoly_employee_name, wpoly_employee.type AS " ..
     "wpoly_employee_type, wpoly_employee.company_id AS " ..
     "wpoly_employee_company_id, wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name, " ..
     "wpoly_manager.id AS wpoly_manager_id, wpoly_manager.manager_name " ..
     "AS wpoly_manager_manager_name \nFROM wpoly_employee LEFT OUTER " ..
     "JOIN wpoly_engineer ON wpoly_employee.id = wpoly_engineer.id LEFT " ..
     "OUTER JOIN wpoly_manager ON wpoly_employee.id = wpoly_manager.id) " ..
     "AS anon_1 ON wpoly_company.id = anon_1.wpoly_employee_company_id " ..
     "\nWHERE anon_1.wpoly_engineer_engineer_name != ? ORDER BY " ..
     "anon_1.wpoly_employee_id",
   params = {"x"},
   rows = {
     {"Company(Krusty Krab:)", "Engineer(SpongeBob,SpongeBob S)"},
     {"Company(Krusty Krab:)", "Engineer(Squidward,Squidward T)"},
     {"Company(Chum Bucket:)", "Engineer(Karen,Karen P)"}
   }},
  {sql = "SELECT wpoly_company.id, wpoly_company.name \nFROM wpoly_company " ..
     "LEFT OUTER JOIN (SELECT wpoly_employee.id AS wpoly_employee_id, " ..
     "wpoly_employee.name AS wpoly_employee_name, wpoly_employee.type AS " ..
     "wpoly_employee_type, wpoly_employee.company_id AS " ..
     "wpoly_employee_company_id, wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name, " ..
     "wpoly_manager.id AS wpoly_manager_id, wpoly_manager.manager_name " ..
     "AS wpoly_manager_manager_name \nFROM wpoly_employee LEFT OUTER " ..
     "JOIN wpoly_engineer ON wpoly_employee.id = wpoly_engineer.id LEFT " ..
     "OUTER JOIN wpoly_manager ON wpoly_employee.id = wpoly_manager.id) " ..
     "AS anon_1 ON wpoly_company.id = anon_1.wpoly_employee_company_id " ..
     "\nWHERE anon_1.wpoly_manager_manager_name = ?",
   params = {"Sheldon"},
   rows = {{"Company(Chum Bucket:)"}}},
  {sql = "SELECT wpoly_company.id, wpoly_company.name, wpoly_employee_1.id " ..
     "AS id_1, wpoly_employee_1.name AS name_1, wpoly_employee_1.type, " ..
     "wpoly_employee_1.company_id, wpoly_engineer_1.id AS id_2, " ..
     "wpoly_engineer_1.engineer_name, wpoly_manager_1.id AS id_3, " ..
     "wpoly_manager_1.manager_name \nFROM wpoly_company JOIN " ..
     "(wpoly_employee AS wpoly_employee_1 LEFT OUTER JOIN wpoly_engineer " ..
     "AS wpoly_engineer_1 ON wpoly_employee_1.id = wpoly_engineer_1.id " ..
     "LEFT OUTER JOIN wpoly_manager AS wpoly_manager_1 ON " ..
     "wpoly_employee_1.id = wpoly_manager_1.id) ON wpoly_company.id = " ..
     "wpoly_employee_1.company_id \nWHERE wpoly_engineer_1.engineer_name " ..
     "!= ? ORDER BY wpoly_employee_1.id",
   params = {"x"},
   rows = {
     {"Company(Krusty Krab:)", "Engineer(SpongeBob,SpongeBob S)"},
     {"Company(Krusty Krab:)", "Engineer(Squidward,Squidward T)"},
     {"Company(Chum Bucket:)", "Engineer(Karen,Karen P)"}
   }},
  {sql = "SELECT wpoly_company.id, wpoly_company.name \nFROM wpoly_company " ..
     "LEFT OUTER JOIN (wpoly_employee AS wpoly_employee_1 LEFT OUTER " ..
     "JOIN wpoly_engineer AS wpoly_engineer_1 ON wpoly_employee_1.id = " ..
     "wpoly_engineer_1.id LEFT OUTER JOIN wpoly_manager AS " ..
     "wpoly_manager_1 ON wpoly_employee_1.id = wpoly_manager_1.id) ON " ..
     "wpoly_company.id = wpoly_employee_1.company_id \nWHERE " ..
     "wpoly_manager_1.manager_name = ?",
   params = {"Sheldon"},
   rows = {{"Company(Chum Bucket:)"}}},
}

-- the statements: for flat = false, then flat = true
local function cases(Company, Employee, Engineer, Manager)
  local out = {}
  for _, flat in ipairs({false, true}) do
    local ee = orm.with_polymorphic(Employee, {Engineer},
                                    {aliased = true, flat = flat})
    local me = orm.with_polymorphic(Employee, {Manager},
                                    {aliased = true, flat = flat})
    -- two aliases of the hierarchy in one query
    out[#out + 1] = {"two aliases", sa.select(me, ee)
      :join(ee, ee.company_id:eq(me.company_id))
      :where(sa.or_(me.name:eq("Mr. Krabs"),
                    me.Manager.manager_name:eq("Eugene H. Krabs")))
      :order_by(ee.name, me.name)}
    local wp = orm.with_polymorphic(Employee, {Engineer, Manager},
                                    {aliased = true, flat = flat})
    out[#out + 1] = {"entity", sa.select(wp):order_by(wp.id)}
    out[#out + 1] = {"of_type join", sa.select(Company.name, wp.name)
      :join(Company.employees:of_type(wp))
      :where(sa.or_(wp.Engineer.engineer_name:eq("SpongeBob S"),
                    wp.Manager.manager_name:eq("Sheldon")))
      :order_by(wp.id)}
    out[#out + 1] = {"joinedload of_type", sa.select(Company)
      :options(orm.joinedload(Company.employees:of_type(wp)))
      :order_by(Company.id), true}
    out[#out + 1] = {"join with ON", sa.select(Company.name, wp.name)
      :join(wp, Company.id:eq(wp.company_id)):order_by(wp.id)}
  end
  -- (the companies' employees are not loaded by these)
  for _, flat in ipairs({false, true}) do
    local wp = orm.with_polymorphic(Employee, {Engineer, Manager},
                                    {aliased = true, flat = flat})
    out[#out + 1] = {"join along a relationship", sa.select(Company, wp)
      :join(wp, Company.employees)
      :where(wp.Engineer.engineer_name:ne("x")):order_by(wp.id), false,
      true}
    out[#out + 1] = {"outerjoin of_type", sa.select(Company)
      :outerjoin(Company.employees:of_type(wp))
      :where(wp.Manager.manager_name:eq("Sheldon")), false, true}
  end
  return out
end

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base, Company, Employee, Engineer, Manager = schema()
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    local c1 = Company{name = "Krusty Krab"}
    local c2 = Company{name = "Chum Bucket"}
    s:add_all{c1, c2,
      Manager{name = "Mr. Krabs", manager_name = "Eugene H. Krabs",
              company = c1},
      Engineer{name = "SpongeBob", engineer_name = "SpongeBob S",
               company = c1},
      Engineer{name = "Squidward", engineer_name = "Squidward T",
               company = c1},
      Manager{name = "Plankton", manager_name = "Sheldon", company = c2},
      Engineer{name = "Karen", engineer_name = "Karen P", company = c2},
      Employee{name = "Gary", company = c1}}
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params)
      log[#log + 1] = {sql = sql, params = params}
    end)

  for i, c in ipairs(cases(Company, Employee, Engineer, Manager)) do
    local name = ((i <= 5 or i == 11 or i == 12) and "aliased " or
                  "flat ") .. c[1]
    T.test(pfx .. name, function()
      local s <close> = orm.Session(engine)
      for k = #log, 1, -1 do log[k] = nil end
      local r = s:execute(c[2])
      if c[3] then r = r:unique() end
      local rows = {}
      for k, row in ipairs(r:all()) do
        rows[k] = {}
        for j = 1, #row do rows[k][j] = fmt(row[j], c[4]) end
      end
      T.eq(#log, 1)
      T.eq(norm(log[1].sql), expected[i].sql)
      T.eq(log[1].params, expected[i].params)
      T.eq(rows, expected[i].rows)
    end)
  end

  -- selectinload(Company.employees:of_type(wp)): the second statement
  -- selects from wp's selectable (SQLAlchemy's, then its objects)
  local selectin_expected = {
  {sql = "SELECT anon_1.wpoly_employee_company_id AS " ..
     "anon_1_wpoly_employee_company_id, anon_1.wpoly_employee_id AS " ..
     "anon_1_wpoly_employee_id, anon_1.wpoly_employee_name AS " ..
     "anon_1_wpoly_employee_name, anon_1.wpoly_employee_type AS " ..
     "anon_1_wpoly_employee_type, anon_1.wpoly_engineer_id AS " ..
     "anon_1_wpoly_engineer_id, anon_1.wpoly_engineer_engineer_name AS " ..
     "anon_1_wpoly_engineer_engineer_name, anon_1.wpoly_manager_id AS " ..
     "anon_1_wpoly_manager_id, anon_1.wpoly_manager_manager_name AS " ..
     "anon_1_wpoly_manager_manager_name \nFROM (SELECT wpoly_employee.id " ..
     "AS wpoly_employee_id, wpoly_employee.name AS wpoly_employee_name, " ..
     "wpoly_employee.type AS wpoly_employee_type, " ..
     "wpoly_employee.company_id AS wpoly_employee_company_id, " ..
     "wpoly_engineer.id AS wpoly_engineer_id, " ..
     "wpoly_engineer.engineer_name AS wpoly_engineer_engineer_name, " ..
     "wpoly_manager.id AS wpoly_manager_id, wpoly_manager.manager_name " ..
     "AS wpoly_manager_manager_name \nFROM wpoly_employee LEFT OUTER " ..
     "JOIN wpoly_engineer ON wpoly_employee.id = wpoly_engineer.id LEFT " ..
     "OUTER JOIN wpoly_manager ON wpoly_employee.id = wpoly_manager.id) " ..
     "AS anon_1 \nWHERE anon_1.wpoly_employee_company_id IN (?, ?) ORDER " ..
     "BY anon_1.wpoly_employee_id",
   params = {1, 2},
   rows = {
     "Company(Krusty Krab:Manager(Mr. Krabs,Eugene H. Krabs)," ..
      "Engineer(SpongeBob,SpongeBob S),Engineer(Squidward," ..
      "Squidward T),Employee(Gary,None))",
     "Company(Chum Bucket:Manager(Plankton,Sheldon),Engineer(Karen,Karen P))"
   }},
  {sql = "SELECT wpoly_employee_1.company_id AS wpoly_employee_1_company_id, " ..
     "wpoly_employee_1.id AS wpoly_employee_1_id, wpoly_employee_1.name " ..
     "AS wpoly_employee_1_name, wpoly_employee_1.type AS " ..
     "wpoly_employee_1_type, wpoly_engineer_1.id AS wpoly_engineer_1_id, " ..
     "wpoly_engineer_1.engineer_name AS wpoly_engineer_1_engineer_name, " ..
     "wpoly_manager_1.id AS wpoly_manager_1_id, " ..
     "wpoly_manager_1.manager_name AS wpoly_manager_1_manager_name " ..
     "\nFROM wpoly_employee AS wpoly_employee_1 LEFT OUTER JOIN " ..
     "wpoly_engineer AS wpoly_engineer_1 ON wpoly_employee_1.id = " ..
     "wpoly_engineer_1.id LEFT OUTER JOIN wpoly_manager AS " ..
     "wpoly_manager_1 ON wpoly_employee_1.id = wpoly_manager_1.id " ..
     "\nWHERE wpoly_employee_1.company_id IN (?, ?) ORDER BY " ..
     "wpoly_employee_1.id",
   params = {1, 2},
   rows = {
     "Company(Krusty Krab:Manager(Mr. Krabs,Eugene H. Krabs)," ..
      "Engineer(SpongeBob,SpongeBob S),Engineer(Squidward," ..
      "Squidward T),Employee(Gary,None))",
     "Company(Chum Bucket:Manager(Plankton,Sheldon),Engineer(Karen,Karen P))"
   }},
  }
  for k, flat in ipairs({false, true}) do
    T.test(pfx .. (flat and "flat" or "aliased") .. " selectinload of_type",
           function()
      local wp = orm.with_polymorphic(Employee, {Engineer, Manager},
                                      {aliased = true, flat = flat})
      local s <close> = orm.Session(engine)
      for q = #log, 1, -1 do log[q] = nil end
      local cs = s:scalars(sa.select(Company)
        :options(orm.selectinload(Company.employees:of_type(wp)))
        :order_by(Company.id)):all()
      local got = {}
      for q, c in ipairs(cs) do got[q] = fmt(c) end
      T.eq(#log, 2)
      T.eq(norm(log[2].sql), selectin_expected[k].sql)
      T.eq(log[2].params, selectin_expected[k].params)
      T.eq(got, selectin_expected[k].rows)
    end)
  end

  T.test(pfx .. "with_polymorphic options are checked", function()
    T.raises("ArgumentError", function()
      orm.with_polymorphic(Employee, {Engineer}, true)
    end)
    T.raises("InvalidRequestError", function()
      orm.with_polymorphic(Engineer, {Manager}, {aliased = true})
    end)
    local t = Employee.__table__
    T.raises("ArgumentError", function()
      orm.with_polymorphic(Employee, {Engineer},
                           {flat = true, selectable = t:select():subquery()})
    end)
  end)

  Base.metadata:drop_all(engine)
end

-- single-table inheritance: the one table is aliased (not a subquery),
-- aliased or flat, as SQLAlchemy does
for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base = orm.declarative_base()
  local Employee = Base:class "Employee" {
    __tablename__ = "wpoly_single",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    type = Column(String(50)),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
  }
  local Engineer = Employee:class "Engineer" {
    engineer_name = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "engineer"},
  }
  local Manager = Employee:class "Manager" {
    manager_name = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "manager"},
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all{Employee{id = 1, name = "a"},
              Engineer{id = 2, name = "b", engineer_name = "x"},
              Manager{id = 3, name = "c", manager_name = "y"}}
    s:commit()
  end
  for _, o in ipairs({{aliased = true}, {flat = true}}) do
    T.test(pfx .. "single-table " .. (o.flat and "flat" or "aliased"),
           function()
      local wp = orm.with_polymorphic(Employee, {Engineer}, o)
      local stmt = sa.select(wp):where(wp.Engineer.engineer_name:ne("z"))
        :order_by(wp.id)
      T.eq(tostring(stmt),
        "SELECT wpoly_single_1.id, wpoly_single_1.name, " ..
        "wpoly_single_1.type, wpoly_single_1.engineer_name \n" ..
        "FROM wpoly_single AS wpoly_single_1 \n" ..
        "WHERE wpoly_single_1.engineer_name != :engineer_name_1 " ..
        "ORDER BY wpoly_single_1.id")
      local s <close> = orm.Session(engine)
      local got = {}
      for i, x in ipairs(s:scalars(stmt):all()) do
        got[i] = x.__class__.__name__ .. " " .. x.name .. " " ..
                 x.engineer_name
      end
      T.eq(got, {"Engineer b x"})
    end)
  end
  Base.metadata:drop_all(engine)
end

T.done()
