/*
** schema.c -- tables, columns and constraints; foreign-key join inference.
*/
#include "schema.h"
#include "strbuf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rt_metadata *rt_metadata_new(void) {
  return calloc(1, sizeof(rt_metadata));
}

void rt_metadata_free(rt_metadata *md) {
  int i;
  if (!md) return;
  for (i = 0; i < md->n; i++) {
    ((rt_tabledata *)md->tables[i]->ext)->md = NULL;
    rt_unref(md->tables[i]);
  }
  free(md->tables);
  free(md->schema);
  free(md);
}

/* The foreign keys of md's tables into t, which is leaving md, keep it
** as their target (see rt_constraint.orphaned). */
static void orphan_fks(rt_metadata *md, rt_node *t) {
  int i, k;
  for (i = 0; i < md->n; i++) {
    rt_tabledata *d = md->tables[i]->ext;
    for (k = 0; d && k < d->ncons; k++)
      if (d->cons[k].kind == RT_CON_FK && md->tables[i] != t &&
          rt_fk_target(md->tables[i], d->cons[k].reftable) == t)
        d->cons[k].orphaned = 1;
  }
}

void rt_metadata_remove(rt_metadata *md, rt_node *t) {
  int i;
  if (!md) return;
  for (i = 0; i < md->n; i++)
    if (md->tables[i] == t) {
      orphan_fks(md, t);
      ((rt_tabledata *)t->ext)->md = NULL;
      memmove(md->tables + i, md->tables + i + 1,
              sizeof *md->tables * (size_t)(md->n - i - 1));
      md->n--;
      rt_unref(t);
      return;
    }
}

/*
** Keys are texts joined from up to three parts (a schema, ".", a name);
** they are compared without being built.  NULL parts are left out.
*/
static int parts_cmp(const char *const pa[3], const char *const pb[3]) {
  int ia = 0, ib = 0;
  const char *x = "", *y = "";
  for (;;) {
    while (!*x && ia < 3) x = pa[ia] ? pa[ia] : "", ia++;
    while (!*y && ib < 3) y = pb[ib] ? pb[ib] : "", ib++;
    if (!*x || !*y || *x != *y) return (unsigned char)*x - (unsigned char)*y;
    x++, y++;
  }
}

/* The parts of table t's key: "schema.name", or the bare name */
static void key_parts(const rt_node *t, const char *p[3]) {
  const rt_tabledata *d = t->ext;
  p[0] = d ? d->schema : NULL;
  p[1] = p[0] ? "." : NULL;
  p[2] = t->name;
}

int rt_table_has_key(const rt_node *t, const char *key) {
  const char *p[3], *k[3] = {NULL, NULL, key};
  key_parts(t, p);
  return parts_cmp(p, k) == 0;
}

rt_node *rt_metadata_find(rt_metadata *md, const char *key) {
  int i;
  if (!md) return NULL;
  for (i = 0; i < md->n; i++)
    if (rt_table_has_key(md->tables[i], key)) return md->tables[i];
  return NULL;
}

/*
** The key a foreign key's target names, as SQLAlchemy's ForeignKey
** resolves it: "schema.table" as written, or a bare table name, which
** takes the MetaData's schema when it has one.
*/
static void target_parts(const rt_node *t, const char *ref, const char *p[3]) {
  const rt_tabledata *d = t->ext;
  const char *ms = d && d->md && !strchr(ref, '.') ? d->md->schema : NULL;
  p[0] = ms;
  p[1] = ms ? "." : NULL;
  p[2] = ref;
}

rt_node *rt_fk_target(const rt_node *t, const char *ref) {
  const rt_tabledata *d = t->ext;
  const char *want[3], *have[3];
  int i;
  target_parts(t, ref, want);
  key_parts(t, have);
  /* itself first: a table no MetaData holds may still refer to itself */
  if (parts_cmp(want, have) == 0) return (rt_node *)t;
  if (!d || !d->md) return NULL;
  for (i = 0; i < d->md->n; i++) {
    key_parts(d->md->tables[i], have);
    if (parts_cmp(want, have) == 0) return d->md->tables[i];
  }
  return NULL;
}

