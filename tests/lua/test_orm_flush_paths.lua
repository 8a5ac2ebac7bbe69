-- The shortcuts of object construction and the flush against the general
-- rule, each case checked against SQLAlchemy 1.4.46: constructor keys
-- found by their strings (short or long, literal or built at run time),
-- committed values of one or several attributes across flush, commit and
-- expiry, equal values that make no UPDATE, and a flush that deletes
-- some objects and updates others.
local T = require "testing"

local LONG = string.rep("attribute_", 4) .. "long" -- 44 characters

local function schema()
  local Base = orm.declarative_base()
  local Item = Base:class "Item" {
    __tablename__ = "fp_item",
    id = Column(Integer, {primary_key = true, autoincrement = false}),
    name = Column(String(60)),
    num = Column(Integer),
    [LONG] = Column("ln", String(60)),
  }
  return Base, Item
end

T.test("constructor keys: short, long, built at run time, not mapped",
       function()
  local _, Item = schema()
  local key = table.concat({"na", "me"})
  local long = table.concat({string.rep("attribute_", 4), "long"})
  local it = Item{[key] = "a", [long] = "b", num = sa.null}
  T.eq({it.name, it[LONG], it.num}, {"a", "b", nil})
  T.eq(orm.inspect(it).attrs[LONG].history.added, {"b"})
  T.eq(orm.inspect(it).attrs.num.history.added, {sa.null})
  T.raises("ArgumentError", function() return Item{nme = "x"} end)
  T.raises("ArgumentError", function()
    return Item{name = "x", [string.rep("z", 50)] = 1}
  end)
end)

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "

  local function setup()
    local Base, Item = schema()
    local e = create_engine(db.url)
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local stmts = {}
    sa.event.listen(e, "before_cursor_execute", function(_, _, stmt)
      local verb = stmt:match("^(%u+)")
      if verb == "INSERT" or verb == "UPDATE" or verb == "DELETE" then
        stmts[#stmts + 1] = verb .. " " ..
          ((stmt:match("SET (.-) WHERE") or ""):gsub("=[^,]*", ""))
      end
    end)
    return Base, Item, e, stmts
  end

  T.test(pfx .. "a long key inserts and updates its column", function()
    local Base, Item, e, stmts = setup()
    local s <close> = orm.Session(e)
    s:add_all({Item{id = 1, name = "a", [LONG] = "x"},
               Item{id = 2, name = "b"}})
    s:commit()
    local it = s:get(Item, 1)
    T.eq(it[LONG], "x")
    it[LONG] = "y"
    s:commit()
    T.eq(s:get(Item, 1)[LONG], "y")
    T.eq(s:get(Item, 2)[LONG], nil)
    T.eq(stmts, {"INSERT ", "UPDATE ln"})
    s:close()
    Base.metadata:drop_all(e)
  end)

  T.test(pfx .. "committed values of one and of several attributes",
         function()
    local Base, Item, e, stmts = setup()
    local s <close> = orm.Session(e)
    s:add(Item{id = 1, name = "a", num = 1})
    s:commit()
    local it = s:get(Item, 1)
    it.name, it.num = "b", 2
    local a = orm.inspect(it).attrs
    T.eq({a.name.history.deleted, a.num.history.deleted}, {{"a"}, {1}})
    s:flush()
    T.eq({a.name.history.deleted, a.num.history.deleted}, {{}, {}})
    it.num = 3
    T.eq({a.name.history.deleted, a.num.history.deleted}, {{}, {2}})
    s:commit() -- expires it: nothing committed is remembered
    it.num = 4 -- (not loaded first: an expired column's old value is
    -- unknown, as in SQLAlchemy)
    T.eq({a.num.history.added, a.num.history.deleted}, {{4}, {}})
    it.name, it.num = "c", 3
    s:commit()
    T.eq(stmts, {"INSERT ", "UPDATE name, num", "UPDATE num",
                 "UPDATE name, num"})
    T.eq({it.name, it.num}, {"c", 3})
    s:close()
    Base.metadata:drop_all(e)
  end)

  T.test(pfx .. "values equal to the loaded ones make no UPDATE",
         function()
    local Base, Item, e, stmts = setup()
    local s <close> = orm.Session(e)
    local text = string.rep("0123456789", 5)
    s:add(Item{id = 1, name = text, num = 1})
    s:commit()
    local it = s:get(Item, 1)
    it.name = table.concat({string.rep("0123456789", 4), "0123456789"})
    it.num = 1.0
    s:flush()
    T.eq(stmts, {"INSERT "})
    it.name = text .. "!"
    s:commit()
    T.eq({s:get(Item, 1).name, s:get(Item, 1).num}, {text .. "!", 1})
    T.eq(stmts, {"INSERT ", "UPDATE name"})
    s:close()
    Base.metadata:drop_all(e)
  end)

  T.test(pfx .. "one flush deletes some objects and updates others",
         function()
    local Base, Item, e, stmts = setup()
    local s <close> = orm.Session(e)
    s:add_all({Item{id = 1, name = "a"}, Item{id = 2, name = "b"},
               Item{id = 3, name = "c"}})
    s:commit()
    local a, b, c = s:get(Item, 1), s:get(Item, 2), s:get(Item, 3)
    a.name, b.name, c.name = "a2", "b2", "c2"
    s:delete(b)
    s:flush()
    T.eq(stmts, {"INSERT ", "UPDATE name", "DELETE "})
    T.eq(orm.inspect(b).deleted, true)
    s:commit()
    local c2 <close> = e:connect()
    local rows = c2:execute(select(Item.__table__):order_by(
      Item.__table__.c.id)):all()
    local got = {}
    for i, r in ipairs(rows) do got[i] = r.id .. r.name end
    T.eq(got, {"1a2", "3c2"})
    c2:close()
    s:close()
    Base.metadata:drop_all(e)
  end)
end

T.done()
