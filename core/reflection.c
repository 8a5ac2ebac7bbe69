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

/* A type name a dialect knows: the upper-case type it is, or (up ==
** RT_UP_NONE) the generic kind. */
typedef struct typename_ {
  const char *name;
  rt_uppertype up;
  rt_typekind kind;
} typename_;

#define UP(name, up)                                                           \
  { name, up, RT_TY_NULL }
#define GEN(name, kind)                                                        \
  { name, RT_UP_NONE, kind }

/* SQLAlchemy's postgresql ischema_names */
static const typename_ pg_names[] = {
    UP("integer", RT_UP_INTEGER),
    UP("bigint", RT_UP_BIGINT),
    UP("smallint", RT_UP_SMALLINT),
    UP("character varying", RT_UP_VARCHAR),
    UP("character", RT_UP_CHAR),
    GEN("\"char\"", RT_TY_STRING),
    GEN("name", RT_TY_STRING),
    UP("text", RT_UP_TEXT),
    UP("numeric", RT_UP_NUMERIC),
    UP("float", RT_UP_FLOAT),
    UP("real", RT_UP_REAL),
    UP("inet", RT_UP_INET),
    UP("cidr", RT_UP_CIDR),
    UP("uuid", RT_UP_UUID),
    UP("bit", RT_UP_BIT),
    UP("bit varying", RT_UP_BIT),
    UP("macaddr", RT_UP_MACADDR),
    UP("macaddr8", RT_UP_MACADDR8),
    UP("money", RT_UP_MONEY),
    UP("oid", RT_UP_OID),
    UP("regclass", RT_UP_REGCLASS),
    UP("double precision", RT_UP_DOUBLE_PRECISION),
    UP("timestamp", RT_UP_TIMESTAMP),
    UP("timestamp with time zone", RT_UP_TIMESTAMP),
    UP("timestamp without time zone", RT_UP_TIMESTAMP),
    UP("time with time zone", RT_UP_TIME),
    UP("time without time zone", RT_UP_TIME),
    UP("date", RT_UP_DATE),
    UP("time", RT_UP_TIME),
    UP("bytea", RT_UP_BYTEA),
    UP("boolean", RT_UP_BOOLEAN),
    UP("interval", RT_UP_INTERVAL),
    UP("tsvector", RT_UP_TSVECTOR),
    GEN("json", RT_TY_JSON),
    GEN("jsonb", RT_TY_JSONB),
    UP("int4range", RT_UP_INT4RANGE),
    UP("int8range", RT_UP_INT8RANGE),
    UP("numrange", RT_UP_NUMRANGE),
    UP("daterange", RT_UP_DATERANGE),
    UP("tsrange", RT_UP_TSRANGE),
    UP("tstzrange", RT_UP_TSTZRANGE),
};

/* SQLAlchemy's mysql ischema_names */
static const typename_ my_names[] = {
    UP("bigint", RT_UP_BIGINT),
    UP("binary", RT_UP_BINARY),
    UP("bit", RT_UP_BIT),
    UP("blob", RT_UP_BLOB),
    UP("boolean", RT_UP_BOOLEAN),
    UP("char", RT_UP_CHAR),
    UP("date", RT_UP_DATE),
    UP("datetime", RT_UP_DATETIME),
    UP("decimal", RT_UP_DECIMAL),
    UP("double", RT_UP_DOUBLE),
    UP("enum", RT_UP_ENUM),
    UP("fixed", RT_UP_DECIMAL),
    UP("float", RT_UP_FLOAT),
    UP("int", RT_UP_INTEGER),
    UP("integer", RT_UP_INTEGER),
    GEN("json", RT_TY_JSON),
    UP("longblob", RT_UP_LONGBLOB),
    UP("longtext", RT_UP_LONGTEXT),
    UP("mediumblob", RT_UP_MEDIUMBLOB),
    UP("mediumint", RT_UP_MEDIUMINT),
    UP("mediumtext", RT_UP_MEDIUMTEXT),
    UP("nchar", RT_UP_NCHAR),
    UP("nvarchar", RT_UP_NVARCHAR),
    UP("numeric", RT_UP_NUMERIC),
    UP("set", RT_UP_SET),
    UP("smallint", RT_UP_SMALLINT),
    UP("text", RT_UP_TEXT),
    UP("time", RT_UP_TIME),
    UP("timestamp", RT_UP_TIMESTAMP),
    UP("tinyblob", RT_UP_TINYBLOB),
    UP("tinyint", RT_UP_TINYINT),
    UP("tinytext", RT_UP_TINYTEXT),
    UP("varbinary", RT_UP_VARBINARY),
    UP("varchar", RT_UP_VARCHAR),
    UP("year", RT_UP_YEAR),
};

