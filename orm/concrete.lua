-- orm/concrete.lua -- concrete table inheritance: each class has a table
-- of its own with all its columns, nothing is shared; a polymorphic
-- select reads the UNION ALL of the tables (polymorphic_union, with a
-- virtual discriminator column per SELECT).  orm.ConcreteBase maps the
-- base to its own table as well; orm.AbstractConcreteBase leaves the base
-- unmapped (its body is a mixin of its subclasses) until the mappers are
-- configured, then maps it to the union of its subclasses' tables
-- (strict_attrs: with only the attributes declared on the base itself).
-- A concrete class keeps an identity map of its own, as SQLAlchemy's
-- does, and its rows load by column name from the union.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Mapper = I.Mapper
local construct_others = I.construct_others
local hooks = I.hooks
local inh = I.inh
local is_column = I.is_column
local make_mapper = I.make_mapper
local raise = I.raise

local ptr = C.node_ptr

------------------------------------------------------------------------
-- polymorphic_union
------------------------------------------------------------------------

local function quote_literal(v)
  if math.type(v) then return tostring(v) end
  return "'" .. string.gsub(tostring(v), "'", "''") .. "'"
end

-- the union of the tables of `list` ({{identity, table}...}, in order):
-- every column name of any table, NULL cast to the column's type where a
-- table lacks it, and the identity as column `typecol`
local function polymorphic_union(list, typecol, alias, cast_nulls)
  local names, seen, maps, types = {}, {}, {}, {}
  for k, p in ipairs(list) do
    local m = {}
    maps[k] = m
    for _, c in ipairs(p[2].c) do
      if typecol and c.key == typecol then
        raise("InvalidRequestError", string.format(
          "Polymorphic union can't use '%s' as the discriminator column " ..
          "due to mapped column %s; please apply the 'typecolname' " ..
          "argument; this is available on ConcreteBase as " ..
          "'_concrete_discriminator_name'", typecol, tostring(c)))
      end
      m[c.key], types[c.key] = c, c.type
      if not seen[c.key] then
        seen[c.key] = true
        names[#names + 1] = c.key
      end
    end
  end
  local selects = {}
  for k, p in ipairs(list) do
    local cols = {}
    for i, name in ipairs(names) do
      local c = maps[k][name]
      if c then
        cols[i] = c:label(name)
      elseif cast_nulls == false then
        cols[i] = sa.null():label(name)
      else
        cols[i] = sa.cast(sa.null(), types[name]):label(name)
      end
    end
    if typecol then
      cols[#cols + 1] = sa.literal_column(quote_literal(p[1])):label(typecol)
    end
    selects[k] = inh.core_select(table.unpack(cols)):select_from(p[2])
  end
  local u = selects[1]
  if #selects > 1 then u = sa.union_all(table.unpack(selects)) end
  return u:subquery(alias or "p_union")
end

-- orm.polymorphic_union(table_map, typecolname [, aliasname, cast_nulls]):
-- table_map a list of {identity, table} pairs (their order kept) or a
-- map (in key order)
function orm.polymorphic_union(map, typecol, alias, cast_nulls)
  local list = {}
  if map[1] then
    list = map
  else
    for k, t in pairs(map) do list[#list + 1] = {k, t} end
    table.sort(list, function(a, b) return tostring(a[1]) < tostring(b[1]) end)
  end
  return polymorphic_union(list, typecol, alias or "p_union", cast_nulls)
end

------------------------------------------------------------------------
-- selects of a concrete hierarchy
------------------------------------------------------------------------

local function discriminator_of(m)
  while m.inherits do m = m.inherits end
  return m.discriminator_name or "type"
end

-- the union of m's table and its subclasses' (cached while they are the
-- same classes)
local function union_of(m)
  if rawget(m, "poly_selectable") then return m.poly_selectable end
  local list = inh.self_and_descendants(m)
  local c = rawget(m, "_union")
  if c and c.n == #list then return c.sel end
  local pairs_ = {}
  for _, x in ipairs(list) do
    if x.polymorphic_identity ~= nil and not x.abstract_concrete then
      pairs_[#pairs_ + 1] = {x.polymorphic_identity, x.local_table}
    end
  end
  local sel = polymorphic_union(pairs_, discriminator_of(m), "pjoin")
  m._union = {n = #list, sel = sel}
  return sel
end

-- select(Employee) of a concrete hierarchy: the union's columns for m's
-- attributes, the discriminator, then its subclasses' other columns
local function concrete_entity(m)
  local pj = m.abstract_concrete and m.local_table or union_of(m)
  local e = inh.new_entity(m)
  e.at_name = {}
  local function add(name)
    local col = pj.c[name]
    if col == nil or e.at_name[name] then return end
    e.cols[#e.cols + 1] = col
    e.at_name[name] = #e.cols
    e.at[ptr(col)] = #e.cols
  end
  for i = 1, m.nattrs do add(m.colkeys[i]) end
  local d = discriminator_of(m)
  add(d)
  e.dpos = e.at_name[d]
  if not m.abstract_concrete then
    for _, x in ipairs(inh.self_and_descendants(m)) do
      for i = 1, x.nattrs do add(x.colkeys[i]) end
    end
  end
  return e
end

------------------------------------------------------------------------
-- concrete subclasses and ConcreteBase
------------------------------------------------------------------------

-- A concrete class's column attributes are those of its union (as
-- SQLAlchemy adapts them to the polymorphic selectable), looked up when
-- used since the union grows with the subclasses.
local function union_attributes(cls, m)
  rawset(cls, "__inheritance__", true) -- selects of it: see inheritance.lua
  for key in pairs(m.colattrs) do rawset(cls, key, nil) end
  local mt = getmetatable(cls)
  local parent = mt.__index
  mt.__index = function(c, k)
    local col = m.colattrs[k]
    if col ~= nil and type(k) == "string" then
      local ok, u = pcall(function() return union_of(m).c[col.key] end)
      if ok and u ~= nil then return u end
    end
    if parent == nil then return nil end
    return parent[k]
  end
end

local function finish_class(cls, m, reg, resolved)
  m.registry = reg
  rawset(cls, "__table__", m.local_table)
  rawset(cls, "__clause_element__", m.local_table)
  rawset(cls, "__tablename__", m.local_table.name)
  rawset(cls, "__mapper__", m)
  reg.classes[cls.__name__] = cls
  hooks.announce_backrefs(m)
  getmetatable(cls).__call = C.constructor(m.mt, m.nattrs, m.slots,
                                           construct_others)
  I.install_colattrs(cls, m)
  if resolved.__tostring then rawset(cls, "__tostring", resolved.__tostring) end
  reg.mappers[#reg.mappers + 1] = m
end

-- Child = Parent:class "Child" {..., __mapper_args__ = {concrete = true}}
-- (see inheritance.lua): a mapper of its own table that inherits nothing
function I.concrete_class(base, parent, cls, resolved, rels, tbl, attr_keys)
  local margs = resolved.__mapper_args__ or {}
  local m = make_mapper(cls, tbl, attr_keys, rels)
  m.inherits, m.concrete, m.subclasses = parent, true, {}
  parent.subclasses = parent.subclasses or {}
  parent.subclasses[#parent.subclasses + 1] = m
  local root = parent
  while root.inherits do root = root.inherits end
  root.polymorphic_map = root.polymorphic_map or {}
  m.polymorphic_map = root.polymorphic_map
  local ident = margs.polymorphic_identity
  if ident ~= nil then
    m.polymorphic_identity = ident
    root.polymorphic_map[ident] = m
  end
  finish_class(cls, m, base.registry, resolved)
  if root.flush_members then
    -- written in the root's flush, after the tables before it
    m.flush_root = root
    m.attr_cols = {}
    for i, col in ipairs(m.attr_columns) do m.attr_cols[i] = {col} end
    m.parts = {[ptr(tbl)] = inh.build_part(m, tbl)}
    root.all_tables[#root.all_tables + 1] = tbl
    root.flush_members[#root.flush_members + 1] = m
  end
  if root.concrete_base then
    m.concrete_entity = concrete_entity
    union_attributes(cls, m)
  end
  return cls
end

-- the subclasses of an AbstractConcreteBase waiting for configure()
local pending = {}

-- A class mapped to its own table: the root of a ConcreteBase hierarchy,
-- or a subclass of an AbstractConcreteBase.  True when handled here.
function I.concrete_root(m, margs)
  local cls = m.class
  local parent = getmetatable(cls).__index
  local acb = type(parent) == "table" and rawget(parent, "__acb__")
  if acb then
    m.concrete, m.subclasses = true, {}
    m.polymorphic_identity = margs.polymorphic_identity
    acb.subs[#acb.subs + 1] = m
    I.abstract_waiting()
    return true
  end
  if rawget(cls, "__concrete_base__") ~= "concrete" then return false end
  inh.setup_root(m)
  m.discriminator_name = rawget(cls, "_concrete_discriminator_name") or "type"
  m.concrete_entity, m.concrete_base = concrete_entity, true
  local ident = margs.polymorphic_identity
  if ident ~= nil then
    m.polymorphic_identity = ident
    m.polymorphic_map[ident] = m
  end
  union_attributes(cls, m)
  return true
end

-- map_imperatively(Employee, employees, {with_polymorphic = {"*", pjoin},
-- polymorphic_on = pjoin.c.type, ...}): the classical concrete mapping,
-- the base's rows and its subclasses' from the union given
function I.polymorphic_selectable(m, margs)
  inh.setup_root(m)
  local on = margs.polymorphic_on
  if on == nil then
    raise("ArgumentError", "with_polymorphic with a selectable needs " ..
          "polymorphic_on")
  end
  m.poly_selectable = margs.with_polymorphic[2]
  m.discriminator_name = type(on) == "string" and on or on.key
  m.concrete_entity = concrete_entity
  local ident = margs.polymorphic_identity
  if ident ~= nil then
    m.polymorphic_identity = ident
    m.polymorphic_map[ident] = m
  end
  union_attributes(m.class, m)
end

------------------------------------------------------------------------
-- AbstractConcreteBase
------------------------------------------------------------------------

-- Employee = Base:class("Employee", orm.AbstractConcreteBase) {...}: not
-- mapped now; its body is copied into each subclass (see decl_api.lua)
function I.abstract_concrete_class(base, cls, fields, resolved)
  local body = {}
  for k, f in pairs(fields) do
    if k ~= "__concrete_base__" and k ~= "strict_attrs" and
       k ~= "__abstract__" and k ~= "__mapper_args__" then
      body[k] = f.declared or f.column or f.value
    end
  end
  for k, v in pairs(resolved) do
    if type(v) == "function" then rawset(cls, k, v) end
  end
  rawset(cls, "__concrete_body__", body)
  rawset(cls, "__inheritance__", true)
  local acb = {cls = cls, base = base, subs = {}, fields = fields,
               strict = resolved.strict_attrs and true or false,
               registry = base.registry}
  rawset(cls, "__acb__", acb)
  pending[#pending + 1] = acb
  return cls
end

-- the relationship of the base (over the union) gets its join condition
-- from the foreign keys of the subclasses' tables
local function union_rel(acb, pj, spec)
  local opts = inh.copy(spec.options)
  if opts.primaryjoin then return {argument = spec.argument, options = opts} end
  local arg = spec.argument
  if type(arg) == "function" then arg = arg() end
  local target = type(arg) == "string" and acb.registry.classes[arg] or arg
  local tt = type(target) == "table" and rawget(target, "__table__")
  if tt then
    local names = {}
    for _, c in ipairs(pj.c) do names[c.key] = true end
    for _, sub in ipairs(acb.subs) do
      for _, fk in ipairs(sub.local_table.foreign_keys) do
        local tname, cname = string.match(fk.target_fullname,
                                          "^(.*)%.([^.]+)$")
        local col = names[fk.parent.key] and pj.c[fk.parent.key]
        if tname == tt.name and col and not opts.primaryjoin then
          opts.primaryjoin = tt.c[cname]:eq(col)
          opts.foreign_keys = {col}
        end
      end
    end
  end
  return {argument = spec.argument, options = opts}
end

local function map_abstract(acb)
  local cls = acb.cls
  -- the subclasses as SQLAlchemy collects them: a stack, popped
  local order, stack = {}, inh.copy(acb.subs)
  while #stack > 0 do
    local x = table.remove(stack)
    order[#order + 1] = x
    for _, sub in ipairs(x.subclasses or {}) do stack[#stack + 1] = sub end
  end
  local list = {}
  for _, x in ipairs(order) do
    if x.polymorphic_identity ~= nil then
      list[#list + 1] = {x.polymorphic_identity, x.local_table}
    end
  end
  local pj = polymorphic_union(list, "type", "pjoin")
  -- the attributes: the union's columns (strict_attrs: those declared on
  -- the base, and the discriminator)
  local own, rels = {type = true}, {}
  for k, f in pairs(acb.fields) do
    local v = f.value or f.column
    if f.declared then v = f.declared.fn(cls) end
    if is_column(v) or C.node_kind(v) == "column" then
      own[k] = true
    elseif type(v) == "table" and rawget(v, "__kind") == "relationship" then
      rels[k] = v
    end
  end
  local pkeys = {} -- the primary key: that of the first table
  for _, c in ipairs(order[1].local_table.c) do
    if c.primary_key then pkeys[c.key] = true end
  end
  local m = setmetatable({class = cls, local_table = pj, keys = {}, slots = {},
                          attr_columns = {}, colkeys = {}, colattrs = {},
                          primary_key = {}, pk_index = {}, insert_none = {},
                          relationships = {}, relkeys = {}, ptr = ptr(pj),
                          subclasses = acb.subs, polymorphic_map = {},
                          abstract_concrete = true,
                          discriminator_name = "type"}, Mapper)
  -- (Mapper.tables: the union's tables in its order)
  m.union_tables = {}
  for k, p in ipairs(list) do m.union_tables[k] = p[2] end
  for _, col in ipairs(pj.c) do
    local key = col.key
    if not acb.strict or own[key] then
      local i = #m.keys + 1
      m.keys[i], m.slots[key], m.attr_columns[i], m.colkeys[i] = key, i, col, key
      m.colattrs[key] = col
      if pkeys[key] then
        m.primary_key[#m.primary_key + 1] = col
        m.pk_index[#m.pk_index + 1] = i
      end
    end
  end
  m.nattrs = #m.keys
  m.colpos, m.pk_pos, m.pk_params, m.param_source = {}, {}, {}, {}
  for i = 1, m.nattrs do m.colpos[i] = i end
  for k, i in ipairs(m.pk_index) do
    m.pk_pos[i] = k
    m.pk_params[k] = "pk_" .. m.colkeys[i]
  end
  m.mt = C.metatable(m.slots, hooks, order[1].mt.__tostring, m.relkeys)
  for _, x in ipairs(order) do
    if x.polymorphic_identity ~= nil then
      m.polymorphic_map[x.polymorphic_identity] = x
    end
    x.polymorphic_map = m.polymorphic_map
  end
  for _, x in ipairs(acb.subs) do x.inherits = m end
  m.concrete_entity = concrete_entity
  m.registry = acb.registry
  rawset(cls, "__mapper__", m)
  rawset(cls, "__clause_element__", pj)
  acb.registry.classes[cls.__name__] = cls
  I.install_colattrs(cls, m)
  for key, spec in pairs(rels) do
    hooks.add_relationship(m, key, union_rel(acb, pj, spec))
  end
  acb.registry.mappers[#acb.registry.mappers + 1] = m
end

-- at configure time (see inheritance.lua): map the abstract bases whose
-- subclasses exist
function I.map_abstract_concrete()
  if #pending == 0 then return end
  local todo = pending
  pending = {}
  local again = {}
  for _, acb in ipairs(todo) do
    if #acb.subs > 0 then map_abstract(acb) else again[#again + 1] = acb end
  end
  for _, acb in ipairs(again) do pending[#pending + 1] = acb end
  -- the base's relationships resolve now
  I.configure()
end

------------------------------------------------------------------------
-- has(**kwargs)
------------------------------------------------------------------------

-- rel:has{id = 5}: the target's attributes compared, in key order (as
-- filter_by orders them); also as the trailing keyword table after a
-- criterion, rel:any(cond, {id = 5}) or rel:any(nil, {id = 5}), the
-- keywords after the criterion as SQLAlchemy joins them
local Rel = I.Rel
local any = Rel.any

-- the conditions of a keyword table, in key order
local function kw_conds(self, kw, conds)
  I.configure()
  local keys = {}
  for k in pairs(kw) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local col = self.target.colattrs[k]
    if not col then
      raise("InvalidRequestError", string.format(
        "Entity namespace for \"%s\" has no property \"%s\"",
        tostring(self.target.local_table.name), k))
    end
    conds[#conds + 1] = col:eq(kw[k])
  end
  return conds
end

local function is_kw(t) return type(t) == "table" and not C.node_kind(t) end

function Rel:any(cond, kw)
  if kw ~= nil and not is_kw(kw) then
    raise("ArgumentError", "any()/has(): the keyword criteria must be " ..
          "a table of attribute values")
  end
  if is_kw(cond) then cond, kw = nil, cond end
  if kw == nil then return any(self, cond) end
  local conds = kw_conds(self, kw, {cond})
  if #conds == 0 then return any(self, nil) end
  return any(self, #conds == 1 and conds[1] or sa.and_(table.unpack(conds)))
end
Rel.has = Rel.any

orm.ConcreteBase = {__concrete_base__ = "concrete"}
orm.AbstractConcreteBase = {__concrete_base__ = "abstract"}

------------------------------------------------------------------------
-- get, expire and refresh of the classes of a ConcreteBase hierarchy
------------------------------------------------------------------------

-- SQLAlchemy loads these from their class's union, as select(cls) reads
-- them: get() of the base selects from the union of every table (the
-- row's discriminator gives its class: a subclass's object found in its
-- own identity map), a subclass's from its own union.

local lselect = I.lselect
local mapper_of = I.mapper_of
local objstr = I.objstr

local function union_class(m)
  return m.concrete_entity == concrete_entity and not m.abstract_concrete and
         not rawget(m, "poly_selectable")
end

-- SELECT cols (labelled pjoin_<name> unless plain) of the union of m
-- WHERE its primary key is vals
local function union_select(m, cols, vals, plain)
  local pj = union_of(m)
  local out = {}
  for k, col in ipairs(cols) do
    out[k] = plain and col or col:label(col.table.name .. "_" .. col.name)
  end
  local stmt = inh.core_select(table.unpack(out))
  for k, col in ipairs(m.primary_key) do
    stmt = stmt:where(pj.c[col.key]:eq(vals[k]))
  end
  return stmt
end

local function load_union(s, m, vals, obj, plain)
  local e = concrete_entity(m)
  e.pos, e.width = 1, #e.cols
  local rows = I.run(s, s:connection(), union_select(m, e.cols, vals, plain))
               :all()
  local out = {}
  inh.load_entity(e, s, rows, 1, #rows, obj ~= nil, out, 0)
  return out[1]
end

local base_load_by_pk = I.load_by_pk
function I.load_by_pk(s, m, vals, obj, plain)
  if union_class(m) then return load_union(s, m, vals, obj, plain) end
  return base_load_by_pk(s, m, vals, obj, plain)
end

-- attributes idx of obj selected from its class's union and set (those
-- without a pending change); false when the row is gone
local function load_union_attrs(s, m, obj, idx, plain)
  local pj = union_of(m)
  local cols = {}
  for k, i in ipairs(idx) do cols[k] = pj.c[m.colkeys[i]] end
  local stmt = union_select(m, cols, I.ident_vals(obj, m), plain)
  local row = I.run(s, s:connection(), stmt):first()
  if row == nil then return false end
  local keys = {}
  for k, i in ipairs(idx) do
    if not lselect(2, C.flags(obj, i)) then C.set(obj, i, row[k]) end
    keys[k] = m.keys[i]
  end
  I.refresh_event(obj, keys)
  return true
end

-- an expired attribute: the expired ones load together; a subclass's
-- object wholly expired loads its union's row, discriminator and all
local base_load_expired = hooks.load_expired
function hooks.load_expired(obj, key)
  local m = mapper_of(obj)
  local sid = C.session(obj)
  local s = sid ~= 0 and I.sessions[sid]
  if not union_class(m) or not s or C.lifecycle(obj) ~= "persistent" or
     C.identity(obj) == nil then
    return base_load_expired(obj, key)
  end
  I.autoflush(s)
  local idx = {}
  for i = 1, m.nattrs do
    if not lselect(2, C.get(obj, i)) then idx[#idx + 1] = i end
  end
  local ok
  if #idx == m.nattrs and m.inherits then
    ok = load_union(s, m, I.ident_vals(obj, m), obj) ~= nil
  else
    ok = #idx == 0 or load_union_attrs(s, m, obj, idx)
  end
  if not ok then
    I.deleted_error(obj)
  end
  return (C.get(obj, m.slots[key]))
end

-- refresh(obj [, attrs]): the union's row (every column of select(cls),
-- unlabelled), or just the attributes named
local Session = I.Session
local base_refresh = Session.refresh
function Session:refresh(obj, attrs, ...)
  local m = C.isinstance(obj) and mapper_of(obj)
  if not m or not union_class(m) or C.lifecycle(obj) ~= "persistent" then
    return base_refresh(self, obj, attrs, ...)
  end
  self:expire(obj, attrs)
  I.autoflush(self)
  local ok
  if attrs == nil then
    ok = load_union(self, m, I.ident_vals(obj, m), obj, true) ~= nil
  else
    local want, idx = {}, {}
    for _, k in ipairs(attrs) do
      if m.slots[k] then want[m.slots[k]] = true end
    end
    for i = 1, m.nattrs do if want[i] then idx[#idx + 1] = i end end
    ok = #idx == 0 or load_union_attrs(self, m, obj, idx, true)
  end
  if not ok then
    raise("InvalidRequestError", "Could not refresh instance '" ..
          objstr(obj) .. "'")
  end
end

-- Mapper.selectable of a class of a concrete hierarchy: the polymorphic
-- union it selects from (a class under an abstract base: its own table)
function I.concrete_union(m)
  if m.abstract_concrete then return m.local_table end
  if m.inherits and rawget(m.inherits, "abstract_concrete") then
    return m.local_table
  end
  return union_of(m)
end
