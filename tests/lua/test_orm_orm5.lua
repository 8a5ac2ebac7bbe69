-- Mapping and Session details on every test database, each checked
-- against SQLAlchemy 1.4.46: the text of a select whose loader options
-- change its columns, column_property subqueries on aliased classes,
-- composites in inspect(obj).attrs, the SELECTs that load expired
-- attributes (before an UPDATE, in refresh(), with an autoflush between),
-- and the identity map holding clean objects weakly.
local T = require "testing"

local function flat(stmt) return (tostring(stmt):gsub("%s+", " ")) end

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      local s = sql:gsub("%s+", " "):gsub('[`"]', ""):gsub("%$%d+", "?")
      if not s:match("^SAVEPOINT") and not s:match("^RELEASE") then
        log[#log + 1] = s
      end
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end
local function sorted(t) table.sort(t); return t end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Address = Base:class "Address" {
    __tablename__ = "o5_address",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(50)),
    user_id = Column(Integer, ForeignKey("o5_user.id")),
  }
  local id = Column(Integer, {primary_key = true})
  local fullname = Column(String(50))
  M.User = Base:class "User" {
    __tablename__ = "o5_user",
    id = id,
    name = Column(String(30)),
    fullname = fullname,
    bio = orm.deferred(Column(Text)),
    photo = orm.deferred(Column(Text), {group = "g"}),
    up = orm.column_property(func.upper(fullname)),
    naddr = orm.column_property(
      select(func.count(M.Address.id))
        :where(M.Address.user_id:eq(id)):scalar_subquery()),
    addresses = orm.relationship("Address", {order_by = "Address.id"}),
  }
  -- a plain mapping (its attributes are its columns): the one whose
  -- expired loads select just what is missing
  M.Person = Base:class "Person" {
    __tablename__ = "o5_person",
    name = Column(String(30)),
    fullname = Column(String(30)),
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    nick = Column(String(30)),
  }
  M.Point = {}
  M.Point.__index = M.Point
  function M.Point.new(x, y) return setmetatable({x = x, y = y}, M.Point) end
  function M.Point:__composite_values__() return self.x, self.y end
  M.Point.__eq = function(a, b) return a.x == b.x and a.y == b.y end
  M.Vertex = Base:class "Vertex" {
    __tablename__ = "o5_vertex",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    start = orm.composite(M.Point.new, Column("x1", Integer),
                          Column("y1", Integer)),
    finish = orm.composite(M.Point.new, Column("x2", Integer),
                           Column("y2", Integer)),
    syn = orm.synonym("id"),
  }
  return M
end

-- (x, y) of a Point or nil
local function xy(p)
  if type(p) ~= "table" then return nil end
  return {p.x, p.y}
end
local function hist(h)
  local out = {}
  for _, k in ipairs({"added", "unchanged", "deleted"}) do
    local l = {}
    for i, v in ipairs(h[k]) do
      if type(v) == "table" then v = xy(v) end
      l[i] = v
    end
    out[k] = l
  end
  return out
end

------------------------------------------------------------------------
-- statement text (no database)
------------------------------------------------------------------------

