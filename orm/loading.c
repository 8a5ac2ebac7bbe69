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

/* Past this many rows the collector pauses while a load goes on: every
** object made stays reachable from the output list, so a cycle running
** meanwhile only marks it again and again.  A short load leaves the
** collector alone, since restarting it clears its debt and ends the pause
** between cycles. */
#define GC_FREE_ROWS 1024

/* the arguments of C.load_result */
enum {
  RES = 1,
  MAX,
  CLASS,
  MT,
  NATTRS,
  COLPOS,
  PKPOS,
  IDMAP,
  SID,
  POPULATE,
  OUT,
  OUTN,
  KEYCOL,
  KEYS,
  TOP = KEYS
};

typedef struct loadjob {
  lresult *res;
  lua_Integer sid;
  lua_Integer outn;  /* objects in OUT so far */
  lua_Integer nrows; /* rows read so far */
  lua_Integer max;   /* rows to read at most, 0: all */
  int nattrs, npk, populate, discard, keycol;
  int colpos[256]; /* 0-based result columns, -1: not selected */
  int pkpos[16];
} loadjob;

/* Push the row's identity key, and below it (npk > 1) the key's values;
** 0 (nothing pushed) when a key column is NULL. */
static int push_key(lua_State *L, loadjob *j) {
  int base = lua_gettop(L), k;
  luaL_Buffer b;
  if (j->npk == 1) {
    rt_lua_rowsource_push(L, j->res, j->pkpos[0]);
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);
    return 0;
  }
  for (k = 0; k < j->npk; k++) {
    rt_lua_rowsource_push(L, j->res, j->pkpos[k]);
    if (lua_isnil(L, -1)) {
      lua_settop(L, base);
      return 0;
    }
  }
  /* the same key as C.rowkey makes */
  luaL_buffinit(L, &b);
  for (k = 0; k < j->npk; k++) {
    if (k) luaL_addchar(&b, '\x1f');
    if (lua_type(L, base + 1 + k) == LUA_TSTRING) luaL_addchar(&b, 's');
    lua_pushvalue(L, base + 1 + k);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

/* The object at obj was in the identity map: fill what C.load fills. */
static void refill(lua_State *L, loadjob *j, int obj) {
  linst *o = lua_touserdata(L, obj);
  int n = j->nattrs < o->nattrs ? j->nattrs : o->nattrs, i;
  for (i = 0; i < n; i++) {
    if (j->colpos[i] < 0 || ((o->attr[i] & A_MODIFIED) && !j->discard))
      continue;
    if ((o->attr[i] & A_LOADED) && !j->populate) continue;
    rt_lua_rowsource_push(L, j->res, j->colpos[i]);
    lua_setiuservalue(L, obj, UV_VALUES + i);
    o->attr[i] |= A_LOADED;
  }
  if (j->discard) {
    /* populate_existing: the row's state is the object's now, its pending
    ** changes discarded (as SQLAlchemy commits it all) */
    for (i = 0; i < o->nattrs; i++) o->attr[i] &= (unsigned char)~A_MODIFIED;
    o->flags &= (unsigned char)~O_MODIFIED;
    lua_pushnil(L);
    lua_setiuservalue(L, obj, UV_COMMITTED);
  }
}

/* A new persistent object from the row, its key at `key` (and the key's
** values below it for a composite key), entered in the identity map. */
static void make(lua_State *L, loadjob *j, int key) {
  linst *o = orm_newinst(L, j->nattrs);
  int obj = lua_gettop(L), i;
  lua_pushvalue(L, MT);
  lua_setmetatable(L, obj);
  lua_pushvalue(L, CLASS);
  lua_setiuservalue(L, obj, UV_CLASS);
  if (j->npk == 1)
    lua_pushvalue(L, key);
  else {
    /* a composite identity is kept as the list of its values */
    lua_createtable(L, j->npk, 0);
    for (i = 0; i < j->npk; i++) {
      lua_pushvalue(L, key - j->npk + i);
      lua_rawseti(L, -2, i + 1);
    }
  }
  lua_setiuservalue(L, obj, UV_IDENTITY);
  for (i = 0; i < j->nattrs; i++) {
    if (j->colpos[i] < 0) continue;
    rt_lua_rowsource_push(L, j->res, j->colpos[i]);
    lua_setiuservalue(L, obj, UV_VALUES + i);
    o->attr[i] = A_LOADED;
  }
  o->lifecycle = S_PERSISTENT;
  o->session = j->sid;
  lua_pushvalue(L, key);
  lua_pushvalue(L, obj);
  lua_rawset(L, IDMAP);
}

/* Read rows until j->max (or the end), `limit` of them at most (< 0: no
** limit); j->max becomes -1 at the end of the rows. */
static void load_rows(lua_State *L, loadjob *j, lua_Integer limit) {
  luaL_checkstack(L, j->npk + 8, "primary key size");
  while ((j->max == 0 || j->nrows < j->max) && limit-- != 0) {
    int key;
    if (!rt_lua_rowsource_next(L, j->res)) {
      j->max = -1; /* the end: nothing more to read */
      return;
    }
    j->nrows++;
    if (!push_key(L, j)) continue; /* an outer join's empty side */
    key = lua_gettop(L);
    lua_pushvalue(L, key);
    if (lua_rawget(L, IDMAP) != LUA_TNIL)
      refill(L, j, key + 1);
    else {
      lua_pop(L, 1);
      make(L, j, key);
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, OUT, ++j->outn);
    if (j->keycol >= 0) {
      rt_lua_rowsource_push(L, j->res, j->keycol);
      lua_rawseti(L, KEYS, j->outn);
    }
    lua_settop(L, TOP);
  }
}

/* the rest of a long load, run protected while the collector pauses */
static int load_rest(lua_State *L) {
  loadjob *j = lua_touserdata(L, TOP + 1);
  lua_settop(L, TOP);
  load_rows(L, j, -1);
  return 0;
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

/*
** C.load_result(result, max, class, mt, nattrs, colpos, pkpos, idmap,
**               sid, populate, out, outn [, keycol, keys]) -> outn, nrows
**
** Up to `max` rows (0: all) of the plain Result `result` become instances
** of `class`, under the rules of C.load (which see for colpos, pkpos,
** idmap, sid, populate, out and outn).  With keycol, keys[k] is that
** row position's value for each object out[k] appended.  nrows: the rows
** read, fewer than max only at the end of the rows.
*/
static int l_load_result(lua_State *L) {
  loadjob j;
  lua_Integer max = luaL_optinteger(L, MAX, 0);
  j.res = rt_lua_torowsource(L, RES);
  if (!j.res) return luaL_argerror(L, RES, "a plain Result");
  j.nattrs = (int)luaL_checkinteger(L, NATTRS);
  luaL_argcheck(L, j.nattrs >= 1 && j.nattrs <= 256, NATTRS, "attribute count");
  luaL_checktype(L, COLPOS, LUA_TTABLE);
  luaL_checktype(L, PKPOS, LUA_TTABLE);
  luaL_checktype(L, IDMAP, LUA_TTABLE);
  luaL_checktype(L, OUT, LUA_TTABLE);
  j.npk = (int)lua_rawlen(L, PKPOS);
  luaL_argcheck(L, j.npk >= 1 && j.npk <= 16, PKPOS, "primary key size");
  j.sid = luaL_checkinteger(L, SID);
  j.populate = lua_toboolean(L, POPULATE);
  j.discard = lua_isinteger(L, POPULATE) && lua_tointeger(L, POPULATE) == 2;
  j.outn = luaL_checkinteger(L, OUTN);
  j.keycol = (int)luaL_optinteger(L, KEYCOL, 0) - 1;
  if (j.keycol >= 0) luaL_checktype(L, KEYS, LUA_TTABLE);
  j.max = max > 0 ? max : 0;
  j.nrows = 0;
  read_positions(L, COLPOS, j.colpos, j.nattrs);
  read_positions(L, PKPOS, j.pkpos, j.npk);
  lua_settop(L, TOP);
  load_rows(L, &j, GC_FREE_ROWS);
  if (j.max >= 0 && (j.max == 0 || j.nrows < j.max)) {
    int running = lua_gc(L, LUA_GCISRUNNING), rc, i;
    lua_pushcfunction(L, load_rest);
    for (i = 1; i <= TOP; i++) lua_pushvalue(L, i);
    lua_pushlightuserdata(L, &j);
    if (running) lua_gc(L, LUA_GCSTOP);
    rc = lua_pcall(L, TOP + 1, 0, 0);
    if (running) lua_gc(L, LUA_GCRESTART);
    if (rc != LUA_OK) lua_error(L);
  }
  lua_pushinteger(L, j.outn);
  lua_pushinteger(L, j.nrows);
  return 2;
}

/* C.rowsource(x) -> whether x is a plain Result C.load_result can read */
static int l_rowsource(lua_State *L) {
  lua_pushboolean(L, rt_lua_torowsource(L, 1) != NULL);
  return 1;
}

static const luaL_Reg loading_c[] = {
    {"load_result", l_load_result}, {"rowsource", l_rowsource}, {NULL, NULL}};

void rt_orm_loading_register(lua_State *L) {
  luaL_setfuncs(L, loading_c, 0);
}
