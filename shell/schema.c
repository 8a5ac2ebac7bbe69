/*
** schema.c -- the globals `session` and `db`, the schema commands and tab
** completion, over the Lua half in shell.lua.
*/
#include "schema.h"

#include <fcntl.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/readline.h>

#include "classify.h"
#include "lua/lretort.h"
#include "refresh.h"
#include "render.h"
#include "repl.h"
#include "sqlrun.h"

extern const char rt_lua_src_shell[];
extern const size_t rt_lua_len_shell;

#define SHELL_KEY "retort.shell"

int rt_schema_open(lua_State *L) {
  if (luaL_loadbuffer(L, rt_lua_src_shell, rt_lua_len_shell,
                      "=retort/shell.lua") != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  lua_getglobal(L, "sa");
  if (rt_shell_docall(L, 1, 1) != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, SHELL_KEY);
  lua_pop(L, 2);
  return 0;
}

void rt_schema_push(lua_State *L, const char *name) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, SHELL_KEY);
  lua_remove(L, -2);
  if (lua_istable(L, -1))
    lua_getfield(L, -1, name);
  else
    lua_pushnil(L);
  lua_remove(L, -2);
}

int rt_schema_bind(lua_State *L) {
  /* The global session is made on its first read, so that a script's
  ** own first Session is number 1 as in SQLAlchemy (its hash_key shows
  ** in messages) unless the script reads `session` first. */
  static const char code[] =
      "local make_db = ...\n"
      "local old = rawget(_G, 'session')\n"
      "if type(old) == 'table' or type(old) == 'userdata' then\n"
      "  pcall(function() old:close() end)\n"
      "end\n"
      "rawset(_G, 'session', nil)\n"
      "local mt = getmetatable(_G)\n"
      "if mt == nil then mt = {}; setmetatable(_G, mt) end\n"
      "if mt.__index == nil then\n"
      "  mt.__index = function(t, k)\n"
      "    if k ~= 'session' or rawget(t, 'engine') == nil then return nil "
      "end\n"
      "    local s = orm.Session(rawget(t, 'engine'))\n"
      "    rawset(t, 'session', s)\n"
      "    return s\n"
      "  end\n"
      "end\n"
      "db = make_db(engine)\n";
  if (luaL_loadbuffer(L, code, sizeof code - 1, "=(shell)") != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  rt_schema_push(L, "make_db");
  if (rt_shell_docall(L, 1, 0) != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  return 0;
}

void rt_schema_refresh(lua_State *L) {
  int top = lua_gettop(L);
  rt_schema_push(L, "refresh");
  lua_getglobal(L, "engine");
  if (lua_isfunction(L, -2)) lua_pcall(L, 1, 0, 0);
  lua_settop(L, top);
  rt_refresh_kick(); /* what a refresh under way reads may be stale */
}

/* --- the background refresh --- */

static void push_names(lua_State *L, const rt_names *n) {
  int i;
  lua_createtable(L, n->n, 0);
  for (i = 0; i < n->n; i++) {
    lua_pushstring(L, n->v[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* install(answer, engine): hand a refresh's answer to the Lua half. */
static int install(lua_State *L) {
  const rt_refresh_answer *a = lua_touserdata(L, 1);
  int i, j;
  rt_schema_push(L, "install");
  lua_pushvalue(L, 2);
  push_names(L, &a->tables.names);
  push_names(L, &a->views.names);
  lua_createtable(L, 0, a->ncols);
  for (i = 0; i < a->ncols; i++) {
    if (!a->colok[i]) continue;
    lua_createtable(L, a->cols[i].ncols, 0);
    for (j = 0; j < a->cols[i].ncols; j++) {
      lua_pushstring(L, a->cols[i].cols[j].name);
      lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, a->coltables[i]);
  }
  lua_call(L, 4, 0);
  return 0;
}

/* want(engine): the tables whose columns the refreshes read too. */
static int want(lua_State *L) {
  const char **names;
  int i, n;
  rt_schema_push(L, "column_tables");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  n = (int)luaL_len(L, -1);
  names = lua_newuserdatauv(L, sizeof *names * ((size_t)n + 1), 0);
  for (i = 0; i < n; i++) {
    lua_geti(L, -2, i + 1);
    names[i] = lua_tostring(L, -1); /* kept alive by the list */
    lua_pop(L, 1);
    if (names[i] == NULL) return 0;
  }
  rt_refresh_want_columns(names, n);
  return 0;
}

void rt_schema_sync(lua_State *L) {
  int top = lua_gettop(L);
  rt_engine *e;
  rt_refresh_answer *a;
  lua_getglobal(L, "engine");
  e = rt_lua_toengine(L, -1);
  rt_refresh_follow(e);
  if (e && rt_refresh_following(e)) {
    a = rt_refresh_take(e);
    if (a) {
      lua_pushcfunction(L, install);
      lua_pushlightuserdata(L, a);
      lua_pushvalue(L, top + 1);
      lua_pcall(L, 2, 0, 0); /* out of memory: the old names stay */
      rt_refresh_answer_free(a);
    }
    lua_pushcfunction(L, want);
    lua_pushvalue(L, top + 1);
    lua_pcall(L, 1, 0, 0);
  }
  lua_settop(L, top);
}

/* --- output --- */

static int fail(const char *msg) {
  fflush(stdout);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
  return 1;
}

/* Is the output a human's table (not csv, tsv or json)? */
static int for_people(void) {
  return rt_sh.format == RT_FMT_TABLE || rt_sh.format == RT_FMT_MARKDOWN ||
         rt_sh.format == RT_FMT_VERTICAL;
}

/*
** What a command prints is gathered in memory first, so that \d can
** centre its title over the table and the whole of it, footers too, goes
** through the pager when it is taller than the terminal.
*/
typedef struct output {
  rt_render_opts o; /* for the renderer: no pager of its own */
  const char *pager;
  FILE *f;
  char *buf;
  size_t n;
} output;

static int out_begin(output *d) {
  rt_sql_render_opts(rt_sql_out(), &d->o);
  d->pager = d->o.pager;
  d->o.pager = NULL;
  d->buf = NULL;
  d->n = 0;
  d->f = open_memstream(&d->buf, &d->n);
  return d->f == NULL ? fail("out of memory") : 0;
}

/* Send the gathered text to the pager or the output, and free it. */
static void out_end(output *d) {
  FILE *to = rt_sql_out();
  long lines = 0;
  size_t i;
  fclose(d->f);
  for (i = 0; i < d->n; i++) lines += d->buf[i] == '\n';
  if (d->pager && d->o.height > 0 && lines >= d->o.height) {
    void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* the pager may quit */
    FILE *p;
    fflush(to);
    p = popen(d->pager, "w");
    if (p) {
      fwrite(d->buf, 1, d->n, p);
      pclose(p);
      to = NULL;
    }
    signal(SIGPIPE, old);
  }
  if (to) {
    fwrite(d->buf, 1, d->n, to);
    fflush(to);
  }
  free(d->buf);
}

/*
** Render the column names at `cols` and the rows (lists of strings) at
** `rows` in the current format.  An empty string in a row is an empty
** cell, not NULL: psql's \d leaves "Default" blank.
*/
static int render_list(lua_State *L, int cols, int rows, FILE *f,
                       const rt_render_opts *opts, int count) {
  int ncols = (int)luaL_len(L, cols), nrows = (int)luaL_len(L, rows);
  const char **names = calloc((size_t)ncols + 1, sizeof *names);
  rt_value *vals = calloc((size_t)ncols + 1, sizeof *vals);
  rt_render_opts o;
  rt_render *r = NULL;
  int i, j, rc = 0;
  if (names == NULL || vals == NULL) goto nomem;
  for (j = 0; j < ncols; j++) {
    lua_geti(L, cols, j + 1);
    names[j] = lua_tostring(L, -1); /* kept alive by the table */
    lua_pop(L, 1);
  }
  o = *opts;
  o.no_count = !count;
  r = rt_render_begin(f, &o, ncols, names, NULL);
  if (r == NULL) goto nomem;
  for (i = 1; i <= nrows && rc == 0; i++) {
    lua_geti(L, rows, i);
    for (j = 0; j < ncols; j++) {
      size_t n;
      const char *s;
      lua_geti(L, -1, j + 1);
      s = lua_tolstring(L, -1, &n);
      vals[j] = s ? rt_vtext(s, n) : rt_vnull();
      lua_pop(L, 1); /* the row table keeps the string */
    }
    rc = rt_render_row(r, vals);
    lua_pop(L, 1);
  }
  if (rc == 0)
    rt_render_end(r);
  else
    rt_render_free(r);
  free(names);
  free(vals);
  fflush(f);
  return rc != 0;
nomem:
  free(names);
  free(vals);
  return fail("out of memory");
}

/* Call the Lua half's `fn` with the engine and `arg`; nres results. */
static int call(lua_State *L, const char *fn, const char *arg, int nres) {
  rt_schema_push(L, fn);
  lua_getglobal(L, "engine");
  if (arg && arg[0])
    lua_pushstring(L, arg);
  else
    lua_pushnil(L);
  if (rt_shell_docall(L, 2, nres) != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  return 0;
}

/* The width of the line at s (up to its newline), and where the next
** one starts (NULL after the last). */
static int line_width(const char *s, const char **next) {
  const char *eol = strchr(s, '\n');
  *next = eol ? eol + 1 : NULL;
  return rt_text_width(s, eol ? (size_t)(eol - s) : strlen(s));
}

/* The title centred over the table, as psql does: over its whole width,
** which the rule under the headings shows (the heading line has no
** trailing blanks). */
static void put_title(FILE *f, const char *title, const char *table) {
  const char *next;
  int w = line_width(table, &next), pad;
  if (next && *next) {
    int w2 = line_width(next, &next);
    if (w2 > w) w = w2;
  }
  pad = (w - rt_text_width(title, strlen(title))) / 2;
  fprintf(f, "%*s%s\n", pad > 0 ? pad : 0, "", title);
}

/* The rows at `rows` under the columns at `cols`, with psql's title
** centred over them when there is one. */
static int titled(lua_State *L, const char *title, int cols, int rows,
                  int count) {
  output table, all;
  int rc;
  if (out_begin(&table)) return 1;
  rc = render_list(L, cols, rows, table.f, &table.o, count);
  fclose(table.f);
  if (rc == 0 && out_begin(&all) == 0) {
    if (title) put_title(all.f, title, table.buf);
    fwrite(table.buf, 1, table.n, all.f);
    out_end(&all);
  }
  free(table.buf);
  return rc;
}

static int listing(lua_State *L, const char *what, const char *arg) {
  int top = lua_gettop(L), rc;
  rt_schema_push(L, "list");
  lua_getglobal(L, "engine");
  lua_pushstring(L, what);
  lua_pushstring(L, arg);
  if (rt_shell_docall(L, 3, 2) != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  if (luaL_len(L, -1) == 0 && for_people()) {
    if (arg[0])
      fprintf(rt_sql_out(), "Did not find any relation named \"%s\".\n", arg);
    else
      fputs("Did not find any relations.\n", rt_sql_out());
    fflush(rt_sql_out());
    rc = 0;
  } else
    rc = titled(L, for_people() ? "List of relations" : NULL, top + 1, top + 2,
                1);
  lua_settop(L, top);
  return rc;
}

int rt_cmd_tables(lua_State *L, const char *arg) {
  return listing(L, "t", arg);
}

int rt_cmd_views(lua_State *L, const char *arg) {
  return listing(L, "v", arg);
}

int rt_cmd_indexes(lua_State *L, const char *arg) {
  return listing(L, "i", arg);
}

/* A list the Lua half's `fn` reads from the server, under `title`: a
** failure prints the server's message alone. */
static int server_list(lua_State *L, const char *fn, const char *title,
                       const char *arg) {
  int top = lua_gettop(L), rc;
  rt_schema_push(L, fn);
  lua_getglobal(L, "engine");
  lua_pushstring(L, arg);
  if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
    fail(luaL_tolstring(L, -1, NULL));
    lua_settop(L, top);
    return 1;
  }
  rc = titled(L, for_people() ? title : NULL, top + 1, top + 2, 1);
  lua_settop(L, top);
  return rc;
}

int rt_cmd_databases(lua_State *L, const char *arg) {
  return server_list(L, "database_list", "List of databases", arg);
}

int rt_cmd_functions(lua_State *L, const char *arg) {
  return server_list(L, "function_list", "List of functions", arg);
}

int rt_cmd_schemas(lua_State *L, const char *arg) {
  int top = lua_gettop(L), rc;
  if (call(L, "schema_list", arg, 2)) return 1;
  rc = titled(L, for_people() ? "List of schemas" : NULL, top + 1, top + 2, 1);
  lua_settop(L, top);
  return rc;
}

static int describe_one(lua_State *L, const char *arg) {
  int top = lua_gettop(L), rc, i, n;
  output table, all;
  if (call(L, "describe", arg, 4)) return 1;
  if (lua_isnil(L, top + 1)) {
    rc = fail(lua_tostring(L, top + 2));
    lua_settop(L, top);
    return rc;
  }
  if (out_begin(&table)) return 1;
  rc = render_list(L, top + 2, top + 3, table.f, &table.o, 0);
  fclose(table.f);
  if (rc == 0 && for_people() && out_begin(&all) == 0) {
    put_title(all.f, lua_tostring(L, top + 1), table.buf);
    fwrite(table.buf, 1, table.n, all.f);
    n = (int)luaL_len(L, top + 4);
    for (i = 1; i <= n; i++) {
      lua_geti(L, top + 4, i);
      fprintf(all.f, "%s\n", lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    out_end(&all);
  } else if (rc == 0) { /* csv, tsv, json: the columns alone */
    fwrite(table.buf, 1, table.n, rt_sql_out());
    fflush(rt_sql_out());
  }
  free(table.buf);
  lua_settop(L, top);
  return rc;
}

/*
** \d NAME describes one table or view; \d PATTERN (with * or ?, as \dt
** takes them) each one that matches, a blank line between, as psql does.
*/
int rt_cmd_describe(lua_State *L, const char *arg) {
  int top = lua_gettop(L), rc = 0, i, n;
  if (arg[0] == '\0') return listing(L, "tv", arg);
  if (strpbrk(arg, "*?") == NULL || arg[0] == '"') return describe_one(L, arg);
  if (call(L, "described", arg, 1)) return 1;
  n = (int)luaL_len(L, top + 1);
  if (n == 0)
    rc = fail(
        lua_pushfstring(L, "Did not find any relation named \"%s\".", arg));
  for (i = 1; i <= n; i++) {
    lua_geti(L, top + 1, i);
    if (i > 1) fputc('\n', rt_sql_out());
    rc |= describe_one(L, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  return rc;
}

int rt_cmd_erd(lua_State *L, const char *arg) {
  int top = lua_gettop(L), rc = 0;
  if (call(L, "erd", arg, 2)) return 1;
  if (lua_isnil(L, top + 1))
    rc = fail(lua_tostring(L, top + 2));
  else {
    output d;
    rc = out_begin(&d);
    if (rc == 0) {
      fputs(lua_tostring(L, top + 1), d.f);
      out_end(&d);
    }
  }
  lua_settop(L, top);
  return rc;
}

int rt_cmd_conninfo(lua_State *L, const char *arg) {
  int top = lua_gettop(L);
  (void)arg;
  rt_schema_push(L, "conninfo");
  lua_getglobal(L, "engine");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) { /* the server's message alone */
    fail(luaL_tolstring(L, -1, NULL));
    lua_settop(L, top);
    return 1;
  }
  printf("%s\n", lua_tostring(L, -1));
  fflush(stdout);
  lua_settop(L, top);
  return 0;
}

/* Connect once to the engine on top of the stack, as psql's \c does, so
** that a wrong URL leaves the old engine in place.  0 or 1. */
static int try_connect(lua_State *L) {
  static const char code[] = "local c = (...):connect()\nc:close()\n";
  if (luaL_loadbuffer(L, code, sizeof code - 1, "=\\c") != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  lua_pushvalue(L, -2);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) { /* the message, no traceback */
    fail(luaL_tolstring(L, -1, NULL));
    lua_pop(L, 2);
    lua_getfield(L, -1, "dispose");
    lua_pushvalue(L, -2);
    lua_pcall(L, 1, 0, 0);
    return 1;
  }
  return 0;
}

/*
** Push the URL \c connects to: a URL as it is, or, as psql's `\c dbname`
** (trailing semicolons dropped, as psql drops them), the current URL with
** that database.  0, or 1 after reporting an error.
*/
static int connect_url(lua_State *L, const char *arg) {
  static const char code[] =
      "local url, name = ...\n"
      "return url:set{database = name}:render_as_string(false)\n";
  size_t n = strlen(arg);
  if (strstr(arg, "://") != NULL) {
    lua_pushstring(L, arg);
    return 0;
  }
  while (n > 0 && (arg[n - 1] == ';' || arg[n - 1] == ' ')) n--;
  if (luaL_loadbuffer(L, code, sizeof code - 1, "=\\c") != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  lua_getglobal(L, "engine");
  if (!luaL_testudata(L, -1, "retort.Engine")) {
    lua_pop(L, 2);
    lua_pushlstring(L, arg, n); /* no engine to take the rest from */
    return 0;
  }
  lua_getfield(L, -1, "url");
  lua_remove(L, -2);
  lua_pushlstring(L, arg, n);
  if (rt_shell_docall(L, 2, 1) != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  return 0;
}

int rt_cmd_connect(lua_State *L, const char *arg) {
  int top = lua_gettop(L);
  if (arg[0] != '\0') {
    /* the new engine first: if it fails, the old one stays */
    lua_getglobal(L, "create_engine");
    if (connect_url(L, arg) != 0) {
      lua_settop(L, top);
      return 1;
    }
    lua_createtable(L, 0, 1);
    lua_getglobal(L, "engine");
    if (luaL_testudata(L, -1, "retort.Engine")) {
      lua_getfield(L, -1, "echo");
      lua_setfield(L, -3, "echo");
    }
    lua_pop(L, 1);
    if (rt_shell_docall(L, 2, 1) != LUA_OK) {
      rt_shell_report(L);
      return 1;
    }
    if (try_connect(L) != 0) {
      lua_settop(L, top);
      return 1;
    }
    /* the shell's own connection, then the old engine's pool */
    rt_sql_disconnect(L);
    lua_getglobal(L, "engine");
    if (luaL_testudata(L, -1, "retort.Engine")) {
      lua_getfield(L, -1, "dispose");
      lua_insert(L, -2);
      if (lua_pcall(L, 1, 0, 0) != LUA_OK) lua_pop(L, 1);
    } else
      lua_pop(L, 1);
    lua_setglobal(L, "engine");
    if (rt_schema_bind(L)) return 1;
  }
  lua_getglobal(L, "engine");
  lua_getfield(L, -1, "url");
  printf("You are now connected to %s.\n", luaL_tolstring(L, -1, NULL));
  fflush(stdout);
  lua_settop(L, top);
  return 0;
}

/* --- tab completion --- */

static lua_State *comp_L;
static const char *const *comp_commands;
static const char *comp_before; /* the SQL the line continues */
static char **comp_list;
static int comp_n, comp_next;

void rt_complete_set_sql(const char *before) {
  comp_before = before;
}

static void free_list(void) {
  int i;
  for (i = comp_next; i < comp_n; i++) free(comp_list[i]);
  free(comp_list);
  comp_list = NULL;
  comp_n = comp_next = 0;
}

/* readline frees what the generator returns */
static char *generate(const char *text, int state) {
  (void)text, (void)state;
  return comp_next < comp_n ? comp_list[comp_next++] : NULL;
}

/*
** Completion prints nothing: what runs while it reads names (the SQL
** --echo logs of a reflection, a warning, a print in an __index) would
** land inside the line being edited.  Standard output and error go to
** /dev/null for that time; saved[] keeps the real ones (-1: not saved).
*/
static void quiet_begin(int saved[2]) {
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  fflush(stdout);
  fflush(stderr);
  if (rl_outstream) fflush(rl_outstream);
  saved[0] = saved[1] = -1;
  if (null < 0) return;
  saved[0] = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  saved[1] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (saved[0] >= 0) dup2(null, STDOUT_FILENO);
  if (saved[1] >= 0) dup2(null, STDERR_FILENO);
  close(null);
}

static void quiet_end(const int saved[2]) {
  fflush(stdout); /* what was written goes to /dev/null, not later */
  fflush(stderr);
  clearerr(stdout);
  clearerr(stderr);
  if (saved[0] >= 0) {
    dup2(saved[0], STDOUT_FILENO);
    close(saved[0]);
  }
  if (saved[1] >= 0) {
    dup2(saved[1], STDERR_FILENO);
    close(saved[1]);
  }
}

static char **complete(const char *text, int start, int end) {
  lua_State *L = comp_L;
  int top = lua_gettop(L), i, n, saved[2];
  const char *kind = "lua";
  char **matches = NULL;
  rt_linekind k;
  (void)end;
  quiet_begin(saved);
  rt_schema_sync(L); /* names a background refresh read since */
  rt_refresh_touch();
  k = rt_classify_line(rl_line_buffer);
  if (k == RT_LINE_COMMAND)
    kind = "command";
  else if (k == RT_LINE_SQL || comp_before)
    kind = "sql";
  rl_attempted_completion_over = 1;
  free_list();
  rt_schema_push(L, "complete");
  lua_getglobal(L, "engine");
  lua_pushstring(L, kind);
  if (comp_before && k != RT_LINE_COMMAND) {
    /* the statement so far: the tables its earlier lines name count */
    lua_pushfstring(L, "%s\n%s", comp_before, rl_line_buffer);
    start += (int)strlen(comp_before) + 1;
  } else
    lua_pushstring(L, rl_line_buffer);
  lua_pushinteger(L, start);
  lua_pushstring(L, text);
  lua_newtable(L);
  for (i = 0; comp_commands && comp_commands[i]; i++) {
    lua_pushstring(L, comp_commands[i]);
    lua_rawseti(L, -2, i + 1);
  }
  if (lua_pcall(L, 6, 2, 0) != LUA_OK) goto done; /* no matches */
  if (lua_isnil(L, -2)) {                         /* file names */
    rl_attempted_completion_over = 0;
    goto done;
  }
  if (!lua_istable(L, -2)) goto done;
  n = (int)luaL_len(L, -2);
  comp_list = calloc((size_t)n + 1, sizeof *comp_list);
  if (comp_list == NULL) goto done;
  for (i = 1; i <= n; i++) {
    const char *s;
    lua_geti(L, -2, i);
    s = lua_tostring(L, -1);
    if (s && (comp_list[comp_n] = strdup(s)) != NULL) comp_n++;
    lua_pop(L, 1);
  }
  {
    const char *app = lua_tostring(L, -1);
    rl_completion_append_character = app && app[0] ? app[0] : '\0';
  }
  rl_variable_bind("completion-ignore-case",
                   strcmp(kind, "lua") != 0 ? "on" : "off");
  if (comp_n > 0) matches = rl_completion_matches(text, generate);
done:
  free_list();
  lua_settop(L, top);
  quiet_end(saved);
  return matches;
}

/*
** List db.Album.c.AlbumId, db.Album.c.Title as AlbumId, Title: the part
** every match shares says nothing (readline does the same for file
** names).
*/
static void display(char **matches, int n, int maxlen) {
  char **shown = calloc((size_t)n + 2, sizeof *shown);
  size_t cut = 0, len;
  int i;
  (void)maxlen;
  if (shown == NULL) return;
  len = strlen(matches[0]);
  while (len > 0 && matches[0][len - 1] != '.' && matches[0][len - 1] != ':')
    len--;
  if (len > 0 && strncmp(matches[1], matches[0], len) == 0) cut = len;
  maxlen = 0;
  for (i = 0; i <= n; i++) {
    shown[i] = matches[i] + (strlen(matches[i]) >= cut ? cut : 0);
    if (i > 0 && (int)strlen(shown[i]) > maxlen) maxlen = (int)strlen(shown[i]);
  }
  rl_display_match_list(shown, n, maxlen);
  rl_forced_update_display();
  free(shown);
}

void rt_complete_init(lua_State *L, const char *const *commands) {
  comp_L = L;
  comp_commands = commands;
  rl_attempted_completion_function = complete;
  rl_completion_display_matches_hook = display;
  /* `.` and `:` stay in the word (db.users.c.na), `\` too (\dt) */
  rl_completer_word_break_characters = " \t\n\"'`@$><=;|&{(}),[]+-*/%^#~";
  rl_completer_quote_characters = "";
}
