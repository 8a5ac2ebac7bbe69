-- orm/descriptor_props.lua -- attributes that stand for others: synonym
-- (another attribute under a second name), composite (a value object
-- made from several columns and written back into them), and validators
-- (validates: a function every value set on an attribute goes through).
-- hybrid_property and association_proxy are in orm/ext/.
--
-- A mapper with any of these gets Lua __index/__newindex in front of the
-- C ones of its instance metatable (orm/lorm.c), and with validators a
-- constructor that sets each given attribute through them.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local raise = I.raise

-- the column values of a composite's value object: its
-- __composite_values__() (as in SQLAlchemy), else its list items
local function composite_values(d, v)
  local f = type(v) == "table" and v.__composite_values__ or nil
  if f == nil and (type(v) == "table" or type(v) == "userdata") then
    local ok, g = pcall(function() return v.__composite_values__ end)
    if ok then f = g end
  end
  if type(f) == "function" then
    local vals = table.pack(f(v))
    -- (the values as one list, as Python's tuple)
    if vals.n == 1 and #d.keys > 1 and type(vals[1]) == "table" and
       getmetatable(vals[1]) == nil then
      return vals[1]
    end
    return vals
  end
  if type(v) == "table" then
    local out = {}
    for k = 1, #d.keys do out[k] = v[k] end
    return out
  end
  raise("ArgumentError", "composite value for '" .. d.key .. "' must " ..
        "have __composite_values__() or be a list of " .. #d.keys ..
        " values")
end

local function composite_get(d, obj)
  local vals, n = {}, 0
  for k, ck in ipairs(d.keys) do
    vals[k] = obj[ck]
    if vals[k] ~= nil then n = n + 1 end
  end
  local cached = C.extra(obj, d.cachekey)
  if n == 0 then
    -- all columns NULL: nil when set so and not flushed yet, or when the
    -- object has no row; a row's value object is made anyway (as
    -- SQLAlchemy's composite is created for a persistent object)
    if cached and cached.none and C.modified(obj) then return nil end
    if C.identity(obj) == nil then return nil end
  end
  -- the same value object while its columns keep their values
  if cached and not cached.none then
    local same = true
    for k = 1, #d.keys do
      if cached[k + 1] ~= vals[k] then same = false; break end
    end
    if same then return cached[1] end
  end
  local v = d.composite.ctor(table.unpack(vals, 1, #d.keys))
  local c = {v}
  for k = 1, #d.keys do c[k + 1] = vals[k] end
  C.extra(obj, d.cachekey, c)
  return v
end

local function composite_set(d, obj, v)
  if rawequal(v, sa.null) then v = nil end
  local vals = {}
  if v ~= nil then vals = composite_values(d, v) end
  for k, ck in ipairs(d.keys) do obj[ck] = vals[k] end
  if v ~= nil then
    local c = {v}
    for k = 1, #d.keys do c[k + 1] = vals[k] end
    C.extra(obj, d.cachekey, c)
  else
    C.extra(obj, d.cachekey, {none = true})
  end
end

-- The class attribute of a composite: comparisons build conditions on
-- its columns.
local Comparator = {}
Comparator.__index = Comparator
Comparator.__name = "retort.CompositeProperty"
Comparator.__tostring = function(c) return c.cls.__name__ .. "." .. c.key end

function Comparator:__clause_list()
  local m = self.mapper
  local out = {}
  for k, ck in ipairs(self.keys) do out[k] = m.attr_columns[m.slots[ck]] end
  return out
end

local function conds(c, other, op)
  local cols = c:__clause_list()
  local vals
  if other == nil or rawequal(other, sa.null) then vals = {}
  else vals = composite_values(c, other) end
  local parts = {}
  for k, col in ipairs(cols) do parts[k] = col:eq(vals[k]) end
  local all = sa.and_(table.unpack(parts))
  if op == "eq" then return all end
  return sa.not_(all)
end
function Comparator:eq(other) return conds(self, other, "eq") end
function Comparator:ne(other) return conds(self, other, "ne") end
-- (a composite compares only for equality: ordering its columns has no
-- one meaning, and SQLAlchemy raises NotImplementedError)
for _, op in ipairs({"lt", "le", "gt", "ge"}) do
  Comparator[op] = function(self)
    raise("NotImplementedError", string.format(
      "Operator '%s' is not supported on composite %s.%s", op,
      self.cls.__name__, self.key))
  end
end
-- (a < b with either side the composite)
local function ordered(op, swapped)
  return function(a, b)
    local c = getmetatable(a) == Comparator and a or b
    if getmetatable(a) ~= Comparator then op = swapped end
    return c[op](c)
  end
end
Comparator.__lt = ordered("lt", "gt")
Comparator.__le = ordered("le", "ge")

-- (inherited: a subclass's, whose column attributes are its own already)
local function setup_descriptors(m, descriptors, validators, inherited)
  if next(descriptors) == nil and next(validators) == nil then return end
  local cls = m.class
  for key, d in pairs(descriptors) do
    d.key = key
    if d.synonym then
      -- (a name that is not mapped is no error until used, as in
      -- SQLAlchemy: the instance reads and writes that plain attribute)
      local target = d.synonym
      d.get = function(obj) return obj[target] end
      d.set = function(obj, v) obj[target] = v end
    else
      d.get = function(obj) return composite_get(d, obj) end
      d.set = function(obj, v) composite_set(d, obj, v) end
      local c = setmetatable({cls = cls, key = key, keys = d.keys,
                              mapper = m}, Comparator)
      rawset(cls, key, c)
      I.select_special[c] = true -- select(Vertex.start): its columns
    end
  end
  if not inherited then I.install_colattrs(cls, m) end
  -- the class attribute of a synonym: that of the attribute it stands
  -- for (in queries), which may itself be a synonym's
  for _ = 1, #m.keys + 1 do
    local more = false
    for key, d in pairs(descriptors) do
      if d.synonym and rawget(cls, key) == nil then
        local v = rawget(cls, d.synonym)
        if v ~= nil then
          local a = C.attribute(v, cls.__name__ .. "." .. key)
          -- (a select of it keys its rows by the synonym's name, as
          -- SQLAlchemy's proxy_key)
          if C.node_kind(a) then I.keyed_item(a, key) end
          rawset(cls, key, a)
          more = true
        end
      end
    end
    if not more then break end
  end
  m.descriptors, m.validators = descriptors, validators
  local mt = m.mt
  local raw_index, raw_newindex = mt.__index, mt.__newindex
  mt.__index = function(obj, k)
    local d = descriptors[k]
    if d then return d.get(obj) end
    return raw_index(obj, k)
  end
  mt.__newindex = function(obj, k, v)
    local d = descriptors[k]
    if d then return d.set(obj, v) end
    local f = validators[k]
    local r = f and m.relationships[k]
    if f and not (r and r.uselist) then -- members: validate_member
      if rawequal(v, sa.null) then v = nil end
      v = f(obj, k, v)
    end
    return raw_newindex(obj, k, v)
  end
  if next(validators) == nil then return end
  -- the constructor sets what it is given through the validators, in
  -- attribute order (then the other keys by name)
  m.constructor = function(c, args)
    if args ~= nil and type(args) ~= "table" then
      raise("ArgumentError", "a mapped class takes a table of attributes")
    end
    local obj = C.new(c, m.mt, m.nattrs)
    if args == nil then return obj end
    local keys = {}
    for k in pairs(args) do
      if not (m.slots[k] or m.relationships[k] or descriptors[k] or
              (type(k) == "string" and rawget(c, k) ~= nil)) then
        raise("ArgumentError", string.format(
          "'%s' is an invalid keyword argument for %s", tostring(k),
          c.__name__))
      end
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
      local ia, ib = m.slots[a], m.slots[b]
      if ia and ib then return ia < ib end
      if ia or ib then return ia ~= nil end
      return tostring(a) < tostring(b)
    end)
    I.configure()
    for _, k in ipairs(keys) do
      local v = args[k]
      if rawequal(v, sa.null) then v = nil end
      obj[k] = v
    end
    return obj
  end
end

-- a member added to a collection goes through the validator of the
-- relationship (called from orm/collections.lua)
local function validate_member(owner, r, x)
  local vs = r.parent.validators
  local f = vs and vs[r.key]
  if f then return f(owner, r.key, x) end
  return x
end

-- a member removed from owner's collection r by the user (validators
-- with include_removes)
local function validate_remove(owner, r, x)
  local vs = r.parent.remove_validators
  local f = vs and vs[r.key]
  if f then f(owner, r.key, x) end
end

-- x's relationship b changes because owner's other side did: b's
-- validator runs unless it was declared with include_backrefs = false.
-- Returns the value to store (removes return nothing).
local function validate_backref(x, b, v, is_remove)
  local m = b.parent
  if m.no_backref_validation and m.no_backref_validation[b.key] then
    return v
  end
  if is_remove then
    local f = m.remove_validators and m.remove_validators[b.key]
    if f then f(x, b.key, v) end
    return v
  end
  local f = m.validators and m.validators[b.key]
  if f then return f(x, b.key, v) end
  return v
end

-- for the other files of the ORM
I.validate_backref = validate_backref
I.validate_member = validate_member
I.validate_remove = validate_remove
I.setup_descriptors = setup_descriptors
