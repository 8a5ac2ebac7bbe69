-- orm/keyed_dict.lua -- dictionary collections: attribute_keyed_dict(key)
-- (attribute_mapped_collection in SQLAlchemy 1.4) keys each member by
-- the value of one of its attributes.
--
-- Two tables make one such collection.  The member list keeps the
-- members in the array part in the order they came, as a list
-- collection does, so everything that walks collections (the flush,
-- cascades, backrefs, loaders) treats it as one; it is what the
-- instance keeps.  The view is what obj.rel gives (orm/lorm.c returns a
-- list's "__view"): a table with no members of its own, so that
-- every key, small integers included, goes to the metamethods and
-- reaches the member under that key: d[1] is the member keyed 1, never
-- the first member.  #d counts the members, pairs() gives key, member.

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
local LIST = C.LIST -- a view's member list
local VIEW = "__view" -- a member list's view (read by orm/lorm.c)

-- the member list of a view (anything else as it is): for the code that
-- reads a relationship through obj[key] and walks it
local function members(v)
  if type(v) == "table" then
    local l = rawget(v, LIST)
    if l ~= nil then return l end
  end
  return v
end

local function keyed_mt(keyattr)
  local function key(x) return x[keyattr] end
  local function position(c, k)
    for i = 1, #c do
      if key(c[i]) == k then return i end
    end
    return nil
  end
  -- the methods take the view; c is its member list
  local methods = {}
  -- d:set(obj): add obj under its own key (replacing that key's member)
  function methods.set(d, x)
    local c = rawget(d, LIST)
    check_target(c[REL], x)
    local i = position(c, key(x))
    if i and rawequal(c[i], x) then return end
    if not find(c, x) then I.check_parent(c[OWNER], c[REL], x) end
    if i then removed(c[OWNER], c[REL], table.remove(c, i)) end
    if not find(c, x) then
      c[#c + 1] = x
      appended(c[OWNER], c[REL], x)
    end
  end
  -- d:remove(obj): take obj out
  function methods.remove(d, x)
    local c = rawget(d, LIST)
    local i = find(c, x)
    if not i then
      raise("ArgumentError", "remove(x): x is not in the collection")
    end
    table.remove(c, i)
    removed(c[OWNER], c[REL], x)
  end
  function methods.pop(d, k, default)
    local c = rawget(d, LIST)
    local i = position(c, k)
    if not i then return default end
    local x = table.remove(c, i)
    removed(c[OWNER], c[REL], x)
    return x
  end
  function methods.get(d, k, default)
    local c = rawget(d, LIST)
    local i = position(c, k)
    if i then return c[i] end
    return default
  end
  function methods.keys(d)
    local c, out = rawget(d, LIST), {}
    for i = 1, #c do out[i] = key(c[i]) end
    return out
  end
  function methods.values(d)
    local c = rawget(d, LIST)
    return table.move(c, 1, #c, 1, {})
  end
  function methods.items(d)
    local c, out = rawget(d, LIST), {}
    for i = 1, #c do out[i] = {key(c[i]), c[i]} end
    return out
  end
  function methods.contains(d, k) return position(rawget(d, LIST), k) ~= nil end
  function methods.clear(d)
    local c = rawget(d, LIST)
    while #c > 0 do removed(c[OWNER], c[REL], table.remove(c, 1)) end
  end

  local function repr(c)
    local parts = {}
    for i = 1, #c do
      parts[i] = C.repr(key(c[i])) .. ": " .. tostring(c[i])
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end

  local view_mt = {__name = "retort.KeyedCollection"}
  view_mt.__index = function(d, k)
    local f = methods[k]
    if f then return f end
    return methods.get(d, k)
  end
  view_mt.__newindex = function(d, k, x)
    if x == nil then return methods.pop(d, k) end
    local c = rawget(d, LIST)
    x = I.validate_member(c[OWNER], c[REL], x)
    check_target(c[REL], x)
    local i = position(c, k)
    if i and rawequal(c[i], x) then return end
    if not find(c, x) then I.check_parent(c[OWNER], c[REL], x) end
    if i then removed(c[OWNER], c[REL], table.remove(c, i)) end
    if not find(c, x) then
      c[#c + 1] = x
      appended(c[OWNER], c[REL], x)
    end
  end
  view_mt.__len = function(d) return #rawget(d, LIST) end
  view_mt.__pairs = function(d)
    local c, i = rawget(d, LIST), 0
    return function()
      i = i + 1
      local x = c[i]
      if x ~= nil then return key(x), x end
    end, d, nil
  end
  view_mt.__tostring = function(d) return repr(rawget(d, LIST)) end

  -- the member list: a plain array to the code that walks it
  local list_mt = {__name = "retort.KeyedMembers", __tostring = repr}
  return list_mt, view_mt
end

-- a new member list (orm/collections.lua's new_coll) gets its view
local function init(cc, list)
  rawset(list, VIEW, setmetatable({[LIST] = list}, cc.view_mt))
end

-- assigning {key = obj, ...}, a list of objects or another keyed dict to
-- the relationship: the members (each is keyed by its own attribute)
local function from_assigned(t)
  local l = rawget(t, LIST)
  if l ~= nil then return table.move(l, 1, #l, 1, {}) end
  if getmetatable(t) ~= nil then return t end
  local list, keys, n = {}, {}, #t
  for i = 1, n do list[i] = t[i] end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do list[#list + 1] = t[k] end
  return list
end

function orm.attribute_keyed_dict(keyattr)
  if type(keyattr) ~= "string" then
    raise("ArgumentError", "attribute_keyed_dict(): the key must be an " ..
          "attribute name")
  end
  local list_mt, view_mt = keyed_mt(keyattr)
  return setmetatable({__collection_class = "keyed", key = keyattr,
                       mt = list_mt, view_mt = view_mt, init = init,
                       from_assigned = from_assigned}, Keyed)
end
orm.attribute_mapped_collection = orm.attribute_keyed_dict

-- for the other files of the ORM
I.coll_members = members
