-- Engine, pool, results and reflection details checked against SQLAlchemy
-- 1.4 (psycopg2, mysqlclient, pysqlite) on every database: typed date and
-- interval parameters, pool classes and status, FrozenResult and
-- MappingResult, executemany, URL forms and Inspector results.
local T = require "testing"

local DBS = T.databases()

-- A fresh table dt(id, d Date, ts DateTime, iv Interval, tm Time) on `e`.
local function date_table(e)
  local md = MetaData()
  local t = Table("eng4_dt", md, Column("id", Integer, {primary_key = true}),
                  Column("d", Date), Column("ts", DateTime),
                  Column("iv", Interval), Column("tm", Time))
  md:drop_all(e)
  md:create_all(e)
  return md, t
end

for _, db in ipairs(DBS) do
  T.test(db.name .. ": date and interval parameters round-trip and compute",
         function()
    local e = create_engine(db.url)
    local md, t = date_table(e)
    local c <close> = e:connect()
    c:execute(insert(t), {{id = 1, d = "2026-11-21",
                           ts = "2026-11-21 08:30:00",
                           iv = sa.timedelta{days = 1, seconds = 3600},
                           tm = "08:30:00"},
                          {id = 2, d = "2026-11-22",
                           ts = "2026-11-22 10:00:00",
                           iv = sa.timedelta{seconds = -1},
                           tm = "23:59:59"}})
    local r = c:execute(select(t):where(t.c.id:eq(1))):one()
    T.eq(r.d, "2026-11-21")
    T.eq(r.ts, "2026-11-21 08:30:00")
    T.eq(r.iv, sa.timedelta{days = 1, seconds = 3600})
    T.eq(r.tm, "08:30:00")
    T.eq(c:execute(select(t.c.iv):where(t.c.id:eq(2))):scalar(),
         sa.timedelta{seconds = -1})
    -- a Date and a DateTime compared with typed parameters
    T.eq(c:execute(select(t.c.id):where(t.c.d:eq("2026-11-22"))):scalar(), 2)
    T.eq(c:execute(select(t.c.id):where(t.c.ts:lt("2026-11-22 00:00:00")))
           :scalars():all(), {1})
    local plus = t.c.d + sa.timedelta{days = 1}
    local where = select(t.c.id):where(plus:gt("2026-11-22")):order_by(t.c.id)
    local sel = select(plus):where(t.c.id:eq(1))
    local ts = select(t.c.ts + sa.timedelta{hours = 1},
                      t.c.ts - sa.timedelta{hours = 1}):where(t.c.id:eq(1))
    if db.name == "postgresql" then
      -- SQLAlchemy: [(datetime.datetime(2026, 11, 22, 0, 0),)], [(2,)],
      -- [(datetime(2026, 11, 21, 9, 30), datetime(2026, 11, 21, 7, 30))]
      T.eq(c:execute(sel):scalar(), "2026-11-22 00:00:00")
      T.eq(c:execute(where):scalars():all(), {2})
      T.eq({table.unpack(c:execute(ts):one())},
           {"2026-11-21 09:30:00", "2026-11-21 07:30:00"})
      T.eq(c:execute(select(t.c.ts + t.c.iv):where(t.c.id:eq(1))):scalar(),
           "2026-11-22 09:30:00")
    elseif db.name == "mysql" then
      -- the interval goes as the DATETIME 1970-01-02, which MySQL adds as
      -- the number 1970: SQLAlchemy gives 20263091.0 and [(1,), (2,)]
      T.eq(c:execute(sel):scalar(), 20263091.0)
      T.eq(c:execute(where):scalars():all(), {1, 2})
      T.eq({table.unpack(c:execute(ts):one())},
           {20261121084970.0, 20261121081030.0})
    else
      -- SQLite adds the texts as numbers: 2026 + 1970 is not > the date
      -- text, so SQLAlchemy's WHERE finds nothing
      T.eq(c:execute(where):scalars():all(), {})
    end
    c:rollback()
    md:drop_all(e)
    e:dispose()
  end)
end

if DBS[2] and DBS[2].name == "postgresql" then
  local url = DBS[2].url
  T.test("postgresql: aware and naive datetimes keep their meaning", function()
    local e = create_engine(url)
    local md = MetaData()
    local t = Table("eng4_tz", md, Column("id", Integer, {primary_key = true}),
                    Column("ts", DateTime{timezone = true}),
                    Column("tm", Time{timezone = true}))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    c:execute(text("SET TIME ZONE 'UTC'"))
    c:execute(insert(t), {{id = 1, ts = "2026-11-21 08:30:00+02:00",
                           tm = "08:30:00+02"},
                          {id = 2, ts = "2026-11-21 08:30:00", tm = "08:30:00"}})
    c:execute(insert(t), {id = 3, ts = "2026-11-21T08:30:00Z", tm = "08:30:00"})
    local rows = c:execute(select(t):order_by(t.c.id)):all()
    T.eq(rows[1].ts, "2026-11-21 06:30:00+00:00")
    T.eq(rows[1].tm, "08:30:00+02:00")
    T.eq(rows[2].ts, "2026-11-21 08:30:00+00:00")
    T.eq(rows[3].ts, "2026-11-21 08:30:00+00:00")
    c:rollback()
    md:drop_all(e)
    e:dispose()
  end)
end

T.done()
