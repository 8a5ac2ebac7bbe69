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

/* A Lua state with the allocator of lalloc.c (the retort binary's), and
** its closing, which frees the allocator's pool too. */
lua_State *rt_lua_newstate(void);
void rt_lua_closestate(lua_State *L);

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
/* Raise a StatementError wrapping an error of kind `orig` (SQLAlchemy's
** "(InvalidRequestError) A value is required ..."), with the statement's
** SQL and the parameters at params_idx (0: none). */
int rt_lua_statement_error(lua_State *L, rt_errkind orig, const char *sql,
                           int params_idx, const char *fmt, ...);
int rt_lua_raise_sql(lua_State *L, rt_error *err, const char *sql,
                     int params_idx);

/* Lua value at idx -> rt_value.  Strings are borrowed from the Lua stack.
** `sa.null` and nil are NULL.  Returns 0, or -1 for an unsupported type. */
int rt_lua_tovalue(lua_State *L, int idx, rt_value *v);
void rt_lua_pushvalue(lua_State *L, const rt_value *v);
/* Push v as a table can hold it: NULL as `sa.null`, not nil. */
void rt_lua_pushstored(lua_State *L, const rt_value *v);
/*
** A registry value read on every execution or fetch, kept under a
** light-userdata key and also at an integer key (luaL_ref), which is an
** array read where the other is a hash lookup.  The integer is the one the
** first state to set the slot got; once a state gets another, every state
** keeps to the light-userdata key.
*/
typedef struct rt_lua_slot {
  _Atomic int ref; /* 0: not set yet; -1: the states' keys differ */
} rt_lua_slot;

/* Push the slot's value (key: its light-userdata key); returns its type. */
int rt_lua_slot_get(lua_State *L, rt_lua_slot *s, const void *key);
/* Keep the value on top (popped) in the slot. */
void rt_lua_slot_set(lua_State *L, rt_lua_slot *s, const void *key);

/* Push the `sa.null` sentinel; is the value at idx that sentinel? */
void rt_lua_pushnull(lua_State *L);
int rt_lua_isnull(lua_State *L, int idx);

/* Check that argument `arg` of function `fname` is of Lua type `t`; raise
** ArgumentError naming both otherwise. */
void rt_lua_checkarg(lua_State *L, int arg, int t, const char *fname);

/* Python-style repr of the value at idx, pushed as a string (rows print as
** SQLAlchemy's do: `(1, 'jack', None)`). */
void rt_lua_pushrepr(lua_State *L, int idx);
/* Push a new table whose keys ("k") or values ("v") are weak. */
void rt_lua_newweaktable(lua_State *L, const char *mode);
/* Python's repr of the n bytes at s: a str's ('...'), or with bytes set
** a bytes object's (b'...', non-ASCII bytes escaped). */
void rt_lua_push_pyrepr(lua_State *L, const char *s, size_t n, int bytes);

/* JSON text for the value at idx (Python json.dumps style), pushed; and
** the Lua value for JSON text (null inside containers becomes sa.null). */
void rt_lua_json_encode(lua_State *L, int idx);
void rt_lua_json_decode(lua_State *L, const char *s, size_t n);

