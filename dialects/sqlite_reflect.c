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
#include "regex_reflect.h"

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
                      int quote_db, const char *pragma, const char *arg,
                      rt_rows *rows, rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  int rc;
  rt_sb_adds(&b, "PRAGMA ");
  /* a schema given is quoted, the implied main and temp are not: the
  ** statements SQLAlchemy's echo shows */
  if (quote_db)
    add_quoted(&b, db);
  else
    rt_sb_adds(&b, db);
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
  if (schema) return run_pragma(c, a, schema, 1, name, arg, rows, err);
  if (run_pragma(c, a, "main", 0, name, arg, rows, err) != 0) return -1;
  if (rows->n > 0) return 0;
  return run_pragma(c, a, "temp", 0, name, arg, rows, err);
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
  /* SQLite's own tables (sqlite_sequence, sqlite_stat1) are listed, as
  ** SQLAlchemy 1.4 lists them */
  rt_sb_adds(&b, "sqlite_master WHERE type = ? ORDER BY name");
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

/* The CREATE text of the object named `name` of sqlite_master's `type`
** ('table', 'view'), or NULL (*sql) when there is none; temporary objects
** count too when no schema is given. */
static int master_sql(rt_connection *c, rt_arena *a, const char *schema,
                      const char *name, const char *type, const char **sql,
                      rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_rows rows;
  const char *params[2];
  int rc;
  *sql = NULL;
  if (schema) {
    rt_sb_adds(&b, "SELECT sql FROM ");
    add_quoted(&b, schema);
    rt_sb_adds(&b, ".sqlite_master WHERE name = ? AND type = ?");
  } else
    rt_sb_adds(&b, "SELECT sql FROM (SELECT * FROM sqlite_master UNION ALL "
                   "SELECT * FROM sqlite_temp_master) "
                   "WHERE name = ? AND type = ?");
  if (b.failed) {
    rt_sb_free(&b);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  params[0] = name;
  params[1] = type;
  rc = rt_refl_query(c, a, b.p, params, 2, &rows, err);
  rt_sb_free(&b);
  if (rc == 0 && rows.n > 0) *sql = RT_CELL(&rows, 0, 0);
  return rc;
}

/* The CREATE TABLE text, or NULL (*sql) for tables without one. */
static int table_sql(rt_connection *c, rt_arena *a, const char *schema,
                     const char *table, const char **sql, rt_error *err) {
  return master_sql(c, a, schema, table, "table", sql, err);
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

static int table_sql(rt_connection *c, rt_arena *a, const char *schema,
                     const char *table, const char **sql, rt_error *err);
static int computed_text(rt_connection *c, rt_arena *a, const char *schema,
                         const char *table, rt_refl_column *col);

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
    if (hidden >= 2) {
      col->computed = hidden == 3 ? RT_COMPUTED_STORED : RT_COMPUTED_VIRTUAL;
      if (computed_text(c, &out->arena, schema, table, col) != 0) return -1;
    }
  }
  return 0;
}

/* --- the CREATE TABLE text, read with SQLAlchemy's patterns --- */

/* The dialect's patterns, as its source writes them (all with re.I). */
#define PK_PATTERN "CONSTRAINT (\\w+) PRIMARY KEY"
#define FK_PATTERN                                                             \
  "(?:CONSTRAINT (\\w+) +)?"                                                   \
  "FOREIGN KEY *\\( *(.+?) *\\) +"                                             \
  "REFERENCES +(?:(?:\"(.+?)\")|([a-z0-9_]+)) *\\((.+?)\\) *"                  \
  "((?:ON (?:DELETE|UPDATE) "                                                  \
  "(?:SET NULL|SET DEFAULT|CASCADE|RESTRICT|NO ACTION) *)*)"                   \
  "((?:NOT +)?DEFERRABLE)?"                                                    \
  "(?: +INITIALLY +(DEFERRED|IMMEDIATE))?"
/* the ON clauses of one key: re.split(" *\bON\b *") in the original */
#define FK_ACTION_PATTERN                                                      \
  "ON (DELETE|UPDATE) (SET NULL|SET DEFAULT|CASCADE|RESTRICT|NO ACTION)"
