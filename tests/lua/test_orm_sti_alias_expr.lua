-- An aliased() single-table subclass in expressions and FROM lists: the
-- discriminator criterion goes with func.count(b.id), func.max(b.id),
-- select_from(b) and select_from(Manager) as SQLAlchemy 1.4 adds it
-- (WHERE alias.type IN (...)), and not with columns of the WHERE
-- clause alone.  Expected SQL and rows are SQLAlchemy's.
local T = require "testing"

local function norm(sql)
  return (sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " "))
end

for _, db in ipairs(T.databases()) do
  local Base = orm.declarative_base()
  local Employee = Base:class "Employee" {
    __tablename__ = "sx_employee",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30)),
    type = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
  }
  local Manager = Employee:class "Manager" {
    mgr = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "manager"},
  }
  local Boss = Manager:class "Boss" {
    __mapper_args__ = {polymorphic_identity = "boss"},
  }
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all({Employee{id = 1, name = "e"}, Manager{id = 2, name = "m"},
               Manager{id = 3, name = "m"}, Boss{id = 4, name = "b"}})
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local pfx = db.name .. ": "
  local crit = "sx_employee_1.type IN (?, ?)"

  T.test(pfx .. "func.count(alias.id) of a single-table subclass",
         function()
    local s <close> = orm.Session(engine)
    local m = orm.aliased(Manager)
    T.eq(s:scalar(select(func.count(m.id))), 3)
    T.eq(log[#log], "SELECT count(sx_employee_1.id) AS count_1 FROM " ..
         "sx_employee AS sx_employee_1 WHERE " .. crit)
    T.eq(s:scalar(select(func.max(m.id)):where(m.name:eq("m"))), 3)
    T.eq(log[#log], "SELECT max(sx_employee_1.id) AS max_1 FROM " ..
         "sx_employee AS sx_employee_1 WHERE sx_employee_1.name = ? AND " ..
         crit)
    local rows = s:execute(select(m.name, func.count(m.id))
      :group_by(m.name):order_by(m.name)):all()
    T.eq(#rows, 2)
    T.eq({rows[1][1], rows[1][2], rows[2][1], rows[2][2]}, {"b", 1, "m", 2})
    T.eq(log[#log], "SELECT sx_employee_1.name, count(sx_employee_1.id) " ..
         "AS count_1 FROM sx_employee AS sx_employee_1 WHERE " .. crit ..
         " GROUP BY sx_employee_1.name ORDER BY sx_employee_1.name")
    -- a subquery of it keeps the criterion inside
    local sq = select(func.count(m.id)):subquery()
    T.eq(s:scalar(sq:select()), 3)
    T.eq(log[#log], "SELECT anon_1.count_1 FROM (SELECT " ..
         "count(sx_employee_1.id) AS count_1 FROM sx_employee AS " ..
         "sx_employee_1 WHERE " .. crit .. ") AS anon_1")
    -- the class itself, as before
    T.eq(s:scalar(select(func.count(Boss.id))), 1)
    T.eq(log[#log], "SELECT count(sx_employee.id) AS count_1 FROM " ..
         "sx_employee WHERE sx_employee.type IN (?)")
  end)

  T.test(pfx .. "select_from() of a single-table subclass or its alias",
         function()
    local s <close> = orm.Session(engine)
    local m = orm.aliased(Manager, {name = "mm"})
    T.eq(s:scalar(select(func.count()):select_from(m)), 3)
    T.eq(log[#log], "SELECT count(*) AS count_1 FROM sx_employee AS mm " ..
         "WHERE mm.type IN (?, ?)")
    T.eq(s:scalar(select(func.count()):select_from(m):where(m.name:eq("m"))),
         2)
    T.eq(log[#log], "SELECT count(*) AS count_1 FROM sx_employee AS mm " ..
         "WHERE mm.name = ? AND mm.type IN (?, ?)")
    T.eq(s:scalar(select(func.count()):select_from(Boss)), 1)
    T.eq(log[#log], "SELECT count(*) AS count_1 FROM sx_employee WHERE " ..
         "sx_employee.type IN (?)")
  end)

  T.test(pfx .. "a WHERE clause alone adds no criterion", function()
    local s <close> = orm.Session(engine)
    local m = orm.aliased(Manager)
    local n = s:scalar(select(func.count(Employee.id))
      :where(sa.exists():where(m.id:eq(Employee.id))))
    T.eq(n, 4)
    T.eq(log[#log], "SELECT count(sx_employee.id) AS count_1 FROM " ..
         "sx_employee WHERE EXISTS (SELECT * FROM sx_employee AS " ..
         "sx_employee_1 WHERE sx_employee_1.id = sx_employee.id)")
  end)

  Base.metadata:drop_all(engine)
end

T.done()
