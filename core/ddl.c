/*
** ddl.c -- rendering CREATE TABLE, DROP TABLE, CREATE INDEX, DROP INDEX.
*/
#include "ddl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

rt_node *rt_ddl_new(int op, rt_node *table, const char *index_name) {
  rt_node *n = rt_node_new(RT_N_DDL);
  if (!n) return NULL;
  n->op = (unsigned char)op;
  n->a = rt_ref(table);
  if (index_name && !(n->name = rt_strdup(index_name))) {
    rt_unref(n);
    return NULL;
  }
  return n;
}

rt_node *rt_ddl_create_omitting(rt_node *t, const int *omit, int n) {
  rt_node *ddl = rt_ddl_new(RT_DDL_CREATE_TABLE, t, NULL);
  int i;
  for (i = 0; ddl && i < n; i++) {
    rt_node *k = rt_node_new(RT_N_LITERAL);
    if (!k || rt_node_push(ddl, k) != 0) {
      rt_unref(k);
      rt_unref(ddl);
      return NULL;
    }
    k->value = rt_vint(omit[i]);
  }
  return ddl;
}

rt_node *rt_ddl_constraint(int op, rt_node *t, int con) {
  rt_tabledata *d = t->ext;
  rt_constraint *k = &d->cons[con];
  rt_node *ddl = rt_ddl_new(op, t, k->name);
  int i;
  if (!ddl) return NULL;
  ddl->c = rt_literal_column(k->kind == RT_CON_FK       ? "F"
                             : k->kind == RT_CON_UNIQUE ? "U"
                                                        : "C",
                             NULL);
  if (!ddl->c) {
    rt_unref(ddl);
    return NULL;
  }
  /* unnamed: found again by its columns */
  for (i = 0; !k->name && i < k->ncols; i++) {
    rt_node *lit = rt_literal_column(k->cols[i], NULL);
    if (!lit || rt_node_push(ddl, lit) != 0) {
      rt_unref(lit);
      rt_unref(ddl);
      return NULL;
    }
  }
  return ddl;
}

/* Does CREATE TABLE ddl leave out constraint k (its index) for ALTER? */
static int omitted(const rt_node *ddl, int k) {
  int i;
  for (i = 0; ddl && i < ddl->n; i++)
    if (ddl->kids[i]->kind == RT_N_LITERAL &&
        ddl->kids[i]->value.type == RT_V_INT && ddl->kids[i]->value.u.i == k)
      return 1;
  return 0;
}

#define S(str) rt_sb_adds(rt_c_buf(c), str)

static void names(rt_compiler *c, char **cols, int n) {
  int i;
  for (i = 0; i < n; i++) {
    if (i) S(", ");
    rt_c_ident(c, cols[i]);
  }
}

/* A server default: a string is quoted, an expression inlined. */
/* (an expression's values inline, as SQLAlchemy's literal_binds DDL) */
static void server_default(rt_compiler *c, rt_node *d) {
  if (d->kind == RT_N_BIND && d->value.type == RT_V_TEXT) {
    size_t i;
    rt_sb_addc(rt_c_buf(c), '\'');
    for (i = 0; i < d->value.u.s.n; i++) {
      if (d->value.u.s.p[i] == '\'') rt_sb_addc(rt_c_buf(c), '\'');
      rt_sb_addc(rt_c_buf(c), d->value.u.s.p[i]);
    }
    rt_sb_addc(rt_c_buf(c), '\'');
  } else if (d->kind == RT_N_BIND || d->kind == RT_N_TEXT ||
             (d->kind == RT_N_LITERAL &&
              strcmp(rt_c_dialect(c)->name, "sqlite") != 0))
    rt_c_ddl_expr(c, d); /* SQLite's parentheses go round a literal_column()
                          ** too, not round text() */
  else if (strcmp(rt_c_dialect(c)->name, "sqlite") == 0) {
    /* SQLite needs parentheses around an expression default */
    S("(");
    rt_c_ddl_expr(c, d);
    S(")");
  } else
    rt_c_ddl_expr(c, d);
}

/*
** MySQL's column options come in its own order, as SQLAlchemy's: NOT NULL
** (or NULL for a nullable TIMESTAMP, which MySQL would otherwise make NOT
** NULL), COMMENT, then AUTO_INCREMENT or else the DEFAULT.
*/
static void mysql_column_rest(rt_compiler *c, rt_node *t, rt_node *col) {
  rt_coldata *d = col->ext;
  if (col->flags & (RT_F_NOTNULL | RT_F_PK))
    S(" NOT NULL");
  else if (col->type && col->type->upper == RT_UP_TIMESTAMP)
    S(" NULL");
  if (d && d->comment) {
    const char *p;
    S(" COMMENT '");
    for (p = d->comment; *p; p++) {
      if (*p == '\'' || *p == '\\') rt_sb_addc(rt_c_buf(c), *p);
      rt_sb_addc(rt_c_buf(c), *p);
    }
    S("'");
  }
  if (rt_column_is_autoinc(t, col) && !(d && d->server_default))
    S(" AUTO_INCREMENT");
  else if (d && d->server_default &&
           !(d->server_default->flags & RT_F_FETCHED)) {
    S(" DEFAULT ");
    server_default(c, d->server_default);
  }
}

