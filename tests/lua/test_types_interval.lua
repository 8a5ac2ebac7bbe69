-- Interval values: Python's timedelta as a Lua table {days, seconds,
-- microseconds} (sa.timedelta{...} makes one), stored natively on
-- PostgreSQL and, as SQLAlchemy does elsewhere, as the DATETIME that long
-- after 1970-01-01.  Expected values from SQLAlchemy 1.4 and Python.
local T = require "testing"

T.test("timedelta normalises and prints as Python's", function()
  local td = sa.timedelta
  local a = td{days = 1, hours = 2}
  T.eq({a.days, a.seconds, a.microseconds}, {1, 7200, 0})
  T.eq(tostring(a), "1 day, 2:00:00")
  T.eq(tostring(td{seconds = -1}), "-1 day, 23:59:59")
  T.eq(tostring(td{microseconds = 1500000}), "0:00:01.500000")
  T.eq(tostring(td()), "0:00:00")
  T.eq(tostring(td{days = 2}), "2 days, 0:00:00")
  -- str(timedelta(days=-3, hours=5, minutes=3, seconds=1.25))
  T.eq(tostring(td{days = -3, hours = 5, minutes = 3, seconds = 1.25}),
       "-3 days, 5:03:01.250000")
  T.eq(tostring(td{weeks = 1, milliseconds = 5}), "7 days, 0:00:00.005000")
  local b = td{seconds = -1}
  T.eq({b.days, b.seconds, b.microseconds}, {-1, 86399, 0})
  T.ok(td{hours = 1} == td{minutes = 60}, "equal spans are equal")
  T.ok(td{hours = 1} < td{hours = 2}, "ordered")
  T.eq(tostring(td{hours = 1} + td{minutes = 30}), "1:30:00")
  T.eq(tostring(td{hours = 1} - td{hours = 2}), "-1 day, 23:00:00")
  T.eq(tostring(-td{hours = 1}), "-1 day, 23:00:00")
  T.eq(td{hours = 1, microseconds = 5}:total_seconds(), 3600.000005)
  T.raises("ArgumentError", td, {days = "x"})
  T.raises("ArgumentError", td, 5)
end)

T.test("date arithmetic takes SQLAlchemy's result types", function()
  local t = Table("t", MetaData(), Column("dt", DateTime), Column("d", Date),
                  Column("iv", Interval), Column("tm", Time),
                  Column("i", Integer))
  local c = t.c
  local cases = {
    {c.dt - c.dt, "Interval"}, {c.dt + c.iv, "DateTime"},
    {c.dt - c.iv, "DateTime"}, {c.d - c.d, "Integer"},
    {c.d + c.iv, "DateTime"}, {c.iv + c.dt, "DateTime"},
    {c.iv + c.iv, "Interval"}, {c.iv - c.iv, "Interval"},
    {c.d + c.i, "Date"}, {c.d - c.i, "Date"}, {c.tm - c.tm, "Interval"},
    {c.d + c.tm, "DateTime"}, {c.tm + c.iv, "Time"},
    {c.dt - func.now(), "Interval"}, {func.now() - c.dt, "Interval"},
    {c.i + c.d, "Date"}, {c.iv * 2, "Interval"},
    {c.dt + sa.timedelta{hours = 2}, "DateTime"},
  }
  for i, case in ipairs(cases) do
    T.eq(case[1].type.__name__, case[2], "case " .. i)
  end
  T.eq(tostring(c.dt + sa.timedelta{hours = 2}), "t.dt + :dt_1")
end)

