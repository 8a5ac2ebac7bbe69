-- scenarios.lua -- retort's side of the benchmarks in ../shared/bench:
-- the same schema, data and work as sqlalchemy_ref.py, in retort's Lua API.
--
--   retort scripts/bench/scenarios.lua SCENARIO [N]
--   retort scripts/bench/scenarios.lua list
--
-- Prints "SCENARIO N SECONDS" (compile scenarios add "US/iter"), or
-- "SCENARIO N unavailable: REASON" when the API it needs is not built yet.
-- Only the work is timed; schema, pre-inserted data and the checks that
-- follow are outside the timed region.

local clock = sa._monotonic or os.clock
local CHUNK = 1000
local CHILDREN_PER_PARENT = 10
local PK_LOOKUP_MIN_ROWS = 10000

local function need(...)
  for _, name in ipairs({...}) do
    local mod, key = name:match("^(%w+)%.(.+)$")
    local t = mod == "orm" and orm or sa
    if t[key] == nil then
      error({unavailable = "needs " .. name}, 0)
    end
  end
end

local function check(cond, msg)
  if not cond then error("check failed: " .. msg, 2) end
end

-- the schema of sqlalchemy_ref.py, as Core tables
local function core_schema()
  need("sa.MetaData", "sa.Table", "sa.Column", "sa.insert", "sa.select")
  local md = MetaData()
  local customer = Table("customer", md,
    Column("id", Integer, {primary_key = true}),
    Column("name", String(255)),
    Column("description", String(255)))
  local parent = Table("parent", md,
    Column("id", Integer, {primary_key = true}),
    Column("name", String(255)))
  local child = Table("child", md,
    Column("id", Integer, {primary_key = true}),
    Column("parent_id", Integer, ForeignKey("parent.id"),
           {nullable = false, index = true}),
    Column("name", String(255)))
  return md, customer, parent, child
end

local function customers(start, stop, with_id)
  local rows = {}
  for i = start, stop - 1 do
    rows[#rows + 1] = {id = with_id and (i + 1) or nil,
                       name = "customer name " .. i,
                       description = "customer description " .. i}
  end
  return rows
end

local function preinsert_customers(engine, customer, n)
  engine:begin(function(conn)
    for start = 0, n - 1, 10000 do
      conn:execute(insert(customer), customers(start, math.min(start + 10000, n)))
    end
  end)
end

local function count(engine, tbl)
  local c <close> = engine:connect()
  return c:execute(select(func.count()):select_from(tbl)):scalar_one()
end

local S = {}

S.core_insert = {100000, function(n)
  local md, customer = core_schema()
  local engine = create_engine("sqlite://")
  md:create_all(engine)
  local ins = insert(customer)
  local t0 = clock()
  engine:begin(function(conn)
    for start = 0, n - 1, CHUNK do
      conn:execute(ins, customers(start, math.min(start + CHUNK, n)))
    end
  end)
  local t1 = clock()
  check(count(engine, customer) == n, "core_insert row count")
  return t1 - t0
end}

