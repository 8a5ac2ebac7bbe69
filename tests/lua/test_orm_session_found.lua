-- Session behaviours that differential fuzzing of operation sequences
-- (tests/oracle/fuzz_session.py) found different from SQLAlchemy 1.4.46,
-- with the statements, states and values SQLAlchemy gives for the same
-- steps on every database.
local T = require "testing"

for _, db in ipairs(T.databases()) do
  local engine = create_engine(db.url)
  local Base = orm.declarative_base()
  local User = Base:class "User" {__tablename__ = "sf_users",
    id = Column(Integer, {primary_key = true}), name = Column(String(30)),
    addresses = relationship("Address", {back_populates = "user",
      cascade = "all, delete-orphan", order_by = "Address.id"})}
  local Address = Base:class "Address" {__tablename__ = "sf_addresses",
    id = Column(Integer, {primary_key = true}),
    user_id = Column(Integer, ForeignKey("sf_users.id")),
    email = Column(String(30)),
    user = relationship("User", {back_populates = "addresses"})}
  Base.metadata:drop_all(engine)
  Base.metadata:create_all(engine)
  local log = T.capture(engine)

  -- refresh() expires first, and its refresh-expire cascade expunges the
  -- pending objects it reaches: the appended address is not inserted and
  -- is transient again (SQLAlchemy: INSERT of the other pending user, the
  -- refresh's SELECT, nothing else)
  T.test(db.name .. ": refresh expunges a pending child of the cascade", function()
    local s <close> = orm.Session(engine)
    local ann = User{name = "ann"}
    s:add(ann)
    s:flush()
    local a = Address{email = "ann@x"}
    ann.addresses:append(a)
    T.eq(orm.inspect(a).pending, true)
    local bob = User{name = "bob"}
    s:add(bob)
    T.clear(log)
    s:refresh(ann)
    T.eq(#log, 2)
    T.match(T.norm(log[1]), "^INSERT INTO sf_users")
    T.match(T.norm(log[2]), "^SELECT sf_users.id, sf_users.name")
    T.eq(orm.inspect(a).transient, true)
    T.eq(#s.new, 0)
    T.eq(#ann.addresses, 0)
    s:rollback()
  end)

  -- expire() does the same
  T.test(db.name .. ": expire expunges a pending child of the cascade", function()
    local s <close> = orm.Session(engine)
    local cy = User{name = "cy"}
    s:add(cy)
    s:commit()
    local a = Address{email = "cy@x"}
    cy.addresses:append(a)
    T.eq(orm.inspect(a).pending, true)
    s:expire(cy)
    T.eq(orm.inspect(a).transient, true)
    T.clear(log)
    s:commit()
    for _, sql in ipairs(log) do
      T.ok(not sql:find("INSERT INTO sf_addresses", 1, true), "no address insert")
    end
  end)

  -- a rollback makes transient every object the transaction inserted,
  -- one expunged since as well (SQLAlchemy: no key, state transient)
  T.test(db.name .. ": rollback makes an expunged inserted object transient", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "dee"}
    s:add(u)
    s:flush()
    T.ok(orm.inspect(u).key ~= nil, "a key after the INSERT")
    s:expunge(u)
    T.eq(orm.inspect(u).detached, true)
    s:rollback()
    T.eq(orm.inspect(u).transient, true)
    T.eq(orm.inspect(u).key, nil)
  end)

  -- the save-update cascade of an append stops at objects the session
  -- holds: an address expunged from the session stays out when another
  -- is appended to the same collection, and is not inserted
  T.test(db.name .. ": append does not take an expunged sibling back", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "eve"}
    s:add(u)
    local a = Address{email = "a@x"}
    u.addresses:append(a)
    s:expunge(a)
    local b = Address{email = "b@x"}
    u.addresses:append(b)
    T.eq(orm.inspect(a).transient, true)
    T.eq(orm.inspect(b).pending, true)
    T.eq(#s.new, 2)
    T.clear(log)
    s:flush()
    local inserts = 0
    for _, sql in ipairs(log) do
      if sql:find("INSERT INTO sf_addresses", 1, true) then inserts = inserts + 1 end
    end
    T.eq(inserts, 1)
    T.eq(orm.inspect(a).transient, true)
    s:rollback()
  end)

  -- a delete-orphan member removed from its collection is still an orphan
  -- after the parent is expired (refresh): the flush deletes it, as
  -- SQLAlchemy does, instead of only unsetting its key
  T.test(db.name .. ": an orphan survives its parent's refresh", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "fay"}
    local a = Address{email = "f@x"}
    u.addresses:append(a)
    s:add(u)
    s:commit()
    u.addresses:remove(a)
    T.clear(log)
    s:refresh(u)
    T.match(T.norm(log[1]), "^DELETE FROM sf_addresses")
    T.eq(orm.inspect(a).deleted, true)
    s:rollback()
  end)

  -- delete() of an object whose row an earlier commit deleted attaches it
  -- again and marks it (no error); the delete cascade attaches and marks
  -- the detached members it reaches too
  T.test(db.name .. ": delete() re-attaches deleted and detached objects", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "gil"}
    s:add(u)
    s:commit()
    s:delete(u)
    s:commit()
    s:delete(u)
    T.eq(#s.deleted, 1)
    s:rollback()
    local v = User{name = "hal"}
    local a = Address{email = "h@x"}
    v.addresses:append(a)
    s:add(v)
    s:commit()
    T.eq(#v.addresses, 1)
    s:expunge(v)
    T.eq(orm.inspect(a).detached, true)
    s:delete(v)
    T.eq(#s.deleted, 2)
    T.eq(orm.inspect(a).persistent, true)
    s:commit()
    T.eq(orm.inspect(a).detached, true)
  end)

  -- an object deleted, then expired, is loaded again by the flush (its
  -- row, then the collection its delete cascades to) before the DELETEs
  T.test(db.name .. ": the flush reloads an expired deleted object", function()
    local s <close> = orm.Session(engine)
    local u = User{name = "ivy"}
    u.addresses:append(Address{email = "i@x"})
    s:add(u)
    s:commit()
    s:delete(u)
    s:expire(u)
    T.clear(log)
    s:flush()
    T.eq(#log, 4)
    T.match(T.norm(log[1]), "^SELECT sf_users.id AS sf_users_id, sf_users.name")
    T.match(T.norm(log[2]), "^SELECT sf_addresses.id AS sf_addresses_id")
    T.match(T.norm(log[3]), "^DELETE FROM sf_addresses")
    T.match(T.norm(log[4]), "^DELETE FROM sf_users")
    T.eq(orm.inspect(u).attrs.name.loaded_value, "ivy")
    s:rollback()
  end)

  -- selectinload asks for every object of the rows, one whose collection
  -- is loaded already too (its collection is left as it is), as
  -- SQLAlchemy's, when some are not loaded
  T.test(db.name .. ": selectin asks for loaded collections too", function()
    local s <close> = orm.Session(engine)
    local u, w = User{name = "jo"}, User{name = "kim"}
    u.addresses:append(Address{email = "j1"})
    w.addresses:append(Address{email = "k1"})
    s:add_all({u, w})
    s:commit()
    T.eq(#u.addresses, 1)
    u.addresses[1].email = "j2"
    T.clear(log)
    local us = s:execute(select(User):where(User.name:in_({"jo", "kim"}))
      :options(selectinload(User.addresses)):order_by(User.id)):unique()
      :scalars():all()
    T.eq(#log, 3) -- the autoflush's UPDATE, the users, the addresses
    T.match(T.norm(log[3]), "IN %(%?, %?%)")
    T.eq(us[1].addresses[1].email, "j2")
    T.eq(us[2].addresses[1].email, "k1")
    s:rollback()
  end)

  Base.metadata:drop_all(engine)
  engine:dispose()
end

T.done()