for _, db in ipairs(T.databases()) do
  if db.name == "postgresql" then
    T.test("postgresql: timestamp differences are timedeltas", function()
      local e = create_engine(db.url)
      local md = MetaData()
      local t = Table("dtv", md, Column("id", Integer, {primary_key = true}),
                      Column("a", DateTime), Column("b", DateTime),
                      Column("d", Date))
      md:drop_all(e)
      md:create_all(e)
      local c <close> = e:connect()
      c:execute(insert(t), {id = 1, a = "2026-11-21 08:00:00",
                            b = "2026-11-22 10:30:00", d = "2026-11-21"})
      -- SQLAlchemy: (datetime.timedelta(days=1, seconds=9000),
      -- datetime.datetime(2026, 11, 21, 10, 0), 0)
      local r = c:execute(select(t.c.b - t.c.a,
                                 t.c.a + sa.timedelta{hours = 2},
                                 t.c.d - t.c.d)):one()
      T.eq(tostring(r[1]), "1 day, 2:30:00")
      T.eq(r[2], "2026-11-21 10:00:00")
      T.eq(r[3], 0)
      c:rollback()
      md:drop_all(e)
      e:dispose()
    end)
  end

  T.test(db.name .. ": Interval round-trips as a timedelta", function()
    local e = create_engine(db.url)
    local md = MetaData()
    local t = Table("ivt", md, Column("id", Integer, {primary_key = true}),
                    Column("iv", Interval))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    c:execute(insert(t), {
      {id = 1, iv = sa.timedelta{days = 1, hours = 2}},
      {id = 2, iv = {seconds = -1}}, -- a plain table of the same fields
      {id = 3, iv = sa.timedelta{microseconds = 1500000}},
      {id = 5, iv = sa.timedelta{days = -800, microseconds = 7}}})
    c:execute(insert(t):values{id = 4, iv = sa.timedelta{days = 40}})
    c:execute(insert(t):values{id = 6})
    local rows = c:execute(select(t):order_by(t.c.id)):all()
    -- SQLAlchemy: (1, datetime.timedelta(days=1, seconds=7200)), ...
    T.eq(tostring(rows[1]), "(1, datetime.timedelta(days=1, seconds=7200))")
    T.eq(tostring(rows[2].iv), "-1 day, 23:59:59")
    -- MySQL's DATETIME keeps no fraction of a second
    T.eq(tostring(rows[3].iv),
         db.name == "mysql" and "0:00:01" or "0:00:01.500000")
    T.eq(tostring(rows[4]), "(4, datetime.timedelta(days=40))")
    T.eq(tostring(rows[5].iv), db.name == "mysql" and "-800 days, 0:00:00"
                               or "-800 days, 0:00:00.000007")
    T.eq(rows[6].iv, nil)
    T.ok(rows[1].iv == sa.timedelta{hours = 26}, "a timedelta compares")
    -- comparisons bind the value in the column's stored form
    T.eq(c:execute(select(t.c.id):where(t.c.iv:gt(sa.timedelta{days = 1}))
                   :order_by(t.c.id)):scalars():all(), {1, 4})
    T.eq(c:execute(select(t.c.id):where(t.c.iv:eq({days = 40}))):scalar(), 4)
    local raw = c:exec_driver_sql("SELECT iv FROM ivt WHERE id = 1"):scalar()
    if db.name == "postgresql" then
      -- psycopg2 gives a timedelta for any interval column
      T.eq(tostring(raw), "1 day, 2:00:00")
      T.eq(tostring(c:exec_driver_sql(
             "SELECT interval '1 year 2 mons -3 days 04:05:06.5'"):scalar()),
           "422 days, 4:05:06.500000")
      T.eq(tostring(c:exec_driver_sql(
             "SELECT interval '-1 days +23:59:59'"):scalar()),
           "-1 day, 23:59:59")
    elseif db.name == "sqlite" then
      T.eq(raw, "1970-01-02 02:00:00.000000") -- SQLAlchemy's stored form
    end
    c:rollback()
    md:drop_all(e)
    e:dispose()
  end)

  T.test(db.name .. ": an ORM attribute of type Interval", function()
    local e = create_engine(db.url)
    local Base = orm.declarative_base()
    local Job = Base:class "Job" {
      __tablename__ = "iv_jobs",
      id = orm.mapped_column(Integer, {primary_key = true}),
      took = orm.mapped_column(Interval),
    }
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local s = orm.Session(e)
    s:add(Job{id = 1, took = sa.timedelta{minutes = 90}})
    s:commit()
    s:expire_all()
    local j = s:get(Job, 1)
    T.eq(tostring(j.took), "1:30:00")
    j.took = j.took + sa.timedelta{seconds = 30}
    s:commit()
    T.eq(tostring(s:scalar(select(Job.took))), "1:30:30")
    s:close()
    Base.metadata:drop_all(e)
    e:dispose()
  end)
end

T.done()
