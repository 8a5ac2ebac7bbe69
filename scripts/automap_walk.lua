-- automap_walk.lua -- map the database at URL with orm.automap_base() and
-- walk its relationships: the classes automap made, their relationships,
-- and for the first row of each class (by primary key) what each
-- relationship loads.
--
--   retort scripts/automap_walk.lua URL [N]
--
-- N (default 3) is how many related objects of a collection are shown.
local sa = require "retort"
local orm = require "retort.orm"

local url, n = arg[1], tonumber(arg[2] or "3")
if not url then
  io.stderr:write("usage: retort scripts/automap_walk.lua URL [N]\n")
  os.exit(2)
end

local engine = sa.create_engine(url)
local Base = orm.automap_base()
Base:prepare{autoload_with = engine}
orm.configure_mappers()

local kinds = {manytoone = "many-to-one", onetomany = "one-to-many",
               manytomany = "many-to-many"}

-- a mapper's relationships by name
local function relationships(cls)
  local list = {}
  for _, r in pairs(orm.inspect(cls).relationships) do list[#list + 1] = r end
  table.sort(list, function(a, b) return a.key < b.key end)
  return list
end

-- Class(pk=value, ...) from an object's primary key
local function label(obj)
  local m = orm.inspect(obj).mapper
  local parts = {}
  for _, col in ipairs(m.primary_key) do
    local key = col.key
    for _, k in ipairs(m.keys) do
      if m.colattrs[k] == col then key = k end
    end
    parts[#parts + 1] = key .. "=" .. tostring(obj[key])
  end
  return m.class.__name__ .. "(" .. table.concat(parts, ", ") .. ")"
end

print("Classes:")
for name, cls in pairs(Base.classes) do
  print(string.format("  %s (table %s)", name, cls.__table__.name))
  for _, r in ipairs(relationships(cls)) do
    local via = r.secondary and (" via " .. r.secondary.name) or ""
    print(string.format("    .%s -> %s, %s%s, back .%s", r.key,
                        r.target.class.__name__, kinds[r.direction], via,
                        tostring(r.back_name)))
  end
end

print()
print("Walk:")
local session <close> = orm.Session(engine)
for name, cls in pairs(Base.classes) do
  local m = orm.inspect(cls)
  local q = sa.select(cls):order_by(table.unpack(m.primary_key)):limit(1)
  local obj = session:scalars(q):first()
  if obj == nil then
    print(string.format("  %s: no rows", name))
  else
    print("  " .. label(obj))
    for _, r in ipairs(relationships(cls)) do
      local v = obj[r.key]
      if r.uselist then
        -- by primary key, so every database shows the same ones
        local objs = {}
        for i = 1, #v do objs[i] = v[i] end
        table.sort(objs, function(a, b)
          local ka, kb = orm.inspect(a).identity, orm.inspect(b).identity
          if type(ka) == "table" then ka, kb = ka[1], kb[1] end
          return ka < kb
        end)
        local shown = {}
        for i = 1, math.min(n, #objs) do shown[i] = label(objs[i]) end
        print(string.format("    .%s: %d [%s%s]", r.key, #v,
                            table.concat(shown, ", "), #v > n and ", ..." or ""))
      else
        print(string.format("    .%s: %s", r.key, v and label(v) or "nil"))
      end
    end
  end
end
