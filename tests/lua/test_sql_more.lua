-- Statement-layer names and renderings found missing or different in an
-- audit.  Expected strings come from SQLAlchemy 1.4.46.
local T = require "testing"

local function squash(s)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local md = MetaData()
local t = Table("t", md, Column("id", Integer, {primary_key = true}),
                Column("name", String(50)))
local t2 = Table("t2", md, Column("id", Integer, {primary_key = true}),
                 Column("name", String(50)))

-- str(), sqlite, postgresql, mysql (nil: same as the previous)
local function check(stmt, def, lite, pg, my)
  T.eq(squash(tostring(stmt)), def)
  T.eq(squash(stmt:compile("sqlite").sql), lite or def)
  T.eq(squash(stmt:compile("postgresql").sql), pg or lite or def)
  T.eq(squash(stmt:compile("mysql").sql), my or lite or def)
end

T.test("LIMIT and OFFSET forms per dialect", function()
  local c = select(t):limit(5):compile("sqlite")
  T.eq(squash(c.sql), "SELECT t.id, t.name FROM t LIMIT ? OFFSET ?")
  T.eq(c.params, {5, 0})
  c = select(t):offset(5):compile("sqlite")
  T.eq(squash(c.sql), "SELECT t.id, t.name FROM t LIMIT ? OFFSET ?")
  T.eq(c.params, {-1, 5})
  T.eq(squash(tostring(select(t):offset(5))),
       "SELECT t.id, t.name FROM t LIMIT -1 OFFSET :param_1")
  T.eq(squash(select(t):offset(5):compile("postgresql").sql),
       "SELECT t.id, t.name FROM t LIMIT ALL OFFSET $1")
  T.eq(squash(select(t):offset(5):compile("mysql").sql),
       "SELECT t.id, t.name FROM t LIMIT ?, 18446744073709551615")
end)

T.test("bind names of comparisons with functions", function()
  check(select(t):where(func.upper(t.c.name):eq("x")),
        "SELECT t.id, t.name FROM t WHERE upper(t.name) = :upper_1",
        "SELECT t.id, t.name FROM t WHERE upper(t.name) = ?",
        "SELECT t.id, t.name FROM t WHERE upper(t.name) = $1")
  T.eq(squash(tostring(select(func.upper(t.c.name))
                         :where(func.upper(t.c.name):eq("y")))),
       "SELECT upper(t.name) AS upper_1 FROM t WHERE upper(t.name) = :upper_2")
end)

T.test("repeated columns get SQLAlchemy's dedupe labels", function()
  check(select(t.c.id, t), "SELECT t.id, t.id AS id__1, t.name FROM t")
  T.eq(squash(tostring(select(t.c.id, t.c.id, t.c.id))),
       "SELECT t.id, t.id AS id__1, t.id AS id__2 FROM t")
  T.eq(squash(tostring(select(t.c.id, t2.c.id))),
       "SELECT t.id, t2.id AS id_1 FROM t, t2")
  T.eq(squash(tostring(select(t.c.id, t2.c.id, t.c.id, t2.c.id, t.c.name,
                              t.c.name))),
       "SELECT t.id, t2.id AS id_1, t.id AS id__1, t2.id AS id__2, t.name, " ..
       "t.name AS name__1 FROM t, t2")
  T.eq(squash(tostring(select(t.c.id, t.c.id):subquery():select())),
       "SELECT anon_1.id, anon_1.id AS id_1 FROM (SELECT t.id AS id, " ..
       "t.id AS id__1 FROM t) AS anon_1")
  -- another column of a taken name: the subquery exports it as name_N
  local sq = select(t, t2):subquery()
  T.eq(squash(tostring(select(sq))),
       "SELECT anon_1.id, anon_1.name, anon_1.id_1, anon_1.name_1 FROM " ..
       "(SELECT t.id AS id, t.name AS name, t2.id AS id_1, t2.name AS " ..
       "name_1 FROM t, t2) AS anon_1")
  T.eq(squash(tostring(select(sq.c.id_1))),
       "SELECT anon_1.id_1 FROM (SELECT t.id AS id, t.name AS name, " ..
       "t2.id AS id_1, t2.name AS name_1 FROM t, t2) AS anon_1")
  T.eq(squash(tostring(select(t.c.id, t2.c.id, t.c.id):subquery():select())),
       "SELECT anon_1.id, anon_1.id_1, anon_1.id AS id_2 FROM (SELECT " ..
       "t.id AS id, t2.id AS id_1, t.id AS id__1 FROM t, t2) AS anon_1")
end)

