/*
** sqlrun.c -- running SQL typed at the shell and printing what it returns.
**
** The shell's connection is a Lua Connection (so the pool and the engine's
** settings apply) kept in the registry; the statements themselves go
** straight to its driver connection, outside the connection's autobegin,
** which is how psql's autocommit rule falls out: the driver is in
** autocommit mode until the user's BEGIN, and the server keeps track.
** Rows stream from the cursor into the renderer without becoming Lua
** values.
*/
#include "sqlrun.h"
#include "core/cancel.h"
#include "core/driver.h"
#include "interrupt.h"

#include <errno.h>
#include <math.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "core/strbuf.h"
#include "lua/lretort.h"
#include "schema.h"

#define CONN_MT "retort.Connection"
#define RESULT_MT "retort.Result"
#define MAPPING_MT "retort.MappingResult"
#define DEFAULT_PAGER "less -SRFX"

rt_shell rt_sh;

static void print_notice(void *ud, const char *message);

void rt_sql_init(void) {
  memset(&rt_sh, 0, sizeof rt_sh);
  /* whatever the shell runs, SQL typed or Lua, shows the server's notices
  ** and warnings, as psql does; retort.so loaded elsewhere never prints */
  rt_driver_set_notice(print_notice, NULL);
  rt_sh.format = RT_FMT_TABLE;
  rt_sh.limit = 1000;
  rt_sh.conn_ref = rt_sh.engine_ref = LUA_NOREF;
}

FILE *rt_sql_out(void) {
  return rt_sh.out ? rt_sh.out : stdout;
}

static void (*pipe_handler)(int);

void rt_sql_set_out(FILE *f, int is_pipe) {
  if (rt_sh.out) {
    if (rt_sh.out_pipe) {
      pclose(rt_sh.out); /* waits: its output comes before the prompt */
      signal(SIGPIPE, pipe_handler);
    } else
      fclose(rt_sh.out);
  }
  rt_sh.out = f;
  rt_sh.out_pipe = f != NULL && is_pipe;
  if (rt_sh.out_pipe) pipe_handler = signal(SIGPIPE, SIG_IGN);
}

/* --- the connection --- */

static void drop_conn(lua_State *L) {
  if (rt_sh.conn_ref != LUA_NOREF) {
    lconn *c;
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt_sh.conn_ref);
    c = luaL_testudata(L, -1, CONN_MT);
    if (c && !c->c.closed) {
      if (rt_sh.user_tx && c->c.dbc) {
        rt_error err = RT_ERROR_INIT;
        c->c.dbc->drv->rollback(c->c.dbc, &err);
        rt_error_clear(&err);
      }
      rt_lua_close_results(c);
      rt_connection_close(&c->c);
    }
    lua_pop(L, 1);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, rt_sh.conn_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, rt_sh.engine_ref);
  rt_sh.conn_ref = rt_sh.engine_ref = LUA_NOREF;
  rt_sh.user_tx = 0;
}

void rt_sql_disconnect(lua_State *L) {
  drop_conn(L);
}

void rt_sql_shutdown(lua_State *L) {
  drop_conn(L);
  rt_sql_set_out(NULL, 0);
  free(rt_sh.last_sql);
  rt_sh.last_sql = NULL;
}

static int connect_engine(lua_State *L) {
  lua_getfield(L, 1, "connect");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static void tell_database(lua_State *L, const char *name);

static void print_error_text(const char *msg) {
  fflush(stdout);
  fprintf(stderr, "ERROR:  %s\n", msg);
  fflush(stderr);
}

/*
** The shell's connection to the current global `engine`, with its driver
** connection checked out; a new one when `engine` was replaced.  NULL
** (the error printed) when there is none.
*/
static lconn *shell_conn(lua_State *L) {
  lconn *c = NULL;
  int top = lua_gettop(L);
  lua_getglobal(L, "engine");
  if (rt_sh.engine_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt_sh.engine_ref);
    if (!lua_rawequal(L, -1, -2)) drop_conn(L);
    lua_pop(L, 1);
  }
  if (rt_sh.conn_ref == LUA_NOREF) {
    if (!luaL_testudata(L, -1, "retort.Engine")) {
      print_error_text("the global `engine` is not an Engine");
      lua_settop(L, top);
      return NULL;
    }
    lua_pushvalue(L, -1);
    rt_sh.engine_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, connect_engine);
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      print_error_text(luaL_tolstring(L, -1, NULL));
      luaL_unref(L, LUA_REGISTRYINDEX, rt_sh.engine_ref);
      rt_sh.engine_ref = LUA_NOREF;
      lua_settop(L, top);
      return NULL;
    }
    rt_sh.conn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    tell_database(L, NULL); /* a new connection starts on the URL's */
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt_sh.conn_ref);
  c = luaL_testudata(L, -1, CONN_MT);
  lua_settop(L, top);
  if (c && c->c.dbc == NULL) {
    rt_error err = RT_ERROR_INIT;
    c->c.closed = 0;
    if (rt_connection_acquire(&c->c, &err) != 0) {
      print_error_text(err.message ? err.message : "cannot connect");
      rt_error_clear(&err);
      return NULL;
    }
    tell_database(L, NULL);
  }
  return c;
}

