-- orm/expired_load.lua -- loading an object's expired attributes and
-- refresh() as SQLAlchemy 1.4 does them: only the attributes that are
-- unloaded and have no pending change are selected (legacy labels), the
-- session autoflushes first (the list is made before, so a flush that
-- loads the same attributes is followed by the SELECT all the same);
-- refresh(obj, attrs) selects just those attributes, unlabelled; a flush
-- that updates an object whose primary key is expired loads it first
-- (SQLAlchemy reads the key with its loader on).

local sa, orm, C, I = ...
local hooks = I.hooks
local lselect = I.lselect
local mapper_of = I.mapper_of
local objstr = I.objstr
local raise = I.raise
local sessions = I.sessions
local Session = I.Session

-- the extra attribute properties.lua keeps for columns options deferred
local OPTDEFERRED = "\0optdeferred"

-- a mapper whose attributes are its table's columns, one each
local function plain(m)
  return not m.tables and not m.layout and not m.concrete
end

-- a hierarchy's root or a class of joined inheritance: its attributes are
-- columns of the join of its tables (an attribute may have one in each,
-- as a subclass's key)
local function joined(m)
  return m.tables ~= nil and m.attr_cols ~= nil and not m.single and
         not m.concrete and not m.layout and m.selectable ~= nil or
         (m.tables ~= nil and #m.tables == 1 and m.attr_cols ~= nil and
          not m.inherits and not m.concrete and not m.layout)
end

-- the session obj is persistent in, when its loads can take this path
local function home(obj)
  local sid = C.session(obj)
  local s = sid ~= 0 and sessions[sid]
  if not s or C.lifecycle(obj) ~= "persistent" or s.shard_chooser then
    return nil
  end
  return s
end

-- SELECT the columns of attribute indexes idx (ascending) of obj's row,
-- and set those without a pending change as loaded (on conn, else the
-- session's connection); a joined class's from the join of its tables
local function load_columns(s, m, obj, idx, labelled, conn)
  local cols, at = {}, {}
  for k, i in ipairs(idx) do
    at[k] = #cols + 1
    for _, col in ipairs(m.attr_cols and m.attr_cols[i] or
                         {m.attr_columns[i]}) do
      cols[#cols + 1] = labelled and
                        col:label(col.table.name .. "_" .. col.name) or col
    end
  end
  local stmt = sa.select(table.unpack(cols))
  if m.tables and #m.tables > 1 then stmt = stmt:select_from(m.selectable) end
  -- (in a flush the object's identity is not set yet: its key's values)
  local ident = not conn and I.ident_vals(obj, m)
  for k, col in ipairs(m.primary_key) do
    stmt = stmt:where(col:eq(ident and ident[k] or
                             I.col_value(obj, m, m.pk_index[k])))
  end
  local rows = I.run(s, conn or s:connection(), stmt):all()
  if #rows == 0 then return false end
  local row = rows[1]
  local keys = {}
  for k, i in ipairs(idx) do
    if not lselect(2, C.flags(obj, i)) then C.set(obj, i, row[at[k]]) end
    keys[k] = m.keys[i]
  end
  I.refresh_event(obj, keys)
  return true
end

local function deleted_error(obj)
  raise("ObjectDeletedError", string.format(
    "Instance '%s' has been deleted, or its row is otherwise not present.",
    objstr(obj)))
end

local function unloaded(m, obj)
  local idx = {}
  for i = 1, #m.attr_columns do
    if not lselect(2, C.get(obj, i)) then idx[#idx + 1] = i end
  end
  return idx
end

-- Whether attributes idx of a joined class have a column in the base
-- table: SQLAlchemy selects them from the join then, and otherwise from
-- the subclass tables alone (its _optimized_get_statement, which the
-- general loader makes).
local function in_base_table(m, idx)
  local base = C.node_ptr((m.base_mapper or m).local_table)
  for _, i in ipairs(idx) do
    for _, col in ipairs(m.attr_cols[i] or {}) do
      if C.node_ptr(col.table) == base then return true end
    end
  end
  return false
end

local base_load_expired = hooks.load_expired
function hooks.load_expired(obj, key)
  local s = home(obj)
  if not s then return base_load_expired(obj, key) end
  local m = mapper_of(obj)
  local idx = not C.extra(obj, OPTDEFERRED) and
              (plain(m) or joined(m)) and unloaded(m, obj)
  if not idx or not plain(m) and not in_base_table(m, idx) then
    I.autoflush(s)
    return base_load_expired(obj, key)
  end
  I.autoflush(s)
  if #idx > 0 and not load_columns(s, m, obj, idx, true) then
    deleted_error(obj)
  end
  local v, loaded = C.get(obj, m.slots[key])
  if not loaded then return base_load_expired(obj, key) end
  return v
end

-- Sessions where an object may have its primary key expired: the flush
-- then looks for such objects among the dirty ones.
local maybe = setmetatable({}, {__mode = "k"})

local function pk_expired(obj, m)
  for _, i in ipairs(m.pk_index) do
    if not lselect(2, C.get(obj, i)) then return true end
  end
  return false
end

local base_expire = Session.expire
function Session:expire(obj, attrs)
  maybe[self] = true
  return base_expire(self, obj, attrs)
end

local base_expire_all = Session.expire_all
function Session:expire_all()
  maybe[self] = true
  return base_expire_all(self)
end

local base_add = Session.add
function Session:add(obj)
  base_add(self, obj)
  if C.identity(obj) ~= nil then maybe[self] = true end
end

-- (no autoflush while a flush runs, as SQLAlchemy's: an attribute its
-- listeners or the version check load does not flush again)
local base_flush = Session.flush
function Session:flush(...)
  -- (nothing to write: the common autoflush costs no more than before)
  if next(self._new) == nil and next(self._dirty) == nil and
     next(self._deleted) == nil and next(self._reldirty) == nil then
    return base_flush(self, ...)
  end
  local prev = self._no_autoflush
  self._no_autoflush = true
  local ok, err = pcall(function(...)
    if maybe[self] and not self.shard_chooser then
      for obj in pairs(self._dirty) do
        local m = mapper_of(obj)
        if C.lifecycle(obj) == "persistent" and pk_expired(obj, m) then
          local _ = obj[m.keys[m.pk_index[1]]]
        end
      end
    end
    return base_flush(self, ...)
  end, ...)
  self._no_autoflush = prev
  if not ok then error(err, 0) end
end

-- refresh(obj [, attrs]): the named column attributes (or all of them)
-- selected again, unlabelled, in mapping order
local base_refresh = Session.refresh
function Session:refresh(obj, attrs)
  if not C.isinstance(obj) then return base_refresh(self, obj, attrs) end
  local m = mapper_of(obj)
  local cols = attrs == nil
  for _, k in ipairs(attrs or {}) do
    if m.slots[k] then cols = true end
  end
  if not cols and m.relationships then
    local rels = true
    for _, k in ipairs(attrs) do
      if not m.relationships[k] then rels = false end
    end
    if rels and #attrs > 0 then
      raise("InvalidRequestError", "No column-based properties specified " ..
            "for refresh operation. Use session.expire() to reload " ..
            "collections and related items.")
    end
  end
  if not plain(m) or self.shard_chooser then
    return base_refresh(self, obj, attrs)
  end
  -- (relationships named are expired: they load when next read)
  self:expire(obj, attrs)
  local idx = {}
  if attrs then
    local want = {}
    for _, k in ipairs(attrs) do
      if m.slots[k] then want[m.slots[k]] = true end
    end
    for i = 1, #m.attr_columns do if want[i] then idx[#idx + 1] = i end end
  else
    for i = 1, #m.attr_columns do idx[i] = i end
  end
  if not load_columns(self, m, obj, idx, false) then
    raise("InvalidRequestError", "Could not refresh instance '" ..
          objstr(obj) .. "'")
  end
end

-- eager_defaults of a hierarchy's objects, once all their tables' rows
-- are written (SQLAlchemy's _finalize_insert_update_commands): the
-- server-generated attributes each object has unloaded -- those its
-- INSERTs left to server defaults, and the server onupdates of the
-- tables its UPDATEs changed -- selected now, the new objects first.
function I.hierarchy_eager_defaults(s, conn, sv, done)
  local now = {}
  local rest = {}
  for _, e in ipairs(done.expire_after or {}) do
    if mapper_of(e[1]).eager_defaults then
      now[e[1]] = now[e[1]] or {}
      for _, i in ipairs(e[2]) do now[e[1]][i] = true end
    else
      rest[#rest + 1] = e
    end
  end
  if done.expire_after then done.expire_after = rest end
  for _, list in ipairs{sv.ins, sv.upd} do
    for _, obj in ipairs(list) do
      local m = mapper_of(obj)
      local ed = m.eager_defaults
      if ed and joined(m) then
        local want, idx = now[obj] or {}, {}
        for _, l in ipairs{ed.insert, ed.update} do
          for _, i in ipairs(l) do
            if not lselect(2, C.get(obj, i)) then want[i] = true end
          end
        end
        for i = 1, #m.attr_columns do if want[i] then idx[#idx + 1] = i end end
        if #idx > 0 then load_columns(s, m, obj, idx, true, conn) end
      end
    end
  end
end

-- setting an expired primary key or version attribute of a persistent
-- object loads it first, so that its history holds the old value (the
-- active history SQLAlchemy gives those columns); others are just set
function hooks.set_expired(obj, key)
  local m = mapper_of(obj)
  local i = m.slots[key]
  if i and (m.pk_pos[i] or i == m.version_idx) then
    local _ = obj[key]
  end
end