static void column_spec(rt_compiler *c, rt_node *t, rt_node *col) {
  rt_coldata *d = col->ext;
  const rt_dialect *dl = rt_c_dialect(c);
  /* a column without a type has no DDL on a real database; only the
  ** default string form shows it as NULL, as SQLAlchemy's */
  if ((!col->type || (col->type->kind == RT_TY_NULL && !col->type->upper)) &&
      dl != &rt_dialect_default) {
    rt_c_fail(c, RT_ECOMPILE,
              "(in table '%s', column '%s'): Can't generate DDL for "
              "NullType(); did you forget to specify a type on this Column?",
              t->name, col->name);
    return;
  }
  if (col->type && col->type->kind == RT_TY_ENUM && !col->type->upper &&
      !col->type->nonnative && !col->type->name &&
      strcmp(dl->name, "postgresql") == 0) {
    rt_c_fail(c, RT_ECOMPILE,
              "(in table '%s', column '%s'): PostgreSQL ENUM type requires a "
              "name.",
              t->name, col->name);
    return;
  }
  rt_c_ident(c, col->name);
  S(" ");
  if (dl->column_ddl)
    dl->column_ddl(c, t, col);
  else if (col->type)
    rt_type_ddl(rt_c_buf(c), col->type, dl->name);
  else
    S("NULL");
  if (strcmp(dl->name, "mysql") == 0) {
    mysql_column_rest(c, t, col);
    return;
  }
  /* PostgreSQL's SERIAL is the default: a server default given too (a
  ** reflected nextval(...)) is not rendered, as SQLAlchemy does */
  if (d && d->server_default && !(d->server_default->flags & RT_F_FETCHED) &&
      !(dl->column_ddl && strcmp(dl->name, "postgresql") == 0 &&
        rt_column_is_serial(t, col))) {
    S(" DEFAULT ");
    server_default(c, d->server_default);
  }
  /* an identity column (PostgreSQL and the string form have them) says
  ** so instead of NOT NULL; SQLite's has only its NOT NULL */
  if (d && d->identity && strcmp(dl->name, "sqlite") != 0) {
    S(" ");
    S(d->identity);
    /* PostgreSQL's says a nullable one is NULL, as SQLAlchemy's */
    if (!(col->flags & (RT_F_NOTNULL | RT_F_PK)) &&
        strcmp(dl->name, "postgresql") == 0)
      S(" NULL");
    return;
  }
  if (col->flags & (RT_F_NOTNULL | RT_F_PK)) S(" NOT NULL");
}

/*
** What SQLAlchemy checks of autoincrement = true before any DDL: the type
** must be an integer or numeric one, and SQLite cannot autoincrement a
** column of a composite key.  Returns 0 after failing the compile.
*/
static int check_autoinc(rt_compiler *c, rt_node *t, int npk) {
  int i;
  for (i = 0; i < t->n; i++) {
    rt_node *col = t->kids[i];
    if ((col->flags & (RT_F_PK | RT_F_AUTOINC_YES)) !=
        (RT_F_PK | RT_F_AUTOINC_YES))
      continue;
    if (!rt_type_is_numeric(col->type)) {
      rt_strbuf tb = {0};
      rt_type_ddl(&tb, col->type, "default");
      rt_c_fail(c, RT_EARGUMENT,
                "Column type %s on column '%s.%s' is not compatible with "
                "autoincrement=True",
                tb.p ? tb.p : "NULL", t->name, col->name);
      rt_sb_free(&tb);
      return 0;
    }
    if (npk != 1 && strcmp(rt_c_dialect(c)->name, "sqlite") == 0) {
      rt_c_fail(c, RT_ECOMPILE,
                "(in table '%s', column '%s'): SQLite does not support "
                "autoincrement for composite primary keys",
                t->name, col->name);
      return 0;
    }
  }
  return 1;
}

/* The primary key's columns: the autoincrement column first when the key
** comes from the columns' primary_key flags (SQLAlchemy's
** columns_autoinc_first for an implicitly generated constraint). */
static void pk_columns(rt_compiler *c, rt_node *t) {
  rt_tabledata *d = t->ext;
  rt_node *first = d && d->pk_explicit ? NULL : rt_table_autoinc(t);
  int i, k = 0;
  if (first) {
    rt_c_ident(c, first->name);
    k++;
  }
  for (i = 0; i < t->n; i++)
    if ((t->kids[i]->flags & RT_F_PK) && t->kids[i] != first) {
      if (k++) S(", ");
      rt_c_ident(c, t->kids[i]->name);
    }
}

