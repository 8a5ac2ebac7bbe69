-- Session:execute's plan cache, on every test database: a select of the
-- same mapped entities again (other criteria, other parameter values)
-- reuses what the first taught, and a select of another shape -- another
-- mapper, two entities, an aliased class, a column, loader options, a
-- class of a hierarchy -- or a mapping changed since never gets a plan
-- that is not its own.  The expected statements, parameters and objects
-- are SQLAlchemy 1.4's for the same mappings and steps.
local T = require "testing"

-- PostgreSQL's placeholders are $n
local function norm(sql)
  return (sql:gsub("%$%d+", "?"))
end

-- statements run on `engine`: {sql, params}
local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql, params)
      log[#log + 1] = {norm(sql), params}
    end)
  return log
end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "pc_user",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(30)),
    addresses = relationship("Address"),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "pc_address",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    user_id = Column(Integer, ForeignKey("pc_user.id")),
    email = Column(String(50)),
  }
  M.Employee = Base:class "Employee" {
    __tablename__ = "pc_employee",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    type = Column(String(20)),
    name = Column(String(30)),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
  }
  M.Manager = M.Employee:class "Manager" {
    boss = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "manager"},
  }
  return M
end

-- each row as its items' class names and ids (or the value itself)
local function shapes(rows)
  local out = {}
  for i, row in ipairs(rows) do
    local r = {}
    for k = 1, orm._row_parts(row) or #row do
      local x = row[k]
      if type(x) ~= "string" and type(x) ~= "number" then
        r[k] = tostring(x):match("^(%w+)%(") .. ":" .. x.id
      else
        r[k] = x
      end
    end
    out[i] = r
  end
  return out
end

