/*
** lsql.c -- the SQL expression language for Lua: select(), insert(),
** operators, functions, compile(), and the compile hook conn:execute uses.
*/
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/ddl.h"
#include "core/dml.h"
#include "core/selectable.h"
#include "lsql.h"

/* --- nodes --- */

/* The Node metatable, also under a light-userdata key: no string lookup
** on the hot paths. */
static const char node_mt_key = 0;

/*
** Registry values read for every construct or compile (the Node metatable,
** the compile scratch box and the Compiled metatable) also sit at integer
** keys, in the registry's array part: a light-userdata key costs a hash
** lookup.  The keys are those luaL_ref gave the first state that opened
** the module (each state makes them when it opens the module); as soon as
** a state's keys differ, all keep to the light-userdata keys.
*/
enum {
  SLOT_NODE_MT,
  SLOT_SCRATCH,
  SLOT_COMPILED_MT,
  SLOT_BATCH,
  SLOT_PLANS,
  NSLOTS
};
static _Atomic int slot_ref[NSLOTS]; /* 0: none yet; -1: states differ */

/* Keep the value on top (popped) under `key` and an integer key. */
static void slot_set(lua_State *L, int slot, const void *key) {
  int ref, want = 0;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (!atomic_compare_exchange_strong(&slot_ref[slot], &want, ref) &&
      want != ref)
    atomic_store(&slot_ref[slot], -1);
}

/* Replace a slot's value with the one on top (popped). */
static void slot_replace(lua_State *L, int slot, const void *key) {
  int ref = atomic_load_explicit(&slot_ref[slot], memory_order_relaxed);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  if (ref > 0)
    lua_rawseti(L, LUA_REGISTRYINDEX, ref);
  else
    lua_pop(L, 1);
}

static int slot_get(lua_State *L, int slot, const void *key) {
  int ref = atomic_load_explicit(&slot_ref[slot], memory_order_relaxed);
  return ref > 0 ? lua_rawgeti(L, LUA_REGISTRYINDEX, ref)
                 : lua_rawgetp(L, LUA_REGISTRYINDEX, key);
}

static void set_node_mt(lua_State *L) {
  slot_get(L, SLOT_NODE_MT, &node_mt_key);
  lua_setmetatable(L, -2);
}

lnode *lsql_newnode(lua_State *L) {
  lnode *u = lua_newuserdatauv(L, sizeof *u, 1);
  u->n = NULL;
  u->tag = &node_mt_key;
  set_node_mt(L);
  return u;
}

/*
** Most results (RESULT) need no user value, and no finalizer of their
** own: one per box costs more than building its node.  Their metatable is
** a batch instead: a copy of the Node metatable without __gc that lists up
** to BATCH boxes in its array part.  A batch lives as long as one of its
** boxes does (it is their metatable) and keeps them all, until its own
** finalizer, one per BATCH boxes, drops their nodes.  So a box kept keeps
** the nodes of its batch's other boxes a while longer: a batch is small
** (256 boxes: making a batch, its copy of the metatable, costs as much as
** a few boxes, and its retained nodes are some tens of KiB at most).
*/
#define BATCH 256
/* about what one node costs in C memory, for the collector's pacing */
#define BATCH_NODE_BYTES 160

static const char batch_key = 0;    /* the batch being filled (its state) */
static const char batch_gc_key = 0; /* the batches' metatable */
static const char bstate_key = 0;   /* a batch's state, in the batch */

/* A batch's state, a userdata whose user value is the batch: the boxes
** given it so far, also in the batch's array part, which keeps them until
** the batch is finalized (a box kept by some other object being finalized
** in the same cycle is then left without its node, never with a freed
** one). */
typedef struct bstate {
  int n;
  lnode *box[BATCH];
} bstate;

static int batch_gc(lua_State *L) {
  bstate *b;
  int i;
  lua_rawgetp(L, 1, &bstate_key);
  b = lua_touserdata(L, -1);
  for (i = 0; b && i < b->n; i++) {
    rt_unref(b->box[i]->n);
    b->box[i]->n = NULL;
  }
  if (b) b->n = BATCH; /* (full: never filled again) */
  return 0;
}

/* A new empty batch, made the one being filled; its state is pushed. */
static bstate *batch_new(lua_State *L) {
  bstate *b;
  lua_createtable(L, BATCH, 20);
  slot_get(L, SLOT_NODE_MT, &node_mt_key);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -2), "__gc") == 0) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);
  }
  /* getmetatable() of a box gives the Node metatable, not the batch,
  ** whose array only this file writes */
  lua_setfield(L, -2, "__metatable");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &batch_gc_key);
  lua_setmetatable(L, -2);
  b = lua_newuserdatauv(L, sizeof *b, 1);
  b->n = 0;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, -3, &bstate_key);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, -1);
  slot_replace(L, SLOT_BATCH, &batch_key);
  /* the nodes the batch's boxes will hold live outside Lua's heap, so the
  ** collector would not count them and would let statements built in a
  ** loop pile up (20 MB over 10,000 joins, page faults costing more than
  ** the build): charge it for them as if they were its own */
  lua_gc(L, LUA_GCSTEP, BATCH * BATCH_NODE_BYTES / 1024);
  return b;
}

static lnode *newnode0(lua_State *L) {
  lnode *u = lua_newuserdatauv(L, sizeof *u, 0);
  bstate *b;
  u->n = NULL;
  u->tag = &node_mt_key;
  if (slot_get(L, SLOT_BATCH, &batch_key) != LUA_TUSERDATA ||
      (b = lua_touserdata(L, -1))->n >= BATCH) {
    lua_pop(L, 1);
    b = batch_new(L);
  }
  lua_getiuservalue(L, -1, 1); /* (box, state, batch) */
  lua_pushvalue(L, -3);
  lua_rawseti(L, -2, b->n + 1);
  b->box[b->n++] = u;
  lua_setmetatable(L, -3);
  lua_pop(L, 1);
  return u;
}

void lsql_check(lua_State *L, void *p) {
  if (!p) rt_lua_error(L, RT_EMEMORY, "out of memory");
}

void lsql_pushnode(lua_State *L, rt_node *n) {
  lnode *u;
  if (!n) rt_lua_error(L, RT_EMEMORY, "out of memory");
  u = lsql_newnode(L);
  u->n = n;
}

void lsql_pushref(lua_State *L, rt_node *n) {
  lnode *u = lsql_newnode(L);
  u->n = rt_ref(n);
}

/* Build the result box first, then the node: a failure in between leaks
** nothing. */
#define RESULT(L) newnode0(L)
#define SETRESULT(L, ud, expr)                                                 \
  do {                                                                         \
    (ud)->n = (expr);                                                          \
    if (!(ud)->n) rt_lua_error(L, RT_EMEMORY, "out of memory");                \
  } while (0)

/*
** A Node box is a full userdata of an lnode's size whose tag is
** &node_mt_key: no other userdata holds that address, and the test reads
** no metatable (it runs for every operand of every construct).  A Lua
** table standing for a node (a mapped class stands for its table) keeps
** that node in its raw field "__clause_element__"; the table keeps the
** node alive while the table is on the stack.
*/
/* The node of the userdata at idx whose block is u (not NULL). */
static rt_node *box_node(lua_State *L, int idx, const lnode *u) {
  /* a light userdata has no length, and only a full userdata's length is
  ** a block lua_touserdata gives (an annotated box is a longer one) */
  size_t len = lua_rawlen(L, idx);
  if (len != sizeof(lnode) && len != sizeof(lannotated)) return NULL;
  return u->tag == &node_mt_key ? u->n : NULL;
}

rt_node *lsql_tonodebox(lua_State *L, int idx) {
  const lnode *u = lua_touserdata(L, idx);
  return u ? box_node(L, idx, u) : NULL;
}

/* The node of the Node box at idx, or NULL, and whether the box is an
** annotated one (*ann, set when a node is returned): lsql_tonodebox and
** toannotated in one test, for the hot paths. */
static inline rt_node *boxof(lua_State *L, int idx, int *ann) {
  const lnode *u = lua_touserdata(L, idx);
  size_t len;
  if (!u) return NULL;
  len = lua_rawlen(L, idx);
  if ((len != sizeof(lnode) && len != sizeof(lannotated)) ||
      u->tag != &node_mt_key || !u->n)
    return NULL;
  *ann = len == sizeof(lannotated);
  return u->n;
}

/* lsql_checknode with the box tested inline first */
static inline rt_node *checknode(lua_State *L, int idx, const char *fname) {
  int ann;
  rt_node *n = boxof(L, idx, &ann);
  return n ? n : lsql_checknode(L, idx, fname);
}

/*
** A mapped class's column attribute is its column in a box of its own, a
** little larger than a Node box (that size is the mark select() tests),
** whose user value is the class: SQLAlchemy's annotated column with its
** parententity.  The node is the column itself, so everything else takes
** it as the column.
*/
static const lannotated *toannotated(lua_State *L, int idx) {
  const lannotated *a;
  /* (the length first: it rules out nearly every argument; a string of
  ** that length has no block) */
  if (lua_rawlen(L, idx) != sizeof(lannotated) ||
      lua_type(L, idx) != LUA_TUSERDATA)
    return NULL;
  a = lua_touserdata(L, idx);
  return a->box.tag == &node_mt_key ? a : NULL;
}

void lsql_annotate(lua_State *L, int idx, int entity) {
  rt_node *n = lsql_checknode(L, idx, "annotate");
  lannotated *a;
  entity = lua_absindex(L, entity);
  a = lua_newuserdatauv(L, sizeof *a, 1);
  a->box.n = NULL;
  a->box.tag = &node_mt_key;
  a->entity = lua_topointer(L, entity);
  set_node_mt(L);
  a->box.n = rt_ref(n);
  lua_pushvalue(L, entity);
  lua_setiuservalue(L, -2, 1);
}

void lsql_attribute(lua_State *L, int idx, int label) {
  size_t len;
  lnode *box;
  rt_node *n = lsql_tonodebox(L, idx);
  if (!n) rt_lua_error(L, RT_EARGUMENT, "attribute: not a SQL expression");
  idx = lua_absindex(L, idx);
  label = lua_absindex(L, label);
  len = lua_rawlen(L, idx);
  /* (user value 1: a column's options or an annotation; 2: the label) */
  box = lua_newuserdatauv(L, len, 2);
  memcpy(box, lua_touserdata(L, idx), len);
  box->n = NULL;
  set_node_mt(L);
  box->n = rt_ref(n);
  lua_getiuservalue(L, idx, 1);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, label);
  lua_setiuservalue(L, -2, 2);
}

/* The result on top made from the annotated value at idx keeps its
** annotation (SQLAlchemy's annotations go along to a label or a function
** of the column): it is replaced by an annotated box of its node. */
static void keep_annotation(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, 1);
  lsql_annotate(L, -2, -1);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

int lsql_annotation(lua_State *L, int idx) {
  if (!toannotated(L, idx)) return 0;
  lua_getiuservalue(L, idx, 1);
  return 1;
}

/* The result on top of an operator, CAST or CASE keeps the annotation of
** the first annotated operand among first..last (as SQLAlchemy's
** comparisons and arithmetic of an entity's column carry its entity). */
static int keep_marks(lua_State *L, int first, int last) {
  int i;
  for (i = first; i <= last; i++)
    if (toannotated(L, i)) {
      keep_annotation(L, i);
      break;
    }
  return 1;
}

rt_node *lsql_tonode(lua_State *L, int idx) {
  rt_node *n;
  const lnode *u = lua_touserdata(L, idx);
  /* (a box first: most arguments are one) */
  if (u) return box_node(L, idx, u);
  if (lua_type(L, idx) != LUA_TTABLE) return NULL;
  idx = lua_absindex(L, idx);
  lua_pushliteral(L, "__clause_element__");
  lua_rawget(L, idx);
  n = lsql_tonodebox(L, -1);
  lua_pop(L, 1);
  return n;
}

rt_node *lsql_checknode(lua_State *L, int idx, const char *fname) {
  rt_node *n = lsql_tonode(L, idx);
  if (!n)
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: argument #%d must be a SQL expression, not %s", fname,
                 idx, luaL_typename(L, idx));
  return n;
}

static int node_gc(lua_State *L) {
  lnode *u = lua_touserdata(L, 1);
  rt_unref(u->n);
  u->n = NULL;
  return 0;
}

rt_node *lsql_coerce(lua_State *L, int idx, const rt_node *against,
                     const char *fname, int pos) {
  rt_node *n;
  lnode *ud;
  rt_value v;
  idx = lua_absindex(L, idx);
  n = lsql_tonode(L, idx);
  if (n) {
    lua_pushvalue(L, idx);
    return n;
  }
  ud = RESULT(L);
  if (lua_isnil(L, idx) || (rt_lua_isnull(L, idx) && !against)) {
    ud->n = rt_const(RT_N_NULL);
  } else if (rt_lua_tovalue(L, idx, &v) == 0 && lua_type(L, idx) != LUA_TTABLE)
    ud->n = rt_bind_against(against, v);
  else
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: argument #%d must be a SQL expression or a value, not %s",
                 fname, pos, luaL_typename(L, idx));
  lsql_check(L, ud->n);
  return ud->n;
}

/*
** The value at idx as a new node reference, nothing pushed: for callers
** that made their result box already and consume the node at once.  It
** raises only before allocating.
*/
/* Whether a Lua table compared with `against` is a value of its type:
** JSON documents and arrays, as SQLAlchemy binds a dict or a list. */
static int takes_table(const rt_node *against) {
  int kind = against && against->type ? (int)against->type->kind : RT_TY_NULL;
  return kind == RT_TY_JSON || kind == RT_TY_JSONB || kind == RT_TY_ARRAY ||
         kind == RT_TY_INTERVAL || /* a timedelta */
         (kind == RT_TY_STRING && against->type->upper == RT_UP_SET);
}

/* Is the value at idx a timedelta (sa.timedelta{...})? */
static int is_timedelta(lua_State *L, int idx) {
  int yes;
  if (lua_type(L, idx) != LUA_TTABLE ||
      luaL_getmetafield(L, idx, "__name") == LUA_TNIL)
    return 0;
  yes = lua_type(L, -1) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), "timedelta") == 0;
  lua_pop(L, 1);
  return yes;
}

static rt_node *value_node(lua_State *L, int idx, const rt_node *against,
                           const char *fname, int pos) {
  rt_node *n = lsql_tonode(L, idx);
  rt_value v;
  if (n) return rt_ref(n);
  if (is_timedelta(L, idx) && !takes_table(against)) {
    /* dt + timedelta: an Interval value, whatever it is added to */
    lua_pushvalue(L, idx);
    rt_lua_bind_process(L, RT_TY_INTERVAL, 0);
    rt_lua_tovalue(L, -1, &v);
    n = rt_bind(rt_bind_key_for(against), v, rt_type_bare(RT_TY_INTERVAL), 1);
    lua_pop(L, 1);
    if (!n) rt_lua_error(L, RT_EMEMORY, "out of memory");
    return n;
  }
  if (lua_type(L, idx) == LUA_TTABLE && takes_table(against) &&
      !rt_lua_isnull(L, idx)) {
    /* in its stored form (JSON text, array literal), as values{} binds it */
    lua_pushvalue(L, idx);
    rt_lua_bind_process(L,
                        against->type->upper == RT_UP_SET
                            ? RT_PARAM_SET
                            : (int)against->type->kind,
                        0);
    if (rt_lua_tovalue(L, -1, &v) != 0 || lua_istable(L, -1))
      rt_lua_error(L, RT_EARGUMENT, "%s: argument #%d is not a SQL value",
                   fname, pos);
    n = rt_bind_against(against, v);
    /* an array's bind keeps its type: PostgreSQL casts it (::INTEGER[]) */
    if (n && against->type->kind == RT_TY_ARRAY) {
      rt_type_unref(n->type);
      n->type = rt_type_ref(against->type);
    }
    lua_pop(L, 1);
  } else if (lua_isnoneornil(L, idx) || (rt_lua_isnull(L, idx) && !against))
    n = rt_const(RT_N_NULL);
  else if (lua_type(L, idx) != LUA_TTABLE && rt_lua_tovalue(L, idx, &v) == 0)
    n = rt_bind_against(against, v);
  else
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: argument #%d must be a SQL expression or a value, not %s",
                 fname, pos, luaL_typename(L, idx));
  if (!n) rt_lua_error(L, RT_EMEMORY, "out of memory");
  return n;
}

static void check_value(lua_State *L, int idx, const rt_node *against,
                        const char *fname, int pos) {
  rt_value v;
  if (lsql_tonode(L, idx) || lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) == LUA_TTABLE &&
      (takes_table(against) || is_timedelta(L, idx)))
    return;
  if (lua_type(L, idx) == LUA_TTABLE || rt_lua_tovalue(L, idx, &v) != 0)
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: argument #%d must be a SQL expression or a value, not %s",
                 fname, pos, luaL_typename(L, idx));
}

/* --- operators --- */

static int binop_plain(lua_State *L, int op, const char *fname) {
  rt_node *l = lsql_tonode(L, 1), *r;
  lnode *ud;
  if (!l) {
    /* 5 + col: the value takes its name from the right operand */
    rt_node *rr = lsql_checknode(L, 2, fname);
    check_value(L, 1, rr, fname, 1);
    ud = RESULT(L);
    SETRESULT(L, ud, rt_binary(op, value_node(L, 1, rr, fname, 1), rt_ref(rr)));
    return 1;
  }
  check_value(L, 2, l, fname, 2);
  ud = RESULT(L);
  r = value_node(L, 2, l, fname, 2);
  SETRESULT(L, ud, rt_binary(op, rt_ref(l), r));
  return 1;
}

static int binop(lua_State *L, int op, const char *fname) {
  lua_settop(L, 2);
  binop_plain(L, op, fname);
  return keep_marks(L, 1, 2);
}

static int m_add(lua_State *L) {
  return binop(L, RT_OP_ADD, "+");
}
static int m_sub(lua_State *L) {
  return binop(L, RT_OP_SUB, "-");
}
static int m_mul(lua_State *L) {
  return binop(L, RT_OP_MUL, "*");
}
static int m_div(lua_State *L) {
  return binop(L, RT_OP_DIV, "/");
}
static int m_mod(lua_State *L) {
  return binop(L, RT_OP_MOD, "%");
}
static int m_concat(lua_State *L) {
  return binop(L, RT_OP_CONCAT, "..");
}

static int m_unm(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "unary -");
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_unary(RT_OP_NEG, rt_ref(e)));
  return keep_marks(L, 1, 1);
}

/* a criterion: a node, or a Lua boolean */
static rt_node *criterion(lua_State *L, int idx, const char *fname, int pos) {
  int ann;
  rt_node *n = boxof(L, idx, &ann);
  lnode *ud;
  if (!n) n = lsql_tonode(L, idx);
  if (n) {
    lua_pushvalue(L, idx);
    return n;
  }
  if (lua_type(L, idx) == LUA_TBOOLEAN) {
    ud = RESULT(L);
    SETRESULT(L, ud, rt_const(lua_toboolean(L, idx) ? RT_N_TRUE : RT_N_FALSE));
    return ud->n;
  }
  if (lua_type(L, idx) == LUA_TSTRING)
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: Textual SQL expression '%s' should be explicitly "
                 "declared as text('%s')",
                 fname, lua_tostring(L, idx), lua_tostring(L, idx));
  rt_lua_error(L, RT_EARGUMENT,
               "%s: argument #%d must be a SQL expression, not %s", fname, pos,
               luaL_typename(L, idx));
  return NULL;
}

/* and_/or_ of the arguments from `first` */
static int boollist(lua_State *L, int op, int first, const char *fname) {
  int top = lua_gettop(L), i, n = top - first + 1;
  rt_node **items, *few[16];
  lnode *ud;
  if (n < 0) n = 0;
  for (i = first; i <= top; i++) criterion(L, i, fname, i);
  ud = RESULT(L);
  items = n < 16 ? few
                 : lua_newuserdatauv(L, sizeof(rt_node *) * (size_t)(n + 1), 0);
  for (i = 0; i < n; i++) items[i] = rt_ref(lsql_tonode(L, top + 1 + i));
  SETRESULT(L, ud, rt_boollist(op, items, n));
  if (items != few) lua_pop(L, 1);
  return 1;
}

static int m_band(lua_State *L) {
  lua_settop(L, 2);
  return boollist(L, RT_OP_AND, 1, "&");
}
static int m_bor(lua_State *L) {
  lua_settop(L, 2);
  return boollist(L, RT_OP_OR, 1, "|");
}
static int l_and(lua_State *L) {
  return boollist(L, RT_OP_AND, 1, "and_");
}
static int l_or(lua_State *L) {
  return boollist(L, RT_OP_OR, 1, "or_");
}

static int l_not(lua_State *L) {
  rt_node *e = criterion(L, 1, "not_", 1);
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_not(rt_ref(e)));
  return 1;
}

/* comparisons: eq(nil) / eq(sa.null) is IS NULL; eq(true) compares with
** the boolean constant, as SQLAlchemy does */
/* (*marked: whether an operand may be annotated, see keep_marks) */
static int compare_plain(lua_State *L, int op, const char *fname, int *marked) {
  int ann1 = 1, ann2;
  rt_node *l = boxof(L, 1, &ann1), *r = NULL;
  lnode *ud;
  int t2 = lua_type(L, 2), isnull;
  if (!l) l = lsql_checknode(L, 1, fname);
  *marked = 1;
  /* the usual cases first: a number or a string, or an expression */
  if (t2 == LUA_TNUMBER || t2 == LUA_TSTRING) {
    rt_value v;
    rt_lua_tovalue(L, 2, &v); /* the string stays on the stack */
    ud = RESULT(L);
    r = rt_bind_against(l, v);
    lsql_check(L, r);
    SETRESULT(L, ud, rt_binary(op, rt_ref(l), r));
    *marked = ann1;
    return 1;
  }
  /* null(), true_() and false_() compare as nil and the booleans do */
  if (t2 == LUA_TUSERDATA && (r = boxof(L, 2, &ann2)) != NULL &&
      r->kind != RT_N_NULL && r->kind != RT_N_TRUE && r->kind != RT_N_FALSE) {
    ud = RESULT(L);
    SETRESULT(L, ud, rt_binary(op, rt_ref(l), rt_ref(r)));
    *marked = ann1 || ann2;
    return 1;
  }
  isnull = t2 == LUA_TNONE || t2 == LUA_TNIL || rt_lua_isnull(L, 2) ||
           (r && r->kind == RT_N_NULL);
  if (isnull || lua_type(L, 2) == LUA_TBOOLEAN || r) {
    int k = isnull                ? RT_N_NULL
            : r                   ? r->kind
            : lua_toboolean(L, 2) ? RT_N_TRUE
                                  : RT_N_FALSE;
    if (op != RT_OP_EQ && op != RT_OP_NE && op != RT_OP_IS && op != RT_OP_ISNOT)
      return rt_lua_error(L, RT_EARGUMENT,
                          "Only '=', '!=', 'is_()', 'is_not()', "
                          "'is_distinct_from()', 'is_not_distinct_from()' "
                          "operators can be used with None/True/False");
    if (isnull)
      op = (op == RT_OP_EQ || op == RT_OP_IS) ? RT_OP_IS : RT_OP_ISNOT;
    ud = RESULT(L);
    r = rt_const(k);
    lsql_check(L, r);
    SETRESULT(L, ud, rt_binary(op, rt_ref(l), r));
    return 1;
  }
  check_value(L, 2, l, fname, 1);
  ud = RESULT(L);
  r = value_node(L, 2, l, fname, 1);
  SETRESULT(L, ud, rt_binary(op, rt_ref(l), r));
  return 1;
}

static int compare(lua_State *L, int op, const char *fname) {
  int n = lua_gettop(L) < 2 ? lua_gettop(L) : 2, marked;
  compare_plain(L, op, fname, &marked);
  return marked ? keep_marks(L, 1, n) : 1;
}

#define CMP(fn, op, name)                                                      \
  static int fn(lua_State *L) {                                                \
    return compare(L, op, name);                                               \
  }
CMP(e_eq, RT_OP_EQ, "eq")
CMP(e_ne, RT_OP_NE, "ne")
CMP(e_lt, RT_OP_LT, "lt")
CMP(e_le, RT_OP_LE, "le")
CMP(e_gt, RT_OP_GT, "gt")
CMP(e_ge, RT_OP_GE, "ge")
CMP(e_is, RT_OP_IS, "is_")
CMP(e_is_not, RT_OP_ISNOT, "is_not")

/* The escape character of like(p, "/") or like(p, {escape = "/"}) at idx,
** copied into buf; NULL when none is given. */
static const char *like_escape_arg(lua_State *L, int idx, char *buf,
                                   size_t size, int *autoescape) {
  const char *esc = NULL;
  if (autoescape) *autoescape = 0;
  if (lua_type(L, idx) == LUA_TSTRING)
    esc = lua_tostring(L, idx);
  else if (lua_istable(L, idx) && !lsql_tonode(L, idx)) {
    if (lua_getfield(L, idx, "escape") == LUA_TSTRING)
      esc = lua_tostring(L, -1);
    if (autoescape && lua_getfield(L, idx, "autoescape") != LUA_TNIL)
      *autoescape = lua_toboolean(L, -1);
    lua_settop(L, idx);
    if (autoescape && *autoescape && !esc) esc = "/";
  }
  if (!esc) return NULL;
  if (strlen(esc) >= size)
    rt_lua_error(L, RT_EARGUMENT, "escape: the escape character is too long");
  strcpy(buf, esc);
  return buf;
}

/* like/not_like/ilike/not_ilike(pattern[, escape]) */
/* (the result's operands' annotations kept: see keep_marks) */
static int like_cmp(lua_State *L, int op, const char *fname) {
  char buf[16];
  const char *esc = like_escape_arg(L, 3, buf, sizeof buf, NULL);
  rt_node *n;
  int marked;
  lua_settop(L, 2);
  compare_plain(L, op, fname, &marked);
  if (esc && (n = lsql_tonode(L, -1)) != NULL && n->kind == RT_N_BINARY) {
    n->name = rt_strdup(esc);
    if (!n->name) return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  if (marked) {
    keep_marks(L, 1, 2);
    keep_marks(L, 1, 1);
  }
  return 1;
}

static int e_like(lua_State *L) {
  return like_cmp(L, RT_OP_LIKE, "like");
}
static int e_not_like(lua_State *L) {
  return like_cmp(L, RT_OP_NOTLIKE, "not_like");
}
static int e_ilike(lua_State *L) {
  return like_cmp(L, RT_OP_ILIKE, "ilike");
}
static int e_not_ilike(lua_State *L) {
  return like_cmp(L, RT_OP_NOTILIKE, "not_ilike");
}
/* A reference to expanding bind b, or a copy of it (and its values) of
** type t when b has no type of its own. */
static rt_node *expanding_typed(rt_node *b, rt_type *t) {
  rt_node *c;
  int i;
  if (b->type || !t) return rt_ref(b);
  if (!(c = rt_node_copy(b))) return NULL;
  c->type = rt_type_ref(t);
  for (i = 0; i < c->n; i++)
    if (c->kids[i]->kind == RT_N_BIND && c->kids[i]->value.type != RT_V_NULL) {
      rt_node *k = rt_node_copy(c->kids[i]);
      if (!k) {
        rt_unref(c);
        return NULL;
      }
      k->type = rt_type_ref(t);
      rt_node_setkid(c, i, k);
    }
  return c;
}

static int in_(lua_State *L, int negate, const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname), *sub = lsql_tonode(L, 2), *list;
  lnode *ud, *lu;
  int i, n;
  if (sub) {
    if (sub->kind == RT_N_SELECT || sub->kind == RT_N_COMPOUND ||
        sub->kind == RT_N_SCALARSUB || (sub->kind == RT_N_TEXT && sub->a)) {
      ud = RESULT(L);
      SETRESULT(L, ud, rt_in(rt_ref(e), rt_ref(sub), negate));
      return 1;
    }
    if (sub->kind == RT_N_BIND && (sub->flags & RT_F_EXPANDING)) {
      /* an untyped expanding bind takes the type of what it is compared
      ** with, as a literal list does */
      ud = RESULT(L);
      SETRESULT(L, ud, rt_in(rt_ref(e), expanding_typed(sub, e->type), negate));
      return 1;
    }
  }
  if (!lua_istable(L, 2) || sub)
    return rt_lua_error(L, RT_EARGUMENT,
                        "%s: argument #1 must be a list of values or a "
                        "select, not %s",
                        fname, luaL_typename(L, 2));
  n = (int)luaL_len(L, 2);
  lu = RESULT(L);
  SETRESULT(L, lu, rt_list_new());
  list = lu->n;
  for (i = 1; i <= n; i++) {
    rt_node *item;
    rt_value v;
    lua_rawgeti(L, 2, i);
    item = lsql_tonode(L, -1);
    if (item)
      item = rt_ref(item);
    else if (e->kind == RT_N_TUPLE && lua_istable(L, -1)) {
      /* tuple_(a, b):in_{{1, "x"}, {2, "y"}} */
      int j, m = (int)lua_rawlen(L, -1);
      item = rt_node_new(RT_N_TUPLE);
      lsql_check(L, item);
      for (j = 1; j <= m; j++) {
        rt_node *b;
        lua_rawgeti(L, -1, j);
        if (rt_lua_tovalue(L, -1, &v) != 0 || lua_istable(L, -1)) {
          rt_unref(item);
          return rt_lua_error(L, RT_EARGUMENT,
                              "%s: tuple %d item %d is not a SQL value", fname,
                              i, j);
        }
        b = rt_bind("param", v, NULL, 0);
        lua_pop(L, 1);
        if (!b || rt_node_push(item, b) != 0) {
          rt_unref(item);
          return rt_lua_error(L, RT_EMEMORY, "out of memory");
        }
      }
    } else if (rt_lua_tovalue(L, -1, &v) == 0 && !lua_istable(L, -1))
      /* anonymous: named id_1, id_2 when the list holds other
      ** expressions too (in_{1, null()}) and can't expand */
      item = rt_bind(rt_bind_key_for(e), v,
                     v.type == RT_V_NULL ? NULL : e->type, 1);
    else
      return rt_lua_error(L, RT_EARGUMENT,
                          "%s: list item %d is not a SQL value", fname, i);
    lua_pop(L, 1);
    if (!item || rt_node_push(list, item) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_in(rt_ref(e), rt_ref(list), negate));
  return 1;
}

static int e_in(lua_State *L) {
  in_(L, 0, "in_");
  return keep_marks(L, 1, 1);
}
static int e_not_in(lua_State *L) {
  in_(L, 1, "not_in");
  return keep_marks(L, 1, 1);
}

static int e_between(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "between");
  rt_node *lo = lsql_coerce(L, 2, e, "between", 1);
  rt_node *hi = lsql_coerce(L, 3, e, "between", 2);
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_between(rt_ref(e), rt_ref(lo), rt_ref(hi), 0));
  /* between(lo, hi, {symmetric = true}): BETWEEN SYMMETRIC */
  if (lua_type(L, 4) == LUA_TTABLE) {
    if (lua_getfield(L, 4, "symmetric") != LUA_TNIL && lua_toboolean(L, -1))
      ud->n->flags |= RT_F_SYMMETRIC;
    lua_pop(L, 1);
  }
  return keep_marks(L, 1, 1);
}

/* startswith/endswith/contains: LIKE with '%' concatenated */
static int like_pattern(lua_State *L, int before, int after,
                        const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname), *v, *pat;
  char buf[16];
  int autoescape;
  const char *esc = like_escape_arg(L, 3, buf, sizeof buf, &autoescape);
  lnode *ud, *pu;
  lua_settop(L, 2);
  if (autoescape && lua_type(L, 2) == LUA_TSTRING) {
    /* autoescape: the value's own escape, % and _ match themselves */
    luaL_Buffer b;
    size_t i, n, k = strlen(esc);
    const char *p = lua_tolstring(L, 2, &n);
    luaL_buffinit(L, &b);
    for (i = 0; i < n; i++) {
      if (p[i] == '%' || p[i] == '_' || strncmp(p + i, esc, k) == 0)
        luaL_addlstring(&b, esc, k);
      luaL_addchar(&b, p[i]);
    }
    luaL_pushresult(&b);
    lua_replace(L, 2);
  }
  v = lsql_coerce(L, 2, e, fname, 1);
  ud = RESULT(L);
  pu = RESULT(L);
  SETRESULT(L, pu, rt_ref(v));
  if (before) {
    rt_node *pct = rt_literal_column("'%'", rt_type_bare(RT_TY_STRING));
    lsql_check(L, pct);
    pat = rt_binary(RT_OP_CONCAT, pct, pu->n);
    pu->n = pat;
    lsql_check(L, pat);
  }
  if (after) {
    rt_node *pct = rt_literal_column("'%'", rt_type_bare(RT_TY_STRING));
    lsql_check(L, pct);
    pat = rt_binary(RT_OP_CONCAT, pu->n, pct);
    pu->n = pat;
    lsql_check(L, pat);
  }
  /* (SQLAlchemy's contains_op and its kin have no precedence: an
  ** operator expression on their left is always parenthesised) */
  SETRESULT(L, ud,
            rt_binary(RT_OP_LIKE, rt_self_group(rt_ref(e), RT_OP_NONE),
                      rt_ref(pu->n)));
  ud->n->flags |= RT_F_LOWPREC;
  if (esc && !(ud->n->name = rt_strdup(esc)))
    return rt_lua_error(L, RT_EMEMORY, "out of memory");
  lua_pop(L, 1);
  return 1;
}

static int e_startswith(lua_State *L) {
  return like_pattern(L, 0, 1, "startswith");
}
static int e_endswith(lua_State *L) {
  return like_pattern(L, 1, 0, "endswith");
}
static int array_cmp(lua_State *L, const char *opstr, const char *fname);
static int is_jsonb(const rt_node *e);
static int is_array(const rt_node *e);

static int e_contains(lua_State *L) {
  /* on an ARRAY: a @> b (PostgreSQL's ARRAY comparator) */
  if (is_array(lsql_tonode(L, 1)) || is_jsonb(lsql_tonode(L, 1)))
    return array_cmp(L, "@>", "contains");
  return like_pattern(L, 1, 1, "contains");
}

static int op_apply(lua_State *L) {
  rt_node *l = lsql_tonode(L, lua_upvalueindex(1));
  const char *opstr = lua_tostring(L, lua_upvalueindex(2));
  rt_node *r = lsql_coerce(L, 1, l, "op", 1);
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_custom_op(opstr, rt_ref(l), rt_ref(r)));
  return 1;
}

static int e_op(lua_State *L) {
  lsql_checknode(L, 1, "op");
  rt_lua_checkarg(L, 2, LUA_TSTRING, "op");
  lua_settop(L, 2);
  lua_pushcclosure(L, op_apply, 2);
  return 1;
}

/* e:bool_op("@@")(x): a custom operator whose result is a boolean */
static int bool_op_apply(lua_State *L) {
  lnode *ud;
  op_apply(L);
  ud = lua_touserdata(L, -1);
  rt_type_unref(ud->n->type);
  ud->n->type = rt_type_bare(RT_TY_BOOLEAN);
  return 1;
}

static int e_bool_op(lua_State *L) {
  lsql_checknode(L, 1, "bool_op");
  rt_lua_checkarg(L, 2, LUA_TSTRING, "bool_op");
  lua_settop(L, 2);
  lua_pushcclosure(L, bool_op_apply, 2);
  return 1;
}

/* e:concat(x): e || x (concat() on MySQL), as `..` */
static int e_concat(lua_State *L) {
  lsql_checknode(L, 1, "concat");
  lua_settop(L, 2);
  return binop(L, RT_OP_CONCAT, "concat");
}

static int unary_fn(lua_State *L, int op, const char *fname) {
  rt_node *e;
  lnode *ud;
  if (lua_type(L, 1) == LUA_TSTRING) {
    /* desc("name"): a label of the columns clause, by name */
    ud = RESULT(L);
    SETRESULT(L, ud, rt_label_reference(lua_tostring(L, 1)));
    lua_replace(L, 1);
  }
  e = checknode(L, 1, fname);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_unary(op, rt_ref(e)));
  return 1;
}

static int e_desc(lua_State *L) {
  return unary_fn(L, RT_OP_DESC, "desc");
}
static int e_asc(lua_State *L) {
  return unary_fn(L, RT_OP_ASC, "asc");
}
static int e_nulls_first(lua_State *L) {
  return unary_fn(L, RT_OP_NULLSFIRST, "nulls_first");
}
static int e_nulls_last(lua_State *L) {
  return unary_fn(L, RT_OP_NULLSLAST, "nulls_last");
}

