-- shell.lua -- the shell's Lua half: the global `db`, what \dt, \dv, \d
-- and \erd print, and the names tab completion offers.
--
-- Loaded once by the shell (as package.loaded["retort.shell"]).  Names
-- the Inspector reports are cached per engine, so completion answers from
-- memory; SQL typed at the prompt that changes the schema calls refresh.

local sa = ...
local M = {}

-- engine -> {tables = {...}, views = {...}, columns = {t -> {...}},
-- schemas = {...}, in_schema = {schema -> the same for that schema}}
local cache = setmetatable({}, {__mode = "k"})

-- the cached names of `schema` (nil: the default schema) of engine
local function names_of(engine, schema)
  local c = cache[engine]
  if c == nil then
    c = {columns = {}, in_schema = {}, born = sa._monotonic()}
    cache[engine] = c
  end
  if schema == nil then return c end
  local s = c.in_schema[schema]
  if s == nil then
    s = {columns = {}}
    c.in_schema[schema] = s
  end
  return s
end

-- engine -> the database SQL typed at the prompt chose with USE
-- (MySQL), when it is not the URL's: what a name without a schema means
-- to \dt, \d, completion and `db`, as it does to the mysql client
local current = setmetatable({}, {__mode = "k"})

local function sorted(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  return t
end

function M.tables(engine, schema)
  schema = schema or current[engine]
  local c = names_of(engine, schema)
  if c.tables == nil then
    c.tables = sorted(sa.inspect(engine):get_table_names(schema))
  end
  return c.tables
end

function M.views(engine, schema)
  schema = schema or current[engine]
  local c = names_of(engine, schema)
  if c.views == nil then
    c.views = sorted(sa.inspect(engine):get_view_names(schema))
  end
  return c.views
end

-- the schemas (PostgreSQL), databases (MySQL) or attached databases
-- (SQLite) the engine can see
function M.schemas(engine)
  local c = names_of(engine)
  if c.schemas == nil then
    local ok, list = pcall(function()
      return sa.inspect(engine):get_schema_names()
    end)
    c.schemas = ok and sorted(list) or {}
  end
  return c.schemas
end

function M.columns(engine, t, schema)
  schema = schema or current[engine]
  local c = names_of(engine, schema)
  local cols = c.columns[t]
  if cols == nil then
    cols = {}
    local ok, list = pcall(function()
      return sa.inspect(engine):get_columns(t, schema)
    end)
    if ok then
      for i, col in ipairs(list) do cols[i] = col.name end
    end
    c.columns[t] = cols
  end
  return cols
end

-- A background refresh's answer (see shell/refresh.h): the tables and
-- views it read replace the cached ones, and so do the columns it read;
-- the columns of a table that is gone are forgotten.
function M.install(engine, tables, views, columns)
  local c = names_of(engine)
  c.tables, c.views = sorted(tables), sorted(views)
  c.born = sa._monotonic()
  local present = {}
  for _, t in ipairs(tables) do present[t] = true end
  for _, t in ipairs(views) do present[t] = true end
  for t in pairs(c.columns) do
    if not present[t] then c.columns[t] = nil end
  end
  for t, cols in pairs(columns) do
    if present[t] then c.columns[t] = cols end
  end
end

-- the tables of the default schema whose columns completion has read,
-- which the background refresh reads again
function M.column_tables(engine)
  local c, list = cache[engine], {}
  if c then
    for t in pairs(c.columns) do list[#list + 1] = t end
    table.sort(list)
  end
  return list
end

-- forget what was reflected (after DDL, or \c)
function M.refresh(engine)
  cache[engine] = nil
  if M.db_engine == engine and M.db_reset then M.db_reset() end
end

-- The shell's connection now uses database `name` (nil: the URL's).
-- The names read so far, and the tables of `db`, were another's.
function M.use(engine, name)
  if name ~= nil then
    local ok, default = pcall(function()
      return sa.inspect(engine).default_schema_name
    end)
    if ok and name == default then name = nil end
  end
  if current[engine] == name then return end
  current[engine] = name
  M.refresh(engine)
end

-- Inspector methods that take a table name and then a schema
local per_table = {
  get_columns = true, get_pk_constraint = true, get_foreign_keys = true,
  get_indexes = true, get_unique_constraints = true,
  get_check_constraints = true}

-- The engine's Inspector, where a table without a schema is one of the
-- database USE chose, and a key that refers to a table of that database
-- names no schema, as one of the URL's does.
local function inspector(engine)
  local insp, cur = sa.inspect(engine), current[engine]
  if cur == nil then return insp end
  return setmetatable({}, {__index = function(_, k)
    local v = insp[k]
    if not per_table[k] then
      if type(v) ~= "function" then return v end
      return function(_, ...) return v(insp, ...) end
    end
    return function(_, name, schema)
      local r = v(insp, name, schema or cur)
      if k == "get_foreign_keys" then
        for _, fk in ipairs(r) do
          if fk.referred_schema == cur then fk.referred_schema = nil end
        end
      end
      return r
    end
  end})
end

-- `name` in `list` (any case when no exact match), or nil
local function find_in(list, name, lower)
  for _, t in ipairs(list) do
    if t == name then return t, true end
    if t:lower() == name:lower() then lower = lower or t end
  end
  return lower, false
end

-- the table or view named `name` in `schema` (any case when there is no
-- exact match), or nil
local function find_table(engine, name, schema)
  local t, exact = find_in(M.tables(engine, schema), name)
  if exact then return t end
  return (find_in(M.views(engine, schema), name, t))
end

local function find_schema(engine, name)
  return (find_in(M.schemas(engine), name))
end

-- "schema.name" as schema, name; a name without a dot as nil, name
local function split_name(qualified)
  local schema, name = qualified:match("^([^.]+)%.(.*)$")
  if schema then return schema, name end
  return nil, qualified
end

--[[ The global `db` ]]

-- db object -> {engine, schema}, for completion (which must not reflect
-- every table)
local dbs = setmetatable({}, {__mode = "k"})

local function no_such(engine, schema, name, hint)
  local where = tostring(engine.url)
  schema = schema or current[engine]
  if schema then where = string.format("schema %q of %s", schema, where) end
  return string.format("db: no table or view named %q in %s%s",
                       tostring(name), where,
                       hint and string.format(' (did you mean "%s"?)', hint)
                         or "")
end

--[[
db.name is the table `name` of the default schema, reflected on first
use; a table of another schema (PostgreSQL), database (MySQL) or attached
database (SQLite) is db.schema.name or db["schema.name"], when no table of
the default schema has that name.  All of them share one MetaData (held
in `state`, which \c and DDL renew), so foreign keys across schemas meet.
db.classes: the classes orm.automap_base() maps the whole database to,
made on first use (a table named "classes" is then reached with
sa.Table("classes", sa.MetaData(), {autoload_with = engine})).
]]
local function new_db(engine, schema, state)
  local db, mt = {}, {}
  local function table_of(name)
    local sch = schema or current[engine]
    local t = state.md.tables[sch and sch .. "." .. name or name]
    if t == nil then
      t = sa.Table(name, state.md, {schema = sch, autoload_with = engine})
    end
    rawset(db, name, t)
    return t
  end
  function mt.__index(_, name)
    if type(name) ~= "string" then
      error(no_such(engine, schema, name), 2)
    end
    if name == "classes" and schema == nil then
      local Base = require("retort.orm").automap_base()
      Base:prepare{autoload_with = engine}
      rawset(db, name, Base.classes)
      return Base.classes
    end
    if find_table(engine, name, schema) ~= name then
      cache[engine] = nil -- made since the names were read (create_all)?
    end
    local found = find_table(engine, name, schema)
    if found == name then return table_of(name) end
    if schema == nil then
      local sch, rest = split_name(name)
      if sch and find_schema(engine, sch) == sch then
        local t = db[sch][rest]
        rawset(db, name, t)
        return t
      end
      if find_schema(engine, name) == name then
        local sub = new_db(engine, name, state)
        state.subs[#state.subs + 1] = sub
        rawset(db, name, sub)
        return sub
      end
      found = found or find_schema(engine, name)
    end
    error(no_such(engine, schema, name, found), 2)
  end
  function mt.__pairs()
    local list, i = {}, 0
    for _, t in ipairs(M.tables(engine, schema)) do list[#list + 1] = t end
    for _, t in ipairs(M.views(engine, schema)) do list[#list + 1] = t end
    return function()
      i = i + 1
      if list[i] then return list[i], db[list[i]] end
    end
  end
  function mt.__tostring()
    if schema then
      return string.format("db: the tables of schema %s of %s", schema,
                           tostring(engine.url))
    end
    return "db: the tables of " .. tostring(engine.url)
  end
  setmetatable(db, mt)
  dbs[db] = {engine = engine, schema = schema}
  return db
end

function M.make_db(engine)
  local state = {md = sa.MetaData(), subs = {}}
  local db = new_db(engine, nil, state)
  local function reset()
    state.md = sa.MetaData()
    for _, d in ipairs(state.subs) do
      for k in next, d do rawset(d, k, nil) end
    end
    state.subs = {}
    for k in next, db do rawset(db, k, nil) end
  end
  M.db_engine, M.db_reset = engine, reset
  return db
end

--[[ \dt, \dv and \d ]]

-- a shell pattern (* and ?) as an anchored Lua pattern, any case
local function like(pattern)
  if pattern == nil or pattern == "" then return nil end
  local p = pattern:lower():gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0")
  p = p:gsub("%*", ".*"):gsub("%?", ".")
  return "^" .. p .. "$"
end

-- {columns, rows} for \dt and \dv
-- The commands read the names afresh: the schema may have changed
-- through Lua (metadata:create_all) or another client.
local function fresh(engine)
  cache[engine] = nil
end

-- A pattern schema.name lists the tables of the schemas that match the
-- schema part (`\dt sales.*`, `\dt *.*`), with a column for the schema.
-- The indexes of the tables of `schema`, as psql's \di lists them: the
-- primary key's (where the database names it) and every other, those
-- behind unique constraints too.  {{index, table}, ...}
local function indexes(engine, schema)
  local insp, out = inspector(engine), {}
  for _, t in ipairs(M.tables(engine, schema)) do
    local seen = {}
    local pk = insp:get_pk_constraint(t, schema)
    if pk.name and #(pk.constrained_columns or {}) > 0 then
      seen[pk.name] = true
      out[#out + 1] = {pk.name, t}
    end
    for _, ix in ipairs(insp:get_indexes(t, schema)) do
      if ix.name and not seen[ix.name] then
        seen[ix.name] = true
        out[#out + 1] = {ix.name, t}
      end
    end
  end
  return out
end

-- the owner of each relation of PostgreSQL's catalog, by "schema.name"
local function owners(engine)
  local c, out = engine:connect(), {}
  local ok, list = pcall(function()
    return c:exec_driver_sql(
      "SELECT n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner) " ..
      "FROM pg_catalog.pg_class c " ..
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " ..
      "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I', 'S')"):all()
  end)
  c:close()
  if not ok then error(list, 0) end
  for _, r in ipairs(list) do out[r[1] .. "." .. r[2]] = r[3] end
  return out
end

-- On PostgreSQL the lists have psql's columns: Schema (the default
-- schema's name when the pattern named none) and Owner after Type
local function psql_columns(engine, cols, rows)
  if cols[1] ~= "Schema" then
    local default = sa.inspect(engine).default_schema_name
    table.insert(cols, 1, "Schema")
    for _, r in ipairs(rows) do table.insert(r, 1, default) end
  end
  local by = owners(engine)
  table.insert(cols, 4, "Owner")
  for _, r in ipairs(rows) do
    table.insert(r, 4, by[r[1] .. "." .. r[2]] or "")
  end
end

-- what is "t" (tables), "v" (views), "tv" (both) or "i" (indexes)
function M.list(engine, what, pattern)
  fresh(engine)
  local rows = {}
  local spat, npat = nil, pattern
  if pattern and pattern:find(".", 1, true) then
    spat, npat = pattern:match("^([^.]*)%.(.*)$")
    if spat == "" then spat = "*" end
  end
  local p, sp = like(npat), like(spat)
  local function add(list, kind, schema)
    for _, name in ipairs(list) do
      local ix -- an index: {name, table}
      if type(name) == "table" then name, ix = name[1], name[2] end
      if p == nil or name:lower():find(p) then
        local row = schema and {schema, name, kind} or {name, kind}
        row[#row + 1] = ix
        rows[#rows + 1] = row
      end
    end
  end
  local function add_schema(schema)
    if what == "i" then
      add(indexes(engine, schema), "index", schema)
      return
    end
    if what ~= "v" then add(M.tables(engine, schema), "table", schema) end
    if what ~= "t" then add(M.views(engine, schema), "view", schema) end
    if what == "tv" and engine.dialect.name == "postgresql" then
      -- psql's \d lists the sequences too
      add(sorted(inspector(engine):get_sequence_names(schema)), "sequence",
          schema)
    end
  end
  local cols = {"Name", "Type"}
  if what == "i" then cols[3] = "Table" end
  if sp == nil then
    add_schema(nil)
  else
    for _, schema in ipairs(M.schemas(engine)) do
      if schema:lower():find(sp) then add_schema(schema) end
    end
    table.insert(cols, 1, "Schema")
  end
  if engine.dialect.name == "postgresql" then psql_columns(engine, cols, rows) end
  -- by schema, name, and (an index's name is not unique in MySQL) table
  table.sort(rows, function(a, b)
    for i = 1, #a do
      if a[i] ~= b[i] then return a[i] < b[i] end
    end
    return false
  end)
  return cols, rows
end

-- {columns, rows} for \dn: the schemas (PostgreSQL, with their owners
-- and without the system's, as psql lists them), databases (MySQL) or
-- attached databases (SQLite) whose names match the pattern
function M.schema_list(engine, pattern)
  fresh(engine)
  local p, rows = like(pattern), {}
  if engine.dialect.name == "postgresql" then
    local c = engine:connect()
    local ok, list = pcall(function()
      return c:exec_driver_sql(
        "SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) " ..
        "FROM pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_' " ..
        "AND n.nspname <> 'information_schema' ORDER BY 1"):all()
    end)
    c:close()
    if not ok then error(list, 0) end
    for _, r in ipairs(list) do
      if p == nil or r[1]:lower():find(p) then
        rows[#rows + 1] = {r[1], r[2]}
      end
    end
    return {"Name", "Owner"}, rows
  end
  for _, name in ipairs(M.schemas(engine)) do
    if p == nil or name:lower():find(p) then rows[#rows + 1] = {name} end
  end
  return {"Name"}, rows
end

-- the query behind \l, and its columns: psql's (the columns every
-- server version has) on PostgreSQL, the like of them elsewhere
local databases = {
  postgresql = {
    "SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba), " ..
    "pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, " ..
    "pg_catalog.array_to_string(d.datacl, E'\\n') " ..
    "FROM pg_catalog.pg_database d ORDER BY 1",
    {"Name", "Owner", "Encoding", "Collate", "Ctype", "Access privileges"}},
  mysql = {
    "SELECT schema_name, default_character_set_name, default_collation_name " ..
    "FROM information_schema.schemata ORDER BY 1",
    {"Name", "Encoding", "Collate"}},
  sqlite = {"PRAGMA database_list", {"Name", "File"}},
}

-- {columns, rows} for \l: the databases whose names match the pattern
function M.database_list(engine, pattern)
  local how = databases[engine.dialect.name]
  if how == nil then
    error("\\l: no list of databases for " .. engine.dialect.name, 0)
  end
  local c = engine:connect()
  local ok, list = pcall(function()
    return c:exec_driver_sql(how[1]):all()
  end)
  c:close()
  if not ok then error(list, 0) end
  local p, rows, ncols = like(pattern), {}, #how[2]
  for _, r in ipairs(list) do
    -- (SQLite's list starts with a sequence number)
    local first = engine.dialect.name == "sqlite" and 2 or 1
    local row = {}
    for i = 1, ncols do
      local v = r[first + i - 1]
      row[i] = v ~= nil and v ~= sa.null and tostring(v) or ""
    end
    if p == nil or row[1]:lower():find(p) then rows[#rows + 1] = row end
  end
  return how[2], rows
end

-- the query behind \df: psql's on PostgreSQL (the functions the search
-- path sees); on MySQL the routines of the database in
-- use, their parameters as pg_get_function_arguments writes them
local functions = {
  postgresql =
    "SELECT n.nspname, p.proname, " ..
    "pg_catalog.pg_get_function_result(p.oid), " ..
    "pg_catalog.pg_get_function_arguments(p.oid), " ..
    "CASE p.prokind WHEN 'a' THEN 'agg' WHEN 'w' THEN 'window' " ..
    "WHEN 'p' THEN 'proc' ELSE 'func' END " ..
    "FROM pg_catalog.pg_proc p " ..
    "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace " ..
    "WHERE pg_catalog.pg_function_is_visible(p.oid) " ..
    "AND (%s OR n.nspname <> 'pg_catalog' " ..
    "AND n.nspname <> 'information_schema') ORDER BY 1, 2, 4",
  mysql =
    "SELECT r.routine_schema, r.routine_name, " ..
    "COALESCE(r.dtd_identifier, ''), " ..
    "COALESCE((SELECT GROUP_CONCAT(CONCAT(" ..
    "CASE WHEN p.parameter_mode IN ('OUT', 'INOUT') " ..
    "THEN CONCAT(p.parameter_mode, ' ') ELSE '' END, " ..
    "p.parameter_name, ' ', p.dtd_identifier) " ..
    "ORDER BY p.ordinal_position SEPARATOR ', ') " ..
    "FROM information_schema.parameters p " ..
    "WHERE p.specific_schema = r.routine_schema " ..
    "AND p.specific_name = r.specific_name AND p.ordinal_position > 0), ''), " ..
    "CASE r.routine_type WHEN 'PROCEDURE' THEN 'proc' ELSE 'func' END " ..
    "FROM information_schema.routines r " ..
    "WHERE r.routine_schema = COALESCE(%s, DATABASE()) ORDER BY 1, 2, 4",
}

-- {columns, rows} for \df: the functions whose names match the pattern
-- (SQLite keeps none in the database); as psql's, the system's only when
-- a pattern asks for them
function M.function_list(engine, pattern)
  local cols = {"Schema", "Name", "Result data type", "Argument data types",
                "Type"}
  local sql, rows, p = functions[engine.dialect.name], {}, like(pattern)
  if sql == nil then return cols, rows end
  local c = engine:connect()
  local ok, list = pcall(function()
    if engine.dialect.name == "mysql" then
      return c:exec_driver_sql(sql, {current[engine] or sa.null}):all()
    end
    return c:exec_driver_sql(sql, {p ~= nil}):all()
  end)
  c:close()
  if not ok then error(list, 0) end
  for _, r in ipairs(list) do
    if p == nil or r[2]:lower():find(p) then
      local row = {}
      for i = 1, 5 do row[i] = tostring(r[i] or "") end
      rows[#rows + 1] = row
    end
  end
  return cols, rows
end

local function quoted(name)
  return '"' .. name .. '"'
end

-- the tables and views \d PATTERN describes, each as \d names one
-- ("schema"."name" where the list has a schema)
function M.described(engine, pattern)
  local cols, rows = M.list(engine, "tv", pattern)
  local out, has_schema = {}, cols[1] == "Schema"
  local kind = has_schema and 3 or 2
  for _, r in ipairs(rows) do
    if r[kind] ~= "sequence" then
      out[#out + 1] = has_schema and
        quoted(r[1]:gsub('"', '""')) .. "." .. quoted(r[2]:gsub('"', '""'))
        or quoted(r[1]:gsub('"', '""'))
    end
  end
  return out
end

local function collist(cols)
  return "(" .. table.concat(cols, ", ") .. ")"
end

-- the foreign keys of every other table that refer to `name`
-- (in its own schema and, for a table of another schema, in the default
-- one): {table as \d names it, fk}
local function referenced_by(engine, insp, name, schema)
  local out = {}
  local function scan(where)
    for _, t in ipairs(M.tables(engine, where)) do
      for _, fk in ipairs(insp:get_foreign_keys(t, where)) do
        if fk.referred_table == name and
           (fk.referred_schema or where) == schema then
          out[#out + 1] = {where and where .. "." .. t or t, fk}
        end
      end
    end
  end
  scan(schema)
  if schema then scan(nil) end
  return out
end

-- a table of a schema other than the default is named with its schema,
-- each part quoted: "sales"."customer", not the one name "sales.customer"
local function fk_text(fk)
  local target = quoted(fk.referred_table)
  if fk.referred_schema then
    target = quoted(fk.referred_schema) .. "." .. target
  end
  return string.format("FOREIGN KEY %s REFERENCES %s%s",
                       collist(fk.constrained_columns), target,
                       collist(fk.referred_columns))
end

-- the parts of a name written with psql's double quotes ("Album",
-- public."Album", "a.b"; "" is a quote inside), or nil when it has none
-- or is not a well-formed name
local function quoted_parts(arg)
  if not arg:find('"', 1, true) then return nil end
  local parts, i, n = {}, 1, #arg
  while i <= n do
    if arg:sub(i, i) == '"' then
      local buf, j = {}, i + 1
      while true do
        local c = arg:sub(j, j)
        if c == "" then return nil end -- no closing quote
        if c == '"' and arg:sub(j + 1, j + 1) ~= '"' then break end
        buf[#buf + 1] = c
        j = j + (c == '"' and 2 or 1)
      end
      parts[#parts + 1] = table.concat(buf)
      i = j + 1
    else
      local j = arg:find('[."]', i) or n + 1
      parts[#parts + 1] = arg:sub(i, j - 1)
      i = j
    end
    if i <= n then
      if arg:sub(i, i) ~= "." or i == n then return nil end
      i = i + 1
    end
  end
  return parts
end

-- a CHECK's text without the `)` SQLite's reflection may leave at its
-- end (as SQLAlchemy's does) when nothing opened it
local function balanced(sql)
  local depth = 0
  for ch in sql:gmatch("[()]") do
    depth = depth + (ch == "(" and 1 or -1)
  end
  while depth < 0 and sql:find("%)%s*$") do
    sql = sql:gsub("%)%s*$", "", 1)
    depth = depth + 1
  end
  return sql
end

-- NAME or SCHEMA.NAME as the schema (nil: the default) and the table
-- or view it names, or nil
local function resolve(engine, arg)
  local parts = quoted_parts(arg)
  if parts and #parts == 1 then return nil, find_table(engine, parts[1]) end
  if parts and #parts == 2 then
    local schema = find_schema(engine, parts[1])
    if schema then return schema, find_table(engine, parts[2], schema) end
    return nil, nil
  end
  if parts then return nil, nil end
  local name = find_table(engine, arg)
  if name then return nil, name end
  local sch, rest = split_name(arg)
  local schema = sch and find_schema(engine, sch)
  if schema then return schema, find_table(engine, rest, schema) end
  return nil, nil
end

-- a column's type without MySQL's COLLATE "..." tail: \d shows the
-- collation in a column of its own, as psql does, and a diagram leaves it
-- out, as it says nothing about the schema's shape
local function type_text(t)
  return (tostring(t):gsub("%s+COLLATE%s.*$", ""))
end

-- title, {columns, rows}, footer lines for \d NAME; nil and a message when
-- there is no such table
function M.describe(engine, arg)
  fresh(engine)
  local schema, name = resolve(engine, arg)
  if name == nil then
    return nil, string.format('Did not find any relation named "%s".', arg)
  end
  local insp = inspector(engine)
  -- public.album is album: its keys name the tables of its own schema
  -- without it, as psql does
  local shown_schema = schema
  if schema and schema == (current[engine] or insp.default_schema_name) then
    schema = nil
  end
  -- psql's title always names the schema: Table "public.album"
  if shown_schema == nil and engine.dialect.name == "postgresql" then
    shown_schema = insp.default_schema_name
  end
  local is_view = false
  for _, v in ipairs(M.views(engine, schema)) do
    if v == name then is_view = true end
  end
  -- (psql's \d always has the column)
  local rows, collated = {}, engine.dialect.name == "postgresql"
  local columns = insp:get_columns(name, schema)
  for _, col in ipairs(columns) do
    if col.type.collation then collated = true end
  end
  -- psql's Collation column: always on PostgreSQL, elsewhere where a
  -- column's collation is not its table's default (what reflection
  -- reports: MariaDB's COLLATE)
  for _, col in ipairs(columns) do
    local row = {col.name, type_text(col.type)}
    if collated then row[#row + 1] = col.type.collation or "" end
    row[#row + 1] = col.nullable and "" or "not null"
    row[#row + 1] = col.default or ""
    rows[#rows + 1] = row
  end
  local foot = {}
  local function section(title, lines)
    if #lines == 0 then return end
    foot[#foot + 1] = title
    for _, l in ipairs(lines) do foot[#foot + 1] = "    " .. l end
  end
  if not is_view then
    local lines = {}
    local pk = insp:get_pk_constraint(name, schema)
    if pk.constrained_columns and #pk.constrained_columns > 0 then
      lines[1] = (pk.name and quoted(pk.name) .. " " or "") ..
                 "PRIMARY KEY " .. collist(pk.constrained_columns)
    end
    local uniques = insp:get_unique_constraints(name, schema)
    local shown = {}
    for _, u in ipairs(uniques) do
      lines[#lines + 1] = (u.name and quoted(u.name) .. " " or "") ..
                          "UNIQUE CONSTRAINT " .. collist(u.column_names)
      if u.duplicates_index then shown[u.duplicates_index] = true end
    end
    for _, ix in ipairs(insp:get_indexes(name, schema)) do
      if not shown[ix.name] and not ix.duplicates_constraint then
        lines[#lines + 1] = quoted(ix.name) ..
                            (ix.unique and " UNIQUE " or " ") ..
                            collist(ix.column_names)
      end
    end
    section("Indexes:", lines)
    lines = {}
    for _, ck in ipairs(insp:get_check_constraints(name, schema)) do
      lines[#lines + 1] = (ck.name and quoted(ck.name) .. " " or "") ..
                          "CHECK (" .. balanced(ck.sqltext) .. ")"
    end
    section("Check constraints:", lines)
    lines = {}
    for _, fk in ipairs(insp:get_foreign_keys(name, schema)) do
      lines[#lines + 1] = (fk.name and quoted(fk.name) .. " " or "") ..
                          fk_text(fk)
    end
    section("Foreign-key constraints:", lines)
    lines = {}
    for _, r in ipairs(referenced_by(engine, insp, name, schema)) do
      local name = r[2].name and " CONSTRAINT " .. quoted(r[2].name) or ""
      lines[#lines + 1] = "TABLE " .. quoted(r[1]) .. name .. " " ..
                          fk_text(r[2])
    end
    section("Referenced by:", lines)
  end
  local title = shown_schema and shown_schema .. "." .. name or name
  return (is_view and "View " or "Table ") .. quoted(title),
         collated and {"Column", "Type", "Collation", "Nullable", "Default"}
           or {"Column", "Type", "Nullable", "Default"}, rows, foot
end

--[[ \conninfo ]]

-- what the server says of the session: its database and user, and the
-- socket (its directory, for PostgreSQL) and port it listens on
local whoami = {
  postgresql = "SELECT current_database(), session_user, " ..
               "current_setting('unix_socket_directories'), " ..
               "current_setting('port'), inet_server_addr() IS NULL",
  mysql = "SELECT DATABASE(), SUBSTRING_INDEX(USER(), '@', 1), @@socket, " ..
          "@@port, @@hostname",
}

-- psql's line, in its words for every database: the database and user
-- the server reports (for MySQL, the database USE chose at the prompt),
-- and the socket or the URL's host and the port
function M.conninfo(engine)
  local url, name = engine.url, engine.dialect.name
  if whoami[name] == nil then
    local path = url.database
    if path == nil or path == "" or path == ":memory:" then
      return "You are connected to an in-memory database."
    end
    return string.format('You are connected to database "%s".', path)
  end
  local c = engine:connect()
  local ok, row = pcall(function()
    return c:exec_driver_sql(whoami[name]):one()
  end)
  c:close()
  if not ok then error(row, 0) end
  local q = url.query or {}
  local where, socket
  if name == "postgresql" then
    local host = q.host or url.host
    if row[5] then -- a socket: the directory the URL names, or the server's
      local dir = host or tostring(row[3]):match("^%s*([^,]*[^,%s])")
      where = string.format('via socket in "%s"', tostring(dir))
    else
      where = string.format('on host "%s"', tostring(host))
    end
  elseif q.unix_socket or
         ((url.host == nil or url.host == "localhost") and url.port == nil) then
    -- (the client library takes localhost for its socket)
    where = string.format('via socket "%s"', tostring(q.unix_socket or row[3]))
    socket = true
  else
    where = string.format('on host "%s"', tostring(url.host))
  end
  if not socket then -- (a PostgreSQL socket's name holds the port)
    where = string.format('%s at port "%s"', where, tostring(row[4]))
  end
  return string.format('You are connected to database "%s" as user "%s" %s.',
                       tostring(current[engine] or row[1]), tostring(row[2]),
                       where)
end

--[[ \erd ]]

local function schema(engine)
  local insp = inspector(engine)
  local out = {}
  for _, name in ipairs(M.tables(engine)) do
    local pk = {}
    local pkc = insp:get_pk_constraint(name).constrained_columns
    for _, c in ipairs(pkc or {}) do pk[c] = true end
    local fks = insp:get_foreign_keys(name)
    local fkcol = {}
    for _, fk in ipairs(fks) do
      for _, c in ipairs(fk.constrained_columns) do fkcol[c] = true end
    end
    out[#out + 1] = {name = name, columns = insp:get_columns(name), pk = pk,
                     fkcol = fkcol, fks = fks}
  end
  return out
end

-- mermaid allows letters, digits, - _ ( ) [ ] in a type
local function mermaid_type(t)
  return (type_text(t):gsub(",%s*", "-"):gsub("[^%w%-_%(%)%[%]]", "_"))
end

local function mermaid_name(n)
  if n:find("^[%a_][%w_%-]*$") then return n end
  return '"' .. n:gsub('"', "'") .. '"'
end

local function erd_mermaid(engine)
  local out = {"erDiagram"}
  local rels = {}
  for _, t in ipairs(schema(engine)) do
    out[#out + 1] = "    " .. mermaid_name(t.name) .. " {"
    local nullable = {}
    for _, col in ipairs(t.columns) do
      nullable[col.name] = col.nullable
      local keys = {}
      if t.pk[col.name] then keys[#keys + 1] = "PK" end
      if t.fkcol[col.name] then keys[#keys + 1] = "FK" end
      local marks = #keys > 0 and " " .. table.concat(keys, ", ") or ""
      out[#out + 1] = string.format("        %s %s%s", mermaid_type(col.type),
                                    mermaid_name(col.name), marks)
    end
    out[#out + 1] = "    }"
    for _, fk in ipairs(t.fks) do
      local optional = false
      for _, c in ipairs(fk.constrained_columns) do
        if nullable[c] then optional = true end
      end
      rels[#rels + 1] = string.format(
        '    %s %s--o{ %s : "%s"', mermaid_name(fk.referred_table),
        optional and "|o" or "||", mermaid_name(t.name),
        table.concat(fk.constrained_columns, ", "))
    end
  end
  for _, r in ipairs(rels) do out[#out + 1] = r end
  return table.concat(out, "\n") .. "\n"
end

local function dot_escape(s)
  return (tostring(s):gsub("[\\\"{}|<>]", "\\%0"))
end

local function erd_dot(engine)
  local out = {"digraph schema {", "    rankdir=LR;",
               "    node [shape=record, fontname=\"Helvetica\"];"}
  local edges = {}
  for _, t in ipairs(schema(engine)) do
    local fields = {}
    for _, col in ipairs(t.columns) do
      local keys = {}
      if t.pk[col.name] then keys[#keys + 1] = "PK" end
      if t.fkcol[col.name] then keys[#keys + 1] = "FK" end
      local marks = #keys > 0 and " " .. table.concat(keys, ",") or ""
      fields[#fields + 1] =
        dot_escape(col.name .. " " .. type_text(col.type) .. marks) .. "\\l"
    end
    out[#out + 1] = string.format('    "%s" [label="{%s|%s}"];',
                                  dot_escape(t.name), dot_escape(t.name),
                                  table.concat(fields))
    for _, fk in ipairs(t.fks) do
      local cols = table.concat(fk.constrained_columns, ", ")
      edges[#edges + 1] = string.format('    "%s" -> "%s" [label="%s"];',
                                        dot_escape(t.name),
                                        dot_escape(fk.referred_table),
                                        dot_escape(cols))
    end
  end
  for _, e in ipairs(edges) do out[#out + 1] = e end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

function M.erd(engine, fmt)
  fresh(engine)
  if fmt == nil or fmt == "" or fmt == "mermaid" then
    return erd_mermaid(engine)
  elseif fmt == "dot" then
    return erd_dot(engine)
  end
  return nil,
         string.format('\\erd: unknown format "%s": use mermaid or dot', fmt)
end

--[[ Mapped objects and ORM rows as tables ]]

local function is_instance(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__orm_instance") ~= nil
end

-- an ORM row's width and entities, nil for anything else
local function orm_row_parts(v)
  local orm = package.loaded["retort.orm"]
  if type(v) ~= "table" or not (orm and orm._row_parts) then return nil end
  return orm._row_parts(v)
end

-- an ORM result's row: a list of objects and values with its entities
local function is_orm_row(v)
  return orm_row_parts(v) ~= nil
end

-- The column attributes of an object as a row for `keys`.  Nothing is
-- loaded (no SQL): an attribute that is not loaded (expired or deferred)
-- is blank, except that a primary key column shows the identity.
local function object_row(obj, keys)
  local st = sa.inspect(obj)
  local m = st.mapper
  local unloaded = {}
  for _, k in ipairs(st.unloaded) do unloaded[k] = true end
  local ident = {}
  local id = st.identity
  if id then
    for a, i in ipairs(m.pk_index) do ident[m.keys[i]] = id[a] end
  end
  local row = {}
  for j, k in ipairs(keys) do
    if m.slots[k] == nil then
      row[j] = ""
    elseif unloaded[k] then
      if ident[k] ~= nil then row[j] = ident[k] else row[j] = "" end
    else
      row[j] = st.attrs[k].value
    end
  end
  return row
end

-- the column keys of the mappers of `list`'s objects, first seen first
local function object_keys(list)
  local keys, seen, mappers = {}, {}, {}
  for _, obj in ipairs(list) do
    local m = sa.inspect(obj).mapper
    if not mappers[m] then
      mappers[m] = true
      for _, k in ipairs(m.keys) do
        if not seen[k] then seen[k] = true; keys[#keys + 1] = k end
      end
    end
  end
  return keys
end

-- an ORM row's values: an object shows as its repr
local function orm_row_values(r)
  local row = {}
  for i = 1, (orm_row_parts(r)) do
    local v = rawget(r, i)
    if is_instance(v) then v = tostring(v) end
    row[i] = v
  end
  return row
end

-- an entity without a name (a legacy Query's unlabelled expression) is
-- headed as psql heads an unnamed column
local function ent_names(ents)
  local keys = {}
  for i, e in ipairs(ents) do
    keys[i] = e.name ~= nil and tostring(e.name) or "?column?"
  end
  return keys
end

-- The column names and a function giving one row (a list) at a time for
-- a value printed at the prompt that is a list of mapped objects, a list
-- of ORM rows or an ORM result; nil for anything else.  Reads nothing
-- from the database but an ORM result's own rows.
function M.tabular(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__name == "retort.ORMResult" then
    local ents = rawget(v, "ents")
    if type(ents) ~= "table" or #ents == 0 then return nil end
    local keys
    if rawget(v, "_scalars") then
      -- a NULL scalar would read as the end: objects only
      if not ents[1].mapper then return nil end
      keys = {table.unpack(ents[1].mapper.keys)}
    else
      keys = ent_names(ents)
    end
    local first, done = v(), false
    return keys, function()
      if done then return nil end
      local x = first
      if x == nil then done = true; return nil end
      first = v()
      if is_instance(x) then return object_row(x, keys) end
      if is_orm_row(x) then return orm_row_values(x) end
      return {x}
    end
  end
  if type(mt) == "table" and mt.__name == "retort.MergedResult" then
    -- a sharded session's Core rows from several shards
    -- (orm/ext/horizontal_shard.lua)
    local keys, done = v:keys(), false
    return keys, function()
      local x = not done and v:fetchone()
      if not x then done = true; return nil end
      local row = {}
      for i = 1, #keys do row[i] = x[i] end
      return row
    end
  end
  if type(mt) == "table" and mt.__name == "retort.MappingResult" then
    local keys, done = v:keys(), false
    return keys, function()
      local x = not done and v:fetchone()
      if not x then done = true; return nil end
      local row = {}
      for i, k in ipairs(keys) do row[i] = x[k] end
      return row
    end
  end
  if type(v) ~= "table" or mt ~= nil or #v == 0 then return nil end
  local objects, rows = true, true
  for i = 1, #v do
    objects = objects and is_instance(v[i])
    rows = rows and is_orm_row(v[i])
  end
  local i = 0
  if objects then
    local keys = object_keys(v)
    return keys, function()
      i = i + 1
      return v[i] ~= nil and object_row(v[i], keys) or nil
    end
  elseif rows then
    local _, ents = orm_row_parts(v[1])
    return ent_names(ents), function()
      i = i + 1
      return v[i] ~= nil and orm_row_values(v[i]) or nil
    end
  end
  return nil
end

--[[ Completion ]]

local lua_keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while"}

local sql_keywords = {
  "ALTER", "AND", "AS", "ASC", "BEGIN", "BETWEEN", "BY", "CASE", "COMMIT",
  "COUNT", "CREATE", "DEFAULT", "DELETE", "DESC", "DESCRIBE", "DISTINCT",
  "DROP", "ELSE", "END", "EXISTS", "EXPLAIN", "FROM", "FULL", "GROUP",
  "HAVING", "IN", "INDEX", "INNER", "INSERT", "INTO", "IS", "JOIN", "KEY",
  "LEFT", "LIKE", "LIMIT", "NOT", "NULL", "OFFSET", "ON", "OR", "ORDER",
  "OUTER", "PRAGMA", "PRIMARY", "REFERENCES", "RIGHT", "ROLLBACK", "SAVEPOINT",
  "SELECT", "SET", "SHOW", "TABLE", "THEN", "TRUNCATE", "UNION", "UNIQUE",
  "UPDATE", "VALUES", "VIEW", "WHEN", "WHERE", "WITH"}

-- Fields a schema object answers through its __index function, which
-- pairs cannot see.
local known_fields = {"c", "columns", "name", "primary_key", "foreign_keys",
                      "indexes", "metadata", "schema", "key", "table", "type"}

local function add_names(set, v, methods_only, depth)
  if depth > 4 then return end
  local d = dbs[v]
  if d then
    if not d.schema then set.classes = true end
    for _, t in ipairs(M.tables(d.engine, d.schema)) do set[t] = true end
    for _, t in ipairs(M.views(d.engine, d.schema)) do set[t] = true end
    return
  end
  local tv = type(v)
  if tv == "table" then
    for k, x in next, v do
      if type(k) == "string" and
         (not methods_only or type(x) == "function") then
        set[k] = true
      end
    end
  end
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return end
  if rawget(mt, "__orm_instance") then
    -- a mapped object: its mapped attributes and what its class has, as
    -- Python's dir() of one; the tables its __index closes over are the
    -- ORM's own hooks, not names of the object
    local ok, state = pcall(sa.inspect, v)
    if ok and state.mapper then
      if not methods_only then
        -- (reading the mapper's attrs configures the mappers, which may
        -- fail while a class is still missing)
        local ok2, attrs = pcall(function() return state.mapper.attrs end)
        for k in pairs(ok2 and attrs or state.mapper.column_attrs) do
          set[k] = true
        end
      end
      add_names(set, state.mapper.class, methods_only, depth + 1)
      return
    end
  end
  if mt.__pairs and tv ~= "table" or (tv == "table" and mt.__pairs) then
    -- a collection: its keys, or the names of the objects it lists
    local ok = pcall(function()
      local n = 0
      for k, x in pairs(v) do
        if type(k) == "string" then
          set[k] = true
        else
          local ok2, name = pcall(function() return x.name end)
          if ok2 and type(name) == "string" then set[name] = true end
        end
        n = n + 1
        if n > 10000 then break end
      end
    end)
    if not ok then return end
  end
  if type(mt.__methods) == "table" then
    add_names(set, mt.__methods, methods_only, depth + 1)
  end
  if type(mt.__index) == "table" then
    add_names(set, mt.__index, methods_only, depth + 1)
  elseif type(mt.__index) == "function" then
    -- methods an __index function looks up in tables it closes over
    for i = 1, 255 do
      local name, up = debug.getupvalue(mt.__index, i)
      if name == nil then break end
      if type(up) == "table" and up ~= v and up ~= _G then
        for k, x in next, up do
          if type(k) == "string" and type(x) == "function" then
            set[k] = true
          end
        end
      end
    end
    if tv == "userdata" and not methods_only then
      for _, k in ipairs(known_fields) do
        local ok, x = pcall(function() return v[k] end)
        if ok and x ~= nil then set[k] = true end
      end
    end
  end
end

local function matching(set, prefix, text, nocase)
  local out = {}
  local p = nocase and text:lower() or text
  for k in pairs(set) do
    local kk = nocase and k:lower() or k
    -- names starting with `_` are private unless asked for
    if kk:sub(1, #p) == p and (p:sub(1, 1) == "_" or not k:find("^_")) then
      out[#out + 1] = prefix .. k
    end
  end
  table.sort(out)
  return out
end

local function complete_lua(text)
  local path, sep, last = text:match("^(.*)([%.:])([%w_]*)$")
  local set = {}
  if path == nil then
    for k in pairs(_G) do if type(k) == "string" then set[k] = true end end
    -- (the global session is made on its first read: shell/schema.c)
    if rawget(_G, "engine") ~= nil then set.session = true end
    for _, k in ipairs(lua_keywords) do set[k] = true end
    return matching(set, "", text), ""
  end
  if not path:match("^[%a_][%w_.]*$") or path:find("%.%.") then
    return {}
  end
  local ok, v = pcall(function()
    local x = _G
    for part in path:gmatch("[^%.]+") do x = x[part] end
    return x
  end)
  if not ok or v == nil then return {} end
  add_names(set, v, sep == ":", 0)
  return matching(set, path .. sep, last), ""
end

local table_words = {FROM = true, JOIN = true, INTO = true, UPDATE = true,
                     TABLE = true, DESCRIBE = true}

-- the table `alias` names in `line`, given as `Track t` or `Track AS t`
local function alias_table(engine, line, alias)
  local words = {}
  for w in line:gmatch("[%w_]+") do words[#words + 1] = w end
  for i = 1, #words - 1 do
    local j = words[i + 1]:upper() == "AS" and i + 2 or i + 1
    if words[j] and words[j]:lower() == alias:lower() then
      local t = find_table(engine, words[i])
      if t then return t end
    end
  end
end

local function complete_sql(engine, line, start, text)
  local set = {}
  local tables = M.tables(engine)
  local tab, col = text:match("^([%w_]+)%.([%w_]*)$")
  if tab then
    -- table.column, alias.column, or schema.table
    local t = find_table(engine, tab) or alias_table(engine, line, tab)
    if t then
      for _, c in ipairs(M.columns(engine, t)) do set[c] = true end
    else
      local schema = find_schema(engine, tab)
      if schema == nil then return {} end
      for _, x in ipairs(M.tables(engine, schema)) do set[x] = true end
      for _, x in ipairs(M.views(engine, schema)) do set[x] = true end
    end
    return matching(set, tab .. ".", col, true), " "
  end
  local sch, tab2, col2 = text:match("^([%w_]+)%.([%w_]+)%.([%w_]*)$")
  if sch then -- schema.table.column
    local schema = find_schema(engine, sch)
    local t = schema and find_table(engine, tab2, schema)
    if t == nil then return {} end
    for _, c in ipairs(M.columns(engine, t, schema)) do set[c] = true end
    return matching(set, sch .. "." .. tab2 .. ".", col2, true), " "
  end
  for _, t in ipairs(tables) do set[t] = true end
  for _, t in ipairs(M.views(engine)) do set[t] = true end
  -- after FROM, JOIN, INTO, UPDATE or TABLE only a table name fits
  local before = line:sub(1, start):match("([%w_]+)%s+$")
  if before and table_words[before:upper()] then
    return matching(set, "", text, true), " "
  end
  local lower = text == text:lower() and text ~= ""
  for _, k in ipairs(sql_keywords) do set[lower and k:lower() or k] = true end
  -- the columns of the tables the statement names
  local seen = {}
  for word in line:gmatch("[%w_]+") do
    local t = #word > 0 and not seen[word:lower()] and find_table(engine, word)
    seen[word:lower()] = true
    if t then
      for _, c in ipairs(M.columns(engine, t)) do set[c] = true end
    end
  end
  return matching(set, "", text, true), " "
end

local command_args = {
  d = "tables", dt = "tables", dv = "tables", di = "tables", dn = "schemas",
  erd = {"mermaid", "dot"},
  f = {"table", "csv", "tsv", "json", "markdown", "vertical"},
  x = {"on", "off", "auto"}, timing = {"on", "off"}, echo = {"on", "off"},
}

local function complete_command(engine, line, start, text, commands)
  local set = {}
  if start == 0 or not line:sub(1, start):find("%s") then
    for _, c in ipairs(commands) do set["\\" .. c] = true end
    return matching(set, "", text), " "
  end
  local cmd = line:match("^%s*\\(%S+)")
  local args = command_args[cmd]
  if args == "tables" then
    local sch, part = text:match("^([%w_]+)%.([%w_]*)$")
    local schema = sch and find_schema(engine, sch)
    if schema then -- \d schema.table
      for _, t in ipairs(M.tables(engine, schema)) do set[t] = true end
      for _, t in ipairs(M.views(engine, schema)) do set[t] = true end
      return matching(set, sch .. ".", part, true), " "
    end
    for _, t in ipairs(M.tables(engine)) do set[t] = true end
    if cmd ~= "dt" then
      for _, t in ipairs(M.views(engine)) do set[t] = true end
    end
    return matching(set, "", text, true), " "
  elseif args == "schemas" then
    for _, x in ipairs(M.schemas(engine)) do set[x] = true end
    return matching(set, "", text, true), " "
  elseif type(args) == "table" then
    for _, a in ipairs(args) do set[a] = true end
    return matching(set, "", text), " "
  end
  return nil -- file names
end

-- The completions of `text`, which starts at byte `start` (0-based) of
-- `line`; kind is "lua", "sql" or "command".  Returns a list of whole
-- replacements and the character to append after a single match, or nil
-- to let readline complete file names.
local function complete_once(engine, kind, line, start, text, commands)
  if kind == "command" then
    return complete_command(engine, line, start, text, commands or {})
  elseif kind == "sql" then
    return complete_sql(engine, line, start, text)
  end
  return complete_lua(text)
end

-- Names not found may have been made since they were read (from Lua, or
-- by another client): then they are read again, at most once a second.
function M.complete(engine, kind, line, start, text, commands)
  local list, append = complete_once(engine, kind, line, start, text,
                                     commands)
  local c = cache[engine]
  if type(list) == "table" and #list == 0 and text ~= "" and c and
     (kind ~= "lua" or text:find("^db%.")) and
     sa._monotonic() - c.born >= 1 then
    cache[engine] = nil
    list, append = complete_once(engine, kind, line, start, text, commands)
  end
  return list, append
end

return M
