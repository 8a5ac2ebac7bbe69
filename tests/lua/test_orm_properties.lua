-- Mapper properties on every test database: column_property (an
-- expression and a correlated subquery loaded with the object and usable
-- in queries), deferred columns and groups with defer/undefer/
-- undefer_group/load_only, synonym, validates, composite,
-- hybrid_property, version_id_col and eager_defaults; execution options
-- (populate_existing, yield_per) and bulk INSERT/UPDATE/DELETE with each
-- synchronize_session strategy.  Expected SQL, states and values were
-- checked against SQLAlchemy 1.4.
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = {sql = sql:gsub("%s+", " "):gsub('[`"]', ""),
                       params = params, many = many}
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end
local function sqls(log)
  local out = {}
  for i, l in ipairs(log) do out[i] = l.sql end
  return out
end
local function sorted(list)
  table.sort(list)
  return list
end
local function unloaded(obj) return sorted(orm.inspect(obj).unloaded) end

-- the SQL text with the dialect's placeholders made "?"
local function q(db, text)
  if db.name == "postgresql" then
    local n = 0
    text = text:gsub("%?", function() n = n + 1; return "$" .. n end)
  end
  if db.name == "mysql" then
    text = text:gsub("(%S+) || %$?%S+ || (%S+)", "concat(%1, concat(?, %2))")
  end
  return text