static void constraint_name(rt_compiler *c, rt_constraint *k) {
  if (k->name) {
    S("CONSTRAINT ");
    rt_c_ident(c, k->name);
    S(" ");
  }
}

/* A CHECK's condition: its SQL text, or its expression as DDL shows it
** (values inline, columns unqualified) */
static void check_text(rt_compiler *c, rt_constraint *k) {
  if (k->check)
    rt_c_ddl_expr(c, k->check);
  else if (k->sqltext)
    S(k->sqltext);
}

/* Column(..., CheckConstraint(...)): after the column's own spec, as
** SQLAlchemy renders a column's constraints */
static void column_checks(rt_compiler *c, rt_node *t, rt_node *col) {
  rt_tabledata *d = t->ext;
  int i;
  for (i = 0; d && i < d->ncons; i++) {
    rt_constraint *k = &d->cons[i];
    if (k->kind != RT_CON_CHECK || !k->column_level || k->ncols != 1 ||
        strcmp(k->cols[0], col->name) != 0)
      continue;
    S(" ");
    constraint_name(c, k);
    S("CHECK (");
    check_text(c, k);
    S(")");
  }
}

/* A comment as a string literal: quotes doubled, and backslashes where
** the dialect's strings escape them at execution (MySQL; PostgreSQL's
** standard_conforming_strings keep them literal). */
static void comment_literal(rt_compiler *c, const char *s) {
  int bs = strcmp(rt_c_dialect(c)->name, "mysql") == 0;
  rt_sb_addc(rt_c_buf(c), '\'');
  for (; *s; s++) {
    if (*s == '\'' || (bs && *s == '\\')) rt_sb_addc(rt_c_buf(c), *s);
    rt_sb_addc(rt_c_buf(c), *s);
  }
  rt_sb_addc(rt_c_buf(c), '\'');
}

/* Whether name is one of the list (NULL-terminated). */
static int name_in(const char *name, const char *const *list) {
  for (; *list; list++)
    if (strcmp(name, *list) == 0) return 1;
  return 0;
}

/* MySQL's table options (mysql_engine = "InnoDB" -> ENGINE=InnoDB), as
** SQLAlchemy's post_create_table spells them: some names take spaces for
** underscores, some join with a space, and the string-typed ones are
** quoted. */
static void mysql_table_options(rt_compiler *c, const rt_tabledata *d) {
  static const char *const spaced[] = {"DATA_DIRECTORY",
                                       "INDEX_DIRECTORY",
                                       "DEFAULT_CHARACTER_SET",
                                       "CHARACTER_SET",
                                       "DEFAULT_CHARSET",
                                       "DEFAULT_COLLATE",
                                       NULL};
  static const char *const by_space[] = {"TABLESPACE", "DEFAULT_CHARACTER_SET",
                                         "CHARACTER_SET", "COLLATE", NULL};
  /* (SQLAlchemy tests the name before its spaces: DATA_DIRECTORY is
  ** not among its string-typed "DATA DIRECTORY") */
  static const char *const quoted[] = {"COMMENT", "PASSWORD", "CONNECTION",
                                       NULL};
  int i;
  for (i = 0; i < d->nmysql; i++) {
    const char *name = d->mysql[2 * i], *p;
    if (i > 0) S(" ");
    if (name_in(name, spaced)) {
      for (p = name; *p; p++) rt_sb_addc(rt_c_buf(c), *p == '_' ? ' ' : *p);
    } else
      S(name);
    S(name_in(name, by_space) ? " " : "=");
    if (name_in(name, quoted))
      comment_literal(c, d->mysql[2 * i + 1]);
    else
      S(d->mysql[2 * i + 1]);
  }
}

static void table_name(rt_compiler *c, rt_node *t) {
  rt_tabledata *d = t->ext;
  if (d && d->schema) {
    rt_c_ident(c, d->schema);
    S(".");
  }
  rt_c_ident(c, t->name);
}

static int is_sqlite(rt_compiler *c) {
  return strcmp(rt_c_dialect(c)->name, "sqlite") == 0;
}

/* An index's name qualified by its table's schema */
static void index_name(rt_compiler *c, rt_node *t, const char *name) {
  rt_tabledata *d = t->ext;
  if (d && d->schema) {
    rt_c_ident(c, d->schema);
    S(".");
  }
  rt_c_ident(c, name);
}

