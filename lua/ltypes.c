/*
** ltypes.c -- values processed by their SQL type on the way in and out.
**
** SQLAlchemy gives each type bind and result processors; these are
** retort's.  On the way in a parameter whose bind knows its type is
** brought into the form the column stores: JSON text for JSON, 32 hex
** digits for a Uuid where the database has no uuid type, a PostgreSQL
** array literal for ARRAY.  On the way out the result layer turns the
** driver's value back into the Lua one (see lresult.c).
*/
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/types.h"
#include "lretort.h"
#include "lsql.h"

/* --- on the way in --- */

/* "12345678-1234-..." (36 characters, dashes where a UUID has them) */
static int is_dashed_uuid(const char *s, size_t n) {
  size_t i;
  if (n != 36) return 0;
  for (i = 0; i < n; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return 0;
  }
  return 1;
}

/* A Uuid as CHAR(32): the hex digits in lower case, as uuid.UUID.hex. */
static void push_uuid_hex(lua_State *L, const char *s, size_t n) {
  char out[32];
  size_t i, k = 0;
  for (i = 0; i < n; i++)
    if (s[i] != '-') out[k++] = (char)tolower((unsigned char)s[i]);
  lua_pushlstring(L, out, k);
}

static void array_elem(lua_State *L, luaL_Buffer *b, int idx, int depth);

/* A Lua list as a PostgreSQL array literal: {1,2,NULL}, {"a","b \"c\""},
** nested lists as nested braces. */
static void array_literal(lua_State *L, luaL_Buffer *b, int idx, int depth) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), i;
  if (depth > 16)
    rt_lua_error(L, RT_EARGUMENT, "ARRAY: lists nested too deeply");
  luaL_addchar(b, '{');
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(b, ',');
    lua_rawgeti(L, idx, i);
    array_elem(L, b, lua_gettop(L), depth);
    lua_pop(L, 1);
  }
  luaL_addchar(b, '}');
}

/* One element; the buffer's own slot is below the value, so the value is
** copied out before anything is added. */
static void array_elem(lua_State *L, luaL_Buffer *b, int idx, int depth) {
  char num[40];
  size_t n, i;
  const char *s;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    luaL_addstring(b, "NULL");
    return;
  case LUA_TBOOLEAN:
    luaL_addstring(b, lua_toboolean(L, idx) ? "t" : "f");
    return;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, idx));
    else
      snprintf(num, sizeof num, "%.17g", lua_tonumber(L, idx));
    luaL_addstring(b, num);
    return;
  case LUA_TSTRING:
    s = lua_tolstring(L, idx, &n);
    luaL_addchar(b, '"');
    for (i = 0; i < n; i++) {
      if (s[i] == '"' || s[i] == '\\') luaL_addchar(b, '\\');
      luaL_addchar(b, s[i]);
    }
    luaL_addchar(b, '"');
    return;
  case LUA_TTABLE:
    array_literal(L, b, idx, depth + 1);
    return;
  default:
    if (rt_lua_isnull(L, idx)) {
      luaL_addstring(b, "NULL");
      return;
    }
    rt_lua_error(L, RT_EARGUMENT, "ARRAY: %s is not a SQL value",
                 luaL_typename(L, idx));
  }
}

/*
** A date and time as text, taken apart: "2026-11-21 08:30:00.5+01:00",
** with 'T' for the space, the time or the date alone (`what`: 'd' a
** DateTime, 't' a Time).  Returns 0 when the text is not of that form.
*/
typedef struct isotime {
  int hasdate, hastime;
  char date[11]; /* YYYY-MM-DD */
  char time[9];  /* HH:MM:SS */
  char frac[7];  /* six digits */
  char tz[7];    /* +HH:MM, or "" */
} isotime;

static int digits(const char *s, const char *end, int n) {
  int i;
  if (end - s < n) return 0;
  for (i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i])) return 0;
  return 1;
}

