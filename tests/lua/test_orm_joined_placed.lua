-- Joined eager loads and contains_eager place each related object once in
-- each parent's collection, in the order of its first row (as
-- SQLAlchemy's UniqueAppender does), whatever the rows repeat: a parent
-- on rows that are not together, an object under several parents
-- (many-to-many), the rows multiplied by a second collection, the same
-- objects in two collections of one statement (two relationships to one
-- class), and objects loaded again after an expire (placed before by a load that
-- is over).  Expectations from SQLAlchemy 1.4 on the same data.
local T = require "testing"
local relationship = orm.relationship

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  local enrollment = Table("jp_enrollment", Base.metadata,
    Column("student_id", Integer, ForeignKey("jp_student.id"),
           {primary_key = true}),
    Column("course_id", Integer, ForeignKey("jp_course.id"),
           {primary_key = true}))
  local membership = Table("jp_membership", Base.metadata,
    Column("student_id", Integer, ForeignKey("jp_student.id"),
           {primary_key = true}),
    Column("club_id", Integer, ForeignKey("jp_club.id"),
           {primary_key = true}))
  local favorite = Table("jp_favorite", Base.metadata,
    Column("student_id", Integer, ForeignKey("jp_student.id"),
           {primary_key = true}),
    Column("course_id", Integer, ForeignKey("jp_course.id"),
           {primary_key = true}))
  M.Student = Base:class "Student" {
    __tablename__ = "jp_student",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    courses = relationship("Course", {secondary = enrollment}),
    clubs = relationship("Club", {secondary = membership}),
    favorites = relationship("Course", {secondary = favorite,
                                        order_by = "Course.id"}),
  }
  M.Course = Base:class "Course" {
    __tablename__ = "jp_course",
    id = Column(Integer, {primary_key = true}),
    title = Column(String(20)),
  }
  M.Club = Base:class "Club" {
    __tablename__ = "jp_club",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
  }
  M.enrollment, M.membership, M.favorite = enrollment, membership, favorite
  return M
end

