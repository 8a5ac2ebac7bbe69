/*
** compiler.h -- statement trees to SQL text and an ordered parameter list.
**
** rt_compile walks a statement for one dialect.  A dialect is a record of
** flags and hooks (the files in dialects/); the "default" dialect renders what
** SQLAlchemy's str(stmt) renders.  Parameter values in the result point
** into the statement tree, which must outlive the rt_compiled.
*/
#ifndef RT_COMPILER_H
#define RT_COMPILER_H

#include "elements.h"
#include "strbuf.h"

typedef struct rt_compiler rt_compiler;

enum { RT_PS_NAMED = 0, RT_PS_QMARK, RT_PS_DOLLAR };

/* dialect flags */
#define RT_DF_NATIVE_BOOL 0x01 /* true/false, else 1/0 */
#define RT_DF_ILIKE 0x02       /* has ILIKE, else lower() LIKE lower() */
#define RT_DF_RETURNING 0x04
#define RT_DF_CONCAT_FUNC 0x08 /* concat(a, b), else a || b */
#define RT_DF_BACKSLASH 0x10   /* string literals escape backslashes */
#define RT_DF_ON_CONFLICT 0x20
/* a literal_binds compile doubles every '%', as SQLAlchemy's
** pyformat/format dialects print it */
#define RT_DF_DOUBLE_PERCENT 0x8000
#define RT_DF_ON_DUPLICATE 0x40
#define RT_DF_IMPLICIT_RETURNING                                               \
  0x80 /* INSERT returns its autoincrement pk                                  \
        */
#define RT_DF_NULLS_ORDER 0x100
#define RT_DF_INNER_JOIN 0x400 /* JOIN is spelled INNER JOIN */
#define RT_DF_BOOL_WORDS 0x200
#define RT_DF_SEQUENCES 0x1000       /* nextval() for Sequence columns */
#define RT_DF_TUPLE_IN_VALUES 0x2000 /* (a, b) IN (VALUES (..), (..)) */
#define RT_DF_DEFAULT_VALUES                                                   \
  0x4000 /* INSERT INTO t DEFAULT VALUES, else                                 \
            INSERT INTO t () VALUES () */
#define RT_DF_EMPTY_IN_SELECT                                                  \
  0x800 /* IN () spelled as an empty SELECT */ /* no boolean type, yet spells  \
                                                  true/false */

typedef struct rt_dialect {
  const char *name; /* "default", "sqlite", "postgresql", "mysql" */
  int paramstyle;
  char quote_open, quote_close;
  const char *const *reserved; /* sorted, lower case */
  const int *nreserved;
  unsigned flags;
  /* LIMIT/OFFSET after ORDER BY; either may be NULL */
  void (*limit)(rt_compiler *c, rt_node *limit, rt_node *offset);
  /* a function call the dialect spells its own way; 1 if rendered */
  int (*func)(rt_compiler *c, rt_node *f);
  /* CAST(x AS <type>) target */
  void (*cast_type)(rt_compiler *c, const rt_type *t);
  /* EXTRACT(field FROM e); NULL: the standard form */
  void (*extract)(rt_compiler *c, rt_node *e);
  /* column DDL: the type and autoincrement spelling */
  void (*column_ddl)(rt_compiler *c, rt_node *table, rt_node *col);
  /* FOR UPDATE variants; NULL: " FOR UPDATE" (rt_c_for_update_of renders
  ** the usual OF / NOWAIT / SKIP LOCKED form) */
  void (*for_update)(rt_compiler *c, rt_node *fu);
} rt_dialect;

extern const rt_dialect rt_dialect_default;
extern const rt_dialect rt_dialect_sqlite;
extern const rt_dialect rt_dialect_postgresql;
extern const rt_dialect rt_dialect_mysql;
/* The MySQL dialect with MariaDB's reserved words: SQLAlchemy's once it
** has connected to MariaDB, or its mariadb dialect.  Named "mysql" too. */
extern const rt_dialect rt_dialect_mariadb;
/* Is d one of the two MySQL dialects? */
#define rt_dialect_is_mysql(d)                                                 \
  ((d) == &rt_dialect_mysql || (d) == &rt_dialect_mariadb)
/* By name ("sqlite", "postgresql"/"postgres", "mysql", "mariadb" (the
** MySQL dialect quoting by MariaDB's reserved words), "default"); NULL when
** unknown. */
const rt_dialect *rt_dialect_find(const char *name);
/* Must an identifier be quoted on d (case, punctuation, reserved word)? */
int rt_dialect_needs_quote(const rt_dialect *d, const char *name);

typedef struct rt_param {
  const rt_value *value; /* into the tree, or &rt_required_value */
  const char *name;      /* the bind's name (into rt_compiled.names) */
  /* the rt_typekind of the bind's type (RT_TY_NULL: none): a LargeBinary
  ** string goes as bytes, a JSON value as JSON text, ... */
  unsigned char kind;
  /* an item of an IN list, which SQLAlchemy binds as one expanding
  ** parameter: named as that parameter, then _<position> */
  unsigned char in_item;
} rt_param;

