-- orm/mapper.lua -- the Mapper of a class over a table (its attributes,
-- primary key and the per-class instance metatable made in C), the
-- registration of relationship properties, and configure(): resolving
-- every relationship once all classes exist.  Instances and their
-- per-attribute state live in C (orm/lorm.c); the Lua half decides what
-- happens to them.  Inheritance is orm/inheritance.lua.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local hooks = I.hooks
local lselect = I.lselect
local mapper_of = I.mapper_of
local raise = I.raise

------------------------------------------------------------------------
-- mapping
------------------------------------------------------------------------

local mappers_by_table = setmetatable({}, {__mode = "v"}) -- node ptr -> mapper
local Mapper = {}
Mapper.__index = Mapper
Mapper.__name = "retort.Mapper"

local function default_tostring(obj)
  local m = rawget(C.class(obj), "__mapper__")
  local parts = {}
  for i, key in ipairs(m.keys) do
    local v, loaded = C.get(obj, i)
    if loaded then parts[#parts + 1] = key .. "=" .. C.repr(v) end
  end
  if #parts == 0 then
    local ident = C.identity(obj)
    if ident ~= nil then
      for k, i in ipairs(m.pk_index) do
        local v = ident
        if #m.pk_index > 1 then v = ident[k] end
        parts[#parts + 1] = m.keys[i] .. "=" .. C.repr(v)
      end
    end
  end
  return rawget(C.class(obj), "__name__") .. "(" .. table.concat(parts, ", ") ..
         ")"
end

local function instance_tostring(obj)
  local f = C.class(obj).__tostring
  if type(f) == "function" then return f(obj) end
  return default_tostring(obj)
end

-- A Mapper for class `cls` over `table` (attributes: the table's columns,
-- in its column order; attr_keys maps column key -> attribute key).
-- __mapper_args__.primary_key: the table's columns (or their keys) the
-- mapper identifies rows by, in the order given -> column ptr -> position
local function pk_override(cls, tbl, list)
  if type(list) ~= "table" or C.node_kind(list) ~= nil then list = {list} end
  local pos = {}
  for k, c in ipairs(list) do
    local found
    for _, col in ipairs(tbl.c) do
      if (type(c) == "string" and (col.key == c or col.name == c)) or
         (type(c) ~= "string" and C.node_ptr(col) == C.node_ptr(c)) then
        found = col
      end
    end
    if not found then
      raise("ArgumentError", string.format(
        "Mapper mapped class %s->%s: primary_key names %s, not a column " ..
        "of table '%s'", cls.__name__, tbl.name, tostring(c), tbl.name))
    end
    pos[C.node_ptr(found)] = k
  end
  return pos
end

-- whether include_properties / exclude_properties (names or Columns)
-- leave the column out of the mapping, as SQLAlchemy's _should_exclude
local function listed(list, col)
  for _, v in ipairs(list) do
    if type(v) == "string" then
      if v == col.key then return true end
    elseif C.node_kind(v) ~= nil and C.node_ptr(v) == C.node_ptr(col) then
      return true
    end
  end
  return false
end
local function excluded(opts, col)
  if opts == nil then return false end
  local inc, exc = opts.include_properties, opts.exclude_properties
  if inc ~= nil and not listed(inc, col) then return true end
  return exc ~= nil and listed(exc, col)
end

local function make_mapper(cls, tbl, attr_keys, relationships, pk, opts)
  local m = setmetatable({class = cls, local_table = tbl, keys = {},
                          slots = {}, attr_columns = {}, colkeys = {},
                          primary_key = {}, pk_index = {}, colattrs = {},
                          insert_none = {},
                          relationships = {}, relkeys = {},
                          ptr = C.node_ptr(tbl)}, Mapper)
  local pkpos = pk ~= nil and pk_override(cls, tbl, pk) or nil
  for _, col in ipairs(tbl.c) do
    if excluded(opts, col) then
      m.partial = true
      goto continue
    end
    local key = attr_keys[col.key] or col.key
    local i = #m.keys + 1
    m.keys[i], m.slots[key], m.attr_columns[i], m.colkeys[i] = key, i, col, col.key
    m.colattrs[key] = col
    local k = pkpos and pkpos[C.node_ptr(col)]
    if pkpos == nil and col.primary_key then
      m.primary_key[#m.primary_key + 1] = col
      m.pk_index[#m.pk_index + 1] = i
    elseif k then
      m.primary_key[k], m.pk_index[k] = col, i
      if not col.primary_key and not C.column_defaults(col) then
        m.insert_none[i] = true -- not the table's key: no value generated
      end
    elseif not C.column_defaults(col) then
      m.insert_none[i] = true -- inserted as NULL when never set
    end
    if lselect(2, C.column_defaults(col)) then m.lua_defaults = true end
    ::continue::
  end
  if #m.primary_key == 0 then
    raise("ArgumentError", string.format(
      "Mapper mapped class %s->%s could not assemble any primary key columns " ..
      "for mapped table '%s'", cls.__name__, tbl.name, tbl.name))
  end
  m.nattrs = #m.keys
  m.pk_pos = {}
  for k, i in ipairs(m.pk_index) do m.pk_pos[i] = k end
  m.pk_params = {}
  for k, i in ipairs(m.pk_index) do m.pk_params[k] = "pk_" .. m.colkeys[i] end
  -- parameter name -> where its value comes from (see C.positional)
  m.param_source = {}
  for i, key in ipairs(m.colkeys) do m.param_source[key] = i end
  for k, name in ipairs(m.pk_params) do m.param_source[name] = -k end
  m.mt = C.metatable(m.slots, hooks, instance_tostring, m.relkeys)
  for key, spec in pairs(relationships or {}) do
    hooks.add_relationship(m, key, spec)
  end
  m.colpos = {}
  for i = 1, m.nattrs do m.colpos[i] = i end
  mappers_by_table[m.ptr] = m
  return m
end

-- SQLAlchemy's str(mapper)
function Mapper:__tostring()
  return "mapped class " .. self.class.__name__ .. "->" ..
         tostring(self.local_table.name)
end

local unconfigured = {}
-- (what constructors call first while a configure has work or failed)
local function configure_pending() return hooks.configure() end

function hooks.add_relationship(m, key, spec)
  local r = setmetatable({key = key, parent = m, argument = spec.argument,
                          options = spec.options, seq = spec.seq,
                          order = spec.order}, I.Rel)
  I.ordered_relationships(m)
  m.relationships[key] = r
  m.relkeys[key] = true
  m.has_rels = true
  rawset(m.class, key, r)
  unconfigured[#unconfigured + 1] = r
  C.pending_configure(configure_pending)
  return r
end

-- an AbstractConcreteBase with subclasses waits to be mapped: the next
-- configure() maps it before resolving relationships (they may name it)
local abstract_waiting = false
function I.abstract_waiting()
  abstract_waiting = true
  C.pending_configure(configure_pending)
end

-- A registry whose relationships failed to configure stays failed, as in
-- SQLAlchemy: registry -> {err, mapper}.  Other registries configure on
-- their own.
local failed = setmetatable({}, {__mode = "k"})
local registries = setmetatable({}, {__mode = "k"})
local registry_seq = 0
function I.registry_created(reg)
  registry_seq = registry_seq + 1
  registries[reg] = registry_seq
end

local function failed_error(f)
  local e = f.err
  local msg = type(e) == "table" and e.message or tostring(e)
  raise("InvalidRequestError", string.format(
    "One or more mappers failed to initialize - can't proceed with " ..
    "initialization of other mappers. Triggering mapper: '%s'. Original " ..
    "exception was: %s", tostring(f.mapper), tostring(msg)))
end

-- the failure a configure made without a registry in view raises again:
-- that of the newest registry holding mappers (the one in use; a
-- registry declared after a failed one configures without it)
local function newest_failure()
  local best, best_seq = nil, -1
  for reg, seq in pairs(registries) do
    if seq > best_seq and #reg.mappers > 0 then best, best_seq = reg, seq end
  end
  return best and failed[best]
end

-- after a configure: the errors to raise.  mode nil: a configure with
-- no registry in view; "all": configure_mappers(); else a registry's
-- own configure().  new: registry -> its error of this configure.
local function raise_failures(mode, new, first_err)
  if mode == nil or mode == "all" then
    if first_err then error(first_err, 0) end
    local f
    if mode == nil then
      f = next(failed) and newest_failure()
    else
      f = select(2, next(failed))
    end
    if f then failed_error(f) end
  else
    if new[mode] then error(new[mode], 0) end
    if failed[mode] then failed_error(failed[mode]) end
  end
end

-- constructors call configure while relationships wait or a registry
-- failed (so that they raise its failure again, as SQLAlchemy's do)
local function set_pending()
  C.pending_configure((#unconfigured > 0 or next(failed) ~= nil) and
                      configure_pending or nil)
end

local configure_once
local function configure(mode)
  -- (nothing to do: the common case, on every relationship read)
  if #unconfigured == 0 and not abstract_waiting and next(failed) == nil then
    return
  end
  C.pending_configure(nil)
  local ok, err = pcall(configure_once, mode)
  set_pending()
  if not ok then error(err, 0) end
end

function configure_once(mode)
  if abstract_waiting then
    abstract_waiting = false
    I.map_abstract_concrete()
  end
  if #unconfigured == 0 then
    if next(failed) then raise_failures(mode, {}, nil) end
    return
  end
  local done, first_err, new = {}, nil, {}
  -- (resolving may add relationships, backrefs: the loop takes them too)
  local i = 1
  while i <= #unconfigured do
    local r = unconfigured[i]
    i = i + 1
    local reg = r.parent.registry or false
    if not (reg and failed[reg]) then
      local ok, err = pcall(I.resolve_rel, r)
      if ok then
        done[#done + 1] = r
      elseif reg then
        failed[reg] = {err = err, mapper = r.parent}
        new[reg] = err
        first_err = first_err or err
      else
        unconfigured = {}
        error(err, 0)
      end
    end
  end
  unconfigured = {}
  -- (a failed registry's resolved relationships stay unused)
  local k = 0
  for _, r in ipairs(done) do
    if not (r.parent.registry and failed[r.parent.registry]) then
      k = k + 1
      done[k] = r
    end
  end
  for j = #done, k + 1, -1 do done[j] = nil end
  hooks.generation = (hooks.generation or 0) + 1
  for _, r in ipairs(done) do
    if r.back_name then
      local b = r.target.relationships[r.back_name]
      if not b then
        raise("InvalidRequestError", string.format(
          "Mapper '%s' has no property '%s'", tostring(r.target),
          r.back_name))
      end
      r.back, b.back = b, r
    end
    local m = r.parent
    m.rel_list = m.rel_list or {}
    m.rel_list[#m.rel_list + 1] = r
    -- (in the order the relationships were declared, as SQLAlchemy
    -- iterates a mapper's properties)
    table.sort(m.rel_list, function(a, b)
      local sa_, sb = a.seq or 0, b.seq or 0
      if sa_ ~= sb then return sa_ < sb end
      return a.key < b.key
    end)
    if r.target == m and r.direction ~= "manytomany" then m.self_ref = true end
    r.target.referenced_by = r.target.referenced_by or {}
    table.insert(r.target.referenced_by, r)
  end
  if hooks.configured then hooks.configured() end
  if next(failed) then raise_failures(mode, new, first_err) end
end
hooks.configure = function() return configure() end

-- explicit configuration: of every registry, or of the one given
function I.configure_registry(reg) return configure(reg or "all") end

function orm.configure_mappers() I.configure_registry(nil) end

-- cascades -------------------------------------------------------------

local function related_by(obj, cascade, fn)
  local m = mapper_of(obj)
  if not m.has_rels then return end
  configure()
  for _, r in ipairs(m.rel_list or {}) do
    if r.cascade[cascade] then
      for _, x in ipairs(I.loaded_related(obj, r)) do fn(x, r) end
    end
  end
end

-- The mapper's property order, as SQLAlchemy's: the declared properties
-- (relationships, composites, synonyms, column_property and renamed
-- columns) by creation, then the other columns in the mapper's order,
-- then backrefs as they were added.  The rank of a key: {group, number}.
local rels_order_cache
local function prop_rank(m, key)
  local i = m.slots[key]
  if i and m.colattrs[key] then
    local d = rawget(m, "declared_order")
    if d and d[i] then return 0, d[i] end
    for pos, j in ipairs(m.prop_order or {}) do
      if j == i then return 1, pos end
    end
    return 1, math.huge
  end
  local r = m.relationships[key]
  if r then
    if r.order then return 0, r.order end
    return 2, r.seq or math.huge
  end
  local d = m.descriptors and m.descriptors[key]
  return 0, d and d.order or math.huge
end

local function ordered_keys(m, t)
  local keys, g, n = {}, {}, {}
  for k in next, t do
    keys[#keys + 1] = k
    g[k], n[k] = prop_rank(m, k)
  end
  table.sort(keys, function(a, b)
    if g[a] ~= g[b] then return g[a] < g[b] end
    if n[a] ~= n[b] then return n[a] < n[b] end
    return a < b
  end)
  return keys
end

-- an ordered collection of properties by key: pairs() walks it in the
-- mapper's order; keys(), values() and items() list it so (a property
-- of one of those names is found first, as in SQLAlchemy)
local Props = {}
local props_order = setmetatable({}, {__mode = "k"})
local function props_walk(t)
  local list, i = props_order[t], 0
  return function()
    i = i + 1
    local k = list[i]
    if k ~= nil then return k, rawget(t, k) end
  end, t, nil
end
Props.__pairs = props_walk
Props.__index = {
  keys = function(t) return table.move(props_order[t], 1,
                                       #props_order[t], 1, {}) end,
  values = function(t)
    local out = {}
    for _, k in ipairs(props_order[t]) do out[#out + 1] = rawget(t, k) end
    return out
  end,
  items = function(t)
    local out = {}
    for _, k in ipairs(props_order[t]) do
      out[#out + 1] = {k, rawget(t, k)}
    end
    return out
  end,
}
local function ordered_props(m, t)
  props_order[t] = ordered_keys(m, t)
  return setmetatable(t, Props)
end

-- SQLAlchemy's mapper.attrs: every mapped property by key (columns and
-- column_property expressions, relationships, synonyms, composites);
-- reading it configures, as there
local function all_attrs(m)
  configure()
  local out = {}
  for key, col in pairs(m.colattrs) do
    -- the class's attribute (it prints "User.name", as SQLAlchemy's
    -- ColumnProperty does)
    local attr = rawget(m.class, key)
    out[key] = type(attr) == "userdata" and C.node_ptr(attr) == C.node_ptr(col) and
               attr or col
  end
  for key, r in next, m.relationships do out[key] = r end
  for key, d in pairs(m.descriptors or {}) do
    if d.synonym or d.composite then out[key] = rawget(m.class, key) or d end
  end
  return ordered_props(m, out)
end

local function descriptors_of(m, kind)
  local out = {}
  for key, d in pairs(m.descriptors or {}) do
    if d[kind] then out[key] = rawget(m.class, key) or d end
  end
  return ordered_props(m, out)
end

local function column_attrs(m)
  local out = {}
  for key, col in pairs(m.colattrs) do out[key] = col end
  return ordered_props(m, out)
end

-- m.relationships is the ORM's own table too: pairs() on it walks in the
-- mapper's order (its keys sorted again when one is added); no methods,
-- so that every key read stays a relationship or nil
local rels_owner = setmetatable({}, {__mode = "k"})
local RelsMT = {__pairs = function(t)
  local c = rels_order_cache(t)
  local list, i = c.list, 0
  return function()
    i = i + 1
    local k = list[i]
    if k ~= nil then return k, rawget(t, k) end
  end, t, nil
end}
rels_order_cache = function(t)
  local n = 0
  for _ in next, t do n = n + 1 end
  local c = rels_owner[t]
  if c.n ~= n then c.n, c.list = n, ordered_keys(c.m, t) end
  return c
end
function I.ordered_relationships(m)
  local t = m.relationships
  if getmetatable(t) == nil then
    rels_owner[t] = {m = m, n = -1}
    setmetatable(t, RelsMT)
  end
end

-- inspect(Class).columns, as SQLAlchemy's Mapper.columns: every column
-- attribute's column or expression (deferred ones and column_property
-- expressions included) in the mapper's property order -- declared
-- properties first, then the other columns in table order -- answering
-- by attribute key too.  (The ORM's own list in attribute order is
-- m.attr_columns.)
local public_columns
function public_columns(m)
  local cached = rawget(m, "_public_columns")
  if cached and cached.n == m.nattrs then return cached.list end
  local list, by_key = {}, {}
  local function add(node, key)
    list[#list + 1] = node
    by_key[key] = node
  end
  local parent = rawget(m, "inherits")
  if parent and not rawget(m, "single") and not rawget(m, "concrete") and
     m.local_table ~= parent.local_table then
    -- joined inheritance: the parent's, then each column of the own
    -- table (a shared primary key under its attribute's key again)
    for _, node in ipairs(public_columns(parent)) do list[#list + 1] = node end
    for k, node in pairs(getmetatable(public_columns(parent)).by_key) do
      by_key[k] = node
    end
    for _, col in ipairs(m.local_table.c) do
      for i, cols in ipairs(m.attr_cols) do
        for _, c in ipairs(cols) do
          if C.node_ptr(c) == C.node_ptr(col) then add(col, m.keys[i]) end
        end
      end
    end
    for i = parent.nattrs + 1, m.nattrs do
      if m.exprs and m.exprs[i] then add(m.exprs[i], m.keys[i]) end
    end
  else
    local order = m.prop_order
    if not order then
      order = {}
      for i = 1, #m.attr_columns do order[i] = i end
    end
    for _, i in ipairs(order) do
      local node = m.attr_columns[i] or (m.exprs and m.exprs[i])
      if node ~= nil then add(node, m.keys[i]) end
    end
  end
  setmetatable(list, {by_key = by_key, __index = function(_, k)
    if type(k) == "string" then return by_key[k] end
  end})
  rawset(m, "_public_columns", {list = list, n = m.nattrs})
  return list
end

-- Mapper.tables as SQLAlchemy lists them: the tables found walking the
-- persist_selectable breadth first (for the join of a joined hierarchy's
-- tables t1..tn, tn .. t3, then t1, t2); an abstract concrete base's
-- polymorphic union: its tables in the union's order
local function public_tables(m)
  local own = rawget(m, "union_tables")
  if own then return table.move(own, 1, #own, 1, {}) end
  local it = rawget(m, "inh_tables")
  if not it or #it == 0 then return {m.local_table} end
  if #it <= 2 then return table.move(it, 1, #it, 1, {}) end
  local out = {}
  for k = #it, 3, -1 do out[#out + 1] = it[k] end
  out[#out + 1], out[#out + 2] = it[1], it[2]
  return out
end

-- Mapper fields that SQLAlchemy spells as properties
Mapper.__index = function(m, k)
  if k == "tables" then return public_tables(m) end
  if k == "selectable" then
    -- (a class of a concrete hierarchy selects its polymorphic union)
    local ce = rawget(m, "concrete_entity")
    if ce and I.concrete_union then return I.concrete_union(m) end
    return m.local_table
  end
  if k == "attrs" then return all_attrs(m) end
  if k == "synonyms" then return descriptors_of(m, "synonym") end
  if k == "composites" then return descriptors_of(m, "composite") end
  if k == "column_attrs" then return column_attrs(m) end
  if k == "columns" then return public_columns(m) end
  if k == "mapped_table" or k == "persist_selectable" then
    -- joined inheritance persists to the join of its tables
    local tables = rawget(m, "inh_tables")
    if tables and #tables > 1 and rawget(m, "selectable") then
      return m.selectable
    end
    return m.local_table
  end
  if k == "entity" or k == "class_" then return m.class end
  if k == "c" then return public_columns(m) end
  if k == "is_mapper" then return true end
  -- (the ORM keeps the columns to fetch in m.eager_cols)
  if k == "eager_defaults" then return rawget(m, "eager_cols") ~= nil end
  if k == "version_id_col" then
    local i = rawget(m, "version_idx")
    return i and m.attr_columns[i] or nil
  end
  if k == "polymorphic_identity" then return nil end
  return Mapper[k]
end

function Mapper:has_property(key)
  return all_attrs(self)[key] ~= nil
end

function Mapper:get_property(key)
  local p = all_attrs(self)[key]
  if p == nil then
    I.raise("InvalidRequestError", "Mapper '" .. tostring(self) ..
            "' has no property '" .. tostring(key) .. "'")
  end
  return p
end

-- the instance's primary key values in the mapper's primary key order (a
-- NULL as sa.null, to keep the list whole)
function Mapper:primary_key_from_instance(obj)
  local out = {}
  for k, i in ipairs(self.pk_index) do
    local v = obj[self.keys[i]]
    if v == nil then v = sa.null end
    out[k] = v
  end
  return out
end

function Mapper:identity_key_from_instance(obj)
  return {self.class, self:primary_key_from_instance(obj), nil}
end

-- for the other files of the ORM
I.Mapper = Mapper
I.configure = hooks.configure
I.make_mapper = make_mapper
I.mappers_by_table = mappers_by_table
I.related_by = related_by
