-- What a flush does with the values a row gets besides the object's own:
-- Lua-function column defaults (with and without the context argument)
-- and client-side onupdates (functions, plain values) are made before the
-- statement and held by the object afterwards without a SELECT, while SQL
-- expression defaults and onupdates and server-side ones are expired;
-- SQL expressions assigned to attributes of a versioned mapper render in
-- the versioned UPDATE; a bound value (literal, bindparam) assigned to an
-- attribute is sent as a parameter and stays the attribute's value.  The
-- statements, their order and the object states are SQLAlchemy 1.4's for
-- the same steps.  (PostgreSQL: SQLAlchemy 1.4 sends rows whose key the
-- database makes as one executemany with RETURNING, retort one by one;
-- there the INSERTs are checked by their text.)
local T = require "testing"

local function capture(engine)
  local log = {}
  orm.event.listen(engine, "before_cursor_execute",
    function(_, _, sql)
      log[#log + 1] = (sql:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
                          :gsub('[`"]', ""):gsub("%$%d+", "?"))
    end)
  return log
end
local function take(log)
  local out = {}
  for i = 1, #log do out[i] = log[i]; log[i] = nil end
  return out
end
local function unloaded(obj)
  local t = orm.inspect(obj).unloaded
  table.sort(t)
  return table.concat(t, ",")
end

