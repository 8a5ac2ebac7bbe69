/*
** orm/loading.h -- the layout of a mapped instance (shared by the files
** of the ORM written in C) and the loaders of orm/loading.c, which build
** instances straight from a Result's cursor.
*/
#ifndef RT_ORM_LOADING_H
#define RT_ORM_LOADING_H

#include <string.h>

#include "lua/lretort.h"

/*
** An instance is one full userdata: the C part below, and user values
** (see orm/lorm.c for what each holds).
*/
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

static inline linst *orm_toinst(lua_State *L, int idx) {
  linst *o = lua_touserdata(L, idx);
  if (o && lua_rawlen(L, idx) >= sizeof(linst) && o->magic == INST_MAGIC)
    return o;
  return NULL;
}

/* Push a new instance with nattrs attributes, nothing set. */
static inline linst *orm_newinst(lua_State *L, int nattrs) {
  linst *o = lua_newuserdatauv(L, sizeof(linst) + (size_t)nattrs,
                               UV_VALUES + nattrs - 1);
  memset(o, 0, sizeof(linst) + (size_t)nattrs);
  o->magic = INST_MAGIC;
  o->nattrs = nattrs;
  return o;
}

/* Add the loaders to the table of C primitives on top of the stack. */
void rt_orm_loading_register(lua_State *L);

#endif
