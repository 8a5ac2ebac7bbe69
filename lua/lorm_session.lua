-- lorm_session.lua -- the Lua half of retort.orm: declarative mapping, the
-- Session with its identity map, the unit of work, ORM results and the
-- legacy Query.  Built into the binary (lorm.c runs it with the core
-- module, the orm module table, the C primitives and the compile hook).
--
-- Instances and their per-attribute state live in C (lorm.c); this file
-- decides what happens to them.  An identity map is one weak-valued
-- table per mapper and session keyed by the identity key (the primary key
-- value, or its values joined); new, modified and deleted objects are
-- also held strongly by the session until flushed, as SQLAlchemy does.
--
-- The flush: pending objects in the order they were added, modified ones
-- sorted by primary key, per mapper in foreign-key order (deletes in the
-- reverse order).  Consecutive rows that set the same columns share one
-- statement, compiled once per mapper, dialect and column pattern, and go
-- to the driver as one executemany with positional parameters built in C.
-- A row whose key the database generates is inserted alone (RETURNING on
-- PostgreSQL, lastrowid elsewhere, as SQLAlchemy 1.4 does).  The objects
-- change state only after every statement succeeded.
--
-- Relationships (see "relationships" below) are properties of the
-- mapper resolved the first time they are needed; their loaded values
-- live among an instance's extras, and the flush syncs foreign keys from
-- them.  Inheritance is not built yet.
local sa, orm, C, compile_hook = ...
local lselect = select

local function raise(kind, msg) C.raise(kind, msg) end

local function objstr(obj)
  local cls = C.class(obj)
  return string.format("<%s at %s>", rawget(cls, "__name__") or "?",
                       string.match(string.format("%p", obj), "0x%x+") or "?")
end

------------------------------------------------------------------------
-- mapping
------------------------------------------------------------------------

local mappers_by_table = setmetatable({}, {__mode = "v"}) -- node ptr -> mapper
local Mapper = {}
Mapper.__index = Mapper
Mapper.__name = "retort.Mapper"

