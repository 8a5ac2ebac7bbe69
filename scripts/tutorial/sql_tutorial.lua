-- sql_tutorial.lua -- the SQL Expression Language tutorial of the
-- SQLAlchemy documentation (sections 3.1.4 to 3.1.18) in retort.
-- It prints what sql_tutorial.py prints on SQLAlchemy 1.4; the test
-- compares the two outputs (sql_tutorial.expected).
--
--   retort scripts/tutorial/sql_tutorial.lua [URL]
--
-- SQL is printed with each run of white space as one space.  Given a URL
-- the same steps run on that database (the printed SQL stays that of the
-- default dialect, so the output does not depend on the database).

local url = ...
if type(url) ~= "string" then url = "sqlite://" end

-- Python's repr of a value inside a tuple or list
local function pyrepr(v)
  if v == nil or v == sa.null then return "None" end
  if type(v) == "string" then
    return "'" .. v:gsub("\\", "\\\\"):gsub("'", "\\'") .. "'"
  end
  if type(v) == "boolean" then return v and "True" or "False" end
  return tostring(v)
end

local function sql(stmt, dialect)
  local s = dialect and stmt:compile(dialect).sql or tostring(stmt)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function show(label, value) print(label .. ": " .. tostring(value)) end

local function show_sql(label, stmt, dialect)
  print(label .. ": " .. sql(stmt, dialect))
end

local function show_params(label, stmt)
  -- .params is a list in placeholder order, .positiontup their names
  local compiled = stmt:compile()
  local params, keys, parts = {}, {}, {}
  for i, k in ipairs(compiled.positiontup) do
    params[k] = compiled.params[i]
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. pyrepr(params[k]) end
  print(label .. ": " .. table.concat(parts, ", "))
end

local function pylist(items)
  local parts = {}
  for i, x in ipairs(items) do parts[i] = pyrepr(x) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function show_rows(label, rows)
  local parts = {}
  for i, r in ipairs(rows) do parts[i] = tostring(r) end
  print(label .. ": [" .. table.concat(parts, ", ") .. "]")
end

