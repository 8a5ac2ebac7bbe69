/*
** lresult.c -- Result, ScalarResult, MappingResult and Row.
**
** A Result owns a driver cursor until it is exhausted or closed.  Rows are
** Lua tables holding the column values at 1..n, sharing one metatable per
** result that maps names to positions, so building a row is one table and
** n raw sets.  ScalarResult and MappingResult are views that pull rows from
** the Result they were made from.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lretort.h"
#include "core/dml.h"
#include "core/selectable.h"
#include "lsql.h"

#define RESULT_MT "retort.Result"
#define SCALAR_MT "retort.ScalarResult"
#define MAPPING_MT "retort.MappingResult"

enum { MODE_ROWS, MODE_SCALARS, MODE_MAPPINGS };

/*
** Conversions on the way out (API.md §1) when the statement gave no type
** for a column: by the driver's idea of it.  Booleans are Lua booleans on
** every dialect (SQLite and MySQL store them as integers), JSON is a Lua
** table.
*/
static unsigned char conv_for(rt_cursor *cur, int i) {
  const rt_driver *drv = cur->conn->drv;
  switch (drv->coltype(cur, i)) {
  case RT_T_BOOLEAN:
    return RT_CONV_BOOL;
  case RT_T_JSON:
    return RT_CONV_JSON;
  case RT_T_INTERVAL: /* a timedelta, as psycopg2 gives */
    return RT_CONV_INTERVAL;
  case RT_T_BLOB: /* bytes: the same string, but printed as b'...' */
    return RT_CONV_BYTES;
  case RT_T_ARRAY: /* PostgreSQL arrays are Lua lists, as psycopg2's */
    switch (drv->colitem ? drv->colitem(cur, i) : RT_T_TEXT) {
    case RT_T_INTEGER:
      return RT_CONV_ARRAY_INT;
    case RT_T_FLOAT:
      return RT_CONV_ARRAY_FLOAT;
    case RT_T_BOOLEAN:
      return RT_CONV_ARRAY_BOOL;
    default:
      return RT_CONV_ARRAY_TEXT;
    }
  default:
    return RT_CONV_NONE;
  }
}

struct lresult {
  const void *tag; /* &result_mark: tells a Result (see toresult) */
  rt_cursor *cur;  /* NULL once exhausted or closed */
  lconn *owner;    /* the connection whose list links us, or NULL */
  lresult *next, *prev;
  int ncols;
  int returns_rows;
  int implicit;  /* its rows are an INSERT's implicit RETURNING, not asked */
  int closed;    /* :close() was called (or the connection closed) */
  int many;      /* an executemany's (see rt_lua_pushcountresult) */
  int stream;    /* its rows come as read (stream_results, yield_per) */
  int echo_rows; /* echo="debug": each row read is logged */
  int64_t rowcount, lastrowid;
  /* per column: how to convert (RT_CONV_*); bytes of the row metatable's
  ** key, which uservalue 2 keeps alive */
  const unsigned char *conv;
  /* a Result over rows that are not a cursor's: RES_LIST reads the list of
  ** Rows in uservalue 5 (a FrozenResult's), RES_MERGE the rows of each
  ** Result in the list in uservalue 5 in turn (merge(); `pos` is the one
  ** read from), RES_COLUMNS takes the rows of
  ** the Result in uservalue 5 and keeps the columns listed in uservalue 6
  ** (columns()); `pos` is how many it has read */
  int derived;
  lua_Integer pos;
  lua_Integer yield_per; /* yield_per(n), or 0 */
};

enum { RES_CURSOR, RES_LIST, RES_COLUMNS, RES_MERGE };

/* lastrowid when the DBAPI's would be None */
#define LASTROWID_NONE INT64_MIN

typedef struct lview {
  int mode;
  int col; /* 1-based column for scalars */
} lview;

/* --- the connection's list of open results --- */

static void unlink_result(lresult *r) {
  if (r->owner == NULL) return;
  if (r->prev)
    r->prev->next = r->next;
  else
    r->owner->results = r->next;
  if (r->next) r->next->prev = r->prev;
  r->owner = NULL;
  r->next = r->prev = NULL;
}

static void release_cursor(lresult *r) {
  if (r->cur) {
    r->cur->conn->drv->cursor_close(r->cur);
    r->cur = NULL;
  }
  r->conv = NULL; /* it lives in the row metatable */
  unlink_result(r);
}

void rt_lua_close_results(lconn *conn) {
  while (conn->results) {
    lresult *r = conn->results;
    release_cursor(r);
    r->closed = 1;
  }
}

/*
** The connection is closing or ending its transaction.  A result the
** DBAPI would have buffered (all but streamed ones) keeps its remaining
** rows in memory and leaves the connection's list, readable as
** SQLAlchemy's stays; a streamed one, or one whose rows can't be read
** now, is closed.
*/
void rt_lua_detach_results(lconn *conn) {
  while (conn->results) {
    lresult *r = conn->results;
    rt_cursor *buf;
    rt_error err = RT_ERROR_INIT;
    if (!r->stream && r->cur && rt_cursor_buffer(r->cur, &buf, &err) == 0) {
      r->cur = buf;
      unlink_result(r);
      continue;
    }
    rt_error_clear(&err);
    release_cursor(r);
    r->closed = 1;
  }
}

/* --- rows --- */

/*
** row._fields: the names of the columns that have one.  A legacy ORM
** Query's column with no key (an unlabelled function or expression) is
** `false` in the positional list and left out here, as SQLAlchemy's
** Row._fields leaves out its None keys.
*/
static void push_fields(lua_State *L, int mt) {
  lua_Integer n, i, k = 0;
  lua_getfield(L, mt, "_fields");
  n = (lua_Integer)lua_rawlen(L, -1);
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -2, i) == LUA_TSTRING)
      lua_rawseti(L, -2, ++k);
    else
      lua_pop(L, 1);
  }
  lua_remove(L, -2);
}

static int row_asdict(lua_State *L);
static int row_tuple(lua_State *L);
static void drop_ambiguous(lua_State *L, int mt, int t);
static int ambiguous_error(lua_State *L, const char *name);
static int mapping_tostring(lua_State *L);

#define ROWMT_SIG 3 /* the objects its columns answer to: see stmt_sig */

/*
** A column object as a row key (a table's Column, a Label, a column of an
** alias or subquery, an expression): SQLAlchemy finds the result column
** whose compiled statement selected that very object, and no other: not
** the table's column behind an alias's, nor the column behind a label.
** The row metatable keeps those objects by their nodes' serials (never
** reused, so a freed node can't be mistaken for a new one), one uint64_t
** per column at [ROWMT_SIG]; the first column that selected the key
** answers, as a repeated column's second place has no objects of its own
** in SQLAlchemy.  Anything else (an ORM class, or an ORM attribute on a
** Connection's row) is not a column of it.  Positions found are kept in the
** metatable's __bycol (weak keys), made on the first such lookup: rows
** read by name or position pay nothing for it.
*/
static lua_Integer colkey_position(lua_State *L, int mt, int key) {
  lua_Integer pos = 0;
  int top = lua_gettop(L);
  rt_node *c;
  mt = lua_absindex(L, mt);
  key = lua_absindex(L, key);
  if (lua_getfield(L, mt, "__bycol") == LUA_TTABLE) {
    lua_pushvalue(L, key);
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
      pos = lua_tointeger(L, -1);
      lua_settop(L, top);
      return pos;
    }
  }
  lua_settop(L, top);
  c = lsql_tonodebox(L, key);
  /* an ORM attribute (User.name: a box labelled as a class attribute, see
  ** lsql_attribute) is not the column to SQLAlchemy's Connection rows,
  ** only to a Session's */
  if (c && lua_getiuservalue(L, key, 2) == LUA_TSTRING &&
      lua_getfield(L, mt, "__orm") != LUA_TBOOLEAN)
    c = NULL;
  lua_settop(L, top);
  if (c && lua_rawgeti(L, mt, ROWMT_SIG) == LUA_TSTRING) {
    size_t len, i;
    const char *sig = lua_tolstring(L, -1, &len);
    for (i = 0; i + sizeof(uint64_t) <= len && pos == 0;
         i += sizeof(uint64_t)) {
      uint64_t serial;
      memcpy(&serial, sig + i, sizeof serial);
      if (serial == c->serial) pos = (lua_Integer)(i / sizeof serial) + 1;
    }
  }
  lua_settop(L, top);
  if (pos == 0)
    return rt_lua_error(L, RT_ENOSUCHCOLUMN,
                        "Could not locate column in row for column '%s'",
                        luaL_tolstring(L, key, NULL));
  if (lua_getfield(L, mt, "__bycol") != LUA_TTABLE) {
    lua_pop(L, 1);
    rt_lua_newweaktable(L, "k");
    lua_pushvalue(L, -1);
    lua_setfield(L, mt, "__bycol");
  }
  lua_pushvalue(L, key);
  lua_pushinteger(L, pos);
  lua_rawset(L, -3);
  lua_settop(L, top);
  return pos;
}

/* A key that names a column by object: a node, or an object (a table with
** a metatable: an ORM attribute, class or alias) that is not one here. */
static int is_colkey(lua_State *L, int key) {
  int t = lua_type(L, key);
  if (t == LUA_TUSERDATA) return 1;
  if (t != LUA_TTABLE || !lua_getmetatable(L, key)) return 0;
  lua_pop(L, 1);
  return 1;
}

/* The value of the row at idx for the Column key at key. */
static int row_bycol(lua_State *L, int idx, int key) {
  lua_Integer pos;
  idx = lua_absindex(L, idx);
  lua_getmetatable(L, idx);
  pos = colkey_position(L, -1, key);
  lua_rawgeti(L, idx, pos);
  return 1;
}

static int mapping_call(lua_State *L) {
  lua_settop(L, 1);
  return 1;
}

/* A name row._mapping lacks: a NULL column's (nil), or no column at all,
** which raises NoSuchColumnError as SQLAlchemy's RowMapping does; the row
** (upvalue 1) knows which. */
static int mapping_index(lua_State *L) {
  if (is_colkey(L, 2)) return row_bycol(L, lua_upvalueindex(1), 2);
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  lua_settop(L, 2);
  lua_gettable(L, lua_upvalueindex(1));
  return 1;
}

static int row_attr(lua_State *L, int tuple) {
  lua_settop(L, 1);
  if (tuple) return row_tuple(L);
  row_asdict(L);
  lua_getmetatable(L, 1);
  drop_ambiguous(L, -1, -2);
  lua_pop(L, 1);
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "retort.RowMapping");
  lua_setfield(L, -2, "__name");
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "_fields");
  lua_setfield(L, -3, "_fields");
  lua_pop(L, 1);
  lua_pushcfunction(L, mapping_call);
  lua_setfield(L, -2, "__call");
  lua_pushcfunction(L, mapping_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_getmetatable(L, 1);
  lua_setfield(L, -2, "__rowmt");
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, mapping_index, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  return 1;
}

static int row_index(lua_State *L) {
  /* upvalue 1: name -> position; upvalue 2: the metatable */
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *k = lua_tostring(L, 2);
    int t = lua_rawget(L, lua_upvalueindex(1));
    if (t == LUA_TNUMBER) {
      lua_rawget(L, 1);
      return 1;
    }
    if (t == LUA_TBOOLEAN) return ambiguous_error(L, k);
    lua_pop(L, 1);
    if (k[0] == '_' || strcmp(k, "count") == 0 || strcmp(k, "index") == 0) {
      if (strcmp(k, "_fields") == 0) {
        push_fields(L, lua_upvalueindex(2));
        return 1;
      }
      /* row._mapping (a name -> value table, still callable as before) and
      ** row._t (the values as a list), SQLAlchemy's attributes */
      if (strcmp(k, "_mapping") == 0 || strcmp(k, "_t") == 0)
        return row_attr(L, k[1] == 't');
      lua_getfield(L, lua_upvalueindex(2), "__methods");
      lua_getfield(L, -1, k);
      if (!lua_isnil(L, -1)) return 1;
    }
    return rt_lua_error(L, RT_ENOSUCHCOLUMN,
                        "Could not locate column in row for column '%s'", k);
  }
  /* a Column: row[col] is SQLAlchemy 1.4's deprecated form of
  ** row._mapping[col], still answered */
  if (is_colkey(L, 2)) return row_bycol(L, 1, 2);
  lua_pushnil(L);
  return 1;
}

static const char ambiguous_mark = 0; /* (see mark_ambiguous) */

/*
** pairs(row) walks what the table held before names were cached in it:
** the values 1..n, then any key the program set itself.  Upvalue 1: name
** -> position; upvalue 2: n.
*/
static int row_is_cached(lua_State *L, int key, lua_Integer n) {
  int cached;
  if (lua_touserdata(L, key) == &ambiguous_mark) return 1;
  if (lua_isinteger(L, key)) {
    lua_Integer i = lua_tointeger(L, key);
    return i >= 1 && i <= n;
  }
  if (lua_type(L, key) != LUA_TSTRING) return 0;
  lua_pushvalue(L, key);
  cached = lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL;
  lua_pop(L, 1);
  return cached;
}

