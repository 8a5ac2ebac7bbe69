-- orm/dynamic.lua -- relationships that never load whole:
-- lazy = "dynamic" gives an AppenderQuery (a Query of the related rows
-- that also takes append/remove), lazy = "write_only" a
-- WriteOnlyCollection (add/add_all/remove, and select/insert/update/
-- delete statements for the related rows), as SQLAlchemy has them.
--
-- The value kept among the instance's extras is the writer itself; its
-- array part holds the members added since the last flush (all of them
-- for an object not yet persistent), which is what the flush and the
-- backrefs read from any collection, so adding and removing go through
-- the usual change records.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local OWNER = I.OWNER
local REL = I.REL
local appended = I.appended
local check_target = I.check_target
local configure = I.configure
local find = I.find
local hooks = I.hooks
local mapper_of = I.mapper_of
local objstr = I.objstr
local raise = I.raise
local removed = I.removed
local session_of = I.session_of

local function is_dynamic(r)
  return r.lazy == "dynamic" or r.lazy == "write_only"
end

-- writers holding members not yet flushed (emptied after a flush: the
-- rows then answer)
local unflushed = setmetatable({}, {__mode = "k"})

local function add(c, x)
  check_target(c[REL], x)
  I.check_parent(c[OWNER], c[REL], x)
  if not find(c, x) then c[#c + 1] = x end
  unflushed[c] = true
  appended(c[OWNER], c[REL], x)
end

local function remove(c, x)
  check_target(c[REL], x)
  local i = find(c, x)
  if i then table.remove(c, i) end
  removed(c[OWNER], c[REL], x)
end

-- the criteria that select the owner's related rows
local function parent_criteria(c)
  return I.with_parent(c[OWNER], c[REL], true)
end

local function base_select(c)
  local r = c[REL]
  local stmt = sa.select(r.target.class):where(parent_criteria(c))
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  return stmt
end

-- the dynamic query's statement: SQLAlchemy 1.4's legacy Query, its
-- columns labelled <table>_<column>: its text, count and statement()
local function query_select(c)
  local r = c[REL]
  local t, cols = r.target.local_table, {}
  for i, col in ipairs(r.target.attr_columns) do
    cols[i] = col:label(t.name .. "_" .. col.name)
  end
  local stmt = sa.select(table.unpack(cols)):where(parent_criteria(c))
  if r.order_by then stmt = stmt:order_by(table.unpack(r.order_by)) end
  return stmt
end

-- the session the owner's rows are read through (raises as a lazy load
-- of a detached object does)
local function owner_session(c)
  local obj = c[OWNER]
  local s = session_of(obj)
  if not s or C.lifecycle(obj) == "detached" then
    raise("DetachedInstanceError", string.format(
      "Parent instance %s is not bound to a Session, and no contextual " ..
      "session is established; lazy load operation of attribute '%s' " ..
      "cannot proceed", objstr(obj), c[REL].key))
  end
  return s
end

local function unsaved(c)
  local st = C.lifecycle(c[OWNER])
  return st == "transient" or st == "pending"
end

-- fn(result of stmt); a sharded session calls it once per shard, inside
-- that shard (orm/ext/horizontal_shard.lua)
-- (m: the mapper the rows are of)
function I.each_result(s, stmt, fn, m) return fn(s:execute(stmt)) end

