-- A statement of one entity with one joined collection is loaded in one
-- pass over its rows (objects, runs of a parent's rows and collections
-- together): parents on rows apart, an object under several parents, a
-- set collection, a composite key (each row's parent looked up), a
-- parent with no related rows, and collections already loaded (kept as
-- they are, pending changes and all).  One SELECT each.  Parents of text
-- keys, and unique() over parents on rows apart and together.
-- Expectations from SQLAlchemy 1.4 on the same data.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local enrollment = Table("op_enrollment", Base.metadata,
    Column("student_id", Integer, ForeignKey("op_student.id"),
           {primary_key = true}),
    Column("course_id", Integer, ForeignKey("op_course.id"),
           {primary_key = true}))
  M.Student = Base:class "Student" {
    __tablename__ = "op_student",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    courses = relationship("Course", {secondary = enrollment}),
  }
  M.Course = Base:class "Course" {
    __tablename__ = "op_course",
    id = Column(Integer, {primary_key = true}),
    title = Column(String(20)),
  }
  local box = Table("op_box", Base.metadata,
    Column("a", Integer, {primary_key = true, autoincrement = false}),
    Column("b", String(10), {primary_key = true}),
    Column("label", String(20)))
  local item = Table("op_item", Base.metadata,
    Column("id", Integer, {primary_key = true}),
    Column("box_a", Integer),
    Column("box_b", String(10)),
    Column("name", String(20)),
    ForeignKeyConstraint({"box_a", "box_b"}, {"op_box.a", "op_box.b"}))
  M.Box = Base:class "Box" {
    __table__ = box,
    items = relationship("Item", {collection_class = "set"}),
  }
  M.Item = Base:class "Item" {__table__ = item}
  M.enrollment = enrollment
  return M
end

-- {name, {titles}} of each student, in order
local function shown(students, sorted)
  local out = {}
  for i, x in ipairs(students) do
    local cs = {}
    for _, c in ipairs(x.courses) do cs[#cs + 1] = c.title end
    if sorted then table.sort(cs) end
    out[i] = {x.name, cs}
  end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local Student, Course, Box, Item = M.Student, M.Course, M.Box, M.Item
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  engine:begin(function(conn)
    conn:execute(insert(Student.__table__), {{id = 1, name = "s1"},
      {id = 2, name = "s2"}, {id = 3, name = "s3"}, {id = 4, name = "s4"}})
    conn:execute(insert(Course.__table__), {{id = 1, title = "c1"},
      {id = 2, title = "c2"}, {id = 3, title = "c3"}})
    conn:execute(insert(M.enrollment), {{student_id = 1, course_id = 1},
      {student_id = 1, course_id = 2}, {student_id = 2, course_id = 1},
      {student_id = 2, course_id = 3}, {student_id = 3, course_id = 2}})
    conn:execute(insert(Box.__table__), {{a = 1, b = "x", label = "one"},
      {a = 1, b = "y", label = "two"}, {a = 2, b = "x", label = "three"}})
    conn:execute(insert(Item.__table__), {
      {id = 1, box_a = 1, box_b = "x", name = "i1"},
      {id = 2, box_a = 1, box_b = "x", name = "i2"},
      {id = 3, box_a = 2, box_b = "x", name = "i3"}})
  end)
  local selects = 0
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql)
      if sql:match("^SELECT") then selects = selects + 1 end
    end)
  local pfx = db.name .. ": "

  T.test(pfx .. "one collection: parents on rows apart, an object under " ..
         "several parents", function()
    local s <close> = orm.Session(engine)
    selects = 0
    local got = s:execute(select(Student):join(Student.courses)
      :options(orm.contains_eager(Student.courses))
      :order_by(Course.title, Student.id)):unique():scalars():all()
    T.eq(selects, 1)
    T.eq(shown(got), {{"s1", {"c1", "c2"}}, {"s2", {"c1", "c3"}},
                      {"s3", {"c2"}}})
    T.ok(s:get(Student, 1).courses[1] == s:get(Student, 2).courses[1],
         "one Course object in both collections")
    T.eq(selects, 1)
  end)

  T.test(pfx .. "parents on rows apart, made by the load or in the " ..
         "identity map already", function()
    -- s1 is made by the load, s2 was loaded before with its collection
    -- not loaded, s3 with its collection loaded: each row of a parent
    -- comes apart from the others of it
    local s <close> = orm.Session(engine)
    local s2, s3 = s:get(Student, 2), s:get(Student, 3)
    T.eq(#s3.courses, 1)
    selects = 0
    local got = s:execute(select(Student):join(Student.courses)
      :options(orm.contains_eager(Student.courses))
      :order_by(Course.title, Student.id)):unique():scalars():all()
    T.eq(selects, 1)
    T.eq(shown(got), {{"s1", {"c1", "c2"}}, {"s2", {"c1", "c3"}},
                      {"s3", {"c2"}}})
    T.ok(got[2] == s2 and got[3] == s3, "the identity map's objects")
    T.eq(selects, 1)
  end)

  T.test(pfx .. "a set collection of a composite key's parents, one " ..
         "with none", function()
    local s <close> = orm.Session(engine)
    selects = 0
    local got = s:execute(select(Box):options(orm.joinedload(Box.items))
      :order_by(Box.a, Box.b)):unique():scalars():all()
    local out = {}
    for i, x in ipairs(got) do
      local names = {}
      for it in pairs(x.items) do names[#names + 1] = it.name end
      table.sort(names)
      out[i] = {x.label, names, #x.items}
    end
    T.eq(out, {{"one", {"i1", "i2"}, 2}, {"two", {}, 0},
               {"three", {"i3"}, 1}})
    T.eq(selects, 1)
  end)

  T.test(pfx .. "collections already loaded are kept, pending changes " ..
         "and all", function()
    local s <close> = orm.Session(engine, {autoflush = false})
    local stmt = select(Student):options(orm.joinedload(Student.courses))
      :order_by(Student.id)
    local got = s:execute(stmt):unique():scalars():all()
    T.eq(shown(got, true), {{"s1", {"c1", "c2"}}, {"s2", {"c1", "c3"}},
                            {"s3", {"c2"}}, {"s4", {}}})
    local s1 = got[1]
    s1.courses:append(s:get(Course, 3))
    s1.courses:remove(s1.courses[1])
    local before = {}
    for i, c in ipairs(s1.courses) do before[i] = c.title end
    selects = 0
    got = s:execute(stmt):unique():scalars():all()
    T.eq(selects, 1)
    local after = shown(got, true)
    T.eq(after[1][1], "s1")
    local now = {}
    for i, c in ipairs(s1.courses) do now[i] = c.title end
    T.eq(now, before)
    table.sort(now)
    T.eq(now, {"c2", "c3"})
    T.eq({after[2], after[3], after[4]}, {{"s2", {"c1", "c3"}},
                                          {"s3", {"c2"}}, {"s4", {}}})
    T.ok(got[1] == s1, "the identity map's object")
  end)

  M.Base.metadata:drop_all(engine)
end

-- Parents of text keys (each row's key a string), and parents whose rows
-- come apart (unique() then drops the repeats, in the order the parents
-- first came); a parent's rows together leave each parent once with no
-- dropping, and nothing more to read after them.
local function keyed_schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Author = Base:class "Author" {
    __tablename__ = "ok_author",
    code = Column(String(10), {primary_key = true}),
    name = Column(String(20)),
    books = relationship("Book"),
  }
  M.Book = Base:class "Book" {
    __tablename__ = "ok_book",
    id = Column(Integer, {primary_key = true}),
    author_code = Column(String(10), ForeignKey("ok_author.code")),
    title = Column(String(20)),
  }
  M.Shelf = Base:class "Shelf" {
    __tablename__ = "ok_shelf",
    id = Column(Integer, {primary_key = true}),
    label = Column(String(20)),
    tomes = relationship("Tome"),
  }
  M.Tome = Base:class "Tome" {
    __tablename__ = "ok_tome",
    id = Column(Integer, {primary_key = true}),
    shelf_id = Column(Integer, ForeignKey("ok_shelf.id")),
    title = Column(String(20)),
  }
  return M
end

-- {name, {titles}} of each parent, titles sorted when asked
local function listed(parents, namekey, collkey, sorted)
  local out = {}
  for i, p in ipairs(parents) do
    local ts = {}
    for _, c in ipairs(p[collkey]) do ts[#ts + 1] = c.title end
    if sorted then table.sort(ts) end
    out[i] = {p[namekey], ts}
  end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = keyed_schema()
  local Author, Book, Shelf, Tome = M.Author, M.Book, M.Shelf, M.Tome
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  engine:begin(function(conn)
    conn:execute(insert(Author.__table__), {{code = "b", name = "Bea"},
      {code = "a", name = "Al"}, {code = "c", name = "Cy"}})
    conn:execute(insert(Book.__table__), {
      {id = 1, author_code = "b", title = "b1"},
      {id = 2, author_code = "a", title = "a1"},
      {id = 3, author_code = "b", title = "b2"},
      {id = 4, author_code = "a", title = "a2"}})
    conn:execute(insert(Shelf.__table__), {{id = 1, label = "s1"},
      {id = 2, label = "s2"}, {id = 3, label = "s3"}})
    conn:execute(insert(Tome.__table__), {
      {id = 1, shelf_id = 2, title = "t1"},
      {id = 2, shelf_id = 1, title = "t2"},
      {id = 3, shelf_id = 2, title = "t3"},
      {id = 4, shelf_id = 1, title = "t4"},
      {id = 5, shelf_id = 2, title = "t5"}})
  end)
  local pfx = db.name .. ": "

  T.test(pfx .. "parents of text keys, one with nothing", function()
    local s <close> = orm.Session(engine)
    local got = s:execute(select(Author):options(orm.joinedload(Author.books))
      :order_by(Author.code)):unique():scalars():all()
    T.eq(listed(got, "name", "books", true),
         {{"Al", {"a1", "a2"}}, {"Bea", {"b1", "b2"}}, {"Cy", {}}})
  end)

  T.test(pfx .. "parents of text keys on rows apart", function()
    local s <close> = orm.Session(engine)
    local got = s:execute(select(Author):join(Author.books)
      :options(orm.contains_eager(Author.books)):order_by(Book.id))
      :unique():scalars():all()
    T.eq(listed(got, "name", "books"),
         {{"Bea", {"b1", "b2"}}, {"Al", {"a1", "a2"}}})
  end)

  T.test(pfx .. "parents of integer keys on rows apart", function()
    local s <close> = orm.Session(engine)
    local got = s:execute(select(Shelf):join(Shelf.tomes)
      :options(orm.contains_eager(Shelf.tomes)):order_by(Tome.id))
      :unique():scalars():all()
    T.eq(listed(got, "label", "tomes"),
         {{"s2", {"t1", "t3", "t5"}}, {"s1", {"t2", "t4"}}})
  end)

  T.test(pfx .. "each parent's rows together: each parent once, then " ..
         "nothing", function()
    local s <close> = orm.Session(engine)
    local res = s:execute(select(Shelf):options(orm.joinedload(Shelf.tomes))
      :order_by(Shelf.id)):unique()
    local got = res:scalars():all()
    T.eq(listed(got, "label", "tomes", true),
         {{"s1", {"t2", "t4"}}, {"s2", {"t1", "t3", "t5"}}, {"s3", {}}})
    T.eq(#res:scalars():all(), 0)
    local s2 <close> = orm.Session(engine)
    T.eq(s2:execute(select(Shelf):options(orm.joinedload(Shelf.tomes))
      :order_by(Shelf.id)):unique():scalars():first().label, "s1")
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
