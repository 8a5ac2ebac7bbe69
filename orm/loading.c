/*
** orm/loading.c -- building instances straight from a Result's cursor.
**
** C.load (orm/lorm.c) makes instances from Row tables; the loaders here
** read the rows of a plain Result column by column instead, so loading
** objects makes no Row table per row: each row becomes its object (found
** in the identity map or made) with its values moved from the cursor
** into the object's user values.  The rules are C.load's: the Lua side
** (orm/loading.lua, orm/strategies.lua) uses these whenever the rows are
** not needed for anything else (joined eager loading reads them again,
** and so do listeners of the load and refresh events, which go through
** C.load).
*/
#include "orm/loading.h"

#include <limits.h>

/* A long load pauses the collector for its rest: every object made stays
** reachable from the output list, so a cycle running meanwhile only marks
** it again and again.  But restarting the collector clears its debt,
** which starts a whole cycle at once, so a load pauses it only once it
** has grown the heap by as much as the heap held when it began (asked
** every GC_FREE_ROWS rows): a smaller load mostly fits in the collector's
** headroom, and left alone costs no cycle.  (callgrind, timed parts:
** rel_selectin -5.3% at 1000 parents, -11% at 300; rel_joined -1.6% at
** 1000, -12.4% at 300; orm_load_full at 20000 and 100000 rows unchanged,
** where never pausing cost +8.5% at 100000.) */
#define GC_FREE_ROWS 1024

/* Whether a load that began with kb KB in the heap has grown it enough
** to pause the collector. */
static int load_grew(lua_State *L, int kb) {
  return lua_gc(L, LUA_GCCOUNT) - kb > kb;
}

/* one entity read from each row */
typedef struct spec {
  int cls, mt, idmap, out; /* stack indices of the class, its instances'
                           ** metatable, the identity map, the output */
  int nattrs, npk, populate, discard;
  lua_Integer outn; /* entries in out so far */
  int colpos[256];  /* 0-based result columns, -1: not selected */
  int pkpos[16];
} spec;

typedef struct loadjob {
  lresult *res;
  lua_Integer sid;
  lua_Integer nrows; /* rows read so far */
  lua_Integer max;   /* rows to read at most, 0: all; -1: at the end */
  int gaps;          /* a row without a key appends false */
  int keycol, keys;  /* the column (-1: none) and list of C.load_result's
                     ** keys */
  int top;           /* the stack top the loop keeps */
  int nspec;
  spec *specs;
} loadjob;

/* Push the row's identity key, and below it (npk > 1) the key's values;
** 0 (nothing pushed) when a key column is NULL. */
static int push_key(lua_State *L, lresult *res, const spec *e) {
  int base = lua_gettop(L), k;
  luaL_Buffer b;
  if (e->npk == 1) {
    rt_lua_rowsource_push(L, res, e->pkpos[0]);
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);
    return 0;
  }
  for (k = 0; k < e->npk; k++) {
    rt_lua_rowsource_push(L, res, e->pkpos[k]);
    if (lua_isnil(L, -1)) {
      lua_settop(L, base);
      return 0;
    }
  }
  /* the same key as C.rowkey makes */
  luaL_buffinit(L, &b);
  for (k = 0; k < e->npk; k++) {
    if (k) luaL_addchar(&b, '\x1f');
    if (lua_type(L, base + 1 + k) == LUA_TSTRING) luaL_addchar(&b, 's');
    lua_pushvalue(L, base + 1 + k);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

/* The object at obj was in the identity map: fill what C.load fills. */
static void refill(lua_State *L, lresult *res, const spec *e, int obj) {
  linst *o = lua_touserdata(L, obj);
  int n = e->nattrs < o->nattrs ? e->nattrs : o->nattrs, i;
  for (i = 0; i < n; i++) {
    if (e->colpos[i] < 0 || ((o->attr[i] & A_MODIFIED) && !e->discard))
      continue;
    if ((o->attr[i] & A_LOADED) && !e->populate) continue;
    rt_lua_rowsource_push(L, res, e->colpos[i]);
    lua_setiuservalue(L, obj, UV_VALUES + i);
    o->attr[i] |= A_LOADED;
  }
  if (e->discard) {
    /* populate_existing: the row's state is the object's now, its pending
    ** changes discarded (as SQLAlchemy commits it all) */
    for (i = 0; i < o->nattrs; i++) o->attr[i] &= (unsigned char)~A_MODIFIED;
    o->flags &= (unsigned char)~O_MODIFIED;
    rt_orm_clear_committed(L, obj, o);
  }
}

/* A new persistent object from the row, its key at `key` (and the key's
** values below it for a composite key), or the integer *ik (key unused),
** entered in the identity map. */
static void make(lua_State *L, const loadjob *j, const spec *e, int key,
                 const int64_t *ik) {
  linst *o = rt_orm_newinst(L, e->nattrs);
  int obj = lua_gettop(L), i;
  lua_pushvalue(L, e->mt);
  lua_setmetatable(L, obj);
  lua_pushvalue(L, e->cls);
  lua_setiuservalue(L, obj, UV_CLASS);
  if (ik)
    lua_pushinteger(L, (lua_Integer)*ik);
  else if (e->npk == 1)
    lua_pushvalue(L, key);
  else {
    /* a composite identity is kept as the list of its values */
    lua_createtable(L, e->npk, 0);
    for (i = 0; i < e->npk; i++) {
      lua_pushvalue(L, key - e->npk + i);
      lua_rawseti(L, -2, i + 1);
    }
  }
  lua_setiuservalue(L, obj, UV_IDENTITY);
  for (i = 0; i < e->nattrs; i++) {
    if (e->colpos[i] < 0) continue;
    /* the key is the column's value, read once */
    if (e->npk == 1 && e->colpos[i] == e->pkpos[0]) {
      if (ik)
        lua_pushinteger(L, (lua_Integer)*ik);
      else
        lua_pushvalue(L, key);
    } else
      rt_lua_rowsource_push(L, j->res, e->colpos[i]);
    lua_setiuservalue(L, obj, UV_VALUES + i);
    o->attr[i] = A_LOADED;
  }
  o->lifecycle = S_PERSISTENT;
  o->session = j->sid;
  if (ik) {
    lua_pushvalue(L, obj);
    lua_rawseti(L, e->idmap, (lua_Integer)*ik);
  } else {
    lua_pushvalue(L, key);
    lua_pushvalue(L, obj);
    lua_rawset(L, e->idmap);
  }
}

/* The object of entity e in a row whose key is the integer k (most
** keys), found in the identity map or made, pushed alone; 1 (found) or
** 2 (made now). */
static int find_int_object(lua_State *L, const loadjob *j, spec *e, int64_t k) {
  if (lua_rawgeti(L, e->idmap, (lua_Integer)k) != LUA_TNIL) {
    refill(L, j->res, e, lua_gettop(L));
    return 1;
  }
  lua_pop(L, 1);
  make(L, j, e, 0, &k);
  return 2;
}

/* Push the object of entity e in the row (found in the identity map or
** made), and below it (a single key) its key; 0, nothing pushed, when the
** row has none, else 1 (found) or 2 (made now). */
static int find_object(lua_State *L, const loadjob *j, spec *e) {
  int top = lua_gettop(L), key, made = 1;
  int64_t k;
  if (e->npk == 1 && rt_lua_rowsource_int(j->res, e->pkpos[0], &k)) {
    /* an integer key (most keys): the identity map read by it, the key
    ** pushed only for what follows */
    lua_pushinteger(L, (lua_Integer)k);
    return find_int_object(L, j, e, k);
  }
  if (!push_key(L, j->res, e)) return 0;
  key = lua_gettop(L);
  lua_pushvalue(L, key);
  if (lua_rawget(L, e->idmap) != LUA_TNIL)
    refill(L, j->res, e, key + 1);
  else {
    lua_pop(L, 1);
    make(L, j, e, key, NULL);
    made = 2;
  }
  if (e->npk != 1) { /* (the key's values and the key dropped) */
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
  }
  return made;
}

/* The row's object of entity e appended to its output (or false, with
** gaps, when the row has no key: an outer join's empty side). */
static void load_entity(lua_State *L, loadjob *j, spec *e) {
  int64_t k;
  /* an integer key: no Lua value of it below the object (none needed) */
  if (e->npk == 1 && rt_lua_rowsource_int(j->res, e->pkpos[0], &k))
    find_int_object(L, j, e, k);
  else if (!find_object(L, j, e)) {
    if (j->gaps) {
      lua_pushboolean(L, 0);
      lua_rawseti(L, e->out, ++e->outn);
    }
    return;
  }
  lua_rawseti(L, e->out, ++e->outn);
  if (j->keycol >= 0) {
    rt_lua_rowsource_push(L, j->res, j->keycol);
    lua_rawseti(L, j->keys, e->outn);
  }
}

/* Read rows until j->max (or the end), `limit` of them at most (< 0: no
** limit); j->max becomes -1 at the end of the rows. */
static void load_rows(lua_State *L, loadjob *j, lua_Integer limit) {
  int k;
  luaL_checkstack(L, 24, "loading rows");
  while ((j->max == 0 || j->nrows < j->max) && limit-- != 0) {
    if (!rt_lua_rowsource_next(L, j->res)) {
      j->max = -1;
      return;
    }
    j->nrows++;
    for (k = 0; k < j->nspec; k++) {
      load_entity(L, j, &j->specs[k]);
      if (lua_gettop(L) != j->top) lua_settop(L, j->top);
    }
  }
}

/* the rest of a long load, run protected while the collector pauses: its
** arguments are the caller's stack (so its indices hold), then the job */
static int load_rest(lua_State *L) {
  loadjob *j = lua_touserdata(L, -1);
  lua_settop(L, j->top);
  load_rows(L, j, -1);
  return 0;
}

/* Whether rows remain for j to read. */
static int rows_left(const loadjob *j) {
  return j->max >= 0 && (j->max == 0 || j->nrows < j->max);
}

static void run_job(lua_State *L, loadjob *j) {
  int kb = lua_gc(L, LUA_GCCOUNT);
  lua_settop(L, j->top);
  do {
    load_rows(L, j, GC_FREE_ROWS);
  } while (rows_left(j) && !load_grew(L, kb));
  if (rows_left(j)) {
    int running = lua_gc(L, LUA_GCISRUNNING), rc, i;
    luaL_checkstack(L, j->top + 2, "loading rows");
    lua_pushcfunction(L, load_rest);
    for (i = 1; i <= j->top; i++) lua_pushvalue(L, i);
    lua_pushlightuserdata(L, j);
    if (running) lua_gc(L, LUA_GCSTOP);
    rc = lua_pcall(L, j->top + 1, 0, 0);
    if (running) lua_gc(L, LUA_GCRESTART);
    if (rc != LUA_OK) lua_error(L);
  }
}

/* Read column positions (1-based, 0: none) into 0-based ones (-1). */
static void read_positions(lua_State *L, int list, int *pos, int n) {
  int i;
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, list, i + 1);
    pos[i] = (int)lua_tointeger(L, -1) - 1;
    lua_pop(L, 1);
  }
}

