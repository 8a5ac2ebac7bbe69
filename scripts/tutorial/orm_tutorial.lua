-- orm_tutorial.lua -- the ORM tutorial of the SQLAlchemy documentation
-- (sections 2.1.3 to 2.1.16) in retort.
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

-- statements the session runs, as "VERB table" (printed per section)
local log = {}
orm.event.listen(engine, "before_cursor_execute",
  function(conn, cursor, sql)
    local tbl = sql:match("^INSERT INTO (%S+)") or sql:match("^UPDATE (%S+)")
                or sql:match("^DELETE FROM (%S+)")
    local verb = sql:match("^(%u+)")
    log[#log + 1] = tbl and (verb .. " " .. tbl) or verb
  end)
local function statements(label)
  show(label, table.concat(log, ", "))
  for i = #log, 1, -1 do log[i] = nil end
end
local function clear_log() for i = #log, 1, -1 do log[i] = nil end end

-- Python's repr of a string
local function pyrepr(v)
  if type(v) ~= "string" then return tostring(v) end
  if v:find("'") and not v:find('"') then return '"' .. v .. '"' end
  return "'" .. v .. "'"
end

local relationship, backref = orm.relationship, orm.backref
local function address_tostring(self)
  return "<Address('" .. self.email_address .. "')>"
end

-- 2.1.12
local Address = Base:class "Address" {
  __tablename__ = "addresses",
  id = Column(Integer, {primary_key = true}),
  email_address = Column(String, {nullable = false}),
  user_id = Column(Integer, ForeignKey("users.id")),
  user = relationship(User, {backref = backref("addresses",
                                               {order_by = "Address.id"})}),
  __tostring = address_tostring,
}
Base.metadata:create_all(engine)
local tnames = {}
for name in pairs(Base.metadata.tables) do tnames[#tnames + 1] = name end
table.sort(tnames)
show("2.1.12 tables", pylist(tnames))

-- 2.1.13
session = Session()
local jack = User{name = "jack", fullname = "Jack Bean", password = "gjffdd"}
show("2.1.13 addresses", jack.addresses)
jack.addresses = {Address{email_address = "jack@google.com"},
                  Address{email_address = "j25@yahoo.com"}}
show("2.1.13 addresses[1]", jack.addresses[2])
show("2.1.13 addresses[1].user", jack.addresses[2].user)
session:add(jack)
clear_log()
session:commit()
statements("2.1.13 commit")
jack = session:query(User):filter_by{name = "jack"}:one()
show("2.1.13 jack", jack)
statements("2.1.13 query")
show("2.1.13 lazy", jack.addresses)
statements("2.1.13 lazy load")
session:close()
session = Session()
jack = session:query(User):options(orm.joinedload(User.addresses))
              :filter_by{name = "jack"}:one()
show("2.1.13 joinedload", jack.addresses)
statements("2.1.13 joinedload")

-- 2.1.14
for _, row in ipairs(session:query(User, Address)
    :filter(User.id:eq(Address.user_id))
    :filter(Address.email_address:eq("jack@google.com")):all()) do
  pyprint(row[1], row[2])
end
show("2.1.14 join", pylist(session:query(User):join(Address):filter(
  Address.email_address:eq("jack@google.com")):all()))
show("2.1.14 join rel", pylist(session:query(User):join(User.addresses)
  :filter(Address.email_address:eq("jack@google.com")):all()))
show("2.1.14 join target rel", pylist(session:query(User):join(
  Address, User.addresses):filter(
  Address.email_address:eq("jack@google.com")):all()))
for row in session:query(User.name):filter(User.addresses:any()) do
  show("2.1.14 any", row.name)
end
for row in session:query(User.name):filter(
    User.addresses:any(Address.email_address:like("%google%"))) do
  show("2.1.14 any like", row.name)
end
show("2.1.14 not has", pylist(session:query(Address):filter(
  not_(Address.user:has(User.name:eq("jack")))):all()))
show("2.1.14 ==", pylist(session:query(Address):filter(Address.user:eq(jack))
  :order_by(Address.id):all()))
show("2.1.14 contains", pylist(session:query(User):filter(
  User.addresses:contains(jack.addresses[1])):all()))
show("2.1.14 with_parent", pylist(session:query(Address):filter(
  orm.with_parent(jack, User.addresses)):order_by(Address.id):all()))
clear_log()

-- 2.1.15
session:delete(jack)
show("2.1.15 count", session:query(User):filter_by{name = "jack"}:count())
statements("2.1.15 delete")
show("2.1.15 addresses left", session:query(Address):filter(
  Address.email_address:in_{"jack@google.com", "j25@yahoo.com"}):count())
session:commit()

-- 2.1.16
local post_keywords = Table("post_keywords", Base.metadata,
  Column("post_id", Integer, ForeignKey("posts.id")),
  Column("keyword_id", Integer, ForeignKey("keywords.id")))
local BlogPost = Base:class "BlogPost" {
  __tablename__ = "posts",
  id = Column(Integer, {primary_key = true}),
  user_id = Column(Integer, ForeignKey("users.id")),
  headline = Column(String(255), {nullable = false}),
  body = Column(Text),
  keywords = relationship("Keyword", {secondary = post_keywords,
                                      backref = "posts"}),
  author = relationship(User, {backref = "posts"}),
  __tostring = function(self)
    return string.format("BlogPost(%s, %s, %s)", pyrepr(self.headline),
                         pyrepr(self.body), tostring(self.author))
  end,
}
local Keyword = Base:class "Keyword" {
  __tablename__ = "keywords",
  id = Column(Integer, {primary_key = true}),
  keyword = Column(String(50), {nullable = false, unique = true}),
  __tostring = function(self) return "Keyword(" .. pyrepr(self.keyword) .. ")" end,
}
Base.metadata:create_all(engine)
session = Session()
local wendy = session:query(User):filter_by{name = "wendy"}:one()
local post = BlogPost{headline = "Wendy's Blog Post", body = "This is a test",
                      author = wendy}
session:add(post)
post.keywords:append(Keyword{keyword = "wendy"})
post.keywords:append(Keyword{keyword = "firstpost"})
clear_log()
show("2.1.16 any", pylist(session:query(BlogPost):filter(
  BlogPost.keywords:any(Keyword.keyword:eq("firstpost"))):all()))
statements("2.1.16 flush and query")
show("2.1.16 author", pylist(session:query(BlogPost):filter(
  BlogPost.author:eq(wendy)):filter(
  BlogPost.keywords:any(Keyword.keyword:eq("firstpost"))):all()))
show("2.1.16 posts", pylist(wendy.posts))
show("2.1.16 keyword posts", pylist(post.keywords[2].posts))
session:close()

-- 2.1.15, again: the same tables mapped with delete and delete-orphan
-- cascade (last: a table maps to one class at a time here)
local Base2 = orm.declarative_base()
local User2 = Base2:class "User2" {
  __table__ = User.__table__,
  addresses = relationship("Address2", {backref = "user",
                                        cascade = "all, delete, delete-orphan"}),
  __tostring = user_tostring,
}
local Address2 = Base2:class "Address2" {
  __table__ = Address.__table__,
  __tostring = address_tostring,
}
session = Session()
jack = User2{name = "jack", fullname = "Jack Bean", password = "gjffdd"}
jack.addresses = {Address2{email_address = "jack@google.com"},
                  Address2{email_address = "j25@yahoo.com"}}
session:add(jack)
session:commit()
local jid = jack.id
session:close()
jack = session:get(User2, jid)
clear_log()
jack.addresses:pop(2)
statements("2.1.15 lazy load")
show("2.1.15 orphan count", session:query(Address2):filter(
  Address2.user_id:eq(jid)):count())
statements("2.1.15 orphan")
session:delete(jack)
show("2.1.15 cascade count", session:query(User2):filter_by{name = "jack"}
  :count())
statements("2.1.15 cascade")
show("2.1.15 addresses left", session:query(Address2):filter(
  Address2.user_id:eq(jid)):count())
session:close()
