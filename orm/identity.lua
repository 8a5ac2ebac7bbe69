-- orm/identity.lua -- identity maps and identity keys.  An identity map
-- is one weak-valued table per mapper and session keyed by the identity
-- key (the primary key value, or its values joined); new, modified and
-- deleted objects are also held strongly by the session until flushed,
-- as SQLAlchemy does.

local sa, orm, C, I = ...

-- (one metatable for every identity map: a session per unit of work
-- makes many of them)
local WEAK_VALUES = {__mode = "v"}

local function idmap_for(s, m)
  -- one map for a whole inheritance hierarchy (the field is raw where
  -- set: a raw read skips the Mapper's __index)
  m = rawget(m, "base_mapper") or m
  local t = s._idmap[m]
  if not t then
    t = C.new_map(WEAK_VALUES)
    s._idmap[m] = t
  end
  return t
end

-- the identity map obj is (or goes) in: a sharded session
-- (orm/ext/horizontal_shard.lua) keeps one per shard and picks obj's
local function idmap_of(s, obj, m)
  local f = s._idmap_of
  if f then return f(s, obj, m) end
  return idmap_for(s, m)
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

-- for the other files of the ORM
I.ident_key = ident_key
I.ident_store = ident_store
I.ident_vals = ident_vals
I.idmap_for = idmap_for
I.idmap_of = idmap_of
I.base_of = function(m) return rawget(m, "base_mapper") or m end
-- the mapper whose flush writes m's objects (a hierarchy's root)
I.flush_group = function(m)
  return rawget(m, "flush_root") or rawget(m, "base_mapper") or m
end
I.key_of = key_of
I.pk_values = pk_values
