-- Values are never spliced into SQL, identifiers are always quoted, and
-- passwords never show: on every database.
local T = require "testing"

local hostile = {
  "'; DROP TABLE rt_hostile; --",
  "\"; DROP TABLE rt_hostile; --",
  "Robert'); DROP TABLE rt_hostile;--",
  "\\'; DROP TABLE rt_hostile; -- \\",
  "`; DROP TABLE rt_hostile; --",
  ":s ? $1 %s %(s)s {s} ${s}",
  "\u{fc}n\u{ef}c\u{f8}d\u{e9} \u{1F600}",
  "line\nbreak\r\n\ttab",
  ("x'"):rep(512 * 1024), -- 1 MB of quotes
}
local nul = "a\0b'\0; DROP TABLE rt_hostile; --"
local blobs = {
  "\xff\xfe\x00\x80'; DROP TABLE rt_hostile; --\x00",
  "\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc",
  ("\0\xff'"):rep(350000), -- about 1 MB
}

local ddl = {
  sqlite = "CREATE TABLE rt_hostile (id INTEGER PRIMARY KEY, s TEXT, b BLOB)",
  postgresql = "CREATE TABLE rt_hostile (id INTEGER PRIMARY KEY, s TEXT, " ..
               "b BYTEA)",
  mysql = "CREATE TABLE rt_hostile (id INTEGER PRIMARY KEY, s LONGTEXT, " ..
          "b LONGBLOB)",
}

local PASSWORD = "Sekr1tPw42xyz"

local function with_password(url, user, password)
  return (url:gsub("://[^@/]*@", "://" .. user .. ":" .. password .. "@", 1))
end

