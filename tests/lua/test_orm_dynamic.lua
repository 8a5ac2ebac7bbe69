-- lazy = "dynamic" (AppenderQuery) and lazy = "write_only"
-- (WriteOnlyCollection) on every test database: what each emits, the
-- members an unsaved owner holds, append/remove through the flush,
-- many-to-many, replacement, cascades and the errors.  Statements and
-- results were checked against SQLAlchemy 1.4 (dynamic) and the 2.0
-- WriteOnlyCollection API.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local tags = Table("dyn_post_tag", Base.metadata,
    Column("post_id", Integer, ForeignKey("dyn_post.id"),
           {primary_key = true}),
    Column("tag_id", Integer, ForeignKey("dyn_tag.id"),
           {primary_key = true}))
  M.User = Base:class "User" {
    __tablename__ = "dyn_user",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    addresses = relationship("Address", {lazy = "dynamic",
      order_by = "Address.id", cascade = "all, delete-orphan"}),
    posts = relationship("Post", {lazy = "write_only",
      order_by = "Post.id", cascade = "all, delete-orphan",
      passive_deletes = true}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "dyn_address",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("dyn_user.id")),
    email = Column(String(20)),
  }
  M.Post = Base:class "Post" {
    __tablename__ = "dyn_post",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("dyn_user.id",
                                         {ondelete = "CASCADE"})),
    title = Column(String(20)),
    tags = relationship("Tag", {secondary = tags, lazy = "dynamic",
                                order_by = "Tag.id"}),
  }
  M.Tag = Base:class "Tag" {
    __tablename__ = "dyn_tag",
    id = Column(Integer, {primary_key = true}),
    word = Column(String(20)),
  }
  return M
end