#define COLS_PATTERN "(?:\"(.+?)\")|([a-z0-9_]+)"
#define UNIQUE_PATTERN "(?:CONSTRAINT \"?(.+?)\"? +)?UNIQUE *\\((.+?)\\)"
#define INLINE_UNIQUE_PATTERN                                                  \
  "(?:(\".+?\")|(?:[\\[`])?([a-z0-9_]+)(?:[\\]`])?) +[a-z0-9_ ]+? +UNIQUE"
#define CHECK_PATTERN "(?:CONSTRAINT (.+) +)?CHECK *\\( *(.+) *\\),? *"
#define PARTIAL_PATTERN "\\)\\s+where\\s+(.+)"

/* Successive matches of one pattern over a text, as re.finditer. */
typedef struct scan {
  rt_rx *rx;
  const char *s;
  size_t len, at;
  int cap[2 * RT_RX_MAXGROUPS];
} scan;

static int scan_open(scan *sc, const char *pattern, const char *s) {
  memset(sc, 0, sizeof *sc);
  sc->rx = rt_rx_compile(pattern, 1);
  sc->s = s ? s : "";
  sc->len = strlen(sc->s);
  return sc->rx ? 0 : -1;
}

/* 1 with the next match in sc->cap, 0 at the end, -1 out of memory */
static int scan_next(scan *sc) {
  int rc;
  if (sc->at > sc->len) return 0;
  rc = rt_rx_search(sc->rx, sc->s, sc->len, sc->at, sc->cap);
  if (rc == 1) sc->at = (size_t)sc->cap[1] + (sc->cap[1] == sc->cap[0] ? 1 : 0);
  return rc;
}

static void scan_close(scan *sc) {
  rt_rx_free(sc->rx);
  sc->rx = NULL;
}

/* Group g of the current match in the arena, or NULL if it took no part. */
static const char *group(rt_arena *a, const scan *sc, int g) {
  if (sc->cap[2 * g] < 0) return NULL;
  return rt_arena_strndup(a, sc->s + sc->cap[2 * g],
                          (size_t)(sc->cap[2 * g + 1] - sc->cap[2 * g]));
}

/* SQLAlchemy's _find_cols_in_sig: the names in a column list. */
static int cols_in_sig(rt_arena *a, const char *sig, rt_names *out) {
  scan sc;
  int rc;
  if (sig == NULL) return 0;
  if (scan_open(&sc, COLS_PATTERN, sig) != 0) return -1;
  while ((rc = scan_next(&sc)) == 1) {
    const char *name = group(a, &sc, 1);
    if (name == NULL) name = group(a, &sc, 2);
    if (rt_names_add(a, out, name) != 0) rc = -1;
    if (rc < 0) break;
  }
  scan_close(&sc);
  return rc;
}

static void upcase(char *s) {
  for (; s && *s; s++) *s = (char)toupper((unsigned char)*s);
}

static int same_names(const rt_names *x, const rt_names *y) {
  int i;
  if (x->n != y->n) return 0;
  for (i = 0; i < x->n; i++)
    if (!x->v[i] || !y->v[i] || strcmp(x->v[i], y->v[i]) != 0) return 0;
  return 1;
}

/*
** A computed column's expression, found in the text as SQLAlchemy finds
** it: the column's name, then anything but a comma up to AS (...).  An
** error reading the text leaves the expression empty, as a miss does.
*/
static int computed_text(rt_connection *c, rt_arena *a, const char *schema,
                         const char *table, rt_refl_column *col) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_error err = RT_ERROR_INIT;
  const char *sql = NULL, *p;
  scan sc;
  int m = 0;
  col->computed_sqltext = "";
  if (table_sql(c, a, schema, table, &sql, &err) != 0) {
    rt_error_clear(&err);
    return 0;
  }
  if (sql == NULL) return 0;
  for (p = col->name; *p; p++) { /* re.escape */
    if (!isalnum((unsigned char)*p) && *p != '_' && !(*p & 0x80))
      rt_sb_addc(&b, '\\');
    rt_sb_addc(&b, *p);
  }
  rt_sb_adds(&b, "[^,]*\\s+AS\\s+\\(([^,]*)\\)\\s*(?:virtual|stored)?");
  if (b.failed || scan_open(&sc, b.p, sql) != 0)
    m = -1;
  else if ((m = scan_next(&sc)) == 1)
    col->computed_sqltext = group(a, &sc, 1);
  scan_close(&sc);
  rt_sb_free(&b);
  return m < 0 || col->computed_sqltext == NULL ? -1 : 0;
}