static int row_next(lua_State *L) {
  lua_Integer n = lua_tointeger(L, lua_upvalueindex(2)), i = 0;
  lua_settop(L, 2);
  if (lua_isnil(L, 2) ||
      (lua_isinteger(L, 2) && (i = lua_tointeger(L, 2)) >= 1 && i <= n)) {
    for (i++; i <= n; i++)
      if (lua_rawgeti(L, 1, i) != LUA_TNIL) {
        lua_pushinteger(L, i);
        lua_insert(L, -2);
        return 2;
      } else
        lua_pop(L, 1);
    lua_pushnil(L);
    lua_replace(L, 2);
  }
  while (lua_next(L, 1)) {
    if (!row_is_cached(L, 2, n)) return 2;
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  return 1;
}

static int row_pairs(lua_State *L) {
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__pairs_next");
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int row_len(lua_State *L) {
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__n");
  return 1;
}

/* The conversions of the row metatable at mt (its __rowkey's), or NULL
** for a row made otherwise; the key stays referenced by mt. */
static const unsigned char *rowmt_conv(lua_State *L, int mt, lua_Integer n) {
  size_t len;
  const char *key;
  lua_getfield(L, mt, "__rowkey");
  key = lua_tolstring(L, -1, &len);
  lua_pop(L, 1);
  if (!key || len < sizeof(int) + (size_t)n) return NULL;
  return (const unsigned char *)key + sizeof(int);
}

/* Replace the value on top by its Python repr: column i's text as bytes
** (b'...') where conv says so. */
static void value_repr(lua_State *L, const unsigned char *conv, lua_Integer i) {
  if (lua_type(L, -1) == LUA_TSTRING && conv && conv[i - 1] == RT_CONV_BYTES) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    rt_lua_push_pyrepr(L, s, len, 1);
  } else
    rt_lua_pushrepr(L, -1);
  lua_remove(L, -2);
}

static int row_tostring(lua_State *L) {
  lua_Integer n, i;
  int parts = 1;
  const unsigned char *conv;
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__n");
  n = lua_tointeger(L, -1);
  lua_settop(L, 2);
  conv = rowmt_conv(L, 2, n);
  lua_pushliteral(L, "(");
  for (i = 1; i <= n; i++) {
    if (i > 1) lua_pushliteral(L, ", "), parts++;
    lua_rawgeti(L, 1, i);
    value_repr(L, conv, i);
    parts++;
    if (parts > 40) lua_concat(L, parts), parts = 1;
  }
  lua_pushstring(L, n == 1 ? ",)" : ")");
  lua_concat(L, parts + 1);
  return 1;
}

/*
** tostring of a RowMapping (a MappingResult's item or row._mapping):
** SQLAlchemy's repr, a dict's, `{'x': 1, 'y': 'a'}`, in column order
** (the metatable's _fields); __rowmt is the rows' metatable, whose
** conversions tell bytes from text.
*/
/* Whether the name on top is also one of the first i-1 in the list at
** fields. */
static int seen_before(lua_State *L, int fields, lua_Integer i) {
  lua_Integer j;
  for (j = 1; j < i; j++) {
    int same;
    lua_rawgeti(L, fields, j);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 1);
    if (same) return 1;
  }
  return 0;
}

static int mapping_tostring(lua_State *L) {
  lua_Integer n, i;
  int parts = 1, first = 1;
  const unsigned char *conv;
  lua_settop(L, 1);
  lua_getmetatable(L, 1);        /* 2 */
  lua_getfield(L, 2, "_fields"); /* 3 */
  lua_getfield(L, 2, "__rowmt"); /* 4 */
  n = (lua_Integer)lua_rawlen(L, 3);
  conv = lua_istable(L, 4) ? rowmt_conv(L, 4, n) : NULL;
  lua_pushliteral(L, "{");
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 3, i) != LUA_TSTRING || seen_before(L, 3, i)) {
      lua_pop(L, 1); /* no key, or a repeated one: a dict has it once */
      continue;
    }
    if (!first) lua_pushliteral(L, ", "), lua_insert(L, -2), parts++;
    first = 0;
    rt_lua_pushrepr(L, -1);
    lua_pushliteral(L, ": ");
    lua_rotate(L, -3, 2); /* repr, ": ", name */
    lua_rawget(L, 1);
    value_repr(L, conv, i);
    parts += 3;
    if (parts > 40) lua_concat(L, parts), parts = 1;
  }
  lua_pushliteral(L, "}");
  lua_concat(L, parts + 1);
  return 1;
}

static int row_eq(lua_State *L) {
  lua_Integer n1, n2, i;
  n1 = luaL_len(L, 1);
  n2 = luaL_len(L, 2);
  if (n1 != n2) {
    lua_pushboolean(L, 0);
    return 1;
  }
  for (i = 1; i <= n1; i++) {
    lua_geti(L, 1, i);
    lua_geti(L, 2, i);
    if (!lua_compare(L, -1, -2, LUA_OPEQ)) {
      lua_pushboolean(L, 0);
      return 1;
    }
    lua_pop(L, 2);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* Rows order as tuples do: by the first differing value, then by
** length. */
static int row_order(lua_State *L, int or_equal) {
  lua_Integer n1 = luaL_len(L, 1), n2 = luaL_len(L, 2), i;
  for (i = 1; i <= n1 && i <= n2; i++) {
    lua_geti(L, 1, i);
    lua_geti(L, 2, i);
    if (!lua_compare(L, -2, -1, LUA_OPEQ)) {
      lua_pushboolean(L, lua_compare(L, -2, -1, LUA_OPLT));
      return 1;
    }
    lua_pop(L, 2);
  }
  lua_pushboolean(L, or_equal ? n1 <= n2 : n1 < n2);
  return 1;
}

static int row_lt(lua_State *L) {
  return row_order(L, 0);
}

static int row_le(lua_State *L) {
  return row_order(L, 1);
}

/* row:_asdict(): a name the statement repeats is ambiguous, as
** SQLAlchemy's reads each name of the row */
static int row_asdict_public(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getmetatable(L, 1);
  if (lua_getfield(L, 2, "__ambiguous") == LUA_TTABLE) {
    lua_Integer n, i;
    lua_getfield(L, 2, "_fields");
    n = (lua_Integer)lua_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
      if (lua_rawgeti(L, -1, i) == LUA_TSTRING) {
        lua_pushvalue(L, -1);
        if (lua_rawget(L, 3) != LUA_TNIL)
          return ambiguous_error(L, lua_tostring(L, -2));
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
  lua_settop(L, 1);
  return row_asdict(L);
}

static int row_asdict(lua_State *L) {
  lua_Integer n, i;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "_fields");
  n = (lua_Integer)lua_rawlen(L, -1);
  lua_createtable(L, 0, (int)n);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -2, i) != LUA_TSTRING) { /* no key: not mapped */
      lua_pop(L, 1);
      continue;
    }
    lua_rawgeti(L, 1, i);
    lua_rawset(L, -3);
  }
  return 1;
}

static int row_tuple(lua_State *L) {
  lua_Integer n = luaL_len(L, 1), i;
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    lua_rawseti(L, -2, i);
  }
  return 1;
}

/* The row's values, as the tuple methods see them: 1..__n. */
static lua_Integer row_n(lua_State *L) {
  lua_Integer n;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__n");
  n = lua_tointeger(L, -1);
  lua_pop(L, 2);
  return n;
}

/* row:count(value): how many of the row's values equal value */
static int row_count(lua_State *L) {
  lua_Integer n = row_n(L), i, count = 0;
  lua_settop(L, 2);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    if (lua_compare(L, -1, 2, LUA_OPEQ)) count++;
    lua_pop(L, 1);
  }
  lua_pushinteger(L, count);
  return 1;
}

/* row:index(value): the position of the first value equal to value;
** ValueError when there is none, as a tuple's index */
static int row_index_of(lua_State *L) {
  lua_Integer n = row_n(L), i;
  lua_settop(L, 2);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    if (lua_compare(L, -1, 2, LUA_OPEQ)) {
      lua_pushinteger(L, i);
      return 1;
    }
    lua_pop(L, 1);
  }
  return rt_lua_error(L, RT_EVALUE, "tuple.index(x): x not in tuple");
}

/*
** A Row also holds each value under its column's name, so that row.name is
** a plain table read: the values go in by the names of the metatable's
** field list (at [ROWMT_FIELDS], the strings made once per result), and
** the last of a repeated name wins, as in row_index.  A NULL is no entry:
** row_index answers it, as it answers every other key.
*/
#define ROWMT_FIELDS 1
#define ROWMT_MARK 2 /* &row_mark: tells a Row (rt_lua_isrow) */
/* (ROWMT_SIG 3: see colkey_position) */

static const char row_mark = 0;

int rt_lua_isrow(lua_State *L, int idx) {
  int is;
  if (!lua_getmetatable(L, idx)) return 0;
  is = lua_rawgeti(L, -1, ROWMT_MARK) == LUA_TLIGHTUSERDATA &&
       lua_touserdata(L, -1) == &row_mark;
  lua_pop(L, 2);
  return is;
}

/* Cache the first n values of the Row at `row` under their names, from
** the field list at `fields`. */
static void row_setnames(lua_State *L, int row, int fields, int n) {
  int i;
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, fields, i) != LUA_TSTRING) {
      lua_pop(L, 1);
      continue;
    }
    lua_rawgeti(L, row, i);
    lua_rawset(L, row);
  }
}

/* Give the table on top the Row metatable at `mt` (a stack index) and its
** names. */
static void row_finish(lua_State *L, int mt) {
  int row = lua_gettop(L);
  lua_Integer n;
  mt = lua_absindex(L, mt);
  lua_getfield(L, mt, "__n");
  n = lua_tointeger(L, -1);
  lua_rawgeti(L, mt, ROWMT_FIELDS);
  row_setnames(L, row, row + 2, (int)n);
  lua_settop(L, row);
  lua_pushvalue(L, mt);
  lua_setmetatable(L, row);
}

/* Build a row metatable for the column names in the list on top of the
** stack, which it replaces. */
static void make_rowmt_names(lua_State *L) {
  int i, mt, names, n = (int)lua_rawlen(L, -1);
  lua_createtable(L, 0, 10);
  lua_insert(L, -2);
  mt = lua_gettop(L) - 1;
  lua_pushinteger(L, n);
  lua_setfield(L, mt, "__n");
  lua_createtable(L, 0, n);
  names = lua_gettop(L);
  /* a name that repeats (raw SQL can repeat one) answers with its last
  ** column, as row._mapping does and SQLAlchemy's rows do */
  for (i = 0; i < n; i++) {
    if (lua_rawgeti(L, names - 1, i + 1) != LUA_TSTRING) {
      lua_pop(L, 1); /* a column with no key (false) */
      continue;
    }
    lua_pushinteger(L, i + 1);
    lua_rawset(L, names);
  }
  lua_pushvalue(L, names - 1);
  lua_setfield(L, mt, "_fields");
  lua_pushvalue(L, names - 1);
  lua_rawseti(L, mt, ROWMT_FIELDS);
  lua_pushlightuserdata(L, (void *)&row_mark);
  lua_rawseti(L, mt, ROWMT_MARK);
  lua_pushvalue(L, names);
  lua_pushinteger(L, n);
  lua_pushcclosure(L, row_next, 2); /* names, n */
  lua_setfield(L, mt, "__pairs_next");
  lua_pushcfunction(L, row_pairs);
  lua_setfield(L, mt, "__pairs");
  lua_pushvalue(L, mt);
  lua_pushcclosure(L, row_index, 2); /* names, mt */
  lua_setfield(L, mt, "__index");
  lua_pop(L, 1); /* fields list */
  lua_pushcfunction(L, row_len);
  lua_setfield(L, mt, "__len");
  lua_pushcfunction(L, row_tostring);
  lua_setfield(L, mt, "__tostring");
  lua_pushcfunction(L, row_eq);
  lua_setfield(L, mt, "__eq");
  lua_pushcfunction(L, row_lt);
  lua_setfield(L, mt, "__lt");
  lua_pushcfunction(L, row_le);
  lua_setfield(L, mt, "__le");
  lua_pushliteral(L, "retort.Row");
  lua_setfield(L, mt, "__name");
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, row_asdict_public);
  lua_setfield(L, -2, "_asdict");
  lua_pushcfunction(L, row_tuple);
  lua_setfield(L, -2, "_tuple");
  lua_pushcfunction(L, row_asdict);
  lua_setfield(L, -2, "_mapping");
  lua_pushcfunction(L, row_count);
  lua_setfield(L, -2, "count");
  lua_pushcfunction(L, row_index_of);
  lua_setfield(L, -2, "index");
  lua_setfield(L, mt, "__methods");
}

/*
** The row metatable on top is a compiled statement's: a name its columns
** repeat (select(t.c.name, t.c.id:label("name"))) is ambiguous, as
** SQLAlchemy reports when one is read by name (a row of SQL text answers
** its last column, as the DBAPI's description does).  Such a name is
** false in the name map, kept out of the rows (a copy of the field list
** at [ROWMT_FIELDS] with &ambiguous_mark there, a key pairs() skips) and
** listed in __ambiguous.
*/
static void mark_ambiguous(lua_State *L) {
  int mt = lua_gettop(L), fields, seen, amb, names, i, n, any = 0;
  lua_getfield(L, mt, "_fields");
  fields = mt + 1;
  n = (int)lua_rawlen(L, fields);
  lua_createtable(L, 0, n);
  seen = fields + 1;
  lua_newtable(L);
  amb = seen + 1;
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, fields, i) != LUA_TSTRING) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, seen) != LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, amb);
      any = 1;
    } else {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, seen);
    }
  }
  if (!any) {
    lua_settop(L, mt);
    return;
  }
  lua_getfield(L, mt, "__index");
  lua_getupvalue(L, -1, 1); /* the name map (row_next's too) */
  names = lua_gettop(L);
  lua_createtable(L, n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, fields, i);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      if (lua_rawget(L, amb) != LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 0);
        lua_rawset(L, names);
        lua_pop(L, 1);
        lua_pushlightuserdata(L, (void *)&ambiguous_mark);
      } else
        lua_pop(L, 1);
    }
    lua_rawseti(L, -2, i);
  }
  lua_rawseti(L, mt, ROWMT_FIELDS);
  lua_pushvalue(L, amb);
  lua_setfield(L, mt, "__ambiguous");
  /* a MappingResult item -> its row, for its column keys (see
  ** mappingitem_index) */
  rt_lua_newweaktable(L, "k");
  lua_setfield(L, mt, "__items");
  lua_settop(L, mt);
}