/* SQLAlchemy's sqlite ischema_names (matched on the upper-cased name) */
static const typename_ sqlite_names[] = {
    UP("BIGINT", RT_UP_BIGINT),
    UP("BLOB", RT_UP_BLOB),
    UP("BOOL", RT_UP_BOOLEAN),
    UP("BOOLEAN", RT_UP_BOOLEAN),
    UP("CHAR", RT_UP_CHAR),
    UP("DATE", RT_UP_DATE),
    UP("DATE_CHAR", RT_UP_DATE),
    UP("DATETIME", RT_UP_DATETIME),
    UP("DATETIME_CHAR", RT_UP_DATETIME),
    UP("DOUBLE", RT_UP_FLOAT),
    UP("DECIMAL", RT_UP_DECIMAL),
    UP("FLOAT", RT_UP_FLOAT),
    UP("INT", RT_UP_INTEGER),
    UP("INTEGER", RT_UP_INTEGER),
    GEN("JSON", RT_TY_JSON),
    UP("NUMERIC", RT_UP_NUMERIC),
    UP("REAL", RT_UP_REAL),
    UP("SMALLINT", RT_UP_SMALLINT),
    UP("TEXT", RT_UP_TEXT),
    UP("TIME", RT_UP_TIME),
    UP("TIME_CHAR", RT_UP_TIME),
    UP("TIMESTAMP", RT_UP_TIMESTAMP),
    UP("VARCHAR", RT_UP_VARCHAR),
    UP("NVARCHAR", RT_UP_NVARCHAR),
    UP("NCHAR", RT_UP_NCHAR),
};

#undef UP
#undef GEN

#define NTYPES(a) (sizeof a / sizeof a[0])

/* A new type for a known name; *t stays NULL (and 0 is returned) for a
** name the table lacks, -1 when out of memory. */
static int lookup(const typename_ *tab, size_t n, const char *name,
                  rt_type **t) {
  size_t i;
  *t = NULL;
  for (i = 0; i < n; i++)
    if (strcmp(tab[i].name, name) == 0) {
      *t = tab[i].up ? rt_type_new_sql(tab[i].up) : rt_type_new(tab[i].kind);
      return *t ? 0 : -1;
    }
  return 0;
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static rt_type *nulltype(void) {
  return rt_type_new(RT_TY_NULL);
}

/* The numbers inside the first "(...)" of text (at most two). */
static int numargs(const char *text, int *args) {
  const char *p = strchr(text, '(');
  int n = 0;
  if (!p || !strchr(p, ')')) return 0;
  for (p++; *p && *p != ')'; p++)
    if (isdigit((unsigned char)*p)) {
      long v = strtol(p, (char **)&p, 10);
      if (n < 2) args[n] = (int)v;
      n++;
      p--;
    }
  return n;
}

/* 'a','b''c' -> values, for ENUM and SET */
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

/*
** SQLite, as _resolve_type_affinity does it: the name is the leading run
** of word characters and spaces (a space before "(" stays part of it, so
** "VARCHAR (20)" is no known name), the arguments every number inside the
** parentheses that follow, given to the type as its positional arguments
** (dropped when the type takes none).
*/
static rt_type *sqlite_type(const char *text) {
  char name[64];
  size_t n = 0;
  int args[2], nargs;
  const char *p = text;
  rt_type *t;
  while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == ' ' ||
                (*p & 0x80))) {
    if (n + 1 < sizeof name) name[n++] = (char)toupper((unsigned char)*p);
    p++;
  }
  name[n] = '\0';
  if (lookup(sqlite_names, NTYPES(sqlite_names), name, &t) != 0) return NULL;
  if (t == NULL) {
    rt_uppertype up;
    if (strstr(name, "INT"))
      up = RT_UP_INTEGER;
    else if (strstr(name, "CHAR") || strstr(name, "CLOB") ||
             strstr(name, "TEXT"))
      up = RT_UP_TEXT;
    else if (strstr(name, "BLOB") || n == 0)
      return nulltype();
    else if (strstr(name, "REAL") || strstr(name, "FLOA") ||
             strstr(name, "DOUB"))
      up = RT_UP_REAL;
    else
      up = RT_UP_NUMERIC;
    if ((t = rt_type_new_sql(up)) == NULL) return NULL;
  }
  nargs = *p == '(' ? numargs(p, args) : 0;
  if (nargs == 0) return t;
  switch (t->upper) {
  case RT_UP_VARCHAR:
  case RT_UP_CHAR:
  case RT_UP_NCHAR:
  case RT_UP_NVARCHAR:
  case RT_UP_TEXT:
  case RT_UP_FLOAT: /* Float's precision */
  case RT_UP_REAL:
    t->length = args[0];
    break;
  case RT_UP_NUMERIC:
  case RT_UP_DECIMAL:
    t->precision = args[0];
    if (nargs >= 2) t->scale = args[1];
    break;
  default:
    break;
  }
  return t;
}

