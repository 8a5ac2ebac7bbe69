-- Reflected column types: for every type name of each dialect's
-- ischema_names, the type SQLAlchemy 1.4's reflection gives (its class
-- name and str()), the DDL it compiles to on the same dialect, and that
-- DDL run again.  The expectations are what SQLAlchemy printed for the
-- same CREATE TABLE text.
local T = require "testing"
local sa = require "retort"

-- {declared type, reflected class name, str(type), CreateTable's spec
--  [, the class name once that spec is created again]}
local cases = {
  sqlite = {
    {"INTEGER", "INTEGER", "INTEGER", "INTEGER"},
    {"INT", "INTEGER", "INTEGER", "INTEGER"},
    {"BIGINT", "BIGINT", "BIGINT", "BIGINT"},
    {"SMALLINT", "SMALLINT", "SMALLINT", "SMALLINT"},
    {"TINYINT", "INTEGER", "INTEGER", "INTEGER"},
    {"MEDIUMINT", "INTEGER", "INTEGER", "INTEGER"},
    {"VARCHAR(20)", "VARCHAR", "VARCHAR(20)", "VARCHAR(20)"},
    {"NVARCHAR(10)", "NVARCHAR", "NVARCHAR(10)", "NVARCHAR(10)"},
    {"NCHAR(3)", "NCHAR", "NCHAR(3)", "NCHAR(3)"},
    {"CHAR(3)", "CHAR", "CHAR(3)", "CHAR(3)"},
    {"TEXT", "TEXT", "TEXT", "TEXT"},
    {"CLOB", "TEXT", "TEXT", "TEXT"},
    {"BLOB", "BLOB", "BLOB", "BLOB"},
    {"REAL", "REAL", "REAL", "REAL"},
    {"DOUBLE", "FLOAT", "FLOAT", "FLOAT"},
    {"DOUBLE PRECISION", "REAL", "REAL", "REAL"},
    {"FLOAT", "FLOAT", "FLOAT", "FLOAT"},
    {"NUMERIC(10, 2)", "NUMERIC", "NUMERIC(10, 2)", "NUMERIC(10, 2)"},
    {"DECIMAL(8, 3)", "DECIMAL", "DECIMAL(8, 3)", "DECIMAL(8, 3)"},
    {"DECIMAL", "DECIMAL", "DECIMAL", "DECIMAL"},
    {"BOOLEAN", "BOOLEAN", "BOOLEAN", "BOOLEAN"},
    {"BOOL", "BOOLEAN", "BOOLEAN", "BOOLEAN"},
    {"DATE", "DATE", "DATE", "DATE"},
    {"DATETIME", "DATETIME", "DATETIME", "DATETIME"},
    {"TIMESTAMP", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP"},
    {"TIME", "TIME", "TIME", "TIME"},
    {"JSON", "JSON", "JSON", "JSON"},
    {"DATE_CHAR", "DATE", "DATE", "DATE"},
    {"TIME_CHAR", "TIME", "TIME", "TIME"},
    {"DATETIME_CHAR", "DATETIME", "DATETIME", "DATETIME"},
    {"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"},
    {"NUMERIC", "NUMERIC", "NUMERIC", "NUMERIC"},
    {"STRING", "NUMERIC", "NUMERIC", "NUMERIC"},
    {"FOO", "NUMERIC", "NUMERIC", "NUMERIC"},
    {"CHARACTER(5)", "TEXT", "TEXT(5)", "TEXT(5)"},
    {"VARYING CHARACTER(9)", "TEXT", "TEXT(9)", "TEXT(9)"},
    {"UNSIGNED BIG INT", "INTEGER", "INTEGER", "INTEGER"},
    {"INT8", "INTEGER", "INTEGER", "INTEGER"},
    {"FLOATING", "REAL", "REAL", "REAL"},
    {"XYZ(3)", "NUMERIC", "NUMERIC(3)", "NUMERIC(3)"},
  },
  postgresql = {
    {"integer", "INTEGER", "INTEGER", "INTEGER"},
    {"bigint", "BIGINT", "BIGINT", "BIGINT"},
    {"smallint", "SMALLINT", "SMALLINT", "SMALLINT"},
    {"varchar(20)", "VARCHAR", "VARCHAR(20)", "VARCHAR(20)"},
    {"varchar", "VARCHAR", "VARCHAR", "VARCHAR"},
    {"char(3)", "CHAR", "CHAR(3)", "CHAR(3)"},
    {"char", "CHAR", "CHAR(1)", "CHAR(1)"},
    -- String's DDL is VARCHAR, which reflects as VARCHAR
    {[["char"]], "String", "VARCHAR", "VARCHAR", "VARCHAR"},
    {"text", "TEXT", "TEXT", "TEXT"},
    {"name", "String", "VARCHAR", "VARCHAR", "VARCHAR"},
    {"numeric(10,2)", "NUMERIC", "NUMERIC(10, 2)", "NUMERIC(10, 2)"},
    {"numeric", "NUMERIC", "NUMERIC", "NUMERIC"},
    {"decimal(8,3)", "NUMERIC", "NUMERIC(8, 3)", "NUMERIC(8, 3)"},
    {"real", "REAL", "REAL", "REAL"},
    {"double precision", "DOUBLE_PRECISION", "DOUBLE_PRECISION", "DOUBLE PRECISION"},
    {"float", "DOUBLE_PRECISION", "DOUBLE_PRECISION", "DOUBLE PRECISION"},
    {"float(3)", "REAL", "REAL", "REAL"},
    {"boolean", "BOOLEAN", "BOOLEAN", "BOOLEAN"},
    {"date", "DATE", "DATE", "DATE"},
    {"timestamp", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE"},
    {"timestamptz", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
    {"timestamp(3)", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP(3) WITHOUT TIME ZONE"},
    {"timestamp with time zone", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
    {"time", "TIME", "TIME", "TIME WITHOUT TIME ZONE"},
    {"timetz", "TIME", "TIME", "TIME WITH TIME ZONE"},
    {"time(2)", "TIME", "TIME", "TIME(2) WITHOUT TIME ZONE"},
    {"interval", "INTERVAL", "INTERVAL", "INTERVAL"},
    {"interval day to second", "INTERVAL", "INTERVAL", "INTERVAL day to second"},
    {"bytea", "BYTEA", "BYTEA", "BYTEA"},
    {"json", "JSON", "JSON", "JSON"},
    {"jsonb", "JSONB", "JSONB", "JSONB"},
    {"uuid", "UUID", "UUID", "UUID"},
    {"inet", "INET", "INET", "INET"},
    {"cidr", "CIDR", "CIDR", "CIDR"},
    {"macaddr", "MACADDR", "MACADDR", "MACADDR"},
    {"money", "MONEY", "MONEY", "MONEY"},
    {"oid", "OID", "OID", "OID"},
    {"bit(3)", "BIT", "BIT", "BIT(3)"},
    {"varbit(4)", "BIT", "BIT", "BIT VARYING(4)"},
    {"tsvector", "TSVECTOR", "TSVECTOR", "TSVECTOR"},
    {"integer[]", "ARRAY", "ARRAY", "INTEGER[]"},
    {"text[]", "ARRAY", "ARRAY", "TEXT[]"},
    {"int4range", "INT4RANGE", "INT4RANGE", "INT4RANGE"},
    {"tsrange", "TSRANGE", "TSRANGE", "TSRANGE"},
  },
  mysql = {
    {"int", "INTEGER", "INTEGER", "INTEGER(11)"},
    {"int unsigned", "INTEGER", "INTEGER", "INTEGER(10) UNSIGNED"},
    {"integer(5)", "INTEGER", "INTEGER", "INTEGER(5)"},
    {"bigint", "BIGINT", "BIGINT", "BIGINT(20)"},
    {"smallint", "SMALLINT", "SMALLINT", "SMALLINT(6)"},
    {"tinyint", "TINYINT", "TINYINT", "TINYINT(4)"},
    {"tinyint(1)", "TINYINT", "TINYINT", "TINYINT(1)"},
    {"mediumint", "MEDIUMINT", "MEDIUMINT", "MEDIUMINT(9)"},
    {"varchar(20)", "VARCHAR", "VARCHAR(20)", "VARCHAR(20)"},
    {"char(3)", "CHAR", "CHAR(3)", "CHAR(3)"},
    {"text", "TEXT", "TEXT", "TEXT"},
    {"tinytext", "TINYTEXT", "TINYTEXT", "TINYTEXT"},
    {"mediumtext", "MEDIUMTEXT", "MEDIUMTEXT", "MEDIUMTEXT"},
    {"longtext", "LONGTEXT", "LONGTEXT", "LONGTEXT"},
    {"blob", "BLOB", "BLOB", "BLOB"},
    {"tinyblob", "TINYBLOB", "TINYBLOB", "TINYBLOB"},
    {"mediumblob", "MEDIUMBLOB", "MEDIUMBLOB", "MEDIUMBLOB"},
    {"longblob", "LONGBLOB", "LONGBLOB", "LONGBLOB"},
    {"binary(4)", "BINARY", "BINARY(4)", "BINARY(4)"},
    {"varbinary(9)", "VARBINARY", "VARBINARY(9)", "VARBINARY(9)"},
    {"float", "FLOAT", "FLOAT", "FLOAT"},
    {"float(10,2)", "FLOAT", "FLOAT", "FLOAT(10, 2)"},
    {"double", "DOUBLE", "DOUBLE", "DOUBLE"},
    {"double precision", "DOUBLE", "DOUBLE", "DOUBLE"},
    {"real", "DOUBLE", "DOUBLE", "DOUBLE"},
    {"decimal(10,2)", "DECIMAL", "DECIMAL(10, 2)", "DECIMAL(10, 2)"},
    {"decimal", "DECIMAL", "DECIMAL(10, 0)", "DECIMAL(10, 0)"},
    {"numeric(8,3)", "DECIMAL", "DECIMAL(8, 3)", "DECIMAL(8, 3)"},
    {"boolean", "TINYINT", "TINYINT", "TINYINT(1)"},
    {"date", "DATE", "DATE", "DATE"},
    {"datetime", "DATETIME", "DATETIME", "DATETIME"},
    {"datetime(3)", "DATETIME", "DATETIME", "DATETIME(3)"},
    {"timestamp null", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP NULL"},
    {"time", "TIME", "TIME", "TIME"},
    {"time(2)", "TIME", "TIME", "TIME(2)"},
    {"year", "YEAR", "YEAR", "YEAR(4)"},
    {"bit(1)", "BIT", "BIT", "BIT(1)"},
    {"bit(8)", "BIT", "BIT", "BIT(8)"},
    {"json", "LONGTEXT", "LONGTEXT", "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
    {[[enum('a','b')]], "ENUM", "ENUM", [[ENUM('a','b')]]},
    {[[set('x','y')]], "SET", "SET", [[SET('x','y')]]},
    -- a collation other than the table's comes with the type
    {"nchar(3)", "CHAR", [[CHAR(3) COLLATE "utf8mb3_general_ci"]],
     "CHAR(3) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"},
    {"nvarchar(7)", "VARCHAR", [[VARCHAR(7) COLLATE "utf8mb3_general_ci"]],
     "VARCHAR(7) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"},
    {"varchar(10) character set latin1", "VARCHAR",
     [[VARCHAR(10) COLLATE "latin1_swedish_ci"]],
     "VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci"},
  },
}

local function create(conn, dialect)
  local cols = {}
  for i, c in ipairs(cases[dialect]) do
    cols[#cols + 1] = string.format("c%d %s", i - 1, c[1])
  end
  conn:exec_driver_sql("CREATE TABLE rt_rtypes (" .. table.concat(cols, ", ")
                       .. ")")
end

-- get_columns: each column's type name and string form
local function check_columns(conn, dialect, what)
  local cols = sa.inspect(conn):get_columns("rt_rtypes")
  T.eq(#cols, #cases[dialect], what .. ": column count")
  for i, col in ipairs(cols) do
    local c = cases[dialect][i]
    local again = what == "created again" and c[5]
    T.eq({col.type.name, tostring(col.type)}, {again or c[2], again or c[3]},
         what .. ": " .. c[1])
  end
end

-- CREATE TABLE of the reflected table, column by column
local function check_ddl(conn, dialect, t)
  local text = tostring(sa.CreateTable(t):compile(conn))
  local specs = {}
  for line in text:gmatch("\t([^\n]*)") do
    specs[#specs + 1] = line:gsub(",? ?$", "")
  end
  T.eq(#specs, #cases[dialect], "DDL column count")
  for i, c in ipairs(cases[dialect]) do
    T.eq(specs[i], string.format("c%d %s", i - 1, c[4]), "DDL of " .. c[1])
  end
end

for _, db in ipairs(T.databases()) do
  local d = db.name
  local engine = sa.create_engine(db.url)

  T.test(d .. ": reflected types as SQLAlchemy's", function()
    local conn = engine:connect()
    conn:exec_driver_sql("DROP TABLE IF EXISTS rt_rtypes")
    create(conn, d)
    conn:commit()
    check_columns(conn, d, "reflected")
    if d == "mysql" then
      -- a string type's charset and collation read as SQLAlchemy's
      -- (VARCHAR(10, charset='latin1', collation='latin1_swedish_ci'))
      local cols, last = sa.inspect(conn):get_columns("rt_rtypes"), nil
      last = cols[#cols].type
      T.eq({last.charset, last.collation}, {"latin1", "latin1_swedish_ci"},
           "charset and collation of a latin1 column")
      T.eq({cols[10].type.charset, cols[10].type.collation}, {nil, nil},
           "a varchar of the table's own collation has neither")
    end
    local t = sa.Table("rt_rtypes", sa.MetaData(), {autoload_with = conn})
    check_ddl(conn, d, t)
    -- the reflected table created again reflects the same
    conn:exec_driver_sql("DROP TABLE rt_rtypes")
    conn:commit()
    t:create(conn)
    conn:commit()
    check_columns(conn, d, "created again")
    conn:exec_driver_sql("DROP TABLE rt_rtypes")
    conn:commit()
    conn:close()
  end)
end

-- Values read through a reflected table come as SQLAlchemy's result
-- processors give them: MySQL's DOUBLE as a decimal with 10 places, its
-- TINYINT(1) as an integer (not a boolean), PostgreSQL's INTERVAL as a
-- timedelta.
local values = {
  postgresql = {
    "a double precision, b interval, c bytea, d timestamptz, e bit(3), " ..
    "f money, g real",
    "(1.5, '1 day 02:00:00', '\\x0061', '2020-01-02 03:04:05+00', '101', " ..
    "'12.50', 0.5)",
    {1.5, "1 day, 2:00:00", "\0a", "2020-01-02 03:04:05+00:00", "101",
     "$12.50", 0.5},
  },
  mysql = {
    "a double, b tinyint(1), c year, d bit(8), e float, f decimal(10,2), " ..
    "g mediumint unsigned",
    "(1.5, 1, 2021, 5, 2.25, '3.10', 7)",
    {"1.5000000000", 1, 2021, 5, 2.25, "3.10", 7},
  },
}

for _, db in ipairs(T.databases()) do
  local v = values[db.name]
  if v then
    T.test(db.name .. ": values through reflected types", function()
      local conn = sa.create_engine(db.url):connect()
      conn:exec_driver_sql("DROP TABLE IF EXISTS rt_rvals")
      conn:exec_driver_sql("CREATE TABLE rt_rvals (" .. v[1] .. ")")
      conn:exec_driver_sql("INSERT INTO rt_rvals VALUES " .. v[2])
      conn:commit()
      local t = sa.Table("rt_rvals", sa.MetaData(), {autoload_with = conn})
      local row = conn:execute(t:select()):one()
      local got = {}
      for i = 1, #row do
        local x = row[i]
        got[i] = type(x) == "table" and tostring(x) or x
        if math.type(x) == "integer" then got[i] = "int " .. x end
      end
      local want = {}
      for i, x in ipairs(v[3]) do
        want[i] = math.type(x) == "integer" and "int " .. x or x
      end
      T.eq(got, want)
      conn:exec_driver_sql("DROP TABLE rt_rvals")
      conn:commit()
      conn:close()
    end)
  end
end

-- get_table_options: MySQL's options from SHOW CREATE TABLE, under
-- SQLAlchemy's keys (AUTO_INCREMENT left out); nothing elsewhere
for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": get_table_options", function()
    local engine = sa.create_engine(db.url)
    local conn = engine:connect()
    conn:exec_driver_sql("DROP TABLE IF EXISTS rt_ropts")
    conn:exec_driver_sql("CREATE TABLE rt_ropts (id INTEGER PRIMARY KEY)" ..
      (db.name == "mysql" and
       " ENGINE=MyISAM COMMENT='it''s' AUTO_INCREMENT=5" or ""))
    conn:commit()
    local insp = sa.inspect(engine)
    if db.name == "mysql" then
      T.eq(insp:get_table_options("rt_ropts"), {
        mysql_engine = "MyISAM", mysql_comment = "it's",
        ["mysql_default charset"] = "utf8mb4",
        mysql_collate = "utf8mb4_general_ci"})
      local err = T.raises("NoSuchTableError", insp.get_table_options, insp,
                           "rt_nope")
      T.eq(err.message, "`rt_nope`")
    else
      T.eq(insp:get_table_options("rt_ropts"), {})
    end
    conn:exec_driver_sql("DROP TABLE rt_ropts")
    conn:commit()
    conn:close()
  end)
end

T.done()
