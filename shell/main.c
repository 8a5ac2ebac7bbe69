/*
** main.c -- the retort command: arguments, globals, and what to run.
**
**   retort [options] [URL] [script.lua [args...]]
*/
#include <lauxlib.h>
#include <lualib.h>
#include <mysql.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/readline.h>

#include "lua/lretort.h"
#include "classify.h"
#include "commands.h"
#include "render.h"
#include "interrupt.h"
#include "repl.h"
#include "schema.h"
#include "sqlrun.h"

static const char usage[] =
    "usage: retort [options] [URL] [script.lua [args...]]\n"
    "  -e CODE        run Lua CODE (repeatable), then exit unless -i\n"
    "  -c SQL         run SQL (or a \\ command) against URL, print the\n"
    "                 result, exit (repeatable: each runs in turn)\n"
    "  -i             interactive after running the script / -e code\n"
    "  -f FORMAT      output format: table (default), csv, tsv, json,\n"
    "                 markdown, vertical\n"
    "  --echo         log every SQL statement and its parameters\n"
    "  --norc         skip ~/.retortrc.lua\n"
    "  --version      print versions and exit\n"
    "  --help         print this help and exit\n"
    "URL (or $DATABASE_URL) becomes the global `engine`; without one it is\n"
    "an in-memory SQLite database (sqlite://).  A line starting with an SQL\n"
    "keyword (SELECT, INSERT, BEGIN, ...) is SQL, one starting with \\ a\n"
    "command (\\? lists them), anything else Lua.  With no script and stdin\n"
    "not a terminal, stdin is read that way without prompts and the first\n"
    "error (Lua or SQL) ends the run with status 1.\n";

typedef struct options {
  const char *url;
  int script; /* argv index of the script, or 0 */
  int interactive;
  int echo;
  int norc;
  int ncode;
  const char **code;
  int nsql;
  const char **sql; /* -c, repeatable as psql's */
} options;

static void print_version(void) {
  printf("retort %s (%s, SQLite %s, libpq %d, MariaDB Connector/C %s)\n",
         RT_VERSION, LUA_RELEASE, sqlite3_libversion(), PQlibVersion(),
         mysql_get_client_info());
}

static int looks_like_url(const char *s) {
  const char *p = strstr(s, "://");
  size_t i;
  if (p == NULL || p == s) return 0;
  for (i = 0; s + i < p; i++)
    if (!(s[i] == '+' || s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
          (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
      return 0;
  return 1;
}

/* Returns -1 on a usage error, 1 when the program should exit 0 now. */
static int parse_args(int argc, char **argv, options *o) {
  int i;
  o->code = calloc((size_t)argc, sizeof *o->code);
  o->sql = calloc((size_t)argc, sizeof *o->sql);
  if (o->code == NULL || o->sql == NULL) return -1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-e") == 0) {
      if (++i >= argc) {
        fprintf(stderr, "retort: '-e' needs an argument\n");
        return -1;
      }
      o->code[o->ncode++] = argv[i];
    } else if (strcmp(a, "-c") == 0 || strcmp(a, "-f") == 0) {
      if (++i >= argc) {
        fprintf(stderr, "retort: '%s' needs an argument\n", a);
        return -1;
      }
      if (a[1] == 'c')
        o->sql[o->nsql++] = argv[i];
      else if (rt_format_byname(argv[i]) < 0) {
        fprintf(stderr,
                "retort: unknown format '%s' (table, csv, tsv, json, "
                "markdown, vertical)\n",
                argv[i]);
        return -1;
      } else
        rt_sh.format = (rt_format)rt_format_byname(argv[i]);
    } else if (strcmp(a, "-i") == 0)
      o->interactive = 1;
    else if (strcmp(a, "--echo") == 0)
      o->echo = 1;
    else if (strcmp(a, "--norc") == 0)
      o->norc = 1;
    else if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
      print_version();
      return 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      return 1;
    } else if (strcmp(a, "--") == 0) {
      if (i + 1 < argc) o->script = i + 1;
      return 0;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "retort: unrecognized option '%s'\n%s", a, usage);
      return -1;
    } else if (o->url == NULL && o->script == 0 && looks_like_url(a))
      o->url = a;
    else {
      o->script = i;
      return 0;
    }
  }
  return 0;
}

