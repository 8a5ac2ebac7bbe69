-- orm/unitofwork.lua -- the order of the flush.  Pending objects in the
-- order they were added, modified ones sorted by primary key, per mapper
-- in foreign-key order (deletes in the reverse order, a self-referential
-- mapper's rows in levels).  presort turns relationship change records
-- into work (foreign key copies, orphan deletes, association rows); the
-- objects change state only after every statement succeeded.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local changekey = I.changekey
local col_value = I.col_value
local configure = I.configure
local find = I.find
local forget = I.forget
local hooks = I.hooks
local ident_key = I.ident_key
local ident_store = I.ident_store
local idmap_for = I.idmap_for
local key_of = I.key_of
local load_quiet = I.load_quiet
local loaded_related = I.loaded_related
local mapper_of = I.mapper_of
local mappers_by_table = I.mappers_by_table
local pk_values = I.pk_values
local set_state = I.set_state

------------------------------------------------------------------------
-- the unit of work
------------------------------------------------------------------------

local table_ranks -- below

-- The flush order of a metadata's tables, as SQLAlchemy sorts them: in
-- levels (a table after those it references), by name within a level;
-- the tables of a cycle last, by name.  Cached per metadata and count.
local ranks_cache = setmetatable({}, {__mode = "k"})
function table_ranks(md)
  local tables, byname = {}, {}
  for _, t in pairs(md.tables) do tables[#tables + 1] = t end
  local cached = ranks_cache[md]
  if cached and cached.n == #tables and cached.gen == hooks.generation then
    return cached.rank, cached.level
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
  local rank, level, done, n, lv = {}, {}, {}, 0, 0
  while n < #tables do
    lv = lv + 1
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
      level[C.node_ptr(t)] = lv
    end
  end
  ranks_cache[md] = {n = #tables, gen = hooks.generation, rank = rank,
                     level = level}
  return rank, level
end

-- (deleting: the deletes' order, a level after those that reference it,
-- still by name within a level, as SQLAlchemy sorts its DeleteAll steps)
local function mapper_order(s, objs_by_mapper, deleting)
  local ms = {}
  for m in pairs(objs_by_mapper) do ms[#ms + 1] = m end
  -- tables that others reference come first
  local rank, level = {}, {}
  for _, m in ipairs(ms) do
    if not rank[m.local_table.metadata] then
      local r, l = table_ranks(m.local_table.metadata)
      for ptr, i in pairs(r) do rank[ptr], level[ptr] = i, l[ptr] end
      rank[m.local_table.metadata] = true
    end
  end
  -- (within a level by class name, as SQLAlchemy sorts its steps by the
  -- mapper's sort key, not by table name)
  table.sort(ms, function(a, b)
    local la, lb = level[a.ptr] or 0, level[b.ptr] or 0
    if la ~= lb then
      if deleting then return la > lb end
      return la < lb
    end
    local na, nb = a.class.__name__, b.class.__name__
    if na ~= nb then return na < nb end
    return (rank[a.ptr] or 0) < (rank[b.ptr] or 0)
  end)
  return ms
end

-- Where the association rows of many-to-many pairs go among the saves of
-- order (mapper_order's list): after the level of the later of the two
-- sides' tables, before the tables of the next levels (SQLAlchemy runs
-- them in the step after both sides' rows are written).  slots[k]: the
-- entries of list that follow order[k] (k = 0: before any).
local function assoc_slots(order, list)
  local slots = {}
  for _, e in ipairs(list) do
    local r = e.rel
    local _, level = table_ranks(r.parent.local_table.metadata)
    local at = math.max(level[C.node_ptr(r.parent.local_table)] or 0,
                        level[C.node_ptr(r.target.local_table)] or 0)
    local slot = 0
    for k, m in ipairs(order) do
      local _, lv = table_ranks(m.local_table.metadata)
      if (lv[m.ptr] or 0) <= at then slot = k end
    end
    slots[slot] = slots[slot] or {}
    table.insert(slots[slot], e)
  end
  return slots
end
I.assoc_slots = assoc_slots

-- The column attributes of mapper m whose default is a plain value, as
-- {index, value, ...}, or false: an INSERT that did not set one sent that
-- value, which the object then holds without a SELECT (SQLAlchemy's
-- prefetch of scalar defaults).
local function scalar_defaults(m)
  local list = m._scalar_defaults
  if list ~= nil then return list end
  list = {}
  for i, key in ipairs(m.keys or {}) do
    local col = m.colattrs and m.colattrs[key]
    local d = col and not col.primary_key and col.default
    if type(d) == "table" and d.is_scalar then
      list[#list + 1] = i
      list[#list + 1] = d.arg
    end
  end
  if #list == 0 then list = false end
  m._scalar_defaults = list
  return list
end

-- the inserted objects' attributes their INSERT gave a scalar default
local function prefetched_defaults(m, objs)
  local list = scalar_defaults(m)
  if not list then return end
  for _, obj in ipairs(objs) do
    for k = 1, #list, 2 do
      local v, loaded, placeless = C.get(obj, list[k])
      if (v == nil or not loaded) and not placeless then
        C.set(obj, list[k], list[k + 1])
      end
    end
  end
end

-- The column attributes of mapper m an INSERT that did not set them sends
-- as NULL (m.insert_none: no default of any kind), neither of the key nor
-- deferred: after it they read as nil without SQL, neither loaded nor
-- expired, as in SQLAlchemy (only server-made values are expired).
local function absent_after_insert(m)
  local list = m._absent_after_insert
  local n = #m.keys
  if list ~= nil and m._absent_n == n then return list end
  list = {}
  local deferred, pk_pos = m.deferred or {}, m.pk_pos or {}
  for i = 1, n do
    if m.insert_none[i] and not pk_pos[i] and not deferred[i] then
      list[#list + 1] = i
    end
  end
  if #list == 0 then list = false end
  m._absent_after_insert, m._absent_n = list, n
  return list
end

-- What the flush did becomes the objects' state only once every statement
-- has succeeded, so a failed flush leaves them as they were.
local function apply_flush(s, done)
  local level = I.top_level(s)
  -- The pending list as the flush found it, nothing added or dropped
  -- since: every object of it was inserted, so the pending set empties
  -- whole rather than one object at a time.
  local list = s._newlist
  local whole = done.newlist == list and done.nnew == #list and
                not list.stale
  local pending = not whole and s._new or nil
  for _, e in ipairs(done.ins) do
    local m, objs = e[1], e[2]
    C.after_insert(objs, m.pk_index, idmap_for(s, m), s.id, pending,
                   I.level_list(level, "new"), absent_after_insert(m) or nil)
    prefetched_defaults(m, objs)
  end
  if whole then s._new, s._newlist = {}, {} end
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
    local l = I.level_list(level, "deleted")
    l[#l + 1] = obj
    -- (one changed before its deletion is, to a begin_nested() level's
    -- rollback, still modified: it expires, as SQLAlchemy's does)
    if level.nested and C.modified(obj) then
      level.dirty = level.dirty or {}
      level.dirty[obj] = true
    end
    C.commit(obj)
  end
  -- the client-side defaults and onupdates the statements sent
  for _, e in ipairs(done.prefetch or {}) do C.set(e[1], e[2], e[3]) end
  if next(s._new) == nil then
    s._newlist = {}
  else
    s._newlist.stale = true -- (the inserted objects left _new only)
  end
  -- attributes the statements set to SQL expressions hold what the
  -- database made of them: loaded on next access
  for _, e in ipairs(done.expire_sql or {}) do C.expire(e[1], e[2]) end
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

-- is the pair's row in list already?
local function assoc_recorded(list, r, a, b)
  if r.back and tostring(r.back) < tostring(r) then r, a, b = r.back, b, a end
  local e = list[r]
  return e ~= nil and e.seen[a] ~= nil and e.seen[a][b] == true
end

-- The association row steps among the saves, as SQLAlchemy takes them:
-- per relationship the rows removed, then the rows added (a pair moved
-- between collections is deleted before it is inserted again).
local function assoc_steps(work)
  local steps, at = {}, {}
  local function add(e, kind)
    local k = at[e.rel]
    if not k then
      steps[#steps + 1] = {rel = e.rel}
      k = #steps
      at[e.rel] = k
    end
    steps[k][kind] = e
  end
  for _, e in ipairs(work.del) do add(e, "delete") end
  for _, e in ipairs(work.ins) do add(e, "insert") end
  return steps
end
I.assoc_steps = assoc_steps

-- An entry's association rows in the order of their column values (once
-- both sides have their keys): a stable order, which is the order
-- SQLAlchemy takes its objects in for simple keys.
local function before(x, y)
  if type(x) == type(y) and (type(x) == "number" or type(x) == "string") then
    return x < y
  end
  return tostring(x) < tostring(y)
end
function I.sort_assoc_rows(e)
  local r, keyed = e.rel, {}
  for i, pair in ipairs(e.rows) do
    local k = {}
    for _, q in ipairs(r.sec_local) do k[#k + 1] = I.col_value(pair[1], r.parent, q[2]) end
    for _, q in ipairs(r.sec_remote) do k[#k + 1] = I.col_value(pair[2], r.target, q[2]) end
    keyed[i] = {k = k, pair = pair}
  end
  table.sort(keyed, function(a, b)
    for i = 1, #a.k do
      local x, y = a.k[i], b.k[i]
      if x ~= y then return before(x, y) end
    end
    return false
  end)
  for i, kp in ipairs(keyed) do e.rows[i] = kp.pair end
  return e
end

local function presort(s)
  configure()
  -- (predel: the association rows of deleted objects, which go first)
  local work = {syncs = {}, ins = {}, del = {}, predel = {}, owners = {},
                post = {}}
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
  -- members a delete-orphan collection lost before its parent expired
  -- (I.orphan_candidates): one the flush writes (changed: its reference
  -- unset) and that no other parent took is deleted, as SQLAlchemy's
  -- flush deletes a modified persistent orphan
  for x, r in pairs(I.orphan_candidates) do
    if C.session(x) == s.id then
      I.orphan_candidates[x] = nil
      local other = r.back and not r.back.uselist and C.extra(x, r.back.key)
      if other == nil and (s._dirty[x] or s._reldirty[x]) and
         not s._deleted[x] and
         C.lifecycle(x) == "persistent" then
        s:delete(x)
      end
    end
  end
  -- the members obj's one-to-many r lost since the last flush (and not
  -- taken by another parent): orphans are deleted, others lose the key
  local function lost(obj, r, ch, members)
    for x in pairs(ch.rem) do
      local other = r.back and not r.back.uselist and C.extra(x, r.back.key)
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
  end
  -- the members a deleted parent lost since the last flush (a merge()
  -- or an assignment replaced its collection): orphans go too, others
  -- lose the reference
  local dels = {}
  for obj in pairs(s._deleted) do dels[#dels + 1] = obj end
  for _, obj in ipairs(dels) do
    for _, r in ipairs(mapper_of(obj).rel_list or {}) do
      local ch = C.extra(obj, changekey[r.key])
      if ch and r.direction == "onetomany" and not r.viewonly then
        lost(obj, r, ch, loaded_related(obj, r))
      end
    end
  end
  -- children of deleted parents lose the reference, unless the database
  -- does it (passive_deletes) or they go too (delete cascade)
  dels = {}
  for obj in pairs(s._deleted) do dels[#dels + 1] = obj end
  -- a deleted object expired since delete() is loaded again (its key for
  -- the DELETE), then the collections it cascades its delete to, as
  -- SQLAlchemy's flush reads them for its history (no autoflush)
  for _, obj in ipairs(dels) do
    local m = mapper_of(obj)
    if C.lifecycle(obj) == "persistent" and
       not select(2, C.get(obj, m.pk_index[1])) then
      local prev = s._no_autoflush
      s._no_autoflush = true
      local ok, err = pcall(function() return obj[m.keys[m.pk_index[1]]] end)
      s._no_autoflush = prev
      if not ok then error(err, 0) end
      for _, r in ipairs(m.rel_list or {}) do
        if r.direction == "onetomany" and r.cascade.delete and
           not r.viewonly and not r.passive_deletes then
          load_quiet(s, obj, r)
        end
      end
    end
  end
  for _, obj in ipairs(dels) do
    for _, r in ipairs(mapper_of(obj).rel_list or {}) do
      if r.post_update and r.direction == "manytoone" and
         col_value(obj, r.parent, r.local_idx[1]) ~= nil then
        sync(r.parent, r, nil, obj) -- its reference goes before the row
      end
      if not r.viewonly then
        -- passive_deletes: only what is loaded (the database does the rest)
        local members = r.passive_deletes and loaded_related or
                        function(o, rel) return load_quiet(s, o, rel) end
        if r.direction == "onetomany" and not r.cascade.delete then
          for _, x in ipairs(members(obj, r)) do
            if in_session(s, x) then sync(r.target, r, nil, x) end
          end
        elseif r.direction == "manytomany" then
          -- (a member deleted by an earlier flush took its rows with it:
          -- SQLAlchemy skips those no longer in the session)
          -- (nor is there a row for a member added since the last flush)
          local ch = C.extra(obj, changekey[r.key])
          for _, x in ipairs(members(obj, r)) do
            local st = C.session(x) == s.id and C.lifecycle(x)
            local back = r.back and C.extra(x, changekey[r.back.key])
            if st == "persistent" and not (ch and ch.add[x]) and
               not (back and back.add[obj]) then
              assoc_row(work.predel, r, obj, x)
            end
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
            lost(obj, r, ch, members)
          elseif r.direction == "manytoone" then
            if ch.set then sync(m, r, v, obj) end
          else
            for x in pairs(ch.add) do
              if in_session(s, x) then assoc_row(work.ins, r, obj, x) end
            end
            for x in pairs(ch.rem) do
              if C.session(x) == s.id and
                 not assoc_recorded(work.predel, r, obj, x) then
                assoc_row(work.del, r, obj, x)
              end
            end
          end
        end
      end
    end
  end
  return work
end

-- Rows that each need the other written first (a foreign key each way,
-- neither relationship post_update) cannot be flushed: SQLAlchemy's sort
-- of the flush's rows finds the cycle and raises before any statement.
-- The edges: a key copied from src into dst, both written by the flush.
function I.check_cycles(s, work)
  local edges, any = {}, false
  local function written(x) return s._new[x] or s._dirty[x] end
  for _, l in pairs(work.syncs) do
    for _, e in ipairs(l) do
      local src, dst = e[2], e[3]
      if src ~= nil and not rawequal(src, dst) and written(src) and
         written(dst) then
        local t = edges[src]
        if not t then t = {}; edges[src] = t end
        t[#t + 1] = dst
        any = true
      end
    end
  end
  if not any then return end
  -- (depth first, without recursion: a long chain of rows is no cycle)
  local color = {}
  for root in pairs(edges) do
    if not color[root] then
      local stack, at = {root}, {1}
      color[root] = 1
      while #stack > 0 do
        local x = stack[#stack]
        local y = (edges[x] or {})[at[#stack]]
        if y == nil then
          color[x] = 2
          stack[#stack], at[#at] = nil, nil
        else
          at[#stack] = at[#stack] + 1
          if color[y] == 1 then
            local names, from = {}, nil
            for i, z in ipairs(stack) do
              if rawequal(z, y) then from = i end
              if from then names[#names + 1] = I.objstr(z) end
            end
            I.raise("CircularDependencyError",
                    "Circular dependency detected. (" ..
                    table.concat(names, ", ") .. ")")
          elseif not color[y] then
            color[y] = 1
            stack[#stack + 1], at[#at + 1] = y, 1
          end
        end
      end
    end
  end
end

-- The saves of a flush whose mapper order writes a row before a new
-- row it takes a key from (mappers whose tables refer to each other,
-- which table_ranks orders by name): SQLAlchemy sorts such rows one by
-- one.  The saves then go in rounds, each mapper in order writing the
-- rows whose sources are written; nil when the mapper order serves.
-- A round: {m, sv, syncs by mapper}.
function I.save_rounds(s, work, order, saves)
  -- (one mapper, or no key copied between rows: the order serves, and
  -- the rows need no look)
  if #order < 2 then return nil end
  local any = false
  for _, l in pairs(work.syncs) do
    if #l > 0 then any = true; break end
  end
  if not any then return nil end
  local group, pos = {}, {}
  for k, m in ipairs(order) do
    pos[m] = k
    for _, x in ipairs(saves[m].ins) do group[x] = m end
    for _, x in ipairs(saves[m].upd) do group[x] = m end
  end
  local deps, needed = {}, false
  for _, l in pairs(work.syncs) do
    for _, e in ipairs(l) do
      local src, dst = e[2], e[3]
      if src ~= nil and not rawequal(src, dst) and s._new[src] and
         group[src] and group[dst] then
        local d = deps[dst]
        if not d then d = {}; deps[dst] = d end
        d[#d + 1] = src
        if pos[group[src]] > pos[group[dst]] then needed = true end
      end
    end
  end
  if not needed then return nil end
  local written, rounds, left = {}, {}, 0
  for _ in pairs(group) do left = left + 1 end
  local applied = {}
  while left > 0 do
    local progress = false
    for _, m in ipairs(order) do
      -- (rows of a self-referential mapper may take keys from rows of
      -- the same round: emit_saves writes those in levels)
      local ready, changed = {}, true
      while changed do
        changed = false
        for _, list in ipairs({saves[m].ins, saves[m].upd}) do
          for _, x in ipairs(list) do
            if not written[x] and not ready[x] then
              local ok = true
              for _, src in ipairs(deps[x] or {}) do
                if not written[src] and
                   not (m.self_ref and ready[src]) then
                  ok = false
                  break
                end
              end
              if ok then ready[x], changed = true, true end
            end
          end
        end
      end
      if next(ready) then
        local sv = {ins = {}, upd = {}}
        for _, f in ipairs({"ins", "upd"}) do
          for _, x in ipairs(saves[m][f]) do
            if ready[x] then sv[f][#sv[f] + 1] = x end
          end
        end
        local syncs = {}
        for mm, l in pairs(work.syncs) do
          for _, e in ipairs(l) do
            -- (one whose row is not written goes with its mapper's)
            if not applied[e] and (ready[e[3]] or
               (not group[e[3]] and I.flush_group(mm) == m)) then
              applied[e] = true
              syncs[mm] = syncs[mm] or {}
              table.insert(syncs[mm], e)
            end
          end
        end
        rounds[#rounds + 1] = {m, sv, syncs}
        for x in pairs(ready) do
          written[x] = true
          left = left - 1
        end
        progress = true
      end
    end
    if not progress then
      I.raise("CircularDependencyError", "Circular dependency detected.")
    end
  end
  return rounds
end

-- The deleted rows of a self-referential mapper in levels, deepest
-- first: a row goes before the row it refers to (by what is loaded).
local function delete_levels(s, m, objs)
  local parent = {}
  for _, obj in ipairs(objs) do
    for _, r in ipairs(m.rel_list or {}) do
      -- (a post_update reference is nulled first: it orders nothing)
      if r.target == m and not r.viewonly and not r.post_update then
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

-- the change records are spent once the flush succeeded
local function clear_changes(s, work)
  for _, obj in ipairs(work.owners) do
    local m = mapper_of(obj)
    for key in pairs(m.relationships) do C.extra(obj, changekey[key], nil) end
  end
  s._reldirty = {}
end

-- for the other files of the ORM
I.apply_flush = apply_flush
I.clear_changes = clear_changes
I.delete_levels = delete_levels
I.mapper_order = mapper_order
I.pending_list = pending_list
I.presort = presort

-- whether obj's many-to-one r is known without SQL: loaded, a NULL key,
-- or its target in the identity map (a reference that is not a plain
-- primary key lookup, or an unloaded key, needs SQL: taken as known)
local function ref_known(s, obj, r)
  if C.extra(obj, r.key) ~= nil or C.extra(obj, I.nilmark[r.key]) then
    return true
  end
  if not r.pk_lookup then return true end
  local vals = {}
  for k, i in ipairs(r.local_idx) do
    local v, loaded = C.get(obj, i)
    if not loaded then return true end
    if v == nil then return true end
    vals[k] = v
  end
  local map = s._idmap[I.base_of(r.target)]
  return map ~= nil and map[key_of(r.target, vals)] ~= nil
end

-- The deleted rows of a self-referential mapper: SQLAlchemy's flush
-- sorts them one by one, reading each one's many-to-one references to
-- its own class (unless passive_deletes), so those not loaded load now
-- (the identity map first), in primary key order.  It does so only once
-- the reference shows a change without SQL on some row of the flush
-- (a deleted row's reference known, a dirty row's loaded): otherwise
-- nothing of it is read.
function I.load_cycle_refs(s)
  local list = {}
  for obj in pairs(s._deleted) do
    local m = mapper_of(obj)
    if m.self_ref then list[#list + 1] = obj end
  end
  if #list == 0 then return end
  table.sort(list, function(a, b)
    return tostring(ident_key(a, mapper_of(a))) <
           tostring(ident_key(b, mapper_of(b)))
  end)
  local known = {}
  local function triggers(r)
    if known[r] == nil then
      known[r] = false
      for _, obj in ipairs(list) do
        if mapper_of(obj).relationships[r.key] == r and
           ref_known(s, obj, r) then
          known[r] = true
          return true
        end
      end
      for obj in pairs(s._dirty) do
        if not s._deleted[obj] and mapper_of(obj).relationships[r.key] == r and
           (C.extra(obj, r.key) ~= nil or C.extra(obj, I.nilmark[r.key])) then
          known[r] = true
          return true
        end
      end
    end
    return known[r]
  end
  for _, obj in ipairs(list) do
    for _, r in ipairs(mapper_of(obj).rel_list or {}) do
      if r.direction == "manytoone" and r.target == r.parent and
         not r.passive_deletes and not r.viewonly and
         C.extra(obj, r.key) == nil and
         not C.extra(obj, I.nilmark[r.key]) and triggers(r) then
        local _ = obj[r.key]
      end
    end
  end
end
