/*
** fuzz_classify.c -- the shell's line classifier and SQL statement
** splitter on arbitrary text.  The first byte picks the dialect flags; the
** rest is a buffer of SQL.  Splitting must always move forward and stay in
** the buffer, the statements must cover it exactly, and the last piece
** must hold no further statement end.  Words come back upper-cased and
** within their buffer.
*/
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shell/classify.h"

static void words(const char *sql, size_t n) {
  char buf[16];
  int k;
  for (k = 0; k < 4; k++) {
    size_t i, len;
    rt_sql_word(sql, n, k, buf, sizeof buf);
    len = strlen(buf);
    if (len >= sizeof buf) abort();
    for (i = 0; i < len; i++)
      if (islower((unsigned char)buf[i])) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned flags;
  size_t n, at = 0, end;
  char *sql;
  if (size == 0) return 0;
  flags = data[0] & (RT_SQL_DOLLAR | RT_SQL_BACKSLASH | RT_SQL_NESTCOMMENT);
  n = size - 1;
  /* NUL-terminated, as the REPL's lines are */
  sql = malloc(n + 1);
  if (sql == NULL) return 0;
  memcpy(sql, data + 1, n);
  sql[n] = '\0';
  if (rt_classify_line(sql) > RT_LINE_COMMAND) abort();
  rt_sql_is_blank(sql, n, flags);
  while (at < n) {
    end = rt_sql_stmt_end(sql + at, n - at, flags);
    if (end > n - at) abort();
    if (end == 0) break;
    /* the statement ends just past a `;` */
    if (sql[at + end - 1] != ';') abort();
    words(sql + at, end);
    if (rt_sql_txkind(sql + at, end) > 2) abort();
    rt_sql_is_blank(sql + at, end, flags);
    at += end;
  }
  words(sql + at, n - at);
  free(sql);
  return 0;
}
