-- reflect.lua -- Table(name, metadata, {autoload_with = engine}) and
-- metadata:reflect(engine, {only = {...}}), built from the Inspector, as
-- SQLAlchemy 1.4's Inspector.reflect_table builds them.
--
-- Loaded once by luaopen_retort with the module table and the MetaData
-- and Inspector method tables; it wraps sa.Table so that the autoload
-- option builds the
-- columns, keys, indexes, UNIQUE and CHECK constraints the database
-- reports.
-- Tables a foreign key refers to are reflected into the same MetaData,
-- as SQLAlchemy does.

local sa, Meta, Insp = ...
local raw_Table = sa.Table

local function options_of(...)
  local n = select("#", ...)
  local last = n > 0 and select(n, ...) or nil
  if type(last) == "table" and getmetatable(last) == nil and
     last.__kind == nil then
    return last, n
  end
  return nil, n
end

local autoload, reflect_table_body

-- The key MetaData md holds a table under ("schema.name" with a schema),
-- for Table()'s schema option: a string, false for none, nil for md's.
local function table_key(md, name, schema)
  if schema == nil then schema = md.schema end
  if type(schema) == "string" then return schema .. "." .. name end
  return name
end

-- A Column object among Table()'s arguments (constraints and options are
-- plain Lua tables).
local function is_column(v)
  return type(v) == "userdata" and v.key ~= nil
end

-- Does `wanted` (include_columns, or nil for all) cover every name?
local function covered(wanted, names)
  if not wanted then return true end
  for _, c in ipairs(names) do
    if not wanted[c] then return false end
  end
  return true
end

