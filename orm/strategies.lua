-- orm/strategies.lua -- relationship loader strategies: lazy loading of
-- one object's relationship (the SELECT compiled once per dialect),
-- selectin loading of a batch, joined eager loading (the outer joins and
-- filling from the extra columns), and the load plan of a select.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local autoflush = I.autoflush
local changekey = I.changekey
local compile_hook = I.compile_hook
local configure = I.configure
local find = I.find
local hooks = I.hooks
local idmap_for = I.idmap_for
local key_of = I.key_of
local lazymark = I.lazymark
local load_by_pk = I.load_by_pk
local lselect = I.lselect
local mapper_of = I.mapper_of
local new_coll = I.new_coll
local own_coll = I.own_coll
local nilmark = I.nilmark
local objstr = I.objstr
local raise = I.raise
local rel_on = I.rel_on
local run = I.run
local sec_on = I.sec_on
local session_of = I.session_of
local set_raw = I.set_raw
local stmt_opts = I.stmt_opts

-- lazy loading ---------------------------------------------------------

-- the value of obj's attribute i: an expired column loads (with the
-- object's other expired ones, as SQLAlchemy's lazy clause reads it);
-- one whose object cannot load (detached, deleted) is known from the
-- identity when it is of the primary key
local function col_value(obj, m, i)
  local v, loaded = C.get(obj, i)
  if loaded then return v end
  local pkpos = m.pk_pos[i]
  local ident = pkpos and C.identity(obj)
  if ident ~= nil and C.lifecycle(obj) == "persistent" and
     C.session(obj) ~= 0 and I.sessions[C.session(obj)] and
     not I.sessions[C.session(obj)]._deleted[obj] then
    return obj[m.keys[i]]
  end
  if ident ~= nil then
    if #m.pk_index == 1 then return ident end
    return ident[pkpos]
  end
  return obj[m.keys[i]]
end

-- the values of obj's columns that the related rows refer to (or that
-- refer to them)
local function local_values(obj, r)
  local m, vals = r.parent, {}
  for k, i in ipairs(r.local_idx) do vals[k] = col_value(obj, m, i) end
  return vals
end