/*
** The table foreign key k of t refers to, as its schema (NULL for none;
** *slen its length) and name: the table's own when the MetaData holds it,
** else the target's text split at its last dot ("schema.table").
*/
static const char *fk_remote(rt_node *t, const rt_constraint *k,
                             const char **schema, size_t *slen) {
  rt_node *ref = rt_fk_target(t, k->reftable);
  const char *dot;
  if (ref) {
    rt_tabledata *rd = ref->ext;
    *schema = rd ? rd->schema : NULL;
    *slen = *schema ? strlen(*schema) : 0;
    return ref->name;
  }
  dot = strrchr(k->reftable, '.');
  *schema = dot ? k->reftable : NULL;
  *slen = dot ? (size_t)(dot - k->reftable) : 0;
  return dot ? dot + 1 : k->reftable;
}

/* SQLite leaves out a foreign key into another schema (an attached
** database), as SQLAlchemy's SQLite dialect does */
static int fk_skipped(rt_compiler *c, rt_node *t, const rt_constraint *k) {
  rt_tabledata *d = t->ext;
  const char *schema;
  size_t n;
  if (!is_sqlite(c)) return 0;
  fk_remote(t, k, &schema, &n);
  if (!schema || !d->schema) return schema != d->schema;
  return strlen(d->schema) != n || strncmp(d->schema, schema, n) != 0;
}

/* REFERENCES's table: qualified by its schema, but on SQLite, whose
** foreign keys stay within one database */
static void fk_target(rt_compiler *c, rt_node *t, const rt_constraint *k) {
  const char *schema, *name;
  size_t n;
  name = fk_remote(t, k, &schema, &n);
  if (schema && !is_sqlite(c)) {
    char *s = malloc(n + 1);
    if (!s) {
      rt_c_fail(c, RT_EMEMORY, "out of memory");
      return;
    }
    memcpy(s, schema, n);
    s[n] = '\0';
    rt_c_ident(c, s);
    free(s);
    S(".");
  }
  rt_c_ident(c, name);
}

/*
** The column whose own options made constraint k (its ForeignKey, or
** unique = true), or NULL.  SQLAlchemy makes those when the column joins
** its table, after the constraints given to Table(): per column its
** UNIQUE, then its type's CHECK, then its FOREIGN KEY.
*/
static rt_node *made_by_column(rt_node *t, const rt_constraint *k) {
  rt_node *col = NULL;
  int i;
  if (k->ncols != 1 || !k->cols[0]) return NULL;
  for (i = 0; i < t->n && !col; i++)
    if (t->kids[i]->name && strcmp(t->kids[i]->name, k->cols[0]) == 0)
      col = t->kids[i];
  if (!col) return NULL;
  if (k->kind == RT_CON_FK && k->column_level) return col;
  if (k->kind == RT_CON_UNIQUE && !k->name && (col->flags & RT_F_UNIQUE) &&
      !(col->flags & RT_F_INDEX))
    return col;
  return NULL;
}

/*
** Enum or Boolean{create_constraint = true}: a CHECK of the type's values
** where the database has no type for them (a named or MySQL Enum, and
** PostgreSQL's BOOLEAN, need none), named by the type's name.
*/
static void type_check(rt_compiler *c, rt_node *col) {
  const rt_type *ty = col->type;
  const char *dialect = rt_c_dialect(c)->name;
  int pg = strcmp(dialect, "postgresql") == 0, i;
  if (!ty || !ty->create_constraint) return;
  if (ty->kind == RT_TY_BOOLEAN) {
    /* PostgreSQL has a BOOLEAN type, and so has the default string form
    ** (SQLAlchemy's supports_native_boolean) */
    if (pg || strcmp(dialect, "default") == 0) return;
  } else if (ty->kind == RT_TY_ENUM) {
    if (!ty->nonnative && ((pg && ty->name) || strcmp(dialect, "mysql") == 0))
      return;
  } else
    return;
  S(", \n\t");
  if (ty->name) {
    S("CONSTRAINT ");
    rt_c_ident(c, ty->name);
    S(" ");
  }
  S("CHECK (");
  rt_c_ident(c, col->name);
  if (ty->kind == RT_TY_BOOLEAN) {
    S(" IN (0, 1))");
    return;
  }
  S(" IN (");
  for (i = 0; i < ty->nvalues; i++) {
    if (i) S(", ");
    comment_literal(c, ty->values[i]);
  }
  S("))");
}

/* A keyword phrase (ON DELETE's action, INITIALLY's mode) spliced into
** DDL only when it is one of the words allowed there, as SQLAlchemy's
** validate_sql_phrase checks; else a CompileError */
static int sql_phrase(rt_compiler *c, const char *s, const char *const *ok,
                      const char *pattern) {
  int i, j;
  for (i = 0; ok[i]; i++) {
    for (j = 0; s[j] && ok[i][j]; j++)
      if ((s[j] | 0x20) != (ok[i][j] | 0x20)) break;
    if (!s[j] && !ok[i][j]) {
      S(s);
      return 1;
    }
  }
  rt_c_fail(c, RT_ECOMPILE,
            "Unexpected SQL phrase: '%s' (matching against '%s')", s, pattern);
  return 0;
}