static int dialect_name(lua_State *L) {
  lua_getglobal(L, "engine");
  lua_getfield(L, -1, "dialect");
  lua_getfield(L, -1, "name");
  return 1;
}

unsigned rt_sql_dialect_flags(lua_State *L) {
  unsigned flags = 0;
  /* engine.dialect.name, without connecting (the server may be down) */
  lua_pushcfunction(L, dialect_name);
  if (lua_pcall(L, 0, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
    flags = rt_sql_flags(lua_tostring(L, -1));
  lua_pop(L, 1);
  return flags;
}

/* --- output settings --- */

static void term_size(FILE *f, int *w, int *h) {
  struct winsize ws;
  *w = *h = 0;
  if (!isatty(fileno(f))) return;
  if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0) {
    *w = ws.ws_col;
    *h = ws.ws_row;
  }
  if (*w <= 0) *w = 80;
  if (*h <= 0) *h = 24;
}

void rt_sql_render_opts(FILE *f, rt_render_opts *o) {
  const char *pager = getenv("PAGER");
  int tty = isatty(fileno(f));
  memset(o, 0, sizeof *o);
  o->format = rt_sh.format;
  o->expanded = rt_sh.expanded;
  /* the cap is for reading at a terminal: output for files and programs,
  ** and the machine formats, are never capped */
  o->limit = !tty || o->format == RT_FMT_CSV || o->format == RT_FMT_TSV ||
                     o->format == RT_FMT_JSON
                 ? -1
                 : rt_sh.limit;
  term_size(f, &o->width, &o->height);
  o->color = tty;
  if (tty && f == stdout) o->pager = pager ? pager : DEFAULT_PAGER;
  if (o->pager && o->pager[0] == '\0') o->pager = NULL;
}

/* --- Ctrl-C cancels the running statement --- */

static volatile sig_atomic_t canceled;

static void on_sigint(int sig) {
  (void)sig;
  canceled = 1;
  rt_interrupt_signal(); /* the watcher cancels the marked connection */
}

/* --- errors --- */

/* psql's `LINE n: ...` and a caret under the character at `pos`
** (1-based, in characters). */
static void print_position(const char *sql, size_t n, int pos) {
  size_t i = 0, line_start = 0;
  int line = 1, col = 0, k;
  for (k = 1; k < pos && i < n; k++) {
    unsigned char ch = (unsigned char)sql[i];
    if (ch == '\n') {
      line++;
      line_start = i + 1;
      col = 0;
    } else if ((ch & 0xc0) != 0x80)
      col++;
    i++;
    while (i < n && ((unsigned char)sql[i] & 0xc0) == 0x80) i++;
  }
  {
    const char *s = sql + line_start, *e = memchr(s, '\n', n - line_start);
    int len = (int)((e ? e : sql + n) - s);
    char head[32];
    int hw = snprintf(head, sizeof head, "LINE %d: ", line);
    fprintf(stderr, "%s%.*s\n%*s^\n", head, len, s, hw + col, "");
  }
}

static void report(lconn *c, rt_error *err, const char *sql, size_t n) {
  const char *msg = err->message ? err->message : "out of memory";
  if (canceled && isatty(STDERR_FILENO)) fputc('\n', stderr); /* after ^C */
  if (canceled && err->kind == RT_ECANCELED) {
    /* Ctrl-C: one word for every database, not three servers' phrasings */
    fflush(stdout);
    fputs("canceled\n", stderr);
  } else {
    print_error_text(msg);
    /* libpq's full message may show the position already */
    if (err->position > 0 && strstr(msg, "\nLINE ") == NULL)
      print_position(sql, n, err->position);
    if (c->c.dbc && strcmp(c->c.dbc->drv->name, "sqlite") == 0 &&
        strstr(msg, "database is locked") != NULL)
      /* most often the shell's own session, with a write not yet
      ** committed: say how to end it */
      fputs("HINT:  another connection holds the database file in a "
            "transaction: the session's\n(session:commit() or "
            "session:rollback() ends it), a Connection not closed, or "
            "another program's.\n",
            stderr);
  }
  rt_error_clear(err);
  if (c->c.dbc && c->c.dbc->lost) { /* the server went away */
    rt_connection_close(&c->c);
    rt_sh.user_tx = 0;
    return;
  }
  if (rt_sh.user_tx && c->c.dbc) {
    rt_error e2 = RT_ERROR_INIT;
    int rc = c->c.dbc->drv->rollback(c->c.dbc, &e2);
    if (rc != 0 && !(c->c.dbc->lost)) {
      /* a cancel the server took late can hit the ROLLBACK itself: once
      ** more (a cancel stops one statement) */
      rt_error_clear(&e2);
      rc = c->c.dbc->drv->rollback(c->c.dbc, &e2);
    }
    rt_sh.user_tx = 0;
    if (rc == 0)
      fputs("The transaction was rolled back.\n", stderr);
    else
      fprintf(stderr, "The transaction could not be rolled back: %s\n",
              e2.message ? e2.message : "out of memory");
    rt_error_clear(&e2);
  }
  fflush(stderr);
}

/* --- running --- */

/* psql-style command tag for a statement that returns no rows: `INSERT 0
** 2` (PostgreSQL's tag: the 0 is the OID, always 0 since 12), `UPDATE 2`,
** `CREATE TABLE`, `BEGIN`. */
static void print_tag(FILE *f, const char *sql, size_t n, int64_t rowcount) {
  static const char *const skip[] = {
      "OR",      "REPLACE", "UNIQUE", "TEMP",         "TEMPORARY", "IF",
      "VIRTUAL", "GLOBAL",  "LOCAL",  "MATERIALIZED", NULL};
  char w[32], w2[32];
  int k = 1, i;
  rt_sql_word(sql, n, 0, w, sizeof w);
  if (w[0] == '\0') return;
  if (strcmp(w, "INSERT") == 0 || strcmp(w, "UPDATE") == 0 ||
      strcmp(w, "DELETE") == 0 || strcmp(w, "REPLACE") == 0 ||
      strcmp(w, "MERGE") == 0) {
    fprintf(f, "%s %s%lld\n", w, strcmp(w, "INSERT") == 0 ? "0 " : "",
            (long long)(rowcount < 0 ? 0 : rowcount));
    return;
  }
  if (strcmp(w, "CREATE") == 0 || strcmp(w, "DROP") == 0 ||
      strcmp(w, "ALTER") == 0) {
    for (;;) {
      rt_sql_word(sql, n, k++, w2, sizeof w2);
      for (i = 0; skip[i] && strcmp(skip[i], w2) != 0; i++) {
      }
      if (skip[i] == NULL) break;
    }
    if (w2[0]) {
      fprintf(f, "%s %s\n", w, w2);
      return;
    }
  }
  /* the tags PostgreSQL gives these */
  if (strcmp(w, "START") == 0 || strcmp(w, "TRUNCATE") == 0) {
    fprintf(f, "%s\n", w[0] == 'S' ? "START TRANSACTION" : "TRUNCATE TABLE");
    return;
  }
  fprintf(f, "%s\n", w);
}

/*
** Stream the rows of everything but transaction control: a driver may
** wrap a streamed statement in a savepoint of its own (libpq does, inside
** a transaction), which COMMIT, ROLLBACK [TO] and RELEASE would end under
** it.
*/
static int streams(const char *sql, size_t n, int txk) {
  char w[16];
  rt_sql_word(sql, n, 0, w, sizeof w);
  return txk == 0 && strcmp(w, "SAVEPOINT") != 0 && strcmp(w, "RELEASE") != 0 &&
         strcmp(w, "ROLLBACK") != 0;
}

/* A server's notice, on stderr as psql shows it ("NOTICE:  ..."), after
** what the output holds so far: the process's notice sink. */
static void print_notice(void *ud, const char *message) {
  (void)ud;
  fflush(rt_sql_out());
  fputs(message, stderr);
  fflush(stderr);
}

void rt_sql_print_timing(FILE *f, double ms) {
  double secs = ms / 1000.0, mins, hours, days;
  if (ms < 1000.0) {
    fprintf(f, "Time: %.3f ms\n", ms);
    return;
  }
  /* psql adds the time in minutes and seconds, hours, days */
  mins = floor(secs / 60.0);
  secs -= 60.0 * mins;
  if (mins < 60.0) {
    fprintf(f, "Time: %.3f ms (%02d:%06.3f)\n", ms, (int)mins, secs);
    return;
  }
  hours = floor(mins / 60.0);
  mins -= 60.0 * hours;
  if (hours < 24.0) {
    fprintf(f, "Time: %.3f ms (%02d:%02d:%06.3f)\n", ms, (int)hours, (int)mins,
            secs);
    return;
  }
  days = floor(hours / 24.0);
  hours -= 24.0 * days;
  fprintf(f, "Time: %.3f ms (%.0f d %02d:%02d:%06.3f)\n", ms, days, (int)hours,
          (int)mins, secs);
}

double rt_sql_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
** Has the output stopped taking rows (a \o |command that quit, such as
** head)?  Then the rest of a result is not read: it may never end.
*/
static int output_closed(FILE *f) {
  if (!ferror(f)) return 0;
  fflush(stdout);
  fputs("The output was closed: the rest of the result was not read.\n",
        stderr);
  fflush(stderr);
  return 1;
}

/* Fetch every row of cur into a renderer. */
static int stream_rows(rt_cursor *cur, FILE *f, rt_error *err) {
  const rt_driver *drv = cur->conn->drv;
  int i, rc, ncols = cur->ncols;
  const char **names = calloc((size_t)ncols, sizeof *names);
  rt_sqltype *types = calloc((size_t)ncols, sizeof *types);
  rt_sqltype *items = calloc((size_t)ncols + 1, sizeof *items);
  rt_value *vals = calloc((size_t)ncols, sizeof *vals);
  rt_render_opts o;
  rt_render *r = NULL;
  if (names == NULL || types == NULL || items == NULL || vals == NULL)
    goto nomem;
  for (i = 0; i < ncols; i++) {
    names[i] = drv->colname(cur, i);
    types[i] = drv->coltype(cur, i);
    if (types[i] == RT_T_ARRAY && drv->colitem) items[i] = drv->colitem(cur, i);
  }
  rt_sql_render_opts(f, &o);
  r = rt_render_begin(f, &o, ncols, names, types);
  if (r == NULL) goto nomem;
  rt_render_items(r, items);
  while ((rc = drv->fetch(cur, err)) > 0) {
    for (i = 0; i < ncols; i++) {
      drv->column(cur, i, &vals[i]);
      if (types[i] == RT_T_BOOLEAN && vals[i].type == RT_V_INT)
        vals[i] = rt_vbool(vals[i].u.i != 0);
    }
    if (rt_render_row(r, vals) != 0) {
      rt_render_free(r);
      r = NULL;
      goto nomem;
    }
    if (output_closed(f)) { /* a driver may read the rest when closing */
      if (drv->cancel) drv->cancel(cur->conn);
      break;
    }
  }
  if (rc < 0)
    rt_render_free(r);
  else
    rt_render_end(r);
  free(names);
  free(types);
  free(items);
  free(vals);
  return rc < 0 ? -1 : 0;
nomem:
  free(names);
  free(types);
  free(items);
  free(vals);
  return rt_error_set(err, RT_EMEMORY, "out of memory");
}

/* CREATE, DROP and ALTER make completion's cached names stale. */
static int changes_schema(const char *sql, size_t n) {
  char w[16];
  rt_sql_word(sql, n, 0, w, sizeof w);
  return strcmp(w, "CREATE") == 0 || strcmp(w, "DROP") == 0 ||
         strcmp(w, "ALTER") == 0;
}

/*
** Tell the Lua half which database the shell's connection uses (NULL:
** the URL's): after MySQL's USE, \dt, \d, completion and `db` follow it,
** as the mysql client's commands do.
*/
static void tell_database(lua_State *L, const char *name) {
  int top = lua_gettop(L);
  rt_schema_push(L, "use");
  if (lua_isfunction(L, -1) && rt_sh.engine_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt_sh.engine_ref);
    if (name)
      lua_pushstring(L, name);
    else
      lua_pushnil(L);
    lua_pcall(L, 2, 0, 0); /* out of memory: the names stay the URL's */
  }
  lua_settop(L, top);
}

