/*
** classify.c -- the line classifier and the SQL statement scanner.
**
** The scanner walks the text once, stepping over whole quoted runs and
** comments, so a `;` is only seen where it ends a statement.  Everything
** unterminated (a string, a comment, a dollar quote) counts as "not yet
** ended", which is what makes the REPL ask for another line.
*/
#include "classify.h"

#include <ctype.h>
#include <string.h>

/* Words that start SQL when used as a keyword at the start of a line. */
static const char *const sql_keywords[] = {
    "ALTER",     "ANALYZE",  "ATTACH",   "BEGIN",  "CALL",    "CHECKPOINT",
    "CLUSTER",   "COMMENT",  "COMMIT",   "COPY",   "CREATE",  "DEALLOCATE",
    "DECLARE",   "DELETE",   "DESCRIBE", "DETACH", "DISCARD", "DO",
    "DROP",      "EXECUTE",  "EXPLAIN",  "FETCH",  "FLUSH",   "GRANT",
    "HANDLER",   "INSERT",   "KILL",     "LISTEN", "LOCK",    "MERGE",
    "MOVE",      "NOTIFY",   "OPTIMIZE", "PRAGMA", "PREPARE", "REINDEX",
    "RELEASE",   "RENAME",   "REPLACE",  "RESET",  "REVOKE",  "ROLLBACK",
    "SAVEPOINT", "SELECT",   "SET",      "SHOW",   "START",   "TABLE",
    "TRUNCATE",  "UNLISTEN", "UNLOCK",   "UPDATE", "USE",     "VACUUM",
    "VALUES",    "WITH",     NULL};

unsigned rt_sql_flags(const char *dialect) {
  if (dialect == NULL) return 0;
  if (strcmp(dialect, "postgresql") == 0)
    return RT_SQL_DOLLAR | RT_SQL_NESTCOMMENT;
  if (strcmp(dialect, "mysql") == 0 || strcmp(dialect, "mariadb") == 0)
    return RT_SQL_BACKSLASH;
  return 0;
}

static int isident(int c) {
  return isalnum((unsigned char)c) || c == '_' || (c & 0x80);
}

static int is_keyword(const char *w, size_t n) {
  int i;
  for (i = 0; sql_keywords[i]; i++) {
    const char *k = sql_keywords[i];
    size_t j;
    if (strlen(k) != n) continue;
    for (j = 0; j < n && toupper((unsigned char)w[j]) == k[j]; j++) {
    }
    if (j == n) return 1;
  }
  return 0;
}

rt_linekind rt_classify_line(const char *line) {
  const char *p = line, *w;
  size_t n;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '\\') return RT_LINE_COMMAND;
  /* no Lua line starts with a slash and a star: an SQL block comment,
  ** as SQL files begin */
  if (p[0] == '/' && p[1] == '*') return RT_LINE_SQL;
  w = p;
  while (isalpha((unsigned char)*p)) p++;
  n = (size_t)(p - w);
  if (n == 0 || !is_keyword(w, n)) return RT_LINE_LUA;
  /* used as a keyword: not `select(`, `update =`, `delete.x`, `set'x'` */
  if (!(*p == '\0' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
        *p == '*' || *p == ';'))
    return RT_LINE_LUA;
  /* `update = 1` and `select, x = 1, 2` assign to Lua variables */
  {
    const char *q = p;
    while (*q == ' ' || *q == '\t') q++;
    if (*q == '=' || *q == ',') return RT_LINE_LUA;
  }
  /* `do` also starts a Lua block: only `DO $$ ... $$`, `DO '...'` and
  ** `DO LANGUAGE ...` (PostgreSQL's anonymous code blocks) are SQL */
  if (n == 2) {
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '$' || *p == '\'') return RT_LINE_SQL;
    if (strncasecmp(p, "language", 8) == 0 && !isident(p[8]))
      return RT_LINE_SQL;
    return RT_LINE_LUA;
  }
  return RT_LINE_SQL;
}

/*
** If a dollar-quote opener `$tag$` starts at sql[i], its length, else 0.
** The tag is empty or an identifier not starting with a digit (`$1` is a
** parameter), and the `$` must not continue an identifier (`a$b$`).
*/
static size_t dollar_tag(const char *sql, size_t n, size_t i) {
  size_t j = i + 1;
  if (i > 0 && isident(sql[i - 1])) return 0;
  if (j < n && isdigit((unsigned char)sql[j])) return 0;
  while (j < n && isident(sql[j]) && sql[j] != '$') j++;
  if (j < n && sql[j] == '$') return j - i + 1;
  return 0;
}

