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
** ("2026-11-21 08:30:00.000000"), so that they compare as text.  A value
** with a time zone, or not in ISO form, goes as it is. */
static int push_sqlite_time(lua_State *L, const char *s, size_t n, int what) {
  isotime t;
  if (!parse_iso(s, n, what, &t) || t.tz[0]) return 0;
  if (what == 'd')
    lua_pushfstring(L, "%s %s.%s", t.date, t.hastime ? t.time : "00:00:00",
                    t.frac);
  else
    lua_pushfstring(L, "%s.%s", t.time, t.frac);
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
  case RT_TY_DATETIME:
  case RT_TY_TIME: {
    size_t n;
    const char *s;
    if (!(flags & RT_BIND_TIME_TEXT) || lua_type(L, top) != LUA_TSTRING) return;
    s = lua_tolstring(L, top, &n);
    if (!push_sqlite_time(L, s, n, kind == RT_TY_TIME ? 't' : 'd')) return;
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
    /* Float{asdecimal = true}: decimal_return_scale digits, else 10 */
    if (!t->asdecimal) return RT_CONV_NONE;
    return RT_CONV_DECIMAL +
           (t->retscale >= 0 && t->retscale < 200 ? t->retscale : 10);
  case RT_TY_ARRAY:
    return array_conv(t->item);
  case RT_TY_DATETIME:
    return RT_CONV_DATETIME;
  case RT_TY_TIME:
    return RT_CONV_TIME;
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
