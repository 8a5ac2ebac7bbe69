-- orm/aliased.lua -- aliased(User, {name}): a mapped class over an alias
-- of its table, for selecting and joining the same table more than once
-- (self-referential queries, two joins to one target).  Its attributes
-- are the alias's columns, its relationships join from the alias, and
-- rows selected through it become the class's instances (the same
-- identity map as the class).

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Rel = I.Rel
local configure = I.configure
local raise = I.raise

-- alias node address -> {mapper, alias, name}; an entry lives as long as
-- its aliased class (which holds it) does, and with it the alias node,
-- so an address is never reused while it is listed
local registry = setmetatable({}, {__mode = "v"})

local AliasedClass = {__name = "retort.AliasedClass"}
local AliasedRel = {__name = "retort.AliasedRelationship"}
AliasedRel.__index = AliasedRel

local function entry_of(ac) return rawget(ac, "__entry") end

-- column col of the mapper's tables in the alias: a class of joined
-- inheritance is aliased as a subquery of its tables' join whose columns
-- are labelled <table>_<column>, as SQLAlchemy makes it
local function alias_col(e, col)
  if e.colmap then return e.colmap[C.node_ptr(col)] end
  if e.labels then return e.labels[C.node_ptr(col)] end
  if e.labelled then return e.alias.c[col.table.name .. "_" .. col.name] end
  local lt = C.node_ptr(e.mapper.local_table)
  if C.node_kind(col) == "column" and col.table and
     C.node_ptr(col.table) == lt then
    return e.single_attr and e.single_attr[col.key] or e.alias.c[col.key]
  end
  -- a column_property's expression: on the alias's columns, a correlated
  -- subquery included (made once per aliased class)
  local done = e.exprs and e.exprs[col]
  if done then return done end
  local map = {}
  for _, c in ipairs(e.mapper.attr_columns) do
    if c.table and C.node_ptr(c.table) == lt then
      map[C.node_ptr(c)] = e.alias.c[c.key]
    end
  end
  e.exprs = e.exprs or {}
  e.exprs[col] = C.adapt(col, map, true)
  return e.exprs[col]
end

AliasedClass.__index = function(ac, k)
  local e = entry_of(ac)
  local m = e.mapper
  local col = m.colattrs[k]
  if col ~= nil then
    -- printed as SQLAlchemy's attributes of an AliasedClass print; one
    -- object per key, which select() knows as the column it stands for
    local a = e.attrs and e.attrs[k]
    if a == nil then
      local c = alias_col(e, col)
      a = C.attribute(c, "AliasedClass_" .. m.class.__name__ .. "." .. k)
      if I.select_special[c] then I.select_special[a] = true end
      -- (an expression, or a column under another name: rows key it by
      -- the attribute, as the class's own)
      if C.node_kind(c) ~= "column" or c.key ~= k then I.keyed_item(a, k) end
      e.attrs = e.attrs or {}
      e.attrs[k] = a
    end
    return a
  end
  if k == "c" then return e.alias.c end
  if k == "__mapper_of_alias__" then return m end
  -- a synonym: the attribute it stands for, on the alias, keyed in rows
  -- by the synonym's name
  local syn = m.descriptors and m.descriptors[k]
  if syn and syn.synonym and syn.synonym ~= k then
    local a = e.attrs and e.attrs[k]
    if a == nil then
      local target = ac[syn.synonym]
      if not C.node_kind(target) then return target end
      a = C.attribute(target, "AliasedClass_" .. m.class.__name__ .. "." .. k)
      I.keyed_item(a, k)
      e.attrs = e.attrs or {}
      e.attrs[k] = a
    end
    return a
  end
  configure()
  local r = m.relationships[k]
  if r then return setmetatable({rel = r, from = ac}, AliasedRel) end
  local d = m.ext_descriptors and m.ext_descriptors[k]
  if d then
    local ex, rowkey = d:class_get(ac, k)
    local a = C.attribute(ex, "AliasedClass_" .. m.class.__name__ .. "." .. k)
    if rowkey and C.node_kind(a) then I.keyed_item(a, rowkey) end
    return a
  end
  return nil
end
AliasedClass.__tostring = function(ac)
  return "aliased(" .. entry_of(ac).mapper.class.__name__ .. ")"
end

-- the columns a subquery of a select (or compound) selects: col
-- address -> the subquery's column in its place (nil: not a subquery)
local function subquery_columns(alias)
  local first = C.first_select(alias)
  if not first then return nil end
  local map, pos, sub = {}, 0, alias.c
  local function add(node)
    pos = pos + 1
    local p = C.node_ptr(node)
    if map[p] == nil and sub[pos] then map[p] = sub[pos] end
  end
  for _, it in ipairs(C.select_items(first)) do
    local node = it[4]
    local kind = C.node_kind(node)
    -- (a table or an alias, however narrow: its columns)
    if it[1] or it[2] > 1 or kind == "table" then
      for _, col in ipairs(node.c) do add(col) end
    else
      add(node)
    end
  end
  return map
end
I.subquery_columns = subquery_columns

-- the columns of mapper m's tables in a subquery of a select (or
-- compound) of m: col address -> the subquery's column in its place
local function corresponding(m, alias)
  local map = subquery_columns(alias)
  if not map then
    raise("ArgumentError", "aliased(): a class of joined inheritance " ..
          "takes a subquery of a select of it")
  end
  for i = 1, m.nattrs do
    for _, col in ipairs(m.attr_cols[i]) do
      if map[C.node_ptr(col)] == nil then
        raise("ArgumentError", "aliased(): the selectable has no column " ..
              "'" .. tostring(col.table) .. "." .. col.name .. "' of " ..
              m.class.__name__)
      end
    end
  end
  return map
