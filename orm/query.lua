-- orm/query.lua -- the legacy Query (session:query(...)), a thin layer
-- over select() and ORM results.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local OrmResult = I.OrmResult
local Session = I.Session

------------------------------------------------------------------------
-- the legacy Query
------------------------------------------------------------------------

local Query = {}
Query.__index = Query
Query.__name = "retort.Query"

function Session:query(...)
  local args = table.pack(...)
  -- (a Mapper stands for its class, as in SQLAlchemy's query(mapper))
  for i = 1, args.n do
    if getmetatable(args[i]) == I.Mapper then args[i] = args[i].class end
  end
  return setmetatable({session = self,
                       stmt = sa.select(table.unpack(args, 1, args.n)),
                       entity = args[1], _fresh = args.n == 1,
                       _args = args}, Query)
end

-- (the statement a query runs: below, with enable_eagerloads)
local run_stmt

-- tostring(query): the SQL compiled for the session's bind, as
-- SQLAlchemy's str(query) (the default dialect without one)
function Query:__tostring()
  -- (a statement its options change is labelled as a whole; the
  -- entity columns it adds are plain table columns then)
  local run = run_stmt(self)
  -- (its form as it runs: labelled before the joins go in, so that a
  -- LIMIT's subquery is labelled inside too)
  local form = I.orm_form(
    run:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL))
  local stmt = form and form:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
               or run:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  -- (a form is compiled as it is: compiling it as a select of entities
  -- would add its joins again)
  local bind = self.session.bind
  local eng = bind ~= nil and (bind.engine or bind) or nil
  if form then
    if eng == nil then return tostring(I.raw_compile(stmt)) end
    return tostring(I.raw_compile(stmt, eng))
  end
  if eng == nil then return tostring(stmt) end
  return tostring(stmt:compile(eng))
end

local function gen(q, stmt)
  return setmetatable({session = q.session, stmt = stmt, entity = q.entity,
                       _params = q._params, _lock = q._lock,
                       _adapt = q._adapt, _joined = q._joined,
                       _keys = q._keys, _from_statement = q._from_statement,
                       _crit = q._crit, _limited = q._limited,
                       _autoflush = q._autoflush, _args = q._args,
                       _noassert = q._noassert, _labels = q._labels,
                       _sublabels = q._sublabels, _noeager = q._noeager,
                       _entmap = q._entmap, _ent0 = q._ent0},
                      Query)
end

-- (a query of a union's subquery: the mapped table's columns in what is
-- added to it stand for the subquery's, and a class, or a relationship
-- of one, for the class's entity over the subquery, as SQLAlchemy adapts
-- them)
local function adapted(q, ...)
  local args = table.pack(...)
  if q._adapt then
    local ents = q._entmap
    for i = 1, args.n do
      local a = args[i]
      if C.node_kind(a) then
        -- (into subqueries too: an EXISTS of a relationship's any()
        -- correlates to the subquery's columns)
        args[i] = C.adapt(a, q._adapt, true)
      elseif ents and type(a) == "table" then
        local m = rawget(a, "__mapper__")
        if m and ents[m] then
          args[i] = ents[m]
        elseif getmetatable(a) == I.Rel and ents[a.parent] then
          args[i] = ents[a.parent][a.key]
        end
      end
    end
  end
  return table.unpack(args, 1, args.n)
end

-- join("addresses"): a relationship named by its key on the query's
-- entity, as SQLAlchemy 1.4's legacy Query still takes it; order_by(false)
-- cancels the ordering as order_by(nil) does
local function names_resolved(q, name, ...)
  local first = ...
  if (name == "join" or name == "outerjoin") and type(first) == "string" then
    local ent = q.entity
    local m = type(ent) == "table" and rawget(ent, "__mapper__")
    I.configure()
    if not (m and m.relationships[first]) then
      C.raise("InvalidRequestError", "Entity '" ..
              (m and m.class.__name__ or tostring(ent)) ..
              "' has no property '" .. first .. "'")
    end
    return ent[first], select(2, ...)
  end
  if name == "order_by" and first == false and select("#", ...) == 1 then
    return nil
  end
  return ...
end

-- (criteria after LIMIT or OFFSET would change which rows those count:
-- SQLAlchemy's Query refuses them)
local after_limit = {filter = true, where = true, filter_by = true,
                     order_by = true, group_by = true, having = true,
                     join = true, outerjoin = true}
-- (what get() refuses to run with: criteria, FROMs, joins, grouping)
local criteria = {filter = true, where = true, filter_by = true,
                  join = true, outerjoin = true, select_from = true,
                  group_by = true, having = true}
for _, name in ipairs({"filter", "where", "filter_by", "order_by", "limit",
                       "offset", "join", "outerjoin", "group_by", "having",
                       "distinct", "select_from", "add_columns",
                       "options", "correlate"}) do
  Query[name] = function(q, ...)
    if q._limited and after_limit[name] and not q._noassert then
      local m = name == "where" and "filter" or name
      C.raise("InvalidRequestError", "Query." .. m .. "() being called " ..
              "on a Query which already has LIMIT or OFFSET applied.  " ..
              "Call " .. m .. "() before limit() or offset() are applied.")
    end
    local out = gen(q, q.stmt[name](q.stmt, adapted(q, names_resolved(q,
                                                          name, ...))))
    if criteria[name] then out._crit = true end
    if name == "add_columns" and q._args then
      local args = table.pack(table.unpack(q._args, 1, q._args.n))
      for i = 1, select("#", ...) do
        args.n = args.n + 1
        args[args.n] = select(i, ...)
      end
      out._args = args
    end
    if name == "limit" or name == "offset" then out._limited = true end
    return out
  end
end
-- add_column(col): add_columns of one; add_entity(entity): an entity
-- added to the rows (as SQLAlchemy's, both)
function Query:add_column(col) return self:add_columns(col) end
function Query:add_entity(ent, alias)
  if alias ~= nil then ent = orm.aliased(ent, alias) end
  return self:add_columns(ent)
end
-- reset_joinpoint(): joins always start from the query's first entity
-- here, so nothing to reset
function Query:reset_joinpoint() return gen(self, self.stmt) end
-- autoflush(false): this query's execution skips the session's autoflush
function Query:autoflush(setting)
  local q = gen(self, self.stmt)
  q._autoflush = setting and true or false
  return q
end
-- enable_eagerloads(false): the loader options are not applied, as
-- SQLAlchemy leaves them unprocessed then, and the relationships joined
-- or subquery-loaded by default load lazily (selectin ones still load:
-- SQLAlchemy's switch does not reach them).  A switch of the query, as
-- SQLAlchemy's: what is made of the query later (with_entities, options,
-- a union of it) keeps it, and enable_eagerloads(true) turns it back
function Query:enable_eagerloads(value)
  local q = gen(self, self.stmt)
  q._noeager = not value or nil
  return q
end
-- the statement the query runs: with eager loads off, a copy without
-- its loader options and with the joined ones lazy
local function eager_off(stmt)
  local out = I.plain_methods.add_columns(stmt)
  I.core_tables[out] = I.core_tables[stmt]
  I.select_ents[out] = I.select_ents[stmt]
  I.configure()
  local lazy = {}
  for _, e in ipairs(I.entities_of(out) or {}) do
    local m = e.mapper
    for key, r in pairs(m and m.relationships or {}) do
      if r.lazy == "joined" or r.lazy == "subquery" then
        lazy[#lazy + 1] = orm.lazyload(m.class[key])
      end
    end
  end
  if #lazy > 0 then out = out:options(table.unpack(lazy)) end
  return out
end
function run_stmt(q)
  if q._noeager then return eager_off(q.stmt) end
  return q.stmt
end
-- (a bulk update or delete refuses a query with joins, as SQLAlchemy's)
for _, name in ipairs({"join", "outerjoin", "select_from"}) do
  local plain = Query[name]
  Query[name] = function(q, ...)
    local out = plain(q, ...)
    out._joined = true
    return out
  end
end
local function check_bulk(q)
  if q._joined then
    C.raise("InvalidRequestError", "Can't call Query.update() or " ..
            "Query.delete() when join(), outerjoin(), select_from(), or " ..
            "from_self() has been called")
  end
end

-- an ORM result (a sharded session's merged one, of ORM results, too:
-- orm/ext/horizontal_shard.lua)
local function orm_result(r)
  local mt = getmetatable(r)
  return mt == OrmResult or (mt ~= nil and mt == I.MergedResultMT and
                             r.ents ~= nil)
end

-- the statement a legacy Query runs: its columns labelled
-- <table>_<column>, as SQLAlchemy's Query runs them
local function legacy(stmt)
  return stmt:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
end

-- whether a select item (text, or an expression not a column or label)
-- has no key of its own in a legacy Query
local function unkeyed(it, kind)
  return kind == "text" or (kind == "expression" and it[3] == nil)
end

-- a Core result of the labelled statement keyed as the statement's own
-- columns are (a table column by its key, anything else as it is)
local function rekeyed(stmt, r)
  if not r._with_keys then return r end
  local items = C.select_items(stmt)
  local keys = r.keys and r:keys()
  if not items or not keys then return r end
  local names, pos = {}, 0
  for _, it in ipairs(items) do
    local node, width = it[4], it[2]
    local kind = C.node_kind(node)
    if width == 1 and kind == "column" and node.table then
      names[pos + 1] = node.key
    elseif width == 1 and C.negated_column(node) then
      names[pos + 1] = C.negated_column(node).key
    elseif width > 1 and (kind == "table" or kind == "alias") then
      for j, col in ipairs(node.c) do names[pos + j] = col.key end
    elseif width == 1 and unkeyed(it, kind) then
      -- (SQLAlchemy's legacy Query keys a column by its expression's
      -- key: an unlabelled function or expression has none, so the row
      -- has no name for it, only its position)
      names[pos + 1] = false
    end
    pos = pos + width
  end
  if pos ~= #keys then
    -- (a result that leaves unnamed columns out of its keys: named anew
    -- when every column's name is known)
    for k = 1, pos do if names[k] == nil then return r end end
    return r:_with_keys(names)
  end
  local changed = false
  for k = 1, pos do
    if names[k] == nil then names[k] = keys[k] end
    changed = changed or names[k] ~= keys[k]
  end
  if not changed then return r end
  return r:_with_keys(names)
end

-- an ORM result's entities named as a legacy Query names them: a
-- column by its key, a label or literal column by its name, a function,
-- other expression or text() by none
local function legacy_names(stmt, r)
  local items = C.select_items(stmt)
  if not items then return end
  local ents, changed = {}, false
  for i, e in ipairs(r.ents) do
    ents[i] = e
    if not e.mapper and not e.keyed and e.width == 1 and e.name ~= nil and
       e.item then
      for _, it in ipairs(items) do
        if rawequal(it[4], e.item) or
           C.node_ptr(it[4]) == C.node_ptr(e.item) then
          if unkeyed(it, C.node_kind(it[4])) then
            local copy = {}
            for k, v in pairs(e) do copy[k] = v end
            copy.name = nil
            ents[i], changed = copy, true
          end
          break
        end
      end
    end
  end
  if changed then r.ents = ents end
end

-- session:execute, without autoflush for a query that turned it off
local function execute(q, stmt, params, opts)
  local s = q.session
  if q._autoflush ~= false or s._no_autoflush then
    -- (a Query autoflushes whatever it selects, Tables and literals too,
    -- as SQLAlchemy's does; session:execute only for ORM statements)
    I.autoflush(s)
    return s:execute(stmt, params, opts)
  end
  s._no_autoflush = true
  local ok, r = pcall(s.execute, s, stmt, params, opts)
  s._no_autoflush = false
  if not ok then error(r, 0) end
  return r
end

function Query:_result()
  if self._from_statement then
    local r = execute(self, self.stmt:from_statement(
      self._from_statement), self._params)
    if #r.ents == 1 and r.ents[1].mapper then return r:scalars() end
    return r
  end
  local r = execute(self, legacy(run_stmt(self)), self._params)
  if orm_result(r) and r.ents then legacy_names(self.stmt, r) end
  if not orm_result(r) then
    -- (a sharded session's merged result: each shard's part)
    local parts = type(r) == "table" and rawget(r, "parts")
    if parts then
      for _, p in ipairs(parts) do p.result = rekeyed(self.stmt, p.result) end
      return r
    end
    -- (the keys of a union's columns, while the columns are those)
    if self._keys and r._with_keys and r.keys and
       #r:keys() == #self._keys then
      return r:_with_keys(self._keys)
    end
    if r._with_keys then return rekeyed(self.stmt, r) end
  end
  -- (SQLAlchemy's Query makes rows of entities unique; only a join or a
  -- UNION ALL can repeat them)
  if orm_result(r) and (r.joins or self._adapt) then r = r:unique() end
  if orm_result(r) and #r.ents == 1 and r.ents[1].mapper then
    return r:scalars()
  end
  return r
end
function Query:all() return self:_result():all() end
function Query:first() return self:limit(1):_result():first() end
function Query:one() return self:_result():one() end
function Query:one_or_none() return self:_result():one_or_none() end
-- the first column of the one row (nil for none); several rows are
-- MultipleResultsFound, as SQLAlchemy's Query.scalar
local function one_scalar(r)
  r = r:scalars()
  local ok, v = pcall(r.one, r)
  if ok then return v end
  if type(v) == "table" and v.kind == "NoResultFound" then return nil end
  error(v, 0)
end

function Query:scalar()
  return one_scalar(execute(self, legacy(run_stmt(self)), self._params))
end
function Query:count()
  local sub = legacy(self.stmt):subquery()
  -- (a sharded session's query keeps its shard: set_shard)
  local eo = I.exec_options(self.stmt)
  local shard = eo and (eo._sa_shard_id or eo.shard_id)
  -- (a sharded session's count over several shards: a row from each, so
  -- MultipleResultsFound, as in SQLAlchemy)
  return one_scalar(execute(self,
    sa.select(sa.func.count()):select_from(sub), self._params,
    shard and {shard_id = shard}))
end
-- get(ident): the identity map, else the row by primary key; a query
-- with loader options, populate_existing or with_for_update runs its
-- statement with them (as SQLAlchemy's Query.get)
function Query:get(ident)
  if (self._crit or self._limited or self._from_statement) and
     not self._noassert then
    C.raise("InvalidRequestError", "Query.get() being called on a " ..
            "Query with existing criterion. ")
  end
  local stmt = run_stmt(self)
  if not (I.stmt_opts[stmt] or self._lock) then
    return self.session:get(self.entity, ident)
  end
  local eo = I.exec_options(stmt)
  return I.get_with(self.session, self.entity, ident,
                    {populate_existing = eo and eo.populate_existing,
                     with_for_update = self._lock},
                    legacy(stmt))
end
-- with_for_update([{nowait, read, skip_locked, of}])
function Query:with_for_update(opts)
  local q = gen(self, self.stmt:with_for_update(opts))
  q._lock = opts or true
  return q
end
function Query:execution_options(opts)
  return gen(self, self.stmt:execution_options(opts))
end
-- update(values [, {synchronize_session}]) and delete([...]): a bulk
-- statement with the query's criteria; the number of rows matched
function Query:update(values, opts)
  check_bulk(self)
  -- (the values may be keyed by attribute or Column as well as by name,
  -- as SQLAlchemy's Query.update takes either)
  if type(values) == "table" then
    local named = {}
    local ent = self.entity
    for k, v in pairs(values) do
      if type(k) ~= "string" then
        local ok, key = pcall(function() return k.key end)
        if ok and type(key) == "string" then k = key end
      elseif type(ent) == "table" and rawget(ent, "__mapper__") then
        -- (a name the class does not have, as SQLAlchemy words it)
        local ok, attr = pcall(function() return ent[k] end)
        if not ok or attr == nil then
          C.raise("InvalidRequestError", "Invalid expression type: '" ..
                  k .. "'")
        end
      end
      named[k] = v
    end
    values = named
  end
  local stmt = C.copy_where(sa.update(self.entity), self.stmt):values(values)
  I.orm_marks[stmt] = true -- (an ORM statement: autoflushed, synchronized)
  return self.session:execute(stmt, self._params, opts).rowcount
end
function Query:delete(opts)
  check_bulk(self)
  local stmt = C.copy_where(sa.delete(self.entity), self.stmt)
  I.orm_marks[stmt] = true
  return self.session:execute(stmt, self._params, opts).rowcount
end
-- exists(): EXISTS (SELECT 1 FROM <the query's FROM> ...), for
-- session:query(q:exists()):scalar() or a filter
function Query:exists()
  local stmt = self.stmt:with_only_columns(sa.literal_column("1"))
  local ent = self._ent0 or self.entity
  if type(ent) == "table" and (rawget(ent, "__mapper__") or
                               self._ent0 and I.alias_entry(ent)) or
     C.node_kind(ent) == "table" then
    stmt = stmt:select_from(ent)
  end
  return sa.exists(stmt)
end
-- subquery([name]): the query's statement as a named FROM
-- subquery([name] [, {with_labels}]): with_labels, the columns labelled
-- <table>_<column> as the query runs them
function Query:subquery(name, opts)
  if type(name) == "table" and opts == nil then name, opts = nil, name end
  if type(opts) == "table" and opts.with_labels then
    return legacy(self.stmt):subquery(name)
  end
  return self.stmt:subquery(name)
end
-- cte([name [, opts]]): the query's statement as a CTE, as Select:cte
function Query:cte(...) return self.stmt:cte(...) end
-- with_entities(...): the same criteria, other columns or entities
function Query:with_entities(...)
  if select("#", ...) == 0 then
    -- (SQLAlchemy refuses it when it runs; here at once)
    C.raise("InvalidRequestError", "Query contains no columns with which " ..
            "to SELECT from.")
  end
  local q = gen(self, self.stmt:with_only_columns(adapted(self, ...)))
  q.entity = ...
  q._args = table.pack(...)
  return q
end
function Query:yield_per(n) return self:execution_options{yield_per = n} end
function Query:populate_existing()
  return self:execution_options{populate_existing = true}
end
-- params{...}: values for bindparam()s; a later call adds to (and
-- overrides) the values of the earlier ones, as SQLAlchemy's
function Query:params(p)
  local q = gen(self, self.stmt)
  if type(p) == "table" and type(self._params) == "table" then
    local merged = {}
    for k, v in pairs(self._params) do merged[k] = v end
    for k, v in pairs(p) do merged[k] = v end
    p = merged
  end
  q._params = p
  return q
end
-- union(q...), union_all, intersect, intersect_all, except_, except_all:
-- as SQLAlchemy's Query, the entity selected from the compound of the
-- queries' labelled statements as a subquery; what is added to the
-- query after it (criteria, ordering) is adapted to that subquery
-- the query's entity or columns selected from sub, a subquery of its
-- labelled statement (or of a compound of such): set operations and
-- from_self
local over_subquery
local function set_operation(fname)
  return function(self, ...)
    local others = table.pack(...)
    local stmts = {legacy(self.stmt)}
    for i = 1, others.n do
      local o = others[i]
      local kind = C.node_kind(o)
      if getmetatable(o) == Query then
        stmts[#stmts + 1] = legacy(o.stmt)
      elseif kind == "select" or kind == "compound" then
        -- (a Core statement joins the compound as it is)
        stmts[#stmts + 1] = o
      else
        C.raise("ArgumentError", "Query." .. fname:gsub("_$", "") ..
                "() takes other Query objects or selects")
      end
    end
    return over_subquery(self, fname, function()
      return sa[fname](table.unpack(stmts)):subquery()
    end)
  end
end

-- the query's entities and columns over sub, when each is a class (or
-- aliased class) of one table or a column the subquery selects: nil
-- otherwise.  Each column is found by the place it has in the subquery
-- (names cannot tell a union of a union's apart, nor two classes' ids)
local function general_over_subquery(self, sub)
  local ents = I.entities_of(self.stmt)
  local map = I.subquery_columns(sub)
  if not ents then
    -- (a select of columns alone: each its own item)
    ents = {}
    for i, it in ipairs(C.select_items(self.stmt) or {}) do
      ents[i] = {item = it[4], width = it[2]}
    end
  end
  if #ents == 0 or not map then return nil end
  local outer, adapt = {}, {}
  local keys, sublabels, entmap = {}, {}, {}
  for i, ent in ipairs(ents) do
    local m = ent.mapper
    if m then
      -- (a hierarchy in one table: its rows load as their classes
      -- from the subquery too; one of joined or concrete tables goes
      -- by its columns' labels, in joined_over_subquery)
      if m.concrete or m.inh_tables and #m.inh_tables > 1 then
        return nil
      end
      -- (the classes of a set operation's query share one subquery: each
      -- one's columns on it are kept by its mapper)
      local own = self._sublabels and self._sublabels[m]
      local e = not own and ent.alias and
                I.aliased_entry(C.node_ptr(ent.alias))
      local labels = {}
      for _, col in ipairs(m.attr_columns) do
        local inner = own and own[C.node_ptr(col)] or
                      e and I.alias_col(e, col) or col
        local got = inner and map[C.node_ptr(inner)]
        if not got then return nil end
        labels[C.node_ptr(col)] = got
        adapt[C.node_ptr(col)] = got
        adapt[C.node_ptr(inner)] = got
      end
      outer[i] = orm.aliased(m.class, {alias = sub, _labelled = true,
                                       _labels = labels})
      -- (a class twice: neither is told apart by its mapper)
      sublabels[m] = sublabels[m] == nil and labels or false
      entmap[m] = entmap[m] == nil and outer[i] or false
      keys = nil
    else
      local node = ent.item
      local got = node and ent.width == 1 and map[C.node_ptr(node)]
      if not got then return nil end
      outer[i] = got
      adapt[C.node_ptr(node)] = got
      if keys then keys[i] = node.key end
    end
  end
  -- (what stood for the first subquery's columns stands for these now:
  -- the class's own columns in a union of a union)
  for p, col in pairs(self._adapt or {}) do
    local got = adapt[p] == nil and map[C.node_ptr(col)]
    if got then adapt[p] = got end
  end
  return setmetatable({session = self.session,
                       stmt = sa.select(table.unpack(outer)),
                       entity = outer[1], _params = self._params,
                       _adapt = adapt, _keys = keys,
                       _sublabels = sublabels, _entmap = entmap}, Query)
end

local joined_over_subquery
function over_subquery(self, fname, make_sub)
  local q = general_over_subquery(self, make_sub()) or
            joined_over_subquery(self, fname, make_sub)
  -- (a query without eager loads makes one without them)
  q._noeager = self._noeager
  -- (it selects from a subquery: get(), update() and delete() refuse
  -- it, as SQLAlchemy's)
  q._crit, q._joined = true, true
  -- (what the query selected first, before the subquery: SQLAlchemy's
  -- Query keeps it as its first entity, which exists() selects from)
  local e = self.entity
  if self._ent0 then
    q._ent0 = self._ent0
  elseif type(e) == "table" and (rawget(e, "__mapper__") or
                                 I.alias_entry(e)) then
    q._ent0 = e
  elseif C.node_kind(e) == "column" and e.table and
         I.mappers_by_table[C.node_ptr(e.table)] then
    q._ent0 = e.table
  end
  return q
end

-- the query's one class (of joined inheritance too) or its table
-- columns over the subquery, by the subquery's <table>_<column> labels
function joined_over_subquery(self, fname, make_sub)
  do
    local ent = self.entity
    local m = type(ent) == "table" and rawget(ent, "__mapper__")
    local items = C.select_items(self.stmt)
    local cols = items and #items > 0 and {}
    for i, it in ipairs(items or {}) do
      local node = it[4]
      if not (cols and it[2] == 1 and C.node_kind(node) == "column" and
              node.table and node.table.name) then
        cols = nil
        break
      end
      cols[i] = node
    end
    -- (a query of one entity of an inheritance hierarchy selects its
    -- columns one by one: an entity all the same)
    local ents = m and I.entities_of(self.stmt)
    if ents and #ents == 1 and ents[1].mapper == m and
       (rawget(m, "family") or m.inherits) and not m.concrete then
      cols = nil
    end
    if not (cols or m and not m.inh_tables and not m.single and items and
            #items == 1 and items[1][1] == C.node_ptr(m.local_table) or
            ents and not cols) then
      C.raise("InvalidRequestError", "Query." .. fname:gsub("_$", "") ..
              "() is offered for a query of one mapped class or of " ..
              "table columns")
    end
    local sub = make_sub()
    if cols then
      -- columns: the subquery's, the rows keyed as the query's own
      local adapt, outer, keys = {}, {}, {}
      for i, col in ipairs(cols) do
        outer[i] = sub.c[col.table.name .. "_" .. col.name]
        adapt[C.node_ptr(col)] = outer[i]
        keys[i] = col.key
      end
      return setmetatable({session = self.session,
                           stmt = sa.select(table.unpack(outer)),
                           entity = outer[1], _params = self._params,
                           _adapt = adapt, _keys = keys}, Query)
    end
    local ac = orm.aliased(ent, {alias = sub, _labelled = true})
    local adapt = {}
    local colmap = I.alias_entry(ac).colmap
    if colmap then
      -- (a class of a hierarchy: its columns where the subquery has them)
      for p, col in pairs(colmap) do adapt[p] = col end
    else
      for _, col in ipairs(m.local_table.columns) do
        adapt[C.node_ptr(col)] = sub.c[m.local_table.name .. "_" .. col.name]
      end
    end
    local q = setmetatable({session = self.session, stmt = sa.select(ac),
                            entity = ac, _params = self._params,
                            _adapt = adapt, _entmap = {[m] = ac}}, Query)
    return q
  end
end
for _, fname in ipairs({"union", "union_all", "intersect", "intersect_all",
                        "except_", "except_all"}) do
  Query[fname] = set_operation(fname)
end

-- from_self(...): a query selecting from this one's statement as a
-- subquery: its entity (or the given columns and entities) adapted to it
function Query:from_self(...)
  local stmt = legacy(self.stmt)
  local q = over_subquery(self, "from_self", function()
    return stmt:subquery()
  end)
  local n = select("#", ...)
  if n > 0 then
    q = gen(q, sa.select(adapted(q, ...)))
    q.entity = ...
    q._keys = nil
  end
  q._joined = true
  return q
end

-- value(col): the first row's value of col (nil without rows);
-- values(...): an iterator over the rows of those columns
function Query:value(col)
  local row = self:with_entities(col):_result():first()
  if row == nil then return nil end
  return row[1]
end
-- an iterator over a list, as the Python iterators these methods return
local function iterate(list)
  local i = 0
  return function()
    i = i + 1
    return list[i]
  end
end

function Query:values(...)
  return iterate(self:with_entities(...):all())
end

-- merge_result(list [, {load}]): the objects of another query's results
-- merged into this session (rows: their mapped values each), as
-- SQLAlchemy's Query.merge_result
function Query:merge_result(items, opts)
  local s = self.session
  local load = not (type(opts) == "table" and opts.load == false)
  -- (the class of a mapped object, else nil: Rows and plain values
  -- have none)
  local function class_of(v)
    local ok, cls = pcall(function() return v.__class__ end)
    return ok and cls or nil
  end
  local function merged(v)
    local cls = class_of(v)
    if type(cls) == "table" and rawget(cls, "__mapper__") then
      return s:merge(v, {load = load})
    end
    return v
  end
  local out = {}
  for i, item in ipairs(items) do
    if class_of(item) ~= nil then
      out[i] = merged(item)
    elseif type(item) == "table" or type(item) == "userdata" then
      local row = {}
      for j = 1, #item do row[j] = merged(item[j]) end
      out[i] = row
    else
      out[i] = item
    end
  end
  return iterate(out)
end

-- instances(result): the query's entities loaded from the rows of a
-- result run elsewhere (its columns found by name, or by
-- <table>_<column> as a legacy Query labels them)
function Query:instances(result)
  local fs = self.stmt:from_statement(sa.text("instances"))
  fs.result = result
  local r = I.exec_from_statement(self.session, fs, self._params)
  if #r.ents == 1 and r.ents[1].mapper then r = r:scalars() end
  return iterate(r:all())
end

-- with_parent(obj [, attr]): the rows related to obj through attr, or
-- through obj's relationship to this query's entity
function Query:with_parent(obj, attr)
  if attr == nil then
    local cls = obj.__class__
    local pm = cls and rawget(cls, "__mapper__")
    local ent = self.entity
    local m = type(ent) == "table" and rawget(ent, "__mapper__")
    I.configure()
    for key, r in pairs(pm and pm.relationships or {}) do
      if m and r.target == m then
        attr = cls[key]
        break
      end
    end
    if attr == nil then
      C.raise("InvalidRequestError", "Could not locate a property which " ..
              "relates instances of class '" ..
              (m and m.class.__name__ or "?") .. "' to instances of " ..
              "class '" .. (cls and cls.__name__ or "?") .. "'")
    end
  end
  return self:filter(orm.with_parent(obj, attr))
end

-- the statement as a scalar subquery (as_scalar, its older name) or a
-- labelled one, for use inside another statement
function Query:scalar_subquery() return self.stmt:scalar_subquery() end
Query.as_scalar = Query.scalar_subquery
function Query:label(name) return self.stmt:scalar_subquery():label(name) end

-- with_polymorphic(classes [, {selectable}]): the query's class loaded
-- with the columns of those subclasses ("*": all of them), as
-- select(orm.with_polymorphic(cls, classes)); before any criteria or
-- ordering, as SQLAlchemy's
function Query:with_polymorphic(classes, opts)
  local limited, order = C.select_order(self.stmt)
  local ordered = limited ~= nil and (order == nil or #order > 0)
  if (self._crit or self._limited or ordered) and not self._noassert then
    C.raise("InvalidRequestError", "Query.with_polymorphic() being called " ..
            "on a Query with existing criterion. ")
  end
  local ent = self.entity
  if not (type(ent) == "table" and rawget(ent, "__mapper__")) then
    C.raise("InvalidRequestError", "Query.with_polymorphic() is offered " ..
            "for a query of one mapped class")
  end
  local wp = orm.with_polymorphic(ent, classes, opts)
  local q = gen(self, sa.select(wp))
  q.entity = ent
  return q
end

-- enable_assertions(false): criteria after LIMIT, and get() of a query
-- with criteria, allowed (get() then loads by primary key alone)
function Query:enable_assertions(value)
  local q = gen(self, self.stmt)
  q._noassert = not value
  return q
end
-- with_labels(): query.statement labelled <table>_<column> too
function Query:with_labels()
  local q = gen(self, self.stmt)
  q._labels = true
  return q
end
-- with_session(session): the same query for another session
function Query:with_session(session)
  local q = gen(self, self.stmt)
  q.session = session
  return q
end

-- what column_descriptions says of one of the query's entities or
-- columns: {name, type, aliased, expr, entity}
local function describe(x)
  if type(x) == "table" and rawget(x, "__mapper__") then
    return {name = x.__name__, type = x, aliased = false, expr = x,
            entity = x}
  end
  local e = type(x) == "table" and I.alias_entry(x)
  if e then
    local cls = e.mapper.class
    return {name = e.key, type = cls, aliased = true,
            expr = x, entity = x}
  end
  local function field(k)
    local ok, v = pcall(function() return x[k] end)
    if ok then return v end
  end
  local tbl = field("table")
  local m = tbl and C.node_kind(tbl) and I.mappers_by_table[C.node_ptr(tbl)]
  local name = field("key")
  if type(name) ~= "string" then
    -- (a label's name: what a select of it names its column)
    local items = C.node_kind(x) and C.select_items(sa.select(x))
    name = items and items[1] and items[1][3]
  end
  return {name = type(name) == "string" and name or nil, type = field("type"),
          aliased = false, expr = x, entity = m and m.class or nil}
end

-- query.statement (the select, unlabelled, as SQLAlchemy's),
-- query.whereclause (its WHERE, nil without one) and
-- query.column_descriptions
local properties = {
  statement = function(q)
    if q._from_statement then return q._from_statement end
    if q._labels then return legacy(run_stmt(q)) end
    return run_stmt(q)
  end,
  whereclause = function(q) return C.where_of(q.stmt) end,
  column_descriptions = function(q)
    local out = {}
    local args = q._args or table.pack(q.entity)
    for i = 1, args.n do out[i] = describe(args[i]) end
    return out
  end,
}
Query.__index = function(q, k)
  local m = Query[k]
  if m ~= nil then return m end
  local p = properties[k]
  if p then return p(q) end
end

-- from_statement(stmt): the query's entities loaded from the rows of
-- stmt (text(), a select), as select(...):from_statement(stmt)
function Query:from_statement(stmt)
  local q = gen(self, self.stmt)
  q._from_statement = stmt
  return q
end

-- Python's query[a:b], as SQLAlchemy's Query.slice(start, stop)
function Query:slice(start, stop)
  return self:offset(start):limit(stop - start)
end
-- `for x in query do`: the rows (or objects) of all()
function Query:__call()
  if not self._rows then self._rows, self._i = self:all(), 0 end
  self._i = self._i + 1
  return self._rows[self._i]
end

-- for the other files of the ORM
I.Query = Query

------------------------------------------------------------------------
-- orm.join(left, right [, onclause [, {isouter}]]) and orm.outerjoin:
-- a join of mapped classes, aliases or tables whose ON clause may be a
-- relationship (as SQLAlchemy's orm.join)
------------------------------------------------------------------------

local function from_of(x)
  if type(x) == "table" then
    local m = rawget(x, "__mapper__")
    if m then return m.local_table end
    local e = I.alias_entry(x)
    if e then return e.alias end
  end
  return x
end

local function orm_join(left, right, onclause, isouter)
  local l, r = from_of(left), from_of(right)
  if C.node_kind(l) == nil or C.node_kind(r) == nil then
    C.raise("ArgumentError", "join(): expected mapped classes, aliased " ..
            "classes or selectables")
  end
  local function j(a, b, on)
    if isouter then return a:outerjoin(b, on) end
    return a:join(b, on)
  end
  if getmetatable(onclause) == I.Rel then
    local rel = onclause
    I.configure()
    local t = I.alias_entry(right) and right or nil
    if rel.secondary then
      local sec, on1, on2 = I.sec_alias_on(rel, t)
      return j(j(l, sec, on1), r, on2)
    end
    onclause = I.rel_on(rel, t)
  end
  return j(l, r, onclause)
end

function orm.join(left, right, onclause, opts)
  return orm_join(left, right, onclause, type(opts) == "table" and
                  opts.isouter or opts == true)
end
function orm.outerjoin(left, right, onclause)
  return orm_join(left, right, onclause, true)
end

------------------------------------------------------------------------
-- select(User):from_statement(stmt): entities loaded from the rows of
-- another statement
------------------------------------------------------------------------
--
-- The statement runs as it is; each column an entity loads is found in
-- its rows by the Column itself (a select or compound of the entity's
-- selects: a UNION of select(Engineer)s has Engineer's columns) or by
-- name (text()), as SQLAlchemy matches them.

local FromStatement = {}
FromStatement.__index = FromStatement
FromStatement.__name = "retort.FromStatement"

local node_methods = getmetatable(sa.literal_column("1")).__methods
node_methods.from_statement = function(sel, stmt)
  local kind = C.node_kind(sel)
  if kind ~= "select" or not I.entities_of(sel) then
    C.raise("ArgumentError", "from_statement() is offered for a select " ..
            "of mapped entities, such as select(User)")
  end
  local sk = C.node_kind(stmt)
  if sk ~= "select" and sk ~= "compound" and sk ~= "text" then
    C.raise("ArgumentError", "from_statement(): expected a select, a " ..
            "compound select or text(), not " .. (sk or type(stmt)))
  end
  return setmetatable({select = sel, statement = stmt}, FromStatement)
end

function FromStatement:__tostring() return tostring(self.statement) end
function FromStatement:compile(...) return self.statement:compile(...) end
function FromStatement:options(...)
  return setmetatable({select = self.select:options(...),
                       statement = self.statement}, FromStatement)
end
function FromStatement:execution_options(o)
  return setmetatable({select = self.select:execution_options(o),
                       statement = self.statement}, FromStatement)
end

-- the column nodes a select's rows have, in order
local function row_columns(stmt)
  local out = {}
  for _, it in ipairs(C.select_items(stmt) or {}) do
    local node = it[4]
    local kind = C.node_kind(node)
    if it[2] > 1 or kind == "table" or kind == "alias" then
      for _, col in ipairs(node.c) do out[#out + 1] = col end
    else
      out[#out + 1] = node
    end
  end
  return out
end

-- the name a result gives a column node
local function node_name(node)
  local ok, name = pcall(function() return node.name end)
  return ok and type(name) == "string" and name or nil
end

-- the entities of `ents`, copied, reading their columns at the positions
-- `remap` gives (old row position -> the statement's, 0 for none)
local function moved_entities(ents, remap)
  local out = {}
  for k, e in ipairs(ents) do
    local c = {}
    for key, v in pairs(e) do c[key] = v end
    local m = e.mapper
    if e.load and e.at then
      -- (an entity of a hierarchy: its columns' positions by Column, and
      -- its layouts per class made anew from them)
      c.at, c.layouts = {}, {}
      for p, q in pairs(e.at) do c.at[p] = remap[q] or 0 end
      if e.at_name then
        c.at_name = {}
        for name, q in pairs(e.at_name) do c.at_name[name] = remap[q] or 0 end
      end
      if e.dpos then c.dpos = remap[e.dpos] or 0 end
      c.load = function(...) return I.load_entity(c, ...) end
    elseif m then
      c.colpos, c.pkpos = {}, {}
      for a = 1, m.nattrs do
        local q = e.colpos and e.colpos[a] or e.pos + a - 1
        c.colpos[a] = q > 0 and remap[q] or 0
      end
      for j, a in ipairs(m.pk_index) do
        local q = e.pkpos and e.pkpos[j] or e.pos + a - 1
        c.pkpos[j] = remap[q] or 0
        if c.pkpos[j] == 0 then
          C.raise("InvalidRequestError", "from_statement(): the statement " ..
                  "has no column for the primary key of " .. tostring(m))
        end
      end
    elseif e.pos then
      c.pos = remap[e.pos] or e.pos
    end
    out[k] = c
  end
  return out
end

function I.exec_from_statement(session, fs, params, opts)
  local sel, stmt = fs.select, fs.statement
  local kind = C.node_kind(stmt)
  local ents = I.entities_of(sel)
  local copies = {}
  for k, e in ipairs(ents) do
    local c = {}
    for key, v in pairs(e) do c[key] = v end
    copies[k] = c
  end
  ents = copies
  local laid = I.apply_layouts(sel, ents)
  local want = row_columns(laid)
  if not fs.result then I.autoflush(session) end
  local eo = I.exec_options(sel, opts)
  -- (Query.instances: the rows of a result already run, by name)
  local core = fs.result or I.run(session, session:connection(), stmt,
                                  params)
  -- where each column is in the statement's rows
  local by_ptr, by_name, twice = {}, {}, {}
  if kind == "text" then
    for i, key in ipairs(core:keys()) do
      if by_name[key] == nil then by_name[key] = i else twice[key] = true end
    end
  else
    for i, node in ipairs(row_columns(C.first_select(stmt))) do
      local p = C.node_ptr(node)
      if by_ptr[p] == nil then by_ptr[p] = i end
      local name = node_name(node)
      if name and by_name[name] == nil then by_name[name] = i end
    end
  end
  local remap = {}
  for i, node in ipairs(want) do
    local p = by_ptr[C.node_ptr(node)]
    local name = node_name(node)
    if fs.result and name and by_name[name] == nil then
      local ok, t = pcall(function() return node.table.name end)
      if ok and t then name = t .. "_" .. name end
    end
    if not p and name and twice[name] then
      -- (two columns of that name: which one is meant is not known)
      if core.close then core:close() end
      local ok, t = pcall(function() return node.table.name end)
      C.raise("InvalidRequestError", "Ambiguous column name '" ..
              (ok and t and t .. "." or "") .. name .. "' in result set " ..
              "column descriptions")
    end
    remap[i] = p or by_name[name] or 0
  end
  ents = moved_entities(ents, remap)
  local plan = ents[1].mapper and I.load_plan(sel, ents[1].mapper)
  if plan then plan.params = params end
  return setmetatable({session = session, ents = ents, core = core,
                       populate = eo and eo.populate_existing and 2 or false,
                       plan = plan, epoch = rawget(session, "_epoch")},
                      I.OrmResult)
end

I.FromStatement = FromStatement
