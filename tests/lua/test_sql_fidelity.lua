-- Constructs of API.md sections 2-3 rendered by tostring() and by
-- compile(dialect, {literal_binds = true}) on SQLite, PostgreSQL and
-- MySQL, each expected string being SQLAlchemy 1.4's str() or
-- literal_binds compile of the same construct (white space runs
-- collapsed, none kept just inside parentheses).
local T = require "testing"

local function norm(s)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""):gsub("%( ", "(")
           :gsub(" %)", ")"))
end

local md = MetaData()
local users = Table("users", md, Column("id", Integer, {primary_key = true}),
  Column("name", String(50)), Column("fullname", String),
  Column("created", DateTime), Column("score", Numeric(10, 2)),
  Column("active", Boolean), Column("data", JSON))
local addresses = Table("addresses", md,
  Column("id", Integer, {primary_key = true}),
  Column("user_id", ForeignKey("users.id")), Column("email", String(100)))
local u, a = users.c, addresses.c
local md2 = MetaData()
local ty = Table("ty", md2, Column("id", Integer, {primary_key = true}),
  Column("b", Boolean, {nullable = false}),
  Column("e", Enum("a", "b", {name = "ek"})), Column("j", JSON),
  Column("u2", String(36)), Column("i", Interval), Column("lb", LargeBinary),
  Column("ut", UnicodeText), Column("un", Unicode(20)), Column("f", Float),
  Column("d2", Float(53)), Column("n", Numeric(12, 4)),
  Column("bi", BigInteger), Column("si", SmallInteger),
  Column("dt", DateTime{timezone = true}), Column("tm", Time),
  Column("dd", Date), Column("tx", Text),
  Column("cr", DateTime, {server_default = func.now()}),
  Column("cm", String(10), {comment = "a 'c'"}),
  Column("dv", Integer, {server_default = "5"}))
local ix = Index("ix_ty_b", ty.c.b, ty.c.n, {unique = true})
Table("par", md2, Column("id", Integer, {primary_key = true}),
  Column("code", String(5), {unique = true}))
local ch = Table("ch", md2, Column("id", Integer, {primary_key = true}),
  Column("pid", ForeignKey("par.id", {ondelete = "CASCADE", onupdate = "SET NULL"})),
  Column("code", String(5)),
  ForeignKeyConstraint({"code"}, {"par.code"}, {name = "fk_code"}),
  UniqueConstraint("pid", "code", {name = "uq_pc"}),
  CheckConstraint("id > 0", {name = "ck_id"}))

