-- orm/base.lua -- helpers every part of the ORM's Lua half uses: errors,
-- an object's description and mapper, the hooks table the C side calls
-- (load_expired, modified, rel_get, rel_set), and the keys under which a
-- relationship's state is kept among an instance's extras.
--
-- The Lua half of retort.orm is several chunks built into the binary
-- (orm/lorm.c runs them in order); each gets the core module, the orm
-- module table, the C primitives and I, the table through which one file
-- reaches what another defines.

local sa, orm, C, I = ...

local lselect = select

local function raise(kind, msg) C.raise(kind, msg) end

local function objstr(obj)
  local cls = C.class(obj)
  return string.format("<%s at %s>", rawget(cls, "__name__") or "?",
                       string.match(string.format("%p", obj), "0x%x+") or "?")
end

local hooks = {}  -- called from C: load_expired, modified

local sessions = setmetatable({}, {__mode = "v"}) -- id -> session

local function session_of(obj)
  local sid = C.session(obj)
  return sid ~= 0 and sessions[sid] or nil
end

local function mapper_of(obj)
  return rawget(C.class(obj), "__mapper__")
end

local function markkey(prefix)
  return setmetatable({}, {__index = function(t, k)
    local v = prefix .. k
    t[k] = v
    return v
  end})
end
local nilmark, changekey, lazymark =
  markkey("\0nil:"), markkey("\0changes:"), markkey("\0lazy:")
local OWNER, REL = {}, {} -- a collection's owner and relationship

-- for the other files of the ORM
-- A class's column attributes: each column in a box of its own that
-- prints "User.name", as SQLAlchemy's InstrumentedAttribute does (all
-- else takes it as the column).
local function install_colattrs(cls, m)
  local name = rawget(cls, "__name__")
  for key, col in pairs(m.colattrs) do
    rawset(cls, key, C.attribute(col, name .. "." .. key))
  end
end

-- an expired object's row is gone: what loading it again raises
local function deleted_error(obj)
  raise("ObjectDeletedError", string.format(
    "Instance '%s' has been deleted, or its row is otherwise not present.",
    objstr(obj)))
end

I.OWNER = OWNER
I.deleted_error = deleted_error
I.install_colattrs = install_colattrs
I.REL = REL
I.changekey = changekey
I.hooks = hooks
I.lazymark = lazymark
I.lselect = lselect
I.mapper_of = mapper_of
I.nilmark = nilmark
I.objstr = objstr
I.raise = raise
I.session_of = session_of
I.sessions = sessions
