-- Relationships on every test database, against classes of inheritance
-- hierarchies and aliased entities: many-to-many to a subclass of joined
-- inheritance (its foreign key in an ancestor's table) in every loader
-- strategy; relationships to an AbstractConcreteBase; aliased() of a
-- single-table subclass and joins to one; aliased() over a subquery of
-- the columns in another order; the flush's order of association rows
-- and deletes, merge() and refresh(); relationship comparisons;
-- of_type() in loader options.  The expected SQL and results are
-- SQLAlchemy 1.4's for the same steps.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local assoc = Table("r6_assoc", Base.metadata,
    Column("p_id", Integer, ForeignKey("r6_p.id"), {primary_key = true}),
    Column("e_id", Integer, ForeignKey("r6_emp.id"), {primary_key = true}))
  M.P = Base:class "P" {
    __tablename__ = "r6_p",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    emps = relationship("Emp", {secondary = assoc, order_by = "Emp.id"}),
    engs = relationship("Eng", {secondary = assoc, order_by = "Eng.id",
                                viewonly = true}),
  }
  M.Emp = Base:class "Emp" {
    __tablename__ = "r6_emp",
    id = Column(Integer, {primary_key = true}),
    kind = Column(String(20)),
    name = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "kind", polymorphic_identity = "emp"},
  }
  M.Eng = M.Emp:class "Eng" {
    __tablename__ = "r6_eng",
    id = Column(Integer, ForeignKey("r6_emp.id"), {primary_key = true}),
    lang = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "eng"},
  }
  return M
end

local function norm(sql)
  sql = sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " ")
    :gsub(" INNER JOIN ", " JOIN ")
  return sql
end

