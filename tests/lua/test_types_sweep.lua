-- Types, DDL and the Inspector checked against SQLAlchemy 1.4 on the same
-- databases: each expectation is what SQLAlchemy printed for the same
-- table or statement.
local T = require "testing"

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local pg = db.name == "postgresql"

  if pg then
    T.test(n .. "get_indexes reports column_sorting and postgresql_with",
           function()
      local e = create_engine(db.url)
      local c <close> = e:connect()
      c:exec_driver_sql("DROP TABLE IF EXISTS sw_ix")
      c:exec_driver_sql("CREATE TABLE sw_ix (a INTEGER, b INTEGER, "
                        .. "c INTEGER, d INTEGER)")
      c:exec_driver_sql("CREATE INDEX sw_ix_1 ON sw_ix "
                        .. "(a DESC, b, c NULLS FIRST, d DESC NULLS FIRST)")
      c:exec_driver_sql("CREATE INDEX sw_ix_2 ON sw_ix (a ASC NULLS LAST, "
                        .. "b DESC NULLS LAST) WITH (fillfactor = 70)")
      c:exec_driver_sql("CREATE INDEX sw_ix_3 ON sw_ix (c)")
      c:commit()
      local ixs = sa.inspect(e):get_indexes("sw_ix")
      T.eq(#ixs, 3)
      -- only what differs from the default order is reported
      T.eq(ixs[1].name, "sw_ix_1")
      T.eq(ixs[1].column_sorting, {a = {"desc"}, c = {"nulls_first"},
                                   d = {"desc"}})
      T.eq(ixs[1].dialect_options, {postgresql_include = {}})
      T.eq(ixs[2].column_sorting, {b = {"desc", "nulls_last"}})
      T.eq(ixs[2].dialect_options, {postgresql_include = {},
                                    postgresql_with = {fillfactor = "70"}})
      T.eq(ixs[3].column_sorting, nil)
      c:exec_driver_sql("DROP TABLE sw_ix")
      c:commit()
    end)
  end
end

T.done()