/* The value of a parameter the statement doesn't give (text() binds,
** bindparam() without a value, INSERT keys): execution must supply it. */
extern const rt_value rt_required_value;

typedef struct rt_compile_opts {
  int literal_binds;
  /* INSERT/UPDATE executed with parameters: the keys given (NULL: none) */
  const char *const *column_keys;
  int ncolumn_keys;
  /* > 1: an INSERT of one VALUES row renders that many rows, each with
  ** its own parameters (an executemany that returns rows, as SQLAlchemy
  ** 2.0's "insertmanyvalues") */
  int insert_rows;
  /* executed with several parameter sets: cached apart from the same
  ** statement run once, as SQLAlchemy's cache key tells them apart */
  int for_executemany;
} rt_compile_opts;

#define RT_POSTCOMPILE_WAITING 1
#define RT_POSTCOMPILE_LISTED 2

typedef struct rt_compiled {
  char *sql;
  int nparams;
  rt_param *params;
  char *names; /* storage for the parameter names */
  int returns_rows;
  /* from the cache: when the cached form was generated (rt_compile_clock
  ** seconds); 0 when this compile generated it */
  double cached_since;
  int rows; /* VALUES rows rendered for insert_rows (0: not asked) */
  /* RT_POSTCOMPILE_WAITING: an expanding bind with no list yet, rendered
  ** as SQLAlchemy's __[POSTCOMPILE_key], to be compiled again with the
  ** list given; RT_POSTCOMPILE_LISTED: one with a list of its own, which
  ** a list given at execution replaces */
  int postcompile;
  /* nonzero when the text is a cached one's: results with the same
  ** text_id have the same sql (a binding keeps its string of the text) */
  uint64_t text_id;
  /* a result from the cache has sql, params and names in one block, kept
  ** for the next result rt_compile_into makes in the same rt_compiled */
  void *block;
  size_t blockcap;
  int inblock;
} rt_compiled;

/* The monotonic clock compile times are measured in, in seconds. */
double rt_compile_clock(void);

int rt_compile(rt_node *stmt, const rt_dialect *d, const rt_compile_opts *o,
               rt_compiled *out, rt_error *err);
void rt_compiled_free(rt_compiled *c);
/* rt_compile into `out`, a zeroed rt_compiled or one a compile filled
** before (its contents are freed first, its memory reused). */
int rt_compile_into(rt_node *stmt, const rt_dialect *d,
                    const rt_compile_opts *o, rt_compiled *out, rt_error *err);
/* Empty this thread's compiled-statement cache (rt_compile fills it). */
void rt_compile_cache_clear(void);

/* --- for dialect hooks --- */
rt_strbuf *rt_c_buf(rt_compiler *c);
const rt_dialect *rt_c_dialect(rt_compiler *c);
void rt_c_expr(rt_compiler *c, rt_node *e);
void rt_c_ident(rt_compiler *c, const char *name);
/* Render a constant as a bound parameter (a literal under literal_binds). */
void rt_c_const_param(rt_compiler *c, rt_node *bind);
/* ... a placeholder and parameter even when compiling with literal_binds */
void rt_c_bound_param(rt_compiler *c, rt_node *bind);
void rt_c_fail(rt_compiler *c, rt_errkind kind, const char *fmt, ...);
int rt_c_literal_binds(rt_compiler *c);
/* e as DDL shows it (an index element): values inline, columns without
** their table */
void rt_c_ddl_expr(rt_compiler *c, rt_node *e);

/* DDL statements (ddl.c) */
enum {
  RT_DDL_CREATE_TABLE = 1,
  RT_DDL_DROP_TABLE,
  RT_DDL_CREATE_INDEX,
  RT_DDL_DROP_INDEX,
  RT_DDL_CREATE_SEQUENCE,
  RT_DDL_DROP_SEQUENCE,
  /* COMMENT ON TABLE / COLUMN (name: the column), the comment or NULL */
  RT_DDL_SET_TABLE_COMMENT,
  RT_DDL_DROP_TABLE_COMMENT,
  RT_DDL_SET_COLUMN_COMMENT,
  RT_DDL_DROP_COLUMN_COMMENT,
  /* ALTER TABLE ADD / DROP CONSTRAINT: name the constraint's (or NULL),
  ** c a literal of its kind ("P", "U", "F", "C"), b an unnamed CHECK's
  ** text or expression, kids an unnamed one's column names (literals);
  ** flag RT_F_FULL: CASCADE */
  RT_DDL_ADD_CONSTRAINT,
  RT_DDL_DROP_CONSTRAINT
};

/* " FOR UPDATE" (or `read_kw` for a read lock) with OF tables, NOWAIT and
** SKIP LOCKED, as PostgreSQL and MySQL spell them. */
void rt_c_for_update_of(rt_compiler *c, rt_node *fu, const char *read_kw);

#endif
