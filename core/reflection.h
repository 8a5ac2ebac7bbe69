/*
** reflection.h -- what a database says about its own tables.
**
** Each dialect answers from its catalog (SQLite's PRAGMAs and
** sqlite_master, PostgreSQL's pg_catalog, MySQL's information_schema and
** SHOW CREATE TABLE) through an rt_connection; this module dispatches on
** the engine's dialect name.  Answers are C structs whose strings and
** arrays all live in the arena of one rt_refl, freed at once by
** rt_refl_free.  Nothing here knows about Lua.
**
** The shapes follow SQLAlchemy's Inspector: columns in table order, the
** primary key in key order, foreign keys, indexes (minus those that only
** back a primary key or unique constraint) and unique constraints, each
** listed in the order SQLAlchemy's dialect lists them.
**
** `schema` arguments may be NULL for the connection's default schema
** (SQLite "main", PostgreSQL "public", MySQL the URL's database).
*/
#ifndef RT_REFLECTION_H
#define RT_REFLECTION_H

#include <stddef.h>

#include "engine.h"
#include "types.h"

/* A block list: allocations are carved from blocks freed together. */
typedef struct rt_arena_block rt_arena_block;
typedef struct rt_arena {
  rt_arena_block *head;
  int failed; /* an allocation failed */
} rt_arena;

typedef struct rt_names {
  int n;
  const char **v;
} rt_names;

/* values of rt_refl_column.autoincrement */
#define RT_AUTOINC_FALSE 0
#define RT_AUTOINC_TRUE 1
#define RT_AUTOINC_AUTO 2  /* SQLAlchemy's "auto": the dialect can't tell */
#define RT_AUTOINC_UNSET 3 /* not reported (MySQL, non-integer columns) */

typedef struct rt_refl_column {
  const char *name;
  const char *type;             /* declared type, as the server spells it */
  int nullable;                 /* 0 or 1 */
  const char *dflt;             /* server default text, or NULL */
  int autoincrement;            /* RT_AUTOINC_* */
  const char *comment;          /* or NULL */
  int pk;                       /* 1-based position in the primary key, or 0 */
  int report_pk;                /* the dialect reports pk in its column dicts */
  int computed;                 /* 0, or RT_COMPUTED_VIRTUAL / _STORED */
  const char *computed_sqltext; /* its expression ("" when unknown) */
  /* PostgreSQL identity columns: GENERATED ALWAYS or BY DEFAULT, and the
  ** sequence's start, increment, minvalue, maxvalue, cache and cycle as
  ** the catalog's text */
  int identity; /* 0, RT_IDENTITY_ALWAYS or RT_IDENTITY_BY_DEFAULT */
  const char *seq[6];
} rt_refl_column;

#define RT_IDENTITY_ALWAYS 1
#define RT_IDENTITY_BY_DEFAULT 2

#define RT_COMPUTED_VIRTUAL 1
#define RT_COMPUTED_STORED 2

typedef struct rt_refl_pk {
  const char *name; /* or NULL */
  rt_names cols;
} rt_refl_pk;

typedef struct rt_refl_fk {
  const char *name; /* or NULL */
  rt_names cols;
  const char *refschema; /* NULL when the referred table is in `schema` */
  const char *reftable;
  rt_names refcols;
  const char *ondelete; /* NULL for the default (NO ACTION) */
  const char *onupdate;
  int deferrable;        /* 0 when not said, or RT_REFL_[NOT_]DEFERRABLE */
  const char *initially; /* DEFERRED / IMMEDIATE, or NULL */
  const char *match;     /* PostgreSQL's MATCH FULL, or NULL */
} rt_refl_fk;

#define RT_REFL_DEFERRABLE 1
#define RT_REFL_NOT_DEFERRABLE 2

/* bits of rt_refl_index.sorting */
#define RT_SORT_DESC 1
#define RT_SORT_NULLS_FIRST 2
#define RT_SORT_NULLS_LAST 4

typedef struct rt_refl_index {
  const char *name;
  rt_names cols;
  int unique;
  /* PostgreSQL: the UNIQUE constraint this index backs, or NULL */
  const char *duplicates;
  /* a partial index's WHERE text (sqlite_where, postgresql_where) */
  const char *where;
  rt_names include; /* PostgreSQL: INCLUDE columns */
  /* MySQL: the key's kind, UNIQUE, FULLTEXT or SPATIAL (NULL for a plain
  ** KEY); the last two also as dialect_options.mysql_prefix */
  const char *type;
  const char *using; /* PostgreSQL: the access method when not btree */
  /* PostgreSQL: per key column, the ordering that differs from the
  ** default (RT_SORT_* bits, as SQLAlchemy's column_sorting); NULL when
  ** every column sorts the default way */
  int *sorting;
  rt_names with;           /* PostgreSQL: storage parameters, "name=value" */
  int has_dialect_options; /* the dialect reports a dialect_options table */
} rt_refl_index;