/* Drop the ambiguous names (see mark_ambiguous) of the row metatable at
** mt from the name -> value table at t. */
static void drop_ambiguous(lua_State *L, int mt, int t) {
  t = lua_absindex(L, t);
  if (lua_getfield(L, mt, "__ambiguous") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, t);
  }
  lua_pop(L, 1);
}

static int ambiguous_error(lua_State *L, const char *name) {
  return rt_lua_error(L, RT_EINVALIDREQUEST,
                      "Ambiguous column name '%s' in result set column "
                      "descriptions",
                      name);
}

/* The row metatable for the result's columns (uservalue 2). */
static void make_rowmt(lua_State *L, lresult *r) {
  int i;
  lua_createtable(L, r->ncols, 0);
  for (i = 0; i < r->ncols; i++) {
    lua_pushstring(L, r->cur->conn->drv->colname(r->cur, i));
    lua_rawseti(L, -2, i + 1);
  }
  make_rowmt_names(L);
}

/*
** Results with the same columns share one row metatable: executing one
** statement again and again builds it once.  The cache is a registry table
** with weak values, keyed by a string of the column count, the
** conversions (one byte each, which r->conv then points into) and the
** names.  The metatable keeps its key alive in __rowkey.  The last one used
** is also at [1] (its key) and [2], and is recognized in the buffer the key
** is built in, before any string is made.
*/
static const char rowmt_cache = 0;
static rt_lua_slot rowmt_slot;

/* The statement's conversion for result column i, named `name`: by
** position, or by name after RT_CONV_BYNAME. */
static unsigned char stmt_conv(const unsigned char *sconv, int nsconv, int i,
                               const char *name) {
  const unsigned char *p, *end;
  if (nsconv == 0 || sconv[0] != RT_CONV_BYNAME)
    return i < nsconv ? sconv[i] : RT_CONV_NONE;
  end = sconv + nsconv;
  for (p = sconv + 1; p < end;) {
    const char *n = (const char *)p + 1;
    size_t len = strnlen(n, (size_t)(end - p - 1));
    if (strcmp(n, name) == 0) return *p;
    p += len + 2;
  }
  return RT_CONV_NONE;
}

/*
** When the driver tells the cursor's shape (rt_cursor.shape), the cache
** also keeps at [3] the shape, its generation and the statement's own
** conversions that made the last metatable: a result of the same shape
** takes that metatable without asking the driver for its columns.
*/
static int same_shape(lua_State *L, int cache, const lresult *r,
                      const unsigned char *sconv, int nsconv) {
  const rt_cursor *cur = r->cur;
  size_t head = sizeof cur->shape + sizeof cur->shape_gen, mlen;
  const char *m;
  int same;
  if (cur->shape == NULL) return 0;
  lua_rawgeti(L, cache, 3);
  m = lua_tolstring(L, -1, &mlen);
  same = m && mlen == head + (size_t)nsconv &&
         memcmp(m, &cur->shape, sizeof cur->shape) == 0 &&
         memcmp(m + sizeof cur->shape, &cur->shape_gen,
                sizeof cur->shape_gen) == 0 &&
         (nsconv == 0 || memcmp(m + head, sconv, (size_t)nsconv) == 0);
  lua_pop(L, 1);
  return same;
}

static void set_shape(lua_State *L, int cache, const lresult *r,
                      const unsigned char *sconv, int nsconv) {
  const rt_cursor *cur = r->cur;
  luaL_Buffer b;
  if (cur->shape == NULL) {
    lua_pushnil(L);
  } else {
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, (const char *)&cur->shape, sizeof cur->shape);
    luaL_addlstring(&b, (const char *)&cur->shape_gen, sizeof cur->shape_gen);
    if (nsconv > 0) luaL_addlstring(&b, (const char *)sconv, (size_t)nsconv);
    luaL_pushresult(&b);
  }
  lua_rawseti(L, cache, 3);
}

static void push_rowmt(lua_State *L, lresult *r, const unsigned char *sconv,
                       int nsconv) {
  const rt_driver *drv = r->cur->conn->drv;
  luaL_Buffer b;
  const char *last;
  size_t lastlen;
  int cache, i;
  if (rt_lua_slot_get(L, &rowmt_slot, &rowmt_cache) != LUA_TTABLE) {
    lua_pop(L, 1);
    rt_lua_newweaktable(L, "v");
    lua_pushvalue(L, -1);
    rt_lua_slot_set(L, &rowmt_slot, &rowmt_cache);
  }
  cache = lua_gettop(L);
  if (same_shape(L, cache, r, sconv, nsconv)) {
    size_t klen;
    const char *key;
    int hit = lua_rawgeti(L, cache, 2) == LUA_TTABLE;
    lua_rawgeti(L, cache, 1);
    key = lua_tolstring(L, -1, &klen);
    if (hit && key && klen >= sizeof r->ncols &&
        memcmp(key, &r->ncols, sizeof r->ncols) == 0) {
      /* the key lives as long as the metatable (its __rowkey) */
      r->conv = (const unsigned char *)key + sizeof r->ncols;
      lua_pop(L, 1);
      lua_replace(L, cache);
      return;
    }
    lua_pop(L, 2);
  }
  /* [2] is weak: [1] is no use once the collector took it.  The last
  ** metatable stays on the stack while the key is built: building it may
  ** run the collector, which would take [2] from under a second read */
  last = NULL;
  lastlen = 0;
  if (lua_rawgeti(L, cache, 2) == LUA_TTABLE) {
    lua_rawgeti(L, cache, 1);
    last = lua_tolstring(L, -1, &lastlen);
  } else
    lua_pushnil(L); /* cache + 1, + 2: the last metatable and key, or nil */
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, (const char *)&r->ncols, sizeof r->ncols);
  for (i = 0; i < r->ncols; i++) {
    unsigned char sc = stmt_conv(sconv, nsconv, i, drv->colname(r->cur, i));
    luaL_addchar(&b, (char)(sc != RT_CONV_NONE ? sc : conv_for(r->cur, i)));
  }
  for (i = 0; i < r->ncols; i++) {
    luaL_addstring(&b, drv->colname(r->cur, i));
    luaL_addchar(&b, '\0');
  }
  if (last && luaL_bufflen(&b) == lastlen &&
      memcmp(luaL_buffaddr(&b), last, lastlen) == 0) {
    lua_settop(L, cache + 1);
    set_shape(L, cache, r, sconv, nsconv);
    r->conv = (const unsigned char *)last + sizeof r->ncols;
    lua_replace(L, cache);
    return;
  }
  luaL_pushresult(&b);
  lua_remove(L, cache + 1); /* the last metatable and key */
  lua_remove(L, cache + 1);
  lua_pushvalue(L, cache + 1);
  if (lua_rawget(L, cache) != LUA_TTABLE) {
    lua_pop(L, 1);
    make_rowmt(L, r);
    lua_pushvalue(L, cache + 1);
    lua_setfield(L, -2, "__rowkey");
    lua_pushvalue(L, cache + 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, cache);
  }
  /* the metatable's own key: a long key string is not interned, so the one
  ** made here may be another object */
  lua_getfield(L, -1, "__rowkey");
  r->conv = (const unsigned char *)lua_tostring(L, -1) + sizeof r->ncols;
  lua_rawseti(L, cache, 1);
  lua_pushvalue(L, -1);
  lua_rawseti(L, cache, 2);
  set_shape(L, cache, r, sconv, nsconv);
  lua_replace(L, cache);
  lua_settop(L, cache);
}

/*
** A connection remembers the row metatable of its last result (lconn.rowmt)
** by what push_rowmt tells it by: a statement run again and again finds it
** with a few comparisons instead of the cache's lookups.
*/
static int memo_rowmt(lua_State *L, int conn_idx, lconn *conn, lresult *r,
                      const unsigned char *sconv, int nsconv) {
  const rt_lua_rowmt_memo *m = &conn->rowmt;
  const rt_cursor *cur = r->cur;
  if (cur->shape == NULL || cur->shape != m->shape ||
      cur->shape_gen != m->shape_gen || r->ncols != m->ncols ||
      nsconv != m->nsconv ||
      (nsconv > 0 && memcmp(sconv, m->sconv, (size_t)nsconv) != 0))
    return 0;
  if (lua_getiuservalue(L, conn_idx, m->uv) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  r->conv = m->conv; /* the metatable, which the connection keeps, has it */
  return 1;
}

/* Remember the row metatable on top for the next result of conn. */
static void remember_rowmt(lua_State *L, int conn_idx, lconn *conn,
                           const lresult *r, const unsigned char *sconv,
                           int nsconv) {
  rt_lua_rowmt_memo *m = &conn->rowmt;
  if (r->cur->shape == NULL || nsconv > RT_LUA_ROWMT_MEMO_CONV) return;
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, conn_idx, m->uv);
  m->shape = r->cur->shape;
  m->shape_gen = r->cur->shape_gen;
  m->ncols = r->ncols;
  m->nsconv = nsconv;
  if (nsconv > 0) memcpy(m->sconv, sconv, (size_t)nsconv);
  m->conv = r->conv;
}

/* --- the column objects of a statement's rows --- */

/* The list of what a statement's result columns are made from, as its
** conversions are found (push_result_conv in lsql.c), or NULL: a
** compound's first SELECT's, a DML's RETURNING, text():columns()'s given
** in order (by name, SQLAlchemy keys them by columns made for them). */
static const rt_node *result_cols(const rt_node *s) {
  while (s && s->kind == RT_N_COMPOUND && s->kids[RT_S_COLUMNS]->n > 0)
    s = s->kids[RT_S_COLUMNS]->kids[0];
  if (!s) return NULL;
  switch (s->kind) {
  case RT_N_SELECT:
    return s->kids[RT_S_COLUMNS];
  case RT_N_INSERT:
  case RT_N_UPDATE:
  case RT_N_DELETE:
    return s->kids[RT_D_RETURNING];
  case RT_N_TEXT:
    return s->a && !(s->a->flags & RT_F_BYNAME) ? s->a : NULL;
  default:
    return NULL;
  }
}

/* Write the serials of the objects of result list e at buf[len..] (a
** table, alias or join stands for its columns); returns the new length,
** or -1 past cap. */
static int stmt_sig(const rt_node *e, uint64_t *buf, int len, int cap) {
  int i;
  if (len < 0 || e == NULL) return -1;
  if (e->kind == RT_N_JOIN) {
    len = stmt_sig(e->a, buf, len, cap);
    return stmt_sig(e->b, buf, len, cap);
  }
  if (e->kind == RT_N_TABLE || e->kind == RT_N_ALIAS || e->kind == RT_N_LIST) {
    for (i = 0; i < e->n && len >= 0; i++)
      len = stmt_sig(e->kids[i], buf, len, cap);
    return len;
  }
  if (len == cap) return -1;
  buf[len] = e->serial;
  return len + 1;
}

/* Whether the metatable at mt keys its columns by the n serials at sig
** (n 0: by none). */
static int same_sig(lua_State *L, int mt, const uint64_t *sig, int n) {
  size_t len;
  const char *have;
  int same;
  lua_rawgeti(L, mt, ROWMT_SIG);
  have = lua_tolstring(L, -1, &len);
  same = have ? len == (size_t)n * sizeof *sig && memcmp(have, sig, len) == 0
              : n == 0;
  lua_pop(L, 1);
  return same;
}

/*
** The row metatable on top is for the result's names and conversions; its
** rows must also answer to the statement's own column objects.  One made
** for another statement's (a fresh alias or label, or none: SQL text) is
** swapped for a sibling made from the same base metatable for these,
** which the base keeps in __bysig (weak values).  A statement run again,
** or rebuilt from the same columns, finds its own at once.
*/
static void fit_sig(lua_State *L, const lresult *r, const rt_node *stmt) {
  uint64_t few[32], *sig = few;
  const rt_node *cols = result_cols(stmt);
  int n = 0, mt = lua_gettop(L), base, bysig;
  if (cols) {
    if (r->ncols > (int)(sizeof few / sizeof few[0]))
      sig = lua_newuserdatauv(L, sizeof *sig * (size_t)r->ncols, 0);
    n = stmt_sig(cols, sig, 0, r->ncols);
    if (n != r->ncols) n = 0; /* not one object per column */
  }
  if (same_sig(L, mt, sig, n)) {
    lua_settop(L, mt);
    return;
  }
  if (lua_getfield(L, mt, "__base") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushvalue(L, mt);
  }
  base = lua_gettop(L);
  if (same_sig(L, base, sig, n)) {
    lua_replace(L, mt);
    lua_settop(L, mt);
    return;
  }
  if (lua_getfield(L, base, "__bysig") != LUA_TTABLE) {
    lua_pop(L, 1);
    rt_lua_newweaktable(L, "v");
    lua_pushvalue(L, -1);
    lua_setfield(L, base, "__bysig");
  }
  bysig = lua_gettop(L);
  lua_pushlstring(L, (const char *)sig, sizeof *sig * (size_t)n);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, bysig) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_rawgeti(L, base, ROWMT_FIELDS);
    make_rowmt_names(L);
    lua_getfield(L, base, "__rowkey"); /* r->conv points into it */
    lua_setfield(L, -2, "__rowkey");
    lua_pushvalue(L, base);
    lua_setfield(L, -2, "__base");
    if (n > 0) {
      lua_pushvalue(L, bysig + 1);
      lua_rawseti(L, -2, ROWMT_SIG);
      mark_ambiguous(L);
    }
    lua_pushvalue(L, bysig + 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, bysig);
  }
  lua_replace(L, mt);
  lua_settop(L, mt);
}

