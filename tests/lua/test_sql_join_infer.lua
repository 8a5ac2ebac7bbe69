-- Joins whose ON clause comes from foreign keys through subqueries and
-- aliases (a subquery's columns carry their tables' keys), a table joined
-- to an alias of itself (one constraint from both sides: both conditions),
-- and the error kinds when none or several constraints fit, as SQLAlchemy
-- 1.4.46 infers them.
local T = require "testing"

local expect = {
  sub_left = 'SELECT s.email, users.name \nFROM (SELECT addresses.id AS id, addresses.user_id AS user_id, addresses.email AS email \nFROM addresses) AS s JOIN users ON users.id = s.user_id',
  sub_of_join = 'ERR AmbiguousForeignKeysError',
  sub_of_sub = 'SELECT users.name, s2.email \nFROM users JOIN (SELECT s.id AS id, s.user_id AS user_id, s.email AS email \nFROM (SELECT addresses.id AS id, addresses.user_id AS user_id, addresses.email AS email \nFROM addresses) AS s) AS s2 ON users.id = s2.user_id',
  alias_of_sub = 'SELECT users.name, sa.email \nFROM users JOIN (SELECT addresses.id AS id, addresses.user_id AS user_id, addresses.email AS email \nFROM addresses) AS sa ON users.id = sa.user_id',
  no_fk = 'ERR NoForeignKeysError',
  sub_both = 'SELECT us.name, s.email \nFROM (SELECT users.id AS id, users.name AS name, users.up_id AS up_id \nFROM users) AS us JOIN (SELECT addresses.id AS id, addresses.user_id AS user_id, addresses.email AS email \nFROM addresses) AS s ON us.id = s.user_id',
  self_sub = 'SELECT us.name \nFROM users JOIN (SELECT users.id AS id, users.name AS name, users.up_id AS up_id \nFROM users) AS us ON users.id = us.up_id AND us.id = users.up_id',
  self_alias = 'SELECT ua.name \nFROM users JOIN users AS ua ON users.id = ua.up_id AND ua.id = users.up_id',
}

local md = MetaData()
-- the tables are ji_users and ji_addresses here (SQLAlchemy's text names
-- them users and addresses), apart from other tests' tables
local users = Table("ji_users", md, Column("id", Integer, {primary_key = true}),
  Column("name", String(50)), Column("up_id", Integer, ForeignKey("ji_users.id")))
local addresses = Table("ji_addresses", md,
  Column("id", Integer, {primary_key = true}),
  Column("user_id", ForeignKey("ji_users.id")), Column("email", String(100)))
local u, a = users.c, addresses.c
local s = select(addresses):subquery("s")
local j = select(u.id, a.user_id, a.email):join_from(users, addresses)
  :subquery("j")
local s2 = select(s):subquery("s2")
local sal = s:alias("sa")
local nofk = select(a.email):subquery("nf")
local us = select(users):subquery("us")
local ua = users:alias("ua")
local cases = {
  sub_left = function() return select(s.c.email, u.name):join_from(s, users) end,
  sub_of_join = function() return select(u.name, j.c.email):join_from(users, j) end,
  sub_of_sub = function() return select(u.name, s2.c.email):join_from(users, s2) end,
  alias_of_sub = function() return select(u.name, sal.c.email):join_from(users, sal) end,
  no_fk = function() return select(u.name, nofk.c.email):join_from(users, nofk) end,
  sub_both = function() return select(us.c.name, s.c.email):join_from(us, s) end,
  self_sub = function() return select(us.c.name):join_from(users, us) end,
  self_alias = function() return select(ua.c.name):join_from(users, ua) end,
}

T.test("join conditions inferred as SQLAlchemy's", function()
  for name, exp in pairs(expect) do
    local f = assert(cases[name], name)
    exp = exp:gsub("users", "ji_users"):gsub("addresses", "ji_addresses")
    local kind = exp:match("^ERR (%w+)")
    if kind then
      local err = T.raises(kind, function() return tostring(f()) end)
      T.ok(err:isa("ArgumentError"), name)
      T.match(err.message, "'ji_users'", name)
    else
      T.eq(tostring(f()), exp, name)
    end
  end
end)

for _, db in ipairs(T.databases()) do
  T.test("a join into a subquery runs on " .. db.name, function()
    local engine = create_engine(db.url)
    md:drop_all(engine)
    md:create_all(engine)
    local conn <close> = engine:connect()
    conn:execute(insert(users), {{id = 1, name = "a"}, {id = 2, name = "b", up_id = 1}})
    conn:execute(insert(addresses), {{id = 1, user_id = 2, email = "b@x"},
                                     {id = 2, user_id = 1, email = "a@x"}})
    local got = {}
    for _, r in ipairs(conn:execute(cases.sub_of_sub():order_by(u.name)):all()) do
      got[#got + 1] = {r[1], r[2]}
    end
    T.eq(got, {{"a", "a@x"}, {"b", "b@x"}})
    T.eq(conn:execute(select(ua.c.name):join_from(users, ua)):all(), {})
    conn:rollback()
    conn:close()
    md:drop_all(engine)
  end)
end

T.done()
