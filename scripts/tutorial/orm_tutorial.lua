-- orm_tutorial.lua -- the ORM tutorial of the SQLAlchemy documentation
-- (sections 2.1.3 to 2.1.11, the parts without relationships) in retort.
-- It prints what orm_tutorial.py prints on SQLAlchemy 1.4; the test
-- compares the two outputs (orm_tutorial.expected).
--
--   retort scripts/tutorial/orm_tutorial.lua

local function show(label, value) print(label .. ": " .. tostring(value)) end

-- Python's print(a, b): the values separated by one space
local function pyprint(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  print(table.concat(parts, " "))
end

-- Python's repr of a list, for lists of objects, rows and strings
local function pylist(items)
  local parts = {}
  for i, x in ipairs(items) do
    parts[i] = type(x) == "string" and ("'" .. x .. "'") or tostring(x)
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function user_tostring(self)
  return string.format("<User('%s','%s', '%s')>", self.name, self.fullname,
                       self.password)
end

-- 2.1.3 - 2.1.4
local engine = create_engine("sqlite://")
local metadata = MetaData()
local users_table = Table("users", metadata,
  Column("id", Integer, {primary_key = true}),
  Column("name", String),
  Column("fullname", String),
  Column("password", String))
metadata:create_all(engine)
local names = {}
for _, c in ipairs(users_table.c) do names[#names + 1] = c.name end
show("2.1.4 columns", pylist(names))

-- 2.1.5 - 2.1.6: classical mapping
local PlainUser = {__name__ = "User", __tostring = user_tostring}
orm.registry():map_imperatively(PlainUser, users_table)
local ed = PlainUser{}
ed.name, ed.fullname, ed.password = "ed", "Ed Jones", "edspassword"
show("2.1.6 name", ed.name)
show("2.1.6 password", ed.password)
show("2.1.6 id", ed.id == nil and "None" or ed.id)

-- 2.1.7: declarative
local Base = orm.declarative_base()
local User = Base:class "User" {
  __tablename__ = "users",
  id = Column(Integer, {primary_key = true}),
  name = Column(String),
  fullname = Column(String),
  password = Column(String),
  __tostring = user_tostring,
}
show("2.1.7 table", User.__table__.name)
Base.metadata:create_all(engine)

-- 2.1.8 - 2.1.9
local Session = orm.sessionmaker{bind = engine}
local session = Session()
local ed_user = User{name = "ed", fullname = "Ed Jones", password = "edspassword"}
session:add(ed_user)
local our_user = session:query(User):filter_by{name = "ed"}:first()
show("2.1.9 our_user", our_user)
show("2.1.9 same object", ed_user == our_user and "True" or "False")
session:add_all{
  User{name = "wendy", fullname = "Wendy Williams", password = "foobar"},
  User{name = "mary", fullname = "Mary Contrary", password = "xxg527"},
  User{name = "fred", fullname = "Fred Flinstone", password = "blah"}}
ed_user.password = "f8s7ccs"
show("2.1.9 dirty", pylist(session.dirty))
show("2.1.9 new", pylist(session.new))
session:commit()
show("2.1.9 id", ed_user.id)

-- 2.1.10
ed_user.name = "Edwardo"
local fake_user = User{name = "fakeuser", fullname = "Invalid", password = "12345"}
session:add(fake_user)
show("2.1.10 flushed", pylist(
  session:query(User):filter(User.name:in_{"Edwardo", "fakeuser"}):all()))
session:rollback()
show("2.1.10 name", ed_user.name)
show("2.1.10 fake in session", session:contains(fake_user) and "True" or "False")
show("2.1.10 after", pylist(
  session:query(User):filter(User.name:in_{"ed", "fakeuser"}):all()))

-- 2.1.11
for instance in session:query(User):order_by(User.id) do
  pyprint(instance.name, instance.fullname)
end
for row in session:query(User.name, User.fullname) do
  pyprint(row.name, row.fullname)
end
for _, row in ipairs(session:query(User, User.name):all()) do
  pyprint(row.User, row.name)
end
for u in session:query(User):order_by(User.id):slice(1, 3) do print(u) end
for row in session:query(User.name):filter_by{fullname = "Ed Jones"} do
  print(row.name)
end
for row in session:query(User.name):filter(User.fullname:eq("Ed Jones")) do
  print(row.name)
end
for user in session:query(User):filter(User.name:eq("ed"))
                               :filter(User.fullname:eq("Ed Jones")) do
  print(user)
end
local query = session:query(User):filter(User.name:like("%ed")):order_by(User.id)
show("2.1.11 all", pylist(query:all()))
show("2.1.11 first", query:first())
local ok, e = pcall(query.one, query)
if not ok and e:isa("MultipleResultsFound") then show("2.1.11 one", e.message) end
ok, e = pcall(function() return query:filter(User.id:eq(99)):one() end)
if not ok and e:isa("NoResultFound") then show("2.1.11 one", e.message) end
for _, user in ipairs(session:query(User):filter(text("id<224"))
                             :order_by(text("id")):all()) do
  print(user.name)
end
show("2.1.11 params", session:query(User):filter(
  text("id<:value and name=:name")):params{value = 224, name = "fred"}
  :order_by(User.id):one())
show("2.1.11 count", session:query(User):filter(User.name:like("%ed")):count())
show("2.1.11 count columns", session:query(User.id, User.name):filter(
  User.name:like("%ed")):count())
show("2.1.11 count groups",
     session:query(User.name):group_by(User.name):count())
show("2.1.11 func.count", pylist(
  session:query(func.count(User.name), User.name):group_by(User.name)
         :order_by(User.name):all()))
session:close()