static int e_collate(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "collate"), *name;
  lnode *ud, *nu;
  rt_lua_checkarg(L, 2, LUA_TSTRING, "collate");
  nu = RESULT(L);
  SETRESULT(L, nu, rt_literal_column(lua_tostring(L, 2), NULL));
  name = nu->n;
  ud = RESULT(L);
  SETRESULT(L, ud, rt_binary(RT_OP_COLLATE, rt_ref(e), rt_ref(name)));
  return 1;
}

static int e_cast(lua_State *L) {
  rt_node *e;
  rt_type *t;
  lnode *ud;
  t = lsql_totype(L, 2);
  if (!lsql_tonode(L, 1)) {
    /* cast(value, Type): the value is bound as the target type, as
    ** SQLAlchemy's Cast coerces it (CAST(5 AS INTEGER) for '5') */
    rt_value v;
    if (t && (lua_type(L, 1) == LUA_TNUMBER || lua_type(L, 1) == LUA_TSTRING) &&
        rt_lua_tovalue(L, 1, &v) == 0) {
      ud = RESULT(L);
      SETRESULT(L, ud, rt_bind("param", v, t, 1));
    } else
      lsql_coerce(L, 1, NULL, "cast", 1);
    lua_replace(L, 1);
  }
  e = lsql_checknode(L, 1, "cast");
  if (!t)
    return rt_lua_error(L, RT_EARGUMENT,
                        "cast: argument #2 must be a type, not %s",
                        luaL_typename(L, 2));
  ud = RESULT(L);
  SETRESULT(L, ud, rt_cast(rt_ref(e), t));
  return keep_marks(L, 1, 1);
}

/*
** type_coerce(e, Type): e as SQL is, read as Type.  A value becomes a bind
** of that type; an operator expression a copy typed Type (it groups as
** before); anything else a CAST that renders its operand alone.
*/
static int l_type_coerce(lua_State *L) {
  rt_node *e = lsql_tonode(L, 1);
  rt_type *t = lsql_totype(L, 2);
  lnode *ud;
  rt_value v;
  if (!t)
    return rt_lua_error(L, RT_EARGUMENT,
                        "type_coerce: argument #2 must be a type, not %s",
                        luaL_typename(L, 2));
  lua_settop(L, 2);
  if (!e) {
    /* JSON encodes every value (a string too); ARRAY and Interval take a
    ** table to their stored form */
    if ((!lua_isnoneornil(L, 1) &&
         (t->kind == RT_TY_JSON || t->kind == RT_TY_JSONB)) ||
        (lua_istable(L, 1) &&
         (t->kind == RT_TY_ARRAY || t->kind == RT_TY_INTERVAL))) {
      lua_pushvalue(L, 1);
      rt_lua_bind_process(L, (int)t->kind, 0);
      lua_replace(L, 1);
    }
    if (lua_isnoneornil(L, 1) || rt_lua_tovalue(L, 1, &v) != 0 ||
        lua_istable(L, 1))
      return rt_lua_error(L, RT_EARGUMENT,
                          "type_coerce: argument #1 must be a SQL expression "
                          "or a value, not %s",
                          luaL_typename(L, 1));
    ud = RESULT(L);
    SETRESULT(L, ud, rt_bind("param", v, t, 1));
    return 1;
  }
  ud = RESULT(L);
  if (e->kind == RT_N_BINARY || e->kind == RT_N_BOOLLIST ||
      e->kind == RT_N_UNARY) {
    SETRESULT(L, ud, rt_node_copy(e));
    rt_type_unref(ud->n->type);
    ud->n->type = rt_type_ref(t);
  } else {
    SETRESULT(L, ud, rt_cast(rt_ref(e), t));
    ud->n->flags |= RT_F_COERCE;
  }
  return 1;
}

static int over(lua_State *L, rt_node *f, int opts);

/* label(name) on expressions; on a select: a labelled scalar subquery */
static int e_label(lua_State *L) {
  int ann = 1;
  rt_node *e = boxof(L, 1, &ann);
  lnode *ud;
  const char *name;
  if (!e) e = lsql_checknode(L, 1, "label");
  name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2)
                                       : luaL_optstring(L, 2, NULL);
  if (e->kind == RT_N_SELECT || e->kind == RT_N_COMPOUND) {
    lnode *su = RESULT(L);
    SETRESULT(L, su, rt_scalar_subquery(rt_ref(e)));
    e = su->n;
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_label(name, rt_ref(e)));
  if (ann && toannotated(L, 1)) keep_annotation(L, 1);
  return 1;
}

/* --- function calls: func.name(...) --- */

/*
** func.<name> is a callable table {name}: calling it builds the function,
** indexing it names a packaged function (func.myschema.myfunc).
*/
static const char func_mt_key = 0;

/* Whether the value at idx is an options table {type_ = T} (a plain
** table with a type_ field); *type gets T. */
static int options_type(lua_State *L, int idx, rt_type **type) {
  int has;
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  has = lua_getfield(L, idx, "type_") != LUA_TNIL;
  if (has && !(*type = lsql_totype(L, -1)))
    rt_lua_error(L, RT_EARGUMENT, "func: type_ must be a type");
  lua_pop(L, 1);
  return has;
}

static int l_extract(lua_State *L);

static int func_call(lua_State *L) {
  const char *name;
  int nargs = lua_gettop(L) - 1, base, i;
  rt_node **args;
  lnode *ud;
  /* a literal argument binds under the function's name, as `lower_1` */
  rt_node *proto;
  rt_type *type = NULL;
  lnode *pu;
  /* a trailing {type_ = T}: SQLAlchemy's type_= keyword, the result type;
  ** the table stays above the arguments, keeping T alive */
  if (nargs > 0 && options_type(L, nargs + 1, &type)) nargs--;
  lua_rawgeti(L, 1, 1);
  name = lua_tostring(L, -1);
  if (!name) return rt_lua_error(L, RT_EARGUMENT, "func: not a function name");
  /* func.cast and func.extract are cast() and extract(), as SQLAlchemy
  ** registers them */
  if (strcmp(name, "cast") == 0 || strcmp(name, "extract") == 0) {
    int is_cast = name[0] == 'c';
    lua_pop(L, 1);
    lua_remove(L, 1);
    return is_cast ? e_cast(L) : l_extract(L);
  }
  lua_replace(L, 1); /* the name stays alive in slot 1; arguments at 2.. */
  pu = lsql_newnode(L);
  pu->n = proto = rt_func(name, NULL, 0);
  lsql_check(L, proto);
  base = lua_gettop(L);
  /* (sa.null as an argument is the NULL keyword, as SQLAlchemy's None) */
  for (i = 1; i <= nargs; i++)
    lsql_coerce(L, i + 1, rt_lua_isnull(L, i + 1) ? NULL : proto, name, i);
  ud = RESULT(L);
  args = lua_newuserdatauv(L, sizeof(rt_node *) * (size_t)(nargs + 1), 0);
  for (i = 0; i < nargs; i++) args[i] = rt_ref(lsql_tonode(L, base + 1 + i));
  SETRESULT(L, ud, rt_func(name, args, nargs));
  lua_pop(L, 1);
  if (type) {
    rt_type_unref(ud->n->type);
    ud->n->type = rt_type_ref(type);
  }
  for (i = 2; i <= nargs + 1; i++)
    if (toannotated(L, i)) {
      keep_annotation(L, i);
      break;
    }
  return 1;
}

static void push_func(lua_State *L, const char *name) {
  lua_createtable(L, 1, 0);
  lua_pushstring(L, name);
  lua_rawseti(L, -2, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &func_mt_key);
  lua_setmetatable(L, -2);
}

/* func.<name>: made once and kept in `func` */
static int func_index(lua_State *L) {
  luaL_checkstring(L, 2);
  push_func(L, lua_tostring(L, 2));
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

/* func.pkg.<name> */
static int func_path_index(lua_State *L) {
  const char *k = luaL_checkstring(L, 2);
  lua_rawgeti(L, 1, 1);
  lua_pushfstring(L, "%s.%s", lua_tostring(L, -1), k);
  push_func(L, lua_tostring(L, -1));
  return 1;
}

static int func_tostring(lua_State *L) {
  lua_rawgeti(L, 1, 1);
  lua_pushfstring(L, "func.%s", lua_tostring(L, -1));
  return 1;
}

/* --- constructors --- */

static int l_literal(lua_State *L) {
  rt_value v;
  lnode *ud = RESULT(L);
  if (rt_lua_tovalue(L, 1, &v) != 0 || lua_istable(L, 1))
    return rt_lua_error(L, RT_EARGUMENT,
                        "literal: argument #1 must be a value");
  SETRESULT(L, ud, rt_bind("param", v, lsql_totype(L, 2), 1));
  return 1;
}

/*
** An expanding bind's values: the list at `list` as one bind per item (a
** tuple of binds per item that is itself a list, for tuple_():in_()),
** named after the key as SQLAlchemy expands __[POSTCOMPILE_key] into
** key_1, key_2...  The new bind is left in a box on the stack and returned.
*/
static rt_node *expanded_bind(lua_State *L, const char *key, rt_type *type,
                              int list, const char *fname) {
  lnode *ud;
  rt_node *b;
  int i, n;
  list = lua_absindex(L, list);
  if (!lua_istable(L, list) || lsql_tonode(L, list))
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: the value of expanding parameter '%s' must be a list",
                 fname, key);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_bind(key, rt_vnull(), type, 0));
  b = ud->n;
  b->flags |= RT_F_EXPANDING;
  n = (int)lua_rawlen(L, list);
  for (i = 1; i <= n; i++) {
    rt_value v;
    rt_node *item = NULL;
    lua_rawgeti(L, list, i);
    if (lua_istable(L, -1) && !lsql_tonode(L, -1)) {
      int j, m = (int)lua_rawlen(L, -1);
      if (!(item = rt_node_new(RT_N_TUPLE)) || rt_node_push(b, item) != 0)
        rt_lua_error(L, RT_EMEMORY, "out of memory");
      for (j = 1; j <= m; j++) {
        lua_rawgeti(L, -1, j);
        if (rt_lua_tovalue(L, -1, &v) != 0 || lua_istable(L, -1))
          rt_lua_error(L, RT_EARGUMENT,
                       "%s: item %d of '%s' is not a list of SQL values", fname,
                       i, key);
        if (rt_node_push(item, rt_bind(key, v, NULL, 0)) != 0 ||
            !item->kids[item->n - 1])
          rt_lua_error(L, RT_EMEMORY, "out of memory");
        lua_pop(L, 1);
      }
    } else {
      if (rt_lua_tovalue(L, -1, &v) != 0 || lua_istable(L, -1))
        rt_lua_error(L, RT_EARGUMENT, "%s: item %d of '%s' is not a SQL value",
                     fname, i, key);
      if (rt_node_push(
              b, rt_bind(key, v, v.type == RT_V_NULL ? NULL : type, 0)) != 0 ||
          !b->kids[b->n - 1])
        rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
    lua_pop(L, 1);
  }
  return b;
}

/*
** bindparam(name, value, type_or_options): options {type_, expanding}.
** An expanding bind stands for a list (an IN's right side): its values
** now, or a list given at execution under its name.
*/
static int l_bindparam(lua_State *L) {
  rt_value v = rt_vnull();
  lnode *ud;
  int novalue = lua_isnoneornil(L, 2), expanding = 0;
  rt_type *t = lsql_totype(L, 3);
  rt_lua_checkarg(L, 1, LUA_TSTRING, "bindparam");
  if (!t && lua_istable(L, 3) && !lsql_tonode(L, 3)) {
    lua_getfield(L, 3, "expanding");
    expanding = lua_toboolean(L, -1);
    if (lua_getfield(L, 3, "type_") != LUA_TNIL) {
      if (!(t = lsql_totype(L, -1)))
        return rt_lua_error(L, RT_EARGUMENT, "bindparam: type_ must be a type");
    }
    lua_pop(L, 2);
  }
  if (expanding) {
    rt_node *b;
    if (novalue) {
      ud = RESULT(L);
      SETRESULT(L, ud, rt_bind(lua_tostring(L, 1), v, t, 0));
      ud->n->flags |= RT_F_EXPANDING | RT_F_REQUIRED;
      return 1;
    }
    b = expanded_bind(L, lua_tostring(L, 1), t, 2, "bindparam");
    (void)b;
    return 1;
  }
  if (t && !novalue &&
      (t->kind == RT_TY_JSON || t->kind == RT_TY_JSONB ||
       t->kind == RT_TY_ARRAY ||
       (t->kind == RT_TY_INTERVAL && lua_istable(L, 2)))) {
    /* the value in its stored form, as values{} keeps it */
    lua_settop(L, 3);
    lua_pushvalue(L, 2);
    rt_lua_bind_process(L, (int)t->kind, 0);
    lua_replace(L, 2);
  }
  if (!lua_isnoneornil(L, 2) &&
      (rt_lua_tovalue(L, 2, &v) != 0 || lua_istable(L, 2)))
    return rt_lua_error(L, RT_EARGUMENT,
                        "bindparam: argument #2 must be a value");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_bind(lua_tostring(L, 1), v, t, 0));
  if (novalue) ud->n->flags |= RT_F_REQUIRED;
  return 1;
}

static int l_literal_column(lua_State *L) {
  lnode *ud;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "literal_column");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_literal_column(lua_tostring(L, 1), lsql_totype(L, 2)));
  return 1;
}

static int l_column(lua_State *L) {
  lnode *ud;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "column");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_column(lua_tostring(L, 1), lsql_totype(L, 2)));
  return 1;
}

static int l_text(lua_State *L) {
  lnode *ud;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "text");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_new(RT_N_TEXT));
  ud->n->name = rt_strdup(lua_tostring(L, 1));
  lsql_check(L, ud->n->name);
  return 1;
}

static int l_null(lua_State *L) {
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_const(RT_N_NULL));
  return 1;
}
static int l_true(lua_State *L) {
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_const(RT_N_TRUE));
  return 1;
}
static int l_false(lua_State *L) {
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_const(RT_N_FALSE));
  return 1;
}

static int l_distinct(lua_State *L) {
  return unary_fn(L, RT_OP_DISTINCT, "distinct");
}

static int l_tuple(lua_State *L) {
  int top = lua_gettop(L), i;
  lnode *ud;
  for (i = 1; i <= top; i++) lsql_coerce(L, i, NULL, "tuple_", i);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_new(RT_N_TUPLE));
  for (i = 1; i <= top; i++)
    if (rt_node_push(ud->n, rt_ref(lsql_tonode(L, top + i))) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  return 1;
}

static int l_extract(lua_State *L) {
  rt_node *e;
  lnode *ud;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "extract");
  e = lsql_checknode(L, 2, "extract");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_new(RT_N_EXTRACT));
  ud->n->name = rt_strdup(lua_tostring(L, 1));
  lsql_check(L, ud->n->name);
  ud->n->a = rt_ref(e);
  ud->n->type = rt_type_bare(RT_TY_INTEGER);
  return 1;
}

/* case({{cond, value}, ...}, {else_ = v, value = e}) or case({[k] = v},
** {value = e}) with WHENs in key order */
static int sort_keys(lua_State *L) {
  int ta = lua_type(L, 1), tb = lua_type(L, 2);
  if (ta != tb)
    lua_pushboolean(L, ta < tb);
  else
    lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
  return 1;
}

/* A CASE (on top) keeps the annotation of its value (at `value`) or of
** the first annotated condition or result of its pairs. */
static void case_marks(lua_State *L, int value, int pairs, int n) {
  int i, j, top = lua_gettop(L);
  if (toannotated(L, value)) {
    keep_annotation(L, value);
    return;
  }
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, pairs, i) != LUA_TTABLE) {
      lua_settop(L, top);
      continue;
    }
    for (j = 1; j <= 2; j++) {
      lua_rawgeti(L, top + 1, j);
      if (toannotated(L, top + 2)) {
        lua_pushvalue(L, top); /* the CASE on top, then its mark */
        keep_annotation(L, top + 2);
        lua_replace(L, top);
        lua_settop(L, top);
        return;
      }
      lua_pop(L, 1);
    }
    lua_settop(L, top);
  }
}

static int l_case(lua_State *L) {
  int opts = lua_istable(L, 2) ? 2 : 0, n, i, pairs;
  rt_node *value = NULL;
  lnode *ud;
  rt_lua_checkarg(L, 1, LUA_TTABLE, "case");
  lua_settop(L, 2);
  /* a Row is a tuple: one (condition, value) pair, as in SQLAlchemy,
  ** never a map of its names */
  if (rt_lua_isrow(L, 1)) {
    int len = (int)luaL_len(L, 1);
    if (len != 2)
      return rt_lua_error(L, RT_EARGUMENT,
                          "case: a Row is one (condition, value) pair; "
                          "this one has %d values",
                          len);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    lua_replace(L, 1);
  }
  if (opts) {
    lua_getfield(L, opts, "value"); /* 3 */
    if (!lua_isnil(L, 3)) value = lsql_checknode(L, 3, "case");
  } else
    lua_pushnil(L);
  n = (int)lua_rawlen(L, 1);
  /* a list of pairs, unless its items aren't pairs: then a map with
  ** integer keys, case({[1] = "a", [2] = "b"}, {value = e}) */
  if (n > 0 && value) {
    if (lua_rawgeti(L, 1, 1) != LUA_TTABLE) n = 0;
    lua_pop(L, 1);
  }
  if (n > 0)
    lua_pushvalue(L, 1); /* 4: the {when, then} pairs */
  else {
    /* a map: WHENs in key order */
    lua_newtable(L); /* 4 */
    lua_newtable(L); /* 5: keys */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_rawseti(L, 5, (lua_Integer)lua_rawlen(L, 5) + 1);
    }
    lua_getglobal(L, "table");
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "sort");
      lua_pushvalue(L, 5);
      lua_pushcfunction(L, sort_keys);
      lua_call(L, 2, 0);
    }
    lua_pop(L, 1);
    n = (int)lua_rawlen(L, 5);
    for (i = 1; i <= n; i++) {
      lua_createtable(L, 2, 0);
      lua_rawgeti(L, 5, i);
      lua_pushvalue(L, -1);
      lua_rawseti(L, -3, 1);
      lua_gettable(L, 1);
      lua_rawseti(L, -2, 2);
      lua_rawseti(L, 4, i);
    }
    lua_settop(L, 4);
  }
  pairs = 4;
  ud = RESULT(L); /* 5 */
  SETRESULT(L, ud, rt_node_new(RT_N_CASE));
  for (i = 1; i <= n; i++) {
    rt_node *w, *t;
    lua_settop(L, 5);
    lua_rawgeti(L, pairs, i); /* 6 */
    if (!lua_istable(L, 6))
      return rt_lua_error(
          L, RT_EARGUMENT,
          "case: WHEN item %d must be a {condition, value} pair", i);
    lua_rawgeti(L, 6, 1); /* 7 */
    w = value ? lsql_coerce(L, 7, NULL, "case", i) : criterion(L, 7, "case", i);
    if (rt_node_push(ud->n, value ? rt_ref(w)
                                  : rt_self_group(rt_ref(w), RT_OP_NONE)) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_rawgeti(L, 6, 2);
    t = lsql_coerce(L, lua_gettop(L), NULL, "case", i);
    if (rt_node_push(ud->n, rt_ref(t)) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
    if (i == 1) ud->n->type = rt_type_ref(t->type);
  }
  lua_settop(L, 5);
  ud->n->a = rt_ref(value);
  if (opts) {
    /* else_ = sa.null is Python's else_=None: no ELSE (null() gives one) */
    lua_getfield(L, opts, "else_");
    if (!lua_isnil(L, -1) && !rt_lua_isnull(L, -1))
      ud->n->b = rt_ref(lsql_coerce(L, lua_gettop(L), NULL, "case", n + 1));
  }
  lua_settop(L, 5);
  case_marks(L, 3, 4, n);
  return 1;
}

/* list from the arguments at first..top, pushed as a node; each is
** coerced (values become binds) */
static rt_node *arglist(lua_State *L, int first, int top, const char *fname) {
  lnode *lu = RESULT(L);
  int i;
  int at = lua_gettop(L);
  SETRESULT(L, lu, rt_list_new());
  for (i = first; i <= top; i++) {
    rt_node *e;
    if (lua_type(L, i) == LUA_TSTRING) {
      /* a name: a label reference (order_by("name")) */
      lnode *t = RESULT(L);
      SETRESULT(L, t, rt_label_reference(lua_tostring(L, i)));
      e = t->n;
    } else
      e = lsql_coerce(L, i, NULL, fname, i);
    if (rt_node_push(lu->n, rt_ref(e)) != 0)
      rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_settop(L, at);
  }
  return lu->n;
}

/* a list given as a Lua table at idx, or as a single expression */
static rt_node *tablelist(lua_State *L, int idx, const char *fname) {
  int i, n, base;
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) return arglist(L, idx, idx, fname);
  n = (int)lua_rawlen(L, idx);
  base = lua_gettop(L);
  for (i = 1; i <= n; i++) lua_rawgeti(L, idx, i);
  {
    rt_node *l = arglist(L, base + 1, base + n, fname);
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
    return l;
  }
}

/* One end of a window frame: nil / sa.null is UNBOUNDED (a NULL
** constant), 0 CURRENT ROW (a literal), n < 0 "-n PRECEDING" (a negated
** bind), n > 0 "n FOLLOWING" (a bind), as SQLAlchemy's over() takes it. */
static rt_node *frame_end(lua_State *L, int idx, const char *key) {
  lua_Integer v;
  rt_node *b;
  if (lua_isnil(L, idx) || rt_lua_isnull(L, idx)) return rt_const(RT_N_NULL);
  if (!lua_isinteger(L, idx))
    rt_lua_error(L, RT_EARGUMENT, "over: %s must be a pair of integers or nil",
                 key);
  v = lua_tointeger(L, idx);
  if (v == 0) return rt_literal_column("CURRENT ROW", NULL);
  b = rt_bind("param", rt_vint(v < 0 ? -v : v), rt_type_bare(RT_TY_INTEGER), 1);
  return v < 0 && b ? rt_unary(RT_OP_NEG, b) : b;
}

/* over{rows = {start, end}} / over{range_ = {...}}: the frame, kept as the
** OVER node's two kids, its op 1 for ROWS and 2 for RANGE */
static void over_frame(lua_State *L, rt_node *o, int opts) {
  static const char *const keys[] = {"rows", "range_"};
  int k, i;
  for (k = 0; k < 2; k++) {
    if (lua_getfield(L, opts, keys[k]) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (!lua_istable(L, -1) || lsql_tonode(L, -1))
      rt_lua_error(L, RT_EARGUMENT,
                   "over: %s must be a pair of integers or nil", keys[k]);
    for (i = 1; i <= 2; i++) {
      rt_node *e;
      lua_rawgeti(L, -1, i);
      e = frame_end(L, lua_gettop(L), keys[k]);
      if (!e || rt_node_push(o, e) != 0)
        rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    o->op = (unsigned char)(k + 1);
    return;
  }
}

static int over(lua_State *L, rt_node *f, int opts) {
  lnode *ud;
  rt_node *pb = NULL, *ob = NULL;
  int top;
  lua_settop(L, opts ? opts : lua_gettop(L));
  top = lua_gettop(L);
  if (opts) {
    if (lua_getfield(L, opts, "partition_by") != LUA_TNIL)
      pb = tablelist(L, top + 1, "over");
    if (lua_getfield(L, opts, "order_by") != LUA_TNIL)
      ob = tablelist(L, lua_gettop(L), "over");
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_new(RT_N_OVER));
  ud->n->a = rt_ref(f);
  ud->n->b = rt_ref(pb);
  ud->n->c = rt_ref(ob);
  ud->n->type = rt_type_ref(f->type);
  if (opts) over_frame(L, ud->n, opts);
  return 1;
}

static int e_over(lua_State *L) {
  rt_node *f = lsql_checknode(L, 1, "over");
  return over(L, f, lua_istable(L, 2) ? 2 : 0);
}

static int l_over(lua_State *L) {
  return e_over(L);
}

/* --- statements --- */

static rt_node *checkkind(lua_State *L, int idx, int kind, int kind2,
                          const char *fname) {
  rt_node *n = checknode(L, idx, fname);
  if (n->kind != kind && n->kind != kind2)
    rt_lua_error(L, RT_EARGUMENT, "%s: not available on this construct", fname);
  return n;
}

static rt_node *checkselect(lua_State *L, const char *fname) {
  return checkkind(L, 1, RT_N_SELECT, RT_N_COMPOUND, fname);
}

/* push a select of the columns at first..top */
/*
** A mapped class of an inheritance hierarchy (marked by a raw field) is
** not its table, and a column attribute of a subclass (annotated, see
** lsql_annotate) needs the class's joins or criterion: the ORM builds
** the select of its columns and FROM, or the UPDATE/DELETE with the
** single-table criterion (see orm/inheritance.lua; the hook gets `kind`
** and the arguments).  Returns
** 1 with that statement on top, or 0 when no argument is such a class or
** the ORM declines.
*/
static int orm_hook(lua_State *L, const char *kind, int first, int top) {
  int i, marked = 0;
  for (i = first; i <= top && !marked; i++) {
    int t = lua_type(L, i);
    if (t == LUA_TUSERDATA) {
      marked = toannotated(L, i) != NULL;
      continue;
    }
    if (t != LUA_TTABLE) continue;
    lua_pushliteral(L, "__inheritance__");
    marked = lua_rawget(L, i) != LUA_TNIL;
    lua_pop(L, 1);
  }
  if (!marked) return 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, RT_SELECT_HOOK) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushstring(L, kind);
  for (i = first; i <= top; i++) lua_pushvalue(L, i);
  lua_call(L, top - first + 2, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* select() of the arguments first..top; `hooked`: the ORM's hook has
** seen them already. */
static int build_select_from(lua_State *L, int first, int top, int hooked) {
  rt_node *s, *few[8];
  lnode *ud;
  int i;
  if (!hooked && orm_hook(L, "select", first, top)) return 1;
  for (i = first; i <= top; i++) {
    rt_node *c = lsql_tonode(L, i);
    if (!c)
      return rt_lua_error(L, RT_EARGUMENT,
                          "select: argument #%d must be a column, table or "
                          "expression, not %s",
                          i, luaL_typename(L, i));
    if (i - first < 8) few[i - first] = c;
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_select_new());
  s = ud->n;
  for (i = first; i <= top; i++)
    if (rt_node_push(
            s->kids[RT_S_COLUMNS],
            rt_ref(i - first < 8 ? few[i - first] : lsql_tonode(L, i))) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  return 1;
}

static int build_select(lua_State *L, int first, int top) {
  return build_select_from(L, first, top, 0);
}

/*
** The ORM takes select() over when an argument is one of its special ones
** (a mapped Table, a class with a layout, a composite): the registry's
** LSQL_SELECT_SLOW is {set of them, function}.  Done in C, as a wrapper in
** Lua would cost every select more than building it.  The results of the
** function are on the stack and their count returned, or -1 (nothing
** pushed) when no argument is special.
*/
static int select_slow(lua_State *L, int top) {
  int i, special = 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LSQL_SELECT_SLOW) != LUA_TTABLE) {
    lua_settop(L, top);
    return -1;
  }
  lua_rawgeti(L, top + 1, 1);
  /* (an empty set, before any class is mapped: nothing to look up) */
  lua_pushnil(L);
  if (!lua_next(L, top + 2)) {
    lua_settop(L, top);
    return -1;
  }
  lua_settop(L, top + 2);
  for (i = 1; i <= top && !special; i++) {
    lua_pushvalue(L, i);
    if (lua_rawget(L, top + 2) != LUA_TNIL) special = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (!special) {
    lua_settop(L, top);
    return -1;
  }
  lua_rawgeti(L, top + 1, 2);
  lua_insert(L, 1);
  lua_settop(L, top + 1);
  lua_call(L, top, LUA_MULTRET);
  return lua_gettop(L);
}

int lsql_select(lua_State *L) {
  int n = select_slow(L, lua_gettop(L));
  return n >= 0 ? n : lsql_select_plain(L);
}

/* select() of nodes[0..n-1], the boxes at 1..n. */
static int select_nodes(lua_State *L, rt_node **nodes, int n) {
  lnode *ud = RESULT(L);
  rt_node *s;
  int i;
  SETRESULT(L, ud, rt_select_new());
  s = ud->n;
  for (i = 0; i < n; i++)
    if (rt_node_push(s->kids[RT_S_COLUMNS], rt_ref(nodes[i])) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  return 1;
}

int lsql_select_plain(lua_State *L) {
  int top = lua_gettop(L), i, ann = 0;
  rt_node *few[8];
  /* the usual arguments first: a few boxes, none annotated (which the
  ** ORM's hook would take), each tested once */
  for (i = 0; i < top && i < 8; i++)
    if (!(few[i] = boxof(L, i + 1, &ann)) || ann) break;
  if (i == top && top > 0) return select_nodes(L, few, top);
  /* (a with_polymorphic entity is a table too, not a list) */
  if (orm_hook(L, "select", 1, top)) return 1;
  if (top == 1 && lua_istable(L, 1) && !lsql_tonode(L, 1)) {
    int n = (int)lua_rawlen(L, 1), i;
    for (i = 1; i <= n; i++) lua_rawgeti(L, 1, i);
    return build_select(L, 2, n + 1);
  }
  return build_select_from(L, 1, top, 1);
}

/* generative helper: copy stmt at 1 with slot set to the node on top */
static int gen_set(lua_State *L, rt_node *s, int slot, rt_node *v) {
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_gen_set(s, slot, rt_ref(v)));
  return 1;
}

/*
** func.count():filter(cond, ...): the aggregate FILTER (WHERE ...) clause
** (SQLAlchemy's FunctionFilter); filtering again ANDs the criteria.
*/
static int func_filter(lua_State *L, rt_node *f) {
  int top = lua_gettop(L), i, n = 0;
  rt_node *items[16];
  lnode *ud;
  if (top < 2)
    return rt_lua_error(L, RT_EARGUMENT, "filter: a criterion is required");
  if (top > 15)
    return rt_lua_error(L, RT_EARGUMENT, "filter: too many criteria");
  for (i = 2; i <= top; i++) criterion(L, i, "filter", i - 1);
  ud = RESULT(L);
  if (f->kind == RT_N_FUNCFILTER) items[n++] = rt_ref(f->b);
  for (i = 0; i < top - 1; i++)
    items[n++] = rt_ref(lsql_tonode(L, top + 1 + i));
  SETRESULT(L, ud, rt_node_new(RT_N_FUNCFILTER));
  ud->n->a = rt_ref(f->kind == RT_N_FUNCFILTER ? f->a : f);
  ud->n->type = rt_type_ref(f->type);
  if (n == 1)
    ud->n->b = items[0];
  else {
    ud->n->b = rt_boollist(RT_OP_AND, items, n);
    lsql_check(L, ud->n->b);
  }
  return 1;
}

/* func.percentile_cont(0.5):within_group(order, ...): the ordered-set
** aggregate form; percentile_* and mode return the ordering's type. */
static int e_within_group(lua_State *L) {
  rt_node *f = checkkind(L, 1, RT_N_FUNC, RT_N_FUNC, "within_group"), *w;
  int top = lua_gettop(L), i;
  lnode *ud;
  const char *base = rt_func_basename(f);
  if (top < 2)
    return rt_lua_error(L, RT_EARGUMENT,
                        "within_group: an ORDER BY expression is required");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_new(RT_N_WITHINGROUP));
  w = ud->n;
  w->a = rt_ref(f);
  w->b = rt_list_new();
  lsql_check(L, w->b);
  for (i = 2; i <= top; i++) {
    rt_node *e = value_node(L, i, NULL, "within_group", i - 1);
    if (!e || rt_node_push(w->b, e) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  if (base &&
      (strcmp(base, "percentile_cont") == 0 ||
       strcmp(base, "percentile_disc") == 0 || strcmp(base, "mode") == 0)) {
    rt_node *o = w->b->kids[0];
    while (o->kind == RT_N_UNARY && o->a &&
           (o->op == RT_OP_DESC || o->op == RT_OP_ASC ||
            o->op == RT_OP_NULLSFIRST || o->op == RT_OP_NULLSLAST))
      o = o->a;
    w->type = rt_type_ref(o->type);
  } else
    w->type = rt_type_ref(f->type);
  return 1;
}

static int s_where(lua_State *L) {
  rt_node *s = checknode(L, 1, "where");
  rt_node *crit[15]; /* the criteria's nodes (kept on the stack) */
  int top = lua_gettop(L), i, slot;
  lnode *ud;
  if (s->kind == RT_N_UNARY && s->op == RT_OP_EXISTS && s->a &&
      s->a->kind == RT_N_SELECT) {
    /* exists():where(...) filters the select inside */
    lsql_pushref(L, s->a);
    lua_replace(L, 1);
    s_where(L);
    s = lsql_tonode(L, -1);
    ud = RESULT(L);
    SETRESULT(L, ud, rt_exists(rt_ref(s)));
    return 1;
  }
  if (s->kind == RT_N_FUNC || s->kind == RT_N_FUNCFILTER)
    return func_filter(L, s);
  if (s->kind == RT_N_SELECT)
    slot = RT_S_WHERE;
  else if (s->kind == RT_N_UPDATE || s->kind == RT_N_DELETE)
    slot = RT_D_WHERE;
  else
    return rt_lua_error(L, RT_EARGUMENT,
                        "where: not available on this construct");
  for (i = 2; i <= top; i++) {
    rt_node *c = criterion(L, i, "where", i - 1);
    if (i - 2 < 15) crit[i - 2] = c;
  }
  ud = RESULT(L);
  if (top == 2) {
    SETRESULT(L, ud, rt_gen_where(s, slot, rt_ref(crit[0])));
  } else if (top > 2) {
    /* several criteria: one AND list, built once */
    int n = top - 1, k = 0;
    rt_node *few[16],
        **items =
            n < 15
                ? few
                : lua_newuserdatauv(L, sizeof(rt_node *) * (size_t)(n + 1), 0);
    if (s->kids[slot]) items[k++] = rt_ref(s->kids[slot]);
    for (i = 0; i < n; i++)
      items[k++] = rt_ref(i < 15 ? crit[i] : lsql_tonode(L, top + 1 + i));
    if (items != few) lua_pop(L, 1);
    SETRESULT(L, ud, rt_gen_set(s, slot, rt_boollist(RT_OP_AND, items, k)));
  } else
    ud->n = rt_ref(s);
  return 1;
}

static int s_having(lua_State *L) {
  rt_node *s = checkselect(L, "having");
  int top = lua_gettop(L), i;
  lnode *ud = RESULT(L);
  ud->n = rt_ref(s);
  for (i = 2; i <= top; i++) {
    rt_node *c = criterion(L, i, "having", i - 1), *next;
    next = rt_gen_where(ud->n, RT_S_HAVING, rt_ref(c));
    lsql_check(L, next);
    rt_unref(ud->n);
    ud->n = next;
    lua_pop(L, 1);
  }
  return 1;
}

/* the entity filter_by() works on: the last join target, else the first
** table of the columns clause */
/* The first table or alias expression e names, depth first. */
static rt_node *first_owner(rt_node *e) {
  rt_node *found = NULL;
  int i;
  if (!e) return NULL;
  if (e->kind == RT_N_TABLE || e->kind == RT_N_ALIAS) return e;
  if (e->kind == RT_N_COLUMN) return e->owner;
  if (e->kind == RT_N_SELECT || e->kind == RT_N_COMPOUND ||
      e->kind == RT_N_SCALARSUB || e->kind == RT_N_TEXT)
    return NULL;
  if (!found) found = first_owner(e->a);
  if (!found) found = first_owner(e->b);
  if (!found) found = first_owner(e->c);
  for (i = 0; !found && i < e->n; i++) found = first_owner(e->kids[i]);
  return found;
}

/* What filter_by filters: the last join's target, else the entity of
** the first column (of the first column an expression there names), as
** SQLAlchemy's _filter_by_zero() and _entity_namespace() find it. */
static rt_node *filter_entity(rt_node *s) {
  rt_node *j = s->kids[RT_S_JOINS], *cols = s->kids[RT_S_COLUMNS];
  if (j && j->n) return j->kids[j->n - 1]->b;
  return cols && cols->n ? first_owner(cols->kids[0]) : NULL;
}

static rt_node *column_in(lua_State *L, rt_node *from, const char *key,
                          const char *fname) {
  rt_node *c = NULL;
  int i;
  /* an alias's columns go by the keys of the columns they proxy too */
  if (from->kind == RT_N_TABLE || from->kind == RT_N_ALIAS)
    c = rt_table_column(from, key);
  for (i = 0; !c && i < from->n; i++)
    if (from->kids[i] && strcmp(from->kids[i]->name, key) == 0)
      c = from->kids[i];
  if (!c)
    rt_lua_error(L, RT_EARGUMENT, "%s%sTable '%s' has no column '%s'",
                 fname ? fname : "", fname ? ": " : "",
                 from->name ? from->name : "anonymous", key);
  return c;
}

#define column_of(L, from, key) column_in(L, from, key, NULL)

/* filter_by's column: SQLAlchemy's "Entity namespace ... has no property" */
static rt_node *column_in_or(lua_State *L, rt_node *from, const char *key) {
  rt_node *c = NULL;
  int i;
  for (i = 0; !c && i < from->n; i++)
    if (from->kids[i] && strcmp(from->kids[i]->name, key) == 0)
      c = from->kids[i];
  if (!c)
    rt_lua_error(L, RT_EINVALIDREQUEST,
                 "Entity namespace for \"%s\" has no property \"%s\"",
                 from->name ? from->name : "anonymous", key);
  return c;
}

static int s_filter_by(lua_State *L) {
  rt_node *s = checkselect(L, "filter_by"), *ent = filter_entity(s);
  int n, i;
  rt_lua_checkarg(L, 2, LUA_TTABLE, "filter_by");
  /* a Row is a tuple, not keyword arguments (SQLAlchemy refuses it as
  ** a positional argument; row._mapping is a map) */
  if (rt_lua_isrow(L, 2))
    return rt_lua_error(L, RT_EARGUMENT,
                        "filter_by: argument #1 must be a table of names "
                        "and values, not a Row (use row._mapping)");
  if (!ent)
    return rt_lua_error(L, RT_EINVALIDREQUEST,
                        "filter_by: no entity to filter on");
  lua_settop(L, 2);
  /* sorted keys: the conditions join in key-name order */
  lua_newtable(L); /* 3 */
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, 3, (lua_Integer)lua_rawlen(L, 3) + 1);
    }
  }
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "sort");
  lua_pushvalue(L, 3);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  n = (int)lua_rawlen(L, 3);
  lua_pushvalue(L, 1); /* 4: the statement so far */
  for (i = 1; i <= n; i++) {
    rt_node *col;
    lua_settop(L, 4);
    lua_rawgeti(L, 3, i); /* 5 */
    /* (an unknown name is InvalidRequestError, as SQLAlchemy's
    ** entity namespace raises it) */
    if (ent->kind == RT_N_TABLE || ent->kind == RT_N_ALIAS)
      col = rt_table_column(ent, lua_tostring(L, 5));
    else
      col = NULL;
    if (!col) col = column_in_or(L, ent, lua_tostring(L, 5));

    lsql_pushref(L, col); /* 6 */
    lua_pushcfunction(L, e_eq);
    lua_pushvalue(L, 6);
    lua_pushvalue(L, 5);
    lua_gettable(L, 2);
    lua_call(L, 2, 1); /* 7: col == value */
    lua_pushcfunction(L, s_where);
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 7);
    lua_call(L, 2, 1);
    lua_replace(L, 4);
  }
  lua_settop(L, 4);
  return 1;
}

