/*
** lengine.c -- create_engine, Engine, Connection and Transaction.
**
** The engine and connection logic lives in core/engine.c; this file turns
** Lua arguments into C ones and errors into error objects.  A Connection
** userdata keeps its Engine alive through its user value; a Result keeps
** its Connection alive the same way.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/strbuf.h"
#include "core/types.h"
#include "core/compiler.h"
#include "core/dml.h"
#include "core/elements.h"
#include "lretort.h"
#include "lsql.h"

#define ENGINE_MT "retort.Engine"
#define CONN_MT "retort.Connection"
#define TX_MT "retort.Transaction"
#define POOL_MT "retort.Pool"
#define RAW_MT "retort.RawConnection"
#define CURSOR_MT "retort.Cursor"

typedef struct lengine {
  const char *tag; /* &engine_tag (see checkengine) */
  rt_engine *e;
  int echo;
  int events; /* engine event listeners are set (user value 2) */
  /* an engine:execution_options() copy: `e` is the engine at user value
  ** 1's, which frees it; user value 3 holds the options connections get */
  int borrowed;
} lengine;

typedef struct ltx {
  int nested;    /* a SAVEPOINT */
  int savepoint; /* its number */
  int active;
} ltx;

/* An Engine's tag (lengine.tag), as a Connection's (see conn_tag): a
** session per lookup checks its engine at each connect. */
static const char engine_tag = 0;

static lengine *checkengine(lua_State *L, int idx) {
  lengine *e;
  if (!(lua_type(L, idx) == LUA_TUSERDATA &&
        lua_rawlen(L, idx) == sizeof(lengine) &&
        (e = lua_touserdata(L, idx))->tag == &engine_tag))
    e = luaL_checkudata(L, idx, ENGINE_MT); /* raises the usual error */
  if (e->e == NULL)
    rt_lua_error(L, RT_EINVALIDREQUEST, "this Engine was freed");
  return e;
}

rt_engine *rt_lua_toengine(lua_State *L, int idx) {
  lengine *le = luaL_testudata(L, idx, ENGINE_MT);
  return le ? le->e : NULL;
}

/* A Connection's tag (lconn.tag): every statement checks its connection,
** and a full userdata of an lconn's size holding this address is one,
** with no metatable lookup by name. */
static const char conn_tag = 0;

/* A Connection's user values: 1 its Engine, 2 `info`, 3 and 4 its
** Transactions (see push_tx), CONN_UV_PLAN the plan conn:execute used
** last (lconn.plan), CONN_UV_ROWMT the row metatable of its last result
** (lconn.rowmt), CONN_UV_OPTS the execution options it was given (its
** engine's too), for get_execution_options(). */
enum { CONN_UV_PLAN = 5, CONN_UV_ROWMT, CONN_UV_OPTS, CONN_NUV = CONN_UV_OPTS };

static lconn *checkconn(lua_State *L, int idx) {
  lconn *c;
  if (lua_type(L, idx) == LUA_TUSERDATA &&
      lua_rawlen(L, idx) == sizeof(lconn) &&
      (c = lua_touserdata(L, idx))->tag == &conn_tag)
    return c;
  return luaL_checkudata(L, idx, CONN_MT); /* raises the usual error */
}

/* --- engine events ---
**
** event.listen(engine, name, fn) keeps its listeners in a table (event
** name -> list of functions) that engine:_set_listeners hands to the
** engine; statements and transaction control then call them with
** SQLAlchemy's arguments.  Without listeners the only cost is one flag
** test per statement.
*/

/* Whether the engine of the Connection at idx has listeners. */
static int has_listeners(lua_State *L, int idx) {
  lengine *le;
  lua_getiuservalue(L, idx, 1);
  le = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return le != NULL && le->events;
}

/* Call the listeners of event `name` of the engine of the Connection at
** conn_idx (absolute) with the nargs values on top, then pop them.  A
** listener's error propagates: callers hold no resource here. */
static void fire(lua_State *L, int conn_idx, const char *name, int nargs) {
  int base = lua_gettop(L) - nargs, i, j, n;
  /* (callers deep in C, the flush's among them, may have used up the
  ** stack a C function is given) */
  luaL_checkstack(L, nargs + 5, "engine event");
  lua_getiuservalue(L, conn_idx, 1);
  if (lua_getiuservalue(L, -1, 2) == LUA_TTABLE &&
      lua_getfield(L, -1, name) == LUA_TTABLE) {
    int list = lua_gettop(L);
    n = (int)lua_rawlen(L, list);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, list, i);
      for (j = 1; j <= nargs; j++) lua_pushvalue(L, base + j);
      lua_call(L, nargs, 0);
    }
  }
  lua_settop(L, base);
}

/* fire(name) with just the connection: begin, commit, rollback */
static void fire_conn(lua_State *L, int conn_idx, const char *name) {
  if (!has_listeners(L, conn_idx)) return;
  lua_pushvalue(L, conn_idx);
  fire(L, conn_idx, name, 1);
}

/* After an error that lost the connection's server: invalidate it, as
** SQLAlchemy does on a disconnect error (its transaction must be rolled
** back, then the next use reconnects). */
static void settle_lost(lconn *c) {
  rt_error e = RT_ERROR_INIT;
  if (c->c.closed || c->c.dbc == NULL || !c->c.dbc->lost) return;
  rt_lua_detach_results(c);
  rt_connection_invalidate(&c->c, &e);
  rt_error_clear(&e);
}

/* Raise err, a failure of the connection c's work. */
static int raise_conn(lua_State *L, lconn *c, rt_error *err) {
  settle_lost(c);
  return rt_lua_raise(L, err);
}

/* With listeners, a connection outside a transaction begins one before
** its next statement with the begin event first (so a listener's error
** leaves it begun, as SQLAlchemy's autobegin does). */
static void begin_with_event(lua_State *L, lconn *c) {
  rt_error err = RT_ERROR_INIT;
  if (c->c.in_tx) return;
  fire_conn(L, 1, "begin");
  if (rt_connection_begin(&c->c, &err) != 0) raise_conn(L, c, &err);
}

/* The parameters as listeners see them: a list of values, or for
** executemany a list of such lists. */
static void push_params(lua_State *L, const rt_value *vals, int nparams,
                        int nrows) {
  int r, i;
  if (nrows > 1) lua_createtable(L, nrows, 0);
  for (r = 0; r < nrows; r++) {
    lua_createtable(L, nparams, 0);
    for (i = 0; i < nparams; i++) {
      const rt_value *v = &vals[(size_t)r * (size_t)nparams + (size_t)i];
      rt_lua_pushstored(L, v);
      lua_rawseti(L, -2, i + 1);
    }
    if (nrows > 1) lua_rawseti(L, -2, r + 1);
  }
}

/* before_cursor_execute / after_cursor_execute(conn, cursor, statement,
** parameters, context, executemany): no cursor nor context here (nil);
** the parameters table at pidx is the same object for both. */
static void fire_cursor(lua_State *L, const char *name, const char *sql,
                        int pidx, int many) {
  luaL_checkstack(L, 6, "engine event");
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  lua_pushstring(L, sql);
  lua_pushvalue(L, pidx);
  lua_pushnil(L);
  lua_pushboolean(L, many);
  fire(L, 1, name, 6);
}

/* --- echo: log each statement and its parameters --- */

/*
** What the parameters line starts with, as SQLAlchemy's says where the
** SQL came from: "raw sql", "generated in ...", "cached since ... ago".
** Set just before a statement runs (the hook runs on the same thread),
** and used once.
*/
static _Thread_local char echo_tag[64];

static void set_echo_tag(const char *tag) {
  size_t n = strlen(tag);
  if (n >= sizeof echo_tag) n = sizeof echo_tag - 1;
  memcpy(echo_tag, tag, n);
  echo_tag[n] = '\0';
}

/* Python's repr of a value, cut in the middle past 300 characters as
** SQLAlchemy's parameter logging cuts it. */
/* The echo option at idx: 0 off, 1 statements, 2 ("debug") statements and
** the rows of their results, as SQLAlchemy's echo="debug". */
static int echo_level(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING &&
      strcmp(lua_tostring(L, idx), "debug") == 0)
    return 2;
  return lua_toboolean(L, idx);
}

static void echo_value(rt_strbuf *b, const rt_value *v) {
  char buf[32];
  size_t start = b->n, len, i;
  switch (v->type) {
  case RT_V_NULL:
    rt_sb_adds(b, "None");
    break;
  case RT_V_INT:
    rt_sb_addf(b, "%lld", (long long)v->u.i);
    break;
  case RT_V_FLOAT:
    rt_sb_adds(b, rt_float_repr(v->u.f, buf));
    break;
  case RT_V_BOOL:
    rt_sb_adds(b, v->u.b ? "True" : "False");
    break;
  case RT_V_TEXT: {
    const char *p = v->u.s.p;
    size_t n = v->u.s.n;
    char q = (memchr(p, '\'', n) && !memchr(p, '"', n)) ? '"' : '\'';
    rt_sb_addc(b, q);
    for (i = 0; i < n; i++) {
      unsigned char c = (unsigned char)p[i];
      if (c == (unsigned char)q || c == '\\') {
        rt_sb_addc(b, '\\');
        rt_sb_addc(b, (char)c);
      } else if (c == '\n')
        rt_sb_adds(b, "\\n");
      else if (c == '\t')
        rt_sb_adds(b, "\\t");
      else if (c == '\r')
        rt_sb_adds(b, "\\r");
      else if (c < 0x20 || c == 0x7f)
        rt_sb_addf(b, "\\x%02x", c);
      else
        rt_sb_addc(b, (char)c);
    }
    rt_sb_addc(b, q);
    break;
  }
  case RT_V_BLOB:
    rt_sb_addf(b, "<%zu bytes>", v->u.s.n);
    break;
  }
  len = b->n - start;
  if (len > 300 && !b->failed) {
    char mid[80];
    size_t m = (size_t)snprintf(
        mid, sizeof mid, " ... (%zu characters truncated) ... ", len - 300);
    /* keep 150 and 150: the tail moves up behind the marker */
    memmove(b->p + start + 150 + m, b->p + start + len - 150, 150);
    memcpy(b->p + start + 150, mid, m);
    b->n = start + 150 + m + 150;
    b->p[b->n] = '\0';
  }
}

static void echo_row(rt_strbuf *b, const rt_value *row, int nparams) {
  int i;
  rt_sb_addc(b, '(');
  for (i = 0; i < nparams; i++) {
    if (i) rt_sb_adds(b, ", ");
    echo_value(b, &row[i]);
  }
  rt_sb_adds(b, nparams == 1 ? ",)" : ")");
}

/* Parameter sets [from, to) joined by ", ". */
static void echo_rows(rt_strbuf *b, const rt_value *params, int nparams,
                      int from, int to) {
  int r;
  for (r = from; r < to; r++) {
    if (r > from) rt_sb_adds(b, ", ");
    echo_row(b, params + (size_t)r * (size_t)nparams, nparams);
  }
}

static void echo_hook(void *ud, rt_engine *e, const char *sql,
                      const rt_value *params, int nparams, int nrows) {
  FILE *f = stdout;
  rt_strbuf b;
  (void)ud;
  (void)e;
  fprintf(f, "INFO retort.engine.Engine %s\n", sql);
  if (nrows == 0) { /* transaction control: no parameters line */
    fflush(f);
    return;
  }
  rt_sb_init(&b);
  /* SQL that no compile made is "raw sql" to SQLAlchemy */
  rt_sb_addf(&b, "[%s] ", echo_tag[0] ? echo_tag : "raw sql");
  echo_tag[0] = '\0';
  if (nrows == 1)
    echo_row(&b, params, nparams);
  else if (nrows <= 10) {
    rt_sb_addc(&b, '(');
    echo_rows(&b, params, nparams, 0, nrows);
    rt_sb_addc(&b, ')');
  } else {
    /* the first 8 and the last 2, as SQLAlchemy shows a long executemany */
    rt_sb_addc(&b, '(');
    echo_rows(&b, params, nparams, 0, 8);
    rt_sb_addf(&b, "  ... displaying 10 of %d total bound parameter sets ...  ",
               nrows);
    echo_rows(&b, params, nparams, nrows - 2, nrows);
    rt_sb_addc(&b, ')');
  }
  fprintf(f, "INFO retort.engine.Engine %s\n", b.failed || !b.p ? "?" : b.p);
  rt_sb_free(&b);
  fflush(f);
}

/* --- create_engine --- */

