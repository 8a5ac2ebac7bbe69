/*
** strbuf.h -- a growable byte buffer for building SQL text and messages.
**
** Allocation failure is sticky: once an append fails, `failed` is set and
** later appends do nothing, so callers check once at the end.
*/
#ifndef RT_STRBUF_H
#define RT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct rt_strbuf {
  char *p;    /* always NUL-terminated when cap > 0 */
  size_t n;   /* bytes used, excluding the NUL */
  size_t cap; /* bytes allocated */
  int failed; /* an allocation failed */
} rt_strbuf;

#define RT_STRBUF_INIT                                                         \
  { NULL, 0, 0, 0 }

void rt_sb_init(rt_strbuf *b);
void rt_sb_free(rt_strbuf *b);
void rt_sb_reset(rt_strbuf *b); /* empty it, keep the memory */
int rt_sb_reserve(rt_strbuf *b, size_t extra);
void rt_sb_addlen(rt_strbuf *b, const char *s, size_t n);
void rt_sb_adds(rt_strbuf *b, const char *s);
void rt_sb_addc(rt_strbuf *b, char c);
void rt_sb_addf(rt_strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void rt_sb_addvf(rt_strbuf *b, const char *fmt, va_list ap);
/* Detach the buffer: the caller owns the returned malloc'd string (NULL on
** failure); the buffer is left empty. */
char *rt_sb_take(rt_strbuf *b);

#endif
