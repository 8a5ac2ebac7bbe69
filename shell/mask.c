/*
** mask.c -- passwords out of text the shell keeps (the history file).
**
** The scan is lexical and errs on the side of masking: it knows the
** places a password is written at the prompt, not the grammar around
** them.
*/
#include "mask.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/strbuf.h"

#define MASK "***"

static int is_word(char c) {
  return isalnum((unsigned char)c) || c == '_';
}

/* Does the word `w` start at s[i] (any case), standing alone? */
static int word_at(const char *s, size_t n, size_t i, const char *w) {
  size_t k = strlen(w);
  if (i + k > n || (i > 0 && is_word(s[i - 1]))) return 0;
  if (strncasecmp(s + i, w, k) != 0) return 0;
  return i + k == n || !is_word(s[i + k]);
}

static size_t skip_blanks(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) i++;
  return i;
}

/* A quoted string at s[i]: the index just past its closing quote (or n
** when it is unfinished); 0 when s[i] is not a quote. */
static size_t string_end(const char *s, size_t n, size_t i) {
  char q = s[i];
  if (q != '\'' && q != '"' && q != '`') return 0;
  for (i++; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n)
      i++;
    else if (s[i] == q)
      return i + 1;
  }
  return n;
}

/* After `scheme://` at s[i]: where user:password@ has its password, as
** [*from, *to); 0 when the authority has none. */
static int url_password(const char *s, size_t n, size_t i, size_t *from,
                        size_t *to) {
  size_t end = i, at = 0, k;
  while (end < n && !strchr("/?#'\"` \t\n()[]{},;", s[end])) {
    if (s[end] == '@') at = end;
    end++;
  }
  if (at == 0) return 0;
  for (k = i; k < at && s[k] != ':'; k++) {
  }
  if (k == at) return 0;
  *from = k + 1;
  *to = at;
  return 1;
}

/*
** After the word `password` at s[i..): where its value is.  Handles
** `password = "x"` (Lua, and `:` as in JSON), `PASSWORD 'x'` and
** `PASSWORD('x')` (SQL), and `?password=x&` (a URL's query).
*/
static int keyword_value(const char *s, size_t n, size_t i, size_t word,
                         size_t *from, size_t *to) {
  size_t j = i + word, e;
  int in_query = i > 0 && (s[i - 1] == '?' || s[i - 1] == '&');
  if (in_query && j < n && s[j] == '=') {
    for (e = j + 1; e < n && !strchr("&#'\"` \t\n)", s[e]); e++) {
    }
    *from = j + 1;
    *to = e;
    return e > j + 1;
  }
  /* a quoted key ("password": ...) ends with its own quote */
  if (i > 0 && j < n && s[j] == s[i - 1] && string_end(s, n, i - 1)) j++;
  j = skip_blanks(s, n, j);
  if (j < n && (s[j] == '=' || s[j] == ':')) j = skip_blanks(s, n, j + 1);
  if (j < n && s[j] == '(') j = skip_blanks(s, n, j + 1);
  e = j < n ? string_end(s, n, j) : 0;
  if (e == 0) return 0;
  *from = j + 1;
  *to = e > j + 1 && e <= n && s[e - 1] == s[j] ? e - 1 : e;
  return 1;
}

/* After IDENTIFIED at s[i..): `IDENTIFIED BY 'x'` (MySQL). */
static int identified_value(const char *s, size_t n, size_t i, size_t *from,
                            size_t *to) {
  size_t j = skip_blanks(s, n, i + strlen("identified")), e;
  if (!word_at(s, n, j, "by")) return 0;
  j = skip_blanks(s, n, j + 2);
  e = j < n ? string_end(s, n, j) : 0;
  if (e == 0) return 0;
  *from = j + 1;
  *to = e > j + 1 && s[e - 1] == s[j] ? e - 1 : e;
  return 1;
}

char *rt_mask_secrets(const char *text) {
  rt_strbuf b = RT_STRBUF_INIT;
  size_t n = strlen(text), i = 0, from, to;
  while (i < n) {
    int found = 0;
    if (i + 3 <= n && memcmp(text + i, "://", 3) == 0)
      found = url_password(text, n, i + 3, &from, &to);
    else if (word_at(text, n, i, "password"))
      found = keyword_value(text, n, i, strlen("password"), &from, &to);
    else if (word_at(text, n, i, "passwd"))
      found = keyword_value(text, n, i, strlen("passwd"), &from, &to);
    else if (word_at(text, n, i, "identified"))
      found = identified_value(text, n, i, &from, &to);
    if (found) {
      rt_sb_addlen(&b, text + i, from - i);
      rt_sb_adds(&b, MASK);
      i = to;
    } else
      rt_sb_addc(&b, text[i++]);
  }
  rt_sb_addc(&b, '\0');
  if (b.failed) {
    rt_sb_free(&b);
    return NULL;
  }
  return rt_sb_take(&b);
}
