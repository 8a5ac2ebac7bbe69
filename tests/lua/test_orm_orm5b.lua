-- Mapping and querying details on every test database, each checked
-- against SQLAlchemy 1.4.46: the labels a legacy Query of columns runs
-- with, NOT of a Boolean column named as the column, the public
-- inspect(Class).columns, and loading an expired object whose primary
-- key attribute is set.
local T = require "testing"

local function flat(stmt) return (tostring(stmt):gsub("%s+", " ")) end

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
  M.Address = Base:class "Address" {
    __tablename__ = "o5b_address",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    user_id = Column(Integer, ForeignKey("o5b_user.id")),
  }
  local name = Column(String(30))
  local id = Column(Integer, {primary_key = true, autoincrement = false})
  M.User = Base:class "User" {
    __tablename__ = "o5b_user",
    name = name,
    id = id,
    up = orm.column_property(func.upper(name)),
    active = Column(Boolean),
    bio = orm.deferred(Column(Text)),
    naddr = orm.column_property(
      select(func.count(M.Address.id))
        :where(M.Address.user_id:eq(id)):scalar_subquery()),
    addresses = orm.relationship("Address"),
    syn = orm.synonym("name"),
  }
  return M
end

------------------------------------------------------------------------
-- statement text (no database)
------------------------------------------------------------------------

T.test("NOT of a Boolean column is named as the column", function()
  local m = MetaData()
  local t = Table("o5b_t", m, Column("id", Integer), Column("flag", Boolean),
                  Column("n", Integer))
  T.eq(flat(select(~t.c.flag, sa.not_(t.c.n), (~t.c.flag):label("x"),
                   -t.c.n, t.c.flag:is_(nil))),
       "SELECT NOT o5b_t.flag AS flag, NOT o5b_t.n, NOT o5b_t.flag AS x, " ..
       "-o5b_t.n, o5b_t.flag IS NULL AS anon_1 FROM o5b_t")
  T.eq(flat(select(~t.c.flag, t.c.flag)),
       "SELECT NOT o5b_t.flag AS flag, o5b_t.flag AS flag_1 FROM o5b_t")
  T.eq(flat(select(~t.c.flag, t.c.flag)
              :set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)),
       "SELECT NOT o5b_t.flag AS o5b_t_flag, o5b_t.flag AS o5b_t_flag_1 " ..
       "FROM o5b_t")
  -- in a WHERE clause it is left as it is
  T.eq(flat(select(t.c.id):where(~t.c.flag)),
       "SELECT o5b_t.id FROM o5b_t WHERE NOT o5b_t.flag")
  local M = schema()
  local User = M.User
  T.eq(flat(select(~User.active, User.name)),
       "SELECT NOT o5b_user.active AS active, o5b_user.name FROM o5b_user")
  T.eq(flat(orm.Session():query(User.name, ~User.active)),
       "SELECT o5b_user.name AS o5b_user_name, NOT o5b_user.active AS " ..
       "o5b_user_active FROM o5b_user")
end)

local function strs(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = flat(x) end
  return out
end

T.test("inspect(Class).columns as SQLAlchemy's Mapper.columns", function()
  local M = schema()
  local cols = orm.inspect(M.User).columns
  -- declared properties first (in the order they were made), then the
  -- table's other columns in table order
  T.eq(strs(cols), {"upper(o5b_user.name)", "o5b_user.bio",
    "(SELECT count(o5b_address.id) AS count_1 FROM o5b_address, o5b_user " ..
    "WHERE o5b_address.user_id = o5b_user.id)", "o5b_user.name",
    "o5b_user.id", "o5b_user.active"})
  T.eq(flat(cols.up), "upper(o5b_user.name)")
  T.eq(flat(cols.name), "o5b_user.name")
  T.eq(cols.addresses, nil)
  T.eq(cols.syn, nil)
  T.ok(rawequal(M.User.__mapper__.columns, cols))
  -- the select of the class lists them in that order, less the deferred
  T.eq(flat(select(M.User)),
       "SELECT upper(o5b_user.name) AS upper_1, (SELECT " ..
       "count(o5b_address.id) AS count_1 FROM o5b_address WHERE " ..
       "o5b_address.user_id = o5b_user.id) AS anon_1, o5b_user.name, " ..
       "o5b_user.id, o5b_user.active FROM o5b_user")

  -- inheritance: a joined subclass lists its parent's, then its own
  -- table's (the shared key again); a single-table one adds its column
  local Base = orm.declarative_base()
  local E = Base:class "E" {
    __tablename__ = "o5b_e",
    id = Column(Integer, {primary_key = true}),
    type = Column(String(20)),
    name = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "type", polymorphic_identity = "e"},
  }
  local Mg = E:class "Mg" {
    __tablename__ = "o5b_m",
    id = Column(Integer, ForeignKey("o5b_e.id"), {primary_key = true}),
    extra = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "m"},
  }
  local S = E:class "S" {
    sx = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "s"},
  }
  T.eq(strs(orm.inspect(E).columns), {"o5b_e.id", "o5b_e.type", "o5b_e.name"})
  T.eq(strs(orm.inspect(Mg).columns),
       {"o5b_e.id", "o5b_e.type", "o5b_e.name", "o5b_m.id", "o5b_m.extra"})
  T.eq(strs(orm.inspect(S).columns),
       {"o5b_e.id", "o5b_e.type", "o5b_e.name", "o5b_e.sx"})
  T.eq(flat(orm.inspect(Mg).columns.extra), "o5b_m.extra")
