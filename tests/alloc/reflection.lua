-- Reflection on in-memory SQLite for alloc_fail: the schema (made before
-- the sweep) is read back through the inspector and autoload, and a
-- reflected table is queried.  Reflection writes nothing; check() proves
-- the schema and data are untouched and the engine still works after the
-- failure.
local engine = create_engine("sqlite://")
do
  local c <close> = engine:connect()
  c:exec_driver_sql([[CREATE TABLE parent (id INTEGER PRIMARY KEY,
    name VARCHAR(30) NOT NULL DEFAULT 'x', born DATE, UNIQUE (name))]])
  c:exec_driver_sql([[CREATE TABLE child (id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE,
    score NUMERIC(10, 2), note TEXT)]])
  c:exec_driver_sql("CREATE INDEX ix_child_score ON child (score, note)")
  c:exec_driver_sql("CREATE VIEW v AS SELECT id, name FROM parent")
  c:exec_driver_sql("INSERT INTO parent (id, name) VALUES (1, 'a')")
  c:exec_driver_sql("INSERT INTO child VALUES (1, 1, 2.5, 'n')")
  c:commit()
end

local function run()
  local insp = inspect(engine)
  assert(#insp:get_table_names() == 2)
  assert(#insp:get_view_names() == 1)
  assert(#insp:get_columns("parent") == 3)
  assert(insp:get_pk_constraint("child").constrained_columns[1] == "id")
  assert(#insp:get_foreign_keys("child") == 1)
  assert(#insp:get_indexes("child") == 1)
  insp:get_unique_constraints("parent")
  local md = MetaData()
  md:reflect(engine)
  local child = md.tables.child
  assert(child and #child.columns == 4)
  local c <close> = engine:connect()
  local rows = c:execute(select(child.c.note):where(child.c.parent_id:eq(1)))
    :all()
  assert(#rows == 1 and rows[1].note == "n")
end

local function check()
  local c <close> = engine:connect()
  local n = c:exec_driver_sql([[SELECT count(*) FROM sqlite_master
    WHERE name IN ('parent', 'child', 'ix_child_score', 'v')]]):scalar()
  assert(n == 4, "schema objects: " .. tostring(n))
  assert(c:exec_driver_sql("SELECT note FROM child"):scalar() == "n")
end

return run, check
