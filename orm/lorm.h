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
/* per instance */
#define O_MODIFIED 1 /* some attribute was set since the last flush */

typedef struct linst {
  unsigned char magic; /* tells instances from other userdata */
  unsigned char lifecycle;
  unsigned char flags;
  lua_Integer session; /* 0: none */
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

#endif
