-- UNIONs of ORM selects of inheritance hierarchies loaded as entities
-- (select(Class):from_statement(u), aliased(Class, u:subquery()),
-- session:query(Class):union(...)), and the row keys of text() and other
-- unnamed columns, on every test database.  The expected statements,
-- rows and keys are SQLAlchemy 1.4's for the same mappings and steps.
local T = require "testing"

local capture, clear, norm = T.capture, T.clear, T.norm

local function schema()
  local Base = orm.declarative_base()
  local Emp = Base:class "Emp" {
    __tablename__ = "uinh_emp",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(20)),
    type = Column(String(20)),
    __mapper_args__ = {polymorphic_on = "type",
                       polymorphic_identity = "emp"},
  }
  local Eng = Emp:class "Eng" {
    __tablename__ = "uinh_eng",
    id = Column(Integer, ForeignKey("uinh_emp.id"), {primary_key = true}),
    lang = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "eng"},
  }
  local Mgr = Emp:class "Mgr" {
    golf = Column(String(20)),
    __mapper_args__ = {polymorphic_identity = "mgr"},
  }
  return Base, Emp, Eng, Mgr
end

-- objects as {id, name, class, own column}, ordered by id
local function plain(objs)
  local out = {}
  for i, x in ipairs(objs) do
    local cls = x.__class__.__name__
    local own = cls == "Eng" and x.lang or cls == "Mgr" and x.golf or false
    out[i] = {x.id, x.name, cls, own}
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

local JOIN = "FROM uinh_emp JOIN uinh_eng ON uinh_emp.id = uinh_eng.id"
local ENG_COLS = "uinh_eng.id, uinh_emp.id AS id_1, uinh_emp.name, " ..
                 "uinh_emp.type, uinh_eng.lang"
local ENG_SUB_COLS = "uinh_eng.id AS id, uinh_emp.id AS id_1, " ..
                     "uinh_emp.name AS name, uinh_emp.type AS type, " ..
                     "uinh_eng.lang AS lang"
local ENG_LABELS = "uinh_eng.id AS uinh_eng_id, uinh_emp.id AS " ..
                   "uinh_emp_id, uinh_emp.name AS uinh_emp_name, " ..
                   "uinh_emp.type AS uinh_emp_type, uinh_eng.lang AS " ..
                   "uinh_eng_lang"
local MGR_COLS = "uinh_emp.id, uinh_emp.name, uinh_emp.type, uinh_emp.golf"
local WP_COLS = "uinh_emp.id, uinh_emp.name, uinh_emp.type, uinh_eng.id " ..
                "AS id_1, uinh_eng.lang, uinh_emp.golf"
local WP_FROM = "FROM uinh_emp LEFT OUTER JOIN uinh_eng ON uinh_emp.id = " ..
                "uinh_eng.id"

