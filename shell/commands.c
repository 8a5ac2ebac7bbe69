/*
** commands.c -- backslash commands.
**
** Each command is a small function taking its argument text (leading
** blanks removed, possibly empty); the table below maps names to them and
** gives the help text.
*/
#include "commands.h"

#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>

#include "classify.h"
#include "core/strbuf.h"
#include "interrupt.h"
#include "mask.h"
#include "repl.h"
#include "schema.h"
#include "sqlrun.h"

typedef int (*cmd_fn)(lua_State *L, const char *arg);

typedef struct command {
  const char *name;
  cmd_fn fn;
  const char *args, *help;
} command;

static int fail(const char *fmt, const char *arg) {
  fflush(stdout);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  fflush(stderr);
  return 1;
}

/* fail() with the reason the system gave (errno), as psql names it. */
static int fail_errno(const char *what, const char *arg) {
  const char *why = strerror(errno);
  fflush(stdout);
  fprintf(stderr, "%s %s: %s\n", what, arg, why);
  fflush(stderr);
  return 1;
}

/* "on"/"off" into *flag; no argument toggles. */
static int onoff(const char *name, const char *arg, int *flag) {
  if (arg[0] == '\0')
    *flag = !*flag;
  else if (strcmp(arg, "on") == 0)
    *flag = 1;
  else if (strcmp(arg, "off") == 0)
    *flag = 0;
  else
    return fail("unrecognized value \"%s\": expected on or off", arg);
  if (rt_sh.interactive) printf("%s is %s.\n", name, *flag ? "on" : "off");
  return 0;
}

static int cmd_help(lua_State *L, const char *arg);

static int cmd_quit(lua_State *L, const char *arg) {
  (void)L, (void)arg;
  rt_sh.quit = 1;
  return 0;
}

static int cmd_echo(lua_State *L, const char *arg) {
  if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
    return fail("\\echo needs on or off, not \"%s\"", arg);
  return rt_shell_dostring(
      L, arg[1] == 'n' ? "engine.echo = true" : "engine.echo = false",
      "=\\echo");
}

static int cmd_timing(lua_State *L, const char *arg) {
  (void)L;
  return onoff("Timing", arg, &rt_sh.timing);
}

static int cmd_expanded(lua_State *L, const char *arg) {
  (void)L;
  if (strcmp(arg, "auto") == 0)
    rt_sh.expanded = RT_EXPANDED_AUTO;
  else if (strcmp(arg, "on") == 0)
    rt_sh.expanded = RT_EXPANDED_ON;
  else if (strcmp(arg, "off") == 0)
    rt_sh.expanded = RT_EXPANDED_OFF;
  else if (arg[0] == '\0') /* as psql's: off turns on, on and auto off */
    rt_sh.expanded =
        rt_sh.expanded == RT_EXPANDED_OFF ? RT_EXPANDED_ON : RT_EXPANDED_OFF;
  else
    return fail("unrecognized value \"%s\": expected on, off or auto", arg);
  if (rt_sh.interactive)
    printf("Expanded display is %s.\n", rt_sh.expanded == RT_EXPANDED_AUTO
                                            ? "used automatically"
                                        : rt_sh.expanded ? "on"
                                                         : "off");
  return 0;
}

static int cmd_format(lua_State *L, const char *arg) {
  int f;
  (void)L;
  if (arg[0] == '\0') {
    printf("Output format is %s.\n", rt_format_name(rt_sh.format));
    return 0;
  }
  f = rt_format_byname(arg);
  if (f < 0)
    return fail("unknown format \"%s\": use table, csv, tsv, json, "
                "markdown or vertical",
                arg);
  rt_sh.format = (rt_format)f;
  if (rt_sh.interactive) printf("Output format is %s.\n", arg);
  return 0;
}

static int cmd_limit(lua_State *L, const char *arg) {
  char *end;
  long n;
  (void)L;
  if (arg[0] != '\0') {
    errno = 0;
    n = strtol(arg, &end, 10);
    if (*end != '\0' || n < 0 || errno)
      return fail("\\limit needs a number of rows, not \"%s\"", arg);
    rt_sh.limit = n == 0 ? -1 : n;
    if (!rt_sh.interactive) return 0;
  }
  if (rt_sh.limit < 0)
    printf("The table format shows every row.\n");
  else
    printf("The table format shows at most %ld rows.\n", rt_sh.limit);
  return 0;
}

