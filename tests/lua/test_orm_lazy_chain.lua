-- Options chained under a lazy load (lazyload(A.bs):joinedload(B.cs),
-- selectinload, raiseload, defaultload): they apply to the lazy load when
-- it fires, a joined step inside the lazy load's own statement.  The
-- expected statements and results are SQLAlchemy 1.4's for the same
-- mapping and steps, on every test database.
local T = require "testing"

local capture, clear, norm = T.capture, T.clear, T.norm

local function schema()
  local Base = orm.declarative_base()
  local A = Base:class "A" {
    __tablename__ = "lch_a",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    bs = relationship("B", {order_by = "B.id"}),
  }
  local B = Base:class "B" {
    __tablename__ = "lch_b",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    a_id = Column(ForeignKey("lch_a.id")),
    d_id = Column(ForeignKey("lch_d.id")),
    cs = relationship("C", {order_by = "C.id"}),
    d = relationship("D"),
  }
  local C = Base:class "C" {
    __tablename__ = "lch_c",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    b_id = Column(ForeignKey("lch_b.id")),
  }
  local D = Base:class "D" {
    __tablename__ = "lch_d",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
  }
  return Base, A, B, C, D
end

local A_SQL = "SELECT lch_a.id \nFROM lch_a ORDER BY lch_a.id"
local B_COLS = "lch_b.id AS lch_b_id, lch_b.a_id AS lch_b_a_id, " ..
               "lch_b.d_id AS lch_b_d_id"
local B_LAZY = "SELECT " .. B_COLS .. " \nFROM lch_b \nWHERE ? = " ..
               "lch_b.a_id ORDER BY lch_b.id"
local B_JOINED_C = "SELECT " .. B_COLS .. ", lch_c_1.id AS lch_c_1_id, " ..
                   "lch_c_1.b_id AS lch_c_1_b_id \nFROM lch_b LEFT OUTER " ..
                   "JOIN lch_c AS lch_c_1 ON lch_b.id = lch_c_1.b_id \n" ..
                   "WHERE ? = lch_b.a_id ORDER BY lch_b.id, lch_c_1.id"
local C_LAZY = "SELECT lch_c.id AS lch_c_id, lch_c.b_id AS lch_c_b_id \n" ..
               "FROM lch_c \nWHERE ? = lch_c.b_id ORDER BY lch_c.id"
local function c_in(n)
  return "SELECT lch_c.b_id AS lch_c_b_id, lch_c.id AS lch_c_id \nFROM " ..
         "lch_c \nWHERE lch_c.b_id IN (" ..
         string.rep("?", n, ", ") .. ") ORDER BY lch_c.id"
end

