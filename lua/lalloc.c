/*
** lalloc.c -- the allocator of the retort binary's Lua state.
**
** Results make many small objects (a table and a string or two per row)
** and the collector frees them in bulk; malloc's general bins spend more
** time on that than the rest of a fetch.  Here blocks of up to
** RT_POOL_MAX bytes come from free lists, one per 16-byte size class,
** refilled from 64 KiB slabs; larger blocks go to malloc.  Freed small
** blocks return to their list, never to the system: the pool is only as
** large as the most the state ever held at once.  lua_Alloc gives the old
** size of every block it frees or resizes, so blocks need no header.
**
** Sanitized builds use plain malloc, so the sanitizers see every block.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lretort.h"

#if defined(__SANITIZE_ADDRESS__)
#define RT_POOL_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_POOL_ON 0
#endif
#endif
#ifndef RT_POOL_ON
#define RT_POOL_ON 1
#endif

#define RT_POOL_STEP 16
#define RT_POOL_MAX 256
#define RT_POOL_CLASSES (RT_POOL_MAX / RT_POOL_STEP)
#define RT_SLAB_SIZE (64 * 1024)

typedef struct slab {
  struct slab *next;
} slab;

typedef struct pool {
  void *free[RT_POOL_CLASSES]; /* a block's first word links the next */
  char *next, *end;            /* the unused rest of the newest slab */
  slab *slabs;
  int warn_on, warn_cont; /* lua_setwarnf's state, as lauxlib's */
} pool;

static int class_of(size_t size) {
  return (int)((size - 1) / RT_POOL_STEP);
}

static void *pool_get(pool *p, size_t size) {
  int c = class_of(size);
  size_t bytes = (size_t)(c + 1) * RT_POOL_STEP;
  void *b = p->free[c];
  if (b) {
    p->free[c] = *(void **)b;
    return b;
  }
  if ((size_t)(p->end - p->next) < bytes) {
    /* the rest of the old slab is left: at most RT_POOL_MAX bytes */
    slab *s = malloc(RT_SLAB_SIZE);
    if (s == NULL) return NULL;
    s->next = p->slabs;
    p->slabs = s;
    p->next = (char *)s + RT_POOL_STEP;
    p->end = (char *)s + RT_SLAB_SIZE;
  }
  b = p->next;
  p->next += bytes;
  return b;
}

static void pool_put(pool *p, void *b, size_t size) {
  int c = class_of(size);
  *(void **)b = p->free[c];
  p->free[c] = b;
}

/* Every case but the two common ones below: resizes, blocks from
** malloc, an empty free list.  Kept apart (and out of line) so that the
** common cases save no registers and make no frame. */
static __attribute__((noinline)) void *pool_rest(pool *p, void *ptr,
                                                 size_t osize, size_t nsize) {
  void *nb;
  /* osize is a size only when ptr is a block (else it tells the type) */
  int osmall = ptr != NULL && osize <= RT_POOL_MAX;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr == NULL)
    return nsize <= RT_POOL_MAX ? pool_get(p, nsize) : malloc(nsize);
  if (!osmall && nsize > RT_POOL_MAX) return realloc(ptr, nsize);
  if (osmall && nsize <= RT_POOL_MAX && class_of(osize) == class_of(nsize))
    return ptr;
  nb = nsize <= RT_POOL_MAX ? pool_get(p, nsize) : malloc(nsize);
  if (nb == NULL) /* Lua needs a shrink to succeed: keep the bigger block */
    return nsize <= osize ? ptr : NULL;
  memcpy(nb, ptr, osize < nsize ? osize : nsize);
  if (osmall)
    pool_put(p, ptr, osize);
  else
    free(ptr);
  return nb;
}

/* The lua_Alloc: a small block freed, a null one "freed" (every table
** with no array part frees one), a new small one taken from its free
** list or the newest slab, in a few instructions (most calls); the rest
** by pool_rest. */
static void *pool_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  pool *p = ud;
  if (nsize == 0) {
    if (ptr == NULL) return NULL;
    if (osize <= RT_POOL_MAX) {
      pool_put(p, ptr, osize);
      return NULL;
    }
  } else if (ptr == NULL && nsize - 1 < RT_POOL_MAX) {
    int c = class_of(nsize);
    size_t bytes = (size_t)(c + 1) * RT_POOL_STEP;
    void *b = p->free[c];
    if (b) {
      p->free[c] = *(void **)b;
      return b;
    }
    if ((size_t)(p->end - p->next) >= bytes) {
      b = p->next;
      p->next += bytes;
      return b;
    }
  }
  return pool_rest(p, ptr, osize, nsize);
}

static int on_panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n",
          msg ? msg : "error object is not a string");
  return 0;
}

/* lauxlib's warning function: off until "@on", "Lua warning: " first */
static void on_warn(void *ud, const char *msg, int tocont) {
  pool *p = ud;
  if (!p->warn_cont && msg[0] == '@') {
    if (strcmp(msg + 1, "off") == 0)
      p->warn_on = 0;
    else if (strcmp(msg + 1, "on") == 0)
      p->warn_on = 1;
    return;
  }
  if (p->warn_on) {
    if (!p->warn_cont) fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont) fputs("\n", stderr);
    fflush(stderr);
  }
  p->warn_cont = tocont;
}

static lua_State *new_state(void) {
  pool *p;
  lua_State *L;
  if (!RT_POOL_ON) return luaL_newstate();
  p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  L = lua_newstate(pool_alloc, p);
  if (L == NULL) {
    free(p);
    return NULL;
  }
  lua_atpanic(L, on_panic);
  lua_setwarnf(L, on_warn, p);
  return L;
}

/*
** The collector's policy, chosen by measurement (callgrind: instructions
** in the timed loop of each scenario of scripts/bench, full sizes).  Lua's
** default incremental pause of 200 starts a cycle once the heap has
** doubled; 350 waits until it is 3.5 times its size after the last cycle,
** which saves cycles over a large live heap: orm_insert -4.9%,
** orm_insert_pk_given -5.1%, compile_select -4.7%, core_insert -2.4%,
** orm_load_columns -2.5%, all thirteen scenarios together -2.4%, none
** worse by more than 0.6% (core_fetchall over three runs -0.8%; runs of
** one build differ by up to 1.7%, as Lua seeds its string hashes from
** the clock).  Pauses of 300 and 400 saved less (-1.7%, -1.5%, with
** core_fetchall +1.2% and compile_select +2.1%); so did a step multiplier
** of 200 with 300 (-1.8%).  The generational mode was no better
** (core_get_by_pk +4%; orm_load_full +20% when measured before), nor was
** keeping the collector running during long loads (loads of 20k rows
** +17..20%) or paying its debt after them (+10..15%; orm/loading.c,
** lresult.c; the ORM's loads pause it once they outgrow the heap they
** began with, see orm/loading.c).  Peak RSS grows but stays far inside
** the limits: streaming 1M rows 22 -> 31 MB (core), ORM yield_per 24 ->
** 34 MB; a soak run stays flat.  The step size stays Lua's.  Only the
** retort binary's state is set: a host that loads retort.so owns its
** collector.
*/
#define RT_GC_PAUSE 350

lua_State *rt_lua_newstate(void) {
  lua_State *L = new_state();
  if (L != NULL) lua_gc(L, LUA_GCINC, RT_GC_PAUSE, 0, 0);
  return L;
}

void rt_lua_closestate(lua_State *L) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  lua_close(L);
  if (f == pool_alloc) {
    pool *p = ud;
    while (p->slabs) {
      slab *s = p->slabs;
      p->slabs = s->next;
      free(s);
    }
    free(p);
  }
}
