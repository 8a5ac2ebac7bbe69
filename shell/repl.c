/*
** repl.c -- the read-eval-print loop, after lua.c.
**
** Readline runs in callback mode so that Ctrl-C at the prompt can clear
** the line without killing the process: SIGINT only sets a flag, which
** the select() loop notices.  While Lua runs, SIGINT installs a hook that
** raises "interrupted!" at the next instruction, as lua.c does.
*/
#include "repl.h"
#include "core/cancel.h"
#include "interrupt.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "classify.h"
#include "commands.h"
#include "core/strbuf.h"
#include "mask.h"
#include "refresh.h"
#include "schema.h"
#include "sqlrun.h"

#define PROMPT "retort> "
#define PROMPT2 "   ...> "
#define HISTORY_MAX 2000

static lua_State *running_L = NULL;
static volatile sig_atomic_t got_sigint = 0;

/* --- running chunks --- */

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void on_sigint_running(int sig) {
  int flags = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  (void)sig;
  if (rt_cancel_busy()) {
    rt_interrupt_signal(); /* cancel the statement: its error reaches Lua */
    return;
  }
  signal(SIGINT, SIG_DFL); /* a second Ctrl-C kills, as in lua.c */
  if (running_L) lua_sethook(running_L, stop_hook, flags, 1);
}

/* Input typed at the prompt is running: an error the database raised
** prints as its message alone, as psql prints one. */
static int at_prompt;

/* Did the database raise the error object at idx (a DBAPIError, which
** keeps the driver's message in `orig`)? */
static int is_db_error(lua_State *L, int idx) {
  int yes;
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  lua_getfield(L, -1, "__name");
  yes = lua_type(L, -1) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), "retort.Error") == 0;
  lua_pop(L, 2);
  if (!yes) return 0;
  yes = lua_getfield(L, idx, "orig") != LUA_TNIL;
  lua_pop(L, 1);
  return yes;
}

/* Message handler: add a traceback; error objects keep their __tostring
** text. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL && at_prompt && is_db_error(L, 1) &&
      luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
    return 1; /* the statement is in the message: no traceback */
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* The handler a chunk runs under; the one before it comes back afterwards
** (at the prompt, the shell's own, so Ctrl-C between statements or while
** results print never kills the shell). */
int rt_shell_docall(lua_State *L, int narg, int nres) {
  int status, base = lua_gettop(L) - narg;
  lua_State *outer = running_L;
  struct sigaction sa, old;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  running_L = L;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint_running;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  running_L = outer;
  lua_remove(L, base);
  return status;
}

void rt_shell_report(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
  fflush(stderr);
  lua_pop(L, 1);
}

