/*
** fuzz_decode.c -- result values from arbitrary bytes, as the server
** drivers decode them and the result layer converts them to Lua: every
** PostgreSQL type of the text format (bytea in both encodings) and every
** MySQL field type of the text protocol, with and without UNSIGNED and
** the binary charset.
**
** Input: byte 0 picks the driver and type, byte 1 the flags, the rest is
** the column's bytes (copied to a buffer of exactly that size plus the
** NUL the client libraries add, so any overread is caught).
*/
#include <mysql.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "dialects/decode.h"
#include "lua/lretort.h"

static const unsigned pg_oids[] = {
    16,   17,   18,   19,   20,   21,   23,   25,   26,   114,        700,
    701,  1042, 1043, 1082, 1083, 1114, 1184, 1186, 1266, 1700,       2950,
    3802, 1000, 1007, 1009, 0,    705,  199,  3807, 2278, 4294967295u};

static const enum enum_field_types my_types[] = {
    MYSQL_TYPE_DECIMAL,    MYSQL_TYPE_TINY,        MYSQL_TYPE_SHORT,
    MYSQL_TYPE_LONG,       MYSQL_TYPE_FLOAT,       MYSQL_TYPE_DOUBLE,
    MYSQL_TYPE_NULL,       MYSQL_TYPE_TIMESTAMP,   MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_INT24,      MYSQL_TYPE_DATE,        MYSQL_TYPE_TIME,
    MYSQL_TYPE_DATETIME,   MYSQL_TYPE_YEAR,        MYSQL_TYPE_NEWDATE,
    MYSQL_TYPE_VARCHAR,    MYSQL_TYPE_BIT,         MYSQL_TYPE_TIMESTAMP2,
    MYSQL_TYPE_DATETIME2,  MYSQL_TYPE_TIME2,       MYSQL_TYPE_JSON,
    MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_ENUM,        MYSQL_TYPE_SET,
    MYSQL_TYPE_TINY_BLOB,  MYSQL_TYPE_MEDIUM_BLOB, MYSQL_TYPE_LONG_BLOB,
    MYSQL_TYPE_BLOB,       MYSQL_TYPE_VAR_STRING,  MYSQL_TYPE_STRING,
    MYSQL_TYPE_GEOMETRY};

#define NPG (sizeof pg_oids / sizeof pg_oids[0])
#define NMY (sizeof my_types / sizeof my_types[0])

static lua_State *L;

/* What the result layer does with a column value (lresult.c). */
static int convert(lua_State *L) {
  rt_value *v = lua_touserdata(L, 1);
  rt_sqltype t = (rt_sqltype)lua_tointeger(L, 2);
  if (t == RT_T_BOOLEAN && v->type == RT_V_INT)
    lua_pushboolean(L, v->u.i != 0);
  else if (t == RT_T_JSON && (v->type == RT_V_TEXT || v->type == RT_V_BLOB))
    rt_lua_json_decode(L, v->u.s.p, v->u.s.n);
  else
    rt_lua_pushvalue(L, v);
  return 1;
}

static void to_lua(rt_value *v, rt_sqltype t) {
  lua_pushcfunction(L, convert);
  lua_pushlightuserdata(L, v);
  lua_pushinteger(L, t);
  lua_pcall(L, 2, 1, 0);
  lua_settop(L, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rt_value v;
  char *s, *buf = NULL;
  size_t n, cap = 0;
  unsigned pick, flags;
  if (size < 2) return 0;
  if (L == NULL) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "retort", luaopen_retort, 0);
    lua_settop(L, 0);
  }
  pick = data[0];
  flags = data[1];
  n = size - 2;
  s = malloc(n + 1);
  if (s == NULL) return 0;
  memcpy(s, data + 2, n);
  s[n] = '\0';
  if (pick < 128) {
    unsigned oid = pg_oids[pick % NPG];
    if (rt_pg_decode(oid, s, n, &buf, &cap, &v) == 0)
      to_lua(&v, rt_pg_sqltype(oid));
    /* a second value reuses (and may grow) the bytea buffer */
    if (oid == 17 && n > 2 &&
        rt_pg_decode(oid, s + 1, n - 1, &buf, &cap, &v) == 0)
      to_lua(&v, RT_T_BLOB);
  } else {
    MYSQL_FIELD f;
    memset(&f, 0, sizeof f);
    f.type = my_types[pick % NMY];
    f.flags = (flags & 1) ? UNSIGNED_FLAG : 0;
    f.charsetnr = (flags & 2) ? 63 : 45;
    f.length = flags >> 2;
    rt_my_decode_text(&f, (flags & 0x80) && n == 0 ? NULL : s, n, &v);
    to_lua(&v, rt_my_sqltype(&f));
  }
  free(buf);
  free(s);
  if (lua_gc(L, LUA_GCCOUNT, 0) > 64 * 1024) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