/* --- results --- */

/*
** The Result metatable carries &result_mark at [1] and is in the registry
** under that address too.  Every Result (a full userdata of an lresult's
** size, which only this file makes) holds the address in its tag: telling
** a Result, which every fetch does, needs no metatable.
*/
static const char result_mark = 0;
static rt_lua_slot result_slot;

static lresult *toresult(lua_State *L, int idx) {
  lresult *r;
  if (lua_type(L, idx) != LUA_TUSERDATA ||
      lua_rawlen(L, idx) != sizeof(lresult))
    return NULL;
  r = lua_touserdata(L, idx);
  return r->tag == &result_mark ? r : NULL;
}

static lresult *checkresult(lua_State *L, int idx) {
  lresult *r = toresult(L, idx);
  return r ? r : (lresult *)luaL_checkudata(L, idx, RESULT_MT);
}

static void set_resultmt(lua_State *L) {
  rt_lua_slot_get(L, &result_slot, &result_mark);
  lua_setmetatable(L, -2);
}

/*
** echo="debug" logs a result's column names ("Col") and each row read
** ("Row"), as SQLAlchemy's engine logger does at DEBUG, each value as its
** repr with the middle of one longer than 300 characters left out.
*/
static void echo_line(lua_State *L, const char *what) {
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  printf("DEBUG retort.engine.Engine %s ", what);
  fwrite(s, 1, n, stdout);
  putchar('\n');
  fflush(stdout);
  lua_pop(L, 1);
}

/* Replace the repr on top by its SQLAlchemy-truncated form. */
static void truncate_repr(lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  if (n <= 300) return;
  lua_pushlstring(L, s, 150);
  lua_pushfstring(L, " ... (%d characters truncated) ... ", (int)(n - 300));
  lua_pushlstring(L, s + n - 150, 150);
  lua_concat(L, 3);
  lua_remove(L, -2);
}

/* Join the n reprs on top into a tuple's repr, which replaces them. */
static void concat_tuple(lua_State *L, int n) {
  int i, base = lua_gettop(L) - n;
  luaL_Buffer b;
  luaL_checkstack(L, 4, NULL);
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '(');
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addstring(&b, ", ");
    lua_pushvalue(L, base + i);
    luaL_addvalue(&b);
  }
  luaL_addstring(&b, n == 1 ? ",)" : ")");
  luaL_pushresult(&b);
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
}

static void echo_columns(lua_State *L, rt_cursor *cur) {
  int i;
  luaL_checkstack(L, cur->ncols + 4, NULL);
  for (i = 0; i < cur->ncols; i++) {
    const char *name = cur->conn->drv->colname(cur, i);
    lua_pushstring(L, name ? name : "");
    rt_lua_pushrepr(L, -1);
    lua_remove(L, -2);
  }
  concat_tuple(L, cur->ncols);
  echo_line(L, "Col");
}

static void push_col(lua_State *L, lresult *r, int i);

/* Log the row just stepped to. */
static void echo_row(lua_State *L, lresult *r) {
  int i;
  luaL_checkstack(L, r->ncols + 4, NULL);
  for (i = 0; i < r->ncols; i++) {
    push_col(L, r, i);
    value_repr(L, r->conv, i + 1);
    truncate_repr(L);
  }
  concat_tuple(L, r->ncols);
  echo_line(L, "Row");
}

lresult *rt_lua_newresult(lua_State *L) {
  lresult *r = lua_newuserdatauv(L, sizeof *r, 5);
  memset(r, 0, sizeof *r);
  r->tag = &result_mark;
  set_resultmt(L);
  return r;
}

/*
** The row metatable on top was fitted to the statement's columns (a
** sibling of the one push_rowmt gave).  It becomes the cache's last one,
** so that the next result of the same shape (the same statement run on
** another connection: a new Session's) is given it and fits at once.
*/
static void keep_fitted_rowmt(lua_State *L) {
  if (rt_lua_slot_get(L, &rowmt_slot, &rowmt_cache) == LUA_TTABLE) {
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 2);
  }
  lua_pop(L, 1);
}

void rt_lua_setresult(lua_State *L, lresult *r, int conn_idx, lconn *conn,
                      rt_cursor *cur, const unsigned char *conv, int nconv,
                      const rt_node *stmt) {
  conn_idx = lua_absindex(L, conn_idx);
  /* owned from here on: whatever raises below, __gc closes the cursor */
  r->cur = cur;
  r->ncols = cur->ncols;
  r->returns_rows = cur->ncols > 0;
  r->rowcount = cur->rowcount;
  r->lastrowid = cur->lastrowid;
  /* pysqlite has no server-side cursor: its "streamed" rows outlive the
  ** connection like any others */
  r->stream = conn->stream && strcmp(cur->conn->drv->name, "sqlite") != 0;
  lua_pushvalue(L, conn_idx);
  lua_setiuservalue(L, -2, 1);
  if (!r->returns_rows) {
    release_cursor(r);
    return;
  }
  if (conn->echo && *conn->echo == 2) {
    r->echo_rows = 1;
    echo_columns(L, cur);
  }
  r->owner = conn;
  r->next = conn->results;
  if (conn->results) conn->results->prev = r;
  conn->results = r;
  if (!memo_rowmt(L, conn_idx, conn, r, conv, nconv)) {
    const void *was;
    push_rowmt(L, r, conv, nconv);
    was = lua_topointer(L, -1);
    fit_sig(L, r, stmt);
    if (lua_topointer(L, -1) != was) keep_fitted_rowmt(L);
    remember_rowmt(L, conn_idx, conn, r, conv, nconv);
  } else {
    const void *was = lua_topointer(L, -1);
    fit_sig(L, r, stmt);
    if (lua_topointer(L, -1) != was)
      remember_rowmt(L, conn_idx, conn, r, conv, nconv);
  }
  lua_setiuservalue(L, -2, 2);
}

void rt_lua_pushcountresult(lua_State *L, int conn_idx, int64_t rowcount,
                            int64_t lastrowid) {
  lresult *r;
  conn_idx = lua_absindex(L, conn_idx);
  r = lua_newuserdatauv(L, sizeof *r, 5);
  memset(r, 0, sizeof *r);
  r->tag = &result_mark;
  set_resultmt(L);
  r->rowcount = rowcount;
  r->many = 1;
  r->lastrowid = lastrowid;
  /* pysqlite's executemany leaves lastrowid None; psycopg2's is 0 */
  if (strcmp(((lconn *)lua_touserdata(L, conn_idx))->c.engine->dialect,
             "sqlite") == 0)
    r->lastrowid = LASTROWID_NONE;
  lua_pushvalue(L, conn_idx);
  lua_setiuservalue(L, -2, 1);
}

