-- orm/persistence.lua -- the statements of the flush and bulk DML.
-- Consecutive rows that set the same columns share one statement,
-- compiled once per mapper, dialect and column pattern, and go to the
-- driver as one executemany with positional parameters built in C.  Rows
-- whose key the database generates are, on PostgreSQL, one executemany
-- of INSERT ... RETURNING too (the keys come back in order); elsewhere
-- each is inserted alone for its lastrowid, as SQLAlchemy 1.4 does.
-- Also post_update and many-to-many association rows.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local col_value = I.col_value
local compile_hook = I.compile_hook
local ev = I.ev
local ident_key = I.ident_key
local ident_vals = I.ident_vals
local key_of = I.key_of
local mapper_of = I.mapper_of
local pk_values = I.pk_values
local raise = I.raise
local run = I.run

local function stmt_cache(m)
  m._stmts = m._stmts or {}
  return m._stmts
end

-- the UPDATE or DELETE of one row of m's table, by its key (cached)
local function by_key_stmt(m, kind)
  local c = stmt_cache(m)
  if not c[kind] then
    local stmt = sa[kind](m.local_table)
    for k, col in ipairs(m.primary_key) do
      stmt = stmt:where(col:eq(sa.bindparam("pk_" .. m.colkeys[m.pk_index[k]])))
    end
    c[kind] = stmt
  end
  return c[kind]
end

local function update_stmt(m) return by_key_stmt(m, "update") end
local function delete_stmt(m) return by_key_stmt(m, "delete") end

-- Run `rows` (a list of parameter maps for one statement) as one
-- executemany, or one execute for a single row; return the row count.
local function run_batch(s, conn, stmt, rows)
  if #rows == 1 then return run(s, conn, stmt, rows[1]).rowcount end
  return run(s, conn, stmt, rows).rowcount
end

-- The dialect name a connection's statements compile with: "mariadb" (the
-- MySQL dialect with MariaDB's reserved words) once the engine knows its
-- server is MariaDB, as SQLAlchemy's preparer then is.
local function compile_dialect(conn)
  local d = conn.dialect
  return d.is_mariadb and "mariadb" or d.name
end

-- A flush statement compiled once per mapper, dialect and column pattern:
-- its SQL and, per placeholder, where the value comes from.  `params` is
-- one object's parameter map; compiling it with marker strings for
-- values shows which placeholder takes which parameter (the others are
-- constants: scalar defaults).
local function compiled_for(m, conn, kind, sig, stmt, params)
  local dialect = compile_dialect(conn)
  local cache = m._compiled
  if not cache then cache = {}; m._compiled = cache end
  local ck = dialect .. "\0" .. kind .. "\0" .. sig
  local c = cache[ck]
  if c then return c end
  local marked, back = {}, {}
  for name in pairs(params) do
    local mark = "\0orm-param:" .. name
    marked[name], back[mark] = mark, name
  end
  local sql, pos, kinds, conv = compile_hook(stmt, dialect, marked)
  local order = {}
  for i, v in ipairs(pos) do
    local name = back[v]
    order[i] = name and m.param_source[name] or {v}
  end
  c = {sql = sql, order = order, kinds = kinds, conv = conv}
  cache[ck] = c
  return c
end

-- Execute a compiled flush statement for objs[i..j] (one executemany
-- when j > i), its values processed by their columns' types (a JSON
-- attribute holding a table goes as JSON text).
local function run_compiled(s, conn, c, objs, i, j)
  local width = #c.order
  if width == 0 then
    return conn:_exec_compiled(c.sql, {C.positional(objs, i, j, c.order)},
                               c.kinds, c.conv)
  end
  -- (the values go from the objects to the driver: no table of them)
  return C.exec_objs(conn, c.sql, objs, i, j, c.order, c.kinds, c.conv)
end

-- A SQL expression assigned to a column attribute (obj.n = Cls.n + 1,
-- func.now()) is rendered into the row's statement instead of bound, as
-- SQLAlchemy does: the row goes alone, and once the flush succeeds the
-- attribute is expired, its next read loading what the database made of
-- it.  (Checked per object only when C.sql_rows finds one.)

