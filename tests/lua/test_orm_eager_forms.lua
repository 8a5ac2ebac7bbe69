-- Eager loading in SQLAlchemy's forms on every test database: joinedload
-- over relationships with a custom primaryjoin/secondaryjoin (the
-- condition taken onto the aliases), innerjoin after an outer join (the
-- right-nested join), subqueryload of a limited statement with bound
-- parameters, contains_eager's column order and aliased targets,
-- aliased() over a subquery, and keyed dicts keyed by small integers.
-- The expected SQL and results are SQLAlchemy 1.4's for the same steps.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local kw = Table("ef_kw_assoc", Base.metadata,
    Column("u_id", Integer, ForeignKey("ef_users.id"), {primary_key = true}),
    Column("k_id", Integer, ForeignKey("ef_kws.id"), {primary_key = true}))
  M.kw = kw
  M.User = Base:class "User" {
    __tablename__ = "ef_users",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    addresses = relationship("Address", {order_by = "Address.id"}),
    good_addresses = relationship("Address", {viewonly = true,
      order_by = "Address.id",
      primaryjoin = function()
        return sa.and_(M.User.id:eq(M.Address.user_id),
                       M.Address.email:ne("bad"))
      end}),
    kws = relationship("Kw", {secondary = kw, viewonly = true,
      order_by = "Kw.id",
      primaryjoin = function() return M.User.id:eq(kw.c.u_id) end,
      secondaryjoin = function()
        return sa.and_(M.Kw.id:eq(kw.c.k_id), M.Kw.name:ne("x"))
      end}),
  }
  M.Address = Base:class "Address" {
    __tablename__ = "ef_addresses",
    id = Column(Integer, {primary_key = true}),
    email = Column(String(20)),
    user_id = Column(Integer, ForeignKey("ef_users.id")),
    user = relationship("User"),
    dings = relationship("Ding", {order_by = "Ding.id"}),
  }
  M.Ding = Base:class "Ding" {
    __tablename__ = "ef_dings",
    id = Column(Integer, {primary_key = true}),
    data = Column(String(20)),
    address_id = Column(Integer, ForeignKey("ef_addresses.id")),
  }
  M.Kw = Base:class "Kw" {
    __tablename__ = "ef_kws",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
  }
  M.Bag = Base:class "Bag" {
    __tablename__ = "ef_bags",
    id = Column(Integer, {primary_key = true}),
    items = relationship("Item", {order_by = "Item.id",
      collection_class = orm.attribute_keyed_dict("k"),
      cascade = "all, delete-orphan", back_populates = "bag"}),
  }
  M.Item = Base:class "Item" {
    __tablename__ = "ef_items",
    id = Column(Integer, {primary_key = true}),
    k = Column(Integer),
    bag_id = Column(Integer, ForeignKey("ef_bags.id")),
    bag = relationship("Bag", {back_populates = "items"}),
  }
  M.Company = Base:class "Company" {
    __tablename__ = "ef_companies",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    employees = relationship("Employee", {back_populates = "company",
                                          order_by = "Employee.id"}),
    engineers = relationship("Engineer", {viewonly = true,
                                          order_by = "Engineer.id"}),
  }
  M.Employee = Base:class "Employee" {
    __tablename__ = "ef_employees",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    type = Column(String(20)),
    company_id = Column(Integer, ForeignKey("ef_companies.id")),
    company = relationship("Company", {back_populates = "employees"}),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "employee"},
  }
  M.Engineer = M.Employee:class "Engineer" {
    __tablename__ = "ef_engineers",
    id = Column(Integer, ForeignKey("ef_employees.id"), {primary_key = true}),
    lang = Column(String(20)),
    machines = relationship("Machine", {order_by = "Machine.id"}),
    __mapper_args__ = {polymorphic_identity = "engineer"},
  }
  M.Manager = M.Employee:class "Manager" {
    __tablename__ = "ef_managers",
    id = Column(Integer, ForeignKey("ef_employees.id"), {primary_key = true}),
    golf = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "manager"},
  }
  M.Machine = Base:class "Machine" {
    __tablename__ = "ef_machines",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    engineer_id = Column(Integer, ForeignKey("ef_engineers.id")),
  }
  return M
end

local function norm(sql)
  sql = sql:gsub("%$%d+", "?"):gsub("[`\"]", ""):gsub("%s+", " ")
    :gsub(" INNER JOIN ", " JOIN "):gsub(" LIMIT %?, %?", " LIMIT ? OFFSET ?")
  return sql
end

