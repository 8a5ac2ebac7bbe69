-- Names of tables, columns and aliases (schema, fullname, key,
-- description), inserted_primary_key(_rows) with plain-value defaults, and
-- text():columns{name = Type}.  Expectations from SQLAlchemy 1.4.
local T = require "testing"

T.test("Table with a schema: schema, fullname, key, description", function()
  local md = MetaData()
  local t = Table("x", md, Column("id", Integer, {primary_key = true}),
                  Column("nm", String, {key = "k"}), {schema = "s"})
  T.eq(t.schema, "s")
  T.eq(t.fullname, "s.x")
  T.eq(t.key, "s.x")
  T.eq(t.description, "x")
  T.eq(t.name, "x")
  T.eq(tostring(select(t)), "SELECT s.x.id, s.x.nm \nFROM s.x")
end)

T.test("Table without a schema", function()
  local t = Table("y", MetaData(), Column("id", Integer))
  T.eq(t.schema, nil)
  T.eq(t.fullname, "y")
  T.eq(t.key, "y")
  T.eq(t.description, "y")
end)

T.test("Column and Alias names", function()
  local t = Table("x", MetaData(), Column("id", Integer, {primary_key = true}),
                  Column("nm", String, {key = "k"}), {schema = "s"})
  T.eq({t.c.k.name, t.c.k.key, t.c.k.description}, {"nm", "k", "nm"})
  local a = t:alias("aa")
  T.eq({a.name, a.description}, {"aa", "aa"})
  -- an alias's columns keep the keys of the table's
  T.eq({a.c.k.key, a.c.k.name, a.c.k.description}, {"k", "nm", "nm"})
  T.eq(tostring(select(a.c.k)), "SELECT aa.nm \nFROM s.x AS aa")
  T.eq(t:alias().description, "anon_1")
end)