static const char *const fk_actions[] = {"RESTRICT",  "CASCADE",     "SET NULL",
                                         "NO ACTION", "SET DEFAULT", NULL};
static const char *const fk_modes[] = {"DEFERRED", "IMMEDIATE", NULL};
#define FK_ACTION_RE "^(?:RESTRICT|CASCADE|SET NULL|NO ACTION|SET DEFAULT)$"

/* A constraint's own text, CONSTRAINT name first when it has one (CREATE
** TABLE's entries, ALTER TABLE ... ADD) */
static void constraint_body(rt_compiler *c, rt_node *t, rt_constraint *k) {
  constraint_name(c, k);
  switch (k->kind) {
  case RT_CON_FK:
    S("FOREIGN KEY(");
    names(c, k->cols, k->ncols);
    S(") REFERENCES ");
    fk_target(c, t, k);
    S(" (");
    names(c, k->refcols, k->ncols);
    S(")");
    if (k->match) {
      if (rt_dialect_is_mysql(rt_c_dialect(c))) {
        rt_c_fail(c, RT_ECOMPILE,
                  "MySQL ignores the 'MATCH' keyword while at the same time "
                  "causes ON UPDATE/ON DELETE clauses to be ignored.");
        break;
      }
      S(" MATCH ");
      S(k->match);
    }
    if (k->ondelete) {
      S(" ON DELETE ");
      sql_phrase(c, k->ondelete, fk_actions, FK_ACTION_RE);
    }
    if (k->onupdate) {
      S(" ON UPDATE ");
      sql_phrase(c, k->onupdate, fk_actions, FK_ACTION_RE);
    }
    if (k->deferrable)
      S(k->deferrable == 1 ? " DEFERRABLE" : " NOT DEFERRABLE");
    if (k->initially) {
      S(" INITIALLY ");
      sql_phrase(c, k->initially, fk_modes, "^(?:DEFERRED|IMMEDIATE)$");
    }
    break;
  case RT_CON_UNIQUE:
    S("UNIQUE (");
    names(c, k->cols, k->ncols);
    S(")");
    break;
  case RT_CON_CHECK:
    S("CHECK (");
    check_text(c, k);
    S(")");
    break;
  default:
    break;
  }
}

/* A foreign key's target must be in the MetaData for its DDL, as
** SQLAlchemy resolves it (before SQLite asks whether to leave it out). */
static int fk_resolves(rt_compiler *c, rt_node *t, rt_constraint *k) {
  rt_error err = RT_ERROR_INIT;
  if (k->kind != RT_CON_FK || rt_fk_check(t, k, &err) == 0) return 1;
  rt_c_fail(c, err.kind, "%s", err.message ? err.message : "out of memory");
  rt_error_clear(&err);
  return 0;
}

/* One of the table's constraints (not its primary key) in CREATE TABLE
** (ddl), which leaves out a use_alter foreign key where the dialect has
** ALTER (not SQLite), as those create_all left for ALTER */
static void table_constraint(rt_compiler *c, rt_node *ddl, rt_node *t,
                             rt_constraint *k) {
  rt_tabledata *d = t->ext;
  if (k->kind == RT_CON_INDEX || k->alter) return;
  if (k->kind == RT_CON_FK && k->use_alter && !is_sqlite(c)) return;
  if (omitted(ddl, (int)(k - d->cons))) return;
  if (!fk_resolves(c, t, k)) return;
  if (k->kind == RT_CON_FK && fk_skipped(c, t, k)) return;
  if (k->kind == RT_CON_CHECK && k->column_level)
    return; /* rendered with its column */
  S(", \n\t");
  constraint_body(c, t, k);
}

