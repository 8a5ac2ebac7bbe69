-- Index(name, expr...) on expressions: x:desc(), func.lower(x), text(),
-- x + 1, mixed with columns; CREATE INDEX per dialect as SQLAlchemy
-- renders it (expected text from SQLAlchemy 1.4.46), created by
-- create_all on every database (MariaDB has no functional index: there
-- only the forms it accepts run, the others are checked as text).
local T = require "testing"

local function squash(s) return (s:gsub("%s+", " "):gsub("%( ", "("):gsub(" %)", ")")) end

local expect = {
  {'ix_tlower',
    default = [==[CREATE INDEX ix_tlower ON ix_t (lower(name))]==],
    sqlite = [==[CREATE INDEX ix_tlower ON ix_t (lower(name))]==],
    postgresql = [==[CREATE INDEX ix_tlower ON ix_t (lower(name))]==],
    mysql = [==[CREATE INDEX ix_tlower ON ix_t (lower(name))]==],
  },
  {'ix_desc',
    default = [==[CREATE INDEX ix_desc ON ix_t (x DESC)]==],
    sqlite = [==[CREATE INDEX ix_desc ON ix_t (x DESC)]==],
    postgresql = [==[CREATE INDEX ix_desc ON ix_t (x DESC)]==],
    mysql = [==[CREATE INDEX ix_desc ON ix_t (x DESC)]==],
  },
  {'ix_lower',
    default = [==[CREATE INDEX ix_lower ON ix_t (lower(name))]==],
    sqlite = [==[CREATE INDEX ix_lower ON ix_t (lower(name))]==],
    postgresql = [==[CREATE INDEX ix_lower ON ix_t (lower(name))]==],
    mysql = [==[CREATE INDEX ix_lower ON ix_t ((lower(name)))]==],
  },
  {'ix_text',
    default = [==[CREATE INDEX ix_text ON ix_t (x, x + 1)]==],
    sqlite = [==[CREATE INDEX ix_text ON ix_t (x, x + 1)]==],
    postgresql = [==[CREATE INDEX ix_text ON ix_t (x, x + 1)]==],
    mysql = [==[CREATE INDEX ix_text ON ix_t (x, x + 1)]==],
  },
  {'ix_mixed',
    default = [==[CREATE UNIQUE INDEX ix_mixed ON ix_t (name, x DESC)]==],
    sqlite = [==[CREATE UNIQUE INDEX ix_mixed ON ix_t (name, x DESC)]==],
    postgresql = [==[CREATE UNIQUE INDEX ix_mixed ON ix_t (name, x DESC)]==],
    mysql = [==[CREATE UNIQUE INDEX ix_mixed ON ix_t (name, x DESC)]==],
  },
  {'ix_lower_x',
    default = [==[CREATE INDEX ix_lower_x ON ix_t (lower(name), x)]==],
    sqlite = [==[CREATE INDEX ix_lower_x ON ix_t (lower(name), x)]==],
    postgresql = [==[CREATE INDEX ix_lower_x ON ix_t (lower(name), x)]==],
    mysql = [==[CREATE INDEX ix_lower_x ON ix_t ((lower(name)), x)]==],
  },
  {'ix_asc',
    default = [==[CREATE INDEX ix_asc ON ix_t (x ASC)]==],
    sqlite = [==[CREATE INDEX ix_asc ON ix_t (x ASC)]==],
    postgresql = [==[CREATE INDEX ix_asc ON ix_t (x ASC)]==],
    mysql = [==[CREATE INDEX ix_asc ON ix_t (x ASC)]==],
  },
  {'ix_expr',
    default = [==[CREATE INDEX ix_expr ON ix_t (x + 1)]==],
    sqlite = [==[CREATE INDEX ix_expr ON ix_t (x + 1)]==],
    postgresql = [==[CREATE INDEX ix_expr ON ix_t ((x + 1))]==],
    mysql = [==[CREATE INDEX ix_expr ON ix_t ((x + 1))]==],
  },
  {'ix_lit',
    default = [==[CREATE INDEX ix_lit ON ix_t (id, x)]==],
    sqlite = [==[CREATE INDEX ix_lit ON ix_t (id, x)]==],
    postgresql = [==[CREATE INDEX ix_lit ON ix_t (id, x)]==],
    mysql = [==[CREATE INDEX ix_lit ON ix_t (id, x)]==],
  },
  {'ix_nf',
    default = [==[CREATE INDEX ix_nf ON ix_t (x NULLS FIRST)]==],
    sqlite = [==[CREATE INDEX ix_nf ON ix_t (x NULLS FIRST)]==],
    postgresql = [==[CREATE INDEX ix_nf ON ix_t (x NULLS FIRST)]==],
    mysql = [==[CREATE INDEX ix_nf ON ix_t ((x NULLS FIRST))]==],
  },
  {'ix_cast',
    default = [==[CREATE INDEX ix_cast ON ix_t (CAST(name AS INTEGER))]==],
    sqlite = [==[CREATE INDEX ix_cast ON ix_t (CAST(name AS INTEGER))]==],
    postgresql = [==[CREATE INDEX ix_cast ON ix_t (CAST(name AS INTEGER))]==],
    mysql = [==[CREATE INDEX ix_cast ON ix_t (CAST(name AS SIGNED INTEGER))]==],
  },
  {'ix_mul',
    default = [==[CREATE INDEX ix_mul ON ix_t (x * 2, upper(name) DESC)]==],
    sqlite = [==[CREATE INDEX ix_mul ON ix_t (x * 2, upper(name) DESC)]==],
    postgresql = [==[CREATE INDEX ix_mul ON ix_t ((x * 2), upper(name) DESC)]==],
    mysql = [==[CREATE INDEX ix_mul ON ix_t ((x * 2), upper(name) DESC)]==],
  },
}