local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local M = schema()
  local User, Address, Employee, Manager = M.User, M.Address, M.Employee,
                                           M.Manager
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add(User{id = 1, name = "u1", addresses = {Address{id = 1,
                                                         email = "a1"}}})
    s:add(User{id = 2, name = "u2"})
    s:add(Employee{id = 1, name = "e1"})
    s:add(Manager{id = 2, name = "m1", boss = "b"})
    s:commit()
  end
  local log = capture(engine)

  -- the rows of stmt in a new session, and the statements it ran
  local function run(stmt, opts)
    clear(log)
    local s <close> = orm.Session(engine, opts)
    local got = shapes(s:execute(stmt):unique():all())
    local ran = {}
    for i, l in ipairs(log) do ran[i] = l end
    return got, ran
  end

  local USER_SQL = "SELECT pc_user.id, pc_user.name \nFROM pc_user \n" ..
                   "WHERE pc_user.id = ?"
  local ADDR_IN = "SELECT pc_address.user_id AS pc_address_user_id, " ..
                  "pc_address.id AS pc_address_id, pc_address.email AS " ..
                  "pc_address_email \nFROM pc_address \n" ..
                  "WHERE pc_address.user_id IN (?)"

  T.test(pfx .. "the same shape with other values reuses the entry", function()
    local n0 = orm._plan_cache_size()
    T.eq({run(select(User):where(User.id:eq(1)))},
         {{{"User:1"}}, {{USER_SQL, {1}}}})
    local n1 = orm._plan_cache_size()
    T.eq(n1 - n0, 1, "one new shape")
    T.eq({run(select(User):where(User.id:eq(2)))},
         {{{"User:2"}}, {{USER_SQL, {2}}}})
    -- other criteria: the same items
    T.eq({run(select(User):where(User.name:eq("u1")))},
         {{{"User:1"}}, {{"SELECT pc_user.id, pc_user.name \nFROM pc_user " ..
                          "\nWHERE pc_user.name = ?", {"u1"}}}})
    T.eq(orm._plan_cache_size(), n1, "no new shape")
  end)

  T.test(pfx .. "another mapper, two entities, a column", function()
    run(select(User):where(User.id:eq(1)))
    T.eq({run(select(Address):where(Address.id:eq(1)))},
         {{{"Address:1"}},
          {{"SELECT pc_address.id, pc_address.user_id, pc_address.email " ..
            "\nFROM pc_address \nWHERE pc_address.id = ?", {1}}}})
    local got = run(select(User, Address):join(User.addresses)
                    :where(User.id:eq(1)))
    T.eq(got, {{"User:1", "Address:1"}})
    T.eq((run(select(User.name):where(User.id:eq(2)))), {{"u2"}})
    -- and the single entity again, after the others
    T.eq((run(select(User):where(User.id:eq(2)))), {{"User:2"}})
  end)

  T.test(pfx .. "an aliased class is not its class", function()
    run(select(User):where(User.id:eq(2)))
    local ua = orm.aliased(User)
    T.eq({run(select(ua):where(ua.id:eq(2)))},
         {{{"User:2"}}, {{"SELECT pc_user_1.id, pc_user_1.name \nFROM " ..
                          "pc_user AS pc_user_1 \nWHERE pc_user_1.id = ?",
                          {2}}}})
    T.eq({run(select(ua):where(ua.id:eq(1)))},
         {{{"User:1"}}, {{"SELECT pc_user_1.id, pc_user_1.name \nFROM " ..
                          "pc_user AS pc_user_1 \nWHERE pc_user_1.id = ?",
                          {1}}}})
    T.eq({run(select(User):where(User.id:eq(1)))},
         {{{"User:1"}}, {{USER_SQL, {1}}}})
  end)

  T.test(pfx .. "loader options get their own plan", function()
    T.eq({run(select(User):where(User.id:eq(1)))},
         {{{"User:1"}}, {{USER_SQL, {1}}}})
    T.eq({run(select(User):where(User.id:eq(1))
              :options(orm.selectinload(User.addresses)))},
         {{{"User:1"}}, {{USER_SQL, {1}}, {ADDR_IN, {1}}}})
    T.eq({run(select(User):where(User.id:eq(1))
              :options(orm.joinedload(User.addresses)))},
         {{{"User:1"}},
          {{"SELECT pc_user.id, pc_user.name, pc_address_1.id AS id_1, " ..
            "pc_address_1.user_id, pc_address_1.email \nFROM pc_user LEFT " ..
            "OUTER JOIN pc_address AS pc_address_1 ON pc_user.id = " ..
            "pc_address_1.user_id \nWHERE pc_user.id = ?", {1}}}})
    -- and without them again: no eager load
    T.eq({run(select(User):where(User.id:eq(1)))},
         {{{"User:1"}}, {{USER_SQL, {1}}}})
  end)

  T.test(pfx .. "populate_existing on a cached shape", function()
    local s <close> = orm.Session(engine, {autoflush = false})
    local stmt = function() return select(User):where(User.id:eq(1)) end
    local u = s:execute(stmt()):scalars():one()
    u.name = "changed"
    T.ok(rawequal(s:execute(stmt()):scalars():one(), u))
    T.eq(u.name, "changed", "identity map wins")
    local u2 = s:execute(stmt():execution_options{populate_existing = true})
               :scalars():one()
    T.ok(rawequal(u2, u))
    T.eq(u.name, "u1", "refreshed from the row")
    u.name = "changed again"
    s:execute(stmt()):scalars():one()
    T.eq(u.name, "changed again", "no populate_existing left over")
  end)

  T.test(pfx .. "a hierarchy's classes", function()
    for _ = 1, 2 do
      T.eq({run(select(Employee):order_by(Employee.id))},
           {{{"Employee:1"}, {"Manager:2"}},
            {{"SELECT pc_employee.id, pc_employee.type, pc_employee.name " ..
              "\nFROM pc_employee ORDER BY pc_employee.id", {}}}})
      T.eq({run(select(Manager))},
           {{{"Manager:2"}},
            {{"SELECT pc_employee.id, pc_employee.type, pc_employee.name, " ..
              "pc_employee.boss \nFROM pc_employee \n" ..
              "WHERE pc_employee.type IN (?)", {"manager"}}}})
    end
  end)

  T.test(pfx .. "a relationship added later is loaded", function()
    -- a class of its own, so the others' mappings stay as they are
    local Base = orm.declarative_base()
    local Owner = Base:class "Owner" {
      __tablename__ = "pc_user",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      name = Column(String(30)),
    }
    local q = function(id) return select(Owner):where(Owner.id:eq(id)) end
    T.eq({run(q(1))}, {{{"Owner:1"}}, {{USER_SQL, {1}}}})
    T.eq({run(q(1))}, {{{"Owner:1"}}, {{USER_SQL, {1}}}})
    -- a class that gives Owner an eager collection by its backref
    Base:class "Mail" {
      __tablename__ = "pc_address",
      id = Column(Integer, {primary_key = true, autoincrement = false}),
      user_id = Column(Integer, ForeignKey("pc_user.id")),
      email = Column(String(50)),
      owner = relationship("Owner", {
        backref = orm.backref("mails", {lazy = "selectin"})}),
    }
    T.eq({run(q(1))}, {{{"Owner:1"}}, {{USER_SQL, {1}}, {ADDR_IN, {1}}}})
  end)

  T.test(pfx .. "events fire on a cached shape", function()
    local calls = 0
    local fn = function() calls = calls + 1 end
    orm.event.listen(engine, "before_cursor_execute", fn)
    run(select(User):where(User.id:eq(1)))
    run(select(User):where(User.id:eq(2)))
    orm.event.remove(engine, "before_cursor_execute", fn)
    T.eq(calls, 2)
  end)

  M.Base.metadata:drop_all(engine)
  engine:dispose()
end

T.done()