S.core_fetchall = {100000, function(n)
  local md, customer = core_schema()
  local engine = create_engine("sqlite://")
  md:create_all(engine)
  preinsert_customers(engine, customer, n)
  local stmt = select(customer)
  local conn <close> = engine:connect()
  local t0 = clock()
  local rows = conn:execute(stmt):fetchall()
  for _, r in ipairs(rows) do local _ = r.id, r.name, r.description end
  local t1 = clock()
  check(#rows == n, "core_fetchall row count")
  return t1 - t0
end}

-- the same ids as raw_sqlite.c would not matter: any n distinct ids do
local function random_ids(rows, n)
  local ids = {}
  for i = 1, rows do ids[i] = i end
  local seed = 12345
  for i = 1, n do
    seed = (seed * 6364136223846793005 + 1442695040888963407)
    local j = i + ((seed >> 33) % (rows - i + 1))
    ids[i], ids[j] = ids[j], ids[i]
  end
  return ids
end

S.core_get_by_pk = {10000, function(n)
  local md, customer = core_schema()
  local engine = create_engine("sqlite://")
  md:create_all(engine)
  local rows = math.max(n, PK_LOOKUP_MIN_ROWS)
  preinsert_customers(engine, customer, rows)
  local ids = random_ids(rows, n)
  local conn <close> = engine:connect()
  local t0 = clock()
  -- "statement reused" (issue 4): built once with a bound parameter and
  -- executed with each id, as raw_sqlite.c reuses one prepared statement
  local stmt = select(customer):where(customer.c.id:eq(bindparam("id")))
  for i = 1, n do
    local row = conn:execute(stmt, {id = ids[i]}):one()
    local _ = row.name
  end
  local t1 = clock()
  return t1 - t0
end}

local function compile_stmt(parent, child)
  local p, c = parent, child
  return select(p.c.id, p.c.name, c.c.id:label("child_id"),
                c.c.name:label("child_name"))
    :select_from(p:join(c, p.c.id:eq(c.c.parent_id)))
    :where(p.c.name:like("parent%"), c.c.id:gt(100), c.c.name:ne("child 0.0"))
    :order_by(p.c.name, c.c.id:desc())
    :limit(20)
end

S.compile_select = {10000, function(n)
  local _, _, parent, child = core_schema()
  local sql = compile_stmt(parent, child):compile("sqlite").sql
  check(sql:find("JOIN child") and sql:find("LIMIT"), "compile_select output")
  local s
  local t0 = clock()
  for _ = 1, n do s = compile_stmt(parent, child):compile("sqlite").sql end
  local t1 = clock()
  check(s == sql, "compile_select stable output")
  return t1 - t0
end}

S.compile_only = {10000, function(n)
  local _, _, parent, child = core_schema()
  local stmt = compile_stmt(parent, child)
  local sql = stmt:compile("sqlite").sql
  local s
  local t0 = clock()
  for _ = 1, n do s = stmt:compile("sqlite").sql end
  local t1 = clock()
  check(s == sql, "compile_only stable output")
  return t1 - t0
end}

-- Core streaming: peak RSS is what matters (the runner measures it)
-- The streaming scenarios keep their data in a file: an in-memory database
-- of 1M rows is itself ~60 MB of this process, and what is measured is
-- how much memory streaming the rows takes.
local function file_url()
  local path = os.tmpname()
  os.remove(path)
  return "sqlite:///" .. path, path
end

S.core_stream = {1000000, function(n)
  local url, path = file_url()
  local engine = create_engine(url)
  local conn <close> = engine:connect()
  conn:exec_driver_sql("CREATE TABLE customer (id INTEGER PRIMARY KEY, " ..
                       "name VARCHAR(255), description VARCHAR(255))")
  local rows = {}
  for start = 0, n - 1, 10000 do
    for i = start, math.min(start + 10000, n) - 1 do
      rows[i - start + 1] = {"customer name " .. i, "customer description " .. i}
    end
    for k = math.min(start + 10000, n) - start + 1, #rows do rows[k] = nil end
    conn:exec_driver_sql("INSERT INTO customer (name, description) VALUES (?, ?)",
                         rows)
  end
  conn:commit()
  rows = nil
  collectgarbage()
  conn:execution_options{yield_per = 1000}
  local seen = 0
  local t0 = clock()
  for part in conn:exec_driver_sql("SELECT id, name, description FROM customer")
                 :partitions() do
    for _, r in ipairs(part) do
      local _ = r.id, r.name, r.description
      seen = seen + 1
    end
  end
  local t1 = clock()
  check(seen == n, "core_stream row count")
  os.remove(path)
  return t1 - t0
end}

-- ORM scenarios (issue: ORM session); they report unavailable until built
local function orm_schema(url)
  need("orm.declarative_base", "orm.Session", "orm.relationship")
  local Base = orm.declarative_base()
  local Customer = Base:class "Customer" {
    __tablename__ = "customer",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(255)),
    description = Column(String(255)),
  }
  local Parent = Base:class "Parent" {
    __tablename__ = "parent",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(255)),
    children = relationship("Child"),
  }
  local Child = Base:class "Child" {
    __tablename__ = "child",
    id = Column(Integer, {primary_key = true}),
    parent_id = Column(Integer, ForeignKey("parent.id"),
                       {nullable = false, index = true}),
    name = Column(String(255)),
  }
  local engine = create_engine(url or "sqlite://")
  Base.metadata:create_all(engine)
  orm.configure_mappers()
  return engine, Customer, Parent, Child
end

local function orm_insert(n, pk_given)
  local engine, Customer = orm_schema()
  local session = orm.Session(engine)
  local t0 = clock()
  for start = 0, n - 1, CHUNK do
    local objs = {}
    for i = start, math.min(start + CHUNK, n) - 1 do
      objs[#objs + 1] = Customer{id = pk_given and (i + 1) or nil,
                                 name = "customer name " .. i,
                                 description = "customer description " .. i}
    end
    session:add_all(objs)
    session:flush()
  end
  session:commit()
  local t1 = clock()
  session:close()
  check(count(engine, Customer.__table__) == n, "orm_insert row count")
  return t1 - t0
end

S.orm_insert = {100000, function(n) return orm_insert(n, false) end}
S.orm_insert_pk_given = {100000, function(n) return orm_insert(n, true) end}