static int join_opts(lua_State *L, int idx) {
  int flags = 0;
  if (!lua_istable(L, idx) || lsql_tonode(L, idx)) return 0;
  if (lua_getfield(L, idx, "isouter") != LUA_TNIL && lua_toboolean(L, -1))
    flags |= RT_F_OUTER;
  if (lua_getfield(L, idx, "full") != LUA_TNIL && lua_toboolean(L, -1))
    flags |= RT_F_FULL | RT_F_OUTER;
  lua_pop(L, 2);
  return flags;
}

/* Table:join(right, on, opts) -> a Join; Select:join(target, on, opts) */
static int do_join(lua_State *L, int outer, const char *fname) {
  rt_node *s = checknode(L, 1, fname), *target = checknode(L, 2, fname);
  rt_node *on = lsql_tonode(L, 3);
  /* join(t, nil, {isouter = true}): the options follow a nil onclause */
  int flags =
      join_opts(L, on || lua_gettop(L) >= 4 ? 4 : 3) | (outer ? RT_F_OUTER : 0);
  lnode *ud = RESULT(L);
  if (s->kind == RT_N_SELECT) {
    SETRESULT(L, ud,
              rt_select_join(s, NULL, rt_ref(target), rt_ref(on), flags));
  } else {
    rt_error err = RT_ERROR_INIT;
    ud->n = rt_join(rt_ref(s), rt_ref(target), rt_ref(on), flags, &err);
    if (!ud->n) return rt_lua_raise(L, &err);
  }
  return 1;
}

static int s_join(lua_State *L) {
  return do_join(L, 0, "join");
}
static int s_outerjoin(lua_State *L) {
  return do_join(L, 1, "outerjoin");
}

static int join_from(lua_State *L, int outer, const char *fname) {
  rt_node *s = checkselect(L, fname);
  rt_node *left = lsql_checknode(L, 2, fname);
  rt_node *target = lsql_checknode(L, 3, fname);
  rt_node *on = lsql_tonode(L, 4);
  int flags =
      join_opts(L, on || lua_gettop(L) >= 5 ? 5 : 4) | (outer ? RT_F_OUTER : 0);
  lnode *ud = RESULT(L);
  SETRESULT(L, ud,
            rt_select_join(s, rt_ref(left), rt_ref(target), rt_ref(on), flags));
  return 1;
}

static int s_join_from(lua_State *L) {
  return join_from(L, 0, "join_from");
}
static int s_outerjoin_from(lua_State *L) {
  return join_from(L, 1, "outerjoin_from");
}

/* append each argument to a list slot of select s (at 1) */
static int append_args(lua_State *L, rt_node *s, int slot, const char *fname) {
  rt_node *old = s->kids[slot], *merged, *few[8];
  int top = lua_gettop(L), i;
  lnode *ud;
  for (i = 2; i <= top; i++) {
    rt_node *n = lsql_tonode(L, i);
    if (i - 2 < 8) few[i - 2] = n;
    if (!n && lua_type(L, i) != LUA_TSTRING)
      check_value(L, i, NULL, fname, i - 1);
  }
  ud = RESULT(L);
  merged = old ? rt_node_copy(old) : rt_list_new();
  lsql_check(L, merged);
  ud->n = merged; /* owned by the box until used */
  for (i = 2; i <= top; i++) {
    rt_node *e;
    if (i - 2 < 8 && few[i - 2]) /* (a node: told in the check above) */
      e = rt_ref(few[i - 2]);
    else if (lua_type(L, i) == LUA_TSTRING) /* a name: order_by("name") */
      e = rt_label_reference(lua_tostring(L, i));
    else
      e = value_node(L, i, NULL, fname, i - 1);
    if (!e || rt_node_push(merged, e) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  ud->n = NULL;
  ud->n = rt_gen_set(s, slot, merged);
  lsql_check(L, ud->n);
  return 1;
}

static int s_select_from(lua_State *L) {
  return append_args(L, checkselect(L, "select_from"), RT_S_FROMS,
                     "select_from");
}
/* order_by(nil) / group_by(nil): the clause emptied, as SQLAlchemy's
** order_by(None) cancels what was given before (null() is the keyword) */
static int reset_args(lua_State *L, int slot, const char *fname) {
  rt_node *s = lsql_checknode(L, 1, fname), *empty;
  lnode *ud = RESULT(L);
  empty = rt_list_new();
  lsql_check(L, empty);
  ud->n = rt_gen_set(s, slot, empty);
  lsql_check(L, ud->n);
  return 1;
}
static int s_group_by(lua_State *L) {
  rt_node *s = checkselect(L, "group_by");
  if (lua_gettop(L) == 2 && lua_isnil(L, 2))
    return reset_args(L, RT_S_GROUP, "group_by");
  return append_args(L, s, RT_S_GROUP, "group_by");
}
static int s_order_by(lua_State *L) {
  rt_node *s = checkselect(L, "order_by");
  if (lua_gettop(L) == 2 && lua_isnil(L, 2))
    return reset_args(L, RT_S_ORDER, "order_by");
  return append_args(L, s, RT_S_ORDER, "order_by");
}
static int s_correlate(lua_State *L) {
  return append_args(L, checkselect(L, "correlate"), RT_S_CORRELATE,
                     "correlate");
}
/* replace_selectable(table, alias): the statement with the table (and its
** columns) replaced by an alias of it */
static int s_replace_selectable(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "replace_selectable");
  rt_node *from = lsql_tonode(L, 2), *to = lsql_tonode(L, 3);
  lnode *ud;
  if (!from || (from->kind != RT_N_TABLE && from->kind != RT_N_ALIAS))
    return rt_lua_error(L, RT_EARGUMENT,
                        "replace_selectable: argument #1 must be a table or "
                        "an alias");
  if (!to || to->kind != RT_N_ALIAS)
    return rt_lua_error(L, RT_EARGUMENT,
                        "replace_selectable: argument #2 must be an alias");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_replace_selectable(s, from, to));
  return 1;
}

/* correlate_except(from, ...): correlate every FROM the enclosing select
** has but these; correlate_except(nil) correlates them all */
static int s_correlate_except(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "correlate_except");
  rt_node *old = s->kids[RT_S_CORRELATE], *l;
  int top = lua_gettop(L), i;
  lnode *ud;
  for (i = 2; i <= top; i++)
    if (!lua_isnil(L, i) && !lsql_tonode(L, i))
      return rt_lua_error(L, RT_EARGUMENT,
                          "correlate_except: argument #%d must be a FROM "
                          "clause element",
                          i - 1);
  ud = RESULT(L);
  SETRESULT(L, ud,
            old && (old->flags & RT_CORR_EXCEPT) ? rt_node_copy(old)
                                                 : rt_list_new());
  l = ud->n;
  l->flags |= RT_CORR_EXCEPT;
  for (i = 2; i <= top; i++)
    if (!lua_isnil(L, i) && rt_node_push(l, rt_ref(lsql_tonode(L, i))) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  ud->n = NULL;
  ud->n = rt_gen_set(s, RT_S_CORRELATE, l);
  lsql_check(L, ud->n);
  return 1;
}

static int s_with_only_columns(lua_State *L);

/* Does table column a have a foreign key to table column b? */
static int fk_references(const rt_node *a, const rt_node *b) {
  const rt_tabledata *d;
  int i, k;
  if (a->kind != RT_N_COLUMN || b->kind != RT_N_COLUMN || !a->owner ||
      !b->owner || a->owner->kind != RT_N_TABLE ||
      b->owner->kind != RT_N_TABLE || !(d = a->owner->ext))
    return 0;
  for (i = 0; i < d->ncons; i++) {
    const rt_constraint *con = &d->cons[i];
    if (con->kind != RT_CON_FK || !con->reftable ||
        rt_fk_target(a->owner, con->reftable) != b->owner)
      continue;
    for (k = 0; k < con->ncols; k++)
      if (strcmp(con->cols[k], a->name) == 0 &&
          strcmp(con->refcols[k], b->name) == 0)
        return 1;
  }
  return 0;
}

/* The equality criteria of `e` between two kept columns omit the later
** column of the pair (of the same name, with only_synonyms). */
static void reduce_by_clause(const rt_node *e, rt_node *cols, char *omit,
                             int only_syn) {
  int i;
  if (!e || e->kind == RT_N_SELECT || e->kind == RT_N_TABLE ||
      e->kind == RT_N_ALIAS || e->kind == RT_N_COLUMN)
    return;
  if (e->kind == RT_N_BINARY && e->op == RT_OP_EQ && e->a && e->b) {
    int l = -1, r = -1;
    for (i = 0; i < cols->n; i++) {
      if (omit[i]) continue;
      if (cols->kids[i] == e->a) l = i;
      if (cols->kids[i] == e->b) r = i;
    }
    if (l >= 0 && r >= 0 && (!only_syn || strcmp(e->a->name, e->b->name) == 0))
      omit[r] = 1;
    return;
  }
  reduce_by_clause(e->a, cols, omit, only_syn);
  reduce_by_clause(e->b, cols, omit, only_syn);
  reduce_by_clause(e->c, cols, omit, only_syn);
  for (i = 0; i < e->n; i++) reduce_by_clause(e->kids[i], cols, omit, only_syn);
}

/* reduce_columns(only_synonyms = true): leave out a column equivalent to
** an earlier one by a foreign key or by an equality of the WHERE or the
** joins (with only_synonyms, only those of the same name) */
static int s_reduce_columns(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "reduce_columns");
  rt_node *cols, *cl = s->kids[RT_S_COLUMNS];
  int only_syn = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
  int i, j;
  char *omit;
  lnode *box;
  lua_settop(L, 1);
  box = RESULT(L);
  SETRESULT(L, box, rt_list_new());
  cols = box->n;
  for (i = 0; i < cl->n; i++) {
    rt_node *e = cl->kids[i];
    if (e->kind == RT_N_TABLE || e->kind == RT_N_ALIAS ||
        e->kind == RT_N_JOIN) {
      if (rt_expand_columns(e, cols) != 0)
        return rt_lua_error(L, RT_EMEMORY, "out of memory");
    } else if (rt_node_push(cols, rt_ref(e)) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  omit = lua_newuserdatauv(L, (size_t)cols->n + 1, 0);
  memset(omit, 0, (size_t)cols->n + 1);
  for (i = 0; i < cols->n; i++)
    for (j = 0; j < cols->n && !omit[i]; j++)
      if (j != i && fk_references(cols->kids[i], cols->kids[j]) &&
          (!only_syn || strcmp(cols->kids[i]->name, cols->kids[j]->name) == 0))
        omit[i] = 1;
  reduce_by_clause(s->kids[RT_S_WHERE], cols, omit, only_syn);
  reduce_by_clause(s->kids[RT_S_JOINS], cols, omit, only_syn);
  reduce_by_clause(s->kids[RT_S_FROMS], cols, omit, only_syn);
  /* stack: the select, the list's box, omit; then the columns kept */
  for (i = 0; i < cols->n; i++)
    if (!omit[i]) lsql_pushref(L, cols->kids[i]);
  lua_remove(L, 3);
  lua_remove(L, 2);
  return s_with_only_columns(L);
}

static int s_add_columns(lua_State *L) {
  return append_args(L,
                     checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "add_columns"),
                     RT_S_COLUMNS, "add_columns");
}

static int s_with_only_columns(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "with_only_columns");
  int top = lua_gettop(L);
  rt_node *l;
  if (top == 2 && lua_istable(L, 2) && !lsql_tonode(L, 2))
    l = tablelist(L, 2, "with_only_columns");
  else
    l = arglist(L, 2, top, "with_only_columns");
  /* SQLAlchemy keeps the FROMs the old columns implied */
  {
    lnode *ud = RESULT(L);
    rt_node *froms =
        s->kids[RT_S_FROMS] ? rt_node_copy(s->kids[RT_S_FROMS]) : rt_list_new();
    rt_node *cols = s->kids[RT_S_COLUMNS];
    int i;
    lsql_check(L, froms);
    ud->n = froms;
    for (i = 0; i < cols->n; i++) {
      rt_node *c = cols->kids[i], *f = c->kind == RT_N_COLUMN ? c->owner : NULL;
      if (c->kind == RT_N_TABLE || c->kind == RT_N_ALIAS) f = c;
      if (f) {
        int j, dup = 0;
        for (j = 0; j < froms->n; j++)
          if (froms->kids[j] == f) dup = 1;
        if (!dup && rt_node_push(froms, rt_ref(f)) != 0)
          return rt_lua_error(L, RT_EMEMORY, "out of memory");
      }
    }
    {
      rt_node *a = rt_gen_set(s, RT_S_FROMS, froms);
      ud->n = NULL;
      lsql_check(L, a);
      ud->n = rt_gen_set(a, RT_S_COLUMNS, rt_ref(l));
      rt_unref(a);
      lsql_check(L, ud->n);
    }
  }
  return 1;
}

/* limit(n)/offset(n): an integer binds as an anonymous parameter */
static int limit_slot(lua_State *L, int slot, const char *fname) {
  rt_node *s = checkselect(L, fname), *v, *given = NULL;
  lnode *ud;
  int isint = lua_isinteger(L, 2);
  if (!isint && !lua_isnoneornil(L, 2) && !(given = lsql_tonode(L, 2)))
    return rt_lua_error(L, RT_EARGUMENT,
                        "%s: argument #1 must be an integer, not %s", fname,
                        luaL_typename(L, 2));
  ud = RESULT(L);
  if (given)
    v = rt_ref(given);
  else if (!isint)
    v = NULL;
  else {
    v = rt_bind("param", rt_vint(lua_tointeger(L, 2)),
                rt_type_bare(RT_TY_INTEGER), 1);
    lsql_check(L, v);
  }
  if (slot == RT_S_LIMIT && s->kids[RT_S_FETCH]) {
    /* limit() replaces a fetch(), as SQLAlchemy's does */
    rt_node *tmp = rt_gen_set(s, RT_S_FETCH, NULL);
    if (!tmp) {
      rt_unref(v);
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
    ud->n = rt_gen_set(tmp, slot, v);
    rt_unref(tmp);
    lsql_check(L, ud->n);
    return 1;
  }
  SETRESULT(L, ud, rt_gen_set(s, slot, v));
  return 1;
}

/* fetch(n, {percent, with_ties}): FETCH FIRST n ROWS, replacing limit() */
static int s_fetch(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "fetch"), *f, *tmp;
  lnode *ud, *fu;
  if (!lsql_tonode(L, 2) && !lua_isinteger(L, 2))
    return rt_lua_error(L, RT_EARGUMENT,
                        "fetch: argument #1 must be an integer, not %s",
                        luaL_typename(L, 2));
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  fu = RESULT(L);
  SETRESULT(L, fu, rt_list_new());
  f = fu->n;
  if (lsql_tonode(L, 2))
    f->a = rt_ref(lsql_tonode(L, 2));
  else {
    f->a = rt_bind("param", rt_vint(lua_tointeger(L, 2)),
                   rt_type_bare(RT_TY_INTEGER), 1);
    lsql_check(L, f->a);
  }
  if (lua_istable(L, 3)) {
    if (lua_getfield(L, 3, "percent") != LUA_TNIL && lua_toboolean(L, -1))
      f->flags |= RT_FETCH_PERCENT;
    if (lua_getfield(L, 3, "with_ties") != LUA_TNIL && lua_toboolean(L, -1))
      f->flags |= RT_FETCH_TIES;
    lua_pop(L, 2);
  }
  ud = RESULT(L);
  tmp = rt_gen_set(s, RT_S_LIMIT, NULL);
  lsql_check(L, tmp);
  ud->n = rt_gen_set(tmp, RT_S_FETCH, rt_ref(f));
  rt_unref(tmp);
  lsql_check(L, ud->n);
  return 1;
}

/* set_label_style(sa.LABEL_STYLE_*): how the columns clause is labelled */
static int s_set_label_style(lua_State *L) {
  static const char *const names[] = {
      "LABEL_STYLE_DISAMBIGUATE_ONLY", "LABEL_STYLE_TABLENAME_PLUS_COL",
      "LABEL_STYLE_NONE", "LABEL_STYLE_DEFAULT", NULL};
  static const unsigned flags[] = {0, RT_F_LS_TABLENAME, RT_F_LS_NONE, 0};
  rt_node *s = checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "set_label_style");
  const char *style = lua_tostring(L, 2);
  int k;
  lnode *ud;
  for (k = 0; style && names[k]; k++)
    if (strcmp(style, names[k]) == 0) break;
  if (!style || !names[k])
    return rt_lua_error(L, RT_EARGUMENT,
                        "set_label_style: argument #1 must be one of "
                        "sa.LABEL_STYLE_NONE, "
                        "sa.LABEL_STYLE_TABLENAME_PLUS_COL, "
                        "sa.LABEL_STYLE_DISAMBIGUATE_ONLY");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_gen_set(s, RT_S_COLUMNS, rt_ref(s->kids[RT_S_COLUMNS])));
  ud->n->flags =
      (ud->n->flags & ~(unsigned)(RT_F_LS_TABLENAME | RT_F_LS_NONE)) | flags[k];
  return 1;
}

/* prefix_with/suffix_with(text..., {dialect}) on a select */
static int select_hints(lua_State *L, int slot, const char *fname) {
  rt_node *s = checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, fname), *merged;
  int top = lua_gettop(L), i;
  const char *dialect = NULL;
  lnode *ud;
  if (top >= 2 && lua_istable(L, top)) {
    if (lua_getfield(L, top, "dialect") != LUA_TNIL) {
      if (!lua_isstring(L, -1))
        return rt_lua_error(L, RT_EARGUMENT, "%s: dialect must be a string",
                            fname);
      dialect = lua_tostring(L, -1);
      if (strcmp(dialect, "*") == 0) dialect = NULL;
    }
    top--;
  }
  for (i = 2; i <= top; i++) rt_lua_checkarg(L, i, LUA_TSTRING, fname);
  ud = RESULT(L);
  SETRESULT(L, ud, s->kids[slot] ? rt_node_copy(s->kids[slot]) : rt_list_new());
  merged = ud->n;
  for (i = 2; i <= top; i++) {
    rt_node *h = rt_literal_column(lua_tostring(L, i), NULL);
    if (h && dialect) {
      rt_node *w = rt_node_new(RT_N_LIST);
      if (w && !(w->name = rt_strdup(dialect))) {
        rt_unref(w);
        w = NULL;
      }
      if (w)
        w->a = h;
      else
        rt_unref(h);
      h = w;
    }
    if (!h || rt_node_push(merged, h) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  ud->n = NULL;
  ud->n = rt_gen_set(s, slot, merged);
  lsql_check(L, ud->n);
  return 1;
}

static int s_suffix_with(lua_State *L) {
  return select_hints(L, RT_S_SUFFIX, "suffix_with");
}

static int s_limit(lua_State *L) {
  return limit_slot(L, RT_S_LIMIT, "limit");
}

static int s_offset(lua_State *L) {
  return limit_slot(L, RT_S_OFFSET, "offset");
}

/* slice(start, stop): LIMIT stop - start OFFSET start, as SQLAlchemy */
static int s_slice(lua_State *L) {
  lua_Integer start, stop;
  int has_stop;
  checkselect(L, "slice");
  start = luaL_optinteger(L, 2, 0);
  has_stop = !lua_isnoneornil(L, 3);
  stop = has_stop ? luaL_checkinteger(L, 3) : 0;
  if (start < 0 || (has_stop && stop < start))
    return rt_lua_error(L, RT_EARGUMENT,
                        "slice: start and stop must be 0 <= start <= stop");
  lua_settop(L, 1);
  if (has_stop) {
    lua_pushinteger(L, stop - start);
    s_limit(L); /* 3 */
    lua_replace(L, 1);
    lua_settop(L, 1);
  }
  if (start > 0) {
    lua_pushinteger(L, start);
    s_offset(L);
  }
  return 1;
}

static int s_distinct(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "distinct");
  if (s->kind != RT_N_SELECT) return unary_fn(L, RT_OP_DISTINCT, "distinct");
  return gen_set(L, s, RT_S_DISTINCT, arglist(L, 2, lua_gettop(L), "distinct"));
}

static rt_node *values_table(lua_State *L, const char *name, unsigned flags,
                             rt_node **cols, int n, rt_node *rows);

/* values:alias(name) / values:lateral([name]): as SQLAlchemy's, a copy
** of the VALUES under that name rather than an alias around it */
static int values_alias(lua_State *L, rt_node *v, const char *name,
                        unsigned flags, const char *fname) {
  if (!name && !(flags & RT_F_LATERAL))
    return rt_lua_error(L, RT_EARGUMENT, "%s: argument #1 must be a name",
                        fname);
  values_table(L, name ? name : v->name, v->flags | (flags & RT_F_LATERAL),
               v->kids, v->n, v->a);
  return 1;
}

/* alias_of's flag for a CTE of INSERT / UPDATE / DELETE (no node flag) */
#define ALIAS_OF_DML 0x40000000

static int alias_of(lua_State *L, int flags, const char *fname) {
  rt_node *s = lsql_checknode(L, 1, fname);
  const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  lnode *ud;
  if (s->kind == RT_N_TABLE && (s->flags & RT_F_VALUES))
    return values_alias(L, s, name, flags, fname);
  /* a text() is a FROM once it has been given its columns */
  if ((!rt_is_selectable(s) || s->kind == RT_N_JOIN) &&
      !(s->kind == RT_N_TEXT && s->a) && !(flags & ALIAS_OF_DML))
    return rt_lua_error(L, RT_EARGUMENT, "%s: not available on this construct",
                        fname);
  ud = lsql_newnode(L); /* with a user value: caches .c */
  SETRESULT(L, ud, rt_alias(rt_ref(s), name, flags & ~ALIAS_OF_DML));
  return 1;
}

static int s_subquery(lua_State *L) {
  return alias_of(L, 0, "subquery");
}
static int s_alias(lua_State *L) {
  return alias_of(L, 0, "alias");
}
/* lateral(name): a subquery that may refer to the FROMs before it */
static int s_lateral(lua_State *L) {
  rt_node *v = lsql_tonode(L, 1);
  if (v && v->kind == RT_N_TABLE && (v->flags & RT_F_VALUES))
    return alias_of(L, RT_F_LATERAL, "lateral");
  checkkind(L, 1, RT_N_SELECT, RT_N_SELECT, "lateral");
  return alias_of(L, RT_F_LATERAL, "lateral");
}

static int s_cte(lua_State *L) {
  int flags = RT_F_CTE;
  int o = lua_istable(L, 2) ? 2 : lua_istable(L, 3) ? 3 : 0;
  rt_node *t = lsql_tonode(L, 1);
  if (t && (t->kind == RT_N_INSERT || t->kind == RT_N_UPDATE ||
            t->kind == RT_N_DELETE))
    flags |= ALIAS_OF_DML; /* WITH x AS (INSERT ... RETURNING ...) */
  else if (!t || t->kind != RT_N_TEXT)
    checkselect(L, "cte");
  if (o) {
    if (lua_getfield(L, o, "recursive") != LUA_TNIL && lua_toboolean(L, -1))
      flags |= RT_F_RECURSIVE;
    lua_pop(L, 1);
    if (o == 2) lua_pushnil(L), lua_replace(L, 2);
  }
  lua_settop(L, 2);
  return alias_of(L, flags, "cte");
}

static int s_scalar_subquery(lua_State *L) {
  rt_node *s = lsql_tonode(L, 1);
  if (!s || s->kind != RT_N_TEXT || !s->a)
    s = checkselect(L, "scalar_subquery");
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_scalar_subquery(rt_ref(s)));
  return 1;
}

static int l_exists(lua_State *L) {
  rt_node *s;
  lnode *ud;
  if (lua_gettop(L) == 0) {
    /* exists(): SELECT * ... completed by :where() */
    lnode *star = RESULT(L);
    SETRESULT(L, star, rt_literal_column("*", NULL));
  }
  if (!lsql_tonode(L, 1) || (lsql_tonode(L, 1)->kind != RT_N_SELECT &&
                             lsql_tonode(L, 1)->kind != RT_N_COMPOUND)) {
    build_select(L, 1, lua_gettop(L));
    lua_replace(L, 1);
    lua_settop(L, 1);
  }
  s = lsql_checknode(L, 1, "exists");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_exists(rt_ref(s)));
  return 1;
}

/* A member of a set operation: a select, or after the first a textual
** select (text():columns()), which SQLAlchemy cannot take first */
static void compound_member(lua_State *L, int i, const char *fname) {
  rt_node *s = lsql_tonode(L, i);
  if (i > 1 && s && s->kind == RT_N_TEXT && s->a) return;
  if (i == 1 && s && s->kind == RT_N_TEXT && s->a)
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: a textual select (text():columns()) can't be the first "
                 "member of a set operation",
                 fname);
  checkkind(L, i, RT_N_SELECT, RT_N_COMPOUND, fname);
}

static int compound(lua_State *L, int op, const char *fname) {
  int top = lua_gettop(L), i;
  rt_node **sels, *cte = lsql_tonode(L, 1);
  lnode *ud;
  if (cte && cte->kind == RT_N_ALIAS && (cte->flags & RT_F_CTE)) {
    /* cte:union_all(sel): a CTE of the combined select, standing in for
    ** the original wherever the recursive part refers to it */
    rt_node *body;
    lsql_pushref(L, cte->a);
    lua_replace(L, 1);
    compound(L, op, fname);
    body = lsql_tonode(L, -1);
    ud = RESULT(L);
    SETRESULT(L, ud,
              rt_alias(rt_ref(body), cte->name,
                       cte->flags & (RT_F_CTE | RT_F_RECURSIVE)));
    ud->n->c = rt_ref(cte);
    return 1;
  }
  for (i = 1; i <= top; i++) compound_member(L, i, fname);
  ud = RESULT(L);
  sels = lua_newuserdatauv(L, sizeof(rt_node *) * (size_t)(top + 1), 0);
  for (i = 0; i < top; i++) sels[i] = rt_ref(lsql_tonode(L, i + 1));
  SETRESULT(L, ud, rt_compound(op, sels, top));
  lua_pop(L, 1);
  return 1;
}

static int s_union(lua_State *L) {
  return compound(L, RT_OP_UNION, "union");
}
static int s_union_all(lua_State *L) {
  return compound(L, RT_OP_UNION_ALL, "union_all");
}
static int s_intersect(lua_State *L) {
  return compound(L, RT_OP_INTERSECT, "intersect");
}
static int s_except(lua_State *L) {
  return compound(L, RT_OP_EXCEPT, "except_");
}
static int s_intersect_all(lua_State *L) {
  return compound(L, RT_OP_INTERSECT_ALL, "intersect_all");
}
static int s_except_all(lua_State *L) {
  return compound(L, RT_OP_EXCEPT_ALL, "except_all");
}

static int s_with_for_update(lua_State *L) {
  rt_node *s = checkselect(L, "with_for_update"), *fu;
  lnode *fud = RESULT(L);
  SETRESULT(L, fud, rt_list_new());
  fu = fud->n;
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "nowait") != LUA_TNIL && lua_toboolean(L, -1))
      fu->flags |= RT_FU_NOWAIT;
    if (lua_getfield(L, 2, "skip_locked") != LUA_TNIL && lua_toboolean(L, -1))
      fu->flags |= RT_FU_SKIP_LOCKED;
    if (lua_getfield(L, 2, "read") != LUA_TNIL && lua_toboolean(L, -1))
      fu->flags |= RT_FU_READ;
    if (lua_getfield(L, 2, "key_share") != LUA_TNIL && lua_toboolean(L, -1))
      fu->flags |= RT_FU_KEY_SHARE;
    lua_pop(L, 4);
    if (lua_getfield(L, 2, "of") != LUA_TNIL) {
      rt_node *of = tablelist(L, -1, "with_for_update");
      int i;
      for (i = 0; i < of->n; i++)
        if (rt_node_push(fu, rt_ref(of->kids[i])) != 0)
          return rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
  }
  return gen_set(L, s, RT_S_FORUPDATE, fu);
}

static int s_self(lua_State *L) {
  lsql_checknode(L, 1, "options");
  lua_settop(L, 1);
  return 1;
}

/* --- DML --- */

static rt_node *checktable(lua_State *L, int idx, const char *fname) {
  rt_node *t = lsql_checknode(L, idx, fname);
  if (t->kind != RT_N_TABLE && t->kind != RT_N_ALIAS)
    rt_lua_error(L, RT_EARGUMENT, "%s: argument #%d must be a Table", fname,
                 idx);
  return t;
}

static int l_insert(lua_State *L) {
  rt_node *t = checktable(L, 1, "insert");
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_insert_new(t));
  return 1;
}
static int l_update(lua_State *L) {
  rt_node *t;
  lnode *ud;
  if (orm_hook(L, "update", 1, 1)) return 1;
  t = checktable(L, 1, "update");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_update_new(t));
  return 1;
}
static int l_delete(lua_State *L) {
  rt_node *t;
  lnode *ud;
  if (orm_hook(L, "delete", 1, 1)) return 1;
  t = checktable(L, 1, "delete");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_delete_new(t));
  return 1;
}

/* The column key a values() key at idx names: a string is the key
** itself; a Column (or a mapped class's column attribute) stands for its
** key, as SQLAlchemy takes either.  Other expressions are refused. */
static const char *value_key(lua_State *L, int idx, const char *fname) {
  rt_node *n;
  if (lua_type(L, idx) == LUA_TSTRING) return lua_tostring(L, idx);
  n = lsql_tonode(L, idx);
  if (!n || n->kind != RT_N_COLUMN)
    rt_lua_error(L, RT_EARGUMENT,
                 "%s: keys must be column names or Column objects", fname);
  return rt_column_key(n);
}

/* A list of labels (key = value) from the Lua table at idx, in the
** table's column order.  Values bind under the column key. */
static rt_node *value_list(lua_State *L, rt_node *t, int idx, int anon,
                           const char *fname) {
  lnode *lu;
  int at;
  idx = lua_absindex(L, idx);
  lu = RESULT(L);
  SETRESULT(L, lu, rt_list_new());
  at = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *key;
    rt_node *col, *v;
    key = value_key(L, -2, fname);
    col = column_in(L, t, key, fname);
    v = lsql_tonode(L, -1);
    if (v)
      v = rt_ref(v);
    else {
      rt_value val;
      int kind = col->type ? (int)col->type->kind : RT_TY_NULL;
      /* JSON and ARRAY values take their stored form now: the tree holds
      ** plain values */
      if (kind == RT_TY_JSON || kind == RT_TY_JSONB || kind == RT_TY_ARRAY ||
          (kind == RT_TY_INTERVAL && lua_istable(L, -1))) {
        lua_pushvalue(L, -1);
        rt_lua_bind_process(L, kind, 1);
        lua_replace(L, -2);
      }
      if (rt_lua_tovalue(L, -1, &val) != 0 || lua_istable(L, -1))
        rt_lua_error(L, RT_EARGUMENT, "%s: value for '%s' is not a SQL value",
                     fname, key);
      v = anon ? rt_bind("param", val, col->type, 1)
               : rt_bind(key, val, col->type, 0);
    }
    lsql_check(L, v);
    v = rt_label(key, v);
    if (!v || rt_node_push(lu->n, v) != 0)
      rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_pop(L, 1);
  }
  lua_settop(L, at);
  rt_dml_sort_values(t, lu->n);
  return lu->n;
}

static int d_values(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "values"), *t;
  lnode *ud;
  int i;
  if (s->kind != RT_N_INSERT && s->kind != RT_N_UPDATE)
    return rt_lua_error(L, RT_EARGUMENT,
                        "values: not available on this construct");
  t = s->kids[RT_D_TABLE];
  if (s->flags & RT_F_ORDERED)
    return rt_lua_error(L, RT_EINVALIDREQUEST,
                        "values: this statement already has ordered values "
                        "present");
  rt_lua_checkarg(L, 2, LUA_TTABLE, "values");
  if (lua_rawlen(L, 2) > 0 && s->kind == RT_N_INSERT) {
    /* multi-row VALUES */
    int n = (int)lua_rawlen(L, 2);
    lnode *mu = RESULT(L);
    SETRESULT(L, mu, rt_list_new());
    for (i = 1; i <= n; i++) {
      rt_node *row;
      lua_rawgeti(L, 2, i);
      if (!lua_istable(L, -1))
        return rt_lua_error(L, RT_EARGUMENT, "values: row %d is not a table",
                            i);
      row = value_list(L, t, -1, 0, "values");
      if (rt_node_push(mu->n, rt_ref(row)) != 0)
        return rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 2);
    }
    return gen_set(L, s, RT_D_MULTI, mu->n);
  }
  {
    rt_node *vals = value_list(L, t, 2, 0, "values");
    rt_node *old = s->kids[RT_D_VALUES];
    if (old) {
      /* later values() calls add to (and override) earlier ones */
      lnode *mu = RESULT(L);
      SETRESULT(L, mu, rt_ref(s));
      for (i = 0; i < vals->n; i++) {
        rt_node *next =
            rt_dml_value(mu->n, vals->kids[i]->name, rt_ref(vals->kids[i]->a));
        lsql_check(L, next);
        rt_unref(mu->n);
        mu->n = next;
      }
      return 1;
    }
    ud = RESULT(L);
    SETRESULT(L, ud, rt_gen_set(s, RT_D_VALUES, rt_ref(vals)));
    return 1;
  }
}

