/*
** orm/persistence.c -- the per-object work of the Session's add, flush and
** expiry, done in C: the Lua side (orm/session.lua, orm/persistence.lua)
** decides, these loops touch every object.
**
** Each primitive takes the common case itself and hands every other
** object to a Lua function it is given, so the rules stay in one place
** (the Lua) and the C path is only ever a shortcut for objects where
** that function would do exactly what the shortcut does.
*/
#include "orm/persistence.h"

#include <stdlib.h>
#include <string.h>

#include "lua/lsql.h"
#include "orm/lorm.h"

/* Push the mapper of the instance at idx (its class's __mapper__). */
static int push_mapper(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, UV_CLASS);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  lua_pushliteral(L, "__mapper__");
  lua_rawget(L, -2);
  lua_remove(L, -2);
  return lua_type(L, -1);
}

/* Has the mapper of the instance at idx relationships (a cascade to
** follow)?  An instance without a mapper counts as having them, so the
** caller's general path sees it. */
static int has_rels(lua_State *L, int idx) {
  int yes = 1;
  if (push_mapper(L, idx) == LUA_TTABLE) {
    lua_pushliteral(L, "has_rels");
    yes = lua_rawget(L, -2) != LUA_TNIL && lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return yes;
}

/* Is the metatable of the value at idx an instance metatable? */
static int instance_mt(lua_State *L, int idx) {
  int yes = 0;
  if (lua_getmetatable(L, idx)) {
    lua_pushliteral(L, "__orm_instance");
    yes = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
  }
  return yes;
}

/*
** C.add_all(list, sid, newlist, new, add) -- Session:add_all: a transient
** instance of a mapper without relationships becomes pending in session
** sid (appended to newlist, new[obj] its position there), which is all
** that add() does for it; add(obj) is called for any other value, in
** list order.  The last class whose objects were found to be instances
** is remembered with its answer (a list is mostly of one class), so the
** objects after the first of a class cost no metatable lookups.
*/
static int l_add_all(lua_State *L) {
  lua_Integer sid = luaL_checkinteger(L, 2), i, nnew;
  int rels = 1;
  const void *lastp = NULL; /* the address of the class at 6 */
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  luaL_checktype(L, 5, LUA_TFUNCTION);
  lua_settop(L, 5);
  lua_pushnil(L); /* 6: the last class, whose has_rels is rels */
  nnew = (lua_Integer)lua_rawlen(L, 3);
  /* as ipairs walks it (any indexable value): up to the first nil */
  for (i = 1; lua_geti(L, 1, i) != LUA_TNIL; i++) { /* 7: obj */
    linst *o = rt_orm_toinst(L, 7);
    if (o && o->lifecycle == S_TRANSIENT) {
      const void *cp;
      lua_getiuservalue(L, 7, UV_CLASS); /* 8 */
      /* (the class at 6 stays there: its address stands for it) */
      cp = lua_topointer(L, 8);
      if (!cp || cp != lastp) {
        if (instance_mt(L, 7)) {
          rels = has_rels(L, 7);
          lua_copy(L, 8, 6);
          lastp = cp;
        } else
          o = NULL;
      }
      if (o && !rels) {
        nnew++;
        lua_pushvalue(L, 7);
        lua_rawseti(L, 3, nnew);
        lua_pushvalue(L, 7);
        lua_pushinteger(L, nnew);
        lua_rawset(L, 4); /* new[obj] = nnew */
        o->lifecycle = S_PENDING;
        o->session = sid;
        lua_settop(L, 6);
        continue;
      }
    }
    lua_settop(L, 7);
    lua_pushvalue(L, 5);
    lua_insert(L, 7);
    lua_call(L, 1, 0);
    nnew = (lua_Integer)lua_rawlen(L, 3); /* add() may have appended */
  }
  return 0;
}

/* C.presized(narr, nrec) -> an empty table with room for narr list
** entries and nrec others */
static int l_presized(lua_State *L) {
  lua_Integer a = luaL_checkinteger(L, 1), r = luaL_checkinteger(L, 2);
  luaL_argcheck(L, a >= 0 && a <= 1 << 24, 1, "size");
  luaL_argcheck(L, r >= 0 && r <= 1 << 24, 2, "size");
  lua_createtable(L, (int)a, (int)r);
  return 1;
}

/* Push the list saves[m][field] for the class at cls, the mapper m that
** writes its objects found through groupof (which may compute it);
** saves[m] is made as {ins = {}, upd = {}} when missing, its ins list
** with room for nins objects (the pending objects yet to place: a flush
** is mostly of one class, and growing a list one object at a time
** copies it over and over). */
static void push_group(lua_State *L, int saves, int groupof, int cls,
                       const char *field, lua_Integer nins) {
  lua_pushvalue(L, cls);
  lua_gettable(L, groupof); /* m */
  lua_pushvalue(L, -1);
  if (lua_rawget(L, saves) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_createtable(L, nins > 0 && nins < (1 << 24) ? (int)nins : 0, 0);
    lua_setfield(L, -2, "ins");
    lua_newtable(L);
    lua_setfield(L, -2, "upd");
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, saves);
  }
  lua_getfield(L, -1, field);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/*
** Append the objects of the walk to their groups: the walk keeps the
** class of the last object (at last) and its list (at list) so a run of
** objects of one class costs no lookups.
*/
typedef struct grouping {
  int saves, groupof, last, list;
  const void *lastp; /* the address of the class at last (kept there) */
  const char *field;
  lua_Integer n;    /* the length of the list at list */
  lua_Integer left; /* the pending objects not yet placed */
} grouping;

static void group_add(lua_State *L, grouping *g, int obj) {
  const void *cp;
  lua_getiuservalue(L, obj, UV_CLASS);
  cp = lua_topointer(L, -1);
  if (!cp || cp != g->lastp) {
    lua_copy(L, -1, g->last);
    g->lastp = cp;
    push_group(L, g->saves, g->groupof, g->last, g->field, g->left);
    lua_replace(L, g->list);
    g->n = (lua_Integer)lua_rawlen(L, g->list);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, obj);
  lua_rawseti(L, g->list, ++g->n);
}

/*
** C.flush_groups(newlist, new, dirty, deleted, groupof) -> saves: the
** flush's objects by the mapper that writes them (groupof[class], a
** table that may compute its entries): saves[m].ins the pending objects
** in the order they were added (newlist entries still at their position
** in new), saves[m].upd the modified ones not deleted.  Every entry of a
** newlist without the field `stale` is at its position in new (the
** session marks the list when an object leaves new), so only a marked
** list is checked entry by entry.
*/
static int l_flush_groups(lua_State *L) {
  lua_Integer n, i;
  int k, stale, nodel;
  grouping g = {6, 5, 7, 8, NULL, "ins", 0, 0};
  for (k = 1; k <= 5; k++) luaL_checktype(L, k, LUA_TTABLE);
  lua_settop(L, 5);
  lua_newtable(L); /* 6: saves */
  lua_pushnil(L);  /* 7: the last class */
  lua_pushnil(L);  /* 8: its list */
  n = (lua_Integer)lua_rawlen(L, 1);
  lua_pushliteral(L, "stale");
  stale = lua_rawget(L, 1) != LUA_TNIL;
  lua_pop(L, 1);
  for (i = 1; i <= n; i++) {
    g.left = n - i + 1;
    lua_rawgeti(L, 1, i); /* 9 */
    if (!stale) {
      rt_orm_checkinst(L, 9);
      group_add(L, &g, 9);
    } else {
      lua_pushvalue(L, 9);
      if (lua_rawget(L, 2) == LUA_TNUMBER && lua_tointeger(L, -1) == i &&
          rt_orm_checkinst(L, 9))
        group_add(L, &g, 9);
    }
    lua_settop(L, 8);
  }
  g.field = "upd";
  g.left = 0;
  /* (mostly nothing is deleted: then no object needs looking up there) */
  lua_pushnil(L);
  nodel = !lua_next(L, 4);
  lua_settop(L, 8);
  lua_pushnil(L);
  lua_copy(L, -1, 7);
  g.lastp = NULL;
  while (lua_next(L, 3)) { /* 9: obj, 10: true */
    lua_pop(L, 1);
    if (nodel) {
      rt_orm_checkinst(L, 9);
      group_add(L, &g, 9);
      continue;
    }
    lua_pushvalue(L, 9);
    if (lua_rawget(L, 4) == LUA_TNIL || !lua_toboolean(L, -1)) {
      rt_orm_checkinst(L, 9);
      group_add(L, &g, 9);
    }
    lua_settop(L, 9);
  }
  lua_settop(L, 6);
  return 1;
}

/* Forget every loaded value of the instance at idx (as C.expire(obj)). */
static void expire_whole(lua_State *L, int idx, linst *o) {
  int i;
  for (i = 0; i < o->nattrs; i++) {
    o->attr[i] = 0;
    lua_pushnil(L);
    lua_setiuservalue(L, idx, UV_VALUES + i);
  }
  o->flags &= (unsigned char)~O_MODIFIED;
  rt_orm_clear_committed(L, idx, o);
}

/* Expire the instance at idx; call rels(obj, mapper) (at rels) when it
** keeps extra attributes, the only place loaded relationships and other
** per-object state live. */
static void expire_one(lua_State *L, int idx, int rels) {
  linst *o = rt_orm_checkinst(L, idx);
  expire_whole(L, idx, o);
  if (lua_getiuservalue(L, idx, UV_EXTRAS) == LUA_TTABLE) {
    lua_pushvalue(L, rels);
    lua_pushvalue(L, idx);
    push_mapper(L, idx);
    lua_call(L, 2, 0);
  }
  lua_pop(L, 1);
}

/*
** C.expire_all(idmaps, dirty, rels) -- Session:expire_all: every object of
** the identity maps (a table of maps) and of the dirty set is expired, and
** rels(obj, mapper) forgets what it keeps besides columns (called only for
** objects that keep extra attributes: without them there is nothing to
** forget).  Expiring twice is expiring once, so an object in both is not
** looked for in the other.
*/
static int l_expire_all(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  lua_pushnil(L);
  while (lua_next(L, 1)) { /* 4: mapper, 5: map */
    if (lua_istable(L, 5)) {
      lua_pushnil(L);
      while (lua_next(L, 5)) { /* 6: key, 7: obj */
        expire_one(L, 7, 3);
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, 2)) { /* 4: obj, 5: true */
    expire_one(L, 4, 3);
    lua_pop(L, 1);
  }
  return 0;
}

/*
** C.set_keys(objs, i, j, idx, keys) -- the keys the database generated
** for objs[i..j] (keys[1..]) become attribute idx, as loaded.
*/
static int l_set_keys(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 2), j = luaL_checkinteger(L, 3), r;
  int idx = (int)luaL_checkinteger(L, 4);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 5, LUA_TTABLE);
  lua_settop(L, 5);
  for (r = i; r <= j; r++) {
    linst *o;
    lua_rawgeti(L, 1, r); /* 6 */
    o = rt_orm_checkinst(L, 6);
    luaL_argcheck(L, idx >= 1 && idx <= o->nattrs, 4, "attribute index");
    lua_rawgeti(L, 5, r - i + 1);
    if (rt_lua_isnull(L, -1)) {
      lua_pop(L, 1);
      lua_pushnil(L);
    }
    lua_setiuservalue(L, 6, UV_VALUES + idx - 1);
    o->attr[idx - 1] |= A_LOADED;
    lua_settop(L, 5);
  }
  return 0;
}