local function keys(rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = tostring(r) end
  return table.concat(out, ", ")
end

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": inserted_primary_key with plain-value defaults",
         function()
    local engine = create_engine(db.url)
    local md = MetaData()
    local p = Table("attr_p", md,
                    Column("id", Integer, {primary_key = true, default = 5}),
                    Column("x", Integer))
    local u = Table("attr_u", md, Column("id", Integer, {primary_key = true}),
                    Column("x", Integer))
    local v = Table("attr_v", md,
                    Column("a", Integer, {primary_key = true, default = 7}),
                    Column("b", String(10), {primary_key = true}),
                    Column("x", Integer))
    md:drop_all(engine)
    md:create_all(engine)
    local c = engine:connect()
    local r = c:execute(insert(p), {x = 1})
    T.eq(tostring(r.inserted_primary_key), "(5,)")
    T.eq(keys(r.inserted_primary_key_rows), "(5,)")
    r = c:execute(insert(u), {x = 1})
    T.eq(tostring(r.inserted_primary_key), "(1,)")
    T.eq(keys(r.inserted_primary_key_rows), "(1,)")
    r = c:execute(insert(v):values{b = "w"})
    T.eq(tostring(r.inserted_primary_key), "(7, 'w')")
    r = c:execute(insert(v), {b = "z", x = 1})
    T.eq(r.inserted_primary_key.a, 7)
    T.eq(r.inserted_primary_key.b, "z")
    -- executemany: the keys the parameters and defaults give; generated
    -- ones are not read back
    r = c:execute(insert(u), {{x = 1}, {x = 2}})
    T.eq(keys(r.inserted_primary_key_rows), "(None,), (None,)")
    T.raises("InvalidRequestError", function()
      return r.inserted_primary_key
    end)
    r = c:execute(insert(u), {{id = 10, x = 1}, {id = 11, x = 2}})
    T.eq(keys(r.inserted_primary_key_rows), "(10,), (11,)")
    r = c:execute(insert(v), {{b = "p", x = 1}, {b = "q", x = 2}})
    T.eq(keys(r.inserted_primary_key_rows), "(7, 'p'), (7, 'q')")
    T.eq(r.inserted_primary_key_rows[2].b, "q")
    -- the keys are those the parameter sets held when they were executed
    local sets = {{id = 20, x = 1}, {id = 21, x = 2}}
    r = c:execute(insert(u), sets)
    sets[1].id, sets[2] = 99, nil
    T.eq(keys(r.inserted_primary_key_rows), "(20,), (21,)")
    T.eq(#r.inserted_primary_key_rows, 2)
    T.eq(r.inserted_primary_key_rows[2].id, 21)
    T.eq(tostring(r.inserted_primary_key_rows[1]), "(20,)")
    T.raises("InvalidRequestError", function()
      return c:execute(select(u)).inserted_primary_key_rows
    end)
    c:commit()
    c:close()
    md:drop_all(engine)
    engine:dispose()
  end)

  T.test(db.name .. ": text():columns{name = Type}", function()
    local engine = create_engine(db.url)
    local c = engine:connect()
    local row = c:execute(text(
      "SELECT 1 AS flag, '{\"a\": 1}' AS doc, 'zz' AS other"):columns{
        flag = Boolean, doc = JSON}):one()
    T.eq(row.flag, true)
    T.eq(row.doc, {a = 1})
    T.eq(row.other, "zz")
    -- by name, whatever the order; a positional name takes its type
    row = c:execute(text("SELECT '[1, 2]' AS doc, 0 AS flag"):columns(
      "doc", {flag = Boolean, doc = JSON})):one()
    T.eq(row.doc, {1, 2})
    T.eq(row.flag, false)
    T.raises("ArgumentError", function()
      return text("SELECT 1"):columns{flag = 1}
    end)
    c:close()
    engine:dispose()
  end)
end

-- A Table and its columns keep the methods they have looked up; a method
-- replaced or added afterwards on the shared methods table is what they
-- call from then on, and attributes stay attributes.
T.test("methods replaced after use are the ones called", function()
  local t = Table("mt", MetaData(), Column("id", Integer, {primary_key = true}),
                  Column("name", String(20)))
  local methods = getmetatable(t.c.id).__methods
  T.eq(tostring(t.c.id:desc()), "mt.id DESC")
  T.eq(tostring(select(t.c.id):select_from(t:join(t:alias("b"),
       t.c.id:eq(t.c.id)))), "SELECT mt.id \nFROM mt JOIN mt AS b ON mt.id = mt.id")
  local desc, join = methods.desc, methods.join
  methods.desc = function(e) return e:asc() end
  methods.some_new_method = function(e) return "new " .. e.name end
  methods.join = function() return "joined" end
  local ok, err = pcall(function()
    T.eq(tostring(t.c.id:desc()), "mt.id ASC")
    T.eq(t.c.id:some_new_method(), "new id")
    T.eq(t:join(t), "joined")
  end)
  methods.desc, methods.join, methods.some_new_method = desc, join, nil
  assert(ok, err)
  T.eq(tostring(t.c.id:desc()), "mt.id DESC")
  T.raises("ArgumentError", function() return t.c.id.some_new_method end)
  -- attributes, also those that share a method's name
  T.eq({t.c.name.name, t.c.name.key, t.c.name.table.name}, {"name", "name", "mt"})
  T.eq(t.c.name.type.length, 20)
  T.eq(type(t.columns), "table")
  T.eq(#t.columns, 2)
  T.raises("ArgumentError", function() return t.c.id.nope end)
  local seen = 0
  for k, v in pairs(methods) do
    if k == "desc" then seen = seen + 1; T.eq(v, desc) end
  end
  T.eq(seen, 1)
end)

T.test("the module is no receiver of its own module-level forms", function()
  -- (sa.collate(sa) once called itself for ever: a tail call of itself)
  for _, f in ipairs{"collate", "between", "label", "join", "outerjoin",
                     "alias"} do
    local ok, err = pcall(sa[f], sa, "x")
    T.eq(ok, false)
    if f ~= "label" then
      T.match(tostring(err), f .. ": argument #1 must be an expression")
    end
  end
end)

T.done()
