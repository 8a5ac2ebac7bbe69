-- The legacy Query of seed 003 section 2.7 (the methods of its list
-- that SQLAlchemy 1.4 still has, but with_hint; with the ORM's join and
-- outerjoin of 2.7.2) and the Session of 2.6.3, 2.6.5 (begin_nested and
-- the legacy commit and rollback inside it) and 2.6.7 (statements
-- through the session), each scenario run as SQLAlchemy 1.4.46 runs it: the
-- statements emitted in order, the rows and objects returned, or the
-- kind of error.  The expected strings are SQLAlchemy's, per database:
-- tests/oracle/gen_query_sweep.py runs the same scenarios written in
-- Python and rewrites the EXPECT block below.
local T = require "testing"

local Base = orm.declarative_base()
local User = Base:class "User" {
  __tablename__ = "qs_user",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  name = Column(String(30), {nullable = false}),
  fullname = Column(String(50)),
  addresses = relationship("Address", {back_populates = "user",
                                       order_by = "Address.id"}),
}
local Address = Base:class "Address" {
  __tablename__ = "qs_address",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  email = Column(String(50), {nullable = false}),
  user_id = Column(Integer, ForeignKey("qs_user.id")),
  user = relationship("User", {back_populates = "addresses"}),
}
-- (items load joined unless told otherwise)
local Folder = Base:class "Folder" {
  __tablename__ = "qs_folder",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  items = relationship("Item", {lazy = "joined", order_by = "Item.id"}),
}
local Item = Base:class "Item" {
  __tablename__ = "qs_item",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  folder_id = Column(Integer, ForeignKey("qs_folder.id")),
}
local Employee = Base:class "Employee" {
  __tablename__ = "qs_employee",
  id = Column(Integer, {primary_key = true, autoincrement = false}),
  name = Column(String(30)),
  type = Column(String(20)),
  __mapper_args__ = {polymorphic_on = "type",
                     polymorphic_identity = "employee"},
}
local Engineer = Employee:class "Engineer" {
  __tablename__ = "qs_engineer",
  id = Column(Integer, ForeignKey("qs_employee.id"), {primary_key = true}),
  language = Column(String(30)),
  __mapper_args__ = {polymorphic_identity = "engineer"},
}
local Manager = Employee:class "Manager" {
  __tablename__ = "qs_manager",
  id = Column(Integer, ForeignKey("qs_employee.id"), {primary_key = true}),
  golf = Column(Integer),
  __mapper_args__ = {polymorphic_identity = "manager"},
}

-- the engine of the database under test and the statements it ran
local engine
local log = {}

local function seed()
  engine:begin(function(c)
    c:execute(delete(Address.__table__))
    c:execute(delete(User.__table__))
    c:execute(insert(User.__table__),
              {{id = 1, name = "ed", fullname = "Ed Jones"},
               {id = 2, name = "wendy", fullname = "Wendy W"},
               {id = 3, name = "mary", fullname = "Mary C"},
               {id = 4, name = "fred", fullname = null}})
    c:execute(insert(Address.__table__),
              {{id = 1, email = "ed@a", user_id = 1},
               {id = 2, email = "ed@b", user_id = 1},
               {id = 3, email = "w@a", user_id = 2}})
    for _, t in ipairs({Engineer.__table__, Manager.__table__,
                        Employee.__table__}) do
      c:execute(delete(t))
    end
    c:execute(insert(Employee.__table__),
              {{id = 1, name = "e1", type = "engineer"},
               {id = 2, name = "m1", type = "manager"},
               {id = 3, name = "x", type = "employee"}})
    c:execute(insert(Engineer.__table__), {{id = 1, language = "lua"}})
    c:execute(insert(Manager.__table__), {{id = 2, golf = 3}})
    c:execute(delete(Item.__table__))
    c:execute(delete(Folder.__table__))
    c:execute(insert(Folder.__table__), {{id = 1}})
    c:execute(insert(Item.__table__), {{id = 1, folder_id = 1},
                                       {id = 2, folder_id = 1}})
  end)
end

-- a result written as the scenarios of SQLAlchemy print it: objects as
-- U(name) and A(email), rows and lists in parentheses
local fmt
function fmt(v)
  if v == nil or v == null then return "nil" end
  if type(v) == "string" then return "'" .. v .. "'" end
  if type(v) == "boolean" then return v and "True" or "False" end
  if type(v) == "number" then return tostring(v) end
  local okc, cls = pcall(function() return v.__class__ end)
  if okc and cls == User then return "U(" .. v.name .. ")" end
  if okc and cls == Address then return "A(" .. v.email .. ")" end
  if okc and cls == Folder then return "F(" .. v.id .. ")" end
  if okc and cls == Item then return "I(" .. v.id .. ")" end
  if okc and type(cls) == "table" and rawget(cls, "__mapper__") then
    return cls.__name__ .. "(" .. v.name .. ")"
  end
  local parts = {}
  for i = 1, #v do parts[i] = fmt(v[i]) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

