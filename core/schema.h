/*
** schema.h -- MetaData, Table, Column, constraints, Index, Sequence.
**
** A Table is an rt_node of kind RT_N_TABLE whose kids are its columns (each
** RT_N_COLUMN with owner = the table).  The MetaData holds a reference to
** each of its tables; a table points back weakly, and the MetaData clears
** that pointer when it goes, so no cycle forms.  Foreign keys name their
** target ("users.id") and are resolved through the MetaData when used.
*/
#ifndef RT_SCHEMA_H
#define RT_SCHEMA_H

#include "elements.h"

typedef struct rt_metadata rt_metadata;

typedef enum rt_conkind {
  RT_CON_PK = 1,
  RT_CON_FK,
  RT_CON_UNIQUE,
  RT_CON_CHECK,
  RT_CON_INDEX
} rt_conkind;

typedef struct rt_constraint {
  rt_conkind kind;
  char *name;
  int ncols;
  char **cols; /* column names in this table */
  /* INDEX: per element, an expression (owned) where cols[i] is NULL */
  rt_node **exprs;
  char *reftable; /* FK */
  char **refcols; /* FK, ncols of them */
  char *ondelete, *onupdate;
  char *match, *initially; /* FK: MATCH, INITIALLY */
  int deferrable;          /* FK: 0 not given, 1 DEFERRABLE, 2 NOT DEFERRABLE */
  char *sqltext;           /* CHECK */
  rt_node *check;          /* CHECK given as an expression (owned), or NULL */
  uint64_t check_serial;   /* the serial of the expression given */
  int unique;              /* INDEX */
  /* INDEX dialect options: postgresql_where / sqlite_where (a predicate,
  ** owned), postgresql_using, postgresql_include (ninclude names),
  ** postgresql_concurrently */
  rt_node *pg_where, *sqlite_where;
  char *pg_using;
  char **pg_include;
  int npg_include, pg_concurrently;
  /* INDEX on MySQL: mysql_prefix (FULLTEXT, SPATIAL), mysql_using,
  ** mysql_with_parser, and mysql_length per element (0: none) */
  char *my_prefix, *my_using, *my_parser;
  int *my_length;
  int alter;     /* AddConstraint made for it: CREATE TABLE leaves it out */
  int use_alter; /* FK: created by ALTER after the tables, dropped before */
  /* FK: its table was removed from the MetaData, which SQLAlchemy's
  ** ForeignKey, resolved while the table was there, does not notice */
  int orphaned;
  int column_level; /* FK declared on a Column */
} rt_constraint;

typedef struct rt_tabledata {
  rt_metadata *md; /* weak */
  char *schema;
  int ncons;
  rt_constraint *cons; /* FK, UNIQUE, CHECK, INDEX; the PK is derived */
  char *pk_name;
  int pk_explicit; /* a PrimaryKeyConstraint named the key's columns */
  int pk_alter;    /* AddConstraint(t.primary_key): not in CREATE TABLE */
  char *comment;   /* Table(..., {comment = ...}) */
  /* MySQL table options from Table(..., {mysql_engine = ...}): names
  ** upper-cased without the prefix, and values, in pairs */
  int nmysql;
  char **mysql;
  /* columns replaced by rt_table_replace_column: handles to them may
  ** still exist, so they live (owned, unlisted) as long as the table */
  int nretired;
  rt_node **retired;
} rt_tabledata;

typedef struct rt_coldata {
  char *key; /* .c key when it differs from the name */
  char *comment;
  rt_node *def; /* default: a bind (scalar) or a SQL expression */
  rt_node *server_default;
  rt_node *onupdate;
  rt_node *server_onupdate;
  int lua_default;  /* the default is a Lua function kept by the binding */
  int lua_onupdate; /* so is the onupdate value */
  int seq;          /* has a Sequence */
  char *seqname;
  char *seqschema; /* its Sequence's schema, or NULL */
  /* Identity(...): "GENERATED ... AS IDENTITY [(options)]", the DDL the
  ** dialects with identity columns render after the type; or NULL */
  char *identity;
  int autoinc_ignore_fk; /* autoincrement = "ignore_fk" */
} rt_coldata;

struct rt_metadata {
  int n, cap;
  rt_node **tables;
  char *schema; /* MetaData(schema=...): owned, or NULL */
};

rt_metadata *rt_metadata_new(void);
void rt_metadata_free(rt_metadata *md);
/*
** Tables are keyed as SQLAlchemy keys them: "schema.name" for a table
** with a schema, the bare name otherwise; so tables of one name in two
** schemas live side by side.  The table with key `key`, or NULL.
*/
rt_node *rt_metadata_find(rt_metadata *md, const char *key);
/* Is t's key `key`? */
int rt_table_has_key(const rt_node *t, const char *key);
/*
** The table a foreign key of t names by `ref` ("schema.table" or
** "table"), resolved in t's MetaData as SQLAlchemy resolves it: a bare
** name takes the MetaData's schema.  t itself when the key is its own;
** NULL when the MetaData holds no such table.
*/
rt_node *rt_fk_target(const rt_node *t, const char *ref);
/*
** The column a foreign key of t's column `col` (its name) refers to,
** `refcol` of the table `ref` names, as SQLAlchemy's ForeignKey.column
** resolves it; NULL with err set when the MetaData holds no such table
** (NoReferencedTableError) or the table no such column
** (NoReferencedColumnError).
*/
rt_node *rt_fk_resolve(const rt_node *t, const char *col, const char *ref,
                       const char *refcol, rt_error *err);