static void create_table(rt_compiler *c, rt_node *ddl) {
  rt_node *t = ddl->a;
  rt_tabledata *d = t->ext;
  int i, j, npk = 0;
  rt_table_resolve_types(t);
  S("\nCREATE TABLE ");
  if (d && d->schema) {
    rt_c_ident(c, d->schema);
    S(".");
  }
  rt_c_ident(c, t->name);
  S(" (");
  for (i = 0; i < t->n; i++)
    if (t->kids[i]->flags & RT_F_PK) npk++;
  if (!check_autoinc(c, t, npk)) return;
  for (i = 0; i < t->n; i++) {
    S(i ? ", \n\t" : "\n\t");
    column_spec(c, t, t->kids[i]);
    column_checks(c, t, t->kids[i]);
  }
  if (npk && !(d && d->pk_alter)) {
    S(", \n\t");
    if (d && d->pk_name) {
      S("CONSTRAINT ");
      rt_c_ident(c, d->pk_name);
      S(" ");
    }
    S("PRIMARY KEY (");
    pk_columns(c, t);
    S(")");
  }
  for (i = 0; d && i < d->ncons; i++)
    if (!made_by_column(t, &d->cons[i]))
      table_constraint(c, ddl, t, &d->cons[i]);
  for (j = 0; j < t->n; j++) {
    rt_node *col = t->kids[j];
    for (i = 0; d && i < d->ncons; i++)
      if (d->cons[i].kind == RT_CON_UNIQUE &&
          made_by_column(t, &d->cons[i]) == col)
        table_constraint(c, ddl, t, &d->cons[i]);
    type_check(c, col);
    for (i = 0; d && i < d->ncons; i++)
      if (d->cons[i].kind == RT_CON_FK && made_by_column(t, &d->cons[i]) == col)
        table_constraint(c, ddl, t, &d->cons[i]);
  }
  S("\n)");
  /* MySQL keeps a table's comment among its table options */
  if (d && strcmp(rt_c_dialect(c)->name, "mysql") == 0) {
    mysql_table_options(c, d);
    if (d->comment) {
      if (d->nmysql) S(" ");
      S("COMMENT=");
      comment_literal(c, d->comment);
    }
  }
  S("\n\n");
}

/* MySQL's forms: ALTER TABLE t COMMENT '...' ('' drops it), and ALTER
** TABLE t CHANGE c <c's whole specification> for a column's */
static int mysql_comment(rt_compiler *c, rt_node *ddl, rt_node *col,
                         const char *text) {
  if (strcmp(rt_c_dialect(c)->name, "mysql") != 0 ||
      ddl->op == RT_DDL_DROP_COLUMN_COMMENT)
    return 0;
  S("ALTER TABLE ");
  table_name(c, ddl->a);
  if (col) {
    S(" CHANGE ");
    rt_c_ident(c, col->name);
    S(" ");
    column_spec(c, ddl->a, col);
  } else {
    S(" COMMENT ");
    comment_literal(c, ddl->op == RT_DDL_SET_TABLE_COMMENT && text ? text : "");
  }
  return 1;
}

/* COMMENT ON TABLE t IS '...' / COMMENT ON COLUMN t.c IS '...' (or IS
** NULL to drop it), as SQLAlchemy renders them; its DropColumnComment
** names the table without its schema */
static void comment_on(rt_compiler *c, rt_node *ddl) {
  rt_node *t = ddl->a, *col = NULL;
  const char *text = NULL;
  int i;
  if (ddl->name) {
    for (i = 0; i < t->n && !col; i++)
      if (strcmp(t->kids[i]->name, ddl->name) == 0) col = t->kids[i];
    if (!col) {
      rt_c_fail(c, RT_EINVALIDREQUEST, "no column %s on table %s", ddl->name,
                t->name);
      return;
    }
    if (col->ext) text = ((rt_coldata *)col->ext)->comment;
  } else if (t->ext)
    text = ((rt_tabledata *)t->ext)->comment;
  if (mysql_comment(c, ddl, col, text)) return;
  S(col ? "COMMENT ON COLUMN " : "COMMENT ON TABLE ");
  if (ddl->op == RT_DDL_DROP_COLUMN_COMMENT)
    rt_c_ident(c, t->name);
  else
    table_name(c, t);
  if (col) {
    S(".");
    rt_c_ident(c, col->name);
  }
  S(" IS ");
  if (ddl->op == RT_DDL_SET_TABLE_COMMENT ||
      ddl->op == RT_DDL_SET_COLUMN_COMMENT) {
    if (text)
      comment_literal(c, text);
    else
      S("NULL");
  } else
    S("NULL");
}

/*
** Whether the dialect puts an index expression in parentheses of its own,
** as SQLAlchemy's DDL compilers do: PostgreSQL an operator expression;
** MySQL (whose functional key parts need them) a function too, and a
** unary expression other than ASC/DESC.
*/
static int index_grouped(rt_compiler *c, const rt_node *e) {
  const char *d = rt_c_dialect(c)->name;
  if (e->kind == RT_N_BINARY) return 1; /* (every dialect but SQLite's) */
  if (strcmp(d, "mysql") != 0) return 0;
  return e->kind == RT_N_FUNC ||
         (e->kind == RT_N_UNARY && e->op != RT_OP_DESC && e->op != RT_OP_ASC);
}

/* An index's elements: columns by name (MySQL's with a prefix length),
** expressions as DDL shows them. */
static void index_elements(rt_compiler *c, rt_constraint *ix,
                           const int *lengths) {
  const char *d = rt_c_dialect(c)->name;
  int i, group;
  for (i = 0; i < ix->ncols; i++) {
    rt_node *e = ix->exprs ? ix->exprs[i] : NULL;
    if (i) S(", ");
    if (!e) {
      rt_c_ident(c, ix->cols[i]);
      if (lengths && lengths[i]) rt_sb_addf(rt_c_buf(c), "(%d)", lengths[i]);
      continue;
    }
    group = (strcmp(d, "postgresql") == 0 || strcmp(d, "mysql") == 0) &&
            index_grouped(c, e);
    if (group) S("(");
    rt_c_ddl_expr(c, e);
    if (group) S(")");
  }
}