/*
** \o FILE writes results to FILE, \o |COMMAND to a command's standard
** input (as psql does), \o alone to stdout again.  A command that quits
** early must not kill the shell, so SIGPIPE is ignored while one is open.
*/
static int cmd_output(lua_State *L, const char *arg) {
  FILE *f = NULL;
  int pipe = arg[0] == '|';
  (void)L;
  if (pipe) {
    const char *cmd = arg + 1;
    while (*cmd == ' ' || *cmd == '\t') cmd++;
    if (*cmd == '\0') return fail("\\o |: which command?%s", "");
    fflush(stdout);
    f = popen(cmd, "w");
    if (f == NULL) return fail("\\o: cannot run %s", cmd);
  } else if (arg[0] != '\0') {
    f = fopen(arg, "w");
    if (f == NULL) return fail_errno("\\o: cannot open", arg);
  }
  rt_sql_set_out(f, pipe);
  return 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The whole of a file, malloc'd, or NULL with errno set (a directory
** opens, then fails to read). */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  rt_strbuf b = RT_STRBUF_INIT;
  char buf[4096];
  size_t n;
  if (f == NULL) return NULL;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) rt_sb_addlen(&b, buf, n);
  if (ferror(f)) {
    int e = errno;
    fclose(f);
    rt_sb_free(&b);
    errno = e;
    return NULL;
  }
  fclose(f);
  rt_sb_addc(&b, '\0');
  return rt_sb_take(&b);
}

/* Where the statements sql[0..n) ends end: the unfinished rest starts. */
static size_t ended(const char *sql, size_t n, unsigned flags) {
  size_t off = 0, end;
  while ((end = rt_sql_stmt_end(sql + off, n - off, flags)) > 0) off += end;
  return off;
}

/* Run the statements sql ends (the rest stays for later lines). */
static int run_ended(lua_State *L, rt_strbuf *sql, unsigned flags) {
  size_t off = sql->n > 0 ? ended(sql->p, sql->n, flags) : 0;
  int rc = 0;
  char keep;
  if (off == 0) return 0;
  keep = sql->p[off];
  sql->p[off] = '\0';
  if (!rt_sql_is_blank(sql->p, off, flags))
    rc = rt_sql_run_text(L, sql->p) != 0;
  sql->p[off] = keep;
  memmove(sql->p, sql->p + off, sql->n - off + 1);
  sql->n -= off;
  return rc;
}

/* Is the end of the SQL gathered in sql outside quotes and comments? */
static int outside_quotes(const rt_strbuf *sql, unsigned flags) {
  size_t off = sql->n > 0 ? ended(sql->p, sql->n, flags) : 0;
  return rt_shell_outside_quotes(sql->p ? sql->p + off : "", sql->n - off,
                                 flags);
}

/*
** An SQL file as psql's \i reads it: a backslash command on a line of its
** own (outside quotes and comments) runs where it stands, after the
** statements before it (a psql script's `\c chinook;`).
*/
static int run_sql_file(lua_State *L, const char *text) {
  rt_strbuf sql = RT_STRBUF_INIT;
  const char *p = text;
  unsigned flags = rt_sql_dialect_flags(L);
  int rc = 0;
  while (rc == 0 && *p != '\0' && !rt_sh.quit) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    const char *q = p;
    while (q < p + len && (*q == ' ' || *q == '\t')) q++;
    /* the text gathered so far is scanned only for a line that may be a
    ** command: scanning it for every line made a long file quadratic */
    if (q < p + len && *q == '\\' && outside_quotes(&sql, flags)) {
      char *line = malloc(len + 1);
      if (line == NULL) break;
      memcpy(line, p, len);
      line[len] = '\0';
      rc = run_ended(L, &sql, flags);
      if (rc == 0) rc = rt_cmd_run(L, line);
      free(line);
      flags = rt_sql_dialect_flags(L); /* \c may change the dialect */
    } else {
      rt_sb_addlen(&sql, p, len);
      rt_sb_addc(&sql, '\n');
    }
    p = e ? e + 1 : p + len;
  }
  if (sql.failed)
    rc = fail("\\i: out of memory%s", "");
  else if (rc == 0 && !rt_sh.quit && sql.n > 0 &&
           !rt_sql_is_blank(sql.p, sql.n, flags))
    rc = rt_sql_run_text(L, sql.p) != 0;
  rt_sb_free(&sql);
  return rc;
}