/* The database a MySQL USE chose, asked of the server: a name quoted in
** any of MySQL's ways is the server's to read. */
static void follow_use(lua_State *L, rt_dbconn *dbc) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  char *name = NULL;
  if (dbc->drv->execute(dbc, "SELECT DATABASE()", NULL, 0, 0, &cur, &err) ==
      0) {
    if (cur->ncols == 1 && dbc->drv->fetch(cur, &err) > 0) {
      rt_value v;
      dbc->drv->column(cur, 0, &v);
      if (v.type == RT_V_TEXT) name = strndup(v.u.s.p, v.u.s.n);
    }
    dbc->drv->cursor_close(cur);
  }
  rt_error_clear(&err);
  tell_database(L, name);
  free(name);
}

static int is_use(const char *sql, size_t n, rt_dbconn *dbc) {
  char w[8];
  rt_sql_word(sql, n, 0, w, sizeof w);
  return strcmp(w, "USE") == 0 && strcmp(dbc->drv->name, "mysql") == 0;
}

int rt_sql_run(lua_State *L, const char *sql, size_t n) {
  lconn *c = shell_conn(L);
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_engine *e;
  FILE *f = rt_sql_out();
  char *text;
  int txk, rc;
  double t0;
  struct sigaction sa, old;
  if (c == NULL) return 1;
  e = c->c.engine;
  while (n > 0 &&
         (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\n' ||
          sql[n - 1] == '\t' || sql[n - 1] == '\r'))
    n--;
  while (n > 0 && (*sql == ' ' || *sql == '\n' || *sql == '\t')) sql++, n--;
  text = malloc(n + 1);
  if (text == NULL) return 1;
  memcpy(text, sql, n);
  text[n] = '\0';
  free(rt_sh.last_sql);
  rt_sh.last_sql = strdup(text);
  txk = rt_sql_txkind(text, n);
  if (e->hook) e->hook(e->hook_ud, e, text, NULL, 0, txk ? 0 : 1);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  /* a write to the terminal is restarted, not failed (a failed one would
  ** read as output that was closed); the cancel goes through the watcher */
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  canceled = 0;
  rt_cancel_enter(c->c.dbc);
  t0 = rt_sql_now_ms();
  rc = c->c.dbc->drv->execute(c->c.dbc, text, NULL, 0,
                              streams(text, n, txk) ? RT_EXEC_STREAM : 0, &cur,
                              &err);
  if (rc == 0) {
    if (cur->ncols > 0)
      rc = stream_rows(cur, f, &err);
    else if (rt_sh.format == RT_FMT_TABLE || rt_sh.format == RT_FMT_VERTICAL ||
             rt_sh.format == RT_FMT_MARKDOWN)
      print_tag(f, text, n, cur->rowcount);
    cur->conn->drv->cursor_close(cur);
  }
  rt_cancel_leave();
  sigaction(SIGINT, &old, NULL);
  fflush(f);
  if (rc != 0) {
    report(c, &err, text, n);
    free(text);
    return 1;
  }
  if (changes_schema(text, n)) rt_schema_refresh(L);
  if (is_use(text, n, c->c.dbc)) follow_use(L, c->c.dbc);
  if (txk == 1) rt_sh.user_tx = 1;
  if (txk == 2) rt_sh.user_tx = 0;
  if (rt_sh.timing) rt_sql_print_timing(f, rt_sql_now_ms() - t0);
  fflush(f);
  free(text);
  return 0;
}

