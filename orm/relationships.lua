-- orm/relationships.lua -- relationship() and backref(), the resolution
-- of a relationship (target, direction, join condition, the foreign key
-- column pairs), the ON clauses of its joins, and its SQL operators
-- (any, has, contains, eq, with_parent).
--
-- Relationships are properties of the mapper resolved the first time
-- they are needed; their loaded values live among an instance's extras,
-- and the flush syncs foreign keys from them.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Mapper = I.Mapper
local configure = I.configure
local hooks = I.hooks
local raise = I.raise

------------------------------------------------------------------------
-- relationships
------------------------------------------------------------------------
--
-- A relationship is a property of the mapper that declares it (and the
-- class attribute of that name, for queries and loader options).  It is
-- resolved by configure() the first time any is needed, once all classes
-- exist: its target, its direction, and the column pairs the flush copies
-- from the referenced ("source") object into the referencing one.
--
-- The loaded value lives among the instance's extras under its key: a
-- collection (a Lua list whose metatable holds the methods) or the
-- related object; a scalar loaded as nil is marked under nilmark[key].
-- What was added and removed since the last flush is kept per object
-- and key under changekey[key]; the session keeps the objects with such
-- changes (s._reldirty) until the flush turns them into foreign key
-- values, association rows and orphan deletions.

local Rel = {}
Rel.__index = Rel
Rel.__name = "retort.Relationship"
Rel.__tostring = function(r) return r.parent.class.__name__ .. "." .. r.key end

local cascade_all = {"save-update", "merge", "refresh-expire", "expunge",
                     "delete"}
local cascade_known = {["save-update"] = true, merge = true,
                       ["refresh-expire"] = true, expunge = true,
                       delete = true, ["delete-orphan"] = true}

