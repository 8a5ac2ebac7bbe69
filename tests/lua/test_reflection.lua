-- Reflection: sa.inspect(engine or connection) and the Inspector, on every
-- database the environment provides.  The expected tables are what
-- SQLAlchemy 1.4's Inspector returns for the same DDL.
local T = require "testing"

-- These tests check the reflection queries, so they look at the type text
-- the server reports: the type_from_sql hook hands it back unchanged.  The
-- mapping of that text to retort types is tested at the end.
local REG = debug.getregistry()
local function raw_text(dialect, text) return text end
REG["retort.type_from_sql"] = raw_text

-- The same schema in each dialect's words: a composite primary key, a
-- named and an unnamed UNIQUE constraint, a foreign key with ON DELETE /
-- ON UPDATE, a self-reference, plain and unique indexes, server defaults,
-- a comment where the dialect keeps one, and a view.
local ddl = {
  sqlite = {
    [[CREATE TABLE rt_refl_parent (
        a INTEGER NOT NULL,
        b VARCHAR(20) NOT NULL,
        label VARCHAR(50) DEFAULT 'none',
        score NUMERIC(10, 2),
        PRIMARY KEY (a, b),
        CONSTRAINT uq_parent_label UNIQUE (label))]],
    [[CREATE TABLE rt_refl_node (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER REFERENCES rt_refl_node (id),
        pa INTEGER,
        pb VARCHAR(20),
        name VARCHAR(50) NOT NULL,
        code CHAR(4),
        created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        qty INTEGER DEFAULT 0 NOT NULL,
        UNIQUE (code),
        CONSTRAINT fk_node_parent FOREIGN KEY (pa, pb) REFERENCES rt_refl_parent (a, b) ON DELETE CASCADE ON UPDATE SET NULL)]],
    "CREATE INDEX ix_node_name ON rt_refl_node (name)",
    "CREATE UNIQUE INDEX ux_node_pa_qty ON rt_refl_node (pa, qty)",
    "CREATE VIEW rt_refl_node_names AS SELECT id, name FROM rt_refl_node",
  },
  postgresql = {
    [[CREATE TABLE rt_refl_parent (
        a INTEGER NOT NULL,
        b VARCHAR(20) NOT NULL,
        label VARCHAR(50) DEFAULT 'none',
        score NUMERIC(10, 2),
        PRIMARY KEY (a, b),
        CONSTRAINT uq_parent_label UNIQUE (label))]],
    [[CREATE TABLE rt_refl_node (
        id SERIAL PRIMARY KEY,
        parent_id INTEGER REFERENCES rt_refl_node (id),
        pa INTEGER,
        pb VARCHAR(20),
        name VARCHAR(50) NOT NULL,
        code CHAR(4),
        created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        qty INTEGER DEFAULT 0 NOT NULL,
        UNIQUE (code),
        CONSTRAINT fk_node_parent FOREIGN KEY (pa, pb) REFERENCES rt_refl_parent (a, b)
          ON DELETE CASCADE ON UPDATE SET NULL)]],
    "COMMENT ON COLUMN rt_refl_node.name IS 'the name'",
    "CREATE INDEX ix_node_name ON rt_refl_node (name)",
    "CREATE UNIQUE INDEX ux_node_pa_qty ON rt_refl_node (pa, qty)",
    "CREATE VIEW rt_refl_node_names AS SELECT id, name FROM rt_refl_node",
  },
  mysql = {
    [[CREATE TABLE rt_refl_parent (
        a INTEGER NOT NULL,
        b VARCHAR(20) NOT NULL,
        label VARCHAR(50) DEFAULT 'none',
        score NUMERIC(10, 2),
        PRIMARY KEY (a, b),
        CONSTRAINT uq_parent_label UNIQUE (label)) ENGINE=InnoDB]],
    [[CREATE TABLE rt_refl_node (
        id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
        parent_id INTEGER,
        pa INTEGER,
        pb VARCHAR(20),
        name VARCHAR(50) NOT NULL COMMENT 'the name',
        code CHAR(4),
        created TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
        qty INTEGER DEFAULT 0 NOT NULL,
        UNIQUE (code),
        FOREIGN KEY (parent_id) REFERENCES rt_refl_node (id),
        CONSTRAINT fk_node_parent FOREIGN KEY (pa, pb) REFERENCES rt_refl_parent (a, b)
          ON DELETE CASCADE ON UPDATE SET NULL) ENGINE=InnoDB]],
    "CREATE INDEX ix_node_name ON rt_refl_node (name)",
    "CREATE UNIQUE INDEX ux_node_pa_qty ON rt_refl_node (pa, qty)",
    "CREATE VIEW rt_refl_node_names AS SELECT id, name FROM rt_refl_node",
  },
}

local function col(name, type, nullable, extra)
  local c = {name = name, type = type, nullable = nullable}
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

local function sqlite_col(name, type, nullable, pk, default)
  return col(name, type, nullable,
             {autoincrement = "auto", primary_key = pk, default = default})
end

