/*
** refresh.h -- completion's names, read again in the background.
**
** Completion answers from names cached in Lua (shell.lua).  To keep them
** current without making the prompt wait, a thread reads the tables and
** views of the engine's default schema, and the columns of the tables
** completion has asked about, on an engine and connection of its own
** (the pool is not shared between threads, and the Lua state is not
** touched: the answer is plain C data).  The main thread takes the answer
** when it completes a word or shows a prompt, and puts it in the cache.
**
** A refresh runs while the shell waits at its prompt: every few seconds
** while it is in use, and soon after each input has run (which may have
** changed the schema through Lua or SQL).  An in-memory SQLite database has no
*refresher:
** no other connection can see it, let alone change it.
*/
#ifndef RT_REFRESH_H
#define RT_REFRESH_H

#include "core/engine.h"
#include "core/reflection.h"

/* Seconds between refreshes while the shell is idle at its prompt, and
** for how long after the last input or completion: a shell left alone
** does not keep asking the server. */
#define RT_REFRESH_INTERVAL 3.0
#define RT_REFRESH_IN_USE 300.0

/* One refresh's answer: the names, and the columns of `coltables`. */
typedef struct rt_refresh_answer {
  rt_refl tables, views;
  int ncols;
  char **coltables; /* malloc'd names */
  rt_refl *cols;    /* cols[i]: the columns of coltables[i] */
  int *colok;       /* colok[i]: they were read (the table may be gone) */
} rt_refresh_answer;

void rt_refresh_answer_free(rt_refresh_answer *a);

/*
** Mirror engine e (the global `engine`): the refresher for any other one
** stops, and one for e starts unless e is an in-memory SQLite database.
** `e` is only compared, never used by the thread.  0, or -1 when the
** thread or its engine could not be made (completion still works, from
** names read when asked).
*/
int rt_refresh_follow(const rt_engine *e);
/* Is the refresher running for e? */
int rt_refresh_following(const rt_engine *e);
/* Stop the thread (at exit); waits for it. */
void rt_refresh_stop(void);

/* The main thread waits at the prompt (1) or runs something (0). */
void rt_refresh_idle(int idle);
/* The schema may have changed: answers read before now are stale, and a
** refresh is due as soon as the shell is idle. */
void rt_refresh_kick(void);

/* A completion: the shell is in use, refreshes go on. */
void rt_refresh_touch(void);

/* The newest answer for e not yet taken, or NULL; the caller frees it. */
rt_refresh_answer *rt_refresh_take(const rt_engine *e);
/* The tables whose columns the next refreshes read too (copied). */
void rt_refresh_want_columns(const char *const *tables, int n);

#endif
