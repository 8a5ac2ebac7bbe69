-- The expression language executed on SQLite through conn:execute.
local engine = create_engine("sqlite://")
local metadata = MetaData()
local users = Table("users", metadata,
  Column("id", Integer, {primary_key = true}),
  Column("name", String(50), {nullable = false, unique = true}),
  Column("fullname", String),
  Column("score", Integer, {default = 10}),
  Column("tag", String(10), {default = function(ctx) return "t-" .. ctx.current_parameters.name end}),
  Column("created", DateTime, {server_default = func.now()}))
local addresses = Table("addresses", metadata,
  Column("id", Integer, {primary_key = true}),
  Column("user_id", ForeignKey("users.id", {ondelete = "CASCADE"}), {nullable = false}),
  Column("email", String(100), {index = true}))

local function check(cond, msg) if not cond then error(msg, 2) end end

-- sorted in foreign-key order; create_all twice (checkfirst)
local sorted = metadata.sorted_tables
check(sorted[1].name == "users" and sorted[2].name == "addresses", "sorted_tables")
metadata:create_all(engine)
metadata:create_all(engine)
check(addresses.c.user_id.type.__name__ == "Integer", "FK column takes the referenced type")

local conn <close> = engine:connect()
conn:execute(insert(users), {{name = "jack", fullname = "Jack Jones"},
                              {name = "wendy", fullname = "Wendy Williams"}})
conn:execute(insert(users):values{name = "mary", score = 3})
conn:execute(insert(addresses), {{user_id = 1, email = "jack@a.org"},
                                  {user_id = 1, email = "jack@b.org"},
                                  {user_id = 2, email = "wendy@c.org"}})

-- defaults: scalar and Lua function
local r = conn:execute(select(users.c.score, users.c.tag):where(users.c.name:eq("jack"))):one()
check(r.score == 10 and r.tag == "t-jack", "defaults: " .. tostring(r))
r = conn:execute(select(users.c.score):where(users.c.name:eq("mary"))):scalar()
check(r == 3, "explicit value beats default")

-- select with join, where, order_by, limit
local rows = conn:execute(
  select(users.c.name, addresses.c.email)
    :join_from(users, addresses)
    :where(users.c.name:in_{"jack", "wendy"} & addresses.c.email:like("%@%"))
    :order_by(addresses.c.email:desc())
    :limit(2)):all()
check(#rows == 2 and rows[1].email == "wendy@c.org" and rows[2].email == "jack@b.org",
      "join select")

-- aggregates, group by, having, labels
rows = conn:execute(select(users.c.name, func.count(addresses.c.id):label("n"))
  :join(addresses):group_by(users.c.name):having(func.count(addresses.c.id):gt(1))):all()