static int parse_iso(const char *s, size_t n, int what, isotime *t) {
  const char *p = s, *end = s + n;
  memset(t, 0, sizeof *t);
  memcpy(t->frac, "000000", 6);
  if (what == 'd') {
    if (!digits(p, end, 4) || p[4] != '-' || !digits(p + 5, end, 2) ||
        p[7] != '-' || !digits(p + 8, end, 2))
      return 0;
    memcpy(t->date, p, 10);
    t->hasdate = 1;
    p += 10;
    if (p == end) return 1;
    if (*p != ' ' && *p != 'T') return 0;
    p++;
  }
  if (!digits(p, end, 2) || p[2] != ':' || !digits(p + 3, end, 2) ||
      p[5] != ':' || !digits(p + 6, end, 2))
    return 0;
  memcpy(t->time, p, 8);
  t->hastime = 1;
  p += 8;
  if (p < end && *p == '.') {
    int k = 0;
    p++;
    if (p == end || !isdigit((unsigned char)*p)) return 0;
    while (p < end && isdigit((unsigned char)*p)) {
      if (k < 6) t->frac[k++] = *p;
      p++;
    }
  }
  if (p == end) return 1;
  if (*p == 'Z' && p + 1 == end) {
    strcpy(t->tz, "+00:00");
    return 1;
  }
  if ((*p != '+' && *p != '-') || !digits(p + 1, end, 2)) return 0;
  t->tz[0] = *p;
  memcpy(t->tz + 1, p + 1, 2);
  p += 3;
  if (p == end) {
    memcpy(t->tz + 3, ":00", 3);
    return 1;
  }
  if (*p == ':') p++;
  if (!digits(p, end, 2) || p + 2 != end) return 0;
  t->tz[3] = ':';
  memcpy(t->tz + 4, p, 2);
  return 1;
}

/* SQLite keeps DateTime and Time as text in SQLAlchemy's storage format
** ("2026-11-21 08:30:00.000000"), so that they compare as text; the format
** has no time zone, so an offset is dropped, as SQLAlchemy's strftime
** drops a datetime's tzinfo.  A value not in ISO form goes as it is. */
static int push_sqlite_time(lua_State *L, const char *s, size_t n, int what) {
  isotime t;
  if (!parse_iso(s, n, what, &t)) return 0;
  if (what == 'd')
    lua_pushfstring(L, "%s %s.%s", t.date, t.hastime ? t.time : "00:00:00",
                    t.frac);
  else
    lua_pushfstring(L, "%s.%s", t.time, t.frac);
  return 1;
}

/* MySQL's DATETIME and TIME have no time zone and refuse a value with an
** offset: the offset is dropped (the wall-clock time kept), as its driver
** writes a timezone-aware datetime for SQLAlchemy. */
static int push_naive_time(lua_State *L, const char *s, size_t n, int what) {
  isotime t;
  if (!parse_iso(s, n, what, &t) || !t.tz[0]) return 0;
  if (strcmp(t.frac, "000000") == 0) t.frac[0] = '\0';
  lua_pushfstring(L, "%s%s%s%s%s", t.hasdate ? t.date : "",
                  t.hasdate ? " " : "", t.hastime ? t.time : "00:00:00",
                  t.frac[0] ? "." : "", t.frac);
  return 1;
}

/*
** A DateTime or Time from the database as Python's str() gives it: a
** space between date and time, microseconds only when there are any (six
** digits), the offset as +HH:MM.
*/
void rt_lua_push_isotime(lua_State *L, const char *s, size_t n, int what) {
  isotime t;
  luaL_Buffer b;
  if (!parse_iso(s, n, what, &t)) {
    lua_pushlstring(L, s, n);
    return;
  }
  luaL_buffinit(L, &b);
  if (t.hasdate) {
    luaL_addstring(&b, t.date);
    luaL_addchar(&b, ' ');
  }
  luaL_addstring(&b, t.hastime ? t.time : "00:00:00");
  if (strcmp(t.frac, "000000") != 0) {
    luaL_addchar(&b, '.');
    luaL_addstring(&b, t.frac);
  }
  luaL_addstring(&b, t.tz);
  luaL_pushresult(&b);
}

