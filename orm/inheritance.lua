-- orm/inheritance.lua -- mapping class inheritance hierarchies, as
-- SQLAlchemy's mapper does: joined table inheritance (a subclass with its
-- own table, joined to its parent's by the shared primary key) and single
-- table inheritance (a subclass whose columns join its parent's table);
-- the discriminator column and polymorphic loading (each row becomes an
-- object of the class its discriminator names); selects of a subclass
-- (its columns from the join of its tables, the single-table criterion);
-- with_polymorphic() and of_type(); and the flush of a hierarchy, table by
-- table.
--
-- A subclass mapper keeps its parent's attributes at the same indexes
-- and adds its own after them, so an object of any class of the
-- hierarchy can be loaded from the columns of an ancestor (the others
-- stay unloaded until read).  attr_cols[i] lists attribute i's columns
-- (more than one for a joined subclass's primary key: its own column
-- first, then its parent's, as SQLAlchemy's properties list them).  A
-- "part" is what the flush needs of one table of a mapper: the keys of
-- the attributes that live in that table, its primary key, defaults.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Mapper = I.Mapper
local construct_others = I.construct_others
local hooks = I.hooks
local idmap_for = I.idmap_for
local ident_vals = I.ident_vals
local lselect = I.lselect
local mapper_of = I.mapper_of
local raise = I.raise
local run = I.run
local session_of = I.session_of
local sessions = I.sessions

local ptr = C.node_ptr

------------------------------------------------------------------------
-- mappers of a hierarchy
------------------------------------------------------------------------

local roots = setmetatable({}, {__mode = "k"}) -- root mappers with family

-- is mapper m `other` or one of its subclasses?
local function isa(m, other)
  while m do
    if m == other then return true end
    m = m.inherits
  end
  return false
end

local function pk_setup(p)
  p.pk_pos, p.pk_params, p.param_source = {}, {}, {}
  for k, i in ipairs(p.pk_index) do
    p.pk_pos[i] = k
    p.pk_params[k] = "pk_" .. p.colkeys[i]
  end
  for i = 1, #p.keys do
    if p.colkeys[i] then p.param_source[p.colkeys[i]] = i end
  end
  for k, name in ipairs(p.pk_params) do p.param_source[name] = -k end
end

-- the flush's view of table t of mapper m
local function build_part(m, t)
  local tp = ptr(t)
  local p = {mapper = m, class = m.class, local_table = t, ptr = tp,
             part_of = m, base_mapper = rawget(m, "base_mapper") or m,
             keys = m.keys,
             colkeys = {}, insert_none = {}, primary_key = {}, pk_index = {}}
  for i = 1, m.nattrs do
    for _, col in ipairs(m.attr_cols[i]) do
      if ptr(col.table) == tp then
        p.colkeys[i] = col.key
        if col.primary_key then
          p.primary_key[#p.primary_key + 1] = col
          p.pk_index[#p.pk_index + 1] = i
        elseif not C.column_defaults(col) then
          p.insert_none[i] = true
        end
        if lselect(2, C.column_defaults(col)) then p.lua_defaults = true end
      end
    end
  end
  pk_setup(p)
  return p
end

-- A mapper becomes the root of a hierarchy (when it gets a discriminator
-- or its first subclass).
local function setup_root(m)
  if m.family then return end
  m.base_mapper = m
  m.family = {m}
  m.flush_members = {m} -- the family and concrete subclasses
  m.subclasses = {}
  m.polymorphic_map = m.polymorphic_map or {}
  m.inh_tables = {m.local_table}
  m.all_tables = {m.local_table}
  m.attr_cols = {}
  for i, col in ipairs(m.attr_columns) do m.attr_cols[i] = {col} end
  m.parts = {[ptr(m.local_table)] = build_part(m, m.local_table)}
  roots[m] = true
  rawset(m.class, "__inheritance__", true)
end

-- the attribute index of a discriminator given as a Column or a key
local function attr_index(m, on)
  if type(on) == "string" then
    local i = m.slots[on]
    if i then return i end
  else
    for i, cols in ipairs(m.attr_cols) do
      for _, col in ipairs(cols) do
        if ptr(col) == ptr(on) then return i end
      end
    end
  end
  if type(on) == "string" then
    raise("ArgumentError", "Can't determine polymorphic_on value '" .. on ..
          "' - no attribute is mapped to this name.")
  end
  raise("ArgumentError", "polymorphic_on: '" .. tostring(on) ..
        "' is not a column of " .. tostring(m))
end

-- New objects get their class's identity in the discriminator (unless
-- the constructor was given one), as SQLAlchemy sets it on init.
local function set_identity_on_init(cls, m)
  if m.polymorphic_identity == nil or not m.poly_idx then return end
  local mt = getmetatable(cls)
  local ctor, idx = mt.__call, m.poly_idx
  local key, ident = m.keys[idx], m.polymorphic_identity
  mt.__call = function(c, args)
    local obj = ctor(c, args)
    if not lselect(2, C.get(obj, idx)) then obj[key] = ident end
    return obj
  end
end

-- __mapper_args__ of a class mapped to its own table (see decl_api.lua)
function I.polymorphic_base(m, margs)
  -- the helper classes of concrete inheritance (see concrete.lua)
  if I.concrete_root(m, margs) then return end
  local on, ident = margs.polymorphic_on, margs.polymorphic_identity
  if on == nil and ident == nil and margs.with_polymorphic == nil then return end
  local wp = margs.with_polymorphic
  if type(wp) == "table" and wp[2] ~= nil and C.node_kind(wp[2]) then
    -- {"*", selectable}: rows come from that selectable (a union)
    return I.polymorphic_selectable(m, margs)
  end
  setup_root(m)
  if on ~= nil then
    m.poly_idx = attr_index(m, on)
    m.polymorphic_on = m.attr_columns[m.poly_idx]
  end
  m.with_polymorphic_arg = margs.with_polymorphic
  if ident ~= nil then
    m.polymorphic_identity = ident
    m.polymorphic_map[ident] = m
  end
  set_identity_on_init(m.class, m)
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- A subclass's column attributes, its own and those it inherits, are its
-- columns annotated with the class (SQLAlchemy's parententity): a select
-- of them gets the class's joins and single-table criterion (orm_select
-- below).  An inherited attribute that is not the plain column (a
-- descriptor, a property) stays as the parent has it.
local function annotate_attributes(cls, m, own_keys)
  for key, col in pairs(m.colattrs) do
    local cur = own_keys[key] or cls[key]
    if cur ~= nil and C.node_kind(cur) == "column" and
       ptr(cur) == ptr(col) then
      rawset(cls, key, C.attribute(C.annotate(col, cls),
                                   cls.__name__ .. "." .. key))
    end
  end
end

-- Child = Parent:class "Child" {...}: `tbl` is the class's own table
-- (joined inheritance) or nil (single table: its columns are added to
-- the parent's table).
function I.inherit_class(base, cls, resolved, columns, rels, tbl, attr_keys)
  local parent = rawget(base, "__mapper__")
  local margs = resolved.__mapper_args__ or {}
  local name = cls.__name__
  if margs.concrete then
    if not tbl then
      raise("InvalidRequestError", "Class '" .. name .. "' is concrete " ..
            "and needs a __tablename__ or __table__ of its own")
    end
    return I.concrete_class(base, parent, cls, resolved, rels, tbl, attr_keys)
  end
  local root = rawget(parent, "base_mapper") or parent
  setup_root(root)
  local single = tbl == nil
  table.sort(columns, function(a, b)
    return C.column_order(a.col) < C.column_order(b.col)
  end)
  local own = {}
  if single then
    tbl = parent.local_table
    attr_keys = {}
    for _, c in ipairs(columns) do
      local colname = C.name_column(c.col, c.key)
      attr_keys[c.col.key or colname] = c.key
      tbl:append_column(c.col)
      own[#own + 1] = c.col
    end
  else
    for _, col in ipairs(tbl.c) do own[#own + 1] = col end
  end
  local m = setmetatable({
    class = cls, local_table = tbl, inherits = parent, base_mapper = root,
    single = single, keys = copy(parent.keys), slots = copy(parent.slots),
    attr_columns = copy(parent.attr_columns), colkeys = copy(parent.colkeys),
    colattrs = copy(parent.colattrs), insert_none = copy(parent.insert_none),
    primary_key = parent.primary_key, pk_index = parent.pk_index,
    pk_pos = parent.pk_pos, pk_params = parent.pk_params,
    param_source = parent.param_source, relationships = {}, relkeys = {},
    subclasses = {}, polymorphic_map = root.polymorphic_map,
    poly_idx = root.poly_idx, polymorphic_on = root.polymorphic_on,
    inh_tables = copy(parent.inh_tables), attr_cols = {}, ptr = ptr(tbl),
    with_polymorphic_arg = margs.with_polymorphic,
  }, Mapper)
  for i, cols in ipairs(parent.attr_cols) do m.attr_cols[i] = copy(cols) end
  -- (select(func.count()):select_from(m) gets the criterion)
  if single then I.install_inheritance_methods() end
  -- the parent's primary key columns a column of the child refers to
  local refers = {}
  if not single then
    for _, fk in ipairs(tbl.foreign_keys) do
      local tname, cname = string.match(fk.target_fullname, "^(.*)%.([^.]+)$")
      for _, t in ipairs(parent.inh_tables) do
        if t.name == tname and t.c[cname] then
          refers[ptr(fk.parent)] = ptr(t.c[cname])
        end
      end
    end
  end
  local own_keys = {}
  for _, col in ipairs(own) do
    local key = attr_keys[col.key] or col.key
    local i = m.slots[key]
    if not i and col.primary_key and refers[ptr(col)] then
      -- a primary key referring to the parent's is the same attribute
      for j, cols in ipairs(m.attr_cols) do
        for _, c in ipairs(cols) do
          if ptr(c) == refers[ptr(col)] then i = j end
        end
      end
    end
    if i and not single then
      table.insert(m.attr_cols[i], 1, col)
    elseif i then
      raise("ArgumentError", string.format(
        "Column '%s' of class %s is already mapped by %s", key, name,
        parent.class.__name__))
    else
      i = #m.keys + 1
      m.keys[i], m.slots[key], m.attr_columns[i] = key, i, col
      m.colkeys[i], m.attr_cols[i] = col.key, {col}
      if not col.primary_key and not C.column_defaults(col) then
        m.insert_none[i] = true
      end
    end
    m.colattrs[key] = col
    own_keys[key] = col
  end
  m.nattrs = #m.keys
  m.colpos = {}
  for i = 1, m.nattrs do m.colpos[i] = i end
  m.colidx = {}
  for i, cols in ipairs(m.attr_cols) do
    for _, col in ipairs(cols) do m.colidx[ptr(col)] = i end
  end
  if not single then
    m.inh_tables[#m.inh_tables + 1] = tbl
    root.all_tables[#root.all_tables + 1] = tbl
    if #parent.inh_tables > 0 and #tbl.primary_key == 0 then
      raise("ArgumentError", "joined inheritance: table '" .. tbl.name ..
            "' has no primary key")
    end
  end
  -- the selectable: the join of the tables, parent first, each ON its
  -- inherit_condition when one is given (a function gets the class)
  m.inherit_on = copy(parent.inherit_on or {})
  local cond = margs.inherit_condition
  if type(cond) == "function" then
    cond = cond(setmetatable({}, {__index = function(_, k)
      if own_keys[k] ~= nil then return own_keys[k] end
      return cls[k]
    end}))
  end
  if cond == nil and not single then
    -- SQLAlchemy's inherit condition: the foreign keys between this table
    -- and the parent's own (never another path: an engineer's foreign key
    -- to a managers table must not join a with_polymorphic's managers)
    local pt = parent.inh_tables[#parent.inh_tables]
    local eqs = {}
    for _, fk in ipairs(pt and tbl.foreign_keys or {}) do
      local tname, cname = string.match(fk.target_fullname,
                                        "^(.*)%.([^.]+)$")
      if (tname == pt.name or tname == pt.fullname) and pt.c[cname] then
        eqs[#eqs + 1] = pt.c[cname]:eq(fk.parent)
      end
    end
    if #eqs == 1 then cond = eqs[1]
    elseif #eqs > 1 then cond = sa.and_(table.unpack(eqs)) end
  end
  if not single then m.inherit_on[#m.inh_tables] = cond end
  local sel = m.inh_tables[1]
  for k = 2, #m.inh_tables do sel = sel:join(m.inh_tables[k], m.inherit_on[k]) end
  m.selectable = sel
  -- (a mapper's own argument, as in SQLAlchemy: read back after a flush)
  if margs.eager_defaults then
    I.setup_version(m, {eager_defaults = margs.eager_defaults})
  end
  -- the flush's parts: the parent's, but a new one for each table that
  -- got columns of this class
  m.parts = copy(parent.parts)
  m.parts[ptr(tbl)] = build_part(m, tbl)
  m.lua_defaults = parent.lua_defaults
  for _, col in ipairs(own) do
    if lselect(2, C.column_defaults(col)) then m.lua_defaults = true end
  end
  -- relationships: the parent's (more may come at configure time), and
  -- its own
  for k, r in pairs(parent.relationships) do m.relationships[k] = r end
  for k in pairs(parent.relkeys) do m.relkeys[k] = true end
  m.has_rels = parent.has_rels
  local reg = base.registry
  m.registry = reg
  m.mt = C.metatable(m.slots, hooks, parent.mt.__tostring, m.relkeys)
  for key, spec in pairs(rels) do hooks.add_relationship(m, key, spec) end
  parent.subclasses[#parent.subclasses + 1] = m
  root.family[#root.family + 1] = m
  root.flush_members[#root.flush_members + 1] = m
  local ident = margs.polymorphic_identity
  if ident ~= nil then
    m.polymorphic_identity = ident
    root.polymorphic_map[ident] = m
  end
  rawset(cls, "__table__", tbl)
  rawset(cls, "__clause_element__", sel)
  rawset(cls, "__tablename__", tbl.name)
  rawset(cls, "__mapper__", m)
  rawset(cls, "__inheritance__", true)
  reg.classes[name] = cls
  hooks.announce_backrefs(m)
  getmetatable(cls).__call = C.constructor(m.mt, m.nattrs, m.slots,
                                           construct_others)
  set_identity_on_init(cls, m)
  annotate_attributes(cls, m, own_keys)
  -- (the generative methods know the attributes from now on:
  -- add_columns of one adds its joins)
  I.install_inheritance_methods()
  if resolved.__tostring then rawset(cls, "__tostring", resolved.__tostring) end
  reg.mappers[#reg.mappers + 1] = m
  return cls
end

-- after configure(): subclasses have their ancestors' relationships
function hooks.configured()
  I.map_abstract_concrete()
  for root in pairs(roots) do
    for _, m in ipairs(root.family) do
      local p = m.inherits
      if p then
        for k, r in pairs(p.relationships) do
          if not m.relationships[k] then m.relationships[k] = r end
        end
        for k in pairs(p.relkeys) do m.relkeys[k] = true end
        local list = {}
        for _, r in pairs(m.relationships) do list[#list + 1] = r end
        table.sort(list, function(a, b) return a.key < b.key end)
        m.rel_list = list
        m.has_rels = #list > 0 or nil
      end
    end
  end
end

I.isa = function(m, other) return m == other or isa(m, other) end

-- the mapper and its subclasses, parents first
local function self_and_descendants(m)
  local out = {m}
  local i = 1
  while out[i] do
    for _, sub in ipairs(out[i].subclasses or {}) do out[#out + 1] = sub end
    i = i + 1
  end
  return out
end

-- the discriminator values of m and its subclasses
local function identities(m)
  local out = {}
  for _, x in ipairs(self_and_descendants(m)) do
    if x.polymorphic_identity ~= nil then
      out[#out + 1] = x.polymorphic_identity
    end
  end
  return out
end

-- WHERE discriminator IN (...) for a single-table subclass (on the
-- alias `alias` of its table, if given)
local function single_criterion(m, alias)
  if not m.single or not m.poly_idx then return nil end
  local col = m.polymorphic_on
  if alias then col = alias.c[col.key] end
  return col:in_(identities(m))
end
I.single_criterion = single_criterion -- (eager loads: orm/eager.lua)

------------------------------------------------------------------------
-- entities: what a select of a class of a hierarchy selects and how its
-- rows load
------------------------------------------------------------------------

-- the class a row's discriminator value names
local function class_for(m, v)
  if v == nil then return m end
  local sub = m.polymorphic_map[v]
  if not sub then
    raise("InvalidRequestError", string.format(
      "No such polymorphic_identity %s is defined", C.repr(v)))
  end
  return sub
end

-- attribute index -> row position for mapper `sub` in entity e's columns
local function layout(e, sub)
  local c = e.layouts[sub]
  if c then return c end
  local colpos, pkpos = {}, {}
  for i = 1, sub.nattrs do
    local p = 0
    if e.at_name then
      -- a polymorphic union: the columns of each table by name
      p = e.at_name[sub.colkeys[i]] or 0
    else
      for _, col in ipairs(sub.attr_cols[i]) do
        local q = e.at[ptr(col)]
        if q then p = q end
      end
    end
    colpos[i] = p
  end
  for k, i in ipairs(sub.pk_index) do pkpos[k] = colpos[i] end
  c = {colpos, pkpos}
  e.layouts[sub] = c
  return c
end

-- rows from..to of entity e into objects, each of its row's class
local function load_entity(e, s, rows, from, to, populate, out, outn, gaps)
  local m = e.mapper
  local dpos = e.dpos or m.poly_idx and layout(e, m)[1][m.poly_idx] or 0
  if dpos == 0 then
    local c = layout(e, m)
    return C.load(rows, from, to, m.class, m.mt, m.nattrs, c[1], c[2],
                  idmap_for(s, m), s.id, populate, out, outn, gaps)
  end
  local i = from
  while i <= to do
    local sub = class_for(m, rows[i][dpos])
    local j = i
    while j < to and class_for(m, rows[j + 1][dpos]) == sub do j = j + 1 end
    local c = layout(e, sub)
    -- (a concrete class has an identity map of its own)
    outn = C.load(rows, i, j, sub.class, sub.mt, sub.nattrs, c[1], c[2],
                  idmap_for(s, sub), s.id, populate, out, outn, gaps)
    i = j + 1
  end
  return outn
end

I.load_entity = load_entity

local function new_entity(m, name)
  local e = {mapper = m, name = name or m.class.__name__, at = {},
             layouts = {}, cols = {}}
  e.load = function(s, rows, from, to, populate, out, outn, gaps)
    return load_entity(e, s, rows, from, to, populate, out, outn, gaps)
  end
  return e
end

local function add_col(e, col)
  if e.at[ptr(col)] then return end
  e.cols[#e.cols + 1] = col
  e.at[ptr(col)] = #e.cols
end

-- the mappers with_polymorphic names: "*", a class or a list of them
local function wp_mappers(m, spec)
  if spec == "*" then
    local all = self_and_descendants(m)
    table.remove(all, 1)
    return all
  end
  if type(spec) == "table" and rawget(spec, "__mapper__") then spec = {spec} end
  local out = {}
  for _, cls in ipairs(spec or {}) do
    local sub = type(cls) == "table" and rawget(cls, "__mapper__")
    if not sub or not isa(sub, m) then
      raise("InvalidRequestError", tostring(cls) ..
            " is not a subclass of " .. m.class.__name__)
    end
    if sub ~= m then out[#out + 1] = sub end
  end
  return out
end

-- The columns and FROM of a select of mapper m (with the subclasses
-- `subs` loaded at once, outer joined): m's attributes' columns in order,
-- then each subclass's own columns in its tables' order.
local function entity_of(m, subs)
  local e = new_entity(m)
  for i = 1, m.nattrs do
    for _, col in ipairs(m.attr_cols[i]) do add_col(e, col) end
  end
  local from = #m.inh_tables > 1 and m.selectable or nil
  local joined = {}
  for _, t in ipairs(m.inh_tables) do joined[ptr(t)] = true end
  for _, sub in ipairs(subs or {}) do
    for k, t in ipairs(sub.inh_tables) do
      if not joined[ptr(t)] then
        joined[ptr(t)] = true
        from = (from or m.inh_tables[1]):outerjoin(t, sub.inherit_on[k])
        for _, col in ipairs(t.c) do add_col(e, col) end
      end
    end
    for i = 1, sub.nattrs do
      for _, col in ipairs(sub.attr_cols[i]) do
        if joined[ptr(col.table)] then add_col(e, col) end
      end
    end
  end
  e.from = from
  e.crit = single_criterion(m)
  e.subs = subs
  return e
end

-- the entity a select argument stands for, or nil
local function entity_for(x)
  if type(x) ~= "table" then return nil end
  if getmetatable(x) == I.AliasedClass then
    -- aliased(Engineer): its subquery's columns in the order of the
    -- class's attributes, each row loaded as its class
    local ae = I.alias_entry(x)
    local m = ae.mapper
    local e = new_entity(m, ae.name)
    if ae.single then
      -- a single-table subclass: its columns of the table's alias, its
      -- discriminator values in the WHERE clause
      for i = 1, m.nattrs do
        for _, col in ipairs(m.attr_cols[i]) do
          add_col(e, ae.alias.c[col.key])
          e.at[ptr(col)] = e.at[ptr(ae.alias.c[col.key])]
        end
      end
      e.from, e.alias = ae.alias, ae.alias
      e.crit = single_criterion(m, ae.alias)
      return e
    end
    if ae.colmap then
      -- a subquery given: one column per attribute, its first, as
      -- SQLAlchemy selects such an aliased class
      for i = 1, m.nattrs do
        local first = m.attr_cols[i][1]
        local at = e.at[ptr(first)]
        if not at then
          e.cols[#e.cols + 1] = ae.colmap[ptr(first)]
          at = #e.cols
        end
        for _, col in ipairs(m.attr_cols[i]) do e.at[ptr(col)] = at end
      end
      e.from, e.alias = ae.alias, ae.alias
      return e
    end
    for i = 1, m.nattrs do
      for _, col in ipairs(m.attr_cols[i]) do
        if not e.at[ptr(col)] then
          e.cols[#e.cols + 1] = ae.alias.c[col.table.name .. "_" .. col.name]
          e.at[ptr(col)] = #e.cols
        end
      end
    end
    e.from, e.alias = ae.alias, ae.alias
    return e
  end
  local wp = rawget(x, "__with_polymorphic__")
  if wp and wp.map then return I.aliased_wp_entity(wp) end
  if wp then return entity_of(wp.mapper, wp.subs) end
  -- an AbstractConcreteBase is mapped when the mappers are configured
  if rawget(x, "__concrete_body__") then I.configure() end
  local m = rawget(x, "__mapper__")
  -- (a class outside any hierarchy is the common case: raw fields only)
  if not m or not (rawget(m, "family") or rawget(m, "inherits") or
                   rawget(m, "concrete_entity")) then
    return nil
  end
  if m.concrete_entity then return m:concrete_entity() end
  if m.concrete then return nil end -- a class of its own table
  local subs
  if m.with_polymorphic_arg ~= nil then
    local spec = m.with_polymorphic_arg
    if type(spec) == "table" and spec[1] == "*" then spec = "*" end
    subs = wp_mappers(m, spec)
  end
  return entity_of(m, subs)
end

-- selects of hierarchy entities: select -> {ents, nocrit, crit}
local stmt_ents = setmetatable({}, {__mode = "k"})

function I.inherited_entities(stmt)
  local info = stmt_ents[stmt]
  return info and info.ents
end
-- (the table itself, for the plan cache's check of each execute)
I.hierarchy_selects = stmt_ents

-- the entities of the items of a select beyond those known (columns
-- added later, other classes)
local function extend_ents(stmt, ents)
  local items = C.select_items(stmt)
  local covered = 0
  for _, e in ipairs(ents) do covered = covered + (e.width or 1) end
  local k, pos = 1, 1
  while k <= #items and pos <= covered do
    pos = pos + items[k][2]
    k = k + 1
  end
  local out = ents
  for j = k, #items do
    local p, width, name = items[j][1], items[j][2], items[j][3]
    local m = p and I.mappers_by_table[p]
    if out == ents then out = copy(ents) end
    out[#out + 1] = {mapper = m, pos = pos, width = width,
                     name = m and m.class.__name__ or name,
                     item = items[j][4]}
    pos = pos + width
  end
  return out
end

local core_select = sa.select
local building = false -- orm_select is building its select

-- an entity's row positions moved by d (items before it)
local function shift(e, d)
  for p, q in pairs(e.at) do e.at[p] = q + d end
  for name, q in pairs(e.at_name or {}) do e.at_name[name] = q + d end
  if e.dpos then e.dpos = e.dpos + d end
end
local node_methods = getmetatable(sa.literal_column("1")).__methods
local where = node_methods.where

-- Classes of hierarchies (and with_polymorphic entities) carry the raw
-- field __inheritance__: the core's select() hands a select of one of
-- them to orm_select below; others cost the core one field lookup.
local install_methods -- below
local attribute_froms, attribute_select -- below
local add_attributes -- below
local alias_crits -- below
local annotation = C.annotation

-- The FROM and criteria the column attributes of the mappers `attrs`
-- add to those of a select's entities (froms, crits): a joined
-- subclass's join of its tables, a single-table subclass's criterion;
-- each once, and none for a mapper one of the entities stands for.
-- parts: mapper -> its criterion (a join to the class moves it into the
-- ON clause: see wrap_method)
function attribute_froms(attrs, ents, froms, crits, parts)
  local seen = {}
  for _, e in ipairs(ents) do
    if e and e.load then seen[e.mapper] = true end
  end
  for _, am in ipairs(attrs or {}) do
    if not seen[am] then
      seen[am] = true
      if #am.inh_tables > 1 then froms[#froms + 1] = am.selectable end
      local crit = single_criterion(am)
      if crit then
        crits[#crits + 1] = crit
        parts[am] = crit
      end
    end
  end
end

-- the criteria of the aliased() single-table subclasses whose columns
-- the expressions of a columns clause use (func.count(b.id)), each once
function alias_crits(aliases, crits, parts)
  for _, ac in ipairs(aliases or {}) do
    local e = I.alias_entry(ac)
    local k = ptr(e.alias)
    if e.single and not parts[k] then
      local crit = single_criterion(e.mapper, e.alias)
      parts[k] = crit
      crits[#crits + 1] = crit
    end
  end
end

-- select(J.extra, M.name): the columns alone (the rows are not
-- entities), FROM each joined subclass's tables joined and WHERE each
-- single-table subclass's criterion, kept last as for entities
function attribute_select(args, n, attrs, aliases, wps)
  local froms, crits, parts = {}, {}, {}
  -- (a with_polymorphic entity's columns: its outer joins, once)
  local seen = {}
  for _, wpi in ipairs(wps or {}) do
    if not seen[wpi] then
      seen[wpi] = true
      local e = entity_of(wpi.mapper, wpi.subs)
      if e.from then froms[#froms + 1] = e.from end
      if e.crit then crits[#crits + 1] = e.crit end
    end
  end
  for i = 1, n do
    -- (columns of an aliased() single-table subclass beside them)
    local sc = I.single_alias_crit(args[i], parts)
    if sc then crits[#crits + 1] = sc end
  end
  alias_crits(aliases, crits, parts)
  attribute_froms(attrs, {}, froms, crits, parts)
  if #froms == 0 and #crits == 0 then return nil end
  building = true
  local ok, stmt = pcall(core_select, table.unpack(args, 1, n))
  building = false
  if not ok then error(stmt, 0) end
  for _, f in ipairs(froms) do stmt = stmt:select_from(f) end
  if #crits == 0 then
    stmt_ents[stmt] = {ents = false}
    return stmt
  end
  local crit = #crits == 1 and crits[1] or sa.and_(table.unpack(crits))
  local out = where(stmt, crit)
  stmt_ents[out] = {ents = false, nocrit = stmt, crit = crit,
                    parts = next(parts) and {crits = crits, parts = parts}
                            or nil}
  return out
end

-- the select of the arguments (columns, tables, classes), when one of
-- them is a class of a hierarchy: called by the core's select() (see
-- select_hook in lua/lsql.c); nil lets the core build it
local function orm_select(...)
  local n = lselect("#", ...)
  local args = {...}
  install_methods()
  local found = {}
  local any = false
  local attrs -- mappers of subclass column attributes, by first use
  local aliases -- aliased classes of expressions' columns
  local wps -- with_polymorphic entities of columns
  for i = 1, n do
    found[i] = entity_for(args[i])
    if found[i] then
      any = true
    else
      local cls, col = annotation(args[i])
      local am = cls and rawget(cls, "__mapper__")
      -- (the core's select gets the column: no second call here)
      if cls then args[i] = col end
      if am then attrs = attrs or {}; attrs[#attrs + 1] = am end
      local wpi = cls and rawget(cls, "__with_polymorphic__")
      if wpi and not wpi.map then
        wps = wps or {}
        wps[#wps + 1] = wpi
      end
      if cls and not am and getmetatable(cls) == I.AliasedClass then
        aliases = aliases or {}
        aliases[#aliases + 1] = cls
      end
    end
  end
  if not any then
    if not attrs and not aliases and not wps then return nil end
    return attribute_select(args, n, attrs, aliases, wps)
  end
  local items, ents, froms, crits = {}, {}, {}, {}
  local parts = {}
  local pos = 1
  for i = 1, n do
    local e = found[i]
    local sc = not e and I.single_alias_crit(args[i], parts)
    if sc then crits[#crits + 1] = sc end
    if e then
      for _, col in ipairs(e.cols) do items[#items + 1] = col end
      e.pos, e.width = pos, #e.cols
      shift(e, pos - 1)
      pos = pos + #e.cols
      ents[#ents + 1] = e
      if e.from then froms[#froms + 1] = e.from end
      if e.crit then crits[#crits + 1] = e.crit end
    else
      items[#items + 1] = args[i]
      ents[#ents + 1] = false -- filled in by extend_ents
      pos = pos + 1
    end
  end
  -- (the criteria are added below: not by single_alias_where)
  building = true
  local ok, stmt = pcall(core_select, table.unpack(items))
  building = false
  if not ok then error(stmt, 0) end
  -- the other items: their widths and names from the select itself
  local items_info = C.select_items(stmt)
  local k, p = 1, 1
  for i = 1, n do
    if found[i] then
      k = k + #found[i].cols
      p = p + #found[i].cols
    else
      local it = items_info[k]
      local mp = it[1] and I.mappers_by_table[it[1]]
      ents[i] = {mapper = mp, pos = p, width = it[2],
                 name = mp and mp.class.__name__ or it[3], item = it[4]}
      for j = i + 1, n do
        if found[j] then
          shift(found[j], it[2] - 1)
          found[j].pos = found[j].pos + it[2] - 1
        end
      end
      k, p = k + 1, p + it[2]
    end
  end
  alias_crits(aliases, crits, parts)
  attribute_froms(attrs, ents, froms, crits, parts)
  for _, f in ipairs(froms) do stmt = stmt:select_from(f) end
  local crit
  if #crits == 1 then crit = crits[1]
  elseif #crits > 1 then crit = sa.and_(table.unpack(crits)) end
  local info = {ents = ents}
  if crit then
    info.nocrit, info.crit = stmt, crit
    info.parts = next(parts) and {crits = crits, parts = parts} or nil
    stmt = where(stmt, crit)
  end
  stmt_ents[stmt] = info
  return stmt
end

-- select(b.name) of b = aliased(Boss) (a single-table subclass): the
-- discriminator criterion of b's alias, once per alias (parts: alias
-- address -> criterion, of the criteria the statement has)
function I.single_alias_crit(x, parts)
  if C.node_kind(x) ~= "column" then return nil end
  local t = x.table
  local e = t and I.aliased_entry(ptr(t))
  if not e or not e.single or parts[ptr(t)] then return nil end
  local crit = single_criterion(e.mapper, e.alias)
  parts[ptr(t)] = crit
  return crit
end

-- stmt with the single-table criteria crits in its WHERE clause, kept
-- last by the generative methods (ents false: its rows are plain rows,
-- as without the criterion)
local function with_crits(stmt, crits, parts)
  local crit = #crits == 1 and crits[1] or sa.and_(table.unpack(crits))
  local out = where(stmt, crit)
  stmt_ents[out] = {ents = false, nocrit = stmt, crit = crit,
                    parts = {crits = crits, parts = parts}}
  return out
end

-- a select of plain columns (see properties.lua) that names columns of
-- an aliased() single-table subclass: their criteria in the WHERE
-- clause, kept last by the generative methods, as for the class itself
function I.single_alias_where(stmt, ...)
  if building or stmt_ents[stmt] then return stmt end
  local parts, crits = {}, {}
  for i = 1, lselect("#", ...) do
    local c = I.single_alias_crit((lselect(i, ...)), parts)
    if c then crits[#crits + 1] = c end
  end
  if #crits == 0 then return stmt end
  install_methods()
  return with_crits(stmt, crits, parts)
end
-- update(Manager) / delete(Manager): a single-table subclass's rows only
-- (the criterion stays last, as for selects); a joined subclass's own
-- table (as SQLAlchemy 1.4 emits it)
local core_update, core_delete = sa.update, sa.delete
local function orm_dml(kind, x)
  local m = type(x) == "table" and rawget(x, "__mapper__")
  if not m or m.concrete or m.abstract_concrete then return nil end
  local stmt = (kind == "update" and core_update or core_delete)(m.local_table)
  local crit = single_criterion(m)
  if not crit then return stmt end
  install_methods()
  local out = where(stmt, crit)
  stmt_ents[out] = {ents = {}, nocrit = stmt, crit = crit}
  return out
end

debug.getregistry()["retort.select_hook"] = function(kind, ...)
  if kind == "select" then return orm_select(...) end
  return orm_dml(kind, ...)
end

-- filter_by{k = v}: attribute k of entity e equal to v, in key order;
-- nil when a name is not one of e's attributes
local function by_attributes(e, kw)
  local m = e and e.mapper
  if not m or type(kw) ~= "table" or C.node_kind(kw) then return nil end
  local keys, conds = {}, {}
  -- (a hybrid_property of the class or a parent: its expression)
  local function hybrid(k)
    local mm = m
    while mm do
      local d = mm.ext_descriptors and mm.ext_descriptors[k]
      if d then return d.fget and d.class_get and not e.at_name end
      mm = mm.inherits
    end
    return false
  end
  for k in pairs(kw) do
    if type(k) ~= "string" or not (m.slots[k] or hybrid(k)) then
      return nil
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    if not m.slots[k] then
      conds[i] = m.class[k]:eq(kw[k])
      goto continue
    end
    local cols = m.attr_cols and m.attr_cols[m.slots[k]]
    local col = cols and cols[1] or m.colattrs[k]
    if e.at_name then col = e.cols[e.at_name[m.colkeys[m.slots[k]]] - e.pos + 1] end
    local v = kw[k]
    conds[i] = col:eq(v)
    ::continue::
  end
  if #conds == 0 then return nil end
  return #conds == 1 and conds[1] or sa.and_(table.unpack(conds))
end

-- The generative methods carry the entities; the single-table criterion
-- stays the last term of the WHERE clause (as SQLAlchemy adds it when
-- compiling): the method is applied to the statement without it, and
-- the criterion added again.
-- (installed with the first select of a hierarchy's class: other
-- programs pay nothing)
local installed = false

-- select(O.id):add_columns(J.extra): a plain select given column
-- attributes of subclasses gets their joins and criteria, as
-- select(O.id, J.extra) does (attribute_select)
function add_attributes(f, stmt, ...)
  local attrs
  for i = 1, lselect("#", ...) do
    local cls = annotation((lselect(i, ...)))
    local am = cls and rawget(cls, "__mapper__")
    if am then attrs = attrs or {}; attrs[#attrs + 1] = am end
  end
  local out = f(stmt, ...)
  if not attrs then return out end
  local froms, crits, parts = {}, {}, {}
  attribute_froms(attrs, {}, froms, crits, parts)
  for _, fr in ipairs(froms) do out = out:select_from(fr) end
  if #crits == 0 then return out end
  local crit = #crits == 1 and crits[1] or sa.and_(table.unpack(crits))
  local res = where(out, crit)
  stmt_ents[res] = {ents = false, nocrit = out, crit = crit,
                    parts = next(parts) and {crits = crits, parts = parts}
                            or nil}
  return res
end

-- select(func.count()):select_from(Manager) (or an aliased() Manager)
-- of a single-table subclass: its criterion, as for its columns
local function select_from_single(f, stmt, ...)
  local crits, parts = {}, {}
  for i = 1, lselect("#", ...) do
    local x = lselect(i, ...)
    local m = type(x) == "table" and rawget(x, "__mapper__")
    if m and m.single and not parts[m] then
      local crit = single_criterion(m)
      if crit then parts[m] = crit; crits[#crits + 1] = crit end
    elseif getmetatable(x) == I.AliasedClass then
      alias_crits({x}, crits, parts)
    end
  end
  local out = f(stmt, ...)
  if #crits == 0 then return out end
  return with_crits(out, crits, parts)
end

local function wrap_method(name)
  local f = node_methods[name]
  node_methods[name] = function(stmt, ...)
    local info = stmt_ents[stmt]
    if not info then
      if name == "add_columns" then return add_attributes(f, stmt, ...) end
      if name == "select_from" then return select_from_single(f, stmt, ...) end
      return f(stmt, ...)
    end
    if name == "filter_by" and info.ents then
      -- the names are the attributes of the entity, whichever its table
      local crit = info.ents and by_attributes(info.ents[1], ...)
      if crit then return node_methods.where(stmt, crit) end
    end
    local out, nocrit
    local crit, parts = info.crit, info.parts
    if parts and (name == "join" or name == "outerjoin") then
      -- a join to an aliased() single-table subclass whose columns are
      -- selected, or to such a class: its criterion goes in the ON
      -- clause instead
      local target = ...
      if getmetatable(target) == I.OfType then target = target.target end
      local ae = getmetatable(target) == I.AliasedClass and
                 I.alias_entry(target)
      local drop = ae and parts.parts[ptr(ae.alias)]
      local tm = not ae and type(target) == "table" and
                 rawget(target, "__mapper__")
      if tm then drop = parts.parts[tm] end
      if drop then
        local keep, kparts = {}, {}
        for _, c in ipairs(parts.crits) do
          if c ~= drop then keep[#keep + 1] = c end
        end
        for k, c in pairs(parts.parts) do
          if c ~= drop then kparts[k] = c end
        end
        crit = #keep > 1 and sa.and_(table.unpack(keep)) or keep[1]
        parts = #keep > 0 and {crits = keep, parts = kparts} or nil
      end
    end
    if info.crit then
      nocrit = f(info.nocrit, ...)
      out = crit and where(nocrit, crit) or nocrit
    else
      out = f(stmt, ...)
    end
    if name == "with_only_columns" then return out end
    local ents = info.ents
    if name == "add_columns" and ents then ents = extend_ents(out, ents) end
    stmt_ents[out] = {ents = ents, nocrit = crit and nocrit or nil,
                      crit = crit, parts = parts}
    return out
  end
end

function install_methods()
  if installed then return end
  installed = true
  for _, name in ipairs({"where", "filter", "filter_by", "order_by", "limit",
                         "offset", "join", "outerjoin", "join_from",
                         "select_from", "group_by", "having", "distinct",
                         "add_columns", "correlate", "with_for_update",
                         "execution_options", "options", "set_label_style",
                         "with_only_columns", "values", "returning"}) do
    wrap_method(name)
  end
end
I.install_inheritance_methods = install_methods

------------------------------------------------------------------------
-- loading by primary key, and the columns of a subclass not loaded yet
------------------------------------------------------------------------

-- SQLAlchemy labels the columns of these SELECTs table_column
local function labeled(cols)
  local out = {}
  for i, col in ipairs(cols) do
    out[i] = col:label(col.table.name .. "_" .. col.name)
  end
  return out
end

-- load_by_pk for a mapper of a hierarchy (see loading.lua)
function I.load_inherited(s, m, vals, obj)
  local conn = s:connection()
  local e = entity_of(m)
  e.pos, e.width = 1, #e.cols
  local stmt = core_select(table.unpack(labeled(e.cols)))
  if e.from then stmt = stmt:select_from(e.from) end
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(vals[k])) end
  if e.crit then stmt = stmt:where(e.crit) end
  local rows = run(s, conn, stmt):all()
  local out = {}
  load_entity(e, s, rows, 1, #rows, obj ~= nil, out, 0)
  return out[1]
end

-- the value of an unloaded attribute: the columns of the subclass's own
-- tables that are not loaded come in one SELECT of those tables, as
-- SQLAlchemy's optimized load does; else the whole row reloads
local orig_load_expired = hooks.load_expired
function hooks.load_expired(obj, key)
  local m = mapper_of(obj)
  local s = session_of(obj)
  if not m.inherits or m.concrete or not s or
     C.lifecycle(obj) == "detached" then
    return orig_load_expired(obj, key)
  end
  local missing, tables = {}, {}
  local partial = true
  for i = 1, m.nattrs do
    if not lselect(2, C.get(obj, i)) then
      local cols = m.attr_cols[i]
      if i <= (rawget(m, "base_mapper") or m).nattrs then
        partial = false
      end
      missing[#missing + 1] = {i, cols[1]}
      tables[ptr(cols[1].table)] = cols[1].table
    end
  end
  local ntables = 0
  for _ in pairs(tables) do ntables = ntables + 1 end
  if not partial or ntables ~= 1 or C.identity(obj) == nil then
    return orig_load_expired(obj, key)
  end
  local cols = {}
  for k, x in ipairs(missing) do cols[k] = x[2] end
  local t = cols[1].table
  local stmt = core_select(table.unpack(labeled(cols)))
  local ident = ident_vals(obj, m)
  if m.single then
    for k, col in ipairs(m.primary_key) do
      stmt = stmt:where(col:eq(ident[k]))
    end
    local crit = single_criterion(m)
    if crit then stmt = stmt:where(crit) end
  else
    -- the table's primary key columns are those of the key's attributes
    for k, i in ipairs(m.pk_index) do
      for _, col in ipairs(m.attr_cols[i]) do
        if ptr(col.table) == ptr(t) then
          stmt = stmt:where(sa.bindparam("pk_" .. k, ident[k]):eq(col))
        end
      end
    end
  end
  local row = run(s, s:connection(), stmt):first()
  if row == nil then
    I.deleted_error(obj)
  end
  for k, x in ipairs(missing) do
    local i = x[1]
    if not lselect(2, C.get(obj, i)) then C.set(obj, i, row[k]) end
  end
  return (C.get(obj, m.slots[key]))
end

-- rows of a relationship's load: of the root's table, or of a
-- subclass's select (see strategies.lua)
function I.load_polymorphic(s, m, rows, out)
  local e
  if m.inherits then
    e = entity_of(m)
  else
    e = new_entity(m)
    for i, col in ipairs(m.local_table.c) do e.at[ptr(col)] = i end
    if m.abstract_concrete then
      -- the union's columns by name, each row its class by the
      -- union's discriminator
      e.at_name = {}
      for i, col in ipairs(m.local_table.c) do e.at_name[col.key] = i end
      e.dpos = e.at_name[m.discriminator_name]
    end
  end
  load_entity(e, s, rows, 1, #rows, false, out, #out)
  return out
end

-- rows of a joined eager load of a relationship to a hierarchy's class:
-- colpos[i] is the row position of m's attribute i (see strategies.lua)
function I.load_joined_polymorphic(s, m, rows, colpos, got)
  local e = new_entity(m)
  if m.abstract_concrete then
    -- the union's columns by name (see I.load_polymorphic)
    e.at_name = {}
    for i = 1, m.nattrs do e.at_name[m.colkeys[i]] = colpos[i] end
    e.dpos = e.at_name[m.discriminator_name]
    return load_entity(e, s, rows, 1, #rows, false, got, 0, true)
  end
  for i = 1, m.nattrs do
    for _, col in ipairs(m.attr_cols[i]) do e.at[ptr(col)] = colpos[i] end
  end
  load_entity(e, s, rows, 1, #rows, false, got, 0, true)
end

-- Company.employees:of_type(Engineer): the relationship narrowed to a
-- subclass, for join() and any()/has(): its target is the subclass's
-- tables joined (with the single-table criterion in the ON clause)
-- (an aliased() class goes to the of_type of orm/aliased.lua)
local aliased_of_type = I.Rel.of_type
function I.Rel.of_type(r, cls)
  I.configure()
  -- of_type(with_polymorphic(...)): the target's tables and the
  -- subclasses' outer joined; in a loader option the listed subclasses
  -- load in the same statement (see strategy_options.lua)
  local wp = type(cls) == "table" and rawget(cls, "__with_polymorphic__")
  if wp then
    if not isa(wp.mapper, r.target) then
      raise("ArgumentError", "of_type: " .. tostring(cls) ..
            " is not a subclass of " .. tostring(r.target.class))
    end
    local n = setmetatable({}, getmetatable(r))
    for k, v in pairs(r) do n[k] = v end
    if wp.map then
      -- an aliased one: the join is to its selectable, on its columns;
      -- a loader option loads from it (see of_type_join in eager.lua)
      n.target = setmetatable({local_table = wp.from}, {__index = wp.mapper})
      n.primaryjoin = I.rel_on(r, cls)
      if wp.crit then n.primaryjoin = sa.and_(n.primaryjoin, wp.crit) end
      n.of_type_mapper = wp.mapper
      n.of_type_subs = setmetatable({table.unpack(wp.subs)}, {__index =
                                    {wp = wp}})
      return n
    end
    local from = entity_of(wp.mapper, wp.subs).from
    n.target = setmetatable({local_table = from or wp.mapper.local_table},
                            {__index = wp.mapper})
    local crit = single_criterion(wp.mapper)
    if crit then n.primaryjoin = sa.and_(I.rel_on(r), crit) end
    n.of_type_mapper = wp.mapper
    n.of_type_subs = wp.subs
    return n
  end
  local sub = type(cls) == "table" and rawget(cls, "__mapper__")
  if not sub and aliased_of_type then return aliased_of_type(r, cls) end
  if not sub or not isa(sub, r.target) then
    raise("ArgumentError", "of_type: " .. tostring(cls) ..
          " is not a subclass of " .. tostring(r.target.class))
  end
  local n = setmetatable({}, getmetatable(r))
  for k, v in pairs(r) do n[k] = v end
  n.target = setmetatable({local_table = rawget(sub, "selectable") or sub.local_table},
                          {__index = sub})
  local crit = single_criterion(sub)
  if crit then n.primaryjoin = sa.and_(I.rel_on(r), crit) end
  n.of_type_mapper = sub
  return n
end

------------------------------------------------------------------------
-- the flush of a hierarchy
------------------------------------------------------------------------

-- the objects among objs that have a row in table t, in runs of the
-- same part: {part, objs}...
local function runs_for(objs, tp)
  local out, last = {}, nil
  for _, obj in ipairs(objs) do
    local p = mapper_of(obj).parts[tp]
    if p then
      if p ~= last then
        out[#out + 1] = {p, {}}
        last = p
      end
      local l = out[#out][2]
      l[#l + 1] = obj
    end
  end
  return out
end

-- Each object's state changes once, with its first table's statement
-- (the root's, or a concrete class's own table).
local function own_rows(part) return part.mapper.flush_root ~= nil end

-- the updates (or inserts) of objs in table ti of the hierarchy
local function emit_table(s, conn, root, ti, objs, done, kind)
  local emit = kind == "upd" and I.emit_updates or I.emit_inserts
  local list = done[kind]
  for _, run_ in ipairs(runs_for(objs, ptr(root.all_tables[ti]))) do
    local n = #list
    emit(s, conn, run_[1], run_[2], done)
    if ti > 1 and not own_rows(run_[1]) then list[n + 1] = nil end
  end
end

-- The objects of a self-referential hierarchy (a manager and its new
-- reports) in levels: each after the object whose key it takes.
local function levels_of(objs, dep)
  local depth, levels, top = {}, {}, 0
  local function depth_of(obj, n)
    if depth[obj] then return depth[obj] end
    local d = 1
    if dep[obj] and n < 1000 then d = depth_of(dep[obj], n + 1) + 1 end
    depth[obj] = d
    return d
  end
  for _, obj in ipairs(objs) do
    local d = depth_of(obj, 0)
    levels[d] = levels[d] or {}
    table.insert(levels[d], obj)
    if d > top then top = d end
  end
  return levels, top
end

-- The statements of a hierarchy's objects, table by table (updates, then
-- inserts, per table as SQLAlchemy's save_obj); when a new object takes
-- the key of another new one of the hierarchy, the inserts go in levels,
-- each level's rows in all their tables, the updates after them.
function I.emit_hierarchy_saves(s, conn, root, sv, all_syncs, done)
  local syncs = {}
  for _, m in ipairs(root.flush_members) do
    for _, e in ipairs(all_syncs and all_syncs[m] or {}) do
      syncs[#syncs + 1] = e
    end
  end
  local new, dep, later = {}, {}, false
  for _, o in ipairs(sv.ins) do new[o] = true end
  for _, e in ipairs(syncs) do
    local src, dst = e[2], e[3]
    if src ~= nil and src ~= dst and new[src] then
      later = true
      if new[dst] then dep[dst] = src end
    end
  end
  if not later then
    for _, e in ipairs(syncs) do I.apply_sync(e) end
    for ti = 1, #root.all_tables do
      emit_table(s, conn, root, ti, sv.upd, done, "upd")
      emit_table(s, conn, root, ti, sv.ins, done, "ins")
    end
    return I.hierarchy_eager_defaults(s, conn, sv, done)
  end
  local by_dst = {}
  for _, e in ipairs(syncs) do
    local l = by_dst[e[3]]
    if not l then l = {}; by_dst[e[3]] = l end
    l[#l + 1] = e
  end
  local levels, top = levels_of(sv.ins, dep)
  for d = 1, top do
    for _, obj in ipairs(levels[d] or {}) do
      for _, e in ipairs(by_dst[obj] or {}) do I.apply_sync(e) end
      by_dst[obj] = nil
    end
    for ti = 1, #root.all_tables do
      emit_table(s, conn, root, ti, levels[d] or {}, done, "ins")
    end
  end
  for _, e in ipairs(syncs) do
    if by_dst[e[3]] then I.apply_sync(e) end
  end
  for ti = 1, #root.all_tables do
    emit_table(s, conn, root, ti, sv.upd, done, "upd")
  end
  I.hierarchy_eager_defaults(s, conn, sv, done)
end

function I.emit_hierarchy_deletes(s, conn, root, objs, done)
  for ti = #root.all_tables, 1, -1 do
    for _, run_ in ipairs(runs_for(objs, ptr(root.all_tables[ti]))) do
      local n = #done.del
      I.emit_deletes(s, conn, run_[1], run_[2], done)
      if ti > 1 and not own_rows(run_[1]) then
        for k = #done.del, n + 1, -1 do done.del[k] = nil end
      end
    end
  end
end

------------------------------------------------------------------------
-- the mapper's inheritance attributes, with_polymorphic
------------------------------------------------------------------------

local mapper_index = Mapper.__index
Mapper.__index = function(m, k)
  if k == "polymorphic_identity" then return nil end
  if k == "self_and_descendants" then return self_and_descendants(m) end
  if k == "concrete" then return false end
  if k == "single" then return false end
  if k == "base_mapper" then
    -- (a class of a concrete hierarchy: its root, as SQLAlchemy's; the
    -- identity map of its own is the ORM's raw field's absence)
    local b = m
    while rawget(b, "inherits") do b = b.inherits end
    return b
  end
  if k == "isa" then return function(self, other) return I.isa(self, other) end end
  if k == "polymorphic_iterator" then
    return function(self)
      local l, i = self_and_descendants(self), 0
      return function() i = i + 1; return l[i] end
    end
  end
  if k == "iterate_to_root" then
    -- this mapper, then each it inherits from
    return function(self)
      local cur, started = self, false
      return function()
        if started then cur = rawget(cur, "inherits") end
        started = true
        return cur
      end
    end
  end
  if k == "with_polymorphic_mappers" then
    local spec = rawget(m, "with_polymorphic_arg")
    return spec ~= nil and wp_mappers(m, spec) or {}
  end
  return mapper_index(m, k)
end

-- An aliased with_polymorphic (aliased = true or flat = true): the
-- polymorphic join made anonymous, as SQLAlchemy makes it.  Not flat:
-- a subquery of the join whose columns are labelled <table>_<column>;
-- flat (or a single table): each table aliased on its own and the
-- aliases joined.  info gets
-- from (the selectable), cols (the original columns, the entity's
-- order) and map (original column address -> its stand-in).
local function alias_wp(info, flat)
  local m = info.mapper
  local e = entity_of(m, info.subs)
  local cols, map = {}, {}
  for _, col in ipairs(e.cols) do
    if C.node_kind(col) == "column" and col.table then cols[#cols + 1] = col end
  end
  -- (a single table is aliased as itself, flat or not)
  if not flat and e.from then
    local labels = {}
    for q, col in ipairs(cols) do
      labels[q] = col:label(col.table.name .. "_" .. col.name)
    end
    local sq = core_select(table.unpack(labels)):select_from(e.from)
      :subquery()
    for _, col in ipairs(cols) do
      map[ptr(col)] = sq.c[col.table.name .. "_" .. col.name]
    end
    info.from = sq
  else
    -- the tables in join order: the base's, then each subclass's own
    local order, seen = {}, {}
    local function add(t, on, outer)
      if seen[ptr(t)] then return end
      seen[ptr(t)] = true
      order[#order + 1] = {t, on, outer}
    end
    for k, t in ipairs(m.inh_tables) do add(t, (m.inherit_on or {})[k], false) end
    for _, sub in ipairs(info.subs) do
      for k, t in ipairs(sub.inh_tables) do add(t, sub.inherit_on[k], true) end
    end
    local aliases = {}
    for q, o in ipairs(order) do
      local a = o[1]:alias()
      aliases[q] = a
      for _, col in ipairs(o[1].c) do map[ptr(col)] = a.c[col.key] end
    end
    local from = aliases[1]
    for q = 2, #order do
      local on = C.adapt(order[q][2], map, true)
      from = order[q][3] and from:outerjoin(aliases[q], on) or
             from:join(aliases[q], on)
    end
    info.from = from
  end
  info.cols, info.map = cols, map
  if e.crit then info.crit = C.adapt(e.crit, map, true) end
end

-- with_polymorphic(Employee, {...}, {selectable = u:subquery()}): the
-- columns of the base and the subclasses, each the subquery's column
-- that selects it (a UNION of selects of the same with_polymorphic)
local function selectable_wp(info, sel)
  local m = info.mapper
  local e = entity_of(m, info.subs)
  local map = I.subquery_columns(sel)
  if not map then
    raise("ArgumentError", "with_polymorphic: selectable must be a " ..
          "subquery of a select of the classes")
  end
  local cols, out = {}, {}
  for _, col in ipairs(e.cols) do
    if C.node_kind(col) == "column" and col.table then
      local c = map[ptr(col)]
      if c == nil then
        raise("ArgumentError", "with_polymorphic: the selectable has no " ..
              "column " .. tostring(col.table) .. "." .. col.name)
      end
      cols[#cols + 1] = col
      out[ptr(col)] = c
    end
  end
  info.cols, info.map, info.from = cols, out, sel
  if e.crit then info.crit = C.adapt(e.crit, out, true) end
end

-- expression col (an attribute's column or column_property) in an
-- aliased with_polymorphic
local function wp_col(info, col)
  if C.node_kind(col) == "column" and info.map[ptr(col)] then
    return info.map[ptr(col)]
  end
  info.exprs = info.exprs or {}
  local done = info.exprs[col]
  if not done then
    done = C.adapt(col, info.map, true)
    info.exprs[col] = done
  end
  return done
end

-- wp.Engineer of an aliased with_polymorphic: Engineer's attributes on
-- the aliased selectable
-- wp.company, wp.Engineer.machines of an aliased with_polymorphic: the
-- relationship from wp's selectable (joins, any/has; loader options
-- take it as the relationship itself), as an aliased class's are
local function wp_rel(info, from, r)
  return setmetatable({rel = r, from = from,
                       adapt = function(col) return wp_col(info, col) end},
                      I.AliasedRel)
end

local WpSub = {__name = "retort.with_polymorphic_class"}
WpSub.__index = function(ws, k)
  local sub = rawget(ws, "__sub")
  local col = sub.colattrs[k]
  if col ~= nil then return wp_col(rawget(ws, "__info"), col) end
  I.configure()
  local r = sub.relationships[k]
  if r then return wp_rel(rawget(ws, "__info"), ws, r) end
  return sub.class[k]
end
WpSub.__tostring = function(ws)
  return "with_polymorphic(" .. rawget(ws, "__sub").class.__name__ .. ")"
end

-- the entity of an aliased with_polymorphic: its stand-in columns,
-- loaded by the original columns' positions
local function aliased_wp_entity(info)
  local e = new_entity(info.mapper)
  for q, col in ipairs(info.cols) do
    e.cols[q] = info.map[ptr(col)]
    e.at[ptr(col)] = q
  end
  e.from, e.crit, e.subs = info.from, info.crit, info.subs
  e.wp_info = info
  return e
end
I.aliased_wp_entity = aliased_wp_entity

-- The loading plan of a select of a with_polymorphic entity: loader
-- options on relationships of the subclasses it loads
-- (selectinload(wp.Engineer.machines)) join the plan, each run on the
-- objects of its class (run_path below); an aliased one's joined eager
-- loads join from its selectable (root_sel: each table's columns by key)
local base_load_plan = I.load_plan
I.load_plan = function(stmt, m)
  local plan = base_load_plan(stmt, m)
  local sinfo = stmt_ents[stmt]
  local e = sinfo and sinfo.ents and sinfo.ents[1]
  if not (e and e.subs and e.mapper == m) then return plan end
  for _, o in ipairs(I.stmt_opts[stmt] or {}) do
    local r = o.path and o.path[1].rel
    if r and r ~= "*" and not isa(m, r.parent) then
      for _, sub in ipairs(e.subs) do
        if isa(sub, r.parent) then
          if not plan then
            plan = {stmt = stmt, root_table = m.local_table, root_mapper = m}
          end
          plan[#plan + 1] = I.resolve_defaults(o.path)
          break
        end
      end
    end
  end
  local info = e.wp_info
  if plan and info and info.map then
    local sel = {map = {}, list = {}, main = info.from}
    for _, col in ipairs(info.cols) do
      local t = col.table
      if not sel.map[ptr(t)] then
        local x = {c = setmetatable({}, {__index = function(_, key)
          local c = t.c[key]
          return c and info.map[ptr(c)]
        end})}
        sel.map[ptr(t)] = x
        sel.list[#sel.list + 1] = {t, x}
      end
    end
    plan.root_sel = sel
  end
  return plan
end

-- The key column col of a subqueryload from an aliased with_polymorphic
-- entity (its plan's root_sel): the column of its selectable, and the
-- label SQLAlchemy gives it there, <selectable>_<column> (an anonymous
-- subquery is anon_2 inside the keys' anon_1; a flat alias <table>_1)
function I.wp_subquery_key(sel, col)
  local x = sel.map[ptr(col.table)]
  local c = x and x.c[col.key]
  if c == nil then return col, col.table.name .. "_" .. col.name end
  local t = c.table
  local name = t and t.name
  if name == nil then
    name = #t.primary_key == 0 and "anon_2" or col.table.name .. "_1"
  end
  return c, name .. "_" .. c.name
end

-- whether those keys are selected DISTINCT: unless they are the whole
-- primary key of their selectable (a subquery's is not known: always)
function I.wp_subquery_distinct(keys)
  local tables = {}
  for _, k in ipairs(keys) do
    local t = k.table
    if not t then return true end
    local e = tables[ptr(t)] or {t = t, have = {}}
    tables[ptr(t)] = e
    e.have[ptr(k)] = true
  end
  for _, e in pairs(tables) do
    local pk = e.t.primary_key
    if #pk == 0 then return true end
    for _, c in ipairs(pk) do if not e.have[ptr(c)] then return true end end
  end
  return false
end

-- a path from the objects of a hierarchy (a with_polymorphic's rows)
-- whose relationship is a subclass's runs on the objects of that class
local base_run_path = I.run_path
function I.run_path(s, conn, objs, path, from, plan)
  local step = path[from]
  local pm = step and step.rel ~= "*" and step.rel.parent
  if pm and (pm.inherits or pm.polymorphic_map) then
    local mine
    for k, o in ipairs(objs) do
      local om = mapper_of(o)
      if om ~= pm and not isa(om, pm) then
        if not mine then mine = table.move(objs, 1, k - 1, 1, {}) end
      elseif mine then
        mine[#mine + 1] = o
      end
    end
    objs = mine or objs
  end
  return base_run_path(s, conn, objs, path, from, plan)
end

-- the columns of a relationship's target in an aliased with_polymorphic
-- (join(Company.employees:of_type(wp)), join(wp, Company.employees))
local wp_col_of = I.col_of
function I.col_of(sel, col)
  local info = type(sel) == "table" and rawget(sel, "__with_polymorphic__")
  if info and info.map then return wp_col(info, col) end
  return wp_col_of(sel, col)
end

-- joinedload(Company.employees:of_type(wp)) of an aliased wp: the
-- parts of_type_join (orm/eager.lua) joins and loads from, over wp's
-- own selectable
function I.wp_of_type_join(tm, info)
  local sel = {map = {}, list = {}, main = info.from}
  local cols, pos, attrpos = {}, {}, {}
  for q, col in ipairs(info.cols) do
    local t = col.table
    if not sel.map[ptr(t)] then
      -- (the table's columns by key, as the selectable's)
      sel.map[ptr(t)] = {c = setmetatable({}, {__index = function(_, key)
        local c = t.c[key]
        return c and info.map[ptr(c)]
      end})}
    end
    cols[q] = info.map[ptr(col)]
    pos[ptr(col)] = q
  end
  for a = 1, tm.nattrs do
    local col = tm.attr_cols and tm.attr_cols[a] and tm.attr_cols[a][1] or
                tm.attr_columns[a]
    attrpos[a] = col and pos[ptr(col)] or 0
  end
  return {sq = info.from, sel = sel, cols = cols, pos = pos,
          attrpos = attrpos, from = info.from, tcols = info.cols}
end

-- orm.with_polymorphic(Employee, {Engineer, Manager} | "*", opts): an
-- entity selecting the base's rows with those subclasses' tables outer
-- joined, so each object loads complete.  Plain, wp.Engineer is Engineer
-- (its columns are the tables' own, as SQLAlchemy's non-aliased form
-- renders them); with opts.aliased or opts.flat the join is anonymous
-- (see alias_wp) and wp.name, wp.Engineer.engineer_name are its columns.
function orm.with_polymorphic(base, classes, opts)
  local m = type(base) == "table" and rawget(base, "__mapper__")
  if not m then raise("ArgumentError", "with_polymorphic: a mapped class") end
  if opts ~= nil and type(opts) ~= "table" then
    raise("ArgumentError", "with_polymorphic: options must be a table")
  end
  opts = opts or {}
  if opts.selectable and opts.flat then
    raise("ArgumentError", "the 'flat' and 'selectable' arguments cannot " ..
          "be passed simultaneously to with_polymorphic()")
  end
  -- (a custom discriminator is not there yet: refused rather than
  -- ignored)
  if opts.polymorphic_on then
    raise("ArgumentError", "with_polymorphic: polymorphic_on is not " ..
          "supported")
  end
  I.configure()
  local subs = wp_mappers(m, classes)
  local info = {mapper = m, subs = subs}
  local wp = {__with_polymorphic__ = info, __inheritance__ = true}
  if opts.aliased or opts.flat or opts.selectable then
    if opts.selectable then selectable_wp(info, opts.selectable)
    else alias_wp(info, opts.flat) end
    wp.__clause_element__ = info.from
    for _, sub in ipairs(subs) do
      wp[sub.class.__name__] = setmetatable({__sub = sub, __info = info},
                                            WpSub)
    end
    return setmetatable(wp, {__name = "retort.with_polymorphic",
      __index = function(self, k)
        local col = m.colattrs[k]
        if col ~= nil then return wp_col(info, col) end
        if k == "c" then return info.from.c end
        local r = m.relationships[k]
        if r then return wp_rel(info, self, r) end
        return base[k]
      end,
      __tostring = function()
        return "with_polymorphic(" .. m.class.__name__ .. ")"
      end})
  end
  -- (column attributes marked with the entity: selected without it, they
  -- bring its outer joins, as SQLAlchemy's do; anything else is the
  -- class's own)
  local attrs = {}
  local function wp_attr(mm, k)
    local key = mm.class.__name__ .. "." .. k
    local a = attrs[key]
    if a == nil then
      a = C.attribute(C.annotate(mm.colattrs[k], wp), key)
      attrs[key] = a
    end
    return a
  end
  for _, sub in ipairs(subs) do
    wp[sub.class.__name__] = setmetatable({}, {
      __name = "retort.with_polymorphic_class",
      __index = function(_, k)
        if sub.colattrs[k] ~= nil then return wp_attr(sub, k) end
        return sub.class[k]
      end,
      __tostring = function() return tostring(sub.class) end})
  end
  return setmetatable(wp, {__name = "retort.with_polymorphic",
    __index = function(_, k)
      if m.colattrs[k] ~= nil then return wp_attr(m, k) end
      return base[k]
    end,
    __tostring = function()
      return "with_polymorphic(" .. m.class.__name__ .. ")"
    end})
end

-- for the other files of the ORM
I.inh = {new_entity = new_entity, setup_root = setup_root,
         build_part = build_part, load_entity = load_entity, isa = isa,
         self_and_descendants = self_and_descendants, roots = roots,
         set_identity_on_init = set_identity_on_init, stmt_ents = stmt_ents,
         core_select = core_select, copy = copy}

------------------------------------------------------------------------
-- imperative mapping and the legacy Query
------------------------------------------------------------------------

-- registry:map_imperatively(cls, table, {inherits = Parent,
-- polymorphic_on = col, polymorphic_identity = v, with_polymorphic,
-- concrete, properties}): the classical form of the seed's examples
local Registry = getmetatable(orm.registry()).__index
local map_imperatively = Registry.map_imperatively
function Registry:map_imperatively(cls, tbl, opts)
  opts = opts or {}
  local margs = {polymorphic_on = opts.polymorphic_on,
                 polymorphic_identity = opts.polymorphic_identity,
                 with_polymorphic = opts.with_polymorphic,
                 concrete = opts.concrete}
  local parent = opts.inherits
  if parent == nil then
    local m = map_imperatively(self, cls, tbl, opts)
    I.polymorphic_base(m, margs)
    return m
  end
  local pm = getmetatable(parent) == Mapper and parent or
             type(parent) == "table" and rawget(parent, "__mapper__")
  if not pm then
    raise("ArgumentError", "map_imperatively: inherits must be a mapped " ..
          "class or its Mapper")
  end
  if tbl ~= nil and C.node_kind(tbl) ~= "table" then
    raise("ArgumentError", "map_imperatively: argument #2 must be a Table")
  end
  local mt = getmetatable(cls) or {}
  mt.__index = mt.__index or pm.class
  mt.__tostring = mt.__tostring or function(c)
    return "<class '" .. tostring(rawget(c, "__name__")) .. "'>"
  end
  mt.__name = "retort.MappedClass"
  setmetatable(cls, mt)
  if rawget(cls, "__name__") == nil then rawset(cls, "__name__", "?") end
  local rels = {}
  for k, v in pairs(opts.properties or {}) do
    if type(v) == "table" and rawget(v, "__kind") == "relationship" then
      rels[k] = v
    end
  end
  local base = {__mapper__ = pm, registry = self}
  I.inherit_class(base, cls, {__mapper_args__ = margs}, {}, rels, tbl, {})
  return rawget(cls, "__mapper__")
end

-- session:query(Employee):with_polymorphic({Engineer, Manager} | "*"):
-- the query of orm.with_polymorphic(Employee, ...), before any criterion
function I.Query.with_polymorphic(q, spec)
  if not q._fresh then
    raise("InvalidRequestError", "Query.with_polymorphic() being called " ..
          "on a Query with existing criterion. ")
  end
  return q.session:query(orm.with_polymorphic(q.entity, spec))
end

------------------------------------------------------------------------
-- joins to a single-table subclass
------------------------------------------------------------------------

-- the discriminator criterion of a join target that is a single-table
-- subclass or an aliased() one, and the selectable its columns are on
-- (the alias; nil for the class's own table)
local function single_target(x)
  if type(x) ~= "table" then return nil end
  if getmetatable(x) == I.AliasedClass then
    local ae = I.alias_entry(x)
    if not ae.single then return nil end
    return single_criterion(ae.mapper, ae.alias), x, ae.mapper
  end
  local m = rawget(x, "__mapper__")
  if not m then return nil end
  local crit = single_criterion(m)
  if crit then return crit, nil, m end
  return nil
end

-- join(Boss) without an ON clause: the foreign keys between the
-- subclass's table and a table the statement selects (as SQLAlchemy's
-- join condition: the referenced column first)
local function fk_on(stmt, m, tsel)
  local tt = m.local_table
  local function col(c) return tsel and I.col_of(tsel, c) or c end
  for _, it in ipairs(C.select_items(stmt) or {}) do
    -- (a table, or the table of a column)
    local lt = it[4]
    if C.node_kind(lt) == "column" then lt = lt.table end
    if C.node_kind(lt) == "table" and ptr(lt) ~= ptr(tt) then
      local on
      for _, fk in ipairs(tt.foreign_keys) do
        local tn, cn = string.match(fk.target_fullname, "^(.*)%.([^.]+)$")
        if tn == lt.name then
          local cond = lt.c[cn]:eq(col(fk.parent))
          on = on and sa.and_(on, cond) or cond
        end
      end
      if on then return on end
      for _, fk in ipairs(lt.foreign_keys) do
        local tn, cn = string.match(fk.target_fullname, "^(.*)%.([^.]+)$")
        if tn == tt.name then
          local cond = col(tt.c[cn]):eq(fk.parent)
          on = on and sa.and_(on, cond) or cond
        end
      end
      if on then return on end
    end
  end
  return nil
end

-- join(Boss, ...), join(aliased(Boss), ...), join(Firm.staff:of_type(b)):
-- the subclass's discriminator values go in the ON clause, as SQLAlchemy
-- puts them
local function single_join(f)
  return function(stmt, target, on, ...)
    local x, rel = target, nil
    if getmetatable(target) == I.OfType then
      x, rel = target.target, target.rel
    end
    local crit, tsel, m = single_target(x)
    if not crit then return f(stmt, target, on, ...) end
    if rel == nil and getmetatable(on) == I.Rel then rel = on end
    local cond
    if rel then
      if rel.secondary or rel.extra then return f(stmt, target, on, ...) end
      cond = I.rel_on(rel, tsel)
    elseif on == nil then
      cond = fk_on(stmt, m, tsel)
    elseif C.node_kind(on) then
      cond = on
    end
    if not cond then return f(stmt, target, on, ...) end
    if rel and getmetatable(target) ~= I.OfType then
      return f(stmt, x, sa.and_(cond, crit), ...)
    end
    if getmetatable(target) == I.OfType then
      return f(stmt, x, sa.and_(cond, crit), on, ...)
    end
    return f(stmt, x, sa.and_(cond, crit), ...)
  end
end
-- (a join of expressions alone, no Lua table among the target and the ON
-- clause, has no subclass to look at: straight to the C method, as the
-- wrappers of aliased.lua do)
for _, name in ipairs({"join", "outerjoin"}) do
  local plain, slow = I.plain_methods[name], single_join(node_methods[name])
  node_methods[name] = plain and C.carry(plain, slow) or slow
end

------------------------------------------------------------------------
-- of_type() in loader options
------------------------------------------------------------------------

-- The columns and FROM of mapper m's rows with subclass sub's tables
-- outer joined (selectinload(Company.employees:of_type(Engineer))), as
-- with_polymorphic(m, {sub}) selects them; nil when sub adds no table.
function I.of_type_entity(m, sub)
  -- (sub: a subclass, or the list of a with_polymorphic())
  local subs = sub.class and {sub} or sub
  local more = false
  for _, x in ipairs(subs) do
    if m.inh_tables and x.inh_tables and #x.inh_tables > #m.inh_tables then more = true end
  end
  if not more then return nil end
  local e = entity_of(m, subs)
  return e.cols, e.from
end

-- rows into objects of m's hierarchy, each of its row's class: pos maps
-- the original columns (by node address) to their row positions
function I.load_positions(s, m, rows, pos, out)
  local e = new_entity(m)
  e.at = pos
  load_entity(e, s, rows, 1, #rows, false, out, #out, true)
  return out
end
