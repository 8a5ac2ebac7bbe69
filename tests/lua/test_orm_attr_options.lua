-- Mapping details on every test database: attributes mapped to a column
-- of another name (Column("user_name", String) as `name`), how select()
-- of a class with properties and of a composite renders and loads, column
-- options scoped to a loader path (selectinload(...):load_only(...)) and
-- validates() with include_removes / include_backrefs.  Every expected
-- statement, order and value was checked against SQLAlchemy 1.4.
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
local function unloaded(obj)
  local t = orm.inspect(obj).unloaded
  table.sort(t)
  return t
end
local function flat(stmt) return (tostring(stmt):gsub("%s+", " ")) end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Address = Base:class "Address" {
    __tablename__ = "ak_address",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("ak_user.id")),
    email = Column(String(50)),
    note = Column(String(50)),
    user = orm.relationship("User", {back_populates = "addresses"}),
  }
  local id, fullname = Column(Integer, {primary_key = true}), Column(String(50))
  M.User = Base:class "User" {
    __tablename__ = "ak_user",
    id = id,
    fullname = fullname,
    name = Column("user_name", String(30)),
    bio = orm.deferred(Column(Text)),
    up = orm.column_property(func.upper(fullname)),
    nick = Column("nick_name", String(30)),
    nick2 = orm.synonym("nick"),
    naddr = orm.column_property(
      select(func.count(M.Address.id))
        :where(M.Address.user_id:eq(id)):scalar_subquery()),
    last = Column(String(30)),
    addresses = orm.relationship("Address", {back_populates = "user",
                                             order_by = "Address.id"}),
  }
  M.Point = {}
  M.Point.__index = M.Point
  function M.Point.new(x, y) return setmetatable({x = x, y = y}, M.Point) end
  function M.Point:__composite_values__() return self.x, self.y end
  M.Point.__eq = function(a, b) return a.x == b.x and a.y == b.y end
  M.Vertex = Base:class "Vertex" {
    __tablename__ = "ak_vertex",
    id = Column(Integer, {primary_key = true}),
    start = orm.composite(M.Point.new, Column("x1", Integer),
                          Column("y1", Integer)),
    finish = orm.composite(M.Point.new, Column("x2", Integer),
                           Column("y2", Integer)),
  }
  M.seen = {}
  local function note(...)
    local parts = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      if type(v) == "userdata" or type(v) == "table" then v = v.name end
      parts[i] = tostring(v)
    end
    M.seen[#M.seen + 1] = table.concat(parts, " ")
  end
  M.Team = Base:class "Team" {
    __tablename__ = "ak_team",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    members = orm.relationship("Member", {back_populates = "team"}),
    check = orm.validates("members", "name",
      function(self, key, value, is_remove)
        note("team", key, value, is_remove)
        return value
      end, {include_removes = true}),
  }
  M.Member = Base:class "Member" {
    __tablename__ = "ak_member",
    id = Column(Integer, {primary_key = true}),
    team_id = Column(Integer, ForeignKey("ak_team.id")),
    name = Column(String(20)),
    team = orm.relationship("Team", {back_populates = "members"}),
    check = orm.validates("team", function(self, key, value, extra)
      note("member", key, value, extra)
      return value
    end, {include_backrefs = false}),
  }
  return M
end

-- the columns of select(User), as SQLAlchemy lists them: the declared
-- properties in the order they were made (the renamed columns among
-- them, the deferred one left out), then the other columns
local USER_COLS = "ak_user.user_name, upper(ak_user.fullname) AS upper_1, " ..
  "ak_user.nick_name, (SELECT count(ak_address.id) AS count_1 FROM " ..
  "ak_address WHERE ak_address.user_id = ak_user.id) AS anon_1, " ..
  "ak_user.id, ak_user.fullname, ak_user.last"

T.test("renamed columns: table, Core statements, mapper order", function()
  local M = schema()
  local User = M.User
  local keys = {}
  for _, c in ipairs(User.__table__.c) do keys[#keys + 1] = c.key end
  T.eq(keys, {"id", "fullname", "user_name", "bio", "nick_name", "last"})
  T.eq(tostring(User.__table__.c.user_name), "ak_user.user_name")
  T.ok(User.__table__.c.user_name == User.name)
  T.eq(flat(select(User.name)), "SELECT ak_user.user_name FROM ak_user")
  T.eq(flat(select(User)), "SELECT " .. USER_COLS .. " FROM ak_user")
  -- (conditions in the order of the attribute names)
  T.eq(flat(select(User):filter_by{name = "a", nick2 = "b", id = 1}),
       "SELECT " .. USER_COLS .. " FROM ak_user WHERE ak_user.id = :id_1 " ..
       "AND ak_user.user_name = :user_name_1 AND ak_user.nick_name = " ..
       ":nick_name_1")
  T.raises("InvalidRequestError", function()
    return select(User):filter_by{user_name = "x"}
  end)
  T.eq(flat(sa.update(User):where(User.nick2:eq("a")):values{nick2 = "b",
                                                              name = "n"}),
       "UPDATE ak_user SET user_name=:user_name, nick_name=:nick_name " ..
       "WHERE ak_user.nick_name = :nick_name_1")
  -- an INSERT of the class takes the table's column names (SQLAlchemy's
  -- Core INSERT does not know attribute names either)
  T.eq(flat(sa.insert(User):values{user_name = "x"}),
       "INSERT INTO ak_user (user_name) VALUES (:user_name)")
  T.raises("CompileError", function()
    return sa.insert(User):values{name = "x"}
  end)
  -- __table__ with a column under another name
  local t = Table("ak_pre", M.Base.metadata,
                  Column("id", Integer, {primary_key = true}),
                  Column("c_name", String(20)))
  local Pre = M.Base:class "Pre" {__table__ = t, name = t.c.c_name}
  T.eq(flat(select(Pre)), "SELECT ak_pre.c_name, ak_pre.id FROM ak_pre")
  T.eq(flat(select(Pre):filter_by{name = "x"}),
       "SELECT ak_pre.c_name, ak_pre.id FROM ak_pre WHERE ak_pre.c_name = " ..
       ":c_name_1")
  T.eq(Pre{name = "p"}.name, "p")
  T.eq(flat(select(User.up, User.naddr)),
       "SELECT upper(ak_user.fullname) AS upper_1, (SELECT " ..
       "count(ak_address.id) AS count_1 FROM ak_address WHERE " ..
       "ak_address.user_id = ak_user.id) AS anon_1 FROM ak_user")
  -- (the text shows what the options change, as str() of the statement)
  T.eq(flat(select(User):options(orm.undefer(User.bio))),
       "SELECT " .. USER_COLS:gsub("user_name, ", "user_name, ak_user.bio, ")
       .. " FROM ak_user")
  T.eq(flat(select(M.Vertex.start)),
       "SELECT ak_vertex.x1, ak_vertex.y1 FROM ak_vertex")
  T.eq(flat(select(M.Vertex.id, M.Vertex.start, M.Vertex.finish)
              :where(M.Vertex.start:eq(M.Point.new(1, 2)))),
       "SELECT ak_vertex.id, ak_vertex.x1, ak_vertex.y1, ak_vertex.x2, " ..
       "ak_vertex.y2 FROM ak_vertex WHERE ak_vertex.x1 = :x1_1 AND " ..
       "ak_vertex.y1 = :y1_1")
  T.eq(flat(select(M.Vertex)),
       "SELECT ak_vertex.id, ak_vertex.x1, ak_vertex.y1, ak_vertex.x2, " ..
       "ak_vertex.y2 FROM ak_vertex")
end)

T.test("validates: include_removes and include_backrefs", function()
  local M = schema()
  local function seen()
    local out = M.seen
    M.seen = {}
    return out
  end
  local t = M.Team{name = "t1"}
  local a, b = M.Member{name = "a"}, M.Member{name = "b"}
  T.eq(seen(), {"team name t1 false"})
  t.members:append(a)
  T.eq(seen(), {"team members a false"})
  -- the member's own validator (include_backrefs = false is about the
  -- other side), then the team's through the backref
  b.team = t
  T.eq(seen(), {"member team t1 nil", "team members b false"})
  t.members:remove(a)
  T.eq(seen(), {"team members a true"})
  t.name = nil
  T.eq(seen(), {"team name nil false"})
  b.team = nil
  T.eq(seen(), {"member team nil nil", "team members b true"})
  t.members:append(a)
  seen()
  t.members:pop()
  T.eq(seen(), {"team members a true"})
  local t2 = M.Team{name = "t2", members = {b}}
  T.eq(seen(), {"team name t2 false", "team members b false"})
  T.eq(#t2.members, 1)
  T.raises("ArgumentError", function()
    return orm.validates("x", function() end, {bogus = true})
  end)
end)

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Vertex, Point = M.User, M.Address, M.Vertex, M.Point
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  local function seed()
    engine:begin(function(conn)
      conn:execute(delete(Address.__table__))
      conn:execute(delete(User.__table__))
      conn:execute(delete(Vertex.__table__))
    end)
    local s <close> = orm.Session(engine)
    s:add(User{id = 1, name = "ann", fullname = "Ann Lee", nick = "al",
               bio = "b1", addresses = {
                 Address{id = 1, email = "e1", note = "n1"},
                 Address{id = 2, email = "e2", note = "n2"}}})
    s:add(Vertex{id = 1, start = Point.new(1, 2), finish = Point.new(3, 4)})
    s:add(Vertex{id = 2, finish = Point.new(5, 6)})
    s:commit()
  end

  T.test(pfx .. "renamed columns: flush, load, filters, bulk", function()
    seed()
    local s <close> = orm.Session(engine)
    clear(log)
    local u = s:get(User, 1)
    T.eq(log, {"SELECT ak_user.user_name AS ak_user_user_name, " ..
               "upper(ak_user.fullname) AS upper_1, ak_user.nick_name AS " ..
               "ak_user_nick_name, (SELECT count(ak_address.id) AS count_1 " ..
               "FROM ak_address WHERE ak_address.user_id = ak_user.id) AS " ..
               "anon_1, ak_user.id AS ak_user_id, ak_user.fullname AS " ..
               "ak_user_fullname, ak_user.last AS ak_user_last FROM ak_user " ..
               "WHERE ak_user.id = ?"})
    T.eq({u.name, u.nick, u.nick2, u.up, u.naddr}, {"ann", "al", "al", "ANN LEE", 2})
    u.name = "bea"
    u.nick2 = "bb"
    clear(log)
    s:flush()
    T.eq(log, {"UPDATE ak_user SET user_name=?, nick_name=? WHERE ak_user.id = ?"})
    T.eq(s:scalars(select(User):filter_by{name = "bea"}):one(), u)
    T.eq(s:scalars(select(User):filter_by{up = "ANN LEE", nick = "bb"}):one(), u)
    T.eq(s:query(User):filter_by{nick2 = "bb"}:one(), u)
    T.eq(s:execute(select(User.name, User.nick):where(User.name:eq("bea"))):all()[1][2],
         "bb")
    -- a bulk INSERT's rows are keyed by column (as SQLAlchemy 1.4's)
    s:execute(sa.insert(User), {{id = 2, user_name = "cy", fullname = "Cy"}})
    T.eq(s:scalar(select(User.name):where(User.id:eq(2))), "cy")
    T.eq(s:execute(sa.update(User):where(User.name:eq("cy"))
                     :values{name = "dee"}).rowcount, 1)
    T.eq(s:scalar(select(User.__table__.c.user_name)
                    :where(User.__table__.c.id:eq(2))), "dee")
    -- rows of mapped attributes are keyed by the attribute (in a Session)
    local row = s:execute(select(User.name, User.up, User.nick)
                            :where(User.id:eq(1))):one()
    T.eq({row.name, row.up, row.nick, #row}, {"bea", "ANN LEE", "bb", 3})
    T.eq(s:execute(select(User.name):where(User.id:eq(1))):one().name, "bea")
    T.eq(s:scalars(select(User.up):order_by(User.id)):all(), {"ANN LEE", "CY"})
    T.eq(s:query(User.name):filter(User.id:eq(1)):all()[1].name, "bea")
    T.eq(#s:query(User.name):filter(User.id:eq(1)):all()[1], 1)
    s:expire(u)
    T.eq(u.name, "bea")
    s:rollback()
    T.eq(u.name, "ann")
  end)

  T.test(pfx .. "select(User) and composites load as SQLAlchemy's", function()
    seed()
    local s <close> = orm.Session(engine)
    clear(log)
    local u = s:scalars(select(User):where(User.id:eq(1))):one()
    T.eq(log, {"SELECT " .. USER_COLS .. " FROM ak_user WHERE ak_user.id = ?"})
    T.eq(unloaded(u), {"addresses", "bio", "nick2"})
    T.eq(u.up, "ANN LEE")
    -- with another column first, and with options
    local row = s:execute(select(User.id, User):where(User.id:eq(1))):one()
    T.eq(row[1], 1)
    T.ok(row[2] == u)
    local v = s:execute(select(User):options(orm.load_only(User.name))):scalars():one()
    T.ok(v == u)
    -- an aliased class loads its columns and expressions from its alias
    s:add(User{id = 2, name = "bo", fullname = "Bo Xu"})
    s:flush()
    local B = orm.aliased(User, {name = "u2"})
    local pair = s:execute(select(User, B):where(User.id:eq(1))
                             :where(B.id:eq(2))):one()
    T.eq({pair[1].fullname, pair[2].fullname, pair[2].up, pair[2].name},
         {"Ann Lee", "Bo Xu", "BO XU", "bo"})
    s:rollback()
    -- a composite: its value objects (all NULL: a value of NULLs)
    local pts = s:scalars(select(Vertex.start):order_by(Vertex.id)):all()
    T.eq({pts[1].x, pts[1].y, pts[2].x, pts[2].y}, {1, 2, nil, nil})
    T.eq(getmetatable(pts[2]), Point)
    local rows = s:execute(select(Vertex.id, Vertex.finish):order_by(Vertex.id)):all()
    T.eq({rows[1].id, rows[1].finish.x, rows[2].finish.y}, {1, 3, 6})
    local r = s:execute(select(Vertex, Vertex.start):where(Vertex.id:eq(1))):one()
    T.eq(r[1].finish, Point.new(3, 4))
    T.eq(r[2], Point.new(1, 2))
  end)

  T.test(pfx .. "column options on loader paths", function()
    seed()
    local s <close> = orm.Session(engine)
    clear(log)
    local u = s:scalars(select(User):where(User.id:eq(1)):options(
      orm.selectinload(User.addresses):load_only(Address.email))):one()
    T.eq(log[#log], "SELECT ak_address.user_id AS ak_address_user_id, " ..
         "ak_address.id AS ak_address_id, ak_address.email AS " ..
         "ak_address_email FROM ak_address WHERE ak_address.user_id IN (?) " ..
         "ORDER BY ak_address.id")
    local a = u.addresses[1]
    T.eq(unloaded(a), {"note", "user", "user_id"})
    clear(log)
    T.eq(a.note, "n1")
    T.eq(log, {"SELECT ak_address.note AS ak_address_note FROM ak_address " ..
               "WHERE ak_address.id = ?"})
    s:close()

    u = s:scalars(select(User):where(User.id:eq(1)):options(
      orm.defaultload(User.addresses):defer(Address.note))):one()
    clear(log)
    a = u.addresses[2]
    T.eq(log, {"SELECT ak_address.id AS ak_address_id, ak_address.user_id " ..
               "AS ak_address_user_id, ak_address.email AS ak_address_email " ..
               "FROM ak_address WHERE ? = ak_address.user_id ORDER BY " ..
               "ak_address.id"})
    T.eq(unloaded(a), {"note", "user"})
    T.eq(a.email, "e2")
    s:close()

    clear(log)
    u = s:scalars(select(User):where(User.id:eq(1)):options(
      orm.joinedload(User.addresses):defer(Address.note),
      orm.load_only(User.fullname))):unique():one()
    T.eq(log, {"SELECT ak_user.id, ak_user.fullname, ak_address_1.id AS " ..
               "id_1, ak_address_1.user_id, ak_address_1.email FROM ak_user " ..
               "LEFT OUTER JOIN ak_address AS ak_address_1 ON ak_user.id = " ..
               "ak_address_1.user_id WHERE ak_user.id = ? ORDER BY " ..
               "ak_address_1.id"})
    T.eq(unloaded(u.addresses[1]), {"note", "user"})
    T.eq(#u.addresses, 2)
    T.eq(u.addresses[2].note, "n2")
    s:close()

    clear(log)
    u = s:query(User):filter(User.id:eq(1)):options(
      orm.subqueryload(User.addresses):load_only(Address.note)):one()
    T.eq(log[2], "SELECT ak_address.id AS ak_address_id, ak_address.note " ..
         "AS ak_address_note, anon_1.ak_user_id AS anon_1_ak_user_id FROM " ..
         "(SELECT ak_user.id AS ak_user_id FROM ak_user WHERE ak_user.id " ..
         "= ?) AS anon_1 " .. (db.name == "mysql" and "INNER " or "") ..
         "JOIN ak_address ON anon_1.ak_user_id = " ..
         "ak_address.user_id ORDER BY ak_address.id")
    T.eq(unloaded(u.addresses[1]), {"email", "user", "user_id"})
    T.eq(u.addresses[1].email, "e1")
    s:close()

    -- an attribute of another class than the path's entity
    T.raises("ArgumentError", function()
      return s:scalars(select(User):options(
        orm.selectinload(User.addresses):load_only(User.name))):all()
    end)
    s:close()
  end)

  M.Base.metadata:drop_all(engine)
  engine:dispose()
end

T.done()
