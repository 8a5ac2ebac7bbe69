/*
** stmtcache.c -- prepared statements by SQL text, least recently used out.
*/
#include "stmtcache.h"

#include <stdlib.h>
#include <string.h>

void rt_stmtcache_init(rt_stmtcache *c, void (*finalize)(void *stmt)) {
  memset(c, 0, sizeof *c);
  c->finalize = finalize;
}

void *rt_stmtcache_take(rt_stmtcache *c, const char *sql, rt_stmtslot **slot) {
  int i;
  *slot = NULL;
  for (i = 0; i < RT_STMTCACHE_SIZE; i++) {
    rt_stmtslot *s = &c->slot[i];
    if (s->sql && !s->busy && strcmp(s->sql, sql) == 0) {
      s->busy = 1;
      s->lastused = ++c->clock;
      *slot = s;
      return s->stmt;
    }
  }
  return NULL;
}

void rt_stmtcache_put(rt_stmtcache *c, const char *sql, void *stmt,
                      rt_stmtslot **slot) {
  rt_stmtslot *victim = NULL;
  char *copy;
  int i;
  *slot = NULL;
  for (i = 0; i < RT_STMTCACHE_SIZE; i++) {
    rt_stmtslot *s = &c->slot[i];
    if (s->busy && s->sql && strcmp(s->sql, sql) == 0)
      return; /* one slot per text: this one stays private */
    if (!s->busy && (victim == NULL || s->lastused < victim->lastused))
      victim = s;
  }
  if (victim == NULL || (copy = strdup(sql)) == NULL) return;
  if (victim->stmt) c->finalize(victim->stmt);
  free(victim->sql);
  victim->sql = copy;
  victim->stmt = stmt;
  victim->busy = 1;
  victim->lastused = ++c->clock;
  *slot = victim;
}

void rt_stmtcache_release(rt_stmtslot *slot) {
  slot->busy = 0;
}

void rt_stmtcache_free(rt_stmtcache *c) {
  int i;
  for (i = 0; i < RT_STMTCACHE_SIZE; i++) {
    if (c->slot[i].stmt) c->finalize(c->slot[i].stmt);
    free(c->slot[i].sql);
    c->slot[i].stmt = NULL;
    c->slot[i].sql = NULL;
  }
}