T.test("upper-case type names render SQLAlchemy's DDL", function()
  local u = Table("ut", MetaData(),
    Column("a", INTEGER, {primary_key = true}), Column("b", BIGINT),
    Column("c", SMALLINT), Column("d", VARCHAR(20)), Column("e", TEXT),
    Column("f", FLOAT), Column("g", NUMERIC(10, 2)), Column("h", DATE),
    Column("i", sa.INT))
  local cols = "b BIGINT, c SMALLINT, d VARCHAR(20), e TEXT, f FLOAT, " ..
    "g NUMERIC(10, 2), h DATE, i INTEGER, PRIMARY KEY (a) )"
  T.eq(squash(CreateTable(u):compile("sqlite").sql),
       "CREATE TABLE ut ( a INTEGER NOT NULL, " .. cols)
  T.eq(squash(CreateTable(u):compile("postgresql").sql),
       "CREATE TABLE ut ( a SERIAL NOT NULL, " .. cols)
  T.eq(squash(CreateTable(u):compile("mysql").sql),
       "CREATE TABLE ut ( a INTEGER NOT NULL AUTO_INCREMENT, " .. cols)
  T.eq(tostring(sa.VARCHAR(5)), "VARCHAR(5)")
end)

T.test("suffix_with and prefix_with on a select", function()
  check(select(t):suffix_with("FOR SHARE"):limit(3):with_for_update(),
        "SELECT t.id, t.name FROM t LIMIT :param_1 FOR UPDATE FOR SHARE",
        "SELECT t.id, t.name FROM t LIMIT ? OFFSET ? FOR SHARE",
        "SELECT t.id, t.name FROM t LIMIT $1 FOR UPDATE FOR SHARE",
        "SELECT t.id, t.name FROM t LIMIT ? FOR UPDATE FOR SHARE")
  check(select(t):prefix_with("DISTINCT"):suffix_with("S1", "S2"),
        "SELECT DISTINCT t.id, t.name FROM t S1 S2")
  local s = select(t):suffix_with("S1", {dialect = "postgresql"})
  T.eq(squash(tostring(s)), "SELECT t.id, t.name FROM t")
  T.eq(squash(s:compile("sqlite").sql), "SELECT t.id, t.name FROM t")
  T.eq(squash(s:compile("postgresql").sql), "SELECT t.id, t.name FROM t S1")
  T.raises("ArgumentError", function() return select(t):suffix_with(1) end)
end)

T.test("fetch renders FETCH FIRST as SQLAlchemy does", function()
  check(select(t):fetch(3),
        "SELECT t.id, t.name FROM t FETCH FIRST :param_1 ROWS ONLY",
        "SELECT t.id, t.name FROM t FETCH FIRST ? ROWS ONLY",
        "SELECT t.id, t.name FROM t FETCH FIRST ($1) ROWS ONLY")
  check(select(t):fetch(3, {percent = true}),
        "SELECT t.id, t.name FROM t FETCH FIRST :param_1 PERCENT ROWS ONLY",
        "SELECT t.id, t.name FROM t FETCH FIRST ? PERCENT ROWS ONLY",
        "SELECT t.id, t.name FROM t FETCH FIRST ($1) PERCENT ROWS ONLY")
  check(select(t):fetch(3, {with_ties = true}):order_by(t.c.id),
        "SELECT t.id, t.name FROM t ORDER BY t.id FETCH FIRST :param_1 " ..
        "ROWS WITH TIES",
        "SELECT t.id, t.name FROM t ORDER BY t.id FETCH FIRST ? ROWS WITH TIES",
        "SELECT t.id, t.name FROM t ORDER BY t.id FETCH FIRST ($1) ROWS " ..
        "WITH TIES")
  local s = select(t):fetch(3):offset(2)
  check(s, "SELECT t.id, t.name FROM t OFFSET :param_1 ROWS FETCH FIRST " ..
        ":param_2 ROWS ONLY",
        "SELECT t.id, t.name FROM t OFFSET ? ROWS FETCH FIRST ? ROWS ONLY",
        "SELECT t.id, t.name FROM t OFFSET ($1) ROWS FETCH FIRST ($2) ROWS " ..
        "ONLY")
  T.eq(s:compile("postgresql").params, {2, 3})
  T.eq(squash(s:compile("postgresql", {literal_binds = true}).sql),
       "SELECT t.id, t.name FROM t OFFSET (2) ROWS FETCH FIRST (3) ROWS ONLY")
  T.eq(squash(s:compile("mysql", {literal_binds = true}).sql),
       "SELECT t.id, t.name FROM t OFFSET 2 ROWS FETCH FIRST 3 ROWS ONLY")
  -- each replaces the other
  T.eq(squash(tostring(select(t):limit(3):fetch(2))),
       "SELECT t.id, t.name FROM t FETCH FIRST :param_1 ROWS ONLY")
  T.eq(squash(tostring(select(t):fetch(2):limit(3))),
       "SELECT t.id, t.name FROM t LIMIT :param_1")
  T.raises("ArgumentError", function() return select(t):fetch("x") end)
end)

