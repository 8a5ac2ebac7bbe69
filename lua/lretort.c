/*
** lretort.c -- the Lua modules "retort" (Core) and "retort.orm" (ORM).
**
** Both are built into the retort binary and into the retort.so C module
** that a stock lua5.4 loads with require; luaopen_retort_orm is found in
** the same library by Lua's all-in-one loader.
*/
#include <string.h>
#include <time.h>

#include "lretort.h"
#include "lsql.h"

/* sa._monotonic(): seconds on a monotonic clock, for timing (benchmarks,
** \timing); not part of the SQLAlchemy surface, hence the underscore. */
static int l_monotonic(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* The binding files each add their public names to the module table on
** top of the stack. */
static void fill_core(lua_State *L) {
  rt_lua_open_error(L);
  rt_lua_open_result(L);
  rt_lua_open_engine(L);
  rt_lua_open_inspect(L);
  lsql_open_schema(L);
  lsql_open_expr(L);
  /* reflect.lua wraps Table for autoload_with and adds MetaData:reflect */
  if (luaL_loadbuffer(L, rt_lua_src_reflect, rt_lua_len_reflect,
                      "=retort/reflect.lua") != LUA_OK)
    lua_error(L);
  lua_pushvalue(L, -2);
  luaL_getmetatable(L, META_MT);
  lua_getfield(L, -1, "__methods");
  lua_remove(L, -2);
  luaL_getmetatable(L, "retort.Inspector");
  lua_getfield(L, -1, "__methods");
  lua_remove(L, -2);
  lua_call(L, 3, 0);
  rt_lua_pushnull(L);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, RT_VERSION);
  lua_setfield(L, -2, "__version__");
  lua_pushcfunction(L, l_monotonic);
  lua_setfield(L, -2, "_monotonic");
}

int luaopen_retort(lua_State *L) {
  /* one module table per state, however it is reached */
  if (lua_getfield(L, LUA_REGISTRYINDEX, "retort.module") == LUA_TTABLE)
    return 1;
  lua_pop(L, 1);
  lua_newtable(L);
  fill_core(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "retort.module");
  return 1;
}

int luaopen_retort_orm(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "retort.orm.module") == LUA_TTABLE)
    return 1;
  lua_pop(L, 1);
  luaL_requiref(L, "retort", luaopen_retort, 0);
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushliteral(L, RT_VERSION);
  lua_setfield(L, -2, "__version__");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "retort.orm.module");
  rt_lua_open_orm(L);
  return 1;
}

/*
** The global `select` builds SQL, but keeps Lua's meaning when its first
** argument is a number or "#" (upvalue 1: Lua's select; 2: the module).
*/
static int global_select(lua_State *L) {
  int t = lua_type(L, 1);
  int lua_meaning = t == LUA_TNUMBER ||
                    (t == LUA_TSTRING && strcmp(lua_tostring(L, 1), "#") == 0);
  if (lua_meaning)
    lua_pushvalue(L, lua_upvalueindex(1));
  else if (lua_getfield(L, lua_upvalueindex(2), "select") == LUA_TFUNCTION &&
           lua_tocfunction(L, -1) == lsql_select) {
    /* the module's own select: no second call frame */
    lua_pop(L, 1);
    return lsql_select(L);
  } else if (lua_type(L, -1) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
  }
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* Copy every string key of the table on top into _G, except names Lua's
** standard library owns (the contract: the standard library is never
** shadowed). */
static void export_names(lua_State *L) {
  static const char *const keep[] = {"table", "select", "type",   "error",
                                     "print", "next",   "string", "math",
                                     "io",    "os",     NULL};
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    int i, skip = lua_type(L, -2) != LUA_TSTRING;
    for (i = 0; !skip && keep[i]; i++)
      if (strcmp(lua_tostring(L, -2), keep[i]) == 0) skip = 1;
    if (!skip && lua_tostring(L, -2)[0] != '_') {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_setglobal(L, lua_tostring(L, -2));
      lua_pop(L, 1);
    } else
      lua_pop(L, 1);
  }
}

void rt_lua_setglobals(lua_State *L) {
  luaL_requiref(L, "retort", luaopen_retort, 0);
  luaL_requiref(L, "retort.orm", luaopen_retort_orm, 0);
  /* stack: sa, orm */
  lua_pushvalue(L, -2);
  export_names(L);
  lua_pop(L, 1);
  export_names(L);
  lua_setglobal(L, "orm");
  lua_pushvalue(L, -1);
  lua_setglobal(L, "sa");
  lua_getglobal(L, "select");
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, global_select, 2);
  lua_setglobal(L, "select");
  lua_pop(L, 1);
}