/* ordered_values({col_or_key, value}, ...): UPDATE's SET in this order */
static int d_ordered_values(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_UPDATE, RT_N_UPDATE, "ordered_values");
  rt_node *t = s->kids[RT_D_TABLE];
  int top = lua_gettop(L), i;
  lnode *lu, *ud;
  if (s->kids[RT_D_VALUES])
    return rt_lua_error(L, RT_EARGUMENT,
                        "ordered_values: this statement already has values "
                        "present");
  lu = RESULT(L);
  SETRESULT(L, lu, rt_list_new());
  for (i = 2; i <= top; i++) {
    rt_node *one, *col;
    const char *key;
    if (!lua_istable(L, i) || lua_rawlen(L, i) != 2)
      return rt_lua_error(L, RT_EARGUMENT,
                          "ordered_values: argument #%d must be a "
                          "{column, value} pair",
                          i - 1);
    lua_createtable(L, 0, 1);
    lua_rawgeti(L, i, 1);
    col = lsql_tonode(L, -1);
    if (col && col->kind == RT_N_COLUMN)
      key = rt_column_key(col);
    else if (lua_type(L, -1) == LUA_TSTRING)
      key = lua_tostring(L, -1);
    else
      return rt_lua_error(L, RT_EARGUMENT,
                          "ordered_values: argument #%d: the first item must "
                          "be a column or its key",
                          i - 1);
    lua_pushstring(L, key);
    lua_rawgeti(L, i, 2);
    lua_rawset(L, -4);
    lua_pop(L, 1);
    one = value_list(L, t, -1, 0, "ordered_values");
    if (one->n != 1 || rt_node_push(lu->n, rt_ref(one->kids[0])) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_pop(L, 2);
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_gen_set(s, RT_D_VALUES, rt_ref(lu->n)));
  ud->n->flags |= RT_F_ORDERED;
  return 1;
}

static int d_returning(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "returning");
  if (s->kind != RT_N_INSERT && s->kind != RT_N_UPDATE &&
      s->kind != RT_N_DELETE)
    return rt_lua_error(L, RT_EARGUMENT,
                        "returning: not available on this construct");
  if (s->flags & RT_F_RETDEFAULTS)
    return rt_lua_error(L, RT_EINVALIDREQUEST,
                        "return_defaults() is already configured on this "
                        "statement");
  return append_args(L, s, RT_D_RETURNING, "returning");
}

/* inline(): an INSERT without the implicit RETURNING of its generated key
** (inserted_primary_key then holds what the parameters give), as
** SQLAlchemy's; UPDATE accepts it too */
static int d_inline(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_INSERT, RT_N_UPDATE, "inline");
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_node_copy(s));
  ud->n->flags |= RT_F_INLINE;
  return 1;
}

/* return_defaults(col_or_key...): fetch the server-generated values in an
** implicit RETURNING where the dialect has one (result.returned_defaults);
** with columns, those alone */
static int d_return_defaults(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_INSERT, RT_N_UPDATE, "return_defaults");
  rt_node *t = s->kids[RT_D_TABLE], *cols = NULL;
  int top = lua_gettop(L), i;
  lnode *ud, *lu;
  if (s->kids[RT_D_RETURNING])
    return rt_lua_error(L, RT_EINVALIDREQUEST,
                        "RETURNING is already configured on this statement");
  if (top >= 2) {
    lu = RESULT(L);
    SETRESULT(L, lu,
              s->kids[RT_D_RETDEFAULTS]
                  ? rt_node_copy(s->kids[RT_D_RETDEFAULTS])
                  : rt_list_new());
    cols = lu->n;
    for (i = 2; i <= top; i++) {
      rt_node *c = lsql_tonode(L, i);
      if (lua_type(L, i) == LUA_TSTRING && t->kind == RT_N_TABLE)
        c = rt_table_column(t, lua_tostring(L, i));
      if (!c || c->kind != RT_N_COLUMN)
        return rt_lua_error(L, RT_EARGUMENT,
                            "return_defaults: argument #%d must be a column "
                            "of the table or its key",
                            i - 1);
      if (rt_node_push(cols, rt_ref(c)) != 0)
        return rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_gen_set(s, RT_D_RETDEFAULTS, rt_ref(cols)));
  ud->n->flags |= RT_F_RETDEFAULTS;
  return 1;
}

static int d_from_select(lua_State *L) {
  rt_node *s = checkkind(L, 1, RT_N_INSERT, RT_N_INSERT, "from_select");
  rt_node *sel = checkkind(L, 3, RT_N_SELECT, RT_N_COMPOUND, "from_select");
  rt_node *names;
  lnode *nu;
  int i, n;
  rt_lua_checkarg(L, 2, LUA_TTABLE, "from_select");
  n = (int)lua_rawlen(L, 2);
  nu = RESULT(L);
  SETRESULT(L, nu, rt_list_new());
  names = nu->n;
  for (i = 1; i <= n; i++) {
    rt_node *c, *lit;
    lua_rawgeti(L, 2, i);
    c = lsql_tonode(L, -1);
    lit = rt_literal_column(c ? c->name : luaL_checkstring(L, -1), NULL);
    if (!lit || rt_node_push(names, lit) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_pop(L, 1);
  }
  names->a = rt_ref(sel);
  return gen_set(L, s, RT_D_SELECT, names);
}

/* add_cte(cte...): CTEs the statement's WITH names whether it refers to
** them or not */
static int s_add_cte(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "add_cte");
  int slot = s->kind == RT_N_SELECT || s->kind == RT_N_COMPOUND ? RT_S_CTES
             : s->kind == RT_N_INSERT || s->kind == RT_N_UPDATE ||
                     s->kind == RT_N_DELETE
                 ? RT_D_CTES
                 : -1;
  int top = lua_gettop(L), i;
  if (slot < 0)
    return rt_lua_error(L, RT_EARGUMENT,
                        "add_cte: not available on this construct");
  for (i = 2; i <= top; i++) {
    rt_node *a = lsql_tonode(L, i);
    if (!a || a->kind != RT_N_ALIAS || !(a->flags & RT_F_CTE))
      return rt_lua_error(L, RT_EARGUMENT,
                          "add_cte: argument #%d must be a CTE", i - 1);
  }
  return append_args(L, s, slot, "add_cte");
}

static int d_prefix_with(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "prefix_with");
  int top = lua_gettop(L), i;
  if (s->kind == RT_N_SELECT)
    return select_hints(L, RT_S_PREFIX, "prefix_with");
  for (i = 2; i <= top; i++) rt_lua_checkarg(L, i, LUA_TSTRING, "prefix_with");
  /* anything else but DML has no prefix slot to append to */
  if (s->kind != RT_N_INSERT && s->kind != RT_N_UPDATE &&
      s->kind != RT_N_DELETE)
    return rt_lua_error(L, RT_EARGUMENT,
                        "prefix_with: not available on this construct");
  return append_args(L, s, RT_D_PREFIX, "prefix_with");
}

static int upsert(lua_State *L, int op, const char *fname) {
  rt_node *s = checkkind(L, 1, RT_N_INSERT, RT_N_INSERT, fname), *u;
  rt_node *t = s->kids[RT_D_TABLE];
  lnode *uu = RESULT(L);
  int top = lua_gettop(L);
  SETRESULT(L, uu, rt_node_new(RT_N_LIST));
  u = uu->n;
  u->op = (unsigned char)op;
  if (op == RT_UPSERT_DUPLICATE) {
    rt_lua_checkarg(L, 2, LUA_TTABLE, fname);
    u->b = rt_ref(value_list(L, t, 2, 1, fname));
  } else if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "index_elements") != LUA_TNIL) {
      rt_node *ie = lsql_tonode(L, -1)
                        ? arglist(L, lua_gettop(L), lua_gettop(L), fname)
                        : NULL;
      if (!ie) {
        int n = (int)lua_rawlen(L, -1), i;
        lnode *lu = RESULT(L);
        SETRESULT(L, lu, rt_list_new());
        for (i = 1; i <= n; i++) {
          rt_node *c;
          lua_rawgeti(L, top + 1, i);
          c = lsql_tonode(L, -1);
          if (!c) c = column_in(L, t, luaL_checkstring(L, -1), fname);
          if (rt_node_push(lu->n, rt_ref(c)) != 0)
            return rt_lua_error(L, RT_EMEMORY, "out of memory");
          lua_pop(L, 1);
        }
        ie = lu->n;
      }
      u->a = rt_ref(ie);
    }
    lua_settop(L, top + 1);
    /* index_where: the partial index's predicate after the target */
    if (lua_getfield(L, 2, "index_where") != LUA_TNIL) {
      rt_node *w = criterion(L, lua_gettop(L), fname, 1);
      if (!u->a)
        return rt_lua_error(L, RT_EARGUMENT,
                            "%s: index_where needs index_elements", fname);
      if (rt_node_push(u, rt_ref(w)) != 0)
        return rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
    lua_settop(L, top + 1);
    /* constraint: ON CONFLICT ON CONSTRAINT name (PostgreSQL), a name or
    ** a named constraint or index */
    if (lua_getfield(L, 2, "constraint") != LUA_TNIL) {
      const char *cn = NULL;
      if (lua_type(L, -1) == LUA_TSTRING)
        cn = lua_tostring(L, -1);
      else if (lua_istable(L, -1) || lua_isuserdata(L, -1)) {
        if (lua_getfield(L, -1, "name") == LUA_TSTRING)
          cn = lua_tostring(L, -1);
      }
      if (!cn)
        return rt_lua_error(L, RT_EARGUMENT,
                            "%s: constraint must be a constraint's name",
                            fname);
      if (u->a)
        return rt_lua_error(L, RT_EARGUMENT,
                            "'constraint' and 'index_elements' are mutually "
                            "exclusive");
      u->name = rt_strdup(cn);
      if (!u->name) return rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
    lua_settop(L, top + 1);
    if (lua_getfield(L, 2, "set_") == LUA_TTABLE)
      u->b = rt_ref(value_list(L, t, -1, 1, fname));
    lua_settop(L, top + 1);
    if (lua_getfield(L, 2, "where") != LUA_TNIL)
      u->c = rt_ref(criterion(L, lua_gettop(L), fname, 1));
    lua_settop(L, top + 1);
  }
  return gen_set(L, s, RT_D_CONFLICT, u);
}

static int d_on_conflict_do_nothing(lua_State *L) {
  return upsert(L, RT_UPSERT_NOTHING, "on_conflict_do_nothing");
}
static int d_on_conflict_do_update(lua_State *L) {
  return upsert(L, RT_UPSERT_UPDATE, "on_conflict_do_update");
}
static int d_on_duplicate_key_update(lua_State *L) {
  return upsert(L, RT_UPSERT_DUPLICATE, "on_duplicate_key_update");
}

static int ident_char(char ch) {
  return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9');
}

/* Does SQL text name bind :name?  (The compiler's reading of text(): a
** colon not after a colon, a backslash or a word character, then a
** name.) */
static int text_defines(const char *sql, const char *name) {
  const char *p = sql;
  size_t n = strlen(name);
  while ((p = strchr(p, ':')) != NULL) {
    if (p[1] == ':') {
      p += 2;
      continue;
    }
    if ((p == sql || (p[-1] != ':' && p[-1] != '\\' && !ident_char(p[-1]))) &&
        strncmp(p + 1, name, n) == 0 && !ident_char(p[1 + n]))
      return 1;
    p++;
  }
  return 0;
}

/* SQLAlchemy's refusal of a bind the text doesn't name */
static void check_text_bind(lua_State *L, rt_node *t, const char *name) {
  if (!text_defines(t->name, name))
    rt_lua_error(L, RT_EARGUMENT,
                 "This text() construct doesn't define a bound parameter "
                 "named '%s'",
                 name);
}

/* The bind text() t holds under `name` (the last given), or NULL */
static rt_node *text_bind(rt_node *t, const char *name) {
  int i;
  for (i = t->n - 1; i >= 0; i--)
    if (t->kids[i]->name && strcmp(t->kids[i]->name, name) == 0)
      return t->kids[i];
  return NULL;
}

/* Bind b (referenced here) into the copy t of a text(): it replaces the
** bind of its name, which would otherwise still ask for a value */
static void text_put_bind(lua_State *L, rt_node *t, rt_node *b) {
  int i;
  for (i = t->n - 1; i >= 0; i--)
    if (t->kids[i]->name && strcmp(t->kids[i]->name, b->name) == 0) {
      rt_unref(t->kids[i]);
      t->kids[i] = rt_ref(b);
      return;
    }
  if (rt_node_push(t, rt_ref(b)) != 0)
    rt_lua_error(L, RT_EMEMORY, "out of memory");
}

static int t_bindparams(lua_State *L);

/* bindparams(bindparam(...), ...[, {name = value}]): binds given
** positionally, then by name (SQLAlchemy's *binds, **names) */
static int t_bindparams_list(lua_State *L, rt_node *t) {
  int i, top = lua_gettop(L);
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_node_copy(t));
  for (i = 2; i <= top; i++) {
    rt_node *b = lsql_tonode(L, i);
    if (!b && i == top && lua_istable(L, i)) {
      lua_pushcfunction(L, t_bindparams);
      lua_pushvalue(L, top + 1);
      lua_pushvalue(L, top);
      lua_call(L, 2, 1);
      return 1;
    }
    if (!b || b->kind != RT_N_BIND)
      return rt_lua_error(L, RT_EARGUMENT,
                          "bindparams: argument #%d must be a bindparam()", i);
    check_text_bind(L, t, b->name);
    text_put_bind(L, ud->n, b);
  }
  return 1;
}

static int t_bindparams(lua_State *L) {
  rt_node *t = checkkind(L, 1, RT_N_TEXT, RT_N_TEXT, "bindparams");
  lnode *ud;
  if (lsql_tonode(L, 2)) return t_bindparams_list(L, t);
  rt_lua_checkarg(L, 2, LUA_TTABLE, "bindparams");
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_copy(t));
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    rt_value v;
    rt_node *b = lsql_tonode(L, -1);
    if (b && b->kind == RT_N_BIND && lua_type(L, -2) == LUA_TNUMBER) {
      /* bindparam(name, value, Type): a typed bind */
      check_text_bind(L, t, b->name);
      if (rt_node_push(ud->n, rt_ref(b)) != 0)
        return rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
      continue;
    }
    if (lua_type(L, -2) == LUA_TSTRING &&
        (b = text_bind(t, lua_tostring(L, -2))) &&
        (b->flags & RT_F_EXPANDING)) {
      /* name = list for an expanding bind: it keeps its type */
      b = expanded_bind(L, b->name, b->type, -1, "bindparams");
      text_put_bind(L, ud->n, b);
      lua_pop(L, 2);
      continue;
    }
    if (lua_type(L, -2) != LUA_TSTRING || rt_lua_tovalue(L, -1, &v) != 0 ||
        lua_istable(L, -1))
      return rt_lua_error(L, RT_EARGUMENT,
                          "bindparams: expected name = value pairs or "
                          "bindparam() objects");
    check_text_bind(L, t, lua_tostring(L, -2));
    b = rt_bind(lua_tostring(L, -2), v, NULL, 0);
    if (!b || rt_node_push(ud->n, b) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_pop(L, 1);
  }
  return 1;
}

/* params{name = value}, unique_params{...}: the binds of those names take
** the values; unique_params also makes every named bind anonymous, so the
** statement can be combined with another copy of itself. */
#define MAX_PARAM_LISTS 32

typedef struct paramctx {
  lua_State *L;
  int idx; /* the table of values, or 0 */
  int unique;
  const char *bad; /* a name whose value is not a SQL value */
  /* expanding binds given a list, and their replacements */
  rt_node *from[MAX_PARAM_LISTS], *to[MAX_PARAM_LISTS];
  int nlists, overflow;
} paramctx;

/* First pass of params{}: the expanding binds the table gives a list */
static rt_node *param_find_list(rt_node *b, void *ud) {
  paramctx *p = ud;
  int i, given;
  if (!(b->flags & RT_F_EXPANDING) || !b->name) return b;
  for (i = 0; i < p->nlists; i++)
    if (p->from[i] == b) return b;
  given = lua_getfield(p->L, p->idx, b->name) != LUA_TNIL;
  lua_pop(p->L, 1);
  if (given && p->nlists == MAX_PARAM_LISTS)
    p->overflow = 1;
  else if (given)
    p->from[p->nlists++] = b;
  return b;
}

/* The lists for the binds param_find_list found, boxed on the stack */
static void param_lists(lua_State *L, paramctx *p, rt_node *s,
                        const char *fname) {
  rt_node *r;
  int i;
  if (!p->idx) return;
  r = rt_replace_binds(s, param_find_list, p);
  if (!r) rt_lua_error(L, RT_EMEMORY, "out of memory");
  rt_unref(r);
  if (p->overflow)
    rt_lua_error(L, RT_EINVALIDREQUEST, "%s: more than %d expanding parameters",
                 fname, MAX_PARAM_LISTS);
  for (i = 0; i < p->nlists; i++) {
    lua_getfield(L, p->idx, p->from[i]->name);
    p->to[i] = expanded_bind(L, p->from[i]->name, p->from[i]->type, -1, fname);
    lua_remove(L, -2); /* the box stays */
  }
}

static rt_node *param_bind(rt_node *b, void *ud) {
  paramctx *p = ud;
  rt_value v;
  int has = 0, i;
  rt_node *n;
  if (b->flags & RT_F_EXPANDING) {
    for (i = 0; i < p->nlists; i++)
      if (p->from[i] == b) return rt_ref(p->to[i]);
    return b;
  }
  if (p->idx && b->name) {
    lua_getfield(p->L, p->idx, b->name);
    if (!lua_isnil(p->L, -1)) {
      if (lua_istable(p->L, -1) || rt_lua_tovalue(p->L, -1, &v) != 0) {
        if (!p->bad) p->bad = b->name;
      } else
        has = 1;
    }
    /* the value stays reachable in the table while it is copied */
    lua_pop(p->L, 1);
  }
  if (!has && !(p->unique && !(b->flags & RT_F_ANON))) return b;
  if (has) {
    n = rt_bind(b->name, v, b->type, 0);
    if (n) n->flags = b->flags & ~(unsigned)RT_F_REQUIRED;
  } else
    n = rt_node_copy(b);
  if (n && p->unique) n->flags |= RT_F_ANON;
  return n;
}

/* params{} of a text(): its :names not declared as binds take their
** values too (SQLAlchemy makes a bind of every :name).  The statement in
** box ud is a copy of its own. */
static void text_params(lua_State *L, lnode *ud, int idx, const char *fname) {
  rt_node *t, *b;
  if (ud->n->refs > 1) { /* unchanged so far: the original itself */
    if (!(t = rt_node_copy(ud->n)))
      rt_lua_error(L, RT_EMEMORY, "out of memory");
    rt_unref(ud->n);
    ud->n = t;
  }
  t = ud->n;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    rt_value v = rt_vnull();
    if (lua_type(L, -2) == LUA_TSTRING && !text_bind(t, lua_tostring(L, -2))) {
      if (lua_istable(L, -1) || rt_lua_tovalue(L, -1, &v) != 0)
        rt_lua_error(L, RT_EARGUMENT, "%s: value for '%s' is not a SQL value",
                     fname, lua_tostring(L, -2));
      b = rt_bind(lua_tostring(L, -2), v, NULL, 0);
      if (!b || rt_node_push(t, b) != 0)
        rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
    lua_pop(L, 1);
  }
}

/* The SELECT a subquery, or an alias of one, wraps; NULL for others. */
static rt_node *aliased_select(rt_node *a) {
  while (a && a->kind == RT_N_ALIAS && !(a->flags & RT_F_CTE)) a = a->a;
  return a && (a->kind == RT_N_SELECT || a->kind == RT_N_COMPOUND) ? a : NULL;
}

static int params_common(lua_State *L, int unique, const char *fname) {
  rt_node *s = lsql_checknode(L, 1, fname);
  paramctx p;
  lnode *ud;
  if (s->kind == RT_N_INSERT || s->kind == RT_N_UPDATE ||
      s->kind == RT_N_DELETE)
    return rt_lua_error(L, RT_EINVALIDREQUEST,
                        "%s: not supported for INSERT/UPDATE/DELETE statements",
                        fname);
  if (!lua_isnoneornil(L, 2)) rt_lua_checkarg(L, 2, LUA_TTABLE, fname);
  p.L = L;
  p.idx = lua_istable(L, 2) ? 2 : 0;
  p.unique = unique;
  p.bad = NULL;
  p.nlists = p.overflow = 0;
  param_lists(L, &p, s, fname);
  ud = RESULT(L);
  if (s->kind == RT_N_ALIAS && !(s->flags & RT_F_CTE) && aliased_select(s)) {
    /* a subquery (or an alias of one): a new one, of its SELECT with the
    ** values, under the same name */
    rt_node *e = rt_replace_binds(aliased_select(s), param_bind, &p);
    SETRESULT(L, ud, e ? rt_alias(e, s->name, (int)s->flags) : NULL);
  } else
    SETRESULT(L, ud, rt_replace_binds(s, param_bind, &p));
  if (p.bad)
    return rt_lua_error(L, RT_EARGUMENT,
                        "%s: value for '%s' is not a SQL value", fname, p.bad);
  if (s->kind == RT_N_TEXT && p.idx) text_params(L, ud, p.idx, fname);
  return 1;
}

static int e_params(lua_State *L) {
  return params_common(L, 0, "params");
}
static int e_unique_params(lua_State *L) {
  return params_common(L, 1, "unique_params");
}

/* A VALUES table named `name` with fresh columns like `cols` (count n,
** read through get) and the rows `rows` (referenced; may be NULL). */
static rt_node *values_table(lua_State *L, const char *name, unsigned flags,
                             rt_node **cols, int n, rt_node *rows) {
  rt_error err = RT_ERROR_INIT;
  lnode *ud = RESULT(L);
  int i;
  ud->n = rt_table_new(NULL, name, &err);
  if (!ud->n) rt_lua_raise(L, &err);
  ud->n->flags |= flags;
  for (i = 0; i < n; i++) {
    rt_node *col = rt_column(cols[i]->name, cols[i]->type);
    if (!col) rt_lua_error(L, RT_EMEMORY, "out of memory");
    if (rt_table_add_column(ud->n, col, &err) != 0) {
      rt_unref(col);
      rt_lua_raise(L, &err);
    }
    rt_unref(col); /* our reference now counts on the table */
  }
  ud->n->a = rt_ref(rows);
  return ud->n;
}

/* values(column(...), ..., {name, literal_binds}): the VALUES construct,
** a FROM element whose rows come from :data{{...}, ...} */
static int l_values(lua_State *L) {
  int top = lua_gettop(L), i, ncols;
  const char *name = NULL;
  unsigned flags = RT_F_VALUES | RT_F_LIGHT;
  rt_node *cols[64];
  if (top >= 1 && lua_istable(L, top) && !lsql_tonode(L, top)) {
    if (lua_getfield(L, top, "name") != LUA_TNIL) name = lua_tostring(L, -1);
    if (lua_getfield(L, top, "literal_binds") != LUA_TNIL &&
        lua_toboolean(L, -1))
      flags |= RT_F_VALUES_LITERAL;
    lua_pop(L, 1); /* the name string stays referenced by the table */
    top--;
  }
  /* unnamed, it renders bare: FROM (VALUES ...) and unqualified columns */
  if (!name) name = "";
  if (top < 1 || top > 64)
    return rt_lua_error(L, RT_EARGUMENT,
                        "values: between 1 and 64 column() arguments");
  for (i = 1; i <= top; i++) {
    cols[i - 1] = lsql_tonode(L, i);
    if (!cols[i - 1] || cols[i - 1]->kind != RT_N_COLUMN)
      return rt_lua_error(L, RT_EARGUMENT,
                          "values: argument #%d must be a column()", i);
  }
  ncols = top;
  values_table(L, name, flags, cols, ncols, NULL);
  return 1;
}

/* values:data{{v, ...}, ...}: a new VALUES with these rows added */
static int v_data(lua_State *L) {
  rt_node *v = lsql_checknode(L, 1, "data"), *rows;
  lnode *ru;
  lua_Integer i, n;
  int j;
  if (v->kind != RT_N_TABLE || !(v->flags & RT_F_VALUES))
    return rt_lua_error(L, RT_EARGUMENT,
                        "data: not available on this construct");
  rt_lua_checkarg(L, 2, LUA_TTABLE, "data");
  ru = RESULT(L);
  SETRESULT(L, ru, v->a ? rt_node_copy(v->a) : rt_list_new());
  rows = ru->n;
  n = (lua_Integer)lua_rawlen(L, 2);
  for (i = 1; i <= n; i++) {
    lnode *rowbox;
    if (lua_rawgeti(L, 2, i) != LUA_TTABLE ||
        (lua_Integer)lua_rawlen(L, -1) != v->n)
      return rt_lua_error(L, RT_EARGUMENT,
                          "data: row %d must be a list of %d values", (int)i,
                          v->n);
    rowbox = RESULT(L);
    SETRESULT(L, rowbox, rt_list_new());
    for (j = 0; j < v->n; j++) {
      rt_value val;
      rt_node *b;
      lua_rawgeti(L, -2, j + 1);
      if (lua_istable(L, -1) || rt_lua_tovalue(L, -1, &val) != 0)
        return rt_lua_error(L, RT_EARGUMENT,
                            "data: row %d, value %d is not a SQL value", (int)i,
                            j + 1);
      b = rt_bind("param", val, v->kids[j]->type, 1);
      if (!b || rt_node_push(rowbox->n, b) != 0)
        return rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
    }
    if (rt_node_push(rows, rt_ref(rowbox->n)) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_pop(L, 2);
  }
  values_table(L, v->name, v->flags, v->kids, v->n, rows);
  return 1;
}

/* --- compiling --- */

/* The dialect named by a string, or an engine's / connection's. */
static const rt_dialect *todialect(lua_State *L, int idx, const char *fname) {
  const rt_dialect *d;
  const char *name;
  if (lua_isnoneornil(L, idx)) return &rt_dialect_default;
  if (lua_type(L, idx) == LUA_TSTRING)
    name = lua_tostring(L, idx);
  else {
    lua_getfield(L, idx, "dialect");
    if (lua_type(L, -1) == LUA_TTABLE) {
      /* an engine on MariaDB quotes by MariaDB's reserved words */
      if (lua_getfield(L, -1, "is_mariadb") == LUA_TBOOLEAN &&
          lua_toboolean(L, -1))
        lua_pushliteral(L, "mariadb");
      else
        lua_getfield(L, -2, "name");
    }
    name = lua_tostring(L, -1);
    if (!name)
      rt_lua_error(L, RT_EARGUMENT,
                   "%s: argument must be a dialect name or an engine", fname);
  }
  d = rt_dialect_find(name);
  if (!d)
    rt_lua_error(L, RT_EARGUMENT, "%s: unknown dialect '%s'", fname, name);
  return d;
}

/* (the texts' ids: see push_sql) */
#define TEXT_SLOTS 256

typedef struct lcompiled {
  rt_compiled c;
  uint64_t text_ids[TEXT_SLOTS];
} lcompiled;

static int lcompiled_gc(lua_State *L) {
  lcompiled *c = lua_touserdata(L, 1);
  rt_compiled_free(&c->c);
  return 0;
}

/* Compile into a userdata that owns the result (so a raise can't leak). */
/*
** Compile into the state's scratch box: a userdata kept in the registry
** that owns the last result, so a raise while the result is being used
** leaks nothing, and a compile allocates no box of its own.  Nothing is
** pushed.  Callers use the result before compiling again.
*/
static const char scratch_key = 0;

/* (made when the module is opened) */
static void make_scratch(lua_State *L) {
  lcompiled *c = lua_newuserdatauv(L, sizeof *c, 1);
  memset(c, 0, sizeof *c);
  lua_createtable(L, TEXT_SLOTS, 0);
  lua_setiuservalue(L, -2, 1);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, lcompiled_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  slot_set(L, SLOT_SCRATCH, &scratch_key);
}

static rt_compiled *compile_ud(lua_State *L, rt_node *stmt, const rt_dialect *d,
                               const rt_compile_opts *o) {
  lcompiled *c;
  rt_error err = RT_ERROR_INIT;
  slot_get(L, SLOT_SCRATCH, &scratch_key);
  c = lua_touserdata(L, -1);
  lua_pop(L, 1); /* the registry keeps it */
  if (rt_compile_into(stmt, d, o, &c->c, &err) != 0) rt_lua_raise(L, &err);
  return &c->c;
}

/*
** A Compiled is a small userdata, not a table: made for every compile,
** it costs one allocation and no field stores.  Its user values: 1 the
** SQL text, 2 the statement, 3 and 4 params and positiontup once read
** (made then from a compile of the same statement, a memo hit).
*/
typedef struct lcompiledbox {
  const void *tag; /* &compiled_mt: the check needs no metatable lookup */
  const rt_dialect *d;
  int literal_binds;
} lcompiledbox;

enum { CV_SQL = 1, CV_STMT, CV_PARAMS, CV_POSITIONTUP, CV_COUNT = 4 };

static int compiled_tostring(lua_State *L) {
  luaL_checkudata(L, 1, "retort.Compiled");
  lua_getiuservalue(L, 1, CV_SQL);
  return 1;
}

static const char compiled_mt = 0; /* registry key of the metatable */

/* The Compiled at idx, told by its size and tag as a Node box is; raises
** for anything else. */
static const lcompiledbox *checkcompiled(lua_State *L, int idx) {
  const lcompiledbox *b = lua_touserdata(L, idx);
  if (!b || lua_rawlen(L, idx) != sizeof *b || b->tag != &compiled_mt)
    return luaL_checkudata(L, idx, "retort.Compiled"); /* (raises) */
  return b;
}

/*
** Push the SQL text of the result in scratch box sc (at scidx).  Most
** compiles are cache hits, whose text is a cached one's (c->text_id): the
** Lua string of each such text is made once and kept in the scratch box's
** user value (a table by slot of TEXT_SLOTS, the text's id in text_ids),
** rather than a new string of the same text made and collected per
** compile.
*/
static void push_sql(lua_State *L, lcompiled *sc, int scidx) {
  const rt_compiled *c = &sc->c;
  int slot = (int)(c->text_id % TEXT_SLOTS);
  if (!c->text_id) {
    lua_pushstring(L, c->sql);
    return;
  }
  lua_getiuservalue(L, scidx, 1);
  if (sc->text_ids[slot] == c->text_id) {
    lua_rawgeti(L, -1, slot + 1);
    lua_remove(L, -2);
    return;
  }
  lua_pushstring(L, c->sql);
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, slot + 1);
  sc->text_ids[slot] = c->text_id;
  lua_remove(L, -2);
}

/* Fill user values 3 and 4 (params in placeholder order, their names). */
static void compiled_params(lua_State *L, const lcompiledbox *b) {
  rt_node *s;
  rt_compile_opts o = {0, NULL, 0, 0, 0};
  rt_compiled *c;
  int i;
  lua_getiuservalue(L, 1, CV_STMT);
  s = lsql_tonode(L, -1);
  lua_pop(L, 1);
  if (!s) return;
  o.literal_binds = b->literal_binds;
  c = compile_ud(L, s, b->d, &o);
  lua_createtable(L, c->nparams, 0);
  lua_createtable(L, c->nparams, 0);
  for (i = 0; i < c->nparams; i++) {
    rt_lua_pushstored(L, c->params[i].value);
    lua_rawseti(L, -3, i + 1);
    lua_pushstring(L, c->params[i].name);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setiuservalue(L, 1, CV_POSITIONTUP);
  lua_setiuservalue(L, 1, CV_PARAMS);
}

/* compiled.sql, .dialect (its name), .params, .positiontup */
static int compiled_index(lua_State *L) {
  const lcompiledbox *b = checkcompiled(L, 1);
  const char *k = lua_tostring(L, 2);
  if (!k) return 0;
  if (strcmp(k, "sql") == 0) {
    lua_getiuservalue(L, 1, CV_SQL);
    return 1;
  }
  if (strcmp(k, "dialect") == 0) {
    lua_pushstring(L, b->d->name);
    return 1;
  }
  if (strcmp(k, "_statement") == 0) {
    lua_getiuservalue(L, 1, CV_STMT);
    return 1;
  }
  if (strcmp(k, "params") == 0 || strcmp(k, "positiontup") == 0) {
    int uv = k[0] == 'p' && k[1] == 'a' ? CV_PARAMS : CV_POSITIONTUP;
    if (lua_getiuservalue(L, 1, uv) == LUA_TNIL) {
      lua_pop(L, 1);
      compiled_params(L, b);
      lua_getiuservalue(L, 1, uv);
    }
    return 1;
  }
  return 0;
}

static int s_compile(lua_State *L) {
  rt_node *s = checknode(L, 1, "compile");
  const rt_dialect *d;
  rt_compile_opts o = {0, NULL, 0, 0, 0};
  rt_error err = RT_ERROR_INIT;
  lcompiled *sc;
  lcompiledbox *b;
  int opts = lua_istable(L, 3)                                ? 3
             : (lua_istable(L, 2) && !lua_getmetatable(L, 2)) ? 2
                                                              : 0;
  lua_settop(L, 3);
  if (opts == 2) {
    d = &rt_dialect_default;
  } else
    d = todialect(L, 2, "compile");
  lua_settop(L, 3);
  if (opts) {
    lua_getfield(L, opts, "literal_binds");
    o.literal_binds = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "compile_kwargs") == LUA_TTABLE) {
      lua_getfield(L, -1, "literal_binds");
      o.literal_binds |= lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  b = lua_newuserdatauv(L, sizeof *b, CV_COUNT); /* 4 */
  b->tag = &compiled_mt;
  b->d = d;
  b->literal_binds = o.literal_binds;
  slot_get(L, SLOT_COMPILED_MT, &compiled_mt);
  lua_setmetatable(L, 4);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, 4, CV_STMT);
  /* (compile_ud's work, its scratch box kept at 5 for push_sql) */
  slot_get(L, SLOT_SCRATCH, &scratch_key);
  sc = lua_touserdata(L, 5);
  if (rt_compile_into(s, d, &o, &sc->c, &err) != 0) rt_lua_raise(L, &err);
  push_sql(L, sc, 5);
  lua_setiuservalue(L, 4, CV_SQL);
  lua_settop(L, 4);
  return 1;
}

/* SQLAlchemy's str() of an alias prints what it wraps, not as a FROM: a
** subquery or CTE its SELECT (a lateral one as LATERAL (SELECT ...)), an
** alias of a table nothing at all. */
static int alias_tostring(lua_State *L, rt_node *s) {
  rt_compiled *c;
  int lateral = 0;
  while (s->kind == RT_N_ALIAS && s->a) {
    lateral |= (s->flags & RT_F_LATERAL) != 0;
    s = s->a;
  }
  if (s->kind == RT_N_TABLE && !(s->flags & RT_F_VALUES)) {
    lua_pushliteral(L, "");
    return 1;
  }
  c = compile_ud(L, s, &rt_dialect_default, NULL);
  if (lateral)
    lua_pushfstring(L, "LATERAL (%s)", c->sql);
  else
    lua_pushstring(L, c->sql);
  return 1;
}

/* (made when the module is opened) */
static void make_compiled_mt(lua_State *L) {
  luaL_newmetatable(L, "retort.Compiled");
  lua_pushcfunction(L, compiled_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, compiled_index);
  lua_setfield(L, -2, "__index");
  slot_set(L, SLOT_COMPILED_MT, &compiled_mt);
}

/*
** Whether column `c` is what SQLAlchemy makes a Column (a Table's column,
** an unattached Column(), or an alias's proxy of one, a label of one
** included) rather than a ColumnClause (sa.column(), a column of
** sa.table(), a proxy of an expression): str() prints a Column plainly.
*/
static int is_schema_column(const rt_node *c) {
  if (c->kind == RT_N_LABEL) c = c->a;
  if (!c || c->kind != RT_N_COLUMN || !c->name) return 0;
  if (!c->owner) return !(c->flags & RT_F_LIGHT);
  if (c->owner->kind == RT_N_TABLE) return !(c->owner->flags & RT_F_LIGHT);
  if (c->owner->kind != RT_N_ALIAS || (c->flags & RT_F_DEDUPED) || !c->a)
    return 0;
  return is_schema_column(c->a);
}

/*
** str() of a Column: "table.name" unquoted (the table's or alias's name,
** "anon_1" for an anonymous alias, never the schema), or the bare name.
*/
static int column_tostring(lua_State *L, const rt_node *c) {
  const rt_node *o = c->owner;
  if (!o)
    lua_pushstring(L, c->name);
  else if (!o->name)
    lua_pushfstring(L, "anon_1.%s", c->name);
  else
    lua_pushfstring(L, "%s.%s", o->name, c->name);
  return 1;
}