T.test("set_label_style with SQLAlchemy's label style names", function()
  local t3 = Table("t3", MetaData(), Column("id", Integer, {primary_key = true}),
                   Column("tid", Integer))
  check(select(t):set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL),
        "SELECT t.id AS t_id, t.name AS t_name FROM t")
  check(select(t, t3):set_label_style(LABEL_STYLE_NONE),
        "SELECT t.id, t.name, t3.id, t3.tid FROM t, t3")
  check(select(t, t3):set_label_style(LABEL_STYLE_DISAMBIGUATE_ONLY),
        "SELECT t.id, t.name, t3.id AS id_1, t3.tid FROM t, t3")
  T.eq(sa.LABEL_STYLE_DEFAULT, sa.LABEL_STYLE_DISAMBIGUATE_ONLY)
  T.eq(squash(tostring(select(t, t3)
                         :set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
                         :subquery():select())),
       "SELECT anon_1.t_id, anon_1.t_name, anon_1.t3_id, anon_1.t3_tid " ..
       "FROM (SELECT t.id AS t_id, t.name AS t_name, t3.id AS t3_id, " ..
       "t3.tid AS t3_tid FROM t, t3) AS anon_1")
  T.eq(squash(tostring(select(t.c.id, t.c.id, func.count(t.c.id),
                              t.c.name:label("x"))
                         :set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL))),
       "SELECT t.id AS t_id, t.id AS t_id__1, count(t.id) AS count_1, " ..
       "t.name AS x FROM t")
  T.eq(squash(tostring(select(t:alias().c.id, t:alias("zz").c.id)
                         :set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL))),
       "SELECT t_1.id AS t_1_id, zz.id AS zz_id FROM t AS t_1, t AS zz")
  T.raises("ArgumentError",
           function() return select(t):set_label_style("x") end)
end)

T.test("Update:ordered_values sets in the order given", function()
  local o = Table("o", MetaData(), Column("id", Integer, {primary_key = true}),
                  Column("name", String(50)),
                  Column("n", Integer, {onupdate = 5}))
  local u = update(o):ordered_values({o.c.name, "a"}, {"id", 3})
    :where(o.c.id:eq(1))
  check(u, "UPDATE o SET name=:name, id=:id, n=:n WHERE o.id = :id_1",
        "UPDATE o SET name=?, id=?, n=? WHERE o.id = ?",
        "UPDATE o SET name=$1, id=$2, n=$3 WHERE o.id = $4")
  T.eq(u:compile("postgresql").params, {"a", 3, 5, 1})
  T.eq(squash(tostring(update(o):values{name = "a", id = 3})),
       "UPDATE o SET id=:id, name=:name, n=:n")
  T.raises("InvalidRequestError", function() return u:values{name = "b"} end)
  T.raises("ArgumentError", function()
    return update(o):values{name = "b"}:ordered_values({"id", 1})
  end)
  T.raises("ArgumentError",
           function() return update(o):ordered_values({"nope", 1}) end)
  T.raises("ArgumentError", function() return update(o):ordered_values(1) end)
end)