/*
** A bind of type `kind`: replace the Lua value on top of the stack with
** what the column stores.  `flags`: RT_BIND_* of the database.
** JSON encodes every value but nil, as SQLAlchemy's JSON does (sa.null,
** Python's None, is JSON null: SQL NULL is null() or a missing value).
*/
/* (qsort's order of member names) */
static int member_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
** A MySQL SET's members, given as a Lua set {a = true, ...} (the form its
** values come back in) or a list {"a", "b"}: their text "a,b" pushed, the
** members of a set in sorted order (the server keeps its own order).
*/
static void set_members_text(lua_State *L, int idx) {
  luaL_Buffer b;
  const char **names;
  size_t n = 0, cap = 0, i;
  lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
  lua_newtable(L); /* the members, as a list */
  if (len > 0)
    for (i = 1; i <= (size_t)len; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i);
      lua_rawseti(L, -2, (lua_Integer)++n);
    }
  else {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      int member = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (!member) continue;
      lua_pushvalue(L, -1);
      lua_rawseti(L, -3, (lua_Integer)++n);
    }
  }
  cap = n ? n : 1;
  names = lua_newuserdatauv(L, cap * sizeof *names, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -2, (lua_Integer)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      rt_lua_error(L, RT_EARGUMENT, "SET: a member must be a string, not %s",
                   luaL_typename(L, -1));
    names[i] = lua_tostring(L, -1); /* kept alive by the list */
    lua_pop(L, 1);
  }
  if (len == 0) qsort(names, n, sizeof *names, member_cmp);
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    if (i) luaL_addchar(&b, ',');
    luaL_addstring(&b, names[i]);
  }
  luaL_pushresult(&b);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

void rt_lua_bind_process(lua_State *L, int kind, int flags) {
  int top = lua_gettop(L);
  switch (kind) {
  case RT_TY_JSON:
  case RT_TY_JSONB:
    if (lua_isnil(L, top)) return;
    rt_lua_json_encode(L, top);
    break;
  case RT_TY_UUID: {
    size_t n;
    const char *s;
    if ((flags & RT_BIND_NATIVE_UUID) || lua_type(L, top) != LUA_TSTRING)
      return;
    s = lua_tolstring(L, top, &n);
    if (!is_dashed_uuid(s, n)) return;
    push_uuid_hex(L, s, n);
    break;
  }
  case RT_TY_ARRAY: {
    luaL_Buffer b;
    if (lua_type(L, top) != LUA_TTABLE || lsql_tonode(L, top)) return;
    luaL_buffinit(L, &b);
    array_literal(L, &b, top, 0);
    luaL_pushresult(&b);
    break;
  }
  case RT_TY_INTERVAL:
    rt_lua_interval_bind(L, flags);
    return;
  case RT_PARAM_SET:
    if (lua_type(L, top) != LUA_TTABLE || lsql_tonode(L, top) ||
        rt_lua_isnull(L, top))
      return;
    set_members_text(L, top);
    break;
  case RT_TY_DATETIME:
  case RT_TY_TIME: {
    size_t n;
    const char *s;
    if (!(flags & (RT_BIND_TIME_TEXT | RT_BIND_NAIVE_TIME)) ||
        lua_type(L, top) != LUA_TSTRING)
      return;
    s = lua_tolstring(L, top, &n);
    if (flags & RT_BIND_TIME_TEXT
            ? !push_sqlite_time(L, s, n, kind == RT_TY_TIME ? 't' : 'd')
            : !push_naive_time(L, s, n, kind == RT_TY_TIME ? 't' : 'd'))
      return;
    break;
  }
  default:
    return;
  }
  lua_replace(L, top);
}

/* --- on the way out --- */

/* The family of an ARRAY's elements, for decoding its text. */
static int array_conv(const rt_type *item) {
  while (item && item->kind == RT_TY_ARRAY) item = item->item;
  if (rt_type_is_integer(item)) return RT_CONV_ARRAY_INT;
  if (item && (item->kind == RT_TY_FLOAT || item->kind == RT_TY_DOUBLE))
    return RT_CONV_ARRAY_FLOAT;
  if (item && item->kind == RT_TY_BOOLEAN) return RT_CONV_ARRAY_BOOL;
  return RT_CONV_ARRAY_TEXT;
}

