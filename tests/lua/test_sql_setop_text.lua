-- Set operations (union, union_all, except_, intersect) whose later
-- members are textual selects (text():columns()): rendered and executed as
-- SQLAlchemy 1.4.46 does; its text and rows are the expectations below.
local T = require "testing"

-- white space runs may differ from SQLAlchemy's (API.md, Rendering)
local function squash(s) return (s:gsub("%s+", " ")) end

local expect = {
  ['union'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT id, name FROM so_users WHERE id > :x',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT id, name FROM so_users WHERE id > $2',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1',
  },
  ['union_all'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 UNION ALL SELECT id, name FROM so_users WHERE id > :x',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION ALL SELECT id, name FROM so_users WHERE id > ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 UNION ALL SELECT id, name FROM so_users WHERE id > $2',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION ALL SELECT id, name FROM so_users WHERE id > ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1',
  },
  ['method_union'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT id, name FROM so_users WHERE id > :x',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT id, name FROM so_users WHERE id > $2',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1',
  },
  ['method_union_all'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 UNION ALL SELECT id, name FROM so_users WHERE id > :x',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION ALL SELECT id, name FROM so_users WHERE id > ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 UNION ALL SELECT id, name FROM so_users WHERE id > $2',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION ALL SELECT id, name FROM so_users WHERE id > ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1',
  },
  ['except'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 EXCEPT SELECT id, name FROM so_users WHERE id > :x',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? EXCEPT SELECT id, name FROM so_users WHERE id > ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 EXCEPT SELECT id, name FROM so_users WHERE id > 1',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 EXCEPT SELECT id, name FROM so_users WHERE id > $2',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 EXCEPT SELECT id, name FROM so_users WHERE id > 1',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? EXCEPT SELECT id, name FROM so_users WHERE id > ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 EXCEPT SELECT id, name FROM so_users WHERE id > 1',
  },
  ['intersect'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 INTERSECT SELECT id, name FROM so_users WHERE id > :x',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? INTERSECT SELECT id, name FROM so_users WHERE id > ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 INTERSECT SELECT id, name FROM so_users WHERE id > 1',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 INTERSECT SELECT id, name FROM so_users WHERE id > $2',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 INTERSECT SELECT id, name FROM so_users WHERE id > 1',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? INTERSECT SELECT id, name FROM so_users WHERE id > ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 INTERSECT SELECT id, name FROM so_users WHERE id > 1',
  },
  ['three'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT id, name FROM so_users WHERE id > :x UNION SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ? UNION SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 UNION SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT id, name FROM so_users WHERE id > $2 UNION SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $3',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 UNION SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ? UNION SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 UNION SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3',
  },
  ['sub'] = {
    default = 'SELECT q.id, q.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < :id_1 UNION ALL SELECT id, name FROM so_users WHERE id > :x) AS q',
    sqlite = 'SELECT q.id, q.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < ? UNION ALL SELECT id, name FROM so_users WHERE id > ?) AS q',
    sqlite_lit = 'SELECT q.id, q.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1) AS q',
    postgresql = 'SELECT q.id, q.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < $1 UNION ALL SELECT id, name FROM so_users WHERE id > $2) AS q',
    postgresql_lit = 'SELECT q.id, q.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1) AS q',
    mysql = 'SELECT q.id, q.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < ? UNION ALL SELECT id, name FROM so_users WHERE id > ?) AS q',
    mysql_lit = 'SELECT q.id, q.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION ALL SELECT id, name FROM so_users WHERE id > 1) AS q',
  },
  ['anon_sub'] = {
    default = 'SELECT anon_1.id, anon_1.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT id, name FROM so_users WHERE id > :x) AS anon_1',
    sqlite = 'SELECT anon_1.id, anon_1.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?) AS anon_1',
    sqlite_lit = 'SELECT anon_1.id, anon_1.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1) AS anon_1',
    postgresql = 'SELECT anon_1.id, anon_1.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT id, name FROM so_users WHERE id > $2) AS anon_1',
    postgresql_lit = 'SELECT anon_1.id, anon_1.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1) AS anon_1',
    mysql = 'SELECT anon_1.id, anon_1.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?) AS anon_1',
    mysql_lit = 'SELECT anon_1.id, anon_1.name \nFROM (SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1) AS anon_1',
  },
  ['in'] = {
    default = 'SELECT so_users.id \nFROM so_users \nWHERE so_users.id IN (SELECT so_users.id \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT 3)',
    sqlite = 'SELECT so_users.id \nFROM so_users \nWHERE so_users.id IN (SELECT so_users.id \nFROM so_users \nWHERE so_users.id < ? UNION SELECT 3)',
    sqlite_lit = 'SELECT so_users.id \nFROM so_users \nWHERE so_users.id IN (SELECT so_users.id \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT 3)',
    postgresql = 'SELECT so_users.id \nFROM so_users \nWHERE so_users.id IN (SELECT so_users.id \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT 3)',
    postgresql_lit = 'SELECT so_users.id \nFROM so_users \nWHERE so_users.id IN (SELECT so_users.id \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT 3)',
    mysql = 'SELECT so_users.id \nFROM so_users \nWHERE so_users.id IN (SELECT so_users.id \nFROM so_users \nWHERE so_users.id < ? UNION SELECT 3)',
    mysql_lit = 'SELECT so_users.id \nFROM so_users \nWHERE so_users.id IN (SELECT so_users.id \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT 3)',
  },
  ['ordered'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT id, name FROM so_users WHERE id > :x ORDER BY id',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ? ORDER BY id',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 ORDER BY id',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT id, name FROM so_users WHERE id > $2 ORDER BY id',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 ORDER BY id',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ? ORDER BY id',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 ORDER BY id',
  },
  ['limited'] = {
    default = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT id, name FROM so_users WHERE id > :x ORDER BY name\n LIMIT :param_1',
    sqlite = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ? ORDER BY name\n LIMIT ? OFFSET ?',
    sqlite_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 ORDER BY name\n LIMIT 2 OFFSET 0',
    postgresql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT id, name FROM so_users WHERE id > $2 ORDER BY name \n LIMIT $3',
    postgresql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 ORDER BY name \n LIMIT 2',
    mysql = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ? ORDER BY name \n LIMIT ?',
    mysql_lit = 'SELECT so_users.id, so_users.name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1 ORDER BY name \n LIMIT 2',
  },
  ['cte'] = {
    default = 'WITH c AS \n(SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < :id_1 UNION SELECT id, name FROM so_users WHERE id > :x)\n SELECT c.id, c.name \nFROM c',
    sqlite = 'WITH c AS \n(SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?)\n SELECT c.id, c.name \nFROM c',
    sqlite_lit = 'WITH c AS \n(SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1)\n SELECT c.id, c.name \nFROM c',
    postgresql = 'WITH c AS \n(SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < $1 UNION SELECT id, name FROM so_users WHERE id > $2)\n SELECT c.id, c.name \nFROM c',
    postgresql_lit = 'WITH c AS \n(SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1)\n SELECT c.id, c.name \nFROM c',
    mysql = 'WITH c AS \n(SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < ? UNION SELECT id, name FROM so_users WHERE id > ?)\n SELECT c.id, c.name \nFROM c',
    mysql_lit = 'WITH c AS \n(SELECT so_users.id AS id, so_users.name AS name \nFROM so_users \nWHERE so_users.id < 3 UNION SELECT id, name FROM so_users WHERE id > 1)\n SELECT c.id, c.name \nFROM c',
  },
}
local rows = {
  ['union'] = {{1, "a"}, {2, "b"}, {3, "c"}},
  ['union_all'] = {{1, "a"}, {2, "b"}, {2, "b"}, {3, "c"}},
  ['method_union'] = {{1, "a"}, {2, "b"}, {3, "c"}},
  ['method_union_all'] = {{1, "a"}, {2, "b"}, {2, "b"}, {3, "c"}},
  ['except'] = {{1, "a"}},
  ['intersect'] = {{2, "b"}},
  ['three'] = {{1, "a"}, {2, "b"}, {3, "c"}},
  ['sub'] = {{1, "a"}, {2, "b"}, {2, "b"}, {3, "c"}},
  ['anon_sub'] = {{1, "a"}, {2, "b"}, {3, "c"}},
  ['in'] = {{1}, {2}, {3}},
  ['ordered'] = {{1, "a"}, {2, "b"}, {3, "c"}},
  ['limited'] = {{1, "a"}, {2, "b"}},
  ['cte'] = {{1, "a"}, {2, "b"}, {3, "c"}},
}