end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Address = Base:class "Address" {
    __tablename__ = "pr_address",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("pr_user.id")),
    email = Column(String(50)),
  }
  local id = Column(Integer, {primary_key = true})
  local firstname, lastname = Column(String(50)), Column(String(50))
  M.User = Base:class "User" {
    __tablename__ = "pr_user",
    id = id, firstname = firstname, lastname = lastname,
    bio = orm.deferred(Column(Text), {group = "big"}),
    photo = orm.deferred(Column(Text), {group = "big"}),
    notes = orm.deferred(Column(Text)),
    fullname = orm.column_property(firstname .. " " .. lastname),
    -- correlate_except: selected beside a join of both tables, auto-
    -- correlation would leave the subquery no FROM (an error in SQLAlchemy)
    naddr = orm.column_property(
      select(func.count(M.Address.id))
        :where(M.Address.user_id:eq(id)):correlate_except(M.Address)
        :scalar_subquery()),
  }
  M.Point = {}
  M.Point.__index = M.Point
  function M.Point.new(x, y) return setmetatable({x = x, y = y}, M.Point) end
  function M.Point:__composite_values__() return self.x, self.y end
  M.Point.__eq = function(a, b) return a.x == b.x and a.y == b.y end
  local vid = Column(Integer, {primary_key = true})
  local x1, y1 = Column("x1", Integer), Column("y1", Integer)
  M.Vertex = Base:class "Vertex" {
    __tablename__ = "pr_vertex",
    id = vid,
    x1 = x1, y1 = y1,
    start = orm.composite(M.Point.new, x1, y1),
    finish = orm.composite(M.Point.new, Column("x2", Integer),
                           Column("y2", Integer)),
  }
  M.seen = {}
  M.Account = Base:class "Account" {
    __tablename__ = "pr_account",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(50)),
    email = Column(String(50)),
    uname = orm.synonym("name"),
    check_email = orm.validates("email", function(self, key, value)
      M.seen[#M.seen + 1] = key .. "=" .. tostring(value)
      if value ~= nil and not value:find("@") then
        error("bad email: " .. value, 0)
      end
      return value and value:lower()
    end),
  }
  M.Doc = Base:class "Doc" {
    __tablename__ = "pr_doc",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    title = Column(String(50)),
    version_id = Column(Integer, {nullable = false}),
    __mapper_args__ = {version_id_col = "version_id"},
  }
  M.Person = Base:class "Person" {
    __tablename__ = "pr_person",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(50)),
    age = Column(Integer),
    older = orm.hybrid_property(function(self) return self.age > 25 end,
      {expression = function(cls) return cls.age:gt(25) end}),
    title = orm.hybrid_property(function(self) return "M. " .. self.name end,
      {setter = function(self, v) self.name = v:gsub("^M%. ", "") end}),
  }
  M.Task = Base:class "Task" {
    __tablename__ = "pr_task",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(50)),
    status = Column(String(20), {server_default = "new"}),
    __mapper_args__ = {eager_defaults = true},
  }
  M.Team = Base:class "Team" {
    __tablename__ = "pr_team",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    members = orm.relationship("Member"),
    check = orm.validates("members", function(self, key, member)
      M.seen[#M.seen + 1] = key .. "+" .. member.name
      if member.name == "bad" then error("no bad members", 0) end
      return member
    end),
  }
  M.Member = Base:class "Member" {
    __tablename__ = "pr_member",
    id = Column(Integer, {primary_key = true}),
    team_id = Column(Integer, ForeignKey("pr_team.id")),
    name = Column(String(20)),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Vertex, Account = M.User, M.Address, M.Vertex, M.Account
  local Point, Doc, Person = M.Point, M.Doc, M.Person
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "
  local function wipe()
    engine:begin(function(conn)
      for _, t in ipairs({"pr_member", "pr_team", "pr_address", "pr_user",
                      "pr_vertex",
                          "pr_account", "pr_doc", "pr_person",
                          "pr_task"}) do
        conn:execute(delete(M.Base.metadata.tables[t]))
      end
    end)
  end
  local function seed()
    wipe()
    local s <close> = orm.Session(engine)
    s:add(User{id = 1, firstname = "ann", lastname = "lee", bio = "b1",
               photo = "p1", notes = "n1"})
    s:add(User{id = 2, firstname = "bob", lastname = "ray", bio = "b2",
               photo = "p2", notes = "n2"})
    s:flush()
    s:add_all({Address{id = 1, user_id = 1, email = "a1"},
               Address{id = 2, user_id = 1, email = "a2"}})
    s:commit()
  end
  local full = "SELECT pr_user.firstname || ? || pr_user.lastname AS anon_1, " ..
    "(SELECT count(pr_address.id) AS count_1 FROM pr_address " ..
    "WHERE pr_address.user_id = pr_user.id) AS anon_2, pr_user.id, " ..
    "pr_user.firstname, pr_user.lastname FROM pr_user"
  -- a load by primary key labels the table's columns (SQLAlchemy 1.4's
  -- legacy Query does)
  local full_by_pk = full:gsub("pr_user%.(%w+), ", "pr_user.%1 AS pr_user_%1, ")
    :gsub("pr_user%.lastname FROM", "pr_user.lastname AS pr_user_lastname FROM")

  T.test(pfx .. "column_property loads with the object", function()
    seed()
    local s <close> = orm.Session(engine)
    clear(log)
    local users = s:scalars(select(User):order_by(User.id)):all()
    T.eq(sqls(log), {q(db, full .. " ORDER BY pr_user.id")})
    T.eq(users[1].fullname, "ann lee")
    T.eq(users[1].naddr, 2)
    T.eq(users[2].naddr, 0)
    T.eq(unloaded(users[1]), {"bio", "notes", "photo"})
    T.eq(#log, 1)
    -- in a query: the expression itself
    clear(log)
    local u = s:scalars(select(User):where(User.fullname:eq("bob ray"))):one()
    T.ok(u == users[2])
    T.eq(sqls(log), {q(db, full ..
      " WHERE pr_user.firstname || ? || pr_user.lastname = ?")})
    local rows = s:execute(select(User.id, User.naddr):order_by(User.id)):all()
    T.eq({rows[1][2], rows[2][2]}, {2, 0})
    -- alone it has no FROM to correlate to (as in SQLAlchemy)
    T.raises("DatabaseError", function()
      return s:scalars(select(User.naddr):order_by(User.id)):all()
    end)
  end)

  T.test(pfx .. "expressions reload when expired and after a flush", function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    u.lastname = "lin"
    s:flush()
    T.eq(unloaded(u), {"bio", "fullname", "naddr", "notes", "photo"})
    clear(log)
    T.eq(u.fullname, "ann lin")
    T.eq(#log, 1)
    s:expire(u)
    clear(log)
    T.eq(u.firstname, "ann")
    T.eq(sqls(log), {q(db, full_by_pk .. " WHERE pr_user.id = ?")})
    T.eq(unloaded(u), {"bio", "notes", "photo"})
  end)

  T.test(pfx .. "deferred columns load by group on first access", function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    clear(log)
    T.eq(u.bio, "b1")
    T.eq(sqls(log), {q(db, "SELECT pr_user.bio AS pr_user_bio, " ..
                           "pr_user.photo AS pr_user_photo FROM " ..
                           "pr_user WHERE pr_user.id = ?")})
    T.eq(u.photo, "p1")
    T.eq(#log, 1)
    T.eq(u.notes, "n1")
    T.eq(sqls(log)[2], q(db, "SELECT pr_user.notes AS pr_user_notes " ..
                             "FROM pr_user WHERE pr_user.id = ?"))
    -- a deferred column is written like any other
    u.bio = "new"
    clear(log)
    s:flush()
    T.eq(sqls(log), {q(db, "UPDATE pr_user SET bio=? WHERE pr_user.id = ?")})
    s:commit()
    T.eq(u.bio, "new")
    -- the row is gone: the deferred load says so
    engine:begin(function(conn) conn:execute(delete(Address.__table__))
      conn:execute(delete(User.__table__)) end)
    s:commit() -- a new transaction sees it (MariaDB reads a snapshot)
    T.raises("ObjectDeletedError", function() return u.notes end)
  end)

  T.test(pfx .. "defer, undefer, undefer_group, load_only", function()
    seed()
    local s <close> = orm.Session(engine)
    clear(log)
    local u = s:scalars(select(User):where(User.id:eq(1))
                          :options(orm.undefer(User.bio))):one()
    T.eq(sqls(log), {q(db, "SELECT pr_user.bio, " .. full:sub(8) ..
                           " WHERE pr_user.id = ?")})
    T.eq(unloaded(u), {"notes", "photo"})
    s:close()
    u = s:scalars(select(User):where(User.id:eq(1))
                    :options(orm.undefer_group("big"))):one()
    T.eq(unloaded(u), {"notes"})
    s:close()
    clear(log)
    u = s:scalars(select(User):where(User.id:eq(1))
                    :options(orm.load_only(User.firstname))):one()
    T.eq(sqls(log), {q(db, "SELECT pr_user.id, pr_user.firstname FROM " ..
                           "pr_user WHERE pr_user.id = ?")})
    T.eq(unloaded(u), {"bio", "fullname", "lastname", "naddr", "notes",
                       "photo"})
    clear(log)
    T.eq(u.lastname, "lee") -- one attribute at a time
    T.eq(sqls(log), {q(db, "SELECT pr_user.lastname AS pr_user_lastname " ..
                           "FROM pr_user WHERE pr_user.id = ?")})
    T.eq(u.fullname, "ann lee")
    T.eq(unloaded(u), {"bio", "naddr", "notes", "photo"})
    s:close()
    u = s:scalars(select(User):where(User.id:eq(1))
                    :options(orm.defer(User.lastname))):one()
    T.eq(unloaded(u), {"bio", "lastname", "notes", "photo"})
    -- the legacy Query takes them too
    s:close()
    u = s:query(User):options(orm.load_only(User.lastname)):filter_by{id = 2}
          :one()
    T.eq(unloaded(u), {"bio", "firstname", "fullname", "naddr", "notes",
                       "photo"})
    T.raises("ArgumentError", orm.defer)
    T.raises("ArgumentError", orm.load_only, {})
    -- a detached object cannot load what was deferred
    s:close()
    u = s:scalars(select(User):where(User.id:eq(1))
                    :options(orm.defer(User.lastname))):one()
    s:expunge(u)
    local err = T.raises("DetachedInstanceError", function() return u.bio end)
    T.match(err.message, "^Parent instance <User at 0x%x+> is not bound to " ..
            "a Session; deferred load operation of attribute 'bio' cannot " ..
            "proceed$")
    T.raises("DetachedInstanceError", function() return u.lastname end)
    -- attribute names, the legacy form
    s:close()
    u = s:query(User):options(orm.defer("firstname"), orm.undefer("notes"))
          :filter_by{id = 2}:one()
    T.eq(unloaded(u), {"bio", "firstname", "photo"})
  end)

  T.test(pfx .. "entities with other columns keep their positions", function()
    seed()
    local s <close> = orm.Session(engine)
    local rows = s:execute(select(Address.email, User, Address)
      :join_from(User, Address, Address.user_id:eq(User.id))
      :order_by(Address.id)):all()
    T.eq(#rows, 2)
    T.eq(rows[1][1], "a1")
    T.eq(rows[1][2].fullname, "ann lee")
    T.eq(rows[1][2].naddr, 2)
    T.eq(rows[2][3].email, "a2")
    T.ok(rows[1][2] == rows[2][2])
  end)

  T.test(pfx .. "synonym and validates", function()
    wipe()
    M.seen = {}
    local s <close> = orm.Session(engine)
    local a = Account{name = "n", email = "A@B"}
    T.eq(M.seen, {"email=A@B"})
    T.eq(a.email, "a@b")
    T.eq(a.uname, "n")
    a.uname = "m"
    T.eq(a.name, "m")
    local ok, err = pcall(function() a.email = "bad" end)
    T.eq(ok, false)
    T.eq(err, "bad email: bad")
    T.eq(a.email, "a@b")
    T.eq(tostring(select(Account):where(Account.uname:eq("x"))),
         "SELECT pr_account.id, pr_account.name, pr_account.email \n" ..
         "FROM pr_account \nWHERE pr_account.name = :name_1")
    s:add(a)
    s:commit()
    T.eq(s:scalars(select(Account.email):where(Account.uname:eq("m"))):one(),
         "a@b")
    T.raises("ArgumentError", function() return Account{nope = 1} end)
  end)

  T.test(pfx .. "validates on a collection sees each member", function()
    M.seen = {}
    local Team, Member = M.Team, M.Member
    local a, b = Member{name = "a"}, Member{name = "b"}
    local t = Team{name = "t", members = {a}}
    T.eq(M.seen, {"members+a"})
    t.members:append(b)
    T.eq(M.seen, {"members+a", "members+b"})
    t.members = {a, b, Member{name = "c"}}
    T.eq(M.seen, {"members+a", "members+b", "members+a", "members+b",
                  "members+c"})
    local ok, err = pcall(function() t.members:append(Member{name = "bad"}) end)
    T.eq({ok, err}, {false, "no bad members"})
    T.eq(#t.members, 3)
    local s <close> = orm.Session(engine)
    s:add(t)
    s:commit()
    T.eq(s:scalar(select(func.count()):select_from(Member.__table__)), 3)
  end)

  T.test(pfx .. "composite: a value object over columns", function()
    wipe()
    local s <close> = orm.Session(engine)
    local v = Vertex{id = 1, start = Point.new(3, 4), finish = Point.new(5, 6)}
    T.eq(v.x1, 3)
    T.eq(v.y2, 6)
    s:add(v)
    clear(log)
    s:commit()
    T.eq(log[1].sql, q(db, "INSERT INTO pr_vertex (id, x1, y1, x2, y2) " ..
                           "VALUES (?, ?, ?, ?, ?)"))
    T.ok(v.start == Point.new(3, 4))
    T.ok(rawequal(v.start, v.start))
    v.finish = Point.new(1, 1)
    clear(log)
    s:flush()
    T.eq(sqls(log), {q(db, "UPDATE pr_vertex SET x2=?, y2=? WHERE " ..
                           "pr_vertex.id = ?")})
    T.eq(tostring(select(Vertex):where(Vertex.start:eq(Point.new(3, 4)))),
         "SELECT pr_vertex.id, pr_vertex.x1, pr_vertex.y1, pr_vertex.x2, " ..
         "pr_vertex.y2 \nFROM pr_vertex \nWHERE pr_vertex.x1 = :x1_1 AND " ..
         "pr_vertex.y1 = :y1_1")
    T.eq(tostring(select(Vertex):where(Vertex.start:ne(Point.new(3, 4)))),
         "SELECT pr_vertex.id, pr_vertex.x1, pr_vertex.y1, pr_vertex.x2, " ..
         "pr_vertex.y2 \nFROM pr_vertex \nWHERE NOT (pr_vertex.x1 = :x1_1 " ..
         "AND pr_vertex.y1 = :y1_1)")
    T.ok(s:scalars(select(Vertex):where(Vertex.start:eq(Point.new(3, 4))))
           :one() == v)
    T.eq(#s:scalars(select(Vertex):where(Vertex.finish:eq(Point.new(5, 6))))
           :all(), 0)
    v.start = nil
    T.eq(v.x1, nil)
    T.eq(v.start, nil)
  end)

  T.test(pfx .. "version_id_col: counted updates, stale data", function()
    wipe()
    local s <close> = orm.Session(engine)
    local a, b = Doc{id = 1, title = "a"}, Doc{id = 2, title = "b"}
    s:add_all({a, b})
    clear(log)
    s:flush()
    T.eq(log[1].sql, q(db, "INSERT INTO pr_doc (id, title, version_id) " ..
                           "VALUES (?, ?, ?)"))
    T.eq(log[1].params[1], {1, "a", 1})
    T.eq(a.version_id, 1)
    a.title, b.title = "x", "y"
    clear(log)
    s:flush()
    local upd = q(db, "UPDATE pr_doc SET title=?, version_id=? WHERE " ..
                      "pr_doc.id = ? AND pr_doc.version_id = ?")
    T.eq(sqls(log), {upd, upd})
    T.eq(log[1].params, {"x", 2, 1, 1})
    T.eq({a.version_id, b.version_id}, {2, 2})
    s:commit()
    -- someone else's change in between: the expired version is read first
    engine:begin(function(c)
      c:execute(update(Doc.__table__):where(Doc.id:eq(1))
                  :values{version_id = 10})
    end)
    a.title = "z"
    clear(log)
    s:flush()
    T.eq(sqls(log), {q(db, "SELECT pr_doc.id AS pr_doc_id, " ..
                           "pr_doc.version_id AS pr_doc_version_id FROM " ..
                           "pr_doc WHERE pr_doc.id = ?"), upd})
    T.eq(log[2].params, {"z", 11, 1, 10})
    s:commit()
    T.eq(a.title, "z")
    -- a lost update
    engine:begin(function(c)
      c:execute(update(Doc.__table__):where(Doc.id:eq(1))
                  :values{version_id = 20})
    end)
    a.title = "w"
    local err = T.raises("StaleDataError", function() s:flush() end)
    T.eq(err.message, "UPDATE statement on table 'pr_doc' expected to " ..
                      "update 1 row(s); 0 were matched.")
    -- (the failed flush expired the change: nothing left to flush, as
    -- in SQLAlchemy; other work waits for the rollback)
    s:flush()
    T.raises("PendingRollbackError", function() s:execute(select(Doc)) end)
    s:rollback()
    T.eq(a.version_id, 20)
    -- a DELETE matches the version too
    T.eq(b.version_id, 2)
    engine:begin(function(c)
      c:execute(update(Doc.__table__):where(Doc.id:eq(2))
                  :values{version_id = 11})
    end)
    s:delete(b)
    clear(log)
    err = T.raises("StaleDataError", function() s:flush() end)
    T.eq(sqls(log), {q(db, "DELETE FROM pr_doc WHERE pr_doc.id = ? AND " ..
                           "pr_doc.version_id = ?")})
    T.eq(err.message, "DELETE statement on table 'pr_doc' expected to " ..
                      "delete 1 row(s); 0 were matched.  Please set " ..
                      "confirm_deleted_rows=False within the mapper " ..
                      "configuration to prevent this warning.")
    s:rollback()
    s:delete(b)
    s:commit()
    T.eq(s:get(Doc, 2), nil)
  end)

  local function people(s)
    local rows = {}
    for i = 1, 5 do rows[i] = {id = i, name = "u" .. i, age = i * 10} end
    s:execute(insert(Person), rows)
    s:commit()
    return s:scalars(select(Person):order_by(Person.id)):all()
  end
  local function show(list)
    local out = {}
    for i, p in ipairs(list) do out[i] = tostring(p.name) .. ":" .. tostring(p.age) end
    return table.concat(out, " ")
  end

  T.test(pfx .. "bulk insert through the session", function()
    wipe()
    local s <close> = orm.Session(engine)
    clear(log)
    people(s)
    T.eq(log[1].sql, q(db, "INSERT INTO pr_person (id, name, age) VALUES " ..
                           "(?, ?, ?)"))
    T.eq(log[1].many, true)
    T.eq(#log[1].params, 5)
    T.eq(s:scalar(select(func.count()):select_from(Person.__table__)), 5)
  end)

  T.test(pfx .. "hybrid_property: Lua on instances, SQL on the class", function()
    wipe()
    local s <close> = orm.Session(engine)
    local ps = people(s)
    T.eq({ps[2].older, ps[3].older}, {false, true})
    T.eq(tostring(select(Person.title)),
         "SELECT :name_1 || pr_person.name AS title \nFROM pr_person")
    clear(log)
    local old = s:scalars(select(Person):where(Person.older)
                            :order_by(Person.id)):all()
    T.eq(#old, 3)
    T.ok(old[1] == ps[3])
    T.eq(sqls(log), {q(db, "SELECT pr_person.id, pr_person.name, " ..
                           "pr_person.age FROM pr_person WHERE " ..
                           "pr_person.age > ? ORDER BY pr_person.id")})
    ps[1].title = "M. ann"
    T.eq({ps[1].name, ps[1].title}, {"ann", "M. ann"})
    T.raises("ArgumentError", function() ps[1].older = true end)
  end)

  T.test(pfx .. "bulk update: synchronize_session evaluate (auto)", function()
    wipe()
    local s <close> = orm.Session(engine)
    local ps = people(s)
    clear(log)
    local r = s:execute(update(Person):where(Person.age:gt(25))
                          :values{age = Person.age + 1, name = "old"})
    T.eq(r.rowcount, 3)
    T.eq(sqls(log), {q(db, "UPDATE pr_person SET name=?, age=(pr_person.age " ..
                           "+ ?) WHERE pr_person.age > ?")})
    T.eq(show(ps), "u1:10 u2:20 old:31 old:41 old:51")
    T.eq(#log, 1) -- evaluated in memory, nothing reloaded
    T.eq(#s.dirty, 0)
    -- a pending change is flushed first
    ps[1].name = "pending"
    clear(log)
    s:execute(update(Person):where(Person.id:eq(1))
                :values{name = "x", age = Person.age * 2}
                :execution_options{synchronize_session = "evaluate"})
    T.eq(#log, 2)
    T.eq(show({ps[1]}), "x:20")
    T.eq(orm.inspect(ps[1]).unloaded, {})
    -- criteria Lua cannot evaluate
    local err = T.raises("InvalidRequestError", function()
      return s:execute(update(Person):where(Person.name:like("u%"))
                         :values{age = 0}
                         :execution_options{synchronize_session = "evaluate"})
    end)
    T.match(err.message, "^Could not evaluate current criteria in Python")
    T.raises("ArgumentError", function()
      return s:execute(update(Person):values{age = 7}
                         :execution_options{synchronize_session = "bogus"})
    end)
    -- the legacy Query's update() and delete()
    clear(log)
    T.eq(s:query(Person):filter(Person.age:lt(25)):update{age = 1}, 2)
    T.eq(sqls(log), {q(db, "UPDATE pr_person SET age=? WHERE pr_person.age " ..
                           "< ?")})
    T.eq(show(ps), "x:1 u2:1 old:31 old:41 old:51")
    T.eq(s:query(Person):filter_by{name = "old"}
           :delete{synchronize_session = "fetch"}, 3)
    T.eq(orm.inspect(ps[4]).deleted, true)
    T.eq(s:query(Person):count(), 2)
  end)

  T.test(pfx .. "bulk update and delete: fetch, auto falling back, false", function()
    wipe()
    local s <close> = orm.Session(engine)
    local ps = people(s)
    clear(log)
    s:execute(update(Person):where(Person.name:like("u%")):values{age = 0}
                :execution_options{synchronize_session = "fetch"})
    if db.name == "postgresql" then
      T.eq(sqls(log), {"UPDATE pr_person SET age=$1 WHERE pr_person.name " ..
                       "LIKE $2 RETURNING pr_person.id"})
    else
      T.eq(sqls(log), {q(db, "SELECT pr_person.id FROM pr_person WHERE " ..
                             "pr_person.name LIKE ?"),
                       q(db, "UPDATE pr_person SET age=? WHERE " ..
                             "pr_person.name LIKE ?")})
    end
    T.eq(show(ps), "u1:0 u2:0 u3:0 u4:0 u5:0")
    -- a value Lua cannot compute is expired (and loads when read)
    s:execute(update(Person):where(Person.id:eq(5))
                :values{age = func.abs(-3)})
    T.eq(orm.inspect(ps[5]).unloaded, {"age"})
    T.eq(ps[5].age, 3)
    -- auto: LIKE is not evaluated, so the keys are fetched
    clear(log)
    local r = s:execute(delete(Person):where(Person.name:like("u1%")))
    T.eq(r.rowcount, 1)
    T.eq(#log, db.name == "postgresql" and 1 or 2)
    T.eq(orm.inspect(ps[1]).deleted, true)
    r = s:execute(delete(Person):where(Person.age:eq(3)))
    T.eq(orm.inspect(ps[5]).deleted, true)
    T.eq(orm.inspect(ps[2]).deleted, false)
    -- false: the objects are left as they are
    s:execute(update(Person):where(Person.id:eq(2)):values{age = 7}
                :execution_options{synchronize_session = false})
    T.eq(ps[2].age, 0)
    s:commit()
    T.eq(orm.inspect(ps[1]).detached, true)
    T.eq(s:get(Person, 1), nil)
    T.eq(ps[2].age, 7)
  end)

  T.test(pfx .. "populate_existing and yield_per", function()
    wipe()
    local s <close> = orm.Session(engine)
    local ps = people(s)
    T.eq(ps[1].age, 10)
    -- changed behind the ORM's back, in the session's transaction
    s:connection():exec_driver_sql("UPDATE pr_person SET age = 6")
    s:scalars(select(Person)):all()
    T.eq(ps[1].age, 10) -- loaded values are kept
    s:scalars(select(Person):execution_options{populate_existing = true})
      :all()
    T.eq(ps[1].age, 6)
    s:connection():exec_driver_sql("UPDATE pr_person SET age = 8")
    s:query(Person):populate_existing():all()
    T.eq(ps[3].age, 8)
    -- pending changes are discarded (here without autoflush)
    s.autoflush = false
    ps[2].name = "changed"
    s:scalars(select(Person):execution_options{populate_existing = true})
      :all()
    T.eq(ps[2].name, "u2")
    T.eq(orm.inspect(ps[2]).modified, false)
    T.eq(#s.dirty, 0)
    T.eq(orm.inspect(ps[2]).attrs.name.history, {added = {},
                                                 unchanged = {"u2"},
                                                 deleted = {}})
    s.autoflush = true
    -- yield_per: objects made a batch at a time from a streamed result,
    -- other statements running meanwhile (not on MariaDB, whose protocol
    -- forbids it, as with SQLAlchemy's server side cursors there)
    local seen, other = {}, 0
    local streamed = s:scalars(select(Person):order_by(Person.id)
                                 :execution_options{yield_per = 2})
    for p in streamed do
      seen[#seen + 1] = p.id
      if db.name == "mysql" then
        other = other + 5
      else
        other = other + s:scalar(select(func.count())
                                   :select_from(Person.__table__))
      end
    end
    T.eq(seen, {1, 2, 3, 4, 5})
    T.eq(other, 25)
    local res = s:execute(select(Person):order_by(Person.id)
                            :execution_options{yield_per = 2})
    T.eq(#res:fetchmany(), 2)
    T.eq(#res:fetchmany(3), 3)
    T.eq(#res:fetchmany(), 0)
    local parts = {}
    for part in s:scalars(select(Person):order_by(Person.id)
                            :execution_options{yield_per = 2}):partitions() do
      parts[#parts + 1] = #part
    end
    T.eq(parts, {2, 2, 1})
    T.eq(#s:query(Person):yield_per(2):all(), 5)
    T.raises("ArgumentError", function()
      return select(Person):execution_options{yield_per = 0}
    end)
  end)

  T.test(pfx .. "eager_defaults reads server defaults in the flush", function()
    wipe()
    local s <close> = orm.Session(engine)
    local a, b = M.Task{id = 1, name = "a"}, M.Task{id = 2, name = "b",
                                                   status = "x"}
    s:add_all({a, b})
    clear(log)
    s:flush()
    if db.name == "postgresql" then
      -- RETURNING where the dialect has it, as SQLAlchemy does
      T.eq(sqls(log), {"INSERT INTO pr_task (id, name) VALUES ($1, $2) " ..
                       "RETURNING pr_task.status",
                       "INSERT INTO pr_task (id, name, status) VALUES " ..
                       "($1, $2, $3)"})
    else
      T.eq(sqls(log), {q(db, "INSERT INTO pr_task (id, name) VALUES (?, ?)"),
                       q(db, "INSERT INTO pr_task (id, name, status) " ..
                             "VALUES (?, ?, ?)"),
                       q(db, "SELECT pr_task.status AS pr_task_status FROM pr_task WHERE " ..
                             "pr_task.id = ?")})
    end
    T.eq(orm.inspect(a).unloaded, {})
    clear(log)
    T.eq({a.status, b.status}, {"new", "x"})
    T.eq(#log, 0)
    a.name = "z"
    s:flush()
    T.eq(#log, 1) -- no server onupdate: nothing to read back
  end)

  T.test(pfx .. "a mixin's declared column_property uses the class's columns", function()
    local Base = orm.declarative_base()
    local SomethingMixin = {
      x = Column(Integer), y = Column(Integer),
      x_plus_y = orm.declared_attr(function(cls)
        return orm.column_property(cls.x + cls.y)
      end),
    }
    local Something = Base:class("Something", SomethingMixin) {
      __tablename__ = "pr_something",
      id = Column(Integer, {primary_key = true}),
    }
    local Other = Base:class("Other", SomethingMixin) {
      __tablename__ = "pr_other",
      id = Column(Integer, {primary_key = true}),
    }
    T.eq(tostring(select(Something.x_plus_y)),
         "SELECT pr_something.x + pr_something.y AS anon_1 \nFROM pr_something")
    T.eq(tostring(select(Other.x_plus_y)),
         "SELECT pr_other.x + pr_other.y AS anon_1 \nFROM pr_other")
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add(Something{x = 2, y = 3})
    s:commit()
    T.eq(s:scalars(select(Something)):one().x_plus_y, 5)
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "map_imperatively takes the same properties", function()
    local reg = orm.registry()
    local users = Table("pr_imp", reg.metadata,
      Column("id", Integer, {primary_key = true}),
      Column("first", String(20)), Column("last", String(20)),
      Column("bio", Text))
    local Imp = {__name__ = "Imp"}
    reg:map_imperatively(Imp, users, {properties = {
      full = orm.column_property(users.c.first .. " " .. users.c.last),
      bio = orm.deferred(users.c.bio),
      surname = orm.synonym("last"),
      fname = orm.column_property(users.c.first),
      last = orm.synonym("_last", {map_column = true}),
    }})
    T.eq(orm.inspect(Imp).attrs._last, users.c.last)
    reg.metadata:drop_all(engine)
    reg.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add(Imp{fname = "a", surname = "b", bio = "x"})
    s:commit()
    T.raises("ArgumentError", function() return Imp{first = "a"} end)
    local u = s:scalars(select(Imp)):one()
    T.eq({u.full, u.fname, u.surname, u.last, u._last},
         {"a b", "a", "b", "b", "b"})
    T.ok(s:scalars(select(Imp):where(Imp.last:eq("b"))):one() == u)
    -- (synonyms are never in the object's dict: unloaded, as in
    -- SQLAlchemy)
    T.eq(unloaded(u), {"bio", "last", "surname"})
    T.eq(u.bio, "x")
    T.eq(tostring(Imp.fname), "Imp.fname")
    T.eq(tostring(Imp.fname:label(nil)), "pr_imp.first")
    s:close() -- its transaction holds the table
    reg.metadata:drop_all(engine)
  end)
end

T.done()
