-- automap.lua -- orm.automap_base() and orm.DeferredReflection: mapped
-- classes made from the tables a database reports, as SQLAlchemy's
-- sqlalchemy.ext.automap and DeferredReflection make them.
--
-- Built on the ORM's public surface only (declarative bases, relationship,
-- backref, Table autoload and MetaData:reflect): the last of the ORM's
-- chunks (orm/meson.build lists it), it uses the core module and the orm
-- table of the arguments each chunk gets, not the C primitives nor I.
--
-- A class declared on an automap base (or with the DeferredReflection
-- mixin) cannot be mapped when its body is read: its table is not
-- reflected yet.  Base:class then returns a placeholder class table and
-- keeps the body; prepare() reflects, builds the real class with the
-- ordinary declarative machinery, and moves it into the placeholder (its
-- fields, its metatable, and the mapper's and registry's reference), so
-- the table the user holds is the mapped class.  Classes automap makes
-- for tables nobody declared go the same way, which lets naming hooks see
-- every class, as SQLAlchemy's do, before any is mapped.

local sa, orm = ...

local raw_declarative_base = orm.declarative_base
local raw_class = raw_declarative_base().class

local function raise(kind, msg) sa._raise(kind, msg) end

-- relationship directions, as the ORM names them (r.direction)
orm.MANYTOONE, orm.ONETOMANY, orm.MANYTOMANY =
  "manytoone", "onetomany", "manytomany"

local function is_column(v)
  if type(v) ~= "userdata" then return false end
  local mt = getmetatable(v)
  if type(mt) ~= "table" or mt.__name ~= "retort.Node" then return false end
  local ok, pk = pcall(function() return v.primary_key end)
  return ok and type(pk) == "boolean"
end

local function is_relationship(v)
  return type(v) == "table" and rawget(v, "__kind") == "relationship"
end

local function is_declared(v)
  local mt = type(v) == "table" and getmetatable(v)
  return mt and mt.__name == "retort.declared_attr"
end

local function is_bind(v)
  local mt = type(v) == "userdata" and getmetatable(v)
  return mt and (mt.__name == "retort.Engine" or
                 mt.__name == "retort.Connection") or false
end

------------------------------------------------------------------------
-- deferred classes
------------------------------------------------------------------------

-- placeholder class -> {base, name, mixins, body}, until prepared
local pending = {}
local pending_order = {}

local function placeholder(base, name, why)
  local cls = {__name__ = name}
  return setmetatable(cls, {
    __index = base,
    __call = function()
      raise("UnmappedError", string.format(
        "Class %s is a subclass of %s.  Mappings are not produced until " ..
        "the .prepare() method is called on the class hierarchy.",
        name, why))
    end,
    __tostring = function() return "<class '" .. name .. "'>" end,
    __name = "retort.MappedClass"})
end

