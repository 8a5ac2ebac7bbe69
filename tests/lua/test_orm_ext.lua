-- ORM extensions on every test database: hybrid_property (instance
-- values, class-level SQL, setter), association_proxy (seed 003 2.11.1:
-- a scalar collection, an association object with a creator, a keyed
-- dict), attribute_keyed_dict collections and ordering_list (2.11.3).
-- Expected SQL, values and rows were checked against SQLAlchemy 1.4.
local T = require "testing"
local relationship = orm.relationship

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(conn, cursor, sql) log[#log + 1] = sql end)
  return log
end
local function clear(log) for i = #log, 1, -1 do log[i] = nil end end
local function squash(sql) return (sql:gsub("%s+", " ")) end
local function rows(engine, sql)
  local out = {}
  local conn <close> = engine:connect()
  for _, r in ipairs(conn:execute(text(sql)):all()) do
    local t = {}
    for i = 1, #r do t[i] = r[i] end
    out[#out + 1] = t
  end
  return out
end

local function schema()
  local Base = orm.declarative_base()
  local M = {Base = Base}
  M.Interval = Base:class "Interval" {
    __tablename__ = "ext_interval",
    id = Column(Integer, {primary_key = true}),
    start = Column(Integer, {nullable = false}),
    stop = Column(Integer, {nullable = false}),
    length = orm.hybrid_property(function(self)
      return self.stop - self.start
    end),
    radius = orm.hybrid_property(function(self)
      return math.abs(self.length) / 2
    end, {expression = function(cls) return func.abs(cls.length) / 2 end}),
    first = orm.hybrid_property(function(self) return self.start end,
      {setter = function(self, v) self.start = v end}),
  }
  local uk = Table("ext_userkeywords", Base.metadata,
    Column("user_id", Integer, ForeignKey("ext_users.id"),
           {primary_key = true}),
    Column("keyword_id", Integer, ForeignKey("ext_keywords.id"),
           {primary_key = true}))
  M.User = Base:class "User" {
    __tablename__ = "ext_users",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(64)),
    kw = relationship("Keyword", {secondary = uk}),
    keywords = orm.association_proxy("kw", "keyword"),
  }
  M.Keyword = Base:class "Keyword" {
    __tablename__ = "ext_keywords",
    id = Column(Integer, {primary_key = true}),
    keyword = Column(String(64)),
  }
  -- a proxy of a scalar (one-to-one) relationship
  M.Member = Base:class "Member" {
    __tablename__ = "ext_member",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    profile = relationship("Profile", {uselist = false}),
    bio = orm.association_proxy("profile", "bio"),
  }
  M.Profile = Base:class "Profile" {
    __tablename__ = "ext_profile",
    id = Column(Integer, {primary_key = true}),
    member_id = Column(Integer, ForeignKey("ext_member.id")),
    bio = Column(String(20)),
  }
  -- the association object pattern with a creator
  M.Person = Base:class "Person" {
    __tablename__ = "ext_person",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(64)),
    tags = orm.association_proxy("person_tags", "tag", {
      creator = function(tag) return M.PersonTag{tag = tag} end}),
  }
  M.Tag = Base:class "Tag" {
    __tablename__ = "ext_tag",
    id = Column(Integer, {primary_key = true}),
    word = Column(String(64)),
  }
  M.PersonTag = Base:class "PersonTag" {
    __tablename__ = "ext_person_tag",
    person_id = Column(Integer, ForeignKey("ext_person.id"),
                       {primary_key = true}),
    tag_id = Column(Integer, ForeignKey("ext_tag.id"), {primary_key = true}),
    special = Column(String(20)),
    person = relationship("Person", {backref = orm.backref("person_tags",
      {cascade = "all, delete-orphan"})}),
    tag = relationship("Tag"),
  }
  -- a dictionary collection keyed by an object, proxied to a column
  M.Stock = Base:class "Stock" {
    __tablename__ = "ext_stocks",
    symbol = Column(String(10), {primary_key = true}),
    last_price = Column(Integer),
  }
  M.Broker = Base:class "Broker" {
    __tablename__ = "ext_brokers",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(100), {nullable = false}),
    by_stock = relationship("Holding", {
      collection_class = orm.attribute_mapped_collection("stock"),
      cascade = "all, delete-orphan"}),
    holdings = orm.association_proxy("by_stock", "shares", {
      creator = function(stock, shares)
        return M.Holding{stock = stock, shares = shares}
      end}),
  }
  M.Holding = Base:class "Holding" {
    __tablename__ = "ext_holdings",
    broker_id = Column(Integer, ForeignKey("ext_brokers.id"),
                       {primary_key = true}),
    symbol = Column(String(10), ForeignKey("ext_stocks.symbol"),
                    {primary_key = true}),
    shares = Column(Integer),
    stock = relationship("Stock"),
  }
  -- a dictionary keyed by a column, and a note proxy
  M.Item = Base:class "Item" {
    __tablename__ = "ext_item",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    notes = relationship("Note", {
      collection_class = orm.attribute_keyed_dict("keyword"),
      cascade = "all, delete-orphan", order_by = "Note.id"}),
    note_text = orm.association_proxy("notes", "text"),
  }
  M.Note = Base:class "Note" {
    __tablename__ = "ext_note",
    id = Column(Integer, {primary_key = true}),
    item_id = Column(Integer, ForeignKey("ext_item.id")),
    keyword = Column(String(20)),
    text = Column(String(50)),
  }
  M.Slide = Base:class "Slide" {
    __tablename__ = "ext_slide",
    id = Column(Integer, {primary_key = true}),
    name = Column(String(20)),
    bullets = relationship("Bullet", {order_by = "Bullet.position",
      collection_class = orm.ordering_list("position")}),
    pages = relationship("Page", {order_by = "Page.num",
      collection_class = orm.ordering_list("num", {count_from = 1})}),
  }
  M.Bullet = Base:class "Bullet" {
    __tablename__ = "ext_bullet",
    id = Column(Integer, {primary_key = true}),
    slide_id = Column(Integer, ForeignKey("ext_slide.id")),
    position = Column(Integer),
    text = Column(String(20)),
  }
  M.Page = Base:class "Page" {
    __tablename__ = "ext_page",
    id = Column(Integer, {primary_key = true}),
    slide_id = Column(Integer, ForeignKey("ext_slide.id")),
    num = Column(Integer),
  }
  return M