int rt_shell_dostring(lua_State *L, const char *code, const char *name) {
  int status = luaL_loadbuffer(L, code, strlen(code), name);
  if (status == LUA_OK) status = rt_shell_docall(L, 0, 0);
  if (status != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  return 0;
}

int rt_shell_dofile(lua_State *L, const char *path) {
  int status = luaL_loadfile(L, path);
  if (status == LUA_OK) status = rt_shell_docall(L, 0, 0);
  if (status != LUA_OK) {
    rt_shell_report(L);
    return 1;
  }
  return 0;
}

/* --- the REPL --- */

/* Does the compile error say the chunk is unfinished? (lua.c's rule) */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    static const char eof[] = "<eof>";
    size_t le = sizeof eof - 1;
    if (lmsg >= le && strcmp(msg + lmsg - le, eof) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Print the values the chunk returned, tab separated, as lua.c does. */
static void print_results(lua_State *L, int n) {
  int i;
  /* a Result or a list of Rows prints as a table */
  if (n == 1 && rt_sql_print_value(L, -1)) return;
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *s = luaL_tolstring(L, -n - 1 + i, &len);
    if (i > 1) fputc('\t', stdout);
    fwrite(s, 1, len, stdout);
    lua_pop(L, 1);
  }
  if (n > 0) fputc('\n', stdout);
  fflush(stdout);
}

/* readline in callback mode, interruptible by Ctrl-C */
static char *line_read;
static int line_done;

static void on_line(char *line) {
  line_read = line;
  line_done = 1;
  rl_callback_handler_remove();
}

static void on_sigint_prompt(int sig) {
  (void)sig;
  got_sigint = 1;
}

/*
** Read one line; returns NULL at end of input.  Ctrl-C marks the typed
** text with ^C, abandons it and returns "" with *interrupted set, so the
** caller can also drop a pending continuation.
*/
static char *read_line(const char *prompt, int *interrupted) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint_prompt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old); /* no SA_RESTART: select returns EINTR */
  *interrupted = 0;
  got_sigint = 0;
  line_done = 0;
  line_read = NULL;
  rl_callback_handler_install(prompt, on_line);
  rt_refresh_idle(1); /* the background refresh may read now */
  while (!line_done) {
    fd_set fds;
    int rc;
    FD_ZERO(&fds);
    FD_SET(fileno(rl_instream), &fds);
    rc = select(fileno(rl_instream) + 1, &fds, NULL, NULL, NULL);
    if (got_sigint) {
      got_sigint = 0;
      *interrupted = 1;
      rl_point = rl_end; /* ^C goes after what was typed */
      rl_redisplay();
      fputs("^C\n", rl_outstream);
      fflush(rl_outstream);
      rl_replace_line("", 0);
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_callback_handler_remove();
      line_read = strdup("");
      break;
    }
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    rl_callback_read_char();
  }
  if (!line_done && !*interrupted) rl_callback_handler_remove();
  rt_refresh_idle(0);
  sigaction(SIGINT, &old, NULL);
  return line_read;
}

char *rt_shell_history_path(void) {
  const char *state = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  char dir[4096];
  char *path;
  if (state && state[0])
    snprintf(dir, sizeof dir, "%s/retort", state);
  else if (home && home[0])
    snprintf(dir, sizeof dir, "%s/.local/state/retort", home);
  else
    return NULL;
  /* mkdir -p */
  {
    char *p;
    for (p = dir + 1; *p; p++)
      if (*p == '/') {
        *p = '\0';
        mkdir(dir, 0700);
        *p = '/';
      }
    mkdir(dir, 0700);
  }
  path = malloc(strlen(dir) + sizeof "/history");
  if (path) sprintf(path, "%s/history", dir);
  return path;
}

/* Does the text end in "<eof>"-style incompleteness (lua.c's rule)? */
static int says_eof(lua_State *L) {
  size_t n;
  const char *msg = lua_tolstring(L, -1, &n);
  return msg && n >= 5 && strcmp(msg + n - 5, "<eof>") == 0;
}

/*
** Compile `buf` first as `return <buf>;` (an expression whose values are
** printed), then as a statement.  An expression cut short (`1 +`) is
** incomplete too, which the statement form alone would not show.  Leaves
** the function, or the error message, on the stack.
*/
static int compile(lua_State *L, const char *buf) {
  const char *ret = lua_pushfstring(L, "return %s;", buf);
  int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
  lua_remove(L, -2);
  if (status == LUA_OK) return LUA_OK;
  lua_pop(L, 1);
  ret = lua_pushfstring(L, "return %s", buf);
  status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
  lua_remove(L, -2);
  if (status == LUA_ERRSYNTAX && says_eof(L)) return status;
  lua_pop(L, 1);
  return luaL_loadbuffer(L, buf, strlen(buf), "=stdin");
}

/* --- input as typed --- */

static char *last_input;

const char *rt_shell_last_input(void) {
  return last_input;
}

static void set_last_input(const char *text) {
  char *copy = strdup(text);
  free(last_input);
  last_input = copy;
}