/* --- constraints --- */

static int sqlite_pk(rt_connection *c, const char *schema, const char *table,
                     rt_refl *out, rt_error *err) {
  rt_refl tmp;
  const char *sql;
  scan sc;
  int i, pos, rc;
  rt_refl_init(&tmp);
  rc = sqlite_columns(c, schema, table, &tmp, err);
  if (rc == 0) rc = table_sql(c, &tmp.arena, schema, table, &sql, err);
  if (rc == 0 && sql) {
    int m = scan_open(&sc, PK_PATTERN, sql) == 0 ? scan_next(&sc) : -1;
    if (m < 0)
      rc = rt_error_set(err, RT_EMEMORY, "out of memory");
    else if (m == 1)
      out->pk.name = group(&out->arena, &sc, 1);
    scan_close(&sc);
  }
  if (rc == 0)
    for (pos = 1; pos <= tmp.ncols; pos++)
      for (i = 0; i < tmp.ncols; i++)
        if (tmp.cols[i].pk == pos)
          rt_names_add(&out->arena, &out->pk.cols, tmp.cols[i].name);
  rt_refl_free(&tmp);
  return rc;
}

/* One key SQLAlchemy's FK_PATTERN found in the text. */
typedef struct textkey {
  const char *name;
  rt_names cols, refcols;
  const char *reftable;
  const char *ondelete, *onupdate, *initially;
  int deferrable;
} textkey;

/* The ON DELETE / ON UPDATE actions in group 6 of a FK_PATTERN match. */
static int fk_actions(rt_arena *a, const char *clause, textkey *k) {
  scan sc;
  int rc;
  if (clause == NULL) return 0;
  if (scan_open(&sc, FK_ACTION_PATTERN, clause) != 0) return -1;
  while ((rc = scan_next(&sc)) == 1) {
    char *what = (char *)group(a, &sc, 1), *action = (char *)group(a, &sc, 2);
    if (what == NULL || action == NULL) {
      rc = -1;
      break;
    }
    upcase(what);
    upcase(action);
    /* NO ACTION is the default: left out, and it undoes an earlier one */
    if (strcmp(action, "NO ACTION") == 0) action = NULL;
    if (what[0] == 'D' && action) k->ondelete = action;
    if (what[0] == 'U' && action) k->onupdate = action;
  }
  scan_close(&sc);
  return rc;
}

static int text_keys(rt_arena *a, const char *sql, textkey **keys, int *n) {
  scan sc;
  int rc;
  if (scan_open(&sc, FK_PATTERN, sql) != 0) return -1;
  while ((rc = scan_next(&sc)) == 1) {
    textkey *k = rt_arena_push(a, keys, n, sizeof *k);
    const char *deferrable = group(a, &sc, 7);
    char *initially = (char *)group(a, &sc, 8);
    if (k == NULL) {
      rc = -1;
      break;
    }
    k->name = group(a, &sc, 1);
    k->reftable = group(a, &sc, 3);
    if (k->reftable == NULL || !*k->reftable) k->reftable = group(a, &sc, 4);
    if (cols_in_sig(a, group(a, &sc, 2), &k->cols) != 0 ||
        cols_in_sig(a, group(a, &sc, 5), &k->refcols) != 0 ||
        fk_actions(a, group(a, &sc, 6), k) != 0) {
      rc = -1;
      break;
    }
    if (k->refcols.n == 0) k->refcols = k->cols;
    if (deferrable) {
      char *up = (char *)deferrable;
      upcase(up);
      k->deferrable =
          strstr(up, "NOT") ? RT_REFL_NOT_DEFERRABLE : RT_REFL_DEFERRABLE;
    }
    upcase(initially);
    k->initially = initially;
  }
  scan_close(&sc);
  return rc < 0 ? -1 : 0;
}

static int same_key(const rt_refl_fk *x, const rt_names *cols,
                    const char *reftable, const rt_names *refcols) {
  return same_names(&x->cols, cols) && x->reftable && reftable &&
         strcmp(x->reftable, reftable) == 0 && same_names(&x->refcols, refcols);
}