-- Python's print(a, b): the values separated by one space
local function pyprint(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = (select(i, ...))
    parts[i] = v == nil and "None" or tostring(v)
  end
  print(table.concat(parts, " "))
end

local function run(label, conn, stmt, params)
  show_sql(label .. " sql", stmt)
  show_rows(label .. " rows", conn:execute(stmt, params):fetchall())
end

-- 3.1.3 - 3.1.4
local engine = create_engine(url)
local metadata = MetaData()
local users = Table("users", metadata,
  Column("id", Integer, {primary_key = true}),
  Column("name", String(50)),
  Column("fullname", String(50)))
local addresses = Table("addresses", metadata,
  Column("id", Integer, {primary_key = true}),
  Column("user_id", nil, ForeignKey("users.id")),
  Column("email_address", String(50), {nullable = false}))
metadata:drop_all(engine)
metadata:create_all(engine)
local names = {}
for i, t in ipairs(metadata.sorted_tables) do names[i] = t.name end
show("3.1.4 tables", table.concat(names, ", "))
show_sql("3.1.4 create users", CreateTable(users))
show_sql("3.1.4 create addresses", CreateTable(addresses))

-- 3.1.5 Insert Expressions
local ins = users:insert()
show_sql("3.1.5 insert", ins)
ins = users:insert():values{name = "jack", fullname = "Jack Jones"}
show_sql("3.1.5 insert values", ins)
show_params("3.1.5 params", ins)

-- 3.1.6 Executing
local conn = engine:connect()
local result = conn:execute(ins)
show("3.1.6 inserted_primary_key", result.inserted_primary_key)
show("3.1.6 rowcount", result.rowcount)
show_sql("3.1.6 sqlite", ins, "sqlite")

-- 3.1.7 Executing Multiple Statements
ins = users:insert()
result = conn:execute(ins, {id = 2, name = "wendy", fullname = "Wendy Williams"})
show("3.1.7 inserted_primary_key", result.inserted_primary_key)
if engine.dialect.name == "postgresql" then
  -- an explicit id does not move PostgreSQL's sequence on
  conn:exec_driver_sql("SELECT setval('users_id_seq', 2)")
end
result = conn:execute(addresses:insert(), {
  {user_id = 1, email_address = "jack@yahoo.com"},
  {user_id = 1, email_address = "jack@msn.com"},
  {user_id = 2, email_address = "www@www.org"},
  {user_id = 2, email_address = "wendy@aol.com"},
})
show("3.1.7 executemany rowcount", result.rowcount)

-- 3.1.8: the connectionless forms are gone; the same rows, on conn
result = conn:execute(users:insert(), {name = "fred", fullname = "Fred Flintstone"})
show("3.1.8 inserted_primary_key", result.inserted_primary_key)
result = conn:execute(users:insert():values{name = "mary",
                                            fullname = "Mary Contrary"})
show("3.1.8 inserted_primary_key", result.inserted_primary_key)
conn:commit()

-- 3.1.9 Selecting
local s = select(users)
show_sql("3.1.9 select", s)
for row in conn:execute(s) do print(row) end
result = conn:execute(s)
local row = result:fetchone()
pyprint("name:", row.name, "; fullname:", row.fullname)
row = result:fetchone()
pyprint("name:", row[2], "; fullname:", row[3])
result:close()
-- SQLAlchemy's row._mapping[users.c.name]: a retort Row is keyed by
-- position and name, not by Column object
for r in conn:execute(s) do
  pyprint("name:", r[users.c.name.name], "; fullname:",
          r[users.c.fullname.name])
end
run("3.1.9 columns", conn, select(users.c.name, users.c.fullname))
result = conn:execute(select(users.c.name, users.c.fullname))
show("3.1.9 keys", pylist(result:keys()))
result:close()
run("3.1.9 cartesian", conn, select(users, addresses))
run("3.1.9 where", conn,
    select(users, addresses):where(users.c.id:eq(addresses.c.user_id)))
show_sql("3.1.9 expression", users.c.id:eq(addresses.c.user_id))

-- 3.1.10 Operators
show_sql("3.1.10 eq columns", users.c.id:eq(addresses.c.user_id))
show_sql("3.1.10 eq literal", users.c.id:eq(7))
show_params("3.1.10 params", users.c.id:eq(7))
show_sql("3.1.10 ne", users.c.id:ne(7))
show_sql("3.1.10 is null", users.c.name:eq(nil))
show_sql("3.1.10 is not null", users.c.name:ne(nil))
show_sql("3.1.10 reverse", users.c.name:lt("fred"))
show_sql("3.1.10 add", users.c.id + addresses.c.id)
show_sql("3.1.10 concat", users.c.name .. users.c.fullname)
show_sql("3.1.10 concat mysql", users.c.name .. users.c.fullname, "mysql")
show_sql("3.1.10 op", users.c.name:op("tiddlywinks")("foo"))
show_sql("3.1.10 bitwise", users.c.id:op("&")(0xff))
show_sql("3.1.10 like", users.c.name:like("j%"))
show_sql("3.1.10 not like", users.c.name:not_like("j%"))
show_sql("3.1.10 ilike", users.c.name:ilike("j%"))
show_sql("3.1.10 in", users.c.name:in_{"jack", "wendy"})
show_sql("3.1.10 not in", users.c.name:not_in{"jack", "wendy"})
show_sql("3.1.10 between", users.c.id:between(1, 3))
show_sql("3.1.10 startswith", users.c.name:startswith("j"))
show_sql("3.1.10 contains", users.c.name:contains("ac"))
show_sql("3.1.10 neg", -users.c.id)
show_sql("3.1.10 arith", (users.c.id * 2 - 1) / 3)
run("3.1.10 in rows", conn,
    select(users.c.name):where(users.c.name:in_{"jack", "wendy", "nobody"})
      :order_by(users.c.name))

-- 3.1.11 Conjunctions
show_sql("3.1.11 and_", and_(
  users.c.name:like("j%"), users.c.id:eq(addresses.c.user_id),
  or_(addresses.c.email_address:eq("wendy@aol.com"),
      addresses.c.email_address:eq("jack@yahoo.com")),
  not_(users.c.id:gt(5))))
show_sql("3.1.11 operators",
  users.c.name:like("j%") & users.c.id:eq(addresses.c.user_id) &
  (addresses.c.email_address:eq("wendy@aol.com") |
   addresses.c.email_address:eq("jack@yahoo.com"))
  & ~users.c.id:gt(5))
s = select(((users.c.fullname .. ", ") .. addresses.c.email_address)
             :label("title")):where(and_(
  users.c.id:eq(addresses.c.user_id),
  users.c.name:between("m", "z"),
  or_(addresses.c.email_address:like("%@aol.com"),
      addresses.c.email_address:like("%@msn.com"))))
run("3.1.11 select", conn, s)
s = select(((users.c.fullname .. ", ") .. addresses.c.email_address)
             :label("title"))
  :where(users.c.id:eq(addresses.c.user_id))
  :where(users.c.name:between("m", "z"))
  :where(or_(addresses.c.email_address:like("%@aol.com"),
             addresses.c.email_address:like("%@msn.com")))
run("3.1.11 where chain", conn, s)

-- 3.1.12 Using Text
s = text("SELECT users.fullname || ', ' || addresses.email_address AS title " ..
         "FROM users, addresses " ..
         "WHERE users.id = addresses.user_id " ..
         "AND users.name BETWEEN :x AND :y " ..
         "AND (addresses.email_address LIKE :e1 " ..
         "OR addresses.email_address LIKE :e2)")
run("3.1.12 text", conn, s,
    {x = "m", y = "z", e1 = "%@aol.com", e2 = "%@msn.com"})
local stmt = text("SELECT * FROM users WHERE users.name BETWEEN :x AND :y")
stmt = stmt:bindparams{x = "m", y = "z"}
run("3.1.12 bindparams", conn, stmt)
stmt = text("SELECT id, name FROM users"):columns(users.c.id, users.c.name)
result = conn:execute(stmt)
show("3.1.12 columns keys", pylist(result:keys()))
for r in result do pyprint(r.id, r.name) end
stmt = text("SELECT users.id, addresses.id, users.id, " ..
            "users.name, addresses.email_address AS email " ..
            "FROM users JOIN addresses ON users.id=addresses.user_id " ..
            "WHERE users.id = 1"):columns(
  users.c.id, addresses.c.id, addresses.c.user_id,
  users.c.name, addresses.c.email_address)
for r in conn:execute(stmt) do
  pyprint(r.name, r.email)   -- (SQLAlchemy maps the Columns by position)
end
s = select(text("users.fullname || ', ' || addresses.email_address AS title"))
  :where(and_(
    text("users.id = addresses.user_id"),
    text("users.name BETWEEN 'm' AND 'z'"),
    text("(addresses.email_address LIKE :x " ..
         "OR addresses.email_address LIKE :y)")))
  :select_from(text("users, addresses"))
run("3.1.12 select text", conn, s, {x = "%@aol.com", y = "%@msn.com"})
s = select(
  ((literal_column("users.fullname", String) .. ", ") ..
   literal_column("addresses.email_address")):label("title"))
  :where(and_(
    literal_column("users.id"):eq(literal_column("addresses.user_id")),
    text("users.name BETWEEN 'm' AND 'z'"),
    text("(addresses.email_address LIKE :x OR " ..
         "addresses.email_address LIKE :y)")))
  :select_from(sa.table("users")):select_from(sa.table("addresses"))
run("3.1.12 literal_column", conn, s, {x = "%@aol.com", y = "%@msn.com"})
stmt = select(addresses.c.user_id,
              func.count(addresses.c.id):label("num_addresses"))
  :group_by("user_id"):order_by("user_id", "num_addresses")
run("3.1.12 label order_by", conn, stmt)
stmt = select(addresses.c.user_id,
              func.count(addresses.c.id):label("num_addresses"))
  :group_by("user_id"):order_by("user_id", desc("num_addresses"))
run("3.1.12 label desc", conn, stmt)
local u1a, u1b = users:alias(), users:alias()
stmt = select(u1a, u1b):where(u1a.c.name:gt(u1b.c.name)):order_by(u1a.c.name)
run("3.1.12 aliased order_by", conn, stmt)

-- 3.1.13 Using Aliases
local a1 = addresses:alias("a1")
local a2 = addresses:alias("a2")
s = select(users):where(and_(
  users.c.id:eq(a1.c.user_id),
  users.c.id:eq(a2.c.user_id),
  a1.c.email_address:eq("jack@msn.com"),
  a2.c.email_address:eq("jack@yahoo.com")))
run("3.1.13 named aliases", conn, s)
a1 = addresses:alias()
a2 = addresses:alias()
s = select(users):where(and_(
  users.c.id:eq(a1.c.user_id),
  users.c.id:eq(a2.c.user_id),
  a1.c.email_address:eq("jack@msn.com"),
  a2.c.email_address:eq("jack@yahoo.com")))
run("3.1.13 anonymous aliases", conn, s)
local a3 = s:correlate(nil):subquery()
run("3.1.13 select alias", conn,
    select(users.c.name):where(users.c.id:eq(a3.c.id)))

-- 3.1.14 Using Joins
show_sql("3.1.14 join", users:join(addresses))
show_sql("3.1.14 join on", users:join(
  addresses, addresses.c.email_address:like(users.c.name .. "%")))
s = select(users.c.fullname):select_from(users:join(
  addresses, addresses.c.email_address:like(users.c.name .. "%")))
run("3.1.14 select join", conn, s)
s = select(users.c.fullname):select_from(users:outerjoin(addresses))
run("3.1.14 outerjoin", conn, s)
s = select(users.c.name, addresses.c.email_address)
  :join_from(users, addresses):order_by(addresses.c.id)
run("3.1.14 join_from", conn, s)
s = select(users.c.name, addresses.c.email_address)
  :outerjoin(addresses):order_by(users.c.id, addresses.c.id)
run("3.1.14 select outerjoin", conn, s)

-- 3.1.15 Generative Selects
local query = users:select()
show_sql("3.1.15 start", query)
query = query:where(users.c.name:eq("jack"))
query = query:order_by(users.c.fullname:desc())
query = query:where(
  exists(select(addresses.c.id):where(and_(
    addresses.c.user_id:eq(users.c.id),
    addresses.c.email_address:like("%@msn.com"))):correlate(users)))
query = query:add_columns(table.unpack(addresses.columns))
  :select_from(users:outerjoin(addresses))
  :set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)