/* A MySQL SET's text "a,b" as the Lua set {a = true, b = true} (empty
** members dropped, as SQLAlchemy's SET reads it). */
static void push_set(lua_State *L, const char *s, size_t n) {
  size_t i = 0;
  lua_newtable(L);
  while (i < n) {
    size_t j = i;
    while (j < n && s[j] != ',') j++;
    if (j > i) {
      lua_pushlstring(L, s + i, j - i);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
    i = j + 1;
  }
}

/* Push column value v converted as `conv` (RT_CONV_*) says; a value of
** another form than the conversion expects goes as it is. */
static void push_converted(lua_State *L, unsigned char conv,
                           const rt_value *v) {
  int text = v->type == RT_V_TEXT || v->type == RT_V_BLOB;
  switch (conv) {
  case RT_CONV_BOOL:
    if (v->type == RT_V_INT) {
      lua_pushboolean(L, v->u.i != 0);
      return;
    }
    break;
  case RT_CONV_JSON:
    if (text) {
      rt_lua_json_decode(L, v->u.s.p, v->u.s.n);
      return;
    }
    break;
  case RT_CONV_UUID:
    if (text) {
      rt_lua_push_uuid(L, v->u.s.p, v->u.s.n);
      return;
    }
    break;
  case RT_CONV_FLOAT:
    if (v->type == RT_V_INT) {
      lua_pushnumber(L, (lua_Number)v->u.i);
      return;
    }
    if (text) {
      lua_pushlstring(L, v->u.s.p, v->u.s.n);
      if (lua_stringtonumber(L, lua_tostring(L, -1))) {
        lua_pushnumber(L, lua_tonumber(L, -1));
        lua_replace(L, -3);
        lua_pop(L, 1);
      }
      return;
    }
    break;
  case RT_CONV_ARRAY_TEXT:
  case RT_CONV_ARRAY_INT:
  case RT_CONV_ARRAY_FLOAT:
  case RT_CONV_ARRAY_BOOL:
    if (text) {
      static const rt_sqltype item[] = {RT_T_TEXT, RT_T_INTEGER, RT_T_FLOAT,
                                        RT_T_BOOLEAN};
      rt_lua_push_pgarray(L, v->u.s.p, v->u.s.n,
                          item[conv - RT_CONV_ARRAY_TEXT]);
      return;
    }
    break;
  case RT_CONV_INTERVAL:
    if (text) {
      rt_lua_push_interval(L, v->u.s.p, v->u.s.n);
      return;
    }
    break;
  case RT_CONV_SET:
    if (text) {
      push_set(L, v->u.s.p, v->u.s.n);
      return;
    }
    break;
  case RT_CONV_DATETIME:
  case RT_CONV_TIME:
    if (text) {
      rt_lua_push_isotime(L, v->u.s.p, v->u.s.n,
                          conv == RT_CONV_TIME ? 't' : 'd');
      return;
    }
    break;
  default:
    if (conv >= RT_CONV_DECIMAL && v->type == RT_V_FLOAT) {
      rt_lua_push_decimal(L, v->u.f, conv - RT_CONV_DECIMAL);
      return;
    }
    if (conv >= RT_CONV_DECIMAL && v->type == RT_V_INT) {
      rt_lua_push_decimal(L, (double)v->u.i, conv - RT_CONV_DECIMAL);
      return;
    }
  }
  rt_lua_pushvalue(L, v);
}

/* Push the next row of r (at idx) or return 0 at the end.  `mt` is the
** stack index of the row metatable when the caller holds it (a loop), or 0
** to take it from the result. */
/* Advance r's cursor: 1 with a row to read, 0 when none is left (the
** cursor released), raises on an error or a closed result. */
static int step_row(lua_State *L, lresult *r) {
  rt_error err = RT_ERROR_INIT;
  int rc;
  if (r->cur == NULL) {
    if (r->closed && r->returns_rows)
      return rt_lua_error(L, RT_ERESOURCECLOSED,
                          "This result object is closed.");
    if (!r->returns_rows)
      return rt_lua_error(L, RT_ERESOURCECLOSED,
                          "This result object does not return rows. It has "
                          "been closed automatically.");
    return 0;
  }
  rc = rt_connection_fetch(r->cur, &err);
  if (rc < 0) {
    release_cursor(r);
    return rt_lua_raise(L, &err);
  }
  if (rc == 0) {
    release_cursor(r);
    return 0;
  }
  if (r->echo_rows) echo_row(L, r);
  return 1;
}

/* Push column i (0-based) of the row just stepped to, as a Row holds it. */
static void push_col(lua_State *L, lresult *r, int i) {
  rt_value v;
  r->cur->conn->drv->column(r->cur, i, &v);
  if (r->conv && r->conv[i] != RT_CONV_NONE && v.type != RT_V_NULL)
    push_converted(L, r->conv[i], &v);
  else if (v.type == RT_V_TEXT) /* the common kinds without a call */
    lua_pushlstring(L, v.u.s.p, v.u.s.n);
  else if (v.type == RT_V_INT)
    lua_pushinteger(L, (lua_Integer)v.u.i);
  else
    rt_lua_pushvalue(L, &v);
}

static int next_item(lua_State *L, int idx);
static int res_all(lua_State *L);
static int next_derived(lua_State *L, int idx, lresult *r, int mt);

/*
** `mt` is the stack index of the row metatable when the caller holds it
** (a loop), with its field list at mt + 1, or 0 to take both from the
** result.  A single row (one(), first()) is read by name a time or two:
** filling in its names would cost more than the lookups through row_index
** save, so `names` 0 leaves them out.
*/
static int next_row_mt(lua_State *L, int idx, lresult *r, int mt, int names) {
  int i, fields, own = mt == 0;
  if (r->derived) return next_derived(L, idx, r, mt);
  if (!step_row(L, r)) return 0;
  if (own && !names) { /* a single row: its metatable last */
    lua_createtable(L, r->ncols, 0);
    for (i = 0; i < r->ncols; i++) {
      push_col(L, r, i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_getiuservalue(L, idx, 2);
    lua_setmetatable(L, -2);
    return 1;
  }
  if (own) {
    lua_getiuservalue(L, idx, 2);
    if (names) lua_rawgeti(L, -1, ROWMT_FIELDS);
    mt = lua_gettop(L) - names;
  }
  fields = mt + 1;
  lua_createtable(L, r->ncols, names ? r->ncols : 0);
  for (i = 0; i < r->ncols; i++) {
    push_col(L, r, i);
    if (names) {
      lua_rawgeti(L, fields, i + 1);
      lua_pushvalue(L, -2);
      lua_rawset(L, -4);
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
  if (own) { /* taken here: drop them */
    lua_replace(L, mt);
    lua_settop(L, mt);
  }
  return 1;
}

/* --- reading rows without Row tables (the ORM's loaders) --- */

lresult *rt_lua_torowsource(lua_State *L, int idx) {
  lresult *r = toresult(L, idx);
  if (!r || r->derived) return NULL;
  /* unique() filters rows by the Row tables: not a plain source */
  if (lua_getiuservalue(L, idx, 3) == LUA_TTABLE) r = NULL;
  lua_pop(L, 1);
  return r;
}

int rt_lua_rowsource_ncols(const lresult *r) {
  return r->ncols;
}

int rt_lua_rowsource_next(lua_State *L, lresult *r) {
  return step_row(L, r);
}

void rt_lua_rowsource_push(lua_State *L, lresult *r, int i) {
  if (r->cur && i >= 0 && i < r->ncols)
    push_col(L, r, i);
  else
    lua_pushnil(L);
}

int rt_lua_rowsource_int(lresult *r, int i, int64_t *out) {
  rt_value v;
  if (!r->cur || i < 0 || i >= r->ncols) return 0;
  if (r->conv && r->conv[i] != RT_CONV_NONE) return 0;
  r->cur->conn->drv->column(r->cur, i, &v);
  if (v.type != RT_V_INT) return 0;
  *out = v.u.i;
  return 1;
}

static int next_row(lua_State *L, int idx, lresult *r) {
  return next_row_mt(L, idx, r, 0, 1);
}

/* Null placeholders of values not given, in the first n values of the
** list at the top, become nil. */
static void nulls_to_nil(lua_State *L, int n) {
  int i;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (rt_lua_isnull(L, -1)) {
      lua_pushnil(L);
      lua_rawseti(L, -3, i);
    }
    lua_pop(L, 1);
  }
}

/*
** executemany's inserted_primary_key_rows from its plan at `plan`: the
** keys are kept flat (see push_pk_rows in lsql.c), and become one Row per
** parameter set the first time they are read; the list is kept in the
** plan as "list".
*/
static void push_pk_rows(lua_State *L, int plan) {
  lua_Integer rows, n, i, k;
  plan = lua_absindex(L, plan);
  if (lua_getfield(L, plan, "list") == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_getfield(L, plan, "rows");
  rows = lua_tointeger(L, -1);
  lua_getfield(L, plan, "n");
  n = lua_tointeger(L, -1);
  lua_pop(L, 2);
  lua_getfield(L, plan, "flat");
  lua_getfield(L, plan, "names");
  make_rowmt_names(L); /* one metatable: the rows have the same names */
  lua_createtable(L, (int)rows, 0);
  for (i = 0; i < rows; i++) {
    lua_createtable(L, (int)n, 0);
    for (k = 1; k <= n; k++)
      if (lua_rawgeti(L, -4, i * n + k) == LUA_TNIL)
        lua_pop(L, 1);
      else
        lua_rawseti(L, -2, k);
    row_finish(L, -3);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, plan, "list");
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/*
** inserted_primary_key (uservalue 4), from the plan the compile made at
** `plan`: {names = {...}, values = {...}, n = #names, autoinc = i} or
** {many = true}.  The generated key is the row of an implicit
** RETURNING (PostgreSQL), which is read here and is not the result's, or
** else the cursor's lastrowid.
*/
/* The position of field `name` in the Row at idx; 0 when it has none. */
static int row_field_pos(lua_State *L, int idx, const char *name) {
  int i, n, pos = 0;
  if (!name || !lua_getmetatable(L, idx)) return 0;
  if (lua_getfield(L, -1, "_fields") == LUA_TTABLE) {
    n = (int)lua_rawlen(L, -1);
    for (i = 1; i <= n && !pos; i++) {
      lua_rawgeti(L, -1, i);
      if (lua_type(L, -1) == LUA_TSTRING &&
          strcmp(lua_tostring(L, -1), name) == 0)
        pos = i;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
  return pos;
}

/* The key columns (plan's names) the Row at `row` holds go into the key
** row being made at `keys`; returns how many. */
static int keys_from_row(lua_State *L, int plan, int row, int keys) {
  int k, n, pos, found = 0;
  lua_getfield(L, plan, "n");
  n = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, plan, "names");
  for (k = 1; k <= n; k++) {
    lua_rawgeti(L, -1, k);
    if ((pos = row_field_pos(L, row, lua_tostring(L, -1))) > 0) {
      lua_rawgeti(L, row, pos);
      lua_rawseti(L, keys, k);
      found++;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return found;
}

/*
** return_defaults(): the implicit RETURNING row, read here and not the
** result's, becomes returned_defaults (uservalue 5); a database without
** RETURNING leaves it nil, as SQLAlchemy's.  An INSERT's keys the row
** holds go into the key row being made at `keys` (0: an UPDATE).
*/
static int take_returned_defaults(lua_State *L, int ridx, lresult *r, int plan,
                                  int keys) {
  if (!(r->returns_rows && r->cur)) return 0;
  if (next_row(L, ridx, r)) {
    if (keys) keys_from_row(L, plan, lua_gettop(L), keys);
    lua_setiuservalue(L, ridx, 5);
  }
  release_cursor(r);
  r->returns_rows = 0;
  r->ncols = 0;
  return 1;
}

void rt_lua_result_setpk(lua_State *L, int ridx, int plan) {
  lresult *r;
  int autoinc, n;
  ridx = lua_absindex(L, ridx);
  plan = lua_absindex(L, plan);
  r = toresult(L, ridx);
  if (!r || !lua_istable(L, plan)) return;
  if (lua_getfield(L, plan, "update") != LUA_TNIL) {
    lua_pop(L, 1);
    take_returned_defaults(L, ridx, r, plan, 0);
    return;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, plan, "many") != LUA_TNIL) {
    /* the Rows are made when first read (push_pk_rows) */
    lua_pop(L, 1);
    lua_pushvalue(L, plan);
    lua_setiuservalue(L, ridx, 4);
    return;
  }
  lua_pop(L, 1);
  lua_getfield(L, plan, "autoinc");
  autoinc = (int)lua_tointeger(L, -1);
  lua_getfield(L, plan, "values"); /* the row to be */
  lua_getfield(L, plan, "n");
  n = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, plan, "retdefaults") != LUA_TNIL &&
      take_returned_defaults(L, ridx, r, plan, lua_gettop(L) - 1))
    autoinc = 0; /* the keys came in the row */
  lua_pop(L, 1);
  if (r->returns_rows && r->cur) { /* an INSERT returns rows: implicitly */
    r->implicit = 1;
    /* the keys the database made (an autoincrement column, a server
    ** default): each by its name */
    if (next_row(L, ridx, r)) {
      int row = lua_gettop(L);
      if (!keys_from_row(L, plan, row, row - 1) && autoinc) {
        lua_rawgeti(L, row, 1); /* a column whose key is not its name */
        lua_rawseti(L, row - 1, autoinc);
      }
      /* the row RETURNING gave is also returned_defaults, as
      ** SQLAlchemy's (unless return_defaults() asked for its own) */
      if (lua_getiuservalue(L, ridx, 5) == LUA_TNIL) {
        lua_pushvalue(L, row);
        lua_setiuservalue(L, ridx, 5);
      }
      lua_pop(L, 2);
    } else if (autoinc) {
      lua_pushnil(L);
      lua_rawseti(L, -2, autoinc);
    }
    /* read: it stays a Result with rows (its keys, none left), as
    ** SQLAlchemy's does after taking the key from the cursor */
    release_cursor(r);
  } else {
    if (autoinc) {
      if (r->lastrowid)
        lua_pushinteger(L, r->lastrowid);
      else
        lua_pushnil(L);
      lua_rawseti(L, -2, autoinc);
    }
  }
  nulls_to_nil(L, n);
  lua_getfield(L, plan, "names");
  make_rowmt_names(L);
  lua_insert(L, -2);
  row_finish(L, -2);
  lua_remove(L, -2); /* the metatable */
  lua_setiuservalue(L, ridx, 4);
  lua_pop(L, 1); /* autoinc */
}

/*
** The metatable of a MappingResult's items, made once per row metatable
** (the Row at idx's) and kept in it: it names them retort.RowMapping and
** keeps the column order (_fields), which a plain table loses, for those
** who print them; lookups and pairs() stay a plain table's.
*/
/* A MappingResult item's lookup of a Column key (upvalue 1: the row
** metatable); any other key it lacks is nil, as a plain table's. */
static int mappingitem_index(lua_State *L) {
  lua_Integer pos;
  if (lua_type(L, 2) == LUA_TSTRING) {
    if (lua_getfield(L, lua_upvalueindex(1), "__ambiguous") == LUA_TTABLE) {
      lua_pushvalue(L, 2);
      if (lua_rawget(L, -2) != LUA_TNIL)
        return ambiguous_error(L, lua_tostring(L, 2));
    }
    return 0;
  }
  if (lua_type(L, 2) != LUA_TUSERDATA) return 0;
  pos = colkey_position(L, lua_upvalueindex(1), 2);
  if (lua_getfield(L, lua_upvalueindex(1), "__items") == LUA_TTABLE) {
    lua_pushvalue(L, 1);
    if (lua_rawget(L, -2) == LUA_TTABLE) { /* its row: by position */
      lua_rawgeti(L, -1, pos);
      return 1;
    }
  }
  lua_getfield(L, lua_upvalueindex(1), "_fields");
  lua_rawgeti(L, -1, pos);
  lua_rawget(L, 1);
  return 1;
}

static void push_mapping_mt(lua_State *L, int idx) {
  lua_getmetatable(L, idx);
  if (lua_getfield(L, -1, "__mapping") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "retort.RowMapping");
    lua_setfield(L, -2, "__name");
    lua_getfield(L, -2, "_fields");
    lua_setfield(L, -2, "_fields");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, mappingitem_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, mapping_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__rowmt");
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__mapping");
  }
  lua_remove(L, -2);
}

/* Turn the Row on top into the item a view v returns, in place. */
static void view_convert(lua_State *L, lview *v) {
  if (v->mode == MODE_SCALARS) {
    /* a NULL is the null sentinel here, as inside any list (API.md §0):
    ** a nil would end a for loop and leave a hole in all() */
    if (lua_rawgeti(L, -1, v->col) == LUA_TNIL) {
      lua_pop(L, 1);
      rt_lua_pushnull(L);
    }
    lua_remove(L, -2);
  } else if (v->mode == MODE_MAPPINGS) {
    lua_pushcfunction(L, row_asdict);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    lua_getmetatable(L, -2);
    drop_ambiguous(L, -1, -2);
    if (lua_getfield(L, -1, "__items") == LUA_TTABLE) {
      lua_pushvalue(L, -3);
      lua_pushvalue(L, -5);
      lua_rawset(L, -3);
    }
    lua_pop(L, 2);
    push_mapping_mt(L, -2);
    lua_setmetatable(L, -2);
    lua_remove(L, -2);
  }
}

/*
** A view (ScalarResult, MappingResult) or the Result itself at idx: push
** the next item, or return 0.  For views, the Result is uservalue 1.
*/
static int next_raw(lua_State *L, int idx) {
  lview *v;
  lresult *r;
  idx = lua_absindex(L, idx);
  if ((r = toresult(L, idx)) != NULL) return next_row(L, idx, r);
  v = lua_touserdata(L, idx);
  lua_getiuservalue(L, idx, 1);
  r = checkresult(L, -1);
  if (!next_row(L, lua_gettop(L), r)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_remove(L, -2);
  view_convert(L, v);
  return 1;
}

static lresult *base_result(lua_State *L, int idx);

/* Where a Result (uservalue 3) or a view (uservalue 2) keeps the keys it
** has returned once unique() is on. */
static int seen_uv(lua_State *L, int idx) {
  return toresult(L, idx) ? 3 : 2;
}

/*
** The identity of an item for unique(): scalars are their own key (tables,
** such as ORM objects, by identity); a row's key is built from its values
** with type tags, so 1, 1.0 and "1" differ as SQLAlchemy's do.
*/
static void push_unique_key(lua_State *L, int item) {
  lua_Integer n, i;
  luaL_Buffer b;
  item = lua_absindex(L, item);
  if (lua_isnil(L, item)) {
    rt_lua_pushnull(L);
    return;
  }
  if (!lua_istable(L, item) || luaL_getmetafield(L, item, "__n") == LUA_TNIL) {
    lua_pushvalue(L, item);
    return;
  }
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    size_t len;
    char tag;
    lua_rawgeti(L, item, i);
    switch (lua_type(L, -1)) {
    case LUA_TNIL:
      tag = 'n';
      lua_pop(L, 1);
      lua_pushliteral(L, "");
      break;
    case LUA_TNUMBER:
      tag = lua_isinteger(L, -1) ? 'i' : 'f';
      break;
    case LUA_TSTRING:
      tag = 's';
      break;
    case LUA_TBOOLEAN:
      tag = 'b';
      lua_pushstring(L, lua_toboolean(L, -1) ? "1" : "0");
      lua_remove(L, -2);
      break;
    default:
      tag = 'p';
      lua_pushfstring(L, "%p", lua_topointer(L, -1));
      lua_remove(L, -2);
    }
    lua_tolstring(L, -1, &len);
    lua_pushfstring(L, "%c%d:", tag, (int)len);
    lua_insert(L, -2);
    lua_concat(L, 2);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
}

/* The seen table's key for unique(strategy)'s function. */
static const char unique_strategy = 0;

/* The unique key of the item at `item`: the strategy's answer for it when
** the seen table has one (SQLAlchemy calls it with the Row, or with the
** value of a ScalarResult), else the item's own. */
static void push_item_key(lua_State *L, int item, int seen) {
  item = lua_absindex(L, item);
  if (lua_rawgetp(L, seen, &unique_strategy) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    push_unique_key(L, item);
    return;
  }
  lua_pushvalue(L, item);
  lua_call(L, 1, 1);
  push_unique_key(L, -1);
  lua_remove(L, -2);
}

/* Whether the item on top is new to the seen table (which then records
** it); an item seen before is popped. */
static int first_sighting(lua_State *L, int seen) {
  push_item_key(L, -1, seen);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, seen) != LUA_TNIL) {
    lua_pop(L, 3);
    return 0;
  }
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  lua_rawset(L, seen);
  return 1;
}

/* unique() on a MappingResult: a mapping's identity is its Row's values
** (SQLAlchemy keys it on the row), so the key is taken before converting. */
static int next_unique_mapping(lua_State *L, int idx, int seen) {
  lresult *r;
  int base;
  lua_getiuservalue(L, idx, 1);
  base = lua_gettop(L);
  r = checkresult(L, base);
  while (next_row(L, base, r)) {
    if (first_sighting(L, seen)) {
      view_convert(L, lua_touserdata(L, idx));
      lua_replace(L, seen);
      lua_settop(L, seen);
      return 1;
    }
  }
  lua_settop(L, seen - 1);
  return 0;
}

/* The next item, skipping ones already returned when unique() is on. */
static int next_item(lua_State *L, int idx) {
  int seen;
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, seen_uv(L, idx)) != LUA_TTABLE) {
    lua_pop(L, 1);
    return next_raw(L, idx);
  }
  seen = lua_gettop(L);
  if (!toresult(L, idx) &&
      ((lview *)lua_touserdata(L, idx))->mode == MODE_MAPPINGS)
    return next_unique_mapping(L, idx, seen);
  while (next_raw(L, idx)) {
    if (first_sighting(L, seen)) {
      lua_remove(L, seen);
      return 1;
    }
  }
  lua_remove(L, seen);
  return 0;
}

/* result:unique([strategy]): filter out items already returned, or
** whose strategy(item) was returned for one before; returns self. */
static int res_unique(lua_State *L) {
  base_result(L, 1);
  if (!lua_isnoneornil(L, 2)) rt_lua_checkarg(L, 2, LUA_TFUNCTION, "unique");
  lua_settop(L, 2);
  lua_newtable(L);
  if (!lua_isnil(L, 2)) {
    lua_pushvalue(L, 2);
    lua_rawsetp(L, -2, &unique_strategy);
  }
  lua_setiuservalue(L, 1, seen_uv(L, 1));
  lua_settop(L, 1);
  return 1;
}

/* --- results over rows read already (freeze(), columns()) --- */

static lresult *push_derived(lua_State *L, int kind, int ncols) {
  lresult *r = lua_newuserdatauv(L, sizeof *r, 6);
  memset(r, 0, sizeof *r);
  r->tag = &result_mark;
  set_resultmt(L);
  r->derived = kind;
  r->ncols = ncols;
  r->returns_rows = 1;
  return r;
}

/* The next row of a derived Result r at idx (see struct lresult). */
static int next_derived(lua_State *L, int idx, lresult *r, int mt) {
  int i, row;
  idx = lua_absindex(L, idx);
  if (mt) mt = lua_absindex(L, mt);
  if (r->closed)
    return rt_lua_error(L, RT_ERESOURCECLOSED, "This result object is closed.");
  lua_getiuservalue(L, idx, 5);
  if (r->derived == RES_LIST) {
    if (lua_rawgeti(L, -1, r->pos + 1) == LUA_TNIL) {
      lua_pop(L, 2);
      return 0;
    }
    r->pos++;
    lua_remove(L, -2);
    return 1;
  }
  if (r->derived == RES_MERGE) {
    for (;;) {
      if (lua_rawgeti(L, -1, r->pos + 1) == LUA_TNIL) {
        lua_pop(L, 2);
        return 0;
      }
      if (next_item(L, -1)) {
        lua_replace(L, -3);
        lua_pop(L, 1);
        return 1;
      }
      lua_pop(L, 1);
      r->pos++;
    }
  }
  if (!next_item(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  row = lua_gettop(L);
  lua_getiuservalue(L, idx, 6);
  lua_createtable(L, r->ncols, 0);
  for (i = 1; i <= r->ncols; i++) {
    lua_rawgeti(L, row + 1, i);
    lua_rawgeti(L, row, lua_tointeger(L, -1));
    lua_rawseti(L, -3, i);
    lua_pop(L, 1);
  }
  if (mt)
    lua_pushvalue(L, mt);
  else
    lua_getiuservalue(L, idx, 2);
  lua_insert(L, -2);
  row_finish(L, -2);
  lua_replace(L, row - 1);
  lua_settop(L, row - 1);
  r->pos++;
  return 1;
}

/* The 1-based position of result column `arg` (a position, a name, or a
** column object) among the names in the list at `fields`, the _fields of
** the row metatable at fields - 1. */
static lua_Integer column_position(lua_State *L, int arg, int fields) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, fields), i;
  const char *name;
  if (lua_type(L, arg) == LUA_TUSERDATA && lua_istable(L, fields - 1))
    return colkey_position(L, fields - 1, arg);
  if (lua_isinteger(L, arg)) {
    i = lua_tointeger(L, arg);
    if (i < 1 || i > n)
      return rt_lua_error(L, RT_EARGUMENT,
                          "columns: column index %d out of range (1..%d)",
                          (int)i, (int)n);
    return i;
  }
  if (lua_type(L, arg) == LUA_TSTRING)
    lua_pushvalue(L, arg);
  else
    lua_getfield(L, arg, "name");
  name = lua_tostring(L, -1);
  if (name == NULL)
    return rt_lua_error(L, RT_EARGUMENT,
                        "columns: expected a column name, position or "
                        "column, got %s",
                        luaL_typename(L, arg));
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, fields, i);
    if (lua_rawequal(L, -1, -2)) {
      lua_pop(L, 2);
      return i;
    }
    lua_pop(L, 1);
  }
  return rt_lua_error(L, RT_ENOSUCHCOLUMN,
                      "Could not locate column in row for column '%s'", name);
}

