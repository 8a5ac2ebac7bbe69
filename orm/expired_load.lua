-- orm/expired_load.lua -- loading an object's expired attributes and
-- refresh() as SQLAlchemy 1.4 does them: only the attributes that are
-- unloaded, not deferred and have no pending change are selected (legacy
-- labels) -- columns, column_property expressions, the columns of an
-- inheriting class (of its own tables alone when it can) -- the session
-- autoflushes first (the list is made before, so a flush that loads the
-- same attributes is followed by the SELECT all the same);
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
local ptr = C.node_ptr
local base_load_expired = hooks.load_expired

-- the extra attribute properties.lua keeps for columns options deferred
local OPTDEFERRED = "\0optdeferred"

-- the session obj is persistent in, when its loads can take this path
local function home(obj)
  local sid = C.session(obj)
  local s = sid ~= 0 and sessions[sid]
  if not s or C.lifecycle(obj) ~= "persistent" then return nil end
  return s
end

-- A mapper this file loads: one of a table, with column_property and
-- deferred columns, or a class of joined or single table inheritance
-- (not concrete: its classes have tables of their own, not a part each).
local function handled(m)
  return not m.concrete and not m.concrete_entity and
         (m.inherits == nil or m.attr_cols ~= nil)
end

-- attribute indexes in the mapper's property order (declared properties
-- in the order they were made, then the table's columns), the order
-- SQLAlchemy selects them in
local function prop_order(m)
  if m.prop_order then return m.prop_order end
  local o = m._attr_order
  if not o then
    o = {}
    for i = 1, m.nattrs do o[i] = i end
    m._attr_order = o
  end
  return o
end

-- what attribute i selects: its columns (an inheriting class's key may
-- have one per table) or its expression
local function cols_of(m, i)
  if m.attr_cols then return m.attr_cols[i] or {} end
  local col = m.attr_columns[i]
  if col then return {col} end
  local e = m.exprs and m.exprs[i]
  return e and {e} or {}
end

local function is_expr(m, i)
  return m.exprs ~= nil and m.exprs[i] ~= nil
end

