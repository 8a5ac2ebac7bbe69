-- Loader strategies and options on every test database, with the SQL
-- SQLAlchemy 1.4 emits for the same statements: joinedload chains,
-- joinedload on a many-to-many (a nested join) and innerjoin,
-- contains_eager (with the statement's join, filtered, through an alias),
-- subqueryload and lazy = "subquery" (the original statement as a
-- subquery, nested steps through aliases, DISTINCT for many-to-one,
-- ORDER BY kept only with LIMIT/OFFSET), raiseload (also "*" and
-- sql_only), lazy = "raise" and noload.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local pk = Table("ld_pk", Base.metadata,
    Column("post_id", Integer, ForeignKey("ld_post.id"),
           {primary_key = true}),
    Column("kw_id", Integer, ForeignKey("ld_kw.id"), {primary_key = true}))
  M.User = Base:class "User" {
    __tablename__ = "ld_u",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    addresses = relationship("Address", {back_populates = "user",
                                         order_by = "Address.id"}),
    posts = relationship("Post", {order_by = "Post.id"}),
    notes = relationship("Note", {lazy = "subquery", order_by = "Note.id"}),
    secrets = relationship("Note", {lazy = "raise", viewonly = true}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "ld_a",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("ld_u.id")),
    email = Column(String(20)),
    user = relationship("User", {back_populates = "addresses"}),
  }
  M.Post = Base:class "Post" {
    __tablename__ = "ld_post",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("ld_u.id")),
    title = Column(String(20)),
    kws = relationship("Kw", {secondary = pk, order_by = "Kw.id"}),
  }
  M.Kw = Base:class "Kw" {
    __tablename__ = "ld_kw",
    id = Column(Integer, {primary_key = true}),
    word = Column(String(20)),
  }
  M.Note = Base:class "Note" {
    __tablename__ = "ld_note",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("ld_u.id")),
    body = Column(String(20)),
  }
  return M
end