static int cmd_include(lua_State *L, const char *arg) {
  char *text;
  int rc;
  if (arg[0] == '\0') return fail("\\i needs a file name%s", "");
  if (ends_with(arg, ".lua")) return rt_shell_dofile(L, arg);
  text = slurp(arg);
  if (text == NULL) return fail_errno("\\i: cannot read", arg);
  rc = run_sql_file(L, text);
  free(text);
  return rc;
}

static int cmd_edit(lua_State *L, const char *arg) {
  const char *editor = getenv("EDITOR");
  const char *last = rt_shell_last_input();
  char path[] = "/tmp/retort-edit-XXXXXX.sql";
  char *cmd, *text;
  int fd, rc;
  FILE *f;
  if (arg[0] != '\0') return fail("\\e takes no argument (got \"%s\")", arg);
  if (editor == NULL || editor[0] == '\0') editor = getenv("VISUAL");
  if (editor == NULL || editor[0] == '\0') editor = "vi";
  fd = mkstemps(path, 4);
  if (fd < 0) return fail("\\e: cannot create a temporary file%s", "");
  f = fdopen(fd, "w");
  if (f == NULL) {
    close(fd);
    unlink(path);
    return fail("\\e: cannot create a temporary file%s", "");
  }
  if (last) fprintf(f, "%s\n", last);
  fclose(f);
  cmd = malloc(strlen(editor) + strlen(path) + 4);
  if (cmd == NULL) {
    unlink(path);
    return 1;
  }
  sprintf(cmd, "%s '%s'", editor, path);
  rc = system(cmd);
  free(cmd);
  text = rc == 0 ? slurp(path) : NULL;
  unlink(path);
  if (rc != 0) return fail("\\e: the editor failed%s", "");
  if (text == NULL) return 1;
  {
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) n--;
    text[n] = '\0';
  }
  rc = text[0] ? rt_shell_run_input(L, text) : 0;
  free(text);
  return rc;
}

static int cmd_history(lua_State *L, const char *arg) {
  HIST_ENTRY **list = history_list();
  int i;
  (void)L, (void)arg;
  for (i = 0; list && list[i]; i++) { /* passwords stay off the screen */
    char *masked = rt_mask_secrets(list[i]->line);
    printf("%5d  %s\n", i + 1, masked ? masked : list[i]->line);
    free(masked);
  }
  return 0;
}

static volatile sig_atomic_t watch_stop;

static void on_watch_sigint(int sig) {
  (void)sig;
  watch_stop = 1;
}