T.test("within_group renders the ordered-set aggregate form", function()
  check(select(func.percentile_cont(0.5):within_group(t.c.id)),
        "SELECT percentile_cont(:percentile_cont_1) WITHIN GROUP " ..
        "(ORDER BY t.id) AS anon_1 FROM t",
        "SELECT percentile_cont(?) WITHIN GROUP (ORDER BY t.id) AS anon_1 " ..
        "FROM t",
        "SELECT percentile_cont($1) WITHIN GROUP (ORDER BY t.id) AS anon_1 " ..
        "FROM t")
  T.eq(squash(tostring(select(func.percentile_cont(0.5)
                                :within_group(t.c.id:desc(), t.c.name)))),
       "SELECT percentile_cont(:percentile_cont_1) WITHIN GROUP (ORDER BY " ..
       "t.id DESC, t.name) AS anon_1 FROM t")
  T.eq(squash(tostring(select(func.count():within_group(t.c.id)))),
       "SELECT count(*) WITHIN GROUP (ORDER BY t.id) AS anon_1 FROM t")
  -- percentile_* and mode take the ordering's type
  T.eq(tostring(func.percentile_cont(0.5):within_group(t.c.id).type),
       "INTEGER")
  T.eq(tostring(func.mode():within_group(t.c.name).type), "VARCHAR(50)")
  T.raises("ArgumentError",
           function() return t.c.id:within_group(t.c.id) end)
  T.raises("ArgumentError",
           function() return func.mode():within_group() end)
end)

T.test("JSONB has_any and has_all", function()
  local j = Table("jt", MetaData(), Column("id", Integer, {primary_key = true}),
                  Column("doc", JSONB))
  local e = j.c.doc:has_any({"a", "b"})
  T.eq(tostring(e), "jt.doc ?| :doc_1")
  T.eq(e:compile("postgresql").sql, "jt.doc ?| $1")
  T.eq(tostring(e.type), "BOOLEAN")
  T.eq(tostring(j.c.doc:has_all({"a", "b"})), "jt.doc ?& :doc_1")
  T.raises("ArgumentError", function() return j.c.id:has_any({"a"}) end)
  T.raises("ArgumentError", function() return j.c.doc:has_all({1}) end)
  T.raises("ArgumentError", function() return j.c.doc:has_all("a") end)
end)

T.test("params and unique_params set bind values", function()
  local s = select(t):where(t.c.id:eq(bindparam("x")))
  local p = s:params{x = 5}
  check(p, "SELECT t.id, t.name FROM t WHERE t.id = :x",
        "SELECT t.id, t.name FROM t WHERE t.id = ?",
        "SELECT t.id, t.name FROM t WHERE t.id = $1")
  T.eq(p:compile("sqlite").params, {5})
  T.eq(s:params{x = 6}:params{x = 7}:compile("sqlite").params, {7})
  local u = s:unique_params{x = 5}
  T.eq(squash(tostring(u)), "SELECT t.id, t.name FROM t WHERE t.id = :x_1")
  T.eq(u:compile("sqlite").params, {5})
  local both = union(s:unique_params{x = 1}, s:unique_params{x = 2})
  T.eq(squash(tostring(both)),
       "SELECT t.id, t.name FROM t WHERE t.id = :x_1 UNION " ..
       "SELECT t.id, t.name FROM t WHERE t.id = :x_2")
  T.eq(both:compile("postgresql").params, {1, 2})
  -- a label shared by the columns and ORDER BY stays one label
  local s2 = select(t.c.name:label("n")):where(t.c.id:eq(bindparam("x")))
    :order_by("n")
  T.eq(squash(tostring(s2:params{x = 1})),
       "SELECT t.name AS n FROM t WHERE t.id = :x ORDER BY n")
  T.eq(select(t):where(t.c.name:in_{"a", "b"})
         :where(t.c.id:eq(bindparam("x"))):params{x = 3}
         :compile("sqlite").params, {"a", "b", 3})
  T.eq(text("select :x"):bindparams{x = 1}:params{x = 2}
         :compile("sqlite").params, {2})
  -- the original is unchanged
  T.eq(squash(tostring(s)), "SELECT t.id, t.name FROM t WHERE t.id = :x")
  T.raises("InvalidRequestError", function() return update(t):params{x = 1} end)
  T.raises("ArgumentError", function() return s:params{x = {}} end)
end)

