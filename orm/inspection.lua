-- orm/inspection.lua -- inspect() of mapped classes and instances: the
-- InstanceState (lifecycle, identity, attribute history).

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Mapper = I.Mapper
local ident_vals = I.ident_vals
local lselect = I.lselect
local mapper_of = I.mapper_of
local sessions = I.sessions

------------------------------------------------------------------------
-- inspection
------------------------------------------------------------------------

-- the extra attribute that holds an object's identity token
I.TOKEN_KEY = "\0identity_token"

local State = {}
local attr_state -- (defined below)
local StateMT = {__name = "retort.InstanceState"}

-- History lists hold sa.null for NULL (a Lua list cannot hold nil), so
-- that an attribute set to nil shows added = {null} as SQLAlchemy's shows
-- [None], apart from an empty list where it shows ().
local NONE = sa.null
local function nv(v)
  if v == nil then return NONE end
  return v
end

local History = {}
local HistoryMT = {__index = History, __name = "retort.History"}

local function new_history()
  return setmetatable({added = {}, unchanged = {}, deleted = {}}, HistoryMT)
end

-- How a history prints, as SQLAlchemy's does: an attribute not loaded
-- has a blank one (None parts), a collection changed since it loaded
-- list parts ([]), one unchanged its members alone in a list; the empty
-- parts of the others are ().
local hist_form = setmetatable({}, {__mode = "k"}) -- "blank" | "coll" | "same"

local function repr_list(h, l, part)
  local form = hist_form[h]
  if form == "blank" then return "None" end
  if #l == 0 then
    if form == "coll" or form == "same" and part == "unchanged" then
      return "[]"
    end
    return "()"
  end
  local parts = {}
  for i, x in ipairs(l) do
    if rawequal(x, NONE) then parts[i] = "None"
    elseif C.isinstance(x) then parts[i] = tostring(x)
    else parts[i] = C.repr(x) end
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

HistoryMT.__tostring = function(h)
  return "History(added=" .. repr_list(h, h.added, "added") ..
         ", unchanged=" .. repr_list(h, h.unchanged, "unchanged") ..
         ", deleted=" .. repr_list(h, h.deleted, "deleted") .. ")"
end

function History:empty()
  return #self.added == 0 and #self.deleted == 0 and #self.unchanged == 0
end

function History:has_changes()
  return #self.added > 0 or #self.deleted > 0
end