local function defer(base, name, mixins, body, why)
  if type(name) ~= "string" then
    raise("ArgumentError", "class(): the class name must be a string")
  end
  if type(body) ~= "table" then
    raise("ArgumentError", "class \"" .. name .. "\": the body must be a table")
  end
  local cls = placeholder(base, name, why)
  pending[cls] = {base = base, name = name, mixins = mixins, body = body}
  pending_order[#pending_order + 1] = cls
  return cls
end

-- the deferred classes declared under `root` (any, when nil), in the
-- order they were declared
local function pending_under(root)
  local out, keep = {}, {}
  for i = 1, #pending_order do
    local cls = pending_order[i]
    local p = pending[cls]
    if p then
      keep[#keep + 1] = cls
      local b = cls
      while b ~= nil and root ~= nil and b ~= root do
        local mt = getmetatable(b)
        b = mt and type(mt.__index) == "table" and mt.__index or nil
      end
      if root == nil or b == root then out[#out + 1] = cls end
    end
  end
  pending_order = keep
  return out
end

-- The class built by the declarative machinery becomes `cls`: the user's
-- placeholder (or automap's) is the one table that stays the class.
local function adopt(cls, built)
  for k in pairs(cls) do rawset(cls, k, nil) end
  for k, v in pairs(built) do rawset(cls, k, v) end
  setmetatable(cls, getmetatable(built))
  local m = rawget(built, "__mapper__")
  if m then
    m.class = cls
    if m.registry then m.registry.classes[rawget(cls, "__name__")] = cls end
  end
  pending[cls] = nil
  return cls
end

-- the body of a pending class with directives resolved
local function directive(p, cls, key)
  local v = p.body[key]
  if v == nil then
    for _, mx in ipairs(p.mixins) do
      if rawget(mx, key) ~= nil then v = rawget(mx, key) end
    end
  end
  if is_declared(v) then v = v.fn(cls) end
  return v
end

-- the table options of a body's __table_args__ (its non-list keys)
local function table_options(targs)
  local out = {}
  if type(targs) == "table" then
    for k, v in pairs(targs) do
      if math.type(k) ~= "integer" then out[k] = v end
    end
  end
  return out
end

-- Build the class for pending `cls` through the ordinary declarative
-- path.  `extra` adds fields (generated relationships); a body naming its
-- table with __tablename__ gets autoload_with, so the table reflected (or
-- made) beforehand is found, not redefined.
-- The key of table `name` in MetaData md ("schema.name" with a schema,
-- SQLAlchemy's): schema a string, false for none, nil for md's own.
local function table_key(md, name, schema)
  if schema == nil then schema = md.schema end
  if type(schema) == "string" then return schema .. "." .. name end
  return name
end

local function build(cls, bind, extra)
  local p = pending[cls]
  local body = {}
  for k, v in pairs(p.body) do body[k] = v end
  for k, v in pairs(extra or {}) do body[k] = v end
  local tname = body.__tablename__
  if is_declared(tname) then tname = tname.fn(cls) end
  local made = type(tname) == "string" and
    p.base.metadata.tables[table_key(p.base.metadata, tname,
                                     table_options(body.__table_args__).schema)]
  if body.__table__ == nil and (bind ~= nil or made) then
    local targs = body.__table_args__
    local list = {}
    if type(targs) == "table" then
      for i = 1, #targs do list[i] = targs[i] end
    end
    for k, v in pairs(table_options(targs)) do list[k] = v end
    -- autoload finds a table already made without asking the database,
    -- so any bind will do then
    list.autoload_with = bind or p.base.metadata
    list.keep_existing = true
    body.__table_args__ = list
  end
  local built = raw_class(p.base, p.name, table.unpack(p.mixins))(body)
  return adopt(cls, built)
end

-- The Table of a pending class, made before it is mapped: its declared
-- (named) columns, completed by reflection when the database has it.
local function table_for(cls, bind, db_tables, opts_schema)
  local p = pending[cls]
  local tbl = directive(p, cls, "__table__")
  if tbl ~= nil then return tbl end
  local tname = directive(p, cls, "__tablename__")
  if tname == nil then return nil end
  local targs = directive(p, cls, "__table_args__")
  local topts = table_options(targs)
  local md = p.base.metadata
  local key = table_key(md, tname, topts.schema or opts_schema)
  if md.tables[key] then return md.tables[key] end
  -- A column mapped under another name stays out: once in a Table, the
  -- class body would take it for a reference, not a column to map; the
  -- reflected column of that name is mapped under the body's key instead.
  local args = {}
  for k, v in pairs(p.body) do
    if is_column(v) and v.name == k then args[#args + 1] = v end
  end
  table.sort(args, function(a, b) return a.name < b.name end) -- stable order
  local o = {schema = topts.schema or opts_schema}
  if bind ~= nil and (db_tables == nil or db_tables[tname]) then
    o.autoload_with = bind
  end
  args[#args + 1] = o
  return sa.Table(tname, md, table.unpack(args))
end

-- The pending classes `list` in the order their tables should be made:
-- reflecting a table also reflects the tables its foreign keys name,
-- which would then exist without the columns their own classes declare,
-- so a class comes after the classes it refers to (a cycle is cut
-- anywhere).
local function dependency_order(list, bind, db_tables, opts_schema)
  local by_name, done, out = {}, {}, {}
  local function schema_of(cls)
    return table_options(directive(pending[cls], cls, "__table_args__")).schema
           or opts_schema
  end
  -- by "schema.name" where a schema is named, and by the bare name
  for _, cls in ipairs(list) do
    local tname = directive(pending[cls], cls, "__tablename__")
    if type(tname) == "string" then
      local schema = schema_of(cls)
      by_name[schema and schema .. "." .. tname or tname] = cls
    end
  end
  local insp = bind and sa.inspect(bind)
  local function visit(cls)
    if done[cls] then return end
    done[cls] = true
    local p = pending[cls]
    local tname = directive(p, cls, "__tablename__")
    local schema = schema_of(cls)
    if insp and directive(p, cls, "__table__") == nil and
       type(tname) == "string" and
       (db_tables == nil or db_tables[tname]) then
      local ok, fks = pcall(insp.get_foreign_keys, insp, tname, schema)
      for _, fk in ipairs(ok and fks or {}) do
        local rs = fk.referred_schema or schema
        local dep = by_name[rs and rs .. "." .. fk.referred_table or
                            fk.referred_table]
        if dep then visit(dep) end
      end
    end
    out[#out + 1] = cls
  end
  for _, cls in ipairs(list) do visit(cls) end
  return out
end

------------------------------------------------------------------------
-- automap
------------------------------------------------------------------------

local function default_classname(base, tablename, tbl)
  return tostring(tablename)
end

local function default_scalar_name(base, local_cls, referred_cls, constraint)
  return string.lower(referred_cls.__name__)
end

local function default_collection_name(base, local_cls, referred_cls,
                                       constraint)
  return string.lower(referred_cls.__name__) .. "_collection"
end

local function default_generate(base, direction, return_fn, attrname,
                                local_cls, referred_cls, kw)
  if return_fn == orm.backref then
    return orm.backref(attrname, kw)
  elseif return_fn == orm.relationship then
    return orm.relationship(referred_cls.__name__, kw)
  end
  raise("ArgumentError", "Unknown relationship function: " ..
        tostring(return_fn))
end

-- Base.classes: name -> class, iterated (pairs) in the order made
local function new_classes()
  local names, byname = {}, {}
  local mt = {__name = "retort.AutomapClasses"}
  mt.__index = function(_, k) return byname[k] end
  mt.__newindex = function(_, k, v)
    if byname[k] == nil then names[#names + 1] = k end
    byname[k] = v
  end
  mt.__len = function() return #names end
  mt.__pairs = function()
    local i = 0
    return function()
      i = i + 1
      local k = names[i]
      if k ~= nil then return k, byname[k] end
    end
  end
  mt.__tostring = function()
    return "Base.classes: " .. table.concat(names, ", ")
  end
  return setmetatable({}, mt)
end

-- The key a foreign key's target "table" or "schema.table" names in the
-- MetaData of tbl: a bare name takes the MetaData's schema, as
-- SQLAlchemy resolves it.
local function target_key(tbl, tname)
  local ms = tbl.metadata and tbl.metadata.schema
  if ms and not tname:find(".", 1, true) then return ms .. "." .. tname end
  return tname
end

-- the foreign key constraints of a table, as SQLAlchemy's objects show
-- them: {name, ondelete, onupdate, elements = {{parent, column}},
-- columns, referred_table}, in the table's order; `tables` is the
-- metadata's name -> Table map
local function fk_constraints(tbl, tables)
  local out, by = {}, {}
  for _, fk in ipairs(tbl.foreign_keys) do
    local key = fk.constraint or fk
    local c = by[key]
    if c == nil then
      c = {name = key.name, ondelete = key.ondelete or fk.ondelete,
           onupdate = key.onupdate, elements = {}, columns = {}}
      by[key] = c
      out[#out + 1] = c
    end
    local tname, cname = string.match(fk.target_fullname, "^(.*)%.([^.]+)$")
    local target = tables[target_key(tbl, tname)]
    if target == nil then
      c.unresolved = true
    else
      c.referred_table = target
      local col = target.c[cname]
      if col == nil then c.unresolved = true end
      c.elements[#c.elements + 1] = {parent = fk.parent, column = col}
      c.columns[#c.columns + 1] = fk.parent
    end
  end
  local res = {}
  for _, c in ipairs(out) do
    if not c.unresolved then res[#res + 1] = c end
  end
  return res
end

-- an association table: exactly two foreign key constraints, and every
-- column in one of them
local function is_many_to_many(tbl, tables)
  local fks = fk_constraints(tbl, tables)
  if #fks ~= 2 then return nil end
  local in_fk = {}
  for _, c in ipairs(fks) do
    for _, col in ipairs(c.columns) do in_fk[col.name] = true end
  end
  local n = 0
  for _, col in ipairs(tbl.c) do
    if not in_fk[col.name] then return nil end
    n = n + 1
  end
  local m = 0
  for _ in pairs(in_fk) do m = m + 1 end
  if m ~= n then return nil end
  return fks[1].referred_table, fks[2].referred_table, fks
end

local function is_subclass(cls, of)
  local b = cls
  while b ~= nil do
    if b == of then return true end
    local mt = getmetatable(b)
    b = mt and type(mt.__index) == "table" and mt.__index or nil
  end
  return false
end

-- The tables of `md` in the order SQLAlchemy's metadata holds them: those
-- present before reflection first (the pre-declared ones in declaration
-- order), then as MetaData.reflect creates them: each table of the
-- database in name order, followed at once by the tables its foreign
-- keys reach that are not there yet.
local function table_order(tables, before, db_names, schema)
  local order, seen = {}, {}
  local function add(t)
    if t ~= nil and not seen[t.key] then
      seen[t.key] = true
      order[#order + 1] = t
      return true
    end
  end
  local function visit(key)
    local t = tables[key]
    if not add(t) then return end
    for _, fk in ipairs(t.foreign_keys) do
      visit(target_key(t, string.match(fk.target_fullname, "^(.*)%.[^.]+$")))
    end
  end
  for _, t in ipairs(before) do add(t) end
  for _, name in ipairs(db_names) do
    visit(schema and schema .. "." .. name or name)
  end
  local rest = {}
  for key, t in pairs(tables) do
    if not seen[key] then rest[#rest + 1] = t end
  end
  table.sort(rest, function(a, b) return a.key < b.key end)
  for _, t in ipairs(rest) do add(t) end
  return order
end

local function column_attr_conflict(cfg, key)
  for _, col in ipairs(cfg.table.c) do
    if (cfg.renamed[col.name] or col.key) == key then return col end
  end
end

local function check_names(cfg)
  local keys = {}
  for key, rel in pairs(cfg.generated) do keys[key] = rel end
  for key, rel in pairs(cfg.backrefs) do
    -- (a relationship given back_populates since makes no backref)
    if rel.options.backref ~= nil then keys[key] = rel end
  end
  for key, rel in pairs(keys) do
    local col = column_attr_conflict(cfg, key)
    if col ~= nil then
      raise("ArgumentError", string.format(
        "WARNING: when configuring property '%s' on mapped class %s->%s, " ..
        "column '%s' conflicts with property '<RelationshipProperty at %s; " ..
        "%s>'. " ..
        "To resolve this, map the column to the class under a different " ..
        "name in the 'properties' dictionary.  Or, to remove all awareness " ..
        "of the column entirely (including its availability as a foreign " ..
        "key), use the 'include_properties' or 'exclude_properties' mapper " ..
        "arguments to control specifically which table columns get mapped.",
        key, cfg.cls.__name__, cfg.table.name, col.name,
        string.format("%p", rel), key))
    end
  end
end

-- rel now pairs with `name`; like SQLAlchemy, a relationship with
-- back_populates makes no backref of its own
local function set_back(rel, name)
  rel.options.back_populates = name
  rel.options.backref = nil
end

-- the relationships of one class's foreign keys (SQLAlchemy's
-- _relationships_for_fks)
local function relationships_for_fks(base, cfg, by_table, o)
  local local_cls = cfg.cls
  for _, constraint in ipairs(fk_constraints(cfg.table, o.tables)) do
    local referred_cfg = by_table[constraint.referred_table.key]
    if referred_cfg ~= nil then
      local referred_cls = referred_cfg.cls
      if local_cls == referred_cls or not is_subclass(local_cls,
                                                      referred_cls) then
        local relationship_name = o.name_for_scalar_relationship(
          base, local_cls, referred_cls, constraint)
        local backref_name = o.name_for_collection_relationship(
          base, referred_cls, local_cls, constraint)
        local o2m = {}
        local nullable = true
        for _, el in ipairs(constraint.elements) do
          if not el.parent.nullable then nullable = false end
        end
        local ondelete = constraint.ondelete and
                         string.lower(constraint.ondelete)
        if not nullable then
          o2m.cascade = "all, delete-orphan"
          if ondelete == "cascade" then o2m.passive_deletes = true end
        elseif ondelete == "set null" then
          o2m.passive_deletes = true
        end
        local fcols, rcols = {}, {}
        for i, el in ipairs(constraint.elements) do
          fcols[i], rcols[i] = el.parent, el.column
        end
        local create_backref = referred_cfg.properties[backref_name] == nil
        if cfg.properties[relationship_name] == nil then
          local backref_obj
          if create_backref then
            local kw = {collection_class = o.collection_class}
            for k, v in pairs(o2m) do kw[k] = v end
            backref_obj = o.generate_relationship(base, orm.ONETOMANY,
              orm.backref, backref_name, referred_cls, local_cls, kw)
          end
          local rel = o.generate_relationship(base, orm.MANYTOONE,
            orm.relationship, relationship_name, local_cls, referred_cls,
            {foreign_keys = fcols, backref = backref_obj,
             remote_side = rcols})
          if rel ~= nil then
            cfg.properties[relationship_name] = rel
            cfg.generated[relationship_name] = rel
            if backref_obj ~= nil then
              referred_cfg.backrefs[backref_name] = rel
            end
            if not create_backref then
              set_back(referred_cfg.properties[backref_name], relationship_name)
            end
          end
        elseif create_backref then
          local kw = {foreign_keys = fcols, back_populates = relationship_name,
                      collection_class = o.collection_class}
          for k, v in pairs(o2m) do kw[k] = v end
          local rel = o.generate_relationship(base, orm.ONETOMANY,
            orm.relationship, backref_name, referred_cls, local_cls, kw)
          if rel ~= nil then
            referred_cfg.properties[backref_name] = rel
            referred_cfg.generated[backref_name] = rel
            set_back(cfg.properties[relationship_name], backref_name)
          end
        end
      end
    end
  end
end

local function join_of(elements)
  local conds = {}
  for i, el in ipairs(elements) do conds[i] = el.column:eq(el.parent) end
  return sa.and_(table.unpack(conds))
end

-- a many-to-many relationship through association table `tbl`
-- (SQLAlchemy's _m2m_relationship)
local function m2m_relationship(base, lcl, rem, consts, tbl, by_table, o)
  local cfg, referred_cfg = by_table[lcl.key], by_table[rem.key]
  if cfg == nil or referred_cfg == nil then return end
  local local_cls, referred_cls = cfg.cls, referred_cfg.cls
  local relationship_name = o.name_for_collection_relationship(
    base, local_cls, referred_cls, consts[1])
  local backref_name = o.name_for_collection_relationship(
    base, referred_cls, local_cls, consts[2])
  local create_backref = referred_cfg.properties[backref_name] == nil
  if cfg.properties[relationship_name] == nil then
    local backref_obj
    if create_backref then
      backref_obj = o.generate_relationship(base, orm.MANYTOMANY,
        orm.backref, backref_name, referred_cls, local_cls,
        {collection_class = o.collection_class})
    end
    local rel = o.generate_relationship(base, orm.MANYTOMANY,
      orm.relationship, relationship_name, local_cls, referred_cls,
      {secondary = tbl, primaryjoin = join_of(consts[1].elements),
       secondaryjoin = join_of(consts[2].elements), backref = backref_obj,
       collection_class = o.collection_class})
    if rel ~= nil then
      cfg.properties[relationship_name] = rel
      cfg.generated[relationship_name] = rel
      if backref_obj ~= nil then referred_cfg.backrefs[backref_name] = rel end
      if not create_backref then
        set_back(referred_cfg.properties[backref_name], relationship_name)
      end
    end
  elseif create_backref then
    local rel = o.generate_relationship(base, orm.MANYTOMANY,
      orm.relationship, backref_name, referred_cls, local_cls,
      {secondary = tbl, primaryjoin = join_of(consts[2].elements),
       secondaryjoin = join_of(consts[1].elements),
       back_populates = relationship_name,
       collection_class = o.collection_class})
    if rel ~= nil then
      referred_cfg.properties[backref_name] = rel
      referred_cfg.generated[backref_name] = rel
      set_back(cfg.properties[relationship_name], backref_name)
    end
  end
end

-- prepare's arguments: (engine), (engine, {opts}), ({autoload_with =
-- engine, ...}) or () (map what the metadata already holds)
local function prepare_options(a, b)
  local o
  if type(a) == "table" and getmetatable(a) == nil then
    o = a
  else
    o = {}
    for k, v in pairs(b or {}) do o[k] = v end
    if a ~= nil then o.autoload_with = a end
  end
  local bind = o.autoload_with or o.engine
  if bind ~= nil and not is_bind(bind) then
    raise("ArgumentError", "prepare(): autoload_with must be an Engine or " ..
          "a Connection, not " .. type(bind))
  end
  local out = {
    bind = bind, schema = o.schema,
    reflection_options = o.reflection_options or {},
    collection_class = o.collection_class,
    classname_for_table = o.classname_for_table or default_classname,
    name_for_scalar_relationship = o.name_for_scalar_relationship or
                                   default_scalar_name,
    name_for_collection_relationship = o.name_for_collection_relationship or
                                       default_collection_name,
    generate_relationship = o.generate_relationship or default_generate,
  }
  for _, k in ipairs({"classname_for_table", "name_for_scalar_relationship",
                      "name_for_collection_relationship",
                      "generate_relationship"}) do
    if type(out[k]) ~= "function" then
      raise("ArgumentError", "prepare(): " .. k .. " must be a function")
    end
  end
  return out
end

-- the tables' properties a declared class already has: its
-- relationships, and its columns mapped under another name
local function declared_properties(p)
  local props, renamed = {}, {}
  for k, v in pairs(p.body) do
    if is_relationship(v) then
      props[k] = v
    elseif is_column(v) and v.name ~= nil and v.name ~= k then
      props[k] = v
      renamed[v.name] = k
    end
  end
  return props, renamed
end

local function automap_prepare(base, a, b)
  local o = prepare_options(a, b)
  local md = base.metadata
  local declared = pending_under(base)
  local state = rawget(base, "__automap__")
  -- tables of the declared classes first, as a class body makes its
  -- Table when it is read in SQLAlchemy
  local db_names, db_set = {}, nil
  if o.bind ~= nil then
    db_names = sa.inspect(o.bind):get_table_names(o.schema)
    db_set = {}
    for _, n in ipairs(db_names) do db_set[n] = true end
  end
  local before = {}
  local declared_table = {}
  local made = {}
  for _, cls in ipairs(dependency_order(declared, o.bind, db_set, o.schema)) do
    made[cls] = table_for(cls, o.bind, db_set, o.schema)
  end
  for _, cls in ipairs(declared) do
    local t = made[cls]
    if t ~= nil then
      declared_table[cls] = t
      before[#before + 1] = t
    end
  end
  if o.bind ~= nil then
    local ro = {schema = o.schema}
    for k, v in pairs(o.reflection_options) do ro[k] = v end
    md:reflect(o.bind, ro)
  end
  -- table name -> config {cls, table, properties, generated, backrefs}
  local by_table, configs = {}, {}
  local function add_config(cls, tbl, props, renamed)
    local cfg = {cls = cls, table = tbl, properties = props or {},
                 renamed = renamed or {}, generated = {}, backrefs = {}}
    by_table[tbl.key] = cfg
    configs[#configs + 1] = cfg
    return cfg
  end
  for _, cls in ipairs(declared) do
    local t = declared_table[cls]
    if t ~= nil then
      local props, renamed = declared_properties(pending[cls])
      add_config(cls, t, props, renamed)
    end
  end
  local many_to_many = {}
  o.tables = md.tables -- (a copy each time it is read)
  for _, tbl in ipairs(table_order(o.tables, before, db_names,
                                   o.schema or md.schema)) do
    local lcl, rem, consts = is_many_to_many(tbl, o.tables)
    if lcl ~= nil then
      many_to_many[#many_to_many + 1] = {lcl, rem, consts, tbl}
    elseif #tbl.primary_key == 0 then
      -- a table without a primary key cannot be mapped
    elseif by_table[tbl.key] == nil and not state.mapped[tbl.key] then
      local name = o.classname_for_table(base, tbl.name, tbl)
      if type(name) ~= "string" then
        raise("ArgumentError", "classname_for_table must return a string")
      end
      local cls = placeholder(base, name, "AutomapBase")
      rawset(cls, "__table__", tbl)
      pending[cls] = {base = base, name = name, mixins = {},
                      body = {__table__ = tbl}}
      base.classes[name] = cls
      add_config(cls, tbl)
    end
  end
  for _, cfg in ipairs(configs) do
    relationships_for_fks(base, cfg, by_table, o)
  end
  for _, m in ipairs(many_to_many) do
    m2m_relationship(base, m[1], m[2], m[3], m[4], by_table, o)
  end
  for _, cfg in ipairs(configs) do check_names(cfg) end
  for _, cfg in ipairs(configs) do
    local extra = {}
    for k, v in pairs(cfg.generated) do extra[k] = v end
    build(cfg.cls, o.bind, extra)
    state.mapped[cfg.table.key] = true
  end
  return base
end

local function automap_class(base, name, ...)
  local mixins = {...}
  return function(body)
    if type(body) == "table" and body.__abstract__ then
      return raw_class(base, name, table.unpack(mixins))(body)
    end
    return defer(base, name, mixins, body, "AutomapBase")
  end
end

-- orm.automap_base([{metadata =, declarative_base =}]): a declarative base
-- whose prepare() maps the database's tables
function orm.automap_base(opts)
  opts = opts or {}
  local from = opts.declarative_base
  local base
  if from ~= nil then
    base = {metadata = from.metadata, registry = from.registry}
  else
    base = raw_declarative_base(opts)
  end
  base.__abstract__ = true
  base.__automap__ = {mapped = {}}
  base.classes = new_classes()
  base.class = automap_class
  base.prepare = automap_prepare
  return base
end

------------------------------------------------------------------------
-- DeferredReflection
------------------------------------------------------------------------

local DeferredReflection = {__deferred_reflection__ = true}
orm.DeferredReflection = DeferredReflection

-- DeferredReflection.prepare(engine) maps every class declared with the
-- mixin; Reflected:prepare(engine) those declared under Reflected
function DeferredReflection.prepare(a, b)
  local root, bind = nil, a
  if type(a) == "table" then root, bind = a, b end
  if root == DeferredReflection then root = nil end
  if not is_bind(bind) then
    raise("ArgumentError", "DeferredReflection.prepare(): the argument " ..
          "must be an Engine or a Connection")
  end
  local list = {}
  for _, cls in ipairs(pending_under(nil)) do
    local p = pending[cls]
    local in_root = root == nil or is_subclass(cls, root)
    if not in_root then
      for _, mx in ipairs(p.mixins) do
        if mx == root then in_root = true end
      end
    end
    if p.deferred_reflection and in_root then list[#list + 1] = cls end
  end
  -- built through the ordinary declarative path, whose Table (with
  -- autoload_with) takes the body's columns over the reflected ones
  local bodies = {}
  for _, cls in ipairs(dependency_order(list, bind, nil, nil)) do
    bodies[#bodies + 1] = pending[cls]
    build(cls, bind)
  end
  -- a secondary table named by a string is reflected too (relationships
  -- find it when they are configured)
  for _, p in ipairs(bodies) do
    for _, v in pairs(p.body) do
      local sec = is_relationship(v) and v.options.secondary
      if type(sec) == "string" and p.base.metadata.tables[sec] == nil then
        sa.Table(sec, p.base.metadata, {autoload_with = bind})
      end
    end
  end
end

local function has_marker(x)
  return type(x) == "table" and (x == DeferredReflection or
    rawget(x, "__deferred_reflection__") == true)
end

-- every declarative base's class(): a class declared with the
-- DeferredReflection mixin (or under a class that has it) waits for
-- prepare()
function orm.declarative_base(opts)
  local base = raw_declarative_base(opts)
  local function class(b, name, ...)
    local mixins = {...}
    local deferred = b.__deferred_reflection__ == true
    for _, mx in ipairs(mixins) do
      if has_marker(mx) then deferred = true end
    end
    return function(body)
      if not deferred or (type(body) == "table" and body.__abstract__) then
        return raw_class(b, name, table.unpack(mixins))(body)
      end
      local cls = defer(b, name, mixins, body, "DeferredReflection")
      pending[cls].deferred_reflection = true
      return cls
    end
  end
  base.class = class
  return base
end
