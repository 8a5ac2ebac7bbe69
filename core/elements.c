/*
** elements.c -- building and freeing expression nodes.
*/
#include "elements.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* Is p within n's own storage (not to be freed)? */
static int in_sname(const rt_node *n, const char *p) {
  uintptr_t a = (uintptr_t)p, s = (uintptr_t)n->sname;
  return a >= s && a < s + sizeof n->sname;
}

int rt_node_setname(rt_node *n, const char *s) {
  size_t len;
  if (!s) return 0;
  len = strlen(s) + 1;
  /* (a value kept there already keeps the storage) */
  n->name =
      len <= sizeof n->sname &&
              !((n->value.type == RT_V_TEXT || n->value.type == RT_V_BLOB) &&
                in_sname(n, n->value.u.s.p))
          ? n->sname
          : malloc(len);
  if (!n->name) return -1;
  memcpy(n->name, s, len);
  return 0;
}

char *rt_strdup(const char *s) {
  size_t n;
  char *p;
  if (!s) return NULL;
  n = strlen(s) + 1;
  p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

/* Serials tell a statement from a later one at the same address; unique
** across threads, as nodes may move between them.  A thread takes them
** from the shared counter a block at a time: an atomic add per node
** would cost more than the rest of making one. */
static _Atomic uint64_t serials;
#define SERIAL_BLOCK 1024
static _Thread_local uint64_t serial_next, serial_end;

static uint64_t next_serial(void) {
  if (serial_next == serial_end) {
    serial_next = atomic_fetch_add_explicit(&serials, SERIAL_BLOCK,
                                            memory_order_relaxed) +
                  1;
    serial_end = serial_next + SERIAL_BLOCK;
  }
  return serial_next++;
}

/*
** Nodes and small kids arrays come from per-thread slabs and go back to
** per-thread free lists, never to malloc: a statement is built and
** dropped per query, and Lua frees a whole collection cycle's worth of
** them at once, so allocation would otherwise be a large part of
** building one.  The memory is kept for the thread's later statements.
** Not under the address sanitizer, which should see every malloc and
** free.
**
** Classes: 0 a node; 1, 2, 3 kids arrays of capacity 4, 8 and 16
** (rt_node_push grows them in powers of two from 4; larger ones use
** malloc).
*/
#if defined(__SANITIZE_ADDRESS__)
#define USE_SLABS 0
#else
#define USE_SLABS 1
#endif
#define NCLASSES 4
#define SLAB_BYTES 16384

typedef struct freeblock {
  struct freeblock *next;
} freeblock;

static _Thread_local freeblock *freelist[NCLASSES];
static _Thread_local char *slab[NCLASSES];
static _Thread_local size_t slab_left[NCLASSES];

static size_t class_size(int k) {
  return k == 0 ? sizeof(rt_node) : sizeof(rt_node *) * ((size_t)2 << k);
}

static void *block_alloc(int k) {
  size_t size = class_size(k);
  void *p;
  if (!USE_SLABS) return malloc(size);
  if (freelist[k]) {
    freeblock *b = freelist[k];
    freelist[k] = b->next;
    return b;
  }
  if (slab_left[k] < size) {
    /* the rest of the old slab stays unused */
    slab[k] = malloc(SLAB_BYTES);
    slab_left[k] = slab[k] ? SLAB_BYTES : 0;
    if (!slab[k]) return NULL;
  }
  p = slab[k];
  slab[k] += size;
  slab_left[k] -= size;
  return p;
}

static void block_free(int k, void *p) {
  freeblock *b = p;
  if (!USE_SLABS) {
    free(p);
    return;
  }
  b->next = freelist[k];
  freelist[k] = b;
}

/* The capacity an array holding n kids has: 4, or the next power of two. */
static size_t kids_cap(size_t n) {
  size_t cap = 4;
  while (cap < n) cap *= 2;
  return cap;
}

static int kids_class(size_t cap) {
  return cap == 4 ? 1 : cap == 8 ? 2 : cap == 16 ? 3 : -1;
}

static rt_node **kids_alloc(size_t n) {
  size_t cap = kids_cap(n);
  int k = kids_class(cap);
  return k > 0 ? block_alloc(k) : malloc(sizeof(rt_node *) * cap);
}

/* Release an array holding n kids (its capacity follows from n). */
static void kids_release(rt_node **a, int n) {
  int k = kids_class(kids_cap((size_t)n));
  if (k > 0)
    block_free(k, a);
  else
    free(a);
}

rt_node **rt_kids_new(int n) {
  rt_node **a = kids_alloc((size_t)n);
  if (a) memset(a, 0, sizeof(rt_node *) * (size_t)n);
  return a;
}

rt_node *rt_node_new(int kind) {
  rt_node *n = block_alloc(0);
  if (!n) return NULL;
  memset(n, 0, offsetof(rt_node, sname));
  n->refs = 1;
  n->kind = (unsigned char)kind;
  n->serial = next_serial();
  return n;
}

/* Columns share their owner's count. */
static inline rt_node *root(rt_node *n) {
  while (n->owner) n = n->owner;
  return n;
}

/* (inline for the copies, which take a reference to every slot) */
static inline rt_node *ref(rt_node *n) {
  if (n) root(n)->refs++;
  return n;
}

rt_node *rt_ref(rt_node *n) {
  return ref(n);
}

static void node_free(rt_node *n);

/* (inline for node_free, which drops a reference to every slot) */
static inline void unref(rt_node *n) {
  if (!n) return;
  n = root(n);
  if (--n->refs == 0) node_free(n);
}

void rt_unref(rt_node *n) {
  unref(n);
}

/* Free one node's own fields; owned columns go with their owner. */
static void node_free(rt_node *n) {
  int i;
  unref(n->a);
  unref(n->b);
  unref(n->c);
  for (i = 0; i < n->n; i++) {
    rt_node *k = n->kids[i];
    if (!k) continue;
    if (k->owner == n)
      node_free(k);
    else
      unref(k);
  }
  if (n->kids) kids_release(n->kids, n->n);
  /* (most types are static, most names kept in the node: no calls) */
  if (n->type && n->type->refs >= 0) rt_type_unref(n->type);
  if (n->name && !in_sname(n, n->name)) free(n->name);
  if ((n->value.type == RT_V_TEXT || n->value.type == RT_V_BLOB) &&
      !in_sname(n, n->value.u.s.p))
    free((char *)n->value.u.s.p);
  if (n->ext) {
    if (n->kind == RT_N_TABLE)
      rt_tabledata_free(n->ext);
    else if (n->kind == RT_N_COLUMN)
      rt_coldata_free(n->ext);
  }
  block_free(0, n);
}

/* Copy value `from` into n (after its name is set). */
static int copy_value(rt_node *n, rt_value from) {
  rt_value *to = &n->value;
  *to = from;
  if (from.type == RT_V_TEXT || from.type == RT_V_BLOB) {
    size_t off = !n->name               ? 0
                 : in_sname(n, n->name) ? strlen(n->name) + 1
                                        : sizeof n->sname;
    char *p = off + from.u.s.n + 1 <= sizeof n->sname ? n->sname + off
                                                      : malloc(from.u.s.n + 1);
    if (!p) return -1;
    memcpy(p, from.u.s.p, from.u.s.n);
    p[from.u.s.n] = '\0';
    to->u.s.p = p;
  }
  return 0;
}

rt_node *rt_node_copy(const rt_node *n) {
  rt_node *c = rt_node_new(n->kind);
  int i;
  if (!c) return NULL;
  c->op = n->op;
  c->flags = n->flags;
  c->type = n->type;
  if (c->type && c->type->refs > 0) c->type->refs++; /* (rt_type_ref) */
  c->a = ref(n->a);
  c->b = ref(n->b);
  c->c = ref(n->c);
  if ((n->name && rt_node_setname(c, n->name) != 0) ||
      copy_value(c, n->value) != 0) {
    c->value = rt_vnull(); /* not ours to free */
    rt_unref(c);
    return NULL;
  }
  if (n->n) {
    /* the capacity rt_node_push expects: 4, or the next power of two */
    c->kids = kids_alloc((size_t)n->n);
    if (!c->kids) {
      rt_unref(c);
      return NULL;
    }
    for (i = 0; i < n->n; i++) c->kids[i] = ref(n->kids[i]);
    c->n = n->n;
  }
  return c;
}

/* The nodes rt_replace_binds has rewritten so far: old -> new (new owned
** by the map; the same as old when unchanged). */
typedef struct bindmap {
  rt_node **from, **to;
  int n, cap, failed;
  rt_node *(*fn)(rt_node *bind, void *ud);
  void *ud;
  /* rt_replace_nodes: any node's replacement, or NULL to look inside */
  rt_node *(*nodefn)(rt_node *n, void *ud, int *failed);
} bindmap;

static rt_node *map_put(bindmap *m, rt_node *from, rt_node *to) {
  if (m->n == m->cap) {
    int cap = m->cap ? m->cap * 2 : 32;
    rt_node **f = realloc(m->from, sizeof *f * (size_t)cap);
    rt_node **t;
    if (f) m->from = f;
    t = f ? realloc(m->to, sizeof *t * (size_t)cap) : NULL;
    if (!t) {
      m->failed = 1;
      if (to != from) rt_unref(to);
      return from;
    }
    m->to = t;
    m->cap = cap;
  }
  m->from[m->n] = from;
  m->to[m->n++] = to;
  return to;
}

static rt_node *rewrite(bindmap *m, rt_node *n) {
  rt_node *kids[3], *na[3], *copy;
  rt_node **newkids = NULL;
  int i, changed = 0;
  if (!n || m->failed) return n;
  for (i = 0; i < m->n; i++)
    if (m->from[i] == n) return m->to[i];
  if (m->nodefn) {
    rt_node *r = m->nodefn(n, m->ud, &m->failed);
    if (m->failed) return n;
    if (r) return map_put(m, n, r);
  }
  if (n->kind == RT_N_TABLE || n->kind == RT_N_COLUMN || n->kind == RT_N_ALIAS)
    return n;
  if (n->kind == RT_N_BIND && m->fn) {
    rt_node *b = m->fn(n, m->ud);
    if (!b) {
      m->failed = 1;
      return n;
    }
    return map_put(m, n, b);
  }
  kids[0] = n->a, kids[1] = n->b, kids[2] = n->c;
  for (i = 0; i < 3; i++) {
    na[i] = rewrite(m, kids[i]);
    if (na[i] != kids[i]) changed = 1;
  }
  if (n->n) {
    newkids = malloc(sizeof *newkids * (size_t)n->n);
    if (!newkids) {
      m->failed = 1;
      return n;
    }
    for (i = 0; i < n->n; i++) {
      newkids[i] = rewrite(m, n->kids[i]);
      if (newkids[i] != n->kids[i]) changed = 1;
    }
  }
  if (!changed || m->failed) {
    free(newkids);
    return n;
  }
  copy = rt_node_copy(n);
  if (!copy) {
    free(newkids);
    m->failed = 1;
    return n;
  }
  rt_unref(copy->a), rt_unref(copy->b), rt_unref(copy->c);
  copy->a = rt_ref(na[0]), copy->b = rt_ref(na[1]), copy->c = rt_ref(na[2]);
  for (i = 0; i < n->n; i++) {
    rt_unref(copy->kids[i]);
    copy->kids[i] = rt_ref(newkids[i]);
  }
  free(newkids);
  return map_put(m, n, copy);
}

static rt_node *rewrite_all(bindmap *m, rt_node *n) {
  rt_node *r = rewrite(m, n);
  int i;
  r = m->failed ? NULL : rt_ref(r);
  for (i = 0; i < m->n; i++)
    if (m->to[i] != m->from[i]) rt_unref(m->to[i]);
  free(m->from);
  free(m->to);
  return r;
}

rt_node *rt_replace_nodes(rt_node *n,
                          rt_node *(*fn)(rt_node *n, void *ud, int *failed),
                          void *ud) {
  bindmap m = {NULL, NULL, 0, 0, 0, NULL, ud, fn};
  return rewrite_all(&m, n);
}

rt_node *rt_replace_binds(rt_node *n, rt_node *(*fn)(rt_node *bind, void *ud),
                          void *ud) {
  bindmap m = {NULL, NULL, 0, 0, 0, fn, ud, NULL};
  rt_node *r = rewrite(&m, n);
  int i;
  r = m.failed ? NULL : rt_ref(r);
  for (i = 0; i < m.n; i++)
    if (m.to[i] != m.from[i]) rt_unref(m.to[i]);
  free(m.from);
  free(m.to);
  return r;
}

int rt_node_push(rt_node *n, rt_node *item) {
  /* capacity grows in powers of two from 4 */
  if (n->n == 0 || (n->n >= 4 && (n->n & (n->n - 1)) == 0)) {
    rt_node **k = kids_alloc((size_t)n->n + 1);
    if (!k) {
      rt_unref(item);
      return -1;
    }
    if (n->kids) {
      memcpy(k, n->kids, sizeof(rt_node *) * (size_t)n->n);
      kids_release(n->kids, n->n);
    }
    n->kids = k;
  }
  n->kids[n->n++] = item;
  return 0;
}

void rt_node_setkid(rt_node *n, int i, rt_node *item) {
  rt_unref(n->kids[i]);
  n->kids[i] = item;
}

/*
** An anonymous bind's name made from a column's: SQLAlchemy turns each run
** of % ( ) space $ into one underscore and strips underscores from both
** ends, so literal_column("x%(y)") == 5 binds :x_y_1.
*/
static int set_anon_name(rt_node *n, const char *key) {
  size_t len = strlen(key), i, k = 0;
  char *buf;
  int rc;
  if (!strpbrk(key, "%() $") && key[0] != '_' &&
      (len == 0 || key[len - 1] != '_'))
    return rt_node_setname(n, key);
  if (!(buf = malloc(len + 1))) return -1;
  for (i = 0; i < len; i++) {
    if (strchr("%() $", key[i])) {
      if (k == 0 || buf[k - 1] != '_' || !strchr("%() $", key[i - 1]))
        buf[k++] = '_';
    } else
      buf[k++] = key[i];
  }
  while (k > 0 && buf[k - 1] == '_') k--;
  buf[k] = '\0';
  for (i = 0; buf[i] == '_'; i++) {
  }
  rc = rt_node_setname(n, buf + i);
  free(buf);
  return rc;
}

rt_node *rt_bind(const char *key, rt_value v, rt_type *type, int anon) {
  rt_node *n = rt_node_new(RT_N_BIND);
  if (!n) return NULL;
  if ((anon && key ? set_anon_name(n, key)
                   : rt_node_setname(n, key ? key : "param")) != 0 ||
      copy_value(n, v) != 0) {
    n->value = rt_vnull(); /* not ours to free */
    rt_unref(n);
    return NULL;
  }
  if (!type) {
    switch (v.type) {
    case RT_V_INT:
      type = rt_type_bare(RT_TY_INTEGER);
      break;
    case RT_V_FLOAT:
      type = rt_type_bare(RT_TY_FLOAT);
      break;
    case RT_V_BOOL:
      type = rt_type_bare(RT_TY_BOOLEAN);
      break;
    case RT_V_TEXT:
      type = rt_type_bare(RT_TY_STRING);
      break;
    case RT_V_BLOB:
      type = rt_type_bare(RT_TY_LARGEBINARY);
      break;
    default:
      break;
    }
  }
  n->type = rt_type_ref(type);
  if (anon) n->flags |= RT_F_ANON;
  return n;
}

rt_node *rt_literal_column(const char *text, rt_type *type) {
  rt_node *n = rt_node_new(RT_N_LITERAL);
  if (!n) return NULL;
  n->type = rt_type_ref(type);
  if (rt_node_setname(n, text) != 0) {
    rt_unref(n);
    return NULL;
  }
  return n;
}

rt_node *rt_label_reference(const char *name) {
  rt_node *n = rt_literal_column(name, NULL);
  if (n) n->op = RT_LIT_LABELREF;
  return n;
}

rt_node *rt_column(const char *name, rt_type *type) {
  rt_node *n = rt_node_new(RT_N_COLUMN);
  if (!n) return NULL;
  n->type = rt_type_ref(type);
  n->flags |= RT_F_LIGHT;
  if (rt_node_setname(n, name) != 0) {
    rt_unref(n);
    return NULL;
  }
  return n;
}

rt_node *rt_const(int kind) {
  rt_node *n = rt_node_new(kind);
  if (n && kind != RT_N_NULL) n->type = rt_type_bare(RT_TY_BOOLEAN);
  return n;
}

/* SQLAlchemy's operator precedence (sql/operators.py). */
int rt_op_precedence(int op) {
  switch (op) {
  case RT_OP_MUL:
  case RT_OP_DIV:
  case RT_OP_MOD:
  case RT_OP_NEG:
    return 8;
  case RT_OP_ADD:
  case RT_OP_SUB:
    return 7;
  case RT_OP_CONCAT:
    return 6;
  case RT_OP_COLLATE:
    return 4;
  case RT_OP_AND:
  case RT_OP_DESC:
  case RT_OP_ASC:
    return 3;
  case RT_OP_OR:
    return 2;
  case RT_OP_ASBOOL:
    return -10;
  case RT_OP_JSON_GETITEM:
  case RT_OP_JSON_PATH:
  case RT_OP_GETITEM:
    return 15;
  case RT_OP_EXISTS:
    return 0;
  case RT_OP_NULLSFIRST:
  case RT_OP_NULLSLAST:
    return 100; /* no precedence */
  case RT_OP_CUSTOM:
    return 0;
  case RT_OP_NONE:
    return 100;
  default:
    return 5; /* comparisons, IN, IS, LIKE, BETWEEN, NOT */
  }
}

static int self_precedent(int op) {
  return op == RT_OP_ADD || op == RT_OP_MUL || op == RT_OP_CONCAT ||
         op == RT_OP_AND || op == RT_OP_OR || op == RT_OP_GETITEM;
}

/* The operator an expression groups by, or RT_OP_NONE. */
static int node_op(const rt_node *e) {
  if (e->kind == RT_N_BINARY || e->kind == RT_N_BOOLLIST) return e->op;
  /* ordering modifiers (DESC, NULLS LAST) never group, as in SQLAlchemy */
  if (e->kind == RT_N_UNARY &&
      (e->op == RT_OP_NOT || e->op == RT_OP_NEG || e->op == RT_OP_EXISTS))
    return e->op;
  return RT_OP_NONE;
}

rt_node *rt_grouping(rt_node *e) {
  rt_node *g;
  if (!e) return NULL;
  g = rt_node_new(RT_N_GROUPING);
  if (!g) {
    rt_unref(e);
    return NULL;
  }
  g->a = e;
  g->type = rt_type_ref(e->type);
  return g;
}

/* SQLAlchemy's self_group(against): parenthesise `e` when its operator
** binds no tighter than `against`. */
static rt_node *self_group(rt_node *e, int against) {
  int op;
  if (!e) return NULL;
  if (e->kind == RT_N_SELECT || e->kind == RT_N_COMPOUND) return e;
  if (e->kind == RT_N_BOOLLIST && e->n == 0) return e;
  op = node_op(e);
  if (op == RT_OP_NONE) return e;
  if (op == against && self_precedent(op)) return e;
  if ((e->flags & RT_F_LOWPREC) ||
      rt_op_precedence(op) <= rt_op_precedence(against))
    return rt_grouping(e);
  return e;
}

rt_node *rt_self_group(rt_node *e, int against) {
  return self_group(e, against);
}

const rt_node *rt_cast_wrapped(const rt_node *e) {
  const rt_node *x = e;
  if (e->kind != RT_N_CAST) return e;
  while ((x->kind == RT_N_CAST || x->kind == RT_N_GROUPING) && x->a) x = x->a;
  return x;
}

const char *rt_func_basename(const rt_node *f) {
  const char *dot = strrchr(f->name, '.');
  return dot ? dot + 1 : f->name;
}

/* The key of a bind compared with e: a column's or function's name (a
** literal_column's text); a label's comparisons bind as param_1, as
** SQLAlchemy's do. */
const char *rt_bind_key_for(const rt_node *e) {
  while (e) {
    switch (e->kind) {
    case RT_N_COLUMN:
      /* by its key, as SQLAlchemy's ColumnClause binds; a name known only
      ** when compiled is anonymous, as its key is */
      return e->flags & RT_F_LATENAME ? "param" : rt_column_key(e);
    case RT_N_LITERAL:
      return e->op == RT_LIT_LABELREF ? "param" : e->name;
    case RT_N_FUNC:
      return rt_func_basename(e);
    case RT_N_GROUPING:
      e = e->a;
      continue;
    default: /* a CAST or type_coerce() too: anonymous, as SQLAlchemy's */
      return "param";
    }
  }
  return "param";
}

static rt_typekind kind_of(const rt_type *t) {
  return t ? t->kind : RT_TY_NULL;
}

rt_node *rt_bind_against(const rt_node *against, rt_value v) {
  rt_type *t = NULL;
  if (against && against->type && v.type != RT_V_NULL) t = against->type;
  if (against && against->type && against->type->kind == RT_TY_ARRAY) t = NULL;
  /* a float against an integer is a Float (SQLAlchemy's
  ** coerce_compared_value: the value's own type when its affinity differs),
  ** so i + 1.5 is a Float expression; an integer against a Numeric or
  ** Float an Integer (1 % amount is an Integer expression) */
  if (t && v.type == RT_V_FLOAT && rt_type_is_integer(t))
    t = rt_type_bare(RT_TY_FLOAT);
  else if (t && v.type == RT_V_INT &&
           (t->kind == RT_TY_NUMERIC || t->kind == RT_TY_FLOAT ||
            t->kind == RT_TY_DOUBLE))
    t = rt_type_bare(RT_TY_INTEGER);
  /* a string against a number keeps no numeric type (its literal stays
  ** quoted, '5', as SQLAlchemy's String-typed bind renders) */
  if (t && v.type == RT_V_TEXT &&
      (rt_type_is_integer(t) || t->kind == RT_TY_NUMERIC ||
       t->kind == RT_TY_FLOAT || t->kind == RT_TY_DOUBLE))
    t = NULL;
  /* against an untyped expression a string is a String, as SQLAlchemy
  ** types a literal by its value (so lower(x) + 'a' concatenates) */
  if (v.type == RT_V_TEXT && against && kind_of(against->type) == RT_TY_NULL)
    t = rt_type_bare(RT_TY_STRING);
  return rt_bind(rt_bind_key_for(against), v, t, 1);
}

static int is_comparison(int op) {
  return (op >= RT_OP_EQ && op <= RT_OP_NOTBETWEEN);
}

/*
** The type of date arithmetic where it is not the left operand's, as
** SQLAlchemy's date types give it: DateTime - DateTime and Time - Time
** are Interval, Date - Date an Integer, Date + Interval and Date + Time a
** DateTime, Interval + DateTime a DateTime, Integer + Date a Date.
** RT_TY_NULL: the left operand's type.
*/
static rt_typekind date_result(int op, const rt_type *l, const rt_type *r) {
  rt_typekind a = kind_of(l), b = kind_of(r);
  if (op == RT_OP_SUB) {
    if ((a == RT_TY_DATETIME && b == RT_TY_DATETIME) ||
        (a == RT_TY_TIME && b == RT_TY_TIME))
      return RT_TY_INTERVAL;
    if (a == RT_TY_DATE && b == RT_TY_DATE) return RT_TY_INTEGER;
    return RT_TY_NULL;
  }
  if (a == RT_TY_DATE && (b == RT_TY_INTERVAL || b == RT_TY_TIME))
    return RT_TY_DATETIME;
  if (a == RT_TY_INTERVAL &&
      (b == RT_TY_DATETIME || b == RT_TY_DATE || b == RT_TY_TIME))
    return b == RT_TY_TIME ? RT_TY_TIME : RT_TY_DATETIME;
  if (rt_type_is_integer(l) && b == RT_TY_DATE) return RT_TY_DATE;
  return RT_TY_NULL;
}

/* Numeric or Float (and the upper-case types that act as them). */
static int is_decimalish(const rt_type *t) {
  return t && (t->kind == RT_TY_NUMERIC || t->kind == RT_TY_FLOAT ||
               t->kind == RT_TY_DOUBLE);
}

/*
** Arithmetic (+ - * /) whose type is the right operand's, as SQLAlchemy's
** Integer and Numeric adapt it: Integer with a Numeric or Float gives the
** right side's type, as does Numeric with a Float (a Float is a Numeric
** there), and Integer or Numeric times an Interval is an Interval.
*/
static int takes_right_type(int op, const rt_type *l, const rt_type *r) {
  if (op != RT_OP_ADD && op != RT_OP_SUB && op != RT_OP_MUL && op != RT_OP_DIV)
    return 0;
  if (op == RT_OP_MUL && kind_of(r) == RT_TY_INTERVAL)
    return rt_type_is_numeric(l);
  if (rt_type_is_integer(l)) return is_decimalish(r);
  if (kind_of(l) == RT_TY_NUMERIC)
    return kind_of(r) == RT_TY_FLOAT || kind_of(r) == RT_TY_DOUBLE;
  return 0;
}

/* SQLAlchemy's commutative operators: an untyped left operand takes the
** right one's type only for these. */
static int commutative(int op) {
  return op == RT_OP_ADD || op == RT_OP_MUL || op == RT_OP_EQ ||
         op == RT_OP_NE || op == RT_OP_AND || op == RT_OP_OR;
}

/* Does + on a value of type t concatenate (strings, arrays)? */
static int concatenates(const rt_type *t) {
  return rt_type_is_string(t) || kind_of(t) == RT_TY_ARRAY;
}

/* ANY (a) / ALL (a) */
static int is_collection_agg(const rt_node *e) {
  return e && e->kind == RT_N_UNARY &&
         (e->op == RT_OP_ANY || e->op == RT_OP_ALL);
}

/* The operator with its operands swapped (a < b is b > a). */
static int mirrored(int op) {
  switch (op) {
  case RT_OP_LT:
    return RT_OP_GT;
  case RT_OP_LE:
    return RT_OP_GE;
  case RT_OP_GT:
    return RT_OP_LT;
  case RT_OP_GE:
    return RT_OP_LE;
  default:
    return op;
  }
}

rt_node *rt_binary(int op, rt_node *left, rt_node *right) {
  rt_node *n;
  if (!left || !right) goto fail;
  n = rt_node_new(RT_N_BINARY);
  if (!n) goto fail;
  n->op = (unsigned char)op;
  /* string + string is concatenation; so is array + array.  An untyped
  ** left operand (lower(x) + name) takes the right one's meaning, as
  ** SQLAlchemy's NullType does for a commutative operator */
  if (op == RT_OP_ADD &&
      (concatenates(left->type) ||
       (kind_of(left->type) == RT_TY_NULL && concatenates(right->type))))
    n->op = op = RT_OP_CONCAT;
  /* any_(a) < 5 is 5 > ANY (a), as SQLAlchemy mirrors it */
  if (is_comparison(op) && is_collection_agg(left) &&
      !is_collection_agg(right)) {
    rt_node *x = left;
    left = right;
    right = x;
    n->op = (unsigned char)(op = mirrored(op));
  }
  n->a = self_group(left, op);
  n->b = self_group(right, op);
  if (!n->a || !n->b) {
    rt_unref(n);
    return NULL;
  }
  if (is_comparison(op))
    n->type = rt_type_bare(RT_TY_BOOLEAN);
  else if (op == RT_OP_CONCAT && kind_of(left->type) == RT_TY_ARRAY)
    n->type = rt_type_ref(left->type);
  else if (op == RT_OP_CONCAT && kind_of(right->type) == RT_TY_ARRAY &&
           kind_of(left->type) == RT_TY_NULL)
    n->type = rt_type_ref(right->type);
  else if (op == RT_OP_CONCAT)
    n->type = rt_type_ref(rt_type_bare(RT_TY_STRING));
  else if (op == RT_OP_CUSTOM_CMP ||
           (op >= RT_OP_DISTINCT_FROM && op <= RT_OP_MATCH))
    n->type = rt_type_bare(RT_TY_BOOLEAN);
  else if ((op == RT_OP_ADD || op == RT_OP_SUB) &&
           date_result(op, left->type, right->type) != RT_TY_NULL)
    n->type = rt_type_bare(date_result(op, left->type, right->type));
  else if (takes_right_type(op, left->type, right->type))
    n->type = rt_type_ref(right->type);
  else if (op == RT_OP_DIV && rt_type_is_integer(left->type) &&
           rt_type_is_integer(right->type))
    n->type = rt_type_ref(left->type);
  else if (op == RT_OP_COLLATE)
    n->type = rt_type_ref(left->type);
  else if (kind_of(left->type) == RT_TY_NULL && !commutative(op))
    n->type = NULL; /* (untyped - x stays untyped, as NullType's) */
  else
    n->type = rt_type_ref(left->type ? left->type : right->type);
  return n;
fail:
  rt_unref(left);
  rt_unref(right);
  return NULL;
}

rt_node *rt_custom_op(const char *opstring, rt_node *left, rt_node *right) {
  rt_node *n = rt_binary(RT_OP_CUSTOM, left, right);
  if (n) {
    rt_type_unref(n->type);
    n->type = rt_type_ref(left->type);
    if (rt_node_setname(n, opstring) != 0) {
      rt_unref(n);
      return NULL;
    }
  }
  return n;
}

rt_node *rt_between(rt_node *e, rt_node *lo, rt_node *hi, int negate) {
  rt_node *n = rt_binary(negate ? RT_OP_NOTBETWEEN : RT_OP_BETWEEN, e, lo);
  if (!n) {
    rt_unref(hi);
    return NULL;
  }
  n->c = self_group(hi, RT_OP_BETWEEN);
  return n;
}

rt_node *rt_in(rt_node *e, rt_node *list, int negate) {
  rt_node *n;
  if (!e || !list) {
    rt_unref(e);
    rt_unref(list);
    return NULL;
  }
  n = rt_node_new(RT_N_BINARY);
  if (!n) {
    rt_unref(e);
    rt_unref(list);
    return NULL;
  }
  n->op = negate ? RT_OP_NOTIN : RT_OP_IN;
  n->a = self_group(e, RT_OP_IN);
  n->b = list;
  n->type = rt_type_bare(RT_TY_BOOLEAN);
  return n;
}

rt_node *rt_unary(int op, rt_node *e) {
  rt_node *n;
  if (!e) return NULL;
  n = rt_node_new(RT_N_UNARY);
  if (!n) {
    rt_unref(e);
    return NULL;
  }
  n->op = (unsigned char)op;
  /* ANY and ALL parenthesise their operand themselves */
  if (op == RT_OP_ANY || op == RT_OP_ALL)
    n->a = e;
  else
    n->a = self_group(
        e, op == RT_OP_NULLSFIRST || op == RT_OP_NULLSLAST ? RT_OP_NONE : op);
  n->type = op == RT_OP_NOT || op == RT_OP_EXISTS ? rt_type_bare(RT_TY_BOOLEAN)
                                                  : rt_type_ref(e->type);
  return n;
}

/* The operator a negated comparison becomes. */
static int negated(int op) {
  switch (op) {
  case RT_OP_EQ:
    return RT_OP_NE;
  case RT_OP_NE:
    return RT_OP_EQ;
  case RT_OP_LT:
    return RT_OP_GE;
  case RT_OP_LE:
    return RT_OP_GT;
  case RT_OP_GT:
    return RT_OP_LE;
  case RT_OP_GE:
    return RT_OP_LT;
  case RT_OP_LIKE:
    return RT_OP_NOTLIKE;
  case RT_OP_NOTLIKE:
    return RT_OP_LIKE;
  case RT_OP_ILIKE:
    return RT_OP_NOTILIKE;
  case RT_OP_NOTILIKE:
    return RT_OP_ILIKE;
  case RT_OP_IN:
    return RT_OP_NOTIN;
  case RT_OP_NOTIN:
    return RT_OP_IN;
  case RT_OP_IS:
    return RT_OP_ISNOT;
  case RT_OP_ISNOT:
    return RT_OP_IS;
  case RT_OP_DISTINCT_FROM:
    return RT_OP_NOT_DISTINCT_FROM;
  case RT_OP_NOT_DISTINCT_FROM:
    return RT_OP_DISTINCT_FROM;
  case RT_OP_REGEXP:
    return RT_OP_NOTREGEXP;
  case RT_OP_NOTREGEXP:
    return RT_OP_REGEXP;
  case RT_OP_BETWEEN:
    return RT_OP_NOTBETWEEN;
  case RT_OP_NOTBETWEEN:
    return RT_OP_BETWEEN;
  default:
    return RT_OP_NONE;
  }
}

/* Is the operand of a NOT one SQLAlchemy negates as AsBoolean (a
** Boolean-typed column, function, cast or label), whose NOT of NOT is the
** operand again?  NOT of anything else nests: NOT (NOT (EXISTS ...)). */
static int as_boolean(const rt_node *x) {
  while (x && x->kind == RT_N_GROUPING) x = x->a;
  if (!x || !x->type || x->type->kind != RT_TY_BOOLEAN) return 0;
  return x->kind == RT_N_COLUMN || x->kind == RT_N_FUNC ||
         x->kind == RT_N_CAST || x->kind == RT_N_LABEL;
}

rt_node *rt_not(rt_node *e) {
  if (!e) return NULL;
  /* a boolean custom operator (a @> b) negates as NOT a @> b, ungrouped */
  if (e->kind == RT_N_BINARY &&
      (e->op == RT_OP_CUSTOM_CMP || e->op == RT_OP_MATCH)) {
    rt_node *n = rt_node_new(RT_N_UNARY);
    if (!n) {
      rt_unref(e);
      return NULL;
    }
    n->op = RT_OP_NOT;
    n->a = e;
    n->type = rt_type_bare(RT_TY_BOOLEAN);
    return n;
  }
  if (e->kind == RT_N_BINARY && !(e->flags & RT_F_NONEGATE) &&
      negated(e->op) != RT_OP_NONE) {
    rt_node *n = rt_node_copy(e);
    rt_unref(e);
    if (n) n->op = (unsigned char)negated(n->op);
    return n;
  }
  if (e->kind == RT_N_UNARY && e->op == RT_OP_NOT && as_boolean(e->a)) {
    rt_node *inner = rt_ref(e->a);
    rt_unref(e);
    if (inner && inner->kind == RT_N_GROUPING) {
      rt_node *x = rt_ref(inner->a);
      rt_unref(inner);
      return x;
    }
    return inner;
  }
  if (e->kind == RT_N_TRUE || e->kind == RT_N_FALSE) {
    int k = e->kind == RT_N_TRUE ? RT_N_FALSE : RT_N_TRUE;
    rt_unref(e);
    return rt_const(k);
  }
  return rt_unary(RT_OP_NOT, e);
}

/*
** true_() and false_() decide an AND/OR list as SQLAlchemy's do when it is
** made: and_(x, false_()) is false_(), or_(x, true_()) is true_(); the
** other one drops out (and_(true_(), x) is x), unless it is all there is.
*/
static rt_node *bool_shortcut(rt_node *l) {
  int skip = l->op == RT_OP_AND ? RT_N_FALSE : RT_N_TRUE;
  int cont = l->op == RT_OP_AND ? RT_N_TRUE : RT_N_FALSE;
  int i, k = 0;
  rt_node *keep = NULL;
  for (i = 0; i < l->n; i++)
    if (l->kids[i]->kind == skip) {
      rt_node *r = rt_ref(l->kids[i]);
      rt_unref(l);
      return r;
    }
  for (i = 0; i < l->n; i++) {
    if (l->kids[i]->kind == cont) {
      if (!keep)
        keep = l->kids[i];
      else
        rt_unref(l->kids[i]);
      continue;
    }
    l->kids[k++] = l->kids[i];
  }
  if (k == 0 && keep) {
    l->kids[k++] = keep;
  } else if (keep)
    rt_unref(keep);
  for (i = k; i < l->n; i++) l->kids[i] = NULL;
  l->n = k;
  return l;
}

rt_node *rt_boollist(int op, rt_node **items, int n) {
  rt_node *l = rt_node_new(RT_N_BOOLLIST);
  int i, failed = !l;
  if (l) {
    l->op = (unsigned char)op;
    l->type = rt_type_bare(RT_TY_BOOLEAN);
  }
  for (i = 0; i < n; i++) {
    rt_node *e = items[i];
    if (failed || !e) {
      rt_unref(e);
      failed = 1;
      continue;
    }
    /* and_(a, and_(b, c)) flattens, as SQLAlchemy's does */
    if (e->kind == RT_N_BOOLLIST && e->op == op) {
      int j;
      for (j = 0; j < e->n && !failed; j++)
        failed = rt_node_push(l, rt_ref(e->kids[j])) != 0;
      rt_unref(e);
      continue;
    }
    failed = rt_node_push(l, e) != 0;
  }
  if (failed) {
    rt_unref(l);
    return NULL;
  }
  l = bool_shortcut(l);
  if (l->kind != RT_N_BOOLLIST) return l;
  /* one clause left is that clause itself, ungrouped (or_(x, false_())
  ** is x); of several, each is grouped against the operator, as
  ** SQLAlchemy's BooleanClauseList makes them */
  if (l->n == 1) {
    rt_node *only = rt_ref(l->kids[0]);
    rt_unref(l);
    return only;
  }
  for (i = 0; i < l->n; i++) {
    l->kids[i] = self_group(l->kids[i], op);
    if (!l->kids[i]) failed = 1;
  }
  if (failed) {
    rt_unref(l);
    return NULL;
  }
  return l;
}

/* The return types of SQLAlchemy 1.4's generic functions; any other
** function (lower, upper, length, ...) is untyped there, so that
** lower(x) + 5 is an addition, not a concatenation. */
static rt_type *func_type(const char *name, rt_node **args, int n) {
  if (strcmp(name, "count") == 0 || strcmp(name, "char_length") == 0)
    return rt_type_bare(RT_TY_INTEGER);
  if (strcmp(name, "now") == 0 || strcmp(name, "current_timestamp") == 0)
    return rt_type_bare(RT_TY_DATETIME);
  if (strcmp(name, "concat") == 0) return rt_type_bare(RT_TY_STRING);
  if ((strcmp(name, "sum") == 0 || strcmp(name, "min") == 0 ||
       strcmp(name, "max") == 0 || strcmp(name, "coalesce") == 0) &&
      n > 0)
    return rt_type_ref(args[0]->type);
  return NULL;
}

rt_node *rt_func(const char *name, rt_node **args, int n) {
  rt_node *f = rt_node_new(RT_N_FUNC);
  int i, failed = !f;
  if (f && rt_node_setname(f, name) != 0) failed = 1;
  for (i = 0; i < n; i++) {
    if (failed || !args[i]) {
      rt_unref(args[i]);
      failed = 1;
      continue;
    }
    failed = rt_node_push(f, args[i]) != 0;
  }
  if (failed || !f->name) {
    rt_unref(f);
    return NULL;
  }
  f->type = func_type(name, f->kids, f->n);
  if (strcmp(name, "count") == 0 && n == 0) f->flags |= RT_F_STAR;
  return f;
}

rt_node *rt_label(const char *name, rt_node *e) {
  rt_node *n;
  if (!e) return NULL;
  n = rt_node_new(RT_N_LABEL);
  if (!n) {
    rt_unref(e);
    return NULL;
  }
  if (!name) n->flags |= RT_F_ANON;
  n->a = e;
  n->type = rt_type_ref(e->type);
  if (rt_node_setname(n, name) != 0) {
    rt_unref(n);
    return NULL;
  }
  return n;
}

rt_node *rt_cast(rt_node *e, rt_type *type) {
  rt_node *n;
  if (!e) return NULL;
  n = rt_node_new(RT_N_CAST);
  if (!n) {
    rt_unref(e);
    return NULL;
  }
  n->a = e;
  n->type = rt_type_ref(type);
  return n;
}

rt_node *rt_expr_table(rt_node *e) {
  rt_node *t;
  int i;
  if (!e) return NULL;
  if (e->kind == RT_N_COLUMN)
    return e->owner && e->owner->kind == RT_N_TABLE ? e->owner : NULL;
  if (rt_is_selectable(e)) return NULL; /* a subquery's tables are its own */
  if ((t = rt_expr_table(e->a)) || (t = rt_expr_table(e->b)) ||
      (t = rt_expr_table(e->c)))
    return t;
  for (i = 0; i < e->n; i++)
    if ((t = rt_expr_table(e->kids[i]))) return t;
  return NULL;
}

int rt_is_selectable(const rt_node *n) {
  return n->kind == RT_N_SELECT || n->kind == RT_N_COMPOUND ||
         n->kind == RT_N_TABLE || n->kind == RT_N_ALIAS || n->kind == RT_N_JOIN;
}
