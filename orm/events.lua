-- orm/events.lua -- event listeners: event.listen/remove, and the
-- dispatch of engine events (before/after_cursor_execute, for the
-- statements sessions run) and session events (before_flush, ...).

local sa, orm, C, I = ...

------------------------------------------------------------------------
-- events (engine events fire for the statements sessions execute)
------------------------------------------------------------------------

local listeners = setmetatable({}, {__mode = "k"}) -- engine -> event -> list

-- engine events: listeners of the session's bind
local function dispatch(s, name, ...)
  local l = listeners[s.bind]
  if l and l[name] then for _, fn in ipairs(l[name]) do fn(...) end end
end

-- session events: listeners of this session, and of orm.Session (all)
local function session_event(s, name, ...)
  for _, target in ipairs({s, orm.Session}) do
    local l = listeners[target]
    if l and l[name] then for _, fn in ipairs(l[name]) do fn(s, ...) end end
  end
end

orm.event = {}
function orm.event.listen(target, name, fn)
  listeners[target] = listeners[target] or {}
  local l = listeners[target]
  l[name] = l[name] or {}
  table.insert(l[name], fn)
end
function orm.event.remove(target, name, fn)
  local l = listeners[target] and listeners[target][name]
  if not l then return end
  for i = #l, 1, -1 do if l[i] == fn then table.remove(l, i) end end
end

-- for the other files of the ORM
I.dispatch = dispatch
I.listeners = listeners
I.session_event = session_event
