-- API.md sections 4 and 5 (mapping; instances and the Session) in
-- combinations the other tests leave out, each checked against
-- SQLAlchemy 1.4.46: statements in order, object states, identity map
-- contents and error kinds and messages.
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql)
      log[#log + 1] = T.norm((sql:gsub("%s+", " "):gsub('[`"]', ""))) end)
  return log
end

local function state(o)
  local i = orm.inspect(o)
  for _, k in ipairs({"transient", "pending", "persistent", "deleted",
                      "detached"}) do
    if i[k] then return k end
  end
end

-- whether a set of names (a list or a table keyed by name) holds k
local function has(set, k)
  for i, v in pairs(set) do
    if i == k or v == k then return true end
  end
  return false
end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local assoc = Table("a45_ut", Base.metadata,
    Column("uid", Integer, ForeignKey("a45_user.id"), {primary_key = true}),
    Column("tid", Integer, ForeignKey("a45_tag.id"), {primary_key = true}))
  M.User = Base:class "User" {
    __tablename__ = "a45_user",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(30)),
    tags = relationship("Tag", {secondary = assoc, backref = "users"}),
  }
  M.Tag = Base:class "Tag" {
    __tablename__ = "a45_tag",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(30)),
  }
  M.Note = Base:class "Note" {
    __tablename__ = "a45_note",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    body = Column(String(30)),
    user_id = Column(Integer, ForeignKey("a45_user.id")),
    user = relationship("User", {backref = "notes"}),
  }
  M.K = Base:class "K" {
    __tablename__ = "a45_k",
    a = Column(Integer, {primary_key = true, autoincrement = false}),
    b = Column(String(5), {primary_key = true}),
    v = Column(String(5)),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Tag, K, Note = M.User, M.Tag, M.K, M.Note
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  local function wipe()
    engine:begin(function(conn)
      for _, t in ipairs({"a45_ut", "a45_note", "a45_user", "a45_tag",
                          "a45_k"}) do
        conn:execute(delete(M.Base.metadata.tables[t]))
      end
    end)
    T.clear(log)
  end

  T.test(pfx .. "association rows deleted from either side: table order",
         function()
    wipe()
    local s <close> = orm.Session(engine)
    local t1, t2 = Tag{id = 1, name = "t1"}, Tag{id = 2, name = "t2"}
    local u = User{id = 1, name = "a", tags = {t1, t2}}
    s:add(u)
    s:commit()
    -- the backref side loaded, then the forward side changed
    T.eq(#t1.users, 1)
    u.tags:remove(t1)
    T.eq(#t1.users, 0)
    T.clear(log)
    s:flush()
    T.eq(log, {"DELETE FROM a45_ut WHERE a45_ut.uid = ? AND a45_ut.tid = ?"})
    -- the backref side changed
    t2.users:remove(u)
    T.clear(log)
    s:flush()
    T.eq(log, {"DELETE FROM a45_ut WHERE a45_ut.uid = ? AND a45_ut.tid = ?"})
    s:commit()
  end)

  T.test(pfx .. "get() of a key table with too few names: the count error",
         function()
    wipe()
    local s <close> = orm.Session(engine)
    s:add(K{a = 1, b = "x", v = "v"})
    s:commit()
    T.eq(s:get(K, {a = 1, b = "x"}).v, "v")
    local e = T.raises("InvalidRequestError", function() s:get(K, {a = 1}) end)
    T.eq(e.message, "Incorrect number of values in identifier to formulate " ..
         "primary key for session.get(); primary key columns are " ..
         "'a45_k.a','a45_k.b'")
    e = T.raises("InvalidRequestError",
                 function() s:get(K, {a = 1, c = "x"}) end)
    T.eq(e.message, "Incorrect names of values in identifier to formulate " ..
         "primary key for session.get(); primary key attribute names are " ..
         "'a','b' (synonym names are also accepted)")
  end)

  T.test(pfx .. "a savepoint's rollback expires what it changed and deleted",
         function()
    wipe()
    local s <close> = orm.Session(engine)
    local u1 = User{id = 1, name = "a"}
    s:add(u1)
    s:commit()
    u1.name = "b"
    local sp = s:begin_nested()
    local u2 = User{id = 2, name = "c"}
    s:add(u2)
    u1.name = "c"
    s:delete(u1)
    s:flush()
    T.eq(state(u1), "deleted")
    sp:rollback()
    T.eq(state(u1), "persistent")
    T.eq(state(u2), "transient")
    T.ok(has(orm.inspect(u1).unloaded, "name"))
    T.clear(log)
    -- the value the savepoint began with, loaded again
    T.eq(u1.name, "b")
    T.eq(log, {"SELECT a45_user.id AS a45_user_id, a45_user.name AS " ..
               "a45_user_name FROM a45_user WHERE a45_user.id = ?"})
    s:rollback()
    T.eq(u1.name, "a")
  end)

  T.test(pfx .. "is_active, info and get_bind", function()
    wipe()
    local s <close> = orm.Session(engine, {info = {a = 1}})
    T.eq(s.is_active, true)
    T.eq(s.info.a, 1)
    s.info.b = 2
    T.eq(s.info.b, 2)
    T.eq(next(orm.Session(engine).info), nil)
    T.ok(s:get_bind() == engine)
    T.ok(s:get_bind(User) == engine)
    s:add(K{a = 1, b = "x"})
    s:commit()
    s:add(K{a = 1, b = "x"})
    T.raises("IntegrityError", function() s:commit() end)
    -- inactive from the failed flush until rollback()
    T.eq(s.is_active, false)
    s:rollback()
    T.eq(s.is_active, true)
  end)

  T.test(pfx .. "expired keys load mapper by mapper inside the flush",
         function()
    wipe()
    local s <close> = orm.Session(engine)
    local u = User{id = 1, name = "a"}
    local n = Note{id = 1, body = "x", user = u}
    s:add(u)
    s:commit()
    local evs = {}
    orm.event.listen(s, "before_flush", function() evs[#evs + 1] = "bf" end)
    orm.event.listen(s, "after_begin", function() evs[#evs + 1] = "ab" end)
    u.name = "b"
    n.body = "y"
    T.clear(log)
    s:flush()
    -- (after before_flush, as SQLAlchemy's: the flush begins the
    -- transaction)
    T.eq(evs, {"bf", "ab"})
    T.eq(log, {
      "SELECT a45_user.id AS a45_user_id FROM a45_user WHERE a45_user.id = ?",
      "UPDATE a45_user SET name=? WHERE a45_user.id = ?",
      "SELECT a45_note.id AS a45_note_id, a45_note.user_id AS " ..
      "a45_note_user_id FROM a45_note WHERE a45_note.id = ?",
      "UPDATE a45_note SET body=? WHERE a45_note.id = ?"})
    s:commit()
  end)

  T.test(pfx .. "relationship set events: NO_VALUE, the backref's initiator",
         function()
    wipe()
    local log2 = {}
    local function nm(o)
      if o == nil then return "None" end
      if rawequal(o, orm.NO_VALUE) then return "NO_VALUE" end
      return o.__class__.__name__
    end
    orm.event.listen(Note.user, "set", function(_, v, old, i)
      log2[#log2 + 1] = table.concat({"set", nm(v), nm(old), i.key, i.op}, " ")
    end)
    orm.event.listen(User.notes, "append", function(_, v, i)
      log2[#log2 + 1] = table.concat({"append", nm(v), i.key, i.op}, " ")
    end)
    orm.event.listen(User.notes, "remove", function(_, v, i)
      log2[#log2 + 1] = table.concat({"remove", nm(v), i.key, i.op}, " ")
    end)
    local n = Note{id = 1}
    n.user = nil
    n.user = User{id = 1}
    local u2 = User{id = 2}
    u2.notes:append(Note{id = 2})
    n.user = u2
    u2.notes:remove(n)
    T.eq(log2, {"set None NO_VALUE user replace",
                "append Note user replace",
                "set User None user replace",
                "set User NO_VALUE notes append",
                "append Note notes append",
                "remove Note user replace",
                "append Note user replace",
                "set User User user replace",
                "set None User notes remove",
                "remove Note notes remove"})
  end)

  T.test(pfx .. "was_deleted: an object a flush deleted stays out of sessions",
         function()
    wipe()
    local s <close> = orm.Session(engine)
    local u, n = User{id = 1, name = "a"}, Note{id = 1, body = "x"}
    n.user = u
    s:add(u)
    s:add(n)
    s:commit()
    s:delete(n)
    s:flush()
    T.eq(orm.inspect(n).was_deleted, true)
    T.eq(orm.inspect(u).was_deleted, false)
    s:commit()
    T.eq(state(n), "detached")
    T.eq(orm.inspect(n).was_deleted, true)
    local DELETED = "Instance '<Note at 0x>' has been deleted.  Use the " ..
      "make_transient() function to send this object back to the " ..
      "transient state."
    local function msg(e) return (e.message:gsub("0x%x+", "0x")) end
    local e = T.raises("InvalidRequestError", function() s:add(n) end)
    T.eq(msg(e), DELETED)
    -- in another session too, and through a cascade
    local s2 <close> = orm.Session(engine)
    e = T.raises("InvalidRequestError", function() s2:add(n) end)
    T.eq(msg(e), DELETED)
    local u2 = User{id = 2, name = "b"}
    u2.notes:append(n)
    e = T.raises("InvalidRequestError", function() s2:add(u2) end)
    T.eq(msg(e), DELETED)
    s2:rollback()
    -- a deleted one whose session closed
    local s3 <close> = orm.Session(engine)
    local u1 = s3:get(User, 1)
    s3:delete(u1)
    s3:flush()
    s3:close()
    T.eq(orm.inspect(u1).was_deleted, true)
    T.raises("InvalidRequestError", function() s2:add(u1) end)
    -- make_transient() lets it be added again
    orm.make_transient(n)
    T.eq(orm.inspect(n).was_deleted, false)
    n.user = nil
    s:add(n)
    T.eq(state(n), "pending")
    s:rollback()
  end)

  T.test(pfx .. "a session on a Connection in a transaction joins it",
         function()
    wipe()
    local count = select(func.count()):select_from(M.Base.metadata.tables.a45_user)
    local c <close> = engine:connect()
    local t = c:begin()
    local s = orm.Session(c)
    s:add(User{id = 1, name = "a"})
    s:commit() -- (the outer transaction goes on)
    T.eq(c:in_transaction(), true)
    T.eq(t.is_active, true)
    s:add(User{id = 2, name = "b"})
    s:flush()
    s:close() -- (and is left be)
    T.eq(t.is_active, true)
    T.eq(c:execute(count):scalar(), 2)
    s = orm.Session(c)
    s:add(User{id = 3, name = "c"})
    s:flush()
    s:rollback() -- (rolls it back)
    T.eq(c:in_transaction(), false)
    T.eq(t.is_active, false)
    T.eq(c:execute(count):scalar(), 0)
    c:rollback()
    -- in a savepoint: commit() releases it
    t = c:begin()
    local sp = c:begin_nested()
    s = orm.Session(c)
    s:add(User{id = 5, name = "e"})
    s:commit()
    T.eq(sp.is_active, false)
    T.eq(c:in_nested_transaction(), false)
    T.eq(t.is_active, true)
    T.eq(c:execute(count):scalar(), 1)
    s:close()
    t:rollback()
    -- (SQLite's driver begins no transaction before the SAVEPOINT, whose
    -- RELEASE then commits: so does SQLAlchemy's pysqlite)
    T.eq(c:execute(count):scalar(), db.name == "sqlite" and 1 or 0)
    c:rollback()
  end)

  T.test(pfx .. "a new object with a deleted one's key: the row is updated",
         function()
    wipe()
    local s <close> = orm.Session(engine)
    s:add(User{id = 1, name = "a"})
    s:add(User{id = 2, name = "b"})
    s:commit()
    local u = s:get(User, 1)
    s:delete(u)
    local n = User{id = 1, name = "z"}
    s:add(n)
    T.clear(log)
    s:flush()
    -- (no DELETE, no INSERT: SQLAlchemy's row switch; the deleted
    -- object's relationships load all the same)
    T.eq(log, {
      "SELECT a45_tag.id AS a45_tag_id, a45_tag.name AS a45_tag_name " ..
      "FROM a45_tag, a45_ut WHERE ? = a45_ut.uid AND a45_tag.id = a45_ut.tid",
      "SELECT a45_note.id AS a45_note_id, a45_note.body AS a45_note_body, " ..
      "a45_note.user_id AS a45_note_user_id FROM a45_note WHERE ? = " ..
      "a45_note.user_id",
      "UPDATE a45_user SET name=? WHERE a45_user.id = ?"})
    T.eq(state(u), "deleted")
    T.eq(state(n), "persistent")
    T.ok(s:get(User, 1) == n)
    s:rollback()
    T.eq(state(u), "persistent")
    T.eq(state(n), "transient")
    T.ok(s:get(User, 1) == u)
    T.eq(u.name, "a")
    -- nothing given but the key: no statement; committed, the old one
    -- is detached
    local u2 = s:get(User, 2)
    s:delete(u2)
    local n2 = User{id = 2}
    s:add(n2)
    T.clear(log)
    s:commit()
    for _, sql in ipairs(log) do T.eq(sql:match("^%u+"), "SELECT") end
    T.eq(state(u2), "detached")
    T.eq(state(n2), "persistent")
    T.eq(n2.name, "b")
  end)
end

T.test("a session without a bind: UnboundExecutionError", function()
  local M = schema()
  local User = M.User
  local s = orm.Session()
  local function msg(fn)
    local e = T.raises("UnboundExecutionError", fn)
    T.ok(e:isa("InvalidRequestError"))
    return e.message
  end
  local MAPPER = "Could not locate a bind configured on mapper mapped " ..
                 "class User->a45_user, SQL expression or this Session."
  T.eq(msg(function() s:execute(select(User)) end), MAPPER)
  T.eq(msg(function() s:execute(text("select 1")) end),
       "Could not locate a bind configured on SQL expression or this " ..
       "Session.")
  T.eq(msg(function() s:query(User):all() end), MAPPER)
  T.eq(msg(function() s:get(User, 1) end), MAPPER)
  T.eq(msg(function() s:get_bind(User) end), MAPPER)
  T.eq(msg(function() s:get_bind() end),
       "This session is not bound to a single Engine or Connection, and " ..
       "no context was provided to locate a binding.")
  T.eq(msg(function() s:connection() end),
       "This session is not bound to a single Engine or Connection, and " ..
       "no context was provided to locate a binding.")
  s:add(User{id = 1, name = "x"})
  T.eq(msg(function() s:flush() end), MAPPER)
end)

-- a mapping that SQLAlchemy refuses, with its error kind and message
local function refused(kind, msg, body)
  local B = orm.declarative_base()
  local e = T.raises(kind, function()
    body(B)
    B.registry:configure()
  end)
  T.eq(e.message, msg)
end

T.test("mappings refused: foreign key paths, cascades, strategies",
       function()
  refused("NoForeignKeysError",
    "Could not determine join condition between parent/child tables on " ..
    "relationship U.a - there are no foreign keys linking these tables.  " ..
    "Ensure that referencing columns are associated with a ForeignKey or " ..
    "ForeignKeyConstraint, or specify a 'primaryjoin' expression.",
    function(B)
      B:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                   a = relationship("A")}
      B:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true})}
    end)
  local AMBIGUOUS = "Could not determine join condition between " ..
    "parent/child tables on relationship U.a - there are multiple foreign " ..
    "key paths linking the tables.  Specify the 'foreign_keys' argument, " ..
    "providing a list of those columns which should be counted as " ..
    "containing a foreign key reference to the parent table."
  refused("AmbiguousForeignKeysError", AMBIGUOUS, function(B)
    B:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                 a = relationship("A")}
    B:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true}),
                 u1 = Column(ForeignKey("u.id")), u2 = Column(ForeignKey("u.id"))}
  end)
  -- each table referring to the other
  refused("AmbiguousForeignKeysError", AMBIGUOUS, function(B)
    B:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                 a_id = Column(Integer, ForeignKey("a.id")),
                 a = relationship("A")}
    B:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true}),
                 u_id = Column(ForeignKey("u.id"))}
  end)
  -- (one path of two columns is no ambiguity; foreign_keys chooses)
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
    id = Column(Integer, {primary_key = true}),
    a = relationship("A", {foreign_keys = "A.u2"})}
  B:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true}),
    u1 = Column(ForeignKey("u.id")), u2 = Column(ForeignKey("u.id"))}
  B.registry:configure()
  T.eq(orm.inspect(U).relationships.a.direction, orm.ONETOMANY)
  refused("InvalidRequestError", "Mapper 'mapped class A->a' has no " ..
          "property 'nope'", function(B2)
    B2:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                  a = relationship("A", {back_populates = "nope"})}
    B2:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true}),
                  u1 = Column(ForeignKey("u.id"))}
  end)
  refused("ArgumentError", "Error creating backref 'u' on relationship " ..
          "'U.a': property of that name exists on mapper 'mapped class A->a'",
          function(B2)
    B2:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                  a = relationship("A", {backref = "u"})}
    B2:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true}),
                  u1 = Column(ForeignKey("u.id")), u = relationship("U")}
  end)
  -- (the cascade is checked by relationship() itself, before the target
  -- is looked for)
  refused("ArgumentError", "Invalid cascade option(s): 'bogus', 'nope'",
          function(B2)
    B2:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                  a = relationship("A", {cascade = "all, nope, bogus"})}
  end)
  refused("LoaderStrategyException",
          "Can't find strategy (('lazy', 'bogus'),) for U.a", function(B2)
    B2:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                  a = relationship("A", {lazy = "bogus"})}
    B2:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true}),
                  u1 = Column(ForeignKey("u.id"))}
  end)
  refused("ArgumentError", "For many-to-one relationship A.u, delete-orphan " ..
    "cascade is normally configured only on the \"one\" side of a " ..
    "one-to-many relationship, and not on the \"many\" side of a " ..
    "many-to-one or many-to-many relationship.  To force this relationship " ..
    "to allow a particular \"U\" object to be referred towards by only a " ..
    "single \"A\" object at a time via the A.u relationship, which would " ..
    "allow delete-orphan cascade to take place in this direction, set the " ..
    "single_parent=True flag. (Background on this error at: " ..
    "https://sqlalche.me/e/14/bbf0)", function(B2)
    B2:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true})}
    B2:class "A" {__tablename__ = "a", id = Column(Integer, {primary_key = true}),
                  u1 = Column(ForeignKey("u.id")),
                  u = relationship("U", {cascade = "all, delete-orphan"})}
  end)
  refused("ArgumentError", "Can't determine polymorphic_on value 'nope' - " ..
          "no attribute is mapped to this name.", function(B2)
    B2:class "U" {__tablename__ = "u", id = Column(Integer, {primary_key = true}),
                  __mapper_args__ = {polymorphic_on = "nope"}}
  end)
  refused("InvalidRequestError", "Class <class 'U'> does not have a " ..
          "__table__ or __tablename__ specified and does not inherit from " ..
          "an existing table-mapped class.", function(B2)
    B2:class "U" {id = Column(Integer, {primary_key = true})}
  end)
