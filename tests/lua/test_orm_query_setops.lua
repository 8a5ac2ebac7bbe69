-- Set operations of the legacy Query (a union of a union, unions of
-- several classes, of columns, of an aliased class, a subquery of one),
-- enable_eagerloads and the places SQLAlchemy turns eager loading off by
-- itself (from_self, a subquery), and the order of the statements of
-- immediate, selectin and subquery loaders, each run as SQLAlchemy
-- 1.4.46 runs it: the statements emitted in order, then the objects and
-- rows returned or the kind of error.  The expected strings are
-- SQLAlchemy's, per database: tests/oracle/gen_query_setops.py runs the
-- same scenarios written in Python and rewrites the EXPECT block below.
local T = require "testing"

local Base = orm.declarative_base()
local A = Base:class "A" {
  __tablename__ = "so_a",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  name = Column(String(30)),
  bs = relationship("B", {order_by = "B.id"}),
  cs = relationship("C", {order_by = "C.id"}),
}
local B = Base:class "B" {
  __tablename__ = "so_b",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  a_id = Column(Integer, ForeignKey("so_a.id")),
  ds = relationship("D", {order_by = "D.id"}),
}
local C = Base:class "C" {
  __tablename__ = "so_c",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  a_id = Column(Integer, ForeignKey("so_a.id")),
}
local D = Base:class "D" {
  __tablename__ = "so_d",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  b_id = Column(Integer, ForeignKey("so_b.id")),
}
-- (items load joined unless told otherwise)
local F = Base:class "F" {
  __tablename__ = "so_f",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  items = relationship("I", {lazy = "joined", order_by = "I.id"}),
}
local I = Base:class "I" {
  __tablename__ = "so_i",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  f_id = Column(Integer, ForeignKey("so_f.id")),
}

-- a hierarchy in one table (S) and with a table of its own (G)
local E = Base:class "E" {
  __tablename__ = "so_e",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  name = Column(String(30)),
  type = Column(String(20)),
  __mapper_args__ = {polymorphic_on = "type", polymorphic_identity = "e"},
}
local G = E:class "G" {
  __tablename__ = "so_g",
  id = Column(Integer, ForeignKey("so_e.id"), {primary_key = true}),
  lang = Column(String(30)),
  __mapper_args__ = {polymorphic_identity = "g"},
}
local S = E:class "S" {__mapper_args__ = {polymorphic_identity = "s"}}

local function seed(engine)
  engine:begin(function(c)
    c:execute(insert(A.__table__),
              {{id = 1, name = "a1"}, {id = 2, name = "a2"},
               {id = 3, name = "a3"}, {id = 4, name = "a4"}})
    c:execute(insert(B.__table__), {{id = 1, a_id = 1}, {id = 2, a_id = 1},
                                    {id = 3, a_id = 2}})
    c:execute(insert(C.__table__), {{id = 1, a_id = 1}, {id = 2, a_id = 3}})
    c:execute(insert(D.__table__), {{id = 1, b_id = 1}, {id = 2, b_id = 3}})
    c:execute(insert(F.__table__), {{id = 1}})
    c:execute(insert(I.__table__), {{id = 1, f_id = 1}, {id = 2, f_id = 1}})
    c:execute(insert(E.__table__),
              {{id = 1, name = "e1", type = "g"},
               {id = 2, name = "e2", type = "e"},
               {id = 3, name = "e3", type = "s"},
               {id = 4, name = "e4", type = "g"}})
    c:execute(insert(G.__table__), {{id = 1, lang = "lua"}, {id = 4, lang = "c"}})
  end)
end

-- a result written as the scenarios of SQLAlchemy print it: objects as
-- A(name), B(id), ..., rows and lists in parentheses
local function fmt(v)
  if v == nil or v == null then return "nil" end
  if type(v) == "string" then return "'" .. v .. "'" end
  if type(v) == "boolean" then return v and "True" or "False" end
  if type(v) == "number" then return tostring(v) end
  local okc, cls = pcall(function() return v.__class__ end)
  if okc and cls == A then return "A(" .. v.name .. ")" end
  if okc and (cls == E or cls == G or cls == S) then
    return cls.__name__ .. "(" .. v.name .. ")"
  end
  if okc and type(cls) == "table" and rawget(cls, "__mapper__") then
    return cls.__name__ .. "(" .. v.id .. ")"
  end
  local parts = {}
  for i = 1, #v do parts[i] = fmt(v[i]) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

