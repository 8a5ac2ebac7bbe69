-- orm/ext/associationproxy.lua -- association_proxy(rel, attr): a view
-- of one attribute of the objects a relationship holds.  From an
-- instance: for a collection, a proxy collection of that kind (list,
-- set or keyed dict) whose changes go to the relationship, new members
-- made by the creator; for a scalar relationship, the attribute itself.
-- From the class: any/has/contains/eq as EXISTS criteria through the
-- relationship, as SQLAlchemy builds them.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local configure = I.configure
local mapper_of = I.mapper_of
local raise = I.raise

local Proxy = {}
Proxy.__index = Proxy
Proxy.__name = "retort.AssociationProxy"

local function rel_of(self, m)
  configure()
  local r = m.relationships[self.target_collection]
  if not r then
    raise("InvalidRequestError", string.format(
      "association proxy: %s has no relationship '%s'", tostring(m),
      self.target_collection))
  end
  return r
end

-- a new member for value v (a keyed dict's: for key k and value v)
local function create(self, r, v, k)
  if self.creator then
    if k ~= nil then return self.creator(k, v) end
    return self.creator(v)
  end
  local args = {[self.value_attr] = v}
  if k ~= nil then args[r.collection.key] = k end
  return r.target.class(args)
end

-- proxied collections ----------------------------------------------------

local function proxy_repr(v)
  if C.isinstance(v) then return tostring(v) end
  return C.repr(v)
end

local ListProxy = {__name = "retort.AssociationList"}
local list_methods = {}
ListProxy.__index = function(p, k)
  if math.type(k) == "integer" then
    local x = p.coll[k]
    if x == nil then return nil end
    return x[p.proxy.value_attr]
  end
  return list_methods[k]
end
ListProxy.__newindex = function(p, k, v)
  local x = math.type(k) == "integer" and p.coll[k]
  if not x then
    raise("ArgumentError", "association proxy: index " .. tostring(k) ..
          " is out of range")
  end
  x[p.proxy.value_attr] = v
end
ListProxy.__len = function(p) return #p.coll end
ListProxy.__tostring = function(p)
  local parts = {}
  for i = 1, #p.coll do parts[i] = proxy_repr(p[i]) end
  return "[" .. table.concat(parts, ", ") .. "]"
end
ListProxy.__pairs = function(p)
  local i = 0
  return function()
    i = i + 1
    if i <= #p.coll then return i, p[i] end
  end, p, nil
end

local function index_of(p, v)
  for i = 1, #p.coll do
    if p.coll[i][p.proxy.value_attr] == v then return i end
  end
  return nil
end

function list_methods.append(p, v)
  p.coll:append(create(p.proxy, p.rel, v))
end
function list_methods.extend(p, list)
  for _, v in ipairs(list) do list_methods.append(p, v) end
end
function list_methods.insert(p, i, v)
  if v == nil then return list_methods.append(p, i) end
  p.coll:insert(i, create(p.proxy, p.rel, v))
end
function list_methods.remove(p, v)
  local i = index_of(p, v)
  if not i then
    raise("ArgumentError", "remove(x): x is not in the association proxy")
  end
  p.coll:remove(p.coll[i])
end
function list_methods.pop(p, i)
  local x = p.coll:pop(i)
  return x and x[p.proxy.value_attr]
end
function list_methods.clear(p) p.coll:clear() end
function list_methods.contains(p, v) return index_of(p, v) ~= nil end
function list_methods.index(p, v) return index_of(p, v) end
function list_methods.count(p, v)
  local n = 0
  for i = 1, #p.coll do
    if p.coll[i][p.proxy.value_attr] == v then n = n + 1 end
  end
  return n
end

-- a set collection: add/discard/remove/contains, pairs() gives value, true
local SetProxy = {__name = "retort.AssociationSet"}
local set_methods = {}
SetProxy.__index = set_methods
SetProxy.__len = ListProxy.__len
SetProxy.__pairs = function(p)
  local i = 0
  return function()
    i = i + 1
    local x = p.coll[i]
    if x ~= nil then return x[p.proxy.value_attr], true end
  end, p, nil
end
SetProxy.__tostring = function(p)
  if #p.coll == 0 then return "set()" end
  local parts = {}
  for i = 1, #p.coll do
    parts[i] = proxy_repr(p.coll[i][p.proxy.value_attr])
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
function set_methods.add(p, v)
  if index_of(p, v) then return end
  p.coll:add(create(p.proxy, p.rel, v))
end
function set_methods.discard(p, v)
  local i = index_of(p, v)
  if i then p.coll:discard(p.coll[i]) end
end
function set_methods.remove(p, v)
  local i = index_of(p, v)
  if not i then
    raise("ArgumentError", "remove(x): x is not in the association proxy")
  end
  p.coll:discard(p.coll[i])
end
set_methods.contains = list_methods.contains
set_methods.clear = list_methods.clear

-- a keyed dict: proxy[key] is the member's value, assigning one sets it
-- on the member under that key or makes a member (creator(key, value))
local DictProxy = {__name = "retort.AssociationDict"}
local dict_methods = {}
DictProxy.__index = function(p, k)
  local f = dict_methods[k]
  if f then return f end
  local x = p.coll:get(k)
  if x == nil then return nil end
  return x[p.proxy.value_attr]
end
DictProxy.__newindex = function(p, k, v)
  if v == nil then
    p.coll:pop(k)
    return
  end
  local x = p.coll:get(k)
  if x ~= nil then
    x[p.proxy.value_attr] = v
  else
    p.coll[k] = create(p.proxy, p.rel, v, k)
  end
end
DictProxy.__len = ListProxy.__len
DictProxy.__pairs = function(p)
  local f, s, c = pairs(p.coll)
  return function()
    local k, x = f(s, c)
    c = k
    if k ~= nil then return k, x[p.proxy.value_attr] end
  end, p, nil
end
DictProxy.__tostring = function(p)
  local parts = {}
  for k, v in pairs(p) do parts[#parts + 1] = proxy_repr(k) .. ": " ..
    proxy_repr(v) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
function dict_methods.keys(p) return p.coll:keys() end
function dict_methods.values(p)
  local out = {}
  for i, x in ipairs(p.coll:values()) do out[i] = x[p.proxy.value_attr] end
  return out
end
function dict_methods.get(p, k, default)
  local x = p.coll:get(k)
  if x == nil then return default end
  return x[p.proxy.value_attr]
end
function dict_methods.contains(p, k) return p.coll:contains(k) end
function dict_methods.pop(p, k, default)
  local x = p.coll:pop(k)
  if x == nil then return default end
  return x[p.proxy.value_attr]
end
function dict_methods.clear(p) p.coll:clear() end

local function proxy_for(self, r, coll)
  local kind = r.collection and r.collection.__collection_class
  local mt = kind == "keyed" and DictProxy or r.set and SetProxy or ListProxy
  return setmetatable({proxy = self, rel = r, coll = coll}, mt)
end

-- instance access --------------------------------------------------------

function Proxy:get(obj)
  local r = rel_of(self, mapper_of(obj))
  local v = obj[r.key]
  if not r.uselist then
    if v == nil then return nil end
    return v[self.value_attr]
  end
  return proxy_for(self, r, v)
end

function Proxy:set(obj, v)
  local r = rel_of(self, mapper_of(obj))
  if not r.uselist then
    local x = obj[r.key]
    if x == nil then
      if v ~= nil then obj[r.key] = create(self, r, v) end
    else
      x[self.value_attr] = v
    end
    return
  end
  -- a new set of values: the collection is emptied and refilled
  if type(v) ~= "table" then
    raise("ArgumentError", "association proxy " .. self.target_collection ..
          "." .. self.value_attr .. ": assign a table of values")
  end
  if getmetatable(v) == ListProxy or getmetatable(v) == SetProxy or
     getmetatable(v) == DictProxy then
    local copy = {}
    for k, x in pairs(v) do copy[k] = x end
    v = copy
  end
  local p = proxy_for(self, r, obj[r.key])
  p.coll:clear()
  if getmetatable(p) == DictProxy then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do p[k] = v[k] end
  elseif getmetatable(p) == SetProxy and #v == 0 then
    for x in pairs(v) do p:add(x) end
  else
    for _, x in ipairs(v) do
      if getmetatable(p) == SetProxy then p:add(x) else p:append(x) end
    end
  end
end

-- class access: comparisons as EXISTS through the relationship -----------

local Comparator = {}
Comparator.__index = Comparator
Comparator.__name = "retort.AssociationProxyComparator"

local function cmp_parts(c)
  local r = rel_of(c.proxy, c.cls.__mapper__)
  local tm = r.target
  local attr = tm.relationships[c.proxy.value_attr] or
               tm.colattrs[c.proxy.value_attr]
  if attr == nil then
    raise("InvalidRequestError", string.format(
      "association proxy: %s has no attribute '%s'", tostring(tm),
      c.proxy.value_attr))
  end
  return r, attr, getmetatable(attr) == I.Rel
end

-- any(criterion): a member whose proxied object matches (the proxied
-- attribute a relationship), or that matches itself
function Comparator:any(cond)
  local r, attr, is_rel = cmp_parts(self)
  if is_rel then
    return r:any(attr:any(cond))
  end
  return r:any(cond)
end

function Comparator:has(cond)
  local r, attr, is_rel = cmp_parts(self)
  if r.uselist then
    raise("InvalidRequestError", "'has()' not implemented for collections; " ..
          "use any()")
  end
  if is_rel then return r:has(attr:has(cond)) end
  return r:has(cond)
end

-- contains(value): for a column, a member whose column contains value
-- (SQLAlchemy applies the column's contains(): LIKE for strings); for a
-- relationship, a member that holds the object
function Comparator:contains(v)
  local r, attr, is_rel = cmp_parts(self)
  if not r.uselist then
    raise("InvalidRequestError", "contains() doesn't apply to a scalar " ..
          "object endpoint; use ==")
  end
  if is_rel then
    if attr.uselist then return r:any(attr:contains(v)) end
    return r:any(attr:eq(v))
  end
  return r:any(attr:contains(v))
end

-- eq(value) on a scalar proxy: the related object's attribute equals it
function Comparator:eq(v)
  local r, attr, is_rel = cmp_parts(self)
  if r.uselist then
    raise("InvalidRequestError", "eq() applies to a scalar association " ..
          "proxy; use contains() or any()")
  end
  if is_rel then return r:has(attr:eq(v)) end
  if v == nil or rawequal(v, sa.null) then
    return sa.or_(r:has(attr:is_(sa.null)), r:eq(nil))
  end
  return r:has(attr:eq(v))
end

function Proxy:class_get(cls)
  return setmetatable({proxy = self, cls = cls}, Comparator)
end

function orm.association_proxy(target_collection, attr, opts)
  opts = opts or {}
  if type(target_collection) ~= "string" or type(attr) ~= "string" then
    raise("ArgumentError", "association_proxy(rel, attr): both are " ..
          "attribute names")
  end
  if opts.creator ~= nil and type(opts.creator) ~= "function" then
    raise("ArgumentError", "association_proxy(): creator must be a function")
  end
  return setmetatable({__descriptor = true,
                       target_collection = target_collection,
                       value_attr = attr, creator = opts.creator}, Proxy)
end