-- the order relationships were declared in (a backref's: when made): the
-- order of the mapper's properties, which SQLAlchemy sets eager loads up
-- in
local rel_seq = 0

-- the loader strategies relationship(lazy = ...) names
local lazy_known = {select = true, joined = true, selectin = true,
                    subquery = true, raise = true, raise_on_sql = true,
                    noload = true, dynamic = true, write_only = true,
                    immediate = true}

-- (the words between commas, as SQLAlchemy splits them: every unknown
-- one named, in sorted order)
local function parse_cascade(text)
  local c, bad = {}, {}
  for w in string.gmatch(text or "save-update, merge", "[^,]+") do
    w = w:match("^%s*(.-)%s*$")
    if w == "all" then
      for _, x in ipairs(cascade_all) do c[x] = true end
    elseif cascade_known[w] then
      c[w] = true
    elseif w ~= "none" and w ~= "" and not bad[w] then
      bad[w] = true
      bad[#bad + 1] = w
    end
  end
  if #bad > 0 then
    table.sort(bad)
    for i, w in ipairs(bad) do bad[i] = "'" .. w .. "'" end
    raise("ArgumentError", "Invalid cascade option(s): " ..
          table.concat(bad, ", "))
  end
  return c
end

-- A backref is made at configure time, but its key is an attribute of
-- the target's instances at once (reading it configures): the target's
-- relationship keys get it now, or when the target class is declared.
function hooks.announce_backrefs(m)
  local reg = m.registry
  for _, name in ipairs(reg.backrefs[m.class.__name__] or {}) do
    m.relkeys[name] = true
  end
  reg.backrefs[m.class.__name__] = nil
  for _, r in pairs(m.relationships) do
    local b = r.options.backref
    if b then
      local name = type(b) == "table" and b.name or b
      local arg = r.argument
      local tm = type(arg) == "table" and rawget(arg, "__mapper__")
      if type(arg) == "string" then
        local cls = reg.classes[arg]
        tm = cls and rawget(cls, "__mapper__")
        if not tm then
          reg.backrefs[arg] = reg.backrefs[arg] or {}
          table.insert(reg.backrefs[arg], name)
        end
      end
      if tm then tm.relkeys[name] = true end
    end
  end
end

-- a column named as SQLAlchemy's string arguments name one:
-- "Class.attr" (a class of r's registry), or a column of a table of the
-- MetaData by its key, "table" or "schema.table", then "c.column" (as in
-- SQLAlchemy) or "column"
local function named_column(r, name)
  local parts = {}
  for p in string.gmatch(name, "[^.%s]+") do parts[#parts + 1] = p end
  local first, rest = parts[1], parts[2]
  local cls = #parts == 2 and r.parent.registry and
              r.parent.registry.classes[first]
  if cls and cls[rest] ~= nil then return cls[rest] end
  local tables = r.parent.local_table.metadata.tables
  local t, i = first and tables[first], 2
  if not t and #parts >= 3 then t, i = tables[first .. "." .. rest], 3 end
  if t and parts[i] == "c" and #parts == i + 1 then i = i + 1 end
  local col = t and #parts == i and t.c[parts[i]]
  if col then return col end
  raise("InvalidRequestError", string.format(
    "When initializing mapper %s, expression '%s' failed to locate a " ..
    "name ('%s').", tostring(r.parent), name,
    cls and rest or (t and parts[#parts]) or first or name))
end

-- foreign_keys / remote_side: a column, a list, a function giving
-- either, or a string naming them ("Engineer.mentor_id", "[A.x, A.y]")
local function column_list(x, r)
  if type(x) == "function" then x = x() end
  if x == nil then return nil end
  if type(x) == "string" and r then
    local out = {}
    for name in x:gsub("^%s*%[", ""):gsub("%]%s*$", ""):gmatch("[^,]+") do
      out[#out + 1] = named_column(r, name)
    end
    return out
  end
  if C.node_kind(x) then return {x} end
  return x
end

local function ptrset(cols)
  if not cols then return nil end
  local set = {}
  for _, c in ipairs(cols) do set[C.node_ptr(c)] = true end
  return set
end

-- the attribute index of each column of m, by node
local function colindex(m)
  if not m.colidx then
    m.colidx = {}
    for i, col in ipairs(m.attr_columns) do m.colidx[C.node_ptr(col)] = i end
  end
  return m.colidx
end

-- {fk column, referenced column} for the foreign keys of table `from`
-- that reference table `to` (only those among `only`, when given)
local function fk_pairs(from, to, only)
  local out = {}
  for _, fk in ipairs(from.foreign_keys) do
    local tname, cname = string.match(fk.target_fullname, "^(.*)%.([^.]+)$")
    if tname == to.name or tname == to.fullname then
      if not only or only[C.node_ptr(fk.parent)] then
        out[#out + 1] = {fk.parent, to.c[cname], fk.constraint,
                         con = fk.constraint}
      end
    end
  end
  return out
end

local function same(a, b) return C.node_ptr(a) == C.node_ptr(b) end

-- fk_pairs to a mapper's tables: its own table's, else those to the
-- tables of its ancestors (a class of joined inheritance spans them all)
local function fk_pairs_mapper(from, m, only)
  local out = fk_pairs(from, m.local_table, only)
  if #out > 0 then return out end
  for _, t in ipairs(m.inh_tables or {}) do
    if not same(t, m.local_table) then
      for _, p in ipairs(fk_pairs(from, t, only)) do out[#out + 1] = p end
    end
  end
  return out
end

-- {fk column, referenced column} for the equalities of a join condition:
-- the foreign key side is the one named by foreign_keys, else the one
-- with a ForeignKey to the other, else the one not in a primary key
local function cond_pairs(cond, only)
  local raw, other = C.join_pairs(cond)
  local out = {}
  for _, p in ipairs(raw) do
    local a, b = p[1], p[2]
    local fk_a
    if only then
      fk_a = only[C.node_ptr(a)] and true or false
    else
      fk_a = nil
      for _, fk in ipairs(a.table.foreign_keys) do
        if same(fk.parent, a) and fk.target_fullname ==
           b.table.name .. "." .. b.name then fk_a = true end
      end
      if fk_a == nil then
        for _, fk in ipairs(b.table.foreign_keys) do
          if same(fk.parent, b) and fk.target_fullname ==
             a.table.name .. "." .. a.name then fk_a = false end
        end
      end
      if fk_a == nil then fk_a = not a.primary_key end
    end
    if fk_a then out[#out + 1] = {a, b} else out[#out + 1] = {b, a} end
  end
  return out, other
end

-- {union column, referenced column} for the foreign keys to table `to`
-- of the tables of union mapper um's classes (each column once)
local function union_pairs(um, to, only)
  local out, seen, pj = {}, {}, um.local_table
  for _, sub in ipairs(um.subclasses or {}) do
    for _, p in ipairs(fk_pairs(sub.local_table, to, nil)) do
      local col = pj.c[p[1].key]
      if col and not seen[p[1].key] and
         (not only or only[C.node_ptr(col)] or only[C.node_ptr(p[1])]) then
        seen[p[1].key] = true
        out[#out + 1] = {col, p[2]}
      end
    end
  end
  return out
end

local function rel_error(r, msg)
  raise("ArgumentError", "relationship " .. tostring(r) .. ": " .. msg)
end

-- SQLAlchemy's error for several foreign-key paths between the tables
local function ambiguous_paths(r)
  raise("AmbiguousForeignKeysError", string.format(
    "Could not determine join condition between parent/child tables " ..
    "on relationship %s - there are multiple foreign key paths " ..
    "linking the tables.  Specify the 'foreign_keys' argument, " ..
    "providing a list of those columns which should be counted as " ..
    "containing a foreign key reference to the parent table.",
    tostring(r)))
end

-- several foreign key constraints link the tables (one of several
-- columns is one path), with no foreign_keys to choose: SQLAlchemy's
-- AmbiguousForeignKeysError
local function check_paths(r, list)
  local first
  for _, p in ipairs(list) do
    if p[3] ~= nil then
      if first == nil then first = p[3]
      elseif not rawequal(first, p[3]) then
        ambiguous_paths(r)
      end
    end
  end
  return list
end

local function resolve_class(r, x)
  if type(x) == "function" then x = x() end
  if type(x) == "string" then
    local cls = r.parent.registry and r.parent.registry.classes[x]
    if cls == nil then
      raise("InvalidRequestError", string.format(
        "When initializing mapper %s, expression '%s' failed to locate a " ..
        "name ('%s'). If this is a class name, consider adding this " ..
        "relationship() to the %s class after both dependent classes " ..
        "have been defined.", tostring(r.parent), x, x,
        tostring(r.parent.class)))
    end
    x = cls
  end
  local m = type(x) == "table" and rawget(x, "__mapper__")
  if getmetatable(x) == Mapper then m = x end
  if not m then rel_error(r, "the target is not a mapped class") end
  return m
end

local function resolve_table(r, x)
  if type(x) == "function" then x = x() end
  if type(x) == "string" then
    local t = r.parent.local_table.metadata.tables[x]
    if not t then rel_error(r, "no table named '" .. x .. "'") end
    return t
  end
  return x
end

-- one term of an order_by given as text, as SQLAlchemy evaluates it
-- among the registry's classes: Class.attr (or a column key of the
-- target), with .desc()/.asc() after it or inside desc()/asc(); nil
-- when it names nothing
local function order_term(r, text)
  local t = text:match("^%s*(.-)%s*$")
  local fn, inner = t:match("^(%a+)%((.*)%)$")
  if fn == "desc" or fn == "asc" then
    local e = order_term(r, inner)
    return e and e[fn](e)
  end
  local base, how = t:match("^(.-)%.(%a+)%(%)$")
  if how == "desc" or how == "asc" then
    local e = order_term(r, base)
    return e and e[how](e)
  end
  local cname, attr = t:match("^([%w_]+)%.([%w_]+)$")
  local cls = cname and r.parent.registry.classes[cname]
  if cls then return rawget(cls, attr) or cls[attr] end
  return r.target.colattrs[t]
end

-- the terms of a text order_by: a list "a, b" (in [] or () or not),
-- split at the commas outside parentheses
local function order_text(r, x)
  local body = x:match("^%s*%[(.*)%]%s*$") or x:match("^%s*%((.*)%)%s*$")
               or x
  local out, depth, start = {}, 0, 1
  for i = 1, #body + 1 do
    local ch = body:sub(i, i)
    if ch == "(" then depth = depth + 1
    elseif ch == ")" then depth = depth - 1
    elseif (ch == "," and depth == 0) or i > #body then
      local piece = body:sub(start, i - 1)
      if piece:match("%S") then
        local e = order_term(r, piece)
        if e == nil then
          raise("InvalidRequestError", string.format(
            "When initializing mapper %s, expression '%s' failed to " ..
            "locate a name ('%s').", tostring(r.parent), x,
            piece:match("^%s*(.-)%s*$")))
        end
        out[#out + 1] = e
      end
      start = i + 1
    end
  end
  return out
end

local function order_list(r, x)
  if type(x) == "function" then x = x() end
  if x == nil or x == false then return nil end
  if type(x) == "string" then return order_text(r, x) end
  if C.node_kind(x) then return {x} end
  local out = {}
  for i, e in ipairs(x) do
    if type(e) == "string" then e = order_text(r, e)[1] end
    out[i] = e
  end
  return out
end

-- index lists for pairs {a col, b col}: positions of a in ma, b in mb
local function pair_indexes(pairs_, ma, mb)
  local ia, ib = {}, {}
  for k, p in ipairs(pairs_) do
    ia[k] = colindex(ma)[C.node_ptr(p[1])]
    ib[k] = colindex(mb)[C.node_ptr(p[2])]
  end
  return ia, ib
end

local function resolve_rel(r)
  local o, m = r.options, r.parent
  local tm = resolve_class(r, r.argument)
  r.target = tm
  r.mapper = tm -- SQLAlchemy's name for the target mapper
  r.viewonly = o.viewonly or false
  -- a viewonly relationship writes nothing and cascades nothing
  r.cascade = r.viewonly and {} or parse_cascade(o.cascade)
  r.lazy = o.lazy or "select"
  if r.lazy == true then r.lazy = "select" end
  if r.lazy == false then r.lazy = "joined" end
  if not lazy_known[r.lazy] then
    raise("LoaderStrategyException", string.format(
      "Can't find strategy (('lazy', %s),) for %s",
      type(r.lazy) == "string" and "'" .. r.lazy .. "'" or tostring(r.lazy),
      tostring(r)))
  end
  r.passive_deletes = o.passive_deletes or false
  r.post_update = o.post_update or false
  r.passive_updates = o.passive_updates ~= false
  local only = ptrset(column_list(o.foreign_keys, r))
  local pt, tt = m.local_table, tm.local_table
  local pj, sj = o.primaryjoin, o.secondaryjoin
  if type(pj) == "function" then pj = pj() end
  if type(sj) == "function" then sj = sj() end
  r.primaryjoin, r.secondaryjoin = pj, sj
  if o.secondary then
    local sec = resolve_table(r, o.secondary)
    r.secondary = sec
    local lp = fk_pairs_mapper(sec, m, only)
    local rp = fk_pairs_mapper(sec, tm, only)
    local other1, other2
    if pj then lp, other1 = cond_pairs(pj, only) end
    if sj then rp, other2 = cond_pairs(sj, only) end
    if other1 or other2 then r.extra = true end
    if pj and sj and same(pt, tt) then
      -- self-referential: the conditions tell the sides apart
    elseif same(pt, tt) then
      rel_error(r, "a self-referential many-to-many needs primaryjoin " ..
                "and secondaryjoin")
    end
    if #lp == 0 or #rp == 0 then
      rel_error(r, "could not determine join condition between parent/" ..
                "child tables through the secondary table")
    end
    r.direction = "manytomany"
    -- {secondary column, referenced column} -> indexes in the mappers
    r.sec_local, r.sec_remote = {}, {}
    for k, p in ipairs(lp) do
      r.sec_local[k] = {p[1], colindex(m)[C.node_ptr(p[2])], p[2]}
    end
    for k, p in ipairs(rp) do
      r.sec_remote[k] = {p[1], colindex(tm)[C.node_ptr(p[2])], p[2]}
    end
    r.local_idx = {}
    for k, q in ipairs(r.sec_local) do r.local_idx[k] = q[2] end
  else
    local otm, mto
    local given, other
    if pj then
      given, other = cond_pairs(pj, only)
      r.extra = other or nil
    end
    if given and not same(pt, tt) then
      otm, mto = {}, {}
      for _, p in ipairs(given) do
        if same(p[1].table, tt) then otm[#otm + 1] = p
        else mto[#mto + 1] = p end
      end
      r.self_ref = nil
    elseif same(pt, tt) then
      local all = given or check_paths(r, fk_pairs(pt, pt, only))
      local remote = ptrset(column_list(o.remote_side, r))
      local to_one = false
      if remote then
        for _, p in ipairs(all) do
          if remote[C.node_ptr(p[2])] then to_one = true end
        end
      end
      if to_one then otm, mto = {}, all else otm, mto = all, {} end
      r.self_ref = true
    elseif tm.abstract_concrete then
      -- to an AbstractConcreteBase: the foreign keys of its subclasses'
      -- tables, as columns of the union
      otm, mto = union_pairs(tm, pt, only), {}
    else
      -- a class of an inheritance hierarchy spans the tables of its
      -- ancestors: a foreign key may be in any of them
      otm, mto = {}, {}
      for _, t1 in ipairs(tm.inh_tables or {tt}) do
        for _, t2 in ipairs(m.inh_tables or {pt}) do
          if not same(t1, t2) then
            for _, p in ipairs(check_paths(r, fk_pairs(t1, t2, only))) do
              otm[#otm + 1] = p
            end
            for _, p in ipairs(check_paths(r, fk_pairs(t2, t1, only))) do
              mto[#mto + 1] = p
            end
          end
        end
      end
    end
    -- (found from the foreign keys: those of more than one constraint,
    -- or both ways, are several paths, and which one is meant?)
    local cons, ncons = {}, 0
    if not given and not only then
      for _, list in ipairs({otm, mto}) do
        for _, p in ipairs(list) do
          local c = p.con or p
          if not cons[c] then cons[c], ncons = true, ncons + 1 end
        end
      end
    end
    if ncons > 1 or (#otm > 0 and #mto > 0) then
      ambiguous_paths(r)
    elseif #otm == 0 and #mto == 0 then
      raise("NoForeignKeysError", string.format(
        "Could not determine join condition between parent/child tables " ..
        "on relationship %s - there are no foreign keys linking these " ..
        "tables.  Ensure that referencing columns are associated with a " ..
        "ForeignKey or ForeignKeyConstraint, or specify a 'primaryjoin' " ..
        "expression.", tostring(r)))
    end
    if #otm > 0 then
      r.direction = "onetomany"
      -- source: the parent (referenced columns); destination: the target
      local fk, ref, lr = {}, {}, {}
      for k, p in ipairs(otm) do
        fk[k], ref[k], lr[k] = p[1], p[2], {p[2], p[1]}
      end
      r.local_idx, r.remote_idx = pair_indexes(lr, m, tm)
      r.remote_cols, r.local_cols = fk, ref
    else
      r.direction = "manytoone"
      local fk, ref = {}, {}
      for k, p in ipairs(mto) do fk[k], ref[k] = p[1], p[2] end
      r.local_idx, r.remote_idx = pair_indexes(mto, m, tm)
      r.remote_cols, r.local_cols = ref, fk
      -- the related object is found by primary key when the referenced
      -- columns are the target's key
      local pk_ok = #ref == #tm.primary_key
      for k, col in ipairs(ref) do
        if C.node_ptr(col) ~= C.node_ptr(tm.primary_key[k]) then pk_ok = false end
      end
      r.pk_lookup = pk_ok
    end
  end
  if o.uselist ~= nil then r.uselist = o.uselist
  else r.uselist = r.direction ~= "manytoone" end
  -- an object on the "many" side has many parents: which one's removal
  -- would make it an orphan?
  if r.cascade["delete-orphan"] and not o.single_parent and
     r.direction ~= "onetomany" then
    raise("ArgumentError", string.format(
      "For %s relationship %s, delete-orphan cascade is normally " ..
      "configured only on the \"one\" side of a one-to-many relationship, " ..
      "and not on the \"many\" side of a many-to-one or many-to-many " ..
      "relationship.  To force this relationship to allow a particular " ..
      "\"%s\" object to be referred towards by only a single \"%s\" " ..
      "object at a time via the %s relationship, which would allow " ..
      "delete-orphan cascade to take place in this direction, set the " ..
      "single_parent=True flag. (Background on this error at: " ..
      "https://sqlalche.me/e/14/bbf0)",
      r.direction == "manytoone" and "many-to-one" or "many-to-many",
      tostring(r), tm.class.__name__, m.class.__name__, tostring(r)))
  end
  local cc = o.collection_class
  if cc == "set" then
    r.set = true
  elseif type(cc) == "table" and rawget(cc, "__collection_class") then
    r.collection = cc -- attribute_keyed_dict(), ordering_list()
  elseif cc ~= nil and cc ~= "list" then
    rel_error(r, "collection_class '" .. tostring(cc) .. "' is not " ..
              "supported (\"list\", \"set\", orm.attribute_keyed_dict(key) " ..
              "and orm.ordering_list(key) are)")
  end
  r.order_by = order_list(r, o.order_by)
  -- a backref becomes a relationship of the target pointing back here
  if o.backref then
    local name, bo = o.backref, {}
    if type(name) == "table" then name, bo = name.name, name.options end
    local opts = {back_populates = r.key}
    for k, v in pairs(bo) do opts[k] = v end
    if r.secondary and opts.secondary == nil then opts.secondary = r.secondary end
    if opts.foreign_keys == nil and o.foreign_keys then
      opts.foreign_keys = o.foreign_keys
    end
    if tm.relationships[name] or tm.slots[name] then
      raise("ArgumentError", string.format(
        "Error creating backref '%s' on relationship '%s': property of " ..
        "that name exists on mapper '%s'", name, tostring(r), tostring(tm)))
    end
    rel_seq = rel_seq + 1 -- (a backref is a property added last)
    hooks.add_relationship(tm, name, {argument = m.class, options = opts,
                                      seq = rel_seq})
    r.back_name = name
  else
    r.back_name = o.back_populates
  end
end

-- relationship(): a specification, made a property of the mapper that
-- declares it (resolved later: see "relationships")
function orm.relationship(target, opts)
  -- (a bad cascade is an error of the call, as in SQLAlchemy, not of the
  -- configuration of every mapper later)
  if type(opts) == "table" and type(opts.cascade) == "string" then
    parse_cascade(opts.cascade)
  end
  rel_seq = rel_seq + 1
  -- (order: its place among the class's declared properties)
  return {__kind = "relationship", argument = target, options = opts or {},
          seq = rel_seq, order = I.creation_order()}
end
-- dynamic_loader(target, opts): relationship(target, opts) with
-- lazy = "dynamic"; relation: relationship's older name
function orm.dynamic_loader(target, opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.lazy = "dynamic"
  return orm.relationship(target, o)
end
orm.relation = orm.relationship

-- backref(name, opts): the other side's options for relationship{backref}
function orm.backref(name, opts)
  return {__kind = "backref", name = name, options = opts or {}}
end

-- column col of the table `sel` stands for, taken from sel (an alias;
-- orm/aliased.lua knows aliased classes over subqueries)
function I.col_of(sel, col) return sel.c[col.key] end

local function rel_on(r, target)
  configure()
  if r.primaryjoin and not target then return r.primaryjoin end
  local on
  for k, lc in ipairs(r.local_cols) do
    local rc = r.remote_cols[k]
    if target then rc = I.col_of(target, rc) end
    -- the referenced column first, as the foreign key declares the join
    local cond = r.direction == "manytoone" and rc:eq(lc) or lc:eq(rc)
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

local function sec_on(list, target, given)
  if given and not target then return given end
  local on
  for _, p in ipairs(list) do
    local col = p[3]
    if target then col = target.c[col.key] end
    local cond = col:eq(p[1])
    on = on and sa.and_(on, cond) or cond
  end
  return on
end

-- a join through a many-to-many's secondary table, as SQLAlchemy writes
-- it: the secondary anonymously aliased (sr_order_item AS
-- sr_order_item_1), both conditions moved onto the alias.  on1 joins the
-- parent (given by parent_on(p) for each sec_local pair, else the
-- relationship's own), on2 the target (tsel, or its table).
local function sec_alias_on(r, tsel, parent_on)
  local sec, map = r.secondary:alias(), {}
  for _, col in ipairs(r.secondary.columns) do
    map[C.node_ptr(col)] = sec.c[col.key]
  end
  local on1, on2
  if parent_on then
    for _, p in ipairs(r.sec_local) do
      local cond = parent_on(p):eq(p[1])
      on1 = on1 and sa.and_(on1, cond) or cond
    end
  else
    on1 = sec_on(r.sec_local, nil, r.primaryjoin)
  end
  if tsel then
    for _, p in ipairs(r.sec_remote) do
      local cond = I.col_of(tsel, p[3]):eq(p[1])
      on2 = on2 and sa.and_(on2, cond) or cond
    end
  else
    on2 = sec_on(r.sec_remote, nil, r.secondaryjoin)
  end
  return sec, C.adapt(on1, map), C.adapt(on2, map)
end

-- whether a join through a secondary is a LEFT OUTER JOIN: SQLAlchemy
-- then nests the secondary's inner join to the target, (secondary JOIN
-- target ON ...) ON ... (a FULL join keeps the flat form)
function I.outer_join(outer, opts)
  if type(opts) == "table" and not C.node_kind(opts) then
    if opts.full then return false end
    if opts.isouter then return true end
  end
  return outer == true
end

-- relationship operators ------------------------------------------------

-- EXISTS (SELECT 1 FROM target WHERE <join> [AND cond])
function Rel:any(cond)
  configure()
  local sub
  if self.secondary and self.target == self.parent and not self.extra then
    -- self-referential many-to-many: aliases of the secondary and of the
    -- table for the related rows, the criterion moved to the latter
    local tt = self.target.local_table
    local a, sec, map = tt:alias(), self.secondary:alias(), {}
    for _, col in ipairs(self.target.attr_columns) do
      map[C.node_ptr(col)] = a.c[col.key]
    end
    sub = sa.select(sa.literal_column("1")):select_from(sec):select_from(a)
    for _, p in ipairs(self.sec_local) do
      sub = sub:where(p[3]:eq(sec.c[p[1].key]))
    end
    for _, p in ipairs(self.sec_remote) do
      sub = sub:where(a.c[p[3].key]:eq(sec.c[p[1].key]))
    end
    if cond ~= nil then sub = sub:where(C.adapt(cond, map, true)) end
    return sub:correlate_except(a, sec):exists()
  elseif self.secondary then
    sub = sa.select(sa.literal_column("1"))
      :select_from(self.secondary):select_from(self.target.local_table)
      :where(sec_on(self.sec_local, nil, self.primaryjoin))
      :where(sec_on(self.sec_remote, nil, self.secondaryjoin))
  elseif self.target == self.parent and not self.primaryjoin then
    -- self-referential: the related rows are an alias of the table, the
    -- criterion's columns taken from it (node_1.data = ?), as SQLAlchemy
    -- adapts it (into its subqueries too: a nested has() correlates to
    -- the alias)
    local tt = self.target.local_table
    local a, map = tt:alias(), {}
    for _, col in ipairs(self.target.attr_columns) do
      map[C.node_ptr(col)] = a.c[col.key]
    end
    sub = sa.select(sa.literal_column("1")):select_from(a)
      :where(rel_on(self, a))
    if cond ~= nil then sub = sub:where(C.adapt(cond, map, true)) end
    return sub:correlate_except(a):exists()
  else
    sub = sa.select(sa.literal_column("1"))
      :select_from(self.target.local_table):where(rel_on(self))
  end
  if cond ~= nil then sub = sub:where(cond) end
  -- the related rows are the subquery's own even when the enclosing
  -- statement joins their table too: it correlates all else, as
  -- SQLAlchemy's correlate_except(target[, secondary])
  if self.secondary then
    return sub:correlate_except(self.target.local_table, self.secondary)
      :exists()
  end
  return sub:correlate_except(self.target.local_table):exists()
end
Rel.has = Rel.any

local function and_all(conds)
  local out
  for _, c in ipairs(conds) do out = out and sa.and_(out, c) or c end
  return out
end

-- User.addresses:contains(a): the parent rows that a refers to
function Rel:contains(obj)
  configure()
  I.check_target(self, obj)
  -- as SQLAlchemy writes them: values bound as param_N, the secondary
  -- table aliased
  local conds = {}
  if self.direction == "onetomany" then
    for k, lc in ipairs(self.local_cols) do
      conds[k] = lc:eq(sa.literal(I.col_value(obj, self.target,
                                              self.remote_idx[k])))
    end
  elseif self.secondary then
    local sec = self.secondary:alias()
    for _, p in ipairs(self.sec_local) do
      conds[#conds + 1] = p[3]:eq(sec.c[p[1].key])
    end
    for _, p in ipairs(self.sec_remote) do
      conds[#conds + 1] = sa.literal(I.col_value(obj, self.target, p[2]))
        :eq(sec.c[p[1].key])
    end
  else
    raise("InvalidRequestError", "'contains' not implemented for " ..
          "scalar attributes.  Use ==")
  end
  return and_all(conds)
end

-- Address.user:eq(u): the rows that refer to u (many-to-one)
function Rel:eq(obj)
  configure()
  -- (a collection or a one-to-one compared to nil: no related row)
  if obj == nil and self.direction ~= "manytoone" then
    return sa.not_(self:any())
  end
  if self.direction ~= "manytoone" then
    raise("InvalidRequestError", "Can't compare a collection to an " ..
          "object or collection; use contains() to test for membership.")
  end
  local conds = {}
  if obj ~= nil then I.refresh_for(obj, self.target, self.remote_idx) end
  for k, lc in ipairs(self.local_cols) do
    if obj == nil then conds[k] = lc:is_(sa.null)
    else
      conds[k] = sa.literal(I.col_value(obj, self.target, self.remote_idx[k]))
        :eq(lc)
    end
  end
  return and_all(conds)
end

-- Address.user:ne(u): the rows that do not refer to u, as SQLAlchemy
-- writes it (a NULL key does not refer to u either); ne(nil): the rows
-- that refer to something
function Rel:ne(obj)
  configure()
  if obj == nil then
    if self.direction ~= "manytoone" then return self:any() end
    local conds = {}
    for k, lc in ipairs(self.local_cols) do conds[k] = lc:isnot(sa.null) end
    return and_all(conds)
  end
  if self.uselist then
    raise("InvalidRequestError", "Can't compare a collection to an " ..
          "object or collection; use contains() to test for membership.")
  end
  I.check_target(self, obj)
  if self.direction ~= "manytoone" then
    -- a one-to-one from the other side: no related row with obj's key
    local conds = {}
    for k, i in ipairs(self.target.pk_index) do
      conds[k] = self.target.primary_key[k]:eq(
        I.col_value(obj, self.target, i))
    end
    return sa.not_(self:any(and_all(conds)))
  end
  local conds = {}
  I.refresh_for(obj, self.target, self.remote_idx)
  for k, lc in ipairs(self.local_cols) do
    local v = I.col_value(obj, self.target, self.remote_idx[k])
    conds[k] = sa.or_(lc:ne(v), lc:is_(sa.null))
  end
  return and_all(conds)
end

-- with_parent(obj, User.addresses): the target rows related to obj
local function with_parent(obj, r, plain_secondary)
  I.check_rel(r, "with_parent")
  configure()
  I.refresh_for(obj, r.parent, r.local_idx)
  -- as SQLAlchemy writes the lazy clause: the parent's value first
  local conds = {}
  if r.secondary then
    -- (the secondary aliased, as SQLAlchemy's with_parent has it; a
    -- dynamic relationship's query keeps the table itself)
    local sec = plain_secondary and r.secondary or r.secondary:alias()
    for _, p in ipairs(r.sec_local) do
      conds[#conds + 1] = sa.literal(I.col_value(obj, r.parent, p[2]))
        :eq(sec.c[p[1].key])
    end
    for _, p in ipairs(r.sec_remote) do
      conds[#conds + 1] = p[3]:eq(sec.c[p[1].key])
    end
  else
    -- (a many-to-one's condition reads remote = value, as its ON
    -- clause puts the referred column first)
    local m2o = r.direction == "manytoone"
    for k, rc in ipairs(r.remote_cols) do
      local v = sa.literal(I.col_value(obj, r.parent, r.local_idx[k]))
      conds[k] = m2o and rc:eq(v) or v:eq(rc)
    end
  end
  return and_all(conds)
end

function orm.with_parent(obj, r) return with_parent(obj, r) end

-- for the other files of the ORM
I.with_parent = with_parent
I.Rel = Rel
I.rel_on = rel_on
I.resolve_rel = resolve_rel
I.sec_on = sec_on
I.sec_alias_on = sec_alias_on
