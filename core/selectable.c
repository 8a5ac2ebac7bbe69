/*
** selectable.c -- SELECT statements and the FROM-clause constructs.
*/
#include "selectable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dml.h"
#include "schema.h"

rt_node *rt_list_new(void) {
  return rt_node_new(RT_N_LIST);
}

rt_node *rt_list_append(const rt_node *list, rt_node *item) {
  rt_node *l = list ? rt_node_copy(list) : rt_list_new();
  if (!l || !item) {
    rt_unref(l);
    rt_unref(item);
    return NULL;
  }
  if (rt_node_push(l, item) != 0) {
    rt_unref(l);
    return NULL;
  }
  return l;
}

rt_node *rt_select_new(void) {
  rt_node *s = rt_node_new(RT_N_SELECT);
  if (!s) return NULL;
  s->kids = rt_kids_new(RT_S_COUNT);
  if (!s->kids) {
    rt_unref(s);
    return NULL;
  }
  s->n = RT_S_COUNT;
  s->kids[RT_S_COLUMNS] = rt_list_new();
  if (!s->kids[RT_S_COLUMNS]) {
    rt_unref(s);
    return NULL;
  }
  return s;
}

rt_node *rt_gen_set(const rt_node *s, int slot, rt_node *value) {
  rt_node *c = rt_node_copy(s);
  if (!c) {
    rt_unref(value);
    return NULL;
  }
  rt_node_setkid(c, slot, value);
  return c;
}

rt_node *rt_gen_append(const rt_node *s, int slot, rt_node *item) {
  rt_node *l = rt_list_append(s->kids[slot], item);
  if (!l) return NULL;
  return rt_gen_set(s, slot, l);
}

rt_node *rt_gen_where(const rt_node *s, int slot, rt_node *crit) {
  rt_node *w = crit;
  if (!crit) return NULL;
  if (s->kids[slot]) {
    rt_node *both[2];
    both[0] = rt_ref(s->kids[slot]);
    both[1] = crit;
    w = rt_boollist(RT_OP_AND, both, 2);
    if (!w) return NULL;
  } else
    w = rt_self_group(crit, RT_OP_ASBOOL);
  return rt_gen_set(s, slot, w);
}

rt_node *rt_select_join(const rt_node *s, rt_node *left, rt_node *target,
                        rt_node *on, int flags) {
  rt_node *j = rt_node_new(RT_N_JOIN);
  if (!j) {
    rt_unref(left);
    rt_unref(target);
    rt_unref(on);
    return NULL;
  }
  j->a = left;
  j->b = target;
  j->c = on;
  j->flags = (unsigned)flags;
  return rt_gen_append(s, RT_S_JOINS, j);
}

rt_node *rt_join(rt_node *left, rt_node *right, rt_node *on, int flags,
                 rt_error *err) {
  rt_node *j;
  if (!on) {
    on = rt_join_condition(left, right, err);
    if (!on) {
      rt_unref(left);
      rt_unref(right);
      return NULL;
    }
  }
  j = rt_node_new(RT_N_JOIN);
  if (!j) {
    rt_unref(left);
    rt_unref(right);
    rt_unref(on);
    rt_error_set(err, RT_EMEMORY, "out of memory");
    return NULL;
  }
  j->a = left;
  j->b = right;
  j->c = on;
  j->flags = (unsigned)flags;
  /* a join exports the columns of both sides */
  return j;
}

rt_node *rt_compound(int op, rt_node **selects, int n) {
  rt_node *c = rt_select_new();
  int i, failed = !c;
  if (c) {
    c->kind = RT_N_COMPOUND;
    c->op = (unsigned char)op;
  }
  for (i = 0; i < n; i++) {
    if (failed || !selects[i])
      rt_unref(selects[i]), failed = 1;
    else
      failed = rt_node_push(c->kids[RT_S_COLUMNS], selects[i]) != 0;
  }
  if (failed) {
    rt_unref(c);
    return NULL;
  }
  return c;
}

const char *rt_expr_name(const rt_node *e) {
  switch (e->kind) {
  case RT_N_COLUMN:
    return e->name;
  case RT_N_LABEL:
    return e->flags & RT_F_ANON ? NULL : e->name;
  case RT_N_LITERAL:
    return e->name;
  case RT_N_CAST: {
    const rt_node *x = rt_cast_wrapped(e);
    return x->kind == RT_N_CAST ? NULL : rt_expr_name(x);
  }
  default:
    return NULL;
  }
}

int rt_expand_columns(rt_node *from, rt_node *out) {
  int i;
  if (from->kind == RT_N_JOIN)
    return rt_expand_columns(from->a, out) || rt_expand_columns(from->b, out);
  if (from->kind == RT_N_TABLE || from->kind == RT_N_ALIAS) {
    for (i = 0; i < from->n; i++)
      if (rt_node_push(out, rt_ref(from->kids[i])) != 0) return -1;
    return 0;
  }
  return -1;
}