run("3.1.15 query", conn, query)
result = conn:execute(query)
show("3.1.15 keys", pylist(result:keys()))
result:close()
a1 = addresses:alias()
query = query:replace_selectable(addresses, a1)
run("3.1.15 replace_selectable", conn, query)
-- the generated labels the tutorial speaks of (no Column keys, as above)
for r in conn:execute(query) do
  pyprint("Name:", r.users_name, "; Email Address", r.addresses_1_email_address)
end

-- 3.1.16 Everything Else: bind parameter objects
s = users:select():where(users.c.name:eq(bindparam("username")))
run("3.1.16 bindparam", conn, s, {username = "wendy"})
s = users:select():where(users.c.name:like(
  bindparam("username", nil, {type_ = String}) .. text("'%'")))
run("3.1.16 bindparam typed", conn, s, {username = "wendy"})
s = select(users, addresses):where(or_(
  users.c.name:like(bindparam("name", nil, {type_ = String}) .. text("'%'")),
  addresses.c.email_address:like(
    bindparam("name", nil, {type_ = String}) .. text("'@%'"))))
  :select_from(users:outerjoin(addresses)):order_by(addresses.c.id)
run("3.1.16 bindparam twice", conn, s, {name = "jack"})

-- functions
show_sql("3.1.16 now", func.now())
show_sql("3.1.16 concat", func.concat("x", "y"))
show_sql("3.1.16 goofy", func.xyz_my_goofy_function())
show_sql("3.1.16 current_timestamp", func.current_timestamp())
s = select(func.max(addresses.c.email_address, {type_ = String})
             :label("maxemail"))