-- The reflected columns in table order, a given Column taking the place
-- of the reflected one with its key (SQLAlchemy reflects first and then
-- replaces); given Columns the table lacks and other given items follow.
-- The primary key keeps its reflected name.
local function reflected_columns(insp, name, schema, given, wanted, args)
  local cols = insp:get_columns(name, schema)
  -- the servers raise for a missing table; SQLite answers with nothing
  if #cols == 0 and not insp:has_table(name, schema) then
    sa._raise("NoSuchTableError", name)
  end
  local pk = insp:get_pk_constraint(name, schema)
  local in_pk, by_key, placed, pk_cols = {}, {}, {}, {}
  for _, c in ipairs(pk.constrained_columns or {}) do
    if covered(wanted, {c}) then
      in_pk[c] = true
      pk_cols[#pk_cols + 1] = c
    end
  end
  for _, item in ipairs(given) do
    if is_column(item) then by_key[item.key] = item end
  end
  for _, col in ipairs(cols) do
    local mine = by_key[col.name]
    if mine then
      if in_pk[col.name] and not mine.primary_key then
        sa._raise("ArgumentError", "Trying to redefine primary-key column '" ..
          col.name .. "' as a non-primary-key column on table '" ..
          (schema and schema .. "." or "") .. name .. "'")
      end
      placed[col.name] = true
      args[#args + 1] = mine
    elseif covered(wanted, {col.name}) then
      local copts = {nullable = col.nullable, primary_key = in_pk[col.name]}
      if col.default ~= nil then copts.server_default = sa.text(col.default) end
      if col.comment ~= nil then copts.comment = col.comment end
      -- as SQLAlchemy's reflection passes it to Column: a reflected
      -- serial's nextval() default then stays out of CREATE TABLE
      if col.autoincrement ~= nil then copts.autoincrement = col.autoincrement end
      -- an identity column comes back as one, with its options
      if col.identity then
        args[#args + 1] = sa.Column(col.name, col.type, sa.Identity(col.identity), copts)
      else
        args[#args + 1] = sa.Column(col.name, col.type, copts)
      end
    end
  end
  if pk.name and #pk_cols > 0 then
    pk_cols[#pk_cols + 1] = {name = pk.name}
    args[#args + 1] = sa.PrimaryKeyConstraint(table.unpack(pk_cols))
  end
  return placed
end

-- As SQLAlchemy's Inspector.reflect_table: columns, primary key, foreign
-- keys (their tables reflected too unless resolve_fks is false), indexes,
-- UNIQUE and CHECK constraints.  With include_columns, keys and indexes
-- over other columns are left out; a UNIQUE that MySQL reports as an index
-- too becomes the unique Index only.
local reflecting = setmetatable({}, {__mode = "k"})

local function reflect_table(name, md, bind, opts, given)
  local insp = sa.inspect(bind)
  -- the schema asked of the database: the one given, else md's; false
  -- (a table of no schema in a MetaData with one) asks for none
  local schema = opts.schema
  if schema == nil then schema = md.schema end
  if schema == false then schema = nil end
  -- keys being reflected: a foreign key back into one of them (a
  -- table referring to itself, a cycle) does not start it again
  local busy = reflecting[md] or {}
  local key = table_key(md, name, schema or false)
  reflecting[md] = busy
  busy[key] = true
  local ok, t = pcall(function()
    return reflect_table_body(name, md, bind, opts, given, insp, schema, busy)
  end)
  busy[key] = nil
  if not ok then error(t, 0) end
  return t
end

function reflect_table_body(name, md, bind, opts, given, insp, schema, busy)
  local args = {}
  local wanted
  if opts.include_columns then
    wanted = {}
    for _, c in ipairs(opts.include_columns) do wanted[c] = true end
  end
  local placed = reflected_columns(insp, name, schema, given, wanted, args)
  for _, fk in ipairs(insp:get_foreign_keys(name, schema)) do
    local target, rschema = fk.referred_table, fk.referred_schema
    -- a given Column replacing a reflected one drops that column's keys
    local replaced = false
    for _, c in ipairs(fk.constrained_columns) do
      if placed[c] then replaced = true end
    end
    if covered(wanted, fk.constrained_columns) then
      -- as SQLAlchemy's: a target in no named schema is reflected with
      -- none (not the MetaData's), and the key names the schema it has
      local tschema = rschema or false
      local tkey = table_key(md, target, tschema)
      if opts.resolve_fks ~= false and not busy[tkey] and
         md.tables[tkey] == nil then
        autoload(target, md, bind, {schema = tschema})
      end
      if not replaced then
        local refs = {}
        for i, rc in ipairs(fk.referred_columns) do
          refs[i] = (rschema and rschema .. "." or "") .. target .. "." .. rc
        end
        local o = fk.options or {}
        args[#args + 1] = sa.ForeignKeyConstraint(fk.constrained_columns,
          refs, {name = fk.name, ondelete = o.ondelete, onupdate = o.onupdate})
      end
    end
  end
  -- an index with a column_sorting is made once the table exists, over
  -- its columns with DESC / NULLS FIRST / NULLS LAST applied
  local sorted = {}
  for _, ix in ipairs(insp:get_indexes(name, schema)) do
    if not ix.duplicates_constraint and covered(wanted, ix.column_names) then
      if ix.column_sorting then
        sorted[#sorted + 1] = ix
      else
        local a = {ix.name}
        for _, c in ipairs(ix.column_names) do a[#a + 1] = c end
        a[#a + 1] = {unique = ix.unique}
        args[#args + 1] = sa.Index(table.unpack(a))
      end
    end
  end
  for _, uq in ipairs(insp:get_unique_constraints(name, schema)) do
    if not uq.duplicates_index and covered(wanted, uq.column_names) then
      local a = {table.unpack(uq.column_names)}
      a[#a + 1] = {name = uq.name}
      args[#args + 1] = sa.UniqueConstraint(table.unpack(a))
    end
  end
  for _, ck in ipairs(insp:get_check_constraints(name, schema)) do
    args[#args + 1] = sa.CheckConstraint(ck.sqltext, {name = ck.name})
  end
  for _, item in ipairs(given) do
    if not (is_column(item) and placed[item.key]) then
      args[#args + 1] = item
    end
  end
  -- the table's comment where the dialect keeps one (SQLAlchemy skips a
  -- dialect whose get_table_comment is not implemented: SQLite)
  local comment
  if insp.dialect.name ~= "sqlite" then
    comment = insp:get_table_comment(name, schema).text
  end
  args[#args + 1] = {schema = schema or false,
                     extend_existing = opts.extend_existing,
                     comment = comment}
  local tbl = raw_Table(name, md, table.unpack(args))
  for _, ix in ipairs(sorted) do
    local have = false
    for _, old in ipairs(tbl.indexes) do
      if old.name == ix.name then have = true end
    end
    if not have then
      local a = {ix.name}
      for _, c in ipairs(ix.column_names) do
        local e = tbl.c[c]
        for _, how in ipairs(ix.column_sorting[c] or {}) do e = e[how](e) end
        a[#a + 1] = e
      end
      a[#a + 1] = {unique = ix.unique}
      sa.Index(table.unpack(a))
    end
  end
  return tbl
end

-- Table(name, md, ..., {autoload_with = bind, ...}).  A table md already
-- holds is reflected again only under extend_existing; otherwise the plain
-- constructor decides (the existing Table, or the "already defined" error
-- when new columns come with it), without asking the database.
function autoload(name, md, bind, opts, ...)
  if md.tables[table_key(md, name, opts.schema)] and
     not opts.extend_existing then
    local args = {...}
    args[#args + 1] = {keep_existing = opts.keep_existing, schema = opts.schema}
    return raw_Table(name, md, table.unpack(args))
  end
  return reflect_table(name, md, bind, opts, {...})
end

-- inspector:reflect_table(table, include_columns, exclude_columns,
-- resolve_fks): fill a Table (usually Table(name, md), still empty) from
-- the database, as SQLAlchemy's does: the same Table object is extended.
function Insp.reflect_table(insp, tbl, include_columns, exclude_columns,
                            resolve_fks)
  local md = tbl.metadata
  local wanted = include_columns
  if not insp:has_table(tbl.name, tbl.schema) then
    sa._raise("NoSuchTableError", tbl.name)
  end
  if exclude_columns and #exclude_columns > 0 then
    local skip, only = {}, nil
    for _, c in ipairs(exclude_columns) do skip[c] = true end
    if include_columns then
      only = {}
      for _, c in ipairs(include_columns) do only[c] = true end
    end
    wanted = {}
    for _, c in ipairs(insp:get_columns(tbl.name, tbl.schema)) do
      if not skip[c.name] and covered(only, {c.name}) then
        wanted[#wanted + 1] = c.name
      end
    end
  end
  return reflect_table(tbl.name, md, insp.bind,
                       {schema = tbl.schema or false, extend_existing = true,
                        include_columns = wanted, resolve_fks = resolve_fks},
                       {})
end

-- get_temp_table_names() and get_temp_view_names(): SQLite's temporary
-- tables and views, by name, as SQLAlchemy lists them from
-- sqlite_temp_master; its other dialects raise NotImplementedError.
local function temp_names(insp, kind)
  if insp.dialect.name ~= "sqlite" then sa._raise("NotImplementedError", "") end
  local bind = insp.bind
  local conn = bind.exec_driver_sql and bind or bind:connect()
  local ok, names = pcall(function()
    return conn:exec_driver_sql("SELECT name FROM sqlite_temp_master " ..
                                "WHERE type='" .. kind .. "' ORDER BY name")
               :scalars():all()
  end)
  if conn ~= bind then conn:close() end
  if not ok then error(names, 0) end
  return names
end

function Insp.get_temp_table_names(insp)
  return temp_names(insp, "table")
end

function Insp.get_temp_view_names(insp)
  return temp_names(insp, "view")
end

-- get_table_options(table [, schema]): MySQL's table options from the
-- last line of SHOW CREATE TABLE, keyed as SQLAlchemy's mysql dialect keys
-- them ("mysql_engine", "mysql_default charset", ...); SQLAlchemy's other
-- dialects keep none.
local my_string_options = {"COMMENT", "DATA DIRECTORY", "INDEX DIRECTORY",
                           "PASSWORD", "CONNECTION"}
local my_word_options = {"ENGINE", "TYPE", "AUTO_INCREMENT",
                         "AVG_ROW_LENGTH", "CHARACTER SET", "DEFAULT CHARSET",
                         "CHECKSUM", "COLLATE", "DELAY_KEY_WRITE",
                         "INSERT_METHOD", "MAX_ROWS", "MIN_ROWS", "PACK_KEYS",
                         "ROW_FORMAT", "KEY_BLOCK_SIZE"}
-- options SQLAlchemy leaves out of the answer
local my_dropped = {["auto_increment"] = true, ["data directory"] = true,
                    ["index directory"] = true}

-- Find `directive` (any case) then "=" or spaces, then a value matched by
-- `value` at the start of what follows; returns the value's bounds and the
-- match's.
local function find_option(line, directive, value)
  local upper, from = line:upper(), 1
  while true do
    local s, e = upper:find(directive, from, true)
    if not s then return nil end
    local eq = line:match("^%s*=%s*", e + 1) or line:match("^%s+", e + 1)
    if eq then
      local vs = e + 1 + #eq
      local ve = value(line, vs)
      if ve then return vs, ve, s end
    end
    from = s + 1
  end
end

local function word_at(line, i)
  local w = line:match("^[%w_]+", i)
  return w and i + #w - 1
end

-- 'text' with '' for a quote: the position of the closing quote
local function quoted_at(line, i)
  if line:sub(i, i) ~= "'" then return nil end
  local j = i + 1
  while j <= #line do
    if line:sub(j, j) == "'" then
      if line:sub(j + 1, j + 1) ~= "'" then return j end
      j = j + 1
    end
    j = j + 1
  end
end

local function mysql_table_options(line)
  local options = {}
  local function take(directives, value, clean)
    for _, d in ipairs(directives) do
      local vs, ve, s = find_option(line, d, value)
      if vs then
        local v = line:sub(vs, ve)
        if clean then v = clean(v) end
        options[line:sub(s, s + #d - 1):lower()] = v
        line = line:sub(1, s - 1) .. line:sub(ve + 1)
      end
    end
  end
  take(my_string_options, quoted_at, function(v)
    return (v:sub(2, -2):gsub("''", "'"):gsub("\\\\", "\\"))
  end)
  take(my_word_options, word_at)
  local out = {}
  for k, v in pairs(options) do
    if not my_dropped[k] then out["mysql_" .. k] = v end
  end
  return out
end

function Insp.get_table_options(insp, table_name, schema)
  if type(table_name) ~= "string" then
    sa._raise("ArgumentError",
              "get_table_options: argument #1 must be a table name")
  end
  if insp.dialect.name ~= "mysql" then return {} end
  local function q(name) return "`" .. name:gsub("`", "``") .. "`" end
  local bind = insp.bind
  local conn = bind.exec_driver_sql and bind or bind:connect()
  local ok, ddl = pcall(function()
    return conn:exec_driver_sql("SHOW CREATE TABLE " ..
                                (schema and q(schema) .. "." or "") ..
                                q(table_name)):one()[2]
  end)
  if conn ~= bind then conn:close() end
  if not ok then
    if type(ddl) == "table" and ddl.code == "1146" then
      sa._raise("NoSuchTableError", (schema and q(schema) .. "." or "") ..
                                    q(table_name))
    end
    error(ddl, 0)
  end
  return mysql_table_options(ddl:match("\n%)([^\n]*)$") or "")
end

function sa.Table(name, md, ...)
  local opts, n = options_of(...)
  if opts and opts.autoload_with then
    if opts.keep_existing and opts.extend_existing then
      sa._raise("ArgumentError",
                "keep_existing and extend_existing are mutually exclusive.")
    end
    local given = {...}
    given[n] = nil
    return autoload(name, md, opts.autoload_with,
                    {schema = opts.schema,
                     extend_existing = opts.extend_existing,
                     keep_existing = opts.keep_existing,
                     include_columns = opts.include_columns,
                     resolve_fks = opts.resolve_fks},
                    table.unpack(given, 1, n - 1))
  end
  return raw_Table(name, md, ...)
end

-- metadata:reflect(bind, {only = {...} or function(name, md), views = false,
-- schema = ..., extend_existing = false, resolve_fks = true}): SQLAlchemy
-- loads the tables the MetaData lacks (all of them under extend_existing);
-- `only` names tables that must exist, or filters them.
local function engine_text(bind)
  local s = tostring(bind)
  if s:match("^Engine%(") then return s end
  return tostring(bind.engine)
end

function Meta.reflect(md, bind, opts)
  opts = opts or {}
  local insp = sa.inspect(bind)
  local schema = opts.schema or md.schema
  local names = insp:get_table_names(schema)
  if opts.views then
    for _, v in ipairs(insp:get_view_names(schema)) do
      names[#names + 1] = v
    end
  end
  local wanted = names
  if type(opts.only) == "function" then
    wanted = {}
    for _, n in ipairs(names) do
      if opts.only(n, md) then wanted[#wanted + 1] = n end
    end
  elseif opts.only then
    local have, missing = {}, {}
    for _, n in ipairs(names) do have[n] = true end
    wanted = {}
    for _, n in ipairs(opts.only) do
      if have[n] then
        wanted[#wanted + 1] = n
      else
        missing[#missing + 1] = n
      end
    end
    if #missing > 0 then
      sa._raise("InvalidRequestError",
        "Could not reflect: requested table(s) not available in " ..
        engine_text(bind) ..
        (schema and (" schema '" .. schema .. "'") or "") ..
        ": (" .. table.concat(missing, ", ") .. ")")
    end
  end
  for _, n in ipairs(wanted) do
    -- keyed "schema.name" when reflected from a schema
    if md.tables[table_key(md, n, schema or false)] == nil or
       opts.extend_existing then
      autoload(n, md, bind, {schema = schema,
                             extend_existing = opts.extend_existing,
                             resolve_fks = opts.resolve_fks})
    end
  end
end
