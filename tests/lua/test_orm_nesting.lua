-- ORM statements that differential fuzzing (tests/oracle/fuzz_orm.py)
-- found compiled otherwise than by SQLAlchemy 1.4.46, with the text it
-- renders, and the objects loaded from them on every database:
--   * any()/has() correlate everything but their target, so the EXISTS
--     keeps its own FROM when the statement joins the target too;
--   * a joined eager load of a collection nests the statement in a
--     subquery for DISTINCT and GROUP BY as for LIMIT, and an ORDER BY
--     expression that is not the entity's own column travels in the
--     subquery's columns (the rows then still fill the right attributes).
local T = require "testing"

local md = MetaData()
local users = Table("nest_users", md,
  Column("id", Integer, {primary_key = true, autoincrement = false}),
  Column("name", String(20)))
local addresses = Table("nest_addresses", md,
  Column("id", Integer, {primary_key = true, autoincrement = false}),
  Column("user_id", Integer, ForeignKey("nest_users.id")),
  Column("email", String(20)))

local Base = orm.declarative_base({metadata = md})
local User = Base:class "User" {__table__ = users,
  addresses = relationship("Address", {back_populates = "user", order_by = "Address.id"})}
local Address = Base:class "Address" {__table__ = addresses,
  user = relationship("User", {back_populates = "addresses"})}

local function norm(s) return (s:gsub("%s+", " ")) end

-- the oracle's str() of each statement (SQLAlchemy 1.4.46)
local EXPECT = {
  has_joined = "SELECT nest_addresses.id, nest_addresses.user_id, nest_addresses.email FROM nest_addresses JOIN nest_users ON nest_users.id = nest_addresses.user_id WHERE EXISTS (SELECT 1 FROM nest_users WHERE nest_users.id = nest_addresses.user_id AND nest_users.name = :name_1)",
  any_extra = "SELECT nest_users.id, nest_users.name FROM nest_users, nest_addresses WHERE (EXISTS (SELECT 1 FROM nest_addresses WHERE nest_users.id = nest_addresses.user_id)) AND nest_addresses.email LIKE :email_1",
  distinct = "SELECT anon_1.id, anon_1.name, nest_addresses_1.id AS id_1, nest_addresses_1.user_id, nest_addresses_1.email FROM (SELECT DISTINCT nest_users.id AS id, nest_users.name AS name FROM nest_users) AS anon_1 LEFT OUTER JOIN nest_addresses AS nest_addresses_1 ON anon_1.id = nest_addresses_1.user_id ORDER BY nest_addresses_1.id",
  order_expr = "SELECT anon_1.id, anon_1.name, anon_1.lower_1, nest_addresses_1.id AS id_1, nest_addresses_1.user_id, nest_addresses_1.email FROM (SELECT nest_users.id AS id, nest_users.name AS name, lower(nest_users.name) AS lower_1 FROM nest_users ORDER BY lower(nest_users.name) LIMIT :param_1) AS anon_1 LEFT OUTER JOIN nest_addresses AS nest_addresses_1 ON anon_1.id = nest_addresses_1.user_id ORDER BY anon_1.lower_1, nest_addresses_1.id",
  order_other = "SELECT anon_1.id, anon_1.name, anon_1.email, nest_addresses_1.id AS id_1, nest_addresses_1.user_id, nest_addresses_1.email AS email_1 FROM (SELECT nest_users.id AS id, nest_users.name AS name, nest_addresses.email AS email FROM nest_users JOIN nest_addresses ON nest_users.id = nest_addresses.user_id ORDER BY nest_addresses.email DESC LIMIT :param_1) AS anon_1 LEFT OUTER JOIN nest_addresses AS nest_addresses_1 ON anon_1.id = nest_addresses_1.user_id ORDER BY anon_1.email DESC, nest_addresses_1.id",
  group_by = "SELECT anon_1.id, anon_1.name, nest_addresses_1.id AS id_1, nest_addresses_1.user_id, nest_addresses_1.email FROM (SELECT nest_users.id AS id, nest_users.name AS name FROM nest_users GROUP BY nest_users.id, nest_users.name) AS anon_1 LEFT OUTER JOIN nest_addresses AS nest_addresses_1 ON anon_1.id = nest_addresses_1.user_id ORDER BY nest_addresses_1.id",
}