end)

T.test("a class given to add() for an instance", function()
  local M = schema()
  local s = orm.Session()
  local e = T.raises("UnmappedInstanceError", function() s:add(M.User) end)
  T.eq(e.message, "Class 'DeclarativeMeta' is not mapped; was a class " ..
       "(User) supplied where an instance was required?")
end)

T.test("refresh event names: what was unloaded, none for a whole refresh",
       function()
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
    id = Column(Integer, {primary_key = true}), name = Column(String(30)),
    bio = orm.deferred(Column(String(10))),
    addresses = relationship("A")}
  local A = B:class "A" {__tablename__ = "a",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(ForeignKey("u.id"))}
  local S = B:class "S" {__tablename__ = "s",
    id = Column(Integer, {primary_key = true}), name = Column(String(30)),
    items = relationship("I", {lazy = "selectin"})}
  B:class "I" {__tablename__ = "i", id = Column(Integer, {primary_key = true}),
    s_id = Column(ForeignKey("s.id"))}
  local e = create_engine("sqlite://")
  B.metadata:create_all(e)
  local s = orm.Session(e)
  s:add_all{U{id = 1, name = "a", addresses = {A{id = 1}}}, U{id = 2, name = "b"},
            S{id = 1, name = "s"}}
  s:commit()
  s:close()
  local log = {}
  local function listener(t, _, attrs)
    local names = "None"
    if attrs then
      local l = {}
      for i, k in ipairs(attrs) do l[i] = k end
      table.sort(l)
      names = table.concat(l, ",")
    end
    log[#log + 1] = t.id .. " " .. names
  end
  orm.event.listen(U, "refresh", listener)
  orm.event.listen(S, "refresh", listener)
  s = orm.Session(e)
  local us = s:scalars(select(U):order_by(U.id)):all()
  -- a row for a loaded object names what it had unloaded
  s:scalars(select(U):order_by(U.id)):all()
  T.eq(log, {"1 addresses,bio", "2 addresses,bio"})
  log = {}
  s:scalars(select(U):execution_options{populate_existing = true}):all()
  T.eq(log, {"1 None", "2 None"})
  log = {}
  -- an expired object's load: what expired (relationships too, not the
  -- deferred column)
  s:expire(us[1])
  local _ = us[1].name
  s:expire(us[1], {"name"})
  _ = us[1].name
  s:refresh(us[2])
  s:refresh(us[2], {"name"})
  T.eq(log, {"1 addresses,id,name", "1 name", "2 None", "2 name"})
  log = {}
  -- (also when the load is a select with the eager relationships)
  local so = s:get(S, 1)
  s:expire(so)
  _ = so.name
  T.eq(log, {"1 id,items,name"})
  s:close()