static int node_tostring(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "tostring");
  rt_compiled *c;
  /* a mapped class's attribute (lsql_attribute): "User.name" */
  if (lua_type(L, 1) == LUA_TUSERDATA &&
      lua_getiuservalue(L, 1, 2) == LUA_TSTRING)
    return 1;
  lua_settop(L, 1);
  if (is_schema_column(s) && s->kind == RT_N_COLUMN)
    return column_tostring(L, s);
  if (s->flags & RT_F_FETCHED) { /* FetchedValue() as SQLAlchemy's repr */
    lua_pushstring(L,
                   s->op ? "FetchedValue(for_update=True)" : "FetchedValue()");
    return 1;
  }
  if (s->kind == RT_N_TABLE && !(s->flags & RT_F_VALUES)) {
    const rt_tabledata *d = s->ext; /* its key, as SQLAlchemy's str() */
    if (d && d->schema)
      lua_pushfstring(L, "%s.%s", d->schema, s->name);
    else
      lua_pushstring(L, s->name);
    return 1;
  }
  if (s->kind == RT_N_COLUMN && s->name == NULL && s->owner == NULL) {
    lua_pushliteral(L, "(no name)"); /* as SQLAlchemy prints Column(type) */
    return 1;
  }
  if (s->kind == RT_N_ALIAS) return alias_tostring(L, s);
  if (s->kind == RT_N_SELECT &&
      lua_getfield(L, LUA_REGISTRYINDEX, LSQL_TOSTRING_FORM) == LUA_TFUNCTION) {
    rt_node *form;
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if ((form = lsql_tonode(L, -1)) != NULL) s = form; /* kept at -1 */
  }
  c = compile_ud(L, s, &rt_dialect_default, NULL);
  lua_pushstring(L, c->sql);
  return 1;
}

/*
** The compile hook conn:execute calls: (stmt, dialect_name, params) ->
** sql, positional.  `params` is nil, a map (one execution) or a list of
** maps (executemany); the positional result is a list of values, or a list
** of such lists.  A value the map gives for a parameter's name replaces
** the one in the statement; NULL travels as sa.null.
*/
/* The error of a parameter no value was given for: in an executemany
** (group >= 0, the list of sets at `sets`) SQLAlchemy names the set. */
static void required(lua_State *L, rt_compiled *c, const char *name, int map,
                     int group, int sets) {
  if (group >= 0)
    rt_lua_statement_error(L, RT_EINVALIDREQUEST, c->sql, sets,
                           "A value is required for bind parameter '%s', "
                           "in parameter group %d",
                           name, group);
  rt_lua_statement_error(L, RT_EINVALIDREQUEST, c->sql, map,
                         "A value is required for bind parameter '%s'", name);
}

static void positional_row(lua_State *L, rt_compiled *c, int map, int group) {
  int i;
  lua_createtable(L, c->nparams, 0);
  for (i = 0; i < c->nparams; i++) {
    int found = 0;
    if (map) {
      lua_getfield(L, map, c->params[i].name);
      found = !lua_isnil(L, -1);
      if (!found) lua_pop(L, 1);
    }
    if (!found && c->params[i].value == &rt_required_value)
      required(L, c, c->params[i].name, map, group, 3);
    if (!found) {
      rt_lua_pushstored(L, c->params[i].value);
    }
    lua_rawseti(L, -2, i + 1);
  }
}

/* The statement's own values, copied into the map for the defaults to
** see, bind from the statement again: they are in their stored form
** already (JSON text), which a map's value is not. */
static void forget_copied(lua_State *L, rt_node *vals, int map,
                          const char *copied) {
  int i;
  for (i = 0; vals && i < vals->n && i < 256; i++)
    if (copied[i]) {
      lua_pushnil(L);
      lua_setfield(L, map, vals->kids[i]->name);
    }
}

/*
** ctx:get_current_parameters([isolate_multiinsert_groups]): the row's
** parameters, as SQLAlchemy's DefaultExecutionContext gives them.  In a
** multi-row VALUES (the context has __row, __column, __keys) the
** parameters are every row's, <key>_m<row>: isolated (the default) they
** are this row's under the keys the first row gives, with the column
** being made.
*/
static int ctx_get_current_parameters(lua_State *L) {
  lua_Integer row, i, n;
  int params;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  lua_getfield(L, 1, "current_parameters"); /* 3 */
  params = 3;
  if (!lua_isnil(L, 2) && !lua_toboolean(L, 2)) return 1;
  if (lua_getfield(L, 1, "__row") != LUA_TNUMBER) {
    lua_pop(L, 1);
    return 1;
  }
  row = lua_tointeger(L, -1);
  lua_newtable(L); /* 5 */
  lua_getfield(L, 1, "__column");
  if (row)
    lua_pushfstring(L, "%s_m%I", lua_tostring(L, -1), row);
  else
    lua_pushvalue(L, -1);
  lua_gettable(L, params);
  lua_setfield(L, 5, lua_tostring(L, -2));
  lua_pop(L, 1);
  lua_getfield(L, 1, "__keys");
  n = luaL_len(L, -1);
  for (i = 1; i <= n; i++) {
    lua_geti(L, -1, i);
    lua_pushfstring(L, "%s_m%I", lua_tostring(L, -1), row);
    lua_gettable(L, params);
    lua_setfield(L, 5, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 1;
}

/* Push the context a default function is called with: current_parameters
** is the row's parameter map (at map). */
static void push_default_context(lua_State *L, int map) {
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, map);
  lua_setfield(L, -2, "current_parameters");
  if (luaL_newmetatable(L, "retort.DefaultContext")) {
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, ctx_get_current_parameters);
    lua_setfield(L, -2, "get_current_parameters");
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
}

/*
** Call the default function on top with the row's context; its value
** goes to the map under key.  An error it raises is kept at errslot (the
** first one only) and the key is given NULL, so the statement still
** compiles with the column for the StatementError's SQL, as SQLAlchemy's
** does; once an error is kept no function runs.
*/
static void call_lua_default(lua_State *L, int map, const char *key,
                             int errslot) {
  if (!lua_isnil(L, errslot)) {
    lua_pop(L, 1);
    rt_lua_pushnull(L);
  } else {
    push_default_context(L, map);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      lua_replace(L, errslot);
      rt_lua_pushnull(L);
    }
  }
  lua_setfield(L, map, key);
}

/* Raise the error a default function raised (at errslot) as SQLAlchemy
** does: a StatementError wrapping it, with the statement's SQL and the
** parameters given (at params, 0 or nil: none; one map shows as a list
** of one, as SQLAlchemy's parameter groups). */
static int raise_default_error(lua_State *L, int errslot, const char *sql,
                               int params) {
  rt_error err = RT_ERROR_INIT;
  const char *kind = NULL, *msg;
  if (lua_istable(L, errslot) &&
      lua_getfield(L, errslot, "kind") == LUA_TSTRING &&
      rt_errkind_byname(lua_tostring(L, -1)) != RT_OK) {
    kind = lua_tostring(L, -1);
    lua_getfield(L, errslot, "message");
  } else {
    lua_pushvalue(L, errslot);
  }
  msg = luaL_tolstring(L, -1, NULL);
  rt_error_set(&err, RT_ESTATEMENT, "%s", msg);
  if (params && lua_istable(L, params)) {
    lua_rawgeti(L, params, 1);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      lua_createtable(L, 1, 0);
      lua_pushvalue(L, params);
      lua_rawseti(L, -2, 1);
    } else
      lua_pushvalue(L, params);
    params = lua_gettop(L);
  } else
    params = 0;
  rt_lua_pusherror(L, &err);
  if (kind) {
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "orig_kind");
  }
  lua_pushvalue(L, errslot);
  lua_setfield(L, -2, "orig");
  rt_lua_error_context(L, sql, params);
  return lua_error(L);
}

/* A column's scalar default (insert) or onupdate value the map lacks, put
** in it for the functions after it to see, as SQLAlchemy's prefetched
** values are (it binds from the statement again: see forget_copied).
** Returns whether it did. */
static int scalar_in_map(lua_State *L, rt_node *col, int insert, int map) {
  rt_coldata *d = col->ext;
  rt_node *v = d ? (insert ? d->def : d->onupdate) : NULL;
  const char *key = rt_column_key(col);
  if (!v || v->kind != RT_N_BIND) return 0;
  if (lua_getfield(L, map, key) != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  rt_lua_pushstored(L, &v->value);
  lua_setfield(L, map, key);
  return 1;
}

/* Put the statement's other parameters (at binds, see push_stmt_binds)
** the map lacks in it for the functions to see; the keys put go in a
** list pushed, for forget_binds to take out again. */
static void binds_in_map(lua_State *L, int map, int binds) {
  lua_newtable(L);
  if (!binds) return;
  lua_pushnil(L);
  while (lua_next(L, binds)) {
    if (lua_getfield(L, map, lua_tostring(L, -2)) != LUA_TNIL) {
      lua_pop(L, 2);
      continue;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, map);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
  }
}

static void forget_binds(lua_State *L, int map, int list) {
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, list);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    lua_pushnil(L);
    lua_settable(L, map);
  }
}

/* Lua-function column defaults fill in keys the parameters lack (an
** error one raises kept at errslot).  The functions see the statement's
** other parameters too (at binds, 0: none), as SQLAlchemy's
** current_parameters hold every parameter of the compiled statement. */
static void apply_lua_defaults(lua_State *L, int stmt_idx, int map,
                               const char *reg, int errslot, int binds) {
  rt_node *s = lsql_tonode(L, stmt_idx), *t = s->kids[RT_D_TABLE];
  rt_node *vals = s->kids[RT_D_VALUES];
  char copied[256] = {0}, scalars[256] = {0};
  int i, bound;
  binds_in_map(L, map, binds);
  bound = lua_gettop(L);
  /* the function sees the statement's own values too */
  for (i = 0; vals && i < vals->n; i++) {
    rt_node *v = vals->kids[i]->a;
    if (v->kind != RT_N_BIND ||
        lua_getfield(L, map, vals->kids[i]->name) != LUA_TNIL) {
      if (v->kind == RT_N_BIND) lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    rt_lua_pushstored(L, &v->value);
    lua_setfield(L, map, vals->kids[i]->name);
    if (i < 256) copied[i] = 1;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, reg);
  lua_pushnil(L);
  if (lua_istable(L, -2)) {
    lua_pop(L, 1);
    lua_rawgetp(L, -1, t);
  }
  if (!lua_istable(L, -1)) {
    lua_pop(L, 2);
    forget_copied(L, vals, map, copied);
    forget_binds(L, map, bound);
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L); /* keep the pop count below */
  lua_insert(L, -2);
  for (i = 0; i < t->n; i++) {
    const char *key = rt_column_key(t->kids[i]);
    if (lua_getfield(L, -1, key) == LUA_TFUNCTION) {
      lua_getfield(L, map, key);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        call_lua_default(L, map, key, errslot);
      } else
        lua_pop(L, 2);
    } else {
      lua_pop(L, 1);
      if (i < 256)
        scalars[i] = scalar_in_map(L, t->kids[i], s->kind == RT_N_INSERT, map);
    }
  }
  lua_pop(L, 3);
  forget_copied(L, vals, map, copied);
  for (i = 0; i < t->n && i < 256; i++)
    if (scalars[i]) {
      lua_pushnil(L);
      lua_setfield(L, map, rt_column_key(t->kids[i]));
    }
  forget_binds(L, map, bound);
  lua_pop(L, 1);
}

/* Row row's value (of a multi-row VALUES) for column key, or NULL. */
static rt_node *row_value(rt_node *row, const char *key) {
  int i;
  for (i = 0; i < row->n; i++)
    if (strcmp(row->kids[i]->name, key) == 0) return row->kids[i]->a;
  return NULL;
}

/* A scalar default a row takes, in the map while the functions after it
** run (SQLAlchemy's prefetched value), listed at copied to go again. */
static void scalar_default_seen(lua_State *L, rt_node *col, rt_node *row, int r,
                                int map, int copied) {
  rt_coldata *d = col->ext;
  const char *key = rt_column_key(col);
  if (!d || !d->def || d->def->kind != RT_N_BIND || row_value(row, key)) return;
  if (r)
    lua_pushfstring(L, "%s_m%d", key, r);
  else
    lua_pushstring(L, key);
  if (lua_getfield(L, map, lua_tostring(L, -1)) != LUA_TNIL) {
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  rt_lua_pushstored(L, &d->def->value);
  lua_setfield(L, map, lua_tostring(L, -2));
  lua_rawseti(L, copied, (lua_Integer)lua_rawlen(L, copied) + 1);
}

/*
** A multi-row VALUES's Lua-function defaults (compiled as parameters
** <key> for the first row, <key>_m<row> after): each row's made in
** turn, as SQLAlchemy's execution does, the context's parameters every
** row's (the statement's own values copied in for it to see, and out
** again after).  map is the parameter map execution binds from.
*/
static void apply_multi_defaults(lua_State *L, rt_node *s, int map,
                                 int errslot) {
  rt_node *t = s->kids[RT_D_TABLE], *multi = s->kids[RT_D_MULTI];
  int r, i, fns, copied, keys, top = lua_gettop(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, LSQL_DEFAULTS) != LUA_TTABLE ||
      lua_rawgetp(L, -1, t) != LUA_TTABLE) {
    lua_settop(L, top);
    return;
  }
  fns = lua_gettop(L);
  lua_newtable(L); /* the keys copied in */
  copied = lua_gettop(L);
  for (r = 0; r < multi->n; r++)
    for (i = 0; i < multi->kids[r]->n; i++) {
      rt_node *v = multi->kids[r]->kids[i]->a;
      if (v->kind != RT_N_BIND || (v->flags & RT_F_ANON)) continue;
      lua_pushfstring(L, "%s_m%d", v->name, r);
      if (lua_getfield(L, map, lua_tostring(L, -1)) != LUA_TNIL) {
        lua_pop(L, 2);
        continue;
      }
      lua_pop(L, 1);
      rt_lua_pushstored(L, &v->value);
      lua_setfield(L, map, lua_tostring(L, -2));
      lua_rawseti(L, copied, (lua_Integer)lua_rawlen(L, copied) + 1);
    }
  lua_createtable(L, multi->kids[0]->n, 0); /* the first row's keys */
  keys = lua_gettop(L);
  for (i = 0; i < multi->kids[0]->n; i++) {
    lua_pushstring(L, multi->kids[0]->kids[i]->name);
    lua_rawseti(L, keys, i + 1);
  }
  for (r = 0; r < multi->n; r++)
    for (i = 0; i < t->n; i++) {
      const char *key = rt_column_key(t->kids[i]);
      const char *name;
      if (lua_getfield(L, fns, key) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        scalar_default_seen(L, t->kids[i], multi->kids[r], r, map, copied);
        continue;
      }
      if (r)
        name = lua_pushfstring(L, "%s_m%d", key, r);
      else
        name = lua_pushstring(L, key);
      if (row_value(multi->kids[r], key) ||
          lua_getfield(L, map, name) != LUA_TNIL) {
        lua_settop(L, keys);
        continue;
      }
      lua_pop(L, 1);
      lua_insert(L, -2); /* name below the function */
      if (!lua_isnil(L, errslot)) {
        lua_pop(L, 1);
        rt_lua_pushnull(L);
      } else {
        push_default_context(L, map);
        lua_pushinteger(L, r);
        lua_setfield(L, -2, "__row");
        lua_pushstring(L, key);
        lua_setfield(L, -2, "__column");
        lua_pushvalue(L, keys);
        lua_setfield(L, -2, "__keys");
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
          lua_replace(L, errslot);
          rt_lua_pushnull(L);
        }
      }
      lua_setfield(L, map, lua_tostring(L, -2));
      lua_settop(L, keys);
    }
  for (i = 1; i <= (int)lua_rawlen(L, copied); i++) {
    lua_rawgeti(L, copied, i);
    lua_pushnil(L);
    lua_setfield(L, map, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  lua_settop(L, fns - 2);
}

/*
** Does an INSERT need its parameter maps copied before they are read?
** Only when something adds keys to them: values() the statement gives as
** binds, or Lua-function defaults of its table.
*/
static int lua_defaults_add_keys(lua_State *L, rt_node *s, const char *reg) {
  rt_node *vals = s->kids[RT_D_VALUES];
  int i, adds;
  for (i = 0; vals && i < vals->n; i++)
    if (vals->kids[i]->a->kind == RT_N_BIND) return 1;
  if (lua_getfield(L, LUA_REGISTRYINDEX, reg) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  adds = 0;
  if (lua_rawgetp(L, -1, s->kids[RT_D_TABLE]) == LUA_TTABLE) {
    lua_pushnil(L);
    while (!adds && lua_next(L, -2)) {
      adds = lua_type(L, -1) == LUA_TFUNCTION;
      lua_pop(L, 1);
    }
    if (adds) lua_pop(L, 1); /* the key lua_next left */
  }
  lua_pop(L, 2);
  return adds;
}

/* Has the statement's table Lua-function defaults (in registry table
** reg)?  Their keys are added to the list at keys when it is nonzero. */
static int lua_default_fns(lua_State *L, rt_node *s, const char *reg,
                           int keys) {
  int found = 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, reg) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_rawgetp(L, -1, s->kids[RT_D_TABLE]) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -1) == LUA_TFUNCTION) {
        found = 1;
        if (keys) {
          lua_pushvalue(L, -2);
          lua_rawseti(L, keys, (lua_Integer)lua_rawlen(L, keys) + 1);
        }
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
  return found;
}

/*
** Push the parameters of the statement that are not its table's columns
** (a WHERE clause's id_1, a function's lower_1, ...) as a map of their
** values, for the Lua-function defaults to see: the statement is compiled
** with the keys it will be executed with (the first map's, at 3, and the
** functions' columns), so the names are those of the compile to come.
** An IN list's items make one list under the list's name, as SQLAlchemy
** binds it.  A parameter without a value is left to the maps.
*/
static void push_stmt_binds(lua_State *L, rt_node *s, const rt_dialect *d,
                            const char *reg, int many) {
  rt_compile_opts o = {0, NULL, 0, 0, 0};
  rt_node *t = s->kids[RT_D_TABLE];
  const char **keys;
  rt_compiled *c;
  int list, i, j, nkeys;
  lua_newtable(L);
  list = lua_gettop(L);
  if (lua_istable(L, 3)) {
    if (many)
      lua_rawgeti(L, 3, 1);
    else
      lua_pushvalue(L, 3);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING) continue;
      lua_pushvalue(L, -1);
      lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
    }
    lua_pop(L, 1);
  }
  lua_default_fns(L, s, reg, list);
  nkeys = (int)lua_rawlen(L, list);
  keys = lua_newuserdatauv(L, sizeof(char *) * (size_t)(nkeys + 1), 0);
  for (i = 0; i < nkeys; i++) {
    lua_rawgeti(L, list, i + 1);
    keys[i] = lua_tostring(L, -1); /* (the list keeps it) */
    lua_pop(L, 1);
  }
  keys[nkeys] = NULL;
  o.column_keys = keys;
  o.ncolumn_keys = nkeys;
  o.for_executemany = many && lua_istable(L, 3) && lua_rawlen(L, 3) > 1;
  c = compile_ud(L, s, d, &o);
  lua_newtable(L);
  for (i = 0; i < c->nparams; i++) {
    const rt_param *p = &c->params[i];
    size_t len = strlen(p->name);
    if (p->value == &rt_required_value) continue;
    for (j = 0; j < t->n; j++)
      if (strcmp(rt_column_key(t->kids[j]), p->name) == 0) break;
    if (j < t->n) continue; /* the column's: the defaults' own business */
    if (p->in_item) {
      /* name_<n>: the list's name is what is before the last _ */
      while (len > 0 && p->name[len - 1] != '_') len--;
      if (len > 0) len--;
      lua_pushlstring(L, p->name, len);
      if (lua_rawget(L, -2) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushlstring(L, p->name, len);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
      }
      rt_lua_pushstored(L, p->value);
      lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
      lua_pop(L, 1);
      continue;
    }
    rt_lua_pushstored(L, p->value);
    lua_setfield(L, -2, p->name);
  }
  lua_replace(L, list);
  lua_pop(L, 1); /* keys */
}

/*
** What compile_hook and exec_compile share: with (stmt, dialect, params)
** at 1..3, bring the parameters into their final form at 3 (INSERT maps
** copied when defaults add keys) and compile with the first map's keys.
** *many tells a list of maps, *n how many.
*/
/*
** Execution of a statement whose expanding binds wait for their lists
** (the compile said so): each list is read from the parameters under its
** bind's name, the statement rebuilt with the binds holding those values
** and compiled again; the new statement replaces the one at 1, which
** keeps it alive while its compiled form points into it.  One pass finds
** the binds, Lua builds their values (it may raise), a second pass swaps
** them in (it may not).
*/
#define MAX_EXPANDING 32

typedef struct expandctx {
  rt_node *from[MAX_EXPANDING];
  rt_node *to[MAX_EXPANDING];
  int n, overflow;
  lua_State *L;
  int map; /* the parameters, or 0 */
} expandctx;

/* Does the parameter map name expanding bind b, which has its list?  The
** list given at execution takes its place, as in SQLAlchemy. */
static int list_given(expandctx *x, rt_node *b) {
  int given;
  if (!x->map || !b->name) return 0;
  given = lua_getfield(x->L, x->map, b->name) != LUA_TNIL;
  lua_pop(x->L, 1);
  return given;
}

static rt_node *find_expanding(rt_node *b, void *ud) {
  expandctx *x = ud;
  int i;
  if (!(b->flags & RT_F_EXPANDING) ||
      (!(b->flags & RT_F_REQUIRED) && !list_given(x, b)))
    return b;
  for (i = 0; i < x->n; i++)
    if (x->from[i] == b) return b;
  if (x->n == MAX_EXPANDING)
    x->overflow = 1;
  else
    x->from[x->n++] = b;
  return b;
}

static rt_node *swap_expanding(rt_node *b, void *ud) {
  expandctx *x = ud;
  int i;
  for (i = 0; i < x->n; i++)
    if (x->from[i] == b) return rt_ref(x->to[i]);
  return b;
}

static rt_compiled *postcompile(lua_State *L, const rt_dialect *d,
                                const rt_compile_opts *o, int many, int n,
                                rt_compiled *c) {
  rt_node *s = lsql_checknode(L, 1, "execute"), *r;
  expandctx x;
  lnode *ud;
  int map = 0, i, top = lua_gettop(L);
  /* only binds with lists of their own: as compiled, unless the
  ** parameters give them others */
  if (!(c->postcompile & RT_POSTCOMPILE_WAITING) && many && n > 1) return c;
  if (many && n > 1)
    rt_lua_error(L, RT_EINVALIDREQUEST,
                 "'expanding' parameters can't be used with executemany()");
  if (lua_istable(L, 3) && !lsql_tonode(L, 3)) {
    if (many)
      lua_rawgeti(L, 3, 1);
    else
      lua_pushvalue(L, 3);
    map = lua_gettop(L);
  }
  memset(&x, 0, sizeof x);
  x.L = L;
  x.map = map;
  r = rt_replace_binds(s, find_expanding, &x);
  if (!r) rt_lua_error(L, RT_EMEMORY, "out of memory");
  rt_unref(r);
  if (x.n == 0) {
    lua_settop(L, top);
    return c;
  }
  if (x.overflow)
    rt_lua_error(L, RT_EINVALIDREQUEST,
                 "execute: more than %d expanding parameters", MAX_EXPANDING);
  for (i = 0; i < x.n; i++) {
    const char *key = x.from[i]->name;
    if (!map || lua_getfield(L, map, key) == LUA_TNIL)
      rt_lua_error(L, RT_EINVALIDREQUEST,
                   "A value is required for bind parameter '%s'", key);
    x.to[i] = expanded_bind(L, key, x.from[i]->type, -1, "execute");
    lua_remove(L, -2); /* the box stays */
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_replace_binds(s, swap_expanding, &x));
  lua_replace(L, 1);
  lua_settop(L, top);
  c = compile_ud(L, lsql_tonode(L, 1), d, o);
  if (c->postcompile & RT_POSTCOMPILE_WAITING)
    rt_lua_error(L, RT_EINVALIDREQUEST,
                 "execute: an expanding parameter inside a subquery or "
                 "alias can't be given its list");
  return c;
}

/* Parameters one statement may carry on every database (SQLite's limit) */
#define MAX_STMT_PARAMS 32766

static rt_compiled *hook_compile(lua_State *L, int *pmany, int *pn,
                                 int allow_rows) {
  rt_node *s = lsql_checknode(L, 1, "execute");
  const rt_dialect *d = rt_dialect_find(luaL_optstring(L, 2, "default"));
  rt_compile_opts o = {0, NULL, 0, 0, 0};
  int many = 0, n = 0, i, nkeys = 0;
  const char **keys;
  /* Lua-function defaults (INSERT) and onupdates (UPDATE) */
  const char *reg = s->kind == RT_N_INSERT   ? LSQL_DEFAULTS
                    : s->kind == RT_N_UPDATE ? LSQL_ONUPDATES
                                             : NULL;
  /* a multi-row VALUES executed with no parameters or one map */
  int multi =
      s->kind == RT_N_INSERT && s->kids[RT_D_MULTI] &&
      s->kids[RT_D_MULTI]->n > 0 &&
      (lua_isnoneornil(L, 3) || (lua_istable(L, 3) && lua_rawlen(L, 3) == 0));
  lua_settop(L, 3);
  /* 4: the parameters as given, 5: an error a default function raised */
  lua_pushvalue(L, 3);
  lua_pushnil(L);
  if (!d) d = &rt_dialect_default;
  if (lua_istable(L, 3) && !lsql_tonode(L, 3)) {
    lua_rawgeti(L, 3, 1);
    many = lua_istable(L, -1);
    /* a Row is a tuple, not a map of parameters (row._mapping is) */
    if (rt_lua_isrow(L, many ? -1 : 3))
      rt_lua_error(L, RT_EARGUMENT,
                   many ? "List argument must consist only of tuples or "
                          "dictionaries"
                        : "mapping or sequence expected for parameters");
    lua_pop(L, 1);
    n = many ? (int)lua_rawlen(L, 3) : 1;
  }
  /* copy the maps: Lua defaults may add keys (a multi-row VALUES's
  ** defaults are made once it is compiled, see below) */
  if (multi) {
  } else if (lua_istable(L, 3) && reg && lua_defaults_add_keys(L, s, reg)) {
    int list, binds = 0;
    if (lua_default_fns(L, s, reg, 0)) {
      push_stmt_binds(L, s, d, reg, many);
      binds = lua_gettop(L);
    }
    list = lua_gettop(L) + 1;
    lua_createtable(L, n, 0);
    for (i = 1; i <= n; i++) {
      lua_newtable(L);
      if (many) {
        if (lua_rawgeti(L, 3, i) != LUA_TTABLE)
          rt_lua_error(L, RT_EARGUMENT,
                       "execute: parameter set %d is not a table", i);
      } else
        lua_pushvalue(L, 3);
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -5);
      }
      lua_pop(L, 1);
      apply_lua_defaults(L, 1, lua_gettop(L), reg, 5, binds);
      lua_rawseti(L, list, i);
    }
    many = 1;
    lua_replace(L, 3);
    if (binds) lua_pop(L, 1);
  } else if (reg && !lua_istable(L, 3) &&
             (s->kind == RT_N_INSERT || lua_defaults_add_keys(L, s, reg))) {
    /* no parameters: Lua defaults still apply */
    int binds = 0;
    if (lua_default_fns(L, s, reg, 0)) {
      push_stmt_binds(L, s, d, reg, 0);
      binds = lua_gettop(L);
    }
    lua_createtable(L, 1, 0);
    lua_newtable(L);
    apply_lua_defaults(L, 1, lua_gettop(L), reg, 5, binds);
    lua_rawseti(L, -2, 1);
    lua_replace(L, 3);
    if (binds) lua_pop(L, 1);
    many = 1;
    n = 1;
  }
  if (s->kind != RT_N_INSERT && s->kind != RT_N_UPDATE) {
    /* only an INSERT's or UPDATE's text depends on the keys given */
    o.column_keys = NULL;
  } else if (lua_istable(L, 3) && !lsql_tonode(L, 3)) {
    /* the keys of the first map */
    int first;
    if (many)
      lua_rawgeti(L, 3, 1);
    else
      lua_pushvalue(L, 3);
    first = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, first)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING) nkeys++;
    }
    keys = lua_newuserdatauv(L, sizeof(char *) * (size_t)(nkeys + 1), 0);
    nkeys = 0;
    lua_pushnil(L);
    while (lua_next(L, first)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING) keys[nkeys++] = lua_tostring(L, -1);
    }
    o.column_keys = keys;
    o.ncolumn_keys = nkeys;
  } else {
    /* executing without parameters: no "all columns" form */
    static const char *const none[1] = {NULL};
    o.column_keys = none;
  }
  /* an INSERT .. RETURNING with several parameter sets: one statement of
  ** as many VALUES rows, so every row comes back (SQLAlchemy 2.0's
  ** insertmanyvalues); PostgreSQL's driver runs the one-row statement as
  ** an executemany that gives each execution's rows, as psycopg2 does for
  ** SQLAlchemy 1.4 */
  if (allow_rows && many && n > 1 && s->kind == RT_N_INSERT &&
      strcmp(d->name, "postgresql") != 0 && s->kids[RT_D_RETURNING] &&
      !s->kids[RT_D_MULTI] && !s->kids[RT_D_SELECT] &&
      (long)n * (long)s->kids[RT_D_TABLE]->n <= MAX_STMT_PARAMS)
    o.insert_rows = n;
  o.for_executemany = many && n > 1;
  *pmany = many;
  *pn = n;
  {
    rt_compiled *c = compile_ud(L, s, d, &o);
    if (multi && reg && lua_defaults_add_keys(L, s, reg)) {
      /* its defaults go in a map of their own (the given one copied) */
      lua_newtable(L);
      if (lua_istable(L, 3)) {
        lua_pushnil(L);
        while (lua_next(L, 3)) {
          lua_pushvalue(L, -2);
          lua_insert(L, -2);
          lua_settable(L, -4);
        }
      }
      apply_multi_defaults(L, s, lua_gettop(L), 5);
      lua_replace(L, 3);
      *pmany = many = 0;
      *pn = n = 1;
    }
    if (!lua_isnil(L, 5)) raise_default_error(L, 5, c->sql, 4);
    return c->postcompile ? postcompile(L, d, &o, many, n, c) : c;
  }
}

/* The letter of a bind's type in compile_hook's kinds string. */
static char kind_letter(int kind) {
  switch (kind) {
  case RT_TY_LARGEBINARY:
    return 'b';
  case RT_TY_JSON:
  case RT_TY_JSONB:
    return 'j';
  case RT_TY_UUID:
    return 'u';
  case RT_TY_ARRAY:
    return 'a';
  case RT_TY_DATETIME:
    return 't';
  case RT_TY_TIME:
    return 'm';
  case RT_TY_INTERVAL:
    return 'i';
  case RT_TY_DATE:
    return 'd';
  case RT_PARAM_SET:
    return 's';
  default:
    return '-';
  }
}

/* The parameters' types as letters (see RT_COMPILE_HOOK), or nil when
** none needs anything done. */
static void push_kinds(lua_State *L, const rt_compiled *c) {
  luaL_Buffer b;
  int i, any = 0;
  for (i = 0; i < c->nparams; i++) any |= kind_letter(c->params[i].kind) != '-';
  if (!any) {
    lua_pushnil(L);
    return;
  }
  luaL_buffinit(L, &b);
  for (i = 0; i < c->nparams; i++)
    luaL_addchar(&b, kind_letter(c->params[i].kind));
  luaL_pushresult(&b);
}

static void push_result_conv(lua_State *L, int idx, int pg);

/* A copy of compiled parameters c in a userdata with nuv user values,
** pushed: the values (but rt_required_value, which is told by address)
** and the names; not the SQL. */
static rt_compiled *push_params_copy(lua_State *L, const rt_compiled *c,
                                     int nuv) {
  int i, np = c->nparams;
  size_t names = 0, len;
  rt_compiled *o;
  rt_value *vals;
  char *p;
  for (i = 0; i < np; i++) names += strlen(c->params[i].name) + 1;
  o = lua_newuserdatauv(L,
                        sizeof *o + sizeof(rt_param) * (size_t)(np + 1) +
                            sizeof(rt_value) * (size_t)(np + 1) + names,
                        nuv);
  *o = *c;
  o->sql = NULL;
  o->names = NULL;
  o->block = NULL; /* (never freed: the userdata holds it all) */
  o->blockcap = 0;
  o->inblock = 0;
  o->params = (rt_param *)(o + 1);
  vals = (rt_value *)(o->params + np + 1);
  p = (char *)(vals + np + 1);
  for (i = 0; i < np; i++) {
    o->params[i] = c->params[i];
    if (c->params[i].value != &rt_required_value) {
      vals[i] = *c->params[i].value;
      o->params[i].value = &vals[i];
    }
    len = strlen(c->params[i].name) + 1;
    memcpy(p, c->params[i].name, len);
    o->params[i].name = p;
    p += len;
  }
  return o;
}

/*
** The copy made the uservalue of the userdata at `holder`.  A map with a
** metatable may run Lua code that compiles again, which reuses the scratch
** c is in (compile_ud).
*/
static rt_compiled *own_params(lua_State *L, int holder, const rt_compiled *c) {
  rt_compiled *o = push_params_copy(L, c, 0);
  lua_setiuservalue(L, holder, 1);
  return o;
}

/* Whether a parameter map at 3 (or one of the n sets there) has a
** metatable, whose __index may run Lua code. */
static int maps_run_code(lua_State *L, int many, int n) {
  int i, any = 0;
  if (!lua_istable(L, 3)) return 0;
  if (!many) {
    if (!lua_getmetatable(L, 3)) return 0;
    lua_pop(L, 1);
    return 1;
  }
  for (i = 1; i <= n && !any; i++) {
    if (lua_rawgeti(L, 3, i) == LUA_TTABLE && lua_getmetatable(L, -1)) {
      lua_pop(L, 1);
      any = 1;
    }
    lua_pop(L, 1);
  }
  return any;
}

static int compile_hook(lua_State *L) {
  int many, n, i;
  rt_compiled *c = hook_compile(L, &many, &n, 0);
  if (maps_run_code(L, many, n)) {
    /* the parameters copied out of the scratch first (own_params) */
    lua_newuserdatauv(L, 0, 1);
    lua_pushstring(L, c->sql);
    c = own_params(L, lua_gettop(L) - 1, c);
  } else
    lua_pushstring(L, c->sql);
  if (many && n > 1) {
    lua_createtable(L, n, 0);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 3, i);
      positional_row(L, c, lua_gettop(L), (int)i - 1);
      lua_rawseti(L, -3, i);
      lua_pop(L, 1);
    }
  } else if (lua_istable(L, 3)) {
    if (many)
      lua_rawgeti(L, 3, 1);
    else
      lua_pushvalue(L, 3);
    positional_row(L, c, lua_gettop(L), -1);
    lua_remove(L, -2);
  } else
    positional_row(L, c, 0, -1);
  push_kinds(L, c);
  push_result_conv(L, 1,
                   strcmp(luaL_optstring(L, 2, "default"), "postgresql") == 0);
  return 4;
}

/* Types whose values change form on the way in (rt_lua_bind_process). */
static int needs_processing(int kind) {
  return kind == RT_TY_JSON || kind == RT_TY_JSONB || kind == RT_TY_UUID ||
         kind == RT_TY_ARRAY || kind == RT_TY_DATETIME || kind == RT_TY_TIME ||
         kind == RT_TY_INTERVAL || kind == RT_PARAM_SET;
}

/* Types whose stored form depends on the database: the statement's own
** values take it at execution. */
static int per_database(int kind) {
  return kind == RT_TY_UUID || kind == RT_TY_DATETIME || kind == RT_TY_TIME ||
         kind == RT_TY_INTERVAL;
}

/* RT_BIND_* for a dialect. */
static int bind_flags(const char *dialect) {
  if (strcmp(dialect, "postgresql") == 0)
    return RT_BIND_NATIVE_UUID | RT_BIND_NATIVE_INTERVAL | RT_BIND_EXEC;
  if (strcmp(dialect, "sqlite") == 0) return RT_BIND_TIME_TEXT | RT_BIND_EXEC;
  if (strcmp(dialect, "mysql") == 0 || strcmp(dialect, "mariadb") == 0)
    return RT_BIND_NAIVE_TIME | RT_BIND_EXEC;
  return RT_BIND_EXEC;
}

