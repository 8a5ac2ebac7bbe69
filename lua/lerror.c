/*
** lerror.c -- error objects raised to Lua.
**
** An error is a table {kind, message, code, sql, params, orig, position}
** with metatable "retort.Error": tostring gives one paragraph, `isa` walks
** SQLAlchemy's exception hierarchy (kept in core/error.c).
*/
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lretort.h"

#define ERROR_MT "retort.Error"

static void push_errmt(lua_State *L);

void rt_lua_pusherror(lua_State *L, rt_error *err) {
  const char *msg = err->message ? err->message : "out of memory";
  lua_createtable(L, 0, 8);
  lua_pushstring(L, rt_errkind_name(err->kind));
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  if (err->kind == RT_ECANCELED) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "canceled");
  }
  if (rt_errkind_isa(err->kind, RT_EDBAPI)) {
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "orig");
  }
  if (err->code[0]) {
    lua_pushstring(L, err->code);
    lua_setfield(L, -2, "code");
  }
  if (err->position > 0) {
    lua_pushinteger(L, err->position);
    lua_setfield(L, -2, "position");
  }
  push_errmt(L);
  lua_setmetatable(L, -2);
  rt_error_clear(err);
}

void rt_lua_error_context(lua_State *L, const char *sql, int params_idx) {
  params_idx = params_idx ? lua_absindex(L, params_idx) : 0;
  if (sql) {
    lua_pushstring(L, sql);
    lua_setfield(L, -2, "sql");
  }
  if (params_idx && !lua_isnoneornil(L, params_idx)) {
    lua_pushvalue(L, params_idx);
    lua_setfield(L, -2, "params");
  }
}

int rt_lua_statement_error(lua_State *L, rt_errkind orig, const char *sql,
                           int params_idx, const char *fmt, ...) {
  rt_error err = RT_ERROR_INIT;
  va_list ap;
  params_idx = params_idx ? lua_absindex(L, params_idx) : 0;
  va_start(ap, fmt);
  rt_error_setv(&err, RT_ESTATEMENT, fmt, ap);
  va_end(ap);
  rt_lua_pusherror(L, &err);
  lua_pushstring(L, rt_errkind_name(orig));
  lua_setfield(L, -2, "orig_kind");
  rt_lua_error_context(L, sql, params_idx);
  return lua_error(L);
}

int rt_lua_raise(lua_State *L, rt_error *err) {
  rt_lua_pusherror(L, err);
  return lua_error(L);
}

int rt_lua_raise_sql(lua_State *L, rt_error *err, const char *sql,
                     int params_idx) {
  params_idx = params_idx ? lua_absindex(L, params_idx) : 0;
  rt_lua_pusherror(L, err);
  rt_lua_error_context(L, sql, params_idx);
  return lua_error(L);
}

int rt_lua_error(lua_State *L, rt_errkind kind, const char *fmt, ...) {
  rt_error err = RT_ERROR_INIT;
  va_list ap;
  va_start(ap, fmt);
  rt_error_setv(&err, kind, fmt, ap);
  va_end(ap);
  return rt_lua_raise(L, &err);
}

void rt_lua_checkarg(lua_State *L, int arg, int t, const char *fname) {
  if (lua_type(L, arg) != t)
    rt_lua_error(L, RT_EARGUMENT, "%s: argument #%d must be a %s, not %s",
                 fname, arg, lua_typename(L, t), luaL_typename(L, arg));
}

/* The kind named by a string or by a class table from sa.exc. */
static rt_errkind kind_arg(lua_State *L, int idx) {
  const char *name;
  if (lua_istable(L, idx)) {
    lua_getfield(L, idx, "__name");
    name = lua_tostring(L, -1);
    lua_pop(L, 1);
  } else
    name = lua_tostring(L, idx);
  return name ? rt_errkind_byname(name) : RT_OK;
}

static int err_isa(lua_State *L) {
  rt_errkind want = kind_arg(L, 2), have;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (want == RT_OK) return luaL_argerror(L, 2, "unknown error kind");
  lua_getfield(L, 1, "kind");
  have = rt_errkind_byname(luaL_optstring(L, -1, ""));
  lua_pushboolean(L, have != RT_OK && rt_errkind_isa(have, want));
  return 1;
}

