-- orm/session.lua -- the Session: sessionmaker, add/delete/expunge,
-- expire/refresh, flush (driving the unit of work), commit/rollback and
-- transaction levels (SessionTx, begin_nested), execute/scalars, get and
-- merge.  Every statement of the ORM goes through run() (or the compiled
-- flush statements of orm/persistence.lua).

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local configure = I.configure
local hooks = I.hooks
local ident_key = I.ident_key
local ident_store = I.ident_store
local ident_vals = I.ident_vals
local idmap_of = I.idmap_of
local key_of = I.key_of
local listeners = I.listeners
local lselect = I.lselect
local mapper_of = I.mapper_of
local nilmark = I.nilmark
local objstr = I.objstr
local raise = I.raise
local related_by = I.related_by
local session_event = I.session_event
local sessions = I.sessions

------------------------------------------------------------------------
-- sessions
------------------------------------------------------------------------

local next_session_id = 0

local Session = {}
local SessionMT = {__name = "retort.Session"}

local NO_OPTS = {}

function orm.Session(bind, opts)
  opts = opts or NO_OPTS
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
  return setmetatable({}, {__name = "retort.sessionmaker",
                          __call = function(maker, o)
    local merged = {}
    for k, v in pairs(opts) do merged[k] = v end
    for k, v in pairs(o or {}) do merged[k] = v end
    -- class_: another session class, such as ShardedSession
    local s = (merged.class_ or orm.Session)(merged.bind or bind, merged)
    s._maker = maker -- its session events apply
    return s
  end, __index = {begin = function(self)
    local s = self()
    return s:begin()
  end, configure = function(_, o)
    -- more options for the sessions made from now on
    for k, v in pairs(o or {}) do opts[k] = v end
    if o and o.bind ~= nil then bind = o.bind end
  end}})
end

-- every statement of the ORM goes through here (or run_compiled)
local function run(s, conn, stmt, params)
  return conn:execute(stmt, params)
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

-- A begin_nested() level's SAVEPOINT is emitted when the first statement
-- runs inside it (as SQLAlchemy does): a level that runs none emits none.
local function begin_savepoints(s)
  s._sp_pending = nil
  for _, level in ipairs(s._txs) do
    if level.nested and not level.savepoint then
      level.savepoint = s._conn:begin_nested()
    end
  end
end

-- bind -> its connect method, or false for a bind that is a Connection
-- (a session per lookup asks the same engine each time)
local connect_of = setmetatable({}, {__mode = "k"})

function Session:connection()
  self:_check_active()
  if not self._conn then
    local bind = self.bind
    local connect = connect_of[bind]
    if connect == nil then
      connect = bind.connect or false
      if type(bind) == "userdata" then connect_of[bind] = connect end
    end
    self._conn = connect and connect(bind) or bind
    -- the session's transaction begins with its connection (the engine's
    -- begin event comes before after_begin, as SQLAlchemy's)
    if self._conn ~= self.bind then self._conn:begin() end
    if #self._txs == 0 then self._txs = {{new = {}, deleted = {}}} end
    session_event(self, "after_begin", nil, self._conn)
  end
  if self._sp_pending then begin_savepoints(self) end
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

-- object access hooks (called from C): a persistent object's first change
-- since the flush puts it in its session's dirty set
hooks.modified = C.modified_hook(sessions)

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
    idmap_of(self, obj, mapper_of(obj))[ident_key(obj, mapper_of(obj))] = obj
    if C.modified(obj) then self._dirty[obj] = true end
  end
  if mapper_of(obj).has_rels then self._reldirty[obj] = true end
end

-- add obj and, through save-update, what its loaded relationships hold
local function cascade_add(s, obj, seen)
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

