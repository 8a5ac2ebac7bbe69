/*
** dml.c -- INSERT, UPDATE and DELETE statements.
*/
#include "dml.h"

#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "selectable.h"

static rt_node *dml_new(int kind, rt_node *table) {
  rt_node *s = rt_node_new(kind);
  if (!s) return NULL;
  s->kids = rt_kids_new(RT_D_COUNT);
  if (!s->kids) {
    rt_unref(s);
    return NULL;
  }
  s->n = RT_D_COUNT;
  s->kids[RT_D_TABLE] = rt_ref(table);
  return s;
}

rt_node *rt_insert_new(rt_node *table) {
  return dml_new(RT_N_INSERT, table);
}
rt_node *rt_update_new(rt_node *table) {
  return dml_new(RT_N_UPDATE, table);
}
rt_node *rt_delete_new(rt_node *table) {
  return dml_new(RT_N_DELETE, table);
}

static int column_index(rt_node *table, const char *key) {
  int i;
  for (i = 0; table && i < table->n; i++)
    if (strcmp(rt_column_key(table->kids[i]), key) == 0) return i;
  return 1 << 20;
}

void rt_dml_sort_values(rt_node *table, rt_node *values) {
  int i, j;
  /* insertion sort: value lists are short */
  for (i = 1; i < values->n; i++) {
    rt_node *v = values->kids[i];
    int k = column_index(table, v->name);
    for (j = i; j > 0 && column_index(table, values->kids[j - 1]->name) > k;
         j--)
      values->kids[j] = values->kids[j - 1];
    values->kids[j] = v;
  }
}

rt_node *rt_dml_value(const rt_node *stmt, const char *key, rt_node *value) {
  rt_node *lab = rt_label(key, value), *list, *c;
  const rt_node *old = stmt->kids[RT_D_VALUES];
  int i;
  if (!lab) return NULL;
  list = rt_list_new();
  if (!list) {
    rt_unref(lab);
    return NULL;
  }
  for (i = 0; old && i < old->n; i++)
    if (strcmp(old->kids[i]->name, key) != 0 &&
        rt_node_push(list, rt_ref(old->kids[i])) != 0) {
      rt_unref(lab);
      rt_unref(list);
      return NULL;
    }
  if (rt_node_push(list, lab) != 0) {
    rt_unref(list);
    return NULL;
  }
  rt_dml_sort_values(stmt->kids[RT_D_TABLE], list);
  c = rt_gen_set(stmt, RT_D_VALUES, list);
  return c;
}
