-- text() with an expanding bindparam: `IN :ids` renders SQLAlchemy's
-- IN (__[POSTCOMPILE_ids]) until a list is given (bindparams{}, params{}
-- or the execution parameters), then one bind per item, or each dialect's
-- empty set for an empty list.  Expected text from SQLAlchemy 1.4.46
-- (render_postcompile for the forms sent to the driver).
local T = require "testing"

local function squash(s) return (s:gsub("%s+", " ")) end

local SQL = "SELECT id, name FROM tx_users WHERE id IN :ids AND name != :n"
local ids = bindparam("ids", nil, {expanding = true})
local waiting = text(SQL):bindparams(ids)

local expect = {
  waiting = "SELECT id, name FROM tx_users WHERE id IN (__[POSTCOMPILE_ids]) AND name != :n",
  two = {
    sqlite = "SELECT id, name FROM tx_users WHERE id IN (?, ?) AND name != ?",
    postgresql = "SELECT id, name FROM tx_users WHERE id IN ($1, $2) AND name != $3",
    mysql = "SELECT id, name FROM tx_users WHERE id IN (?, ?) AND name != ?",
  },
  empty = {
    sqlite = "SELECT id, name FROM tx_users WHERE id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1) AND name != ?",
    postgresql = "SELECT id, name FROM tx_users WHERE id IN (SELECT CAST(NULL AS INTEGER) WHERE 1!=1) AND name != $1",
    mysql = "SELECT id, name FROM tx_users WHERE id IN (SELECT _in_0 FROM (SELECT 1 AS _in_0) as _empty_set WHERE 1!=1) AND name != ?",
  },
  empty_lit = {
    sqlite = "SELECT id, name FROM tx_users WHERE id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1) AND name != 'x'",
    postgresql = "SELECT id, name FROM tx_users WHERE id IN (SELECT CAST(NULL AS INTEGER) WHERE 1!=1) AND name != 'x'",
    mysql = "SELECT id, name FROM tx_users WHERE id IN (SELECT _in_0 FROM (SELECT 1 AS _in_0) as _empty_set WHERE 1!=1) AND name != 'x'",
  },
  typed_empty = {
    sqlite = "SELECT name FROM tx_users WHERE name IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1) ORDER BY name",
    postgresql = "SELECT name FROM tx_users WHERE name IN (SELECT CAST(NULL AS VARCHAR(20)) WHERE 1!=1) ORDER BY name",
    mysql = "SELECT name FROM tx_users WHERE name IN (SELECT _in_0 FROM (SELECT 1 AS _in_0) as _empty_set WHERE 1!=1) ORDER BY name",
  },
  valued = "SELECT id FROM tx_users WHERE id IN (__[POSTCOMPILE_ids])",
  valued_x = {
    sqlite = "SELECT id FROM tx_users WHERE id IN (?, ?)",
    postgresql = "SELECT id FROM tx_users WHERE id IN ($1, $2)",
    mysql = "SELECT id FROM tx_users WHERE id IN (?, ?)",
  },
  valued_lit = "SELECT id FROM tx_users WHERE id IN (1, 3)",
}

local valued = text("SELECT id FROM tx_users WHERE id IN :ids"):bindparams{
  bindparam("ids", {1, 3}, {expanding = true, type_ = Integer})}
local typed_empty = text(
  "SELECT name FROM tx_users WHERE name IN :ns ORDER BY name"):bindparams{
  bindparam("ns", {}, {expanding = true, type_ = String(20)})}
local DIALECTS = {"sqlite", "postgresql", "mysql"}

T.test("text() expanding bind renders as SQLAlchemy does", function()
  T.eq(tostring(waiting), expect.waiting)
  -- the table form of bindparams{} declares it the same way
  T.eq(tostring(text(SQL):bindparams{ids}), expect.waiting)
  T.eq(tostring(waiting:bindparams{ids = {1, 3}}), expect.waiting)
  T.eq(tostring(waiting:params{ids = {1, 3}}), expect.waiting)
  T.eq(tostring(valued), expect.valued)
  for _, d in ipairs(DIALECTS) do
    -- no list yet: the placeholder stays, only :n is a parameter
    local c = waiting:compile(d)
    T.eq(c.sql, expect.waiting:gsub(":n$", T.ph(d, 1)), d)
    c = waiting:bindparams{ids = {1, 3}, n = "x"}:compile(d)
    T.eq(c.sql, expect.two[d], d)
    T.eq(c.params, {1, 3, "x"}, d)
    c = waiting:params{ids = {1, 3}, n = "x"}:compile(d)
    T.eq(c.sql, expect.two[d], d .. " params")
    T.eq(c.params, {1, 3, "x"}, d .. " params")
    c = waiting:bindparams{ids = {}, n = "x"}:compile(d)
    T.eq(c.sql, expect.empty[d], d .. " empty")
    T.eq(c.params, {"x"}, d .. " empty")
    T.eq(waiting:bindparams{ids = {}, n = "x"}:compile(d,
      {literal_binds = true}).sql, expect.empty_lit[d], d .. " empty literal")
    T.eq(typed_empty:compile(d).sql, expect.typed_empty[d], d .. " typed")
    T.eq(valued:compile(d).sql, expect.valued_x[d], d .. " valued")
    T.eq(valued:compile(d).params, {1, 3}, d .. " valued")
    T.eq(valued:compile(d, {literal_binds = true}).sql, expect.valued_lit,
         d .. " valued literal")
  end
end)

