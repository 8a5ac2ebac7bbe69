/*
** sqlrun.h -- SQL typed at the shell: its connection, settings and output.
**
** The shell runs SQL on a connection of its own to the global `engine`,
** with psql's autocommit rule: a statement commits at once unless the user
** opened a transaction with BEGIN or START TRANSACTION, which lasts until
** COMMIT, END, ROLLBACK or ABORT.  Statements go to the driver as typed,
** so the server, not the connection's autobegin, keeps the transaction.
*/
#ifndef RT_SQLRUN_H
#define RT_SQLRUN_H

#include <stdio.h>

#include <lua.h>

#include "render.h"

typedef struct rt_shell {
  rt_format format;
  int expanded; /* RT_EXPANDED_* */
  long limit;   /* rows the table format shows */
  int timing;
  FILE *out;                /* \o FILE or |COMMAND, or NULL for stdout */
  int out_pipe;             /* out is a command's (pclose it) */
  int interactive;          /* the REPL: commands confirm their settings */
  int stop_on_error;        /* not a terminal: an SQL error ends the run */
  int quit;                 /* \q */
  int user_tx;              /* the user's BEGIN is open */
  char *last_sql;           /* the last statement run, for \watch */
  int conn_ref, engine_ref; /* registry: the connection, its engine */
} rt_shell;

extern rt_shell rt_sh;

void rt_sql_init(void);
/* Roll back an open transaction, close the connection, free state. */
void rt_sql_shutdown(lua_State *L);

/* Close the shell's connection (rolling back an open transaction). */
void rt_sql_disconnect(lua_State *L);

/* Where results go: the \o file or command, or stdout. */
FILE *rt_sql_out(void);
/* Send results to f (NULL: stdout), closing the previous target; a pipe
** from popen when is_pipe. */
void rt_sql_set_out(FILE *f, int is_pipe);

/* The scanner flags for the engine's dialect (connecting if needed). */
unsigned rt_sql_dialect_flags(lua_State *L);

/* Run one statement (sql[0..n), a trailing `;` allowed).  Errors are
** printed; returns 0 or 1. */
int rt_sql_run(lua_State *L, const char *sql, size_t n);
/* Run every statement of `text` (the last needs no `;`).  Returns the
** number that failed; stops at the first when stop_on_error. */
int rt_sql_run_text(lua_State *L, const char *text);

/* If the value at idx is a Result returning rows or a list of Rows, print
** it in the current format and return 1; otherwise 0.  A Lua error while
** fetching is printed too (returns 1). */
int rt_sql_print_value(lua_State *L, int idx);

/* \timing's line for `ms` milliseconds, as psql prints it: `Time: 0.512
** ms`, and from a second on the same with (mm:ss.fff) after it. */
void rt_sql_print_timing(FILE *f, double ms);
/* Milliseconds on a monotonic clock (\timing). */
double rt_sql_now_ms(void);

/* Options for a renderer writing to f in the current settings. */
void rt_sql_render_opts(FILE *f, rt_render_opts *o);

#endif
