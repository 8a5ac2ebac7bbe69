-- orm/mutable_pk.lua -- passive_updates = false: when an object's
-- primary key (or other referenced column) changes, the ORM itself
-- carries the new value to the rows that refer to it, for databases
-- without ON UPDATE CASCADE.  Before the flush orders its work, each
-- changed object's one-to-many collections with passive_updates = false
-- are loaded (by the old key) and their members' foreign keys set to
-- the new value; the flush then updates the parent row before theirs.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local mapper_of = I.mapper_of
local new_coll = I.new_coll

-- the value attribute i of obj had when last loaded or flushed (a key
-- set over an expired value: the identity keeps it)
local function old_value(obj, m, i)
  local v, known = C.committed(obj, i)
  if rawequal(v, sa.null) then v = nil end
  if not known and m.pk_pos[i] then
    local ident = C.identity(obj)
    if #m.pk_index == 1 then return ident end
    return ident and ident[m.pk_pos[i]]
  end
  return v
end

-- obj's collection r: what is loaded, else the rows that refer to the
-- old key (the session's identity-map objects)
local function members_by_old_key(s, obj, r, old)
  local loaded = C.extra(obj, r.key)
  if loaded ~= nil then return loaded end
  local stmt = sa.select(r.target.class)
  for k, rc in ipairs(r.remote_cols) do stmt = stmt:where(rc:eq(old[k])) end
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  local prev = s._no_autoflush
  s._no_autoflush = true
  local ok, list = pcall(function() return s:scalars(stmt):all() end)
  s._no_autoflush = prev
  if not ok then error(list, 0) end
  local c = new_coll(obj, r, list)
  C.extra(obj, r.key, c)
  return c
end

local function cascade_keys(s, obj)
  local m = mapper_of(obj)
  for _, r in ipairs(m.rel_list or {}) do
    if r.passive_updates == false and r.direction == "onetomany" and
       not r.viewonly then
      local changed, old, new = false, {}, {}
      for k, i in ipairs(r.local_idx) do
        local _, modified = C.flags(obj, i)
        old[k] = old_value(obj, m, i)
        new[k] = (C.get(obj, i))
        if modified and old[k] ~= new[k] then changed = true end
      end
      if changed then
        for _, x in ipairs(members_by_old_key(s, obj, r, old)) do
          for k, ti in ipairs(r.remote_idx) do
            local key = r.target.keys[ti]
            if x[key] ~= new[k] then x[key] = new[k] end
          end
        end
      end
    end
  end
end

-- does a flush of m's objects carry keys (asked once per mapper and flush)
local function carries_keys(m)
  for _, r in ipairs(rawget(m, "rel_list") or {}) do
    if r.passive_updates == false and r.direction == "onetomany" and
       not r.viewonly then
      return true
    end
  end
  return false
end

-- whether any relationship resolved so far has passive_updates = false
-- (when none has, a flush has no keys to carry and skips the walk)
local any_carrier = false
local resolve_rel = I.resolve_rel
I.resolve_rel = function(r)
  if r.options.passive_updates == false then any_carrier = true end
  return resolve_rel(r)
end

local presort = I.presort
I.presort = function(s)
  if not any_carrier then return presort(s) end
  -- (a list first: setting the members' keys adds them to the dirty set)
  local dirty, carries = {}, {}
  for obj in pairs(s._dirty) do
    local m = mapper_of(obj)
    local c = carries[m]
    if c == nil then c = carries_keys(m); carries[m] = c end
    if c and not s._deleted[obj] and C.lifecycle(obj) == "persistent" then
      dirty[#dirty + 1] = obj
    end
  end
  for _, obj in ipairs(dirty) do cascade_keys(s, obj) end
  return presort(s)
end