/* Fill e from the stack: nattrs at `nattrs`, the lists of column
** positions and primary key positions at colpos and pkpos. */
static void read_spec(lua_State *L, spec *e, int nattrs, int colpos,
                      int pkpos) {
  e->nattrs = (int)luaL_checkinteger(L, nattrs);
  luaL_argcheck(L, e->nattrs >= 1 && e->nattrs <= 256, nattrs,
                "attribute count");
  luaL_checktype(L, colpos, LUA_TTABLE);
  luaL_checktype(L, pkpos, LUA_TTABLE);
  e->npk = (int)lua_rawlen(L, pkpos);
  luaL_argcheck(L, e->npk >= 1 && e->npk <= 16, pkpos, "primary key size");
  read_positions(L, colpos, e->colpos, e->nattrs);
  read_positions(L, pkpos, e->pkpos, e->npk);
}

static void read_populate(lua_State *L, spec *e, int idx) {
  e->populate = lua_toboolean(L, idx);
  e->discard = lua_isinteger(L, idx) && lua_tointeger(L, idx) == 2;
}

/*
** C.load_result(result, max, class, mt, nattrs, colpos, pkpos, idmap,
**               sid, populate, out, outn [, keycol, keys])
**   -> outn, nrows, out
**
** Up to `max` rows (0: all) of the plain Result `result` become instances
** of `class`, under the rules of C.load (which see for colpos, pkpos,
** idmap, sid, populate, out and outn).  With keycol, keys[k] is that
** row position's value for each object out[k] appended.  nrows: the rows
** read, fewer than max only at the end of the rows.  A nil out is a new
** list, sized for max rows (a lookup's one or two rows then cost no
** growth of it).
*/
static int l_load_result(lua_State *L) {
  loadjob j;
  spec e;
  lua_Integer max = luaL_optinteger(L, 2, 0);
  j.res = rt_lua_torowsource(L, 1);
  if (!j.res) return luaL_argerror(L, 1, "a plain Result");
  read_spec(L, &e, 5, 6, 7);
  luaL_checktype(L, 8, LUA_TTABLE);
  if (lua_isnil(L, 11)) {
    /* (room for a few rows: a table grown from empty is rehashed at 1,
    ** 2, 4 and 8 items, costly for the many short lists of lazy loads) */
    lua_createtable(L, max > 0 && max < 64 ? (int)max : 8, 0);
    lua_replace(L, 11);
  }
  luaL_checktype(L, 11, LUA_TTABLE);
  e.cls = 3, e.mt = 4, e.idmap = 8, e.out = 11;
  j.sid = luaL_checkinteger(L, 9);
  read_populate(L, &e, 10);
  e.outn = luaL_checkinteger(L, 12);
  j.keycol = (int)luaL_optinteger(L, 13, 0) - 1;
  if (j.keycol >= 0) luaL_checktype(L, 14, LUA_TTABLE);
  j.keys = 14;
  j.max = max > 0 ? max : 0;
  j.nrows = 0;
  j.gaps = 0;
  j.top = 14;
  j.nspec = 1;
  j.specs = &e;
  run_job(L, &j);
  lua_pushinteger(L, e.outn);
  lua_pushinteger(L, j.nrows);
  lua_pushvalue(L, 11);
  return 3;
}