T.test("tostring of a select shows what its options change", function()
  local M = schema()
  local User, Address = M.User, M.Address
  -- (the properties first, then the other columns in table order: id
  -- and fullname were made before name)
  local COLS = "upper(o5_user.fullname) AS upper_1, (SELECT " ..
    "count(o5_address.id) AS count_1 FROM o5_address WHERE " ..
    "o5_address.user_id = o5_user.id) AS anon_1, o5_user.id, " ..
    "o5_user.fullname, o5_user.name"
  T.eq(flat(select(User)), "SELECT " .. COLS .. " FROM o5_user")
  T.eq(flat(select(User):options(orm.undefer(User.bio))),
       "SELECT o5_user.bio, " .. COLS .. " FROM o5_user")
  T.eq(flat(select(User):options(orm.undefer_group("g"))),
       "SELECT o5_user.photo, " .. COLS .. " FROM o5_user")
  T.eq(flat(select(User):options(orm.load_only(User.name))),
       "SELECT o5_user.id, o5_user.name FROM o5_user")
  T.eq(flat(select(User):options(orm.defer(User.name), orm.defer(User.up),
                                 orm.defer(User.naddr))),
       "SELECT o5_user.id, o5_user.fullname FROM o5_user")
  local J = " FROM o5_user LEFT OUTER JOIN o5_address AS o5_address_1 ON " ..
    "o5_user.id = o5_address_1.user_id ORDER BY o5_address_1.id"
  T.eq(flat(select(User):options(orm.load_only(User.name),
                                 orm.joinedload(User.addresses))),
       "SELECT o5_user.id, o5_user.name, o5_address_1.id AS id_1, " ..
       "o5_address_1.email, o5_address_1.user_id" .. J)
  T.eq(flat(select(User):options(orm.load_only(User.name),
    orm.joinedload(User.addresses):load_only(Address.email))),
       "SELECT o5_user.id, o5_user.name, o5_address_1.id AS id_1, " ..
       "o5_address_1.email" .. J)
  -- a selectin load is a second statement: the first is unchanged
  T.eq(flat(select(User):options(orm.load_only(User.name),
                                 orm.selectinload(User.addresses))),
       "SELECT o5_user.id, o5_user.name FROM o5_user")
  -- compile() gives the same text; the legacy Query labels it
  T.eq((tostring(select(User):options(orm.load_only(User.name)):compile())
          :gsub("%s+", " ")),
       "SELECT o5_user.id, o5_user.name FROM o5_user")
  local s = orm.Session()
  T.eq(flat(s:query(User):options(orm.load_only(User.name),
                                  orm.joinedload(User.addresses))),
       "SELECT o5_user.id AS o5_user_id, o5_user.name AS o5_user_name, " ..
       "o5_address_1.id AS o5_address_1_id, o5_address_1.email AS " ..
       "o5_address_1_email, o5_address_1.user_id AS o5_address_1_user_id" .. J)
  -- EXISTS and NOT EXISTS as columns are labelled; -x, DISTINCT x not
  local t = User.__table__
  T.eq(flat(select(sa.exists():where(t.c.name:eq("a")), t.c.id + 1,
                   ~sa.exists():where(t.c.id:eq(1)), -t.c.id)),
       "SELECT EXISTS (SELECT * FROM o5_user WHERE o5_user.name = :name_1) " ..
       "AS anon_1, o5_user.id + :id_1 AS anon_2, NOT (EXISTS (SELECT * " ..
       "FROM o5_user WHERE o5_user.id = :id_2)) AS anon_3, -o5_user.id " ..
       "FROM o5_user")
  -- plain columns are left alone
  T.eq(flat(select(User.name):where(User.id:eq(1))),
       "SELECT o5_user.name FROM o5_user WHERE o5_user.id = :id_1")
end)

T.test("column_property subqueries correlate to an aliased class", function()
  local M = schema()
  local User = M.User
  local ua = orm.aliased(User, {name = "u2"})
  local SUB = "(SELECT count(o5_address.id) AS count_1 FROM o5_address " ..
    "WHERE o5_address.user_id = u2.id)"
  T.eq(flat(select(ua)),
       "SELECT upper(u2.fullname) AS upper_1, " .. SUB .. " AS anon_1, " ..
       "u2.id, u2.fullname, u2.name FROM o5_user AS u2")
  T.eq(flat(select(ua.naddr, ua.up):where(ua.naddr:gt(1))),
       "SELECT " .. SUB .. " AS anon_1, upper(u2.fullname) AS upper_1 " ..
       "FROM o5_user AS u2 WHERE " .. SUB .. " > :param_1")
  T.eq(flat(select(User.id, ua.id):where(ua.naddr:gt(User.naddr))),
       "SELECT o5_user.id, u2.id AS id_1 FROM o5_user, o5_user AS u2 " ..
       "WHERE " .. SUB .. " > (SELECT count(o5_address.id) AS count_1 " ..
       "FROM o5_address WHERE o5_address.user_id = o5_user.id)")
  local s = orm.Session()
  T.eq(flat(s:query(ua):filter(ua.id:eq(1))),
       "SELECT upper(u2.fullname) AS upper_1, " .. SUB .. " AS anon_1, " ..
       "u2.id AS u2_id, u2.fullname AS u2_fullname, u2.name AS u2_name " ..
       "FROM o5_user AS u2 WHERE u2.id = :id_1")
end)