for _, db in ipairs(T.databases()) do
  local pfx = db.name .. ": "
  local pg = db.name == "postgresql"

  -- body(s, log, ...) with the mapping's tables made, dropped whatever
  -- happens
  local function with_tables(Base, body)
    local e = create_engine(db.url)
    Base.metadata:drop_all(e)
    Base.metadata:create_all(e)
    local s = orm.Session(e)
    local ok, err = pcall(body, s, capture(e), e)
    s:close()
    Base.metadata:drop_all(e)
    e:dispose()
    if not ok then error(err, 0) end
  end

  -- the INSERTs of rows whose key the database makes (see the header)
  local function inserts(got, sql, n, returning)
    if pg then
      T.ok(#got >= 1, "inserts run")
      returning = returning or " RETURNING fd_a.id"
      for _, g in ipairs(got) do T.eq(g, sql .. returning) end
    else
      local want = {}
      for i = 1, n do want[i] = sql end
      T.eq(got, want)
    end
  end

  local function defaults_mapping(eager)
    local Base = orm.declarative_base()
    local n = {0}
    local function counter() n[1] = n[1] + 1; return n[1] * 10 end
    local A = Base:class "A" {
      __tablename__ = "fd_a",
      id = Column(Integer, {primary_key = true}),
      name = Column(String(20)),
      f0 = Column(Integer, {default = counter}),
      f1 = Column(String(30), {default = function(ctx)
        return "n-" .. tostring(ctx.current_parameters.name)
      end}),
      sc = Column(Integer, {default = 5}),
      sq = Column(Integer, {default = text("7")}),
      sd = Column(Integer, {server_default = text("8")}),
      ou = Column(Integer, {onupdate = counter}),
      ous = Column(Integer, {onupdate = 42}),
      ouq = Column(Integer, {onupdate = text("99")}),
      sou = Column(Integer, {server_default = text("1"),
                             server_onupdate = FetchedValue()}),
      __mapper_args__ = {eager_defaults = eager},
    }
    return Base, A, n
  end

  T.test(pfx .. "function defaults are prefetched by the INSERT", function()
    local Base, A, n = defaults_mapping()
    with_tables(Base, function(s, log)
      local a = A{name = "x", ou = 0, ous = 0, ouq = 0}
      local b = A{name = "y", ou = 0, ous = 0, ouq = 0}
      s:add_all{a, b}
      take(log)
      s:flush()
      inserts(take(log), "INSERT INTO fd_a (name, f0, f1, sc, sq, ou, ous, " ..
              "ouq) VALUES (?, ?, ?, ?, 7, ?, ?, ?)", 2)
      -- the functions' values and the scalar are the objects'; the SQL
      -- expression and server defaults are not
      T.eq(unloaded(a), "sd,sou,sq")
      T.eq({a.f0, a.f1, a.sc, b.f0, b.f1, b.sc}, {10, "n-x", 5, 20, "n-y", 5})
      T.eq(take(log), {})
      T.eq(n[1], 2)
      T.eq({a.sq, a.sd, a.sou}, {7, 8, 1})
      T.eq(take(log), {"SELECT fd_a.sq AS fd_a_sq, fd_a.sd AS fd_a_sd, " ..
           "fd_a.sou AS fd_a_sou FROM fd_a WHERE fd_a.id = ?"})
      -- the row holds what the object says
      s:expire_all()
      T.eq({a.f0, a.f1, b.f0, b.f1}, {10, "n-x", 20, "n-y"})
    end)
  end)

  T.test(pfx .. "onupdate functions and values are prefetched by the UPDATE",
         function()
    local Base, A, n = defaults_mapping()
    with_tables(Base, function(s, log)
      local a = A{name = "x", ou = 0, ous = 0, ouq = 0}
      local b = A{name = "y", ou = 0, ous = 0, ouq = 0}
      s:add_all{a, b}
      s:flush()
      take(log)
      a.name = "z"
      s:flush()
      T.eq(take(log), {"UPDATE fd_a SET name=?, ou=?, ous=?, ouq=99 " ..
                       "WHERE fd_a.id = ?"})
      T.eq(unloaded(a), "ouq,sd,sou,sq")
      T.eq({a.ou, a.ous, a.f0}, {30, 42, 10})
      T.eq(take(log), {})
      T.eq({a.ouq, a.sq, a.sd, a.sou}, {99, 7, 8, 1})
      T.eq(take(log), {"SELECT fd_a.sq AS fd_a_sq, fd_a.sd AS fd_a_sd, " ..
           "fd_a.ouq AS fd_a_ouq, fd_a.sou AS fd_a_sou FROM fd_a " ..
           "WHERE fd_a.id = ?"})
      -- rows alike go as one executemany, the function called per row;
      -- as in SQLAlchemy 1.4, every object holds the first row's values
      a.name, b.name = "q", "r"
      s:flush()
      T.eq(take(log), {"UPDATE fd_a SET name=?, ou=?, ous=?, ouq=99 " ..
                       "WHERE fd_a.id = ?"})
      T.eq({a.ou, b.ou, n[1]}, {40, 40, 5})
      T.eq(unloaded(a), "ouq,sou")
      T.eq(unloaded(b), "ouq,sd,sou,sq")
      s:expire_all()
      T.eq({a.ou, a.ous, b.ou, b.ous}, {40, 42, 50, 42})
      -- an attribute the change sets itself takes no onupdate
      a.ou = 7
      s:flush()
      T.eq(a.ou, 7)
      s:expire_all()
      T.eq({a.ou, n[1]}, {7, 5})
    end)
  end)

  T.test(pfx .. "eager_defaults: what is read back and what expires",
         function()
    local Base, A, n = defaults_mapping(true)
    with_tables(Base, function(s, log)
      local a = A{name = "x", ou = 0, ous = 0, ouq = 0}
      local b = A{name = "y", ou = 0, ous = 0, ouq = 0}
      s:add_all{a, b}
      take(log)
      s:flush()
      local ins = "INSERT INTO fd_a (name, f0, f1, sc, sq, ou, ous, ouq) " ..
                  "VALUES (?, ?, ?, ?, 7, ?, ?, ?)"
      local sel_srv = "SELECT fd_a.sd AS fd_a_sd, fd_a.sou AS fd_a_sou " ..
                      "FROM fd_a WHERE fd_a.id = ?"
      local sel_sou = "SELECT fd_a.sou AS fd_a_sou FROM fd_a WHERE fd_a.id = ?"
      local upd = "UPDATE fd_a SET name=?, ou=?, ous=?, ouq=99 " ..
                  "WHERE fd_a.id = ?"
      -- PostgreSQL returns the server-side values and the SQL expressions'
      -- (RETURNING), the others read the server-side ones (SELECT) and
      -- expire the expressions'
      if pg then
        inserts(take(log), ins, 2, " RETURNING fd_a.id, fd_a.sq, fd_a.sd, " ..
                "fd_a.sou")
        T.eq(unloaded(a), "")
      else
        T.eq(take(log), {ins, ins, sel_srv, sel_srv})
        T.eq(unloaded(a), "sq")
      end
      T.eq({a.f0, a.sd, a.sou, a.sq}, {10, 8, 1, 7})
      take(log)
      a.name = "z"
      s:flush()
      if pg then
        T.eq(take(log), {upd .. " RETURNING fd_a.ouq, fd_a.sou"})
        T.eq(unloaded(a), "")
      else
        T.eq(take(log), {upd, sel_sou})
        T.eq(unloaded(a), "ouq")
      end
      T.eq({a.ou, a.ous, a.sou}, {30, 42, 1})
      take(log)
      T.eq(a.ouq, 99)
      T.eq(take(log), pg and {} or
           {"SELECT fd_a.ouq AS fd_a_ouq FROM fd_a WHERE fd_a.id = ?"})
      -- rows that leave a server_onupdate to the database go one by one:
      -- each object holds its own onupdate values
      a.name, b.name = "q", "r"
      s:flush()
      if pg then
        T.eq(take(log), {upd .. " RETURNING fd_a.ouq, fd_a.sou",
                         upd .. " RETURNING fd_a.ouq, fd_a.sou"})
      else
        T.eq(take(log), {upd, upd, sel_sou, sel_sou})
      end
      T.eq({a.ou, b.ou, n[1]}, {40, 50, 5})
      T.eq(unloaded(a), pg and "" or "ouq")
      T.eq(b.ouq, 99)
    end)
  end)

  T.test(pfx .. "function defaults and onupdates of joined tables",
         function()
    local Base = orm.declarative_base()
    local n = 0
    local function counter() n = n + 1; return n end
    local P = Base:class "P" {
      __tablename__ = "fd_p",
      id = Column(Integer, {primary_key = true}),
      type = Column(String(10)),
      pf = Column(Integer, {default = counter}),
      pou = Column(Integer, {onupdate = counter}),
      name = Column(String(10)),
      __mapper_args__ = {polymorphic_on = "type", polymorphic_identity = "p"},
    }
    local Q = P:class "Q" {
      __tablename__ = "fd_q",
      id = Column(ForeignKey("fd_p.id"), {primary_key = true}),
      qf = Column(Integer, {default = counter}),
      qou = Column(Integer, {onupdate = function() return 100 + n end}),
      extra = Column(String(10)),
      __mapper_args__ = {polymorphic_identity = "q"},
    }
    with_tables(Base, function(s, log)
      local q = Q{name = "a", extra = "x", pou = 0, qou = 0}
      s:add(q)
      take(log)
      s:flush()
      local got = take(log)
      got[1] = got[1]:gsub(" RETURNING fd_p.id$", "")
      T.eq(got, {"INSERT INTO fd_p (type, pf, pou, name) VALUES (?, ?, ?, ?)",
                 "INSERT INTO fd_q (id, qf, qou, extra) VALUES (?, ?, ?, ?)"})
      T.eq({unloaded(q), q.pf, q.qf}, {"", 1, 2})
      -- only the table the change is in gets its onupdates
      q.extra = "y"
      s:flush()
      T.eq(take(log), {"UPDATE fd_q SET qou=?, extra=? WHERE fd_q.id = ?"})
      T.eq({unloaded(q), q.qou, q.pou}, {"", 102, 0})
      q.name, q.extra = "b", "z"
      s:flush()
      T.eq(take(log), {"UPDATE fd_p SET pou=?, name=? WHERE fd_p.id = ?",
                       "UPDATE fd_q SET qou=?, extra=? WHERE fd_q.id = ?"})
      T.eq({unloaded(q), q.qou, q.pou}, {"", 103, 3})
      T.eq(take(log), {})
      s:expire_all()
      T.eq({q.pf, q.qf, q.pou, q.qou}, {1, 2, 3, 103})
    end)
  end)

  T.test(pfx .. "a context-sensitive default and onupdate", function()
    local Base = orm.declarative_base()
    -- (the documentation's counter + 12)
    local function plus12(ctx) return ctx.current_parameters.counter + 12 end
    local C12 = Base:class "C12" {
      __tablename__ = "fd_c",
      id = Column(Integer, {primary_key = true}),
      counter = Column(Integer),
      plus = Column(Integer, {default = plus12, onupdate = plus12}),
      name = Column(String(10)),
    }
    with_tables(Base, function(s, log)
      local c = C12{counter = 5, name = "a"}
      s:add(c)
      s:flush()
      take(log)
      T.eq({c.plus, unloaded(c)}, {17, ""})
      c.counter = 10
      s:flush()
      T.eq(take(log), {"UPDATE fd_c SET counter=?, plus=? WHERE fd_c.id = ?"})
      T.eq({c.plus, unloaded(c)}, {22, ""})
      T.eq(take(log), {})
      -- without a counter among the UPDATE's values the function fails:
      -- nothing is written, and the object keeps its values
      c.name = "b"
      T.ok(not pcall(s.flush, s), "the flush fails")
      s:rollback()
      T.eq({c.counter, c.plus, c.name}, {10, 22, "b"})
    end)
  end)

  T.test(pfx .. "a key made by a function default", function()
    local Base = orm.declarative_base()
    local n = 0
    local K = Base:class "K" {
      __tablename__ = "fd_k",
      id = Column(String(20), {primary_key = true,
                               default = function() n = n + 1; return "k" .. n end}),
      name = Column(String(20)),
    }
    with_tables(Base, function(s, log)
      local a, b, c = K{name = "x"}, K{name = "y"}, K{id = "z9", name = "z"}
      s:add_all{a, b, c}
      take(log)
      s:flush()
      local got = take(log)
      for _, g in ipairs(got) do
        T.eq(g, "INSERT INTO fd_k (id, name) VALUES (?, ?)")
      end
      if not pg then T.eq(#got, 3) end
      T.eq({a.id, b.id, c.id}, {"k1", "k2", "z9"})
      T.eq(orm.inspect(a).identity, {"k1"})
      T.eq(unloaded(a), "")
      T.ok(s:get(K, "k2") == b, "identity map")
      T.eq(take(log), {})
      s:expire_all()
      T.eq(b.name, "y")
    end)
  end)

  local function versioned()
    local Base = orm.declarative_base()
    local V = Base:class "V" {
      __tablename__ = "fd_v",
      id = Column(Integer, {primary_key = true}),
      value = Column(Integer),
      ts = Column(String(40)),
      version = Column(Integer, {nullable = false}),
      __mapper_args__ = {version_id_col = "version"},
    }
    return Base, V
  end

  T.test(pfx .. "SQL expressions in a versioned UPDATE", function()
    local Base, V = versioned()
    with_tables(Base, function(s, log)
      local v = V{id = 1, value = 5, ts = "s"}
      s:add(v)
      s:flush()
      take(log)
      v.value = V.value + 1
      s:flush()
      T.eq(take(log), {"UPDATE fd_v SET value=(fd_v.value + ?), version=? " ..
                       "WHERE fd_v.id = ? AND fd_v.version = ?"})
      T.eq(unloaded(v), "value")
      T.eq(v.version, 2)
      T.eq(take(log), {})
      T.eq(v.value, 6)
      T.eq(take(log), {"SELECT fd_v.value AS fd_v_value FROM fd_v " ..
                       "WHERE fd_v.id = ?"})
      v.value, v.ts = literal_column("10"), "a"
      s:flush()
      T.eq(take(log), {"UPDATE fd_v SET value=10, ts=?, version=? " ..
                       "WHERE fd_v.id = ? AND fd_v.version = ?"})
      T.eq(unloaded(v), "value")
      T.eq({v.value, v.ts, v.version}, {10, "a", 3})
      v.ts = func.lower("ABC")
      s:flush()
      take(log)
      T.eq(unloaded(v), "ts")
      T.eq({v.ts, v.version}, {"abc", 4})
      -- an expired version loads before the UPDATE that matches it
      s:expire(v, {"version"})
      take(log)
      v.value = V.value * 2
      s:flush()
      T.eq(take(log), {
        "SELECT fd_v.version AS fd_v_version FROM fd_v WHERE fd_v.id = ?",
        "UPDATE fd_v SET value=(fd_v.value * ?), version=? " ..
        "WHERE fd_v.id = ? AND fd_v.version = ?"})
      T.eq({v.value, v.version}, {20, 5})
      s:commit()
    end)
  end)

  T.test(pfx .. "a lost versioned UPDATE with an expression", function()
    local Base, V = versioned()
    with_tables(Base, function(s, log, e)
      local v = V{id = 1, value = 5, ts = "s"}
      s:add(v)
      s:commit()
      T.eq(v.version, 1)
      local c = e:connect()
      c:execute(text("UPDATE fd_v SET version = 9 WHERE id = 1"))
      c:commit()
      c:close()
      v.value = V.value + 1
      T.raises("StaleDataError", function() s:flush() end)
      s:rollback()
      take(log)
      T.eq({v.value, v.version}, {5, 9})
    end)
  end)

  T.test(pfx .. "a custom version_id_generator", function()
    local Base = orm.declarative_base()
    local n, seen = 0, {}
    local G = Base:class "G" {
      __tablename__ = "fd_g",
      id = Column(Integer, {primary_key = true}),
      value = Column(Integer),
      ver = Column(String(40), {nullable = false}),
      __mapper_args__ = {version_id_col = "ver",
                         version_id_generator = function(v)
                           n = n + 1
                           seen[n] = v == nil and "nil" or v
                           return "g" .. n
                         end},
    }
    with_tables(Base, function(s, log)
      -- the INSERT takes the generator's first version, not one given
      local g = G{id = 1, value = 1, ver = "given"}
      s:add(g)
      take(log)
      s:flush()
      T.eq(take(log), {"INSERT INTO fd_g (id, value, ver) VALUES (?, ?, ?)"})
      T.eq({g.ver, unloaded(g)}, {"g1", ""})
      g.value = 2
      s:flush()
      T.eq(take(log), {"UPDATE fd_g SET value=?, ver=? " ..
                       "WHERE fd_g.id = ? AND fd_g.ver = ?"})
      T.eq(g.ver, "g2")
      g.value = G.value + 5
      s:flush()
      T.eq(take(log), {"UPDATE fd_g SET value=(fd_g.value + ?), ver=? " ..
                       "WHERE fd_g.id = ? AND fd_g.ver = ?"})
      T.eq({g.ver, unloaded(g)}, {"g3", "value"})
      T.eq(g.value, 7)
      take(log)
      -- a version set by hand is the UPDATE's own
      g.ver = "manual"
      s:flush()
      T.eq(take(log), {"UPDATE fd_g SET ver=? WHERE fd_g.id = ? AND " ..
                       "fd_g.ver = ?"})
      T.eq({g.ver, n}, {"manual", 3})
      T.eq(seen, {"nil", "g1", "g2"})
      s:delete(g)
      s:flush()
      T.eq(take(log), {"DELETE FROM fd_g WHERE fd_g.id = ? AND fd_g.ver = ?"})
      T.raises("ArgumentError", function()
        orm.declarative_base():class "Bad" {
          __tablename__ = "fd_bad",
          id = Column(Integer, {primary_key = true}),
          ver = Column(Integer),
          __mapper_args__ = {version_id_col = "ver", version_id_generator = 5},
        }
      end)
    end)
  end)

  T.test(pfx .. "version_id_generator=false: the database's versions",
         function()
    local Base = orm.declarative_base()
    local F = Base:class "F" {
      __tablename__ = "fd_f",
      id = Column(Integer, {primary_key = true}),
      value = Column(Integer),
      ver = Column(Integer, {nullable = false, server_default = text("1")}),
      __mapper_args__ = {version_id_col = "ver", version_id_generator = false},
    }
    local F2 = Base:class "F2" {
      __tablename__ = "fd_f2",
      id = Column(Integer, {primary_key = true}),
      value = Column(Integer),
      ver = Column(Integer, {nullable = false, server_default = text("1"),
                             server_onupdate = FetchedValue()}),
      __mapper_args__ = {version_id_col = "ver", version_id_generator = false},
    }
    local RET = pg and " RETURNING fd_f.ver" or ""
    with_tables(Base, function(s, log)
      local f = F{id = 1, value = 1}
      s:add(f)
      take(log)
      -- the version is read back by the flush
      s:flush()
      T.eq(take(log), {"INSERT INTO fd_f (id, value) VALUES (?, ?)",
                       "SELECT fd_f.ver AS fd_f_ver FROM fd_f " ..
                       "WHERE fd_f.id = ?"})
      T.eq({f.ver, unloaded(f)}, {1, ""})
      -- not incremented: matched, and (PostgreSQL) returned
      f.value = 2
      s:flush()
      T.eq(take(log), {"UPDATE fd_f SET value=? WHERE fd_f.id = ? AND " ..
                       "fd_f.ver = ?" .. RET})
      T.eq({f.ver, unloaded(f)}, {1, ""})
      f.value, f.ver = 3, 7
      s:flush()
      T.eq(take(log), {"UPDATE fd_f SET value=?, ver=? WHERE fd_f.id = ? " ..
                       "AND fd_f.ver = ?"})
      T.eq(f.ver, 7)
      f.value = F.value + 1
      s:flush()
      T.eq(take(log), {"UPDATE fd_f SET value=(fd_f.value + ?) " ..
                       "WHERE fd_f.id = ? AND fd_f.ver = ?" .. RET})
      T.eq({f.ver, unloaded(f)}, {7, "value"})
      T.eq(f.value, 4)
      take(log)
      s:delete(f)
      s:flush()
      T.eq(take(log), {"DELETE FROM fd_f WHERE fd_f.id = ? AND fd_f.ver = ?"})
      -- a server_onupdate version: read after the UPDATEs (PostgreSQL:
      -- returned by each)
      local a, b = F2{id = 1, value = 1}, F2{id = 2, value = 1}
      s:add_all{a, b}
      s:flush()
      take(log)
      a.value, b.value = 2, 2
      s:flush()
      local upd = "UPDATE fd_f2 SET value=? WHERE fd_f2.id = ? AND " ..
                  "fd_f2.ver = ?"
      local sel = "SELECT fd_f2.ver AS fd_f2_ver FROM fd_f2 WHERE fd_f2.id = ?"
      if pg then
        T.eq(take(log), {upd .. " RETURNING fd_f2.ver",
                         upd .. " RETURNING fd_f2.ver"})
      else
        T.eq(take(log), {upd, upd, sel, sel})
      end
      T.eq({a.ver, unloaded(a)}, {1, ""})
      T.eq(take(log), {})
    end)
  end)

  T.test(pfx .. "bound values assigned to attributes stay as they are",
         function()
    local Base = orm.declarative_base()
    local W = Base:class "W" {
      __tablename__ = "fd_l",
      id = Column(Integer, {primary_key = true}),
      value = Column(Integer),
      name = Column(String(20)),
    }
    with_tables(Base, function(s, log, e)
      local lit = literal(5)
      local w = W{id = 1, value = lit, name = "a"}
      s:add(w)
      take(log)
      s:flush()
      T.eq(take(log), {"INSERT INTO fd_l (id, value, name) VALUES (?, ?, ?)"})
      -- the attribute holds the bind object, no SELECT
      T.eq(unloaded(w), "")
      T.ok(rawequal(w.value, lit), "the literal itself")
      T.eq(take(log), {})
      local bp = bindparam("zz", 9)
      w.value = bp
      s:flush()
      T.eq(take(log), {"UPDATE fd_l SET value=? WHERE fd_l.id = ?"})
      T.eq(unloaded(w), "")
      T.ok(rawequal(w.value, bp), "the bindparam itself")
      T.eq(tostring(w.value), ":zz")
      T.eq(take(log), {})
      -- with another SQL expression: that one is expired, the bind not
      w.value, w.name = literal(12), func.upper("b")
      s:flush()
      T.eq(take(log), {"UPDATE fd_l SET value=?, name=upper(?) " ..
                       "WHERE fd_l.id = ?"})
      T.eq(unloaded(w), "name")
      s:commit()
      local c = e:connect()
      local row = c:execute(text("SELECT value, name FROM fd_l")):first()
      c:close()
      T.eq({row[1], row[2]}, {12, "B"})
    end)
  end)
end

T.done()
