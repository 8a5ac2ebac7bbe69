-- orm.automap_base() and orm.DeferredReflection: the classes and
-- relationships automap makes from foreign keys (many-to-one, one-to-many,
-- many-to-many through association tables, self-reference), its naming
-- hooks, pre-declared classes, name conflicts, and the objects they load
-- and flush.  Every expectation (names, directions, back references,
-- cascades, passive_deletes, loaded rows) is what SQLAlchemy 1.4's
-- sqlalchemy.ext.automap gives on the same schema.
local T = require "testing"

-- rel = {key, direction, target class name, back reference, cascade,
-- passive_deletes, secondary}: one entry per relationship, by key
local function rels_of(cls)
  orm.configure_mappers()
  local out = {}
  for _, r in pairs(orm.inspect(cls).relationships) do
    local cas = {}
    for c in pairs(r.cascade) do cas[#cas + 1] = c end
    table.sort(cas)
    out[#out + 1] = {r.key, r.direction, r.target.class.__name__,
                     r.back_name or (r.back and r.back.key ~= nil and nil),
                     table.concat(cas, ","), r.passive_deletes,
                     r.secondary and r.secondary.name or nil}
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

local function class_names(Base)
  local out = {}
  for name, cls in pairs(Base.classes) do
    T.eq(cls.__name__, name)
    out[#out + 1] = name
  end
  return out
end

local function ids(list, key)
  local out = {}
  for i, x in ipairs(list) do out[i] = x[key] end
  table.sort(out)
  return out
end

--[[ Chinook on SQLite: the names and loaded objects SQLAlchemy's automap
gives on a SQLite copy of the same database ]]

local chinook_classes = {"Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine", "Track", "MediaType", "Playlist"}
local chinook_rels = {
  Album = {
    {"artist", "manytoone", "Artist", "album_collection", "merge,save-update", false, nil},
    {"track_collection", "onetomany", "Track", "album", "merge,save-update", false, nil},
  },
  Artist = {
    {"album_collection", "onetomany", "Album", "artist", "delete,delete-orphan,expunge,merge,refresh-expire,save-update", false, nil},
  },
  Customer = {
    {"employee", "manytoone", "Employee", "customer_collection", "merge,save-update", false, nil},
    {"invoice_collection", "onetomany", "Invoice", "customer", "delete,delete-orphan,expunge,merge,refresh-expire,save-update", false, nil},
  },
  Employee = {
    {"customer_collection", "onetomany", "Customer", "employee", "merge,save-update", false, nil},
    {"employee", "manytoone", "Employee", "employee_collection", "merge,save-update", false, nil},
    {"employee_collection", "onetomany", "Employee", "employee", "merge,save-update", false, nil},
  },
  Genre = {
    {"track_collection", "onetomany", "Track", "genre", "merge,save-update", false, nil},
  },
  Invoice = {
    {"customer", "manytoone", "Customer", "invoice_collection", "merge,save-update", false, nil},
    {"invoiceline_collection", "onetomany", "InvoiceLine", "invoice", "delete,delete-orphan,expunge,merge,refresh-expire,save-update", false, nil},
  },
  InvoiceLine = {
    {"invoice", "manytoone", "Invoice", "invoiceline_collection", "merge,save-update", false, nil},
    {"track", "manytoone", "Track", "invoiceline_collection", "merge,save-update", false, nil},
  },
  Track = {
    {"album", "manytoone", "Album", "track_collection", "merge,save-update", false, nil},
    {"genre", "manytoone", "Genre", "track_collection", "merge,save-update", false, nil},
    {"invoiceline_collection", "onetomany", "InvoiceLine", "track", "delete,delete-orphan,expunge,merge,refresh-expire,save-update", false, nil},
    {"mediatype", "manytoone", "MediaType", "track_collection", "merge,save-update", false, nil},
    {"playlist_collection", "manytomany", "Playlist", "track_collection", "merge,save-update", false, "PlaylistTrack"},
  },
  MediaType = {
    {"track_collection", "onetomany", "Track", "mediatype", "delete,delete-orphan,expunge,merge,refresh-expire,save-update", false, nil},
  },
  Playlist = {
    {"track_collection", "manytomany", "Track", "playlist_collection", "merge,save-update", false, "PlaylistTrack"},
  },
}

local src = os.getenv("RETORT_TEST_SRC") or "."
local chinook = src .. "/../shared/data/chinook/Chinook_Sqlite.sql"
local have_file = io.open(chinook) ~= nil
local have_shell = os.execute("command -v sqlite3 >/dev/null 2>&1")
if not (have_file and have_shell) then
  T.skip("sqlite: Chinook automap", "needs " .. chinook .. " and sqlite3")
else
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("sqlite3 '" .. path .. "' < '" .. chinook .. "'"))
  local engine = create_engine("sqlite:///" .. path)
  local Base = orm.automap_base()
  Base:prepare{autoload_with = engine}
  local C = Base.classes

  T.test("sqlite: Chinook classes, in SQLAlchemy's order", function()
    T.eq(class_names(Base), chinook_classes)
    T.eq(#C, 10)
    T.eq(C.PlaylistTrack, nil) -- an association table, not a class
    T.ok(C["Album"] == C.Album)
    T.eq(C.Album.__table__.name, "Album")
    T.eq(tostring(C.Album), "<class 'Album'>")
  end)

  T.test("sqlite: Chinook relationships", function()
    for _, name in ipairs(chinook_classes) do
      T.eq(rels_of(C[name]), chinook_rels[name], name)
    end
  end)

  T.test("sqlite: Chinook objects through the relationships", function()
    local s <close> = orm.Session(engine)
    local album = s:get(C.Album, 1)
    T.eq(album.artist.Name, "AC/DC")
    T.eq(ids(album.track_collection, "TrackId"),
         {1, 6, 7, 8, 9, 10, 11, 12, 13, 14})
    T.eq(#s:get(C.Artist, 1).album_collection, 2)
    local cust = s:get(C.Customer, 1)
    T.eq(cust.employee.EmployeeId, 3)
    T.eq(#cust.invoice_collection, 7)
    T.eq(#s:get(C.Genre, 1).track_collection, 1297)
    T.eq(#s:get(C.MediaType, 1).track_collection, 3034)
    T.eq(s:get(C.InvoiceLine, 1).track.TrackId, 2)
    T.eq(s:get(C.Invoice, 1).customer.CustomerId, 2)
  end)

  T.test("sqlite: Chinook PlaylistTrack is many-to-many", function()
    local s <close> = orm.Session(engine)
    T.eq(#s:get(C.Playlist, 1).track_collection, 3290)
    local track = s:get(C.Track, 1)
    T.eq(ids(track.playlist_collection, "PlaylistId"), {1, 8, 17})
    T.ok(track.playlist_collection[1].track_collection ~= nil)
  end)

  T.test("sqlite: Chinook Employee.ReportsTo refers to Employee", function()
    local s <close> = orm.Session(engine)
    local boss = s:get(C.Employee, 1)
    T.eq(boss.employee, nil)
    T.eq(ids(boss.employee_collection, "EmployeeId"), {2, 6})
    T.eq(#boss.customer_collection, 0)
    local e3 = s:get(C.Employee, 3)
    T.eq(e3.employee.EmployeeId, 2)
    T.ok(e3.employee.employee == boss)
    T.eq(#e3.customer_collection, 21)
  end)

  T.test("sqlite: Chinook objects flush through automapped classes", function()
    local s <close> = orm.Session(engine)
    local artist = C.Artist{Name = "Retort"}
    local album = C.Album{Title = "First"}
    artist.album_collection:append(album)
    T.ok(album.artist == artist)
    s:add(artist)
    s:commit()
    T.ok(album.ArtistId ~= nil)
    T.eq(album.ArtistId, artist.ArtistId)
    local s2 <close> = orm.Session(engine)
    T.eq(s2:get(C.Album, album.AlbumId).artist.Name, "Retort")
  end)
  engine:dispose()
  os.remove(path)
end

--[[ A small schema on every database ]]

local ddl = {
  "CREATE TABLE am_user (id INTEGER PRIMARY KEY, name VARCHAR(50))",
  "CREATE TABLE am_address (id INTEGER PRIMARY KEY, email VARCHAR(50), " ..
    "user_id INTEGER NOT NULL, FOREIGN KEY(user_id) REFERENCES am_user (id) " ..
    "ON DELETE CASCADE)",
  "CREATE TABLE am_note (id INTEGER PRIMARY KEY, user_id INTEGER, " ..
    "body VARCHAR(100), FOREIGN KEY(user_id) REFERENCES am_user (id) " ..
    "ON DELETE SET NULL)",
  "CREATE TABLE am_log (a INTEGER, b INTEGER)",
  "CREATE TABLE am_keyword (id INTEGER PRIMARY KEY, word VARCHAR(50))",
  "CREATE TABLE am_user_keyword (user_id INTEGER NOT NULL, " ..
    "keyword_id INTEGER NOT NULL, PRIMARY KEY (user_id, keyword_id), " ..
    "FOREIGN KEY(user_id) REFERENCES am_user (id), " ..
    "FOREIGN KEY(keyword_id) REFERENCES am_keyword (id))",
  "CREATE TABLE am_node (id INTEGER PRIMARY KEY, parent_id INTEGER, " ..
    "FOREIGN KEY(parent_id) REFERENCES am_node (id))",
}
local tables = {"am_user_keyword", "am_address", "am_note", "am_node",
                "am_log", "am_keyword", "am_user"}
local only = {reflection_options = {only = {"am_user", "am_address",
  "am_note", "am_log", "am_keyword", "am_user_keyword", "am_node"}}}
local function opts(extra)
  local o = {}
  for k, v in pairs(only) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local all = "delete,delete-orphan,expunge,merge,refresh-expire,save-update"
local plain = "merge,save-update"

for _, db in ipairs(T.databases()) do
  local engine = create_engine(db.url)
  local pfx = db.name .. ": "
  local function setup()
    engine:begin(function(conn)
      for _, t in ipairs(tables) do
        conn:exec_driver_sql("DROP TABLE IF EXISTS " .. t)
      end
      for _, s in ipairs(ddl) do conn:exec_driver_sql(s) end
    end)
  end
  setup()

  T.test(pfx .. "automap: classes and relationships from foreign keys", function()
    local Base = orm.automap_base()
    Base:prepare(engine, only)
    local names = class_names(Base)
    if db.name == "sqlite" then
      T.eq(names, {"am_address", "am_user", "am_keyword", "am_node",
                   "am_note"})
    end
    table.sort(names)
    T.eq(names, {"am_address", "am_keyword", "am_node", "am_note", "am_user"})
    local C = Base.classes
    T.eq(C.am_log, nil)          -- no primary key
    T.eq(C.am_user_keyword, nil) -- association table
    T.eq(orm.inspect(C.am_address).keys, {"id", "email", "user_id"})
    T.eq(rels_of(C.am_address), {
      {"am_user", "manytoone", "am_user", "am_address_collection", plain,
       false}})
    T.eq(rels_of(C.am_user), {
      {"am_address_collection", "onetomany", "am_address", "am_user", all,
       true},
      {"am_keyword_collection", "manytomany", "am_keyword",
       "am_user_collection", plain, false, "am_user_keyword"},
      {"am_note_collection", "onetomany", "am_note", "am_user", plain, true}})
    T.eq(rels_of(C.am_keyword), {
      {"am_user_collection", "manytomany", "am_user", "am_keyword_collection",
       plain, false, "am_user_keyword"}})
    T.eq(rels_of(C.am_node), {
      {"am_node", "manytoone", "am_node", "am_node_collection", plain, false},
      {"am_node_collection", "onetomany", "am_node", "am_node", plain, false}})
    T.eq(rels_of(C.am_note), {
      {"am_user", "manytoone", "am_user", "am_note_collection", plain, false}})
  end)

  T.test(pfx .. "automap: naming hooks", function()
    local Base = orm.automap_base()
    Base:prepare(opts{
      autoload_with = engine,
      classname_for_table = function(base, tablename, tbl)
        T.ok(base == Base)
        T.eq(tbl.name, tablename)
        return (tablename:gsub("^am_", ""):gsub("_(%l)", string.upper)
                  :gsub("^%l", string.upper))
      end,
      name_for_scalar_relationship = function(base, local_cls, referred_cls,
                                              constraint)
        T.eq(constraint.referred_table.name, referred_cls.__table__.name)
        return referred_cls.__name__:lower() .. "_ref"
      end,
      name_for_collection_relationship = function(base, local_cls,
                                                  referred_cls, constraint)
        return referred_cls.__name__:lower() .. "s"
      end,
    })
    local names = class_names(Base)
    table.sort(names)
    T.eq(names, {"Address", "Keyword", "Node", "Note", "User"})
    local C = Base.classes
    T.eq(rels_of(C.User), {
      {"addresss", "onetomany", "Address", "user_ref", all, true},
      {"keywords", "manytomany", "Keyword", "users", plain, false,
       "am_user_keyword"},
      {"notes", "onetomany", "Note", "user_ref", plain, true}})
    T.eq(rels_of(C.Node), {
      {"node_ref", "manytoone", "Node", "nodes", plain, false},
      {"nodes", "onetomany", "Node", "node_ref", plain, false}})

    -- objects made and flushed through the generated relationships
    local s <close> = orm.Session(engine)
    local u = C.User{id = 1, name = "ann"}
    u.addresss:append(C.Address{id = 1, email = "a@x"})
    u.keywords:append(C.Keyword{id = 1, word = "k1"})
    local n1 = C.Node{id = 1}
    local n2 = C.Node{id = 2, node_ref = n1}
    s:add_all({u, n1, n2})
    s:commit()
    local s2 <close> = orm.Session(engine)
    T.eq(s2:get(C.Address, 1).user_id, 1)
    T.eq(s2:get(C.Node, 2).parent_id, 1)
    T.eq(ids(s2:get(C.User, 1).keywords, "word"), {"k1"})
    T.eq(ids(s2:get(C.Keyword, 1).users, "name"), {"ann"})
    T.eq(ids(s2:get(C.Node, 1).nodes, "id"), {2})
  end)
  setup()

  T.test(pfx .. "automap: a pre-declared class is completed", function()
    local Base = orm.automap_base()
    local User = Base:class "User" {
      __tablename__ = "am_user",
      user_name = Column("name", String),
      am_address_collection = orm.relationship("am_address",
                                               {collection_class = "set"}),
      greet = function(self) return "hi " .. self.user_name end,
    }
    T.raises("UnmappedError", User, {})
    Base:prepare(opts{autoload_with = engine})
    local names = class_names(Base)
    table.sort(names)
    T.eq(names, {"am_address", "am_keyword", "am_node", "am_note"})
    T.eq(Base.classes.User, nil)  -- SQLAlchemy lists only what it made
    T.eq(orm.inspect(User).class, User)
    local keys = orm.inspect(User).keys
    table.sort(keys)
    T.eq(keys, {"id", "user_name"})
    T.eq(rels_of(User), {
      {"am_address_collection", "onetomany", "am_address", "user", plain,
       false},
      {"am_keyword_collection", "manytomany", "am_keyword", "user_collection",
       plain, false, "am_user_keyword"},
      {"am_note_collection", "onetomany", "am_note", "user", plain, true}})
    T.eq(rels_of(Base.classes.am_address), {
      {"user", "manytoone", "User", nil, plain, false}})
    local s <close> = orm.Session(engine)
    local u = User{id = 7, user_name = "zed"}
    T.eq(u:greet(), "hi zed")
    u.am_address_collection:add(Base.classes.am_address{id = 7, email = "z@x"})
    s:add(u)
    s:commit()
    local s2 <close> = orm.Session(engine)
    local a = s2:get(Base.classes.am_address, 7)
    T.eq(a.user.user_name, "zed")
    T.ok(orm.inspect(a.user).mapper.class == User)
  end)

  T.test(pfx .. "automap: a relationship name taken by a column", function()
    engine:begin(function(conn)
      conn:exec_driver_sql("CREATE TABLE am_artist (id INTEGER PRIMARY KEY)")
      conn:exec_driver_sql("CREATE TABLE am_album (id INTEGER PRIMARY KEY, " ..
        "am_artist INTEGER, FOREIGN KEY(am_artist) REFERENCES am_artist (id))")
    end)
    local Base = orm.automap_base()
    local err = T.raises("ArgumentError", function()
      Base:prepare(engine, {reflection_options = {only = {"am_artist",
                                                          "am_album"}}})
    end)
    T.match(err.message, "when configuring property 'am_artist' on mapped " ..
            "class am_album%->am_album, column 'am_artist' conflicts with " ..
            "property")
    -- the documented way out: a name of one's own for the relationship
    Base = orm.automap_base()
    Base:prepare(engine, {
      reflection_options = {only = {"am_artist", "am_album"}},
      name_for_scalar_relationship = function(base, l, r, constraint)
        local name = r.__name__:lower()
        for _, col in ipairs(l.__table__.c) do
          if col.name == name then return name .. "_ref" end
        end
        return name
      end})
    T.eq(rels_of(Base.classes.am_album), {
      {"am_artist_ref", "manytoone", "am_artist", "am_album_collection",
       plain, false}})
    engine:begin(function(conn)
      conn:exec_driver_sql("DROP TABLE am_album")
      conn:exec_driver_sql("DROP TABLE am_artist")
    end)
  end)

  T.test(pfx .. "automap: generate_relationship may leave one out", function()
    local seen = {}
    local Base = orm.automap_base()
    Base:prepare(opts{autoload_with = engine,
      generate_relationship = function(base, direction, fn, attr, l, r, kw)
        seen[#seen + 1] = direction .. " " .. attr
        if direction == orm.MANYTOMANY then return nil end
        if fn == orm.backref then return orm.backref(attr, kw) end
        return orm.relationship(r.__name__, kw)
      end})
    table.sort(seen)
    T.eq(seen, {"manytomany am_keyword_collection",
                "manytomany am_user_collection",
                "manytoone am_node", "manytoone am_user", "manytoone am_user",
                "onetomany am_address_collection",
                "onetomany am_node_collection",
                "onetomany am_note_collection"})
    T.eq(rels_of(Base.classes.am_keyword), {})
  end)

  T.test(pfx .. "DeferredReflection", function()
    local Base = orm.declarative_base()
    local Reflected = Base:class("Reflected", orm.DeferredReflection) {
      __abstract__ = true}
    local User = Reflected:class "User" {
      __tablename__ = "am_user",
      notes = orm.relationship("Note", {back_populates = "user"}),
    }
    local Note = Base:class("Note", orm.DeferredReflection) {
      __tablename__ = "am_note",
      user = orm.relationship("User", {back_populates = "notes"}),
    }
    local err = T.raises("UnmappedError", User, {})
    T.eq(err.message, "Class User is a subclass of DeferredReflection.  " ..
         "Mappings are not produced until the .prepare() method is called " ..
         "on the class hierarchy.")
    orm.DeferredReflection.prepare(engine)
    T.eq(orm.inspect(User).keys, {"id", "name"})
    T.eq(orm.inspect(Note).keys, {"id", "user_id", "body"})
    local s <close> = orm.Session(engine)
    local u = User{id = 3, name = "cy"}
    u.notes:append(Note{id = 3, body = "n"})
    s:add(u)
    s:commit()
    local s2 <close> = orm.Session(engine)
    T.eq(s2:get(Note, 3).user.name, "cy")
  end)

  T.test(pfx .. "DeferredReflection: declared columns, secondary, scope",
         function()
    engine:begin(function(conn)
      conn:exec_driver_sql("DROP TABLE IF EXISTS am_bar")
      conn:exec_driver_sql("DROP TABLE IF EXISTS am_foo")
      conn:exec_driver_sql("CREATE TABLE am_foo (id INTEGER PRIMARY KEY, " ..
                           "v VARCHAR(10))")
      conn:exec_driver_sql("CREATE TABLE am_bar (id INTEGER PRIMARY KEY, " ..
                           "foo_id INTEGER)")
    end)
    local Base = orm.declarative_base()
    local R1 = Base:class("R1", orm.DeferredReflection) {__abstract__ = true}
    local R2 = Base:class("R2", orm.DeferredReflection) {__abstract__ = true}
    -- a foreign key the database lacks, declared on the class, and a
    -- class declared before the one it refers to
    local Bar = R1:class "Bar" {
      __tablename__ = "am_bar",
      foo_id = Column(Integer, ForeignKey("am_foo.id")),
      foo = orm.relationship("Foo"),
    }
    local Foo = R1:class "Foo" {__tablename__ = "am_foo",
                                v = Column(Integer)}
    local User = R2:class "User" {
      __tablename__ = "am_user",
      keywords = orm.relationship("Keyword", {secondary = "am_user_keyword"}),
    }
    local Keyword = R2:class "Keyword" {__tablename__ = "am_keyword"}
    R1:prepare(engine)
    T.raises("UnmappedError", User, {})
    T.eq(tostring(Foo.v.type), "INTEGER") -- the body's type, not VARCHAR
    local s <close> = orm.Session(engine)
    s:add(Bar{id = 1, foo = Foo{id = 4, v = 2}})
    s:commit()
    R2.prepare(engine)
    s:add(User{id = 5, name = "eve", keywords = {Keyword{id = 6, word = "w"}}})
    s:commit()
    local s2 <close> = orm.Session(engine)
    T.eq(s2:get(Bar, 1).foo.id, 4)
    T.eq(ids(s2:get(User, 5).keywords, "word"), {"w"})
    s2:close()
    engine:begin(function(conn)
      conn:exec_driver_sql("DROP TABLE am_bar")
      conn:exec_driver_sql("DROP TABLE am_foo")
    end)
  end)

  engine:begin(function(conn)
    for _, t in ipairs(tables) do
      conn:exec_driver_sql("DROP TABLE IF EXISTS " .. t)
    end
  end)
  engine:dispose()
end

-- Two foreign keys to one table: the second finds both names taken and
-- SQLAlchemy's rules make it the one-to-many side of the first's name,
-- with no error.
T.test("sqlite: automap of two foreign keys to one table", function()
  local e = create_engine("sqlite://")
  e:begin(function(c)
    c:exec_driver_sql("CREATE TABLE person (id INTEGER PRIMARY KEY, " ..
                      "name TEXT)")
    c:exec_driver_sql("CREATE TABLE msg (id INTEGER PRIMARY KEY, " ..
                      "sender_id INTEGER REFERENCES person (id), " ..
                      "recipient_id INTEGER REFERENCES person (id))")
  end)
  local Base = orm.automap_base()
  Base:prepare(e)
  T.eq(rels_of(Base.classes.msg), {
    {"person", "manytoone", "person", "msg_collection", plain, false}})
  T.eq(rels_of(Base.classes.person), {
    {"msg_collection", "onetomany", "msg", "person", plain, false}})
  e:dispose()
end)

-- prepare's schema option reflects another schema's tables
local pg = os.getenv("RETORT_TEST_PG")
if pg and pg ~= "" then
  T.test("postgresql: automap of another schema", function()
    local e = create_engine(pg)
    e:begin(function(c)
      c:exec_driver_sql("DROP SCHEMA IF EXISTS am_s CASCADE")
      c:exec_driver_sql("CREATE SCHEMA am_s")
      c:exec_driver_sql("CREATE TABLE am_s.parent (id INTEGER PRIMARY KEY, " ..
                        "name VARCHAR(20))")
      c:exec_driver_sql("CREATE TABLE am_s.child (id INTEGER PRIMARY KEY, " ..
                        "parent_id INTEGER REFERENCES am_s.parent (id))")
      c:exec_driver_sql("INSERT INTO am_s.parent VALUES (1, 'p')")
      c:exec_driver_sql("INSERT INTO am_s.child VALUES (1, 1), (2, 1)")
    end)
    local Base = orm.automap_base()
    Base:prepare{autoload_with = e, schema = "am_s"}
    local names = class_names(Base)
    table.sort(names)
    T.eq(names, {"child", "parent"})
    T.eq(tostring(select(Base.classes.child)),
         "SELECT am_s.child.id, am_s.child.parent_id \nFROM am_s.child")
    local s <close> = orm.Session(e)
    local p = s:get(Base.classes.parent, 1)
    T.eq(ids(p.child_collection, "id"), {1, 2})
    T.ok(p.child_collection[1].parent == p)
    s:close()
    e:begin(function(c) c:exec_driver_sql("DROP SCHEMA am_s CASCADE") end)
    e:dispose()
  end)
end

T.test("automap: prepare's arguments are checked", function()
  local Base = orm.automap_base()
  T.raises("ArgumentError", function() Base:prepare{autoload_with = 42} end)
  T.raises("ArgumentError", function()
    Base:prepare{classname_for_table = "x"}
  end)
  T.raises("ArgumentError", function()
    orm.DeferredReflection.prepare("sqlite://")
  end)
end)

T.done()
