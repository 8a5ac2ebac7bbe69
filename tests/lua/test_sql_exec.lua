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
check(not ok and err:isa("ArgumentError") and err.kind == "NoForeignKeysError" and
      err.message:find("users") and err.message:find("'x'"),
      "join without a foreign key names both sides: " .. tostring(err))
ok, err = pcall(function() return insert(users):values{name = "x"}:returning(users.c.id):compile("mysql") end)
check(not ok and err.kind == "CompileError" and err.message:find("RETURNING"), "CompileError for mysql RETURNING")
ok, err = pcall(function() return users.c.id:eq({}) end)
check(not ok and err.kind == "ArgumentError" and err.message:find("eq"), "ArgumentError names the function")
ok, err = pcall(select, 5)
check(not ok or type(err) ~= "table", "select(5) keeps Lua's meaning or fails")
ok, err = pcall(function() return users.c.id:lt(nil) end)
check(not ok and err.kind == "ArgumentError", "lt(nil) is an ArgumentError")

ok, err = pcall(function() return conn:execute(text("SELECT :missing")) end)
check(not ok and err.kind == "StatementError" and err.message:find("missing"),
      "a text() bind needs a value: " .. tostring(err))
ok, err = pcall(function()
  return conn:execute(select(users.c.id):where(users.c.name:eq(bindparam("who"))))
end)
check(not ok and err.kind == "StatementError", "bindparam() without value needs one")
r = conn:execute(select(users.c.id):where(users.c.name:eq(bindparam("who"))), {who = "wendy"}):scalar()
check(r == 2, "bindparam given at execution")
conn:commit()

-- a foreign key to a table defined later takes its type once it exists
local m2 = MetaData()
local early = Table("early", m2, Column("id", Integer, {primary_key = true}),
  Column("late_id", ForeignKey("late.id")))
Table("late", m2, Column("id", BigInteger, {primary_key = true}))
check(early.c.late_id.type.__name__ == "BigInteger", "forward foreign key type")
check(m2.sorted_tables[1].name == "late", "sorted_tables puts the referenced table first")

