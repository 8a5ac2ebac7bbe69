/*
** postgresql_reflect.c -- reflection for PostgreSQL from pg_catalog.
**
** Tables are found by name in a schema (default: the first schema of the
** search path that holds the table, as pg_table_is_visible decides); every
** later question is asked by the table's oid.  Keys and indexes come from
** pg_constraint and pg_index, their columns from the key arrays unnested
** with their ordinal positions, so no definition text is parsed.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reflection.h"

/* The oid of a table, view, materialized view, foreign or partitioned
** table, as text; NULL (not an error) when there is none. */
static int table_oid(rt_connection *c, rt_arena *a, const char *schema,
                     const char *table, const char **oid, rt_error *err) {
  const char *params[2];
  rt_rows rows;
  int rc;
  params[0] = table;
  params[1] = schema;
  rc = rt_refl_query(
      c, a,
      "SELECT c.oid FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relname = $1 AND c.relkind IN ('r', 'v', 'm', 'f', 'p') "
      "AND CASE WHEN $2::text IS NULL "
      "THEN pg_catalog.pg_table_is_visible(c.oid) "
      "ELSE n.nspname = $2::text END",
      params, 2, &rows, err);
  *oid = rc == 0 && rows.n > 0 ? RT_CELL(&rows, 0, 0) : NULL;
  return rc;
}

static int need_oid(rt_connection *c, rt_arena *a, const char *schema,
                    const char *table, const char **oid, rt_error *err) {
  if (table_oid(c, a, schema, table, oid, err) != 0) return -1;
  return *oid ? 0 : rt_refl_nosuchtable(err, table);
}