show_sql("3.1.16 max sql", s)
show("3.1.16 max scalar", conn:execute(s):scalar())
show("3.1.16 count scalar",
     conn:execute(select(func.count()):select_from(addresses)):scalar())
show("3.1.16 concat scalar",
     conn:execute(select(func.upper(func.lower("AbC")) .. "x")):scalar())
local calculate = select(column("q"), column("z"), column("r"))
  :select_from(func.calculate(bindparam("x"), bindparam("y"))):subquery()
show_sql("3.1.16 calculate",
         select(users):where(users.c.id:gt(calculate.c.z)))
local calc1 = calculate:alias("c1"):unique_params{x = 17, y = 45}
local calc2 = calculate:alias("c2"):unique_params{x = 5, y = 12}
s = select(users):where(users.c.id:between(calc1.c.z, calc2.c.z))
show_sql("3.1.16 unique_params", s)
show_params("3.1.16 unique_params params", s)

-- window functions
s = select(users.c.id, func.row_number():over{order_by = users.c.name})
show_sql("3.1.16 over", s)
run("3.1.16 over rows", conn, s:order_by(users.c.id))
s = select(addresses.c.user_id, addresses.c.email_address,
           func.count():over{partition_by = addresses.c.user_id}:label("n"))
  :order_by(addresses.c.id)
