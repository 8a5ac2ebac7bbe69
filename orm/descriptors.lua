-- orm/descriptors.lua -- attributes computed by an object of the class
-- body rather than stored (hybrid_property, association_proxy): reading
-- one from an instance, assigning it, and reading it from the class.
--
-- A descriptor is a table with the field __descriptor = true and the
-- methods get(self, obj), set(self, obj, value) and class_get(self, cls).
-- They are kept in mapper.ext_descriptors (the synonym and composite
-- descriptors of orm/descriptor_props.lua are mapper.descriptors).
-- Its key is listed among the mapper's relationship keys, so the
-- instance metatable made in C hands reads and writes of it to the
-- hooks rel_get and rel_set, which ask the descriptor first; the class
-- table's __index asks it for class-level reads.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local hooks = I.hooks
local mapper_of = I.mapper_of

local function is_descriptor(v)
  return type(v) == "table" and rawget(v, "__descriptor") == true
end

-- the descriptor of mapper m or of a parent under key, or nil (raw
-- reads: a field a mapper lacks would go through its __index, on every
-- relationship read)
local function mapper_descriptor(m, key)
  while m do
    local d = rawget(m, "ext_descriptors")
    if d and d[key] then return d[key] end
    m = rawget(m, "inherits")
  end
  return nil
end

-- (a subclass has its parents' descriptors too)
local function descriptor_of(obj, key)
  return mapper_descriptor(mapper_of(obj), key)
end

local rel_get, rel_set = hooks.rel_get, hooks.rel_set

function hooks.rel_get(obj, key)
  local d = descriptor_of(obj, key)
  if d then return d:get(obj, key) end
  return rel_get(obj, key)
end

function hooks.rel_set(obj, key, v)
  local d = descriptor_of(obj, key)
  if d then return d:set(obj, v, key) end
  return rel_set(obj, key, v)
end

-- the descriptors of a class body (key -> descriptor) join mapper m; a
-- subclass reads its parents' from the class with itself as the class
-- (a hybrid's expression of the subclass's columns)
local function install(cls, m, descs)
  if next(descs) == nil then
    -- (a class without its own: only when a parent has some)
    local pm, any = m.inherits, false
    while pm and not any do
      any = rawget(pm, "ext_descriptors") ~= nil
      pm = rawget(pm, "inherits")
    end
    if not any then return end
  end
  m.ext_descriptors = m.ext_descriptors or {}
  for k, d in pairs(descs) do
    m.ext_descriptors[k] = d
    m.relkeys[k] = true
    if d.attach then d:attach(cls, k) end
  end
  local mt = getmetatable(cls)
  local prev = mt.__index
  mt.__index = function(c, k)
    local d = mapper_descriptor(m, k)
    if d then
      local e, rowkey = d:class_get(c, k)
      local a = C.attribute(e, rawget(c, "__name__") .. "." .. k)
      if rowkey and C.node_kind(a) then I.keyed_item(a, rowkey) end
      return a
    end
    if type(prev) == "function" then return prev(c, k) end
    if prev ~= nil then return prev[k] end
    return nil
  end
end

-- for the other files of the ORM
I.install_descriptors = install
I.is_descriptor = is_descriptor