/*
** Keep `text` in the history, and as the last input unless it is a
** command (\e edits what came before it).  The history file gets it with
** its passwords masked; this session's history keeps them, so that the
** line can be run again.
*/
static void remember(const char *text, const char *hist, int command) {
  char *masked = hist ? rt_mask_secrets(text) : NULL;
  if (masked && strcmp(masked, text) != 0) {
    add_history(masked);
    append_history(1, hist);
    free_history_entry(replace_history_entry(history_length - 1, text, NULL));
  } else {
    add_history(text);
    if (hist) append_history(1, hist);
  }
  if (hist) history_truncate_file(hist, HISTORY_MAX);
  free(masked);
  if (!command) set_last_input(text);
}

/* Run the Lua function or the error message on top of the stack,
** printing the values it returns.  \timing times the whole input, as a
** query's time includes fetching its rows. */
static int run_compiled(lua_State *L, int status) {
  if (status == LUA_OK) {
    int base = lua_gettop(L), outer = at_prompt;
    double t0 = rt_sql_now_ms();
    at_prompt = 1;
    status = rt_shell_docall(L, 0, LUA_MULTRET);
    at_prompt = outer;
    if (status == LUA_OK) print_results(L, lua_gettop(L) - base + 1);
    if (status == LUA_OK && rt_sh.timing) {
      rt_sql_print_timing(rt_sql_out(), rt_sql_now_ms() - t0);
      fflush(rt_sql_out());
    }
  }
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    int aborted = msg && strstr(msg, "current transaction is aborted") != NULL;
    rt_shell_report(L);
    if (aborted) /* PostgreSQL: an earlier error in the transaction */
      fputs("HINT:  an earlier statement of this transaction failed: "
            "session:rollback()\n(or the Connection's rollback()) ends it.\n",
            stderr);
  }
  return status != LUA_OK;
}

int rt_shell_run_input(lua_State *L, const char *text) {
  int top = lua_gettop(L), rc;
  if (text != last_input) set_last_input(text);
  switch (rt_classify_line(text)) {
  case RT_LINE_COMMAND:
    return rt_cmd_run(L, text);
  case RT_LINE_SQL:
    return rt_sql_run_text(L, text) != 0;
  default:
    rc = run_compiled(L, compile(L, text));
    lua_settop(L, top);
    return rc;
  }
}

/* Where the statements of sql[0..n) leave off: the text after the last
** complete one. */
static size_t sql_rest(const char *sql, size_t n, unsigned flags) {
  size_t off = 0, end;
  while ((end = rt_sql_stmt_end(sql + off, n - off, flags)) > 0) off += end;
  return off;
}

/* Is the end of sql[0..n) outside every string literal, quoted name and
** comment?  Then a `;` on a line of its own would end the statement. */
int rt_shell_outside_quotes(const char *sql, size_t n, unsigned flags) {
  rt_strbuf t = RT_STRBUF_INIT;
  int r;
  rt_sb_addlen(&t, sql, n);
  rt_sb_adds(&t, "\n;");
  r = !t.failed && rt_sql_stmt_end(t.p, t.n, flags) == t.n;
  rt_sb_free(&t);
  return r;
}

/* Read SQL lines after the first (in b) until every statement is ended.
** A backslash command typed between them runs at once, as in psql (\x
** before the `;`, \q to leave), unless it is inside a string literal.
** Returns 0, or -1 when Ctrl-C, Ctrl-D or \q abandons it. */
static int read_sql(lua_State *L, rt_strbuf *b, const char *hist) {
  unsigned flags = rt_sql_dialect_flags(L);
  size_t off = 0; /* where the unended statement starts */
  int rescan = 1; /* a `;` came since: a statement may have ended */
  for (;;) {
    int interrupted;
    char *line;
    if (rescan) off += sql_rest(b->p + off, b->n - off, flags);
    rescan = 0;
    if (rt_sql_is_blank(b->p + off, b->n - off, flags)) return 0;
    rt_complete_set_sql(b->p); /* completion offers SQL names */
    line = read_line(PROMPT2, &interrupted);
    rt_complete_set_sql(NULL);
    if (line == NULL || interrupted) {
      free(line);
      return -1;
    }
    if (rt_classify_line(line) == RT_LINE_COMMAND &&
        rt_shell_outside_quotes(b->p + off, b->n - off, flags)) {
      remember(line, hist, 1);
      rt_cmd_run(L, line);
      free(line);
      if (rt_sh.quit) return -1;
      continue;
    }
    rt_sb_addc(b, '\n');
    rt_sb_adds(b, line);
    rescan = strchr(line, ';') != NULL;
    free(line);
  }
}