run("3.1.16 over partition", conn, s)

-- unions and other set operations
local u = union(
  addresses:select():where(addresses.c.email_address:eq("foo@bar.com")),
  addresses:select():where(addresses.c.email_address:like("%@yahoo.com")))
  :order_by(addresses.c.email_address)
run("3.1.16 union", conn, u)
u = except_(
  addresses:select():where(addresses.c.email_address:like("%@%.com")),
  addresses:select():where(addresses.c.email_address:like("%@msn.com")))
run("3.1.16 except_", conn, u)
u = except_(
  union(
    addresses:select():where(addresses.c.email_address:like("%@yahoo.com")),
    addresses:select():where(addresses.c.email_address:like("%@msn.com")))
    :subquery():select(),
  addresses:select():where(addresses.c.email_address:like("%@msn.com")))
run("3.1.16 nested", conn, u)
u = select(addresses.c.email_address):where(addresses.c.user_id:eq(1))
  :intersect(select(addresses.c.email_address)
               :where(addresses.c.email_address:like("jack%")))
run("3.1.16 intersect", conn, u:order_by("email_address"))
u = select(users.c.name):union_all(select(users.c.name))
  :order_by(users.c.name):limit(3)
run("3.1.16 union_all", conn, u)

-- scalar selects
stmt = select(func.count(addresses.c.id))
  :where(users.c.id:eq(addresses.c.user_id)):scalar_subquery()
run("3.1.16 scalar", conn, select(users.c.name, stmt):order_by(users.c.id))
stmt = select(func.count(addresses.c.id))
  :where(users.c.id:eq(addresses.c.user_id)):label("address_count")
run("3.1.16 scalar label", conn,
    select(users.c.name, stmt):order_by(users.c.id))

-- correlated subqueries
stmt = select(addresses.c.user_id)
  :where(addresses.c.user_id:eq(users.c.id))
  :where(addresses.c.email_address:eq("jack@yahoo.com"))
local enclosing = select(users.c.name)
  :where(users.c.id:eq(stmt:scalar_subquery()))
run("3.1.16 correlated", conn, enclosing)
stmt = select(users.c.id):where(users.c.id:eq(addresses.c.user_id))
  :where(users.c.name:eq("jack")):correlate(addresses)
enclosing = select(users.c.name, addresses.c.email_address)
  :select_from(users:join(addresses))
  :where(users.c.id:eq(stmt:scalar_subquery()))
run("3.1.16 correlate", conn, enclosing)
stmt = select(users.c.id):where(users.c.name:eq("wendy")):correlate(nil)
enclosing = select(users.c.name):where(users.c.id:eq(stmt:scalar_subquery()))
run("3.1.16 correlate None", conn, enclosing)
stmt = select(users.c.id):where(users.c.id:eq(addresses.c.user_id))
  :where(users.c.name:eq("jack")):correlate_except(users)
enclosing = select(users.c.name, addresses.c.email_address)
  :select_from(users:join(addresses))
  :where(users.c.id:eq(stmt:scalar_subquery()))
run("3.1.16 correlate_except", conn, enclosing)

