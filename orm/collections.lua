-- orm/collections.lua -- the values of relationships: list and set
-- collections, assignment of collections and scalars, the change records
-- the flush reads, backref synchronisation and attribute events.

local sa, orm, C, I = ...
-- from the loader and the files run before this one (see orm/lorm.c)
local OWNER = I.OWNER
local REL = I.REL
local changekey = I.changekey
local configure = I.configure
local hooks = I.hooks
local listeners = I.listeners
local mapper_of = I.mapper_of
local nilmark = I.nilmark
local raise = I.raise
local session_of = I.session_of

-- values and change records --------------------------------------------

local function find(list, x)
  for i = 1, #list do if rawequal(list[i], x) then return i end end
  return nil
end

-- the change record of obj's relationship r (made on first change); the
-- session that holds obj remembers it for the flush
local function changes(obj, r)
  local key = changekey[r.key]
  local ch = C.extra(obj, key)
  if not ch then
    ch = {add = {}, rem = {}}
    C.extra(obj, key, ch)
  end
  local s = session_of(obj)
  if s then s._reldirty[obj] = true end
  return ch
end

local function note_add(obj, r, x)
  local ch = changes(obj, r)
  if ch.rem[x] then ch.rem[x] = nil else ch.add[x] = true end
end

local function note_remove(obj, r, x)
  local ch = changes(obj, r)
  if ch.add[x] then ch.add[x] = nil else ch.rem[x] = true end
end

-- a scalar's change: the record remembers, at the first change since
-- the flush, the value it replaced (for attribute history): an object,
-- sa.null when nil was loaded, else what the identity map tells
local function note_set(obj, r, old)
  local ch = changes(obj, r)
  if not ch.set then
    ch.set = true
    if old ~= nil then
      ch.orig = old
    elseif C.extra(obj, nilmark[r.key]) then
      ch.orig = sa.null
    else
      ch.orig = I.rel_original(obj, r)
    end
  end
  return ch
end

-- note_set, and the value being replaced: at the first change, a value
-- not loaded but known to the identity map (SQLAlchemy's old value of a
-- many-to-one) stands for it, so that object leaves its collection too
local function note_replace(obj, r, old, new)
  local prev = C.extra(obj, changekey[r.key])
  local first = not (prev and prev.set)
  local ch = note_set(obj, r, old)
  if first and old == nil and ch.orig ~= nil and
     not rawequal(ch.orig, sa.null) and not rawequal(ch.orig, new) then
    old = ch.orig
  end
  return ch, old
end

local function set_raw(obj, r, v)
  C.extra(obj, r.key, v)
  C.extra(obj, nilmark[r.key], v == nil or nil)
end

local function check_target(r, x)
  if not C.isinstance(x) or not I.isa(mapper_of(x), r.target) then
    raise("ArgumentError", string.format(
      "relationship %s takes %s instances, not %s", tostring(r),
      r.target.class.__name__, C.isinstance(x) and
      tostring(mapper_of(x).class.__name__) or type(x)))
  end
end

-- collections ----------------------------------------------------------

local Coll = {}
local CollMT = {__index = Coll, __name = "retort.Collection"}
CollMT.__tostring = function(c)
  local parts = {}
  for i = 1, #c do parts[i] = tostring(c[i]) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

-- a set collection keeps its members in a list too (the order they
-- came in); pairs() gives member, true
local SetColl = {}
local SetMT = {__index = SetColl, __name = "retort.SetCollection"}
SetMT.__tostring = function(c)
  if #c == 0 then return "set()" end
  local parts = {}
  for i = 1, #c do parts[i] = tostring(c[i]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
SetMT.__pairs = function(c)
  local i = 0
  return function()
    i = i + 1
    local x = c[i]
    if x ~= nil then return x, true end
  end, c, nil
end

-- views: what obj.rel gives for a list or set (orm/lorm.c makes one the
-- first time the member list is read).  A view holds no members, so
-- every read and write of it reaches the metamethods: c[i] = x fires the
-- events of a change, as does any method (each called with the view is
-- run on the member list).
local LIST = C.LIST

local function view_methods(methods)
  local w = {}
  local t = methods
  while type(t) == "table" do
    for k, f in pairs(t) do
      if w[k] == nil and type(f) == "function" then
        w[k] = function(v, ...) return f(rawget(v, LIST) or v, ...) end
      end
    end
    local mt = getmetatable(t)
    t = mt and rawget(mt, "__index")
  end
  return w
