/*
** lsql.h -- what the SQL expression binding files share.
**
** Every construct is one userdata of metatable "retort.Node" holding a
** reference to an rt_node; Lua's collector drops the reference.  To stay
** leak-free when Lua raises, each function makes its result userdata
** first and fills it last, and keeps intermediate nodes in userdata on
** the stack.
*/
#ifndef LSQL_H
#define LSQL_H

#include "core/elements.h"
#include "core/schema.h"
#include "lretort.h"

#define NODE_MT "retort.Node"
#define TYPE_MT "retort.Type"
#define META_MT "retort.MetaData"
#define COLS_MT "retort.ColumnCollection"
/* registry: table node (light userdata) -> its Lua-function defaults */
#define LSQL_DEFAULTS "retort.lua_defaults"
/* registry: Sequence name -> the Sequence(name, {options}) made last */
#define LSQL_SEQUENCES "retort.sequences"
/* registry: table node (light userdata) -> its Lua-function onupdates */
#define LSQL_ONUPDATES "retort.lua_onupdates"

/* registry: table node (light userdata) -> its .info tables, keyed by the
** node serial of the table and of each of its columns (weak values: the
** Table object of the MetaData holds them) */
#define LSQL_INFOS "retort.infos"

/* tag is lsql's mark of a Node box (see lsql_tonode): telling a node
** then needs no metatable lookup. */
typedef struct lnode {
  rt_node *n;
  const void *tag;
} lnode;

/* A column annotated with the mapped class it is an attribute of (see
** lsql_annotate): a Node box told apart by its size. */
typedef struct lannotated {
  lnode box;
  const void *entity; /* the class (also the box's user value) */
} lannotated;

typedef struct ltype {
  rt_type *t;
} ltype;

/* A new empty Node userdata on the stack (fill ->n before returning). */
lnode *lsql_newnode(lua_State *L);
/* Push node n (taking the reference); raises MemoryError when n is NULL.
** If pushing raises, n is lost: a new node belongs in a box made before it
** (lsql_newnode).  lsql_pushref pushes a new reference to n, made once the
** box exists. */
void lsql_pushnode(lua_State *L, rt_node *n);
void lsql_pushref(lua_State *L, rt_node *n);
rt_node *lsql_tonode(lua_State *L, int idx);
/* The node of a Node userdata at idx, or NULL (tables standing for a node
** are not looked into). */
rt_node *lsql_tonodebox(lua_State *L, int idx);
rt_node *lsql_checknode(lua_State *L, int idx, const char *fname);
/* Push a new box of the node at idx annotated with the value at entity;
** lsql_annotation pushes the annotation of the value at idx and returns
** 1, or pushes nothing and returns 0. */
void lsql_annotate(lua_State *L, int idx, int entity);
int lsql_annotation(lua_State *L, int idx);
/* Push a new box of the Node box at idx (plain or annotated, its user
** value kept) whose str() is the string at `label`: a mapped class's
** attribute, which prints as "User.name" (SQLAlchemy's
** InstrumentedAttribute); what is made from it is its node again. */
void lsql_attribute(lua_State *L, int idx, int label);
/* Coerce the value at idx to an expression compared with `against`
** (plain values become bind parameters); the node is pushed and returned
** borrowed.  Raises ArgumentError naming fname and the position. */
rt_node *lsql_coerce(lua_State *L, int idx, const rt_node *against,
                     const char *fname, int pos);
rt_type *lsql_totype(lua_State *L, int idx);
/* Push type t, taking the reference (t may be a static bare type); push a
** new reference to t; push an empty Type box to fill in. */
void lsql_pushtype(lua_State *L, rt_type *t);
void lsql_pushtyperef(lua_State *L, rt_type *t);
rt_type **lsql_newtype(lua_State *L);
void lsql_check(lua_State *L, void *p);

/* select(...): the module's function (the global `select` calls it);
** lsql_select_plain, the same without the ORM's turn (LSQL_SELECT_SLOW). */
int lsql_select(lua_State *L);
int lsql_select_plain(lua_State *L);
/* registry: {set, fn}: select() of an argument in the set is fn(...) */
#define LSQL_SELECT_SLOW "retort.select_slow"

/* registry: the ORM's function stmt -> the statement tostring(stmt)
** prints instead (a select of entities as it runs), or nil.  A function
** the C __tostring calls, because a node's metatable may be a copy of
** the Node metatable (see newnode0) that changes to it do not reach. */
#define LSQL_TOSTRING_FORM "retort.tostring_form"

/*
** conn:execute's fast path to a statement's execution plan (lsql.c).  When
** the statement at `stmt` (a Node box of node s) has a plan for `dialect` and
*the parameters at
** `params` are what a plan takes (nil or one map), it fills in `out` (the
** values in buf when nbuf is room enough), pushes what they borrow from
** (to stay on the stack while they are used) and returns 1; otherwise it
** pushes nothing and returns 0, and the statement is compiled as usual.
** `memo` (zeroed at first, but for uv) remembers the plan used last, which
** user value uv of the value at `holder` keeps alive.
*/
int lsql_exec_planned(lua_State *L, int stmt, rt_node *s, int params,
                      const char *dialect, int holder, rt_lua_plan_memo *memo,
                      rt_lua_exec *out, rt_value *buf, int nbuf);

void lsql_open_schema(lua_State *L); /* fills module: types, Table, ... */
int lsql_table_append_column(lua_State *L); /* Table:append_column */
int lsql_table_to_metadata(lua_State *L);   /* Table:to_metadata */
/* Push the .info table of table or column n, whose box is at idx (1), or
** nothing when n is no schema item (0). */
int lsql_push_info(lua_State *L, int idx, rt_node *n);
int lsql_set_info(lua_State *L, int idx, rt_node *n, int vidx);
void lsql_open_expr(lua_State *L); /* fills module: select, func, ... */

#endif