-- one spelling of the SQL on every database: placeholders as ?, no
-- identifier quotes, one space for each run of white space, JOIN for
-- MySQL's INNER JOIN
local function norm(sql)
  sql = sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " ")
    :gsub(" INNER JOIN ", " JOIN ")
  return sql
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Post, Kw, Note = M.User, M.Address, M.Post, M.Kw,
                                        M.Note
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all({
      User{id = 1, name = "u1",
           addresses = {Address{id = 1, email = "e1"},
                        Address{id = 2, email = "e2"}},
           posts = {Post{id = 1, title = "p1",
                         kws = {Kw{id = 1, word = "k1"},
                                Kw{id = 2, word = "k2"}}}},
           notes = {Note{id = 1, body = "n1"}}},
      User{id = 2, name = "u2"}})
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local pfx = db.name .. ": "

  -- run stmt in a new session: the objects, the SQL it emitted; then
  -- check(objs) must emit nothing
  local function load(stmt, check)
    local s <close> = orm.Session(engine)
    clear()
    local objs = s:scalars(stmt):unique():all()
    local sql = table.move(log, 1, #log, 1, {})
    clear()
    if check then check(objs, s) end
    T.eq(#log, 0, "no SQL while reading what was loaded")
    return objs, sql
  end
  local function by_id(objs)
    table.sort(objs, function(a, b) return a.id < b.id end)
    return objs
  end

  T.test(pfx .. "joinedload chain through a many-to-many", function()
    local _, sql = load(select(User):options(
      orm.joinedload(User.posts):joinedload(Post.kws)), function(objs)
      objs = by_id(objs)
      T.eq(#objs, 2)
      T.eq(#objs[1].posts, 1)
      T.eq(objs[1].posts[1].kws[2].word, "k2")
      T.eq(#objs[2].posts, 0)
    end)
    -- (the second statement: the notes, lazy = "subquery")
    T.eq(#sql, 2)
    T.eq({sql[1]}, {"SELECT ld_u.id, ld_u.name, ld_kw_1.id AS id_1, " ..
      "ld_kw_1.word, ld_post_1.id AS id_2, ld_post_1.user_id, " ..
      "ld_post_1.title FROM ld_u LEFT OUTER JOIN ld_post AS ld_post_1 ON " ..
      "ld_u.id = ld_post_1.user_id LEFT OUTER JOIN (ld_pk AS ld_pk_1 JOIN " ..
      "ld_kw AS ld_kw_1 ON ld_kw_1.id = ld_pk_1.kw_id) ON ld_post_1.id = " ..
      "ld_pk_1.post_id ORDER BY ld_post_1.id, ld_kw_1.id"})
  end)

  T.test(pfx .. "joinedload: many-to-many, many-to-one, innerjoin",
         function()
    local _, sql = load(select(Post):options(orm.joinedload(Post.kws)),
      function(objs) T.eq(#objs[1].kws, 2) end)
    T.eq(sql, {"SELECT ld_post.id, ld_post.user_id, ld_post.title, " ..
      "ld_kw_1.id AS id_1, ld_kw_1.word FROM ld_post LEFT OUTER JOIN " ..
      "(ld_pk AS ld_pk_1 JOIN ld_kw AS ld_kw_1 ON ld_kw_1.id = " ..
      "ld_pk_1.kw_id) ON ld_post.id = ld_pk_1.post_id ORDER BY ld_kw_1.id"})
    _, sql = load(select(Address):options(orm.joinedload(Address.user)),
      function(objs) T.eq(objs[1].user.name, "u1") end)
    -- (User.notes, lazy = "subquery", goes on from the joined users)
    T.eq(sql, {"SELECT ld_a.id, ld_a.user_id, ld_a.email, ld_u_1.id AS " ..
      "id_1, ld_u_1.name FROM ld_a LEFT OUTER JOIN ld_u AS ld_u_1 ON " ..
      "ld_u_1.id = ld_a.user_id",
      "SELECT ld_note.id AS ld_note_id, ld_note.user_id AS " ..
      "ld_note_user_id, ld_note.body AS ld_note_body, ld_u_1.id AS " ..
      "ld_u_1_id FROM (SELECT DISTINCT ld_a.user_id AS ld_a_user_id FROM " ..
      "ld_a) AS anon_1 JOIN ld_u AS ld_u_1 ON ld_u_1.id = " ..
      "anon_1.ld_a_user_id JOIN ld_note ON ld_u_1.id = ld_note.user_id " ..
      "ORDER BY ld_note.id"})
    -- an inner join drops the user without addresses
    _, sql = load(select(User):options(orm.joinedload(User.addresses,
      {innerjoin = true})), function(objs)
      T.eq(#objs, 1)
      T.eq(#objs[1].addresses, 2)
    end)
    T.eq({sql[1]}, {"SELECT ld_u.id, ld_u.name, ld_a_1.id AS id_1, " ..
      "ld_a_1.user_id, ld_a_1.email FROM ld_u JOIN ld_a AS ld_a_1 ON " ..
      "ld_u.id = ld_a_1.user_id ORDER BY ld_a_1.id"})
  end)

  T.test(pfx .. "joinedload of a collection with LIMIT: a subquery",
         function()
    local _, sql = load(select(User):order_by(User.name):limit(1):options(
      orm.joinedload(User.addresses), orm.noload(User.notes)),
      function(objs)
        T.eq(#objs, 1)
        T.eq(#objs[1].addresses, 2)
      end)
    T.match(sql[1], "^SELECT anon_1.id, anon_1.name, ld_a_1.id AS id_1, " ..
      "ld_a_1.user_id, ld_a_1.email FROM %(SELECT ld_u.id AS id, ld_u.name " ..
      "AS name FROM ld_u ORDER BY ld_u.name LIMIT .*%) AS anon_1 LEFT OUTER " ..
      "JOIN ld_a AS ld_a_1 ON anon_1.id = ld_a_1.user_id ORDER BY " ..
      "anon_1.name, ld_a_1.id$")
    -- many-to-one: the limit stays on the statement
    _, sql = load(select(Address):limit(1):options(
      orm.joinedload(Address.user)), function(objs) T.eq(#objs, 1) end)
    T.match(sql[1], "^SELECT ld_a.id, ld_a.user_id, ld_a.email, ld_u_1.id " ..
      "AS id_1, ld_u_1.name FROM ld_a LEFT OUTER JOIN ld_u AS ld_u_1 ON " ..
      "ld_u_1.id = ld_a.user_id LIMIT")
    -- first() reads every row of the joined collection
    local s <close> = orm.Session(engine)
    local u = s:query(User):options(orm.joinedload(User.addresses),
                                    orm.noload(User.notes))
      :filter(User.name:eq("u1")):first()
    T.eq(#u.addresses, 2)
    u = s:scalars(select(User):order_by(User.id):options(
      orm.joinedload(User.addresses), orm.noload(User.notes))):unique()
      :first()
    T.eq(#u.addresses, 2)
  end)

  T.test(pfx .. "contains_eager: the statement's own join", function()
    local _, sql = load(select(User):join(User.addresses)
      :options(orm.contains_eager(User.addresses)):order_by(User.id),
      function(objs)
        T.eq(#objs, 1)
        T.eq(#objs[1].addresses, 2)
      end)
    -- the contains_eager columns first, as SQLAlchemy 1.4 lists them
    T.eq({sql[1]}, {"SELECT ld_a.id, ld_a.user_id, ld_a.email, ld_u.id " ..
      "AS id_1, ld_u.name FROM ld_u JOIN ld_a ON ld_u.id = " ..
      "ld_a.user_id ORDER BY ld_u.id"})
    -- filtered: the collection holds the rows the statement returned
    load(select(User):join(User.addresses):where(Address.email:eq("e2"))
      :options(orm.contains_eager(User.addresses)), function(objs)
        T.eq(#objs[1].addresses, 1)
        T.eq(objs[1].addresses[1].email, "e2")
      end)
    -- an outer join: the user without addresses gets an empty list
    load(select(User):outerjoin(User.addresses)
      :options(orm.contains_eager(User.addresses)):order_by(User.id),
      function(objs)
        T.eq(#objs, 2)
        T.eq(#objs[2].addresses, 0)
      end)
    local aa = Address.__table__:alias("addr")
    _, sql = load(select(User):join(aa, User.addresses)
      :options(orm.contains_eager(User.addresses, {alias = aa})),
      function(objs) T.eq(#objs[1].addresses, 2) end)
    T.eq({sql[1]}, {"SELECT addr.id, addr.user_id, addr.email, ld_u.id " ..
      "AS id_1, ld_u.name FROM ld_u JOIN ld_a AS addr ON ld_u.id = " ..
      "addr.user_id"})
    T.raises("ArgumentError", function()
      return orm.contains_eager(User.addresses, {alias = 3})
    end)
  end)

  T.test(pfx .. "subqueryload: the statement as a subquery", function()
    local _, sql = load(select(User):where(User.name:eq("u1")):options(
      orm.subqueryload(User.posts):subqueryload(Post.kws),
      orm.lazyload(User.notes)), function(objs)
      T.eq(#objs[1].posts[1].kws, 2)
      T.eq(objs[1].posts[1].kws[1].word, "k1")
    end)
    T.eq(sql, {
      "SELECT ld_u.id, ld_u.name FROM ld_u WHERE ld_u.name = ?",
      "SELECT ld_post.id AS ld_post_id, ld_post.user_id AS " ..
      "ld_post_user_id, ld_post.title AS ld_post_title, anon_1.ld_u_id AS " ..
      "anon_1_ld_u_id FROM (SELECT ld_u.id AS ld_u_id FROM ld_u WHERE " ..
      "ld_u.name = ?) AS anon_1 JOIN ld_post ON anon_1.ld_u_id = " ..
      "ld_post.user_id ORDER BY ld_post.id",
      "SELECT ld_kw.id AS ld_kw_id, ld_kw.word AS ld_kw_word, " ..
      "ld_post_1.id AS ld_post_1_id FROM (SELECT ld_u.id AS ld_u_id FROM " ..
      "ld_u WHERE ld_u.name = ?) AS anon_1 JOIN ld_post AS ld_post_1 ON " ..
      "anon_1.ld_u_id = ld_post_1.user_id JOIN ld_pk AS ld_pk_1 ON " ..
      "ld_post_1.id = ld_pk_1.post_id JOIN ld_kw ON ld_kw.id = " ..
      "ld_pk_1.kw_id ORDER BY ld_kw.id"})
    -- many-to-one: DISTINCT keys; ORDER BY dropped without a LIMIT
    _, sql = load(select(Address):order_by(Address.id):options(
      orm.subqueryload(Address.user)), function(objs)
      T.eq(objs[1].user.name, "u1")
      T.ok(rawequal(objs[1].user, objs[2].user))
    end)
    T.eq(sql[2], "SELECT ld_u.id AS ld_u_id, ld_u.name AS ld_u_name, " ..
      "anon_1.ld_a_user_id AS anon_1_ld_a_user_id FROM (SELECT DISTINCT " ..
      "ld_a.user_id AS ld_a_user_id FROM ld_a) AS anon_1 JOIN ld_u ON " ..
      "ld_u.id = anon_1.ld_a_user_id")
    _, sql = load(select(User):order_by(User.id):limit(1):options(
      orm.subqueryload(User.addresses), orm.noload(User.notes)),
      function(objs) T.eq(#objs[1].addresses, 2) end)
    T.eq(#sql, 2)
    T.match(sql[2], "FROM ld_u ORDER BY ld_u.id LIMIT .*%) AS anon_1 " ..
            "JOIN ld_a ON anon_1.ld_u_id = ld_a.user_id ORDER BY ld_a.id$")
  end)

  T.test(pfx .. "lazy = \"subquery\" loads with the query", function()
    local _, sql = load(select(User):order_by(User.id), function(objs)
      T.eq(#objs[1].notes, 1)
      T.eq(#objs[2].notes, 0)
    end)
    T.eq(#sql, 2)
    T.eq(sql[2], "SELECT ld_note.id AS ld_note_id, ld_note.user_id AS " ..
      "ld_note_user_id, ld_note.body AS ld_note_body, anon_1.ld_u_id AS " ..
      "anon_1_ld_u_id FROM (SELECT ld_u.id AS ld_u_id FROM ld_u) AS anon_1 " ..
      "JOIN ld_note ON anon_1.ld_u_id = ld_note.user_id ORDER BY ld_note.id")
  end)

  T.test(pfx .. "lazy loads: SQLAlchemy's statements", function()
    local s <close> = orm.Session(engine)
    local a = s:get(Address, 1)
    clear()
    T.eq(a.user.name, "u1")
    -- (User.notes is lazy = "subquery": it loads with the lazy load)
    T.eq(log, {"SELECT ld_u.id AS ld_u_id, ld_u.name AS ld_u_name FROM " ..
               "ld_u WHERE ld_u.id = ?",
               "SELECT ld_note.id AS ld_note_id, ld_note.user_id AS " ..
               "ld_note_user_id, ld_note.body AS ld_note_body, " ..
               "anon_1.ld_u_id AS anon_1_ld_u_id FROM (SELECT ld_u.id AS " ..
               "ld_u_id FROM ld_u WHERE ld_u.id = ?) AS anon_1 JOIN ld_note " ..
               "ON anon_1.ld_u_id = ld_note.user_id ORDER BY ld_note.id"})
    local u = a.user
    clear()
    T.eq(#u.addresses, 2)
    T.eq(log, {"SELECT ld_a.id AS ld_a_id, ld_a.user_id AS ld_a_user_id, " ..
               "ld_a.email AS ld_a_email FROM ld_a WHERE ? = ld_a.user_id " ..
               "ORDER BY ld_a.id"})
    local p = s:get(Post, 1)
    clear()
    T.eq(#p.kws, 2)
    T.eq(log, {"SELECT ld_kw.id AS ld_kw_id, ld_kw.word AS ld_kw_word " ..
               "FROM ld_kw, ld_pk WHERE ? = ld_pk.post_id AND ld_kw.id = " ..
               "ld_pk.kw_id ORDER BY ld_kw.id"})
    T.eq(norm(tostring(select(Address):where(
      orm.with_parent(u, User.addresses)))),
      "SELECT ld_a.id, ld_a.user_id, ld_a.email FROM ld_a WHERE :param_1 " ..
      "= ld_a.user_id")
  end)

  T.test(pfx .. "relationship operators print as SQLAlchemy's", function()
    local s <close> = orm.Session(engine)
    local k2, a2, u1 = s:get(Kw, 2), s:get(Address, 2), s:get(User, 1)
    local stmt = select(Post):where(Post.kws:contains(k2))
    T.eq(norm(tostring(stmt)), "SELECT ld_post.id, ld_post.user_id, " ..
      "ld_post.title FROM ld_post, ld_pk AS ld_pk_1 WHERE ld_post.id = " ..
      "ld_pk_1.post_id AND :param_1 = ld_pk_1.kw_id")
    T.eq(#s:scalars(stmt):all(), 1)
    stmt = select(User):where(User.addresses:contains(a2))
    T.eq(norm(tostring(stmt)), "SELECT ld_u.id, ld_u.name FROM ld_u " ..
      "WHERE ld_u.id = :param_1")
    T.ok(rawequal(s:scalars(stmt):one(), u1))
    stmt = select(Address):where(Address.user:eq(u1))
    T.eq(norm(tostring(stmt)), "SELECT ld_a.id, ld_a.user_id, ld_a.email " ..
      "FROM ld_a WHERE :param_1 = ld_a.user_id")
    T.eq(#s:scalars(stmt):all(), 2)
    T.eq(norm(tostring(select(Address):where(Address.user:eq(nil)))),
      "SELECT ld_a.id, ld_a.user_id, ld_a.email FROM ld_a WHERE " ..
      "ld_a.user_id IS NULL")
  end)

  T.test(pfx .. "selectinload: SQLAlchemy's statements", function()
    local _, sql = load(select(User):order_by(User.id):options(
      orm.selectinload(User.addresses), orm.noload(User.notes)),
      function(objs)
        T.eq(#objs[1].addresses, 2)
        T.eq(#objs[2].addresses, 0)
      end)
    T.eq(sql[2], "SELECT ld_a.user_id AS ld_a_user_id, ld_a.id AS ld_a_id, " ..
      "ld_a.email AS ld_a_email FROM ld_a WHERE ld_a.user_id IN (?, ?) " ..
      "ORDER BY ld_a.id")
    _, sql = load(select(Address):order_by(Address.id):options(
      orm.selectinload(Address.user)), function(objs)
        T.eq(objs[2].user.name, "u1")
      end)
    T.eq(sql[2], "SELECT ld_u.id AS ld_u_id, ld_u.name AS ld_u_name FROM " ..
      "ld_u WHERE ld_u.id IN (?)")
    _, sql = load(select(Post):options(orm.selectinload(Post.kws)),
      function(objs) T.eq(objs[1].kws[2].word, "k2") end)
    T.eq(sql[2], "SELECT ld_post_1.id AS ld_post_1_id, ld_kw.id AS " ..
      "ld_kw_id, ld_kw.word AS ld_kw_word FROM ld_post AS ld_post_1 JOIN " ..
      "ld_pk AS ld_pk_1 ON ld_post_1.id = ld_pk_1.post_id JOIN ld_kw ON " ..
      "ld_kw.id = ld_pk_1.kw_id WHERE ld_post_1.id IN (?) ORDER BY " ..
      "ld_kw.id")
  end)

  T.test(pfx .. "selectinload then joinedload: one statement", function()
    local _, sql = load(select(User):order_by(User.id):options(
      orm.selectinload(User.posts):joinedload(Post.kws),
      orm.noload(User.notes)), function(objs)
        T.eq(#objs[1].posts, 1)
        T.eq(#objs[1].posts[1].kws, 2)
        T.eq(objs[1].posts[1].kws[2].word, "k2")
        T.eq(#objs[2].posts, 0)
      end)
    T.eq(#sql, 2)
    T.eq(sql[2], "SELECT ld_post.user_id AS ld_post_user_id, ld_post.id AS " ..
      "ld_post_id, ld_post.title AS ld_post_title, ld_kw_1.id AS " ..
      "ld_kw_1_id, ld_kw_1.word AS ld_kw_1_word FROM ld_post LEFT OUTER " ..
      "JOIN (ld_pk AS ld_pk_1 JOIN ld_kw AS ld_kw_1 ON ld_kw_1.id = " ..
      "ld_pk_1.kw_id) ON ld_post.id = ld_pk_1.post_id WHERE " ..
      "ld_post.user_id IN (?, ?) ORDER BY ld_post.id, ld_kw_1.id")
    -- and on from the joined objects
    _, sql = load(select(User):order_by(User.id):options(
      orm.selectinload(User.addresses):joinedload(Address.user)
        :selectinload(User.posts), orm.noload(User.notes)), function(objs)
        T.ok(rawequal(objs[1].addresses[1].user, objs[1]))
        T.eq(#objs[1].posts, 1)
      end)
    T.eq(#sql, 3)
    T.eq(sql[3], "SELECT ld_post.user_id AS ld_post_user_id, ld_post.id " ..
      "AS ld_post_id, ld_post.title AS ld_post_title FROM ld_post WHERE " ..
      "ld_post.user_id IN (?) ORDER BY ld_post.id")
  end)

  T.test(pfx .. "ORM rows: columns named n and ents", function()
    local s <close> = orm.Session(engine)
    local row = s:execute(select(User, func.count(Address.id):label("n"),
                                 literal_column("'x'"):label("ents"))
      :join(User.addresses):group_by(User.id, User.name)):one()
    T.eq(row.n, 2)
    T.eq(row.ents, "x")
    T.eq(row.User.name, "u1")
    T.eq(#row, 3)
    T.eq(tostring(row), "(User(id=1, name='u1'), 2, 'x')")
  end)

  T.test(pfx .. "raiseload, lazy = \"raise\", noload", function()
    local s <close> = orm.Session(engine)
    local u = s:scalars(select(User):where(User.id:eq(1))
      :options(orm.raiseload(User.addresses))):one()
    local err = T.raises("InvalidRequestError", function()
      return u.addresses
    end)
    T.eq(err.message, "'User.addresses' is not available due to " ..
         "lazy='raise'")
    err = T.raises("InvalidRequestError", function() return u.secrets end)
    T.eq(err.message, "'User.secrets' is not available due to lazy='raise'")
    s:expunge_all()
    u = s:scalars(select(User):where(User.id:eq(1))
      :options(orm.raiseload("*"))):one()
    T.raises("InvalidRequestError", function() return u.posts end)
    T.raises("InvalidRequestError", function() return u.notes end)
    -- the wildcard leaves what other options name
    s:expunge_all()
    u = s:scalars(select(User):where(User.id:eq(1)):options(
      orm.selectinload(User.posts), orm.raiseload("*"))):one()
    T.eq(#u.posts, 1)
    -- sql_only: an object the identity map has is no SQL
    s:expunge_all()
    local a = s:scalars(select(Address):where(Address.id:eq(1))
      :options(orm.raiseload(Address.user, {sql_only = true}))):one()
    err = T.raises("InvalidRequestError", function() return a.user end)
    T.eq(err.message, "'Address.user' is not available due to " ..
         "lazy='raise_on_sql'")
    local owner = s:get(User, 1)
    s:expunge(a)
    a = s:scalars(select(Address):where(Address.id:eq(1))
      :options(orm.raiseload(Address.user, {sql_only = true}))):one()
    T.ok(rawequal(a.user, owner))
    -- noload: empty and no SQL
    s:expunge_all()
    u = s:scalars(select(User):where(User.id:eq(1))
      :options(orm.noload(User.addresses), orm.noload(User.notes))):one()
    clear()
    T.eq(#u.addresses, 0)
    T.eq(#log, 0)
  end)
  engine:dispose()
end

T.done()
