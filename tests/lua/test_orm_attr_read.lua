-- Reading attributes of loaded and new objects through their class's
-- __index (orm/lorm.c), which finds a name's slot through a small cache
-- by the address of the name: many names in turn (more than the cache
-- holds, so that they displace each other), names made anew at run time,
-- names longer than Lua's interned strings, keys that are no column
-- attribute (methods, relationships, __class__, unmapped ones), and a
-- column mapped under another name or after an object was made.  The
-- values are those the rows hold, as SQLAlchemy reads them.
local T = require "testing"
local relationship = orm.relationship

local NCOLS = 40
local LONG = string.rep("a_rather_long_attribute_name_", 2) .. "x"

local function schema()
  local Base = orm.declarative_base()
  local spec = {__tablename__ = "ar_wide",
                id = Column(Integer, {primary_key = true})}
  for c = 1, NCOLS do spec["c" .. c] = Column(String(20)) end
  spec[LONG] = Column(String(20))
  spec.owner_id = Column(Integer, ForeignKey("ar_owner.id"))
  spec.owner = relationship("Owner")
  spec.label = function(self) return "wide " .. self.id end
  local Wide = Base:class "Wide" (spec)
  local Owner = Base:class "Owner" {
    __tablename__ = "ar_owner",
    id = Column(Integer, {primary_key = true}),
    -- the column "title" mapped under another name
    name = Column("title", String(20)),
  }
  return Base, Wide, Owner
end

local function value(i, c) return "r" .. i .. "c" .. c end

for _, db in ipairs(T.databases()) do
  local Base, Wide, Owner = schema()
  local engine = create_engine(db.url)
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local rows = {}
  for i = 1, 30 do
    local r = {id = i, owner_id = i % 3 == 0 and 1 or sa.null}
    for c = 1, NCOLS do r["c" .. c] = value(i, c) end
    r[LONG] = "long " .. i
    rows[i] = r
  end
  engine:begin(function(conn)
    conn:execute(insert(Owner.__table__), {{id = 1, title = "boss"}})
    conn:execute(insert(Wide.__table__), rows)
  end)
  local pfx = db.name .. ": "

  T.test(pfx .. "every column of every loaded object, names in turn",
         function()
    local s <close> = orm.Session(engine)
    local objs = s:scalars(select(Wide):order_by(Wide.id)):all()
    T.eq(#objs, 30)
    local bad = 0
    for round = 1, 3 do
      for i, o in ipairs(objs) do
        -- forwards, backwards and by a stride: names displace each other
        for k = 1, NCOLS do
          local c = round == 1 and k or round == 2 and NCOLS + 1 - k or
                    (k * 7) % NCOLS + 1
          if o["c" .. c] ~= value(i, c) then bad = bad + 1 end
        end
        if o[LONG] ~= "long " .. i then bad = bad + 1 end
        if o.id ~= i then bad = bad + 1 end
      end
    end
    T.eq(bad, 0, "no attribute read another's value")
  end)

  T.test(pfx .. "keys that are no column attribute", function()
    local s <close> = orm.Session(engine)
    local o = s:get(Wide, 3)
    T.eq(o.c1, value(3, 1))
    T.eq(o:label(), "wide 3", "a method of the class")
    T.ok(o.__class__ == Wide)
    T.eq(o.owner.name, "boss", "a relationship, loaded lazily")
    T.eq(s:get(Wide, 4).owner, nil)
    T.eq(o.c1, value(3, 1), "the column again after other keys")
    o.extra = "kept"
    T.eq(o.extra, "kept", "an attribute that is not mapped")
  end)

  T.test(pfx .. "written, expired and new objects", function()
    local s <close> = orm.Session(engine)
    local o = s:get(Wide, 5)
    o.c2 = "changed"
    T.eq({o.c1, o.c2, o.c3}, {value(5, 1), "changed", value(5, 3)})
    s:flush()
    s:expire(o, {"c3"})
    T.eq(o.c3, value(5, 3), "an expired attribute is loaded again")
    local w = Wide {id = 100, c7 = "seven"}
    T.eq({w.c7, w.c8, w.id}, {"seven", nil, 100})
    s:rollback()
    T.eq(o.c2, value(5, 2), "the rolled back change is gone")
  end)

  T.test(pfx .. "a column mapped under another name", function()
    local s <close> = orm.Session(engine)
    local o = s:get(Owner, 1)
    T.eq(o.name, "boss")
    o.name = "chief"
    s:flush()
    T.eq(s:execute(select(Owner.__table__.c.title)):scalar_one(), "chief")
  end)

  T.test(pfx .. "a column mapped after an object was made", function()
    local B2 = orm.declarative_base()
    local Late = B2:class "Late" {
      __tablename__ = "ar_late",
      id = Column(Integer, {primary_key = true}),
    }
    local old = Late {id = 1}
    -- more attributes than the old object has room for
    for c = 1, 9 do Late["x" .. c] = Column(String(10)) end
    T.eq({old.id, old.x1, old.x9}, {1, nil, nil}, "none of them is set")
    local new = Late {id = 2, x9 = "nine"}
    T.eq({new.x1, new.x9}, {nil, "nine"})
    -- (setting one there is an error, not a write past the object)
    local ok, err = pcall(function() old.x9 = "v" end)
    T.eq(ok, false)
    T.match(tostring(err), "attribute 'x9' was mapped after this object")
    T.eq(old.x9, nil)
  end)

  Base.metadata:drop_all(engine)
end

T.done()
