/*
** elements.h -- the SQL expression tree.
**
** Every construct (table, column, bind parameter, operator, function,
** SELECT, INSERT ...) is an rt_node: one refcounted, immutable record with a
** kind, an operator, a name, a value, three operand slots and a list of
** children.  Generative methods copy a node shallowly (children gain a
** reference) and replace one slot, so statements share their parts.
**
** Columns belong to the table (or alias) that lists them: they carry an
** `owner` pointer and share the owner's reference count, so a column kept
** by an expression keeps its table alive and no cycle forms.
*/
#ifndef RT_ELEMENTS_H
#define RT_ELEMENTS_H

#include "error.h"
#include "types.h"
#include "value.h"

#include <stdint.h>

typedef enum rt_nkind {
  RT_N_LIST = 0, /* plain list in kids (columns, ORDER BY items) */
  RT_N_TABLE,    /* name; kids: columns; ext: rt_tabledata */
  RT_N_COLUMN,   /* name; owner: table/alias; a: proxied expr (alias) */
  RT_N_BIND,     /* name: key; value; flags RT_F_ANON, RT_F_EXPANDING */
  RT_N_LITERAL,  /* name: raw SQL text (literal_column) */
  RT_N_TEXT,     /* name: SQL with :name binds; kids: bind nodes */
  RT_N_NULL,
  RT_N_TRUE,
  RT_N_FALSE,
  RT_N_BINARY,    /* op; a, b (c: BETWEEN upper bound / LIKE escape) */
  RT_N_UNARY,     /* op; a */
  RT_N_BOOLLIST,  /* op AND/OR; kids */
  RT_N_FUNC,      /* name; kids: arguments */
  RT_N_LABEL,     /* name; a */
  RT_N_CAST,      /* a; type */
  RT_N_CASE,      /* kids: when, then, ...; a: value form; b: else */
  RT_N_OVER,      /* a: function; b: partition_by list; c: order_by list */
  RT_N_EXTRACT,   /* name: field; a */
  RT_N_TUPLE,     /* kids */
  RT_N_GROUPING,  /* a in parentheses */
  RT_N_SCALARSUB, /* a: select */
  RT_N_SELECT,    /* kids: RT_S_* slots */
  RT_N_COMPOUND,  /* op; kids: RT_S_* slots, RT_S_COLUMNS holds the selects */
  RT_N_JOIN,      /* a: left, b: right, c: onclause; flags outer/full */
  RT_N_ALIAS,     /* a: element; name (NULL: anonymous); kids: columns */
  RT_N_INSERT,    /* kids: RT_D_* slots */
  RT_N_UPDATE,
  RT_N_DELETE,
  RT_N_DDL,        /* op: RT_DDL_*; a: table or index */
  RT_N_FUNCFILTER, /* a: function; b: criterion (aggregate FILTER) */
  RT_N_WITHINGROUP /* a: function; b: ORDER BY list */
} rt_nkind;

typedef enum rt_op {
  RT_OP_NONE = 0,
  /* binary */
  RT_OP_ADD,
  RT_OP_SUB,
  RT_OP_MUL,
  RT_OP_DIV,
  RT_OP_MOD,
  RT_OP_CONCAT,
  RT_OP_EQ,
  RT_OP_NE,
  RT_OP_LT,
  RT_OP_LE,
  RT_OP_GT,
  RT_OP_GE,
  RT_OP_LIKE,
  RT_OP_NOTLIKE,
  RT_OP_ILIKE,
  RT_OP_NOTILIKE,
  RT_OP_IN,
  RT_OP_NOTIN,
  RT_OP_IS,
  RT_OP_ISNOT,
  RT_OP_BETWEEN,
  RT_OP_NOTBETWEEN,
  RT_OP_COLLATE,
  RT_OP_CUSTOM,
  /* boolean lists */
  RT_OP_AND,
  RT_OP_OR,
  /* unary */
  RT_OP_NOT,
  RT_OP_NEG,
  RT_OP_DESC,
  RT_OP_ASC,
  RT_OP_NULLSFIRST,
  RT_OP_NULLSLAST,
  RT_OP_DISTINCT,
  RT_OP_EXISTS,
  /* compound selects */
  RT_OP_UNION,
  RT_OP_UNION_ALL,
  RT_OP_INTERSECT,
  RT_OP_EXCEPT,
  RT_OP_ASBOOL, /* the context of a WHERE criterion */
  /* JSON index: a, b the key as given (PostgreSQL's form), c the same as a
  ** JSON path string ('$."k"'), kids the path items; the type is JSON, or
  ** the as_string()/as_integer()... type the value is read as */
  RT_OP_JSON_GETITEM,
  RT_OP_JSON_PATH,
  /* PostgreSQL ARRAY: a[b], a[b:c] (c set), ANY (a), ALL (a); a custom
  ** operator of comparison precedence and boolean type (@>, <@, &&) */
  RT_OP_GETITEM,
  RT_OP_ANY,
  RT_OP_ALL,
  RT_OP_CUSTOM_CMP,
  /* a IS [NOT] DISTINCT FROM b, a <regexp> b, a MATCH b: each dialect's
  ** form */
  RT_OP_DISTINCT_FROM,
  RT_OP_NOT_DISTINCT_FROM,
  RT_OP_REGEXP,
  RT_OP_NOTREGEXP,
  RT_OP_MATCH,
  RT_OP_INTERSECT_ALL, /* compound selects, after RT_OP_EXCEPT's kin */
  RT_OP_EXCEPT_ALL,
  /* a.regexp_replace(b, c[, flags]): c the replacement, kids[0] the flags
  ** when given (a regexp match's flags are its c) */
  RT_OP_REGEXP_REPLACE,
  RT_OP_COUNT
} rt_op;