/* The INSERT signature of the instance at obj into sig (per attribute,
** whether the INSERT sets it: set, or sent as NULL for lack of a default,
** none[i - 1]); returns its length.  *gen tells whether the database must
** generate its primary key (pkidx: the key's attribute indexes, npk of
** them). */
static int insert_sig(lua_State *L, int obj, linst *o, const char *none,
                      const char *cols, int ncols, const int *pkidx, int npk,
                      char *sig, int *gen) {
  int m = o->nattrs < ncols ? o->nattrs : ncols, i, k;
  for (i = 0; i < m; i++)
    sig[i] = cols[i] && (rt_orm_insert_sets(L, obj, o, i + 1) || none[i]) ? '1'
                                                                          : '0';
  *gen = 0;
  for (k = 0; k < npk && !*gen; k++) {
    i = pkidx[k];
    if (i < 1 || i > o->nattrs || !(o->attr[i - 1] & A_LOADED))
      *gen = 1;
    else {
      *gen = lua_getiuservalue(L, obj, UV_VALUES + i - 1) == LUA_TNIL;
      lua_pop(L, 1);
    }
  }
  return m;
}

/*
** C.insert_plan(objs, none, pkidx) -> runs: the INSERTs of objs, in
** order, as runs of consecutive objects whose INSERTs set the same columns
** and agree on whether the database generates their key (such rows need
** their key back: one executemany with RETURNING on PostgreSQL, one by one
** elsewhere):
** {sig1, gen1, last1, sig2, gen2, last2, ...}.  `none` holds the indexes
** of the attributes sent as NULL when never set (no default of any kind).
** `colkeys` (index -> column key) are the attributes of the table the
** INSERTs go to: objects of classes of one hierarchy that set the same of
** those are alike, whatever else their classes have.
*/
static int l_insert_plan(lua_State *L) {
  lua_Integer n, r, nruns = 0;
  int pk[16], npk, k, len, prevlen = -1, gen, prevgen = 0, ncols = 0;
  char sig[256], prev[256], none[256], cols[256];
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  memset(cols, 0, sizeof cols);
  lua_pushnil(L);
  while (lua_next(L, 4)) {
    lua_Integer i = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
    if (i >= 1 && i <= 255) {
      cols[i - 1] = 1;
      if (i > ncols) ncols = (int)i;
    }
    lua_pop(L, 1);
  }
  npk = (int)lua_rawlen(L, 3);
  luaL_argcheck(L, npk <= 16, 3, "primary key size");
  for (k = 0; k < npk; k++) {
    lua_rawgeti(L, 3, k + 1);
    pk[k] = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  /* (read once: the signatures look at the first 255 attributes) */
  memset(none, 0, sizeof none);
  if (lua_istable(L, 2)) {
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      lua_Integer i = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
      if (i >= 1 && i <= 255) none[i - 1] = 1;
      lua_pop(L, 1);
    }
  }
  n = (lua_Integer)lua_rawlen(L, 1);
  lua_newtable(L); /* 5: runs */
  for (r = 1; r <= n; r++) {
    lua_rawgeti(L, 1, r); /* 6 */
    len = insert_sig(L, 6, rt_orm_checkinst(L, 6), none, cols, ncols, pk, npk,
                     sig, &gen);
    lua_pop(L, 1);
    if (len != prevlen || gen != prevgen ||
        memcmp(sig, prev, (size_t)len) != 0) {
      if (nruns) { /* the previous run ends at the object before */
        lua_pushinteger(L, r - 1);
        lua_rawseti(L, 5, ++nruns);
      }
      lua_pushlstring(L, sig, (size_t)len);
      lua_rawseti(L, 5, ++nruns);
      lua_pushboolean(L, gen);
      lua_rawseti(L, 5, ++nruns);
      memcpy(prev, sig, (size_t)len);
      prevlen = len, prevgen = gen;
    }
  }
  if (nruns) {
    lua_pushinteger(L, n);
    lua_rawseti(L, 5, ++nruns);
  }
  return 1;
}

