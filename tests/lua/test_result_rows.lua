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
end

T.done()
