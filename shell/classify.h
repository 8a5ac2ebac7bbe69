/*
** classify.h -- what a line at the prompt is, and where SQL statements end.
**
** No Lua here: the REPL asks whether a line starts SQL, Lua or a backslash
** command, and the SQL runner asks where the next statement of a buffer
** ends.  Quoting rules differ by dialect, so the scanner takes flags.
*/
#ifndef RT_CLASSIFY_H
#define RT_CLASSIFY_H

#include <stddef.h>

typedef enum rt_linekind {
  RT_LINE_LUA = 0,
  RT_LINE_SQL,
  RT_LINE_COMMAND /* starts with a backslash */
} rt_linekind;

/* Dialect quirks of the statement scanner. */
#define RT_SQL_DOLLAR 1      /* PostgreSQL: $$...$$ and $tag$...$tag$ */
#define RT_SQL_BACKSLASH 2   /* MySQL: \ escapes in '' and "", # comments */
#define RT_SQL_NESTCOMMENT 4 /* PostgreSQL: nested / * * / comments */

/* The flags for a dialect name ("postgresql", "mysql", "sqlite", ...). */
unsigned rt_sql_flags(const char *dialect);

/*
** A line whose first word is an SQL keyword used as a keyword (followed
** by white space, `*`, `;` or the end of the line, and not by `=` or `,`
** after the blanks, which assign to Lua variables) is SQL, and so is one
** that starts with an SQL block comment; a line whose
** first non-blank character is `\` is a command; anything else is Lua.
*/
rt_linekind rt_classify_line(const char *line);

/*
** The offset just past the `;` that ends the first statement of
** sql[0..n), or 0 when there is none yet: the `;` must be outside string
** literals, quoted identifiers, comments and dollar quotes.
*/
size_t rt_sql_stmt_end(const char *sql, size_t n, unsigned flags);

/* Does sql[0..n) hold nothing but white space, comments and `;`? */
int rt_sql_is_blank(const char *sql, size_t n, unsigned flags);

/*
** The `k`-th word (0-based) of the statement, upper-cased into buf (at
** most bufsz - 1 letters, digits or `_`), skipping white space and
** comments; "" when there is none.  Returns buf.
*/
char *rt_sql_word(const char *sql, size_t n, int k, char *buf, size_t bufsz);

/*
** What a statement does to the transaction: 1 begins one (BEGIN, START
** TRANSACTION), 2 ends one (COMMIT, END, ROLLBACK, ABORT, but not
** ROLLBACK TO), 0 neither.
*/
int rt_sql_txkind(const char *sql, size_t n);

#endif