static int cmd_watch(lua_State *L, const char *arg) {
  char *end, *sql;
  double secs = 2;
  struct sigaction sa, old;
  int rc = 0, lua_input;
  if (arg[0]) {
    secs = strtod(arg, &end);
    if (*end != '\0' || secs <= 0)
      return fail("\\watch needs a number of seconds, not \"%s\"", arg);
  }
  /* the last input at the prompt, SQL or Lua (a query such as
  ** session:scalars(select(User))); else the last statement run */
  lua_input = rt_shell_last_input() != NULL;
  sql = lua_input        ? strdup(rt_shell_last_input())
        : rt_sh.last_sql ? strdup(rt_sh.last_sql)
                         : NULL;
  if (sql == NULL) return fail("\\watch: no query to repeat%s", "");
  /* Ctrl-C anywhere in \watch ends it: while a query runs, the query's own
  ** handler cancels it (an error, which ends the loop); otherwise this one
  ** stops the loop, and the wait (nanosleep is never restarted) */
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_watch_sigint;
  sa.sa_flags = SA_RESTART; /* output is not cut short (nanosleep still is) */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  watch_stop = 0;
  while (!watch_stop) {
    time_t t = time(NULL);
    struct timespec ts;
    char when[64];
    strftime(when, sizeof when, "%c", localtime(&t));
    unsigned cancels = rt_interrupt_count();
    fprintf(rt_sql_out(), "%s (every %gs)\n\n", when, secs);
    if ((lua_input ? rt_shell_run_input(L, sql)
                   : rt_sql_run(L, sql, strlen(sql))) != 0) {
      rc = 1;
      break;
    }
    if (rt_interrupt_count() != cancels) watch_stop = 1;
    fputc('\n', rt_sql_out());
    fflush(rt_sql_out());
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (!watch_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  sigaction(SIGINT, &old, NULL);
  if (watch_stop && isatty(STDOUT_FILENO)) fputc('\n', stdout); /* ^C */
  free(sql);
  return rc;
}

static const command commands[] = {
    {"?", cmd_help, "", "show this help"},
    {"q", cmd_quit, "", "quit"},
    {"c", rt_cmd_connect, "[URL|DBNAME]",
     "connect to URL, or DBNAME on this server (engine, session, db)"},
    {"conninfo", rt_cmd_conninfo, "", "say where the shell is connected"},
    {"d", rt_cmd_describe, "[NAME]",
     "describe a table or view (no NAME: list them)"},
    {"dt", rt_cmd_tables, "[PATTERN]", "list tables (* and ? wildcards)"},
    {"dv", rt_cmd_views, "[PATTERN]", "list views"},
    {"di", rt_cmd_indexes, "[PATTERN]", "list indexes, with their tables"},
    {"df", rt_cmd_functions, "[PATTERN]",
     "list functions and procedures (not the system's)"},
    {"dn", rt_cmd_schemas, "[PATTERN]",
     "list schemas (MySQL: databases; SQLite: attached ones)"},
    {"l", rt_cmd_databases, "[PATTERN]", "list the server's databases"},
    {"erd", rt_cmd_erd, "[mermaid|dot]", "the schema as a diagram"},
    {"echo", cmd_echo, "on|off", "log every statement (engine.echo)"},
    {"timing", cmd_timing, "[on|off]", "show how long each statement takes"},
    {"x", cmd_expanded, "[on|off|auto]", "expanded display: one row a record"},
    {"f", cmd_format, "[FORMAT]",
     "output format: table csv tsv json markdown vertical"},
    {"o", cmd_output, "[FILE | |CMD]",
     "send results to FILE or to CMD's input (no argument: stdout)"},
    {"i", cmd_include, "FILE", "run FILE: Lua if it ends in .lua, else SQL"},
    {"e", cmd_edit, "", "edit the last input in $EDITOR, then run it"},
    {"history", cmd_history, "", "list the input history"},
    {"watch", cmd_watch, "[SECONDS]",
     "re-run the last input, SQL or Lua, every SECONDS (2; Ctrl-C stops)"},
    {"limit", cmd_limit, "[N]", "rows a table shows on a terminal (0: all)"},
    {NULL, NULL, NULL, NULL}};

static int cmd_help(lua_State *L, const char *arg) {
  int i;
  (void)L, (void)arg;
  printf("A line is Lua, unless it starts with an SQL keyword (SELECT, "
         "INSERT, BEGIN, ...):\nthen it is SQL, read up to the `;` that "
         "ends it and run on `engine`.\n\n");
  for (i = 0; commands[i].name; i++) {
    char left[32];
    snprintf(left, sizeof left, "\\%s %s", commands[i].name, commands[i].args);
    printf("  %-22s %s\n", left, commands[i].help);
  }
  return 0;
}

const char *const *rt_cmd_names(void) {
  static const char *names[sizeof commands / sizeof commands[0]];
  int i;
  for (i = 0; commands[i].name; i++) names[i] = commands[i].name;
  return names;
}

int rt_cmd_run(lua_State *L, const char *line) {
  const char *p = line, *name;
  char buf[32], *arg;
  size_t n;
  int i, rc;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '\\') p++;
  name = p;
  if (*p == '?')
    p++;
  else
    while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') p++;
  n = (size_t)(p - name);
  if (n >= sizeof buf) n = sizeof buf - 1;
  memcpy(buf, name, n);
  buf[n] = '\0';
  while (*p == ' ' || *p == '\t') p++;
  arg = strdup(p);
  if (arg == NULL) return 1;
  /* trailing blanks, a `;` out of habit, and the \r of a CRLF file */
  n = strlen(arg);
  while (n > 0 &&
         (arg[n - 1] == ' ' || arg[n - 1] == '\t' || arg[n - 1] == ';' ||
          arg[n - 1] == '\n' || arg[n - 1] == '\r'))
    arg[--n] = '\0';
  for (i = 0; commands[i].name; i++)
    if (strcmp(commands[i].name, buf) == 0) break;
  if (commands[i].name == NULL)
    rc = fail("invalid command \\%s: try \\? for help", buf);
  else
    rc = commands[i].fn(L, arg);
  free(arg);
  fflush(stdout);
  return rc;
}