-- name -> {course titles, club names} of each student (in their order;
-- sorted with `sorted`, for rows in no set order)
local function shown(students, sorted)
  local out = {}
  for _, x in ipairs(students) do
    local cs, ks = {}, {}
    for _, c in ipairs(x.courses) do cs[#cs + 1] = c.title end
    for _, k in ipairs(x.clubs) do ks[#ks + 1] = k.name end
    if sorted then table.sort(cs); table.sort(ks) end
    out[x.name] = {cs, ks}
  end
  return out
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local Student, Course, Club = M.Student, M.Course, M.Club
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  engine:begin(function(conn)
    conn:execute(insert(Student.__table__), {{id = 1, name = "s1"},
      {id = 2, name = "s2"}, {id = 3, name = "s3"}})
    conn:execute(insert(Course.__table__), {{id = 1, title = "c1"},
      {id = 2, title = "c2"}, {id = 3, title = "c3"}})
    conn:execute(insert(Club.__table__), {{id = 1, name = "k1"},
      {id = 2, name = "k2"}})
    conn:execute(insert(M.enrollment), {{student_id = 1, course_id = 1},
      {student_id = 1, course_id = 2}, {student_id = 2, course_id = 1},
      {student_id = 2, course_id = 3}, {student_id = 3, course_id = 2}})
    conn:execute(insert(M.membership), {{student_id = 1, club_id = 1},
      {student_id = 1, club_id = 2}, {student_id = 2, club_id = 2}})
    conn:execute(insert(M.favorite), {{student_id = 1, course_id = 2},
      {student_id = 1, course_id = 3}, {student_id = 2, course_id = 1}})
  end)
  local pfx = db.name .. ": "

  local function eager(order)
    return select(Student):join(Student.courses):outerjoin(Student.clubs)
      :options(orm.contains_eager(Student.courses),
               orm.contains_eager(Student.clubs))
      :order_by(table.unpack(order))
  end

  T.test(pfx .. "contains_eager: parents on rows apart, objects under " ..
         "several parents, rows multiplied by a second collection",
         function()
    local s = orm.Session(engine)
    local got = s:execute(eager{Course.title, Club.name}):unique()
      :scalars():all()
    T.eq(#got, 3)
    T.eq(shown(got), {s1 = {{"c1", "c2"}, {"k1", "k2"}},
                      s2 = {{"c1", "c3"}, {"k2"}},
                      s3 = {{"c2"}, {}}})
    local s1 = s:get(Student, 1)
    T.ok(s1.courses[1] == s:get(Student, 2).courses[1],
         "one Course object in both collections")
    -- loaded again after an expire: the same objects, placed anew in
    -- the order of the new rows
    s:expire_all()
    collectgarbage()
    got = s:execute(eager{Club.name:desc(), Course.title:desc()}):unique()
      :scalars():all()
    local byname = shown(got)
    T.eq(byname.s1, {{"c2", "c1"}, {"k2", "k1"}})
    T.eq(byname.s2, {{"c3", "c1"}, {"k2"}})
    T.eq(byname.s3, {{"c2"}, {}})
    -- and once more with the load before still referenced
    s:expire_all()
    local again = s:execute(eager{Course.title, Club.name}):unique()
      :scalars():all()
    T.eq(shown(again), {s1 = {{"c1", "c2"}, {"k1", "k2"}},
                        s2 = {{"c1", "c3"}, {"k2"}},
                        s3 = {{"c2"}, {}}})
    T.ok(got[1] == s:get(Student, 2) or got[1] == s:get(Student, 3),
         "the identity map's objects")
    s:close()
  end)

  T.test(pfx .. "joinedload of two collections: each object once",
         function()
    local s = orm.Session(engine)
    local got = s:execute(select(Student)
      :options(orm.joinedload(Student.courses),
               orm.joinedload(Student.clubs))
      :order_by(Student.id)):unique():scalars():all()
    T.eq(shown(got, true), {s1 = {{"c1", "c2"}, {"k1", "k2"}},
                            s2 = {{"c1", "c3"}, {"k2"}},
                            s3 = {{"c2"}, {}}})
    T.eq(#got[1].courses, 2)
    T.eq(#got[1].clubs, 2)
    s:close()
  end)

  T.test(pfx .. "two collections of one class: an object in both, " ..
         "each once", function()
    local s = orm.Session(engine)
    local q = select(Student):options(orm.joinedload(Student.courses),
                                      orm.joinedload(Student.favorites))
      :order_by(Student.id)
    local function show(students)
      local out = {}
      for _, x in ipairs(students) do
        local cs, fs = {}, {}
        for _, c in ipairs(x.courses) do cs[#cs + 1] = c.title end
        for _, c in ipairs(x.favorites) do fs[#fs + 1] = c.title end
        table.sort(cs)
        out[#out + 1] = {x.name, cs, fs}
      end
      return out
    end
    local want = {{"s1", {"c1", "c2"}, {"c2", "c3"}},
                  {"s2", {"c1", "c3"}, {"c1"}}, {"s3", {"c2"}, {}}}
    local got = s:execute(q):unique():scalars():all()
    T.eq(show(got), want)
    T.ok(got[1].courses[2] == got[1].favorites[1] or
         got[1].courses[1] == got[1].favorites[1], "c2: one object")
    s:expire_all()
    collectgarbage()
    T.eq(show(s:execute(q):unique():scalars():all()), want,
         "loaded again after an expire")
    -- a row at a time: each batch's rows fill both collections in turn,
    -- a parent's rows spread over batches
    s:close()
    s = orm.Session(engine)
    local r, each = s:execute(q):unique():scalars(), {}
    while true do
      local part = r:fetchmany(1)
      if #part == 0 then break end
      each[#each + 1] = part[1]
    end
    T.eq(show(each), want, "fetched one at a time")
    s:close()
  end)

  M.Base.metadata:drop_all(engine)
end

T.done()
