/*
** types.c -- SQL types and their DDL names.
*/
#include "types.h"
#include "compiler.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[RT_TY_COUNT] = {
    "NullType",    "Integer",     "BigInteger", "SmallInteger", "Float",
    "Double",      "Numeric",     "String",     "Text",         "Unicode",
    "UnicodeText", "Boolean",     "Date",       "DateTime",     "Time",
    "Interval",    "LargeBinary", "Enum",       "JSON",         "Uuid",
    "ARRAY",       "JSONB"};

static rt_type bare[RT_TY_COUNT];

/* The upper-case types: name, generic kind (INT is INTEGER's alias). */
static const struct {
  const char *name;
  rt_uppertype up;
  rt_typekind kind;
} sqltypes[] = {{"INTEGER", RT_UP_INTEGER, RT_TY_INTEGER},
                {"INT", RT_UP_INTEGER, RT_TY_INTEGER},
                {"BIGINT", RT_UP_BIGINT, RT_TY_BIGINTEGER},
                {"SMALLINT", RT_UP_SMALLINT, RT_TY_SMALLINTEGER},
                {"VARCHAR", RT_UP_VARCHAR, RT_TY_STRING},
                {"TEXT", RT_UP_TEXT, RT_TY_TEXT},
                {"FLOAT", RT_UP_FLOAT, RT_TY_FLOAT},
                {"NUMERIC", RT_UP_NUMERIC, RT_TY_NUMERIC},
                {"DATE", RT_UP_DATE, RT_TY_DATE},
                {"BOOLEAN", RT_UP_BOOLEAN, RT_TY_BOOLEAN},
                {"TIME", RT_UP_TIME, RT_TY_TIME},
                {"DATETIME", RT_UP_DATETIME, RT_TY_DATETIME},
                {"TIMESTAMP", RT_UP_TIMESTAMP, RT_TY_DATETIME},
                {"CHAR", RT_UP_CHAR, RT_TY_STRING},
                {"NCHAR", RT_UP_NCHAR, RT_TY_UNICODE},
                {"NVARCHAR", RT_UP_NVARCHAR, RT_TY_UNICODE},
                {"DECIMAL", RT_UP_DECIMAL, RT_TY_NUMERIC},
                {"REAL", RT_UP_REAL, RT_TY_FLOAT},
                {"CLOB", RT_UP_CLOB, RT_TY_TEXT},
                {"BLOB", RT_UP_BLOB, RT_TY_LARGEBINARY},
                {"BINARY", RT_UP_BINARY, RT_TY_LARGEBINARY},
                {"VARBINARY", RT_UP_VARBINARY, RT_TY_LARGEBINARY},
                /* dialect types; those SQLAlchemy gives no processing
                ** to behave as NullType */
                {"DOUBLE_PRECISION", RT_UP_DOUBLE_PRECISION, RT_TY_DOUBLE},
                {"INTERVAL", RT_UP_INTERVAL, RT_TY_INTERVAL},
                {"BYTEA", RT_UP_BYTEA, RT_TY_LARGEBINARY},
                {"UUID", RT_UP_UUID, RT_TY_UUID},
                {"ARRAY", RT_UP_ARRAY, RT_TY_ARRAY},
                {"INET", RT_UP_INET, RT_TY_NULL},
                {"CIDR", RT_UP_CIDR, RT_TY_NULL},
                {"MACADDR", RT_UP_MACADDR, RT_TY_NULL},
                {"MACADDR8", RT_UP_MACADDR8, RT_TY_NULL},
                {"MONEY", RT_UP_MONEY, RT_TY_NULL},
                {"OID", RT_UP_OID, RT_TY_NULL},
                {"REGCLASS", RT_UP_REGCLASS, RT_TY_NULL},
                {"TSVECTOR", RT_UP_TSVECTOR, RT_TY_NULL},
                {"INT4RANGE", RT_UP_INT4RANGE, RT_TY_NULL},
                {"INT8RANGE", RT_UP_INT8RANGE, RT_TY_NULL},
                {"NUMRANGE", RT_UP_NUMRANGE, RT_TY_NULL},
                {"DATERANGE", RT_UP_DATERANGE, RT_TY_NULL},
                {"TSRANGE", RT_UP_TSRANGE, RT_TY_NULL},
                {"TSTZRANGE", RT_UP_TSTZRANGE, RT_TY_NULL},
                {"BIT", RT_UP_BIT, RT_TY_NULL},
                {"TINYINT", RT_UP_TINYINT, RT_TY_INTEGER},
                {"MEDIUMINT", RT_UP_MEDIUMINT, RT_TY_INTEGER},
                {"YEAR", RT_UP_YEAR, RT_TY_NULL},
                {"DOUBLE", RT_UP_DOUBLE, RT_TY_DOUBLE},
                {"TINYTEXT", RT_UP_TINYTEXT, RT_TY_TEXT},
                {"MEDIUMTEXT", RT_UP_MEDIUMTEXT, RT_TY_TEXT},
                {"LONGTEXT", RT_UP_LONGTEXT, RT_TY_TEXT},
                {"TINYBLOB", RT_UP_TINYBLOB, RT_TY_LARGEBINARY},
                {"MEDIUMBLOB", RT_UP_MEDIUMBLOB, RT_TY_LARGEBINARY},
                {"LONGBLOB", RT_UP_LONGBLOB, RT_TY_LARGEBINARY},
                {"ENUM", RT_UP_ENUM, RT_TY_ENUM},
                {"SET", RT_UP_SET, RT_TY_STRING}};