int rt_sql_run_text(lua_State *L, const char *text) {
  unsigned flags = rt_sql_dialect_flags(L);
  size_t n = strlen(text), end;
  int failed = 0;
  while (n > 0 && !rt_sql_is_blank(text, n, flags)) {
    end = rt_sql_stmt_end(text, n, flags);
    if (end == 0) end = n; /* the last statement needs no `;` */
    if (!rt_sql_is_blank(text, end, flags)) {
      failed += rt_sql_run(L, text, end);
      if (failed && rt_sh.stop_on_error) break;
    }
    text += end;
    n -= end;
  }
  return failed;
}

/* --- Results and Rows from Lua --- */

typedef struct renderbox {
  rt_render *r;
} renderbox;

static int box_gc(lua_State *L) {
  renderbox *b = lua_touserdata(L, 1);
  rt_render_free(b->r);
  b->r = NULL;
  return 0;
}

static int is_row(lua_State *L, int idx) {
  int yes;
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  lua_getfield(L, -1, "__name");
  yes = lua_type(L, -1) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), "retort.Row") == 0;
  lua_pop(L, 2);
  return yes;
}

/* A non-empty list of Rows? */
static int is_row_list(lua_State *L, int idx) {
  lua_Integer n, i;
  if (!lua_istable(L, idx) || is_row(L, idx)) return 0;
  n = (lua_Integer)lua_rawlen(L, idx);
  for (i = 1; i <= n; i++) {
    int row;
    lua_rawgeti(L, idx, i);
    row = is_row(L, -1);
    lua_pop(L, 1);
    if (!row) return 0;
  }
  return n > 0;
}