-- the target objects of an entity select of them (through the identity
-- map, with the target mapper's own eager loaders, as SQLAlchemy's
-- AppenderQuery is a Query of the target)
local function rows_of(c, stmt, how)
  local s = owner_session(c)
  local m = c[REL].target
  local out = {}
  -- (labelled as the legacy Query labels its columns)
  stmt = stmt:set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
  I.each_result(s, stmt, function(res)
    for _, o in ipairs(res:scalars():all()) do out[#out + 1] = o end
  end, m)
  if how == "one" or how == "one_or_none" then
    if #out > 1 then
      raise("MultipleResultsFound", "Multiple rows were found when one " ..
            "or none was required")
    end
    if how == "one" and #out == 0 then
      raise("NoResultFound", "No row was found when one was required")
    end
    return out[1]
  end
  return out
end

-- dynamic: AppenderQuery ---------------------------------------------------

local Appender = {}
local AppenderMT = {__name = "retort.AppenderQuery"}

-- the statement of c with its generative changes (kept beside the
-- members: a generative call makes a plain query object): stmt, the
-- legacy Query's labelled columns (its text, count and statement()),
-- and ent, the same select of the target entity, which loads the rows
local AppenderQuery = {}
AppenderQuery.__index = AppenderQuery
AppenderQuery.__name = "retort.AppenderQuery"

local function query_of(c)
  if getmetatable(c) == AppenderQuery then return c end
  return setmetatable({writer = c, stmt = query_select(c),
                       ent = base_select(c)}, AppenderQuery)
end

local function writer_of(q)
  if getmetatable(q) == AppenderQuery then return q.writer end
  return q
end

for _, name in ipairs({"filter", "where", "order_by", "limit", "offset",
                       "join", "outerjoin", "distinct"}) do
  local f = function(q, ...)
    q = query_of(q)
    return setmetatable({writer = q.writer,
                         stmt = q.stmt[name](q.stmt, ...),
                         ent = q.ent[name](q.ent, ...)}, AppenderQuery)
  end
  Appender[name], AppenderQuery[name] = f, f
end

-- filter_by{email = ...}: the target's attributes
local function filter_by(q, kw)
  -- (a Row is a tuple, not names and values: refused as select's is)
  local mt = type(kw) == "table" and getmetatable(kw)
  if type(kw) ~= "table" or (mt and mt.__name == "retort.Row") then
    raise("ArgumentError", "filter_by: argument #1 must be a table of " ..
      "names and values, not " ..
      (type(kw) == "table" and "a Row (use row._mapping)" or "a " .. type(kw)))
  end
  q = query_of(q)
  local m = q.writer[REL].target
  local keys = {}
  for k in pairs(kw) do keys[#keys + 1] = k end
  table.sort(keys)
  local stmt, ent = q.stmt, q.ent
  for _, k in ipairs(keys) do
    local col = m.colattrs[k]
    if col == nil then
      raise("InvalidRequestError", string.format(
        "Entity namespace for \"%s\" has no property \"%s\"",
        m.local_table.name, tostring(k)))
    end
    stmt = stmt:where(col:eq(kw[k]))
    ent = ent:where(col:eq(kw[k]))
  end
  return setmetatable({writer = q.writer, stmt = stmt, ent = ent},
                      AppenderQuery)
end
Appender.filter_by, AppenderQuery.filter_by = filter_by, filter_by

-- options(selectinload(...), defer(...), ...): loader options of the
-- target's rows (the query's text and count are of its columns alone)
local function options(q, ...)
  q = query_of(q)
  return setmetatable({writer = q.writer, stmt = q.stmt,
                       ent = q.ent:options(...)}, AppenderQuery)
end
Appender.options, AppenderQuery.options = options, options

-- the related objects: for an unsaved owner, the members added so far;
-- else the query's rows (autoflush first, so added members are rows)
local function all(q)
  local c = writer_of(q)
  if unsaved(c) then return table.move(c, 1, #c, 1, {}) end
  return rows_of(c, query_of(q).ent)
end

local function first(q)
  local c = writer_of(q)
  if unsaved(c) then return c[1] end
  return rows_of(c, query_of(q).ent:limit(1))[1]
end

local function one_or_none(q, must)
  local c = writer_of(q)
  if not unsaved(c) then
    return rows_of(c, query_of(q).ent, must and "one" or "one_or_none")
  end
  local list = all(q)
  if #list > 1 then
    raise("MultipleResultsFound", "Multiple rows were found when one or " ..
          "none was required")
  end
  if must and #list == 0 then
    raise("NoResultFound", "No row was found when one was required")
  end
  return list[1]
end

local function count(q)
  local c = writer_of(q)
  if unsaved(c) then return #c end
  local sub = query_of(q).stmt:subquery()
  -- (one row, as Query.count reads it: a sharded session's count on two
  -- shards is two rows)
  return owner_session(c):execute(sa.select(sa.func.count())
                                    :select_from(sub)):scalar_one()
end

-- for x in user.addresses:iter() do ... end, also `for x in query do`
local function iter(q)
  local list, i = all(q), 0
  return function()
    i = i + 1
    return list[i]
  end
end

for _, t in ipairs({Appender, AppenderQuery}) do
  t.all = all
  t.first = first
  t.one = function(q) return one_or_none(q, true) end
  t.one_or_none = function(q) return one_or_none(q, false) end
  t.count = count
  t.iter = iter
  -- Python's query[a:b], as SQLAlchemy's Query.slice(start, stop)
  t.slice = function(q, start, stop)
    return query_of(q):offset(start):limit(stop - start)
  end
  t.statement = function(q) return query_of(q).stmt end
end
AppenderQuery.__call = function(q)
  if not q._rows then q._rows, q._i = all(q), 0 end
  q._i = q._i + 1
  return q._rows[q._i]
end
-- the text of the query as it runs (its eager joins too), compiled for
-- the owner's session as the legacy Query's is; without a session, the
-- statement's
local function query_text(q)
  local c = q.writer
  local s = not unsaved(c) and session_of(c[OWNER])
  if not s or C.lifecycle(c[OWNER]) == "detached" then
    return tostring(q.stmt)
  end
  local m = c[REL].target
  return tostring(setmetatable({session = s, stmt = q.ent, entity = m.class,
                                _fresh = true,
                                _args = {m.class, n = 1}}, I.Query))
end
AppenderQuery.__tostring = query_text

function Appender.append(c, x) add(c, x) end
function Appender.extend(c, list)
  for _, x in ipairs(list) do add(c, x) end
end
function Appender.remove(c, x) remove(c, x) end

-- user.addresses[i]: the i-th related row (LIMIT 1 OFFSET i - 1); for an
-- unsaved owner, the i-th member added
AppenderMT.__index = function(c, k)
  local f = Appender[k]
  if f ~= nil then return f end
  if math.type(k) == "integer" and k >= 1 and not unsaved(c) then
    return rows_of(c, base_select(c):offset(k - 1):limit(1))[1]
  end
  return nil
end
AppenderMT.__tostring = function(c) return query_text(query_of(c)) end
AppenderMT.__call = function(c)
  return AppenderQuery.__call(query_of(c))
end

-- write_only: WriteOnlyCollection ----------------------------------------

local WriteOnly = {}
local WriteOnlyMT = {__index = WriteOnly,
                     __name = "retort.WriteOnlyCollection"}
WriteOnlyMT.__tostring = function(c)
  return "<WriteOnlyCollection " .. tostring(c[REL]) .. ">"
end

function WriteOnly.add(c, x) add(c, x) end
function WriteOnly.add_all(c, list)
  for _, x in ipairs(list) do add(c, x) end
end
function WriteOnly.remove(c, x) remove(c, x) end

function WriteOnly.select(c) return base_select(c) end

-- insert(): the target rows' INSERT with the foreign key set to the
-- owner's key (one-to-many only)
function WriteOnly.insert(c)
  local r = c[REL]
  if r.direction ~= "onetomany" then
    raise("InvalidRequestError", "Write only bulk INSERT only supported " ..
          "for one-to-many collections; for many-to-many, use a separate " ..
          "bulk INSERT along with add_all().")
  end
  local values = {}
  for k, rc in ipairs(r.remote_cols) do
    values[rc.key] = I.col_value(c[OWNER], r.parent, r.local_idx[k])
  end
  return sa.insert(r.target.class):values(values)
end

function WriteOnly.update(c)
  return sa.update(c[REL].target.class):where(parent_criteria(c))
end

function WriteOnly.delete(c)
  return sa.delete(c[REL].target.class):where(parent_criteria(c))
end

-- hooking the relationship ------------------------------------------------

local resolve_rel = I.resolve_rel
I.resolve_rel = function(r)
  resolve_rel(r)
  if r.lazy == "dynamic" then
    if not r.uselist then
      raise("InvalidRequestError", "On relationship " .. tostring(r) ..
            ", 'dynamic' loaders cannot be used with many-to-one/one-to-" ..
            "one relationships and/or uselist=False.")
    end
    r.collection = {__collection_class = "dynamic", mt = AppenderMT}
  elseif r.lazy == "write_only" then
    if not r.uselist then
      raise("InvalidRequestError", "On relationship " .. tostring(r) ..
            ", 'write_only' loaders cannot be used with many-to-one/one-" ..
            "to-one relationships and/or uselist=False.")
    end
    r.collection = {__collection_class = "write_only", mt = WriteOnlyMT}
  end
end

local rel_get, rel_set = hooks.rel_get, hooks.rel_set

-- reading the attribute gives the writer (it loads nothing)
function hooks.rel_get(obj, key)
  configure()
  local r = mapper_of(obj).relationships[key]
  if r and is_dynamic(r) then
    local c = I.new_coll(obj, r)
    C.extra(obj, key, c)
    return c
  end
  return rel_get(obj, key)
end

-- assigning a list: a dynamic collection is replaced member by member
-- (the old members loaded); a write-only one only while the owner is
-- not yet persistent
function hooks.rel_set(obj, key, v)
  configure()
  local r = mapper_of(obj).relationships[key]
  if not (r and is_dynamic(r)) then return rel_set(obj, key, v) end
  if rawequal(v, sa.null) then v = nil end
  if v ~= nil and (type(v) ~= "table" or C.isinstance(v)) then
    raise("ArgumentError", "relationship " .. tostring(r) ..
          " is a collection: assign a list")
  end
  local c = obj[key]
  local old
  if unsaved(c) then
    old = table.move(c, 1, #c, 1, {})
  elseif r.lazy == "write_only" then
    raise("InvalidRequestError", "Collection \"" .. tostring(r) .. "\" does " ..
          "not support implicit iteration; collection replacement " ..
          "operations can't be used")
  else
    old = all(c)
  end
  local keep = {}
  for _, x in ipairs(v or {}) do check_target(r, x); keep[x] = true end
  for _, x in ipairs(old) do
    if not keep[x] then remove(c, x) end
  end
  for _, x in ipairs(v or {}) do
    if not find(old, x) then add(c, x) end
  end
end

-- after a flush the members added are rows: a persistent owner's writer
-- forgets them
local flush = I.Session.flush
function I.Session.flush(self, ...)
  local r = flush(self, ...)
  for c in pairs(unflushed) do
    if C.session(c[OWNER]) == self.id and not unsaved(c) then
      for i = #c, 1, -1 do c[i] = nil end
      unflushed[c] = nil
    end
  end
  return r
end

-- every member (a delete cascade or a many-to-many delete needs them)
local function members(s, obj, r)
  local c = obj[r.key]
  if unsaved(c) then return table.move(c, 1, #c, 1, {}) end
  local prev = s._no_autoflush
  s._no_autoflush = true
  local ok, v = pcall(function()
    return rows_of(c, base_select(c))
  end)
  s._no_autoflush = prev
  if not ok then error(v, 0) end
  return v
end

-- for the other files of the ORM
I.dynamic_members = members
I.is_dynamic = is_dynamic