rt_node *rt_fk_resolve(const rt_node *t, const char *col, const char *ref,
                       const char *refcol, rt_error *err) {
  rt_node *target = rt_fk_target(t, ref), *c;
  if (!target) {
    const char *p[3];
    target_parts(t, ref, p);
    rt_error_set(err, RT_ENOREFTABLE,
                 "Foreign key associated with column '%s.%s' could not find "
                 "table '%s%s%s' with which to generate a foreign key to "
                 "target column '%s'",
                 t->name, col, p[0] ? p[0] : "", p[1] ? p[1] : "", p[2],
                 refcol);
    return NULL;
  }
  c = rt_table_column(target, refcol);
  if (!c)
    rt_error_set(err, RT_ENOREFCOLUMN,
                 "Could not initialize target column for ForeignKey '%s.%s' "
                 "on table '%s': table '%s' has no column named '%s'",
                 ref, refcol, t->name, target->name, refcol);
  return c;
}

int rt_fk_check(const rt_node *t, const rt_constraint *k, rt_error *err) {
  int i;
  if (k->orphaned) return 0;
  for (i = 0; i < k->ncols; i++)
    if (k->cols[i] && k->refcols[i] &&
        !rt_fk_resolve(t, k->cols[i], k->reftable, k->refcols[i], err))
      return -1;
  return 0;
}

/*
** Tables in foreign-key order as SQLAlchemy's sort_tables_and_constraints
** gives them: dependencies are the foreign keys but those with use_alter
** (and, dropping, none that DROP CONSTRAINT could not take out later);
** the tables come in rounds, each taking (in the order given) every table
** whose referenced tables came in earlier rounds.  When a cycle stops the
** rounds, every table on a cycle gives up the foreign keys it may (all,
** but those the drop's filter keeps), which then are left for ALTER, and
** the rounds run again.
*/
typedef struct sortctx {
  int n;
  rt_node *const *tables; /* in the order given */
  char *dep;              /* dep[i * n + j]: table i refers to table j */
} sortctx;

static int key_cmp(const rt_node *a, const rt_node *b) {
  const char *pa[3], *pb[3];
  key_parts(a, pa);
  key_parts(b, pb);
  return parts_cmp(pa, pb);
}

static int index_in(const sortctx *s, const rt_node *t) {
  int i;
  for (i = 0; i < s->n; i++)
    if (s->tables[i] == t) return i;
  return -1;
}

/* Can table `to` be reached from table `from` through dependencies? */
static int reaches(const sortctx *s, int from, int to, char *seen) {
  int j;
  for (j = 0; j < s->n; j++) {
    if (!s->dep[from * s->n + j] || seen[j]) continue;
    seen[j] = 1;
    if (j == to || reaches(s, j, to, seen)) return 1;
  }
  return 0;
}

/* The rounds; 0, or -1 when a cycle stops them */
static int sort_rounds(const sortctx *s, rt_node **out, char *done, char *now) {
  int k = 0, i, j;
  memset(done, 0, (size_t)s->n);
  while (k < s->n) {
    int got = 0;
    for (i = 0; i < s->n; i++) {
      now[i] = 0;
      if (done[i]) continue;
      for (j = 0; j < s->n; j++)
        if (s->dep[i * s->n + j] && !done[j]) break;
      if (j == s->n) now[i] = 1, got = 1;
    }
    if (!got) return -1;
    for (i = 0; i < s->n; i++)
      if (now[i]) done[i] = 1, out[k++] = s->tables[i];
  }
  return 0;
}

/* Mark in cyc the tables on a cycle; the names of those (schema.name),
** sorted and joined by ", ", replace *names. */
static int cycle_tables(const sortctx *s, char *cyc, char *seen, char **names) {
  rt_strbuf b;
  int i, j, k, m = 0;
  const rt_node **on = malloc(sizeof *on * ((size_t)s->n + 1));
  if (!on) return -1;
  for (i = 0; i < s->n; i++) {
    memset(seen, 0, (size_t)s->n);
    cyc[i] = (char)reaches(s, i, i, seen);
    if (!cyc[i]) continue;
    for (j = m; j > 0 && key_cmp(on[j - 1], s->tables[i]) > 0; j--)
      on[j] = on[j - 1];
    on[j] = s->tables[i];
    m++;
  }
  rt_sb_init(&b);
  for (k = 0; k < m; k++) {
    const char *p[3];
    key_parts(on[k], p);
    if (k) rt_sb_adds(&b, ", ");
    for (j = 0; j < 3; j++)
      if (p[j]) rt_sb_adds(&b, p[j]);
  }
  rt_sb_adds(&b, "");
  free(on);
  free(*names);
  *names = rt_sb_take(&b);
  return *names ? 0 : -1;
}

/* Leave constraint k of table t for ALTER (once). */
static int leave_fk(rt_fksort *o, rt_node *t, int k) {
  int i;
  for (i = 0; i < o->nfks; i++)
    if (o->fk_tables[i] == t && o->fk_cons[i] == k) return 0;
  o->fk_tables[o->nfks] = t;
  o->fk_cons[o->nfks++] = k;
  return 0;
}