/*
** How a result column's value is converted on the way out (one byte per
** column), chosen from the statement's column types (rt_lua_result_conv)
** or else the driver's idea of the column (lresult.c).
*/
enum {
  RT_CONV_NONE = 0,
  RT_CONV_BOOL,        /* an integer 0/1 -> boolean */
  RT_CONV_JSON,        /* JSON text -> Lua value */
  RT_CONV_UUID,        /* 32 hex digits -> the dashed form */
  RT_CONV_FLOAT,       /* Numeric{asdecimal = false}: decimal text -> float */
  RT_CONV_ARRAY_TEXT,  /* PostgreSQL array text -> list of strings */
  RT_CONV_ARRAY_INT,   /* ... of integers */
  RT_CONV_ARRAY_FLOAT, /* ... of floats */
  RT_CONV_ARRAY_BOOL,  /* ... of booleans */
  RT_CONV_DATETIME,    /* ISO text -> Python's str() of a datetime */
  RT_CONV_TIME,        /* ... of a time */
  RT_CONV_INTERVAL,    /* interval or epoch DATETIME text -> timedelta */
  RT_CONV_INT,         /* an integer stays one (MySQL's TINYINT(1), which
                          the driver takes for a boolean) */
  RT_CONV_SET,         /* MySQL SET text "a,b" -> the set {a = true, ...} */
  RT_CONV_BYTES,       /* binary: the string as it is, shown as b'...' */
  RT_CONV_DECIMAL = 16 /* + scale: a float -> decimal text (SQLite) */
};
/* First byte of conversions matched by column name instead of position,
** followed by (conv byte, name, NUL) per column: text():columns{name = T}.
** No decimal scale reaches it. */
#define RT_CONV_BYNAME 255
struct rt_type;
int rt_lua_result_conv(const struct rt_type *t, int postgresql);

/* Processing by SQL type (ltypes.c).  bind_process replaces the value on
** top of the stack with what a column of rt_typekind `kind` stores. */
#define RT_BIND_NATIVE_UUID 1     /* the database has a uuid type */
#define RT_BIND_TIME_TEXT 2       /* DateTime/Time are text (SQLite) */
#define RT_BIND_NATIVE_INTERVAL 4 /* the database has INTERVAL */
#define RT_BIND_EXEC 8        /* at execution (not when a statement is built) */
#define RT_BIND_NAIVE_TIME 16 /* DateTime/Time take no offset (MySQL) */
void rt_lua_bind_process(lua_State *L, int kind, int flags);
/* what: 'd' DateTime, 't' Time */
void rt_lua_push_isotime(lua_State *L, const char *s, size_t n, int what);
void rt_lua_push_decimal(lua_State *L, double f, int scale);
void rt_lua_push_uuid(lua_State *L, const char *s, size_t n);
void rt_lua_push_pgarray(lua_State *L, const char *s, size_t n, int item);
/* Interval values: the bind on top processed (flags RT_BIND_*), a result
** text as a timedelta, and sa.timedelta set in the table on top. */
void rt_lua_interval_bind(lua_State *L, int flags);
/* The rt_sqltype a text parameter of a bind of type kind (RT_TY_*) is sent
** as (rt_value.sqltype): dates, times and intervals say theirs, so that an
** operator such as date + interval resolves on the server. */
unsigned char rt_lua_bind_sqltype(int kind);
void rt_lua_push_interval(lua_State *L, const char *s, size_t n);
void rt_lua_open_timedelta(lua_State *L);

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

/* What conn:execute remembers of the execution plan it used last (see
** lsql_exec_planned): the plan, which user value `uv` of the connection
** keeps alive, and what it was for. */
typedef struct rt_lua_plan_memo {
  int uv;
  void *plan;
  const void *stmt;
  uint64_t serial, epoch;
  const char *dialect;
  const unsigned char *conv; /* the plan's result conversions, or NULL */
  int nconv;
  int flags; /* how its parameters are processed (RT_BIND_*) */
} rt_lua_plan_memo;

/* The row metatable a connection's last result took (see
** rt_lua_setresult), which user value `uv` of the connection keeps
** alive: a result of the same shape and conversions takes it again. */
#define RT_LUA_ROWMT_MEMO_CONV 32
typedef struct rt_lua_rowmt_memo {
  int uv;
  int ncols, nsconv;
  const void *shape; /* NULL: nothing remembered */
  uint64_t shape_gen;
  const unsigned char *conv; /* lresult.conv for it (the metatable's key) */
  unsigned char sconv[RT_LUA_ROWMT_MEMO_CONV]; /* the statement's conv */
} rt_lua_rowmt_memo;

