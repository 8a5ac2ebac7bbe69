-- orm/decl_api.lua -- declarative mapping: declarative_base, registry,
-- Base:class (class building from a body and mixins), declared_attr,
-- map_imperatively.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local hooks = I.hooks
local lselect = I.lselect
local make_mapper = I.make_mapper
local raise = I.raise

-- class tables
local ClassMT = {}

local function class_call(cls, args)
  raise("InvalidRequestError", "Class '" .. tostring(cls.__name__) ..
        "' is abstract or not mapped")
end

-- keys of a constructor's table that are not column attributes
local function construct_others(obj, others, args)
  local cls = C.class(obj)
  local m = rawget(cls, "__mapper__")
  hooks.configure()
  table.sort(others, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(others) do
    if not (m.relationships[k] or rawget(cls, k) ~= nil or
            (m.descriptors and m.descriptors[k]) or
            (m.ext_descriptors and m.ext_descriptors[k])) then
      raise("ArgumentError", string.format(
        "'%s' is an invalid keyword argument for %s", tostring(k),
        cls.__name__))
    end
    local v = args[k]
    if rawequal(v, sa.null) then v = nil end
    obj[k] = v
  end
end

I.construct_others = construct_others -- for orm/events.lua

local function declared_attr(fn)
  return setmetatable({fn = fn}, {__name = "retort.declared_attr"})
end

local function is_declared(v)
  return type(v) == "table" and getmetatable(v) and
         getmetatable(v).__name == "retort.declared_attr"
end

local function is_column(v)
  return C.node_kind(v) == "column" and not lselect(2, C.column_info(v))
end

local function is_relationship(v)
  return type(v) == "table" and rawget(v, "__kind") == "relationship"
end

local directives = {__tablename__ = true, __table__ = true,
                    __table_args__ = true, __mapper_args__ = true,
                    __abstract__ = true}

-- Build class `name` with body `body` on `base` (Base or a mapped class),
-- taking attributes from mixins first.
-- with __table__ a class body adds no columns (a mixin's column the
-- table already has is that column), as SQLAlchemy's declarative
local function check_table_columns(tbl, columns, copies)
  local names, copied = {}, {}
  for _, c in ipairs(tbl.c) do names[c.name] = true end
  for _, copy in pairs(copies) do copied[copy] = true end
  for _, c in ipairs(columns) do
    if not (copied[c.col] and names[c.col.name or c.key]) then
      raise("ArgumentError", "Can't add additional column '" ..
            tostring(c.key) .. "' when specifying __table__")
    end
  end
end

local function build_class(base, name, mixins, body)
  local cls = {__name__ = name}
  local fields = {}   -- attribute -> value (columns, relationships, values)
  local copies = {}   -- a mixin's Column -> this class's copy of it
  local function take(src, from_mixin, skip)
    for k, v in pairs(src) do
      if k == skip then
        -- not inherited
      elseif is_declared(v) then
        fields[k] = {declared = v}
      elseif from_mixin and is_column(v) then
        fields[k] = {column = C.copy_column(v)}
        copies[v] = fields[k].column
      else
        fields[k] = {value = v}
      end
    end
  end
  -- an AbstractConcreteBase's body is a mixin of its subclasses
  local acb = rawget(base, "__concrete_body__")
  if acb then take(acb, true) end
  -- an __abstract__ class is a mixin of the classes declared from it: its
  -- columns are copied, its declared attributes and directives apply to
  -- each (only __abstract__ itself is not inherited), as in SQLAlchemy
  local srcs = {}
  for _, src in ipairs(rawget(base, "__abstract_srcs__") or {}) do
    srcs[#srcs + 1] = src
    take(src, true, "__abstract__")
  end
  for _, mx in ipairs(mixins) do srcs[#srcs + 1] = mx; take(mx, true) end
  take(body, false)
  setmetatable(cls, {__index = base, __call = class_call,
                     __tostring = function(c) return "<class '" ..
                       c.__name__ .. "'>" end,
                     __name = "retort.MappedClass"})
  -- resolve declared attributes with the class, which has the columns
  -- already (a declared column_property is built from them)
  for k, f in pairs(fields) do
    local col = f.column or (is_column(f.value) and f.value)
    if col then rawset(cls, k, col) end
  end
  local resolved = {}
  -- the table name first: other declared attributes may read
  -- cls.__tablename__, as Python's class attributes allow
  local tn = fields.__tablename__
  if tn then
    if tn.declared then resolved.__tablename__ = tn.declared.fn(cls)
    else resolved.__tablename__ = tn.value end
    rawset(cls, "__tablename__", resolved.__tablename__)
  end
  for k, f in pairs(fields) do
    local v
    if k == "__tablename__" then v = resolved[k]
    elseif f.declared then v = f.declared.fn(cls)
    elseif f.column then v = f.column
    else v = f.value end
    resolved[k] = v
  end
  -- __mapper_args__ naming a mixin's Column means this class's copy of
  -- it, as SQLAlchemy's declarative maps them
  local margs0 = resolved.__mapper_args__
  if type(margs0) == "table" and next(copies) ~= nil then
    local margs = {}
    for k, v in pairs(margs0) do margs[k] = v end
    for _, k in ipairs{"version_id_col", "polymorphic_on"} do
      if margs[k] ~= nil and copies[margs[k]] then
        margs[k] = copies[margs[k]]
      end
    end
    resolved.__mapper_args__ = margs
  end
  local abstract = resolved.__abstract__
  if resolved.__concrete_base__ == "abstract" then
    return I.abstract_concrete_class(base, cls, fields, resolved)
  end
  local columns, rels, props, descs = {}, {}, {}, {}
  for k, v in pairs(resolved) do
    if directives[k] then
      -- kept below
    elseif is_column(v) then
      columns[#columns + 1] = {key = k, col = v}
    elseif is_relationship(v) then
      rels[k] = v
    elseif I.is_property(v) then
      props[k] = v -- column_property, deferred, synonym, ... (properties.lua)
    elseif resolved.__table__ ~= nil and C.node_kind(v) == "column" and
           v.key ~= k and C.node_ptr(v.table) ==
           C.node_ptr(resolved.__table__) then
      -- `name = t.c.user_name` with __table__: that column under this name
      props[k] = orm.column_property(v)
    elseif I.is_descriptor(v) then
      descs[k] = v -- hybrid_property, association_proxy
    else
      rawset(cls, k, v)
    end
  end
  if abstract then
    for _, c in ipairs(columns) do rawset(cls, c.key, c.col) end
    for k, d in pairs(descs) do rawset(cls, k, d) end
    rawset(cls, "__abstract__", true)
    srcs[#srcs + 1] = body
    rawset(cls, "__abstract_srcs__", srcs)
    return cls
  end
  local reg = base.registry
  local tbl = resolved.__table__
  local attr_keys = {}
  -- a class declared from a mapped class inherits its mapping
  local inherits = rawget(base, "__mapper__")
  if tbl == nil then
    local tname = resolved.__tablename__
    if tname == nil and inherits then
      cls = I.inherit_class(base, cls, resolved, columns, rels)
      I.inherit_properties(cls, props)
      I.install_descriptors(cls, rawget(cls, "__mapper__"), descs)
      return cls
    end
    if tname == nil then
      raise("InvalidRequestError", "Class <class '" .. name .. "'> does " ..
            "not have a " ..
            "__table__ or __tablename__ specified and does not inherit " ..
            "from an existing table-mapped class.")
    end
    for _, c in ipairs(I.property_columns(props, columns)) do
      columns[#columns + 1] = c
    end
    table.sort(columns, function(a, b)
      return C.column_order(a.col) < C.column_order(b.col)
    end)
    local args = {tname, reg.metadata}
    for _, c in ipairs(columns) do
      local colname = C.name_column(c.col, c.key)
      local ckey = c.col.key or colname
      attr_keys[ckey] = c.key
      args[#args + 1] = c.col
      -- a column mapped under another name is a declared property (as in
      -- SQLAlchemy): it comes first in the mapper's order, with the
      -- properties, by when it was made
      if ckey ~= c.key and not props[c.key] then
        props[c.key] = orm.column_property(c.col)
      end
    end
    local targs = resolved.__table_args__
    if type(targs) == "table" then
      local n = #targs
      for i = 1, n do args[#args + 1] = targs[i] end
      local opts
      for k, v in pairs(targs) do
        if math.type(k) ~= "integer" then opts = opts or {}; opts[k] = v end
      end
      if opts then args[#args + 1] = opts end
    end
    tbl = sa.Table(table.unpack(args))
  else
    check_table_columns(tbl, columns, copies)
  end
  if inherits then
    cls = I.inherit_class(base, cls, resolved, columns, rels, tbl, attr_keys)
    I.inherit_properties(cls, props)
    I.install_descriptors(cls, rawget(cls, "__mapper__"), descs)
    return cls
  end
  rawset(cls, "__table__", tbl)
  rawset(cls, "__clause_element__", tbl)
  rawset(cls, "__tablename__", tbl.name)
  local margs = resolved.__mapper_args__ or {}
  local m = make_mapper(cls, tbl, attr_keys, rels, margs.primary_key,
                           margs)
  m.registry = reg
  rawset(cls, "__mapper__", m)
  reg.classes[name] = cls
  hooks.announce_backrefs(m)
  I.setup_properties(m, props, margs)
  getmetatable(cls).__call = m.constructor or
    C.constructor(m.mt, m.nattrs, m.slots, construct_others)
  I.install_colattrs(cls, m)
  I.install_descriptors(cls, m, descs)
  if resolved.__tostring then rawset(cls, "__tostring", resolved.__tostring) end
  reg.mappers[#reg.mappers + 1] = m
  I.polymorphic_base(m, margs)
  -- (a column or property assigned to the class later is mapped too:
  -- properties.lua)
  getmetatable(cls).__newindex = function(c, k, v)
    return I.late_attribute(c, k, v)
  end
  return cls
end

local function class_method(base, name, ...)
  local mixins = {...}
  if type(name) ~= "string" then
    raise("ArgumentError", "class(): the class name must be a string")
  end
  return function(body)
    if type(body) ~= "table" then
      raise("ArgumentError", "class \"" .. name .. "\": the body must be a table")
    end
    return build_class(base, name, mixins, body)
  end
end

local Registry = {}
Registry.__index = Registry

function orm.registry(opts)
  opts = opts or {}
  local reg = setmetatable({metadata = opts.metadata or sa.MetaData(),
                            mappers = {}, classes = {}, backrefs = {}},
                           Registry)
  I.registry_created(reg)
  return reg
end

function Registry:configure() I.configure_registry(self) end

-- map_imperatively(cls, table, {properties}): a plain Lua table becomes a
-- mapped class of `table` (its fields stay methods and class attributes)
local function table_has_column(tbl, col)
  local p = C.node_ptr(col)
  for _, c in ipairs(tbl.c) do
    if C.node_ptr(c) == p then return true end
  end
  return false
end

function Registry:map_imperatively(cls, tbl, opts)
  opts = opts or {}
  if C.node_kind(tbl) ~= "table" then
    raise("ArgumentError", "map_imperatively: argument #2 must be a Table")
  end
  local mt = getmetatable(cls) or {}
  mt.__tostring = mt.__tostring or function(c)
    return "<class '" .. tostring(rawget(c, "__name__")) .. "'>"
  end
  mt.__name = "retort.MappedClass"
  setmetatable(cls, mt)
  if rawget(cls, "__name__") == nil then rawset(cls, "__name__", "?") end
  local rels, props = {}, {}
  for k, v in pairs(opts.properties or {}) do
    if is_relationship(v) then rels[k] = v
    elseif I.is_property(v) then props[k] = v
    elseif C.node_kind(v) ~= nil then
      -- a column of the table mapped under this key; any other
      -- expression needs column_property(), as in SQLAlchemy
      if not table_has_column(tbl, v) then
        raise("ArgumentError", string.format(
          "When configuring property '%s' on mapped class %s->%s, column " ..
          "'%s' is not represented in the mapper's table. Use the " ..
          "`column_property()` function to force this column to be " ..
          "mapped as a read-only attribute.", tostring(k),
          tostring(rawget(cls, "__name__")), tostring(tbl.name),
          tostring(v)))
      end
      props[k] = orm.column_property(v)
    else
      raise("ArgumentError", string.format(
        "map_imperatively: property '%s' must be a Column, relationship " ..
        "or mapper property, got %s", tostring(k), type(v)))
    end
  end
  rawset(cls, "__table__", tbl)
  rawset(cls, "__clause_element__", tbl)
  local m = make_mapper(cls, tbl, {}, rels, opts.primary_key, opts)
  m.registry = self
  rawset(cls, "__mapper__", m)
  self.classes[rawget(cls, "__name__")] = cls
  hooks.announce_backrefs(m)
  I.setup_properties(m, props, opts)
  I.install_colattrs(cls, m)
  mt.__call = m.constructor or
    C.constructor(m.mt, m.nattrs, m.slots, construct_others)
  self.mappers[#self.mappers + 1] = m
  return m
end

function orm.declarative_base(opts)
  opts = opts or {}
  local reg = opts.registry or orm.registry(opts)
  local Base = {metadata = reg.metadata, registry = reg, __abstract__ = true,
                class = class_method}
  -- declarative_base{cls = Common}: Common is a mixin of every class
  -- declared from Base (columns copied, declared attributes per class)
  if opts.cls ~= nil then
    if type(opts.cls) ~= "table" then
      raise("ArgumentError", "declarative_base: cls must be a table")
    end
    Base.__abstract_srcs__ = {opts.cls}
  end
  return Base
end

-- registry:generate_base(): a declarative base of this registry
function Registry:generate_base()
  return orm.declarative_base{registry = self}
end

function orm.declared_attr(fn) return declared_attr(fn) end
orm.mapped_column = sa.Column

-- for the other files of the ORM
I.construct_others = construct_others
I.is_column = is_column
I.is_relationship = is_relationship