#define MAX_SPECS 16

/*
** C.load_result_rows(result, max, sid, entities) -> nrows
**
** Like C.load_result for several entities per row (joined eager loading):
** entities is a list of {class, mt, nattrs, colpos, pkpos, idmap,
** populate, out}; each row appends to each entity's out its object, or
** false when the row has no key for it, so every out stays aligned with
** the rows.
*/
static int l_load_result_rows(lua_State *L) {
  loadjob j;
  spec specs[MAX_SPECS];
  lua_Integer max = luaL_optinteger(L, 2, 0);
  int k;
  j.res = rt_lua_torowsource(L, 1);
  if (!j.res) return luaL_argerror(L, 1, "a plain Result");
  j.sid = luaL_checkinteger(L, 3);
  luaL_checktype(L, 4, LUA_TTABLE);
  j.nspec = (int)lua_rawlen(L, 4);
  luaL_argcheck(L, j.nspec >= 1 && j.nspec <= MAX_SPECS, 4, "entity count");
  lua_settop(L, 4);
  for (k = 0; k < j.nspec; k++) {
    spec *e = &specs[k];
    int base;
    luaL_checkstack(L, 10, "entities");
    lua_rawgeti(L, 4, k + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    base = lua_gettop(L);
    for (int f = 1; f <= 8; f++) lua_rawgeti(L, base, f);
    /* base+1 class, +2 mt, +3 nattrs, +4 colpos, +5 pkpos, +6 idmap,
    ** +7 populate, +8 out */
    read_spec(L, e, base + 3, base + 4, base + 5);
    luaL_checktype(L, base + 6, LUA_TTABLE);
    luaL_checktype(L, base + 8, LUA_TTABLE);
    e->cls = base + 1, e->mt = base + 2, e->idmap = base + 6;
    e->out = base + 8;
    read_populate(L, e, base + 7);
    e->outn = (lua_Integer)lua_rawlen(L, base + 8);
  }
  j.max = max > 0 ? max : 0;
  j.nrows = 0;
  j.gaps = 1;
  j.keycol = -1;
  j.keys = 0;
  j.top = lua_gettop(L);
  j.specs = specs;
  run_job(L, &j);
  lua_pushinteger(L, j.nrows);
  return 1;
}

/*
** C.fill_collections(owners, got, nrows, seen, placed, init [, plain])
**   -> placed
**
** The joined eager load of a collection, row by row: owners[i] is row
** i's parent (an instance) and got[i] its related object (false or nil:
** none).  A parent seen for the first time gets its collection from
** init(parent, items) (false: it keeps the one it has), remembered in
** seen; items is an empty table sized for the parent's run of rows, for
** init to make the collection of.  Each related object is appended to its
** parent's collection once, through the collection's own # and [] when
** its metatable has __len or __newindex.  placed[object] notes where an
** object was appended: the parent itself, or for an object under several
** parents (many-to-many) the set of them.  One table for all parents,
** since an object is mostly under one; nil placed makes it, sized for the
** rows.
**
** With `plain` ({key, nilkey, changekey, ownerkey, relkey, rel, mt}: a
** list or set collection, nothing to run when one is made) the
** collections are made here instead of by init: a parent whose extras
** hold nothing under key, nilkey or changekey gets a table of metatable
** mt, its ownerkey and relkey set to the parent and rel, as its extras'
** key.
**
** The rows of a parent mostly come together (the parent's columns lead
** the ORDER BY-less join), so the work per parent (the seen lookup, the
** collection's length and metatable) is done once per run of rows with
** the same parent.
*/

/* Note object x (at x) as placed under parent p (at p); 0 if it was. */
static int place(lua_State *L, int placed, int p, int x) {
  int t;
  lua_pushvalue(L, x);
  t = lua_rawget(L, placed);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushvalue(L, x);
    lua_pushvalue(L, p);
    lua_rawset(L, placed);
    return 1;
  }
  if (lua_rawequal(L, -1, p)) return 0;
  if (t == LUA_TTABLE) { /* the set of its parents */
    lua_pushvalue(L, p);
    if (lua_rawget(L, -2) != LUA_TNIL) return 0;
    lua_pop(L, 1);
    lua_pushvalue(L, p);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    return 1;
  }
  /* a second parent: the set of both */
  lua_createtable(L, 0, 2);
  lua_insert(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pushvalue(L, p);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pushvalue(L, x);
  lua_insert(L, -2);
  lua_rawset(L, placed);
  return 1;
}

/*
** Most objects of a joined load's collection are placed once, under one
** parent: noting each in the placed table (a new key per object) costs
** more than the rest of placing it.  So a placed table made here gets a
** serial number, each of its parents an index (kept in the parent's
** linst.parent), and an object placed is stamped with the two
** (linst.placed) instead; the table notes an object only when the stamp
** cannot tell: a second parent in the same table, or a stamp of another
** table (whose table, while it lives, is first told what the stamp
** said).  The placed table's entry PLACED_AUX holds its serial (at 0),
** its parents' count (at -1) and index -> parent; the registry's weak
** table PLACED_REG serial -> placed table, and at 0 the last serial.
*/
#define PLACED_AUX 0
#define PLACED_REG "retort.orm.placed"
#define STAMP_BITS 24
#define STAMP_MASK ((1ull << STAMP_BITS) - 1)
#define SERIAL_MAX ((1ull << (64 - STAMP_BITS)) - 1)

/* Push the registry's table of placed tables (made the first time). */
static void push_placed_reg(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, PLACED_REG) == LUA_TTABLE) return;
  lua_pop(L, 1);
  rt_lua_newweaktable(L, "v");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, PLACED_REG);
}

/* Push the aux table of the placed table at placed (made, with a new
** serial, when `fresh`: a table made here, with nothing in it), or nil
** when it has none: then nothing is stamped. */
static void push_placed_aux(lua_State *L, int placed, int fresh) {
  lua_Integer serial;
  if (lua_rawgeti(L, placed, PLACED_AUX) == LUA_TTABLE || !fresh) return;
  lua_pop(L, 1);
  push_placed_reg(L);
  lua_rawgeti(L, -1, 0);
  serial = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  if ((unsigned long long)serial > SERIAL_MAX) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return;
  }
  lua_pushinteger(L, serial);
  lua_rawseti(L, -2, 0);
  lua_pushvalue(L, placed);
  lua_rawseti(L, -2, serial);
  lua_pop(L, 1);
  lua_createtable(L, 1, 2);
  lua_pushinteger(L, serial);
  lua_rawseti(L, -2, 0);
  lua_pushinteger(L, 0);
  lua_rawseti(L, -2, -1);
  lua_pushvalue(L, -1);
  lua_rawseti(L, placed, PLACED_AUX);
}