-- (the objects add() would only make pending are added in C)
function Session:add_all(list)
  -- a single object is a mistake SQLAlchemy refuses too (it is not
  -- iterable); walking it as a list would silently add nothing
  local t = type(list)
  if C.isinstance(list) then
    raise("ArgumentError", "add_all() takes a list of objects, not a " ..
          "single " .. mapper_of(list).class.__name__ .. " instance")
  elseif t ~= "table" and t ~= "userdata" then
    raise("ArgumentError", "add_all() takes a list of objects, not a " .. t)
  end
  C.add_all(list, self.id, self._newlist, self._new,
            function(obj) self:add(obj) end)
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
          local objs = r.passive_deletes and I.loaded_related(obj, r) or
                       I.load_quiet(self, obj, r)
          -- (a pending member stays pending, as in SQLAlchemy: the
          -- flush inserts it without the deleted parent's key)
          for _, x in ipairs(objs) do
            if C.lifecycle(x) == "persistent" and C.session(x) == self.id then
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
    local map = idmap_of(s, obj, mapper_of(obj))
    if map[ident] == obj then map[ident] = nil end
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

-- (the fast path of a plain session: its identity maps and change sets
-- are dropped whole, so each object only changes state, and a set that
-- is empty stays; a session that closes after a lookup or two pays for
-- those objects alone)
function Session:expunge_all()
  if self._idmap_of then
    -- a sharded session: its objects leave the maps forget() picks
    for obj in pairs(self._new) do forget(self, obj, "transient") end
    for _, obj in ipairs(all_objects(self)) do
      forget(self, obj, "detached")
    end
    for obj in pairs(self._deleted) do forget(self, obj, "detached") end
    self._idmap, self._new, self._dirty, self._deleted = {}, {}, {}, {}
    self._newlist, self._reldirty = {}, {}
    return
  end
  if next(self._new) ~= nil then
    for obj in pairs(self._new) do forget(self, obj, "transient") end
    self._new = {}
  end
  if next(self._idmap) ~= nil then
    for _, map in pairs(self._idmap) do
      for _, obj in pairs(map) do set_state(obj, "detached", 0) end
    end
    self._idmap = {}
  end
  if next(self._dirty) ~= nil then
    for obj in pairs(self._dirty) do set_state(obj, "detached", 0) end
    self._dirty = {}
  end
  if next(self._deleted) ~= nil then
    for obj in pairs(self._deleted) do set_state(obj, "detached", 0) end
    self._deleted = {}
  end
  if next(self._newlist) ~= nil then self._newlist = {} end
  if next(self._reldirty) ~= nil then self._reldirty = {} end
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
  I.expire_rels(obj, m, idx and (idx.rels or {}))
  if not C.modified(obj) then self._dirty[obj] = nil end
  for _, x in ipairs(related) do
    if C.session(x) == self.id and C.lifecycle(x) == "persistent" and
       lselect(2, C.get(x, mapper_of(x).pk_index[1])) then
      self:expire(x)
    end
  end
end

function Session:expire_all()
  C.expire_all(self._idmap, self._dirty, I.expire_rels)
  self._dirty = {}
  self._reldirty = {}
end

function Session:refresh(obj, attrs)
  self:expire(obj, attrs)
  local m = mapper_of(obj)
  local got = I.load_by_pk(self, m, ident_vals(obj, m), obj, true)
  if got == nil then
    raise("InvalidRequestError", "Could not refresh instance '" ..
          objstr(obj) .. "'")
  end
end

-- a relationship whose change record holds an added or removed object
-- (appended, removed, or a collection or scalar assigned) since the
-- last flush (a scalar set over an unloaded value, too)
local function rel_modified(obj, m, collections)
  if not m.has_rels then return false end
  for key, r in pairs(m.relationships) do
    local ch = (collections or not r.uselist) and
               C.extra(obj, I.changekey[key])
    if ch and (ch.set or next(ch.add) ~= nil or next(ch.rem) ~= nil) then
      return true
    end
  end
  return false
end

-- is_modified(obj[, {include_collections = false}]): as SQLAlchemy's,
-- collections count unless told otherwise
function Session:is_modified(obj, opts)
  checkobj(obj)
  local m = mapper_of(obj)
  local collections = not (type(opts) == "table" and
                           opts.include_collections == false)
  if rel_modified(obj, m, collections) then return true end
  if not C.modified(obj) then return false end
  if C.lifecycle(obj) == "persistent" then
    return C.update_params(obj, m.colkeys) ~= nil
  end
  return true
end

function Session:flush()
  self:_check_active()
  if next(self._new) == nil and next(self._dirty) == nil and
     next(self._deleted) == nil and next(self._reldirty) == nil then return end
  session_event(self, "before_flush", nil, nil)
  local conn = self:connection()
  local prev_noflush = self._no_autoflush
  self._no_autoflush = true
  local pok, work = pcall(I.presort, self)
  if pok then pok, work = pcall(function()
    I.load_cycle_refs(self)
    return work
  end) end
  self._no_autoflush = prev_noflush
  if not pok then error(work, 0) end
  -- group by mapper: pending in the order they were added (an
  -- inheritance hierarchy's objects are written together)
  local groupof = setmetatable({}, {__index = function(t, cls)
    local m = I.flush_group(rawget(cls, "__mapper__"))
    t[cls] = m
    return m
  end})
  local saves = C.flush_groups(self._newlist, self._new, self._dirty,
                               self._deleted, groupof)
  local dels = {}
  for obj in pairs(self._deleted) do
    local m = I.flush_group(mapper_of(obj))
    dels[m] = dels[m] or {}
    table.insert(dels[m], obj)
  end
  local done = {ins = {}, upd = {}, del = {}}
  -- (a sharded session writes each object on its shard's connection: its
  -- ops split the batches, see orm/ext/horizontal_shard.lua)
  local ops = self._flush_ops or I
  local ok, err = pcall(function()
    local order = I.mapper_order(self, saves)
    local slots = I.assoc_slots(order, work.ins)
    if slots[0] then ops.emit_assoc(self, conn, slots[0], "insert") end
    for k, m in ipairs(order) do
      ops.emit_saves(self, conn, m, saves[m], work.syncs[m], done, work.syncs)
      if slots[k] then ops.emit_assoc(self, conn, slots[k], "insert") end
    end
    ops.emit_post(self, conn, work.post)
    ops.emit_assoc(self, conn, work.del, "delete")
    for _, m in ipairs(I.mapper_order(self, dels, true)) do
      if m.self_ref then
        for _, level in ipairs(I.delete_levels(self, m, dels[m])) do
          ops.emit_deletes(self, conn, m, level, done)
        end
      else
        ops.emit_deletes(self, conn, m, dels[m], done)
      end
    end
    session_event(self, "after_flush", nil)
  end)
  if not ok then
    -- the database transaction is gone: roll it back now; the session
    -- refuses work until rollback() (as SQLAlchemy's does)
    pcall(conn.rollback, conn)
    self._failed = err
    error(err, 0)
  end
  ops.apply_flush(self, done)
  I.clear_changes(self, work)
  if listeners[self] or listeners[orm.Session] or self._maker then
    ok, err = pcall(session_event, self, "after_flush_postexec", nil)
    if not ok then
      pcall(conn.rollback, conn)
      self._failed = err
      error(err, 0)
    end
  end
end

-- (a session with nothing to write skips the flush, which would return
-- at once: a query in a clean session pays nothing for it; a failed one
-- still raises from the flush)
local function autoflush(s)
  if s.autoflush and not s._no_autoflush and
     (s._failed or next(s._new) ~= nil or next(s._dirty) ~= nil or
      next(s._deleted) ~= nil or next(s._reldirty) ~= nil) then
    s:flush()
  end
end

local function end_transaction(s)
  if s._conn and s._conn ~= s.bind then s._conn:close() end
  if s._begun then s._begun.active = false end
  s._begun = nil
  s._conn = nil
  if next(s._txs) ~= nil then s._txs = {} end
  s._sp_pending = nil
end

function Session:commit()
  self:_check_active()
  session_event(self, "before_commit")
  self:flush()
  if self._conn then
    self._conn:commit()
    for _, level in ipairs(self._txs) do
      for _, obj in ipairs(level.deleted) do
        if C.lifecycle(obj) == "deleted" then forget(self, obj, "detached") end
      end
    end
  end
  end_transaction(self)
  session_event(self, "after_commit")
  if self.expire_on_commit then self:expire_all() end
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
        idmap_of(s, obj, mapper_of(obj))[ident_key(obj, mapper_of(obj))] = obj
      end
    end
    s._txs[k] = nil
  end
end

function Session:rollback()
  local had = self._conn ~= nil or next(self._new) ~= nil or
              next(self._deleted) ~= nil
  local conn = self._conn
  if conn then pcall(conn.rollback, conn) end
  rollback_levels(self, 1)
  end_transaction(self)
  self._failed = nil
  for obj in pairs(self._new) do forget(self, obj, "transient") end
  self._new, self._newlist, self._deleted = {}, {}, {}
  self:expire_all()
  if conn then session_event(self, "after_rollback") end
  if had then session_event(self, "after_soft_rollback", nil) end
end

function Session:close()
  if self._conn then pcall(self._conn.rollback, self._conn) end
  end_transaction(self)
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
    local own = self.session._txs[self.level]
    local sp = own and own.savepoint
    if sp then sp:commit() end
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
    local level = s._txs[self.level]
    local sp = level and level.savepoint
    if sp then sp:rollback() end
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
  -- (a begin() not yet ended counts, though its connection comes later)
  local begun = self._begun and self._begun.active
  if (begun or self._conn and self._conn.in_transaction and
      self._conn:in_transaction()) and not fn then
    raise("InvalidRequestError", "A transaction is already begun on this " ..
          "Session.")
  end
  local t = setmetatable({session = self, active = true}, SessionTx)
  self._begun = t
  if fn == nil then return t end
  local ok, err = pcall(fn, self)
  if ok then t:commit() else t:rollback(); error(err, 0) end
  return t
end

function Session:begin_nested(fn)
  self:flush()
  if #self._txs == 0 then self._txs = {{new = {}, deleted = {}}} end
  self._txs[#self._txs + 1] = {new = {}, deleted = {}, nested = true}
  self._sp_pending = true
  local t = setmetatable({session = self, active = true, nested = true,
                          level = #self._txs}, SessionTx)
  if fn == nil then return t end
  local ok, err = pcall(fn, self)
  if ok then t:commit() else t:rollback(); error(err, 0) end
  return t
end

-- A select of mapped Tables (not their classes) gives plain rows; with a
-- class too, each such Table gives its columns as plain values.
local function orm_entities(ents, stmt)
  local tables = I.core_tables[stmt]
  local function core(e)
    return e.mapper and not e.alias and tables[e.pos]
  end
  local orm_ents = false
  for _, e in ipairs(ents) do
    if e.mapper and not core(e) then orm_ents = true end
  end
  if not orm_ents then return nil end
  local out = {}
  for _, e in ipairs(ents) do
    if core(e) then
      for j, col in ipairs(e.mapper.local_table.c) do
        out[#out + 1] = {pos = e.pos + j - 1, width = 1, name = col.key,
                         item = col}
      end
    else
      out[#out + 1] = e
    end
  end
  return out
end

I.orm_entities = orm_entities

------------------------------------------------------------------------
-- the plan cache
------------------------------------------------------------------------

-- What execute learns of a select whose items are mapped entities alone
-- (classes and aliased() classes, no columns), with no loader options:
-- the entities, when no layout, eager load or join changes the statement.
-- Another select of the same items (other criteria, other parameter
-- values) reuses them.  Keyed by the items' addresses (C.select_shape);
-- an entry holds its items, so an address stays theirs.  An entry is good
-- while the mapping is as it was: configure() has not run again
-- (hooks.generation), each item still maps to its mapper, and no layout
-- or relationship was added to the mapper since.
local plan_cache, plan_cache_n = {}, 0
local PLAN_CACHE_MAX = 500
local EMPTY = {}

local function copy_ents(ents)
  local out = {}
  for k, e in ipairs(ents) do
    local c = {mapper = e.mapper, pos = e.pos, width = e.width,
               name = e.name, alias = e.alias, item = e.item}
    for f, v in pairs(e) do c[f] = v end
    out[k] = c
  end
  return out
end

-- the shape of stmt when the cache may know it (nil: it may not), and
-- the entities the cache knows for it
local function cached_ents(stmt)
  if I.select_ents[stmt] or I.core_tables[stmt] or I.stmt_opts[stmt] or
     I.inherited_entities(stmt) then
    return nil
  end
  local shape = C.select_shape(stmt)
  local entry = shape and plan_cache[shape]
  if not entry then return shape end
  configure() -- (a mapper added since comes first)
  if entry.gen ~= hooks.generation then return shape end
  for k, e in ipairs(entry.ents) do
    local m, rels = e.mapper, rawget(e.mapper, "rel_list")
    if rawget(m, "layout") ~= entry.layouts[k] or rels ~= entry.rels[k] or
       #(rels or EMPTY) ~= entry.nrels[k] then
      return shape
    end
    if e.alias then
      local a = I.aliased_entry and I.aliased_entry(entry.ptrs[k])
      if not a or a.mapper ~= m or a.alias ~= e.alias then return shape end
    elseif I.mappers_by_table[entry.ptrs[k]] ~= m then
      return shape
    end
  end
  -- (shared: nothing changes an ORM result's entities once it is made)
  return shape, entry.ents
end

-- remember the analysis of a select of shape `shape` when it came to
-- entities alone, unchanged by layouts, a load plan or joins
local function remember_ents(shape, ents)
  local layouts, rels, nrels, ptrs = {}, {}, {}, {}
  for k, e in ipairs(ents) do
    local m = e.mapper
    if not m or e.load or e.cols or e.colpos or not e.item then return end
    layouts[k] = rawget(m, "layout")
    rels[k] = rawget(m, "rel_list")
    nrels[k] = #(rels[k] or EMPTY)
    ptrs[k] = C.node_ptr(e.item)
  end
  if plan_cache_n >= PLAN_CACHE_MAX then plan_cache, plan_cache_n = {}, 0 end
  if plan_cache[shape] == nil then plan_cache_n = plan_cache_n + 1 end
  plan_cache[shape] = {gen = hooks.generation, ents = copy_ents(ents),
                       layouts = layouts, rels = rels, nrels = nrels,
                       ptrs = ptrs}
end

-- (for tests: how many shapes the cache knows)
function orm._plan_cache_size() return plan_cache_n end

function Session:execute(stmt, params, opts)
  self:_check_active()
  local kind = C.node_kind(stmt)
  opts = I.exec_options(stmt, opts)
  if kind == "select" or kind == "compound" then autoflush(self) end
  if kind == "update" or kind == "delete" then
    return I.bulk_dml(self, self:connection(), stmt, params, opts)
  end
  local conn = self:connection()
  local shape, ents
  if kind == "select" then shape, ents = cached_ents(stmt) end
  if ents then
    local yield_per = opts and opts.yield_per
    local core
    if yield_per then core = I.run_streamed(self, conn, stmt, params)
    else core = run(self, conn, stmt, params) end
    return setmetatable({session = self, ents = ents, core = core,
                         populate = opts and opts.populate_existing and 2 or
                                    false, -- 2: pending changes discarded
                         yield_per = yield_per}, I.OrmResult)
  end
  local orig = stmt
  ents = kind == "select" and I.entities_of(stmt)
  if ents and I.core_tables[stmt] then ents = orm_entities(ents, stmt) end
  local plan, joins
  if ents then stmt = I.apply_layouts(stmt, ents) end
  if ents and ents[1].mapper then
    configure()
    plan = I.load_plan(stmt, ents[1].mapper)
    -- (a subqueryload reruns the statement: it needs its parameters)
    if plan then plan.params = params end
    if plan then
      local width = 0
      for _, e in ipairs(ents) do width = width + e.width end
      stmt, joins = I.add_joins(stmt, plan, width, ents)
      if #joins == 0 then joins = nil end
      for _, j in ipairs(joins or {}) do
        if j.rel.uselist then joins.collections = true end
      end
    end
  end
  if shape and ents and not plan and rawequal(stmt, orig) then
    remember_ents(shape, ents)
  end
  local yield_per = opts and opts.yield_per
  local core
  if yield_per then core = I.run_streamed(self, conn, stmt, params)
  else core = run(self, conn, stmt, params) end
  if not ents then return core end
  return setmetatable({session = self, ents = ents, core = core,
                       populate = opts and opts.populate_existing and 2 or
                                  false, -- 2: pending changes discarded
                       yield_per = yield_per, plan = plan, joins = joins},
                      I.OrmResult)
end

function Session:scalars(stmt, params)
  return self:execute(stmt, params):scalars()
end

function Session:scalar(stmt, params)
  return self:execute(stmt, params):scalar()
end

-- an identity that does not fit the primary key (as SQLAlchemy words it)
local function bad_ident(m, named)
  local names = {}
  for k, col in ipairs(m.primary_key) do
    names[k] = "'" .. (named and m.keys[m.pk_index[k]] or
                       tostring(col.table) .. "." .. col.name) .. "'"
  end
  raise("InvalidRequestError", string.format(
    "Incorrect %s of values in identifier to formulate primary key for " ..
    "session.get(); primary key %s are %s", named and "names" or "number",
    named and "attribute names" or "columns", table.concat(names, ", ") ..
    (named and " (synonym names are also accepted)" or "")))
end

function Session:get(cls, ident)
  local m = rawget(cls, "__mapper__")
  if not m then raise("UnmappedClassError", "Class is not mapped") end
  local vals = type(ident) == "table" and ident or {ident}
  if type(ident) == "table" then
    if not ident[1] then
      vals = {}
      for k, i in ipairs(m.pk_index) do
        vals[k] = ident[m.keys[i]]
        if vals[k] == nil then bad_ident(m, true) end
      end
    elseif #vals ~= #m.pk_index then
      bad_ident(m)
    end
  end
  local key = key_of(m, vals)
  local map = self._idmap[I.base_of(m)]
  local obj = map and map[key]
  if obj ~= nil then
    if self._deleted[obj] then return nil end
    -- (an object of another class of the hierarchy is not one of cls)
    if not I.isa(mapper_of(obj), m) then return nil end
    -- an expired object is loaded now; a vanished row gives nil
    local ok = true
    for _, i in ipairs(m.pk_index) do
      if not lselect(2, C.get(obj, i)) then ok = false end
    end
    if not ok then
      local got = I.load_by_pk(self, m, vals, obj)
      if got == nil then return nil end
    end
    return obj
  end
  autoflush(self)
  return I.load_by_pk(self, m, vals)
end

-- merge(obj, {load}): the session's own object for obj's primary key
-- (found in the identity map, loaded, or made pending), with obj's loaded
-- attributes copied onto it; obj itself is left alone.
local merge_impl

-- merge autoflushes first when it may load, then runs without autoflush
-- (as SQLAlchemy's): loading what it merges into must not flush the
-- half-merged objects
function Session:merge(obj, opts)
  checkobj(obj)
  if not (opts and (opts.load == false or opts._memo)) then autoflush(self) end
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
  if not load and C.identity(obj) == nil then
    raise("InvalidRequestError", "merge() with load=False option does " ..
          "not support objects transient (i.e. unpersisted) objects.  " ..
          "flush() all changes on mapped instances before merging with " ..
          "load=False.")
  end
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
    local map = self._idmap[I.base_of(m)]
    target = map and map[key_of(m, vals)]
    if target == nil and load then target = self:get(m.class, vals) end
  end
  if target == nil then
    target = m.class{}
    if load or not complete then
      self:add(target)
    else
      if orm.inspect(obj).modified then
        raise("InvalidRequestError", "merge() with load=False option " ..
              "does not support objects marked as 'dirty'.  flush() all " ..
              "changes on mapped instances before merging with load=False.")
      end
      -- load = false: the object is taken as persistent, unchanged
      C.setidentity(target, ident_store(m, vals))
      set_state(target, "persistent", self.id)
      idmap_of(self, target, m)[key_of(m, vals)] = target
    end
  end
  local is_pk = {}
  for _, i in ipairs(m.pk_index) do is_pk[i] = true end
  for i, key in ipairs(m.keys) do
    local v, loaded = C.get(obj, i)
    if loaded then
      -- a key is set with its old value read first (SQLAlchemy keeps a
      -- key's history): an expired target loads what it lacks then
      if load and is_pk[i] and not lselect(2, C.get(target, i)) and
         C.identity(target) ~= nil then
        local _ = target[key]
      end
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
          -- (the target's collection loads first, so that the items
          -- already in it come from the identity map, as in SQLAlchemy)
          if load and C.lifecycle(target) == "persistent" then
            local _ = target[r.key]
          end
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

-- methods first (in C: they are what is looked up most), then these
SessionMT.__index = C.method_index(Session, function(s, k)
  if k == "new" then
    return I.pending_list(s)
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
  return nil
end)

function orm.object_session(obj)
  local sid = C.session(obj)
  return sid ~= 0 and sessions[sid] or nil
end

-- for the other files of the ORM
I.Session = Session
I.SessionMT = SessionMT
I.autoflush = autoflush
I.begin_savepoints = begin_savepoints
I.cascade_add = cascade_add
I.forget = forget
I.run = run
I.set_state = set_state