local m = MetaData()
local u = Table("so_users", m,
  Column("id", Integer, {primary_key = true}), Column("name", String(20)))
local ts = text("SELECT id, name FROM so_users WHERE id > :x")
  :columns(u.c.id, u.c.name):bindparams{x = 1}
local s = select(u.c.id, u.c.name):where(u.c.id:lt(3))
local cases = {
  ["union"] = union(s, ts),
  ["union_all"] = union_all(s, ts),
  ["method_union"] = s:union(ts),
  ["method_union_all"] = s:union_all(ts),
  ["except"] = except_(s, ts),
  ["intersect"] = intersect(s, ts),
  ["three"] = union(s, ts, s),
  ["sub"] = s:union_all(ts):subquery("q"):select(),
  ["anon_sub"] = union(s, ts):subquery():select(),
  ["in"] = select(u.c.id):where(u.c.id:in_(union(s:with_only_columns(u.c.id),
    text("SELECT 3"):columns(u.c.id)))),
  ["ordered"] = union(s, ts):order_by(u.c.id),
  ["limited"] = union(s, ts):order_by(u.c.name):limit(2),
  ["cte"] = select(union(s, ts):cte("c")),
}

T.test("set operations with textual selects render as SQLAlchemy does", function()
  for name, exp in pairs(expect) do
    local st = assert(cases[name], name)
    T.eq(squash(tostring(st)), squash(exp.default), name)
    for _, d in ipairs{"sqlite", "postgresql", "mysql"} do
      T.eq(squash(st:compile(d).sql), squash(exp[d]), name .. " " .. d)
      T.eq(squash(st:compile(d, {literal_binds = true}).sql),
           squash(exp[d .. "_lit"]), name .. " " .. d .. " literal")
    end
  end
  T.eq(cases["union"]:compile("postgresql").params, {3, 1})
  -- the members' columns: the first member's, as for any set operation
  T.eq(cases["union"]:subquery().c.name.name, "name")
end)