static int getopt_int(lua_State *L, int opts, const char *k, int dflt) {
  int v = dflt;
  if (lua_getfield(L, opts, k) != LUA_TNIL) {
    if (!lua_isinteger(L, -1))
      rt_lua_error(L, RT_EARGUMENT, "create_engine: %s must be an integer", k);
    v = (int)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static double getopt_num(lua_State *L, int opts, const char *k, double d) {
  double v = d;
  if (lua_getfield(L, opts, k) != LUA_TNIL) {
    if (!lua_isnumber(L, -1))
      rt_lua_error(L, RT_EARGUMENT, "create_engine: %s must be a number", k);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static const char *const engine_opts[] = {
    "echo",         "pool_size",       "max_overflow",
    "pool_timeout", "pool_recycle",    "pool_pre_ping",
    "connect_args", "isolation_level", "execution_options",
    "poolclass",    "future",          NULL};

/* The execution options a table at idx gives are named by strings; a
** name retort does not use is kept for get_execution_options(), as
** SQLAlchemy keeps a user's own options. */
static void check_exec_options(lua_State *L, int idx, const char *fname) {
  if (!lua_istable(L, idx))
    rt_lua_error(L, RT_EARGUMENT, "%s: execution_options must be a table",
                 fname);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      rt_lua_error(L, RT_EARGUMENT, "%s: execution option names are strings",
                   fname);
    lua_pop(L, 1);
  }
}

/* Copy the pairs of the table at from into the table at to. */
static void merge_table(lua_State *L, int from, int to) {
  from = lua_absindex(L, from);
  to = lua_absindex(L, to);
  lua_pushnil(L);
  while (lua_next(L, from)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, to);
  }
}

/* SQLAlchemy's class name of the dialect a URL loads. */
static void push_dialect_class(lua_State *L, const rt_url *u) {
  const char *plus = strchr(u->drivername, '+');
  size_t n = plus ? (size_t)(plus - u->drivername) : strlen(u->drivername);
  const char *driver = plus ? plus + 1 : NULL;
  if (n == 6 && strncmp(u->drivername, "sqlite", n) == 0)
    lua_pushfstring(L, "SQLiteDialect_%s", driver ? driver : "pysqlite");
  else if (n == 10 && strncmp(u->drivername, "postgresql", n) == 0)
    lua_pushfstring(L, "PGDialect_%s", driver ? driver : "psycopg2");
  else if (n == 7 && strncmp(u->drivername, "mariadb", n) == 0)
    /* a bare mariadb:// loads the base class in SQLAlchemy 1.4 */
    lua_pushfstring(L, "MariaDBDialect_%s", driver ? driver : "base");
  else
    lua_pushfstring(L, "MySQLDialect_%s", driver ? driver : "mysqldb");
}

/* Does a pool of kind k take the create_engine option named k? Only
** QueuePool has max_overflow and pool_timeout, NullPool and StaticPool no
** pool_size. */
static int pool_takes(rt_pool_kind k, const char *opt) {
  if (strcmp(opt, "pool_size") == 0)
    return k == RT_POOL_QUEUE || k == RT_POOL_SINGLETON_THREAD;
  if (strcmp(opt, "max_overflow") == 0 || strcmp(opt, "pool_timeout") == 0)
    return k == RT_POOL_QUEUE;
  return 1;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
** Every option create_engine knows, for the engine at le_idx: an unknown
** one, or one its pool class does not take, is an ArgumentError worded
** as SQLAlchemy's TypeError (names sorted: a Lua table has no order).
*/
static void check_opts(lua_State *L, int opts, int le_idx) {
  const char *bad[32];
  int nbad = 0, i;
  lengine *le = checkengine(L, le_idx);
  luaL_Buffer b;
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    int ok = 0;
    for (i = 0; engine_opts[i]; i++)
      if (strcmp(engine_opts[i], k) == 0) ok = 1;
    if ((!ok || !pool_takes(le->e->pool.opts.kind, k)) &&
        nbad < (int)(sizeof bad / sizeof *bad))
      bad[nbad++] = k; /* the key stays alive in opts */
    lua_pop(L, 1);
  }
  if (nbad == 0) return;
  qsort(bad, (size_t)nbad, sizeof *bad, cmp_names);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "Invalid argument(s) ");
  for (i = 0; i < nbad; i++) {
    if (i) luaL_addchar(&b, ',');
    luaL_addchar(&b, '\'');
    luaL_addstring(&b, bad[i]);
    luaL_addchar(&b, '\'');
  }
  luaL_addstring(&b, " sent to create_engine(), using configuration ");
  push_dialect_class(L, le->e->url);
  luaL_addvalue(&b);
  luaL_addchar(&b, '/');
  luaL_addstring(&b, rt_pool_kind_name(le->e->pool.opts.kind));
  luaL_addstring(&b, "/Engine.  Please check that the keyword arguments are "
                     "appropriate for this combination of components.");
  luaL_pushresult(&b);
  rt_engine_free(le->e);
  le->e = NULL;
  rt_lua_error(L, RT_EARGUMENT, "%s", lua_tostring(L, -1));
}

static rt_pool_kind check_poolclass(lua_State *L, int idx);

static int l_create_engine(lua_State *L) {
  rt_engine_opts o;
  rt_error err = RT_ERROR_INIT;
  rt_url_arg *args = NULL;
  lengine *le;
  int nargs = 0, opts = 0, le_idx;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "create_engine");
  if (!lua_isnoneornil(L, 2)) {
    rt_lua_checkarg(L, 2, LUA_TTABLE, "create_engine");
    opts = 2;
  }
  rt_engine_defaults(&o);
  lua_settop(L, 2);
  le = lua_newuserdatauv(L, sizeof *le, 3);
  le_idx = lua_gettop(L);
  le->tag = &engine_tag;
  le->e = NULL;
  le->echo = 0;
  le->events = 0;
  le->borrowed = 0;
  luaL_setmetatable(L, ENGINE_MT);
  if (opts && lua_getfield(L, opts, "execution_options") != LUA_TNIL) {
    check_exec_options(L, lua_gettop(L), "create_engine");
    lua_setiuservalue(L, le_idx, 3);
  } else if (opts)
    lua_pop(L, 1);
  if (opts) {
    o.pool.pool_size = getopt_int(L, opts, "pool_size", o.pool.pool_size);
    o.pool.max_overflow =
        getopt_int(L, opts, "max_overflow", o.pool.max_overflow);
    o.pool.pool_timeout =
        getopt_num(L, opts, "pool_timeout", o.pool.pool_timeout);
    o.pool.pool_recycle =
        getopt_num(L, opts, "pool_recycle", o.pool.pool_recycle);
    /* future=True is SQLAlchemy 1.4's way to ask for what every engine
    ** here is: the 2.0 API; the legacy one is not there to ask for */
    if (lua_getfield(L, opts, "future") != LUA_TNIL && !lua_toboolean(L, -1))
      return rt_lua_error(L, RT_EARGUMENT,
                          "create_engine: future=false (the legacy 1.x "
                          "engine) is not supported");
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "poolclass") != LUA_TNIL)
      o.pool.kind = check_poolclass(L, lua_gettop(L));
    lua_pop(L, 1);
    lua_getfield(L, opts, "pool_pre_ping");
    o.pool.pre_ping = lua_toboolean(L, -1);
    lua_getfield(L, opts, "echo");
    le->echo = echo_level(L, -1);
    lua_getfield(L, opts, "isolation_level");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
      return rt_lua_error(L, RT_EARGUMENT,
                          "create_engine: isolation_level must be a string");
    o.isolation_level = lua_tostring(L, -1); /* kept alive by opts */
    lua_pop(L, 3);
    if (lua_getfield(L, opts, "connect_args") == LUA_TTABLE) {
      int ca = lua_gettop(L), strs, n = 0, i;
      /* keys and values as strings in a table on the stack, so they stay
      ** alive until the pool has copied them */
      lua_newtable(L);
      strs = lua_gettop(L);
      lua_pushnil(L);
      while (lua_next(L, ca)) {
        lua_pushvalue(L, -2);
        luaL_tolstring(L, -1, NULL);
        lua_rawseti(L, strs, ++n);
        luaL_tolstring(L, -2, NULL);
        lua_rawseti(L, strs, ++n);
        lua_pop(L, 2);
      }
      args = lua_newuserdatauv(L, sizeof *args * (size_t)(n / 2 + 1), 0);
      for (i = 1; i < n; i += 2) {
        lua_rawgeti(L, strs, i);
        args[nargs].key = (char *)lua_tostring(L, -1);
        lua_rawgeti(L, strs, i + 1);
        args[nargs].value = (char *)lua_tostring(L, -1);
        lua_pop(L, 2);
        nargs++;
      }
    } else if (!lua_isnil(L, -1))
      return rt_lua_error(L, RT_EARGUMENT,
                          "create_engine: connect_args must be a table");
  }
  o.nargs = nargs;
  o.args = args;
  le->e = rt_engine_create(lua_tostring(L, 1), &o, &err);
  if (le->e == NULL) return rt_lua_raise(L, &err);
  if (opts) check_opts(L, opts, le_idx);
  if (le->echo) le->e->hook = echo_hook;
  lua_pushvalue(L, le_idx);
  return 1;
}

/* --- Engine --- */

static int engine_gc(lua_State *L) {
  lengine *le = luaL_checkudata(L, 1, ENGINE_MT);
  if (!le->borrowed) rt_engine_free(le->e);
  le->e = NULL;
  return 0;
}

static void push_url(lua_State *L, const rt_url *u);
static void push_driver_name(lua_State *L, const char *drivername);

/*
** engine.pool: the engine's connection pool, shaped as SQLAlchemy's
** QueuePool: size() is pool_size, checkedin() the idle connections,
** checkedout() those in use, overflow() how many exist beyond pool_size
** (negative while fewer exist).  User value 1 is the Engine.
*/
static rt_pool *checkpool(lua_State *L) {
  luaL_checkudata(L, 1, POOL_MT);
  lua_getiuservalue(L, 1, 1);
  return &checkengine(L, -1)->e->pool;
}

static int pool_overflow_of(const rt_pool *p) {
  return rt_pool_checkedout(p) + rt_pool_idle(p) - p->opts.pool_size;
}

static int pool_size(lua_State *L) {
  lua_pushinteger(L, checkpool(L)->opts.pool_size);
  return 1;
}

static int pool_checkedin(lua_State *L) {
  lua_pushinteger(L, rt_pool_idle(checkpool(L)));
  return 1;
}

static int pool_checkedout(lua_State *L) {
  lua_pushinteger(L, rt_pool_checkedout(checkpool(L)));
  return 1;
}

static int pool_overflow(lua_State *L) {
  lua_pushinteger(L, pool_overflow_of(checkpool(L)));
  return 1;
}

static int pool_timeout(lua_State *L) {
  lua_pushnumber(L, checkpool(L)->opts.pool_timeout);
  return 1;
}

/* status() as each pool class words it; a SingletonThreadPool's id is
** the pool's address, where Python's is the object's. */
static int pool_status(lua_State *L) {
  rt_pool *p = checkpool(L);
  switch (p->opts.kind) {
  case RT_POOL_SINGLETON_THREAD:
    lua_pushfstring(L, "SingletonThreadPool id:%I size: %d",
                    (lua_Integer)(uintptr_t)p, p->shared != NULL);
    break;
  case RT_POOL_QUEUE:
    lua_pushfstring(L,
                    "Pool size: %d  Connections in pool: %d Current Overflow: "
                    "%d Current Checked out connections: %d",
                    p->opts.pool_size, rt_pool_idle(p), pool_overflow_of(p),
                    rt_pool_checkedout(p));
    break;
  default:
    lua_pushstring(L, rt_pool_kind_name(p->opts.kind));
  }
  return 1;
}

static int pool_dispose(lua_State *L) {
  rt_pool_dispose(checkpool(L));
  return 0;
}

static int pool_tostring(lua_State *L) {
  rt_pool *p = checkpool(L);
  lua_pushfstring(L, "<%s at %p>", rt_pool_kind_name(p->opts.kind),
                  lua_topointer(L, 1));
  return 1;
}

static const luaL_Reg pool_methods[] = {
    {"status", pool_status},       {"size", pool_size},
    {"checkedin", pool_checkedin}, {"checkedout", pool_checkedout},
    {"overflow", pool_overflow},   {"timeout", pool_timeout},
    {"dispose", pool_dispose},     {NULL, NULL}};

/* Registry key of the table of sa.pool's classes by kind (RT_POOL_*). */
static const char pool_classes = 0;

/* Push the class (sa.pool.<Name>) of a pool kind. */
static void push_pool_class(lua_State *L, rt_pool_kind k) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &pool_classes);
  lua_rawgeti(L, -1, (lua_Integer)k);
  lua_remove(L, -2);
}

/*
** A pool's methods are its class's: size(), checkedin(), checkedout(),
** overflow() and timeout() are QueuePool's; a SingletonThreadPool's size
** is a number (its pool_size); status() and dispose() are every pool's.
*/
static int pool_index(lua_State *L) {
  rt_pool *p = checkpool(L);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "__class__") == 0) {
    push_pool_class(L, p->opts.kind);
    return 1;
  }
  if (p->opts.kind != RT_POOL_QUEUE && strcmp(k, "status") != 0 &&
      strcmp(k, "dispose") != 0) {
    if (p->opts.kind == RT_POOL_SINGLETON_THREAD && strcmp(k, "size") == 0)
      lua_pushinteger(L, p->opts.pool_size);
    else
      lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

/* tostring(sa.pool.QueuePool), as Python prints the class */
static int poolclass_tostring(lua_State *L) {
  lua_getfield(L, 1, "__name__");
  lua_pushfstring(L, "<class 'sqlalchemy.pool.impl.%s'>", lua_tostring(L, -1));
  return 1;
}

/* sa.pool: QueuePool, SingletonThreadPool, StaticPool, NullPool, classes
** for create_engine's poolclass and what engine.pool.__class__ gives. */
static void open_pool_classes(lua_State *L) {
  rt_pool_kind k;
  lua_newtable(L); /* sa.pool */
  lua_newtable(L); /* by kind */
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, poolclass_tostring);
  lua_setfield(L, -2, "__tostring");
  for (k = RT_POOL_QUEUE; k <= RT_POOL_NULL; k++) {
    lua_createtable(L, 0, 1);
    lua_pushstring(L, rt_pool_kind_name(k));
    lua_setfield(L, -2, "__name__");
    lua_pushvalue(L, -2);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -4, (lua_Integer)k);
    lua_setfield(L, -4, rt_pool_kind_name(k));
  }
  lua_pop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &pool_classes);
  lua_setfield(L, -2, "pool");
}

/* The pool kind a poolclass option names (a class of sa.pool). */
static rt_pool_kind check_poolclass(lua_State *L, int idx) {
  rt_pool_kind k;
  for (k = RT_POOL_QUEUE; k <= RT_POOL_NULL; k++) {
    push_pool_class(L, k);
    if (lua_rawequal(L, -1, idx)) {
      lua_pop(L, 1);
      return k;
    }
    lua_pop(L, 1);
  }
  rt_lua_error(L, RT_EARGUMENT,
               "create_engine: poolclass must be one of sa.pool's classes "
               "(QueuePool, SingletonThreadPool, StaticPool, NullPool)");
  return RT_POOL_DEFAULT;
}