typedef struct lconn {
  rt_connection c;
  const void *tag;  /* lengine.c's mark of a Connection (see checkconn) */
  lresult *results; /* open results */
  int stream;       /* execution_options stream_results / yield_per */
  int yield_per;    /* rows per partition when streaming, or 0 */
  /* savepoints begun on this Connection: their names are
  ** sa_savepoint_<n>, never reused (as SQLAlchemy's) */
  int savepoint_seq;
  int commit_on_close;     /* engine:begin() without a function */
  const int *events;       /* its Engine's: listeners are set */
  const int *echo;         /* its Engine's echo: 2 is "debug" (rows too) */
  rt_lua_plan_memo plan;   /* the statement run last and its plan */
  rt_lua_rowmt_memo rowmt; /* the row metatable of its last result */
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
lresult *rt_lua_newresult(lua_State *L);
struct rt_node;
/* `r`: the Result rt_lua_newresult pushed, still on top of the stack.
** `conv`: RT_CONV_* per column from the statement (nconv bytes, NULL for
** none), borrowed for the call.  `stmt`: the statement executed, whose
** selected column objects then key its rows (row._mapping[col]), or NULL
** (SQL text, or rows the ORM reads by its own entities). */
void rt_lua_setresult(lua_State *L, lresult *r, int conn_idx, lconn *conn,
                      rt_cursor *cur, const unsigned char *conv, int nconv,
                      const struct rt_node *stmt);
/* Give the Result at ridx its inserted_primary_key from the compile's
** plan at `plan` (see exec_compile in lsql.c). */
void rt_lua_result_setpk(lua_State *L, int ridx, int plan);
/* Push a Result that returns no rows, only a row count (executemany). */
void rt_lua_pushcountresult(lua_State *L, int conn_idx, int64_t rowcount,
                            int64_t lastrowid);
/*
** Parameters that come from elsewhere than a Lua table (the ORM's flush
** reads them from its objects): push(L, p, r, j) pushes the value of
** parameter j (1-based) of row r (1-based), nrows rows of width values;
** push_table(L, p) pushes all of them as the flat list of values
** conn:_exec_compiled takes, only for the context of an error.
*/
typedef struct rt_lua_params rt_lua_params;
struct rt_lua_params {
  int nrows, width;
  int returning; /* an INSERT with RETURNING: an executemany's rows back */
  void (*push)(lua_State *L, rt_lua_params *p, int r, int j);
  void (*push_table)(lua_State *L, rt_lua_params *p);
  /* (may be NULL) when conn:_insert_each fails part way: the key of row
  ** r that was inserted before the failure, for each such row */
  void (*inserted)(lua_State *L, rt_lua_params *p, int r, int64_t id);
};
/* With the Connection at index 1: conn:_exec_compiled(sql, <p>, kinds,
** conv, p->width), pushing its Result; conn:_insert_each(sql, <p>,
** kinds, p->width), pushing the list of the generated keys.  Strings of
** the parameters are borrowed from where p reads them. */
int rt_lua_exec_params(lua_State *L, const char *sql, const char *kinds,
                       const unsigned char *conv, int nconv, rt_lua_params *p);
int rt_lua_insert_each_params(lua_State *L, const char *sql, const char *kinds,
                              rt_lua_params *p);
/* Close every open result of a connection (before it closes). */
void rt_lua_close_results(lconn *conn);
/* Before a connection closes, commits or rolls back: its open results
** keep their rows in memory where SQLAlchemy's would (lresult.c). */
void rt_lua_detach_results(lconn *conn);
/* Are the rows of the Result at idx an INSERT's implicit RETURNING (a
** PostgreSQL INSERT without returning())?  The shell shows such a Result
** as the object, not as an empty table of keys. */
int rt_lua_result_implicit(lua_State *L, int idx);
/* A ScalarResult at idx: push the Result it reads and return the 1-based
** column it yields (the shell prints it as a one-column table); for
** anything else return 0 and push nothing. */
int rt_lua_scalars_column(lua_State *L, int idx);
/* The driver's type of column i (0-based) of the Result at idx while its
** cursor is open, else RT_T_UNKNOWN: the shell aligns numbers by it. */
rt_sqltype rt_lua_result_coltype(lua_State *L, int idx, int i);

/* Is the value at idx a Row of a Core result? */
int rt_lua_isrow(lua_State *L, int idx);

/* A plain Result read row by row without Row tables (the ORM's loaders):
** the Result at idx, or NULL for anything else (or one with unique() on).
** rowsource_next steps to the next row (1), or finds none left (0, the
** cursor released), or raises as fetching a Row would; rowsource_push
** then pushes column i (0-based) of that row as a Row would hold it (nil
** for a column out of range). */
lresult *rt_lua_torowsource(lua_State *L, int idx);
int rt_lua_rowsource_ncols(const lresult *r);
int rt_lua_rowsource_next(lua_State *L, lresult *r);
void rt_lua_rowsource_push(lua_State *L, lresult *r, int i);
/* Column i of the row as rowsource_push gives it, when that is an integer
** (1, the value in *out); 0 for anything else (then push it).  A loader
** compares keys by it without making a Lua value. */
int rt_lua_rowsource_int(lresult *r, int i, int64_t *out);

/*
** Registry key of the compile hook the expression module (lsql.c) sets:
**   hook(stmt, dialect_name, params) -> sql, positional, kinds, conv
** params: nil, a map name -> value (one execution) or a list of maps
** (executemany; the first map's keys choose INSERT/UPDATE columns).
** positional: a list of values in placeholder order, or a list of such
** lists when params was a list of maps (or an INSERT whose Lua-function
** defaults were applied); NULL is sa.null.  The values are as given:
** conn:_exec_compiled(sql, rows, kinds, conv) processes them by type.
** Raises InvalidRequestError when a parameter without a value (text()
** bind, bindparam()) is not given.  kinds: nil, or a letter per parameter
** for the type of its bind: 'b' LargeBinary (its strings are bytes), 'j'
** JSON, 'u' Uuid, 'a' ARRAY, 't' DateTime, 'm' Time, 'i' Interval, 'd'
** Date, '-' others.  conv:
** nil, or the result columns' conversions (RT_CONV_* bytes).
*/
#define RT_COMPILE_HOOK "retort.compile_hook"
/* registry: the ORM's select()/update()/delete() of a class of an
** inheritance hierarchy */
#define RT_SELECT_HOOK "retort.select_hook"

/*
** Registry key of the same compile for C callers (conn:execute):
**   fn(stmt, dialect_name, params, out) -> sql, values, keeper, anchor, conv,
**                                            pkplan
** out is a light userdata pointing to an rt_lua_exec it fills: the
** parameters of each execution, converted in one pass from the maps to a
** row-major rt_value array (the `values` userdata).  Its strings are
** borrowed from `keeper`, `anchor` (strings a map's __index made, or nil)
** and the statement; the caller keeps all five and the statement on the
** stack while it uses them.  conv (a string or nil) is out->conv; pkplan
** (a table or nil) is for rt_lua_result_setpk.
*/
#define RT_COMPILE_EXEC "retort.compile_exec"

typedef struct rt_lua_exec {
  int echo;     /* in: the engine logs; fill `tag` */
  char tag[64]; /* out: "generated in 0.00012s", "cached since 3.1s ago" */
  const char *sql;
  const unsigned char *conv; /* result conversions (RT_CONV_*), or NULL */
  int nconv;
  rt_value *vals;
  int nparams; /* values per execution */
  int nrows;   /* executions: > 1 is executemany */
  /* for a dialect whose driver takes parameters by name (PostgreSQL's
  ** psycopg2 to SQLAlchemy): the compiled parameters, whose names a
  ** database error shows the values under; else NULL */
  const struct rt_param *names;
} rt_lua_exec;
#endif
