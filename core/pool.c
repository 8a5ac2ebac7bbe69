/*
** pool.c -- QueuePool, NullPool, and the pools of one shared connection
** (SingletonThreadPool for SQLite :memory:, StaticPool).
*/
#include "pool.h"
#include "cancel.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void rt_pool_defaults(rt_pool_opts *o) {
  o->pool_size = 5;
  o->max_overflow = 10;
  o->pool_timeout = 30.0;
  o->pool_recycle = -1;
  o->pre_ping = 0;
  o->kind = RT_POOL_DEFAULT;
}

const char *rt_pool_kind_name(rt_pool_kind k) {
  switch (k) {
  case RT_POOL_SINGLETON_THREAD:
    return "SingletonThreadPool";
  case RT_POOL_STATIC:
    return "StaticPool";
  case RT_POOL_NULL:
    return "NullPool";
  default:
    return "QueuePool";
  }
}

int rt_pool_is_shared(const rt_pool *p) {
  return p->opts.kind == RT_POOL_SINGLETON_THREAD ||
         p->opts.kind == RT_POOL_STATIC;
}

int rt_pool_init(rt_pool *p, const rt_driver *drv, const rt_url *url, int nargs,
                 const rt_url_arg *args, const rt_pool_opts *o, rt_error *err) {
  int i;
  memset(p, 0, sizeof *p);
  p->drv = drv;
  p->opts = *o;
  p->url = rt_url_copy(url);
  if (p->url == NULL) goto oom;
  if (nargs > 0) {
    p->args = calloc((size_t)nargs, sizeof *p->args);
    if (p->args == NULL) goto oom;
    p->nargs = nargs;
    for (i = 0; i < nargs; i++) {
      p->args[i].key = strdup(args[i].key);
      p->args[i].value = strdup(args[i].value);
      if (!p->args[i].key || !p->args[i].value) goto oom;
    }
  }
  if (p->opts.kind == RT_POOL_DEFAULT) p->opts.kind = RT_POOL_QUEUE;
  if (p->opts.kind == RT_POOL_QUEUE && o->pool_size > 0) {
    p->idle = calloc((size_t)o->pool_size, sizeof *p->idle);
    if (p->idle == NULL) goto oom;
  }
  return 0;
oom:
  rt_pool_free(p);
  return rt_error_set(err, RT_EMEMORY, "out of memory creating a pool");
}

/* Every close goes through here, so a cancel can't reach a freed one. */
static void close_conn(rt_pool *p, rt_dbconn *c) {
  rt_cancel_forget(c);
  p->drv->close(c);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fresh(rt_pool *p, rt_dbconn **out, rt_error *err) {
  /* connect_args first, then the URL's query arguments */
  int n = p->nargs + p->url->nargs, i;
  rt_url_arg *all = NULL;
  int rc;
  if (n > 0) {
    all = malloc(sizeof *all * (size_t)n);
    if (all == NULL) return rt_error_set(err, RT_EMEMORY, "out of memory");
    for (i = 0; i < p->nargs; i++) all[i] = p->args[i];
    for (i = 0; i < p->url->nargs; i++) all[p->nargs + i] = p->url->args[i];
  }
  rc = p->drv->connect(p->url, n, all, out, err);
  free(all);
  if (rc != 0) return -1;
  (*out)->created = now();
  p->nconnects++;
  if (p->on_connect && p->on_connect(p->on_connect_ud, *out, err) != 0) {
    close_conn(p, *out);
    *out = NULL;
    return -1;
  }
  return 0;
}

static int stale(rt_pool *p, rt_dbconn *c) {
  if (c->created < p->invalid_time) return 1;
  return p->opts.pool_recycle > 0 && now() - c->created > p->opts.pool_recycle;
}

void rt_pool_invalidate(rt_pool *p) {
  p->invalid_time = now();
}

/* Can an idle connection be handed out again? (not lost, not older than
** pool_recycle, and answering a ping when pool_pre_ping is on) */
static int usable(rt_pool *p, rt_dbconn *c) {
  rt_error e = RT_ERROR_INIT;
  int ok = !c->lost && !stale(p, c);
  if (ok && p->opts.pre_ping) ok = p->drv->ping(c, &e) == 0;
  rt_error_clear(&e);
  return ok;
}

int rt_pool_checkout(rt_pool *p, rt_dbconn **out, rt_error *err) {
  if (rt_pool_is_shared(p)) {
    if (p->shared && p->checkedout == 0 && !usable(p, p->shared)) {
      close_conn(p, p->shared);
      p->shared = NULL;
    }
    if (p->shared == NULL && fresh(p, &p->shared, err) != 0) return -1;
    p->checkedout++;
    *out = p->shared;
    return 0;
  }
  while (p->nidle > 0) {
    rt_dbconn *c = p->idle[--p->nidle];
    if (usable(p, c)) {
      p->checkedout++;
      *out = c;
      return 0;
    }
    close_conn(p, c); /* stale or dead: replace it */
  }
  if (p->opts.kind == RT_POOL_QUEUE && p->opts.max_overflow >= 0 &&
      p->checkedout >= p->opts.pool_size + p->opts.max_overflow) {
    /* nobody else can return one while we wait in this thread */
    if (p->opts.pool_timeout > 0)
      usleep((useconds_t)(p->opts.pool_timeout * 1e6));
    return rt_error_set(err, RT_ETIMEOUT,
                        "QueuePool limit of size %d overflow %d reached, "
                        "connection timed out, timeout %.2f",
                        p->opts.pool_size, p->opts.max_overflow,
                        p->opts.pool_timeout);
  }
  if (fresh(p, out, err) != 0) return -1;
  p->checkedout++;
  return 0;
}

void rt_pool_checkin(rt_pool *p, rt_dbconn *c) {
  rt_error e = RT_ERROR_INIT;
  if (c == NULL) return;
  if (p->checkedout > 0) p->checkedout--;
  if (rt_pool_is_shared(p) && c == p->shared) {
    /* "reset on return" only when the last user gives it back */
    if (p->checkedout == 0 && !c->lost) p->drv->rollback(c, &e);
    rt_error_clear(&e);
    return;
  }
  /* NullPool keeps nothing, but resets the connection before closing it
  ** as the others do before keeping it */
  if (!c->lost && p->drv->rollback(c, &e) == 0 &&
      p->opts.kind == RT_POOL_QUEUE && p->nidle < p->opts.pool_size) {
    p->idle[p->nidle++] = c;
  } else
    close_conn(p, c);
  rt_error_clear(&e);
}

void rt_pool_dispose(rt_pool *p) {
  while (p->nidle > 0) close_conn(p, p->idle[--p->nidle]);
  if (p->shared && p->checkedout == 0) {
    close_conn(p, p->shared);
    p->shared = NULL;
  }
}

void rt_pool_free(rt_pool *p) {
  int i;
  rt_pool_dispose(p);
  if (p->shared) close_conn(p, p->shared);
  p->shared = NULL;
  free(p->idle);
  p->idle = NULL;
  for (i = 0; i < p->nargs; i++) {
    free(p->args[i].key);
    free(p->args[i].value);
  }
  free(p->args);
  p->args = NULL;
  p->nargs = 0;
  rt_url_free(p->url);
  p->url = NULL;
}

int rt_pool_checkedout(const rt_pool *p) {
  return p->checkedout;
}

int rt_pool_idle(const rt_pool *p) {
  return p->nidle;
}