/* an object to update and its one-integer primary key */
typedef struct keyed {
  lua_Integer key;
  lua_Integer row;
} keyed;

static int keyed_cmp(const void *a, const void *b) {
  lua_Integer x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;
  return (x > y) - (x < y);
}

/* Order ks[0..m) by key in one pass when the keys lie close together (a
** table's integer keys mostly do): each row goes to the slot of its key
** in a scratch array (pushed on the stack).  Returns 0 when the keys are
** too spread out for that or two are equal (the caller sorts and finds
** the duplicate). */
static int order_dense(lua_State *L, keyed *ks, lua_Integer m) {
  lua_Integer lo, hi, i, k = 0;
  lua_Unsigned span;
  lua_Integer *slot;
  if (m < 2) return 1;
  lo = hi = ks[0].key;
  for (i = 1; i < m; i++) {
    if (ks[i].key < lo) lo = ks[i].key;
    if (ks[i].key > hi) hi = ks[i].key;
  }
  span = (lua_Unsigned)hi - (lua_Unsigned)lo;
  if (span >= (lua_Unsigned)m * 4 + 64) return 0;
  slot = lua_newuserdatauv(L, sizeof(lua_Integer) * (size_t)(span + 1), 0);
  memset(slot, 0, sizeof(lua_Integer) * (size_t)(span + 1));
  for (i = 0; i < m; i++) {
    lua_Unsigned at = (lua_Unsigned)ks[i].key - (lua_Unsigned)lo;
    if (slot[at]) return 0;
    slot[at] = ks[i].row; /* rows are >= 1 */
  }
  for (i = 0; i <= (lua_Integer)span; i++)
    if (slot[i]) {
      ks[k].key = lo + i;
      ks[k++].row = slot[i];
    }
  return 1;
}

