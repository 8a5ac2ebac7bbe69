-- orm/events.lua -- event listeners: event.listen/remove/contains/
-- listens_for and the dispatch of mapper events (before_insert ... load,
-- refresh, init), session events (before_flush, after_commit, ...) and
-- column attribute events (set).  Engine events are fired by the engine
-- itself (lua/lengine.c) from the lists kept here; relationship attribute
-- events (append, remove, set) by orm/collections.lua.
--
-- Nothing here costs anything until something listens: the flush tests
-- one flag (ev.mapper), and loading, construction and attribute setting
-- are wrapped only for the classes that have listeners.

local sa, orm, C, I = ...

-- target -> event name -> list of listener functions
local listeners = setmetatable({}, {__mode = "k"})
-- a listener function as stored -> {fn = the user's, retval, propagate,
-- active_history} (the stored function differs from fn for once = true)
local meta = setmetatable({}, {__mode = "k"})
-- which kinds of events have listeners anywhere (hot-path gates)
local ev = {mapper = false}

-- the value an attribute event passes for an old value never loaded
local NO_VALUE = setmetatable({}, {__name = "retort.symbol",
  __tostring = function() return "symbol('NO_VALUE')" end})
orm.NO_VALUE = NO_VALUE

local mapper_events = {
  before_insert = true, after_insert = true, before_update = true,
  after_update = true, before_delete = true, after_delete = true,
  load = true, refresh = true, init = true,
}
local session_events = {
  before_flush = true, after_flush = true, after_flush_postexec = true,
  before_commit = true, after_commit = true, after_rollback = true,
  after_soft_rollback = true, after_begin = true,
}
local engine_events = {
  before_cursor_execute = true, after_cursor_execute = true,
  connect = true, begin = true, commit = true, rollback = true,
  savepoint = true, release_savepoint = true, rollback_savepoint = true,
}
local column_events = {set = true}
local relationship_events = {set = true, append = true, remove = true}

------------------------------------------------------------------------
-- targets
------------------------------------------------------------------------

local function mt_name(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "__name") or nil
end

local function is_class(x)
  return type(x) == "table" and mt_name(x) == "retort.MappedClass"
end

-- the declarative base (or an abstract class) also takes mapper
-- listeners, for its subclasses (propagate)
local function is_base(x)
  return type(x) == "table" and rawget(x, "registry") ~= nil and
         rawget(x, "metadata") ~= nil
end

-- the mapper and attribute key of a mapped column (User.name)
local function column_owner(col)
  if C.node_kind(col) ~= "column" then return nil end
  local ok, tbl = pcall(function() return col.table end)
  if not ok or tbl == nil then return nil end
  local m = I.mappers_by_table[C.node_ptr(tbl)]
  if not m then return nil end
  for key, c in pairs(m.colattrs) do
    if C.node_ptr(c) == C.node_ptr(col) then return m, key end
  end
  return nil
end

-- a column attribute's listeners are kept under its mapper's column
-- (User.name is a box of its own for the same column)
local function column_key(col)
  local m, key = column_owner(col)
  return m.colattrs[key]
end

-- what kind of target x is: "engine", "session", "mapper", "column",
-- "relationship" (and, for a Mapper object, its class as the key)
local function classify(x)
  local name = mt_name(x)
  if name == "retort.Engine" then return "engine", x end
  if name == "retort.Session" or name == "retort.sessionmaker" or
     name == "retort.ShardedSession" or rawequal(x, orm.Session) then
    return "session", x
  end
  if name == "retort.Mapper" then return "mapper", x.class end
  if is_class(x) or is_base(x) then return "mapper", x end
  if type(x) == "table" and getmetatable(x) == I.Rel then
    return "relationship", x
  end
  if column_owner(x) then return "column", x end
  return nil
end

local allowed = {engine = engine_events, session = session_events,
                 mapper = mapper_events, column = column_events,
                 relationship = relationship_events}

local function check(target, name)
  local kind, key = classify(target)
  if not kind or not allowed[kind][name] then
    I.raise("InvalidRequestError", string.format(
      "No such event '%s' for target '%s'", tostring(name), tostring(target)))
  end
  return kind, key
end

------------------------------------------------------------------------
-- dispatch helpers
------------------------------------------------------------------------

-- call the listeners of list with the arguments
local function call_all(list, ...)
  for i = 1, #list do list[i](...) end
end

