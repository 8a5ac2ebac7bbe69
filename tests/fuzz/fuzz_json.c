/*
** fuzz_json.c -- JSON text: decode arbitrary bytes; what decodes must
** encode, and what that decodes to must survive the round trip again
** unchanged (the first encoding may replace invalid UTF-8 by U+FFFD, as
** Python's does).  Errors (Lua errors) are fine; crashes, leaks and
** undefined behaviour are not.
*/
#include <stdint.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/lretort.h"

/* deep equality, NaN equal to NaN, integers distinct from floats */
static const char deepeq_src[] =
    "local function eq(a, b)\n"
    "  if a == b then return math.type(a) == math.type(b) end\n"
    "  if a ~= a and b ~= b then return true end\n"
    "  if type(a) ~= 'table' or type(b) ~= 'table' then return false end\n"
    "  for k, v in pairs(a) do if not eq(v, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "return eq\n";

static int roundtrip(lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, 1, &n);
  rt_lua_json_decode(L, s, n); /* 3: the value */
  rt_lua_json_encode(L, 3);    /* 4: its text */
  s = lua_tolstring(L, 4, &n);
  rt_lua_json_decode(L, s, n); /* 5: decoded again */
  rt_lua_json_encode(L, 5);    /* 6 */
  s = lua_tolstring(L, 6, &n);
  rt_lua_json_decode(L, s, n); /* 7: and again */
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 5);
  lua_pushvalue(L, 7);
  lua_call(L, 2, 1);
  if (!lua_toboolean(L, -1)) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = luaL_newstate();
  if (L == NULL) return 0;
  luaL_openlibs(L);
  luaL_requiref(L, "retort", luaopen_retort, 0);
  lua_pop(L, 1);
  lua_pushcfunction(L, roundtrip);
  lua_pushlstring(L, (const char *)data, size);
  if (luaL_loadstring(L, deepeq_src) != LUA_OK) abort();
  lua_call(L, 0, 1);
  lua_pcall(L, 2, 0, 0);
  lua_close(L);
  return 0;
}