/* Are the values at a and b the same for the database (NULL as nil or
** sa.null, 1 and 1.0 alike)?  (As C.update_sigs compares them.) */
static int values_equal(lua_State *L, int a, int b) {
  int ta = lua_type(L, a), tb = lua_type(L, b);
  /* (mostly two strings, or two numbers) */
  if (ta == LUA_TSTRING && tb == LUA_TSTRING) return lua_rawequal(L, a, b);
  if (lua_rawequal(L, a, b)) return 1;
  if (rt_lua_isnull(L, a) && lua_isnil(L, b)) return 1;
  if (lua_isnil(L, a) && rt_lua_isnull(L, b)) return 1;
  if (ta == LUA_TNUMBER && tb == LUA_TNUMBER)
    return lua_compare(L, a, b, LUA_OPEQ);
  return 0;
}

/* The UPDATE signature of the instance at obj (as C.update_sigs makes
** it: '1' per attribute whose value differs from its committed one, among
** the first ncols, or those with a key in keys when keys is not 0) into
** sig; returns its length, or 0 when no attribute changed. */
static int update_sig(lua_State *L, int obj, linst *o, int ncols, int keys,
                      char *sig) {
  int m = o->nattrs < 255 ? o->nattrs : 255, i, any = 0;
  int top = lua_gettop(L);
  if (m > ncols) m = ncols;
  for (i = 1; i <= m; i++) {
    int c = 0;
    if (o->attr[i - 1] & A_MODIFIED) {
      lua_getiuservalue(L, obj, UV_VALUES + i - 1);
      if (rt_orm_push_committed(L, obj, o, i) != LUA_TNIL)
        c = !values_equal(L, -2, -1);
      else
        c = 1; /* never loaded: no committed value to compare */
      lua_settop(L, top);
    }
    if (c && keys) {
      c = lua_rawgeti(L, keys, i) != LUA_TNIL;
      lua_pop(L, 1);
    }
    sig[i - 1] = c ? '1' : '0';
    any |= c;
  }
  lua_settop(L, top);
  return any ? m : 0;
}