#define NSQLTYPES (sizeof sqltypes / sizeof sqltypes[0])

static rt_type bare_sql[RT_UP_COUNT];

rt_type *rt_type_bare_sql(const char *name) {
  size_t i;
  for (i = 0; i < NSQLTYPES; i++)
    if (strcmp(sqltypes[i].name, name) == 0) {
      rt_type *t = &bare_sql[sqltypes[i].up];
      if (t->refs == 0) {
        t->refs = -1;
        t->kind = sqltypes[i].kind;
        t->upper = sqltypes[i].up;
        t->scale = -1;
        t->retscale = -1;
      }
      return t;
    }
  return NULL;
}

rt_type *rt_type_new_sql(rt_uppertype up) {
  size_t i;
  rt_type *t;
  for (i = 0; i < NSQLTYPES; i++)
    if (sqltypes[i].up == up) break;
  if (i == NSQLTYPES || (t = rt_type_new(sqltypes[i].kind)) == NULL)
    return NULL;
  t->upper = up;
  return t;
}

int rt_type_is_dialect(const rt_type *t) {
  return t->upper >= RT_UP_DOUBLE_PRECISION;
}

const char *rt_type_tname(const rt_type *t) {
  size_t i;
  if (t->upper)
    for (i = 0; i < NSQLTYPES; i++)
      if (sqltypes[i].up == t->upper) return sqltypes[i].name;
  return type_names[t->kind];
}

rt_type *rt_type_bare(rt_typekind kind) {
  rt_type *t = &bare[kind];
  if (t->refs == 0) {
    t->refs = -1;
    t->kind = kind;
    t->scale = -1;
    t->retscale = -1;
  }
  return t;
}

rt_type *rt_type_new(rt_typekind kind) {
  rt_type *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->refs = 1;
  t->kind = kind;
  t->scale = -1;
  t->retscale = -1;
  return t;
}

rt_type *rt_type_ref(rt_type *t) {
  if (t && t->refs > 0) t->refs++;
  return t;
}

void rt_type_unref(rt_type *t) {
  int i;
  if (!t || t->refs < 0 || --t->refs > 0) return;
  for (i = 0; i < t->nvalues; i++) free(t->values[i]);
  free(t->values);
  free(t->name);
  free(t->fields);
  free(t->charset);
  free(t->collation);
  rt_type_unref(t->item);
  free(t);
}

const char *rt_type_name(rt_typekind kind) {
  return type_names[kind];
}

rt_typekind rt_type_byname(const char *name) {
  int i;
  for (i = 0; i < RT_TY_COUNT; i++)
    if (strcmp(type_names[i], name) == 0) return (rt_typekind)i;
  return RT_TY_NULL;
}

int rt_type_is_string(const rt_type *t) {
  return t && (t->kind == RT_TY_STRING || t->kind == RT_TY_TEXT ||
               t->kind == RT_TY_UNICODE || t->kind == RT_TY_UNICODETEXT ||
               t->kind == RT_TY_ENUM);
}

int rt_type_is_integer(const rt_type *t) {
  return t && (t->kind == RT_TY_INTEGER || t->kind == RT_TY_BIGINTEGER ||
               t->kind == RT_TY_SMALLINTEGER);
}