T.test("text() expanding bind arguments", function()
  T.raises("ArgumentError", function() return waiting:bindparams{ids = 5} end)
  T.raises("ArgumentError", function() return waiting:params{ids = 5} end)
  T.raises("ArgumentError", function() return text(SQL):bindparams(ids, 5) end)
  -- a bind the text doesn't name is refused, as SQLAlchemy refuses it
  T.raises("ArgumentError", function() return text(SQL):bindparams{nope = 1} end)
  T.raises("ArgumentError", function()
    return text(SQL):bindparams(bindparam("nope", nil, {expanding = true}))
  end)
  T.raises("ArgumentError", function()
    return text(SQL):bindparams{bindparam("nope", 1)}
  end)
  -- params{} of a text() binds its undeclared :names as SQLAlchemy's does
  T.eq(text("SELECT :a"):params{a = 1}:compile("sqlite").params, {1})
  T.eq(tostring(text("SELECT :a"):params{a = 1}), "SELECT :a")
end)

for _, db in ipairs(T.databases()) do
  T.test("text() expanding bind executes on " .. db.name, function()
    local engine = create_engine(db.url)
    local m = MetaData()
    local users = Table("tx_users", m,
      Column("id", Integer, {primary_key = true}), Column("name", String(20)))
    m:drop_all(engine)
    m:create_all(engine)
    local log = {}
    orm.event.listen(engine, "before_cursor_execute",
      function(_, _, sql) log[#log + 1] = squash(sql) end)
    local conn <close> = engine:connect()
    conn:execute(insert(users), {{id = 1, name = "a"}, {id = 2, name = "b"},
                                 {id = 3, name = "c"}})
    local function rows(st, params)
      local out = {}
      for _, r in ipairs(conn:execute(st, params):all()) do
        out[#out + 1] = {r[1], r[2]}
      end
      return out
    end
    -- twice: the second run goes through the compiled-statement caches
    for _ = 1, 2 do
      T.eq(rows(waiting, {ids = {1, 3}, n = "x"}), {{1, "a"}, {3, "c"}})
      T.eq(log[#log], expect.two[db.name])
      T.eq(rows(waiting, {ids = {1, 3}, n = "a"}), {{3, "c"}})
      T.eq(rows(waiting, {ids = {}, n = "x"}), {})
      T.eq(log[#log], expect.empty[db.name])
      T.eq(rows(waiting:params{ids = {2}, n = "x"}), {{2, "b"}})
      T.eq(rows(waiting:bindparams{ids = {2, 3}}, {n = "b"}), {{3, "c"}})
      T.eq(rows(valued), {{1}, {3}})
      T.eq(log[#log], expect.valued_x[db.name])
      T.eq(rows(typed_empty), {})
      T.eq(log[#log], expect.typed_empty[db.name])
      -- a list given at execution replaces the bind's own, as in
      -- SQLAlchemy (text() and in_() alike)
      T.eq(rows(valued, {ids = {3}}), {{3}})
      T.eq(rows(valued, {ids = {}}), {})
      T.eq(rows(valued, {other = 1}), {{1}, {3}})
      T.eq(rows(typed_empty, {ns = {"b", "c"}}), {{"b"}, {"c"}})
      local st = select(users.c.id):where(users.c.id:in_(
        bindparam("xs", {1, 2}, {expanding = true}))):order_by(users.c.id)
      T.eq(rows(st), {{1}, {2}})
      T.eq(rows(st, {xs = {2, 3}}), {{2}, {3}})
      T.eq(rows(st, {xs = {}}), {})
    end
    T.raises("InvalidRequestError", function()
      return conn:execute(waiting, {n = "x"})
    end)
    T.raises("ArgumentError", function()
      return conn:execute(waiting, {ids = 1, n = "x"})
    end)
    conn:rollback()
    conn:close()
    m:drop_all(engine)
  end)
end

T.done()
