-- text():columns(...) (a TextualSelect) as a FROM: subquery(), alias(),
-- cte(), joins to it, typed result columns; executed on every database.
-- Expected text from SQLAlchemy 1.4.46.
local T = require "testing"

local function squash(s) return (s:gsub("%s+", " "):gsub("%( ", "("):gsub(" %)", ")")) end

local expect = {
  ['sub'] = {
    default = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS s 
WHERE s.id < :id_1]==],
    sqlite = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s 
WHERE s.id < ?]==],
    postgresql = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS s 
WHERE s.id < $2]==],
    mysql = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s 
WHERE s.id < ?]==],
  },
  ['subb'] = {
    default = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS s 
WHERE s.id < :id_1]==],
    sqlite = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s 
WHERE s.id < ?]==],
    sqlite_lit = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s 
WHERE s.id < 3]==],
    postgresql = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS s 
WHERE s.id < $2]==],
    postgresql_lit = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s 
WHERE s.id < 3]==],
    mysql = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s 
WHERE s.id < ?]==],
    mysql_lit = [==[SELECT s.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s 
WHERE s.id < 3]==],
  },
  ['star'] = {
    default = [==[SELECT s.id, s.name 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS s]==],
    sqlite = [==[SELECT s.id, s.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s]==],
    sqlite_lit = [==[SELECT s.id, s.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s]==],
    postgresql = [==[SELECT s.id, s.name 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS s]==],
    postgresql_lit = [==[SELECT s.id, s.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s]==],
    mysql = [==[SELECT s.id, s.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s]==],
    mysql_lit = [==[SELECT s.id, s.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s]==],
  },
  ['anon'] = {
    default = [==[SELECT anon_1.id, anon_1.name 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS anon_1]==],
    sqlite = [==[SELECT anon_1.id, anon_1.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS anon_1]==],
    sqlite_lit = [==[SELECT anon_1.id, anon_1.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS anon_1]==],
    postgresql = [==[SELECT anon_1.id, anon_1.name 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS anon_1]==],
    postgresql_lit = [==[SELECT anon_1.id, anon_1.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS anon_1]==],
    mysql = [==[SELECT anon_1.id, anon_1.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS anon_1]==],
    mysql_lit = [==[SELECT anon_1.id, anon_1.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS anon_1]==],
  },
  ['alias'] = {
    default = [==[SELECT a.name 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS a]==],
    sqlite = [==[SELECT a.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS a]==],
    sqlite_lit = [==[SELECT a.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS a]==],
    postgresql = [==[SELECT a.name 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS a]==],
    postgresql_lit = [==[SELECT a.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS a]==],
    mysql = [==[SELECT a.name 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS a]==],
    mysql_lit = [==[SELECT a.name 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS a]==],
  },
  ['cte'] = {
    default = [==[WITH c AS 
(SELECT id, name FROM ts_users WHERE id > :x)
 SELECT c.name 
FROM c]==],
    sqlite = [==[WITH c AS 
(SELECT id, name FROM ts_users WHERE id > ?)
 SELECT c.name 
FROM c]==],
    sqlite_lit = [==[WITH c AS 
(SELECT id, name FROM ts_users WHERE id > 1)
 SELECT c.name 
FROM c]==],
    postgresql = [==[WITH c AS 
(SELECT id, name FROM ts_users WHERE id > $1)
 SELECT c.name 
FROM c]==],
    postgresql_lit = [==[WITH c AS 
(SELECT id, name FROM ts_users WHERE id > 1)
 SELECT c.name 
FROM c]==],
    mysql = [==[WITH c AS 
(SELECT id, name FROM ts_users WHERE id > ?)
 SELECT c.name 
FROM c]==],
    mysql_lit = [==[WITH c AS 
(SELECT id, name FROM ts_users WHERE id > 1)
 SELECT c.name 
FROM c]==],
  },
  ['join'] = {
    default = [==[SELECT s.name, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS s JOIN ts_addr ON ts_addr.uid = s.id ORDER BY ts_addr.email]==],
    sqlite = [==[SELECT s.name, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s JOIN ts_addr ON ts_addr.uid = s.id ORDER BY ts_addr.email]==],
    sqlite_lit = [==[SELECT s.name, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s JOIN ts_addr ON ts_addr.uid = s.id ORDER BY ts_addr.email]==],
    postgresql = [==[SELECT s.name, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS s JOIN ts_addr ON ts_addr.uid = s.id ORDER BY ts_addr.email]==],
    postgresql_lit = [==[SELECT s.name, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s JOIN ts_addr ON ts_addr.uid = s.id ORDER BY ts_addr.email]==],
    mysql = [==[SELECT s.name, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s INNER JOIN ts_addr ON ts_addr.uid = s.id ORDER BY ts_addr.email]==],
    mysql_lit = [==[SELECT s.name, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s INNER JOIN ts_addr ON ts_addr.uid = s.id ORDER BY ts_addr.email]==],
  },
  ['outer'] = {
    default = [==[SELECT s.id, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS s LEFT OUTER JOIN ts_addr ON ts_addr.uid = s.id 
WHERE ts_addr.email IS NULL]==],
    sqlite = [==[SELECT s.id, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s LEFT OUTER JOIN ts_addr ON ts_addr.uid = s.id 
WHERE ts_addr.email IS NULL]==],
    sqlite_lit = [==[SELECT s.id, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s LEFT OUTER JOIN ts_addr ON ts_addr.uid = s.id 
WHERE ts_addr.email IS NULL]==],
    postgresql = [==[SELECT s.id, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS s LEFT OUTER JOIN ts_addr ON ts_addr.uid = s.id 
WHERE ts_addr.email IS NULL]==],
    postgresql_lit = [==[SELECT s.id, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s LEFT OUTER JOIN ts_addr ON ts_addr.uid = s.id 
WHERE ts_addr.email IS NULL]==],
    mysql = [==[SELECT s.id, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s LEFT OUTER JOIN ts_addr ON ts_addr.uid = s.id 
WHERE ts_addr.email IS NULL]==],
    mysql_lit = [==[SELECT s.id, ts_addr.email 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s LEFT OUTER JOIN ts_addr ON ts_addr.uid = s.id 
WHERE ts_addr.email IS NULL]==],
  },
  ['scalar_in'] = {
    default = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT s.id 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS s)]==],
    sqlite = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT s.id 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s)]==],
    sqlite_lit = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT s.id 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s)]==],
    postgresql = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT s.id 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS s)]==],
    postgresql_lit = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT s.id 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s)]==],
    mysql = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT s.id 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s)]==],
    mysql_lit = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT s.id 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s)]==],
  },
  ['scalar'] = {
    default = [==[SELECT ts_users.name, (SELECT max(id) AS m FROM ts_users WHERE id < :y) AS n 
FROM ts_users 
WHERE ts_users.id = (SELECT max(id) AS m FROM ts_users WHERE id < :y)]==],
    sqlite = [==[SELECT ts_users.name, (SELECT max(id) AS m FROM ts_users WHERE id < ?) AS n 
FROM ts_users 
WHERE ts_users.id = (SELECT max(id) AS m FROM ts_users WHERE id < ?)]==],
    sqlite_lit = [==[SELECT ts_users.name, (SELECT max(id) AS m FROM ts_users WHERE id < 3) AS n 
FROM ts_users 
WHERE ts_users.id = (SELECT max(id) AS m FROM ts_users WHERE id < 3)]==],
    postgresql = [==[SELECT ts_users.name, (SELECT max(id) AS m FROM ts_users WHERE id < $1) AS n 
FROM ts_users 
WHERE ts_users.id = (SELECT max(id) AS m FROM ts_users WHERE id < $2)]==],
    postgresql_lit = [==[SELECT ts_users.name, (SELECT max(id) AS m FROM ts_users WHERE id < 3) AS n 
FROM ts_users 
WHERE ts_users.id = (SELECT max(id) AS m FROM ts_users WHERE id < 3)]==],
    mysql = [==[SELECT ts_users.name, (SELECT max(id) AS m FROM ts_users WHERE id < ?) AS n 
FROM ts_users 
WHERE ts_users.id = (SELECT max(id) AS m FROM ts_users WHERE id < ?)]==],
    mysql_lit = [==[SELECT ts_users.name, (SELECT max(id) AS m FROM ts_users WHERE id < 3) AS n 
FROM ts_users 
WHERE ts_users.id = (SELECT max(id) AS m FROM ts_users WHERE id < 3)]==],
  },
  ['in_text'] = {
    default = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT id FROM ts_users WHERE id > :x)]==],
    sqlite = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT id FROM ts_users WHERE id > ?)]==],
    sqlite_lit = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT id FROM ts_users WHERE id > 1)]==],
    postgresql = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT id FROM ts_users WHERE id > $1)]==],
    postgresql_lit = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT id FROM ts_users WHERE id > 1)]==],
    mysql = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT id FROM ts_users WHERE id > ?)]==],
    mysql_lit = [==[SELECT ts_users.name 
FROM ts_users 
WHERE ts_users.id IN (SELECT id FROM ts_users WHERE id > 1)]==],
  },
  ['notin_text'] = {
    default = [==[SELECT ts_users.name 
FROM ts_users 
WHERE (ts_users.id NOT IN (SELECT id FROM ts_users WHERE id > :x))]==],
    sqlite = [==[SELECT ts_users.name 
FROM ts_users 
WHERE (ts_users.id NOT IN (SELECT id FROM ts_users WHERE id > ?))]==],
    postgresql = [==[SELECT ts_users.name 
FROM ts_users 
WHERE (ts_users.id NOT IN (SELECT id FROM ts_users WHERE id > $1))]==],
    mysql = [==[SELECT ts_users.name 
FROM ts_users 
WHERE (ts_users.id NOT IN (SELECT id FROM ts_users WHERE id > ?))]==],
  },
  ['count'] = {
    default = [==[SELECT count(*) AS count_1 
FROM (SELECT id, name FROM ts_users WHERE id > :x) AS s]==],
    sqlite = [==[SELECT count(*) AS count_1 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s]==],
    sqlite_lit = [==[SELECT count(*) AS count_1 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s]==],
    postgresql = [==[SELECT count(*) AS count_1 
FROM (SELECT id, name FROM ts_users WHERE id > $1) AS s]==],
    postgresql_lit = [==[SELECT count(*) AS count_1 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s]==],
    mysql = [==[SELECT count(*) AS count_1 
FROM (SELECT id, name FROM ts_users WHERE id > ?) AS s]==],
    mysql_lit = [==[SELECT count(*) AS count_1 
FROM (SELECT id, name FROM ts_users WHERE id > 1) AS s]==],
  },
}