-- The attributes an access of an expired one loads, as SQLAlchemy's
-- expired_attributes: those unloaded that have no pending change and
-- are not deferred (by the mapper or a loader option: those load on
-- their own, by group).
local function expired_attrs(m, obj)
  local optdef = C.extra(obj, OPTDEFERRED)
  local deferred = m.deferred or {}
  local idx = {}
  for _, i in ipairs(prop_order(m)) do
    local loaded, modified, absent = C.flags(obj, i)
    if not loaded and not modified and not absent and not deferred[i] and
       not (optdef and optdef[i]) then
      idx[#idx + 1] = i
    end
  end
  return idx
end

-- SQLAlchemy's optimized get of a joined-inheritance object: when no
-- attribute to load is of the base table, only the tables from the
-- highest one that has some down to the class's own are selected, the
-- first join condition comparing the key value the object has
-- (? = eng.id), the others joining those tables; nil when it does not
-- apply.
local function optimized_where(m, obj, idx)
  if not m.inh_tables or #m.inh_tables < 2 then return nil end
  local want = {}
  for _, i in ipairs(idx) do
    if is_expr(m, i) then return nil end
    for _, col in ipairs(cols_of(m, i)) do want[ptr(col.table)] = true end
  end
  if want[ptr(m.inh_tables[1])] then return nil end
  local first
  for k = 2, #m.inh_tables do
    if want[ptr(m.inh_tables[k])] then first = k; break end
  end
  if not first then return nil end
  local inside = {}
  for k = first, #m.inh_tables do inside[ptr(m.inh_tables[k])] = true end
  local conds = {}
  for k = first, #m.inh_tables do
    local cond = m.inherit_on[k]
    if cond == nil then return nil end
    if k == first then
      -- the side outside the selected tables becomes the object's value
      -- of that column (committed, never loaded for this)
      local pairs_, other = C.join_pairs(cond)
      if other or #pairs_ == 0 then return nil end
      local terms = {}
      for n, pr in ipairs(pairs_) do
        local a, b = pr[1], pr[2]
        local outside, keep, left
        if not inside[ptr(a.table)] then
          outside, keep, left = a, b, true
        elseif not inside[ptr(b.table)] then
          outside, keep, left = b, a, false
        else
          terms[n] = a:eq(b)
        end
        if outside then
          local i = m.colidx and m.colidx[ptr(outside)]
          if not i then return nil end
          local v, known = C.committed(obj, i)
          if not known or v == nil then return nil end
          local p = sa.bindparam("param_" .. n, v, keep.type)
          terms[n] = left and p:eq(keep) or keep:eq(p)
        end
      end
      cond = #terms == 1 and terms[1] or sa.and_(table.unpack(terms))
    end
    conds[#conds + 1] = cond
  end
  return conds
end

-- The SELECT of attributes idx of obj's row: table columns labelled
-- <table>_<column> unless `plain` (refresh's), expressions with their
-- anonymous labels; FROM the class's tables (only those needed, for an
-- expired load of a subclass's attributes); WHERE its primary key (and
-- a single-table class's discriminator).  Returns the statement and,
-- per attribute, the row position of its value.
local function select_attrs(m, obj, idx, plain)
  local cols, pos = {}, {}
  for k, i in ipairs(idx) do
    for n, col in ipairs(cols_of(m, i)) do
      if is_expr(m, i) or plain then
        cols[#cols + 1] = col
      else
        cols[#cols + 1] = col:label(col.table.name .. "_" .. col.name)
      end
      if n == 1 then pos[k] = #cols end
    end
  end
  local stmt = sa.select(table.unpack(cols))
  local conds = not plain and optimized_where(m, obj, idx)
  if conds then
    for _, c in ipairs(conds) do stmt = stmt:where(c) end
    return stmt, pos
  end
  if m.inh_tables and #m.inh_tables > 1 then stmt = stmt:select_from(m.selectable) end
  local ident = I.ident_vals(obj, m)
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(ident[k])) end
  if m.single and I.single_criterion then
    local crit = I.single_criterion(m)
    if crit then stmt = stmt:where(crit) end
  end
  return stmt, pos
end

-- SELECT attributes idx of obj (a row must come: false otherwise) and
-- set those without a pending change as loaded
local function load_attrs(s, m, obj, idx, plain, lock)
  local stmt, pos = select_attrs(m, obj, idx, plain)
  if lock then stmt = stmt:with_for_update(lock ~= true and lock or nil) end
  local row = I.run(s, s:connection(), stmt):first()
  if row == nil then return false end
  local keys = {}
  for k, i in ipairs(idx) do
    if not lselect(2, C.flags(obj, i)) then C.set(obj, i, row[pos[k]]) end
    keys[k] = m.keys[i]
  end
  if I.ev_load then
    -- (the object expired whole: its relationships expired with it, and
    -- SQLAlchemy names them among what the load refreshes)
    local inidx, all = {}, true
    for _, i in ipairs(idx) do inidx[i] = true end
    for _, i in ipairs(prop_order(m)) do
      if not inidx[i] and not (m.deferred and m.deferred[i]) then
        all = false
      end
    end
    if all then
      for key in pairs(m.relationships or {}) do
        if C.extra(obj, key) == nil and not C.extra(obj, I.nilmark[key]) then
          keys[#keys + 1] = key
        end
      end
    end
  end
  I.refresh_event(obj, keys)
  return true
end

local deleted_error = I.deleted_error

-- a sharded session runs a load on the object's shard
local function on_shard(s, obj, fn, ...)
  if s._sharded and I.in_shard_of then return I.in_shard_of(s, obj, fn, ...) end
  return fn(...)
end

-- A class with eager relationships (lazy = "joined", "selectin", ...):
-- refresh() and the load of a wholly expired object load them too, as
-- SQLAlchemy's do -- the joined ones in the statement, the others each by
-- its lazy load right after (SQLAlchemy loads those of one object so).
-- Returns false when the row is gone.
local function eager_attrs_load(s, m, obj, plain, lock)
  local cls = m.class
  local stmt = sa.select(cls)
  if not plain then
    stmt = stmt:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  end
  local ident = I.ident_vals(obj, m)
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(ident[k])) end
  local opts, later = {}, {}
  for _, r in ipairs(m.rel_list or {}) do
    if r.lazy == "selectin" or r.lazy == "subquery" or r.lazy == "immediate"
    then
      opts[#opts + 1] = orm.lazyload(cls[r.key])
      later[#later + 1] = r.key
    end
  end
  if #opts > 0 then stmt = stmt:options(table.unpack(opts)) end
  if lock then stmt = stmt:with_for_update(lock ~= true and lock or nil) end
  stmt = stmt:execution_options{populate_existing = true}
  -- (the load of an expired object names to its refresh listeners what
  -- expired: its attributes not deferred and its relationships)
  local prev = I.refresh_names
  if not plain and I.ev_load then
    local keys = {}
    local deferred = m.deferred or {}
    for _, i in ipairs(prop_order(m)) do
      if not deferred[i] and not lselect(2, C.get(obj, i)) then
        keys[#keys + 1] = m.keys[i]
      end
    end
    for key in pairs(m.relationships or {}) do
      if C.extra(obj, key) == nil and not C.extra(obj, I.nilmark[key]) then
        keys[#keys + 1] = key
      end
    end
    I.refresh_names = {obj, keys}
  end
  -- (the rows load as the result is read)
  local ok, got = pcall(function()
    local r = s:execute(stmt)
    if r.unique then r = r:unique() end
    return r:scalars():one_or_none()
  end)
  I.refresh_names = prev
  if not ok then error(got, 0) end
  if got == nil then return false end
  for _, key in ipairs(later) do local _ = obj[key] end
  return true
end

-- whether every attribute of obj that is not deferred is to load (a whole
-- expire) and it has eager relationships
local function wholly_expired(m, obj, idx)
  if m.inh_tables or not I.eager_get(m) then return false end
  local n = 0
  local deferred = m.deferred or {}
  for i = 1, m.nattrs do
    if not deferred[i] then n = n + 1 end
  end
  return #idx == n
end

local function load_expired(s, m, obj, key)
  local idx = expired_attrs(m, obj)
  if wholly_expired(m, obj, idx) then
    I.autoflush(s)
    if not eager_attrs_load(s, m, obj, false) then deleted_error(obj) end
    return (C.get(obj, m.slots[key]))
  end
  I.autoflush(s)
  if #idx > 0 and not load_attrs(s, m, obj, idx, false) then
    deleted_error(obj)
  end
  local v, loaded = C.get(obj, m.slots[key])
  if not loaded then return base_load_expired(obj, key) end
  return v
end

function hooks.load_expired(obj, key)
  local s = home(obj)
  local m = mapper_of(obj)
  local i = m.slots[key]
  local optdef = C.extra(obj, OPTDEFERRED)
  if not s or not handled(m) or not i or (m.deferred and m.deferred[i]) or
     (optdef and optdef[i]) or C.identity(obj) == nil then
    -- (deferred ones load by group, orm/properties.lua)
    if s then I.autoflush(s) end
    return base_load_expired(obj, key)
  end
  return on_shard(s, obj, load_expired, s, m, obj, key)
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
  local ok, err = pcall(base_flush, self, ...)
  self._no_autoflush = prev
  if not ok then error(err, 0) end
end

-- The objects a flush updates whose key is expired load it (with their
-- other expired attributes) as SQLAlchemy's do: one mapper at a time,
-- after its before_update listeners and before its UPDATEs, so the
-- SELECTs come between the statements of the mappers before and after.
function I.load_expired_keys(s, objs)
  if not maybe[s] or s.shard_chooser then return end
  for _, obj in ipairs(objs) do
    local m = mapper_of(obj)
    if C.lifecycle(obj) == "persistent" and pk_expired(obj, m) then
      local _ = obj[m.keys[m.pk_index[1]]]
    end
  end
end

-- refresh(obj [, attrs]): the named column attributes (or all of them)
-- selected again, unlabelled, in mapping order
-- a begin_nested() level remembers the objects its flushes updated: its
-- rollback expires those (and what is modified), not every object
local base_apply_flush = I.apply_flush
function I.apply_flush(s, done)
  base_apply_flush(s, done)
  local level = s._txs[#s._txs]
  if level and level.nested and #done.upd > 0 then
    local dirty = level.dirty or {}
    level.dirty = dirty
    for _, e in ipairs(done.upd) do
      for _, obj in ipairs(e[2]) do dirty[obj] = true end
    end
  end
end

local refresh_rels, refresh_eager

-- The eager relationships refresh(obj, attrs) names: the joined ones
-- (SQLAlchemy's refresh joins those in its SELECT; a self-referential
-- one without join_depth is not, and stays expired) and those loaded
-- by a statement of their own (selectin, subquery, immediate: each by
-- its lazy load once the row is in).
refresh_rels = function(m, attrs)
  local joined, later = {}, {}
  if not attrs or not m.relationships then return joined, later end
  I.configure()
  for _, k in ipairs(attrs) do
    local r = m.relationships[k]
    if r and r.lazy == "joined" and
       not (r.target == m and not r.options.join_depth) then
      joined[#joined + 1] = r
    elseif r and (r.lazy == "selectin" or r.lazy == "subquery" or
                  r.lazy == "immediate") then
      later[#later + 1] = r
    end
  end
  return joined, later
end

-- a joined relationship the refresh SELECT can join itself: column
-- equalities to a target of one plain table
local function joinable(r)
  local t = r.target
  return not r.secondary and not r.extra and r.local_cols ~= nil and
         #r.local_cols > 0 and not t.inh_tables and not t.layout and
         not t.polymorphic_map and not t.concrete_entity and
         not I.is_dynamic(r) and not I.eager_get(t)
end

-- SQLAlchemy's refresh of attributes idx and joined relationships: one
-- SELECT of those columns (the primary key after them), each
-- relationship's target outer joined as an anonymous alias, its rows
-- loaded over what the session has (as populate_existing does)
local function refresh_joined(s, m, obj, idx, rels, lock)
  local cols, pos, seen = {}, {}, {}
  for k, i in ipairs(idx) do
    for n, col in ipairs(cols_of(m, i)) do
      cols[#cols + 1] = col
      seen[ptr(col)] = true
      if n == 1 then pos[k] = #cols end
    end
  end
  for _, i in ipairs(m.pk_index) do
    local col = m.attr_columns[i]
    if not seen[ptr(col)] then cols[#cols + 1] = col end
  end
  local from, orders, parts = m.local_table, {}, {}
  for _, r in ipairs(rels) do
    local t = r.target
    local a = t.local_table:alias()
    local map = {}
    for _, col in ipairs(t.local_table.c) do map[ptr(col)] = a.c[col.key] end
    local on
    for k, lc in ipairs(r.local_cols) do
      local tc = a.c[r.remote_cols[k].key]
      local cond = r.direction == "manytoone" and tc:eq(lc) or lc:eq(tc)
      on = on and sa.and_(on, cond) or cond
    end
    from = from:outerjoin(a, on)
    local part = {r = r, colpos = {}, pkpos = {}}
    for n, col in ipairs(t.attr_columns) do
      cols[#cols + 1] = a.c[col.key]
      part.colpos[n] = #cols
    end
    for k, i in ipairs(t.pk_index) do part.pkpos[k] = part.colpos[i] end
    parts[#parts + 1] = part
    for _, o in ipairs(r.order_by or {}) do
      orders[#orders + 1] = C.adapt(o, map)
    end
  end
  local stmt = I.inh.core_select(table.unpack(cols)):select_from(from)
  local ident = I.ident_vals(obj, m)
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(ident[k])) end
  if #orders > 0 then stmt = stmt:order_by(table.unpack(orders)) end
  if lock then stmt = stmt:with_for_update(lock ~= true and lock or nil) end
  I.autoflush(s)
  local rows = I.run(s, s:connection(), stmt):all()
  if #rows == 0 then return false end
  local keys = {}
  for k, i in ipairs(idx) do
    if not lselect(2, C.flags(obj, i)) then C.set(obj, i, rows[1][pos[k]]) end
    keys[k] = m.keys[i]
  end
  for _, part in ipairs(parts) do
    local t, objs, got = part.r.target, {}, {}
    for j = 1, #rows do
      if rows[j][part.pkpos[1]] ~= nil then
        local one = {}
        C.load(rows, j, j, t.class, t.mt, t.nattrs, part.colpos, part.pkpos,
               I.idmap_for(s, t), s.id, true, one, 0)
        local x = one[1]
        if x ~= nil and not got[x] then
          got[x] = true
          objs[#objs + 1] = x
        end
      end
    end
    if part.r.uselist then
      C.extra(obj, part.r.key, I.new_coll(obj, part.r, objs))
    else
      I.set_raw(obj, part.r, objs[1])
    end
    keys[#keys + 1] = part.r.key
  end
  I.refresh_event(obj, keys)
  return true
end

-- refresh(obj, attrs) naming eager relationships: the columns and the
-- joined ones in one SELECT, then each of the others by its own
refresh_eager = function(s, m, obj, idx, joined, later, lock)
  local inline, rest = {}, {}
  for _, r in ipairs(joined) do
    if joinable(r) then inline[#inline + 1] = r else rest[#rest + 1] = r end
  end
  if #inline > 0 then
    if not refresh_joined(s, m, obj, idx, inline, lock) then return false end
  elseif #idx > 0 then
    if not load_attrs(s, m, obj, idx, true, lock) then return false end
  end
  for _, l in ipairs({rest, later}) do
    for _, r in ipairs(l) do local _ = obj[r.key] end
  end
  return true
end

-- refresh(obj [, attrs] [, {with_for_update = true | {nowait, read,
-- skip_locked, of}}]): the named column attributes (deferred ones too)
-- or all those not deferred selected again, unlabelled, in property
-- order (a refresh never takes the optimized form of an expired load).
-- The options may come second when no attributes are named.
local base_refresh = Session.refresh
local refresh_impl
function Session:refresh(obj, attrs, opts)
  if not C.isinstance(obj) then return base_refresh(self, obj, attrs) end
  -- (a refresh of all of obj: its refresh listeners get no names)
  local prev = I.full_refresh
  I.full_refresh = (attrs == nil or type(attrs) == "table" and
                    attrs[1] == nil) and obj or nil
  local ok, err = pcall(refresh_impl, self, obj, attrs, opts)
  I.full_refresh = prev
  if not ok then error(err, 0) end
end

function refresh_impl(self, obj, attrs, opts)
  if type(attrs) == "table" and attrs[1] == nil and next(attrs) ~= nil and
     opts == nil then
    attrs, opts = nil, attrs
  end
  local lock = opts and opts.with_for_update
  local m = mapper_of(obj)
  local cols = attrs == nil
  for _, k in ipairs(attrs or {}) do
    if m.slots[k] then cols = true end
  end
  local joined, later = refresh_rels(m, attrs)
  if not cols and m.relationships and #joined == 0 then
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
  if not handled(m) then
    if lock then
      raise("InvalidRequestError", "refresh() with_for_update is not " ..
            "supported for concrete inheritance classes")
    end
    return base_refresh(self, obj, attrs)
  end
  -- (relationships named are expired: they load when next read, but
  -- for the eager ones, which load now; what else is pending is flushed
  -- first, as the query of SQLAlchemy's refresh autoflushes)
  self:expire(obj, attrs)
  I.autoflush(self)
  local idx = {}
  if attrs then
    local want = {}
    for _, k in ipairs(attrs) do
      if m.slots[k] then want[m.slots[k]] = true end
    end
    for _, i in ipairs(prop_order(m)) do
      if want[i] then idx[#idx + 1] = i end
    end
    if #joined > 0 or #later > 0 then
      if not refresh_eager(self, m, obj, idx, joined, later, lock) then
        raise("InvalidRequestError", "Could not refresh instance '" ..
              objstr(obj) .. "'")
      end
      return
    end
  else
    if not m.inh_tables and I.eager_get(m) then
      if not eager_attrs_load(self, m, obj, true, lock) then
        raise("InvalidRequestError", "Could not refresh instance '" ..
              objstr(obj) .. "'")
      end
      return
    end
    local deferred = m.deferred or {}
    for _, i in ipairs(prop_order(m)) do
      if not deferred[i] then idx[#idx + 1] = i end
    end
  end
  if not load_attrs(self, m, obj, idx, true, lock) then
    raise("InvalidRequestError", "Could not refresh instance '" ..
          objstr(obj) .. "'")
  end
end

-- eager_defaults of a hierarchy's objects, once all their tables' rows
-- are written (SQLAlchemy's _finalize_insert_update_commands): the
-- server-generated attributes each object has unloaded -- those its
-- INSERTs left to server defaults, and the server onupdates of the
-- tables its UPDATEs changed -- selected now on the flush's connection
-- from the class's join (labelled), by the key values the flush gave the
-- object (its identity is set later), the new objects first.
local function flush_load(s, conn, m, obj, idx)
  local cols, pos = {}, {}
  for k, i in ipairs(idx) do
    for n, col in ipairs(cols_of(m, i)) do
      cols[#cols + 1] = col:label(col.table.name .. "_" .. col.name)
      if n == 1 then pos[k] = #cols end
    end
  end
  local stmt = sa.select(table.unpack(cols))
  if m.inh_tables and #m.inh_tables > 1 then stmt = stmt:select_from(m.selectable) end
  for k, col in ipairs(m.primary_key) do
    stmt = stmt:where(col:eq(I.col_value(obj, m, m.pk_index[k])))
  end
  local row = I.run(s, conn, stmt):first()
  if row == nil then return end
  for k, i in ipairs(idx) do
    if not lselect(2, C.flags(obj, i)) then C.set(obj, i, row[pos[k]]) end
  end
end

function I.hierarchy_eager_defaults(s, conn, sv, done)
  local now = {}
  local rest = {}
  for _, e in ipairs(done.expire_after or {}) do
    if mapper_of(e[1]).eager_cols then
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
      local ed = m.eager_cols
      if ed and handled(m) and not m.single and m.attr_cols then
        local want, idx = now[obj] or {}, {}
        for _, l in ipairs{ed.insert, ed.update} do
          for _, i in ipairs(l) do
            if not lselect(2, C.get(obj, i)) then want[i] = true end
          end
        end
        for _, i in ipairs(prop_order(m)) do
          if want[i] then idx[#idx + 1] = i end
        end
        if #idx > 0 then flush_load(s, conn, m, obj, idx) end
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