/* The stamp of the parent at p in the table of serial `serial` whose aux
** is at aux and has *n parents (its index given now if it has none, *n
** counting it); 0: none (not an instance, or too many parents). */
static unsigned long long stamp_parent(lua_State *L, int aux,
                                       unsigned long long serial,
                                       lua_Integer *n, int p) {
  linst *o = rt_orm_toinst(L, p);
  lua_Integer k;
  if (!o) return 0;
  if (o->parent >> STAMP_BITS == serial) return o->parent;
  k = *n + 1;
  if ((unsigned long long)k > STAMP_MASK) return 0;
  lua_pushinteger(L, k);
  lua_rawseti(L, aux, -1);
  lua_pushvalue(L, p);
  lua_rawseti(L, aux, k);
  *n = k;
  o->parent = serial << STAMP_BITS | (unsigned long long)k;
  return o->parent;
}

/* The serial of the table whose aux is at aux (0: no aux), and in *n its
** parents' count. */
static unsigned long long aux_serial(lua_State *L, int aux, lua_Integer *n) {
  unsigned long long serial;
  *n = 0;
  if (!lua_istable(L, aux)) return 0;
  lua_rawgeti(L, aux, 0);
  serial = (unsigned long long)lua_tointeger(L, -1);
  lua_rawgeti(L, aux, -1);
  *n = lua_tointeger(L, -1);
  lua_pop(L, 2);
  return serial;
}

/* The stamp of the parent at p in the table whose aux is at aux (as
** stamp_parent); 0: none (no aux either). */
static unsigned long long parent_stamp(lua_State *L, int aux, int p) {
  linst *o = rt_orm_toinst(L, p);
  unsigned long long serial;
  lua_Integer n;
  if (!o || !lua_istable(L, aux)) return 0;
  lua_rawgeti(L, aux, 0);
  serial = (unsigned long long)lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (o->parent >> STAMP_BITS == serial) return o->parent;
  lua_rawgeti(L, aux, -1);
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return stamp_parent(L, aux, serial, &n, p);
}

/* The placed table at placed (aux at aux) notes object x under the
** parent its stamp xs names, as place() would have. */
static void note_stamp(lua_State *L, int placed, int aux, unsigned long long xs,
                       int x) {
  int top = lua_gettop(L);
  lua_rawgeti(L, aux, (lua_Integer)(xs & STAMP_MASK));
  if (!lua_isnil(L, -1)) place(L, placed, top + 1, x);
  lua_settop(L, top);
}

/* The stamp xs of object x, of another placed table: that table, if it
** still lives, notes what the stamp said before the stamp changes. */
static void unstamp(lua_State *L, unsigned long long xs, int x) {
  int top = lua_gettop(L);
  push_placed_reg(L);
  if (lua_rawgeti(L, -1, (lua_Integer)(xs >> STAMP_BITS)) == LUA_TTABLE &&
      lua_rawgeti(L, top + 2, PLACED_AUX) == LUA_TTABLE)
    note_stamp(L, top + 2, top + 3, xs, x);
  lua_settop(L, top);
}

/* place() through the stamps: the parent at p (of stamp `stamp`, 0:
** none) in the placed table at placed (aux at aux). */
static int place_stamped(lua_State *L, int placed, int aux, int p,
                         unsigned long long stamp, int x) {
  linst *o = rt_orm_toinst(L, x);
  unsigned long long xs;
  if (!o || !lua_istable(L, aux)) return place(L, placed, p, x);
  xs = o->placed;
  if (stamp) {
    if (xs == stamp) return 0;
    if (xs == 0) {
      o->placed = stamp;
      return 1;
    }
  }
  if (stamp && (xs >> STAMP_BITS) == (stamp >> STAMP_BITS)) {
    /* placed under another index of this table: the same parent given
    ** a new one (its linst.parent was another table's meanwhile), or
    ** another parent, which the stamp tells for good (stamps change only
    ** below): the table tells the rest */
    int same;
    lua_rawgeti(L, aux, (lua_Integer)(xs & STAMP_MASK));
    same = lua_rawequal(L, -1, p);
    lua_pop(L, 1);
    return same ? 0 : place(L, placed, p, x);
  }
  /* a parent with no stamp: the table tells */
  if (!stamp) return place(L, placed, p, x);
  /* stamped by another table: this one's note of x, if any, says */
  lua_pushvalue(L, x);
  if (lua_rawget(L, placed) != LUA_TNIL) {
    lua_pop(L, 1);
    return place(L, placed, p, x);
  }
  lua_pop(L, 1);
  unstamp(L, xs, x);
  o->placed = stamp;
  return 1;
}

enum {
  FC_OWNERS = 1,
  FC_GOT,
  FC_NROWS,
  FC_SEEN,
  FC_PLACED,
  FC_INIT,
  FC_PLAIN,
  FC_AUX
};

/* The end (last row) of the run of rows from i with the parent at p. */
static lua_Integer run_end(lua_State *L, int p, lua_Integer i, lua_Integer n) {
  /* (an instance is told by its address: no value compare) */
  const void *ud =
      lua_type(L, p) == LUA_TUSERDATA ? lua_touserdata(L, p) : NULL;
  while (i < n) {
    int same;
    if (lua_rawgeti(L, FC_OWNERS, i + 1) == LUA_TUSERDATA && ud)
      same = lua_touserdata(L, -1) == ud;
    else
      same = lua_rawequal(L, -1, p);
    lua_pop(L, 1);
    if (!same) break;
    i++;
  }
  return i;
}

/* Whether appending to the collection at c is a raw set at #c + 1. */
static int plain_list(lua_State *L, int c) {
  int plain;
  if (!lua_getmetatable(L, c)) return 1;
  plain = lua_getfield(L, -1, "__newindex") == LUA_TNIL;
  lua_pop(L, 1);
  plain = plain && lua_getfield(L, -1, "__len") == LUA_TNIL;
  lua_pop(L, 2);
  return plain;
}

/* Push field f of plain: from the stack at pl + f - 1 when the caller
** pushed them (pl > 0), else from the table at FC_PLAIN. */
static void plain_field(lua_State *L, int pl, int f) {
  if (pl)
    lua_pushvalue(L, pl + f - 1);
  else
    lua_rawgeti(L, FC_PLAIN, f);
}

