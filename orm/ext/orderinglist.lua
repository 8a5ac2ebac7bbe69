-- orm/ext/orderinglist.lua -- ordering_list(attr): a list collection
-- that keeps a position attribute of its members equal to their place in
-- the list, as SQLAlchemy's OrderingList: append numbers a new member
-- that has no position yet, insert/remove/pop renumber every member,
-- loading leaves the stored positions alone (give the relationship an
-- order_by on that attribute).  Positions count from 0 unless
-- count_from says otherwise; ordering_func(index, coll) (index from 0)
-- computes them instead.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Coll = I.Coll
local raise = I.raise

local function ordering_mt(attr, func, reorder_on_append)
  local methods = setmetatable({}, {__index = Coll})
  -- the member at 1-based place i
  local function order(c, i, x, force)
    local have = x[attr]
    if have ~= nil and not force then return end
    local should = func(i - 1, c)
    if have ~= should then x[attr] = should end
  end
  function methods.reorder(c)
    for i = 1, #c do order(c, i, c[i], true) end
  end
  function methods.append(c, x)
    Coll.append(c, x)
    order(c, #c, x, reorder_on_append)
  end
  function methods.extend(c, list)
    for _, x in ipairs(list) do methods.append(c, x) end
  end
  function methods.insert(c, i, x)
    if x == nil then return methods.append(c, i) end
    Coll.insert(c, i, x)
    methods.reorder(c)
  end
  function methods.remove(c, x)
    Coll.remove(c, x)
    methods.reorder(c)
  end
  function methods.pop(c, i)
    local x = Coll.pop(c, i)
    methods.reorder(c)
    return x
  end
  -- c[i] = x: x takes place i's position, as SQLAlchemy's __setitem__
  function methods.setitem(c, i, x)
    if x == nil then
      if math.type(i) == "integer" and i >= 1 and i <= #c then
        methods.pop(c, i)
        return
      end
      return Coll.setitem(c, i, x)
    end
    if i == #c + 1 then return methods.append(c, x) end
    if math.type(i) == "integer" and i >= 1 and i <= #c then
      I.check_target(c[I.REL], x)
      order(c, i, x, true)
    end
    Coll.setitem(c, i, x)
  end
  local mt = {__index = methods, __name = "retort.OrderingList"}
  mt.__tostring = I.CollMT.__tostring
  I.add_view(mt, nil, I.list_eq)
  return mt
end

function orm.ordering_list(attr, opts)
  opts = opts or {}
  if type(attr) ~= "string" then
    raise("ArgumentError", "ordering_list(): the attribute must be a name")
  end
  local func = opts.ordering_func
  if func == nil then
    local from = opts.count_from or 0
    func = function(index) return index + from end
  end
  local mt = ordering_mt(attr, func, opts.reorder_on_append or false)
  -- a collection made whole (a list assigned, rows loaded): each member
  -- numbered as append numbers it (a stored position is kept)
  local function init(_, c)
    for i = 1, #c do
      local x = c[i]
      if x[attr] == nil or opts.reorder_on_append then
        local should = func(i - 1, c)
        if x[attr] ~= should then x[attr] = should end
      end
    end
  end
  return {__collection_class = "ordering", key = attr, mt = mt, init = init}
end

-- a list assigned to an ordering_list relationship (or given to the
-- constructor) is numbered as if appended member by member
local rel_set = I.hooks.rel_set
function I.hooks.rel_set(obj, key, v)
  local res = rel_set(obj, key, v)
  local r = I.mapper_of(obj).relationships[key]
  local cc = r and r.collection
  if cc and cc.__collection_class == "ordering" and v ~= nil then
    cc.init(cc, C.extra(obj, key))
  end
  return res
end