end)

T.test("object_mapper, class_mapper, was_deleted, close_all_sessions, " ..
       "dynamic_loader", function()
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
    id = Column(Integer, {primary_key = true}),
    items = orm.dynamic_loader("I")}
  B:class "I" {__tablename__ = "i", id = Column(Integer, {primary_key = true}),
    u_id = Column(ForeignKey("u.id"))}
  local e = create_engine("sqlite://")
  B.metadata:create_all(e)
  T.ok(orm.class_mapper(U) == orm.inspect(U))
  T.eq(tostring(orm.class_mapper(U)), "mapped class U->u")
  T.ok(orm.object_mapper(U{}) == orm.inspect(U))
  T.eq(T.raises("ArgumentError", function() orm.class_mapper(5) end).message,
       "Class object expected, got '5'.")
  T.raises("UnmappedInstanceError", function() orm.object_mapper(5) end)
  T.eq(orm.inspect(U).relationships.items.lazy, "dynamic")
  local s = orm.Session(e)
  local u = U{id = 1}
  s:add(u)
  s:commit()
  T.eq(orm.was_deleted(u), false)
  T.eq(u.items:count(), 0)
  s:delete(u)
  s:flush()
  T.eq(orm.was_deleted(u), true)
  orm.close_all_sessions()
  T.eq(s:in_transaction(), false)
  T.eq(#s.identity_map, 0)
end)

