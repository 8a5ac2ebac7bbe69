-- Every construct of sql_cases.lua (generated from SQLAlchemy by
-- tests/oracle/gen_sql_cases.py) must render the oracle's text, up to white
-- space, for the default string form and each dialect.
local cases = require "sql_cases"

local function norm(s)
  s = s:gsub("%s+", " "):gsub("%( ", "("):gsub(" %)", ")")
  return (s:gsub("^ ", ""):gsub(" $", ""))
end

local env = setmetatable({}, {__index = _ENV})
assert(load(cases.prelude .. "\nreturn {m = m, users = users, addresses = addresses, orders = orders, kinds = kinds, t1 = t1}", "prelude", "t", env))()
local names = load(cases.prelude .. "\nreturn {users = users, addresses = addresses, orders = orders, kinds = kinds, t1 = t1}", "prelude", "t", env)()
for k, v in pairs(names) do env[k] = v end

local failed, passed = 0, 0
for i, case in ipairs(cases.cases) do
  local fn, err = load("return " .. case.lua, "case " .. i, "t", env)
  local ok, stmt = pcall(fn or error, err)
  for dialect, want in pairs(case.expect) do
    local got
    if not ok then
      got = "!" .. tostring(stmt)
    else
      local cok, res = pcall(function()
        if dialect == "default" and not case.lit then return tostring(stmt) end
        return stmt:compile(dialect, {literal_binds = case.lit}).sql
      end)
      if cok then got = res
      elseif type(res) == "table" and res.kind then got = "!" .. res.kind .. ": " .. tostring(res.message)
      else got = "!" .. tostring(res) end
    end
    local match
    if want:sub(1, 1) == "!" then
      match = got:sub(1, 1) == "!"
    else
      match = norm(got) == norm(want)
    end
    if match then
      passed = passed + 1
    else
      failed = failed + 1
      io.stderr:write(string.format("FAIL case %d [%s] %s\n  want: %s\n  got:  %s\n",
        i, dialect, case.lua, norm(want), norm(got)))
    end
  end
end
print(string.format("%d passed, %d failed of %d", passed, failed, cases.count))
if failed > 0 then os.exit(1) end
