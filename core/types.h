/*
** types.h -- SQL types (API.md section 2) and their DDL names per dialect.
**
** A type is a small refcounted record; the bare types (`String`,
** `Integer`) are static singletons that are never freed, and calling a
** type in Lua makes a parametrised copy.
*/
#ifndef RT_TYPES_H
#define RT_TYPES_H

#include "strbuf.h"

typedef enum rt_typekind {
  RT_TY_NULL = 0,
  RT_TY_INTEGER,
  RT_TY_BIGINTEGER,
  RT_TY_SMALLINTEGER,
  RT_TY_FLOAT,
  RT_TY_DOUBLE,
  RT_TY_NUMERIC,
  RT_TY_STRING,
  RT_TY_TEXT,
  RT_TY_UNICODE,
  RT_TY_UNICODETEXT,
  RT_TY_BOOLEAN,
  RT_TY_DATE,
  RT_TY_DATETIME,
  RT_TY_TIME,
  RT_TY_INTERVAL,
  RT_TY_LARGEBINARY,
  RT_TY_ENUM,
  RT_TY_JSON,
  RT_TY_UUID,
  RT_TY_ARRAY,
  RT_TY_JSONB,
  RT_TY_COUNT
} rt_typekind;

/* The kind a bind of MySQL's SET type (whose kind is String's) gives its
** parameter: a Lua set or list of members goes as "a,b". */
#define RT_PARAM_SET (RT_TY_COUNT + 1)

/*
** SQLAlchemy's upper-case types (INTEGER, TIMESTAMP, NCHAR, ...) name one
** database type exactly.  Each is its own type with its own DDL, while
** its `kind` is the generic type it behaves as everywhere else (binding,
** result processing, operators): TIMESTAMP is a DateTime, NCHAR a
** Unicode, BLOB a LargeBinary.
*/
typedef enum rt_uppertype {
  RT_UP_NONE = 0, /* a generic type */
  RT_UP_INTEGER,
  RT_UP_BIGINT,
  RT_UP_SMALLINT,
  RT_UP_VARCHAR,
  RT_UP_TEXT,
  RT_UP_FLOAT,
  RT_UP_NUMERIC,
  RT_UP_DATE,
  RT_UP_BOOLEAN,
  RT_UP_TIME,
  RT_UP_DATETIME,
  RT_UP_TIMESTAMP,
  RT_UP_CHAR,
  RT_UP_NCHAR,
  RT_UP_NVARCHAR,
  RT_UP_DECIMAL,
  RT_UP_REAL,
  RT_UP_CLOB,
  RT_UP_BLOB,
  RT_UP_BINARY,
  RT_UP_VARBINARY,
  /* the dialect types reflection gives (sqlalchemy.dialects.*): their
  ** string form is their bare class name, as SQLAlchemy's str() */
  RT_UP_DOUBLE_PRECISION, /* PostgreSQL */
  RT_UP_INTERVAL,
  RT_UP_BYTEA,
  RT_UP_UUID,
  RT_UP_ARRAY,
  RT_UP_INET,
  RT_UP_CIDR,
  RT_UP_MACADDR,
  RT_UP_MACADDR8,
  RT_UP_MONEY,
  RT_UP_OID,
  RT_UP_REGCLASS,
  RT_UP_TSVECTOR,
  RT_UP_INT4RANGE,
  RT_UP_INT8RANGE,
  RT_UP_NUMRANGE,
  RT_UP_DATERANGE,
  RT_UP_TSRANGE,
  RT_UP_TSTZRANGE,
  RT_UP_BIT,     /* PostgreSQL and MySQL */
  RT_UP_TINYINT, /* MySQL */
  RT_UP_MEDIUMINT,
  RT_UP_YEAR,
  RT_UP_DOUBLE,
  RT_UP_TINYTEXT,
  RT_UP_MEDIUMTEXT,
  RT_UP_LONGTEXT,
  RT_UP_TINYBLOB,
  RT_UP_MEDIUMBLOB,
  RT_UP_LONGBLOB,
  RT_UP_ENUM,
  RT_UP_SET,
  RT_UP_COUNT
} rt_uppertype;

typedef struct rt_type {
  int refs; /* -1: static singleton */
  rt_typekind kind;
  rt_uppertype upper; /* an upper-case type; kind is its generic one */
  int length;         /* String/Unicode length, Float precision; 0: none */
  int precision;      /* Numeric */
  int scale;          /* Numeric; -1: none */
  int timezone;       /* DateTime/Time */
  int asfloat;        /* Numeric{asdecimal = false}: results are floats */
  int asdecimal;      /* Float{asdecimal = true}: results are decimal text */
  int retscale;       /* Float's decimal_return_scale; -1: none */
  int nvalues;        /* Enum */
  char **values;
  char *name;    /* Enum type name */
  int nonnative; /* Enum{native_enum = false}: VARCHAR on every dialect */
  /* Enum/Boolean{create_constraint = true}: a CHECK of the values where
  ** the database has no type of its own for them */
  int create_constraint;
  struct rt_type *item; /* ARRAY element type */
  int dims;             /* ARRAY dimensions; 0: not given */
  /* MySQL integers: the display width (0: none) and UNSIGNED; PostgreSQL
  ** BIT VARYING; the fractional seconds of TIMESTAMP(3) and DATETIME(3)
  ** are in `precision` */
  int width;
  int isunsigned;
  int varying;
  char *fields;    /* PostgreSQL INTERVAL's fields ("day to second"), or NULL */
  char *charset;   /* MySQL strings: CHARACTER SET, or NULL */
  char *collation; /* strings: COLLATE, or NULL */
} rt_type;

/* The bare type of a kind (a static singleton). */
rt_type *rt_type_bare(rt_typekind kind);
/* A new parametrised type (refs 1); NULL on out of memory. */
rt_type *rt_type_new(rt_typekind kind);
rt_type *rt_type_ref(rt_type *t);
void rt_type_unref(rt_type *t);

/* The bare upper-case type (a static singleton, kind set to its generic
** type's); NULL for an unknown name. */
rt_type *rt_type_bare_sql(const char *name);
/* A new upper-case type (refs 1, kind its generic one's); NULL on out of
** memory. */
rt_type *rt_type_new_sql(rt_uppertype up);
/* The class name of t ("String", "TIMESTAMP"). */
const char *rt_type_tname(const rt_type *t);
/* Is t one of the dialect types (RT_UP_DOUBLE_PRECISION and after)? */
int rt_type_is_dialect(const rt_type *t);
/* SQLAlchemy's str(type): the generic compiler's DDL, or the bare class
** name of a dialect type. */
void rt_type_str(rt_strbuf *b, const rt_type *t);

/* The user-visible class name ("String", "Integer"). */
const char *rt_type_name(rt_typekind kind);
rt_typekind rt_type_byname(const char *name);

/* Affinities the compiler needs. */
int rt_type_is_string(const rt_type *t);
int rt_type_is_numeric(const rt_type *t);
int rt_type_is_integer(const rt_type *t);

/* Append the DDL name of `t` for dialect `dialect` ("sqlite", "postgresql",
** "mysql", or "default"). */
void rt_type_ddl(rt_strbuf *b, const rt_type *t, const char *dialect);

/* "(p, s)" or "(p)" after a NUMERIC/DECIMAL name, when given. */
void rt_type_add_precision(rt_strbuf *b, const rt_type *t);

#endif