/* The global `arg`: script at 0, its arguments at 1.., the interpreter
** and options at negative indices (as lua.c does). */
static void create_arg(lua_State *L, int argc, char **argv, int script) {
  int i, narg = script ? argc - script - 1 : 0;
  int base = script ? script : argc;
  lua_createtable(L, narg, base + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - base);
  }
  lua_setglobal(L, "arg");
}

/* engine = create_engine(url, {echo = ...}) */
static int make_engine(lua_State *L, const char *url, int echo) {
  int status;
  lua_getglobal(L, "create_engine");
  lua_pushstring(L, url);
  lua_createtable(L, 0, 1);
  lua_pushboolean(L, echo);
  lua_setfield(L, -2, "echo");
  status = rt_shell_docall(L, 2, 1);
  if (status != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  lua_setglobal(L, "engine");
  return 0;
}

static int run_rc(lua_State *L) {
  const char *home = getenv("HOME");
  char path[4096];
  if (home == NULL) return 0;
  snprintf(path, sizeof path, "%s/.retortrc.lua", home);
  if (access(path, R_OK) != 0) return 0;
  return rt_shell_dofile(L, path);
}

/* Does the file at path start as an SQLite database does? */
static int is_sqlite_file(const char *path) {
  static const char magic[16] = "SQLite format 3";
  char head[16];
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) return 0;
  n = fread(head, 1, sizeof head, f);
  fclose(f);
  return n == sizeof head && memcmp(head, magic, sizeof head) == 0;
}

static int run_script(lua_State *L, int argc, char **argv, int script) {
  const char *fname = argv[script];
  int status, i, n = argc - script - 1;
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0)
    fname = NULL; /* stdin */
  else if (is_sqlite_file(fname)) {
    /* `sqlite3 FILE` habits: say what to type instead of a Lua error */
    fprintf(stderr,
            "retort: %s is an SQLite database, not a Lua script: give it "
            "as a URL, sqlite:///%s\n",
            fname, fname);
    return 1;
  }
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    for (i = 1; i <= n; i++) lua_pushstring(L, argv[script + i]);
    status = rt_shell_docall(L, n, 0);
  }
  if (status != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  lua_State *L;
  int rc, i, status = 0;
  const char *url;
  memset(&o, 0, sizeof o);
  rt_sql_init();
  rc = parse_args(argc, argv, &o);
  if (rc != 0) {
    free(o.code);
    free(o.sql);
    return rc < 0 ? 2 : 0;
  }
  L = rt_lua_newstate();
  if (L == NULL) {
    fprintf(stderr, "retort: cannot create Lua state: not enough memory\n");
    return 1;
  }
  luaL_openlibs(L);
  rt_interrupt_init(); /* without it Ctrl-C still stops Lua, not queries */
  rt_lua_setglobals(L);
  create_arg(L, argc, argv, o.script);
  url = o.url ? o.url : getenv("DATABASE_URL");
  if (url == NULL || url[0] == '\0') url = "sqlite://";
  status =
      rt_schema_open(L) || make_engine(L, url, o.echo) || rt_schema_bind(L);
  if (status == 0 && !o.norc) status = run_rc(L);
  for (i = 0; status == 0 && i < o.ncode; i++)
    status = rt_shell_dostring(L, o.code[i], "=(command line)");
  if (status == 0 && o.script) status = run_script(L, argc, argv, o.script);
  if (o.nsql > 0) rt_sh.stop_on_error = 1;
  for (i = 0; status == 0 && i < o.nsql; i++) {
    /* -c '\dt' runs a backslash command, as psql's -c does */
    if (rt_classify_line(o.sql[i]) == RT_LINE_COMMAND)
      status = rt_cmd_run(L, o.sql[i]);
    else
      status = rt_sql_run_text(L, o.sql[i]) != 0;
  }
  if (status == 0) {
    int ran = o.ncode > 0 || o.script || o.nsql > 0;
    if (o.interactive || !ran) {
      if (isatty(STDIN_FILENO))
        rt_shell_repl(L);
      else
        status = rt_shell_stdin(L);
    }
  }
  rt_sql_shutdown(L);
  rt_lua_closestate(L);
  free(o.code);
  free(o.sql);
  return status;
}
