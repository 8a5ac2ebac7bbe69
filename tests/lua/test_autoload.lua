-- Table(name, md, {autoload_with = engine}) and metadata:reflect(engine):
-- tables built from what the database reports, usable in statements and
-- in DDL, on every database.
local T = require "testing"

local function ddl(db)
  local serial = db.name == "postgresql" and "SERIAL" or "INTEGER"
  local auto = db.name == "mysql" and " AUTO_INCREMENT" or ""
  return {
    "DROP TABLE IF EXISTS rt_al_address",
    "DROP TABLE IF EXISTS rt_al_user",
    "CREATE TABLE rt_al_user (id " .. serial .. " NOT NULL" .. auto ..
      ", name VARCHAR(30) NOT NULL, nick VARCHAR(20) DEFAULT 'x', " ..
      "PRIMARY KEY (id), CONSTRAINT uq_rt_al_user_name UNIQUE (name))",
    "CREATE TABLE rt_al_address (id INTEGER NOT NULL PRIMARY KEY, " ..
      "user_id INTEGER NOT NULL, email VARCHAR(50), " ..
      "CONSTRAINT fk_rt_al_user FOREIGN KEY (user_id) REFERENCES " ..
      "rt_al_user (id) ON DELETE CASCADE)",
    "CREATE INDEX ix_rt_al_email ON rt_al_address (email)",
  }
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "autoload_with builds the table and its referred tables",
         function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    for _, s in ipairs(ddl(db)) do c:exec_driver_sql(s) end
    c:commit()
    local md = MetaData()
    local addr = Table("rt_al_address", md, {autoload_with = e})
    T.eq(addr.name, "rt_al_address")
    local names = {}
    for _, col in ipairs(addr.columns) do names[#names + 1] = col.name end
    T.eq(names, {"id", "user_id", "email"})
    T.ok(md.tables.rt_al_user ~= nil, "the referred table is reflected too")
    local user = md.tables.rt_al_user
    T.eq(tostring(user.c.name.type), "VARCHAR(30)")
    -- statements over reflected tables, executed
    c:execute(insert(user), {name = "jack"})
    local uid = c:execute(select(user.c.id):where(user.c.name:eq("jack")))
                 :scalar()
    c:execute(insert(addr), {id = 1, user_id = uid, email = "j@x"})
    local row = c:execute(select(user.c.name, user.c.nick, addr.c.email)
                            :join_from(user, addr)):one()
    T.eq(row.name, "jack")
    T.eq(row.nick, "x") -- the server default
    T.eq(row.email, "j@x")
    c:rollback()
    -- the join was inferred from the reflected foreign key
    T.match(tostring(select(addr.c.email):join_from(user, addr)),
            "JOIN rt_al_address ON rt_al_user.id = rt_al_address.user_id")
    -- and CREATE TABLE from the reflection names the key and the index
    local create = tostring(CreateTable(addr):compile(e))
    T.match(create, "FOREIGN KEY%(user_id%) REFERENCES rt_al_user %(id%)")
    T.match(create, "ON DELETE CASCADE")
    -- MySQL's unique key is both an index and a constraint: SQLAlchemy
    -- keeps the unique Index only
    local ucreate = tostring(CreateTable(user):compile(e))
    if db.name == "mysql" then
      T.eq(ucreate:find("UNIQUE", 1, true), nil)
      T.eq(#user:_indexes(), 1)
    else
      T.match(ucreate, "CONSTRAINT uq_rt_al_user_name UNIQUE %(name%)")
      T.eq(#user:_indexes(), 0)
    end
    T.raises("NoSuchTableError", Table, "rt_al_nothing", MetaData(),
             {autoload_with = e})
  end)

  T.test(n .. "metadata:reflect loads every table, or only some", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    for _, s in ipairs(ddl(db)) do c:exec_driver_sql(s) end
    c:commit()
    local md = MetaData()
    md:reflect(e, {only = {"rt_al_user"}})
    T.ok(md.tables.rt_al_user ~= nil)
    T.eq(md.tables.rt_al_address, nil)
    -- every table: on the servers other tests create and drop tables in
    -- the same database at the same time, so only SQLite's private one
    if db.name == "sqlite" then
      local all = MetaData()
      all:reflect(e)
      T.ok(all.tables.rt_al_address ~= nil)
      T.ok(all.tables.rt_al_user ~= nil)
    end
    local err = T.raises("InvalidRequestError", function()
      MetaData():reflect(e, {only = {"rt_al_missing"}})
    end)
    T.match(err.message, "rt_al_missing")
    c:exec_driver_sql("DROP TABLE rt_al_address")
    c:exec_driver_sql("DROP TABLE rt_al_user")
    c:commit()
  end)
end

-- Columns given with autoload_with, and a table the MetaData already has:
-- the expectations are SQLAlchemy 1.4's for the same calls.
local function names_of(t)
  local names = {}
  for _, col in ipairs(t.columns) do names[#names + 1] = col.name end
  return names
end

local already = "Table 'rt_ext_t' is already defined for this MetaData " ..
  "instance.  Specify 'extend_existing=True' to redefine options and " ..
  "columns on an existing Table object."

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local function fresh()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_ext_t")
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_ext_p")
    c:exec_driver_sql("CREATE TABLE rt_ext_p (id INTEGER PRIMARY KEY)")
    c:exec_driver_sql("CREATE TABLE rt_ext_t (id INTEGER PRIMARY KEY, " ..
      "name VARCHAR(20), x INTEGER, pid INTEGER, CONSTRAINT fk_rt_ext " ..
      "FOREIGN KEY (pid) REFERENCES rt_ext_p (id))")
    c:commit()
    return e
  end
  local function clean(e)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE rt_ext_t")
    c:exec_driver_sql("DROP TABLE rt_ext_p")
    c:commit()
    e:dispose()
  end

  T.test(n .. "a Column given with autoload_with keeps the reflected place",
         function()
    local e = fresh()
    local md = MetaData()
    local t = Table("rt_ext_t", md, Column("name", String(50)),
                    Column("extra", Integer), {autoload_with = e})
    T.eq(names_of(t), {"id", "name", "x", "pid", "extra"})
    T.eq(tostring(t.c.name.type), "VARCHAR(50)")
    T.eq(#t.foreign_keys, 1)
    -- replacing the key's column drops the reflected key, as SQLAlchemy
    -- does; the referred table is reflected all the same
    md = MetaData()
    t = Table("rt_ext_t", md, Column("pid", Integer), {autoload_with = e})
    T.eq(names_of(t), {"id", "name", "x", "pid"})
    T.eq(#t.foreign_keys, 0)
    T.ok(md.tables.rt_ext_p ~= nil)
    -- a primary-key column stays one
    local err = T.raises("ArgumentError", Table, "rt_ext_t", MetaData(),
                         Column("id", Integer), {autoload_with = e})
    T.eq(err.message, "Trying to redefine primary-key column 'id' as a " ..
                      "non-primary-key column on table 'rt_ext_t'")
    t = Table("rt_ext_t", MetaData(),
              Column("x", Integer, {primary_key = true}), {autoload_with = e})
    local pk = {}
    for _, col in ipairs(t.primary_key.columns) do pk[#pk + 1] = col.name end
    T.eq(pk, {"id", "x"})
    clean(e)
  end)

  T.test(n .. "include_columns, resolve_fks and the primary key's name",
         function()
    local e = fresh()
    local md = MetaData()
    local t = Table("rt_ext_t", md, {autoload_with = e,
                                     include_columns = {"id", "x"}})
    T.eq(names_of(t), {"id", "x"})
    T.eq(#t.foreign_keys, 0) -- its column is left out
    T.eq(md.tables.rt_ext_p, nil)
    local md2 = MetaData()
    local t2 = Table("rt_ext_t", md2, {autoload_with = e, resolve_fks = false})
    T.eq(#t2.foreign_keys, 1)
    T.eq(md2.tables.rt_ext_p, nil)
    -- its foreign key's table is not there: no DDL for it, as SQLAlchemy
    T.raises("NoReferencedTableError", function()
      return CreateTable(t2):compile(e)
    end)
    -- SQLAlchemy names the primary key as reflected (only PostgreSQL
    -- names one here)
    local create = tostring(CreateTable(t):compile(e))
    if db.name == "postgresql" then
      T.match(create, "CONSTRAINT rt_ext_t_pkey PRIMARY KEY %(id%)")
    else
      T.match(create, "\n\tPRIMARY KEY %(id%)")
    end
    clean(e)
  end)

  T.test(n .. "autoload_with on a table the MetaData already has", function()
    local e = fresh()
    local md = MetaData()
    local t = Table("rt_ext_t", md, {autoload_with = e})
    local err = T.raises("InvalidRequestError", Table, "rt_ext_t", md,
                         Column("x", Integer), {autoload_with = e})
    T.eq(err.message, already)
    T.ok(Table("rt_ext_t", md, {autoload_with = e}) == t)
    T.ok(Table("rt_ext_t", md, Column("zz", Integer),
               {autoload_with = e, keep_existing = true}) == t)
    T.eq(names_of(t), {"id", "name", "x", "pid"})
    local old_x = t.c.x
    local t2 = Table("rt_ext_t", md, Column("x", String(5)),
                     Column("new", Integer),
                     {autoload_with = e, extend_existing = true})
    T.ok(t2 == t)
    T.eq(names_of(t), {"id", "name", "x", "pid", "new"})
    T.eq(tostring(t.c.x.type), "VARCHAR(5)")
    T.eq(tostring(old_x.type), "INTEGER") -- the replaced Column lives on
    err = T.raises("ArgumentError", Table, "rt_ext_t", md,
                   {autoload_with = e, extend_existing = true,
                    keep_existing = true})
    T.eq(err.message, "keep_existing and extend_existing are mutually " ..
                      "exclusive.")
    -- the extended table works in statements
    local c <close> = e:connect()
    c:execute(insert(t):values{id = 1, name = "a", x = "7"})
    T.eq(tostring(c:execute(select(t.c.x):where(t.c.id:eq(1))):scalar()), "7")
    c:rollback()
    clean(e)
  end)
end

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": reflected CHECK constraints come with the table",
         function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_al_ck")
    c:exec_driver_sql("CREATE TABLE rt_al_ck (\n  id INTEGER PRIMARY KEY," ..
                      "\n  x INTEGER,\n  CONSTRAINT ck_rt_al_x CHECK (x > 0)" ..
                      "\n)")
    c:commit()
    local t = Table("rt_al_ck", MetaData(), {autoload_with = e})
    local create = tostring(CreateTable(t):compile(e))
    local expr = db.name == "mysql" and "`x` > 0" or "x > 0"
    T.ok(create:find("CONSTRAINT ck_rt_al_x CHECK (" .. expr .. ")", 1, true),
         create)
    c:exec_driver_sql("DROP TABLE rt_al_ck")
    c:commit()
  end)
end

T.test("extend_existing and keep_existing without reflection", function()
  local md = MetaData()
  local t = Table("rt_ext_t", md, Column("a", Integer, {primary_key = true}),
                  Column("b", Integer))
  local err = T.raises("InvalidRequestError", Table, "rt_ext_t", md,
                       Column("c", Integer))
  T.eq(err.message, already)
  T.ok(Table("rt_ext_t", md) == t)
  T.ok(Table("rt_ext_t", md, Column("c", Integer), {keep_existing = true}) == t)
  T.eq(names_of(t), {"a", "b"})
  T.ok(Table("rt_ext_t", md, Column("b", String(5)), Column("c", Integer),
             {extend_existing = true}) == t)
  T.eq(tostring(CreateTable(t)), "\nCREATE TABLE rt_ext_t (\n" ..
       "\ta INTEGER NOT NULL, \n\tb VARCHAR(5), \n\tc INTEGER, \n" ..
       "\tPRIMARY KEY (a)\n)\n\n")
  err = T.raises("ArgumentError", Table, "rt_ext_t", md, Column("b", Integer),
                 Column("a", Integer), {extend_existing = true})
  T.eq(err.message, "Trying to redefine primary-key column 'a' as a " ..
                    "non-primary-key column on table 'rt_ext_t'")
  T.raises("ArgumentError", Table, "rt_ext_t", md,
           {extend_existing = true, keep_existing = true})
  -- a table in a schema is named with it
  Table("rt_ext_s", md, Column("a", Integer), {schema = "s"})
  err = T.raises("InvalidRequestError", Table, "rt_ext_s", md,
                 Column("b", Integer), {schema = "s"})
  T.eq(err.message, (already:gsub("'rt_ext_t'", "'s.rt_ext_s'")))
end)

T.test("sqlite: metadata:reflect's only, views and messages", function()
  -- SQLAlchemy 1.4 on the same schema
  local e = create_engine("sqlite://")
  local c <close> = e:connect()
  c:exec_driver_sql("CREATE TABLE a (id INTEGER PRIMARY KEY)")
  c:exec_driver_sql("CREATE TABLE b (id INTEGER PRIMARY KEY, " ..
                    "a_id INTEGER REFERENCES a(id))")
  c:exec_driver_sql("CREATE VIEW v AS SELECT * FROM a")
  local function names(md)
    local out = {}
    for n in pairs(md.tables) do out[#out + 1] = n end
    table.sort(out)
    return out
  end
  local md = MetaData()
  md:reflect(c, {only = {"b"}})
  T.eq(names(md), {"a", "b"}) -- the referred table comes along
  md = MetaData()
  md:reflect(c, {views = true})
  T.eq(names(md), {"a", "b", "v"})
  md = MetaData()
  md:reflect(c, {only = function(name, meta)
    T.ok(meta == md)
    return name:sub(1, 1) == "a"
  end})
  T.eq(names(md), {"a"})
  md = MetaData()
  md:reflect(c, {only = {"b"}, resolve_fks = false})
  T.eq(names(md), {"b"})
  local err = T.raises("InvalidRequestError", function()
    MetaData():reflect(e, {only = {"zz", "a", "yy"}})
  end)
  T.eq(err.message, "Could not reflect: requested table(s) not available " ..
                    "in Engine(sqlite://): (zz, yy)")
  err = T.raises("InvalidRequestError", function()
    MetaData():reflect(e, {only = {"v"}})
  end)
  T.eq(err.message, "Could not reflect: requested table(s) not available " ..
                    "in Engine(sqlite://): (v)")
  -- a table the MetaData has is kept, unless extend_existing
  md = MetaData()
  local a = Table("a", md, Column("id", Integer, {primary_key = true}),
                  Column("extra", String(5)))
  md:reflect(c)
  T.ok(md.tables.a == a)
  T.eq(names_of(a), {"id", "extra"})
  md:reflect(c, {extend_existing = true})
  T.ok(md.tables.a == a)
  T.eq(names_of(a), {"id", "extra"})
  T.eq(tostring(a.c.id.type), "INTEGER")
end)

T.done()
