/*
** mysql_reflect.c -- reflection for MySQL and MariaDB from
** information_schema.
**
** SQLAlchemy parses SHOW CREATE TABLE; the same facts are in
** information_schema, where the table name can be a bound parameter.  The
** schema defaults to the connection's database (the URL's).  Results keep
** SHOW CREATE TABLE's order: keys as the server keeps them (the order
** STATISTICS lists them in), foreign keys by name.
*/
#include <stdlib.h>
#include <string.h>

#include "core/reflection.h"
#include "core/strbuf.h"
#include "regex_reflect.h"

#define SCHEMA "coalesce(?, database())"

static int add_column_list(rt_refl *out, const rt_rows *rows, int col) {
  int i;
  for (i = 0; i < rows->n; i++)
    if (rt_names_add(&out->arena, &out->names, RT_CELL(rows, i, col)) != 0)
      return -1;
  return 0;
}

/* By the names' bytes, as SHOW FULL TABLES (SQLAlchemy's) lists them */
static int my_table_names(rt_connection *c, const char *schema, int views,
                          rt_refl *out, rt_error *err) {
  rt_rows rows;
  if (rt_refl_query(c, &out->arena,
                    views ? "SELECT TABLE_NAME FROM information_schema.TABLES "
                            "WHERE TABLE_SCHEMA = " SCHEMA
                            " AND TABLE_TYPE IN ('VIEW', 'SYSTEM VIEW') "
                            "ORDER BY BINARY TABLE_NAME"
                          : "SELECT TABLE_NAME FROM information_schema.TABLES "
                            "WHERE TABLE_SCHEMA = " SCHEMA
                            " AND TABLE_TYPE = 'BASE TABLE' "
                            "ORDER BY BINARY TABLE_NAME",
                    &schema, 1, &rows, err) != 0)
    return -1;
  return add_column_list(out, &rows, 0);
}

static int my_schema_names(rt_connection *c, rt_refl *out, rt_error *err) {
  rt_rows rows;
  if (rt_refl_query(c, &out->arena,
                    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                    "ORDER BY SCHEMA_NAME",
                    NULL, 0, &rows, err) != 0)
    return -1;
  return add_column_list(out, &rows, 0);
}

static int my_has_table(rt_connection *c, const char *schema, const char *table,
                        int *exists, rt_error *err) {
  rt_refl tmp;
  const char *params[2];
  rt_rows rows;
  int rc;
  params[0] = schema;
  params[1] = table;
  rt_refl_init(&tmp);
  rc = rt_refl_query(c, &tmp.arena,
                     "SELECT 1 FROM information_schema.TABLES "
                     "WHERE TABLE_SCHEMA = " SCHEMA " AND TABLE_NAME = ?",
                     params, 2, &rows, err);
  *exists = rc == 0 && rows.n > 0;
  rt_refl_free(&tmp);
  return rc;
}

/* SHOW CREATE TABLE marks integer columns AUTO_INCREMENT or not; for other
** types SQLAlchemy's parse leaves autoincrement unreported. */
static int is_integer(const char *data_type) {
  static const char *const ints[] = {"tinyint", "smallint", "mediumint",
                                     "int",     "integer",  "bigint"};
  size_t i;
  for (i = 0; data_type && i < sizeof ints / sizeof ints[0]; i++)
    if (strcmp(data_type, ints[i]) == 0) return 1;
  return 0;
}

/*
** The column's type as SHOW CREATE TABLE writes it, which is what
** SQLAlchemy parses: a column whose collation is not the table's comes
** with "CHARACTER SET x COLLATE y".
*/
static const char *column_type(rt_arena *a, rt_rows *rows, int i) {
  const char *type = RT_CELL(rows, i, 1), *cs = RT_CELL(rows, i, 8);
  const char *coll = RT_CELL(rows, i, 9), *tcoll = RT_CELL(rows, i, 10);
  rt_strbuf b = RT_STRBUF_INIT;
  const char *out;
  if (!type || !cs || !coll || (tcoll && strcmp(coll, tcoll) == 0))
    return type ? type : "";
  rt_sb_addf(&b, "%s CHARACTER SET %s COLLATE %s", type, cs, coll);
  out = b.p ? rt_arena_strdup(a, b.p) : NULL;
  rt_sb_free(&b);
  return out;
}