-- the mapper listeners of `name` for class cls: its own and those of its
-- bases given with propagate = true, in the order they were added (nil
-- when none)
local function class_listeners(cls, name)
  local out, sources = nil, 0
  local c, own = cls, true
  while type(c) == "table" do
    local l = listeners[c]
    l = l and l[name]
    if l then
      sources = sources + 1
      for i = 1, #l do
        if own or (meta[l[i]] and meta[l[i]].propagate) then
          out = out or {}
          out[#out + 1] = l[i]
        end
      end
    end
    local mt = getmetatable(c)
    c, own = type(mt) == "table" and rawget(mt, "__index") or nil, false
  end
  if out and sources > 1 then
    table.sort(out, function(a, b) return meta[a].seq < meta[b].seq end)
  end
  return out
end

-- mapper events of m for each object of objs: fn(mapper, connection, obj)
local function mapper_event(m, name, conn, objs)
  local l = class_listeners(m.class, name)
  if not l then return end
  for _, obj in ipairs(objs) do call_all(l, m, conn, obj) end
end

-- the dirty objects of a mapper in identity order, as SQLAlchemy sorts
-- the persistent objects of a flush
local function by_identity(objs)
  local out = {}
  for i, o in ipairs(objs) do out[i] = o end
  table.sort(out, function(a, b)
    local x, y = C.identity(a), C.identity(b)
    if math.type(x) and math.type(y) then return x < y end
    return tostring(x) < tostring(y)
  end)
  return out
end

-- before_insert/before_update (when "before") or after_insert/
-- after_update for the objects one mapper saves in a flush: inserts in
-- the order they were added, then updates in identity order
local function save_events(m, when, conn, sv)
  mapper_event(m, when .. "_insert", conn, sv.ins)
  if #sv.upd > 0 then
    mapper_event(m, when .. "_update", conn, by_identity(sv.upd))
  end
end

-- session events: listeners of orm.Session (every session), of the
-- session's sessionmaker, then of the session (SQLAlchemy's order: class
-- listeners before the instance's)
local function session_event(s, name, ...)
  if next(listeners) == nil then return end -- (no listener of anything)
  local l = listeners[orm.Session]
  if l and l[name] then call_all(l[name], s, ...) end
  local mk = rawget(s, "_maker")
  l = mk and listeners[mk]
  if l and l[name] then call_all(l[name], s, ...) end
  l = listeners[s]
  if l and l[name] then call_all(l[name], s, ...) end
end

------------------------------------------------------------------------
-- wrappers installed on first need
------------------------------------------------------------------------

-- an attribute event's initiator (SQLAlchemy's attributes.Event)
local Initiator = {__name = "retort.AttributeEvent"}
Initiator.__index = Initiator
Initiator.__tostring = function(e)
  return "<AttributeEvent " .. e.key .. " " .. e.op .. ">"
end

-- relationship attribute events (from orm/collections.lua): the
-- arguments end with the initiator's place
local rel_ops = {set = "replace", append = "append", remove = "remove"}
local function rel_event(r, name, list, cause, ...)
  local args = table.pack(...)
  -- (a change that follows another through a backref has its initiator)
  args[args.n] = setmetatable(cause and {key = cause[1], op = cause[2]} or
                              {key = r.key, op = rel_ops[name]}, Initiator)
  for i = 1, #list do list[i](table.unpack(args, 1, args.n)) end
end

-- column attribute "set": fn(target, value, oldvalue, initiator); a
-- listener given retval = true returns the value to set instead
local function fire_set(m, obj, key, v, list)
  local old, loaded = C.get(obj, m.slots[key])
  if not loaded then
    old = NO_VALUE
    local st = C.lifecycle(obj)
    for i = 1, #list do
      if meta[list[i]] and meta[list[i]].active_history and
         (st == "persistent" or st == "deleted") then
        old = obj[key]
        break
      end
    end
  end
  local init = setmetatable({key = key, op = "replace"}, Initiator)
  for i = 1, #list do
    local r = list[i](obj, v, old, init)
    if meta[list[i]] and meta[list[i]].retval then v = r end
  end
  return v
end

-- the instance metatable of m sends sets of columns with listeners
-- through fire_set first
local function wrap_newindex(m)
  if m._ev_newindex then return end
  local orig = m.mt.__newindex
  m._ev_newindex = orig
  m.mt.__newindex = function(obj, key, v)
    local col = m.colattrs[key]
    local l = col and listeners[col]
    l = l and l.set
    if l then v = fire_set(m, obj, key, v, l) end
    return orig(obj, key, v)
  end
