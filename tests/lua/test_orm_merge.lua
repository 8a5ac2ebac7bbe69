-- Session:merge on every test database, the statements counted with the
-- engine's before_cursor_execute event and each case checked against
-- SQLAlchemy 1.4.46: a merged object the program does not keep is gone
-- from the (weak) identity map, so merging again selects again; the
-- relationships merge before the columns; the other side of the
-- relationship an object was reached through is not merged back; one
-- target per identity key within a call; a stale version is refused.
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = sql:gsub("%s+", " "):gsub('[`"]', ""):gsub("%$%d+", "?")
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.User = Base:class "User" {
    __tablename__ = "mg_user",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(30)),
    addresses = relationship("Address", {back_populates = "user"}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "mg_address",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    uid = Column(Integer, ForeignKey("mg_user.id")),
    email = Column(String(30)),
    user = relationship("User", {back_populates = "addresses"}),
  }
  -- (the columns made in table order)
  local pid = Column(Integer, {primary_key = true, autoincrement = false})
  local first_id = Column(Integer, ForeignKey("mg_user.id"))
  local second_id = Column(Integer, ForeignKey("mg_user.id"))
  M.Pair = Base:class "Pair" {
    __tablename__ = "mg_pair",
    id = pid,
    first_id = first_id,
    second_id = second_id,
    first = relationship("User", {foreign_keys = {first_id}}),
    second = relationship("User", {foreign_keys = {second_id}}),
  }
  local v = Column(Integer, {nullable = false})
  M.Doc = Base:class "Doc" {
    __tablename__ = "mg_doc",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    title = Column(String(30)),
    v = v,
    __mapper_args__ = {version_id_col = v},
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Pair, Doc = M.User, M.Address, M.Pair, M.Doc
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "
  local SEL_U = "SELECT mg_user.id AS mg_user_id, mg_user.name AS " ..
                "mg_user_name FROM mg_user WHERE mg_user.id = ?"
  local SEL_A = "SELECT mg_address.id AS mg_address_id, mg_address.uid AS " ..
                "mg_address_uid, mg_address.email AS mg_address_email " ..
                "FROM mg_address WHERE mg_address.id = ?"
  local SEL_AU = "SELECT mg_address.id AS mg_address_id, mg_address.uid " ..
                 "AS mg_address_uid, mg_address.email AS mg_address_email " ..
                 "FROM mg_address WHERE ? = mg_address.uid"
  local UPD_U = "UPDATE mg_user SET name=? WHERE mg_user.id = ?"

  local function seed()
    engine:begin(function(conn)
      conn:execute(delete(Pair.__table__))
      conn:execute(delete(Doc.__table__))
      conn:execute(delete(Address.__table__))
      conn:execute(delete(User.__table__))
      conn:execute(insert(User.__table__), {
        {id = 1, name = "a"}, {id = 2, name = "b"}})
      conn:execute(insert(Address.__table__), {
        {id = 1, uid = 1, email = "x"}, {id = 2, uid = 1, email = "y"}})
      conn:execute(insert(Doc.__table__), {{id = 1, title = "t", v = 1}})
    end)
  end

  local function detached(cls, id, fn)
    local s <close> = orm.Session(engine)
    local x = s:get(cls, id)
    if fn then fn(x) end
    s:close()
    return x
  end

  T.test(pfx .. "the same detached object merged twice", function()
    seed()
    local d = detached(User, 2)
    local s <close> = orm.Session(engine)
    -- the result not kept: the second merge loads the row again
    clear(log)
    s:merge(d)
    T.eq(log, {SEL_U})
    clear(log)
    s:merge(d)
    T.eq(log, {SEL_U})
    -- kept: found in the identity map
    clear(log)
    local m1 = s:merge(d)
    local m2 = s:merge(d)
    T.eq(log, {SEL_U})
    T.ok(m1 == m2)
    T.eq(orm.inspect(m1).persistent, true)
    m1, m2 = nil, nil
    -- a change merged in is held by the session until the flush the
    -- next merge makes; after it the object is clean and let go
    d.name = "changed"
    clear(log)
    s:merge(d)
    T.eq(log, {SEL_U})
    clear(log)
    s:merge(d)
    T.eq(log, {UPD_U, SEL_U})
  end)

  T.test(pfx .. "relationships merge before columns", function()
    seed()
    local d = detached(Address, 1, function(a) local _ = a.user end)
    local s <close> = orm.Session(engine)
    clear(log)
    local m1 = s:merge(d)
    T.eq(log, {SEL_A, SEL_U})
    T.ok(m1.user == s:get(User, 1))
    s:commit()
    -- all expired: the user (merged first) loads, then the address when
    -- its key is set
    clear(log)
    T.ok(s:merge(d) == m1)
    T.eq(log, {SEL_U, SEL_A})
    T.eq(m1.user.name, "a")
    -- the user collection of a merged user loads before its items merge
    s:expunge_all()
    local du = detached(User, 1, function(u) local _ = u.addresses end)
    clear(log)
    local mu = s:merge(du)
    T.eq(log, {SEL_U, SEL_AU})
    T.eq(#mu.addresses, 2)
  end)

  T.test(pfx .. "the reverse side is not merged back", function()
    seed()
    local s <close> = orm.Session(engine)
    -- the user's addresses (holding the address through the back
    -- reference) are not merged: no collection load, no extra UPDATE
    local src = Address{id = 2, email = "t", user = User{id = 1, name = "a"}}
    clear(log)
    local m = s:merge(src)
    T.eq(log, {SEL_A, SEL_U})
    T.eq(m.email, "t")
    T.ok(m.user == s:get(User, 1))
    clear(log)
    s:flush()
    T.eq(log, {"UPDATE mg_address SET email=? WHERE mg_address.id = ?"})
  end)

  T.test(pfx .. "one target per identity key within a merge", function()
    seed()
    local s <close> = orm.Session(engine)
    clear(log)
    local m = s:merge(Pair{id = 1, first = User{id = 5, name = "x"},
                           second = User{id = 5, name = "y"}})
    T.ok(m.first == m.second)
    T.eq(m.first.name, "y")
    s:commit()
    T.eq(#log, 4)
    T.match(log[1], "^SELECT .* FROM mg_pair WHERE mg_pair%.id = %?$")
    T.eq(log[2], SEL_U)
    T.eq(log[3], "INSERT INTO mg_user (id, name) VALUES (?, ?)")
    T.eq(log[4], "INSERT INTO mg_pair (id, first_id, second_id) " ..
                 "VALUES (?, ?, ?)")
  end)

  T.test(pfx .. "a stale version is refused", function()
    seed()
    local d = detached(Doc, 1)
    local s <close> = orm.Session(engine)
    local x = s:get(Doc, 1)
    x.title = "b"
    s:commit()
    local _ = x.title
    local err = T.raises("StaleDataError", function() s:merge(d) end)
    T.eq(err.message, string.format("Version id '1' on merged state " ..
      "<Doc at %s> does not match existing version '2'. Leave the " ..
      "version attribute unset when merging to update the most recent " ..
      "version.", string.match(string.format("%p", x), "0x%x+")))
    -- without a version the target's is kept
    local m = s:merge(Doc{id = 1, title = "q"})
    T.eq({m.v, m.title}, {2, "q"})
    s:flush()
    T.eq(m.v, 3)
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