/*
** C.update_plan(objs, ncols | keys) -> list, runs | nil: the UPDATEs of
** objs: the objects with some column changed (C.update_sigs's rule),
** ordered by their identity (one integer each), and the runs of
** consecutive objects with the same signature (one executemany each) as
** {sig1, last1, sig2, last2, ...}.  The signatures are made in key
** order, mostly the order the objects lie in memory.  nil when an
** identity is not one integer or two are equal.
*/
static int l_update_plan(lua_State *L) {
  lua_Integer n, r, m = 0, i, k = 0, nruns = 0;
  int keys = lua_istable(L, 2) ? 2 : 0;
  int ncols = keys ? 255 : (int)luaL_optinteger(L, 2, 255), len, prevlen = 0;
  char sig[256], prev[256];
  keyed *ks;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  n = (lua_Integer)lua_rawlen(L, 1);
  ks = lua_newuserdatauv(L, sizeof(keyed) * (size_t)(n + 1), 0); /* 3 */
  for (r = 1; r <= n; r++) {
    int isint;
    linst *o;
    lua_rawgeti(L, 1, r);
    o = rt_orm_checkinst(L, -1);
    if (!(o->flags & O_MODIFIED)) { /* nothing set: no UPDATE */
      lua_pop(L, 1);
      continue;
    }
    lua_getiuservalue(L, -1, UV_IDENTITY);
    ks[m].key = lua_tointegerx(L, -1, &isint);
    isint = isint && lua_isinteger(L, -1);
    lua_pop(L, 2);
    if (!isint) return 0;
    ks[m++].row = r;
  }
  if (!order_dense(L, ks, m)) {
    qsort(ks, (size_t)m, sizeof(keyed), keyed_cmp);
    for (i = 1; i < m; i++)
      if (ks[i].key == ks[i - 1].key) return 0;
  }
  lua_settop(L, 3);
  lua_createtable(L, (int)m, 0); /* 4: list */
  lua_newtable(L);               /* 5: runs */
  for (i = 0; i < m; i++) {
    lua_rawgeti(L, 1, ks[i].row); /* 6 */
    len = update_sig(L, 6, lua_touserdata(L, 6), ncols, keys, sig);
    if (len > 0) {
      lua_rawseti(L, 4, ++k);
      if (len != prevlen || memcmp(sig, prev, (size_t)len) != 0) {
        if (nruns) { /* the previous run ends at the object before */
          lua_pushinteger(L, k - 1);
          lua_rawseti(L, 5, ++nruns);
        }
        lua_pushlstring(L, sig, (size_t)len);
        lua_rawseti(L, 5, ++nruns);
        memcpy(prev, sig, (size_t)len);
        prevlen = len;
      }
    } else
      lua_pop(L, 1);
  }
  if (nruns) {
    lua_pushinteger(L, k);
    lua_rawseti(L, 5, ++nruns);
  }
  return 2;
}

