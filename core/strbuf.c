/*
** strbuf.c -- growable byte buffer.
*/
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_sb_init(rt_strbuf *b) {
  b->p = NULL;
  b->n = b->cap = 0;
  b->failed = 0;
}

void rt_sb_free(rt_strbuf *b) {
  free(b->p);
  rt_sb_init(b);
}

void rt_sb_reset(rt_strbuf *b) {
  b->n = 0;
  b->failed = 0;
  if (b->p) b->p[0] = '\0';
}

int rt_sb_reserve(rt_strbuf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (b->failed) return -1;
  need = b->n + extra + 1;
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  p = realloc(b->p, cap);
  if (p == NULL) {
    b->failed = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

void rt_sb_addlen(rt_strbuf *b, const char *s, size_t n) {
  if (rt_sb_reserve(b, n) != 0) return;
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

void rt_sb_adds(rt_strbuf *b, const char *s) {
  rt_sb_addlen(b, s, strlen(s));
}

void rt_sb_addc(rt_strbuf *b, char c) {
  if (rt_sb_reserve(b, 1) != 0) return;
  b->p[b->n++] = c;
  b->p[b->n] = '\0';
}

void rt_sb_addvf(rt_strbuf *b, const char *fmt, va_list ap) {
  va_list aq;
  int n;
  va_copy(aq, ap);
  n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  if (n < 0 || rt_sb_reserve(b, (size_t)n) != 0) return;
  vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
  b->n += (size_t)n;
}

void rt_sb_addf(rt_strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rt_sb_addvf(b, fmt, ap);
  va_end(ap);
}

char *rt_sb_take(rt_strbuf *b) {
  char *p;
  if (b->failed) {
    rt_sb_free(b);
    return NULL;
  }
  if (b->p == NULL && rt_sb_reserve(b, 0) != 0) return NULL;
  p = b->p;
  rt_sb_init(b);
  return p;
}
