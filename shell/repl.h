/*
** repl.h -- the interactive loop and the running of Lua chunks.
*/
#ifndef RT_REPL_H
#define RT_REPL_H

#include <lua.h>

/* Run a chunk with a traceback handler; on error print it to stderr.
** Returns 0 on success, 1 on error.  When `print_results` the chunk's
** return values are printed (the REPL's expression lines). */
int rt_shell_docall(lua_State *L, int narg, int nres);
int rt_shell_dostring(lua_State *L, const char *code, const char *name);
int rt_shell_dofile(lua_State *L, const char *path);
/* Report the error message on top of the stack to stderr and pop it. */
void rt_shell_report(lua_State *L);

/* The readline REPL (stdin is a terminal). */
void rt_shell_repl(lua_State *L);
/*
** stdin is not a terminal: lines are classified as at the prompt, without
** prompts.  Consecutive Lua lines run as one chunk (so `local` spans
** them), SQL runs statement by statement, and the first error (Lua or
** SQL) ends the run.  Returns 0 or 1.
*/
int rt_shell_stdin(lua_State *L);

/* Run a piece of input as if typed at the prompt: a backslash command,
** SQL, or a Lua chunk whose values are printed.  Returns 0 or 1. */
int rt_shell_run_input(lua_State *L, const char *text);
/* Is the end of sql[0..n) outside every string literal, quoted name and
** comment (so that a backslash line there is a command)? */
int rt_shell_outside_quotes(const char *sql, size_t n, unsigned flags);

/* The last input entered at the prompt (for \e), or NULL. */
const char *rt_shell_last_input(void);

/* Where the history file lives (malloc'd), creating its directory. */
char *rt_shell_history_path(void);

#endif
