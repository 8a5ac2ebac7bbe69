-- Round trips on each database for the constructs test_api23_audit.lua
-- pins as text: defaults of multi-VALUES and INSERT ... SELECT, upserts
-- with excluded / inserted, CTEs of DML, Identity, deferrable foreign
-- keys, partial indexes, CHECK expressions, UPDATE/DELETE prefixes.
local T = require "testing"

local function fresh(db, build)
  local e = create_engine(db.url)
  local m = MetaData()
  local tables = build(m, db)
  m:drop_all(e)
  m:create_all(e)
  return e, m, tables
end

for _, db in ipairs(T.databases()) do
  local pg, my = db.name == "postgresql", db.name == "mysql"

  T.test(db.name .. ": defaults of multi-VALUES and INSERT ... SELECT", function()
    local n = 0
    local e, m, t = fresh(db, function(m)
      return Table("a23_dft", m, Column("id", Integer, {primary_key = true}),
        Column("a", Integer), Column("b", String(10), {default = "x"}),
        Column("c", Integer, {default = function() n = n + 1; return n end}),
        Column("d", Integer, {default = literal_column("3") + 4}))
    end)
    e:begin(function(conn)
      conn:execute(insert(t):values{{a = 1}, {a = 2, b = "q"}, {a = 3, c = 99}})
      conn:execute(insert(t):from_select({"a"}, select(t.c.a):where(t.c.a:lt(3))))
      local rows = conn:execute(select(t.c.a, t.c.b, t.c.c, t.c.d):order_by(t.c.id)):all()
      T.eq(#rows, 5)
      T.eq({rows[1].a, rows[1].b, rows[1].c, rows[1].d}, {1, "x", 1, 7})
      T.eq({rows[2].a, rows[2].b, rows[2].c, rows[2].d}, {2, "q", 2, 7})
      T.eq({rows[3].a, rows[3].b, rows[3].c, rows[3].d}, {3, "x", 99, 7})
      -- INSERT ... SELECT: one default value per statement, as SQLAlchemy's
      T.eq({rows[4].b, rows[4].c, rows[4].d}, {"x", 3, 7})
      T.eq({rows[5].b, rows[5].c, rows[5].d}, {"x", 3, 7})
    end)
    m:drop_all(e)
  end)

  T.test(db.name .. ": upserts with excluded / inserted and prefixes", function()
    local e, m, t = fresh(db, function(m)
      return Table("a23_up", m, Column("id", Integer, {primary_key = true}),
        Column("name", String(20), {unique = true}), Column("n", Integer))
    end)
    e:begin(function(conn)
      conn:execute(insert(t):values{id = 1, name = "a", n = 1})
      local i = insert(t):values{id = 2, name = "a", n = 5}
      if my then
        conn:execute(i:on_duplicate_key_update{n = i.inserted.n + t.c.n})
      else
        conn:execute(i:on_conflict_do_update{index_elements = {"name"},
          set_ = {n = i.excluded.n + t.c.n}, where = i.excluded.n:gt(t.c.n)})
        -- a predicate the index does not have: no target matches on
        -- PostgreSQL, so only SQLite is asked
        if not pg then
          conn:execute(insert(t):values{id = 3, name = "a", n = 0}
            :on_conflict_do_nothing{index_elements = {"name"}})
        else
          conn:execute(insert(t):values{id = 3, name = "a", n = 0}
            :on_conflict_do_nothing{constraint = "a23_up_name_key"})
        end
      end
      T.eq(conn:execute(select(t.c.n):where(t.c.name:eq("a"))):scalar(), 6)
      T.eq(conn:execute(select(func.count()):select_from(t)):scalar(), 1)
      local comment = my and "LOW_PRIORITY" or "/* a */"
      conn:execute(update(t):prefix_with(comment):values{n = 7})
      T.eq(conn:execute(select(t.c.n)):scalar(), 7)
      conn:execute(delete(t):prefix_with(comment):where(t.c.id:eq(1)))
      T.eq(conn:execute(select(func.count()):select_from(t)):scalar(), 0)
      -- a comparison with null() is IS NULL
      conn:execute(insert(t):values{id = 4, name = "b"})
      T.eq(conn:execute(select(t.c.id):where(t.c.n:eq(null()))):scalar(), 4)
      T.eq(conn:execute(select(func.count()):select_from(t)
        :where(t.c.n:ne(null()))):scalar(), 0)
    end)
    m:drop_all(e)
  end)

  T.test(db.name .. ": CHECK expressions and constraints of Column objects", function()
    local e, m, t = fresh(db, function(m)
      local t = Table("a23_ck", m, Column("id", Integer, {primary_key = true}),
        Column("v", Integer), Column("w", String(5, {collation = pg and "C" or my and "utf8mb4_bin" or "NOCASE"})))
      CheckConstraint(t.c.v:gt(0), {name = "ck_a23_v"})
      UniqueConstraint(t.c.v, {name = "uq_a23_v"})
      return t
    end)
    e:begin(function(conn) conn:execute(insert(t):values{id = 1, v = 1, w = "a"}) end)
    T.raises("IntegrityError", function()
      e:begin(function(conn) conn:execute(insert(t):values{id = 2, v = 1}) end)
    end)
    local ok = pcall(function()
      e:begin(function(conn) conn:execute(insert(t):values{id = 3, v = -1}) end)
    end)
    T.eq(ok, false, "the CHECK refuses v = -1")
    m:drop_all(e)
  end)

  if db.name ~= "sqlite" then
    T.test(db.name .. ": AddConstraint / DropConstraint", function()
      local e, m, t = fresh(db, function(m)
        return Table("a23_ac", m, Column("id", Integer, {primary_key = true}),
          Column("v", Integer))
      end)
      local uq = UniqueConstraint(t.c.v, {name = "uq_a23_ac_v"})
      e:begin(function(conn)
        conn:execute(AddConstraint(uq))
        conn:execute(insert(t):values{id = 1, v = 1})
      end)
      T.raises("IntegrityError", function()
        e:begin(function(conn) conn:execute(insert(t):values{id = 2, v = 1}) end)
      end)
      e:begin(function(conn)
        conn:execute(DropConstraint(uq))
        conn:execute(insert(t):values{id = 2, v = 1})
      end)
      m:drop_all(e)
    end)
  end

  if pg then
    T.test("postgresql: CTEs of DML, Identity, deferrable keys, partial indexes", function()
      local e, m, t = fresh(db, function(m)
        local p = Table("a23_par", m, Column("id", Integer, {primary_key = true}))
        local c = Table("a23_ch", m,
          Column("id", Integer, Identity{start = 5, increment = 2}, {primary_key = true}),
          Column("p", Integer, ForeignKey("a23_par.id",
            {deferrable = true, initially = "DEFERRED", ondelete = "CASCADE"})),
          Column("name", String(10)))
        Index("ix_a23_ch_p", c.c.p, {postgresql_where = c.c.p:gt(0),
                                     postgresql_using = "btree"})
        return {p = p, c = c}
      end)
      e:begin(function(conn)
        -- the child first: the key is checked at COMMIT
        local ins = insert(t.c):values{p = 10, name = "a"}
          :returning(t.c.c.id, t.c.c.name:label("n")):cte("ins")
        local row = conn:execute(select(ins.c.id, ins.c.n)):one()
        T.eq({row.id, row.n}, {5, "a"})
        conn:execute(insert(t.p):values{id = 10})
        local upd = update(t.c):values{name = "b"}:returning(t.c.c.id):cte("upd")
        T.eq(conn:execute(select(func.count()):select_from(upd)):scalar(), 1)
        local r = conn:execute(insert(t.c):values{p = 10})
        T.eq(r.inserted_primary_key[1], 7)
      end)
      -- JSONB's astext
      local j = Table("a23_j", MetaData(), Column("id", Integer, {primary_key = true}), Column("doc", JSONB))
      j:create(e)
      e:begin(function(conn)
        conn:execute(insert(j):values{id = 1, doc = {a = {b = "x"}, n = "q"}})
        T.eq(conn:execute(select(j.c.doc["n"].astext)):scalar(), "q")
        T.eq(conn:execute(select(j.c.id):where(j.c.doc["a"]["b"].astext:eq("x"))):scalar(), 1)
        T.eq(conn:execute(select(j.c.doc[{"a", "b"}].astext)):scalar(), "x")
      end)
      j:drop(e)
      -- an identity column reflects as one (SQLAlchemy's full options)
      local r = Table("a23_ch", MetaData(), {autoload_with = e})
      T.match(T.norm(tostring(CreateTable(r):compile(e))),
        "id INTEGER GENERATED BY DEFAULT AS IDENTITY %(INCREMENT BY 2 START WITH 5 " ..
        "MINVALUE 1 MAXVALUE 2147483647 CACHE 1 NO CYCLE%)")
      local ix = sa.inspect(e):get_indexes("a23_ch")
      T.eq(ix[1].dialect_options.postgresql_where, "(p > 0)")
      local fk = sa.inspect(e):get_foreign_keys("a23_ch")[1]
      T.eq({fk.options.deferrable, fk.options.initially}, {true, "DEFERRED"})
      m:drop_all(e)
    end)
  end
end

if os.getenv("RETORT_TEST_PG") and os.getenv("RETORT_TEST_PG") ~= "" then
  -- create_all / drop_all: the ENUM types before every table and after
  -- them, a column's Sequence dropped after the tables (SQLAlchemy 1.4's
  -- order)
  T.test("postgresql: create_all / drop_all order", function()
    local e = create_engine(os.getenv("RETORT_TEST_PG"))
    local m = MetaData()
    Table("a23_ca_p", m, Column("id", Integer, {primary_key = true}),
      Column("mood", Enum("a", "b", {name = "a23_mood"})), {comment = "p"})
    Table("a23_ca_c", m, Column("id", Integer, Sequence("a23_seq"), {primary_key = true}),
      Column("pid", ForeignKey("a23_ca_p.id"), {index = true}),
      Column("e", Enum("x", "y", {name = "a23_e"})))
    m:drop_all(e)
    local log = T.capture(e)
    m:create_all(e)
    m:drop_all(e)
    local ddl = {}
    for _, sql in ipairs(log) do
      if not sql:match("^%s*SELECT") then ddl[#ddl + 1] = T.norm(sql):gsub("%s+", " "):match("^ *(%u+ %u+ [%w_]+)") end
    end
    T.eq(ddl, {"CREATE TYPE a23_mood", "CREATE TYPE a23_e", "CREATE TABLE a23_ca_p",
               "COMMENT ON TABLE", "CREATE SEQUENCE a23_seq", "CREATE TABLE a23_ca_c",
               "CREATE INDEX ix_a23_ca_c_pid", "DROP TABLE a23_ca_c", "DROP TABLE a23_ca_p",
               "DROP SEQUENCE a23_seq", "DROP TYPE a23_mood", "DROP TYPE a23_e"})
  end)
end

T.done()
