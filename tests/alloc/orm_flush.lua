-- An ORM flush with relationships on in-memory SQLite for alloc_fail: a
-- user with addresses and a many-to-many keyword set is added and
-- committed, then changed (an address removed as an orphan, one added, a
-- keyword dropped) and committed again.  The mapping and tables are made
-- before the sweep; run() may fail anywhere; check() proves the database
-- holds exactly one of the three committed states.
local relationship = orm.relationship
local engine = create_engine("sqlite://")
local Base = orm.declarative_base()
local user_keywords = Table("user_keywords", Base.metadata,
  Column("user_id", Integer, ForeignKey("users.id"), {primary_key = true}),
  Column("keyword_id", Integer, ForeignKey("keywords.id"),
         {primary_key = true}))
local User = Base:class "User" {
  __tablename__ = "users",
  id = Column(Integer, {primary_key = true}),
  name = Column(String(30), {nullable = false}),
  addresses = relationship("Address", {back_populates = "user",
                                       cascade = "all, delete-orphan",
                                       order_by = "Address.id"}),
  keywords = relationship("Keyword", {secondary = user_keywords}),
}
local Address = Base:class "Address" {
  __tablename__ = "addresses",
  id = Column(Integer, {primary_key = true}),
  email = Column(String(50), {nullable = false}),
  user_id = Column(Integer, ForeignKey("users.id"), {nullable = false}),
  user = relationship("User", {back_populates = "addresses"}),
}
local Keyword = Base:class "Keyword" {
  __tablename__ = "keywords",
  id = Column(Integer, {primary_key = true}),
  word = Column(String(20), {nullable = false}),
}
Base.metadata:create_all(engine)

local function run()
  local session <close> = orm.Session(engine)
  local u = User{name = "jack"}
  u.addresses:append(Address{email = "jack@a"})
  u.addresses:append(Address{email = "jack@b"})
  u.keywords:append(Keyword{word = "red"})
  u.keywords:append(Keyword{word = "blue"})
  session:add(u)
  session:commit()
  u = session:scalars(select(User):where(User.name:eq("jack"))):one()
  u.name = "jack2"
  u.addresses:remove(u.addresses[1])
  u.addresses:append(Address{email = "jack@c"})
  u.keywords:remove(u.keywords[1])
  session:commit()
  assert(#session:get(User, u.id).addresses == 2)
end

local function check()
  local c <close> = engine:connect()
  local function rows(sql)
    local out = {}
    for r in c:exec_driver_sql(sql) do
      out[#out + 1] = table.concat({r[1], r[2], r[3]}, ",")
    end
    return table.concat(out, ";")
  end
  local state = table.concat({
    rows("SELECT id, name FROM users ORDER BY id"),
    rows("SELECT id, email, user_id FROM addresses ORDER BY id"),
    rows("SELECT id, word FROM keywords ORDER BY id"),
    rows("SELECT user_id, keyword_id FROM user_keywords ORDER BY 1, 2"),
  }, " | ")
  c:rollback()
  assert(state == " |  |  | " or
         state == "1,jack | 1,jack@a,1;2,jack@b,1 | 1,red;2,blue | 1,1;1,2" or
         state == "1,jack2 | 2,jack@b,1;3,jack@c,1 | 1,red;2,blue | 1,2",
         "half-written: " .. state)
end

return run, check