typedef struct rt_refl_check {
  const char *name; /* or NULL */
  const char *sqltext;
  int not_valid; /* PostgreSQL: NOT VALID */
} rt_refl_check;

typedef struct rt_refl_unique {
  const char *name; /* or NULL */
  rt_names cols;
  /* MySQL: the unique index this constraint is (also listed as an index) */
  const char *duplicates;
} rt_refl_unique;

/* A table with the names of its foreign keys, for dependency order. */
typedef struct rt_refl_sorted {
  const char *table; /* NULL for the entry of cycle-breaking keys */
  rt_names fknames;  /* a NULL entry stands for unnamed keys */
  rt_names fktables; /* with table == NULL: the table of each fkname */
} rt_refl_sorted;

/* One answer.  Only the fields of the call that filled it are set. */
typedef struct rt_refl {
  rt_arena arena;
  rt_names names; /* table, view or schema names */
  int ncols;
  rt_refl_column *cols;
  rt_refl_pk pk;
  int nfks;
  rt_refl_fk *fks;
  int nindexes;
  rt_refl_index *indexes;
  int nuniques;
  rt_refl_unique *uniques;
  int nchecks;
  rt_refl_check *checks;
  const char *comment; /* the table's comment, or NULL */
  const char *text;    /* a view's definition, the default schema name */
  int nsorted;
  rt_refl_sorted *sorted;
} rt_refl;

void rt_refl_init(rt_refl *r);
void rt_refl_free(rt_refl *r);

/* All return 0, or -1 with err set.  Table-level calls raise
** NoSuchTableError (message: the table name) for a missing table. */
int rt_reflect_table_names(rt_connection *c, const char *schema, rt_refl *out,
                           rt_error *err);
int rt_reflect_view_names(rt_connection *c, const char *schema, rt_refl *out,
                          rt_error *err);
int rt_reflect_schema_names(rt_connection *c, rt_refl *out, rt_error *err);
int rt_reflect_has_table(rt_connection *c, const char *schema,
                         const char *table, int *exists, rt_error *err);
int rt_reflect_columns(rt_connection *c, const char *schema, const char *table,
                       rt_refl *out, rt_error *err);
int rt_reflect_pk(rt_connection *c, const char *schema, const char *table,
                  rt_refl *out, rt_error *err);
int rt_reflect_foreign_keys(rt_connection *c, const char *schema,
                            const char *table, rt_refl *out, rt_error *err);
int rt_reflect_indexes(rt_connection *c, const char *schema, const char *table,
                       rt_refl *out, rt_error *err);
int rt_reflect_unique_constraints(rt_connection *c, const char *schema,
                                  const char *table, rt_refl *out,
                                  rt_error *err);
int rt_reflect_check_constraints(rt_connection *c, const char *schema,
                                 const char *table, rt_refl *out,
                                 rt_error *err);
/* The table's comment in out->comment; NotSupportedError for a dialect
** that keeps none (SQLite). */
int rt_reflect_table_comment(rt_connection *c, const char *schema,
                             const char *table, rt_refl *out, rt_error *err);
/* The default schema's name in out->text: SQLAlchemy's
** Inspector.default_schema_name. */
int rt_reflect_default_schema(rt_connection *c, rt_refl *out, rt_error *err);
/* The schema's sequence names in out->names; NotImplementedError where the
** database has no sequences (SQLite, MySQL before MariaDB). */
int rt_reflect_sequence_names(rt_connection *c, const char *schema,
                              rt_refl *out, rt_error *err);
int rt_reflect_has_sequence(rt_connection *c, const char *schema,
                            const char *name, int *exists, rt_error *err);
/* The view's definition in out->text (NULL for no such view on SQLite and
** PostgreSQL; NoSuchTableError on MySQL, as SQLAlchemy 1.4). */
int rt_reflect_view_definition(rt_connection *c, const char *schema,
                               const char *view, rt_refl *out, rt_error *err);
/* Everything about one table at once (columns, pk, fks, indexes, uniques):
** what Table(..., {autoload_with}) needs. */
int rt_reflect_table(rt_connection *c, const char *schema, const char *table,
                     rt_refl *out, rt_error *err);