local hooks = {}  -- called from C: load_expired, modified

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
local function make_mapper(cls, tbl, attr_keys, relationships)
  local m = setmetatable({class = cls, local_table = tbl, keys = {},
                          slots = {}, columns = {}, colkeys = {},
                          primary_key = {}, pk_index = {}, attrs = {}, insert_none = {},
                          relationships = {}, relkeys = {},
                          ptr = C.node_ptr(tbl)}, Mapper)
  for _, col in ipairs(tbl.c) do
    local key = attr_keys[col.key] or col.key
    local i = #m.keys + 1
    m.keys[i], m.slots[key], m.columns[i], m.colkeys[i] = key, i, col, col.key
    m.attrs[key] = col
    if col.primary_key then
      m.primary_key[#m.primary_key + 1] = col
      m.pk_index[#m.pk_index + 1] = i
    elseif not C.column_defaults(col) then
      m.insert_none[i] = true -- inserted as NULL when never set
    end
    if lselect(2, C.column_defaults(col)) then m.lua_defaults = true end
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

function Mapper:__tostring()
  return "Mapper[" .. self.class.__name__ .. "(" .. self.local_table.name .. ")]"
end

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
    if not (m.relationships[k] or rawget(cls, k) ~= nil) then
      raise("ArgumentError", string.format(
        "'%s' is an invalid keyword argument for %s", tostring(k),
        cls.__name__))
    end
    local v = args[k]
    if rawequal(v, sa.null) then v = nil end
    obj[k] = v
  end
end

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
local function build_class(base, name, mixins, body)
  local cls = {__name__ = name}
  local fields = {}   -- attribute -> value (columns, relationships, values)
  local function take(src, from_mixin)
    for k, v in pairs(src) do
      if is_declared(v) then
        fields[k] = {declared = v}
      elseif from_mixin and is_column(v) then
        fields[k] = {column = C.copy_column(v)}
      else
        fields[k] = {value = v}
      end
    end
  end
  for _, mx in ipairs(mixins) do take(mx, true) end
  take(body, false)
  setmetatable(cls, {__index = base, __call = class_call,
                     __tostring = function(c) return "<class '" ..
                       c.__name__ .. "'>" end,
                     __name = "retort.MappedClass"})
  -- resolve declared attributes with the class
  local resolved = {}
  for k, f in pairs(fields) do
    local v
    if f.declared then v = f.declared.fn(cls)
    elseif f.column then v = f.column
    else v = f.value end
    resolved[k] = v
  end
  local abstract = resolved.__abstract__
  local columns, rels = {}, {}
  for k, v in pairs(resolved) do
    if directives[k] then
      -- kept below
    elseif is_column(v) then
      columns[#columns + 1] = {key = k, col = v}
    elseif is_relationship(v) then
      rels[k] = v
    else
      rawset(cls, k, v)
    end
  end
  if abstract then
    for _, c in ipairs(columns) do rawset(cls, c.key, c.col) end
    rawset(cls, "__abstract__", true)
    return cls
  end
  local reg = base.registry
  local tbl = resolved.__table__
  local attr_keys = {}
  if tbl == nil then
    local tname = resolved.__tablename__
    if tname == nil then
      raise("InvalidRequestError", "Class '" .. name .. "' does not have a " ..
            "__table__ or __tablename__ specified and does not inherit " ..
            "from an existing table-mapped class.")
    end
    table.sort(columns, function(a, b)
      return C.column_order(a.col) < C.column_order(b.col)
    end)
    local args = {tname, reg.metadata}
    for _, c in ipairs(columns) do
      local colname = C.name_column(c.col, c.key)
      attr_keys[c.col.key or colname] = c.key
      args[#args + 1] = c.col
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
  end
  rawset(cls, "__table__", tbl)
  rawset(cls, "__clause_element__", tbl)
  rawset(cls, "__tablename__", tbl.name)
  local margs = resolved.__mapper_args__ or {}
  if margs.primary_key then
    -- a primary key named by the mapper only: not supported yet
    raise("ArgumentError", "__mapper_args__.primary_key is not supported yet")
  end
  local m = make_mapper(cls, tbl, attr_keys, rels)
  m.registry = reg
  rawset(cls, "__mapper__", m)
  reg.classes[name] = cls
  hooks.announce_backrefs(m)
  getmetatable(cls).__call = C.constructor(m.mt, m.nattrs, m.slots,
                                           construct_others)
  for key, col in pairs(m.attrs) do rawset(cls, key, col) end
  if resolved.__tostring then rawset(cls, "__tostring", resolved.__tostring) end
  reg.mappers[#reg.mappers + 1] = m
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
  return setmetatable({metadata = opts.metadata or sa.MetaData(),
                       mappers = {}, classes = {}, backrefs = {}},
                      Registry)
end

function Registry:configure() hooks.configure() end

-- map_imperatively(cls, table, {properties}): a plain Lua table becomes a
-- mapped class of `table` (its fields stay methods and class attributes)
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
  local rels = {}
  for k, v in pairs(opts.properties or {}) do
    if is_relationship(v) then rels[k] = v end
  end
  rawset(cls, "__table__", tbl)
  rawset(cls, "__clause_element__", tbl)
  local m = make_mapper(cls, tbl, {}, rels)
  m.registry = self
  rawset(cls, "__mapper__", m)
  self.classes[rawget(cls, "__name__")] = cls
  hooks.announce_backrefs(m)
  for key, col in pairs(m.attrs) do rawset(cls, key, col) end
  mt.__call = C.constructor(m.mt, m.nattrs, m.slots, construct_others)
  self.mappers[#self.mappers + 1] = m
  return m
end

function orm.declarative_base(opts)
  opts = opts or {}
  local reg = opts.registry or orm.registry(opts)
  local Base = {metadata = reg.metadata, registry = reg, __abstract__ = true,
                class = class_method}
  return Base
end

function orm.declared_attr(fn) return declared_attr(fn) end
orm.mapped_column = sa.Column

-- relationship(): a specification, made a property of the mapper that
-- declares it (resolved later: see "relationships")
function orm.relationship(target, opts)
  return {__kind = "relationship", argument = target, options = opts or {}}
end
-- backref(name, opts): the other side's options for relationship{backref}
function orm.backref(name, opts)
  return {__kind = "backref", name = name, options = opts or {}}
end
function orm.configure_mappers() hooks.configure() end

------------------------------------------------------------------------
-- sessions
------------------------------------------------------------------------

local sessions = setmetatable({}, {__mode = "v"}) -- id -> session
local next_session_id = 0
local listeners = setmetatable({}, {__mode = "k"}) -- engine -> event -> list

local Session = {}
local SessionMT = {__name = "retort.Session"}

local function mapper_of(obj)
  return rawget(C.class(obj), "__mapper__")
end

local function idmap_for(s, m)
  local t = s._idmap[m]
  if not t then
    t = setmetatable({}, {__mode = "v"})
    s._idmap[m] = t
  end
  return t
end

local function pk_values(obj, m, committed)
  local vals = {}
  for k, i in ipairs(m.pk_index) do
    local v
    if committed then v = C.committed(obj, i) else v = C.get(obj, i) end
    vals[k] = v
  end
  return vals
end

local function key_of(m, vals)
  if #m.pk_index == 1 then return vals[1] end
  local idx = {}
  for k = 1, #vals do idx[k] = k end
  return C.rowkey(vals, idx)
end

-- the primary key values an object was loaded or inserted with, and the
-- key of its identity map entry
local function ident_vals(obj, m)
  local id = C.identity(obj)
  if id == nil then return nil end
  if #m.pk_index == 1 then return {id} end
  return id
end

local function ident_key(obj, m)
  local id = C.identity(obj)
  if id == nil or #m.pk_index == 1 then return id end
  return key_of(m, id)
end

local function ident_store(m, vals)
  if #m.pk_index == 1 then return vals[1] end
  return vals
end

function orm.Session(bind, opts)
  opts = opts or {}
  next_session_id = next_session_id + 1
  local s = setmetatable({
    bind = bind, id = next_session_id,
    autoflush = opts.autoflush ~= false,
    expire_on_commit = opts.expire_on_commit ~= false,
    _idmap = {}, _new = {}, _newlist = {}, _dirty = {}, _deleted = {},
    _reldirty = {},
    _txs = {}, -- transaction levels: {new = {}, deleted = {}, tx = savepoint}
  }, SessionMT)
  sessions[s.id] = s
  return s
end

function orm.sessionmaker(opts)
  opts = opts or {}
  local bind = opts.bind or opts[1]
  return setmetatable({}, {__call = function(_, o)
    local merged = {}
    for k, v in pairs(opts) do merged[k] = v end
    for k, v in pairs(o or {}) do merged[k] = v end
    return orm.Session(merged.bind or bind, merged)
  end, __index = {begin = function(self)
    local s = self()
    return s:begin()
  end}})
end

-- engine events: listeners of the session's bind
local function dispatch(s, name, ...)
  local l = listeners[s.bind]
  if l and l[name] then for _, fn in ipairs(l[name]) do fn(...) end end
end

-- session events: listeners of this session, and of orm.Session (all)
local function session_event(s, name, ...)
  for _, target in ipairs({s, orm.Session}) do
    local l = listeners[target]
    if l and l[name] then for _, fn in ipairs(l[name]) do fn(s, ...) end end
  end
end

-- every statement of the ORM goes through here (or run_compiled)
local function run(s, conn, stmt, params)
  local l = listeners[s.bind]
  if not l then return conn:execute(stmt, params) end
  local sql, pos = compile_hook(stmt, conn.dialect.name, params)
  local many = type(params) == "table" and type(params[1]) == "table"
  if l.before_cursor_execute then
    dispatch(s, "before_cursor_execute", conn, nil, sql, pos, nil, many)
  end
  local r = conn:execute(stmt, params)
  if l.after_cursor_execute then
    dispatch(s, "after_cursor_execute", conn, nil, sql, pos, nil, many)
  end
  return r
end

function Session:_check_active()
  if self._failed then
    raise("InvalidRequestError",
          "This Session's transaction has been rolled back due to a " ..
          "previous exception during flush. To begin a new transaction " ..
          "with this Session, first issue Session.rollback(). Original " ..
          "exception was: " .. tostring(self._failed))
  end
end

function Session:connection()
  self:_check_active()
  if not self._conn then
    self._conn = self.bind.connect and self.bind:connect() or self.bind
    self._txs = {{new = {}, deleted = {}}}
  end
  return self._conn
end

-- the persistent objects of the session (in its identity maps, or held
-- for their changes), each once
local function all_objects(s)
  local out, seen = {}, {}
  for _, map in pairs(s._idmap) do
    for _, obj in pairs(map) do
      out[#out + 1], seen[obj] = obj, true
    end
  end
  for obj in pairs(s._dirty) do
    if not seen[obj] then out[#out + 1] = obj end
  end
  return out
end

local function set_state(obj, state, sid)
  C.lifecycle(obj, state)
  if sid then C.session(obj, sid) end
end

-- object access hooks (called from C)
function hooks.modified(obj)
  local s = sessions[C.session(obj)]
  if s then s._dirty[obj] = true end
end

local function load_by_pk(s, m, vals, obj)
  local conn = s:connection()
  local stmt = sa.select(m.local_table)
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(vals[k])) end
  local rows = run(s, conn, stmt):all()
  local out = {}
  C.load(rows, 1, #rows, m.class, m.mt, m.nattrs, m.colpos, m.pk_index,
         idmap_for(s, m), s.id, obj ~= nil, out, 0)
  return out[1]
end

function hooks.load_expired(obj, key)
  local sid = C.session(obj)
  local s = sid ~= 0 and sessions[sid]
  local m = mapper_of(obj)
  if not s or C.lifecycle(obj) == "detached" then
    raise("DetachedInstanceError", string.format(
      "Instance %s is not bound to a Session; attribute refresh operation " ..
      "cannot proceed", objstr(obj)))
  end
  local got = load_by_pk(s, m, ident_vals(obj, m), obj)
  if got == nil then
    raise("ObjectDeletedError", string.format(
      "Instance '%s' has been deleted, or its row is otherwise not present.",
      objstr(obj)))
  end
  return (C.get(obj, m.slots[key]))
end

------------------------------------------------------------------------
-- relationships
------------------------------------------------------------------------
--
-- A relationship is a property of the mapper that declares it (and the
-- class attribute of that name, for queries and loader options).  It is
-- resolved by configure() the first time any is needed, once all classes
-- exist: its target, its direction, and the column pairs the flush copies
-- from the referenced ("source") object into the referencing one.
--
-- The loaded value lives among the instance's extras under its key: a
-- collection (a Lua list whose metatable holds the methods) or the
-- related object; a scalar loaded as nil is marked under nilmark[key].
-- What was added and removed since the last flush is kept per object
-- and key under changekey[key]; the session keeps the objects with such
-- changes (s._reldirty) until the flush turns them into foreign key
-- values, association rows and orphan deletions.

local Rel = {}
Rel.__index = Rel
Rel.__name = "retort.Relationship"
Rel.__tostring = function(r) return r.parent.class.__name__ .. "." .. r.key end

local unconfigured = {}
local function markkey(prefix)
  return setmetatable({}, {__index = function(t, k)
    local v = prefix .. k
    t[k] = v
    return v
  end})
end
local nilmark, changekey, lazymark =
  markkey("\0nil:"), markkey("\0changes:"), markkey("\0lazy:")
local OWNER, REL = {}, {} -- a collection's owner and relationship

local cascade_all = {"save-update", "merge", "refresh-expire", "expunge",
                     "delete"}
local cascade_known = {["save-update"] = true, merge = true,
                       ["refresh-expire"] = true, expunge = true,
                       delete = true, ["delete-orphan"] = true}

local function parse_cascade(text)
  local c = {}
  for w in string.gmatch(text or "save-update, merge", "[%w_%-]+") do
    if w == "all" then
      for _, x in ipairs(cascade_all) do c[x] = true end
    elseif w ~= "none" then
      if not cascade_known[w] then
        raise("ArgumentError", "Invalid cascade option(s): '" .. w .. "'")
      end
      c[w] = true
    end
  end
  return c
end

function hooks.add_relationship(m, key, spec)
  local r = setmetatable({key = key, parent = m, argument = spec.argument,
                          options = spec.options}, Rel)
  m.relationships[key] = r
  m.relkeys[key] = true
  m.has_rels = true
  rawset(m.class, key, r)
  unconfigured[#unconfigured + 1] = r
  return r
end

-- A backref is made at configure time, but its key is an attribute of
-- the target's instances at once (reading it configures): the target's
-- relationship keys get it now, or when the target class is declared.
function hooks.announce_backrefs(m)
  local reg = m.registry
  for _, name in ipairs(reg.backrefs[m.class.__name__] or {}) do
    m.relkeys[name] = true
  end
  reg.backrefs[m.class.__name__] = nil
  for _, r in pairs(m.relationships) do
    local b = r.options.backref
    if b then
      local name = type(b) == "table" and b.name or b
      local arg = r.argument
      local tm = type(arg) == "table" and rawget(arg, "__mapper__")
      if type(arg) == "string" then
        local cls = reg.classes[arg]
        tm = cls and rawget(cls, "__mapper__")
        if not tm then
          reg.backrefs[arg] = reg.backrefs[arg] or {}
          table.insert(reg.backrefs[arg], name)
        end
      end
      if tm then tm.relkeys[name] = true end
    end
  end
end

local function column_list(x)
  if type(x) == "function" then x = x() end
  if x == nil then return nil end
  if C.node_kind(x) then return {x} end
  return x
end

local function ptrset(cols)
  if not cols then return nil end
  local set = {}
  for _, c in ipairs(cols) do set[C.node_ptr(c)] = true end
  return set
end

-- the attribute index of each column of m, by node
local function colindex(m)
  if not m.colidx then
    m.colidx = {}
    for i, col in ipairs(m.columns) do m.colidx[C.node_ptr(col)] = i end
  end
  return m.colidx
end

-- {fk column, referenced column} for the foreign keys of table `from`
-- that reference table `to` (only those among `only`, when given)
local function fk_pairs(from, to, only)
  local out = {}
  for _, fk in ipairs(from.foreign_keys) do
    local tname, cname = string.match(fk.target_fullname, "^(.*)%.([^.]+)$")
    if tname == to.name or tname == to.fullname then
      if not only or only[C.node_ptr(fk.parent)] then
        out[#out + 1] = {fk.parent, to.c[cname]}
      end
    end
  end
  return out
end

local function same(a, b) return C.node_ptr(a) == C.node_ptr(b) end

-- {fk column, referenced column} for the equalities of a join condition:
-- the foreign key side is the one named by foreign_keys, else the one
-- with a ForeignKey to the other, else the one not in a primary key
local function cond_pairs(cond, only)
  local raw, other = C.join_pairs(cond)
  local out = {}
  for _, p in ipairs(raw) do
    local a, b = p[1], p[2]
    local fk_a
    if only then
      fk_a = only[C.node_ptr(a)] and true or false
    else
      fk_a = nil
      for _, fk in ipairs(a.table.foreign_keys) do
        if same(fk.parent, a) and fk.target_fullname ==
           b.table.name .. "." .. b.name then fk_a = true end
      end
      if fk_a == nil then
        for _, fk in ipairs(b.table.foreign_keys) do
          if same(fk.parent, b) and fk.target_fullname ==
             a.table.name .. "." .. a.name then fk_a = false end
        end
      end
      if fk_a == nil then fk_a = not a.primary_key end
    end
    if fk_a then out[#out + 1] = {a, b} else out[#out + 1] = {b, a} end
  end
  return out, other
end

local function rel_error(r, msg)
  raise("ArgumentError", "relationship " .. tostring(r) .. ": " .. msg)
end

local function resolve_class(r, x)
  if type(x) == "function" then x = x() end
  if type(x) == "string" then
    local cls = r.parent.registry and r.parent.registry.classes[x]
    if cls == nil then
      raise("InvalidRequestError", string.format(
        "When initializing mapper %s, expression '%s' failed to locate a " ..
        "name ('%s'). If this is a class name, consider adding this " ..
        "relationship() to the %s class after both dependent classes " ..
        "have been defined.", tostring(r.parent), x, x,
        tostring(r.parent.class)))
    end
    x = cls
  end
  local m = type(x) == "table" and rawget(x, "__mapper__")
  if getmetatable(x) == Mapper then m = x end
  if not m then rel_error(r, "the target is not a mapped class") end
  return m
end

local function resolve_table(r, x)
  if type(x) == "function" then x = x() end
  if type(x) == "string" then
    local t = r.parent.local_table.metadata.tables[x]
    if not t then rel_error(r, "no table named '" .. x .. "'") end
    return t
  end
  return x
end

local function order_list(r, x)
  if type(x) == "function" then x = x() end
  if x == nil or x == false then return nil end
  if type(x) == "string" then
    local cname, attr = string.match(x, "^([%w_]+)%.([%w_]+)$")
    local cls = cname and r.parent.registry.classes[cname]
    if cls then return {cls[attr]} end
    return {r.target.attrs[x]}
  end
  if C.node_kind(x) then return {x} end
  return x
end

-- index lists for pairs {a col, b col}: positions of a in ma, b in mb
local function pair_indexes(pairs_, ma, mb)
  local ia, ib = {}, {}
  for k, p in ipairs(pairs_) do
    ia[k] = colindex(ma)[C.node_ptr(p[1])]
    ib[k] = colindex(mb)[C.node_ptr(p[2])]
  end
  return ia, ib
end

local function resolve_rel(r)
  local o, m = r.options, r.parent
  local tm = resolve_class(r, r.argument)
  r.target = tm
  r.viewonly = o.viewonly or false
  -- a viewonly relationship writes nothing and cascades nothing
  r.cascade = r.viewonly and {} or parse_cascade(o.cascade)
  r.lazy = o.lazy or "select"
  if r.lazy == true then r.lazy = "select" end
  if r.lazy == false then r.lazy = "joined" end
  r.passive_deletes = o.passive_deletes or false
  r.post_update = o.post_update or false
  local only = ptrset(column_list(o.foreign_keys))
  local pt, tt = m.local_table, tm.local_table
  local pj, sj = o.primaryjoin, o.secondaryjoin
  if type(pj) == "function" then pj = pj() end
  if type(sj) == "function" then sj = sj() end
  r.primaryjoin, r.secondaryjoin = pj, sj
  if o.secondary then
    local sec = resolve_table(r, o.secondary)
    r.secondary = sec
    local lp, rp = fk_pairs(sec, pt, only), fk_pairs(sec, tt, only)
    local other1, other2
    if pj then lp, other1 = cond_pairs(pj, only) end
    if sj then rp, other2 = cond_pairs(sj, only) end
    if other1 or other2 then r.extra = true end
    if pj and sj and same(pt, tt) then
      -- self-referential: the conditions tell the sides apart
    elseif same(pt, tt) then
      rel_error(r, "a self-referential many-to-many needs primaryjoin " ..
                "and secondaryjoin")
    end
    if #lp == 0 or #rp == 0 then
      rel_error(r, "could not determine join condition between parent/" ..
                "child tables through the secondary table")
    end
    r.direction = "manytomany"
    -- {secondary column, referenced column} -> indexes in the mappers
    r.sec_local, r.sec_remote = {}, {}
    for k, p in ipairs(lp) do
      r.sec_local[k] = {p[1], colindex(m)[C.node_ptr(p[2])], p[2]}
    end
    for k, p in ipairs(rp) do
      r.sec_remote[k] = {p[1], colindex(tm)[C.node_ptr(p[2])], p[2]}
    end
    r.local_idx = {}
    for k, q in ipairs(r.sec_local) do r.local_idx[k] = q[2] end
  else
    local otm, mto
    local given, other
    if pj then
      given, other = cond_pairs(pj, only)
      r.extra = other or nil
    end
    if given and not same(pt, tt) then
      otm, mto = {}, {}
      for _, p in ipairs(given) do
        if same(p[1].table, tt) then otm[#otm + 1] = p
        else mto[#mto + 1] = p end
      end
      r.self_ref = nil
    elseif same(pt, tt) then
      local all = given or fk_pairs(pt, pt, only)
      local remote = ptrset(column_list(o.remote_side))
      local to_one = false
      if remote then
        for _, p in ipairs(all) do
          if remote[C.node_ptr(p[2])] then to_one = true end
        end
      end
      if to_one then otm, mto = {}, all else otm, mto = all, {} end
      r.self_ref = true
    else
      otm, mto = fk_pairs(tt, pt, only), fk_pairs(pt, tt, only)
    end
    if #otm > 0 and #mto > 0 then
      rel_error(r, "more than one foreign key path links the tables; " ..
                "name the columns with foreign_keys")
    elseif #otm == 0 and #mto == 0 then
      raise("ArgumentError", string.format(
        "Could not determine join condition between parent/child tables " ..
        "on relationship %s - there are no foreign keys linking these " ..
        "tables.  Ensure that referencing columns are associated with a " ..
        "ForeignKey or ForeignKeyConstraint, or specify a 'primaryjoin' " ..
        "expression.", tostring(r)))
    end
    if #otm > 0 then
      r.direction = "onetomany"
      -- source: the parent (referenced columns); destination: the target
      local fk, ref, lr = {}, {}, {}
      for k, p in ipairs(otm) do
        fk[k], ref[k], lr[k] = p[1], p[2], {p[2], p[1]}
      end
      r.local_idx, r.remote_idx = pair_indexes(lr, m, tm)
      r.remote_cols, r.local_cols = fk, ref
    else
      r.direction = "manytoone"
      local fk, ref = {}, {}
      for k, p in ipairs(mto) do fk[k], ref[k] = p[1], p[2] end
      r.local_idx, r.remote_idx = pair_indexes(mto, m, tm)
      r.remote_cols, r.local_cols = ref, fk
      -- the related object is found by primary key when the referenced
      -- columns are the target's key
      local pk_ok = #ref == #tm.primary_key
      for k, col in ipairs(ref) do
        if C.node_ptr(col) ~= C.node_ptr(tm.primary_key[k]) then pk_ok = false end
      end
      r.pk_lookup = pk_ok
    end
  end
  if o.uselist ~= nil then r.uselist = o.uselist
  else r.uselist = r.direction ~= "manytoone" end
  local cc = o.collection_class
  if cc == "set" then
    r.set = true
  elseif cc ~= nil and cc ~= "list" then
    rel_error(r, "collection_class '" .. tostring(cc) .. "' is not " ..
              "supported yet (\"list\" and \"set\" are)")
  end
  r.order_by = order_list(r, o.order_by)
  -- a backref becomes a relationship of the target pointing back here
  if o.backref then
    local name, bo = o.backref, {}
    if type(name) == "table" then name, bo = name.name, name.options end
    local opts = {back_populates = r.key}
    for k, v in pairs(bo) do opts[k] = v end
    if r.secondary and opts.secondary == nil then opts.secondary = r.secondary end
    if opts.foreign_keys == nil and o.foreign_keys then
      opts.foreign_keys = o.foreign_keys
    end
    if tm.relationships[name] then
      rel_error(r, "the backref '" .. name .. "' conflicts with an " ..
                "existing property of " .. tostring(tm))
    end
    hooks.add_relationship(tm, name, {argument = m.class, options = opts})
    r.back_name = name
  else
    r.back_name = o.back_populates
  end
end

local function configure()
  if #unconfigured == 0 then return end
  local i = 1
  local done = {}
  while i <= #unconfigured do
    local r = unconfigured[i]
    resolve_rel(r)
    done[#done + 1] = r
    i = i + 1
  end
  unconfigured = {}
  hooks.generation = (hooks.generation or 0) + 1
  for _, r in ipairs(done) do
    if r.back_name then
      local b = r.target.relationships[r.back_name]
      if not b then
        raise("InvalidRequestError", string.format(
          "Mapper '%s' has no property '%s'.  If this property was " ..
          "indicated from other mappers or configure events, ensure " ..
          "registry.configure() has been called.", tostring(r.target),
          r.back_name))
      end
      r.back, b.back = b, r
    end
    local m = r.parent
    m.rel_list = m.rel_list or {}
    m.rel_list[#m.rel_list + 1] = r
    table.sort(m.rel_list, function(a, b) return a.key < b.key end)
    if r.target == m and r.direction ~= "manytomany" then m.self_ref = true end
    r.target.referenced_by = r.target.referenced_by or {}
    table.insert(r.target.referenced_by, r)
  end
end
hooks.configure = configure

-- values and change records --------------------------------------------

local autoflush -- the session's (defined with the flush)

local function session_of(obj)
  local sid = C.session(obj)
  return sid ~= 0 and sessions[sid] or nil
end

local function find(list, x)
  for i = 1, #list do if rawequal(list[i], x) then return i end end
  return nil
end

-- the change record of obj's relationship r (made on first change); the
-- session that holds obj remembers it for the flush
local function changes(obj, r)
  local key = changekey[r.key]
  local ch = C.extra(obj, key)
  if not ch then
    ch = {add = {}, rem = {}}
    C.extra(obj, key, ch)
  end
  local s = session_of(obj)
  if s then s._reldirty[obj] = true end
  return ch
end

local function note_add(obj, r, x)
  local ch = changes(obj, r)
  if ch.rem[x] then ch.rem[x] = nil else ch.add[x] = true end
end

local function note_remove(obj, r, x)
  local ch = changes(obj, r)
  if ch.add[x] then ch.add[x] = nil else ch.rem[x] = true end
end

local function set_raw(obj, r, v)
  C.extra(obj, r.key, v)
  C.extra(obj, nilmark[r.key], v == nil or nil)
end

local function check_target(r, x)
  if not C.isinstance(x) or mapper_of(x) ~= r.target then
    raise("ArgumentError", string.format(
      "relationship %s takes %s instances, not %s", tostring(r),
      r.target.class.__name__, C.isinstance(x) and
      tostring(mapper_of(x).class.__name__) or type(x)))
  end
end

-- collections ----------------------------------------------------------

local Coll = {}
local CollMT = {__index = Coll, __name = "retort.Collection"}
CollMT.__tostring = function(c)
  local parts = {}
  for i = 1, #c do parts[i] = tostring(c[i]) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

-- a set collection keeps its members in a list too (the order they
-- came in); pairs() gives member, true
local SetColl = {}
local SetMT = {__index = SetColl, __name = "retort.SetCollection"}
SetMT.__tostring = function(c)
  if #c == 0 then return "set()" end
  local parts = {}
  for i = 1, #c do parts[i] = tostring(c[i]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
SetMT.__pairs = function(c)
  local i = 0
  return function()
    i = i + 1
    local x = c[i]
    if x ~= nil then return x, true end
  end, c, nil
end

local function new_coll(owner, r, items)
  items = items or {}
  items[OWNER], items[REL] = owner, r
  return setmetatable(items, r.set and SetMT or CollMT)
end

local cascade_add -- below

-- attribute events of a relationship: listen(User.addresses, "append", fn)
-- calls fn(target, value, initiator) (initiator: nil here); "set" gets
-- fn(target, value, oldvalue, initiator).  The other side fires too.
local function attr_event(r, name, ...)
  local l = listeners[r]
  if l and l[name] then for _, fn in ipairs(l[name]) do fn(...) end end
end

-- x's relationship b now includes (or is) owner: the other side of a
-- change made on owner
local function back_link(x, b, owner)
  if b.uselist then
    local c = C.extra(x, b.key)
    if c == nil then
      local st = C.lifecycle(x)
      if st == "transient" or st == "pending" then
        c = new_coll(x, b)
        C.extra(x, b.key, c)
      end
    end
    attr_event(b, "append", x, owner, nil)
    if c and not find(c, owner) then c[#c + 1] = owner end
    note_add(x, b, owner)
  else
    local old = C.extra(x, b.key)
    if rawequal(old, owner) then return end
    if old ~= nil and b.back.uselist then
      -- x leaves the collection of its previous owner
      local oc = C.extra(old, b.back.key)
      local i = oc and find(oc, x)
      if i then table.remove(oc, i) end
    end
    attr_event(b, "set", x, owner, old, nil)
    set_raw(x, b, owner)
    changes(x, b).set = true
  end
end

local function back_unlink(x, b, owner)
  if b.uselist then
    attr_event(b, "remove", x, owner, nil)
    local c = C.extra(x, b.key)
    local i = c and find(c, owner)
    if i then table.remove(c, i) end
    note_remove(x, b, owner)
  elseif rawequal(C.extra(x, b.key), owner) then
    attr_event(b, "set", x, nil, owner, nil)
    set_raw(x, b, nil)
    changes(x, b).set = true
  end
end

-- x was added to owner's relationship r by the user: the other side
-- follows, and a session holding owner takes x (save-update cascade;
-- never through the other side: SQLAlchemy 2.0's rule)
local function appended(owner, r, x)
  note_add(owner, r, x)
  if r.back then back_link(x, r.back, owner) end
  attr_event(r, "append", owner, x, nil) -- after the other side's, as there
  if r.cascade["save-update"] then
    local s = session_of(owner)
    if s and C.lifecycle(owner) ~= "deleted" then cascade_add(s, x) end
  end
end

local function removed(owner, r, x)
  note_remove(owner, r, x)
  if r.back then back_unlink(x, r.back, owner) end
  attr_event(r, "remove", owner, x, nil)
end

function Coll:append(x)
  check_target(self[REL], x)
  self[#self + 1] = x
  appended(self[OWNER], self[REL], x)
end

function Coll:insert(i, x)
  if x == nil then return self:append(i) end
  check_target(self[REL], x)
  table.insert(self, i, x)
  appended(self[OWNER], self[REL], x)
end

function Coll:extend(list)
  for _, x in ipairs(list) do self:append(x) end
end

function Coll:remove(x)
  local i = find(self, x)
  if not i then
    raise("ArgumentError", "Collection.remove(x): x not in the collection")
  end
  table.remove(self, i)
  removed(self[OWNER], self[REL], x)
end

function Coll:pop(i)
  local x = table.remove(self, i or #self)
  if x ~= nil then removed(self[OWNER], self[REL], x) end
  return x
end

function Coll:clear()
  while #self > 0 do
    removed(self[OWNER], self[REL], table.remove(self, 1))
  end
end

function Coll:contains(x) return find(self, x) ~= nil end
function Coll:index(x) return find(self, x) end

function SetColl:add(x)
  check_target(self[REL], x)
  if find(self, x) then return end
  self[#self + 1] = x
  appended(self[OWNER], self[REL], x)
end

function SetColl:discard(x)
  local i = find(self, x)
  if i then
    table.remove(self, i)
    removed(self[OWNER], self[REL], x)
  end
end

SetColl.remove = Coll.remove
SetColl.contains = Coll.contains
SetColl.clear = Coll.clear
SetColl.pop = function(c) return Coll.pop(c) end

-- assigning: a Lua list (or nil) replaces a collection; an object (or
-- nil) a scalar
local function set_collection(obj, r, list)
  if list ~= nil and (type(list) ~= "table" or C.isinstance(list)) then
    raise("ArgumentError", "relationship " .. tostring(r) ..
          " is a collection: assign a list")
  end
  if r.set and list and #list == 0 and next(list) ~= nil and
     getmetatable(list) == nil then
    -- a set given as {[obj] = true, ...}
    local items = {}
    for x in pairs(list) do items[#items + 1] = x end
    list = items
  end
  -- a copy: the list may be a collection the moves below change
  list = table.move(list or {}, 1, #(list or {}), 1, {})
  local old = C.extra(obj, r.key)
  if old == nil and C.lifecycle(obj) == "persistent" then old = obj[r.key] end
  local keep, had = {}, {}
  for _, x in ipairs(list) do check_target(r, x); keep[x] = true end
  local new = new_coll(obj, r)
  C.extra(obj, r.key, new)
  for _, x in ipairs(old or {}) do
    had[x] = true
    if not keep[x] then removed(obj, r, x) end
  end
  for _, x in ipairs(list) do
    if not (r.set and find(new, x)) then
      new[#new + 1] = x
      if not had[x] then appended(obj, r, x) end
    end
  end
end

local function set_scalar(obj, r, v)
  if v ~= nil then check_target(r, v) end
  local old = C.extra(obj, r.key)
  if old == nil and not C.extra(obj, nilmark[r.key]) and
     r.direction ~= "manytoone" and C.lifecycle(obj) == "persistent" then
    old = obj[r.key] -- the one-to-one object being replaced
  end
  -- nil over an unloaded value is still a change (to NULL)
  if rawequal(old, v) and (v ~= nil or C.extra(obj, nilmark[r.key]) or
                           C.lifecycle(obj) ~= "persistent") then
    return
  end
  set_raw(obj, r, v)
  local ch = changes(obj, r)
  ch.set = true
  if old ~= nil then
    ch.rem[old] = true
    if r.back then back_unlink(old, r.back, obj) end
  end
  if v ~= nil then
    ch.rem[v] = nil
    if r.back then back_link(v, r.back, obj) end
  end
  attr_event(r, "set", obj, v, old, nil)
  if v ~= nil and r.cascade["save-update"] then
    local s = session_of(obj)
    if s and C.lifecycle(obj) ~= "deleted" then cascade_add(s, v) end
  end
end

function hooks.rel_set(obj, key, v)
  configure()
  local r = mapper_of(obj).relationships[key]
  if not r then return C.extra(obj, key, v) end
  if rawequal(v, sa.null) then v = nil end
  if r.uselist then set_collection(obj, r, v) else set_scalar(obj, r, v) end
end

-- loading --------------------------------------------------------------

-- the value of obj's attribute i: an expired primary key is known from
-- the identity, other expired columns load
local function col_value(obj, m, i)
  local v, loaded = C.get(obj, i)
  if loaded then return v end
  local pkpos = m.pk_pos[i]
  local ident = pkpos and C.identity(obj)
  if ident ~= nil then
    if #m.pk_index == 1 then return ident end
    return ident[pkpos]
  end
  return obj[m.keys[i]]
end

-- the values of obj's columns that the related rows refer to (or that
-- refer to them)
local function local_values(obj, r)
  local m, vals = r.parent, {}
  for k, i in ipairs(r.local_idx) do vals[k] = col_value(obj, m, i) end
  return vals
end

-- A join condition with more than column equalities (primaryjoin,
-- secondaryjoin) also filters what loads: the condition itself is added
-- (it names the parent's table, which is then in the FROM list too).
local function extra_criteria(r, stmt)
  if not r.extra or r.self_ref then return stmt end
  if r.primaryjoin then stmt = stmt:where(r.primaryjoin) end
  if r.secondaryjoin then stmt = stmt:where(r.secondaryjoin) end
  return stmt
end

-- the SELECT of r's related rows for one parent, compiled once per
-- dialect; its parameters are the parent's local values in order
local function lazy_compiled(r, conn)
  local d = conn.dialect.name
  r._lazy = r._lazy or {}
  local c = r._lazy[d]
  if c then return c end
  local stmt = sa.select(r.target.local_table)
  local n
  if r.secondary then
    local on
    for _, p in ipairs(r.sec_remote) do
      local cond = p[3]:eq(p[1])
      on = on and sa.and_(on, cond) or cond
    end
    stmt = stmt:join(r.secondary, on)
    for k, p in ipairs(r.sec_local) do
      stmt = stmt:where(p[1]:eq(sa.bindparam("lz" .. k)))
    end
    n = #r.sec_local
  else
    for k, col in ipairs(r.remote_cols) do
      stmt = stmt:where(col:eq(sa.bindparam("lz" .. k)))
    end
    n = #r.remote_cols
  end
  stmt = extra_criteria(r, stmt)
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  local marks, back = {}, {}
  for k = 1, n do
    local mark = "\0lz" .. k
    marks["lz" .. k], back[mark] = mark, k
  end
  local sql, pos = compile_hook(stmt, d, marks)
  local order = {}
  for i, v in ipairs(pos) do order[i] = back[v] or {v} end
  c = {sql = sql, order = order}
  r._lazy[d] = c
  return c
end

local function exec_lazy(s, conn, c, vals)
  local params = {}
  for i, o in ipairs(c.order) do
    if type(o) == "table" then params[i] = o[1] else params[i] = vals[o] end
  end
  local l = listeners[s.bind]
  if l and l.before_cursor_execute then
    dispatch(s, "before_cursor_execute", conn, nil, c.sql, params, nil, false)
  end
  local res = conn:exec_driver_sql(c.sql, params)
  if l and l.after_cursor_execute then
    dispatch(s, "after_cursor_execute", conn, nil, c.sql, params, nil, false)
  end
  return res
end

local function load_rows(s, m, rows, out)
  out = out or {}
  C.load(rows, 1, #rows, m.class, m.mt, m.nattrs, m.colpos, m.pk_index,
         idmap_for(s, m), s.id, false, out, #out)
  return out
end

local function store_loaded(obj, r, objs)
  if r.uselist then
    local c = new_coll(obj, r, objs)
    C.extra(obj, r.key, c)
    return c
  end
  local v = objs[1]
  set_raw(obj, r, v)
  return v
end

local function load_value(s, r, obj)
  local vals = local_values(obj, r)
  for k = 1, #r.local_idx do
    if vals[k] == nil then return store_loaded(obj, r, {}) end
  end
  if r.pk_lookup then
    -- the identity map first (an expired object there is refreshed)
    local map = s._idmap[r.target]
    local found = map and map[key_of(r.target, vals)]
    if found ~= nil and not lselect(2, C.get(found, r.target.pk_index[1])) then
      found = load_by_pk(s, r.target, vals, found)
    end
    if found ~= nil then return store_loaded(obj, r, {found}) end
  end
  autoflush(s)
  local conn = s:connection()
  local rows = exec_lazy(s, conn, lazy_compiled(r, conn), vals):all()
  return store_loaded(obj, r, load_rows(s, r.target, rows))
end

-- an unloaded relationship was read
function hooks.rel_get(obj, key)
  configure()
  local r = mapper_of(obj).relationships[key]
  if not r then return nil end
  if C.extra(obj, nilmark[key]) then return nil end
  local st = C.lifecycle(obj)
  local strategy = C.extra(obj, lazymark[key]) or r.lazy
  if st == "transient" or st == "pending" or strategy == "noload" then
    -- nothing to load: an empty collection, or nil
    if r.uselist then return store_loaded(obj, r, {}) end
    return nil
  end
  if strategy == "raise" or strategy == "raise_on_sql" then
    raise("InvalidRequestError", "'" .. tostring(r) ..
          "' is not available due to lazy='" .. strategy .. "'")
  end
  local s = session_of(obj)
  if not s or st == "detached" then
    raise("DetachedInstanceError", string.format(
      "Parent instance %s is not bound to a Session; lazy load operation " ..
      "of attribute '%s' cannot proceed", objstr(obj), key))
  end
  return load_value(s, r, obj)
end

-- read a relationship during the flush or a cascade (no autoflush)
local function load_quiet(s, obj, r)
  local prev = s._no_autoflush
  s._no_autoflush = true
  local ok, v = pcall(function() return obj[r.key] end)
  s._no_autoflush = prev
  if not ok then error(v, 0) end
  if r.uselist then return v or {} end
  return {v}
end

-- the loaded related objects (no loading)
local function loaded_related(obj, r)
  local v = C.extra(obj, r.key)
  if v == nil then return {} end
  if r.uselist then return v end
  return {v}
end

-- forget every loaded relationship value of obj (expiry)
local function expire_rels(obj, m, keys)
  if not m.has_rels then return end
  for key in pairs(m.relationships) do
    if keys == nil or keys[key] then
      C.extra(obj, key, nil)
      C.extra(obj, nilmark[key], nil)
      C.extra(obj, changekey[key], nil)
      C.extra(obj, lazymark[key], nil)
    end
  end
end

-- cascades -------------------------------------------------------------

local function related_by(obj, cascade, fn)
  local m = mapper_of(obj)
  if not m.has_rels then return end
  configure()
  for _, r in ipairs(m.rel_list or {}) do
    if r.cascade[cascade] then
      for _, x in ipairs(loaded_related(obj, r)) do fn(x, r) end
    end
  end
end

------------------------------------------------------------------------
-- session operations
------------------------------------------------------------------------

local function checkobj(obj)
  if not C.isinstance(obj) then
    raise("UnmappedInstanceError", "Class '" .. type(obj) .. "' is not mapped")
  end
  return obj
end

local function add_one(self, obj)
  local state, sid = C.lifecycle(obj), C.session(obj)
  if sid ~= 0 and sid ~= self.id and sessions[sid] and
     (state == "pending" or state == "persistent") then
    raise("InvalidRequestError", string.format(
      "Object '%s' is already attached to session '%d' (this is '%d')",
      objstr(obj), sid, self.id))
  end
  if state == "transient" then
    local list = self._newlist
    list[#list + 1] = obj
    self._new[obj] = #list
    set_state(obj, "pending", self.id)
  elseif state == "detached" then
    set_state(obj, "persistent", self.id)
    idmap_for(self, mapper_of(obj))[ident_key(obj, mapper_of(obj))] = obj
    if C.modified(obj) then self._dirty[obj] = true end
  end
  if mapper_of(obj).has_rels then self._reldirty[obj] = true end
end

-- add obj and, through save-update, what its loaded relationships hold
function cascade_add(s, obj, seen)
  seen = seen or {}
  if seen[obj] then return end
  seen[obj] = true
  local st = C.lifecycle(obj)
  if st == "transient" or st == "detached" or C.session(obj) ~= s.id then
    add_one(s, obj)
  end
  related_by(obj, "save-update", function(x) cascade_add(s, x, seen) end)
end

function Session:add(obj)
  checkobj(obj)
  cascade_add(self, obj)
end

function Session:add_all(list)
  for _, obj in ipairs(list) do self:add(obj) end
end

function Session:delete(obj)
  checkobj(obj)
  local state = C.lifecycle(obj)
  if state == "transient" or state == "pending" then
    raise("InvalidRequestError",
          "Instance '" .. objstr(obj) .. "' is not persisted")
  end
  if state == "detached" then self:add(obj) end
  if C.lifecycle(obj) == "persistent" and not self._deleted[obj] then
    self._deleted[obj] = true
    -- the delete cascade loads what it follows (unless passive_deletes)
    local m = mapper_of(obj)
    if m.has_rels then
      configure()
      for _, r in ipairs(m.rel_list or {}) do
        if r.cascade.delete then
          local objs = r.passive_deletes and loaded_related(obj, r) or
                       load_quiet(self, obj, r)
          for _, x in ipairs(objs) do
            local st = C.lifecycle(x)
            if st == "pending" then self:expunge(x)
            elseif st == "persistent" and C.session(x) == self.id then
              self:delete(x)
            end
          end
        end
      end
    end
  end
end

local function forget(s, obj, to)
  s._new[obj], s._dirty[obj], s._deleted[obj] = nil, nil, nil
  local ident = ident_key(obj, mapper_of(obj))
  if ident ~= nil then
    local map = s._idmap[mapper_of(obj)]
    if map and map[ident] == obj then map[ident] = nil end
  end
  if to == "transient" then C.setidentity(obj, nil) end
  set_state(obj, to, 0)
end

function Session:expunge(obj)
  checkobj(obj)
  if C.session(obj) ~= self.id then
    raise("InvalidRequestError", "Instance " .. objstr(obj) ..
          " is not present in this Session")
  end
  local st = C.lifecycle(obj)
  forget(self, obj, st == "pending" and "transient" or "detached")
  self._reldirty[obj] = nil
  related_by(obj, "expunge", function(x)
    if C.session(x) == self.id then self:expunge(x) end
  end)
end

function Session:expunge_all()
  for obj in pairs(self._new) do forget(self, obj, "transient") end
  for _, obj in ipairs(all_objects(self)) do forget(self, obj, "detached") end
  for obj in pairs(self._deleted) do forget(self, obj, "detached") end
  self._idmap, self._new, self._dirty, self._deleted = {}, {}, {}, {}
  self._newlist, self._reldirty = {}, {}
end

function Session:contains(obj)
  if not C.isinstance(obj) then return false end
  local st = C.lifecycle(obj)
  return C.session(obj) == self.id and (st == "pending" or st == "persistent")
end

local function attr_indexes(m, attrs)
  if attrs == nil then return nil end
  local idx = {}
  for _, k in ipairs(attrs) do
    if m.relationships[k] then
      idx.rels = idx.rels or {}
      idx.rels[k] = true
    elseif not m.slots[k] then
      raise("InvalidRequestError", "No such attribute '" .. k .. "'")
    end
    idx[#idx + 1] = m.slots[k]
  end
  return idx
end

function Session:expire(obj, attrs)
  checkobj(obj)
  if C.session(obj) ~= self.id or C.lifecycle(obj) ~= "persistent" then
    raise("InvalidRequestError", string.format(
      "Instance '%s' is not persistent within this Session", objstr(obj)))
  end
  local m = mapper_of(obj)
  local idx = attr_indexes(m, attrs)
  -- the refresh-expire cascade follows what is loaded before it goes
  local related = {}
  if attrs == nil then
    related_by(obj, "refresh-expire", function(x)
      related[#related + 1] = x
    end)
  end
  C.expire(obj, idx)
  expire_rels(obj, m, idx and (idx.rels or {}))
  if not C.modified(obj) then self._dirty[obj] = nil end
  for _, x in ipairs(related) do
    if C.session(x) == self.id and C.lifecycle(x) == "persistent" and
       lselect(2, C.get(x, mapper_of(x).pk_index[1])) then
      self:expire(x)
    end
  end
end

function Session:expire_all()
  for _, obj in ipairs(all_objects(self)) do
    C.expire(obj)
    expire_rels(obj, mapper_of(obj))
  end
  self._dirty = {}
  self._reldirty = {}
end

function Session:refresh(obj, attrs)
  self:expire(obj, attrs)
  local m = mapper_of(obj)
  local got = load_by_pk(self, m, ident_vals(obj, m), obj)
  if got == nil then
    raise("InvalidRequestError", "Could not refresh instance '" ..
          objstr(obj) .. "'")
  end
end

function Session:is_modified(obj)
  checkobj(obj)
  if not C.modified(obj) then return false end
  local m = mapper_of(obj)
  if C.lifecycle(obj) == "persistent" then
    return C.update_params(obj, m.colkeys) ~= nil
  end
  return true
end

------------------------------------------------------------------------
-- the unit of work
------------------------------------------------------------------------

local table_ranks -- below

local function stmt_cache(m)
  m._stmts = m._stmts or {}
  return m._stmts
end

local function update_stmt(m)
  local c = stmt_cache(m)
  if not c.update then
    local stmt = sa.update(m.local_table)
    for k, col in ipairs(m.primary_key) do
      stmt = stmt:where(col:eq(sa.bindparam("pk_" .. m.colkeys[m.pk_index[k]])))
    end
    c.update = stmt
  end
  return c.update
end

local function delete_stmt(m)
  local c = stmt_cache(m)
  if not c.delete then
    local stmt = sa.delete(m.local_table)
    for k, col in ipairs(m.primary_key) do
      stmt = stmt:where(col:eq(sa.bindparam("pk_" .. m.colkeys[m.pk_index[k]])))
    end
    c.delete = stmt
  end
  return c.delete
end

-- Run `rows` (a list of parameter maps for one statement) as one
-- executemany, or one execute for a single row; return the row count.
local function run_batch(s, conn, stmt, rows)
  if #rows == 1 then return run(s, conn, stmt, rows[1]).rowcount end
  return run(s, conn, stmt, rows).rowcount
end

-- The flush order of a metadata's tables, as SQLAlchemy sorts them: in
-- levels (a table after those it references), by name within a level;
-- the tables of a cycle last, by name.  Cached per metadata and count.
local ranks_cache = setmetatable({}, {__mode = "k"})
function table_ranks(md)
  local tables, byname = {}, {}
  for _, t in pairs(md.tables) do tables[#tables + 1] = t end
  local cached = ranks_cache[md]
  if cached and cached.n == #tables and cached.gen == hooks.generation then
    return cached.rank
  end
  table.sort(tables, function(a, b) return a.name < b.name end)
  for _, t in ipairs(tables) do byname[t.name] = t end
  -- the foreign keys of post_update relationships do not order rows
  local post = {}
  for _, t in ipairs(tables) do
    local m = mappers_by_table[C.node_ptr(t)]
    for _, r in ipairs(m and m.rel_list or {}) do
      if r.post_update and r.direction ~= "manytomany" then
        for _, col in ipairs(r.direction == "manytoone" and r.local_cols or
                             r.remote_cols) do
          post[C.node_ptr(col)] = true
        end
      end
    end
  end
  local deps = {}
  for _, t in ipairs(tables) do
    local d = {}
    for _, fk in ipairs(t.foreign_keys) do
      local tn = string.match(fk.target_fullname, "^(.*)%.[^.]+$")
      if tn ~= t.name and byname[tn] and not post[C.node_ptr(fk.parent)] then
        d[tn] = true
      end
    end
    deps[t.name] = d
  end
  -- relationships order rows as foreign keys do (a key may be any column)
  for _, t in ipairs(tables) do
    local m = mappers_by_table[C.node_ptr(t)]
    for _, r in ipairs(m and m.rel_list or {}) do
      local other = r.target.local_table.name
      if other ~= t.name and byname[other] and not r.viewonly and
         not r.post_update then
        if r.direction == "manytoone" then deps[t.name][other] = true
        elseif r.direction == "onetomany" then deps[other][t.name] = true end
      end
    end
  end
  local rank, done, n = {}, {}, 0
  while n < #tables do
    local batch = {}
    for _, t in ipairs(tables) do
      if not done[t.name] then
        local ready = true
        for dn in pairs(deps[t.name]) do
          if not done[dn] then ready = false; break end
        end
        if ready then batch[#batch + 1] = t end
      end
    end
    if #batch == 0 then
      for _, t in ipairs(tables) do
        if not done[t.name] then batch[#batch + 1] = t end
      end
    end
    for _, t in ipairs(batch) do
      done[t.name] = true
      n = n + 1
      rank[C.node_ptr(t)] = n
    end
  end
  ranks_cache[md] = {n = #tables, gen = hooks.generation, rank = rank}
  return rank
end

local function mapper_order(s, objs_by_mapper)
  local ms = {}
  for m in pairs(objs_by_mapper) do ms[#ms + 1] = m end
  -- tables that others reference come first
  local rank = {}
  for _, m in ipairs(ms) do
    if not rank[m.local_table.metadata] then
      for ptr, i in pairs(table_ranks(m.local_table.metadata)) do
        rank[ptr] = i
      end
      rank[m.local_table.metadata] = true
    end
  end
  table.sort(ms, function(a, b)
    local ra, rb = rank[a.ptr] or 0, rank[b.ptr] or 0
    if ra ~= rb then return ra < rb end
    return a.class.__name__ < b.class.__name__
  end)
  return ms
end

-- A flush statement compiled once per mapper, dialect and column pattern:
-- its SQL and, per placeholder, where the value comes from.  `params` is
-- one object's parameter map; compiling it with marker strings for
-- values shows which placeholder takes which parameter (the others are
-- constants: scalar defaults).
local function compiled_for(m, conn, kind, sig, stmt, params)
  local dialect = conn.dialect.name
  local cache = m._compiled
  if not cache then cache = {}; m._compiled = cache end
  local ck = dialect .. "\0" .. kind .. "\0" .. sig
  local c = cache[ck]
  if c then return c end
  local marked, back = {}, {}
  for name in pairs(params) do
    local mark = "\0orm-param:" .. name
    marked[name], back[mark] = mark, name
  end
  local sql, pos = compile_hook(stmt, dialect, marked)
  local order = {}
  for i, v in ipairs(pos) do
    local name = back[v]
    order[i] = name and m.param_source[name] or {v}
  end
  c = {sql = sql, order = order}
  cache[ck] = c
  return c
end

-- Execute a compiled flush statement for objs[i..j] (one executemany
-- when j > i).
local function run_compiled(s, conn, c, objs, i, j)
  local many = j > i
  local params = C.positional(objs, i, j, c.order, many)
  if listeners[s.bind] and listeners[s.bind].before_cursor_execute then
    dispatch(s, "before_cursor_execute", conn, nil, c.sql, params, nil, many)
  end
  local r = conn:exec_driver_sql(c.sql, params)
  if listeners[s.bind] and listeners[s.bind].after_cursor_execute then
    dispatch(s, "after_cursor_execute", conn, nil, c.sql, params, nil, many)
  end
  return r
end

-- UPDATEs for the modified objects of mapper m: only the attributes whose
-- value changed, rows with the same changed set batched, in key order.
local function emit_updates(s, conn, m, objs, done)
  done.upd[#done.upd + 1] = {m, objs}
  local sigs = C.update_sigs(objs)
  local keys, byobj, n = {}, {}, 0
  local single = #m.pk_index == 1
  for r, obj in ipairs(objs) do
    if sigs[r] then
      n = n + 1
      local key = C.identity(obj)
      if not single then key = key_of(m, key) end
      keys[n], byobj[key] = key, r
    end
  end
  if n == 0 then return end
  if single and math.type(keys[1]) then
    table.sort(keys) -- numbers: Lua's own comparison, no closure
  else
    table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  end
  local list, lsigs = {}, {}
  for i = 1, n do
    local r = byobj[keys[i]]
    list[i], lsigs[i] = objs[r], sigs[r]
  end
  local stmt = update_stmt(m)
  local i = 1
  while i <= n do
    local j = i
    while j < n and lsigs[j + 1] == lsigs[i] do j = j + 1 end
    local c = compiled_for(m, conn, "update", lsigs[i], stmt,
                           C.update_params(list[i], m.colkeys, m.pk_params))
    local count = run_compiled(s, conn, c, list, i, j).rowcount
    if count >= 0 and count ~= j - i + 1 then
      raise("StaleDataError", string.format(
        "UPDATE statement on table '%s' expected to update %d row(s); " ..
        "%d were matched.", m.local_table.name, j - i + 1, count))
    end
    i = j + 1
  end
end

local function can_return(conn)
  return conn.dialect.name == "postgresql"
end

-- INSERTs for the pending objects of mapper m, in the order they were
-- added: consecutive rows with the same columns and a primary key given
-- go in one executemany; a row whose key the database generates goes
-- alone, the key read back by RETURNING or lastrowid.
local function emit_inserts(s, conn, m, objs, done)
  local n = #objs
  done.ins[#done.ins + 1] = {m, objs}
  if n == 0 then return end
  local sigs = C.insert_sigs(objs, m.insert_none, m.pk_index)
  local cache = stmt_cache(m)
  local ins = cache.insert or sa.insert(m.local_table)
  cache.insert = ins
  local returning = can_return(conn)
  -- Lua-function defaults are computed per row by the compile step
  local precompiled = not m.lua_defaults
  local i = 1
  while i <= n do
    local obj = objs[i]
    if not sigs[i] then
      local stmt, kind = ins, "insert1"
      if returning then
        cache.insert_returning = cache.insert_returning or
          ins:returning(table.unpack(m.primary_key))
        stmt, kind = cache.insert_returning, "insert_returning"
      end
      local params, sig = C.insert_params(obj, m.colkeys, m.insert_none)
      local r
      if precompiled then
        r = run_compiled(s, conn, compiled_for(m, conn, kind, sig, stmt, params),
                         objs, i, i)
      else
        r = run(s, conn, stmt, params)
      end
      if returning then
        local row = r:first()
        for k, idx in ipairs(m.pk_index) do C.set(obj, idx, row[k]) end
      else
        C.set(obj, m.pk_index[1], r.lastrowid)
      end
      i = i + 1
    else
      local j = i
      while j < n and sigs[j + 1] == sigs[i] do j = j + 1 end
      if precompiled then
        local c = compiled_for(m, conn, "insert", sigs[i], ins,
                               (C.insert_params(obj, m.colkeys, m.insert_none)))
        run_compiled(s, conn, c, objs, i, j)
      else
        local rows = {}
        for k = i, j do
          rows[#rows + 1] = (C.insert_params(objs[k], m.colkeys, m.insert_none))
        end
        run_batch(s, conn, ins, rows)
      end
      i = j + 1
    end
  end
end

local function emit_deletes(s, conn, m, objs, done)
  local keys, bykey = {}, {}
  for i, obj in ipairs(objs) do
    local p, iv = {}, ident_vals(obj, m)
    for k, idx in ipairs(m.pk_index) do p["pk_" .. m.colkeys[idx]] = iv[k] end
    local key = ident_key(obj, m)
    keys[i], bykey[key] = key, p
    done.del[#done.del + 1] = obj
  end
  if #keys == 0 then return end
  if #m.pk_index == 1 and math.type(keys[1]) then
    table.sort(keys)
  else
    table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  end
  local rows = {}
  for i, key in ipairs(keys) do rows[i] = bykey[key] end
  local count = run_batch(s, conn, delete_stmt(m), rows)
  if count >= 0 and count ~= #rows then
    io.stderr:write(string.format(
      "SAWarning: DELETE statement on table '%s' expected to delete %d " ..
      "row(s); %d were matched.  Please set confirm_deleted_rows=False " ..
      "within the mapper configuration to prevent this warning.\n",
      m.local_table.name, #rows, count))
  end
end

-- What the flush did becomes the objects' state only once every statement
-- has succeeded, so a failed flush leaves them as they were.
local function apply_flush(s, done)
  local level = s._txs[#s._txs]
  for _, e in ipairs(done.ins) do
    local m, objs = e[1], e[2]
    C.after_insert(objs, m.pk_index, idmap_for(s, m), s.id, s._new, level.new)
  end
  for _, e in ipairs(done.upd) do
    local m, objs = e[1], e[2]
    local moved = C.after_update(objs, m.pk_index)
    for _, obj in ipairs(moved or {}) do
      local vals = pk_values(obj, m)
      local key, old = key_of(m, vals), ident_key(obj, m)
      if key ~= old then
        local map = idmap_for(s, m)
        map[old] = nil
        map[key] = obj
        C.setidentity(obj, ident_store(m, vals))
      end
    end
  end
  s._dirty = {}
  for _, obj in ipairs(done.del) do
    local m = mapper_of(obj)
    s._deleted[obj], s._dirty[obj] = nil, nil
    local map = idmap_for(s, m)
    local key = ident_key(obj, m)
    if map[key] == obj then map[key] = nil end
    set_state(obj, "deleted", s.id)
    level.deleted[#level.deleted + 1] = obj
    C.commit(obj)
  end
  if next(s._new) == nil then s._newlist = {} end
end

-- the pending objects in the order they were added
local function pending_list(s)
  local out, new = {}, s._new
  for i, obj in ipairs(s._newlist) do
    if new[obj] == i then out[#out + 1] = obj end
  end
  return out
end

-- Relationships in the flush.  presort turns the change records into
-- work before the objects are grouped: foreign key copies per mapper
-- (run just before that mapper's statements, when the referenced rows
-- have their keys), orphans deleted, references to deleted or removed
-- rows set to NULL, and the association rows of many-to-many pairs.
local function in_session(s, x)
  if C.session(x) ~= s.id then return false end
  local st = C.lifecycle(x)
  return (st == "pending" or st == "persistent") and not s._deleted[x]
end

local function assoc_row(list, r, a, b)
  -- one row per pair, whichever side recorded it
  if r.back and tostring(r.back) < tostring(r) then r, a, b = r.back, b, a end
  local e = list[r]
  if not e then
    e = {rel = r, rows = {}, seen = {}}
    list[r] = e
    list[#list + 1] = e
  end
  local sa_ = e.seen[a]
  if not sa_ then sa_ = {}; e.seen[a] = sa_ end
  if sa_[b] then return end
  sa_[b] = true
  e.rows[#e.rows + 1] = {a, b}
end

local function presort(s)
  configure()
  local work = {syncs = {}, ins = {}, del = {}, owners = {}, post = {}}
  local function sync(m, r, src, dst)
    if r.post_update then
      -- a separate UPDATE once the rows exist (or before they go)
      work.post[#work.post + 1] = {r, src, dst}
      return
    end
    local l = work.syncs[m]
    if not l then l = {}; work.syncs[m] = l end
    l[#l + 1] = {r, src, dst}
    if C.lifecycle(dst) == "persistent" then s._dirty[dst] = true end
  end
  -- children of deleted parents lose the reference, unless the database
  -- does it (passive_deletes) or they go too (delete cascade)
  local dels = {}
  for obj in pairs(s._deleted) do dels[#dels + 1] = obj end
  for _, obj in ipairs(dels) do
    for _, r in ipairs(mapper_of(obj).rel_list or {}) do
      if r.post_update and r.direction == "manytoone" and
         col_value(obj, r.parent, r.local_idx[1]) ~= nil then
        sync(r.parent, r, nil, obj) -- its reference goes before the row
      end
      if not r.viewonly and not r.passive_deletes then
        if r.direction == "onetomany" and not r.cascade.delete then
          for _, x in ipairs(load_quiet(s, obj, r)) do
            if in_session(s, x) then sync(r.target, r, nil, x) end
          end
        elseif r.direction == "manytomany" then
          for _, x in ipairs(load_quiet(s, obj, r)) do
            assoc_row(work.del, r, obj, x)
          end
        end
      end
    end
  end
  local owners = work.owners
  for obj in pairs(s._reldirty) do owners[#owners + 1] = obj end
  for _, obj in ipairs(owners) do
    if in_session(s, obj) then
      local m = mapper_of(obj)
      for _, r in ipairs(m.rel_list or {}) do
        local ch = C.extra(obj, changekey[r.key])
        if ch and not r.viewonly then
          local v = C.extra(obj, r.key)
          if r.direction == "onetomany" then
            -- the members added get obj's key
            local members = loaded_related(obj, r)
            for x in pairs(ch.add) do
              if in_session(s, x) and find(members, x) then
                sync(r.target, r, obj, x)
              end
            end
            for x in pairs(ch.rem) do
              local other = r.back and not r.back.uselist and
                            C.extra(x, r.back.key)
              if not find(members, x) and C.session(x) == s.id and
                 (other == nil or rawequal(other, obj)) then
                if r.cascade["delete-orphan"] then
                  if C.lifecycle(x) == "pending" then
                    forget(s, x, "transient")
                  elseif in_session(s, x) then
                    s:delete(x)
                  end
                elseif in_session(s, x) then
                  sync(r.target, r, nil, x)
                end
              end
            end
          elseif r.direction == "manytoone" then
            if ch.set then sync(m, r, v, obj) end
          else
            for x in pairs(ch.add) do
              if in_session(s, x) then assoc_row(work.ins, r, obj, x) end
            end
            for x in pairs(ch.rem) do
              if C.session(x) == s.id then assoc_row(work.del, r, obj, x) end
            end
          end
        end
      end
    end
  end
  return work
end

-- copy the referenced values of src (nil: NULL) into dst's foreign key
local function apply_sync(e)
  local r, src, dst = e[1], e[2], e[3]
  local sidx, didx = r.remote_idx, r.local_idx
  if r.direction == "onetomany" then sidx, didx = r.local_idx, r.remote_idx end
  local dm = mapper_of(dst)
  for k, di in ipairs(didx) do
    local v
    if src ~= nil then v = col_value(src, mapper_of(src), sidx[k]) end
    local cur, loaded = C.get(dst, di)
    if not loaded and C.lifecycle(dst) == "persistent" then
      -- an expired column: its committed value is needed to see a change
      cur, loaded = dst[dm.keys[di]], true
    end
    if not loaded or cur ~= v then dst[dm.keys[di]] = v end
  end
end

-- the statements of mapper m; a self-referential mapper inserts its
-- pending rows in levels, each after the rows it refers to
local delete_levels -- below

local function emit_saves(s, conn, m, sv, syncs, done)
  if not m.self_ref or #sv.ins < 2 then
    for _, e in ipairs(syncs or {}) do apply_sync(e) end
    emit_updates(s, conn, m, sv.upd, done)
    emit_inserts(s, conn, m, sv.ins, done)
    return
  end
  local dep = {}
  for _, e in ipairs(syncs or {}) do
    local src, dst = e[2], e[3]
    if src ~= nil and s._new[src] and mapper_of(src) == m then
      dep[dst] = src
    end
  end
  local depth = {}
  local function depth_of(obj, n)
    if depth[obj] then return depth[obj] end
    local d = 0
    if dep[obj] and n < 1000 then d = depth_of(dep[obj], n + 1) + 1 end
    depth[obj] = d
    return d
  end
  local levels, top = {}, 0
  for _, obj in ipairs(sv.ins) do
    local d = depth_of(obj, 0) + 1
    levels[d] = levels[d] or {}
    table.insert(levels[d], obj)
    if d > top then top = d end
  end
  local by_dst = {}
  for _, e in ipairs(syncs or {}) do
    local l = by_dst[e[3]]
    if not l then l = {}; by_dst[e[3]] = l end
    l[#l + 1] = e
  end
  for d = 1, top do
    for _, obj in ipairs(levels[d] or {}) do
      for _, e in ipairs(by_dst[obj] or {}) do apply_sync(e) end
      by_dst[obj] = nil
    end
    emit_inserts(s, conn, m, levels[d] or {}, done)
  end
  for _, e in ipairs(syncs or {}) do
    if by_dst[e[3]] then apply_sync(e) end
  end
  emit_updates(s, conn, m, sv.upd, done)
end

-- The deleted rows of a self-referential mapper in levels, deepest
-- first: a row goes before the row it refers to (by what is loaded).
function delete_levels(s, m, objs)
  local parent = {}
  for _, obj in ipairs(objs) do
    for _, r in ipairs(m.rel_list or {}) do
      if r.target == m and not r.viewonly then
        if r.direction == "onetomany" then
          for _, x in ipairs(loaded_related(obj, r)) do
            if s._deleted[x] then parent[x] = obj end
          end
        elseif r.direction == "manytoone" then
          local v = C.extra(obj, r.key)
          if v ~= nil and s._deleted[v] then parent[obj] = v end
        end
      end
    end
  end
  local depth, top, levels = {}, 0, {}
  local function depth_of(obj, n)
    if depth[obj] then return depth[obj] end
    local d = 1
    if parent[obj] and n < 1000 then d = depth_of(parent[obj], n + 1) + 1 end
    depth[obj] = d
    return d
  end
  for _, obj in ipairs(objs) do
    local d = depth_of(obj, 0)
    if d > top then top = d end
    levels[d] = levels[d] or {}
    table.insert(levels[d], obj)
  end
  local out = {}
  for d = top, 1, -1 do
    if levels[d] then out[#out + 1] = levels[d] end
  end
  return out
end

-- post_update: one UPDATE per row and relationship, after the inserts and
-- before the deletes; the new value is then the object's committed one
local function emit_post(s, conn, list)
  for _, e in ipairs(list) do
    local r, src, dst = e[1], e[2], e[3]
    local sidx, didx = r.remote_idx, r.local_idx
    if r.direction == "onetomany" then sidx, didx = r.local_idx, r.remote_idx end
    local dm = mapper_of(dst)
    local values, stmt = {}, sa.update(dm.local_table)
    for k, di in ipairs(didx) do
      local v = sa.null
      if src ~= nil then
        v = col_value(src, mapper_of(src), sidx[k])
        if v == nil then v = sa.null end
      end
      values[dm.colkeys[di]] = v
    end
    local ident = ident_vals(dst, dm) or pk_values(dst, dm)
    for k, col in ipairs(dm.primary_key) do stmt = stmt:where(col:eq(ident[k])) end
    run(s, conn, stmt:values(values))
    for k, di in ipairs(didx) do
      local v = values[dm.colkeys[di]]
      if rawequal(v, sa.null) then v = nil end
      C.set(dst, di, v)
    end
  end
end

-- many-to-many association rows: the params of one row
local function assoc_params(r, a, b)
  local p = {}
  for _, q in ipairs(r.sec_local) do
    p[q[1].key] = col_value(a, r.parent, q[2])
  end
  for _, q in ipairs(r.sec_remote) do
    p[q[1].key] = col_value(b, r.target, q[2])
  end
  return p
end

local function emit_assoc(s, conn, list, kind)
  for _, e in ipairs(list) do
    local r = e.rel
    local rows = {}
    for i, pair in ipairs(e.rows) do rows[i] = assoc_params(r, pair[1], pair[2]) end
    if #rows > 0 then
      local stmt
      if kind == "insert" then
        stmt = sa.insert(r.secondary)
      else
        stmt = sa.delete(r.secondary)
        for _, q in ipairs(r.sec_local) do
          stmt = stmt:where(q[1]:eq(sa.bindparam(q[1].key)))
        end
        for _, q in ipairs(r.sec_remote) do
          stmt = stmt:where(q[1]:eq(sa.bindparam(q[1].key)))
        end
      end
      local count = run_batch(s, conn, stmt, rows)
      if kind == "delete" and count >= 0 and count ~= #rows then
        raise("StaleDataError", string.format(
          "DELETE statement on table '%s' expected to delete %d row(s); " ..
          "Only %d were matched.", r.secondary.name, #rows, count))
      end
    end
  end
end

-- the change records are spent once the flush succeeded
local function clear_changes(s, work)
  for _, obj in ipairs(work.owners) do
    local m = mapper_of(obj)
    for key in pairs(m.relationships) do C.extra(obj, changekey[key], nil) end
  end
  s._reldirty = {}
end


function Session:flush()
  self:_check_active()
  if next(self._new) == nil and next(self._dirty) == nil and
     next(self._deleted) == nil and next(self._reldirty) == nil then return end
  session_event(self, "before_flush", nil, nil)
  local conn = self:connection()
  local prev_noflush = self._no_autoflush
  self._no_autoflush = true
  local pok, work = pcall(presort, self)
  self._no_autoflush = prev_noflush
  if not pok then error(work, 0) end
  -- group by mapper: pending in the order they were added
  local saves, dels = {}, {}
  local order = {}
  for _, obj in ipairs(pending_list(self)) do
    local m = mapper_of(obj)
    local sv = saves[m]
    if not sv then sv = {ins = {}, upd = {}}; saves[m] = sv end
    sv.ins[#sv.ins + 1] = obj
  end
  for obj in pairs(self._dirty) do
    if not self._deleted[obj] then
      local m = mapper_of(obj)
      saves[m] = saves[m] or {ins = {}, upd = {}}
      table.insert(saves[m].upd, obj)
    end
  end
  for obj in pairs(self._deleted) do
    local m = mapper_of(obj)
    dels[m] = dels[m] or {}
    table.insert(dels[m], obj)
  end
  local done = {ins = {}, upd = {}, del = {}}
  local ok, err = pcall(function()
    for _, m in ipairs(mapper_order(self, saves)) do
      emit_saves(self, conn, m, saves[m], work.syncs[m], done)
    end
    emit_post(self, conn, work.post)
    emit_assoc(self, conn, work.ins, "insert")
    emit_assoc(self, conn, work.del, "delete")
    local order = mapper_order(self, dels)
    for k = #order, 1, -1 do
      local m = order[k]
      if m.self_ref then
        for _, level in ipairs(delete_levels(self, m, dels[m])) do
          emit_deletes(self, conn, m, level, done)
        end
      else
        emit_deletes(self, conn, m, dels[m], done)
      end
    end
  end)
  if not ok then
    -- the database transaction is gone: roll it back now; the session
    -- refuses work until rollback() (as SQLAlchemy's does)
    pcall(conn.rollback, conn)
    self._failed = err
    error(err, 0)
  end
  session_event(self, "after_flush", nil)
  apply_flush(self, done)
  clear_changes(self, work)
  session_event(self, "after_flush_postexec", nil)
end

function autoflush(s)
  if s.autoflush and not s._no_autoflush then s:flush() end
end

local function end_transaction(s)
  if s._conn and s._conn ~= s.bind then s._conn:close() end
  s._conn = nil
  s._txs = {}
end

function Session:commit()
  self:_check_active()
  self:flush()
  if self._conn then
    self._conn:commit()
    for _, level in ipairs(self._txs) do
      for _, obj in ipairs(level.deleted) do
        if C.lifecycle(obj) == "deleted" then forget(self, obj, "detached") end
      end
    end
    end_transaction(self)
  end
  if self.expire_on_commit then self:expire_all() end
  session_event(self, "after_commit")
end

-- undo the in-memory effects of the transaction levels from `from` up
local function rollback_levels(s, from)
  for k = #s._txs, from, -1 do
    local level = s._txs[k]
    for _, obj in ipairs(level.new) do
      if C.session(obj) == s.id then forget(s, obj, "transient") end
    end
    for _, obj in ipairs(level.deleted) do
      if C.lifecycle(obj) == "deleted" then
        set_state(obj, "persistent", s.id)
        idmap_for(s, mapper_of(obj))[ident_key(obj, mapper_of(obj))] = obj
      end
    end
    s._txs[k] = nil
  end
end

function Session:rollback()
  if self._conn then
    pcall(self._conn.rollback, self._conn)
    rollback_levels(self, 1)
    end_transaction(self)
  end
  self._failed = nil
  for obj in pairs(self._new) do forget(self, obj, "transient") end
  self._new, self._newlist, self._deleted = {}, {}, {}
  self:expire_all()
  session_event(self, "after_rollback")
end

function Session:close()
  if self._conn then
    pcall(self._conn.rollback, self._conn)
    end_transaction(self)
  end
  self._failed = nil
  self:expunge_all()
end
SessionMT.__close = function(s) s:close() end

-- begin(): a transaction object; begin(fn): fn(session) inside one
local SessionTx = {}
SessionTx.__index = SessionTx
SessionTx.__close = function(t, err)
  if t.active then
    if err then t:rollback() else t:commit() end
  end
end

function SessionTx:commit()
  if not self.active then return end
  self.active = false
  if self.nested then
    self.session:flush()
    self.savepoint:commit()
    -- the level's objects now belong to the enclosing transaction
    local s = self.session
    local level = table.remove(s._txs)
    local parent = s._txs[#s._txs]
    for _, o in ipairs(level.new) do parent.new[#parent.new + 1] = o end
    for _, o in ipairs(level.deleted) do
      parent.deleted[#parent.deleted + 1] = o
    end
  else
    self.session:commit()
  end
end

function SessionTx:rollback()
  if not self.active then return end
  self.active = false
  local s = self.session
  if self.nested then
    self.savepoint:rollback()
    s._failed = nil
    rollback_levels(s, self.level)
    for obj in pairs(s._new) do forget(s, obj, "transient") end
    s._new, s._newlist, s._deleted = {}, {}, {}
    s:expire_all()
  else
    s:rollback()
  end
end

function Session:begin(fn)
  self:_check_active()
  if self._conn and self._conn.in_transaction and
     self._conn:in_transaction() and not fn then
    raise("InvalidRequestError", "A transaction is already begun on this " ..
          "Session.")
  end
  local t = setmetatable({session = self, active = true}, SessionTx)
  if fn == nil then return t end
  local ok, err = pcall(fn, self)
  if ok then t:commit() else t:rollback(); error(err, 0) end
  return t
end

function Session:begin_nested(fn)
  self:flush()
  local conn = self:connection()
  local sp = conn:begin_nested()
  self._txs[#self._txs + 1] = {new = {}, deleted = {}}
  local t = setmetatable({session = self, active = true, nested = true,
                          savepoint = sp, level = #self._txs}, SessionTx)
  if fn == nil then return t end
  local ok, err = pcall(fn, self)
  if ok then t:commit() else t:rollback(); error(err, 0) end
  return t
end

------------------------------------------------------------------------
-- relationship loading in queries: loader options and strategies
------------------------------------------------------------------------
--
-- Options are Load paths ({rel, strategy} steps) attached to a select by
-- :options(); the select's generative methods carry them to the new
-- statement.  Executing it: a leading joined step adds a LEFT OUTER
-- JOIN of an alias of the target and its columns; after the rows are
-- turned into objects, the other steps run per batch of objects
-- (selectin: one SELECT ... IN per 500 parent keys), and each path goes
-- on from the objects its step loaded.

local Load = {}
Load.__index = Load
Load.__name = "retort.Load"

local function check_rel(attr, fname)
  if getmetatable(attr) ~= Rel then
    raise("ArgumentError", fname .. "(): expected a relationship " ..
          "attribute such as User.addresses, not " .. type(attr))
  end
  return attr
end

local loaders = {selectinload = "selectin", joinedload = "joined",
                 subqueryload = "subquery", lazyload = "select",
                 raiseload = "raise", noload = "noload",
                 defaultload = "default", immediateload = "immediate"}
for fname, strategy in pairs(loaders) do
  orm[fname] = function(attr)
    return setmetatable({path = {{rel = check_rel(attr, fname),
                                  strategy = strategy}}}, Load)
  end
  Load[fname] = function(self, attr)
    local path = table.move(self.path, 1, #self.path, 1, {})
    path[#path + 1] = {rel = check_rel(attr, fname), strategy = strategy}
    return setmetatable({path = path}, Load)
  end
end

local node_methods = getmetatable(sa.literal_column("1")).__methods
local stmt_opts = setmetatable({}, {__mode = "k"}) -- select -> Load list

local function rel_on(r, target)
  configure()
  if r.primaryjoin and not target then return r.primaryjoin end
  local on
  for k, lc in ipairs(r.local_cols) do
    local rc = r.remote_cols[k]
    if target then rc = target.c[rc.key] end
    local cond = lc:eq(rc)
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

local function sec_on(list, target, given)
  if given and not target then return given end
  local on
  for _, p in ipairs(list) do
    local col = p[3]
    if target then col = target.c[col.key] end
    local cond = col:eq(p[1])
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

do
  local plain = {}
  for _, name in ipairs({"where", "filter", "filter_by", "order_by", "limit",
                         "offset", "join", "outerjoin", "join_from",
                         "select_from", "group_by", "having", "distinct",
                         "add_columns", "correlate", "with_for_update",
                         "execution_options"}) do
    local f = node_methods[name]
    plain[name] = f
    node_methods[name] = function(stmt, ...)
      local out = f(stmt, ...)
      local o = stmt_opts[stmt]
      if o ~= nil then stmt_opts[out] = o end
      return out
    end
  end
  local orig_options = node_methods.options
  node_methods.options = function(stmt, ...)
    if C.node_kind(stmt) ~= "select" then return orig_options(stmt, ...) end
    local list = {}
    for _, o in ipairs(stmt_opts[stmt] or {}) do list[#list + 1] = o end
    for i = 1, lselect("#", ...) do
      local o = lselect(i, ...)
      if getmetatable(o) ~= Load then
        raise("ArgumentError", "options(): expected loader options such " ..
              "as selectinload(User.addresses)")
      end
      list[#list + 1] = o
    end
    local new = plain.add_columns(stmt)
    stmt_opts[new] = list
    return new
  end
  -- join(User.addresses), join(Address, User.addresses): the ON clause
  -- comes from the relationship
  local function rel_join(f)
    return function(stmt, target, on, ...)
      if getmetatable(target) == Rel then
        local r = target
        configure()
        if r.secondary then
          local out = f(stmt, r.secondary,
                        sec_on(r.sec_local, nil, r.primaryjoin), on, ...)
          return f(out, r.target.local_table,
                   sec_on(r.sec_remote, nil, r.secondaryjoin), on, ...)
        end
        return f(stmt, r.target.local_table, rel_on(r), on, ...)
      elseif getmetatable(on) == Rel then
        local r = on
        configure()
        local t = target
        if type(t) == "table" and rawget(t, "__mapper__") then t = nil end
        if r.secondary then
          local out = f(stmt, r.secondary,
                        sec_on(r.sec_local, nil, r.primaryjoin), ...)
          return f(out, target, sec_on(r.sec_remote, t, r.secondaryjoin), ...)
        end
        return f(stmt, target, rel_on(r, t), ...)
      end
      return f(stmt, target, on, ...)
    end
  end
  node_methods.join = rel_join(node_methods.join)
  node_methods.outerjoin = rel_join(node_methods.outerjoin)
end

-- relationship operators ------------------------------------------------

-- EXISTS (SELECT 1 FROM target WHERE <join> [AND cond])
function Rel:any(cond)
  configure()
  local sub
  if self.secondary then
    sub = sa.select(sa.literal_column("1"))
      :select_from(self.secondary):select_from(self.target.local_table)
      :where(sec_on(self.sec_local, nil, self.primaryjoin))
      :where(sec_on(self.sec_remote, nil, self.secondaryjoin))
  else
    sub = sa.select(sa.literal_column("1"))
      :select_from(self.target.local_table):where(rel_on(self))
  end
  if cond ~= nil then sub = sub:where(cond) end
  return sub:exists()
end
Rel.has = Rel.any


local function and_all(conds)
  local out
  for _, c in ipairs(conds) do out = out and sa.and_(out, c) or c end
  return out
end

-- User.addresses:contains(a): the parent rows that a refers to
function Rel:contains(obj)
  configure()
  check_target(self, obj)
  local conds = {}
  if self.direction == "onetomany" then
    for k, lc in ipairs(self.local_cols) do
      conds[k] = lc:eq(col_value(obj, self.target, self.remote_idx[k]))
    end
  elseif self.secondary then
    conds[1] = sec_on(self.sec_local)
    for _, p in ipairs(self.sec_remote) do
      conds[#conds + 1] = p[1]:eq(col_value(obj, self.target, p[2]))
    end
  else
    raise("InvalidRequestError", "'contains' not implemented for " ..
          "scalar attributes.  Use ==")
  end
  return and_all(conds)
end

-- Address.user:eq(u): the rows that refer to u (many-to-one)
function Rel:eq(obj)
  configure()
  if self.direction ~= "manytoone" then
    raise("InvalidRequestError", "Can't compare a collection to an " ..
          "object or collection; use contains() to test for membership.")
  end
  local conds = {}
  for k, lc in ipairs(self.local_cols) do
    if obj == nil then conds[k] = lc:is_(sa.null)
    else conds[k] = lc:eq(col_value(obj, self.target, self.remote_idx[k])) end
  end
  return and_all(conds)
end

-- with_parent(obj, User.addresses): the target rows related to obj
function orm.with_parent(obj, r)
  check_rel(r, "with_parent")
  configure()
  local conds = {}
  if r.secondary then
    conds[1] = sec_on(r.sec_remote)
    for _, p in ipairs(r.sec_local) do
      conds[#conds + 1] = p[1]:eq(col_value(obj, r.parent, p[2]))
    end
  else
    for k, rc in ipairs(r.remote_cols) do
      conds[k] = rc:eq(col_value(obj, r.parent, r.local_idx[k]))
    end
  end
  return and_all(conds)
end

-- strategies -------------------------------------------------------------

local IN_BATCH = 500

-- selectin: the related objects of every object in objs whose value is
-- not loaded, by SELECT ... WHERE key IN (up to 500 keys) per batch
local function selectin_load(s, conn, r, objs)
  local owners, keys = {}, {}
  local found = {}
  local map = r.pk_lookup and s._idmap[r.target]
  local composite = #r.local_idx ~= 1
  for _, o in ipairs(objs) do
    if C.extra(o, r.key) == nil and not C.extra(o, nilmark[r.key]) then
      if composite then
        local v = o[r.key]
        if r.uselist then
          for _, x in ipairs(v) do found[#found + 1] = x end
        elseif v ~= nil then found[#found + 1] = v end
      else
        local v = col_value(o, r.parent, r.local_idx[1])
        local hit = v ~= nil and map and map[v]
        if v == nil then
          store_loaded(o, r, {})
        elseif hit ~= nil then
          store_loaded(o, r, {hit})
          found[#found + 1] = hit
        else
          local l = owners[v]
          if l == nil then
            owners[v] = {o}
            keys[#keys + 1] = v
          elseif not find(l, o) then
            l[#l + 1] = o
          end
        end
      end
    end
  end
  if #keys == 0 then return found end
  local tm = r.target
  local keycol, keypos
  if r.secondary then
    keycol, keypos = r.sec_local[1][1], tm.nattrs + 1
  else
    keycol, keypos = r.remote_cols[1], r.remote_idx[1]
  end
  local lists = {}
  for _, k in ipairs(keys) do lists[k] = {} end
  for i = 1, #keys, IN_BATCH do
    local batch = table.move(keys, i, math.min(i + IN_BATCH - 1, #keys), 1,
                             {})
    local stmt
    if r.secondary then
      stmt = sa.select(tm.local_table, keycol)
        :join(r.secondary, sec_on(r.sec_remote))
    else
      stmt = sa.select(tm.local_table)
    end
    stmt = extra_criteria(r, stmt:where(keycol:in_(batch)))
    if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
    local rows = run(s, conn, stmt):all()
    local loaded = load_rows(s, tm, rows)
    for j = 1, #rows do
      local l = lists[rows[j][keypos]]
      local x = loaded[j]
      if l then l[#l + 1] = x end
      found[#found + 1] = x
    end
  end
  for _, k in ipairs(keys) do
    local l = lists[k]
    for _, o in ipairs(owners[k]) do
      if #owners[k] > 1 and r.uselist then
        store_loaded(o, r, table.move(l, 1, #l, 1, {}))
      else
        store_loaded(o, r, l)
      end
    end
  end
  return found
end

local function loaded_children(objs, r)
  local out = {}
  for _, o in ipairs(objs) do
    for _, x in ipairs(loaded_related(o, r)) do out[#out + 1] = x end
  end
  return out
end

-- run path[from..] on objs (the objects step from-1 produced)
local function run_path(s, conn, objs, path, from)
  local step = path[from]
  if not step or #objs == 0 then return end
  local r, strategy = step.rel, step.strategy
  local m = mapper_of(objs[1])
  if r.parent ~= m then return end
  local children
  if strategy == "selectin" or strategy == "subquery" or
     strategy == "immediate" or (strategy == "joined" and from > 1) then
    children = selectin_load(s, conn, r, objs)
  elseif strategy == "select" or strategy == "raise" or
         strategy == "noload" then
    for _, o in ipairs(objs) do
      if C.extra(o, r.key) == nil then C.extra(o, lazymark[r.key], strategy) end
    end
  end
  -- joined (loaded with the rows), defaultload: on from what is loaded
  if path[from + 1] then
    run_path(s, conn, children or loaded_children(objs, r), path, from + 1)
  end
end

-- the loading plan of a select of mapper m: the option paths rooted at
-- m and the relationships whose default strategy is eager
local function load_plan(stmt, m)
  local paths = {}
  local named = {}
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    if o.path[1].rel.parent == m then
      paths[#paths + 1] = o.path
      named[o.path[1].rel] = true
    end
  end
  for _, r in ipairs(m.rel_list or {}) do
    if not named[r] and (r.lazy == "selectin" or r.lazy == "joined" or
                         r.lazy == "subquery" or r.lazy == "immediate") then
      paths[#paths + 1] = {{rel = r, strategy = r.lazy}}
    end
  end
  if #paths == 0 then return nil end
  return paths
end

-- joined eager loading of the first steps that are joined: the statement
-- with an outer join and columns per step, and what fetch needs
local function add_joins(stmt, paths, width)
  local joins = {}
  local n = 0
  for pi, path in ipairs(paths) do
    local r = path[1].rel
    if path[1].strategy == "joined" and not r.secondary and not r.extra then
      n = n + 1
      local tt = r.target.local_table
      local alias = tt:alias(tt.name .. "_" .. n)
      stmt = stmt:outerjoin(alias, rel_on(r, alias))
      local cols = {}
      for i, col in ipairs(r.target.columns) do cols[i] = alias.c[col.key] end
      stmt = stmt:add_columns(table.unpack(cols))
      if r.order_by then
        local ob = {}
        for i, col in ipairs(r.order_by) do
          ob[i] = C.node_kind(col) == "column" and alias.c[col.key] or col
        end
        stmt = stmt:order_by(table.unpack(ob))
      end
      local colpos, pkpos = {}, {}
      for a = 1, r.target.nattrs do colpos[a] = width + a end
      for a, idx in ipairs(r.target.pk_index) do pkpos[a] = width + idx end
      joins[#joins + 1] = {rel = r, colpos = colpos, pkpos = pkpos,
                           pk1 = pkpos[1]}
      width = width + r.target.nattrs
    elseif path[1].strategy == "joined" then
      -- many-to-many: loaded as selectin (the path is the user's: copied)
      local copy = table.move(path, 1, #path, 1, {})
      copy[1] = {rel = r, strategy = "selectin"}
      paths[pi] = copy
    end
  end
  return stmt, joins
end

-- rows[i] made parents[i]: fill each parent's joined relationship from
-- the row's extra columns (first time a parent is seen in this result)
local function fill_joined(r_, rows, parents)
  local s = r_.session
  for _, j in ipairs(r_.joins) do
    local r, seen, placed = j.rel, j.seen, j.placed
    if not seen then
      seen, placed = {}, {}
      j.seen, j.placed = seen, placed
    end
    local got = {}
    C.load(rows, 1, #rows, r.target.class, r.target.mt, r.target.nattrs,
           j.colpos, j.pkpos, idmap_for(s, r.target), s.id, false, got, 0,
           true)
    local uselist = r.uselist
    for i = 1, #rows do
      local p = parents[i]
      if p ~= nil then
        local c = seen[p]
        if c == nil then
          if C.extra(p, r.key) == nil and not C.extra(p, nilmark[r.key]) then
            c = uselist and new_coll(p, r) or true
            if uselist then C.extra(p, r.key, c) else set_raw(p, r, nil) end
          else
            c = false
          end
          seen[p] = c
        end
        local x = got[i]
        if c and x then
          if not uselist then
            set_raw(p, r, x)
          elseif not placed[x] then
            -- a row per child: each child once (per parent it has)
            placed[x] = true
            c[#c + 1] = x
          end
        end
      end
    end
  end
end

------------------------------------------------------------------------
-- queries and ORM results
------------------------------------------------------------------------

local OrmResult = {}
OrmResult.__index = OrmResult
OrmResult.__name = "retort.ORMResult"

-- The select's columns clause: which items are mapped entities.
local function entities_of(stmt)
  local items = C.select_items(stmt)
  if not items then return nil end
  local ents, pos, any = {}, 1, false
  for k = 1, #items do
    local ptr, width, name = items[k][1], items[k][2], items[k][3]
    local m = ptr and mappers_by_table[ptr]
    if m then any = true; name = m.class.__name__ end
    ents[#ents + 1] = {mapper = m, pos = pos, width = width, name = name}
    pos = pos + width
  end
  return any and ents or nil
end

-- Turn core rows from..to into ORM rows (lists of objects/values) or,
-- for one entity alone, objects.
local function convert(r, rows)
  local s, ents = r.session, r.ents
  if #ents == 1 then
    local m = ents[1].mapper
    local out = {}
    C.load(rows, 1, #rows, m.class, m.mt, m.nattrs, m.colpos, m.pk_index,
           idmap_for(s, m), s.id, r.populate, out, 0)
    return out
  end
  local out = {}
  for i, row in ipairs(rows) do
    local o = {}
    for k, e in ipairs(ents) do
      if e.mapper then
        local m = e.mapper
        local colpos, pkpos = {}, {}
        for a = 1, m.nattrs do colpos[a] = e.pos + a - 1 end
        for a, idx in ipairs(m.pk_index) do pkpos[a] = e.pos + idx - 1 end
        local one = {}
        C.load(rows, i, i, m.class, m.mt, m.nattrs, colpos, pkpos,
               idmap_for(s, m), s.id, r.populate, one, 0)
        o[k] = one[1] == nil and false or one[1]
      else
        o[k] = row[e.pos]
      end
    end
    for k = 1, #ents do if o[k] == false and ents[k].mapper then o[k] = nil end end
    o.n, o.ents = #ents, ents
    out[i] = o
  end
  return out
end

local function wrap_row(o)
  return setmetatable(o, {__index = function(t, k)
    for i, e in ipairs(rawget(t, "ents") or {}) do
      if e.name == k then return rawget(t, i) end
    end
    return nil
  end, __len = function(t) return t.n end,
  __tostring = function(t)
    local parts = {}
    for k = 1, t.n do
      parts[k] = C.isinstance(t[k]) and tostring(t[k]) or C.repr(t[k])
    end
    return "(" .. table.concat(parts, ", ") .. (t.n == 1 and ",)" or ")")
  end})
end

-- the relationship loading of a batch of rows made into objects
local function load_relationships(r, rows, out)
  local parents = out
  if #r.ents > 1 then
    parents = {}
    for i, o in ipairs(out) do parents[i] = o[1] end
  end
  if r.joins then fill_joined(r, rows, parents) end
  local more = false
  for _, path in ipairs(r.plan) do
    if path[1].strategy ~= "joined" or path[2] then more = true end
  end
  if not more then return end
  local uniq, seen = {}, {}
  for i = 1, #rows do
    local p = parents[i]
    if p ~= nil and not seen[p] then seen[p] = true; uniq[#uniq + 1] = p end
  end
  local conn = r.session:connection()
  for _, path in ipairs(r.plan) do run_path(r.session, conn, uniq, path, 1) end
end

local function fetch(r, n)
  local rows
  if n then rows = r.core:fetchmany(n) else rows = r.core:all() end
  local out = convert(r, rows)
  if r.plan then load_relationships(r, rows, out) end
  if r.joins and r.joins.collections and not r._unique then
    raise("InvalidRequestError", "The unique() method must be invoked on " ..
          "this Result, as it contains results that include joined eager " ..
          "loads against collections")
  end
  if r._unique then
    local seen, k = r._seen, 0
    for i = 1, #out do
      local o = out[i]
      local key = o
      if type(o) == "table" and not C.isinstance(o) then key = o[1] end
      if not seen[key] then
        seen[key] = true
        k = k + 1
        out[k] = o
      end
    end
    for i = #out, k + 1, -1 do out[i] = nil end
  end
  if not r._scalars and #r.ents == 1 then
    for i, o in ipairs(out) do out[i] = wrap_row({o, n = 1, ents = r.ents}) end
  elseif r._scalars and #r.ents > 1 then
    for i, o in ipairs(out) do out[i] = o[1] end
  elseif not r._scalars then
    for i, o in ipairs(out) do out[i] = wrap_row(o) end
  end
  return out
end

function OrmResult:all() return fetch(self) end
OrmResult.fetchall = OrmResult.all
function OrmResult:fetchmany(n) return fetch(self, n or 1) end
local function derive(r, k, v)
  local t = {}
  for key, val in pairs(r) do t[key] = val end
  t[k] = v
  return setmetatable(t, OrmResult)
end
function OrmResult:scalars() return derive(self, "_scalars", true) end
function OrmResult:unique()
  local u = derive(self, "_unique", true)
  u._seen = {}
  return u
end
function OrmResult:close() self.core:close() end
function OrmResult:first()
  local out = fetch(self, 1)
  self.core:close()
  return out[1]
end
function OrmResult:one_or_none()
  local out = fetch(self, 2)
  self.core:close()
  if #out > 1 then
    raise("MultipleResultsFound", "Multiple rows were found when one or " ..
          "none was required")
  end
  return out[1]
end
function OrmResult:one()
  local out = fetch(self, 2)
  self.core:close()
  if #out == 0 then
    raise("NoResultFound", "No row was found when one was required")
  elseif #out > 1 then
    raise("MultipleResultsFound", "Multiple rows were found when exactly " ..
          "one was required")
  end
  return out[1]
end
function OrmResult:scalar()
  return self:scalars():first()
end
function OrmResult:scalar_one() return self:scalars():one() end
function OrmResult:scalar_one_or_none() return self:scalars():one_or_none() end
function OrmResult:partitions(size)
  size = size or 1000
  return function()
    local part = fetch(self, size)
    if #part > 0 then return part end
  end
end
function OrmResult:__call()
  if not self._buf or self._i > #self._buf then
    self._buf, self._i = fetch(self, 100), 1
    if #self._buf == 0 then return nil end
  end
  local o = self._buf[self._i]
  self._i = self._i + 1
  return o
end

-- A bulk UPDATE or DELETE of a mapped table run through the session
-- keeps the session's objects in step (synchronize_session "auto",
-- "fetch" and "evaluate" all work as "fetch" here: the primary keys of
-- the matching rows are selected first; updated attributes are expired,
-- so they load the new values, and deleted objects become deleted).
local function bulk_dml(s, conn, stmt, params, opts)
  local sync = opts and opts.synchronize_session
  if sync == nil then sync = "auto" end
  local ptr, keys = C.dml_info(stmt)
  local m = ptr and mappers_by_table[ptr]
  if not m or sync == false or type(params) == "table" and
     type(params[1]) == "table" then
    return run(s, conn, stmt, params)
  end
  autoflush(s)
  local rows = run(s, conn, C.where_of(sa.select(table.unpack(m.primary_key)),
                                       stmt), params):all()
  local r = run(s, conn, stmt, params)
  local map = s._idmap[m]
  if not map then return r end
  local idx = {}
  for _, k in ipairs(keys) do
    for i, ck in ipairs(m.colkeys) do if ck == k then idx[#idx + 1] = i end end
  end
  local level = s._txs[#s._txs]
  for _, row in ipairs(rows) do
    local vals = {}
    for k = 1, #m.pk_index do vals[k] = row[k] end
    local obj = map[key_of(m, vals)]
    if obj ~= nil then
      if C.node_kind(stmt) == "update" then
        C.expire(obj, idx)
        if not C.modified(obj) then s._dirty[obj] = nil end
      else
        s._dirty[obj], s._deleted[obj] = nil, nil
        map[key_of(m, vals)] = nil
        set_state(obj, "deleted", s.id)
        level.deleted[#level.deleted + 1] = obj
      end
    end
  end
  return r
end

function Session:execute(stmt, params, opts)
  self:_check_active()
  local kind = C.node_kind(stmt)
  if kind == "select" or kind == "compound" then autoflush(self) end
  if kind == "update" or kind == "delete" then
    return bulk_dml(self, self:connection(), stmt, params, opts)
  end
  local conn = self:connection()
  local ents = kind == "select" and entities_of(stmt)
  local plan, joins
  if ents and ents[1].mapper then
    configure()
    plan = load_plan(stmt, ents[1].mapper)
    if plan then
      local width = 0
      for _, e in ipairs(ents) do width = width + e.width end
      stmt, joins = add_joins(stmt, plan, width)
      if #joins == 0 then joins = nil end
      for _, j in ipairs(joins or {}) do
        if j.rel.uselist then joins.collections = true end
      end
    end
  end
  local core = run(self, conn, stmt, params)
  if not ents then return core end
  return setmetatable({session = self, ents = ents, core = core,
                       populate = opts and opts.populate_existing or false,
                       plan = plan, joins = joins}, OrmResult)
end

function Session:scalars(stmt, params)
  return self:execute(stmt, params):scalars()
end

function Session:scalar(stmt, params)
  return self:execute(stmt, params):scalar()
end

function Session:get(cls, ident)
  local m = rawget(cls, "__mapper__")
  if not m then raise("UnmappedClassError", "Class is not mapped") end
  local vals = type(ident) == "table" and ident or {ident}
  if type(ident) == "table" and not ident[1] then
    vals = {}
    for k, i in ipairs(m.pk_index) do vals[k] = ident[m.keys[i]] end
  end
  local key = key_of(m, vals)
  local obj = self._idmap[m] and self._idmap[m][key]
  if obj ~= nil then
    if self._deleted[obj] then return nil end
    -- an expired object is loaded now; a vanished row gives nil
    local ok = true
    for _, i in ipairs(m.pk_index) do
      if not lselect(2, C.get(obj, i)) then ok = false end
    end
    if not ok then
      local got = load_by_pk(self, m, vals, obj)
      if got == nil then return nil end
    end
    return obj
  end
  autoflush(self)
  return load_by_pk(self, m, vals)
end

-- merge(obj, {load}): the session's own object for obj's primary key
-- (found in the identity map, loaded, or made pending), with obj's loaded
-- attributes copied onto it; obj itself is left alone.
local merge_impl

-- merge runs without autoflush (as SQLAlchemy's): loading what it merges
-- into must not flush the half-merged objects
function Session:merge(obj, opts)
  checkobj(obj)
  local prev = self._no_autoflush
  self._no_autoflush = true
  local ok, target = pcall(merge_impl, self, obj, opts)
  self._no_autoflush = prev
  if not ok then error(target, 0) end
  return target
end

function merge_impl(self, obj, opts)
  local load = not (opts and opts.load == false)
  local m = mapper_of(obj)
  local vals, complete = {}, true
  for k, i in ipairs(m.pk_index) do
    local v, loaded = C.get(obj, i)
    if not loaded or v == nil then
      local iv = ident_vals(obj, m)
      v = iv and iv[k]
    end
    vals[k] = v
    if v == nil then complete = false end
  end
  if C.session(obj) == self.id and self:contains(obj) then return obj end
  local target
  if complete then
    local map = self._idmap[m]
    target = map and map[key_of(m, vals)]
    if target == nil and load then target = self:get(m.class, vals) end
  end
  if target == nil then
    target = m.class{}
    if load or not complete then
      self:add(target)
    else
      -- load = false: the object is taken as persistent, unchanged
      C.setidentity(target, ident_store(m, vals))
      set_state(target, "persistent", self.id)
      idmap_for(self, m)[key_of(m, vals)] = target
    end
  end
  for i, key in ipairs(m.keys) do
    local v, loaded = C.get(obj, i)
    if loaded then
      if load then target[key] = v else C.set(target, i, v) end
    end
  end
  -- the merge cascade: loaded related objects are merged too (each once)
  if m.has_rels then
    configure()
    local memo = opts and opts._memo or {}
    memo[obj] = target
    local sub = {load = load, _memo = memo}
    local function merged(x)
      if memo[x] then return memo[x] end
      return self:merge(x, sub)
    end
    for _, r in ipairs(m.rel_list or {}) do
      local v = C.extra(obj, r.key)
      if r.cascade.merge and (v ~= nil or C.extra(obj, nilmark[r.key])) then
        if r.uselist then
          local list = {}
          for i, x in ipairs(v) do list[i] = merged(x) end
          target[r.key] = list
        else
          target[r.key] = v ~= nil and merged(v) or nil
        end
      end
    end
  end
  return target
end

function Session:get_one(cls, ident)
  local obj = self:get(cls, ident)
  if obj == nil then
    raise("NoResultFound", "No row was found when one was required")
  end
  return obj
end

local function objlist(set)
  local out = {}
  for obj in pairs(set) do out[#out + 1] = obj end
  return out
end

SessionMT.__index = function(s, k)
  if k == "new" then
    return pending_list(s)
  elseif k == "dirty" then
    local out = {}
    for obj in pairs(s._dirty) do
      if not s._deleted[obj] then out[#out + 1] = obj end
    end
    return out
  elseif k == "deleted" then
    return objlist(s._deleted)
  elseif k == "identity_map" then
    local out = {}
    for _, obj in ipairs(all_objects(s)) do out[#out + 1] = obj end
    return out
  end
  return Session[k]
end

------------------------------------------------------------------------
-- the legacy Query
------------------------------------------------------------------------

local Query = {}
Query.__index = Query
Query.__name = "retort.Query"

function Session:query(...)
  local args = {...}
  return setmetatable({session = self, stmt = sa.select(table.unpack(args)),
                       entity = args[1]}, Query)
end

local function gen(q, stmt)
  return setmetatable({session = q.session, stmt = stmt, entity = q.entity,
                       _params = q._params}, Query)
end

for _, name in ipairs({"filter", "where", "filter_by", "order_by", "limit",
                       "offset", "join", "outerjoin", "group_by", "having",
                       "distinct", "select_from", "add_columns",
                       "options"}) do
  Query[name] = function(q, ...) return gen(q, q.stmt[name](q.stmt, ...)) end
end

function Query:_result()
  local r = self.session:execute(self.stmt, self._params)
  if getmetatable(r) == OrmResult and r.joins then r = r:unique() end
  if getmetatable(r) == OrmResult and #r.ents == 1 then return r:scalars() end
  return r
end
function Query:all() return self:_result():all() end
function Query:first() return self:limit(1):_result():first() end
function Query:one() return self:_result():one() end
function Query:one_or_none() return self:_result():one_or_none() end
function Query:scalar()
  local r = self.session:execute(self.stmt, self._params)
  return r:scalar()
end
function Query:count()
  local sub = self.stmt:subquery()
  return self.session:execute(sa.select(sa.func.count()):select_from(sub),
                              self._params):scalar()
end
function Query:get(ident) return self.session:get(self.entity, ident) end
function Query:params(p)
  local q = gen(self, self.stmt)
  q._params = p
  return q
end
-- Python's query[a:b], as SQLAlchemy's Query.slice(start, stop)
function Query:slice(start, stop)
  return self:offset(start):limit(stop - start)
end
-- `for x in query do`: the rows (or objects) of all()
function Query:__call()
  if not self._rows then self._rows, self._i = self:all(), 0 end
  self._i = self._i + 1
  return self._rows[self._i]
end

------------------------------------------------------------------------
-- inspection
------------------------------------------------------------------------

local State = {}
local StateMT = {__name = "retort.InstanceState"}

local function history(obj, i)
  local v, loaded = C.get(obj, i)
  local _, modified = C.flags(obj, i)
  local h = {added = {}, unchanged = {}, deleted = {}}
  if not loaded then return h end
  if modified then
    local old, known = C.committed(obj, i)
    if known and rawequal(old, v) then
      h.unchanged = {v}
    else
      h.added = {v}
      if known and old ~= nil then h.deleted = {old} end
    end
  elseif v ~= nil then
    h.unchanged = {v}
  end
  return h
end

StateMT.__index = function(st, k)
  local obj = rawget(st, "object")
  local life = C.lifecycle(obj)
  local sid = C.session(obj)
  local s = sid ~= 0 and sessions[sid] or nil
  if life == "persistent" and s and s._deleted[obj] then life = "persistent" end
  if k == "transient" or k == "pending" or k == "persistent" or
     k == "deleted" or k == "detached" then
    return life == k
  elseif k == "modified" then
    return C.modified(obj)
  elseif k == "identity" then
    local m = mapper_of(obj)
    return ident_vals(obj, m)
  elseif k == "identity_key" or k == "key" then
    local id = st.identity
    return id and {mapper_of(obj).class, id} or nil
  elseif k == "session" then
    return s
  elseif k == "mapper" then
    return mapper_of(obj)
  elseif k == "expired_attributes" or k == "unloaded" then
    local m, out = mapper_of(obj), {}
    for i, key in ipairs(m.keys) do
      if not lselect(2, C.get(obj, i)) then out[#out + 1] = key end
    end
    return out
  elseif k == "attrs" then
    local m = mapper_of(obj)
    return setmetatable({}, {__index = function(_, key)
      local i = m.slots[key]
      if not i then return nil end
      return {key = key, history = history(obj, i),
              value = (C.get(obj, i)),
              loaded_value = (C.get(obj, i))}
    end})
  end
  return State[k]
end

-- inspect is one function (sa.inspect): engines and connections give an
-- Inspector; the hook below answers for mapped classes and instances
local function orm_inspection(x)
  if C.isinstance(x) then
    return setmetatable({object = x}, StateMT)
  end
  if type(x) == "table" and rawget(x, "__mapper__") then
    return rawget(x, "__mapper__")
  end
  if getmetatable(x) == Mapper then return x end
  return nil
end
debug.getregistry()["retort.inspect_hook"] = orm_inspection
orm.inspect = sa.inspect

function orm.object_session(obj)
  local sid = C.session(obj)
  return sid ~= 0 and sessions[sid] or nil
end

-- Mapper fields that SQLAlchemy spells as properties
Mapper.__index = function(m, k)
  if k == "column_attrs" then return m.attrs end
  if k == "mapped_table" or k == "persist_selectable" then
    return m.local_table
  end
  if k == "entity" then return m.class end
  if k == "polymorphic_identity" then return nil end
  return Mapper[k]
end

------------------------------------------------------------------------
-- events (engine events fire for the statements sessions execute)
------------------------------------------------------------------------

orm.event = {}
function orm.event.listen(target, name, fn)
  listeners[target] = listeners[target] or {}
  local l = listeners[target]
  l[name] = l[name] or {}
  table.insert(l[name], fn)
end
function orm.event.remove(target, name, fn)
  local l = listeners[target] and listeners[target][name]
  if not l then return end
  for i = #l, 1, -1 do if l[i] == fn then table.remove(l, i) end end
end
