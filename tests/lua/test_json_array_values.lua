-- JSON and ARRAY columns compared with Lua tables (bound in their stored
-- form, as SQLAlchemy binds a dict or a list with the column's type), and
-- results of JSON index expressions converted by the expression's type.
-- Expectations from SQLAlchemy 1.4.
local T = require "testing"

T.test("a table compared with a JSON or ARRAY column is a bound value",
       function()
  local t = Table("jv", MetaData(), Column("id", Integer, {primary_key = true}),
                  Column("tags", ARRAY(Integer)), Column("data", JSON))
  T.eq(tostring(t.c.tags:eq({1, 2})), "jv.tags = :tags_1")
  T.eq(tostring(t.c.data:eq({a = 1})), "jv.data = :data_1")
  T.eq(tostring(t.c.data:ne({1, 2})), "jv.data != :data_1")
end)

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": WHERE json_col = {table}", function()
    local engine = create_engine(db.url)
    local md = MetaData()
    -- PostgreSQL's json has no equality: SQLAlchemy's users take JSONB
    local t = Table("jv_docs", md, Column("id", Integer, {primary_key = true}),
                    Column("data", db.name == "postgresql" and JSONB or JSON))
    md:drop_all(engine)
    md:create_all(engine)
    local c = engine:connect()
    c:execute(insert(t), {{id = 1, data = {a = 1}}, {id = 2, data = {1, 2}}})
    T.eq(c:execute(select(t.c.id):where(t.c.data:eq({a = 1}))):scalars():all(),
         {1})
    T.eq(c:execute(select(t.c.id):where(t.c.data:eq({1, 2}))):scalars():all(),
         {2})
    c:commit()
    c:close()
    md:drop_all(engine)
    engine:dispose()
  end)

  T.test(db.name .. ": JSON index results take the expression's type",
         function()
    local engine = create_engine(db.url)
    local md = MetaData()
    local t = Table("jv_idx", md, Column("id", Integer, {primary_key = true}),
                    Column("data", JSON))
    md:drop_all(engine)
    md:create_all(engine)
    local c = engine:connect()
    c:execute(insert(t), {data = {k = "v", n = 3, a = {b = {1, 2}}}})
    -- SQLAlchemy: ('v', 'v', 3, [1, 2], {'b': [1, 2]})
    local row = c:execute(select(t.c.data["k"], t.c.data["k"]:as_string(),
                                 t.c.data["n"]:as_integer(),
                                 t.c.data[{"a", "b"}], t.c.data["a"])):one()
    T.eq(row[1], "v")
    T.eq(row[2], "v")
    T.eq(row[3], 3)
    T.eq(row[4], {1, 2})
    T.eq(row[5], {b = {1, 2}})
    c:commit()
    c:close()
    md:drop_all(engine)
    engine:dispose()
  end)

  if db.name == "postgresql" then
    T.test("postgresql: WHERE array_col = {table}", function()
      local engine = create_engine(db.url)
      local md = MetaData()
      local t = Table("jv_arr", md, Column("id", Integer, {primary_key = true}),
                      Column("tags", ARRAY(Integer)))
      md:drop_all(engine)
      md:create_all(engine)
      local c = engine:connect()
      c:execute(insert(t), {{id = 1, tags = {1, 2}}, {id = 2, tags = {3}}})
      T.eq(c:execute(select(t.c.id):where(t.c.tags:eq({1, 2}))):scalars():all(),
           {1})
      T.eq(c:execute(select(t.c.id):where(t.c.tags:ne({1, 2}))):scalars():all(),
           {2})
      c:commit()
      c:close()
      md:drop_all(engine)
      engine:dispose()
    end)
  end
end

T.done()
