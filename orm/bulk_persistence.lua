-- orm/bulk_persistence.lua -- statements' execution options for the ORM
-- (populate_existing, yield_per, synchronize_session), streaming ORM
-- results, and bulk UPDATE/DELETE of a mapped class through the session
-- with its objects kept in step:
--
--   "evaluate"  the WHERE clause is evaluated in Lua against the objects
--               in the identity map; the matching ones get the new values
--               (those that can be evaluated; the others are expired) or,
--               for a DELETE, become deleted
--   "fetch"     the matching rows' keys come from RETURNING (PostgreSQL)
--               or a SELECT run first; those objects are updated likewise
--   "auto"      "evaluate", or "fetch" when the criteria cannot be
--               evaluated in Lua (the default)
--   false       the statement alone

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local raise = I.raise

------------------------------------------------------------------------
-- execution options of statements
------------------------------------------------------------------------

-- kept among a statement's loader options (I.stmt_opts), so they follow
-- it through where(), order_by(), ... as the loader options do
local ExecOptsMT = {__name = "retort.ExecutionOptions"}
local known_opts = {populate_existing = true, yield_per = true,
                    synchronize_session = true, autoflush = true,
                    stream_results = true, compiled_cache = true,
                    logging_token = true, isolation_level = true,
                    -- the shard of a sharded session's statement
                    shard_id = true, _sa_shard_id = true}