local expected = {
  sqlite = {
    parent_columns = {
      sqlite_col("a", "INTEGER", false, 1),
      sqlite_col("b", "VARCHAR(20)", false, 2),
      sqlite_col("label", "VARCHAR(50)", true, 0, "'none'"),
      sqlite_col("score", "NUMERIC(10, 2)", true, 0),
    },
    node_columns = {
      sqlite_col("id", "INTEGER", true, 1),
      sqlite_col("parent_id", "INTEGER", true, 0),
      sqlite_col("pa", "INTEGER", true, 0),
      sqlite_col("pb", "VARCHAR(20)", true, 0),
      sqlite_col("name", "VARCHAR(50)", false, 0),
      sqlite_col("code", "CHAR(4)", true, 0),
      sqlite_col("created", "TIMESTAMP", true, 0, "CURRENT_TIMESTAMP"),
      sqlite_col("qty", "INTEGER", false, 0, "0"),
    },
    parent_pk = {constrained_columns = {"a", "b"}},
    node_pk = {constrained_columns = {"id"}},
    node_fks = {
      {name = "fk_node_parent", constrained_columns = {"pa", "pb"},
       referred_table = "rt_refl_parent", referred_columns = {"a", "b"},
       options = {ondelete = "CASCADE", onupdate = "SET NULL"}},
      {constrained_columns = {"parent_id"}, referred_table = "rt_refl_node",
       referred_columns = {"id"}, options = {}},
    },
    parent_indexes = {},
    node_indexes = {
      {name = "ix_node_name", column_names = {"name"}, unique = false,
       dialect_options = {}},
      {name = "ux_node_pa_qty", column_names = {"pa", "qty"}, unique = true,
       dialect_options = {}},
    },
    parent_uniques = {{name = "uq_parent_label", column_names = {"label"}}},
    node_uniques = {{column_names = {"code"}}},
    schemas = {"main"},
    -- the self-reference has no name: SQLAlchemy's set holds None
    sorted = {{"rt_refl_parent", {}}, {"rt_refl_node", {"fk_node_parent", sa.null}}, {nil, {}}},
  },
  postgresql = {
    parent_columns = {
      col("a", "integer", false, {autoincrement = false}),
      col("b", "character varying(20)", false, {autoincrement = false}),
      col("label", "character varying(50)", true,
          {autoincrement = false, default = "'none'::character varying"}),
      col("score", "numeric(10,2)", true, {autoincrement = false}),
    },
    node_columns = {
      col("id", "integer", false, {autoincrement = true,
          default = "nextval('rt_refl_node_id_seq'::regclass)"}),
      col("parent_id", "integer", true, {autoincrement = false}),
      col("pa", "integer", true, {autoincrement = false}),
      col("pb", "character varying(20)", true, {autoincrement = false}),
      col("name", "character varying(50)", false,
          {autoincrement = false, comment = "the name"}),
      col("code", "character(4)", true, {autoincrement = false}),
      col("created", "timestamp without time zone", true,
          {autoincrement = false, default = "CURRENT_TIMESTAMP"}),
      col("qty", "integer", false, {autoincrement = false, default = "0"}),
    },
    parent_pk = {constrained_columns = {"a", "b"}, name = "rt_refl_parent_pkey"},
    node_pk = {constrained_columns = {"id"}, name = "rt_refl_node_pkey"},
    node_fks = {
      {name = "fk_node_parent", constrained_columns = {"pa", "pb"},
       referred_table = "rt_refl_parent", referred_columns = {"a", "b"},
       options = {ondelete = "CASCADE", onupdate = "SET NULL"}},
      {name = "rt_refl_node_parent_id_fkey", constrained_columns = {"parent_id"},
       referred_table = "rt_refl_node", referred_columns = {"id"}, options = {}},
    },
    -- indexes behind UNIQUE constraints are listed, marked as duplicates;
    -- on PostgreSQL 11 and later each says which INCLUDE columns it has
    parent_indexes = {
      {name = "uq_parent_label", column_names = {"label"}, unique = true,
       duplicates_constraint = "uq_parent_label", include_columns = {},
       dialect_options = {postgresql_include = {}}},
    },
    node_indexes = {
      {name = "ix_node_name", column_names = {"name"}, unique = false,
       include_columns = {}, dialect_options = {postgresql_include = {}}},
      {name = "rt_refl_node_code_key", column_names = {"code"}, unique = true,
       duplicates_constraint = "rt_refl_node_code_key", include_columns = {},
       dialect_options = {postgresql_include = {}}},
      {name = "ux_node_pa_qty", column_names = {"pa", "qty"}, unique = true,
       include_columns = {}, dialect_options = {postgresql_include = {}}},
    },
    parent_uniques = {{name = "uq_parent_label", column_names = {"label"}}},
    node_uniques = {{name = "rt_refl_node_code_key", column_names = {"code"}}},
    sorted = {{"rt_refl_parent", {}}, {"rt_refl_node", {"fk_node_parent",
                                         "rt_refl_node_parent_id_fkey"}}, {nil, {}}},
  },
  mysql = {
    parent_columns = {
      col("a", "int(11)", false, {autoincrement = false}),
      col("b", "varchar(20)", false),
      col("label", "varchar(50)", true, {default = "'none'"}),
      col("score", "decimal(10,2)", true),
    },
    node_columns = {
      col("id", "int(11)", false, {autoincrement = true}),
      col("parent_id", "int(11)", true, {autoincrement = false}),
      col("pa", "int(11)", true, {autoincrement = false}),
      col("pb", "varchar(20)", true),
      col("name", "varchar(50)", false, {comment = "the name"}),
      col("code", "char(4)", true),
      col("created", "timestamp", true, {default = "current_timestamp()"}),
      col("qty", "int(11)", false, {autoincrement = false, default = "0"}),
    },
    parent_pk = {constrained_columns = {"a", "b"}},
    node_pk = {constrained_columns = {"id"}},
    node_fks = {
      {name = "fk_node_parent", constrained_columns = {"pa", "pb"},
       referred_table = "rt_refl_parent", referred_columns = {"a", "b"},
       options = {ondelete = "CASCADE", onupdate = "SET NULL"}},
      {name = "rt_refl_node_ibfk_1", constrained_columns = {"parent_id"},
       referred_table = "rt_refl_node", referred_columns = {"id"}, options = {}},
    },
    -- every key but PRIMARY, in the server's order: unique keys first,
    -- and the keys InnoDB made for the foreign keys
    parent_indexes = {
      {name = "uq_parent_label", column_names = {"label"}, unique = true,
       type = "UNIQUE"},
    },
    node_indexes = {
      {name = "code", column_names = {"code"}, unique = true, type = "UNIQUE"},
      {name = "ux_node_pa_qty", column_names = {"pa", "qty"}, unique = true,
       type = "UNIQUE"},
      {name = "parent_id", column_names = {"parent_id"}, unique = false},
      {name = "fk_node_parent", column_names = {"pa", "pb"}, unique = false},
      {name = "ix_node_name", column_names = {"name"}, unique = false},
    },
    parent_uniques = {{name = "uq_parent_label", column_names = {"label"},
                       duplicates_index = "uq_parent_label"}},
    node_uniques = {
      {name = "code", column_names = {"code"}, duplicates_index = "code"},
      {name = "ux_node_pa_qty", column_names = {"pa", "qty"},
       duplicates_index = "ux_node_pa_qty"},
    },
    sorted = {{"rt_refl_parent", {}}, {"rt_refl_node", {"fk_node_parent", "rt_refl_node_ibfk_1"}},
              {nil, {}}},
  },
}