/* (orm/persistence.h) The identity itself stands for its value when it
** is one value. */
void rt_orm_push_ordered(lua_State *L, int obj, int e_idx) {
  lua_Integer e;
  if (lua_type(L, e_idx) == LUA_TTABLE) {
    lua_rawgeti(L, e_idx, 1);
    return;
  }
  e = lua_tointeger(L, e_idx);
  if (e > 0)
    lua_getiuservalue(L, obj, UV_VALUES + (int)e - 1);
  else if (lua_getiuservalue(L, obj, UV_IDENTITY) == LUA_TTABLE) {
    lua_rawgeti(L, -1, -e);
    lua_remove(L, -2);
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    rt_lua_pushnull(L);
  }
}

/* Per placeholder p (1..np) the attribute it reads, when it reads one
** (mostly), or 0 for the general rule of rt_orm_push_ordered; the order
** entries are at first..first+np-1.  A userdata pushed on the stack. */
static int *order_attrs(lua_State *L, int first, int np) {
  int p, *attr = lua_newuserdatauv(L, sizeof(int) * (size_t)(np + 1), 0);
  for (p = 1; p <= np; p++) {
    int at = first + p - 1;
    lua_Integer e = lua_isinteger(L, at) ? lua_tointeger(L, at) : 0;
    attr[p] = e > 0 && e <= 0xFFFF ? (int)e : 0;
  }
  return attr;
}

/* Push the value placeholder p takes of the instance o at obj (attr and
** the order entries from first as order_attrs has them). */
static void push_param(lua_State *L, int obj, linst *o, const int *attr,
                       int first, int p) {
  if (attr[p] && attr[p] <= o->nattrs) {
    if (lua_getiuservalue(L, obj, UV_VALUES + attr[p] - 1) == LUA_TNIL) {
      lua_pop(L, 1);
      rt_lua_pushnull(L);
    }
  } else
    rt_orm_push_ordered(L, obj, first + p - 1);
}

/* Push the flat list of the parameters of objs[i..j] (the tables at
** objs and order; see C.positional_flat). */
static void positional_flat(lua_State *L, int objs, lua_Integer i,
                            lua_Integer j, int order) {
  lua_Integer r, at = 0;
  int np = (int)lua_rawlen(L, order), p, k, list, first, *attr;
  luaL_argcheck(L, np <= 65535 && j - i < 100000000, 4, "too many values");
  lua_createtable(L, j >= i ? (int)((j - i + 1) * np) : 0, 0);
  list = lua_gettop(L);
  first = list + 1;
  for (k = 1; k <= np; k++) lua_rawgeti(L, order, k);
  attr = order_attrs(L, first, np);
  for (r = i; r <= j; r++) {
    int obj;
    linst *o;
    lua_rawgeti(L, objs, r);
    o = rt_orm_checkinst(L, -1);
    obj = lua_gettop(L);
    for (p = 1; p <= np; p++) {
      push_param(L, obj, o, attr, first, p);
      lua_rawseti(L, list, ++at);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, list);
}

/*
** C.positional_flat(objs, i, j, order) -> the positional parameters of
** objs[i..j] for a statement compiled once (see C.positional), as one
** flat list: row after row, #order values each.
*/
static int l_positional_flat(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 2), j = luaL_checkinteger(L, 3);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  positional_flat(L, 1, i, j, 4);
  return 1;
}

/* The parameters of objs[i..j] read straight from the objects into the
** driver's values (no list of them is made; see rt_lua_params). */
typedef struct objparams {
  rt_lua_params p;
  int objs, order, first, obj; /* obj: the slot of the current row's */
  lua_Integer i, cur;          /* objs[i] is row 1; the row at obj */
  linst *o;
  const int *attr;
  int keyattr; /* the generated key's attribute (1-based), or 0 */
} objparams;

static void objparams_push(lua_State *L, rt_lua_params *p, int r, int j) {
  objparams *s = (objparams *)p;
  if (s->cur != r) {
    lua_rawgeti(L, s->objs, s->i + r - 1);
    s->o = rt_orm_checkinst(L, -1);
    lua_replace(L, s->obj);
    s->cur = r;
  }
  push_param(L, s->obj, s->o, s->attr, s->first, j);
}

/* The key of row r, inserted before the batch failed: set on its object
** as C.set_keys would (SQLAlchemy's object keeps it through the
** rollback, and is inserted with it when added again). */
static void objparams_inserted(lua_State *L, rt_lua_params *p, int r,
                               int64_t id) {
  objparams *s = (objparams *)p;
  linst *o;
  lua_rawgeti(L, s->objs, s->i + r - 1);
  o = rt_orm_toinst(L, -1);
  if (o && s->keyattr >= 1 && s->keyattr <= o->nattrs) {
    lua_pushinteger(L, (lua_Integer)id);
    lua_setiuservalue(L, -2, UV_VALUES + s->keyattr - 1);
    o->attr[s->keyattr - 1] |= A_LOADED;
  }
  lua_pop(L, 1);
}