local cases = {
  {"win_rows", function() return select(func.avg(u.score):over{order_by = u.id, rows = {-2, 2}}) end,
   {str = "SELECT avg(users.score) OVER (ORDER BY users.id ROWS BETWEEN :param_1 PRECEDING AND :param_2 FOLLOWING) AS anon_1 FROM users", sqlite = "SELECT avg(users.score) OVER (ORDER BY users.id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS anon_1 FROM users", postgresql = "SELECT avg(users.score) OVER (ORDER BY users.id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS anon_1 FROM users", mysql = "SELECT avg(users.score) OVER (ORDER BY users.id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS anon_1 FROM users"}},
  {"win_range", function() return select(func.sum(u.score):over{order_by = u.id, range_ = {nil, nil}}) end,
   {str = "SELECT sum(users.score) OVER (ORDER BY users.id RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS anon_1 FROM users", sqlite = "SELECT sum(users.score) OVER (ORDER BY users.id RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS anon_1 FROM users", postgresql = "SELECT sum(users.score) OVER (ORDER BY users.id RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS anon_1 FROM users", mysql = "SELECT sum(users.score) OVER (ORDER BY users.id RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS anon_1 FROM users"}},
  {"win_part_only", function() return select(func.rank():over{partition_by = {u.name, u.active}}) end,
   {str = "SELECT rank() OVER (PARTITION BY users.name, users.active) AS anon_1 FROM users", sqlite = "SELECT rank() OVER (PARTITION BY users.name, users.active) AS anon_1 FROM users", postgresql = "SELECT rank() OVER (PARTITION BY users.name, users.active) AS anon_1 FROM users", mysql = "SELECT rank() OVER (PARTITION BY users.name, users.active) AS anon_1 FROM users"}},
  {"fn_filter", function() return select(func.count(u.id):filter(u.active:eq(true))) end,
   {str = "SELECT count(users.id) FILTER (WHERE users.active = true) AS anon_1 FROM users", sqlite = "SELECT count(users.id) FILTER (WHERE users.active = 1) AS anon_1 FROM users", postgresql = "SELECT count(users.id) FILTER (WHERE users.active = true) AS anon_1 FROM users", mysql = "SELECT count(users.id) FILTER (WHERE users.active = true) AS anon_1 FROM users"}},
  {"within_group", function() return select(func.percentile_cont(0.5):within_group(u.score)) end,
   {str = "SELECT percentile_cont(:percentile_cont_1) WITHIN GROUP (ORDER BY users.score) AS anon_1 FROM users", sqlite = "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY users.score) AS anon_1 FROM users", postgresql = "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY users.score) AS anon_1 FROM users", mysql = "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY users.score) AS anon_1 FROM users"}},
  {"type_coerce", function() return select(type_coerce(u.name, Integer) + 1) end,
   {str = "SELECT users.name + :param_1 AS anon_1 FROM users", sqlite = "SELECT users.name + 1 AS anon_1 FROM users", postgresql = "SELECT users.name + 1 AS anon_1 FROM users", mysql = "SELECT users.name + 1 AS anon_1 FROM users"}},
  {"coalesce_lbl", function() return select(func.coalesce(u.name, "x"):label("n")):order_by("n") end,
   {str = "SELECT coalesce(users.name, :coalesce_1) AS n FROM users ORDER BY n", sqlite = "SELECT coalesce(users.name, 'x') AS n FROM users ORDER BY n", postgresql = "SELECT coalesce(users.name, 'x') AS n FROM users ORDER BY n", mysql = "SELECT coalesce(users.name, 'x') AS n FROM users ORDER BY n"}},
  {"lit_col_lbl", function() return select(literal_column("1"):label("one"), literal_column("x + 1")) end,
   {str = "SELECT 1 AS one, x + 1", sqlite = "SELECT 1 AS one, x + 1", postgresql = "SELECT 1 AS one, x + 1", mysql = "SELECT 1 AS one, x + 1"}},
  {"unknown_fn", function() return select(func.my_func(u.id, 5), func.pkg.fn(u.name)) end,
   {str = "SELECT my_func(users.id, :my_func_2) AS my_func_1, pkg.fn(users.name) AS fn_1 FROM users", sqlite = "SELECT my_func(users.id, 5) AS my_func_1, pkg.fn(users.name) AS fn_1 FROM users", postgresql = "SELECT my_func(users.id, 5) AS my_func_1, pkg.fn(users.name) AS fn_1 FROM users", mysql = "SELECT my_func(users.id, 5) AS my_func_1, pkg.fn(users.name) AS fn_1 FROM users"}},
  {"sub_labels", function() local s = select(u.name:label("n"), func.count():label("c")):group_by(u.name):subquery("s") return select(s.c.n, s.c.c) end,
   {str = "SELECT s.n, s.c FROM (SELECT users.name AS n, count(*) AS c FROM users GROUP BY users.name) AS s", sqlite = "SELECT s.n, s.c FROM (SELECT users.name AS n, count(*) AS c FROM users GROUP BY users.name) AS s", postgresql = "SELECT s.n, s.c FROM (SELECT users.name AS n, count(*) AS c FROM users GROUP BY users.name) AS s", mysql = "SELECT s.n, s.c FROM (SELECT users.name AS n, count(*) AS c FROM users GROUP BY users.name) AS s"}},
  {"union_sub", function() local s = union(select(u.id), select(a.user_id)):subquery() return select(s.c.id) end,
   {str = "SELECT anon_1.id FROM (SELECT users.id AS id FROM users UNION SELECT addresses.user_id AS user_id FROM addresses) AS anon_1", sqlite = "SELECT anon_1.id FROM (SELECT users.id AS id FROM users UNION SELECT addresses.user_id AS user_id FROM addresses) AS anon_1", postgresql = "SELECT anon_1.id FROM (SELECT users.id AS id FROM users UNION SELECT addresses.user_id AS user_id FROM addresses) AS anon_1", mysql = "SELECT anon_1.id FROM (SELECT users.id AS id FROM users UNION SELECT addresses.user_id AS user_id FROM addresses) AS anon_1"}},
  {"join_chain", function() local a1, a2 = addresses:alias(), addresses:alias() return select(u.name, a1.c.email, a2.c.email):join(a1, a1.c.user_id:eq(u.id)):join(a2, a2.c.user_id:eq(u.id)) end,
   {str = "SELECT users.name, addresses_1.email, addresses_2.email AS email_1 FROM users JOIN addresses AS addresses_1 ON addresses_1.user_id = users.id JOIN addresses AS addresses_2 ON addresses_2.user_id = users.id", sqlite = "SELECT users.name, addresses_1.email, addresses_2.email AS email_1 FROM users JOIN addresses AS addresses_1 ON addresses_1.user_id = users.id JOIN addresses AS addresses_2 ON addresses_2.user_id = users.id", postgresql = "SELECT users.name, addresses_1.email, addresses_2.email AS email_1 FROM users JOIN addresses AS addresses_1 ON addresses_1.user_id = users.id JOIN addresses AS addresses_2 ON addresses_2.user_id = users.id", mysql = "SELECT users.name, addresses_1.email, addresses_2.email AS email_1 FROM users INNER JOIN addresses AS addresses_1 ON addresses_1.user_id = users.id INNER JOIN addresses AS addresses_2 ON addresses_2.user_id = users.id"}},
  {"exists_select", function() return select(exists(select(a.id):where(a.user_id:eq(5)))) end,
   {str = "SELECT EXISTS (SELECT addresses.id FROM addresses WHERE addresses.user_id = :user_id_1) AS anon_1", sqlite = "SELECT EXISTS (SELECT addresses.id FROM addresses WHERE addresses.user_id = 5) AS anon_1", postgresql = "SELECT EXISTS (SELECT addresses.id FROM addresses WHERE addresses.user_id = 5) AS anon_1", mysql = "SELECT EXISTS (SELECT addresses.id FROM addresses WHERE addresses.user_id = 5) AS anon_1"}},
  {"and_empty_where", function() return select(u.id):where(and_(u.id:gt(1), or_(u.name:eq("a"), u.name:eq("b")), u.active)) end,
   {str = "SELECT users.id FROM users WHERE users.id > :id_1 AND (users.name = :name_1 OR users.name = :name_2) AND users.active", sqlite = "SELECT users.id FROM users WHERE users.id > 1 AND (users.name = 'a' OR users.name = 'b') AND users.active = 1", postgresql = "SELECT users.id FROM users WHERE users.id > 1 AND (users.name = 'a' OR users.name = 'b') AND users.active", mysql = "SELECT users.id FROM users WHERE users.id > 1 AND (users.name = 'a' OR users.name = 'b') AND users.active = 1"}},
  {"neg_in_sub", function() return select(u.id):where(~u.id:in_(select(a.user_id))) end,
   {str = "SELECT users.id FROM users WHERE (users.id NOT IN (SELECT addresses.user_id FROM addresses))", sqlite = "SELECT users.id FROM users WHERE (users.id NOT IN (SELECT addresses.user_id FROM addresses))", postgresql = "SELECT users.id FROM users WHERE (users.id NOT IN (SELECT addresses.user_id FROM addresses))", mysql = "SELECT users.id FROM users WHERE (users.id NOT IN (SELECT addresses.user_id FROM addresses))"}},
  {"cast_where", function() return select(u.id):where(cast(u.score, Integer):gt(3)) end,
   {str = "SELECT users.id FROM users WHERE CAST(users.score AS INTEGER) > :param_1", sqlite = "SELECT users.id FROM users WHERE CAST(users.score AS INTEGER) > 3", postgresql = "SELECT users.id FROM users WHERE CAST(users.score AS INTEGER) > 3", mysql = "SELECT users.id FROM users WHERE CAST(users.score AS SIGNED INTEGER) > 3"}},
  {"order_nulls_fn", function() return select(u.id):order_by(func.lower(u.name):asc():nulls_first()) end,
   {str = "SELECT users.id FROM users ORDER BY lower(users.name) ASC NULLS FIRST", sqlite = "SELECT users.id FROM users ORDER BY lower(users.name) ASC NULLS FIRST", postgresql = "SELECT users.id FROM users ORDER BY lower(users.name) ASC NULLS FIRST", mysql = "SELECT users.id FROM users ORDER BY lower(users.name) ASC NULLS FIRST"}},
  {"distinct_count2", function() return select(func.count(u.name:distinct())) end,
   {str = "SELECT count(DISTINCT users.name) AS count_1 FROM users", sqlite = "SELECT count(DISTINCT users.name) AS count_1 FROM users", postgresql = "SELECT count(DISTINCT users.name) AS count_1 FROM users", mysql = "SELECT count(DISTINCT users.name) AS count_1 FROM users"}},
  {"scalar_cmp", function() return select(u.id):where(u.score:gt(select(func.avg(u.score)):scalar_subquery())) end,
   {str = "SELECT users.id FROM users WHERE users.score > (SELECT avg(users.score) AS avg_1 FROM users)", sqlite = "SELECT users.id FROM users WHERE users.score > (SELECT avg(users.score) AS avg_1 FROM users)", postgresql = "SELECT users.id FROM users WHERE users.score > (SELECT avg(users.score) AS avg_1 FROM users)", mysql = "SELECT users.id FROM users WHERE users.score > (SELECT avg(users.score) AS avg_1 FROM users)"}},
  {"limit_bind", function() return select(u.id):limit(bindparam("lim", 5)) end,
   {str = "SELECT users.id FROM users LIMIT :lim", sqlite = "SELECT users.id FROM users LIMIT 5 OFFSET 0", postgresql = "SELECT users.id FROM users LIMIT 5", mysql = "SELECT users.id FROM users LIMIT 5"}},
  {"bitwise_not_or", function() return select(u.id):where(~u.name:eq("a") | u.id:eq(2)) end,
   {str = "SELECT users.id FROM users WHERE users.name != :name_1 OR users.id = :id_1", sqlite = "SELECT users.id FROM users WHERE users.name != 'a' OR users.id = 2", postgresql = "SELECT users.id FROM users WHERE users.name != 'a' OR users.id = 2", mysql = "SELECT users.id FROM users WHERE users.name != 'a' OR users.id = 2"}},
  {"is_distinct", function() return select(u.id):where(u.name:is_distinct_from("x")) end,
   {str = "SELECT users.id FROM users WHERE users.name IS DISTINCT FROM :name_1", sqlite = "SELECT users.id FROM users WHERE users.name IS NOT ?", postgresql = "SELECT users.id FROM users WHERE users.name IS DISTINCT FROM 'x'"}},
  {"concat_method", function() return select(u.name:concat("!")) end,
   {str = "SELECT users.name || :name_1 AS anon_1 FROM users", sqlite = "SELECT users.name || '!' AS anon_1 FROM users", postgresql = "SELECT users.name || '!' AS anon_1 FROM users", mysql = "SELECT concat(users.name, '!') AS anon_1 FROM users"}},
  {"fn_upper_like", function() return select(u.id):where(func.upper(u.name):like("A%")) end,
   {str = "SELECT users.id FROM users WHERE upper(users.name) LIKE :upper_1", sqlite = "SELECT users.id FROM users WHERE upper(users.name) LIKE 'A%'", postgresql = "SELECT users.id FROM users WHERE upper(users.name) LIKE 'A%%'", mysql = "SELECT users.id FROM users WHERE upper(users.name) LIKE 'A%%'"}},
  {"str_mult", function() return select(u.score * u.id / 2 - 1) end,
   {str = "SELECT (users.score * users.id) / :param_1 - :param_2 AS anon_1 FROM users", sqlite = "SELECT (users.score * users.id) / 2 - 1 AS anon_1 FROM users", postgresql = "SELECT (users.score * users.id) / 2 - 1 AS anon_1 FROM users", mysql = "SELECT (users.score * users.id) / 2 - 1 AS anon_1 FROM users"}},
  {"update_from", function() return update(users):values{name = a.email}:where(a.user_id:eq(u.id)) end,
   {str = "UPDATE users SET name=addresses.email FROM addresses WHERE addresses.user_id = users.id", postgresql = "UPDATE users SET name=addresses.email FROM addresses WHERE addresses.user_id = users.id", mysql = "UPDATE users, addresses SET users.name=addresses.email WHERE addresses.user_id = users.id"}},
  {"delete_using", function() return delete(users):where(a.user_id:eq(u.id)):where(a.email:eq("x")) end,
   {str = "DELETE FROM users , addresses WHERE addresses.user_id = users.id AND addresses.email = :email_1", postgresql = "DELETE FROM users USING addresses WHERE addresses.user_id = users.id AND addresses.email = 'x'", mysql = "DELETE FROM users USING users, addresses WHERE addresses.user_id = users.id AND addresses.email = 'x'"}},
  {"insert_default_vals", function() return insert(users) end,
   {str = "INSERT INTO users (id, name, fullname, created, score, active, data) VALUES (:id, :name, :fullname, :created, :score, :active, :data)", sqlite = "INSERT INTO users (id, name, fullname, created, score, active, data) VALUES (?, ?, ?, ?, ?, ?, ?)"}},
  {"table_light", function() return select(sa.table("t", column("a"), column("b")).c.a):where(column("b"):gt(5)) end,
   {str = "SELECT t.a FROM t WHERE b > :b_1", sqlite = "SELECT t.a FROM t WHERE b > 5", postgresql = "SELECT t.a FROM t WHERE b > 5", mysql = "SELECT t.a FROM t WHERE b > 5"}},
  {"label_number", function() return select(u.id:label("1abc"), u.name:label("Name")) end,
   {str = "SELECT users.id AS \"1abc\", users.name AS \"Name\" FROM users", sqlite = "SELECT users.id AS \"1abc\", users.name AS \"Name\" FROM users", postgresql = "SELECT users.id AS \"1abc\", users.name AS \"Name\" FROM users", mysql = "SELECT users.id AS `1abc`, users.name AS `Name` FROM users"}},
  {"extract_year", function() return select(extract("year", u.created)) end,
   {str = "SELECT EXTRACT(year FROM users.created) AS anon_1 FROM users", sqlite = "SELECT CAST(STRFTIME('%Y', users.created) AS INTEGER) AS anon_1 FROM users", postgresql = "SELECT EXTRACT(year FROM users.created) AS anon_1 FROM users", mysql = "SELECT EXTRACT(year FROM users.created) AS anon_1 FROM users"}},
  {"extract_dow", function() return select(extract("dow", u.created):label("d")) end,
   {str = "SELECT EXTRACT(dow FROM users.created) AS d FROM users", sqlite = "SELECT CAST(STRFTIME('%w', users.created) AS INTEGER) AS d FROM users", postgresql = "SELECT EXTRACT(dow FROM users.created) AS d FROM users", mysql = "SELECT EXTRACT(dow FROM users.created) AS d FROM users"}},
  {"cast_numeric", function() return select(cast(u.name, Numeric(10, 2))) end,
   {str = "SELECT CAST(users.name AS NUMERIC(10, 2)) AS name FROM users", sqlite = "SELECT CAST(users.name AS NUMERIC(10, 2)) AS name FROM users", postgresql = "SELECT CAST(users.name AS NUMERIC(10, 2)) AS name FROM users", mysql = "SELECT CAST(users.name AS DECIMAL(10, 2)) AS name FROM users"}},
  {"cast_string", function() return select(cast(u.id, String)) end,
   {str = "SELECT CAST(users.id AS VARCHAR) AS id FROM users", sqlite = "SELECT CAST(users.id AS VARCHAR) AS id FROM users", postgresql = "SELECT CAST(users.id AS VARCHAR) AS id FROM users", mysql = "SELECT CAST(users.id AS CHAR) AS id FROM users"}},
  {"cast_date", function() return select(cast(u.created, Date)) end,
   {str = "SELECT CAST(users.created AS DATE) AS created FROM users", sqlite = "SELECT CAST(users.created AS DATE) AS created FROM users", postgresql = "SELECT CAST(users.created AS DATE) AS created FROM users", mysql = "SELECT CAST(users.created AS DATE) AS created FROM users"}},
  {"cast_bool", function() return select(cast(u.id, Boolean)) end,
   {str = "SELECT CAST(users.id AS BOOLEAN) AS id FROM users", sqlite = "SELECT CAST(users.id AS BOOLEAN) AS id FROM users", postgresql = "SELECT CAST(users.id AS BOOLEAN) AS id FROM users", mysql = "SELECT users.id AS id FROM users"}},
  {"cast_float", function() return select(cast(u.name, Float)) end,
   {str = "SELECT CAST(users.name AS FLOAT) AS name FROM users", sqlite = "SELECT CAST(users.name AS FLOAT) AS name FROM users", postgresql = "SELECT CAST(users.name AS FLOAT) AS name FROM users"}},
  {"tuple_in", function() return select(u.id):where(tuple_(u.id, u.name):in_{{1, "a"}, {2, "b"}}) end,
   {sqlite = "SELECT users.id FROM users WHERE (users.id, users.name) IN (VALUES (1, 'a'), (2, 'b'))", postgresql = "SELECT users.id FROM users WHERE (users.id, users.name) IN ((1, 'a'), (2, 'b'))", mysql = "SELECT users.id FROM users WHERE (users.id, users.name) IN ((1, 'a'), (2, 'b'))"}},
  {"distinct_fn", function() return select(func.count(distinct(u.name))) end,
   {str = "SELECT count(DISTINCT users.name) AS count_1 FROM users", sqlite = "SELECT count(DISTINCT users.name) AS count_1 FROM users", postgresql = "SELECT count(DISTINCT users.name) AS count_1 FROM users", mysql = "SELECT count(DISTINCT users.name) AS count_1 FROM users"}},
  {"nulls", function() return select(u.id):order_by(u.name:desc():nulls_last(), nulls_first(u.fullname)) end,
   {str = "SELECT users.id FROM users ORDER BY users.name DESC NULLS LAST, users.fullname NULLS FIRST", sqlite = "SELECT users.id FROM users ORDER BY users.name DESC NULLS LAST, users.fullname NULLS FIRST", postgresql = "SELECT users.id FROM users ORDER BY users.name DESC NULLS LAST, users.fullname NULLS FIRST", mysql = "SELECT users.id FROM users ORDER BY users.name DESC NULLS LAST, users.fullname NULLS FIRST"}},
  {"collate", function() return select(u.name):where(u.name:collate("NOCASE"):eq("x")) end,
   {str = "SELECT users.name FROM users WHERE (users.name COLLATE \"NOCASE\") = :param_1", sqlite = "SELECT users.name FROM users WHERE (users.name COLLATE \"NOCASE\") = 'x'", postgresql = "SELECT users.name FROM users WHERE (users.name COLLATE \"NOCASE\") = 'x'", mysql = "SELECT users.name FROM users WHERE (users.name COLLATE `NOCASE`) = 'x'"}},
  {"window_frame", function() return select(func.sum(u.score):over{partition_by = u.name, order_by = u.id, rows = {nil, 0}}) end,
   {str = "SELECT sum(users.score) OVER (PARTITION BY users.name ORDER BY users.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anon_1 FROM users", sqlite = "SELECT sum(users.score) OVER (PARTITION BY users.name ORDER BY users.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anon_1 FROM users", postgresql = "SELECT sum(users.score) OVER (PARTITION BY users.name ORDER BY users.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anon_1 FROM users", mysql = "SELECT sum(users.score) OVER (PARTITION BY users.name ORDER BY users.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anon_1 FROM users"}},
  {"window_range", function() return select(func.row_number():over{order_by = u.id:desc()}:label("rn")) end,
   {str = "SELECT row_number() OVER (ORDER BY users.id DESC) AS rn FROM users", sqlite = "SELECT row_number() OVER (ORDER BY users.id DESC) AS rn FROM users", postgresql = "SELECT row_number() OVER (ORDER BY users.id DESC) AS rn FROM users", mysql = "SELECT row_number() OVER (ORDER BY users.id DESC) AS rn FROM users"}},
  {"concat_fn", function() return select(func.concat(u.name, "-", u.fullname)) end,
   {str = "SELECT concat(users.name, :concat_2, users.fullname) AS concat_1 FROM users", sqlite = "SELECT concat(users.name, '-', users.fullname) AS concat_1 FROM users", postgresql = "SELECT concat(users.name, '-', users.fullname) AS concat_1 FROM users", mysql = "SELECT concat(users.name, '-', users.fullname) AS concat_1 FROM users"}},
  {"ilike", function() return select(u.id):where(u.name:ilike("%a%")) end,
   {str = "SELECT users.id FROM users WHERE lower(users.name) LIKE lower(:name_1)", sqlite = "SELECT users.id FROM users WHERE lower(users.name) LIKE lower('%a%')", postgresql = "SELECT users.id FROM users WHERE users.name ILIKE '%%a%%'", mysql = "SELECT users.id FROM users WHERE lower(users.name) LIKE lower('%%a%%')"}},
  {"not_ilike", function() return select(u.id):where(u.name:not_ilike("%a%")) end,
   {str = "SELECT users.id FROM users WHERE lower(users.name) NOT LIKE lower(:name_1)", sqlite = "SELECT users.id FROM users WHERE lower(users.name) NOT LIKE lower('%a%')", postgresql = "SELECT users.id FROM users WHERE users.name NOT ILIKE '%%a%%'", mysql = "SELECT users.id FROM users WHERE lower(users.name) NOT LIKE lower('%%a%%')"}},
  {"startswith", function() return select(u.id):where(u.name:startswith("a%b")) end,
   {str = "SELECT users.id FROM users WHERE (users.name LIKE :name_1 || '%')", sqlite = "SELECT users.id FROM users WHERE (users.name LIKE 'a%b' || '%')", postgresql = "SELECT users.id FROM users WHERE (users.name LIKE 'a%%b' || '%%')", mysql = "SELECT users.id FROM users WHERE (users.name LIKE concat('a%%b', '%%'))"}},
  {"contains_esc", function() return select(u.id):where(u.name:contains("x_y", {autoescape = true})) end,
   {str = "SELECT users.id FROM users WHERE (users.name LIKE '%' || :name_1 || '%' ESCAPE '/')", sqlite = "SELECT users.id FROM users WHERE (users.name LIKE '%' || 'x/_y' || '%' ESCAPE '/')", postgresql = "SELECT users.id FROM users WHERE (users.name LIKE '%%' || 'x/_y' || '%%' ESCAPE '/')", mysql = "SELECT users.id FROM users WHERE (users.name LIKE concat(concat('%%', 'x/_y'), '%%') ESCAPE '/')"}},
  {"between", function() return select(u.id):where(u.score:between(1.5, 2.25)) end,
   {str = "SELECT users.id FROM users WHERE users.score BETWEEN :score_1 AND :score_2", sqlite = "SELECT users.id FROM users WHERE users.score BETWEEN 1.5 AND 2.25", postgresql = "SELECT users.id FROM users WHERE users.score BETWEEN 1.5 AND 2.25", mysql = "SELECT users.id FROM users WHERE users.score BETWEEN 1.5 AND 2.25"}},
  {"bool_lit", function() return select(u.id):where(u.active:eq(true)) end,
   {str = "SELECT users.id FROM users WHERE users.active = true", sqlite = "SELECT users.id FROM users WHERE users.active = 1", postgresql = "SELECT users.id FROM users WHERE users.active = true", mysql = "SELECT users.id FROM users WHERE users.active = true"}},
  {"bool_is", function() return select(u.id):where(u.active:is_(false)) end,
   {str = "SELECT users.id FROM users WHERE users.active IS false", sqlite = "SELECT users.id FROM users WHERE users.active IS 0", postgresql = "SELECT users.id FROM users WHERE users.active IS false", mysql = "SELECT users.id FROM users WHERE users.active IS false"}},
  {"true_and", function() return select(u.id):where(and_(true_(), u.id:gt(5))) end,
   {str = "SELECT users.id FROM users WHERE users.id > :id_1", sqlite = "SELECT users.id FROM users WHERE users.id > 5", postgresql = "SELECT users.id FROM users WHERE users.id > 5", mysql = "SELECT users.id FROM users WHERE users.id > 5"}},
  {"string_quote", function() return select(u.id):where(u.name:eq("O'Brien")) end,
   {str = "SELECT users.id FROM users WHERE users.name = :name_1", sqlite = "SELECT users.id FROM users WHERE users.name = 'O''Brien'", postgresql = "SELECT users.id FROM users WHERE users.name = 'O''Brien'", mysql = "SELECT users.id FROM users WHERE users.name = 'O''Brien'"}},
  {"backslash", function() return select(u.id):where(u.name:eq("a\\b")) end,
   {str = "SELECT users.id FROM users WHERE users.name = :name_1", sqlite = "SELECT users.id FROM users WHERE users.name = 'a\\b'", postgresql = "SELECT users.id FROM users WHERE users.name = 'a\\\\b'", mysql = "SELECT users.id FROM users WHERE users.name = 'a\\\\b'"}},
  {"float_lit", function() return select(u.id):where(u.score:gt(1.25)) end,
   {str = "SELECT users.id FROM users WHERE users.score > :score_1", sqlite = "SELECT users.id FROM users WHERE users.score > 1.25", postgresql = "SELECT users.id FROM users WHERE users.score > 1.25", mysql = "SELECT users.id FROM users WHERE users.score > 1.25"}},
  {"null_cmp", function() return select(u.id):where(u.name:eq(nil)) end,
   {str = "SELECT users.id FROM users WHERE users.name IS NULL", sqlite = "SELECT users.id FROM users WHERE users.name IS NULL", postgresql = "SELECT users.id FROM users WHERE users.name IS NULL", mysql = "SELECT users.id FROM users WHERE users.name IS NULL"}},
  {"in_empty", function() return select(u.id):where(u.id:in_{}) end,
   {sqlite = "SELECT users.id FROM users WHERE users.id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)", postgresql = "SELECT users.id FROM users WHERE users.id IN (NULL) AND (1 != 1)", mysql = "SELECT users.id FROM users WHERE users.id IN (NULL) AND (1 != 1)"}},
  {"not_in", function() return select(u.id):where(u.id:not_in{1, 2, 3}) end,
   {sqlite = "SELECT users.id FROM users WHERE (users.id NOT IN (1, 2, 3))", postgresql = "SELECT users.id FROM users WHERE (users.id NOT IN (1, 2, 3))", mysql = "SELECT users.id FROM users WHERE (users.id NOT IN (1, 2, 3))"}},
  {"case_searched", function() return select(case({{u.id:gt(5), "big"}, {u.id:gt(2), "mid"}}, {else_ = "small"})) end,
   {str = "SELECT CASE WHEN (users.id > :id_1) THEN :param_1 WHEN (users.id > :id_2) THEN :param_2 ELSE :param_3 END AS anon_1 FROM users", sqlite = "SELECT CASE WHEN (users.id > 5) THEN 'big' WHEN (users.id > 2) THEN 'mid' ELSE 'small' END AS anon_1 FROM users", postgresql = "SELECT CASE WHEN (users.id > 5) THEN 'big' WHEN (users.id > 2) THEN 'mid' ELSE 'small' END AS anon_1 FROM users", mysql = "SELECT CASE WHEN (users.id > 5) THEN 'big' WHEN (users.id > 2) THEN 'mid' ELSE 'small' END AS anon_1 FROM users"}},
  {"case_value", function() return select(case({{1, "one"}, {2, "two"}}, {value = u.id})) end,
   {str = "SELECT CASE users.id WHEN :param_1 THEN :param_2 WHEN :param_3 THEN :param_4 END AS anon_1 FROM users", sqlite = "SELECT CASE users.id WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS anon_1 FROM users", postgresql = "SELECT CASE users.id WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS anon_1 FROM users", mysql = "SELECT CASE users.id WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS anon_1 FROM users"}},
  {"coalesce", function() return select(func.coalesce(u.name, u.fullname, "none")) end,
   {str = "SELECT coalesce(users.name, users.fullname, :coalesce_2) AS coalesce_1 FROM users", sqlite = "SELECT coalesce(users.name, users.fullname, 'none') AS coalesce_1 FROM users", postgresql = "SELECT coalesce(users.name, users.fullname, 'none') AS coalesce_1 FROM users", mysql = "SELECT coalesce(users.name, users.fullname, 'none') AS coalesce_1 FROM users"}},
  {"scalar_sub", function() return select(u.name, select(func.count(a.id)):where(a.user_id:eq(u.id)):scalar_subquery():label("n")) end,
   {str = "SELECT users.name, (SELECT count(addresses.id) AS count_1 FROM addresses WHERE addresses.user_id = users.id) AS n FROM users", sqlite = "SELECT users.name, (SELECT count(addresses.id) AS count_1 FROM addresses WHERE addresses.user_id = users.id) AS n FROM users", postgresql = "SELECT users.name, (SELECT count(addresses.id) AS count_1 FROM addresses WHERE addresses.user_id = users.id) AS n FROM users", mysql = "SELECT users.name, (SELECT count(addresses.id) AS count_1 FROM addresses WHERE addresses.user_id = users.id) AS n FROM users"}},
  {"exists_sub", function() return select(u.name):where(exists():where(a.user_id:eq(u.id))) end,
   {str = "SELECT users.name FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)", sqlite = "SELECT users.name FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)", postgresql = "SELECT users.name FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)", mysql = "SELECT users.name FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)"}},
  {"not_exists", function() return select(u.name):where(~exists():where(a.user_id:eq(u.id))) end,
   {str = "SELECT users.name FROM users WHERE NOT (EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id))", sqlite = "SELECT users.name FROM users WHERE NOT (EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id))", postgresql = "SELECT users.name FROM users WHERE NOT (EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id))", mysql = "SELECT users.name FROM users WHERE NOT (EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id))"}},
  {"lateral", function() return select(u.name, select(a.email):where(a.user_id:eq(u.id)):limit(1):lateral("la").c.email) end,
   {str = "SELECT users.name, la.email FROM users, LATERAL (SELECT addresses.email AS email FROM addresses WHERE addresses.user_id = users.id LIMIT :param_1) AS la", sqlite = "SELECT users.name, la.email FROM users, LATERAL (SELECT addresses.email AS email FROM addresses WHERE addresses.user_id = users.id LIMIT 1 OFFSET 0) AS la", postgresql = "SELECT users.name, la.email FROM users, LATERAL (SELECT addresses.email AS email FROM addresses WHERE addresses.user_id = users.id LIMIT 1) AS la", mysql = "SELECT users.name, la.email FROM users, LATERAL (SELECT addresses.email AS email FROM addresses WHERE addresses.user_id = users.id LIMIT 1) AS la"}},
  {"union_order", function() return union(select(u.id):where(u.id:lt(3)), select(u.id):where(u.id:gt(7))):order_by("id"):limit(5) end,
   {str = "SELECT users.id FROM users WHERE users.id < :id_1 UNION SELECT users.id FROM users WHERE users.id > :id_2 ORDER BY id LIMIT :param_1", sqlite = "SELECT users.id FROM users WHERE users.id < 3 UNION SELECT users.id FROM users WHERE users.id > 7 ORDER BY id LIMIT 5 OFFSET 0", postgresql = "SELECT users.id FROM users WHERE users.id < 3 UNION SELECT users.id FROM users WHERE users.id > 7 ORDER BY id LIMIT 5", mysql = "SELECT users.id FROM users WHERE users.id < 3 UNION SELECT users.id FROM users WHERE users.id > 7 ORDER BY id LIMIT 5"}},
  {"intersect", function() return intersect(select(u.id), select(a.user_id)) end,
   {str = "SELECT users.id FROM users INTERSECT SELECT addresses.user_id FROM addresses", sqlite = "SELECT users.id FROM users INTERSECT SELECT addresses.user_id FROM addresses", postgresql = "SELECT users.id FROM users INTERSECT SELECT addresses.user_id FROM addresses", mysql = "SELECT users.id FROM users INTERSECT SELECT addresses.user_id FROM addresses"}},
  {"except_all", function() return except_all(select(u.id), select(a.user_id)) end,
   {str = "SELECT users.id FROM users EXCEPT ALL SELECT addresses.user_id FROM addresses", sqlite = "SELECT users.id FROM users EXCEPT ALL SELECT addresses.user_id FROM addresses", postgresql = "SELECT users.id FROM users EXCEPT ALL SELECT addresses.user_id FROM addresses", mysql = "SELECT users.id FROM users EXCEPT ALL SELECT addresses.user_id FROM addresses"}},
  {"cte_rec", function()
  local base = select(u.id):where(u.id:eq(1)):cte("r", {recursive = true})
  return select(base:union_all(select(u.id + 1):where(u.id:lt(10))))
end,
   {str = "WITH RECURSIVE r(id) AS (SELECT users.id AS id FROM users WHERE users.id = :id_1 UNION ALL SELECT users.id + :id_2 AS anon_1 FROM users WHERE users.id < :id_3) SELECT r.id FROM r", sqlite = "WITH RECURSIVE r(id) AS (SELECT users.id AS id FROM users WHERE users.id = 1 UNION ALL SELECT users.id + 1 AS anon_1 FROM users WHERE users.id < 10) SELECT r.id FROM r", postgresql = "WITH RECURSIVE r(id) AS (SELECT users.id AS id FROM users WHERE users.id = 1 UNION ALL SELECT users.id + 1 AS anon_1 FROM users WHERE users.id < 10) SELECT r.id FROM r", mysql = "WITH RECURSIVE r(id) AS (SELECT users.id AS id FROM users WHERE users.id = 1 UNION ALL SELECT users.id + 1 AS anon_1 FROM users WHERE users.id < 10) SELECT r.id FROM r"}},
  {"for_update_of", function() return select(u.id):with_for_update{of = u.id, skip_locked = true} end,
   {str = "SELECT users.id FROM users FOR UPDATE", sqlite = "SELECT users.id FROM users", postgresql = "SELECT users.id FROM users FOR UPDATE OF users SKIP LOCKED", mysql = "SELECT users.id FROM users FOR UPDATE SKIP LOCKED"}},
  {"for_update_nowait", function() return select(u.id):with_for_update{nowait = true, read = true} end,
   {str = "SELECT users.id FROM users FOR UPDATE", sqlite = "SELECT users.id FROM users", postgresql = "SELECT users.id FROM users FOR SHARE NOWAIT", mysql = "SELECT users.id FROM users LOCK IN SHARE MODE NOWAIT"}},
  {"limit_offset", function() return select(u.id):offset(10) end,
   {str = "SELECT users.id FROM users LIMIT -1 OFFSET :param_1", sqlite = "SELECT users.id FROM users LIMIT ? OFFSET 10", postgresql = "SELECT users.id FROM users LIMIT ALL OFFSET 10", mysql = "SELECT users.id FROM users LIMIT 10, 18446744073709551615"}},
  {"distinct_sel", function() return select(u.name):distinct() end,
   {str = "SELECT DISTINCT users.name FROM users", sqlite = "SELECT DISTINCT users.name FROM users", postgresql = "SELECT DISTINCT users.name FROM users", mysql = "SELECT DISTINCT users.name FROM users"}},
  {"group_having", function() return select(u.name, func.count()):group_by(u.name):having(func.count():gt(1)) end,
   {str = "SELECT users.name, count(*) AS count_1 FROM users GROUP BY users.name HAVING count(*) > :count_2", sqlite = "SELECT users.name, count(*) AS count_1 FROM users GROUP BY users.name HAVING count(*) > 1", postgresql = "SELECT users.name, count(*) AS count_1 FROM users GROUP BY users.name HAVING count(*) > 1", mysql = "SELECT users.name, count(*) AS count_1 FROM users GROUP BY users.name HAVING count(*) > 1"}},
  {"fn_now", function() return select(func.now(), func.current_timestamp(), func.localtimestamp()) end,
   {str = "SELECT now() AS now_1, CURRENT_TIMESTAMP AS current_timestamp_1, LOCALTIMESTAMP AS localtimestamp_1", sqlite = "SELECT CURRENT_TIMESTAMP AS now_1, CURRENT_TIMESTAMP AS current_timestamp_1, DATETIME(CURRENT_TIMESTAMP, \"localtime\") AS localtimestamp_1", postgresql = "SELECT now() AS now_1, CURRENT_TIMESTAMP AS current_timestamp_1, LOCALTIMESTAMP AS localtimestamp_1", mysql = "SELECT now() AS now_1, CURRENT_TIMESTAMP AS current_timestamp_1, LOCALTIMESTAMP AS localtimestamp_1"}},
  {"fn_length", function() return select(func.length(u.name), func.char_length(u.name)) end,
   {str = "SELECT length(users.name) AS length_1, char_length(users.name) AS char_length_1 FROM users", sqlite = "SELECT length(users.name) AS length_1, length(users.name) AS char_length_1 FROM users", postgresql = "SELECT length(users.name) AS length_1, char_length(users.name) AS char_length_1 FROM users", mysql = "SELECT length(users.name) AS length_1, char_length(users.name) AS char_length_1 FROM users"}},
  {"fn_random", function() return select(func.random()) end,
   {str = "SELECT random() AS random_1", sqlite = "SELECT random() AS random_1", postgresql = "SELECT random() AS random_1", mysql = "SELECT rand() AS random_1"}},
  {"mod_op", function() return select(u.id % 3, u.id / 2, -u.id) end,
   {str = "SELECT users.id % :id_1 AS anon_1, users.id / :id_2 AS anon_2, -users.id FROM users", sqlite = "SELECT users.id % 3 AS anon_1, users.id / 2 AS anon_2, -users.id FROM users", postgresql = "SELECT users.id %% 3 AS anon_1, users.id / 2 AS anon_2, -users.id FROM users", mysql = "SELECT users.id %% 3 AS anon_1, users.id / 2 AS anon_2, -users.id FROM users"}},
  {"op_custom", function() return select(u.id):where(u.name:op("~")("^a")) end,
   {str = "SELECT users.id FROM users WHERE users.name ~ :name_1", sqlite = "SELECT users.id FROM users WHERE users.name ~ '^a'", postgresql = "SELECT users.id FROM users WHERE users.name ~ '^a'", mysql = "SELECT users.id FROM users WHERE users.name ~ '^a'"}},
  {"regexp", function() return select(u.id):where(u.name:regexp_match("^a")) end,
   {str = "SELECT users.id FROM users WHERE users.name <regexp> :name_1", sqlite = "SELECT users.id FROM users WHERE users.name REGEXP '^a'", postgresql = "SELECT users.id FROM users WHERE users.name ~ '^a'", mysql = "SELECT users.id FROM users WHERE users.name REGEXP '^a'"}},
  {"json_idx", function() return select(u.data["a"]) end,
   {str = "SELECT users.data[:data_1] AS anon_1 FROM users", sqlite = "SELECT JSON_QUOTE(JSON_EXTRACT(users.data, '$.\"a\"')) AS anon_1 FROM users", postgresql = "SELECT users.data -> 'a' AS anon_1 FROM users", mysql = "SELECT JSON_EXTRACT(users.data, '$.\"a\"') AS anon_1 FROM users"}},
  {"insert_multi", function() return insert(users):values{{id = 1, name = "a"}, {id = 2, name = "b"}} end,
   {str = "INSERT INTO users (id, name) VALUES (:id_m0, :name_m0), (:id_m1, :name_m1)", sqlite = "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b')", postgresql = "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b')", mysql = "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b')"}},
  {"insert_sel", function() return insert(addresses):from_select({"user_id", "email"}, select(u.id, u.name)) end,
   {str = "INSERT INTO addresses (user_id, email) SELECT users.id, users.name FROM users", sqlite = "INSERT INTO addresses (user_id, email) SELECT users.id, users.name FROM users", postgresql = "INSERT INTO addresses (user_id, email) SELECT users.id, users.name FROM users", mysql = "INSERT INTO addresses (user_id, email) SELECT users.id, users.name FROM users"}},
  {"update_sub", function() return update(users):where(u.id:eq(select(a.user_id):where(a.email:eq("x")):scalar_subquery())):values{name = "q"} end,
   {str = "UPDATE users SET name=:name WHERE users.id = (SELECT addresses.user_id FROM addresses WHERE addresses.email = :email_1)", sqlite = "UPDATE users SET name='q' WHERE users.id = (SELECT addresses.user_id FROM addresses WHERE addresses.email = 'x')", postgresql = "UPDATE users SET name='q' WHERE users.id = (SELECT addresses.user_id FROM addresses WHERE addresses.email = 'x')", mysql = "UPDATE users SET name='q' WHERE users.id = (SELECT addresses.user_id FROM addresses WHERE addresses.email = 'x')"}},
  {"delete_exists", function() return delete(users):where(exists():where(a.user_id:eq(u.id))) end,
   {str = "DELETE FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)", sqlite = "DELETE FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)", postgresql = "DELETE FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)", mysql = "DELETE FROM users WHERE EXISTS (SELECT * FROM addresses WHERE addresses.user_id = users.id)"}},
  {"update_expr", function() return update(users):values{score = u.score * 2, name = func.upper(u.name)} end,
   {str = "UPDATE users SET name=upper(users.name), score=(users.score * :score_1)", sqlite = "UPDATE users SET name=upper(users.name), score=(users.score * 2)", postgresql = "UPDATE users SET name=upper(users.name), score=(users.score * 2)", mysql = "UPDATE users SET name=upper(users.name), score=(users.score * 2)"}},
  {"literal", function() return select(literal("x"), literal(5), literal_column("'y'")) end,
   {str = "SELECT :param_1 AS anon_1, :param_2 AS anon_2, 'y'", sqlite = "SELECT 'x' AS anon_1, 5 AS anon_2, 'y'", postgresql = "SELECT 'x' AS anon_1, 5 AS anon_2, 'y'", mysql = "SELECT 'x' AS anon_1, 5 AS anon_2, 'y'"}},
  {"bindparam", function() return select(u.id):where(u.name:eq(bindparam("nm", "z"))) end,
   {str = "SELECT users.id FROM users WHERE users.name = :nm", sqlite = "SELECT users.id FROM users WHERE users.name = 'z'", postgresql = "SELECT users.id FROM users WHERE users.name = 'z'", mysql = "SELECT users.id FROM users WHERE users.name = 'z'"}},
  {"text_bind", function() return select(u.id):where(text("name = :n"):bindparams{n = "a"}) end,
   {str = "SELECT users.id FROM users WHERE name = :n", sqlite = "SELECT users.id FROM users WHERE name = 'a'", postgresql = "SELECT users.id FROM users WHERE name = 'a'", mysql = "SELECT users.id FROM users WHERE name = 'a'"}},
  {"alias_join", function() local u2 = users:alias("u2") return select(u.name, u2.c.name):join_from(users, u2, u.id:eq(u2.c.id)) end,
   {str = "SELECT users.name, u2.name AS name_1 FROM users JOIN users AS u2 ON users.id = u2.id", sqlite = "SELECT users.name, u2.name AS name_1 FROM users JOIN users AS u2 ON users.id = u2.id", postgresql = "SELECT users.name, u2.name AS name_1 FROM users JOIN users AS u2 ON users.id = u2.id", mysql = "SELECT users.name, u2.name AS name_1 FROM users INNER JOIN users AS u2 ON users.id = u2.id"}},
  {"full_join", function() return select(u.name, a.email):join_from(users, addresses, {full = true}) end,
   {str = "SELECT users.name, addresses.email FROM users FULL OUTER JOIN addresses ON users.id = addresses.user_id", sqlite = "SELECT users.name, addresses.email FROM users FULL OUTER JOIN addresses ON users.id = addresses.user_id", postgresql = "SELECT users.name, addresses.email FROM users FULL OUTER JOIN addresses ON users.id = addresses.user_id", mysql = "SELECT users.name, addresses.email FROM users FULL OUTER JOIN addresses ON users.id = addresses.user_id"}},
  {"subq_join", function()
  local sq = select(a.user_id, func.count():label("cnt")):group_by(a.user_id):subquery()
  return select(u.name, sq.c.cnt):join(sq, sq.c.user_id:eq(u.id))
end,
   {str = "SELECT users.name, anon_1.cnt FROM users JOIN (SELECT addresses.user_id AS user_id, count(*) AS cnt FROM addresses GROUP BY addresses.user_id) AS anon_1 ON anon_1.user_id = users.id", sqlite = "SELECT users.name, anon_1.cnt FROM users JOIN (SELECT addresses.user_id AS user_id, count(*) AS cnt FROM addresses GROUP BY addresses.user_id) AS anon_1 ON anon_1.user_id = users.id", postgresql = "SELECT users.name, anon_1.cnt FROM users JOIN (SELECT addresses.user_id AS user_id, count(*) AS cnt FROM addresses GROUP BY addresses.user_id) AS anon_1 ON anon_1.user_id = users.id", mysql = "SELECT users.name, anon_1.cnt FROM users INNER JOIN (SELECT addresses.user_id AS user_id, count(*) AS cnt FROM addresses GROUP BY addresses.user_id) AS anon_1 ON anon_1.user_id = users.id"}},
  {"any_all", function() return select(u.id):where(u.id:eq(any_(select(a.user_id):scalar_subquery()))) end,
   {str = "SELECT users.id FROM users WHERE users.id = ANY (SELECT addresses.user_id FROM addresses)", sqlite = "SELECT users.id FROM users WHERE users.id = ANY (SELECT addresses.user_id FROM addresses)", postgresql = "SELECT users.id FROM users WHERE users.id = ANY (SELECT addresses.user_id FROM addresses)", mysql = "SELECT users.id FROM users WHERE users.id = ANY (SELECT addresses.user_id FROM addresses)"}},
  {"date_lit", function() return select(u.id):where(u.created:gt("2024-01-01")) end,
   {str = "SELECT users.id FROM users WHERE users.created > :created_1", sqlite = "SELECT users.id FROM users WHERE users.created > '2024-01-01'", postgresql = "SELECT users.id FROM users WHERE users.created > '2024-01-01'", mysql = "SELECT users.id FROM users WHERE users.created > '2024-01-01'"}},
  {"label_reserved", function() return select(u.name:label("order"), u.id:label("select")) end,
   {str = "SELECT users.name AS \"order\", users.id AS \"select\" FROM users", sqlite = "SELECT users.name AS \"order\", users.id AS \"select\" FROM users", postgresql = "SELECT users.name AS \"order\", users.id AS \"select\" FROM users", mysql = "SELECT users.name AS `order`, users.id AS `select` FROM users"}},
  {"quoting", function() return select(sa.table("User Table", column("Id"), column("from"))) end,
   {str = "SELECT \"User Table\".\"Id\", \"User Table\".\"from\" FROM \"User Table\"", sqlite = "SELECT \"User Table\".\"Id\", \"User Table\".\"from\" FROM \"User Table\"", postgresql = "SELECT \"User Table\".\"Id\", \"User Table\".\"from\" FROM \"User Table\"", mysql = "SELECT `User Table`.`Id`, `User Table`.`from` FROM `User Table`"}},
  {"ddl_types", function() return CreateTable(ty) end,
   {str = "CREATE TABLE ty ( id INTEGER NOT NULL, b BOOLEAN NOT NULL, e VARCHAR(1), j JSON, u2 VARCHAR(36), i DATETIME, lb BLOB, ut TEXT, un VARCHAR(20), f FLOAT, d2 FLOAT, n NUMERIC(12, 4), bi BIGINT, si SMALLINT, dt DATETIME, tm TIME, dd DATE, tx TEXT, cr DATETIME DEFAULT now(), cm VARCHAR(10), dv INTEGER DEFAULT '5', PRIMARY KEY (id) )", sqlite = "CREATE TABLE ty ( id INTEGER NOT NULL, b BOOLEAN NOT NULL, e VARCHAR(1), j JSON, u2 VARCHAR(36), i DATETIME, lb BLOB, ut TEXT, un VARCHAR(20), f FLOAT, d2 FLOAT, n NUMERIC(12, 4), bi BIGINT, si SMALLINT, dt DATETIME, tm TIME, dd DATE, tx TEXT, cr DATETIME DEFAULT (CURRENT_TIMESTAMP), cm VARCHAR(10), dv INTEGER DEFAULT '5', PRIMARY KEY (id) )", postgresql = "CREATE TABLE ty ( id SERIAL NOT NULL, b BOOLEAN NOT NULL, e ek, j JSON, u2 VARCHAR(36), i INTERVAL, lb BYTEA, ut TEXT, un VARCHAR(20), f FLOAT, d2 FLOAT(53), n NUMERIC(12, 4), bi BIGINT, si SMALLINT, dt TIMESTAMP WITH TIME ZONE, tm TIME WITHOUT TIME ZONE, dd DATE, tx TEXT, cr TIMESTAMP WITHOUT TIME ZONE DEFAULT now(), cm VARCHAR(10), dv INTEGER DEFAULT '5', PRIMARY KEY (id) )", mysql = "CREATE TABLE ty ( id INTEGER NOT NULL AUTO_INCREMENT, b BOOL NOT NULL, e ENUM('a','b'), j JSON, u2 VARCHAR(36), i DATETIME, lb BLOB, ut TEXT, un VARCHAR(20), f FLOAT, d2 FLOAT(53), n NUMERIC(12, 4), bi BIGINT, si SMALLINT, dt DATETIME, tm TIME, dd DATE, tx TEXT, cr DATETIME DEFAULT now(), cm VARCHAR(10) COMMENT 'a ''c''', dv INTEGER DEFAULT '5', PRIMARY KEY (id) )"}},
  {"ddl_index", function() return CreateIndex(ix) end,
   {str = "CREATE UNIQUE INDEX ix_ty_b ON ty (b, n)", mysql = "CREATE UNIQUE INDEX ix_ty_b ON ty (b, n)"}},
  {"ddl_drop", function() return DropTable(ty) end,
   {str = "DROP TABLE ty", sqlite = "DROP TABLE ty", postgresql = "DROP TABLE ty", mysql = "DROP TABLE ty"}},
  {"ddl_dropix", function() return DropIndex(ix) end,
   {str = "DROP INDEX ix_ty_b", sqlite = "DROP INDEX ix_ty_b"}},
  {"ddl_cons", function() return CreateTable(ch) end,
   {str = "CREATE TABLE ch ( id INTEGER NOT NULL, pid INTEGER, code VARCHAR(5), PRIMARY KEY (id), CONSTRAINT fk_code FOREIGN KEY(code) REFERENCES par (code), CONSTRAINT uq_pc UNIQUE (pid, code), CONSTRAINT ck_id CHECK (id > 0), FOREIGN KEY(pid) REFERENCES par (id) ON DELETE CASCADE ON UPDATE SET NULL )", sqlite = "CREATE TABLE ch ( id INTEGER NOT NULL, pid INTEGER, code VARCHAR(5), PRIMARY KEY (id), CONSTRAINT fk_code FOREIGN KEY(code) REFERENCES par (code), CONSTRAINT uq_pc UNIQUE (pid, code), CONSTRAINT ck_id CHECK (id > 0), FOREIGN KEY(pid) REFERENCES par (id) ON DELETE CASCADE ON UPDATE SET NULL )", postgresql = "CREATE TABLE ch ( id SERIAL NOT NULL, pid INTEGER, code VARCHAR(5), PRIMARY KEY (id), CONSTRAINT fk_code FOREIGN KEY(code) REFERENCES par (code), CONSTRAINT uq_pc UNIQUE (pid, code), CONSTRAINT ck_id CHECK (id > 0), FOREIGN KEY(pid) REFERENCES par (id) ON DELETE CASCADE ON UPDATE SET NULL )", mysql = "CREATE TABLE ch ( id INTEGER NOT NULL AUTO_INCREMENT, pid INTEGER, code VARCHAR(5), PRIMARY KEY (id), CONSTRAINT fk_code FOREIGN KEY(code) REFERENCES par (code), CONSTRAINT uq_pc UNIQUE (pid, code), CONSTRAINT ck_id CHECK (id > 0), FOREIGN KEY(pid) REFERENCES par (id) ON DELETE CASCADE ON UPDATE SET NULL )"}},
  {"exists_method", function() return select(u.id):where(u.id:gt(1)):exists() end,
   {str = "EXISTS (SELECT users.id FROM users WHERE users.id > :id_1)", sqlite = "EXISTS (SELECT users.id FROM users WHERE users.id > 1)", postgresql = "EXISTS (SELECT users.id FROM users WHERE users.id > 1)", mysql = "EXISTS (SELECT users.id FROM users WHERE users.id > 1)"}},
  {"select_exists", function() return select(select(u.id):where(u.id:gt(1)):exists():label("e")) end,
   {str = "SELECT EXISTS (SELECT users.id FROM users WHERE users.id > :id_1) AS e", sqlite = "SELECT EXISTS (SELECT users.id FROM users WHERE users.id > 1) AS e", postgresql = "SELECT EXISTS (SELECT users.id FROM users WHERE users.id > 1) AS e", mysql = "SELECT EXISTS (SELECT users.id FROM users WHERE users.id > 1) AS e"}},
  {"join_infer", function() return select(u.name, a.email):join(addresses) end,
   {str = "SELECT users.name, addresses.email FROM users JOIN addresses ON users.id = addresses.user_id", sqlite = "SELECT users.name, addresses.email FROM users JOIN addresses ON users.id = addresses.user_id", postgresql = "SELECT users.name, addresses.email FROM users JOIN addresses ON users.id = addresses.user_id", mysql = "SELECT users.name, addresses.email FROM users INNER JOIN addresses ON users.id = addresses.user_id"}},
  {"outerjoin_infer", function() return select(u.name):outerjoin(addresses):where(a.id:eq(nil)) end,
   {str = "SELECT users.name FROM users LEFT OUTER JOIN addresses ON users.id = addresses.user_id WHERE addresses.id IS NULL", sqlite = "SELECT users.name FROM users LEFT OUTER JOIN addresses ON users.id = addresses.user_id WHERE addresses.id IS NULL", postgresql = "SELECT users.name FROM users LEFT OUTER JOIN addresses ON users.id = addresses.user_id WHERE addresses.id IS NULL", mysql = "SELECT users.name FROM users LEFT OUTER JOIN addresses ON users.id = addresses.user_id WHERE addresses.id IS NULL"}},
  {"correlate_except", function() return select(u.name, select(func.max(a.id)):where(a.user_id:eq(u.id)):correlate_except(addresses):scalar_subquery()) end,
   {str = "SELECT users.name, (SELECT max(addresses.id) AS max_1 FROM addresses WHERE addresses.user_id = users.id) AS anon_1 FROM users", sqlite = "SELECT users.name, (SELECT max(addresses.id) AS max_1 FROM addresses WHERE addresses.user_id = users.id) AS anon_1 FROM users", postgresql = "SELECT users.name, (SELECT max(addresses.id) AS max_1 FROM addresses WHERE addresses.user_id = users.id) AS anon_1 FROM users", mysql = "SELECT users.name, (SELECT max(addresses.id) AS max_1 FROM addresses WHERE addresses.user_id = users.id) AS anon_1 FROM users"}},
  {"with_only", function() return select(u.id, u.name):with_only_columns(u.name, a.email) end,
   {str = "SELECT users.name, addresses.email FROM users, addresses", sqlite = "SELECT users.name, addresses.email FROM users, addresses", postgresql = "SELECT users.name, addresses.email FROM users, addresses", mysql = "SELECT users.name, addresses.email FROM users, addresses"}},
  {"add_cols", function() return select(u.id):add_columns(u.name):where(u.id:eq(1)) end,
   {str = "SELECT users.id, users.name FROM users WHERE users.id = :id_1", sqlite = "SELECT users.id, users.name FROM users WHERE users.id = 1", postgresql = "SELECT users.id, users.name FROM users WHERE users.id = 1", mysql = "SELECT users.id, users.name FROM users WHERE users.id = 1"}},
  {"union3", function() return union_all(select(u.id), select(a.id), select(a.user_id)) end,
   {str = "SELECT users.id FROM users UNION ALL SELECT addresses.id FROM addresses UNION ALL SELECT addresses.user_id FROM addresses", sqlite = "SELECT users.id FROM users UNION ALL SELECT addresses.id FROM addresses UNION ALL SELECT addresses.user_id FROM addresses", postgresql = "SELECT users.id FROM users UNION ALL SELECT addresses.id FROM addresses UNION ALL SELECT addresses.user_id FROM addresses", mysql = "SELECT users.id FROM users UNION ALL SELECT addresses.id FROM addresses UNION ALL SELECT addresses.user_id FROM addresses"}},
  {"cte_join", function() local c = select(a.user_id, func.count():label("n")):group_by(a.user_id):cte("counts") return select(u.name, c.c.n):join(c, c.c.user_id:eq(u.id)) end,
   {str = "WITH counts AS (SELECT addresses.user_id AS user_id, count(*) AS n FROM addresses GROUP BY addresses.user_id) SELECT users.name, counts.n FROM users JOIN counts ON counts.user_id = users.id", sqlite = "WITH counts AS (SELECT addresses.user_id AS user_id, count(*) AS n FROM addresses GROUP BY addresses.user_id) SELECT users.name, counts.n FROM users JOIN counts ON counts.user_id = users.id", postgresql = "WITH counts AS (SELECT addresses.user_id AS user_id, count(*) AS n FROM addresses GROUP BY addresses.user_id) SELECT users.name, counts.n FROM users JOIN counts ON counts.user_id = users.id", mysql = "WITH counts AS (SELECT addresses.user_id AS user_id, count(*) AS n FROM addresses GROUP BY addresses.user_id) SELECT users.name, counts.n FROM users INNER JOIN counts ON counts.user_id = users.id"}},
  {"ins_ret", function() return insert(users):values{name = "a"}:returning(u.id, u.name) end,
   {str = "INSERT INTO users (name) VALUES (:name) RETURNING users.id, users.name", postgresql = "INSERT INTO users (name) VALUES ('a') RETURNING users.id, users.name"}},
  {"upd_ret", function() return update(users):where(u.id:eq(1)):values{name = "b"}:returning(u.id) end,
   {str = "UPDATE users SET name=:name WHERE users.id = :id_1 RETURNING users.id", postgresql = "UPDATE users SET name='b' WHERE users.id = 1 RETURNING users.id"}},
  {"del_ret", function() return delete(users):where(u.id:eq(1)):returning(u.name) end,
   {str = "DELETE FROM users WHERE users.id = :id_1 RETURNING users.name", postgresql = "DELETE FROM users WHERE users.id = 1 RETURNING users.name"}},
  {"pg_upsert", function() return insert(users):values{id = 1, name = "a"}:on_conflict_do_update{index_elements = {"id"}, set_ = {name = "b"}} end,
   {sqlite = "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = ?"}},
  {"pg_nothing", function() return insert(users):values{id = 1, name = "a"}:on_conflict_do_nothing{index_elements = {"id"}} end,
   {sqlite = "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO NOTHING", postgresql = "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO NOTHING"}},
  {"lite_upsert", function() return insert(users):values{id = 1, name = "a"}:on_conflict_do_update{index_elements = {"id"}, set_ = {name = "b"}} end,
   {sqlite = "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = ?"}},
  {"prefix", function() return insert(users):prefix_with("OR IGNORE"):values{name = "x"} end,
   {str = "INSERT OR IGNORE INTO users (name) VALUES (:name)", sqlite = "INSERT OR IGNORE INTO users (name) VALUES ('x')", postgresql = "INSERT OR IGNORE INTO users (name) VALUES ('x') RETURNING users.id", mysql = "INSERT OR IGNORE INTO users (name) VALUES ('x')"}},
  {"fn_types", function() return select(func.max(u.score) + 1, func.sum(u.id) * 2, func.avg(u.score)) end,
   {str = "SELECT max(users.score) + :max_1 AS anon_1, sum(users.id) * :sum_1 AS anon_2, avg(users.score) AS avg_1 FROM users", sqlite = "SELECT max(users.score) + 1 AS anon_1, sum(users.id) * 2 AS anon_2, avg(users.score) AS avg_1 FROM users", postgresql = "SELECT max(users.score) + 1 AS anon_1, sum(users.id) * 2 AS anon_2, avg(users.score) AS avg_1 FROM users", mysql = "SELECT max(users.score) + 1 AS anon_1, sum(users.id) * 2 AS anon_2, avg(users.score) AS avg_1 FROM users"}},
  {"neg_between", function() return select(u.id):where(~u.id:between(1, 5)) end,
   {str = "SELECT users.id FROM users WHERE users.id NOT BETWEEN :id_1 AND :id_2", sqlite = "SELECT users.id FROM users WHERE users.id NOT BETWEEN 1 AND 5", postgresql = "SELECT users.id FROM users WHERE users.id NOT BETWEEN 1 AND 5", mysql = "SELECT users.id FROM users WHERE users.id NOT BETWEEN 1 AND 5"}},
  {"not_like_esc", function() return select(u.id):where(u.name:not_like("a!%", {escape = "!"})) end,
   {str = "SELECT users.id FROM users WHERE users.name NOT LIKE :name_1 ESCAPE '!'", sqlite = "SELECT users.id FROM users WHERE users.name NOT LIKE 'a!%' ESCAPE '!'", postgresql = "SELECT users.id FROM users WHERE users.name NOT LIKE 'a!%%' ESCAPE '!'", mysql = "SELECT users.id FROM users WHERE users.name NOT LIKE 'a!%%' ESCAPE '!'"}},
  {"endswith", function() return select(u.id):where(u.name:endswith("z")) end,
   {str = "SELECT users.id FROM users WHERE (users.name LIKE '%' || :name_1)", sqlite = "SELECT users.id FROM users WHERE (users.name LIKE '%' || 'z')", postgresql = "SELECT users.id FROM users WHERE (users.name LIKE '%%' || 'z')", mysql = "SELECT users.id FROM users WHERE (users.name LIKE concat('%%', 'z'))"}},
  {"is_not", function() return select(u.id):where(u.name:is_not(nil) & u.active:is_not(true)) end,
   {str = "SELECT users.id FROM users WHERE users.name IS NOT NULL AND users.active IS NOT true", sqlite = "SELECT users.id FROM users WHERE users.name IS NOT NULL AND users.active IS NOT 1", postgresql = "SELECT users.id FROM users WHERE users.name IS NOT NULL AND users.active IS NOT true", mysql = "SELECT users.id FROM users WHERE users.name IS NOT NULL AND users.active IS NOT true"}},
  {"in_select", function() return select(u.id):where(u.id:in_(select(a.user_id))) end,
   {str = "SELECT users.id FROM users WHERE users.id IN (SELECT addresses.user_id FROM addresses)", sqlite = "SELECT users.id FROM users WHERE users.id IN (SELECT addresses.user_id FROM addresses)", postgresql = "SELECT users.id FROM users WHERE users.id IN (SELECT addresses.user_id FROM addresses)", mysql = "SELECT users.id FROM users WHERE users.id IN (SELECT addresses.user_id FROM addresses)"}},
  {"order_label", function() return select(u.name:label("nm")):order_by("nm") end,
   {str = "SELECT users.name AS nm FROM users ORDER BY nm", sqlite = "SELECT users.name AS nm FROM users ORDER BY nm", postgresql = "SELECT users.name AS nm FROM users ORDER BY nm", mysql = "SELECT users.name AS nm FROM users ORDER BY nm"}},
  {"group_fn", function() return select(func.lower(u.name):label("l"), func.count()):group_by(func.lower(u.name)) end,
   {str = "SELECT lower(users.name) AS l, count(*) AS count_1 FROM users GROUP BY lower(users.name)", sqlite = "SELECT lower(users.name) AS l, count(*) AS count_1 FROM users GROUP BY lower(users.name)", postgresql = "SELECT lower(users.name) AS l, count(*) AS count_1 FROM users GROUP BY lower(users.name)", mysql = "SELECT lower(users.name) AS l, count(*) AS count_1 FROM users GROUP BY lower(users.name)"}},
  {"dist_on", function() return select(u.name):where(u.name:in_{"a", "b"}) end,
   {sqlite = "SELECT users.name FROM users WHERE users.name IN ('a', 'b')", postgresql = "SELECT users.name FROM users WHERE users.name IN ('a', 'b')", mysql = "SELECT users.name FROM users WHERE users.name IN ('a', 'b')"}},
  {"offset_limit", function() return select(u.id):limit(5):offset(2) end,
   {str = "SELECT users.id FROM users LIMIT :param_1 OFFSET :param_2", sqlite = "SELECT users.id FROM users LIMIT 5 OFFSET 2", postgresql = "SELECT users.id FROM users LIMIT 5 OFFSET 2", mysql = "SELECT users.id FROM users LIMIT 2, 5"}},
  {"str_cat_num", function() return select(u.name .. "x", u.id + 5, u.score - 1.5) end,
   {str = "SELECT users.name || :name_1 AS anon_1, users.id + :id_1 AS anon_2, users.score - :score_1 AS anon_3 FROM users", sqlite = "SELECT users.name || 'x' AS anon_1, users.id + 5 AS anon_2, users.score - 1.5 AS anon_3 FROM users", postgresql = "SELECT users.name || 'x' AS anon_1, users.id + 5 AS anon_2, users.score - 1.5 AS anon_3 FROM users", mysql = "SELECT concat(users.name, 'x') AS anon_1, users.id + 5 AS anon_2, users.score - 1.5 AS anon_3 FROM users"}},
  {"bool_and_or", function() return select(u.id):where(or_(u.id:eq(1), and_(u.name:eq("a"), u.active:eq(false)))) end,
   {str = "SELECT users.id FROM users WHERE users.id = :id_1 OR users.name = :name_1 AND users.active = false", sqlite = "SELECT users.id FROM users WHERE users.id = 1 OR users.name = 'a' AND users.active = 0", postgresql = "SELECT users.id FROM users WHERE users.id = 1 OR users.name = 'a' AND users.active = false", mysql = "SELECT users.id FROM users WHERE users.id = 1 OR users.name = 'a' AND users.active = false"}},
  {"unary_not", function() return select(u.id):where(not_(u.active)) end,
   {str = "SELECT users.id FROM users WHERE NOT users.active", sqlite = "SELECT users.id FROM users WHERE users.active = 0", postgresql = "SELECT users.id FROM users WHERE NOT users.active", mysql = "SELECT users.id FROM users WHERE users.active = 0"}},
  {"date_func", function() return select(func.date(u.created), func.strftime("%Y", u.created)) end,
   {str = "SELECT date(users.created) AS date_1, strftime(:strftime_2, users.created) AS strftime_1 FROM users", sqlite = "SELECT date(users.created) AS date_1, strftime('%Y', users.created) AS strftime_1 FROM users", postgresql = "SELECT date(users.created) AS date_1, strftime('%%Y', users.created) AS strftime_1 FROM users", mysql = "SELECT date(users.created) AS date_1, strftime('%%Y', users.created) AS strftime_1 FROM users"}},
  {"json_path", function() return select(u.data["a"]["b"]) end,
   {str = "SELECT users.data[:data_1][:param_1] AS anon_1 FROM users", sqlite = "SELECT JSON_QUOTE(JSON_EXTRACT(JSON_QUOTE(JSON_EXTRACT(users.data, '$.\"a\"')), '$.\"b\"')) AS anon_1 FROM users", postgresql = "SELECT (users.data -> 'a') -> 'b' AS anon_1 FROM users", mysql = "SELECT JSON_EXTRACT(JSON_EXTRACT(users.data, '$.\"a\"'), '$.\"b\"') AS anon_1 FROM users"}},
  {"cast_json", function() return select(cast(u.data["a"], String)) end,
   {str = "SELECT CAST(users.data[:data_1] AS VARCHAR) AS anon_1 FROM users", sqlite = "SELECT CAST(JSON_QUOTE(JSON_EXTRACT(users.data, '$.\"a\"')) AS VARCHAR) AS anon_1 FROM users", postgresql = "SELECT CAST(users.data -> 'a' AS VARCHAR) AS anon_1 FROM users", mysql = "SELECT CAST(JSON_EXTRACT(users.data, '$.\"a\"') AS CHAR) AS anon_1 FROM users"}},
  {"values_tbl", function() return select(sa.values(column("x", Integer), column("y", String), {name = "v"}):data{{1, "a"}, {2, "b"}}) end,
   {str = "SELECT v.x, v.y FROM (VALUES (:param_1, :param_2), (:param_3, :param_4)) AS v (x, y)", sqlite = "SELECT v.x, v.y FROM (VALUES (1, 'a'), (2, 'b')) AS v (x, y)", postgresql = "SELECT v.x, v.y FROM (VALUES (1, 'a'), (2, 'b')) AS v (x, y)", mysql = "SELECT v.x, v.y FROM (VALUES (1, 'a'), (2, 'b')) AS v (x, y)"}},
  {"alias_sub", function() local s = select(users):where(u.id:gt(2)):alias("s") return select(s.c.id):where(s.c.name:eq("q")) end,
   {str = "SELECT s.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users WHERE users.id > :id_1) AS s WHERE s.name = :name_1", sqlite = "SELECT s.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users WHERE users.id > 2) AS s WHERE s.name = 'q'", postgresql = "SELECT s.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users WHERE users.id > 2) AS s WHERE s.name = 'q'", mysql = "SELECT s.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users WHERE users.id > 2) AS s WHERE s.name = 'q'"}},
  {"anon_sub", function() local s = select(users):subquery() return select(s.c.id) end,
   {str = "SELECT anon_1.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users) AS anon_1", sqlite = "SELECT anon_1.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users) AS anon_1", postgresql = "SELECT anon_1.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users) AS anon_1", mysql = "SELECT anon_1.id FROM (SELECT users.id AS id, users.name AS name, users.fullname AS fullname, users.created AS created, users.score AS score, users.active AS active, users.data AS data FROM users) AS anon_1"}},
  {"scalar_label", function() return select(select(func.count()):select_from(addresses):scalar_subquery():label("total")) end,
   {str = "SELECT (SELECT count(*) AS count_1 FROM addresses) AS total", sqlite = "SELECT (SELECT count(*) AS count_1 FROM addresses) AS total", postgresql = "SELECT (SELECT count(*) AS count_1 FROM addresses) AS total", mysql = "SELECT (SELECT count(*) AS count_1 FROM addresses) AS total"}},
  {"count_from", function() return select(func.count()):select_from(users) end,
   {str = "SELECT count(*) AS count_1 FROM users", sqlite = "SELECT count(*) AS count_1 FROM users", postgresql = "SELECT count(*) AS count_1 FROM users", mysql = "SELECT count(*) AS count_1 FROM users"}},
  {"between_sym", function() return select(u.id):where(u.id:between(1, 2, {symmetric = true})) end,
   {str = "SELECT users.id FROM users WHERE users.id BETWEEN SYMMETRIC :id_1 AND :id_2", sqlite = "SELECT users.id FROM users WHERE users.id BETWEEN SYMMETRIC 1 AND 2", postgresql = "SELECT users.id FROM users WHERE users.id BETWEEN SYMMETRIC 1 AND 2", mysql = "SELECT users.id FROM users WHERE users.id BETWEEN SYMMETRIC 1 AND 2"}},
}