/*
** The conversion a result column of type t needs (RT_CONV_*), as
** SQLAlchemy's result processors do it; RT_CONV_NONE leaves the choice to
** the driver's column type.
*/
int rt_lua_result_conv(const rt_type *t, int postgresql) {
  if (!t) return RT_CONV_NONE;
  switch (t->kind) {
  case RT_TY_BOOLEAN:
    return RT_CONV_BOOL;
  case RT_TY_JSON:
  case RT_TY_JSONB:
    return RT_CONV_JSON;
  case RT_TY_UUID:
    return postgresql ? RT_CONV_NONE : RT_CONV_UUID;
  case RT_TY_NUMERIC:
    if (t->asfloat) return RT_CONV_FLOAT;
    /* Decimal's scale: the type's, else SQLAlchemy's default of 10 */
    return RT_CONV_DECIMAL + (t->scale >= 0 && t->scale < 200 ? t->scale : 10);
  case RT_TY_FLOAT:
  case RT_TY_DOUBLE:
    /* Float{asdecimal = true}: decimal_return_scale digits, else 10; a
    ** plain Float reads a NUMERIC (a bound 1.5 on PostgreSQL) as a float */
    if (!t->asdecimal) return RT_CONV_FLOAT;
    return RT_CONV_DECIMAL +
           (t->retscale >= 0 && t->retscale < 200 ? t->retscale : 10);
  case RT_TY_ARRAY:
    return array_conv(t->item);
  case RT_TY_DATETIME:
    return RT_CONV_DATETIME;
  case RT_TY_TIME:
    return RT_CONV_TIME;
  case RT_TY_INTERVAL:
    return RT_CONV_INTERVAL;
  case RT_TY_INTEGER:
    return t->upper == RT_UP_TINYINT ? RT_CONV_INT : RT_CONV_NONE;
  case RT_TY_STRING:
    return t->upper == RT_UP_SET ? RT_CONV_SET : RT_CONV_NONE;
  case RT_TY_LARGEBINARY: /* bytes whatever the driver says (a literal's
                          ** column on SQLite has no declared type) */
    return RT_CONV_BYTES;
  default:
    return RT_CONV_NONE;
  }
}

/*
** A Numeric stored as a float (SQLite): the decimal text with `scale`
** digits after the point, as SQLAlchemy's Decimal conversion makes it
** ("%.<scale>f", scale 10 when the type has none).
*/
void rt_lua_push_decimal(lua_State *L, double f, int scale) {
  char buf[400];
  if (f != f || f - f != 0) { /* NaN, infinities: as Decimal spells them */
    lua_pushstring(L, f != f ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
    return;
  }
  if (scale > 60) scale = 60;
  snprintf(buf, sizeof buf, "%.*f", scale, f);
  lua_pushstring(L, buf);
}

/* A Uuid stored as 32 hex digits: the dashed form; anything else as is. */
void rt_lua_push_uuid(lua_State *L, const char *s, size_t n) {
  char out[36];
  size_t i, k = 0;
  for (i = 0; i < n && n == 32; i++)
    if (!isxdigit((unsigned char)s[i])) n = 0;
  if (n != 32) {
    lua_pushlstring(L, s, n);
    return;
  }
  for (i = 0; i < 32; i++) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[k++] = '-';
    out[k++] = (char)tolower((unsigned char)s[i]);
  }
  lua_pushlstring(L, out, sizeof out);
}

typedef struct arrdec {
  lua_State *L;
  const char *p, *end;
  int item; /* RT_T_* of the elements */
  luaL_Buffer b;
} arrdec;

static void push_elem(arrdec *d, const char *s, size_t n, int quoted) {
  lua_State *L = d->L;
  if (!quoted && n == 4 && strncmp(s, "NULL", 4) == 0) {
    rt_lua_pushnull(L);
    return;
  }
  switch (d->item) {
  case RT_T_INTEGER:
    lua_pushlstring(L, s, n);
    if (!lua_stringtonumber(L, lua_tostring(L, -1))) lua_pushnil(L);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushlstring(L, s, n);
    }
    return;
  case RT_T_FLOAT: {
    char *e;
    lua_pushlstring(L, s, n);
    lua_pushnumber(L, strtod(lua_tostring(L, -1), &e));
    lua_remove(L, -2);
    return;
  }
  case RT_T_BOOLEAN:
    lua_pushboolean(L, n > 0 && s[0] == 't');
    return;
  default:
    lua_pushlstring(L, s, n);
  }
}