local TREE = {{1, {{1, {1, 2}}, {2, {3}}}}, {2, {{3, {}}}}}

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base, A, B, C, D = schema()
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add(D{id = 1})
    s:flush()
    s:add_all{A{id = 1, bs = {B{id = 1, d_id = 1, cs = {C{id = 1}, C{id = 2}}},
                             B{id = 2, cs = {C{id = 3}}}}},
              A{id = 2, bs = {B{id = 3}}}}
    s:commit()
  end
  local log = capture(engine)

  -- the As with opt, and each one's Bs and their Cs as ids, read in
  -- order; the statements that ran
  local function tree(opt)
    local s <close> = orm.Session(engine)
    clear(log)
    local out = {}
    local opts = getmetatable(opt) and {opt} or opt
    for i, a in ipairs(s:scalars(select(A):options(table.unpack(opts))
                                   :order_by(A.id)):all()) do
      local bs = {}
      for j, b in ipairs(a.bs) do
        local cs = {}
        for k, c in ipairs(b.cs) do cs[k] = c.id end
        bs[j] = {b.id, cs}
      end
      out[i] = {a.id, bs}
    end
    local sqls = {}
    for i, sql in ipairs(log) do sqls[i] = norm(sql) end
    return out, sqls
  end

  T.test(pfx .. "lazyload():joinedload(): the join in the lazy load",
    function()
      local got, sqls = tree(orm.lazyload(A.bs):joinedload(B.cs))
      T.eq(got, TREE)
      T.eq(sqls, {A_SQL, B_JOINED_C, B_JOINED_C})
    end)

  T.test(pfx .. "defaultload():joinedload(): the same", function()
    local got, sqls = tree(orm.defaultload(A.bs):joinedload(B.cs))
    T.eq(got, TREE)
    T.eq(sqls, {A_SQL, B_JOINED_C, B_JOINED_C})
  end)

  T.test(pfx .. "lazyload():selectinload(): after each lazy load", function()
    local got, sqls = tree(orm.lazyload(A.bs):selectinload(B.cs))
    T.eq(got, TREE)
    T.eq(sqls, {A_SQL, B_LAZY, c_in(2), B_LAZY, c_in(1)})
    got, sqls = tree(orm.defaultload(A.bs):selectinload(B.cs))
    T.eq(got, TREE)
    T.eq(sqls, {A_SQL, B_LAZY, c_in(2), B_LAZY, c_in(1)})
  end)

  T.test(pfx .. "lazyload():subqueryload(): the lazy load as subquery",
    function()
      local got, sqls = tree(orm.lazyload(A.bs):subqueryload(B.cs))
      T.eq(got, TREE)
      local C_SUB = "SELECT lch_c.id AS lch_c_id, lch_c.b_id AS lch_c_b_id, " ..
                    "anon_1.lch_b_id AS anon_1_lch_b_id \nFROM (SELECT " ..
                    "lch_b.id AS lch_b_id \nFROM lch_b \nWHERE ? = " ..
                    "lch_b.a_id) AS anon_1 JOIN lch_c ON anon_1.lch_b_id = " ..
                    "lch_c.b_id ORDER BY lch_c.id"
      T.eq(sqls, {A_SQL, B_LAZY, C_SUB, B_LAZY, C_SUB})
    end)

  T.test(pfx .. "two paths under one lazy load: both in it", function()
    local got, sqls = tree{orm.defaultload(A.bs):selectinload(B.cs),
                           orm.defaultload(A.bs):joinedload(B.d)}
    T.eq(got, TREE)
    local B_JOINED_D = "SELECT " .. B_COLS .. ", lch_d_1.id AS " ..
                       "lch_d_1_id \nFROM lch_b LEFT OUTER JOIN lch_d AS " ..
                       "lch_d_1 ON lch_d_1.id = lch_b.d_id \nWHERE ? = " ..
                       "lch_b.a_id ORDER BY lch_b.id"
    T.eq(sqls, {A_SQL, B_JOINED_D, c_in(2), B_JOINED_D, c_in(1)})
  end)

  T.test(pfx .. "Load:options(): paths that go on from one", function()
    local s <close> = orm.Session(engine)
    clear(log)
    local as = s:scalars(select(A):options(orm.selectinload(A.bs):options(
      orm.selectinload(B.cs), orm.joinedload(B.d))):order_by(A.id)):all()
    local got = {}
    for _, a in ipairs(as) do
      for _, b in ipairs(a.bs) do
        got[#got + 1] = {b.id, #b.cs, b.d and b.d.id or false}
      end
    end
    T.eq(got, {{1, 2, 1}, {2, 1, false}, {3, 0, false}})
    -- (everything loaded with the statement: nothing when read)
    local n = #log
    T.eq(n, 3)
    T.eq(norm(log[2]), "SELECT lch_b.a_id AS lch_b_a_id, lch_b.id AS " ..
         "lch_b_id, lch_b.d_id AS lch_b_d_id, lch_d_1.id AS lch_d_1_id " ..
         "\nFROM lch_b LEFT OUTER JOIN lch_d " ..
         "AS lch_d_1 ON lch_d_1.id = lch_b.d_id \nWHERE lch_b.a_id IN " ..
         "(?, ?) ORDER BY lch_b.id")
    T.eq(norm(log[3]), c_in(3))
    T.raises("ArgumentError", function()
      return orm.selectinload(A.bs):options("cs")
    end)
  end)

  T.test(pfx .. "lazyload():raiseload(): the lazy load's objects raise",
    function()
      local s <close> = orm.Session(engine)
      local as = s:scalars(select(A):options(orm.lazyload(A.bs)
                                               :raiseload(B.cs))
                             :order_by(A.id)):all()
      local bs = as[1].bs
      T.eq(#bs, 2)
      T.raises("InvalidRequestError", function() return bs[1].cs end)
    end)

  T.test(pfx .. "lazyload():joinedload() of a many-to-one", function()
    local s <close> = orm.Session(engine)
    clear(log)
    local as = s:scalars(select(A):options(orm.lazyload(A.bs)
                                             :joinedload(B.d))
                           :order_by(A.id)):all()
    local bs = as[1].bs
    T.eq(#log, 2)
    T.eq(norm(log[2]), "SELECT " .. B_COLS .. ", lch_d_1.id AS " ..
         "lch_d_1_id \nFROM lch_b LEFT OUTER JOIN lch_d AS lch_d_1 ON " ..
         "lch_d_1.id = lch_b.d_id \n" ..
         "WHERE ? = lch_b.a_id ORDER BY lch_b.id")
    -- (loaded with the Bs: no other statement)
    T.eq(bs[1].d.id, 1)
    T.eq(bs[2].d, nil)
    T.eq(#log, 2)
    T.ok(bs[1].d == s:get(D, 1))
    -- B.cs is not on the path: it loads lazily
    T.eq(#bs[1].cs, 2)
    T.eq(norm(log[3]), C_LAZY)
  end)

  T.test(pfx .. "the legacy Query carries the chain too", function()
    local s <close> = orm.Session(engine)
    clear(log)
    local as = s:query(A):options(orm.lazyload(A.bs):joinedload(B.cs))
                 :order_by(A.id):all()
    local ids = {}
    for i, b in ipairs(as[1].bs) do ids[i] = {b.id, #b.cs} end
    T.eq(ids, {{1, 2}, {2, 1}})
    T.eq(#log, 2)
    T.eq(norm(log[2]), B_JOINED_C)
  end)

  T.test(pfx .. "from_statement(text()) with options and parameters",
    function()
      local s <close> = orm.Session(engine)
      clear(log)
      local as = s:scalars(select(A):options(orm.selectinload(A.bs))
        :from_statement(text("SELECT id FROM lch_a WHERE id >= :lo " ..
                             "ORDER BY id")), {lo = 1}):all()
      T.eq(#log, 2)
      T.eq(norm(log[1]), "SELECT id FROM lch_a WHERE id >= ? ORDER BY id")
      T.eq(norm(log[2]), "SELECT lch_b.a_id AS lch_b_a_id, lch_b.id AS " ..
           "lch_b_id, lch_b.d_id AS lch_b_d_id \nFROM lch_b \nWHERE " ..
           "lch_b.a_id IN (?, ?) ORDER BY lch_b.id")
      local got = {}
      for i, a in ipairs(as) do got[i] = {a.id, #a.bs} end
      T.eq(got, {{1, 2}, {2, 1}})
      T.eq(#log, 2)
      -- (the identity map's objects)
      T.ok(as[1] == s:get(A, 1))
      -- rows of the entity, named as it
      local rows = s:execute(select(A):from_statement(
        text("SELECT id FROM lch_a WHERE id = 2"))):all()
      T.eq(#rows, 1)
      T.eq(rows[1]._fields, {"A"})
      T.ok(rows[1][1] == s:get(A, 2))
    end)

  T.test(pfx .. "Query.from_statement(): the text as it is", function()
    local s <close> = orm.Session(engine)
    clear(log)
    local q = s:query(B):from_statement(text(
      "SELECT id, a_id, d_id FROM lch_b WHERE a_id = :a ORDER BY id"))
    local got = {}
    for i, b in ipairs(q:params{a = 1}:all()) do got[i] = b.id end
    T.eq(got, {1, 2})
    T.eq(norm(log[1]), "SELECT id, a_id, d_id FROM lch_b WHERE a_id = ? " ..
         "ORDER BY id")
    -- (first(): no LIMIT added to the text)
    clear(log)
    T.eq(q:params{a = 2}:first().id, 3)
    T.eq(norm(log[1]), "SELECT id, a_id, d_id FROM lch_b WHERE a_id = ? " ..
         "ORDER BY id")
    -- two columns of one name, two entities that want it: ambiguous
    T.raises("InvalidRequestError", function()
      return s:query(A, B):from_statement(text(
        "SELECT lch_a.id, lch_b.id, lch_b.a_id, lch_b.d_id FROM lch_a " ..
        "JOIN lch_b ON lch_a.id = lch_b.a_id")):all()
    end)
    -- (the session goes on)
    T.eq(s:query(A):count(), 2)
  end)

  Base.metadata:drop_all(engine)
end

T.done()