/*
** An empty table without a metatable: an empty list of Rows (what
** Result:all() gives when no row matched) is no different from `{}`,
** and a list of Rows prints as a table with its row count.
*/
static int is_empty_list(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushnil(L);
  if (lua_next(L, idx) == 0) return 1;
  lua_pop(L, 2);
  return 0;
}

/* --- Lua tables in cells: PostgreSQL arrays and JSON --- */

/* A list PostgreSQL could have sent as an array: keys 1..n (n > 0), each
** a string, number, boolean, sa.null or such a list. */
static int is_pg_list(lua_State *L, int idx, int depth) {
  lua_Integer n, i, count = 0;
  int ok = 1;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || depth > 32) return 0;
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  n = (lua_Integer)lua_rawlen(L, idx);
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    count++;
    lua_pop(L, 1);
  }
  if (count != n) return 0;
  for (i = 1; ok && i <= n; i++) {
    int t = lua_rawgeti(L, idx, i);
    ok = t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN ||
         rt_lua_isnull(L, -1) || is_pg_list(L, -1, depth + 1);
    lua_pop(L, 1);
  }
  return ok;
}

/* An element as PostgreSQL writes it in an array: quoted when empty,
** when it holds white space or one of {}",\ or reads NULL. */
static void add_pg_item(lua_State *L, luaL_Buffer *b, int idx) {
  char buf[32];
  size_t n, i;
  const char *s;
  int quote;
  switch (lua_type(L, idx)) {
  case LUA_TTABLE:
    if (!rt_lua_isnull(L, idx)) {
      lua_Integer k, len = (lua_Integer)lua_rawlen(L, idx);
      luaL_addchar(b, '{');
      for (k = 1; k <= len; k++) {
        if (k > 1) luaL_addchar(b, ',');
        lua_rawgeti(L, idx, k);
        add_pg_item(L, b, lua_gettop(L));
        lua_pop(L, 1);
      }
      luaL_addchar(b, '}');
      return;
    }
    break;
  case LUA_TBOOLEAN:
    luaL_addchar(b, lua_toboolean(L, idx) ? 't' : 'f');
    return;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, idx));
    else
      rt_float_repr(lua_tonumber(L, idx), buf);
    luaL_addstring(b, buf);
    return;
  case LUA_TSTRING:
    s = lua_tolstring(L, idx, &n);
    quote = n == 0 || (n == 4 && strncasecmp(s, "NULL", 4) == 0);
    for (i = 0; i < n && !quote; i++)
      quote = strchr("{}\",\\ \t\n\r\v\f", s[i]) != NULL;
    if (quote) luaL_addchar(b, '"');
    for (i = 0; i < n; i++) {
      if (quote && (s[i] == '"' || s[i] == '\\')) luaL_addchar(b, '\\');
      luaL_addchar(b, s[i]);
    }
    if (quote) luaL_addchar(b, '"');
    return;
  }
  luaL_addstring(b, "NULL"); /* sa.null, or userdata in a list */
}