/* node flags */
#define RT_F_ANON 0x0001      /* bind/label/alias named at compile time */
#define RT_F_EXPANDING 0x0002 /* bind list of an IN */
#define RT_F_OUTER 0x0004     /* join */
#define RT_F_FULL 0x0008      /* join */
#define RT_F_SUBQUERY 0x0010  /* alias of a select */
#define RT_F_CTE 0x0020
#define RT_F_RECURSIVE 0x0040
#define RT_F_STAR 0x0080    /* count(*) */
#define RT_F_LIGHT 0x0100   /* sa.table() / column(): no schema */
#define RT_F_LITERAL 0x0200 /* bind from literal(): rendered inline? no */
#define RT_F_PK 0x0400      /* column options */
#define RT_F_NOTNULL 0x0800
#define RT_F_UNIQUE 0x1000
#define RT_F_INDEX 0x2000
#define RT_F_AUTOINC_NO 0x4000
#define RT_F_AUTOINC_YES 0x8000
#define RT_F_REQUIRED 0x20000 /* bindparam() with no value */
#define RT_F_BYNAME 0x40000   /* text():columns{} list: match results by name */
#define RT_F_NONEGATE 0x80000 /* ~ gives NOT (e), not the negated operator */
#define RT_F_COERCE 0x100000  /* a CAST of type_coerce(): renders e alone */
/* select label styles (set_label_style); neither: disambiguate only */
#define RT_F_LS_TABLENAME 0x200000 /* t.id AS t_id */
#define RT_F_LS_NONE 0x400000      /* no labels added */
#define RT_F_LATERAL 0x1000000     /* subquery rendered LATERAL (...) */
/* a JSON index: PostgreSQL's astext (->> / #>>, no CAST) */
#define RT_F_ASTEXT RT_F_LATERAL
/* sa.values(): a light table whose a is the rows (lists of binds) */
#define RT_F_VALUES 0x2000000
#define RT_F_VALUES_LITERAL 0x4000000 /* its values rendered inline */
/* a subquery column proxying another column of a name already taken: its
** name is the inner column's anonymous label (t2.id AS id_1 -> id_1) */
#define RT_F_DEDUPED 0x8000000
/* a subquery column whose name depends on an alias named only at compile
** time: the <alias>_<column> label of a column of an unnamed alias under
** LABEL_STYLE_TABLENAME_PLUS_COL (anon_2_id), or a proxy of such a column
** (its name is then a placeholder).  The bit is RT_F_FULL's, which only
** joins carry. */
#define RT_F_LATENAME RT_F_FULL
/* INSERT/UPDATE inline(): no implicit RETURNING, keys from parameters */
#define RT_F_INLINE 0x10000000
/* INSERT/UPDATE return_defaults(): server-generated values come back in an
** implicit RETURNING where the dialect has one (RT_D_RETDEFAULTS: which) */
#define RT_F_RETDEFAULTS 0x20000000
/* FetchedValue(): a server_default/server_onupdate the database supplies
** by itself (a trigger, ...): a server-generated value, but no DDL */
#define RT_F_FETCHED 0x40000000
#define RT_F_ORDERED                                                           \
  0x800000 /* UPDATE ordered_values(): SET in given order                      \
            */
#define RT_F_LOWPREC                                                           \
  0x10000 /* LIKE of startswith(): groups like SQLAlchemy's */
#define RT_F_SYMMETRIC 0x80000000u /* BETWEEN SYMMETRIC */

typedef struct rt_node rt_node;
struct rt_node {
  int refs;
  unsigned char kind, op;
  unsigned flags;
  rt_node *owner; /* columns: table or alias sharing its count */
  rt_type *type;  /* NULL: NullType */
  char *name;
  rt_value value; /* binds: text/blob bytes owned */
  rt_node *a, *b, *c;
  int n;
  rt_node **kids;
  void *ext;       /* RT_N_TABLE: rt_tabledata; columns: rt_coldata */
  uint64_t serial; /* unique per node ever made (the compile memo's key) */
  /* short strings' own storage: the name (see rt_node_setname), then a
  ** bind's text value when both fit; most are a column's name or a short
  ** literal, and a malloc each would cost more than the node */
  char sname[32];
};

