/*
** engine.c -- engine creation and the connection's transaction state.
*/
#include "engine.h"
#include "cancel.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_engine_defaults(rt_engine_opts *o) {
  rt_pool_defaults(&o->pool);
  o->nargs = 0;
  o->args = NULL;
  o->isolation_level = NULL;
}

/* --- isolation levels --- */

static const char *const iso_names[] = {NULL,
                                        "AUTOCOMMIT",
                                        "READ UNCOMMITTED",
                                        "READ COMMITTED",
                                        "REPEATABLE READ",
                                        "SERIALIZABLE"};

const char *rt_isolation_name(rt_isolation level) {
  if ((unsigned)level >= sizeof iso_names / sizeof iso_names[0]) return NULL;
  return iso_names[level];
}

/* SQLite has two levels (read_uncommitted on or off) besides autocommit. */
static int iso_supported(const rt_engine *e, rt_isolation level) {
  if (strcmp(e->dialect, "sqlite") == 0)
    return level == RT_ISO_AUTOCOMMIT || level == RT_ISO_READ_UNCOMMITTED ||
           level == RT_ISO_SERIALIZABLE;
  return level != RT_ISO_DEFAULT;
}

int rt_isolation_parse(const rt_engine *e, const char *name, rt_isolation *out,
                       rt_error *err) {
  char up[32];
  size_t i;
  int l;
  for (i = 0; name[i] && i < sizeof up - 1; i++)
    up[i] = (char)((name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32
                   : name[i] == '_'                   ? ' '
                                                      : name[i]);
  up[i] = '\0';
  for (l = RT_ISO_AUTOCOMMIT; l <= RT_ISO_SERIALIZABLE; l++)
    if (strcmp(up, iso_names[l]) == 0 && iso_supported(e, (rt_isolation)l)) {
      *out = (rt_isolation)l;
      return 0;
    }
  {
    /* listed in the order SQLAlchemy's message gives them: SQLite's as its
    ** dialect declares them, the others sorted by name */
    static const rt_isolation sqlite_order[] = {
        RT_ISO_READ_UNCOMMITTED, RT_ISO_SERIALIZABLE, RT_ISO_AUTOCOMMIT};
    static const rt_isolation sorted_order[] = {
        RT_ISO_AUTOCOMMIT, RT_ISO_READ_COMMITTED, RT_ISO_READ_UNCOMMITTED,
        RT_ISO_REPEATABLE_READ, RT_ISO_SERIALIZABLE};
    int sq = strcmp(e->dialect, "sqlite") == 0;
    const rt_isolation *order = sq ? sqlite_order : sorted_order;
    int n = sq ? 3 : 5;
    char valid[128] = "";
    for (l = 0; l < n; l++) {
      if (valid[0]) strcat(valid, ", ");
      strcat(valid, iso_names[order[l]]);
    }
    return rt_error_set(err, RT_EARGUMENT,
                        "Invalid value '%s' for isolation_level. Valid "
                        "isolation levels for %s are %s",
                        name, e->dialect, valid);
  }
}

/*
** Put a driver connection at `level` for the transactions that follow.
** AUTOCOMMIT is ours to keep (no BEGIN is sent), so at the server it means
** the default level; RT_ISO_DEFAULT restores the server's default.
*/
static int apply_isolation(rt_engine *e, rt_dbconn *c, rt_isolation level,
                           rt_error *err) {
  char sql[128];
  const char *name = rt_isolation_name(level);
  if (level == RT_ISO_AUTOCOMMIT) level = RT_ISO_DEFAULT, name = NULL;
  if (strcmp(e->dialect, "sqlite") == 0)
    snprintf(sql, sizeof sql, "PRAGMA read_uncommitted = %d",
             level == RT_ISO_READ_UNCOMMITTED);
  else if (strcmp(e->dialect, "postgresql") == 0) {
    if (name)
      snprintf(sql, sizeof sql,
               "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL %s",
               name);
    else
      snprintf(sql, sizeof sql, "RESET default_transaction_isolation");
  } else if (strcmp(e->dialect, "mysql") == 0) {
    if (name)
      snprintf(sql, sizeof sql, "SET SESSION TRANSACTION ISOLATION LEVEL %s",
               name);
    else
      snprintf(sql, sizeof sql,
               "SET SESSION tx_isolation = @@GLOBAL.tx_isolation");
  } else
    return 0;
  return rt_driver_exec(c, sql, err);
}

/* The pool's on_connect: every new connection gets the engine's level. */
static int engine_on_connect(void *ud, rt_dbconn *c, rt_error *err) {
  rt_engine *e = ud;
  if (e->isolation == RT_ISO_DEFAULT || e->isolation == RT_ISO_AUTOCOMMIT)
    return 0;
  return apply_isolation(e, c, e->isolation, err);
}

/* SQLite ":memory:" (or no file at all) is one database per connection,
** so every checkout must share one connection to see the same data. */
static int memory_sqlite(const rt_url *u) {
  int i;
  for (i = 0; i < u->nargs; i++)
    if (strcmp(u->args[i].key, "mode") == 0 &&
        strcmp(u->args[i].value, "memory") == 0)
      return 1;
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
  /* SQLAlchemy's mariadb dialect is MariaDB's before any connection */
  if (strncmp(u->drivername, "mariadb", 7) == 0 &&
      (u->drivername[7] == '\0' || u->drivername[7] == '+'))
    e->mariadb = e->server_known = 1;
  e->drv = rt_driver_find(e->dialect);
  if (e->drv == NULL) {
    rt_error_set(err, RT_EARGUMENT, "Can't load plugin: sqlalchemy.dialects:%s",
                 u->drivername);
    rt_engine_free(e);
    return NULL;
  }
  if (o->isolation_level &&
      rt_isolation_parse(e, o->isolation_level, &e->isolation, err) != 0) {
    rt_engine_free(e);
    return NULL;
  }
  popts = o->pool;
  /* SQLAlchemy 1.4's choice: pysqlite's get_pool_class, QueuePool else */
  if (popts.kind == RT_POOL_DEFAULT && strcmp(e->dialect, "sqlite") == 0)
    popts.kind = memory_sqlite(u) ? RT_POOL_SINGLETON_THREAD : RT_POOL_NULL;
  if (rt_pool_init(&e->pool, e->drv, u, o->nargs, o->args, &popts, err) != 0) {
    rt_engine_free(e);
    return NULL;
  }
  e->pool.on_connect = engine_on_connect;
  e->pool.on_connect_ud = e;
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
  c->isolation = e->isolation;
}

static int pending_rollback(rt_error *err) {
  return rt_error_set(err, RT_EPENDINGROLLBACK,
                      "Can't reconnect until invalid transaction is rolled "
                      "back.");
}

/* What the first connection tells of the server: a MySQL dialect on
** MariaDB quotes by MariaDB's reserved words from then on, as SQLAlchemy's
** initialize() finds "MariaDB" in the version and switches its preparer. */
static void learn_server(rt_engine *e, rt_dbconn *dbc) {
  const char *v;
  e->server_known = 1;
  if (strcmp(e->dialect, "mysql") != 0 || !dbc->drv->server_version) return;
  v = dbc->drv->server_version(dbc);
  e->mariadb = v && strstr(v, "MariaDB") != NULL;
}

const char *rt_engine_compile_dialect(const rt_engine *e) {
  return e->mariadb ? "mariadb" : e->dialect;
}

int rt_connection_acquire(rt_connection *c, rt_error *err) {
  if (c->closed)
    return rt_error_set(err, RT_ERESOURCECLOSED, "This Connection is closed");
  if (c->dbc) return 0;
  if (c->pending_rollback) return pending_rollback(err);
  if (rt_pool_checkout(&c->engine->pool, &c->dbc, err) != 0) return -1;
  c->invalidated = 0;
  if (!c->engine->server_known) learn_server(c->engine, c->dbc);
  return 0;
}

int rt_connection_invalidate(rt_connection *c, rt_error *err) {
  if (c->closed)
    return rt_error_set(err, RT_ERESOURCECLOSED, "This Connection is closed");
  if (c->dbc) {
    c->dbc->lost = 1; /* so the pool closes it instead of keeping it */
    rt_pool_checkin(&c->engine->pool, c->dbc);
    c->dbc = NULL;
  }
  if (c->in_tx) c->pending_rollback = 1;
  c->invalidated = 1;
  return 0;
}

/* Driver errors on a connection whose server went away leave it unusable,
** and likely the pool's others too (a restarted server): those retire.
** The transaction stays, invalid, until rolled back; the caller
** invalidates the connection (rt_connection_invalidate) once nothing
** reads from it, as SQLAlchemy does on a disconnect error. */
static int after_failure(rt_connection *c) {
  if (c->dbc && c->dbc->lost) {
    c->savepoints = 0;
    rt_pool_invalidate(&c->engine->pool);
  }
  return -1;
}

static void hook(rt_connection *c, const char *sql, const rt_value *params,
                 int nparams, int nrows) {
  rt_engine *e = c->engine;
  if (e->hook && !c->quiet) e->hook(e->hook_ud, e, sql, params, nparams, nrows);
}

int rt_connection_begin(rt_connection *c, rt_error *err) {
  if (rt_connection_acquire(c, err) != 0) return -1;
  if (c->in_tx)
    return rt_error_set(err, RT_EINVALIDREQUEST,
                        "a transaction is already begun on this connection");
  /* the DBAPI begins implicitly, so SQLAlchemy's log says so for every
  ** begin, an explicit conn:begin() too */
  hook(c, "BEGIN (implicit)", NULL, 0, 0);
  /* in AUTOCOMMIT the transaction is only ours: each statement commits */
  if (c->isolation != RT_ISO_AUTOCOMMIT &&
      c->dbc->drv->begin(c->dbc, err) != 0) {
    /* SQLAlchemy's transaction begins before the driver's first statement
    ** fails: one that lost the server stays, invalid, until rolled back */
    if (c->dbc->lost) c->in_tx = 1;
    return after_failure(c);
  }
  c->in_tx = 1;
  return 0;
}

int rt_connection_set_isolation(rt_connection *c, rt_isolation level,
                                rt_error *err) {
  if (rt_connection_acquire(c, err) != 0) return -1;
  if (c->in_tx)
    return rt_error_set(err, RT_EINVALIDREQUEST,
                        "This connection has already initialized a "
                        "SQLAlchemy Transaction() object via begin() or "
                        "autobegin; isolation_level may not be altered "
                        "unless rollback() or commit() is called first.");
  if (apply_isolation(c->engine, c->dbc, level, err) != 0)
    return after_failure(c);
  c->isolation = level;
  c->isolation_set = level != c->engine->isolation;
  return 0;
}

/* "read committed", "REPEATABLE-READ" -> the canonical name */
static const char *canonical_level(const char *s, size_t n) {
  char up[32];
  size_t i;
  int l;
  for (i = 0; i < n && i < sizeof up - 1; i++)
    up[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32
                   : s[i] == '-'                ? ' '
                                                : s[i]);
  up[i] = '\0';
  for (l = RT_ISO_READ_UNCOMMITTED; l <= RT_ISO_SERIALIZABLE; l++)
    if (strcmp(up, iso_names[l]) == 0) return iso_names[l];
  return NULL;
}

/* The level the connection has now, or (dflt) the one the server gives
** a new connection. */
static int read_isolation(rt_connection *c, int dflt, const char **name,
                          rt_error *err) {
  const char *sql;
  rt_cursor *cur = NULL;
  rt_value v;
  int rc;
  if (rt_connection_acquire(c, err) != 0) return -1;
  /* SQLAlchemy reads its default on the first connection, which has the
  ** engine's level by then */
  if (dflt && c->engine->isolation != RT_ISO_DEFAULT &&
      c->engine->isolation != RT_ISO_AUTOCOMMIT) {
    *name = iso_names[c->engine->isolation];
    return 0;
  }
  if (strcmp(c->engine->dialect, "sqlite") == 0) {
    if (dflt) { /* read_uncommitted starts off on every connection */
      *name = iso_names[RT_ISO_SERIALIZABLE];
      return 0;
    }
    sql = "PRAGMA read_uncommitted";
  } else if (strcmp(c->engine->dialect, "postgresql") == 0)
    /* the session's setting as it began, whatever SET SESSION did since */
    sql = dflt ? "SELECT reset_val FROM pg_settings WHERE name = "
                 "'default_transaction_isolation'"
               : "SHOW transaction_isolation";
  else
    sql = dflt ? "SELECT @@global.tx_isolation" : "SELECT @@tx_isolation";
  if (c->dbc->drv->execute(c->dbc, sql, NULL, 0, 0, &cur, err) != 0)
    return after_failure(c);
  rc = c->dbc->drv->fetch(cur, err);
  if (rc == 1) c->dbc->drv->column(cur, 0, &v);
  *name = NULL;
  if (rc == 1 && strcmp(c->engine->dialect, "sqlite") == 0)
    *name = iso_names[v.type == RT_V_INT && v.u.i ? RT_ISO_READ_UNCOMMITTED
                                                  : RT_ISO_SERIALIZABLE];
  else if (rc == 1 && v.type == RT_V_TEXT)
    *name = canonical_level(v.u.s.p, v.u.s.n);
  c->dbc->drv->cursor_close(cur);
  if (rc < 0) return -1;
  if (*name == NULL)
    return rt_error_set(err, RT_EINTERNAL,
                        "could not read the isolation level");
  return 0;
}

int rt_connection_get_isolation(rt_connection *c, const char **name,
                                rt_error *err) {
  return read_isolation(c, 0, name, err);
}

int rt_connection_default_isolation(rt_connection *c, const char **name,
                                    rt_error *err) {
  return read_isolation(c, 1, name, err);
}

static int autobegin(rt_connection *c, rt_error *err) {
  if (rt_connection_acquire(c, err) != 0) return -1;
  if (c->in_tx) return 0;
  return rt_connection_begin(c, err);
}

int rt_connection_execute(rt_connection *c, const char *sql,
                          const rt_value *params, int nparams, int flags,
                          rt_cursor **out, rt_error *err) {
  int rc;
  if (autobegin(c, err) != 0) return -1;
  hook(c, sql, params, nparams, 1);
  rt_cancel_enter(c->dbc);
  rc = c->dbc->drv->execute(c->dbc, sql, params, nparams, flags, out, err);
  rt_cancel_leave();
  return rc != 0 ? after_failure(c) : 0;
}

int rt_connection_executemany(rt_connection *c, const char *sql,
                              const rt_value *params, int nparams, int nrows,
                              int64_t *rowcount, rt_error *err) {
  int rc;
  if (autobegin(c, err) != 0) return -1;
  hook(c, sql, params, nparams, nrows);
  rt_cancel_enter(c->dbc);
  rc = c->dbc->drv->executemany(c->dbc, sql, params, nparams, nrows, rowcount,
                                err);
  rt_cancel_leave();
  return rc != 0 ? after_failure(c) : 0;
}

int rt_connection_executemany_rows(rt_connection *c, const char *sql,
                                   const rt_value *params, int nparams,
                                   int nrows, rt_cursor **out, rt_error *err) {
  int rc;
  if (c->engine->drv->executemany_rows == NULL) return 1;
  if (autobegin(c, err) != 0) return -1;
  hook(c, sql, params, nparams, nrows);
  rt_cancel_enter(c->dbc);
  rc = c->dbc->drv->executemany_rows(c->dbc, sql, params, nparams, nrows, out,
                                     err);
  rt_cancel_leave();
  return rc != 0 ? after_failure(c) : 0;
}

/*
** The driver's insertmany, when it has one and nothing watches the
** statements (the engine's hook sees each execution, which one call for
** all rows cannot show): 1 when not taken, the caller executing row by
** row.
*/
int rt_connection_insertmany(rt_connection *c, const char *sql,
                             const rt_value *params, int nparams, int nrows,
                             int64_t *ids, rt_error *err) {
  int rc;
  if (c->engine->hook && !c->quiet) return 1;
  if (autobegin(c, err) != 0) return -1;
  if (c->dbc->drv->insertmany == NULL) return 1;
  rt_cancel_enter(c->dbc);
  rc = c->dbc->drv->insertmany(c->dbc, sql, params, nparams, nrows, ids, err);
  rt_cancel_leave();
  return rc != 0 ? after_failure(c) : 0;
}

int rt_connection_fetch(rt_cursor *cur, rt_error *err) {
  int rc;
  rt_cancel_enter(cur->conn);
  rc = cur->conn->drv->fetch(cur, err);
  rt_cancel_leave();
  return rc;
}

int rt_connection_commit(rt_connection *c, rt_error *err) {
  int rc;
  if (c->closed)
    return rt_error_set(err, RT_ERESOURCECLOSED, "This Connection is closed");
  if (c->pending_rollback) return pending_rollback(err);
  if (!c->in_tx) return 0;
  c->in_tx = 0;
  c->savepoints = 0;
  if (c->isolation == RT_ISO_AUTOCOMMIT) return 0;
  hook(c, "COMMIT", NULL, 0, 0);
  rc = c->dbc->drv->commit(c->dbc, err);
  return rc;
}

int rt_connection_rollback(rt_connection *c, rt_error *err) {
  if (c->closed)
    return rt_error_set(err, RT_ERESOURCECLOSED, "This Connection is closed");
  c->pending_rollback = 0; /* the invalid transaction is gone */
  if (!c->in_tx) return 0;
  c->in_tx = 0;
  c->savepoints = 0;
  if (c->dbc == NULL || c->dbc->lost || c->isolation == RT_ISO_AUTOCOMMIT)
    return 0;
  hook(c, "ROLLBACK", NULL, 0, 0);
  return c->dbc->drv->rollback(c->dbc, err);
}

void rt_connection_abandon(rt_connection *c) {
  rt_pool *p = &c->engine->pool;
  if (!c->closed && c->dbc && rt_pool_is_shared(p) && p->checkedout > 1)
    c->in_tx = 0; /* the transaction is the other users' as well */
  rt_connection_close(c);
}

void rt_connection_close(rt_connection *c) {
  rt_error e = RT_ERROR_INIT;
  if (c->closed) return;
  if (c->dbc) {
    if (c->in_tx && !c->dbc->lost && c->isolation != RT_ISO_AUTOCOMMIT) {
      hook(c, "ROLLBACK", NULL, 0, 0);
      /* a transaction that would not roll back must not be handed out */
      if (c->dbc->drv->rollback(c->dbc, &e) != 0) c->dbc->lost = 1;
    }
    /* the next user of this driver connection gets the engine's level */
    if (c->isolation_set && !c->dbc->lost &&
        apply_isolation(c->engine, c->dbc, c->engine->isolation, &e) != 0)
      c->dbc->lost = 1; /* can't reset it: don't reuse it */
    rt_pool_checkin(&c->engine->pool, c->dbc);
  }
  rt_error_clear(&e);
  c->dbc = NULL;
  c->in_tx = 0;
  c->pending_rollback = 0;
  c->closed = 1;
}

void rt_connection_cancel(rt_connection *c) {
  rt_dbconn *d = c->dbc;
  if (d) d->drv->cancel(d);
}

/*
** --- buffered cursors ---
**
** A bufcursor holds every remaining row of another cursor: values row
** after row in `vals`, their text and bytes in one block `bytes` (offsets
** while it grows, pointers once complete).  Its connection is its own, a
** placeholder whose driver reads the buffer and does nothing else.
*/
typedef struct bufcursor {
  rt_cursor base;
  rt_dbconn conn;
  char **names;
  unsigned char *types, *items;
  rt_value *vals;
  char *bytes;
  size_t nrows, pos;
} bufcursor;

static int buf_fetch(rt_cursor *cur, rt_error *err) {
  bufcursor *b = (bufcursor *)cur;
  (void)err;
  if (b->pos >= b->nrows) return 0;
  b->pos++;
  return 1;
}

static void buf_column(rt_cursor *cur, int i, rt_value *v) {
  bufcursor *b = (bufcursor *)cur;
  *v = b->vals[(b->pos - 1) * (size_t)cur->ncols + (size_t)i];
}

static const char *buf_colname(rt_cursor *cur, int i) {
  return ((bufcursor *)cur)->names[i];
}

static rt_sqltype buf_coltype(rt_cursor *cur, int i) {
  return (rt_sqltype)((bufcursor *)cur)->types[i];
}

static rt_sqltype buf_colitem(rt_cursor *cur, int i) {
  return (rt_sqltype)((bufcursor *)cur)->items[i];
}

static void buf_close(rt_cursor *cur) {
  bufcursor *b = (bufcursor *)cur;
  int i;
  for (i = 0; b->names && i < cur->ncols; i++) free(b->names[i]);
  free(b->names);
  free(b->types);
  free(b->items);
  free(b->vals);
  free(b->bytes);
  free(b);
}

/* nothing runs on a buffer: a cancel has nothing to stop */
static void buf_cancel(rt_dbconn *c) {
  (void)c;
}

static const rt_driver buf_driver = {
    .name = "buffer",
    .fetch = buf_fetch,
    .column = buf_column,
    .colname = buf_colname,
    .coltype = buf_coltype,
    .cursor_close = buf_close,
    .cancel = buf_cancel,
    .colitem = buf_colitem,
};

/* Grow an array of `size`-byte items to hold `need`; 0 or -1. */
static int buf_grow(void *pp, size_t *cap, size_t need, size_t size) {
  void **p = pp;
  size_t n = *cap ? *cap : 16;
  void *q;
  if (need <= *cap) return 0;
  while (n < need) n *= 2;
  if ((q = realloc(*p, n * size)) == NULL) return -1;
  *p = q;
  *cap = n;
  return 0;
}

/* Copy the columns of cur's current row to the end of b. */
static int buf_take_row(bufcursor *b, rt_cursor *cur, size_t *vcap,
                        size_t *nbytes, size_t *bcap) {
  int i, n = cur->ncols;
  size_t at = b->nrows * (size_t)n;
  if (buf_grow(&b->vals, vcap, at + (size_t)n, sizeof(rt_value)) != 0)
    return -1;
  for (i = 0; i < n; i++) {
    rt_value *v = &b->vals[at + (size_t)i];
    cur->conn->drv->column(cur, i, v);
    if (v->type == RT_V_TEXT || v->type == RT_V_BLOB) {
      if (buf_grow(&b->bytes, bcap, *nbytes + v->u.s.n + 1, 1) != 0) return -1;
      if (v->u.s.n) memcpy(b->bytes + *nbytes, v->u.s.p, v->u.s.n);
      b->bytes[*nbytes + v->u.s.n] = '\0';
      v->u.s.p = (const char *)(uintptr_t)*nbytes; /* fixed at the end */
      *nbytes += v->u.s.n + 1;
    }
  }
  b->nrows++;
  return 0;
}

/* The column names and types of cur, kept by b. */
static int buf_take_columns(bufcursor *b, rt_cursor *cur) {
  const rt_driver *d = cur->conn->drv;
  int i, n = cur->ncols;
  b->names = calloc((size_t)n + 1, sizeof(char *));
  b->types = calloc((size_t)n + 1, 1);
  b->items = calloc((size_t)n + 1, 1);
  if (!b->names || !b->types || !b->items) return -1;
  for (i = 0; i < n; i++) {
    const char *name = d->colname(cur, i);
    size_t len = name ? strlen(name) : 0;
    if ((b->names[i] = malloc(len + 1)) == NULL) return -1;
    memcpy(b->names[i], name ? name : "", len + 1);
    b->types[i] = (unsigned char)d->coltype(cur, i);
    b->items[i] = (unsigned char)(d->colitem && b->types[i] == RT_T_ARRAY
                                      ? d->colitem(cur, i)
                                      : RT_T_UNKNOWN);
  }
  return 0;
}

int rt_cursor_buffer(rt_cursor *cur, rt_cursor **out, rt_error *err) {
  bufcursor *b = calloc(1, sizeof *b);
  size_t vcap = 0, nbytes = 0, bcap = 0, i, nv;
  int rc = 0;
  if (!b) return rt_error_set(err, RT_EMEMORY, "out of memory");
  b->base = *cur;
  b->base.conn = &b->conn;
  b->base.shape = NULL;
  b->conn.drv = &buf_driver;
  if (buf_take_columns(b, cur) != 0) rc = -2;
  while (rc == 0) {
    int got = rt_connection_fetch(cur, err);
    if (got <= 0) {
      rc = got;
      break;
    }
    if (buf_take_row(b, cur, &vcap, &nbytes, &bcap) != 0) rc = -2;
  }
  if (rc != 0) {
    buf_close(&b->base);
    return rc == -2 ? rt_error_set(err, RT_EMEMORY, "out of memory") : -1;
  }
  nv = b->nrows * (size_t)cur->ncols;
  for (i = 0; i < nv; i++) {
    rt_value *v = &b->vals[i];
    if (v->type == RT_V_TEXT || v->type == RT_V_BLOB)
      v->u.s.p = b->bytes + (uintptr_t)v->u.s.p;
  }
  cur->conn->drv->cursor_close(cur);
  *out = &b->base;
  return 0;
}