local function expect_of(name)
  for _, e in ipairs(expect) do if e[1] == name then return e end end
end

local function ix_table(md, name)
  return Table(name or "ix_t", md,
    Column("id", Integer, {primary_key = true}), Column("name", String(30)),
    Column("x", Integer), Index("ix_tlower", text("lower(name)")))
end

-- the indexes of expect, in its order, on table t
local function indexes(t)
  return {
    Index("ix_desc", t.c.x:desc()),
    Index("ix_lower", func.lower(t.c.name)),
    Index("ix_text", t.c.x, text("x + 1")),
    Index("ix_mixed", t.c.name, t.c.x:desc(), {unique = true}),
    Index("ix_lower_x", func.lower(t.c.name), t.c.x),
    Index("ix_asc", t.c.x:asc()),
    Index("ix_expr", t.c.x + 1),
    Index("ix_lit", t.c.id, literal_column("x")),
    Index("ix_nf", t.c.x:nulls_first()),
    Index("ix_cast", cast(t.c.name, Integer)),
    Index("ix_mul", t.c.x * 2, func.upper(t.c.name):desc()),
  }
end

T.test("CREATE INDEX on expressions renders as SQLAlchemy does", function()
  local t = ix_table(MetaData())
  local ixs = indexes(t)
  table.insert(ixs, 1, "ix_tlower")
  for i, exp in ipairs(expect) do
    local ix = ixs[i]
    local name = type(ix) == "string" and ix or ix.name
    T.eq(name, exp[1])
    local ddl
    if type(ix) == "string" then
      -- declared in Table(): found through the table's indexes
      for _, d in ipairs(t:_indexes()) do
        if tostring(d):find(ix, 1, true) then ddl = d end
      end
    else
      ddl = CreateIndex(ix)
    end
    T.eq(squash(tostring(ddl)), squash(exp.default), name)
    for _, d in ipairs{"sqlite", "postgresql", "mysql"} do
      T.eq(squash(ddl:compile(d).sql), squash(exp[d]), name .. " " .. d)
    end
  end
  -- the index belongs to the table of the expression's column
  local names = {}
  for _, ix in ipairs(t.indexes) do names[#names + 1] = ix.name end
  T.eq(#names, 12)
  T.eq(names[1], "ix_tlower")
  T.eq(names[3], "ix_lower")
end)

T.test("Index arguments", function()
  local t = ix_table(MetaData(), "ix_a")
  T.raises("ArgumentError", function() return Index("ix_bad", 5) end)
  T.raises("ArgumentError", function() return Index("ix_sel", select(t.c.x)) end)
  -- no column anywhere: not on any table, so no DDL
  T.raises("ArgumentError", function() return CreateIndex(Index("ix_free", text("x"))) end)
end)

-- the indexes a database can build: MariaDB has no functional key parts
-- (and PostgreSQL needs parentheses round text() it is given unwrapped)
local runs = {
  sqlite = {ix_desc = true, ix_lower = true, ix_text = true, ix_mixed = true,
            ix_lower_x = true, ix_asc = true, ix_expr = true, ix_lit = true,
            ix_cast = true, ix_mul = true},
  postgresql = {ix_desc = true, ix_lower = true, ix_mixed = true,
                ix_lower_x = true, ix_asc = true, ix_expr = true,
                ix_lit = true, ix_nf = true, ix_cast = true, ix_mul = true},
  mysql = {ix_desc = true, ix_mixed = true, ix_asc = true, ix_lit = true},
}

-- each index of indexes() by name, built on table t
local function index_named(t, name)
  local made
  for _, ix in ipairs(indexes(Table("ix_scratch", MetaData(),
      Column("id", Integer), Column("name", String(30)), Column("x", Integer)))) do
    if ix.name == name then made = ix end
  end
  assert(made, name)
  local ctors = {
    ix_desc = function() return Index("ix_desc", t.c.x:desc()) end,
    ix_lower = function() return Index("ix_lower", func.lower(t.c.name)) end,
    ix_text = function() return Index("ix_text", t.c.x, text("x + 1")) end,
    ix_mixed = function()
      return Index("ix_mixed", t.c.name, t.c.x:desc(), {unique = true})
    end,
    ix_lower_x = function()
      return Index("ix_lower_x", func.lower(t.c.name), t.c.x)
    end,
    ix_asc = function() return Index("ix_asc", t.c.x:asc()) end,
    ix_expr = function() return Index("ix_expr", t.c.x + 1) end,
    ix_lit = function() return Index("ix_lit", t.c.id, literal_column("x")) end,
    ix_nf = function() return Index("ix_nf", t.c.x:nulls_first()) end,
    ix_cast = function() return Index("ix_cast", cast(t.c.name, Integer)) end,
    ix_mul = function()
      return Index("ix_mul", t.c.x * 2, func.upper(t.c.name):desc())
    end,
  }
  return ctors[name]()
end

for _, db in ipairs(T.databases()) do
  T.test("create_all builds expression indexes on " .. db.name, function()
    local engine = create_engine(db.url)
    local md = MetaData()
    local t, want = nil, {}
    if db.name == "mysql" then
      t = Table("ix_run", md, Column("id", Integer, {primary_key = true}),
                Column("name", String(30)), Column("x", Integer))
    else
      t = ix_table(md, "ix_run")
      want[1] = "ix_tlower"
    end
    for name in pairs(runs[db.name]) do
      local ix = index_named(t, name)
      T.eq(squash(CreateIndex(ix):compile(db.name).sql),
           squash(expect_of(name)[db.name]:gsub("ix_t ", "ix_run ")))
      want[#want + 1] = name
    end
    md:drop_all(engine)
    md:create_all(engine)
    local got = {}
    local conn <close> = engine:connect()
    local sql = db.name == "postgresql"
      and "SELECT indexname FROM pg_indexes WHERE tablename = 'ix_run'"
      or db.name == "mysql"
      and "SELECT DISTINCT index_name FROM information_schema.statistics " ..
          "WHERE table_schema = DATABASE() AND table_name = 'ix_run'"
      or "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ix_run'"
    for _, row in ipairs(conn:exec_driver_sql(sql):all()) do
      local n = row[1]
      if n ~= "PRIMARY" and not n:find("pkey") and not n:find("autoindex") then
        got[#got + 1] = n
      end
    end
    table.sort(got)
    table.sort(want)
    T.eq(got, want)
    -- the unique index over (name, x DESC) is enforced (a name CAST to
    -- INTEGER by ix_cast must read as one)
    conn:execute(insert(t), {{id = 1, name = "7", x = 1}})
    T.raises("IntegrityError", function()
      conn:execute(insert(t), {{id = 2, name = "7", x = 1}})
    end)
    conn:rollback()
    conn:close()
    md:drop_all(engine)
  end)
end

T.done()
