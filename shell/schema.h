/*
** schema.h -- the shell's view of the database: the globals `session` and
** `db`, the commands \dt \dv \d \erd \c, and tab completion.
**
** The work is done by shell.lua (the Lua half, over the Inspector); these
** functions call it and print what it returns through the renderer.
*/
#ifndef RT_SCHEMA_H
#define RT_SCHEMA_H

#include <lua.h>

/* Load the Lua half (package.loaded["retort.shell"]).  0 or 1. */
int rt_schema_open(lua_State *L);
/* Set the globals `session` and `db` for the global `engine`.  0 or 1. */
int rt_schema_bind(lua_State *L);
/* Push the Lua half's function `name` (nil when there is none). */
void rt_schema_push(lua_State *L, const char *name);
/* Forget the reflected names of the current engine (after DDL). */
void rt_schema_refresh(lua_State *L);
/*
** Keep the background refresh (refresh.h) on the global `engine`, and put
** the names it read since the last call in completion's cache.  Called at
** each prompt and completion.
*/
void rt_schema_sync(lua_State *L);

int rt_cmd_tables(lua_State *L, const char *arg);    /* \dt */
int rt_cmd_views(lua_State *L, const char *arg);     /* \dv */
int rt_cmd_indexes(lua_State *L, const char *arg);   /* \di */
int rt_cmd_schemas(lua_State *L, const char *arg);   /* \dn */
int rt_cmd_databases(lua_State *L, const char *arg); /* \l */
int rt_cmd_functions(lua_State *L, const char *arg); /* \df */
int rt_cmd_describe(lua_State *L, const char *arg);  /* \d */
int rt_cmd_erd(lua_State *L, const char *arg);       /* \erd */
int rt_cmd_connect(lua_State *L, const char *arg);   /* \c */
int rt_cmd_conninfo(lua_State *L, const char *arg);  /* \conninfo */

/* Install readline's completion; `commands` names the backslash commands
** (NULL-terminated, kept). */
void rt_complete_init(lua_State *L, const char *const *commands);
/* The SQL statement the line being read continues (its lines so far,
** kept until the next call), or NULL when the line does not continue one:
** completion offers the columns of the tables it names. */
void rt_complete_set_sql(const char *before);

#endif