/* The columns a select exposes to an alias of it. */
static rt_node *select_columns(rt_node *sel) {
  rt_node *list = rt_list_new();
  rt_node *cols;
  int i;
  if (!list) return NULL;
  /* a compound's columns are its first select's; union() of nothing has
  ** none */
  while (sel->kind == RT_N_COMPOUND && sel->kids[RT_S_COLUMNS]->n > 0)
    sel = sel->kids[RT_S_COLUMNS]->kids[0];
  if (sel->kind == RT_N_COMPOUND) return list;
  cols = sel->kids[RT_S_COLUMNS];
  for (i = 0; i < cols->n; i++) {
    rt_node *c = cols->kids[i];
    if (rt_is_selectable(c)) {
      if (rt_expand_columns(c, list) != 0) {
        rt_unref(list);
        return NULL;
      }
    } else if (rt_node_push(list, rt_ref(c)) != 0) {
      rt_unref(list);
      return NULL;
    }
  }
  return list;
}

/* "table_column": a column's name under LABEL_STYLE_TABLENAME_PLUS_COL */
static char *tq_label(const rt_node *col) {
  const char *schema = NULL;
  size_t n;
  char *s;
  if (col->owner->kind == RT_N_TABLE && col->owner->ext)
    schema = ((const rt_tabledata *)col->owner->ext)->schema;
  n = strlen(col->owner->name) + strlen(col->name) +
      (schema ? strlen(schema) + 1 : 0) + 2;
  s = malloc(n);
  if (!s) return NULL;
  snprintf(s, n, "%s%s%s_%s", schema ? schema : "", schema ? "_" : "",
           col->owner->name, col->name);
  return s;
}

/* Whether a subquery's proxy of inner is named only at compile time: a
** column of an unnamed alias labelled <alias>_<column> (the alias's name
** is numbered by the compile), or a column named so itself. */
int rt_literal_proxy(const rt_node *col) {
  while (col->kind == RT_N_COLUMN && col->a && col->owner &&
         col->owner->kind == RT_N_ALIAS && !(col->flags & RT_F_ANON))
    col = col->a;
  return col->kind == RT_N_LITERAL && col->op != RT_LIT_LABELREF;
}

static int late_name(const rt_node *inner, unsigned tablename) {
  if (inner->kind != RT_N_COLUMN || !inner->owner || !inner->name ||
      rt_literal_proxy(inner))
    return 0;
  if (inner->flags & RT_F_LATENAME) return 1;
  return tablename && inner->owner->kind == RT_N_ALIAS && !inner->owner->name;
}

/* For columns-clause entry i: 0 when its name is free, else the number
** of its "name_N" key (another column took the name before it).  A repeat
** of the same column keeps the name, as SQLAlchemy's dedupe does.  Only a
** table's columns are renamed so, and only by each other: the SELECT
** writes column("q") twice as "q, q", and the subquery's columns are then
** both q (its outer SELECT labels the second). */
static int dedupe_number(const rt_node *cols, int i) {
  const rt_node *e = cols->kids[i];
  const char *nm = e->kind == RT_N_COLUMN && e->owner ? e->name : NULL;
  int j, k, first = -1, num = 0;
  if (!nm) return 0;
  for (j = 0; j < i; j++) {
    const rt_node *o = cols->kids[j];
    if (o->kind != RT_N_COLUMN || !o->owner || !o->name ||
        strcmp(o->name, nm) != 0)
      continue;
    if (first < 0) {
      first = j;
      continue;
    }
    /* a distinct earlier duplicate takes a number */
    for (k = first; k < j; k++)
      if (cols->kids[k] == o) break;
    if (k == j) num++;
  }
  if (first < 0 || cols->kids[first] == e) return 0;
  for (j = first; j < i; j++)
    if (cols->kids[j] == e) return 0; /* a repeat */
  return num + 1;
}

