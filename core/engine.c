/*
** engine.c -- engine creation and the connection's transaction state.
*/
#include "engine.h"

#include <stdlib.h>
#include <string.h>

void rt_engine_defaults(rt_engine_opts *o) {
  rt_pool_defaults(&o->pool);
  o->nargs = 0;
  o->args = NULL;
}

/* SQLite ":memory:" (or no file at all) is one database per connection,
** so every checkout must share one connection to see the same data. */
static int memory_sqlite(const rt_url *u) {
  return u->database == NULL || u->database[0] == '\0' ||
         strcmp(u->database, ":memory:") == 0 ||
         strstr(u->database, "mode=memory") != NULL;
}

rt_engine *rt_engine_create(const char *url, const rt_engine_opts *o,
                            rt_error *err) {
  rt_engine_opts defaults;
  rt_pool_opts popts;
  rt_engine *e;
  rt_url *u = rt_url_parse(url, err);
  if (u == NULL) return NULL;
  if (o == NULL) {
    rt_engine_defaults(&defaults);
    o = &defaults;
  }
  e = calloc(1, sizeof *e);
  if (e == NULL) {
    rt_url_free(u);
    rt_error_set(err, RT_EMEMORY, "out of memory creating an engine");
    return NULL;
  }
  e->url = u;
  rt_url_backend(u, e->dialect, sizeof e->dialect);
  e->drv = rt_driver_find(e->dialect);
  if (e->drv == NULL) {
    rt_error_set(err, RT_EARGUMENT, "Can't load plugin: sqlalchemy.dialects:%s",
                 u->drivername);
    rt_engine_free(e);
    return NULL;
  }
  popts = o->pool;
  if (strcmp(e->dialect, "sqlite") == 0 && memory_sqlite(u))
    popts.singleton = 1;
  if (rt_pool_init(&e->pool, e->drv, u, o->nargs, o->args, &popts, err) != 0) {
    rt_engine_free(e);
    return NULL;
  }
  return e;
}

void rt_engine_dispose(rt_engine *e) {
  rt_pool_dispose(&e->pool);
}

void rt_engine_free(rt_engine *e) {
  if (e == NULL) return;
  if (e->pool.url) rt_pool_free(&e->pool);
  rt_url_free(e->url);
  free(e);
}

void rt_connection_init(rt_connection *c, rt_engine *e) {
  memset(c, 0, sizeof *c);
  c->engine = e;
}

int rt_connection_acquire(rt_connection *c, rt_error *err) {
  if (c->closed)
    return rt_error_set(err, RT_ERESOURCECLOSED, "This Connection is closed");
  if (c->dbc) return 0;
  return rt_pool_checkout(&c->engine->pool, &c->dbc, err);
}

/* Driver errors on a connection whose server went away leave it unusable:
** the transaction is gone with it. */
static int after_failure(rt_connection *c) {
  if (c->dbc && c->dbc->lost) {
    c->in_tx = 0;
    c->savepoints = 0;
  }
  return -1;
}

int rt_connection_begin(rt_connection *c, rt_error *err) {
  if (rt_connection_acquire(c, err) != 0) return -1;
  if (c->in_tx)
    return rt_error_set(err, RT_EINVALIDREQUEST,
                        "a transaction is already begun on this connection");
  if (c->dbc->drv->begin(c->dbc, err) != 0) return after_failure(c);
  c->in_tx = 1;
  return 0;
}

static void hook(rt_connection *c, const char *sql, const rt_value *params,
                 int nparams, int nrows) {
  rt_engine *e = c->engine;
  if (e->hook) e->hook(e->hook_ud, e, sql, params, nparams, nrows);
}

static int autobegin(rt_connection *c, rt_error *err) {
  if (rt_connection_acquire(c, err) != 0) return -1;
  if (c->in_tx) return 0;
  hook(c, "BEGIN (implicit)", NULL, 0, 0);
  return rt_connection_begin(c, err);
}

int rt_connection_execute(rt_connection *c, const char *sql,
                          const rt_value *params, int nparams, int flags,
                          rt_cursor **out, rt_error *err) {
  if (autobegin(c, err) != 0) return -1;
  hook(c, sql, params, nparams, 1);
  if (c->dbc->drv->execute(c->dbc, sql, params, nparams, flags, out, err) != 0)
    return after_failure(c);
  return 0;
}

int rt_connection_executemany(rt_connection *c, const char *sql,
                              const rt_value *params, int nparams, int nrows,
                              int64_t *rowcount, rt_error *err) {
  if (autobegin(c, err) != 0) return -1;
  hook(c, sql, params, nparams, nrows);
  if (c->dbc->drv->executemany(c->dbc, sql, params, nparams, nrows, rowcount,
                               err) != 0)
    return after_failure(c);
  return 0;
}

int rt_connection_commit(rt_connection *c, rt_error *err) {
  int rc;
  if (c->closed)
    return rt_error_set(err, RT_ERESOURCECLOSED, "This Connection is closed");
  if (!c->in_tx) return 0;
  c->in_tx = 0;
  c->savepoints = 0;
  hook(c, "COMMIT", NULL, 0, 0);
  rc = c->dbc->drv->commit(c->dbc, err);
  return rc;
}

int rt_connection_rollback(rt_connection *c, rt_error *err) {
  if (c->closed)
    return rt_error_set(err, RT_ERESOURCECLOSED, "This Connection is closed");
  if (!c->in_tx) return 0;
  c->in_tx = 0;
  c->savepoints = 0;
  if (c->dbc->lost) return 0;
  hook(c, "ROLLBACK", NULL, 0, 0);
  return c->dbc->drv->rollback(c->dbc, err);
}

void rt_connection_close(rt_connection *c) {
  rt_error e = RT_ERROR_INIT;
  if (c->closed) return;
  if (c->dbc) {
    if (c->in_tx && !c->dbc->lost) {
      hook(c, "ROLLBACK", NULL, 0, 0);
      c->dbc->drv->rollback(c->dbc, &e);
    }
    rt_pool_checkin(&c->engine->pool, c->dbc);
  }
  rt_error_clear(&e);
  c->dbc = NULL;
  c->in_tx = 0;
  c->closed = 1;
}

void rt_connection_cancel(rt_connection *c) {
  rt_dbconn *d = c->dbc;
  if (d) d->drv->cancel(d);
}
