-- orm/keyed_dict.lua -- dictionary collections: attribute_keyed_dict(key)
-- (attribute_mapped_collection in SQLAlchemy 1.4) keys each member by
-- the value of one of its attributes.
--
-- The members stay in the array part in the order they came, as in a
-- list collection, so everything that walks collections (the flush,
-- cascades, backrefs, loaders) treats it as one; the keys are read from
-- the members when asked for.  coll[key] reads and assigns by key (a
-- key that is an integer from 1 to #coll reaches the member at that
-- position instead: key such collections by another attribute), pairs()
-- gives key, member.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local OWNER = I.OWNER
local REL = I.REL
local appended = I.appended
local check_target = I.check_target
local find = I.find
local raise = I.raise
local removed = I.removed

local Keyed = {}

local function keyed_mt(keyattr)
  local function key(x) return x[keyattr] end
  local function position(c, k)
    for i = 1, #c do
      if key(c[i]) == k then return i end
    end
    return nil
  end
  local methods = {}
  -- coll:set(obj): add obj under its own key (replacing that key's member)
  function methods.set(c, x)
    check_target(c[REL], x)
    local i = position(c, key(x))
    if i and rawequal(c[i], x) then return end
    if i then removed(c[OWNER], c[REL], table.remove(c, i)) end
    if not find(c, x) then
      c[#c + 1] = x
      appended(c[OWNER], c[REL], x)
    end
  end
  -- coll:remove(obj): take obj out
  function methods.remove(c, x)
    local i = find(c, x)
    if not i then
      raise("ArgumentError", "remove(x): x is not in the collection")
    end
    table.remove(c, i)
    removed(c[OWNER], c[REL], x)
  end
  function methods.pop(c, k, default)
    local i = position(c, k)
    if not i then return default end
    local x = table.remove(c, i)
    removed(c[OWNER], c[REL], x)
    return x
  end
  function methods.get(c, k, default)
    local i = position(c, k)
    if i then return c[i] end
    return default
  end
  function methods.keys(c)
    local out = {}
    for i = 1, #c do out[i] = key(c[i]) end
    return out
  end
  function methods.values(c) return table.move(c, 1, #c, 1, {}) end
  function methods.contains(c, k) return position(c, k) ~= nil end
  function methods.clear(c)
    while #c > 0 do removed(c[OWNER], c[REL], table.remove(c, 1)) end
  end

  local mt = {__name = "retort.KeyedCollection"}
  mt.__index = function(c, k)
    local f = methods[k]
    if f then return f end
    local i = position(c, k)
    return i and c[i] or nil
  end
  mt.__newindex = function(c, k, x)
    if x == nil then return methods.pop(c, k) end
    check_target(c[REL], x)
    local i = position(c, k)
    if i and rawequal(c[i], x) then return end
    if i then removed(c[OWNER], c[REL], table.remove(c, i)) end
    if not find(c, x) then
      rawset(c, #c + 1, x)
      appended(c[OWNER], c[REL], x)
    end
  end
  mt.__pairs = function(c)
    local i = 0
    return function()
      i = i + 1
      local x = c[i]
      if x ~= nil then return key(x), x end
    end, c, nil
  end
  mt.__tostring = function(c)
    local parts = {}
    for i = 1, #c do
      parts[i] = C.repr(key(c[i])) .. ": " .. tostring(c[i])
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return mt
end

-- assigning {key = obj, ...} (or a list of objects) to the relationship
local function from_assigned(t)
  if #t > 0 or getmetatable(t) ~= nil then return t end
  local list, keys = {}, {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for i, k in ipairs(keys) do list[i] = t[k] end
  return list
end

function orm.attribute_keyed_dict(keyattr)
  if type(keyattr) ~= "string" then
    raise("ArgumentError", "attribute_keyed_dict(): the key must be an " ..
          "attribute name")
  end
  return setmetatable({__collection_class = "keyed", key = keyattr,
                       mt = keyed_mt(keyattr), from_assigned = from_assigned},
                      Keyed)
end
orm.attribute_mapped_collection = orm.attribute_keyed_dict