T.test("correlate_except keeps the named FROMs", function()
  local m = MetaData()
  local p = Table("p", m, Column("id", Integer, {primary_key = true}))
  local a = Table("a", m, Column("id", Integer, {primary_key = true}),
                  Column("pid", ForeignKey("p.id")))
  local b = Table("b", m, Column("id", Integer, {primary_key = true}),
                  Column("aid", ForeignKey("a.id")))
  local sub = select(func.count(a.c.id)):where(a.c.pid:eq(p.c.id))
    :where(b.c.aid:eq(a.c.id))
  local function outer(s)
    return squash(tostring(select(p, a):where(s:scalar_subquery():gt(0))))
  end
  local head = "SELECT p.id, a.id AS id_1, a.pid FROM p, a WHERE " ..
    "(SELECT count(a.id) AS count_1 FROM "
  local tail = " WHERE a.pid = p.id AND b.aid = a.id) > :param_1"
  T.eq(outer(sub:correlate_except(a)), head .. "a, b" .. tail)
  T.eq(outer(sub:correlate_except(nil)), head .. "b" .. tail)
  T.eq(outer(sub:correlate_except(a, b)), head .. "a, b" .. tail)
  T.eq(outer(sub:correlate()), head .. "a, p, b" .. tail)
  T.raises("ArgumentError", function() return sub:correlate_except(1) end)
end)

T.test("lateral subqueries; FROM subqueries do not correlate", function()
  local m = MetaData()
  local p = Table("p", m, Column("id", Integer, {primary_key = true}),
                  Column("name", String(50)))
  local a = Table("a", m, Column("id", Integer, {primary_key = true}),
                  Column("pid", ForeignKey("p.id")))
  local lat = select(a.c.id):where(a.c.pid:eq(p.c.id)):limit(2):lateral()
  local inner = "(SELECT a.id AS id FROM a WHERE a.pid = p.id LIMIT "
  check(select(p.c.name, lat.c.id):join(lat, true_()),
        "SELECT p.name, anon_1.id FROM p JOIN LATERAL " .. inner ..
        ":param_1) AS anon_1 ON true",
        "SELECT p.name, anon_1.id FROM p JOIN LATERAL " .. inner ..
        "? OFFSET ?) AS anon_1 ON 1 = 1",
        "SELECT p.name, anon_1.id FROM p JOIN LATERAL " .. inner ..
        "$1) AS anon_1 ON true",
        "SELECT p.name, anon_1.id FROM p INNER JOIN LATERAL " .. inner ..
        "?) AS anon_1 ON true = 1")
  local x = select(a.c.id):where(a.c.pid:eq(p.c.id)):lateral("x")
  T.eq(squash(tostring(select(p, x))),
       "SELECT p.id, p.name, x.id AS id_1 FROM p, LATERAL (SELECT a.id AS " ..
       "id FROM a WHERE a.pid = p.id) AS x")
  local y = select(a.c.id):where(a.c.pid:eq(p.c.id)):subquery("y")
  T.eq(squash(tostring(select(p, y))),
       "SELECT p.id, p.name, y.id AS id_1 FROM p, (SELECT a.id AS id " ..
       "FROM a, p WHERE a.pid = p.id) AS y")
  T.eq(squash(select(p):join(a, true_()):compile("sqlite").sql),
       "SELECT p.id, p.name FROM p JOIN a ON 1 = 1")
  T.raises("ArgumentError", function() return p:lateral() end)
end)

T.test("sa.values as a FROM element", function()
  local v = sa.values(column("id", Integer), column("name", String),
                      {name = "v"}):data{{1, "x"}, {2, "y"}}
  local rows = "(VALUES (:param_1, :param_2), (:param_3, :param_4)) AS v " ..
    "(id, name)"
  check(select(v), "SELECT v.id, v.name FROM " .. rows,
        "SELECT v.id, v.name FROM (VALUES (?, ?), (?, ?)) AS v (id, name)",
        "SELECT v.id, v.name FROM (VALUES ($1, $2), ($3, $4)) AS v (id, name)")
  T.eq(select(v):compile("sqlite").params, {1, "x", 2, "y"})
  check(select(t):join(v, t.c.id:eq(v.c.id)),
        "SELECT t.id, t.name FROM t JOIN " .. rows .. " ON t.id = v.id",
        "SELECT t.id, t.name FROM t JOIN (VALUES (?, ?), (?, ?)) AS v " ..
        "(id, name) ON t.id = v.id",
        "SELECT t.id, t.name FROM t JOIN (VALUES ($1, $2), ($3, $4)) AS v " ..
        "(id, name) ON t.id = v.id",
        "SELECT t.id, t.name FROM t INNER JOIN (VALUES (?, ?), (?, ?)) AS v " ..
        "(id, name) ON t.id = v.id")
  local w = values(column("id", Integer), {name = "w", literal_binds = true})
    :data{{1}, {2}}
  T.eq(squash(tostring(select(w))), "SELECT w.id FROM (VALUES (1), (2)) AS w (id)")
  -- data() adds rows to a new VALUES
  T.eq(squash(tostring(select(v:data{{3, "z"}}))),
       "SELECT v.id, v.name FROM (VALUES (:param_1, :param_2), " ..
       "(:param_3, :param_4), (:param_5, :param_6)) AS v (id, name)")
  T.eq(select(v.c.name):where(v.c.id:gt(1)):compile("postgresql").params,
       {1, "x", 2, "y", 1})
  -- unnamed, it renders without the AS part, as SQLAlchemy's does
  T.eq(squash(tostring(select(values(column("id", Integer)):data{{1}}))),
       "SELECT id FROM (VALUES (:param_1))")
  T.raises("ArgumentError", function() return v:data{{1}} end)
  T.raises("ArgumentError", function() return v:data{{1, {}}} end)
end)