T.test("a textual select can't come first", function()
  T.raises("ArgumentError", function() return union(ts, s) end)
  T.raises("ArgumentError", function() return union_all(ts) end)
  T.raises("ArgumentError", function() return union(s, text("SELECT 1")) end)
end)

local function sorted(rs)
  local out = {}
  for _, r in ipairs(rs) do
    local row = {}
    for i = 1, #r do row[i] = r[i] end
    out[#out + 1] = row
  end
  table.sort(out, function(a, b)
    for i = 1, math.max(#a, #b) do
      if a[i] ~= b[i] then return tostring(a[i]) < tostring(b[i]) end
    end
    return false
  end)
  return out
end

for _, db in ipairs(T.databases()) do
  T.test("set operations with textual selects execute on " .. db.name, function()
    local engine = create_engine(db.url)
    m:drop_all(engine)
    m:create_all(engine)
    local conn <close> = engine:connect()
    conn:execute(insert(u), {{id = 1, name = "a"}, {id = 2, name = "b"},
                             {id = 3, name = "c"}})
    for name, st in pairs(cases) do
      T.eq(sorted(conn:execute(st):all()), rows[name], name)
    end
    -- the text member's value given at execution
    T.eq(sorted(conn:execute(union(s, text(
      "SELECT id, name FROM so_users WHERE id > :x"):columns(u.c.id, u.c.name)),
      {x = 2}):all()), rows["union"])
    conn:rollback()
    conn:close()
    m:drop_all(engine)
  end)
end

T.done()
