-- orm/eager.lua -- eager loading in the statement itself and in one more
-- statement per relationship, as SQLAlchemy emits them:
--
--   joinedload chains   each joined step of a path an aliased LEFT OUTER
--                       JOIN (JOIN with innerjoin = true, while every step
--                       before it is inner too) onto the previous step's
--                       alias; many-to-many as a nested join of the
--                       secondary table and the target;
--   contains_eager      the rows of a join the statement already has (of
--                       the target's table or an alias of it) fill the
--                       relationship;
--   subqueryload        SELECT target, anon_1.key FROM (the original
--                       statement selecting the parent's key) AS anon_1
--                       JOIN target ON ... ORDER BY ...;
--   wildcards           raiseload("*") and friends for every relationship
--                       no other option names.
--
-- It holds joined eager loading (add_joins, fill_joined) and extends
-- load_plan and the loader option functions.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Load = I.Load
local changekey = I.changekey
local idmap_for = I.idmap_for
local new_coll = I.new_coll
local nilmark = I.nilmark
local raise = I.raise
local run = I.run
local set_raw = I.set_raw
local stmt_opts = I.stmt_opts

-- options -------------------------------------------------------------

-- joinedload(attr, {innerjoin = true}), raiseload(attr, {sql_only =
-- true}), contains_eager(attr, {alias = aliased_table}), and "*" for
-- every relationship no other option names
local function step_opts(step, fname, opts)
  if opts == nil then return step end
  if type(opts) ~= "table" then
    raise("ArgumentError", fname .. "(): options must be a table")
  end
  if fname == "joinedload" and opts.innerjoin then step.innerjoin = true end
  if fname == "raiseload" and opts.sql_only then
    step.strategy = "raise_on_sql"
  end
  if fname == "contains_eager" and opts.alias ~= nil then
    if not C.node_kind(opts.alias) then
      raise("ArgumentError", "contains_eager(): alias must be an alias " ..
            "of the target's table")
    end
    step.alias = opts.alias
  end
  return step
end

local wildcard_ok = {lazyload = true, raiseload = true, noload = true,
                     selectinload = true, joinedload = true,
                     subqueryload = true, immediateload = true}

local function wrap(fname, strategy)
  local base_fn, base_method = orm[fname], Load[fname]
  orm[fname] = function(attr, opts)
    if fname == "contains_eager" and getmetatable(attr) == I.OfType then
      -- contains_eager(User.addresses:of_type(a)): the alias's columns
      opts = {alias = I.alias_entry(attr.target).alias}
      attr = attr.rel
    end
    if attr == "*" and wildcard_ok[fname] then
      return setmetatable({path = {step_opts({rel = "*",
        strategy = strategy}, fname, opts)}}, Load)
    end
    local l
    if base_fn then l = base_fn(attr)
    else
      l = setmetatable({path = {{rel = I.check_rel(attr, fname),
                                 strategy = strategy}}}, Load)
    end
    step_opts(l.path[1], fname, opts)
    return l
  end
  Load[fname] = function(self, attr, opts)
    local l
    if base_method then l = base_method(self, attr)
    else
      local path = table.move(self.path, 1, #self.path, 1, {})
      path[#path + 1] = {rel = I.check_rel(attr, fname), strategy = strategy}
      l = setmetatable({path = path}, Load)
    end
    step_opts(l.path[#l.path], fname, opts)
    return l
  end
end
wrap("joinedload", "joined")
wrap("raiseload", "raise")
wrap("lazyload", "select")
wrap("noload", "noload")
wrap("selectinload", "selectin")
wrap("subqueryload", "subquery")
wrap("immediateload", "immediate")
wrap("contains_eager", "contains_eager")

-- the plan: wildcard options apply to every relationship of the mapper
-- that no other option names (the defaults of the mapping included)
local load_plan = I.load_plan
-- a self-referential relationship eager by default (joined, selectin,
-- subquery) loads join_depth levels (none without it: it loads lazily),
-- as in SQLAlchemy
local function self_ref_depth(stmt, plan)
  if not plan then return nil end
  local given = {}
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    if o.path then given[o.path] = true end
  end
  local out = {}
  for _, path in ipairs(plan) do
    local r = path[1].rel
    if not given[path] and r ~= "*" and r.target == r.parent then
      local depth = r.options.join_depth
      if type(depth) == "number" and depth >= 1 then
        local chain = {}
        for k = 1, depth do
          chain[k] = {rel = r, strategy = path[1].strategy}
        end
        out[#out + 1] = chain
      end
    else
      out[#out + 1] = path
    end
  end
  if #out == 0 then return nil end
  return out
end

local function plan_of(stmt, m)
  local wild
  -- (column options such as defer() have no path)
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    if o.path and o.path[1].rel == "*" then wild = o.path[1] end
  end
  if not wild then return self_ref_depth(stmt, load_plan(stmt, m)) end
  local paths, named = {}, {}
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    local r = o.path and o.path[1].rel
    if r and r ~= "*" and r.parent == m then
      paths[#paths + 1] = o.path
      named[r] = true
    end
  end
  for _, r in ipairs(m.rel_list or {}) do
    if not named[r] then
      paths[#paths + 1] = {{rel = r, strategy = wild.strategy,
                            innerjoin = wild.innerjoin}}
    end
  end
  if #paths == 0 then return nil end
  return paths
end

-- the plan also keeps the statement (a subqueryload's subquery) and the
-- entity's table (where joins start)
I.load_plan = function(stmt, m)
  local plan = plan_of(stmt, m)
  if plan then plan.stmt, plan.root_table = stmt, m.local_table end
  return plan
end

-- joined eager loading ------------------------------------------------------

-- the ON clause of r between the parent's selectable p and the target's
-- t (the columns the relationship's condition names, taken from them);
-- the referenced column first, as the foreign key declares it
local function on_between(r, p, t)
  local on
  for k, lc in ipairs(r.local_cols) do
    local a, b = p.c[lc.key], t.c[r.remote_cols[k].key]
    local cond
    if r.direction == "manytoone" then cond = b:eq(a) else cond = a:eq(b) end
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

-- an alias of table t for one eager join: unnamed, so that the compiler
-- numbers it (t_1, t_2 ...) in the order the statement names it, as
-- SQLAlchemy does
local function alias_of(names, t)
  return t:alias()
end

-- joinable: a relationship whose condition is column equalities
local function joinable(r)
  return not r.extra and not I.is_dynamic(r)
end

-- the order_by of r on alias a
local function order_on(r, a)
  local ob = {}
  for i, col in ipairs(r.order_by) do
    ob[i] = C.node_kind(col) == "column" and a.c[col.key] or col
  end
  return ob
end

-- the columns of the joins of one path: the deepest step's first, as
-- SQLAlchemy lists them
local function add_cols(stmt, pending, width)
  for i = #pending, 1, -1 do
    local j, sel = pending[i].join, pending[i].sel
    local tm = j.rel.target
    local cols = {}
    for a, col in ipairs(tm.columns) do cols[a] = sel.c[col.key] end
    stmt = stmt:add_columns(table.unpack(cols))
    j.colpos, j.pkpos = {}, {}
    for a = 1, tm.nattrs do j.colpos[a] = width + a end
    for a, idx in ipairs(tm.pk_index) do j.pkpos[a] = width + idx end
    j.pk1 = j.pkpos[1]
    width = width + tm.nattrs
  end
  return stmt, width
end

-- the statement with the joins and columns of every leading run of
-- joined (and contains_eager) steps, and what filling needs: each join
-- {rel, colpos, pkpos, parent = index of the join its parents come from
-- or nil for the statement's entity}
-- A statement with LIMIT/OFFSET that joins a collection eagerly would
-- limit the joined rows, not the objects: as SQLAlchemy does, it goes in
-- a subquery the joins are made to, the outer query ordered by the
-- subquery's columns.  Returns the outer statement and the subquery, or
-- nil when the statement is not limited, selects more than the entity
-- or orders by more than columns.
local function wrap_limited(stmt, paths, width)
  local collection = false
  for _, path in ipairs(paths) do
    local st = path[1]
    if st.strategy == "joined" and st.rel.uselist and joinable(st.rel) then
      collection = true
    end
  end
  if not collection then return nil end
  local limited, order = C.select_order(stmt)
  local m = paths[1][1].rel.parent
  if not limited or not order or width ~= m.nattrs or
     paths.root_table ~= m.local_table then
    return nil
  end
  local sub = stmt:subquery()
  local cols = {}
  for i, col in ipairs(m.columns) do cols[i] = sub.c[col.name] end
  local outer = sa.select(table.unpack(cols))
  for _, o in ipairs(order) do
    local col = o[1]
    if C.node_ptr(col.table) ~= C.node_ptr(m.local_table) then return nil end
    local sc = sub.c[col.name]
    if o[2] == "desc" then sc = sc:desc() elseif o[2] == "asc" then
      sc = sc:asc()
    end
    outer = outer:order_by(sc)
  end
  return outer, sub
end

local function add_joins(stmt, paths, width)
  local joins = {}
  local names = {}
  local orders = {}
  local root = paths.root_table
  local outer, sub = wrap_limited(stmt, paths, width)
  if outer then stmt, root = outer, sub end
  for pi, path in ipairs(paths) do
    local copy = table.move(path, 1, #path, 1, {})
    local parent_sel, parent_join, inner = root, nil, true
    local pending = {}
    local k = 1
    while copy[k] do
      local step = copy[k]
      local r = step.rel
      if step.strategy == "contains_eager" then
        local sel = step.alias or r.target.local_table
        joins[#joins + 1] = {rel = r, parent = parent_join}
        pending[#pending + 1] = {join = joins[#joins], sel = sel}
        parent_join, parent_sel = #joins, sel
        copy[k] = {rel = r, strategy = "joined", done = true}
      elseif step.strategy == "joined" and joinable(r) and parent_sel then
        local tt = r.target.local_table
        local a = alias_of(names, tt)
        inner = inner and step.innerjoin or
                (step.innerjoin == nil and inner and r.options.innerjoin) or
                false
        local target, on
        if r.secondary then
          local sa_ = alias_of(names, r.secondary)
          local on2
          for _, p in ipairs(r.sec_remote) do
            local cond = a.c[p[3].key]:eq(sa_.c[p[1].key])
            on2 = on2 and sa.and_(on2, cond) or cond
          end
          target = sa_:join(a, on2)
          for _, p in ipairs(r.sec_local) do
            local cond = parent_sel.c[p[3].key]:eq(sa_.c[p[1].key])
            on = on and sa.and_(on, cond) or cond
          end
        else
          target, on = a, on_between(r, parent_sel, a)
        end
        if inner then stmt = stmt:join(target, on)
        else stmt = stmt:outerjoin(target, on) end
        if r.order_by then orders[#orders + 1] = order_on(r, a) end
        joins[#joins + 1] = {rel = r, parent = parent_join}
        pending[#pending + 1] = {join = joins[#joins], sel = a}
        parent_join, parent_sel = #joins, a
        copy[k] = {rel = r, strategy = "joined", done = true}
      else
        if step.strategy == "joined" then
          -- not joinable from here: loaded as selectin
          copy[k] = {rel = r, strategy = "selectin"}
        end
        break
      end
      k = k + 1
    end
    stmt, width = add_cols(stmt, pending, width)
    for j = k + 1, #copy do
      if copy[j].strategy == "joined" and not joinable(copy[j].rel) then
        copy[j] = {rel = copy[j].rel, strategy = "selectin"}
      end
    end
    paths[pi] = copy
  end
  for _, ob in ipairs(orders) do stmt = stmt:order_by(table.unpack(ob)) end
  return stmt, joins
end

-- rows[i] made parents[i]: fill each joined relationship from the row's
-- columns; a parent's collection is set up the first time it is seen in
-- this result (one already loaded is left alone)
-- (gots: each join's objects already made from the rows, aligned with
-- them, when the rows went straight into objects: then rows is nil and
-- nrows their count)
local function fill_joined(r_, rows, parents, gots, nrows)
  local s = r_.session
  local got_of = {}
  nrows = nrows or #rows
  for ji, j in ipairs(r_.joins) do
    local r, seen, placed = j.rel, j.seen, j.placed
    if not seen then
      seen, placed = {}, {}
      j.seen, j.placed = seen, placed
    end
    local got = gots and gots[ji]
    if got then
      -- made with the rows
    elseif r.target.polymorphic_map then
      -- each row's class by its discriminator (see inheritance.lua)
      got = {}
      I.load_joined_polymorphic(s, r.target, rows, j.colpos, got)
    else
      got = {}
      C.load(rows, 1, #rows, r.target.class, r.target.mt, r.target.nattrs,
             j.colpos, j.pkpos, idmap_for(s, r.target), s.id, false, got, 0,
             true)
    end
    got_of[ji] = got
    local owners = j.parent and got_of[j.parent] or parents
    local uselist = r.uselist
    if uselist then
      -- (row by row in C; a parent's collection is set up here)
      C.fill_collections(owners, got, nrows, seen, placed, function(p)
        if C.extra(p, r.key) == nil and not C.extra(p, nilmark[r.key]) and
           not C.extra(p, changekey[r.key]) then
          local c = new_coll(p, r)
          C.extra(p, r.key, c)
          return c
        end
        return false
      end)
      goto next_join
    end
    for i = 1, nrows do
      local p = owners[i]
      if p then
        local c = seen[p]
        if c == nil then
          if C.extra(p, r.key) == nil and not C.extra(p, nilmark[r.key]) and
             not C.extra(p, changekey[r.key]) then
            c = uselist and new_coll(p, r) or true
            if uselist then C.extra(p, r.key, c) else set_raw(p, r, nil) end
          else
            c = false
          end
          seen[p] = c
        end
        local x = got[i]
        if c and x then
          if not uselist then
            set_raw(p, r, x)
          else
            local pl = placed[p]
            if not pl then pl = {}; placed[p] = pl end
            if not pl[x] then
              -- a row per child (and per grandchild): each child once
              pl[x] = true
              c[#c + 1] = x
            end
          end
        end
      end
    end
    ::next_join::
  end
end

-- subquery eager loading --------------------------------------------------

-- the parent-side columns of r's condition, in its key order
local function local_keycols(r)
  local out = {}
  if r.secondary then
    for k, p in ipairs(r.sec_local) do out[k] = p[3] end
  else
    for k, lc in ipairs(r.local_cols) do out[k] = lc end
  end
  return out
end

-- ON between the columns standing for r's parent side (lcols, in key
-- order) and the target's selectable t
local function on_from(r, lcols, t)
  local on
  for k, lc in ipairs(lcols) do
    local rc = t.c[r.remote_cols[k].key]
    local cond
    if r.direction == "manytoone" then cond = rc:eq(lc)
    else cond = lc:eq(rc) end
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

-- The related rows of step `from` of path for objs (the objects step
-- from-1 loaded) in one statement: the original statement reduced to
-- the first parent's key columns as a subquery (DISTINCT when the first
-- step is many-to-one), joined along aliases of the steps before to the
-- target.  Each row carries the key of the object it belongs to.
local function subquery_load(s, conn, path, from, objs, plan)
  local first, r = path[1].rel, path[from].rel
  local pt = first.parent.local_table
  local inner, keynames = {}, {}
  for k, col in ipairs(local_keycols(first)) do
    keynames[k] = pt.name .. "_" .. col.name
    inner[k] = col:label(keynames[k])
  end
  local sub = C.select_unordered(plan.stmt):with_only_columns(
    table.unpack(inner))
  if first.direction == "manytoone" then sub = sub:distinct() end
  sub = sub:subquery("anon_1")
  local names = {}
  local lcols = {}
  for k, name in ipairs(keynames) do lcols[k] = sub.c[name] end
  local src, src_name = sub, "anon_1"
  local fromc = sub
  for k = 1, from do
    local rk = path[k].rel
    if k > 1 then
      lcols = {}
      for i, col in ipairs(local_keycols(rk)) do lcols[i] = src.c[col.key] end
    end
    local tt = rk.target.local_table
    local t, tname = tt, tt.name
    if k < from then
      names[tt.name] = (names[tt.name] or 0) + 1
      tname = tt.name .. "_" .. names[tt.name]
      t = tt:alias(tname)
    end
    if rk.secondary then
      local sec = alias_of(names, rk.secondary)
      local on1, on2
      for i, p in ipairs(rk.sec_local) do
        local cond = lcols[i]:eq(sec.c[p[1].key])
        on1 = on1 and sa.and_(on1, cond) or cond
      end
      for _, p in ipairs(rk.sec_remote) do
        local cond = t.c[p[3].key]:eq(sec.c[p[1].key])
        on2 = on2 and sa.and_(on2, cond) or cond
      end
      fromc = fromc:join(sec, on1):join(t, on2)
    else
      fromc = fromc:join(t, on_from(rk, lcols, t))
    end
    if k < from then src, src_name = t, tname end
  end
  -- the target's columns, then the parent key columns
  local tt = r.target.local_table
  local cols = {}
  for i, col in ipairs(r.target.columns) do
    cols[i] = col:label(tt.name .. "_" .. col.name)
  end
  local keycols = local_keycols(r)
  for k, col in ipairs(keycols) do
    local c = from == 1 and lcols[k] or src.c[col.key]
    cols[#cols + 1] = c:label(src_name .. "_" ..
                              (from == 1 and keynames[k] or col.name))
  end
  local stmt = sa.select(table.unpack(cols)):select_from(fromc)
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  local rows = run(s, conn, stmt):all()
  local tm = r.target
  local loaded = {}
  C.load(rows, 1, #rows, tm.class, tm.mt, tm.nattrs, tm.colpos, tm.pk_index,
         idmap_for(s, tm), s.id, false, loaded, 0)
  -- the parents by key, each given its rows in order
  local nk = #keycols
  local function keyof(vals)
    if nk == 1 then return vals[1] end
    local parts = {}
    for k = 1, nk do parts[k] = tostring(vals[k]) end
    return table.concat(parts, "\0")
  end
  local lists = {}
  for j, row in ipairs(rows) do
    local vals = {}
    for k = 1, nk do vals[k] = row[tm.nattrs + k] end
    local key = keyof(vals)
    local l = lists[key]
    if not l then l = {}; lists[key] = l end
    l[#l + 1] = loaded[j]
  end
  local found = {}
  for _, o in ipairs(objs) do
    if C.extra(o, r.key) == nil and not C.extra(o, nilmark[r.key]) then
      local vals = {}
      for k, i in ipairs(r.local_idx) do
        vals[k] = I.col_value(o, r.parent, i)
      end
      local l = lists[keyof(vals)] or {}
      if r.uselist then
        C.extra(o, r.key, new_coll(o, r, table.move(l, 1, #l, 1, {})))
      else
        set_raw(o, r, l[1])
      end
    end
  end
  for _, x in ipairs(loaded) do found[#found + 1] = x end
  return found
end

-- can step `from` of path load as a subquery: every step before it a
-- subquery step too, and each a relationship of plain column equalities
local function subquery_path(path, from)
  for k = 1, from do
    local st = path[k]
    if (k < from and st.strategy ~= "subquery") or st.rel.extra or
       I.is_dynamic(st.rel) then
      return false
    end
  end
  return true
end

-- selectin loading ---------------------------------------------------------

-- The SELECT of one batch of a selectin load of r (one key column) as
-- SQLAlchemy writes it, with where its columns land: one-to-many, the
-- foreign key first and the other columns after it; many-to-one by the
-- target's key, its columns in order; many-to-many, the parent's key
-- from an alias of the parent joined through an alias of the secondary.
-- Columns are labelled <table>_<column>.
local function selectin_form(r, batch, tail)
  local tm = r.target
  local tt = tm.local_table
  local cols, colpos, pkpos = {}, {}, {}
  local keypos, stmt = 1, nil
  local function label(sel_name, col)
    return col:label(sel_name .. "_" .. col.name)
  end
  if r.secondary then
    local pt = r.parent.local_table
    local pa = pt:alias(pt.name .. "_1")
    local sec = r.secondary:alias(r.secondary.name .. "_1")
    local p = r.sec_local[1]
    local pkey = pa.c[p[3].key]
    cols[1] = label(pa.name or (pt.name .. "_1"), pkey)
    for i, col in ipairs(tm.columns) do
      cols[i + 1] = label(tt.name, col)
      colpos[i] = i + 1
    end
    local on1, on2
    for _, q in ipairs(r.sec_local) do
      local cond = pa.c[q[3].key]:eq(sec.c[q[1].key])
      on1 = on1 and sa.and_(on1, cond) or cond
    end
    for _, q in ipairs(r.sec_remote) do
      local cond = tt.c[q[3].key]:eq(sec.c[q[1].key])
      on2 = on2 and sa.and_(on2, cond) or cond
    end
    stmt = sa.select(table.unpack(cols))
      :select_from(pa:join(sec, on1):join(tt, on2))
      :where(pkey:in_(batch))
  else
    local keycol = r.remote_cols[1]
    local kidx = r.remote_idx[1]
    if r.direction == "manytoone" then
      for i, col in ipairs(tm.columns) do
        cols[i] = label(tt.name, col)
        colpos[i] = i
      end
      keypos = kidx
    else
      cols[1] = label(tt.name, keycol)
      colpos[kidx] = 1
      for i, col in ipairs(tm.columns) do
        if i ~= kidx then
          cols[#cols + 1] = label(tt.name, col)
          colpos[i] = #cols
        end
      end
    end
    stmt = sa.select(table.unpack(cols)):where(keycol:in_(batch))
  end
  for k, idx in ipairs(tm.pk_index) do pkpos[k] = colpos[idx] end
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  local form = {stmt = stmt, colpos = colpos, pkpos = pkpos, keypos = keypos}
  if tail then
    -- joined steps after this one: joined to the target in this statement
    local names = {}
    if r.secondary then
      names[r.parent.local_table.name] = 1
      names[r.secondary.name] = 1
    end
    local function named(t)
      local n = (names[t.name] or 0) + 1
      names[t.name] = n
      return t:alias(t.name .. "_" .. n), t.name .. "_" .. n
    end
    local joins, pending, orders = {}, {}, {}
    local parent_sel, parent_join = tt, nil
    for _, step in ipairs(tail) do
      local rr = step.rel
      local a, aname = named(rr.target.local_table)
      local target, on
      if rr.secondary then
        local sec = named(rr.secondary)
        local on2
        for _, p in ipairs(rr.sec_remote) do
          local cond = a.c[p[3].key]:eq(sec.c[p[1].key])
          on2 = on2 and sa.and_(on2, cond) or cond
        end
        for _, p in ipairs(rr.sec_local) do
          local cond = parent_sel.c[p[3].key]:eq(sec.c[p[1].key])
          on = on and sa.and_(on, cond) or cond
        end
        target = sec:join(a, on2)
      else
        target, on = a, on_between(rr, parent_sel, a)
      end
      if step.innerjoin then stmt = stmt:join(target, on)
      else stmt = stmt:outerjoin(target, on) end
      if rr.order_by then orders[#orders + 1] = order_on(rr, a) end
      joins[#joins + 1] = {rel = rr, parent = parent_join}
      pending[#pending + 1] = {join = joins[#joins], sel = a, name = aname}
      parent_join, parent_sel = #joins, a
    end
    local width = #cols
    for i = #pending, 1, -1 do
      local j, sel, name = pending[i].join, pending[i].sel, pending[i].name
      local jm = j.rel.target
      local jcols = {}
      for a2, col in ipairs(jm.columns) do
        jcols[a2] = sel.c[col.key]:label(name .. "_" .. col.name)
      end
      stmt = stmt:add_columns(table.unpack(jcols))
      j.colpos, j.pkpos = {}, {}
      for a2 = 1, jm.nattrs do j.colpos[a2] = width + a2 end
      for a2, idx in ipairs(jm.pk_index) do j.pkpos[a2] = width + idx end
      j.pk1 = j.pkpos[1]
      width = width + jm.nattrs
    end
    for _, ob in ipairs(orders) do stmt = stmt:order_by(table.unpack(ob)) end
    form.stmt, form.joins = stmt, joins
  end
  return form
end

-- the joined steps right after step `from` (a selectin step) that its
-- statement can carry, or nil
local function joined_tail(path, from)
  local r = path[from].rel
  if r.extra or #r.local_idx ~= 1 then return nil end
  local tail = {}
  local k = from + 1
  while path[k] and path[k].strategy == "joined" and joinable(path[k].rel) do
    tail[#tail + 1] = path[k]
    k = k + 1
  end
  if #tail == 0 then return nil end
  return tail
end

-- for the other files of the ORM
I.add_joins = add_joins
I.joined_tail = joined_tail
I.selectin_form = selectin_form
I.subquery_path = subquery_path
I.fill_joined = fill_joined
I.subquery_load = subquery_load