T.test("reduce_columns drops equivalent columns", function()
  local m = MetaData()
  local e = Table("e", m, Column("id", Integer, {primary_key = true}),
                  Column("name", String(50)))
  local mg = Table("mg", m, Column("id", ForeignKey("e.id"),
                                   {primary_key = true}),
                   Column("lvl", Integer))
  local x = Table("x", m, Column("id", Integer, {primary_key = true}),
                  Column("eid", Integer))
  local function r(s) return squash(tostring(s)) end
  T.eq(r(select(e, mg):where(e.c.id:eq(mg.c.id)):reduce_columns()),
       "SELECT e.id, e.name, mg.lvl FROM e, mg WHERE e.id = mg.id")
  T.eq(r(select(e, mg):reduce_columns()), "SELECT e.id, e.name, mg.lvl FROM e, mg")
  T.eq(r(select(e, x):where(e.c.id:eq(x.c.id)):reduce_columns()),
       "SELECT e.id, e.name, x.eid FROM e, x WHERE e.id = x.id")
  T.eq(r(select(e, x):reduce_columns()),
       "SELECT e.id, e.name, x.id AS id_1, x.eid FROM e, x")
  T.eq(r(select(e, x):where(e.c.id:eq(x.c.eid)):reduce_columns(false)),
       "SELECT e.id, e.name, x.id AS id_1 FROM e, x WHERE e.id = x.eid")
  T.eq(r(select(e, x):where(e.c.id:eq(x.c.eid)):reduce_columns()),
       "SELECT e.id, e.name, x.id AS id_1, x.eid FROM e, x WHERE e.id = x.eid")
  T.eq(r(select(e):join(mg):reduce_columns()),
       "SELECT e.id, e.name FROM e JOIN mg ON e.id = mg.id")
end)