-- (Core) a compound's subquery names a repeated column name as a
-- select's subquery does: id, id_1
T.test("a UNION's subquery: repeated names numbered", function()
  local md = MetaData()
  local a = Table("a", md, Column("id", Integer, {primary_key = true}),
                  Column("x", Integer))
  local b = Table("b", md, Column("id", Integer, {primary_key = true}))
  local sel = select(a.c.id, b.c.id, a.c.x)
    :select_from(a:join(b, a.c.id:eq(b.c.id)))
  local u = union_all(sel, sel):subquery()
  local names = {}
  for i, c in ipairs(u.c) do names[i] = c.name end
  T.eq(names, {"id", "id_1", "x"})
  local inner = "SELECT a.id AS id, b.id AS id_1, a.x AS x \nFROM a JOIN b " ..
                "ON a.id = b.id"
  T.eq(tostring(select(u.c[1], u.c[2])), "SELECT anon_1.id, anon_1.id_1 " ..
       "\nFROM (" .. inner .. " UNION ALL " .. inner .. ") AS anon_1")
end)

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local Base, Emp, Eng, Mgr = schema()
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  do
    local s <close> = orm.Session(engine)
    s:add_all{Emp{id = 1, name = "a"}, Eng{id = 2, name = "b", lang = "c"},
              Mgr{id = 3, name = "m", golf = "x"},
              Eng{id = 4, name = "d", lang = "py"},
              Mgr{id = 5, name = "n", golf = "y"}}
    s:commit()
  end
  local log = capture(engine)

  -- fn(session)'s objects, and the statements it ran
  local function run(fn)
    local s <close> = orm.Session(engine)
    clear(log)
    local objs = plain(fn(s))
    local sqls = {}
    for i, sql in ipairs(log) do sqls[i] = norm(sql) end
    return objs, sqls
  end

  local ENG_ROWS = {{2, "b", "Eng", "c"}, {4, "d", "Eng", "py"}}
  local function eng_union()
    return union(select(Eng):where(Eng.lang:eq("c")),
                 select(Eng):where(Eng.lang:eq("py")))
  end
  local ENG_UNION = "SELECT " .. ENG_COLS .. " \n" .. JOIN ..
                    " \nWHERE uinh_eng.lang = ? UNION SELECT " .. ENG_COLS ..
                    " \n" .. JOIN .. " \nWHERE uinh_eng.lang = ?"

  T.test(pfx .. "from_statement(): a UNION of joined subclass selects",
    function()
      local objs, sqls = run(function(s)
        return s:execute(select(Eng):from_statement(eng_union()))
                 :scalars():all()
      end)
      T.eq(sqls, {ENG_UNION})
      T.eq(objs, ENG_ROWS)
    end)

  T.test(pfx .. "from_statement(): the base class, each row its class",
    function()
      local u = union_all(select(Emp):where(Emp.id:eq(1)),
                          select(Emp):where(Emp.id:gt(2)))
      local objs, sqls = run(function(s)
        local got = s:execute(select(Emp):from_statement(u)):scalars():all()
        -- (a subclass's own columns load when read)
        for _, o in ipairs(got) do
          if o.__class__ == Mgr then T.eq(o.golf ~= nil, true) end
        end
        return got
      end)
      T.eq(sqls[1], "SELECT uinh_emp.id, uinh_emp.name, uinh_emp.type \n" ..
           "FROM uinh_emp \nWHERE uinh_emp.id = ? UNION ALL SELECT " ..
           "uinh_emp.id, uinh_emp.name, uinh_emp.type \nFROM uinh_emp " ..
           "\nWHERE uinh_emp.id > ?")
      T.eq(objs, {{1, "a", "Emp", false}, {3, "m", "Mgr", "x"},
                  {4, "d", "Eng", "py"}, {5, "n", "Mgr", "y"}})
    end)

  T.test(pfx .. "from_statement(): single-table subclass selects", function()
    local u = union(select(Mgr):where(Mgr.golf:eq("x")),
                    select(Mgr):where(Mgr.id:eq(5)))
    local objs, sqls = run(function(s)
      return s:execute(select(Mgr):from_statement(u)):scalars():all()
    end)
    T.eq(sqls, {"SELECT " .. MGR_COLS .. " \nFROM uinh_emp \nWHERE " ..
                "uinh_emp.golf = ? AND uinh_emp.type IN (?) UNION SELECT " ..
                MGR_COLS .. " \nFROM uinh_emp \nWHERE uinh_emp.id = ? AND " ..
                "uinh_emp.type IN (?)"})
    T.eq(objs, {{3, "m", "Mgr", "x"}, {5, "n", "Mgr", "y"}})
  end)

  T.test(pfx .. "from_statement(): with_polymorphic selects", function()
    local wp = orm.with_polymorphic(Emp, {Eng, Mgr})
    local u = union_all(select(wp):where(wp.id:lt(3)),
                        select(wp):where(wp.id:eq(4)))
    local UNION = "SELECT " .. WP_COLS .. " \n" .. WP_FROM .. " \nWHERE " ..
                  "uinh_emp.id < ? UNION ALL SELECT " .. WP_COLS .. " \n" ..
                  WP_FROM .. " \nWHERE uinh_emp.id = ?"
    local objs, sqls = run(function(s)
      return s:execute(select(wp):from_statement(u)):scalars():all()
    end)
    -- (the subclasses' columns came with the rows: no other SELECT)
    T.eq(sqls, {UNION})
    T.eq(objs, {{1, "a", "Emp", false}, {2, "b", "Eng", "c"},
                {4, "d", "Eng", "py"}})
  end)

  T.test(pfx .. "from_statement(): text(), columns by name", function()
    local objs, sqls = run(function(s)
      return s:execute(select(Emp):from_statement(text(
        "SELECT id, name, type FROM uinh_emp WHERE id IN (1, 3) " ..
        "ORDER BY id"))):scalars():all()
    end)
    T.eq(sqls[1], "SELECT id, name, type FROM uinh_emp WHERE id IN (1, 3) " ..
         "ORDER BY id")
    T.eq(objs, {{1, "a", "Emp", false}, {3, "m", "Mgr", "x"}})
    local s <close> = orm.Session(engine)
    T.eq(tostring(select(Eng):from_statement(eng_union())),
         (ENG_UNION:gsub("uinh_eng.lang = %?", "uinh_eng.lang = :lang_1", 1)
                   :gsub("uinh_eng.lang = %?", "uinh_eng.lang = :lang_2", 1)))
    T.raises("ArgumentError", function()
      return select(Eng):from_statement("SELECT 1")
    end)
  end)

  T.test(pfx .. "aliased(Class, union:subquery()): joined subclass",
    function()
      local objs, sqls = run(function(s)
        local ea = orm.aliased(Eng, eng_union():subquery())
        return s:execute(select(ea):order_by(ea.id)):scalars():all()
      end)
      T.eq(sqls, {"SELECT anon_1.id, anon_1.name, anon_1.type, anon_1.lang " ..
                  "\nFROM (SELECT " .. ENG_SUB_COLS .. " \n" .. JOIN ..
                  " \nWHERE uinh_eng.lang = ? UNION SELECT " .. ENG_SUB_COLS ..
                  " \n" .. JOIN .. " \nWHERE uinh_eng.lang = ?) AS anon_1 " ..
                  "ORDER BY anon_1.id"})
      T.eq(objs, ENG_ROWS)
    end)

  T.test(pfx .. "aliased(Class, select:subquery()): joined subclass",
    function()
      local objs, sqls = run(function(s)
        local ea = orm.aliased(Eng, select(Eng):where(Eng.lang:eq("py"))
                                      :subquery())
        return s:execute(select(ea)):scalars():all()
      end)
      T.eq(sqls, {"SELECT anon_1.id, anon_1.name, anon_1.type, anon_1.lang " ..
                  "\nFROM (SELECT " .. ENG_SUB_COLS .. " \n" .. JOIN ..
                  " \nWHERE uinh_eng.lang = ?) AS anon_1"})
      T.eq(objs, {{4, "d", "Eng", "py"}})
    end)

  T.test(pfx .. "aliased(Class, union:subquery()): single-table subclass",
    function()
      local u = union(select(Mgr):where(Mgr.golf:eq("x")),
                      select(Mgr):where(Mgr.id:eq(5)))
      local sub_cols = "uinh_emp.id AS id, uinh_emp.name AS name, " ..
                       "uinh_emp.type AS type, uinh_emp.golf AS golf"
      local objs, sqls = run(function(s)
        local ma = orm.aliased(Mgr, u:subquery())
        return s:execute(select(ma):order_by(ma.id)):scalars():all()
      end)
      T.eq(sqls, {"SELECT anon_1.id, anon_1.name, anon_1.type, " ..
                  "anon_1.golf \nFROM (SELECT " .. sub_cols .. " \nFROM " ..
                  "uinh_emp \nWHERE uinh_emp.golf = ? AND uinh_emp.type IN " ..
                  "(?) UNION SELECT " .. sub_cols .. " \nFROM uinh_emp \n" ..
                  "WHERE uinh_emp.id = ? AND uinh_emp.type IN (?)) AS " ..
                  "anon_1 \nWHERE anon_1.type IN (?) ORDER BY anon_1.id"})
      T.eq(objs, {{3, "m", "Mgr", "x"}, {5, "n", "Mgr", "y"}})
    end)

  T.test(pfx .. "aliased(Base, union of with_polymorphic:subquery())",
    function()
      local wp = orm.with_polymorphic(Emp, {Eng, Mgr})
      local u = union_all(select(wp):where(wp.id:lt(3)),
                          select(wp):where(wp.id:eq(4)))
      local sub_cols = "uinh_emp.id AS id, uinh_emp.name AS name, " ..
                       "uinh_emp.type AS type, uinh_eng.id AS id_1, " ..
                       "uinh_eng.lang AS lang, uinh_emp.golf AS golf"
      local objs, sqls = run(function(s)
        local wa = orm.aliased(Emp, u:subquery())
        return s:execute(select(wa):order_by(wa.id)):scalars():all()
      end)
      -- (the base class's columns alone: each Eng's lang loads when read)
      T.eq(sqls[1], "SELECT anon_1.id, anon_1.name, anon_1.type \nFROM " ..
           "(SELECT " .. sub_cols .. " \n" .. WP_FROM .. " \nWHERE " ..
           "uinh_emp.id < ? UNION ALL SELECT " .. sub_cols .. " \n" ..
           WP_FROM .. " \nWHERE uinh_emp.id = ?) AS anon_1 ORDER BY " ..
           "anon_1.id")
      T.eq(#sqls, 3)
      T.eq(objs, {{1, "a", "Emp", false}, {2, "b", "Eng", "c"},
                  {4, "d", "Eng", "py"}})
    end)

  T.test(pfx .. "with_polymorphic(..., {selectable = union:subquery()})",
    function()
      local wp = orm.with_polymorphic(Emp, {Eng, Mgr})
      local u = union_all(select(wp):where(wp.id:lt(3)),
                          select(wp):where(wp.id:eq(4)))
      local sub_cols = "uinh_emp.id AS id, uinh_emp.name AS name, " ..
                       "uinh_emp.type AS type, uinh_eng.id AS id_1, " ..
                       "uinh_eng.lang AS lang, uinh_emp.golf AS golf"
      local SUB = "(SELECT " .. sub_cols .. " \n" .. WP_FROM .. " \nWHERE " ..
                  "uinh_emp.id < ? UNION ALL SELECT " .. sub_cols .. " \n" ..
                  WP_FROM .. " \nWHERE uinh_emp.id = ?) AS anon_1"
      local COLS = "SELECT anon_1.id, anon_1.name, anon_1.type, " ..
                   "anon_1.id_1, anon_1.lang, anon_1.golf \nFROM "
      local objs, sqls = run(function(s)
        local wp2 = orm.with_polymorphic(Emp, {Eng, Mgr},
                                         {selectable = u:subquery()})
        return s:execute(select(wp2):order_by(wp2.id)):scalars():all()
      end)
      -- (each row its class, its subclass columns loaded with it)
      T.eq(sqls, {COLS .. SUB .. " ORDER BY anon_1.id"})
      T.eq(objs, {{1, "a", "Emp", false}, {2, "b", "Eng", "c"},
                  {4, "d", "Eng", "py"}})
      objs, sqls = run(function(s)
        local wp2 = orm.with_polymorphic(Emp, {Eng, Mgr},
                                         {selectable = u:subquery()})
        return s:execute(select(wp2):where(wp2.Eng.lang:eq("py")))
                 :scalars():all()
      end)
      T.eq(sqls, {COLS .. SUB .. " \nWHERE anon_1.lang = ?"})
      T.eq(objs, {{4, "d", "Eng", "py"}})
      T.raises("ArgumentError", function()
        return orm.with_polymorphic(Emp, {Eng}, {selectable = Emp.__table__})
      end)
    end)

  T.test(pfx .. "Query.union of a joined subclass: entities", function()
    local objs, sqls = run(function(s)
      return s:query(Eng):filter(Eng.id:eq(2))
               :union_all(s:query(Eng):filter(Eng.id:eq(4)))
               :order_by(Eng.id):all()
    end)
    T.eq(sqls, {"SELECT anon_1.uinh_eng_id AS anon_1_uinh_eng_id, " ..
                "anon_1.uinh_emp_name AS anon_1_uinh_emp_name, " ..
                "anon_1.uinh_emp_type AS anon_1_uinh_emp_type, " ..
                "anon_1.uinh_eng_lang AS anon_1_uinh_eng_lang \nFROM " ..
                "(SELECT " .. ENG_LABELS .. " \n" .. JOIN .. " \nWHERE " ..
                "uinh_eng.id = ? UNION ALL SELECT " .. ENG_LABELS .. " \n" ..
                JOIN .. " \nWHERE uinh_eng.id = ?) AS anon_1 ORDER BY " ..
                "anon_1.uinh_eng_id"})
    T.eq(objs, ENG_ROWS)
  end)

  T.test(pfx .. "Query.union: criteria and count after it", function()
    local objs, sqls = run(function(s)
      return s:query(Eng):filter(Eng.id:eq(2))
               :union(s:query(Eng):filter(Eng.id:eq(4)))
               :filter(Eng.lang:eq("py")):filter(Emp.name:eq("d")):all()
    end)
    T.eq(#sqls, 1)
    T.match(sqls[1], "%) AS anon_1 \nWHERE anon_1%.uinh_eng_lang = %? AND " ..
            "anon_1%.uinh_emp_name = %?$")
    T.eq(objs, {{4, "d", "Eng", "py"}})
    objs, sqls = run(function(s)
      return s:query(Emp):filter(Emp.id:lt(3))
               :union(s:query(Emp):filter(Emp.id:eq(5)))
               :filter(Emp.name:ne("b")):order_by(Emp.name:desc()):all()
    end)
    T.match(sqls[1], "%) AS anon_1 \nWHERE anon_1%.uinh_emp_name != %? " ..
            "ORDER BY anon_1%.uinh_emp_name DESC$")
    T.eq(objs, {{1, "a", "Emp", false}, {5, "n", "Mgr", "y"}})
    local s <close> = orm.Session(engine)
    T.eq(s:query(Eng):filter(Eng.id:eq(2))
           :union(s:query(Eng):filter(Eng.id:eq(4))):count(), 2)
  end)

  T.test(pfx .. "Query.union of the base class: each row its class",
    function()
      local labels = "uinh_emp.id AS uinh_emp_id, uinh_emp.name AS " ..
                     "uinh_emp_name, uinh_emp.type AS uinh_emp_type"
      local objs, sqls = run(function(s)
        local got = s:query(Emp):filter(Emp.id:eq(1))
                      :union(s:query(Emp):filter(Emp.id:eq(3)))
                      :order_by(Emp.id):all()
        return got
      end)
      T.eq(sqls[1], "SELECT anon_1.uinh_emp_id AS anon_1_uinh_emp_id, " ..
           "anon_1.uinh_emp_name AS anon_1_uinh_emp_name, " ..
           "anon_1.uinh_emp_type AS anon_1_uinh_emp_type \nFROM (SELECT " ..
           labels .. " \nFROM uinh_emp \nWHERE uinh_emp.id = ? UNION " ..
           "SELECT " .. labels .. " \nFROM uinh_emp \nWHERE uinh_emp.id = " ..
           "?) AS anon_1 ORDER BY anon_1.uinh_emp_id")
      T.eq(objs, {{1, "a", "Emp", false}, {3, "m", "Mgr", "x"}})
    end)

  T.test(pfx .. "Query.union of a single-table subclass", function()
    local labels = "uinh_emp.id AS uinh_emp_id, uinh_emp.name AS " ..
                   "uinh_emp_name, uinh_emp.type AS uinh_emp_type, " ..
                   "uinh_emp.golf AS uinh_emp_golf"
    local objs, sqls = run(function(s)
      return s:query(Mgr):filter(Mgr.golf:eq("x"))
               :union(s:query(Mgr):filter(Mgr.id:eq(5))):all()
    end)
    -- (no criterion outside the subquery: each select has its own)
    T.eq(sqls, {"SELECT anon_1.uinh_emp_id AS anon_1_uinh_emp_id, " ..
                "anon_1.uinh_emp_name AS anon_1_uinh_emp_name, " ..
                "anon_1.uinh_emp_type AS anon_1_uinh_emp_type, " ..
                "anon_1.uinh_emp_golf AS anon_1_uinh_emp_golf \nFROM " ..
                "(SELECT " .. labels .. " \nFROM uinh_emp \nWHERE " ..
                "uinh_emp.golf = ? AND uinh_emp.type IN (?) UNION SELECT " ..
                labels .. " \nFROM uinh_emp \nWHERE uinh_emp.id = ? AND " ..
                "uinh_emp.type IN (?)) AS anon_1"})
    T.eq(objs, {{3, "m", "Mgr", "x"}, {5, "n", "Mgr", "y"}})
  end)

  -- the names a row gives its columns: SQLAlchemy's Row._fields
  local function fields(row)
    local f = row._fields
    local out = {}
    for i = 1, #f do out[i] = f[i] end
    return out
  end

  T.test(pfx .. "text() columns: no key in a legacy Query", function()
    local s <close> = orm.Session(engine)
    local function q(...)
      local row = s:query(...):select_from(Emp):filter(Emp.id:eq(1))
                    :group_by(Emp.id):all()[1]
      return fields(row), #row
    end
    T.eq({q(text("1"))}, {{}, 1})
    T.eq({q(Emp.id, text("1"))}, {{"id"}, 2})
    T.eq({q(Emp, text("'x'"))}, {{"Emp"}, 2})
    T.eq({q(Emp, text("1"), text("2"))}, {{"Emp"}, 3})
    T.eq({q(literal_column("2"))}, {{"2"}, 1})
    T.eq({q(Emp.name, literal_column("3"):label("z"))}, {{"name", "z"}, 2})
    -- (a legacy Query keys no function or other expression either)
    T.eq({q(Emp, func.max(Emp.id))}, {{"Emp"}, 2})
    T.eq({q(Emp, Emp.id + 1)}, {{"Emp"}, 2})
    T.eq({q(Emp.id, text("1"), func.max(Emp.id), Emp.id + 1)}, {{"id"}, 4})
    local row = s:query(Emp.id, text("'x'")):select_from(Emp)
                  :filter(Emp.id:eq(1)):one()
    T.eq({row[1], row[2], row.id}, {1, "x", 1})
  end)

  T.test(pfx .. "text() columns: no key in select() either", function()
    local s <close> = orm.Session(engine)
    local function x(...)
      local row = s:execute(select(...):select_from(Emp)
                              :where(Emp.id:eq(1)):group_by(Emp.id)):all()[1]
      return fields(row), #row
    end
    T.eq({x(Emp, text("'x'"))}, {{"Emp"}, 2})
    T.eq({x(Emp, text("1"), text("2"))}, {{"Emp"}, 3})
    T.eq({x(Emp, func.max(Emp.id))}, {{"Emp", "max"}, 2})
    T.eq({x(Emp, Emp.id + 1)}, {{"Emp", "_no_label"}, 2})
    T.eq({x(Emp, literal_column("2"))}, {{"Emp", "2"}, 2})
    T.eq({x(Emp.id, text("1"), func.max(Emp.id), Emp.id + 1)},
         {{"id", "max", "_no_label"}, 4})
  end)

  Base.metadata:drop_all(engine)
end

T.done()