/* Between lines (running a command, printing a result) Ctrl-C is
** ignored, as in psql: the shell is not killed by a key that came a moment
** too late for what it meant to stop. */
static void on_sigint_idle(int sig) {
  (void)sig;
}

void rt_shell_repl(lua_State *L) {
  char *hist = rt_shell_history_path();
  struct sigaction idle, before;
  memset(&idle, 0, sizeof idle);
  idle.sa_handler = on_sigint_idle;
  idle.sa_flags = SA_RESTART;
  sigemptyset(&idle.sa_mask);
  sigaction(SIGINT, &idle, &before);
  rl_readline_name = "retort";
  rl_catch_signals = 0;
  rt_sh.interactive = 1;
  rt_complete_init(L, rt_cmd_names());
  using_history();
  stifle_history(HISTORY_MAX);
  /* with timestamps as separators, an entry may span several lines, so a
  ** multi-line function comes back whole after a restart */
  history_write_timestamps = 1;
  history_multiline_entries = 1;
  /* append_history needs the file to exist */
  if (hist && read_history(hist) != 0) write_history(hist);
  while (!rt_sh.quit) {
    int interrupted, status;
    rt_linekind kind;
    char *line;
    /* what ran may have changed the schema: a refresh that began before
    ** it ended is stale, and one is due at once */
    rt_refresh_kick();
    rt_schema_sync(L);
    line = read_line(PROMPT, &interrupted);
    if (line == NULL) break; /* Ctrl-D */
    if (line[0] == '\0' || interrupted) {
      free(line);
      continue;
    }
    kind = rt_classify_line(line);
    if (kind == RT_LINE_COMMAND) {
      remember(line, hist, 1);
      rt_cmd_run(L, line);
      free(line);
      continue;
    }
    if (kind == RT_LINE_SQL) {
      rt_strbuf b = RT_STRBUF_INIT;
      rt_sb_adds(&b, line);
      free(line);
      if (read_sql(L, &b, hist) == 0 && !b.failed) {
        remember(b.p, hist, 0);
        rt_sql_run_text(L, b.p);
      }
      rt_sb_free(&b);
      continue;
    }
    lua_pushstring(L, line); /* the text so far */
    free(line);
    /* read continuation lines while the chunk is unfinished */
    for (;;) {
      status = compile(L, lua_tostring(L, -1));
      if (!incomplete(L, status)) break;
      line = read_line(PROMPT2, &interrupted);
      if (line == NULL || interrupted) {
        free(line);
        status = -1;
        break;
      }
      lua_pushliteral(L, "\n");
      lua_pushstring(L, line);
      free(line);
      lua_concat(L, 3);
    }
    if (status == -1) { /* abandoned by Ctrl-C or Ctrl-D */
      lua_pop(L, 1);
      continue;
    }
    /* stack: text, function-or-error */
    remember(lua_tostring(L, -2), hist, 0);
    lua_remove(L, -2);
    run_compiled(L, status);
    lua_settop(L, 0);
  }
  if (!rt_sh.quit) fputc('\n', stdout);
  rt_refresh_stop();
  sigaction(SIGINT, &before, NULL);
  free(hist);
  free(last_input);
  last_input = NULL;
}

/* --- stdin that is not a terminal --- */