int rt_type_is_numeric(const rt_type *t) {
  return rt_type_is_integer(t) ||
         (t && (t->kind == RT_TY_FLOAT || t->kind == RT_TY_DOUBLE ||
                t->kind == RT_TY_NUMERIC));
}

/* NAME(length) when there is one.  VARCHAR needs a length everywhere but
** SQLite and PostgreSQL; SQLAlchemy renders what it is given and lets the
** database complain. */
static void with_length(rt_strbuf *b, const char *name, int length) {
  rt_sb_adds(b, name);
  if (length > 0) rt_sb_addf(b, "(%d)", length);
}

/* ENUM('a','b') and SET('x','y') */
static void my_values(rt_strbuf *b, const char *name, const rt_type *t) {
  int i;
  rt_sb_adds(b, name);
  rt_sb_addc(b, '(');
  for (i = 0; i < t->nvalues; i++) {
    const char *p;
    rt_sb_adds(b, i ? ",'" : "'");
    for (p = t->values[i]; *p; p++) {
      if (*p == '\'') rt_sb_addc(b, '\'');
      rt_sb_addc(b, *p);
    }
    rt_sb_addc(b, '\'');
  }
  rt_sb_addc(b, ')');
}

static void enum_ddl(rt_strbuf *b, const rt_type *t, const char *dialect) {
  int i, longest = 0;
  if (!t->nonnative && strcmp(dialect, "postgresql") == 0 && t->name) {
    /* the type's name is an identifier, quoted as one */
    const rt_dialect *d = rt_dialect_find(dialect);
    const char *p;
    if (d == NULL || !rt_dialect_needs_quote(d, t->name)) {
      rt_sb_adds(b, t->name);
      return;
    }
    rt_sb_addc(b, '"');
    for (p = t->name; *p; p++) {
      if (*p == '"') rt_sb_addc(b, '"');
      rt_sb_addc(b, *p);
    }
    rt_sb_addc(b, '"');
    return;
  }
  if (!t->nonnative && strcmp(dialect, "mysql") == 0) {
    my_values(b, "ENUM", t);
    return;
  }
  for (i = 0; i < t->nvalues; i++) {
    int n = (int)strlen(t->values[i]);
    if (n > longest) longest = n;
  }
  /* Enum{length} sizes the VARCHAR (SQLAlchemy refuses one shorter than
  ** the longest value) */
  if (t->length > longest) longest = t->length;
  rt_sb_addf(b, "VARCHAR(%d)", longest);
}

void rt_type_add_precision(rt_strbuf *b, const rt_type *t) {
  if (t->precision <= 0) return;
  if (t->scale >= 0)
    rt_sb_addf(b, "(%d, %d)", t->precision, t->scale);
  else
    rt_sb_addf(b, "(%d)", t->precision);
}

/* MySQL's integers: INTEGER(11) UNSIGNED */
static void myint(rt_strbuf *b, const char *name, const rt_type *t, int my) {
  rt_sb_adds(b, name);
  if (!my) return;
  if (t->width > 0) rt_sb_addf(b, "(%d)", t->width);
  if (t->isunsigned) rt_sb_adds(b, " UNSIGNED");
}

/* TIMESTAMP(3): fractional seconds, where the dialect writes them */
static void fsp(rt_strbuf *b, const char *name, const rt_type *t, int on) {
  rt_sb_adds(b, name);
  if (on && t->precision > 0) rt_sb_addf(b, "(%d)", t->precision);
}

/* PostgreSQL's BIT(3) and BIT VARYING(4); MySQL's BIT(1) */
static void bit(rt_strbuf *b, const rt_type *t) {
  rt_sb_adds(b, t->varying ? "BIT VARYING" : "BIT");
  if (t->length > 0) rt_sb_addf(b, "(%d)", t->length);
}

static void interval(rt_strbuf *b, const rt_type *t) {
  rt_sb_adds(b, "INTERVAL");
  if (t->fields) {
    rt_sb_addc(b, ' ');
    rt_sb_adds(b, t->fields);
  }
  if (t->precision > 0) rt_sb_addf(b, "(%d)", t->precision);
}

