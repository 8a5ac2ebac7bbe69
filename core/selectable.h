/*
** selectable.h -- SELECT, compound selects, joins, aliases and CTEs.
**
** A SELECT is an rt_node whose kids are fixed slots (RT_S_*), each NULL or
** a node; lists are RT_N_LIST nodes.  Every generative method copies the
** statement and replaces one slot, so the original is untouched.
*/
#ifndef RT_SELECTABLE_H
#define RT_SELECTABLE_H

#include "elements.h"

enum {
  RT_S_COLUMNS = 0, /* list (compound: the selects) */
  RT_S_FROMS,       /* list: select_from() */
  RT_S_JOINS,       /* list of RT_N_JOIN: a left (or NULL), b target, c on */
  RT_S_WHERE,
  RT_S_GROUP, /* list */
  RT_S_HAVING,
  RT_S_ORDER, /* list */
  RT_S_LIMIT,
  RT_S_OFFSET,
  RT_S_DISTINCT,  /* list of DISTINCT ON expressions; present: DISTINCT */
  RT_S_CORRELATE, /* list */
  RT_S_FORUPDATE, /* list node: kids OF; flags RT_FU_* */
  RT_S_PREFIX,    /* list of literal texts, or lists named by a dialect */
  RT_S_SUFFIX,    /* the same, after the statement */
  RT_S_FETCH,     /* list node: a the row count; flags RT_FETCH_* */
  RT_S_CTES,      /* add_cte(): CTEs in WITH whether referred to or not */
  RT_S_COUNT
};

#define RT_FU_NOWAIT 0x01
#define RT_FU_SKIP_LOCKED 0x02
#define RT_FU_READ 0x04
#define RT_FU_KEY_SHARE 0x08 /* PostgreSQL: FOR NO KEY UPDATE / KEY SHARE */

/* RT_S_CORRELATE list flag: correlate_except(), the kids are the FROMs
** not to correlate */
#define RT_CORR_EXCEPT 0x01

#define RT_FETCH_PERCENT 0x01
#define RT_FETCH_TIES 0x02

rt_node *rt_list_new(void);
/* A copy of list (or a new list when NULL) with item appended. */
rt_node *rt_list_append(const rt_node *list, rt_node *item);

rt_node *rt_select_new(void);
/* Copy `s` and set slot to value (value consumed; may be NULL). */
rt_node *rt_gen_set(const rt_node *s, int slot, rt_node *value);
/* Copy `s` and append item to the list in slot. */
rt_node *rt_gen_append(const rt_node *s, int slot, rt_node *item);
/* where(): ANDs criterion with what is there. */
rt_node *rt_gen_where(const rt_node *s, int slot, rt_node *crit);

/* join(target, on, flags) from the leftmost FROM (left NULL) or from left. */
rt_node *rt_select_join(const rt_node *s, rt_node *left, rt_node *target,
                        rt_node *on, int flags);
/* A FROM-clause join between two selectables (Table:join). */
rt_node *rt_join(rt_node *left, rt_node *right, rt_node *on, int flags,
                 rt_error *err);

rt_node *rt_compound(int op, rt_node **selects, int n);

/* subquery/alias/cte: `name` NULL for anonymous.  The alias's columns
** proxy the element's (for a select, its columns-clause names). */
rt_node *rt_alias(rt_node *element, const char *name, int flags);
rt_node *rt_scalar_subquery(rt_node *select);
rt_node *rt_exists(rt_node *select);

/* The name a columns-clause expression exposes ("id" for users.id, a
** label's name); NULL for anonymous expressions. */
const char *rt_expr_name(const rt_node *e);
/* Is col a subquery's column made from a literal_column() (at any depth)?
** SQLAlchemy's proxy of a literal column is literal too: its text goes
** out as it is after the alias's name (anon_1.5), never labelled but to
** tell a repeat apart, and an outer subquery's column has its name. */
int rt_literal_proxy(const rt_node *col);
/* The columns a selectable exports (for select(table), aliases, joins):
** pushes them into list `out`. */
int rt_expand_columns(rt_node *from, rt_node *out);

/* A copy of `s` in which table (or alias) `from` is `to`, an alias of it,
** and its columns are `to`'s (SQLAlchemy's replace_selectable); aliases
** inside are left as they are.  NULL on out of memory. */
rt_node *rt_replace_selectable(rt_node *s, rt_node *from, rt_node *to);

#endif
