-- orm/result_views.lua -- the parts of SQLAlchemy's Result API an ORM
-- result offers beyond reading objects: fetchone(), keys(), mappings(),
-- columns(...) and scalars(i) of a column other than the first.  Each view
-- reads the ORM result it came from and passes its rows through a
-- function.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local OrmResult = I.OrmResult
local raise = I.raise

local View = {}
View.__index = View
View.__name = "retort.ORMResultView"

local function view(base, fn, scalar)
  return setmetatable({base = base, fn = fn, scalar = scalar}, View)
end

-- a single item of a view: a scalar NULL is nil, as SQLAlchemy's None
local function one_item(v, r)
  if r == nil then return nil end
  local x = v.fn(r)
  if v.scalar and x == sa.null then return nil end
  return x
end

local function map_list(v, l)
  for i, r in ipairs(l) do l[i] = v.fn(r) end
  return l
end

function View:all() return map_list(self, self.base:all()) end
View.fetchall = View.all
function View:fetchmany(n) return map_list(self, self.base:fetchmany(n)) end
function View:fetchone() return one_item(self, self.base:fetchone()) end
function View:first() return one_item(self, self.base:first()) end
function View:one() return one_item(self, self.base:one()) end
function View:one_or_none() return one_item(self, self.base:one_or_none()) end
function View:partitions(n)
  local parts = self.base:partitions(n)
  return function()
    local p = parts()
    if p then return map_list(self, p) end
  end
end
-- (items are never nil: a NULL scalar is sa.null, as in ScalarResult)
function View:__call()
  local r = self.base()
  if r ~= nil then return self.fn(r) end
end
function View:unique() return view(self.base:unique(), self.fn, self.scalar) end
function View:close() self.base:close() end
function View:keys()
  if self.scalar then
    raise("InvalidRequestError", "a ScalarResult has no keys()")
  end
  return self.base:keys()
end
function View:yield_per(n)
  self.base.yield_per = n
  return self
end

-- the position of a column given by position or name, as Result:columns
local function position(r, key)
  local ents = r.ents
  if math.type(key) == "integer" then
    if key < 1 or key > #ents then
      raise("ArgumentError", string.format(
        "columns: column index %d out of range (1..%d)", key, #ents))
    end
    return key
  end
  local name = key
  if type(key) ~= "string" then
    name = type(key) == "table" and rawget(key, "__name__") or
           (C.node_kind(key) ~= nil and key.name) or nil
  end
  for i, e in ipairs(ents) do
    if e.name == name then return i end
  end
  raise("NoSuchColumnError", string.format(
    "Could not locate column in row for column '%s'", tostring(name)))
end

function OrmResult:fetchone()
  local out = self:fetchmany(1)
  return out[1]
end

-- (an entity without a name, an unnamed aliased() class, is left out,
-- as SQLAlchemy's)
function OrmResult:keys()
  local names = {}
  for _, e in ipairs(self.ents) do names[#names + 1] = e.name end
  return names
end

function OrmResult:mappings()
  return view(self, function(r) return r._mapping end, false)
end

function OrmResult:columns(...)
  local idx, ents = {}, {}
  for k = 1, select("#", ...) do
    idx[k] = position(self, (select(k, ...)))
    ents[k] = self.ents[idx[k]]
  end
  return view(self, function(r)
    local o = {}
    for k, i in ipairs(idx) do o[k] = rawget(r, i) end
    return I.wrap_orm_row(o, #idx, ents)
  end, false)
end

-- scalars(i): the i-th item of each row (the first one is the ORM
-- result's own scalars form)
local first_scalars = OrmResult.scalars
function OrmResult:scalars(i)
  -- (first_scalars's work, inline: scalars() is on every lookup's path)
  if i == nil then return C.derive(self, "_scalars", true, OrmResult) end
  if i == 1 then return first_scalars(self) end
  i = position(self, i)
  return view(self, function(r)
    local v = rawget(r, i)
    if v == nil then v = sa.null end
    return v
  end, true)
end