/* The same for each column of foreign key constraint k: 0, or -1. */
int rt_fk_check(const rt_node *t, const rt_constraint *k, rt_error *err);
/* Forget table t (MetaData.remove); it no longer belongs to md. */
void rt_metadata_remove(rt_metadata *md, rt_node *t);
/* Tables sorted so that each comes after those it references. */
int rt_metadata_sorted(rt_metadata *md, rt_node ***out);

/*
** The order create_all / drop_all take n tables in (see rt_fk_sort in
** schema.c): the tables, and the foreign keys left for ALTER TABLE (table
** and index into its constraints), those with use_alter first.
*/
typedef struct rt_fksort {
  int ntables;
  rt_node **tables;
  int nfks;
  rt_node **fk_tables;
  int *fk_cons;
  int cycle;         /* a cycle of foreign keys was met */
  char *cycle_names; /* the last one met: its tables' keys, "a, b" */
  int stuck;         /* no foreign key could be taken out of it: the
                        tables are in the order given */
} rt_fksort;

#define RT_FKSORT_DROP 1    /* named foreign keys only leave the cycle */
#define RT_FKSORT_NOALTER 2 /* no ALTER: with DROP, none leaves it */
#define RT_FKSORT_RESOLVE 4 /* a target the MetaData lacks is an error */

int rt_fk_sort(rt_node *const *tables, int n, int flags, rt_fksort *out,
               rt_error *err);
void rt_fksort_free(rt_fksort *o);
/* md's tables in order of their keys, sorted so (sorted_tables). */
int rt_metadata_sort(rt_metadata *md, int flags, rt_fksort *out, rt_error *err);

/* A new table (refs 1) registered in md (md may be NULL: sa.table()). */
rt_node *rt_table_new(rt_metadata *md, const char *name, rt_error *err);
/* The same with a schema (may be NULL); an error (InvalidRequestError)
** when md holds a table of that key already. */
rt_node *rt_table_new_in(rt_metadata *md, const char *schema, const char *name,
                         rt_error *err);
/* A new column for a table; `type` may be NULL (taken from its FK). */
rt_node *rt_column_new(const char *name, rt_type *type);
/* Attach column to table (the column becomes owned by the table). */
int rt_table_add_column(rt_node *t, rt_node *col, rt_error *err);
/*
** Attach column to table in place of the column with the same key, which
** keeps its position (SQLAlchemy's replace_existing), or at the end when
** there is none.  A primary-key column may only be replaced by another.
*/
int rt_table_replace_column(rt_node *t, rt_node *col, rt_error *err);
/* Would rt_table_replace_column accept col?  0, or -1 with err set. */
int rt_table_check_replace(const rt_node *t, const rt_node *col, rt_error *err);
/* Add a constraint (contents moved: the caller's struct is zeroed). */
int rt_table_add_constraint(rt_node *t, rt_constraint *c);
/* A constraint's expression (kept with stand-ins for its table's
** columns) with t's columns again: a new reference, NULL out of memory */
rt_node *rt_reattached(rt_node *e, rt_node *t);
rt_node *rt_table_column(const rt_node *t, const char *key);
const char *rt_column_key(const rt_node *col);
rt_coldata *rt_coldata_get(rt_node *col); /* created on demand */
void rt_coldata_free(rt_coldata *d);
void rt_tabledata_free(rt_tabledata *d);
void rt_constraint_clear(rt_constraint *c);
/* Resolve the type of columns typed only by their foreign key. */
void rt_table_resolve_types(rt_node *t);
/* Is this column the table's autoincrement column? */
int rt_column_is_autoinc(const rt_node *t, const rt_node *col);
/* Does the database number col by itself (PostgreSQL's SERIAL): the
** autoincrement column with no Sequence, identity or client-side
** default, as SQLAlchemy's PostgreSQL DDL decides? */
int rt_column_is_serial(const rt_node *t, const rt_node *col);
/* The table's autoincrement column, or NULL. */
rt_node *rt_table_autoinc(const rt_node *t);

/*
** Tables and their columns change only while they are built (columns,
** constraints, types resolved from foreign keys).  Each such change moves
** a process-wide epoch on, so the compiled-statement cache can key a
** table by its identity and the epoch instead of walking its contents.
*/
uint64_t rt_schema_epoch(void);
void rt_schema_changed(void);

/* The table a selectable ultimately names (an alias of a table). */
rt_node *rt_base_table(rt_node *from);
/*
** The ON clause joining `left` and `right` from their foreign keys.
** Errors (ArgumentError) when none or several fit.
*/
rt_node *rt_join_condition(rt_node *left, rt_node *right, rt_error *err);

#endif