/* The table's constraint an ADD / DROP CONSTRAINT node names: by kind and
** name, or (unnamed) by its columns or its CHECK */
static rt_constraint *find_constraint(rt_node *t, rt_node *ddl) {
  rt_tabledata *d = t->ext;
  int kind = ddl->c->name[0] == 'U'   ? RT_CON_UNIQUE
             : ddl->c->name[0] == 'F' ? RT_CON_FK
                                      : RT_CON_CHECK;
  int i, j;
  for (i = 0; d && i < d->ncons; i++) {
    rt_constraint *k = &d->cons[i];
    if ((int)k->kind != kind) continue;
    if (ddl->name) {
      if (k->name && strcmp(k->name, ddl->name) == 0) return k;
      continue;
    }
    if (k->name) continue;
    if (kind == RT_CON_CHECK) {
      if (ddl->b && ((k->check && k->check_serial == ddl->b->serial) ||
                     (k->sqltext && ddl->b->kind == RT_N_LITERAL &&
                      strcmp(k->sqltext, ddl->b->name) == 0)))
        return k;
      continue;
    }
    if (k->ncols != ddl->n) continue;
    for (j = 0; j < k->ncols; j++)
      if (!k->cols[j] || strcmp(k->cols[j], ddl->kids[j]->name) != 0) break;
    if (j == k->ncols) return k;
  }
  return NULL;
}

int rt_ddl_mark_alter(rt_node *ddl) {
  rt_node *t = ddl->a;
  rt_constraint *k;
  if (ddl->c->name[0] == 'P') {
    if (t->ext) ((rt_tabledata *)t->ext)->pk_alter = 1;
    return 0;
  }
  k = find_constraint(t, ddl);
  if (!k) return -1;
  k->alter = 1;
  return 0;
}

/* ALTER TABLE t ADD <constraint> / DROP <constraint>, as each dialect
** spells it (MySQL drops a foreign key, index, primary key or check by
** its own words) */
static void alter_constraint(rt_compiler *c, rt_node *t, rt_node *ddl) {
  char kind = ddl->c->name[0];
  rt_constraint *k = kind == 'P' ? NULL : find_constraint(t, ddl);
  rt_tabledata *d = t->ext;
  const rt_dialect *dl = rt_c_dialect(c);
  const char *name = kind == 'P' ? (d ? d->pk_name : NULL) : ddl->name;
  if (kind != 'P' && !k) {
    rt_c_fail(c, RT_EINVALIDREQUEST, "no such constraint on table %s", t->name);
    return;
  }
  S("ALTER TABLE ");
  table_name(c, t);
  if (ddl->op == RT_DDL_ADD_CONSTRAINT) {
    if (kind != 'P' && !fk_resolves(c, t, k)) return;
    S(" ADD ");
    if (kind != 'P') {
      constraint_body(c, t, k);
      return;
    }
    if (name) {
      S("CONSTRAINT ");
      rt_c_ident(c, name);
      S(" ");
    }
    S("PRIMARY KEY (");
    pk_columns(c, t);
    S(")");
    return;
  }
  if (rt_dialect_is_mysql(dl) && kind == 'P') {
    S(" DROP PRIMARY KEY ");
    return;
  }
  if (!name) {
    rt_c_fail(c, RT_ECOMPILE,
              "Can't emit DROP CONSTRAINT for constraint %s; it has no name",
              kind == 'P'   ? "PrimaryKeyConstraint"
              : kind == 'U' ? "UniqueConstraint"
              : kind == 'F' ? "ForeignKeyConstraint"
                            : "CheckConstraint");
    return;
  }
  if (rt_dialect_is_mysql(dl))
    S(kind == 'F'                 ? " DROP FOREIGN KEY "
      : kind == 'U'               ? " DROP INDEX "
      : dl == &rt_dialect_mariadb ? " DROP CONSTRAINT "
                                  : " DROP CHECK ");
  else
    S(" DROP CONSTRAINT ");
  rt_c_ident(c, name);
  if ((ddl->flags & RT_F_FULL) && !rt_dialect_is_mysql(dl)) S(" CASCADE");
}

static rt_constraint *find_index(rt_node *t, const char *name) {
  rt_tabledata *d = t->ext;
  int i;
  for (i = 0; d && i < d->ncons; i++)
    if (d->cons[i].kind == RT_CON_INDEX && d->cons[i].name &&
        strcmp(d->cons[i].name, name) == 0)
      return &d->cons[i];
  return NULL;
}