local m = MetaData()
local users = Table("ts_users", m,
  Column("id", Integer, {primary_key = true}), Column("name", String(20)))
local addr = Table("ts_addr", m,
  Column("id", Integer, {primary_key = true}), Column("uid", Integer),
  Column("email", String(50)))
local ts = text("SELECT id, name FROM ts_users WHERE id > :x")
  :columns(column("id", Integer), column("name", String))
local tsb = ts:bindparams{x = 1}
local s0 = ts:subquery("s")
local s = tsb:subquery("s")
local stmts = {
  sub = select(s0.c.name):where(s0.c.id:lt(3)),
  subb = select(s.c.name):where(s.c.id:lt(3)),
  star = select(s),
  anon = select(tsb:subquery()),
  alias = select(tsb:alias("a").c.name),
  cte = select(tsb:cte("c").c.name),
  join = select(s.c.name, addr.c.email):join_from(s, addr, addr.c.uid:eq(s.c.id))
    :order_by(addr.c.email),
  outer = select(s.c.id, addr.c.email):outerjoin_from(s, addr, addr.c.uid:eq(s.c.id))
    :where(addr.c.email:eq(nil)),
  scalar_in = select(users.c.name):where(users.c.id:in_(select(s.c.id))),
  count = select(func.count()):select_from(s),
}
-- a textual select as a scalar subquery, and on the right of IN
local ts1 = text("SELECT max(id) AS m FROM ts_users WHERE id < :y")
  :columns(column("m", Integer)):bindparams{y = 3}
