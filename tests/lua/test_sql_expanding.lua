-- bindparam(name, value, {expanding = true}) in in_()/not_in(): the string
-- form keeps SQLAlchemy's __[POSTCOMPILE_name]; execution expands the list
-- given then (an empty one as each dialect's empty IN).  Expected text
-- from SQLAlchemy 1.4.46 (the x forms: the statement sent to the driver).
local T = require "testing"

local function squash(s) return (s:gsub("%s+", " "):gsub("%( ", "("):gsub(" %)", ")")) end

local expect = {
  ['in'] = {
    default = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (__[POSTCOMPILE_xs])]==],
    sqlite_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (NULL)]==],
    sqlite_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (?, ?)]==],
    sqlite_x2 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)]==],
    postgresql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (NULL)]==],
    postgresql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN ($1, $2)]==],
    postgresql_x2 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (NULL) AND (1 != 1)]==],
    mysql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (NULL)]==],
    mysql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (?, ?)]==],
    mysql_x2 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.id IN (NULL) AND (1 != 1)]==],
  },
  ['notin'] = {
    default = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (__[POSTCOMPILE_xs]))]==],
    sqlite_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (NULL))]==],
    sqlite_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (?, ?))]==],
    sqlite_x2 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1))]==],
    postgresql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (NULL))]==],
    postgresql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN ($1, $2))]==],
    postgresql_x2 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (NULL) OR (1 = 1))]==],
    mysql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (NULL))]==],
    mysql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (?, ?))]==],
    mysql_x2 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE (bp_users.id NOT IN (NULL) OR (1 = 1))]==],
  },
  ['valued'] = {
    default = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (__[POSTCOMPILE_ns])]==],
    sqlite_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN ('a', 'c')]==],
    sqlite_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (?, ?)]==],
    postgresql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN ('a', 'c')]==],
    postgresql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN ($1, $2)]==],
    mysql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN ('a', 'c')]==],
    mysql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (?, ?)]==],
  },
  ['valued_empty'] = {
    default = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (__[POSTCOMPILE_ns])]==],
    sqlite_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)]==],
    sqlite_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)]==],
    postgresql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (NULL) AND (1 != 1)]==],
    postgresql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (NULL) AND (1 != 1)]==],
    mysql_lit = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (NULL) AND (1 != 1)]==],
    mysql_x1 = [==[SELECT bp_users.id 
FROM bp_users 
WHERE bp_users.name IN (NULL) AND (1 != 1)]==],
  },
  ['tuple'] = {
    default = [==[SELECT bp_users.name 
FROM bp_users 
WHERE (bp_users.id, bp_users.name) IN (__[POSTCOMPILE_p])]==],
    sqlite_x1 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE (bp_users.id, bp_users.name) IN (VALUES (?, ?), (?, ?))]==],
    sqlite_x2 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE (bp_users.id, bp_users.name) IN (SELECT 1, 1 FROM (SELECT 1, 1) WHERE 1!=1)]==],
    postgresql_x1 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE (bp_users.id, bp_users.name) IN (($1, $2), ($3, $4))]==],
    postgresql_x2 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE (bp_users.id, bp_users.name) IN ((NULL, NULL)) AND (1 != 1)]==],
    mysql_x1 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE (bp_users.id, bp_users.name) IN ((?, ?), (?, ?))]==],
    mysql_x2 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE (bp_users.id, bp_users.name) IN ((NULL, NULL)) AND (1 != 1)]==],
  },
  ['and'] = {
    default = [==[SELECT bp_users.name 
FROM bp_users 
WHERE bp_users.id IN (__[POSTCOMPILE_a]) AND bp_users.name IN (__[POSTCOMPILE_b]) AND bp_users.id > :lo]==],
    sqlite_x1 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE bp_users.id IN (?, ?, ?) AND bp_users.name IN (?, ?) AND bp_users.id > ?]==],
    postgresql_x1 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE bp_users.id IN ($1, $2, $3) AND bp_users.name IN ($4, $5) AND bp_users.id > $6]==],
    mysql_x1 = [==[SELECT bp_users.name 
FROM bp_users 
WHERE bp_users.id IN (?, ?, ?) AND bp_users.name IN (?, ?) AND bp_users.id > ?]==],
  },
}

local m = MetaData()
local users = Table("bp_users", m,
  Column("id", Integer, {primary_key = true}), Column("name", String(20)))
