/*
** engine.h -- engines and connections: the 2.0 transaction model in C.
**
** An engine owns a URL, a driver and a pool.  A connection checks a driver
** connection out of the pool on first use and begins a transaction
** implicitly before its first statement ("autobegin"); commit and rollback
** end it; close rolls back whatever is open and returns the driver
** connection.  Nothing here knows about Lua.
*/
#ifndef RT_ENGINE_H
#define RT_ENGINE_H

#include "driver.h"
#include "pool.h"

typedef struct rt_engine rt_engine;

/* Called before each statement is sent when the engine echoes or has
** listeners; `nrows` > 1 for executemany (params is row-major).  Transaction
** control (BEGIN (implicit), COMMIT, ROLLBACK) is reported with nrows 0:
** it is logged, but it is not a cursor execution. */
typedef void (*rt_exec_hook)(void *ud, rt_engine *e, const char *sql,
                             const rt_value *params, int nparams, int nrows);

typedef struct rt_engine_opts {
  rt_pool_opts pool;
  int nargs; /* connect_args */
  const rt_url_arg *args;
  const char *isolation_level; /* NULL: the server's default */
} rt_engine_opts;

/* Isolation levels, as SQLAlchemy names them. */
typedef enum rt_isolation {
  RT_ISO_DEFAULT = 0, /* whatever the server does */
  RT_ISO_AUTOCOMMIT,
  RT_ISO_READ_UNCOMMITTED,
  RT_ISO_READ_COMMITTED,
  RT_ISO_REPEATABLE_READ,
  RT_ISO_SERIALIZABLE
} rt_isolation;

struct rt_engine {
  rt_url *url;
  char dialect[16]; /* "sqlite" "postgresql" "mysql" */
  const rt_driver *drv;
  rt_pool pool;
  rt_exec_hook hook; /* optional */
  void *hook_ud;
  rt_isolation isolation; /* create_engine(isolation_level=...) */
  /* a mysql engine talks to MariaDB: known from a mariadb:// URL or, as
  ** SQLAlchemy learns it, from the first connection's server version */
  int mariadb;
  int server_known; /* the server version has been read */
};

typedef struct rt_connection {
  rt_engine *engine;
  rt_dbconn *dbc; /* NULL until first use, and after close */
  int in_tx;      /* a transaction was begun and not ended */
  int savepoints; /* depth of begin_nested */
  int closed;
  rt_isolation isolation; /* this connection's level (execution_options) */
  int isolation_set;      /* it differs from the engine's: reset on close */
  /* invalidate() dropped the driver connection; the next use reconnects,
  ** unless a transaction was open: that must be rolled back first */
  int invalidated;
  int pending_rollback;
  int quiet; /* engine:raw_connection()'s: the engine's log leaves it out */
} rt_connection;

void rt_engine_defaults(rt_engine_opts *o);
rt_engine *rt_engine_create(const char *url, const rt_engine_opts *o,
                            rt_error *err);
void rt_engine_free(rt_engine *e);
void rt_engine_dispose(rt_engine *e);
/* The dialect name e compiles with: "mariadb" for a mysql engine on
** MariaDB (its reserved words differ), else e->dialect. */
const char *rt_engine_compile_dialect(const rt_engine *e);

void rt_connection_init(rt_connection *c, rt_engine *e);
/* Check out the driver connection now (engine:connect() does, so a wrong
** password is reported by connect, as SQLAlchemy's is). */
int rt_connection_acquire(rt_connection *c, rt_error *err);
/* Execute with autobegin.  `*out` is a cursor the caller closes. */
int rt_connection_execute(rt_connection *c, const char *sql,
                          const rt_value *params, int nparams, int flags,
                          rt_cursor **out, rt_error *err);
int rt_connection_executemany(rt_connection *c, const char *sql,
                              const rt_value *params, int nparams, int nrows,
                              int64_t *rowcount, rt_error *err);
/* executemany of a statement with RETURNING, its rows in *out (in the
** order of the parameter sets): 0 done, -1 error, 1 not available (the
** driver cannot): the caller does without the rows then. */
int rt_connection_executemany_rows(rt_connection *c, const char *sql,
                                   const rt_value *params, int nparams,
                                   int nrows, rt_cursor **out, rt_error *err);
/* An INSERT per row with each row's generated key in ids[r], in one call
** to the driver: 0 done, -1 error, 1 not available (no hook may watch,
** and the driver must have insertmany): execute row by row then. */
int rt_connection_insertmany(rt_connection *c, const char *sql,
                             const rt_value *params, int nparams, int nrows,
                             int64_t *ids, rt_error *err);
/* Fetch the next row of a cursor (1 row, 0 end, -1 error), cancellable
** like execute. */
int rt_connection_fetch(rt_cursor *cur, rt_error *err);
/*
** The rows cur has not yet given, read into memory: *out is a cursor over
** them that needs no connection (its columns' names and types are cur's),
** and cur is closed.  A result whose connection is closed, committed or
** rolled back stays readable this way, as the DBAPI's buffered cursors
** keep theirs.  On an error cur is left open and -1 returned.
*/
int rt_cursor_buffer(rt_cursor *cur, rt_cursor **out, rt_error *err);
int rt_connection_begin(rt_connection *c, rt_error *err);
int rt_connection_commit(rt_connection *c, rt_error *err);
int rt_connection_rollback(rt_connection *c, rt_error *err);
/* Roll back anything open and return the driver connection to the pool. */
void rt_connection_close(rt_connection *c);
/*
** Close a connection nobody can use any more (its owner was collected).
** As close, except that a driver connection the pool shares with other
** live connections is left as it is: they may be inside a transaction of
** their own on it, which only an explicit close or rollback may end.
*/
void rt_connection_abandon(rt_connection *c);
/* Discard the driver connection (closed, never pooled again); the next use
** checks out another.  A transaction in progress becomes one that must be
** rolled back (PendingRollbackError until then). */
int rt_connection_invalidate(rt_connection *c, rt_error *err);
/* Parse "READ COMMITTED" etc. for the engine's dialect; an unknown or
** unsupported level is an ArgumentError listing the valid ones. */
int rt_isolation_parse(const rt_engine *e, const char *name, rt_isolation *out,
                       rt_error *err);
const char *rt_isolation_name(rt_isolation level);
/* Set this connection's isolation level (conn:execution_options); it lasts
** until the connection is closed (returned to the pool). */
int rt_connection_set_isolation(rt_connection *c, rt_isolation level,
                                rt_error *err);
/* The level in effect, asked of the server; writes its name (static). */
int rt_connection_get_isolation(rt_connection *c, const char **name,
                                rt_error *err);
/* The level the server gives a new connection (SQLAlchemy's
** default_isolation_level). */
int rt_connection_default_isolation(rt_connection *c, const char **name,
                                    rt_error *err);
/* Interrupt the statement running on this connection (signal-safe). */
void rt_connection_cancel(rt_connection *c);

#endif