/* Push registry[key], a table with weak keys made on first use. */
static void push_weak_keyed(lua_State *L, const void *key) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  rt_lua_newweaktable(L, "k");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* One Pool object per engine, kept in the registry weakly by engine. */
static const char pool_cache = 0;

static void push_pool(lua_State *L, int engine) {
  engine = lua_absindex(L, engine);
  push_weak_keyed(L, &pool_cache);
  lua_pushvalue(L, engine);
  if (lua_rawget(L, -2) != LUA_TNIL) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lua_newuserdatauv(L, 1, 1);
  luaL_setmetatable(L, POOL_MT);
  lua_pushvalue(L, engine);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, engine);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  lua_remove(L, -2);
}

static int index_method(lua_State *L);

static int engine_index(lua_State *L) {
  lengine *le;
  const char *k;
  if (index_method(L)) return 1; /* (connect, begin: what is looked up most) */
  le = checkengine(L, 1);
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "url") == 0)
    push_url(L, le->e->url);
  else if (strcmp(k, "dialect") == 0) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, le->e->dialect);
    lua_setfield(L, -2, "name");
    push_driver_name(L, le->e->url->drivername);
    lua_setfield(L, -2, "driver");
    if (strcmp(le->e->dialect, "mysql") == 0) {
      /* SQLAlchemy's MySQL dialect tells MariaDB once connected */
      lua_pushboolean(L, le->e->mariadb);
      lua_setfield(L, -2, "is_mariadb");
    }
  } else if (strcmp(k, "name") == 0)
    lua_pushstring(L, le->e->dialect);
  else if (strcmp(k, "driver") == 0)
    push_driver_name(L, le->e->url->drivername);
  else if (strcmp(k, "echo") == 0) {
    if (le->echo == 2)
      lua_pushliteral(L, "debug");
    else
      lua_pushboolean(L, le->echo);
  } else if (strcmp(k, "pool") == 0) {
    /* an execution_options() copy shares its engine's pool */
    if (le->borrowed)
      lua_getiuservalue(L, 1, 1);
    else
      lua_pushvalue(L, 1);
    push_pool(L, -1);
  } else {
    luaL_getmetafield(L, 1, "__methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

static int engine_newindex(lua_State *L) {
  lengine *le = checkengine(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "echo") != 0)
    return rt_lua_error(L, RT_EARGUMENT, "Engine has no settable field '%s'",
                        k);
  le->echo = echo_level(L, 3);
  le->e->hook = le->echo ? echo_hook : NULL;
  return 0;
}

static int engine_tostring(lua_State *L) {
  lengine *le = checkengine(L, 1);
  char *s = rt_url_render(le->e->url, 1);
  lua_pushfstring(L, "Engine(%s)", s ? s : "?");
  free(s);
  return 1;
}

/*
** engine:execution_options{...}: an Engine on the same pool whose
** connections get these options (on top of this engine's), as
** SQLAlchemy's OptionEngine.
*/
static int engine_execution_options(lua_State *L) {
  lengine *le = checkengine(L, 1), *cp;
  int opts;
  lua_settop(L, 2);
  check_exec_options(L, 2, "execution_options");
  lua_newtable(L); /* 3: the merged options */
  opts = 3;
  if (lua_getiuservalue(L, 1, 3) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, opts);
    }
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, opts);
  }
  cp = lua_newuserdatauv(L, sizeof *cp, 3);
  *cp = *le;
  cp->borrowed = 1;
  luaL_setmetatable(L, ENGINE_MT);
  /* user value 1: the engine that owns `e` (kept alive by the copy) */
  if (le->borrowed)
    lua_getiuservalue(L, 1, 1);
  else
    lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_getiuservalue(L, 1, 2);
  lua_setiuservalue(L, -2, 2);
  lua_pushvalue(L, opts);
  lua_setiuservalue(L, -2, 3);
  return 1;
}

/* engine:get_execution_options(): a copy of the options */
static int engine_get_execution_options(lua_State *L) {
  checkengine(L, 1);
  lua_newtable(L);
  if (lua_getiuservalue(L, 1, 3) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -5);
    }
  }
  lua_pop(L, 1);
  return 1;
}

static int engine_dispose(lua_State *L) {
  rt_engine_dispose(checkengine(L, 1)->e);
  return 0;
}

/* engine:_set_listeners(t or nil): see "engine events" above */
static int engine_set_listeners(lua_State *L) {
  lengine *le = checkengine(L, 1);
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  le->events = lua_istable(L, 2);
  lua_setiuservalue(L, 1, 2);
  return 0;
}

static int conn_exec_options(lua_State *L);

static int engine_connect(lua_State *L) {
  lengine *le = checkengine(L, 1);
  rt_error err = RT_ERROR_INIT;
  unsigned long made = le->e->pool.nconnects;
  lconn *c = lua_newuserdatauv(L, sizeof *c, CONN_NUV);
  memset(c, 0, sizeof *c);
  c->tag = &conn_tag;
  c->plan.uv = CONN_UV_PLAN;
  c->events = &le->events;
  c->echo = &le->echo;
  c->rowmt.uv = CONN_UV_ROWMT;
  rt_connection_init(&c->c, le->e);
  c->c.closed = 1; /* until acquired, so __gc has nothing to return */
  luaL_setmetatable(L, CONN_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  c->c.closed = 0;
  if (rt_connection_acquire(&c->c, &err) != 0) {
    c->c.closed = 1;
    return rt_lua_raise(L, &err);
  }
  /* the engine's execution options (create_engine's, or those of an
  ** engine:execution_options() copy) apply to each connection */
  if (lua_getiuservalue(L, 1, 3) == LUA_TTABLE) {
    int conn = lua_gettop(L) - 1;
    lua_pushcfunction(L, conn_exec_options);
    lua_pushvalue(L, conn);
    lua_pushvalue(L, -3);
    lua_call(L, 2, 0);
  }
  lua_pop(L, 1);
  if (le->events && le->e->pool.nconnects != made) {
    /* connect(dbapi_connection, connection_record): a new driver
    ** connection, which Lua does not see: both nil */
    int conn = lua_gettop(L);
    lua_pushnil(L);
    lua_pushnil(L);
    fire(L, conn, "connect", 2);
  }
  return 1;
}

/* engine:begin(fn): fn(conn) in a transaction that commits on success and
** rolls back (and re-raises) on error; the connection is closed after. */
static int conn_commit(lua_State *L);
static int conn_close(lua_State *L);
static int conn_begin(lua_State *L);

/*
** engine:begin(fn) runs fn(conn) in a transaction: commits, or rolls back
** and re-raises.  engine:begin() gives the Connection, its transaction
** begun, for `local conn <close> = engine:begin()`: leaving the block
** commits, leaving it by an error rolls back (SQLAlchemy's
** `with engine.begin() as conn`).
*/
static int engine_begin(lua_State *L) {
  int ok;
  checkengine(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_pushcfunction(L, engine_connect);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1); /* 2: conn */
    lua_pushcfunction(L, conn_begin);
    lua_pushvalue(L, 2);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
      lua_pushcfunction(L, conn_close);
      lua_pushvalue(L, 2);
      lua_call(L, 1, 0);
      return lua_error(L);
    }
    ((lconn *)lua_touserdata(L, 2))->commit_on_close = 1;
    return 1;
  }
  rt_lua_checkarg(L, 2, LUA_TFUNCTION, "begin");
  lua_settop(L, 2);
  lua_pushcfunction(L, engine_connect);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1); /* 3: conn */
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  ok = lua_pcall(L, 1, LUA_MULTRET, 0) == LUA_OK;
  if (ok) {
    int nres = lua_gettop(L) - 3;
    lua_pushcfunction(L, conn_commit);
    lua_pushvalue(L, 3);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) ok = 0, nres = 1;
    lua_pushcfunction(L, conn_close);
    lua_pushvalue(L, 3);
    lua_call(L, 1, 0);
    if (!ok) return lua_error(L);
    return nres;
  }
  lua_pushcfunction(L, conn_close); /* rolls back */
  lua_pushvalue(L, 3);
  lua_call(L, 1, 0);
  return lua_error(L);
}

/* --- URL objects: a table with the parts and a masking __tostring --- */

static int url_tostring(lua_State *L) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u;
  char *s;
  lua_getfield(L, 1, "__text");
  u = rt_url_parse(luaL_checkstring(L, -1), &err);
  if (u == NULL) return rt_lua_raise(L, &err);
  s = rt_url_render(u, 1);
  rt_url_free(u);
  lua_pushstring(L, s ? s : "");
  free(s);
  return 1;
}

/* The rt_url a URL table at idx stands for (parsed again from its text);
** the caller frees it. */
static rt_url *tourl(lua_State *L, int idx) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "__text");
  u = rt_url_parse(luaL_checkstring(L, -1), &err);
  lua_pop(L, 1);
  if (u == NULL) rt_lua_raise(L, &err);
  return u;
}

/* url1 == url2: the same parts, as SQLAlchemy's URL.__eq__ (the query
** arguments in any order: rendering sorts them) */
static int url_eq(lua_State *L) {
  rt_url *u[2] = {NULL, NULL};
  char *r[2] = {NULL, NULL};
  int i, same;
  for (i = 0; i < 2; i++) {
    rt_error err = RT_ERROR_INIT;
    if (lua_type(L, i + 1) == LUA_TTABLE &&
        lua_getfield(L, i + 1, "__text") == LUA_TSTRING &&
        (u[i] = rt_url_parse(lua_tostring(L, -1), &err)) != NULL)
      r[i] = rt_url_render(u[i], 0);
    rt_error_clear(&err);
  }
  same = r[0] && r[1] && strcmp(r[0], r[1]) == 0;
  for (i = 0; i < 2; i++) {
    free(r[i]);
    if (u[i]) rt_url_free(u[i]);
  }
  lua_pushboolean(L, same);
  return 1;
}

/* url:render_as_string([hide_password = true]) */
static int url_render_as_string(lua_State *L) {
  rt_url *u = tourl(L, 1);
  char *s = rt_url_render(u, lua_isnone(L, 2) || lua_toboolean(L, 2));
  rt_url_free(u);
  lua_pushstring(L, s ? s : "");
  free(s);
  return 1;
}

/* url:get_backend_name(): "postgresql" of "postgresql+psycopg2" */
static int url_get_backend_name(lua_State *L) {
  const char *d;
  lua_getfield(L, 1, "drivername");
  d = luaL_checkstring(L, -1);
  lua_pushlstring(L, d, strcspn(d, "+"));
  return 1;
}

/* url:get_driver_name(): the DBAPI named after "+", else the dialect's
** default one in SQLAlchemy 1.4 */
static void push_driver_name(lua_State *L, const char *d) {
  const char *plus = strchr(d, '+');
  if (plus)
    lua_pushstring(L, plus + 1);
  else if (strcmp(d, "sqlite") == 0)
    lua_pushliteral(L, "pysqlite");
  else if (strcmp(d, "postgresql") == 0)
    lua_pushliteral(L, "psycopg2");
  else
    lua_pushliteral(L, "mysqldb");
}

static int url_get_driver_name(lua_State *L) {
  lua_getfield(L, 1, "drivername");
  push_driver_name(L, luaL_checkstring(L, -1));
  return 1;
}

static void push_url(lua_State *L, const rt_url *u);

/* The part k of the table at idx for URL.set(): *v the string (borrowed
** from the table), NULL for false; 0 when not given. */
static int url_part(lua_State *L, int idx, const char *k, const char **v) {
  int t = lua_getfield(L, idx, k);
  *v = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1); /* the string stays alive in the table */
  return t != LUA_TNIL;
}

/* Replace an owned string part with a copy of v (or NULL); 0 when out of
** memory. */
static int url_replace(char **field, const char *v) {
  char *c = v ? strdup(v) : NULL;
  if (v && c == NULL) return 0;
  free(*field);
  *field = c;
  return 1;
}

/* A string part of URL.set() on top: a password may be a number, which
** stands for its digits (SQLAlchemy renders it with str()). */
static void url_check_string(lua_State *L, const char *k) {
  int t = lua_type(L, -1);
  if (t == LUA_TNUMBER && strcmp(k, "password") == 0)
    lua_tostring(L, -1); /* converted in place */
  else if (t != LUA_TSTRING && !(t == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
    rt_lua_error(L, RT_EARGUMENT, "%s must be a string", k);
}

/* The port on top as SQLAlchemy's int(port): an integer or its digits;
** false removes it. */
static lua_Integer url_check_port(lua_State *L) {
  lua_Integer port;
  int isnum;
  if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) return 0;
  port = lua_tointegerx(L, -1, &isnum);
  if (!isnum || port < 0 || port > 65535)
    rt_lua_error(L, RT_EARGUMENT, "URL.set: invalid port %s",
                 luaL_tolstring(L, -1, NULL));
  return port;
}

static void url_bad_query_value(lua_State *L) {
  rt_lua_error(L, RT_EARGUMENT,
               "Query dictionary values must be strings or sequences of "
               "strings");
}

/* The query on top, checked and copied into a table of key -> list of
** strings (false is an empty query): SQLAlchemy's query= of set(). */
static void url_check_query(lua_State *L) {
  int q = lua_gettop(L);
  lua_newtable(L);
  if (lua_type(L, q) == LUA_TBOOLEAN && !lua_toboolean(L, q)) {
    lua_replace(L, q);
    return;
  }
  if (!lua_istable(L, q))
    rt_lua_error(L, RT_EARGUMENT, "URL.set: query must be a table");
  lua_pushnil(L);
  while (lua_next(L, q)) {
    lua_Integer i, n = 1;
    if (lua_type(L, -2) != LUA_TSTRING)
      rt_lua_error(L, RT_EARGUMENT, "Query dictionary keys must be strings");
    lua_newtable(L);
    if (lua_istable(L, -2)) {
      n = (lua_Integer)lua_rawlen(L, -2);
      for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -2, i);
        if (lua_type(L, -1) != LUA_TSTRING) url_bad_query_value(L);
        lua_rawseti(L, -2, i);
      }
    } else if (lua_type(L, -2) == LUA_TSTRING) {
      lua_pushvalue(L, -2);
      lua_rawseti(L, -2, 1);
    } else
      url_bad_query_value(L);
    lua_pushvalue(L, -3);
    lua_insert(L, -2);
    lua_rawset(L, q + 1); /* copy[key] = list */
    lua_pop(L, 1);
  }
  lua_replace(L, q);
}

