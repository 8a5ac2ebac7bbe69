-- orm/compile_form.lua -- the text of an ORM select as it runs: tostring
-- and compile() of a select of entities show the columns and joins its
-- loader options and the mapping add or remove (undefer, load_only,
-- defer, joined eager loads), as SQLAlchemy's str(stmt) does.

local sa, orm, C, I = ...

local node_mt = getmetatable(sa.literal_column("1"))
local methods = node_mt.__methods
local raw_compile = methods.compile

-- The statement Session:execute runs for stmt, or nil when stmt is not a
-- select of mapped entities (its text is then its own).
local function orm_form(stmt)
  -- (no mapped class yet: no select can have entities; Core compiles
  -- pay nothing for the ORM being loaded)
  local mapped = I.mappers_by_table
  if not mapped or next(mapped) == nil then return nil end
  if C.node_kind(stmt) ~= "select" then return nil end
  local ents = I.entities_of(stmt)
  if ents and I.core_tables[stmt] then ents = I.orm_entities(ents, stmt) end
  if not ents then return nil end
  local out = I.apply_layouts(stmt, ents)
  if ents[1].mapper then
    I.configure()
    local plan = I.load_plan(out, ents[1].mapper)
    if plan then
      local width = 0
      for _, e in ipairs(ents) do width = width + e.width end
      out = I.add_joins(out, plan, width, ents)
    end
  end
  return out
end

C.tostring_form(orm_form)

-- Until a first class is mapped no select has entities: compile() is the
-- C method itself, and the wrapper goes in with that first mapper (a Core
-- compile then pays no Lua call for the ORM being loaded).
local function orm_compile(stmt, ...)
  return raw_compile(orm_form(stmt) or stmt, ...)
end
do
  local mt = getmetatable(I.mappers_by_table)
  if next(I.mappers_by_table) ~= nil then
    methods.compile = orm_compile
  else
    mt.__newindex = function(t, k, v)
      mt.__newindex = nil
      methods.compile = orm_compile
      rawset(t, k, v)
    end
  end
end

I.orm_form = orm_form
I.raw_compile = raw_compile
