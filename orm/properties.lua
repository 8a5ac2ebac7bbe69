-- orm/properties.lua -- mapper properties besides plain columns and
-- relationships: column_property (a SQL expression loaded with the
-- object), deferred columns and their groups, the column loader options
-- (defer, undefer, undefer_group, load_only), synonym, composite and
-- validates.
--
-- A column_property is an attribute of the instance in C like a column
-- (after the table's columns, so the flush never writes it).  Which
-- attributes a SELECT of an entity loads is its layout: the columns and
-- expressions in the mapper's property order (declared properties in the
-- order they were made, then the other columns in table order), and per
-- attribute its position in the row (0: not loaded).  Synonyms and
-- composites are descriptors: the instance metatable of a mapper that
-- has them (or validators) goes through Lua first.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local hooks = I.hooks
local mapper_of = I.mapper_of
local objstr = I.objstr
local raise = I.raise
local sessions = I.sessions

local PropMT = {__name = "retort.MapperProperty"}

local function is_property(v)
  return getmetatable(v) == PropMT
end

-- a Column's creation number orders it among the declared properties;
-- an expression takes the next number of the same counter
local function creation_order(x)
  if C.node_kind(x) == "column" then
    local n = C.column_order(x)
    if n then return n end
  end
  return C.column_order(sa.Column("_", sa.Integer))
end

I.creation_order = creation_order

local function prop(kind, fields)
  fields.kind = kind
  return setmetatable(fields, PropMT)
end

local function unattached_column(x)
  return C.node_kind(x) == "column" and not select(2, C.column_info(x))
end

-- attribute i of m deferred by its property p (in p's group; with
-- raiseload, an access that would load it raises instead)
local function set_deferred(m, i, p)
  m.deferred[i] = p.group or true
  if p.group then
    m.groups[p.group] = m.groups[p.group] or {}
    table.insert(m.groups[p.group], i)
  end
  if p.raiseload then
    m.raiseload = m.raiseload or {}
    m.raiseload[i] = true
  end
end

function orm.column_property(expr, opts)
  opts = opts or {}
  if C.node_kind(expr) == nil then
    raise("ArgumentError", "column_property(): expected a SQL expression " ..
          "or Column, got " .. type(expr))
  end
  local p = prop("column", {order = creation_order(expr),
                            deferred = opts.deferred or false,
                            group = opts.group, raiseload = opts.raiseload})
  if C.node_kind(expr) == "column" then
    p.column = expr
  else
    -- an unnamed expression gets one anonymous label, as SQLAlchemy's
    -- ColumnProperty does: a select naming it twice (columns clause and
    -- ORDER BY) then orders by the label
    if C.node_kind(expr) ~= "label" then expr = expr:label() end
    p.expr = expr
  end
  if p.group ~= nil then p.deferred = true end
  return p
end

function orm.deferred(col, opts)
  opts = opts or {}
  local p = orm.column_property(col, {deferred = true, group = opts.group,
                                      raiseload = opts.raiseload})
  return p
end

function orm.synonym(name, opts)
  if type(name) ~= "string" then
    raise("ArgumentError", "synonym(): the name of the attribute it " ..
          "stands for must be a string")
  end
  opts = opts or {}
  return prop("synonym", {name = name, map_column = opts.map_column,
                          order = creation_order()})
end

-- composite(ctor, col...): columns are Columns (made here or in the class
-- body) or attribute names
function orm.composite(ctor, ...)
  if type(ctor) ~= "function" and not (type(ctor) == "table" and
     getmetatable(ctor) and getmetatable(ctor).__call) then
    raise("ArgumentError", "composite(): the first argument must be a " ..
          "function (or callable) that builds the value")
  end
  local cols = {...}
  if #cols == 0 then
    raise("ArgumentError", "composite(): at least one column is required")
  end
  return prop("composite", {ctor = ctor, cols = cols,
                            order = creation_order()})
end

-- validates(key..., fn [, {include_removes, include_backrefs}]):
-- fn(self, key, value) is called with every value set on those
-- attributes (and given to the constructor, and each member added to a
-- collection); what it returns is stored.  With include_removes it gets
-- a fourth argument, is_remove, and is called for each member removed
-- too; include_backrefs = false leaves out the changes that come from
-- the other side of a back_populates/backref pair.
function orm.validates(...)
  local n = select("#", ...)
  local args = {...}
  local opts = {}
  if type(args[n]) == "table" then
    opts = args[n]
    for k in pairs(opts) do
      if k ~= "include_removes" and k ~= "include_backrefs" then
        raise("ArgumentError", "validates(): unknown option '" ..
              tostring(k) .. "'")
      end
    end
    n = n - 1
  end
  local fn = args[n]
  if type(fn) ~= "function" or n < 2 then
    raise("ArgumentError", "validates(key..., fn): the attribute names, " ..
          "then the validating function")
  end
  local keys = {}
  for i = 1, n - 1 do
    if type(args[i]) ~= "string" then
      raise("ArgumentError", "validates(): attribute names are strings")
    end
    keys[i] = args[i]
  end
  return prop("validator", {keys = keys, fn = fn, order = creation_order(),
                            include_removes = opts.include_removes == true,
                            include_backrefs = opts.include_backrefs ~= false})
end

------------------------------------------------------------------------
-- the mapper's side
------------------------------------------------------------------------