/* Keep the string on top (popped) alive in the table at `anchor`, made
** when first needed. */
static void keep_made(lua_State *L, int anchor) {
  if (!lua_istable(L, anchor)) {
    lua_newtable(L);
    lua_replace(L, anchor);
  }
  lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
}

/*
** One row of exec_compile's array: each parameter's value from the map at
** `map` (0 for none) or from the statement.  Strings are borrowed from the
** map or the statement; a statement's blob goes as text, as it does when
** it travels through a Lua string.  A map with a metatable may make values
** up (__index): its strings are kept in the table at `anchor` (made when
** first needed, in that stack slot).  `keys`, when not 0, is the stack
** index of the names of params first.. as Lua strings: a map without a
** metatable is read with them directly.
*/
static int param_get(lua_State *L, const rt_compiled *c, int i, int map,
                     int key) {
  if (key == 0) return lua_getfield(L, map, c->params[i].name);
  lua_pushvalue(L, key);
  return lua_rawget(L, map);
}

static void values_row(lua_State *L, rt_compiled *c, int first, int count,
                       int map, int anchor, int flags, int group, rt_value *row,
                       int keys) {
  int i, computed = 0;
  if (map && lua_getmetatable(L, map)) {
    lua_pop(L, 1);
    computed = 1;
    keys = 0;
  }
  for (i = first; i < first + count; i++) {
    rt_value *v = &row[i - first];
    const rt_value *dflt = c->params[i].value;
    int kind = c->params[i].kind;
    if (map &&
        param_get(L, c, i, map, keys ? keys + i - first : 0) != LUA_TNIL) {
      if (needs_processing(kind)) {
        lua_pushvalue(L, -1);
        rt_lua_bind_process(L, kind, flags);
        if (!lua_rawequal(L, -1, -2)) {
          /* a new string: kept alive with the maps' made-up ones */
          lua_remove(L, -2);
          lua_pushvalue(L, -1);
          keep_made(L, anchor);
        } else
          lua_pop(L, 1);
      }
      if (rt_lua_tovalue(L, -1, v) != 0)
        rt_lua_error(L, RT_EARGUMENT,
                     "execute: parameter %d can't be bound: %s is not a SQL "
                     "value",
                     i + 1, luaL_typename(L, -1));
      if (computed && lua_type(L, -1) == LUA_TSTRING)
        keep_made(L, anchor);
      else
        lua_pop(L, 1); /* the string stays alive in its map */
    } else {
      if (map) lua_pop(L, 1);
      if (dflt == &rt_required_value)
        required(L, c, c->params[i].name, map, group, 3);
      *v = *dflt;
      /* the statement's own values were processed when they were made,
      ** but a Uuid's form depends on the database */
      if (per_database(kind) && dflt->type == RT_V_TEXT) {
        rt_lua_pushvalue(L, dflt);
        rt_lua_bind_process(L, kind, flags);
        rt_lua_tovalue(L, -1, v);
        keep_made(L, anchor);
      }
    }
    /* a LargeBinary parameter's string goes as bytes, others as text */
    if (v->type == RT_V_TEXT || v->type == RT_V_BLOB)
      v->type = kind == RT_TY_LARGEBINARY ? RT_V_BLOB : RT_V_TEXT;
    if (v->type == RT_V_TEXT) v->sqltype = rt_lua_bind_sqltype(kind);
  }
}

/* The conversion of result column e added to b (a table, alias or join
** stands for its columns); *any is set when one is not RT_CONV_NONE. */
static void add_conv(luaL_Buffer *b, const rt_node *e, int pg, int *any) {
  int i;
  if (e->kind == RT_N_JOIN) {
    add_conv(b, e->a, pg, any);
    add_conv(b, e->b, pg, any);
  } else if (e->kind == RT_N_TABLE || e->kind == RT_N_ALIAS ||
             e->kind == RT_N_LIST) {
    for (i = 0; i < e->n; i++) add_conv(b, e->kids[i], pg, any);
  } else {
    int conv = rt_lua_result_conv(e->type, pg);
    *any |= conv != RT_CONV_NONE;
    luaL_addchar(b, (char)conv);
  }
}

/* add_conv into a fixed buffer of `cap` bytes, where no Lua string is
** made; returns the length, or -1 when the columns don't fit. */
static int fill_conv(char *buf, int len, int cap, const rt_node *e, int pg,
                     int *any) {
  int i;
  if (len < 0) return -1;
  if (e->kind == RT_N_JOIN) {
    len = fill_conv(buf, len, cap, e->a, pg, any);
    return fill_conv(buf, len, cap, e->b, pg, any);
  }
  if (e->kind == RT_N_TABLE || e->kind == RT_N_ALIAS || e->kind == RT_N_LIST) {
    for (i = 0; i < e->n && len >= 0; i++)
      len = fill_conv(buf, len, cap, e->kids[i], pg, any);
    return len;
  }
  if (len == cap) return -1;
  buf[len] = (char)rt_lua_result_conv(e->type, pg);
  *any |= buf[len] != RT_CONV_NONE;
  return len + 1;
}

/* Conversions matched by name (see RT_CONV_BYNAME). */
static void add_conv_byname(luaL_Buffer *b, const rt_node *cols, int pg) {
  int i;
  luaL_addchar(b, (char)RT_CONV_BYNAME);
  for (i = 0; i < cols->n; i++) {
    luaL_addchar(b, (char)rt_lua_result_conv(cols->kids[i]->type, pg));
    luaL_addstring(b, cols->kids[i]->name);
    luaL_addchar(b, '\0');
  }
}

/*
** Push the result conversions of the statement at idx (a string of
** RT_CONV_* bytes, one per result column), or nil when it has no typed
** columns that need one.
*/
static void push_result_conv(lua_State *L, int idx, int pg) {
  rt_node *s = lsql_tonode(L, idx), *cols = NULL;
  luaL_Buffer b;
  int any = 0;
  while (s && s->kind == RT_N_COMPOUND && s->kids[RT_S_COLUMNS]->n > 0)
    s = s->kids[RT_S_COLUMNS]->kids[0];
  if (s && s->kind == RT_N_SELECT)
    cols = s->kids[RT_S_COLUMNS];
  else if (s && (s->kind == RT_N_INSERT || s->kind == RT_N_UPDATE ||
                 s->kind == RT_N_DELETE))
    cols = s->kids[RT_D_RETURNING];
  else if (s && s->kind == RT_N_TEXT)
    cols = s->a; /* text():columns() */
  if (!cols) {
    lua_pushnil(L);
    return;
  }
  if (!(cols->kind == RT_N_LIST && (cols->flags & RT_F_BYNAME))) {
    /* most statements: a few columns, often none needing a conversion */
    char few[128];
    int len = fill_conv(few, 0, (int)sizeof few, cols, pg, &any);
    if (len >= 0) {
      if (any)
        lua_pushlstring(L, few, (size_t)len);
      else
        lua_pushnil(L);
      return;
    }
    any = 0;
  }
  luaL_buffinit(L, &b);
  if (cols->kind == RT_N_LIST && (cols->flags & RT_F_BYNAME)) {
    add_conv_byname(&b, cols, pg);
    luaL_pushresult(&b);
    return;
  }
  add_conv(&b, cols, pg, &any);
  luaL_pushresult(&b);
  if (!any) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
}

/* A primary key column's value in the INSERT's own values(), pushed
** (sa.null when it has none there). */
static void push_stmt_value(lua_State *L, rt_node *s, const char *key) {
  rt_node *vals = s->kids[RT_D_VALUES];
  int i;
  for (i = 0; vals && i < vals->n; i++)
    if (strcmp(vals->kids[i]->name, key) == 0 &&
        vals->kids[i]->a->kind == RT_N_BIND &&
        vals->kids[i]->a->value.type != RT_V_NULL) {
      rt_lua_pushvalue(L, &vals->kids[i]->a->value);
      return;
    }
  rt_lua_pushnull(L);
}

/* A column's default when it is a plain value (default = 5), which the
** INSERT sends as a parameter; sa.null for none or a SQL expression. */
static void push_default_value(lua_State *L, rt_node *col) {
  rt_coldata *d = col->ext;
  if (d && d->def && d->def->kind == RT_N_BIND &&
      d->def->value.type != RT_V_NULL)
    rt_lua_pushvalue(L, &d->def->value);
  else
    rt_lua_pushnull(L);
}

/*
** How an INSERT's Result finds its inserted_primary_key (see
** rt_lua_result_setpk): the primary key columns' names and the values the
** parameters (map at `map`, 0 for none) or the statement give, with
** sa.null for the rest; `autoinc` is the position of the autoincrement
** column the database generates.  Pushes nil for other statements.
*/
/* The primary key values of one parameter set (map at `map`, 0 for none),
** as push_pk_plan describes them; *autoinc set as it says. */
static void push_pk_values(lua_State *L, rt_node *s, int map, int *autoinc) {
  rt_node *t = s->kids[RT_D_TABLE];
  int i, n = 0;
  lua_newtable(L);
  for (i = 0; i < t->n; i++) {
    rt_node *col = t->kids[i];
    const char *key = rt_column_key(col);
    if (!(col->flags & RT_F_PK)) continue;
    n++;
    if (!map || lua_getfield(L, map, key) == LUA_TNIL) {
      if (map) lua_pop(L, 1);
      push_stmt_value(L, s, key);
      if (rt_lua_isnull(L, -1)) {
        lua_pop(L, 1);
        push_default_value(L, col);
      }
      if (rt_lua_isnull(L, -1) && rt_column_is_autoinc(t, col)) *autoinc = n;
    }
    lua_rawseti(L, -2, n);
  }
}

/*
** executemany's keys: what each parameter set gives for a key column
** the first set names (the INSERT's columns are the first set's: a key
** only a later set gives is not inserted, and reads as None, as in
** SQLAlchemy), else what no set gives (the statement's value or the
** column's default), found once.  They are kept flat, set i's k-th key
** at (i-1)*n+k, leaving out NULLs (which read as nil); the Rows are made
** when inserted_primary_key_rows is first read (rt_lua_result_setpk).
** Sets `rows` (the count) and `flat` in the plan on top.  When no set
** gives a key and nothing else does either, every key is nil: the sets
** are not read at all.
*/
static void push_pk_rows(lua_State *L, rt_node *s, int params, int rows,
                         int n) {
  rt_node *t = s->kids[RT_D_TABLE];
  int plan = lua_gettop(L), i, k, ai = 0, keys, fallback, flat, first = 0;
  int read = 0;
  if (rows > 0 && lua_rawgeti(L, params, 1) == LUA_TTABLE)
    first = lua_gettop(L);
  lua_createtable(L, n, 0); /* the keys the first set gives, else false */
  keys = lua_gettop(L);
  for (i = 0, k = 0; i < t->n; i++)
    if (t->kids[i]->flags & RT_F_PK) {
      lua_pushstring(L, rt_column_key(t->kids[i]));
      if (first &&
          lua_getfield(L, first, rt_column_key(t->kids[i])) != LUA_TNIL) {
        lua_pop(L, 1);
        read = 1;
      } else {
        if (first) lua_pop(L, 1);
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
      }
      lua_rawseti(L, keys, ++k);
    }
  push_pk_values(L, s, 0, &ai);
  fallback = lua_gettop(L);
  for (k = 1; k <= n && !read; k++)
    if (lua_rawgeti(L, fallback, k) != LUA_TNIL && !rt_lua_isnull(L, -1))
      read = 1;
    else
      lua_pop(L, 1);
  lua_settop(L, fallback);
  lua_newtable(L);
  flat = lua_gettop(L);
  for (i = 1; i <= rows && read; i++) {
    int map = lua_rawgeti(L, params, i) == LUA_TTABLE ? lua_gettop(L) : 0;
    for (k = 1; k <= n; k++) {
      if (!map || lua_rawgeti(L, keys, k) == LUA_TBOOLEAN) {
        if (map) lua_pop(L, 1);
        lua_rawgeti(L, fallback, k);
      } else {
        if (lua_gettable(L, map) == LUA_TNIL) {
          lua_pop(L, 1);
          lua_rawgeti(L, fallback, k);
        }
      }
      if (lua_isnil(L, -1) || rt_lua_isnull(L, -1))
        lua_pop(L, 1);
      else
        lua_rawseti(L, flat, (lua_Integer)(i - 1) * n + k);
    }
    lua_pop(L, 1); /* the set */
  }
  lua_setfield(L, plan, "flat");
  lua_pushinteger(L, rows);
  lua_setfield(L, plan, "rows");
  lua_settop(L, plan);
}

/* The plan of an INSERT whose keys can't be known: names, each NULL. */
static void push_unknown_pk(lua_State *L, rt_node *t) {
  int i, n = 0;
  lua_createtable(L, 0, 4);
  lua_newtable(L); /* names */
  lua_newtable(L); /* values */
  for (i = 0; i < t->n; i++)
    if (t->kids[i]->flags & RT_F_PK) {
      lua_pushstring(L, t->kids[i]->name);
      lua_rawseti(L, -3, ++n);
      rt_lua_pushnull(L);
      lua_rawseti(L, -2, n);
    }
  lua_setfield(L, -3, "values");
  lua_setfield(L, -2, "names");
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_pushinteger(L, 0);
  lua_setfield(L, -2, "autoinc");
}

static void push_pk_plan(lua_State *L, int sidx, int params, int many) {
  rt_node *s = lsql_tonode(L, sidx), *t;
  int i, n = 0, autoinc = 0;
  if (s && s->kind == RT_N_UPDATE && (s->flags & RT_F_RETDEFAULTS) &&
      !s->kids[RT_D_RETURNING]) {
    /* return_defaults(): the RETURNING row is returned_defaults */
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "update");
    return;
  }
  if (!s || s->kind != RT_N_INSERT || s->kids[RT_D_RETURNING] ||
      s->kids[RT_D_TABLE]->kind != RT_N_TABLE) {
    lua_pushnil(L);
    return;
  }
  /* rows from a SELECT or a multi-row VALUES: SQLAlchemy's key is all
  ** None, one per key column */
  if (s->kids[RT_D_MULTI] || s->kids[RT_D_SELECT]) {
    push_unknown_pk(L, s->kids[RT_D_TABLE]);
    return;
  }
  lua_createtable(L, 0, 5);
  t = s->kids[RT_D_TABLE];
  lua_newtable(L); /* names */
  for (i = 0; i < t->n; i++)
    if (t->kids[i]->flags & RT_F_PK) {
      lua_pushstring(L, t->kids[i]->name);
      lua_rawseti(L, -2, ++n);
    }
  lua_setfield(L, -2, "names");
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  if (many) {
    /* executemany: keys the parameters give; the generated ones are not
    ** read back, and stay nil */
    int rows = (int)lua_rawlen(L, params);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "many");
    push_pk_rows(L, s, params, rows, n);
    return;
  }
  push_pk_values(L, s, params, &autoinc);
  lua_setfield(L, -2, "values");
  /* inline(): the keys are what the parameters give, none generated */
  lua_pushinteger(L, s->flags & RT_F_INLINE ? 0 : autoinc);
  lua_setfield(L, -2, "autoinc");
  if (s->flags & RT_F_RETDEFAULTS) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "retdefaults");
  }
}

/* What echo shows of the compile, as SQLAlchemy's log does. */
static void echo_tag(rt_lua_exec *out, const rt_node *s, const rt_compiled *c,
                     double t0) {
  double now = rt_compile_clock();
  if (s->kind == RT_N_DDL)
    snprintf(out->tag, sizeof out->tag, "no key %.5fs", now - t0);
  else if (c->cached_since > 0)
    snprintf(out->tag, sizeof out->tag, "cached since %.4gs ago",
             now - c->cached_since);
  else
    snprintf(out->tag, sizeof out->tag, "generated in %.5fs", now - t0);
}

/*
** Execution plans: what exec_compile makes of a statement that does not
** depend on the parameters' values, kept for the next execution of the
** same statement object on the same dialect.  Only for statements whose
** text no parameter key changes (not INSERT or UPDATE, which Lua defaults
** and the keys given shape) run with one map or none: a statement is
** immutable and its text a function of itself, the dialect and the schema
** epoch (as the compile memo has it), so the plan holds while those do.
** The plans are in a weak-keyed table (SLOT_PLANS): statement box -> plan,
** a copy of the compiled parameters (push_params_copy) with user values
** PLAN_*.
*/
static const char plan_key = 0;

enum { PLAN_SQL = 1, PLAN_CONV, PLAN_DIALECT, PLAN_STAMP, PLAN_NUV };

typedef struct plan_stamp {
  const rt_node *stmt;
  uint64_t serial, epoch;
  const char *dialect; /* the name's bytes: PLAN_DIALECT keeps the string */
} plan_stamp;

/* A statement that can have a plan, with (stmt, dialect, params) at 1..3:
** a node box of such a kind, a single map or none. */
static rt_node *plannable(lua_State *L) {
  rt_node *s = lsql_tonodebox(L, 1);
  if (!s || lua_type(L, 2) != LUA_TSTRING) return NULL;
  if (s->kind != RT_N_SELECT && s->kind != RT_N_COMPOUND &&
      s->kind != RT_N_TEXT && s->kind != RT_N_DELETE)
    return NULL;
  if (lua_isnil(L, 3)) return s;
  if (!lua_istable(L, 3)) return NULL;
  if (lua_rawgeti(L, 3, 1) != LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_pop(L, 1);
  return lsql_tonode(L, 3) ? NULL : s;
}

/*
** A plan is made on a statement's second execution: one made for every
** statement built and run once would cost more than plans save.  The
** statements run lately are told by serial, in a small table where a
** collision only costs a plan made later.
*/
#define PLAN_SEEN 256

static _Thread_local uint64_t plan_seen_serial[PLAN_SEEN];

static int plan_seen(const rt_node *s) {
  uint64_t *slot = &plan_seen_serial[s->serial % PLAN_SEEN];
  if (*slot == s->serial) return 1;
  *slot = s->serial;
  return 0;
}

/* Push the plan of statement s (its box at sidx) for `dialect` and return
** its compiled form, or push nothing and return NULL. */
static rt_compiled *plan_lookup(lua_State *L, int sidx, const rt_node *s,
                                const char *dialect) {
  rt_compiled *c;
  const plan_stamp *st;
  if (slot_get(L, SLOT_PLANS, &plan_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_pushvalue(L, sidx);
  if (lua_rawget(L, -2) != LUA_TUSERDATA) {
    lua_pop(L, 2);
    return NULL;
  }
  lua_remove(L, -2);
  c = lua_touserdata(L, -1);
  lua_getiuservalue(L, -1, PLAN_STAMP);
  st = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!st || st->stmt != s || st->serial != s->serial ||
      st->epoch != rt_schema_epoch() || strcmp(st->dialect, dialect) != 0) {
    lua_pop(L, 1);
    return NULL;
  }
  return c;
}

/* Push the plan of the statement at 1 for the dialect at 2 and return its
** compiled form, or push nothing and return NULL. */
static rt_compiled *plan_find(lua_State *L, const rt_node *s) {
  return plan_lookup(L, 1, s, lua_tostring(L, 2));
}

/* Keep a plan for the statement at 1 on the dialect at 2: compiled form
** c, its SQL (a string at sql) and result conversions (at conv). */
static void plan_store(lua_State *L, const rt_node *s, const rt_compiled *c,
                       int sql, int conv) {
  plan_stamp *st;
  rt_compiled *o;
  int top = lua_gettop(L);
  if (slot_get(L, SLOT_PLANS, &plan_key) != LUA_TTABLE) {
    lua_settop(L, top);
    return;
  }
  lua_pushvalue(L, 1);
  o = push_params_copy(L, c, PLAN_NUV - 1);
  /* for the errors that quote it; PLAN_SQL keeps the string */
  o->sql = (char *)lua_tostring(L, sql);
  lua_pushvalue(L, sql);
  lua_setiuservalue(L, -2, PLAN_SQL);
  lua_pushvalue(L, conv);
  lua_setiuservalue(L, -2, PLAN_CONV);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, PLAN_DIALECT);
  st = lua_newuserdatauv(L, sizeof *st, 0);
  st->stmt = s;
  st->serial = s->serial;
  st->epoch = rt_schema_epoch();
  st->dialect = lua_tostring(L, 2);
  lua_setiuservalue(L, -2, PLAN_STAMP);
  lua_rawset(L, -3);
  lua_settop(L, top);
}

/* Does the dialect's driver take its parameters by name, as SQLAlchemy's
** psycopg2 does (a database error shows them so)? */
static int by_name(const char *dialect) {
  return dialect && strcmp(dialect, "postgresql") == 0;
}

/* exec_compile with the plan of the statement at 4 (see plan_find). */
static int exec_planned(lua_State *L, rt_lua_exec *out, rt_compiled *c) {
  int flags = bind_flags(lua_tostring(L, 2));
  rt_value *vals = lua_newuserdatauv(
      L, sizeof(rt_value) * ((size_t)c->nparams + 1), 1); /* 5 */
  lua_pushvalue(L, 4);
  lua_setiuservalue(L, 5, 1); /* the plan lives as long as the values */
  lua_getiuservalue(L, 4, PLAN_CONV);
  lua_getiuservalue(L, 4, PLAN_SQL);
  lua_replace(L, 4);    /* 4: sql */
  lua_pushvalue(L, 3);  /* 6 */
  lua_pushnil(L);       /* 7: the anchor, when a map needs one */
  lua_rotate(L, 6, -1); /* 8: conversions */
  values_row(L, c, 0, c->nparams, lua_istable(L, 3) ? 3 : 0, 7, flags, -1, vals,
             0);
  lua_settop(L, 8);
  lua_pushnil(L); /* 9: no inserted_primary_key */
  out->sql = lua_tostring(L, 4);
  out->vals = vals;
  out->nparams = c->nparams;
  out->nrows = 1;
  out->conv = (const unsigned char *)lua_tostring(L, 8);
  out->nconv = (int)lua_rawlen(L, 8);
  /* (the values keep the plan) */
  out->names = by_name(lua_tostring(L, 2)) ? c->params : NULL;
  lua_pushnil(L); /* 10 */
  return 7;
}

/*
** conn:execute's way to a plan without a call to exec_compile: what
** exec_planned does, for the statement at `stmt` and the parameters at
** `params` of the caller's frame, with the values written to `buf` when
** they fit (nbuf values).  See lsql.h.  The memo makes the statement run
** last on a connection a pointer test away from its plan: a plan is
** immutable and its stamp says for what it holds, so the one remembered
** is as good as the one in the table as long as the stamp matches.
*/
int lsql_exec_planned(lua_State *L, int stmt, rt_node *s, int params,
                      const char *dialect, int holder, rt_lua_plan_memo *memo,
                      rt_lua_exec *out, rt_value *buf, int nbuf) {
  rt_compiled *c;
  rt_value *vals;
  int map = 0, base = lua_gettop(L) + 1;
  if (!s || (s->kind != RT_N_SELECT && s->kind != RT_N_COMPOUND &&
             s->kind != RT_N_TEXT && s->kind != RT_N_DELETE))
    return 0;
  if (lua_istable(L, params)) {
    /* not a list of maps, nor a table standing for a node (lsql_tonode) */
    int other;
    if (lua_rawlen(L, params) != 0) { /* (a border 0 tells no [1]) */
      other = lua_rawgeti(L, params, 1) != LUA_TNIL;
      lua_pop(L, 1);
      if (other) return 0;
    }
    lua_pushliteral(L, "__clause_element__");
    other =
        lua_rawget(L, params) == LUA_TUSERDATA && lsql_tonodebox(L, -1) != NULL;
    lua_pop(L, 1);
    if (other) return 0;
    map = params;
  } else if (!lua_isnil(L, params))
    return 0;
  if (memo->stmt == (const void *)s && memo->serial == s->serial &&
      memo->epoch == rt_schema_epoch() && memo->dialect == dialect &&
      lua_getiuservalue(L, holder, memo->uv) == LUA_TUSERDATA &&
      lua_touserdata(L, base) == memo->plan) {
    c = memo->plan;
  } else {
    lua_settop(L, base - 1);
    if ((c = plan_lookup(L, stmt, s, dialect)) == NULL) return 0;
    lua_getiuservalue(L, base, PLAN_CONV);
    memo->plan = c;
    memo->stmt = s;
    memo->serial = s->serial;
    memo->epoch = rt_schema_epoch();
    memo->dialect = dialect;
    /* the plan keeps its conversions */
    memo->conv = (const unsigned char *)lua_tostring(L, -1);
    memo->nconv = (int)lua_rawlen(L, -1);
    memo->flags = bind_flags(dialect);
    lua_pop(L, 1);
    lua_pushvalue(L, base);
    lua_setiuservalue(L, holder, memo->uv);
  }
  /* (taken now: a map's __index may run statements that change the memo;
  ** the plan at base keeps what they point to) */
  out->sql = c->sql;                                /* the plan's PLAN_SQL */
  out->names = by_name(dialect) ? c->params : NULL; /* (base keeps it) */
  out->nparams = c->nparams;
  out->nrows = 1;
  out->conv = memo->conv;
  out->nconv = memo->nconv;
  lua_pushnil(L); /* the anchor, when the map makes strings up */
  vals = buf;
  if (c->nparams > nbuf)
    vals = lua_newuserdatauv(L, sizeof(rt_value) * (size_t)c->nparams, 0);
  values_row(L, c, 0, c->nparams, map, base + 1, memo->flags, -1, vals, 0);
  lua_settop(L, c->nparams > nbuf ? base + 2 : base + 1);
  out->vals = vals;
  return 1;
}

/*
** The compile conn:execute calls from C (RT_COMPILE_EXEC): the same as
** compile_hook, but each map goes in one pass into a row-major rt_value
** array, with no positional lists in between.  Returns sql, the array's
** userdata, the parameters it borrows from and the strings maps made up
** (or nil); out is a light userdata.
*/
static int exec_compile(lua_State *L) {
  rt_lua_exec *out = lua_touserdata(L, 4);
  int many, n, i, map, flags, rows, width, keys, top, owned = 0;
  rt_compiled *c;
  rt_value *vals;
  rt_node *planned;
  double t0 = out->echo ? rt_compile_clock() : 0;
  lua_settop(L, 3);
  /* echo tells how the statement was compiled: no plan then */
  planned = out->echo ? NULL : plannable(L);
  if (planned && plan_seen(planned)) {
    if ((c = plan_find(L, planned)) != NULL) return exec_planned(L, out, c);
  } else
    planned = NULL; /* the first execution: no plan yet */
  c = hook_compile(L, &many, &n, 1);
  /* a statement given its expanding lists was rebuilt: no plan for it;
  ** nor for one whose lists the parameters may replace */
  if (planned && (lsql_tonodebox(L, 1) != planned || c->postcompile))
    planned = NULL;
  if (out->echo) echo_tag(out, lsql_tonode(L, 1), c, t0);
  flags = bind_flags(luaL_optstring(L, 2, "default"));
  lua_settop(L, 3);
  if (!lua_istable(L, 3)) n = 1;
  /* rows: the parameter sets share one execution, a slice each */
  rows = c->rows > 1 && c->rows == n ? n : 0;
  width = rows ? c->nparams / rows : c->nparams;
  lua_pushstring(L, c->sql); /* 4 */
  vals = lua_newuserdatauv(
      L, sizeof(rt_value) * ((size_t)n * (size_t)width + 1), 1); /* 5 */
  lua_pushvalue(L, 3);                                           /* 6 */
  lua_pushnil(L); /* 7: the anchor, when a map needs one */
  /* 8...: executemany's parameter names, made once for all its maps */
  keys =
      many && n > 1 && !rows && lua_checkstack(L, width + LUA_MINSTACK) ? 8 : 0;
  for (i = 0; keys && i < width; i++) lua_pushstring(L, c->params[i].name);
  top = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    map = 0;
    if (lua_istable(L, 3)) {
      if (many) {
        if (lua_rawgeti(L, 3, i) != LUA_TTABLE)
          rt_lua_error(L, RT_EARGUMENT,
                       "execute: parameter set %d is not a table", i);
      } else
        lua_pushvalue(L, 3);
      map = lua_gettop(L);
      if (!owned && lua_getmetatable(L, map)) {
        lua_pop(L, 1);
        c = own_params(L, 5, c);
        owned = 1;
      }
    }
    values_row(L, c, rows ? (i - 1) * width : 0, width, map, 7, flags,
               many && n > 1 ? (int)i - 1 : -1,
               vals + (size_t)(i - 1) * (size_t)width, keys);
    lua_settop(L, top);
  }
  lua_settop(L, 7);
  push_result_conv(L, 1, flags & RT_BIND_NATIVE_UUID); /* 8 */
  if (planned) plan_store(L, planned, c, 4, 8);
  /* 9: inserted_primary_key's plan; a list of one map is one execution */
  if (lua_istable(L, 3) && many && n == 1) {
    lua_rawgeti(L, 3, 1);
    push_pk_plan(L, 1, lua_istable(L, -1) ? lua_gettop(L) : 0, 0);
    lua_remove(L, -2);
  } else
    push_pk_plan(L, 1, lua_istable(L, 3) ? 3 : 0, lua_istable(L, 3) && many);
  out->sql = lua_tostring(L, 4);
  out->vals = vals;
  out->nparams = c->nparams;
  out->nrows = rows ? 1 : n;
  out->conv = (const unsigned char *)lua_tostring(L, 8);
  out->nconv = (int)lua_rawlen(L, 8);
  /* 10: the parameters' names, for a database error to show them by (a
  ** copy: the next compile reuses c) */
  out->names = NULL;
  if (by_name(lua_tostring(L, 2)))
    out->names = push_params_copy(L, c, 0)->params;
  else
    lua_pushnil(L);
  return 7;
}

/* --- DDL constructs --- */

/* CREATE SEQUENCE's options from the Sequence at 1, in SQLAlchemy's
** order (START WITH 1 when not given), kept as the DDL node's literal a */
static void sequence_options(lua_State *L, rt_node *d) {
  static const char *const nums[][2] = {{"increment", "INCREMENT BY"},
                                        {"start", "START WITH"},
                                        {"minvalue", "MINVALUE"},
                                        {"maxvalue", "MAXVALUE"}};
  luaL_Buffer b;
  int i, top = lua_gettop(L);
  luaL_buffinit(L, &b);
  for (i = 0; i < 4; i++) {
    int t = lua_getfield(L, 1, nums[i][0]);
    lua_Integer v = t == LUA_TNIL ? 1 : lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (t == LUA_TNIL && i != 1) continue;
    lua_pushfstring(L, " %s %I", nums[i][1], (LUAI_UACINT)v);
    luaL_addvalue(&b);
  }
  if (lua_getfield(L, 1, "nominvalue"), lua_toboolean(L, -1))
    luaL_addstring(&b, " NO MINVALUE");
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "nomaxvalue"), lua_toboolean(L, -1))
    luaL_addstring(&b, " NO MAXVALUE");
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "cache") != LUA_TNIL) {
    lua_pushfstring(L, " CACHE %I", (LUAI_UACINT)lua_tointeger(L, -1));
    lua_remove(L, -2);
    luaL_addvalue(&b);
  } else
    lua_pop(L, 1);
  if (lua_getfield(L, 1, "order") != LUA_TNIL)
    luaL_addstring(&b, lua_toboolean(L, -1) ? " ORDER" : " NO ORDER");
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "cycle") != LUA_TNIL)
    luaL_addstring(&b, lua_toboolean(L, -1) ? " CYCLE" : " NO CYCLE");
  lua_pop(L, 1);
  luaL_pushresult(&b);
  d->a = rt_literal_column(lua_tostring(L, -1), NULL);
  if (!d->a) rt_lua_error(L, RT_EMEMORY, "out of memory");
  lua_settop(L, top);
}

static int ddl(lua_State *L, int op, const char *fname) {
  rt_node *t;
  lnode *ud;
  const char *ixname = NULL;
  if (op == RT_DDL_CREATE_SEQUENCE || op == RT_DDL_DROP_SEQUENCE) {
    /* CreateSequence(Sequence(name)) */
    rt_lua_checkarg(L, 1, LUA_TTABLE, fname);
    lua_getfield(L, 1, "name");
    if (lua_type(L, -1) != LUA_TSTRING)
      return rt_lua_error(L, RT_EARGUMENT, "%s: argument #1 must be a Sequence",
                          fname);
    ud = RESULT(L);
    SETRESULT(L, ud, rt_ddl_new(op, NULL, lua_tostring(L, -2)));
    if (op == RT_DDL_CREATE_SEQUENCE) sequence_options(L, ud->n);
    /* Sequence(name, {schema}): the schema qualifies the name */
    if (lua_getfield(L, 1, "schema") == LUA_TSTRING) {
      ud->n->b = rt_literal_column(lua_tostring(L, -1), NULL);
      if (!ud->n->b) return rt_lua_error(L, RT_EMEMORY, "out of memory");
    }
    lua_pop(L, 1);
    return 1;
  }
  if (op == RT_DDL_CREATE_INDEX || op == RT_DDL_DROP_INDEX) {
    /* CreateIndex(Index record) */
    rt_node *col;
    rt_lua_checkarg(L, 1, LUA_TTABLE, fname);
    lua_getfield(L, 1, "name");
    ixname = lua_tostring(L, -1);
    /* any table may come here: rawgeti needs a table to look in */
    if (lua_getfield(L, 1, "columns") == LUA_TTABLE)
      lua_rawgeti(L, -1, 1);
    else
      lua_pushnil(L);
    col = lsql_tonode(L, -1);
    /* a column, or an expression of the table's columns */
    t = col ? rt_expr_table(col) : NULL;
    if (!ixname || !t)
      return rt_lua_error(L, RT_EARGUMENT, "%s: argument #1 must be an Index",
                          fname);
  } else if (op == RT_DDL_SET_COLUMN_COMMENT ||
             op == RT_DDL_DROP_COLUMN_COMMENT) {
    /* SetColumnComment(table.c.x) */
    rt_node *col = lsql_tonode(L, 1);
    if (!col || col->kind != RT_N_COLUMN || !col->owner ||
        col->owner->kind != RT_N_TABLE || !col->name)
      return rt_lua_error(L, RT_EARGUMENT,
                          "%s: argument #1 must be a Table's Column", fname);
    t = col->owner;
    ixname = col->name;
  } else
    t = checkkind(L, 1, RT_N_TABLE, RT_N_TABLE, fname);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_ddl_new(op, t, ixname));
  return 1;
}

