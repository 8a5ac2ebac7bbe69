-- Mapped attributes of every type through the ORM's own compiled paths
-- (the flush's INSERT/UPDATE batches, get, lazy loads): values processed
-- by their column's type going in and converted coming out, as through
-- Core statements (test_types.lua).
local T = require "testing"

local UUID = "12345678-1234-5678-1234-56781234abcd"

for _, db in ipairs(T.databases()) do
  local n = db.name .. ": "

  local function setup()
    local e = create_engine(db.url)
    local Base = orm.declarative_base()
    local Doc = Base:class "Doc" {
      __tablename__ = "orm_typed_doc",
      id = Column(Integer, {primary_key = true}),
      body = Column(JSON),
      uid = Column(Uuid),
      price = Column(Numeric(10, 2)),
      ok = Column(Boolean),
      notes = orm.relationship("Note", {order_by = "Note.id"}),
    }
    local Note = Base:class "Note" {
      __tablename__ = "orm_typed_note",
      id = Column(Integer, {primary_key = true}),
      doc_id = Column(ForeignKey("orm_typed_doc.id")),
      meta = Column(JSON),
    }
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    return e, Doc, Note, Base
  end

  T.test(n .. "flush and reload JSON, Uuid, Numeric and Boolean attributes",
         function()
    local e, Doc, Note, Base = setup()
    local s <close> = orm.Session(e)
    -- two rows in one executemany batch, a third alone
    s:add_all{
      Doc{id = 1, body = {tags = {"a", "b"}, n = 1}, uid = UUID,
          price = "2.5", ok = true,
          notes = {Note{meta = {1, 2}}, Note{meta = "text"}}},
      Doc{id = 2, body = {}, ok = false},
    }
    s:commit()
    local d = s:get(Doc, 1)
    T.eq(d.body.tags[2], "b")
    T.eq(d.uid, UUID)
    T.eq(d.price, "2.50")
    T.eq(d.ok, true)
    T.eq(s:get(Doc, 2).ok, false)
    -- the lazy load converts its results too
    T.eq(#d.notes, 2)
    T.eq(d.notes[1].meta[2], 2)
    T.eq(d.notes[2].meta, "text")
    -- an UPDATE of a JSON attribute with a new table
    d.body = {changed = true}
    s:commit()
    T.eq(d.body.changed, true)
    -- what is stored is JSON text, as SQLAlchemy's json.dumps writes it
    local c <close> = e:connect()
    local cast = ({sqlite = "meta || ''", mysql = "CAST(meta AS CHAR)",
                   postgresql = "CAST(meta AS TEXT)"})[db.name]
    local raw = c:exec_driver_sql(
      "SELECT " .. cast .. " FROM orm_typed_note ORDER BY id"):scalars():all()
    T.eq(raw[1], "[1, 2]")
    T.eq(raw[2], '"text"')
    c:close()
    s:close()
    Base.metadata:drop_all(e)
  end)
end

T.done()