/* Is the Lua text merely unfinished (more lines would complete it)? */
static int lua_unfinished(lua_State *L, const char *s, size_t n) {
  int status = luaL_loadbuffer(L, s, n, "=stdin");
  int r = status == LUA_ERRSYNTAX && says_eof(L);
  lua_pop(L, 1);
  return r;
}

static int run_lua_chunk(lua_State *L, rt_strbuf *b) {
  int status;
  if (b->failed) return 1;
  status = luaL_loadbuffer(L, b->p ? b->p : "", b->n, "=stdin");
  if (status == LUA_OK) status = rt_shell_docall(L, 0, 0);
  if (status != LUA_OK) rt_shell_report(L);
  rt_sb_reset(b);
  return status != LUA_OK;
}

/*
** Run the complete statements at the start of b, keeping the rest.  A
** statement ends at a `;`, and whether a `;` ends one depends only on the
** text before it: when the line just added has none, no statement can
** have ended (may_end 0), and the gathered text is not scanned again,
** which made a statement of many lines (a long INSERT) quadratic.
*/
static int run_sql_buffer(lua_State *L, rt_strbuf *b, unsigned flags,
                          int may_end) {
  size_t end;
  while (may_end && (end = rt_sql_stmt_end(b->p, b->n, flags)) > 0) {
    int rc = rt_sql_is_blank(b->p, end, flags) ? 0 : rt_sql_run(L, b->p, end);
    memmove(b->p, b->p + end, b->n - end + 1);
    b->n -= end;
    if (rc) return 1;
  }
  if (rt_sql_is_blank(b->p, b->n, flags)) rt_sb_reset(b);
  return 0;
}

int rt_shell_stdin(lua_State *L) {
  rt_strbuf lua = RT_STRBUF_INIT, sql = RT_STRBUF_INIT;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long lineno = 0, i;
  int status = 0, has_lua = 0;
  unsigned flags = 0;
  rt_sh.stop_on_error = 1;
  while (status == 0 && !rt_sh.quit &&
         (len = getline(&line, &cap, stdin)) >= 0) {
    rt_linekind kind;
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    if (++lineno == 1 && line[0] == '#') line[0] = '\0'; /* #! line */
    if (sql.n > 0 && rt_classify_line(line) == RT_LINE_COMMAND &&
        rt_shell_outside_quotes(sql.p, sql.n, flags)) {
      status = rt_cmd_run(L, line); /* as at the prompt */
      continue;
    }
    if (sql.n > 0) {
      rt_sb_addc(&sql, '\n');
      rt_sb_adds(&sql, line);
      status = run_sql_buffer(L, &sql, flags, strchr(line, ';') != NULL);
      continue;
    }
    kind = rt_classify_line(line);
    /* a line inside an unfinished Lua construct (a long string, a
    ** function) belongs to it, whatever its first word */
    if (kind != RT_LINE_LUA && has_lua && lua_unfinished(L, lua.p, lua.n))
      kind = RT_LINE_LUA;
    if (kind == RT_LINE_LUA) {
      if (!has_lua) /* keep line numbers in messages right */
        for (i = 1, has_lua = 1; i < lineno; i++) rt_sb_addc(&lua, '\n');
      rt_sb_adds(&lua, line);
      rt_sb_addc(&lua, '\n');
      continue;
    }
    if (has_lua) {
      has_lua = 0;
      if ((status = run_lua_chunk(L, &lua)) != 0) break;
    }
    if (kind == RT_LINE_COMMAND) {
      status = rt_cmd_run(L, line);
      continue;
    }
    flags = rt_sql_dialect_flags(L);
    rt_sb_adds(&sql, line);
    status = run_sql_buffer(L, &sql, flags, 1);
  }
  if (status == 0 && sql.n > 0 && !sql.failed && !rt_sh.quit)
    status = rt_sql_run_text(L, sql.p) != 0;
  if (status == 0 && has_lua) status = run_lua_chunk(L, &lua);
  free(line);
  rt_sb_free(&lua);
  rt_sb_free(&sql);
  return status;
}