static int l_create_table(lua_State *L) {
  return ddl(L, RT_DDL_CREATE_TABLE, "CreateTable");
}
static int l_drop_table(lua_State *L) {
  return ddl(L, RT_DDL_DROP_TABLE, "DropTable");
}
static int l_create_index(lua_State *L) {
  return ddl(L, RT_DDL_CREATE_INDEX, "CreateIndex");
}
/*
** AddConstraint(c) / DropConstraint(c, {cascade}): c a constraint joined
** to its table (made of the table's Column objects), or table.primary_key.
** The DDL node finds it again in the table by kind and name, or by its
** columns (its CHECK) when unnamed.
*/
static int constraint_ddl(lua_State *L, int op, const char *fname) {
  const char *kind, *name = NULL;
  char k;
  rt_node *first, *t;
  lnode *ud;
  int res;
  rt_lua_checkarg(L, 1, LUA_TTABLE, fname);
  lua_settop(L, 2);
  lua_getfield(L, 1, "__kind"); /* 3 */
  kind = lua_tostring(L, 3);
  k = !kind || strcmp(kind, "PrimaryKeyConstraint") == 0 ? 'P'
      : strcmp(kind, "UniqueConstraint") == 0            ? 'U'
      : strcmp(kind, "ForeignKeyConstraint") == 0        ? 'F'
      : strcmp(kind, "CheckConstraint") == 0             ? 'C'
                                                         : 0;
  if (!k)
    return rt_lua_error(L, RT_EARGUMENT, "%s: argument #1 must be a constraint",
                        fname);
  if (lua_getfield(L, 1, "name") == LUA_TSTRING) name = lua_tostring(L, 4);
  lua_getfield(L, 1, "columns"); /* 5 */
  if (k == 'C') {
    lua_getfield(L, 1, "sqltext");
    first = lsql_tonode(L, -1);
    t = first ? rt_expr_table(first) : NULL;
  } else {
    if (lua_istable(L, 5))
      lua_rawgeti(L, 5, 1);
    else
      lua_rawgeti(L, 1, 1);
    first = lsql_tonode(L, -1);
    t = first && first->kind == RT_N_COLUMN ? first->owner : NULL;
  }
  if (!t || t->kind != RT_N_TABLE)
    return rt_lua_error(L, RT_EARGUMENT,
                        "%s: the constraint must belong to a table (made of "
                        "its Column objects)",
                        fname);
  ud = RESULT(L);
  res = lua_gettop(L);
  SETRESULT(L, ud, rt_ddl_new(op, t, k == 'P' ? NULL : name));
  {
    char ks[2] = {k, '\0'};
    ud->n->c = rt_literal_column(ks, NULL);
    if (!ud->n->c) return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  if (!name && k == 'C') {
    /* an unnamed CHECK: found again by its text or expression */
    lua_getfield(L, 1, "sqltext");
    ud->n->b = lsql_tonode(L, -1)
                   ? rt_ref(lsql_tonode(L, -1))
                   : rt_literal_column(luaL_checkstring(L, -1), NULL);
    lua_pop(L, 1);
  } else if (!name && k != 'P' && lua_istable(L, 5)) {
    int i, n = (int)lua_rawlen(L, 5);
    for (i = 1; i <= n; i++) {
      rt_node *col, *lit;
      lua_rawgeti(L, 5, i);
      col = lsql_tonode(L, -1);
      lit = rt_literal_column(col ? col->name : luaL_checkstring(L, -1), NULL);
      if (!lit || rt_node_push(ud->n, lit) != 0)
        return rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
    }
  }
  if (lua_istable(L, 2) &&
      (lua_getfield(L, 2, "cascade"), lua_toboolean(L, -1)))
    ud->n->flags |= RT_F_FULL;
  if (op == RT_DDL_ADD_CONSTRAINT && rt_ddl_mark_alter(ud->n) != 0)
    return rt_lua_error(L, RT_EARGUMENT,
                        "%s: table '%s' has no such constraint", fname,
                        t->name);
  lua_settop(L, res);
  return 1;
}
static int l_add_constraint(lua_State *L) {
  return constraint_ddl(L, RT_DDL_ADD_CONSTRAINT, "AddConstraint");
}
static int l_drop_constraint(lua_State *L) {
  return constraint_ddl(L, RT_DDL_DROP_CONSTRAINT, "DropConstraint");
}

static int l_create_sequence(lua_State *L) {
  return ddl(L, RT_DDL_CREATE_SEQUENCE, "CreateSequence");
}
static int l_drop_sequence(lua_State *L) {
  return ddl(L, RT_DDL_DROP_SEQUENCE, "DropSequence");
}
static int l_drop_index(lua_State *L) {
  return ddl(L, RT_DDL_DROP_INDEX, "DropIndex");
}
static int l_set_table_comment(lua_State *L) {
  return ddl(L, RT_DDL_SET_TABLE_COMMENT, "SetTableComment");
}
static int l_drop_table_comment(lua_State *L) {
  return ddl(L, RT_DDL_DROP_TABLE_COMMENT, "DropTableComment");
}
static int l_set_column_comment(lua_State *L) {
  return ddl(L, RT_DDL_SET_COLUMN_COMMENT, "SetColumnComment");
}
static int l_drop_column_comment(lua_State *L) {
  return ddl(L, RT_DDL_DROP_COLUMN_COMMENT, "DropColumnComment");
}

/* a Table's indexes as DDL nodes (for create_all) */
static int t_index_names(lua_State *L) {
  rt_node *t = checkkind(L, 1, RT_N_TABLE, RT_N_TABLE, "_indexes");
  rt_tabledata *d = t->ext;
  int i, k = 0;
  lua_newtable(L);
  for (i = 0; d && i < d->ncons; i++)
    if (d->cons[i].kind == RT_CON_INDEX && d->cons[i].name) {
      lnode *ud = RESULT(L);
      SETRESULT(L, ud, rt_ddl_new(RT_DDL_CREATE_INDEX, t, d->cons[i].name));
      lua_rawseti(L, -2, ++k);
    }
  return 1;
}

/* --- attribute access --- */

/*
** A ColumnCollection (`t.c`) is a Lua table: a column found once is kept
** in it under its key, so `t.c.name` is a plain table read from then on.
** Misses (a column not asked for yet, an integer index, an unknown key)
** reach cols_index through the shared metatable; the owner's Node sits
** under the private key &cols_owner_key.
*/
static const char cols_owner_key = 0;

static void column_own_mt(lua_State *L);

static rt_node *cols_owner(lua_State *L, int idx) {
  rt_node *o;
  lua_rawgetp(L, idx, &cols_owner_key);
  o = lsql_tonode(L, -1);
  lua_pop(L, 1); /* the collection keeps it alive */
  if (!o) rt_lua_error(L, RT_EARGUMENT, "not a column collection");
  return o;
}

static int cols_index(lua_State *L) {
  rt_node *o = cols_owner(L, 1), *c = NULL;
  if (lua_isinteger(L, 2)) {
    lua_Integer i = lua_tointeger(L, 2);
    if (i >= 1 && i <= o->n) c = o->kids[i - 1];
    if (!c) {
      lua_pushnil(L);
      return 1;
    }
    lsql_pushref(L, c);
    return 1;
  }
  c = column_of(L, o, luaL_checkstring(L, 2));
  /* the same Column object each time */
  lsql_pushref(L, c);
  if (o->kind == RT_N_TABLE) column_own_mt(L);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

static int cols_newindex(lua_State *L) {
  return rt_lua_error(L, RT_EARGUMENT, "ColumnCollection: can't set field '%s'",
                      luaL_tolstring(L, 2, NULL));
}

static int cols_len(lua_State *L) {
  lua_pushinteger(L, cols_owner(L, 1)->n);
  return 1;
}

static int cols_ipairs_next(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 2) + 1;
  lua_pushinteger(L, i);
  if (lua_geti(L, 1, i) == LUA_TNIL) return 1;
  return 2;
}

static int cols_pairs(lua_State *L) {
  lua_pushcfunction(L, cols_ipairs_next);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

static void push_cols(lua_State *L, int idx, rt_node *owner) {
  (void)owner;
  idx = lua_absindex(L, idx);
  lua_createtable(L, 0, 4);
  if (luaL_newmetatable(L, COLS_MT)) {
    lua_pushcfunction(L, cols_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, cols_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, cols_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, cols_pairs);
    lua_setfield(L, -2, "__pairs");
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, idx);
  lua_rawsetp(L, -2, &cols_owner_key);
}

/*
** A table's schema and the names derived from it: fullname and key are
** "schema.name" with a schema and the bare name without, as in
** SQLAlchemy (key is the table's key in MetaData.tables).
*/
/*
** fk.column of a foreign key record (table.foreign_keys): the column it
** refers to, resolved when asked as SQLAlchemy's ForeignKey.column is,
** a NoReferencedTableError when the MetaData holds no such table.
*/
static int fk_index(lua_State *L) {
  rt_error err = RT_ERROR_INIT;
  rt_node *col, *target;
  const char *full, *dot;
  if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "column"))
    return 0;
  lua_getfield(L, 1, "parent");
  col = lsql_tonode(L, -1);
  lua_getfield(L, 1, "target_fullname");
  full = lua_tostring(L, -1);
  if (!col || !col->owner || !full || !(dot = strrchr(full, '.'))) return 0;
  lua_pushlstring(L, full, (size_t)(dot - full));
  target =
      rt_fk_resolve(col->owner, col->name, lua_tostring(L, -1), dot + 1, &err);
  if (!target) return rt_lua_raise(L, &err);
  lsql_pushref(L, target);
  return 1;
}

static void push_fk_mt(lua_State *L) {
  if (luaL_newmetatable(L, "retort.ForeignKey")) {
    lua_pushcfunction(L, fk_index);
    lua_setfield(L, -2, "__index");
  }
}

static int table_name_attr(lua_State *L, rt_node *n, const char *k) {
  rt_tabledata *d = n->ext;
  const char *schema = d ? d->schema : NULL;
  if (strcmp(k, "schema") == 0) {
    if (schema)
      lua_pushstring(L, schema);
    else
      lua_pushnil(L);
    return 1;
  }
  if (strcmp(k, "comment") == 0) {
    if (d && d->comment)
      lua_pushstring(L, d->comment);
    else
      lua_pushnil(L);
    return 1;
  }
  if (strcmp(k, "fullname") == 0 || strcmp(k, "key") == 0 ||
      strcmp(k, "description") == 0) {
    if (schema && strcmp(k, "description") != 0)
      lua_pushfstring(L, "%s.%s", schema, n->name);
    else
      lua_pushstring(L, n->name);
    return 1;
  }
  return 0;
}

/* attributes of tables, aliases and columns */
static int column_option(lua_State *L, rt_node *n, const char *k);

/* .columns of a table's index record (as Index(...) has it, so that
** CreateIndex and DropIndex take it): its columns and expressions */
static void index_record_columns(lua_State *L, rt_node *t,
                                 const rt_constraint *k) {
  int m;
  lua_createtable(L, k->ncols, 0);
  for (m = 0; m < k->ncols; m++) {
    rt_node *e = k->cols[m] ? rt_table_column(t, k->cols[m])
                 : k->exprs ? k->exprs[m]
                            : NULL;
    if (!e) continue;
    if (k->cols[m])
      lsql_pushref(L, e);
    else { /* an expression, of the table's own columns again */
      lnode *ud = RESULT(L);
      SETRESULT(L, ud, rt_reattached(e, t));
    }
    lua_rawseti(L, -2, m + 1);
  }
  lua_setfield(L, -2, "columns");
}

static int node_attr(lua_State *L, rt_node *n, const char *k) {
  int i, j = 0;
  if ((n->kind == RT_N_TABLE || n->kind == RT_N_COLUMN) &&
      strcmp(k, "info") == 0 && lsql_push_info(L, 1, n))
    return 1;
  if (n->kind == RT_N_TABLE || n->kind == RT_N_ALIAS) {
    if (strcmp(k, "c") == 0 || strcmp(k, "columns") == 0) {
      /* one collection per Table object, kept in its uservalue */
      if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 1);
      }
      if (lua_getfield(L, -1, "__c") == LUA_TTABLE) return 1;
      lua_pop(L, 1);
      push_cols(L, 1, n);
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, "__c");
      return 1;
    }
    if (strcmp(k, "name") == 0) {
      lua_pushstring(L, n->name);
      return 1;
    }
    if (n->kind == RT_N_TABLE && table_name_attr(L, n, k)) return 1;
    if (n->kind == RT_N_ALIAS && strcmp(k, "description") == 0) {
      /* an anonymous alias is described by the name it compiles to */
      if (n->name)
        lua_pushstring(L, n->name);
      else
        lua_pushliteral(L, "anon_1");
      return 1;
    }
    if (strcmp(k, "primary_key") == 0) {
      lua_newtable(L);
      for (i = 0; i < n->n; i++)
        if (n->kids[i]->flags & RT_F_PK) {
          lsql_pushref(L, n->kids[i]);
          lua_rawseti(L, -2, ++j);
        }
      lua_pushvalue(L, -1);
      lua_setfield(L, -2, "columns");
      return 1;
    }
    if (strcmp(k, "foreign_keys") == 0 && n->kind == RT_N_TABLE) {
      rt_tabledata *d = n->ext;
      lua_newtable(L);
      for (i = 0; d && i < d->ncons; i++) {
        int m;
        if (d->cons[i].kind != RT_CON_FK) continue;
        /* fk.constraint: one table per constraint, shared by its columns,
        ** so a composite foreign key can be told from several single ones */
        lua_createtable(L, 0, 3);
        lua_pushstring(L, d->cons[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, d->cons[i].ondelete);
        lua_setfield(L, -2, "ondelete");
        lua_pushstring(L, d->cons[i].onupdate);
        lua_setfield(L, -2, "onupdate");
        for (m = 0; m < d->cons[i].ncols; m++) {
          lua_createtable(L, 0, 4);
          lua_pushvalue(L, -2);
          lua_setfield(L, -2, "constraint");
          lsql_pushref(L, rt_table_column(n, d->cons[i].cols[m]));
          lua_setfield(L, -2, "parent");
          lua_pushfstring(L, "%s.%s", d->cons[i].reftable,
                          d->cons[i].refcols[m]);
          lua_setfield(L, -2, "target_fullname");
          if (d->cons[i].ondelete) {
            lua_pushstring(L, d->cons[i].ondelete);
            lua_setfield(L, -2, "ondelete");
          }
          push_fk_mt(L);
          lua_setmetatable(L, -2);
          lua_rawseti(L, -3, ++j);
        }
        lua_pop(L, 1);
      }
      return 1;
    }
    if (strcmp(k, "metadata") == 0 && n->kind == RT_N_TABLE) {
      lua_getiuservalue(L, 1, 1);
      if (lua_istable(L, -1)) lua_getfield(L, -1, "metadata");
      return 1;
    }
    if (strcmp(k, "indexes") == 0 && n->kind == RT_N_TABLE) {
      rt_tabledata *d = n->ext;
      lua_newtable(L);
      for (i = 0; d && i < d->ncons; i++)
        if (d->cons[i].kind == RT_CON_INDEX) {
          lua_createtable(L, 0, 4);
          lua_pushstring(L, d->cons[i].name);
          lua_setfield(L, -2, "name");
          lua_pushboolean(L, d->cons[i].unique);
          lua_setfield(L, -2, "unique");
          index_record_columns(L, n, &d->cons[i]);
          lua_pushvalue(L, 1);
          lua_setfield(L, -2, "table");
          lua_rawseti(L, -2, ++j);
        }
      return 1;
    }
  }
  if (n->kind == RT_N_COLUMN) {
    if (strcmp(k, "name") == 0) {
      lua_pushstring(L, n->name);
      return 1;
    }
    if (strcmp(k, "key") == 0) {
      lua_pushstring(L, rt_column_key(n));
      return 1;
    }
    if (strcmp(k, "description") == 0) {
      lua_pushstring(L, n->name);
      return 1;
    }
    if (strcmp(k, "table") == 0) {
      if (n->owner)
        lsql_pushref(L, n->owner);
      else
        lua_pushnil(L);
      return 1;
    }
    if (strcmp(k, "primary_key") == 0) {
      lua_pushboolean(L, (n->flags & RT_F_PK) != 0);
      return 1;
    }
    if (strcmp(k, "comment") == 0) {
      rt_coldata *d = n->ext;
      if (d && d->comment)
        lua_pushstring(L, d->comment);
      else
        lua_pushnil(L);
      return 1;
    }
    if (strcmp(k, "sequence") == 0) {
      rt_coldata *d = n->ext;
      if (d && d->seqname &&
          lua_getfield(L, LUA_REGISTRYINDEX, LSQL_SEQUENCES) == LUA_TTABLE &&
          lua_getfield(L, -1, d->seqname) == LUA_TTABLE)
        return 1; /* the Sequence with its options */
      if (d && d->seqname) {
        lua_createtable(L, 0, 2);
        lua_pushliteral(L, "Sequence");
        lua_setfield(L, -2, "__kind");
        lua_pushstring(L, d->seqname);
        lua_setfield(L, -2, "name");
      } else
        lua_pushnil(L);
      return 1;
    }
    if (strcmp(k, "nullable") == 0) {
      lua_pushboolean(L, !(n->flags & RT_F_NOTNULL));
      return 1;
    }
    if (column_option(L, n, k)) return 1;
  }
  if (strcmp(k, "type") == 0) {
    lsql_pushtyperef(L, n->type ? n->type : rt_type_bare(RT_TY_NULL));
    return 1;
  }
  /* j["k"].astext on PostgreSQL's JSONB: the element as text (->>) */
  if (strcmp(k, "astext") == 0 && n->kind == RT_N_BINARY &&
      (n->op == RT_OP_JSON_GETITEM || n->op == RT_OP_JSON_PATH) && n->a &&
      n->a->type && n->a->type->kind == RT_TY_JSONB) {
    lnode *ud = RESULT(L);
    SETRESULT(L, ud, rt_node_copy(n));
    rt_type_unref(ud->n->type);
    ud->n->type = rt_type_ref(rt_type_bare(RT_TY_TEXT));
    ud->n->flags |= RT_F_ASTEXT;
    return 1;
  }
  /* insert(t).excluded (ON CONFLICT) and .inserted (ON DUPLICATE KEY):
  ** the columns of the row proposed for insertion, as the table aliased
  ** under that name (MySQL's compile spells the latter VALUES(col)) */
  if (n->kind == RT_N_INSERT && n->kids[RT_D_TABLE] &&
      (strcmp(k, "excluded") == 0 || strcmp(k, "inserted") == 0)) {
    lnode *ud = RESULT(L);
    SETRESULT(L, ud, rt_alias(rt_ref(n->kids[RT_D_TABLE]), k, 0));
    push_cols(L, lua_gettop(L), ud->n);
    return 1;
  }
  if (strcmp(k, "c") == 0 && n->kind == RT_N_SELECT) {
    lnode *ud = RESULT(L);
    SETRESULT(L, ud, rt_alias(rt_ref(n), NULL, 0));
    push_cols(L, lua_gettop(L), ud->n);
    return 1;
  }
  if (strcmp(k, "selected_columns") == 0 && n->kind == RT_N_SELECT) {
    lnode *ud = RESULT(L);
    SETRESULT(L, ud, rt_alias(rt_ref(n), NULL, 0));
    push_cols(L, lua_gettop(L), ud->n);
    return 1;
  }
  return 0;
}

/* --- column options as attributes --- */

/*
** A column's default, onupdate, server_default or server_onupdate as
** SQLAlchemy shows it: a table {arg = ..., is_scalar, is_callable,
** is_clause_element} (ColumnDefault), or {arg = ...} for the server side
** (DefaultClause: a string stays a string).  `reg` finds a Lua function.
*/
static void push_default(lua_State *L, const rt_node *col, rt_node *def,
                         int luafn, const char *reg, int server) {
  int scalar = 0, clause = 0;
  if (!def && !luafn) {
    lua_pushnil(L);
    return;
  }
  if (def && (def->flags & RT_F_FETCHED)) {
    lsql_pushref(L, def); /* the FetchedValue itself, as SQLAlchemy's */
    return;
  }
  lua_createtable(L, 0, 4);
  if (luafn) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, reg) == LUA_TTABLE &&
        lua_rawgetp(L, -1, col->owner) == LUA_TTABLE)
      lua_getfield(L, -1, col->name);
    else
      lua_pushnil(L);
    lua_setfield(L, -4, "arg");
    lua_pop(L, 2);
  } else if (def->kind == RT_N_BIND) {
    rt_lua_pushvalue(L, &def->value);
    lua_setfield(L, -2, "arg");
    scalar = 1;
  } else if (server && (def->kind == RT_N_LITERAL || def->kind == RT_N_TEXT) &&
             def->name) {
    lua_pushstring(L, def->name);
    lua_setfield(L, -2, "arg");
  } else {
    lsql_pushref(L, def);
    lua_setfield(L, -2, "arg");
    clause = 1;
  }
  if (server) return;
  lua_pushboolean(L, scalar);
  lua_setfield(L, -2, "is_scalar");
  lua_pushboolean(L, luafn);
  lua_setfield(L, -2, "is_callable");
  lua_pushboolean(L, clause);
  lua_setfield(L, -2, "is_clause_element");
}

/* col.foreign_keys: the table's foreign keys whose parent is col */
static void push_column_fks(lua_State *L, rt_node *col) {
  int list, j = 0, i, n;
  lua_newtable(L);
  list = lua_gettop(L);
  if (!col->owner || col->owner->kind != RT_N_TABLE) return;
  lsql_pushref(L, col->owner);
  lua_getfield(L, -1, "foreign_keys");
  n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "parent");
    if (lsql_tonode(L, -1) == col) {
      lua_pop(L, 1);
      lua_rawseti(L, list, ++j);
    } else
      lua_pop(L, 2);
  }
  lua_settop(L, list);
}

/* Column options: unique, index, autoincrement, default, onupdate,
** server_default, server_onupdate, foreign_keys; 0 for another key. */
static int column_option(lua_State *L, rt_node *n, const char *k) {
  rt_coldata *d = n->ext;
  if (strcmp(k, "unique") == 0 || strcmp(k, "index") == 0) {
    unsigned f = k[0] == 'u' ? RT_F_UNIQUE : RT_F_INDEX;
    if (n->flags & f)
      lua_pushboolean(L, 1);
    else
      lua_pushnil(L); /* None: not given */
    return 1;
  }
  if (strcmp(k, "autoincrement") == 0) {
    if (n->flags & RT_F_AUTOINC_YES)
      lua_pushboolean(L, 1);
    else if (n->flags & RT_F_AUTOINC_NO)
      lua_pushboolean(L, 0);
    else if (d && d->autoinc_ignore_fk)
      lua_pushliteral(L, "ignore_fk");
    else
      lua_pushliteral(L, "auto");
    return 1;
  }
  if (strcmp(k, "foreign_keys") == 0) {
    push_column_fks(L, n);
    return 1;
  }
  if (strcmp(k, "default") == 0)
    push_default(L, n, d ? d->def : NULL, d && d->lua_default, LSQL_DEFAULTS,
                 0);
  else if (strcmp(k, "onupdate") == 0)
    push_default(L, n, d ? d->onupdate : NULL, d && d->lua_onupdate,
                 LSQL_ONUPDATES, 0);
  else if (strcmp(k, "server_default") == 0)
    push_default(L, n, d ? d->server_default : NULL, 0, NULL, 1);
  else if (strcmp(k, "server_onupdate") == 0)
    push_default(L, n, d ? d->server_onupdate : NULL, 0, NULL, 1);
  else
    return 0;
  return 1;
}

/* --- JSON index operators --- */

static int node_is_json(const rt_node *n) {
  return n->type &&
         (n->type->kind == RT_TY_JSON || n->type->kind == RT_TY_JSONB);
}

/* one path element in JSON path syntax: ."key" or [n] */
static void json_path_elem(luaL_Buffer *b, lua_State *L, int idx) {
  if (lua_isinteger(L, idx)) {
    lua_pushfstring(L, "[%I]", lua_tointeger(L, idx));
  } else {
    lua_pushfstring(L, ".\"%s\"", lua_tostring(L, idx));
  }
  luaL_addvalue(b);
}

static int json_key_ok(lua_State *L, int idx) {
  return lua_isinteger(L, idx) || lua_type(L, idx) == LUA_TSTRING;
}

/* e[key] on a JSON expression: key a string, an integer or a list of them
** (a path) */
static int json_index(lua_State *L, rt_node *e, int key) {
  int path = lua_type(L, key) == LUA_TTABLE, i, n = 0;
  luaL_Buffer b;
  lnode *ud;
  rt_value v;
  rt_node *raw, *jp, *item;
  if (path) {
    n = (int)lua_rawlen(L, key);
    if (n == 0)
      return rt_lua_error(L, RT_EARGUMENT, "JSON path: an empty path");
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, key, i);
      if (!json_key_ok(L, -1))
        return rt_lua_error(L, RT_EARGUMENT,
                            "JSON path: item %d must be a string or an "
                            "integer",
                            i);
      lua_pop(L, 1);
    }
    /* PostgreSQL's text[] form {a, 1} */
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '{');
    for (i = 1; i <= n; i++) {
      if (i > 1) luaL_addstring(&b, ", ");
      lua_rawgeti(L, key, i);
      luaL_addvalue(&b);
    }
    luaL_addchar(&b, '}');
    luaL_pushresult(&b);
  } else if (!json_key_ok(L, key))
    return rt_lua_error(L, RT_EARGUMENT,
                        "JSON index: a key must be a string, an integer or a "
                        "list of them, not %s",
                        luaL_typename(L, key));
  else
    lua_pushvalue(L, key);
  /* the JSON path form $."a"[1] */
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '$');
  if (path)
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, key, i);
      json_path_elem(&b, L, lua_gettop(L));
      lua_pop(L, 1);
    }
  else
    json_path_elem(&b, L, key);
  luaL_pushresult(&b);
  /* stack: raw form, path form */
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_new(RT_N_BINARY));
  ud->n->op = path ? RT_OP_JSON_PATH : RT_OP_JSON_GETITEM;
  ud->n->type = rt_type_ref(e->type);
  ud->n->a = rt_ref(e);
  rt_lua_tovalue(L, -3, &v);
  ud->n->b = raw = rt_bind(rt_bind_key_for(e), v, NULL, 1);
  lsql_check(L, raw);
  rt_lua_tovalue(L, -2, &v);
  ud->n->c = jp = rt_bind(rt_bind_key_for(e), v, NULL, 1);
  lsql_check(L, jp);
  for (i = 1; path && i <= n; i++) {
    lua_rawgeti(L, key, i);
    rt_lua_tovalue(L, -1, &v);
    item = rt_bind("param", v, NULL, 1);
    lua_pop(L, 1);
    if (!item || rt_node_push(ud->n, item) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  return 1;
}

/* e:as_string() ... on a JSON index: the value read as that type */
static int json_as(lua_State *L, rt_type *t, const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname);
  lnode *ud;
  if (e->kind != RT_N_BINARY ||
      (e->op != RT_OP_JSON_GETITEM && e->op != RT_OP_JSON_PATH))
    return rt_lua_error(L, RT_EARGUMENT,
                        "%s: only an index of a JSON expression has it", fname);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_node_copy(e));
  rt_type_unref(ud->n->type);
  ud->n->type = rt_type_ref(t); /* t is borrowed */
  return 1;
}

static int e_as_string(lua_State *L) {
  return json_as(L, rt_type_bare(RT_TY_STRING), "as_string");
}
static int e_as_integer(lua_State *L) {
  return json_as(L, rt_type_bare(RT_TY_INTEGER), "as_integer");
}
static int e_as_float(lua_State *L) {
  return json_as(L, rt_type_bare(RT_TY_FLOAT), "as_float");
}
static int e_as_boolean(lua_State *L) {
  return json_as(L, rt_type_bare(RT_TY_BOOLEAN), "as_boolean");
}
static int e_as_json(lua_State *L) {
  return json_as(L, rt_type_bare(RT_TY_JSON), "as_json");
}
static int e_as_numeric(lua_State *L) {
  int p = (int)luaL_checkinteger(L, 2), sc = (int)luaL_checkinteger(L, 3);
  rt_type **box;
  lua_settop(L, 1);
  box = lsql_newtype(L); /* owns the type */
  *box = rt_type_new(RT_TY_NUMERIC);
  lsql_check(L, *box);
  (*box)->precision = p;
  (*box)->scale = sc;
  return json_as(L, *box, "as_numeric");
}

/* --- PostgreSQL ARRAY operators --- */

static int is_array(const rt_node *e) {
  return e && e->type && e->type->kind == RT_TY_ARRAY;
}

/* An index or slice bound: an expression, else an Integer bind named after
** the array (a_1), as SQLAlchemy binds it. */
static rt_node *index_node(lua_State *L, int idx, const rt_node *e) {
  rt_node *n = lsql_tonode(L, idx);
  if (n) return rt_ref(n);
  if (!lua_isinteger(L, idx))
    rt_lua_error(L, RT_EARGUMENT,
                 "ARRAY index: an index must be an integer or an expression, "
                 "not %s",
                 luaL_typename(L, idx));
  n = rt_bind(rt_bind_key_for(e), rt_vint(lua_tointeger(L, idx)),
              rt_type_bare(RT_TY_INTEGER), 1);
  if (!n) rt_lua_error(L, RT_EMEMORY, "out of memory");
  return n;
}

/*
** a[i] and a[{i, j}] (the slice i:j) on an ARRAY: a[i] is of the element
** type (an ARRAY of one dimension less when it has several), a slice an
** ARRAY like a.
*/
static int array_index(lua_State *L, rt_node *e, int key) {
  lnode *ud, *box;
  rt_node *n;
  int slice = lua_type(L, key) == LUA_TTABLE && !lsql_tonode(L, key);
  rt_type *t = NULL;
  if (slice && lua_rawlen(L, key) != 2)
    return rt_lua_error(L, RT_EARGUMENT,
                        "ARRAY slice: give {start, stop}, two bounds");
  box = RESULT(L); /* the index, until the result takes it */
  ud = RESULT(L);
  if (slice) {
    lua_rawgeti(L, key, 1);
    SETRESULT(L, box, index_node(L, -1, e));
    lua_pop(L, 1);
  } else
    SETRESULT(L, box, index_node(L, key, e));
  SETRESULT(L, ud, rt_binary(RT_OP_GETITEM, rt_ref(e), rt_ref(box->n)));
  if (slice) {
    lua_rawgeti(L, key, 2);
    ud->n->c = index_node(L, -1, e);
    lua_pop(L, 1);
    return 1;
  }
  if (e->type->dims > 1) {
    t = rt_type_new(RT_TY_ARRAY);
    lsql_check(L, t);
    t->item = rt_type_ref(e->type->item);
    t->dims = e->type->dims - 1;
  } else
    t = rt_type_ref(e->type->item);
  n = ud->n;
  rt_type_unref(n->type);
  n->type = t;
  return 1;
}

/* The operator `any`/`all` compare with: "eq" or "=", "lt" or "<", ... */
static int agg_operator(lua_State *L, int idx, const char *fname) {
  static const char *const names[] = {
      "eq", "=",  "==", "ne", "!=", "<>", "lt", "<",
      "le", "<=", "gt", ">",  "ge", ">=", NULL};
  static const int ops[] = {RT_OP_EQ, RT_OP_EQ, RT_OP_EQ, RT_OP_NE, RT_OP_NE,
                            RT_OP_NE, RT_OP_LT, RT_OP_LT, RT_OP_LE, RT_OP_LE,
                            RT_OP_GT, RT_OP_GT, RT_OP_GE, RT_OP_GE};
  const char *s;
  int i;
  if (lua_istable(L, idx)) {
    lua_getfield(L, idx, "operator");
    idx = -1;
  }
  if (lua_isnoneornil(L, idx)) return RT_OP_EQ;
  s = lua_tostring(L, idx);
  for (i = 0; s && names[i]; i++)
    if (strcmp(s, names[i]) == 0) return ops[i];
  return rt_lua_error(L, RT_EARGUMENT,
                      "%s: operator must be one of eq ne lt le gt ge", fname);
}

/* ANY (e) / ALL (e): any_(e), e:any_() */
static int collection_agg(lua_State *L, int op, const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname);
  lnode *ud = RESULT(L);
  SETRESULT(L, ud, rt_unary(op, rt_ref(e)));
  rt_type_unref(ud->n->type);
  ud->n->type = NULL; /* NullType, as SQLAlchemy's */
  return 1;
}

static int l_any(lua_State *L) {
  return collection_agg(L, RT_OP_ANY, "any_");
}
static int l_all(lua_State *L) {
  return collection_agg(L, RT_OP_ALL, "all_");
}

/*
** a:any(v, {operator = "lt"}): v < ANY (a), the value bound with the
** element type; its negation is NOT (...), as SQLAlchemy's.
*/
static int array_agg_cmp(lua_State *L, int aggop, const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname), *v;
  int op = agg_operator(L, 3, fname);
  lnode *vbox, *agg, *ud;
  rt_value val;
  if (!is_array(e))
    return rt_lua_error(L, RT_EARGUMENT, "%s: %s is only for ARRAY expressions",
                        fname, fname);
  vbox = RESULT(L);
  if ((v = lsql_tonode(L, 2)) != NULL)
    vbox->n = rt_ref(v);
  else if (!lua_istable(L, 2) && rt_lua_tovalue(L, 2, &val) == 0 &&
           !lua_isnoneornil(L, 2))
    SETRESULT(L, vbox, rt_bind(rt_bind_key_for(e), val, e->type->item, 1));
  else
    return rt_lua_error(L, RT_EARGUMENT,
                        "%s: argument #1 must be a SQL expression or a value, "
                        "not %s",
                        fname, luaL_typename(L, 2));
  agg = RESULT(L);
  SETRESULT(L, agg, rt_unary(aggop, rt_ref(e)));
  ud = RESULT(L);
  SETRESULT(L, ud, rt_binary(op, rt_ref(vbox->n), rt_ref(agg->n)));
  ud->n->flags |= RT_F_NONEGATE;
  return 1;
}

static int e_any(lua_State *L) {
  return array_agg_cmp(L, RT_OP_ANY, "any");
}
static int e_all(lua_State *L) {
  return array_agg_cmp(L, RT_OP_ALL, "all");
}

static int is_jsonb(const rt_node *e) {
  return e && e->type && e->type->kind == RT_TY_JSONB;
}

/* a @> b, a <@ b, a && b on an ARRAY (b a list is bound as an array), and
** @> and <@ on JSONB (b bound as a JSON document) */
static int array_cmp(lua_State *L, const char *opstr, const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname);
  lnode *rbox, *ud;
  if (!is_array(e) && !(is_jsonb(e) && opstr[0] != '&'))
    return rt_lua_error(L, RT_EARGUMENT, "%s: %s is only for ARRAY expressions",
                        fname, fname);
  rbox = RESULT(L);
  rbox->n = value_node(L, 2, e, fname, 1);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_binary(RT_OP_CUSTOM_CMP, rt_ref(e), rt_ref(rbox->n)));
  ud->n->name = rt_strdup(opstr);
  lsql_check(L, ud->n->name);
  return 1;
}

/* a:is_distinct_from(b), regexp_match, match: b a value, an expression
** or nil (NULL) */
static int dialect_cmp(lua_State *L, int op, const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname);
  lnode *rbox, *ud;
  rbox = RESULT(L);
  if (lua_isnoneornil(L, 2) || rt_lua_isnull(L, 2))
    SETRESULT(L, rbox, rt_const(RT_N_NULL));
  else {
    check_value(L, 2, e, fname, 1);
    rbox->n = value_node(L, 2, e, fname, 1);
  }
  ud = RESULT(L);
  SETRESULT(L, ud, rt_binary(op, rt_ref(e), rt_ref(rbox->n)));
  return 1;
}

static int e_is_distinct_from(lua_State *L) {
  return dialect_cmp(L, RT_OP_DISTINCT_FROM, "is_distinct_from");
}
static int e_is_not_distinct_from(lua_State *L) {
  return dialect_cmp(L, RT_OP_NOT_DISTINCT_FROM, "is_not_distinct_from");
}
/* The flags of regexp_match(p, flags) / regexp_replace(p, r, flags): a
** string, or {flags = ...}; pushed as a bind against e, NULL when none */
static rt_node *regexp_flags(lua_State *L, int idx, rt_node *e,
                             const char *fname) {
  lnode *ud;
  if (lua_istable(L, idx) && !lsql_tonode(L, idx))
    lua_getfield(L, idx, "flags");
  else
    lua_pushvalue(L, idx);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  rt_lua_checkarg(L, lua_gettop(L), LUA_TSTRING, fname);
  ud = RESULT(L);
  ud->n = value_node(L, lua_gettop(L) - 1, e, fname, 1);
  return ud->n;
}

/* regexp_match(pattern[, flags]) */
static int e_regexp_match(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "regexp_match"), *f, *r;
  lua_settop(L, 3);
  f = regexp_flags(L, 3, e, "regexp_match");
  dialect_cmp(L, RT_OP_REGEXP, "regexp_match");
  r = lsql_tonode(L, -1);
  if (f && r) {
    /* the flags also named on the node: PostgreSQL's "i" compiles to its
    ** own operator, so they are part of the compiled-statement key */
    r->c = rt_ref(f);
    if (f->value.type == RT_V_TEXT && rt_node_setname(r, f->value.u.s.p) != 0)
      return rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
  return 1;
}

/* regexp_replace(pattern, replacement[, flags]): a string expression */
static int e_regexp_replace(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "regexp_replace"), *p, *r, *f;
  lnode *ud, *pu, *ru;
  lua_settop(L, 4);
  f = regexp_flags(L, 4, e, "regexp_replace");
  check_value(L, 2, e, "regexp_replace", 1);
  check_value(L, 3, e, "regexp_replace", 2);
  pu = RESULT(L);
  pu->n = p = value_node(L, 2, e, "regexp_replace", 1);
  ru = RESULT(L);
  ru->n = r = value_node(L, 3, e, "regexp_replace", 2);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_binary(RT_OP_REGEXP_REPLACE, rt_ref(e), rt_ref(p)));
  ud->n->c = rt_ref(r);
  if (f && rt_node_push(ud->n, rt_ref(f)) != 0)
    return rt_lua_error(L, RT_EMEMORY, "out of memory");
  return 1;
}
static int e_match(lua_State *L) {
  return dialect_cmp(L, RT_OP_MATCH, "match");
}

