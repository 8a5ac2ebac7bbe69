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

static int same_text(const rt_stmtslot *s, const char *sql, size_t len) {
  return s->sql && !s->busy && s->len == len && memcmp(s->sql, sql, len) == 0;
}

void *rt_stmtcache_take(rt_stmtcache *c, const char *sql, rt_stmtslot **slot) {
  size_t len = strlen(sql);
  int i = c->last;
  rt_stmtslot *s = &c->slot[i];
  *slot = NULL;
  if (!same_text(s, sql, len)) {
    for (i = 0; i < RT_STMTCACHE_SIZE; i++)
      if (same_text(&c->slot[i], sql, len)) break;
    if (i == RT_STMTCACHE_SIZE) return NULL;
    s = &c->slot[i];
  }
  s->busy = 1;
  s->lastused = ++c->clock;
  c->last = i;
  *slot = s;
  return s->stmt;
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
  victim->len = strlen(copy);
  victim->stmt = stmt;
  victim->busy = 1;
  victim->lastused = ++c->clock;
  c->last = (int)(victim - c->slot);
  *slot = victim;
}

void rt_stmtcache_release(rt_stmtslot *slot) {
  slot->busy = 0;
}

void rt_stmtcache_forget(rt_stmtcache *c) {
  int i;
  for (i = 0; i < RT_STMTCACHE_SIZE; i++) {
    rt_stmtslot *s = &c->slot[i];
    free(s->sql);
    s->sql = NULL;
    s->len = 0;
    s->lastused = 0;
    if (s->stmt && !s->busy) {
      c->finalize(s->stmt);
      s->stmt = NULL;
    }
  }
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