T.test("each construct as SQLAlchemy renders it", function()
  for _, c in ipairs(cases) do
    local stmt = c[2]()
    for dialect, want in pairs(c[3]) do
      local got
      if dialect == "str" then
        got = tostring(stmt)
      else
        got = stmt:compile(dialect, {literal_binds = true}).sql
      end
      T.eq(norm(got), norm(want), c[1] .. " " .. dialect)
    end
  end
end)

-- What SQLAlchemy keeps bound under literal_binds: SQLite's LIMIT -1 and
-- an upsert's SET values (both rendered without the compile's options)
T.test("parameters literal_binds leaves bound", function()
  local c = select(u.id):offset(10):compile("sqlite", {literal_binds = true})
  T.eq(norm(c.sql), "SELECT users.id FROM users LIMIT ? OFFSET 10")
  T.eq(c.params, {-1})
  c = select(u.id):limit(3):compile("sqlite", {literal_binds = true})
  T.eq(norm(c.sql), "SELECT users.id FROM users LIMIT 3 OFFSET 0")
  T.eq(c.params, {})
  local up = insert(users):values{id = 1, name = "a"}
    :on_conflict_do_update{index_elements = {"id"}, set_ = {name = "b"}}
  c = up:compile("postgresql", {literal_binds = true})
  T.eq(norm(c.sql), "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT " ..
       "(id) DO UPDATE SET name = $1")
  T.eq(c.params, {"b"})
  c = up:compile("sqlite", {literal_binds = true})
  T.eq(norm(c.sql), "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT " ..
       "(id) DO UPDATE SET name = ?")
  T.eq(c.params, {"b"})
  c = insert(users):values{id = 1, name = "a"}:on_duplicate_key_update{name = "b"}
    :compile("mysql", {literal_binds = true})
  T.eq(norm(c.sql), "INSERT INTO users (id, name) VALUES (1, 'a') ON DUPLICATE " ..
       "KEY UPDATE name = ?")
  T.eq(c.params, {"b"})
  -- SQLite's and MySQL's IS [NOT] DISTINCT FROM forms keep their value
  -- bound, PostgreSQL's inlines it
  local d = select(u.id):where(u.name:is_distinct_from("x"))
  c = d:compile("sqlite", {literal_binds = true})
  T.eq(norm(c.sql), "SELECT users.id FROM users WHERE users.name IS NOT ?")
  T.eq(c.params, {"x"})
  c = d:compile("mysql", {literal_binds = true})
  T.eq(norm(c.sql), "SELECT users.id FROM users WHERE NOT (users.name <=> ?)")
  T.eq(c.params, {"x"})
  c = d:compile("postgresql", {literal_binds = true})
  T.eq(norm(c.sql), "SELECT users.id FROM users WHERE users.name IS DISTINCT FROM 'x'")
  T.eq(c.params, {})
  -- an INSERT's columns without values stay placeholders
  c = insert(addresses):compile("sqlite", {literal_binds = true})
  T.eq(norm(c.sql), "INSERT INTO addresses (id, user_id, email) VALUES (?, ?, ?)")
  T.eq(#c.params, 3)
  -- without literal_binds nothing changes
  c = up:compile("postgresql")
  T.eq(norm(c.sql), "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT " ..
       "(id) DO UPDATE SET name = $3")
  T.eq(c.params, {1, "a", "b"})
end)

T.done()
