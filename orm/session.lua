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
-- the transaction levels of a session with none: shared, since a session
-- replaces the list (never adds to it) when its transaction begins
local NO_LEVELS = {}
local EMPTY_LIST = {}

-- A transaction level's list of the objects it made pending ("new") or
-- deleted ("deleted"), made on first need: a level that writes nothing
-- (a session that only reads) makes none.
local function level_list(level, key)
  local l = level[key]
  if not l then
    l = {}
    level[key] = l
  end
  return l
end

-- The innermost transaction level, for a flush that writes: the root one
-- is made then (a session that only reads makes no level).
local function top_level(s)
  local n = #s._txs
  if n == 0 then
    local level = {}
    s._txs = {level}
    return level
  end
  return s._txs[n]
end

function orm.Session(bind, opts)
  opts = opts or NO_OPTS
  next_session_id = next_session_id + 1
  local s = setmetatable({
    bind = bind, id = next_session_id,
    autoflush = opts.autoflush ~= false,
    expire_on_commit = opts.expire_on_commit ~= false,
    -- (_idmap, _new, _newlist, _dirty, _deleted and _reldirty are made on
    -- first use: see LAZY_SETS)
    -- transaction levels: {new = {...}, deleted = {...}, savepoint = sp}
    -- (their lists made at need, see level_list)
    _txs = NO_LEVELS,
    -- (present, false, rather than absent: a field read on every query
    -- that is absent costs a call of the __index function)
    _conn = false, _begun = false, _sp_pending = false, _ext = false,
    _no_autoflush = false, _idmap_of = false,
  }, SessionMT)
  -- (info = {...}: the first entries of the session's info table)
  if opts.info ~= nil then rawset(s, "_info_from", opts.info) end
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
    -- a new session in a transaction begun, for <close>: it commits at
    -- the end of the block (rolls back on an error) and closes
    local s = self()
    s:begin()
    rawset(s, "_begin_ctx", true)
    return s
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

local function check_active(self)
  -- (a begin_nested() level whose flush failed: until its rollback())
  -- (raw: a session with no failure has no such field, and a read of an
  -- absent field calls the __index function)
  local failed = rawget(self, "_failed")
  local top = failed == nil and self._txs[#self._txs]
  if top and top.failed then failed = top.failed end
  if failed ~= nil then
    raise("PendingRollbackError",
          "This Session's transaction has been rolled back due to a " ..
          "previous exception during flush. To begin a new transaction " ..
          "with this Session, first issue Session.rollback(). Original " ..
          "exception was: " .. tostring(failed))
  end
end
Session._check_active = check_active

-- whether a failed flush left the session's transaction (or its innermost
-- begin_nested() level) inactive, waiting for its rollback()
local function failed_state(s)
  if rawget(s, "_failed") ~= nil then return true end
  local top = s._txs[#s._txs]
  return top ~= nil and top.failed ~= nil
end

-- A begin_nested() level's SAVEPOINT is emitted when the first statement
-- runs inside it (as SQLAlchemy does): a level that runs none emits none.
local function begin_savepoints(s)
  s._sp_pending = false
  for _, level in ipairs(s._txs) do
    if level.nested and not level.savepoint then
      level.savepoint = s._conn:begin_nested()
    end
  end
end

-- bind -> its connect method, or false for a bind that is a Connection
-- (a session per lookup asks the same engine each time)
local connect_of = setmetatable({}, {__mode = "k"})

-- A session with nothing to run on: SQLAlchemy's get_bind() names what
-- it looked for a bind on (a mapper, a statement), else the session.
local function unbound(m, clause)
  if m then
    raise("UnboundExecutionError", "Could not locate a bind configured " ..
          "on mapper " .. tostring(m) .. ", SQL expression or this Session.")
  elseif clause then
    raise("UnboundExecutionError", "Could not locate a bind configured " ..
          "on SQL expression or this Session.")
  end
  raise("UnboundExecutionError", "This session is not bound to a single " ..
        "Engine or Connection, and no context was provided to locate a " ..
        "binding.")
end

-- whether s is a plain session with no bind and no connection yet (a
-- session class with a connection() of its own finds its binds itself)
local function is_unbound(s)
  return s.bind == nil and not s._conn and s.connection == Session.connection
end
I.is_unbound = is_unbound
I.unbound = unbound

function Session:get_bind(mapper)
  if self.bind == nil then
    local m = mapper
    if m ~= nil and rawget(m, "__mapper__") then m = rawget(m, "__mapper__") end
    unbound(m)
  end
  return self.bind
end

function Session:connection()
  check_active(self)
  if not self._conn then
    local bind = self.bind
    if bind == nil then unbound() end
    local connect = connect_of[bind]
    if connect == nil then
      connect = bind.connect or false
      if type(bind) == "userdata" then connect_of[bind] = connect end
    end
    self._conn = connect and connect(bind) or bind
    -- A Connection given already in a transaction: the session joins it,
    -- as SQLAlchemy's does -- its commit() leaves that transaction (or
    -- releases the savepoint it is in), its rollback() rolls it back,
    -- its close() leaves it be.
    if self._conn == bind and type(bind) == "userdata" and
       bind.in_transaction and bind:in_transaction() then
      self._ext = bind:in_nested_transaction() and
                  bind:get_nested_transaction() or true
    end
    -- the session's transaction begins with its connection (the engine's
    -- begin event comes before after_begin, as SQLAlchemy's)
    -- (its Transaction object unmade: the session has no use for it)
    if self._conn ~= self.bind then self._conn:_begin_unheld() end
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
    -- (a mapped class given for one of its instances is told so)
    if type(obj) == "table" and rawget(obj, "__mapper__") then
      raise("UnmappedInstanceError", "Class 'DeclarativeMeta' is not " ..
            "mapped; was a class (" .. tostring(rawget(obj, "__name__")) ..
            ") supplied where an instance was required?")
    end
    raise("UnmappedInstanceError", "Class '" .. type(obj) .. "' is not mapped")
  end
  return obj
end

-- an identity key as SQLAlchemy prints it: (<class 'User'>, (3,), None)
local function keystr(obj, m)
  local parts = {}
  for i, v in ipairs(ident_vals(obj, m)) do
    parts[i] = type(v) == "string" and ("'" .. v .. "'") or tostring(v)
  end
  return string.format("(<class '%s'>, (%s%s), None)",
                       tostring(rawget(m.class, "__name__")),
                       table.concat(parts, ", "), #parts == 1 and "," or "")
end

-- the mark of an object whose row a flush deleted, once it has left its
-- session (SQLAlchemy's was_deleted: it cannot be added again until
-- make_transient())
local WAS_DELETED = "\0was_deleted"
I.WAS_DELETED = WAS_DELETED

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
    local m = mapper_of(obj)
    local map, key = idmap_of(self, obj, m), ident_key(obj, m)
    local existing = map[key]
    if existing ~= nil and existing ~= obj then
      raise("InvalidRequestError", string.format(
        "Can't attach instance %s; another instance with key %s is " ..
        "already present in this session.", objstr(obj), keystr(obj, m)))
    end
    set_state(obj, "persistent", self.id)
    map[key] = obj
    if C.modified(obj) then self._dirty[obj] = true end
  end
  if mapper_of(obj).has_rels then self._reldirty[obj] = true end
end

-- add obj and, through save-update, what its loaded relationships hold
local function cascade_add(s, obj, seen)
  local head = seen == nil
  seen = seen or {}
  if seen[obj] then return end
  seen[obj] = true
  local st = C.lifecycle(obj)
  -- the cascade stops at an object the session holds already (not
  -- walking on through it), as SQLAlchemy's halt_on=_contains_state: a
  -- child expunged from a collection is not taken back when another is
  -- appended
  if not head and C.session(obj) == s.id and
     (st == "pending" or st == "persistent") then
    return
  end
  -- (one whose row a flush deleted cannot come back, as SQLAlchemy's:
  -- in any session, until make_transient())
  if st == "deleted" or st == "detached" and C.extra(obj, WAS_DELETED) then
    raise("InvalidRequestError", "Instance '" .. objstr(obj) .. "' has " ..
          "been deleted.  Use the make_transient() function to send this " ..
          "object back to the transient state.")
  end
  if st == "transient" or st == "detached" or C.session(obj) ~= s.id then
    add_one(s, obj)
  end
  related_by(obj, "save-update", function(x) cascade_add(s, x, seen) end)
end

function Session:add(obj)
  checkobj(obj)
  -- adding an object marked for deletion takes the mark back (not from
  -- what it cascades to: those are in the session already)
  if self._deleted[obj] then self._deleted[obj] = nil end
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
  -- (a session with nothing pending gets its pending set sized for the
  -- list at once: growing a hash one key at a time rehashes it over and
  -- over, which costs more than all the rest add() does)
  if next(self._new) == nil and t == "table" then
    local n = math.min(rawlen(list), 1 << 20)
    self._newlist, self._new = C.presized(n, 0), C.presized(0, n)
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
  if state == "detached" then
    -- (attached alone, with no save-update cascade, and one whose row an
    -- earlier flush deleted too: SQLAlchemy's delete() re-attaches it)
    C.extra(obj, WAS_DELETED, nil)
    add_one(self, obj)
  end
  if C.lifecycle(obj) ~= "persistent" or self._deleted[obj] then return end
  -- The delete cascade is followed first, loading what it needs (unless
  -- passive_deletes; a load autoflushes, as SQLAlchemy's lazy loads do),
  -- and only then is everything it reached marked: no autoflush deletes
  -- part of it early.  (A pending member stays pending, as in
  -- SQLAlchemy: the flush inserts it without the deleted parent's key.)
  local reached, seen = {}, {[obj] = true}
  local function follow(x)
    local m = mapper_of(x)
    if not m.has_rels then return end
    configure()
    for _, r in ipairs(m.rel_list or {}) do
      if r.cascade.delete then
        local objs
        if r.passive_deletes then
          objs = I.loaded_related(x, r)
        else
          if C.extra(x, r.key) == nil and not C.extra(x, nilmark[r.key]) then
            I.autoflush(self)
          end
          objs = I.load_quiet(self, x, r)
        end
        for _, y in ipairs(objs) do
          -- (a detached member is attached and deleted too, as
          -- SQLAlchemy's delete cascade re-attaches what it reaches)
          if not seen[y] and C.lifecycle(y) == "detached" and
             C.session(y) == 0 then
            C.extra(y, WAS_DELETED, nil)
            add_one(self, y)
          end
          if not seen[y] and C.lifecycle(y) == "persistent" and
             C.session(y) == self.id then
            seen[y] = true
            reached[#reached + 1] = y
            follow(y)
          end
        end
      end
    end
  end
  follow(obj)
  self._deleted[obj] = true
  for _, y in ipairs(reached) do self._deleted[y] = true end
end

local function forget(s, obj, to)
  -- (an entry of the pending list no longer pending: the flush must check
  -- each entry against _new, see C.flush_groups)
  if s._new[obj] then s._newlist.stale = true end
  if to == "detached" and C.lifecycle(obj) == "deleted" then
    C.extra(obj, WAS_DELETED, true)
  end
  s._new[obj], s._dirty[obj], s._deleted[obj] = nil, nil, nil
  local ident = ident_key(obj, mapper_of(obj))
  if ident ~= nil then
    local map = idmap_of(s, obj, mapper_of(obj))
    if map[ident] == obj then map[ident] = nil end
  end
  if to == "transient" then C.setidentity(obj, nil) end
  set_state(obj, to, 0)
end

-- orm.make_transient(obj): obj leaves its session (alone: no cascade)
-- and loses its identity; what it has loaded stays, with its history,
-- what it has not is simply absent (nil), as SQLAlchemy's
function orm.make_transient(obj)
  checkobj(obj)
  C.extra(obj, WAS_DELETED, nil)
  local sid = C.session(obj)
  local s = sid ~= 0 and sessions[sid] or nil
  if s then
    forget(s, obj, "transient")
    s._reldirty[obj] = nil
  else
    C.setidentity(obj, nil)
    set_state(obj, "transient", 0)
  end
end

-- orm.make_transient_to_detached(obj): a transient object becomes
-- detached with the identity of its primary key values, its values taken
-- as committed; the attributes it lacks load once it is in a session
function orm.make_transient_to_detached(obj)
  checkobj(obj)
  if C.session(obj) ~= 0 or C.identity(obj) ~= nil then
    raise("InvalidRequestError", "Given object must be transient")
  end
  local m = mapper_of(obj)
  local vals = {}
  for k, i in ipairs(m.pk_index) do
    local v = C.get(obj, i)
    if v == nil then
      raise("InvalidRequestError", "Instance " .. objstr(obj) ..
            " has a NULL identity key; it cannot be made detached")
    end
    vals[k] = v
  end
  C.commit(obj)
  for key in pairs(m.relationships or {}) do
    C.extra(obj, I.changekey[key], nil)
  end
  C.setidentity(obj, ident_store(m, vals))
  set_state(obj, "detached", 0)
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
  -- (a Result made before loads into the identity map no more: see
  -- check_epoch in orm/loading.lua)
  rawset(self, "_epoch", (rawget(self, "_epoch") or 0) + 1)
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
  -- (raw: a set not made yet is empty, and stays unmade)
  local new = rawget(self, "_new")
  if new and next(new) ~= nil then
    for obj in pairs(new) do forget(self, obj, "transient") end
    self._new = {}
  end
  local idmap = rawget(self, "_idmap")
  if idmap and next(idmap) ~= nil then
    C.detach_all(idmap, false, true) -- (emptied, not replaced)
  end
  if C.raw_empty(self, "_dirty", "_deleted", "_newlist", "_reldirty") then
    return
  end
  if next(self._dirty) ~= nil then
    C.detach_all(self._dirty, true)
    self._dirty = {}
  end
  if next(self._deleted) ~= nil then
    C.detach_all(self._deleted, true)
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
  -- (expiring some attributes leaves the object in session.dirty, with
  -- nothing to flush, as SQLAlchemy's modified flag stays; all of them
  -- clear it)
  if attrs == nil and not C.modified(obj) then self._dirty[obj] = nil end
  for _, x in ipairs(related) do
    if C.session(x) == self.id and C.lifecycle(x) == "persistent" and
       lselect(2, C.get(x, mapper_of(x).pk_index[1])) then
      self:expire(x)
    elseif C.session(x) == self.id and C.lifecycle(x) == "pending" then
      -- a pending object the cascade reaches leaves the session (not its
      -- own cascade: SQLAlchemy's _conditional_expire)
      forget(self, x, "transient")
      self._reldirty[x] = nil
    end
  end
end

function Session:expire_all()
  C.expire_all(self._idmap, self._dirty, I.expire_rels)
  self._dirty = {}
  self._reldirty = {}
end

-- refresh expires first (a pending change to a named attribute is
-- discarded), then loads through a query, which autoflushes the rest
function Session:refresh(obj, attrs)
  self:expire(obj, attrs)
  I.autoflush(self)
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
local function rel_modified(obj, m, collections, loaded_only)
  if not m.has_rels then return false end
  for key, r in pairs(m.relationships) do
    -- (loaded_only: a collection not loaded has no history to show, as
    -- SQLAlchemy's is_modified sees it)
    local ch = (collections or not r.uselist) and
               not (loaded_only and r.uselist and C.extra(obj, key) == nil) and
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
  if rel_modified(obj, m, collections, true) then return true end
  if not C.modified(obj) then return false end
  if C.lifecycle(obj) == "persistent" then
    return C.update_params(obj, m.colkeys) ~= nil
  end
  return true
end

function Session:flush()
  -- (nothing to write: no error either, as SQLAlchemy's)
  if next(self._new) == nil and next(self._dirty) == nil and
     next(self._deleted) == nil and next(self._reldirty) == nil then return end
  self:_check_active()
  session_event(self, "before_flush", nil, nil)
  if is_unbound(self) then
    local obj = next(self._new) or next(self._dirty) or next(self._deleted) or
                next(self._reldirty)
    unbound(mapper_of(obj), true)
  end
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
  local done = {ins = {}, upd = {}, del = {}, newlist = self._newlist,
                nnew = #self._newlist, conn = conn}
  local dels = {}
  for obj in pairs(self._deleted) do
    local m = I.flush_group(mapper_of(obj))
    dels[m] = dels[m] or {}
    table.insert(dels[m], obj)
  end
  -- A pending object with the identity of one this flush deletes is a
  -- "row switch", as SQLAlchemy's: the row is updated to the new
  -- object's values instead of deleted and inserted again (the deleted
  -- object ends deleted all the same).
  local switched = I.row_switches(self, saves, dels)
  if switched then
    done.switch = switched
    local olds = {}
    for _, old in pairs(switched) do olds[old] = true end
    for m, list in pairs(dels) do
      local keep = {}
      for _, obj in ipairs(list) do
        if olds[obj] then done.del[#done.del + 1] = obj
        else keep[#keep + 1] = obj end
      end
      dels[m] = #keep > 0 and keep or nil
    end
  end
  -- (a sharded session writes each object on its shard's connection: its
  -- ops split the batches, see orm/ext/horizontal_shard.lua)
  local ops = self._flush_ops or I
  local ok, err = pcall(function()
    I.check_cycles(self, work)
    local order = I.mapper_order(self, saves)
    local slots = I.assoc_slots(order, I.assoc_steps(work))
    local function assoc_step(list)
      for _, e in ipairs(list or {}) do
        for _, kind in ipairs({"delete", "insert"}) do
          if e[kind] then
            ops.emit_assoc(self, conn, {I.sort_assoc_rows(e[kind])}, kind)
          end
        end
      end
    end
    for _, e in ipairs(work.predel) do I.sort_assoc_rows(e) end
    ops.emit_assoc(self, conn, work.predel, "delete")
    assoc_step(slots[0])
    local rounds = I.save_rounds(self, work, order, saves)
    if rounds then
      -- (rows sorted one by one: the association rows after them all)
      for _, rd in ipairs(rounds) do
        local m, sv, syncs = rd[1], rd[2], rd[3]
        ops.emit_saves(self, conn, m, sv, syncs[m], done, syncs)
      end
      for k = 1, #order do assoc_step(slots[k]) end
    else
      for k, m in ipairs(order) do
        ops.emit_saves(self, conn, m, saves[m], work.syncs[m], done,
                       work.syncs)
        assoc_step(slots[k])
      end
    end
    ops.emit_post(self, conn, work.post)
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
    I.fail_flush(self, conn, err)
    error(err, 0)
  end
  ops.apply_flush(self, done)
  if done.switch then I.settle_switches(done.switch) end
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
     (rawget(s, "_failed") or
      not C.raw_empty(s, "_new", "_dirty", "_deleted", "_reldirty")) then
    s:flush()
  end
end

-- Whether a select is ORM-enabled, as SQLAlchemy 1.4 decides which
-- statements its Session autoflushes before: one of mapped entities or
-- attributes (or expressions of them), or given a mapped class as a FROM
-- (I.orm_marks); not one of Tables, their columns, literals or text, nor
-- a compound select.  (An expression of a mapped Table's columns counts
-- as one of its attributes: func.count(users.c.id) as
-- func.count(User.id).)
local orm_enabled
function orm_enabled(stmt)
  local mark = I.orm_marks[stmt]
  if mark == true then return true end
  if mark then return orm_enabled(mark) end
  -- mapped entities (not a mapped Table: select(users_table) gives plain
  -- rows), aliased ones, a hierarchy's select
  local ents = I.entities_of(stmt)
  local core = I.core_tables[stmt]
  if ents and core then ents = I.orm_entities(ents, stmt) end
  for _, e in ipairs(ents or EMPTY_LIST) do
    if e.mapper then return true end
  end
  -- expressions of mapped columns, columns of ORM subqueries (a Table's
  -- own column alone counts only as an attribute: I.orm_marks)
  local items, pos = C.select_items(stmt), 1
  core = core or EMPTY_LIST
  for _, it in ipairs(items or EMPTY_LIST) do
    if not core[pos] and C.uses_mapped(it[4], I.mappers_by_table, "item") then
      return true
    end
    pos = pos + it[2]
  end
  return false
end
I.orm_enabled = orm_enabled

-- autoflush before a statement, when it is ORM-enabled (tested only when
-- there is something to flush)
local function autoflush_for(s, stmt)
  if s.autoflush and not s._no_autoflush and
     not C.raw_empty(s, "_new", "_dirty", "_deleted", "_reldirty") and
     orm_enabled(stmt) then
    s:flush()
  end
end

local function end_transaction(s)
  if s._conn and s._conn ~= s.bind then s._conn:close() end
  if s._begun then s._begun.active = false end
  s._begun = false
  s._conn = false
  s._ext = false
  s._txs = NO_LEVELS
  s._sp_pending = false
end

-- the innermost begin_nested() level's transaction: SQLAlchemy 1.4's
-- Session (outside its "future" mode) commits or rolls back only that
-- level on commit() and rollback()
local function nested_tx(s)
  local level = s._txs[#s._txs]
  local t = level and level.nested and level.tx
  return t and t.active and t or nil
end

-- the whole transaction committed (with begin_nested() levels in it)
local function commit_all(self)
  self:_check_active()
  session_event(self, "before_commit")
  self:flush()
  if self._conn then
    -- (savepoints still open are released first, innermost first, as
    -- SQLAlchemy's commit of the whole transaction does)
    for k = #self._txs, 1, -1 do
      local level = self._txs[k]
      if level.savepoint then
        level.savepoint:commit()
        level.savepoint = nil
      end
      if level.tx then level.tx.active = false end
    end
    local ext = self._ext
    if ext == false then
      self._conn:commit()
    elseif ext ~= true then
      ext:commit() -- (the savepoint the connection was in)
    end
    for _, level in ipairs(self._txs) do
      for _, obj in ipairs(level.deleted or EMPTY_LIST) do
        if C.lifecycle(obj) == "deleted" then forget(self, obj, "detached") end
      end
    end
  end
  end_transaction(self)
  session_event(self, "after_commit")
  if self.expire_on_commit then self:expire_all() end
end

function Session:commit()
  local t = nested_tx(self)
  if t then
    self:_check_active()
    return t:commit()
  end
  commit_all(self)
end

-- undo the in-memory effects of the transaction levels from `from` up
local function rollback_levels(s, from)
  for k = #s._txs, from, -1 do
    local level = s._txs[k]
    for _, obj in ipairs(level.new or EMPTY_LIST) do
      if C.session(obj) == s.id then
        forget(s, obj, "transient")
      elseif C.session(obj) == 0 and C.lifecycle(obj) == "detached" then
        -- (expunged since: it loses the key its INSERT gave it too, as
        -- SQLAlchemy's rollback treats every object the transaction
        -- inserted)
        C.setidentity(obj, nil)
        set_state(obj, "transient", 0)
      end
    end
    for _, obj in ipairs(level.deleted or EMPTY_LIST) do
      if C.lifecycle(obj) == "deleted" then
        set_state(obj, "persistent", s.id)
        idmap_of(s, obj, mapper_of(obj))[ident_key(obj, mapper_of(obj))] = obj
      end
    end
    s._txs[k] = nil
  end
end

-- The state a begin_nested() level began with, as SQLAlchemy restores
-- it: what the level (and the session) made pending goes back to
-- transient, what it deleted comes back, and the objects it changed
-- (modified now, or updated by its flushes) expire; the others stay.
local function restore_level(s, from)
  local changed = {}
  for k = from, #s._txs do
    for o in pairs(s._txs[k].dirty or {}) do changed[o] = true end
  end
  rollback_levels(s, from)
  for obj in pairs(s._new) do forget(s, obj, "transient") end
  for obj in pairs(s._deleted) do changed[obj] = true end
  s._new, s._newlist, s._deleted = {}, {}, {}
  for obj in pairs(s._dirty) do changed[obj] = true end
  for obj in pairs(s._reldirty) do changed[obj] = true end
  for obj in pairs(changed) do
    if C.session(obj) == s.id and C.lifecycle(obj) == "persistent" then
      C.expire(obj)
      I.expire_rels(obj, mapper_of(obj), nil)
    end
  end
  for obj in pairs(s._dirty) do
    if not C.modified(obj) then s._dirty[obj] = nil end
  end
  s._reldirty = {}
end

-- A failed flush, as SQLAlchemy's: the innermost transaction rolls back
-- at once -- a begin_nested() level to its savepoint (the enclosing
-- transaction goes on; the level refuses work until its rollback()),
-- else the database transaction (the session refuses work until
-- rollback()) -- and the session's objects go back to the state that
-- transaction began with.
function I.fail_flush(s, conn, err)
  local k = #s._txs
  local top = s._txs[k]
  if top and top.nested and top.savepoint then
    local sp = top.savepoint
    top.savepoint = nil
    pcall(sp.rollback, sp)
    restore_level(s, k)
    -- (the level stays, spent, for its rollback())
    s._txs[k] = {nested = true, failed = err, tx = top.tx}
    return
  end
  local ext = s._ext
  if ext == false or ext == true then pcall(conn.rollback, conn)
  else pcall(ext.rollback, ext) end
  s._failed = err
  rollback_levels(s, 1)
  for obj in pairs(s._new) do forget(s, obj, "transient") end
  s._new, s._newlist, s._deleted = {}, {}, {}
  s:expire_all()
end

-- the whole transaction rolled back (with begin_nested() levels in it)
local function rollback_all(self)
  local had = not not self._conn or next(self._new) ~= nil or
              next(self._deleted) ~= nil
  -- (the begin_nested() levels end with it)
  for _, level in ipairs(self._txs) do
    if level.tx then level.tx.active = false end
  end
  local conn = self._conn
  if conn then
    local ext = self._ext
    if ext == false or ext == true then pcall(conn.rollback, conn)
    else pcall(ext.rollback, ext) end
  end
  rollback_levels(self, 1)
  end_transaction(self)
  self._failed = nil
  for obj in pairs(self._new) do forget(self, obj, "transient") end
  self._new, self._newlist, self._deleted = {}, {}, {}
  self:expire_all()
  if conn then session_event(self, "after_rollback") end
  if had then session_event(self, "after_soft_rollback", nil) end
end

function Session:rollback()
  local t = nested_tx(self)
  if t then return t:rollback() end
  rollback_all(self)
end

function Session:close()
  local conn = self._conn
  if conn and conn ~= self.bind and type(conn) == "userdata" then
    -- the session's own Connection: rolled back (an error ignored) and
    -- closed in one call
    conn:_rollback_quiet(true)
    self._conn = false
  elseif conn and not self._ext then
    pcall(conn.rollback, conn)
  end
  end_transaction(self)
  self._failed = nil
  self:expunge_all()
end
SessionMT.__close = function(s, err)
  -- (a session from sessionmaker:begin() commits first, or rolls back
  -- on an error, as SQLAlchemy's `with Session.begin() as session`)
  if rawget(s, "_begin_ctx") then
    rawset(s, "_begin_ctx", nil)
    -- (a failed flush caught in the block: closed without an error)
    if err == nil and not failed_state(s) then
      local ok, cerr = pcall(s.commit, s)
      if not ok then
        s:close()
        error(cerr, 0)
      end
    end
  end
  s:close()
end

-- begin(): a transaction object; begin(fn): fn(session) inside one
local SessionTx = {}
SessionTx.__index = SessionTx
-- whether a failed flush left this transaction inactive
local function tx_failed(t)
  local s = t.session
  if t.nested then
    local level = s._txs[t.level]
    return level ~= nil and level.failed ~= nil
  end
  return rawget(s, "_failed") ~= nil
end

-- The end of a transaction's block (<close>, begin(fn)): committed, or
-- rolled back on an error -- or, when a failed flush inside the block
-- was caught there, closed as it is (rolled back), with no error, as
-- SQLAlchemy's context manager closes a transaction no longer active.
local function end_block(t, err)
  if not t.active then return end
  if err or tx_failed(t) then t:rollback() else t:commit() end
end
SessionTx.__close = end_block

function SessionTx:commit()
  if not self.active then return end
  -- (a level a failed flush left inactive refuses, and stays to be
  -- rolled back, as SQLAlchemy's)
  check_active(self.session)
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
    for _, o in ipairs(level.new or EMPTY_LIST) do
      local l = level_list(parent, "new")
      l[#l + 1] = o
    end
    for _, o in ipairs(level.deleted or EMPTY_LIST) do
      local l = level_list(parent, "deleted")
      l[#l + 1] = o
    end
    if level.dirty and parent.nested then
      parent.dirty = parent.dirty or {}
      for o in pairs(level.dirty) do parent.dirty[o] = true end
    end
  else
    commit_all(self.session)
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
    restore_level(s, self.level)
  else
    rollback_all(s)
  end
end

function Session:begin(fn)
  -- (the transaction a failed flush left is still begun: it waits for
  -- its rollback())
  if failed_state(self) then
    raise("InvalidRequestError", "A transaction is already begun on this " ..
          "Session.")
  end
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
  -- (a commit that fails rolls back too, as SQLAlchemy's with block)
  if ok then ok, err = pcall(end_block, t) end
  if not ok then
    if t.active then t:rollback() else rollback_all(self) end
    error(err, 0)
  end
  return t
end

-- whether a transaction is under way: begun, begun by the use of the
-- session's connection, or by pending changes (SQLAlchemy's add() and
-- delete() autobegin)
function Session:in_transaction()
  if self._begun and self._begun.active then return true end
  if failed_state(self) then return true end
  if next(self._new) ~= nil or next(self._deleted) ~= nil then return true end
  local c = self._conn
  return c and not c.closed and c:in_transaction() or false
end

function Session:in_nested_transaction()
  for _, level in ipairs(self._txs) do
    if level.nested then return true end
  end
  return false
end

function Session:begin_nested(fn)
  check_active(self)
  self:flush()
  if #self._txs == 0 then self._txs = {{}} end
  self._txs[#self._txs + 1] = {nested = true}
  self._sp_pending = true
  local t = setmetatable({session = self, active = true, nested = true,
                          level = #self._txs}, SessionTx)
  self._txs[#self._txs].tx = t
  if fn == nil then return t end
  local ok, err = pcall(fn, self)
  if ok then ok, err = pcall(end_block, t) end
  if not ok then
    t.active = true
    t:rollback()
    error(err, 0)
  end
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
  -- (I.inherited_entities(stmt), inline: this runs on every execute)
  local hier = I.hierarchy_selects[stmt]
  if I.select_ents[stmt] or I.core_tables[stmt] or I.stmt_opts[stmt] or
     hier and hier.ents then
    return nil
  end
  local shape = C.select_shape(stmt)
  local entry = shape and plan_cache[shape]
  if not entry then return shape end
  configure() -- (a mapper added since comes first)
  if entry.gen ~= hooks.generation then return shape end
  local ents, layouts, rels_of, nrels = entry.ents, entry.layouts, entry.rels,
                                        entry.nrels
  for k = 1, #ents do
    local e = ents[k]
    local m = e.mapper
    local rels = rawget(m, "rel_list")
    if rawget(m, "layout") ~= layouts[k] or rels ~= rels_of[k] or
       #(rels or EMPTY) ~= nrels[k] then
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
  return shape, ents
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
  check_active(self)
  local kind = C.node_kind(stmt)
  if kind == nil and type(stmt) == "string" then
    -- (SQLAlchemy 1.4's Session runs a string as text(), deprecated)
    stmt, kind = sa.text(stmt), "text"
  end
  -- select(User):from_statement(stmt) (query.lua)
  if kind == nil and getmetatable(stmt) == I.FromStatement then
    return I.exec_from_statement(self, stmt, params, opts)
  end
  -- (a statement without options of its own keeps those given)
  if I.stmt_opts[stmt] then opts = I.exec_options(stmt, opts) end
  if kind == "select" then autoflush_for(self, stmt) end
  if is_unbound(self) then
    -- (named by the statement's first entity, as SQLAlchemy's does)
    local ok, ents = pcall(I.entities_of, stmt)
    local m
    for _, e in ipairs(ok and ents or EMPTY_LIST) do
      if e.mapper then m = e.mapper; break end
    end
    unbound(m, true)
  end
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
    -- (populate: 2 with populate_existing, pending changes discarded;
    -- else absent, one field less to make and for scalars() to copy)
    return setmetatable({session = self, ents = ents, core = core,
                         populate = opts and opts.populate_existing and 2 or
                                    nil,
                         yield_per = yield_per,
                         epoch = rawget(self, "_epoch")}, I.OrmResult)
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
  if not ents then
    -- (a Session's rows of columns answer to the ORM attributes selected)
    if type(core) == "userdata" and core.returns_rows then core:_orm_keys() end
    return I.orm_keyed(orig, core)
  end
  return setmetatable({session = self, ents = ents, core = core,
                       populate = opts and opts.populate_existing and 2 or
                                  nil, -- 2: pending changes discarded
                       yield_per = yield_per, plan = plan, joins = joins,
                       epoch = rawget(self, "_epoch")},
                      I.OrmResult)
end

function Session:scalars(stmt, params)
  return self:execute(stmt, params):scalars()
end

function Session:scalar(stmt, params)
  return self:execute(stmt, params):scalar()
end

-- an identity that does not fit the primary key (as SQLAlchemy words it)
-- get() of what is not a mapped class, as SQLAlchemy's inspect() fails
local function no_inspection(cls)
  -- (an aliased class is inspectable, but not a class get() can load)
  if I.alias_entry and type(cls) == "table" and I.alias_entry(cls) then
    raise("ArgumentError", "Expected mapped class or mapper, got: " ..
          tostring(cls))
  end
  raise("NoInspectionAvailable", "No inspection system is available " ..
        "for object of type " .. type(cls))
end

local function bad_ident(m, named)
  local names = {}
  for k, col in ipairs(m.primary_key) do
    names[k] = "'" .. (named and m.keys[m.pk_index[k]] or
                       tostring(col.table) .. "." .. col.name) .. "'"
  end
  raise("InvalidRequestError", string.format(
    "Incorrect %s of values in identifier to formulate primary key for " ..
    "session.get(); primary key %s are %s", named and "names" or "number",
    named and "attribute names" or "columns", table.concat(names, ",") ..
    (named and " (synonym names are also accepted)" or "")))
end

local get_with, eager_get, no_autoflush
local IdentityMapMT

-- get()'s identity as a list of primary key values: a scalar, a list in
-- key order, or a table keyed by attribute name
local function ident_values(m, ident)
  if type(ident) ~= "table" then
    if #m.pk_index ~= 1 then bad_ident(m) end
    return {ident}
  end
  if ident[1] == nil then
    -- (a count that does not fit is told before a name that does not)
    local n = 0
    for _ in pairs(ident) do n = n + 1 end
    if n ~= #m.pk_index then bad_ident(m) end
    local vals = {}
    for k, i in ipairs(m.pk_index) do
      vals[k] = ident[m.keys[i]]
      if vals[k] == nil then bad_ident(m, true) end
    end
    return vals
  end
  if #ident ~= #m.pk_index then bad_ident(m) end
  return ident
end

function Session:get(cls, ident, opts)
  if opts ~= nil then return get_with(self, cls, ident, opts) end
  local m = rawget(cls, "__mapper__")
  if not m then no_inspection(cls) end
  local vals = ident_values(m, ident)
  local key = key_of(m, vals)
  local map = self._idmap[I.base_of(m)]
  local obj = map and map[key]
  if obj ~= nil then
    -- (one marked for deletion is still there until the flush, as in
    -- SQLAlchemy; an object of another class of the hierarchy is not
    -- one of cls)
    if not I.isa(mapper_of(obj), m) then return nil end
    -- an expired object is loaded now; a vanished row gives nil
    local ok = true
    for _, i in ipairs(m.pk_index) do
      if not lselect(2, C.get(obj, i)) then ok = false end
    end
    if not ok then
      -- (its load is a query: it autoflushes, as SQLAlchemy's does)
      autoflush(self)
      local got = I.load_by_pk(self, m, vals, obj)
      if got == nil then return nil end
    end
    return obj
  end
  local eager = rawget(m, "_eager_get")
  if eager == nil then eager = eager_get(m) end
  if eager then return get_with(self, cls, vals, {}, nil, true) end
  autoflush(self)
  return I.load_by_pk(self, m, vals)
end

-- Whether get() of m loads relationships with its row (lazy = "joined",
-- "selectin", "subquery", "immediate"): it then runs as a select of the
-- class does, with those loads.
function eager_get(m)
  configure()
  local eager = false
  for _, r in ipairs(m.rel_list or {}) do
    local l = r.lazy
    if l == "joined" or l == "selectin" or l == "subquery" or
       l == "immediate" then
      eager = true
    end
  end
  rawset(m, "_eager_get", eager)
  return eager
end

-- get(cls, ident, {populate_existing, with_for_update, options,
-- execution_options}), and Query:get of a query with options: as
-- SQLAlchemy's, the identity map answers unless the row must be read
-- again (populate_existing, with_for_update); otherwise select(cls)
-- labelled <table>_<column>, with the options, WHERE the primary key.
-- `base` is the statement to start from (a Query's); `missed`: the
-- identity map was looked in.
function get_with(self, cls, ident, opts, base, missed)
  local m = rawget(cls, "__mapper__")
  if not m then no_inspection(cls) end
  if type(opts) ~= "table" then
    raise("ArgumentError", "get(): options are a table")
  end
  local vals = ident_values(m, ident)
  if not (missed or opts.populate_existing or opts.with_for_update) then
    local map = self._idmap[I.base_of(m)]
    if map and map[key_of(m, vals)] ~= nil then
      return Session.get(self, cls, vals)
    end
  end
  local stmt = base or
    sa.select(cls):set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(vals[k])) end
  if opts.with_for_update then
    local w = opts.with_for_update
    stmt = stmt:with_for_update(w ~= true and w or nil)
  end
  if opts.options then stmt = stmt:options(table.unpack(opts.options)) end
  local eo = {}
  for k, v in pairs(opts.execution_options or {}) do eo[k] = v end
  if opts.populate_existing then eo.populate_existing = true end
  if next(eo) ~= nil then stmt = stmt:execution_options(eo) end
  local r = self:execute(stmt)
  if r.unique then r = r:unique() end
  return r:scalars():one_or_none()
end
I.get_with = get_with
I.eager_get = function(m)
  local eager = rawget(m, "_eager_get")
  if eager == nil then eager = eager_get(m) end
  return eager
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
  if not (opts and opts.load == false) then autoflush(self) end
  local prev = self._no_autoflush
  self._no_autoflush = true
  local ok, target = pcall(merge_impl, self, obj, opts)
  self._no_autoflush = prev
  if not ok then error(target, 0) end
  return target
end

-- The full collection merge() makes, paced as Lua's own collector is: a
-- small heap (a few megabytes: a full collection takes well under a
-- millisecond) is collected every time, a larger one only once it has
-- grown by half since the last such collection (merging many objects
-- into a large session must not cost a collection each).
local SMALL_HEAP_KB = 4096
local heap_after = 0
local function full_collection()
  local now = collectgarbage("count")
  if now > SMALL_HEAP_KB and now < heap_after * 1.5 then return end
  collectgarbage()
  heap_after = collectgarbage("count")
end

-- Whether the session itself lets obj go (a weak reference only): it is
-- persistent and clean, and in no reference cycle through a loaded
-- relationship and its other side (CPython frees those only when its
-- cycle collector runs, so SQLAlchemy keeps them in the meantime).
local function may_be_freed(s, obj)
  if C.lifecycle(obj) ~= "persistent" or C.modified(obj) or s._dirty[obj] or
     s._deleted[obj] then
    return false
  end
  local m = mapper_of(obj)
  if not m.has_rels then return true end
  configure()
  local ch = I.changekey
  for _, r in ipairs(m.rel_list or {}) do
    local v = C.extra(obj, r.key)
    if C.extra(obj, ch[r.key]) then return false end
    if v ~= nil and r.back then
      local members = r.uselist and I.coll_members(v) or {v}
      for _, x in ipairs(members) do
        local back = C.extra(x, r.back.key)
        if rawequal(back, obj) or
           (back ~= nil and r.back.uselist and
            I.find(I.coll_members(back), obj)) then
          return false
        end
      end
    end
  end
  return true
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
  -- what this merge() call has done so far, nested merges included (as
  -- SQLAlchemy's _recursive and _resolve_conflict_map): the target of
  -- each source object, of each identity key, and the relationships each
  -- source object was reached through
  local memo = opts and opts._memo
  if not memo then
    memo = {objs = {}, keys = {}, via = {}}
  elseif memo.objs[obj] then
    return memo.objs[obj]
  end
  local target, key
  local map = self._idmap[I.base_of(m)]
  if complete then
    key = key_of(m, vals)
    target = map and map[key]
    if target ~= nil and not memo.collected and
       may_be_freed(self, target) then
      -- SQLAlchemy's identity map holds objects weakly and CPython frees
      -- at once an object nothing refers to: a clean object the program
      -- no longer holds is gone there, and merge() loads it again (the
      -- same detached object merged twice selects twice).  A full
      -- collection gives the weak map the same view (once per call:
      -- the objects this call merges are held by memo; paced on a large
      -- heap, see full_collection).
      target = nil
      memo.collected = true
      full_collection()
      target = map[key]
    end
    local keys = memo.keys[I.base_of(m)]
    if target == nil and keys then target = keys[key] end
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
      idmap_of(self, target, m)[key] = target
    end
  end
  memo.objs[obj] = target
  if complete then
    local keys = memo.keys[I.base_of(m)]
    if not keys then
      keys = {}
      memo.keys[I.base_of(m)] = keys
    end
    keys[key] = target
  end
  if rawequal(target, obj) then return target end
  local vi = m.version_idx
  if vi then
    -- a stale copy is refused: its version must be the target's (an
    -- attribute not loaded on either side is not compared)
    local sv, sl = C.get(obj, vi)
    local tv, tl = C.get(target, vi)
    if sl and tl and sv ~= tv then
      raise("StaleDataError", string.format(
        "Version id '%s' on merged state %s does not match existing " ..
        "version '%s'. Leave the version attribute unset when merging " ..
        "to update the most recent version.", tostring(sv),
        objstr(target), tostring(tv)))
    end
  end
  -- relationships first, then columns: the order SQLAlchemy's mapper
  -- iterates its properties in (which decides the order of the loads)
  if m.has_rels then
    configure()
    local sub = {load = load, _memo = memo}
    local via = memo.via
    local function merged(x, r)
      local t = via[x]
      if not t then
        t = {}
        via[x] = t
      end
      t[r] = true
      return merge_impl(self, x, sub)
    end
    for _, r in ipairs(m.rel_list or {}) do
      local v = C.extra(obj, r.key)
      -- the other side of the relationship obj was reached through is
      -- left alone (it would merge back into where this came from)
      local back = load and r.back and via[obj] and via[obj][r.back]
      if r.cascade.merge and not back and
         (v ~= nil or C.extra(obj, nilmark[r.key])) then
        if not load then
          -- taken as loaded: set without events, nothing loads
          if r.uselist then
            local list = {}
            for i, x in ipairs(v) do list[i] = merged(x, r) end
            C.extra(target, r.key, I.new_coll(target, r, list))
          else
            I.set_raw(target, r, v ~= nil and merged(v, r) or nil)
          end
        elseif r.uselist then
          -- (the target's collection loads first, so that the items
          -- already in it come from the identity map, as in SQLAlchemy)
          if C.lifecycle(target) == "persistent" then
            local _ = target[r.key]
          end
          local list = {}
          for i, x in ipairs(v) do list[i] = merged(x, r) end
          target[r.key] = list
        else
          target[r.key] = v ~= nil and merged(v, r) or nil
        end
      end
    end
  end
  local is_pk = {}
  for _, i in ipairs(m.pk_index) do is_pk[i] = true end
  for i, k in ipairs(m.keys) do
    local v, loaded = C.get(obj, i)
    if loaded then
      -- a key is set with its old value read first (SQLAlchemy keeps a
      -- key's history): an expired target loads what it lacks then
      if load and is_pk[i] and not lselect(2, C.get(target, i)) and
         C.identity(target) ~= nil then
        local _ = target[k]
      end
      if load then target[k] = v else C.set(target, i, v) end
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

-- session.no_autoflush, SQLAlchemy's context manager: autoflush is off
-- from the moment it is read until the guard closes --
--   do local _ <close> = session.no_autoflush ... end
-- or until the function it is called with returns --
--   session.no_autoflush(function() ... end)
local GuardMT = {__name = "retort.NoAutoflush"}
local function guard_end(g)
  if g.open then
    g.open = false
    g.session._no_autoflush = g.prev
  end
end
GuardMT.__close = guard_end
GuardMT.__call = function(g, a, b)
  local fn = type(a) == "function" and a or b
  if type(fn) ~= "function" then
    guard_end(g)
    raise("ArgumentError", "no_autoflush(fn): a function is expected")
  end
  local res = table.pack(pcall(fn))
  guard_end(g)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end
function no_autoflush(s)
  local g = setmetatable({session = s, prev = s._no_autoflush, open = true},
                         GuardMT)
  s._no_autoflush = true
  return g
end

-- A session's sets of objects, each made on its first use: a session
-- that only reads makes its identity map alone.
local LAZY_SETS = {_idmap = true, _new = true, _newlist = true,
                   _dirty = true, _deleted = true, _reldirty = true}

-- session.identity_map: a list of the persistent objects that also
-- answers as SQLAlchemy's IdentityMap does: keys() (identity keys
-- {class, {pk...}, token}), values(), items(), get(key), contains(key),
-- and map[key]
local function identity_of(obj)
  return orm.inspect(obj).identity_key
end

local function same_key(a, b)
  if type(a) ~= "table" or type(b) ~= "table" or a[1] ~= b[1] then
    return false
  end
  local x, y = a[2], b[2]
  if type(y) ~= "table" then y = {y} end
  if #x ~= #y then return false end
  for i = 1, #x do
    if x[i] ~= y[i] then return false end
  end
  return true
end

local IdentityMapMethods = {}
function IdentityMapMethods.keys(l)
  local out = {}
  for i, obj in ipairs(l) do out[i] = identity_of(obj) end
  return out
end
function IdentityMapMethods.values(l)
  return table.move(l, 1, #l, 1, {})
end
function IdentityMapMethods.items(l)
  local out = {}
  for i, obj in ipairs(l) do out[i] = {identity_of(obj), obj} end
  return out
end
function IdentityMapMethods.get(l, key, default)
  for _, obj in ipairs(l) do
    if same_key(identity_of(obj), key) then return obj end
  end
  return default
end
function IdentityMapMethods.contains(l, key)
  return IdentityMapMethods.get(l, key) ~= nil
end
IdentityMapMT = {__name = "retort.IdentityMap", __index = function(l, k)
  local f = IdentityMapMethods[k]
  if f then return f end
  if type(k) == "table" then return IdentityMapMethods.get(l, k) end
  return nil
end}

-- methods first (in C: they are what is looked up most), then these
SessionMT.__index = C.method_index(Session, function(s, k)
  if k == "new" then
    return I.pending_list(s)
  elseif k == "dirty" then
    -- (as SQLAlchemy's: persistent objects with a change to a column or
    -- to a relationship)
    local out, seen = {}, {}
    for obj in pairs(s._dirty) do
      if not s._deleted[obj] then
        out[#out + 1] = obj
        seen[obj] = true
      end
    end
    for obj in pairs(s._reldirty) do
      if not seen[obj] and not s._deleted[obj] and
         C.lifecycle(obj) == "persistent" and
         rel_modified(obj, mapper_of(obj), true) then
        out[#out + 1] = obj
      end
    end
    return out
  elseif k == "deleted" then
    return objlist(s._deleted)
  elseif k == "no_autoflush" then
    return no_autoflush(s)
  elseif k == "is_active" then
    -- (false from a failed flush until rollback(), as SQLAlchemy's: the
    -- innermost transaction is then inactive)
    if rawget(s, "_failed") then return false end
    local top = s._txs[#s._txs]
    return not (top and top.failed)
  elseif k == "info" then
    -- a table of the user's own, made on first use
    local info = {}
    for ik, iv in pairs(rawget(s, "_info_from") or EMPTY_LIST) do
      info[ik] = iv
    end
    rawset(s, "info", info)
    return info
  elseif k == "identity_map" then
    local out = {}
    for _, obj in ipairs(all_objects(s)) do out[#out + 1] = obj end
    return setmetatable(out, IdentityMapMT)
  end
  return nil
end, LAZY_SETS)

-- orm.object_mapper(obj), orm.class_mapper(cls): the Mapper of an
-- instance, of a class (an error of the kinds SQLAlchemy's raise for
-- what is not mapped)
function orm.object_mapper(obj)
  return mapper_of(checkobj(obj))
end

function orm.class_mapper(cls)
  local m = type(cls) == "table" and rawget(cls, "__mapper__")
  if m then
    configure()
    return m
  end
  if type(cls) == "table" and rawget(cls, "__name__") then
    raise("UnmappedClassError", "Class '" .. tostring(rawget(cls, "__name__")) ..
          "' is not mapped")
  end
  raise("ArgumentError", "Class object expected, got '" .. tostring(cls) ..
        "'.")
end

-- orm.was_deleted(obj): whether a flush deleted obj's row
function orm.was_deleted(obj)
  checkobj(obj)
  return C.lifecycle(obj) == "deleted" or C.extra(obj, WAS_DELETED) == true
end

-- orm.close_all_sessions(): close() of every session still open
function orm.close_all_sessions()
  local list = {}
  for _, s in pairs(sessions) do list[#list + 1] = s end
  table.sort(list, function(a, b) return a.id < b.id end)
  for _, s in ipairs(list) do s:close() end
end

function orm.object_session(obj)
  local sid = C.session(obj)
  return sid ~= 0 and sessions[sid] or nil
end

-- for the other files of the ORM
I.Session = Session
I.SessionMT = SessionMT
I.autoflush = autoflush
I.begin_savepoints = begin_savepoints
I.level_list = level_list
I.top_level = top_level
I.cascade_add = cascade_add
I.forget = forget
I.run = run
I.set_state = set_state