end)

-- mappings for joinedload("*"): a chain, a pair with back references,
-- and a self-referential one
local function wild_schema()
  local Base = orm.declarative_base()
  local W = {Base = Base}
  W.U = Base:class "U" {
    __tablename__ = "o5b_wu",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    addresses = orm.relationship("A", {back_populates = "user",
                                       order_by = "A.id"}),
  }
  W.A = Base:class "A" {
    __tablename__ = "o5b_wa",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    u_id = Column(Integer, ForeignKey("o5b_wu.id")),
    user = orm.relationship("U", {back_populates = "addresses"}),
    kws = orm.relationship("K", {order_by = "K.id"}),
  }
  W.K = Base:class "K" {
    __tablename__ = "o5b_wk",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    a_id = Column(Integer, ForeignKey("o5b_wa.id")),
  }
  W.N = Base:class "N" {
    __tablename__ = "o5b_wn",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    p_id = Column(Integer, ForeignKey("o5b_wn.id")),
    children = orm.relationship("N"),
  }
  return W
end

T.test('joinedload("*") joins the relationships it reaches', function()
  local W = wild_schema()
  local J = "SELECT o5b_wu.id, o5b_wk_1.id AS id_1, o5b_wk_1.a_id, " ..
    "o5b_wa_1.id AS id_2, o5b_wa_1.u_id FROM o5b_wu LEFT OUTER JOIN " ..
    "o5b_wa AS o5b_wa_1 ON o5b_wu.id = o5b_wa_1.u_id LEFT OUTER JOIN " ..
    "o5b_wk AS o5b_wk_1 ON o5b_wa_1.id = o5b_wk_1.a_id ORDER BY " ..
    "o5b_wa_1.id, o5b_wk_1.id"
  -- the next level too (A.kws), not back to U (A.user)
  T.eq(flat(select(W.U):options(orm.joinedload("*"))), J)
  T.eq(flat(select(W.U):options(orm.joinedload(W.U.addresses)
                                  :joinedload(W.A.kws))), J)
  -- from A: its user and its keywords; not U.addresses back to A
  T.eq(flat(select(W.A):options(orm.joinedload("*"))),
       "SELECT o5b_wa.id, o5b_wa.u_id, o5b_wu_1.id AS id_1, " ..
       "o5b_wk_1.id AS id_2, o5b_wk_1.a_id FROM o5b_wa LEFT OUTER JOIN " ..
       "o5b_wu AS o5b_wu_1 ON o5b_wu_1.id = o5b_wa.u_id LEFT OUTER JOIN " ..
       "o5b_wk AS o5b_wk_1 ON o5b_wa.id = o5b_wk_1.a_id ORDER BY o5b_wk_1.id")
  -- a self-referential relationship is not joined by the wildcard
  T.eq(flat(select(W.N):options(orm.joinedload("*"))),
       "SELECT o5b_wn.id, o5b_wn.p_id FROM o5b_wn")
end)