-- A join condition with more than column equalities (primaryjoin,
-- secondaryjoin) also filters what loads: the condition itself is added
-- (it names the parent's table, which is then in the FROM list too).
local function extra_criteria(r, stmt)
  if not r.extra or r.self_ref then return stmt end
  if r.primaryjoin then stmt = stmt:where(r.primaryjoin) end
  if r.secondaryjoin then stmt = stmt:where(r.secondaryjoin) end
  return stmt
end

-- The dialect name a connection's statements compile with: "mariadb" (the
-- MySQL dialect with MariaDB's reserved words) once the engine knows its
-- server is MariaDB, as SQLAlchemy's preparer then is.
local function compile_dialect(conn)
  local d = conn.dialect
  return d.is_mariadb and "mariadb" or d.name
end

-- the SELECT of r's related rows for one parent, compiled once per
-- dialect; its parameters are the parent's local values in order
-- (a connection's dialect name, read once: each lazy load asks)
local dialect_of = setmetatable({}, {__mode = "k"})

local function lazy_compiled(r, conn)
  local d = dialect_of[conn]
  if d == nil then
    d = compile_dialect(conn)
    dialect_of[conn] = d
  end
  local lz = r._lazy
  if lz == nil then
    lz = {}
    r._lazy = lz
  end
  local c = lz[d]
  if c then return c end
  -- (a subclass of an inheritance hierarchy: the select of its class)
  local stmt = r.target.inherits and sa.select(r.target.class) or
    sa.select(table.unpack(I.load_columns(r.target)))
  local n
  if r.extra and not r.self_ref then
    -- the condition as given, the parent's columns made parameters (as
    -- SQLAlchemy's lazy clause): the parent's table is not selected
    local map, pairs_ = {}, r.secondary and r.sec_local or r.local_cols
    for k, p in ipairs(pairs_) do
      map[C.node_ptr(r.secondary and p[3] or p)] = sa.bindparam("lz" .. k)
    end
    if r.primaryjoin then stmt = stmt:where(C.adapt(r.primaryjoin, map)) end
    if r.secondaryjoin then stmt = stmt:where(r.secondaryjoin) end
    for k, p in ipairs(r.secondary and not r.primaryjoin and r.sec_local or
                       {}) do
      stmt = stmt:where(sa.bindparam("lz" .. k):eq(p[1]))
    end
    for _, p in ipairs(r.secondary and not r.secondaryjoin and r.sec_remote or
                       {}) do
      stmt = stmt:where(p[3]:eq(p[1]))
    end
    n = #pairs_
  elseif r.secondary then
    for k, p in ipairs(r.sec_local) do
      stmt = stmt:where(sa.bindparam("lz" .. k):eq(p[1]))
    end
    for _, p in ipairs(r.sec_remote) do stmt = stmt:where(p[3]:eq(p[1])) end
    n = #r.sec_local
  else
    for k, col in ipairs(r.remote_cols) do
      local b = sa.bindparam("lz" .. k)
      stmt = stmt:where(r.pk_lookup and col:eq(b) or b:eq(col))
    end
    n = #r.remote_cols
    stmt = extra_criteria(r, stmt)
  end
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  -- (labelled <table>_<column>, as SQLAlchemy's lazy loads are)
  if r.target.inherits then
    stmt = stmt:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  end
  local marks, back = {}, {}
  for k = 1, n do
    local mark = "\0lz" .. k
    marks["lz" .. k], back[mark] = mark, k
  end
  local sql, pos, kinds, conv = compile_hook(stmt, d, marks)
  local order = {}
  for i, v in ipairs(pos) do order[i] = back[v] or {v} end
  c = {sql = sql, order = order, kinds = kinds, conv = conv}
  lz[d] = c
  return c
end

local function exec_lazy(s, conn, c, vals)
  local params = {}
  for i, o in ipairs(c.order) do
    if type(o) == "table" then params[i] = o[1] else params[i] = vals[o] end
  end
  return conn:_exec_compiled(c.sql, {params}, c.kinds, c.conv)
end

-- (mapper fields read raw: one a mapper lacks would go through its
-- __index, and these are read for each load)
local function load_rows(s, m, rows, out)
  out = out or {}
  if rawget(m, "polymorphic_map") then
    return I.load_polymorphic(s, m, rows, out)
  end
  C.load(rows, 1, #rows, m.class, m.mt, m.nattrs, m.colpos,
         rawget(m, "pkpos") or m.pk_index,
         idmap_for(s, m), s.id, false, out, #out)
  return out
end

-- the objects of a core result's rows, straight from its cursor when it
-- can be
local function load_result(s, m, res)
  if rawget(m, "polymorphic_map") or not I.direct(res) then
    return load_rows(s, m, res:all())
  end
  local _, _, out = C.load_result(res, 0, m.class, m.mt, m.nattrs, m.colpos,
                                  rawget(m, "pkpos") or m.pk_index,
                                  idmap_for(s, m), s.id, false, nil, 0)
  return out
end

-- (own: objs is a fresh list nothing else holds, see own_coll)
local function store_loaded(obj, r, objs, own)
  if r.uselist then
    local c = (own and own_coll or new_coll)(obj, r, objs)
    C.extra(obj, r.key, c)
    return c
  end
  local v = objs[1]
  set_raw(obj, r, v)
  return v
end

-- A relationship to the base of a concrete hierarchy (ConcreteBase,
-- AbstractConcreteBase): its rows are those of the polymorphic union --
-- every class's table -- each loaded as its class (SQLAlchemy's lazy
-- load of such a target reads the union, labelled <table>_<column>)
local function concrete_lazy(s, r, vals)
  local m = r.target
  local stmt = sa.select(m.class)
  for k, col in ipairs(r.remote_cols) do
    -- (the class's attribute of that column is the union's column)
    local pc
    for i, c in ipairs(m.attr_columns) do
      if C.node_ptr(c) == C.node_ptr(col) then pc = m.class[m.keys[i]] end
    end
    stmt = stmt:where(r.pk_lookup and pc:eq(vals[k]) or
                      sa.literal(vals[k]):eq(pc))
  end
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  stmt = stmt:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  return s:execute(stmt):scalars():all()
end

-- SQLAlchemy reads the values a query of obj's related rows needs with
-- obj refreshed: an expired one of a persistent object loads its row
-- first (the identity alone would do, but the statements are theirs)
local function refresh_for(obj, m, idx)
  if C.lifecycle(obj) ~= "persistent" then return end
  for _, i in ipairs(idx) do
    if not lselect(2, C.get(obj, i)) then
      local _ = obj[m.keys[i]]
      return
    end
  end
end
I.refresh_for = refresh_for

-- Does a select of r's target load any relationship eagerly by default
-- (a self-referential one only with join_depth; r's reverse many-to-one
-- loads lazily there)?  SQLAlchemy's lazy
-- load is such a select, so those loads go with it.
local function target_eager(r)
  local v = r._target_eager
  if v == nil then
    v = false
    for _, tr in ipairs(r.target.rel_list or {}) do
      local lz = tr.lazy
      if (lz == "selectin" or lz == "joined" or lz == "subquery" or
          lz == "immediate") and
         (tr.target ~= tr.parent or tr.options.join_depth) and
         not (rawequal(tr, r.back) and tr.direction == "manytoone" and
              tr.pk_lookup) then
        v = true
        break
      end
    end
    r._target_eager = v
  end
  return v
end

-- the lazy load of r as a select of the target (its eager defaults
-- apply): a many-to-one by the target's key, others by the parent
local lazy_from = setmetatable({}, {__mode = "k"})
I.lazy_from = lazy_from

local function lazy_select(s, r, obj, vals)
  local stmt = sa.select(r.target.class)
  if r.pk_lookup then
    for k, col in ipairs(r.remote_cols) do
      stmt = stmt:where(col:eq(vals[k]))
    end
  else
    stmt = stmt:where(orm.with_parent(obj, r))
  end
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  stmt = stmt:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  -- (its plan starts from r: see eager.lua)
  lazy_from[stmt] = r
  local res = s:execute(stmt)
  if res.unique then res = res:unique() end
  return res:scalars():all()
end

local function load_value(s, r, obj)
  local vals
  if #r.local_idx == 1 then
    -- (one column, loaded: its value is all, nothing to refresh)
    local v, loaded = C.get(obj, r.local_idx[1])
    if loaded then vals = {v} end
  end
  if not vals then
    refresh_for(obj, r.parent, r.local_idx)
    vals = local_values(obj, r)
  end
  for k = 1, #r.local_idx do
    if vals[k] == nil then return store_loaded(obj, r, {}) end
  end
  if rawget(r.target, "concrete_entity") and not r.secondary and
     not r.extra then
    autoflush(s)
    return store_loaded(obj, r, concrete_lazy(s, r, vals))
  end
  if r.pk_lookup then
    -- the identity map first (an expired object there is refreshed)
    local map = s._idmap[I.base_of(r.target)]
    local found = map and map[key_of(r.target, vals)]
    if found ~= nil and not lselect(2, C.get(found, r.target.pk_index[1])) then
      found = load_by_pk(s, r.target, vals, found)
    end
    if found ~= nil then return store_loaded(obj, r, {found}) end
  end
  if target_eager(r) then
    return store_loaded(obj, r, lazy_select(s, r, obj, vals), true)
  end
  autoflush(s)
  local conn = s:connection()
  local res = exec_lazy(s, conn, lazy_compiled(r, conn), vals)
  -- (the list load_result makes is fresh: the collection takes it)
  return store_loaded(obj, r, load_result(s, r.target, res), true)
end

-- The rest of the option paths through a relationship left to load
-- lazily (lazyload(User.orders):selectinload(Order.items), or
-- defaultload): obj -> {key -> {{path, from}...}}.  SQLAlchemy carries
-- the options into the lazy load, so its related objects load as the
-- rest of each path says; a many-to-one found in the identity map loads
-- nothing and takes none.
local lazy_paths = setmetatable({}, {__mode = "k"})

-- (the same rest of a path once: a statement run again adds nothing)
local function add_pending(list, path, from)
  for _, p in ipairs(list) do
    if #p.path - p.from == #path - from then
      local same = true
      for k = 0, #path - from do
        local a, b = p.path[p.from + k], path[from + k]
        if a.rel ~= b.rel or a.strategy ~= b.strategy or
           a.of_type ~= b.of_type then
          same = false
          break
        end
      end
      if same then return end
    end
  end
  list[#list + 1] = {path = path, from = from}
end

local function in_identity_map(s, obj, r)
  if not r.pk_lookup then return false end
  local vals = local_values(obj, r)
  local map = s._idmap[I.base_of(r.target)]
  return map ~= nil and vals[1] ~= nil and map[key_of(r.target, vals)] ~= nil
end

-- The lazy load of r for obj when the rest of a path starts with a
-- joined or subquery step (lazyload(A.bs):joinedload(B.cs)): a select
-- of the target carrying the rest of every path as its options, so a
-- joined step goes into the lazy load's own statement (a subquery step
-- reads it), as SQLAlchemy's does.  false when the load takes no
-- statement (a key is NULL, the target is a concrete base): the plain
-- lazy load decides.
local function lazy_with_options(s, r, obj, list)
  if rawget(r.target, "concrete_entity") then return false end
  refresh_for(obj, r.parent, r.local_idx)
  local vals = local_values(obj, r)
  for k = 1, #r.local_idx do
    if vals[k] == nil then return false end
  end
  local stmt = sa.select(r.target.class):where(orm.with_parent(obj, r))
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  local opts = {}
  for i, p in ipairs(list) do
    opts[i] = setmetatable({path = table.move(p.path, p.from, #p.path, 1,
                                              {})}, I.Load)
  end
  stmt = stmt:options(table.unpack(opts))
    :set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  local res = s:execute(stmt)
  if res.unique then res = res:unique() end
  return true, store_loaded(obj, r, res:scalars():all(), true)
end

local function load_with_path(s, r, obj)
  local pend = lazy_paths[obj]
  local list = pend and pend[r.key]
  if not list then return load_value(s, r, obj) end
  pend[r.key] = nil
  local found = in_identity_map(s, obj, r)
  if not found then
    for _, p in ipairs(list) do
      local next_strategy = p.path[p.from].strategy
      if next_strategy == "joined" or next_strategy == "subquery" then
        local done, v = lazy_with_options(s, r, obj, list)
        if done then return v end
        break
      end
    end
  end
  local v = load_value(s, r, obj)
  if not found then
    for _, p in ipairs(list) do
      I.run_path(s, s:connection(), I.loaded_related(obj, r), p.path, p.from,
                 nil)
    end
  end
  return v
end

-- an unloaded relationship was read
function hooks.rel_get(obj, key)
  configure()
  local r = mapper_of(obj).relationships[key]
  if not r then return nil end
  if C.extra(obj, nilmark[key]) then return nil end
  local st = C.lifecycle(obj)
  local strategy = C.extra(obj, lazymark[key]) or r.lazy
  if st == "transient" or st == "pending" or strategy == "noload" then
    -- nothing to load: an empty collection, or nil
    if r.uselist then return store_loaded(obj, r, {}) end
    return nil
  end
  if strategy == "raise_on_sql" and r.pk_lookup then
    -- no SQL needed when the identity map has the object
    local s = session_of(obj)
    local vals = local_values(obj, r)
    local map = s and s._idmap[r.target]
    local found = map and vals[1] ~= nil and map[key_of(r.target, vals)]
    if found ~= nil and lselect(2, C.get(found, r.target.pk_index[1])) then
      return store_loaded(obj, r, {found})
    end
  end
  if strategy == "raise" or strategy == "raise_on_sql" then
    raise("InvalidRequestError", "'" .. tostring(r) ..
          "' is not available due to lazy='" .. strategy .. "'")
  end
  local s = session_of(obj)
  if not s or st == "detached" then
    raise("DetachedInstanceError", string.format(
      "Parent instance %s is not bound to a Session; lazy load operation " ..
      "of attribute '%s' cannot proceed", objstr(obj), key))
  end
  return load_with_path(s, r, obj)
end

-- read a relationship during the flush or a cascade (no autoflush)
local function load_quiet(s, obj, r)
  if I.is_dynamic(r) then return I.dynamic_members(s, obj, r) end
  local prev = s._no_autoflush
  s._no_autoflush = true
  local ok, v = pcall(function() return obj[r.key] end)
  s._no_autoflush = prev
  if not ok then error(v, 0) end
  if r.uselist then return I.coll_members(v) or {} end
  return {v}
end

-- the loaded related objects (no loading)
local function loaded_related(obj, r)
  local v = C.extra(obj, r.key)
  if v == nil then return {} end
  if r.lazy == "dynamic" or r.lazy == "write_only" then
    -- (a dynamic writer: the members added in memory; its index reads
    -- rows from the database)
    return table.move(v, 1, #v, 1, {})
  end
  if r.uselist then return v end
  return {v}
end

-- forget every loaded relationship value of obj (expiry)
-- the members a delete-orphan collection lost before it was expired:
-- their orphaning outlives the parent's history, as SQLAlchemy keeps it
-- on the child (its hasparent flag); the flush deletes those it writes
-- anyway (see presort in orm/unitofwork.lua).  member -> relationship
local orphan_candidates = setmetatable({}, {__mode = "k"})
I.orphan_candidates = orphan_candidates

local function expire_rels(obj, m, keys)
  if not m.has_rels then return end
  for key, r in pairs(m.relationships) do
    if keys == nil or keys[key] then
      if r.direction == "onetomany" and r.cascade and
         r.cascade["delete-orphan"] then
        local ch = C.extra(obj, changekey[key])
        if ch then
          for x in pairs(ch.rem) do orphan_candidates[x] = r end
        end
      end
      C.extra(obj, key, nil)
      C.extra(obj, nilmark[key], nil)
      C.extra(obj, changekey[key], nil)
      C.extra(obj, lazymark[key], nil)
    end
  end
end

-- strategies -------------------------------------------------------------

-- fn(result) for the result of a relationship load's statement (a
-- sharded session runs it on the shards its chooser names:
-- orm/ext/horizontal_shard.lua)
function I.each_load_result(s, conn, stmt, m, fn)
  return fn(run(s, conn, stmt))
end

local IN_BATCH = 500

-- selectin: the related objects of every object in objs whose value is
-- not loaded, by SELECT ... WHERE key IN (up to 500 keys) per batch;
-- returns them (unless `unused`: no step after this one reads them)
local function selectin_load(s, conn, r, objs, tail, of_type, unused)
  local owners, keys = {}, {}
  local found = {}
  local map = r.pk_lookup and s._idmap[I.base_of(r.target)]
  local composite = #r.local_idx ~= 1
  -- the keys the statement asks for: SQLAlchemy's selectin of a
  -- collection asks for every object of the rows, one whose collection
  -- is loaded too (its collection is left as it is), when some are not
  local qkeys, asked = keys, nil
  if not composite and not map and r.direction ~= "manytoone" then
    qkeys, asked = {}, {}
  end
  for _, o in ipairs(objs) do
    if asked and (C.extra(o, r.key) ~= nil or C.extra(o, nilmark[r.key])) then
      local v = col_value(o, r.parent, r.local_idx[1])
      if v ~= nil and not asked[v] then
        asked[v] = true
        qkeys[#qkeys + 1] = v
      end
    elseif C.extra(o, r.key) == nil and not C.extra(o, nilmark[r.key]) then
      if composite then
        local v = o[r.key]
        if r.uselist then
          for _, x in ipairs(I.coll_members(v)) do found[#found + 1] = x end
        elseif v ~= nil then found[#found + 1] = v end
      else
        local v = col_value(o, r.parent, r.local_idx[1])
        local hit = v ~= nil and map and map[v]
        if v == nil then
          store_loaded(o, r, {})
        elseif hit ~= nil then
          store_loaded(o, r, {hit})
          found[#found + 1] = hit
        else
          -- (an owner alone, or the list of several with this key)
          local l = owners[v]
          if l == nil then
            owners[v] = o
            keys[#keys + 1] = v
            if asked and not asked[v] then
              asked[v] = true
              qkeys[#qkeys + 1] = v
            end
          elseif type(l) ~= "table" then
            if l ~= o then owners[v] = {l, o} end
          elseif not find(l, o) then
            l[#l + 1] = o
          end
        end
      end
    end
  end
  -- (all loaded, by an earlier path of this statement as a rule: no
  -- statement at all)
  if #keys == 0 then return found, keys end
  local tm = r.target
  local keycol, keypos
  if r.secondary then
    keycol, keypos = r.sec_local[1][1], I.load_width(tm) + 1
  else
    keycol, keypos = r.remote_cols[1], tm.colpos[r.remote_idx[1]]
  end
  local lists = {} -- owner key -> its related objects (made as they come)
  for i = 1, #qkeys, IN_BATCH do
    local batch = table.move(qkeys, i, math.min(i + IN_BATCH - 1, #qkeys), 1,
                             {})
    local stmt
    -- SQLAlchemy's statement where the join is plain (orm/eager.lua)
    -- (an of_type() option: the subclass's columns in the statement)
    -- (a target with deferred columns or column_property: the form
    -- decides)
    local form = of_type and not tail and not tm.layout and
      I.selectin_of_type_form(r, of_type, batch) or
      I.selectin_form(r, batch, tail)
    if form then
      stmt = form.stmt
    elseif r.secondary then
      local cols = table.move(I.load_columns(tm), 1, I.load_width(tm), 1, {})
      cols[#cols + 1] = keycol
      stmt = sa.select(table.unpack(cols))
        :join(r.secondary, sec_on(r.sec_remote))
    else
      stmt = sa.select(table.unpack(I.load_columns(tm), 1, I.load_width(tm)))
    end
    if not form then
      stmt = extra_criteria(r, stmt:where(keycol:in_(batch)))
      if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
    end
    -- each result of the statement (one, or a sharded session's each
    -- shard's) read into the owners' lists
    local function consume(res)
      local kp = form and form.keypos or keypos
      -- joined steps in the same statement: a row per grandchild
      local placed = form and form.joins and {}
      local colpos, pkpos
      if form then
        colpos, pkpos = form.colpos, form.pkpos
      elseif not tm.polymorphic_map then
        colpos, pkpos = tm.colpos, tm.pkpos or tm.pk_index
      end
      local rows, loaded, rkeys, nk = nil, {}, {}, nil
      local hierarchy = form and form.load -- rows to classes of a hierarchy
      if colpos and not placed and not hierarchy and I.direct(res) then
        -- straight from the cursor, each object's key beside it
        nk = C.load_result(res, 0, tm.class, tm.mt, tm.nattrs, colpos, pkpos,
                           idmap_for(s, tm), s.id, false, loaded, 0, kp, rkeys)
      else
        rows = res:all()
        if hierarchy then
          loaded = form.load(s, rows)
        elseif form then
          C.load(rows, 1, #rows, tm.class, tm.mt, tm.nattrs, form.colpos,
                 form.pkpos, idmap_for(s, tm), s.id, false, loaded, 0)
        else
          loaded = load_rows(s, tm, rows)
        end
        for j = 1, #rows do rkeys[j] = rows[j][kp] end
        nk = #rows
      end
      if not placed then
        -- each object to its owner's list (rkeys[j]: the owner's key)
        C.distribute(rkeys, loaded, nk, lists, not unused and found, owners)
      else
        I.fill_joined({session = s, joins = form.joins}, rows, loaded)
        for j = 1, nk do
          local key, x = rkeys[j], loaded[j]
          if not placed[x] or not placed[x][key] then
            placed[x] = placed[x] or {}
            placed[x][key] = true
            if owners[key] ~= nil then
              local l = lists[key]
              if not l then l = {}; lists[key] = l end
              l[#l + 1] = x
            end
            found[#found + 1] = x
          end
        end
      end
    end
    I.each_load_result(s, conn, stmt, tm, consume)
  end
  local plain = r.uselist and not r.collection
  if plain then
    -- a list or set: C makes each one owner's collection
    C.own_lists(keys, lists, owners, {r.key, I.OWNER, I.REL, r,
                                      r.set and I.SetMT or I.CollMT})
  end
  for _, k in ipairs(keys) do
    local os = owners[k]
    if type(os) ~= "table" then
      if not plain then store_loaded(os, r, lists[k] or {}, true) end
    else
      local l = lists[k] or {}
      for _, o in ipairs(os) do
        store_loaded(o, r, r.uselist and table.move(l, 1, #l, 1, {}) or l)
      end
    end
  end
  return found, keys
end

local function loaded_children(objs, r)
  local out = {}
  for _, o in ipairs(objs) do
    for _, x in ipairs(loaded_related(o, r)) do out[#out + 1] = x end
  end
  return out
end

-- run path[from..] on objs (the objects step from-1 produced); plan:
-- the statement's load plan (a first subquery step reads its statement)
local function run_path(s, conn, objs, path, from, plan)
  local step = path[from]
  if not step or #objs == 0 then return end
  local r, strategy = step.rel, step.strategy
  local m = mapper_of(objs[1])
  if r.parent ~= m and not I.isa(m, r.parent) then return end
  local children
  -- objects whose relationship an earlier path of the statement loaded
  -- (selectinload(A.bs):selectinload(B.cs) beside
  -- selectinload(A.bs):selectinload(B.d)): the rest of this path goes on
  -- from their loaded objects too
  local before = false
  if path[from + 1] and (strategy == "selectin" or strategy == "subquery" or
                         strategy == "immediate") then
    for _, o in ipairs(objs) do
      if C.extra(o, r.key) ~= nil then before = true; break end
    end
  end
  if before and strategy == "selectin" and I.joined_tail(path, from) then
    -- (their joined steps load as a SELECT ... IN each, from what the
    -- earlier path loaded)
    selectin_load(s, conn, r, objs, nil, step.of_type, false)
    return run_path(s, conn, loaded_children(objs, r), path, from + 1, plan)
  end
  if strategy == "subquery" and plan and plan.stmt and
     I.subquery_path(path, from) then
    children = I.subquery_load(s, conn, path, from, objs, plan)
  elseif strategy == "selectin" and I.joined_tail(path, from) then
    -- the joined steps after it go in its statement (orm/eager.lua)
    local tail = I.joined_tail(path, from)
    local deep = selectin_load(s, conn, r, objs, tail)
    for k = 1, #tail do deep = loaded_children(deep, tail[k].rel) end
    if path[from + #tail + 1] then
      run_path(s, conn, deep, path, from + #tail + 1, plan)
    end
    return
  elseif strategy == "immediate" and not before then
    -- each object's own lazy load, in turn, as SQLAlchemy's immediateload
    -- runs one as each object's row is read: the rest of the path goes
    -- into that load (an object whose value is loaded already: on from
    -- what it has)
    local rest, done = path[from + 1], {}
    for _, o in ipairs(objs) do
      if C.extra(o, r.key) == nil and not C.extra(o, nilmark[r.key]) then
        if rest then
          local pend = lazy_paths[o] or {}
          lazy_paths[o] = pend
          pend[r.key] = pend[r.key] or {}
          add_pending(pend[r.key], path, from + 1)
        end
        load_with_path(s, r, o)
      elseif rest then
        done[#done + 1] = o
      end
    end
    if rest and #done > 0 then
      run_path(s, conn, loaded_children(done, r), path, from + 1, plan)
    end
    return
  elseif strategy == "selectin" and not step.of_type and path[from + 1] and
     path[from + 1].strategy == "subquery" and not r.secondary and
     not r.extra and #r.local_idx == 1 and not r.target.polymorphic_map then
    -- (a subquery step after it: SQLAlchemy's subquery is the selectin
    -- statement's, its keys selected from the same rows)
    local found, keys = selectin_load(s, conn, r, objs, nil, nil, false)
    if #keys == 0 or #keys > IN_BATCH then
      return run_path(s, conn, found, path, from + 1, nil)
    end
    local tm = r.target
    local stmt = sa.select(table.unpack(I.load_columns(tm), 1,
                                        I.load_width(tm)))
      :where(r.remote_cols[1]:in_(keys))
    local rest = table.move(path, from + 1, #path, 1, {})
    return run_path(s, conn, found, rest, 1, {stmt = stmt})
  elseif strategy == "selectin" or strategy == "subquery" or
     strategy == "immediate" or
     (strategy == "joined" and from > 1 and not step.done) then
    children = selectin_load(s, conn, r, objs, nil,
                             strategy == "selectin" and step.of_type or nil,
                             path[from + 1] == nil)
  elseif strategy == "select" or strategy == "raise" or
         strategy == "raise_on_sql" or strategy == "noload" then
    for _, o in ipairs(objs) do
      if C.extra(o, r.key) == nil then C.extra(o, lazymark[r.key], strategy) end
    end
  end
  local rest = path[from + 1]
  if rest and (strategy == "select" or strategy == "default") then
    -- not loaded now: the rest of the path waits for the lazy load (a
    -- joined step goes into the lazy load's own statement, a subquery
    -- step reads it as its subquery)
    for _, o in ipairs(objs) do
      if C.extra(o, r.key) == nil and not C.extra(o, nilmark[r.key]) then
        local pend = lazy_paths[o] or {}
        lazy_paths[o] = pend
        local list = pend[r.key] or {}
        pend[r.key] = list
        add_pending(list, path, from + 1)
      end
    end
  end
  -- joined (loaded with the rows), defaultload: on from what is loaded
  if path[from + 1] then
    if before then children = nil end
    run_path(s, conn, children or loaded_children(objs, r), path, from + 1,
             plan)
  end
end

local eager_default = {selectin = true, joined = true, subquery = true,
                       immediate = true}

-- a path whose defaultload() steps name relationships eager by default
-- keeps those eager (a copy with their own strategies), as SQLAlchemy's
-- defaultload changes nothing about the attribute it names
local function resolve_defaults(path)
  local out = path
  for k, step in ipairs(path) do
    local r = step.rel
    if step.strategy == "default" and r ~= "*" and eager_default[r.lazy] then
      if out == path then
        out = table.move(path, 1, #path, 1, {})
        out.given = path -- (the option's own path: see eager.lua)
      end
      local copy = {}
      for f, v in pairs(step) do copy[f] = v end
      copy.strategy = r.lazy
      out[k] = copy
    end
  end
  return out
end

-- the loading plan of a select of mapper m: the option paths rooted at
-- m and the relationships whose default strategy is eager
local function load_plan(stmt, m)
  local paths = {}
  local named = {}
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    if o.path and I.isa(m, o.path[1].rel.parent) then
      paths[#paths + 1] = resolve_defaults(o.path)
      named[o.path[1].rel] = true
    end
  end
  -- (the paths in the order of the mapper's relationships, whatever the
  -- order of the options: SQLAlchemy loads an object's relationships in
  -- the order of its properties, not of the options naming them)
  for i = 2, #paths do
    local p, j = paths[i], i - 1
    local seq = p[1].rel.seq or 0
    while j >= 1 and (paths[j][1].rel.seq or 0) > seq do
      paths[j + 1] = paths[j]
      j = j - 1
    end
    paths[j + 1] = p
  end
  -- (of the paths through one selectin step, one whose next step is
  -- joined goes first: its statement takes that join, as SQLAlchemy's
  -- one statement does, and the others go on from what it loaded)
  for i = 1, #paths do
    local a = paths[i]
    if a[1].strategy == "selectin" and a[2] and a[2].strategy ~= "joined" then
      for j = i + 1, #paths do
        local b = paths[j]
        if b[1].rel == a[1].rel and b[1].strategy == "selectin" and b[2] and
           b[2].strategy == "joined" then
          table.insert(paths, i, table.remove(paths, j))
          break
        end
      end
    end
  end
  for _, r in ipairs(m.rel_list or {}) do
    if not named[r] and (r.lazy == "selectin" or r.lazy == "joined" or
                         r.lazy == "subquery" or r.lazy == "immediate") then
      paths[#paths + 1] = {{rel = r, strategy = r.lazy}}
    end
  end
  if #paths == 0 then return nil end
  return paths
end

-- for the other files of the ORM
I.col_value = col_value
I.expire_rels = expire_rels
I.load_plan = load_plan
I.load_quiet = load_quiet
I.resolve_defaults = resolve_defaults
I.loaded_related = loaded_related
I.run_path = run_path