/* May the drop's filter take constraint k out of the dependencies? */
static int removable(const rt_constraint *k, int flags) {
  if (!(flags & RT_FKSORT_DROP)) return 1;
  return !(flags & RT_FKSORT_NOALTER) && k->name != NULL;
}

void rt_fksort_free(rt_fksort *o) {
  free(o->tables);
  free(o->fk_tables);
  free(o->fk_cons);
  free(o->cycle_names);
  memset(o, 0, sizeof *o);
}

int rt_fk_sort(rt_node *const *tables, int n, int flags, rt_fksort *o,
               rt_error *err) {
  sortctx s;
  char *flagbuf;
  int i, j, k, nfk = 0;
  memset(o, 0, sizeof *o);
  for (i = 0; i < n; i++) {
    rt_tabledata *d = tables[i]->ext;
    for (k = 0; d && k < d->ncons; k++) nfk += d->cons[k].kind == RT_CON_FK;
  }
  s.n = n;
  s.tables = tables;
  s.dep = calloc((size_t)n * (size_t)n + 1, 1);
  flagbuf = malloc((size_t)n * 3 + 1);
  o->tables = malloc(sizeof(rt_node *) * ((size_t)n + 1));
  o->fk_tables = malloc(sizeof(rt_node *) * ((size_t)nfk + 1));
  o->fk_cons = malloc(sizeof(int) * ((size_t)nfk + 1));
  if (!s.dep || !flagbuf || !o->tables || !o->fk_tables || !o->fk_cons)
    goto oom;
  for (i = 0; i < n; i++) {
    rt_tabledata *d = tables[i]->ext;
    for (k = 0; d && k < d->ncons; k++) {
      rt_constraint *c = &d->cons[k];
      rt_node *ref;
      if (c->kind != RT_CON_FK) continue;
      if (c->use_alter) {
        leave_fk(o, tables[i], k);
        continue;
      }
      ref = rt_fk_target(tables[i], c->reftable);
      /* (SQLAlchemy's fkc.referred_table: its first column resolved) */
      if ((flags & RT_FKSORT_RESOLVE) && !c->orphaned && c->ncols &&
          c->cols[0] && c->refcols[0] &&
          !rt_fk_resolve(tables[i], c->cols[0], c->reftable, c->refcols[0],
                         err)) {
        free(s.dep), free(flagbuf);
        rt_fksort_free(o);
        return -1;
      }
      if (ref && ref != tables[i] && (j = index_in(&s, ref)) >= 0)
        s.dep[i * n + j] = 1;
    }
  }
  if (sort_rounds(&s, o->tables, flagbuf, flagbuf + n) == 0) goto done;
  o->cycle = 1;
  if (cycle_tables(&s, flagbuf + 2 * n, flagbuf, &o->cycle_names) != 0)
    goto oom;
  for (i = 0; i < n; i++) {
    rt_tabledata *d = tables[i]->ext;
    if (!flagbuf[2 * n + i]) continue;
    for (k = 0; d && k < d->ncons; k++) {
      rt_constraint *c = &d->cons[k];
      rt_node *ref;
      if (c->kind != RT_CON_FK || !removable(c, flags)) continue;
      leave_fk(o, tables[i], k);
      ref = rt_fk_target(tables[i], c->reftable);
      if (ref && (j = index_in(&s, ref)) >= 0) s.dep[i * n + j] = 0;
    }
  }
  if (sort_rounds(&s, o->tables, flagbuf, flagbuf + n) != 0) {
    /* stuck: the tables as given, and the cycle that is left */
    o->stuck = 1;
    memcpy(o->tables, tables, sizeof(rt_node *) * (size_t)n);
    if (cycle_tables(&s, flagbuf + 2 * n, flagbuf, &o->cycle_names) != 0)
      goto oom;
  }
done:
  o->ntables = n;
  free(s.dep), free(flagbuf);
  return 0;
oom:
  free(s.dep), free(flagbuf);
  rt_fksort_free(o);
  rt_error_set(err, RT_EMEMORY, "out of memory");
  return -1;
}

