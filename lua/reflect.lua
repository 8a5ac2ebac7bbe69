-- reflect.lua -- Table(name, metadata, {autoload_with = engine}) and
-- metadata:reflect(engine, {only = {...}}), built from the Inspector.
--
-- Loaded once by luaopen_retort with the module table and the MetaData
-- method table; it wraps sa.Table so that the autoload option builds the
-- columns, keys, indexes and unique constraints the database reports.
-- Tables a foreign key refers to are reflected into the same MetaData,
-- as SQLAlchemy does.

local sa, Meta = ...
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

local autoload

local function reflect_table(name, md, bind, opts, given)
  local insp = sa.inspect(bind)
  local schema = opts.schema
  local cols = insp:get_columns(name, schema) -- NoSuchTableError if absent
  local pk = insp:get_pk_constraint(name, schema)
  local in_pk = {}
  for _, c in ipairs(pk.constrained_columns or {}) do in_pk[c] = true end
  local args = {}
  local given_names = {}
  for _, col in ipairs(given) do
    if type(col) ~= "table" then given_names[col.name] = true end
  end
  for _, col in ipairs(cols) do
    if not given_names[col.name] then
      local copts = {nullable = col.nullable, primary_key = in_pk[col.name]}
      if col.default ~= nil then copts.server_default = sa.text(col.default) end
      if col.comment ~= nil then copts.comment = col.comment end
      if col.autoincrement == false and in_pk[col.name] then
        copts.autoincrement = false
      end
      args[#args + 1] = sa.Column(col.name, col.type, copts)
    end
  end
  for _, col in ipairs(given) do table.insert(args, col) end
  for _, fk in ipairs(insp:get_foreign_keys(name, schema)) do
    local target = fk.referred_table
    if target ~= name and md.tables[target] == nil then
      autoload(target, md, bind, {schema = fk.referred_schema})
    end
    local refs = {}
    for i, rc in ipairs(fk.referred_columns) do refs[i] = target .. "." .. rc end
    local o = fk.options or {}
    args[#args + 1] = sa.ForeignKeyConstraint(fk.constrained_columns, refs, {
      name = fk.name, ondelete = o.ondelete, onupdate = o.onupdate})
  end
  for _, uq in ipairs(insp:get_unique_constraints(name, schema)) do
    local a = {table.unpack(uq.column_names)}
    a[#a + 1] = {name = uq.name}
    args[#args + 1] = sa.UniqueConstraint(table.unpack(a))
  end
  for _, ix in ipairs(insp:get_indexes(name, schema)) do
    if not ix.duplicates_constraint then
      local a = {ix.name}
      for _, c in ipairs(ix.column_names) do a[#a + 1] = c end
      a[#a + 1] = {unique = ix.unique}
      args[#args + 1] = sa.Index(table.unpack(a))
    end
  end
  if schema then args[#args + 1] = {schema = schema} end
  return raw_Table(name, md, table.unpack(args))
end

function autoload(name, md, bind, opts, ...)
  local existing = md.tables[name]
  if existing and not opts.extend_existing then return existing end
  return reflect_table(name, md, bind, opts, {...})
end

function sa.Table(name, md, ...)
  local opts, n = options_of(...)
  if opts and opts.autoload_with then
    local given = {...}
    given[n] = nil
    local rest = {}
    for k, v in pairs(opts) do
      if k ~= "autoload_with" and k ~= "extend_existing" then rest[k] = v end
    end
    return autoload(name, md, opts.autoload_with,
                    {schema = rest.schema,
                     extend_existing = opts.extend_existing},
                    table.unpack(given, 1, n - 1))
  end
  return raw_Table(name, md, ...)
end

-- metadata:reflect(bind, {only = {...}, views = false, schema = ...})
function Meta.reflect(md, bind, opts)
  opts = opts or {}
  local insp = sa.inspect(bind)
  local names = insp:get_table_names(opts.schema)
  if opts.views then
    for _, v in ipairs(insp:get_view_names(opts.schema)) do
      names[#names + 1] = v
    end
  end
  local wanted = names
  if opts.only then
    local have = {}
    for _, n in ipairs(names) do have[n] = true end
    wanted = {}
    for _, n in ipairs(opts.only) do
      if not have[n] then
        sa._raise("InvalidRequestError",
          "Could not reflect: requested table(s) not available in " ..
          tostring(bind.url or bind) .. ": (" .. n .. ")")
      end
      wanted[#wanted + 1] = n
    end
  end
  for _, n in ipairs(wanted) do
    if md.tables[n] == nil then
      autoload(n, md, bind, {schema = opts.schema})
    end
  end
end