static int arr_list(arrdec *d, int depth);

/* One element at d->p (a quoted string, a bare word or a sub-array). */
static int arr_elem(arrdec *d, int depth) {
  const char *start;
  if (d->p < d->end && *d->p == '{') return arr_list(d, depth + 1);
  if (d->p < d->end && *d->p == '"') {
    luaL_Buffer b;
    d->p++;
    luaL_buffinit(d->L, &b);
    while (d->p < d->end && *d->p != '"') {
      if (*d->p == '\\' && d->p + 1 < d->end) d->p++;
      luaL_addchar(&b, *d->p++);
    }
    if (d->p >= d->end) return -1;
    d->p++;
    luaL_pushresult(&b);
    {
      size_t n;
      const char *s = lua_tolstring(d->L, -1, &n);
      push_elem(d, s, n, 1);
      lua_remove(d->L, -2);
    }
    return 0;
  }
  start = d->p;
  while (d->p < d->end && *d->p != ',' && *d->p != '}') d->p++;
  push_elem(d, start, (size_t)(d->p - start), 0);
  return 0;
}

static int arr_list(arrdec *d, int depth) {
  lua_Integer n = 0;
  if (depth > 16 || d->p >= d->end || *d->p != '{') return -1;
  luaL_checkstack(d->L, 4, "ARRAY");
  d->p++;
  lua_newtable(d->L);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    return 0;
  }
  for (;;) {
    if (arr_elem(d, depth) != 0) return -1;
    lua_rawseti(d->L, -2, ++n);
    if (d->p >= d->end) return -1;
    if (*d->p == '}') {
      d->p++;
      return 0;
    }
    if (*d->p++ != ',') return -1;
  }
}

/*
** A PostgreSQL array in its text form as a Lua list (NULL elements are
** sa.null, so the list keeps its length).  `item` is the element's RT_T_*
** family.  Text that is not an array literal is pushed as it is.
*/
void rt_lua_push_pgarray(lua_State *L, const char *s, size_t n, int item) {
  arrdec d;
  int top = lua_gettop(L);
  d.L = L;
  d.p = s;
  d.end = s + n;
  d.item = item;
  /* "[1:3]={...}": an array with other bounds; its elements are the same */
  if (d.p < d.end && *d.p == '[') {
    const char *eq = memchr(s, '=', n);
    if (eq) d.p = eq + 1;
  }
  if (arr_list(&d, 0) != 0 || d.p != d.end) {
    lua_settop(L, top);
    lua_pushlstring(L, s, n);
  }
}

/* --- Interval: Python's timedelta --- */

/*
** An Interval value is a timedelta: a table {days, seconds, microseconds}
** normalised as Python's (0 <= seconds < 86400, 0 <= microseconds <
** 10^6, days of either sign), with metatable "retort.timedelta".
** sa.timedelta{weeks, days, hours, minutes, seconds, milliseconds,
** microseconds} makes one; a plain table with those fields binds as one.
** PostgreSQL stores it as INTERVAL; elsewhere, as SQLAlchemy does, as the
** DATETIME that long after 1970-01-01 00:00:00.
*/
#define TIMEDELTA_MT "retort.timedelta"
#define US_PER_DAY INT64_C(86400000000)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
** days_from_civil), and back. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Push the timedelta of `us` microseconds in all. */
static void push_timedelta(lua_State *L, int64_t us) {
  int64_t days = floordiv(us, US_PER_DAY), rem = us - days * US_PER_DAY;
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, days);
  lua_setfield(L, -2, "days");
  lua_pushinteger(L, rem / 1000000);
  lua_setfield(L, -2, "seconds");
  lua_pushinteger(L, rem % 1000000);
  lua_setfield(L, -2, "microseconds");
  luaL_setmetatable(L, TIMEDELTA_MT);
}

