/*
** orm/lorm.h -- the layout of a mapped instance (see orm/lorm.c), shared
** by the C files of the ORM that work on instances directly.
*/
#ifndef RT_ORM_LORM_H
#define RT_ORM_LORM_H

#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/lretort.h"

/* the user values of an instance */
enum { UV_CLASS = 1, UV_EXTRAS, UV_COMMITTED, UV_IDENTITY, UV_VALUES };

/* lifecycle, as SQLAlchemy names the object states */
enum { S_TRANSIENT, S_PENDING, S_PERSISTENT, S_DELETED, S_DETACHED };

/* per attribute */
#define A_LOADED 1
#define A_MODIFIED 2
/* not loaded, yet read as nil without SQL: its INSERT sent NULL and it
** was not expired since (SQLAlchemy: in neither the dict nor the expired
** attributes); every expiry clears it */
#define A_ABSENT 4
/* per instance */
#define O_MODIFIED 1 /* some attribute was set since the last flush */
#define O_COMMIT1                                                              \
  2                   /* UV_COMMITTED is the committed value of attribute      \
                      ** c1 itself, the only one remembered (see below) */
#define O_COMMITTAB 4 /* UV_COMMITTED is the table of them (see below) */
#define O_SQLVALUE                                                             \
  8 /* a SQL expression was assigned to some attribute                         \
    ** (the flush renders it inline: C.sql_rows) */

typedef struct linst {
  unsigned char magic; /* tells instances from other userdata */
  unsigned char lifecycle;
  unsigned char flags;
  unsigned short c1;   /* with O_COMMIT1: that attribute's index */
  lua_Integer session; /* 0: none */
  /* a joined load's last placement of this object in a collection, and
  ** its index as a parent there (orm/loading.c place_stamped), 0: none */
  unsigned long long placed, parent;
  int nattrs;
  unsigned char attr[1]; /* nattrs of them */
} linst;

#define INST_MAGIC 0xA7

/* The instance at idx, or NULL for any other value. */
static inline linst *rt_orm_toinst(lua_State *L, int idx) {
  linst *o = lua_touserdata(L, idx);
  if (o && lua_rawlen(L, idx) >= sizeof(linst) && o->magic == INST_MAGIC)
    return o;
  return NULL;
}

/* The instance at idx; raises UnmappedInstanceError for anything else. */
static inline linst *rt_orm_checkinst(lua_State *L, int idx) {
  linst *o = rt_orm_toinst(L, idx);
  if (!o)
    rt_lua_error(L, RT_EUNMAPPEDINSTANCE, "Class '%s' is not mapped",
                 luaL_typename(L, idx));
  return o;
}

/* Push a new instance with nattrs attributes, nothing set. */
static inline linst *rt_orm_newinst(lua_State *L, int nattrs) {
  linst *o = lua_newuserdatauv(L, sizeof(linst) + (size_t)nattrs,
                               UV_VALUES + nattrs - 1);
  memset(o, 0, sizeof(linst) + (size_t)nattrs);
  o->magic = INST_MAGIC;
  o->nattrs = nattrs;
  return o;
}

/*
** The committed values of modified attributes: mostly one attribute of an
** object changes, so its committed value is kept in UV_COMMITTED itself
** (O_COMMIT1, the attribute c1), and only a second one makes the table of
** them (attribute index -> value).  Every reader and writer goes through
** these.
*/

/* Push the committed value of attribute i of the instance o at idx (an
** absolute index); returns its type, LUA_TNIL when none is remembered. */
static inline int rt_orm_push_committed(lua_State *L, int idx, linst *o,
                                        int i) {
  int t;
  if (!(o->flags & (O_COMMIT1 | O_COMMITTAB))) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  if (o->flags & O_COMMIT1) {
    if (o->c1 == i) return lua_getiuservalue(L, idx, UV_COMMITTED);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  if (lua_getiuservalue(L, idx, UV_COMMITTED) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  t = lua_rawgeti(L, -1, i);
  lua_remove(L, -2);
  return t;
}

/* Forget every committed value of the instance o at idx. */
static inline void rt_orm_clear_committed(lua_State *L, int idx, linst *o) {
  if (!(o->flags & (O_COMMIT1 | O_COMMITTAB))) return; /* none: nil */
  o->flags &= (unsigned char)~(O_COMMIT1 | O_COMMITTAB);
  lua_pushnil(L);
  lua_setiuservalue(L, idx, UV_COMMITTED);
}

/* Remember the value on top (popped; not nil) as the committed value of
** attribute i of the instance o at idx (absolute). */
static inline void rt_orm_set_committed(lua_State *L, int idx, linst *o,
                                        int i) {
  int t = lua_getiuservalue(L, idx, UV_COMMITTED);
  if (t == LUA_TNIL && !(o->flags & O_COMMIT1) && i <= 0xFFFF) {
    lua_pop(L, 1);
    lua_setiuservalue(L, idx, UV_COMMITTED);
    o->flags |= O_COMMIT1;
    o->c1 = (unsigned short)i;
    return;
  }
  if (o->flags & O_COMMIT1) { /* a second one: the table of both */
    lua_createtable(L, o->nattrs, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, o->c1);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, UV_COMMITTED);
    o->flags &= (unsigned char)~O_COMMIT1;
    o->flags |= O_COMMITTAB;
  } else if (t != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, o->nattrs, 0);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, UV_COMMITTED);
    o->flags |= O_COMMITTAB;
  }
  lua_insert(L, -2);
  lua_rawseti(L, -2, i);
  lua_pop(L, 1);
}

/* Forget the committed value of attribute i of the instance o at idx. */
static inline void rt_orm_drop_committed(lua_State *L, int idx, linst *o,
                                         int i) {
  if (!(o->flags & (O_COMMIT1 | O_COMMITTAB))) return;
  if (o->flags & O_COMMIT1) {
    if (o->c1 == i) rt_orm_clear_committed(L, idx, o);
    return;
  }
  if (lua_getiuservalue(L, idx, UV_COMMITTED) == LUA_TTABLE) {
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
  }
  lua_pop(L, 1);
}

/* Does an INSERT of the instance o at obj set attribute i (1-based)
** from its value: loaded and not nil (lorm.c)? */
int rt_orm_insert_sets(lua_State *L, int obj, linst *o, int i);

#endif