check(#rows == 1 and rows[1].name == "jack" and rows[1].n == 2, "group by/having")

-- text with binds
r = conn:execute(text("SELECT count(*) AS c FROM users WHERE score > :s"), {s = 5}):scalar()
check(r == 2, "text bind: " .. tostring(r))
r = conn:execute(text("SELECT name FROM users WHERE id = :id"):bindparams{id = 2}):scalar()
check(r == "wendy", "bindparams")

-- NULL handling
conn:execute(update(users):values{fullname = sa.null}:where(users.c.name:eq("mary")))
r = conn:execute(select(users.c.name):where(users.c.fullname:eq(nil))):scalar()
check(r == "mary", "IS NULL after binding NULL")

-- update with expression, delete
conn:execute(update(users):values{score = users.c.score + 1}:where(users.c.id:le(2)))
r = conn:execute(select(func.sum(users.c.score))):scalar()
check(r == 25, "update with expression: " .. tostring(r))
conn:execute(delete(addresses):where(addresses.c.email:endswith("b.org")))
r = conn:execute(select(func.count()):select_from(addresses)):scalar()
check(r == 2, "delete")

-- executemany update with a bindparam
conn:execute(update(users):where(users.c.name:eq(bindparam("uname"))):values{score = bindparam("s")},
             {{uname = "jack", s = 100}, {uname = "wendy", s = 200}})
r = conn:execute(select(users.c.score):where(users.c.name:eq("wendy"))):scalar()
check(r == 200, "executemany update: " .. tostring(r))

-- subquery, scalar subquery, exists, union
local sub = select(addresses.c.user_id, func.count():label("cnt")):group_by(addresses.c.user_id):subquery()
rows = conn:execute(select(users.c.name, sub.c.cnt):join(sub, users.c.id:eq(sub.c.user_id))
  :order_by(users.c.name)):all()
check(#rows == 2 and rows[1].cnt == 1, "join to subquery")
r = conn:execute(select(users.c.name):where(exists(select(addresses.c.id)
  :where(addresses.c.user_id:eq(users.c.id)))):order_by(users.c.name)):all()
check(#r == 2, "correlated exists")
r = conn:execute(select(users.c.id):union(select(addresses.c.user_id))):all()
check(#r == 3, "union")
r = conn:execute(select(users.c.name, case({{users.c.score:gt(150), "high"}}, {else_ = "low"}):label("lvl"))
  :order_by(users.c.id)):all()
check(r[1].lvl == "low" and r[2].lvl == "high", "case")

-- returning (SQLite >= 3.35)
r = conn:execute(insert(users):values{name = "zed"}:returning(users.c.id, users.c.tag)):one()
check(r.id == 4 and r.tag == "t-zed", "insert returning")

-- upsert
conn:execute(insert(users):values{name = "zed"}:on_conflict_do_nothing{index_elements = {"name"}})
conn:execute(insert(users):values{name = "zed", score = 7}
  :on_conflict_do_update{index_elements = {users.c.name}, set_ = {score = 99}})
r = conn:execute(select(users.c.score):where(users.c.name:eq("zed"))):scalar()
check(r == 99, "on conflict do update: " .. tostring(r))

-- a CTE
local cte = select(users.c.id):where(users.c.score:gt(50)):cte("rich")
r = conn:execute(select(func.count()):select_from(cte)):scalar()
check(r == 3, "cte: " .. tostring(r))
conn:commit()

-- errors
local ok, err = pcall(function() return users.c.nope end)
check(not ok and err.kind == "ArgumentError" and err.message:find("users") and err.message:find("nope"),
      "unknown column names table and key")
ok, err = pcall(function() return select(users):join(sa.table("x", column("y"))) :compile("sqlite") end)
check(not ok and err.kind == "ArgumentError" and err.message:find("users") and err.message:find("'x'"),
      "join without a foreign key names both sides: " .. tostring(err))
ok, err = pcall(function() return insert(users):values{name = "x"}:returning(users.c.id):compile("mysql") end)
check(not ok and err.kind == "CompileError" and err.message:find("RETURNING"), "CompileError for mysql RETURNING")
ok, err = pcall(function() return users.c.id:eq({}) end)
check(not ok and err.kind == "ArgumentError" and err.message:find("eq"), "ArgumentError names the function")
ok, err = pcall(select, 5)
check(not ok or type(err) ~= "table", "select(5) keeps Lua's meaning or fails")
ok, err = pcall(function() return users.c.id:lt(nil) end)
check(not ok and err.kind == "ArgumentError", "lt(nil) is an ArgumentError")

-- immutability
local s1 = select(users.c.id)
local s2 = s1:where(users.c.id:eq(1))
check(tostring(s1) == "SELECT users.id \nFROM users", "generative methods leave the original alone")
check(tostring(s2):find("WHERE"), "new statement has the criterion")

-- compiled objects
local c = select(users.c.id):where(users.c.name:eq("x")):compile(engine)
check(c.sql:find("?", 1, true) and c.params[1] == "x" and tostring(c) == c.sql, "Compiled")
c = select(users.c.id):where(users.c.name:eq("x")):compile("postgresql")
check(c.sql:find("$1", 1, true), "postgresql placeholders")

-- drop_all
metadata:drop_all(engine)
local conn2 <close> = engine:connect()
r = conn2:exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'table'"):scalar()
check(r == 0, "drop_all: " .. tostring(r))
print("ok")
