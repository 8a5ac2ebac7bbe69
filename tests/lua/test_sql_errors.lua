-- Misuse of the expression language raises retort errors (never crashes,
-- never leaks: the sanitizer build runs this too).
local m = MetaData()
local users = Table("users", m,
  Column("id", Integer, {primary_key = true}),
  Column("name", String(50)))
local other = Table("other", m, Column("x", Integer))

local function fails(kind, pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected " .. kind .. " for " .. pattern, 2) end
  if type(err) ~= "table" or err.kind ~= kind then
    error(string.format("expected %s, got %s", kind, tostring(err and err.kind or err)), 2)
  end
  if pattern and not tostring(err.message):find(pattern, 1, true) then
    error(string.format("message %q lacks %q", err.message, pattern), 2)
  end
  return err
end

fails("ArgumentError", "nope", function() return users.c.nope end)
fails("ArgumentError", "users", function() return users.c["no such"] end)
fails("ArgumentError", "eq", function() return users.c.id:eq({}) end)
fails("ArgumentError", "like", function() return users.c.name:like(print) end)
fails("ArgumentError", "in_", function() return users.c.id:in_(5) end)
fails("ArgumentError", "in_", function() return users.c.id:in_{{}} end)
fails("ArgumentError", "between", function() return users.c.id:between({}, 2) end)
fails("ArgumentError", "where", function() return select(users):where("id = 1") end)
fails("ArgumentError", "text(", function() return select(users):where("id = 1") end)
fails("ArgumentError", "limit", function() return select(users):limit("x") end)
fails("ArgumentError", "select", function() return select(users, {}) end)
fails("ArgumentError", "values", function() return insert(users):values{nope = 1} end)
fails("ArgumentError", "nope", function() return insert(users):values{nope = 1} end)
fails("ArgumentError", "Column", function() return Column(5) end)
fails("ArgumentError", "Table", function() return Table("t2", 5) end)
fails("ArgumentError", "cast", function() return cast(users.c.id, 5) end)
fails("ArgumentError", "case", function() return case({5}) end)
-- SQLAlchemy's NoForeignKeysError, an ArgumentError
fails("NoForeignKeysError", "'users' and 'other'", function()
  return select(users):join(other):compile("sqlite")
end)
fails("InvalidRequestError", "already defined", function()
  return Table("users", m, Column("id", Integer))
end)
fails("ArgumentError", "already", function()
  local c = Column("c", Integer)
  Table("a1", m, c)
  return Table("a2", m, c)
end)
fails("CompileError", "mysql", function()
  return insert(users):values{name = "x"}:returning(users.c.id):compile("mysql")
end)
fails("CompileError", "postgresql", function()
  return insert(users):values{name = "x"}:on_duplicate_key_update{name = "y"}:compile("postgresql")
end)
fails("CompileError", "mysql", function()
  return insert(users):on_conflict_do_nothing():compile("mysql")
end)
fails("CompileError", "mysql", function()
  return CreateTable(Table("novarchar", MetaData(), Column("s", String))):compile("mysql")
end)
fails("ArgumentError", "dialect", function() return select(users):compile("oracle") end)
fails("ArgumentError", "Only", function() return users.c.id:lt(nil) end)

-- many failures in a loop: the sanitizer would see leaks
for _ = 1, 200 do
  pcall(function() return users.c.id:eq({}) end)
  pcall(function() return insert(users):values{nope = 1} end)
  pcall(function() return select(users):join(other):compile("sqlite") end)
end
-- found by fuzzing: an alias of union() of nothing read a first select
-- that is not there
-- (it prints as its empty SELECT, as a subquery prints as its SELECT)
assert(tostring(union():alias("x")) == "")
assert(tostring(select(union():alias("x"))) == "SELECT  \nFROM () AS x")
assert(union(union()):subquery("s").c)
assert(#union():subquery().columns == 0)
assert(tostring(union(union()):cte("c")))
assert(tostring(select(union():subquery()):compile("mysql")))
do
  local c <close> = create_engine("sqlite://"):connect()
  fails("ProgrammingError", nil, function() return c:execute(union()) end)
end

-- found by fuzzing: prefix_with on a construct without a prefix slot (a
-- function, a column, text) appended to a list it does not have
fails("ArgumentError", "prefix_with", function()
  return func.count():prefix_with("OR IGNORE")
end)
fails("ArgumentError", "prefix_with", function()
  return users.c.id:prefix_with("x")
end)
fails("ArgumentError", "prefix_with", function()
  return text("SELECT 1"):prefix_with("x")
end)
fails("ArgumentError", "prefix_with", function()
  return union(select(users)):prefix_with("x")
end)
assert(tostring(insert(users):prefix_with("OR IGNORE")):find("OR IGNORE"))

-- found by fuzzing: CreateIndex of a table whose columns are not a list
fails("ArgumentError", "CreateIndex", function()
  return CreateIndex({name = "ix", columns = 5})
end)
fails("ArgumentError", "DropIndex", function()
  return DropIndex({name = "ix", columns = "id"})
end)

collectgarbage()
print("ok")