/* The query table at idx (key -> list of strings) as u's arguments; 0 when
** out of memory. */
static int url_set_query(lua_State *L, int idx, rt_url *u) {
  int i;
  for (i = 0; i < u->nargs; i++) {
    free(u->args[i].key);
    free(u->args[i].value);
  }
  free(u->args);
  u->args = NULL;
  u->nargs = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_Integer j, n = (lua_Integer)lua_rawlen(L, -1);
    for (j = 1; j <= n; j++) {
      rt_url_arg *a = realloc(u->args, (size_t)(u->nargs + 1) * sizeof *a);
      if (a == NULL) return lua_pop(L, 2), 0;
      u->args = a;
      lua_rawgeti(L, -1, j);
      a[u->nargs].key = strdup(lua_tostring(L, -3));
      a[u->nargs].value = strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
      u->nargs++;
      if (!a[u->nargs - 1].key || !a[u->nargs - 1].value)
        return lua_pop(L, 2), 0;
    }
    lua_pop(L, 1);
  }
  return 1;
}

/*
** url:set{drivername, username, password, host, port, database, query}: a
** new URL with those parts replaced (false removes one), as SQLAlchemy's
** URL.set().
*/
static int url_set(lua_State *L) {
  static const char *const names[] = {"drivername", "username", "password",
                                      "host", "database"};
  static const char *const known[] = {"drivername", "username", "password",
                                      "host",       "port",     "database",
                                      "query",      NULL};
  const char *vals[5];
  int given[5], i, ok = 1, args, hasquery;
  lua_Integer port = -1;
  rt_url *u;
  luaL_checktype(L, 1, LUA_TTABLE);
  rt_lua_checkarg(L, 2, LUA_TTABLE, "URL.set");
  /* a checked copy of the arguments, so that nothing fails once the new
  ** URL is being built */
  lua_newtable(L);
  args = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    for (i = 0; known[i] && strcmp(known[i], k) != 0; i++)
      ;
    if (!known[i])
      return rt_lua_error(L, RT_EARGUMENT,
                          "URL.set() got an unexpected argument '%s'",
                          luaL_tolstring(L, -2, NULL));
    if (strcmp(k, "port") == 0) {
      port = url_check_port(L);
      lua_pop(L, 1);
      continue;
    }
    if (strcmp(k, "query") == 0)
      url_check_query(L);
    else
      url_check_string(L, k);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, args);
  }
  for (i = 0; i < 5; i++) given[i] = url_part(L, args, names[i], &vals[i]);
  if (given[0] && vals[0] == NULL)
    return rt_lua_error(L, RT_EARGUMENT, "URL.set: drivername is required");
  hasquery = lua_getfield(L, args, "query") == LUA_TTABLE;
  u = tourl(L, 1);
  if (given[0]) ok &= url_replace(&u->drivername, vals[0]);
  if (given[1]) ok &= url_replace(&u->username, vals[1]);
  if (given[2]) ok &= url_replace(&u->password, vals[2]);
  if (given[3]) ok &= url_replace(&u->host, vals[3]);
  if (given[4]) ok &= url_replace(&u->database, vals[4]);
  if (port >= 0) u->port = (int)port;
  if (ok && hasquery) ok = url_set_query(L, lua_gettop(L), u);
  if (!ok) {
    rt_url_free(u);
    return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  push_url(L, u);
  rt_url_free(u);
  return 1;
}

static const luaL_Reg url_methods[] = {
    {"render_as_string", url_render_as_string},
    {"get_backend_name", url_get_backend_name},
    {"get_driver_name", url_get_driver_name},
    {"set", url_set},
    {NULL, NULL}};

static void push_url(lua_State *L, const rt_url *u) {
  char *full = rt_url_render(u, 0);
  int i;
  lua_createtable(L, 0, 9);
  lua_pushstring(L, full ? full : "");
  free(full);
  lua_setfield(L, -2, "__text");
  lua_pushstring(L, u->drivername);
  lua_setfield(L, -2, "drivername");
  if (u->username)
    lua_pushstring(L, u->username), lua_setfield(L, -2, "username");
  if (u->password)
    lua_pushstring(L, u->password), lua_setfield(L, -2, "password");
  if (u->host) lua_pushstring(L, u->host), lua_setfield(L, -2, "host");
  if (u->port) lua_pushinteger(L, u->port), lua_setfield(L, -2, "port");
  if (u->database)
    lua_pushstring(L, u->database), lua_setfield(L, -2, "database");
  /* a repeated key's values are a list, as SQLAlchemy's tuple */
  lua_createtable(L, 0, u->nargs);
  for (i = 0; i < u->nargs; i++) {
    int t = lua_getfield(L, -1, u->args[i].key);
    if (t == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushstring(L, u->args[i].value);
    } else if (t == LUA_TSTRING) {
      lua_createtable(L, 2, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
      lua_pushstring(L, u->args[i].value);
      lua_rawseti(L, -2, 2);
    } else {
      lua_pushstring(L, u->args[i].value);
      lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    lua_setfield(L, -2, u->args[i].key);
  }
  lua_setfield(L, -2, "query");
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, url_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, url_eq);
  lua_setfield(L, -2, "__eq");
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, url_methods) != LUA_TTABLE) {
    lua_pop(L, 1);
    luaL_newlib(L, url_methods);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, url_methods);
  }
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "retort.URL");
  lua_setfield(L, -2, "__name");
  lua_setmetatable(L, -2);
}

static int l_make_url(lua_State *L) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u = rt_url_parse(luaL_checkstring(L, 1), &err);
  if (u == NULL) return rt_lua_raise(L, &err);
  push_url(L, u);
  rt_url_free(u);
  return 1;
}

/* --- parameters --- */

/* The type kind a letter of a compile's kinds string stands for (see
** RT_COMPILE_HOOK). */
static int kind_of_letter(char k) {
  switch (k) {
  case 'j':
    return RT_TY_JSON;
  case 'u':
    return RT_TY_UUID;
  case 'a':
    return RT_TY_ARRAY;
  case 't':
    return RT_TY_DATETIME;
  case 'm':
    return RT_TY_TIME;
  case 'i':
    return RT_TY_INTERVAL;
  case 'd':
    return RT_TY_DATE;
  case 's':
    return RT_PARAM_SET;
  default:
    return RT_TY_NULL;
  }
}

/* The flags of a bind's processing (rt_lua_bind_process) on the dialect
** of the connection at index 1. */
static int bind_flags(lua_State *L) {
  const char *d = checkconn(L, 1)->c.engine->dialect;
  int flags = RT_BIND_EXEC;
  if (strcmp(d, "postgresql") == 0)
    flags |= RT_BIND_NATIVE_UUID | RT_BIND_NATIVE_INTERVAL;
  if (strcmp(d, "sqlite") == 0) flags |= RT_BIND_TIME_TEXT;
  if (strcmp(d, "mysql") == 0) flags |= RT_BIND_NAIVE_TIME;
  return flags;
}

/* The value on top (popped) as parameter j, of kind letter k (see
** collect_params), into *v; a string processing makes is kept alive in
** the table at made, the others by whoever holds them. */
static void bind_one(lua_State *L, char k, int flags, int made, rt_value *v,
                     const char *fname, int j) {
  if (kind_of_letter(k) != RT_TY_NULL && !lua_isnil(L, -1)) {
    rt_lua_bind_process(L, kind_of_letter(k), flags);
    lua_pushvalue(L, -1);
    lua_rawseti(L, made, (lua_Integer)lua_rawlen(L, made) + 1);
  }
  if (rt_lua_tovalue(L, -1, v) != 0)
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: parameter %d can't be bound: %s is not a SQL value",
                 fname, j, luaL_typename(L, -1));
  if (v->type == RT_V_TEXT && k == 'b') v->type = RT_V_BLOB;
  if (v->type == RT_V_TEXT) v->sqltype = rt_lua_bind_sqltype(kind_of_letter(k));
  lua_pop(L, 1); /* the string stays alive in its table */
}

/*
** Turn params (nil, a list of values, or a list of lists) into a row-major
** rt_value array in a userdata pushed on the stack.  Values borrow strings
** from the tables, which the caller keeps on the stack.  `kinds` (or NULL)
** has a letter per parameter for the type of its bind: 'b' LargeBinary
** (a string goes as bytes), others (rt_lua_bind_process) change the value;
** the strings made are kept in a table pushed before the array.  With
** `flat` > 0, params is one list of rows of `flat` values each, one
** after the other (no table per row).
*/
static rt_value *collect_params(lua_State *L, int idx, const char *kinds,
                                int rows, int flat, int *nparams, int *nrows,
                                const char *fname) {
  lua_Integer n, i, j, width = 0;
  int many = 0, made = 0, flags = 0;
  size_t nkinds = kinds ? strlen(kinds) : 0;
  rt_value *vals;
  if (kinds) {
    lua_newtable(L); /* the strings processing makes */
    made = lua_gettop(L);
    flags = bind_flags(L);
  }
  *nparams = 0;
  *nrows = 1;
  if (lua_isnoneornil(L, idx)) {
    lua_newuserdatauv(L, sizeof(rt_value), 0);
    return lua_touserdata(L, -1);
  }
  if (!lua_istable(L, idx))
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: parameters must be a list of values or a list of "
                 "lists, not %s",
                 fname, luaL_typename(L, idx));
  n = (lua_Integer)lua_rawlen(L, idx);
  if (flat > 0) {
    if (n == 0 || n % flat != 0)
      rt_lua_error(L, RT_EARGUMENT,
                   "%s: %d values do not make rows of %d parameters", fname,
                   (int)n, flat);
    many = 1, width = flat, n /= flat;
  } else if (n > 0) {
    lua_rawgeti(L, idx, 1);
    /* `rows`: a list of lists whatever the first value is */
    many = rows || (lua_istable(L, -1) && !rt_lua_isnull(L, -1));
    if (many) width = (lua_Integer)lua_rawlen(L, -1);
    lua_pop(L, 1);
  }
  if (!many) width = n, n = 1;
  if (width > 65535 || n > 100000000)
    rt_lua_error(L, RT_EARGUMENT, "%s: too many parameters", fname);
  vals = lua_newuserdatauv(L, sizeof(rt_value) * (size_t)(n * width + 1), 0);
  for (i = 1; i <= n; i++) {
    int row = idx;
    lua_Integer at = flat > 0 ? (i - 1) * width : 0;
    if (many && flat == 0) {
      lua_rawgeti(L, idx, i);
      if (!lua_istable(L, -1) || (lua_Integer)lua_rawlen(L, -1) != width)
        rt_lua_error(L, RT_EARGUMENT,
                     "%s: parameter set %d has a different length than the "
                     "first",
                     fname, (int)i);
      row = lua_gettop(L);
    }
    for (j = 1; j <= width; j++) {
      char k = (size_t)j <= nkinds ? kinds[j - 1] : '-';
      lua_rawgeti(L, row, at + j);
      bind_one(L, k, flags, made, &vals[(i - 1) * width + (j - 1)], fname,
               (int)j);
    }
    if (many && flat == 0) lua_pop(L, 1);
  }
  *nparams = (int)width;
  *nrows = (int)n;
  return vals;
}

/* --- Connection --- */

static lconn *openconn(lua_State *L, int idx) {
  lconn *c = checkconn(L, idx);
  if (c->c.closed)
    rt_lua_error(L, RT_ERESOURCECLOSED, "This Connection is closed");
  return c;
}

/*
** The parameters of a compiled statement as its DBAPI got them, for the
** context of the driver's error: SQLAlchemy shows a tuple for the
** positional paramstyles (sqlite's qmark, MySQLdb's format) and a dict by
** name for psycopg2's pyformat (names not NULL: ex->names); an
** executemany a tuple of those.  The Lua form is a list (a tuple) or a
** table (a dict), of values as the driver got them (a boolean is 1 or 0
** where the dialect has no boolean type); its text is SQLAlchemy's,
** made now (the order of a dict's keys is the statement's), and given as
** the table's __repr.
*/
static void sent_value(lua_State *L, rt_strbuf *b, const rt_value *v,
                       int intbool) {
  rt_value iv;
  if (intbool && v->type == RT_V_BOOL) {
    iv = rt_vint(v->u.b);
    v = &iv;
  }
  if (b) echo_value(b, v);
  rt_lua_pushstored(L, v);
}

static int sent_repr(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  return 1;
}