/*
** If a string, quoted identifier or comment starts at sql[i], the offset
** just past it (n when it is unterminated, with *open set); otherwise i.
*/
static size_t skip_quoted(const char *sql, size_t n, size_t i, unsigned flags,
                          int *open) {
  char c = sql[i];
  *open = 0;
  if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
    while (i < n && sql[i] != '\n') i++;
    return i; /* a comment ends with its line: not "open" */
  }
  if (c == '#' && (flags & RT_SQL_BACKSLASH)) {
    while (i < n && sql[i] != '\n') i++;
    return i;
  }
  if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
    int depth = 1;
    i += 2;
    while (i < n) {
      if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
        i += 2;
        if (--depth == 0) return i;
      } else if ((flags & RT_SQL_NESTCOMMENT) && sql[i] == '/' && i + 1 < n &&
                 sql[i + 1] == '*') {
        i += 2;
        depth++;
      } else
        i++;
    }
    *open = 1;
    return n;
  }
  if (c == '\'' || c == '"' || c == '`') {
    /* E'...' (PostgreSQL) takes backslash escapes, as MySQL strings do */
    int esc = (flags & RT_SQL_BACKSLASH) && c != '`';
    if (c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
        (i < 2 || !isident(sql[i - 2])))
      esc = 1;
    i++;
    while (i < n) {
      if (esc && sql[i] == '\\') {
        i += 2;
        continue;
      }
      if (sql[i] == c) {
        if (i + 1 < n && sql[i + 1] == c) { /* doubled: '' "" `` */
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    *open = 1;
    return n;
  }
  if (c == '$' && (flags & RT_SQL_DOLLAR)) {
    size_t t = dollar_tag(sql, n, i), j;
    if (t == 0) return i;
    for (j = i + t; j + t <= n; j++)
      if (sql[j] == '$' && memcmp(sql + j, sql + i, t) == 0) return j + t;
    *open = 1;
    return n;
  }
  return i;
}

/* Is sql[i..) the word w (upper case), standing alone? */
static int word_at(const char *sql, size_t n, size_t i, const char *w) {
  size_t k = strlen(w), j;
  if (i + k > n || (i > 0 && isident(sql[i - 1]))) return 0;
  for (j = 0; j < k; j++)
    if (toupper((unsigned char)sql[i + j]) != w[j]) return 0;
  return i + k == n || !isident(sql[i + k]);
}

/* CREATE [TEMP|TEMPORARY] TRIGGER, where a BEGIN ... END body holds `;`s
** (SQLite and MySQL; PostgreSQL triggers call a function instead). */
static int is_trigger(const char *sql, size_t n) {
  char w[16];
  int k = 1;
  if (strcmp(rt_sql_word(sql, n, 0, w, sizeof w), "CREATE") != 0) return 0;
  rt_sql_word(sql, n, k, w, sizeof w);
  if (strcmp(w, "TEMP") == 0 || strcmp(w, "TEMPORARY") == 0)
    rt_sql_word(sql, n, ++k, w, sizeof w);
  return strcmp(w, "TRIGGER") == 0;
}

size_t rt_sql_stmt_end(const char *sql, size_t n, unsigned flags) {
  size_t i = 0;
  int body = 0; /* inside a trigger's BEGIN ... END */
  int trigger = !(flags & RT_SQL_DOLLAR) && is_trigger(sql, n);
  int after_end = 0;
  while (i < n) {
    int open;
    size_t j = skip_quoted(sql, n, i, flags, &open);
    if (open) return 0;
    if (j != i) {
      i = j;
      continue;
    }
    if (trigger && isident(sql[i]) && (i == 0 || !isident(sql[i - 1]))) {
      if (word_at(sql, n, i, "BEGIN")) body = 1;
      after_end = word_at(sql, n, i, "END");
      while (i < n && isident(sql[i])) i++;
      continue;
    }
    if (sql[i] == ';' && (!body || after_end)) return i + 1;
    if (!isspace((unsigned char)sql[i])) after_end = 0;
    i++;
  }
  return 0;
}

int rt_sql_is_blank(const char *sql, size_t n, unsigned flags) {
  size_t i = 0;
  while (i < n) {
    int open;
    size_t j;
    if (isspace((unsigned char)sql[i]) || sql[i] == ';') {
      i++;
      continue;
    }
    if (sql[i] != '-' && sql[i] != '/' && sql[i] != '#') return 0;
    j = skip_quoted(sql, n, i, flags, &open);
    if (j == i || open) return 0;
    i = j;
  }
  return 1;
}

char *rt_sql_word(const char *sql, size_t n, int k, char *buf, size_t bufsz) {
  size_t i = 0, o;
  buf[0] = '\0';
  for (;;) {
    int open;
    size_t j;
    while (i < n && isspace((unsigned char)sql[i])) i++;
    if (i >= n) return buf;
    j = skip_quoted(sql, n, i, 0, &open);
    if (j != i && sql[i] != '\'' && sql[i] != '"' && sql[i] != '`') {
      i = j; /* a comment */
      continue;
    }
    if (!isident(sql[i])) return buf; /* words end at punctuation */
    o = 0;
    while (i < n && isident(sql[i])) {
      if (k == 0 && o + 1 < bufsz)
        buf[o++] = (char)toupper((unsigned char)sql[i]);
      i++;
    }
    if (k-- == 0) {
      buf[o] = '\0';
      return buf;
    }
  }
}

int rt_sql_txkind(const char *sql, size_t n) {
  char w[16], w2[16];
  rt_sql_word(sql, n, 0, w, sizeof w);
  rt_sql_word(sql, n, 1, w2, sizeof w2);
  if (strcmp(w, "BEGIN") == 0) return 1;
  if (strcmp(w, "START") == 0 && strcmp(w2, "TRANSACTION") == 0) return 1;
  if (strcmp(w, "COMMIT") == 0 || strcmp(w, "END") == 0) return 2;
  if (strcmp(w, "ROLLBACK") == 0 || strcmp(w, "ABORT") == 0) {
    /* ROLLBACK TO [SAVEPOINT] x, ROLLBACK TRANSACTION TO ... keep it open */
    char w3[16];
    rt_sql_word(sql, n, 2, w3, sizeof w3);
    if (strcmp(w2, "TO") == 0 || strcmp(w3, "TO") == 0) return 0;
    return 2;
  }
  return 0;
}