-- a hierarchy: joined J and single-table S under E, and an unrelated O
local function inh_schema()
  local Base = orm.declarative_base()
  local H = {Base = Base}
  H.E = Base:class "E" {
    __tablename__ = "o5b_he",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    type = Column(String(20)),
    name = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "type", polymorphic_identity = "e"},
  }
  H.J = H.E:class "J" {
    __tablename__ = "o5b_hj",
    id = Column(Integer, ForeignKey("o5b_he.id"),
                {primary_key = true, autoincrement = false}),
    extra = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "j"},
  }
  H.S = H.E:class "S" {
    sx = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "s"},
  }
  H.O = Base:class "O" {
    __tablename__ = "o5b_ho",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
  }
  return H
end

T.test("add_columns of a joined subclass's attribute adds its join",
       function()
  local H = inh_schema()
  T.eq(flat(select(H.J.extra)),
       "SELECT o5b_hj.extra FROM o5b_he JOIN o5b_hj ON o5b_he.id = o5b_hj.id")
  T.eq(flat(select(H.O.id):add_columns(H.J.extra)),
       "SELECT o5b_ho.id, o5b_hj.extra FROM o5b_ho, o5b_he JOIN o5b_hj " ..
       "ON o5b_he.id = o5b_hj.id")
  T.eq(flat(select(H.E.name):add_columns(H.J.extra)),
       "SELECT o5b_he.name, o5b_hj.extra FROM o5b_he JOIN o5b_hj ON " ..
       "o5b_he.id = o5b_hj.id")
end)

T.test("expressions of a subclass's attribute carry its join", function()
  local H = inh_schema()
  local J = H.J
  local FROM = " FROM o5b_he JOIN o5b_hj ON o5b_he.id = o5b_hj.id"
  T.eq(flat(select(J.extra:eq("x"))),
       "SELECT o5b_hj.extra = :extra_1 AS anon_1" .. FROM)
  T.eq(flat(select(J.id + 1)), "SELECT o5b_hj.id + :id_1 AS anon_1" .. FROM)
  T.eq(flat(select(sa.cast(J.id, String))),
       "SELECT CAST(o5b_hj.id AS VARCHAR) AS id" .. FROM)
  T.eq(flat(select(sa.case({{J.id:eq(1), "a"}}, {else_ = "b"}))),
       "SELECT CASE WHEN (o5b_hj.id = :id_1) THEN :param_1 ELSE :param_2 " ..
       "END AS anon_1" .. FROM)
  T.eq(flat(select(J.extra:label("x"))), "SELECT o5b_hj.extra AS x" .. FROM)
  T.eq(flat(select(func.lower(J.extra))),
       "SELECT lower(o5b_hj.extra) AS lower_1" .. FROM)
  T.eq(flat(select(-J.id)), "SELECT -o5b_hj.id" .. FROM)
  T.eq(flat(select(J.extra:like("a%"))),
       "SELECT o5b_hj.extra LIKE :extra_1 AS anon_1" .. FROM)
  T.eq(flat(select(J.id:between(1, 2))),
       "SELECT o5b_hj.id BETWEEN :id_1 AND :id_2 AS anon_1" .. FROM)
  T.eq(flat(select(J.extra:is_(nil))),
       "SELECT o5b_hj.extra IS NULL AS anon_1" .. FROM)
  T.eq(flat(select(J.id:eq(1), J.extra)),
       "SELECT o5b_hj.id = :id_1 AS anon_1, o5b_hj.extra" .. FROM)
  -- a criterion alone adds no join (the WHERE clause names the table)
  T.eq(flat(select(H.O.id):where(J.id:eq(1))),
       "SELECT o5b_ho.id FROM o5b_ho, o5b_hj WHERE o5b_hj.id = :id_1")
end)