/* Parameter i of an execution (row): added to the list or table on top
** (names: by its name, which a parameter bound twice has once), and to
** its text in b (unless b is NULL) after `shown` others.  Returns
** whether it was added. */
static int sent_param(lua_State *L, rt_strbuf *b, const rt_value *row, int i,
                      const rt_param *names, int intbool, int shown) {
  if (!names) {
    if (b && shown) rt_sb_adds(b, ", ");
    sent_value(L, b, &row[i], intbool);
    lua_rawseti(L, -2, i + 1);
    return 1;
  }
  if (lua_getfield(L, -1, names[i].name) != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  if (b) {
    rt_value k = rt_vtext(names[i].name, strlen(names[i].name));
    if (shown) rt_sb_adds(b, ", ");
    echo_value(b, &k);
    rt_sb_adds(b, ": ");
  }
  sent_value(L, b, &row[i], intbool);
  lua_setfield(L, -2, names[i].name);
  return 1;
}

/* One execution's parameters (row), pushed as a list or a table by name,
** its text added to b when b is not NULL. */
static void sent_row(lua_State *L, rt_strbuf *b, const rt_value *row,
                     int nparams, const rt_param *names, int intbool) {
  int i, shown = 0;
  lua_createtable(L, names ? 0 : nparams, names ? nparams : 0);
  if (b) rt_sb_addc(b, names ? '{' : '(');
  for (i = 0; i < nparams; i++)
    if (!names || !names[i].in_item)
      shown += sent_param(L, b, row, i, names, intbool, shown);
  /* by name, an IN list's items come last: SQLAlchemy puts them in the
  ** place of their list's parameter, at the end of its dict */
  for (i = 0; names && i < nparams; i++)
    if (names[i].in_item)
      shown += sent_param(L, b, row, i, names, intbool, shown);
  if (b) rt_sb_adds(b, names ? "}" : nparams == 1 ? ",)" : ")");
}

/* (the text's buffer is a userdata's, freed if a raise cuts it short) */
static int sent_text_gc(lua_State *L) {
  rt_sb_free(lua_touserdata(L, 1));
  return 0;
}

static void push_sent(lua_State *L, const rt_lua_exec *ex, int intbool) {
  rt_strbuf *b = lua_newuserdatauv(L, sizeof *b, 0);
  int r, n = ex->nrows, bidx = lua_gettop(L);
  rt_sb_init(b);
  if (luaL_newmetatable(L, "retort.SentText")) {
    lua_pushcfunction(L, sent_text_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  if (n > 1) {
    lua_createtable(L, n, 0);
    rt_sb_addc(b, '(');
  }
  for (r = 0; r < n; r++) {
    /* past ten sets: the first eight and the last two shown */
    int show = n <= 10 || r < 8 || r >= n - 2;
    if (n > 10 && r == n - 2)
      rt_sb_addf(
          b, "  ... displaying 10 of %d total bound parameter sets ...  ", n);
    else if (r > 0 && show)
      rt_sb_adds(b, ", ");
    sent_row(L, show ? b : NULL, ex->vals + (size_t)r * (size_t)ex->nparams,
             ex->nparams, ex->names, intbool);
    if (n > 1) lua_rawseti(L, -2, r + 1);
  }
  if (n > 1) rt_sb_addc(b, ')');
  lua_createtable(L, 0, 1);
  if (b->failed)
    lua_pushliteral(L, "?");
  else
    lua_pushlstring(L, b->p ? b->p : "", b->n);
  rt_sb_free(b);
  lua_pushcclosure(L, sent_repr, 1);
  lua_setfield(L, -2, "__repr");
  lua_setmetatable(L, -2);
  lua_remove(L, bidx);
}

/* Raise the driver's error for sql, with the parameters at orig_params
** or, from a source (src not NULL), their table form, or those a compiled
** statement sent (ex not NULL), as its context. */
static int raise_exec(lua_State *L, lconn *c, rt_error *err, const char *sql,
                      int orig_params, rt_lua_params *src,
                      const rt_lua_exec *ex) {
  int params = orig_params ? lua_absindex(L, orig_params) : 0;
  settle_lost(c);
  rt_lua_pusherror(L, err);
  if (src || ex) {
    if (src)
      src->push_table(L, src);
    else
      push_sent(L, ex,
                strcmp(rt_engine_compile_dialect(c->c.engine), "postgresql"));
    lua_insert(L, -2);
    params = lua_gettop(L) - 1;
  }
  rt_lua_error_context(L, sql, params);
  return lua_error(L);
}

/*
** Whether a statement's executemany brings rows back: an INSERT with
** RETURNING, whose rows psycopg2's execute_values fetches from every page
** for SQLAlchemy 1.4.
*/
static int many_returns(const rt_node *stmt) {
  return stmt && stmt->kind == RT_N_INSERT && stmt->kids[RT_D_RETURNING];
}

/* Execute `sql` with `nrows` rows of `nparams` values on the Connection c
** at index 1; pushes a Result.  `returning`: an executemany gives the
** rows of its RETURNING (where the driver can). */
static int run_values(lua_State *L, lconn *c, const char *sql,
                      const rt_value *vals, int nparams, int nrows,
                      int returning, int orig_params, const unsigned char *conv,
                      int nconv, rt_lua_params *src, const rt_node *stmt,
                      const rt_lua_exec *ex) {
  rt_error err = RT_ERROR_INIT;
  int pidx = 0;
  /* (again: compiling may have run Lua code that closed it) */
  if (c->c.closed)
    rt_lua_error(L, RT_ERESOURCECLOSED, "This Connection is closed");
  if (*c->events) {
    begin_with_event(L, c);
    push_params(L, vals, nparams, nrows);
    pidx = lua_gettop(L);
    fire_cursor(L, "before_cursor_execute", sql, pidx, nrows > 1);
  }
  if (nrows > 1 && returning && c->c.engine->drv->executemany_rows != NULL) {
    rt_cursor *cur = NULL;
    lresult *r = rt_lua_newresult(L);
    if (rt_connection_executemany_rows(&c->c, sql, vals, nparams, nrows, &cur,
                                       &err) != 0)
      return raise_exec(L, c, &err, sql, orig_params, src, ex);
    rt_lua_setresult(L, r, 1, c, cur, conv, nconv, stmt);
    if (pidx) fire_cursor(L, "after_cursor_execute", sql, pidx, 1);
    return 1;
  }
  if (nrows > 1) {
    int64_t rowcount = -1;
    if (rt_connection_executemany(&c->c, sql, vals, nparams, nrows, &rowcount,
                                  &err) != 0)
      return raise_exec(L, c, &err, sql, orig_params, src, ex);
    rt_lua_pushcountresult(L, 1, rowcount, c->c.dbc->many_lastrowid);
    if (pidx) fire_cursor(L, "after_cursor_execute", sql, pidx, 1);
    return 1;
  } else {
    rt_cursor *cur = NULL;
    lresult *r = rt_lua_newresult(L);
    if (rt_connection_execute(&c->c, sql, vals, nparams,
                              c->stream ? RT_EXEC_STREAM : 0, &cur, &err) != 0)
      return raise_exec(L, c, &err, sql, orig_params, src, ex);
    rt_lua_setresult(L, r, 1, c, cur, conv, nconv, stmt);
    if (pidx) fire_cursor(L, "after_cursor_execute", sql, pidx, 0);
    return 1;
  }
}

/* Execute `sql` with the parameters at pidx (a list or list of lists) on
** the connection at index 1; pushes a Result.  `kinds`: the parameters'
** types as collect_params takes them, or NULL; `conv`: the result's
** conversions (nconv bytes), or NULL. */
static int run(lua_State *L, const char *sql, int pidx, const char *kinds,
               int flat, int orig_params, const char *fname,
               const unsigned char *conv, int nconv, int returning) {
  int nparams, nrows;
  rt_value *vals = collect_params(L, pidx, kinds, kinds != NULL, flat, &nparams,
                                  &nrows, fname);
  return run_values(L, openconn(L, 1), sql, vals, nparams, nrows, returning,
                    orig_params, conv, nconv, NULL, NULL, NULL);
}

/*
** exec_driver_sql's SQL as SQLAlchemy's DBAPIs read it.  psycopg2 and
** MySQLdb put their parameters in with Python's % operator: %s takes the
** next value of a list, %(name)s the named one of a table, %% is a %.
** Given parameters and a %, the SQL is read so, and becomes the driver's
** own ($n, ?) with the values in their order; without a %, it goes as
** written (the driver's own placeholders work as well).
*/
typedef struct pyformat {
  luaL_Buffer b;
  int pg;    /* $n placeholders, a repeated name reusing its number */
  int n;     /* placeholders made */
  int named; /* 1: %(name)s, 0: %s, -1: none yet */
  int names; /* stack index: name -> its number (PostgreSQL) */
  int order; /* stack index: list of the names or positions, in order */
} pyformat;

static void pyformat_slot(lua_State *L, pyformat *f, const char *name,
                          size_t len) {
  int named = name != NULL, num;
  if (f->named >= 0 && f->named != named)
    rt_lua_error(L, RT_EARGUMENT,
                 "exec_driver_sql: %%s and %%(name)s can't be mixed");
  f->named = named;
  if (named) {
    lua_pushlstring(L, name, len);
    if (f->pg && lua_rawget(L, f->names) == LUA_TNUMBER) {
      num = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
      luaL_addstring(&f->b, "$");
      lua_pushinteger(L, num);
      luaL_addvalue(&f->b);
      return;
    }
    lua_pop(L, 1);
  }
  num = ++f->n;
  if (named) {
    lua_pushlstring(L, name, len);
    lua_pushinteger(L, num);
    lua_rawset(L, f->names);
    lua_pushlstring(L, name, len);
  } else
    lua_pushinteger(L, num);
  lua_rawseti(L, f->order, num);
  if (f->pg) {
    luaL_addstring(&f->b, "$");
    lua_pushinteger(L, num);
    luaL_addvalue(&f->b);
  } else
    luaL_addchar(&f->b, '?');
}

/* Rewrite the SQL at index 2 and the parameters at 3 (see above). */
static void pyformat_params(lua_State *L, int pg) {
  const char *p = lua_tostring(L, 2);
  pyformat f;
  lua_Integer r, nrows, i;
  int many, rows, top;
  lua_newtable(L);
  f.names = lua_gettop(L);
  lua_newtable(L);
  f.order = lua_gettop(L);
  f.pg = pg;
  f.n = 0;
  f.named = -1;
  luaL_buffinit(L, &f.b);
  for (; *p; p++) {
    if (*p != '%') {
      luaL_addchar(&f.b, *p);
      continue;
    }
    p++;
    if (*p == '%')
      luaL_addchar(&f.b, '%');
    else if (*p == 's')
      pyformat_slot(L, &f, NULL, 0);
    else if (*p == '(') {
      const char *name = ++p;
      while (*p && *p != ')') p++;
      if (*p != ')' || p[1] != 's')
        rt_lua_error(L, RT_EVALUE,
                     "exec_driver_sql: incomplete format: %%(name)s expected");
      pyformat_slot(L, &f, name, (size_t)(p - name));
      p++;
    } else
      rt_lua_error(L, RT_EVALUE,
                   "exec_driver_sql: unsupported format character '%c'",
                   *p ? *p : '?');
  }
  luaL_pushresult(&f.b);
  lua_replace(L, 2);
  /* the rows: one list or table, or a list of them (executemany) */
  lua_rawgeti(L, 3, 1);
  many = lua_type(L, -1) == LUA_TTABLE && !rt_lua_isnull(L, -1);
  lua_pop(L, 1);
  nrows = many ? (lua_Integer)lua_rawlen(L, 3) : 1;
  lua_createtable(L, (int)nrows, 0);
  rows = lua_gettop(L);
  for (r = 1; r <= nrows; r++) {
    if (many)
      lua_rawgeti(L, 3, r);
    else
      lua_pushvalue(L, 3);
    top = lua_gettop(L);
    if (!lua_istable(L, top))
      rt_lua_error(L, RT_EARGUMENT,
                   "exec_driver_sql: parameter row %d is not a table", (int)r);
    if (f.named != 1 && (lua_Integer)lua_rawlen(L, top) != f.n)
      rt_lua_error(L, RT_EARGUMENT,
                   "exec_driver_sql: %d parameters for %d %%s placeholders",
                   (int)lua_rawlen(L, top), f.n);
    lua_createtable(L, f.n, 0);
    for (i = 1; i <= f.n; i++) {
      lua_rawgeti(L, f.order, i);
      if (lua_rawget(L, top) == LUA_TNIL) {
        if (f.named == 1) {
          lua_rawgeti(L, f.order, i);
          rt_lua_error(L, RT_EARGUMENT,
                       "exec_driver_sql: no value for parameter '%s'",
                       lua_tostring(L, -1));
        }
        lua_pop(L, 1);
        rt_lua_pushnull(L);
      }
      lua_rawseti(L, -2, i);
    }
    lua_rawseti(L, rows, r);
    lua_settop(L, rows);
  }
  if (!many) {
    lua_rawgeti(L, rows, 1);
    lua_replace(L, rows);
  }
  lua_replace(L, 3);
  lua_settop(L, 3);
}

static int conn_exec_driver_sql(lua_State *L) {
  const char *sql;
  lconn *c = checkconn(L, 1);
  rt_lua_checkarg(L, 2, LUA_TSTRING, "exec_driver_sql");
  sql = lua_tostring(L, 2);
  lua_settop(L, 3);
  if (lua_istable(L, 3) && strchr(sql, '%') &&
      strcmp(c->c.engine->dialect, "sqlite") != 0) {
    lua_pushnil(L);
    if (lua_next(L, 3) == 0) goto as_written; /* no parameters */
    lua_settop(L, 3);
    pyformat_params(L, strcmp(c->c.engine->dialect, "postgresql") == 0);
    sql = lua_tostring(L, 2);
  }
as_written:
  set_echo_tag("raw sql");
  return run(L, sql, 3, NULL, 0, 3, "exec_driver_sql", NULL, 0, 0);
}

/*
** conn:_exec_compiled(sql, rows, kinds, conv [, width [, returning]]): SQL
** that compile_hook made,
** with a list of positional parameter lists (one per execution: a JSON
** value may itself be a list), executed with what the compile knew
** of the types (its third and fourth results): parameters processed by
** their bind's type, results converted by their column's.  For the ORM,
** which keeps compiled statements and fills in their parameters itself.
** With `width` (a sixth argument), rows is one flat list of rows of that
** many values.  With `returning` (an INSERT with RETURNING), several rows
** give a Result of the rows of each, in order, where the driver can.
*/
/* The optional row width at idx of a flat parameter list (0: none). */
static int flat_width(lua_State *L, int idx, const char *fname) {
  lua_Integer w;
  if (lua_isnoneornil(L, idx)) return 0;
  w = luaL_checkinteger(L, idx);
  if (w < 1 || w > 65535)
    rt_lua_error(L, RT_EARGUMENT, "%s: bad row width %d", fname, (int)w);
  return (int)w;
}

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
** The ORM compiles its statements once and runs them here.  The engine's
** log labels them as SQLAlchemy's per-engine compiled cache would: the
** first time this engine runs the SQL "generated in" (the time taken here
** to get it ready), "cached since ... ago" after.  Kept only while the
** engine logs: registry[&precompiled_seen][engine][sql] = first run.
*/
static const char precompiled_seen = 0;

static void tag_precompiled(lua_State *L, int conn, const char *sql,
                            double t0) {
  lconn *c = lua_touserdata(L, conn);
  double now;
  lengine *le;
  int top = lua_gettop(L);
  if (c->c.engine->hook != echo_hook) return;
  now = mono_now();
  push_weak_keyed(L, &precompiled_seen);
  lua_getiuservalue(L, conn, 1); /* the engine, or the copy of one */
  le = lua_touserdata(L, -1);
  if (le->borrowed) lua_getiuservalue(L, -1, 1), lua_remove(L, -2);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, -3) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, -5);
  }
  if (lua_getfield(L, -1, sql) == LUA_TNUMBER) {
    char tag[64];
    snprintf(tag, sizeof tag, "cached since %.4gs ago",
             now - lua_tonumber(L, -1));
    set_echo_tag(tag);
  } else {
    char tag[64];
    snprintf(tag, sizeof tag, "generated in %.5fs", now - t0);
    set_echo_tag(tag);
    lua_pushnumber(L, now);
    lua_setfield(L, -3, sql);
  }
  lua_settop(L, top);
}

