-- Values on the way out: booleans and JSON by declared column type, and the
-- JSON text retort writes (Python json.dumps style, as SQLAlchemy stores).
local T = require "testing"

T.test("sqlite: BOOLEAN columns come back as Lua booleans", function()
  local c <close> = create_engine("sqlite://"):connect()
  c:exec_driver_sql("CREATE TABLE b (x BOOLEAN, y INTEGER)")
  c:exec_driver_sql("INSERT INTO b VALUES (?, ?)", {{true, 1}, {false, 0},
                                                   {sa.null, 2}})
  local rows = c:exec_driver_sql("SELECT x, y FROM b ORDER BY y"):all()
  T.eq(rows[1].x, false)
  T.eq(rows[2].x, true)
  T.eq(rows[3].x, nil)
  T.eq(rows[2].y, 1) -- an INTEGER stays an integer
end)

T.test("sqlite: JSON columns decode into tables", function()
  local c <close> = create_engine("sqlite://"):connect()
  c:exec_driver_sql("CREATE TABLE j (id INTEGER, doc JSON)")
  c:exec_driver_sql("INSERT INTO j VALUES (?, ?)", {
    {1, '{"a": 1, "b": [true, null, 2.5, "x\\u00e9\\ud83d\\ude00"], "c": {}}'},
    {2, "null"}, {3, sa.null}, {4, '[1, 2, 9007199254740993]'}})
  local rows = c:exec_driver_sql("SELECT doc FROM j ORDER BY id"):scalars():all()
  local d = rows[1]
  T.eq(d.a, 1)
  T.eq(d.b[1], true)
  T.ok(d.b[2] == sa.null, "null inside a list is sa.null")
  T.eq(d.b[3], 2.5)
  T.eq(d.b[4], "x\u{e9}\u{1F600}")
  T.eq(d.c, {})
  -- a NULL (and JSON null) in a list of scalars is sa.null: no hole
  T.ok(rows[2] == sa.null, "JSON null")
  T.ok(rows[3] == sa.null, "SQL NULL")
  T.eq(rows[4], {1, 2, 9007199254740993})
  T.eq(c:exec_driver_sql("SELECT doc FROM j WHERE id = 2"):scalar(), nil)
  local err = T.raises("DataError", function()
    c:exec_driver_sql("CREATE TABLE bad (doc JSON)")
    c:exec_driver_sql("INSERT INTO bad VALUES ('{oops')")
    c:exec_driver_sql("SELECT doc FROM bad"):scalar()
  end)
  T.match(err.message, "JSON")
end)

T.done()
