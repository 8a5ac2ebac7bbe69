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
/* stdin is not a terminal: run it as one chunk. Returns 0 or 1. */
int rt_shell_stdin(lua_State *L);

/* Where the history file lives (malloc'd), creating its directory. */
char *rt_shell_history_path(void);

#endif