-- create_all's statements for PostgreSQL, through a recording connection
do
  local log = {}
  local fake = {dialect = {name = "postgresql"}}
  local none = {first = function() return nil end}
  function fake:exec_driver_sql(sql) log[#log + 1] = sql; return none end
  function fake:execute(stmt) log[#log + 1] = stmt:compile("postgresql").sql; return none end
  local mp = MetaData()
  Table("pets", mp,
    Column("id", Integer, Sequence("pets_id_seq"), {primary_key = true}),
    Column("mood", Enum("sad", "ok", {name = "mood"}), {comment = "how it's doing"}))
  mp:create_all(fake, {checkfirst = false})
  local text_all = table.concat(log, ";")
  check(text_all:find("CREATE SEQUENCE pets_id_seq START WITH 1", 1, true), text_all)
  check(text_all:find("CREATE TYPE mood AS ENUM ('sad', 'ok')", 1, true), text_all)
  check(text_all:find("CREATE TABLE pets", 1, true), text_all)
  check(text_all:find("COMMENT ON COLUMN pets.mood IS 'how it''s doing'", 1, true), text_all)
  log = {}
  mp:drop_all(fake, {checkfirst = false})
  text_all = table.concat(log, ";")
  check(text_all:find("DROP TABLE pets", 1, true) and text_all:find("DROP TYPE mood", 1, true)
        and text_all:find("DROP SEQUENCE pets_id_seq", 1, true), text_all)
end

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
-- its parts: the dialect's name; params and their names in placeholder
-- order, made once and kept; other keys nil; literal binds inline
do
  local st = select(users.c.id):where(users.c.name:eq("x"), users.c.id:gt(5))
    :limit(3)
  local cc = st:compile("sqlite")
  check(cc.dialect == "sqlite" and st:compile().dialect == "default",
        "Compiled.dialect")
  check(cc.sql == "SELECT users.id \nFROM users \nWHERE users.name = ? " ..
        "AND users.id > ?\n LIMIT ? OFFSET ?", cc.sql)
  local p = cc.params
  check(#p == 4 and p[1] == "x" and p[2] == 5 and p[3] == 3 and p[4] == 0,
        "Compiled.params")
  check(cc.params == p, "params made once")
  local names = cc.positiontup
  check(table.concat(names, ",") == "name_1,id_1,param_1,param_2",
        table.concat(names, ","))
  check(cc.nothing == nil and cc[1] == nil, "unknown keys are nil")
  local lit = st:compile("sqlite", {literal_binds = true})
  check(lit.sql:find("users.name = 'x'", 1, true) and #lit.params == 0,
        lit.sql)
  check(tostring(lit) == lit.sql, "tostring of a literal-binds compile")
  -- compiled texts of a statement outlive later compiles of others
  local other = select(users.c.name):compile("sqlite")
  check(cc.sql:find("users.name = ?", 1, true) and
        other.sql == "SELECT users.name \nFROM users", other.sql)
end

-- parameters go from the maps straight to the driver: executemany of maps
-- on a table without Lua defaults reads them in place (and leaves them be)
do
  local mp = MetaData()
  local kv = Table("kv", mp, Column("id", Integer, {primary_key = true}),
    Column("k", String(10)), Column("v", Float), Column("b", Boolean),
    Column("n", Integer, {default = 7}))
  mp:create_all(engine)
  local c3 <close> = engine:connect()
  local maps = {{k = "a", v = 1.5, b = true}, {k = "b", v = sa.null, b = false},
                {k = "c", v = sa.null, b = true}}
  local res = c3:execute(insert(kv), maps)
  check(res.rowcount == 3, "executemany of maps: rowcount " .. tostring(res.rowcount))
  check(maps[1].n == nil and maps[3].n == nil, "the maps are left as they were")
  local got = c3:execute(select(kv.c.k, kv.c.v, kv.c.b, kv.c.n):order_by(kv.c.id)):all()
  check(#got == 3 and got[1].v == 1.5 and got[1].b == true and got[1].n == 7,
        "first map: " .. tostring(got[1]))
  check(got[2].v == nil and got[2].b == false, "sa.null binds NULL: " .. tostring(got[2]))
  check(got[3].v == nil and got[3].k == "c", "third map: " .. tostring(got[3]))
  local ok2, e2 = pcall(function() return c3:execute(insert(kv), {{k = "e", v = 1}, {k = "f"}}) end)
  check(not ok2 and e2.kind == "StatementError" and e2.message:find("'v'"),
        "a key the first map has and a later one lacks: " .. tostring(e2))
  -- one map, and an UPDATE whose map fills a bindparam()
  c3:execute(insert(kv), {k = "d", v = 2})
  c3:execute(update(kv):where(kv.c.k:eq(bindparam("key"))):values{v = bindparam("nv")},
             {{key = "d", nv = 4.0}, {key = "a", nv = 0.5}})
  got = c3:execute(select(kv.c.k, kv.c.v):where(kv.c.k:in_{"a", "d"}):order_by(kv.c.k)):all()
  check(got[1].v == 0.5 and got[2].v == 4.0, "executemany UPDATE: " .. tostring(got[1]) .. tostring(got[2]))
  ok2, e2 = pcall(function() return c3:execute(insert(kv), {{k = "e", v = {}}}) end)
  check(not ok2 and e2.kind == "ArgumentError" and e2.message:find("can't be bound"),
        "a table is not a SQL value: " .. tostring(e2))
  ok2, e2 = pcall(function() return c3:execute(insert(kv), {{k = "e"}, 5}) end)
  check(not ok2 and e2.kind == "ArgumentError" and e2.message:find("parameter set 2"),
        "a parameter set that is not a map: " .. tostring(e2))
  ok2, e2 = pcall(function() return conn:execute(insert(users), {{name = "e"}, 5}) end)
  check(not ok2 and e2.kind == "ArgumentError" and e2.message:find("parameter set 2"),
        "the same where Lua defaults copy the maps: " .. tostring(e2))
  ok2, e2 = pcall(function()
    return c3:execute(update(kv):where(kv.c.k:eq(bindparam("key"))):values{v = 1}, {{v = 1}})
  end)
  check(not ok2 and e2.kind == "StatementError" and e2.message:find("key"),
        "a bindparam() a map does not give: " .. tostring(e2))
  -- a map whose __index makes its values up: they live while they are bound
  local made = setmetatable({}, {__index = function(_, k)
    collectgarbage()
    return string.rep(k, 60)
  end})
  local both = c3:execute(text("SELECT :a || :b"), made):scalar()
  check(both == string.rep("a", 60) .. string.rep("b", 60), "made-up values: " .. tostring(both))
  c3:rollback()
  mp:drop_all(engine)
end

-- a map whose __index compiles another statement while the parameters
-- are read: the parameters are the executed statement's, not the other's
do
  local other = select(users.c.id, users.c.name):where(users.c.score:gt(1),
    users.c.name:in_({"a", "b", "c", "d", "e", "f"}))
  local reads = 0
  local score = conn:execute(select(users.c.score):where(users.c.name:eq("jack")))
    :scalar()
  local params = setmetatable({n = "jack"}, {__index = function(_, k)
    reads = reads + 1
    check(other:compile("sqlite").sql:find("IN"), "nested compile")
    return k == "s" and score or nil
  end})
  local q = select(users.c.id):where(users.c.name:eq(bindparam("n")),
                                     users.c.score:eq(bindparam("s")))
  local got = conn:execute(q, params):all()
  check(reads == 1 and #got == 1 and got[1].id == 1,
        "parameters read around a nested compile: " .. #got)
  local hook = debug.getregistry()["retort.compile_hook"]
  local sql, list = hook(q, "sqlite", params)
  check(sql:find("users.score = %?") and list[1] == "jack" and list[2] == score and
        #list == 2, "compile hook around a nested compile")
end

-- a Table answers the same before and after t.c is first read (which
-- gives it a metatable of its own)
do
  local md2 = MetaData()
  local t = Table("own_mt", md2, Column("id", Integer, {primary_key = true}),
                  Column("x", Integer))
  local before = tostring(select(t))
  local c1 = t.c
  check(rawequal(t.c, c1) and t.c.x == t.columns.x and t.c.id == t.c["id"],
        "t.c is one collection")
  check(t.name == "own_mt" and tostring(t) == "own_mt" and t == t and
        tostring(t:select()) == before and tostring(select(t)) == before,
        "attributes and methods after t.c")
  check(getmetatable(t).__name == "retort.Node" and
        getmetatable(t).__methods.where ~= nil, "metatable fields")
  local t2 = Table("own_mt", md2, Column("x", String(20)),
                   {extend_existing = true})
  check(rawequal(t2, t) and tostring(t.c.x.type) == "VARCHAR(20)" and
        rawequal(t.c, c1), "extend_existing after t.c")
  check(#t.c == 2 and t.primary_key ~= nil, "collection after extend")
end

-- drop_all
metadata:drop_all(engine)
local conn2 <close> = engine:connect()
r = conn2:exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'table'"):scalar()
check(r == 0, "drop_all: " .. tostring(r))
print("ok")