-- ordering, grouping, limiting, offset
run("3.1.16 order_by", conn, select(users.c.name):order_by(users.c.name))
run("3.1.16 order_by desc", conn,
    select(users.c.name):order_by(users.c.name:desc()))
stmt = select(users.c.name, func.count(addresses.c.id))
  :select_from(users:join(addresses)):group_by(users.c.name)
run("3.1.16 group_by", conn, stmt)
stmt = select(users.c.name, func.count(addresses.c.id))
  :select_from(users:join(addresses)):group_by(users.c.name)
  :having(func.length(users.c.name):gt(4))
run("3.1.16 having", conn, stmt)
s = select(addresses.c.user_id, func.count(addresses.c.id))
  :group_by(addresses.c.user_id):having(func.count(addresses.c.id):gt(1))
run("3.1.16 having count", conn, s)
stmt = select(users.c.name)
  :where(addresses.c.email_address:contains(users.c.name))
  :order_by(desc(users.c.name)):distinct()
run("3.1.16 distinct", conn, stmt)
stmt = select(users.c.name, addresses.c.email_address)
  :select_from(users:join(addresses)):limit(1):offset(1)
run("3.1.16 limit offset", conn, stmt)

-- 3.1.17 Inserts, Updates and Deletes
show_sql("3.1.17 insert func",
         users:insert():values{id = 12, name = func.upper("jack")})
show_sql("3.1.17 insert concat", addresses:insert():values{
  email_address = bindparam("name") .. "@" .. bindparam("host")})
-- (the docs' upper('jack') would be 'jack' again where names compare
-- without case, as MariaDB's do)
result = conn:execute(users:insert():values{name = func.upper("jill")},
                      {fullname = "Jill Jones"})
show("3.1.17 inserted_primary_key", result.inserted_primary_key)
stmt = users:insert():values{name = bindparam("_name") .. " .. name"}
show_sql("3.1.17 insert bindparam", stmt)
result = conn:execute(stmt, {
  {id = 6, _name = "name1"},
  {id = 7, _name = "name2"},
  {id = 8, _name = "name3"},
})
show("3.1.17 insert many rowcount", result.rowcount)
run("3.1.17 after inserts", conn, select(users):order_by(users.c.id))
stmt = users:update():where(users.c.name:eq("jack")):values{name = "ed"}
show_sql("3.1.17 update", stmt)
result = conn:execute(stmt)
show("3.1.17 update rowcount", result.rowcount)
stmt = users:update():where(users.c.name:eq(bindparam("oldname")))
  :values{name = bindparam("newname")}
show_sql("3.1.17 update bindparam", stmt)
result = conn:execute(stmt, {oldname = "jack", newname = "ed"})
show("3.1.17 update rowcount", result.rowcount)
result = conn:execute(stmt, {
  {oldname = "jack", newname = "ed"},
  {oldname = "wendy", newname = "mary"},
  {oldname = "jim", newname = "jake"},
})
show("3.1.17 update many rowcount", result.rowcount)
stmt = users:update():values{fullname = "Fullname: " .. users.c.name}
show_sql("3.1.17 update expression", stmt)
result = conn:execute(stmt)
show("3.1.17 update expression rowcount", result.rowcount)
run("3.1.17 after updates", conn, select(users):order_by(users.c.id))

-- correlated updates
stmt = select(addresses.c.email_address)
  :where(addresses.c.user_id:eq(users.c.id)):limit(1)
local upd = users:update():values{fullname = stmt:scalar_subquery()}
show_sql("3.1.17 correlated update", upd)
result = conn:execute(upd)
show("3.1.17 correlated update rowcount", result.rowcount)
run("3.1.17 after correlated update", conn,
    select(users):order_by(users.c.id))

-- deletes
result = conn:execute(addresses:delete())
show_sql("3.1.18 delete all", addresses:delete())
show("3.1.18 delete all rowcount", result.rowcount)
stmt = users:delete():where(users.c.name:gt("m"))
show_sql("3.1.18 delete where", stmt)
result = conn:execute(stmt)
show("3.1.18 delete rowcount", result.rowcount)
run("3.1.18 left", conn, select(users):order_by(users.c.id))
conn:commit()
conn:close()