/* Append the UTF-8 of code point cp. */
static void add_utf8(luaL_Buffer *b, unsigned long cp) {
  if (cp < 0x80)
    luaL_addchar(b, (char)cp);
  else if (cp < 0x800) {
    luaL_addchar(b, (char)(0xc0 | (cp >> 6)));
    luaL_addchar(b, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    luaL_addchar(b, (char)(0xe0 | (cp >> 12)));
    luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    luaL_addchar(b, (char)(0x80 | (cp & 0x3f)));
  } else {
    luaL_addchar(b, (char)(0xf0 | (cp >> 18)));
    luaL_addchar(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
    luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    luaL_addchar(b, (char)(0x80 | (cp & 0x3f)));
  }
}

static long hex4(const char *p, const char *end) {
  long v = 0;
  int k;
  if (end - p < 4) return -1;
  for (k = 0; k < 4; k++) {
    char c = p[k];
    v = v * 16 + (c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1000000);
  }
  return v < 0 ? -1 : v;
}

/*
** Replace the JSON text on top with the same JSON where \uXXXX escapes of
** characters past ASCII are the characters themselves: the encoder
** escapes them (as Python's json.dumps), psql shows jsonb as UTF-8.
*/
static void unescape_json(lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, -1, &n), *end = s + n, *p;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (p = s; p < end; p++) {
    long cp;
    if (*p != '\\' || p + 1 >= end) {
      luaL_addchar(&b, *p);
      continue;
    }
    if (p[1] != 'u' || (cp = hex4(p + 2, end)) < 0x80) {
      luaL_addchar(&b, *p++); /* another escape: both characters */
      luaL_addchar(&b, *p);
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 12 && p[6] == '\\' &&
        p[7] == 'u') {
      long lo = hex4(p + 8, end);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        add_utf8(&b, 0x10000 + (((unsigned long)cp - 0xd800) << 10) +
                         ((unsigned long)lo - 0xdc00));
        p += 11;
        continue;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) { /* a lone surrogate stays escaped */
      luaL_addchar(&b, *p);
      continue;
    }
    add_utf8(&b, (unsigned long)cp);
    p += 5;
  }
  luaL_pushresult(&b);
  lua_remove(L, -2);
}

/* json_text(t): t as JSON text, non-ASCII as UTF-8. */
static int json_text(lua_State *L) {
  rt_lua_json_encode(L, 1);
  unescape_json(L);
  return 1;
}

/*
** The text of a plain Lua table in a cell, pushed: a PostgreSQL array as
** psql shows it (`{1,2,NULL}`) for an ARRAY column, or for a list of
** scalars where the column's type is unknown (a list of Rows); JSON
** otherwise, and always for the json format, where *json is set: the
** text is nested as it stands.  0 for a table with a metatable (a
** mapped object, a Row), which prints as Lua prints it.
*/
static int push_table_text(lua_State *L, int idx, rt_sqltype t, int *json) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || rt_lua_isnull(L, idx)) return 0;
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  *json = rt_sh.format == RT_FMT_JSON;
  if (*json ||
      !(t == RT_T_ARRAY || (t != RT_T_JSON && is_pg_list(L, idx, 0)))) {
    /* a table JSON cannot hold (a function in it) prints as Lua's */
    lua_pushcfunction(L, json_text);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      lua_pop(L, 1);
      *json = 0;
      return 0;
    }
  } else {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_pg_item(L, &b, idx);
    luaL_pushresult(&b);
  }
  return 1;
}