/* In the catalog's order, unsorted: the query SQLAlchemy sends */
static int pg_table_names(rt_connection *c, const char *schema, int views,
                          rt_refl *out, rt_error *err) {
  const char *params[1];
  rt_rows rows;
  int i;
  params[0] = schema;
  if (rt_refl_query(c, &out->arena,
                    views ? "SELECT c.relname FROM pg_catalog.pg_class c "
                            "JOIN pg_catalog.pg_namespace n "
                            "ON n.oid = c.relnamespace "
                            "WHERE n.nspname = coalesce($1, current_schema()) "
                            "AND c.relkind IN ('v', 'm')"
                          : "SELECT c.relname FROM pg_catalog.pg_class c "
                            "JOIN pg_catalog.pg_namespace n "
                            "ON n.oid = c.relnamespace "
                            "WHERE n.nspname = coalesce($1, current_schema()) "
                            "AND c.relkind IN ('r', 'p')",
                    params, 1, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++)
    rt_names_add(&out->arena, &out->names, RT_CELL(&rows, i, 0));
  return 0;
}

/* SQLAlchemy's filter, whose "_" is a wildcard: "pgx" is left out too */
static int pg_schema_names(rt_connection *c, rt_refl *out, rt_error *err) {
  rt_rows rows;
  int i;
  if (rt_refl_query(c, &out->arena,
                    "SELECT nspname FROM pg_catalog.pg_namespace "
                    "WHERE nspname NOT LIKE 'pg_%' "
                    "ORDER BY nspname",
                    NULL, 0, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++)
    rt_names_add(&out->arena, &out->names, RT_CELL(&rows, i, 0));
  return 0;
}

static int pg_has_table(rt_connection *c, const char *schema, const char *table,
                        int *exists, rt_error *err) {
  rt_refl tmp;
  const char *oid;
  int rc;
  rt_refl_init(&tmp);
  rc = table_oid(c, &tmp.arena, schema, table, &oid, err);
  *exists = rc == 0 && oid != NULL;
  rt_refl_free(&tmp);
  return rc;
}

/*
** A column autoincrements when it is an identity column, or when it is an
** integer whose default draws from a sequence (serial).  For a table named
** with its schema, a sequence default is schema-qualified as SQLAlchemy
** does, so it still names the right sequence elsewhere.
*/
static int is_integer(const char *type) {
  return strcmp(type, "integer") == 0 || strcmp(type, "bigint") == 0 ||
         strcmp(type, "smallint") == 0;
}

static const char *qualify_nextval(rt_arena *a, const char *dflt,
                                   const char *schema) {
  const char *seq = strstr(dflt, "nextval('"), *end;
  char *s;
  size_t n;
  if (seq == NULL || schema == NULL) return dflt;
  seq += 9;
  end = strchr(seq, '\'');
  if (end == NULL || memchr(seq, '.', (size_t)(end - seq))) return dflt;
  n = strlen(dflt) + strlen(schema) + 4;
  s = rt_arena_alloc(a, n);
  if (s == NULL) return NULL;
  snprintf(s, n, "%.*s\"%s\".%s", (int)(seq - dflt), dflt, schema, seq);
  return s;
}

/*
** A column's type text: format_type(), but an enum (or an array of one)
** is written "enum:NAME('a','b')" (quotes doubled) so that its name and
** labels come along, and a domain is its base type without arguments, as
** SQLAlchemy's _get_column_info reads them (core/reflection.c parses the
** text).
*/
/* clang-format off */
#define PG_ENUM_TEXT(t)                                                        \
  "'enum:' || " t ".typname || '(' || COALESCE((SELECT string_agg("          \
  "chr(39) || replace(e.enumlabel, chr(39), chr(39) || chr(39)) || chr(39), " \
  "',' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e "                  \
  "WHERE e.enumtypid = " t ".oid), '') || ')'"
#define PG_TYPE_TEXT                                                           \
  "CASE WHEN t.typtype = 'e' THEN " PG_ENUM_TEXT("t")                          \
  " WHEN et.typtype = 'e' THEN " PG_ENUM_TEXT("et") " || '[]'"                 \
  " WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, NULL)"     \
  " ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END"
/* clang-format on */

static int pg_columns(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  const char *oid;
  rt_rows rows;
  int i;
  if (need_oid(c, &out->arena, schema, table, &oid, err) != 0) return -1;
  if (rt_refl_query(
          c, &out->arena,
          "SELECT a.attname, " PG_TYPE_TEXT ", "
          "COALESCE((SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) "
          " FROM pg_catalog.pg_attrdef d "
          " WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum "
          " AND a.atthasdef), "
          " CASE WHEN t.typtype = 'd' THEN t.typdefault END), "
          "a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), "
          "pgd.description, a.attgenerated, "
          "a.attidentity, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, "
          "s.seqcache, s.seqcycle "
          "FROM pg_catalog.pg_attribute a "
          "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
          "LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem "
          "AND t.typcategory = 'A' "
          "LEFT JOIN pg_catalog.pg_description pgd "
          "ON pgd.objoid = a.attrelid AND pgd.objsubid = a.attnum "
          "LEFT JOIN pg_catalog.pg_sequence s ON a.attidentity <> '' "
          "AND s.seqrelid = pg_catalog.pg_get_serial_sequence("
          "a.attrelid::regclass::text, a.attname)::regclass "
          "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
          "ORDER BY a.attnum",
          &oid, 1, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_column *col =
        rt_arena_push(&out->arena, &out->cols, &out->ncols, sizeof *col);
    const char *type = RT_CELL(&rows, i, 1), *dflt = RT_CELL(&rows, i, 2);
    const char *gen = RT_CELL(&rows, i, 5), *ident = RT_CELL(&rows, i, 6);
    int generated = gen && *gen, k;
    if (col == NULL) return -1;
    col->name = RT_CELL(&rows, i, 0);
    col->type = type;
    col->nullable = !rt_refl_truthy(RT_CELL(&rows, i, 3));
    col->comment = RT_CELL(&rows, i, 4);
    col->autoincrement = ident && *ident ? RT_AUTOINC_TRUE : RT_AUTOINC_FALSE;
    if (ident && *ident && RT_CELL(&rows, i, 7)) {
      col->identity =
          ident[0] == 'a' ? RT_IDENTITY_ALWAYS : RT_IDENTITY_BY_DEFAULT;
      for (k = 0; k < 6; k++) col->seq[k] = RT_CELL(&rows, i, 7 + k);
    }
    if (generated) { /* the default is the computed column's expression */
      col->computed = gen[0] == 's' ? RT_COMPUTED_STORED : RT_COMPUTED_VIRTUAL;
      col->computed_sqltext = dflt;
      dflt = NULL;
    }
    if (dflt && strstr(dflt, "nextval('")) {
      if (type && is_integer(type)) col->autoincrement = RT_AUTOINC_TRUE;
      dflt = qualify_nextval(&out->arena, dflt, schema);
    }
    col->dflt = dflt;
  }
  return 0;
}

/* Column names of a key array of the table, in key order. */
#define KEY_COLUMNS(keys, rel)                                                 \
  "ARRAY(SELECT a.attname FROM unnest(" keys ") WITH ORDINALITY k(n, i) "      \
  "JOIN pg_catalog.pg_attribute a ON a.attrelid = " rel " AND a.attnum = k.n " \
  "ORDER BY k.i)::text"

/* Split PostgreSQL's text form of a name array, {a,"b c"}, into names. */
static int add_array(rt_arena *a, rt_names *l, const char *s) {
  char *buf, *d;
  if (s == NULL || *s != '{') return 0;
  buf = rt_arena_alloc(a, strlen(s) + 1);
  if (buf == NULL) return -1;
  for (s++; *s && *s != '}';) {
    d = buf;
    if (*s == '"') {
      for (s++; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1]) s++;
        *d++ = *s;
      }
      if (*s) s++;
    } else
      while (*s && *s != ',' && *s != '}') *d++ = *s++;
    *d = '\0';
    if (rt_names_add(a, l, buf) != 0) return -1;
    if (*s == ',') s++;
  }
  return 0;
}

static int pg_pk(rt_connection *c, const char *schema, const char *table,
                 rt_refl *out, rt_error *err) {
  const char *oid;
  rt_rows rows;
  if (need_oid(c, &out->arena, schema, table, &oid, err) != 0) return -1;
  if (rt_refl_query(
          c, &out->arena,
          "SELECT r.conname, " KEY_COLUMNS(
              "r.conkey",
              "r.conrelid") " FROM pg_catalog.pg_constraint r "
                            "WHERE r.conrelid = $1::oid AND r.contype = 'p'",
          &oid, 1, &rows, err) != 0)
    return -1;
  if (rows.n == 0) return 0;
  out->pk.name = RT_CELL(&rows, 0, 0);
  return add_array(&out->arena, &out->pk.cols, RT_CELL(&rows, 0, 1));
}

static const char *fk_action(const char *code) {
  switch (code ? code[0] : 'a') {
  case 'r':
    return "RESTRICT";
  case 'c':
    return "CASCADE";
  case 'n':
    return "SET NULL";
  case 'd':
    return "SET DEFAULT";
  default:
    return NULL; /* 'a': NO ACTION, the default */
  }
}

/*
** The referred schema is reported only when the referred table is not
** visible on the search path (it would need qualifying), or when the table
** was asked for with that schema -- SQLAlchemy's rule.
*/
static int pg_fks(rt_connection *c, const char *schema, const char *table,
                  rt_refl *out, rt_error *err) {
  const char *oid, *params[2];
  rt_rows rows;
  int i;
  if (need_oid(c, &out->arena, schema, table, &oid, err) != 0) return -1;
  params[0] = oid;
  params[1] = schema;
  if (rt_refl_query(
          c, &out->arena,
          "SELECT r.conname, " KEY_COLUMNS(
              "r.conkey",
              "r.conrelid") ", CASE WHEN n.nspname = $2::text THEN n.nspname "
                            "WHEN pg_catalog.pg_table_is_visible(f.oid) THEN "
                            "NULL "
                            "ELSE n.nspname END, f.relname, " KEY_COLUMNS(
                                "r.confkey",
                                "r.confrelid") ", r.confdeltype, "
                                               "r.confupdtype, "
                                               "r.condeferrable, "
                                               "r.condeferred, "
                                               "r.confmatchtype "
                                               "FROM pg_catalog.pg_constraint "
                                               "r "
                                               "JOIN pg_catalog.pg_class f ON "
                                               "f.oid = r.confrelid "
                                               "JOIN pg_catalog.pg_namespace n "
                                               "ON n.oid = f.relnamespace "
                                               "WHERE r.conrelid = $1::oid AND "
                                               "r.contype = 'f' ORDER BY "
                                               "r.conname",
          params, 2, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_fk *fk =
        rt_arena_push(&out->arena, &out->fks, &out->nfks, sizeof *fk);
    if (fk == NULL) return -1;
    fk->name = RT_CELL(&rows, i, 0);
    fk->refschema = RT_CELL(&rows, i, 2);
    fk->reftable = RT_CELL(&rows, i, 3);
    fk->ondelete = fk_action(RT_CELL(&rows, i, 5));
    fk->onupdate = fk_action(RT_CELL(&rows, i, 6));
    /* what pg_get_constraintdef spells out beyond the defaults */
    if (rt_refl_truthy(RT_CELL(&rows, i, 7)))
      fk->deferrable = RT_REFL_DEFERRABLE;
    if (rt_refl_truthy(RT_CELL(&rows, i, 8))) fk->initially = "DEFERRED";
    if (RT_CELL(&rows, i, 9) && RT_CELL(&rows, i, 9)[0] == 'f')
      fk->match = "FULL";
    else if (RT_CELL(&rows, i, 9) && RT_CELL(&rows, i, 9)[0] == 'p')
      fk->match = "PARTIAL";
    if (add_array(&out->arena, &fk->cols, RT_CELL(&rows, i, 1)) != 0 ||
        add_array(&out->arena, &fk->refcols, RT_CELL(&rows, i, 4)) != 0)
      return -1;
  }
  return 0;
}

/*
** pg_index.indoption holds one flag word per key column: 1 for DESC, 2
** for NULLS FIRST.  Only what differs from PostgreSQL's default order is
** kept (NULLS LAST for a DESC column, NULLS FIRST for an ASC one), as
** SQLAlchemy reports it.
*/
static int index_sorting(rt_arena *a, rt_refl_index *ix, const char *opts) {
  int k, any = 0;
  char *end;
  if (opts == NULL || ix->cols.n == 0) return 0;
  ix->sorting = rt_arena_alloc(a, sizeof(int) * (size_t)ix->cols.n);
  if (ix->sorting == NULL) return -1;
  for (k = 0; k < ix->cols.n; k++) {
    long f = strtol(opts, &end, 10);
    int s = 0;
    if (end == opts) f = 0;
    opts = end;
    if (f & 1)
      s = RT_SORT_DESC | ((f & 2) ? 0 : RT_SORT_NULLS_LAST);
    else if (f & 2)
      s = RT_SORT_NULLS_FIRST;
    ix->sorting[k] = s;
    any |= s;
  }
  if (!any) ix->sorting = NULL;
  return 0;
}

/*
** Indexes other than the primary key's, by name; one that backs a UNIQUE
** (or exclusion) constraint is listed with that constraint's name in
** duplicates_constraint, as SQLAlchemy lists it.  Expression indexes are
** left out, and INCLUDE columns are not key columns.
*/
static int pg_indexes(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  const char *oid;
  rt_rows rows;
  int i;
  if (need_oid(c, &out->arena, schema, table, &oid, err) != 0) return -1;
  if (rt_refl_query(
          c, &out->arena,
          "SELECT i.relname, ix.indisunique, "
          "ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY "
          " k(n, o) JOIN pg_catalog.pg_attribute a "
          " ON a.attrelid = ix.indrelid AND a.attnum = k.n "
          " WHERE k.o <= ix.indnkeyatts ORDER BY k.o)::text, "
          "con.conname, "
          "ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY "
          " k(n, o) JOIN pg_catalog.pg_attribute a "
          " ON a.attrelid = ix.indrelid AND a.attnum = k.n "
          " WHERE k.o > ix.indnkeyatts ORDER BY k.o)::text, "
          "pg_catalog.pg_get_expr(ix.indpred, ix.indrelid), "
          "NULLIF(am.amname, 'btree'), ix.indoption::text, "
          "i.reloptions::text "
          "FROM pg_catalog.pg_index ix "
          "JOIN pg_catalog.pg_class i ON i.oid = ix.indexrelid "
          "LEFT JOIN pg_catalog.pg_am am ON am.oid = i.relam "
          "LEFT JOIN pg_catalog.pg_constraint con "
          "ON con.conrelid = ix.indrelid AND con.conindid = ix.indexrelid "
          "AND con.contype IN ('p', 'u', 'x') "
          "WHERE ix.indrelid = $1::oid AND NOT ix.indisprimary "
          "AND ix.indexprs IS NULL ORDER BY i.relname",
          &oid, 1, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_index *ix =
        rt_arena_push(&out->arena, &out->indexes, &out->nindexes, sizeof *ix);
    if (ix == NULL) return -1;
    ix->name = RT_CELL(&rows, i, 0);
    ix->unique = rt_refl_truthy(RT_CELL(&rows, i, 1));
    ix->duplicates = RT_CELL(&rows, i, 3);
    ix->where = RT_CELL(&rows, i, 5);
    ix->using = RT_CELL(&rows, i, 6);
    ix->has_dialect_options = 1;
    if (add_array(&out->arena, &ix->cols, RT_CELL(&rows, i, 2)) != 0 ||
        add_array(&out->arena, &ix->include, RT_CELL(&rows, i, 4)) != 0 ||
        add_array(&out->arena, &ix->with, RT_CELL(&rows, i, 8)) != 0 ||
        index_sorting(&out->arena, ix, RT_CELL(&rows, i, 7)) != 0)
      return -1;
  }
  return 0;
}

static int pg_uniques(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  const char *oid;
  rt_rows rows;
  int i;
  if (need_oid(c, &out->arena, schema, table, &oid, err) != 0) return -1;
  if (rt_refl_query(
          c, &out->arena,
          "SELECT r.conname, " KEY_COLUMNS(
              "r.conkey",
              "r.conrelid") " FROM pg_catalog.pg_constraint r "
                            "WHERE r.conrelid = $1::oid AND r.contype = 'u' "
                            "ORDER BY r.conname",
          &oid, 1, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_unique *u =
        rt_arena_push(&out->arena, &out->uniques, &out->nuniques, sizeof *u);
    if (u == NULL) return -1;
    u->name = RT_CELL(&rows, i, 0);
    if (add_array(&out->arena, &u->cols, RT_CELL(&rows, i, 1)) != 0) return -1;
  }
  return 0;
}

static int is_space(char ch) {
  return ch != '\0' && strchr(" \t\n\r\f\v", ch) != NULL;
}

/*
** "CHECK ((a > 1)) NOT VALID" -> sqltext "a > 1", not_valid.  SQLAlchemy
** takes what lies between "CHECK (" and the last ")" (before NOT VALID),
** then drops one "(" at its start and one ")" at its end when both are
** there, whether or not they pair up.
*/
static void check_text(rt_arena *a, const char *src, rt_refl_check *ck) {
  const char *open, *close, *end;
  size_t n = strlen(src);
  ck->sqltext = "";
  if (strncmp(src, "CHECK", 5) != 0) return;
  for (open = src + 5; *open == ' '; open++)
    ;
  if (n >= 11 && strcmp(src + n - 11, ") NOT VALID") == 0) {
    ck->not_valid = 1;
    n -= 10;
  }
  close = src + n - 1;
  if (*open != '(' || close <= open + 1 || *close != ')') {
    ck->not_valid = 0;
    return;
  }
  open++;
  end = close;
  {
    const char *p = open, *q = end;
    while (p < q && is_space(*p)) p++;
    while (q > p && is_space(q[-1])) q--;
    if (q - p >= 3 && *p == '(' && q[-1] == ')') {
      open = p + 1;
      end = q - 1;
    }
  }
  ck->sqltext = rt_arena_strndup(a, open, (size_t)(end - open));
}

static int pg_checks(rt_connection *c, const char *schema, const char *table,
                     rt_refl *out, rt_error *err) {
  const char *oid;
  rt_rows rows;
  int i;
  if (need_oid(c, &out->arena, schema, table, &oid, err) != 0) return -1;
  if (rt_refl_query(c, &out->arena,
                    "SELECT cons.conname, pg_catalog.pg_get_constraintdef("
                    "cons.oid) FROM pg_catalog.pg_constraint cons "
                    "WHERE cons.conrelid = $1::oid AND cons.contype = 'c'",
                    &oid, 1, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_check *ck =
        rt_arena_push(&out->arena, &out->checks, &out->nchecks, sizeof *ck);
    if (ck == NULL) return -1;
    ck->name = RT_CELL(&rows, i, 0);
    check_text(&out->arena, RT_CELL(&rows, i, 1) ? RT_CELL(&rows, i, 1) : "",
               ck);
  }
  return 0;
}

static int pg_comment(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  const char *oid;
  rt_rows rows;
  if (need_oid(c, &out->arena, schema, table, &oid, err) != 0) return -1;
  if (rt_refl_query(c, &out->arena,
                    "SELECT pgd.description FROM pg_catalog.pg_description pgd "
                    "WHERE pgd.objsubid = 0 AND pgd.objoid = $1::oid",
                    &oid, 1, &rows, err) != 0)
    return -1;
  out->comment = rows.n > 0 ? RT_CELL(&rows, 0, 0) : NULL;
  return 0;
}

static int pg_default_schema(rt_connection *c, rt_refl *out, rt_error *err) {
  rt_rows rows;
  if (rt_refl_query(c, &out->arena, "SELECT current_schema()", NULL, 0, &rows,
                    err) != 0)
    return -1;
  out->text = rows.n > 0 ? RT_CELL(&rows, 0, 0) : NULL;
  return 0;
}

static int pg_sequences(rt_connection *c, const char *schema, const char *name,
                        rt_refl *out, rt_error *err) {
  const char *params[2];
  rt_rows rows;
  int i;
  params[0] = schema;
  params[1] = name;
  if (rt_refl_query(c, &out->arena,
                    "SELECT c.relname FROM pg_catalog.pg_class c "
                    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'S' "
                    "AND n.nspname = coalesce($1, current_schema()) "
                    "AND ($2::text IS NULL OR c.relname = $2::text) "
                    "ORDER BY c.relname",
                    params, 2, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++)
    rt_names_add(&out->arena, &out->names, RT_CELL(&rows, i, 0));
  return 0;
}

/* pg_get_viewdef's text, of a view or a materialized view */
static int pg_view_definition(rt_connection *c, const char *schema,
                              const char *view, rt_refl *out, rt_error *err) {
  const char *params[2];
  rt_rows rows;
  params[0] = schema;
  params[1] = view;
  if (rt_refl_query(c, &out->arena,
                    "SELECT pg_get_viewdef(c.oid) FROM pg_catalog.pg_class c "
                    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = coalesce($1, current_schema()) "
                    "AND c.relname = $2 AND c.relkind IN ('v', 'm')",
                    params, 2, &rows, err) != 0)
    return -1;
  out->text = rows.n > 0 ? RT_CELL(&rows, 0, 0) : NULL;
  return 0;
}

const rt_reflector rt_postgresql_reflector = {
    "postgresql",
    0,
    pg_table_names,
    pg_schema_names,
    pg_has_table,
    pg_columns,
    pg_pk,
    pg_fks,
    pg_indexes,
    pg_uniques,
    pg_checks,
    pg_comment,
    pg_default_schema,
    pg_sequences,
    pg_view_definition,
};