static int conn_exec_compiled(lua_State *L) {
  double t0 = mono_now();
  const char *sql, *kinds = NULL;
  const unsigned char *conv = NULL;
  size_t nconv = 0;
  rt_lua_checkarg(L, 2, LUA_TSTRING, "_exec_compiled");
  sql = lua_tostring(L, 2);
  rt_lua_checkarg(L, 3, LUA_TTABLE, "_exec_compiled");
  kinds = luaL_optstring(L, 4, "");
  if (!lua_isnoneornil(L, 5)) {
    rt_lua_checkarg(L, 5, LUA_TSTRING, "_exec_compiled");
    conv = (const unsigned char *)lua_tolstring(L, 5, &nconv);
  }
  tag_precompiled(L, 1, sql, t0);
  return run(L, sql, 3, kinds, flat_width(L, 6, "_exec_compiled"), 3,
             "_exec_compiled", conv, (int)nconv, lua_toboolean(L, 7));
}

/*
** conn:_insert_each(sql, rows, kinds [, width]): an INSERT that _exec_compiled
** would run once per parameter list, for rows whose key the database
** generates: each execution's lastrowid is needed, so no executemany, but
** one call for the batch and no Result per row.  Returns the list of
** generated keys.  rows may be flat, as _exec_compiled's (the row width a
** fourth argument).  The prepared statement is reused from the
** connection's statement cache.
*/
static int insert_each(lua_State *L, lconn *c, const char *sql,
                       const rt_value *vals, int nparams, int nrows, double t0,
                       rt_lua_params *src);

static int conn_insert_each(lua_State *L) {
  double t0 = mono_now();
  lconn *c = openconn(L, 1);
  const char *sql, *kinds;
  rt_value *vals;
  int nparams, nrows;
  rt_lua_checkarg(L, 2, LUA_TSTRING, "_insert_each");
  sql = lua_tostring(L, 2);
  rt_lua_checkarg(L, 3, LUA_TTABLE, "_insert_each");
  kinds = luaL_optstring(L, 4, "");
  vals = collect_params(L, 3, kinds, 1, flat_width(L, 5, "_insert_each"),
                        &nparams, &nrows, "_insert_each");
  return insert_each(L, c, sql, vals, nparams, nrows, t0, NULL);
}

/* (a key no row has: the rows of a failed insertmany that did not run) */
#define NO_KEY INT64_MIN

/* A failure part way through conn:_insert_each: the rows before it were
** inserted (until the transaction rolls back), and src is told their
** keys, as SQLAlchemy sets each object's key when its row is inserted:
** ids[0..n-1], or the first n of the list at index `list`. */
static void keys_so_far(lua_State *L, rt_lua_params *src, const int64_t *ids,
                        int list, int n) {
  int i;
  if (!src || !src->inserted) return;
  for (i = 0; i < n; i++) {
    int64_t id;
    if (ids) {
      if (ids[i] == NO_KEY) break;
      id = ids[i];
    } else {
      lua_rawgeti(L, list, i + 1);
      id = (int64_t)lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    src->inserted(L, src, i + 1, id);
  }
}

/* The executions of conn:_insert_each (the Connection c at index 1) with
** its parameters collected: vals, nrows of nparams each, from the table
** at index 3 or from src. */
static int insert_each(lua_State *L, lconn *c, const char *sql,
                       const rt_value *vals, int nparams, int nrows, double t0,
                       rt_lua_params *src) {
  rt_error err = RT_ERROR_INIT;
  int i, list, events = has_listeners(L, 1);
  int orig = src ? 0 : 3;
  if (!events && nrows > 0) {
    int64_t *ids = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)nrows, 0);
    int rc;
    for (i = 0; i < nrows; i++) ids[i] = NO_KEY;
    rc = rt_connection_insertmany(&c->c, sql, vals, nparams, nrows, ids, &err);
    if (rc < 0) {
      keys_so_far(L, src, ids, 0, nrows);
      return raise_exec(L, c, &err, sql, orig, src, NULL);
    }
    if (rc == 0) {
      lua_createtable(L, nrows, 0);
      for (i = 0; i < nrows; i++) {
        lua_pushinteger(L, ids[i]);
        lua_rawseti(L, -2, i + 1);
      }
      return 1;
    }
    lua_pop(L, 1);
  }
  if (events) begin_with_event(L, c);
  lua_createtable(L, nrows, 0);
  list = lua_gettop(L);
  for (i = 0; i < nrows; i++) {
    const rt_value *row = vals + (size_t)i * nparams;
    rt_cursor *cur = NULL;
    int64_t id;
    int pidx = 0;
    if (events) { /* each execution is a cursor execute of its own */
      push_params(L, row, nparams, 1);
      pidx = lua_gettop(L);
      fire_cursor(L, "before_cursor_execute", sql, pidx, 0);
    }
    tag_precompiled(L, 1, sql, t0);
    if (rt_connection_execute(&c->c, sql, row, nparams, 0, &cur, &err) != 0) {
      keys_so_far(L, src, NULL, list, i);
      return raise_exec(L, c, &err, sql, orig, src, NULL);
    }
    id = cur->lastrowid;
    cur->conn->drv->cursor_close(cur);
    if (events) {
      fire_cursor(L, "after_cursor_execute", sql, pidx, 0);
      lua_settop(L, pidx - 1);
    }
    lua_pushinteger(L, id);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* The parameters of src as collect_params makes them of a table, pushed
** in a userdata (with the table of the strings processing makes below
** it).  Strings are borrowed from where src reads them, which nothing
** changes before the execution, but for the listeners of the cursor
** events: with those, every value is kept in that table too. */
static rt_value *collect_source(lua_State *L, rt_lua_params *src,
                                const char *kinds, const char *fname) {
  size_t nkinds = strlen(kinds);
  int flags, made, r, j, keep = *checkconn(L, 1)->events != 0;
  rt_value *vals;
  if (src->width < 1 || src->width > 65535 || src->nrows < 1 ||
      src->nrows > 100000000 / src->width)
    rt_lua_error(L, RT_EARGUMENT, "%s: too many parameters", fname);
  lua_newtable(L);
  made = lua_gettop(L);
  flags = bind_flags(L);
  vals = lua_newuserdatauv(
      L, sizeof(rt_value) * ((size_t)src->nrows * (size_t)src->width + 1), 0);
  for (r = 1; r <= src->nrows; r++)
    for (j = 1; j <= src->width; j++) {
      char k = (size_t)j <= nkinds ? kinds[j - 1] : '-';
      src->push(L, src, r, j);
      if (keep) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, made, (lua_Integer)lua_rawlen(L, made) + 1);
      }
      bind_one(L, k, flags, made,
               &vals[(size_t)(r - 1) * (size_t)src->width + (size_t)(j - 1)],
               fname, j);
    }
  return vals;
}

/* (lretort.h) conn:_exec_compiled with parameters from a source */
int rt_lua_exec_params(lua_State *L, const char *sql, const char *kinds,
                       const unsigned char *conv, int nconv,
                       rt_lua_params *src) {
  double t0 = mono_now();
  rt_value *vals;
  /* called from C, not as a Lua function: it makes sure of its own room
  ** as a fresh C function's call would give it */
  luaL_checkstack(L, LUA_MINSTACK, "executing a statement");
  openconn(L, 1);
  tag_precompiled(L, 1, sql, t0);
  vals = collect_source(L, src, kinds ? kinds : "", "_exec_compiled");
  return run_values(L, openconn(L, 1), sql, vals, src->width, src->nrows,
                    src->returning, 0, conv, nconv, src, NULL, NULL);
}

/* (lretort.h) conn:_insert_each with parameters from a source */
int rt_lua_insert_each_params(lua_State *L, const char *sql, const char *kinds,
                              rt_lua_params *src) {
  double t0 = mono_now();
  lconn *c;
  luaL_checkstack(L, LUA_MINSTACK, "executing a statement"); /* (as above) */
  c = openconn(L, 1);
  rt_value *vals = collect_source(L, src, kinds ? kinds : "", "_insert_each");
  return insert_each(L, c, sql, vals, src->width, src->nrows, t0, src);
}

/*
** Only statements execute: a column, a table, an expression or a plain
** string is an ObjectNotExecutableError, as in SQLAlchemy (a string's
** message says how to make it a statement).
*/
static rt_node *check_executable(lua_State *L, int idx) {
  rt_node *n = lsql_tonode(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING)
    rt_lua_error(L, RT_ENOTEXECUTABLE,
                 "Not an executable object: '%s' (textual SQL is executed "
                 "as text('%s'))",
                 lua_tostring(L, idx), lua_tostring(L, idx));
  if (!n) {
    rt_lua_error(L, RT_ENOTEXECUTABLE, "Not an executable object: %s",
                 luaL_tolstring(L, idx, NULL));
    return NULL;
  }
  switch (n->kind) {
  case RT_N_SELECT:
  case RT_N_COMPOUND:
  case RT_N_INSERT:
  case RT_N_UPDATE:
  case RT_N_DELETE:
  case RT_N_DDL:
  case RT_N_TEXT:
    return n;
  case RT_N_TABLE:
    rt_lua_error(L, RT_ENOTEXECUTABLE, "Not an executable object: Table('%s')",
                 n->name);
    return NULL;
  case RT_N_COLUMN:
    rt_lua_error(L, RT_ENOTEXECUTABLE,
                 "Not an executable object: Column('%s', table=<%s>)", n->name,
                 n->owner && n->owner->name ? n->owner->name : "");
    return NULL;
  default:
    rt_lua_error(L, RT_ENOTEXECUTABLE, "Not an executable object: %s",
                 luaL_tolstring(L, idx, NULL));
  }
  return NULL;
}

/*
** conn:execute(stmt, params): the expression module registers a compile
** function (RT_COMPILE_EXEC in lretort.h) that gives the SQL and the
** parameters already as rt_values.
*/
static const char compile_exec_key = 0;
static rt_lua_slot compile_exec_slot;

/* Parameters up to this many go on the C stack when a plan runs. */
#define PLANNED_VALUES 16

static int conn_execute(lua_State *L) {
  lconn *c = openconn(L, 1);
  rt_lua_exec ex;
  rt_value buf[PLANNED_VALUES];
  rt_node *n;
  lua_settop(L, 3);
  n = check_executable(L, 2);
  /* a statement run before: its plan, without the compile's call */
  if (c->c.engine->hook != echo_hook && lua_type(L, 2) == LUA_TUSERDATA &&
      lsql_exec_planned(L, 2, n, 3, c->c.engine->dialect, 1, &c->plan, &ex, buf,
                        PLANNED_VALUES)) {
    echo_tag[0] = '\0';
    return run_values(L, c, ex.sql, ex.vals, ex.nparams, ex.nrows,
                      many_returns(n), 3, ex.conv, ex.nconv, NULL, n, &ex);
  }
  if (rt_lua_slot_get(L, &compile_exec_slot, &compile_exec_key) !=
      LUA_TFUNCTION) {
    /* the first statement: find the compile by name, keep it in a slot */
    lua_pop(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, RT_COMPILE_EXEC) == LUA_TFUNCTION) {
      lua_pushvalue(L, -1);
      rt_lua_slot_set(L, &compile_exec_slot, &compile_exec_key);
    }
  }
  if (lua_type(L, -1) != LUA_TFUNCTION)
    return rt_lua_error(L, RT_EARGUMENT,
                        "execute: %s is not an executable statement",
                        luaL_typename(L, 2));
  lua_pushvalue(L, 2);
  lua_pushstring(L, rt_engine_compile_dialect(c->c.engine));
  lua_pushvalue(L, 3);
  lua_pushlightuserdata(L, &ex);
  ex.echo = c->c.engine->hook == echo_hook;
  ex.tag[0] = '\0';
  /* 4: sql, 5: values, 6 and 7: what they borrow from, 8: conversions,
  ** 9: how to find inserted_primary_key, 10: what ex.names is in */
  lua_call(L, 4, 7);
  set_echo_tag(ex.tag);
  run_values(L, c, ex.sql, ex.vals, ex.nparams, ex.nrows, many_returns(n), 3,
             ex.conv, ex.nconv, NULL, n, &ex);
  if (!lua_isnil(L, 9)) rt_lua_result_setpk(L, -1, 9);
  return 1;
}

/* conn:scalar(stmt, params) and conn:scalars(stmt, params): execute, then
** the result's scalar() / scalars(), as SQLAlchemy 2.0's Connection. */
static int scalar_of(lua_State *L, const char *method) {
  lua_settop(L, 3);
  conn_execute(L);
  lua_getfield(L, -1, method);
  lua_insert(L, -2);
  lua_call(L, 1, 1);
  return 1;
}