local function no_password(s, what)
  T.eq(tostring(s):find(PASSWORD, 1, true), nil, what .. " shows the password")
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "hostile values round-trip as values", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_hostile")
    c:exec_driver_sql(ddl[db.name])
    c:commit()
    local t = Table("rt_hostile", MetaData(),
                    Column("id", Integer, {primary_key = true}),
                    Column("s", Text), Column("b", LargeBinary))
    local texts = {table.unpack(hostile)}
    -- PostgreSQL text cannot hold NUL; the others can
    if db.name ~= "postgresql" then texts[#texts + 1] = nul end
    for i, s in ipairs(texts) do
      c:execute(insert(t):values{id = i, s = s})
    end
    for i, b in ipairs(blobs) do
      c:execute(insert(t), {id = 100 + i, b = b})
    end
    c:commit()
    for i, s in ipairs(texts) do
      local what = "text value " .. i
      T.eq(c:execute(select(t.c.s):where(t.c.id:eq(i))):scalar() == s, true,
           what)
      local ids = c:execute(select(t.c.id):where(t.c.s:eq(s))):scalars():all()
      T.eq(ids, {i}, what .. " found by value")
      local r = c:execute(text("SELECT id, s FROM rt_hostile WHERE s = :s"),
                          {s = s}):all()
      T.eq(#r, 1, what .. " through text()")
      T.eq(r[1].id, i, what .. " through text()")
      T.eq(r[1].s == s, true, what .. " through text()")
    end
    for i, b in ipairs(blobs) do
      local what = "blob " .. i
      T.eq(c:execute(select(t.c.b):where(t.c.id:eq(100 + i))):scalar() == b,
           true, what)
      T.eq(c:execute(select(t.c.id):where(t.c.b:eq(b))):scalars():all(),
           {100 + i}, what .. " found by value")
    end
    -- text() binds write as well as read
    for i, s in ipairs(texts) do
      c:execute(text("INSERT INTO rt_hostile (id, s) VALUES (:id, :s)"),
                {id = 200 + i, s = s})
      T.eq(c:execute(text("SELECT s FROM rt_hostile WHERE id = :id"),
                     {id = 200 + i}):scalar() == s, true, "text() insert " .. i)
    end
    c:commit()
    T.eq(c:exec_driver_sql("SELECT count(*) FROM rt_hostile"):scalar(),
         2 * #texts + #blobs, "the table is whole")
    c:exec_driver_sql("DROP TABLE rt_hostile")
    c:commit()
  end)

  T.test(n .. "identifiers with quotes, spaces and reserved words",
         function()
    local e = create_engine(db.url)
    local md = MetaData()
    local name = "we\"ird ta'ble"
    local t = Table(name, md, Column("select", Integer),
                    Column("a b", String(20)),
                    Column("from\"x'y", String(20)))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    T.ok(inspect(c):has_table(name), "created under its own name")
    c:execute(insert(t), {{select = 1, ["a b"] = "one", ["from\"x'y"] = "q"},
                          {select = 2, ["a b"] = "two", ["from\"x'y"] = "r"}})
    c:execute(update(t):where(t.c["a b"]:eq("two")):values{select = 3})
    local rows = c:execute(select(t):where(t.c.select:gt(0))
                             :order_by(t.c.select)):all()
    T.eq(#rows, 2)
    T.eq(rows[1].select, 1)
    T.eq(rows[1]["a b"], "one")
    T.eq(rows[2]["from\"x'y"], "r")
    T.eq(rows[2].select, 3)
    local cols = {}
    for _, col in ipairs(inspect(c):get_columns(name)) do
      cols[#cols + 1] = col.name
    end
    T.eq(cols, {"select", "a b", "from\"x'y"})
    c:execute(delete(t):where(t.c.select:eq(1)))
    T.eq(c:execute(select(t.c["a b"])):scalars():all(), {"two"})
    c:commit()
    c:close()
    md:drop_all(e)
    local c2 <close> = e:connect()
    T.eq(inspect(c2):has_table(name), false)
  end)

  if db.name ~= "sqlite" then
    local user = "rt_sec"
    local function setup()
      local c <close> = create_engine(db.url):connect()
      if db.name == "postgresql" then
        c:exec_driver_sql("DROP ROLE IF EXISTS rt_sec")
        c:exec_driver_sql("CREATE ROLE rt_sec LOGIN SUPERUSER PASSWORD '" ..
                          PASSWORD .. "'")
      else
        c:exec_driver_sql("DROP USER IF EXISTS 'rt_sec'@'localhost'")
        c:exec_driver_sql("CREATE USER 'rt_sec'@'localhost' IDENTIFIED BY '" ..
                          PASSWORD .. "'")
        c:exec_driver_sql("GRANT ALL ON *.* TO 'rt_sec'@'localhost'")
      end
      c:commit()
    end

    T.test(n .. "passwords never show", function()
      setup()
      local url = with_password(db.url, user, PASSWORD)
      local e = create_engine(url)
      no_password(tostring(e), "tostring(engine)")
      no_password(tostring(e.url), "tostring(engine.url)")
      T.match(tostring(e.url), ":%*%*%*@")
      local c <close> = e:connect()
      T.eq(c:exec_driver_sql("SELECT 1"):scalar(), 1)
      local err = T.raises("ProgrammingError", function()
        c:exec_driver_sql("SELEC 1")
      end)
      no_password(err.message, "a statement error")
      no_password(tostring(err), "a statement error")
      c:rollback()
      -- a connection that fails for another reason than the password
      local bad = url:gsub("/retort_test", "/rt_no_such_db", 1)
      err = T.raises("OperationalError", function()
        create_engine(bad):connect()
      end)
      no_password(err.message, "a connection error")
      no_password(tostring(err), "a connection error")
      local wrong = with_password(db.url, user, PASSWORD .. "Wrong")
      if db.name == "mysql" then
        err = T.raises("OperationalError", function()
          create_engine(wrong):connect()
        end)
        no_password(tostring(err), "a wrong password error")
      end
    end)

    T.test(n .. "echo output never shows the password", function()
      local bin = os.getenv("RETORT_BUILD_DIR")
      if not bin then return T.skip(n .. "echo", "RETORT_BUILD_DIR unset") end
      setup()
      local script = os.tmpname()
      local f = assert(io.open(script, "w"))
      f:write([[
        local e = create_engine(os.getenv("RT_URL"), {echo = true})
        print(e, e.url)
        local c = e:connect()
        c:exec_driver_sql("SELECT 1")
        c:execute(text("SELECT :x"), {x = "v"})
        print(pcall(c.exec_driver_sql, c, "SELEC 1"))
        c:rollback()
        c:close()
        e:dispose()
      ]])
      f:close()
      local url = with_password(db.url, user, PASSWORD)
      local p = io.popen("RT_URL='" .. url .. "' '" .. bin ..
                         "/retort' --norc " .. script .. " 2>&1")
      local out = p:read("a")
      p:close()
      os.remove(script)
      T.match(out, "INFO retort%.engine%.Engine SELECT 1")
      no_password(out, "echo output")
    end)
  end
end

T.done()