S.orm_load_full = {100000, function(n)
  local engine, Customer = orm_schema()
  preinsert_customers(engine, Customer.__table__, n)
  local session = orm.Session(engine)
  local t0 = clock()
  local objs = session:execute(select(Customer)):scalars():all()
  for _, o in ipairs(objs) do local _ = o.name end
  local t1 = clock()
  check(#objs == n, "orm_load_full row count")
  session:close()
  return t1 - t0
end}

S.orm_load_columns = {100000, function(n)
  local engine, Customer = orm_schema()
  preinsert_customers(engine, Customer.__table__, n)
  local session = orm.Session(engine)
  local t0 = clock()
  local rows = session:execute(select(Customer.id, Customer.name,
                                      Customer.description)):all()
  for _, r in ipairs(rows) do local _ = r.id, r.name, r.description end
  local t1 = clock()
  check(#rows == n, "orm_load_columns row count")
  session:close()
  return t1 - t0
end}

S.orm_get_by_pk = {10000, function(n)
  local engine, Customer = orm_schema()
  local rows = math.max(n, PK_LOOKUP_MIN_ROWS)
  preinsert_customers(engine, Customer.__table__, rows)
  local ids = random_ids(rows, n)
  local t0 = clock()
  for i = 1, n do
    local session <close> = orm.Session(engine)
    local obj = session:execute(select(Customer):where(Customer.id:eq(ids[i])))
                       :scalars():one()
    local _ = obj.name
  end
  local t1 = clock()
  return t1 - t0
end}

S.orm_update_dirty = {100000, function(n)
  local engine, Customer = orm_schema()
  preinsert_customers(engine, Customer.__table__, n)
  local session = orm.Session(engine)
  local objs = session:execute(select(Customer)):scalars():all()
  check(#objs == n, "orm_update_dirty load count")
  local t0 = clock()
  for _, o in ipairs(objs) do
    o.description = "updated description " .. o.id
  end
  session:commit()
  local t1 = clock()
  session:close()
  return t1 - t0
end}

S.orm_stream = {1000000, function(n)
  local url, path = file_url()
  local engine, Customer = orm_schema(url)
  preinsert_customers(engine, Customer.__table__, n)
  collectgarbage()
  local session = orm.Session(engine)
  local seen = 0
  local t0 = clock()
  local result = session:execute(select(Customer):execution_options{
    yield_per = 1000})
  for part in result:scalars():partitions() do
    for _, o in ipairs(part) do
      local _ = o.name
      seen = seen + 1
    end
  end
  local t1 = clock()
  check(seen == n, "orm_stream row count")
  os.remove(path)
  return t1 - t0
end}

local function rel_load(n, option, unique)
  local engine, _, Parent, Child = orm_schema()
  engine:begin(function(conn)
    local ps, cs = {}, {}
    for p = 1, n do
      ps[#ps + 1] = {id = p, name = "parent " .. p}
      for k = 0, CHILDREN_PER_PARENT - 1 do
        cs[#cs + 1] = {parent_id = p, name = "child " .. p .. "." .. k}
      end
    end
    conn:execute(insert(Parent.__table__), ps)
    conn:execute(insert(Child.__table__), cs)
  end)
  local session = orm.Session(engine)
  local stmt = select(Parent)
  if option then stmt = stmt:options(option(Parent.children)) end
  local t0 = clock()
  local result = session:execute(stmt)
  if unique then result = result:unique() end
  local parents = result:scalars():all()
  local touched = 0
  for _, p in ipairs(parents) do
    for _, c in ipairs(p.children) do
      local _ = c.name
      touched = touched + 1
    end
  end
  local t1 = clock()
  check(#parents == n, "rel parents count")
  check(touched == n * CHILDREN_PER_PARENT, "rel children count")
  session:close()
  return t1 - t0
end

S.rel_selectin = {1000, function(n)
  need("orm.selectinload")
  return rel_load(n, orm.selectinload)
end}
S.rel_joined = {1000, function(n)
  need("orm.joinedload")
  return rel_load(n, orm.joinedload, true)
end}
S.rel_lazy = {1000, function(n) return rel_load(n, nil) end}

-- main
local name, n = arg[1], tonumber(arg[2])
if name == nil or name == "list" then
  local names = {}
  for k in pairs(S) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do print(k, S[k][1]) end
  return
end
local s = S[name]
if not s then
  io.stderr:write("unknown scenario ", name, "\n")
  os.exit(2)
end
n = n and math.tointeger(n) or s[1]
local ok, secs = pcall(s[2], n)
if not ok then
  if type(secs) == "table" and secs.unavailable then
    print(string.format("%s %d unavailable: %s", name, n, secs.unavailable))
    return
  end
  io.stderr:write(name, ": ", tostring(secs), "\n")
  os.exit(1)
end
if name:match("^compile_") then
  print(string.format("%s %d %.6f %.2fus/iter", name, n, secs, secs / n * 1e6))
else
  print(string.format("%s %d %.6f", name, n, secs))
end