static int conn_scalar(lua_State *L) {
  return scalar_of(L, "scalar");
}

static int conn_scalars(lua_State *L) {
  return scalar_of(L, "scalars");
}

/*
** The Transactions a Connection has handed out: user value 3 is the root
** one (conn:begin()'s, or the one get_transaction() made for an autobegun
** transaction), user value 4 the list of open SAVEPOINT ones, innermost
** last.  Whenever the connection's transaction has ended (commit,
** rollback, an error that lost it) they are deactivated and forgotten.
*/
static int push_tx(lua_State *L, int nested, int savepoint);

static void deactivate_from(lua_State *L, int list, lua_Integer from) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, list), i;
  for (i = n; i >= from; i--) {
    lua_rawgeti(L, list, i);
    ((ltx *)lua_touserdata(L, -1))->active = 0;
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, list, i);
  }
}

static void sync_txs(lua_State *L, int conn) {
  lconn *c = lua_touserdata(L, conn);
  if (!c->c.closed && c->c.in_tx) return;
  conn = lua_absindex(L, conn);
  if (lua_getiuservalue(L, conn, 3) != LUA_TNIL)
    ((ltx *)lua_touserdata(L, -1))->active = 0;
  if (lua_getiuservalue(L, conn, 4) == LUA_TTABLE)
    deactivate_from(L, lua_gettop(L), 1);
  lua_pop(L, 2);
  lua_pushnil(L);
  lua_setiuservalue(L, conn, 3);
}

/* The list of open savepoint Transactions of the connection at conn. */
static int nested_list(lua_State *L, int conn) {
  conn = lua_absindex(L, conn);
  if (lua_getiuservalue(L, conn, 4) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, conn, 4);
  }
  return lua_gettop(L);
}

/* conn:get_transaction(): the root Transaction in progress, or nil */
static int conn_get_transaction(lua_State *L) {
  lconn *c = checkconn(L, 1);
  lua_settop(L, 1);
  sync_txs(L, 1);
  if (c->c.closed || !c->c.in_tx) {
    lua_pushnil(L);
    return 1;
  }
  if (lua_getiuservalue(L, 1, 3) != LUA_TNIL) return 1;
  push_tx(L, 0, 0);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, 3);
  return 1;
}

/* conn:get_nested_transaction(): the innermost SAVEPOINT Transaction in
** progress, or nil */
static int conn_get_nested_transaction(lua_State *L) {
  lua_Integer n;
  checkconn(L, 1);
  lua_settop(L, 1);
  sync_txs(L, 1);
  n = (lua_Integer)lua_rawlen(L, nested_list(L, 1));
  lua_rawgeti(L, -1, n); /* nil when n is 0 */
  return 1;
}

static int conn_in_nested_transaction(lua_State *L) {
  checkconn(L, 1);
  lua_settop(L, 1);
  sync_txs(L, 1);
  lua_pushboolean(L, lua_rawlen(L, nested_list(L, 1)) > 0);
  return 1;
}

/*
** conn:invalidate(): the driver connection is closed and not pooled again;
** the next statement checks out another, unless a transaction was in
** progress: that one must be rolled back first (PendingRollbackError).
** conn.info goes with the driver connection, as SQLAlchemy's.
*/
static int conn_invalidate(lua_State *L) {
  lconn *c = checkconn(L, 1);
  rt_error err = RT_ERROR_INIT;
  rt_lua_detach_results(c);
  if (rt_connection_invalidate(&c->c, &err) != 0) return rt_lua_raise(L, &err);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 2);
  return 0;
}

/* commit() and rollback() of a closed connection have nothing to end,
** as SQLAlchemy's */
static int conn_commit(lua_State *L) {
  lconn *c = checkconn(L, 1);
  rt_error err = RT_ERROR_INIT;
  if (c->c.closed) return 0;
  if (c->c.in_tx) fire_conn(L, 1, "commit");
  rt_lua_detach_results(c);
  if (rt_connection_commit(&c->c, &err) != 0) return raise_conn(L, c, &err);
  sync_txs(L, 1);
  return 0;
}

static int conn_rollback(lua_State *L) {
  lconn *c = checkconn(L, 1);
  rt_error err = RT_ERROR_INIT;
  if (c->c.closed) return 0;
  if (c->c.in_tx) fire_conn(L, 1, "rollback");
  rt_lua_detach_results(c);
  if (rt_connection_rollback(&c->c, &err) != 0) return rt_lua_raise(L, &err);
  sync_txs(L, 1);
  return 0;
}

static int conn_close(lua_State *L) {
  lconn *c = checkconn(L, 1);
  if (!c->c.closed && c->c.in_tx) fire_conn(L, 1, "rollback");
  rt_lua_detach_results(c);
  rt_connection_close(&c->c);
  sync_txs(L, 1);
  return 0;
}

/*
** conn:_rollback_quiet([close]): rollback() with its error swallowed, as
** a closing Session wants (its connection must end, whatever happened),
** then close() when `close` is true: one call for what was a pcall of
** rollback() and a close().  Without listeners nothing here can raise,
** so no protected call is needed.
*/
static int conn_rollback_quiet(lua_State *L) {
  lconn *c = checkconn(L, 1);
  int close = lua_toboolean(L, 2);
  lua_settop(L, 1);
  if (!c->c.closed) {
    if (has_listeners(L, 1)) {
      lua_pushcfunction(L, conn_rollback);
      lua_pushvalue(L, 1);
      (void)lua_pcall(L, 1, 0, 0);
      lua_settop(L, 1);
    } else {
      rt_error err = RT_ERROR_INIT;
      /* (as rollback(): its buffered results stay readable, and its
      ** transactions end unless it failed) */
      rt_lua_detach_results(c);
      if (rt_connection_rollback(&c->c, &err) == 0) sync_txs(L, 1);
      rt_error_clear(&err);
    }
  }
  if (close) conn_close(L);
  return 0;
}

/* A Connection's __close: engine:begin()'s commits when its block ends
** without an error (the error, if any, is argument 2). */
static int conn_toclose(lua_State *L) {
  lconn *c = checkconn(L, 1);
  int ok = 1;
  if (c->commit_on_close && lua_isnil(L, 2) && !c->c.closed && c->c.in_tx) {
    lua_pushcfunction(L, conn_commit);
    lua_pushvalue(L, 1);
    ok = lua_pcall(L, 1, 0, 0) == LUA_OK;
  }
  c->commit_on_close = 0;
  if (!ok) {
    /* the commit's error stays on top while the connection closes */
    lua_pushcfunction(L, conn_close);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
    return lua_error(L);
  }
  lua_settop(L, 1);
  return conn_close(L);
}

static int conn_in_transaction(lua_State *L) {
  lconn *c = checkconn(L, 1);
  lua_pushboolean(L, !c->c.closed && c->c.in_tx);
  return 1;
}

static int push_tx(lua_State *L, int nested, int savepoint) {
  ltx *t = lua_newuserdatauv(L, sizeof *t, 1);
  t->nested = nested;
  t->savepoint = savepoint;
  t->active = 1;
  luaL_setmetatable(L, TX_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* Begin the transaction of the connection at 1 (with its begin event). */
static lconn *begin_tx(lua_State *L) {
  lconn *c = openconn(L, 1);
  rt_error err = RT_ERROR_INIT;
  if (c->c.in_tx)
    rt_lua_error(L, RT_EINVALIDREQUEST,
                 "This connection has already initialized a "
                 "SQLAlchemy Transaction() object via begin() or "
                 "autobegin; can't call begin() here unless "
                 "rollback() or commit() is called first.");
  fire_conn(L, 1, "begin");
  if (rt_connection_begin(&c->c, &err) != 0) raise_conn(L, c, &err);
  sync_txs(L, 1);
  return c;
}

static int conn_begin(lua_State *L) {
  begin_tx(L);
  push_tx(L, 0, 0);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, 3);
  return 1;
}

/* conn:_begin_unheld(): begin() for a caller that drops the Transaction
** (a Session's connection): none is made now; get_transaction() makes
** it, as for an autobegun transaction, should anyone ask. */
static int conn_begin_unheld(lua_State *L) {
  begin_tx(L);
  return 0;
}

static int savepoint_sql(lua_State *L, const char *verb, int n) {
  lua_pushfstring(L, "%s sa_savepoint_%d", verb, n);
  lua_replace(L, 2);
  lua_settop(L, 2);
  set_echo_tag("no key 0.00000s"); /* SQLAlchemy's have no key */
  return run(L, lua_tostring(L, 2), 3, NULL, 0, 0, verb, NULL, 0, 0);
}

static int conn_begin_nested(lua_State *L) {
  lconn *c = openconn(L, 1);
  int n;
  lua_settop(L, 1);
  if (has_listeners(L, 1)) {
    /* savepoint(conn, name): the name is not made yet (nil) */
    begin_with_event(L, c);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    fire(L, 1, "savepoint", 2);
  }
  lua_pushnil(L);
  c->c.savepoints++;
  n = ++c->savepoint_seq;
  savepoint_sql(L, "SAVEPOINT", n);
  lua_settop(L, 1);
  nested_list(L, 1);
  push_tx(L, 1, n);
  lua_pushvalue(L, -1);
  lua_rawseti(L, 2, (lua_Integer)lua_rawlen(L, 2) + 1);
  return 1;
}

/*
** conn:execution_options{isolation_level, stream_results, yield_per}
** changes this connection (as SQLAlchemy 2.0's Connection does) and
** returns it.
*/
static int conn_exec_options(lua_State *L) {
  lconn *c = openconn(L, 1);
  rt_error err = RT_ERROR_INIT;
  rt_lua_checkarg(L, 2, LUA_TTABLE, "execution_options");
  lua_settop(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    const char *k;
    if (lua_type(L, -2) != LUA_TSTRING)
      return rt_lua_error(L, RT_EARGUMENT,
                          "execution_options: option names are strings");
    k = lua_tostring(L, -2);
    if (strcmp(k, "isolation_level") == 0) {
      rt_isolation level;
      if (lua_type(L, -1) != LUA_TSTRING)
        return rt_lua_error(L, RT_EARGUMENT,
                            "execution_options: isolation_level must be a "
                            "string");
      if (rt_isolation_parse(c->c.engine, lua_tostring(L, -1), &level, &err) !=
              0 ||
          rt_connection_set_isolation(&c->c, level, &err) != 0)
        return rt_lua_raise(L, &err);
    } else if (strcmp(k, "stream_results") == 0)
      c->stream = lua_toboolean(L, -1);
    else if (strcmp(k, "yield_per") == 0) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
        return rt_lua_error(L, RT_EARGUMENT,
                            "execution_options: yield_per must be a positive "
                            "integer");
      c->yield_per = (int)lua_tointeger(L, -1);
      c->stream = 1;
    }
    lua_pop(L, 1);
  }
  /* kept, all of them, for get_execution_options() */
  if (lua_getiuservalue(L, 1, CONN_UV_OPTS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, CONN_UV_OPTS);
  }
  merge_table(L, 2, -1);
  lua_settop(L, 1);
  return 1;
}

/* conn:get_execution_options(): a copy of the options given to it and
** its engine */
static int conn_get_execution_options(lua_State *L) {
  checkconn(L, 1);
  lua_newtable(L);
  if (lua_getiuservalue(L, 1, CONN_UV_OPTS) == LUA_TTABLE)
    merge_table(L, -1, -2);
  lua_pop(L, 1);
  return 1;
}

static int conn_get_isolation_level(lua_State *L) {
  lconn *c = openconn(L, 1);
  rt_error err = RT_ERROR_INIT;
  const char *name;
  if (rt_connection_get_isolation(&c->c, &name, &err) != 0)
    return rt_lua_raise(L, &err);
  lua_pushstring(L, name);
  return 1;
}

/* A method of the object whose __index this is (its upvalue 1): what
** most lookups are, pushed, or 0 with nothing pushed. */
static int index_method(lua_State *L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_settop(L, 2);
  return 0;
}

static int conn_index(lua_State *L) {
  lconn *c;
  const char *k;
  if (index_method(L)) return 1;
  c = checkconn(L, 1);
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "closed") == 0)
    lua_pushboolean(L, c->c.closed);
  else if (strcmp(k, "invalidated") == 0)
    lua_pushboolean(L, c->c.invalidated);
  else if (strcmp(k, "info") == 0) {
    /* a table for the user's own notes, kept until invalidate() */
    if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE) {
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, 1, 2);
    }
  } else if (strcmp(k, "engine") == 0)
    lua_getiuservalue(L, 1, 1);
  else if (strcmp(k, "default_isolation_level") == 0) {
    rt_error err = RT_ERROR_INIT;
    const char *name;
    if (c->c.closed)
      return rt_lua_error(L, RT_ERESOURCECLOSED, "This Connection is closed");
    if (rt_connection_default_isolation(&c->c, &name, &err) != 0)
      return rt_lua_raise(L, &err);
    lua_pushstring(L, name);
  } else if (strcmp(k, "dialect") == 0) {
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "dialect");
  } else
    lua_pushnil(L);
  return 1;
}

static int conn_gc(lua_State *L) {
  lconn *c = lua_touserdata(L, 1);
  rt_lua_close_results(c);
  rt_connection_abandon(&c->c);
  return 0;
}

static int conn_tostring(lua_State *L) {
  lua_pushfstring(L, "<Connection at %p>", lua_topointer(L, 1));
  return 1;
}

/* --- Transaction --- */