/* Push the parameters as SQLAlchemy shows them: one set, or a list of at
** most ten sets. */
static void push_params(lua_State *L, int idx) {
  lua_Integer n = luaL_len(L, idx), i;
  int parts = 1, nested = 0;
  /* the parameters a driver got carry their text (see lengine.c) */
  if (luaL_getmetafield(L, idx, "__repr") != LUA_TNIL) {
    lua_pop(L, 1);
    rt_lua_pushrepr(L, idx);
    return;
  }
  if (n > 0) {
    lua_geti(L, idx, 1);
    nested = lua_istable(L, -1);
    lua_pop(L, 1);
  }
  if (!nested) {
    rt_lua_pushrepr(L, idx);
    return;
  }
  lua_pushliteral(L, "[");
  for (i = 1; i <= n && i <= 10; i++) {
    if (i > 1) lua_pushliteral(L, ", "), parts++;
    lua_geti(L, idx, i);
    rt_lua_pushrepr(L, -1);
    lua_remove(L, -2);
    parts++;
  }
  if (n > 10)
    lua_pushfstring(L, " ... displaying 10 of %I total bound parameter sets",
                    n),
        parts++;
  lua_pushliteral(L, "]");
  lua_concat(L, parts + 1);
}

static int err_tostring(lua_State *L) {
  const char *kind;
  int isdb, parts = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "kind");
  kind = luaL_optstring(L, 2, "Error");
  isdb = rt_errkind_isa(rt_errkind_byname(kind), RT_EDBAPI);
  lua_getfield(L, 1, "orig_kind");
  if (lua_isstring(L, -1)) /* a StatementError: the error it wraps */
    lua_pushfstring(L, "%s: (%s) ", kind, lua_tostring(L, -1));
  else if (isdb)
    lua_pushfstring(L, "(%s) ", kind);
  else
    lua_pushfstring(L, "%s: ", kind);
  lua_remove(L, -2);
  parts++;
  lua_getfield(L, 1, "message");
  if (!lua_isstring(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "");
  }
  parts++;
  lua_getfield(L, 1, "sql");
  if (lua_isstring(L, -1)) {
    lua_pushliteral(L, "\n[SQL: ");
    lua_insert(L, -2);
    lua_pushliteral(L, "]");
    parts += 3;
    lua_getfield(L, 1, "params");
    /* none (an empty tuple or dict): no line, as SQLAlchemy's */
    if (lua_istable(L, -1) && (lua_pushnil(L), lua_next(L, -2))) {
      int pidx = lua_gettop(L) - 2;
      lua_pop(L, 2);
      lua_pushliteral(L, "\n[parameters: ");
      push_params(L, pidx);
      lua_pushliteral(L, "]");
      lua_remove(L, pidx);
      parts += 3;
    } else
      lua_pop(L, 1);
  } else
    lua_pop(L, 1);
  lua_concat(L, parts);
  return 1;
}

static void push_errmt(lua_State *L) {
  if (luaL_newmetatable(L, ERROR_MT)) {
    lua_pushcfunction(L, err_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, err_isa);
    lua_setfield(L, -2, "isa");
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, "retort.Error");
    lua_setfield(L, -2, "__name");
  }
}

/* sa._raise(kind, message): raise a retort error from the Lua parts of the
** library (not part of the SQLAlchemy surface, hence the underscore). */
static int l_raise(lua_State *L) {
  rt_errkind kind = rt_errkind_byname(luaL_checkstring(L, 1));
  if (kind == RT_OK) kind = RT_ESQLALCHEMY;
  lua_settop(L, 2);
  return rt_lua_error(L, kind, "%s", luaL_checkstring(L, 2));
}

/* sa.exc.<Kind>: class tables usable with err:isa(sa.exc.IntegrityError). */
void rt_lua_open_error(lua_State *L) {
  int k;
  push_errmt(L);
  lua_pop(L, 1);
  lua_createtable(L, 0, RT_ERRKIND_COUNT);
  for (k = 1; k < RT_ERRKIND_COUNT; k++) {
    const char *name = rt_errkind_name((rt_errkind)k);
    lua_getfield(L, -1, name);
    if (lua_isnil(L, -1)) {
      rt_errkind parent = rt_errkind_parent((rt_errkind)k);
      lua_pop(L, 1);
      lua_createtable(L, 0, 2);
      lua_pushstring(L, name);
      lua_setfield(L, -2, "__name");
      if (parent != RT_OK) {
        lua_pushstring(L, rt_errkind_name(parent));
        lua_setfield(L, -2, "__base");
      }
      lua_setfield(L, -2, name);
    } else
      lua_pop(L, 1);
  }
  lua_setfield(L, -2, "exc");
  lua_pushcfunction(L, l_raise);
  lua_setfield(L, -2, "_raise");
}
