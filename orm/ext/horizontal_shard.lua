-- orm/ext/horizontal_shard.lua -- horizontal sharding, as SQLAlchemy's
-- sqlalchemy.ext.horizontal_shard: a Session over several engines, one
-- per shard id.
--
--   local hs = orm.ext.horizontal_shard
--   local s = hs.ShardedSession{
--     shards = {east = engine1, west = engine2},
--     shard_chooser = function(mapper, obj, clause) return "east" end,
--     id_chooser = function(query, ident) return {"east", "west"} end,
--     execute_chooser = function(ctx) return {"east", "west"} end,
--   }
--
-- Each object lives on one shard, its identity token: shard_chooser picks
-- it for a new object and the object keeps it (inspect(obj).identity_token,
-- the third item of identity_key).  The flush writes each object on its
-- shard's connection; a statement runs on each shard execute_chooser (or
-- query_chooser) names, or on the one set_shard / execution_options{
-- shard_id} names, and the results are concatenated; get() looks in the
-- identity maps of the shards id_chooser (or identity_chooser) names,
-- then selects on execute_chooser's; a lazy relationship load goes
-- through the same choosers, which see the object's state as
-- lazy_loaded_from (SQLAlchemy 1.4's way: the chooser may keep it to
-- lazy_loaded_from.identity_token); expired attributes load on the
-- object's own shard; a dynamic relationship's queries run on
-- execute_chooser's shards; commit, rollback and begin_nested reach
-- every shard's transaction (one after another: no two-phase commit).
-- execute_chooser gets SQLAlchemy's ORMExecuteState as a table: session,
-- statement, parameters, execution_options, local_execution_options,
-- bind_arguments {mapper, clause}, bind_mapper, all_mappers,
-- is_orm_statement, is_select/is_insert/is_update/is_delete,
-- is_column_load, is_relationship_load, lazy_loaded_from, load_options
-- {lazy_loaded_from, populate_existing, yield_per} (selects) and
-- update_delete_options {synchronize_session} (UPDATE, DELETE).
-- select_comparisons(stmt) lists a WHERE clause's column comparisons,
-- for an execute_chooser that narrows the shards.
--
-- How: the session keeps one set of identity maps per shard and a current
-- shard (s._cur).  Whatever the rest of the ORM does inside a shard --
-- s:connection(), s._idmap, idmap_for -- is that shard's, so the ORM's
-- loading and flush code runs unchanged once per shard.  Results are read
-- inside their shard too (rows become objects as they are fetched).

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Session = I.Session
local SessionMT = I.SessionMT
local TOKEN = I.TOKEN_KEY
local hooks = I.hooks
local mapper_of = I.mapper_of
local raise = I.raise
local session_event = I.session_event
local session_of = I.session_of

------------------------------------------------------------------------
-- the current shard
------------------------------------------------------------------------

