-- MariaDB's reserved words: SQLAlchemy's MySQL dialect quotes by MySQL's
-- list offline and before it connects, and by MariaDB's once the first
-- connection finds a MariaDB server (as does its mariadb dialect).  Words
-- only MariaDB reserves ("offset", "returning", "intersect") would fail
-- unquoted on the server.  Expected SQL text is SQLAlchemy 1.4's (with
-- the qmark placeholders of our MariaDB driver for its %s).
local T = require "testing"
local orm = require "retort.orm"

local function schema()
  local md = MetaData()
  local t = Table("mr_body", md,
    Column("id", Integer, {primary_key = true}),
    Column("admin", Integer),
    Column("offset", Integer),
    Column("returning", String(10)))
  return md, t
end

local MYSQL_TEXT = "SELECT mr_body.id, mr_body.`admin`, mr_body.offset, "
  .. "mr_body.returning \nFROM mr_body \nWHERE mr_body.offset > ?"
local MARIADB_TEXT = "SELECT mr_body.id, mr_body.admin, mr_body.`offset`, "
  .. "mr_body.`returning` \nFROM mr_body \nWHERE mr_body.`offset` > ?"

T.test("offline: mysql quotes by MySQL's list, mariadb by MariaDB's",
       function()
  local _, t = schema()
  local s = select(t):where(t.c.offset:gt(1))
  T.eq(s:compile("mysql").sql, MYSQL_TEXT)
  T.eq(s:compile("mariadb").sql, MARIADB_TEXT)
end)

local url = os.getenv("RETORT_TEST_MYSQL")
if not url or url == "" then
  T.skip("mysql", "RETORT_TEST_MYSQL is not set")
else
  T.test("mysql: a connected engine quotes by MariaDB's list", function()
    local md, t = schema()
    local engine = create_engine(url)
    local s = select(t):where(t.c.offset:gt(1))
    T.eq(s:compile(engine).sql, MYSQL_TEXT, "before it has connected")
    T.eq(engine.dialect.is_mariadb, false)
    local conn <close> = engine:connect()
    T.eq(engine.dialect.is_mariadb, true)
    T.eq(engine.dialect.name, "mysql", "still the mysql dialect")
    T.eq(s:compile(engine).sql, MARIADB_TEXT)
    T.eq(s:compile(conn).sql, MARIADB_TEXT)
    T.eq(update(t):values{offset = t.c.offset + 1}:compile(engine).sql,
         "UPDATE mr_body SET `offset`=(mr_body.`offset` + ?)")
    md:drop_all(conn)
    md:create_all(conn)
    conn:execute(insert(t):values{admin = 1, offset = 2, returning = "r"})
    conn:execute(update(t):values{offset = t.c.offset + 1})
    local row = conn:execute(s):one()
    T.eq({row.id, row.admin, row.offset, row.returning}, {1, 1, 3, "r"})
    conn:rollback()
    md:drop_all(conn)
  end)

  T.test("mysql: a mariadb:// URL quotes by MariaDB's list at once",
         function()
    local _, t = schema()
    local engine = create_engine((url:gsub("^mysql", "mariadb")))
    T.eq(select(t):where(t.c.offset:gt(1)):compile(engine).sql, MARIADB_TEXT)
  end)

  T.test("mysql: the ORM's flush and loads quote by MariaDB's list",
         function()
    local Base = orm.declarative_base()
    local W = Base:class "W" {
      __tablename__ = "mr_w",
      id = Column(Integer, {primary_key = true}),
      offset = Column(Integer),
      intersect = Column(String(10)),
    }
    local engine = create_engine(url)
    Base.metadata:drop_all(engine)
    Base.metadata:create_all(engine)
    local session = orm.Session(engine)
    session:add(W{offset = 3, intersect = "x"})
    session:commit()
    local w = session:query(W):one()
    T.eq({w.offset, w.intersect}, {3, "x"})
    w.offset = 4
    session:commit()
    T.eq(session:query(W):filter(W.offset:eq(4)):count(), 1)
    session:close()
    Base.metadata:drop_all(engine)
  end)
end

T.done()