local cases = {}
local function case(label, fn) cases[#cases + 1] = {label, fn} end

-- BEGIN EXPECT (tests/oracle/gen_query_sweep.py)
local EXPECT = {sqlite = {
  ["filter all"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ?",
    "R (U(ed))"},
  ["filter_by first"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? LIMIT ? OFFSET ?",
    "R U(wendy)"},
  ["first none"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? LIMIT ? OFFSET ?",
    "R nil"},
  ["add_column"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_user.fullname AS qs_user_fullname__1 FROM qs_user ORDER BY qs_user.id",
    "R ((U(ed), 'Ed Jones'), (U(wendy), 'Wendy W'), (U(mary), 'Mary C'), (U(fred), nil))"},
  ["add_columns"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ? ORDER BY qs_user.id",
    "R ((1, 'ed', 'Ed Jones'), (2, 'wendy', 'Wendy W'))"},
  ["add_entity"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id",
    "R ((U(ed), A(ed@a)), (U(ed), A(ed@b)), (U(wendy), A(w@a)))"},
  ["all order desc"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.name DESC",
    "R (U(wendy), U(mary), U(fred), U(ed))"},
  ["autoflush"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ?",
    "SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ?",
    "R ((), (U(new)))"},
  ["count"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name != ?) AS anon_1",
    "R 3"},
  ["count cols"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT DISTINCT qs_user.name AS qs_user_name FROM qs_user) AS anon_1",
    "R 4"},
  ["correlate"] = {"SQL SELECT qs_user.name AS qs_user_name, (SELECT count(qs_address.id) AS count_1 FROM qs_address WHERE qs_address.user_id = qs_user.id) AS anon_1 FROM qs_user ORDER BY qs_user.id",
    "R (('ed', 2), ('wendy', 1), ('mary', 0), ('fred', 0))"},
  ["delete"] = {"SQL DELETE FROM qs_user WHERE qs_user.name = ?",
    "SQL SELECT count(*) AS count_1 FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user) AS anon_1",
    "R (1, 3)"},
  ["delete fetch"] = {"SQL SELECT qs_address.id FROM qs_address WHERE qs_address.email LIKE ?",
    "SQL DELETE FROM qs_address WHERE qs_address.email LIKE ?",
    "SQL SELECT count(*) AS count_1 FROM (SELECT qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_address) AS anon_1",
    "R (2, 1)"},
  ["distinct"] = {"SQL SELECT DISTINCT qs_address.user_id AS qs_address_user_id FROM qs_address ORDER BY qs_address.user_id",
    "R ((1), (2))"},
  ["enable_eagerloads"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id",
    "R ('ed', 'wendy', 'mary', 'fred')"},
  ["except_"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user EXCEPT SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id > ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(ed), U(wendy))"},
  ["intersect"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id > ? INTERSECT SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(wendy), U(mary))"},
  ["union"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? UNION SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(ed), U(mary))"},
  ["union_all"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? UNION ALL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?) AS anon_1",
    "R (U(ed))"},
  ["union cols"] = {"SQL SELECT anon_1.qs_user_name AS anon_1_qs_user_name FROM (SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = ? UNION SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = ?) AS anon_1 ORDER BY anon_1.qs_user_name",
    "R (('ed'), ('wendy'))"},
  ["execution_options"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(wendy))"},
  ["exists"] = {"SQL SELECT EXISTS (SELECT 1 FROM qs_user WHERE qs_user.name = ?) AS anon_1",
    "R True"},
  ["exists none"] = {"SQL SELECT EXISTS (SELECT 1 FROM qs_user WHERE qs_user.name = ?) AS anon_1",
    "R False"},
  ["exists filter"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user WHERE EXISTS (SELECT 1 FROM qs_address WHERE qs_address.user_id = qs_user.id) ORDER BY qs_user.name",
    "R (('ed'), ('wendy'))"},
  ["filter multi"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id > ? AND qs_user.name != ? ORDER BY qs_user.id",
    "R (U(wendy), U(fred))"},
  ["filter_by multi"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.fullname = ? AND qs_user.name = ?",
    "R (U(ed))"},
  ["from_self"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id > ?) AS anon_1 ORDER BY anon_1.qs_user_name",
    "R (U(fred), U(mary), U(wendy))"},
  ["from_self cols"] = {"SQL SELECT anon_1.qs_user_name AS anon_1_qs_user_name FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id > ?) AS anon_1 ORDER BY anon_1.qs_user_name",
    "R (('fred'), ('mary'), ('wendy'))"},
  ["get"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(wendy), U(wendy), nil)"},
  ["group_by having"] = {"SQL SELECT qs_user.name AS qs_user_name, count(qs_address.id) AS count_1 FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id GROUP BY qs_user.name HAVING count(qs_address.id) > ?",
    "R (('ed', 2))"},
  ["join rel"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R (U(wendy))"},
  ["join target on"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R (U(ed))"},
  ["join target rel"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R (U(ed))"},
  ["outerjoin"] = {"SQL SELECT qs_user.name AS qs_user_name, qs_address.email AS qs_address_email FROM qs_user LEFT OUTER JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_user.id, qs_address.id",
    "R (('ed', 'ed@a'), ('ed', 'ed@b'), ('wendy', 'w@a'), ('mary', nil), ('fred', nil))"},
  ["limit offset"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ? OFFSET ?",
    "R (U(wendy), U(mary))"},
  ["slice"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ? OFFSET ?",
    "R (U(wendy), U(mary))"},
  ["one"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R U(ed)"},
  ["one none"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "E NoResultFound"},
  ["one multi"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user",
    "E MultipleResultsFound"},
  ["one_or_none"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (nil, U(fred))"},
  ["one_or_none multi"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user",
    "E MultipleResultsFound"},
  ["options joinedload"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address_1.id AS qs_address_1_id, qs_address_1.email AS qs_address_1_email, qs_address_1.user_id AS qs_address_1_user_id FROM qs_user LEFT OUTER JOIN qs_address AS qs_address_1 ON qs_user.id = qs_address_1.user_id WHERE qs_user.id < ? ORDER BY qs_user.id, qs_address_1.id",
    "R ((U(ed), (A(ed@a), A(ed@b))), (U(wendy), (A(w@a))))"},
  ["options selectinload"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ? ORDER BY qs_user.id",
    "SQL SELECT qs_address.user_id AS qs_address_user_id, qs_address.id AS qs_address_id, qs_address.email AS qs_address_email FROM qs_address WHERE qs_address.user_id IN (?, ?) ORDER BY qs_address.id",
    "R ((U(ed), (A(ed@a), A(ed@b))), (U(wendy), (A(w@a))))"},
  ["order_by none"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(ed))"},
  ["params"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ?",
    "R (U(mary))"},
  ["params dict"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? OR qs_user.name = ? ORDER BY qs_user.id",
    "R (U(ed), U(fred))"},
  ["populate_existing"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (True, 'ed')"},
  ["reset_joinpoint"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.id = ?",
    "R (U(wendy))"},
  ["scalar"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = ?",
    "R 'wendy'"},
  ["scalar none"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = ?",
    "R nil"},
  ["scalar multi"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user",
    "E MultipleResultsFound"},
  ["scalar entity"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R U(mary)"},
  ["scalar count"] = {"SQL SELECT count(qs_user.id) AS count_1 FROM qs_user",
    "R 4"},
  ["select_from"] = {"SQL SELECT qs_address.email AS qs_address_email FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_user.name = ? ORDER BY qs_address.id",
    "R (('ed@a'), ('ed@b'))"},
  ["subquery"] = {"SQL SELECT qs_user.name AS qs_user_name, anon_1.cnt AS anon_1_cnt FROM qs_user LEFT OUTER JOIN (SELECT qs_address.user_id AS user_id, count(qs_address.id) AS cnt FROM qs_address GROUP BY qs_address.user_id) AS anon_1 ON qs_user.id = anon_1.user_id ORDER BY qs_user.id",
    "R (('ed', 2), ('wendy', 1), ('mary', nil), ('fred', nil))"},
  ["update"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL UPDATE qs_user SET fullname=? WHERE qs_user.name = ?",
    "R (1, 'Edward')"},
  ["update fetch"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id FROM qs_user WHERE qs_user.id < ?",
    "SQL UPDATE qs_user SET fullname=(qs_user.name || ?) WHERE qs_user.id < ?",
    "R (2, 'ed!')"},
  ["update join error"] = {"E InvalidRequestError"},
  ["value"] = {"SQL SELECT qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R 'Mary C'"},
  ["values"] = {"SQL SELECT qs_user.name AS qs_user_name, qs_user.id AS qs_user_id FROM qs_user ORDER BY qs_user.id",
    "R (('ed', 1), ('wendy', 2), ('mary', 3), ('fred', 4))"},
  ["with_entities"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id < ? ORDER BY qs_user.id",
    "R (('ed'), ('wendy'))"},
  ["with_for_update"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(ed))"},
  ["with_parent"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_address WHERE ? = qs_address.user_id ORDER BY qs_address.id",
    "R (A(ed@a), A(ed@b))"},
  ["with_parent noprop"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_address WHERE ? = qs_address.user_id",
    "R (A(w@a))"},
  ["with_parent m2o"] = {"SQL SELECT qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_address WHERE qs_address.id = ?",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(wendy))"},
  ["yield_per"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id",
    "R (U(ed), U(wendy), U(mary), U(fred))"},
  ["aliased"] = {"SQL SELECT qs_user.name AS qs_user_name, u2.name AS u2_name FROM qs_user, qs_user AS u2 WHERE qs_user.id = ?",
    "R (('ed', 'ed'), ('ed', 'wendy'), ('ed', 'mary'), ('ed', 'fred'))"},
  ["aliased join"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user JOIN qs_address AS qs_address_1 ON qs_user.id = qs_address_1.user_id JOIN qs_address AS qs_address_2 ON qs_user.id = qs_address_2.user_id WHERE qs_address_1.email = ? AND qs_address_2.email = ?",
    "R (('ed'))"},
  ["orm join"] = {"SQL SELECT qs_user.name AS qs_user_name, qs_address.email AS qs_address_email FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id",
    "R (('ed', 'ed@a'), ('ed', 'ed@b'), ('wendy', 'w@a'))"},
  ["orm outerjoin"] = {"SQL SELECT qs_user.name AS qs_user_name, qs_address.email AS qs_address_email FROM qs_user LEFT OUTER JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_user.id, qs_address.id",
    "R (('ed', 'ed@a'), ('ed', 'ed@b'), ('wendy', 'w@a'), ('mary', nil), ('fred', nil))"},
  ["query entity tuple"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_user.name = ? ORDER BY qs_address.id",
    "R ((U(ed), A(ed@a)), (U(ed), A(ed@b)))"},
  ["query mapper"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(fred))"},
  ["slice bad"] = {"E InvalidRequestError"},
  ["count group"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT count(qs_user.id) AS count_2, qs_user.name AS qs_user_name FROM qs_user GROUP BY qs_user.name) AS anon_1",
    "R 4"},
  ["label"] = {"SQL SELECT qs_user.name AS qs_user_name, (SELECT count(qs_address.id) AS count_1 FROM qs_address WHERE qs_address.user_id = qs_user.id) AS n FROM qs_user ORDER BY qs_user.id",
    "R (('ed', 2), ('wendy', 1), ('mary', 0), ('fred', 0))"},
  ["as_scalar"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = (SELECT qs_address.user_id FROM qs_address WHERE qs_address.id = ?)",
    "R (('wendy'))"},
  ["statement"] = {[[R 'SELECT qs_user.id, qs_user.name, qs_user.fullname 
FROM qs_user 
WHERE qs_user.id = :id_1']]},
  ["whereclause"] = {"R 'qs_user.id = :id_1 AND qs_user.name = :name_1'"},
  ["filter_by bad"] = {"E InvalidRequestError"},
  ["get bad"] = {"E InvalidRequestError"},
  ["with_parent bad"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "E InvalidRequestError"},
  ["begin_nested rollback"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SELECT qs_user.id AS qs_user_id FROM qs_user WHERE qs_user.id > ?",
    "R ((11), (12))"},
  ["begin_nested tx rollback"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SELECT qs_user.id AS qs_user_id FROM qs_user WHERE qs_user.id > ?",
    "R ((11), (12))"},
  ["session execute"] = {"SQL select name from qs_user where id=?",
    "SQL SELECT qs_user.id, qs_user.name, qs_user.fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL select count(*) from qs_user",
    "R ((('wendy')), ((3, 'mary', 'Mary C')), 4)"},
  ["delete by criterion"] = {"SQL DELETE FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (1, nil)"},
  ["rollback pending"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (True, nil)"},
  ["commit in nested"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SAVEPOINT sa_savepoint_1",
    "SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL RELEASE SAVEPOINT sa_savepoint_1",
    "SQL SELECT qs_user.id AS qs_user_id FROM qs_user WHERE qs_user.id > ?",
    "R (True, False, ())"},
  ["rollback in nested flushed"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SAVEPOINT sa_savepoint_1",
    "SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL ROLLBACK TO SAVEPOINT sa_savepoint_1",
    "SQL SELECT qs_user.id AS qs_user_id FROM qs_user WHERE qs_user.id > ?",
    "R (True, False, ((11)))"},
  ["failed nested flush rollback"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SAVEPOINT sa_savepoint_1",
    "SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL ROLLBACK TO SAVEPOINT sa_savepoint_1",
    "SQL SELECT qs_user.id AS qs_user_id FROM qs_user WHERE qs_user.id > ?",
    "R (True, False, ((11)))"},
  ["join string"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R ((U(wendy), A(w@a)))"},
  ["query columns"] = {"SQL SELECT qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id",
    "R (('ed', 'Ed Jones'), ('wendy', 'Wendy W'), ('mary', 'Mary C'), ('fred', nil))"},
  ["union three"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? UNION SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? UNION SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(ed), U(wendy), U(mary))"},
  ["intersect_all"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user INTERSECT ALL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "E OperationalError"},
  ["except_all"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user EXCEPT ALL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "E OperationalError"},
  ["for update read"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(ed))"},
  ["for update nowait"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(ed))"},
  ["count limit"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ? OFFSET ?) AS anon_1",
    "R 2"},
  ["instances"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id",
    "R (U(ed), U(wendy), U(mary), U(fred))"},
  ["merge_result"] = {"E InvalidRequestError"},
  ["order_by false"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(ed))"},
  ["first entity tuple"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.email AS qs_address_email FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id LIMIT ? OFFSET ?",
    "R (U(ed), 'ed@a')"},
  ["get composite bad"] = {"E InvalidRequestError"},
  ["scalar multi cols"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = ?",
    "R 2"},
  ["options after limit"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname, qs_address_1.id AS qs_address_1_id, qs_address_1.email AS qs_address_1_email, qs_address_1.user_id AS qs_address_1_user_id FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user LIMIT ? OFFSET ?) AS anon_1 LEFT OUTER JOIN qs_address AS qs_address_1 ON anon_1.qs_user_id = qs_address_1.user_id ORDER BY qs_address_1.id",
    "R (U(ed))"},
  ["distinct count"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT DISTINCT qs_address.user_id AS qs_address_user_id FROM qs_address) AS anon_1",
    "R 2"},
  ["subquery name"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user JOIN (SELECT qs_address.user_id AS user_id FROM qs_address) AS sq ON qs_user.id = user_id",
    "R (('ed'), ('ed'), ('wendy'))"},
  ["merge_result detached"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ? ORDER BY qs_user.id",
    "R ((U(ed), U(wendy)), (True, True), True)"},
  ["merge_result rows"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.email AS qs_address_email FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R ((U(ed), 'ed@a'), (U(ed), 'ed@b'), (U(wendy), 'w@a'))"},
  ["column_descriptions"] = {"R (('User', 'User', False), ('id', 'T', False), ('user2', 'User', True), ('n', 'T', False), ('email', 'T', False))"},
  ["enable_assertions"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? LIMIT ? OFFSET ?",
    "R (U(wendy))"},
  ["enable_assertions get"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R U(ed)"},
  ["with_labels"] = {[[R 'SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname 
FROM qs_user 
WHERE qs_user.id = :id_1']]},
  ["with_session"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R (U(ed))"},
  ["statement labels"] = {[[R 'SELECT qs_user.name, qs_address.email 
FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id']]},
  ["whereclause none"] = {"R nil"},
  ["params merge"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? OR qs_user.name = ? ORDER BY qs_user.id",
    "R (U(ed), U(mary))"},
  ["subquery eager"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user, (SELECT qs_user.id AS id, qs_user.name AS name, qs_user.fullname AS fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1",
    "R (('ed'), ('ed'), ('wendy'), ('wendy'), ('mary'), ('mary'), ('fred'), ('fred'))"},
  ["from_self filter"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id > ?) AS anon_1 WHERE anon_1.qs_user_name != ? ORDER BY anon_1.qs_user_id",
    "R (U(wendy), U(fred))"},
  ["union filter"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? UNION SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?) AS anon_1 WHERE anon_1.qs_user_name = ?",
    "R (U(mary))"},
  ["count union"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT anon_2.qs_user_id AS anon_2_qs_user_id, anon_2.qs_user_name AS anon_2_qs_user_name, anon_2.qs_user_fullname AS anon_2_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? UNION SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?) AS anon_2) AS anon_1",
    "R 2"},
  ["exists cols"] = {"SQL SELECT EXISTS (SELECT 1 FROM qs_user WHERE qs_user.id = ?) AS anon_1",
    "R True"},
  ["slice offset only"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ? OFFSET ?",
    "R (U(mary), U(fred))"},
  ["first with joinedload"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname, qs_address_1.id AS qs_address_1_id, qs_address_1.email AS qs_address_1_email, qs_address_1.user_id AS qs_address_1_user_id FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ? OFFSET ?) AS anon_1 LEFT OUTER JOIN qs_address AS qs_address_1 ON anon_1.qs_user_id = qs_address_1.user_id ORDER BY anon_1.qs_user_id, qs_address_1.id",
    "R (U(ed), (A(ed@a), A(ed@b)))"},
  ["update evaluate"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL UPDATE qs_user SET name=? WHERE qs_user.id = ?",
    "R (1, 'W2', True)"},
  ["delete evaluate"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL DELETE FROM qs_user WHERE qs_user.name = ?",
    "R (1, False, False)"},
  ["begin ctx with open nested"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SAVEPOINT sa_savepoint_1",
    "SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL RELEASE SAVEPOINT sa_savepoint_1",
    "SQL SELECT qs_user.id AS qs_user_id FROM qs_user WHERE qs_user.id > ?",
    "R (False, ((11), (13)))"},
  ["begin tx rollback with open nested"] = {"SQL INSERT INTO qs_user (id, name, fullname) VALUES (?, ?, ?)",
    "SQL SELECT qs_user.id AS qs_user_id FROM qs_user WHERE qs_user.id > ?",
    "R (False, ())"},
  ["execute string"] = {"SQL select name from qs_user where id=?",
    "R (('wendy'))"},
  ["scalar string"] = {"SQL select count(*) from qs_user",
    "R 4"},
  ["eager by default"] = {"SQL SELECT qs_folder.id AS qs_folder_id, qs_item_1.id AS qs_item_1_id, qs_item_1.folder_id AS qs_item_1_folder_id FROM qs_folder LEFT OUTER JOIN qs_item AS qs_item_1 ON qs_folder.id = qs_item_1.folder_id ORDER BY qs_item_1.id",
    "R ((F(1), (I(1), I(2))))"},
  ["enable_eagerloads default"] = {"SQL SELECT qs_folder.id AS qs_folder_id FROM qs_folder",
    "SQL SELECT qs_item.id AS qs_item_id, qs_item.folder_id AS qs_item_folder_id FROM qs_item WHERE ? = qs_item.folder_id ORDER BY qs_item.id",
    "R ((F(1), (I(1), I(2))))"},
  ["union not query"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user UNION SELECT qs_user.id AS id, qs_user.name AS name, qs_user.fullname AS fullname FROM qs_user) AS anon_1",
    "R (U(ed), U(wendy), U(mary), U(fred))"},
  ["join bad name"] = {"E InvalidRequestError"},
  ["with_entities none"] = {"E InvalidRequestError"},
  ["order_by after limit"] = {"E InvalidRequestError"},
  ["group_by after offset"] = {"E InvalidRequestError"},
  ["get none"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id IS NULL",
    "R nil"},
  ["filter string"] = {"E ArgumentError"},
  ["filter text"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE name = 'ed'",
    "R (U(ed))"},
  ["one_or_none cols"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = ?",
    "R ('ed')"},
  ["first cols"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user ORDER BY qs_user.id LIMIT ? OFFSET ?",
    "R ('ed')"},
  ["count no rows"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id > ?) AS anon_1",
    "R 0"},
  ["exists no filter"] = {"SQL SELECT EXISTS (SELECT 1 FROM qs_user) AS anon_1",
    "R True"},
  ["update bad key"] = {"E InvalidRequestError"},
  ["delete bad sync"] = {"E ArgumentError"},
  ["with_parent transient"] = {"SQL SELECT qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_address WHERE ? = qs_address.user_id",
    "R (A(w@a))"},
  ["value none"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user WHERE qs_user.id = ?",
    "R nil"},
  ["having no group"] = {"SQL SELECT count(qs_user.id) AS count_1 FROM qs_user HAVING count(qs_user.id) > ?",
    "R ((4))"},
  ["with_polymorphic"] = {"SQL SELECT qs_employee.id AS qs_employee_id, qs_employee.name AS qs_employee_name, qs_employee.type AS qs_employee_type, qs_engineer.id AS qs_engineer_id, qs_engineer.language AS qs_engineer_language, qs_manager.id AS qs_manager_id, qs_manager.golf AS qs_manager_golf FROM qs_employee LEFT OUTER JOIN qs_engineer ON qs_employee.id = qs_engineer.id LEFT OUTER JOIN qs_manager ON qs_employee.id = qs_manager.id WHERE qs_engineer.language = ? OR qs_manager.golf = ? ORDER BY qs_employee.id",
    "R (Engineer(e1), Manager(m1))"},
  ["with_polymorphic star"] = {"SQL SELECT qs_employee.id AS qs_employee_id, qs_employee.name AS qs_employee_name, qs_employee.type AS qs_employee_type, qs_engineer.id AS qs_engineer_id, qs_engineer.language AS qs_engineer_language, qs_manager.id AS qs_manager_id, qs_manager.golf AS qs_manager_golf FROM qs_employee LEFT OUTER JOIN qs_engineer ON qs_employee.id = qs_engineer.id LEFT OUTER JOIN qs_manager ON qs_employee.id = qs_manager.id ORDER BY qs_employee.id",
    "R (Engineer(e1), Manager(m1), Employee(x))"},
  ["with_polymorphic after filter"] = {"E InvalidRequestError"},
}}
-- (where postgresql's SQL or results differ from SQLite's)
EXPECT.postgresql = {
  ["filter_by first"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? LIMIT ?",
    "R U(wendy)"},
  ["first none"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? LIMIT ?",
    "R nil"},
  ["delete fetch"] = {"SQL DELETE FROM qs_address WHERE qs_address.email LIKE ? RETURNING qs_address.id",
    "SQL SELECT count(*) AS count_1 FROM (SELECT qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_address) AS anon_1",
    "R (2, 1)"},
  ["update fetch"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL UPDATE qs_user SET fullname=(qs_user.name || ?) WHERE qs_user.id < ? RETURNING qs_user.id",
    "R (2, 'ed!')"},
  ["with_for_update"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? FOR UPDATE",
    "R (U(ed))"},
  ["intersect_all"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user INTERSECT ALL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(ed), U(wendy))"},
  ["except_all"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user EXCEPT ALL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(mary), U(fred))"},
  ["for update read"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? FOR SHARE",
    "R (U(ed))"},
  ["for update nowait"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? FOR UPDATE NOWAIT",
    "R (U(ed))"},
  ["count limit"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ?) AS anon_1",
    "R 2"},
  ["first entity tuple"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.email AS qs_address_email FROM qs_user JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id LIMIT ?",
    "R (U(ed), 'ed@a')"},
  ["options after limit"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname, qs_address_1.id AS qs_address_1_id, qs_address_1.email AS qs_address_1_email, qs_address_1.user_id AS qs_address_1_user_id FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user LIMIT ?) AS anon_1 LEFT OUTER JOIN qs_address AS qs_address_1 ON anon_1.qs_user_id = qs_address_1.user_id ORDER BY qs_address_1.id",
    "R (U(ed))"},
  ["enable_assertions"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? LIMIT ?",
    "R (U(wendy))"},
  ["slice offset only"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ALL OFFSET ?",
    "R (U(mary), U(fred))"},
  ["first with joinedload"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname, qs_address_1.id AS qs_address_1_id, qs_address_1.email AS qs_address_1_email, qs_address_1.user_id AS qs_address_1_user_id FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ?) AS anon_1 LEFT OUTER JOIN qs_address AS qs_address_1 ON anon_1.qs_user_id = qs_address_1.user_id ORDER BY anon_1.qs_user_id, qs_address_1.id",
    "R (U(ed), (A(ed@a), A(ed@b)))"},
  ["union not query"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user UNION SELECT qs_user.id AS id, qs_user.name AS name, qs_user.fullname AS fullname FROM qs_user) AS anon_1",
    "R (U(fred), U(wendy), U(mary), U(ed))"},
  ["first cols"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user ORDER BY qs_user.id LIMIT ?",
    "R ('ed')"},
}
-- (where mysql's SQL or results differ from SQLite's)
EXPECT.mysql = {
  ["filter_by first"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? LIMIT ?",
    "R U(wendy)"},
  ["first none"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.name = ? LIMIT ?",
    "R nil"},
  ["add_entity"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id",
    "R ((U(ed), A(ed@a)), (U(ed), A(ed@b)), (U(wendy), A(w@a)))"},
  ["group_by having"] = {"SQL SELECT qs_user.name AS qs_user_name, count(qs_address.id) AS count_1 FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id GROUP BY qs_user.name HAVING count(qs_address.id) > ?",
    "R (('ed', 2))"},
  ["join rel"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R (U(wendy))"},
  ["join target on"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R (U(ed))"},
  ["join target rel"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R (U(ed))"},
  ["limit offset"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ?, ?",
    "R (U(wendy), U(mary))"},
  ["slice"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ?, ?",
    "R (U(wendy), U(mary))"},
  ["reset_joinpoint"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.id = ?",
    "R (U(wendy))"},
  ["select_from"] = {"SQL SELECT qs_address.email AS qs_address_email FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_user.name = ? ORDER BY qs_address.id",
    "R (('ed@a'), ('ed@b'))"},
  ["update fetch"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id FROM qs_user WHERE qs_user.id < ?",
    "SQL UPDATE qs_user SET fullname=(concat(qs_user.name, ?)) WHERE qs_user.id < ?",
    "R (2, 'ed!')"},
  ["with_for_update"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? FOR UPDATE",
    "R (U(ed))"},
  ["aliased join"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user INNER JOIN qs_address AS qs_address_1 ON qs_user.id = qs_address_1.user_id INNER JOIN qs_address AS qs_address_2 ON qs_user.id = qs_address_2.user_id WHERE qs_address_1.email = ? AND qs_address_2.email = ?",
    "R (('ed'))"},
  ["orm join"] = {"SQL SELECT qs_user.name AS qs_user_name, qs_address.email AS qs_address_email FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id",
    "R (('ed', 'ed@a'), ('ed', 'ed@b'), ('wendy', 'w@a'))"},
  ["query entity tuple"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_user.name = ? ORDER BY qs_address.id",
    "R ((U(ed), A(ed@a)), (U(ed), A(ed@b)))"},
  ["join string"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.id AS qs_address_id, qs_address.email AS qs_address_email, qs_address.user_id AS qs_address_user_id FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id WHERE qs_address.email = ?",
    "R ((U(wendy), A(w@a)))"},
  ["intersect_all"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user INTERSECT ALL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(ed), U(wendy))"},
  ["except_all"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user EXCEPT ALL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id < ?) AS anon_1 ORDER BY anon_1.qs_user_id",
    "R (U(mary), U(fred))"},
  ["for update read"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? LOCK IN SHARE MODE",
    "R (U(ed))"},
  ["for update nowait"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? FOR UPDATE NOWAIT",
    "R (U(ed))"},
  ["count limit"] = {"SQL SELECT count(*) AS count_1 FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ?) AS anon_1",
    "R 2"},
  ["first entity tuple"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.email AS qs_address_email FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id LIMIT ?",
    "R (U(ed), 'ed@a')"},
  ["options after limit"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname, qs_address_1.id AS qs_address_1_id, qs_address_1.email AS qs_address_1_email, qs_address_1.user_id AS qs_address_1_user_id FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user LIMIT ?) AS anon_1 LEFT OUTER JOIN qs_address AS qs_address_1 ON anon_1.qs_user_id = qs_address_1.user_id ORDER BY qs_address_1.id",
    "R (U(ed))"},
  ["subquery name"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user INNER JOIN (SELECT qs_address.user_id AS user_id FROM qs_address) AS sq ON qs_user.id = user_id",
    "R (('ed'), ('ed'), ('wendy'))"},
  ["merge_result rows"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname, qs_address.email AS qs_address_email FROM qs_user INNER JOIN qs_address ON qs_user.id = qs_address.user_id ORDER BY qs_address.id",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ?",
    "R ((U(ed), 'ed@a'), (U(ed), 'ed@b'), (U(wendy), 'w@a'))"},
  ["enable_assertions"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user WHERE qs_user.id = ? LIMIT ?",
    "R (U(wendy))"},
  ["slice offset only"] = {"SQL SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ?, 18446744073709551615",
    "R (U(mary), U(fred))"},
  ["first with joinedload"] = {"SQL SELECT anon_1.qs_user_id AS anon_1_qs_user_id, anon_1.qs_user_name AS anon_1_qs_user_name, anon_1.qs_user_fullname AS anon_1_qs_user_fullname, qs_address_1.id AS qs_address_1_id, qs_address_1.email AS qs_address_1_email, qs_address_1.user_id AS qs_address_1_user_id FROM (SELECT qs_user.id AS qs_user_id, qs_user.name AS qs_user_name, qs_user.fullname AS qs_user_fullname FROM qs_user ORDER BY qs_user.id LIMIT ?) AS anon_1 LEFT OUTER JOIN qs_address AS qs_address_1 ON anon_1.qs_user_id = qs_address_1.user_id ORDER BY anon_1.qs_user_id, qs_address_1.id",
    "R (U(ed), (A(ed@a), A(ed@b)))"},
  ["first cols"] = {"SQL SELECT qs_user.name AS qs_user_name FROM qs_user ORDER BY qs_user.id LIMIT ?",
    "R ('ed')"},
}
-- END EXPECT

local function Q(s) return s:query(User) end
local function list(it)
  local t = {}
  for x in it do t[#t + 1] = x end
  return t
end
-- each user with the list of its addresses
local function with_addresses(users)
  local t = {}
  for i, u in ipairs(users) do
    local a = {}
    for j, x in ipairs(u.addresses) do a[j] = x end
    t[i] = {u, a}
  end
  return t
end
case("filter all", function(s)
  return Q(s):filter(User.name:eq("ed")):all()
end)
case("filter_by first", function(s)
  return Q(s):filter_by{name="wendy"}:first()
end)
case("first none", function(s)
  return Q(s):filter_by{name="zz"}:first()
end)
case("add_column", function(s)
  return Q(s):add_column(User.fullname):order_by(User.id):all()
end)
case("add_columns", function(s)
  return s:query(User.id):add_columns(User.name, User.fullname)
    :filter(User.id:lt(3)):order_by(User.id):all()
end)
case("add_entity", function(s)
  return Q(s):add_entity(Address):join(User.addresses):order_by(Address.id)
    :all()
end)
case("all order desc", function(s)
  return Q(s):order_by(User.name:desc()):all()
end)
case("autoflush", function(s)
  s:add(User{id=9, name="new"})
  local a = s:query(User):autoflush(false):filter_by{name="new"}:all()
  local b = s:query(User):filter_by{name="new"}:all()
  return {a, b}
end)
case("count", function(s)
  return Q(s):filter(User.name:ne("ed")):count()
end)
case("count cols", function(s)
  return s:query(User.name):distinct():count()
end)
case("correlate", function(s)
  local sub = s:query(func.count(Address.id))
    :filter(Address.user_id:eq(User.id)):correlate(User):scalar_subquery()
  return s:query(User.name, sub):order_by(User.id):all()
end)
case("delete", function(s)
  return {Q(s):filter(User.name:eq("mary")):delete(), Q(s):count()}
end)
case("delete fetch", function(s)
  local n = s:query(Address):filter(Address.email:like("ed%"))
    :delete{synchronize_session = "fetch"}
  return {n, s:query(Address):count()}
end)
case("distinct", function(s)
  return s:query(Address.user_id):distinct():order_by(Address.user_id):all()
end)
case("enable_eagerloads", function(s)
  local t = {}
  for i, u in ipairs(Q(s):options(joinedload(User.addresses))
                       :enable_eagerloads(false):order_by(User.id):all()) do
    t[i] = u.name
  end
  return t
end)
case("except_", function(s)
  return Q(s):except_(Q(s):filter(User.id:gt(2))):order_by(User.id):all()
end)
case("intersect", function(s)
  return Q(s):filter(User.id:gt(1)):intersect(Q(s):filter(User.id:lt(4)))
    :order_by(User.id):all()
end)
case("union", function(s)
  return Q(s):filter(User.id:eq(1)):union(Q(s):filter(User.id:eq(3)))
    :order_by(User.id):all()
end)
case("union_all", function(s)
  return Q(s):filter(User.id:eq(1)):union_all(Q(s):filter(User.id:eq(1)))
    :all()
end)
case("union cols", function(s)
  return s:query(User.name):filter(User.id:eq(1))
    :union(s:query(User.name):filter(User.id:eq(2))):order_by(User.name):all()
end)
case("execution_options", function(s)
  return Q(s):execution_options{populate_existing=true}:filter(User.id:eq(2))
    :all()
end)
case("exists", function(s)
  return s:query(Q(s):filter(User.name:eq("ed")):exists()):scalar()
end)
case("exists none", function(s)
  return s:query(Q(s):filter(User.name:eq("zz")):exists()):scalar()
end)
case("exists filter", function(s)
  return s:query(User.name)
    :filter(s:query(Address):filter(Address.user_id:eq(User.id)):exists())
    :order_by(User.name):all()
end)
case("filter multi", function(s)
  return Q(s):filter(User.id:gt(1), User.name:ne("mary")):order_by(User.id)
    :all()
end)
case("filter_by multi", function(s)
  return Q(s):filter_by{fullname="Ed Jones", name="ed"}:all()
end)
case("from_self", function(s)
  return Q(s):filter(User.id:gt(1)):from_self():order_by(User.name):all()
end)
case("from_self cols", function(s)
  return Q(s):filter(User.id:gt(1)):from_self(User.name):order_by(User.name)
    :all()
end)
case("get", function(s)
  return {Q(s):get(2), Q(s):get(2), Q(s):get(99) or null}
end)
case("group_by having", function(s)
  return s:query(User.name, func.count(Address.id)):join(User.addresses)
    :group_by(User.name):having(func.count(Address.id):gt(1)):all()
end)
case("join rel", function(s)
  return Q(s):join(User.addresses):filter(Address.email:eq("w@a")):all()
end)
case("join target on", function(s)
  return Q(s):join(Address, User.id:eq(Address.user_id))
    :filter(Address.email:eq("ed@b")):all()
end)
case("join target rel", function(s)
  return Q(s):join(Address, User.addresses):filter(Address.email:eq("ed@b"))
    :all()
end)
case("outerjoin", function(s)
  return s:query(User.name, Address.email):outerjoin(User.addresses)
    :order_by(User.id, Address.id):all()
end)
case("limit offset", function(s)
  return Q(s):order_by(User.id):limit(2):offset(1):all()
end)
case("slice", function(s)
  return Q(s):order_by(User.id):slice(1, 3):all()
end)
case("one", function(s)
  return Q(s):filter(User.id:eq(1)):one()
end)
case("one none", function(s)
  return Q(s):filter(User.id:eq(99)):one()
end)
case("one multi", function(s)
  return Q(s):one()
end)
case("one_or_none", function(s)
  return {Q(s):filter(User.id:eq(99)):one_or_none() or null,
          Q(s):filter(User.id:eq(4)):one_or_none()}
end)
case("one_or_none multi", function(s)
  return Q(s):one_or_none()
end)
case("options joinedload", function(s)
  return with_addresses(Q(s):options(joinedload(User.addresses))
                          :filter(User.id:lt(3)):order_by(User.id):all())
end)
case("options selectinload", function(s)
  return with_addresses(Q(s):options(selectinload(User.addresses))
                          :filter(User.id:lt(3)):order_by(User.id):all())
end)
case("order_by none", function(s)
  return Q(s):order_by(User.name):order_by(nil):filter(User.id:eq(1)):all()
end)
case("params", function(s)
  return Q(s):filter(User.name:eq(bindparam("n"))):params{n="mary"}:all()
end)
case("params dict", function(s)
  return Q(s)
    :filter(or_(User.name:eq(bindparam("a")), User.name:eq(bindparam("b"))))
    :params{a="ed", b="fred"}:order_by(User.id):all()
end)
case("populate_existing", function(s)
  local u = s:query(User):get(1)
  u.name = "changed"
  local u2 = s:query(User):populate_existing():autoflush(false)
    :filter(User.id:eq(1)):one()
  return {u2 == u, u.name}
end)
case("reset_joinpoint", function(s)
  return Q(s):join(User.addresses):reset_joinpoint():filter(Address.id:eq(3))
    :all()
end)
case("scalar", function(s)
  return s:query(User.name):filter(User.id:eq(2)):scalar()
end)
case("scalar none", function(s)
  return s:query(User.name):filter(User.id:eq(99)):scalar()
end)
case("scalar multi", function(s)
  return s:query(User.name):scalar()
end)
case("scalar entity", function(s)
  return Q(s):filter(User.id:eq(3)):scalar()
end)
case("scalar count", function(s)
  return s:query(func.count(User.id)):scalar()
end)
case("select_from", function(s)
  return s:query(Address.email):select_from(User):join(User.addresses)
    :filter(User.name:eq("ed")):order_by(Address.id):all()
end)
case("subquery", function(s)
  local sq = s:query(Address.user_id, func.count(Address.id):label("cnt"))
    :group_by(Address.user_id):subquery()
  return s:query(User.name, sq.c.cnt):outerjoin(sq, User.id:eq(sq.c.user_id))
    :order_by(User.id):all()
end)
case("update", function(s)
  local u = s:query(User):get(1)
  local n = s:query(User):filter(User.name:eq("ed")):update{fullname="Edward"}
  return {n, u.fullname}
end)
case("update fetch", function(s)
  local u = s:query(User):get(1)
  local n = s:query(User):filter(User.id:lt(3))
    :update({[User.fullname] = User.name .. "!"},
            {synchronize_session = "fetch"})
  return {n, u.fullname}
end)
case("update join error", function(s)
  return Q(s):join(User.addresses):update{name="x"}
end)
case("value", function(s)
  return Q(s):filter(User.id:eq(3)):value(User.fullname)
end)
case("values", function(s)
  return list(Q(s):order_by(User.id):values(User.name, User.id))
end)
case("with_entities", function(s)
  return Q(s):filter(User.id:lt(3)):with_entities(User.name):order_by(User.id)
    :all()
end)
case("with_for_update", function(s)
  return Q(s):filter(User.id:eq(1)):with_for_update():all()
end)
case("with_parent", function(s)
  local u = s:query(User):get(1)
  return s:query(Address):with_parent(u, User.addresses)
    :order_by(Address.id):all()
end)
case("with_parent noprop", function(s)
  local u = s:query(User):get(2)
  return s:query(Address):with_parent(u):all()
end)
case("with_parent m2o", function(s)
  local a = s:query(Address):get(3)
  return s:query(User):with_parent(a, Address.user):all()
end)
case("yield_per", function(s)
  -- (`for x in query do`: the query's rows)
  local t = {}
  for u in Q(s):order_by(User.id):yield_per(2) do t[#t + 1] = u end
  return t
end)
case("aliased", function(s)
  return s:query(User.name, orm.aliased(User, {name="u2"}).name)
    :filter(User.id:eq(1)):all()
end)
case("aliased join", function(s)
  local a1, a2 = orm.aliased(Address), orm.aliased(Address)
  return s:query(User.name):join(a1, User.addresses)
    :join(a2, User.addresses)
    :filter(a1.email:eq("ed@a"), a2.email:eq("ed@b")):all()
end)
case("orm join", function(s)
  return s:query(User.name, Address.email)
    :select_from(orm.join(User, Address, User.addresses)):order_by(Address.id)
    :all()
end)
case("orm outerjoin", function(s)
  return s:query(User.name, Address.email)
    :select_from(orm.outerjoin(User, Address, User.addresses))
    :order_by(User.id, Address.id):all()
end)
case("query entity tuple", function(s)
  return s:query(User, Address):join(User.addresses)
    :filter(User.name:eq("ed")):order_by(Address.id):all()
end)
case("query mapper", function(s)
  return s:query(inspect(User)):filter_by{id=4}:all()
end)
case("slice bad", function(s)
  return s:query(User):filter(User.id:eq(1)):limit(1):filter(User.id:eq(2))
    :all()
end)
case("count group", function(s)
  return s:query(func.count(User.id), User.name):group_by(User.name):count()
end)
case("label", function(s)
  local n = s:query(func.count(Address.id))
    :filter(Address.user_id:eq(User.id)):label("n")
  return s:query(User.name, n):order_by(User.id):all()
end)
case("as_scalar", function(s)
  local uid = s:query(Address.user_id):filter(Address.id:eq(3)):as_scalar()
  return s:query(User.name):filter(User.id:eq(uid)):all()
end)
case("statement", function(s)
  return tostring(Q(s):filter(User.id:eq(1)).statement)
end)
case("whereclause", function(s)
  return tostring(Q(s):filter(User.id:eq(1), User.name:eq("ed")).whereclause)
end)
case("filter_by bad", function(s)
  return Q(s):filter_by{nope=1}:all()
end)
case("get bad", function(s)
  return Q(s):filter(User.id:eq(1)):get(1)
end)
case("with_parent bad", function(s)
  return s:query(User):with_parent(s:query(User):get(1)):all()
end)
case("begin_nested rollback", function(s)
  s:add(User{id=11, name="u1"}); s:add(User{id=12, name="u2"})
  s:begin_nested(); s:add(User{id=13, name="u3"})
  s:rollback()
  s:commit()
  return s:query(User.id):filter(User.id:gt(10)):all()
end)
case("begin_nested tx rollback", function(s)
  s:add(User{id=11, name="u1"}); s:add(User{id=12, name="u2"})
  local n = s:begin_nested(); s:add(User{id=13, name="u3"})
  n:rollback()
  s:commit()
  return s:query(User.id):filter(User.id:gt(10)):all()
end)
case("session execute", function(s)
  local r = s:execute(text("select name from qs_user where id=:id"),
                      {id = 2}):all()
  local r2 = s:execute(select(User.__table__)
                         :where(User.__table__.c.id:eq(3))):all()
  local c = s:connection()
  local r3 = c:execute(text("select count(*) from qs_user")):scalar()
  return {r, r2, r3}
end)
case("delete by criterion", function(s)
  local n = s:query(User):filter(User.id:eq(4)):delete()
  return {n, s:query(User):get(4) or null}
end)
case("rollback pending", function(s)
  local u = User{id=20, name="p"}; s:add(u); s:flush()
  s:rollback()
  return {inspect(u).transient, s:query(User):get(20) or null}
end)
case("commit in nested", function(s)
  s:add(User{id = 11, name = "u1"})
  s:begin_nested()
  s:add(User{id = 13, name = "u3"})
  s:commit()
  local r = {s:in_transaction(), s:in_nested_transaction()}
  s:rollback()
  r[3] = s:query(User.id):filter(User.id:gt(10)):all()
  return r
end)
case("rollback in nested flushed", function(s)
  s:add(User{id = 11, name = "u1"})
  s:begin_nested()
  s:add(User{id = 13, name = "u3"})
  s:flush()
  s:rollback()
  local r = {s:in_transaction(), s:in_nested_transaction()}
  s:commit()
  r[3] = s:query(User.id):filter(User.id:gt(10)):all()
  return r
end)
case("failed nested flush rollback", function(s)
  s:add(User{id = 11, name = "u1"})
  s:begin_nested()
  s:add(User{id = 1, name = "dup"})
  local ok, e = pcall(s.flush, s); assert(e.kind == "IntegrityError")
  s:rollback()
  local r = {s:in_transaction(), s:in_nested_transaction()}
  s:commit()
  r[3] = s:query(User.id):filter(User.id:gt(10)):all()
  return r
end)
case("join string", function(s)
  return s:query(User, Address):join("addresses"):filter_by{email="w@a"}:all()
end)
case("query columns", function(s)
  return s:query(User.name, User.fullname):order_by(User.id):all()
end)
case("union three", function(s)
  return Q(s):filter(User.id:eq(1))
    :union(Q(s):filter(User.id:eq(2)), Q(s):filter(User.id:eq(3)))
    :order_by(User.id):all()
end)
case("intersect_all", function(s)
  return Q(s):intersect_all(Q(s):filter(User.id:lt(3))):order_by(User.id)
    :all()
end)
case("except_all", function(s)
  return Q(s):except_all(Q(s):filter(User.id:lt(3))):order_by(User.id):all()
end)
case("for update read", function(s)
  return Q(s):filter(User.id:eq(1)):with_for_update{read=true}:all()
end)
case("for update nowait", function(s)
  return Q(s):filter(User.id:eq(1)):with_for_update{nowait=true}:all()
end)
case("count limit", function(s)
  return Q(s):order_by(User.id):limit(2):count()
end)
case("instances", function(s)
  local r = s:execute(select(User.__table__):order_by(User.id)
                        :set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL))
  return list(Q(s):instances(r))
end)
case("merge_result", function(s)
  -- (load=false refuses a transient object)
  return list(Q(s):merge_result({User{id = 1, name = "ed", fullname = "x"}},
                                {load = false}))
end)
case("order_by false", function(s)
  return Q(s):order_by(User.name):order_by(false):filter(User.id:eq(1)):all()
end)
case("first entity tuple", function(s)
  return s:query(User, Address.email):join(User.addresses)
    :order_by(Address.id):first()
end)
case("get composite bad", function(s)
  return Q(s):get({1, 2})
end)
case("scalar multi cols", function(s)
  return s:query(User.id, User.name):filter(User.id:eq(2)):scalar()
end)
case("options after limit", function(s)
  return Q(s):limit(1):options(joinedload(User.addresses)):all()
end)
case("distinct count", function(s)
  return s:query(Address.user_id):distinct():count()
end)
case("subquery name", function(s)
  local sq = s:query(Address.user_id):subquery("sq")
  return s:query(User.name):join(sq, User.id:eq(column("user_id"))):all()
end)
case("merge_result detached", function(s)
  local s2 = orm.Session(engine)
  local users = s2:query(User):filter(User.id:lt(3)):order_by(User.id):all()
  s2:close()
  local out = list(s:query(User):merge_result(users, {load = false}))
  local st = {}
  for i, u in ipairs(out) do st[i] = inspect(u).persistent end
  return {out, st, out[1] == s:query(User):get(1)}
end)
case("merge_result rows", function(s)
  local s2 = orm.Session(engine)
  local rows = s2:query(User, Address.email):join(User.addresses)
    :order_by(Address.id):all()
  s2:close()
  return list(s:query(User, Address.email):merge_result(rows))
end)
case("column_descriptions", function(s)
  local t = {}
  local q = s:query(User, User.id, orm.aliased(User, {name = "user2"}),
                    func.count(User.id):label("n"), Address.email)
  for i, d in ipairs(q.column_descriptions) do
    -- (a class's type is the class; a column's its SQL type)
    t[i] = {d.name, d.type == User and "User" or (d.type and "T" or "nil"),
            d.aliased}
  end
  return t
end)
case("enable_assertions", function(s)
  return Q(s):limit(1):enable_assertions(false):filter(User.id:eq(2)):all()
end)
case("enable_assertions get", function(s)
  return Q(s):filter(User.id:eq(2)):enable_assertions(false):get(1)
end)
case("with_labels", function(s)
  return tostring(Q(s):filter(User.id:eq(1)):with_labels().statement)
end)
case("with_session", function(s)
  return Q(orm.Session(engine)):with_session(s):filter(User.id:eq(1)):all()
end)
case("statement labels", function(s)
  return tostring(s:query(User.name, Address.email):join(User.addresses)
                    .statement)
end)
case("whereclause none", function(s)
  return Q(s).whereclause
end)
case("params merge", function(s)
  return Q(s)
    :filter(or_(User.name:eq(bindparam("a")), User.name:eq(bindparam("b"))))
    :params{a="ed"}:params{b="mary"}:order_by(User.id):all()
end)
case("subquery eager", function(s)
  -- (a subquery leaves the eager join out)
  local sq = Q(s):options(joinedload(User.addresses)):filter(User.id:lt(3))
    :subquery()
  return s:query(User.name):select_from(sq):all()
end)
case("from_self filter", function(s)
  return Q(s):filter(User.id:gt(1)):from_self():filter(User.name:ne("mary"))
    :order_by(User.id):all()
end)
case("union filter", function(s)
  return Q(s):filter(User.id:eq(1)):union(Q(s):filter(User.id:eq(3)))
    :filter(User.name:eq("mary")):all()
end)
case("count union", function(s)
  return Q(s):filter(User.id:eq(1)):union(Q(s):filter(User.id:eq(3))):count()
end)
case("exists cols", function(s)
  return s:query(s:query(User.name):filter(User.id:eq(1)):exists()):scalar()
end)
case("slice offset only", function(s)
  return Q(s):order_by(User.id):offset(2):all()
end)
case("first with joinedload", function(s)
  -- (LIMIT in a subquery, the eager join outside it)
  return with_addresses({Q(s):options(joinedload(User.addresses))
                           :order_by(User.id):first()})[1]
end)
case("update evaluate", function(s)
  local u = Q(s):get(2)
  local n = Q(s):filter(User.id:eq(2)):update{name = "W2"}
  return {n, u.name, Q(s):get(2) == u}
end)
case("delete evaluate", function(s)
  local u = Q(s):get(3)
  local n = Q(s):filter(User.name:eq("mary")):delete()
  return {n, s:contains(u), inspect(u).persistent}
end)

case("begin ctx with open nested", function(s)
  -- (the whole transaction commits, its open savepoint released first)
  s:begin(function(s)
    s:add(User{id = 11, name = "u1"})
    s:begin_nested()
    s:add(User{id = 13, name = "u3"})
  end)
  return {s:in_transaction(), s:query(User.id):filter(User.id:gt(10)):all()}
end)
case("begin tx rollback with open nested", function(s)
  local t = s:begin()
  s:add(User{id = 11, name = "u1"})
  s:begin_nested()
  s:add(User{id = 13, name = "u3"})
  t:rollback()
  return {s:in_transaction(), s:query(User.id):filter(User.id:gt(10)):all()}
end)
case("execute string", function(s)
  -- (a string runs as text(), as SQLAlchemy 1.4's Session takes it)
  return s:execute("select name from qs_user where id=:id", {id = 2}):all()
end)
case("scalar string", function(s)
  return s:scalar("select count(*) from qs_user")
end)
-- each folder with the list of its items
local function with_items(folders)
  local t = {}
  for i, f in ipairs(folders) do
    local a = {}
    for j, x in ipairs(f.items) do a[j] = x end
    t[i] = {f, a}
  end
  return t
end
case("eager by default", function(s)
  return with_items(s:query(Folder):all())
end)
case("enable_eagerloads default", function(s)
  return with_items(s:query(Folder):enable_eagerloads(false):all())
end)
-- misuse, and what SQLAlchemy takes that looks like it
case("union not query", function(s)
  -- (a Core select joins the compound as it is)
  return Q(s):union(select(User)):all()
end)
case("join bad name", function(s) return Q(s):join("nope"):all() end)
case("with_entities none", function(s)
  return Q(s):with_entities():all()
end)
case("order_by after limit", function(s)
  return Q(s):limit(2):order_by(User.id):all()
end)
case("group_by after offset", function(s)
  return Q(s):offset(1):group_by(User.id):all()
end)
case("get none", function(s) return Q(s):get(nil) end)
case("filter string", function(s)
  return Q(s):filter("name = 'ed'"):all()
end)
case("filter text", function(s)
  return Q(s):filter(text("name = 'ed'")):all()
end)
case("one_or_none cols", function(s)
  return s:query(User.name):filter(User.id:eq(1)):one_or_none()
end)
case("first cols", function(s)
  return s:query(User.name):order_by(User.id):first()
end)
case("count no rows", function(s)
  return Q(s):filter(User.id:gt(99)):count()
end)
case("exists no filter", function(s)
  return s:query(Q(s):exists()):scalar()
end)
case("update bad key", function(s)
  return Q(s):filter(User.id:eq(1)):update{nope = 1}
end)
case("delete bad sync", function(s)
  return Q(s):filter(User.id:eq(1)):delete{synchronize_session = "bogus"}
end)
case("with_parent transient", function(s)
  return s:query(Address):with_parent(User{id = 2}, User.addresses):all()
end)
case("value none", function(s)
  return Q(s):filter(User.id:eq(99)):value(User.name)
end)
case("having no group", function(s)
  return s:query(func.count(User.id)):having(func.count(User.id):gt(1))
    :all()
end)
case("with_polymorphic", function(s)
  return s:query(Employee):with_polymorphic({Engineer, Manager})
    :filter(or_(Engineer.language:eq("lua"), Manager.golf:eq(3)))
    :order_by(Employee.id):all()
end)
case("with_polymorphic star", function(s)
  return s:query(Employee):with_polymorphic("*"):order_by(Employee.id):all()
end)
case("with_polymorphic after filter", function(s)
  return s:query(Employee):filter(Employee.id:eq(1))
    :with_polymorphic({Engineer}):all()
end)

for _, db in ipairs(T.databases()) do
  engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  -- (the statements as SQLAlchemy's pysqlite, psycopg2 and mysqlclient
  -- print them: placeholders as ?, names unquoted)
  orm.event.listen(engine, "before_cursor_execute", function(_, _, sql)
    log[#log + 1] = "SQL " .. sql:gsub("%s+", " "):gsub("^ ", "")
                    :gsub(" $", ""):gsub('[`"]', ""):gsub("%$%d+", "?")
                    :gsub("%%s", "?")
  end)
  local want = EXPECT[db.name]
  for _, c in ipairs(cases) do
    local label, fn = c[1], c[2]
    T.test(db.name .. ": " .. label, function()
      seed()
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
      T.eq(got, want[label] or EXPECT.sqlite[label])
    end)
  end
  engine:dispose()
end

T.done()
