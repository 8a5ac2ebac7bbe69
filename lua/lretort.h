/*
** lretort.h -- what the Lua binding files share.
**
** The binding is a thin layer: each file wraps one core module as userdata
** with a metatable named "retort.<Type>".  Errors from the core arrive as an
** rt_error and leave through rt_lua_raise, which frees the C message before
** longjmp-ing, so nothing leaks.
*/
#ifndef LRETORT_H
#define LRETORT_H

#include <lauxlib.h>
#include <lua.h>

#include "core/error.h"
#include "core/value.h"

#define RT_VERSION "0.1.0"

/* Raise `err` as a retort error object (frees err's message). */
int rt_lua_raise(lua_State *L, rt_error *err);
/* Raise a new error of `kind` with a formatted message. */
int rt_lua_error(lua_State *L, rt_errkind kind, const char *fmt, ...);
/* Push an error object without raising it. */
void rt_lua_pusherror(lua_State *L, rt_error *err);
/* Attach sql and params (the value at params_idx, 0 for none) to the error
** object on top of the stack. */
void rt_lua_error_context(lua_State *L, const char *sql, int params_idx);
/* Raise `err` with sql/params context attached. */
int rt_lua_raise_sql(lua_State *L, rt_error *err, const char *sql,
                     int params_idx);

/* Lua value at idx -> rt_value.  Strings are borrowed from the Lua stack.
** `sa.null` and nil are NULL.  Returns 0, or -1 for an unsupported type. */
int rt_lua_tovalue(lua_State *L, int idx, rt_value *v);
void rt_lua_pushvalue(lua_State *L, const rt_value *v);
/* Push the `sa.null` sentinel; is the value at idx that sentinel? */
void rt_lua_pushnull(lua_State *L);
int rt_lua_isnull(lua_State *L, int idx);

/* Check that argument `arg` of function `fname` is of Lua type `t`; raise
** ArgumentError naming both otherwise. */
void rt_lua_checkarg(lua_State *L, int arg, int t, const char *fname);

/* Python-style repr of the value at idx, pushed as a string (rows print as
** SQLAlchemy's do: `(1, 'jack', None)`). */
void rt_lua_pushrepr(lua_State *L, int idx);

/* JSON text for the value at idx (Python json.dumps style), pushed; and
** the Lua value for JSON text (null inside containers becomes sa.null). */
void rt_lua_json_encode(lua_State *L, int idx);
void rt_lua_json_decode(lua_State *L, const char *s, size_t n);

/* Lua sources compiled in (scripts/embed_lua.py) */
extern const char rt_lua_src_reflect[];
extern const size_t rt_lua_len_reflect;
/* sources run one after the other (the Lua files of the ORM, orm/) */
struct rt_lua_chunk {
  const char *name;
  const char *src;
  size_t len;
};
extern const struct rt_lua_chunk rt_lua_chunks_orm[];

/* Module openers (each pushes a table of its public names, or fills the
** table on top of the stack). */
void rt_lua_open_error(lua_State *L);   /* fills: sa.exc */
void rt_lua_open_engine(lua_State *L);  /* fills: create_engine, ... */
void rt_lua_open_result(lua_State *L);  /* metatables only */
void rt_lua_open_inspect(lua_State *L); /* fills: inspect */
void rt_lua_open_orm(lua_State *L);     /* fills: declarative_base, ... */

int luaopen_retort(lua_State *L);
int luaopen_retort_orm(lua_State *L);

/* Set every public name of retort and retort.orm as a global (the shell
** does this); `sa` and `orm` themselves too. */
void rt_lua_setglobals(lua_State *L);

/*
** Connections and the results they own (lengine.c / lresult.c).  A result
** whose cursor is still open is linked into its connection's list, so
** closing the connection closes the cursor first.
*/
#include "core/engine.h"

typedef struct lresult lresult;

typedef struct lconn {
  rt_connection c;
  lresult *results; /* open results */
  int stream;       /* execution_options stream_results / yield_per */
  int yield_per;    /* rows per partition when streaming, or 0 */
} lconn;

/* The engine of an Engine userdata at idx, or NULL when it is not one (or
** was freed). */
rt_engine *rt_lua_toengine(lua_State *L, int idx);
/* The Connection userdata at idx, or NULL when it is not one. */
#define rt_lua_toconn(L, idx)                                                  \
  ((lconn *)luaL_testudata((L), (idx), "retort.Connection"))

/* A Result comes in two steps, because a cursor must never exist while
** something may raise and nothing owns it: push an empty Result before
** executing, then hand it the cursor (ownership passes at once).  The
** connection userdata is at conn_idx and stays referenced by the result. */
void rt_lua_newresult(lua_State *L);
void rt_lua_setresult(lua_State *L, int conn_idx, lconn *conn, rt_cursor *cur);
/* Push a Result that returns no rows, only a row count (executemany). */
void rt_lua_pushcountresult(lua_State *L, int conn_idx, int64_t rowcount);
/* Close every open result of a connection (before it closes). */
void rt_lua_close_results(lconn *conn);

/*
** Registry key of the compile hook the expression module (lsql.c) sets:
**   hook(stmt, dialect_name, params) -> sql, positional, binary
** params: nil, a map name -> value (one execution) or a list of maps
** (executemany; the first map's keys choose INSERT/UPDATE columns).
** positional: a list of values in placeholder order, or a list of such
** lists when params was a list of maps (or an INSERT whose Lua-function
** defaults were applied); NULL is sa.null.  Raises InvalidRequestError
** when a parameter without a value (text() bind, bindparam()) is not
** given.  binary: nil, or a string with 'b' at the position of each
** LargeBinary parameter (its strings are bytes) and '-' elsewhere.
*/
#define RT_COMPILE_HOOK "retort.compile_hook"
/* registry: the ORM's select()/update()/delete() of a class of an
** inheritance hierarchy */
#define RT_SELECT_HOOK "retort.select_hook"

/*
** Registry key of the same compile for C callers (conn:execute):
**   fn(stmt, dialect_name, params, out) -> sql, values, keeper, anchor
** out is a light userdata pointing to an rt_lua_exec it fills: the
** parameters of each execution, converted in one pass from the maps to a
** row-major rt_value array (the `values` userdata).  Its strings are
** borrowed from `keeper`, `anchor` (strings a map's __index made, or nil)
** and the statement; the caller keeps all four and the statement on the
** stack while it uses them.
*/
#define RT_COMPILE_EXEC "retort.compile_exec"

typedef struct rt_lua_exec {
  const char *sql;
  rt_value *vals;
  int nparams; /* values per execution */
  int nrows;   /* executions: > 1 is executemany */
} rt_lua_exec;
#endif
