/*
** regex_reflect.h -- the regular expressions SQLAlchemy's SQLite dialect
** reads CREATE TABLE text with, matched the way Python's re module does.
**
** SQLite keeps a table's DDL as it was typed, and SQLAlchemy finds
** constraint names, ON DELETE actions and UNIQUE constraints in it with a
** handful of patterns.  What those patterns miss (a bracketed name, a key
** without its referred columns) or over-reach (a UNIQUE whose pattern
** starts at an earlier CONSTRAINT on the same line) is part of what its
** Inspector reports, so the same patterns are run here, by a small
** backtracking matcher for the subset of Python's syntax they use:
** literals, `.`, classes (`[a-z0-9_]`, `[^,]`), `\w \s \d \b`, escaped
** punctuation, groups `( )` and `(?: )`, `|`, and the quantifiers
** `* + ?` with their lazy forms.  Matching works on bytes; `.` stops at
** a newline, as Python's does without re.S.
*/
#ifndef RT_REGEX_REFLECT_H
#define RT_REGEX_REFLECT_H

#include <stddef.h>

#define RT_RX_MAXGROUPS 10

typedef struct rt_rx rt_rx;

/* A compiled pattern, or NULL (out of memory, or syntax outside the
** subset).  `icase` is re.I. */
rt_rx *rt_rx_compile(const char *pattern, int icase);
void rt_rx_free(rt_rx *rx);

/*
** The leftmost match in s[0..len) starting at or after `from` (re.search
** from a position).  Returns 1 with cap[2*g], cap[2*g+1] the byte span of
** group g (group 0 the whole match; -1, -1 for a group that took no part),
** 0 when nothing matches, -1 when out of memory.
*/
int rt_rx_search(const rt_rx *rx, const char *s, size_t len, size_t from,
                 int cap[2 * RT_RX_MAXGROUPS]);

#endif
