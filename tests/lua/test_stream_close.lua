-- Closing a streamed result early cancels its query on the server instead
-- of reading the rest, and leaves the connection usable.  The queries
-- stream 1e8 rows: reading them all would take minutes, so a close that
-- read them would make this test time out rather than pass.
local T = require "testing"

local huge = {
  postgresql = "SELECT generate_series(1, 100000000) AS n",
  mysql = "SELECT seq AS n FROM seq_1_to_100000000",
}
local small = {
  postgresql = "SELECT generate_series(1, 5) AS n",
  mysql = "SELECT seq AS n FROM seq_1_to_5",
}

local function stream_three(conn, sql)
  local r = conn:execution_options{stream_results = true}:execute(text(sql))
  local got = {}
  for i = 1, 3 do got[i] = r:fetchone()[1] end
  r:close()
  return got
end

for _, db in ipairs(T.databases()) do
  if db.name == "sqlite" then goto continue end

  T.test(db.name .. ": closing a huge stream after 3 rows", function()
    local engine = create_engine(db.url)
    local conn = engine:connect()
    for _ = 1, 2 do -- the same statement again: it stays usable
      T.eq(stream_three(conn, huge[db.name]), {1, 2, 3})
      T.eq(conn:execute(text("SELECT 42 AS x")):scalar(), 42)
    end
    conn:close()
    engine:dispose()
  end)

  T.test(db.name .. ": yield_per stream closed early", function()
    local engine = create_engine(db.url)
    local conn = engine:connect()
    local r = conn:execution_options{yield_per = 10}:execute(text(huge[db.name]))
    local rows = r:fetchmany(3)
    T.eq({rows[1][1], rows[2][1], rows[3][1]}, {1, 2, 3})
    r:close()
    T.eq(conn:execute(text("SELECT 7 AS x")):scalar(), 7)
    conn:close()
    engine:dispose()
  end)

  T.test(db.name .. ": a stream whose end already arrived", function()
    local engine = create_engine(db.url)
    local conn = engine:connect()
    for _ = 1, 3 do
      T.eq(stream_three(conn, small[db.name]), {1, 2, 3})
      T.eq(conn:execute(text("SELECT 42 AS x")):scalar(), 42)
      T.eq(conn:execute(text("SELECT 43 AS x")):scalar(), 43)
    end
    conn:close()
    engine:dispose()
  end)

  T.test(db.name .. ": the transaction around a closed stream survives",
         function()
    local engine = create_engine(db.url)
    local conn = engine:connect()
    conn:execute(text("CREATE TABLE stream_close_t (x INTEGER)"))
    conn:commit()
    conn:execute(text("INSERT INTO stream_close_t VALUES (1)"))
    T.eq(stream_three(conn, huge[db.name]), {1, 2, 3})
    conn:execute(text("INSERT INTO stream_close_t VALUES (2)"))
    conn:commit()
    T.eq(conn:execute(text("SELECT count(*) FROM stream_close_t")):scalar(), 2)
    conn:execute(text("DROP TABLE stream_close_t"))
    conn:commit()
    conn:close()
    engine:dispose()
  end)

  ::continue::
end

T.done()
