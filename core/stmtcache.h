/*
** stmtcache.h -- a driver connection's prepared statements, by SQL text.
**
** Executing the same text again reuses the statement the server (or
** SQLite) already prepared.  A cursor borrows a cached statement while it
** is open (the slot is "busy"); a second execution of the same text
** meanwhile gets a private statement instead.  The least recently used
** free slot makes room for a new text.
*/
#ifndef RT_STMTCACHE_H
#define RT_STMTCACHE_H

#include <stddef.h>

#define RT_STMTCACHE_SIZE 32

typedef struct rt_stmtslot {
  char *sql;
  size_t len; /* strlen(sql), told apart before the text is compared */
  void *stmt;
  int busy;          /* a cursor is using it */
  unsigned lastused; /* for LRU eviction */
} rt_stmtslot;

typedef struct rt_stmtcache {
  rt_stmtslot slot[RT_STMTCACHE_SIZE];
  unsigned clock;
  int last; /* the slot taken last: a statement run again is found first */
  void (*finalize)(void *stmt); /* the driver's way to free a statement */
} rt_stmtcache;

void rt_stmtcache_init(rt_stmtcache *c, void (*finalize)(void *stmt));
/* The cached statement for sql, marked busy (*slot set), or NULL: then the
** caller prepares one and offers it with rt_stmtcache_put. */
void *rt_stmtcache_take(rt_stmtcache *c, const char *sql, rt_stmtslot **slot);
/* Keep a freshly prepared statement, busy, in the least recently used free
** slot.  *slot is NULL when it stays private (its text is busy in another
** slot, every slot is busy, or there was no memory to copy the text). */
void rt_stmtcache_put(rt_stmtcache *c, const char *sql, void *stmt,
                      rt_stmtslot **slot);
/* The cursor is done with the slot's statement (the driver reset it). */
void rt_stmtcache_release(rt_stmtslot *slot);
/* Forget every text: a statement no cursor uses is finalized, one in use
** is when its slot is next taken for another text.  (MySQL binds a
** prepared statement to the database current when it was prepared: USE
** makes every cached one stale.) */
void rt_stmtcache_forget(rt_stmtcache *c);
/* Finalize every cached statement. */
void rt_stmtcache_free(rt_stmtcache *c);

#endif
