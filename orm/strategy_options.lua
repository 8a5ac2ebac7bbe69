-- orm/strategy_options.lua -- loader options (selectinload, joinedload,
-- ... and Load paths), carried by a select's generative methods, and
-- join(User.addresses): the ON clause taken from the relationship.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local Rel = I.Rel
local configure = I.configure
local lselect = I.lselect
local raise = I.raise
local rel_on = I.rel_on
local sec_on = I.sec_on

------------------------------------------------------------------------
-- relationship loading in queries: loader options and strategies
------------------------------------------------------------------------
--
-- Options are Load paths ({rel, strategy} steps) attached to a select by
-- :options(); the select's generative methods carry them to the new
-- statement.  Executing it: a leading joined step adds a LEFT OUTER
-- JOIN of an alias of the target and its columns; after the rows are
-- turned into objects, the other steps run per batch of objects
-- (selectin: one SELECT ... IN per 500 parent keys), and each path goes
-- on from the objects its step loaded.

local Load = {}
Load.__index = Load
Load.__name = "retort.Load"

local function check_rel(attr, fname)
  -- a relationship of an aliased class (aliased.lua): its loading starts
  -- from the alias the statement selects
  if I.AliasedRel and getmetatable(attr) == I.AliasedRel then
    attr = attr.rel
  end
  -- Company.employees:of_type(Engineer) in a loader option: the whole
  -- collection loads (each row its class); the subclass's own columns
  -- load when read (SQLAlchemy loads them in the same statement)
  local sub
  if getmetatable(attr) == Rel and rawget(attr, "of_type_mapper") then
    -- (a with_polymorphic(): the list of its subclasses)
    sub = attr.of_type_subs or attr.of_type_mapper
    attr = attr.parent.relationships[attr.key]
  end
  if getmetatable(attr) ~= Rel then
    raise("ArgumentError", fname .. "(): expected a relationship " ..
          "attribute such as User.addresses, not " .. type(attr))
  end
  return attr, sub
end

-- a path step: the relationship, its strategy and the subclass an
-- of_type() names (its columns load in the same statement)
local function new_step(attr, fname, strategy)
  local r, sub = check_rel(attr, fname)
  return {rel = r, strategy = strategy, of_type = sub}
end

local loaders = {selectinload = "selectin", joinedload = "joined",
                 subqueryload = "subquery", lazyload = "select",
                 raiseload = "raise", noload = "noload",
                 defaultload = "default", immediateload = "immediate"}