/* The dialect types: spelled as their dialect's type compiler does. */
static void dialect_ddl(rt_strbuf *b, const rt_type *t, const char *dialect) {
  switch (t->upper) {
  case RT_UP_DOUBLE_PRECISION:
    rt_sb_adds(b, "DOUBLE PRECISION");
    break;
  case RT_UP_INTERVAL:
    interval(b, t);
    break;
  case RT_UP_ARRAY:
    if (t->item) rt_type_ddl(b, t->item, dialect);
    rt_sb_adds(b, "[]");
    break;
  case RT_UP_BIT:
    bit(b, t);
    break;
  case RT_UP_TINYINT:
    myint(b, "TINYINT", t, 1);
    break;
  case RT_UP_MEDIUMINT:
    myint(b, "MEDIUMINT", t, 1);
    break;
  case RT_UP_YEAR:
    rt_sb_adds(b, "YEAR");
    if (t->width > 0) rt_sb_addf(b, "(%d)", t->width);
    break;
  case RT_UP_DOUBLE:
    rt_sb_adds(b, "DOUBLE");
    if (t->precision > 0 && t->scale >= 0)
      rt_sb_addf(b, "(%d, %d)", t->precision, t->scale);
    if (t->isunsigned) rt_sb_adds(b, " UNSIGNED");
    break;
  case RT_UP_ENUM:
    /* PostgreSQL's ENUM has a name: the named type there, VARCHAR in the
    ** default string form, as SQLAlchemy's Enum */
    if (t->name)
      enum_ddl(b, t, dialect);
    else
      my_values(b, "ENUM", t);
    break;
  case RT_UP_SET:
    my_values(b, "SET", t);
    break;
  default:
    /* the rest are their class names: BYTEA, UUID, INET, LONGTEXT, ... */
    rt_sb_adds(b, rt_type_tname(t));
  }
}

/* An upper-case type's DDL: its own name, spelled per dialect as
** SQLAlchemy's type compilers do. */
static void sqltype_ddl(rt_strbuf *b, const rt_type *t, const char *dialect) {
  int pg = strcmp(dialect, "postgresql") == 0;
  int my = strcmp(dialect, "mysql") == 0;
  switch (t->upper) {
  case RT_UP_INTEGER:
    myint(b, "INTEGER", t, my);
    break;
  case RT_UP_BIGINT:
    myint(b, "BIGINT", t, my);
    break;
  case RT_UP_SMALLINT:
    myint(b, "SMALLINT", t, my);
    break;
  case RT_UP_VARCHAR:
    with_length(b, "VARCHAR", t->length);
    break;
  case RT_UP_TEXT:
    with_length(b, "TEXT", t->length);
    break;
  case RT_UP_FLOAT:
    if (my && t->precision > 0 && t->scale >= 0)
      rt_sb_addf(b, "FLOAT(%d, %d)", t->precision, t->scale);
    else
      with_length(b, "FLOAT", pg || my ? t->length : 0);
    break;
  case RT_UP_NUMERIC:
  case RT_UP_DECIMAL:
    rt_sb_adds(b, t->upper == RT_UP_NUMERIC ? "NUMERIC" : "DECIMAL");
    rt_type_add_precision(b, t);
    if (my && t->isunsigned) rt_sb_adds(b, " UNSIGNED");
    break;
  case RT_UP_DATE:
    rt_sb_adds(b, "DATE");
    break;
  case RT_UP_BOOLEAN:
    rt_sb_adds(b, my ? "BOOL" : "BOOLEAN");
    break;
  case RT_UP_TIME:
    fsp(b, "TIME", t, pg || my);
    if (pg)
      rt_sb_adds(b, t->timezone ? " WITH TIME ZONE" : " WITHOUT TIME ZONE");
    break;
  case RT_UP_DATETIME:
    fsp(b, "DATETIME", t, my);
    break;
  case RT_UP_TIMESTAMP:
    fsp(b, "TIMESTAMP", t, pg || my);
    if (pg)
      rt_sb_adds(b, t->timezone ? " WITH TIME ZONE" : " WITHOUT TIME ZONE");
    break;
  case RT_UP_CHAR:
    with_length(b, "CHAR", t->length);
    break;
  case RT_UP_NCHAR:
    with_length(b, my ? "NATIONAL CHAR" : "NCHAR", t->length);
    break;
  case RT_UP_NVARCHAR:
    with_length(b, my ? "NATIONAL VARCHAR" : "NVARCHAR", t->length);
    break;
  case RT_UP_REAL:
    rt_sb_adds(b, "REAL");
    break;
  case RT_UP_CLOB:
    rt_sb_adds(b, "CLOB");
    break;
  case RT_UP_BLOB:
    with_length(b, "BLOB", my ? t->length : 0);
    break;
  case RT_UP_BINARY:
    with_length(b, "BINARY", t->length);
    break;
  case RT_UP_VARBINARY:
    with_length(b, "VARBINARY", t->length);
    break;
  case RT_UP_NONE:
  case RT_UP_COUNT:
    break;
  default:
    dialect_ddl(b, t, dialect);
  }
}

