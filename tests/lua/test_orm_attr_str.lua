-- tostring() of a mapped class's attributes: "Class.key" as SQLAlchemy's
-- InstrumentedAttribute prints (of an aliased class "AliasedClass_Class.key"),
-- while SQL made from one is its column's.  Expected strings are
-- SQLAlchemy 1.4's str() of the same constructs.
local T = require "testing"

local function norm(s) return (s:gsub("%s+", " ")) end

local Base = orm.declarative_base()
local User = Base:class "User" {
  __tablename__ = "user_account",
  id = Column(Integer, {primary_key = true}),
  name = Column("uname", String(30)),
  fullname = Column(String),
  full = orm.column_property(literal_column("'x'")),
  both = orm.hybrid_property(function(self) return self.name .. self.fullname end),
  syn = orm.synonym("name"),
  addresses = orm.relationship("Address"),
}
local Address = Base:class "Address" {
  __tablename__ = "address",
  id = Column(Integer, {primary_key = true}),
  user_id = Column(ForeignKey("user_account.id")),
}
local Emp = Base:class "Emp" {
  __tablename__ = "emp",
  id = Column(Integer, {primary_key = true}),
  type = Column(String(10)),
  ename = Column(String),
  __mapper_args__ = {polymorphic_on = "type", polymorphic_identity = "e"},
}
local Mgr = Emp:class "Mgr" {
  __tablename__ = "mgr",
  id = Column(ForeignKey("emp.id"), {primary_key = true}),
  level = Column(Integer),
  __mapper_args__ = {polymorphic_identity = "m"},
}
local ua = orm.aliased(User)
local u2 = orm.aliased(User, {name = "u2"})

T.test("attributes print as Class.key", function()
  local got = {}
  for _, a in ipairs{User.name, User.id, User.full, User.both, User.syn,
                     User.addresses, ua.name, u2.id, ua.full, ua.both,
                     Mgr.level, Mgr.ename, Mgr.id, Emp.ename,
                     orm.inspect(User).attrs.name,
                     orm.inspect(User).columns.name} do
    got[#got + 1] = tostring(a)
  end
  T.eq(got, {"User.name", "User.id", "User.full", "User.both", "User.syn",
             "User.addresses", "AliasedClass_User.name",
             "AliasedClass_User.id", "AliasedClass_User.full",
             "AliasedClass_User.both", "Mgr.level", "Mgr.ename", "Mgr.id",
             "Emp.ename", "User.name", "user_account.uname"})
  T.eq(tostring(ua.addresses), "AliasedClass_User.addresses")
  T.eq(tostring(orm.inspect(User).attrs.addresses), "User.addresses")
  -- the same attribute object each time it is read
  T.ok(rawequal(User.name, User.name))
  T.ok(rawequal(ua.name, ua.name))
  T.ok(User.name == User.__table__.c.uname)
end)

T.test("expressions made from attributes are their columns'", function()
  local cases = {
    {User.name:eq("x"), "user_account.uname = :uname_1"},
    {User.name:label("n"), "user_account.uname"},
    {User.name:desc(), "user_account.uname DESC"},
    {ua.name:eq(5), "user_account_1.uname = :uname_1"},
    {u2.id:gt(3), "u2.id > :id_1"},
    {Mgr.level + 1, "mgr.level + :level_1"},
    {User.both:eq("q"), "user_account.uname || user_account.fullname = :param_1"},
    {select(User.name, ua.id):where(User.id:eq(ua.id)),
     "SELECT user_account.uname, user_account_1.id FROM user_account, " ..
     "user_account AS user_account_1 WHERE user_account.id = user_account_1.id"},
    {select(Mgr.level), "SELECT mgr.level FROM emp JOIN mgr ON emp.id = mgr.id"},
    {func.lower(User.name), "lower(user_account.uname)"},
  }
  for i, c in ipairs(cases) do T.eq(norm(tostring(c[1])), c[2], i) end
  T.eq(select(User.name):where(User.id:eq(5)):compile("postgresql").sql,
       "SELECT user_account.uname \nFROM user_account \nWHERE user_account.id = $1")
end)

T.test("an attribute is an event target and a select() column", function()
  local e = create_engine("sqlite://")
  Base.metadata:create_all(e)
  local seen = {}
  orm.event.listen(User.name, "set", function(_, v) seen[#seen + 1] = v end)
  local s = orm.Session(e)
  s:add(User{name = "a", fullname = "b"})
  s:commit()
  T.eq(seen, {"a"})
  local row = s:execute(select(User.name, ua.name)
    :join_from(User, ua, User.id:eq(ua.id))):one()
  T.eq({row[1], row[2]}, {"a", "a"})
  s:close()
end)

T.done()
