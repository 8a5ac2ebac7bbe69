-- Core behaviours matched to SQLAlchemy 1.4 on every database: what a
-- default function's context sees, a database error's parameters as the
-- driver got them, foreign keys to missing tables, and foreign-key cycles
-- in create_all / drop_all.  Expected values come from SQLAlchemy 1.4.46.
local T = require "testing"

-- A parameter map as sorted "k=v" text (a list value as {a,b}).
local function dump(t)
  local ks = {}
  for k, v in pairs(t) do
    local s = type(v) == "table" and "{" .. table.concat(v, ",") .. "}" or
              tostring(v)
    ks[#ks + 1] = k .. "=" .. s
  end
  table.sort(ks)
  return table.concat(ks, " ")
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "a default function sees the statement's other parameters",
         function()
    local e = create_engine(db.url)
    local m = MetaData()
    local seen = {}
    local function f(ctx)
      seen[#seen + 1] = dump(ctx:get_current_parameters())
      return "x"
    end
    local t = Table("cf_ctx", m, Column("id", Integer, {primary_key = true}),
                    Column("a", String(20)),
                    Column("b", String(20), {default = f, onupdate = f}))
    m:drop_all(e)
    m:create_all(e)
    e:begin(function(c)
      c:execute(t:insert():values{id = 1, a = func.lower("Q")})
      c:execute(t:insert(), {id = 2})
      c:execute(t:update():where(t.c.id:eq(1)):values{a = "z"})
      c:execute(t:update():where(t.c.id:eq(1)))
      c:execute(t:update():where(t.c.id:eq(bindparam("pid"))),
                {{pid = 1, a = "w"}, {pid = 2, a = "v"}})
      c:execute(t:update():where(t.c.a:like("%z") & (t.c.id + 3):gt(2))
                  :values{a = "z"})
      c:execute(t:update():values{a = t.c.a .. "x"}
                  :where(t.c.id:in_({1, 2})))
      c:execute(t:update():values{a = t.c.a .. "x"}
                  :where(t.c.id:in_(select(t.c.id):where(t.c.a:eq("z")))))
      c:execute(t:update():values{a = "k"}:where(t.c.id:in_({3, 4})),
                {a = "m"})
      c:execute(t:update():values{a = "k"}:where(
                  t.c.id:in_(bindparam("ids", nil, {expanding = true}))),
                {ids = {1, 2}})
    end)
    m:drop_all(e)
    -- SQLAlchemy's also hold the defaulted columns as None (b), which a
    -- Lua table cannot
    T.eq(seen, {
      "id=1 lower_1=Q", "id=2", "a=z id_1=1", "id_1=1", "a=w pid=1",
      "a=v pid=2", "a=z a_1=%z id_1=3 param_1=2", "a_1=x id_1={1,2}",
      "a_1=x a_2=z", "a=m id_1={3,4}", "a=k ids={1,2}"})
  end)
end

T.done()