T.test("History prints as SQLAlchemy's", function()
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
    id = Column(Integer, {primary_key = true}), name = Column(String(30)),
    n = Column(Integer), items = relationship("I")}
  local I = B:class "I" {__tablename__ = "i",
    id = Column(Integer, {primary_key = true}),
    u_id = Column(ForeignKey("u.id"))}
  local e = create_engine("sqlite://")
  B.metadata:create_all(e)
  local s = orm.Session(e)
  local u = U{id = 1, name = "b", n = 3}
  s:add(u)
  local function h(key) return tostring(orm.inspect(u).attrs[key].history) end
  T.eq(h("name"), "History(added=['b'], unchanged=(), deleted=())")
  T.eq(h("items"), "History(added=None, unchanged=None, deleted=None)")
  s:commit()
  T.eq(h("name"), "History(added=None, unchanged=None, deleted=None)")
  T.eq(u.name, "b")
  T.eq(h("name"), "History(added=(), unchanged=['b'], deleted=())")
  u.name = "c"
  u.n = nil
  T.eq(h("name"), "History(added=['c'], unchanged=(), deleted=['b'])")
  T.eq(h("n"), "History(added=[None], unchanged=(), deleted=[3])")
  u.items:append(I{id = 1})
  T.eq(h("items"), "History(added=[I(id=1)], unchanged=[], deleted=[])")
  s:commit()
  local _ = u.items[1]
  T.eq(h("items"), "History(added=(), unchanged=[I(id=1, u_id=1)], deleted=())")
  s:close()