/* The schema's tables in dependency order (referred tables first), each
** with its foreign key names, then one entry with table == NULL holding the
** keys set aside to break cycles: SQLAlchemy's
** Inspector.get_sorted_table_and_fkc_names. */
int rt_reflect_sorted_tables(rt_connection *c, const char *schema, rt_refl *out,
                             rt_error *err);

/*
** For the dialect files.
*/

/* Memory from the answer's arena (zeroed); NULL when out of memory. */
void *rt_arena_alloc(rt_arena *a, size_t n);
const char *rt_arena_strdup(rt_arena *a, const char *s);
const char *rt_arena_strndup(rt_arena *a, const char *s, size_t n);
/* Append s to a name list (copying it into the arena; s may be NULL). */
int rt_names_add(rt_arena *a, rt_names *l, const char *s);
/* Grow an array of `size`-byte items in the arena to hold n + 1 items;
** returns the new item (zeroed), or NULL. */
void *rt_arena_push(rt_arena *a, void *array_ptr, int *n, size_t size);

/* The rows of a catalog query, every value as text (NULL stays NULL,
** integers and booleans as decimal text), in the answer's arena. */
typedef struct rt_rows {
  int n, ncols;
  const char **cell; /* row-major */
} rt_rows;
#define RT_CELL(rows, r, c) ((rows)->cell[(r) * (rows)->ncols + (c)])

/* Run `sql` with text parameters (NULL entries bind NULL). */
int rt_refl_query(rt_connection *c, rt_arena *a, const char *sql,
                  const char *const *params, int nparams, rt_rows *rows,
                  rt_error *err);
/* Is a catalog value true ("1", "t", "true", "YES")? */
int rt_refl_truthy(const char *s);
int rt_refl_nosuchtable(rt_error *err, const char *table);

typedef struct rt_reflector {
  const char *dialect;
  /* SQLite's PRAGMAs answer "nothing" for a missing table, and SQLAlchemy
  ** 1.4 passes that on; the servers' queries raise NoSuchTableError */
  int missing_is_empty;
  int (*table_names)(rt_connection *c, const char *schema, int views,
                     rt_refl *out, rt_error *err);
  int (*schema_names)(rt_connection *c, rt_refl *out, rt_error *err);
  int (*has_table)(rt_connection *c, const char *schema, const char *table,
                   int *exists, rt_error *err);
  int (*columns)(rt_connection *c, const char *schema, const char *table,
                 rt_refl *out, rt_error *err);
  int (*pk)(rt_connection *c, const char *schema, const char *table,
            rt_refl *out, rt_error *err);
  int (*fks)(rt_connection *c, const char *schema, const char *table,
             rt_refl *out, rt_error *err);
  int (*indexes)(rt_connection *c, const char *schema, const char *table,
                 rt_refl *out, rt_error *err);
  int (*uniques)(rt_connection *c, const char *schema, const char *table,
                 rt_refl *out, rt_error *err);
  int (*checks)(rt_connection *c, const char *schema, const char *table,
                rt_refl *out, rt_error *err);
  /* NULL: the dialect keeps no table comments */
  int (*comment)(rt_connection *c, const char *schema, const char *table,
                 rt_refl *out, rt_error *err);
  /* out->text: the schema a name without one is in */
  int (*default_schema)(rt_connection *c, rt_refl *out, rt_error *err);
  /* the sequences of the schema (only the one named `name` unless NULL)
  ** into out->names; NULL: the dialect has none (NotImplementedError) */
  int (*sequences)(rt_connection *c, const char *schema, const char *name,
                   rt_refl *out, rt_error *err);
  /* out->text: the view's definition, NULL when there is no such view
  ** (or NoSuchTableError, as the dialect's SQLAlchemy says) */
  int (*view_definition)(rt_connection *c, const char *schema, const char *view,
                         rt_refl *out, rt_error *err);
} rt_reflector;

extern const rt_reflector rt_sqlite_reflector;
extern const rt_reflector rt_postgresql_reflector;
extern const rt_reflector rt_mysql_reflector;

/*
** The retort type for a column type as the server describes it
** (`VARCHAR(50)`, `character varying(50)`, `int(11)`, `numeric(10,2)`,
** `timestamp with time zone`, `enum('a','b')`, `integer[]`): the generic
** type SQLAlchemy's reflection maps it to, NullType for text it does not
** know (as SQLAlchemy does, with a warning).  NULL only when out of
** memory; the caller owns the reference.
*/
rt_type *rt_reflect_type(const char *dialect, const char *text);

#endif