end

-- construction through a class with init or column set listeners:
-- init(target, args, kwargs) on the new object, then its attributes set
-- one by one (columns in column order, then the others), as
-- SQLAlchemy's constructor sets them, firing their events
local function wrap_constructor(cls)
  local m = rawget(cls, "__mapper__")
  if not m or m._ev_call then return end
  local cmt = getmetatable(cls)
  local orig = cmt.__call
  m._ev_call = orig
  cmt.__call = function(c, args)
    local init = class_listeners(c, "init")
    local watched = false
    for _, col in pairs(m.colattrs) do
      if listeners[col] and listeners[col].set then watched = true end
    end
    if not init and not watched then return orig(c, args) end
    if args ~= nil and type(args) ~= "table" then return orig(c, args) end
    local obj = orig(c, nil)
    if init then call_all(init, obj, {}, args or {}) end
    if args then
      local others = {}
      for k, v in pairs(args) do
        if m.slots[k] == nil then others[k] = v end
      end
      for _, key in ipairs(m.keys) do
        local v = args[key]
        if v ~= nil then
          if rawequal(v, sa.null) then v = nil end
          obj[key] = v
        end
      end
      local keys = {}
      for k in pairs(others) do keys[#keys + 1] = k end
      if #keys > 0 then I.construct_others(obj, keys, others) end
    end
    return obj
  end
end

-- classes declared from `base` (base:class "Name" {...}) once it has an
-- init listener with propagate: their constructors are wrapped as they
-- are made
local hooked = setmetatable({}, {__mode = "k"})
local function hook_class_method(base)
  local orig = base.class
  if hooked[base] or type(orig) ~= "function" then return end
  hooked[base] = true
  rawset(base, "class", function(b, ...)
    local make = orig(b, ...)
    return function(body)
      local cls = make(body)
      if is_class(cls) then wrap_constructor(cls) end
      return cls
    end
  end)
end

-- load(target, context) for objects a query creates, refresh(target,
-- context, attrs) for those it refreshes: C.load is wrapped once any
-- class listens, and looks at the loaded class's listeners
-- the column attributes of obj not loaded (nil: none)
local function unloaded_keys(obj, m)
  local out
  for i, key in ipairs(m.keys) do
    if not select(2, C.get(obj, i)) then
      out = out or {}
      out[#out + 1] = key
    end
  end
  -- (and its relationships not loaded: SQLAlchemy names every attribute
  -- the state had unloaded)
  if out then
    for key in pairs(m.relationships or {}) do
      if C.extra(obj, key) == nil and not C.extra(obj, I.nilmark[key]) then
        out[#out + 1] = key
      end
    end
  end
  return out
end

local function wrap_load()
  if I.ev_load then return end
  local orig = C.load
  I.ev_load = orig
  C.load = function(rows, i, j, cls, mt, nattrs, colpos, pkpos, idmap, sid,
                    populate, out, outn, ...)
    local onload = class_listeners(cls, "load")
    local onrefresh = class_listeners(cls, "refresh")
    if not onload and not onrefresh then
      return orig(rows, i, j, cls, mt, nattrs, colpos, pkpos, idmap, sid,
                  populate, out, outn, ...)
    end
    -- the objects already known, with their unloaded attributes (false:
    -- all loaded): a row for one of those refreshes it
    local m = rawget(cls, "__mapper__")
    local before = {}
    for _, o in pairs(idmap) do before[o] = unloaded_keys(o, m) or false end
    local n = orig(rows, i, j, cls, mt, nattrs, colpos, pkpos, idmap, sid,
                   populate, out, outn, ...)
    local seen = {}
    for k = outn + 1, n do
      local obj = out[k]
      if obj and not seen[obj] then
        seen[obj] = true
        local was = before[obj]
        if was == nil then
          if onload then call_all(onload, obj, nil) end
        elseif (was or populate) and onrefresh then
          -- (populate_existing refreshes all of it: no names)
          local attrs = nil
          local names = I.refresh_names
          if not populate then attrs = was
          elseif names and rawequal(names[1], obj) then attrs = names[2] end
          call_all(onrefresh, obj, nil, attrs)
        end
      end
    end
    return n
  end
end

------------------------------------------------------------------------
-- listen / remove / contains
------------------------------------------------------------------------

-- the engine sees its listener lists only while it has some
local function sync_engine(e)
  local l = listeners[e]
  local any = false
  for _, list in pairs(l or {}) do if #list > 0 then any = true end end
  e:_set_listeners(any and l or nil)
end

local listen_opts = {propagate = true, retval = true, active_history = true,
                     once = true, raw = true, insert = true}

local seq = 0 -- listeners in the order they were added

orm.event = {}

function orm.event.listen(target, name, fn, opts)
  local kind = check(target, name)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    I.raise("ArgumentError", "event.listen: the listener must be a function")
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not listen_opts[k] then
      I.raise("ArgumentError", "event.listen: unknown option '" ..
              tostring(k) .. "'")
    end
  end
  if opts.retval and kind ~= "column" then
    -- only a column's set can take the value a listener returns (the
    -- collection code applies its value before its events)
    I.raise("ArgumentError", "event.listen: retval = true is supported " ..
            "for the set event of column attributes only")
  end
  local key = target
  if kind == "mapper" and mt_name(target) == "retort.Mapper" then
    key = target.class
  elseif kind == "column" then
    key = column_key(target)
  end
  local stored = fn
  if opts.once then
    local done = false
    stored = function(...)
      if done then return end
      done = true
      return fn(...)
    end
  end
  seq = seq + 1
  meta[stored] = {fn = fn, retval = opts.retval, propagate = opts.propagate,
                  active_history = opts.active_history,
                  seq = opts.insert and -seq or seq}
  listeners[key] = listeners[key] or {}
  local l = listeners[key]
  l[name] = l[name] or {}
  if opts.insert then
    table.insert(l[name], 1, stored)
  else
    table.insert(l[name], stored)
  end
  if kind == "engine" then
    sync_engine(target)
  elseif kind == "mapper" then
    ev.mapper = true
    if name == "load" or name == "refresh" then wrap_load() end
    if name == "init" then
      -- the class, and with propagate the mapped classes below it
      if is_class(key) then wrap_constructor(key) end
      if opts.propagate then hook_class_method(key) end
      local reg = opts.propagate and key.registry
      for _, mm in ipairs(reg and reg.mappers or {}) do
        local c = mm.class
        while type(c) == "table" and not rawequal(c, key) do
          local cmt = getmetatable(c)
          c = type(cmt) == "table" and rawget(cmt, "__index") or nil
        end
        if c then wrap_constructor(mm.class) end
      end
    end
  elseif kind == "column" then
    local m, k = column_owner(target)
    wrap_newindex(m)
    wrap_constructor(m.class)
  end
end

local function find(target, name, fn)
  local key = target
  if mt_name(target) == "retort.Mapper" then key = target.class end
  if column_owner(target) then key = column_key(target) end
  local l = listeners[key] and listeners[key][name]
  if not l then return nil end
  for i = #l, 1, -1 do
    if l[i] == fn or (meta[l[i]] and meta[l[i]].fn == fn) then return l, i end
  end
  return l, nil
end

function orm.event.remove(target, name, fn)
  local kind = check(target, name)
  local l, i = find(target, name, fn)
  if not i then
    I.raise("InvalidRequestError", "No listeners found for event " ..
            tostring(target) .. " / '" .. name .. "' / " .. tostring(fn))
  end
  table.remove(l, i)
  if kind == "engine" then sync_engine(target) end
end

function orm.event.contains(target, name, fn)
  check(target, name)
  local _, i = find(target, name, fn)
  return i ~= nil
end

-- listens_for(target, name, opts)(fn): listen, and give fn back
function orm.event.listens_for(target, name, opts)
  check(target, name)
  return function(fn)
    orm.event.listen(target, name, fn, opts)
    return fn
  end
end

-- `sa.event` is the same module (SQLAlchemy's sqlalchemy.event)
if rawget(sa, "event") == nil then sa.event = orm.event end

-- for the other files of the ORM
I.ev = ev
-- refresh(target, context, attrs) for a load of some of one object's
-- attributes outside C.load (orm/expired_load.lua)
function I.refresh_event(obj, keys)
  local on = I.ev_load and class_listeners(I.mapper_of(obj).class, "refresh")
  if on then
    -- (a refresh() of the whole object names none, as SQLAlchemy's)
    if rawequal(I.full_refresh, obj) then keys = nil end
    call_all(on, obj, nil, keys)
  end
end
I.listeners = listeners
I.mapper_event = mapper_event
I.rel_event = rel_event
I.save_events = save_events
I.session_event = session_event