static int tx_end(lua_State *L, int commit) {
  ltx *t = luaL_checkudata(L, 1, TX_MT);
  lconn *c;
  rt_error err = RT_ERROR_INIT;
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 1);
  lua_replace(L, 1); /* index 1 is now the connection */
  /* an ended transaction (closing its connection ends it too) is inactive
  ** before its connection is looked at, as SQLAlchemy's */
  if (!t->active) {
    if (commit)
      return rt_lua_error(L, RT_EINVALIDREQUEST,
                          t->nested ? "This nested transaction is inactive"
                                    : "This transaction is inactive");
    return 0;
  }
  c = openconn(L, 1);
  if (t->nested) {
    /* it and the savepoints begun inside it end here */
    int list = nested_list(L, 1);
    lua_Integer i, n = (lua_Integer)lua_rawlen(L, list);
    for (i = n; i >= 1; i--) {
      lua_rawgeti(L, list, i);
      if (lua_touserdata(L, -1) == (void *)t) {
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
    }
    if (i >= 1) deactivate_from(L, list, i);
    lua_pop(L, 1);
  }
  t->active = 0;
  if (t->nested) {
    if (has_listeners(L, 1)) {
      /* release_savepoint / rollback_savepoint(conn, name, context) */
      lua_pushvalue(L, 1);
      lua_pushfstring(L, "sa_savepoint_%d", t->savepoint);
      lua_pushnil(L);
      fire(L, 1, commit ? "release_savepoint" : "rollback_savepoint", 3);
    }
    lua_pushnil(L);
    savepoint_sql(L, commit ? "RELEASE SAVEPOINT" : "ROLLBACK TO SAVEPOINT",
                  t->savepoint);
    if (c->c.savepoints > 0) c->c.savepoints--;
    return 0;
  }
  if (c->c.in_tx) fire_conn(L, 1, commit ? "commit" : "rollback");
  rt_lua_detach_results(c);
  if ((commit ? rt_connection_commit(&c->c, &err)
              : rt_connection_rollback(&c->c, &err)) != 0)
    return raise_conn(L, c, &err);
  sync_txs(L, 1);
  return 0;
}

static int tx_commit(lua_State *L) {
  return tx_end(L, 1);
}

static int tx_rollback(lua_State *L) {
  return tx_end(L, 0);
}

/* tx:close(): SQLAlchemy's Transaction.close(), which rolls back a
** transaction still active and is a quiet no-op on an ended one. */
static int tx_close_method(lua_State *L) {
  return tx_end(L, 0);
}

static int tx_index(lua_State *L) {
  ltx *t = luaL_checkudata(L, 1, TX_MT);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "is_active") == 0)
    lua_pushboolean(L, t->active);
  else if (strcmp(k, "connection") == 0)
    lua_getiuservalue(L, 1, 1);
  else {
    luaL_getmetafield(L, 1, "__methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

static int tx_tostring(lua_State *L) {
  ltx *t = luaL_checkudata(L, 1, TX_MT);
  lua_pushfstring(L, "<%s object at %p>",
                  t->nested ? "NestedTransaction" : "RootTransaction",
                  lua_topointer(L, 1));
  return 1;
}

/*
** `local t <close> = conn:begin()`: as SQLAlchemy's `with conn.begin():`,
** a block left normally commits (releases, for a savepoint) a transaction
** still active, and one left by an error (Lua passes it as argument 2)
** rolls it back. A commit that fails rolls back and raises its error.
*/
static int tx_close(lua_State *L) {
  ltx *t = luaL_checkudata(L, 1, TX_MT);
  int failed = !lua_isnoneornil(L, 2);
  if (!t->active) return 0;
  lua_getiuservalue(L, 1, 1);
  if (((lconn *)lua_touserdata(L, -1))->c.closed) return 0;
  lua_settop(L, 1);
  if (failed) return tx_end(L, 0);
  lua_pushcfunction(L, tx_commit);
  lua_pushvalue(L, 1);
  if (lua_pcall(L, 1, 0, 0) == LUA_OK) return 0;
  if (t->active) { /* stack: the transaction, the commit's error */
    lua_pushcfunction(L, tx_rollback);
    lua_pushvalue(L, 1);
    lua_pcall(L, 1, 0, 0); /* the commit's error is the one to raise */
    lua_settop(L, 2);
  }
  return lua_error(L);
}

/*
** engine:raw_connection(): a DBAPI-shaped connection, for code that wants
** the driver's own SQL and paramstyle and no Result machinery:
** raw:cursor() with execute(sql, params) (returning the cursor),
** executemany, fetchone, fetchmany(n), fetchall, close and the fields
** rowcount, lastrowid and description; raw:commit(), rollback(), close().
** It is a Connection underneath (user value 1) whose statements the
** engine's log leaves out, as SQLAlchemy logs nothing of a DBAPI
** connection's own use; it begins a transaction implicitly, as a DBAPI
** connection does.
*/
static int raw_index(lua_State *L) {
  if (index_method(L)) return 1;
  luaL_checkudata(L, 1, RAW_MT);
  if (strcmp(luaL_checkstring(L, 2), "closed") == 0) {
    lua_getiuservalue(L, 1, 1);
    lua_pushboolean(L, ((lconn *)lua_touserdata(L, -1))->c.closed);
  } else
    lua_pushnil(L);
  return 1;
}

/* Call the Connection method `fn` with the Connection under the raw one at
** 1 and the arguments from 2 on; its results are returned. */
static int raw_delegate(lua_State *L, lua_CFunction fn) {
  int n = lua_gettop(L);
  luaL_checkudata(L, 1, RAW_MT);
  lua_pushcfunction(L, fn);
  lua_insert(L, 1);
  lua_getiuservalue(L, 2, 1);
  lua_replace(L, 2);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

static int raw_commit(lua_State *L) {
  return raw_delegate(L, conn_commit);
}

static int raw_rollback(lua_State *L) {
  return raw_delegate(L, conn_rollback);
}

static int raw_close(lua_State *L) {
  lua_settop(L, 1);
  return raw_delegate(L, conn_close);
}

static int raw_cursor(lua_State *L) {
  luaL_checkudata(L, 1, RAW_MT);
  lua_getiuservalue(L, 1, 1);
  openconn(L, -1);
  lua_newuserdatauv(L, 0, 2);
  luaL_setmetatable(L, CURSOR_MT);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static int engine_raw_connection(lua_State *L) {
  lconn *c;
  checkengine(L, 1);
  lua_settop(L, 1);
  engine_connect(L);
  c = lua_touserdata(L, -1);
  c->c.quiet = 1;
  lua_newuserdatauv(L, 0, 1);
  luaL_setmetatable(L, RAW_MT);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static int cursor_close(lua_State *L);

/* cursor:execute(sql [, params]) and executemany(sql, list): the result
** kept for the fetches; returns the cursor. */
static int cursor_execute(lua_State *L) {
  luaL_checkudata(L, 1, CURSOR_MT);
  lua_settop(L, 3);
  /* the previous result is done with: its statement must not stay open */
  lua_pushcfunction(L, cursor_close);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  lua_pushcfunction(L, conn_exec_driver_sql);
  lua_getiuservalue(L, 1, 1);
  if (((lconn *)lua_touserdata(L, -1))->c.closed)
    return rt_lua_error(L, RT_ERESOURCECLOSED,
                        "Cannot operate on a closed "
                        "database.");
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_call(L, 3, 1);
  lua_setiuservalue(L, 1, 2);
  lua_settop(L, 1);
  return 1;
}

static int cursor_executemany(lua_State *L) {
  rt_lua_checkarg(L, 3, LUA_TTABLE, "executemany");
  return cursor_execute(L);
}

/* Push the cursor's result; raise when nothing was executed. */
static void cursor_result(lua_State *L) {
  luaL_checkudata(L, 1, CURSOR_MT);
  if (lua_getiuservalue(L, 1, 2) == LUA_TNIL)
    rt_lua_error(L, RT_EINVALIDREQUEST,
                 "no statement was executed on this "
                 "cursor");
}

/* cursor:fetchone() / fetchmany(n) / fetchall(): as the Result's, and a
** statement without rows has nothing to fetch (an empty answer) */
static int cursor_fetch(lua_State *L, const char *method) {
  int n = lua_gettop(L);
  cursor_result(L);
  lua_getfield(L, -1, "returns_rows");
  if (!lua_toboolean(L, -1)) {
    if (strcmp(method, "fetchone") == 0)
      lua_pushnil(L);
    else
      lua_newtable(L);
    return 1;
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, method);
  lua_insert(L, -2);
  if (n >= 2) lua_pushvalue(L, 2);
  lua_call(L, n >= 2 ? 2 : 1, 1);
  return 1;
}

static int cursor_fetchone(lua_State *L) {
  return cursor_fetch(L, "fetchone");
}

static int cursor_fetchmany(lua_State *L) {
  luaL_optinteger(L, 2, 1);
  lua_settop(L, 2);
  if (lua_isnil(L, 2)) lua_pushinteger(L, 1), lua_replace(L, 2);
  return cursor_fetch(L, "fetchmany");
}

static int cursor_fetchall(lua_State *L) {
  lua_settop(L, 1);
  return cursor_fetch(L, "fetchall");
}

static int cursor_close(lua_State *L) {
  luaL_checkudata(L, 1, CURSOR_MT);
  if (lua_getiuservalue(L, 1, 2) != LUA_TNIL) {
    lua_getfield(L, -1, "close");
    lua_insert(L, -2);
    lua_call(L, 1, 0);
  }
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 2);
  return 0;
}

static int cursor_index(lua_State *L) {
  const char *k;
  if (index_method(L)) return 1;
  luaL_checkudata(L, 1, CURSOR_MT);
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "rowcount") == 0 || strcmp(k, "lastrowid") == 0) {
    if (lua_getiuservalue(L, 1, 2) == LUA_TNIL) {
      lua_pushinteger(L, -1); /* DBAPI: no execute yet */
      return 1;
    }
    lua_getfield(L, -1, k);
  } else if (strcmp(k, "description") == 0) {
    /* DBAPI's 7-item sequence per column: the name, the rest unknown */
    lua_Integer i, n;
    if (lua_getiuservalue(L, 1, 2) == LUA_TNIL) return 1;
    lua_getfield(L, -1, "returns_rows");
    if (!lua_toboolean(L, -1)) {
      lua_pushnil(L);
      return 1;
    }
    lua_getfield(L, -2, "keys");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 1);
    n = (lua_Integer)lua_rawlen(L, -1);
    lua_createtable(L, (int)n, 0);
    for (i = 1; i <= n; i++) {
      lua_createtable(L, 7, 0);
      lua_rawgeti(L, -3, i);
      lua_rawseti(L, -2, 1);
      lua_rawseti(L, -2, i);
    }
  } else
    lua_pushnil(L);
  return 1;
}

static const luaL_Reg raw_methods[] = {{"cursor", raw_cursor},
                                       {"commit", raw_commit},
                                       {"rollback", raw_rollback},
                                       {"close", raw_close},
                                       {NULL, NULL}};

static const luaL_Reg cursor_methods[] = {{"execute", cursor_execute},
                                          {"executemany", cursor_executemany},
                                          {"fetchone", cursor_fetchone},
                                          {"fetchmany", cursor_fetchmany},
                                          {"fetchall", cursor_fetchall},
                                          {"close", cursor_close},
                                          {NULL, NULL}};

static const luaL_Reg engine_methods[] = {
    {"raw_connection", engine_raw_connection},
    {"connect", engine_connect},
    {"begin", engine_begin},
    {"dispose", engine_dispose},
    {"execution_options", engine_execution_options},
    {"get_execution_options", engine_get_execution_options},
    {"_set_listeners", engine_set_listeners},
    {NULL, NULL}};

static const luaL_Reg conn_methods[] = {
    {"execute", conn_execute},
    {"scalar", conn_scalar},
    {"scalars", conn_scalars},
    {"exec_driver_sql", conn_exec_driver_sql},
    {"_exec_compiled", conn_exec_compiled},
    {"_insert_each", conn_insert_each},
    {"commit", conn_commit},
    {"rollback", conn_rollback},
    {"_rollback_quiet", conn_rollback_quiet},
    {"close", conn_close},
    {"begin", conn_begin},
    {"_begin_unheld", conn_begin_unheld},
    {"begin_nested", conn_begin_nested},
    {"in_transaction", conn_in_transaction},
    {"get_transaction", conn_get_transaction},
    {"get_nested_transaction", conn_get_nested_transaction},
    {"in_nested_transaction", conn_in_nested_transaction},
    {"invalidate", conn_invalidate},
    {"execution_options", conn_exec_options},
    {"get_isolation_level", conn_get_isolation_level},
    {"get_execution_options", conn_get_execution_options},
    {NULL, NULL}};

static const luaL_Reg tx_methods[] = {{"commit", tx_commit},
                                      {"rollback", tx_rollback},
                                      {"close", tx_close_method},
                                      {NULL, NULL}};

static void newmt(lua_State *L, const char *name, const luaL_Reg *methods,
                  lua_CFunction index, lua_CFunction gc, lua_CFunction close,
                  lua_CFunction tostr) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__methods");
  lua_pushcclosure(L, index, 1); /* the methods */
  lua_setfield(L, -2, "__index");
  if (gc) lua_pushcfunction(L, gc), lua_setfield(L, -2, "__gc");
  if (close) lua_pushcfunction(L, close), lua_setfield(L, -2, "__close");
  if (tostr) lua_pushcfunction(L, tostr), lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void rt_lua_open_engine(lua_State *L) {
  newmt(L, ENGINE_MT, engine_methods, engine_index, engine_gc, NULL,
        engine_tostring);
  luaL_getmetatable(L, ENGINE_MT);
  lua_pushcfunction(L, engine_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pop(L, 1);
  newmt(L, CONN_MT, conn_methods, conn_index, conn_gc, conn_toclose,
        conn_tostring);
  newmt(L, TX_MT, tx_methods, tx_index, NULL, tx_close, tx_tostring);
  newmt(L, POOL_MT, pool_methods, pool_index, NULL, NULL, pool_tostring);
  open_pool_classes(L);
  newmt(L, RAW_MT, raw_methods, raw_index, NULL, raw_close, NULL);
  newmt(L, CURSOR_MT, cursor_methods, cursor_index, NULL, cursor_close, NULL);
  lua_pushcfunction(L, l_create_engine);
  lua_setfield(L, -2, "create_engine");
  lua_pushcfunction(L, l_make_url);
  lua_setfield(L, -2, "make_url");
}