/* --- life cycle --- */
rt_node *rt_node_new(int kind);
rt_node *rt_ref(rt_node *n);
void rt_unref(rt_node *n);
/* A shallow copy: children and type gain a reference. */
rt_node *rt_node_copy(const rt_node *n);
/* A copy of tree `n` in which fn replaced binds: fn returns a new bind
** (owned), n's own bind (unchanged, not referenced) or NULL (out of
** memory).  Nodes without a replaced bind below them are shared, not
** copied; a node reached twice is copied once.  Tables, columns and
** aliases are kept as they are.  NULL on out of memory. */
rt_node *rt_replace_binds(rt_node *n, rt_node *(*fn)(rt_node *bind, void *ud),
                          void *ud);
/* The same walk with fn asked first of every node (tables, columns and
** aliases too): it returns a replacement (owned), or NULL to keep the
** node and look inside it; it sets *failed on out of memory. */
rt_node *rt_replace_nodes(rt_node *n,
                          rt_node *(*fn)(rt_node *n, void *ud, int *failed),
                          void *ud);
/* Append `item` (taking the caller's reference) to n's kids; -1 on OOM. */
int rt_node_push(rt_node *n, rt_node *item);
/* Replace kid i (taking the reference to `item`). */
void rt_node_setkid(rt_node *n, int i, rt_node *item);
char *rt_strdup(const char *s);
/* Set n's name (which must have none) to a copy of s; -1 on OOM. */
int rt_node_setname(rt_node *n, const char *s);
/* A zeroed kids array for n slots, in the capacity rt_node_push expects. */
rt_node **rt_kids_new(int n);

/* --- constructors (each returns a new reference, NULL on OOM) --- */
rt_node *rt_bind(const char *key, rt_value v, rt_type *type, int anon);
rt_node *rt_literal_column(const char *text, rt_type *type);
/* A name given as a string to order_by/group_by/desc/...: SQLAlchemy's
** label reference, resolved when compiled against the columns clause,
** then the FROM list (a literal column whose op is RT_LIT_LABELREF). */
#define RT_LIT_LABELREF 1
rt_node *rt_label_reference(const char *name);
rt_node *rt_column(const char *name, rt_type *type); /* free column() */
rt_node *rt_const(int kind); /* RT_N_NULL, RT_N_TRUE, RT_N_FALSE */
/* Binary operator; `right` may be a plain value wrapped as a bind named
** after `left`.  Both operands are consumed (references taken). */
rt_node *rt_binary(int op, rt_node *left, rt_node *right);
rt_node *rt_between(rt_node *e, rt_node *lo, rt_node *hi, int negate);
rt_node *rt_custom_op(const char *opstring, rt_node *left, rt_node *right);
/* IN: `list` is an RT_N_LIST of expressions (consumed). */
rt_node *rt_in(rt_node *e, rt_node *list, int negate);
rt_node *rt_unary(int op, rt_node *e);
/* NOT, with SQLAlchemy's negation of comparisons (~(a > b) is a <= b). */
rt_node *rt_not(rt_node *e);
rt_node *rt_boollist(int op, rt_node **items, int n);      /* items consumed */
rt_node *rt_func(const char *name, rt_node **args, int n); /* consumed */
rt_node *rt_label(const char *name, rt_node *e);
rt_node *rt_cast(rt_node *e, rt_type *type);
rt_node *rt_grouping(rt_node *e);

/* A function's name without its package prefix ("f" for "pkg.f"). */
const char *rt_func_basename(const rt_node *f);
/* What a CAST or type_coerce() wraps, through nested ones and groupings
** (e itself when it is neither): SQLAlchemy names such a wrapper after
** it, "CAST(t.x AS T) AS x". */
const rt_node *rt_cast_wrapped(const rt_node *e);

/* The name a bind compared with `e` takes ("id" for users.id). */
const char *rt_bind_key_for(const rt_node *e);
/* Make a bind for value `v` compared against expression `against`. */
rt_node *rt_bind_against(const rt_node *against, rt_value v);

/* Parenthesise e when its operator binds no tighter than `against`
** (consumes e, returns the possibly wrapped node). */
rt_node *rt_self_group(rt_node *e, int against);

/* Precedence of an operator, and whether (a op b) op c needs no grouping. */
int rt_op_precedence(int op);

/* Is the node a column-like expression (can appear in a columns clause)? */
int rt_is_selectable(const rt_node *n);
/* The table of the first table column found in expression e, or NULL. */
rt_node *rt_expr_table(rt_node *e);

#endif
