/*
** lvalue.c -- Lua values <-> rt_value, the NULL sentinel, Python-style repr.
*/
#include <stdatomic.h>
#include <string.h>

#include "lretort.h"

#define NULL_KEY "retort.null"

int rt_lua_slot_get(lua_State *L, rt_lua_slot *s, const void *key) {
  int ref = atomic_load_explicit(&s->ref, memory_order_relaxed);
  return ref > 0 ? lua_rawgeti(L, LUA_REGISTRYINDEX, ref)
                 : lua_rawgetp(L, LUA_REGISTRYINDEX, key);
}

void rt_lua_slot_set(lua_State *L, rt_lua_slot *s, const void *key) {
  int ref, want = 0;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (!atomic_compare_exchange_strong(&s->ref, &want, ref) && want != ref)
    atomic_store(&s->ref, -1);
}
#define NULL_CONSTRUCT_KEY "retort.null_construct"

static int null_tostring(lua_State *L) {
  lua_pushliteral(L, "null");
  return 1;
}

/* `null()` gives the SQL NULL construct, once the expression module has
** registered its constructor. */
static int null_call(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, NULL_CONSTRUCT_KEY) != LUA_TFUNCTION)
    return rt_lua_error(L, RT_EINVALIDREQUEST,
                        "null(): the SQL expression language is not loaded");
  lua_call(L, 0, 1);
  return 1;
}

/* The registry keeps the sentinel under this address too: a lookup by a
** light userdata needs no string.  The sentinel holds the address, which
** no other userdata does: rows and parameters test for it once per value,
** and the test (rt_lua_isnull) then reads no table. */
static const char null_key = 0;

void rt_lua_pushnull(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &null_key) == LUA_TUSERDATA) return;
  lua_pop(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, NULL_KEY) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    *(const void **)lua_newuserdatauv(L, sizeof(void *), 0) = &null_key;
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, null_call);
    lua_setfield(L, -2, "__call");
    lua_pushliteral(L, "retort.null");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, NULL_KEY);
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &null_key);
}

int rt_lua_isnull(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TUSERDATA &&
         lua_rawlen(L, idx) == sizeof(void *) &&
         *(const void **)lua_touserdata(L, idx) == &null_key;
}

int rt_lua_tovalue(lua_State *L, int idx, rt_value *v) {
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
  case LUA_TNONE:
    *v = rt_vnull();
    return 0;
  case LUA_TBOOLEAN:
    *v = rt_vbool(lua_toboolean(L, idx));
    return 0;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      *v = rt_vint(lua_tointeger(L, idx));
    else
      *v = rt_vfloat(lua_tonumber(L, idx));
    return 0;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    *v = rt_vtext(s, n);
    return 0;
  }
  case LUA_TUSERDATA:
    if (rt_lua_isnull(L, idx)) {
      *v = rt_vnull();
      return 0;
    }
    return -1;
  default:
    return -1;
  }
}

void rt_lua_pushvalue(lua_State *L, const rt_value *v) {
  switch (v->type) {
  case RT_V_NULL:
    lua_pushnil(L);
    break;
  case RT_V_INT:
    lua_pushinteger(L, (lua_Integer)v->u.i);
    break;
  case RT_V_FLOAT:
    lua_pushnumber(L, v->u.f);
    break;
  case RT_V_BOOL:
    lua_pushboolean(L, v->u.b);
    break;
  case RT_V_TEXT:
  case RT_V_BLOB:
    lua_pushlstring(L, v->u.s.p, v->u.s.n);
    break;
  }
}

void rt_lua_pushstored(lua_State *L, const rt_value *v) {
  if (v->type == RT_V_NULL)
    rt_lua_pushnull(L);
  else
    rt_lua_pushvalue(L, v);
}

void rt_lua_newweaktable(lua_State *L, const char *mode) {
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
}

