/*
** pool.h -- a pool of driver connections for one engine.
**
** QueuePool semantics: up to pool_size idle connections are kept; up to
** pool_size + max_overflow may be checked out at once; a checkout beyond
** that waits pool_timeout seconds and fails with TimeoutError (in a single
** thread nothing can be returned meanwhile, so the wait ends in the error,
** as SQLAlchemy's would).  A "singleton" pool (SQLite :memory:) hands out
** one shared connection to everybody, so all see the same database.
*/
#ifndef RT_POOL_H
#define RT_POOL_H

#include "driver.h"

typedef struct rt_pool_opts {
  int pool_size;       /* 5 */
  int max_overflow;    /* 10; -1 for no limit */
  double pool_timeout; /* 30 seconds */
  double pool_recycle; /* seconds; <= 0: never */
  int pre_ping;        /* ping before handing out */
  int singleton;       /* one shared connection */
} rt_pool_opts;

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
  rt_dbconn *shared;       /* singleton mode */
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
/* Close the idle connections (engine:dispose()). */
void rt_pool_dispose(rt_pool *p);
void rt_pool_free(rt_pool *p);
/* Counts, for tests and the shell. */
int rt_pool_checkedout(const rt_pool *p);
int rt_pool_idle(const rt_pool *p);

#endif