/*
** print_rows(source, keys [, how]): source is a Result (rows are
** fetched by calling it) or a list of Rows; keys the column names.  With
** `how` 1 each item fetched is the one value of its row (a ScalarResult's);
** with 2 it is a RowMapping, read by the keys.  The renderer lives in a
** userdata so an error midway frees it.
*/
static int print_rows(lua_State *L) {
  int ncols = (int)lua_rawlen(L, 2), i, isresult = !lua_istable(L, 1);
  int how = (int)lua_tointeger(L, 3);
  lua_Integer k = 0;
  const char **names;
  rt_value *vals;
  rt_sqltype *types, *shown;
  unsigned char *raw;
  renderbox *box;
  rt_render_opts o;
  FILE *f = rt_sql_out();
  names = lua_newuserdatauv(L, sizeof *names * ((size_t)ncols + 1), 0);
  for (i = 0; i < ncols; i++) { /* the strings stay alive in `keys` */
    lua_rawgeti(L, 2, i + 1);
    luaL_tolstring(L, -1, NULL);
    lua_rawseti(L, 2, i + 1);
    lua_pop(L, 1);
    lua_rawgeti(L, 2, i + 1);
    names[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  vals = lua_newuserdatauv(L, sizeof *vals * ((size_t)ncols + 1), 0);
  box = lua_newuserdatauv(L, sizeof *box, 0);
  box->r = NULL;
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__close");
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
  /* a Result knows its columns' types: numbers that come as text (a
  ** NUMERIC's decimal string) are right-aligned as the -c path does */
  types = lua_newuserdatauv(L, sizeof *types * ((size_t)ncols + 1), 0);
  /* JSON and arrays arrive as Lua values, not as the server's text */
  shown = lua_newuserdatauv(L, sizeof *shown * ((size_t)ncols + 1), 0);
  raw = lua_newuserdatauv(L, (size_t)ncols + 1, 0);
  for (i = 0; i < ncols; i++) {
    types[i] = isresult ? rt_lua_result_coltype(L, 1, i) : RT_T_UNKNOWN;
    shown[i] = types[i] == RT_T_JSON || types[i] == RT_T_ARRAY ? RT_T_UNKNOWN
                                                               : types[i];
  }
  rt_sql_render_opts(f, &o);
  box->r = rt_render_begin(f, &o, ncols, names, shown);
  if (box->r == NULL) return luaL_error(L, "out of memory");
  for (;;) {
    int base;
    if (isresult) {
      lua_pushvalue(L, 1);
      lua_call(L, 0, 1);
    } else
      lua_rawgeti(L, 1, ++k);
    if (lua_isnil(L, -1)) break;
    base = lua_gettop(L);
    for (i = 0; i < ncols; i++) {
      if (how == 1)
        lua_pushvalue(L, base);
      else if (how == 2) {
        lua_rawgeti(L, 2, i + 1);
        lua_gettable(L, base);
      } else
        lua_geti(L, base, i + 1);
      raw[i] = 0;
      if (rt_lua_tovalue(L, -1, &vals[i]) != 0) {
        size_t len;
        int json = 0;
        const char *s = push_table_text(L, -1, types[i], &json)
                            ? lua_tolstring(L, -1, &len)
                            : luaL_tolstring(L, -1, &len);
        vals[i] = rt_vtext(s, len);
        raw[i] = (unsigned char)json;
      }
    }
    if (rt_render_row_json(box->r, vals, raw) != 0)
      return luaL_error(L, "out of memory");
    lua_settop(L, base - 1);
    if (output_closed(f)) break;
  }
  rt_render_end(box->r);
  box->r = NULL;
  return 0;
}

/* result_key(result, i): the name of a Result's column i.  A Result
** without rows is an error: its ScalarResult prints as Lua would. */
static int result_key(lua_State *L) {
  lua_getfield(L, 1, "returns_rows");
  if (!lua_toboolean(L, -1)) return luaL_error(L, "no rows");
  lua_getfield(L, 1, "keys");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  lua_geti(L, -1, lua_tointeger(L, 2));
  if (lua_isnil(L, -1)) return luaL_error(L, "no such column");
  return 1;
}

/* Is the value at idx a table whose metatable is named `name`? */
static int is_named(lua_State *L, int idx, const char *name) {
  int yes;
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  lua_getfield(L, -1, "__name");
  yes =
      lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
  lua_pop(L, 2);
  return yes;
}

/* A non-empty list of RowMappings (mappings():all())? */
static int is_mapping_list(lua_State *L, int idx) {
  lua_Integer n, i;
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  n = (lua_Integer)lua_rawlen(L, idx);
  for (i = 1; i <= n; i++) {
    int yes;
    lua_rawgeti(L, idx, i);
    yes = is_named(L, -1, "retort.RowMapping");
    lua_pop(L, 1);
    if (!yes) return 0;
  }
  return n > 0;
}

/* Does the Row at idx keep its column names in its metatable (a Core
** row, or an ORM row of columns only)?  An ORM row with objects does
** not: the Lua half lays those out by the row's entities. */
static int row_has_fields(lua_State *L, int idx) {
  int yes;
  if (!lua_getmetatable(L, idx)) return 0;
  yes = lua_getfield(L, -1, "_fields") == LUA_TTABLE;
  lua_pop(L, 2);
  return yes;
}

static int first_row_has_fields(lua_State *L, int idx) {
  int yes;
  lua_rawgeti(L, idx, 1);
  yes = row_has_fields(L, lua_gettop(L));
  lua_pop(L, 1);
  return yes;
}

/*
** The column headings of the Row at idx, pushed as a list: every column,
** in order.  A legacy Query's unlabelled expression has no key (false in
** the metatable's positional _fields, left out of row._fields), yet its
** values are part of the row: psql heads such a column "?column?".
*/
static void push_row_headings(lua_State *L, int idx) {
  lua_Integer n, i;
  lua_newtable(L);
  if (!lua_getmetatable(L, idx)) return;
  lua_getfield(L, -1, "_fields");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -1, i) != LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushliteral(L, "?column?");
    }
    lua_rawseti(L, -4, i);
  }
  lua_pop(L, 2);
}