local function squash(sql) return (sql:gsub("%s+", " ")) end
local function emails(list)
  local out = {}
  for i, a in ipairs(list) do out[i] = a.email end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Post, Tag = M.User, M.Address, M.Post, M.Tag
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  if db.name == "sqlite" then
    -- ON DELETE CASCADE needs SQLite's foreign keys on (one connection:
    -- an in-memory database; outside a transaction, or it does nothing)
    local conn <close> = engine:connect():execution_options{
      isolation_level = "AUTOCOMMIT"}
    conn:exec_driver_sql("PRAGMA foreign_keys = ON")
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = squash(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local pfx = db.name .. ": "
  local q = db.name == "postgresql" and "%$%d" or "%?"

  T.test(pfx .. "dynamic: an AppenderQuery, queried each time", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "x"}
    u.addresses:append(Address{email = "a1"})
    -- unsaved: the members added so far, no SQL
    clear()
    T.eq(emails(u.addresses:all()), {"a1"})
    T.eq(u.addresses:count(), 1)
    T.eq(#log, 0)
    s:add(u)
    s:commit()
    clear()
    T.eq(emails(u.addresses:filter(Address.email:like("a%")):all()), {"a1"})
    -- (the expired owner refreshed first, as SQLAlchemy reads its key)
    T.match(log[1], "^SELECT dyn_user.id AS dyn_user_id")
    T.match(log[2], "^SELECT dyn_address.id AS dyn_address_id, " ..
            "dyn_address.user_id AS dyn_address_user_id, dyn_address.email " ..
            "AS dyn_address_email FROM dyn_address WHERE " .. q ..
            " = dyn_address.user_id AND dyn_address.email LIKE " .. q ..
            " ORDER BY dyn_address.id$")
    T.eq(u.addresses:count(), 1)
    T.match(log[3], "^SELECT count%(%*%) AS count_1 FROM %(SELECT " ..
            "dyn_address.id AS dyn_address_id, dyn_address.user_id AS " ..
            "dyn_address_user_id, dyn_address.email AS dyn_address_email " ..
            "FROM dyn_address WHERE " .. q .. " = dyn_address.user_id ORDER " ..
            "BY dyn_address.id%) AS anon_1$")
    clear()
    u.addresses:append(Address{email = "a2"})
    T.eq(#log, 0)
    -- autoflush before the query
    local seen = {}
    for a in u.addresses:iter() do seen[#seen + 1] = a.email end
    T.eq(seen, {"a1", "a2"})
    T.match(log[1], "^INSERT INTO dyn_address")
    T.match(log[2], "^SELECT dyn_address.id")
    T.eq(u.addresses:first().email, "a1")
    T.match(log[3], "LIMIT")
    local a = u.addresses:first()
    T.ok(rawequal(a, s:get(Address, a.id)), "identity-map objects")
    clear()
    u.addresses:remove(a)
    s:commit()
    T.eq(log[1], "DELETE FROM dyn_address WHERE dyn_address.id = " ..
         (db.name == "postgresql" and "$1" or "?"))
    T.eq(emails(u.addresses:order_by(Address.email:desc()):all()), {"a2"})
    T.eq(u.addresses:filter_by{email = "a2"}:one().email, "a2")
    -- indexing: one row by LIMIT/OFFSET (added members flushed first)
    u.addresses:append(Address{email = "a3"})
    clear()
    T.eq(u.addresses[2].email, "a3")
    T.match(log[1], "^INSERT INTO dyn_address")
    T.match(log[2], "ORDER BY dyn_address.id LIMIT")
    T.eq(u.addresses[1].email, "a2")
    T.eq(u.addresses[3], nil)
    T.eq(u.addresses:slice(0, 2):count(), 2)
    T.eq(u.addresses:filter_by{email = "zz"}:one_or_none(), nil)
    T.raises("NoResultFound", function()
      return u.addresses:filter_by{email = "zz"}:one()
    end)
    T.raises("InvalidRequestError", function()
      return u.addresses:filter_by{nope = 1}
    end)
  end)

  T.test(pfx .. "dynamic: replacing, delete cascade, detached", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "r", addresses = {Address{email = "r1"},
                                            Address{email = "r2"}}}
    s:add(u)
    s:commit()
    local r2 = u.addresses:filter_by{email = "r2"}:one()
    u.addresses = {r2, Address{email = "r3"}}
    s:commit()
    T.eq(emails(u.addresses:all()), {"r2", "r3"})
    T.eq(s:scalar(select(func.count()):select_from(Address)
                  :where(Address.email:eq("r1"))), 0)
    T.raises("ArgumentError", function() u.addresses:append(Tag{}) end)
    -- deleting the user loads and deletes the addresses (cascade)
    s:delete(u)
    s:commit()
    T.eq(s:scalar(select(func.count()):select_from(Address)
                  :where(Address.email:in_({"r2", "r3"}))), 0)
    local u2 = User{name = "d"}
    s:add(u2)
    s:commit()
    s:expunge(u2)
    T.raises("DetachedInstanceError", function() u2.addresses:all() end)
  end)

  T.test(pfx .. "dynamic: many-to-many", function()
    local s <close> = orm.Session(engine)
    local p = Post{title = "p"}
    local t1, t2 = Tag{word = "t1"}, Tag{word = "t2"}
    p.tags:append(t1)
    p.tags:append(t2)
    s:add(p)
    s:commit()
    clear()
    local words = {}
    for i, t in ipairs(p.tags:all()) do words[i] = t.word end
    T.eq(words, {"t1", "t2"})
    T.match(log[1], "^SELECT dyn_post.id AS dyn_post_id")
    T.match(log[2], "FROM dyn_tag, dyn_post_tag WHERE")
    p.tags:remove(t1)
    clear()
    s:commit()
    T.match(log[1], "^DELETE FROM dyn_post_tag")
    T.eq(p.tags:count(), 1)
    T.eq(p.tags:filter(Tag.word:eq("t2")):count(), 1)
  end)

  T.test(pfx .. "write_only: add, select, insert/update/delete", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "w", posts = {Post{title = "p0"}}}
    u.posts:add(Post{title = "p1"})
    s:add(u)
    s:commit()
    T.eq(squash(tostring(u.posts:select())),
         "SELECT dyn_post.id, dyn_post.user_id, dyn_post.title FROM " ..
         "dyn_post WHERE :param_1 = dyn_post.user_id ORDER BY dyn_post.id")
    local function titles()
      local out = {}
      for i, p in ipairs(s:scalars(u.posts:select()):all()) do
        out[i] = p.title
      end
      return out
    end
    T.eq(titles(), {"p0", "p1"})
    u.posts:add_all({Post{title = "p2"}, Post{title = "p3"}})
    T.eq(titles(), {"p0", "p1", "p2", "p3"}) -- autoflushed
    clear()
    s:execute(u.posts:insert(), {{title = "p4"}, {title = "p5"}})
    T.match(log[1], "^INSERT INTO dyn_post %(user_id, title%) VALUES")
    T.eq(#titles(), 6)
    clear()
    s:execute(u.posts:update():values{title = "same"})
    local upd
    for _, l in ipairs(log) do
      if l:match("^UPDATE") then upd = l end
    end
    T.match(upd, "^UPDATE dyn_post SET title=" .. q .. " WHERE " ..
            q .. " = dyn_post.user_id$")
    local p = s:scalars(u.posts:select():limit(1)):one()
    u.posts:remove(p) -- delete-orphan
    s:commit()
    T.eq(#titles(), 5)
    s:execute(u.posts:delete():where(Post.id:gt(p.id + 2)))
    T.eq(#titles(), 2)
    T.raises("InvalidRequestError", function() u.posts = {} end)
    -- passive_deletes: the posts are not loaded, the database removes
    -- them (the addresses, not passive, are loaded for the cascade)
    local uid = u.id
    clear()
    s:delete(u)
    s:commit()
    T.eq(#log, 2)
    T.match(log[1], "^SELECT dyn_address.id")
    T.match(log[2], "^DELETE FROM dyn_user")
    T.eq(s:scalar(select(func.count()):select_from(Post)
                  :where(Post.user_id:eq(uid))), 0)
  end)

  T.test(pfx .. "write_only: insert() only for one-to-many", function()
    local Base2 = orm.declarative_base()
    local sec = Table("dyn_x_y", Base2.metadata,
      Column("x_id", Integer, ForeignKey("dyn_x.id")),
      Column("y_id", Integer, ForeignKey("dyn_y.id")))
    local X = Base2:class "X" {
      __tablename__ = "dyn_x", id = Column(Integer, {primary_key = true}),
      ys = relationship("Y", {secondary = sec, lazy = "write_only"})}
    Base2:class "Y" {__tablename__ = "dyn_y",
                     id = Column(Integer, {primary_key = true})}
    local x = X{id = 1}
    T.raises("InvalidRequestError", function() return x.ys:insert() end)
    T.match(squash(tostring(x.ys:delete())), "^DELETE FROM dyn_y")
  end)
  engine:dispose()
end

-- last: a mapping that fails to configure stays unconfigured
T.test("dynamic needs a collection", function()
  local Base2 = orm.declarative_base()
  Base2:class "A" {
    __tablename__ = "dyn_a", id = Column(Integer, {primary_key = true}),
    b_id = Column(Integer, ForeignKey("dyn_b.id")),
    b = relationship("B", {lazy = "dynamic"})}
  Base2:class "B" {__tablename__ = "dyn_b",
                   id = Column(Integer, {primary_key = true})}
  local err = T.raises("InvalidRequestError", orm.configure_mappers)
  T.eq(err.message, "On relationship A.b, 'dynamic' loaders cannot be " ..
       "used with many-to-one/one-to-one relationships and/or uselist=False.")
end)

T.done()