local STMTS = {
  has_joined = function()
    return select(Address):where(Address.user:has(User.name:eq("u1"))):join(Address.user)
  end,
  any_extra = function()
    return select(User):where(User.addresses:any()):where(Address.email:like("e4%"))
  end,
  distinct = function()
    return select(User):options(joinedload(User.addresses)):distinct()
  end,
  order_expr = function()
    return select(User):options(joinedload(User.addresses))
      :order_by(func.lower(User.name)):limit(2)
  end,
  order_other = function()
    return select(User):options(joinedload(User.addresses)):join(User.addresses)
      :order_by(Address.email:desc()):limit(2)
  end,
  group_by = function()
    return select(User):options(joinedload(User.addresses))
      :group_by(User.id, User.name)
  end,
}

for _, name in ipairs({"has_joined", "any_extra", "distinct", "order_expr",
                       "order_other", "group_by"}) do
  T.test("compiles as SQLAlchemy: " .. name, function()
    T.eq(norm(tostring(STMTS[name]())), EXPECT[name])
  end)
end

-- users u4..u1 (ids 1..4), user i with i addresses e<i>1..e<i>i
local function fill(engine)
  md:drop_all(engine)
  md:create_all(engine)
  local conn <close> = engine:connect()
  local us, as = {}, {}
  for i = 1, 4 do
    us[#us + 1] = {id = i, name = "u" .. (5 - i)}
    for j = 1, i do
      as[#as + 1] = {id = i * 10 + j, user_id = i, email = "e" .. i .. j}
    end
  end
  conn:execute(users:insert(), us)
  conn:execute(addresses:insert(), as)
  conn:commit()
end

-- "id name emails..." of each object, in the order loaded
local function shape(objs)
  local out = {}
  for _, u in ipairs(objs) do
    if u.__class__ == Address then
      out[#out + 1] = u.id .. " " .. u.email
    else
      local es = {}
      for _, a in ipairs(u.addresses) do es[#es + 1] = a.email end
      out[#out + 1] = u.id .. " " .. u.name .. " " .. table.concat(es, ",")
    end
  end
  return table.concat(out, "; ")
end

-- what SQLAlchemy loads from the same rows
local ROWS = {
  has_joined = "41 e41; 42 e42; 43 e43; 44 e44",
  any_extra = "1 u4 e11; 2 u3 e21,e22; 3 u2 e31,e32,e33; 4 u1 e41,e42,e43,e44",
  distinct = "1 u4 e11; 2 u3 e21,e22; 3 u2 e31,e32,e33; 4 u1 e41,e42,e43,e44",
  order_expr = "4 u1 e41,e42,e43,e44; 3 u2 e31,e32,e33",
  order_other = "4 u1 e41,e42,e43,e44",
  group_by = "1 u4 e11; 2 u3 e21,e22; 3 u2 e31,e32,e33; 4 u1 e41,e42,e43,e44",
}
-- (rows whose order the statement leaves to the database are sorted)
local SORT = {has_joined = true, any_extra = true, distinct = true, group_by = true}

for _, db in ipairs(T.databases()) do
  local engine = create_engine(db.url)
  fill(engine)
  for _, name in ipairs({"has_joined", "any_extra", "distinct", "order_expr",
                         "order_other", "group_by"}) do
    T.test(db.name .. ": loads as SQLAlchemy: " .. name, function()
      local s <close> = orm.Session(engine)
      local objs = s:execute(STMTS[name]()):unique():scalars():all()
      if SORT[name] then
        table.sort(objs, function(a, b) return a.id < b.id end)
      end
      T.eq(shape(objs), ROWS[name])
    end)
  end
  md:drop_all(engine)
  engine:dispose()
end

T.done()