end

-- the member list of a view (a list as it is)
local function list_of(v)
  return type(v) == "table" and rawget(v, LIST) or v
end

-- equal collections hold the same members (in the same order, for a
-- list), as SQLAlchemy's compare as Python lists and sets
local function list_eq(a, b)
  a, b = list_of(a), list_of(b)
  if #a ~= #b then return false end
  for i = 1, #a do if not rawequal(a[i], b[i]) then return false end end
  return true
end

local function set_eq(a, b)
  a, b = list_of(a), list_of(b)
  if #a ~= #b then return false end
  for i = 1, #a do if not find(b, a[i]) then return false end end
  return true
end

-- the view metatable of member lists of metatable lmt; other(list, key)
-- answers reads of keys that are neither places nor methods
-- (a template: a list's view gets a metatable of its own with __index =
-- the list, see orm/lorm.c, so its methods take the view or the list)
local function add_view(lmt, other, eq)
  local vmt = {__name = lmt.__name, __len = C.view_len, __eq = eq}
  if other then
    vmt.__index = C.view_index(view_methods(rawget(lmt, "__index")), other)
  end
  vmt.__newindex = function(v, k, x) rawget(v, LIST):setitem(k, x) end
  local pairs_of = rawget(lmt, "__pairs")
  vmt.__pairs = function(v)
    local l = rawget(v, LIST)
    if pairs_of then return pairs_of(l) end
    return ipairs(l)
  end
  vmt.__tostring = function(v) return tostring(rawget(v, LIST)) end
  lmt.__view_mt = vmt
  return vmt
end

-- a new member list: items' members (a copy)
local function new_coll(owner, r, items)
  local cc = r.collection -- attribute_keyed_dict, ordering_list
  local c = C.new_list(items, OWNER, owner, REL, r,
                       cc and cc.mt or r.set and SetMT or CollMT)
  if cc and cc.init then cc.init(cc, c) end -- a keyed dict's view
  return c
end

-- items (a plain table a loader has just filled, held by nothing else)
-- made owner's member list (C.own_list: copied into a table with room
-- for the collection's fields, cheaper than adding them to items)
local function own_coll(owner, r, items)
  local cc = r.collection
  local c = C.own_list(items, OWNER, owner, REL, r,
                       cc and cc.mt or r.set and SetMT or CollMT)
  if cc and cc.init then cc.init(cc, c) end
  return c
end

-- attribute events of a relationship: listen(User.addresses, "append", fn)
-- calls fn(target, value, initiator); "set" gets fn(target, value,
-- oldvalue, initiator) (orm/events.lua).  The other side fires too.
-- the old value a "set" listener gets for a reference never set nor
-- loaded on an object with no row: NO_VALUE, as SQLAlchemy's
local function unset_old(obj, r)
  if C.identity(obj) == nil and not C.extra(obj, nilmark[r.key]) then
    return orm.NO_VALUE
  end
  return nil
end

local cause -- {key, op} of the change a backref is following, or nil
local function attr_event(r, name, ...)
  local l = listeners[r]
  if l and l[name] then I.rel_event(r, name, l[name], cause, ...) end
end

-- single_parent = true: which object each member or value of r was
-- given to in memory (kept with the member: r -> owner, false once taken
-- out), SQLAlchemy's parent tracking; values loaded from rows are not
-- tracked, and so never refused
local PARENTS = {}

local function has_identity(o)
  local st = C.lifecycle(o)
  return st == "persistent" or st == "detached" or st == "deleted"
end

local function parent_of(x, r)
  local t = C.extra(x, PARENTS)
  return t and t[r]
end

-- x now belongs to owner through r (left: x left owner)
local function track(r, x, owner, left)
  if x == nil or not r.options.single_parent then return end
  local t = C.extra(x, PARENTS)
  if not left then
    if not t then
      t = {}
      C.extra(x, PARENTS, t)
    end
    t[r] = owner
    return
  end
  -- (leaving another parent than the last one it joined keeps that one,
  -- unless neither has an identity yet)
  local last = t and t[r]
  if last == nil then return end
  if last and not rawequal(last, owner) and
     (has_identity(last) or has_identity(owner)) then
    return
  end
  t[r] = false
end

-- x expired as a whole: no parent is known any more
function I.forget_parents(x)
  if C.extra(x, PARENTS) ~= nil then C.extra(x, PARENTS, nil) end