/* Push the new collection of the parent at p (sized for n items), made
** as `plain` says (its fields at pl, see plain_field), or false when the
** parent has one already (or was set to nothing, or has changes to it
** pending). */
static void make_plain(lua_State *L, int p, int n, int pl) {
  int extras, f;
  luaL_checkstack(L, 8, "collections");
  if (lua_getiuservalue(L, p, UV_EXTRAS) == LUA_TTABLE) {
    extras = lua_gettop(L);
    for (f = 1; f <= 3; f++) {
      /* something under key, or a true nilkey or changekey mark (as
      ** C.extra(p, mark) is tested for truth) */
      int t, had;
      plain_field(L, pl, f);
      t = lua_rawget(L, extras);
      had = f == 1 ? t != LUA_TNIL : lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (had) {
        lua_pushboolean(L, 0);
        lua_replace(L, extras);
        return;
      }
    }
  } else {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1); /* (sized: a key goes in at once) */
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, p, UV_EXTRAS);
    extras = lua_gettop(L);
  }
  lua_createtable(L, n, 3); /* owner, relationship, view */
  plain_field(L, pl, 4);
  lua_pushvalue(L, p);
  lua_rawset(L, -3);
  plain_field(L, pl, 5);
  plain_field(L, pl, 6);
  lua_rawset(L, -3);
  plain_field(L, pl, 7);
  lua_setmetatable(L, -2);
  plain_field(L, pl, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, extras);
  lua_replace(L, extras);
}

/* Rows i..last, all of the parent at p: its collection (made through
** init the first time the parent is seen) gets their objects. */
static void fill_run(lua_State *L, int p, lua_Integer i, lua_Integer last) {
  int c, x, plain;
  unsigned long long stamp;
  lua_Integer len = 0;
  lua_pushvalue(L, p);
  if (lua_rawget(L, FC_SEEN) == LUA_TNIL) {
    lua_pop(L, 1);
    if (lua_istable(L, FC_PLAIN) && lua_type(L, p) == LUA_TUSERDATA)
      make_plain(L, p, (int)(last - i + 1), 0);
    else {
      lua_pushvalue(L, FC_INIT);
      lua_pushvalue(L, p);
      lua_createtable(L, (int)(last - i + 1), 2);
      lua_call(L, 2, 1);
    }
    lua_pushvalue(L, p);
    lua_pushvalue(L, -2);
    lua_rawset(L, FC_SEEN);
  }
  c = lua_gettop(L);
  if (!lua_toboolean(L, c)) return;
  plain = lua_istable(L, c) && plain_list(L, c);
  if (plain) len = (lua_Integer)lua_rawlen(L, c);
  stamp = parent_stamp(L, FC_AUX, p);
  x = c + 1;
  for (; i <= last; i++) {
    lua_rawgeti(L, FC_GOT, i);
    if (lua_toboolean(L, x) &&
        place_stamped(L, FC_PLACED, FC_AUX, p, stamp, x)) {
      lua_settop(L, x);
      if (plain)
        lua_rawseti(L, c, ++len);
      else
        lua_seti(L, c, luaL_len(L, c) + 1);
    }
    lua_settop(L, c);
  }
}

static int l_fill_collections(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, FC_NROWS), i, last;
  int fresh = lua_isnil(L, FC_PLACED);
  luaL_checktype(L, FC_OWNERS, LUA_TTABLE);
  luaL_checktype(L, FC_GOT, LUA_TTABLE);
  luaL_checktype(L, FC_SEEN, LUA_TTABLE);
  luaL_checktype(L, FC_INIT, LUA_TFUNCTION);
  if (fresh) {
    /* (few objects are noted in it: see place_stamped) */
    lua_createtable(L, 0, 1);
    lua_replace(L, FC_PLACED);
  }
  luaL_checktype(L, FC_PLACED, LUA_TTABLE);
  if (!lua_isnoneornil(L, FC_PLAIN)) luaL_checktype(L, FC_PLAIN, LUA_TTABLE);
  lua_settop(L, FC_PLAIN);
  luaL_checkstack(L, 16, "filling collections");
  push_placed_aux(L, FC_PLACED, fresh); /* FC_AUX */
  for (i = 1; i <= n; i = last + 1) {
    int p = FC_AUX + 1;
    lua_rawgeti(L, FC_OWNERS, i);
    last = run_end(L, p, i, n);
    if (lua_toboolean(L, p)) fill_run(L, p, i, last);
    lua_settop(L, FC_AUX);
  }
  lua_pushvalue(L, FC_PLACED);
  return 1;
}

/*
** C.load_joined_coll(result, sid, pent, cent, seen, placed, plain, out)
**   -> placed, k, nrows, repeats
**
** C.load_result_rows, C.runs and C.fill_collections in one pass over the
** rows, for a statement of one entity with one joined collection of a
** plain list or set: pent and cent are the parent's and the related
** entity's {class, mt, nattrs, colpos, pkpos, idmap, populate}, seen,
** placed and plain as C.fill_collections takes them.  Each row's parent
** and related object are found or made; a parent that is not the row
** before's starts a run (appended to out[k], its collection found in
** seen or made as plain says), and the related object goes into the
** collection once.  The same objects, collections and placed notes as
** the three calls make, without the lists of every row's objects in
** between.  A parent whose key is the row before's is that row's object
** (no identity map lookup, and nothing to refill: that row filled the
** same columns), unless its entity populates.  repeats: whether a parent
** already in seen, or with a run before in this load, started a run (else
** out[1..k] are distinct parents, none of them seen before).  A parent this
*load made is noted in seen only
** when the placed table cannot stamp it (see jc_run_before): seen is not
** the whole list of parents afterwards.
*/
enum {
  JC_RESULT = 1,
  JC_SID,
  JC_PENT,
  JC_CENT,
  JC_SEEN,
  JC_PLACED,
  JC_PLAIN, /* (= FC_PLAIN, where make_plain reads it) */
  JC_OUT,
  JC_AUX
};

_Static_assert((int)JC_PLAIN == (int)FC_PLAIN, "make_plain reads plain there");

typedef struct jcoll {
  loadjob j;
  spec *ps, *cs;
  int prevkey, prevobj; /* slots: the row before's parent and its key
                        ** (nil: that row had none) */
  int coll;             /* slot: the run's collection (false: none) */
  int filling;          /* the coll slot holds a collection */
  int plainmt;          /* plain_list of a collection make_plain made
                        ** (-1: not asked yet) */
  int plain;            /* the collection is appended to raw */
  int hint;             /* the array size of a new collection */
  int sameint;          /* the row before's parent key is the integer
                        ** prevint, and a row of the same key is its
                        ** parent's again (see jc_row) */
  int64_t prevint;
  int repeats; /* a parent's run came after another's (out repeats it) */
  int pl;      /* slots: plain's fields (see plain_field) */
  lua_Integer len, runlen, outn;
  unsigned long long stamp;
  unsigned long long serial; /* the placed table's (0: no stamps) */
  lua_Integer nstamps;       /* its parents' count (see stamp_parent) */
} jcoll;

