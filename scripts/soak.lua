-- soak.lua -- many mixed ORM operations against one database, watching
-- the process's memory and checking the data it leaves behind.
--
--   retort --norc scripts/soak.lua URL [--ops N] [--every K] [--quiet]
--   local soak = dofile("scripts/soak.lua"); soak.run(url, {ops = N})
--
-- The operations (insert, query, update, delete, relationship loads) are
-- drawn from a fixed-seed generator over a bounded set of live users, so
-- the data set stays the same size and memory must stay flat: resident
-- memory is sampled every K operations (N / 10 by default) and must stay
-- within 10% of the sample taken after the first K (the warm-up).  The
-- script keeps its own account of every row, and the database must agree
-- with it at the end.  Exits non-zero when either check fails.
local soak = {}

local LIVE_CAP = 500    -- users kept alive: bounds both sides' memory
local BATCH = 50        -- operations per session and transaction
local SLACK = 0.10      -- how far RSS may rise above the warm-up sample

-- resident set size of this process in KiB (Linux)
local function rss_kib()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local kib
  for line in f:lines() do
    kib = line:match("^VmRSS:%s+(%d+)%s+kB")
    if kib then break end
  end
  f:close()
  return tonumber(kib)
end
soak.rss_kib = rss_kib

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "SoakUser" {
    __tablename__ = "soak_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(40), {nullable = false}),
    visits = Column(Integer, {nullable = false}),
    addresses = orm.relationship("SoakAddress", {
      back_populates = "user", cascade = "all, delete-orphan",
      order_by = "SoakAddress.id"}),
  }
  M.Address = Base:class "SoakAddress" {
    __tablename__ = "soak_address",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(60), {nullable = false}),
    user_id = Column(Integer, ForeignKey("soak_user.id"),
                     {nullable = false}),
    user = orm.relationship("SoakUser", {back_populates = "addresses"}),
  }
  return M
end

-- The script's own account: live users in an array (for a uniform random
-- pick) with each one's index, address count and visits.
local function ledger()
  return {ids = {}, pos = {}, naddr = {}, visits = {}, users = 0,
          addresses = 0, visits_total = 0}
end