int rt_metadata_sort(rt_metadata *md, int flags, rt_fksort *o, rt_error *err) {
  rt_node **keyed = malloc(sizeof(rt_node *) * ((size_t)md->n + 1));
  int i, j, rc;
  if (!keyed) {
    memset(o, 0, sizeof *o);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  /* insertion sort by key: MetaData holds few tables */
  for (i = 0; i < md->n; i++) {
    rt_node *t = md->tables[i];
    for (j = i; j > 0 && key_cmp(keyed[j - 1], t) > 0; j--)
      keyed[j] = keyed[j - 1];
    keyed[j] = t;
  }
  rc = rt_fk_sort(keyed, md->n, flags, o, err);
  free(keyed);
  return rc;
}

int rt_metadata_sorted(rt_metadata *md, rt_node ***out) {
  rt_error err = RT_ERROR_INIT;
  rt_fksort o;
  if (rt_metadata_sort(md, 0, &o, &err) != 0) {
    rt_error_clear(&err);
    return -1;
  }
  *out = o.tables;
  o.tables = NULL;
  rt_fksort_free(&o);
  return md->n;
}

rt_node *rt_table_new(rt_metadata *md, const char *name, rt_error *err) {
  return rt_table_new_in(md, NULL, name, err);
}

/* Is key schema.name (or name) taken in md?  The error says so. */
static int key_taken(rt_metadata *md, const char *schema, const char *name,
                     rt_error *err) {
  const char *want[3] = {schema, schema ? "." : NULL, name}, *have[3];
  int i;
  for (i = 0; md && i < md->n; i++) {
    key_parts(md->tables[i], have);
    if (parts_cmp(want, have) == 0) {
      rt_error_set(err, RT_EINVALIDREQUEST,
                   "Table '%s%s%s' is already defined for this MetaData "
                   "instance.  Specify 'extend_existing=True' to redefine "
                   "options and columns on an existing Table object.",
                   schema ? schema : "", schema ? "." : "", name);
      return 1;
    }
  }
  return 0;
}

rt_node *rt_table_new_in(rt_metadata *md, const char *schema, const char *name,
                         rt_error *err) {
  rt_node *t;
  rt_tabledata *d;
  if (key_taken(md, schema, name, err)) return NULL;
  t = rt_node_new(RT_N_TABLE);
  d = calloc(1, sizeof *d);
  if (!t || !d || !(t->name = rt_strdup(name)) ||
      (schema && !(d->schema = rt_strdup(schema)))) {
    if (d) free(d->schema);
    free(d);
    rt_unref(t);
    rt_error_set(err, RT_EMEMORY, "out of memory");
    return NULL;
  }
  t->ext = d;
  if (md) {
    if (md->n == md->cap) {
      int cap = md->cap ? md->cap * 2 : 8;
      rt_node **p = realloc(md->tables, sizeof(rt_node *) * (size_t)cap);
      if (!p) {
        rt_unref(t);
        rt_error_set(err, RT_EMEMORY, "out of memory");
        return NULL;
      }
      md->tables = p;
      md->cap = cap;
    }
    md->tables[md->n++] = rt_ref(t);
    d->md = md;
  } else
    t->flags |= RT_F_LIGHT;
  return t;
}

static _Atomic uint64_t epoch = 1;

uint64_t rt_schema_epoch(void) {
  return atomic_load_explicit(&epoch, memory_order_relaxed);
}

void rt_schema_changed(void) {
  atomic_fetch_add_explicit(&epoch, 1, memory_order_relaxed);
}

rt_node *rt_column_new(const char *name, rt_type *type) {
  rt_node *c = rt_node_new(RT_N_COLUMN);
  if (!c) return NULL;
  c->name = rt_strdup(name);
  c->type = rt_type_ref(type);
  if (name && !c->name) {
    rt_unref(c);
    return NULL;
  }
  return c;
}

rt_coldata *rt_coldata_get(rt_node *col) {
  if (!col->ext) col->ext = calloc(1, sizeof(rt_coldata));
  return col->ext;
}

void rt_coldata_free(rt_coldata *d) {
  free(d->key);
  free(d->comment);
  free(d->seqname);
  free(d->seqschema);
  free(d->identity);
  rt_unref(d->def);
  rt_unref(d->server_default);
  rt_unref(d->onupdate);
  rt_unref(d->server_onupdate);
  free(d);
}

void rt_constraint_clear(rt_constraint *c) {
  int i;
  /* a constraint may be cleared half-built: ncols set, lists missing */
  for (i = 0; i < c->ncols; i++) {
    if (c->cols) free(c->cols[i]);
    if (c->refcols) free(c->refcols[i]);
    if (c->exprs) rt_unref(c->exprs[i]);
  }
  free(c->cols);
  free(c->exprs);
  free(c->refcols);
  free(c->name);
  free(c->reftable);
  free(c->ondelete);
  free(c->onupdate);
  free(c->match);
  rt_unref(c->pg_where);
  rt_unref(c->sqlite_where);
  free(c->pg_using);
  for (i = 0; i < c->npg_include; i++) free(c->pg_include[i]);
  free(c->pg_include);
  free(c->my_prefix);
  free(c->my_using);
  free(c->my_parser);
  free(c->my_length);
  free(c->initially);
  free(c->sqltext);
  rt_unref(c->check);
  memset(c, 0, sizeof *c);
}

void rt_tabledata_free(rt_tabledata *d) {
  int i;
  for (i = 0; i < d->nretired; i++) {
    /* its holders were counted on the table, which is going */
    d->retired[i]->owner = NULL;
    d->retired[i]->refs = 1;
    rt_unref(d->retired[i]);
  }
  free(d->retired);
  for (i = 0; i < d->ncons; i++) rt_constraint_clear(&d->cons[i]);
  free(d->cons);
  free(d->schema);
  free(d->pk_name);
  free(d->comment);
  for (i = 0; i < 2 * d->nmysql; i++) free(d->mysql[i]);
  free(d->mysql);
  free(d);
}

/* An alias's column proxies its inner column, and takes its key too. */
const char *rt_column_key(const rt_node *col) {
  rt_coldata *d = col->kind == RT_N_COLUMN ? col->ext : NULL;
  if (!d && col->kind == RT_N_COLUMN && col->a && col->a->kind == RT_N_COLUMN)
    return rt_column_key(col->a);
  return d && d->key ? d->key : col->name;
}

rt_node *rt_table_column(const rt_node *t, const char *key) {
  int i;
  for (i = 0; i < t->n; i++)
    if (t->kids[i] && strcmp(rt_column_key(t->kids[i]), key) == 0)
      return t->kids[i];
  return NULL;
}

int rt_table_add_column(rt_node *t, rt_node *col, rt_error *err) {
  if (col->owner) {
    rt_error_set(err, RT_EARGUMENT,
                 "Column object '%s' already assigned to Table '%s'", col->name,
                 col->owner->name);
    return -1;
  }
  if (rt_table_column(t, rt_column_key(col))) {
    rt_error_set(err, RT_EARGUMENT,
                 "A column with name '%s' is already present in table '%s'.",
                 col->name, t->name);
    return -1;
  }
  /* the table takes over the caller's reference, but only on success:
  ** a failed push drops one, so give it one to drop */
  if (rt_node_push(t, rt_ref(col)) != 0)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  col->refs--;
  col->owner = t;
  t->refs += col->refs; /* its holders now hold the table */
  col->refs = 0;
  col->flags &= ~(unsigned)RT_F_LIGHT;
  rt_schema_changed();
  return 0;
}

int rt_table_check_replace(const rt_node *t, const rt_node *col,
                           rt_error *err) {
  rt_node *old = rt_table_column(t, rt_column_key(col));
  if (old == col) return 0;
  if (col->owner) {
    rt_error_set(err, RT_EARGUMENT,
                 "Column object '%s' already assigned to Table '%s'", col->name,
                 col->owner->name);
    return -1;
  }
  if (old && (old->flags & RT_F_PK) && !(col->flags & RT_F_PK)) {
    rt_error_set(err, RT_EARGUMENT,
                 "Trying to redefine primary-key column '%s' as a "
                 "non-primary-key column on table '%s'",
                 rt_column_key(col), t->name);
    return -1;
  }
  return 0;
}

int rt_table_replace_column(rt_node *t, rt_node *col, rt_error *err) {
  rt_tabledata *d = t->ext;
  rt_node *old = rt_table_column(t, rt_column_key(col));
  rt_node **p;
  int i;
  if (rt_table_check_replace(t, col, err) != 0) return -1;
  if (old == col) return 0;
  if (!old) return rt_table_add_column(t, col, err);
  p = realloc(d->retired, sizeof *p * (size_t)(d->nretired + 1));
  if (!p) return rt_error_set(err, RT_EMEMORY, "out of memory");
  d->retired = p;
  d->retired[d->nretired++] = old;
  for (i = 0; t->kids[i] != old; i++)
    ;
  t->kids[i] = col;
  col->owner = t;
  t->refs += col->refs;
  col->refs = 0;
  col->flags &= ~(unsigned)RT_F_LIGHT;
  return 0;
}

/*
** A copy of the tree e where `swap` replaced the columns it takes (it
** returns 1 and sets *out, NULL when out of memory); tables, other
** columns and leaves are shared.  NULL when out of memory.
*/
typedef int (*column_swap)(rt_node *col, rt_node *t, rt_node **out);

static rt_node *rebuilt(rt_node *e, rt_node *t, column_swap swap) {
  rt_node *n;
  int i;
  if (e->kind == RT_N_COLUMN && swap(e, t, &n)) return n;
  if (e->kind == RT_N_TABLE || e->kind == RT_N_COLUMN ||
      (!e->a && !e->b && !e->c && e->n == 0))
    return rt_ref(e);
  if (!(n = rt_node_copy(e))) return NULL;
  if (e->a) rt_unref(n->a), n->a = rebuilt(e->a, t, swap);
  if (e->b) rt_unref(n->b), n->b = rebuilt(e->b, t, swap);
  if (e->c) rt_unref(n->c), n->c = rebuilt(e->c, t, swap);
  for (i = 0; i < n->n; i++) {
    rt_unref(n->kids[i]);
    n->kids[i] = rebuilt(e->kids[i], t, swap);
  }
  if ((e->a && !n->a) || (e->b && !n->b) || (e->c && !n->c)) {
    rt_unref(n);
    return NULL;
  }
  for (i = 0; i < n->n; i++)
    if (!n->kids[i]) {
      rt_unref(n);
      return NULL;
    }
  return n;
}

static int detach_column(rt_node *col, rt_node *t, rt_node **out) {
  if (col->owner != t) return 0;
  *out = rt_column_new(col->name, col->type);
  return 1;
}

/*
** A copy of expression e in which t's own columns are stand-ins of the
** same name and type that belong to no table (a new reference; NULL when
** out of memory).  A table's constraints keep their expressions so: a
** reference to one of its columns counts for the table itself, and would
** keep it alive for ever.
*/
static rt_node *detached(rt_node *e, rt_node *t) {
  return rebuilt(e, t, detach_column);
}

/* a free column becomes t's column of its name, when t has one */
static int reattach_column(rt_node *col, rt_node *t, rt_node **out) {
  rt_node *c;
  if (col->owner || !col->name) return 0;
  c = rt_table_column(t, col->name);
  *out = rt_ref(c ? c : col);
  return 1;
}

rt_node *rt_reattached(rt_node *e, rt_node *t) {
  return rebuilt(e, t, reattach_column);
}

/* *slot's expression detached from t (see detached); -1 out of memory */
static int detach_slot(rt_node **slot, rt_node *t) {
  rt_node *e = *slot;
  if (!e) return 0;
  *slot = detached(e, t);
  rt_unref(e);
  return *slot ? 0 : -1;
}

int rt_table_add_constraint(rt_node *t, rt_constraint *c) {
  rt_tabledata *d = t->ext;
  rt_constraint *p;
  int i;
  if (c->check) c->check_serial = c->check->serial;
  for (i = 0; c->exprs && i < c->ncols; i++)
    if (detach_slot(&c->exprs[i], t) != 0) return -1;
  if (detach_slot(&c->check, t) != 0 || detach_slot(&c->pg_where, t) != 0 ||
      detach_slot(&c->sqlite_where, t) != 0)
    return -1;
  p = realloc(d->cons, sizeof *p * (size_t)(d->ncons + 1));
  if (!p) return -1;
  d->cons = p;
  d->cons[d->ncons++] = *c;
  memset(c, 0, sizeof *c);
  rt_schema_changed();
  return 0;
}

void rt_table_resolve_types(rt_node *t) {
  rt_tabledata *d = t->ext;
  int i, j;
  for (i = 0; d && i < d->ncons; i++) {
    rt_constraint *c = &d->cons[i];
    rt_node *ref;
    if (c->kind != RT_CON_FK) continue;
    ref = rt_fk_target(t, c->reftable);
    if (!ref) continue;
    for (j = 0; j < c->ncols; j++) {
      rt_node *col = rt_table_column(t, c->cols[j]);
      rt_node *rc = rt_table_column(ref, c->refcols[j]);
      if (col && rc && !col->type && rc->type) {
        col->type = rt_type_ref(rc->type);
        rt_schema_changed();
      }
    }
  }
}

static int has_fk(const rt_node *t, const rt_node *col) {
  rt_tabledata *d = t->ext;
  int i, j;
  for (i = 0; d && i < d->ncons; i++)
    if (d->cons[i].kind == RT_CON_FK)
      for (j = 0; j < d->cons[i].ncols; j++)
        if (strcmp(d->cons[i].cols[j], col->name) == 0) return 1;
  return 0;
}

/*
** Whether a column of the "auto" kind (or "ignore_fk") may autoincrement,
** as SQLAlchemy's PrimaryKeyConstraint._autoincrement_column decides: an
** integer or numeric type, no client default but a Sequence, no server
** default, and no foreign key unless told to ignore it.
*/
static int autoinc_candidate(const rt_node *t, const rt_node *col) {
  const rt_coldata *d = col->ext;
  if (!rt_type_is_numeric(col->type)) return 0;
  if (d && (d->def || d->lua_default)) return 0;
  if (d && d->server_default) return 0;
  return !has_fk(t, col) || (d && d->autoinc_ignore_fk);
}

/*
** SQLAlchemy's rule: a single-column primary key autoincrements when it is
** marked autoincrement = true, or is "auto"/"ignore_fk" and a candidate;
** of a composite key only the one column marked true does.
*/
rt_node *rt_table_autoinc(const rt_node *t) {
  rt_node *pk = NULL, *marked = NULL;
  int i, npk = 0;
  for (i = 0; i < t->n; i++) {
    rt_node *col = t->kids[i];
    if (!(col->flags & RT_F_PK)) continue;
    npk++;
    pk = col;
    if ((col->flags & RT_F_AUTOINC_YES) && !marked) marked = col;
  }
  if (npk != 1) return marked;
  if (pk->flags & RT_F_AUTOINC_YES) return pk;
  if (pk->flags & RT_F_AUTOINC_NO) return NULL;
  return autoinc_candidate(t, pk) ? pk : NULL;
}

int rt_column_is_autoinc(const rt_node *t, const rt_node *col) {
  if (!(col->flags & RT_F_PK) || (col->flags & RT_F_AUTOINC_NO)) return 0;
  return rt_table_autoinc(t) == col;
}

int rt_column_is_serial(const rt_node *t, const rt_node *col) {
  const rt_coldata *d = col->ext;
  if (!rt_column_is_autoinc(t, col)) return 0;
  return !(d && (d->seqname || d->identity || d->def || d->lua_default));
}

rt_node *rt_base_table(rt_node *from) {
  while (from && from->kind == RT_N_ALIAS && !(from->flags & RT_F_SUBQUERY))
    from = from->a;
  return from && from->kind == RT_N_TABLE ? from : NULL;
}

/* The column of `from` (a table or an alias of one) named `name`. */
static rt_node *from_column(rt_node *from, const char *name) {
  int i;
  for (i = 0; i < from->n; i++)
    if (strcmp(from->kids[i]->name, name) == 0) return from->kids[i];
  return NULL;
}

/* Leaf tables of a join tree, in order. */
static void leaves(rt_node *from, rt_node **out, int *n, int max) {
  if (from->kind == RT_N_JOIN) {
    leaves(from->a, out, n, max);
    leaves(from->b, out, n, max);
  } else if (*n < max)
    out[(*n)++] = from;
}

/* The foreign-key constraints a join condition uses: one constraint
** met from both sides (a table joined to an alias of itself) counts
** once, its conditions ANDed, as SQLAlchemy groups them. */
typedef struct fkset {
  const rt_constraint *v[32];
  int n;
} fkset;

/* 1 when c is new to the set */
static int fkset_add(fkset *s, const rt_constraint *c) {
  int i;
  for (i = 0; i < s->n; i++)
    if (s->v[i] == c) return 0;
  if (s->n < 32) s->v[s->n++] = c;
  return 1;
}

static int fk_conds_proxied(rt_node *a, rt_node *b, rt_node **conds, int *nc,
                            int max, fkset *set);

/* Conditions for every FK of `a` that points at `b`, appended to conds;
** the number of constraints new to `set`. */
static int fk_conds(rt_node *a, rt_node *b, rt_node **conds, int *nc, int max,
                    fkset *set) {
  rt_node *ta = rt_base_table(a), *tb = rt_base_table(b);
  rt_tabledata *d;
  int i, j, found = 0;
  if (!ta || !tb) {
    /* a subquery: by the tables its columns come from */
    if (a->kind != RT_N_TABLE && a->kind != RT_N_ALIAS) return 0;
    if (b->kind != RT_N_TABLE && b->kind != RT_N_ALIAS) return 0;
    return fk_conds_proxied(a, b, conds, nc, max, set);
  }
  d = ta->ext;
  for (i = 0; i < d->ncons; i++) {
    rt_constraint *c = &d->cons[i];
    if (c->kind != RT_CON_FK || rt_fk_target(ta, c->reftable) != tb) continue;
    found += fkset_add(set, c);
    for (j = 0; j < c->ncols && *nc < max; j++) {
      rt_node *l = from_column(b, c->refcols[j]);
      rt_node *r = from_column(a, c->cols[j]);
      if (l && r) conds[(*nc)++] = rt_binary(RT_OP_EQ, rt_ref(l), rt_ref(r));
    }
  }
  return found;
}

/* The table column a column stands for, through the proxies of aliases
** and subqueries; NULL for an expression */
static rt_node *origin(rt_node *col) {
  while (col && col->kind == RT_N_COLUMN && col->owner &&
         col->owner->kind == RT_N_ALIAS)
    col = col->a;
  return col && col->kind == RT_N_COLUMN && col->owner &&
                 col->owner->kind == RT_N_TABLE
             ? col
             : NULL;
}

/* The column selectable s exports for table column tc, or NULL */
static rt_node *exported(rt_node *s, rt_node *tc) {
  int i;
  if (!tc) return NULL;
  if (s->kind == RT_N_TABLE) return tc->owner == s ? tc : NULL;
  for (i = 0; i < s->n; i++)
    if (origin(s->kids[i]) == tc) return s->kids[i];
  return NULL;
}

/*
** fk_conds where a side is a subquery: the foreign keys of the tables
** a's columns come from, between the columns a and b export for them (as
** SQLAlchemy's subquery columns carry their table columns' keys).
*/
static int fk_conds_proxied(rt_node *a, rt_node *b, rt_node **conds, int *nc,
                            int max, fkset *set) {
  rt_node *tabs[16];
  int nt = 0, i, j, k, found = 0;
  if (a->kind == RT_N_TABLE) tabs[nt++] = a;
  for (i = 0; a->kind != RT_N_TABLE && i < a->n; i++) {
    rt_node *o = origin(a->kids[i]);
    if (!o) continue;
    for (j = 0; j < nt && tabs[j] != o->owner; j++)
      ;
    if (j == nt && nt < 16) tabs[nt++] = o->owner;
  }
  for (k = 0; k < nt; k++) {
    rt_tabledata *d = tabs[k]->ext;
    for (i = 0; d && i < d->ncons; i++) {
      rt_constraint *c = &d->cons[i];
      rt_node *ref;
      int got = 0;
      if (c->kind != RT_CON_FK) continue;
      ref = rt_fk_target(tabs[k], c->reftable);
      for (j = 0; ref && j < c->ncols && *nc < max; j++) {
        rt_node *ca = exported(a, from_column(tabs[k], c->cols[j]));
        rt_node *cb = exported(b, from_column(ref, c->refcols[j]));
        if (ca && cb) {
          conds[(*nc)++] = rt_binary(RT_OP_EQ, rt_ref(cb), rt_ref(ca));
          got = 1;
        }
      }
      if (got) found += fkset_add(set, c);
    }
  }
  return found;
}

static const char *from_name(rt_node *n, char *buf, size_t size) {
  if (n->kind == RT_N_TABLE || (n->kind == RT_N_ALIAS && n->name))
    return n->name;
  if (n->kind == RT_N_JOIN) {
    char l[64], r[64];
    snprintf(buf, size, "Join object on %s and %s",
             from_name(n->a, l, sizeof l), from_name(n->b, r, sizeof r));
    return buf;
  }
  return "anonymous subquery";
}

rt_node *rt_join_condition(rt_node *left, rt_node *right, rt_error *err) {
  rt_node *ls[32], *conds[32];
  int nl = 0, nc = 0, i, nfk = 0, found_left = 0;
  char b1[160], b2[160];
  fkset set;
  set.n = 0;
  leaves(left, ls, &nl, 32);
  /* as SQLAlchemy does, the rightmost left-hand table with a match wins */
  for (i = nl - 1; i >= 0 && !found_left; i--) {
    int before = nfk;
    nfk += fk_conds(right, ls[i], conds, &nc, 32, &set);
    nfk += fk_conds(ls[i], right, conds, &nc, 32, &set);
    if (nfk > before) found_left = 1;
  }
  if (nc == 0) {
    rt_error_set(err, RT_ENOFOREIGNKEYS,
                 "Can't find any foreign key relationships between '%s' and "
                 "'%s'.",
                 from_name(left, b1, sizeof b1),
                 from_name(right, b2, sizeof b2));
    return NULL;
  }
  if (nfk > 1) {
    for (i = 0; i < nc; i++) rt_unref(conds[i]);
    rt_error_set(err, RT_EAMBIGUOUSFKS,
                 "Can't determine join between '%s' and '%s'; tables have "
                 "more than one foreign key constraint relationship between "
                 "them. Please specify the 'onclause' of this join "
                 "explicitly.",
                 from_name(left, b1, sizeof b1),
                 from_name(right, b2, sizeof b2));
    return NULL;
  }
  if (nc == 1) return conds[0];
  return rt_boollist(RT_OP_AND, conds, nc);
}