-- class, name and lang of each object of a list
local function rows_of(list)
  local out = {}
  for i, x in ipairs(list) do
    out[i] = {x.__class__.__name__, x.name, x.lang or "-"}
  end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local P, Emp, Eng = M.P, M.Emp, M.Eng
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all({
      P{id = 1, name = "a", emps = {Emp{id = 1, name = "x"},
                                   Eng{id = 2, name = "y", lang = "c"}}},
      P{id = 2, name = "b", emps = {Eng{id = 3, name = "z", lang = "lua"}}}})
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local pfx = db.name .. ": "

  T.test(pfx .. "many-to-many to a joined subclass in every strategy",
         function()
    local s <close> = orm.Session(engine)
    local inner = "JOIN (r6_emp JOIN r6_eng ON r6_emp.id = r6_eng.id) ON " ..
      "r6_emp.id = r6_assoc_1.e_id"
    local cols = "r6_eng.id AS r6_eng_id, r6_emp.id AS r6_emp_id, " ..
      "r6_emp.kind AS r6_emp_kind, r6_emp.name AS r6_emp_name, " ..
      "r6_eng.lang AS r6_eng_lang"
    local expect = {
      selectinload = "SELECT r6_p_1.id AS r6_p_1_id, " .. cols ..
        " FROM r6_p AS r6_p_1 JOIN r6_assoc AS r6_assoc_1 ON r6_p_1.id = " ..
        "r6_assoc_1.p_id " .. inner .. " WHERE r6_p_1.id IN (?, ?) " ..
        "ORDER BY r6_eng.id",
      subqueryload = "SELECT " .. cols .. ", anon_1.r6_p_id AS " ..
        "anon_1_r6_p_id FROM (SELECT r6_p.id AS r6_p_id FROM r6_p) AS " ..
        "anon_1 JOIN r6_assoc AS r6_assoc_1 ON anon_1.r6_p_id = " ..
        "r6_assoc_1.p_id " .. inner .. " ORDER BY r6_eng.id",
      joinedload = "SELECT r6_p.id, r6_p.name, r6_eng_1.id AS id_1, " ..
        "r6_emp_1.id AS id_2, r6_emp_1.kind, r6_emp_1.name AS name_1, " ..
        "r6_eng_1.lang FROM r6_p LEFT OUTER JOIN (r6_assoc AS r6_assoc_1 " ..
        "JOIN (r6_emp AS r6_emp_1 JOIN r6_eng AS r6_eng_1 ON r6_emp_1.id = " ..
        "r6_eng_1.id) ON r6_emp_1.id = r6_assoc_1.e_id) ON r6_p.id = " ..
        "r6_assoc_1.p_id ORDER BY r6_p.id, r6_eng_1.id",
    }
    for _, opt in ipairs({"selectinload", "subqueryload", "joinedload"}) do
      clear()
      local ps = s:scalars(select(P):options(orm[opt](P.engs))
        :order_by(P.id)):unique():all()
      T.eq(log[#log], expect[opt], opt)
      T.eq(#log, opt == "joinedload" and 1 or 2, opt)
      T.eq(rows_of(ps[1].engs), {{"Eng", "y", "c"}}, opt)
      T.eq(rows_of(ps[2].engs), {{"Eng", "z", "lua"}}, opt)
      T.eq(#log, opt == "joinedload" and 1 or 2, opt)
      T.ok(rawequal(ps[2].engs[1], s:get(Eng, 3)))
      s:close()
    end
    -- lazy: the secondary first in the FROM list, labelled columns
    clear()
    local ps = s:scalars(select(P):order_by(P.id)):all()
    T.eq(rows_of(ps[1].engs), {{"Eng", "y", "c"}})
    T.eq(log[2], "SELECT " .. cols .. " FROM r6_assoc, r6_emp JOIN r6_eng " ..
      "ON r6_emp.id = r6_eng.id WHERE ? = r6_assoc.p_id AND r6_emp.id = " ..
      "r6_assoc.e_id ORDER BY r6_eng.id")
    T.eq(#log, 2)
    s:close()
    -- to the base class: its own table, each row its class
    clear()
    ps = s:scalars(select(P):options(orm.selectinload(P.emps))
      :order_by(P.id)):all()
    T.eq(log[2], "SELECT r6_p_1.id AS r6_p_1_id, r6_emp.id AS r6_emp_id, " ..
      "r6_emp.kind AS r6_emp_kind, r6_emp.name AS r6_emp_name FROM r6_p AS " ..
      "r6_p_1 JOIN r6_assoc AS r6_assoc_1 ON r6_p_1.id = r6_assoc_1.p_id " ..
      "JOIN r6_emp ON r6_emp.id = r6_assoc_1.e_id WHERE r6_p_1.id IN " ..
      "(?, ?) ORDER BY r6_emp.id")
    T.eq(rows_of(ps[1].emps), {{"Emp", "x", "-"}, {"Eng", "y", "c"}})
    T.eq(log[3], "SELECT r6_eng.lang AS r6_eng_lang FROM r6_eng WHERE ? = " ..
      "r6_eng.id")
    T.eq(#log, 3)
  end)

  T.test(pfx .. "relationships to an AbstractConcreteBase: its union",
         function()
    local Base = orm.declarative_base()
    local Company = Base:class "Company" {
      __tablename__ = "r6_a_company",
      id = Column(Integer, {primary_key = true}),
      -- (named before the abstract base is mapped)
      employees = relationship("Emp", {back_populates = "company"}),
    }
    local Emp = Base:class("Emp", orm.AbstractConcreteBase) {
      employee_id = Column(Integer, {primary_key = true}),
      company_id = orm.declared_attr(function()
        return Column(ForeignKey("r6_a_company.id"))
      end),
      company = orm.declared_attr(function()
        return relationship("Company", {back_populates = "employees"})
      end),
    }
    local Mgr = Emp:class "Mgr" {
      __tablename__ = "r6_a_manager",
      name = Column(String(50)),
      manager_data = Column(String(40)),
      __mapper_args__ = {polymorphic_identity = "manager", concrete = true},
    }
    local Eng = Emp:class "Eng" {
      __tablename__ = "r6_a_engineer",
      name = Column(String(50)),
      engineer_info = Column(String(40)),
      __mapper_args__ = {polymorphic_identity = "engineer", concrete = true},
    }
    Base.registry:configure()
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    local c = Company{id = 5}
    s:add_all({c, Mgr{employee_id = 1, name = "m", company = c},
               Eng{employee_id = 2, name = "e", company = c}})
    s:commit()
    s:close()
    local function got(list)
      local out = {}
      for i, x in ipairs(list) do out[i] = x.__class__.__name__ .. x.name end
      table.sort(out)
      return out
    end
    local union = "(SELECT r6_a_engineer.employee_id AS employee_id, " ..
      "r6_a_engineer.name AS name, r6_a_engineer.engineer_info AS " ..
      "engineer_info, r6_a_engineer.company_id AS company_id, CAST(NULL AS " ..
      "VARCHAR(40)) AS manager_data, 'engineer' AS type FROM r6_a_engineer " ..
      "UNION ALL SELECT r6_a_manager.employee_id AS employee_id, " ..
      "r6_a_manager.name AS name, CAST(NULL AS VARCHAR(40)) AS " ..
      "engineer_info, r6_a_manager.company_id AS company_id, " ..
      "r6_a_manager.manager_data AS manager_data, 'manager' AS type FROM " ..
      "r6_a_manager)"
    if db.name == "mysql" then
      union = union:gsub("VARCHAR%(40%)", "CHAR(40)")
    end
    -- lazy: the union's foreign key column
    clear()
    c = s:get(Company, 5)
    T.eq(got(c.employees), {"Enge", "Mgrm"})
    T.eq(log[2], "SELECT pjoin.employee_id AS pjoin_employee_id, " ..
      "pjoin.name AS pjoin_name, pjoin.engineer_info AS " ..
      "pjoin_engineer_info, pjoin.company_id AS pjoin_company_id, " ..
      "pjoin.manager_data AS pjoin_manager_data, pjoin.type AS pjoin_type " ..
      "FROM " .. union .. " AS pjoin WHERE ? = pjoin.company_id")
    T.eq(#log, 2)
    T.ok(rawequal(c.employees[1].company, c))
    T.eq(#log, 2)
    s:close()
    local expect = {
      selectinload = "SELECT pjoin.company_id AS pjoin_company_id, " ..
        "pjoin.employee_id AS pjoin_employee_id, pjoin.name AS pjoin_name, " ..
        "pjoin.engineer_info AS pjoin_engineer_info, pjoin.manager_data AS " ..
        "pjoin_manager_data, pjoin.type AS pjoin_type FROM " .. union ..
        " AS pjoin WHERE pjoin.company_id IN (?)",
      joinedload = "SELECT r6_a_company.id, pjoin_1.employee_id, " ..
        "pjoin_1.name, pjoin_1.engineer_info, pjoin_1.company_id, " ..
        "pjoin_1.manager_data, pjoin_1.type FROM r6_a_company LEFT OUTER " ..
        "JOIN " .. union .. " AS pjoin_1 ON r6_a_company.id = " ..
        "pjoin_1.company_id",
      subqueryload = "SELECT pjoin.employee_id AS pjoin_employee_id, " ..
        "pjoin.name AS pjoin_name, pjoin.engineer_info AS " ..
        "pjoin_engineer_info, pjoin.company_id AS pjoin_company_id, " ..
        "pjoin.manager_data AS pjoin_manager_data, pjoin.type AS " ..
        "pjoin_type, anon_1.r6_a_company_id AS anon_1_r6_a_company_id FROM " ..
        "(SELECT r6_a_company.id AS r6_a_company_id FROM r6_a_company) AS " ..
        "anon_1 JOIN " .. union .. " AS pjoin ON anon_1.r6_a_company_id = " ..
        "pjoin.company_id",
    }
    for _, opt in ipairs({"selectinload", "joinedload", "subqueryload"}) do
      clear()
      c = s:scalars(select(Company):options(orm[opt](Company.employees)))
        :unique():one()
      T.eq(log[#log], expect[opt], opt)
      T.eq(got(c.employees), {"Enge", "Mgrm"}, opt)
      T.eq(#log, opt == "joinedload" and 1 or 2, opt)
      s:close()
    end
    -- from the base: selectin of the many-to-one, one SELECT more
    clear()
    local r = s:scalars(select(Emp):options(orm.selectinload(Emp.company))
      :order_by(Emp.employee_id)):all()
    T.eq({r[1].company.id, r[2].company.id}, {5, 5})
    T.eq(log[2], "SELECT r6_a_company.id AS r6_a_company_id FROM " ..
      "r6_a_company WHERE r6_a_company.id IN (?)")
    T.eq(#log, 2)
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "aliased() of a single-table subclass; joins to one",
         function()
    local Base = orm.declarative_base()
    local Firm = Base:class "Firm" {
      __tablename__ = "r6_s_firms",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      staff = relationship("Staff", {order_by = "Staff.id"}),
    }
    local Staff = Base:class "Staff" {
      __tablename__ = "r6_s_staff",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      type = Column(String(20)),
      firm_id = Column(Integer, ForeignKey("r6_s_firms.id")),
      __mapper_args__ = {polymorphic_on = "type",
                         polymorphic_identity = "staff"},
    }
    local Boss = Staff:class "Boss" {
      golf = Column(String(20)),
      __mapper_args__ = {polymorphic_identity = "boss"},
    }
    local Clerk = Staff:class "Clerk" {
      desk = Column(String(20)),
      __mapper_args__ = {polymorphic_identity = "clerk"},
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all({
      Firm{id = 1, name = "f1", staff = {
        Boss{id = 1, name = "b", golf = "g"}, Staff{id = 2, name = "s"},
        Clerk{id = 3, name = "c", desk = "d"}}},
      Firm{id = 2, name = "f2", staff = {Clerk{id = 4, name = "c2",
                                               desk = "d2"}}}})
    s:commit()
    s:close()
    local function plain(rows)
      local out = {}
      for i, r in ipairs(rows) do
        out[i] = {}
        for j = 1, #r do out[i][j] = r[j] == nil and "NULL" or r[j] end
      end
      return out
    end
    local ba = orm.aliased(Boss)
    -- the entity: its own columns, its discriminator values in WHERE
    clear()
    local bs = s:scalars(select(ba):order_by(ba.id)):all()
    T.eq(log[1], "SELECT r6_s_staff_1.id, r6_s_staff_1.name, " ..
      "r6_s_staff_1.type, r6_s_staff_1.firm_id, r6_s_staff_1.golf FROM " ..
      "r6_s_staff AS r6_s_staff_1 WHERE r6_s_staff_1.type IN (?) ORDER BY " ..
      "r6_s_staff_1.id")
    T.eq(#bs, 1)
    T.eq({bs[1].__class__.__name__, bs[1].id, bs[1].golf}, {"Boss", 1, "g"})
    T.ok(rawequal(bs[1], s:get(Boss, 1)))
    -- joins to it: the criterion in the ON clause, whichever form
    local on = "r6_s_firms.id = r6_s_staff_1.firm_id AND " ..
      "r6_s_staff_1.type IN (?)"
    local joins = {
      function(q) return q:join(Firm.staff:of_type(ba)) end,
      function(q) return q:join(ba, Firm.staff) end,
      function(q) return q:join(ba, Firm.id:eq(ba.firm_id)) end,
      function(q) return q:join(ba) end,
    }
    for i, j in ipairs(joins) do
      clear()
      local rows = s:execute(j(select(Firm.name, ba.name))):all()
      T.eq(log[1], "SELECT r6_s_firms.name, r6_s_staff_1.name AS name_1 " ..
        "FROM r6_s_firms JOIN r6_s_staff AS r6_s_staff_1 ON " .. on, i)
      T.eq(plain(rows), {{"f1", "b"}}, i)
    end
    clear()
    local rows = s:execute(select(Firm.name, ba.name):outerjoin(ba)
      :order_by(Firm.id)):all()
    T.eq(log[1], "SELECT r6_s_firms.name, r6_s_staff_1.name AS name_1 " ..
      "FROM r6_s_firms LEFT OUTER JOIN r6_s_staff AS r6_s_staff_1 ON " .. on ..
      " ORDER BY r6_s_firms.id")
    T.eq(plain(rows), {{"f1", "b"}, {"f2", "NULL"}})
    -- its columns alone: the criterion in WHERE, kept last
    clear()
    rows = s:execute(select(ba.name, ba.golf):where(ba.golf:eq("g")))
      :all()
    T.eq(log[1], "SELECT r6_s_staff_1.name, r6_s_staff_1.golf FROM " ..
      "r6_s_staff AS r6_s_staff_1 WHERE r6_s_staff_1.golf = ? AND " ..
      "r6_s_staff_1.type IN (?)")
    T.eq(plain(rows), {{"b", "g"}})
    T.eq(s:scalars(select(ba.name)):all(), {"b"})
    -- two aliases of subclasses of one table
    local ca = orm.aliased(Clerk, {name = "cl"})
    clear()
    rows = s:execute(select(ca.name, ba.name)
      :join(ba, ba.firm_id:eq(ca.firm_id)):order_by(ca.id)):all()
    T.eq(log[1], "SELECT cl.name, r6_s_staff_1.name AS name_1 FROM " ..
      "r6_s_staff AS cl JOIN r6_s_staff AS r6_s_staff_1 ON " ..
      "r6_s_staff_1.firm_id = cl.firm_id AND r6_s_staff_1.type IN (?) " ..
      "WHERE cl.type IN (?) ORDER BY cl.id")
    T.eq(plain(rows), {{"c", "b"}})
    clear()
    rows = s:execute(select(ca, ba.name):join(ba, ba.firm_id:eq(ca.firm_id))
      :order_by(ca.id)):all()
    T.eq(log[1], "SELECT cl.id, cl.name, cl.type, cl.firm_id, cl.desk, " ..
      "r6_s_staff_1.name AS name_1 FROM r6_s_staff AS cl JOIN r6_s_staff " ..
      "AS r6_s_staff_1 ON r6_s_staff_1.firm_id = cl.firm_id AND " ..
      "r6_s_staff_1.type IN (?) WHERE cl.type IN (?) ORDER BY cl.id")
    T.eq(#rows, 1)
    T.eq({rows[1][1].__class__.__name__, rows[1][1].desk, rows[1][2]},
         {"Clerk", "d", "b"})
    -- the class itself as a join target
    for i, j in ipairs({
        function(q) return q:join(Boss, Firm.staff) end,
        function(q) return q:join(Boss, Firm.id:eq(Boss.firm_id)) end,
        function(q) return q:join(Boss) end}) do
      clear()
      rows = s:execute(j(select(Firm.name, Boss.name))):all()
      T.eq(log[1], "SELECT r6_s_firms.name, r6_s_staff.name AS name_1 " ..
        "FROM r6_s_firms JOIN r6_s_staff ON r6_s_firms.id = " ..
        "r6_s_staff.firm_id AND r6_s_staff.type IN (?)", i)
      T.eq(plain(rows), {{"f1", "b"}}, i)
    end
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "aliased() over a subquery of the columns in another order",
         function()
    local Base = orm.declarative_base()
    local User = Base:class "User" {
      __tablename__ = "r6_users",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      fullname = Column(String(20)),
      addresses = relationship("Address", {order_by = "Address.id"}),
    }
    local Address = Base:class "Address" {
      __tablename__ = "r6_addr",
      id = Column(Integer, {primary_key = true}),
      email = Column(String(20)),
      user_id = Column(Integer, ForeignKey("r6_users.id")),
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all({User{id = 1, name = "a", fullname = "A",
                    addresses = {Address{id = 1, email = "x"}}},
               User{id = 2, name = "b", fullname = "B"}})
    s:commit()
    s:close()
    local sq = select(User.fullname, User.name, User.id)
      :where(User.id:gt(0)):subquery()
    local ua = orm.aliased(User, sq)
    local inner = "(SELECT r6_users.fullname AS fullname, r6_users.name AS " ..
      "name, r6_users.id AS id FROM r6_users WHERE r6_users.id > ?) AS anon_1"
    clear()
    local us = s:scalars(select(ua):order_by(ua.id)):all()
    T.eq(log[1], "SELECT anon_1.id, anon_1.name, anon_1.fullname FROM " ..
      inner .. " ORDER BY anon_1.id")
    T.eq({us[1].id, us[1].name, us[1].fullname, us[2].fullname},
         {1, "a", "A", "B"})
    T.ok(rawequal(us[1], s:get(User, 1)))
    clear()
    local rows = s:execute(select(ua.name, Address.email)
      :join(ua.addresses)):all()
    T.eq(log[1], "SELECT anon_1.name, r6_addr.email FROM " .. inner ..
      " JOIN r6_addr ON anon_1.id = r6_addr.user_id")
    T.eq({#rows, rows[1][1], rows[1][2]}, {1, "a", "x"})
    s:close()
    clear()
    us = s:scalars(select(ua):options(orm.selectinload(ua.addresses))
      :order_by(ua.id)):all()
    T.eq(log[2], "SELECT r6_addr.user_id AS r6_addr_user_id, r6_addr.id " ..
      "AS r6_addr_id, r6_addr.email AS r6_addr_email FROM r6_addr WHERE " ..
      "r6_addr.user_id IN (?, ?) ORDER BY r6_addr.id")
    T.eq({#us[1].addresses, #us[2].addresses}, {1, 0})
    T.eq(#log, 2)
    s:close()
    -- other columns among the class's
    local sq3 = select(User.name, User.id, Address.email, User.fullname)
      :join(User.addresses):subquery()
    local ua3 = orm.aliased(User, sq3)
    clear()
    rows = s:execute(select(ua3, sq3.c.email)):all()
    T.eq(log[1], "SELECT anon_1.id, anon_1.name, anon_1.fullname, " ..
      "anon_1.email FROM (SELECT r6_users.name AS name, r6_users.id AS id, " ..
      "r6_addr.email AS email, r6_users.fullname AS fullname FROM r6_users " ..
      "JOIN r6_addr ON r6_users.id = r6_addr.user_id) AS anon_1")
    T.eq({#rows, rows[1][1].id, rows[1][1].fullname, rows[1][2]},
         {1, 1, "A", "x"})
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "the flush's order: association rows, deletes by level",
         function()
    local Base = orm.declarative_base()
    local tags = Table("r6_au_tags", Base.metadata,
      Column("p_id", Integer, ForeignKey("r6_au_p.id"), {primary_key = true}),
      Column("t_id", Integer, ForeignKey("r6_au_t.id"), {primary_key = true}))
    local Pa = Base:class "Pa" {
      __tablename__ = "r6_au_p",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      kids = relationship("K", {cascade = "all, delete-orphan",
                                order_by = "K.id"}),
      kset = relationship("S", {collection_class = "set",
                                cascade = "all, delete-orphan"}),
      kdict = relationship("D", {collection_class =
        orm.attribute_keyed_dict("key"), cascade = "all, delete-orphan"}),
      bullets = relationship("B", {collection_class = orm.ordering_list("pos"),
        order_by = "B.pos", cascade = "all, delete-orphan"}),
      tags = relationship("Tg", {secondary = tags, order_by = "Tg.id"}),
    }
    local K = Base:class "K" {
      __tablename__ = "r6_au_k",
      id = Column(Integer, {primary_key = true}),
      p_id = Column(Integer, ForeignKey("r6_au_p.id")),
    }
    local S = Base:class "S" {
      __tablename__ = "r6_au_s",
      id = Column(Integer, {primary_key = true}),
      p_id = Column(Integer, ForeignKey("r6_au_p.id")),
    }
    local D = Base:class "D" {
      __tablename__ = "r6_au_d",
      id = Column(Integer, {primary_key = true}),
      key = Column(String(10)),
      p_id = Column(Integer, ForeignKey("r6_au_p.id")),
    }
    local B = Base:class "B" {
      __tablename__ = "r6_au_b",
      id = Column(Integer, {primary_key = true}),
      pos = Column(Integer),
      p_id = Column(Integer, ForeignKey("r6_au_p.id")),
    }
    local Tg = Base:class "Tg" {
      __tablename__ = "r6_au_t",
      id = Column(Integer, {primary_key = true}),
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local function heads()
      local out = {}
      for i, l in ipairs(log) do
        out[i] = l:match("^(SELECT %S+)") or l:match("^(%S+ %S+ %S+)")
      end
      return out
    end
    local s <close> = orm.Session(engine)
    local p = Pa{id = 1, name = "p", kids = {K{id = 1}, K{id = 2}},
                 tags = {Tg{id = 1}, Tg{id = 2}}}
    p.kset:add(S{id = 1})
    p.kset:add(S{id = 2})
    p.kdict.a = D{id = 1, key = "a"}
    p.kdict.b = D{id = 2, key = "b"}
    p.bullets:append(B{id = 1})
    p.bullets:append(B{id = 2})
    s:add(p)
    clear()
    s:flush()
    -- both sides' rows, the association rows, then the next level
    T.eq(heads(), {"INSERT INTO r6_au_p", "INSERT INTO r6_au_t",
                   "INSERT INTO r6_au_tags", "INSERT INTO r6_au_b",
                   "INSERT INTO r6_au_d", "INSERT INTO r6_au_k",
                   "INSERT INTO r6_au_s"})
    s:commit()
    -- orphans: by class name
    p = s:get(Pa, 1)
    -- (loaded first: a lazy load would autoflush the removals before it)
    local _ = {p.kids[1], p.kdict.a, next(p.kset)}
    p.kids:remove(p.kids[1])
    p.kdict.a = nil
    for x in pairs(p.kset) do if x.id == 1 then p.kset:discard(x) end end
    clear()
    s:flush()
    T.eq(heads(), {"DELETE FROM r6_au_d", "DELETE FROM r6_au_k",
                   "DELETE FROM r6_au_s"})
    s:commit()
    -- merge: the target's collection first, then the items not in it
    s:close()
    clear()
    local m = s:merge(Pa{id = 1, name = "m", kids = {K{id = 2}, K{id = 7}}})
    T.eq(log, {
      "SELECT r6_au_p.id AS r6_au_p_id, r6_au_p.name AS r6_au_p_name FROM " ..
      "r6_au_p WHERE r6_au_p.id = ?",
      "SELECT r6_au_k.id AS r6_au_k_id, r6_au_k.p_id AS r6_au_k_p_id FROM " ..
      "r6_au_k WHERE ? = r6_au_k.p_id ORDER BY r6_au_k.id",
      "SELECT r6_au_k.id AS r6_au_k_id, r6_au_k.p_id AS r6_au_k_p_id FROM " ..
      "r6_au_k WHERE r6_au_k.id = ?"})
    T.eq({m.name, #m.kids, m.kids[2].id}, {"m", 2, 7})
    s:rollback()
    -- refresh(): the columns unlabelled
    p = s:get(Pa, 1)
    clear()
    s:refresh(p)
    T.eq(log, {"SELECT r6_au_p.id, r6_au_p.name FROM r6_au_p WHERE " ..
               "r6_au_p.id = ?"})
    -- delete: the collections load in declaration order; the deletes
    -- go level by level, by class name within one
    clear()
    s:delete(p)
    s:flush()
    T.eq(heads(), {"SELECT r6_au_k.id", "SELECT r6_au_s.id",
                   "SELECT r6_au_d.id", "SELECT r6_au_b.id",
                   "SELECT r6_au_t.id", "DELETE FROM r6_au_tags",
                   "DELETE FROM r6_au_b", "DELETE FROM r6_au_d",
                   "DELETE FROM r6_au_k", "DELETE FROM r6_au_s",
                   "DELETE FROM r6_au_p"})
    s:rollback()
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "relationship comparisons: ne(), eq(nil), ne(nil)",
         function()
    local Base = orm.declarative_base()
    local U = Base:class "U" {
      __tablename__ = "r6_bu_u",
      id = Column(Integer, {primary_key = true}),
      addrs = relationship("A", {back_populates = "u", order_by = "A.id"}),
    }
    local A = Base:class "A" {
      __tablename__ = "r6_bu_a",
      id = Column(Integer, {primary_key = true}),
      u_id = Column(Integer, ForeignKey("r6_bu_u.id")),
      u = relationship("U", {back_populates = "addrs"}),
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all({U{id = 1, addrs = {A{id = 1}, A{id = 2}}},
               U{id = 2, addrs = {A{id = 3}}}, U{id = 3}, A{id = 4}})
    s:commit()
    local u1 = s:get(U, 1)
    local function q(stmt)
      clear()
      local out = {}
      for i, x in ipairs(s:scalars(stmt):all()) do out[i] = x.id end
      return out
    end
    T.eq(q(select(A):where(A.u:ne(u1)):order_by(A.id)), {3, 4})
    T.eq(log[1], "SELECT r6_bu_a.id, r6_bu_a.u_id FROM r6_bu_a WHERE " ..
      "r6_bu_a.u_id != ? OR r6_bu_a.u_id IS NULL ORDER BY r6_bu_a.id")
    T.eq(q(select(A):where(A.u:ne(nil)):order_by(A.id)), {1, 2, 3})
    T.eq(log[1], "SELECT r6_bu_a.id, r6_bu_a.u_id FROM r6_bu_a WHERE " ..
      "r6_bu_a.u_id IS NOT NULL ORDER BY r6_bu_a.id")
    T.eq(q(select(A):where(A.u:eq(nil))), {4})
    T.eq(q(select(U):where(U.addrs:eq(nil))), {3})
    T.eq(log[1], "SELECT r6_bu_u.id FROM r6_bu_u WHERE NOT (EXISTS " ..
      "(SELECT 1 FROM r6_bu_a WHERE r6_bu_u.id = r6_bu_a.u_id))")
    T.eq(q(select(U):where(U.addrs:ne(nil)):order_by(U.id)), {1, 2})
    T.eq(log[1], "SELECT r6_bu_u.id FROM r6_bu_u WHERE EXISTS (SELECT 1 " ..
      "FROM r6_bu_a WHERE r6_bu_u.id = r6_bu_a.u_id) ORDER BY r6_bu_u.id")
    T.raises("InvalidRequestError", function()
      return U.addrs:ne(A{id = 9})
    end)
    -- an expired owner is refreshed before its key is read: lazy loads,
    -- with_parent(), comparisons
    local got = {
      function() return #u1.addrs end,
      function() return #s:scalars(select(A):where(
        orm.with_parent(u1, U.addrs))):all() end,
      function() return #s:scalars(select(A):where(A.u:eq(u1))):all() end,
    }
    for i, f in ipairs(got) do
      s:expire(u1)
      clear()
      T.eq(f(), 2, i)
      T.eq(log[1], "SELECT r6_bu_u.id AS r6_bu_u_id FROM r6_bu_u WHERE " ..
        "r6_bu_u.id = ?", i)
      T.eq(#log, 2, i)
    end
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "selectinload of_type(): the subclass's columns at once",
         function()
    local Base = orm.declarative_base()
    local Dp = Base:class "Dp" {
      __tablename__ = "r6_od",
      id = Column(Integer, {primary_key = true}),
      staff = relationship("Em", {order_by = "Em.id"}),
    }
    local Em = Base:class "Em" {
      __tablename__ = "r6_oemp",
      id = Column(Integer, {primary_key = true}),
      kind = Column(String(20)),
      name = Column(String(20)),
      d_id = Column(Integer, ForeignKey("r6_od.id")),
      __mapper_args__ = {polymorphic_on = "kind",
                         polymorphic_identity = "emp"},
    }
    local En = Em:class "En" {
      __tablename__ = "r6_oeng",
      id = Column(Integer, ForeignKey("r6_oemp.id"), {primary_key = true}),
      lang = Column(String(20)),
      __mapper_args__ = {polymorphic_identity = "eng"},
    }
    local Mg = Em:class "Mg" {
      __tablename__ = "r6_omgr",
      id = Column(Integer, ForeignKey("r6_oemp.id"), {primary_key = true}),
      golf = Column(String(20)),
      __mapper_args__ = {polymorphic_identity = "mgr"},
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all({Dp{id = 1, staff = {Em{id = 1, name = "x"},
                                   En{id = 2, name = "y", lang = "c"},
                                   Mg{id = 3, name = "m", golf = "g"}}},
               Dp{id = 2, staff = {En{id = 4, name = "z", lang = "lua"}}}})
    s:commit()
    s:close()
    clear()
    local ds = s:scalars(select(Dp):options(
      orm.selectinload(Dp.staff:of_type(En))):order_by(Dp.id)):all()
    T.eq(log[2], "SELECT anon_1.r6_oemp_d_id AS anon_1_r6_oemp_d_id, " ..
      "anon_1.r6_oemp_id AS anon_1_r6_oemp_id, anon_1.r6_oemp_kind AS " ..
      "anon_1_r6_oemp_kind, anon_1.r6_oemp_name AS anon_1_r6_oemp_name, " ..
      "anon_1.r6_oeng_id AS anon_1_r6_oeng_id, anon_1.r6_oeng_lang AS " ..
      "anon_1_r6_oeng_lang FROM (SELECT r6_oemp.id AS r6_oemp_id, " ..
      "r6_oemp.kind AS r6_oemp_kind, r6_oemp.name AS r6_oemp_name, " ..
      "r6_oemp.d_id AS r6_oemp_d_id, r6_oeng.id AS r6_oeng_id, " ..
      "r6_oeng.lang AS r6_oeng_lang FROM r6_oemp LEFT OUTER JOIN r6_oeng " ..
      "ON r6_oemp.id = r6_oeng.id) AS anon_1 WHERE anon_1.r6_oemp_d_id IN " ..
      "(?, ?) ORDER BY anon_1.r6_oemp_id")
    T.eq(#log, 2)
    -- the subclass's columns are loaded; another subclass's load on access
    T.eq(rows_of(ds[2].staff), {{"En", "z", "lua"}})
    T.eq({ds[1].staff[1].__class__.__name__, ds[1].staff[2].lang},
         {"Em", "c"})
    T.eq(#log, 2)
    T.eq(ds[1].staff[3].golf, "g")
    T.eq(log[3], "SELECT r6_omgr.golf AS r6_omgr_golf FROM r6_omgr WHERE " ..
      "? = r6_omgr.id")
    T.ok(rawequal(ds[2].staff[1], s:get(En, 4)))
    s:close()
    -- joinedload: the subquery outer joined
    clear()
    ds = s:scalars(select(Dp):options(orm.joinedload(Dp.staff:of_type(En)))
      :order_by(Dp.id)):unique():all()
    T.eq(log[1], "SELECT r6_od.id, anon_1.r6_oemp_id, anon_1.r6_oemp_kind, " ..
      "anon_1.r6_oemp_name, anon_1.r6_oemp_d_id, anon_1.r6_oeng_id, " ..
      "anon_1.r6_oeng_lang FROM r6_od LEFT OUTER JOIN (SELECT r6_oemp.id " ..
      "AS r6_oemp_id, r6_oemp.kind AS r6_oemp_kind, r6_oemp.name AS " ..
      "r6_oemp_name, r6_oemp.d_id AS r6_oemp_d_id, r6_oeng.id AS " ..
      "r6_oeng_id, r6_oeng.lang AS r6_oeng_lang FROM r6_oemp LEFT OUTER " ..
      "JOIN r6_oeng ON r6_oemp.id = r6_oeng.id) AS anon_1 ON r6_od.id = " ..
      "anon_1.r6_oemp_d_id ORDER BY r6_od.id, anon_1.r6_oemp_id")
    T.eq(rows_of(ds[1].staff), {{"Em", "x", "-"}, {"En", "y", "c"},
                                {"Mg", "m", "-"}})
    T.eq(rows_of(ds[2].staff), {{"En", "z", "lua"}})
    T.eq(#log, 1)
    s:close()
    -- subqueryload: the subquery joined to the keys' (anon_2)
    clear()
    ds = s:scalars(select(Dp):options(orm.subqueryload(Dp.staff:of_type(En)))
      :order_by(Dp.id)):all()
    T.eq(log[2], "SELECT anon_1.r6_oemp_id AS anon_1_r6_oemp_id, " ..
      "anon_1.r6_oemp_kind AS anon_1_r6_oemp_kind, anon_1.r6_oemp_name AS " ..
      "anon_1_r6_oemp_name, anon_1.r6_oemp_d_id AS anon_1_r6_oemp_d_id, " ..
      "anon_1.r6_oeng_id AS anon_1_r6_oeng_id, anon_1.r6_oeng_lang AS " ..
      "anon_1_r6_oeng_lang, anon_2.r6_od_id AS anon_2_r6_od_id FROM " ..
      "(SELECT r6_od.id AS r6_od_id FROM r6_od) AS anon_2 JOIN (SELECT " ..
      "r6_oemp.id AS r6_oemp_id, r6_oemp.kind AS r6_oemp_kind, " ..
      "r6_oemp.name AS r6_oemp_name, r6_oemp.d_id AS r6_oemp_d_id, " ..
      "r6_oeng.id AS r6_oeng_id, r6_oeng.lang AS r6_oeng_lang FROM r6_oemp " ..
      "LEFT OUTER JOIN r6_oeng ON r6_oemp.id = r6_oeng.id) AS anon_1 ON " ..
      "anon_2.r6_od_id = anon_1.r6_oemp_d_id ORDER BY anon_1.r6_oemp_id")
    T.eq(rows_of(ds[1].staff), {{"Em", "x", "-"}, {"En", "y", "c"},
                                {"Mg", "m", "-"}})
    T.eq(rows_of(ds[2].staff), {{"En", "z", "lua"}})
    T.eq(#log, 2)
    s:close()
    -- of_type(with_polymorphic(...)): its tables joined as they are
    local wp = orm.with_polymorphic(Em, {En, Mg})
    local cols = "r6_oemp.id AS r6_oemp_id, r6_oemp.kind AS r6_oemp_kind, " ..
      "r6_oemp.name AS r6_oemp_name"
    local tail = "r6_oeng.id AS r6_oeng_id, r6_oeng.lang AS r6_oeng_lang, " ..
      "r6_omgr.id AS r6_omgr_id, r6_omgr.golf AS r6_omgr_golf"
    local joins = "r6_oemp LEFT OUTER JOIN r6_oeng ON r6_oemp.id = " ..
      "r6_oeng.id LEFT OUTER JOIN r6_omgr ON r6_oemp.id = r6_omgr.id"
    local expect = {
      selectinload = "SELECT r6_oemp.d_id AS r6_oemp_d_id, " .. cols ..
        ", " .. tail .. " FROM " .. joins .. " WHERE r6_oemp.d_id IN " ..
        "(?, ?) ORDER BY r6_oemp.id",
      subqueryload = "SELECT " .. cols .. ", r6_oemp.d_id AS " ..
        "r6_oemp_d_id, " .. tail .. ", anon_1.r6_od_id AS anon_1_r6_od_id " ..
        "FROM (SELECT r6_od.id AS r6_od_id FROM r6_od) AS anon_1 JOIN (" ..
        joins .. ") ON anon_1.r6_od_id = r6_oemp.d_id ORDER BY r6_oemp.id",
    }
    for _, opt in ipairs({"selectinload", "subqueryload"}) do
      clear()
      ds = s:scalars(select(Dp):options(orm[opt](Dp.staff:of_type(wp)))
        :order_by(Dp.id)):all()
      T.eq(log[2], expect[opt], opt)
      T.eq({ds[1].staff[2].lang, ds[1].staff[3].golf}, {"c", "g"}, opt)
      T.eq(rows_of(ds[2].staff), {{"En", "z", "lua"}}, opt)
      T.eq(#log, 2, opt)
      s:close()
    end
    -- (joined loading needs an aliased with_polymorphic, as in SQLAlchemy)
    T.raises("InvalidRequestError", function()
      return s:scalars(select(Dp):options(orm.joinedload(
        Dp.staff:of_type(wp)))):all()
    end)
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "deleting a subtree of an adjacency list", function()
    local Base = orm.declarative_base()
    local Node
    Node = Base:class "Node" {
      __tablename__ = "r6_dn_node",
      id = Column(Integer, {primary_key = true}),
      parent_id = Column(Integer, ForeignKey("r6_dn_node.id")),
      data = Column(String(20)),
      children = relationship("Node", {backref = orm.backref("parent", {
        remote_side = function() return Node.id end}),
        order_by = "Node.id", cascade = "all, delete-orphan"}),
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add(Node{id = 1, data = "root", children = {
      Node{id = 2, data = "c1", children = {Node{id = 4, data = "g1"}}},
      Node{id = 3, data = "c2"}}})
    s:commit()
    s:close()
    local cols = "SELECT r6_dn_node.id AS r6_dn_node_id, " ..
      "r6_dn_node.parent_id AS r6_dn_node_parent_id, r6_dn_node.data AS " ..
      "r6_dn_node_data FROM r6_dn_node WHERE "
    clear()
    s:delete(s:get(Node, 2))
    s:flush()
    -- the cascade loads the children; the flush reads each deleted
    -- row's parent (SQLAlchemy sorts a self-referential table's rows
    -- one by one), then deletes the deepest first
    T.eq(log, {cols .. "r6_dn_node.id = ?",
               cols .. "? = r6_dn_node.parent_id ORDER BY r6_dn_node.id",
               cols .. "? = r6_dn_node.parent_id ORDER BY r6_dn_node.id",
               cols .. "r6_dn_node.id = ?",
               "DELETE FROM r6_dn_node WHERE r6_dn_node.id = ?",
               "DELETE FROM r6_dn_node WHERE r6_dn_node.id = ?"})
    local left = {}
    for i, n in ipairs(s:scalars(select(Node):order_by(Node.id)):all()) do
      left[i] = n.id
    end
    T.eq(left, {1, 3})
    s:rollback()
    s:close()
    Base.metadata:drop_all(engine)
  end)
end

T.done()
