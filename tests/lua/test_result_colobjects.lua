-- Rows keyed by column objects answer only for the objects the statement
-- selected, as SQLAlchemy 1.4's (future engine) do: not the table's column
-- behind an alias's or a label, not an ORM attribute on a Connection's
-- row; two tables' columns of one name each find their own.  ORM rows
-- answer their entities (row._mapping[User], [aliased(User)]) and the
-- attributes selected.  Every expectation is SQLAlchemy 1.4.46's, run on
-- the same statements (the same on SQLite, PostgreSQL and MariaDB).
local T = require "testing"

local function nosuch(what, fn)
  local err = T.raises("NoSuchColumnError", fn)
  T.eq(err.message, "Could not locate column in row for column '" .. what ..
       "'")
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local md = MetaData()
  local users = Table("co_users", md,
    Column("id", Integer, {primary_key = true, autoincrement = false}),
    Column("name", String(20)))
  local addresses = Table("co_addresses", md,
    Column("id", Integer, {primary_key = true, autoincrement = false}),
    Column("user_id", Integer), Column("email", String(20)))
  local e = create_engine(db.url)
  md:drop_all(e)
  md:create_all(e)
  e:begin(function(c)
    c:execute(insert(users), {{id = 1, name = "a"}})
    c:execute(insert(addresses), {{id = 7, user_id = 1, email = "x@y"}})
  end)
  local c = e:connect()
  local joined = users:join(addresses, users.c.id:eq(addresses.c.user_id))

  T.test(n .. "an alias's columns and its table's are not each other",
         function()
    local a = users:alias("u2")
    local row = c:execute(select(a)):first()
    T.eq(row._mapping[a.c.name], "a")
    T.eq(row[a.c.id], 1)
    nosuch("co_users.name", function() return row._mapping[users.c.name] end)
    nosuch("co_users.name", function() return row[users.c.name] end)
    row = c:execute(select(users)):first()
    nosuch("u2.name", function() return row._mapping[a.c.name] end)
    -- an alias made alike is another object: its columns are not these
    local a2 = users:alias("u2")
    row = c:execute(select(a)):first()
    local row2 = c:execute(select(a2)):first()
    T.eq(row2._mapping[a2.c.name], "a")
    nosuch("u2.name", function() return row._mapping[a2.c.name] end)
    T.eq(row._mapping[a.c.name], "a")
  end)

  T.test(n .. "a label answers, not the column it labels", function()
    local lab = users.c.name:label("nm")
    local row = c:execute(select(lab)):first()
    T.eq(row._mapping[lab], "a")
    T.eq(row._mapping.nm, "a")
    nosuch("co_users.name", function() return row._mapping[users.c.name] end)
    -- another label of the same name and column
    nosuch("co_users.name", function()
      return row._mapping[users.c.name:label("nm")]
    end)
    nosuch("nm", function() return row._mapping[column("nm")] end)
  end)

  T.test(n .. "two tables' columns of one name each find their own",
         function()
    local row = c:execute(select(users.c.id, addresses.c.id)
                            :select_from(joined)):first()
    T.eq(row._fields, {"id", "id_1"})
    T.eq(row._mapping[users.c.id], 1)
    T.eq(row._mapping[addresses.c.id], 7)
    T.eq(row[addresses.c.id], 7)
    T.eq(row._mapping.id, 1)
    T.eq(row._mapping.id_1, 7)
    local m = c:execute(select(users.c.id, addresses.c.id)
                          :select_from(joined)):mappings():first()
    T.eq(m[addresses.c.id], 7)
    T.eq(m[users.c.id], 1)
    -- a column and an alias's column of one name
    local a = users:alias("u2")
    row = c:execute(select(users.c.name, a.c.id)
                      :select_from(users:join(a, users.c.id:eq(a.c.id))))
            :first()
    T.eq(row._mapping[users.c.name], "a")
    T.eq(row._mapping[a.c.id], 1)
    nosuch("co_users.id", function() return row._mapping[users.c.id] end)
  end)

  T.test(n .. "a subquery's columns and its table's", function()
    local sq = select(users):subquery()
    local row = c:execute(select(sq)):first()
    T.eq(row._mapping[sq.c.name], "a")
    nosuch("co_users.name", function() return row._mapping[users.c.name] end)
    row = c:execute(select(users)):first()
    nosuch("anon_1.name", function() return row._mapping[sq.c.name] end)
    -- a label of a subquery's column answers, not the column
    row = c:execute(select(sq.c.name:label("z"))):first()
    nosuch("anon_1.name", function() return row._mapping[sq.c.name] end)
  end)

  T.test(n .. "the same column twice answers with the first", function()
    local row = c:execute(select(users.c.name, users.c.id,
                                 users.c.name)):first()
    T.eq(row._fields, {"name", "id", "name__1"})
    T.eq(row._mapping[users.c.name], "a")
    T.eq(row._mapping[users.c.id], 1)
  end)

  T.test(n .. "a name a compiled statement repeats is ambiguous by name",
         function()
    local function ambiguous(fn)
      local err = T.raises("InvalidRequestError", fn)
      T.eq(err.message, "Ambiguous column name 'name' in result set " ..
           "column descriptions")
    end
    local lab = users.c.id:label("name")
    local st = select(users.c.name, lab)
    local row = c:execute(st):first()
    T.eq(row._fields, {"name", "name"})
    ambiguous(function() return row.name end)
    ambiguous(function() return row._mapping.name end)
    ambiguous(function() return row._mapping["name"] end)
    ambiguous(function() return row:_asdict() end)
    -- the objects and positions still answer
    T.eq(row._mapping[users.c.name], "a")
    T.eq(row._mapping[lab], 1)
    T.eq(row[users.c.name], "a")
    T.eq({row[1], row[2]}, {"a", 1})
    T.eq(tostring(row), "('a', 1)")
    local m = c:execute(st):mappings():first()
    ambiguous(function() return m.name end)
    T.eq(m[users.c.name], "a")
    T.eq(m[lab], 1)
    -- the same label twice: the label answers with the first
    row = c:execute(select(lab, lab)):first()
    T.eq(row._mapping[lab], 1)
    ambiguous(function() return row.name end)
    -- SQL text's repeated name answers with its last column
    row = c:execute(text("SELECT id, name AS id FROM co_users")):first()
    T.eq(row._mapping.id, "a")
    T.eq(row.id, "a")
    -- and a name used once is as before
    row = c:execute(select(users.c.name, users.c.id)):first()
    T.eq(row:_asdict(), {name = "a", id = 1})
  end)

  T.test(n .. "expressions, functions and table-less columns by object",
         function()
    local fc = func.count(users.c.id)
    local row = c:execute(select(fc)):first()
    T.eq(row._mapping[fc], 1)
    nosuch("co_users.id", function() return row._mapping[users.c.id] end)
    local q = column("q")
    row = c:execute(select(q):select_from(
      text("(SELECT 5 AS q) AS t"))):first()
    T.eq(row._mapping[q], 5)
    nosuch("q", function() return row._mapping[column("q")] end)
    nosuch("q", function() return row._mapping[literal_column("q")] end)
    row = c:execute(select(users)):first()
    nosuch("name", function() return row._mapping[column("name")] end)
  end)

  T.test(n .. "a compound answers its first select's columns", function()
    local u = union(select(users.c.id, users.c.name),
                    select(addresses.c.id, addresses.c.email))
    local row = c:execute(u:order_by(literal_column("id"))):first()
    T.eq(row._mapping[users.c.id], 1)
    nosuch("co_addresses.email", function()
      return row._mapping[addresses.c.email]
    end)
  end)

  T.test(n .. "text() answers the columns given to columns() in order",
         function()
    local sql = "SELECT id, name FROM co_users"
    local row = c:execute(text(sql)):first()
    nosuch("co_users.name", function() return row._mapping[users.c.name] end)
    row = c:execute(text(sql):columns(users.c.id, users.c.name)):first()
    T.eq(row._mapping[users.c.name], "a")
    T.eq(row._mapping[users.c.id], 1)
    nosuch("u2.name", function()
      return row._mapping[users:alias("u2").c.name]
    end)
    nosuch("name", function() return row._mapping[column("name")] end)
  end)

  T.test(n .. "columns(), scalars() and mappings() take the objects too",
         function()
    local a = users:alias("u2")
    local r = c:execute(select(users.c.id, users.c.name))
    local row = r:columns(users.c.name):first()
    T.eq(row._fields, {"name"})
    T.eq(row._mapping[users.c.name], "a")
    nosuch("co_users.id", function() return row._mapping[users.c.id] end)
    r = c:execute(select(users.c.id, users.c.name))
    T.eq(r:scalars(users.c.name):first(), "a")
    r = c:execute(select(users.c.id, users.c.name))
    nosuch("u2.name", function() return r:scalars(a.c.name) end)
    nosuch("u2.name", function() return r:columns(a.c.name) end)
    r:close()
    local m = c:execute(select(users)):mappings():first()
    T.eq(m[users.c.name], "a")
    nosuch("u2.name", function() return m[a.c.name] end)
  end)

  if db.name == "postgresql" then
    T.test(n .. "RETURNING rows answer the columns returned", function()
      local a = addresses:alias("x")
      c:begin_nested()
      local row = c:execute(insert(addresses):returning(addresses.c.id,
                                                        addresses.c.email),
                            {id = 8, email = "q"}):first()
      T.eq(row._mapping[addresses.c.id], 8)
      T.eq(row._mapping[addresses.c.email], "q")
      nosuch("x.email", function() return row._mapping[a.c.email] end)
      row = c:execute(update(addresses):where(addresses.c.id:eq(8))
                        :values{email = "z"}
                        :returning(addresses.c.email:label("e"))):first()
      T.eq(row._mapping.e, "z")
      nosuch("co_addresses.email", function()
        return row._mapping[addresses.c.email]
      end)
      c:rollback()
    end)
  end

  local Base = orm.declarative_base()
  local User = Base:class "User" {__table__ = users}
  local Address = Base:class "Address" {__table__ = addresses}

  T.test(n .. "an ORM attribute is not a Connection row's column",
         function()
    local ua = orm.aliased(User)
    local row = c:execute(select(User)):first()
    T.eq(row._fields, {"id", "name"})
    T.eq(row._mapping[users.c.name], "a")
    nosuch("User.name", function() return row._mapping[User.name] end)
    nosuch("User.name", function() return row[User.name] end)
    T.raises("NoSuchColumnError", function() return row._mapping[User] end)
    row = c:execute(select(users.c.id, users.c.name)):first()
    nosuch("User.name", function() return row._mapping[User.name] end)
    row = c:execute(select(User.name, User.id)):first()
    T.eq(row._mapping[users.c.name], "a")
    nosuch("User.name", function() return row._mapping[User.name] end)
    row = c:execute(select(ua)):first()
    nosuch("AliasedClass_User.name", function()
      return row._mapping[ua.name]
    end)
    row = c:execute(select(addresses.c.email, users.c.name)
                      :select_from(joined)):first()
    nosuch("Address.id", function() return row._mapping[Address.id] end)
  end)

  T.test(n .. "a Session's rows of columns answer the attributes selected",
         function()
    local s <close> = orm.Session(e)
    local ua = orm.aliased(User)
    local row = s:execute(select(User.name, Address.email)
                            :join(Address, User.id:eq(Address.user_id)))
                  :first()
    T.eq(row._fields, {"name", "email"})
    T.eq(row._mapping[User.name], "a")
    T.eq(row._mapping[users.c.name], "a")
    T.eq(row._mapping[Address.email], "x@y")
    row = s:execute(select(ua.name)):first()
    T.eq(row._mapping[ua.name], "a")
    row = s:execute(select(User.id, Address.id)
                      :join(Address, User.id:eq(Address.user_id))):first()
    T.eq(row._fields, {"id", "id_1"})
    T.eq(row._mapping[User.id], 1)
    T.eq(row._mapping[Address.id], 7)
    T.eq(row._mapping.id, 1)
    local lab = User.name:label("nm")
    row = s:execute(select(lab, User.id)):first()
    T.eq(row._mapping[lab], "a")
    T.eq(row._mapping.nm, "a")
  end)

  T.test(n .. "ORM rows answer their entities and column entities",
         function()
    local s <close> = orm.Session(e)
    local u = s:get(User, 1)
    local a = s:get(Address, 7)
    local row = s:execute(select(User, Address)
                            :join(Address, User.id:eq(Address.user_id)))
                  :first()
    T.eq(row._fields, {"User", "Address"})
    T.ok(rawequal(row._mapping[User], u))
    T.ok(rawequal(row._mapping[Address], a))
    T.ok(rawequal(row._mapping.User, u))
    T.ok(rawequal(row.User, u))
    -- row[User]: SQLAlchemy 1.4's deprecated form, still answered
    T.ok(rawequal(row[User], u))
    row = s:execute(select(User)):first()
    T.ok(rawequal(row._mapping[User], u))
    row = s:execute(select(User, User.name)):first()
    T.eq(row._fields, {"User", "name"})
    T.ok(rawequal(row._mapping[User], u))
    T.eq(row._mapping[User.name], "a")
    T.eq(row._mapping.name, "a")
    -- an aliased() class keys its own entity; the class keys its own
    local ua = orm.aliased(User)
    row = s:execute(select(ua)):first()
    T.ok(rawequal(row._mapping[ua], u))
    local ub = orm.aliased(User, {name = "ub"})
    row = s:execute(select(ub, User):join(User, User.id:eq(ub.id))):first()
    T.eq(row._fields, {"ub", "User"})
    T.ok(rawequal(row._mapping[ub], u))
    T.ok(rawequal(row._mapping.ub, u))
    T.ok(rawequal(row._mapping[User], u))
  end)

  T.test(n .. "a Result read after its Session's close()", function()
    local imd = MetaData()
    local items = Table("co_items", imd,
      Column("id", Integer, {primary_key = true, autoincrement = false}),
      Column("name", String(20)))
    imd:drop_all(e)
    imd:create_all(e)
    e:begin(function(ic)
      ic:execute(insert(items), {{id = 1, name = "a"}, {id = 2, name = "b"},
                                 {id = 3, name = "c"}})
    end)
    local IBase = orm.declarative_base()
    local Item = IBase:class "Item" {__table__ = items}
    local q = select(Item):order_by(Item.id)
    local function stale(fn)
      local err = T.raises("InvalidRequestError", fn)
      T.match(err.message, "^Object <Item at 0x%x+> cannot be converted " ..
              "to 'persistent' state, as this identity map is no longer " ..
              "valid%.  Has the owning Session been closed%? %(Background " ..
              "on this error at: https://sqlalche%.me/e/14/lkrp%)$")
    end
    -- nothing read before: the objects can't be loaded
    local s = orm.Session(e)
    local r = s:execute(q)
    s:close()
    stale(function() return r:scalars():first() end)
    r:close()
    s = orm.Session(e)
    r = s:execute(q):scalars()
    s:close()
    stale(function() return r:all() end)
    r:close()
    s = orm.Session(e)
    r = s:execute(q)
    s:expunge_all()
    stale(function() return r:all() end)
    r:close()
    s:close()
    -- the first read loaded them all: the rest are detached ones
    s = orm.Session(e)
    r = s:execute(q)
    local first = r:fetchone()[1]
    s:close()
    T.ok(orm.inspect(first).detached)
    local rest = r:scalars():all()
    T.eq(#rest, 2)
    T.eq(rest[1].name, "b")
    T.ok(orm.inspect(rest[1]).detached)
    T.ok(orm.inspect(rest[2]).detached)
    -- rows of columns stay readable
    s = orm.Session(e)
    r = s:execute(select(Item.name):order_by(Item.id))
    s:close()
    T.eq(r:scalars():all(), {"a", "b", "c"})
    -- commit() keeps the identity map: loaded into it, persistent
    s = orm.Session(e)
    r = s:execute(q)
    s:commit()
    T.ok(orm.inspect(r:scalars():first()).persistent)
    s:close()
    imd:drop_all(e)
  end)

  c:close()
  md:drop_all(e)
end

T.done()