-- Only this file's tables: a server's database is shared with other tests.
local function ours(names)
  local kept = {}
  for _, name in ipairs(names) do
    if name:match("^rt_refl_") then kept[#kept + 1] = name end
  end
  return kept
end

local function ours_sorted(entries)
  local kept = {}
  for _, entry in ipairs(entries) do
    if entry[1] == nil then
      local rest = {}
      for _, pair in ipairs(entry[2]) do
        if pair[1]:match("^rt_refl_") then rest[#rest + 1] = pair end
      end
      kept[#kept + 1] = {nil, rest}
    elseif entry[1]:match("^rt_refl_") then
      kept[#kept + 1] = entry
    end
  end
  return kept
end

local function setup(db)
  local e = create_engine(db.url)
  local c = e:connect()
  for _, s in ipairs({"DROP VIEW IF EXISTS rt_refl_node_names",
                      "DROP TABLE IF EXISTS rt_refl_node", "DROP TABLE IF EXISTS rt_refl_parent",
                      "DROP TABLE IF EXISTS rt_cycle_a",
                      "DROP TABLE IF EXISTS rt_cycle_b"}) do
    c:exec_driver_sql(s)
  end
  for _, s in ipairs(ddl[db.name]) do c:exec_driver_sql(s) end
  c:commit()
  c:close()
  return e
end

local function teardown(e)
  local c = e:connect()
  c:exec_driver_sql("DROP VIEW IF EXISTS rt_refl_node_names")
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_refl_node")
  c:exec_driver_sql("DROP TABLE IF EXISTS rt_refl_parent")
  c:commit()
  c:close()
  e:dispose()
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local want = expected[db.name]

  T.test(n .. "table, view and schema names", function()
    local e = setup(db)
    local insp = sa.inspect(e)
    -- (PostgreSQL lists them in the catalog's order, as SQLAlchemy's
    -- query does: not an order a test can rely on)
    local names = ours(insp:get_table_names())
    table.sort(names)
    T.eq(names, {"rt_refl_node", "rt_refl_parent"})
    T.eq(ours(insp:get_view_names()), {"rt_refl_node_names"})
    local schemas = insp:get_schema_names()
    if want.schemas then T.eq(schemas, want.schemas) end
    T.ok(#schemas >= 1)
    T.eq(insp.bind, e)
    teardown(e)
  end)

  T.test(n .. "columns", function()
    local e = setup(db)
    local insp = sa.inspect(e)
    T.eq(insp:get_columns("rt_refl_parent"), want.parent_columns)
    T.eq(insp:get_columns("rt_refl_node"), want.node_columns)
    -- a view's columns too
    local names = {}
    for _, c in ipairs(insp:get_columns("rt_refl_node_names")) do
      names[#names + 1] = c.name
    end
    T.eq(names, {"id", "name"})
    teardown(e)
  end)

  T.test(n .. "primary keys", function()
    local e = setup(db)
    local insp = sa.inspect(e)
    T.eq(insp:get_pk_constraint("rt_refl_parent"), want.parent_pk)
    T.eq(insp:get_pk_constraint("rt_refl_node"), want.node_pk)
    teardown(e)
  end)

  T.test(n .. "foreign keys", function()
    local e = setup(db)
    local insp = sa.inspect(e)
    T.eq(insp:get_foreign_keys("rt_refl_parent"), {})
    T.eq(insp:get_foreign_keys("rt_refl_node"), want.node_fks)
    teardown(e)
  end)

  T.test(n .. "indexes", function()
    local e = setup(db)
    local insp = sa.inspect(e)
    T.eq(insp:get_indexes("rt_refl_parent"), want.parent_indexes)
    T.eq(insp:get_indexes("rt_refl_node"), want.node_indexes)
    teardown(e)
  end)

  T.test(n .. "unique constraints", function()
    local e = setup(db)
    local insp = sa.inspect(e)
    T.eq(insp:get_unique_constraints("rt_refl_parent"), want.parent_uniques)
    T.eq(insp:get_unique_constraints("rt_refl_node"), want.node_uniques)
    teardown(e)
  end)

  T.test(n .. "has_table and NoSuchTableError", function()
    local e = setup(db)
    local insp = sa.inspect(e)
    T.eq(insp:has_table("rt_refl_node"), true)
    T.eq(insp:has_table("rt_no_such_table"), false)
    local methods = {"get_columns", "get_pk_constraint", "get_foreign_keys",
                     "get_indexes", "get_unique_constraints",
                     "get_check_constraints"}
    if db.name == "sqlite" then
      -- SQLAlchemy 1.4's SQLite dialect answers with nothing
      for _, m in ipairs(methods) do
        T.eq(insp[m](insp, "rt_no_such_table"),
             m == "get_pk_constraint" and {constrained_columns = {}} or {})
      end
    else
      methods[#methods + 1] = "get_table_comment"
      for _, m in ipairs(methods) do
        local err = T.raises("NoSuchTableError", insp[m], insp,
                             "rt_no_such_table")
        T.eq(err.message, "rt_no_such_table")
      end
    end
    teardown(e)
  end)

  T.test(n .. "tables in dependency order", function()
    local e = setup(db)
    T.eq(ours_sorted(sa.inspect(e):get_sorted_table_and_fkc_names()),
         want.sorted)
    teardown(e)
  end)

  T.test(n .. "an Inspector on a connection sees its transaction", function()
    local e = setup(db)
    local c = e:connect()
    c:exec_driver_sql("CREATE TABLE rt_cycle_a (id INTEGER PRIMARY KEY)")
    local insp = sa.inspect(c)
    T.eq(insp.bind, c)
    T.eq(insp:has_table("rt_cycle_a"), true)
    T.eq(insp:get_pk_constraint("rt_cycle_a").constrained_columns, {"id"})
    c:rollback()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_cycle_a")
    c:commit()
    c:close()
    T.raises("ResourceClosedError", insp.get_table_names, insp)
    teardown(e)
  end)

  T.test(n .. "type_from_sql converts reflected types", function()
    local e = setup(db)
    local reg = debug.getregistry()
    local seen = {}
    reg["retort.type_from_sql"] = function(dialect, text)
      seen[#seen + 1] = dialect
      return {sql = text}
    end
    local ok, cols = pcall(sa.inspect(e).get_columns, sa.inspect(e), "rt_refl_parent")
    reg["retort.type_from_sql"] = raw_text
    T.ok(ok, tostring(cols))
    T.eq(cols[1].type, {sql = want.parent_columns[1].type})
    T.eq(seen[1], db.name)
    T.eq(#seen, 4)
    teardown(e)
  end)
end

T.test("sqlite: a cycle sets its foreign keys aside", function()
  local e = create_engine("sqlite://")
  local c = e:connect()
  c:exec_driver_sql("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, " ..
                    "CONSTRAINT fk_b_a FOREIGN KEY (a_id) REFERENCES a (id))")
  c:exec_driver_sql("CREATE TABLE a (id INTEGER PRIMARY KEY, " ..
                    "b_id INTEGER REFERENCES b (id))")
  c:exec_driver_sql("CREATE TABLE z (id INTEGER PRIMARY KEY)")
  c:commit()
  T.eq(sa.inspect(c):get_sorted_table_and_fkc_names(), {
    {"a", {sa.null}}, {"b", {"fk_b_a"}}, {"z", {}},
    {nil, {{"a", sa.null}, {"b", "fk_b_a"}}}})
  c:close()
end)

T.test("sqlite: quoting, inline constraints and odd declarations", function()
  local e = create_engine("sqlite://")
  local c = e:connect()
  c:exec_driver_sql([[CREATE TABLE "we ""ird" ("the id" INTEGER,
    CONSTRAINT "pk w" PRIMARY KEY ("the id"))]])
  c:exec_driver_sql([[CREATE TABLE t (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    w INTEGER REFERENCES "we ""ird" ON DELETE SET DEFAULT,
    x VARCHAR(3) UNIQUE,
    y INT CONSTRAINT uq_y UNIQUE,
    g INTEGER GENERATED ALWAYS AS (id * 2) STORED,
    nodecl,
    UNIQUE (x, y))]])
  c:exec_driver_sql("CREATE INDEX ix_expr ON t (id + 1)")
  c:exec_driver_sql('CREATE INDEX "ix q" ON t (nodecl DESC, x)')
  local insp = sa.inspect(c)
  -- sqlite_sequence (made by AUTOINCREMENT) is listed too, as SQLAlchemy
  -- 1.4 lists it
  T.eq(insp:get_table_names(), {"sqlite_sequence", "t", 'we "ird'})
  -- SQLAlchemy's patterns take only plain names: a quoted constraint name
  -- is not read, and an inline UNIQUE is never named
  T.eq(insp:get_pk_constraint('we "ird'), {constrained_columns = {"the id"}})
  -- an inline REFERENCES has no options: SQLAlchemy 1.4 reads them only
  -- from a table-level FOREIGN KEY
  T.eq(insp:get_foreign_keys("t"), {
    {constrained_columns = {"w"}, referred_table = 'we "ird',
     referred_columns = {"the id"}, options = {}}})
  T.eq(insp:get_unique_constraints("t"), {
    {column_names = {"x", "y"}}, {column_names = {"y"}}})
  T.eq(insp:get_indexes("t"),
       {{name = "ix q", column_names = {"nodecl", "x"}, unique = false,
         dialect_options = {}}})
  local cols = insp:get_columns("t")
  T.eq(cols[5], {name = "g", type = "INTEGER", nullable = true,
                 autoincrement = "auto", primary_key = 0,
                 computed = {sqltext = "id * 2", persisted = true}})
  T.eq(cols[6].type, "")
  c:close()
end)

-- SQLite keeps the DDL as typed; SQLAlchemy 1.4 reads names, ON DELETE /
-- ON UPDATE, UNIQUE and CHECK constraints from it with regular
-- expressions, quirks included.  Every expectation here is what its
-- Inspector printed for this DDL.
T.test("sqlite: constraints read from the text as SQLAlchemy reads them",
       function()
  local c = create_engine("sqlite://"):connect()
  for _, ddl in ipairs{
    "CREATE TABLE p (id INTEGER PRIMARY KEY, name VARCHAR(20) UNIQUE, " ..
      "a INT, b INT, UNIQUE(a, b))",
    "CREATE TABLE t (id INTEGER PRIMARY KEY, pid INTEGER, x INTEGER NOT " ..
      "NULL DEFAULT 3, CONSTRAINT fk_t FOREIGN KEY(pid) REFERENCES p(id) " ..
      "ON DELETE CASCADE, UNIQUE(x))",
    "CREATE INDEX ix_t_x ON t(x, pid)",
    "CREATE TABLE c1 (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) " ..
      "ON DELETE CASCADE ON UPDATE SET NULL, pa INT, pb INT, FOREIGN KEY " ..
      "(pa, pb) REFERENCES p (a, b) ON UPDATE NO ACTION ON DELETE SET " ..
      "DEFAULT DEFERRABLE INITIALLY DEFERRED)",
    'CREATE TABLE c2 (id INTEGER PRIMARY KEY, pid INTEGER, FOREIGN ' ..
      'KEY(pid) REFERENCES "p"(id) NOT DEFERRABLE)',
    [[CREATE TABLE c3 (
  id INTEGER NOT NULL,
  pid INTEGER,
  q VARCHAR(10) CONSTRAINT uq_q UNIQUE,
  r TEXT NOT NULL UNIQUE,
  CONSTRAINT pk_c3 PRIMARY KEY (id),
  CONSTRAINT fk3 FOREIGN KEY(pid) REFERENCES p(id) ON DELETE CASCADE ON UPDATE RESTRICT,
  CONSTRAINT "ck one" CHECK (id > 0),
  CHECK (q <> 'x'),
  CONSTRAINT uq_pr UNIQUE (pid, r)
)]],
    'CREATE TABLE c4 (id INTEGER PRIMARY KEY, pid INTEGER CONSTRAINT fk4 ' ..
      'REFERENCES "p" (id) ON DELETE CASCADE, g INTEGER GENERATED ALWAYS ' ..
      'AS (id * 2) STORED, v TEXT GENERATED ALWAYS AS (upper(pid)) ' ..
      'VIRTUAL, w, z REAL)',
    "CREATE INDEX ix_partial ON c4 (pid) WHERE pid > 3",
    "CREATE UNIQUE INDEX ux_c4 ON c4 (z DESC, w)",
  } do
    c:exec_driver_sql(ddl)
  end
  local insp = sa.inspect(c)
  -- an inline REFERENCES keeps no options (nor its name); a table-level
  -- FOREIGN KEY has them all, NO ACTION left out
  T.eq(insp:get_foreign_keys("c1"), {
    {constrained_columns = {"pa", "pb"}, referred_table = "p",
     referred_columns = {"a", "b"},
     options = {ondelete = "SET DEFAULT", deferrable = true,
                initially = "DEFERRED"}},
    {constrained_columns = {"pid"}, referred_table = "p",
     referred_columns = {"id"}, options = {}}})
  T.eq(insp:get_foreign_keys("c2"), {
    {constrained_columns = {"pid"}, referred_table = "p",
     referred_columns = {"id"}, options = {deferrable = false}}})
  T.eq(insp:get_foreign_keys("c4"), {
    {constrained_columns = {"pid"}, referred_table = "p",
     referred_columns = {"id"}, options = {}}})
  T.eq(insp:get_foreign_keys("t"), {
    {name = "fk_t", constrained_columns = {"pid"}, referred_table = "p",
     referred_columns = {"id"}, options = {ondelete = "CASCADE"}}})
  T.eq(insp:get_foreign_keys("c3"), {
    {name = "fk3", constrained_columns = {"pid"}, referred_table = "p",
     referred_columns = {"id"},
     options = {ondelete = "CASCADE", onupdate = "RESTRICT"}}})
  T.eq(insp:get_pk_constraint("c3"),
       {constrained_columns = {"id"}, name = "pk_c3"})
  -- UNIQUE: a named table-level one, an inline one without its name; on
  -- one line the pattern reaches back to the first CONSTRAINT
  T.eq(insp:get_unique_constraints("c3"), {
    {name = "uq_pr", column_names = {"pid", "r"}}, {column_names = {"r"}}})
  T.eq(insp:get_unique_constraints("p"), {{column_names = {"a", "b"}}})
  T.eq(insp:get_unique_constraints("t"), {
    {name = "fk_t FOREIGN KEY(pid) REFERENCES p(id) ON DELETE CASCADE,",
     column_names = {"x"}}})
  T.eq(insp:get_check_constraints("c3"), {
    {name = "ck one", sqltext = "id > 0"}, {sqltext = "q <> 'x'"}})
  T.eq(insp:get_check_constraints("t"), {})
  -- a partial index's predicate is a text() in dialect_options
  local ix = insp:get_indexes("c4")
  T.eq(#ix, 2)
  T.eq(tostring(ix[1].dialect_options.sqlite_where), "pid > 3")
  ix[1].dialect_options = nil
  T.eq(ix, {{name = "ix_partial", column_names = {"pid"}, unique = false},
            {name = "ux_c4", column_names = {"z", "w"}, unique = true,
             dialect_options = {}}})
  local cols = insp:get_columns("c4")
  T.eq(cols[3].computed, {sqltext = "id * 2", persisted = true})
  T.eq(cols[4].computed, {sqltext = "upper(pid)", persisted = false})
  T.eq(cols[4].type, "TEXT")
  local err = T.raises("NotSupportedError", insp.get_table_comment, insp, "c4")
  T.match(err.message, "comment")
  c:close()
end)

T.test("sqlite: declared types map as SQLAlchemy's affinity rules do",
       function()
  local c = create_engine("sqlite://"):connect()
  c:exec_driver_sql("CREATE TABLE ty (a TINYINT, b FOO(3), c DOUBLE, " ..
                    "d VARCHAR (20), e MEDIUMTEXT, f BLOBBY, g, h REAL, " ..
                    "i DECIMAL(8), j BOOL)")
  REG["retort.type_from_sql"] = nil
  local ok, cols = pcall(sa.inspect(c).get_columns, sa.inspect(c), "ty")
  REG["retort.type_from_sql"] = raw_text
  T.ok(ok, tostring(cols))
  local got = {}
  for _, col in ipairs(cols) do got[#got + 1] = tostring(col.type) end
  -- as SQLAlchemy ("VARCHAR " is no name it knows, but has CHAR)
  T.eq(got, {"INTEGER", "NUMERIC(3)", "FLOAT", "TEXT(20)", "TEXT", "NULL",
             "NULL", "REAL", "DECIMAL(8)", "BOOLEAN"})
  c:close()
end)

-- Keys, checks, comments, computed and identity columns and index options
-- on the servers, shaped as SQLAlchemy 1.4's dialects report them (its
-- PostgreSQL dialect reads pg_get_constraintdef and pg_index, its MySQL
-- dialect SHOW CREATE TABLE).
local server_ddl = {
  postgresql = {
    "CREATE TABLE rt_rx_p (id INTEGER PRIMARY KEY, a INT, b INT, " ..
      "UNIQUE (a, b))",
    [[CREATE TABLE rt_rx_c (
      id INTEGER GENERATED BY DEFAULT AS IDENTITY (START WITH 5 INCREMENT BY 2)
        PRIMARY KEY,
      pid INTEGER, pa INT, pb INT,
      g INTEGER GENERATED ALWAYS AS (pid * 2) STORED,
      n INTEGER CONSTRAINT ck_n CHECK (n > 0),
      CONSTRAINT fk_c FOREIGN KEY (pid) REFERENCES rt_rx_p (id)
        DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT fk_ab FOREIGN KEY (pa, pb) REFERENCES rt_rx_p (a, b)
        MATCH FULL ON DELETE CASCADE,
      CONSTRAINT ck_two CHECK (pa > 1 AND pb < 5))]],
    "COMMENT ON TABLE rt_rx_c IS 'the children'",
    "CREATE INDEX ix_rx_part ON rt_rx_c (pid) INCLUDE (pa) WHERE pid > 3",
    "CREATE INDEX ix_rx_hash ON rt_rx_c USING hash (pb)",
  },
  mysql = {
    "CREATE TABLE rt_rx_p (id INTEGER PRIMARY KEY) ENGINE=InnoDB",
    "CREATE TABLE rt_rx_c (id INTEGER PRIMARY KEY, a INT, " ..
      "g INT AS (a * 2) STORED, v INT AS (a + 1) VIRTUAL, " ..
      "n INT CHECK (n > 0), body TEXT, " ..
      "CONSTRAINT ck_a CHECK (a > 0), FULLTEXT INDEX ft_body (body)) " ..
      "ENGINE=InnoDB COMMENT='the children'",
  },
}

local function by_name(list)
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

for _, db in ipairs(T.databases()) do
  if server_ddl[db.name] then
    T.test(db.name .. ": checks, comments, key options, computed columns",
           function()
      local e = create_engine(db.url)
      local c = e:connect()
      c:exec_driver_sql("DROP TABLE IF EXISTS rt_rx_c")
      c:exec_driver_sql("DROP TABLE IF EXISTS rt_rx_p")
      for _, s in ipairs(server_ddl[db.name]) do c:exec_driver_sql(s) end
      c:commit()
      local insp = sa.inspect(c)
      T.eq(insp:get_table_comment("rt_rx_c"), {text = "the children"})
      T.eq(insp:get_table_comment("rt_rx_p"), {})
      local cols = {}
      for _, col in ipairs(insp:get_columns("rt_rx_c")) do
        cols[col.name] = col
      end
      if db.name == "postgresql" then
        T.eq(by_name(insp:get_check_constraints("rt_rx_c")), {
          {name = "ck_n", sqltext = "n > 0"},
          -- SQLAlchemy drops the first "(" and the last ")" of the text
          {name = "ck_two", sqltext = "(pa > 1) AND (pb < 5)"}})
        T.eq(insp:get_foreign_keys("rt_rx_c"), {
          {name = "fk_ab", constrained_columns = {"pa", "pb"},
           referred_table = "rt_rx_p", referred_columns = {"a", "b"},
           options = {ondelete = "CASCADE", match = "FULL"}},
          {name = "fk_c", constrained_columns = {"pid"},
           referred_table = "rt_rx_p", referred_columns = {"id"},
           options = {deferrable = true, initially = "DEFERRED"}}})
        T.eq(cols.id, {name = "id", type = "integer", nullable = false,
                       autoincrement = true,
                       identity = {always = false, start = 5, increment = 2,
                                   minvalue = 1, maxvalue = 2147483647,
                                   cache = 1, cycle = false}})
        T.eq(cols.g, {name = "g", type = "integer", nullable = true,
                      autoincrement = false,
                      computed = {sqltext = "(pid * 2)", persisted = true}})
        T.eq(insp:get_indexes("rt_rx_c"), {
          {name = "ix_rx_hash", column_names = {"pb"}, unique = false,
           include_columns = {},
           dialect_options = {postgresql_include = {},
                              postgresql_using = "hash"}},
          {name = "ix_rx_part", column_names = {"pid"}, unique = false,
           include_columns = {"pa"},
           dialect_options = {postgresql_include = {"pa"},
                              postgresql_where = "(pid > 3)"}}})
      else
        -- only table-level checks: MariaDB keeps a column's on its line
        T.eq(insp:get_check_constraints("rt_rx_c"),
             {{name = "ck_a", sqltext = "`a` > 0"}})
        T.eq(cols.g.computed, {sqltext = "(`a` * 2)", persisted = true})
        T.eq(cols.v.computed, {sqltext = "(`a` + 1)", persisted = false})
        T.eq(cols.g.default, nil)
        T.eq(insp:get_indexes("rt_rx_c"), {
          {name = "ft_body", column_names = {"body"}, unique = false,
           type = "FULLTEXT", dialect_options = {mysql_prefix = "FULLTEXT"}}})
      end
      T.eq(insp:get_check_constraints("rt_rx_p"), {})
      c:exec_driver_sql("DROP TABLE rt_rx_c")
      c:exec_driver_sql("DROP TABLE rt_rx_p")
      c:commit()
      c:close()
    end)
  end
end

T.test("inspect needs an engine or a connection", function()
  local err = T.raises("NoInspectionAvailable", sa.inspect, 42)
  T.eq(err.message, "No inspection system is available for object of type number")
  err = T.raises("InvalidRequestError", sa.inspect, {})
  T.match(err.message, "of type table$")
  T.eq(inspect, sa.inspect)
end)

-- The Chinook sample database, loaded with the sqlite3 shell.
local src = os.getenv("RETORT_TEST_SRC") or "."
local chinook = src .. "/../shared/data/chinook/Chinook_Sqlite.sql"
local have_file = io.open(chinook) ~= nil
local have_shell = os.execute("command -v sqlite3 >/dev/null 2>&1")
if not (have_file and have_shell) then
  T.skip("sqlite: Chinook", "needs " .. chinook .. " and the sqlite3 shell")
else
  T.test("sqlite: Chinook", function()
    local path = os.tmpname()
    os.remove(path)
    T.ok(os.execute("sqlite3 '" .. path .. "' < '" .. chinook .. "'"))
    local e = create_engine("sqlite:///" .. path)
    local insp = sa.inspect(e)
    T.eq(insp:get_table_names(), {"Album", "Artist", "Customer", "Employee",
      "Genre", "Invoice", "InvoiceLine", "MediaType", "Playlist",
      "PlaylistTrack", "Track"})
    -- SQLAlchemy's patterns don't read Chinook's [bracketed] names, so
    -- the keys come unnamed, in the PRAGMA's order, and the primary keys
    -- unnamed
    T.eq(insp:get_foreign_keys("Track"), {
      {constrained_columns = {"MediaTypeId"}, referred_table = "MediaType",
       referred_columns = {"MediaTypeId"}, options = {}},
      {constrained_columns = {"GenreId"}, referred_table = "Genre",
       referred_columns = {"GenreId"}, options = {}},
      {constrained_columns = {"AlbumId"}, referred_table = "Album",
       referred_columns = {"AlbumId"}, options = {}}})
    T.eq(insp:get_pk_constraint("PlaylistTrack"),
         {constrained_columns = {"PlaylistId", "TrackId"}})
    T.eq(insp:get_foreign_keys("Employee"), {
      {constrained_columns = {"ReportsTo"}, referred_table = "Employee",
       referred_columns = {"EmployeeId"}, options = {}}})
    T.eq(insp:get_columns("Track")[2], {name = "Name", type = "NVARCHAR(200)",
      nullable = false, autoincrement = "auto", primary_key = 0})
    T.eq(#insp:get_indexes("Track"), 3)
    local order = {}
    for _, entry in ipairs(insp:get_sorted_table_and_fkc_names()) do
      order[#order + 1] = entry[1]
    end
    T.eq(order, {"Artist", "Employee", "Genre", "MediaType", "Playlist",
                 "Album", "Customer", "Invoice", "Track", "InvoiceLine",
                 "PlaylistTrack"})
    e:dispose()
    os.remove(path)
  end)
end

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": reflected types map to retort's types", function()
    local e = create_engine(db.url)
    local c <close> = e:connect()
    c:exec_driver_sql("DROP TABLE IF EXISTS rt_refl_types")
    local ddl = {
      sqlite = "a INTEGER, b VARCHAR(30), c NUMERIC(10, 2), d DATETIME, " ..
               "e BOOLEAN, f BLOB, g TEXT, h BIGINT, i REAL, j DATE",
      postgresql = "a integer, b varchar(30), c numeric(10, 2), " ..
                   "d timestamp with time zone, e boolean, f bytea, g text, " ..
                   "h bigint, i real, j date, k integer[], l jsonb, m uuid",
      mysql = "a int, b varchar(30), c decimal(10, 2), d datetime, " ..
              "e boolean, f blob, g text, h bigint, i float, j date, " ..
              "k enum('x', 'y''z')",
    }
    c:exec_driver_sql("CREATE TABLE rt_refl_types (" .. ddl[db.name] .. ")")
    c:commit()
    REG["retort.type_from_sql"] = nil
    local ok, cols = pcall(sa.inspect(e).get_columns, sa.inspect(e),
                           "rt_refl_types")
    REG["retort.type_from_sql"] = raw_text
    T.ok(ok, tostring(cols))
    local got = {}
    for _, col in ipairs(cols) do got[col.name] = tostring(col.type) end
    -- SQLAlchemy's str() of each reflected type
    local expected = {
      sqlite = {a = "INTEGER", b = "VARCHAR(30)", c = "NUMERIC(10, 2)",
                d = "DATETIME", e = "BOOLEAN", f = "BLOB", g = "TEXT",
                h = "BIGINT", i = "REAL", j = "DATE"},
      postgresql = {a = "INTEGER", b = "VARCHAR(30)", c = "NUMERIC(10, 2)",
                    d = "TIMESTAMP", e = "BOOLEAN", f = "BYTEA", g = "TEXT",
                    h = "BIGINT", i = "REAL", j = "DATE", k = "ARRAY",
                    l = "JSONB", m = "UUID"},
      mysql = {a = "INTEGER", b = "VARCHAR(30)", c = "DECIMAL(10, 2)",
               d = "DATETIME", e = "TINYINT", f = "BLOB", g = "TEXT",
               h = "BIGINT", i = "FLOAT", j = "DATE", k = "ENUM"},
    }
    T.eq(got, expected[db.name])
    c:exec_driver_sql("DROP TABLE rt_refl_types")
    c:commit()
  end)
end

T.done()
