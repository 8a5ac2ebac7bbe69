-- orm/ext/hybrid.lua -- hybrid_property: an attribute computed by one
-- function from an instance (a value) and from the class (an SQL
-- expression, labelled with the attribute's name as a column).
--
--   length = orm.hybrid_property(
--     function(self) return self.stop - self.start end,
--     {expression = function(cls) ... end,
--      setter = function(self, value) ... end})

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local raise = I.raise

local Hybrid = {}
Hybrid.__index = Hybrid
Hybrid.__name = "retort.hybrid_property"

function Hybrid:get(obj) return self.fget(obj) end

function Hybrid:set(obj, v, key)
  if not self.fset then
    raise("ArgumentError", "can't set attribute '" .. key .. "': the " ..
          "hybrid_property has no setter")
  end
  self.fset(obj, v)
end

-- without an expression function the getter runs on the class.  As
-- SQLAlchemy's proxy_key: an expression with a name of its own (a column,
-- function or label) keeps it in SQL and rows key it by the attribute
-- (the second result); a CAST of a column is labelled with the attribute
-- and keyed by the column; anything else is labelled with the attribute
-- (a label renders as its element in WHERE, ORDER BY, ...)
function Hybrid:class_get(cls, key)
  local e = (self.fexpr or self.fget)(cls)
  if not C.node_kind(e) then return e end
  local named, col = C.sql_name(e)
  if named then return e, key end
  if col then return e:label(key), I.column_attr_key(col) end
  if e.label then return e:label(key) end
  return e
end

function orm.hybrid_property(getter, opts)
  opts = opts or {}
  if type(getter) ~= "function" then
    raise("ArgumentError", "hybrid_property(): the getter must be a function")
  end
  for _, k in ipairs({"expression", "setter"}) do
    if opts[k] ~= nil and type(opts[k]) ~= "function" then
      raise("ArgumentError", "hybrid_property(): " .. k .. " must be a " ..
            "function")
    end
  end
  return setmetatable({__descriptor = true, fget = getter,
                       fexpr = opts.expression, fset = opts.setter}, Hybrid)
end