local function ledger_add(L, id, naddr)
  L.ids[#L.ids + 1] = id
  L.pos[id] = #L.ids
  L.naddr[id] = naddr
  L.visits[id] = 0
  L.users = L.users + 1
  L.addresses = L.addresses + naddr
end

local function ledger_remove(L, id)
  local i, last = L.pos[id], L.ids[#L.ids]
  L.ids[i], L.pos[last] = last, i
  L.ids[#L.ids] = nil
  L.users = L.users - 1
  L.addresses = L.addresses - L.naddr[id]
  L.visits_total = L.visits_total - L.visits[id]
  L.pos[id], L.naddr[id], L.visits[id] = nil, nil, nil
end

local function pick(L, rnd)
  return L.ids[rnd(#L.ids)]
end

local function fail(msg)
  error("soak: " .. msg, 0)
end

-- One operation in `session`; returns its kind.
local function step(M, session, L, rnd, serial)
  local User, Address = M.User, M.Address
  local r = rnd(100)
  if #L.ids == 0 or (r <= 20 and #L.ids < LIVE_CAP) then
    local n = rnd(0, 3)
    local u = User{name = "user" .. serial, visits = 0}
    for k = 1, n do
      u.addresses:append(Address{email = ("u%d.%d@example.com"):format(
        serial, k)})
    end
    session:add(u)
    session:flush()
    ledger_add(L, u.id, n)
    return "insert"
  elseif r <= 40 then
    local id = pick(L, rnd)
    local u = session:get(User, id)
    if not u or u.visits ~= L.visits[id] then
      fail(("user %d: visits %s, expected %d"):format(id,
        u and tostring(u.visits) or "(missing)", L.visits[id]))
    end
    local name = session:scalars(select(User.name):where(User.id:eq(id)))
      :one()
    if name ~= u.name then fail("query by id disagrees with get") end
    return "query"
  elseif r <= 60 then
    local id = pick(L, rnd)
    local u = session:get(User, id)
    u.visits = u.visits + 1
    u.name = "user" .. id .. "v" .. u.visits
    L.visits[id] = L.visits[id] + 1
    L.visits_total = L.visits_total + 1
    return "update"
  elseif r <= 80 then
    local id = pick(L, rnd)
    local u = session:get(User, id)
    if #u.addresses ~= L.naddr[id] then
      fail(("user %d: %d addresses loaded, expected %d"):format(id,
        #u.addresses, L.naddr[id]))
    end
    for _, a in ipairs(u.addresses) do
      if a.user ~= u then fail("address.user is not its user") end
    end
    -- and from the many side, through a query
    local a = session:scalars(select(Address):where(Address.user_id:eq(id))
      :limit(1)):first()
    if (a == nil) ~= (L.naddr[id] == 0) or (a and a.user ~= u) then
      fail(("user %d: address query disagrees"):format(id))
    end
    return "load"
  elseif #L.ids > LIVE_CAP / 2 then
    local id = pick(L, rnd)
    session:delete(session:get(User, id))
    session:flush()
    ledger_remove(L, id)
    return "delete"
  else
    -- keep the set from draining: a count query instead
    local n = session:scalar(select(func.count(User.id)))
    if n ~= L.users then
      fail(("count(*) %s, expected %d"):format(tostring(n), L.users))
    end
    return "query"
  end
end

local function final_counts(engine)
  local c <close> = engine:connect()
  local users = c:exec_driver_sql("SELECT count(*) FROM soak_user"):scalar()
  local addrs = c:exec_driver_sql("SELECT count(*) FROM soak_address")
    :scalar()
  local visits = c:exec_driver_sql(
    "SELECT coalesce(sum(visits), 0) FROM soak_user"):scalar()
  c:rollback()
  return math.tointeger(users), math.tointeger(addrs),
         math.tointeger(visits)
end

-- Run the soak; returns a report table, or raises on a failed check.
--   opts: ops (1000000), every (ops / 10), seed (42), quiet, check_rss
--   (true), log (a function given each line), after_create (a function
--   given the engine once the tables exist)
function soak.run(url, opts)
  opts = opts or {}
  local ops = opts.ops or 1000000
  local every = opts.every or math.max(ops // 10, 1)
  local log = opts.log or (opts.quiet and function() end) or
              function(line) print(line); io.stdout:flush() end
  local M = schema()
  local engine = create_engine(url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  if opts.after_create then opts.after_create(engine) end
  math.randomseed(opts.seed or 42)
  local rnd = math.random
  local L = ledger()
  local kinds = {insert = 0, query = 0, update = 0, delete = 0, load = 0}
  local series, done = {}, 0
  local t0 = os.time()
  while done < ops do
    local session <close> = orm.Session(engine)
    local n = math.min(BATCH, ops - done)
    for _ = 1, n do
      done = done + 1
      local kind = step(M, session, L, rnd, done)
      kinds[kind] = kinds[kind] + 1
      if done % every == 0 then
        session:commit()
        collectgarbage("collect")
        local kib = rss_kib()
        series[#series + 1] = kib
        log(("%9d ops  rss %7d KiB  users %4d  addresses %5d  %ds")
          :format(done, kib or -1, L.users, L.addresses, os.time() - t0))
      end
    end
    session:commit()
    session:close()
  end
  local users, addrs, visits = final_counts(engine)
  engine:dispose()
  local report = {series = series, kinds = kinds, users = users,
                  addresses = addrs, visits = visits, expected = {
                    users = L.users, addresses = L.addresses,
                    visits = L.visits_total}}
  local problems = {}
  if users ~= L.users or addrs ~= L.addresses or visits ~= L.visits_total
  then
    problems[#problems + 1] = ("rows: %s users, %s addresses, %s visits; " ..
      "expected %d, %d, %d"):format(tostring(users), tostring(addrs),
      tostring(visits), L.users, L.addresses, L.visits_total)
  end
  -- the first sample is the warm-up; every later one must stay near it
  local base = series[1]
  local peak = base
  for i = 2, #series do peak = math.max(peak, series[i]) end
  report.base, report.peak = base, peak
  if opts.check_rss ~= false and base and peak > base * (1 + SLACK) then
    problems[#problems + 1] = ("RSS grew from %d to %d KiB (over %d%%)")
      :format(base, peak, math.floor(SLACK * 100))
  end
  log(("done: %d ops (%d insert, %d query, %d update, %d delete, " ..
       "%d load); %d users, %d addresses, %d visits; rss %s..%s KiB")
    :format(done, kinds.insert, kinds.query, kinds.update, kinds.delete,
            kinds.load, users, addrs, visits, tostring(base),
            tostring(peak)))
  if #problems > 0 then fail(table.concat(problems, "; ")) end
  return report
end

-- run as a script: retort --norc scripts/soak.lua URL [--ops N] ...
local function main(args)
  local url, opts = nil, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--ops" or a == "--every" then
      local n = math.tointeger(tonumber(args[i + 1]))
      if not n or n < 1 then
        io.stderr:write("soak: ", a, " needs a positive integer\n")
        os.exit(2)
      end
      opts[a:sub(3)] = n
      i = i + 1
    elseif a == "--quiet" then
      opts.quiet = true
    elseif a == "--no-rss-check" then
      opts.check_rss = false
    elseif not url and not a:match("^%-") then
      url = a
    else
      io.stderr:write("usage: soak URL [--ops N] [--every K] [--quiet]\n")
      os.exit(2)
    end
    i = i + 1
  end
  if not url then
    io.stderr:write("usage: soak URL [--ops N] [--every K] [--quiet]\n")
    os.exit(2)
  end
  local ok, err = pcall(soak.run, url, opts)
  if not ok then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  os.exit(0)
end

-- run as a script, not when loaded with dofile from a test
local script = arg and arg[0] or ""
if script:match("^soak%.lua$") or script:match("/soak%.lua$") then
  main(arg)
end
return soak
