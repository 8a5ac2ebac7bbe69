-- The globals the retort binary gives a script: `engine`, `db`, and a
-- `session` made on its first read, so that the script's own first
-- Session is number 1 as SQLAlchemy numbers its sessions (the number
-- shows in messages such as "already attached to session '1'").
local T = require "testing"

T.test("session is made on first read; a script's first Session is 1",
  function()
    T.eq(rawget(_G, "session"), nil)
    T.eq(type(engine), "userdata")
    local s = orm.Session(engine)
    T.eq(s.id, 1)
    local g = session
    T.eq(g.id, 2)
    T.eq(rawget(_G, "session"), g)
    T.eq(session, g)
    T.eq(g.bind, engine)
    T.eq(g:scalar(select(literal(1))), 1)
    s:close()
  end)

T.done()
