/*
** repl.c -- the read-eval-print loop, after lua.c.
**
** Readline runs in callback mode so that Ctrl-C at the prompt can clear
** the line without killing the process: SIGINT only sets a flag, which
** the select() loop notices.  While Lua runs, SIGINT installs a hook that
** raises "interrupted!" at the next instruction, as lua.c does.
*/
#include "repl.h"

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
  signal(SIGINT, SIG_DFL); /* a second Ctrl-C kills, as in lua.c */
  if (running_L) lua_sethook(running_L, stop_hook, flags, 1);
}

/* Message handler: add a traceback; error objects keep their __tostring
** text. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
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

int rt_shell_docall(lua_State *L, int narg, int nres) {
  int status, base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  running_L = L;
  signal(SIGINT, on_sigint_running);
  status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, SIG_DFL);
  running_L = NULL;
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

int rt_shell_stdin(lua_State *L) {
  return rt_shell_dofile(L, NULL);
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

void rt_shell_repl(lua_State *L) {
  char *hist = rt_shell_history_path();
  rl_readline_name = "retort";
  rl_catch_signals = 0;
  using_history();
  stifle_history(HISTORY_MAX);
  /* with timestamps as separators, an entry may span several lines, so a
  ** multi-line function comes back whole after a restart */
  history_write_timestamps = 1;
  history_multiline_entries = 1;
  /* append_history needs the file to exist */
  if (hist && read_history(hist) != 0) write_history(hist);
  for (;;) {
    int interrupted, status;
    char *line = read_line(PROMPT, &interrupted);
    if (line == NULL) break; /* Ctrl-D */
    if (line[0] == '\0' || interrupted) {
      free(line);
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
    {
      const char *text = lua_tostring(L, -2);
      add_history(text);
      if (hist) {
        append_history(1, hist);
        history_truncate_file(hist, HISTORY_MAX);
      }
    }
    lua_remove(L, -2);
    if (status == LUA_OK) {
      int base = lua_gettop(L);
      status = rt_shell_docall(L, 0, LUA_MULTRET);
      if (status == LUA_OK) print_results(L, lua_gettop(L) - base + 1);
    }
    if (status != LUA_OK) rt_shell_report(L);
    lua_settop(L, 0);
  }
  fputc('\n', stdout);
  free(hist);
}