rt_node *rt_alias(rt_node *element, const char *name, int flags) {
  rt_node *a, *cols;
  const rt_node *first = element;
  int i;
  if (!element) return NULL;
  a = rt_node_new(RT_N_ALIAS);
  if (!a) {
    rt_unref(element);
    return NULL;
  }
  a->a = element;
  a->flags = (unsigned)flags;
  if (name && !(a->name = rt_strdup(name))) {
    rt_unref(a);
    return NULL;
  }
  if (element->kind == RT_N_SELECT || element->kind == RT_N_COMPOUND) {
    a->flags |= RT_F_SUBQUERY;
    cols = select_columns(element);
  } else if (element->kind == RT_N_TEXT) {
    /* text():columns(...): the columns it was given are what it exposes */
    a->flags |= RT_F_SUBQUERY;
    cols = rt_list_new();
    for (i = 0; cols && element->a && i < element->a->n; i++)
      if (rt_node_push(cols, rt_ref(element->a->kids[i])) != 0) {
        rt_unref(cols);
        cols = NULL;
      }
  } else if (element->kind == RT_N_INSERT || element->kind == RT_N_UPDATE ||
             element->kind == RT_N_DELETE) {
    /* a CTE of INSERT / UPDATE / DELETE: the columns it RETURNs */
    rt_node *ret = element->kids[RT_D_RETURNING];
    cols = rt_list_new();
    for (i = 0; cols && ret && i < ret->n; i++) {
      rt_node *r = ret->kids[i];
      int bad = r->kind == RT_N_TABLE || r->kind == RT_N_ALIAS
                    ? rt_expand_columns(r, cols)
                    : rt_node_push(cols, rt_ref(r));
      if (bad) {
        rt_unref(cols);
        cols = NULL;
      }
    }
  } else {
    cols = rt_list_new();
    if (cols && rt_expand_columns(element, cols) != 0) {
      rt_unref(cols);
      cols = NULL;
    }
  }
  if (!cols) {
    rt_unref(a);
    return NULL;
  }
  /* a compound's columns are named as its first select names them */
  while (first->kind == RT_N_COMPOUND && first->kids[RT_S_COLUMNS]->n > 0)
    first = first->kids[RT_S_COLUMNS]->kids[0];
  /* proxies: named like the inner column, owned by the alias */
  for (i = 0; i < cols->n; i++) {
    int dup;
    rt_node *inner = cols->kids[i];
    rt_node *p = rt_node_new(RT_N_COLUMN);
    const char *nm = rt_expr_name(inner);
    if (!p || rt_node_push(a, p) != 0) {
      rt_unref(cols);
      rt_unref(a);
      return NULL;
    }
    p->a = rt_ref(inner);
    if (late_name(inner, (element->flags | first->flags) & RT_F_LS_TABLENAME))
      p->flags |= RT_F_LATENAME;
    if ((element->flags | first->flags) & RT_F_LS_TABLENAME &&
        inner->kind == RT_N_COLUMN && inner->owner && inner->owner->name &&
        !(inner->flags & RT_F_LATENAME) && !rt_literal_proxy(inner))
      p->name = tq_label(inner);
    else if (p->flags & RT_F_LATENAME)
      p->name = rt_strdup(nm);
    else if (nm &&
             (element->kind == RT_N_SELECT || element->kind == RT_N_COMPOUND) &&
             !((element->flags | first->flags) & RT_F_LS_NONE) &&
             (dup = dedupe_number(cols, i)) > 0) {
      size_t len = strlen(nm) + 16;
      if ((p->name = malloc(len)) != NULL)
        snprintf(p->name, len, "%s_%d", nm, dup);
      p->flags |= RT_F_DEDUPED;
    } else
      p->name = rt_strdup(
          nm ? nm
             : (rt_cast_wrapped(inner)->kind == RT_N_FUNC
                    ? rt_func_basename(rt_cast_wrapped(inner))
                    : "anon"));
    if (!nm) p->flags |= RT_F_ANON;
    p->flags |= inner->flags & RT_F_PK;
    p->type = rt_type_ref(inner->type);
    p->owner = a;
    p->refs = 0;
    if (!p->name) {
      rt_unref(cols);
      rt_unref(a);
      return NULL;
    }
  }
  rt_unref(cols);
  return a;
}

rt_node *rt_scalar_subquery(rt_node *select) {
  rt_node *n;
  if (!select) return NULL;
  n = rt_node_new(RT_N_SCALARSUB);
  if (!n) {
    rt_unref(select);
    return NULL;
  }
  n->a = select;
  if (select->kind == RT_N_SELECT && select->kids[RT_S_COLUMNS]->n > 0)
    n->type = rt_type_ref(select->kids[RT_S_COLUMNS]->kids[0]->type);
  else if (select->kind == RT_N_TEXT && select->a && select->a->n > 0)
    n->type = rt_type_ref(select->a->kids[0]->type);
  return n;
}

rt_node *rt_exists(rt_node *select) {
  rt_node *n = rt_unary(RT_OP_EXISTS, select);
  return n;
}

typedef struct replacing {
  rt_node *from, *to, *tocols;
} replacing;

static rt_node *replace_one(rt_node *n, void *ud, int *failed) {
  replacing *r = ud;
  int i;
  if (n == r->from) return rt_ref(r->to);
  if (n->kind == RT_N_COLUMN && n->owner == r->from && n->name) {
    for (i = 0; i < r->tocols->n; i++) {
      rt_node *k = r->tocols->kids[i];
      if (k->kind == RT_N_COLUMN && k->name && strcmp(k->name, n->name) == 0)
        return rt_ref(k);
    }
    return NULL;
  }
  (void)failed;
  return NULL;
}

rt_node *rt_replace_selectable(rt_node *s, rt_node *from, rt_node *to) {
  replacing r;
  rt_node *out;
  r.from = from;
  r.to = to;
  r.tocols = rt_list_new();
  if (!r.tocols || rt_expand_columns(to, r.tocols) != 0) {
    rt_unref(r.tocols);
    return NULL;
  }
  out = rt_replace_nodes(s, replace_one, &r);
  rt_unref(r.tocols);
  return out;
}