/* One field of a timedelta table in microseconds, added to *us (integer
** parts exactly) or to *frac (fractional ones, rounded at the end). */
static void add_field(lua_State *L, int idx, const char *k, int64_t scale,
                      int64_t *us, double *frac) {
  int t = lua_getfield(L, idx, k);
  if (t == LUA_TNUMBER) {
    if (lua_isinteger(L, -1)) {
      lua_Integer v = lua_tointeger(L, -1);
      if (v > INT64_MAX / scale || v < -(INT64_MAX / scale))
        rt_lua_error(L, RT_EARGUMENT, "timedelta: %s out of range", k);
      *us += v * scale;
    } else
      *frac += lua_tonumber(L, -1) * (double)scale;
  } else if (t != LUA_TNIL)
    rt_lua_error(L, RT_EARGUMENT, "timedelta: %s must be a number, not %s", k,
                 luaL_typename(L, -1));
  lua_pop(L, 1);
}

/* The microseconds a timedelta (or a plain table of its fields) spans. */
static int64_t timedelta_us(lua_State *L, int idx) {
  int64_t us = 0;
  double frac = 0;
  idx = lua_absindex(L, idx);
  add_field(L, idx, "weeks", 7 * US_PER_DAY, &us, &frac);
  add_field(L, idx, "days", US_PER_DAY, &us, &frac);
  add_field(L, idx, "hours", INT64_C(3600000000), &us, &frac);
  add_field(L, idx, "minutes", 60000000, &us, &frac);
  add_field(L, idx, "seconds", 1000000, &us, &frac);
  add_field(L, idx, "milliseconds", 1000, &us, &frac);
  add_field(L, idx, "microseconds", 1, &us, &frac);
  if (frac != frac || frac > 9e18 || frac < -9e18)
    rt_lua_error(L, RT_EARGUMENT, "timedelta: value out of range");
  /* fractional fields: to the nearest microsecond */
  return us + (int64_t)(frac < 0 ? -floor(-frac + 0.5) : floor(frac + 0.5));
}

static int l_timedelta(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    push_timedelta(L, 0);
    return 1;
  }
  rt_lua_checkarg(L, 1, LUA_TTABLE, "timedelta");
  push_timedelta(L, timedelta_us(L, 1));
  return 1;
}