for fname, strategy in pairs(loaders) do
  orm[fname] = function(attr)
    return setmetatable({path = {new_step(attr, fname, strategy)}}, Load)
  end
  Load[fname] = function(self, attr)
    local path = table.move(self.path, 1, #self.path, 1, {})
    path[#path + 1] = new_step(attr, fname, strategy)
    return setmetatable({path = path}, Load)
  end
end

-- selectinload(A.bs):options(joinedload(B.cs), selectinload(B.d)):
-- each option a path that goes on from this one (column options such as
-- defer(B.x) apply to their class wherever it loads)
local LoadGroup = {__name = "retort.Load"}
LoadGroup.__index = LoadGroup

local function prefixed(load, o, out)
  if getmetatable(o) == LoadGroup then
    for _, x in ipairs(o.loads) do out[#out + 1] = x end
  elseif getmetatable(o) == Load then
    local path = table.move(load.path, 1, #load.path, 1, {})
    table.move(o.path, 1, #o.path, #path + 1, path)
    out[#out + 1] = setmetatable({path = path}, Load)
  elseif I.is_column_option and I.is_column_option(o) then
    out[#out + 1] = o
  else
    raise("ArgumentError", "options(): expected loader options such as " ..
          "joinedload(Address.tags)")
  end
end

function Load:options(...)
  local loads = {}
  for i = 1, lselect("#", ...) do
    local o = lselect(i, ...)
    if getmetatable(o) == LoadGroup then
      -- (nested: each of its paths after this one)
      for _, x in ipairs(o.loads) do prefixed(self, x, loads) end
    else
      prefixed(self, o, loads)
    end
  end
  return setmetatable({loads = loads}, LoadGroup)
end

local node_methods = getmetatable(sa.literal_column("1")).__methods
-- The notes below go from a statement to those its generative methods
-- make (carry_notes); Core statements have none, and their methods carry
-- nothing until the first note is written (C.carry_on).
local carry_notes, note_tables
local function first_note(t, k, v)
  C.carry_on(note_tables) -- (carry_notes's work, done in C)
  rawset(t, k, v)
end
local notes_mt = {__mode = "k", __newindex = first_note}
local stmt_opts = setmetatable({}, notes_mt) -- select -> Load list

-- A mapped class stands for its Table, so select(User) and
-- select(users_table) build the same statement; SQLAlchemy loads objects
-- for the first and plain rows for the second.  A select given a mapped
-- Table itself remembers where that Table's columns start (select ->
-- {column position = true}), and the Session gives plain values there.
local core_tables = setmetatable({}, notes_mt)
-- select -> the entities written out as columns (see properties.lua)
local select_ents = setmetatable({}, notes_mt)

-- statement -> true (or the statement whose ORM-enabled state it has,
-- for with_only_columns()): an ORM-enabled statement by what it was built
-- from
-- (a column attribute such as User.id given to select(), a mapped class
-- given to select_from() or join(), update(User), delete(User)); the
-- Session autoflushes before these, as SQLAlchemy 1.4's does before a
-- statement its ORM plugin compiles
local orm_marks = setmetatable({}, notes_mt)

note_tables = {stmt_opts, core_tables, select_ents, orm_marks}
function carry_notes(stmt, out)
  local o = stmt_opts[stmt]
  if o ~= nil then stmt_opts[out] = o end
  o = orm_marks[stmt]
  if o ~= nil then orm_marks[out] = o end
  o = core_tables[stmt]
  if o ~= nil then core_tables[out] = o end
  o = select_ents[stmt]
  if o ~= nil then select_ents[out] = o end
end
local node_ptr, node_kind = C.node_ptr, C.node_kind

local function mark_tables(stmt, ...)
  local n, at = lselect("#", ...), nil
  for i = 1, n do
    local a = lselect(i, ...)
    if type(a) == "userdata" and node_kind(a) == "table" and
       I.mappers_by_table[node_ptr(a)] then
      at = at or {}
      at[i] = true
    end
  end
  if not at then return stmt end
  local items = C.select_items(stmt)
  if not items or #items ~= n then return stmt end -- not an item per argument
  local set, pos = {}, 1
  for i = 1, n do
    if at[i] then set[pos] = true end
    pos = pos + items[i][2]
  end
  core_tables[stmt] = set
  return stmt
end

-- (select() itself is wrapped in properties.lua, which calls mark_tables
-- when an argument is a mapped Table)
do
  local raw_table_select = node_methods.select
  node_methods.select = function(t, ...)
    return mark_tables(raw_table_select(t, ...), t)
  end
end

do
  local plain = {}
  for _, name in ipairs({"where", "filter", "filter_by", "order_by", "limit",
                         "offset", "join", "outerjoin", "join_from",
                         "select_from", "group_by", "having", "distinct",
                         "add_columns", "correlate", "with_for_update",
                         "execution_options", "outerjoin_from", "slice",
                         "fetch", "prefix_with", "suffix_with", "with_hint",
                         "correlate_except", "params",
                         "set_label_style", "values", "returning",
                         "ordered_values", "return_defaults"}) do
    local f = node_methods[name]
    if f == nil then goto continue end
    plain[name] = f
    node_methods[name] = C.carry(f) or function(stmt, ...)
      local out = f(stmt, ...)
      carry_notes(stmt, out)
      return out
    end
    ::continue::
  end
  I.plain_methods = plain
  local orig_options = node_methods.options
  node_methods.options = function(stmt, ...)
    if C.node_kind(stmt) ~= "select" then return orig_options(stmt, ...) end
    local list = {}
    for _, o in ipairs(stmt_opts[stmt] or {}) do list[#list + 1] = o end
    for i = 1, lselect("#", ...) do
      local o = lselect(i, ...)
      if getmetatable(o) == LoadGroup then
        for _, x in ipairs(o.loads) do list[#list + 1] = x end
      elseif getmetatable(o) ~= Load and not I.is_column_option(o) then
        raise("ArgumentError", "options(): expected loader options such " ..
              "as selectinload(User.addresses)")
      else
        list[#list + 1] = o
      end
    end
    local new = plain.add_columns(stmt)
    stmt_opts[new] = list
    core_tables[new] = core_tables[stmt]
    select_ents[new] = select_ents[stmt]
    orm_marks[new] = orm_marks[stmt]
    return new
  end
  -- join(User.addresses), join(Address, User.addresses): the ON clause
  -- comes from the relationship, and the left side is the relationship's
  -- parent (joined onto where the statement has it, else a FROM of its
  -- own: select(aa.email):join(User.addresses) is FROM addresses AS
  -- addresses_1, users JOIN addresses, as SQLAlchemy's)
  local function rel_join(f, outer)
    local function from_parent(stmt, r, target, cond, ...)
      local jf = node_methods[outer and "outerjoin_from" or "join_from"]
      return jf(stmt, r.parent.local_table, target, cond, ...)
    end
    return function(stmt, target, on, ...)
      if getmetatable(target) == Rel then
        local r = target
        configure()
        if r.secondary then
          local sec, on1, on2 = I.sec_alias_on(r)
          if I.outer_join(outer, on) then
            return from_parent(stmt, r, sec:join(r.target.local_table, on2),
                               on1, on, ...)
          end
          local out = from_parent(stmt, r, sec, on1, on, ...)
          return f(out, r.target.local_table, on2, on, ...)
        end
        return from_parent(stmt, r, r.target.local_table, rel_on(r), on, ...)
      elseif getmetatable(on) == Rel then
        local r = on
        configure()
        local t = target
        if type(t) == "table" and rawget(t, "__mapper__") then t = nil end
        if r.secondary then
          local sec, on1, on2 = I.sec_alias_on(r, t)
          if I.outer_join(outer, ...) then
            return from_parent(stmt, r, sec:join(t or r.target.local_table,
                                                 on2), on1, ...)
          end
          local out = from_parent(stmt, r, sec, on1, ...)
          return f(out, target, on2, ...)
        end
        return from_parent(stmt, r, target, rel_on(r, t), ...)
      end
      return f(stmt, target, on, ...)
    end
  end
  node_methods.join = rel_join(node_methods.join)
  node_methods.outerjoin = rel_join(node_methods.outerjoin, true)
  -- A FROM given as a mapped class (or an aliased one, a relationship, a
  -- subquery of mapped columns) makes the statement ORM-enabled; a Table
  -- does not, though mapped (see I.orm_enabled).
  local function orm_from(a)
    local t = type(a)
    if t == "table" then
      return getmetatable(a) == Rel or rawget(a, "__clause_element__") ~= nil
    end
    return t == "userdata" and
           C.uses_mapped(a, I.mappers_by_table, "subquery")
  end
  -- a column attribute (User.name), or a class, among new columns
  local function orm_column(a)
    local t = type(a)
    if t == "table" then return rawget(a, "__clause_element__") ~= nil end
    return t == "userdata" and (I.attr_boxes[a] or C.annotation(a) ~= nil)
  end
  -- out is ORM-enabled when one of the arguments is (pred says)
  local function mark_if_any(out, pred, ...)
    if orm_marks[out] ~= true then
      for i = 1, lselect("#", ...) do
        if pred((lselect(i, ...))) then
          orm_marks[out] = true
          break
        end
      end
    end
    return out
  end
  do
    local f = node_methods.add_columns
    node_methods.add_columns = function(stmt, ...)
      return mark_if_any(f(stmt, ...), orm_column, ...)
    end
  end
  -- with_only_columns() keeps what the statement was (SQLAlchemy's
  -- select(User):with_only_columns(users.c.id) is ORM-enabled still,
  -- select(users):with_only_columns(User.id) is not)
  do
    local f = node_methods.with_only_columns
    node_methods.with_only_columns = function(stmt, ...)
      local out = f(stmt, ...)
      -- (asked when it runs: the mark is the statement it came from)
      if C.node_kind(stmt) == "select" then
        orm_marks[out] = orm_marks[stmt] or stmt
      end
      return out
    end
  end
  for _, name in ipairs({"join", "outerjoin", "select_from", "join_from",
                         "outerjoin_from"}) do
    local f = node_methods[name]
    if f then
      node_methods[name] = function(stmt, ...)
        return mark_if_any(f(stmt, ...), orm_from, ...)
      end
    end
  end
  -- update(User) and delete(User) are ORM-enabled; update(users_table)
  -- is a Core statement: no autoflush, no synchronize_session
  for _, name in ipairs({"update", "delete"}) do
    local f = sa[name]
    sa[name] = function(t, ...)
      local out = f(t, ...)
      if type(t) == "table" and rawget(t, "__clause_element__") ~= nil then
        orm_marks[out] = true
      end
      return out
    end
  end
end

-- for the other files of the ORM
I.Load = Load
I.check_rel = check_rel
I.stmt_opts = stmt_opts
I.core_tables = core_tables
I.mark_tables = mark_tables
I.select_ents = select_ents
I.orm_marks = orm_marks