T.test("composites in inspect(obj).attrs (transient)", function()
  local M = schema()
  local v = M.Vertex{id = 1, start = M.Point.new(1, 2),
                     finish = M.Point.new(3, 4)}
  local st = orm.inspect(v)
  local keys = {}
  for k in pairs(st.attrs) do keys[#keys + 1] = k end
  T.eq(sorted(keys), {"finish", "id", "start", "syn", "x1", "x2", "y1", "y2"})
  T.eq(xy(st.attrs.start.value), {1, 2})
  T.eq(xy(st.attrs.start.loaded_value), {1, 2})
  T.eq(hist(st.attrs.start.history),
       {added = {{1, 2}}, unchanged = {}, deleted = {{}}})
  T.eq(st.attrs.start.key, "start")
end)

-- a mapping with a deferred column (its select is its layout) and a
-- collection: a LIMIT with a joined eager load goes in a subquery
local function deferred_schema()
  local Base = orm.declarative_base()
  local D = {Base = Base}
  D.Writer = Base:class "Writer" {
    __tablename__ = "o5_writer",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(30)),
    bio = orm.deferred(Column(Text)),
    books = orm.relationship("Book", {order_by = "Book.id"}),
  }
  D.Book = Base:class "Book" {
    __tablename__ = "o5_book",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    title = Column(String(30)),
    writer_id = Column(Integer, ForeignKey("o5_writer.id")),
  }
  return D
end

T.test("a limited joined load of a mapping with deferred columns", function()
  local D = deferred_schema()
  local W = D.Writer
  T.eq(flat(select(W):options(orm.joinedload(W.books)):order_by(W.name)
              :limit(2)),
       "SELECT anon_1.id, anon_1.name, o5_book_1.id AS id_1, " ..
       "o5_book_1.title, o5_book_1.writer_id FROM (SELECT o5_writer.id AS " ..
       "id, o5_writer.name AS name FROM o5_writer ORDER BY o5_writer.name " ..
       "LIMIT :param_1) AS anon_1 LEFT OUTER JOIN o5_book AS o5_book_1 ON " ..
       "anon_1.id = o5_book_1.writer_id ORDER BY anon_1.name, o5_book_1.id")
end)

T.test("a sharded session's legacy Query keeps the columns' keys", function()
  local hs = orm.ext.horizontal_shard
  local Base = orm.declarative_base()
  local Item = Base:class "Item" {
    __tablename__ = "o5_item",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(30)),
  }
  local e1, e2 = create_engine("sqlite://"), create_engine("sqlite://")
  Base.metadata:create_all(e1)
  Base.metadata:create_all(e2)
  local log = capture(e1)
  local s <close> = hs.ShardedSession{shards = {a = e1, b = e2},
    shard_chooser = function(_, obj) return obj.id % 2 == 0 and "a" or "b" end,
    id_chooser = function() return {"a", "b"} end,
    execute_chooser = function() return {"a", "b"} end}
  s:add_all{Item{id = 1, name = "x"}, Item{id = 2, name = "y"}}
  s:commit()
  clear(log)
  local rows = s:query(Item.name, Item.id):order_by(Item.id):all()
  T.eq(#rows, 2)
  T.eq({rows[1].name, rows[1].id, rows[2].name, rows[2].id}, {"y", 2, "x", 1})
  T.eq(log, {"SELECT o5_item.name AS o5_item_name, o5_item.id AS " ..
             "o5_item_id FROM o5_item ORDER BY o5_item.id"})
end)

