/*
** reflection.c -- dispatch of catalog questions to the dialects, the arena
** their answers live in, and the dependency sort of a schema's tables.
*/
#include "reflection.h"

#include <ctype.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- arena --- */

struct rt_arena_block {
  rt_arena_block *next;
  size_t used, size;
  alignas(max_align_t) char data[];
};

#define ARENA_BLOCK 4096
#define ALIGN(n)                                                               \
  (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

void *rt_arena_alloc(rt_arena *a, size_t n) {
  rt_arena_block *b = a->head;
  void *p;
  n = ALIGN(n ? n : 1);
  if (b == NULL || b->size - b->used < n) {
    size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    b = malloc(sizeof *b + size);
    if (b == NULL) {
      a->failed = 1;
      return NULL;
    }
    b->used = 0;
    b->size = size;
    b->next = a->head;
    a->head = b;
  }
  p = b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

const char *rt_arena_strndup(rt_arena *a, const char *s, size_t n) {
  char *p = rt_arena_alloc(a, n + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

const char *rt_arena_strdup(rt_arena *a, const char *s) {
  return s ? rt_arena_strndup(a, s, strlen(s)) : NULL;
}

/*
** Arrays grow by doubling into fresh arena memory; the old copy stays in
** the arena until the answer is freed, which costs little for catalog-sized
** lists and keeps ownership in one place.
*/
void *rt_arena_push(rt_arena *a, void *array_ptr, int *n, size_t size) {
  char *arr;
  /* the caller's pointer is some T *: read and write it as bytes, which
  ** is allowed whatever T is */
  memcpy(&arr, array_ptr, sizeof arr);
  /* capacity is 4, then the next power of two: full when n is one */
  if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
    char *grown = rt_arena_alloc(a, size * (size_t)(*n == 0 ? 4 : *n * 2));
    if (grown == NULL) return NULL;
    if (*n) memcpy(grown, arr, size * (size_t)*n);
    arr = grown;
    memcpy(array_ptr, &arr, sizeof arr);
  }
  return arr + size * (size_t)(*n)++;
}

int rt_names_add(rt_arena *a, rt_names *l, const char *s) {
  const char **slot = rt_arena_push(a, &l->v, &l->n, sizeof *l->v);
  if (slot == NULL) return -1;
  *slot = s ? rt_arena_strdup(a, s) : NULL;
  return s && *slot == NULL ? -1 : 0;
}

void rt_refl_init(rt_refl *r) {
  memset(r, 0, sizeof *r);
}

void rt_refl_free(rt_refl *r) {
  rt_arena_block *b = r->arena.head;
  while (b) {
    rt_arena_block *next = b->next;
    free(b);
    b = next;
  }
  rt_refl_init(r);
}

/* --- catalog queries --- */

static const char *cell_text(rt_arena *a, const rt_value *v) {
  char buf[32];
  switch (v->type) {
  case RT_V_NULL:
    return NULL;
  case RT_V_INT:
    snprintf(buf, sizeof buf, "%lld", (long long)v->u.i);
    return rt_arena_strdup(a, buf);
  case RT_V_FLOAT:
    return rt_arena_strdup(a, rt_float_repr(v->u.f, buf));
  case RT_V_BOOL:
    return rt_arena_strdup(a, v->u.b ? "1" : "0");
  default:
    return rt_arena_strndup(a, v->u.s.p, v->u.s.n);
  }
}

int rt_refl_query(rt_connection *c, rt_arena *a, const char *sql,
                  const char *const *params, int nparams, rt_rows *rows,
                  rt_error *err) {
  rt_value pv[8];
  rt_cursor *cur = NULL;
  const rt_driver *d;
  int i, rc;
  if (nparams > 8) return rt_error_set(err, RT_EARGUMENT, "too many params");
  for (i = 0; i < nparams; i++)
    pv[i] = params[i] ? rt_vtext(params[i], strlen(params[i])) : rt_vnull();
  rows->n = rows->ncols = 0;
  rows->cell = NULL;
  if (rt_connection_execute(c, sql, pv, nparams, 0, &cur, err) != 0) return -1;
  d = cur->conn->drv;
  rows->ncols = cur->ncols;
  while ((rc = d->fetch(cur, err)) == 1) {
    int ncells = rows->n * rows->ncols;
    for (i = 0; i < rows->ncols; i++) {
      rt_value v;
      const char **slot = rt_arena_push(a, &rows->cell, &ncells, sizeof *slot);
      if (slot == NULL) break;
      d->column(cur, i, &v);
      *slot = cell_text(a, &v);
      if (v.type != RT_V_NULL && *slot == NULL) break;
    }
    if (i < rows->ncols) {
      rc = rt_error_set(err, RT_EMEMORY, "out of memory");
      break;
    }
    rows->n++;
  }
  d->cursor_close(cur);
  return rc < 0 ? -1 : 0;
}

int rt_refl_truthy(const char *s) {
  return s && (strcmp(s, "1") == 0 || strcmp(s, "t") == 0 ||
               strcmp(s, "true") == 0 || strcmp(s, "YES") == 0);
}

int rt_refl_nosuchtable(rt_error *err, const char *table) {
  return rt_error_set(err, RT_ENOSUCHTABLE, "%s", table);
}

/* --- dispatch --- */

static const rt_reflector *reflector(rt_connection *c, rt_error *err) {
  static const rt_reflector *const all[] = {
      &rt_sqlite_reflector, &rt_postgresql_reflector, &rt_mysql_reflector};
  size_t i;
  for (i = 0; i < sizeof all / sizeof all[0]; i++)
    if (strcmp(all[i]->dialect, c->engine->dialect) == 0) return all[i];
  rt_error_set(err, RT_ENOTSUPPORTED, "no reflection for dialect '%s'",
               c->engine->dialect);
  return NULL;
}

static int finish(rt_refl *out, int rc, rt_error *err) {
  if (rc == 0 && out->arena.failed)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  return rc;
}

int rt_reflect_table_names(rt_connection *c, const char *schema, rt_refl *out,
                           rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  return r ? finish(out, r->table_names(c, schema, 0, out, err), err) : -1;
}

int rt_reflect_view_names(rt_connection *c, const char *schema, rt_refl *out,
                          rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  return r ? finish(out, r->table_names(c, schema, 1, out, err), err) : -1;
}

int rt_reflect_schema_names(rt_connection *c, rt_refl *out, rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  return r ? finish(out, r->schema_names(c, out, err), err) : -1;
}

int rt_reflect_has_table(rt_connection *c, const char *schema,
                         const char *table, int *exists, rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  *exists = 0;
  return r ? r->has_table(c, schema, table, exists, err) : -1;
}

/* The dialects' table-level queries answer "nothing" for a missing table;
** asking first turns that into NoSuchTableError, as SQLAlchemy 1.4 does on
** the servers (on SQLite it answers with empty results). */
static const rt_reflector *table_reflector(rt_connection *c, const char *schema,
                                           const char *table, rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  int exists = 0;
  if (r == NULL) return NULL;
  if (r->missing_is_empty) return r;
  if (r->has_table(c, schema, table, &exists, err) != 0) return NULL;
  if (!exists) {
    rt_refl_nosuchtable(err, table);
    return NULL;
  }
  return r;
}

#define TABLE_CALL(fn, field)                                                  \
  int fn(rt_connection *c, const char *schema, const char *table,              \
         rt_refl *out, rt_error *err) {                                        \
    const rt_reflector *r = table_reflector(c, schema, table, err);            \
    return r ? finish(out, r->field(c, schema, table, out, err), err) : -1;    \
  }

TABLE_CALL(rt_reflect_columns, columns)
TABLE_CALL(rt_reflect_pk, pk)
TABLE_CALL(rt_reflect_foreign_keys, fks)
TABLE_CALL(rt_reflect_indexes, indexes)
TABLE_CALL(rt_reflect_unique_constraints, uniques)
TABLE_CALL(rt_reflect_check_constraints, checks)

int rt_reflect_table_comment(rt_connection *c, const char *schema,
                             const char *table, rt_refl *out, rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  if (r && r->comment == NULL)
    return rt_error_set(err, RT_ENOTSUPPORTED,
                        "the %s dialect does not support table comments",
                        r->dialect);
  r = table_reflector(c, schema, table, err);
  return r ? finish(out, r->comment(c, schema, table, out, err), err) : -1;
}

int rt_reflect_default_schema(rt_connection *c, rt_refl *out, rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  return r ? finish(out, r->default_schema(c, out, err), err) : -1;
}

static const rt_reflector *seq_reflector(rt_connection *c, rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  if (r && r->sequences == NULL) {
    rt_error_set(err, RT_ENOTIMPLEMENTED,
                 "the %s dialect does not support sequences", r->dialect);
    return NULL;
  }
  return r;
}

int rt_reflect_sequence_names(rt_connection *c, const char *schema,
                              rt_refl *out, rt_error *err) {
  const rt_reflector *r = seq_reflector(c, err);
  return r ? finish(out, r->sequences(c, schema, NULL, out, err), err) : -1;
}

int rt_reflect_has_sequence(rt_connection *c, const char *schema,
                            const char *name, int *exists, rt_error *err) {
  const rt_reflector *r = seq_reflector(c, err);
  rt_refl tmp;
  int rc;
  *exists = 0;
  if (r == NULL) return -1;
  rt_refl_init(&tmp);
  rc = finish(&tmp, r->sequences(c, schema, name, &tmp, err), err);
  *exists = rc == 0 && tmp.names.n > 0;
  rt_refl_free(&tmp);
  return rc;
}

int rt_reflect_view_definition(rt_connection *c, const char *schema,
                               const char *view, rt_refl *out, rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  return r ? finish(out, r->view_definition(c, schema, view, out, err), err)
           : -1;
}

int rt_reflect_table(rt_connection *c, const char *schema, const char *table,
                     rt_refl *out, rt_error *err) {
  const rt_reflector *r = table_reflector(c, schema, table, err);
  if (r == NULL) return -1;
  if (r->columns(c, schema, table, out, err) != 0) return -1;
  if (out->ncols == 0) { /* SQLite's answer for a missing table */
    int exists = 0;
    if (r->has_table(c, schema, table, &exists, err) != 0) return -1;
    if (!exists) return rt_refl_nosuchtable(err, table);
  }
  if (r->pk(c, schema, table, out, err) != 0 ||
      r->fks(c, schema, table, out, err) != 0 ||
      r->indexes(c, schema, table, out, err) != 0 ||
      r->uniques(c, schema, table, out, err) != 0)
    return -1;
  return finish(out, 0, err);
}

/* --- dependency order --- */

/*
** As SQLAlchemy's Inspector does it: an edge from each referred table to
** the table whose key refers to it (self-references aside), sorted in
** layers -- each layer the tables, in name order, whose referred tables
** are all placed.  If a cycle stops that, every edge is dropped and every
** key of a table that had one is set aside into the final entry.
*/
typedef struct sortnode {
  const char *name;
  rt_refl fks;
  int placed;
} sortnode;

static int index_of(sortnode *nodes, int n, const char *name) {
  int i;
  for (i = 0; i < n; i++)
    if (strcmp(nodes[i].name, name) == 0) return i;
  return -1;
}

/* Has table i an edge: a key referring to another table (listed or not,
** and whatever its schema, as SQLAlchemy compares names only)? */
static int depends(sortnode *nodes, int i) {
  int k;
  for (k = 0; k < nodes[i].fks.nfks; k++)
    if (strcmp(nodes[i].fks.fks[k].reftable, nodes[i].name) != 0) return 1;
  return 0;
}

static int sort_layers(sortnode *nodes, int n, int use_edges, int *order) {
  int done = 0;
  while (done < n) {
    int i, k, layer = 0, *mark = order + done;
    for (i = 0; i < n; i++) {
      int ready = !nodes[i].placed;
      for (k = 0; ready && use_edges && k < nodes[i].fks.nfks; k++) {
        const rt_refl_fk *fk = &nodes[i].fks.fks[k];
        int j = index_of(nodes, n, fk->reftable);
        if (j >= 0 && j != i && !nodes[j].placed) ready = 0;
      }
      if (ready) mark[layer++] = i;
    }
    if (layer == 0) return -1; /* a cycle */
    for (k = 0; k < layer; k++) nodes[mark[k]].placed = 1;
    done += layer;
  }
  return 0;
}

/* Names of a table's keys as a set in a stable order: named ones sorted,
** then one NULL for any unnamed ones. */
static int add_fknames(rt_refl *out, rt_refl_sorted *s, const rt_refl *fks,
                       const char *table) {
  int k, unnamed = 0;
  rt_names tmp = {0, NULL};
  for (k = 0; k < fks->nfks; k++) {
    int j, dup = 0;
    if (fks->fks[k].name == NULL) {
      unnamed = 1;
      continue;
    }
    for (j = 0; j < tmp.n; j++)
      if (strcmp(tmp.v[j], fks->fks[k].name) == 0) dup = 1;
    if (!dup && rt_names_add(&out->arena, &tmp, fks->fks[k].name) != 0)
      return -1;
  }
  for (k = 1; k < tmp.n; k++) { /* insertion sort: lists are short */
    const char *v = tmp.v[k];
    int j = k - 1;
    while (j >= 0 && strcmp(tmp.v[j], v) > 0) tmp.v[j + 1] = tmp.v[j], j--;
    tmp.v[j + 1] = v;
  }
  if (unnamed && rt_names_add(&out->arena, &tmp, NULL) != 0) return -1;
  for (k = 0; k < tmp.n; k++) {
    if (rt_names_add(&out->arena, &s->fknames, tmp.v[k]) != 0) return -1;
    if (table && rt_names_add(&out->arena, &s->fktables, table) != 0) return -1;
  }
  return 0;
}

int rt_reflect_sorted_tables(rt_connection *c, const char *schema, rt_refl *out,
                             rt_error *err) {
  const rt_reflector *r = reflector(c, err);
  rt_refl names;
  sortnode *nodes = NULL;
  int *order = NULL, i, n, rc = -1, cyclic;
  rt_refl_sorted *rest;
  if (r == NULL) return -1;
  rt_refl_init(&names);
  if (r->table_names(c, schema, 0, &names, err) != 0) goto done;
  n = names.names.n;
  nodes = calloc((size_t)n + 1, sizeof *nodes);
  order = calloc((size_t)n + 1, sizeof *order);
  if (nodes == NULL || order == NULL) {
    rt_error_set(err, RT_EMEMORY, "out of memory");
    goto done;
  }
  for (i = 0; i < n; i++) {
    nodes[i].name = names.names.v[i];
    rt_refl_init(&nodes[i].fks);
    if (r->fks(c, schema, nodes[i].name, &nodes[i].fks, err) != 0) {
      /* dropped since it was listed (by another connection): it has no
      ** keys left to order by */
      if (err->kind != RT_ENOSUCHTABLE) goto done;
      rt_error_clear(err);
    }
  }
  cyclic = sort_layers(nodes, n, 1, order) != 0;
  if (cyclic) {
    for (i = 0; i < n; i++) nodes[i].placed = 0;
    sort_layers(nodes, n, 0, order);
  }
  for (i = 0; i < n; i++) {
    sortnode *nd = &nodes[order[i]];
    rt_refl_sorted *s =
        rt_arena_push(&out->arena, &out->sorted, &out->nsorted, sizeof *s);
    if (s == NULL ||
        (s->table = rt_arena_strdup(&out->arena, nd->name)) == NULL ||
        add_fknames(out, s, &nd->fks, NULL) != 0)
      goto oom;
  }
  rest = rt_arena_push(&out->arena, &out->sorted, &out->nsorted, sizeof *rest);
  if (rest == NULL) goto oom;
  for (i = 0; cyclic && i < n; i++)
    if (depends(nodes, i) &&
        add_fknames(out, rest, &nodes[i].fks, nodes[i].name) != 0)
      goto oom;
  rc = finish(out, 0, err);
  goto done;
oom:
  rt_error_set(err, RT_EMEMORY, "out of memory");
done:
  for (i = 0; nodes && i < names.names.n; i++) rt_refl_free(&nodes[i].fks);
  free(nodes);
  free(order);
  rt_refl_free(&names);
  return rc;
}

/* --- column types --- */

static const struct {
  const char *name;
  rt_typekind kind;
} type_names[] = {
    {"integer", RT_TY_INTEGER},
    {"int", RT_TY_INTEGER},
    {"int4", RT_TY_INTEGER},
    {"mediumint", RT_TY_INTEGER},
    {"serial", RT_TY_INTEGER},
    {"smallint", RT_TY_SMALLINTEGER},
    {"int2", RT_TY_SMALLINTEGER},
    {"tinyint", RT_TY_SMALLINTEGER},
    {"smallserial", RT_TY_SMALLINTEGER},
    {"bigint", RT_TY_BIGINTEGER},
    {"int8", RT_TY_BIGINTEGER},
    {"bigserial", RT_TY_BIGINTEGER},
    {"float", RT_TY_FLOAT},
    {"real", RT_TY_FLOAT},
    {"float4", RT_TY_FLOAT},
    {"double", RT_TY_DOUBLE},
    {"double precision", RT_TY_DOUBLE},
    {"float8", RT_TY_DOUBLE},
    {"numeric", RT_TY_NUMERIC},
    {"decimal", RT_TY_NUMERIC},
    {"varchar", RT_TY_STRING},
    {"character varying", RT_TY_STRING},
    {"nvarchar", RT_TY_STRING},
    {"char", RT_TY_STRING},
    {"character", RT_TY_STRING},
    {"nchar", RT_TY_STRING},
    {"bpchar", RT_TY_STRING},
    {"text", RT_TY_TEXT},
    {"clob", RT_TY_TEXT},
    {"tinytext", RT_TY_TEXT},
    {"mediumtext", RT_TY_TEXT},
    {"longtext", RT_TY_TEXT},
    {"boolean", RT_TY_BOOLEAN},
    {"bool", RT_TY_BOOLEAN},
    {"date", RT_TY_DATE},
    {"datetime", RT_TY_DATETIME},
    {"timestamp", RT_TY_DATETIME},
    {"timestamp without time zone", RT_TY_DATETIME},
    {"timestamp with time zone", RT_TY_DATETIME},
    {"timestamptz", RT_TY_DATETIME},
    {"time", RT_TY_TIME},
    {"time without time zone", RT_TY_TIME},
    {"time with time zone", RT_TY_TIME},
    {"timetz", RT_TY_TIME},
    {"interval", RT_TY_INTERVAL},
    {"blob", RT_TY_LARGEBINARY},
    {"bytea", RT_TY_LARGEBINARY},
    {"binary", RT_TY_LARGEBINARY},
    {"varbinary", RT_TY_LARGEBINARY},
    {"tinyblob", RT_TY_LARGEBINARY},
    {"mediumblob", RT_TY_LARGEBINARY},
    {"longblob", RT_TY_LARGEBINARY},
    {"json", RT_TY_JSON},
    {"jsonb", RT_TY_JSONB},
    {"uuid", RT_TY_UUID},
    {"enum", RT_TY_ENUM},
};

/* Parse "name(arg, ...)" (lowercased name, at most 2 numeric args). */
static void split_type(const char *text, char *name, size_t cap, int *args,
                       int *nargs, const char **paren) {
  size_t n = 0;
  const char *p = text;
  *nargs = 0;
  *paren = NULL;
  while (*p == ' ') p++;
  for (; *p && *p != '(' && *p != '['; p++)
    if (n + 1 < cap) name[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  while (n > 0 && name[n - 1] == ' ') n--;
  name[n] = '\0';
  if (*p != '(') return;
  *paren = p;
  for (p++; *p && *p != ')' && *nargs < 2;) {
    while (*p == ' ') p++;
    if (*p >= '0' && *p <= '9')
      args[(*nargs)++] = (int)strtol(p, (char **)&p, 10);
    while (*p && *p != ',' && *p != ')') p++;
    if (*p == ',') p++;
  }
  /* "timestamp(6) with time zone": the words after the parenthesis */
  p = strchr(*paren, ')');
  if (p && p[1] == ' ' && n + strlen(p + 1) < cap) {
    for (p++; *p; p++)
      name[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    name[n] = '\0';
  }
}

/* enum('a','b''c') -> values */
static int enum_values(rt_type *t, const char *paren) {
  const char *p = paren + 1;
  while (*p) {
    rt_strbuf b = RT_STRBUF_INIT;
    char **v;
    while (*p == ' ' || *p == ',') p++;
    if (*p != '\'') break;
    for (p++; *p; p++) {
      if (*p == '\'' && p[1] == '\'') {
        rt_sb_addc(&b, '\'');
        p++;
      } else if (*p == '\'')
        break;
      else
        rt_sb_addc(&b, *p);
    }
    if (*p == '\'') p++;
    v = realloc(t->values, sizeof *v * (size_t)(t->nvalues + 1));
    if (v == NULL) {
      rt_sb_free(&b);
      return -1;
    }
    t->values = v;
    if ((v[t->nvalues] = rt_sb_take(&b)) == NULL) return -1;
    t->nvalues++;
  }
  return 0;
}

/* SQLAlchemy's SQLite dialect: its own names, then SQLite's affinity
** rules for anything else. */
static const struct {
  const char *name;
  rt_typekind kind;
} sqlite_names[] = {
    {"BIGINT", RT_TY_BIGINTEGER},
    {"BLOB", RT_TY_LARGEBINARY},
    {"BOOL", RT_TY_BOOLEAN},
    {"BOOLEAN", RT_TY_BOOLEAN},
    {"CHAR", RT_TY_STRING},
    {"DATE", RT_TY_DATE},
    {"DATE_CHAR", RT_TY_DATE},
    {"DATETIME", RT_TY_DATETIME},
    {"DATETIME_CHAR", RT_TY_DATETIME},
    {"DOUBLE", RT_TY_FLOAT},
    {"DECIMAL", RT_TY_NUMERIC},
    {"FLOAT", RT_TY_FLOAT},
    {"INT", RT_TY_INTEGER},
    {"INTEGER", RT_TY_INTEGER},
    {"JSON", RT_TY_JSON},
    {"NUMERIC", RT_TY_NUMERIC},
    {"REAL", RT_TY_FLOAT},
    {"SMALLINT", RT_TY_SMALLINTEGER},
    {"TEXT", RT_TY_TEXT},
    {"TIME", RT_TY_TIME},
    {"TIME_CHAR", RT_TY_TIME},
    {"TIMESTAMP", RT_TY_DATETIME},
    {"VARCHAR", RT_TY_STRING},
    {"NVARCHAR", RT_TY_STRING},
    {"NCHAR", RT_TY_STRING},
};

/*
** As _resolve_type_affinity does it: the name is the leading run of word
** characters and spaces (a space before "(" stays part of it, so
** "VARCHAR (20)" is no known name), the arguments every number inside the
** parentheses that follow.
*/
static rt_type *sqlite_type(const char *text) {
  char name[64];
  size_t n = 0, i;
  int args[2], nargs = 0;
  const char *p = text;
  rt_typekind kind = RT_TY_NULL;
  rt_type *t;
  int known = 0;
  while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == ' ' ||
                (*p & 0x80))) {
    if (n + 1 < sizeof name) name[n++] = (char)toupper((unsigned char)*p);
    p++;
  }
  name[n] = '\0';
  for (i = 0; i < sizeof sqlite_names / sizeof sqlite_names[0]; i++)
    if (strcmp(name, sqlite_names[i].name) == 0) {
      kind = sqlite_names[i].kind;
      known = 1;
    }
  if (!known) {
    if (strstr(name, "INT"))
      kind = RT_TY_INTEGER;
    else if (strstr(name, "CHAR") || strstr(name, "CLOB") ||
             strstr(name, "TEXT"))
      kind = RT_TY_TEXT;
    else if (strstr(name, "BLOB") || n == 0)
      kind = RT_TY_NULL;
    else if (strstr(name, "REAL") || strstr(name, "FLOA") ||
             strstr(name, "DOUB"))
      kind = RT_TY_FLOAT;
    else
      kind = RT_TY_NUMERIC;
  }
  if (*p == '(' && strchr(p, ')'))
    for (p++; *p && *p != ')'; p++)
      if (isdigit((unsigned char)*p)) {
        long v = strtol(p, (char **)&p, 10);
        if (nargs < 2) args[nargs++] = (int)v;
        p--;
      }
  if ((t = rt_type_new(kind)) == NULL) return NULL;
  if (kind == RT_TY_STRING && nargs >= 1) t->length = args[0];
  if (kind == RT_TY_NUMERIC && nargs >= 1) t->precision = args[0];
  if (kind == RT_TY_NUMERIC && nargs >= 2) t->scale = args[1];
  if (kind == RT_TY_FLOAT && nargs >= 1) t->length = args[0];
  return t;
}

rt_type *rt_reflect_type(const char *dialect, const char *text) {
  char name[64];
  int args[2], nargs, is_array;
  const char *paren;
  size_t i, len = strlen(text);
  rt_type *t;
  rt_typekind kind = RT_TY_NULL;
  if (strcmp(dialect, "sqlite") == 0) return sqlite_type(text);
  is_array = len >= 2 && strcmp(text + len - 2, "[]") == 0;
  split_type(text, name, sizeof name, args, &nargs, &paren);
  for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
    if (strcmp(name, type_names[i].name) == 0) kind = type_names[i].kind;
  /* MySQL spells BOOLEAN as TINYINT(1) */
  if (strcmp(dialect, "mysql") == 0 && strcmp(name, "tinyint") == 0 &&
      nargs == 1 && args[0] == 1)
    kind = RT_TY_BOOLEAN;
  if (is_array) {
    char inner[64];
    size_t n = len - 2 < sizeof inner - 1 ? len - 2 : sizeof inner - 1;
    rt_type *item;
    memcpy(inner, text, n);
    inner[n] = '\0';
    if ((item = rt_reflect_type(dialect, inner)) == NULL) return NULL;
    if ((t = rt_type_new(RT_TY_ARRAY)) == NULL) {
      rt_type_unref(item);
      return NULL;
    }
    t->item = item;
    return t;
  }
  if ((t = rt_type_new(kind)) == NULL) return NULL;
  switch (kind) {
  case RT_TY_STRING:
    if (nargs >= 1) t->length = args[0];
    break;
  case RT_TY_NUMERIC:
    if (nargs >= 1) t->precision = args[0];
    if (nargs >= 2) t->scale = args[1];
    break;
  case RT_TY_DATETIME:
  case RT_TY_TIME:
    t->timezone = strstr(name, "with time zone") != NULL ||
                  strcmp(name, "timestamptz") == 0 ||
                  strcmp(name, "timetz") == 0;
    break;
  case RT_TY_ENUM:
    if (paren && enum_values(t, paren) != 0) {
      rt_type_unref(t);
      return NULL;
    }
    break;
  default:
    break;
  }
  return t;
}
