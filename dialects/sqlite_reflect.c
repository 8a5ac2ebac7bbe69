/*
** sqlite_reflect.c -- reflection for SQLite: sqlite_master and PRAGMAs.
**
** The PRAGMAs give columns, foreign keys and indexes, but not the names of
** constraints, nor which automatic index is a UNIQUE constraint: those are
** read from the CREATE TABLE text that sqlite_master keeps as it was typed.
** That text is split into its top-level elements by a small tokenizer
** instead of being matched with patterns, so whitespace, quoting and
** nesting don't matter.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reflection.h"
#include "core/strbuf.h"

/* --- PRAGMAs --- */

/* PRAGMA arguments can't be bound: quote the identifier instead. */
static void add_quoted(rt_strbuf *b, const char *name) {
  rt_sb_addc(b, '"');
  for (; *name; name++) {
    if (*name == '"') rt_sb_addc(b, '"');
    rt_sb_addc(b, *name);
  }
  rt_sb_addc(b, '"');
}

static int run_pragma(rt_connection *c, rt_arena *a, const char *db,
                      const char *pragma, const char *arg, rt_rows *rows,
                      rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  int rc;
  rt_sb_adds(&b, "PRAGMA ");
  add_quoted(&b, db);
  rt_sb_addf(&b, ".%s(", pragma);
  add_quoted(&b, arg);
  rt_sb_addc(&b, ')');
  if (b.failed) {
    rt_sb_free(&b);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  rc = rt_refl_query(c, a, b.p, NULL, 0, rows, err);
  rt_sb_free(&b);
  return rc;
}

/* Without a schema a PRAGMA would search every attached database; like
** SQLAlchemy, look in "main" and then "temp" only. */
static int pragma(rt_connection *c, rt_arena *a, const char *schema,
                  const char *name, const char *arg, rt_rows *rows,
                  rt_error *err) {
  if (schema) return run_pragma(c, a, schema, name, arg, rows, err);
  if (run_pragma(c, a, "main", name, arg, rows, err) != 0) return -1;
  if (rows->n > 0) return 0;
  return run_pragma(c, a, "temp", name, arg, rows, err);
}

static int sqlite_table_names(rt_connection *c, const char *schema, int views,
                              rt_refl *out, rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  const char *type = views ? "view" : "table";
  rt_rows rows;
  int i, rc;
  rt_sb_adds(&b, "SELECT name FROM ");
  if (schema) {
    add_quoted(&b, schema);
    rt_sb_addc(&b, '.');
  }
  /* SQLite's own tables (sqlite_sequence, sqlite_stat1) aren't listed */
  rt_sb_adds(&b, "sqlite_master WHERE type = ? "
                 "AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name");
  if (b.failed) {
    rt_sb_free(&b);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  rc = rt_refl_query(c, &out->arena, b.p, &type, 1, &rows, err);
  rt_sb_free(&b);
  for (i = 0; rc == 0 && i < rows.n; i++)
    rt_names_add(&out->arena, &out->names, RT_CELL(&rows, i, 0));
  return rc;
}

static int sqlite_schema_names(rt_connection *c, rt_refl *out, rt_error *err) {
  rt_rows rows;
  int i;
  if (rt_refl_query(c, &out->arena, "PRAGMA database_list", NULL, 0, &rows,
                    err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    const char *name = RT_CELL(&rows, i, 1);
    if (name && strcmp(name, "temp") != 0)
      rt_names_add(&out->arena, &out->names, name);
  }
  return 0;
}

/* A table or a view: SQLAlchemy asks table_info, which answers for both. */
static int sqlite_has_table(rt_connection *c, const char *schema,
                            const char *table, int *exists, rt_error *err) {
  rt_refl tmp;
  rt_rows rows;
  int rc;
  rt_refl_init(&tmp);
  rc = pragma(c, &tmp.arena, schema, "table_info", table, &rows, err);
  *exists = rc == 0 && rows.n > 0;
  rt_refl_free(&tmp);
  return rc;
}

/* The CREATE TABLE text, or NULL (*sql) for tables without one. */
static int table_sql(rt_connection *c, rt_arena *a, const char *schema,
                     const char *table, const char **sql, rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_rows rows;
  int rc;
  *sql = NULL;
  if (schema) {
    rt_sb_adds(&b, "SELECT sql FROM ");
    add_quoted(&b, schema);
    rt_sb_adds(&b, ".sqlite_master WHERE name = ? AND type = 'table'");
  } else
    rt_sb_adds(&b, "SELECT sql FROM (SELECT * FROM sqlite_master UNION ALL "
                   "SELECT * FROM sqlite_temp_master) "
                   "WHERE name = ? AND type = 'table'");
  if (b.failed) {
    rt_sb_free(&b);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  rc = rt_refl_query(c, a, b.p, &table, 1, &rows, err);
  rt_sb_free(&b);
  if (rc == 0 && rows.n > 0) *sql = RT_CELL(&rows, 0, 0);
  return rc;
}

/* --- columns and primary key --- */

/* Remove the words GENERATED and ALWAYS that table_xinfo leaves in the
** type of a computed column ("INTEGER GENERATED ALWAYS"). */
static const char *column_type(rt_arena *a, const char *decl, int generated) {
  char *t = (char *)rt_arena_strdup(a, decl ? decl : "");
  char *p;
  size_t n;
  if (t == NULL) return NULL;
  for (p = t; *p; p++) *p = (char)toupper((unsigned char)*p);
  if (generated) {
    static const char *const words[] = {"GENERATED", "ALWAYS"};
    int i;
    for (i = 0; i < 2; i++)
      if ((p = strstr(t, words[i])) != NULL)
        memmove(p, p + strlen(words[i]), strlen(p + strlen(words[i])) + 1);
    for (p = t; *p == ' '; p++) {
    }
    memmove(t, p, strlen(p) + 1);
  }
  n = strlen(t);
  while (n > 0 && t[n - 1] == ' ') t[--n] = '\0';
  return t;
}

static int sqlite_columns(rt_connection *c, const char *schema,
                          const char *table, rt_refl *out, rt_error *err) {
  rt_rows rows;
  int i;
  /* cid, name, type, notnull, dflt_value, pk, hidden */
  if (pragma(c, &out->arena, schema, "table_xinfo", table, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    int hidden = atoi(RT_CELL(&rows, i, 6) ? RT_CELL(&rows, i, 6) : "0");
    rt_refl_column *col;
    if (hidden == 1) continue; /* a virtual table's hidden column */
    col = rt_arena_push(&out->arena, &out->cols, &out->ncols, sizeof *col);
    if (col == NULL) return -1;
    col->name = RT_CELL(&rows, i, 1);
    col->type = column_type(&out->arena, RT_CELL(&rows, i, 2), hidden >= 2);
    col->nullable = !rt_refl_truthy(RT_CELL(&rows, i, 3));
    col->dflt = RT_CELL(&rows, i, 4);
    col->autoincrement = RT_AUTOINC_AUTO;
    col->pk = atoi(RT_CELL(&rows, i, 5) ? RT_CELL(&rows, i, 5) : "0");
    col->report_pk = 1;
  }
  return 0;
}

/* --- the CREATE TABLE text --- */

typedef struct tok {
  const char *p;
  size_t n;
  char kind; /* 'w' word, 'q' quoted name, 's' string, or the punctuation */
} tok;

typedef struct toks {
  tok *v;
  int n, cap;
} toks;

static int tokenize(const char *s, toks *t) {
  while (*s) {
    tok k;
    if (isspace((unsigned char)*s)) {
      s++;
      continue;
    }
    if (s[0] == '-' && s[1] == '-') {
      while (*s && *s != '\n') s++;
      continue;
    }
    if (s[0] == '/' && s[1] == '*') {
      const char *e = strstr(s + 2, "*/");
      s = e ? e + 2 : s + strlen(s);
      continue;
    }
    k.p = s;
    if (*s == '"' || *s == '`' || *s == '[' || *s == '\'') {
      char close = *s == '[' ? ']' : *s;
      k.kind = *s == '\'' ? 's' : 'q';
      for (s++; *s; s++) {
        if (*s == close && s[1] == close && close != ']')
          s++;
        else if (*s == close)
          break;
      }
      if (*s) s++;
    } else if (isalnum((unsigned char)*s) || *s == '_' || (*s & 0x80)) {
      k.kind = 'w';
      while (isalnum((unsigned char)*s) || *s == '_' || *s == '$' ||
             (*s & 0x80))
        s++;
    } else
      k.kind = *s++;
    k.n = (size_t)(s - k.p);
    if (t->n == t->cap) {
      int cap = t->cap ? t->cap * 2 : 64;
      tok *v = realloc(t->v, sizeof *v * (size_t)cap);
      if (v == NULL) return -1;
      t->v = v;
      t->cap = cap;
    }
    t->v[t->n++] = k;
  }
  return 0;
}

static int is_kw(const tok *k, const char *kw) {
  return k->kind == 'w' && strlen(kw) == k->n &&
         strncasecmp(k->p, kw, k->n) == 0;
}

/* The name a word or quoted token stands for, in the arena. */
static const char *tok_name(rt_arena *a, const tok *k) {
  char *s, *d;
  size_t i;
  if (k->kind != 'q' && k->kind != 's') return rt_arena_strndup(a, k->p, k->n);
  s = rt_arena_alloc(a, k->n + 1);
  if (s == NULL) return NULL;
  for (d = s, i = 1; i + 1 < k->n; i++) {
    *d++ = k->p[i];
    if (k->p[0] != '[' && k->p[i] == k->p[0]) i++; /* a doubled quote */
  }
  *d = '\0';
  return s;
}

/* What the CREATE TABLE text names: constraints and their columns. */
typedef struct parsed {
  const char *pkname;
  int nuq, nfk;
  rt_refl_unique *uq; /* table-level, then inline, each in text order */
  int *uq_inline;
  rt_refl_fk *fk; /* table-level (refcols empty when not written) */
} parsed;

/* A parenthesised name list starting at t[*i] == '('. */
static int name_list(rt_arena *a, const toks *t, int *i, rt_names *out) {
  if (*i >= t->n || t->v[*i].kind != '(') return 0;
  for ((*i)++; *i < t->n && t->v[*i].kind != ')'; (*i)++) {
    const tok *k = &t->v[*i];
    if (k->kind == 'w' || k->kind == 'q') {
      /* "col COLLATE x ASC": only the first word of each item */
      if (*i > 0 && t->v[*i - 1].kind != '(' && t->v[*i - 1].kind != ',')
        continue;
      if (rt_names_add(a, out, tok_name(a, k)) != 0) return -1;
    }
  }
  if (*i < t->n) (*i)++;
  return 0;
}

static int add_unique(rt_arena *a, parsed *p, const char *name, rt_names cols,
                      int is_inline) {
  int n = p->nuq;
  rt_refl_unique *u = rt_arena_push(a, &p->uq, &p->nuq, sizeof *u);
  int *flag = rt_arena_push(a, &p->uq_inline, &n, sizeof *flag);
  if (u == NULL || flag == NULL) return -1;
  u->name = name;
  u->cols = cols;
  *flag = is_inline;
  return 0;
}

/* One top-level element of the table body: t->v[from..to). */
static int parse_element(rt_arena *a, const toks *t, int from, int to,
                         parsed *p) {
  const char *cname = NULL, *colname = NULL;
  int i = from;
  if (i < to && is_kw(&t->v[i], "CONSTRAINT") && i + 1 < to) {
    cname = tok_name(a, &t->v[i + 1]);
    i += 2;
  }
  if (i + 1 < to && is_kw(&t->v[i], "PRIMARY") && is_kw(&t->v[i + 1], "KEY")) {
    if (cname) p->pkname = cname;
    return 0;
  }
  if (i < to && is_kw(&t->v[i], "UNIQUE")) {
    rt_names cols = {0, NULL};
    i++;
    if (name_list(a, t, &i, &cols) != 0) return -1;
    return add_unique(a, p, cname, cols, 0);
  }
  if (i + 1 < to && is_kw(&t->v[i], "FOREIGN") && is_kw(&t->v[i + 1], "KEY")) {
    rt_refl_fk *fk = rt_arena_push(a, &p->fk, &p->nfk, sizeof *fk);
    if (fk == NULL) return -1;
    fk->name = cname;
    i += 2;
    if (name_list(a, t, &i, &fk->cols) != 0) return -1;
    if (i + 1 < to && is_kw(&t->v[i], "REFERENCES")) {
      fk->reftable = tok_name(a, &t->v[i + 1]);
      i += 2;
      if (name_list(a, t, &i, &fk->refcols) != 0) return -1;
    }
    return 0;
  }
  if (cname || i >= to || is_kw(&t->v[i], "CHECK")) return 0;
  /* a column definition: look for inline PRIMARY KEY / UNIQUE */
  colname = tok_name(a, &t->v[i]);
  for (i++; i < to; i++) {
    if (is_kw(&t->v[i], "CONSTRAINT") && i + 1 < to) {
      cname = tok_name(a, &t->v[i + 1]);
      i++;
    } else if (is_kw(&t->v[i], "UNIQUE")) {
      rt_names cols = {0, NULL};
      if (rt_names_add(a, &cols, colname) != 0 ||
          add_unique(a, p, cname, cols, 1) != 0)
        return -1;
      cname = NULL;
    } else if (is_kw(&t->v[i], "PRIMARY")) {
      if (cname) p->pkname = cname;
      cname = NULL;
    } else if (t->v[i].kind == 'w' && !is_kw(&t->v[i], "KEY"))
      cname = NULL;
  }
  return 0;
}

static int parse_create(rt_arena *a, const char *sql, parsed *p) {
  toks t = {NULL, 0, 0};
  int i, depth = 0, start = -1, rc = 0;
  memset(p, 0, sizeof *p);
  if (sql == NULL) return 0;
  if (tokenize(sql, &t) != 0) {
    free(t.v);
    return -1;
  }
  for (i = 0; i < t.n && rc == 0; i++) {
    char k = t.v[i].kind;
    if (k == '(') {
      if (++depth == 1) start = i + 1;
    } else if (k == ')' || k == ',') {
      if (depth == 1) {
        rc = parse_element(a, &t, start, i, p);
        start = i + 1;
      }
      if (k == ')' && --depth == 0) break;
    }
  }
  free(t.v);
  return rc;
}

static int same_names(const rt_names *x, const rt_names *y) {
  int i;
  if (x->n != y->n) return 0;
  for (i = 0; i < x->n; i++)
    if (!x->v[i] || !y->v[i] || strcasecmp(x->v[i], y->v[i]) != 0) return 0;
  return 1;
}

/* --- constraints --- */

static int sqlite_pk(rt_connection *c, const char *schema, const char *table,
                     rt_refl *out, rt_error *err) {
  rt_refl tmp;
  const char *sql;
  parsed p;
  int i, pos, rc;
  rt_refl_init(&tmp);
  rc = sqlite_columns(c, schema, table, &tmp, err);
  if (rc == 0) rc = table_sql(c, &tmp.arena, schema, table, &sql, err);
  if (rc == 0 && parse_create(&tmp.arena, sql, &p) != 0)
    rc = rt_error_set(err, RT_EMEMORY, "out of memory");
  if (rc == 0) {
    out->pk.name = rt_arena_strdup(&out->arena, p.pkname);
    for (pos = 1; pos <= tmp.ncols; pos++)
      for (i = 0; i < tmp.ncols; i++)
        if (tmp.cols[i].pk == pos)
          rt_names_add(&out->arena, &out->pk.cols, tmp.cols[i].name);
  }
  rt_refl_free(&tmp);
  return rc;
}

static const char *fk_action(rt_arena *a, const char *s) {
  return s && strcmp(s, "NO ACTION") != 0 ? rt_arena_strdup(a, s) : NULL;
}

/*
** foreign_key_list gives the keys (rows: id, seq, table, from, to,
** on_update, on_delete, match); the text gives the names of table-level
** ones.  As in SQLAlchemy, keys found in the text come first in text order,
** then the rest (inline REFERENCES) in the PRAGMA's order.
*/
static int sqlite_fks(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  rt_arena *a = &out->arena;
  rt_rows rows;
  rt_refl_fk *keys = NULL;
  int nkeys = 0, *used, i, k;
  const char *sql;
  parsed p;
  if (pragma(c, a, schema, "foreign_key_list", table, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_fk *fk = nkeys ? &keys[nkeys - 1] : NULL;
    if (fk == NULL || i == 0 ||
        strcmp(RT_CELL(&rows, i, 0), RT_CELL(&rows, i - 1, 0)) != 0) {
      fk = rt_arena_push(a, &keys, &nkeys, sizeof *fk);
      if (fk == NULL) return -1;
      fk->reftable = RT_CELL(&rows, i, 2);
      fk->refschema = rt_arena_strdup(a, schema);
      fk->onupdate = fk_action(a, RT_CELL(&rows, i, 5));
      fk->ondelete = fk_action(a, RT_CELL(&rows, i, 6));
    }
    rt_names_add(a, &fk->cols, RT_CELL(&rows, i, 3));
    if (RT_CELL(&rows, i, 4))
      rt_names_add(a, &fk->refcols, RT_CELL(&rows, i, 4));
  }
  /* a key written without referred columns refers to the primary key */
  for (k = 0; k < nkeys; k++)
    if (keys[k].refcols.n == 0) {
      rt_refl pk;
      rt_refl_init(&pk);
      if (sqlite_pk(c, schema, keys[k].reftable, &pk, err) == 0)
        for (i = 0; i < pk.pk.cols.n; i++)
          rt_names_add(a, &keys[k].refcols, pk.pk.cols.v[i]);
      rt_error_clear(err); /* a missing referred table has no columns */
      rt_refl_free(&pk);
    }
  if (table_sql(c, a, schema, table, &sql, err) != 0) return -1;
  if (parse_create(a, sql, &p) != 0)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  used = rt_arena_alloc(a, sizeof *used * (size_t)(nkeys + 1));
  if (used == NULL) return -1;
  for (i = 0; i < p.nfk; i++)
    for (k = 0; k < nkeys; k++) {
      rt_refl_fk *slot;
      if (used[k] || !same_names(&p.fk[i].cols, &keys[k].cols) ||
          !p.fk[i].reftable ||
          strcasecmp(p.fk[i].reftable, keys[k].reftable) != 0 ||
          (p.fk[i].refcols.n &&
           !same_names(&p.fk[i].refcols, &keys[k].refcols)))
        continue;
      used[k] = 1;
      slot = rt_arena_push(a, &out->fks, &out->nfks, sizeof *slot);
      if (slot == NULL) return -1;
      *slot = keys[k];
      slot->name = p.fk[i].name;
      break;
    }
  for (k = 0; k < nkeys; k++)
    if (!used[k]) {
      rt_refl_fk *slot = rt_arena_push(a, &out->fks, &out->nfks, sizeof *slot);
      if (slot == NULL) return -1;
      *slot = keys[k];
    }
  return 0;
}

/* Indexes from index_list (rows: seq, name, unique, origin, partial) with
** their columns from index_info, sorted by name.  `autos` selects the
** automatic indexes behind PRIMARY KEY / UNIQUE instead of the others. */
static int list_indexes(rt_connection *c, const char *schema, const char *table,
                        int autos, rt_refl *out, rt_error *err) {
  rt_arena *a = &out->arena;
  rt_rows rows;
  int i, j;
  if (pragma(c, a, schema, "index_list", table, &rows, err) != 0) return -1;
  for (i = 0; i < rows.n; i++) {
    const char *name = RT_CELL(&rows, i, 1);
    rt_refl_index *ix;
    rt_rows cols;
    int is_auto = strncmp(name, "sqlite_autoindex", 16) == 0, expr = 0;
    if (is_auto != autos) continue;
    if (pragma(c, a, schema, "index_info", name, &cols, err) != 0) return -1;
    for (j = 0; j < cols.n; j++)
      if (RT_CELL(&cols, j, 2) == NULL) expr = 1;
    if (expr) continue; /* expression indexes aren't reflected */
    ix = rt_arena_push(a, &out->indexes, &out->nindexes, sizeof *ix);
    if (ix == NULL) return -1;
    ix->name = name;
    ix->unique = rt_refl_truthy(RT_CELL(&rows, i, 2));
    for (j = 0; j < cols.n; j++)
      rt_names_add(a, &ix->cols, RT_CELL(&cols, j, 2));
  }
  for (i = 1; i < out->nindexes; i++) {
    rt_refl_index v = out->indexes[i];
    j = i - 1;
    while (j >= 0 && strcmp(out->indexes[j].name, v.name) > 0) {
      out->indexes[j + 1] = out->indexes[j];
      j--;
    }
    out->indexes[j + 1] = v;
  }
  return 0;
}

static int sqlite_indexes(rt_connection *c, const char *schema,
                          const char *table, rt_refl *out, rt_error *err) {
  return list_indexes(c, schema, table, 0, out, err);
}

/*
** A UNIQUE constraint is an automatic index whose columns match one that
** the text declares UNIQUE; table-level ones are listed before inline ones,
** as SQLAlchemy's parse does.
*/
static int sqlite_uniques(rt_connection *c, const char *schema,
                          const char *table, rt_refl *out, rt_error *err) {
  rt_refl autos;
  const char *sql;
  parsed p;
  int pass, i, k, rc = 0, *used;
  rt_refl_init(&autos);
  if (list_indexes(c, schema, table, 1, &autos, err) != 0 ||
      table_sql(c, &out->arena, schema, table, &sql, err) != 0 ||
      parse_create(&out->arena, sql, &p) != 0) {
    rt_refl_free(&autos);
    return -1;
  }
  used =
      rt_arena_alloc(&out->arena, sizeof *used * (size_t)(autos.nindexes + 1));
  for (pass = 0; used && pass < 2; pass++)
    for (i = 0; i < p.nuq; i++) {
      rt_refl_unique *u;
      if (p.uq_inline[i] != pass) continue;
      for (k = 0; k < autos.nindexes; k++)
        if (!used[k] && same_names(&autos.indexes[k].cols, &p.uq[i].cols))
          break;
      if (k == autos.nindexes) continue;
      used[k] = 1;
      u = rt_arena_push(&out->arena, &out->uniques, &out->nuniques, sizeof *u);
      if (u == NULL) break;
      *u = p.uq[i];
    }
  rt_refl_free(&autos);
  return rc;
}

const rt_reflector rt_sqlite_reflector = {
    "sqlite",         sqlite_table_names, sqlite_schema_names,
    sqlite_has_table, sqlite_columns,     sqlite_pk,
    sqlite_fks,       sqlite_indexes,     sqlite_uniques,
};