/* Push the collection of the parent at p whose run came before in this
** load (false: nothing to fill) and return 1; 0, nothing pushed, for a
** parent with no run yet.  seen tells, or for a parent this load made,
** the stamp it got then: such a parent is not noted in seen (nothing
** else asks), its collection is the one make_plain put in its extras. */
static int jc_run_before(lua_State *L, jcoll *c, int p) {
  linst *o;
  lua_pushvalue(L, p);
  if (lua_rawget(L, JC_SEEN) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  o = rt_orm_toinst(L, p);
  if (!o || !c->serial || o->parent >> STAMP_BITS != c->serial) return 0;
  if (lua_getiuservalue(L, p, UV_EXTRAS) == LUA_TTABLE) {
    lua_pushvalue(L, c->pl); /* the relationship's key */
    lua_rawget(L, -2);
  } else
    lua_pushboolean(L, 0);
  lua_remove(L, -2);
  return 1;
}

/* seen[p] = the collection on top (kept there) */
static void jc_note_seen(lua_State *L, int p) {
  lua_pushvalue(L, p);
  lua_pushvalue(L, -2);
  lua_rawset(L, JC_SEEN);
}

/* A run of rows of the parent at p begins: its collection to the coll
** slot, found or made as fill_run does (false: nothing to fill).  A
** parent made by this row (`fresh`) is in no seen table yet. */
static void jc_start_run(lua_State *L, jcoll *c, int p, int fresh) {
  int made = 0;
  if (c->runlen > 0) c->hint = c->runlen < 1024 ? (int)c->runlen : 1024;
  c->runlen = 0;
  lua_pushvalue(L, p);
  lua_rawseti(L, JC_OUT, ++c->outn);
  if (!fresh && jc_run_before(L, c, p))
    c->repeats = 1;
  else {
    make_plain(L, p, c->hint, c->pl);
    if (!fresh) jc_note_seen(L, p);
    made = 1;
  }
  lua_replace(L, c->coll);
  c->plain = 0;
  c->filling = lua_toboolean(L, c->coll);
  c->stamp = c->filling && c->serial
                 ? stamp_parent(L, JC_AUX, c->serial, &c->nstamps, p)
                 : 0;
  if (fresh && !c->stamp) { /* (no stamp tells its later runs: seen does) */
    lua_pushvalue(L, c->coll);
    jc_note_seen(L, p);
    lua_pop(L, 1);
  }
  if (!c->filling) return;
  if (made) {
    /* empty, of plain's metatable: whether it is appended to raw is
    ** asked once */
    if (c->plainmt < 0) c->plainmt = plain_list(L, c->coll);
    c->plain = c->plainmt;
    c->len = 0;
  } else {
    c->plain = lua_istable(L, c->coll) && plain_list(L, c->coll);
    c->len = c->plain ? (lua_Integer)lua_rawlen(L, c->coll) : 0;
  }
}

static void jc_row(lua_State *L, jcoll *c) {
  int top = lua_gettop(L), p = 0, found = 0, x, made, placed;
  spec *ps = c->ps;
  int64_t k, ck;
  int kint = c->sameint && rt_lua_rowsource_int(c->j.res, ps->pkpos[0], &k);
  if (kint && k == c->prevint) {
    /* the parent of the row before: its run goes on (no Lua value made
    ** for the key) */
    c->runlen++;
    p = c->prevobj;
    goto child;
  }
  /* (another integer key is another parent: no need to compare values) */
  if (!kint && ps->npk == 1 && !ps->populate && !lua_isnil(L, c->prevobj)) {
    rt_lua_rowsource_push(L, c->j.res, ps->pkpos[0]);
    if (lua_rawequal(L, -1, c->prevkey)) {
      lua_pushvalue(L, c->prevobj);
      p = top + 2;
    } else
      lua_settop(L, top);
  }
  if (!p) {
    if (kint) {
      /* (the key read above, pushed below its object as find_object
      ** pushes it) */
      lua_pushinteger(L, (lua_Integer)k);
      found = find_int_object(L, &c->j, ps, k);
    } else
      found = find_object(L, &c->j, ps);
  }
  if (found) {
    p = lua_gettop(L);
    if (ps->npk == 1) {
      lua_pushvalue(L, p - 1);
      lua_replace(L, c->prevkey);
    }
  }
  /* a run: consecutive rows of one parent (as C.runs tells them) */
  if (p && !lua_rawequal(L, p, c->prevobj)) jc_start_run(L, c, p, found == 2);
  if (p) {
    c->runlen++;
    lua_pushvalue(L, p);
  } else
    lua_pushnil(L);
  lua_replace(L, c->prevobj);
  /* (the fast way above holds while the key is an integer: rawequal
  ** tells keys of other types, and an integer from a float) */
  c->sameint =
      p && ps->npk == 1 && !ps->populate && lua_isinteger(L, c->prevkey);
  if (c->sameint) c->prevint = (int64_t)lua_tointeger(L, c->prevkey);
child:
  /* (an integer key: no Lua value of it below the object, as in
  ** load_entity) */
  if (c->cs->npk == 1 && rt_lua_rowsource_int(c->j.res, c->cs->pkpos[0], &ck))
    made = find_int_object(L, &c->j, c->cs, ck);
  else
    made = find_object(L, &c->j, c->cs);
  if (made && p && c->filling) {
    x = lua_gettop(L);
    if (made == 2 && c->stamp) {
      /* an object made now is in no collection yet: place_stamped's
      ** first placing, straight (nothing pushed) */
      ((linst *)lua_touserdata(L, x))->placed = c->stamp;
      placed = 1;
    } else {
      placed = place_stamped(L, JC_PLACED, JC_AUX, p, c->stamp, x);
      lua_settop(L, x);
    }
    if (placed) {
      if (c->plain)
        lua_rawseti(L, c->coll, ++c->len);
      else
        lua_seti(L, c->coll, luaL_len(L, c->coll) + 1);
    }
  }
  lua_settop(L, top);
}

/* Read rows to the end, `limit` of them at most (< 0: no limit). */
static void jc_rows(lua_State *L, jcoll *c, lua_Integer limit) {
  luaL_checkstack(L, 32, "loading rows");
  while (limit-- != 0) {
    if (!rt_lua_rowsource_next(L, c->j.res)) {
      c->j.max = -1;
      return;
    }
    c->j.nrows++;
    jc_row(L, c);
  }
}

/* the rest of a long load, as load_rest */
static int jc_rest(lua_State *L) {
  jcoll *c = lua_touserdata(L, -1);
  lua_settop(L, c->j.top);
  jc_rows(L, c, -1);
  return 0;
}

/* Fill e from the entity table at t: {class, mt, nattrs, colpos, pkpos,
** idmap, populate}, its fields pushed. */
static void jc_entity(lua_State *L, int t, spec *e) {
  int base, f;
  luaL_checktype(L, t, LUA_TTABLE);
  luaL_checkstack(L, 8, "entities");
  base = lua_gettop(L);
  for (f = 1; f <= 7; f++) lua_rawgeti(L, t, f);
  read_spec(L, e, base + 3, base + 4, base + 5);
  luaL_checktype(L, base + 6, LUA_TTABLE);
  e->cls = base + 1, e->mt = base + 2, e->idmap = base + 6;
  read_populate(L, e, base + 7);
  e->out = 0, e->outn = 0;
}

static int l_load_joined_coll(lua_State *L) {
  jcoll c;
  spec specs[2];
  int fresh = lua_isnil(L, JC_PLACED), kb, f;
  c.j.res = rt_lua_torowsource(L, JC_RESULT);
  if (!c.j.res) return luaL_argerror(L, JC_RESULT, "a plain Result");
  c.j.sid = luaL_checkinteger(L, JC_SID);
  luaL_checktype(L, JC_SEEN, LUA_TTABLE);
  luaL_checktype(L, JC_PLAIN, LUA_TTABLE);
  luaL_checktype(L, JC_OUT, LUA_TTABLE);
  if (fresh) {
    lua_createtable(L, 0, 1);
    lua_replace(L, JC_PLACED);
  }
  luaL_checktype(L, JC_PLACED, LUA_TTABLE);
  lua_settop(L, JC_OUT);
  luaL_checkstack(L, 24, "loading rows");
  push_placed_aux(L, JC_PLACED, fresh); /* JC_AUX */
  jc_entity(L, JC_PENT, &specs[0]);
  jc_entity(L, JC_CENT, &specs[1]);
  luaL_checkstack(L, 8, "loading rows");
  c.pl = lua_gettop(L) + 1;
  for (f = 1; f <= 7; f++) lua_rawgeti(L, JC_PLAIN, f);
  c.serial = aux_serial(L, JC_AUX, &c.nstamps);
  lua_pushnil(L);
  c.prevkey = lua_gettop(L);
  lua_pushnil(L);
  c.prevobj = lua_gettop(L);
  lua_pushboolean(L, 0);
  c.coll = lua_gettop(L);
  c.ps = &specs[0], c.cs = &specs[1];
  c.plain = 0, c.hint = 4, c.len = 0, c.runlen = 0, c.stamp = 0;
  c.sameint = 0, c.prevint = 0, c.repeats = 0, c.filling = 0;
  c.plainmt = -1;
  c.outn = (lua_Integer)lua_rawlen(L, JC_OUT);
  c.j.max = 0, c.j.nrows = 0, c.j.gaps = 1, c.j.keycol = -1, c.j.keys = 0;
  c.j.nspec = 2, c.j.specs = specs;
  c.j.top = lua_gettop(L);
  kb = lua_gc(L, LUA_GCCOUNT);
  do {
    jc_rows(L, &c, GC_FREE_ROWS);
  } while (c.j.max >= 0 && !load_grew(L, kb));
  if (c.j.max >= 0) {
    /* a long load: the rest with the collector paused (see run_job) */
    int running = lua_gc(L, LUA_GCISRUNNING), rc, i;
    luaL_checkstack(L, c.j.top + 2, "loading rows");
    lua_pushcfunction(L, jc_rest);
    for (i = 1; i <= c.j.top; i++) lua_pushvalue(L, i);
    lua_pushlightuserdata(L, &c);
    if (running) lua_gc(L, LUA_GCSTOP);
    rc = lua_pcall(L, c.j.top + 1, 0, 0);
    if (running) lua_gc(L, LUA_GCRESTART);
    if (rc != LUA_OK) lua_error(L);
  }
  lua_pushvalue(L, JC_PLACED);
  lua_pushinteger(L, c.outn);
  lua_pushinteger(L, c.j.nrows);
  lua_pushboolean(L, c.repeats);
  return 4;
}

/*
** Push the key a row of width items is unique by: each item's identity
** (an object's address, a value's type and bytes) written out in turn, as
** SQLAlchemy's Query makes a row of several entities unique by all of
** them.
*/
static void row_key(lua_State *L, int row, lua_Integer width) {
  luaL_Buffer b;
  lua_Integer j;
  luaL_buffinit(L, &b);
  for (j = 1; j <= width; j++) {
    int t = lua_rawgeti(L, row, j);
    char head[40];
    size_t len = 0;
    const char *p = NULL;
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
      int isint = t == LUA_TNUMBER && lua_isinteger(L, -1);
      p = lua_tolstring(L, -1, &len); /* (a number: its own copy) */
      snprintf(head, sizeof head, "%c%zu:",
               t == LUA_TSTRING ? 's'
               : isint          ? 'i'
                                : 'f',
               len);
    } else if (t == LUA_TBOOLEAN)
      snprintf(head, sizeof head, "b%d;", lua_toboolean(L, -1));
    else
      snprintf(head, sizeof head, "%d@%p;", t, lua_topointer(L, -1));
    luaL_addstring(&b, head);
    if (p) luaL_addlstring(&b, p, len);
    lua_pop(L, 1);
  }
  luaL_pushresult(&b);
}