------------------------------------------------------------------------
-- on the databases
------------------------------------------------------------------------

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Person, Vertex = M.User, M.Address, M.Person, M.Vertex
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  local function seed()
    engine:begin(function(conn)
      for _, t in ipairs({Address, User, Person, Vertex}) do
        conn:execute(delete(t.__table__))
      end
      conn:execute(insert(User.__table__), {
        {id = 1, name = "ann", fullname = "Ann A", bio = "b1"},
        {id = 2, name = "bob", fullname = "Bob B", bio = "b2"}})
      conn:execute(insert(Address.__table__), {
        {id = 1, email = "a1", user_id = 1}, {id = 2, email = "a2", user_id = 1},
        {id = 3, email = "b1", user_id = 2}})
      conn:execute(insert(Person.__table__), {
        {id = 1, name = "a", fullname = "A"}, {id = 2, name = "b", fullname = "B"},
        {id = 3, name = "c", fullname = "C"}})
      conn:execute(insert(Vertex.__table__),
                   {{id = 1, x1 = 1, y1 = 2, x2 = 3, y2 = 4}})
    end)
  end

  T.test(pfx .. "options run as their text says", function()
    seed()
    local s <close> = orm.Session(engine)
    local stmt = select(User):options(orm.undefer(User.bio))
                   :where(User.id:eq(1))
    clear(log)
    local u = s:scalars(stmt):one()
    T.eq(log, {(flat(stmt):gsub(":id_1", "?"))})
    T.eq({u.bio, u.up, u.naddr}, {"b1", "ANN A", 2})
    -- an aliased class's column_property counts its own row's addresses
    local ua = orm.aliased(User, {name = "u2"})
    s:close()
    local rows = s:scalars(select(ua):order_by(ua.id)):all()
    T.eq({rows[1].naddr, rows[2].naddr}, {2, 1})
    T.eq(s:scalars(select(ua.naddr):where(ua.name:eq("bob"))):one(), 1)
  end)

  T.test(pfx .. "composites in inspect(obj).attrs (persistent)", function()
    seed()
    local s <close> = orm.Session(engine)
    local v = s:get(Vertex, 1)
    s:commit()
    local st = orm.inspect(v)
    -- expired: no loaded value; its history loads the columns
    T.eq(st.attrs.start.loaded_value, nil)
    clear(log)
    T.eq(hist(st.attrs.start.history),
         {added = {}, unchanged = {{1, 2}}, deleted = {}})
    T.eq(log, {"SELECT o5_vertex.id AS o5_vertex_id, o5_vertex.x1 AS " ..
               "o5_vertex_x1, o5_vertex.y1 AS o5_vertex_y1, o5_vertex.x2 AS " ..
               "o5_vertex_x2, o5_vertex.y2 AS o5_vertex_y2 FROM o5_vertex " ..
               "WHERE o5_vertex.id = ?"})
    T.eq(xy(st.attrs.start.loaded_value), {1, 2})
    v.start = M.Point.new(5, 6)
    T.eq(hist(st.attrs.start.history),
         {added = {{5, 6}}, unchanged = {}, deleted = {{1, 2}}})
    T.eq(hist(st.attrs.x1.history), {added = {5}, unchanged = {}, deleted = {1}})
    T.eq(hist(st.attrs.finish.history),
         {added = {}, unchanged = {{3, 4}}, deleted = {}})
    s:rollback()
    -- detached and expired: reading its history is refused
    s:expire_all()
    s:close()
    T.raises("DetachedInstanceError", function()
      return orm.inspect(v).attrs.start.history
    end)
  end)

  local SELP = "SELECT o5_person.name AS o5_person_name, o5_person.fullname " ..
    "AS o5_person_fullname, o5_person.id AS o5_person_id, o5_person.nick AS " ..
    "o5_person_nick FROM o5_person WHERE o5_person.id = ?"
  local UPD = "UPDATE o5_person SET name=? WHERE o5_person.id = ?"

  T.test(pfx .. "a detached object added again, then changed", function()
    seed()
    local s = orm.Session(engine)
    -- expired (by the commit) before it was detached: its key is read
    -- with the other unloaded attributes before the UPDATE
    local p = s:get(Person, 1)
    s:commit()
    s:close()
    local st = orm.inspect(p)
    T.ok(st.detached)
    T.eq(sorted(st.expired_attributes), {"fullname", "id", "name", "nick"})
    local s2 = orm.Session(engine)
    s2:add(p)
    T.ok(st.persistent)
    p.name = "x"
    T.ok(st.modified)
    clear(log)
    s2:commit()
    T.eq(log, {"SELECT o5_person.fullname AS o5_person_fullname, " ..
               "o5_person.id AS o5_person_id, o5_person.nick AS " ..
               "o5_person_nick FROM o5_person WHERE o5_person.id = ?", UPD})
    -- loaded when detached: the UPDATE alone
    p = s2:get(Person, 2)
    s2:close()
    local s3 = orm.Session(engine)
    s3:add(p)
    p.name = "y"
    clear(log)
    s3:commit()
    T.eq(log, {UPD})
    -- only another attribute expired: the key is known, no SELECT
    p = s3:get(Person, 3)
    s3:expire(p, {"fullname"})
    s3:expunge(p)
    local s4 = orm.Session(engine)
    s4:add(p)
    p.name = "z"
    clear(log)
    s4:flush()
    T.eq(log, {UPD})
    T.eq(orm.inspect(p).unloaded, {"fullname"})
    s4:commit()
    -- the same value set again: modified, yet no UPDATE
    p = s4:get(Person, 3)
    s4:expunge(p)
    local s5 = orm.Session(engine)
    s5:add(p)
    p.name = p.name
    T.ok(orm.inspect(p).modified)
    T.eq(s5:is_modified(p), false)
    clear(log)
    s5:commit()
    T.eq(log, {})
    s5:close()
    -- its row deleted meanwhile: ObjectDeletedError from the flush's read
    local s6 = orm.Session(engine)
    p = s6:get(Person, 1)
    s6:commit()
    engine:begin(function(c)
      c:execute(delete(Person.__table__):where(Person.id:eq(1)))
    end)
    p.name = "gone"
    clear(log)
    T.raises("ObjectDeletedError", function() s6:flush() end)
    T.eq(log[1], "SELECT o5_person.fullname AS o5_person_fullname, " ..
                 "o5_person.id AS o5_person_id, o5_person.nick AS " ..
                 "o5_person_nick FROM o5_person WHERE o5_person.id = ?")
    s6:rollback()
    s6:close()
  end)

  T.test(pfx .. "expired attributes load what is missing", function()
    seed()
    local s <close> = orm.Session(engine)
    local p = s:get(Person, 1)
    -- two attributes expired: those two, in mapping order, no key
    s:expire(p, {"nick", "name"})
    clear(log)
    T.eq(p.name, "a")
    T.eq(log, {"SELECT o5_person.name AS o5_person_name, o5_person.nick " ..
               "AS o5_person_nick FROM o5_person WHERE o5_person.id = ?"})
    s:commit()
    -- a change to an expired object, then a read: the autoflush reads
    -- the key first, updates, and the read's own SELECT follows
    p.name = "k"
    clear(log)
    T.eq(p.nick, nil)
    local SEL3 = "SELECT o5_person.fullname AS o5_person_fullname, " ..
      "o5_person.id AS o5_person_id, o5_person.nick AS o5_person_nick " ..
      "FROM o5_person WHERE o5_person.id = ?"
    T.eq(log, {SEL3, UPD, SEL3})
    T.eq(hist(orm.inspect(p).attrs.name.history),
         {added = {}, unchanged = {"k"}, deleted = {}})
    -- without autoflush, no UPDATE before the read
    s:commit()
    s.autoflush = false
    p.name = "l"
    clear(log)
    T.eq(p.fullname, "A")
    T.eq(log, {SEL3})
    T.eq(hist(orm.inspect(p).attrs.name.history),
         {added = {"l"}, unchanged = {}, deleted = {}})
    s.autoflush = true
    s:rollback()
    -- everything expired: every column, as a get
    clear(log)
    T.eq(p.name, "k")
    T.eq(log, {SELP})
  end)

  T.test(pfx .. "refresh() selects what it is told, unlabelled", function()
    seed()
    local s <close> = orm.Session(engine)
    local p = s:get(Person, 1)
    p.fullname = "changed"
    clear(log)
    s:refresh(p, {"fullname"})
    T.eq(log, {"SELECT o5_person.fullname FROM o5_person WHERE " ..
               "o5_person.id = ?"})
    T.eq(p.fullname, "A")
    T.eq(orm.inspect(p).modified, false)
    clear(log)
    s:refresh(p)
    T.eq(log, {"SELECT o5_person.name, o5_person.fullname, o5_person.id, " ..
               "o5_person.nick FROM o5_person WHERE o5_person.id = ?"})
    clear(log)
    s:refresh(p, {"fullname", "id"})
    T.eq(log, {"SELECT o5_person.fullname, o5_person.id FROM o5_person " ..
               "WHERE o5_person.id = ?"})
    s:expire(p)
    clear(log)
    s:refresh(p, {"nick"})
    T.eq(log, {"SELECT o5_person.nick FROM o5_person WHERE " ..
               "o5_person.id = ?"})
    T.eq(sorted(orm.inspect(p).unloaded), {"fullname", "id", "name"})
    -- a row gone: InvalidRequestError
    local q = s:get(Person, 3)
    s:commit()
    engine:begin(function(c)
      c:execute(delete(Person.__table__):where(Person.id:eq(3)))
    end)
    local e = T.raises("InvalidRequestError", function()
      s:refresh(q, {"name"})
    end)
    T.match(e.message, "Could not refresh instance")
    s:rollback()
  end)

  T.test(pfx .. "the identity map holds clean objects weakly", function()
    seed()
    local s <close> = orm.Session(engine)
    local GET = "SELECT o5_person.name AS o5_person_name, " ..
      "o5_person.fullname AS o5_person_fullname, o5_person.id AS " ..
      "o5_person_id, o5_person.nick AS o5_person_nick FROM o5_person " ..
      "WHERE o5_person.id = ?"
    clear(log)
    s:get(Person, 1)
    collectgarbage(); collectgarbage()
    s:get(Person, 1)
    T.eq(log, {GET, GET})
    -- while referenced, the map answers
    local p = s:get(Person, 1)
    clear(log)
    collectgarbage()
    T.ok(s:get(Person, 1) == p)
    T.eq(log, {})
    p = nil
    -- a changed object is held until the flush
    do s:get(Person, 2).name = "z" end
    collectgarbage(); collectgarbage()
    clear(log)
    s:flush()
    T.eq(log, {"UPDATE o5_person SET name=? WHERE o5_person.id = ?"})
    collectgarbage(); collectgarbage()
    clear(log)
    T.eq(s:get(Person, 2).name, "z")
    T.eq(log, {GET})
    -- so are pending and deleted ones (get() autoflushes the first)
    clear(log)
    s:add(Person{id = 9, name = "n"})
    collectgarbage(); collectgarbage()
    s:delete(s:get(Person, 3))
    collectgarbage(); collectgarbage()
    s:flush()
    T.eq(#log, 3)
    T.match(log[1], "^INSERT INTO o5_person")
    T.eq(log[2], GET)
    T.eq(log[3], "DELETE FROM o5_person WHERE o5_person.id = ?")
    s:rollback()
    T.eq(#s:scalars(select(Person)):all(), 3)
    collectgarbage(); collectgarbage()
    clear(log)
    s:get(Person, 1)
    T.eq(log, {GET})
  end)

  T.test(pfx .. "the legacy Query runs its columns labelled", function()
    seed()
    local s <close> = orm.Session(engine)
    local q = function(...) return s:query(...) end
    local P = "SELECT o5_person.name AS o5_person_name, o5_person.fullname " ..
      "AS o5_person_fullname, o5_person.id AS o5_person_id, o5_person.nick " ..
      "AS o5_person_nick FROM o5_person"
    clear(log)
    T.eq(q(Person):count(), 3)
    T.eq(log, {"SELECT count(*) AS count_1 FROM (" .. P .. ") AS anon_1"})
    clear(log)
    T.eq(q(Person):order_by(Person.id):first().name, "a")
    -- (SQLite's LIMIT has an OFFSET, as SQLAlchemy renders it there)
    local LIM = db.name == "sqlite" and " LIMIT ? OFFSET ?" or " LIMIT ?"
    T.eq(log, {P .. " ORDER BY o5_person.id" .. LIM})
    clear(log)
    local r = q(Person.name, Person.id):order_by(Person.id):first()
    T.eq({r.name, r.id}, {"a", 1})
    T.eq(log, {"SELECT o5_person.name AS o5_person_name, o5_person.id AS " ..
               "o5_person_id FROM o5_person ORDER BY o5_person.id" .. LIM})
    clear(log)
    local rows = q(User.name, Address.email):join(User.addresses)
      :order_by(Address.id):all()
    T.eq(#rows, 3)
    T.eq({rows[1].name, rows[1].email}, {"ann", "a1"})
    T.eq(log, {"SELECT o5_user.name AS o5_user_name, o5_address.email AS " ..
               "o5_address_email FROM o5_user " ..
               (db.name == "mysql" and "INNER " or "") .. -- (MySQL's form)
               "JOIN o5_address ON o5_user.id " ..
               "= o5_address.user_id ORDER BY o5_address.id"})
    clear(log)
    rows = q(User.id, Address.id):outerjoin(User.addresses)
      :order_by(User.id, Address.id):all()
    T.eq(#rows, 3)
    T.eq(rows[1].id, 1)
    T.eq(log, {"SELECT o5_user.id AS o5_user_id, o5_address.id AS " ..
               "o5_address_id FROM o5_user LEFT OUTER JOIN o5_address ON " ..
               "o5_user.id = o5_address.user_id ORDER BY o5_user.id, " ..
               "o5_address.id"})
    clear(log)
    rows = q(Person):add_columns(Person.name):order_by(Person.id):all()
    T.eq({rows[1][1].id, rows[1][2], rows[1].name}, {1, "a", "a"})
    T.eq(log, {"SELECT o5_person.name AS o5_person_name, " ..
               "o5_person.fullname AS o5_person_fullname, o5_person.id AS " ..
               "o5_person_id, o5_person.nick AS o5_person_nick, " ..
               "o5_person.name AS o5_person_name__1 FROM o5_person ORDER BY " ..
               "o5_person.id"})
    -- a query of the Table: plain rows by column name
    rows = q(Person.__table__):order_by(Person.__table__.c.id):all()
    T.eq({rows[1].id, rows[1].name}, {1, "a"})
    T.eq(q(Person.name):filter(Person.id:eq(2)):scalar(), "b")
    -- exists(): EXISTS in a columns clause is labelled anon_1
    clear(log)
    T.eq(q(q(Person):filter(Person.name:eq("a")):exists()):scalar(), true)
    T.eq(log, {"SELECT EXISTS (SELECT 1 FROM o5_person WHERE " ..
               "o5_person.name = ?) AS anon_1"})
  end)

  T.test(pfx .. "merge, get and begin as in 1.4", function()
    seed()
    local s <close> = orm.Session(engine)
    -- merging into an expired object: name is set first (mapping
    -- order), then the key, whose old value is read: what is unloaded
    -- and unchanged loads then
    local p = s:get(Person, 1)
    s:commit()
    clear(log)
    T.ok(s:merge(Person{id = 1, name = "m"}) == p)
    T.eq(log, {"SELECT o5_person.fullname AS o5_person_fullname, " ..
               "o5_person.id AS o5_person_id, o5_person.nick AS " ..
               "o5_person_nick FROM o5_person WHERE o5_person.id = ?"})
    local h = orm.inspect(p).attrs.name.history
    T.eq({h.added, h.deleted}, {{"m"}, {}})
    T.eq(orm.inspect(p).unloaded, {})
    s:rollback()
    -- a merge that may load autoflushes first
    p = s:get(Person, 1)
    s:get(Person, 2).name = "zz"
    clear(log)
    T.ok(s:merge(Person{id = 1, name = "m"}) == p)
    T.eq(log, {UPD})
    -- ... and one with load = false does not
    s:flush()
    s:get(Person, 2).name = "yy"
    local d = Person{id = 3}
    orm.inspect(d) -- (a detached copy: taken from another session)
    local s2 <close> = orm.Session(engine)
    d = s2:get(Person, 3)
    s2:close()
    clear(log)
    local got = s:merge(d, {load = false})
    T.eq(log, {})
    T.eq(got.name, "c")
    T.ok(orm.inspect(got).persistent)
    s:rollback()
    -- get() with an identity of the wrong size or names
    local e = T.raises("InvalidRequestError", function()
      return s:get(Person, {1, 2})
    end)
    T.eq(e.message, "Incorrect number of values in identifier to " ..
         "formulate primary key for session.get(); primary key columns " ..
         "are 'o5_person.id'")
    e = T.raises("InvalidRequestError", function()
      return s:get(Person, {nope = 1})
    end)
    T.eq(e.message, "Incorrect names of values in identifier to " ..
         "formulate primary key for session.get(); primary key attribute " ..
         "names are 'id' (synonym names are also accepted)")
    T.eq(s:get(Person, {id = 1}).name, "a")
    T.raises("NoResultFound", function() return s:get_one(Person, 99) end)
    -- begin() twice, before any statement ran
    s:close()
    local t = s:begin()
    e = T.raises("InvalidRequestError", function() return s:begin() end)
    T.eq(e.message, "A transaction is already begun on this Session.")
    t:rollback()
    T.ok(s:begin() ~= nil)
    s:commit()
    T.ok(s:begin() ~= nil)
    s:close()
  end)

  T.test(pfx .. "a lazy load reads an expired parent's key first", function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    s:commit()
    clear(log)
    T.eq(#u.addresses, 2)
    T.eq(#log, 2)
    T.match(log[1], "^SELECT upper%(o5_user.fullname%) AS upper_1, ")
    T.match(log[1], "FROM o5_user WHERE o5_user.id = %?$")
    T.match(log[2], "FROM o5_address WHERE %? = o5_address.user_id " ..
            "ORDER BY o5_address.id$")
    -- refresh() of relationships alone is refused
    local e = T.raises("InvalidRequestError", function()
      s:refresh(u, {"addresses"})
    end)
    T.eq(e.message, "No column-based properties specified for refresh " ..
         "operation. Use session.expire() to reload collections and " ..
         "related items.")
    s:rollback()
  end)

  T.test(pfx .. "a limited joined load of a mapping with deferred columns",
         function()
    local D = deferred_schema()
    D.Base.metadata:drop_all(engine)
    D.Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all{D.Writer{id = 1, name = "a", bio = "x",
                       books = {D.Book{id = 1, title = "t1"},
                                D.Book{id = 2, title = "t2"}}},
              D.Writer{id = 2, name = "b", books = {D.Book{id = 3, title = "t3"}}},
              D.Writer{id = 3, name = "c"}}
    s:commit()
    s:close()
    local ws = s:scalars(select(D.Writer):options(orm.joinedload(D.Writer.books))
                           :order_by(D.Writer.id):limit(2)):unique():all()
    T.eq(#ws, 2)
    T.eq({#ws[1].books, #ws[2].books}, {2, 1})
    T.eq(orm.inspect(ws[1]).unloaded, {"bio"})
    s:close()
    D.Base.metadata:drop_all(engine)
  end)

  M.Base.metadata:drop_all(engine)
  engine:dispose()
end

T.done()