/* The column names of the RowMapping at idx, in order, pushed as a list. */
static void push_mapping_keys(lua_State *L, int idx) {
  lua_Integer n, i, k = 0;
  lua_newtable(L);
  lua_getmetatable(L, idx);
  lua_getfield(L, -1, "_fields");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -1, i) == LUA_TSTRING)
      lua_rawseti(L, -4, ++k);
    else
      lua_pop(L, 1); /* a column without a name is not in the mapping */
  }
  lua_pop(L, 2);
}

/* mapping_repr(m): a RowMapping as SQLAlchemy's repr shows one,
** {'id': 1, 'name': 'alice'}. */
static int mapping_repr(lua_State *L) {
  luaL_Buffer b;
  lua_Integer n, i;
  push_mapping_keys(L, 1);
  n = (lua_Integer)lua_rawlen(L, 2);
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addstring(&b, ", ");
    lua_rawgeti(L, 2, i);
    rt_lua_pushrepr(L, -1);
    luaL_addvalue(&b);
    luaL_addstring(&b, ": ");
    lua_gettable(L, 1);
    if (lua_isnil(L, -1)) { /* NULL */
      lua_pop(L, 1);
      rt_lua_pushnull(L);
    }
    rt_lua_pushrepr(L, -1);
    lua_remove(L, -2);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

/* Print what the Lua function f makes of the value at idx (a repr). */
static int print_repr(lua_State *L, lua_CFunction f, int idx) {
  int top = lua_gettop(L);
  lua_pushcfunction(L, f);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_settop(L, top);
    return 0;
  }
  fflush(rt_sql_out());
  printf("%s\n", lua_tostring(L, -1));
  fflush(stdout);
  lua_settop(L, top);
  return 1;
}

int rt_sql_print_value(lua_State *L, int idx) {
  int top = lua_gettop(L), col, nargs = 2;
  idx = lua_absindex(L, idx);
  /* a MappingResult reads a Result (its uservalue 1): the same table */
  if (luaL_testudata(L, idx, MAPPING_MT)) {
    if (lua_getiuservalue(L, idx, 1) != LUA_TUSERDATA ||
        !luaL_testudata(L, -1, RESULT_MT)) {
      lua_settop(L, top);
      return 0;
    }
    idx = lua_gettop(L);
  }
  if (luaL_testudata(L, idx, RESULT_MT)) {
    lua_getfield(L, idx, "returns_rows");
    if (!lua_toboolean(L, -1) || rt_lua_result_implicit(L, idx)) {
      lua_settop(L, top);
      return 0;
    }
    lua_pushcfunction(L, print_rows);
    lua_pushvalue(L, idx);
    lua_getfield(L, idx, "keys");
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      lua_settop(L, top);
      return 0;
    }
  } else if ((col = rt_lua_scalars_column(L, idx)) > 0) {
    /* a ScalarResult: one column, named as its Result names it */
    int result = lua_gettop(L);
    lua_pushcfunction(L, print_rows);
    lua_pushvalue(L, idx);
    lua_createtable(L, 1, 0);
    lua_pushcfunction(L, result_key);
    lua_pushvalue(L, result);
    lua_pushinteger(L, col);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
      lua_settop(L, top);
      return 0;
    }
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, 1);
    nargs = 3;
  } else if (is_named(L, idx, "retort.RowMapping")) {
    return print_repr(L, mapping_repr, idx);
  } else if (is_mapping_list(L, idx)) {
    lua_pushcfunction(L, print_rows);
    lua_pushvalue(L, idx);
    lua_rawgeti(L, idx, 1);
    push_mapping_keys(L, lua_gettop(L));
    lua_remove(L, -2);
    lua_pushinteger(L, 2);
    nargs = 3;
  } else if (is_row_list(L, idx) && first_row_has_fields(L, idx)) {
    lua_pushcfunction(L, print_rows);
    lua_pushvalue(L, idx);
    lua_rawgeti(L, idx, 1);
    push_row_headings(L, lua_gettop(L));
    lua_remove(L, -2);
  } else if (is_empty_list(L, idx)) {
    lua_pushcfunction(L, print_rows); /* no columns, "(0 rows)" */
    lua_pushvalue(L, idx);
    lua_newtable(L);
  } else {
    /* mapped objects, ORM rows, an ORM result: the Lua half says how */
    lua_pushcfunction(L, print_rows);
    rt_schema_push(L, "tabular");
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK || lua_isnil(L, -2)) {
      lua_settop(L, top);
      return 0;
    }
    lua_insert(L, -2); /* print_rows(rows, keys) */
  }
  if (lua_pcall(L, nargs, 0, 0) != LUA_OK) {
    fflush(stdout);
    fprintf(stderr, "%s\n", luaL_tolstring(L, -1, NULL));
    fflush(stderr);
  }
  lua_settop(L, top);
  return 1;
}
