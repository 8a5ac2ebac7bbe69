-- Relationship loading against classes of inheritance hierarchies and
-- aliased entities on every test database: many-to-many to a subclass of
-- joined inheritance (its foreign key to an ancestor's table) in every
-- loader strategy.  The expected SQL and results are SQLAlchemy 1.4's
-- for the same steps.
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
end

T.done()