/* str(timedelta): "1 day, 2:03:04.500000", "-1 day, 23:59:59", "0:00:00" */
static int td_tostring(lua_State *L) {
  int64_t us = timedelta_us(L, 1), days = floordiv(us, US_PER_DAY);
  int64_t rem = us - days * US_PER_DAY, s = rem / 1000000;
  char buf[96];
  int n = 0;
  if (days)
    n = snprintf(buf, sizeof buf, "%lld day%s, ", (long long)days,
                 days == 1 || days == -1 ? "" : "s");
  n += snprintf(buf + n, sizeof buf - (size_t)n, "%d:%02d:%02d",
                (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
  if (rem % 1000000)
    snprintf(buf + n, sizeof buf - (size_t)n, ".%06d", (int)(rem % 1000000));
  lua_pushstring(L, buf);
  return 1;
}

/* repr(timedelta): datetime.timedelta(days=1, seconds=7200) */
static int td_repr(lua_State *L) {
  int64_t us = timedelta_us(L, 1), days = floordiv(us, US_PER_DAY);
  int64_t rem = us - days * US_PER_DAY;
  long long f[3];
  static const char *const names[] = {"days", "seconds", "microseconds"};
  char buf[160];
  int n, i, any = 0;
  f[0] = (long long)days;
  f[1] = (long long)(rem / 1000000);
  f[2] = (long long)(rem % 1000000);
  n = snprintf(buf, sizeof buf, "datetime.timedelta(");
  for (i = 0; i < 3; i++)
    if (f[i]) {
      n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%s=%lld",
                    any ? ", " : "", names[i], f[i]);
      any = 1;
    }
  snprintf(buf + n, sizeof buf - (size_t)n, "%s)", any ? "" : "0");
  lua_pushstring(L, buf);
  return 1;
}

static int td_eq(lua_State *L) {
  lua_pushboolean(L, timedelta_us(L, 1) == timedelta_us(L, 2));
  return 1;
}
static int td_lt(lua_State *L) {
  lua_pushboolean(L, timedelta_us(L, 1) < timedelta_us(L, 2));
  return 1;
}
static int td_le(lua_State *L) {
  lua_pushboolean(L, timedelta_us(L, 1) <= timedelta_us(L, 2));
  return 1;
}
static int td_add(lua_State *L) {
  push_timedelta(L, timedelta_us(L, 1) + timedelta_us(L, 2));
  return 1;
}
static int td_sub(lua_State *L) {
  push_timedelta(L, timedelta_us(L, 1) - timedelta_us(L, 2));
  return 1;
}
static int td_unm(lua_State *L) {
  push_timedelta(L, -timedelta_us(L, 1));
  return 1;
}
static int td_total_seconds(lua_State *L) {
  lua_pushnumber(L, (lua_Number)timedelta_us(L, 1) / 1e6);
  return 1;
}

/* The stored form of a timedelta in a statement: PostgreSQL's interval
** input "D days S.UUUUUU seconds", which also reads back here. */
static void push_interval_text(lua_State *L, int64_t us) {
  int64_t days = floordiv(us, US_PER_DAY), rem = us - days * US_PER_DAY;
  char buf[80];
  snprintf(buf, sizeof buf, "%lld days %lld.%06lld seconds", (long long)days,
           (long long)(rem / 1000000), (long long)(rem % 1000000));
  lua_pushstring(L, buf);
}

/* Parse push_interval_text's form; 0 when s is not of it. */
static int parse_interval_text(const char *s, int64_t *us) {
  long long days, secs;
  int frac, n = 0;
  if (sscanf(s, "%lld days %lld.%6d seconds%n", &days, &secs, &frac, &n) != 3 ||
      s[n] != '\0' || secs < 0 || secs >= 86400 || frac < 0)
    return 0;
  *us = (int64_t)days * US_PER_DAY + (int64_t)secs * 1000000 + frac;
  return 1;
}

/* The DATETIME an interval is stored as where there is no INTERVAL:
** 1970-01-01 00:00:00 plus the interval, in SQLAlchemy's text form. */
static void push_epoch_datetime(lua_State *L, int64_t us) {
  int64_t days = floordiv(us, US_PER_DAY), rem = us - days * US_PER_DAY, y;
  int m, d;
  char buf[64];
  int64_t s = rem / 1000000;
  civil_from_days(days, &y, &m, &d);
  snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d:%02d.%06d",
           (long long)y, m, d, (int)(s / 3600), (int)(s / 60 % 60),
           (int)(s % 60), (int)(rem % 1000000));
  lua_pushstring(L, buf);
}

/*
** An Interval on the way in, replacing the value on top: a table becomes
** the interval text; at execution (`exec`) on a database without
** INTERVAL that text becomes the epoch-based DATETIME.
*/
static void interval_bind(lua_State *L, int native, int exec) {
  int64_t us;
  if (lua_type(L, -1) == LUA_TTABLE && !rt_lua_isnull(L, -1)) {
    us = timedelta_us(L, -1);
    if (exec && !native)
      push_epoch_datetime(L, us);
    else
      push_interval_text(L, us);
    lua_replace(L, -2);
    return;
  }
  if (exec && !native && lua_type(L, -1) == LUA_TSTRING &&
      parse_interval_text(lua_tostring(L, -1), &us)) {
    push_epoch_datetime(L, us);
    lua_replace(L, -2);
  }
}

void rt_lua_interval_bind(lua_State *L, int flags) {
  interval_bind(L, (flags & RT_BIND_NATIVE_INTERVAL) != 0,
                (flags & RT_BIND_EXEC) != 0);
}

unsigned char rt_lua_bind_sqltype(int kind) {
  switch (kind) {
  case RT_TY_DATE:
    return RT_T_DATE;
  case RT_TY_DATETIME:
    return RT_T_DATETIME;
  case RT_TY_TIME:
    return RT_T_TIME;
  case RT_TY_INTERVAL:
    return RT_T_INTERVAL;
  default:
    return RT_T_UNKNOWN;
  }
}