/*
** C.unique(list, seen [, width]) -> list: the items of list not in seen
** yet (an ORM row, a table, by its first item, or by all its width items
** when given), each once, in order, moved to the front of the list; seen
** notes them.
*/
static int l_unique(lua_State *L) {
  lua_Integer n, i, k = 0, width;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  width = luaL_optinteger(L, 3, 1);
  lua_settop(L, 2);
  n = (lua_Integer)lua_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    int o = 3;
    lua_rawgeti(L, 1, i);
    if (lua_type(L, o) == LUA_TTABLE && width > 1)
      row_key(L, o, width);
    else if (lua_type(L, o) == LUA_TTABLE)
      lua_rawgeti(L, o, 1);
    else
      lua_pushvalue(L, o);
    lua_pushvalue(L, -1);
    lua_rawget(L, 2);
    if (!lua_toboolean(L, -1)) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, 2);
      lua_pushvalue(L, o);
      lua_rawseti(L, 1, ++k);
    }
    lua_settop(L, 2);
  }
  for (i = n; i > k; i--) {
    lua_pushnil(L);
    lua_rawseti(L, 1, i);
  }
  lua_settop(L, 1);
  return 1;
}

/*
** C.runs(list, n, out) -> k: the items of list[1..n] that are neither
** false nor nil nor the same object as the item before them, in order,
** as out[1..k] (a joined load's parents: one entry per run of a parent's
** rows).
*/
static int l_runs(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 2), i, k = 0;
  const void *ud = NULL; /* the item before, when an instance: by address */
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  lua_pushnil(L); /* 4: the item before, when not an instance */
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) == LUA_TUSERDATA) {
      const void *u = lua_touserdata(L, 5);
      if (u != ud) {
        ud = u;
        lua_rawseti(L, 3, ++k);
      } else
        lua_pop(L, 1);
      continue;
    }
    if (lua_toboolean(L, 5) && (ud || !lua_rawequal(L, 4, 5))) {
      lua_pushvalue(L, 5);
      lua_rawseti(L, 3, ++k);
    }
    ud = NULL;
    lua_replace(L, 4);
  }
  lua_pushinteger(L, k);
  return 1;
}