end

for _, db in ipairs(T.databases()) do
  local M = schema()
  local engine = create_engine(db.url)
  M.Base.metadata:drop_all(engine)
  M.Base.metadata:create_all(engine)
  local log = capture(engine)
  local pfx = db.name .. ": "
  local Interval, User, Keyword = M.Interval, M.User, M.Keyword

  T.test(pfx .. "hybrid_property: instance values and class SQL", function()
    local s <close> = orm.Session(engine)
    local i = Interval{start = 5, stop = 10}
    T.eq(i.length, 5)
    T.eq(i.radius, 2.5)
    s:add_all({i, Interval{start = 1, stop = 2}})
    s:commit()
    T.eq(squash(tostring(select(Interval.length))),
         "SELECT ext_interval.stop - ext_interval.start AS length " ..
         "FROM ext_interval")
    T.eq(squash(tostring(select(Interval.radius))),
         "SELECT abs(ext_interval.stop - ext_interval.start) / :abs_1 " ..
         "AS radius FROM ext_interval")
    T.eq(squash(tostring(select(Interval):where(Interval.length:gt(3)))),
         "SELECT ext_interval.id, ext_interval.start, ext_interval.stop " ..
         "FROM ext_interval WHERE ext_interval.stop - ext_interval.start > " ..
         ":param_1")
    local r = s:execute(select(Interval.length):order_by(Interval.id))
    T.eq(r:keys(), {"length"})
    clear(log)
    local got = s:scalars(select(Interval):where(Interval.length:gt(3)))
      :all()
    T.eq(#got, 1)
    T.ok(rawequal(got[1], i), "the identity-map object")
    T.match(squash(log[1]), "WHERE ext_interval.stop %- ext_interval.start > ")
    T.eq(#s:scalars(select(Interval):where(Interval.radius:ge(2))):all(), 1)
    T.eq(s:scalar(select(func.count()):select_from(Interval)
                  :where(Interval.radius:lt(2))), 1)
  end)

  T.test(pfx .. "hybrid_property: setter, no setter, constructor", function()
    local i = Interval{first = 3, stop = 4}
    T.eq(i.start, 3)
    i.first = 1
    T.eq(i.start, 1)
    T.eq(i.length, 3)
    T.raises("ArgumentError", function() i.length = 4 end)
    T.raises("ArgumentError", function() return Interval{length = 3} end)
    T.raises("ArgumentError", function() orm.hybrid_property(3) end)
  end)

  T.test(pfx .. "association_proxy: a scalar collection", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "jek"}
    u.kw:append(Keyword{keyword = "cheese inspector"})
    T.eq(tostring(u.keywords), "['cheese inspector']")
    u.keywords:append("snack ninja")
    T.eq(tostring(u.keywords), "['cheese inspector', 'snack ninja']")
    T.eq(#u.kw, 2)
    T.eq(u.kw[2].keyword, "snack ninja")
    T.eq(orm.inspect(u.kw[2]).transient, true)
    s:add(u)
    clear(log)
    s:commit()
    -- two keywords (PostgreSQL: one executemany with RETURNING, as
    -- SQLAlchemy 1.4 with psycopg2), the user, one executemany of links
    T.eq(#log, db.name == "postgresql" and 3 or 4)
    T.eq(tostring(u.keywords), "['cheese inspector', 'snack ninja']")
    u.keywords:remove("snack ninja")
    clear(log)
    s:commit()
    T.match(log[1], "^DELETE FROM ext_userkeywords")
    T.eq(u.keywords[1], "cheese inspector")
    T.eq(#u.keywords, 1)
    T.eq(u.keywords:contains("cheese inspector"), true)
    T.eq(u.keywords:contains("snack ninja"), false)
    local seen = {}
    for i, v in ipairs(u.keywords) do seen[i] = v end
    T.eq(seen, {"cheese inspector"})
    u.keywords = {"a", "b"}
    s:commit()
    T.eq(tostring(u.keywords), "['a', 'b']")
    T.eq(#rows(engine, "SELECT keyword_id FROM ext_userkeywords"), 2)
    T.eq(#rows(engine, "SELECT id FROM ext_keywords"), 4)
  end)

  T.test(pfx .. "association_proxy: class-level criteria", function()
    T.eq(squash(tostring(select(User):where(User.keywords:any(
      Keyword.keyword:eq("x"))))),
      "SELECT ext_users.id, ext_users.name FROM ext_users WHERE EXISTS " ..
      "(SELECT 1 FROM ext_userkeywords, ext_keywords WHERE ext_users.id = " ..
      "ext_userkeywords.user_id AND ext_keywords.id = " ..
      "ext_userkeywords.keyword_id AND ext_keywords.keyword = :keyword_1)")
    T.eq(squash(tostring(select(User):where(User.keywords:contains("x")))),
      "SELECT ext_users.id, ext_users.name FROM ext_users WHERE EXISTS " ..
      "(SELECT 1 FROM ext_userkeywords, ext_keywords WHERE ext_users.id = " ..
      "ext_userkeywords.user_id AND ext_keywords.id = " ..
      "ext_userkeywords.keyword_id AND (ext_keywords.keyword LIKE '%' || " ..
      ":keyword_1 || '%'))")
    local s <close> = orm.Session(engine)
    local names = {}
    for u in s:scalars(select(User):where(User.keywords:any(
        Keyword.keyword:eq("b")))) do
      names[#names + 1] = u.name
    end
    T.eq(names, {"jek"})
    T.eq(#s:scalars(select(User):where(User.keywords:any(
      Keyword.keyword:eq("snack ninja")))):all(), 0)
  end)

  T.test(pfx .. "association_proxy: a scalar relationship", function()
    local s <close> = orm.Session(engine)
    local m = M.Member{name = "x"}
    T.eq(m.bio, nil)
    m.bio = "hello" -- no profile yet: one is made
    T.eq(m.profile.bio, "hello")
    local p = m.profile
    m.bio = "bye" -- set on the existing one
    T.ok(rawequal(m.profile, p))
    T.eq(p.bio, "bye")
    s:add(m)
    s:commit()
    T.eq(squash(tostring(select(M.Member):where(M.Member.bio:eq("bye")))),
      "SELECT ext_member.id, ext_member.name FROM ext_member WHERE EXISTS " ..
      "(SELECT 1 FROM ext_profile WHERE ext_member.id = " ..
      "ext_profile.member_id AND ext_profile.bio = :bio_1)")
    T.eq(#s:scalars(select(M.Member):where(M.Member.bio:eq("bye"))):all(), 1)
    T.eq(#s:scalars(select(M.Member):where(M.Member.bio:eq("hi"))):all(), 0)
    T.raises("InvalidRequestError", function()
      return M.Member.bio:contains("b")
    end)
  end)

  T.test(pfx .. "association_proxy: association objects, creator",
         function()
    local s <close> = orm.Session(engine)
    local p = M.Person{name = "log"}
    local t1 = M.Tag{word = "new from blammo"}
    -- the backref puts the association object in p.person_tags
    M.PersonTag{person = p, tag = t1}
    T.eq(#p.person_tags, 1)
    T.ok(rawequal(p.person_tags[1].tag, t1))
    for _, w in ipairs({"its_big", "its_heavy", "its_wood"}) do
      p.tags:append(M.Tag{word = w})
    end
    local words = {}
    for i, t in ipairs(p.tags) do words[i] = t.word end
    T.eq(words, {"new from blammo", "its_big", "its_heavy", "its_wood"})
    T.eq(#p.person_tags, 4)
    T.ok(rawequal(p.person_tags[4].person, p), "the creator's object is " ..
         "linked back")
    s:add(p)
    s:commit()
    T.eq(#rows(engine, "SELECT person_id FROM ext_person_tag"), 4)
    p.tags:remove(p.tags[2])
    s:commit()
    T.eq(#rows(engine, "SELECT person_id FROM ext_person_tag"), 3)
    T.eq(#rows(engine, "SELECT id FROM ext_tag"), 4)
    -- any() through the association object reaches the Tag
    T.eq(#s:scalars(select(M.Person):where(M.Person.tags:any(
      M.Tag.word:eq("its_wood")))):all(), 1)
    T.eq(#s:scalars(select(M.Person):where(M.Person.tags:any(
      M.Tag.word:eq("its_big")))):all(), 0)
    T.eq(#s:scalars(select(M.Person):where(M.Person.tags:contains(t1)))
      :all(), 1)
  end)

  T.test(pfx .. "association_proxy: a dictionary of holdings", function()
    local s <close> = orm.Session(engine)
    local stock = M.Stock{symbol = "ZZK"}
    local broker = M.Broker{name = "paj"}
    broker.by_stock[stock] = M.Holding{stock = stock, shares = 10}
    T.eq(broker.by_stock[stock].shares, 10)
    T.eq(broker.holdings[stock], 10)
    for _, sym in ipairs({"JEK", "STPZ"}) do
      broker.holdings[M.Stock{symbol = sym}] = 123
    end
    local seen = {}
    for st, shares in pairs(broker.holdings) do
      seen[#seen + 1] = st.symbol .. "=" .. shares
    end
    T.eq(seen, {"ZZK=10", "JEK=123", "STPZ=123"})
    broker.holdings[stock] = 11 -- set on the existing Holding
    T.eq(broker.by_stock[stock].shares, 11)
    T.eq(#broker.by_stock, 3)
    s:add(broker)
    s:commit()
    T.eq(rows(engine, "SELECT broker_id, symbol, shares FROM ext_holdings " ..
              "ORDER BY symbol"),
         {{broker.id, "JEK", 123}, {broker.id, "STPZ", 123},
          {broker.id, "ZZK", 11}})
    local s2 <close> = orm.Session(engine)
    local b = s2:get(M.Broker, broker.id)
    local z = s2:get(M.Stock, "ZZK")
    T.eq(b.holdings[z], 11)
    T.eq(b.holdings:get(s2:get(M.Stock, "JEK")), 123)
    b.holdings[z] = nil -- delete-orphan takes the row
    s2:commit()
    T.eq(rows(engine, "SELECT symbol FROM ext_holdings ORDER BY symbol"),
         {{"JEK"}, {"STPZ"}})
  end)

  T.test(pfx .. "attribute_keyed_dict: keys, replace, delete, assign",
         function()
    local s <close> = orm.Session(engine)
    local item = M.Item{name = "i"}
    item.notes.a = M.Note{keyword = "a", text = "atext"}
    item.notes:set(M.Note{keyword = "b", text = "btext"})
    T.eq(item.notes.a.text, "atext")
    T.eq(item.notes:keys(), {"a", "b"})
    T.eq(#item.notes, 2)
    T.eq(item.note_text.b, "btext")
    item.note_text.c = "ctext" -- the default creator: Note{keyword, text}
    T.eq(item.notes.c.keyword, "c")
    s:add(item)
    s:commit()
    T.eq(rows(engine, "SELECT keyword, text FROM ext_note ORDER BY id"),
         {{"a", "atext"}, {"b", "btext"}, {"c", "ctext"}})
    -- a new member under a taken key replaces the old (an orphan)
    local old = item.notes.a
    item.notes.a = M.Note{keyword = "a", text = "again"}
    T.eq(#item.notes, 3)
    item.notes.b = nil
    s:commit()
    T.eq(orm.inspect(old).detached, true)
    T.eq(rows(engine, "SELECT keyword, text FROM ext_note ORDER BY keyword"),
         {{"a", "again"}, {"c", "ctext"}})
    local keys = {}
    for k, n in pairs(item.notes) do keys[#keys + 1] = k .. ":" .. n.text end
    table.sort(keys)
    T.eq(keys, {"a:again", "c:ctext"})
    item.notes = {z = M.Note{keyword = "z", text = "ztext"}}
    s:commit()
    T.eq(rows(engine, "SELECT keyword FROM ext_note"), {{"z"}})
    T.raises("ArgumentError", function() item.notes.q = M.Item{} end)
    T.raises("ArgumentError", function()
      relationship("Note", {collection_class = orm.attribute_keyed_dict(1)})
    end)
  end)

  T.test(pfx .. "ordering_list keeps positions", function()
    local s <close> = orm.Session(engine)
    local function show(l)
      local out = {}
      for i, b in ipairs(l) do
        out[i] = b.text .. "=" .. tostring(b.position)
      end
      return table.concat(out, " ")
    end
    local slide = M.Slide{name = "s"}
    slide.bullets:append(M.Bullet{text = "a"})
    slide.bullets:append(M.Bullet{text = "b"})
    slide.bullets:append(M.Bullet{text = "c", position = 7})
    T.eq(show(slide.bullets), "a=0 b=1 c=7")
    slide.bullets:insert(2, M.Bullet{text = "z"})
    T.eq(show(slide.bullets), "a=0 z=1 b=2 c=3")
    s:add(slide)
    s:commit()
    slide.bullets:remove(slide.bullets[1])
    T.eq(show(slide.bullets), "z=0 b=1 c=2")
    clear(log)
    s:commit()
    T.eq(#log, 2)
    T.match(log[1], "^UPDATE ext_bullet SET slide_id=")
    -- (MariaDB reserves "position": SQLAlchemy quotes it once connected)
    T.match(log[2], db.name == "mysql" and "^UPDATE ext_bullet SET `position`="
                    or "^UPDATE ext_bullet SET position=")
    T.eq(rows(engine, "SELECT text, position FROM ext_bullet ORDER BY id"),
         {{"a", 0}, {"z", 0}, {"b", 1}, {"c", 2}})
    slide.bullets:pop(1)
    s:commit()
    T.eq(rows(engine, "SELECT text, position FROM ext_bullet " ..
              "WHERE slide_id IS NOT NULL ORDER BY id"),
         {{"b", 0}, {"c", 1}})
    -- loading leaves stored positions alone; reorder() renumbers
    engine:begin(function(conn)
      conn:execute(text("UPDATE ext_bullet SET position = 5 WHERE " ..
                        "text = 'c'"))
    end)
    s:expire_all()
    T.eq(show(slide.bullets), "b=0 c=5")
    slide.bullets:reorder()
    T.eq(show(slide.bullets), "b=0 c=1")
    slide.pages:append(M.Page{})
    slide.pages:append(M.Page{})
    T.eq(slide.pages[1].num, 1)
    T.eq(slide.pages[2].num, 2)
    s:commit()
  end)
  engine:dispose()
end

T.done()