/*
** foreign_key_list gives the keys (rows: id, seq, table, from, to,
** on_update, on_delete, match) without names or options; those come from
** SQLAlchemy's FK_PATTERN over the text, matched to a key by its columns
** and referred table.  Keys found in the text come first, in text order,
** with their name and options; the rest (inline REFERENCES, or what the
** pattern misses) follow in the PRAGMA's order with neither -- so an
** inline key's ON DELETE is not reported, as SQLAlchemy 1.4 reports it.
*/
static int sqlite_fks(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  rt_arena *a = &out->arena;
  rt_rows rows;
  rt_refl_fk *keys = NULL;
  textkey *tk = NULL;
  int nkeys = 0, ntk = 0, *used, i, k;
  const char *sql;
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
  if (sql == NULL) return 0; /* SQLAlchemy reports none without the text */
  if (text_keys(a, sql, &tk, &ntk) != 0)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  used = rt_arena_alloc(a, sizeof *used * (size_t)(nkeys + 1));
  if (used == NULL) return -1;
  /* keys alike in columns and target are one entry in SQLAlchemy's map */
  for (k = 0; k < nkeys; k++)
    for (i = 0; i < k && !used[k]; i++)
      if (same_key(&keys[i], &keys[k].cols, keys[k].reftable, &keys[k].refcols))
        used[k] = 1;
  for (i = 0; i < ntk; i++)
    for (k = 0; k < nkeys; k++) {
      rt_refl_fk *slot;
      if (used[k] ||
          !same_key(&keys[k], &tk[i].cols, tk[i].reftable, &tk[i].refcols))
        continue;
      used[k] = 1;
      slot = rt_arena_push(a, &out->fks, &out->nfks, sizeof *slot);
      if (slot == NULL) return -1;
      *slot = keys[k];
      slot->name = tk[i].name;
      slot->ondelete = tk[i].ondelete;
      slot->onupdate = tk[i].onupdate;
      slot->deferrable = tk[i].deferrable;
      slot->initially = tk[i].initially;
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

/* The predicate of a partial index, read from its CREATE INDEX text with
** SQLAlchemy's pattern (NULL when it doesn't match). */
static int partial_where(rt_connection *c, rt_arena *a, const char *schema,
                         const char *index, const char **where, rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_rows rows;
  scan sc;
  int rc, m;
  *where = NULL;
  rt_sb_adds(&b, "SELECT sql FROM ");
  if (schema) {
    add_quoted(&b, schema);
    rt_sb_addc(&b, '.');
  }
  rt_sb_adds(&b, "sqlite_master WHERE name = ? AND type = 'index'");
  if (b.failed) {
    rt_sb_free(&b);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  rc = rt_refl_query(c, a, b.p, &index, 1, &rows, err);
  rt_sb_free(&b);
  if (rc != 0 || rows.n == 0 || RT_CELL(&rows, 0, 0) == NULL) return rc;
  m = scan_open(&sc, PARTIAL_PATTERN, RT_CELL(&rows, 0, 0)) == 0
          ? scan_next(&sc)
          : -1;
  if (m == 1) *where = group(a, &sc, 1);
  scan_close(&sc);
  return m < 0 ? rt_error_set(err, RT_EMEMORY, "out of memory") : 0;
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
    ix->has_dialect_options = 1;
    if (rows.ncols > 4 && rt_refl_truthy(RT_CELL(&rows, i, 4)) &&
        partial_where(c, a, schema, name, &ix->where, err) != 0)
      return -1;
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

/* The UNIQUE declarations SQLAlchemy's two patterns find, named ones
** (table-level) first, then inline ones (never named). */
typedef struct textuq {
  const char *name;
  rt_names cols;
} textuq;

static int text_uniques(rt_arena *a, const char *sql, textuq **uqs, int *n) {
  static const char *const patterns[] = {UNIQUE_PATTERN, INLINE_UNIQUE_PATTERN};
  int pass, rc = 0;
  for (pass = 0; pass < 2 && rc == 0; pass++) {
    scan sc;
    if (scan_open(&sc, patterns[pass], sql) != 0) return -1;
    while ((rc = scan_next(&sc)) == 1) {
      textuq *u = rt_arena_push(a, uqs, n, sizeof *u);
      const char *sig = group(a, &sc, pass == 0 ? 2 : 1);
      if (pass == 1 && sig == NULL) sig = group(a, &sc, 2);
      if (u == NULL || cols_in_sig(a, sig, &u->cols) != 0) {
        rc = -1;
        break;
      }
      u->name = pass == 0 ? group(a, &sc, 1) : NULL;
    }
    scan_close(&sc);
  }
  return rc < 0 ? -1 : 0;
}

/*
** A UNIQUE constraint is an automatic index whose columns are those of a
** UNIQUE the text declares; each automatic index answers once.
*/
static int sqlite_uniques(rt_connection *c, const char *schema,
                          const char *table, rt_refl *out, rt_error *err) {
  rt_refl autos;
  const char *sql;
  textuq *uq = NULL;
  int nuq = 0, i, k, rc = 0, *used;
  rt_refl_init(&autos);
  if (list_indexes(c, schema, table, 1, &autos, err) != 0 ||
      table_sql(c, &out->arena, schema, table, &sql, err) != 0) {
    rt_refl_free(&autos);
    return -1;
  }
  if (sql == NULL) {
    rt_refl_free(&autos);
    return 0;
  }
  used =
      rt_arena_alloc(&out->arena, sizeof *used * (size_t)(autos.nindexes + 1));
  if (used == NULL || text_uniques(&out->arena, sql, &uq, &nuq) != 0)
    rc = rt_error_set(err, RT_EMEMORY, "out of memory");
  /* indexes alike in columns are one entry in SQLAlchemy's map */
  for (k = 0; rc == 0 && k < autos.nindexes; k++)
    for (i = 0; i < k && !used[k]; i++)
      if (same_names(&autos.indexes[i].cols, &autos.indexes[k].cols))
        used[k] = 1;
  for (i = 0; rc == 0 && i < nuq; i++) {
    rt_refl_unique *u;
    for (k = 0; k < autos.nindexes; k++)
      if (!used[k] && same_names(&autos.indexes[k].cols, &uq[i].cols)) break;
    if (k == autos.nindexes) continue;
    used[k] = 1;
    u = rt_arena_push(&out->arena, &out->uniques, &out->nuniques, sizeof *u);
    if (u == NULL) break;
    u->name = uq[i].name;
    u->cols = uq[i].cols;
  }
  rt_refl_free(&autos);
  return rc;
}

/* CHECK constraints: SQLAlchemy's pattern over the text, which takes each
** to run to the last parenthesis of its line. */
static int sqlite_checks(rt_connection *c, const char *schema,
                         const char *table, rt_refl *out, rt_error *err) {
  rt_arena *a = &out->arena;
  const char *sql;
  scan sc;
  int rc;
  if (table_sql(c, a, schema, table, &sql, err) != 0) return -1;
  if (sql == NULL) return 0;
  if (scan_open(&sc, CHECK_PATTERN, sql) != 0)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  while ((rc = scan_next(&sc)) == 1) {
    rt_refl_check *ck =
        rt_arena_push(a, &out->checks, &out->nchecks, sizeof *ck);
    char *name = (char *)group(a, &sc, 1);
    if (ck == NULL) {
      rc = -1;
      break;
    }
    /* re.sub('^"|"$', '', name) */
    if (name && name[0] == '"') name++;
    if (name && *name && name[strlen(name) - 1] == '"')
      name[strlen(name) - 1] = '\0';
    ck->name = name;
    ck->sqltext = group(a, &sc, 2);
  }
  scan_close(&sc);
  return rc < 0 ? rt_error_set(err, RT_EMEMORY, "out of memory") : 0;
}

static int sqlite_default_schema(rt_connection *c, rt_refl *out,
                                 rt_error *err) {
  (void)c;
  (void)err;
  out->text = rt_arena_strdup(&out->arena, "main");
  return 0;
}

/* The CREATE VIEW text as it was typed. */
static int sqlite_view_definition(rt_connection *c, const char *schema,
                                  const char *view, rt_refl *out,
                                  rt_error *err) {
  const char *sql;
  int rc = master_sql(c, &out->arena, schema, view, "view", &sql, err);
  if (rc == 0) out->text = sql;
  return rc;
}

const rt_reflector rt_sqlite_reflector = {
    "sqlite",
    1,
    sqlite_table_names,
    sqlite_schema_names,
    sqlite_has_table,
    sqlite_columns,
    sqlite_pk,
    sqlite_fks,
    sqlite_indexes,
    sqlite_uniques,
    sqlite_checks,
    NULL,
    sqlite_default_schema,
    NULL,
    sqlite_view_definition,
};