/* A number at *p (optional sign, digits), advancing; 0 when none. */
static int scan_int(const char **p, long long *v) {
  char *end;
  *v = strtoll(*p, &end, 10);
  if (end == *p) return 0;
  *p = end;
  return 1;
}

/*
** PostgreSQL's interval output (IntervalStyle postgres): "1 year 2 mons
** -3 days +04:05:06.5"; as psycopg2, a year is 365 days and a month 30.
*/
static int parse_pg_interval(const char *s, int64_t *us) {
  const char *p = s;
  int64_t total = 0;
  int any = 0;
  for (;;) {
    long long v, h, mi = 0, sec = 0;
    int neg, frac = 0, k;
    while (*p == ' ') p++;
    if (!*p) break;
    neg = *p == '-';
    if (strchr(p, ':') &&
        (strchr(p, ' ') == NULL || strchr(p, ':') < strchr(p, ' '))) {
      /* [+-]HH:MM:SS[.ffffff] */
      if (*p == '+' || *p == '-') p++;
      if (!scan_int(&p, &h) || *p++ != ':' || !scan_int(&p, &mi)) return 0;
      if (*p == ':') {
        p++;
        if (!scan_int(&p, &sec)) return 0;
        if (*p == '.') {
          p++;
          for (k = 0; k < 6; k++) {
            frac *= 10;
            if (isdigit((unsigned char)*p)) frac += *p++ - '0';
          }
          while (isdigit((unsigned char)*p)) p++;
        }
      }
      v = ((h * 60 + mi) * 60 + sec) * 1000000 + frac;
      total += neg ? -v : v;
      any = 1;
      continue;
    }
    if (!scan_int(&p, &v)) return 0;
    while (*p == ' ') p++;
    if (strncmp(p, "year", 4) == 0)
      total += (int64_t)v * 365 * US_PER_DAY;
    else if (strncmp(p, "mon", 3) == 0)
      total += (int64_t)v * 30 * US_PER_DAY;
    else if (strncmp(p, "day", 3) == 0)
      total += (int64_t)v * US_PER_DAY;
    else
      return 0;
    while (isalpha((unsigned char)*p)) p++;
    any = 1;
  }
  if (!any) return 0;
  *us = total;
  return 1;
}

/*
** An Interval on the way out: PostgreSQL's interval text, or the DATETIME
** text of the other databases less 1970-01-01, as a timedelta.  Text of
** neither form is pushed as it is.
*/
void rt_lua_push_interval(lua_State *L, const char *s, size_t n) {
  char buf[128];
  int64_t us;
  isotime t;
  if (n >= sizeof buf) {
    lua_pushlstring(L, s, n);
    return;
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  if (parse_iso(buf, n, 'd', &t) && !t.tz[0]) {
    int64_t y = atoll(t.date);
    int m = atoi(t.date + 5), d = atoi(t.date + 8);
    int64_t secs =
        atoi(t.time) * 3600 + atoi(t.time + 3) * 60 + atoi(t.time + 6);
    push_timedelta(L, days_from_civil(y, m, d) * US_PER_DAY + secs * 1000000 +
                          atoi(t.frac));
    return;
  }
  if (parse_pg_interval(buf, &us)) {
    push_timedelta(L, us);
    return;
  }
  lua_pushlstring(L, s, n);
}

/* sa.timedelta and the metatable of its values */
void rt_lua_open_timedelta(lua_State *L) {
  static const luaL_Reg mms[] = {{"__tostring", td_tostring},
                                 {"__repr", td_repr},
                                 {"__eq", td_eq},
                                 {"__lt", td_lt},
                                 {"__le", td_le},
                                 {"__add", td_add},
                                 {"__sub", td_sub},
                                 {"__unm", td_unm},
                                 {NULL, NULL}};
  luaL_newmetatable(L, TIMEDELTA_MT);
  luaL_setfuncs(L, mms, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, td_total_seconds);
  lua_setfield(L, -2, "total_seconds");
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "timedelta");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_timedelta);
  lua_setfield(L, -2, "timedelta");
}
