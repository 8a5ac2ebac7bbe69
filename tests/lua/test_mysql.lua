-- The MySQL/MariaDB driver through the Lua API, against the server named by
-- RETORT_TEST_MYSQL (skipped when it is not set).
local url = os.getenv("RETORT_TEST_MYSQL")
if not url or url == "" then
  print("SKIP: RETORT_TEST_MYSQL not set")
  os.exit(77)
end

local function check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
end

local c = create_engine(url):connect()
local row = c:exec_driver_sql("select ? + 1 as x", {41}):one()
check(tostring(row) == "(42,)", tostring(row))
check(math.type(row[1]) == "integer")

c:exec_driver_sql("create temporary table rt_lua (id int primary key, b tinyint(1), s text)")
local r = c:exec_driver_sql("insert into rt_lua values (?, ?, ?)",
                            {{1, true, "a"}, {2, false, "b\u{1F600}"}})
check(r.rowcount == 2, tostring(r.rowcount))
local rows = c:exec_driver_sql("select b, s from rt_lua order by id"):all()
check(rows[1][1] == true and rows[2][1] == false, "tinyint(1) is boolean")
check(rows[2][2] == "b\u{1F600}")

local ok, err = pcall(c.exec_driver_sql, c, "insert into rt_lua values (?, ?, ?)",
                      {1, true, "dup"})
check(not ok and err.kind == "IntegrityError", tostring(err))
check(tostring(err.code) == "1062", tostring(err.code))
c:rollback()

ok, err = pcall(c.exec_driver_sql, c, "select * from rt_no_such_table")
check(not ok and err.kind == "ProgrammingError", tostring(err))

-- USE: the statements prepared before it (cached by their text) read the
-- database it chose, not the one they were prepared in
local home = c:exec_driver_sql("select database()"):scalar()
c:exec_driver_sql("drop database if exists rt_lua_other")
c:exec_driver_sql("create database rt_lua_other")
c:exec_driver_sql("create table rt_lua_other.rt_lua_use (id int, tag text)")
c:exec_driver_sql("create temporary table rt_lua_use (id int)")
local function keys()
  return table.concat(c:exec_driver_sql("select * from rt_lua_use"):keys(), ",")
end
check(keys() == "id", keys())
c:exec_driver_sql("use rt_lua_other")
check(c:exec_driver_sql("select database()"):scalar() == "rt_lua_other")
check(keys() == "id,tag", keys())
c:exec_driver_sql("use `" .. home .. "`")
check(c:exec_driver_sql("select database()"):scalar() == home)
check(keys() == "id", keys())
c:exec_driver_sql("drop database rt_lua_other")
c:close()
print("ok")
