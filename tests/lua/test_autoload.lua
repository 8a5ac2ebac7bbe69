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

T.done()