static void objparams_table(lua_State *L, rt_lua_params *p) {
  objparams *s = (objparams *)p;
  positional_flat(L, s->objs, s->i, s->i + s->p.nrows - 1, s->order);
}

/*
** C.exec_objs(conn, sql, objs, i, j, order, kinds, conv, each) -- what
** conn:_exec_compiled(sql, C.positional_flat(objs, i, j, order), kinds,
** conv, #order) does (each: conn:_insert_each(sql, ..., kinds, #order),
** and when each is the index of the generated key's attribute, the rows
** inserted before a failure get their keys;
** each "returning": an INSERT with RETURNING whose executemany gives its
** rows), the values read from the objects as the driver's parameters are
** made; the Result (each: the list of generated keys).  #order is at
** least 1.
*/
static int l_exec_objs(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 4), j = luaL_checkinteger(L, 5);
  const char *sql = luaL_checkstring(L, 2), *kinds = luaL_optstring(L, 7, "");
  const unsigned char *conv = NULL;
  size_t nconv = 0;
  int np, k, each = lua_toboolean(L, 9), returning = 0;
  objparams s;
  if (lua_type(L, 9) == LUA_TSTRING) {
    luaL_argcheck(L, strcmp(lua_tostring(L, 9), "returning") == 0, 9,
                  "\"returning\" or a boolean expected");
    each = 0;
    returning = 1;
  }
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 6, LUA_TTABLE);
  if (!lua_isnoneornil(L, 8))
    conv = (const unsigned char *)luaL_checklstring(L, 8, &nconv);
  lua_settop(L, 9);
  np = (int)lua_rawlen(L, 6);
  luaL_argcheck(L, np >= 1 && np <= 65535 && j >= i && j - i < 100000000, 6,
                "parameter count");
  if (!rt_lua_toconn(L, 1)) { /* another kind of connection: its method */
    lua_getfield(L, 1, each ? "_insert_each" : "_exec_compiled");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    positional_flat(L, 3, i, j, 6);
    lua_pushvalue(L, 7);
    if (each)
      lua_pushinteger(L, np);
    else {
      lua_pushvalue(L, 8);
      lua_pushinteger(L, np);
      lua_pushboolean(L, returning);
    }
    lua_call(L, each ? 5 : 7, 1);
    return 1;
  }
  s.p.nrows = (int)(j - i + 1);
  s.p.width = np;
  s.p.returning = returning;
  s.p.push = objparams_push;
  s.p.push_table = objparams_table;
  /* (each: true, or the index of the key attribute the database
  ** generates, set on the objects inserted before a failure) */
  s.p.inserted = NULL;
  s.keyattr = 0;
  if (each && lua_isinteger(L, 9)) {
    s.keyattr = (int)lua_tointeger(L, 9);
    s.p.inserted = objparams_inserted;
  }
  s.objs = 3, s.order = 6, s.i = i, s.cur = 0, s.o = NULL;
  s.first = 10;
  for (k = 1; k <= np; k++) lua_rawgeti(L, 6, k); /* 10..9+np */
  s.attr = order_attrs(L, s.first, np);
  lua_pushnil(L);
  s.obj = lua_gettop(L);
  if (each) return rt_lua_insert_each_params(L, sql, kinds, &s.p);
  return rt_lua_exec_params(L, sql, kinds, conv, (int)nconv, &s.p);
}