/*
** Python's repr of a str (bytes = 0) or of bytes (b'...'): single quotes
** unless the text has a single quote and no double quote; backslash
** escapes for quotes and control bytes, and for bytes every non-ASCII one
** (a str shows its UTF-8 as it is).
*/
void rt_lua_push_pyrepr(lua_State *L, const char *s, size_t n, int bytes) {
  luaL_Buffer b;
  size_t i;
  char q = (memchr(s, '\'', n) && !memchr(s, '"', n)) ? '"' : '\'';
  unsigned hexfrom = bytes ? 0x80 : 0x100; /* non-ASCII: bytes only */
  luaL_buffinit(L, &b);
  if (bytes) luaL_addchar(&b, 'b');
  luaL_addchar(&b, q);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == (unsigned char)q || c == '\\') {
      luaL_addchar(&b, '\\');
      luaL_addchar(&b, (char)c);
    } else if (c == '\n')
      luaL_addstring(&b, "\\n");
    else if (c == '\t')
      luaL_addstring(&b, "\\t");
    else if (c == '\r')
      luaL_addstring(&b, "\\r");
    else if (c < 0x20 || c == 0x7f || c >= hexfrom) {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02x", c);
      luaL_addstring(&b, hex);
    } else
      luaL_addchar(&b, (char)c);
  }
  luaL_addchar(&b, q);
  luaL_pushresult(&b);
}

static int is_list(lua_State *L, int idx, lua_Integer *n) {
  lua_Integer len = (lua_Integer)lua_rawlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    count++;
    lua_pop(L, 1);
  }
  *n = len;
  return count == len;
}

static int cmpkeys(lua_State *L) {
  /* sort keys by their string form, so dictionaries print stably */
  const char *a = luaL_tolstring(L, 1, NULL);
  const char *b = luaL_tolstring(L, 2, NULL);
  lua_pushboolean(L, strcmp(a, b) < 0);
  return 1;
}

static void push_tablerepr(lua_State *L, int idx, int depth) {
  lua_Integer n, i;
  int parts = 0;
  if (depth > 8) {
    lua_pushliteral(L, "{...}");
    return;
  }
  luaL_checkstack(L, 8, "repr");
  if (is_list(L, idx, &n)) {
    lua_pushliteral(L, "[");
    parts++;
    for (i = 1; i <= n; i++) {
      if (i > 1) lua_pushliteral(L, ", "), parts++;
      lua_rawgeti(L, idx, i);
      rt_lua_pushrepr(L, -1);
      lua_remove(L, -2);
      parts++;
      if (parts > 40) lua_concat(L, parts), parts = 1;
    }
    lua_pushliteral(L, "]");
    lua_concat(L, parts + 1);
    return;
  }
  /* a dictionary: collect and sort the keys */
  lua_newtable(L);
  n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, ++n);
  }
  lua_getglobal(L, "table");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, -3);
    lua_pushcfunction(L, cmpkeys);
    lua_pcall(L, 2, 0, 0);
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "{");
  parts = 1;
  for (i = 1; i <= n; i++) {
    int key;
    if (i > 1) lua_pushliteral(L, ", "), parts++;
    lua_rawgeti(L, -1 - parts, i);
    key = lua_gettop(L);
    rt_lua_pushrepr(L, key);
    lua_pushliteral(L, ": ");
    lua_pushvalue(L, key);
    lua_rawget(L, idx);
    rt_lua_pushrepr(L, -1);
    lua_remove(L, -2);
    lua_concat(L, 3);
    lua_remove(L, key);
    parts++;
    if (parts > 40) lua_concat(L, parts), parts = 1;
  }
  lua_pushliteral(L, "}");
  lua_concat(L, parts + 1);
  lua_remove(L, -2); /* the key list */
}

void rt_lua_pushrepr(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
  case LUA_TNONE:
    lua_pushliteral(L, "None");
    return;
  case LUA_TBOOLEAN:
    lua_pushstring(L, lua_toboolean(L, idx) ? "True" : "False");
    return;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      lua_pushfstring(L, "%I", lua_tointeger(L, idx));
    else {
      char buf[32];
      lua_pushstring(L, rt_float_repr(lua_tonumber(L, idx), buf));
    }
    return;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    rt_lua_push_pyrepr(L, s, n, 0);
    return;
  }
  case LUA_TTABLE:
    /* a value with a Python repr of its own (timedelta) */
    if (luaL_getmetafield(L, idx, "__repr") != LUA_TNIL) {
      lua_pushvalue(L, idx);
      lua_call(L, 1, 1);
      return;
    }
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
      lua_pop(L, 1);
      luaL_tolstring(L, idx, NULL);
      return;
    }
    push_tablerepr(L, idx, 0);
    return;
  default:
    if (rt_lua_isnull(L, idx)) {
      lua_pushliteral(L, "None");
      return;
    }
    luaL_tolstring(L, idx, NULL);
  }
}
