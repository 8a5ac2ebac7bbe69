-- A Core round trip for alloc_fail: schema, DML in one transaction,
-- reflection.  run() may fail anywhere; check() then proves the database
-- holds all of the committed work or none of it.  In-memory SQLite, or the
-- database ALLOC_FAIL_URL names (its tables are dropped before each run).
local url = os.getenv("ALLOC_FAIL_URL") or "sqlite://"
local engine

if not url:match("^sqlite") then
  local e = create_engine(url)
  local c <close> = e:connect()
  c:exec_driver_sql("DROP TABLE IF EXISTS addresses")
  c:exec_driver_sql("DROP TABLE IF EXISTS users")
  c:commit()
  c:close()
  e:dispose()
end

local function run()
  engine = create_engine(url)
  local md = MetaData()
  local users = Table("users", md,
    Column("id", Integer, {primary_key = true}),
    Column("name", String(50), {nullable = false}),
    Column("data", JSON))
  local addresses = Table("addresses", md,
    Column("id", Integer, {primary_key = true}),
    Column("user_id", ForeignKey("users.id")),
    Column("email", String(100), {index = true}))
  md:create_all(engine)
  do
    local conn <close> = engine:connect()
    conn:execute(insert(users), {{id = 1, name = "jack", data = {a = 1}},
                                 {id = 2, name = "wendy", data = {1, 2}}})
    conn:execute(insert(addresses):values{id = 1, user_id = 1, email = "j@x"})
    conn:execute(update(users):where(users.c.id:eq(2)):values{name = "w2"})
    conn:execute(delete(addresses):where(addresses.c.id:eq(1)))
    conn:execute(insert(addresses), {id = 2, user_id = 2, email = "w@x"})
    local rows = conn:execute(
      select(users.c.name, addresses.c.email, users.c.data)
        :join_from(users, addresses)
        :where(users.c.name:like("w%"))
        :order_by(users.c.id)):all()
    assert(#rows == 1 and rows[1].email == "w@x" and rows[1].data[2] == 2)
    local names = conn:execute(text("SELECT name FROM users WHERE id > :id"),
                               {id = 0}):scalars():all()
    assert(#names == 2)
    -- one statement run again: its second execution makes a plan, the
    -- third runs from it
    local byid = select(users.c.name):where(users.c.id:eq(bindparam("uid")))
    for _ = 1, 3 do
      assert(conn:execute(byid, {uid = 1}):scalar_one() == "jack")
    end
    for m in conn:execute(select(users):where(users.c.id:in_{1, 2}))
        :mappings() do
      assert(m.name)
    end
    local sp = conn:begin_nested()
    conn:execute(text("UPDATE users SET name = :name WHERE id = :id"),
                 {{name = "x", id = 1}, {name = "y", id = 2}})
    sp:rollback()
    assert(conn:execute(select(users.c.name):where(users.c.id:eq(1)))
      :scalar_one() == "jack")
    conn:commit()
  end
  local insp = inspect(engine)
  insp:get_table_names()
  insp:get_columns("users")
  insp:get_pk_constraint("users")
  insp:get_foreign_keys("addresses")
  insp:get_indexes("addresses")
  local t = Table("addresses", MetaData(), {autoload_with = engine})
  assert(#t.columns == 3)
end

local function check()
  if engine == nil then return end
  local conn <close> = engine:connect()
  local tables = {}
  for _, name in ipairs(inspect(engine):get_table_names()) do
    tables[name] = true
  end
  if not tables.users then
    assert(not tables.addresses, "addresses without users")
    return
  end
  if not tables.addresses then
    -- MySQL commits each CREATE TABLE by itself, and SQLite runs DDL
    -- before any write outside a transaction (the BEGIN waits for the
    -- first DML, as pysqlite's does), so create_all can stop half-way
    -- there (as in SQLAlchemy); no rows can have been written
    assert(url:match("^mysql") or url:match("^sqlite"),
           "users without addresses")
    assert(conn:exec_driver_sql("SELECT count(*) FROM users"):scalar() == 0,
           "users rows without the addresses table")
    return
  end
  local users = conn:exec_driver_sql(
    "SELECT id, name FROM users ORDER BY id"):all()
  local addrs = conn:exec_driver_sql(
    "SELECT id, user_id, email FROM addresses ORDER BY id"):all()
  if #users == 0 then
    assert(#addrs == 0, "addresses without users")
    return
  end
  assert(#users == 2 and users[1].name == "jack" and users[2].name == "w2",
         "users half-written")
  assert(#addrs == 1 and addrs[1].id == 2 and addrs[1].email == "w@x",
         "addresses half-written")
end

return run, check