/* hooks.modified(obj), called by an instance's first change since the
** flush when it is persistent in a session: the session (upvalue 1: live
** sessions by id) holds it in its dirty set (upvalue 2: the field's
** name), strongly.  (Not raw: a session makes that set on first use.) */
static int modified_hook(lua_State *L) {
  linst *o = rt_orm_checkinst(L, 1);
  if (lua_rawgeti(L, lua_upvalueindex(1), o->session) == LUA_TTABLE) {
    lua_pushvalue(L, lua_upvalueindex(2)); /* "_dirty" */
    if (lua_gettable(L, -2) == LUA_TTABLE) {
      lua_pushvalue(L, 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
  }
  return 0;
}

/* (orm/persistence.h) What calling the hook does, without the call: its
** upvalues read in place. */
int rt_orm_mark_modified(lua_State *L, int hook, int obj) {
  linst *o;
  int top;
  if (lua_tocfunction(L, hook) != modified_hook) return 0;
  o = rt_orm_checkinst(L, obj);
  top = lua_gettop(L);
  lua_getupvalue(L, hook, 1);
  if (lua_rawgeti(L, -1, o->session) == LUA_TTABLE) {
    lua_getupvalue(L, hook, 2); /* "_dirty", made on first use */
    if (lua_gettable(L, -2) == LUA_TTABLE) {
      lua_pushvalue(L, obj);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
  }
  lua_settop(L, top);
  return 1;
}

/* C.modified_hook(sessions) -> the function for hooks.modified */
static int l_modified_hook(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushliteral(L, "_dirty");
  lua_pushcclosure(L, modified_hook, 2);
  return 1;
}

/* The __index of a class whose methods are looked up far more often than
** anything else: methods (upvalue 1) first, raw, and any other key from
** fallback(self, key) (upvalue 2), but for a name that starts with '_':
** the object's own fields are named so, and one not set is nil -- unless
** the set of lazy fields (upvalue 3) has it: such a field is a table
** made on its first use (an object that never uses it makes none). */
static int method_index(lua_State *L) {
  const char *k;
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  if (lua_type(L, 2) == LUA_TSTRING && (k = lua_tostring(L, 2))[0] == '_') {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(3)) == LUA_TNIL) return 1;
    if (lua_type(L, 1) != LUA_TTABLE) {
      lua_pushnil(L);
      return 1;
    }
    lua_newtable(L);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

/*
** C.sql_rows(objs, keys) -> rows | nil: the objects of objs that hold a
** SQL expression as the value of an attribute with a column key in keys
** (attribute index -> key), as position -> the list of those attributes'
** indexes; nil when none does.  Only objects flagged when the expression
** was assigned are looked into; a flag whose expression is gone
** (replaced, flushed, expired) is dropped.
*/
static int l_sql_rows(lua_State *L) {
  lua_Integer n, r;
  int found = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 1);
  lua_settop(L, 2);
  lua_newtable(L); /* 3 */
  for (r = 1; r <= n; r++) {
    linst *o;
    int a, k = 0, any = 0;
    lua_rawgeti(L, 1, r); /* 4 */
    o = rt_orm_checkinst(L, 4);
    if (o->flags & O_SQLVALUE) {
      for (a = 1; a <= o->nattrs; a++) {
        int sql;
        if (!(o->attr[a - 1] & A_LOADED)) continue;
        sql = lua_getiuservalue(L, 4, UV_VALUES + a - 1) == LUA_TUSERDATA &&
              lsql_tonodebox(L, -1) != NULL;
        lua_pop(L, 1);
        if (!sql) continue;
        any = 1;
        /* (an attribute of another table of the hierarchy: not here) */
        if (lua_rawgeti(L, 2, a) == LUA_TNIL) {
          lua_pop(L, 1);
          continue;
        }
        lua_pop(L, 1);
        if (k == 0) lua_newtable(L); /* 5 */
        lua_pushinteger(L, a);
        lua_rawseti(L, 5, ++k);
      }
      if (k > 0) {
        lua_rawseti(L, 3, r);
        found = 1;
      } else if (!any)
        o->flags &= (unsigned char)~O_SQLVALUE;
    }
    lua_settop(L, 3);
  }
  if (!found) lua_pushnil(L);
  return 1;
}

/* C.method_index(methods, fallback [, lazy]) -> the function for __index
** (lazy: a set of field names) */
static int l_method_index(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (lua_isnoneornil(L, 3)) {
    lua_settop(L, 2);
    lua_newtable(L);
  } else
    luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  lua_pushcclosure(L, method_index, 3);
  return 1;
}

static const luaL_Reg persistence_c[] = {
    {"add_all", l_add_all},           {"presized", l_presized},
    {"flush_groups", l_flush_groups}, {"expire_all", l_expire_all},
    {"set_keys", l_set_keys},         {"insert_plan", l_insert_plan},
    {"update_plan", l_update_plan},   {"modified_hook", l_modified_hook},
    {"method_index", l_method_index}, {"positional_flat", l_positional_flat},
    {"exec_objs", l_exec_objs},                    /* (the flush's batches) */
    {"sql_rows", l_sql_rows},         {NULL, NULL} /* one entry a line */
};

void rt_orm_persistence_register(lua_State *L) {
  luaL_setfuncs(L, persistence_c, 0);
}
