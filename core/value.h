/*
** value.h -- a database value as it crosses the driver boundary.
**
** Parameters go to drivers as arrays of rt_value; result columns come back
** as rt_value whose bytes belong to the cursor until its next fetch.  Type
** conversions that need the column's SQL type (Numeric, JSON, dates) happen
** above the driver, in the result layer.
*/
#ifndef RT_VALUE_H
#define RT_VALUE_H

#include <stddef.h>
#include <stdint.h>

typedef enum rt_vtype {
  RT_V_NULL = 0,
  RT_V_INT,   /* 64-bit signed integer */
  RT_V_FLOAT, /* double */
  RT_V_BOOL,  /* 0 or 1 */
  RT_V_TEXT,  /* UTF-8 text, s.p/s.n (not necessarily NUL-terminated) */
  RT_V_BLOB   /* bytes, s.p/s.n */
} rt_vtype;

typedef struct rt_value {
  rt_vtype type;
  /* for text: the SQL type (rt_sqltype) its bind declares when that is a
  ** date, time or interval, which drivers that type their parameters
  ** send it as; RT_T_UNKNOWN otherwise (the constructors' default) */
  unsigned char sqltype;
  union {
    int64_t i;
    double f;
    int b;
    struct {
      const char *p;
      size_t n;
    } s;
  } u;
} rt_value;

/*
** The family of a result column's declared SQL type, as far as the driver
** can tell (PostgreSQL OIDs, MySQL field types, SQLite declared types).
*/
typedef enum rt_sqltype {
  RT_T_UNKNOWN = 0,
  RT_T_INTEGER,
  RT_T_FLOAT,
  RT_T_NUMERIC,
  RT_T_TEXT,
  RT_T_BLOB,
  RT_T_BOOLEAN,
  RT_T_DATE,
  RT_T_DATETIME,
  RT_T_TIME,
  RT_T_INTERVAL,
  RT_T_JSON,
  RT_T_UUID,
  RT_T_ARRAY
} rt_sqltype;

static inline rt_value rt_vnull(void) {
  rt_value v;
  v.type = RT_V_NULL;
  v.sqltype = 0;
  v.u.s.p = NULL; /* the whole union, so no field is read uninitialized */
  v.u.s.n = 0;
  return v;
}
static inline rt_value rt_vint(int64_t i) {
  rt_value v;
  v.type = RT_V_INT;
  v.sqltype = 0;
  v.u.i = i;
  return v;
}
static inline rt_value rt_vfloat(double f) {
  rt_value v;
  v.type = RT_V_FLOAT;
  v.sqltype = 0;
  v.u.f = f;
  return v;
}
static inline rt_value rt_vbool(int b) {
  rt_value v;
  v.type = RT_V_BOOL;
  v.sqltype = 0;
  v.u.b = b != 0;
  return v;
}
static inline rt_value rt_vtext(const char *p, size_t n) {
  rt_value v;
  v.type = RT_V_TEXT;
  v.sqltype = 0;
  v.u.s.p = p;
  v.u.s.n = n;
  return v;
}
static inline rt_value rt_vblob(const char *p, size_t n) {
  rt_value v;
  v.type = RT_V_BLOB;
  v.sqltype = 0;
  v.u.s.p = p;
  v.u.s.n = n;
  return v;
}

/* Python's repr() of a float (shortest text that reads back the same:
** "1.0", "0.1", "1e+16", "inf", "nan").  buf needs 32 bytes. */
const char *rt_float_repr(double f, char *buf);

#endif