-- ids of a list of objects, or of each object's relationship `attr`
local function ids(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.id end
  return out
end
local function ids_of(objs, attr)
  local out = {}
  for i, o in ipairs(objs) do out[i] = {o.id, ids(o[attr])} end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local User, Address, Ding, Kw = M.User, M.Address, M.Ding, M.Kw
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all({
      User{id = 1, name = "jack", addresses = {
        Address{id = 1, email = "a1", dings = {Ding{id = 1, data = "d1"}}},
        Address{id = 2, email = "bad"}}},
      User{id = 2, name = "ed", addresses = {Address{id = 3, email = "e1"}}},
      Kw{id = 1, name = "x"}, Kw{id = 2, name = "y"}})
    s:flush()
    s:execute(M.kw:insert(), {{u_id = 1, k_id = 1}, {u_id = 1, k_id = 2}})
    s:commit()
  end
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = norm(sql) end)
  local function clear() for i = #log, 1, -1 do log[i] = nil end end
  local pfx = db.name .. ": "

  T.test(pfx .. "joinedload over a custom primaryjoin and secondaryjoin",
         function()
    local s <close> = orm.Session(engine)
    clear()
    local us = s:scalars(select(User):options(
      orm.joinedload(User.good_addresses)):order_by(User.id)):unique():all()
    T.eq(#log, 1)
    T.eq(log[1], "SELECT ef_users.id, ef_users.name, ef_addresses_1.id " ..
      "AS id_1, ef_addresses_1.email, ef_addresses_1.user_id FROM " ..
      "ef_users LEFT OUTER JOIN ef_addresses AS ef_addresses_1 ON " ..
      "ef_users.id = ef_addresses_1.user_id AND ef_addresses_1.email != ? " ..
      "ORDER BY ef_users.id, ef_addresses_1.id")
    T.eq(ids_of(us, "good_addresses"), {{1, {1}}, {2, {3}}})
    T.eq(#log, 1)
    s:close()
    clear()
    us = s:scalars(select(User):options(orm.joinedload(User.kws))
      :order_by(User.id)):unique():all()
    T.eq(log[1], "SELECT ef_users.id, ef_users.name, ef_kws_1.id AS id_1, " ..
      "ef_kws_1.name AS name_1 FROM ef_users LEFT OUTER JOIN " ..
      "(ef_kw_assoc AS ef_kw_assoc_1 JOIN ef_kws AS ef_kws_1 ON " ..
      "ef_kws_1.id = ef_kw_assoc_1.k_id AND ef_kws_1.name != ?) ON " ..
      "ef_users.id = ef_kw_assoc_1.u_id ORDER BY ef_users.id, ef_kws_1.id")
    T.eq(ids_of(us, "kws"), {{1, {2}}, {2, {}}})
    T.eq(#log, 1)
  end)

  T.test(pfx .. "joinedload: a parent's rows apart, each child once",
         function()
    do
      local s <close> = orm.Session(engine)
      s:add(Address{id = 4, email = "b0", user_id = 2})
      s:commit()
    end
    local s <close> = orm.Session(engine)
    -- rows by the joined address's email: jack's (a1, bad) around ed's
    -- b0, each with both of jack's addresses from the eager join
    local us = s:scalars(select(User):join(User.addresses)
      :options(orm.joinedload(User.addresses)):order_by(Address.email))
      :unique():all()
    clear()
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3, 4}}})
    T.eq(#log, 0, "collections loaded")
    s:delete(s:get(Address, 4))
    s:commit()
  end)

  T.test(pfx .. "custom conditions: lazy, selectin and subquery loads",
         function()
    local s <close> = orm.Session(engine)
    local u = s:get(User, 1)
    clear()
    T.eq(ids(u.good_addresses), {1})
    T.eq(ids(u.kws), {2})
    T.eq(log, {
      "SELECT ef_addresses.id AS ef_addresses_id, ef_addresses.email AS " ..
      "ef_addresses_email, ef_addresses.user_id AS ef_addresses_user_id " ..
      "FROM ef_addresses WHERE ? = ef_addresses.user_id AND " ..
      "ef_addresses.email != ? ORDER BY ef_addresses.id",
      "SELECT ef_kws.id AS ef_kws_id, ef_kws.name AS ef_kws_name FROM " ..
      "ef_kws, ef_kw_assoc WHERE ? = ef_kw_assoc.u_id AND ef_kws.id = " ..
      "ef_kw_assoc.k_id AND ef_kws.name != ? ORDER BY ef_kws.id"})
    s:close()
    clear()
    local us = s:scalars(select(User):options(
      orm.selectinload(User.good_addresses), orm.selectinload(User.kws))
      :order_by(User.id)):all()
    T.eq(log[2], "SELECT ef_users_1.id AS ef_users_1_id, ef_addresses.id " ..
      "AS ef_addresses_id, ef_addresses.email AS ef_addresses_email, " ..
      "ef_addresses.user_id AS ef_addresses_user_id FROM ef_users AS " ..
      "ef_users_1 JOIN ef_addresses ON ef_users_1.id = " ..
      "ef_addresses.user_id AND ef_addresses.email != ? WHERE " ..
      "ef_users_1.id IN (?, ?) ORDER BY ef_addresses.id")
    T.eq(log[3], "SELECT ef_users_1.id AS ef_users_1_id, ef_kws.id AS " ..
      "ef_kws_id, ef_kws.name AS ef_kws_name FROM ef_users AS ef_users_1 " ..
      "JOIN ef_kw_assoc AS ef_kw_assoc_1 ON ef_users_1.id = " ..
      "ef_kw_assoc_1.u_id JOIN ef_kws ON ef_kws.id = ef_kw_assoc_1.k_id " ..
      "AND ef_kws.name != ? WHERE ef_users_1.id IN (?, ?) ORDER BY " ..
      "ef_kws.id")
    T.eq(ids_of(us, "good_addresses"), {{1, {1}}, {2, {3}}})
    T.eq(ids_of(us, "kws"), {{1, {2}}, {2, {}}})
    T.eq(#log, 3)
    s:close()
    clear()
    us = s:scalars(select(User):options(
      orm.subqueryload(User.good_addresses), orm.subqueryload(User.kws))
      :order_by(User.id)):all()
    T.eq(log[2], "SELECT ef_addresses.id AS ef_addresses_id, " ..
      "ef_addresses.email AS ef_addresses_email, ef_addresses.user_id AS " ..
      "ef_addresses_user_id, anon_1.ef_users_id AS anon_1_ef_users_id " ..
      "FROM (SELECT ef_users.id AS ef_users_id FROM ef_users) AS anon_1 " ..
      "JOIN ef_addresses ON anon_1.ef_users_id = ef_addresses.user_id AND " ..
      "ef_addresses.email != ? ORDER BY ef_addresses.id")
    T.eq(log[3], "SELECT ef_kws.id AS ef_kws_id, ef_kws.name AS " ..
      "ef_kws_name, anon_1.ef_users_id AS anon_1_ef_users_id FROM (SELECT " ..
      "ef_users.id AS ef_users_id FROM ef_users) AS anon_1 JOIN " ..
      "ef_kw_assoc AS ef_kw_assoc_1 ON anon_1.ef_users_id = " ..
      "ef_kw_assoc_1.u_id JOIN ef_kws ON ef_kws.id = ef_kw_assoc_1.k_id " ..
      "AND ef_kws.name != ? ORDER BY ef_kws.id")
    T.eq(ids_of(us, "good_addresses"), {{1, {1}}, {2, {3}}})
    T.eq(ids_of(us, "kws"), {{1, {2}}, {2, {}}})
    T.eq(#log, 3)
  end)

  T.test(pfx .. "joined eager loads in the order of the properties",
         function()
    local s <close> = orm.Session(engine)
    clear()
    local us = s:scalars(select(User):options(orm.joinedload(User.kws),
      orm.joinedload(User.addresses)):order_by(User.id)):unique():all()
    T.eq(log[1], "SELECT ef_users.id, ef_users.name, ef_addresses_1.id " ..
      "AS id_1, ef_addresses_1.email, ef_addresses_1.user_id, ef_kws_1.id " ..
      "AS id_2, ef_kws_1.name AS name_1 FROM ef_users LEFT OUTER JOIN " ..
      "ef_addresses AS ef_addresses_1 ON ef_users.id = " ..
      "ef_addresses_1.user_id LEFT OUTER JOIN (ef_kw_assoc AS " ..
      "ef_kw_assoc_1 JOIN ef_kws AS ef_kws_1 ON ef_kws_1.id = " ..
      "ef_kw_assoc_1.k_id AND ef_kws_1.name != ?) ON ef_users.id = " ..
      "ef_kw_assoc_1.u_id ORDER BY ef_users.id, ef_addresses_1.id, " ..
      "ef_kws_1.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    T.eq(ids_of(us, "kws"), {{1, {2}}, {2, {}}})
  end)

  T.test(pfx .. "joinedload innerjoin after an outer join nests", function()
    local s <close> = orm.Session(engine)
    clear()
    local us = s:scalars(select(User):options(
      orm.joinedload(User.addresses):joinedload(Address.dings,
                                                {innerjoin = true}))
      :order_by(User.id)):unique():all()
    T.eq(log[1], "SELECT ef_users.id, ef_users.name, ef_dings_1.id AS " ..
      "id_1, ef_dings_1.data, ef_dings_1.address_id, ef_addresses_1.id AS " ..
      "id_2, ef_addresses_1.email, ef_addresses_1.user_id FROM ef_users " ..
      "LEFT OUTER JOIN (ef_addresses AS ef_addresses_1 JOIN ef_dings AS " ..
      "ef_dings_1 ON ef_addresses_1.id = ef_dings_1.address_id) ON " ..
      "ef_users.id = ef_addresses_1.user_id ORDER BY ef_users.id, " ..
      "ef_addresses_1.id, ef_dings_1.id")
    -- the inner join keeps ed (no address with a ding) and drops the
    -- addresses without dings
    T.eq(ids_of(us, "addresses"), {{1, {1}}, {2, {}}})
    T.eq(ids(us[1].addresses[1].dings), {1})
    T.eq(#log, 1)
    s:close()
    -- "unnested" after an outer join: flat, and outer
    clear()
    us = s:scalars(select(User):options(
      orm.joinedload(User.addresses):joinedload(Address.dings,
                                                {innerjoin = "unnested"}))
      :order_by(User.id)):unique():all()
    T.eq(log[1], "SELECT ef_users.id, ef_users.name, ef_dings_1.id AS " ..
      "id_1, ef_dings_1.data, ef_dings_1.address_id, ef_addresses_1.id AS " ..
      "id_2, ef_addresses_1.email, ef_addresses_1.user_id FROM ef_users " ..
      "LEFT OUTER JOIN ef_addresses AS ef_addresses_1 ON ef_users.id = " ..
      "ef_addresses_1.user_id LEFT OUTER JOIN ef_dings AS ef_dings_1 ON " ..
      "ef_addresses_1.id = ef_dings_1.address_id ORDER BY ef_users.id, " ..
      "ef_addresses_1.id, ef_dings_1.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    s:close()
    -- inner all along: flat
    clear()
    us = s:scalars(select(User):options(
      orm.joinedload(User.addresses, {innerjoin = true})
        :joinedload(Address.dings, {innerjoin = true}))
      :order_by(User.id)):unique():all()
    T.eq(log[1], "SELECT ef_users.id, ef_users.name, ef_dings_1.id AS " ..
      "id_1, ef_dings_1.data, ef_dings_1.address_id, ef_addresses_1.id AS " ..
      "id_2, ef_addresses_1.email, ef_addresses_1.user_id FROM ef_users " ..
      "JOIN ef_addresses AS ef_addresses_1 ON ef_users.id = " ..
      "ef_addresses_1.user_id JOIN ef_dings AS ef_dings_1 ON " ..
      "ef_addresses_1.id = ef_dings_1.address_id ORDER BY ef_users.id, " ..
      "ef_addresses_1.id, ef_dings_1.id")
    T.eq(ids_of(us, "addresses"), {{1, {1}}})
    s:close()
    -- a many-to-many inner after a many-to-one outer: the secondary and
    -- the target flat inside the parentheses
    clear()
    local as = s:scalars(select(Address):options(
      orm.joinedload(Address.user):joinedload(User.kws, {innerjoin = true}))
      :order_by(Address.id)):unique():all()
    T.eq(log[1], "SELECT ef_addresses.id, ef_addresses.email, " ..
      "ef_addresses.user_id, ef_kws_1.id AS id_1, ef_kws_1.name, " ..
      "ef_users_1.id AS id_2, ef_users_1.name AS name_1 FROM ef_addresses " ..
      "LEFT OUTER JOIN (ef_users AS ef_users_1 JOIN ef_kw_assoc AS " ..
      "ef_kw_assoc_1 ON ef_users_1.id = ef_kw_assoc_1.u_id JOIN ef_kws AS " ..
      "ef_kws_1 ON ef_kws_1.id = ef_kw_assoc_1.k_id AND ef_kws_1.name " ..
      "!= ?) ON ef_users_1.id = ef_addresses.user_id ORDER BY " ..
      "ef_addresses.id, ef_kws_1.id")
    T.eq(ids(as), {1, 2, 3})
    T.eq(as[1].user.id, 1)
    T.eq(ids(as[1].user.kws), {2})
    T.eq(as[3].user, nil)
    T.eq(#log, 1)
  end)

  T.test(pfx .. "contains_eager: its columns first, aliased targets",
         function()
    local s <close> = orm.Session(engine)
    clear()
    local us = s:scalars(select(User):join(User.addresses)
      :options(orm.contains_eager(User.addresses))
      :order_by(User.id, Address.id)):unique():all()
    T.eq(log[1], "SELECT ef_addresses.id, ef_addresses.email, " ..
      "ef_addresses.user_id, ef_users.id AS id_1, ef_users.name FROM " ..
      "ef_users JOIN ef_addresses ON ef_users.id = ef_addresses.user_id " ..
      "ORDER BY ef_users.id, ef_addresses.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    T.eq(#log, 1)
    s:close()
    -- an aliased() class as the alias, and through of_type()
    local aa = orm.aliased(Address)
    clear()
    us = s:scalars(select(User):join(aa, User.addresses)
      :options(orm.contains_eager(User.addresses, {alias = aa}))
      :order_by(User.id, aa.id)):unique():all()
    T.eq(log[1], "SELECT ef_addresses_1.id, ef_addresses_1.email, " ..
      "ef_addresses_1.user_id, ef_users.id AS id_1, ef_users.name FROM " ..
      "ef_users JOIN ef_addresses AS ef_addresses_1 ON ef_users.id = " ..
      "ef_addresses_1.user_id ORDER BY ef_users.id, ef_addresses_1.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    s:close()
    clear()
    us = s:scalars(select(User):join(User.addresses:of_type(aa))
      :options(orm.contains_eager(User.addresses:of_type(aa)))
      :where(aa.email:ne("bad")):order_by(User.id)):unique():all()
    T.eq(log[1], "SELECT ef_addresses_1.id, ef_addresses_1.email, " ..
      "ef_addresses_1.user_id, ef_users.id AS id_1, ef_users.name FROM " ..
      "ef_users JOIN ef_addresses AS ef_addresses_1 ON ef_users.id = " ..
      "ef_addresses_1.user_id WHERE ef_addresses_1.email != ? ORDER BY " ..
      "ef_users.id")
    T.eq(ids_of(us, "addresses"), {{1, {1}}, {2, {3}}})
    s:close()
    -- a chain: the deepest columns first
    clear()
    us = s:scalars(select(User):outerjoin(User.addresses)
      :outerjoin(Address.dings):options(orm.contains_eager(User.addresses)
        :contains_eager(Address.dings)):order_by(User.id, Address.id))
      :unique():all()
    T.eq(log[1], "SELECT ef_dings.id, ef_dings.data, ef_dings.address_id, " ..
      "ef_addresses.id AS id_1, ef_addresses.email, ef_addresses.user_id, " ..
      "ef_users.id AS id_2, ef_users.name FROM ef_users LEFT OUTER JOIN " ..
      "ef_addresses ON ef_users.id = ef_addresses.user_id LEFT OUTER JOIN " ..
      "ef_dings ON ef_addresses.id = ef_dings.address_id ORDER BY " ..
      "ef_users.id, ef_addresses.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    T.eq(ids(us[1].addresses[1].dings), {1})
    T.eq(ids(us[1].addresses[2].dings), {})
    T.eq(#log, 1)
    s:close()
    -- with a joinedload: the joined columns stay last
    clear()
    us = s:scalars(select(User):join(User.addresses)
      :options(orm.contains_eager(User.addresses), orm.joinedload(User.kws))
      :order_by(User.id, Address.id)):unique():all()
    T.eq(log[1], "SELECT ef_addresses.id, ef_addresses.email, " ..
      "ef_addresses.user_id, ef_users.id AS id_1, ef_users.name, " ..
      "ef_kws_1.id AS id_2, ef_kws_1.name AS name_1 FROM ef_users JOIN " ..
      "ef_addresses ON ef_users.id = ef_addresses.user_id LEFT OUTER JOIN " ..
      "(ef_kw_assoc AS ef_kw_assoc_1 JOIN ef_kws AS ef_kws_1 ON " ..
      "ef_kws_1.id = ef_kw_assoc_1.k_id AND ef_kws_1.name != ?) ON " ..
      "ef_users.id = ef_kw_assoc_1.u_id ORDER BY ef_users.id, " ..
      "ef_addresses.id, ef_kws_1.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    T.eq(ids_of(us, "kws"), {{1, {2}}, {2, {}}})
    T.eq(#log, 1)
    s:close()
    -- the target also selected as an entity: its columns once, one object
    clear()
    local rows = s:execute(select(Address, User):join(Address.user)
      :options(orm.contains_eager(Address.user)):order_by(Address.id)):all()
    T.eq(log[1], "SELECT ef_users.id, ef_users.name, ef_addresses.id AS " ..
      "id_1, ef_addresses.email, ef_addresses.user_id FROM ef_addresses " ..
      "JOIN ef_users ON ef_users.id = ef_addresses.user_id ORDER BY " ..
      "ef_addresses.id")
    local got = {}
    for i, row in ipairs(rows) do
      got[i] = {row[1].id, row[2].id, rawequal(row[1].user, row[2])}
    end
    T.eq(got, {{1, 1, true}, {2, 1, true}, {3, 2, true}})
    T.eq(rows[1].User.name, "jack")
    T.eq(#log, 1)
  end)

  T.test(pfx .. "aliased() over a subquery: select, joins, loading",
         function()
    local s <close> = orm.Session(engine)
    local sq = select(User):where(User.name:ne("zz")):subquery()
    local ua = orm.aliased(User, sq)
    local inner = "(SELECT ef_users.id AS id, ef_users.name AS name FROM " ..
      "ef_users WHERE ef_users.name != ?) AS anon_1"
    clear()
    local us = s:scalars(select(ua):order_by(ua.id)):all()
    T.eq(log[1], "SELECT anon_1.id, anon_1.name FROM " .. inner ..
      " ORDER BY anon_1.id")
    T.eq(ids(us), {1, 2})
    T.ok(rawequal(us[1], s:get(User, 1)))
    T.eq(us[2].name, "ed")
    -- joins along the alias's relationships
    clear()
    local rows = s:execute(select(ua.name, Address.email)
      :join(ua.addresses):order_by(Address.id)):all()
    T.eq(log[1], "SELECT anon_1.name, ef_addresses.email FROM " .. inner ..
      " JOIN ef_addresses ON anon_1.id = ef_addresses.user_id ORDER BY " ..
      "ef_addresses.id")
    local got = {}
    for i, r in ipairs(rows) do got[i] = r[1] .. ":" .. r[2] end
    T.eq(got, {"jack:a1", "jack:bad", "ed:e1"})
    rows = s:execute(select(ua, Address.email):join(Address, ua.addresses)
      :order_by(Address.id)):all()
    T.ok(rawequal(rows[1][1], us[1]))
    T.ok(rawequal(rows[3][1], us[2]))
    T.eq(rows[3][2], "e1")
    s:close()
    -- loader options along the alias's relationships
    clear()
    us = s:scalars(select(ua):options(orm.selectinload(ua.addresses))
      :order_by(ua.id)):all()
    T.eq(#log, 2)
    T.eq(log[2], "SELECT ef_addresses.user_id AS ef_addresses_user_id, " ..
      "ef_addresses.id AS ef_addresses_id, ef_addresses.email AS " ..
      "ef_addresses_email FROM ef_addresses WHERE ef_addresses.user_id IN " ..
      "(?, ?) ORDER BY ef_addresses.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    s:close()
    clear()
    us = s:scalars(select(ua):options(orm.joinedload(ua.addresses))
      :order_by(ua.id)):unique():all()
    T.eq(log[1], "SELECT anon_1.id, anon_1.name, ef_addresses_1.id AS " ..
      "id_1, ef_addresses_1.email, ef_addresses_1.user_id FROM " .. inner ..
      " LEFT OUTER JOIN ef_addresses AS ef_addresses_1 ON anon_1.id = " ..
      "ef_addresses_1.user_id ORDER BY anon_1.id, ef_addresses_1.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    T.eq(#log, 1)
    s:close()
    clear()
    us = s:scalars(select(ua):options(orm.subqueryload(ua.addresses))
      :order_by(ua.id)):all()
    T.eq(log[2], "SELECT ef_addresses.id AS ef_addresses_id, " ..
      "ef_addresses.email AS ef_addresses_email, ef_addresses.user_id AS " ..
      "ef_addresses_user_id, anon_1.anon_2_id AS anon_1_anon_2_id FROM " ..
      "(SELECT anon_2.id AS anon_2_id FROM (SELECT ef_users.id AS id, " ..
      "ef_users.name AS name FROM ef_users WHERE ef_users.name != ?) AS " ..
      "anon_2) AS anon_1 JOIN ef_addresses ON anon_1.anon_2_id = " ..
      "ef_addresses.user_id ORDER BY ef_addresses.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    s:close()
    clear()
    us = s:scalars(select(ua):join(ua.addresses)
      :options(orm.contains_eager(ua.addresses)):order_by(ua.id, Address.id))
      :unique():all()
    T.eq(log[1], "SELECT ef_addresses.id, ef_addresses.email, " ..
      "ef_addresses.user_id, anon_1.id AS id_1, anon_1.name FROM " .. inner ..
      " JOIN ef_addresses ON anon_1.id = ef_addresses.user_id ORDER BY " ..
      "anon_1.id, ef_addresses.id")
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}, {2, {3}}})
    s:close()
    -- the legacy Query
    clear()
    us = s:query(ua):filter(ua.name:eq("ed")):all()
    T.eq(log[1], "SELECT anon_1.id AS anon_1_id, anon_1.name AS " ..
      "anon_1_name FROM " .. inner ..
      " WHERE anon_1.name = ?")
    T.eq(ids(us), {2})
    -- the subquery must give each of the class's columns (in any order)
    T.raises("ArgumentError", function()
      return orm.aliased(User, select(User.id):subquery())
    end)
  end)

  T.test(pfx .. "subqueryload reruns the statement with its parameters",
         function()
    local s <close> = orm.Session(engine)
    local sub = "(SELECT ef_users.id AS ef_users_id FROM ef_users WHERE " ..
      "ef_users.name = ?) AS anon_1"
    local stmt = select(User):options(orm.subqueryload(User.addresses)
      :subqueryload(Address.dings))
      :where(User.name:eq(sa.bindparam("n"))):order_by(User.id)
    clear()
    local us = s:scalars(stmt, {n = "jack"}):all()
    T.eq(log, {
      "SELECT ef_users.id, ef_users.name FROM ef_users WHERE " ..
      "ef_users.name = ? ORDER BY ef_users.id",
      "SELECT ef_addresses.id AS ef_addresses_id, ef_addresses.email AS " ..
      "ef_addresses_email, ef_addresses.user_id AS ef_addresses_user_id, " ..
      "anon_1.ef_users_id AS anon_1_ef_users_id FROM " .. sub .. " JOIN " ..
      "ef_addresses ON anon_1.ef_users_id = ef_addresses.user_id ORDER BY " ..
      "ef_addresses.id",
      "SELECT ef_dings.id AS ef_dings_id, ef_dings.data AS ef_dings_data, " ..
      "ef_dings.address_id AS ef_dings_address_id, ef_addresses_1.id AS " ..
      "ef_addresses_1_id FROM " .. sub .. " JOIN ef_addresses AS " ..
      "ef_addresses_1 ON anon_1.ef_users_id = ef_addresses_1.user_id JOIN " ..
      "ef_dings ON ef_addresses_1.id = ef_dings.address_id ORDER BY " ..
      "ef_dings.id"})
    T.eq(ids_of(us, "addresses"), {{1, {1, 2}}})
    T.eq(ids(us[1].addresses[1].dings), {1})
    T.eq(#log, 3)
    s:close()
    -- the legacy Query's params(), and LIMIT/OFFSET with a WHERE value
    clear()
    us = s:query(User):options(orm.subqueryload(User.addresses))
      :filter(User.name:eq(sa.bindparam("n"))):params{n = "ed"}:all()
    T.eq(#log, 2)
    T.eq(ids_of(us, "addresses"), {{2, {3}}})
    s:close()
    clear()
    us = s:scalars(select(User):options(orm.subqueryload(User.addresses))
      :where(User.id:gt(0)):order_by(User.id):limit(1):offset(1)):all()
    T.eq(log[2], "SELECT ef_addresses.id AS ef_addresses_id, " ..
      "ef_addresses.email AS ef_addresses_email, ef_addresses.user_id AS " ..
      "ef_addresses_user_id, anon_1.ef_users_id AS anon_1_ef_users_id " ..
      "FROM (SELECT ef_users.id AS ef_users_id FROM ef_users WHERE " ..
      "ef_users.id > ? ORDER BY ef_users.id LIMIT ? OFFSET ?) AS anon_1 " ..
      "JOIN ef_addresses ON anon_1.ef_users_id = ef_addresses.user_id " ..
      "ORDER BY ef_addresses.id")
    T.eq(ids_of(us, "addresses"), {{2, {3}}})
  end)

  T.test(pfx .. "attribute_keyed_dict keyed by small integers", function()
    local Bag, Item = M.Bag, M.Item
    local s <close> = orm.Session(engine)
    local b = Bag{id = 1}
    b.items[3] = Item{id = 1, k = 3}
    b.items[1] = Item{id = 2, k = 1}
    -- keys, not positions
    T.eq({b.items[1].k, b.items[3].k, #b.items}, {1, 3, 2})
    T.eq(b.items[2], nil)
    T.eq(b.items:keys(), {3, 1})
    -- the other side of the backref puts the object under its key
    Item{id = 3, k = 2, bag = b}
    T.eq(b.items[2].id, 3)
    local keys = {}
    for k, x in pairs(b.items) do keys[#keys + 1] = k .. "=" .. x.id end
    T.eq(keys, {"3=1", "1=2", "2=3"})
    s:add(b)
    s:commit()
    s:close()
    for _, opt in ipairs({"lazyload", "selectinload", "joinedload",
                          "subqueryload"}) do
      local got = s:scalars(select(Bag):options(orm[opt](Bag.items)))
        :unique():one()
      T.eq({got.items:keys(), got.items[1].id, got.items[2].id,
            got.items:contains(4), #got.items},
           {{3, 1, 2}, 2, 3, false, 3}, opt)
      s:close()
    end
    b = s:get(Bag, 1)
    b.items[1] = nil -- delete-orphan takes the row
    b.items[2] = Item{id = 4, k = 2} -- replaces the member keyed 2
    s:commit()
    local function rows()
      local out = {}
      for i, r in ipairs(s:execute(sa.text(
          "SELECT id, k, bag_id FROM ef_items ORDER BY id")):all()) do
        out[i] = {r[1], r[2], r[3]}
      end
      return out
    end
    T.eq(rows(), {{1, 3, 1}, {4, 2, 1}})
    -- assigning a table keyed by integers: its members
    b.items = {[7] = Item{id = 5, k = 7}, [1] = Item{id = 6, k = 1}}
    s:commit()
    T.eq(rows(), {{5, 7, 1}, {6, 1, 1}})
    T.eq({b.items[1].id, b.items[7].id, #b.items}, {6, 5, 2})
    T.eq(tostring(b.items):match("^{") ~= nil, true)
  end)

  T.test(pfx .. "eager loads to and from joined-inheritance classes",
         function()
    local Company, Engineer = M.Company, M.Engineer
    local s <close> = orm.Session(engine)
    s:add(Company{id = 1, name = "c1", employees = {
      Engineer{id = 1, name = "e1", lang = "py",
               machines = {M.Machine{id = 1, name = "m1"}}},
      M.Manager{id = 2, name = "m", golf = "g"},
      Engineer{id = 3, name = "e2", lang = "c"}}})
    s:commit()
    s:close()
    local function kinds(list)
      local out = {}
      for i, x in ipairs(list) do out[i] = x.__class__.__name__ .. x.id end
      return out
    end
    local function engs(list)
      local out = {}
      for i, x in ipairs(list) do
        out[i] = {x.id, x.lang, ids(x.machines)}
      end
      return out
    end
    -- to the base class: each row its class
    clear()
    local c = s:scalars(select(Company):options(
      orm.selectinload(Company.employees))):one()
    T.eq(log[2], "SELECT ef_employees.company_id AS " ..
      "ef_employees_company_id, ef_employees.id AS ef_employees_id, " ..
      "ef_employees.name AS ef_employees_name, ef_employees.type AS " ..
      "ef_employees_type FROM ef_employees WHERE ef_employees.company_id " ..
      "IN (?) ORDER BY ef_employees.id")
    T.eq(kinds(c.employees), {"Engineer1", "Manager2", "Engineer3"})
    T.eq(#log, 2)
    s:close()
    -- to a subclass: its tables joined, aliased as a right-nested join
    clear()
    c = s:scalars(select(Company):options(orm.joinedload(Company.engineers)
      :joinedload(Engineer.machines))):unique():one()
    T.eq(log[1], "SELECT ef_companies.id, ef_companies.name, " ..
      "ef_machines_1.id AS id_1, ef_machines_1.name AS name_1, " ..
      "ef_machines_1.engineer_id, ef_engineers_1.id AS id_2, " ..
      "ef_employees_1.id AS id_3, ef_employees_1.name AS name_2, " ..
      "ef_employees_1.type, ef_employees_1.company_id, ef_engineers_1.lang " ..
      "FROM ef_companies LEFT OUTER JOIN (ef_employees AS ef_employees_1 " ..
      "JOIN ef_engineers AS ef_engineers_1 ON ef_employees_1.id = " ..
      "ef_engineers_1.id) ON ef_companies.id = ef_employees_1.company_id " ..
      "LEFT OUTER JOIN ef_machines AS ef_machines_1 ON ef_engineers_1.id = " ..
      "ef_machines_1.engineer_id ORDER BY ef_engineers_1.id, " ..
      "ef_machines_1.id")
    T.eq(engs(c.engineers), {{1, "py", {1}}, {3, "c", {}}})
    T.eq(#log, 1)
    s:close()
    clear()
    c = s:scalars(select(Company):options(orm.selectinload(Company.engineers)
      :selectinload(Engineer.machines))):one()
    T.eq(log[2], "SELECT ef_employees.company_id AS " ..
      "ef_employees_company_id, ef_engineers.id AS ef_engineers_id, " ..
      "ef_employees.id AS ef_employees_id, ef_employees.name AS " ..
      "ef_employees_name, ef_employees.type AS ef_employees_type, " ..
      "ef_engineers.lang AS ef_engineers_lang FROM ef_employees JOIN " ..
      "ef_engineers ON ef_employees.id = ef_engineers.id WHERE " ..
      "ef_employees.company_id IN (?) ORDER BY ef_engineers.id")
    T.eq(log[3], "SELECT ef_machines.engineer_id AS " ..
      "ef_machines_engineer_id, ef_machines.id AS ef_machines_id, " ..
      "ef_machines.name AS ef_machines_name FROM ef_machines WHERE " ..
      "ef_machines.engineer_id IN (?, ?) ORDER BY ef_machines.id")
    T.eq(engs(c.engineers), {{1, "py", {1}}, {3, "c", {}}})
    T.eq(#log, 3)
    s:close()
    -- from a subclass: its own and its parent's relationships
    clear()
    local es = s:scalars(select(Engineer):options(
      orm.joinedload(Engineer.company), orm.joinedload(Engineer.machines))
      :order_by(Engineer.id)):unique():all()
    -- (in the order of the mapper's properties: the class's own first)
    T.eq(log[1], "SELECT ef_engineers.id, ef_employees.id AS id_1, " ..
      "ef_employees.name, ef_employees.type, ef_employees.company_id, " ..
      "ef_engineers.lang, ef_machines_1.id AS id_2, ef_machines_1.name AS " ..
      "name_1, ef_machines_1.engineer_id, ef_companies_1.id AS id_3, " ..
      "ef_companies_1.name AS name_2 FROM ef_employees JOIN ef_engineers " ..
      "ON ef_employees.id = ef_engineers.id LEFT OUTER JOIN ef_machines AS " ..
      "ef_machines_1 ON ef_engineers.id = ef_machines_1.engineer_id LEFT " ..
      "OUTER JOIN ef_companies AS ef_companies_1 ON ef_companies_1.id = " ..
      "ef_employees.company_id ORDER BY ef_engineers.id, ef_machines_1.id")
    T.eq(engs(es), {{1, "py", {1}}, {3, "c", {}}})
    T.eq({es[1].company.name, rawequal(es[1].company, es[2].company)},
         {"c1", true})
    T.eq(#log, 1)
    s:close()
    clear()
    es = s:scalars(select(Engineer):options(orm.selectinload(Engineer.machines))
      :order_by(Engineer.id)):all()
    T.eq(engs(es), {{1, "py", {1}}, {3, "c", {}}})
    T.eq(#log, 2)
    s:close()
    -- subqueryload: each row its class; a subclass's tables joined
    clear()
    c = s:scalars(select(Company):options(orm.subqueryload(Company.employees),
      orm.subqueryload(Company.engineers))):one()
    T.eq(kinds(c.employees), {"Engineer1", "Manager2", "Engineer3"})
    T.eq(log[3], "SELECT ef_engineers.id AS ef_engineers_id, " ..
      "ef_employees.id AS ef_employees_id, ef_employees.name AS " ..
      "ef_employees_name, ef_employees.type AS ef_employees_type, " ..
      "ef_employees.company_id AS ef_employees_company_id, " ..
      "ef_engineers.lang AS ef_engineers_lang, anon_1.ef_companies_id AS " ..
      "anon_1_ef_companies_id FROM (SELECT ef_companies.id AS " ..
      "ef_companies_id FROM ef_companies) AS anon_1 JOIN (ef_employees " ..
      "JOIN ef_engineers ON ef_employees.id = ef_engineers.id) ON " ..
      "anon_1.ef_companies_id = ef_employees.company_id ORDER BY " ..
      "ef_engineers.id")
    T.eq(#log, 3)
    T.eq(engs(c.engineers), {{1, "py", {1}}, {3, "c", {}}})
    s:close()
    -- of_type() in a loader option: the whole collection, each row its
    -- class
    for _, opt in ipairs({"selectinload", "joinedload", "subqueryload"}) do
      c = s:scalars(select(Company):options(
        orm[opt](Company.employees:of_type(Engineer)))):unique():one()
      T.eq(kinds(c.employees), {"Engineer1", "Manager2", "Engineer3"}, opt)
      T.eq(c.employees[3].lang, "c")
      s:close()
    end
    -- aliased() of a joined subclass: a subquery of its tables' join
    local ea = orm.aliased(Engineer)
    local sub = "(SELECT ef_employees.id AS ef_employees_id, " ..
      "ef_employees.name AS ef_employees_name, ef_employees.type AS " ..
      "ef_employees_type, ef_employees.company_id AS " ..
      "ef_employees_company_id, ef_engineers.id AS ef_engineers_id, " ..
      "ef_engineers.lang AS ef_engineers_lang FROM ef_employees JOIN " ..
      "ef_engineers ON ef_employees.id = ef_engineers.id) AS anon_1"
    clear()
    es = s:scalars(select(ea):where(ea.lang:eq("py"))):all()
    T.eq(log[1], "SELECT anon_1.ef_engineers_id, anon_1.ef_employees_id, " ..
      "anon_1.ef_employees_name, anon_1.ef_employees_type, " ..
      "anon_1.ef_employees_company_id, anon_1.ef_engineers_lang FROM " ..
      sub .. " WHERE anon_1.ef_engineers_lang = ?")
    T.eq(#es, 1)
    T.eq({es[1].__class__.__name__, es[1].id, es[1].name, es[1].lang},
         {"Engineer", 1, "e1", "py"})
    T.ok(rawequal(es[1], s:get(Engineer, 1)))
    clear()
    local rows = s:execute(select(Company.name, ea.name)
      :join(Company.employees:of_type(ea)):where(ea.lang:eq("c"))):all()
    T.eq(log[1], "SELECT ef_companies.name, anon_1.ef_employees_name FROM " ..
      "ef_companies JOIN " .. sub .. " ON ef_companies.id = " ..
      "anon_1.ef_employees_company_id WHERE anon_1.ef_engineers_lang = ?")
    T.eq({#rows, rows[1][1], rows[1][2]}, {1, "c1", "e2"})
  end)

  T.test(pfx .. "eager loads over an AbstractConcreteBase hierarchy",
         function()
    -- seed 004's example: the relationship is declared on the abstract
    -- base and each concrete class gets its own
    local Base = orm.declarative_base()
    local Company = Base:class "Company" {
      __tablename__ = "ef_a_company",
      id = Column(Integer, {primary_key = true}),
    }
    local Emp = Base:class("Emp", orm.AbstractConcreteBase) {
      employee_id = Column(Integer, {primary_key = true}),
      company_id = orm.declared_attr(function()
        return Column(ForeignKey("ef_a_company.id"))
      end),
      company = orm.declared_attr(function()
        return relationship("Company")
      end),
    }
    local Mgr = Emp:class "Mgr" {
      __tablename__ = "ef_a_manager",
      name = Column(String(50)),
      manager_data = Column(String(40)),
      __mapper_args__ = {polymorphic_identity = "manager", concrete = true},
    }
    local Eng = Emp:class "Eng" {
      __tablename__ = "ef_a_engineer",
      name = Column(String(50)),
      engineer_info = Column(String(40)),
      __mapper_args__ = {polymorphic_identity = "engineer", concrete = true},
    }
    Base.registry:configure()
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    local c = Company{id = 5}
    s:add_all({c, Mgr{employee_id = 1, name = "m", company = c},
               Eng{employee_id = 2, name = "e", company = c}})
    s:commit()
    s:close()
    local function got(list)
      local out = {}
      for i, x in ipairs(list) do
        out[i] = x.__class__.__name__ .. x.company.id
      end
      return out
    end
    clear()
    local r = s:scalars(select(Emp):options(orm.joinedload(Emp.company))
      :order_by(Emp.employee_id)):unique():all()
    T.match(log[1], "^SELECT pjoin%.employee_id, pjoin%.name, " ..
      "pjoin%.engineer_info, pjoin%.company_id, pjoin%.manager_data, " ..
      "pjoin%.type, ef_a_company_1%.id FROM %(SELECT ")
    T.match(log[1], "%) AS pjoin LEFT OUTER JOIN ef_a_company AS " ..
      "ef_a_company_1 ON ef_a_company_1%.id = pjoin%.company_id ORDER BY " ..
      "pjoin%.employee_id$")
    T.eq(got(r), {"Mgr5", "Eng5"})
    s:close()
    clear()
    r = s:scalars(select(Emp):options(orm.selectinload(Emp.company))
      :order_by(Emp.employee_id)):all()
    T.eq(log[2], "SELECT ef_a_company.id AS ef_a_company_id FROM " ..
      "ef_a_company WHERE ef_a_company.id IN (?)")
    T.eq(got(r), {"Mgr5", "Eng5"})
    T.eq(#log, 2)
    s:close()
    clear()
    r = s:scalars(select(Mgr):options(orm.joinedload(Mgr.company))):all()
    T.eq(log[1], "SELECT ef_a_manager.employee_id, ef_a_manager.name, " ..
      "ef_a_manager.manager_data, ef_a_manager.company_id, " ..
      "ef_a_company_1.id FROM ef_a_manager LEFT OUTER JOIN ef_a_company AS " ..
      "ef_a_company_1 ON ef_a_company_1.id = ef_a_manager.company_id")
    T.eq(got(r), {"Mgr5"})
    T.eq(#log, 1)
    s:close()
    Base.metadata:drop_all(engine)
  end)

  T.test(pfx .. "eager loads of a single-table subclass: its identities",
         function()
    local Base = orm.declarative_base()
    local Firm = Base:class "Firm" {
      __tablename__ = "ef_s_firms",
      id = Column(Integer, {primary_key = true}),
      bosses = relationship("Boss", {viewonly = true, order_by = "Boss.id"}),
    }
    local Staff = Base:class "Staff" {
      __tablename__ = "ef_s_staff",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      type = Column(String(20)),
      firm_id = Column(Integer, ForeignKey("ef_s_firms.id")),
      __mapper_args__ = {polymorphic_on = "type",
                         polymorphic_identity = "staff"},
    }
    local Boss = Staff:class "Boss" {
      golf = Column(String(20)),
      __mapper_args__ = {polymorphic_identity = "boss"},
    }
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local s <close> = orm.Session(engine)
    s:add_all({Firm{id = 1}, Boss{id = 1, name = "b", firm_id = 1},
               Staff{id = 2, name = "s", firm_id = 1}})
    s:commit()
    s:close()
    local expect = {
      joinedload = "SELECT ef_s_firms.id, ef_s_staff_1.id AS id_1, " ..
        "ef_s_staff_1.name, ef_s_staff_1.type, ef_s_staff_1.firm_id, " ..
        "ef_s_staff_1.golf FROM ef_s_firms LEFT OUTER JOIN ef_s_staff AS " ..
        "ef_s_staff_1 ON ef_s_firms.id = ef_s_staff_1.firm_id AND " ..
        "ef_s_staff_1.type IN (?) ORDER BY ef_s_staff_1.id",
      selectinload = "SELECT ef_s_staff.firm_id AS ef_s_staff_firm_id, " ..
        "ef_s_staff.id AS ef_s_staff_id, ef_s_staff.name AS " ..
        "ef_s_staff_name, ef_s_staff.type AS ef_s_staff_type, " ..
        "ef_s_staff.golf AS ef_s_staff_golf FROM ef_s_staff WHERE " ..
        "ef_s_staff.firm_id IN (?) AND ef_s_staff.type IN (?) ORDER BY " ..
        "ef_s_staff.id",
      subqueryload = "SELECT ef_s_staff.id AS ef_s_staff_id, " ..
        "ef_s_staff.name AS ef_s_staff_name, ef_s_staff.type AS " ..
        "ef_s_staff_type, ef_s_staff.firm_id AS ef_s_staff_firm_id, " ..
        "ef_s_staff.golf AS ef_s_staff_golf, anon_1.ef_s_firms_id AS " ..
        "anon_1_ef_s_firms_id FROM (SELECT ef_s_firms.id AS ef_s_firms_id " ..
        "FROM ef_s_firms) AS anon_1 JOIN ef_s_staff ON " ..
        "anon_1.ef_s_firms_id = ef_s_staff.firm_id AND ef_s_staff.type IN " ..
        "(?) ORDER BY ef_s_staff.id",
    }
    for _, opt in ipairs({"joinedload", "selectinload", "subqueryload"}) do
      clear()
      local f = s:scalars(select(Firm):options(orm[opt](Firm.bosses)))
        :unique():one()
      T.eq(log[#log], expect[opt], opt)
      T.eq(ids(f.bosses), {1}, opt)
      T.eq(f.bosses[1].__class__.__name__, "Boss")
      s:close()
    end
    Base.metadata:drop_all(engine)
  end)
end

T.done()