do
  local node_methods = getmetatable(sa.literal_column("1")).__methods
  local orig = node_methods.execution_options
  node_methods.execution_options = function(stmt, opts)
    local kind = C.node_kind(stmt)
    if kind ~= "select" and kind ~= "update" and kind ~= "delete" and
       kind ~= "insert" and kind ~= "compound" then
      return orig(stmt, opts)
    end
    if type(opts) ~= "table" then
      raise("ArgumentError", "execution_options() takes a table of options")
    end
    for k, v in pairs(opts) do
      if not known_opts[k] then
        raise("ArgumentError", "execution_options: unknown option '" ..
              tostring(k) .. "'")
      end
      if k == "yield_per" and (math.type(v) ~= "integer" or v < 1) then
        raise("ArgumentError", "execution_options: yield_per must be a " ..
              "positive integer")
      end
    end
    -- a new statement (statements are immutable)
    local new = kind == "compound" and orig(stmt, opts) or stmt:where()
    local list = {}
    for _, o in ipairs(I.stmt_opts[stmt] or {}) do list[#list + 1] = o end
    list[#list + 1] = setmetatable({exec = opts}, ExecOptsMT)
    I.stmt_opts[new] = list
    return new
  end
end

-- the statement's execution options merged with those given to execute
local function exec_options(stmt, opts)
  local list = I.stmt_opts[stmt]
  if not list then return opts end
  local out
  for _, o in ipairs(list) do
    if getmetatable(o) == ExecOptsMT then
      out = out or {}
      for k, v in pairs(o.exec) do out[k] = v end
    end
  end
  if not out then return opts end
  for k, v in pairs(opts or {}) do out[k] = v end
  return out
end

-- a SELECT with yield_per runs as a streamed (server side) result; the
-- ORM result then makes objects one batch at a time
local function run_streamed(s, conn, stmt, params)
  conn:execution_options{stream_results = true}
  local ok, r = pcall(I.run, s, conn, stmt, params)
  conn:execution_options{stream_results = false}
  if not ok then error(r, 0) end
  return r
end

-- populate_existing discarded the pending changes of these objects: they
-- are no longer dirty
local function populated(s, objs)
  for _, obj in ipairs(objs) do
    if obj and not C.modified(obj) then s._dirty[obj] = nil end
  end
end

------------------------------------------------------------------------
-- evaluating criteria in Lua
------------------------------------------------------------------------

local Unevaluatable = {}

local function unevaluatable(msg)
  error(setmetatable({msg = msg}, Unevaluatable), 0)
end

local compare = {
  eq = function(a, b) return a == b end,
  ne = function(a, b) return a ~= b end,
  lt = function(a, b) return a < b end,
  le = function(a, b) return a <= b end,
  gt = function(a, b) return a > b end,
  ge = function(a, b) return a >= b end,
  add = function(a, b) return a + b end,
  sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end,
  div = function(a, b) return a / b end,
  mod = function(a, b) return a % b end,
  concat = function(a, b) return a .. b end,
}

-- the functions SQLAlchemy has a class of its own for
local known_functions = {}
for name in string.gmatch("array_agg cast char_length coalesce concat " ..
  "count cube cume_dist current_date current_time current_timestamp " ..
  "current_user dense_rank extract grouping_sets localtime localtimestamp " ..
  "max min mode next_value now percent_rank percentile_cont " ..
  "percentile_disc random rank rollup session_user sum sysdate user",
  "%S+") do
  known_functions[name] = true
end

-- A function of an object computing `tree` (from C.expr_tree) with SQL's
-- NULL logic (nil), for mapper m; raises Unevaluatable for what Lua
-- cannot compute the way the database would.
local function compile_eval(m, tree)
  local k = tree.kind
  if k == "column" then
    local i = m.attr_by_ptr[tree.ptr]
    if not i or i > #m.attr_columns then
      unevaluatable("Cannot evaluate column: not a column of " ..
                    m.class.__name__)
    end
    local key = m.keys[i]
    return function(obj) return obj[key] end
  elseif k == "bind" then
    local v = tree.value
    if rawequal(v, sa.null) then v = nil end
    return function() return v end
  elseif k == "null" then
    return function() return nil end
  elseif k == "true" or k == "false" then
    local v = k == "true"
    return function() return v end
  elseif k == "and" or k == "or" then
    local subs = {}
    for j, t in ipairs(tree) do subs[j] = compile_eval(m, t) end
    if k == "and" then
      return function(obj)
        for _, f in ipairs(subs) do
          local v = f(obj)
          if v == nil then return nil end
          if not v then return false end
        end
        return true
      end
    end
    return function(obj)
      local has_null = false
      for _, f in ipairs(subs) do
        local v = f(obj)
        if v then return true end
        if v == nil then has_null = true end
      end
      if has_null then return nil end
      return false
    end
  elseif k == "unary" then
    local f = compile_eval(m, tree.a)
    if tree.op == "asbool" then return f end
    if tree.op == "not" then
      return function(obj)
        local v = f(obj)
        if v == nil then return nil end
        return not v
      end
    end
    unevaluatable("Cannot evaluate unary operator " .. tree.op)
  elseif k == "binary" then
    local op = tree.op
    local fa = compile_eval(m, tree.a)
    if op == "in" or op == "notin" then
      if tree.b.kind ~= "list" then
        unevaluatable("Cannot evaluate IN of " .. tree.b.kind)
      end
      local fs = {}
      for j, t in ipairs(tree.b) do fs[j] = compile_eval(m, t) end
      return function(obj)
        local a = fa(obj)
        if a == nil then return nil end
        local found = false
        for _, f in ipairs(fs) do
          if f(obj) == a then found = true; break end
        end
        if op == "in" then return found end
        return not found
      end
    end
    local fb = compile_eval(m, tree.b)
    if op == "is" then
      return function(obj) return fa(obj) == fb(obj) end
    elseif op == "isnot" then
      return function(obj) return fa(obj) ~= fb(obj) end
    end
    local f = compare[op]
    if not f then unevaluatable("Cannot evaluate operator " .. op) end
    return function(obj)
      local a, b = fa(obj), fb(obj)
      if a == nil or b == nil then return nil end
      return f(a, b)
    end
  end
  -- (SQLAlchemy's message names the class: a function known to it by
  -- its name, any other one as Function)
  local cls = tree.sa_class
  if tree.func then
    cls = known_functions[string.lower(tree.func)] and
          string.lower(tree.func) or "Function"
  end
  unevaluatable("Cannot evaluate " .. (cls or (tostring(k) .. " expression")))
end

-- compile_eval, or nil and the reason
local function try_eval(m, tree)
  local ok, f = pcall(compile_eval, m, tree)
  if ok then return f end
  if getmetatable(f) == Unevaluatable then return nil, f.msg end
  error(f, 0)
end

------------------------------------------------------------------------
-- bulk UPDATE and DELETE
------------------------------------------------------------------------

-- the objects of the identity map of m that are loaded (not wholly
-- expired)
local function loaded_objects(s, m)
  local out = {}
  for _, obj in pairs(s._idmap[I.base_of(m)] or {}) do
    if select(2, C.get(obj, m.pk_index[1])) and not s._deleted[obj] then
      out[#out + 1] = obj
    end
  end
  return out
end

-- the new values of an UPDATE in memory: each SET attribute that is
-- loaded and has no pending change gets its value computed in Lua (in
-- SET order, as SQLAlchemy does); the others loaded are expired
local function apply_update(s, m, objs, sets)
  for _, obj in ipairs(objs) do
    local expire = {}
    for _, e in ipairs(sets) do
      local i = e.idx
      local loaded = select(2, C.get(obj, i))
      local modified = select(2, C.flags(obj, i))
      if loaded then
        if e.eval and not modified then
          C.set(obj, i, e.eval(obj))
        else
          expire[#expire + 1] = i
        end
      end
    end
    if #expire > 0 then
      C.expire(obj, expire)
      if not C.modified(obj) then s._dirty[obj] = nil end
    end
  end
end

local function apply_delete(s, m, objs)
  local level = I.top_level(s)
  local map = s._idmap[I.base_of(m)]
  for _, obj in ipairs(objs) do
    local key = I.ident_key(obj, m)
    s._dirty[obj], s._deleted[obj] = nil, nil
    if map and map[key] == obj then map[key] = nil end
    I.set_state(obj, "deleted", s.id)
    local l = I.level_list(level, "deleted")
    l[#l + 1] = obj
  end
end

local function bulk_dml(s, conn, stmt, params, opts)
  local sync = opts and opts.synchronize_session
  if sync == nil then sync = "auto" end
  if sync ~= false and sync ~= "auto" and sync ~= "evaluate" and
     sync ~= "fetch" then
    raise("ArgumentError", "Valid strategies for session synchronization " ..
          "are 'auto', 'evaluate', 'fetch', False")
  end
  local ptr = C.dml_info(stmt)
  local m = ptr and I.mappers_by_table[ptr]
  local many = type(params) == "table" and type(params[1]) == "table"
  -- (update(users_table) is Core: nothing autoflushed or synchronized)
  if not m or not I.orm_marks[stmt] then
    return I.run(s, conn, stmt, params)
  end
  if not (opts and opts.autoflush == false) then I.autoflush(s) end
  if sync == false or many then return I.run(s, conn, stmt, params) end
  local is_update = C.node_kind(stmt) == "update"
  local where, set_items = C.dml_parts(stmt)
  local cond, why = function() return true end, nil
  if where then cond, why = try_eval(m, where) end
  if sync == "auto" then sync = cond and "evaluate" or "fetch" end
  local sets = {}
  for _, item in ipairs(set_items) do
    for i, ck in ipairs(m.colkeys) do
      if ck == item[1] then
        sets[#sets + 1] = {idx = i, eval = (try_eval(m, item[2]))}
      end
    end
  end
  local matched, r = {}, nil
  if sync == "evaluate" then
    if not cond then
      raise("InvalidRequestError", "Could not evaluate current criteria " ..
            "in Python: \"" .. tostring(why) .. "\". Specify 'fetch' or " ..
            "False for the synchronize_session execution option.")
    end
    for _, obj in ipairs(loaded_objects(s, m)) do
      if cond(obj) then matched[#matched + 1] = obj end
    end
    r = I.run(s, conn, stmt, params)
  else
    local rows
    if conn.dialect.name == "postgresql" then
      r = I.run(s, conn, stmt:returning(table.unpack(m.primary_key)), params)
      rows = r:all()
    else
      local sel = sa.select(table.unpack(m.primary_key))
      rows = I.run(s, conn, C.copy_where(sel, stmt), params):all()
      r = I.run(s, conn, stmt, params)
    end
    local map = s._idmap[I.base_of(m)] or {}
    for _, row in ipairs(rows) do
      local vals = {}
      for k = 1, #m.pk_index do vals[k] = row[k] end
      local obj = map[I.key_of(m, vals)]
      if obj ~= nil and not s._deleted[obj] then matched[#matched + 1] = obj end
    end
  end
  if is_update then apply_update(s, m, matched, sets)
  else apply_delete(s, m, matched) end
  return r
end

-- for the other files of the ORM
I.bulk_dml = bulk_dml
I.exec_options = exec_options
I.populated = populated
I.run_streamed = run_streamed
