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
  if fname == "joinedload" and opts.innerjoin then
    -- true, or "unnested": a plain JOIN even after an outer join
    step.innerjoin = opts.innerjoin == "unnested" and "unnested" or true
  end
  if fname == "raiseload" and opts.sql_only then
    step.strategy = "raise_on_sql"
  end
  if fname == "contains_eager" and opts.alias ~= nil then
    if getmetatable(opts.alias) == I.AliasedClass then
      -- contains_eager(attr, {alias = aliased(Address)}): its alias
      opts = {alias = I.alias_entry(opts.alias).alias}
    end
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
local wild_joined
local function on_chain(chain, tm)
  for _, pm in ipairs(chain) do
    if pm == tm or (I.isa and I.isa(pm, tm)) then return true end
  end
  return false
end

-- a self-referential relationship eager by default (joined, selectin,
-- subquery) loads join_depth levels (none without it: it loads lazily),
-- as in SQLAlchemy.  The select of a lazy load of relationship `from`
-- is on from's path: its selectin, subquery and immediate defaults (not
-- joined ones) load one level less, and none back to from's parent;
-- from's reverse many-to-one loads lazily.
local function self_ref_depth(stmt, plan)
  if not plan then return nil end
  local given = {}
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    if o.path then given[o.path] = true end
  end
  local from = I.lazy_from[stmt]
  local out = {}
  for _, path in ipairs(plan) do
    local r = path[1].rel
    local post = from and path[1].strategy ~= "joined"
    if from and rawequal(r, from.back) and r.direction == "manytoone" and
       r.pk_lookup and not given[path.given or path] then
      -- (the reverse many-to-one of the lazy load: its object is the
      -- parent, found by key; SQLAlchemy makes it lazy there)
    elseif post and not given[path.given or path] and r ~= "*" and
       r.target ~= r.parent and on_chain({from.parent}, r.target) then
      -- (a cycle back to the lazy load's parent: not loaded)
    elseif not given[path.given or path] and r ~= "*" and
       r.target == r.parent then
      local depth = r.options.join_depth
      if post and type(depth) == "number" then depth = depth - 1 end
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

-- joinedload("*"), as SQLAlchemy's: the relationships of the mapper
-- and, through their joins, of the mappers they reach, each chain
-- stopping at a relationship to a mapper already on it (the root
-- included: a self-referential one is not joined at all)

function wild_joined(paths, named, m, wild)
  local function walk(prefix, chain, pm)
    for _, r in ipairs(pm.rel_list or {}) do
      local tm = r.target
      if not (#prefix == 0 and named[r]) and not on_chain(chain, tm) then
        local path = table.move(prefix, 1, #prefix, 1, {})
        path[#path + 1] = {rel = r, strategy = wild.strategy,
                           innerjoin = wild.innerjoin}
        chain[#chain + 1] = tm
        local before = #paths
        walk(path, chain, tm)
        -- (a leaf of the walk is a path of its own)
        if #paths == before then paths[#paths + 1] = path end
        chain[#chain] = nil
      end
    end
  end
  walk({}, {m}, m)
end

-- After a relationship loaded eagerly (joined, selectin, subquery,
-- immediate), by an option or by default, the relationships its target
-- loads eagerly by default load too, level after level, as SQLAlchemy's
-- loaders go on from each mapper they reach: each path of the plan grows
-- by those its options do not name, a chain stopping at a mapper already
-- on it (the root's included; for a lazy load's select and the steps
-- after the statement, its parent's too).
local eager_kind = {joined = true, selectin = true, subquery = true,
                    immediate = true}

local function step_key(path, n)
  local parts = {}
  for k = 1, n do parts[k] = tostring(path[k].rel) end
  return table.concat(parts, "/")
end

local function extend_defaults(stmt, m, plan)
  if not plan then return nil end
  local from = I.lazy_from[stmt]
  local named, grows = {}, false
  for _, path in ipairs(plan) do
    for k = 1, #path do named[step_key(path, k)] = true end
    local last = path[#path]
    if eager_kind[last.strategy] and last.rel ~= "*" and
       not last.of_type then
      grows = true
    end
  end
  if not grows then return plan end
  local out = {}
  local function grow(path, chain)
    local last = path[#path]
    local tm = last.rel ~= "*" and not last.of_type and last.rel.target
    local added = false
    if tm and eager_kind[last.strategy] then
      local key = step_key(path, #path)
      for _, r in ipairs(tm.rel_list or {}) do
        if eager_kind[r.lazy] and r.target ~= r.parent and
           not named[key .. "/" .. tostring(r)] and
           not on_chain(chain, r.target) and
           not (from and on_chain({from.parent}, r.target)) then
          local p = table.move(path, 1, #path, 1, {})
          p.given = path.given or path
          p[#p + 1] = {rel = r, strategy = r.lazy}
          chain[#chain + 1] = r.target
          grow(p, chain)
          chain[#chain] = nil
          added = true
        end
      end
    end
    if not added then out[#out + 1] = path end
  end
  for _, path in ipairs(plan) do
    local chain = {m}
    for k = 1, #path - 1 do
      if path[k].rel ~= "*" then chain[#chain + 1] = path[k].rel.target end
    end
    if path[#path].rel ~= "*" then
      chain[#chain + 1] = path[#path].rel.target
    end
    grow(path, chain)
  end
  return out
end

local function plan_of(stmt, m)
  local wild
  -- (column options such as defer() have no path)
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    if o.path and o.path[1].rel == "*" then wild = o.path[1] end
  end
  if not wild then
    return extend_defaults(stmt, m, self_ref_depth(stmt, load_plan(stmt, m)))
  end
  local paths, named = {}, {}
  for _, o in ipairs(stmt_opts[stmt] or {}) do
    local r = o.path and o.path[1].rel
    if r and r ~= "*" and r.parent == m then
      paths[#paths + 1] = I.resolve_defaults(o.path)
      named[r] = true
    end
  end
  if wild.strategy == "joined" then
    wild_joined(paths, named, m, wild)
    if #paths == 0 then return nil end
    return paths
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
  if plan then
    plan.stmt, plan.root_table, plan.root_mapper = stmt, m.local_table, m
  end
  return plan
end

-- joined eager loading ------------------------------------------------------

-- the ON clause of r between the parent's selectable p and the target's
-- t (the columns the relationship's condition names, taken from them);
-- the referenced column first, as the foreign key declares it
-- Where the columns of a step's tables come from: a "sel" maps tables
-- (by address) to the selectable standing for them (an alias, or the
-- subquery of a limited statement); a table it does not list is the
-- statement's own.  A class of joined inheritance spans several tables:
-- each has its alias.
local function sel_of(pairs_, main)
  local s_ = {map = {}, list = {}, main = main}
  for _, p in ipairs(pairs_) do
    if C.node_ptr(p[1]) ~= C.node_ptr(p[2]) then
      s_.map[C.node_ptr(p[1])] = p[2]
      s_.list[#s_.list + 1] = p
    end
  end
  return s_
end

local function col_in(sel, col)
  local x = col.table and sel.map[C.node_ptr(col.table)]
  if x then return x.c[col.key] end
  return col
end

-- cond with the columns of each table the sels list taken from the
-- selectable standing for it (the alias the eager join gives it)
local function adapt_on(cond, ...)
  local map = {}
  for i = 1, select("#", ...) do
    for _, p in ipairs((select(i, ...)).list) do
      local t, x = p[1], p[2]
      for _, col in ipairs(t.columns) do
        map[C.node_ptr(col)] = x.c[col.key]
      end
    end
  end
  return C.adapt(cond, map)
end

-- the tables of mapper m's rows: its own, or those of joined inheritance
local function tables_of(m)
  if m.inh_tables and #m.inh_tables > 1 and not m.single and not m.concrete then
    return m.inh_tables
  end
  return {m.local_table}
end

-- the ON joining table q of joined-inheritance mapper m to the tables
-- before it, on the aliases of sel: the inherit_condition, else the
-- foreign keys (the parent's column first, as SQLAlchemy writes it)
local function inherit_on(m, q, sel)
  local given = m.inherit_on and m.inherit_on[q]
  if given then return adapt_on(given, sel) end
  local t, on = m.inh_tables[q], nil
  for _, fk in ipairs(t.foreign_keys) do
    local tname, cname = string.match(fk.target_fullname, "^(.*)%.([^.]+)$")
    for k = 1, q - 1 do
      local pt = m.inh_tables[k]
      if tname == pt.name or tname == pt.fullname then
        local cond = col_in(sel, pt.c[cname]):eq(col_in(sel, fk.parent))
        on = on and sa.and_(on, cond) or cond
      end
    end
  end
  return on
end

local function on_between(r, p, t)
  local on
  for k, lc in ipairs(r.local_cols) do
    local a, b = col_in(p, lc), col_in(t, r.remote_cols[k])
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

-- joinable in the statement itself: a custom condition too (taken onto
-- the aliases), except a self-referential one with more than column
-- equalities, whose sides the columns alone do not tell apart
local function joinable_here(r)
  if I.is_dynamic(r) then return false end
  return not r.extra or r.secondary ~= nil or not r.self_ref
end


-- the order_by of r on alias a
local function order_on(r, sel)
  local ob = {}
  for i, col in ipairs(r.order_by) do
    -- (an expression, such as a column's desc(), on the aliases too)
    ob[i] = C.node_kind(col) == "column" and col_in(sel, col) or
            (sel.list and adapt_on(col, sel) or col)
  end
  return ob
end

-- the columns of mapper tm's rows from sel, and the position of each
-- attribute among them: the columns in order, or for a class of joined
-- inheritance each attribute's columns (its own table's first), as
-- select(Engineer) lists them
local function target_cols(tm, sel)
  local cols, colpos = {}, {}
  if #tables_of(tm) == 1 then
    for a, col in ipairs(tm.attr_columns) do
      cols[a] = col_in(sel, col)
      colpos[a] = a
    end
    return cols, colpos
  end
  local at = {}
  for i = 1, tm.nattrs do
    for q, col in ipairs(tm.attr_cols[i]) do
      local pc = C.node_ptr(col)
      if not at[pc] then
        cols[#cols + 1] = col_in(sel, col)
        at[pc] = #cols
      end
      if q == 1 then colpos[i] = at[pc] end
    end
  end
  return cols, colpos
end

-- joinedload(r:of_type(sub)) as SQLAlchemy 1.4 writes it: an anonymous
-- subquery of the target's tables and sub's outer joined, its columns
-- labelled <table>_<column>; sel stands for the tables in it.  nil when
-- sub adds no table or r is not a plain one-to-many / many-to-one.
local function of_type_join(r, sub, name)
  if r.secondary or r.extra or not I.of_type_entity then return nil end
  local tm = r.target
  -- an aliased with_polymorphic: its own selectable, as SQLAlchemy joins it
  if sub.wp then return I.wp_of_type_join(tm, sub.wp) end
  local tcols, from = I.of_type_entity(tm, sub)
  if not tcols then return nil end
  local inner = {}
  for q, col in ipairs(tcols) do
    inner[q] = col:label(col.table.name .. "_" .. col.name)
  end
  local sq = sa.select(table.unpack(inner)):select_from(from):subquery(name)
  local sel = {map = {}, list = {}, main = sq}
  local seen = {}
  for _, col in ipairs(tcols) do
    local t = col.table
    if not seen[C.node_ptr(t)] then
      seen[C.node_ptr(t)] = true
      -- (the table's columns by key, as the subquery's)
      local proxy = {c = setmetatable({}, {__index = function(_, key)
        local c = t.c[key]
        return c and sq.c[t.name .. "_" .. c.name]
      end})}
      sel.map[C.node_ptr(t)] = proxy
    end
  end
  local cols, pos, attrpos = {}, {}, {}
  for q, col in ipairs(tcols) do
    cols[q] = sq.c[col.table.name .. "_" .. col.name]
    pos[C.node_ptr(col)] = q
  end
  for a = 1, tm.nattrs do
    local col = tm.attr_cols and tm.attr_cols[a] and tm.attr_cols[a][1] or
                tm.attr_columns[a]
    attrpos[a] = col and pos[C.node_ptr(col)] or 0
  end
  return {sq = sq, sel = sel, cols = cols, pos = pos, attrpos = attrpos,
          from = from, tcols = tcols}
end

-- the columns of the joins of one path: the deepest step's first, as
-- SQLAlchemy lists them
local function add_cols(stmt, pending, width)
  for i = #pending, 1, -1 do
    local j, sel = pending[i].join, pending[i].sel
    local tm = j.rel.target
    local lay = pending[i].step and I.step_layout(pending[i].step)
    local cols, rel, pkrel
    local oft = pending[i].oft
    if oft then
      -- (an of_type() join: every column of its subquery, each row
      -- loaded as its class by the columns' positions)
      cols, rel, pkrel = oft.cols, oft.attrpos, {}
      for a, idx in ipairs(tm.pk_index) do pkrel[a] = rel[idx] end
      j.at = {}
      for ptr, q in pairs(oft.pos) do j.at[ptr] = width + q end
    elseif lay or (tm.layout and #tables_of(tm) == 1) then
      -- the step's column options, or the target's own deferred columns
      -- and column_property expressions: the columns of its layout (an
      -- expression taken to the join's alias)
      local l = lay or tm.layout
      cols = {}
      for a, col in ipairs(l.cols) do
        cols[a] = C.node_kind(col) == "column" and col_in(sel, col) or
                  adapt_on(col, sel)
      end
      rel, pkrel = l.colpos, l.pkpos
      j.optdeferred = lay and lay.optdeferred
    else
      cols, rel = target_cols(tm, sel)
      pkrel = {}
      for a, idx in ipairs(tm.pk_index) do pkrel[a] = rel[idx] end
    end
    stmt = stmt:add_columns(table.unpack(cols))
    j.cols, j.sel = cols, sel.main
    j.colpos, j.pkpos = {}, {}
    for a = 1, tm.nattrs do
      local p = rel[a] or 0
      j.colpos[a] = p > 0 and width + p or 0
    end
    for a, p in ipairs(pkrel) do j.pkpos[a] = width + p end
    j.pk1 = j.pkpos[1]
    width = width + #cols
  end
  return stmt, width
end

-- the statement with the joins and columns of every leading run of
-- joined (and contains_eager) steps, and what filling needs: each join
-- {rel, colpos, pkpos, parent = index of the join its parents come from
-- or nil for the statement's entity}
-- A statement with LIMIT/OFFSET (or DISTINCT, or GROUP BY) that joins a
-- collection eagerly would limit the joined rows, not the objects: as
-- SQLAlchemy does, it goes in a subquery the joins are made to, the
-- outer query ordered by the subquery's columns (an ORDER BY expression
-- that is not one of the entity's columns is added to the subquery's
-- columns, and the outer query's, to be ordered by there).  Returns the
-- outer statement, the subquery and the outer statement's width, or nil
-- when the statement does not nest, selects more than the entity or
-- orders by what cannot be.
local function wrap_limited(stmt, paths, width)
  local collection = false
  for _, path in ipairs(paths) do
    local st = path[1]
    if st.strategy == "joined" and st.rel.uselist and
       joinable_here(st.rel) then
      collection = true
    end
  end
  if not collection then return nil end
  local _, order, nests = C.select_order(stmt)
  local m = paths[1][1].rel.parent
  -- (the columns the entity selects: its layout's when columns are
  -- deferred, which must then all be its table's)
  local own = m.layout and m.layout.cols or m.attr_columns
  local root = paths.root_table
  -- (the entity over a set operation's subquery, or from_self's: its
  -- columns are the subquery's, found in the new one by their place)
  local e = C.node_ptr(root) ~= C.node_ptr(m.local_table) and
            I.aliased_entry and I.aliased_entry(C.node_ptr(root))
  local over = e and e.labelled and not e.colmap and not m.layout and
               e.mapper == m
  -- (an aliased() class over its table's alias or a subquery giving its
  -- columns in order: its columns are the alias's, found in the new
  -- subquery by their place too)
  local aliased = e and not over and not e.labelled and not e.colmap and
                  not e.expand and not e.single and not m.layout and
                  e.mapper == m
  if not nests or not order or width ~= #own or
     not (over or aliased) and root ~= m.local_table or paths.root_sel then
    return nil
  end
  -- (ORDER BY expressions that are not the entity's own columns)
  local extras, extra_at = {}, {}
  if not (over or aliased) then
    for k, o in ipairs(order) do
      local col = o[1]
      if C.node_kind(col) ~= "column" or not col.table or
         C.node_ptr(col.table) ~= C.node_ptr(m.local_table) then
        extras[#extras + 1] = col
        extra_at[k] = #own + #extras
      end
    end
  end
  if #extras > 0 then stmt = stmt:add_columns(table.unpack(extras)) end
  local sub = stmt:subquery()
  local cols = {}
  local map = (over or aliased) and I.subquery_columns(sub)
  if (over or aliased) and not map then return nil end
  for i, col in ipairs(own) do
    if C.node_kind(col) ~= "column" or not col.table or
       C.node_ptr(col.table) ~= C.node_ptr(m.local_table) then
      return nil
    end
    if over or aliased then
      local inner = over and root.c[col.key] or I.alias_col(e, col)
      cols[i] = inner and map[C.node_ptr(inner)]
      if not cols[i] then return nil end
    else
      cols[i] = sub.c[col.name]
    end
  end
  -- (the extras' columns, after the entity's in the subquery)
  local subcols = {}
  if #extras > 0 then
    for i, c in ipairs(sub.c) do subcols[i] = c end
    for k = 1, #extras do cols[#own + k] = subcols[#own + k] end
  end
  local outer = sa.select(table.unpack(cols))
  -- (a legacy Query's labels outside too)
  if C.tablename_labels(stmt) then
    outer = outer:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  end
  for k, o in ipairs(order) do
    local col = o[1]
    local sc
    if over or aliased then
      sc = C.node_kind(col) == "column" and map[C.node_ptr(col)]
      if not sc then return nil end
    elseif extra_at[k] then
      sc = subcols[extra_at[k]]
    else
      sc = sub.c[col.name]
    end
    if o[2] == "desc" then sc = sc:desc() elseif o[2] == "asc" then
      sc = sc:asc()
    end
    outer = outer:order_by(sc)
  end
  return outer, sub, #own + #extras
end

-- the joins of one path: each link an inner or outer join onto the
-- statement, but a run of nested links joins (inner) into the link
-- before them, and that join goes on the statement as one
local function emit_links(stmt, links)
  local i = 1
  while links[i] do
    local l = links[i]
    local target = l.target
    local j = i + 1
    while links[j] and links[j].nested do
      -- (a many-to-many's secondary and target flat in the parentheses)
      for _, part in ipairs(links[j].parts or {{links[j].target,
                                                links[j].on}}) do
        target = target:join(part[1], part[2])
      end
      j = j + 1
    end
    if l.inner then stmt = stmt:join(target, l.on)
    else stmt = stmt:outerjoin(target, l.on) end
    i = j
  end
  return stmt
end

-- where relationship r stands among mapper m's properties, as SQLAlchemy
-- orders them: a class's own in the order declared, then those it
-- inherits, the nearest parent's first (depth, then declaration order)
local function prop_rank(m, r)
  if type(r) ~= "table" then return math.huge, math.huge end
  local d, x = 0, m
  while x and x ~= r.parent do d, x = d + 1, x.inherits end
  return d, r.seq or 0
end

-- does a come before b?  `tie` when they rank the same
local function before(m, a, b, tie)
  local da, qa = prop_rank(m, a)
  local db, qb = prop_rank(m, b)
  if da ~= db then return da < db end
  if qa ~= qb then return qa < qb end
  return tie
end

-- The columns of contains_eager come first, before those of the entity
-- the option is on, as SQLAlchemy 1.4 lists them (a relationship's
-- columns are set up before the entity's own): for each relationship
-- of the entity in mapping order, the columns of the paths below it,
-- then its target's.  An entity of the statement that selects the same
-- table as such a target is not selected twice: it reads those columns.
-- The joined eager columns stay last.  Positions of the entities and of
-- the joins follow.
local function ce_first(stmt, ents, joins, items)
  local any = false
  for _, j in ipairs(joins) do if j.ce then any = true end end
  if not any or #ents == 0 or not ents[1].mapper then return stmt end
  for _, e in ipairs(ents) do if e.load then return stmt end end
  local kids = {}
  for ji, j in ipairs(joins) do
    if j.ce then
      local key = j.parent or 0
      kids[key] = kids[key] or {}
      table.insert(kids[key], ji)
    end
  end
  -- n counts positions, nc items (a table is one item of many columns)
  local newpos, cols, n, nc = {}, {}, 0, 0
  local function emit(ji)
    local j = joins[ji]
    local list = kids[ji] or {}
    table.sort(list, function(a, b)
      return before(j.rel.target, joins[a].rel, joins[b].rel, a < b)
    end)
    for _, k in ipairs(list) do emit(k) end
    for a, node in ipairs(j.cols) do
      n, nc = n + 1, nc + 1
      cols[nc] = node
      newpos[j.colpos[a]] = n
    end
  end
  local top = kids[0] or {}
  local m1 = ents[1].mapper
  table.sort(top, function(a, b)
    return before(m1, joins[a].rel, joins[b].rel, a < b)
  end)
  for _, ji in ipairs(top) do emit(ji) end
  -- the statement's own items; an entity of a contains_eager target's
  -- table reads that target's columns
  local dropped = {}
  local pos = 1
  for k, it in ipairs(items) do
    local e
    for _, x in ipairs(ents) do if x.pos == pos then e = x end end
    local same
    if e and e ~= ents[1] and e.mapper and not e.alias and not e.colpos and
       it[1] then
      for _, j in ipairs(joins) do
        if j.ce and j.rel.target == e.mapper and
           C.node_ptr(j.sel) == it[1] and
           C.node_ptr(j.sel) == C.node_ptr(e.mapper.local_table) then
          same = j
          break
        end
      end
    end
    if same then
      dropped[e] = same
      for a = 1, it[2] do newpos[pos + a - 1] = newpos[same.colpos[a]] end
    else
      nc = nc + 1
      cols[nc] = it[4]
      for a = 1, it[2] do newpos[pos + a - 1] = n + a end
      n = n + it[2]
    end
    pos = pos + it[2]
  end
  -- the joined eager columns after
  for _, j in ipairs(joins) do
    if not j.ce then
      for a, node in ipairs(j.cols) do
        n, nc = n + 1, nc + 1
        cols[nc] = node
        newpos[j.colpos[a]] = n
      end
    end
  end
  local function remap(list)
    local out = {}
    for i, p in ipairs(list) do out[i] = p > 0 and newpos[p] or p end
    return out
  end
  for _, e in ipairs(ents) do
    local m = e.mapper
    if m then
      local colpos, pkpos = e.colpos, e.pkpos
      if not colpos and #ents == 1 then
        colpos, pkpos = m.colpos, pkpos or m.pk_index
      elseif not colpos then
        colpos, pkpos = {}, {}
        for a = 1, m.nattrs do colpos[a] = e.pos + a - 1 end
        for a, idx in ipairs(m.pk_index) do pkpos[a] = e.pos + idx - 1 end
      end
      e.colpos, e.pkpos = remap(colpos), remap(pkpos)
    end
    e.pos = newpos[e.pos]
  end
  for _, j in ipairs(joins) do
    j.colpos, j.pkpos = remap(j.colpos), remap(j.pkpos)
    j.pk1 = j.pkpos[1]
  end
  local new = stmt:with_only_columns(table.unpack(cols, 1, nc))
  stmt_opts[new] = stmt_opts[stmt]
  return new
end

local function add_joins(stmt, paths, width, ents)
  local items = ents and C.select_items(stmt)
  local joins = {}
  local names = {}
  local orders = {}
  local root = paths.root_table
  local outer, sub, nested_width = wrap_limited(stmt, paths, width)
  if outer then stmt, root, width = outer, sub, nested_width end
  local rm = paths.root_mapper or paths[1][1].rel.parent
  -- (an aliased with_polymorphic entity gives its own: orm/inheritance.lua)
  local root_sel = not outer and paths.root_sel or
                   sel_of({{rm.local_table, root}}, root)
  -- the eager loads in the order of the mapper's properties, whatever
  -- the order of the options (a stable sort: insertion)
  do
    local order = {}
    for i, path in ipairs(paths) do
      local d, q = prop_rank(rm, path[1].rel)
      order[i] = {path, d, q, i}
    end
    table.sort(order, function(x, y)
      if x[2] ~= y[2] then return x[2] < y[2] end
      if x[3] ~= y[3] then return x[3] < y[3] end
      return x[4] < y[4]
    end)
    for i, o in ipairs(order) do paths[i] = o[1] end
  end
  -- (the joins of a prefix several paths share, made once: the plan's
  -- default loads grow a path into several)
  local built = {}
  for pi, path in ipairs(paths) do
    local copy = table.move(path, 1, #path, 1, {})
    local parent_sel, parent_join, inner = root_sel, nil, true
    local pending = {}
    -- this path's joins, emitted at the end: an inner step after an outer
    -- one is nested into it (LEFT OUTER JOIN (b JOIN c ON ..) ON ..), as
    -- SQLAlchemy writes it, so that the inner join cannot drop the rows
    -- the outer join keeps
    local links = {}
    local k = 1
    while copy[k] do
      local step = copy[k]
      local r = step.rel
      if step.strategy == "contains_eager" then
        local tt = r.target.local_table
        local sel = sel_of({{tt, step.alias or tt}}, step.alias or tt)
        joins[#joins + 1] = {rel = r, parent = parent_join, ce = true}
        pending[#pending + 1] = {join = joins[#joins], sel = sel}
        parent_join, parent_sel = #joins, sel
        copy[k] = {rel = r, strategy = "joined", done = true}
      elseif step.strategy == "joined" and step.of_type and parent_sel and
             of_type_join(r, step.of_type) then
        -- joinedload(rel:of_type(Subclass)): the target's and the
        -- subclass's tables in an anonymous subquery, outer joined
        if not step.of_type.class and not step.of_type.wp then
          raise("InvalidRequestError", "Detected unaliased columns when " ..
                  "generating joined load.  Make sure to use aliased=True " ..
                  "or flat=True when using joined loading with " ..
                  "with_polymorphic().")
        end
        local oj = of_type_join(r, step.of_type)
        local want = step.innerjoin
        if want == nil then want = r.options.innerjoin end
        local outer_before = not inner
        inner = inner and want or false
        local on = on_between(r, parent_sel, oj.sel)
        links[#links + 1] = {target = oj.sq, on = on, inner = inner,
                             nested = outer_before and want and
                                      want ~= "unnested" and #links > 0}
        if r.order_by then orders[#orders + 1] = order_on(r, oj.sel) end
        joins[#joins + 1] = {rel = r, parent = parent_join}
        pending[#pending + 1] = {join = joins[#joins], sel = oj.sel,
                                 step = step, oft = oj}
        parent_join, parent_sel = #joins, oj.sel
        copy[k] = {rel = r, strategy = "joined", done = true}
      elseif step.strategy == "joined" and not step.of_type and
             built[step_key(copy, k)] then
        local b = built[step_key(copy, k)]
        parent_join, parent_sel, inner = b.join, b.sel, b.inner
        copy[k] = {rel = r, strategy = "joined", done = true}
      elseif step.strategy == "joined" and joinable_here(r) and
             parent_sel then
        local tt = r.target.local_table
        -- an alias of each of the target's tables, joined as its mapper
        -- joins them
        local tl, apairs = tables_of(r.target), {}
        for q, t in ipairs(tl) do apairs[q] = {t, alias_of(names, t)} end
        local tsel = sel_of(apairs, apairs[1][2])
        local a = apairs[1][2]
        for q = 2, #tl do
          a = a:join(apairs[q][2], inherit_on(r.target, q, tsel))
        end
        local want = step.innerjoin
        if want == nil then want = r.options.innerjoin end
        local outer_before = not inner
        inner = inner and want or false
        local target, on, parts
        if r.secondary then
          local sa_ = alias_of(names, r.secondary)
          local on2
          for _, p in ipairs(r.sec_remote) do
            local cond = col_in(tsel, p[3]):eq(sa_.c[p[1].key])
            on2 = on2 and sa.and_(on2, cond) or cond
          end
          local ssel = sel_of({{r.secondary, sa_}})
          if r.secondaryjoin then
            on2 = adapt_on(r.secondaryjoin, tsel, ssel)
          end
          target = sa_:join(a, on2)
          if r.primaryjoin then
            on = adapt_on(r.primaryjoin, parent_sel, ssel)
          end
          for _, p in ipairs(r.primaryjoin and {} or r.sec_local) do
            local cond = col_in(parent_sel, p[3]):eq(sa_.c[p[1].key])
            on = on and sa.and_(on, cond) or cond
          end
          parts = {{sa_, on}, {a, on2}}
        elseif r.primaryjoin and not r.self_ref then
          -- the condition as given, on the aliases (SQLAlchemy's form)
          target = a
          on = adapt_on(r.primaryjoin, tsel, parent_sel)
        else
          target, on = a, on_between(r, parent_sel, tsel)
        end
        -- a single-table subclass: its discriminator values in the ON
        local crit = I.single_criterion and I.single_criterion(r.target)
        if crit then on = sa.and_(on, adapt_on(crit, tsel)) end
        links[#links + 1] = {target = target, on = on, inner = inner,
                             parts = parts,
                             nested = outer_before and want and
                                      want ~= "unnested" and #links > 0}
        if r.order_by then orders[#orders + 1] = order_on(r, tsel) end
        joins[#joins + 1] = {rel = r, parent = parent_join}
        pending[#pending + 1] = {join = joins[#joins], sel = tsel, step = step}
        parent_join, parent_sel = #joins, tsel
        if not step.of_type then
          built[step_key(copy, k)] = {join = parent_join, sel = tsel,
                                      inner = inner}
        end
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
    stmt = emit_links(stmt, links)
    stmt, width = add_cols(stmt, pending, width)
    for j = k + 1, #copy do
      if copy[j].strategy == "joined" and not joinable_here(copy[j].rel) then
        copy[j] = {rel = copy[j].rel, strategy = "selectin"}
      end
    end
    paths[pi] = copy
  end
  for _, ob in ipairs(orders) do stmt = stmt:order_by(table.unpack(ob)) end
  if ents and not outer then stmt = ce_first(stmt, ents, joins, items) end
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
      -- (a collection's placed table is made sized for the rows, in C)
      seen, placed = {}, not r.uselist and {} or nil
      j.seen, j.placed = seen, placed
    end
    local got = gots and gots[ji]
    if got then
      -- made with the rows
    elseif j.at then
      got = {}
      I.load_positions(s, r.target, rows, j.at, got)
    elseif r.target.polymorphic_map then
      -- each row's class by its discriminator (see inheritance.lua)
      got = {}
      I.load_joined_polymorphic(s, r.target, rows, j.colpos, got)
    else
      got = {}
      C.load(rows, 1, #rows, r.target.class, r.target.mt, r.target.nattrs,
             j.colpos, j.pkpos, idmap_for(s, r.target), s.id, false, got, 0,
             true)
      if j.optdeferred then
        local list = {}
        for i = 1, #rows do if got[i] then list[#list + 1] = got[i] end end
        I.mark_deferred(list, j.optdeferred)
      end
    end
    got_of[ji] = got
    local owners = j.parent and got_of[j.parent] or parents
    local pm = r.parent
    if pm.inherits or pm.polymorphic_map then
      -- (a subclass's relationship of a with_polymorphic's rows: the
      -- objects of other classes get nothing)
      local mine
      for i = 1, nrows do
        local p = owners[i]
        if p and not I.isa(I.mapper_of(p), pm) then
          mine = mine or table.move(owners, 1, nrows, 1, {})
          mine[i] = false
        end
      end
      owners = mine or owners
    end
    local uselist = r.uselist
    if uselist then
      -- (row by row in C; a parent's collection is set up here)
      local plain = j.plain
      if plain == nil and not r.collection then
        -- a list or set: C makes each parent's collection
        plain = {r.key, nilmark[r.key], changekey[r.key], I.OWNER, I.REL,
                 r, r.set and I.SetMT or I.CollMT}
        j.plain = plain
      end
      j.placed = C.fill_collections(owners, got, nrows, seen, placed,
                                    function(p, items)
        if C.extra(p, r.key) == nil and not C.extra(p, nilmark[r.key]) and
           not C.extra(p, changekey[r.key]) then
          local c = new_coll(p, r, items)
          C.extra(p, r.key, c)
          return c
        end
        return false
      end, plain)
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
    local rc = r.remote_cols[k]
    if t then rc = t.c[rc.key] end
    local cond
    if r.direction == "manytoone" then cond = rc:eq(lc)
    else cond = lc:eq(rc) end
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

-- the parent's key columns of r (local_keycols) -> the columns standing
-- for them (lcols), for adapting r's condition
local function keys_map(r, lcols)
  local map = {}
  for i, col in ipairs(local_keycols(r)) do map[C.node_ptr(col)] = lcols[i] end
  return map
end

-- The related rows of step `from` of path for objs (the objects step
-- from-1 loaded) in one statement: the original statement reduced to
-- the first parent's key columns as a subquery (DISTINCT when the first
-- step is many-to-one), joined along aliases of the steps before to the
-- target.  Each row carries the key of the object it belongs to.
local function subquery_load(s, conn, path, from, objs, plan)
  local first, r = path[1].rel, path[from].rel
  local pt = first.parent.local_table
  -- the statement's entity may be an alias (aliased(User, subquery)):
  -- the keys come from it; an anonymous one is numbered after the
  -- subquery around it (anon_2), as SQLAlchemy names it
  local root = plan.root_table or pt
  local rname = pt.name
  local aliased_root = C.node_ptr(root) ~= C.node_ptr(pt)
  if aliased_root then rname = root.name or "anon_2" end
  -- (an aliased with_polymorphic entity: the keys of its selectable)
  local wp_sel = not aliased_root and plan.root_sel
  local inner, keynames, wp_keys = {}, {}, {}
  -- (an alias of the entity's own columns, a union's subquery: the keys
  -- are its columns, labelled <alias>_<column> when compiled, as their
  -- names may be known only then)
  local e = aliased_root and I.aliased_entry and
            I.aliased_entry(C.node_ptr(root))
  local late = e and e.labels and e.mapper == first.parent
  for k, col in ipairs(local_keycols(first)) do
    keynames[k] = rname .. "_" .. col.name
    local c = col
    if late then c = I.alias_col(e, col)
    elseif aliased_root then c = root.c[col.name] end
    if wp_sel then c, keynames[k] = I.wp_subquery_key(wp_sel, col) end
    inner[k], wp_keys[k] = late and c or c:label(keynames[k]), c
  end
  local sub = C.select_unordered(plan.stmt):with_only_columns(
    table.unpack(inner))
  if late then
    sub = sub:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  end
  if first.direction == "manytoone" or
     (wp_sel and I.wp_subquery_distinct(wp_keys)) then
    sub = sub:distinct()
  end
  -- (anonymous when the entity is an alias too: numbered anon_1 before
  -- the alias inside it)
  -- subqueryload(rel:of_type(Subclass)) of the statement's entity: the
  -- target's and the subclass's tables in a subquery named anon_1, the
  -- keys' anon_2 (as SQLAlchemy numbers them)
  local oj = from == 1 and path[1].of_type and not aliased_root and
             first.direction == "onetomany" and
             of_type_join(first, path[1].of_type, "anon_1")
  -- (a with_polymorphic(): its tables' join as it is, no subquery)
  local plain = oj and not path[1].of_type.class
  local keyname = oj and not plain and "anon_2" or "anon_1"
  if aliased_root or wp_sel then sub = sub:subquery()
  else sub = sub:subquery(keyname) end
  local names = {}
  local lcols = {}
  for k, name in ipairs(keynames) do
    lcols[k] = late and sub.c[k] or sub.c[name]
  end
  local src, src_name = sub, keyname
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
      -- (a class of joined inheritance, the last step: the join of its
      -- tables, the key maybe in an ancestor's table)
      local multi = k == from and #tables_of(rk.target) > 1
      for _, p in ipairs(rk.sec_remote) do
        local cond = (multi and p[3] or t.c[p[3].key]):eq(sec.c[p[1].key])
        on2 = on2 and sa.and_(on2, cond) or cond
      end
      if rk.extra then
        -- the conditions as given, on the subquery's keys and the aliases
        local map = keys_map(rk, lcols)
        local ssel, tsel = sel_of({{rk.secondary, sec}}), sel_of({{tt, t}})
        for _, x in ipairs({ssel, tsel}) do
          for _, q in ipairs(x.list) do
            for _, col in ipairs(q[1].columns) do
              map[C.node_ptr(col)] = q[2].c[col.key]
            end
          end
        end
        if rk.primaryjoin then on1 = C.adapt(rk.primaryjoin, map) end
        if rk.secondaryjoin then on2 = C.adapt(rk.secondaryjoin, map) end
      end
      fromc = fromc:join(sec, on1):join(multi and rk.target.selectable or t,
                                        on2)
    elseif oj then
      local on
      for i, rc in ipairs(rk.remote_cols) do
        local cond = lcols[i]:eq(plain and rc or
                                 oj.sel.map[C.node_ptr(rc.table)].c[rc.key])
        on = on and sa.and_(on, cond) or cond
      end
      fromc = fromc:join(plain and oj.from or oj.sq, on)
    else
      local on = on_from(rk, lcols, k < from and t or nil)
      if rk.extra then
        local map = keys_map(rk, lcols)
        if t ~= tt then
          for _, col in ipairs(tt.columns) do
            map[C.node_ptr(col)] = t.c[col.key]
          end
        end
        on = C.adapt(rk.primaryjoin, map)
      end
      -- a single-table subclass: its discriminator values in the ON
      local crit = I.single_criterion and I.single_criterion(rk.target)
      if crit then
        on = sa.and_(on, k < from and adapt_on(crit, sel_of({{tt, t}})) or
                         crit)
      end
      -- (a class of joined inheritance: the join of its tables)
      fromc = fromc:join(k == from and #tables_of(rk.target) > 1 and
                         rk.target.selectable or t, on)
    end
    if k < from then src, src_name = t, tname end
  end
  -- the target's columns, then the parent key columns
  -- (each labelled by its own table: several for joined inheritance)
  local tm = r.target
  local tcols, rel, nt = tm.attr_columns, tm.colpos, tm.nattrs
  if #tables_of(tm) > 1 then
    tcols, rel = target_cols(tm, sel_of({}))
    nt = #tcols
  end
  local cols = {}
  -- (the path's column options, or the target's own deferred columns
  -- and column_property expressions: its layout)
  local lay = not oj and (I.step_layouts and I.step_layouts[r] or
                          (not tm.polymorphic_map and #tables_of(tm) == 1 and
                           tm.layout)) or nil
  if plain then
    for i, c in ipairs(oj.tcols) do
      cols[i] = c:label(c.table.name .. "_" .. c.name)
    end
  elseif oj then
    for i, c in ipairs(oj.cols) do cols[i] = c:label("anon_1_" .. c.name) end
  elseif lay then
    -- the path's column options: the columns of its layout
    for i, col in ipairs(lay.cols) do
      cols[i] = C.node_kind(col) == "column" and
                col:label(col.table.name .. "_" .. col.name) or col
    end
  else
    for i, col in ipairs(tcols) do
      cols[i] = col:label(col.table.name .. "_" .. col.name)
    end
  end
  local keycols = local_keycols(r)
  for k, col in ipairs(keycols) do
    local c = from == 1 and lcols[k] or src.c[col.key]
    cols[#cols + 1] = from == 1 and late and c or
                      c:label(src_name .. "_" ..
                              (from == 1 and keynames[k] or col.name))
  end
  local stmt = sa.select(table.unpack(cols)):select_from(fromc)
  if from == 1 and late then
    stmt = stmt:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  end
  if r.order_by then
    stmt = stmt:order_by(table.unpack(oj and not plain and
                                      order_on(r, oj.sel) or r.order_by))
  end
  local rows = run(s, conn, stmt, plan.params):all()
  local loaded = {}
  if oj then
    I.load_positions(s, tm, rows, oj.pos, loaded)
  elseif lay then
    C.load(rows, 1, #rows, tm.class, tm.mt, tm.nattrs, lay.colpos, lay.pkpos,
           idmap_for(s, tm), s.id, false, loaded, 0)
  elseif tm.polymorphic_map then
    -- each row's class by its discriminator (see inheritance.lua)
    I.load_joined_polymorphic(s, tm, rows, rel, loaded)
  else
    local pkpos = {}
    for k, idx in ipairs(tm.pk_index) do pkpos[k] = rel[idx] end
    C.load(rows, 1, #rows, tm.class, tm.mt, tm.nattrs, rel, pkpos,
           idmap_for(s, tm), s.id, false, loaded, 0)
  end
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
    for k = 1, nk do vals[k] = row[#cols - nk + k] end
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
        C.extra(o, r.key, new_coll(o, r, l)) -- (new_coll copies l)
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
    if (k < from and st.strategy ~= "subquery" and
                     st.strategy ~= "joined") or
       (st.rel.extra and st.rel.self_ref) or I.is_dynamic(st.rel) or
       -- (joined inheritance: as the last step, many-to-many by its keys)
       (#tables_of(st.rel.target) > 1 and
        (k < from or (st.rel.secondary and st.rel.extra))) then
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
  local multi = #tables_of(tm) > 1
  -- (a many-to-many to a class of joined inheritance: with column options
  -- or a custom condition, the general form)
  if multi and r.secondary and (r.extra or I.step_layouts and
                                I.step_layouts[r]) then
    return nil
  end
  -- a condition beyond column equalities: one-to-many and many-to-many
  -- join from an alias of the parent (SQLAlchemy's form), with the
  -- condition as given
  local extra = r.extra
  if extra and (multi or r.self_ref or r.direction == "manytoone" or
                #r.local_idx ~= 1) then
    return nil
  end
  -- the target's own deferred columns and column_property expressions
  -- (its layout), in the plain form only
  local own = not (I.step_layouts and I.step_layouts[r]) and tm.layout
  if own and (multi or r.secondary or extra or tm.polymorphic_map) then
    return nil
  end
  local cols, colpos, pkpos = {}, {}, {}
  local keypos, stmt = 1, nil
  local function label(sel_name, col)
    return col:label(sel_name .. "_" .. col.name)
  end
  -- the target's columns to load: all, or those of the path's column
  -- options (attribute index, column), in the layout's order
  local lay = I.step_layouts and I.step_layouts[r]
  local load = {}
  if lay then
    for _, i in ipairs(tm.prop_order) do
      if (lay.colpos[i] or 0) > 0 then load[#load + 1] = {i, tm.attr_columns[i]} end
    end
  else
    for i, col in ipairs(tm.attr_columns) do load[i] = {i, col} end
  end
  if r.secondary then
    local pt = r.parent.local_table
    local pa = pt:alias(pt.name .. "_1")
    local sec = r.secondary:alias(r.secondary.name .. "_1")
    local p = r.sec_local[1]
    local pkey = pa.c[p[3].key]
    cols[1] = label(pa.name or (pt.name .. "_1"), pkey)
    if multi then
      -- joined inheritance: the columns of each of the target's tables
      local tcols, rel = target_cols(tm, sel_of({}))
      for _, col in ipairs(tcols) do
        cols[#cols + 1] = label(col.table.name, col)
      end
      for i = 1, tm.nattrs do colpos[i] = rel[i] + 1 end
    else
      for _, e in ipairs(load) do
        cols[#cols + 1] = label(tt.name, e[2])
        colpos[e[1]] = #cols
      end
    end
    local on1, on2
    for _, q in ipairs(r.sec_local) do
      local cond = pa.c[q[3].key]:eq(sec.c[q[1].key])
      on1 = on1 and sa.and_(on1, cond) or cond
    end
    for _, q in ipairs(r.sec_remote) do
      -- (the referenced column may be in an ancestor's table)
      local cond = q[3]:eq(sec.c[q[1].key])
      on2 = on2 and sa.and_(on2, cond) or cond
    end
    if extra then
      local ssel = sel_of({{r.secondary, sec}})
      if r.primaryjoin then
        on1 = adapt_on(r.primaryjoin, sel_of({{pt, pa}}), ssel)
      end
      if r.secondaryjoin then on2 = adapt_on(r.secondaryjoin, ssel) end
    end
    stmt = sa.select(table.unpack(cols))
      :select_from(pa:join(sec, on1):join(multi and tm.selectable or tt, on2))
      :where(pkey:in_(batch))
  elseif extra then
    local pt = r.parent.local_table
    local pa = pt:alias(pt.name .. "_1")
    local pkey = pa.c[r.local_cols[1].key]
    cols[1] = label(pa.name or (pt.name .. "_1"), pkey)
    for _, e in ipairs(load) do
      cols[#cols + 1] = label(tt.name, e[2])
      colpos[e[1]] = #cols
    end
    stmt = sa.select(table.unpack(cols))
      :select_from(pa:join(tt, adapt_on(r.primaryjoin, sel_of({{pt, pa}}))))
      :where(pkey:in_(batch))
  else
    local keycol = r.remote_cols[1]
    local kidx = r.remote_idx[1]
    if own then
      -- the key first (the target's for many-to-one, the foreign key for
      -- one-to-many), then the layout's columns and expressions
      cols[1] = label(tt.name, keycol)
      colpos[kidx] = 1
      for _, i in ipairs(tm.prop_order) do
        if (own.colpos[i] or 0) > 0 and i ~= kidx then
          local col = tm.attr_columns[i]
          cols[#cols + 1] = col and label(tt.name, col) or tm.exprs[i]
          colpos[i] = #cols
        end
      end
    elseif lay and not multi then
      -- the path's column options: the columns they load
      if r.direction == "manytoone" then
        for _, e in ipairs(load) do
          cols[#cols + 1] = label(tt.name, e[2])
          colpos[e[1]] = #cols
        end
        if not colpos[kidx] then
          cols[#cols + 1] = label(tt.name, keycol)
          colpos[kidx] = #cols
        end
        keypos = colpos[kidx]
      else
        cols[1] = label(tt.name, keycol)
        -- (the key orders the rows; an option may leave its attribute out)
        if (lay.colpos[kidx] or 0) > 0 then colpos[kidx] = 1 end
        for _, e in ipairs(load) do
          if e[1] ~= kidx then
            cols[#cols + 1] = label(tt.name, e[2])
            colpos[e[1]] = #cols
          end
        end
      end
    else
      -- the target's columns (of each of its tables for joined
      -- inheritance), labelled <table>_<column>
      local tcols, rel = target_cols(tm, sel_of({}))
      if r.direction == "manytoone" then
        for q, col in ipairs(tcols) do cols[q] = label(col.table.name, col) end
        for i = 1, tm.nattrs do colpos[i] = rel[i] end
        keypos = rel[kidx]
      else
        cols[1] = label(keycol.table.name, keycol)
        local at = {}
        for q, col in ipairs(tcols) do
          if C.node_ptr(col) == C.node_ptr(keycol) then at[q] = 1
          else
            cols[#cols + 1] = label(col.table.name, col)
            at[q] = #cols
          end
        end
        for i = 1, tm.nattrs do colpos[i] = at[rel[i]] end
      end
    end
    stmt = sa.select(table.unpack(cols)):where(keycol:in_(batch))
    if multi then stmt = stmt:select_from(tm.selectable) end
    -- a single-table subclass: its discriminator values
    local crit = I.single_criterion and I.single_criterion(tm)
    if crit then stmt = stmt:where(crit) end
  end
  for i = 1, tm.nattrs do colpos[i] = colpos[i] or 0 end
  for k, idx in ipairs(tm.pk_index) do pkpos[k] = colpos[idx] end
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  local form = {stmt = stmt, colpos = colpos, pkpos = pkpos, keypos = keypos}
  if tm.polymorphic_map then
    -- each row's class by its discriminator (see inheritance.lua)
    form.load = function(s, rows)
      local got = {}
      I.load_joined_polymorphic(s, tm, rows, colpos, got)
      return got
    end
  end
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
    local parent_sel, parent_join = sel_of({}), nil
    for _, step in ipairs(tail) do
      local rr = step.rel
      local a, aname = named(rr.target.local_table)
      local tsel = sel_of({{rr.target.local_table, a}}, a)
      local target, on
      if rr.secondary then
        local sec = named(rr.secondary)
        local on2
        for _, p in ipairs(rr.sec_remote) do
          local cond = a.c[p[3].key]:eq(sec.c[p[1].key])
          on2 = on2 and sa.and_(on2, cond) or cond
        end
        for _, p in ipairs(rr.sec_local) do
          local cond = col_in(parent_sel, p[3]):eq(sec.c[p[1].key])
          on = on and sa.and_(on, cond) or cond
        end
        target = sec:join(a, on2)
      else
        target, on = a, on_between(rr, parent_sel, tsel)
      end
      if step.innerjoin then stmt = stmt:join(target, on)
      else stmt = stmt:outerjoin(target, on) end
      if rr.order_by then orders[#orders + 1] = order_on(rr, tsel) end
      joins[#joins + 1] = {rel = rr, parent = parent_join}
      pending[#pending + 1] = {join = joins[#joins], sel = a, name = aname}
      parent_join, parent_sel = #joins, tsel
    end
    local width = #cols
    for i = #pending, 1, -1 do
      local j, sel, name = pending[i].join, pending[i].sel, pending[i].name
      local jm = j.rel.target
      local jcols = {}
      for a2, col in ipairs(jm.attr_columns) do
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

-- The SELECT of one batch of a selectin load of r narrowed by of_type()
-- to subclass sub, as SQLAlchemy 1.4 writes it: the target's tables and
-- the subclass's outer joined in an anonymous subquery whose columns are
-- labelled <table>_<column>; the key first, then the others in order.
-- nil when this form does not apply (see I.of_type_entity).
local function selectin_of_type_form(r, sub, batch)
  if r.secondary or r.extra or #r.local_idx ~= 1 or r.direction ~= "onetomany"
     or not I.of_type_entity then
    return nil
  end
  local tm = r.target
  local keycol = r.remote_cols[1]
  if sub.wp then
    -- an aliased with_polymorphic: its selectable, the columns labelled
    -- <alias>_<column> as SQLAlchemy writes them
    local info = sub.wp
    local kc = info.map[C.node_ptr(keycol)]
    local out, pos = {kc}, {[C.node_ptr(keycol)] = 1}
    for _, col in ipairs(info.cols) do
      if C.node_ptr(col) ~= C.node_ptr(keycol) then
        out[#out + 1] = info.map[C.node_ptr(col)]
        pos[C.node_ptr(col)] = #out
      end
    end
    local stmt = sa.select(table.unpack(out)):select_from(info.from)
      :where(kc:in_(batch))
      :set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
    if r.order_by then
      local obs = {}
      for q, ob in ipairs(r.order_by) do
        obs[q] = C.adapt(ob, info.map, true)
      end
      stmt = stmt:order_by(table.unpack(obs))
    end
    return {stmt = stmt, keypos = 1,
            load = function(s, rows)
              return I.load_positions(s, tm, rows, pos, {})
            end}
  end
  local cols, from = I.of_type_entity(tm, sub)
  if not cols then return nil end
  if not sub.class then
    -- a with_polymorphic(): its tables joined as they are
    local out, pos = {keycol:label(keycol.table.name .. "_" .. keycol.name)},
                     {[C.node_ptr(keycol)] = 1}
    for _, col in ipairs(cols) do
      if C.node_ptr(col) ~= C.node_ptr(keycol) then
        out[#out + 1] = col:label(col.table.name .. "_" .. col.name)
        pos[C.node_ptr(col)] = #out
      end
    end
    local stmt = sa.select(table.unpack(out)):select_from(from)
      :where(keycol:in_(batch))
    if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
    return {stmt = stmt, keypos = 1,
            load = function(s, rows)
              return I.load_positions(s, tm, rows, pos, {})
            end}
  end
  local inner = {}
  for q, col in ipairs(cols) do
    inner[q] = col:label(col.table.name .. "_" .. col.name)
  end
  local sq = sa.select(table.unpack(inner)):select_from(from):subquery()
  local kname = keycol.table.name .. "_" .. keycol.name
  local outer, pos = {sq.c[kname]}, {}
  for q, col in ipairs(cols) do
    local name = col.table.name .. "_" .. col.name
    if name == kname then pos[C.node_ptr(col)] = 1
    else
      outer[#outer + 1] = sq.c[name]
      pos[C.node_ptr(col)] = #outer
    end
  end
  local labelled = {}
  for q, c in ipairs(outer) do labelled[q] = c:label("anon_1_" .. c.name) end
  local stmt = sa.select(table.unpack(labelled)):where(sq.c[kname]:in_(batch))
  if r.order_by then
    local ob = {}
    for q, col in ipairs(r.order_by) do
      ob[q] = C.node_kind(col) == "column" and col.table and
              sq.c[col.table.name .. "_" .. col.name] or col
    end
    stmt = stmt:order_by(table.unpack(ob))
  end
  return {stmt = stmt, keypos = 1,
          load = function(s, rows)
            return I.load_positions(s, tm, rows, pos, {})
          end}
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
I.selectin_of_type_form = selectin_of_type_form
I.subquery_path = subquery_path
I.fill_joined = fill_joined
I.subquery_load = subquery_load