/* j:has_key(k) on JSONB: j ? k, the key bound as a string */
static int e_has_key(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "has_key");
  lnode *rbox, *ud;
  if (!is_jsonb(e))
    return rt_lua_error(L, RT_EARGUMENT,
                        "has_key: has_key is only for JSONB expressions");
  rt_lua_checkarg(L, 2, LUA_TSTRING, "has_key");
  rbox = RESULT(L);
  SETRESULT(L, rbox,
            rt_bind(rt_bind_key_for(e),
                    rt_vtext(lua_tostring(L, 2), lua_rawlen(L, 2)),
                    rt_type_bare(RT_TY_STRING), 1));
  ud = RESULT(L);
  SETRESULT(L, ud, rt_binary(RT_OP_CUSTOM_CMP, rt_ref(e), rt_ref(rbox->n)));
  ud->n->name = rt_strdup("?");
  lsql_check(L, ud->n->name);
  return 1;
}

/* jsonb ?| keys, jsonb ?& keys: keys a list of strings (sent as the text
** of a text[], which PostgreSQL reads as the operator's array) or an
** expression */
static int jsonb_keys_cmp(lua_State *L, const char *opstr, const char *fname) {
  rt_node *e = lsql_checknode(L, 1, fname);
  lnode *rbox, *ud;
  if (!is_jsonb(e))
    return rt_lua_error(L, RT_EARGUMENT, "%s: %s is only for JSONB expressions",
                        fname, fname);
  rbox = RESULT(L);
  if (lsql_tonode(L, 2))
    rbox->n = rt_ref(lsql_tonode(L, 2));
  else {
    rt_value val;
    lua_Integer i, n;
    rt_lua_checkarg(L, 2, LUA_TTABLE, fname);
    n = (lua_Integer)lua_rawlen(L, 2);
    for (i = 1; i <= n; i++) {
      if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
        return rt_lua_error(L, RT_EARGUMENT,
                            "%s: argument #1 must be a list of strings", fname);
      lua_pop(L, 1);
    }
    lua_pushvalue(L, 2);
    rt_lua_bind_process(L, RT_TY_ARRAY, 0);
    if (rt_lua_tovalue(L, -1, &val) != 0)
      return rt_lua_error(L, RT_EARGUMENT,
                          "%s: argument #1 must be a list of strings", fname);
    rbox->n = rt_bind(rt_bind_key_for(e), val, rt_type_bare(RT_TY_STRING), 1);
  }
  lsql_check(L, rbox->n);
  ud = RESULT(L);
  SETRESULT(L, ud, rt_binary(RT_OP_CUSTOM_CMP, rt_ref(e), rt_ref(rbox->n)));
  ud->n->name = rt_strdup(opstr);
  lsql_check(L, ud->n->name);
  return 1;
}

static int e_has_any(lua_State *L) {
  return jsonb_keys_cmp(L, "?|", "has_any");
}
static int e_has_all(lua_State *L) {
  return jsonb_keys_cmp(L, "?&", "has_all");
}

static int e_contained_by(lua_State *L) {
  return array_cmp(L, "<@", "contained_by");
}
static int e_overlap(lua_State *L) {
  return array_cmp(L, "&&", "overlap");
}

static int node_index(lua_State *L);

/*
** --- method caches ---
**
** A method call on a node reads the method through node_index, a C call
** that costs more than many methods themselves.  The long-lived boxes
** (a Table, the columns of its t.c) have metatables of their own whose
** __index is a plain table: a method found once is kept there (a method
** lookup is then a table read), and a miss goes on to node_index with
** the box.  The methods table itself (`methods_key`) is reached through
** a proxy, the __methods everyone else sees, so that a method replaced or
** added later (the ORM wraps some) empties every cache
** (`caches_key`, weak keys) rather than leaving them stale.
*/
static const char methods_key = 0; /* the methods table itself */
static const char caches_key = 0;  /* set of the method caches */
static const char box_key = 0;     /* a column cache's box */

/* Register the table at idx as a method cache. */
static void cache_register(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &caches_key);
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* Keep the method on top (left there) as key k of cache idx, when node
** n's lookup of k gives it whatever the box (node_index's order). */
static void cache_method(lua_State *L, int cache, rt_node *n, int key) {
  const char *k;
  if (lua_type(L, key) != LUA_TSTRING) return;
  k = lua_tostring(L, key);
  /* a Table's "c" is the collection, and its "columns" an attribute */
  if (strcmp(k, "columns") == 0 || strcmp(k, "c") == 0) return;
  if (n->kind != RT_N_TABLE && n->kind != RT_N_COLUMN) return;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
  lua_pushvalue(L, key);
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1) && lua_rawequal(L, -1, -3)) {
    lua_pushvalue(L, key);
    lua_pushvalue(L, -2);
    lua_rawset(L, cache);
  }
  lua_pop(L, 2);
}

/* __newindex of the methods proxy: set the method, empty the caches. */
static int methods_set(lua_State *L) {
  lua_settop(L, 3);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, -3);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &caches_key); /* 5 */
  lua_pushnil(L);
  while (lua_next(L, 5)) {
    lua_pop(L, 1);
    lua_pushnil(L); /* 7: a cache's key */
    while (lua_next(L, 6)) {
      lua_pop(L, 1);
      if (lua_type(L, 7) == LUA_TSTRING && strcmp(lua_tostring(L, 7), "c")) {
        lua_pushvalue(L, 7);
        lua_pushnil(L);
        lua_rawset(L, 6); /* (clearing a field during next is allowed) */
      }
    }
  }
  return 0;
}

/* __pairs of the methods proxy: the methods themselves */
static int methods_pairs(lua_State *L) {
  lua_getglobal(L, "next");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
  lua_pushnil(L);
  return 3;
}

/* A Table's own metatable's fallback (see table_own_mt): upvalues 1 and 2
** are node_index's, 3 the Table, which the lookup has lost on the way, 4
** the table __index looks in (the cache). */
static int table_index(lua_State *L) {
  lnode *u = lua_touserdata(L, lua_upvalueindex(3));
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_replace(L, 1);
  if (node_index(L) != 1) return 0;
  cache_method(L, lua_upvalueindex(4), u->n, 2);
  return 1;
}

/* A cached column's fallback: (cache, key), the box in the cache;
** upvalues node_index's. */
static int column_index(lua_State *L) {
  lnode *u;
  int r;
  lua_settop(L, 2);
  lua_rawgetp(L, 1, &box_key);
  u = lua_touserdata(L, 3);
  if (!u) return 0;
  lua_replace(L, 1); /* (box, key) */
  if (node_index(L) != 1) return 0;
  r = lua_gettop(L);
  if (lua_getmetatable(L, 1) && lua_getfield(L, -1, "__index") == LUA_TTABLE) {
    lua_pushvalue(L, r);
    cache_method(L, r + 2, u->n, 2);
  }
  lua_settop(L, r);
  return 1;
}

/* A metatable of its own for the box on top, a copy of the Node one but
** for __index, the table on top, which is popped. */
static void own_mt(lua_State *L) {
  int mt;
  lua_createtable(L, 0, 24);
  mt = lua_gettop(L);
  slot_get(L, SLOT_NODE_MT, &node_mt_key);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, mt);
  }
  lua_pop(L, 1);
  lua_insert(L, -2); /* (box, mt, index) */
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

/* A Table's column just made a box (on top): its own metatable, whose
** __index is its method cache. */
static void column_own_mt(lua_State *L) {
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, &box_key);
  if (luaL_newmetatable(L, "retort.ColumnMethods")) {
    /* (node_index's upvalues) */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
    lua_pushliteral(L, "__c");
    lua_pushcclosure(L, column_index, 2);
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
  cache_register(L, -1);
  own_mt(L);
}

/*
** t.c is read for nearly every column a statement names, and each read
** through node_index is a C call.  The first one gives the Table (at 1)
** a metatable of its own, a copy of the Node one whose __index is a table
** holding the collection (at `cols`, which is t.c for good: it is changed
** in place, never replaced), so that t.c is a plain table read.  Every
** other key goes on to node_index through table_index.
*/
static void table_own_mt(lua_State *L, int cols) {
  int mt;
  lua_createtable(L, 0, 24);
  mt = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &node_mt_key);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, mt);
  }
  lua_createtable(L, 0, 1); /* what __index looks in */
  lua_pushvalue(L, cols);
  lua_setfield(L, -2, "c");
  cache_register(L, -1);
  lua_createtable(L, 0, 1); /* and its fallback */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
  lua_pushliteral(L, "__c");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -5); /* the cache */
  lua_pushcclosure(L, table_index, 4);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, mt, "__index");
  lua_pop(L, 1); /* the Node metatable */
  lua_setmetatable(L, 1);
}

/* Assignment to a node: only a Table's or Column's info can be set. */
static int node_newindex(lua_State *L) {
  lnode *u = lua_touserdata(L, 1);
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (k && strcmp(k, "info") == 0 &&
      (u->n->kind == RT_N_TABLE || u->n->kind == RT_N_COLUMN) &&
      lsql_set_info(L, 1, u->n, 3))
    return 0;
  return rt_lua_error(L, RT_EARGUMENT, "can't set attribute '%s'",
                      luaL_tolstring(L, 2, NULL));
}

static int node_index(lua_State *L) {
  lnode *u = lua_touserdata(L, 1);
  const char *k;
  /* a method (upvalue 1), the most common lookup: at once, but for the
  ** Table and Alias attributes that share a method's name */
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL &&
      u->n->kind != RT_N_TABLE && u->n->kind != RT_N_ALIAS)
    return 1;
  lua_settop(L, 2);
  if (lua_type(L, 2) != LUA_TSTRING) {
    if (is_array(u->n)) return array_index(L, u->n, 2);
    return node_is_json(u->n) ? json_index(L, u->n, 2) : 0;
  }
  k = lua_tostring(L, 2);
  /* t.c, the most common attribute: straight to the cached collection */
  if (k[0] == 'c' && k[1] == '\0' &&
      (u->n->kind == RT_N_TABLE || u->n->kind == RT_N_ALIAS)) {
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
      lua_pushvalue(L, lua_upvalueindex(2)); /* "__c", made once */
      if (lua_rawget(L, -2) == LUA_TTABLE) {
        if (u->n->kind == RT_N_TABLE && lua_getmetatable(L, 1) &&
            lua_rawgetp(L, LUA_REGISTRYINDEX, &node_mt_key) &&
            lua_rawequal(L, -1, -2)) {
          lua_pop(L, 2);
          table_own_mt(L, lua_gettop(L));
        }
        lua_settop(L, 4);
        return 1;
      }
    }
    lua_settop(L, 2);
  }
  /* methods first (upvalue 1): they are most of the lookups */
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL &&
      !((u->n->kind == RT_N_TABLE || u->n->kind == RT_N_ALIAS) &&
        strcmp(k, "columns") == 0))
    return 1;
  lua_settop(L, 2);
  if (node_attr(L, u->n, k)) return 1;
  luaL_getmetafield(L, 1, "__methods");
  lua_getfield(L, -1, k);
  /* col["key"] on JSON: a key that names no method or attribute */
  if (lua_isnil(L, -1) && node_is_json(u->n)) {
    lua_settop(L, 2);
    return json_index(L, u->n, 2);
  }
  if (lua_isnil(L, -1) && u->n->kind == RT_N_COLUMN)
    return rt_lua_error(L, RT_EARGUMENT, "Column '%s' has no attribute '%s'",
                        u->n->name, k);
  return 1;
}

static int node_eq(lua_State *L) {
  lua_pushboolean(L, lsql_tonode(L, 1) == lsql_tonode(L, 2));
  return 1;
}

static int node_bnot(lua_State *L) {
  lua_settop(L, 1);
  return l_not(L);
}

/* Table:select(), :insert(), ... and the generic method table */
static int t_select(lua_State *L) {
  lua_settop(L, 1);
  return build_select(L, 1, 1);
}

static const luaL_Reg node_methods[] = {
    {"eq", e_eq},
    {"ne", e_ne},
    {"lt", e_lt},
    {"le", e_le},
    {"gt", e_gt},
    {"ge", e_ge},
    {"like", e_like},
    {"not_like", e_not_like},
    {"notlike", e_not_like},
    {"ilike", e_ilike},
    {"not_ilike", e_not_ilike},
    {"in_", e_in},
    {"not_in", e_not_in},
    {"notin_", e_not_in},
    {"between", e_between},
    {"is_", e_is},
    {"is_not", e_is_not},
    {"isnot", e_is_not},
    {"startswith", e_startswith},
    {"endswith", e_endswith},
    {"contains", e_contains},
    {"contained_by", e_contained_by},
    {"has_key", e_has_key},
    {"has_any", e_has_any},
    {"has_all", e_has_all},
    {"is_distinct_from", e_is_distinct_from},
    {"is_not_distinct_from", e_is_not_distinct_from},
    {"isnot_distinct_from", e_is_not_distinct_from},
    {"regexp_match", e_regexp_match},
    {"regexp_replace", e_regexp_replace},
    {"match", e_match},
    {"notilike", e_not_ilike},
    {"nullsfirst", e_nulls_first},
    {"nullslast", e_nulls_last},
    {"overlap", e_overlap},
    {"any", e_any},
    {"all", e_all},
    {"any_", l_any},
    {"all_", l_all},
    {"op", e_op},
    {"label", e_label},
    {"collate", e_collate},
    {"cast", e_cast},
    {"desc", e_desc},
    {"asc", e_asc},
    {"nulls_first", e_nulls_first},
    {"nulls_last", e_nulls_last},
    {"over", e_over},
    {"within_group", e_within_group},
    {"distinct", s_distinct},
    /* statements */
    {"where", s_where},
    {"filter", s_where},
    {"filter_by", s_filter_by},
    {"having", s_having},
    {"join", s_join},
    {"outerjoin", s_outerjoin},
    {"join_from", s_join_from},
    {"outerjoin_from", s_outerjoin_from},
    {"slice", s_slice},
    {"bool_op", e_bool_op},
    {"as_string", e_as_string},
    {"as_integer", e_as_integer},
    {"as_float", e_as_float},
    {"as_boolean", e_as_boolean},
    {"as_json", e_as_json},
    {"as_numeric", e_as_numeric},
    {"concat", e_concat},
    {"select_from", s_select_from},
    {"group_by", s_group_by},
    {"order_by", s_order_by},
    {"limit", s_limit},
    {"fetch", s_fetch},
    {"suffix_with", s_suffix_with},
    {"set_label_style", s_set_label_style},
    {"offset", s_offset},
    {"add_columns", s_add_columns},
    {"with_only_columns", s_with_only_columns},
    {"correlate", s_correlate},
    {"correlate_except", s_correlate_except},
    {"replace_selectable", s_replace_selectable},
    {"reduce_columns", s_reduce_columns},
    {"subquery", s_subquery},
    {"lateral", s_lateral},
    {"alias", s_alias},
    {"cte", s_cte},
    {"add_cte", s_add_cte},
    {"scalar_subquery", s_scalar_subquery},
    {"as_scalar", s_scalar_subquery},
    {"exists", l_exists},
    {"union", s_union},
    {"union_all", s_union_all},
    {"intersect", s_intersect},
    {"except_", s_except},
    {"intersect_all", s_intersect_all},
    {"except_all", s_except_all},
    {"with_for_update", s_with_for_update},
    {"execution_options", s_self},
    {"options", s_self},
    {"compile", s_compile},
    {"values", d_values},
    {"returning", d_returning},
    {"inline", d_inline},
    {"return_defaults", d_return_defaults},
    {"ordered_values", d_ordered_values},
    {"data", v_data},
    {"params", e_params},
    {"unique_params", e_unique_params},
    {"from_select", d_from_select},
    {"prefix_with", d_prefix_with},
    {"on_conflict_do_nothing", d_on_conflict_do_nothing},
    {"on_conflict_do_update", d_on_conflict_do_update},
    {"on_duplicate_key_update", d_on_duplicate_key_update},
    {"bindparams", t_bindparams},
    {"select", t_select},
    {"insert", l_insert},
    {"update", l_update},
    {"delete", l_delete},
    {"_indexes", t_index_names},
    {"append_column", lsql_table_append_column},
    {"to_metadata", lsql_table_to_metadata},
    {"tometadata", lsql_table_to_metadata},
    {NULL, NULL}};

/*
** text():columns(column("x", JSON), ...) gives the result's columns their
** types, in order (a name alone stays untyped); Table.columns is an
** attribute.
*/
/*
** The map argument of text():columns{name = Type}: its names sorted (a Lua
** table has no order of its own), pushed as a list.  Values must be types.
*/
static void push_typed_names(lua_State *L, int map) {
  int n = 0, i, j;
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, map)) {
    if (lua_type(L, -2) != LUA_TSTRING || !lsql_totype(L, -1))
      rt_lua_error(L, RT_EARGUMENT,
                   "columns: a map must give a type for each column name");
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, ++n);
  }
  /* insertion sort: a handful of names */
  for (i = 2; i <= n; i++)
    for (j = i; j > 1; j--) {
      lua_rawgeti(L, -1, j - 1);
      lua_rawgeti(L, -2, j);
      if (strcmp(lua_tostring(L, -2), lua_tostring(L, -1)) <= 0) {
        lua_pop(L, 2);
        break;
      }
      lua_rawseti(L, -3, j - 1);
      lua_rawseti(L, -2, j);
    }
}

/* Append col to the list, or raise. */
static void push_text_col(lua_State *L, rt_node *list, rt_node *col) {
  lsql_check(L, col);
  if (rt_node_push(list, col) != 0) {
    rt_unref(col);
    rt_lua_error(L, RT_EMEMORY, "out of memory");
  }
}

/*
** text():columns(...): result columns as columns or names, positionally,
** and/or a map of name -> type, as SQLAlchemy's TextClause.columns(*cols,
** **types).  A named type also types a positional name.  With a map the
** columns are matched to the result's by name rather than by position.
*/
static int t_columns(lua_State *L) {
  rt_node *t = lsql_tonode(L, 1);
  lnode *ud, *lu;
  int i, top = lua_gettop(L), map = 0, names = 0;
  if (!t || t->kind != RT_N_TEXT) {
    lua_settop(L, 1);
    return 1;
  }
  for (i = 2; i <= top; i++)
    if (lua_type(L, i) == LUA_TTABLE && !lsql_tonode(L, i)) {
      if (map)
        return rt_lua_error(L, RT_EARGUMENT,
                            "columns: only one map of names to types");
      map = i;
    }
  ud = RESULT(L);
  lu = RESULT(L);
  SETRESULT(L, lu, rt_list_new());
  if (map) {
    lua_newtable(L); /* the map's names a positional column took */
    push_typed_names(L, map);
    names = lua_gettop(L);
  }
  for (i = 2; i <= top; i++) {
    rt_node *col = lsql_tonode(L, i);
    if (i == map) continue;
    if (col)
      rt_ref(col);
    else if (lua_type(L, i) == LUA_TSTRING) {
      rt_type *ty = NULL;
      if (map && lua_getfield(L, map, lua_tostring(L, i)) != LUA_TNIL) {
        ty = lsql_totype(L, -1);
        lua_pushboolean(L, 1);
        lua_setfield(L, names - 1, lua_tostring(L, i));
      }
      col = rt_column(lua_tostring(L, i), ty);
      if (map) lua_pop(L, 1);
    } else
      return rt_lua_error(L, RT_EARGUMENT,
                          "columns: argument #%d must be a column or a name",
                          i - 1);
    push_text_col(L, lu->n, col);
  }
  if (map) {
    int n = (int)lua_rawlen(L, names);
    for (i = 1; i <= n; i++) {
      const char *name;
      lua_rawgeti(L, names, i);
      name = lua_tostring(L, -1);
      if (lua_getfield(L, names - 1, name) == LUA_TNIL) {
        lua_getfield(L, map, name);
        push_text_col(L, lu->n, rt_column(name, lsql_totype(L, -1)));
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    }
    lu->n->flags |= RT_F_BYNAME;
    lua_pop(L, 2);
  }
  SETRESULT(L, ud, rt_node_copy(t));
  rt_unref(ud->n->a);
  ud->n->a = rt_ref(lu->n);
  lua_pop(L, 1);
  return 1;
}

/* create_all/drop_all/create/drop run through the engine API (Lua) */
static const char ddl_chunk[] =
    "local sa, Meta, Node = ...\n"
    "local function has_table(conn, t)\n"
    "  return sa.inspect(conn):has_table(t.name, t.schema)\n"
    "end\n"
    "local function with_conn(bind, fn)\n"
    "  if bind.connect then\n"
    "    local conn = bind:connect()\n"
    "    local ok, err = pcall(fn, conn)\n"
    "    if ok then conn:commit() else conn:rollback() end\n"
    "    conn:close()\n"
    "    if not ok then error(err, 0) end\n"
    "  else\n"
    "    fn(bind)\n"
    "  end\n"
    "end\n"
    "local function sequences(conn, t, fn)\n"
    "  if conn.dialect.name ~= 'postgresql' then return end\n"
    "  for _, c in ipairs(t.columns) do\n"
    "    if c.sequence then fn(c.sequence) end\n"
    "  end\n"
    "end\n"
    "local function has_sequence(conn, name)\n"
    "  return conn:exec_driver_sql(\"SELECT relname FROM pg_catalog.pg_class "
    "\" ..\n"
    "    \"WHERE relkind = 'S' AND relname = $1\", {name}):first() ~= nil\n"
    "end\n"
    "local function quote_ident(s)\n"
    "  if s:match('^[a-z_][a-z0-9_$]*$') then return s end\n"
    "  return '\"' .. s:gsub('\"', '\"\"') .. '\"'\n"
    "end\n"
    "local function quote_string(s) return \"'\" .. s:gsub(\"'\", \"''\") .. "
    "\"'\" end\n"
    "-- PostgreSQL: named ENUM types exist before their tables\n"
    "local function enums(conn, t, fn)\n"
    "  if conn.dialect.name ~= 'postgresql' then return end\n"
    "  for _, c in ipairs(t.columns) do\n"
    "    local ty = c.type\n"
    "    if ty.__name__ == 'Enum' and ty.enum_name and ty.native_enum then\n"
    "      fn(ty)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local function has_type(conn, name)\n"
    "  return conn:exec_driver_sql('SELECT typname FROM pg_catalog.pg_type ' "
    "..\n"
    "    'WHERE typname = $1', {name}):first() ~= nil\n"
    "end\n"
    "-- PostgreSQL's comments come after the table and its indexes (MySQL\n"
    "-- has them inline, SQLite none)\n"
    "local function comments(conn, t)\n"
    "  if conn.dialect.name ~= 'postgresql' then return end\n"
    "  if t.comment then conn:execute(sa.SetTableComment(t)) end\n"
    "  for _, c in ipairs(t.columns) do\n"
    "    if c.comment then conn:execute(sa.SetColumnComment(c)) end\n"
    "  end\n"
    "end\n"
    "local function create_type(conn, ty, checkfirst)\n"
    "  if checkfirst and has_type(conn, ty.enum_name) then return end\n"
    "  local vals = {}\n"
    "  for i, v in ipairs(ty.enums) do vals[i] = quote_string(v) end\n"
    "  conn:exec_driver_sql('CREATE TYPE ' .. quote_ident(ty.enum_name) ..\n"
    "    ' AS ENUM (' .. table.concat(vals, ', ') .. ')')\n"
    "end\n"
    "local function drop_type(conn, ty, checkfirst)\n"
    "  if not checkfirst or has_type(conn, ty.enum_name) then\n"
    "    conn:exec_driver_sql('DROP TYPE ' .. quote_ident(ty.enum_name))\n"
    "  end\n"
    "end\n"
    "-- each named ENUM of the tables once, in table and column order\n"
    "local function all_enums(conn, tables, fn)\n"
    "  local seen = {}\n"
    "  for _, t in ipairs(tables) do\n"
    "    enums(conn, t, function(ty)\n"
    "      if not seen[ty.enum_name] then seen[ty.enum_name] = true; fn(ty) "
    "end\n"
    "    end)\n"
    "  end\n"
    "end\n"
    "-- (types: false when create_all made them first, as SQLAlchemy's\n"
    "-- metadata-wide types come before any table; ddl: create_all's\n"
    "-- CREATE TABLE, the table known not to exist)\n"
    "local function create(conn, t, checkfirst, types, ddl)\n"
    "  if checkfirst and not ddl and has_table(conn, t) then return end\n"
    "  if types ~= false then\n"
    "    enums(conn, t, function(ty) create_type(conn, ty, checkfirst) end)\n"
    "  end\n"
    "  sequences(conn, t, function(seq)\n"
    "    if not (checkfirst and has_sequence(conn, seq.name)) then\n"
    "      conn:execute(sa.CreateSequence(seq))\n"
    "    end\n"
    "  end)\n"
    "  conn:execute(ddl or sa.CreateTable(t))\n"
    "  for _, ix in ipairs(t:_indexes()) do conn:execute(ix) end\n"
    "  comments(conn, t)\n"
    "end\n"
    "local function drop_sequences(conn, t, checkfirst)\n"
    "  sequences(conn, t, function(seq)\n"
    "    if not checkfirst or has_sequence(conn, seq.name) then\n"
    "      conn:execute(sa.DropSequence(seq))\n"
    "    end\n"
    "  end)\n"
    "end\n"
    "-- (alone: false when drop_all drops the sequences and types after all\n"
    "-- its tables, as SQLAlchemy's)\n"
    "local function drop(conn, t, checkfirst, alone)\n"
    "  if checkfirst and not has_table(conn, t) then return end\n"
    "  conn:execute(sa.DropTable(t))\n"
    "  if alone == false then return end\n"
    "  enums(conn, t, function(ty) drop_type(conn, ty, checkfirst) end)\n"
    "  drop_sequences(conn, t, checkfirst)\n"
    "end\n"
    "local function checkfirst(opts)\n"
    "  return not (opts and opts.checkfirst == false)\n"
    "end\n"
    "-- the tables in SQLAlchemy's order: those checkfirst finds (not) there\n"
    "-- in the MetaData's order, sorted by their foreign keys; those of a\n"
    "-- cycle, and use_alter ones, by ALTER after the tables are made (or\n"
    "-- before they are dropped) where the database has ALTER for them\n"
    "-- (only: the tables option, a list of the MetaData's tables)\n"
    "local function ddl_order(md, conn, cf, drop, only)\n"
    "  local keep, set\n"
    "  if only then\n"
    "    set = {}\n"
    "    for _, t in ipairs(only) do set[t] = true end\n"
    "  end\n"
    "  if cf or set then\n"
    "    keep = function(t)\n"
    "      return (not set or set[t] == true) and\n"
    "        (not cf or has_table(conn, t) == drop)\n"
    "    end\n"
    "  end\n"
    "  return md:_ddl_order(conn.dialect.name, drop, keep)\n"
    "end\n"
    "function Meta.create_all(md, bind, opts)\n"
    "  local cf = checkfirst(opts)\n"
    "  with_conn(bind, function(conn)\n"
    "    local plan = ddl_order(md, conn, cf, false, opts and opts.tables)\n"
    "    local every = opts and opts.tables and plan.tables or "
    "md._sorted_tables\n"
    "    all_enums(conn, every, function(ty)\n"
    "      create_type(conn, ty, cf)\n"
    "    end)\n"
    "    for i, t in ipairs(plan.tables) do\n"
    "      create(conn, t, cf, false, plan.creates[i])\n"
    "    end\n"
    "    for _, a in ipairs(plan.alters) do conn:execute(a) end\n"
    "  end)\n"
    "end\n"
    "function Meta.drop_all(md, bind, opts)\n"
    "  local cf = checkfirst(opts)\n"
    "  with_conn(bind, function(conn)\n"
    "    local plan = ddl_order(md, conn, cf, true, opts and opts.tables)\n"
    "    local tables = plan.tables\n"
    "    if plan.stuck and conn.dialect.name ~= 'sqlite' then\n"
    "      sa._raise('CircularDependencyError', \"Can't sort tables for \" ..\n"
    "        'DROP; an unresolvable foreign key dependency exists between ' "
    "..\n"
    "        'tables: ' .. plan.cycle .. '.  Please ensure that the ' ..\n"
    "        'ForeignKey and ForeignKeyConstraint objects involved in the ' "
    "..\n"
    "        'cycle have names so that they can be dropped using DROP ' ..\n"
    "        'CONSTRAINT.')\n"
    "    elseif plan.stuck then\n"
    "      io.stderr:write(\"SAWarning: Can't sort tables for DROP; an \" ..\n"
    "        'unresolvable foreign key dependency exists between tables: ' ..\n"
    "        plan.cycle .. '; and backend does not support ALTER.  To ' ..\n"
    "        'restore at least a partial sort, apply use_alter=True to ' ..\n"
    "        'ForeignKey and ForeignKeyConstraint objects involved in the ' "
    "..\n"
    "        'cycle to mark these as known cycles that will be ignored.\\n')\n"
    "    end\n"
    "    for _, a in ipairs(plan.alters) do conn:execute(a) end\n"
    "    -- (stuck: in the MetaData's order, as SQLAlchemy gives up)\n"
    "    local from, to, step = #tables, 1, -1\n"
    "    if plan.stuck then from, to, step = 1, #tables, 1 end\n"
    "    for i = from, to, step do drop(conn, tables[i], false, false) end\n"
    "    local all = opts and opts.tables and tables or md._sorted_tables\n"
    "    for _, t in ipairs(all) do drop_sequences(conn, t, cf) end\n"
    "    all_enums(conn, all, function(ty) drop_type(conn, ty, cf) end)\n"
    "  end)\n"
    "end\n"
    "-- module-level forms of the methods, as SQLAlchemy has them\n"
    "-- (the module is no receiver: sa.collate(sa) would call itself)\n"
    "local function subject(e, f)\n"
    "  if rawequal(e, sa) then\n"
    "    error(f .. ': argument #1 must be an expression, not the module', 3)\n"
    "  end\n"
    "  return e\n"
    "end\n"
    "function sa.between(e, lo, hi, opts)\n"
    "  return subject(e, 'between'):between(lo, hi, opts)\n"
    "end\n"
    "function sa.collate(e, name) return subject(e, 'collate'):collate(name) "
    "end\n"
    "function sa.label(name, e)\n"
    "  if type(e) ~= 'userdata' and type(e) ~= 'table' then e = sa.literal(e) "
    "end\n"
    "  return subject(e, 'label'):label(name)\n"
    "end\n"
    "function sa.join(l, r, on, opts)\n"
    "  return subject(l, 'join'):join(r, on, opts)\n"
    "end\n"
    "function sa.outerjoin(l, r, on, opts)\n"
    "  return subject(l, 'outerjoin'):outerjoin(r, on, opts)\n"
    "end\n"
    "function sa.alias(s, name) return subject(s, 'alias'):alias(name) end\n"
    "function Node.create(t, bind, opts)\n"
    "  with_conn(bind, function(conn) create(conn, t, checkfirst(opts)) end)\n"
    "end\n"
    "function Node.drop(t, bind, opts)\n"
    "  with_conn(bind, function(conn) drop(conn, t, checkfirst(opts)) end)\n"
    "end\n";

void lsql_open_expr(lua_State *L) {
  static const luaL_Reg funcs[] = {{"select", lsql_select},
                                   {"insert", l_insert},
                                   {"update", l_update},
                                   {"delete", l_delete},
                                   {"text", l_text},
                                   {"bindparam", l_bindparam},
                                   {"literal", l_literal},
                                   {"literal_column", l_literal_column},
                                   {"column", l_column},
                                   {"cast", e_cast},
                                   {"case", l_case},
                                   {"exists", l_exists},
                                   {"tuple_", l_tuple},
                                   {"values", l_values},
                                   {"any_", l_any},
                                   {"all_", l_all},
                                   {"type_coerce", l_type_coerce},
                                   {"extract", l_extract},
                                   {"distinct", l_distinct},
                                   {"asc", e_asc},
                                   {"desc", e_desc},
                                   {"nulls_first", e_nulls_first},
                                   {"nulls_last", e_nulls_last},
                                   {"and_", l_and},
                                   {"or_", l_or},
                                   {"not_", l_not},
                                   {"true_", l_true},
                                   {"false_", l_false},
                                   {"over", l_over},
                                   {"union", s_union},
                                   {"union_all", s_union_all},
                                   {"intersect", s_intersect},
                                   {"except_", s_except},
                                   {"intersect_all", s_intersect_all},
                                   {"except_all", s_except_all},
                                   {"CreateTable", l_create_table},
                                   {"DropTable", l_drop_table},
                                   {"SetTableComment", l_set_table_comment},
                                   {"DropTableComment", l_drop_table_comment},
                                   {"SetColumnComment", l_set_column_comment},
                                   {"DropColumnComment", l_drop_column_comment},
                                   {"CreateIndex", l_create_index},
                                   {"DropIndex", l_drop_index},
                                   {"CreateSequence", l_create_sequence},
                                   {"AddConstraint", l_add_constraint},
                                   {"DropConstraint", l_drop_constraint},
                                   {"DropSequence", l_drop_sequence},
                                   {NULL, NULL}};
  int mod = lua_gettop(L);
  make_scratch(L);
  make_compiled_mt(L);
  luaL_newmetatable(L, NODE_MT);
  lua_pushvalue(L, -1);
  slot_set(L, SLOT_NODE_MT, &node_mt_key);
  lua_newtable(L);
  luaL_setfuncs(L, node_methods, 0);
  lua_pushcfunction(L, t_columns);
  lua_setfield(L, -2, "columns");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &methods_key);
  rt_lua_newweaktable(L, "k"); /* the method caches */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &caches_key);
  lua_newtable(L); /* __methods: the proxy (see the method caches) */
  lua_createtable(L, 0, 3);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, methods_set);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, methods_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "__methods");
  {
    static const luaL_Reg mms[] = {{"__index", node_index},
                                   {"__gc", node_gc},
                                   {"__newindex", node_newindex},
                                   {"__tostring", node_tostring},
                                   {"__add", m_add},
                                   {"__sub", m_sub},
                                   {"__mul", m_mul},
                                   {"__div", m_div},
                                   {"__mod", m_mod},
                                   {"__concat", m_concat},
                                   {"__unm", m_unm},
                                   {"__band", m_band},
                                   {"__bor", m_bor},
                                   {"__bnot", node_bnot},
                                   {"__eq", node_eq},
                                   {NULL, NULL}};
    luaL_setfuncs(L, mms, 0);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
  lua_pushliteral(L, "__c");
  lua_pushcclosure(L, node_index, 2);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "retort.Node");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  /* the batches of result boxes (see newnode0), the first one made now */
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, batch_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "retort.NodeBatch");
  lua_setfield(L, -2, "__name");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &batch_gc_key);
  batch_new(L);
  slot_set(L, SLOT_BATCH, &batch_key);
  /* execution plans, by statement (see plan_find) */
  rt_lua_newweaktable(L, "k");
  slot_set(L, SLOT_PLANS, &plan_key);
  luaL_setfuncs(L, funcs, 0);
  /* func.<name>(...) */
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, func_call);
  lua_setfield(L, -2, "__call");
  lua_pushcfunction(L, func_path_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, func_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "retort.Function");
  lua_setfield(L, -2, "__name");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &func_mt_key);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, func_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, mod, "func");
  /* SQLAlchemy's label style symbols, as their own names */
  {
    static const char *const styles[] = {"LABEL_STYLE_NONE",
                                         "LABEL_STYLE_TABLENAME_PLUS_COL",
                                         "LABEL_STYLE_DISAMBIGUATE_ONLY", NULL};
    int k;
    for (k = 0; styles[k]; k++) {
      lua_pushstring(L, styles[k]);
      lua_setfield(L, mod, styles[k]);
    }
    lua_pushliteral(L, "LABEL_STYLE_DISAMBIGUATE_ONLY");
    lua_setfield(L, mod, "LABEL_STYLE_DEFAULT");
  }
  /* null() builds the NULL construct */
  lua_pushcfunction(L, l_null);
  lua_setfield(L, LUA_REGISTRYINDEX, "retort.null_construct");
  lua_pushcfunction(L, compile_hook);
  lua_setfield(L, LUA_REGISTRYINDEX, RT_COMPILE_HOOK);
  lua_pushcfunction(L, exec_compile);
  lua_setfield(L, LUA_REGISTRYINDEX, RT_COMPILE_EXEC);
  /* DDL helpers */
  if (luaL_loadbuffer(L, ddl_chunk, sizeof ddl_chunk - 1, "=retort.ddl") !=
      LUA_OK)
    lua_error(L);
  lua_pushvalue(L, mod);
  luaL_getmetatable(L, META_MT);
  lua_getfield(L, -1, "__methods");
  lua_remove(L, -2);
  luaL_getmetatable(L, NODE_MT);
  lua_getfield(L, -1, "__methods");
  lua_remove(L, -2);
  lua_call(L, 3, 0);
}
