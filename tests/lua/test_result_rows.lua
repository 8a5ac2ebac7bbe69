-- Rows read by name, by position and as a whole, from every way a Result
-- makes them (all(), iteration, one(), first(), columns(), freeze(),
-- inserted_primary_key): values, NULLs, repeated names, what pairs()
-- walks.  Expectations from SQLAlchemy 1.4 (a Row is a named tuple).
local T = require "testing"

-- pairs() as a list of "key=value", in the order it walks
local function walk(row)
  local out = {}
  for k, v in pairs(row) do out[#out + 1] = tostring(k) .. "=" .. tostring(v) end
  return out
end

local function check_row(row, id, name, note)
  T.eq({row.id, row.name, row.note}, {id, name, note})
  T.eq({row[1], row[2], row[3]}, {id, name, note})
  T.eq(#row, 3)
  T.eq(row._fields, {"id", "name", "note"})
  T.eq(row._t, {id, name, note})
  T.eq(row._asdict(row), {id = id, name = name, note = note})
  T.eq(row._mapping.name, name)
  T.eq(row._mapping.note, note)
  T.raises("NoSuchColumnError", function() return row.nope end)
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local function setup()
    local md = MetaData()
    local t = Table("rr_item", md,
      Column("id", Integer, {primary_key = true}),
      Column("name", String(20)),
      Column("note", String(20)))
    Table("rr_json", md, Column("id", Integer, {primary_key = true}),
          Column("data", JSON))
    local e = create_engine(db.url)
    md:drop_all(e)
    md:create_all(e)
    e:begin(function(c)
      c:execute(insert(t), {{id = 1, name = "a", note = "x"},
                            {id = 2, name = "b", note = sa.null}})
    end)
    return e, t, md
  end

  T.test(n .. "rows from all(), iteration, one() and first()", function()
    local e, t, md = setup()
    local c <close> = e:connect()
    local q = select(t):order_by(t.c.id)
    local rows = c:execute(q):all()
    check_row(rows[1], 1, "a", "x")
    check_row(rows[2], 2, "b", nil)
    local seen = {}
    for r in c:execute(q) do seen[#seen + 1] = r end
    check_row(seen[1], 1, "a", "x")
    check_row(seen[2], 2, "b", nil)
    check_row(c:execute(q:where(t.c.id:eq(2))):one(), 2, "b", nil)
    check_row(c:execute(q):first(), 1, "a", "x")
    check_row(c:execute(q):fetchall()[2], 2, "b", nil)
    -- rows from different ways compare as tuples do
    T.eq(rows[1] == seen[1], true)
    T.eq(rows[1] < rows[2], true)
    T.eq(tostring(rows[2]), "(2, 'b', None)")
    T.eq(rows[1]:count("a"), 1)
    T.eq(rows[1]:index("x"), 3)
    c:close()
    md:drop_all(e)
  end)

  T.test(n .. "pairs() walks the values by position only", function()
    local e, t, md = setup()
    local c <close> = e:connect()
    local rows = c:execute(select(t):order_by(t.c.id)):all()
    T.eq(walk(rows[1]), {"1=1", "2=a", "3=x"})
    T.eq(walk(rows[2]), {"1=2", "2=b"})
    local one = c:execute(select(t):where(t.c.id:eq(1))):one()
    T.eq(walk(one), {"1=1", "2=a", "3=x"})
    -- a key the program sets itself still shows
    rows[1].extra = true
    T.eq(walk(rows[1]), {"1=1", "2=a", "3=x", "extra=true"})
    local list = {}
    for i, v in ipairs(rows[1]) do list[i] = v end
    T.eq(list, {1, "a", "x"})
    c:close()
    md:drop_all(e)
  end)

  T.test(n .. "a repeated name answers with its last column", function()
    local e, _, md = setup()
    local c <close> = e:connect()
    local rows = c:exec_driver_sql(
      "SELECT id AS a, name AS a, note AS a FROM rr_item ORDER BY id"):all()
    T.eq(rows[1].a, "x")
    T.eq(rows[2].a, nil) -- the last one is NULL
    T.eq({rows[2][1], rows[2][2]}, {2, "b"})
    T.eq(rows[1]._fields, {"a", "a", "a"})
    T.eq(walk(rows[1]), {"1=1", "2=a", "3=x"})
    c:close()
    md:drop_all(e)
  end)

  T.test(n .. "a column named like a Row method wins", function()
    local e, _, md = setup()
    local c <close> = e:connect()
    local r = c:exec_driver_sql(
      "SELECT id AS count, name AS _fields FROM rr_item WHERE id = 1"):all()[1]
    T.eq(r.count, 1)
    T.eq(r._fields, "a")
    T.eq(r.index(r, "a"), 2)
    c:close()
    md:drop_all(e)
  end)

  T.test(n .. "rows of columns(), freeze() and inserted_primary_key", function()
    local e, t, md = setup()
    local c <close> = e:connect()
    local q = select(t):order_by(t.c.id)
    local r = c:execute(q):columns("note", "id"):all()
    T.eq({r[1].note, r[1].id, r[2].note, r[2].id}, {"x", 1, nil, 2})
    T.eq(r[1]._fields, {"note", "id"})
    T.eq(walk(r[2]), {"2=2"})
    local frozen = c:execute(q):freeze()
    local again = frozen():all()
    check_row(again[2], 2, "b", nil)
    local fresh = frozen.with_new_rows(frozen, {{7, "g", sa.null}})():all()
    check_row(fresh[1], 7, "g", nil)
    T.eq(walk(fresh[1]), {"1=7", "2=g"})
    local pk = c:execute(insert(t), {id = 9, name = "n"}).inserted_primary_key
    T.eq(pk.id, 9)
    T.eq(walk(pk), {"1=9"})
    c:rollback()
    c:close()
    md:drop_all(e)
  end)

  T.test(n .. "a Row is not a map of parameters; its _mapping is", function()
    local e, t, md = setup()
    local c <close> = e:connect()
    local rows = c:execute(select(t):order_by(t.c.id)):all()
    c:execute(delete(t))
    T.raises("ArgumentError", function() c:execute(insert(t), rows) end)
    T.raises("ArgumentError", function() c:execute(insert(t), rows[1]) end)
    c:execute(insert(t), {rows[1]._mapping})
    -- in a JSON value a Row is the list of its values
    local j = md.tables.rr_json
    c:execute(insert(j), {id = 1, data = rows[1]})
    T.eq(c:execute(select(j.c.data)):scalar_one(), {1, "a", "x"})
    local back = c:execute(select(t):order_by(t.c.id)):all()
    T.eq({#back, tostring(back[1])}, {1, "(1, 'a', 'x')"})
    c:rollback()
    c:close()
    md:drop_all(e)
  end)
  -- all() fills its list in one loop, with the collector paused after the
  -- first 1024 rows: every row the same as a short result's
  T.test(n .. "a long all(): rows past the collector's pause", function()
    local e, t, md = setup()
    local many, N = {}, 2600
    for i = 3, N do
      many[#many + 1] = {id = i, name = "n" .. i,
                         note = i % 5 == 0 and sa.null or "t" .. i}
    end
    -- committed: the session below reads on a connection of its own
    e:begin(function(c) c:execute(insert(t), many) end)
    local c <close> = e:connect()
    local q = select(t):order_by(t.c.id)
    local rows = c:execute(q):all()
    T.eq(#rows, N)
    T.eq(collectgarbage("isrunning"), true, "the collector runs again")
    check_row(rows[1], 1, "a", "x")
    check_row(rows[2], 2, "b", nil)
    for _, i in ipairs({1024, 1025, 1026, 2000, 2001, N}) do
      local note
      if i % 5 ~= 0 then note = "t" .. i end
      check_row(rows[i], i, "n" .. i, note)
    end
    T.eq({table.unpack(rows[1025])}, {1025, "n1025", nil})
    T.eq(tostring(rows[1026]), "(1026, 'n1026', 't1026')")
    T.ok(rows[2000] == c:execute(q:where(t.c.id:eq(2000))):one())
    T.eq(#c:execute(q):fetchall(), N, "fetchall() is all()")
    -- a stopped collector stays stopped
    collectgarbage("stop")
    T.eq(#c:execute(q):all(), N)
    T.eq(collectgarbage("isrunning"), false)
    collectgarbage("restart")
    -- the same rows through an ORM session's column select
    local Base = orm.declarative_base()
    local Item = Base:class "Item" {
      __table__ = t,
    }
    local s <close> = orm.Session(e)
    local cols = s:execute(select(Item.id, Item.name, Item.note)
                             :order_by(Item.id)):all()
    T.eq(#cols, N)
    T.eq(cols[1025]._fields, {"id", "name", "note"})
    T.eq({cols[2000].id, cols[2000].name, cols[2000].note, #cols[2000]},
         {2000, "n2000", nil, 3})
    T.eq({cols[2001][1], cols[2001][2], cols[2001][3]}, {2001, "n2001", "t2001"})
    s:close()
    c:rollback()
    c:close()
    md:drop_all(e)
  end)
end

T.done()