/*
** A PostgreSQL enum as the reflection query writes it, "NAME('a','b')"
** with "[]" after an array of one: SQLAlchemy's ENUM('a', 'b',
** name='NAME').
*/
static rt_type *pg_enum_type(const char *text) {
  const char *paren = strchr(text, '(');
  size_t len = strlen(text);
  rt_type *t, *arr;
  if (paren == NULL) return nulltype();
  if ((t = rt_type_new_sql(RT_UP_ENUM)) == NULL) return NULL;
  if ((t->name = malloc((size_t)(paren - text) + 1)) == NULL ||
      enum_values(t, paren) != 0) {
    rt_type_unref(t);
    return NULL;
  }
  memcpy(t->name, text, (size_t)(paren - text));
  t->name[paren - text] = '\0';
  if (len < 2 || strcmp(text + len - 2, "[]") != 0) return t;
  if ((arr = rt_type_new_sql(RT_UP_ARRAY)) == NULL) {
    rt_type_unref(t);
    return NULL;
  }
  arr->item = t;
  return arr;
}

/*
** PostgreSQL's format_type() text, as the dialect's _get_column_info
** reads it: "[]" makes an ARRAY of the rest, the parenthesis is cut out
** of the name ("timestamp(3) with time zone") and gives the arguments.
*/
static rt_type *pg_type(const char *text) {
  char name[96];
  size_t n = 0, len = strlen(text);
  int args[2], nargs;
  const char *p;
  rt_type *t;
  if (strncmp(text, "enum:", 5) == 0) return pg_enum_type(text + 5);
  nargs = numargs(text, args);
  if (len >= 2 && strcmp(text + len - 2, "[]") == 0) {
    char inner[96];
    rt_type *item;
    size_t k = len - 2 < sizeof inner - 1 ? len - 2 : sizeof inner - 1;
    memcpy(inner, text, k);
    inner[k] = '\0';
    if ((item = pg_type(inner)) == NULL) return NULL;
    if ((t = rt_type_new_sql(RT_UP_ARRAY)) == NULL) {
      rt_type_unref(item);
      return NULL;
    }
    t->item = item;
    return t;
  }
  for (p = text; *p && n + 1 < sizeof name; p++) {
    if (*p == '(') {
      const char *q = strchr(p, ')');
      if (!q) break;
      p = q;
      continue;
    }
    name[n++] = *p;
  }
  while (n > 0 && name[n - 1] == ' ') n--;
  name[n] = '\0';
  if (strncmp(name, "interval", 8) == 0 && (name[8] == ' ' || !name[8])) {
    if ((t = rt_type_new_sql(RT_UP_INTERVAL)) == NULL) return NULL;
    if (nargs) t->precision = args[0];
    if (name[8] && (t->fields = dupstr(name + 9)) == NULL) {
      rt_type_unref(t);
      return NULL;
    }
    return t;
  }
  if (lookup(pg_names, NTYPES(pg_names), name, &t) != 0) return NULL;
  /* an enum or domain: not known here */
  if (t == NULL) return nulltype();
  switch (t->upper) {
  case RT_UP_NUMERIC:
    if (nargs >= 2) {
      t->precision = args[0];
      t->scale = args[1];
    }
    break;
  case RT_UP_TIMESTAMP:
  case RT_UP_TIME:
    t->timezone = strstr(name, "with time zone") != NULL;
    if (nargs) t->precision = args[0];
    break;
  case RT_UP_BIT:
    t->varying = strcmp(name, "bit varying") == 0;
    if (nargs) t->length = args[0];
    break;
  case RT_UP_VARCHAR:
  case RT_UP_CHAR:
  case RT_UP_FLOAT:
    if (nargs) t->length = args[0];
    break;
  default:
    if (t->upper == RT_UP_NONE && t->kind == RT_TY_STRING && nargs)
      t->length = args[0];
    break;
  }
  return t;
}

