-- Declarative mapping: class bodies, directives, mixins, declared_attr,
-- column order, the Mapper, constructors and the default text form.
-- Expectations checked against SQLAlchemy 1.4.
local T = require "testing"

local function colnames(t)
  local out = {}
  for _, c in ipairs(t.c) do out[#out + 1] = c.name end
  return out
end

T.test("class body: columns in creation order, methods, class attributes",
       function()
  local Base = orm.declarative_base()
  local User = Base:class "User" {
    __tablename__ = "user_account",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(30), {nullable = false}),
    fullname = Column(String),
    greet = function(self) return "hi " .. self.name end,
    kind = "person",
  }
  T.eq(User.__name__, "User")
  T.eq(User.__tablename__, "user_account")
  T.eq(colnames(User.__table__), {"id", "name", "fullname"})
  T.ok(Base.metadata.tables.user_account == User.__table__)
  -- an attribute prints as SQLAlchemy's InstrumentedAttribute; SQL made
  -- from it is its column's
  T.eq(tostring(User.name), "User.name")
  T.eq(tostring(User.__table__.c.name), "user_account.name")
  T.eq(tostring(User.name:eq("x")), "user_account.name = :name_1")
  T.eq(select(User.name):where(User.id:eq(5)):compile().sql,
       "SELECT user_account.name \nFROM user_account \n" ..
       "WHERE user_account.id = :id_1")
  T.eq(select(User):compile().sql,
       "SELECT user_account.id, user_account.name, user_account.fullname " ..
       "\nFROM user_account")
  local u = User{name = "spongebob", fullname = "Spongebob Squarepants"}
  T.eq(u:greet(), "hi spongebob")
  T.eq(u.kind, "person")
  T.eq(u.id, nil)
  T.ok(u.__class__ == User)
  T.eq(tostring(u), "User(name='spongebob', fullname='Spongebob Squarepants')")
  u.id = 3
  T.eq(tostring(u), "User(id=3, name='spongebob', " ..
                    "fullname='Spongebob Squarepants')")
  -- attributes that are not mapped live on the instance
  u.note = "x"
  T.eq(u.note, "x")
  T.eq(User.note, nil)
end)

T.test("constructor rejects unknown keys", function()
  local Base = orm.declarative_base()
  local A = Base:class "A" {__tablename__ = "a",
                            id = Column(Integer, {primary_key = true})}
  local e = T.raises("ArgumentError", function() return A{bogus = 1} end)
  T.eq(e.message, "'bogus' is an invalid keyword argument for A")
end)

T.test("inspect(Class) is the Mapper", function()
  local Base = orm.declarative_base()
  local Item = Base:class "Item" {
    __tablename__ = "item",
    id = Column(Integer, {primary_key = true}),
    title = Column("item_title", String(40)),
  }
  local m = orm.inspect(Item)
  T.ok(m.local_table == Item.__table__)
  T.eq(#m.primary_key, 1)
  T.eq(m.primary_key[1].name, "id")
  -- (SQLAlchemy's order: a column mapped under another key is a declared
  -- property, listed before the table's other columns)
  T.eq(#m.columns, 2)
  T.eq(m.columns[1].name, "item_title")
  T.eq(m.columns.title.name, "item_title")
  T.ok(m.attrs.title ~= nil)
  T.eq(colnames(Item.__table__), {"id", "item_title"})
  -- the attribute key differs from the column name
  local it = Item{title = "t"}
  T.eq(it.title, "t")
  T.eq(tostring(it), "Item(title='t')")
end)

T.test("__table__, __table_args__, __abstract__, body __tostring", function()
  local Base = orm.declarative_base()
  local t = Table("kw", Base.metadata,
                  Column("id", Integer, {primary_key = true}),
                  Column("word", String(10)))
  local Kw = Base:class "Kw" {
    __table__ = t,
    __tostring = function(self) return "<Kw " .. tostring(self.word) .. ">" end,
  }
  T.ok(Kw.__table__ == t)
  T.eq(tostring(Kw{word = "w"}), "<Kw w>")
  local P = Base:class "P" {
    __tablename__ = "p",
    __table_args__ = {UniqueConstraint("a", "b"), {comment = nil}},
    id = Column(Integer, {primary_key = true}),
    a = Column(Integer),
    b = Column(Integer),
  }
  T.match(CreateTable(P.__table__):compile("sqlite").sql, "UNIQUE %(a, b%)")
  local Abstract = Base:class "Abstract" {
    __abstract__ = true,
    id = Column(Integer, {primary_key = true}),
  }
  T.eq(rawget(Abstract, "__table__"), nil)
  T.raises("InvalidRequestError", function() return Abstract{} end)
  T.raises("InvalidRequestError", function()
    return Base:class "NoTable" {id = Column(Integer, {primary_key = true})}
  end)
  T.raises("ArgumentError", function()
    return Base:class "NoPk" {__tablename__ = "nopk", x = Column(Integer)}
  end)
end)

T.test("mixins and declared_attr", function()
  local Base = orm.declarative_base()
  local Timestamp = {
    created = Column(String(20)),
    __tablename__ = orm.declared_attr(function(cls)
      return cls.__name__:lower()
    end),
    describe = function(self) return "made " .. tostring(self.created) end,
  }
  local Item = Base:class("Item", Timestamp) {
    id = Column(Integer, {primary_key = true}),
    title = Column("item_title", String(40)),
  }
  local Note = Base:class("Note", Timestamp) {
    id = Column(Integer, {primary_key = true}),
  }
  T.eq(Item.__tablename__, "item")
  T.eq(Note.__tablename__, "note")
  -- mixin columns are copied per class (and come first, as SQLAlchemy's)
  T.eq(colnames(Item.__table__), {"created", "id", "item_title"})
  T.eq(colnames(Note.__table__), {"created", "id"})
  T.ok(Item.created ~= Note.created)
  T.eq(Item{created = "today"}:describe(), "made today")
end)

T.test("a class maps into a session-less round trip", function()
  local Base = orm.declarative_base()
  local C = Base:class "C" {
    __tablename__ = "c",
    id = Column(Integer, {primary_key = true}),
    v = Column(Integer, {default = 7}),
    w = Column(Integer),
  }
  local engine = create_engine("sqlite://")
  Base.metadata:create_all(engine)
  local s <close> = orm.Session(engine)
  local c = C{w = 1}
  s:add(c)
  s:commit()
  T.eq(c.v, 7)            -- the default applied by the INSERT, loaded
  -- bulk insert through the class
  s:execute(insert(C), {{v = 1}, {v = 2}})
  T.eq(s:scalar(select(func.count()):select_from(C)), 3)
  s:execute(update(C):where(C.v:lt(3)):values{v = 3})
  s:execute(delete(C):where(C.v:eq(7)))
  T.eq(s:scalars(select(C.v)):all(), {3, 3})
end)

T.done()
