-- Micro-benchmark of the expression language: the compile_select scenario
-- of /work/shared/bench (a two-table join, three-condition WHERE, ORDER BY,
-- LIMIT), built from scratch and compiled for SQLite N times; then the
-- same prebuilt statement compiled N times (compile_only).
--   retort scripts/bench/compile.lua [N]
-- or, with the Lua module: lua5.4 scripts/bench/compile.lua [N]
local sa = sa or require "retort"
local N = tonumber(arg and arg[1]) or 10000

local m = sa.MetaData()
local parent = sa.Table("parent", m,
  sa.Column("id", sa.Integer, {primary_key = true}),
  sa.Column("name", sa.String(255)))
local child = sa.Table("child", m,
  sa.Column("id", sa.Integer, {primary_key = true}),
  sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id"), {nullable = false, index = true}),
  sa.Column("name", sa.String(255)))

local function build()
  local p, c = parent.c, child.c
  return sa.select(p.id, p.name, c.id:label("child_id"), c.name:label("child_name"))
    :select_from(parent:join(child, p.id:eq(c.parent_id)))
    :where(p.name:like("parent%"), c.id:gt(100), c.name:ne("child 0.0"))
    :order_by(p.name, c.id:desc())
    :limit(20)
end

local expected = build():compile("sqlite").sql
assert(expected:find("JOIN child") and expected:find("LIMIT"), expected)

local function run(name, fn)
  collectgarbage()
  local t0 = os.clock()
  local sql
  for _ = 1, N do sql = fn() end
  local dt = os.clock() - t0
  assert(sql == expected, "unstable output")
  print(string.format("%-16s %d %.4f s  %.2f us/iter", name, N, dt, dt / N * 1e6))
end

run("compile_select", function() return build():compile("sqlite").sql end)
local stmt = build()
run("compile_only", function() return stmt:compile("sqlite").sql end)
