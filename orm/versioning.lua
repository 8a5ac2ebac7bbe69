-- orm/versioning.lua -- __mapper_args__.version_id_col: a counter column
-- that a row's INSERT sets to 1 and each UPDATE increments, the UPDATE and
-- DELETE matching the version the object was loaded with, so a change
-- someone else made in between is a StaleDataError instead of a lost
-- update.  And __mapper_args__.eager_defaults: the values the database
-- generated for a row (server defaults on INSERT, server onupdate on
-- UPDATE) are read back by the flush instead of on first access.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local raise = I.raise

-- the version column of mapper args (an attribute name or the Column)
local function setup_version(m, margs)
  if margs and margs.eager_defaults then
    -- (returned: what an INSERT ... RETURNING brings back, the SQL
    -- expression defaults too, as SQLAlchemy's return_defaults())
    m.eager_cols = {insert = {}, update = {}, returned = {}}
    for i, col in ipairs(m.attr_columns) do
      local _, _, server, onupdate = C.column_defaults(col)
      local d = col.default
      if server then table.insert(m.eager_cols.insert, i) end
      if onupdate then table.insert(m.eager_cols.update, i) end
      if server or (not col.primary_key and type(d) == "table" and
                    d.is_clause_element) then
        table.insert(m.eager_cols.returned, i)
      end
    end
  end
  local vc = margs and margs.version_id_col
  if vc == nil then return end
  local i
  if type(vc) == "string" then
    i = m.slots[vc]
  elseif C.node_kind(vc) == "column" then
    i = m.attr_by_ptr[C.node_ptr(vc)]
  end
  if not i or i > #m.attr_columns then
    raise("ArgumentError", "version_id_col: " .. tostring(vc) ..
          " is not a column of " .. m.class.__name__)
  end
  m.version_idx = i
  -- version_id_generator: the next version from the last (nil on INSERT);
  -- false: the database makes it, the flush reads it back
  local gen = margs.version_id_generator
  if gen ~= nil and gen ~= false and type(gen) ~= "function" then
    raise("ArgumentError", "version_id_generator must be a function or " ..
          "false")
  end
  m.version_gen = gen
end

-- the next version after v (nil: the first)
local function next_version(m, v)
  local gen = m.version_gen
  if gen then return gen(v) end
  return (v or 0) + 1
end

local function versioned_stmt(m, kind)
  m._vstmts = m._vstmts or {}
  local stmt = m._vstmts[kind]
  if stmt then return stmt end
  stmt = kind == "update" and sa.update(m.local_table) or
         sa.delete(m.local_table)
  for k, col in ipairs(m.primary_key) do
    stmt = stmt:where(col:eq(sa.bindparam("pk_" .. m.colkeys[m.pk_index[k]])))
  end
  stmt = stmt:where(m.attr_columns[m.version_idx]:eq(sa.bindparam("version_old")))
  m._vstmts[kind] = stmt
  return stmt
end

-- pending objects start at the first version (1), whatever they were
-- given, as SQLAlchemy's INSERT does; with version_id_generator=false the
-- database gives it
local function version_inserts(m, objs)
  local vi = m.version_idx
  if m.version_gen == false then return end
  for _, obj in ipairs(objs) do obj[m.keys[vi]] = next_version(m, nil) end
end

-- version_id_generator=false: the versions the statements left to the
-- database, read back once the mapper's rows are written, as SQLAlchemy
-- does (one SELECT per object whose version the flush does not know)
local function fetch_versions(s, conn, m, objs, unknown)
  local vi = m.version_idx
  local col = m.attr_columns[vi]
  for _, obj in ipairs(objs) do
    if unknown[obj] then
      local stmt = sa.select(col:label(col.table.name .. "_" .. col.name))
      for k, pk in ipairs(m.primary_key) do
        stmt = stmt:where(pk:eq(I.col_value(obj, m, m.pk_index[k])))
      end
      local row = I.run(s, conn, stmt):first()
      C.set(obj, vi, row and row[1])
    end
    if unknown[obj] ~= nil and select(1, C.get(obj, vi)) == nil then
      raise("FlushError", "Instance does not contain a non-NULL version value")
    end
  end
end

-- after the INSERTs of a version_id_generator=false mapper
local function inserted_versions(s, conn, m, objs)
  if m.version_gen ~= false then return end
  local unknown = {}
  for _, obj in ipairs(objs) do
    unknown[obj] = not select(2, C.get(obj, m.version_idx))
  end
  fetch_versions(s, conn, m, objs, unknown)
end

local function sort_by_identity(m, list)
  local key = {}
  for _, obj in ipairs(list) do
    local k = C.identity(obj)
    if #m.pk_index > 1 then k = I.key_of(m, k) end
    key[obj] = k
  end
  table.sort(list, function(a, b)
    local x, y = key[a], key[b]
    if math.type(x) and math.type(y) then return x < y end
    return tostring(x) < tostring(y)
  end)
end

-- an expired version is read before the UPDATE that must match it, as
-- any expired attribute is (orm/expired_load.lua: with the other expired
-- ones, the key among them when it is expired too)
local function load_version(s, conn, m, obj)
  local _ = obj[m.keys[m.version_idx]]
end

local server_onupdates -- below

local function find_index(list, v)
  for k, x in ipairs(list) do if x == v then return k end end
  return nil
end

-- UPDATEs of a versioned mapper: one per row (its rowcount is the check),
-- the version incremented unless the object's own change set it
local function emit_versioned_updates(s, conn, m, objs, done)
  done.upd[#done.upd + 1] = {m, objs}
  local vi = m.version_idx
  local sigs = C.update_sigs(objs, #m.colkeys)
  local list = {}
  for r, obj in ipairs(objs) do if sigs[r] then list[#list + 1] = obj end end
  sort_by_identity(m, list)
  -- attributes set to SQL expressions (C.sql_rows) render inline
  local sql = C.sql_rows(list, m.colkeys)
  -- version_id_generator=false: a version the UPDATE leaves to the
  -- database comes back by RETURNING (PostgreSQL) or, when a
  -- server_onupdate changes it, a SELECT after the rows
  local fetched = m.version_gen == false and {}
  local returning = fetched and conn.dialect.name == "postgresql"
  local refreshed = fetched and not returning and
                    find_index(server_onupdates(m), vi) ~= nil
  for r, obj in ipairs(list) do
    local old, ret
    if fetched then fetched[obj] = false end
    if select(2, C.flags(obj, vi)) then
      old = C.committed(obj, vi)
    else
      if not select(2, C.get(obj, vi)) then load_version(s, conn, m, obj) end
      old = C.get(obj, vi)
      if fetched then
        ret = returning
        fetched[obj] = refreshed
      else
        obj[m.keys[vi]] = next_version(m, old)
      end
    end
    local params = C.update_params(obj, m.colkeys, m.pk_params)
    I.fill_defaults(m, "onupdate", obj, params, done)
    params.version_old = old == nil and sa.null or old
    local stmt = versioned_stmt(m, "update")
    if sql and sql[r] then
      stmt = stmt:values(I.split_sql(m, params, sql[r]))
      I.expire_sql_after(done, obj, sql[r])
    end
    if ret then stmt = stmt:returning(m.attr_columns[vi]) end
    local res = I.run(s, conn, stmt, params)
    I.check_updated(m, 1, res.rowcount)
    if ret then
      local row = res:first()
      C.set(obj, vi, row and row[1])
      fetched[obj] = false -- (known now: checked for NULL below)
    end
  end
  if fetched then fetch_versions(s, conn, m, list, fetched) end
  if m.eager_cols then
    I.fetch_server_values(s, conn, m, list, "update")
    I.note_clause_onupdates(m, list, done)
  else
    I.note_server_onupdates(m, list, done)
  end
end

-- DELETEs of a versioned mapper: rows matched by key and version; fewer
-- rows deleted than objects is a StaleDataError
local function emit_versioned_deletes(s, conn, m, objs, done)
  if #objs == 0 then return end
  local list = {}
  for i, obj in ipairs(objs) do
    list[i] = obj
    done.del[#done.del + 1] = obj
  end
  sort_by_identity(m, list)
  local rows = {}
  for i, obj in ipairs(list) do
    local p, iv = {}, I.ident_vals(obj, m)
    for k, idx in ipairs(m.pk_index) do p["pk_" .. m.colkeys[idx]] = iv[k] end
    local v = C.committed(obj, m.version_idx)
    if v == nil then v = I.col_value(obj, m, m.version_idx) end
    p.version_old = v == nil and sa.null or v
    rows[i] = p
  end
  local stmt = versioned_stmt(m, "delete")
  local r
  if #rows == 1 then r = I.run(s, conn, stmt, rows[1])
  else r = I.run(s, conn, stmt, rows) end
  local count = r.rowcount
  if count >= 0 and count ~= #rows then
    raise("StaleDataError", string.format(
      "DELETE statement on table '%s' expected to delete %d row(s); %d " ..
      "were matched.  Please set confirm_deleted_rows=False within the " ..
      "mapper configuration to prevent this warning.", m.local_table.name,
      #rows, count))
  end
end

-- eager_defaults: per object, one SELECT of the generated columns it
-- did not set (kind "insert" or "update"), after the mapper's statements
local function fetch_server_values(s, conn, m, objs, kind)
  local idx = m.eager_cols[kind]
  if #idx == 0 then return end
  for _, obj in ipairs(objs) do
    local want = {}
    for _, i in ipairs(idx) do
      local loaded = select(2, C.get(obj, i))
      local modified = select(2, C.flags(obj, i))
      if kind == "insert" and not loaded or kind == "update" and
         not modified then
        want[#want + 1] = i
      end
    end
    if #want > 0 then
      local cols = {}
      -- (labelled table_column, as SQLAlchemy's ORM selects them)
      for k, i in ipairs(want) do
        local col = m.attr_columns[i]
        cols[k] = col:label(col.table.name .. "_" .. col.name)
      end
      local stmt = sa.select(table.unpack(cols))
      for k, col in ipairs(m.primary_key) do
        stmt = stmt:where(col:eq(I.col_value(obj, m, m.pk_index[k])))
      end
      local row = I.run(s, conn, stmt):first()
      if row then
        for k, i in ipairs(want) do C.set(obj, i, row[k]) end
      end
    end
  end
end

-- the indexes of m's columns an UPDATE gives a value the flush does not
-- know: a server_onupdate (FetchedValue, or what the database applies)
-- or an onupdate SQL expression, found once
local function refreshed_on_update(col)
  local ou = col.onupdate
  return select(4, C.column_defaults(col)) or ou and ou.is_clause_element
end

function server_onupdates(m)
  if m._server_onupdate then return m._server_onupdate end
  local out = {}
  for i = 1, #m.keys do
    if m.part_of then
      -- one table's part of a hierarchy: the attribute's column in it
      for _, col in ipairs(m.part_of.attr_cols[i] or {}) do
        if C.node_ptr(col.table) == m.ptr and refreshed_on_update(col) then
          out[#out + 1] = i
          break
        end
      end
    elseif m.attr_columns and m.attr_columns[i] and
           refreshed_on_update(m.attr_columns[i]) then
      out[#out + 1] = i
    end
  end
  m._server_onupdate = out
  return out
end

-- Without eager_defaults the values a server_onupdate gave the rows just
-- updated are unknown: as SQLAlchemy does, those attributes the UPDATE
-- did not set expire once the flush succeeds, and load on next access.
local function note_server_onupdates(m, objs, done)
  local idx = server_onupdates(m)
  if #idx == 0 then return end
  done.expire_after = done.expire_after or {}
  for _, obj in ipairs(objs) do
    local want = {}
    for _, i in ipairs(idx) do
      -- (a version the database makes is read back by the flush)
      if not select(2, C.flags(obj, i)) and
         not (i == m.version_idx and m.version_gen == false) then
        want[#want + 1] = i
      end
    end
    if #want > 0 then table.insert(done.expire_after, {obj, want}) end
  end
end

-- With eager_defaults the flush reads the server_onupdate values back,
-- but an onupdate SQL expression's value is still expired, as SQLAlchemy
-- does (eager_defaults fetches server-side values only).
local function note_clause_onupdates(m, objs, done)
  local idx = server_onupdates(m)
  if #idx == 0 then return end
  local eager = {}
  for _, i in ipairs(m.eager_cols.update) do eager[i] = true end
  for _, obj in ipairs(objs) do
    local want = {}
    for _, i in ipairs(idx) do
      if not eager[i] and not select(2, C.flags(obj, i)) then
        want[#want + 1] = i
      end
    end
    if #want > 0 then
      done.expire_sql = done.expire_sql or {}
      table.insert(done.expire_sql, {obj, want})
    end
  end
end

-- eager_defaults with RETURNING: the attributes obj's UPDATE leaves to
-- the database (server_onupdate, onupdate SQL expressions), which it
-- returns
local function update_returning(m, obj)
  local out = {}
  for _, i in ipairs(server_onupdates(m)) do
    if not select(2, C.flags(obj, i)) then out[#out + 1] = i end
  end
  return out
end

-- does obj's UPDATE leave a server_onupdate to the database (eager_defaults)?
local function unset_server_onupdates(m, obj)
  for _, i in ipairs(m.eager_cols.update) do
    if not select(2, C.flags(obj, i)) then return true end
  end
  return false
end

local base_apply_flush = I.apply_flush
function I.apply_flush(s, done)
  base_apply_flush(s, done)
  for _, e in ipairs(done.expire_after or {}) do C.expire(e[1], e[2]) end
end

-- the server-default attributes a pending object leaves to the database
-- (nil: none)
local function missing_defaults(m, obj)
  local out
  for _, i in ipairs(m.eager_cols.returned) do
    if not select(2, C.get(obj, i)) then
      out = out or {}
      out[#out + 1] = i
    end
  end
  return out
end

-- INSERT ... RETURNING the generated key (when `genpk`) and the missing
-- server defaults, as SQLAlchemy's return_defaults() does; and the kind
-- under which its compiled form is cached
local function returning_insert(m, ins, missing, genpk)
  local kind = "insert_defaults" .. (genpk and "+pk" or "") .. ":" ..
               table.concat(missing, ",")
  m._stmts[kind] = m._stmts[kind] or (function()
    local cols = {}
    if genpk then
      for k, col in ipairs(m.primary_key) do cols[k] = col end
    end
    for _, i in ipairs(missing) do cols[#cols + 1] = m.attr_columns[i] end
    return ins:returning(table.unpack(cols))
  end)()
  return m._stmts[kind], kind
end

local function returned_defaults(m, obj, row, missing, genpk)
  local k = 0
  if genpk then
    for _, idx in ipairs(m.pk_index) do k = k + 1; C.set(obj, idx, row[k]) end
  end
  for _, i in ipairs(missing) do k = k + 1; C.set(obj, i, row[k]) end
end

-- for the other files of the ORM
I.emit_versioned_deletes = emit_versioned_deletes
I.emit_versioned_updates = emit_versioned_updates
I.fetch_server_values = fetch_server_values
I.note_server_onupdates = note_server_onupdates
I.note_clause_onupdates = note_clause_onupdates
I.unset_server_onupdates = unset_server_onupdates
I.update_returning = update_returning
I.missing_defaults = missing_defaults
I.returned_defaults = returned_defaults
I.returning_insert = returning_insert
I.setup_version = setup_version
I.version_inserts = version_inserts
I.inserted_versions = inserted_versions