void rt_ddl_compile(rt_compiler *c, rt_node *ddl);

void rt_ddl_compile(rt_compiler *c, rt_node *ddl) {
  rt_node *t = ddl->a;
  rt_constraint *ix;
  int pg = strcmp(rt_c_dialect(c)->name, "postgresql") == 0;
  int my = rt_dialect_is_mysql(rt_c_dialect(c));
  switch (ddl->op) {
  case RT_DDL_CREATE_TABLE:
    create_table(c, ddl);
    break;
  case RT_DDL_DROP_TABLE:
    S("\nDROP TABLE ");
    table_name(c, t);
    S("\n\n");
    break;
  case RT_DDL_CREATE_INDEX:
    ix = find_index(t, ddl->name);
    if (!ix) {
      rt_c_fail(c, RT_EINVALIDREQUEST, "no index %s on table %s", ddl->name,
                t->name);
      return;
    }
    S(ix->unique ? "CREATE UNIQUE " : "CREATE ");
    if (my && ix->my_prefix) {
      S(ix->my_prefix);
      S(" ");
    }
    S("INDEX ");
    if (pg && ix->pg_concurrently) S("CONCURRENTLY ");
    if (is_sqlite(c)) {
      /* SQLite names the schema (database) on the index, not the table */
      index_name(c, t, ix->name);
      S(" ON ");
      rt_c_ident(c, t->name);
    } else {
      rt_c_ident(c, ix->name);
      S(" ON ");
      table_name(c, t);
    }
    if (pg && ix->pg_using) {
      /* a method name, lower-cased, as SQLAlchemy's IDX_USING allows */
      const char *p;
      for (p = ix->pg_using; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_')) break;
      if (*p || !*ix->pg_using) {
        rt_c_fail(c, RT_ECOMPILE,
                  "Unexpected SQL phrase: '%s' (matching against "
                  "'^(?:btree|hash|gist|gin|[\\w_]+)$')",
                  ix->pg_using);
        return;
      }
      S(" USING ");
      for (p = ix->pg_using; *p; p++)
        rt_sb_addc(rt_c_buf(c), (char)tolower((unsigned char)*p));
    }
    S(" (");
    index_elements(c, ix, my ? ix->my_length : NULL);
    S(")");
    if (my && ix->my_parser) {
      S(" WITH PARSER ");
      S(ix->my_parser);
    }
    if (my && ix->my_using) {
      S(" USING ");
      rt_c_ident(c, ix->my_using);
    }
    if (pg && ix->npg_include) {
      int i;
      S(" INCLUDE (");
      for (i = 0; i < ix->npg_include; i++) {
        if (i) S(", ");
        rt_c_ident(c, ix->pg_include[i]);
      }
      S(")");
    }
    /* a partial index's predicate, its values inline */
    if ((pg && ix->pg_where) || (is_sqlite(c) && ix->sqlite_where)) {
      S(" WHERE ");
      rt_c_ddl_expr(c, pg ? ix->pg_where : ix->sqlite_where);
    }
    break;
  case RT_DDL_DROP_INDEX:
    S("\nDROP INDEX ");
    ix = find_index(t, ddl->name);
    if (pg && ix && ix->pg_concurrently) S("CONCURRENTLY ");
    if (strcmp(rt_c_dialect(c)->name, "mysql") == 0) {
      rt_c_ident(c, ddl->name);
      S(" ON ");
      table_name(c, t);
    } else
      index_name(c, t, ddl->name);
    break;
  case RT_DDL_CREATE_SEQUENCE:
  case RT_DDL_DROP_SEQUENCE:
    /* rendered for any dialect, as SQLAlchemy's; create_all issues it
    ** only where there are sequences */
    S(ddl->op == RT_DDL_CREATE_SEQUENCE ? "CREATE SEQUENCE "
                                        : "DROP SEQUENCE ");
    if (ddl->b && ddl->b->name) {
      rt_c_ident(c, ddl->b->name);
      S(".");
    }
    rt_c_ident(c, ddl->name);
    if (ddl->op == RT_DDL_CREATE_SEQUENCE)
      S(ddl->a && ddl->a->kind == RT_N_LITERAL ? ddl->a->name
                                               : " START WITH 1");
    break;
  case RT_DDL_ADD_CONSTRAINT:
  case RT_DDL_DROP_CONSTRAINT:
    alter_constraint(c, t, ddl);
    break;
  case RT_DDL_SET_TABLE_COMMENT:
  case RT_DDL_DROP_TABLE_COMMENT:
  case RT_DDL_SET_COLUMN_COMMENT:
  case RT_DDL_DROP_COLUMN_COMMENT:
    comment_on(c, ddl);
    break;
  default:
    rt_c_fail(c, RT_ECOMPILE, "unknown DDL statement");
  }
}
