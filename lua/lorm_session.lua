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
-- Relationships and inheritance are not built yet: relationship() is
-- recorded on the mapper (mapper.relationships) so that classes declaring
-- one still map; loading, cascades and dependency sync come with them.
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
                          relationships = relationships or {},
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
  m.pk_params = {}
  for k, i in ipairs(m.pk_index) do m.pk_params[k] = "pk_" .. m.colkeys[i] end
  -- parameter name -> where its value comes from (see C.positional)
  m.param_source = {}
  for i, key in ipairs(m.colkeys) do m.param_source[key] = i end
  for k, name in ipairs(m.pk_params) do m.param_source[name] = -k end
  m.mt = C.metatable(m.slots, hooks, instance_tostring)
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
  rawset(cls, "__mapper__", m)
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
                       mappers = {}}, Registry)
end

function Registry:configure() end

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
  rawset(cls, "__mapper__", m)
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

-- relationship(): recorded on the mapper; loading and cascades come with
-- the relationship issue
function orm.relationship(target, opts)
  return {__kind = "relationship", argument = target, options = opts or {}}
end
function orm.configure_mappers() end

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

local function checkobj(obj)
  if not C.isinstance(obj) then
    raise("UnmappedInstanceError", "Class '" .. type(obj) .. "' is not mapped")
  end
  return obj
end

function Session:add(obj)
  checkobj(obj)
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
  if C.lifecycle(obj) == "persistent" then self._deleted[obj] = true end
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
end

function Session:expunge_all()
  for obj in pairs(self._new) do forget(self, obj, "transient") end
  for _, obj in ipairs(all_objects(self)) do forget(self, obj, "detached") end
  for obj in pairs(self._deleted) do forget(self, obj, "detached") end
  self._idmap, self._new, self._dirty, self._deleted = {}, {}, {}, {}
  self._newlist = {}
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
    if not m.slots[k] then
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
  C.expire(obj, attr_indexes(mapper_of(obj), attrs))
  if not C.modified(obj) then self._dirty[obj] = nil end
end

function Session:expire_all()
  for _, obj in ipairs(all_objects(self)) do C.expire(obj) end
  self._dirty = {}
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

local function mapper_order(s, objs_by_mapper)
  local ms = {}
  for m in pairs(objs_by_mapper) do ms[#ms + 1] = m end
  -- tables that others reference come first
  local rank = {}
  for _, m in ipairs(ms) do
    if not rank[m.local_table.metadata] then
      for i, t in ipairs(m.local_table.metadata.sorted_tables) do
        rank[C.node_ptr(t)] = i
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

function Session:flush()
  self:_check_active()
  if next(self._new) == nil and next(self._dirty) == nil and
     next(self._deleted) == nil then return end
  session_event(self, "before_flush", nil, nil)
  local conn = self:connection()
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
      emit_updates(self, conn, m, saves[m].upd, done)
      emit_inserts(self, conn, m, saves[m].ins, done)
    end
    local order = mapper_order(self, dels)
    for k = #order, 1, -1 do
      emit_deletes(self, conn, order[k], dels[order[k]], done)
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
  session_event(self, "after_flush_postexec", nil)
end

local function autoflush(s)
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

local function fetch(r, n)
  local rows
  if n then rows = r.core:fetchmany(n) else rows = r.core:all() end
  local out = convert(r, rows)
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
function OrmResult:scalars()
  return setmetatable({session = self.session, ents = self.ents,
                       core = self.core, _scalars = true,
                       populate = self.populate}, OrmResult)
end
function OrmResult:unique() return self end
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
  local core = run(self, conn, stmt, params)
  if not ents then return core end
  return setmetatable({session = self, ents = ents, core = core,
                       populate = opts and opts.populate_existing or false},
                      OrmResult)
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
function Session:merge(obj, opts)
  checkobj(obj)
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
                       "distinct", "select_from", "add_columns"}) do
  Query[name] = function(q, ...) return gen(q, q.stmt[name](q.stmt, ...)) end
end

function Query:_result()
  local r = self.session:execute(self.stmt, self._params)
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