/* A Result of the rows of the one at 1 through the positions at idxs,
** under the names on top (consumed). */
static int columns_view(lua_State *L, int n, int idxs) {
  make_rowmt_names(L);
  push_derived(L, RES_COLUMNS, n);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 2);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 5);
  lua_pushvalue(L, idxs);
  lua_setiuservalue(L, -2, 6);
  return 1;
}

/* The rows of the columns() view at `view` keep the objects of the
** columns they took from the row metatable at mt (when it has them), at
** the positions listed at idxs. */
static void project_sig(lua_State *L, int view, int mt, int idxs, int n) {
  const char *sig;
  size_t len;
  luaL_Buffer b;
  int i, top = lua_gettop(L);
  if (!lua_istable(L, mt) || lua_rawgeti(L, mt, ROWMT_SIG) != LUA_TSTRING ||
      lua_getiuservalue(L, view, 2) != LUA_TTABLE) {
    lua_settop(L, top);
    return;
  }
  sig = lua_tolstring(L, top + 1, &len);
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    lua_Integer pos;
    lua_rawgeti(L, idxs, i);
    pos = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (pos < 1 || (size_t)pos * sizeof(uint64_t) > len) {
      lua_settop(L, top); /* (no object of its own: keyed by none) */
      return;
    }
    luaL_addlstring(&b, sig + (size_t)(pos - 1) * sizeof(uint64_t),
                    sizeof(uint64_t));
  }
  luaL_pushresult(&b);
  lua_rawseti(L, top + 2, ROWMT_SIG);
  lua_getfield(L, mt, "__orm");
  lua_setfield(L, top + 2, "__orm");
  lua_settop(L, top);
}

/*
** result:columns(...): a Result of those columns of this one's rows, in the
** given order.  It reads from this Result, so both advance together, as
** SQLAlchemy's share one cursor.
*/
static int res_columns(lua_State *L) {
  int n = lua_gettop(L) - 1, i, fields, idxs;
  checkresult(L, 1);
  if (lua_getiuservalue(L, 1, 2) == LUA_TTABLE)
    lua_getfield(L, -1, "_fields");
  else
    lua_newtable(L);
  fields = lua_gettop(L);
  lua_createtable(L, n, 0);
  idxs = fields + 1;
  lua_createtable(L, n, 0); /* the new names */
  for (i = 1; i <= n; i++) {
    lua_Integer pos = column_position(L, i + 1, fields);
    lua_pushinteger(L, pos);
    lua_rawseti(L, idxs, i);
    lua_rawgeti(L, fields, pos);
    lua_rawseti(L, idxs + 1, i);
  }
  columns_view(L, n, idxs);
  project_sig(L, lua_gettop(L), fields - 1, idxs, n);
  return 1;
}

/*
** result:_with_keys(names): a Result of the same rows keyed by `names`
** instead: a legacy ORM Query runs its columns labelled <table>_<column>
** and still gives rows keyed by the columns' own names, as SQLAlchemy's.
*/
static int res_with_keys(lua_State *L) {
  int n, i, idxs;
  checkresult(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  n = (int)lua_rawlen(L, 2);
  lua_createtable(L, n, 0);
  idxs = 3;
  lua_createtable(L, n, 0); /* the new names */
  for (i = 1; i <= n; i++) {
    lua_pushinteger(L, i);
    lua_rawseti(L, idxs, i);
    lua_rawgeti(L, 2, i);
    lua_rawseti(L, idxs + 1, i);
  }
  columns_view(L, n, idxs);
  lua_getiuservalue(L, 1, 2);
  project_sig(L, lua_gettop(L) - 1, lua_gettop(L), idxs, n);
  lua_pop(L, 1);
  return 1;
}

/*
** result:_orm_keys(): the Session's Result of columns: its rows answer to
** the ORM attributes selected too (row._mapping[User.name]), as
** SQLAlchemy's ORM rows do and its Connection's don't.  The row metatable
** becomes its sibling for that (see fit_sig), kept in the base's __bysig
** under the objects' key and a mark.
*/
static int res_orm_keys(lua_State *L) {
  int mt, base;
  checkresult(L, 1);
  lua_settop(L, 1);
  if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE) return 0;
  mt = 2;
  if (lua_getfield(L, mt, "__orm") == LUA_TBOOLEAN) return 0;
  lua_pop(L, 1);
  if (lua_getfield(L, mt, "__base") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushvalue(L, mt);
  }
  base = 3;
  if (lua_getfield(L, base, "__bysig") != LUA_TTABLE) {
    lua_pop(L, 1);
    rt_lua_newweaktable(L, "v");
    lua_pushvalue(L, -1);
    lua_setfield(L, base, "__bysig");
  }
  if (lua_rawgeti(L, mt, ROWMT_SIG) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "");
  }
  lua_pushliteral(L, "orm"); /* (never a whole number of serials) */
  lua_concat(L, 2);          /* 5: the key */
  lua_pushvalue(L, 5);
  if (lua_rawget(L, 4) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_rawgeti(L, base, ROWMT_FIELDS);
    make_rowmt_names(L);
    lua_getfield(L, base, "__rowkey");
    lua_setfield(L, -2, "__rowkey");
    lua_pushvalue(L, base);
    lua_setfield(L, -2, "__base");
    lua_rawgeti(L, mt, ROWMT_SIG);
    lua_rawseti(L, -2, ROWMT_SIG);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "__orm");
    if (lua_rawgeti(L, -1, ROWMT_SIG) == LUA_TSTRING) {
      lua_pop(L, 1);
      mark_ambiguous(L);
    } else
      lua_pop(L, 1);
    lua_pushvalue(L, 5);
    lua_pushvalue(L, -2);
    lua_rawset(L, 4);
  }
  lua_setiuservalue(L, 1, 2);
  return 0;
}

/* result:tuples() and result.t: rows are already tuple-like (2.0's
** typing-only names), so the Result itself. */
static int res_self(lua_State *L) {
  checkresult(L, 1);
  lua_settop(L, 1);
  return 1;
}

/* result:yield_per(n): the rows to buffer per fetch, which is also
** partitions()'s default size; the Result itself. */
static int set_yield_per(lua_State *L, lresult *r) {
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 1)
    return rt_lua_error(L, RT_EARGUMENT, "yield_per: size must be positive");
  r->yield_per = n;
  lua_settop(L, 1);
  return 1;
}