/* "(s)" in the arena; NULL when out of memory. */
static const char *paren(rt_arena *a, const char *s) {
  size_t n = strlen(s);
  char *p = rt_arena_alloc(a, n + 3);
  if (p == NULL) return NULL;
  p[0] = '(';
  memcpy(p + 1, s, n);
  p[n + 1] = ')';
  p[n + 2] = '\0';
  return p;
}

static int my_columns(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  const char *params[2];
  rt_rows rows;
  int i;
  params[0] = schema;
  params[1] = table;
  if (rt_refl_query(c, &out->arena,
                    "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
                    "COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT, DATA_TYPE, "
                    "GENERATION_EXPRESSION, CHARACTER_SET_NAME, "
                    "COLLATION_NAME, (SELECT t.TABLE_COLLATION FROM "
                    "information_schema.TABLES t WHERE t.TABLE_SCHEMA = "
                    "c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME) "
                    "FROM information_schema.COLUMNS c "
                    "WHERE TABLE_SCHEMA = " SCHEMA " AND TABLE_NAME = ? "
                    "ORDER BY ORDINAL_POSITION",
                    params, 2, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_column *col =
        rt_arena_push(&out->arena, &out->cols, &out->ncols, sizeof *col);
    const char *dflt = RT_CELL(&rows, i, 3), *extra = RT_CELL(&rows, i, 4);
    const char *comment = RT_CELL(&rows, i, 5);
    if (col == NULL) return -1;
    col->name = RT_CELL(&rows, i, 0);
    if ((col->type = column_type(&out->arena, &rows, i)) == NULL)
      return rt_error_set(err, RT_EMEMORY, "out of memory");
    col->nullable = strcmp(RT_CELL(&rows, i, 2), "YES") == 0;
    /* MariaDB writes a missing default as the word NULL (a string default
    ** comes quoted, 'NULL'), as SHOW CREATE TABLE does */
    col->dflt = dflt && strcmp(dflt, "NULL") != 0 ? dflt : NULL;
    col->comment = comment && *comment ? comment : NULL;
    if (extra &&
        (strstr(extra, "VIRTUAL") || strstr(extra, "STORED") ||
         strstr(extra, "PERSISTENT")) &&
        RT_CELL(&rows, i, 7)) {
      col->computed =
          strstr(extra, "VIRTUAL") ? RT_COMPUTED_VIRTUAL : RT_COMPUTED_STORED;
      /* SHOW CREATE TABLE, which SQLAlchemy parses, writes the expression
      ** inside the parentheses of AS (...), and SQLAlchemy keeps them */
      if ((col->computed_sqltext = paren(&out->arena, RT_CELL(&rows, i, 7))) ==
          NULL)
        return rt_error_set(err, RT_EMEMORY, "out of memory");
      col->dflt = NULL;
    }
    if (extra && strstr(extra, "auto_increment"))
      col->autoincrement = RT_AUTOINC_TRUE;
    else if (is_integer(RT_CELL(&rows, i, 6)))
      col->autoincrement = RT_AUTOINC_FALSE;
    else
      col->autoincrement = RT_AUTOINC_UNSET;
  }
  return 0;
}

/* Keys in the server's order (rows: name, seq, column, non_unique). */
static int keys(rt_connection *c, const char *schema, const char *table,
                rt_arena *a, rt_rows *rows, rt_error *err) {
  const char *params[2];
  params[0] = schema;
  params[1] = table;
  return rt_refl_query(c, a,
                       "SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, "
                       "NON_UNIQUE, INDEX_TYPE "
                       "FROM information_schema.STATISTICS "
                       "WHERE TABLE_SCHEMA = " SCHEMA " AND TABLE_NAME = ?",
                       params, 2, rows, err);
}

static int my_pk(rt_connection *c, const char *schema, const char *table,
                 rt_refl *out, rt_error *err) {
  rt_rows rows;
  int seq, i;
  if (keys(c, schema, table, &out->arena, &rows, err) != 0) return -1;
  for (seq = 1; seq <= rows.n; seq++)
    for (i = 0; i < rows.n; i++)
      if (strcmp(RT_CELL(&rows, i, 0), "PRIMARY") == 0 &&
          atoi(RT_CELL(&rows, i, 1)) == seq)
        rt_names_add(&out->arena, &out->pk.cols, RT_CELL(&rows, i, 2));
  return 0; /* MySQL's primary key is always named PRIMARY: reported None */
}

/* The keys other than PRIMARY, grouped, columns in key order. */
static int my_keys(rt_connection *c, const char *schema, const char *table,
                   rt_refl *out, rt_error *err) {
  rt_rows rows;
  int i, k;
  if (keys(c, schema, table, &out->arena, &rows, err) != 0) return -1;
  for (i = 0; i < rows.n; i++) {
    const char *name = RT_CELL(&rows, i, 0);
    rt_refl_index *ix = NULL;
    if (strcmp(name, "PRIMARY") == 0) continue;
    for (k = 0; k < out->nindexes; k++)
      if (strcmp(out->indexes[k].name, name) == 0) ix = &out->indexes[k];
    if (ix == NULL) {
      ix =
          rt_arena_push(&out->arena, &out->indexes, &out->nindexes, sizeof *ix);
      if (ix == NULL) return -1;
      ix->name = name;
      ix->unique = strcmp(RT_CELL(&rows, i, 3), "0") == 0;
      ix->type = ix->unique ? "UNIQUE" : NULL;
      if (!ix->unique && RT_CELL(&rows, i, 4) &&
          (strcmp(RT_CELL(&rows, i, 4), "FULLTEXT") == 0 ||
           strcmp(RT_CELL(&rows, i, 4), "SPATIAL") == 0)) {
        ix->type = RT_CELL(&rows, i, 4);
        ix->has_dialect_options = 1;
      }
    }
  }
  for (k = 0; k < out->nindexes; k++) {
    rt_refl_index *ix = &out->indexes[k];
    int seq;
    for (seq = 1; seq <= rows.n; seq++)
      for (i = 0; i < rows.n; i++)
        if (strcmp(RT_CELL(&rows, i, 0), ix->name) == 0 &&
            atoi(RT_CELL(&rows, i, 1)) == seq)
          rt_names_add(&out->arena, &ix->cols, RT_CELL(&rows, i, 2));
  }
  return 0;
}

/* Every key but PRIMARY is an index to SQLAlchemy, including those InnoDB
** adds for foreign keys and those behind UNIQUE constraints. */
static int my_indexes(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  return my_keys(c, schema, table, out, err);
}

/* MySQL can't tell a UNIQUE constraint from a unique index: each unique
** key is both, and says so in duplicates. */
static int my_uniques(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  rt_refl tmp;
  int k;
  rt_refl_init(&tmp);
  if (my_keys(c, schema, table, &tmp, err) != 0) {
    rt_refl_free(&tmp);
    return -1;
  }
  for (k = 0; k < tmp.nindexes; k++) {
    rt_refl_unique *u;
    int i;
    if (!tmp.indexes[k].unique) continue;
    u = rt_arena_push(&out->arena, &out->uniques, &out->nuniques, sizeof *u);
    if (u == NULL) break;
    u->name = rt_arena_strdup(&out->arena, tmp.indexes[k].name);
    u->duplicates = u->name;
    for (i = 0; i < tmp.indexes[k].cols.n; i++)
      rt_names_add(&out->arena, &u->cols, tmp.indexes[k].cols.v[i]);
  }
  rt_refl_free(&tmp);
  return 0;
}

static const char *fk_action(const char *rule) {
  /* NO ACTION and RESTRICT are the same in InnoDB, and SHOW CREATE TABLE
  ** writes neither unless asked: both are the default */
  if (rule == NULL || strcmp(rule, "RESTRICT") == 0 ||
      strcmp(rule, "NO ACTION") == 0)
    return NULL;
  return rule;
}

/* The rule of constraint name among rules (name, DELETE_RULE, UPDATE_RULE). */
static const char *fk_rule(const rt_rows *rules, const char *name, int col) {
  int i;
  for (i = 0; i < rules->n; i++)
    if (strcmp(RT_CELL(rules, i, 0), name) == 0) return RT_CELL(rules, i, col);
  return NULL;
}

/*
** Two queries, each on one information_schema table with the schema and
** table as constants: MariaDB then reads just that table, where a join of
** the two makes it open every table of every database for the second (on
** a server of thousands of tables its temporary table for them can fail,
** which MariaDB 10.11 answers by crashing).  The referred schema is
** reported when it differs from the table's own (SHOW CREATE TABLE
** qualifies the name then), else it is the schema the caller named.
*/
static int my_fks(rt_connection *c, const char *schema, const char *table,
                  rt_refl *out, rt_error *err) {
  const char *params[2];
  rt_rows rows, rules;
  int i;
  params[0] = schema;
  params[1] = table;
  if (rt_refl_query(c, &out->arena,
                    "SELECT CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE "
                    "FROM information_schema.REFERENTIAL_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = " SCHEMA " AND TABLE_NAME = ?",
                    params, 2, &rules, err) != 0)
    return -1;
  if (rt_refl_query(c, &out->arena,
                    "SELECT CONSTRAINT_NAME, COLUMN_NAME, "
                    "REFERENCED_TABLE_SCHEMA <> TABLE_SCHEMA, "
                    "REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, "
                    "REFERENCED_COLUMN_NAME "
                    "FROM information_schema.KEY_COLUMN_USAGE "
                    "WHERE TABLE_SCHEMA = " SCHEMA " AND TABLE_NAME = ? "
                    "AND REFERENCED_TABLE_NAME IS NOT NULL "
                    "ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
                    params, 2, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++) {
    rt_refl_fk *fk = out->nfks ? &out->fks[out->nfks - 1] : NULL;
    const char *name = RT_CELL(&rows, i, 0);
    if (fk_rule(&rules, name, 0) == NULL) continue; /* not a foreign key */
    if (fk == NULL || strcmp(fk->name, name) != 0) {
      fk = rt_arena_push(&out->arena, &out->fks, &out->nfks, sizeof *fk);
      if (fk == NULL) return -1;
      fk->name = name;
      fk->refschema = rt_refl_truthy(RT_CELL(&rows, i, 2))
                          ? RT_CELL(&rows, i, 3)
                          : rt_arena_strdup(&out->arena, schema);
      fk->reftable = RT_CELL(&rows, i, 4);
      fk->ondelete = fk_action(fk_rule(&rules, name, 1));
      fk->onupdate = fk_action(fk_rule(&rules, name, 2));
    }
    rt_names_add(&out->arena, &fk->cols, RT_CELL(&rows, i, 1));
    rt_names_add(&out->arena, &fk->refcols, RT_CELL(&rows, i, 5));
  }
  return 0;
}

static void add_backquoted(rt_strbuf *b, const char *name) {
  rt_sb_addc(b, '`');
  for (; *name; name++) {
    if (*name == '`') rt_sb_addc(b, '`');
    rt_sb_addc(b, *name);
  }
  rt_sb_addc(b, '`');
}

/* SQLAlchemy's pattern for a CHECK line of SHOW CREATE TABLE. */
#define CHECK_LINE "  CONSTRAINT +`((?:``|[^`])+)` +CHECK +\\((.+)\\),?"

/*
** CHECK constraints as SQLAlchemy reads them: the lines of SHOW CREATE
** TABLE that are `  CONSTRAINT name CHECK (...)`, the text running to the
** line's last parenthesis.  A check written on a column stays on its
** column's line in MariaDB's text, and is not reported.
*/
static int my_checks(rt_connection *c, const char *schema, const char *table,
                     rt_refl *out, rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_rows rows;
  rt_rx *rx;
  const char *text, *line;
  int rc;
  rt_sb_adds(&b, "SHOW CREATE TABLE ");
  if (schema) {
    add_backquoted(&b, schema);
    rt_sb_addc(&b, '.');
  }
  add_backquoted(&b, table);
  if (b.failed) {
    rt_sb_free(&b);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  rc = rt_refl_query(c, &out->arena, b.p, NULL, 0, &rows, err);
  rt_sb_free(&b);
  if (rc != 0) return -1;
  if (rows.n == 0 || rows.ncols < 2 || RT_CELL(&rows, 0, 1) == NULL) return 0;
  if ((rx = rt_rx_compile(CHECK_LINE, 1)) == NULL)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  text = RT_CELL(&rows, 0, 1);
  for (line = text; rc == 0 && *line;) {
    const char *eol = strchr(line, '\n');
    size_t n = eol ? (size_t)(eol - line) : strlen(line);
    int cap[2 * RT_RX_MAXGROUPS];
    int m = rt_rx_search(rx, line, n, 0, cap);
    if (m < 0) rc = rt_error_set(err, RT_EMEMORY, "out of memory");
    if (m == 1 && cap[0] == 0) {
      rt_refl_check *ck =
          rt_arena_push(&out->arena, &out->checks, &out->nchecks, sizeof *ck);
      if (ck == NULL) break;
      ck->name = rt_arena_strndup(&out->arena, line + cap[2],
                                  (size_t)(cap[3] - cap[2]));
      ck->sqltext = rt_arena_strndup(&out->arena, line + cap[4],
                                     (size_t)(cap[5] - cap[4]));
    }
    line += n;
    if (*line == '\n') line++;
  }
  rt_rx_free(rx);
  return rc;
}

/* TABLE_COMMENT is '' for a table without one and 'VIEW' for a view:
** SQLAlchemy says None for both. */
static int my_comment(rt_connection *c, const char *schema, const char *table,
                      rt_refl *out, rt_error *err) {
  const char *params[2];
  rt_rows rows;
  params[0] = schema;
  params[1] = table;
  if (rt_refl_query(c, &out->arena,
                    "SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN NULL "
                    "ELSE NULLIF(TABLE_COMMENT, '') END "
                    "FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = " SCHEMA " AND TABLE_NAME = ?",
                    params, 2, &rows, err) != 0)
    return -1;
  out->comment = rows.n > 0 ? RT_CELL(&rows, 0, 0) : NULL;
  return 0;
}

static int my_default_schema(rt_connection *c, rt_refl *out, rt_error *err) {
  rt_rows rows;
  if (rt_refl_query(c, &out->arena, "SELECT DATABASE()", NULL, 0, &rows, err) !=
      0)
    return -1;
  out->text = rows.n > 0 ? RT_CELL(&rows, 0, 0) : NULL;
  return 0;
}

/* MariaDB keeps sequences as tables of their own type; MySQL has none. */
static int my_sequences(rt_connection *c, const char *schema, const char *name,
                        rt_refl *out, rt_error *err) {
  const char *params[3];
  rt_rows rows;
  int i;
  if (rt_refl_query(c, &out->arena, "SELECT VERSION() LIKE '%MariaDB%'", NULL,
                    0, &rows, err) != 0)
    return -1;
  if (rows.n == 0 || !rt_refl_truthy(RT_CELL(&rows, 0, 0)))
    return rt_error_set(err, RT_ENOTIMPLEMENTED,
                        "Sequences are supported only by the MariaDB series "
                        "10.3 or greater");
  params[0] = schema;
  params[1] = name;
  params[2] = name;
  if (rt_refl_query(c, &out->arena,
                    "SELECT TABLE_NAME FROM information_schema.TABLES "
                    "WHERE TABLE_TYPE = 'SEQUENCE' "
                    "AND TABLE_SCHEMA = " SCHEMA " "
                    "AND (? IS NULL OR TABLE_NAME = ?) ORDER BY TABLE_NAME",
                    params, 3, &rows, err) != 0)
    return -1;
  for (i = 0; i < rows.n; i++)
    rt_names_add(&out->arena, &out->names, RT_CELL(&rows, i, 0));
  return 0;
}

/* SHOW CREATE TABLE's text of the view, as SQLAlchemy's; a missing one is
** NoSuchTableError. */
static int my_view_definition(rt_connection *c, const char *schema,
                              const char *view, rt_refl *out, rt_error *err) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_rows rows;
  int rc, exists = 0;
  if (my_has_table(c, schema, view, &exists, err) != 0) return -1;
  if (!exists) return rt_refl_nosuchtable(err, view);
  rt_sb_adds(&b, "SHOW CREATE TABLE ");
  if (schema) {
    add_backquoted(&b, schema);
    rt_sb_addc(&b, '.');
  }
  add_backquoted(&b, view);
  if (b.failed) {
    rt_sb_free(&b);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  rc = rt_refl_query(c, &out->arena, b.p, NULL, 0, &rows, err);
  rt_sb_free(&b);
  if (rc == 0)
    out->text = rows.n > 0 && rows.ncols > 1 ? RT_CELL(&rows, 0, 1) : NULL;
  return rc;
}

const rt_reflector rt_mysql_reflector = {
    "mysql",
    0,
    my_table_names,
    my_schema_names,
    my_has_table,
    my_columns,
    my_pk,
    my_fks,
    my_indexes,
    my_uniques,
    my_checks,
    my_comment,
    my_default_schema,
    my_sequences,
    my_view_definition,
};