------------------------------------------------------------------------
-- on the databases
------------------------------------------------------------------------

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address = M.User, M.Address
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "

  local function seed()
    engine:begin(function(conn)
      conn:execute(delete(Address.__table__))
      conn:execute(delete(User.__table__))
      conn:execute(insert(User.__table__), {
        {id = 1, name = "ann", active = true, bio = "b1"},
        {id = 2, name = "bob", active = false, bio = "b2"}})
      conn:execute(insert(Address.__table__), {
        {id = 1, user_id = 1}, {id = 2, user_id = 1}})
    end)
  end

  T.test(pfx .. "a legacy Query of columns runs with its labels", function()
    seed()
    local s <close> = orm.Session(engine)
    local q = s:query(User.name, User.id):order_by(User.id)
    clear(log)
    local rows = q:all()
    T.eq(log, {"SELECT o5b_user.name AS o5b_user_name, o5b_user.id AS " ..
               "o5b_user_id FROM o5b_user ORDER BY o5b_user.id"})
    T.eq({rows[1].name, rows[1].id, rows[2].name, rows[2].id},
         {"ann", 1, "bob", 2})
    T.eq(q:_result():keys(), {"name", "id"})
    clear(log)
    T.eq(s:query(User.name):filter(User.id:eq(2)):one().name, "bob")
    T.eq(log, {"SELECT o5b_user.name AS o5b_user_name FROM o5b_user " ..
               "WHERE o5b_user.id = ?"})
  end)

  T.test(pfx .. "NOT of a Boolean column keys its rows by the column",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local r = s:execute(select(User.id, ~User.active):order_by(User.id))
    T.eq(r:keys(), {"id", "active"})
    local rows = r:all()
    T.eq({rows[1].active, rows[2].active}, {false, true})
    rows = s:query(User.id, ~User.active):order_by(User.id):all()
    T.eq({rows[1].active, rows[2].active}, {false, true})
  end)

  T.test(pfx .. "setting an expired primary key loads the object first",
         function()
    seed()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 2)
    s:expire(u)
    clear(log)
    u.id = 7
    T.eq(#log, 1)
    T.match(log[1], "^SELECT .* FROM o5b_user WHERE o5b_user%.id = %?$")
    local h = orm.inspect(u).attrs.id.history
    T.eq({h.added, h.unchanged, h.deleted}, {{7}, {}, {2}})
    -- the other expired attributes came with it
    clear(log)
    T.eq(u.name, "bob")
    T.eq(log, {})
    s:flush()
    T.eq(log, {"UPDATE o5b_user SET id=? WHERE o5b_user.id = ?"})
    -- an expired attribute other than the key is set without a load;
    -- so is the key when it is loaded
    s:expire(u, {"name"})
    clear(log)
    u.id = 8
    u.name = "bo"
    T.eq(log, {})
    h = orm.inspect(u).attrs.id.history
    T.eq({h.added, h.unchanged, h.deleted}, {{8}, {}, {7}})
    h = orm.inspect(u).attrs.name.history
    T.eq({h.added, h.unchanged, h.deleted}, {{"bo"}, {}, {}})
    s:commit()
    T.eq(s:get(User, 8).name, "bo")
  end)

  T.test(pfx .. 'joinedload("*") loads two levels in one statement',
         function()
    local W = wild_schema()
    W.Base.metadata:drop_all(engine)
    W.Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all{W.U{id = 1, addresses = {W.A{id = 1, kws = {W.K{id = 1},
                                                         W.K{id = 2}}},
                                       W.A{id = 2}}},
              W.U{id = 2}}
    s:commit()
    s:close()
    clear(log)
    local us = s:scalars(select(W.U):options(orm.joinedload("*"))
                           :order_by(W.U.id)):unique():all()
    local got = {}
    for _, u in ipairs(us) do
      local as = {}
      for _, a in ipairs(u.addresses) do
        local ks = {}
        for _, k in ipairs(a.kws) do ks[#ks + 1] = k.id end
        as[#as + 1] = {a.id, ks, a.user.id}
      end
      got[#got + 1] = {u.id, as}
    end
    T.eq(got, {{1, {{1, {1, 2}, 1}, {2, {}, 1}}}, {2, {}}})
    T.eq(#log, 1)
    T.match(log[1], "LEFT OUTER JOIN o5b_wk AS o5b_wk_1")
    s:close()
    W.Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "add_columns of subclass attributes: joins and criteria",
         function()
    local H = inh_schema()
    H.Base.metadata:drop_all(engine)
    H.Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all{H.E{id = 1, name = "e"}, H.J{id = 2, name = "j", extra = "x"},
              H.S{id = 3, name = "s", sx = "y"}, H.O{id = 1}}
    s:commit()
    local function rows(stmt)
      local out = {}
      for _, r in ipairs(s:execute(stmt):all()) do out[#out + 1] = {r[1], r[2]} end
      return out
    end
    T.eq(rows(select(H.O.id):add_columns(H.J.extra)), {{1, "x"}})
    -- the single-table subclass's criterion: only its rows
    T.eq(rows(select(H.O.id):add_columns(H.S.sx)), {{1, "y"}})
    T.eq(rows(select(H.O.id):add_columns(H.S.sx):where(H.O.id:eq(1))),
         {{1, "y"}})
    s:close()
    H.Base.metadata:drop_all(engine)
  end)
end

T.done()