static int res_yield_per(lua_State *L) {
  return set_yield_per(L, checkresult(L, 1));
}

#define FROZEN_MT "retort.FrozenResult"

/* result:freeze(): the remaining rows, kept; a FrozenResult whose call
** gives a new Result of the same rows each time. */
static int res_freeze(lua_State *L) {
  checkresult(L, 1);
  lua_settop(L, 1);
  res_all(L); /* 2: the rows */
  lua_newuserdatauv(L, 1, 3);
  luaL_setmetatable(L, FROZEN_MT);
  lua_insert(L, 2);
  lua_setiuservalue(L, 2, 1);
  if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    make_rowmt_names(L);
  }
  lua_setiuservalue(L, 2, 2);
  lua_getiuservalue(L, 1, 1);
  lua_setiuservalue(L, 2, 3);
  return 1;
}

static int frozen_call(lua_State *L) {
  lresult *r;
  luaL_checkudata(L, 1, FROZEN_MT);
  lua_getiuservalue(L, 1, 1);
  r = push_derived(L, RES_LIST, 0);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 5);
  lua_getiuservalue(L, 1, 2);
  lua_getfield(L, -1, "__n");
  r->ncols = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  lua_setiuservalue(L, -2, 2);
  lua_getiuservalue(L, 1, 3);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* The number of columns of a FrozenResult's rows. */
static lua_Integer frozen_ncols(lua_State *L, int idx) {
  lua_Integer n;
  lua_getiuservalue(L, idx, 2);
  lua_getfield(L, -1, "__n");
  n = lua_tointeger(L, -1);
  lua_pop(L, 2);
  return n;
}

/* frozen:rewrite_rows(): the rows as plain lists of values, to edit and
** give to with_new_rows(). */
static int frozen_rewrite_rows(lua_State *L) {
  lua_Integer n, i, j, ncols;
  luaL_checkudata(L, 1, FROZEN_MT);
  ncols = frozen_ncols(L, 1);
  lua_getiuservalue(L, 1, 1);
  n = (lua_Integer)lua_rawlen(L, -1);
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    lua_createtable(L, (int)ncols, 0);
    for (j = 1; j <= ncols; j++) {
      lua_rawgeti(L, -2, j);
      lua_rawseti(L, -2, j);
    }
    lua_rawseti(L, -3, i);
    lua_pop(L, 1);
  }
  return 1;
}

/*
** frozen:with_new_rows(rows): a FrozenResult of the same columns whose
** rows are the given lists of values (sa.null, or a hole, for NULL); each
** becomes a Row of its own, the lists are left as they are.
*/
static int frozen_with_new_rows(lua_State *L) {
  lua_Integer n, i, j, ncols;
  luaL_checkudata(L, 1, FROZEN_MT);
  rt_lua_checkarg(L, 2, LUA_TTABLE, "with_new_rows");
  lua_settop(L, 2);
  ncols = frozen_ncols(L, 1);
  n = (lua_Integer)lua_rawlen(L, 2);
  lua_getiuservalue(L, 1, 2); /* 3: the row metatable */
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 2, i) != LUA_TTABLE)
      return rt_lua_error(L, RT_EARGUMENT,
                          "with_new_rows: row %d is a %s, not a list of "
                          "values",
                          (int)i, luaL_typename(L, -1));
    lua_createtable(L, (int)ncols, 0);
    for (j = 1; j <= ncols; j++) {
      lua_geti(L, -2, j); /* a Row of another result reads as a list too */
      if (rt_lua_isnull(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
      }
      lua_rawseti(L, -2, j);
    }
    row_finish(L, 3);
    lua_rawseti(L, 4, i);
    lua_pop(L, 1);
  }
  lua_newuserdatauv(L, 1, 3);
  luaL_setmetatable(L, FROZEN_MT);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, -2, 2);
  lua_getiuservalue(L, 1, 3);
  lua_setiuservalue(L, -2, 3);
  return 1;
}

/* frozen.data: a copy of the list of Rows; with_new_rows, rewrite_rows */
static int frozen_index(lua_State *L) {
  lua_Integer n, i;
  const char *k;
  luaL_checkudata(L, 1, FROZEN_MT);
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "with_new_rows") == 0) {
    lua_pushcfunction(L, frozen_with_new_rows);
    return 1;
  }
  if (strcmp(k, "rewrite_rows") == 0) {
    lua_pushcfunction(L, frozen_rewrite_rows);
    return 1;
  }
  if (strcmp(k, "data") != 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_getiuservalue(L, 1, 1);
  n = (lua_Integer)lua_rawlen(L, -1);
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    lua_rawseti(L, -2, i);
  }
  return 1;
}

static void new_frozenmt(lua_State *L) {
  luaL_newmetatable(L, FROZEN_MT);
  lua_pushcfunction(L, frozen_call);
  lua_setfield(L, -2, "__call");
  lua_pushcfunction(L, frozen_index);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

/*
** result:merge(...): a Result of this one's rows, then each other's in
** turn, read as they go (their columns are taken to be this one's).
*/
static int res_merge(lua_State *L) {
  int n = lua_gettop(L), i;
  lresult *r = checkresult(L, 1), *m;
  for (i = 2; i <= n; i++) checkresult(L, i);
  lua_createtable(L, n, 0);
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i);
  }
  m = push_derived(L, RES_MERGE, r->ncols);
  m->yield_per = r->yield_per;
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 5);
  lua_getiuservalue(L, 1, 2);
  lua_setiuservalue(L, -2, 2);
  lua_getiuservalue(L, 1, 1);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static lresult *base_result(lua_State *L, int idx) {
  lresult *r = toresult(L, idx);
  if (r) return r;
  if (!luaL_testudata(L, idx, SCALAR_MT) && !luaL_testudata(L, idx, MAPPING_MT))
    luaL_typeerror(L, idx, "Result");
  lua_getiuservalue(L, idx, 1);
  r = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return r;
}

static void push_base(lua_State *L, int idx);

static int res_close(lua_State *L) {
  lresult *r = base_result(L, 1);
  release_cursor(r);
  r->closed = 1;
  if (r->derived == RES_MERGE) { /* every Result it reads from */
    lua_Integer i;
    push_base(L, 1);
    lua_getiuservalue(L, -1, 5);
    for (i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
      lresult *src = lua_touserdata(L, -1);
      release_cursor(src);
      src->closed = 1;
      lua_pop(L, 1);
    }
    lua_pop(L, 3);
  }
  if (r->derived == RES_COLUMNS) { /* the Result it reads from, too */
    lresult *src;
    push_base(L, 1);
    lua_getiuservalue(L, -1, 5);
    src = lua_touserdata(L, -1);
    release_cursor(src);
    src->closed = 1;
    lua_pop(L, 2);
  }
  return 0;
}

static int res_gc(lua_State *L) {
  lresult *r = lua_touserdata(L, 1);
  release_cursor(r);
  return 0;
}

static int res_call(lua_State *L) {
  if (!next_item(L, 1)) lua_pushnil(L);
  return 1;
}

/*
** Rows of the plain Result r into the list at `list` (holding n rows), at
** most `limit` of them, with the row metatable at `mt`: the loop of all(),
** where a Row is one table filled by raw sets.  The column names are
** pushed once, above the stack's top on entry, so each name set copies a
** stack slot.  Returns the new length of the list; fewer than `limit`
** rows means the result is exhausted.
*/
static lua_Integer fill_rows(lua_State *L, lresult *r, int list, int mt,
                             lua_Integer n, lua_Integer limit) {
  int i, nc = r->ncols, names, top = lua_gettop(L);
  lua_Integer stop = n + limit;
  luaL_checkstack(L, nc + 8, NULL);
  lua_rawgeti(L, mt, ROWMT_FIELDS);
  names = top + 2;
  for (i = 1; i <= nc; i++) lua_rawgeti(L, names - 1, i);
  while (n < stop && step_row(L, r)) {
    lua_createtable(L, nc, nc);
    for (i = 0; i < nc; i++) {
      push_col(L, r, i);
      lua_pushvalue(L, names + i);
      lua_pushvalue(L, -2);
      lua_rawset(L, -4);
      lua_rawseti(L, -2, i + 1);
    }
    lua_pushvalue(L, mt);
    lua_setmetatable(L, -2);
    lua_rawseti(L, list, ++n);
  }
  lua_settop(L, top);
  return n;
}

/* The rest of the plain Result at 1 into the list at 2, with the row
** metatable at 3. */
static int fetch_rest(lua_State *L) {
  lresult *r = lua_touserdata(L, 1);
  fill_rows(L, r, 2, 3, (lua_Integer)lua_rawlen(L, 2), LUA_MAXINTEGER / 2);
  return 0;
}

/*
** Every row all() makes stays reachable from its list, so a collection
** cycle running meanwhile only marks the growing list again and again:
** for a long result the collector pauses until the list is complete (and
** resumes even when a fetch raises).  A short result never touches it:
** restarting the collector clears its debt, which ends the pause between
** cycles, so pausing it for every small all() (a get by primary key) kept
** a collection cycle always running.  It is left alone when the program
** stopped it.
*/
#define ALL_GC_FREE_ROWS 1024

static void fetch_all_rows(lua_State *L) {
  lresult *r = lua_touserdata(L, 1);
  lua_Integer n;
  int running, rc;
  lua_getiuservalue(L, 1, 2); /* 3: the row metatable */
  n = fill_rows(L, r, 2, 3, 0, ALL_GC_FREE_ROWS);
  if (n < ALL_GC_FREE_ROWS) {
    lua_settop(L, 2);
    return;
  }
  running = lua_gc(L, LUA_GCISRUNNING);
  lua_pushcfunction(L, fetch_rest);
  lua_insert(L, 3);
  lua_pushvalue(L, 1);
  lua_insert(L, 4);
  lua_pushvalue(L, 2);
  lua_insert(L, 5); /* fetch_rest, result, list, row metatable */
  if (running) lua_gc(L, LUA_GCSTOP);
  rc = lua_pcall(L, 3, 0, 0);
  if (running) lua_gc(L, LUA_GCRESTART);
  if (rc != LUA_OK) lua_error(L);
}

static int res_all(lua_State *L) {
  lua_Integer n = 0;
  lresult *r = toresult(L, 1);
  lua_settop(L, 1);
  lua_newtable(L);
  if (r && r->cur && lua_getiuservalue(L, 1, 3) != LUA_TTABLE) {
    /* the common case, a plain Result: fetch straight into the list with
    ** the row metatable at hand */
    lua_settop(L, 2);
    fetch_all_rows(L);
    return 1;
  }
  lua_settop(L, 2);
  while (next_item(L, 1)) lua_rawseti(L, 2, ++n);
  return 1;
}

static int res_fetchone(lua_State *L) {
  if (!next_item(L, 1)) lua_pushnil(L);
  return 1;
}

static int res_fetchmany(lua_State *L) {
  lua_Integer want = luaL_optinteger(L, 2, 1), n = 0;
  lua_settop(L, 1);
  lua_newtable(L);
  while (n < want && next_item(L, 1)) lua_rawseti(L, 2, ++n);
  return 1;
}