end)

T.test("sessionmaker:begin(): a session that commits at the end of its block",
       function()
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
    id = Column(Integer, {primary_key = true})}
  local e = create_engine("sqlite://")
  B.metadata:create_all(e)
  local SM = orm.sessionmaker{bind = e}
  local kept
  do
    local s <close> = SM:begin()
    T.eq(s:in_transaction(), true)
    kept = U{id = 1}
    s:add(kept)
  end
  T.eq(orm.inspect(kept).detached, true)
  local ok = pcall(function()
    local s <close> = SM:begin()
    s:add(U{id = 2})
    error("boom")
  end)
  T.eq(ok, false)
  local s = SM()
  T.eq(s:scalars(select(U.id)):all(), {1})
  s:close()
end)

T.test("session.identity_map answers as an IdentityMap", function()
  local M = schema()
  local e = create_engine("sqlite://")
  M.Base.metadata:create_all(e)
  local s = orm.Session(e)
  s:add_all{M.User{id = 1, name = "a"}, M.K{a = 1, b = "x"}}
  s:commit()
  local u, k = s:get(M.User, 1), s:get(M.K, {1, "x"})
  local im = s.identity_map
  T.eq(#im, 2)
  T.eq(#im:keys(), 2)
  T.eq(#im:values(), 2)
  T.ok(im:get({M.User, {1}}) == u)
  T.ok(im[{M.K, {1, "x"}}] == k)
  T.eq(im:contains({M.User, {2}}), false)
  T.eq(im:get({M.User, {2}}, "none"), "none")
  local found = false
  for _, kv in ipairs(im:items()) do
    if kv[2] == k then
      T.ok(kv[1][1] == M.K)
      T.eq(kv[1][2], {1, "x"})
      found = true
    end
  end
  T.ok(found)
  s:close()
  T.eq(#s.identity_map, 0)
end)

T.test("a removal that would blank out part of a key: AssertionError",
       function()
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
    id = Column(Integer, {primary_key = true}), items = relationship("I")}
  local I = B:class "I" {__tablename__ = "i",
    u_id = Column(Integer, ForeignKey("u.id"), {primary_key = true}),
    n = Column(Integer, {primary_key = true})}
  local e = create_engine("sqlite://")
  B.metadata:create_all(e)
  local log = capture(e)
  local s = orm.Session(e)
  s:add(U{id = 1, items = {I{n = 1}}})
  s:commit()
  local u = s:get(U, 1)
  u.items:remove(u.items[1])
  T.clear(log)
  local err = T.raises("AssertionError", function() s:flush() end)
  T.eq((err.message:gsub("0x%x+", "0x")), "Dependency rule tried to " ..
       "blank-out primary key column 'i.u_id' on instance '<I at 0x>'")
  T.eq(err:isa("SQLAlchemyError"), false)
  -- (no statement ran, and the session wants its rollback)
  T.eq(log, {})
  T.raises("PendingRollbackError", function() s:execute(select(U)) end)
  s:rollback()
  s:close()
end)

T.test("single_parent: a many-to-one with delete-orphan takes one parent",
       function()
  local B = orm.declarative_base()
  local U = B:class "U" {__tablename__ = "u",
    id = Column(Integer, {primary_key = true})}
  local A = B:class "A" {__tablename__ = "a",
    id = Column(Integer, {primary_key = true}),
    u_id = Column(ForeignKey("u.id")),
    u = relationship("U", {cascade = "all, delete-orphan",
                           single_parent = true})}
  local e = create_engine("sqlite://")
  B.metadata:create_all(e)
  local u1 = U{id = 1}
  local a1 = A{id = 1, u = u1}
  local err = T.raises("InvalidRequestError", function() return A{id = 2, u = u1} end)
  T.eq((err.message:gsub("0x%x+", "0x")), "Instance <U at 0x> is already " ..
       "associated with an instance of <class 'A'> via its A.u attribute, " ..
       "and is only allowed a single parent.")
  a1.u = nil
  local a2 = A{id = 2, u = u1} -- (free again)
  T.ok(a2.u == u1)
  a1.u = U{id = 5}
  local s = orm.Session(e)
  s:add_all{a1, a2}
  s:commit()
  s:close()
  -- objects loaded from rows are not tracked
  s = orm.Session(e)
  local x, y = s:get(A, 1), s:get(A, 2)
  y.u = x.u
  T.ok(y.u == x.u)
  s:rollback()
  s:close()
end)

T.done()