end

function orm.aliased(cls, opts)
  local m = type(cls) == "table" and rawget(cls, "__mapper__")
  if not m then
    if getmetatable(cls) == AliasedClass then m = entry_of(cls).mapper
    else raise("ArgumentError", "aliased(): expected a mapped class") end
  end
  local name, alias
  if type(opts) == "string" then name = opts
  elseif C.node_kind(opts) then alias = opts
  elseif opts ~= nil then
    if type(opts) ~= "table" then
      raise("ArgumentError", "aliased(): options must be a table")
    end
    name, alias = opts.name, opts.alias
  end
  local reorder = false
  -- (_labelled: a subquery of the legacy Query's own labelled select,
  -- its columns named <table>_<column>, as Query.union makes; _labels,
  -- with it: the subquery's column of each of the class's columns, where
  -- the names cannot tell them: a union of a union, of an aliased class)
  local given_labels = type(opts) == "table" and opts._labelled and
                       alias ~= nil and (not m.inh_tables or m.single)
  if alias ~= nil and not m.inh_tables and not given_labels then
    -- aliased(User, subquery): the class's columns by name; in another
    -- order than the mapping's (or among others) the select of it
    -- writes them out in mapping order, as SQLAlchemy does
    local cols = alias.c
    reorder = #cols ~= #m.attr_columns
    for i, col in ipairs(m.attr_columns) do
      if cols[col.name] == nil then
        raise("ArgumentError", "aliased(): the selectable has no column " ..
              "'" .. col.name .. "' of " .. m.class.__name__)
      end
      if not cols[i] or cols[i].name ~= col.name then reorder = true end
    end
  end
  local labelled = given_labels or false
  local colmap
  if alias ~= nil and not m.single and not m.concrete and
     (m.inh_tables and #m.inh_tables > 1 or
      (rawget(m, "family") or m.inherits) and C.first_select(alias)) then
    -- aliased(Engineer, union(select(Engineer), ...):subquery()): each
    -- column of the class is the subquery's column that selects it, and
    -- each row loads as its class
    colmap = type(opts) == "table" and opts._labelled and opts._labels or
             corresponding(m, alias)
    labelled, reorder, given_labels = true, false, false
  end
  if alias == nil and m.inh_tables and #m.inh_tables > 1 and not m.single and
     not m.concrete then
    -- joined inheritance: the join of the tables as a subquery, each
    -- table's columns in order, labelled <table>_<column>
    local cols = {}
    for _, t in ipairs(m.inh_tables) do
      for _, col in ipairs(t.columns) do
        cols[#cols + 1] = col:label(t.name .. "_" .. col.name)
      end
    end
    alias = sa.select(table.unpack(cols)):select_from(m.selectable)
      :subquery(name)
    labelled = true
  end
  -- a class with properties over its own table's alias is selected as
  -- its layout's columns, as select(User) is (orm/properties.lua)
  local expand = (alias == nil and m.layout ~= nil and not m.inh_tables) or
                 reorder or given_labels
  alias = alias or m.local_table:alias(name)
  -- (key: the name given, which keys its rows' entity as SQLAlchemy's
  -- _label_name does; an unnamed alias's entity has none)
  local e = {mapper = m, alias = alias, name = name or m.class.__name__,
             key = name,
             labelled = labelled, expand = expand, colmap = colmap,
             labels = given_labels and opts._labels or nil}
  registry[C.node_ptr(alias)] = e
  -- (selects of it are made by orm/inheritance.lua, which loads each
  -- row as its class)
  -- (a single-table subclass too: its selects carry the criterion on
  -- the discriminator)
  e.single = not labelled and I.single_criterion and
             I.single_criterion(m) ~= nil or nil
  local ac = setmetatable({__entry = e, __clause_element__ = alias,
                           __inheritance__ = (labelled and not given_labels
                                              or e.single) or nil},
                          AliasedClass)
  if expand then I.select_special[ac] = true end
  -- (a select of its columns alone carries the discriminator criterion
  -- too: see single_alias_where in orm/inheritance.lua)
  if e.single then
    -- (the column objects kept with the entry: the registry holds them
    -- weakly, and each must stay the one the alias hands out).  What the
    -- alias hands out is annotated with it, so that an expression of
    -- them (func.count(b.id)) carries the criterion too, as SQLAlchemy's
    -- parententity does
    I.install_inheritance_methods()
    e.single_cols, e.single_attr = {}, {}
    for i, col in ipairs(m.attr_columns) do
      local c = alias.c[col.key]
      e.single_cols[i] = c
      I.select_special[c] = true
      local a = C.annotate(c, ac)
      e.single_attr[col.key] = a
      I.select_special[a] = true
    end
  end
  return ac
end

-- column col in sel: through the labels of an aliased class's subquery
local col_of = I.col_of
function I.col_of(sel, col)
  if getmetatable(sel) == AliasedClass then
    return alias_col(entry_of(sel), col)
  end
  return col_of(sel, col)
end

-- the aliased() entity a select item (an alias) stands for, if any
-- (orm/loading.lua's entities_of asks)
I.aliased_entry = function(ptr) return registry[ptr] end

-- eager joins of an aliased entity start from its alias
local load_plan = I.load_plan
I.load_plan = function(stmt, m)
  local plan = load_plan(stmt, m)
  if plan then
    local items = C.select_items(stmt)
    local e = items and items[1] and items[1][1] and registry[items[1][1]]
    -- (an aliased class written out as columns: its select's entities)
    local reg = I.select_ents[stmt]
    if not e and reg and reg[1] and reg[1].start == 1 and reg[1].alias then
      e = reg[1]
    end
    if e then plan.root_table = e.alias end
  end
  return plan
end

-- column col of the parent of relationship attribute ar, on the alias
-- the attribute starts from (an aliased with_polymorphic gives its own
-- adapt: orm/inheritance.lua)
local function from_col(ar, col)
  if ar.adapt then return ar.adapt(col) end
  return alias_col(entry_of(ar.from), col)
end

-- joins along a relationship of an aliased class: join(node_alias.parent)
-- and join(target, node_alias.parent)
local function on_from(r, ar, target)
  local on
  for k, lc in ipairs(r.local_cols) do
    local a = from_col(ar, lc)
    local rc = r.remote_cols[k]
    local b = target and I.col_of(target, rc) or rc
    local cond = r.direction == "manytoone" and b:eq(a) or a:eq(b)
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

-- User.addresses:of_type(address_alias): the relationship towards an
-- aliased class (join(User.addresses:of_type(a)) is join(a,
-- User.addresses); contains_eager takes it too)
local OfType = {__name = "retort.OfType"}
OfType.__index = OfType
OfType.__tostring = function(o)
  return tostring(o.rel) .. ".of_type(" .. tostring(o.target) .. ")"
end
if Rel.of_type == nil then
  function Rel:of_type(ac)
    if getmetatable(ac) ~= AliasedClass then
      raise("ArgumentError", "of_type(): expected an aliased() class")
    end
    configure()
    local am = entry_of(ac).mapper
    if am ~= self.target and not I.isa(am, self.target) then
      raise("ArgumentError", "of_type(): " .. tostring(ac) .. " is not " ..
            "an alias of the target of " .. tostring(self))
    end
    return setmetatable({rel = self, target = ac}, OfType)
  end
end

-- with_parent(obj, User.addresses, {from_entity = aa}) or
-- with_parent(obj, User.addresses:of_type(aa)): the criterion on the
-- alias's columns
local with_parent = orm.with_parent
function orm.with_parent(obj, r, opts)
  local from = type(opts) == "table" and not C.node_kind(opts) and
               opts.from_entity or nil
  if getmetatable(r) == OfType then r, from = r.rel, from or r.target end
  -- (the mapped class itself: the criterion as it is)
  if from == nil or (type(from) == "table" and rawget(from, "__mapper__")) then
    return with_parent(obj, r)
  end
  if getmetatable(from) ~= AliasedClass then
    raise("ArgumentError", "with_parent(): from_entity must be an " ..
          "aliased() class")
  end
  local cond = with_parent(obj, r)
  local map = {}
  for _, col in ipairs(r.target.attr_columns) do
    map[C.node_ptr(col)] = I.col_of(from, col)
  end
  return C.adapt(cond, map)
end

-- User.addresses:of_type(aa):any(cond): EXISTS over the alias, the
-- criterion given on it (a many-to-many's secondary aliased as well, as
-- SQLAlchemy does)
function OfType:any(cond)
  configure()
  local r, ac = self.rel, self.target
  local from = entry_of(ac).alias
  local sub = sa.select(sa.literal_column("1"))
  local sec
  if r.secondary then
    sec = r.secondary:alias()
    sub = sub:select_from(sec):select_from(from)
    for _, p in ipairs(r.sec_local) do
      sub = sub:where(p[3]:eq(sec.c[p[1].key]))
    end
    for _, p in ipairs(r.sec_remote) do
      sub = sub:where(I.col_of(ac, p[3]):eq(sec.c[p[1].key]))
    end
  else
    sub = sub:select_from(from):where(I.rel_on(r, ac))
  end
  if cond ~= nil then sub = sub:where(cond) end
  return sa.exists(sub:correlate_except(from, sec))
end
OfType.has = OfType.any

local node_methods = getmetatable(sa.literal_column("1")).__methods
local function aliased_join(f, outer)
  return function(stmt, target, on, ...)
    if getmetatable(target) == OfType then
      return f(stmt, target.target, target.rel, on, ...)
    end
    local ar, t = nil, nil
    if getmetatable(target) == AliasedRel then ar = target
    elseif getmetatable(on) == AliasedRel then ar, t = on, target end
    if not ar then return f(stmt, target, on, ...) end
    configure()
    local r = ar.rel
    local rest = ar == target and {on, ...} or {...}
    local tsel = t and (rawget(t, "__clause_element__") or t) or
                 r.target.local_table
    if getmetatable(t) == AliasedClass then tsel = t end
    if r.secondary then
      local sec, on1, on2 = I.sec_alias_on(r, tsel, function(p)
        return from_col(ar, p[3])
      end)
      if I.outer_join(outer, rest[1]) then
        return f(stmt, sec:join(tsel, on2), on1, table.unpack(rest))
      end
      local out = f(stmt, sec, on1, table.unpack(rest))
      return f(out, t or r.target.local_table, on2, table.unpack(rest))
    end
    return f(stmt, t or r.target.local_table, on_from(r, ar, tsel),
             table.unpack(rest))
  end
end
node_methods.join = aliased_join(node_methods.join)
node_methods.outerjoin = aliased_join(node_methods.outerjoin, true)
-- a join of expressions alone (no relationship, no aliased class, which
-- are Lua tables) needs none of the wrappers: straight to the C method
for _, name in ipairs({"join", "outerjoin"}) do
  local plain = I.plain_methods[name]
  node_methods[name] = plain and C.carry(plain, node_methods[name]) or
                       node_methods[name]
end

-- node_alias.children:any(cond) / node_alias.parent:has(cond): EXISTS
-- correlated to the alias
function AliasedRel:any(cond)
  configure()
  local r = self.rel
  -- the target's own table: the outer query has the alias
  local target = r.target.local_table
  local sub = sa.select(sa.literal_column("1"))
  local sec
  if r.secondary then
    -- (from an alias, SQLAlchemy aliases the secondary too)
    sec = r.secondary:alias()
    sub = sub:select_from(sec):select_from(target)
    for _, p in ipairs(r.sec_local) do
      sub = sub:where(from_col(self, p[3]):eq(sec.c[p[1].key]))
    end
    for _, p in ipairs(r.sec_remote) do
      sub = sub:where(target.c[p[3].key]:eq(sec.c[p[1].key]))
    end
  else
    sub = sub:select_from(target):where(on_from(r, self, target))
  end
  if cond ~= nil then sub = sub:where(cond) end
  return sa.exists(sub:correlate_except(target, sec))
end
AliasedRel.has = AliasedRel.any
-- (as SQLAlchemy prints an attribute of an AliasedClass)
AliasedRel.__tostring = function(ar)
  return "AliasedClass_" .. entry_of(ar.from).mapper.class.__name__ .. "." ..
         ar.rel.key
end

I.AliasedClass = AliasedClass
I.OfType = OfType
I.alias_entry = entry_of
I.alias_col = alias_col
I.AliasedRel = AliasedRel
I.Rel = Rel