-- The columns a class body's properties add to the table (deferred
-- columns, a composite's Columns): {key, col} entries for decl_api.
local function property_columns(props, body_columns)
  local out, seen = {}, {}
  for _, c in ipairs(body_columns) do seen[c.col] = true end
  for key, p in pairs(props) do
    if p.kind == "column" and p.column and unattached_column(p.column) then
      out[#out + 1] = {key = key, col = p.column}
      seen[p.column] = true
    end
  end
  for _, p in pairs(props) do
    if p.kind == "composite" then
      for _, c in ipairs(p.cols) do
        if C.node_kind(c) == "column" and not seen[c] and
           unattached_column(c) then
          local name = C.column_info(c)
          if not name then
            raise("ArgumentError", "composite(): a Column given to it " ..
                  "needs a name")
          end
          out[#out + 1] = {key = name, col = c}
          seen[c] = true
        end
      end
    end
  end
  return out
end

local function attr_index_of(m, x)
  if type(x) == "string" then return m.slots[x] end
  if C.node_kind(x) == nil then return nil end
  return m.attr_by_ptr[C.node_ptr(x)]
end

-- The layout of a SELECT of m given the column options `copts` for m:
-- the columns, each attribute's row position, the primary key positions,
-- and the attributes an option deferred (loaded one by one on access).
local function make_layout(m, copts)
  local load = {}
  for i = 1, m.nattrs do load[i] = not m.deferred[i] end
  for _, o in ipairs(copts or {}) do
    if o.op == "load_only" then
      for i = 1, m.nattrs do load[i] = false end
      for _, i in ipairs(o.idx) do load[i] = true end
    elseif o.op == "undefer_group" then
      for _, i in ipairs(m.groups[o.group] or {}) do load[i] = true end
    else
      for _, i in ipairs(o.idx) do load[i] = o.op == "undefer" end
    end
  end
  for _, i in ipairs(m.pk_index) do load[i] = true end
  local cols, colpos, optdef = {}, {}, nil
  for i = 1, m.nattrs do colpos[i] = 0 end
  for _, i in ipairs(m.prop_order) do
    if load[i] then
      cols[#cols + 1] = m.attr_columns[i] or m.exprs[i]
      colpos[i] = #cols
    elseif not m.deferred[i] then
      optdef = optdef or {}
      optdef[i] = true
    end
  end
  local pkpos = {}
  for k, i in ipairs(m.pk_index) do pkpos[k] = colpos[i] end
  return {cols = cols, colpos = colpos, pkpos = pkpos, optdeferred = optdef}
end

-- node address -> attribute key, for the columns mapped under another
-- name and the column_property expressions: a select of them in a
-- Session gives rows keyed by the attribute (as SQLAlchemy's ORM does)
-- (weak both ways, so an entry goes with its mapper's node and a later
-- node at the same address is not mistaken for it)
local attr_nodes = setmetatable({}, {__mode = "v"}) -- address -> node
local attr_keys = setmetatable({}, {__mode = "k"})  -- node -> key
local function attr_name(ptr)
  local node = attr_nodes[ptr]
  return node ~= nil and attr_keys[node] or nil
end
-- what select() takes the slow path for: the Table objects of mappers (a
-- select of one gives plain rows), classes whose mapper has a layout and
-- composites (written out as columns)
local mapped_tables = setmetatable({}, {__mode = "k"})
I.select_special = mapped_tables

-- class-level values that a select names after themselves in SQL but
-- keys in rows by an attribute name (a hybrid_property's function or
-- column: SQLAlchemy's proxy_key): value -> that key.  select() takes
-- the slow path for them and notes the key at their place.
local item_keys = setmetatable({}, {__mode = "k"})
function I.keyed_item(v, key)
  item_keys[v] = key
  mapped_tables[v] = true
  return v
end

-- the attribute key of a mapped table column (its key unless mapped
-- under another name)
function I.column_attr_key(col)
  return attr_name(C.node_ptr(col)) or col.key
end

-- validates(...) p: its function for each of its keys in validators
-- (and m's remove and backref lists)
local function add_validator(m, validators, p)
  for _, k in ipairs(p.keys) do
    if validators[k] then
      raise("InvalidRequestError", string.format(
        "A validation function for mapped attribute '%s' on mapper " ..
        "%s already exists.", k, tostring(m)))
    end
    if p.include_removes then
      local fn = p.fn
      validators[k] = function(obj, key, v) return fn(obj, key, v, false) end
      m.remove_validators = m.remove_validators or {}
      m.remove_validators[k] = function(obj, key, v) fn(obj, key, v, true) end
    else
      validators[k] = p.fn
    end
    if not p.include_backrefs then
      m.no_backref_validation = m.no_backref_validation or {}
      m.no_backref_validation[k] = true
    end
  end
end

-- The column attributes (User.name: a column in a box of its own, see
-- C.attribute): select() of one is ORM-enabled, of the Table's own column
-- (users.c.name, the same column) is not.  They take select()'s slow path
-- to mark the statement (I.orm_marks).
local attr_boxes = setmetatable({}, {__mode = "k"})
I.attr_boxes = attr_boxes
do
  local raw_attribute = C.attribute
  C.attribute = function(x, label)
    local a = raw_attribute(x, label)
    if not rawequal(a, x) then
      attr_boxes[a] = true
      mapped_tables[a] = true
    end
    return a
  end
end

local function setup_properties(m, props, margs)
  local cls = m.class
  m.deferred, m.groups, m.exprs, m.attr_by_ptr = {}, {}, {}, {}
  m.expr_idx = {}
  for i, col in ipairs(m.attr_columns) do m.attr_by_ptr[C.node_ptr(col)] = i end
  m.prop_order = {}
  for i = 1, #m.attr_columns do m.prop_order[i] = i end
  I.setup_version(m, margs)
  mapped_tables[m.local_table] = true
  props = props or {}
  if next(props) == nil and not m.partial then return end
  local declared = {} -- attribute index -> creation order
  local keys = {}
  for key in pairs(props) do keys[#keys + 1] = key end
  table.sort(keys, function(a, b) return props[a].order < props[b].order end)
  local descriptors, validators = {}, {}
  for _, key in ipairs(keys) do
    local p = props[key]
    if p.kind == "column" then
      local i = p.column and (m.attr_by_ptr[C.node_ptr(p.column)] or
                              m.slots[key])
      if i then
        if m.keys[i] ~= key then
          -- an imperative mapping names a table column anew
          m.slots[m.keys[i]], m.colattrs[m.keys[i]] = nil, nil
          m.keys[i], m.slots[key], m.colattrs[key] = key, i, m.attr_columns[i]
        end
      else
        p.expr = p.expr or p.column
        -- an expression: an attribute after the table's columns
        i = m.nattrs + 1
        m.nattrs = i
        m.keys[i], m.slots[key], m.exprs[i] = key, i, p.expr
        m.colattrs[key] = p.expr
        m.attr_by_ptr[C.node_ptr(p.expr)] = i
        m.expr_idx[#m.expr_idx + 1] = i
      end
      declared[i] = p.order
      if p.deferred then set_deferred(m, i, p) end
    elseif p.kind == "synonym" then
      local i = p.map_column and m.slots[key]
      if p.map_column and not i then
        raise("ArgumentError", string.format(
          "Can't compile synonym '%s': no column on table '%s' named '%s'",
          p.name, m.local_table.name, key))
      end
      if i and i <= #m.attr_columns then
        -- map_column: the column of the synonym's name is mapped under the
        -- name the synonym stands for
        m.slots[key], m.colattrs[key] = nil, nil
        m.keys[i], m.slots[p.name], m.colattrs[p.name] = p.name, i, m.attr_columns[i]
      end
      descriptors[key] = {synonym = p.name, order = p.order}
    elseif p.kind == "composite" then
      local ckeys = {}
      for k, c in ipairs(p.cols) do
        local ck = type(c) == "string" and c or nil
        if not ck then
          local i = attr_index_of(m, c)
          ck = i and m.keys[i]
        end
        if not ck or not m.slots[ck] then
          raise("ArgumentError", "composite(): column " .. k .. " of '" ..
                key .. "' is not a column of " .. cls.__name__)
        end
        ckeys[k] = ck
      end
      descriptors[key] = {composite = p, keys = ckeys, cachekey = {},
                          order = p.order}
    elseif p.kind == "validator" then
      add_validator(m, validators, p)
    end
  end
  -- the property order: declared properties first, then the columns
  local order = {}
  for i in pairs(declared) do order[#order + 1] = i end
  table.sort(order, function(a, b) return declared[a] < declared[b] end)
  for i = 1, #m.attr_columns do
    if not declared[i] then order[#order + 1] = i end
  end
  m.prop_order = order
  m.declared_order = declared
  for i, key in ipairs(m.keys) do
    local node = m.attr_columns[i] or m.exprs[i]
    if node and (m.exprs[i] or node.key ~= key) then
      attr_nodes[C.node_ptr(node)] = node
      attr_keys[node] = key
    end
  end
  -- (a table with columns left out of the mapping is listed by its
  -- mapped columns alone, as declared properties are)
  if next(declared) or m.partial then
    if not rawget(cls, "__inheritance__") then mapped_tables[cls] = true end
    m.has_props = true
    for i = #m.colpos + 1, m.nattrs do m.colpos[i] = 0 end
    m.layout = make_layout(m)
    m.colpos, m.pkpos = m.layout.colpos, m.layout.pkpos
  end
  I.setup_descriptors(m, descriptors, validators)
end

-- the columns a plain SELECT of m lists (for the loads the ORM makes)
local function load_columns(m)
  -- table columns labelled <table>_<column>, as SQLAlchemy 1.4 loads rows
  -- by key (expressions keep their anonymous labels)
  local cols = m._load_columns
  if not cols then
    local t = m.local_table
    cols = {}
    local is_col = {}
    for _, col in ipairs(m.attr_columns) do is_col[col] = true end
    for i, col in ipairs(m.layout and m.layout.cols or m.attr_columns) do
      cols[i] = is_col[col] and col:label(t.name .. "_" .. col.name) or col
    end
    m._load_columns = cols
  end
  return cols
end

-- how many columns that SELECT gives
local function load_width(m)
  if m.layout then return #m.layout.cols end
  return #m.attr_columns
end

------------------------------------------------------------------------
-- loader options
------------------------------------------------------------------------

local ColOptMT = {__name = "retort.ColumnLoaderOption"}

local function column_option(op, fname)
  return function(...)
    local attrs = {...}
    if #attrs == 0 then
      raise("ArgumentError", fname .. "(): expected attributes such as " ..
            "User.name")
    end
    for _, a in ipairs(attrs) do
      -- an attribute, or its name (the legacy form)
      if C.node_kind(a) == nil and type(a) ~= "string" then
        raise("ArgumentError", fname .. "(): expected a column attribute " ..
              "such as User.name, not " .. type(a))
      end
    end
    return setmetatable({op = op, attrs = attrs}, ColOptMT)
  end
end
orm.defer = column_option("defer", "defer")
orm.undefer = column_option("undefer", "undefer")
orm.load_only = column_option("load_only", "load_only")
function orm.undefer_group(name)
  if type(name) ~= "string" then
    raise("ArgumentError", "undefer_group(): expected a group name")
  end
  return setmetatable({op = "undefer_group", group = name}, ColOptMT)
end

local function is_column_option(o) return getmetatable(o) == ColOptMT end

-- the options of stmt that concern mapper m, with attribute indexes
local function options_for(stmt, m)
  local out
  for _, o in ipairs(I.stmt_opts[stmt] or {}) do
    if is_column_option(o) then
      local e = {op = o.op, group = o.group, idx = {}}
      local mine = o.op == "undefer_group"
      for _, a in ipairs(o.attrs or {}) do
        local i = attr_index_of(m, a)
        if i then e.idx[#e.idx + 1] = i; mine = true end
      end
      if mine then out = out or {}; out[#out + 1] = e end
    end
  end
  return out
end

-- Session:execute's step for a SELECT of entities: each entity's table
-- becomes the columns of its layout when it differs from the table (the
-- mapper has properties, or options change what loads); the entities'
-- positions follow.  Returns the statement to run.
local function apply_layouts(stmt, ents)
  local any = false
  local lays = {}
  for k, e in ipairs(ents) do
    local m = e.mapper
    if m then
      local copts = options_for(stmt, m)
      if copts then lays[k] = make_layout(m, copts)
      elseif m.layout then lays[k] = m.layout end
      if lays[k] then any = true end
    end
  end
  if not any then return stmt end
  local items, pos = {}, 1
  local cols = {}
  local n = 0
  for k, e in ipairs(ents) do
    local lay = lays[k]
    e.pos = pos
    -- an aliased class: its columns (and expressions) on its alias
    local map
    if e.alias and e.mapper then
      map = {}
      for _, col in ipairs(e.mapper.attr_columns) do
        map[C.node_ptr(col)] = e.alias.c[col.key]
      end
    end
    if lay then
      for _, c in ipairs(lay.cols) do
        n = n + 1
        cols[n] = map and (map[C.node_ptr(c)] or C.adapt(c, map, true)) or c
      end
      e.width = #lay.cols
      e.colpos, e.pkpos = {}, {}
      for i, p in ipairs(lay.colpos) do e.colpos[i] = p > 0 and pos + p - 1 or 0 end
      for j, p in ipairs(lay.pkpos) do e.pkpos[j] = pos + p - 1 end
      e.optdeferred = lay.optdeferred
    elseif e.cols then
      for _, c in ipairs(e.cols) do n = n + 1; cols[n] = c end
    else
      items[k] = true
      local m = e.mapper
      if m then
        e.colpos, e.pkpos = {}, {}
        for i = 1, m.nattrs do e.colpos[i] = pos + i - 1 end
        for j, i in ipairs(m.pk_index) do e.pkpos[j] = pos + i - 1 end
        for _, c in ipairs(m.attr_columns) do
          n = n + 1
          cols[n] = map and map[C.node_ptr(c)] or c
        end
      else
        n = n + 1
        cols[n] = e.item
      end
    end
    pos = pos + e.width
  end
  local new = stmt:with_only_columns(table.unpack(cols, 1, n))
  I.stmt_opts[new] = I.stmt_opts[stmt]
  return new
end

-- objects loaded with attributes an option deferred remember which: on
-- access those load one at a time (the mapper's deferred ones by group)
local DEFERRED = "\0optdeferred"

local function mark_deferred(objs, set)
  for _, obj in ipairs(objs) do
    if obj and C.isinstance(obj) then C.extra(obj, DEFERRED, set) end
  end
end

local base_load_expired = hooks.load_expired
function hooks.load_expired(obj, key)
  local m = mapper_of(obj)
  if not m.layout and not C.extra(obj, DEFERRED) then
    return base_load_expired(obj, key)
  end
  local i = m.slots[key]
  local group
  local optdef = C.extra(obj, DEFERRED)
  if m.raiseload and m.raiseload[i] and m.deferred[i] then
    raise("InvalidRequestError", string.format(
      "'%s.%s' is not available due to raiseload=True",
      tostring(m.class.__name__), key))
  end
  if m.deferred[i] then
    local g = m.deferred[i]
    group = {}
    for _, j in ipairs(g ~= true and m.groups[g] or {i}) do
      if not select(2, C.get(obj, j)) then group[#group + 1] = j end
    end
  elseif optdef and optdef[i] then
    group = {i}
  end
  if not group then return base_load_expired(obj, key) end
  local sid = C.session(obj)
  local s = sid ~= 0 and sessions[sid]
  if not s or C.lifecycle(obj) == "detached" then
    raise("DetachedInstanceError", string.format(
      "Parent instance %s is not bound to a Session; deferred load " ..
      "operation of attribute '%s' cannot proceed", objstr(obj), key))
  end
  local cols = {}
  local t = m.local_table
  for k, j in ipairs(group) do
    local col = m.attr_columns[j]
    cols[k] = col and col:label(t.name .. "_" .. col.name) or m.exprs[j]
  end
  local stmt = sa.select(table.unpack(cols))
  local ident = I.ident_vals(obj, m)
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(ident[k])) end
  I.autoflush(s)
  local rows = I.run(s, s:connection(), stmt):all()
  if #rows == 0 then
    I.deleted_error(obj)
  end
  for k, j in ipairs(group) do
    if not select(2, C.flags(obj, j)) then C.set(obj, j, rows[1][k]) end
  end
  return (C.get(obj, i))
end

-- expiring the whole object forgets what the options deferred (the next
-- load is the mapper's own) and the parents it was given (SQLAlchemy's
-- expired state drops its parents)
local base_expire_rels = I.expire_rels
function I.expire_rels(obj, m, keys)
  if keys == nil then
    C.extra(obj, DEFERRED, nil)
    I.forget_parents(obj)
  end
  return base_expire_rels(obj, m, keys)
end

-- a flush expires the expressions of the rows it wrote (they may read
-- the new values)
local base_apply_flush = I.apply_flush
function I.apply_flush(s, done)
  base_apply_flush(s, done)
  for _, list in ipairs({done.ins, done.upd}) do
    for _, e in ipairs(list) do
      local m, objs = e[1], e[2]
      if m.expr_idx and #m.expr_idx > 0 then
        for _, obj in ipairs(objs) do C.expire(obj, m.expr_idx) end
      end
    end
  end
end

------------------------------------------------------------------------
-- column options on a loader path
------------------------------------------------------------------------
--
-- selectinload(User.addresses):load_only(Address.email) (and defer,
-- undefer, undefer_group after any loader option) apply to the entity the
-- path ends at: the last step carries them (step.copts), and its layout
-- decides which columns the related load selects.  selectin and subquery
-- loads read I.step_layouts[rel] while their path runs; joined loads read
-- the step (orm/eager.lua); a lazy load of a path that was not loaded
-- eagerly (defaultload, lazyload) finds its layout on the parent object.

local Load = I.Load
for _, op in ipairs({"load_only", "defer", "undefer", "undefer_group"}) do
  Load[op] = function(self, ...)
    local o = orm[op](...)
    local path = table.move(self.path, 1, #self.path, 1, {})
    local last = {}
    for k, v in pairs(path[#path]) do last[k] = v end
    last._lay = nil
    last.copts = table.move(last.copts or {}, 1, #(last.copts or {}), 1, {})
    last.copts[#last.copts + 1] = o
    path[#path] = last
    return setmetatable({path = path}, Load)
  end
end

-- the layout of the entity a path step loads, under its column options
local function step_layout(step)
  if not step.copts or type(step.rel) ~= "table" then return nil end
  if step._lay == nil then
    local tm = step.rel.target
    local copts = {}
    for _, o in ipairs(step.copts) do
      local e = {op = o.op, group = o.group, idx = {}}
      for _, a in ipairs(o.attrs or {}) do
        local i = attr_index_of(tm, a)
        if not i then
          raise("ArgumentError", string.format(
            "%s(): attribute %s is not an attribute of %s, the entity " ..
            "of path %s", o.op, tostring(a), tm.class.__name__,
            tostring(step.rel)))
        end
        e.idx[#e.idx + 1] = i
      end
      copts[#copts + 1] = e
    end
    step._lay = make_layout(tm, copts)
  end
  return step._lay
end

I.step_layouts = nil -- rel -> layout, while a path with column options runs
local LAZYOPTS = setmetatable({}, {__mode = "k"}) -- rel -> extra key

local function lazy_key(r)
  local k = LAZYOPTS[r]
  if not k then k = {}; LAZYOPTS[r] = k end
  return k
end

local base_run_path = I.run_path
function I.run_path(s, conn, objs, path, from, plan)
  local ctx
  for k = from, #path do
    local lay = step_layout(path[k])
    if lay then ctx = ctx or {}; ctx[path[k].rel] = lay end
  end
  if not ctx then return base_run_path(s, conn, objs, path, from, plan) end
  local prev = I.step_layouts
  I.step_layouts = ctx
  local ok, err = pcall(base_run_path, s, conn, objs, path, from, plan)
  I.step_layouts = prev
  if not ok then error(err, 0) end
  -- the objects each step loaded: what an option left out loads on
  -- access; a step loaded lazily later keeps its layout on the parents
  local level = objs
  for k = from, #path do
    local step = path[k]
    local r = step.rel
    if type(r) ~= "table" then break end
    local lay = ctx[r]
    local st = step.strategy
    if lay and (st == "select" or st == "default") then
      for _, o in ipairs(level) do
        if C.isinstance(o) then C.extra(o, lazy_key(r), lay) end
      end
    end
    local nextl = {}
    for _, o in ipairs(level) do
      if C.isinstance(o) then
        for _, x in ipairs(I.loaded_related(o, r)) do nextl[#nextl + 1] = x end
      end
    end
    if lay and lay.optdeferred then mark_deferred(nextl, lay.optdeferred) end
    level = nextl
  end
end

-- a lazy load under a path's column options: the related rows' columns
-- of that layout (a plain relationship: by its remote columns)
local base_rel_get = hooks.rel_get
function hooks.rel_get(obj, key)
  local m = mapper_of(obj)
  local r = m.relationships[key]
  local lay = r and LAZYOPTS[r] and C.extra(obj, LAZYOPTS[r])
  if not lay or r.secondary or r.extra or r.target.polymorphic_map or
     r.target.inherits or r.pk_lookup or C.extra(obj, I.nilmark[key]) or
     C.extra(obj, I.lazymark[key]) then
    return base_rel_get(obj, key)
  end
  local sid = C.session(obj)
  local s = sid ~= 0 and sessions[sid]
  if not s or C.lifecycle(obj) ~= "persistent" then
    return base_rel_get(obj, key)
  end
  local tm = r.target
  local t = tm.local_table
  local is_col = {}
  for _, col in ipairs(tm.attr_columns) do is_col[col] = true end
  local cols = {}
  for k, col in ipairs(lay.cols) do
    cols[k] = is_col[col] and col:label(t.name .. "_" .. col.name) or col
  end
  local stmt = sa.select(table.unpack(cols))
  for k, col in ipairs(r.remote_cols) do
    local v = obj[m.keys[r.local_idx[k]]]
    if v == nil then return base_rel_get(obj, key) end
    stmt = stmt:where(sa.literal(v):eq(col))
  end
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  I.autoflush(s)
  local rows = I.run(s, s:connection(), stmt):all()
  local out = {}
  C.load(rows, 1, #rows, tm.class, tm.mt, tm.nattrs, lay.colpos, lay.pkpos,
         I.idmap_for(s, tm), s.id, false, out, 0)
  if lay.optdeferred then mark_deferred(out, lay.optdeferred) end
  C.extra(obj, LAZYOPTS[r], nil)
  if r.uselist then
    local c = I.new_coll(obj, r, out)
    C.extra(obj, r.key, c)
    return c
  end
  I.set_raw(obj, r, out[1])
  return out[1]
end

------------------------------------------------------------------------
-- select(User) and select(Vertex.start) written out as columns
------------------------------------------------------------------------
--
-- A class whose mapper has properties (expressions, deferred columns,
-- columns mapped under another name) is selected as the columns of its
-- layout, and a composite as its columns, so that the statement renders
-- as SQLAlchemy renders it; the select remembers where each entity's
-- columns are (I.select_ents: {start, n, mapper | comp}) for the Session.

local select_ents = I.select_ents

local function is_composite(a)
  local mt = getmetatable(a)
  return type(mt) == "table" and mt.__name == "retort.CompositeProperty"
end

-- the entry of an aliased() class whose mapper has a layout, written
-- out as that layout's columns on its alias (orm/aliased.lua sets
-- expand on such entries)
local function expanded_alias(a)
  local e = rawget(a, "__entry")
  if type(e) == "table" and e.expand then return e end
  return nil
end

-- does a select() argument list need writing out?
local function wants_expansion(n, ...)
  local any = false
  for i = 1, n do
    local a = select(i, ...)
    if type(a) == "table" then
      if rawget(a, "__inheritance__") then return false end
      local m = rawget(a, "__mapper__")
      if (m and m.layout and rawget(a, "__clause_element__") ==
          m.local_table) or is_composite(a) or expanded_alias(a) then
        any = true
      end
    elseif item_keys[a] then
      any = true
    end
  end
  return any
end

-- the layout's columns of an aliased class's mapper, on its alias
local function alias_layout_cols(e)
  local map = {}
  for _, col in ipairs(e.mapper.attr_columns) do
    map[C.node_ptr(col)] = e.labels and e.labels[C.node_ptr(col)] or
                           e.alias.c[col.key] or e.alias.c[col.name]
  end
  local out = {}
  if not e.mapper.layout then
    -- (a subquery's columns in another order: the mapping's order)
    for k, col in ipairs(e.mapper.attr_columns) do out[k] = map[C.node_ptr(col)] end
    return out
  end
  for k, c in ipairs(e.mapper.layout.cols) do
    out[k] = map[C.node_ptr(c)] or C.adapt(c, map, true)
  end
  return out
end

do
  local inner_select -- select() without this turn (below)
  local mark_tables = I.mark_tables
  local function slow_select(n, ...)
    if not wants_expansion(n, ...) then
      local stmt = mark_tables(inner_select(...), ...)
      -- columns of an aliased() single-table subclass: its criterion
      if I.single_alias_where then stmt = I.single_alias_where(stmt, ...) end
      return stmt
    end
    local args, reg = {}, {}
    for i = 1, n do
      local a = select(i, ...)
      local m = type(a) == "table" and rawget(a, "__mapper__")
      if m and m.layout and rawget(a, "__clause_element__") ==
         m.local_table then
        reg[#reg + 1] = {start = #args + 1, n = #m.layout.cols, mapper = m}
        for _, c in ipairs(m.layout.cols) do args[#args + 1] = c end
      elseif type(a) == "table" and expanded_alias(a) then
        local e = expanded_alias(a)
        local cols = alias_layout_cols(e)
        reg[#reg + 1] = {start = #args + 1, n = #cols, mapper = e.mapper,
                         alias = e.alias, name = e.name}
        for _, c in ipairs(cols) do args[#args + 1] = c end
      elseif is_composite(a) then
        local cols = a:__clause_list()
        reg[#reg + 1] = {start = #args + 1, n = #cols, comp = a}
        for _, c in ipairs(cols) do args[#args + 1] = c end
      elseif item_keys[a] then
        reg[#reg + 1] = {start = #args + 1, n = 1, key = item_keys[a]}
        args[#args + 1] = a
      else
        args[#args + 1] = a
      end
    end
    local stmt = mark_tables(inner_select(table.unpack(args, 1, #args)),
                             table.unpack(args, 1, #args))
    select_ents[stmt] = reg
    return stmt
  end
  -- statements of plain columns and Tables (the common case) are built
  -- at once; classes, lists and mapped Tables take the slow path (the
  -- core's select() looks its arguments up in mapped_tables)
  local orm_marks, annotation = I.orm_marks, C.annotation
  inner_select = C.select_slow(mapped_tables, function(...)
    local n, attrs, other = select("#", ...), false, false
    for i = 1, n do
      local a = select(i, ...)
      if attr_boxes[a] then
        attrs = true
        -- (a hybrid's boxed column keyed by the hybrid's name)
        if item_keys[a] then other = true end
      else
        -- (an aliased single-table subclass's annotated column needs
        -- slow_select's criterion)
        if annotation(a) ~= nil then attrs = true end
        if mapped_tables[a] then other = true end
      end
    end
    -- (column attributes alone: built as the core builds them, marked)
    local stmt
    if other then stmt = slow_select(n, ...) else stmt = inner_select(...) end
    if attrs then orm_marks[stmt] = true end
    return stmt
  end)
end

-- A subquery of a select of an entity has its deferred columns too (not
-- its deferred expressions), in their places, as SQLAlchemy renders them
-- in subqueries (Query.count() shows it): the columns written out for
-- such an entity, with those added, or nil when nothing changes.
local function subquery_items(stmt, reg)
  local items = C.select_items(stmt)
  if not items then return nil end
  local cols, k, r, changed = {}, 1, 1, false
  while k <= #items do
    local e = reg[r]
    if e and e.start == k then
      local m = e.mapper
      if m and not e.alias and m.layout and not m.inherits and
         not m.inh_tables and e.n == #m.layout.cols then
        local n = #cols
        local lay = m.layout
        for _, i in ipairs(m.prop_order) do
          local c = lay.colpos[i] ~= 0 and lay.cols[lay.colpos[i]]
          if c then
            cols[#cols + 1] = c
          elseif m.deferred[i] and m.attr_columns[i] then
            cols[#cols + 1] = m.attr_columns[i]
            changed = true
          end
        end
        if #cols - n < e.n then return nil end
      else
        for j = k, k + e.n - 1 do cols[#cols + 1] = items[j][4] end
      end
      k, r = k + e.n, r + 1
    else
      if items[k][2] ~= 1 then return nil end
      cols[#cols + 1] = items[k][4]
      k = k + 1
    end
  end
  return changed and cols or nil
end

do
  local node_methods = getmetatable(sa.literal_column("1")).__methods
  local base_subquery = node_methods.subquery
  node_methods.subquery = function(stmt, ...)
    local reg = C.node_kind(stmt) == "select" and select_ents[stmt]
    local cols = reg and subquery_items(stmt, reg)
    if cols then
      stmt = stmt:with_only_columns(table.unpack(cols))
    end
    return base_subquery(stmt, ...)
  end
end

-- the entity of a composite's columns: its value objects
local function composite_entity(r, pos)
  local c = r.comp
  local ctor = c.mapper.descriptors[c.key].composite.ctor
  local e = {pos = pos, width = r.n, name = c.key, cols = c:__clause_list()}
  e.load = function(s, rows, from, to, populate, out, outn)
    for j = from, to do
      local row = rows[j]
      local vals = {}
      for k = 1, r.n do
        local v = row[e.pos + k - 1]
        if rawequal(v, sa.null) then v = nil end
        vals[k] = v
      end
      outn = outn + 1
      out[outn] = ctor(table.unpack(vals, 1, r.n))
    end
    return outn
  end
  return e
end

-- the value of one column as the only entity of a result
local function column_entity_load(e)
  return function(s, rows, from, to, populate, out, outn)
    for j = from, to do
      local v = rows[j][e.pos]
      if v == nil then v = sa.null end -- no holes in lists (API.md §0)
      outn = outn + 1
      out[outn] = v
    end
    return outn
  end
end

-- the entities of a select whose columns include mapped attributes with
-- their own names: those columns keyed by the attribute
local function attribute_names(stmt, ents)
  if next(attr_nodes) == nil then return ents end
  local items = C.select_items(stmt)
  if not items then return ents end
  if ents then
    for _, e in ipairs(ents) do
      if not e.mapper and not e.keyed and e.item and C.node_kind(e.item) then
        local nm = attr_name(C.node_ptr(e.item))
        if nm then e.name = nm end
      end
    end
    return ents
  end
  local any = false
  for k = 1, #items do
    if items[k][2] ~= 1 then return nil end
    if attr_name(C.node_ptr(items[k][4])) then any = true end
  end
  if not any then return nil end
  ents = {}
  for k = 1, #items do
    local it = items[k]
    ents[k] = {pos = k, width = 1, item = it[4],
               name = attr_name(C.node_ptr(it[4])) or it[3]}
  end
  if #ents == 1 then ents[1].load = column_entity_load(ents[1]) end
  return ents
end

-- the entities of a select whose only noted items are keyed ones
-- (I.keyed_item): those columns named by their keys
local function keyed_names(stmt, reg, ents)
  local items = C.select_items(stmt)
  if not items then return ents end
  if not ents then
    ents = {}
    for k, it in ipairs(items) do
      if it[2] ~= 1 then return nil end
      ents[k] = {pos = k, width = 1, item = it[4], name = it[3]}
    end
    if #ents == 1 then ents[1].load = column_entity_load(ents[1]) end
  end
  local at, pos = {}, 1
  for k, it in ipairs(items) do
    at[k] = pos
    pos = pos + it[2]
  end
  for _, r in ipairs(reg) do
    for _, e in ipairs(ents) do
      if not e.mapper and e.width == 1 and e.pos == at[r.start] then
        e.name, e.keyed = r.key, true
      end
    end
  end
  return ents
end

local base_entities_of = I.entities_of
function I.entities_of(stmt)
  local reg = select_ents[stmt]
  if not reg then return attribute_names(stmt, base_entities_of(stmt)) end
  local only_keys = true
  for _, e in ipairs(reg) do
    if not e.key then only_keys = false end
  end
  if only_keys then
    return keyed_names(stmt, reg, attribute_names(stmt, base_entities_of(stmt)))
  end
  local items = C.select_items(stmt)
  if not items then return nil end
  local base = base_entities_of(stmt)
  local ents, pos, k, r = {}, 1, 1, 1
  while k <= #items do
    local e = reg[r]
    if e and e.start == k and k + e.n - 1 <= #items then
      if e.mapper then
        ents[#ents + 1] = {mapper = e.mapper, pos = pos, width = e.n,
                           alias = e.alias,
                           name = e.name or e.mapper.class.__name__}
      elseif e.key then
        ents[#ents + 1] = {pos = pos, width = 1, item = items[k][4],
                           name = e.key, keyed = true}
      else
        ents[#ents + 1] = composite_entity(e, pos)
      end
      pos, k, r = pos + e.n, k + e.n, r + 1
    else
      local b = base and base[k]
      local it = items[k]
      local ent = {mapper = b and b.mapper, alias = b and b.alias,
                   name = b and b.name or it[3], width = it[2], pos = pos,
                   item = it[4]}
      ents[#ents + 1] = ent
      pos, k = pos + it[2], k + 1
    end
  end
  return attribute_names(stmt, ents)
end

------------------------------------------------------------------------
-- attributes assigned to a mapped class after it is built
------------------------------------------------------------------------

-- User.extra = Column(String(20)) maps the column as SQLAlchemy's
-- declarative __setattr__ does: the column joins the table and the
-- mapper, after the attributes it has; User.upper = column_property(
-- expr) maps the expression; User.items = relationship(...) the
-- relationship.  Anything else is a plain field of the class.

local lselect = I.lselect

-- what the mapper worked out from its attributes, worked out again
local function forget_derived(m)
  m._load_columns, m._stmts, m._compiled, m._vstmts = nil, nil, nil, nil
  m._attr_order, m._filter_map, m._row_parts = nil, nil, nil
  for _, x in ipairs(m.registry and m.registry.mappers or {}) do
    for _, r in pairs(x.relationships or {}) do r._lazy = nil end
  end
  I.hooks.generation = (I.hooks.generation or 0) + 1
end

-- the mapper's attribute i is new: its place in loads, the constructor
-- and the class
local function attribute_added(cls, m, key, i, node)
  m.prop_order[#m.prop_order + 1] = i
  m.attr_by_ptr[C.node_ptr(node)] = i
  if m.exprs[i] or node.key ~= key then
    attr_nodes[C.node_ptr(node)] = node
    attr_keys[node] = key
  end
  if m.layout then
    m.colpos[i] = 0
    m.layout = make_layout(m)
    m.colpos, m.pkpos = m.layout.colpos, m.layout.pkpos
  else
    m.colpos[i] = i
  end
  if not m.constructor then
    getmetatable(cls).__call = C.constructor(m.mt, m.nattrs, m.slots,
                                             I.construct_others)
  end
  rawset(cls, key, C.attribute(node, rawget(cls, "__name__") .. "." .. key))
  forget_derived(m)
end

local function late_column(cls, m, key, col, p)
  if next(m.exprs) ~= nil then
    raise("InvalidRequestError", string.format(
      "Can't add column '%s' to %s: it maps column_property expressions, " ..
      "which come after its columns", key, tostring(m)))
  end
  C.name_column(col, key)
  if col.primary_key then
    raise("ArgumentError", string.format(
      "Can't add primary key column '%s' to %s after it is mapped", key,
      tostring(m)))
  end
  m.local_table:append_column(col)
  local i = m.nattrs + 1
  m.nattrs = i
  m.keys[i], m.slots[key], m.attr_columns[i], m.colkeys[i] =
    key, i, col, col.key
  m.colattrs[key] = col
  m.param_source[col.key] = i
  if not C.column_defaults(col) then m.insert_none[i] = true end
  if lselect(2, C.column_defaults(col)) then m.lua_defaults = true end
  if p and p.deferred then
    set_deferred(m, i, p)
    if not m.layout then
      m.has_props = true
      mapped_tables[cls] = true
      for j = #m.colpos + 1, m.nattrs do m.colpos[j] = 0 end
      m.layout = make_layout(m)
    end
  end
  attribute_added(cls, m, key, i, col)
end

local function late_expression(cls, m, key, p)
  local expr = p.expr or p.column
  local i = m.nattrs + 1
  m.nattrs = i
  m.keys[i], m.slots[key], m.exprs[i] = key, i, expr
  m.colattrs[key] = expr
  m.expr_idx[#m.expr_idx + 1] = i
  if p.deferred then set_deferred(m, i, p) end
  m.has_props = true
  mapped_tables[cls] = true
  if not m.layout then
    for j = #m.colpos + 1, m.nattrs do m.colpos[j] = 0 end
    m.layout = make_layout(m)
  end
  attribute_added(cls, m, key, i, expr)
end

function I.late_attribute(cls, key, v)
  local m = rawget(cls, "__mapper__")
  local col = I.is_column(v) and v
  local p = is_property(v) and v.kind == "column" and v
  local rel = I.is_relationship(v)
  if not m or type(key) ~= "string" or not (col or p or rel) then
    return rawset(cls, key, v)
  end
  if m.slots[key] or m.relationships[key] then
    raise("InvalidRequestError", string.format(
      "%s already has an attribute '%s'", tostring(m), key))
  end
  if (m.subclasses and #m.subclasses > 0) or m.inherits or m.concrete or
     m.inh_tables then
    raise("InvalidRequestError", string.format(
      "Can't add attribute '%s' to %s: a class of an inheritance " ..
      "hierarchy", key, tostring(m)))
  end
  if rel then
    I.hooks.add_relationship(m, key, v)
    I.hooks.announce_backrefs(m)
    forget_derived(m)
  elseif col then
    late_column(cls, m, key, col)
  elseif p.column and not lselect(2, C.column_info(p.column)) then
    -- column_property(Column(...)): the column is new to the table
    late_column(cls, m, key, p.column, p)
  elseif p.column and m.attr_by_ptr[C.node_ptr(p.column)] then
    raise("InvalidRequestError", string.format(
      "Can't map column '%s' of %s again as '%s'", p.column.key,
      tostring(m), key))
  else
    late_expression(cls, m, key, p)
  end
end

------------------------------------------------------------------------
-- the names of an ORM select's columns
------------------------------------------------------------------------

-- SQLAlchemy's ORM names a select's columns by what they are, not by
-- their SQL labels: a column by its key, a function by its name (count,
-- not count_1), anything else "_no_label"; a name met again is numbered
-- (count, count_1, count_2); a text() item has no name at all.  keys:
-- item -> name, false or TEXT.
local TEXT = {}
local function orm_column_names(keys)
  local names, used, next_n = {}, {}, {}
  for i, k in ipairs(keys) do
    local name = k or "_no_label"
    if k == TEXT then
      name = false
    elseif used[name] then
      local n = next_n[name] or 1
      while used[name .. "_" .. n] do n = n + 1 end
      next_n[name] = n + 1
      name = name .. "_" .. n
    end
    if name then used[name] = true end
    names[i] = name
  end
  return names
end

-- the proxy keys of an ORM select's items (nil: a Core select)
local function proxy_keys(stmt)
  if I.core_tables[stmt] then return nil end
  local keys = C.proxy_keys(stmt, I.mappers_by_table)
  if not keys then return nil end
  for j, it in ipairs(C.select_items(stmt)) do
    -- (NOT of a Boolean column is named as the column)
    local col = not keys[j] and C.negated_column(it[4])
    if col then keys[j] = col.key end
    if C.node_kind(it[4]) == "text" then keys[j] = TEXT end
  end
  return keys
end

-- name the columns of an ORM select's entities as SQLAlchemy does
local function name_entities(stmt, ents)
  if not ents then return ents end
  local keys = proxy_keys(stmt)
  if not keys then return ents end
  local cols, list = {}, {}
  for _, e in ipairs(ents) do
    if not e.mapper and not e.cols and e.width == 1 then
      cols[#cols + 1] = e
      local k = e.name
      if k == nil and e.item then
        local items = C.select_items(stmt)
        for j, it in ipairs(items) do
          if rawequal(it[4], e.item) or
             (C.node_kind(it[4]) and C.node_ptr(it[4]) == C.node_ptr(e.item)) then
            k = keys[j]
            break
          end
        end
      end
      list[#list + 1] = k or false
    end
  end
  if #cols == 0 then return ents end
  local names = orm_column_names(list)
  for i = 1, #cols do cols[i].name = names[i] or nil end
  return ents
end

do
  local entities_of = I.entities_of
  function I.entities_of(stmt)
    return name_entities(stmt, entities_of(stmt))
  end
end

-- a Core result of an ORM select without entities, keyed as SQLAlchemy's
-- ORM keys it (select(func.count(User.id)) gives "count")
function I.orm_keyed(stmt, r)
  if type(r) ~= "userdata" or not r._with_keys then return r end
  local keys = proxy_keys(stmt)
  if not keys then return r end
  local items = C.select_items(stmt)
  local rk = r:keys()
  if #items ~= #keys or #rk ~= #keys then return r end
  for _, it in ipairs(items) do if it[2] ~= 1 then return r end end
  local names = orm_column_names(keys)
  for i = 1, #names do
    if names[i] ~= rk[i] then return r:_with_keys(names) end
  end
  return r
end

------------------------------------------------------------------------
-- filter_by on an entity: its attribute names
------------------------------------------------------------------------

-- attribute key -> how filter_by reaches it, for the attributes whose key
-- is not the key of a table column: {colkey} (a column mapped under
-- another name), {expr} (a column_property expression), {synonym};
-- and column keys no attribute has -> {hidden = true}
local function filter_map(m)
  local map = m._filter_map
  if map then return map end
  map = {}
  for i, key in ipairs(m.keys) do
    local col = m.attr_columns[i]
    if col and col.key ~= key then
      map[key] = {colkey = col.key}
      if not m.slots[col.key] then map[col.key] = {hidden = true} end
    elseif not col and m.exprs and m.exprs[i] then
      map[key] = {expr = m.exprs[i]}
    end
  end
  for key, d in pairs(m.descriptors or {}) do
    if d.synonym then map[key] = {synonym = d.synonym}
    elseif d.composite then map[key] = {composite = true} end
  end
  -- hybrid_property attributes, a subclass's and its parents'
  local mm = m
  while mm do
    for key, d in pairs(mm.ext_descriptors or {}) do
      if map[key] == nil and type(d) == "table" and d.fget and
         d.class_get then
        map[key] = {hybrid = true}
      end
    end
    mm = mm.inherits
  end
  m._filter_map = map
  return map
end

do
  local node_methods = getmetatable(sa.literal_column("1")).__methods
  local base_filter_by = node_methods.filter_by
  node_methods.filter_by = function(stmt, kw)
    local ptr = type(kw) == "table" and C.node_kind(stmt) == "select" and
                C.filter_entity(stmt)
    if not ptr then return base_filter_by(stmt, kw) end
    local m, alias = I.mappers_by_table[ptr], false
    if not m and I.aliased_entry then
      local e = I.aliased_entry(ptr)
      if e then m, alias = e.mapper, true end
    end
    local map = m and filter_map(m)
    if not map or next(map) == nil then return base_filter_by(stmt, kw) end
    -- one condition per attribute, in the order of their names (as the
    -- Core filter_by joins them)
    local keys = {}
    for k in pairs(kw) do
      if type(k) == "string" then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v, name = kw[k], k
      local t = map[name]
      for _ = 1, 8 do
        if not (t and t.synonym) then break end
        name = t.synonym
        t = map[name]
      end
      if t and t.hidden then
        raise("InvalidRequestError", string.format(
          "Entity namespace for \"%s\" has no property \"%s\"",
          m.local_table.name, name))
      elseif t and t.colkey then
        stmt = base_filter_by(stmt, {[t.colkey] = v})
      elseif t and t.expr and not alias then
        stmt = stmt:where(t.expr:eq(v))
      elseif t and t.composite and not alias then
        -- a composite: each of its columns equal to the value's
        stmt = stmt:where(m.class[name]:eq(v))
      elseif t and t.hybrid and not alias then
        -- a hybrid_property: its class-level expression
        stmt = stmt:where(m.class[name]:eq(v))
      else
        stmt = base_filter_by(stmt, {[name] = v})
      end
    end
    return stmt
  end
  -- update(User):values{name = ...}: attribute names, as SQLAlchemy's ORM
  -- UPDATE takes them
  local base_values = node_methods.values
  node_methods.values = function(stmt, kw, ...)
    local kind = type(kw) == "table" and C.node_kind(stmt)
    if kind == "insert" then
      -- an INSERT names table columns: an attribute mapped to a column
      -- of another name is not one (SQLAlchemy 1.4's CompileError)
      local ptr = C.dml_info(stmt)
      local m = ptr and I.mappers_by_table[ptr]
      local map = m and filter_map(m)
      local bad, colkeys = {}, {}
      for _, ck in ipairs(m and m.colkeys or {}) do colkeys[ck] = true end
      for k in pairs(map or {}) do
        if kw[k] ~= nil and (map[k].colkey or map[k].synonym) and
           not colkeys[k] then
          bad[#bad + 1] = k
        end
      end
      if #bad > 0 then
        table.sort(bad)
        raise("CompileError", "Unconsumed column names: " ..
              table.concat(bad, ", "))
      end
    end
    if kind ~= "update" then return base_values(stmt, kw, ...) end
    local ptr = C.dml_info(stmt)
    local m = ptr and I.mappers_by_table[ptr]
    local map = m and filter_map(m)
    if not map or next(map) == nil then return base_values(stmt, kw, ...) end
    local out = {}
    for k, v in pairs(kw) do
      local t = type(k) == "string" and map[k]
      for _ = 1, 8 do
        if not (t and t.synonym) then break end
        k = t.synonym
        t = map[k]
      end
      if t and t.colkey then k = t.colkey end
      out[k] = v
    end
    return base_values(stmt, out, ...)
  end
end

-- A class declared from a mapped class: its parent's synonyms,
-- composites and validators hold for it too (with its own attributes,
-- which carry its joins and criterion), and the synonyms and validators
-- of its body join them.
function I.inherit_properties(cls, props)
  local m = rawget(cls, "__mapper__")
  local parent = m and rawget(m, "inherits")
  -- (a concrete class maps its own table alone)
  if not parent or rawget(m, "concrete") then return end
  local descriptors, validators = {}, {}
  for k, d in pairs(parent.descriptors or {}) do
    if d.synonym then
      descriptors[k] = {synonym = d.synonym, order = d.order}
    else
      descriptors[k] = {composite = d.composite, keys = d.keys,
                        cachekey = d.cachekey, order = d.order}
    end
  end
  for k, f in pairs(parent.validators or {}) do validators[k] = f end
  for _, f in ipairs({"remove_validators", "no_backref_validation"}) do
    if parent[f] then
      m[f] = {}
      for k, v in pairs(parent[f]) do m[f][k] = v end
    end
  end
  local keys = {}
  for key, p in pairs(props or {}) do
    if p.kind == "synonym" or p.kind == "validator" then
      keys[#keys + 1] = key
    end
  end
  table.sort(keys, function(a, b) return props[a].order < props[b].order end)
  for _, key in ipairs(keys) do
    local p = props[key]
    if p.kind == "synonym" then
      descriptors[key] = {synonym = p.name, order = p.order}
    else
      -- (the class's own validator of a key replaces its parent's)
      for _, k in ipairs(p.keys) do validators[k] = nil end
      add_validator(m, validators, p)
    end
  end
  if next(descriptors) == nil and next(validators) == nil then return end
  I.setup_descriptors(m, descriptors, validators, true)
  if m.constructor then
    getmetatable(cls).__call = m.constructor
    I.inh.set_identity_on_init(cls, m)
  end
end

-- for the other files of the ORM
I.apply_layouts = apply_layouts
I.step_layout = step_layout
I.is_column_option = is_column_option
I.is_property = is_property
I.load_columns = load_columns
I.load_width = load_width
I.mark_deferred = mark_deferred
I.property_columns = property_columns
I.setup_properties = setup_properties
