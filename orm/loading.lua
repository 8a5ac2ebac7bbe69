-- orm/loading.lua -- ORM results: rows turned into objects through the
-- identity map (or ORM rows of entities and values), the relationship
-- loading of each batch, and loading an expired object by primary key.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local changekey = I.changekey
local hooks = I.hooks
local ident_vals = I.ident_vals
local idmap_for = I.idmap_for
local mapper_of = I.mapper_of
local mappers_by_table = I.mappers_by_table
local nilmark = I.nilmark
local objstr = I.objstr
local raise = I.raise
local run = I.run
local sessions = I.sessions

-- Whether a core result's rows can go straight into objects
-- (C.load_result) rather than through Row tables and C.load: not when
-- load or refresh listeners exist, which see the objects C.load makes.
local function direct(res)
  return not I.ev_load and C.rowsource(res)
end

local function load_by_pk(s, m, vals, obj, plain)
  if m.inh_tables then return I.load_inherited(s, m, vals, obj) end
  if I.is_unbound(s) then I.unbound(m, true) end
  local conn = s:connection()
  -- (plain: the columns unlabelled, as SQLAlchemy's refresh() selects)
  local stmt = sa.select(table.unpack(plain and
    (m.layout and m.layout.cols or m.attr_columns) or I.load_columns(m)))
  for k, col in ipairs(m.primary_key) do stmt = stmt:where(col:eq(vals[k])) end
  local res = run(s, conn, stmt)
  local out = {}
  if direct(res) then
    C.load_result(res, 0, m.class, m.mt, m.nattrs, m.colpos,
                  m.pkpos or m.pk_index, idmap_for(s, m), s.id, obj ~= nil,
                  out, 0)
    return out[1]
  end
  local rows = res:all()
  C.load(rows, 1, #rows, m.class, m.mt, m.nattrs, m.colpos,
         m.pkpos or m.pk_index,
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
    I.deleted_error(obj)
  end
  return (C.get(obj, m.slots[key]))
end

------------------------------------------------------------------------
-- queries and ORM results
------------------------------------------------------------------------

local OrmResult = {}
OrmResult.__index = OrmResult
OrmResult.__name = "retort.ORMResult"

-- The select's columns clause: which items are mapped entities.
local function entities_of(stmt)
  local own = I.inherited_entities(stmt) -- selects of inheriting classes
  if own then return own end
  local items = C.select_items(stmt)
  if not items then return nil end
  local ents, pos, any = {}, 1, false
  for k = 1, #items do
    local ptr, width, name = items[k][1], items[k][2], items[k][3]
    local m = ptr and mappers_by_table[ptr]
    local alias
    if m then
      name = m.class.__name__
    elseif ptr and I.aliased_entry then -- an aliased() class (aliased.lua)
      local e = I.aliased_entry(ptr)
      if e then m, alias, name = e.mapper, e.alias, e.key end
    end
    if m then any = true end
    ents[#ents + 1] = {mapper = m, pos = pos, width = width, name = name,
                       alias = alias, item = items[k][4]}
    pos = pos + width
  end
  return any and ents or nil
end

-- an ORM row's width and entities, under keys no column name can be
local ROW_N, ROW_ENTS = {}, {}

-- orm._row_parts(v): an ORM row's width and entities, nil for anything
-- else (the shell prints ORM rows as tables)
function orm._row_parts(v)
  if type(v) ~= "table" then return nil end
  local ents = rawget(v, ROW_ENTS)
  if ents == nil then return nil end
  return rawget(v, ROW_N), ents
end

-- Turn core rows from..to into ORM rows (lists of objects/values) or,
-- for one entity alone, objects.
local function convert(r, rows)
  local s, ents = r.session, r.ents
  if #ents == 1 then
    local e = ents[1]
    local m = e.mapper
    local out = {}
    if e.load then
      e.load(s, rows, 1, #rows, r.populate, out, 0)
      return out
    end
    C.load(rows, 1, #rows, m.class, m.mt, m.nattrs, e.colpos or m.colpos,
           e.pkpos or m.pk_index, idmap_for(s, m), s.id, r.populate, out, 0)
    if e.optdeferred then I.mark_deferred(out, e.optdeferred) end
    if r.populate == 2 then I.populated(s, out) end
    return out
  end
  local out = {}
  for i, row in ipairs(rows) do
    local o = {}
    for k, e in ipairs(ents) do
      if e.load then
        local one = {}
        e.load(s, rows, i, i, r.populate, one, 0, true)
        o[k] = one[1]
      elseif e.mapper then
        local m = e.mapper
        local colpos, pkpos = e.colpos, e.pkpos
        if not colpos then
          colpos, pkpos = {}, {}
          for a = 1, m.nattrs do colpos[a] = e.pos + a - 1 end
          for a, idx in ipairs(m.pk_index) do pkpos[a] = e.pos + idx - 1 end
        end
        local one = {}
        C.load(rows, i, i, m.class, m.mt, m.nattrs, colpos, pkpos,
               idmap_for(s, m), s.id, r.populate, one, 0)
        if e.optdeferred then I.mark_deferred(one, e.optdeferred) end
        if r.populate == 2 then I.populated(s, one) end
        o[k] = one[1] == nil and false or one[1]
      else
        o[k] = row[e.pos]
      end
    end
    for k = 1, #ents do if o[k] == false and ents[k].mapper then o[k] = nil end end
    o[ROW_N], o[ROW_ENTS] = #ents, ents
    out[i] = o
  end
  return out
end

-- an ORM row's values by entity/column name, SQLAlchemy's row._mapping
local function row_mapping(t)
  local m = {}
  for i, e in ipairs(rawget(t, ROW_ENTS)) do
    if e.name ~= nil then m[e.name] = rawget(t, i) end
  end
  return m
end

-- The position of object key k among an ORM row's entities, or nil: a
-- mapped class keys its own entity (not an aliased() one of it), an
-- aliased() class its own, and a column, label or attribute the column
-- entity that selected it, as SQLAlchemy's ORM rows are keyed
local function entity_position(ents, k)
  local alias = type(k) == "table" and rawget(k, "__entry") and
                rawget(k, "__clause_element__")
  local cls = type(k) == "table" and not alias and rawget(k, "__mapper__")
  local ptr = not alias and not cls and C.node_kind(k) and C.node_ptr(k)
  alias = alias and C.node_ptr(alias)
  for i, e in ipairs(ents) do
    if e.mapper then
      if alias then
        if e.alias and C.node_ptr(e.alias) == alias then return i end
      elseif cls and not e.alias and rawequal(e.mapper.class, k) then
        return i
      end
    elseif ptr and e.item ~= nil and C.node_kind(e.item) and
           C.node_ptr(e.item) == ptr then
      return i
    end
  end
  return nil
end

-- row._mapping's metatable: it names it a RowMapping and keeps the
-- entities' order (_fields), which the plain table loses, for printing,
-- and answers object keys from the row it was made of (mapping_rows);
-- one per list of entities
local mapping_mts = setmetatable({}, {__mode = "k"})
local mapping_rows = setmetatable({}, {__mode = "k"})
local function mapping_mt(ents)
  local mt = mapping_mts[ents]
  if not mt then
    local f = {}
    for i, e in ipairs(ents) do f[i] = e.name ~= nil and e.name or false end
    mt = {__name = "retort.RowMapping", _fields = f,
          __index = function(m, k)
            if type(k) == "string" then return nil end
            local i = entity_position(ents, k)
            local row = mapping_rows[m]
            if i and row then return rawget(row, i) end
            return nil
          end}
    mapping_mts[ents] = mt
  end
  return mt
end

local row_methods = {
  _asdict = row_mapping,
  _tuple = function(t)
    local l = {}
    for i = 1, rawget(t, ROW_N) do l[i] = rawget(t, i) end
    return l
  end,
}

-- one metatable for every ORM row
local RowMT = {
  __index = function(t, k)
    local ents = rawget(t, ROW_ENTS) or {}
    if type(k) ~= "string" then
      -- row[User]: SQLAlchemy 1.4's deprecated form of row._mapping[User]
      local i = k ~= nil and entity_position(ents, k)
      return i and rawget(t, i) or nil
    end
    for i, e in ipairs(ents) do
      if e.name == k then return rawget(t, i) end
    end
    if k == "_fields" then
      local f = {}
      -- (a column without a name is left out, as SQLAlchemy's)
      for _, e in ipairs(ents) do f[#f + 1] = e.name end
      return f
    elseif k == "_mapping" then
      local m = setmetatable(row_mapping(t), mapping_mt(ents))
      mapping_rows[m] = t
      return m
    elseif k == "_t" then
      return row_methods._tuple(t)
    end
    return row_methods[k]
  end,
  __len = function(t) return t[ROW_N] end,
  __tostring = function(t)
    local parts = {}
    for k = 1, t[ROW_N] do
      parts[k] = C.isinstance(t[k]) and tostring(t[k]) or C.repr(t[k])
    end
    return "(" .. table.concat(parts, ", ") ..
           (t[ROW_N] == 1 and ",)" or ")")
  end,
  -- rows compare by value (objects by identity), as tuples do
  __eq = function(a, b)
    local n = rawget(a, ROW_N)
    if n ~= rawget(b, ROW_N) then return false end
    for i = 1, n do
      if rawget(a, i) ~= rawget(b, i) then return false end
    end
    return true
  end,
  __name = "retort.Row",
}

local function wrap_row(o)
  return setmetatable(o, RowMT)
end

-- the relationship loading of a batch of rows made into objects
local function load_relationships(r, rows, out, joined)
  local parents = out
  if #r.ents > 1 then
    parents = {}
    for i, o in ipairs(out) do parents[i] = o[1] end
  end
  if joined then
    -- the rows went straight into the parents and the joined objects
    -- (filled already when C.load_joined_coll read them)
    parents = joined.parents
    if not joined.filled then
      I.fill_joined(r, nil, parents, joined.gots, joined.nrows)
    end
  elseif r.joins then
    I.fill_joined(r, rows, parents)
  end
  local more = false
  for _, path in ipairs(r.plan) do
    if path[1].strategy ~= "joined" or path[2] then more = true end
  end
  if not more then return end
  local uniq, seen = {}, {}
  -- (rows is nil when they went straight into objects: one entity)
  for i = 1, rows and #rows or #parents do
    local p = parents[i]
    if p ~= nil and not seen[p] then seen[p] = true; uniq[#uniq + 1] = p end
  end
  local conn = r.session:connection()
  -- (in SQLAlchemy's order: the subquery loads as the first row is read,
  -- then each object's immediate loads as its row is, then the loads of
  -- a batch, after the rows)
  local immediate = {}
  for _, path in ipairs(r.plan) do
    local st = path[1].strategy
    if st == "subquery" then
      I.run_path(r.session, conn, uniq, path, 1, r.plan)
    elseif st == "immediate" then
      immediate[#immediate + 1] = path
    end
  end
  if #immediate > 0 then
    for _, p in ipairs(uniq) do
      for _, path in ipairs(immediate) do
        I.run_path(r.session, conn, {p}, path, 1, r.plan)
      end
    end
  end
  for _, path in ipairs(r.plan) do
    local st = path[1].strategy
    if st ~= "immediate" and st ~= "subquery" then
      I.run_path(r.session, conn, uniq, path, 1, r.plan)
    end
  end
end

-- joins whose objects C.load_result_rows can make: no polymorphic target
-- (its class comes from each row)
local function plain_joins(joins)
  if #joins >= 16 then return false end
  for _, j in ipairs(joins) do
    if j.rel.target.polymorphic_map then return false end
  end
  return true
end

-- One entity with joined eager loads, straight from the cursor: the
-- parents and each join's objects, aligned with the rows (false where a
-- row has none).  Returns the objects and what fill_joined takes.
-- One entity and one joined plain list or set of it, the whole result:
-- the join's fill_joined (a parent's collection set up the first time it
-- is seen, each related object in it once) done with the rows, in C, when
-- nothing else reads the rows' objects: no other relationship load on
-- them, no class of a hierarchy, no deferred columns or populate_existing
-- to apply first.  Returns the objects and whether each is there once,
-- or nil when it does not apply.
local function load_joined_coll(r, e, n)
  local joins = r.joins
  local j = joins[1]
  local rel = j and j.rel
  if n ~= nil or #joins ~= 1 or j.parent or not rel.uselist or
     rel.collection or e.optdeferred or r.populate == 2 then
    return nil
  end
  local pm = rel.parent
  if pm.inherits or pm.polymorphic_map then return nil end
  for _, path in ipairs(r.plan) do
    if path[1].strategy ~= "joined" or path[2] then return nil end
  end
  local s, m, tm = r.session, e.mapper, rel.target
  local seen = j.seen
  if not seen then
    seen = {}
    j.seen = seen
  end
  local plain = j.plain
  if plain == nil then
    plain = {rel.key, nilmark[rel.key], changekey[rel.key], I.OWNER, I.REL,
             rel, rel.set and I.SetMT or I.CollMT}
    j.plain = plain
  end
  local out = {}
  local placed, _, _, repeats = C.load_joined_coll(r.core, s.id,
    {m.class, m.mt, m.nattrs, e.colpos or m.colpos, e.pkpos or m.pk_index,
     idmap_for(s, m), r.populate},
    {tm.class, tm.mt, tm.nattrs, j.colpos, j.pkpos, idmap_for(s, tm), false},
    seen, j.placed, plain, out)
  j.placed = placed
  return out, not repeats
end

local function load_joined(r, e, n)
  local s, m = r.session, e.mapper
  local fused, distinct = load_joined_coll(r, e, n)
  if fused then return fused, {filled = true, distinct = distinct} end
  local parents, gots = {}, {}
  local ents = {{m.class, m.mt, m.nattrs, e.colpos or m.colpos,
                 e.pkpos or m.pk_index, idmap_for(s, m), r.populate, parents}}
  for ji, j in ipairs(r.joins) do
    local tm = j.rel.target
    gots[ji] = {}
    ents[ji + 1] = {tm.class, tm.mt, tm.nattrs, j.colpos, j.pkpos,
                    idmap_for(s, tm), false, gots[ji]}
  end
  local nrows = C.load_result_rows(r.core, n or 0, s.id, ents)
  local out, k = {}, 0
  if r.joins.collections then
    -- a parent's rows mostly come together, and unique() is required
    -- (fetch raises without it): each run of one parent is one entry
    k = C.runs(parents, nrows, out)
  else
    for i = 1, nrows do
      local p = parents[i]
      if p then k = k + 1; out[k] = p end
    end
  end
  if e.optdeferred then I.mark_deferred(out, e.optdeferred) end
  if r.populate == 2 then I.populated(s, out) end
  return out, {parents = parents, gots = gots, nrows = nrows}
end

-- SQLAlchemy's ORM result loads into the identity map its Session had
-- when it began; after the Session's close() or expunge_all() that map
-- is no longer valid, and an object left to load is an error (a result
-- with none left, or of columns alone, reads on)
local function check_epoch(r)
  local cls
  for _, e in ipairs(r.ents) do
    if e.mapper then
      cls = e.mapper.class
      break
    end
  end
  if cls == nil or r.core:fetchone() == nil then return end
  raise("InvalidRequestError", string.format("Object <%s at %p> cannot be " ..
        "converted to 'persistent' state, as this identity map is no " ..
        "longer valid.  Has the owning Session been closed? (Background " ..
        "on this error at: https://sqlalche.me/e/14/lkrp)",
        rawget(cls, "__name__"), {}))
end

-- Load n rows of r (nil: the rest) into objects, with their relationship
-- loads; returns them and what load_joined tells of them.
local function load(r, n)
  -- (fields read once: those a plain result lacks are looked up through
  -- its metatable each time)
  local joins, ents = r.joins, r.ents
  local rows, out, joined
  local nents = #ents
  local e = nents == 1 and ents[1]
  if e and e.mapper and not e.load and joins and (n == nil or n >= 1)
     and plain_joins(joins) and direct(r.core) then
    out, joined = load_joined(r, e, n)
  elseif e and e.mapper and not e.load and not joins and
     (n == nil or n >= 1) and direct(r.core) then
    -- one entity: the rows go straight into objects
    local s, m = r.session, e.mapper
    local _
    _, _, out = C.load_result(r.core, n or 0, m.class, m.mt, m.nattrs,
                              e.colpos or m.colpos, e.pkpos or m.pk_index,
                              idmap_for(s, m), s.id, r.populate, nil, 0)
    if e.optdeferred then I.mark_deferred(out, e.optdeferred) end
    if r.populate == 2 then I.populated(s, out) end
  else
    if n then rows = r.core:fetchmany(n) else rows = r.core:all() end
    out = convert(r, rows)
  end
  if r.plan then load_relationships(r, rows, out, joined) end
  return out, joined
end

-- The items r hands out for loaded objects `out`: rows, or objects for
-- scalars(), each once for unique().
local function present(r, out, joined)
  local joins, ents = r.joins, r.ents
  local nents = #ents
  local unique, scalars = r._unique, r._scalars
  if joins and joins.collections and not unique then
    raise("InvalidRequestError", "The unique() method must be invoked on " ..
          "this Result, as it contains results that include joined eager " ..
          "loads against collections")
  end
  -- (distinct parents read with all the rows: unique() has nothing to
  -- drop, nor anything left to read after them)
  if unique and not (joined and joined.distinct and next(r._seen) == nil) then
    C.unique(out, r._seen, not scalars and nents or 1)
  end
  if not scalars and nents == 1 then
    for i, o in ipairs(out) do
      out[i] = wrap_row({o, [ROW_N] = 1, [ROW_ENTS] = ents})
    end
  elseif scalars and nents > 1 then
    -- a NULL in a list is the null sentinel (API.md §0): no holes
    for i, o in ipairs(out) do
      local v = o[1]
      if v == nil then v = sa.null end
      out[i] = v
    end
  elseif not scalars then
    for i, o in ipairs(out) do out[i] = wrap_row(o) end
  end
  return out
end

-- Without yield_per, SQLAlchemy's ORM loads all the rows at the first
-- read and hands them out from there (so objects read after the
-- Session's close() are detached ones, not an error); a joined
-- collection spans rows, so with one even yield_per does.  What was
-- loaded is kept by core Result, shared by the results derived from it
-- (scalars(), unique()), as SQLAlchemy's share one iterator, until the
-- last are handed out: {out = objects, i = how many handed out, joined =
-- load_joined's}.
local loaded = setmetatable({}, {__mode = "k"})

local function fetch(r, n)
  if rawget(r.session, "_epoch") ~= r.epoch then check_epoch(r) end
  local joins = r.joins
  if r.yield_per and not (joins and joins.collections) then
    return present(r, load(r, n))
  end
  local core = r.core
  -- (a closed Result raises as the core's reads do)
  if core.closed then return present(r, load(r, n)) end
  local st = loaded[core]
  local out, i, joined
  if st then
    out, i, joined = st.out, st.i, st.joined
  else
    out, joined = load(r, nil)
    i = 0
  end
  local last = n and math.min(#out, i + n) or #out
  if last == #out then
    -- (the last of them: nothing kept, and all at once, no copy)
    if st then loaded[core] = nil end
    if i == 0 then return present(r, out, joined) end
  elseif st then
    st.i = last
  else
    loaded[core] = {out = out, i = last, joined = joined}
  end
  return present(r, table.move(out, i + 1, last, 1, {}), joined)
end

function OrmResult:all() return fetch(self) end
OrmResult.fetchall = OrmResult.all
-- (without a size: the rest, or a yield_per batch, as SQLAlchemy's ORM)
function OrmResult:fetchmany(n) return fetch(self, n or self.yield_per) end
local function derive(r, k, v)
  -- (r's own fields, raw: an OrmResult's table holds them all)
  return C.derive(r, k, v, OrmResult)
end
function OrmResult:scalars() return derive(self, "_scalars", true) end
function OrmResult:unique()
  local u = derive(self, "_unique", true)
  u._seen = {}
  return u
end
function OrmResult:close() self.core:close() end
-- a single value: NULL is nil again, as SQLAlchemy's None
local function single(v)
  if v == sa.null then return nil end
  return v
end

-- first/one_or_none/one and their scalar forms, for a result class whose
-- rows come from fetch(r, n) and which close() ends: an ORM result, and a
-- sharded session's merged one (orm/ext/horizontal_shard.lua)
local function single_row_methods(R, fetch_rows)
  function R:first()
    local out = fetch_rows(self, 1)
    self:close()
    return single(out[1])
  end
  function R:one_or_none()
    local out = fetch_rows(self, 2)
    self:close()
    if #out > 1 then
      raise("MultipleResultsFound", "Multiple rows were found when one or " ..
            "none was required")
    end
    return single(out[1])
  end
  function R:one()
    local out = fetch_rows(self, 2)
    self:close()
    if #out == 0 then
      raise("NoResultFound", "No row was found when one was required")
    elseif #out > 1 then
      raise("MultipleResultsFound", "Multiple rows were found when exactly " ..
            "one was required")
    end
    return single(out[1])
  end
  function R:scalar() return self:scalars():first() end
  function R:scalar_one() return self:scalars():one() end
  function R:scalar_one_or_none() return self:scalars():one_or_none() end
end
single_row_methods(OrmResult, fetch)
function OrmResult:partitions(size)
  size = size or self.yield_per or 1000
  return function()
    local part = fetch(self, size)
    if #part > 0 then return part end
  end
end
-- `for x in result do`: items are never nil (a NULL scalar is sa.null),
-- so only an empty batch ends the loop
function OrmResult:__call()
  if not self._buf or self._i > #self._buf then
    self._buf, self._i = fetch(self, self.yield_per or 100), 1
    if #self._buf == 0 then return nil end
  end
  local o = self._buf[self._i]
  self._i = self._i + 1
  return o
end

-- for the other files of the ORM
I.wrap_orm_row = function(o, n, ents)
  o[ROW_N], o[ROW_ENTS] = n, ents
  return wrap_row(o)
end
I.single_row_methods = single_row_methods
I.OrmResult = OrmResult
I.direct = direct
I.entities_of = entities_of
I.load_by_pk = load_by_pk