/* The word after `key` in text, as a new string (NULL when absent). */
static int word_after(const char *text, const char *key, char **out) {
  const char *p = strstr(text, key);
  size_t n = 0;
  *out = NULL;
  if (!p) return 0;
  p += strlen(key);
  while (p[n] && p[n] != ' ') n++;
  if ((*out = malloc(n + 1)) == NULL) return -1;
  memcpy(*out, p, n);
  (*out)[n] = '\0';
  return 0;
}

/* "... CHARACTER SET x COLLATE y" (after any ENUM values) */
static int my_charset(rt_type *t, const char *text) {
  const char *p = strrchr(text, ')');
  if (!p) p = text;
  if (word_after(p, " CHARACTER SET ", &t->charset) != 0) return -1;
  return word_after(p, " COLLATE ", &t->collation);
}

/*
** MySQL's COLUMN_TYPE ("int(10) unsigned", "decimal(10,2)",
** "enum('a','b')", "datetime(3)"), as the dialect's column parser: the
** arguments are the display width of integers and YEAR, the precision and
** scale of DECIMAL, FLOAT and DOUBLE, the fractional seconds of the
** time types, the length of the rest.
*/
static rt_type *my_type(const char *text) {
  char name[64];
  size_t n = 0;
  int args[2], nargs = 0;
  const char *p = text, *paren = NULL;
  rt_type *t;
  while (*p && *p != '(' && *p != ' ' && n + 1 < sizeof name)
    name[n++] = (char)tolower((unsigned char)*p++);
  name[n] = '\0';
  if (*p == '(') {
    paren = p;
    nargs = numargs(p, args);
  }
  if (lookup(my_names, NTYPES(my_names), name, &t) != 0) return NULL;
  if (t == NULL) return nulltype();
  t->isunsigned = strstr(text, " unsigned") != NULL;
  if (my_charset(t, text) != 0) {
    rt_type_unref(t);
    return NULL;
  }
  switch (t->upper) {
  case RT_UP_TINYINT:
  case RT_UP_SMALLINT:
  case RT_UP_MEDIUMINT:
  case RT_UP_INTEGER:
  case RT_UP_BIGINT:
  case RT_UP_YEAR:
    if (nargs) t->width = args[0];
    break;
  case RT_UP_DECIMAL:
  case RT_UP_NUMERIC:
  case RT_UP_FLOAT:
  case RT_UP_DOUBLE:
    if (nargs >= 2) {
      t->precision = args[0];
      t->scale = args[1];
    }
    /* MySQL's DOUBLE gives decimals unless told not to */
    if (t->upper == RT_UP_DOUBLE) t->asdecimal = 1;
    break;
  case RT_UP_DATETIME:
  case RT_UP_TIMESTAMP:
  case RT_UP_TIME:
    if (nargs) t->precision = args[0];
    break;
  case RT_UP_ENUM:
  case RT_UP_SET:
    if (paren && enum_values(t, paren) != 0) {
      rt_type_unref(t);
      return NULL;
    }
    break;
  default:
    if (nargs) t->length = args[0];
    break;
  }
  return t;
}

rt_type *rt_reflect_type(const char *dialect, const char *text) {
  if (strcmp(dialect, "sqlite") == 0) return sqlite_type(text);
  if (strcmp(dialect, "postgresql") == 0) return pg_type(text);
  return my_type(text);
}