/*
** C.distribute(keys, objs, n, lists, found, owners)
**
** A selectin load's objects to their owners' lists: objs[j] (j = 1..n)
** goes to lists[keys[j]] when owners has that key (the list made here
** when there is none yet), and to the end of found in any case (found
** false: nothing reads them but the lists).  The
** rows of one key mostly come together (the key's index orders them), so
** each run of a key goes at once into a list made its size.
*/
/* The last place of the run of keys (in the list at 1, n of them) that
** begins at j with the key at 7: the places after j holding a key raw
** equal to it.  An integer key (most) is compared as a C integer. */
static lua_Integer key_run_end(lua_State *L, lua_Integer j, lua_Integer n) {
  lua_Integer last, kv = 0;
  int isint = lua_isinteger(L, 7);
  if (isint) kv = lua_tointeger(L, 7);
  for (last = j; last < n; last++) {
    int same, isnum;
    if (isint) {
      /* (a float of an integer's value is raw equal to it too) */
      same = lua_rawgeti(L, 1, last + 1) == LUA_TNUMBER &&
             lua_tointegerx(L, -1, &isnum) == kv && isnum;
    } else {
      lua_rawgeti(L, 1, last + 1);
      same = lua_rawequal(L, 7, -1);
    }
    lua_pop(L, 1);
    if (!same) break;
  }
  return last;
}

static int l_distribute(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 3), j, k, last, nf;
  int found;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  if (lua_toboolean(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  luaL_checktype(L, 6, LUA_TTABLE);
  lua_settop(L, 6);
  found = lua_toboolean(L, 5);
  nf = found ? (lua_Integer)lua_rawlen(L, 5) : 0;
  for (j = 1; j <= n; j = last + 1) {
    lua_Integer len = 0;
    int list = 0;
    lua_rawgeti(L, 1, j); /* 7: the key */
    last = key_run_end(L, j, n);
    lua_pushvalue(L, 7);
    if (lua_rawget(L, 6) != LUA_TNIL) {
      lua_pushvalue(L, 7);
      if (lua_rawget(L, 4) != LUA_TTABLE) {
        lua_pop(L, 1);
        /* (room for the three fields a collection adds: owner,
        ** relationship, view; see own_coll) */
        lua_createtable(L, last - j + 1 < INT_MAX ? (int)(last - j + 1) : 0, 3);
        lua_pushvalue(L, 7);
        lua_pushvalue(L, -2);
        lua_rawset(L, 4);
      } else
        len = (lua_Integer)lua_rawlen(L, -1);
      list = lua_gettop(L);
    }
    for (k = j; k <= last; k++) {
      if (lua_rawgeti(L, 2, k) == LUA_TNIL) { /* (no object: no entry) */
        lua_pop(L, 1);
        continue;
      }
      if (list) {
        if (found) lua_pushvalue(L, -1);
        lua_rawseti(L, list, ++len);
      }
      if (found)
        lua_rawseti(L, 5, ++nf);
      else if (!list)
        lua_pop(L, 1);
    }
    lua_settop(L, 6);
  }
  return 0;
}

/*
** C.own_lists(keys, lists, owners, plain)
**
** A selectin load's lists made their owners' collections: for each key
** of keys whose owner (owners[key]) is one instance, lists[key] (a new
** empty one when there is none) becomes its collection as own_coll makes
** it (orm/collections.lua), kept in the owner's extras under the
** relationship's key.  plain: {key, ownerkey, relkey, rel, mt}.  Keys of
** several owners (a table of them) are the caller's.
*/
static int l_own_lists(lua_State *L) {
  lua_Integer n, i;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  luaL_checkstack(L, 12, "collections");
  for (i = 1; i <= 5; i++) lua_rawgeti(L, 4, i); /* 5..9 */
  n = (lua_Integer)lua_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    int o = 11, l = 12;
    lua_rawgeti(L, 1, i); /* 10: the key */
    lua_pushvalue(L, 10);
    lua_rawget(L, 3);
    if (!rt_orm_toinst(L, o)) {
      lua_settop(L, 9);
      continue;
    }
    lua_pushvalue(L, 10);
    if (lua_rawget(L, 2) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_createtable(L, 0, 3); /* owner, relationship, view */
    } else if (lua_getmetatable(L, l))
      return luaL_error(L, "own_lists: a list has a metatable");
    lua_pushvalue(L, 6);
    lua_pushvalue(L, o);
    lua_rawset(L, l);
    lua_pushvalue(L, 7);
    lua_pushvalue(L, 8);
    lua_rawset(L, l);
    lua_pushvalue(L, 9);
    lua_setmetatable(L, l);
    if (lua_getiuservalue(L, o, UV_EXTRAS) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_createtable(L, 0, 1);
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, o, UV_EXTRAS);
    }
    lua_pushvalue(L, 5);
    lua_pushvalue(L, l);
    lua_rawset(L, -3);
    lua_settop(L, 9);
  }
  return 0;
}

/*
** C.derive(r, k, v, mt) -> a new table with r's own fields, k set to v,
** of metatable mt: a result derived from another (scalars(), unique()).
** (One call, where a table constructor and a pairs() loop in Lua pay a
** call per field.)
*/
static int l_derive(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  /* (sized for a result's usual fields: counting them first costs more
  ** than the rare growth) */
  lua_createtable(L, 0, 8); /* 5 */
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, 5);
  }
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, 5);
  lua_pushvalue(L, 4);
  lua_setmetatable(L, 5);
  return 1;
}

/* C.new_map(mt) -> an empty table of metatable mt, with room for one
** key: a session's identity map, which mostly gets one at once */
static int l_new_map(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_setmetatable(L, -2);
  return 1;
}

/* C.rowsource(x) -> whether x is a plain Result C.load_result can read */
static int l_rowsource(lua_State *L) {
  lua_pushboolean(L, rt_lua_torowsource(L, 1) != NULL);
  return 1;
}

static const luaL_Reg loading_c[] = {{"load_result", l_load_result},
                                     {"load_result_rows", l_load_result_rows},
                                     {"rowsource", l_rowsource},
                                     {"fill_collections", l_fill_collections},
                                     {"load_joined_coll", l_load_joined_coll},
                                     {"unique", l_unique},
                                     {"distribute", l_distribute},
                                     {"own_lists", l_own_lists},
                                     {"runs", l_runs},
                                     {"derive", l_derive},
                                     {"new_map", l_new_map},
                                     {NULL, NULL}};

void rt_orm_loading_register(lua_State *L) {
  luaL_setfuncs(L, loading_c, 0);
}