-- fn(...) with shard as the session's current shard (nil: none)
local function in_shard(s, shard, fn, ...)
  local prev = s._cur
  if prev == shard then return fn(...) end
  s._cur = shard
  local res = table.pack(pcall(fn, ...))
  s._cur = prev
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- The identity map tables of the current shard.  A mapper's map is found
-- (and made) as on a plain session; pairs() walks every shard's (the
-- session's objects, for expire_all and the like).
local function idmap_proxy(s)
  return setmetatable({}, {
    __index = function(_, m)
      local maps = s._cur ~= nil and s._maps[s._cur]
      return maps and maps[m] or nil
    end,
    __newindex = function(_, m, v)
      if s._cur == nil then
        raise("InvalidRequestError", "This sharded session has no shard " ..
              "chosen for this operation")
      end
      local maps = s._maps[s._cur]
      if not maps then maps = {}; s._maps[s._cur] = maps end
      maps[m] = v
    end,
    __pairs = function()
      local list = {}
      for _, maps in pairs(s._maps) do
        for _, map in pairs(maps) do list[#list + 1] = map end
      end
      local i = 0
      return function()
        i = i + 1
        if list[i] ~= nil then return i, list[i] end
      end
    end,
  })
end

-- The shard an object of this session is on: its token, or the shard
-- whose identity map holds it (the token is then remembered, so a
-- detached object keeps it, as SQLAlchemy's identity key does).
local function token_of(s, obj)
  local t = C.extra(obj, TOKEN)
  if t ~= nil then return t end
  local m = mapper_of(obj)
  local key = I.ident_key(obj, m)
  if key == nil then return nil end
  local base = I.base_of(m)
  for shard, maps in pairs(s._maps) do
    local map = maps[base]
    if map and map[key] == obj then
      C.extra(obj, TOKEN, shard)
      return shard
    end
  end
  return nil
end

local function check_shard(s, shard)
  if shard == nil or s._binds[shard] == nil then
    raise("InvalidRequestError", "No such shard id: " .. tostring(shard))
  end
  return shard
end

-- the shard an object is written to: its own, or shard_chooser's choice,
-- which the object keeps from then on
local function shard_for(s, obj)
  local t = token_of(s, obj)
  if t ~= nil then return t end
  t = check_shard(s, s.shard_chooser(mapper_of(obj), obj, nil))
  C.extra(obj, TOKEN, t)
  return t
end

-- the identity map of obj's shard (a hook of the plain session's add,
-- expunge and rollback: orm/identity.lua idmap_of)
local function idmap_of(s, obj, m)
  local shard = token_of(s, obj)
  if shard == nil then shard = shard_for(s, obj) end
  return in_shard(s, shard, I.idmap_for, s, m)
end

-- inspect(obj).identity_token (orm/inspection.lua)
function I.identity_token(obj)
  local t = C.extra(obj, TOKEN)
  if t ~= nil then return t end
  local s = session_of(obj)
  if s and s._sharded then return token_of(s, obj) end
  return nil
end

------------------------------------------------------------------------
-- connections: one transaction per shard
------------------------------------------------------------------------

-- The session's connection when no shard is current: it commits, rolls
-- back and closes every shard's transaction; a statement needs a shard.
local Multi = {}
Multi.__index = Multi
Multi.__name = "retort.ShardedConnection"

local function no_shard()
  raise("InvalidRequestError", "This sharded session has no shard chosen " ..
        "for this statement")
end
Multi.execute = no_shard
Multi.scalar = no_shard
Multi.scalars = no_shard
Multi.exec_driver_sql = no_shard
Multi._exec_compiled = no_shard

function Multi:commit()
  for _, shard in ipairs(self.order) do self.conns[shard]:commit() end
end

function Multi:rollback()
  local first
  for _, shard in ipairs(self.order) do
    local c = self.conns[shard]
    local ok, err = pcall(c.rollback, c)
    if not ok and first == nil then first = err end
  end
  if first ~= nil then error(first, 0) end
end

function Multi:close()
  for _, shard in ipairs(self.order) do
    local c = self.conns[shard]
    if c ~= self.session._binds[shard] then pcall(c.close, c) end
  end
end

function Multi:in_transaction() return true end

-- A savepoint on every shard: on each connection open now, and on each
-- one opened while it lasts (as SQLAlchemy's nested transaction makes
-- one on each connection it comes to use).
local MultiSavepoint = {}
MultiSavepoint.__index = MultiSavepoint

function MultiSavepoint:add(conn)
  self.sps[#self.sps + 1] = conn:begin_nested()
end

local function end_savepoint(sp, how)
  local levels = sp.multi.levels
  for i = #levels, 1, -1 do
    if levels[i] == sp then table.remove(levels, i) end
  end
  local first
  for _, x in ipairs(sp.sps) do
    local ok, err = pcall(x[how], x)
    if not ok and first == nil then first = err end
  end
  if first ~= nil then error(first, 0) end
end
function MultiSavepoint:commit() end_savepoint(self, "commit") end
function MultiSavepoint:rollback() end_savepoint(self, "rollback") end

function Multi:begin_nested()
  local sp = setmetatable({multi = self, sps = {}}, MultiSavepoint)
  for _, shard in ipairs(self.order) do sp:add(self.conns[shard]) end
  self.levels[#self.levels + 1] = sp
  return sp
end

------------------------------------------------------------------------
-- the sharded session
------------------------------------------------------------------------

local Sharded = {}
local ShardedMT = {__name = "retort.ShardedSession", __close = SessionMT.__close}
ShardedMT.__index = function(s, k)
  local v = Sharded[k]
  if v ~= nil then return v end
  return SessionMT.__index(s, k)
end

-- connection({shard_id}): that shard's connection (its transaction begun
-- on first use); with no shard given, the current one's, or with none
-- current the session's own (commit, rollback, close)
function Sharded:connection(opts)
  self:_check_active()
  local multi = self._conn
  if not multi then
    multi = setmetatable({session = self, conns = {}, order = {},
                          levels = {}}, Multi)
    self._conn = multi
    if #self._txs == 0 then self._txs = {{new = {}, deleted = {}}} end
  end
  -- begin_nested() levels waiting for their first statement: their
  -- savepoints, on every shard (Session:connection's rule)
  if self._sp_pending then I.begin_savepoints(self) end
  local shard = opts and (opts.shard_id or
                          (opts.bind_arguments and opts.bind_arguments.shard_id))
  if shard == nil then shard = self._cur end
  if shard == nil then return multi end
  local conn = multi.conns[shard]
  if conn then return conn end
  local bind = self._binds[check_shard(self, shard)]
  conn = bind.connect and bind:connect() or bind
  if conn ~= bind then conn:begin() end
  multi.conns[shard] = conn
  multi.order[#multi.order + 1] = shard
  session_event(self, "after_begin", nil, conn)
  -- (inside begin_nested(): the savepoints this connection joins)
  for _, sp in ipairs(multi.levels) do sp:add(conn) end
  return conn
end

function Sharded:bind_shard(shard_id, bind)
  if self._binds[shard_id] == nil then
    self._shard_ids[#self._shard_ids + 1] = shard_id
  end
  self._binds[shard_id] = bind
end

-- get_bind({shard_id, instance, mapper}): the engine of a shard
function Sharded:get_bind(opts)
  opts = opts or {}
  local shard = opts.shard_id
  if shard == nil and opts.instance ~= nil then
    shard = shard_for(self, opts.instance)
  elseif shard == nil then
    shard = self.shard_chooser(opts.mapper, nil, opts.clause)
  end
  return self._binds[check_shard(self, shard)]
end

-- The flush writes no statement outside a shard (the session's
-- connection rolls back all of them if a statement fails).
function Sharded:flush()
  return in_shard(self, nil, Session.flush, self)
end

-- objs grouped by shard, the shards in order of first appearance
local function by_shard(s, objs, shard_of)
  local order, groups = {}, {}
  for _, obj in ipairs(objs) do
    local shard = (shard_of or shard_for)(s, obj)
    local g = groups[shard]
    if not g then
      g = {}
      groups[shard] = g
      order[#order + 1] = shard
    end
    g[#g + 1] = obj
  end
  return order, groups
end

local function shard_conn(s, shard)
  return in_shard(s, shard, s.connection, s)
end

-- The flush's statements, each batch split by the shards of its objects
-- and written on each shard's connection (orm/session.lua's flush takes
-- these from s._flush_ops).
local flush_ops = {}

function flush_ops.emit_saves(s, conn, m, sv, syncs, done, all_syncs)
  local ins_order, ins = by_shard(s, sv.ins)
  local upd_order, upd = by_shard(s, sv.upd)
  local order, seen = {}, {}
  for _, list in ipairs({ins_order, upd_order}) do
    for _, shard in ipairs(list) do
      if not seen[shard] then seen[shard] = true; order[#order + 1] = shard end
    end
  end
  for _, shard in ipairs(order) do
    local sub = {ins = ins[shard] or {}, upd = upd[shard] or {}}
    -- the foreign key copies into this shard's objects
    local mine, in_sub = {}, {}
    for _, obj in ipairs(sub.ins) do in_sub[obj] = true end
    for _, obj in ipairs(sub.upd) do in_sub[obj] = true end
    for _, e in ipairs(syncs or {}) do
      if in_sub[e[3]] then mine[#mine + 1] = e end
    end
    in_shard(s, shard, I.emit_saves, s, shard_conn(s, shard), m, sub, mine,
             done, all_syncs)
  end
end

function flush_ops.emit_deletes(s, conn, m, objs, done)
  local order, groups = by_shard(s, objs)
  for _, shard in ipairs(order) do
    in_shard(s, shard, I.emit_deletes, s, shard_conn(s, shard), m,
             groups[shard], done)
  end
end

-- post_update rows: on the shard of the row updated
function flush_ops.emit_post(s, conn, list)
  local order, groups = by_shard(s, list, function(_, e)
    return shard_for(s, e[3])
  end)
  for _, shard in ipairs(order) do
    in_shard(s, shard, I.emit_post, s, shard_conn(s, shard), groups[shard])
  end
end

-- many-to-many association rows: on the shard of the parent side
function flush_ops.emit_assoc(s, conn, list, kind)
  local order, per = {}, {}
  for _, e in ipairs(list) do
    for _, pair in ipairs(e.rows) do
      local shard = shard_for(s, pair[1])
      local lists = per[shard]
      if not lists then
        lists = {}
        per[shard] = lists
        order[#order + 1] = shard
      end
      local sub = lists[e]
      if not sub then
        sub = {rel = e.rel, rows = {}}
        lists[e] = sub
        lists[#lists + 1] = sub
      end
      sub.rows[#sub.rows + 1] = pair
    end
  end
  for _, shard in ipairs(order) do
    in_shard(s, shard, I.emit_assoc, s, shard_conn(s, shard), per[shard],
             kind)
  end
end

-- the flush's outcome entered in each shard's identity map
function flush_ops.apply_flush(s, done)
  local order, per = {}, {}
  local function part(shard)
    local d = per[shard]
    if not d then
      d = {ins = {}, upd = {}, del = {}}
      per[shard] = d
      order[#order + 1] = shard
    end
    return d
  end
  for _, kind in ipairs({"ins", "upd"}) do
    for _, e in ipairs(done[kind]) do
      local o, groups = by_shard(s, e[2])
      for _, shard in ipairs(o) do
        local d = part(shard)
        d[kind][#d[kind] + 1] = {e[1], groups[shard]}
      end
    end
  end
  for _, obj in ipairs(done.del) do
    local d = part(shard_for(s, obj))
    d.del[#d.del + 1] = obj
  end
  for _, shard in ipairs(order) do
    in_shard(s, shard, I.apply_flush, s, per[shard])
  end
  -- (the changes are spent even when no statement was needed)
  if #order == 0 then I.apply_flush(s, {ins = {}, upd = {}, del = {}}) end
end

------------------------------------------------------------------------
-- statements on several shards: the merged result
------------------------------------------------------------------------

-- (one of ORM results answers as an ORM result: the shell prints it so)
local Merged = {}
local MergedMT = {__name = "retort.MergedResult", __index = Merged}
local MergedOrmMT = {__name = "retort.ORMResult", __index = Merged}

local function merged(s, parts)
  local r = {session = s, parts = parts, i = 1}
  local first = parts[1] and parts[1].result
  if type(first) == "table" then
    r.ents, r.joins, r._scalars = first.ents, first.joins, first._scalars
  end
  local count
  for _, p in ipairs(parts) do
    local ok, n = pcall(function() return p.result.rowcount end)
    if ok and math.type(n) == "integer" and n >= 0 then
      count = (count or 0) + n
    end
  end
  r.rowcount = count
  return setmetatable(r, r.ents and MergedOrmMT or MergedMT)
end

-- the next n items (all of them with n nil), each shard's result read
-- inside its shard
local function fetch(r, n)
  local out = {}
  while r.i <= #r.parts and (n == nil or #out < n) do
    local p = r.parts[r.i]
    local want = n and n - #out
    local got = in_shard(r.session, p.shard, function()
      if want then return p.result:fetchmany(want) end
      return p.result:all()
    end)
    table.move(got, 1, #got, #out + 1, out)
    -- (a part may hand out fewer than asked and still have more: unique()
    -- drops repeats; only an empty batch ends it)
    if want == nil or #got == 0 then r.i = r.i + 1 end
  end
  return out
end

-- a new merged result of each part's derived result
local function derive(r, how)
  local parts = {}
  for i, p in ipairs(r.parts) do
    parts[i] = {shard = p.shard, result = in_shard(r.session, p.shard,
                                                   p.result[how], p.result)}
  end
  local out = merged(r.session, parts)
  out.i = r.i
  return out
end

local function single(v)
  if v == sa.null then return nil end
  return v
end

function Merged:all() return fetch(self) end
Merged.fetchall = Merged.all
function Merged:fetchmany(n) return fetch(self, n or 1) end
function Merged:fetchone() return single(fetch(self, 1)[1]) end
function Merged:scalars() return derive(self, "scalars") end
function Merged:unique() return derive(self, "unique") end
function Merged:mappings() return derive(self, "mappings") end
function Merged:close()
  for _, p in ipairs(self.parts) do
    in_shard(self.session, p.shard, p.result.close, p.result)
  end
  self.i = #self.parts + 1
end
I.single_row_methods(Merged, fetch)
function Merged:keys()
  local p = self.parts[1]
  return p and p.result.keys and p.result:keys() or {}
end
function Merged:partitions(size)
  size = size or 1000
  return function()
    local part = fetch(self, size)
    if #part > 0 then return part end
  end
end
-- `for x in result do`
local function call(self)
  if not self._buf or self._bi > #self._buf then
    self._buf, self._bi = fetch(self, 100), 1
    if #self._buf == 0 then return nil end
  end
  local o = self._buf[self._bi]
  self._bi = self._bi + 1
  return o
end
MergedMT.__call, MergedOrmMT.__call = call, call

-- The mapper a statement is about (its first entity's, or the mapper
-- of an UPDATE's or DELETE's table) and every mapper of its entities.
local function mappers_of(stmt, kind)
  if kind == "update" or kind == "delete" or kind == "insert" then
    local ptr = C.dml_info(stmt)
    local m = ptr and I.mappers_by_table[ptr]
    return m, m and {m} or {}
  end
  local ents = kind == "select" and I.entities_of(stmt) or nil
  local all, seen = {}, {}
  for _, e in ipairs(ents or {}) do
    if e.mapper and not seen[e.mapper] then
      seen[e.mapper] = true
      all[#all + 1] = e.mapper
    end
  end
  return all[1], all
end

-- The execution state given to execute_chooser: SQLAlchemy's
-- ORMExecuteState as a table of its values.  lazy is the InstanceState
-- of the object a lazy load is for (nil otherwise).
local function exec_context(s, stmt, kind, eo, opts, params, lazy, about,
                            relload)
  local m, all = mappers_of(stmt, kind)
  if about then m, all = about, {about} end
  local local_eo = {}
  for k, v in pairs(opts or {}) do
    if k ~= "bind_arguments" then local_eo[k] = v end
  end
  local bind_arguments = {mapper = m, clause = stmt}
  for k, v in pairs(opts and opts.bind_arguments or {}) do
    bind_arguments[k] = v
  end
  local is_select = kind == "select" or kind == "compound"
  local is_dml = kind == "update" or kind == "delete"
  return {session = s, statement = stmt, parameters = params or {},
          execution_options = eo or {}, local_execution_options = local_eo,
          bind_arguments = bind_arguments, bind_mapper = m,
          all_mappers = all, is_orm_statement = m ~= nil,
          is_select = is_select, is_insert = kind == "insert",
          is_update = kind == "update", is_delete = kind == "delete",
          is_column_load = false,
          is_relationship_load = lazy ~= nil or relload == true,
          lazy_loaded_from = lazy,
          load_options = is_select and {lazy_loaded_from = lazy,
            populate_existing = eo and eo.populate_existing or false,
            yield_per = eo and eo.yield_per} or nil,
          update_delete_options = is_dml and {synchronize_session =
            eo and eo.synchronize_session or "auto"} or nil}
end

local function shard_list(s, ids, who)
  if type(ids) ~= "table" then
    raise("InvalidRequestError", who .. " must return a list of shard ids")
  end
  for _, id in ipairs(ids) do check_shard(s, id) end
  return ids
end

-- The shards a statement runs on: the one its options name (set_shard,
-- execution_options{shard_id}, bind_arguments{shard_id}), else those
-- execute_chooser (or query_chooser) returns.
local function statement_shards(s, stmt, params, opts, lazy, about,
                                relload)
  local eo = I.exec_options(stmt, opts) or {}
  local shard = eo._sa_shard_id
  if shard == nil then shard = eo.shard_id end
  if shard == nil and opts and opts.bind_arguments then
    shard = opts.bind_arguments.shard_id
  end
  if shard ~= nil then return {check_shard(s, shard)} end
  if s.execute_chooser then
    return shard_list(s, s.execute_chooser(exec_context(
      s, stmt, C.node_kind(stmt), eo, opts, params, lazy, about, relload)),
      "execute_chooser")
  end
  return shard_list(s, s.query_chooser(stmt), "query_chooser")
end

-- execute(stmt, params, opts): on the shard the statement's or opts'
-- shard_id names (set_shard), else on each shard the chooser returns
function Sharded:execute(stmt, params, opts)
  self:_check_active()
  -- inside a shard (a load from an object of that shard): there only
  if self._cur ~= nil then return Session.execute(self, stmt, params, opts) end
  local ids = statement_shards(self, stmt, params, opts, nil)
  local parts = {}
  for i, id in ipairs(ids) do
    parts[i] = {shard = id,
                result = in_shard(self, id, Session.execute, self, stmt,
                                  params, opts)}
  end
  return merged(self, parts)
end

-- fn(result) for each shard's result of stmt, read inside its shard (the
-- rows of a dynamic relationship, of mapper m, become objects of their
-- shard)
local each_result = I.each_result
function I.each_result(s, stmt, fn, m)
  if not s._sharded or s._cur ~= nil then return each_result(s, stmt, fn) end
  for _, id in ipairs(statement_shards(s, stmt, nil, nil, nil, m)) do
    in_shard(s, id, function() fn(Session.execute(s, stmt)) end)
  end
end

-- A selectin load of the objects a shard's result loaded: SQLAlchemy
-- 1.4 runs its statement as any other, on the shards execute_chooser (or
-- query_chooser) names (a relationship load, lazy_loaded_from nil), each
-- shard's rows loaded there, with that shard's token.
local each_load_result = I.each_load_result
function I.each_load_result(s, conn, stmt, m, fn)
  if not s._sharded or s._cur == nil then
    return each_load_result(s, conn, stmt, m, fn)
  end
  for _, id in ipairs(statement_shards(s, stmt, nil, nil, nil, m, true)) do
    in_shard(s, id, function() fn(I.run(s, s:connection(), stmt)) end)
  end
end

-- The shards where an identity may be, in the order to try them: the
-- token given, the current shard, or those id_chooser (identity_chooser)
-- names.  lazy: the InstanceState of the object whose many-to-one is
-- being loaded (the query's lazy_loaded_from).
local function identity_shards(s, m, vals, opts, lazy)
  local token = opts and (opts.identity_token or opts.shard_id)
  if token == nil then token = s._cur end
  if token ~= nil then return {check_shard(s, token)}, true end
  if s.identity_chooser then
    return shard_list(s, s.identity_chooser(m, vals, {
      lazy_loaded_from = lazy, execution_options = {}, bind_arguments = {}}),
      "identity_chooser")
  end
  local q = s:query(m.class)
  q.lazy_loaded_from = lazy
  return shard_list(s, s.id_chooser(q, vals), "id_chooser")
end

-- the SELECT of the object of mapper m with primary key vals, and its
-- parameters (pk_1 ..., as SQLAlchemy names them)
local function pk_select(m, vals)
  local stmt, params = sa.select(m.class), {}
  for k, i in ipairs(m.pk_index) do
    params["pk_" .. k] = vals[k]
    stmt = stmt:where(m.class[m.keys[i]]:eq(sa.bindparam("pk_" .. k,
                                                         vals[k])))
  end
  return stmt, params
end

local function one_or_none(found)
  if #found > 1 then
    raise("MultipleResultsFound", "Multiple rows were found when one or " ..
          "none was required")
  end
  return found[1]
end

-- get(cls, ident [, {identity_token}]): SQLAlchemy 1.4's way -- the
-- identity maps of the shards id_chooser names, then a SELECT by primary
-- key on the shards execute_chooser names (an identity found on two of
-- them is MultipleResultsFound); with an identity_token, or inside a
-- shard (a merge of that shard's object), that shard alone
function Sharded:get(cls, ident, opts)
  local m = type(cls) == "table" and rawget(cls, "__mapper__")
  if not m then
    raise("NoInspectionAvailable", "No inspection system is available " ..
          "for object of type " .. type(cls))
  end
  local vals = type(ident) == "table" and ident or {ident}
  if type(ident) == "table" and not ident[1] then
    vals = {}
    for k, i in ipairs(m.pk_index) do vals[k] = ident[m.keys[i]] end
  end
  local ids, given = identity_shards(self, m, vals, opts, nil)
  local key = I.key_of(m, vals)
  for _, id in ipairs(ids) do
    local maps = self._maps[id]
    local map = maps and maps[I.base_of(m)]
    if map and map[key] ~= nil then
      return in_shard(self, id, Session.get, self, cls, vals)
    end
  end
  if given then return in_shard(self, ids[1], Session.get, self, cls, vals) end
  I.autoflush(self)
  local found = {}
  local stmt, params = pk_select(m, vals)
  for _, id in ipairs(statement_shards(self, stmt, params)) do
    local obj = in_shard(self, id, Session.get, self, cls, vals)
    if obj ~= nil then found[#found + 1] = obj end
  end
  return one_or_none(found)
end

-- merge(obj): obj's counterpart is looked for on obj's own shard (its
-- identity key's token), as are those of the objects merge cascades to
function Sharded:merge(obj, opts)
  local token = C.isinstance(obj) and I.identity_token(obj) or nil
  if token == nil or self._binds[token] == nil then
    return Session.merge(self, obj, opts)
  end
  return in_shard(self, token, Session.merge, self, obj, opts)
end

function Sharded:refresh(obj, ...)
  return in_shard(self, token_of(self, obj), Session.refresh, self, obj, ...)
end

-- every shard's objects expire (commit's expire_on_commit too): the
-- identity maps are per shard, under the proxy the session reads
function Sharded:expire_all()
  for _, maps in pairs(self._maps) do
    C.expire_all(maps, self._dirty, I.expire_rels)
  end
  self._dirty = {}
  self._reldirty = {}
end

function Sharded:expunge_all()
  Session.expunge_all(self)
  self._maps = {}
  self._idmap = idmap_proxy(self)
end

-- Loads from an object: an expired or deferred attribute loads on the
-- object's own shard.  A lazy relationship load is SQLAlchemy 1.4's: a
-- many-to-one looks in the identity maps of the shards id_chooser names
-- (its query's lazy_loaded_from the object's state), and otherwise the
-- SELECT runs on the shards execute_chooser names, given the object's
-- state as lazy_loaded_from (the chooser may keep the load to the
-- parent's shard: lazy_loaded_from.identity_token).
local load_expired, rel_get = hooks.load_expired, hooks.rel_get

-- fn(...) run on obj's shard (orm/expired_load.lua)
function I.in_shard_of(s, obj, fn, ...)
  return in_shard(s, token_of(s, obj) or s._cur, fn, ...)
end

function hooks.load_expired(obj, key)
  local s = session_of(obj)
  if s and s._sharded then
    return in_shard(s, token_of(s, obj) or s._cur, load_expired, obj, key)
  end
  return load_expired(obj, key)
end

-- the shards a lazy load of obj's relationship r runs on (nil: no SQL
-- load, or one the plain loader answers on the object's shard)
local function lazy_shards(s, obj, r)
  if I.is_dynamic(r) or C.extra(obj, I.nilmark[r.key]) or
     C.lifecycle(obj) ~= "persistent" then
    return nil
  end
  local strategy = C.extra(obj, I.lazymark[r.key]) or r.lazy
  if strategy == "noload" or strategy == "raise" or
     strategy == "raise_on_sql" then
    return nil
  end
  local state = orm.inspect(obj)
  if r.pk_lookup then
    local vals = {}
    for k, i in ipairs(r.local_idx) do
      vals[k] = I.col_value(obj, r.parent, i)
      if vals[k] == nil then return nil end
    end
    local key = I.key_of(r.target, vals)
    for _, id in ipairs(identity_shards(s, r.target, vals, nil, state)) do
      local maps = s._maps[id]
      local map = maps and maps[I.base_of(r.target)]
      if map and map[key] ~= nil then return {id} end
    end
    local stmt, params = pk_select(r.target, vals)
    return statement_shards(s, stmt, params, nil, state)
  end
  local stmt = sa.select(r.target.class)
    :where(orm.with_parent(obj, r.parent.class[r.key]))
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  return statement_shards(s, stmt, nil, nil, state)
end

function hooks.rel_get(obj, key)
  local s = session_of(obj)
  -- (raw: a plain session has no such field, and its __index is slow)
  if not (s and rawget(s, "_sharded")) then return rel_get(obj, key) end
  local own = token_of(s, obj) or s._cur
  I.configure()
  local r = mapper_of(obj).relationships[key]
  local ids = r and s._cur == nil and lazy_shards(s, obj, r)
  if not ids then return in_shard(s, own, rel_get, obj, key) end
  if #ids == 1 then return in_shard(s, ids[1], rel_get, obj, key) end
  -- each shard's part, loaded there, then the whole set as the value
  local all = {}
  for _, id in ipairs(ids) do
    local v = in_shard(s, id, rel_get, obj, key)
    if r.uselist then
      for _, x in ipairs(I.coll_members(v) or v) do all[#all + 1] = x end
    elseif v ~= nil then
      all[#all + 1] = v
    end
    C.extra(obj, key, nil)
    C.extra(obj, I.nilmark[key], nil)
  end
  if r.uselist then
    local c = I.new_coll(obj, r, all)
    C.extra(obj, key, c)
    return c
  end
  local v = one_or_none(all)
  I.set_raw(obj, r, v)
  return v
end

-- Query:set_shard(shard_id): the query runs on that shard alone
function I.Query.set_shard(q, shard_id)
  return q:execution_options{_sa_shard_id = shard_id}
end

------------------------------------------------------------------------
-- ShardedSession{shards, shard_chooser, id_chooser | identity_chooser,
--                execute_chooser | query_chooser, autoflush, ...}
------------------------------------------------------------------------

local function check_fn(opts, name)
  local f = opts[name]
  if f == false then return nil end -- (false: none, as in a sessionmaker's
                                    -- options overridden per session)
  if f ~= nil and type(f) ~= "function" and
     not (getmetatable(f) and getmetatable(f).__call) then
    raise("ArgumentError", name .. " must be a function")
  end
  return f
end

-- (called as sessionmaker{class_ = ShardedSession, ...} calls a session
-- class too: with a bind, which a sharded session has none of, and the
-- options)
local function ShardedSession(a, b)
  local opts = b
  if opts == nil then opts = a end
  if type(opts) ~= "table" then
    raise("ArgumentError", "ShardedSession() takes a table of options")
  end
  local shard_chooser = check_fn(opts, "shard_chooser")
  local id_chooser = check_fn(opts, "id_chooser")
  local identity_chooser = check_fn(opts, "identity_chooser")
  local execute_chooser = check_fn(opts, "execute_chooser")
  local query_chooser = check_fn(opts, "query_chooser")
  if query_chooser and execute_chooser then
    raise("ArgumentError", "Can't pass query_chooser and execute_chooser " ..
          "at the same time.")
  end
  if id_chooser and identity_chooser then
    raise("ArgumentError", "Can't pass id_chooser and identity_chooser " ..
          "at the same time.")
  end
  if not shard_chooser then
    raise("ArgumentError", "ShardedSession needs a shard_chooser")
  end
  if not (id_chooser or identity_chooser) then
    raise("ArgumentError", "ShardedSession needs an id_chooser or an " ..
          "identity_chooser")
  end
  if not (execute_chooser or query_chooser) then
    raise("ArgumentError", "ShardedSession needs an execute_chooser or a " ..
          "query_chooser")
  end
  -- (SQLAlchemy's Session(twophase=True) prepares every shard's
  -- transaction before committing any; retort has no two-phase commit:
  -- each shard commits in turn)
  if opts.twophase then
    raise("ArgumentError", "ShardedSession: twophase is not supported " ..
          "(the shards commit one after another)")
  end
  if opts.shards ~= nil and type(opts.shards) ~= "table" then
    raise("ArgumentError", "shards must be a table of shard id = engine")
  end
  local s = orm.Session(nil, opts)
  setmetatable(s, ShardedMT)
  s._sharded = true
  s.shard_chooser, s.id_chooser = shard_chooser, id_chooser
  s.identity_chooser = identity_chooser
  s.execute_chooser, s.query_chooser = execute_chooser, query_chooser
  s._binds, s._shard_ids, s._maps = {}, {}, {}
  s._idmap = idmap_proxy(s)
  s._idmap_of = idmap_of
  s._flush_ops = flush_ops
  -- (bound in name order: a Lua table has none of its own)
  local names = {}
  for k in pairs(opts.shards or {}) do names[#names + 1] = k end
  table.sort(names, function(x, y) return tostring(x) < tostring(y) end)
  for _, k in ipairs(names) do s:bind_shard(k, opts.shards[k]) end
  return s
end

------------------------------------------------------------------------
-- select_comparisons(stmt): what an execute_chooser looks at
------------------------------------------------------------------------

-- The mapped attribute of a column node (nil for an unmapped column)
local function attribute_of(ptr)
  for _, m in pairs(I.mappers_by_table) do
    local i = m.attr_by_ptr and m.attr_by_ptr[ptr]
    if i and m.keys[i] then return m.class[m.keys[i]], m end
  end
  return nil
end

local swapped = {eq = "eq", ne = "ne", lt = "gt", le = "ge", gt = "lt",
                 ge = "le"}

local function bind_value(t)
  if t.kind == "bind" then return true, t.value end
  if t.kind == "list" or t.kind == "tuple" then
    local out = {}
    for i, x in ipairs(t) do
      if x.kind ~= "bind" then return false end
      out[i] = x.value
    end
    return true, out
  end
  return false
end

-- The comparisons of a mapped column with literal values in a
-- statement's WHERE clause (AND and OR walked into), each {column =
-- the mapped attribute (User.name), operator = "eq" | "ne" | "lt" | "le"
-- | "gt" | "ge" | "in" | "notin", value = the value, or the list for
-- IN}: what SQLAlchemy's sharding example gathers with a visitor to
-- narrow the shards a query runs on.
local function select_comparisons(stmt)
  local kind = C.node_kind(stmt)
  if kind ~= "select" and kind ~= "update" and kind ~= "delete" then
    return {}
  end
  local probe = C.copy_where(sa.delete(sa.table("x")), stmt)
  local where = C.dml_parts(probe)
  local out = {}
  local function walk(t)
    if t == nil then return end
    if t.kind == "and" or t.kind == "or" then
      for _, x in ipairs(t) do walk(x) end
    elseif t.kind == "unary" then
      walk(t.a)
    elseif t.kind == "binary" then
      local a, b, op = t.a, t.b, t.op
      if a.kind ~= "column" and b.kind == "column" and swapped[op] then
        a, b, op = b, a, swapped[op]
      end
      if a.kind == "column" then
        local ok, v = bind_value(b)
        local col = nil
        if ok then col = attribute_of(a.ptr) end
        if col ~= nil then
          out[#out + 1] = {column = col, operator = op, value = v}
        end
      else
        walk(a)
        walk(b)
      end
    end
  end
  walk(where)
  return out
end

orm.ext = orm.ext or {}
orm.ext.horizontal_shard = {
  ShardedSession = ShardedSession,
  ShardedQuery = I.Query,
  select_comparisons = select_comparisons,
}

-- for the other files of the ORM
I.MergedResultMT = MergedOrmMT