end

-- owner's relationship r is about to take x (replacing old): refused
-- when x already has a parent through r, as SQLAlchemy's single_parent
-- validator refuses it (only changes made on r itself are checked)
local function check_parent(owner, r, x, old)
  if not r.options.single_parent or rawequal(old, x) then return end
  if parent_of(x, r) then
    raise("InvalidRequestError", string.format(
      "Instance %s is already associated with an instance of <class " ..
      "'%s'> via its %s attribute, and is only allowed a single parent.",
      I.objstr(x), tostring(rawget(r.parent.class, "__name__")),
      tostring(r)))
  end
end

-- the other side b of a change to owner's relationship (key, op) follows
-- it: b's listeners get that change's initiator, as SQLAlchemy passes it
-- along a backref
local function follow(fn, x, b, owner, key, op)
  if cause or not listeners[b] then return fn(x, b, owner) end
  cause = {key, op}
  local ok, err = pcall(fn, x, b, owner)
  cause = nil
  if not ok then error(err, 0) end
end

-- x's relationship b now includes (or is) owner: the other side of a
-- change made on owner
local function back_link(x, b, owner)
  if b.parent.validators then owner = I.validate_backref(x, b, owner) end
  if b.uselist then
    local c = C.extra(x, b.key)
    if c == nil then
      local st = C.lifecycle(x)
      if st == "transient" or st == "pending" then
        c = new_coll(x, b)
        C.extra(x, b.key, c)
      end
    end
    attr_event(b, "append", x, owner, nil)
    if c and not find(c, owner) then c[#c + 1] = owner end
    note_add(x, b, owner)
    track(b, owner, x)
  else
    local old = C.extra(x, b.key)
    if rawequal(old, owner) then return end
    local ch
    ch, old = note_replace(x, b, old, owner)
    if b.direction == "onetomany" then
      -- (a one-to-one's parent side: the flush gives owner x's key and
      -- takes it from the object replaced, as set_scalar records)
      if old ~= nil then
        ch.rem[old] = true
        ch.add[old] = nil
      end
      ch.rem[owner] = nil
      ch.add[owner] = true
    end
    if old ~= nil and b.back.uselist then
      -- x leaves the collection of its previous owner
      local oc = C.extra(old, b.back.key)
      local i = oc and find(oc, x)
      if i then table.remove(oc, i) end
    end
    if old == nil and listeners[b] then old = unset_old(x, b) end
    attr_event(b, "set", x, owner, old, nil)
    set_raw(x, b, owner)
    track(b, old, x, true)
    track(b, owner, x)
  end
end

local function back_unlink(x, b, owner)
  if b.uselist then
    if b.parent.remove_validators then
      local c = C.extra(x, b.key)
      if c and find(c, owner) then I.validate_backref(x, b, owner, true) end
    end
    attr_event(b, "remove", x, owner, nil)
    local c = C.extra(x, b.key)
    local i = c and find(c, owner)
    if i then table.remove(c, i) end
    note_remove(x, b, owner)
    track(b, owner, x, true)
  else
    local cur = C.extra(x, b.key)
    if cur == nil and not C.extra(x, nilmark[b.key]) and
       C.lifecycle(x) == "persistent" then
      -- not loaded: set to nil all the same unless what the identity
      -- map tells says it refers to another object (SQLAlchemy's pop)
      local orig = I.rel_original(x, b)
      if orig == nil or rawequal(orig, owner) then cur = owner end
    end
    if rawequal(cur, owner) then
      if b.parent.validators then I.validate_backref(x, b, nil) end
      attr_event(b, "set", x, nil, owner, nil)
      note_set(x, b, C.extra(x, b.key))
      set_raw(x, b, nil)
      track(b, owner, x, true)
    end
  end
end

-- x was added to owner's relationship r by the user: the other side
-- follows, and a session holding owner takes x (save-update cascade;
-- never through the other side: SQLAlchemy 2.0's rule)
local function appended(owner, r, x)
  note_add(owner, r, x)
  track(r, x, owner)
  if r.back then follow(back_link, x, r.back, owner, r.key, "append") end
  attr_event(r, "append", owner, x, nil) -- after the other side's, as there
  if r.cascade["save-update"] then
    local s = session_of(owner)
    if s and C.lifecycle(owner) ~= "deleted" then I.cascade_add(s, x) end
  end
end

local function removed(owner, r, x)
  if r.parent.remove_validators then I.validate_remove(owner, r, x) end
  note_remove(owner, r, x)
  track(r, x, owner, true)
  if r.back then follow(back_unlink, x, r.back, owner, r.key, "remove") end
  attr_event(r, "remove", owner, x, nil)
  if r.cascade["delete-orphan"] and C.lifecycle(x) == "pending" then
    -- a pending orphan leaves the session at once, as SQLAlchemy's
    -- cascade expunges it (unless a new parent holds it already)
    local s = session_of(owner)
    local other = r.back and not r.back.uselist and C.extra(x, r.back.key)
    if s and C.session(x) == s.id and not other then s:expunge(x) end
  end
end

function Coll:append(x)
  self = list_of(self)
  x = I.validate_member(self[OWNER], self[REL], x)
  check_target(self[REL], x)
  check_parent(self[OWNER], self[REL], x)
  self[#self + 1] = x
  appended(self[OWNER], self[REL], x)
end

function Coll:insert(i, x)
  self = list_of(self)
  if x == nil then return self:append(i) end
  x = I.validate_member(self[OWNER], self[REL], x)
  check_target(self[REL], x)
  check_parent(self[OWNER], self[REL], x)
  table.insert(self, i, x)
  appended(self[OWNER], self[REL], x)
end

function Coll:extend(list)
  self = list_of(self)
  for _, x in ipairs(list) do self:append(x) end
end

function Coll:remove(x)
  self = list_of(self)
  local i = find(self, x)
  if not i then
    raise("ArgumentError", "Collection.remove(x): x not in the collection")
  end
  table.remove(self, i)
  removed(self[OWNER], self[REL], x)
end

function Coll:pop(i)
  self = list_of(self)
  local x = table.remove(self, i or #self)
  if x ~= nil then removed(self[OWNER], self[REL], x) end
  return x
end

function Coll:clear()
  self = list_of(self)
  while #self > 0 do
    removed(self[OWNER], self[REL], table.remove(self, 1))
  end
end

-- c[i] = x: x replaces the member at i (the old one removed, x appended,
-- with their events, as SQLAlchemy's __setitem__); i = #c + 1 appends;
-- c[i] = nil takes the member at i out
function Coll:setitem(i, x)
  self = list_of(self)
  local n = #self
  if math.type(i) ~= "integer" or i < 1 or i > n + 1 then
    raise("ArgumentError", string.format(
      "collection index %s out of range (1..%d)", tostring(i), n + 1))
  end
  if x == nil then
    if i <= n then self:pop(i) end
    return
  end
  if i == n + 1 then return self:append(x) end
  local owner, r = self[OWNER], self[REL]
  x = I.validate_member(owner, r, x)
  check_target(r, x)
  check_parent(owner, r, x, self[i])
  removed(owner, r, self[i])
  self[i] = x
  appended(owner, r, x)
end

function Coll:contains(x)
  self = list_of(self)
  return find(self, x) ~= nil
end

function Coll:index(x)
  self = list_of(self)
  return find(self, x)
end

function SetColl:add(x)
  self = list_of(self)
  x = I.validate_member(self[OWNER], self[REL], x)
  check_target(self[REL], x)
  if find(self, x) then return end
  check_parent(self[OWNER], self[REL], x)
  self[#self + 1] = x
  appended(self[OWNER], self[REL], x)
end

function SetColl:discard(x)
  self = list_of(self)
  local i = find(self, x)
  if i then
    table.remove(self, i)
    removed(self[OWNER], self[REL], x)
  end
end

-- s[obj] = true adds obj, s[obj] = nil (or false) takes it out: a set
-- has no places to assign
function SetColl:setitem(x, v)
  self = list_of(self)
  if not C.isinstance(x) then
    raise("ArgumentError", "a set collection is assigned by member: " ..
          "s[obj] = true adds obj, s[obj] = nil removes it")
  end
  if v then
    if v ~= true then
      raise("ArgumentError", "s[obj] = true adds obj to a set collection")
    end
    self:add(x)
  else
    self:discard(x)
  end
end

SetColl.remove = Coll.remove
SetColl.contains = Coll.contains
SetColl.clear = Coll.clear
SetColl.pop = function(c) return Coll.pop(c) end

-- assigning: a Lua list (or nil) replaces a collection; an object (or
-- nil) a scalar
local function set_collection(obj, r, list)
  if list ~= nil and (type(list) ~= "table" or C.isinstance(list)) then
    raise("ArgumentError", "relationship " .. tostring(r) ..
          " is a collection: assign a list")
  end
  if r.set and list and #list == 0 and next(list) ~= nil and
     getmetatable(list) == nil then
    -- a set given as {[obj] = true, ...}
    local items = {}
    for x in pairs(list) do items[#items + 1] = x end
    list = items
  end
  if list and r.collection and r.collection.from_assigned then
    list = r.collection.from_assigned(list) -- a keyed dict's {key = obj}
  end
  -- a copy: the list may be a collection the moves below change
  list = table.move(list or {}, 1, #(list or {}), 1, {})
  local old = C.extra(obj, r.key)
  -- the collection replaced is loaded first (a detached object's cannot
  -- be: DetachedInstanceError, as SQLAlchemy's)
  local life = C.lifecycle(obj)
  if old == nil and (life == "persistent" or life == "detached") then
    old = I.coll_members(obj[r.key])
  end
  local keep, had = {}, {}
  for _, x in ipairs(old or {}) do had[x] = true end
  for k, x in ipairs(list) do
    x = I.validate_member(obj, r, x) -- each member, as SQLAlchemy's
    list[k] = x
    check_target(r, x)
    if not had[x] and not keep[x] then check_parent(obj, r, x) end
    keep[x] = true
  end
  local new = new_coll(obj, r)
  C.extra(obj, r.key, new)
  -- (the new members' appends first, then the removals, as SQLAlchemy's
  -- bulk_replace fires them)
  for _, x in ipairs(list) do
    if not (r.set and find(new, x)) then
      new[#new + 1] = x
      if not had[x] then appended(obj, r, x) end
    end
  end
  for _, x in ipairs(old or {}) do
    if not keep[x] then removed(obj, r, x) end
  end
end

local function set_scalar(obj, r, v)
  if v ~= nil then check_target(r, v) end
  if v ~= nil then check_parent(obj, r, v, C.extra(obj, r.key)) end
  local old = C.extra(obj, r.key)
  if old == nil and not C.extra(obj, nilmark[r.key]) and
     r.direction ~= "manytoone" and C.lifecycle(obj) == "persistent" then
    old = obj[r.key] -- the one-to-one object being replaced
  end
  -- nil over an unloaded value is still a change (to NULL), even on a
  -- new object: a foreign key it was given is cleared, as SQLAlchemy's
  if rawequal(old, v) and (v ~= nil or C.extra(obj, nilmark[r.key])) then
    return
  end
  local unset = old == nil and listeners[r] and unset_old(obj, r)
  local ch
  ch, old = note_replace(obj, r, old, v)
  set_raw(obj, r, v)
  track(r, old, obj, true)
  track(r, v, obj)
  if old ~= nil then
    ch.rem[old] = true
    ch.add[old] = nil
    if r.back then follow(back_unlink, old, r.back, obj, r.key, "replace") end
  end
  if v ~= nil then
    ch.rem[v] = nil
    ch.add[v] = true -- a one-to-one's new object gets obj's key
    if r.back then follow(back_link, v, r.back, obj, r.key, "replace") end
  end
  attr_event(r, "set", obj, v, old == nil and unset or old, nil)
  if v ~= nil and r.cascade["save-update"] then
    local s = session_of(obj)
    if s and C.lifecycle(obj) ~= "deleted" then I.cascade_add(s, v) end
  end
end

function hooks.rel_set(obj, key, v)
  configure()
  local r = mapper_of(obj).relationships[key]
  if not r then return C.extra(obj, key, v) end
  if rawequal(v, sa.null) then v = nil end
  if r.uselist then set_collection(obj, r, v) else set_scalar(obj, r, v) end
end

add_view(CollMT, nil, list_eq)
-- s[obj]: whether obj is a member
add_view(SetMT, function(l, k)
  if C.isinstance(k) then return find(l, k) ~= nil end
  return rawget(l, k)
end, set_eq)

-- for the other files of the ORM
I.add_view = add_view
I.list_eq = list_eq
I.Coll = Coll
I.CollMT = CollMT
I.SetMT = SetMT
I.appended = appended
I.check_target = check_target
I.check_parent = check_parent
I.find = find
I.new_coll = new_coll
I.own_coll = own_coll
I.removed = removed
I.set_raw = set_raw
