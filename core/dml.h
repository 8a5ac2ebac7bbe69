/*
** dml.h -- INSERT, UPDATE, DELETE.
**
** Like SELECT, a DML statement is an rt_node with fixed slots (RT_D_*).
** VALUES are a list of RT_N_LABEL nodes (name: column key, a: value) kept
** in the table's column order, as SQLAlchemy renders them.
*/
#ifndef RT_DML_H
#define RT_DML_H

#include "elements.h"

enum {
  RT_D_TABLE = 0,
  RT_D_VALUES, /* list of labels */
  RT_D_MULTI,  /* list of lists of labels: multi-row VALUES */
  RT_D_WHERE,
  RT_D_RETURNING,   /* list */
  RT_D_SELECT,      /* from_select: LABEL-less list in kids; a: the select */
  RT_D_PREFIX,      /* list of literals */
  RT_D_CONFLICT,    /* on conflict / on duplicate key: see below */
  RT_D_RETDEFAULTS, /* return_defaults(cols...): list of columns; NULL: all */
  RT_D_CTES,        /* add_cte(): list of CTEs */
  RT_D_COUNT
};

/* RT_D_CONFLICT node: op RT_UPSERT_*; a: index elements (list); b: SET
** list (labels); c: WHERE for the update. */
#define RT_UPSERT_NOTHING 1
#define RT_UPSERT_UPDATE 2
#define RT_UPSERT_DUPLICATE 3

rt_node *rt_insert_new(rt_node *table);
rt_node *rt_update_new(rt_node *table);
rt_node *rt_delete_new(rt_node *table);
/* Copy `stmt` with `value` set for column key `key` (replacing any). */
rt_node *rt_dml_value(const rt_node *stmt, const char *key, rt_node *value);
/* Sort a values list into the table's column order (in place). */
void rt_dml_sort_values(rt_node *table, rt_node *values);

#endif