local xs = bindparam("xs", nil, {expanding = true})
local stmts = {
  ["in"] = {select(users.c.id):where(users.c.id:in_(xs)), {{xs = {1, 3}}, {xs = {}}}},
  notin = {select(users.c.id):where(users.c.id:not_in(xs)), {{xs = {1, 3}}, {xs = {}}}},
  valued = {select(users.c.id):where(users.c.name:in_(
    bindparam("ns", {"a", "c"}, {expanding = true}))), {{}}},
  valued_empty = {select(users.c.id):where(users.c.name:in_(
    bindparam("ns", {}, {expanding = true}))), {{}}},
  tuple = {select(users.c.name):where(tuple_(users.c.id, users.c.name):in_(
    bindparam("p", nil, {expanding = true}))), {{p = {{1, "a"}, {2, "x"}}}, {p = {}}}},
  ["and"] = {select(users.c.name):where(and_(
    users.c.id:in_(bindparam("a", nil, {expanding = true})),
    users.c.name:in_(bindparam("b", nil, {expanding = true})),
    users.c.id:gt(bindparam("lo")))), {{a = {1, 2, 3}, b = {"b", "c"}, lo = 1}}},
}
-- the rows each parameter set selects from a, b, c (ids 1..3)
local rows = {
  ["in"] = {{1, 3}, {}}, notin = {{2}, {1, 2, 3}}, valued = {{1, 3}},
  valued_empty = {{}}, tuple = {{"a"}, {}}, ["and"] = {{"b", "c"}},
}

T.test("expanding IN renders as SQLAlchemy does", function()
  for name, exp in pairs(expect) do
    local st = assert(stmts[name], name)[1]
    T.eq(squash(tostring(st)), squash(exp.default), name)
    for _, d in ipairs{"sqlite", "postgresql", "mysql"} do
      if exp[d .. "_lit"] then
        T.eq(squash(st:compile(d, {literal_binds = true}).sql),
             squash(exp[d .. "_lit"]), name .. " " .. d .. " literal")
      end
    end
  end
  -- a bind with its list compiles to the form executed with that list
  local ns = select(users.c.id):where(users.c.id:in_(
    bindparam("xs", {1, 3}, {expanding = true})))
  for _, d in ipairs{"sqlite", "postgresql", "mysql"} do
    local c = ns:compile(d)
    T.eq(squash(c.sql), squash(expect["in"][d .. "_x1"]), d)
    T.eq(c.params, {1, 3})
    -- no list yet: SQLAlchemy's placeholder, no parameter
    c = stmts["in"][1]:compile(d)
    T.eq(squash(c.sql), squash(expect["in"].default))
    T.eq(#c.params, 0)
  end
  T.eq(squash(tostring(select(users.c.id):where(users.c.id:in_(
    bindparam("xs", {}, {expanding = true}))):compile("sqlite"))),
    squash(expect["in"].sqlite_x2))
end)

T.test("expanding bindparam arguments", function()
  T.raises("ArgumentError", function()
    return bindparam("xs", 5, {expanding = true})
  end)
  T.raises("ArgumentError", function()
    return bindparam("xs", {1, {{}}}, {expanding = true})
  end)
  T.raises("ArgumentError", function() return bindparam("xs", {1, 2}) end)
  -- an untyped list takes the type of what it is compared with
  local b = bindparam("xs", nil, {expanding = true, type_ = String})
  T.eq(b.type.__name__, "String")
end)

for _, db in ipairs(T.databases()) do
  T.test("expanding IN executes on " .. db.name, function()
    local engine = create_engine(db.url)
    m:drop_all(engine)
    m:create_all(engine)
    local log = {}
    orm.event.listen(engine, "before_cursor_execute",
      function(_, _, sql) log[#log + 1] = squash(sql) end)
    local conn <close> = engine:connect()
    conn:execute(insert(users), {{id = 1, name = "a"}, {id = 2, name = "b"},
                                 {id = 3, name = "c"}})
    for name, case in pairs(stmts) do
      local st = case[1]
      -- twice: the second run goes through the compiled-statement caches
      for _ = 1, 2 do
        for i, params in ipairs(case[2]) do
          local got = conn:execute(st:order_by(users.c.id), params):scalars():all()
          T.eq(got, rows[name][i], name .. " " .. i)
          local x = expect[name][db.name .. "_x" .. i]
          T.eq(log[#log], squash(x) .. " ORDER BY bp_users.id",
               name .. " " .. i .. " sql")
        end
      end
    end
    -- the same statement with lists of other lengths
    local st = stmts["in"][1]
    for n = 0, 5 do
      local list = {}
      for i = 1, n do list[i] = i end
      T.eq(#conn:execute(st, {xs = list}):all(), math.min(n, 3))
    end
    T.raises("InvalidRequestError", function() return conn:execute(st) end)
    T.raises("InvalidRequestError", function()
      return conn:execute(st, {{xs = {1}}, {xs = {2}}})
    end)
    T.raises("ArgumentError", function() return conn:execute(st, {xs = 1}) end)
    conn:rollback()
    m:drop_all(engine)
  end)
end

T.done()