/* A string's character set and collation: MySQL's own words, the
** generic compiler's COLLATE "x" elsewhere. */
static void string_extras(rt_strbuf *b, const rt_type *t, int my) {
  if (my) {
    if (t->charset) rt_sb_addf(b, " CHARACTER SET %s", t->charset);
    if (t->collation) rt_sb_addf(b, " COLLATE %s", t->collation);
  } else if (t->collation && rt_type_is_string(t))
    rt_sb_addf(b, " COLLATE \"%s\"", t->collation);
}

void rt_type_str(rt_strbuf *b, const rt_type *t) {
  /* PostgreSQL's named ENUM shows as its VARCHAR, as SQLAlchemy's */
  if (rt_type_is_dialect(t) && !(t->upper == RT_UP_ENUM && t->name))
    rt_sb_adds(b, rt_type_tname(t));
  else
    rt_type_ddl(b, t, "default");
}

void rt_type_ddl(rt_strbuf *b, const rt_type *t, const char *dialect) {
  int pg = strcmp(dialect, "postgresql") == 0;
  int my = strcmp(dialect, "mysql") == 0;
  if (t->upper) {
    sqltype_ddl(b, t, dialect);
    string_extras(b, t, my);
    return;
  }
  switch (t->kind) {
  case RT_TY_NULL:
    rt_sb_adds(b, "NULL");
    break;
  case RT_TY_INTEGER:
    rt_sb_adds(b, "INTEGER");
    break;
  case RT_TY_BIGINTEGER:
    rt_sb_adds(b, "BIGINT");
    break;
  case RT_TY_SMALLINTEGER:
    rt_sb_adds(b, "SMALLINT");
    break;
  case RT_TY_FLOAT:
    /* the generic compiler (the string form, SQLite) drops the precision */
    with_length(b, "FLOAT", pg || my ? t->length : 0);
    break;
  case RT_TY_DOUBLE:
    rt_sb_adds(b, pg ? "DOUBLE PRECISION" : "DOUBLE");
    break;
  case RT_TY_NUMERIC:
    rt_sb_adds(b, "NUMERIC");
    rt_type_add_precision(b, t);
    break;
  case RT_TY_STRING:
  case RT_TY_UNICODE:
    with_length(b, "VARCHAR", t->length);
    string_extras(b, t, my);
    break;
  case RT_TY_TEXT:
  case RT_TY_UNICODETEXT:
    with_length(b, "TEXT", t->length);
    string_extras(b, t, my);
    break;
  case RT_TY_BOOLEAN:
    rt_sb_adds(b, my ? "BOOL" : "BOOLEAN");
    break;
  case RT_TY_DATE:
    rt_sb_adds(b, "DATE");
    break;
  case RT_TY_DATETIME:
    if (pg)
      rt_sb_adds(b, t->timezone ? "TIMESTAMP WITH TIME ZONE"
                                : "TIMESTAMP WITHOUT TIME ZONE");
    else
      rt_sb_adds(b, "DATETIME");
    break;
  case RT_TY_TIME:
    if (pg)
      rt_sb_adds(b, t->timezone ? "TIME WITH TIME ZONE"
                                : "TIME WITHOUT TIME ZONE");
    else
      rt_sb_adds(b, "TIME");
    break;
  case RT_TY_INTERVAL:
    rt_sb_adds(b, pg ? "INTERVAL" : "DATETIME");
    break;
  case RT_TY_LARGEBINARY:
    if (pg)
      rt_sb_adds(b, "BYTEA");
    else
      with_length(b, "BLOB", my ? t->length : 0);
    break;
  case RT_TY_ENUM:
    enum_ddl(b, t, dialect);
    break;
  case RT_TY_JSON:
    rt_sb_adds(b, "JSON");
    break;
  case RT_TY_UUID:
    rt_sb_adds(b, pg ? "UUID" : "CHAR(32)");
    break;
  case RT_TY_ARRAY:
    if (t->item) rt_type_ddl(b, t->item, dialect);
    rt_sb_adds(b, "[]");
    break;
  case RT_TY_JSONB:
    rt_sb_adds(b, "JSONB");
    break;
  case RT_TY_COUNT:
    break;
  }
}
