/*
** pool.h -- a pool of driver connections for one engine.
**
** The pool classes of SQLAlchemy 1.4, as far as one thread sees them.
** QueuePool: up to pool_size idle connections are kept; up to pool_size +
** max_overflow may be checked out at once; a checkout beyond that waits
** pool_timeout seconds and fails with TimeoutError (in a single thread
** nothing can be returned meanwhile, so the wait ends in the error, as
** SQLAlchemy's would).  SingletonThreadPool (SQLite :memory:) and
** StaticPool hand out one shared connection to everybody, so all see the
** same database.  NullPool connects on each checkout and closes on return
** (SQLite files).
*/
#ifndef RT_POOL_H
#define RT_POOL_H

#include "driver.h"

typedef enum rt_pool_kind {
  RT_POOL_DEFAULT = 0, /* the dialect's choice (rt_engine_create) */
  RT_POOL_QUEUE,
  RT_POOL_SINGLETON_THREAD,
  RT_POOL_STATIC,
  RT_POOL_NULL
} rt_pool_kind;

typedef struct rt_pool_opts {
  int pool_size;       /* 5 */
  int max_overflow;    /* 10; -1 for no limit */
  double pool_timeout; /* 30 seconds */
  double pool_recycle; /* seconds; <= 0: never */
  int pre_ping;        /* ping before handing out */
  rt_pool_kind kind;
} rt_pool_opts;

/* SQLAlchemy's class name of a pool kind: "QueuePool", "NullPool", ... */
const char *rt_pool_kind_name(rt_pool_kind k);

typedef struct rt_pool {
  const rt_driver *drv;
  rt_url *url; /* owned copy */
  int nargs;
  rt_url_arg *args; /* connect_args, owned */
  rt_pool_opts opts;
  rt_dbconn **idle; /* stack of idle connections */
  int nidle;
  int checkedout;          /* connections handed out and not yet returned */
  unsigned long nconnects; /* driver connections made so far */
  double invalid_time;     /* rt_pool_invalidate(): older ones retire */
  rt_dbconn *shared;       /* the shared connection (rt_pool_is_shared) */
  /* run on each new driver connection (the engine sets its isolation
  ** level there); a failure discards the connection */
  int (*on_connect)(void *ud, rt_dbconn *c, rt_error *err);
  void *on_connect_ud;
} rt_pool;

void rt_pool_defaults(rt_pool_opts *o);
int rt_pool_init(rt_pool *p, const rt_driver *drv, const rt_url *url, int nargs,
                 const rt_url_arg *args, const rt_pool_opts *o, rt_error *err);
/* Check a connection out (a new one, an idle one, or the shared one). */
int rt_pool_checkout(rt_pool *p, rt_dbconn **out, rt_error *err);
/* Return it; rolls back whatever is left open.  A lost connection, or one
** that cannot roll back, is closed instead of kept. */
void rt_pool_checkin(rt_pool *p, rt_dbconn *c);
/* A connection of the pool lost its server: those made before now are
** not handed out again (each reconnects), as SQLAlchemy's pool does on a
** disconnect error. */
void rt_pool_invalidate(rt_pool *p);
/* Close the idle connections (engine:dispose()). */
void rt_pool_dispose(rt_pool *p);
void rt_pool_free(rt_pool *p);
/* Counts, for tests and the shell. */
int rt_pool_checkedout(const rt_pool *p);
int rt_pool_idle(const rt_pool *p);
/* Does every checkout get the same connection (SingletonThreadPool,
** StaticPool)? */
int rt_pool_is_shared(const rt_pool *p);

#endif
