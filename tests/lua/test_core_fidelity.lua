-- Core behaviours matched to SQLAlchemy 1.4 on every database: what a
-- default function's context sees, a database error's parameters as the
-- driver got them, foreign keys to missing tables, and foreign-key cycles
-- in create_all / drop_all.  Expected values come from SQLAlchemy 1.4.46.
local T = require "testing"
local sa = require "retort"
local text_ = sa.text

-- A parameter map as sorted "k=v" text (a list value as {a,b}).
local function dump(t)
  local ks = {}
  for k, v in pairs(t) do
    local s = type(v) == "table" and "{" .. table.concat(v, ",") .. "}" or
              tostring(v)
    ks[#ks + 1] = k .. "=" .. s
  end
  table.sort(ks)
  return table.concat(ks, " ")
end

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  T.test(n .. "a default function sees the statement's other parameters",
         function()
    local e = create_engine(db.url)
    local m = MetaData()
    local seen = {}
    local function f(ctx)
      seen[#seen + 1] = dump(ctx:get_current_parameters())
      return "x"
    end
    local t = Table("cf_ctx", m, Column("id", Integer, {primary_key = true}),
                    Column("a", String(20)),
                    Column("b", String(20), {default = f, onupdate = f}))
    m:drop_all(e)
    m:create_all(e)
    e:begin(function(c)
      c:execute(t:insert():values{id = 1, a = func.lower("Q")})
      c:execute(t:insert(), {id = 2})
      c:execute(t:update():where(t.c.id:eq(1)):values{a = "z"})
      c:execute(t:update():where(t.c.id:eq(1)))
      c:execute(t:update():where(t.c.id:eq(bindparam("pid"))),
                {{pid = 1, a = "w"}, {pid = 2, a = "v"}})
      c:execute(t:update():where(t.c.a:like("%z") & (t.c.id + 3):gt(2))
                  :values{a = "z"})
      c:execute(t:update():values{a = t.c.a .. "x"}
                  :where(t.c.id:in_({1, 2})))
      c:execute(t:update():values{a = t.c.a .. "x"}
                  :where(t.c.id:in_(select(t.c.id):where(t.c.a:eq("z")))))
      c:execute(t:update():values{a = "k"}:where(t.c.id:in_({3, 4})),
                {a = "m"})
      c:execute(t:update():values{a = "k"}:where(
                  t.c.id:in_(bindparam("ids", nil, {expanding = true}))),
                {ids = {1, 2}})
    end)
    m:drop_all(e)
    -- SQLAlchemy's also hold the defaulted columns as None (b), which a
    -- Lua table cannot
    T.eq(seen, {
      "id=1 lower_1=Q", "id=2", "a=z id_1=1", "id_1=1", "a=w pid=1",
      "a=v pid=2", "a=z a_1=%z id_1=3 param_1=2", "a_1=x id_1={1,2}",
      "a_1=x a_2=z", "a=m id_1={3,4}", "a=k ids={1,2}"})
  end)
  T.test(n .. "a database error shows the parameters as the driver got them",
         function()
    local e = create_engine(db.url)
    local m = MetaData()
    local t = Table("cf_err", m, Column("id", Integer, {primary_key = true}),
                    Column("a", String(20)), Column("b", Boolean))
    m:drop_all(e)
    m:create_all(e)
    e:begin(function(c)
      c:execute(t:insert(), {{id = 1, a = "x"}, {id = 2, a = "y"}})
    end)
    local pg = db.name == "postgresql"
    -- (the SQL as the driver's placeholders have it)
    local function sql(s)
      local i = 0
      return pg and (s:gsub("%?", function() i = i + 1 return "$" .. i end))
             or s
    end
    -- the error, its parameters and what its text says after the
    -- database's message
    local function fails(stmt, params)
      local c <close> = e:connect()
      local err = T.raises("IntegrityError", c.execute, c, stmt, params)
      c:rollback()
      return err, tostring(err):match("\n(%[SQL: .*)$")
    end
    local ins = "INSERT INTO cf_err (id, a) VALUES (?, ?)"
    local err, text = fails(t:insert(), {id = 1, a = "q"})
    if pg then
      T.eq(err.params, {id = 1, a = "q"})
      T.eq(text, "[SQL: " .. sql(ins) .. "]\n[parameters: {'id': 1, 'a': 'q'}]")
    else
      T.eq(err.params, {1, "q"})
      T.eq(text, "[SQL: " .. ins .. "]\n[parameters: (1, 'q')]")
    end
    -- values() of the statement: what the driver got all the same
    err, text = fails(t:insert():values{id = 1, a = "q"})
    T.eq(err.params, pg and {id = 1, a = "q"} or {1, "q"})
    T.eq(text, "[SQL: " .. sql(ins) .. "]\n[parameters: " ..
         (pg and "{'id': 1, 'a': 'q'}" or "(1, 'q')") .. "]")
    err, text = fails(t:insert():values{id = 2})
    T.eq(err.params, pg and {id = 2} or {2})
    T.eq(text, "[SQL: " .. sql("INSERT INTO cf_err (id) VALUES (?)") ..
         "]\n[parameters: " .. (pg and "{'id': 2}" or "(2,)") .. "]")
    -- a multi-row VALUES: one execution of every row's parameters
    err, text = fails(t:insert():values{{id = 5, a = "p"}, {id = 1, a = "q"}})
    T.eq(err.params, pg and {id_m0 = 5, a_m0 = "p", id_m1 = 1, a_m1 = "q"}
                     or {5, "p", 1, "q"})
    T.eq(text, "[SQL: " ..
         sql("INSERT INTO cf_err (id, a) VALUES (?, ?), (?, ?)") ..
         "]\n[parameters: " ..
         (pg and "{'id_m0': 5, 'a_m0': 'p', 'id_m1': 1, 'a_m1': 'q'}"
             or "(5, 'p', 1, 'q')") .. "]")
    -- an executemany: a tuple of the sets, past ten the first eight and
    -- the last two; a boolean is 1 / 0 where the dialect has no boolean
    local rows = {}
    for i = 3, 13 do rows[#rows + 1] = {id = i, a = "p", b = true} end
    rows[#rows + 1] = {id = 1, a = sa.null, b = false}
    err, text = fails(t:insert(), rows)
    T.eq(#err.params, 12)
    local parts = {}
    for i = 3, 10 do
      parts[#parts + 1] = pg and ("{'id': %d, 'a': 'p', 'b': True}"):format(i)
                          or ("(%d, 'p', 1)"):format(i)
    end
    T.eq(text, "[SQL: " .. sql("INSERT INTO cf_err (id, a, b) VALUES (?, ?, ?)") ..
         "]\n[parameters: (" .. table.concat(parts, ", ") ..
         "  ... displaying 10 of 12 total bound parameter sets ...  " ..
         (pg and "{'id': 13, 'a': 'p', 'b': True}, " ..
                 "{'id': 1, 'a': None, 'b': False}"
             or "(13, 'p', 1), (1, None, 0)") .. ")]")
    if pg then
      T.eq(err.params[12].b, false)
      T.ok(err.params[12].a == sa.null, "NULL is sa.null")
    else
      T.eq(err.params[12][3], 0)
    end
    -- two sets
    err, text = fails(t:insert(), {{id = 7, a = "p"}, {id = 1, a = "q"}})
    T.eq(err.params, pg and {{id = 7, a = "p"}, {id = 1, a = "q"}}
                     or {{7, "p"}, {1, "q"}})
    T.eq(text, "[SQL: " .. sql(ins) .. "]\n[parameters: " ..
         (pg and "({'id': 7, 'a': 'p'}, {'id': 1, 'a': 'q'})"
             or "((7, 'p'), (1, 'q'))") .. "]")
    -- an UPDATE: an IN list's items come last in a dict
    err, text = fails(t:update():values{id = 1}
                        :where(t.c.id:in_({14, 15}) | t.c.a:eq("y")))
    T.eq(err.params, pg and {id = 1, a_1 = "y", id_1_1 = 14, id_1_2 = 15}
                     or {1, 14, 15, "y"})
    T.eq(text, "[SQL: " ..
         sql("UPDATE cf_err SET id=? WHERE cf_err.id IN (?, ?) OR " ..
             "cf_err.a = ?") .. "]\n[parameters: " ..
         (pg and "{'id': 1, 'a_1': 'y', 'id_1_1': 14, 'id_1_2': 15}"
             or "(1, 14, 15, 'y')") .. "]")
    -- text(): by the names of its binds, in their order
    err, text = fails(text_("insert into cf_err (id, a) values (:i, :a)"),
                      {i = 1, a = "z"})
    T.eq(err.params, pg and {i = 1, a = "z"} or {1, "z"})
    T.eq(text, "[SQL: " .. sql("insert into cf_err (id, a) values (?, ?)") ..
         "]\n[parameters: " .. (pg and "{'i': 1, 'a': 'z'}" or "(1, 'z')") ..
         "]")
    -- a statement run again (its plan): the same
    local sel = text_("insert into cf_err (id) select :i")
    for _ = 1, 3 do
      err, text = fails(sel, {i = 2})
      T.eq(text, "[SQL: " .. sql("insert into cf_err (id) select ?") ..
           "]\n[parameters: " .. (pg and "{'i': 2}" or "(2,)") .. "]")
    end
    m:drop_all(e)
  end)
end

T.done()