local function concat(...)
  local out = {}
  for _, l in ipairs({...}) do table.move(l, 1, #l, #out + 1, out) end
  return out
end

function History:sum()
  return concat(self.added, self.unchanged, self.deleted)
end

function History:non_deleted()
  return concat(self.added, self.unchanged)
end

function History:non_added()
  return concat(self.unchanged, self.deleted)
end

-- A column attribute's history, as SQLAlchemy's from_scalar_attribute:
-- "loaded" is its key being in the object's dict, "modified" its being
-- in committed_state, whose value (the one before the first change) is
-- unknown when the attribute was set before being loaded.
local function history(obj, i)
  local v, loaded = C.get(obj, i)
  local _, modified = C.flags(obj, i)
  local h = new_history()
  if not modified then
    if loaded then h.unchanged[1] = nv(v) else hist_form[h] = "blank" end
    return h
  end
  local old, known = C.committed(obj, i)
  if not loaded then
    if known then h.deleted[1] = nv(old) end
  elseif known and rawequal(old, v) then
    h.unchanged[1] = nv(v)
  else
    h.added[1] = nv(v)
    if known then h.deleted[1] = nv(old) end
  end
  return h
end

-- The value a scalar relationship had before a change, when it was not
-- loaded: as SQLAlchemy's many-to-one, what its committed foreign key
-- finds without SQL -- NONE for a NULL key, an object of the identity
-- map that is not expired -- and otherwise nothing (unknown).  Taken
-- when the change is made (orm/collections.lua).
function I.rel_original(obj, r)
  if r.direction ~= "manytoone" or not r.pk_lookup or
     C.lifecycle(obj) ~= "persistent" then
    return nil
  end
  local vals, allnil = {}, true
  for k, i in ipairs(r.local_idx) do
    local v, known = C.committed(obj, i)
    if not known then return nil end
    vals[k] = v
    if v ~= nil then allnil = false end
  end
  if allnil then return NONE end
  local s = sessions[C.session(obj)]
  local map = s and s._idmap[I.base_of(r.target)]
  local found = map and map[I.key_of(r.target, vals)]
  if found == nil or not lselect(2, C.get(found, r.target.pk_index[1])) then
    return nil
  end
  -- another class under the same key is no match: nil, as there
  return I.isa(mapper_of(found), r.target) and found or NONE
end

-- the history of relationship r: nothing while it is not loaded (it is
-- read without loading); otherwise what the change record holds
local function rel_history(obj, r)
  local h = new_history()
  local v = C.extra(obj, r.key)
  if v == nil and not C.extra(obj, I.nilmark[r.key]) then
    hist_form[h] = "blank"
    return h
  end
  local rec = C.extra(obj, I.changekey[r.key])
  local ch = rec or {add = {}, rem = {}}
  if r.uselist then
    hist_form[h] = rec and "coll" or "same"
    for _, x in ipairs(I.coll_members(v) or {}) do
      local l = ch.add[x] and h.added or h.unchanged
      l[#l + 1] = x
    end
    for x in pairs(ch.rem) do h.deleted[#h.deleted + 1] = x end
    return h
  end
  -- a scalar, as SQLAlchemy's from_object_attribute: the value before
  -- the first change is "deleted" unless it was nil or unknown
  if not ch.set then
    h.unchanged[1] = nv(v)
    return h
  end
  local orig = ch.orig
  if orig ~= nil and rawequal(orig, nv(v)) then
    h.unchanged[1] = nv(v)
  else
    h.added[1] = nv(v)
    if orig ~= nil and orig ~= NONE then h.deleted[1] = orig end
  end
  return h
end

-- A composite's attribute state, as SQLAlchemy's: its history is made
-- from its columns' (reading them loads those expired, as there), one
-- value object of the added-or-kept values and, when a column changed,
-- one of the deleted ones (nil where a column has none); .loaded_value
-- is the value object while every column is loaded.
local function composite_history(obj, m, d)
  local added, deleted, changed = {}, {}, false
  for k, ck in ipairs(d.keys) do
    local i = m.slots[ck]
    if not lselect(2, C.get(obj, i)) and C.identity(obj) ~= nil then
      local _ = obj[ck]
    end
    local h = history(obj, i)
    if #h.added > 0 or #h.deleted > 0 then changed = true end
    -- (the value objects are made of plain values: NULL is nil there)
    local function plain(v)
      if rawequal(v, NONE) then return nil end
      return v
    end
    added[k] = plain(h.added[1])
    if h.added[1] == nil then added[k] = plain(h.unchanged[1]) end
    deleted[k] = plain(h.deleted[1])
  end
  local n, ctor = #d.keys, d.composite.ctor
  local h = new_history()
  if changed then
    h.added[1] = ctor(table.unpack(added, 1, n))
    h.deleted[1] = ctor(table.unpack(deleted, 1, n))
  else
    h.unchanged[1] = ctor(table.unpack(added, 1, n))
  end
  return h
end

local function composite_state(obj, m, d, key)
  local loaded = true
  for _, ck in ipairs(d.keys) do
    if not lselect(2, C.get(obj, m.slots[ck])) then loaded = false end
  end
  return setmetatable({key = key, loaded_value = loaded and d.get(obj) or nil},
    {__index = function(_, f)
      if f == "value" then return obj[key] end
      if f == "history" then return composite_history(obj, m, d) end
    end})
end

-- .value reads as obj[key] does (an expired or unloaded attribute loads)
local function with_value(obj, key, t)
  return setmetatable(t, {__index = function(_, f)
    if f == "value" then return obj[key] end
  end})
end

-- inspect(obj).attrs[key]: columns, relationships and synonyms (the
-- history of the attribute a synonym stands for); .loaded_value never
-- loads
attr_state = function(obj, m, key)
  local i = m.slots[key]
  if i then
    return with_value(obj, key, {key = key, history = history(obj, i),
                                 loaded_value = (C.get(obj, i))})
  end
  I.configure()
  local r = m.relationships[key]
  if r then
    local loaded = C.extra(obj, r.key)
    if loaded ~= nil and r.uselist then loaded = I.coll_members(loaded) end
    return with_value(obj, key, {key = key, history = rel_history(obj, r),
                                 loaded_value = loaded})
  end
  local d = m.descriptors and m.descriptors[key]
  if d and d.composite then return composite_state(obj, m, d, key) end
  if d and d.synonym then
    local target = attr_state(obj, m, d.synonym)
    return target and with_value(obj, key, {key = key,
                                            history = target.history})
  end
  return nil
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
    -- (as SQLAlchemy's: a change to a relationship counts too)
    if C.modified(obj) then return true end
    local m = mapper_of(obj)
    if not m.has_rels then return false end
    for key in pairs(m.relationships) do
      local ch = C.extra(obj, I.changekey[key])
      if ch and (ch.set or next(ch.add) ~= nil or next(ch.rem) ~= nil) then
        return true
      end
    end
    return false
  elseif k == "identity" then
    local m = mapper_of(obj)
    return ident_vals(obj, m)
  elseif k == "was_deleted" then
    return C.lifecycle(obj) == "deleted" or C.extra(obj, I.WAS_DELETED) == true
  elseif k == "has_identity" then
    return C.identity(obj) ~= nil
  elseif k == "identity_key" or k == "key" then
    local id = st.identity
    return id and {mapper_of(obj).class, id, st.identity_token} or nil
  elseif k == "identity_token" then
    -- the shard of a sharded session's object (orm/ext/horizontal_shard.lua)
    if I.identity_token then return I.identity_token(obj) end
    return C.extra(obj, I.TOKEN_KEY)
  elseif k == "session" then
    return s
  elseif k == "mapper" then
    return mapper_of(obj)
  elseif k == "expired_attributes" or k == "unloaded" then
    local m, out = mapper_of(obj), {}
    local missing = {}
    for i, key in ipairs(m.keys) do
      local v, loaded, placeless = C.get(obj, i)
      -- (an attribute its INSERT sent as NULL is unloaded, not expired)
      if not loaded and (k == "unloaded" or placeless or
                         not lselect(3, C.flags(obj, i))) then
        out[#out + 1] = key
        missing[key] = true
      end
    end
    if k == "unloaded" then
      -- as SQLAlchemy's: every mapper attribute not in the object's
      -- dict, so relationships not loaded yet (a dynamic one never is),
      -- synonyms, and composites with a column not loaded
      for key, r in pairs(m.relationships) do
        if I.is_dynamic and I.is_dynamic(r) or
           (C.extra(obj, key) == nil and not C.extra(obj, I.nilmark[key])) then
          out[#out + 1] = key
        end
      end
      for key, d in pairs(m.descriptors or {}) do
        if d.synonym then
          out[#out + 1] = key
        elseif d.composite then
          for _, ck in ipairs(d.keys) do
            if missing[ck] then out[#out + 1] = key; break end
          end
        end
      end
    end
    return out
  elseif k == "attrs" then
    local m = mapper_of(obj)
    -- pairs() walks the mapper's attributes (those with a state)
    return setmetatable({}, {__index = function(_, key)
      return attr_state(obj, m, key)
    end, __pairs = function()
      local keys = {}
      for key in pairs(m.attrs) do keys[#keys + 1] = key end
      table.sort(keys)
      local i = 0
      return function()
        while true do
          i = i + 1
          local key = keys[i]
          if key == nil then return nil end
          local a = attr_state(obj, m, key)
          if a then return key, a end
        end
      end
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
  local m
  if type(x) == "table" and rawget(x, "__mapper__") then
    m = rawget(x, "__mapper__")
  elseif getmetatable(x) == Mapper then
    m = x
  end
  return m
end
debug.getregistry()["retort.inspect_hook"] = orm_inspection
orm.inspect = sa.inspect
