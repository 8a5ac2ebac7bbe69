/*
** types.c -- SQL types and their DDL names.
*/
#include "types.h"

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
                {"VARBINARY", RT_UP_VARBINARY, RT_TY_LARGEBINARY}};

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

/* VARCHAR needs a length everywhere but SQLite and PostgreSQL; SQLAlchemy
** renders what it is given and lets the database complain. */
static void varchar(rt_strbuf *b, const char *name, int length) {
  rt_sb_adds(b, name);
  if (length > 0) rt_sb_addf(b, "(%d)", length);
}

static void enum_ddl(rt_strbuf *b, const rt_type *t, const char *dialect) {
  int i, longest = 0;
  if (strcmp(dialect, "postgresql") == 0 && t->name) {
    rt_sb_adds(b, t->name);
    return;
  }
  if (strcmp(dialect, "mysql") == 0) {
    rt_sb_adds(b, "ENUM(");
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
    return;
  }
  for (i = 0; i < t->nvalues; i++) {
    int n = (int)strlen(t->values[i]);
    if (n > longest) longest = n;
  }
  rt_sb_addf(b, "VARCHAR(%d)", longest);
}

void rt_type_add_precision(rt_strbuf *b, const rt_type *t) {
  if (t->precision <= 0) return;
  if (t->scale >= 0)
    rt_sb_addf(b, "(%d, %d)", t->precision, t->scale);
  else
    rt_sb_addf(b, "(%d)", t->precision);
}

static void with_length(rt_strbuf *b, const char *name, int length) {
  rt_sb_adds(b, name);
  if (length > 0) rt_sb_addf(b, "(%d)", length);
}

static void zone(rt_strbuf *b, const char *name, int timezone) {
  rt_sb_adds(b, name);
  rt_sb_adds(b, timezone ? " WITH TIME ZONE" : " WITHOUT TIME ZONE");
}

/* An upper-case type's DDL: its own name, spelled per dialect as
** SQLAlchemy's type compilers do. */
static void sqltype_ddl(rt_strbuf *b, const rt_type *t, int pg, int my) {
  switch (t->upper) {
  case RT_UP_INTEGER:
    rt_sb_adds(b, "INTEGER");
    break;
  case RT_UP_BIGINT:
    rt_sb_adds(b, "BIGINT");
    break;
  case RT_UP_SMALLINT:
    rt_sb_adds(b, "SMALLINT");
    break;
  case RT_UP_VARCHAR:
    with_length(b, "VARCHAR", t->length);
    break;
  case RT_UP_TEXT:
    with_length(b, "TEXT", t->length);
    break;
  case RT_UP_FLOAT:
    with_length(b, "FLOAT", pg || my ? t->length : 0);
    break;
  case RT_UP_NUMERIC:
  case RT_UP_DECIMAL:
    rt_sb_adds(b, t->upper == RT_UP_NUMERIC ? "NUMERIC" : "DECIMAL");
    rt_type_add_precision(b, t);
    break;
  case RT_UP_DATE:
    rt_sb_adds(b, "DATE");
    break;
  case RT_UP_BOOLEAN:
    rt_sb_adds(b, my ? "BOOL" : "BOOLEAN");
    break;
  case RT_UP_TIME:
    if (pg)
      zone(b, "TIME", t->timezone);
    else
      rt_sb_adds(b, "TIME");
    break;
  case RT_UP_DATETIME:
    rt_sb_adds(b, "DATETIME");
    break;
  case RT_UP_TIMESTAMP:
    if (pg)
      zone(b, "TIMESTAMP", t->timezone);
    else
      rt_sb_adds(b, "TIMESTAMP");
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
  }
}

void rt_type_ddl(rt_strbuf *b, const rt_type *t, const char *dialect) {
  int pg = strcmp(dialect, "postgresql") == 0;
  int my = strcmp(dialect, "mysql") == 0;
  if (t->upper) {
    sqltype_ddl(b, t, pg, my);
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
    varchar(b, "VARCHAR", t->length);
    break;
  case RT_TY_TEXT:
  case RT_TY_UNICODETEXT:
    with_length(b, "TEXT", t->length);
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