-- The client-side defaults (kind "default": INSERT) or onupdates (kind
-- "onupdate": UPDATE) of m's table that are Lua functions or plain
-- values, in the table's column order: {idx, key, fn, value, pk}; false
-- when none; `any_fn` tells whether one is a function.  (m may be one
-- table's part of a hierarchy: its colkeys cover that table only.)
local function client_defaults(m, kind)
  local cache = m._client_defaults
  if not cache then cache = {}; m._client_defaults = cache end
  local list = cache[kind]
  if list ~= nil then return list end
  local byk = {}
  for i, k in pairs(m.colkeys) do byk[k] = i end
  list = {}
  for _, col in ipairs(m.local_table.columns) do
    local i = byk[col.key]
    local d = i and col[kind]
    if type(d) == "table" and (d.is_callable or d.is_scalar) then
      list[#list + 1] = {idx = i, key = col.key, value = d.arg,
                         fn = d.is_callable and d.arg, pk = col.primary_key}
      if d.is_callable then list.any_fn = true end
    end
  end
  if #list == 0 then list = false end
  cache[kind] = list
  return list
end
I.client_defaults = client_defaults

-- Give params (one row's parameter map) the client-side defaults it
-- lacks, as SQLAlchemy's execution does before it sends the row: in
-- column order, a function called with a context whose
-- current_parameters are the row's values so far.  The object holds the
-- values once the flush succeeds (SQLAlchemy's prefetch), without a
-- SELECT; a key made so the caller sets once the row is in (keys_known).
-- (INSERT: the scalar defaults other than a key are only added to the
-- map, the flush's end sets those as for every mapper.)
-- The name SQLAlchemy's flush gives an UPDATE's key parameter: the key
-- column's label (<schema>_<table>_<column>), where retort binds pk_<key>.
local function key_labels(m)
  if m._key_labels then return m._key_labels end
  local names = {}
  for k, col in ipairs(m.primary_key) do
    local t = col.table
    local schema = t.schema and (t.schema:gsub("%.", "_") .. "_") or ""
    names[m.pk_params[k]] = schema .. t.name .. "_" .. col.name
  end
  m._key_labels = names
  return names
end

-- params as SQLAlchemy shows them: an UPDATE's key under its label
local function sqla_params(m, kind, params)
  if kind ~= "onupdate" then return params end
  local labels, out = key_labels(m), {}
  for k, v in pairs(params) do out[labels[k] or k] = v end
  return out
end

-- the context a default function gets (SQLAlchemy's
-- DefaultExecutionContext): current_parameters and
-- get_current_parameters() (a flush has no multi-row VALUES to isolate)
local ctx_mt = {__index = {
  get_current_parameters = function(self) return self.current_parameters end,
}}

-- A default function's error, as SQLAlchemy raises it from the flush: a
-- StatementError wrapping it, with the statement the row would have gone
-- in (every function default's column in it) and the row's parameters.
local function default_failed(m, kind, params, list, err, done)
  local ok, se = pcall(raise, "StatementError",
                       type(err) == "table" and err.kind and err.message or
                       tostring(err))
  if ok then error(err, 0) end
  se.orig = err
  if type(err) == "table" and err.kind then se.orig_kind = err.kind end
  se.params = {sqla_params(m, kind, params)}
  if done.conn then
    local keys = {}
    for k, v in pairs(params) do keys[k] = v end
    for _, d in ipairs(list) do
      if d.fn and keys[d.key] == nil then keys[d.key] = sa.null end
    end
    local stmt = kind == "onupdate" and update_stmt(m) or
                 sa.insert(m.local_table)
    local cok, sql = pcall(compile_hook, stmt, compile_dialect(done.conn),
                           keys)
    if cok then se.sql = sql end
  end
  error(se, 0)
end

local function fill_defaults(m, kind, obj, params, done)
  local list = client_defaults(m, kind)
  if not list then return end
  for _, d in ipairs(list) do
    if params[d.key] == nil and not (d.pk and not d.fn) then
      local v = d.value
      if d.fn then
        local ctx = setmetatable(
          {current_parameters = sqla_params(m, kind, params)}, ctx_mt)
        local ok, r = pcall(d.fn, ctx)
        if not ok then default_failed(m, kind, params, list, r, done) end
        v = r
      end
      if v == nil then v = sa.null end
      params[d.key] = v
      if not d.pk and (d.fn or kind == "onupdate") then
        done.prefetch = done.prefetch or {}
        table.insert(done.prefetch, {obj, d.idx, v})
      end
    end
  end
end
I.fill_defaults = fill_defaults

-- whether params give every key column of m (a key default made them)
local function keys_known(m, params)
  for _, idx in ipairs(m.pk_index) do
    local v = params[m.colkeys[idx]]
    if v == nil or v == sa.null then return false end
  end
  return true
end

-- the key columns of obj from params, once its INSERT succeeded
local function set_keys_from(m, obj, params)
  for _, idx in ipairs(m.pk_index) do
    C.set(obj, idx, params[m.colkeys[idx]])
  end
end

-- an UPDATE of `expected` rows that matched `count` (-1: the driver
-- cannot tell) lost a row to another transaction: StaleDataError
local function check_updated(m, expected, count)
  if count >= 0 and count ~= expected then
    raise("StaleDataError", string.format(
      "UPDATE statement on table '%s' expected to update %d row(s); " ..
      "%d were matched.", m.local_table.name, expected, count))
  end
end
I.check_updated = check_updated

-- params (one row's map) split: the expressions of the attributes idxs
-- (C.sql_rows) move to their own map
local function split_sql(m, params, idxs)
  local vp = {}
  for _, i in ipairs(idxs) do
    local k = m.colkeys[i]
    vp[k], params[k] = params[k], nil
  end
  return vp
end
I.split_sql = split_sql

-- Is obj's attribute i a bound value (literal(5), bindparam("x", 5))?
-- Its statement binds it rather than computing anything, so SQLAlchemy
-- neither expires nor fetches it: the attribute keeps the bind object.
local function holds_bind(obj, i)
  return C.node_kind((C.get(obj, i))) == "bind"
end

-- expire the expressions' attributes of obj after the flush (not the
-- ones in skip: a key read back; nor bound values)
local function expire_sql_after(done, obj, idxs, skip)
  local list = {}
  for _, i in ipairs(idxs) do
    if not (skip and skip[i]) and not holds_bind(obj, i) then
      list[#list + 1] = i
    end
  end
  if #list == 0 then return end
  done.expire_sql = done.expire_sql or {}
  table.insert(done.expire_sql, {obj, list})
end
I.expire_sql_after = expire_sql_after

-- The UPDATE of one object with SQL expressions among its new values.
local function update_sql_row(s, conn, m, obj, idxs, done)
  local params = C.update_params(obj, m.colkeys, m.pk_params)
  fill_defaults(m, "onupdate", obj, params, done)
  local vp = split_sql(m, params, idxs)
  local count = run(s, conn, update_stmt(m):values(vp), params).rowcount
  check_updated(m, 1, count)
  for _, i in ipairs(m.pk_index) do
    if vp[m.colkeys[i]] ~= nil then
      -- a key set by an expression is read back by the row's old identity
      -- now, as SQLAlchemy's flush does: only an expression that leaves
      -- it as it was finds the row (else ObjectDeletedError)
      C.expire(obj, idxs)
      local _ = obj[m.keys[i]]
      return
    end
  end
  expire_sql_after(done, obj, idxs)
end

local function can_return(conn)
  return conn.dialect.name == "postgresql"
end

-- eager_defaults with RETURNING: the UPDATE of one object that leaves
-- server_onupdates (and onupdate expressions) to the database returns
-- their values, as SQLAlchemy's return_defaults() does
local function update_returning_row(s, conn, m, obj, done)
  local params = C.update_params(obj, m.colkeys, m.pk_params)
  fill_defaults(m, "onupdate", obj, params, done)
  local idx = I.update_returning(m, obj)
  local key = "update_returning:" .. table.concat(idx, ",")
  local cache = stmt_cache(m)
  local stmt = cache[key]
  if not stmt then
    local cols = {}
    for k, i in ipairs(idx) do cols[k] = m.attr_columns[i] end
    stmt = update_stmt(m):returning(table.unpack(cols))
    cache[key] = stmt
  end
  local r = run(s, conn, stmt, params)
  check_updated(m, 1, r.rowcount)
  local row = r:first()
  if row then
    for k, i in ipairs(idx) do C.set(obj, i, row[k]) end
  end
end

-- UPDATEs for the modified objects of mapper m: only the attributes whose
-- value changed, rows with the same changed set batched, in key order.
local function emit_updates(s, conn, m, objs, done)
  if m.version_idx then
    return I.emit_versioned_updates(s, conn, m, objs, done)
  end
  done.upd[#done.upd + 1] = {m, objs}
  -- (m may be one table's part of a hierarchy: only its columns count)
  local cols = m.part_of and m.colkeys or #m.colkeys
  local single = #m.pk_index == 1
  -- one integer key per row (the common case): planned in C
  local list, runs
  if single then list, runs = C.update_plan(objs, cols) end
  if not list then
    local sigs = C.update_sigs(objs, cols)
    local keys, byobj, n = {}, {}, 0
    for r, obj in ipairs(objs) do
      if sigs[r] then
        n = n + 1
        local key = C.identity(obj)
        if not single then key = key_of(m, key) end
        keys[n], byobj[key] = key, r
      end
    end
    if single and math.type(keys[1]) then
      table.sort(keys) -- numbers: Lua's own comparison, no closure
    else
      table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
    end
    list, runs = {}, {}
    for i = 1, n do
      local r = byobj[keys[i]]
      list[i] = objs[r]
      -- runs of equal signatures: {sig, last row, ...}
      local nr = #runs
      if nr > 0 and sigs[r] == runs[nr - 1] then
        runs[nr] = i
      else
        runs[nr + 1], runs[nr + 2] = sigs[r], i
      end
    end
  end
  if #list == 0 then return end
  local stmt = update_stmt(m)
  local sql = C.sql_rows(list, m.colkeys)
  local onupdates = client_defaults(m, "onupdate")
  local returned
  local i = 1
  for k = 1, #runs, 2 do
    local sig, last = runs[k], runs[k + 1]
    while i <= last do
      local j = last
      -- eager_defaults: a row that leaves a server_onupdate to the
      -- database goes alone, as SQLAlchemy sends it
      if m.eager_cols and I.unset_server_onupdates(m, list[i]) then
        j = i
        -- (PostgreSQL: its UPDATE returns them)
        if can_return(conn) and not (sql and sql[i]) then
          returned = returned or {}
          returned[list[i]] = true
          update_returning_row(s, conn, m, list[i], done)
          goto next
        end
      end
      if sql then
        -- a row with expressions goes alone, in its place in key order
        if sql[i] then
          update_sql_row(s, conn, m, list[i], sql[i], done)
          j = i
          goto next
        end
        for r = i + 1, last do
          if sql[r] then j = r - 1; break end
        end
      end
      if onupdates then
        -- the rows' onupdate values, made now (functions: per row)
        local rows, first = {}, nil
        for r = i, j do
          local p = C.update_params(list[r], m.colkeys, m.pk_params)
          local n0 = done.prefetch and #done.prefetch or 0
          fill_defaults(m, "onupdate", list[r], p, done)
          -- SQLAlchemy 1.4 gives every object of an executemany UPDATE
          -- the onupdate values made for its first row (the rows
          -- themselves get their own): so do we
          if r == i then
            first = {}
            for k = n0 + 1, done.prefetch and #done.prefetch or 0 do
              first[done.prefetch[k][2]] = done.prefetch[k][3]
            end
          else
            for k = n0 + 1, done.prefetch and #done.prefetch or 0 do
              local e = done.prefetch[k]
              if first[e[2]] ~= nil then e[3] = first[e[2]] end
            end
          end
          rows[#rows + 1] = p
        end
        if onupdates.any_fn then
          check_updated(m, j - i + 1, run_batch(s, conn, stmt, rows))
          goto next
        end
      end
      do
        local c = compiled_for(m, conn, "update", sig, stmt,
                               C.update_params(list[i], m.colkeys, m.pk_params))
        local count = run_compiled(s, conn, c, list, i, j).rowcount
        check_updated(m, j - i + 1, count)
      end
      ::next::
      i = j + 1
    end
  end
  if m.eager_cols then
    if returned then
      local rest = {}
      for _, obj in ipairs(list) do
        if not returned[obj] then rest[#rest + 1] = obj end
      end
      list = rest
    end
    I.fetch_server_values(s, conn, m, list, "update")
    I.note_clause_onupdates(m, list, done)
  else
    I.note_server_onupdates(m, list, done)
  end
end

-- The INSERT of one pending object with SQL expressions among its values.
-- Its key comes back (RETURNING on PostgreSQL, lastrowid elsewhere) when
-- the database makes it or an expression gives it, as SQLAlchemy reads
-- the inserted primary key.
local function insert_sql_row(s, conn, m, obj, ins, gen, idxs, done)
  local params = C.insert_params(obj, m.colkeys, m.insert_none)
  local known = false
  if m.lua_defaults then
    fill_defaults(m, "default", obj, params, done)
    known = gen and keys_known(m, params)
    if known then gen = false end
  end
  local vp = split_sql(m, params, idxs)
  local keyidx = {}
  for _, idx in ipairs(m.pk_index) do
    if vp[m.colkeys[idx]] ~= nil then gen = true; keyidx[idx] = true end
  end
  local returning = can_return(conn)
  local extra = returning and m.eager_cols and I.missing_defaults(m, obj)
  local stmt = ins
  if extra then
    -- eager_defaults: RETURNING brings the expressions' values back with
    -- the server defaults (in the table's order), nothing left to expire
    local set = {}
    for _, i in ipairs(extra) do set[i] = true end
    for _, i in ipairs(idxs) do
      if not keyidx[i] and not holds_bind(obj, i) then
        set[i] = true
        keyidx[i] = true
      end
    end
    extra = {}
    for i in pairs(set) do extra[#extra + 1] = i end
    table.sort(extra)
    stmt = I.returning_insert(m, ins, extra, gen)
  elseif gen and returning then
    stmt = ins:returning(table.unpack(m.primary_key))
  end
  local r = run(s, conn, stmt:values(vp), params)
  if extra then
    I.returned_defaults(m, obj, r:first(), extra, gen)
  elseif gen and returning then
    local row = r:first()
    for k, idx in ipairs(m.pk_index) do C.set(obj, idx, row[k]) end
  elseif gen then
    C.set(obj, m.pk_index[1], r.lastrowid)
  end
  if known then set_keys_from(m, obj, params) end
  expire_sql_after(done, obj, idxs, keyidx)
end

-- The last of objs[i..j] (at least i) whose missing server defaults are
-- those of objs[i], `extra` (eager_defaults: they share one RETURNING).
local function same_missing(m, objs, i, j, extra)
  if not extra then return j end
  local want = table.concat(extra, ",")
  for r = i + 1, j do
    local e = I.missing_defaults(m, objs[r])
    if not e or table.concat(e, ",") ~= want then return r - 1 end
  end
  return j
end

-- PostgreSQL: objs[i..j] (j > i), rows alike that need values back (a
-- generated key when `gen`, the missing server defaults `extra`), in one
-- executemany of INSERT ... RETURNING whose rows come back in the order
-- of the objects, as SQLAlchemy 1.4 runs them with psycopg2.
local function insert_returning_many(conn, m, objs, i, j, ins, params, sig,
                                     gen, extra)
  local stmt, kind
  if extra then
    stmt, kind = I.returning_insert(m, ins, extra, gen)
  else
    local cache = stmt_cache(m)
    cache.insert_returning = cache.insert_returning or
      ins:returning(table.unpack(m.primary_key))
    stmt, kind = cache.insert_returning, "insert_returning"
  end
  local c = compiled_for(m, conn, kind, sig, stmt, params)
  local rows = C.exec_objs(conn, c.sql, objs, i, j, c.order, c.kinds, c.conv,
                           "returning"):all()
  if #rows ~= j - i + 1 then
    raise("FlushError", string.format(
      "Multi-row INSERT statement for %s did not produce the correct " ..
      "number of INSERTed rows for RETURNING.  Ensure there are no " ..
      "triggers or special driver issues preventing INSERT from " ..
      "functioning properly.", tostring(rawget(m, "mapper") or m)))
  end
  for r = i, j do
    local obj, row = objs[r], rows[r - i + 1]
    if extra then
      I.returned_defaults(m, obj, row, extra, gen)
    else
      for k, idx in ipairs(m.pk_index) do C.set(obj, idx, row[k]) end
    end
  end
end

-- INSERTs for the pending objects of mapper m, in the order they were
-- added: consecutive rows with the same columns and a primary key given
-- go in one executemany; so do, on PostgreSQL, rows whose key the
-- database generates or that bring server defaults back (RETURNING);
-- elsewhere such a row goes alone, its key read back by lastrowid.
local function emit_inserts(s, conn, m, objs, done)
  local n = #objs
  done.ins[#done.ins + 1] = {m, objs}
  if n == 0 then return end
  if m.version_idx then I.version_inserts(m, objs) end
  -- runs of rows alike: {sig, gen, last row, ...} (see C.insert_plan)
  local runs, ri = C.insert_plan(objs, m.insert_none, m.pk_index,
                                     m.colkeys), 1
  local cache = stmt_cache(m)
  local ins = cache.insert or sa.insert(m.local_table)
  cache.insert = ins
  local returning = can_return(conn)
  -- Lua-function defaults are computed per row by the compile step
  local precompiled = not m.lua_defaults
  local sql = C.sql_rows(objs, m.colkeys)
  local i = 1
  while i <= n do
    local obj = objs[i]
    while i > runs[ri + 2] do ri = ri + 3 end
    local sig, gen, j = runs[ri], runs[ri + 1], runs[ri + 2]
    -- eager_defaults with RETURNING: a row missing server defaults goes
    -- alone and returns them (orm/versioning.lua)
    local extra = returning and m.eager_cols and not (sql and sql[i]) and
                  I.missing_defaults(m, obj)
    if sql then
      -- a row with expressions goes alone, in its place
      for r = i + 1, j do
        if sql[r] then j = r - 1; break end
      end
    end
    if sql and sql[i] then
      insert_sql_row(s, conn, m, obj, ins, gen, sql[i], done)
      i = i + 1
    elseif gen and precompiled and not returning then
      -- rows alike whose keys the database generates: one execution
      -- each (for its lastrowid), all run by one call
      local c = compiled_for(m, conn, "insert1", sig, ins,
                             (C.insert_params(obj, m.colkeys, m.insert_none)))
      local keys
      if #c.order == 0 then
        keys = conn:_insert_each(c.sql, C.positional(objs, i, j, c.order, true),
                                 c.kinds)
      else
        -- (the key attribute: a row inserted before a failure keeps its
        -- key, as in SQLAlchemy)
        keys = C.exec_objs(conn, c.sql, objs, i, j, c.order, c.kinds, nil,
                           m.pk_index[1])
      end
      C.set_keys(objs, i, j, m.pk_index[1], keys)
      i = j + 1
    elseif (gen or extra) and returning and precompiled and j > i and
           same_missing(m, objs, i, j, extra) > i and
           next((C.insert_params(obj, m.colkeys, m.insert_none))) ~= nil then
      local params, sig = C.insert_params(obj, m.colkeys, m.insert_none)
      j = same_missing(m, objs, i, j, extra)
      insert_returning_many(conn, m, objs, i, j, ins, params, sig, gen, extra)
      i = j + 1
    elseif gen or extra then
      local params, sig = C.insert_params(obj, m.colkeys, m.insert_none)
      -- (a key a Lua-function default makes is known before the INSERT)
      local genpk = gen
      if not precompiled then
        fill_defaults(m, "default", obj, params, done)
        if gen and keys_known(m, params) then genpk = false end
      end
      local stmt, kind = ins, "insert1"
      if extra then
        stmt, kind = I.returning_insert(m, ins, extra, genpk)
      elseif returning and genpk then
        cache.insert_returning = cache.insert_returning or
          ins:returning(table.unpack(m.primary_key))
        stmt, kind = cache.insert_returning, "insert_returning"
      end
      local r
      if next(params) == nil then
        -- no column has a value: INSERT ... DEFAULT VALUES
        if not cache.insert_default then
          cache.insert_default = ins:values({})
          cache.insert_default_returning = cache.insert_default:returning(
            table.unpack(m.primary_key))
        end
        r = run(s, conn, returning and cache.insert_default_returning or
                         cache.insert_default)
      elseif precompiled then
        r = run_compiled(s, conn, compiled_for(m, conn, kind, sig, stmt, params),
                         objs, i, i)
      else
        r = run(s, conn, stmt, params)
      end
      if extra then
        I.returned_defaults(m, obj, r:first(), extra, genpk)
      elseif not genpk then
        set_keys_from(m, obj, params)
      elseif returning then
        local row = r:first()
        for k, idx in ipairs(m.pk_index) do C.set(obj, idx, row[k]) end
      else
        C.set(obj, m.pk_index[1], r.lastrowid)
      end
      if gen and not genpk and extra then set_keys_from(m, obj, params) end
      i = i + 1
    else
      if precompiled then
        local c = compiled_for(m, conn, "insert", sig, ins,
                               (C.insert_params(obj, m.colkeys, m.insert_none)))
        run_compiled(s, conn, c, objs, i, j)
      else
        local rows = {}
        for k = i, j do
          local p = C.insert_params(objs[k], m.colkeys, m.insert_none)
          fill_defaults(m, "default", objs[k], p, done)
          rows[#rows + 1] = p
        end
        run_batch(s, conn, ins, rows)
      end
      i = j + 1
    end
  end
  if m.eager_cols then I.fetch_server_values(s, conn, m, objs, "insert") end
  if m.version_idx then I.inserted_versions(s, conn, m, objs) end
end

local function emit_deletes(s, conn, m, objs, done)
  if m.family then
    return I.emit_hierarchy_deletes(s, conn, m, objs, done)
  end
  if m.version_idx then
    return I.emit_versioned_deletes(s, conn, m, objs, done)
  end
  local keys, bykey = {}, {}
  for i, obj in ipairs(objs) do
    local p, iv = {}, ident_vals(obj, m)
    for k, idx in ipairs(m.pk_index) do p["pk_" .. m.colkeys[idx]] = iv[k] end
    local key = ident_key(obj, m)
    keys[i], bykey[key] = key, p
    done.del[#done.del + 1] = obj
  end
  if #keys == 0 then return end
  if #m.pk_index == 1 and math.type(keys[1]) then
    table.sort(keys)
  else
    table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  end
  local rows = {}
  for i, key in ipairs(keys) do rows[i] = bykey[key] end
  local sorted
  if ev.mapper then
    local objof = {}
    for i, obj in ipairs(objs) do objof[bykey[ident_key(obj, m)]] = obj end
    sorted = {}
    for i, p in ipairs(rows) do sorted[i] = objof[p] end
    I.mapper_event(m, "before_delete", conn, sorted)
  end
  local count = run_batch(s, conn, delete_stmt(m), rows)
  if count >= 0 and count ~= #rows then
    io.stderr:write(string.format(
      "SAWarning: DELETE statement on table '%s' expected to delete %d " ..
      "row(s); %d were matched.  Please set confirm_deleted_rows=False " ..
      "within the mapper configuration to prevent this warning.\n",
      m.local_table.name, #rows, count))
  end
  if sorted then I.mapper_event(m, "after_delete", conn, sorted) end
end

-- copy the referenced values of src (nil: NULL) into dst's foreign key
-- whether the flush deletes obj's row
local function deleting(obj)
  local s = I.sessions[C.session(obj)]
  return s ~= nil and s._deleted[obj] ~= nil
end

local function apply_sync(e)
  local r, src, dst = e[1], e[2], e[3]
  local sidx, didx = r.remote_idx, r.local_idx
  if r.direction == "onetomany" then sidx, didx = r.local_idx, r.remote_idx end
  local dm = mapper_of(dst)
  for k, di in ipairs(didx) do
    local v
    if src ~= nil then v = col_value(src, mapper_of(src), sidx[k]) end
    local cur, loaded = C.get(dst, di)
    if not loaded and C.lifecycle(dst) == "persistent" then
      -- an expired column: its committed value is needed to see a change
      cur, loaded = dst[dm.keys[di]], true
    end
    if src == nil and cur ~= nil and dm.pk_pos[di] and not deleting(dst) then
      -- (the row would lose its key: SQLAlchemy's dependency rule)
      local col = dm.attr_columns[di]
      raise("AssertionError", string.format("Dependency rule tried to " ..
            "blank-out primary key column '%s.%s' on instance '%s'",
            col.table.name, col.name, I.objstr(dst)))
    end
    if not loaded or cur ~= v then dst[dm.keys[di]] = v end
  end
end

local emit_saves_impl

-- The pending objects of m that take over a deleted row (see
-- I.row_switches): an UPDATE of the row to the attributes each was given
-- (its key not among them; none given, no statement), as SQLAlchemy's
-- row switch does.  They count as inserted for the rest of the flush;
-- the others are returned for their INSERTs.
local function emit_switches(s, conn, m, objs, done)
  local rest, moved = {}, {}
  for _, obj in ipairs(objs) do
    if done.switch[obj] then
      moved[#moved + 1] = obj
      local values, any = {}, false
      for i = 1, m.nattrs do
        local key = m.colkeys[i]
        if key and not m.pk_pos[i] and m.attr_columns[i] then
          local v, loaded = C.get(obj, i)
          if loaded then
            if v == nil then v = sa.null end
            values[key] = v
            any = true
          end
        end
      end
      if any then
        local stmt = sa.update(m.local_table)
        local iv = pk_values(obj, m)
        for k, col in ipairs(m.primary_key) do
          stmt = stmt:where(col:eq(iv[k]))
        end
        run(s, conn, stmt:values(values))
      end
    else
      rest[#rest + 1] = obj
    end
  end
  if #moved > 0 then done.ins[#done.ins + 1] = {m, moved} end
  return rest
end

-- After the flush, a column attribute a row-switched object was not
-- given reads as nil without a load, as SQLAlchemy's (the row keeps
-- what it had there)
function I.settle_switches(switched)
  for obj in pairs(switched) do
    local m = mapper_of(obj)
    for i = 1, m.nattrs do
      if m.colkeys[i] and m.attr_columns[i] and not m.pk_pos[i] and
         not select(2, C.get(obj, i)) then
        C.set(obj, i, nil)
      end
    end
  end
end

-- {pending object = the deleted one whose row it takes over} for this
-- flush (nil: none): plain mappers only, each pending object whose key
-- values are all given and name an object marked for deletion
function I.row_switches(s, saves, dels)
  if next(s._deleted) == nil then return nil end
  local out
  for m, sv in pairs(saves) do
    if dels[m] and not m.family and not m.inh_tables and not m.self_ref and
       not m.version_idx and not m.concrete then
      local map = I.idmap_for(s, m)
      for _, obj in ipairs(sv.ins) do
        local vals = pk_values(obj, m)
        local full = #vals == #m.pk_index
        for k = 1, #m.pk_index do
          if vals[k] == nil then full = false end
        end
        if full then
          local old = map[key_of(m, vals)]
          if old ~= nil and old ~= obj and s._deleted[old] then
            out = out or {}
            out[obj] = old
          end
        end
      end
    end
  end
  return out
end

-- the statements of mapper m; a self-referential mapper inserts its
-- pending rows in levels, each after the rows it refers to

local function emit_saves(s, conn, m, sv, syncs, done, all_syncs)
  if ev.mapper then
    I.save_events(m, "before", conn, sv)
    I.load_expired_keys(s, sv.upd)
    emit_saves_impl(s, conn, m, sv, syncs, done, all_syncs)
    return I.save_events(m, "after", conn, sv)
  end
  I.load_expired_keys(s, sv.upd)
  return emit_saves_impl(s, conn, m, sv, syncs, done, all_syncs)
end

function emit_saves_impl(s, conn, m, sv, syncs, done, all_syncs)
  if m.family then
    return I.emit_hierarchy_saves(s, conn, m, sv, all_syncs, done)
  end
  if not m.self_ref or #sv.ins < 2 then
    for _, e in ipairs(syncs or {}) do apply_sync(e) end
    emit_updates(s, conn, m, sv.upd, done)
    local ins = sv.ins
    if done.switch then ins = emit_switches(s, conn, m, ins, done) end
    emit_inserts(s, conn, m, ins, done)
    return
  end
  local dep = {}
  for _, e in ipairs(syncs or {}) do
    local src, dst = e[2], e[3]
    if src ~= nil and s._new[src] and mapper_of(src) == m then
      dep[dst] = src
    end
  end
  local depth = {}
  local function depth_of(obj, n)
    if depth[obj] then return depth[obj] end
    local d = 0
    if dep[obj] and n < 1000 then d = depth_of(dep[obj], n + 1) + 1 end
    depth[obj] = d
    return d
  end
  local levels, top = {}, 0
  for _, obj in ipairs(sv.ins) do
    local d = depth_of(obj, 0) + 1
    levels[d] = levels[d] or {}
    table.insert(levels[d], obj)
    if d > top then top = d end
  end
  local by_dst = {}
  for _, e in ipairs(syncs or {}) do
    local l = by_dst[e[3]]
    if not l then l = {}; by_dst[e[3]] = l end
    l[#l + 1] = e
  end
  for d = 1, top do
    for _, obj in ipairs(levels[d] or {}) do
      for _, e in ipairs(by_dst[obj] or {}) do apply_sync(e) end
      by_dst[obj] = nil
    end
    emit_inserts(s, conn, m, levels[d] or {}, done)
  end
  for _, e in ipairs(syncs or {}) do
    if by_dst[e[3]] then apply_sync(e) end
  end
  emit_updates(s, conn, m, sv.upd, done)
end

-- post_update: one UPDATE per row and relationship, after the inserts and
-- before the deletes; the new value is then the object's committed one
local function emit_post(s, conn, list)
  for _, e in ipairs(list) do
    local r, src, dst = e[1], e[2], e[3]
    local sidx, didx = r.remote_idx, r.local_idx
    if r.direction == "onetomany" then sidx, didx = r.local_idx, r.remote_idx end
    local dm = mapper_of(dst)
    -- (an expired row loads first: SQLAlchemy reads the key from it)
    if C.lifecycle(dst) == "persistent" and
       not select(2, C.get(dst, dm.pk_index[1])) then
      local _ = dst[dm.keys[dm.pk_index[1]]]
    end
    local values, stmt = {}, sa.update(dm.local_table)
    for k, di in ipairs(didx) do
      local v = sa.null
      if src ~= nil then
        v = col_value(src, mapper_of(src), sidx[k])
        if v == nil then v = sa.null end
      end
      values[dm.colkeys[di]] = v
    end
    local ident = ident_vals(dst, dm) or pk_values(dst, dm)
    for k, col in ipairs(dm.primary_key) do stmt = stmt:where(col:eq(ident[k])) end
    run(s, conn, stmt:values(values))
    for k, di in ipairs(didx) do
      local v = values[dm.colkeys[di]]
      if rawequal(v, sa.null) then v = nil end
      C.set(dst, di, v)
    end
  end
end

-- many-to-many association rows: the params of one row
local function assoc_params(r, a, b)
  local p = {}
  for _, q in ipairs(r.sec_local) do
    p[q[1].key] = col_value(a, r.parent, q[2])
  end
  for _, q in ipairs(r.sec_remote) do
    p[q[1].key] = col_value(b, r.target, q[2])
  end
  return p
end

local function emit_assoc(s, conn, list, kind)
  for _, e in ipairs(list) do
    local r = e.rel
    local rows = {}
    for i, pair in ipairs(e.rows) do rows[i] = assoc_params(r, pair[1], pair[2]) end
    if #rows > 0 then
      local stmt
      if kind == "insert" then
        stmt = sa.insert(r.secondary)
      else
        -- (the conditions in the association table's column order, as
        -- SQLAlchemy's, whichever side of the pair wrote the rows)
        local used = {}
        for _, q in ipairs(r.sec_local) do used[q[1].key] = true end
        for _, q in ipairs(r.sec_remote) do used[q[1].key] = true end
        stmt = sa.delete(r.secondary)
        for _, col in ipairs(r.secondary.columns) do
          if used[col.key] then
            stmt = stmt:where(col:eq(sa.bindparam(col.key)))
          end
        end
      end
      local count = run_batch(s, conn, stmt, rows)
      if kind == "delete" and count >= 0 and count ~= #rows then
        raise("StaleDataError", string.format(
          "DELETE statement on table '%s' expected to delete %d row(s); " ..
          "Only %d were matched.", r.secondary.name, #rows, count))
      end
    end
  end
end

-- for the other files of the ORM
I.emit_assoc = emit_assoc
I.emit_inserts = emit_inserts
I.emit_updates = emit_updates
I.apply_sync = apply_sync
I.emit_deletes = emit_deletes
I.emit_post = emit_post
I.emit_saves = emit_saves