local tsi = text("SELECT id FROM ts_users WHERE id > :x"):columns(column("id", Integer))
stmts.scalar = select(users.c.name, ts1:scalar_subquery():label("n"))
  :where(users.c.id:eq(ts1:scalar_subquery()))
stmts.in_text = select(users.c.name):where(users.c.id:in_(tsi:bindparams{x = 1}))
stmts.notin_text = select(users.c.name):where(users.c.id:not_in(tsi))

T.test("textual select as a FROM renders as SQLAlchemy does", function()
  for name, exp in pairs(expect) do
    local st = assert(stmts[name], name)
    T.eq(squash(tostring(st)), squash(exp.default), name)
    for _, d in ipairs{"sqlite", "postgresql", "mysql"} do
      T.eq(squash(st:compile(d).sql), squash(exp[d]), name .. " " .. d)
      if exp[d .. "_lit"] then
        T.eq(squash(st:compile(d, {literal_binds = true}).sql),
             squash(exp[d .. "_lit"]), name .. " " .. d .. " literal")
      end
    end
  end
end)

T.test("only a text() with columns is a FROM", function()
  T.raises("ArgumentError", function() return text("SELECT 1"):subquery("s") end)
  T.raises("ArgumentError", function() return text("SELECT 1"):cte("s") end)
  T.raises("ArgumentError", function() return text("SELECT 1"):alias("s") end)
end)

