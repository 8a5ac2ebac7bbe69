-- Loading expired attributes and refresh() on every test database, the
-- SQL checked against SQLAlchemy 1.4.46: an access selects only the
-- expired attributes (not those deferred, by the mapper or load_only,
-- nor those with a pending change) -- column_property expressions,
-- columns of joined inheritance (of the subclass tables alone, "? =
-- sub.id", when no base table column is needed), single-table classes
-- with their discriminator criterion, a sharded session's object on its
-- shard; refresh(obj, attrs) selects those attributes unlabelled, in
-- property order, with_for_update when asked.
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql, params, context, many)
      log[#log + 1] = sql:gsub("%s+", " "):gsub('[`"]', ""):gsub("%$%d+", "?")
                         :gsub(" INNER JOIN ", " JOIN ") -- (MySQL's form)
    end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Address = Base:class "Address" {
    __tablename__ = "xl_address",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    uid = Column(Integer, ForeignKey("xl_user.id")),
  }
  -- (the columns made in table order)
  local uid = Column(Integer, {primary_key = true, autoincrement = false})
  local name = Column(String(30))
  local note = Column(String(30))
  M.User = Base:class "User" {
    __tablename__ = "xl_user",
    id = uid,
    name = name,
    note = note,
    bio = orm.deferred(Column(String(30))),
    up = orm.column_property(func.upper(name)),
    naddr = orm.column_property(select(func.count(M.Address.id))
      :where(M.Address.uid:eq(uid)):scalar_subquery()),
    lz = orm.column_property(func.lower(note), {deferred = true}),
  }
  local eid = Column(Integer, {primary_key = true, autoincrement = false})
  local kind = Column(String(10))
  M.Emp = Base:class "Emp" {
    __tablename__ = "xl_emp",
    id = eid,
    kind = kind,
    name = Column(String(30)),
    __mapper_args__ = {polymorphic_on = kind, polymorphic_identity = "emp"},
  }
  M.Eng = M.Emp:class "Eng" {
    __tablename__ = "xl_eng",
    id = Column(Integer, ForeignKey("xl_emp.id"), {primary_key = true}),
    lang = Column(String(30)),
    __mapper_args__ = {polymorphic_identity = "eng"},
  }
  M.Sen = M.Eng:class "Sen" {
    __tablename__ = "xl_sen",
    id = Column(Integer, ForeignKey("xl_eng.id"), {primary_key = true}),
    years = Column(Integer),
    __mapper_args__ = {polymorphic_identity = "sen"},
  }
  M.Mgr = M.Emp:class "Mgr" {
    __mapper_args__ = {polymorphic_identity = "mgr"},
    level = Column(Integer),
  }
  M.Q = Base:class "Q" {
    __tablename__ = "xl_q",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(10)),
    items = relationship("QItem", {lazy = "joined"}),
    tags = relationship("QTag", {lazy = "selectin"}),
  }
  M.QItem = Base:class "QItem" {
    __tablename__ = "xl_qitem",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    qid = Column(Integer, ForeignKey("xl_q.id")),
  }
  M.QTag = Base:class "QTag" {
    __tablename__ = "xl_qtag",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    qid = Column(Integer, ForeignKey("xl_q.id")),
  }
  M.P = Base:class "P" {
    __tablename__ = "xl_p",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    a = Column(String(10)),
    b = Column(String(10)),
    c = Column(String(10)),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Emp, Eng, Sen, P = M.User, M.Emp, M.Eng, M.Sen, M.P
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  local function seed()
    local s <close> = orm.Session(engine)
    s:add_all{User{id = 1, name = "n", note = "o", bio = "b"},
              M.Address{id = 1, uid = 1},
              Eng{id = 1, name = "e", lang = "py"},
              M.Mgr{id = 2, name = "m", level = 3},
              Sen{id = 3, name = "s", lang = "lua", years = 4},
              P{id = 1, a = "a", b = "b", c = "c"},
              M.Q{id = 1, name = "q", items = {M.QItem{id = 1}},
                  tags = {M.QTag{id = 1}}}}
    s:commit()
  end
  seed()

  local NADDR = "(SELECT count(xl_address.id) AS count_1 FROM xl_address " ..
                "WHERE xl_address.uid = xl_user.id) AS anon_1"
  local W = " FROM xl_user WHERE xl_user.id = ?"

  T.test(pfx .. "column_property: only the expired attributes", function()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    local function expire(keys, read)
      s:expire(u, keys)
      clear(log)
      local _ = u[read]
      return log
    end
    T.eq(expire({"name"}, "name"), {"SELECT xl_user.name AS xl_user_name" .. W})
    T.eq(expire({"up"}, "up"), {"SELECT upper(xl_user.name) AS upper_1" .. W})
    T.eq(expire({"naddr"}, "naddr"), {"SELECT " .. NADDR .. W})
    -- property order: the declared properties, then the table's columns
    T.eq(expire({"name", "up"}, "name"),
         {"SELECT upper(xl_user.name) AS upper_1, xl_user.name AS " ..
          "xl_user_name" .. W})
    T.eq(u.up, "N")
    -- a deferred column loads on its own, expired or not
    clear(log)
    local _ = u.bio
    T.eq(log, {"SELECT xl_user.bio AS xl_user_bio" .. W})
    T.eq(expire({"bio"}, "bio"), {"SELECT xl_user.bio AS xl_user_bio" .. W})
    T.eq(expire({"lz"}, "lz"), {"SELECT lower(xl_user.note) AS lower_1" .. W})
    -- all expired: the mapper's columns and expressions, not the
    -- deferred ones
    T.eq(expire(nil, "name"),
         {"SELECT upper(xl_user.name) AS upper_1, " .. NADDR .. ", " ..
          "xl_user.id AS xl_user_id, xl_user.name AS xl_user_name, " ..
          "xl_user.note AS xl_user_note" .. W})
    T.eq({u.name, u.up, u.naddr}, {"n", "N", 1})
    -- a pending change is not loaded over (it is flushed first)
    s:expire(u, {"name", "note"})
    u.note = "z"
    clear(log)
    T.eq(u.name, "n")
    T.eq(log, {"UPDATE xl_user SET note=? WHERE xl_user.id = ?",
               "SELECT xl_user.name AS xl_user_name" .. W})
    T.eq(u.note, "z")
    s:rollback()
  end)

  T.test(pfx .. "column_property: refresh", function()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    local function refresh(keys)
      clear(log)
      s:refresh(u, keys)
      return log
    end
    T.eq(refresh({"name"}), {"SELECT xl_user.name" .. W})
    T.eq(refresh({"up"}), {"SELECT upper(xl_user.name) AS upper_1" .. W})
    T.eq(refresh({"naddr"}), {"SELECT " .. NADDR .. W})
    T.eq(refresh({"bio"}), {"SELECT xl_user.bio" .. W})
    T.eq(refresh({"name", "up", "bio"}),
         {"SELECT xl_user.bio, upper(xl_user.name) AS upper_1, " ..
          "xl_user.name" .. W})
    T.eq(refresh(nil), {"SELECT upper(xl_user.name) AS upper_1, " .. NADDR ..
                        ", xl_user.id, xl_user.name, xl_user.note" .. W})
    T.eq({u.name, u.up, u.naddr}, {"n", "N", 1})
    -- refresh forgets the deferred value loaded before
    T.eq(orm.inspect(u).unloaded, {"bio", "lz"})
  end)

  local JOIN = " FROM xl_emp JOIN xl_eng ON xl_emp.id = xl_eng.id"
  local JOIN3 = JOIN .. " JOIN xl_sen ON xl_eng.id = xl_sen.id"

  T.test(pfx .. "joined inheritance: the subclass tables alone", function()
    local s <close> = orm.Session(engine)
    -- loaded as an Emp: its subclass attribute is not loaded yet
    local x = s:get(Emp, 1)
    T.eq(x.__class__, Eng)
    local function expire(keys, read)
      s:expire(x, keys)
      clear(log)
      local _ = x[read]
      return log
    end
    -- name is expired, lang never loaded: both, from the join
    T.eq(expire({"name"}, "name"),
         {"SELECT xl_emp.name AS xl_emp_name, xl_eng.lang AS xl_eng_lang" ..
          JOIN .. " WHERE xl_emp.id = ?"})
    -- only the subclass table's: that table alone
    T.eq(expire({"lang"}, "lang"),
         {"SELECT xl_eng.lang AS xl_eng_lang FROM xl_eng WHERE ? = xl_eng.id"})
    T.eq(expire({"kind"}, "kind"),
         {"SELECT xl_emp.kind AS xl_emp_kind" .. JOIN ..
          " WHERE xl_emp.id = ?"})
    T.eq(expire({"id"}, "id"),
         {"SELECT xl_eng.id AS xl_eng_id, xl_emp.id AS xl_emp_id" .. JOIN ..
          " WHERE xl_emp.id = ?"})
    T.eq(expire(nil, "lang"),
         {"SELECT xl_eng.id AS xl_eng_id, xl_emp.id AS xl_emp_id, " ..
          "xl_emp.kind AS xl_emp_kind, xl_emp.name AS xl_emp_name, " ..
          "xl_eng.lang AS xl_eng_lang" .. JOIN .. " WHERE xl_emp.id = ?"})
    T.eq({x.name, x.lang}, {"e", "py"})
    local function refresh(keys)
      clear(log)
      s:refresh(x, keys)
      return log
    end
    T.eq(refresh({"lang"}), {"SELECT xl_eng.lang" .. JOIN ..
                             " WHERE xl_emp.id = ?"})
    T.eq(refresh({"name", "lang"}), {"SELECT xl_emp.name, xl_eng.lang" ..
                                     JOIN .. " WHERE xl_emp.id = ?"})
    T.eq(refresh(nil), {"SELECT xl_eng.id, xl_emp.id AS id_1, xl_emp.kind, " ..
                        "xl_emp.name, xl_eng.lang" .. JOIN ..
                        " WHERE xl_emp.id = ?"})
  end)

  T.test(pfx .. "joined inheritance, three levels", function()
    local s <close> = orm.Session(engine)
    local x = s:get(Sen, 3)
    local function expire(keys, read)
      s:expire(x, keys)
      clear(log)
      local _ = x[read]
      return log
    end
    T.eq(expire({"years"}, "years"),
         {"SELECT xl_sen.years AS xl_sen_years FROM xl_sen WHERE ? = " ..
          "xl_sen.id"})
    -- from the highest table needed down to the class's own
    T.eq(expire({"lang"}, "lang"),
         {"SELECT xl_eng.lang AS xl_eng_lang FROM xl_eng, xl_sen WHERE ? = " ..
          "xl_eng.id AND xl_eng.id = xl_sen.id"})
    T.eq(expire({"lang", "years"}, "lang"),
         {"SELECT xl_eng.lang AS xl_eng_lang, xl_sen.years AS xl_sen_years " ..
          "FROM xl_eng, xl_sen WHERE ? = xl_eng.id AND xl_eng.id = xl_sen.id"})
    T.eq(expire({"name", "years"}, "years"),
         {"SELECT xl_emp.name AS xl_emp_name, xl_sen.years AS xl_sen_years" ..
          JOIN3 .. " WHERE xl_emp.id = ?"})
    -- a pending change stays: only lang loads (after the autoflush)
    s:expire(x, {"lang", "years"})
    x.years = 9
    clear(log)
    T.eq(x.lang, "lua")
    T.eq(log, {"UPDATE xl_sen SET years=? WHERE xl_sen.id = ?",
               "SELECT xl_eng.lang AS xl_eng_lang FROM xl_eng, xl_sen " ..
               "WHERE ? = xl_eng.id AND xl_eng.id = xl_sen.id"})
    s:rollback()
    clear(log)
    s:refresh(x, {"years"})
    T.eq(log, {"SELECT xl_sen.years" .. JOIN3 .. " WHERE xl_emp.id = ?"})
    T.eq(x.years, 4)
    -- loaded as an Emp: both subclass tables' attributes at once
    s:expunge_all()
    local y = s:get(Emp, 3)
    clear(log)
    T.eq(y.years, 4)
    T.eq(y.lang, "lua")
    T.eq(log, {"SELECT xl_eng.lang AS xl_eng_lang, xl_sen.years AS " ..
               "xl_sen_years FROM xl_eng, xl_sen WHERE ? = xl_eng.id AND " ..
               "xl_eng.id = xl_sen.id"})
  end)

  T.test(pfx .. "single-table inheritance: with its criterion", function()
    local s <close> = orm.Session(engine)
    local m = s:get(Emp, 2)
    s:expire(m, {"level"})
    clear(log)
    T.eq(m.level, 3)
    T.eq(log, {"SELECT xl_emp.level AS xl_emp_level FROM xl_emp WHERE " ..
               "xl_emp.id = ? AND xl_emp.kind IN (?)"})
    clear(log)
    s:refresh(m, {"level"})
    T.eq(log, {"SELECT xl_emp.level FROM xl_emp WHERE xl_emp.id = ? AND " ..
               "xl_emp.kind IN (?)"})
    clear(log)
    s:refresh(m)
    T.eq(log, {"SELECT xl_emp.id, xl_emp.kind, xl_emp.name, xl_emp.level " ..
               "FROM xl_emp WHERE xl_emp.id = ? AND xl_emp.kind IN (?)"})
  end)

  T.test(pfx .. "eager relationships: refresh and a wholly expired load",
         function()
    local s <close> = orm.Session(engine)
    local q = s:get(M.Q, 1)
    local J = " FROM xl_q LEFT OUTER JOIN xl_qitem AS xl_qitem_1 ON " ..
              "xl_q.id = xl_qitem_1.qid WHERE xl_q.id = ?"
    local TAGS = "SELECT xl_qtag.id AS xl_qtag_id, xl_qtag.qid AS " ..
                 "xl_qtag_qid FROM xl_qtag WHERE ? = xl_qtag.qid"
    clear(log)
    s:refresh(q)
    -- the joined one in the statement, the selectin one by its lazy load
    T.eq(log, {"SELECT xl_q.id, xl_q.name, xl_qitem_1.id AS id_1, " ..
               "xl_qitem_1.qid" .. J, TAGS})
    clear(log)
    s:refresh(q, {"name"})
    T.eq(log, {"SELECT xl_q.name FROM xl_q WHERE xl_q.id = ?"})
    s:expire(q)
    clear(log)
    T.eq(q.name, "q")
    T.eq(log, {"SELECT xl_q.id AS xl_q_id, xl_q.name AS xl_q_name, " ..
               "xl_qitem_1.id AS xl_qitem_1_id, xl_qitem_1.qid AS " ..
               "xl_qitem_1_qid" .. J, TAGS})
    clear(log)
    T.eq({#q.items, #q.tags}, {1, 1})
    T.eq(log, {})
  end)

  local WP = " FROM xl_p WHERE xl_p.id = ?"

  T.test(pfx .. "load_only: the attributes left out load on their own",
         function()
    local s <close> = orm.Session(engine)
    local p = s:query(P):options(orm.load_only(P.a)):first()
    clear(log)
    T.eq(p.b, "b")
    T.eq(log, {"SELECT xl_p.b AS xl_p_b" .. WP})
    s:expire(p, {"a"})
    clear(log)
    T.eq(p.c, "c")
    T.eq(log, {"SELECT xl_p.c AS xl_p_c" .. WP})
    clear(log)
    T.eq(p.a, "a")
    T.eq(log, {"SELECT xl_p.a AS xl_p_a" .. WP})
    s:expire(p)
    clear(log)
    T.eq(p.a, "a")
    T.eq(log, {"SELECT xl_p.id AS xl_p_id, xl_p.a AS xl_p_a, xl_p.b AS " ..
               "xl_p_b, xl_p.c AS xl_p_c" .. WP})
  end)

  T.test(pfx .. "refresh with_for_update", function()
    local s <close> = orm.Session(engine)
    local p = s:query(P):options(orm.load_only(P.a)):first()
    local lock = db.name == "sqlite" and "" or " FOR UPDATE"
    local nowait = db.name == "sqlite" and "" or " FOR UPDATE NOWAIT"
    clear(log)
    s:refresh(p, {with_for_update = true})
    T.eq(log, {"SELECT xl_p.id, xl_p.a, xl_p.b, xl_p.c" .. WP .. lock})
    clear(log)
    s:refresh(p, {"b"}, {with_for_update = {nowait = true}})
    T.eq(log, {"SELECT xl_p.b" .. WP .. nowait})
    clear(log)
    s:refresh(p, nil, {with_for_update = true})
    T.eq(log, {"SELECT xl_p.id, xl_p.a, xl_p.b, xl_p.c" .. WP .. lock})
    T.eq({p.a, p.b, p.c}, {"a", "b", "c"})
    s:rollback()
  end)

  T.test(pfx .. "a deleted row", function()
    local s <close> = orm.Session(engine, {expire_on_commit = false})
    local p = s:get(P, 1)
    -- (a new transaction sees the row gone on every database)
    s:commit()
    s:expire(p, {"b"})
    engine:begin(function(conn) conn:execute(delete(P.__table__)) end)
    T.raises("ObjectDeletedError", function() return p.b end)
    T.raises("InvalidRequestError", function() s:refresh(p, {"c"}) end)
    s:rollback()
    s:close()
    engine:begin(function(conn)
      conn:execute(insert(P.__table__), {{id = 1, a = "a", b = "b", c = "c"}})
    end)
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
