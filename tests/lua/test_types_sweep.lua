-- Types, DDL and the Inspector checked against SQLAlchemy 1.4 on the same
-- databases: each expectation is what SQLAlchemy printed for the same
-- table or statement.
local T = require "testing"

T.test("a PostgreSQL ENUM's name is quoted as an identifier, and the "
       .. "compiled form follows the name", function()
  -- three casts of one shape in one process: each keeps its own name
  local function c(n) return cast(column("x"), Enum("a", {name = n})) end
  T.eq(tostring(c("user"):compile("postgresql")), 'CAST(x AS "user")')
  T.eq(tostring(c("Mood"):compile("postgresql")), 'CAST(x AS "Mood")')
  T.eq(tostring(c("mood"):compile("postgresql")), "CAST(x AS mood)")
  local md = MetaData()
  local t = Table("q", md, Column("e", Enum("a", "b", {name = "E k"})))
  T.match(tostring(CreateTable(t):compile("postgresql")), '\te "E k"\n')
end)

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "
  local pg = db.name == "postgresql"

  T.test(n .. "Enum{native_enum = false} is a VARCHAR, with no type made",
         function()
    local e = create_engine(db.url)
    local md = MetaData()
    local t = Table("sw_en", md, Column("id", Integer, {primary_key = true}),
      Column("a", Enum("x", "yy", {name = "sw_k1"})),
      Column("b", Enum("x", "yy", {name = "sw_k2", native_enum = false})),
      Column("c", Enum("x", "yy", {name = "sw_k3", native_enum = false,
                                   length = 10})),
      Column("d", Enum("x", "yy", {native_enum = false})))
    local ddl = tostring(CreateTable(t):compile(e))
    T.match(ddl, "\n\tb VARCHAR%(2%), \n\tc VARCHAR%(10%), "
                 .. "\n\td VARCHAR%(2%), ")
    T.match(ddl, "\n\ta " .. ({sqlite = "VARCHAR%(2%)", postgresql = "sw_k1",
                               mysql = "ENUM%('x','yy'%)"})[db.name] .. ", ")
    T.eq(t.c.b.type.native_enum, false)
    T.eq(t.c.a.type.native_enum, true)
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    if pg then
      -- only the native Enum's type is created
      local types = c:exec_driver_sql("SELECT typname FROM pg_type WHERE "
        .. "typname LIKE 'sw_k%' ORDER BY typname"):scalars():all()
      T.eq(types, {"sw_k1"})
    end
    c:execute(insert(t), {{a = "x", b = "yy", c = "x", d = "yy"},
                          {a = "yy", b = "x", c = "yy", d = "x"}})
    T.eq(c:execute(select(t.c.id, t.c.b, t.c.d):where(t.c.b:eq("yy")))
           :all()[1], c:execute(select(t.c.id, t.c.b, t.c.d)
           :where(t.c.id:eq(1))):one())
    T.eq(c:execute(select(t.c.b):order_by(t.c.id)):scalars():all(),
         {"yy", "x"})
    c:commit()
    md:drop_all(e)
    if pg then
      T.eq(c:exec_driver_sql("SELECT count(*) FROM pg_type WHERE "
        .. "typname LIKE 'sw_k%'"):scalar(), 0)
    end
  end)

  T.test(n .. "arithmetic and aggregates take SQLAlchemy's result types",
         function()
    local e = create_engine(db.url)
    local md = MetaData()
    local t = Table("sw_ex", md, Column("id", Integer, {primary_key = true}),
      Column("i", Integer), Column("n", Numeric(10, 2)), Column("f", Float))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    c:execute(insert(t), {{i = 3, n = "1.25", f = 0.5},
                          {i = 4, n = "2.50", f = 1.5}})
    local function one(x)
      return c:execute(select(func.max(x)):select_from(t)):scalar()
    end
    -- Integer with Numeric is Numeric; with Float (or a float value) Float
    T.eq(tostring((t.c.i * t.c.n).type), "NUMERIC(10, 2)")
    T.eq(tostring((t.c.i - t.c.n).type), "NUMERIC(10, 2)")
    T.eq(tostring((t.c.i * t.c.f).type), "FLOAT")
    T.eq(tostring((t.c.n + t.c.f).type), "FLOAT")
    T.eq(tostring((t.c.i + 1.5).type), "FLOAT")
    T.eq(tostring((t.c.n * 1.5).type), "NUMERIC(10, 2)")
    T.eq(tostring((t.c.i / 2).type), "INTEGER")
    T.eq(one(t.c.i * t.c.n), "10.00")
    local v = one(t.c.i + 1.5)
    T.eq(v, 5.5)
    T.eq(math.type(v), "float")
    T.eq(one(t.c.i + 1), 5)
    T.eq(math.type(one(t.c.i + 1)), "integer")
    -- avg has no known type in SQLAlchemy 1.4: the driver's value comes
    -- back as is (a float on SQLite, the server's decimal text elsewhere)
    T.eq(tostring(func.avg(t.c.n).type), "NULL")
    local avg = c:execute(select(func.avg(t.c.n))):scalar()
    T.eq(avg, ({sqlite = 1.875, postgresql = "1.8750000000000000",
                mysql = "1.875000"})[db.name])
    T.eq(c:execute(select(func.avg(t.c.i))):scalar(),
         ({sqlite = 3.5, postgresql = "3.5000000000000000",
           mysql = "3.5000"})[db.name])
    c:close()
    md:drop_all(e)
  end)

  T.test(n .. "a DateTime or Time offset is kept only where the type has one",
         function()
    local e = create_engine(db.url)
    local md = MetaData()
    local t = Table("sw_tz", md, Column("id", Integer, {primary_key = true}),
      Column("dtz", DateTime({timezone = true})), Column("dt", DateTime),
      Column("tm", Time))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    if pg then c:exec_driver_sql("SET TIME ZONE 'UTC'") end
    c:execute(insert(t), {{id = 1, dtz = "2020-06-01 12:00:00+02:00",
                           dt = "2020-06-01 12:00:00.5-05:00",
                           tm = "08:30:00+01:00"}})
    c:execute(insert(t), {id = 2, dtz = "2020-01-01 00:00:00Z"})
    local rows = c:execute(select(t):order_by(t.c.id)):all()
    -- SQLite and MySQL have no zone: the wall-clock time is kept, as
    -- SQLAlchemy (and MySQLdb) write an aware datetime there
    if pg then
      T.eq(rows[1].dtz, "2020-06-01 10:00:00+00:00")
      T.eq(rows[2].dtz, "2020-01-01 00:00:00+00:00")
      -- an offset given for a TIMESTAMP WITHOUT TIME ZONE is applied
      -- first, as psycopg2 sends an aware datetime as timestamptz
      T.eq(rows[1].dt, "2020-06-01 17:00:00.500000")
      T.eq(rows[1].tm, "08:30:00")
    else
      T.eq(rows[1].dtz, "2020-06-01 12:00:00")
      T.eq(rows[2].dtz, "2020-01-01 00:00:00")
      -- MySQL's DATETIME keeps no fraction unless declared with one
      T.eq(rows[1].dt, db.name == "mysql" and "2020-06-01 12:00:00"
                       or "2020-06-01 12:00:00.500000")
      T.eq(rows[1].tm, "08:30:00")
    end
    if db.name == "sqlite" then
      T.eq(c:exec_driver_sql("SELECT dtz FROM sw_tz WHERE id = 1"):scalar(),
           "2020-06-01 12:00:00.000000")
    end
    -- a comparison binds the same way
    T.eq(c:execute(select(t.c.id):where(
      t.c.dtz:ge("2020-06-01 12:00:00+02:00"))):scalars():all(), {1})
    c:close()
    md:drop_all(e)
  end)

  T.test(n .. "create_constraint adds the CHECK where the type is not native",
         function()
    local e = create_engine(db.url)
    local md = MetaData()
    Table("sw_p", md, Column("id", Integer, {primary_key = true}))
    local t = Table("sw_ck", md, Column("id", Integer, {primary_key = true}),
      Column("b", Integer, ForeignKey("sw_p.id"), {unique = true}),
      Column("e", Enum("a", "it's", {name = "E k", create_constraint = true}),
             ForeignKey("sw_p.id"), {unique = true}),
      Column("select", Boolean({create_constraint = true})),
      Column("en2", Enum("x", "yy", {name = "sw_k2", native_enum = false,
                                     create_constraint = true})),
      CheckConstraint("b > 0"))
    -- the Table()'s constraints first, then per column its UNIQUE, its
    -- type's CHECK and its FOREIGN KEY, as SQLAlchemy orders them
    local want = {
      sqlite = [[

CREATE TABLE sw_ck (
	id INTEGER NOT NULL, 
	b INTEGER, 
	e VARCHAR(4), 
	"select" BOOLEAN, 
	en2 VARCHAR(2), 
	PRIMARY KEY (id), 
	CHECK (b > 0), 
	UNIQUE (b), 
	FOREIGN KEY(b) REFERENCES sw_p (id), 
	UNIQUE (e), 
	CONSTRAINT "E k" CHECK (e IN ('a', 'it''s')), 
	FOREIGN KEY(e) REFERENCES sw_p (id), 
	CHECK ("select" IN (0, 1)), 
	CONSTRAINT sw_k2 CHECK (en2 IN ('x', 'yy'))
)

]],
      postgresql = [[

CREATE TABLE sw_ck (
	id SERIAL NOT NULL, 
	b INTEGER, 
	e "E k", 
	"select" BOOLEAN, 
	en2 VARCHAR(2), 
	PRIMARY KEY (id), 
	CHECK (b > 0), 
	UNIQUE (b), 
	FOREIGN KEY(b) REFERENCES sw_p (id), 
	UNIQUE (e), 
	FOREIGN KEY(e) REFERENCES sw_p (id), 
	CONSTRAINT sw_k2 CHECK (en2 IN ('x', 'yy'))
)

]],
      mysql = [[

CREATE TABLE sw_ck (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	b INTEGER, 
	e ENUM('a','it''s'), 
	`select` BOOL, 
	en2 VARCHAR(2), 
	PRIMARY KEY (id), 
	CHECK (b > 0), 
	UNIQUE (b), 
	FOREIGN KEY(b) REFERENCES sw_p (id), 
	UNIQUE (e), 
	FOREIGN KEY(e) REFERENCES sw_p (id), 
	CHECK (`select` IN (0, 1)), 
	CONSTRAINT sw_k2 CHECK (en2 IN ('x', 'yy'))
)

]]}
    T.eq(tostring(CreateTable(t):compile(e)), want[db.name])
    -- on the server (without the odd key from an Enum to an integer)
    md = MetaData()
    t = Table("sw_ck", md, Column("id", Integer, {primary_key = true}),
      Column("e", Enum("a", "it's", {name = "E k", create_constraint = true})),
      Column("select", Boolean({create_constraint = true})),
      Column("en2", Enum("x", "yy", {name = "sw_k2", native_enum = false,
                                     create_constraint = true})))
    md:drop_all(e)
    md:create_all(e)
    local c <close> = e:connect()
    c:execute(insert(t), {e = "it's", select = true, en2 = "yy"})
    c:commit()
    T.eq(c:execute(select(t.c.e, t.c.select, t.c.en2)):one(),
         c:execute(select(literal("it's"), literal(true), literal("yy")))
           :one())
    -- the server enforces the CHECK (an OperationalError to mysqlclient)
    T.raises(db.name == "mysql" and "OperationalError" or "IntegrityError",
             function()
      c:execute(insert(t), {en2 = "zz"})
    end)
    c:rollback()
    local checks = {}
    for _, ck in ipairs(sa.inspect(e):get_check_constraints("sw_ck")) do
      if ck.name then checks[#checks + 1] = ck.name end
    end
    -- (MariaDB names an unnamed CHECK itself)
    if pg then T.eq(checks, {"sw_k2"}) end
    if db.name == "mysql" then T.eq(checks, {"CONSTRAINT_1", "sw_k2"}) end
    c:close()
    md:drop_all(e)
  end)

  if db.name == "mysql" then
    T.test(n .. "a generated column's sqltext keeps its parentheses",
           function()
      local e = create_engine(db.url)
      local c <close> = e:connect()
      c:exec_driver_sql("DROP TABLE IF EXISTS sw_gen")
      c:exec_driver_sql("CREATE TABLE sw_gen (a INTEGER, "
                        .. "g INTEGER AS (a * 2) VIRTUAL, "
                        .. "h VARCHAR(20) AS (concat(a, 'x')) STORED)")
      local cols = sa.inspect(e):get_columns("sw_gen")
      T.eq(cols[1].computed, nil)
      T.eq(cols[2].computed, {sqltext = "(`a` * 2)", persisted = false})
      T.eq(cols[3].computed, {sqltext = "(concat(`a`,'x'))",
                              persisted = true})
      c:exec_driver_sql("DROP TABLE sw_gen")
    end)
  end

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
      -- a reflected Table's indexes carry the ordering into CREATE INDEX
      local t = Table("sw_ix", MetaData(), {autoload_with = e})
      local ddl = {}
      for _, ix in ipairs(t.indexes) do
        ddl[#ddl + 1] = tostring(CreateIndex(ix):compile(e))
      end
      table.sort(ddl)
      T.eq(ddl, {
        "CREATE INDEX sw_ix_1 ON sw_ix (a DESC, b, c NULLS FIRST, d DESC)",
        "CREATE INDEX sw_ix_2 ON sw_ix (a, b DESC NULLS LAST)",
        "CREATE INDEX sw_ix_3 ON sw_ix (c)"})
      c:exec_driver_sql("DROP TABLE sw_ix")
      c:commit()
    end)
  end
end

T.done()