/* A single value taken from a scalars view: NULL is nil again, as
** SQLAlchemy's None, since nothing else shares the slot. */
static void null_to_nil(lua_State *L) {
  if (rt_lua_isnull(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
}

/*
** Is the Result at idx (or the one a view at idx reads) a cursor's whose
** rows have all been read?  first(), one() and scalar() then find no row
** and leave it open, as SQLAlchemy's: only a Result still holding its
** cursor is closed by them.
*/
static int exhausted(lua_State *L, int idx) {
  lresult *r = base_result(L, idx);
  return r->derived == RES_CURSOR && r->cur == NULL && !r->closed &&
         r->returns_rows;
}

/* res_close unless the Result was exhausted before the call (`keep`). */
static void close_unless(lua_State *L, int keep) {
  if (!keep) res_close(L);
}

static int res_first(lua_State *L) {
  int keep;
  lua_settop(L, 1);
  keep = exhausted(L, 1);
  if (!next_item(L, 1)) lua_pushnil(L);
  null_to_nil(L);
  close_unless(L, keep);
  return 1;
}

/* The Result at idx when it reads its cursor's rows as they come (not a
** view, a derived Result or one filtering with unique()), else NULL. */
static lresult *plain_result(lua_State *L, int idx) {
  lresult *r = toresult(L, idx);
  if (r == NULL || r->derived) return NULL;
  if (lua_getiuservalue(L, idx, 3) == LUA_TTABLE) r = NULL;
  lua_pop(L, 1);
  return r;
}

static int multiple_rows(lua_State *L, int allow_none) {
  res_close(L);
  return rt_lua_error(L, RT_EMULTIPLERESULTS,
                      allow_none ? "Multiple rows were found when one or "
                                   "none was required"
                                 : "Multiple rows were found when exactly "
                                   "one was required");
}

/* one() of a plain Result r at 1: only a second step is taken after the
** row (no Row made of it), and closing it is releasing its cursor. */
static int one_plain(lua_State *L, lresult *r, int allow_none) {
  int keep = exhausted(L, 1);
  if (!next_row_mt(L, 1, r, 0, 0)) {
    release_cursor(r);
    r->closed = !keep;
    if (allow_none) {
      lua_pushnil(L);
      return 1;
    }
    return rt_lua_error(L, RT_ENORESULT,
                        "No row was found when one was required");
  }
  if (step_row(L, r)) return multiple_rows(L, allow_none);
  release_cursor(r);
  r->closed = 1;
  return 1;
}

static int one_common(lua_State *L, int allow_none) {
  lresult *r = plain_result(L, 1);
  int more, keep;
  if (r) return one_plain(L, r, allow_none);
  lua_settop(L, 1);
  keep = exhausted(L, 1);
  if (!next_item(L, 1)) {
    close_unless(L, keep);
    if (allow_none) {
      lua_pushnil(L);
      return 1;
    }
    return rt_lua_error(L, RT_ENORESULT,
                        "No row was found when one was required");
  }
  if ((more = next_item(L, 1)) != 0) lua_pop(L, 1);
  if (more) return multiple_rows(L, allow_none);
  null_to_nil(L);
  res_close(L);
  return 1;
}

static int res_one(lua_State *L) {
  return one_common(L, 0);
}

static int res_one_or_none(lua_State *L) {
  return one_common(L, 1);
}

static void push_view(lua_State *L, int base_idx, int mode, int col) {
  lview *v;
  base_idx = lua_absindex(L, base_idx);
  v = lua_newuserdatauv(L, sizeof *v, 2);
  v->mode = mode;
  v->col = col;
  luaL_setmetatable(L, mode == MODE_SCALARS ? SCALAR_MT : MAPPING_MT);
  lua_pushvalue(L, base_idx);
  lua_setiuservalue(L, -2, 1);
  /* a view of a unique() Result stays unique, sharing its filter as
  ** SQLAlchemy's ScalarResult and MappingResult do */
  if (toresult(L, base_idx) && lua_getiuservalue(L, base_idx, 3) == LUA_TTABLE)
    lua_setiuservalue(L, -2, 2);
  else
    lua_pop(L, 1);
}

/* The Result underlying the value at idx, pushed. */
static void push_base(lua_State *L, int idx) {
  if (toresult(L, idx))
    lua_pushvalue(L, idx);
  else
    lua_getiuservalue(L, idx, 1);
}

rt_sqltype rt_lua_result_coltype(lua_State *L, int idx, int i) {
  lresult *r = luaL_testudata(L, idx, RESULT_MT);
  if (r == NULL || r->derived != RES_CURSOR || r->cur == NULL || i < 0 ||
      i >= r->ncols)
    return RT_T_UNKNOWN;
  return r->cur->conn->drv->coltype(r->cur, i);
}

int rt_lua_result_implicit(lua_State *L, int idx) {
  lresult *r = luaL_testudata(L, idx, RESULT_MT);
  return r != NULL && r->implicit;
}

int rt_lua_scalars_column(lua_State *L, int idx) {
  lview *v = luaL_testudata(L, idx, SCALAR_MT);
  if (v == NULL) return 0;
  lua_getiuservalue(L, idx, 1);
  return v->col;
}

static lua_Integer column_position(lua_State *L, int arg, int fields);

static int res_scalars(lua_State *L) {
  lresult *r = checkresult(L, 1);
  lua_Integer col;
  if (!lua_isnoneornil(L, 2) && !lua_isinteger(L, 2)) {
    /* scalars("name") or scalars(column): the column of that key */
    lua_settop(L, 2);
    if (lua_getiuservalue(L, 1, 2) == LUA_TTABLE)
      lua_getfield(L, -1, "_fields");
    else
      lua_newtable(L);
    col = column_position(L, 2, lua_gettop(L));
  } else
    col = luaL_optinteger(L, 2, 1);
  if (r->returns_rows && (col < 1 || col > r->ncols))
    return rt_lua_error(L, RT_EARGUMENT,
                        "scalars: column index %d out of range (1..%d)",
                        (int)col, r->ncols);
  push_view(L, 1, MODE_SCALARS, (int)col);
  return 1;
}

static int res_mappings(lua_State *L) {
  checkresult(L, 1);
  push_view(L, 1, MODE_MAPPINGS, 0);
  return 1;
}

/* mappings:columns(...): a MappingResult of those columns only, reading
** from the same Result. */
static int map_columns(lua_State *L) {
  luaL_checkudata(L, 1, MAPPING_MT);
  lua_getiuservalue(L, 1, 1);
  lua_replace(L, 1);
  res_columns(L);
  push_view(L, -1, MODE_MAPPINGS, 0);
  return 1;
}

/* scalars:yield_per(n), mappings:yield_per(n): set on the Result they
** read; the view itself. */
static int view_yield_per(lua_State *L) {
  return set_yield_per(L, base_result(L, 1));
}

static int res_scalar(lua_State *L) {
  int keep;
  checkresult(L, 1);
  lua_settop(L, 1);
  keep = exhausted(L, 1);
  if (next_item(L, 1))
    lua_rawgeti(L, 2, 1);
  else
    lua_pushnil(L);
  close_unless(L, keep); /* works on index 1, leaves the stack alone */
  return 1;
}

static int scalar_one_common(lua_State *L, int allow_none) {
  checkresult(L, 1);
  lua_settop(L, 1);
  push_view(L, 1, MODE_SCALARS, 1);
  lua_replace(L, 1);
  return one_common(L, allow_none);
}

static int res_scalar_one(lua_State *L) {
  return scalar_one_common(L, 0);
}

static int res_scalar_one_or_none(lua_State *L) {
  return scalar_one_common(L, 1);
}

static int partitions_iter(lua_State *L) {
  lua_Integer size = lua_tointeger(L, lua_upvalueindex(2)), n = 0;
  lua_newtable(L);
  while (n < size && next_item(L, lua_upvalueindex(1))) lua_rawseti(L, -2, ++n);
  if (n == 0) lua_pushnil(L);
  return 1;
}

/* The default partition size: the connection's yield_per, else 1 (the
** DBAPI's fetchmany default, as SQLAlchemy documents). */
static lua_Integer default_partition(lua_State *L, int idx) {
  lconn *c;
  lua_Integer n = 1;
  push_base(L, idx);
  lua_getiuservalue(L, -1, 1);
  c = luaL_testudata(L, -1, "retort.Connection");
  if (c && c->yield_per > 0) n = c->yield_per;
  if (((lresult *)lua_touserdata(L, -2))->yield_per > 0)
    n = ((lresult *)lua_touserdata(L, -2))->yield_per;
  lua_pop(L, 2);
  return n;
}

static int res_partitions(lua_State *L) {
  lua_Integer size =
      lua_isnoneornil(L, 2) ? default_partition(L, 1) : luaL_checkinteger(L, 2);
  if (size < 1)
    return rt_lua_error(L, RT_EARGUMENT, "partitions: size must be positive");
  lua_settop(L, 1);
  lua_pushinteger(L, size);
  lua_pushcclosure(L, partitions_iter, 2);
  return 1;
}

static int res_keys(lua_State *L) {
  lresult *r = base_result(L, 1);
  /* as SQLAlchemy's: a statement without rows has no keys to give */
  if (!r->returns_rows && !r->derived)
    return rt_lua_error(L, RT_ERESOURCECLOSED,
                        "This result object does not return rows. It has "
                        "been closed automatically.");
  push_base(L, 1);
  if (lua_getiuservalue(L, -1, 2) != LUA_TTABLE) {
    lua_newtable(L);
    return 1;
  }
  /* a copy, so callers cannot corrupt the rows' names */
  push_fields(L, lua_gettop(L));
  return 1;
}

/* upvalue 1: the methods, looked up first (what a call reads) */
static int res_index(lua_State *L) {
  lresult *r;
  const char *k;
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_settop(L, 2);
  r = base_result(L, 1);
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "rowcount") == 0)
    lua_pushinteger(L, r->rowcount);
  else if (strcmp(k, "lastrowid") == 0) {
    if (r->lastrowid == LASTROWID_NONE)
      lua_pushnil(L);
    else
      lua_pushinteger(L, r->lastrowid);
  } else if (strcmp(k, "returns_rows") == 0)
    lua_pushboolean(L, r->returns_rows);
  else if (strcmp(k, "returned_defaults") == 0 ||
           strcmp(k, "returned_defaults_rows") == 0) {
    int rows = k[17] == '_';
    /* the executemany check comes first, whatever the statement */
    if (r->many && !rows)
      return rt_lua_error(L, RT_EINVALIDREQUEST,
                          "This statement was an executemany call; if "
                          "return defaults is supported, please use "
                          ".returned_defaults_rows.");
    if (lua_getiuservalue(L, 1, 4) == LUA_TTABLE && !rows) {
      lua_pushliteral(L, "many");
      if (lua_rawget(L, -2) != LUA_TNIL)
        return rt_lua_error(L, RT_EINVALIDREQUEST,
                            "This statement was an executemany call; if "
                            "return defaults is supported, please use "
                            ".returned_defaults_rows.");
    }
    if (r->derived || lua_getiuservalue(L, 1, 5) != LUA_TTABLE)
      lua_pushnil(L);
    else if (rows) {
      lua_createtable(L, 1, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
    }
  } else if (strcmp(k, "inserted_primary_key") == 0) {
    if (r->many)
      return rt_lua_error(L, RT_EINVALIDREQUEST,
                          "This statement was an executemany call; if primary "
                          "key returning is supported, please use "
                          ".inserted_primary_key_rows.");
    lua_getiuservalue(L, 1, 4);
    if (!lua_istable(L, -1))
      return rt_lua_error(L, RT_EINVALIDREQUEST,
                          "Statement is not an insert() expression "
                          "construct.");
    lua_pushliteral(L, "many");
    if (lua_rawget(L, -2) != LUA_TNIL)
      return rt_lua_error(L, RT_EINVALIDREQUEST,
                          "This statement was an executemany call; if primary "
                          "key returning is supported, please use "
                          ".inserted_primary_key_rows.");
    lua_pop(L, 1);
  } else if (strcmp(k, "inserted_primary_key_rows") == 0) {
    if (lua_getiuservalue(L, 1, 4) != LUA_TTABLE)
      return rt_lua_error(L, RT_EINVALIDREQUEST,
                          "Statement is not an insert() expression "
                          "construct.");
    lua_pushliteral(L, "many");
    if (lua_rawget(L, -2) != LUA_TNIL) {
      push_pk_rows(L, -2);
      return 1;
    }
    lua_pop(L, 1);
    lua_createtable(L, 1, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
  } else if (strcmp(k, "is_insert") == 0) {
    /* true for an insert() construct's result (which keeps its primary
    ** keys), as SQLAlchemy's: textual INSERTs are not */
    lua_pushboolean(L, lua_getiuservalue(L, 1, 4) == LUA_TTABLE);
  } else if (strcmp(k, "closed") == 0)
    lua_pushboolean(L, r->closed); /* exhausted is not closed */
  else if (strcmp(k, "t") == 0 && toresult(L, 1))
    lua_settop(L, 1);
  else
    lua_pushnil(L);
  return 1;
}

static int res_tostring(lua_State *L) {
  lua_pushfstring(L, "%s: %p", luaL_typename(L, 1), lua_topointer(L, 1));
  if (luaL_getmetafield(L, 1, "__name") == LUA_TSTRING)
    lua_pushfstring(L, "<%s object at %p>", lua_tostring(L, -1) + 7,
                    lua_topointer(L, 1));
  return 1;
}

static const luaL_Reg common_methods[] = {{"all", res_all},
                                          {"fetchall", res_all},
                                          {"fetchone", res_fetchone},
                                          {"fetchmany", res_fetchmany},
                                          {"first", res_first},
                                          {"one", res_one},
                                          {"one_or_none", res_one_or_none},
                                          {"partitions", res_partitions},
                                          {"close", res_close},
                                          {"keys", res_keys},
                                          {"unique", res_unique},
                                          {NULL, NULL}};

static const luaL_Reg result_only[] = {
    {"scalars", res_scalars},
    {"mappings", res_mappings},
    {"scalar", res_scalar},
    {"scalar_one", res_scalar_one},
    {"scalar_one_or_none", res_scalar_one_or_none},
    {"columns", res_columns},
    {"_with_keys", res_with_keys},
    {"_orm_keys", res_orm_keys},
    {"tuples", res_self},
    {"yield_per", res_yield_per},
    {"freeze", res_freeze},
    {"merge", res_merge},
    {NULL, NULL}};

static const luaL_Reg view_only[] = {{"yield_per", view_yield_per},
                                     {NULL, NULL}};

static void new_resultmt(lua_State *L, const char *name, int full) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, common_methods, 0);
  if (full) luaL_setfuncs(L, result_only, 0);
  if (!full) luaL_setfuncs(L, view_only, 0);
  if (strcmp(name, MAPPING_MT) == 0) {
    lua_pushcfunction(L, map_columns);
    lua_setfield(L, -2, "columns");
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__methods");
  lua_pushcclosure(L, res_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, res_call);
  lua_setfield(L, -2, "__call");
  lua_pushcfunction(L, res_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, res_tostring);
  lua_setfield(L, -2, "__tostring");
  if (full) {
    lua_pushcfunction(L, res_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushlightuserdata(L, (void *)&result_mark);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, -1);
    rt_lua_slot_set(L, &result_slot, &result_mark);
  }
  lua_pop(L, 1);
}

void rt_lua_open_result(lua_State *L) {
  new_resultmt(L, RESULT_MT, 1);
  new_resultmt(L, SCALAR_MT, 0);
  new_resultmt(L, MAPPING_MT, 0);
  new_frozenmt(L);
}