for _, db in ipairs(T.databases()) do
  T.test("textual subquery executes on " .. db.name, function()
    local engine = create_engine(db.url)
    m:drop_all(engine)
    m:create_all(engine)
    local conn <close> = engine:connect()
    conn:execute(insert(users), {{id = 1, name = "a"}, {id = 2, name = "b"},
                                 {id = 3, name = "c"}})
    conn:execute(insert(addr), {{id = 1, uid = 2, email = "b@x"},
                                {id = 2, uid = 3, email = "c@x"},
                                {id = 3, uid = 3, email = "c@y"}})
    local rows = conn:execute(stmts.subb):all()
    T.eq(#rows, 1)
    T.eq(rows[1].name, "b")
    rows = conn:execute(stmts.sub, {x = 0}):all()
    T.eq(#rows, 2)
    rows = conn:execute(stmts.star:order_by(s.c.id)):all()
    T.eq({rows[1].id, rows[1].name, rows[2].id, rows[2].name}, {2, "b", 3, "c"})
    rows = conn:execute(stmts.join):all()
    T.eq({rows[1].name, rows[1].email, rows[3].email}, {"b", "b@x", "c@y"})
    T.eq(conn:execute(stmts.cte:order_by("name")):scalars():all(), {"b", "c"})
    T.eq(conn:execute(stmts.alias):scalars():all() and #conn:execute(stmts.alias):all(), 2)
    T.eq(conn:execute(stmts.scalar_in:order_by(users.c.name)):scalars():all(), {"b", "c"})
    T.eq(conn:execute(stmts.count):scalar(), 2)
    rows = conn:execute(stmts.scalar):all()
    T.eq({#rows, rows[1].name, rows[1].n}, {1, "b", 2})
    T.eq(conn:execute(stmts.in_text:order_by(users.c.id)):scalars():all(), {"b", "c"})
    T.eq(conn:execute(stmts.notin_text:order_by(users.c.id), {x = 2}):scalars():all(), {"a", "b"})
    rows = conn:execute(stmts.outer):all()
    T.eq(#rows, 0)
    -- the columns' types convert the values read through the subquery
    local typed = text("SELECT 1 AS b, 2 AS n"):columns(column("b", Boolean), column("n", Integer))
    local ty = typed:subquery("ty")
    local r = conn:execute(select(ty.c.b, ty.c.n)):one()
    T.eq(r.b, true)
    T.eq(math.type(r.n), "integer")
    T.eq(ty.c.b.type.__name__, "Boolean")
    conn:rollback()
    m:drop_all(engine)
  end)
end

T.done()