local cases = {}
local function case(label, fn) cases[#cases + 1] = {label, fn} end
local function Q(s) return s:query(A) end
local function one(s, i) return Q(s):filter(A.id:eq(i)) end

-- set operations of set operations ------------------------------------
case("union of union", function(s)
  return one(s, 1):union(one(s, 2)):union(one(s, 3)):order_by(A.id):all()
end)
case("union of three", function(s)
  return one(s, 1):union(one(s, 2), one(s, 3)):order_by(A.id):all()
end)
case("union union_all filter limit", function(s)
  return one(s, 1):union(one(s, 2)):union_all(one(s, 3))
    :filter(A.name:ne("a2")):order_by(A.id:desc()):limit(2):all()
end)
case("union intersect", function(s)
  return Q(s):union(one(s, 2)):intersect(Q(s):filter(A.id:lt(3)))
    :order_by(A.id):all()
end)
case("except union", function(s)
  return Q(s):filter(A.id:lt(4)):except_(one(s, 2)):union(one(s, 4))
    :order_by(A.id):all()
end)
case("union of unions", function(s)
  return one(s, 1):union(one(s, 2)):union(one(s, 3):union(one(s, 4)))
    :order_by(A.id):all()
end)
case("union_all of union_all", function(s)
  return one(s, 1):union_all(one(s, 1)):union_all(one(s, 2))
    :order_by(A.id):all()
end)
case("union of union of union", function(s)
  return one(s, 1):union(one(s, 2)):union(one(s, 3)):union(one(s, 4))
    :filter(A.id:gt(1)):order_by(A.id):all()
end)
case("columns union of union", function(s)
  local function q(i) return s:query(A.name):filter(A.id:eq(i)) end
  return q(1):union(q(2)):union(q(3)):order_by(A.name):all()
end)
case("two columns union of union", function(s)
  local function q(i) return s:query(A.id, A.name):filter(A.id:eq(i)) end
  return q(1):union(q(2)):union(q(3)):filter(A.id:gt(1)):order_by(A.id)
    :all()
end)
local function pairs_of(s, i)
  return s:query(A, B):join(A.bs):filter(B.id:eq(i))
end
case("entities union", function(s)
  return pairs_of(s, 1):union(pairs_of(s, 2)):order_by(B.id):all()
end)
case("entities union of union", function(s)
  return pairs_of(s, 1):union(pairs_of(s, 2)):union(pairs_of(s, 3))
    :order_by(B.id):all()
end)
case("entity and column union", function(s)
  local function q(i) return s:query(A, A.name):filter(A.id:eq(i)) end
  return q(1):union(q(2)):order_by(A.id):all()
end)
case("entity and column union of union", function(s)
  local function q(i) return s:query(A, A.name):filter(A.id:eq(i)) end
  return q(1):union(q(2)):union(q(3)):order_by(A.id):all()
end)
case("subquery with_labels", function(s)
  return s:query(Q(s):filter(A.id:lt(3)):subquery{with_labels = true}):all()
end)
case("union subquery", function(s)
  return s:query(one(s, 1):union(one(s, 2)):subquery()):all()
end)
case("aliased union subquery", function(s)
  local aa = orm.aliased(A, one(s, 1):union(one(s, 2)):subquery())
  return s:query(aa):order_by(aa.id):all()
end)
case("aliased union of union subquery", function(s)
  local aa = orm.aliased(A, one(s, 1):union(one(s, 2)):union(one(s, 4))
                              :subquery())
  return s:query(aa):filter(aa.id:gt(1)):order_by(aa.id):all()
end)
case("aliased class union", function(s)
  local aa = orm.aliased(A, "aa")
  return s:query(aa):filter(aa.id:eq(1)):union(s:query(aa):filter(
    aa.id:eq(3))):order_by(aa.id):all()
end)
case("anonymous aliased class union of union", function(s)
  local aa = orm.aliased(A)
  local function q(i) return s:query(aa):filter(aa.id:eq(i)) end
  return q(1):union(q(3)):union(q(4)):order_by(aa.id):all()
end)
case("union from_self", function(s)
  return one(s, 1):union(one(s, 2)):from_self():order_by(A.id):all()
end)
case("union of union count", function(s)
  return one(s, 1):union(one(s, 2)):union(one(s, 3)):count()
end)
case("union of union first", function(s)
  return one(s, 3):union(one(s, 2)):union(one(s, 1)):order_by(A.name)
    :first()
end)
case("union of union selectinload", function(s)
  local out = {}
  for i, a in ipairs(one(s, 1):union(one(s, 2)):union(one(s, 3))
                       :options(orm.selectinload(A.bs)):order_by(A.id):all()) do
    out[i] = {a, a.bs}
  end
  return out
end)
case("limited union", function(s)
  return Q(s):order_by(A.id):limit(2):union(one(s, 4)):order_by(A.id):all()
end)
case("union of limited union", function(s)
  return one(s, 4):union(Q(s):order_by(A.id:desc()):limit(1))
    :union(one(s, 1)):order_by(A.id):all()
end)
case("core union in query union", function(s)
  return one(s, 1):union(select(A):where(A.id:eq(2))):union(one(s, 3))
    :order_by(A.id):all()
end)

local function U(s) return one(s, 1):union(one(s, 2)):union(one(s, 3)) end
case("union of union with_entities", function(s)
  return U(s):with_entities(A.name):order_by(A.name):all()
end)
case("union of union with_entities count", function(s)
  return U(s):with_entities(func.count(A.id)):scalar()
end)
case("union of union join", function(s)
  return U(s):join(A.bs):order_by(B.id):all()
end)
case("union of union join target", function(s)
  return U(s):join(B, A.bs):filter(B.id:gt(1)):order_by(A.id):all()
end)
case("union of union value", function(s)
  return U(s):order_by(A.id):value(A.name)
end)
local function with_cs(list)
  local out = {}
  for i, a in ipairs(list) do out[i] = {a, a.cs} end
  return out
end
case("union of union subqueryload", function(s)
  return with_cs(U(s):options(orm.subqueryload(A.cs)):order_by(A.id):all())
end)
case("union subqueryload", function(s)
  return with_cs(one(s, 1):union(one(s, 3)):options(orm.subqueryload(A.cs))
                   :order_by(A.id):all())
end)
case("union of union exists", function(s)
  return s:query(U(s):exists()):scalar()
end)
case("columns union exists", function(s)
  return s:query(s:query(A.name):filter(A.id:eq(1))
                   :union(s:query(A.name)):exists()):scalar()
end)
case("from_self exists", function(s)
  return s:query(Q(s):from_self():exists()):scalar()
end)
case("aliased class union exists", function(s)
  local aa = orm.aliased(A, "aa")
  return s:query(s:query(aa):union(s:query(aa)):exists()):scalar()
end)
case("functions union of union", function(s)
  return s:query(func.max(A.id)):union(s:query(func.min(A.id)))
    :union(s:query(func.count(A.id))):all()
end)

local function with_bs(list)
  local out = {}
  for i, a in ipairs(list) do out[i] = {a, a.bs} end
  return out
end
case("union of union joinedload limit", function(s)
  return with_bs(U(s):options(orm.joinedload(A.bs)):order_by(A.id):limit(2)
                   :all())
end)
case("union joinedload limit", function(s)
  return with_bs(one(s, 1):union(one(s, 2)):options(orm.joinedload(A.bs))
                   :order_by(A.id:desc()):limit(1):all())
end)
case("from_self joinedload limit", function(s)
  return with_bs(Q(s):from_self():options(orm.joinedload(A.bs))
                   :order_by(A.id):limit(2):all())
end)
case("union of union any", function(s)
  return U(s):filter(A.bs:any()):order_by(A.id):all()
end)
case("union of union get", function(s) return U(s):get(2) end)
case("union delete", function(s)
  return one(s, 1):union(one(s, 2)):delete()
end)
case("hierarchy union of union", function(s)
  local function q(i) return s:query(E):filter(E.id:eq(i)) end
  return q(1):union(q(2)):union(q(3)):order_by(E.id):all()
end)
case("single-table subclass union of union", function(s)
  return s:query(S):union(s:query(S)):union(s:query(S)):all()
end)
case("joined subclass union", function(s)
  return s:query(G):filter(G.id:eq(1)):union(s:query(G):filter(G.id:eq(4)))
    :order_by(G.id):all()
end)

-- eager loads turned off ----------------------------------------------
local function with_items(list)
  local out = {}
  for i, f in ipairs(list) do out[i] = {f, f.items} end
  return out
end
case("enable_eagerloads aliased", function(s)
  return s:query(orm.aliased(F)):enable_eagerloads(false):all()
end)
case("enable_eagerloads aliased option", function(s)
  local fa = orm.aliased(F, "ff")
  return s:query(fa):options(orm.joinedload(fa.items))
    :enable_eagerloads(false):all()
end)
case("enable_eagerloads with_entities", function(s)
  local fa = orm.aliased(F)
  return s:query(fa):enable_eagerloads(false):with_entities(fa):all()
end)
case("enable_eagerloads off on", function(s)
  local fa = orm.aliased(F)
  return with_items(s:query(fa):enable_eagerloads(false)
                      :enable_eagerloads(true):all())
end)
case("enable_eagerloads from_self", function(s)
  return s:query(F):enable_eagerloads(false):from_self():all()
end)
case("enable_eagerloads from_self on", function(s)
  return s:query(F):enable_eagerloads(false):from_self()
    :enable_eagerloads(true):all()
end)
case("from_self eager", function(s)
  return with_items(s:query(F):from_self():all())
end)
case("aliased from_self", function(s)
  return s:query(orm.aliased(F, "ff")):from_self():all()
end)
case("enable_eagerloads union", function(s)
  local fa = orm.aliased(F, "ff")
  return s:query(fa):enable_eagerloads(false):union(s:query(fa)):all()
end)
case("union eager", function(s)
  return with_items(s:query(F):filter(F.id:eq(1)):union(s:query(F)):all())
end)
case("cte of eager query", function(s)
  return s:query(orm.aliased(F, s:query(F):cte())):all()
end)
case("subquery of eager query", function(s)
  return s:query(orm.aliased(F, s:query(F):subquery())):all()
end)
case("enable_eagerloads count", function(s)
  return s:query(orm.aliased(F)):enable_eagerloads(false):count()
end)
case("get of aliased", function(s)
  return s:query(orm.aliased(F)):get(1)
end)
case("session get of aliased", function(s)
  return s:get(orm.aliased(F), 1)
end)
case("select aliased lazyload star", function(s)
  local fa = orm.aliased(F)
  return s:execute(select(fa):options(orm.lazyload("*"))):scalars():all()
end)

-- the order of the loaders' statements --------------------------------
local function rows(q)
  local out = {}
  for i, a in ipairs(q:order_by(A.id):all()) do out[i] = {a, a.bs, a.cs} end
  return out
end
local sel, sub, imm = orm.selectinload, orm.subqueryload, orm.immediateload
case("immediateload", function(s) return rows(Q(s):options(imm(A.bs))) end)
case("immediateload selectinload", function(s)
  return rows(Q(s):options(imm(A.bs), sel(A.cs)))
end)
case("selectinload immediateload", function(s)
  return rows(Q(s):options(sel(A.cs), imm(A.bs)))
end)
case("immediateload nested selectinload", function(s)
  return rows(Q(s):options(sel(A.cs), imm(A.bs):selectinload(B.ds)))
end)
case("selectinload nested immediateload", function(s)
  return rows(Q(s):options(sel(A.bs):immediateload(B.ds)))
end)
case("selectinload nested", function(s)
  return rows(Q(s):options(sel(A.bs):selectinload(B.ds)))
end)
case("subqueryload nested selectinload", function(s)
  return rows(Q(s):options(sub(A.bs):selectinload(B.ds)))
end)
-- (a subquery load runs as the first row is read, before the immediate
-- loads of each row and the selectin loads after the rows)
case("selectinload subqueryload", function(s)
  return rows(Q(s):options(sel(A.cs), sub(A.bs)))
end)
case("immediateload subqueryload", function(s)
  return rows(Q(s):options(imm(A.cs), sub(A.bs)))
end)
case("subqueryload nested selectinload selectinload", function(s)
  return rows(Q(s):options(sub(A.bs):selectinload(B.ds), sel(A.cs)))
end)
case("selectinload nested subqueryload", function(s)
  return rows(Q(s):options(sel(A.bs):subqueryload(B.ds)))
end)
-- (SQLAlchemy runs the loaders of sibling relationships in the order of
-- a set of the mapper's properties, hashed by their addresses in memory:
-- an order no other program can know.  Here they run in the order the
-- relationships were declared; these scenarios check each sibling's
-- statements, and the statements nested under it, as one block in order,
-- the blocks in any order)
local SIBLINGS = {}
local function sibling_case(label, fn)
  SIBLINGS[label] = true
  case(label, fn)
end
sibling_case("selectinload siblings", function(s)
  return rows(Q(s):options(sel(A.bs), sel(A.cs)))
end)
sibling_case("selectinload siblings reversed", function(s)
  return rows(Q(s):options(sel(A.cs), sel(A.bs)))
end)
sibling_case("selectinload siblings nested", function(s)
  return rows(Q(s):options(sel(A.bs):selectinload(B.ds), sel(A.cs)))
end)
sibling_case("subqueryload siblings nested", function(s)
  return rows(Q(s):options(sub(A.bs):selectinload(B.ds), sub(A.cs)))
end)

-- (whatever the order of the options, the same statements in the same
-- order, as SQLAlchemy's: the scenario each of these repeats)
local SAME_AS = {["selectinload siblings reversed"] = "selectinload siblings"}

-- the lines of a sibling scenario: the first statement, then each block
-- (a statement of so_b or so_c and those after it) in sorted order
local function blocks(lines)
  local out, cur = {lines[1]}, nil
  local list = {}
  for i = 2, #lines do
    local l = lines[i]
    if l:match("^SQL SELECT so_[bc]%.") or not l:match("^SQL ") then
      cur = {}
      list[#list + 1] = cur
    end
    cur[#cur + 1] = l
  end
  local res = table.remove(list)
  table.sort(list, function(x, y) return x[1] < y[1] end)
  for _, b in ipairs(list) do
    out[#out + 1] = table.concat(b, "\n")
  end
  out[#out + 1] = res[1]
  return out
end

-- BEGIN EXPECT (tests/oracle/gen_query_setops.py)
local EXPECT = {sqlite = {
  ["union of union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2), A(a3))"},
  ["union of three"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.so_a_id",
    "R (A(a1), A(a2), A(a3))"},
  ["union union_all filter limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION ALL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 WHERE anon_1.anon_2_so_a_name != ? ORDER BY anon_1.anon_2_so_a_id DESC LIMIT ? OFFSET ?",
    "R (A(a3), A(a1))"},
  ["union intersect"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 INTERSECT SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id < ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2))"},
  ["except union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id < ? EXCEPT SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a3), A(a4))"},
  ["union of unions"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2), A(a3), A(a4))"},
  ["union_all of union_all"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION ALL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION ALL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2))"},
  ["union of union of union"] = {"SQL SELECT anon_1.anon_2_anon_3_so_a_id AS anon_1_anon_2_anon_3_so_a_id, anon_1.anon_2_anon_3_so_a_name AS anon_1_anon_2_anon_3_so_a_name FROM (SELECT anon_2.anon_3_so_a_id AS anon_2_anon_3_so_a_id, anon_2.anon_3_so_a_name AS anon_2_anon_3_so_a_name FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 WHERE anon_1.anon_2_anon_3_so_a_id > ? ORDER BY anon_1.anon_2_anon_3_so_a_id",
    "R (A(a2), A(a3), A(a4))"},
  ["columns union of union"] = {"SQL SELECT anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_name",
    "R (('a1'), ('a2'), ('a3'))"},
  ["two columns union of union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 WHERE anon_1.anon_2_so_a_id > ? ORDER BY anon_1.anon_2_so_a_id",
    "R ((2, 'a2'), (3, 'a3'))"},
  ["entities union"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name, anon_1.so_b_id AS anon_1_so_b_id, anon_1.so_b_a_id AS anon_1_so_b_a_id FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ?) AS anon_1 ORDER BY anon_1.so_b_id",
    "R ((A(a1), B(1)), (A(a1), B(2)))"},
  ["entities union of union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, anon_1.anon_2_so_b_id AS anon_1_anon_2_so_b_id, anon_1.anon_2_so_b_a_id AS anon_1_anon_2_so_b_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name, anon_2.so_b_id AS anon_2_so_b_id, anon_2.so_b_a_id AS anon_2_so_b_a_id FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_b_id",
    "R ((A(a1), B(1)), (A(a1), B(2)), (A(a2), B(3)))"},
  ["entity and column union"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name, anon_1.so_a_name AS anon_1_so_a_name__1 FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_a.name AS so_a_name__1 FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_a.name AS so_a_name__1 FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.so_a_id",
    "R ((A(a1), 'a1'), (A(a2), 'a2'))"},
  ["entity and column union of union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name__1 FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name, anon_2.so_a_name AS anon_2_so_a_name__2 FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_a.name AS so_a_name__1 FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_a.name AS so_a_name__1 FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_a.name AS so_a_name__1 FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R ((A(a1), 'a1'), (A(a2), 'a2'), (A(a3), 'a3'))"},
  ["subquery with_labels"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id < ?) AS anon_1",
    "R ((1, 'a1'), (2, 'a2'))"},
  ["union subquery"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM (SELECT anon_2.so_a_id AS so_a_id, anon_2.so_a_name AS so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1",
    "R ((1, 'a1'), (2, 'a2'))"},
  ["aliased union subquery"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM (SELECT anon_2.so_a_id AS so_a_id, anon_2.so_a_name AS so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1 ORDER BY anon_1.so_a_id",
    "R (A(a1), A(a2))"},
  ["aliased union of union subquery"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_3.anon_2_so_a_id AS anon_2_so_a_id, anon_3.anon_2_so_a_name AS anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3) AS anon_1 WHERE anon_1.anon_2_so_a_id > ? ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a2), A(a4))"},
  ["aliased class union"] = {"SQL SELECT anon_1.aa_id AS anon_1_aa_id, anon_1.aa_name AS anon_1_aa_name FROM (SELECT aa.id AS aa_id, aa.name AS aa_name FROM so_a AS aa WHERE aa.id = ? UNION SELECT aa.id AS aa_id, aa.name AS aa_name FROM so_a AS aa WHERE aa.id = ?) AS anon_1 ORDER BY anon_1.aa_id",
    "R (A(a1), A(a3))"},
  ["anonymous aliased class union of union"] = {"SQL SELECT anon_1.anon_2_so_a_1_id AS anon_1_anon_2_so_a_1_id, anon_1.anon_2_so_a_1_name AS anon_1_anon_2_so_a_1_name FROM (SELECT anon_2.so_a_1_id AS anon_2_so_a_1_id, anon_2.so_a_1_name AS anon_2_so_a_1_name FROM (SELECT so_a_1.id AS so_a_1_id, so_a_1.name AS so_a_1_name FROM so_a AS so_a_1 WHERE so_a_1.id = ? UNION SELECT so_a_1.id AS so_a_1_id, so_a_1.name AS so_a_1_name FROM so_a AS so_a_1 WHERE so_a_1.id = ?) AS anon_2 UNION SELECT so_a_1.id AS so_a_1_id, so_a_1.name AS so_a_1_name FROM so_a AS so_a_1 WHERE so_a_1.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_1_id",
    "R (A(a1), A(a3), A(a4))"},
  ["union from_self"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2))"},
  ["union of union count"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT anon_2.anon_3_so_a_id AS anon_2_anon_3_so_a_id, anon_2.anon_3_so_a_name AS anon_2_anon_3_so_a_name FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1",
    "R 3"},
  ["union of union first"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_name LIMIT ? OFFSET ?",
    "R A(a1)"},
  ["union of union selectinload"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?) ORDER BY so_b.id",
    "R ((A(a1), (B(1), B(2))), (A(a2), (B(3))), (A(a3), ()))"},
  ["limited union"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM ((SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id LIMIT ? OFFSET ?) UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.so_a_id",
    "E OperationalError"},
  ["union of limited union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id DESC LIMIT ? OFFSET ?)) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "E OperationalError"},
  ["core union in query union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS id, so_a.name AS name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2), A(a3))"},
  ["union of union with_entities"] = {"SQL SELECT anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_name",
    "R (('a1'), ('a2'), ('a3'))"},
  ["union of union with_entities count"] = {"SQL SELECT count(anon_2.anon_1_so_a_id) AS count_1 FROM (SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2",
    "R 3"},
  ["union of union join"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 JOIN so_b ON anon_1.anon_2_so_a_id = so_b.a_id ORDER BY so_b.id",
    "R (A(a1), A(a2))"},
  ["union of union join target"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 JOIN so_b ON anon_1.anon_2_so_a_id = so_b.a_id WHERE so_b.id > ? ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2))"},
  ["union of union value"] = {"SQL SELECT anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R 'a1'"},
  ["union of union subqueryload"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id, anon_1.anon_2_anon_3_so_a_id AS anon_1_anon_2_anon_3_so_a_id FROM (SELECT anon_2.anon_3_so_a_id AS anon_2_anon_3_so_a_id FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1 JOIN so_c ON anon_1.anon_2_anon_3_so_a_id = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (C(1))), (A(a2), ()), (A(a3), (C(2))))"},
  ["union subqueryload"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.so_a_id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id, anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1 JOIN so_c ON anon_1.anon_2_so_a_id = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (C(1))), (A(a3), (C(2))))"},
  ["union of union exists"] = {"SQL SELECT EXISTS (SELECT 1 FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2, so_a) AS anon_1",
    "R True"},
  ["columns union exists"] = {"SQL SELECT EXISTS (SELECT 1 FROM (SELECT so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.name AS so_a_name FROM so_a) AS anon_2, so_a) AS anon_1",
    "R True"},
  ["from_self exists"] = {"SQL SELECT EXISTS (SELECT 1 FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a) AS anon_2, so_a) AS anon_1",
    "R True"},
  ["aliased class union exists"] = {"SQL SELECT EXISTS (SELECT 1 FROM (SELECT aa.id AS aa_id, aa.name AS aa_name FROM so_a AS aa UNION SELECT aa.id AS aa_id, aa.name AS aa_name FROM so_a AS aa) AS anon_2, so_a AS aa) AS anon_1",
    "R True"},
  ["functions union of union"] = {"SQL SELECT anon_1.anon_2_max_1 AS anon_1_anon_2_max_1 FROM (SELECT anon_2.max_1 AS anon_2_max_1 FROM (SELECT max(so_a.id) AS max_1 FROM so_a UNION SELECT min(so_a.id) AS min_1 FROM so_a) AS anon_2 UNION SELECT count(so_a.id) AS count_1 FROM so_a) AS anon_1",
    "R ((1), (4))"},
  ["union of union joinedload limit"] = {"SQL SELECT anon_1.anon_2_anon_3_so_a_id AS anon_1_anon_2_anon_3_so_a_id, anon_1.anon_2_anon_3_so_a_name AS anon_1_anon_2_anon_3_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.anon_3_so_a_id AS anon_2_anon_3_so_a_id, anon_2.anon_3_so_a_name AS anon_2_anon_3_so_a_name FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 ORDER BY anon_2.anon_3_so_a_id LIMIT ? OFFSET ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_anon_3_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_anon_3_so_a_id, so_b_1.id",
    "R ((A(a1), (B(1), B(2))), (A(a2), (B(3))))"},
  ["union joinedload limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 ORDER BY anon_2.so_a_id DESC LIMIT ? OFFSET ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_so_a_id DESC, so_b_1.id",
    "R ((A(a2), (B(3))))"},
  ["from_self joinedload limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a) AS anon_2 ORDER BY anon_2.so_a_id LIMIT ? OFFSET ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_so_a_id, so_b_1.id",
    "R ((A(a1), (B(1), B(2))), (A(a2), (B(3))))"},
  ["union of union any"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 WHERE EXISTS (SELECT 1 FROM so_b WHERE anon_1.anon_2_so_a_id = so_b.a_id) ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2))"},
  ["union of union get"] = {"E InvalidRequestError"},
  ["union delete"] = {"E InvalidRequestError"},
  ["hierarchy union of union"] = {"SQL SELECT anon_1.anon_2_so_e_id AS anon_1_anon_2_so_e_id, anon_1.anon_2_so_e_name AS anon_1_anon_2_so_e_name, anon_1.anon_2_so_e_type AS anon_1_anon_2_so_e_type FROM (SELECT anon_2.so_e_id AS anon_2_so_e_id, anon_2.so_e_name AS anon_2_so_e_name, anon_2.so_e_type AS anon_2_so_e_type FROM (SELECT so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type FROM so_e WHERE so_e.id = ? UNION SELECT so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type FROM so_e WHERE so_e.id = ?) AS anon_2 UNION SELECT so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type FROM so_e WHERE so_e.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_e_id",
    "R (G(e1), E(e2), S(e3))"},
  ["single-table subclass union of union"] = {"SQL SELECT anon_1.anon_2_so_e_id AS anon_1_anon_2_so_e_id, anon_1.anon_2_so_e_name AS anon_1_anon_2_so_e_name, anon_1.anon_2_so_e_type AS anon_1_anon_2_so_e_type FROM (SELECT anon_2.so_e_id AS anon_2_so_e_id, anon_2.so_e_name AS anon_2_so_e_name, anon_2.so_e_type AS anon_2_so_e_type FROM (SELECT so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type FROM so_e WHERE so_e.type IN (?) UNION SELECT so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type FROM so_e WHERE so_e.type IN (?)) AS anon_2 UNION SELECT so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type FROM so_e WHERE so_e.type IN (?)) AS anon_1",
    "R (S(e3))"},
  ["joined subclass union"] = {"SQL SELECT anon_1.so_g_id AS anon_1_so_g_id, anon_1.so_e_name AS anon_1_so_e_name, anon_1.so_e_type AS anon_1_so_e_type, anon_1.so_g_lang AS anon_1_so_g_lang FROM (SELECT so_g.id AS so_g_id, so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type, so_g.lang AS so_g_lang FROM so_e JOIN so_g ON so_e.id = so_g.id WHERE so_g.id = ? UNION SELECT so_g.id AS so_g_id, so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type, so_g.lang AS so_g_lang FROM so_e JOIN so_g ON so_e.id = so_g.id WHERE so_g.id = ?) AS anon_1 ORDER BY anon_1.so_g_id",
    "R (G(e1), G(e4))"},
  ["enable_eagerloads aliased"] = {"SQL SELECT so_f_1.id AS so_f_1_id FROM so_f AS so_f_1",
    "R (F(1))"},
  ["enable_eagerloads aliased option"] = {"SQL SELECT ff.id AS ff_id FROM so_f AS ff",
    "R (F(1))"},
  ["enable_eagerloads with_entities"] = {"SQL SELECT so_f_1.id AS so_f_1_id FROM so_f AS so_f_1",
    "R (F(1))"},
  ["enable_eagerloads off on"] = {"SQL SELECT so_f_1.id AS so_f_1_id, so_i_1.id AS so_i_1_id, so_i_1.f_id AS so_i_1_f_id FROM so_f AS so_f_1 LEFT OUTER JOIN so_i AS so_i_1 ON so_f_1.id = so_i_1.f_id ORDER BY so_i_1.id",
    "R ((F(1), (I(1), I(2))))"},
  ["enable_eagerloads from_self"] = {"SQL SELECT anon_1.so_f_id AS anon_1_so_f_id FROM (SELECT so_f.id AS so_f_id FROM so_f) AS anon_1",
    "R (F(1))"},
  ["enable_eagerloads from_self on"] = {"SQL SELECT anon_1.so_f_id AS anon_1_so_f_id, so_i_1.id AS so_i_1_id, so_i_1.f_id AS so_i_1_f_id FROM (SELECT so_f.id AS so_f_id FROM so_f) AS anon_1 LEFT OUTER JOIN so_i AS so_i_1 ON anon_1.so_f_id = so_i_1.f_id ORDER BY so_i_1.id",
    "R (F(1))"},
  ["from_self eager"] = {"SQL SELECT anon_1.so_f_id AS anon_1_so_f_id, so_i_1.id AS so_i_1_id, so_i_1.f_id AS so_i_1_f_id FROM (SELECT so_f.id AS so_f_id FROM so_f) AS anon_1 LEFT OUTER JOIN so_i AS so_i_1 ON anon_1.so_f_id = so_i_1.f_id ORDER BY so_i_1.id",
    "R ((F(1), (I(1), I(2))))"},
  ["aliased from_self"] = {"SQL SELECT anon_1.ff_id AS anon_1_ff_id, so_i_1.id AS so_i_1_id, so_i_1.f_id AS so_i_1_f_id FROM (SELECT ff.id AS ff_id FROM so_f AS ff) AS anon_1 LEFT OUTER JOIN so_i AS so_i_1 ON anon_1.ff_id = so_i_1.f_id ORDER BY so_i_1.id",
    "R (F(1))"},
  ["enable_eagerloads union"] = {"SQL SELECT anon_1.ff_id AS anon_1_ff_id FROM (SELECT ff.id AS ff_id FROM so_f AS ff UNION SELECT ff.id AS ff_id FROM so_f AS ff) AS anon_1",
    "R (F(1))"},
  ["union eager"] = {"SQL SELECT anon_1.so_f_id AS anon_1_so_f_id, so_i_1.id AS so_i_1_id, so_i_1.f_id AS so_i_1_f_id FROM (SELECT so_f.id AS so_f_id FROM so_f WHERE so_f.id = ? UNION SELECT so_f.id AS so_f_id FROM so_f) AS anon_1 LEFT OUTER JOIN so_i AS so_i_1 ON anon_1.so_f_id = so_i_1.f_id ORDER BY so_i_1.id",
    "R ((F(1), (I(1), I(2))))"},
  ["cte of eager query"] = {"SQL WITH anon_1 AS (SELECT so_f.id AS id FROM so_f) SELECT anon_1.id AS anon_1_id, so_i_1.id AS so_i_1_id, so_i_1.f_id AS so_i_1_f_id FROM anon_1 LEFT OUTER JOIN so_i AS so_i_1 ON anon_1.id = so_i_1.f_id ORDER BY so_i_1.id",
    "R (F(1))"},
  ["subquery of eager query"] = {"SQL SELECT anon_1.id AS anon_1_id, so_i_1.id AS so_i_1_id, so_i_1.f_id AS so_i_1_f_id FROM (SELECT so_f.id AS id FROM so_f) AS anon_1 LEFT OUTER JOIN so_i AS so_i_1 ON anon_1.id = so_i_1.f_id ORDER BY so_i_1.id",
    "R (F(1))"},
  ["enable_eagerloads count"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT so_f_1.id AS so_f_1_id FROM so_f AS so_f_1) AS anon_1",
    "R 1"},
  ["get of aliased"] = {"E ArgumentError"},
  ["session get of aliased"] = {"E ArgumentError"},
  ["select aliased lazyload star"] = {"SQL SELECT so_f_1.id FROM so_f AS so_f_1",
    "R (F(1))"},
  ["immediateload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["immediateload selectinload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload immediateload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["immediateload nested selectinload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?) ORDER BY so_d.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?) ORDER BY so_d.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_b WHERE ? = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload nested immediateload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_d.id AS so_d_id, so_d.b_id AS so_d_b_id FROM so_d WHERE ? = so_d.b_id ORDER BY so_d.id",
    "SQL SELECT so_d.id AS so_d_id, so_d.b_id AS so_d_b_id FROM so_d WHERE ? = so_d.b_id ORDER BY so_d.id",
    "SQL SELECT so_d.id AS so_d_id, so_d.b_id AS so_d_b_id FROM so_d WHERE ? = so_d.b_id ORDER BY so_d.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload nested"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["subqueryload nested selectinload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload subqueryload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["immediateload subqueryload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["subqueryload nested selectinload selectinload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload nested subqueryload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_d.id AS so_d_id, so_d.b_id AS so_d_b_id, anon_1.so_b_id AS anon_1_so_b_id FROM (SELECT so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?)) AS anon_1 JOIN so_d ON anon_1.so_b_id = so_d.b_id ORDER BY so_d.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload siblings"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload siblings reversed"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload siblings nested"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["subqueryload siblings nested"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 JOIN so_c ON anon_1.so_a_id = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
}}
-- (where postgresql's SQL or results differ from SQLite's)
EXPECT.postgresql = {
  ["union union_all filter limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION ALL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 WHERE anon_1.anon_2_so_a_name != ? ORDER BY anon_1.anon_2_so_a_id DESC LIMIT ?",
    "R (A(a3), A(a1))"},
  ["union of union first"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_name LIMIT ?",
    "R A(a1)"},
  ["limited union"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM ((SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id LIMIT ?) UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.so_a_id",
    "R (A(a1), A(a2), A(a4))"},
  ["union of limited union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id DESC LIMIT ?)) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a4))"},
  ["union of union joinedload limit"] = {"SQL SELECT anon_1.anon_2_anon_3_so_a_id AS anon_1_anon_2_anon_3_so_a_id, anon_1.anon_2_anon_3_so_a_name AS anon_1_anon_2_anon_3_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.anon_3_so_a_id AS anon_2_anon_3_so_a_id, anon_2.anon_3_so_a_name AS anon_2_anon_3_so_a_name FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 ORDER BY anon_2.anon_3_so_a_id LIMIT ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_anon_3_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_anon_3_so_a_id, so_b_1.id",
    "R ((A(a1), (B(1), B(2))), (A(a2), (B(3))))"},
  ["union joinedload limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 ORDER BY anon_2.so_a_id DESC LIMIT ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_so_a_id DESC, so_b_1.id",
    "R ((A(a2), (B(3))))"},
  ["from_self joinedload limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a) AS anon_2 ORDER BY anon_2.so_a_id LIMIT ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_so_a_id, so_b_1.id",
    "R ((A(a1), (B(1), B(2))), (A(a2), (B(3))))"},
}
-- (where mysql's SQL or results differ from SQLite's)
EXPECT.mysql = {
  ["union union_all filter limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION ALL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 WHERE anon_1.anon_2_so_a_name != ? ORDER BY anon_1.anon_2_so_a_id DESC LIMIT ?",
    "R (A(a3), A(a1))"},
  ["entities union"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name, anon_1.so_b_id AS anon_1_so_b_id, anon_1.so_b_a_id AS anon_1_so_b_a_id FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a INNER JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a INNER JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ?) AS anon_1 ORDER BY anon_1.so_b_id",
    "R ((A(a1), B(1)), (A(a1), B(2)))"},
  ["entities union of union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, anon_1.anon_2_so_b_id AS anon_1_anon_2_so_b_id, anon_1.anon_2_so_b_a_id AS anon_1_anon_2_so_b_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name, anon_2.so_b_id AS anon_2_so_b_id, anon_2.so_b_a_id AS anon_2_so_b_a_id FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a INNER JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a INNER JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name, so_b.id AS so_b_id, so_b.a_id AS so_b_a_id FROM so_a INNER JOIN so_b ON so_a.id = so_b.a_id WHERE so_b.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_b_id",
    "R ((A(a1), B(1)), (A(a1), B(2)), (A(a2), B(3)))"},
  ["union of union first"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_name LIMIT ?",
    "R A(a1)"},
  ["limited union"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM ((SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id LIMIT ?) UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.so_a_id",
    "R (A(a1), A(a2), A(a4))"},
  ["union of limited union"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id DESC LIMIT ?)) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a4))"},
  ["union of union join"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 INNER JOIN so_b ON anon_1.anon_2_so_a_id = so_b.a_id ORDER BY so_b.id",
    "R (A(a1), A(a2))"},
  ["union of union join target"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 INNER JOIN so_b ON anon_1.anon_2_so_a_id = so_b.a_id WHERE so_b.id > ? ORDER BY anon_1.anon_2_so_a_id",
    "R (A(a1), A(a2))"},
  ["union of union subqueryload"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.anon_2_so_a_id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id, anon_1.anon_2_anon_3_so_a_id AS anon_1_anon_2_anon_3_so_a_id FROM (SELECT anon_2.anon_3_so_a_id AS anon_2_anon_3_so_a_id FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1 INNER JOIN so_c ON anon_1.anon_2_anon_3_so_a_id = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (C(1))), (A(a2), ()), (A(a3), (C(2))))"},
  ["union subqueryload"] = {"SQL SELECT anon_1.so_a_id AS anon_1_so_a_id, anon_1.so_a_name AS anon_1_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_1 ORDER BY anon_1.so_a_id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id, anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2) AS anon_1 INNER JOIN so_c ON anon_1.anon_2_so_a_id = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (C(1))), (A(a3), (C(2))))"},
  ["functions union of union"] = {"SQL SELECT anon_1.anon_2_max_1 AS anon_1_anon_2_max_1 FROM (SELECT anon_2.max_1 AS anon_2_max_1 FROM (SELECT max(so_a.id) AS max_1 FROM so_a UNION SELECT min(so_a.id) AS min_1 FROM so_a) AS anon_2 UNION SELECT count(so_a.id) AS count_1 FROM so_a) AS anon_1",
    "R ((4), (1))"},
  ["union of union joinedload limit"] = {"SQL SELECT anon_1.anon_2_anon_3_so_a_id AS anon_1_anon_2_anon_3_so_a_id, anon_1.anon_2_anon_3_so_a_name AS anon_1_anon_2_anon_3_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.anon_3_so_a_id AS anon_2_anon_3_so_a_id, anon_2.anon_3_so_a_name AS anon_2_anon_3_so_a_name FROM (SELECT anon_3.so_a_id AS anon_3_so_a_id, anon_3.so_a_name AS anon_3_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_3 UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 ORDER BY anon_2.anon_3_so_a_id LIMIT ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_anon_3_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_anon_3_so_a_id, so_b_1.id",
    "R ((A(a1), (B(1), B(2))), (A(a2), (B(3))))"},
  ["union joinedload limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ? UNION SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a WHERE so_a.id = ?) AS anon_2 ORDER BY anon_2.so_a_id DESC LIMIT ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_so_a_id DESC, so_b_1.id",
    "R ((A(a2), (B(3))))"},
  ["from_self joinedload limit"] = {"SQL SELECT anon_1.anon_2_so_a_id AS anon_1_anon_2_so_a_id, anon_1.anon_2_so_a_name AS anon_1_anon_2_so_a_name, so_b_1.id AS so_b_1_id, so_b_1.a_id AS so_b_1_a_id FROM (SELECT anon_2.so_a_id AS anon_2_so_a_id, anon_2.so_a_name AS anon_2_so_a_name FROM (SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a) AS anon_2 ORDER BY anon_2.so_a_id LIMIT ?) AS anon_1 LEFT OUTER JOIN so_b AS so_b_1 ON anon_1.anon_2_so_a_id = so_b_1.a_id ORDER BY anon_1.anon_2_so_a_id, so_b_1.id",
    "R ((A(a1), (B(1), B(2))), (A(a2), (B(3))))"},
  ["joined subclass union"] = {"SQL SELECT anon_1.so_g_id AS anon_1_so_g_id, anon_1.so_e_name AS anon_1_so_e_name, anon_1.so_e_type AS anon_1_so_e_type, anon_1.so_g_lang AS anon_1_so_g_lang FROM (SELECT so_g.id AS so_g_id, so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type, so_g.lang AS so_g_lang FROM so_e INNER JOIN so_g ON so_e.id = so_g.id WHERE so_g.id = ? UNION SELECT so_g.id AS so_g_id, so_e.id AS so_e_id, so_e.name AS so_e_name, so_e.type AS so_e_type, so_g.lang AS so_g_lang FROM so_e INNER JOIN so_g ON so_e.id = so_g.id WHERE so_g.id = ?) AS anon_1 ORDER BY anon_1.so_g_id",
    "R (G(e1), G(e4))"},
  ["subqueryload nested selectinload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 INNER JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload subqueryload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 INNER JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["immediateload subqueryload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 INNER JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["subqueryload nested selectinload selectinload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 INNER JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload nested subqueryload"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_d.id AS so_d_id, so_d.b_id AS so_d_b_id, anon_1.so_b_id AS anon_1_so_b_id FROM (SELECT so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?)) AS anon_1 INNER JOIN so_d ON anon_1.so_b_id = so_d.b_id ORDER BY so_d.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id FROM so_c WHERE ? = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload siblings"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload siblings reversed"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["selectinload siblings nested"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.a_id AS so_b_a_id, so_b.id AS so_b_id FROM so_b WHERE so_b.a_id IN (?, ?, ?, ?) ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "SQL SELECT so_c.a_id AS so_c_a_id, so_c.id AS so_c_id FROM so_c WHERE so_c.a_id IN (?, ?, ?, ?) ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
  ["subqueryload siblings nested"] = {"SQL SELECT so_a.id AS so_a_id, so_a.name AS so_a_name FROM so_a ORDER BY so_a.id",
    "SQL SELECT so_b.id AS so_b_id, so_b.a_id AS so_b_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 INNER JOIN so_b ON anon_1.so_a_id = so_b.a_id ORDER BY so_b.id",
    "SQL SELECT so_d.b_id AS so_d_b_id, so_d.id AS so_d_id FROM so_d WHERE so_d.b_id IN (?, ?, ?) ORDER BY so_d.id",
    "SQL SELECT so_c.id AS so_c_id, so_c.a_id AS so_c_a_id, anon_1.so_a_id AS anon_1_so_a_id FROM (SELECT so_a.id AS so_a_id FROM so_a) AS anon_1 INNER JOIN so_c ON anon_1.so_a_id = so_c.a_id ORDER BY so_c.id",
    "R ((A(a1), (B(1), B(2)), (C(1))), (A(a2), (B(3)), ()), (A(a3), (), (C(2))), (A(a4), (), ()))"},
}
-- END EXPECT

-- the Core under these: a subquery's columns named after an unnamed
-- alias (<alias>_<column>) are named when compiled, and numbered as
-- SQLAlchemy numbers its anonymous names (SQLAlchemy's strings)
local function flat(x) return (tostring(x):gsub("%s+", " "):gsub(" $", "")) end
T.test("core: a subquery of a labelled select of a subquery", function()
  local sq = select(A.id, A.name):subquery()
  local sub = select(sq):set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
    :subquery()
  T.eq(flat(select(sub)), "SELECT anon_2.anon_1_id, anon_2.anon_1_name " ..
       "FROM (SELECT anon_1.id AS anon_1_id, anon_1.name AS anon_1_name " ..
       "FROM (SELECT so_a.id AS id, so_a.name AS name FROM so_a) AS anon_1)" ..
       " AS anon_2")
  T.eq(flat(select(sub):set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)),
       "SELECT anon_1.anon_2_id AS anon_1_anon_2_id, anon_1.anon_2_name " ..
       "AS anon_1_anon_2_name FROM (SELECT anon_2.id AS anon_2_id, " ..
       "anon_2.name AS anon_2_name FROM (SELECT so_a.id AS id, so_a.name " ..
       "AS name FROM so_a) AS anon_2) AS anon_1")
  T.eq(flat(select(sub):where(sub.c[1]:gt(1)):order_by(sub.c[2])),
       "SELECT anon_2.anon_1_id, anon_2.anon_1_name FROM (SELECT anon_1.id " ..
       "AS anon_1_id, anon_1.name AS anon_1_name FROM (SELECT so_a.id AS " ..
       "id, so_a.name AS name FROM so_a) AS anon_1) AS anon_2 WHERE " ..
       "anon_2.anon_1_id > :param_1 ORDER BY anon_2.anon_1_name")
  local sub2 = select(sub):subquery()
  T.eq(flat(select(sub2)), "SELECT anon_2.anon_1_id, anon_2.anon_1_name " ..
       "FROM (SELECT anon_3.anon_1_id AS anon_1_id, anon_3.anon_1_name AS " ..
       "anon_1_name FROM (SELECT anon_1.id AS anon_1_id, anon_1.name AS " ..
       "anon_1_name FROM (SELECT so_a.id AS id, so_a.name AS name FROM so_a)" ..
       " AS anon_1) AS anon_3) AS anon_2")
  local a1 = A.__table__:alias()
  local sub3 = select(a1):set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
    :subquery()
  T.eq(flat(select(sub3)), "SELECT anon_1.so_a_1_id, anon_1.so_a_1_name " ..
       "FROM (SELECT so_a_1.id AS so_a_1_id, so_a_1.name AS so_a_1_name " ..
       "FROM so_a AS so_a_1) AS anon_1")
end)
T.test("core: repeated and anonymous columns of subqueries", function()
  local a1, a2 = A.__table__:alias(), A.__table__:alias()
  T.eq(flat(select(a1.c.name, a2.c.name, a1.c.name)
         :set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)),
       "SELECT so_a_1.name AS so_a_1_name, so_a_2.name AS so_a_2_name, " ..
       "so_a_1.name AS so_a_1_name__1 FROM so_a AS so_a_1, so_a AS so_a_2")
  local sq = select(A.id, A.name):subquery()
  T.eq(flat(select(sq.c.name, sq.c.name, a1.c.name, a1.c.name)),
       "SELECT anon_1.name, anon_1.name AS name__1, so_a_1.name AS name_1, " ..
       "so_a_1.name AS name__2 FROM (SELECT so_a.id AS id, so_a.name AS " ..
       "name FROM so_a) AS anon_1, so_a AS so_a_1")
  local cq = select(func.count(A.id), A.name):group_by(A.name):subquery()
  T.eq(flat(select(cq):set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)),
       "SELECT anon_1.count_1 AS anon_1_count_1, anon_1.name AS anon_1_name " ..
       "FROM (SELECT count(so_a.id) AS count_1, so_a.name AS name FROM so_a " ..
       "GROUP BY so_a.name) AS anon_1")
end)

T.test("core: a WITH clause ends as SQLAlchemy's", function()
  local c = select(A.id):cte()
  T.eq(tostring(select(c)), "WITH anon_1 AS \n(SELECT so_a.id AS id \n" ..
       "FROM so_a)\n SELECT anon_1.id \nFROM anon_1")
end)

for _, db in ipairs(T.databases()) do
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  seed(engine)
  -- (the statements as SQLAlchemy's pysqlite, psycopg2 and mysqlclient
  -- print them: placeholders as ?, names unquoted)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute", function(_, _, sql)
    log[#log + 1] = "SQL " .. sql:gsub("%s+", " "):gsub("^ ", "")
                    :gsub(" $", ""):gsub('[`"]', ""):gsub("%$%d+", "?")
                    :gsub("%%s", "?")
  end)
  local want = EXPECT[db.name] or {}
  local gots = {}
  for _, c in ipairs(cases) do
    local label, fn = c[1], c[2]
    T.test(db.name .. ": " .. label, function()
      local s <close> = orm.Session(engine)
      for i = #log, 1, -1 do log[i] = nil end
      local ok, r = pcall(fn, s)
      local got = {}
      for i, l in ipairs(log) do got[i] = l end
      if ok then
        got[#got + 1] = "R " .. fmt(r)
      else
        got[#got + 1] = "E " .. (type(r) == "table" and r.kind or
                                 tostring(r))
      end
      local expected = want[label] or EXPECT.sqlite[label]
      T.ok(expected, "an expectation for " .. label)
      gots[label] = got
      if SIBLINGS[label] then
        T.eq(blocks(got), blocks(expected))
        if SAME_AS[label] then T.eq(got, gots[SAME_AS[label]]) end
      else
        T.eq(got, expected)
      end
    end)
  end
  engine:dispose()
end

T.done()