for _, db in ipairs(T.databases()) do
  T.test(db.name .. ": fetch, prefix_with and suffix_with run", function()
    local e = create_engine(db.url)
    local m = MetaData()
    local f = Table("fetch_t", m, Column("id", Integer, {primary_key = true}),
                    Column("v", Integer))
    m:drop_all(e)
    m:create_all(e)
    local c = e:connect()
    c:execute(insert(f), {{id = 1, v = 1}, {id = 2, v = 2}, {id = 3, v = 2},
                          {id = 4, v = 3}})
    local function ids(stmt)
      local r = {}
      for _, row in ipairs(c:execute(stmt):all()) do r[#r + 1] = row[1] end
      return r
    end
    T.eq(ids(select(f.c.id):prefix_with("DISTINCT"):order_by(f.c.id)),
         {1, 2, 3, 4})
    if db.name ~= "sqlite" then
      -- SQLite has no FETCH FIRST
      T.eq(ids(select(f.c.id):order_by(f.c.id):fetch(2)), {1, 2})
      T.eq(ids(select(f.c.id):order_by(f.c.id):offset(1):fetch(2)), {2, 3})
      local tied = ids(select(f.c.id):order_by(f.c.v):fetch(2,
                                                         {with_ties = true}))
      table.sort(tied)
      T.eq(tied, {1, 2, 3})
    end
    if db.name == "postgresql" then
      -- VALUES as a FROM element (SQLite has no column list for it)
      local vals = values(column("id", Integer), column("w", Integer),
                          {name = "vals"})
      for _, want in ipairs({{{1, 10}, {4, 40}}, {{2, 20}}}) do
        local got, v = {}, vals:data(want)
        for _, row in ipairs(c:execute(select(f.c.id, v.c.w)
                               :join(v, f.c.id:eq(v.c.id))
                               :order_by(f.c.id)):all()) do
          got[#got + 1] = {row[1], row[2]}
        end
        T.eq(got, want)
      end
      -- per row of f, the two next ids
      local o = f:alias("o")
      local lat = select(f.c.id:label("nid")):where(f.c.id:gt(o.c.id))
        :order_by(f.c.id):limit(1):lateral("nx")
      local rows = c:execute(select(o.c.id, lat.c.nid):select_from(o)
                               :join(lat, true_()):order_by(o.c.id)):all()
      T.eq(#rows, 3)
      T.eq({rows[1][1], rows[1][2], rows[3][1], rows[3][2]}, {1, 2, 3, 4})
      local jm = MetaData()
      local j = Table("jsonb_keys", jm,
                      Column("id", Integer, {primary_key = true}),
                      Column("doc", JSONB))
      jm:create_all(c)
      c:execute(insert(j), {{id = 1, doc = {a = 1, b = 2}}, {id = 2, doc = {a = 1}},
                            {id = 3, doc = {["c,d"] = 1}}})
      local function jids(crit)
        local r = {}
        for _, row in ipairs(c:execute(select(j.c.id):where(crit)
                                         :order_by(j.c.id)):all()) do
          r[#r + 1] = row[1]
        end
        return r
      end
      T.eq(jids(j.c.doc:has_any({"b", "x"})), {1})
      T.eq(jids(j.c.doc:has_any({"a"})), {1, 2})
      T.eq(jids(j.c.doc:has_all({"a", "b"})), {1})
      T.eq(jids(j.c.doc:has_any({"c,d", 'q"'})), {3})
      jm:drop_all(c)
      T.eq(c:execute(select(func.percentile_disc(0.5):within_group(f.c.v)))
             :scalar(), 2)
      T.eq(ids(select(f.c.id):order_by(f.c.id):suffix_with("FOR SHARE")),
           {1, 2, 3, 4})
    end
    local byv = select(f.c.id):where(f.c.v:eq(bindparam("want")))
    T.eq(ids(byv:order_by(f.c.id):params{want = 2}), {2, 3})
    T.eq(ids(union_all(byv:unique_params{want = 1},
                       byv:unique_params{want = 3}):order_by("id")), {1, 4})
    c:execute(update(f):ordered_values({f.c.v, 10}):where(f.c.id:eq(4)))
    T.eq(c:execute(select(f.c.v):where(f.c.id:eq(4))):scalar(), 10)
    c:close() -- its transaction's locks would block the DROP
    m:drop_all(e)
  end)
end

-- Compiled texts are kept per cached shape: many shapes taking turns (more
-- than either cache holds) each keep their own text, on cache hits and
-- misses, with literal binds compiled in between.
T.test("compiled texts of many shapes taking turns stay their own", function()
  local function stmt(i)
    return select(t.c.id:label("c" .. i)):where(t.c.id:eq(i))
  end
  for round = 1, 2 do
    for i = 1, 600 do
      local c = stmt(i):compile("sqlite")
      T.eq(squash(c.sql), "SELECT t.id AS c" .. i .. " FROM t WHERE t.id = ?")
      T.eq(squash(tostring(c)), squash(c.sql))
      T.eq(c.params[1], i)
      T.eq(c.positiontup[1], "id_1")
      if i % 97 == round then
        T.eq(squash(stmt(i):compile("sqlite", {literal_binds = true}).sql),
             "SELECT t.id AS c" .. i .. " FROM t WHERE t.id = " .. i)
      end
    end
  end
  local c = stmt(1):compile("postgresql")
  T.eq(squash(c.sql), "SELECT t.id AS c1 FROM t WHERE t.id = $1")
end)

T.test("a Compiled's attributes refuse any other value", function()
  local c = select(t.c.id):compile("sqlite")
  local index = getmetatable(c).__index
  T.eq(index(c, "sql"), c.sql)
  for _, v in ipairs({t.c.id, select(t.c.id), 1, "sql", {}}) do
    T.eq(pcall(index, v, "sql"), false)
  end
end)

T.done()
