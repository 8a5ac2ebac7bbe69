/*
** compiler.c -- walk a statement tree and render SQL for one dialect.
**
** Names SQLAlchemy makes up while compiling (bind names `id_1`, labels
** `count_1`, aliases `anon_1`) are numbered per base name in the order
** they are first rendered; the same node always gets the same name.
** Positional placeholders are written as a marker byte and numbered in a
** last pass, so text rendered out of order (a WITH clause) stays in step
** with the parameter list.
*/
#include "compiler.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dml.h"
#include "schema.h"
#include "selectable.h"

#define MARK '\x01'
#define MAXFROMS 32

typedef struct anon_entry {
  const void *key;
  int tag;
  int num;
} anon_entry;

typedef struct base_count {
  const char *base;
  int count;
  int dedupe; /* the "name__N" namespace of repeated columns */
} base_count;

typedef struct out {
  rt_strbuf sb;
  rt_param *params;
  int nparams, cap;
  int *name_off; /* offsets into names */
} out;

typedef struct frame {
  rt_node **froms;
  int nfroms;
} frame;

struct rt_compiler {
  const rt_dialect *d;
  const rt_compile_opts *o;
  out main, ctes, *cur;
  rt_strbuf names;
  anon_entry *anon;
  int nanon, anoncap;
  int *slots; /* hash index into anon (position + 1), once it is long */
  int slotcap;
  base_count *bases;
  int nbases, basecap;
  rt_node **scratch; /* joins made while compiling */
  int nscratch, scratchcap;
  rt_node **cte_seen;
  int ncte, ctecap, recursive;
  frame frames[16];
  int depth;
  int no_qualify;    /* render columns without their table */
  int from_subquery; /* the next select is a FROM subquery: no correlation */
  int asfrom;        /* the select being rendered is a FROM element */
  rt_node *cur_cols; /* columns clause of the select being rendered */
  rt_node *ref_sel;  /* the select whose ORDER BY / GROUP BY is rendered */
  int in_binary;     /* inside an operand of a binary expression */
  int rows;          /* VALUES rows rendered for insert_rows */
  int postcompile;   /* an expanding bind waits for its list */
  int in_items;      /* the parameters added are an IN list's items */
  size_t with_at;    /* MySQL's INSERT .. WITH .. SELECT: where WITH goes */
  rt_node *inserted; /* ON DUPLICATE KEY UPDATE's table: its "inserted"
                        alias's columns are VALUES(col) */
  int nested_dml;    /* an INSERT/UPDATE/DELETE in a CTE: its values are
                        anonymous binds, no implicit RETURNING */
  int failed;
  rt_error *err;
};

/* --- plumbing --- */

rt_strbuf *rt_c_buf(rt_compiler *c) {
  return &c->cur->sb;
}
const rt_dialect *rt_c_dialect(rt_compiler *c) {
  return c->d;
}
int rt_c_literal_binds(rt_compiler *c) {
  return c->o->literal_binds;
}

void rt_c_ddl_expr(rt_compiler *c, rt_node *e) {
  rt_compile_opts o = *c->o;
  const rt_compile_opts *saved = c->o;
  o.literal_binds = 1;
  c->o = &o;
  c->no_qualify++;
  rt_c_expr(c, e);
  c->no_qualify--;
  c->o = saved;
}

void rt_c_fail(rt_compiler *c, rt_errkind kind, const char *fmt, ...) {
  va_list ap;
  if (c->failed) return;
  c->failed = 1;
  va_start(ap, fmt);
  rt_error_setv(c->err, kind, fmt, ap);
  va_end(ap);
}

#define S(str) rt_sb_adds(&c->cur->sb, str)
#define CH(ch) rt_sb_addc(&c->cur->sb, ch)

static void scratch(rt_compiler *c, rt_node *n) {
  if (c->nscratch == c->scratchcap) {
    int cap = c->scratchcap ? c->scratchcap * 2 : 8;
    rt_node **p = realloc(c->scratch, sizeof *p * (size_t)cap);
    if (!p) {
      rt_unref(n);
      rt_c_fail(c, RT_EMEMORY, "out of memory");
      return;
    }
    c->scratch = p;
    c->scratchcap = cap;
  }
  c->scratch[c->nscratch++] = n;
}

/* The number of an anonymous name: the same (key, tag) gets the same
** number; numbers count up per base name. */
static size_t anon_hash(const void *key, int tag, int cap) {
  return (((uintptr_t)key >> 3) * 31u + (size_t)tag) & (size_t)(cap - 1);
}

/* Index the entries by (key, tag): statements with thousands of binds
** stay linear. */
static int anon_reindex(rt_compiler *c) {
  int cap = c->slotcap ? c->slotcap * 2 : 128, i;
  int *slots = calloc((size_t)cap, sizeof *slots);
  if (!slots) return -1;
  for (i = 0; i < c->nanon; i++) {
    size_t h = anon_hash(c->anon[i].key, c->anon[i].tag, cap);
    while (slots[h]) h = (h + 1) & (size_t)(cap - 1);
    slots[h] = i + 1;
  }
  free(c->slots);
  c->slots = slots;
  c->slotcap = cap;
  return 0;
}

static int anon_num_ns(rt_compiler *c, const void *key, int tag,
                       const char *base, int dedupe) {
  int i;
  base_count *b = NULL;
  if (c->slots) {
    size_t h = anon_hash(key, tag, c->slotcap);
    while (c->slots[h]) {
      anon_entry *e = &c->anon[c->slots[h] - 1];
      if (e->key == key && e->tag == tag) return e->num;
      h = (h + 1) & (size_t)(c->slotcap - 1);
    }
  } else
    for (i = 0; i < c->nanon; i++)
      if (c->anon[i].key == key && c->anon[i].tag == tag) return c->anon[i].num;
  for (i = 0; i < c->nbases && !b; i++)
    if (strcmp(c->bases[i].base, base) == 0 && c->bases[i].dedupe == dedupe)
      b = &c->bases[i];
  if (!b) {
    if (c->nbases == c->basecap) {
      int cap = c->basecap ? c->basecap * 2 : 8;
      base_count *p = realloc(c->bases, sizeof *p * (size_t)cap);
      if (!p) {
        rt_c_fail(c, RT_EMEMORY, "out of memory");
        return 1;
      }
      c->bases = p;
      c->basecap = cap;
    }
    b = &c->bases[c->nbases++];
    b->base = base;
    b->count = 0;
    b->dedupe = dedupe;
  }
  if (c->nanon == c->anoncap) {
    int cap = c->anoncap ? c->anoncap * 2 : 16;
    anon_entry *p = realloc(c->anon, sizeof *p * (size_t)cap);
    if (!p) {
      rt_c_fail(c, RT_EMEMORY, "out of memory");
      return 1;
    }
    c->anon = p;
    c->anoncap = cap;
  }
  c->anon[c->nanon].key = key;
  c->anon[c->nanon].tag = tag;
  c->anon[c->nanon].num = ++b->count;
  c->nanon++;
  if (c->slots && c->nanon * 2 < c->slotcap) {
    size_t h = anon_hash(key, tag, c->slotcap);
    while (c->slots[h]) h = (h + 1) & (size_t)(c->slotcap - 1);
    c->slots[h] = c->nanon;
  } else if (c->nanon > 32 && anon_reindex(c) != 0)
    rt_c_fail(c, RT_EMEMORY, "out of memory");
  return b->count;
}

static int anon_num(rt_compiler *c, const void *key, int tag,
                    const char *base) {
  return anon_num_ns(c, key, tag, base, 0);
}

/* TAG_REPEAT + k: the k-th repeat within one columns clause */
enum { TAG_BIND = 1, TAG_LABEL, TAG_DEDUPE, TAG_ALIAS, TAG_REPEAT = 64 };

/* Numbers without printf: names are made on every compile. */
static void add_int(rt_strbuf *b, int n) {
  char tmp[16];
  int k = 16;
  if (n < 0) n = 0;
  do {
    tmp[--k] = (char)('0' + n % 10);
    n /= 10;
  } while (n && k > 0);
  rt_sb_addlen(b, tmp + k, (size_t)(16 - k));
}

static void add_suffix(rt_strbuf *b, int n) {
  rt_sb_addc(b, '_');
  add_int(b, n);
}

/* --- identifiers --- */

static int is_reserved(const rt_dialect *d, const char *lower) {
  int lo = 0, hi = *d->nreserved - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, r = strcmp(lower, d->reserved[mid]);
    if (r == 0) return 1;
    if (r < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  return 0;
}

/* SQLAlchemy quotes reserved words, names with upper case, names that
** start with a digit or '$', and names with characters beyond [A-Za-z0-9_$]. */
int rt_dialect_needs_quote(const rt_dialect *d, const char *name) {
  char lower[128];
  size_t i, n = strlen(name);
  if (n == 0) return 1;
  if ((name[0] >= '0' && name[0] <= '9') || name[0] == '$') return 1;
  for (i = 0; i < n; i++) {
    char ch = name[i];
    if (ch >= 'A' && ch <= 'Z') return 1;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
          ch == '$'))
      return 1;
  }
  if (n >= sizeof lower) return 0;
  memcpy(lower, name, n + 1);
  return is_reserved(d, lower);
}

void rt_c_ident(rt_compiler *c, const char *name) {
  const char *p;
  if (name == NULL) {
    /* an element not named yet; the specific cases say so better above */
    rt_c_fail(c, RT_ECOMPILE, "Cannot compile an element without a name");
    return;
  }
  if (!rt_dialect_needs_quote(c->d, name)) {
    S(name);
    return;
  }
  CH(c->d->quote_open);
  for (p = name; *p; p++) {
    if (*p == c->d->quote_close) CH(*p);
    CH(*p);
  }
  CH(c->d->quote_close);
}

/* --- parameters --- */

static void add_param(rt_compiler *c, const rt_value *v, const rt_type *t,
                      const char *name, int num, int sub) {
  out *o = c->cur;
  if (o->nparams == o->cap) {
    int cap = o->cap ? o->cap * 2 : 8;
    rt_param *p = realloc(o->params, sizeof *p * (size_t)cap);
    int *off = realloc(o->name_off, sizeof *off * (size_t)cap);
    if (p) o->params = p;
    if (off) o->name_off = off;
    if (!p || !off) {
      rt_c_fail(c, RT_EMEMORY, "out of memory");
      return;
    }
    o->cap = cap;
  }
  o->params[o->nparams].value = v;
  o->params[o->nparams].name = NULL;
  o->params[o->nparams].kind = !t                      ? RT_TY_NULL
                               : t->upper == RT_UP_SET ? RT_PARAM_SET
                                                       : (unsigned char)t->kind;
  o->params[o->nparams].in_item = (unsigned char)c->in_items;
  o->name_off[o->nparams] = (int)c->names.n;
  rt_sb_adds(&c->names, name);
  if (num) add_suffix(&c->names, num);
  if (sub) add_suffix(&c->names, sub);
  rt_sb_addc(&c->names, '\0');
  o->nparams++;
}

static void literal_value(rt_compiler *c, const rt_value *v) {
  char buf[40];
  size_t i;
  switch (v->type) {
  case RT_V_NULL:
    S("NULL");
    break;
  case RT_V_INT:
    rt_sb_addf(&c->cur->sb, "%lld", (long long)v->u.i);
    break;
  case RT_V_FLOAT:
    S(rt_float_repr(v->u.f, buf));
    break;
  case RT_V_BOOL:
    if (c->d->flags & (RT_DF_NATIVE_BOOL | RT_DF_BOOL_WORDS))
      S(v->u.b ? "true" : "false");
    else
      S(v->u.b ? "1" : "0");
    break;
  case RT_V_TEXT:
    CH('\'');
    for (i = 0; i < v->u.s.n; i++) {
      char ch = v->u.s.p[i];
      if (ch == '\'') CH('\'');
      if (ch == '\\' && (c->d->flags & RT_DF_BACKSLASH)) CH('\\');
      CH(ch);
    }
    CH('\'');
    break;
  case RT_V_BLOB:
    rt_c_fail(c, RT_ECOMPILE,
              "No literal value renderer is available for literal value of "
              "type LargeBinary with dialect %s",
              c->d->name);
    break;
  }
}

/* One placeholder for value v (of SQL type t, or NULL) named
** name[_num][_sub]. */
static void marker(rt_compiler *c, const rt_value *v, const rt_type *t,
                   const char *name, int num, int sub);

/* The type an IN list item's literal renders by: a string compared with a
** number stays a quoted string, as SQLAlchemy's coerced bind */
static const rt_type *in_item_type(const rt_node *b) {
  if (b->value.type == RT_V_TEXT && b->type &&
      (rt_type_is_numeric(b->type) || b->type->kind == RT_TY_FLOAT ||
       b->type->kind == RT_TY_DOUBLE))
    return NULL;
  return b->type;
}

/* Is the text a number as a whole (digits, sign, point, exponent)? */
static int numeric_text(const rt_value *v, int integer) {
  size_t i = 0, n = v->u.s.n;
  int digits = 0;
  const char *p = v->u.s.p;
  if (i < n && (p[i] == '-' || p[i] == '+')) i++;
  for (; i < n; i++) {
    if (p[i] >= '0' && p[i] <= '9')
      digits++;
    else if (integer || !(p[i] == '.' || p[i] == 'e' || p[i] == 'E' ||
                          p[i] == '-' || p[i] == '+'))
      return 0;
  }
  return digits > 0 && (integer || n < 40);
}

/* The number of an anonymous parameter named after base; none for one
** literal_binds renders as a value (SQLAlchemy names none there). */
static int bind_num(rt_compiler *c, rt_node *key, const char *base) {
  return c->o->literal_binds ? 0 : anon_num(c, key, TAG_BIND, base);
}

static void placeholder(rt_compiler *c, const rt_value *v, const rt_type *t,
                        const char *name, int num, int sub) {
  if (c->o->literal_binds) {
    /* a numeric type's literal renders a numeric string as a number, as
    ** SQLAlchemy's literal processors do (int(value), str(value)) */
    if (t && v->type == RT_V_TEXT &&
        (t->kind == RT_TY_INTEGER || t->kind == RT_TY_BIGINTEGER ||
         t->kind == RT_TY_SMALLINTEGER || t->kind == RT_TY_NUMERIC ||
         t->kind == RT_TY_FLOAT || t->kind == RT_TY_DOUBLE)) {
      int integer = t->kind == RT_TY_INTEGER || t->kind == RT_TY_BIGINTEGER ||
                    t->kind == RT_TY_SMALLINTEGER;
      if (numeric_text(v, integer)) {
        size_t i = v->u.s.p[0] == '+' ? 1 : 0;
        if (integer) { /* int('007') is 7 */
          int neg = v->u.s.p[0] == '-';
          if (neg) i = 1;
          while (i + 1 < v->u.s.n && v->u.s.p[i] == '0') i++;
          if (neg && !(v->u.s.n - i == 1 && v->u.s.p[i] == '0')) CH('-');
        }
        rt_sb_addlen(&c->cur->sb, v->u.s.p + i, v->u.s.n - i);
        return;
      }
    }
    literal_value(c, v);
    return;
  }
  marker(c, v, t, name, num, sub);
}

/* A bind name with characters a named placeholder cannot hold, as
** SQLAlchemy renders it: % ( ) : become P A Z C, [ ] and space _. */
static void escaped_name(rt_compiler *c, const char *name) {
  static const char from[] = "%():[] ", to[] = "PAZC___";
  for (; *name; name++) {
    const char *p = strchr(from, *name);
    CH(p ? to[p - from] : *name);
  }
}

/* the parameter and its placeholder, whatever the compile's options */
static void marker(rt_compiler *c, const rt_value *v, const rt_type *t,
                   const char *name, int num, int sub) {
  add_param(c, v, t, name, num, sub);
  if (c->d->paramstyle == RT_PS_NAMED) {
    CH(':');
    if (strpbrk(name, "%():[] "))
      escaped_name(c, name);
    else
      S(name);
    if (num) add_suffix(&c->cur->sb, num);
    if (sub) add_suffix(&c->cur->sb, sub);
  } else
    CH(MARK);
  /* PostgreSQL: an array value says its type, as psycopg2's dialect does */
  if (t && t->kind == RT_TY_ARRAY && strcmp(c->d->name, "postgresql") == 0) {
    S("::");
    rt_type_ddl(&c->cur->sb, t, "postgresql");
  }
}

const rt_value rt_required_value = {RT_V_NULL, 0, {0}};

static void bind(rt_compiler *c, rt_node *b) {
  /* (a value rendered as a literal takes no name, nor a number from the
  ** anonymous names' counters: SQLAlchemy's literal_binds names none) */
  int num = b->flags & RT_F_ANON ? bind_num(c, b, b->name) : 0;
  placeholder(c, b->flags & RT_F_REQUIRED ? &rt_required_value : &b->value,
              b->type, b->name, num, 0);
}

void rt_c_const_param(rt_compiler *c, rt_node *b) {
  bind(c, b);
}

void rt_c_bound_param(rt_compiler *c, rt_node *b) {
  int num = b->flags & RT_F_ANON ? anon_num(c, b, TAG_BIND, b->name) : 0;
  marker(c, &b->value, b->type, b->name, num, 0);
}

/* --- expressions --- */

static void select_stmt(rt_compiler *c, rt_node *s, int asfrom);
static void from_item(rt_compiler *c, rt_node *f);
static void alias_body(rt_compiler *c, rt_node *f);
static void cte_ref(rt_compiler *c, rt_node *a);

static void values_rows(rt_compiler *c, rt_node *f);

static void list(rt_compiler *c, rt_node *l, const char *sep) {
  int i;
  for (i = 0; l && i < l->n; i++) {
    if (i) S(sep);
    rt_c_expr(c, l->kids[i]);
  }
}

/* room for a generated alias name: a table's name and a number */
#define ALIAS_NAME_MAX 96

static const char *alias_name(rt_compiler *c, rt_node *a, char *buf,
                              size_t size) {
  /* a CTE grown by union_all() keeps the name of the one it grew from */
  if (a->flags & RT_F_CTE)
    while (a->c && a->c->kind == RT_N_ALIAS) a = a->c;
  if (a->name) return a->name;
  /* an unnamed alias of a table is named after it (node_1), others anon_1 */
  if (a->a && a->a->kind == RT_N_TABLE && a->a->name &&
      strlen(a->a->name) < size - 16) {
    snprintf(buf, size, "%s_%d", a->a->name,
             anon_num(c, a, TAG_ALIAS, a->a->name));
    return buf;
  }
  /* (an unnamed alias of a named alias: after that one, pjoin_1) */
  if (a->a && a->a->kind == RT_N_ALIAS && !(a->a->flags & RT_F_CTE) &&
      a->a->name && strlen(a->a->name) < size - 16) {
    snprintf(buf, size, "%s_%d", a->a->name,
             anon_num(c, a, TAG_ALIAS, a->a->name));
    return buf;
  }
  snprintf(buf, size, "anon_%d", anon_num(c, a, TAG_ALIAS, "anon"));
  return buf;
}

/* The name an unnamed columns-clause expression is labelled with. */
static void anon_label_to(rt_compiler *c, rt_node *e, rt_strbuf *out) {
  const char *base = "anon";
  rt_node *label = e;
  while (e->kind == RT_N_LABEL && (e->flags & RT_F_ANON) && e->a) e = e->a;
  if (e->kind == RT_N_CAST) {
    /* a CAST takes the anonymous name of the function or unnamed label
    ** it wraps (f_1, id_1), as SQLAlchemy's WrapsColumnExpression */
    rt_node *x = (rt_node *)rt_cast_wrapped(e);
    if (x->kind == RT_N_FUNC ||
        (x->kind == RT_N_LABEL && (x->flags & RT_F_ANON) && x->a)) {
      anon_label_to(c, x, out);
      return;
    }
  }
  if (e->kind == RT_N_FUNC)
    base = rt_func_basename(e);
  else if (e->kind == RT_N_COLUMN && !(e->flags & RT_F_ANON) && e->name &&
           label != e) {
    /* col.label(nil): named after the column, each label its own number,
    ** as SQLAlchemy's */
    base = e->name;
    e = label;
  }
  {
    int num = anon_num(c, e, TAG_LABEL, base);
    rt_sb_adds(out, base);
    add_suffix(out, num);
  }
}

static void anon_label(rt_compiler *c, rt_node *e) {
  anon_label_to(c, e, &c->cur->sb);
}

/* The text built in b (freed) as a name that lives as long as the
** compile does; NULL on failure. */
static const char *scratch_name(rt_compiler *c, rt_strbuf *b) {
  rt_node *n = b->p ? rt_literal_column(b->p, NULL) : NULL;
  rt_sb_free(b);
  if (!n) {
    rt_c_fail(c, RT_EMEMORY, "out of memory");
    return NULL;
  }
  scratch(c, n);
  return c->failed ? NULL : n->name;
}

/* The name anon_label gives e, as a string living as long as the
** compile. */
static const char *anon_label_name(rt_compiler *c, rt_node *e) {
  rt_strbuf b = RT_STRBUF_INIT;
  anon_label_to(c, e, &b);
  return scratch_name(c, &b);
}

static const char *tq_name(rt_compiler *c, rt_node *col);

/* The name of a column of a subquery: a RT_F_LATENAME one's is known only
** now, its inner column's <alias>_<column> label (or that column's own
** late name); the string lives as long as the compile. */
static const char *col_name(rt_compiler *c, rt_node *col) {
  const rt_node *el;
  /* (a subquery's column of an anonymous label: that label's name) */
  if (col->kind == RT_N_COLUMN && col->flags & RT_F_ANON && col->a)
    return anon_label_name(c, col->a);
  if (!(col->flags & RT_F_LATENAME) || col->kind != RT_N_COLUMN || !col->a ||
      !col->owner || col->owner->kind != RT_N_ALIAS || !col->owner->a)
    return col->name;
  el = col->owner->a;
  while (el->kind == RT_N_COMPOUND && el->kids[RT_S_COLUMNS]->n > 0)
    el = el->kids[RT_S_COLUMNS]->kids[0];
  if ((el->flags | col->owner->a->flags) & RT_F_LS_TABLENAME &&
      col->a->kind == RT_N_COLUMN && col->a->owner)
    return tq_name(c, col->a);
  return col_name(c, col->a);
}

static void column(rt_compiler *c, rt_node *col) {
  rt_node *o = col->owner;
  char buf[ALIAS_NAME_MAX];
  if (c->inserted && o && o->kind == RT_N_ALIAS && o->a == c->inserted &&
      o->name && strcmp(o->name, "inserted") == 0 && col->name) {
    S("VALUES(");
    rt_c_ident(c, col->name);
    CH(')');
    return;
  }
  /* the columns of an unnamed VALUES have no name to qualify them with */
  if (o && o->kind == RT_N_TABLE && (o->flags & RT_F_VALUES) && !o->name[0])
    o = NULL;
  /* (a late name's aliases are numbered before the column's own, as
  ** SQLAlchemy resolves a column's name before its table's) */
  if (col->flags & RT_F_LATENAME) col_name(c, col);
  if (o && !c->no_qualify) {
    if (o->kind == RT_N_TABLE) {
      rt_tabledata *d = o->ext;
      if (d && d->schema) {
        rt_c_ident(c, d->schema);
        CH('.');
      }
      rt_c_ident(c, o->name);
    } else
      rt_c_ident(c, alias_name(c, o, buf, sizeof buf));
    CH('.');
  }
  if (col->flags & RT_F_ANON && col->a)
    anon_label(c, col->a);
  else if (col->flags & RT_F_DEDUPED && col->a && col->a->name) {
    /* the inner label's own number, however the compile numbered it */
    rt_strbuf b = RT_STRBUF_INIT;
    rt_sb_adds(&b, col->a->name);
    add_suffix(&b, anon_num(c, col->a, TAG_DEDUPE, col->a->name));
    if (b.p) rt_c_ident(c, b.p);
    rt_sb_free(&b);
  } else if (col->flags & RT_F_LATENAME) {
    const char *nm = col_name(c, col);
    if (nm) rt_c_ident(c, nm);
  } else if (col->name == NULL && c->d == &rt_dialect_default)
    S("\"<name unknown>\""); /* SQLAlchemy's string form of Column(type) */
  else if (col->name == NULL)
    rt_c_fail(c, RT_ECOMPILE,
              "Cannot compile Column object until its 'name' is assigned.");
  else if (o && rt_literal_proxy(col))
    S(col->name);
  else
    rt_c_ident(c, col->name);
}

static const char *binop(int op) {
  switch (op) {
  case RT_OP_ADD:
    return " + ";
  case RT_OP_SUB:
    return " - ";
  case RT_OP_MUL:
    return " * ";
  case RT_OP_DIV:
    return " / ";
  case RT_OP_MOD:
    return " % ";
  case RT_OP_CONCAT:
    return " || ";
  case RT_OP_EQ:
    return " = ";
  case RT_OP_NE:
    return " != ";
  case RT_OP_LT:
    return " < ";
  case RT_OP_LE:
    return " <= ";
  case RT_OP_GT:
    return " > ";
  case RT_OP_GE:
    return " >= ";
  case RT_OP_LIKE:
    return " LIKE ";
  case RT_OP_NOTLIKE:
    return " NOT LIKE ";
  case RT_OP_ILIKE:
    return " ILIKE ";
  case RT_OP_NOTILIKE:
    return " NOT ILIKE ";
  case RT_OP_IS:
    return " IS ";
  case RT_OP_ISNOT:
    return " IS NOT ";
  case RT_OP_BETWEEN:
    return " BETWEEN ";
  case RT_OP_NOTBETWEEN:
    return " NOT BETWEEN ";
  case RT_OP_COLLATE:
    return " COLLATE ";
  default:
    return " ? ";
  }
}

/* IN of tuples of values: one expanding parameter of tuples, or a VALUES
** list where the database wants one (SQLite). */
static int tuple_in(rt_compiler *c, rt_node *l) {
  int i, j, num, values = (c->d->flags & RT_DF_TUPLE_IN_VALUES) != 0;
  char base[80];
  for (i = 0; i < l->n; i++) {
    rt_node *t = l->kids[i];
    if (t->kind != RT_N_TUPLE) return 0;
    for (j = 0; j < t->n; j++)
      if (t->kids[j]->kind != RT_N_BIND) return 0;
  }
  num = bind_num(c, l, "param");
  snprintf(base, sizeof base, "param_%d", num);
  S(values ? "(VALUES " : "(");
  for (i = 0; i < l->n; i++) {
    rt_node *t = l->kids[i];
    S(i ? ", (" : "(");
    for (j = 0; j < t->n; j++) {
      if (j) S(", ");
      placeholder(c, &t->kids[j]->value, t->kids[j]->type, base, i + 1, j + 1);
    }
    CH(')');
  }
  CH(')');
  return 1;
}

/* n times `item`, comma separated */
static void repeat_list(rt_compiler *c, const char *item, int n) {
  int i;
  for (i = 0; i < n; i++) {
    if (i) S(", ");
    S(item);
  }
}

/* SQLAlchemy's empty-IN form: always false (or true for NOT IN); a tuple
** compared is matched by as many columns (NULLs) */
static void empty_in(rt_compiler *c, rt_node *e) {
  int n = e->a && e->a->kind == RT_N_TUPLE && e->a->n > 1 ? e->a->n : 1;
  if (c->d->flags & RT_DF_EMPTY_IN_SELECT) {
    S("(SELECT ");
    repeat_list(c, "1", n);
    S(" FROM (SELECT ");
    repeat_list(c, "1", n);
    S(") WHERE 1!=1)");
    return;
  }
  S(n > 1 ? "((" : "(");
  repeat_list(c, "NULL", n);
  S(n > 1 ? "))" : ")");
  S(e->op == RT_OP_IN ? " AND (1 != 1)" : " OR (1 = 1)");
}

/*
** IN an expanding bind (bindparam(key, list, {expanding = true})).  Its
** string form is SQLAlchemy's placeholder __[POSTCOMPILE_key]; a dialect
** renders its values as key_1, key_2 ..., the names SQLAlchemy expands
** the placeholder into.  A bind still waiting for its list keeps the
** placeholder and marks the compile: execution gives the list and
** compiles the statement with it (see the Lua bindings' hook_compile).
*/
static void expanding_in(rt_compiler *c, rt_node *e, rt_node *b) {
  int i;
  if (!c->o->literal_binds && c->d != &rt_dialect_default &&
      !(b->flags & RT_F_REQUIRED))
    c->postcompile |= RT_POSTCOMPILE_LISTED;
  if (!c->o->literal_binds &&
      (c->d == &rt_dialect_default || (b->flags & RT_F_REQUIRED))) {
    if (b->flags & RT_F_REQUIRED) c->postcompile |= RT_POSTCOMPILE_WAITING;
    S("(__[POSTCOMPILE_");
    S(b->name);
    S("])");
    return;
  }
  if (b->flags & RT_F_REQUIRED) {
    S("(NULL)"); /* literal_binds with no list: SQLAlchemy's form */
    return;
  }
  if (b->n == 0) {
    empty_in(c, e);
    return;
  }
  if (tuple_in(c, b)) return;
  CH('(');
  c->in_items = 1;
  for (i = 0; i < b->n; i++) {
    if (i) S(", ");
    placeholder(c, &b->kids[i]->value, in_item_type(b->kids[i]), b->name, 0,
                i + 1);
  }
  c->in_items = 0;
  CH(')');
}

static void in_list_body(rt_compiler *c, rt_node *e);

/* NOT IN is always parenthesised, as SQLAlchemy renders it: its empty
** form "x NOT IN (NULL) OR (1 = 1)" needs the brackets. */
static void in_list(rt_compiler *c, rt_node *e) {
  if (e->op != RT_OP_NOTIN) {
    in_list_body(c, e);
    return;
  }
  CH('(');
  in_list_body(c, e);
  CH(')');
}

static void in_list_body(rt_compiler *c, rt_node *e) {
  rt_node *l = e->b;
  int i, allbinds = 1;
  rt_c_expr(c, e->a);
  S(e->op == RT_OP_IN ? " IN " : " NOT IN ");
  if (l->kind == RT_N_SELECT || l->kind == RT_N_COMPOUND ||
      l->kind == RT_N_SCALARSUB || l->kind == RT_N_TEXT) {
    CH('(');
    select_stmt(c, l->kind == RT_N_SCALARSUB ? l->a : l, 0);
    CH(')');
    return;
  }
  if (l->kind == RT_N_BIND) {
    expanding_in(c, e, l);
    return;
  }
  if (l->n == 0) {
    /* (its expanding parameter, with nothing to expand, still takes a
    ** name and a number, as SQLAlchemy's does) */
    bind_num(c, l, rt_bind_key_for(e->a));
    empty_in(c, e);
    return;
  }
  if (tuple_in(c, l)) return;
  for (i = 0; i < l->n; i++)
    if (l->kids[i]->kind != RT_N_BIND) allbinds = 0;
  CH('(');
  if (allbinds) {
    /* one expanding parameter: id_1 becomes id_1_1, id_1_2, ... */
    const char *base = l->kids[0]->name;
    int num = bind_num(c, l, base);
    c->in_items = 1;
    for (i = 0; i < l->n; i++) {
      if (i) S(", ");
      placeholder(c, &l->kids[i]->value, in_item_type(l->kids[i]), base, num,
                  i + 1);
    }
    c->in_items = 0;
  } else
    list(c, l, ", ");
  CH(')');
}

static int is_json(const rt_type *t) {
  return t && (t->kind == RT_TY_JSON || t->kind == RT_TY_JSONB);
}

/* a CAST target as the dialect spells it */
static void cast_target(rt_compiler *c, const rt_type *t) {
  if (c->d->cast_type)
    c->d->cast_type(c, t);
  else
    rt_type_ddl(&c->cur->sb, t, c->d->name);
}

/* JSON_EXTRACT(a, path) for SQLite and MySQL */
static void json_extract(rt_compiler *c, rt_node *e) {
  S("JSON_EXTRACT(");
  rt_c_expr(c, e->a);
  S(", ");
  rt_c_expr(c, e->c);
  CH(')');
}

/*
** col["key"], col[1], col[{"a", 1}] on a JSON column, read as JSON or (as
** SQLAlchemy's as_string() ...) as another type; each dialect's form.
*/
static void json_item(rt_compiler *c, rt_node *e) {
  int path = e->op == RT_OP_JSON_PATH, as = !is_json(e->type);
  const char *dn = c->d->name;
  int group = c->in_binary > 0;
  if ((e->flags & RT_F_ASTEXT) &&
      (strcmp(dn, "postgresql") == 0 || strcmp(dn, "default") == 0)) {
    /* astext: the operator alone, its type text without a CAST */
    /* (an index on the left grouped once more, as SQLAlchemy's
    ** self_group does at equal precedence) */
    int inner = e->a->kind == RT_N_BINARY;
    if (group) CH('(');
    c->in_binary++;
    if (inner) CH('(');
    rt_c_expr(c, e->a);
    if (inner) CH(')');
    S(path ? " #>> " : " ->> ");
    rt_c_expr(c, e->b);
    c->in_binary--;
    if (group) CH(')');
    return;
  }
  c->in_binary++;
  if (strcmp(dn, "sqlite") == 0) {
    if (!as) S("JSON_QUOTE(");
    json_extract(c, e);
    if (!as) CH(')');
  } else if (strcmp(dn, "mysql") == 0) {
    if (!as)
      json_extract(c, e);
    else {
      int kind = e->type->kind;
      S("CASE ");
      json_extract(c, e);
      S(" WHEN 'null' THEN NULL ");
      if (kind == RT_TY_BOOLEAN)
        S("WHEN true THEN true ELSE false END");
      else {
        S("ELSE ");
        if (rt_type_is_integer(e->type)) {
          S("CAST(");
          json_extract(c, e);
          S(" AS SIGNED INTEGER)");
        } else if (kind == RT_TY_FLOAT || kind == RT_TY_DOUBLE) {
          json_extract(c, e);
          S("+0.0000000000000000000000");
        } else if (kind == RT_TY_NUMERIC) {
          S("CAST(");
          json_extract(c, e);
          S(" AS DECIMAL(");
          add_int(&c->cur->sb, e->type->precision);
          S(", ");
          add_int(&c->cur->sb, e->type->scale);
          S("))");
        } else {
          S("JSON_UNQUOTE(");
          json_extract(c, e);
          CH(')');
        }
        S(" END");
      }
    }
  } else if (strcmp(dn, "postgresql") == 0) {
    if (as) S("CAST(");
    if (group) CH('(');
    rt_c_expr(c, e->a);
    S(path ? (as ? " #>> " : " #> ") : (as ? " ->> " : " -> "));
    rt_c_expr(c, e->b);
    if (group) CH(')');
    if (as) {
      S(" AS ");
      cast_target(c, e->type);
      CH(')');
    }
  } else {
    rt_c_expr(c, e->a);
    CH('[');
    if (path && c->o->literal_binds) {
      /* SQLAlchemy's string form shows the Python tuple */
      int i;
      CH('(');
      for (i = 0; i < e->n; i++) {
        if (i) S(", ");
        rt_c_expr(c, e->kids[i]);
      }
      if (e->n == 1) CH(',');
      CH(')');
    } else
      rt_c_expr(c, e->b);
    CH(']');
  }
  c->in_binary--;
}

static void binary_op(rt_compiler *c, rt_node *e);

/*
** a[i] and a[i:j] on a PostgreSQL ARRAY (the default string form shows
** them the same way); other databases have no such index.
*/
static void array_item(rt_compiler *c, rt_node *e) {
  const char *dn = c->d->name;
  if (strcmp(dn, "postgresql") != 0 && strcmp(dn, "default") != 0) {
    rt_c_fail(c, RT_ECOMPILE,
              "Compiler for dialect %s can't render an ARRAY index (getitem)",
              dn);
    return;
  }
  c->in_binary++;
  rt_c_expr(c, e->a);
  CH('[');
  rt_c_expr(c, e->b);
  if (e->c) {
    CH(':');
    rt_c_expr(c, e->c);
  }
  CH(']');
  c->in_binary--;
}

static void binary(rt_compiler *c, rt_node *e) {
  if (e->op == RT_OP_JSON_GETITEM || e->op == RT_OP_JSON_PATH) {
    json_item(c, e);
    return;
  }
  if (e->op == RT_OP_GETITEM) {
    array_item(c, e);
    return;
  }
  c->in_binary++;
  binary_op(c, e);
  c->in_binary--;
}

/*
** IS [NOT] DISTINCT FROM (SQLite: IS NOT / IS; MySQL: NOT (a <=> b) /
** a <=> b), regular expression matches (PostgreSQL ~ and !~, SQLite and
** MySQL [NOT] REGEXP, the string form <regexp>) and MATCH (PostgreSQL
** a @@ to_tsquery(b), MySQL MATCH (a) AGAINST (b IN BOOLEAN MODE)), as
** SQLAlchemy's dialects render them.
*/
/* an operand SQLAlchemy's SQLite and MySQL compilers render without the
** compile's keywords: a plain value stays bound under literal_binds */
static void unkeyed_operand(rt_compiler *c, rt_node *e) {
  if (e->kind == RT_N_BIND && (e->flags & RT_F_ANON))
    rt_c_bound_param(c, e);
  else
    rt_c_expr(c, e);
}

/* MariaDB's inline flags: CONCAT('(?', flags, ')', pattern) */
static void inline_flags(rt_compiler *c, rt_node *flags, rt_node *pattern) {
  S("CONCAT('(?', ");
  rt_c_expr(c, flags);
  S(", ')', ");
  rt_c_expr(c, pattern);
  CH(')');
}

/*
** regexp_match with flags: PostgreSQL's ~* for "i", else the flags inline
** in the pattern; MySQL's REGEXP_LIKE(a, p, flags), MariaDB's inline
** flags; SQLite and the string form leave them out, as SQLAlchemy does.
** 1 when rendered.
*/
static int regexp_flags_op(rt_compiler *c, rt_node *e, int pg) {
  int neg = e->op == RT_OP_NOTREGEXP;
  rt_node *f = e->c;
  if (pg) {
    if (f->kind == RT_N_BIND && f->value.type == RT_V_TEXT &&
        f->value.u.s.n == 1 && f->value.u.s.p[0] == 'i') {
      rt_c_expr(c, e->a);
      S(neg ? " !~* " : " ~* ");
      rt_c_expr(c, e->b);
      return 1;
    }
    rt_c_expr(c, e->a);
    S(neg ? " !~ " : " ~ ");
    inline_flags(c, f, e->b);
    return 1;
  }
  if (c->d == &rt_dialect_mariadb) {
    rt_c_expr(c, e->a);
    S(neg ? " NOT REGEXP " : " REGEXP ");
    inline_flags(c, f, e->b);
    return 1;
  }
  if (c->d == &rt_dialect_mysql) {
    if (neg) S("NOT ");
    S("REGEXP_LIKE(");
    rt_c_expr(c, e->a);
    S(", ");
    rt_c_expr(c, e->b);
    S(", ");
    rt_c_expr(c, f);
    CH(')');
    return 1;
  }
  return 0;
}

/* a.regexp_replace(p, r[, flags]) as each dialect spells it */
static void regexp_replace(rt_compiler *c, rt_node *e) {
  const char *dn = c->d->name;
  rt_node *f = e->n > 0 ? e->kids[0] : NULL;
  int mysql = rt_dialect_is_mysql(c->d);
  if (strcmp(dn, "default") == 0) {
    S("<regexp replace>(");
    rt_c_expr(c, e->a);
    S(", ");
    rt_c_expr(c, e->b);
    S(", ");
    rt_c_expr(c, e->c);
    CH(')');
    return;
  }
  if (strcmp(dn, "postgresql") != 0 && !mysql) {
    rt_c_fail(c, RT_ECOMPILE,
              "%s dialect does not support regular expression replacements",
              dn);
    return;
  }
  S("REGEXP_REPLACE(");
  rt_c_expr(c, e->a);
  S(", ");
  if (f && c->d == &rt_dialect_mariadb)
    inline_flags(c, f, e->b);
  else
    rt_c_expr(c, e->b);
  S(", ");
  rt_c_expr(c, e->c);
  if (f && c->d != &rt_dialect_mariadb) {
    S(", ");
    rt_c_expr(c, f);
  }
  CH(')');
}

static void dialect_op(rt_compiler *c, rt_node *e) {
  const char *dn = c->d->name;
  int op = e->op, pg = strcmp(dn, "postgresql") == 0;
  int sqlite = strcmp(dn, "sqlite") == 0, mysql = strcmp(dn, "mysql") == 0;
  int distinct = op == RT_OP_DISTINCT_FROM || op == RT_OP_NOT_DISTINCT_FROM;
  const char *mid;
  if ((op == RT_OP_REGEXP || op == RT_OP_NOTREGEXP) && e->c &&
      regexp_flags_op(c, e, pg))
    return;
  if (op == RT_OP_DISTINCT_FROM && mysql) {
    S("NOT (");
    rt_c_expr(c, e->a);
    S(" <=> ");
    unkeyed_operand(c, e->b);
    CH(')');
    return;
  }
  if (op == RT_OP_MATCH && mysql) {
    S("MATCH (");
    rt_c_expr(c, e->a);
    S(") AGAINST (");
    rt_c_expr(c, e->b);
    S(" IN BOOLEAN MODE)");
    return;
  }
  switch (op) {
  case RT_OP_DISTINCT_FROM:
    mid = sqlite ? " IS NOT " : " IS DISTINCT FROM ";
    break;
  case RT_OP_NOT_DISTINCT_FROM:
    mid = sqlite ? " IS " : mysql ? " <=> " : " IS NOT DISTINCT FROM ";
    break;
  case RT_OP_REGEXP:
    mid = pg ? " ~ " : (sqlite || mysql) ? " REGEXP " : " <regexp> ";
    break;
  case RT_OP_NOTREGEXP:
    mid = pg ? " !~ " : (sqlite || mysql) ? " NOT REGEXP " : " <not regexp> ";
    break;
  default: /* RT_OP_MATCH */
    mid = pg ? " @@ to_tsquery(" : " MATCH ";
  }
  rt_c_expr(c, e->a);
  S(mid);
  if (distinct && (sqlite || mysql))
    unkeyed_operand(c, e->b);
  else
    rt_c_expr(c, e->b);
  if (op == RT_OP_MATCH && pg) CH(')');
}

/* like(pattern, {escape}): the escape character (kept as the LIKE node's
** name) as a quoted literal, as SQLAlchemy renders it */
static void like_escape(rt_compiler *c, rt_node *e) {
  const char *p;
  if (!e->name) return;
  S(" ESCAPE '");
  for (p = e->name; *p; p++) {
    if (*p == '\'' || (*p == '\\' && (c->d->flags & RT_DF_BACKSLASH))) CH(*p);
    CH(*p);
  }
  CH('\'');
}

static void binary_op(rt_compiler *c, rt_node *e) {
  int op = e->op;
  if (op >= RT_OP_DISTINCT_FROM && op <= RT_OP_MATCH) {
    dialect_op(c, e);
    return;
  }
  if (op == RT_OP_REGEXP_REPLACE) {
    regexp_replace(c, e);
    return;
  }
  if (op == RT_OP_IN || op == RT_OP_NOTIN) {
    in_list(c, e);
    return;
  }
  if (op == RT_OP_CONCAT && (c->d->flags & RT_DF_CONCAT_FUNC)) {
    S("concat(");
    rt_c_expr(c, e->a);
    S(", ");
    rt_c_expr(c, e->b);
    CH(')');
    return;
  }
  if ((op == RT_OP_ILIKE || op == RT_OP_NOTILIKE) &&
      !(c->d->flags & RT_DF_ILIKE)) {
    S("lower(");
    rt_c_expr(c, e->a);
    S(op == RT_OP_ILIKE ? ") LIKE lower(" : ") NOT LIKE lower(");
    rt_c_expr(c, e->b);
    CH(')');
    like_escape(c, e);
    return;
  }
  rt_c_expr(c, e->a);
  if (op == RT_OP_CUSTOM || op == RT_OP_CUSTOM_CMP) {
    CH(' ');
    S(e->name);
    CH(' ');
  } else
    S(binop(op));
  if (e->flags & RT_F_SYMMETRIC) S("SYMMETRIC ");
  if (op == RT_OP_COLLATE && e->b->kind == RT_N_LITERAL)
    rt_c_ident(c, e->b->name);
  else
    rt_c_expr(c, e->b);
  if (op == RT_OP_BETWEEN || op == RT_OP_NOTBETWEEN) {
    S(" AND ");
    rt_c_expr(c, e->c);
  }
  if (op >= RT_OP_LIKE && op <= RT_OP_NOTILIKE) like_escape(c, e);
}

static int bool_atom(const rt_node *e);

static void unary(rt_compiler *c, rt_node *e) {
  switch (e->op) {
  case RT_OP_NOT:
    /* without a boolean type NOT of a boolean is a comparison with 0
    ** wherever it stands, as SQLAlchemy's is_false operator */
    if (!(c->d->flags & RT_DF_NATIVE_BOOL) && bool_atom(e->a)) {
      rt_c_expr(c, e->a);
      S(" = 0");
      break;
    }
    S("NOT ");
    rt_c_expr(c, e->a);
    break;
  case RT_OP_NEG:
    CH('-');
    rt_c_expr(c, e->a);
    break;
  case RT_OP_DISTINCT:
    S("DISTINCT ");
    rt_c_expr(c, e->a);
    break;
  case RT_OP_ANY:
  case RT_OP_ALL:
    S(e->op == RT_OP_ANY ? "ANY (" : "ALL (");
    if (e->a->kind == RT_N_SCALARSUB)
      select_stmt(c, e->a->a, 0);
    else
      rt_c_expr(c, e->a);
    CH(')');
    break;
  case RT_OP_EXISTS:
    S("EXISTS (");
    select_stmt(c, e->a->kind == RT_N_SCALARSUB ? e->a->a : e->a, 0);
    CH(')');
    break;
  case RT_OP_DESC:
  case RT_OP_ASC:
  case RT_OP_NULLSFIRST:
  case RT_OP_NULLSLAST: /* postfix: the operand, then the modifier */
    rt_c_expr(c, e->a);
    S(e->op == RT_OP_DESC         ? " DESC"
      : e->op == RT_OP_ASC        ? " ASC"
      : e->op == RT_OP_NULLSFIRST ? " NULLS FIRST"
                                  : " NULLS LAST");
    break;
  default:
    rt_c_fail(c, RT_ECOMPILE, "unknown unary operator");
  }
}

static int ansi_func(const char *name) {
  static const char *const names[] = {
      "current_date", "current_time", "current_timestamp",
      "current_user", "localtime",    "localtimestamp",
      "session_user", "user",         NULL};
  int i;
  for (i = 0; names[i]; i++)
    if (strcmp(name, names[i]) == 0) return 1;
  return 0;
}

static void func(rt_compiler *c, rt_node *f) {
  if (c->d->func && c->d->func(c, f)) return;
  if (ansi_func(f->name) && f->n == 0) {
    const char *p;
    for (p = f->name; *p; p++) CH((char)(*p - 32 * (*p >= 'a' && *p <= 'z')));
    return;
  }
  /* SQLAlchemy's sysdate is an ANSI function, named as it is spelled */
  if (strcmp(f->name, "sysdate") == 0 && f->n == 0) {
    S("sysdate");
    return;
  }
  S(f->name);
  CH('(');
  if (f->flags & RT_F_STAR)
    CH('*');
  else
    list(c, f, ", ");
  CH(')');
}

static void cast(rt_compiler *c, rt_node *e) {
  if (e->flags & RT_F_COERCE) { /* type_coerce(): a type, no SQL */
    rt_c_expr(c, e->a);
    return;
  }
  if (rt_dialect_is_mysql(c->d) && e->type &&
      (e->type->kind == RT_TY_BOOLEAN || e->type->kind == RT_TY_ENUM ||
       (c->d == &rt_dialect_mysql &&
        (e->type->kind == RT_TY_FLOAT || e->type->kind == RT_TY_DOUBLE)))) {
    /* MySQL has no CAST to these: SQLAlchemy skips the CAST (with a
    ** warning) and renders the operand, grouped.  A float CAST it skips
    ** unless it knows the server takes it (MariaDB 10.4.5, MySQL 8.0.17):
    ** the "mysql" dialect knows no server; a compile for a MariaDB
    ** connection ("mariadb") keeps the CAST. */
    int group = e->a->kind == RT_N_BINARY || e->a->kind == RT_N_BOOLLIST ||
                (e->a->kind == RT_N_UNARY && e->a->op == RT_OP_NEG);
    if (group) CH('(');
    rt_c_expr(c, e->a);
    if (group) CH(')');
    return;
  }
  S("CAST(");
  rt_c_expr(c, e->a);
  S(" AS ");
  if (c->d->cast_type)
    c->d->cast_type(c, e->type);
  else
    rt_type_ddl(&c->cur->sb, e->type, c->d->name);
  CH(')');
}

static void case_(rt_compiler *c, rt_node *e) {
  int i;
  S("CASE");
  if (e->a) {
    CH(' ');
    rt_c_expr(c, e->a);
  }
  for (i = 0; i + 1 < e->n; i += 2) {
    S(" WHEN ");
    rt_c_expr(c, e->kids[i]);
    S(" THEN ");
    rt_c_expr(c, e->kids[i + 1]);
  }
  if (e->b) {
    S(" ELSE ");
    rt_c_expr(c, e->b);
  }
  S(" END");
}

/* A window frame's end (see over_frame in lua/lsql.c); unbounded is
** UNBOUNDED PRECEDING at the start and UNBOUNDED FOLLOWING at the end. */
static void frame_end(rt_compiler *c, rt_node *e, const char *unbounded) {
  if (e->kind == RT_N_NULL) {
    S("UNBOUNDED ");
    S(unbounded);
  } else if (e->kind == RT_N_LITERAL)
    S(e->name);
  else if (e->kind == RT_N_UNARY) {
    rt_c_expr(c, e->a);
    S(" PRECEDING");
  } else {
    rt_c_expr(c, e);
    S(" FOLLOWING");
  }
}

static void over(rt_compiler *c, rt_node *e) {
  rt_c_expr(c, e->a);
  S(" OVER (");
  if (e->b && e->b->n) {
    S("PARTITION BY ");
    list(c, e->b, ", ");
  }
  if (e->c && e->c->n) {
    if (e->b && e->b->n) CH(' ');
    S("ORDER BY ");
    list(c, e->c, ", ");
  }
  if (e->op && e->n == 2) {
    if ((e->b && e->b->n) || (e->c && e->c->n)) CH(' ');
    S(e->op == 1 ? "ROWS BETWEEN " : "RANGE BETWEEN ");
    frame_end(c, e->kids[0], "PRECEDING");
    S(" AND ");
    frame_end(c, e->kids[1], "FOLLOWING");
  }
  CH(')');
}

/* The empty set an expanding bind of text() with an empty list stands for
** (SQLAlchemy's visit_empty_set_expr: there is no comparison to negate). */
static void text_empty_set(rt_compiler *c, const rt_node *b) {
  if (strcmp(c->d->name, "postgresql") == 0) {
    S("(SELECT CAST(NULL AS ");
    if (b->type)
      cast_target(c, b->type);
    else
      S("INTEGER");
    S(") WHERE 1!=1)");
  } else if (strcmp(c->d->name, "mysql") == 0)
    S("(SELECT _in_0 FROM (SELECT 1 AS _in_0) as _empty_set WHERE 1!=1)");
  else
    S("(SELECT 1 FROM (SELECT 1) WHERE 1!=1)");
}

/* :name of text() bound to an expanding bindparam: the parenthesised list
** SQLAlchemy renders for it (IN :ids is IN (__[POSTCOMPILE_ids])). */
static void text_expanding(rt_compiler *c, rt_node *b) {
  if (!(b->flags & RT_F_REQUIRED) && b->n == 0 &&
      (c->o->literal_binds || c->d != &rt_dialect_default)) {
    if (!c->o->literal_binds) c->postcompile |= RT_POSTCOMPILE_LISTED;
    text_empty_set(c, b);
    return;
  }
  expanding_in(c, NULL, b);
}

/* text(): copy the SQL, turning :name into a bind. */
static void text(rt_compiler *c, rt_node *t) {
  const char *p = t->name;
  while (*p) {
    if (*p == ':' && p[1] == ':') {
      S("::");
      p += 2;
    } else if (*p == '\\' && p[1] == ':') {
      CH(':');
      p += 2;
    } else if (*p == ':' &&
               (p[1] == '_' || (p[1] >= 'a' && p[1] <= 'z') ||
                (p[1] >= 'A' && p[1] <= 'Z')) &&
               /* not after a word character: 'a:b' is no bind, as
               ** SQLAlchemy's (?<![:\w\\]) */
               (p == t->name || (p[-1] != ':' && p[-1] != '_' &&
                                 !(p[-1] >= 'a' && p[-1] <= 'z') &&
                                 !(p[-1] >= 'A' && p[-1] <= 'Z') &&
                                 !(p[-1] >= '0' && p[-1] <= '9')))) {
      char name[128];
      size_t n = 0;
      int i;
      const rt_value *v = &rt_required_value;
      const rt_type *type = NULL;
      p++;
      while ((*p == '_' || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) &&
             n < sizeof name - 1)
        name[n++] = *p++;
      name[n] = '\0';
      rt_node *kid = NULL;
      for (i = 0; i < t->n; i++)
        if (strcmp(t->kids[i]->name, name) == 0) {
          /* bindparam(name, nil, Type): typed, its value still required */
          kid = t->kids[i];
          v = (kid->flags & RT_F_REQUIRED) ? &rt_required_value : &kid->value;
          type = kid->type;
        }
      if (kid && (kid->flags & RT_F_EXPANDING))
        text_expanding(c, kid);
      else
        placeholder(c, v, type, name, 0, 0);
    } else
      CH(*p++);
  }
}

/* A boolean value used as a condition: without a boolean type it is
** compared with 1, as SQLAlchemy's AsBoolean does. */
static int bool_atom(const rt_node *e) {
  return e->kind == RT_N_TRUE || e->kind == RT_N_FALSE ||
         (e->kind == RT_N_COLUMN && e->type && e->type->kind == RT_TY_BOOLEAN);
}

static void criterion(rt_compiler *c, rt_node *e) {
  if (!(c->d->flags & RT_DF_NATIVE_BOOL)) {
    if (bool_atom(e)) {
      rt_c_expr(c, e);
      S(" = 1");
      return;
    }
  }
  rt_c_expr(c, e);
}

void rt_c_expr(rt_compiler *c, rt_node *e) {
  if (c->failed || !e) return;
  switch (e->kind) {
  case RT_N_COLUMN:
    column(c, e);
    break;
  case RT_N_TABLE:
    if (e->flags & RT_F_VALUES)
      values_rows(c, e); /* str() of a VALUES */
    else
      rt_c_ident(c, e->name);
    break;
  case RT_N_BIND:
    bind(c, e);
    break;
  case RT_N_LITERAL:
    S(e->name);
    break;
  case RT_N_TEXT:
    text(c, e);
    break;
  case RT_N_NULL:
    S("NULL");
    break;
  case RT_N_TRUE:
    S(c->d->flags & (RT_DF_NATIVE_BOOL | RT_DF_BOOL_WORDS) ? "true" : "1");
    break;
  case RT_N_FALSE:
    S(c->d->flags & (RT_DF_NATIVE_BOOL | RT_DF_BOOL_WORDS) ? "false" : "0");
    break;
  case RT_N_BINARY:
    binary(c, e);
    break;
  case RT_N_UNARY:
    unary(c, e);
    break;
  case RT_N_BOOLLIST: {
    int i;
    for (i = 0; i < e->n; i++) {
      if (i) S(e->op == RT_OP_AND ? " AND " : " OR ");
      criterion(c, e->kids[i]);
    }
    break;
  }
  case RT_N_LIST:
    list(c, e, ", ");
    break;
  case RT_N_FUNC:
    func(c, e);
    break;
  case RT_N_LABEL:
    rt_c_expr(c, e->a);
    break;
  case RT_N_CAST:
    cast(c, e);
    break;
  case RT_N_CASE:
    case_(c, e);
    break;
  case RT_N_OVER:
    over(c, e);
    break;
  case RT_N_WITHINGROUP:
    rt_c_expr(c, e->a);
    S(" WITHIN GROUP (ORDER BY ");
    list(c, e->b, ", ");
    CH(')');
    break;
  case RT_N_FUNCFILTER:
    rt_c_expr(c, e->a);
    S(" FILTER (WHERE ");
    /* a lone boolean column stays bare, as SQLAlchemy renders it here */
    rt_c_expr(c, e->b);
    CH(')');
    break;
  case RT_N_EXTRACT:
    if (c->d->extract)
      c->d->extract(c, e);
    else {
      S("EXTRACT(");
      S(e->name);
      S(" FROM ");
      rt_c_expr(c, e->a);
      CH(')');
    }
    break;
  case RT_N_TUPLE:
    CH('(');
    list(c, e, ", ");
    CH(')');
    break;
  case RT_N_GROUPING:
    CH('(');
    rt_c_expr(c, e->a);
    CH(')');
    break;
  case RT_N_SCALARSUB:
    CH('(');
    select_stmt(c, e->a, 0);
    CH(')');
    break;
  case RT_N_SELECT:
  case RT_N_COMPOUND:
    CH('(');
    select_stmt(c, e, 0);
    CH(')');
    break;
  case RT_N_ALIAS:
  case RT_N_JOIN:
    from_item(c, e);
    break;
  default:
    rt_c_fail(c, RT_ECOMPILE,
              "Don't know how to render a node of kind %d "
              "with dialect %s",
              e->kind, c->d->name);
  }
}

/* --- FROM clause --- */

static int has_from(rt_node **froms, int n, rt_node *f) {
  int i;
  for (i = 0; i < n; i++)
    if (froms[i] == f) return 1;
  return 0;
}

/* Does the FROM element f (a join tree) contain t? */
static int contains_from(rt_node *f, rt_node *t) {
  if (f == t) return 1;
  if (f->kind == RT_N_JOIN)
    return contains_from(f->a, t) || contains_from(f->b, t);
  return 0;
}

static void add_from(rt_node **froms, int *n, rt_node *f) {
  if (*n < MAXFROMS && !has_from(froms, *n, f)) froms[(*n)++] = f;
}

/* The FROM elements an expression refers to (not looking into nested
** selects, which have FROM clauses of their own). */
static void collect_froms(rt_node *e, rt_node **froms, int *n) {
  int i;
  if (!e) return;
  switch (e->kind) {
  case RT_N_COLUMN:
    if (e->owner) add_from(froms, n, e->owner);
    return;
  case RT_N_TABLE:
  case RT_N_ALIAS:
  case RT_N_JOIN:
    add_from(froms, n, e);
    return;
  case RT_N_SELECT:
  case RT_N_COMPOUND:
  case RT_N_SCALARSUB:
  case RT_N_TEXT: /* its columns() describe its rows: no FROM of ours */
    return;
  case RT_N_UNARY:
    if (e->op == RT_OP_EXISTS) return;
    break;
  case RT_N_CASE: /* in the order it renders: value, WHENs, ELSE */
    collect_froms(e->a, froms, n);
    for (i = 0; i < e->n; i++) collect_froms(e->kids[i], froms, n);
    collect_froms(e->b, froms, n);
    return;
  default:
    break;
  }
  collect_froms(e->a, froms, n);
  collect_froms(e->b, froms, n);
  collect_froms(e->c, froms, n);
  if (e->kind != RT_N_TEXT)
    for (i = 0; i < e->n; i++) collect_froms(e->kids[i], froms, n);
}

/* Can `left` (a FROM element) join `target` through a foreign key, or does
** the ON clause mention it? */
static int can_join(rt_node *left, rt_node *target, rt_node *on) {
  rt_node *tmp[MAXFROMS];
  int n = 0, i;
  rt_error err = RT_ERROR_INIT;
  if (on) {
    collect_froms(on, tmp, &n);
    for (i = 0; i < n; i++)
      if (tmp[i] != target && contains_from(left, tmp[i])) return 1;
    return 0;
  } else {
    rt_node *cond = rt_join_condition(left, target, &err);
    int ok = cond != NULL;
    rt_unref(cond);
    rt_error_clear(&err);
    return ok;
  }
}

/* SQLAlchemy lists a select's FROM elements in the order they are first
** named by its columns, then its WHERE clause, then select_from() and the
** joins: an element the columns or the WHERE clause name keeps their
** place; the others (explicit ones, joins) follow in their own order. */
static int implicit_first(rt_node *s, rt_node **froms, int n) {
  rt_node *implicit[MAXFROMS], *out[MAXFROMS];
  int ni = 0, k = 0, i, j;
  collect_froms(s->kids[RT_S_COLUMNS], implicit, &ni);
  collect_froms(s->kids[RT_S_WHERE], implicit, &ni);
  for (j = 0; j < ni; j++)
    if (has_from(froms, n, implicit[j])) out[k++] = implicit[j];
  for (i = 0; i < n; i++)
    if (!has_from(implicit, ni, froms[i])) out[k++] = froms[i];
  memcpy(froms, out, sizeof *froms * (size_t)k);
  return k;
}

static int select_froms(rt_compiler *c, rt_node *s, rt_node **froms) {
  int n = 0, i, j;
  rt_node *joins = s->kids[RT_S_JOINS];
  rt_node *explicit_froms = s->kids[RT_S_FROMS];
  for (i = 0; explicit_froms && i < explicit_froms->n; i++)
    add_from(froms, &n, explicit_froms->kids[i]);
  collect_froms(s->kids[RT_S_COLUMNS], froms, &n);
  collect_froms(s->kids[RT_S_WHERE], froms, &n);
  for (j = 0; joins && j < joins->n && !c->failed; j++) {
    rt_node *sj = joins->kids[j], *on, *jn;
    int idx = -1;
    if (sj->a) {
      for (i = 0; i < n && idx < 0; i++)
        if (contains_from(froms[i], sj->a)) idx = i;
      if (idx < 0) {
        add_from(froms, &n, sj->a);
        idx = n - 1;
      }
    } else {
      for (i = 0; i < n && idx < 0; i++)
        if (froms[i] != sj->b && can_join(froms[i], sj->b, sj->c)) idx = i;
      if (idx < 0) {
        for (i = 0; i < n && idx < 0; i++)
          if (froms[i] != sj->b) idx = i;
      }
      if (idx < 0) {
        rt_c_fail(c, RT_EINVALIDREQUEST,
                  "Don't know how to join to %s. Please use the .select_from() "
                  "method to establish an explicit left side, as well as "
                  "providing an explicit ON clause if not present already to "
                  "help resolve the ambiguity.",
                  sj->b->name ? sj->b->name : "the target");
        return 0;
      }
    }
    on = sj->c ? rt_ref(sj->c) : rt_join_condition(froms[idx], sj->b, c->err);
    if (!on) {
      c->failed = 1;
      return 0;
    }
    jn = rt_node_new(RT_N_JOIN);
    if (!jn) {
      rt_unref(on);
      rt_c_fail(c, RT_EMEMORY, "out of memory");
      return 0;
    }
    jn->a = rt_ref(froms[idx]);
    jn->b = rt_ref(sj->b);
    jn->c = on;
    jn->flags = sj->flags;
    scratch(c, jn);
    if (c->failed) return 0; /* jn is freed: nothing may point at it */
    froms[idx] = jn;
    /* the target now sits inside the join */
    for (i = 0; i < n; i++)
      if (i != idx && froms[i] == sj->b) {
        memmove(froms + i, froms + i + 1, sizeof *froms * (size_t)(n - i - 1));
        n--;
        if (i < idx) idx--;
        i--;
      }
  }
  /* drop elements a join already contains */
  for (i = 0; i < n; i++) {
    int covered = 0;
    for (j = 0; j < n && !covered; j++)
      if (j != i && froms[j]->kind == RT_N_JOIN &&
          contains_from(froms[j], froms[i]))
        covered = 1;
    if (covered) {
      memmove(froms + i, froms + i + 1, sizeof *froms * (size_t)(n - i - 1));
      n--;
      i--;
    }
  }
  return implicit_first(s, froms, n);
}

/* Auto-correlation: a nested select of two or more FROM elements leaves
** out those the enclosing select has; leaving none is SQLAlchemy's
** InvalidRequestError, as a lone FROM element is never correlated. */
static int correlate(rt_compiler *c, rt_node *s, rt_node **froms, int n) {
  rt_node *keep[MAXFROMS];
  rt_node *corr = s->kids[RT_S_CORRELATE];
  int i, k = 0, j;
  if (c->depth == 0) return n;
  for (i = 0; i < n; i++) {
    int outer = 0;
    if (corr && (corr->flags & RT_CORR_EXCEPT)) {
      /* every FROM of the enclosing select but those named */
      frame *f = &c->frames[c->depth - 1];
      for (j = 0; j < f->nfroms; j++)
        if (contains_from(f->froms[j], froms[i])) outer = 1;
      for (j = 0; outer && j < corr->n; j++)
        if (contains_from(froms[i], corr->kids[j])) outer = 0;
    } else if (corr) {
      for (j = 0; j < corr->n; j++)
        if (contains_from(froms[i], corr->kids[j])) outer = 1;
    } else {
      frame *f = &c->frames[c->depth - 1];
      for (j = 0; j < f->nfroms; j++)
        if (contains_from(f->froms[j], froms[i])) outer = 1;
    }
    if (!outer) keep[k++] = froms[i];
  }
  if (k == 0 && !corr) {
    if (n > 1)
      rt_c_fail(c, RT_EINVALIDREQUEST,
                "Select statement '<Select object at %p>' returned no FROM "
                "clauses due to auto-correlation; specify "
                "correlate(<tables>) to control correlation manually.",
                (void *)s);
    return n;
  }
  memcpy(froms, keep, sizeof *froms * (size_t)k);
  return k;
}

/* The rows of sa.values(): VALUES (..), (..) */
static void values_rows(rt_compiler *c, rt_node *f) {
  rt_node *rows = f->a;
  int i, j;
  S("VALUES ");
  for (i = 0; rows && i < rows->n; i++) {
    rt_node *row = rows->kids[i];
    S(i ? ", (" : "(");
    for (j = 0; j < row->n; j++) {
      if (j) S(", ");
      if (f->flags & RT_F_VALUES_LITERAL)
        literal_value(c, &row->kids[j]->value);
      else
        rt_c_expr(c, row->kids[j]);
    }
    CH(')');
  }
}

/* sa.values() in FROM: (VALUES (..), (..)) AS name (col, ...); unnamed,
** without the AS part, as SQLAlchemy renders it */
static void values_from(rt_compiler *c, rt_node *f) {
  int i;
  if (f->flags & RT_F_LATERAL) S("LATERAL ");
  CH('(');
  values_rows(c, f);
  CH(')');
  if (!f->name[0]) return;
  S(" AS ");
  rt_c_ident(c, f->name);
  S(" (");
  for (i = 0; i < f->n; i++) {
    if (i) S(", ");
    rt_c_ident(c, f->kids[i]->name);
  }
  CH(')');
}

static void from_item(rt_compiler *c, rt_node *f) {
  char buf[ALIAS_NAME_MAX];
  switch (f->kind) {
  case RT_N_TABLE: {
    rt_tabledata *d = f->ext;
    if (f->flags & RT_F_VALUES) {
      values_from(c, f);
      break;
    }
    if (d && d->schema) {
      rt_c_ident(c, d->schema);
      CH('.');
    }
    rt_c_ident(c, f->name);
    break;
  }
  case RT_N_ALIAS:
    if (f->flags & RT_F_CTE) {
      cte_ref(c, f);
      break;
    }
    {
      /* named before its body is written, as SQLAlchemy's visit_alias
      ** names it: an anonymous subquery inside takes the next number */
      const char *name = alias_name(c, f, buf, sizeof buf);
      alias_body(c, f);
      S(" AS ");
      rt_c_ident(c, name);
      break;
    }
  case RT_N_JOIN:
    from_item(c, f->a);
    if (f->flags & RT_F_FULL)
      S(" FULL OUTER JOIN ");
    else if (f->flags & RT_F_OUTER)
      S(" LEFT OUTER JOIN ");
    else
      S(c->d->flags & RT_DF_INNER_JOIN ? " INNER JOIN " : " JOIN ");
    /* a join on the right is grouped, as SQLAlchemy renders it */
    if (f->b && f->b->kind == RT_N_JOIN) {
      CH('(');
      from_item(c, f->b);
      CH(')');
    } else
      from_item(c, f->b);
    S(" ON ");
    criterion(c, f->c);
    break;
  case RT_N_TEXT:
  case RT_N_LITERAL:
  case RT_N_FUNC: /* select_from(func.f(...)): FROM f(...) */
    rt_c_expr(c, f);
    break;
  default:
    CH('(');
    select_stmt(c, f, 1);
    CH(')');
  }
}

/* What an alias names, without its name.  An alias of a (non-CTE) alias
** renders the inner one's element under the outer name, as SQLAlchemy
** does. */
static void alias_body(rt_compiler *c, rt_node *f) {
  if (f->flags & RT_F_SUBQUERY) {
    /* a subquery in FROM stands alone; a LATERAL one may refer to the
    ** FROMs before it */
    if (f->flags & RT_F_LATERAL)
      S("LATERAL ");
    else
      c->from_subquery = 1;
    CH('(');
    select_stmt(c, f->a, 1);
    CH(')');
  } else if (f->a && f->a->kind == RT_N_ALIAS && !(f->a->flags & RT_F_CTE))
    alias_body(c, f->a);
  else
    from_item(c, f->a);
}

static void out_free(out *o);

/* Append the text and parameters of src to dst (", "-separated): a CTE
** rendered on its own, after the CTEs its body referred to */
static void out_append(rt_compiler *c, out *dst, const out *src) {
  int i;
  if (dst->nparams + src->nparams > dst->cap) {
    int cap = dst->nparams + src->nparams + 8;
    rt_param *p = realloc(dst->params, sizeof *p * (size_t)cap);
    int *off = realloc(dst->name_off, sizeof *off * (size_t)cap);
    if (p) dst->params = p;
    if (off) dst->name_off = off;
    if (!p || !off) {
      rt_c_fail(c, RT_EMEMORY, "out of memory");
      return;
    }
    dst->cap = cap;
  }
  for (i = 0; i < src->nparams; i++) {
    dst->params[dst->nparams] = src->params[i];
    dst->name_off[dst->nparams++] = src->name_off[i];
  }
  if (dst->sb.n) rt_sb_adds(&dst->sb, ", ");
  rt_sb_addlen(&dst->sb, src->sb.p, src->sb.n);
  if (src->sb.failed) dst->sb.failed = 1;
}

static void insert(rt_compiler *c, rt_node *stmt);
static void update(rt_compiler *c, rt_node *stmt);
static void delete_(rt_compiler *c, rt_node *stmt);

/* add_cte()'s CTEs: into the WITH first, whether referred to or not (the
** reference cte_ref writes goes nowhere) */
static void independent_ctes(rt_compiler *c, rt_node *list) {
  out *saved = c->cur, scratch;
  int i;
  if (!list) return;
  for (i = 0; i < list->n && !c->failed; i++) {
    memset(&scratch, 0, sizeof scratch);
    c->cur = &scratch;
    cte_ref(c, list->kids[i]);
    c->cur = saved;
    out_free(&scratch);
  }
}

static void cte_ref(rt_compiler *c, rt_node *a) {
  char buf[ALIAS_NAME_MAX];
  int i, seen = 0;
  const char *name = alias_name(c, a, buf, sizeof buf);
  for (i = 0; i < c->ncte; i++)
    if (c->cte_seen[i] == a) seen = 1;
  if (!seen) {
    out *saved = c->cur, body;
    rt_node *older;
    if (c->ncte + 8 >= c->ctecap) {
      int cap = c->ctecap ? c->ctecap * 2 : 16;
      rt_node **p = realloc(c->cte_seen, sizeof *p * (size_t)cap);
      if (!p) {
        rt_c_fail(c, RT_EMEMORY, "out of memory");
        return;
      }
      c->cte_seen = p;
      c->ctecap = cap;
    }
    c->cte_seen[c->ncte++] = a;
    /* the CTEs it grew from are the same WITH entry */
    for (older = a->c;
         older && older->kind == RT_N_ALIAS && c->ncte < c->ctecap;
         older = older->c)
      c->cte_seen[c->ncte++] = older;
    if (a->flags & RT_F_RECURSIVE) c->recursive = 1;
    /* rendered apart: CTEs its body refers to go into the WITH first */
    memset(&body, 0, sizeof body);
    c->cur = &body;
    rt_c_ident(c, name);
    if (a->flags & RT_F_RECURSIVE) {
      S("(");
      for (i = 0; i < a->n; i++) {
        if (i) S(", ");
        rt_c_ident(c, a->kids[i]->name);
      }
      S(")");
    }
    S(" AS \n(");
    {
      /* the body is rendered as a top-level statement of its own */
      int depth = c->depth;
      c->depth = 0;
      switch (a->a->kind) {
      case RT_N_INSERT:
      case RT_N_UPDATE:
      case RT_N_DELETE:
        c->nested_dml++;
        if (a->a->kind == RT_N_INSERT)
          insert(c, a->a);
        else if (a->a->kind == RT_N_UPDATE)
          update(c, a->a);
        else
          delete_(c, a->a);
        c->nested_dml--;
        break;
      default:
        select_stmt(c, a->a, 1);
      }
      c->depth = depth;
    }
    S(")");
    c->cur = saved;
    out_append(c, &c->ctes, &body);
    out_free(&body);
  }
  rt_c_ident(c, name);
}

/* --- SELECT --- */

/* The names taken in one columns clause: `name` or `name_num`, and the
** column that took it (a repeat of the same column is told apart from a
** different column of the same name). */
typedef struct usedname {
  const char *name;
  int num;
  const rt_node *node;
} usedname;

typedef struct usednames {
  usedname v[64];
  int n;
  int repeats;    /* the "name__k" counter of this clause */
  unsigned style; /* the select's RT_F_LS_* flag */
} usednames;

static const usedname *used_find(const usednames *u, const char *name,
                                 int num) {
  int i;
  for (i = 0; i < u->n; i++)
    if (u->v[i].num == num && strcmp(u->v[i].name, name) == 0) return &u->v[i];
  return NULL;
}

static void used_add(usednames *u, const char *name, int num,
                     const rt_node *node) {
  if (u->n < 64) {
    u->v[u->n].name = name;
    u->v[u->n].num = num;
    u->v[u->n].node = node;
    u->n++;
  }
}

/* " AS <name><sep>_<num>", quoted as any identifier is ("5_1", "Foo_1"):
** SQLAlchemy's dedupe labels are anonymous labels, quoted once named. */
static void dedupe_label(rt_compiler *c, const char *name, const char *sep,
                         int num) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_sb_adds(&b, name);
  rt_sb_adds(&b, sep);
  add_suffix(&b, num);
  S(" AS ");
  if (b.p)
    rt_c_ident(c, b.p);
  else
    rt_c_fail(c, RT_EMEMORY, "out of memory");
  rt_sb_free(&b);
}

/* " AS name__k": a column repeated in one columns clause keeps its first
** appearance unambiguous, as SQLAlchemy's dedupe labels do. */
static void repeat_label(rt_compiler *c, rt_node *e, const char *name,
                         usednames *u, int anon) {
  /* (a name made of an alias's compile-time name is numbered with every
  ** other such one, as SQLAlchemy numbers anonymous labels' dedupes) */
  int num = anon_num_ns(c, e, TAG_REPEAT + u->repeats++, anon ? "" : name, 1);
  dedupe_label(c, name, "_", num);
}

/* "table_column", the label of LABEL_STYLE_TABLENAME_PLUS_COL; the
** string lives as long as the compile. */
static const char *tq_name(rt_compiler *c, rt_node *col) {
  char buf[ALIAS_NAME_MAX];
  const char *owner = col->owner->name;
  rt_strbuf b = RT_STRBUF_INIT;
  if (col->owner->kind == RT_N_ALIAS)
    owner = alias_name(c, col->owner, buf, sizeof buf);
  else if (col->owner->kind == RT_N_TABLE && col->owner->ext &&
           ((rt_tabledata *)col->owner->ext)->schema) {
    rt_sb_adds(&b, ((rt_tabledata *)col->owner->ext)->schema);
    rt_sb_addc(&b, '_');
  }
  rt_sb_adds(&b, owner ? owner : "anon");
  rt_sb_addc(&b, '_');
  rt_sb_adds(&b, col_name(c, col));
  return scratch_name(c, &b);
}

/* A unary expression labelled in a columns clause as SQLAlchemy's
** wraps_column_expression ones are: EXISTS, and NOT of one. */
static int wraps_column(const rt_node *e) {
  while (e->kind == RT_N_GROUPING && e->a) e = e->a;
  if (e->kind != RT_N_UNARY) return 0;
  if (e->op == RT_OP_EXISTS) return 1;
  return e->op == RT_OP_NOT && e->a && wraps_column(e->a);
}

/* NOT of a named Boolean column (SQLAlchemy's AsBoolean). */
static int not_of_boolean_column(const rt_node *e) {
  const rt_node *col = e->a;
  if (e->kind != RT_N_UNARY || e->op != RT_OP_NOT || !col) return 0;
  return col->kind == RT_N_COLUMN && !(col->flags & RT_F_ANON) && col->name &&
         col->type && col->type->kind == RT_TY_BOOLEAN;
}

/* Render one columns-clause entry with the label SQLAlchemy gives it. */
static void column_clause(rt_compiler *c, rt_node *e, usednames *used,
                          int asfrom) {
  const char *name = NULL;
  const usedname *prev;
  int anon;
  rt_node *inner = e;
  /* the entry itself: a CAST named after its column is not that column */
  const rt_node *self = e;
  /* an anonymous label is numbered before the expression's own binds */
  while (inner->kind == RT_N_LABEL && (inner->flags & RT_F_ANON) && inner->a)
    inner = inner->a;
  if (inner->kind == RT_N_CAST && !rt_expr_name(inner))
    anon_label_name(c, inner); /* (a CAST named anonymously: f_1, anon_1) */
  else if (inner->kind != RT_N_COLUMN && inner->kind != RT_N_LITERAL &&
           inner->kind != RT_N_TEXT &&
           (inner->kind != RT_N_UNARY || wraps_column(inner)) &&
           inner->kind != RT_N_CAST && inner->kind != RT_N_LABEL)
    anon_num(c, inner, TAG_LABEL,
             inner->kind == RT_N_FUNC ? rt_func_basename(inner) : "anon");
  /* (a labelled late-named column: its label's aliases numbered first,
  ** the outer one before the inner, as SQLAlchemy's label is resolved) */
  if (used->style & RT_F_LS_TABLENAME && e->kind == RT_N_COLUMN && e->owner &&
      e->flags & RT_F_LATENAME)
    tq_name(c, e);
  rt_c_expr(c, e);
  if (e->kind == RT_N_CAST) {
    /* CAST(col AS T) keeps the column's name (through nested CASTs), a
    ** named label's or a literal_column's; others are named anonymously
    ** (by anon_label) */
    rt_node *x = (rt_node *)rt_cast_wrapped(e);
    if (x->kind == RT_N_COLUMN && !(x->flags & RT_F_ANON)) {
      if (!x->owner || rt_literal_proxy(x)) {
        if (used->style & RT_F_LS_NONE) return;
        name = x->name;
        asfrom = 1;
        goto named;
      }
      e = x;
      asfrom = 1;
    } else if ((x->kind == RT_N_LABEL && !(x->flags & RT_F_ANON)) ||
               (x->kind == RT_N_LITERAL && x->op != RT_LIT_LABELREF)) {
      if (used->style & RT_F_LS_NONE) return;
      S(" AS ");
      rt_c_ident(c, x->name);
      return;
    }
  }
  if (not_of_boolean_column(e)) {
    /* SQLAlchemy's AsBoolean: NOT of a Boolean column is named (and
    ** deduplicated, and table-qualified) as the column itself */
    name = e->a->name;
    if (used->style & RT_F_LS_NONE) return;
    if (used->style & RT_F_LS_TABLENAME && e->a->owner) {
      name = tq_name(c, e->a);
      if (!name) return;
    }
    asfrom = 1;
  } else
    switch (e->kind) {
    case RT_N_LABEL:
      S(" AS ");
      if (e->flags & RT_F_ANON)
        anon_label(c, e);
      else
        rt_c_ident(c, e->name);
      return;
    case RT_N_COLUMN:
      if (e->flags & RT_F_ANON && e->a && e->owner &&
          used->style & RT_F_LS_TABLENAME) {
        /* a subquery's anonymous column, labelled <alias>_<its label> */
        name = tq_name(c, e);
        if (!name) return;
        asfrom = 1;
        break;
      }
      if (e->flags & RT_F_ANON && e->a) {
        if (asfrom) {
          S(" AS ");
          anon_label(c, e->a);
        }
        return;
      }
      /* a column of no table (column("q")) is never labelled, nor
      ** deduplicated: SQLAlchemy labels only a table's columns */
      if (!e->owner) return;
      name = col_name(c, e);
      if (!name) return;
      if (used->style & RT_F_LS_NONE) return;
      if (rt_literal_proxy(e)) {
        asfrom = 0; /* only a repeat's dedupe label */
        break;
      }
      if (used->style & RT_F_LS_TABLENAME && e->owner) {
        name = tq_name(c, e);
        if (!name) return;
        asfrom = 1;
      }
      break;
    case RT_N_LITERAL:
    case RT_N_TEXT:
      return;
    case RT_N_UNARY:
      if (!wraps_column(e)) return;
      S(" AS ");
      anon_label(c, e);
      return;
    default:
      S(" AS ");
      anon_label(c, e);
      return;
    }
named:
  prev = used_find(used, name, 0);
  /* (a label of an unnamed alias's column: anonymous in SQLAlchemy) */
  anon = e->kind == RT_N_COLUMN && e->owner &&
         ((e->flags & RT_F_LATENAME) ||
          (used->style & RT_F_LS_TABLENAME && e->owner->kind == RT_N_ALIAS &&
           !e->owner->name));
  /* a repeat of the entry, or a CAST whose column's name is taken (its
  ** anonymous name is that name again): the dedupe label */
  if (prev && (prev->node == self || self != e)) {
    repeat_label(c, e, name, used, anon);
    return;
  }
  if (prev) {
    /* another column of that name: its anonymous label */
    int num = anon ? anon_num_ns(c, e, TAG_DEDUPE, "", 1)
                   : anon_num(c, e, TAG_DEDUPE, name);
    prev = used_find(used, name, num);
    if (prev) {
      repeat_label(c, e, name, used, anon);
      return;
    }
    used_add(used, name, num, self);
    dedupe_label(c, name, "", num);
    return;
  }
  used_add(used, name, 0, self);
  if (asfrom) {
    S(" AS ");
    rt_c_ident(c, name);
  }
}

/* The modifiers (DESC, NULLS FIRST, ...) wrapping `inner` in `e`, in
** the order they apply. */
static void order_modifiers(rt_compiler *c, rt_node *e, rt_node *inner) {
  rt_node *chain[8];
  int k = 0;
  while (e != inner && k < 8) chain[k++] = e, e = e->a;
  while (k-- > 0) {
    switch (chain[k]->op) {
    case RT_OP_DESC:
      S(" DESC");
      break;
    case RT_OP_ASC:
      S(" ASC");
      break;
    case RT_OP_NULLSFIRST:
      S(" NULLS FIRST");
      break;
    default:
      S(" NULLS LAST");
      break;
    }
  }
}

/* The column named `name` among those `from` (a table, alias or join)
** offers, or NULL (other FROMs, text() ones, offer none by name). */
static rt_node *from_column_named(rt_node *from, const char *name) {
  rt_node *found = NULL;
  int j;
  if (from->kind == RT_N_JOIN) {
    found = from->a ? from_column_named(from->a, name) : NULL;
    return found ? found : from->b ? from_column_named(from->b, name) : NULL;
  }
  if (from->kind != RT_N_TABLE && from->kind != RT_N_ALIAS) return NULL;
  for (j = 0; j < from->n && !found; j++)
    if (from->kids[j]->kind == RT_N_COLUMN && from->kids[j]->name &&
        strcmp(from->kids[j]->name, name) == 0)
      found = from->kids[j];
  return found;
}

/*
** A label reference (order_by("name")) as SQLAlchemy resolves it: a label
** of the columns clause by its name, a column of the columns clause or
** else of the FROM list in full; 0 when nothing has that name.
*/
static int label_reference(rt_compiler *c, rt_node *e, rt_node *ref) {
  rt_node *cols = c->ref_sel->kids[RT_S_COLUMNS], *found = NULL;
  frame *f = &c->frames[c->depth - 1];
  int i;
  for (i = 0; i < cols->n && !found; i++) {
    rt_node *k = cols->kids[i];
    if (k->kind == RT_N_LABEL && k->name && !(k->flags & RT_F_ANON) &&
        strcmp(k->name, ref->name) == 0) {
      rt_c_ident(c, k->name);
      order_modifiers(c, e, ref);
      return 1;
    }
    if (k->kind == RT_N_COLUMN && k->name && strcmp(k->name, ref->name) == 0)
      found = k;
    else if (k->kind == RT_N_TABLE || k->kind == RT_N_ALIAS ||
             k->kind == RT_N_JOIN)
      found = from_column_named(k, ref->name);
  }
  for (i = 0; c->depth > 0 && i < f->nfroms && !found; i++)
    found = from_column_named(f->froms[i], ref->name);
  if (!found) return 0;
  rt_c_expr(c, found);
  order_modifiers(c, e, ref);
  return 1;
}

/* ORDER BY / GROUP BY item: a label of the columns clause by its name. */
static void order_item(rt_compiler *c, rt_node *e) {
  int i;
  rt_node *inner = e;
  while (inner->kind == RT_N_UNARY &&
         (inner->op == RT_OP_DESC || inner->op == RT_OP_ASC ||
          inner->op == RT_OP_NULLSFIRST || inner->op == RT_OP_NULLSLAST))
    inner = inner->a;
  if (inner->kind == RT_N_LITERAL && inner->op == RT_LIT_LABELREF &&
      c->ref_sel) {
    if (!label_reference(c, e, inner))
      rt_c_fail(c, RT_ECOMPILE,
                "Can't resolve label reference for ORDER BY / GROUP BY / "
                "DISTINCT etc. Textual SQL expression '%s' should be "
                "explicitly declared as text('%s')",
                inner->name, inner->name);
    return;
  }
  if (inner->kind == RT_N_LABEL && c->cur_cols) {
    for (i = 0; i < c->cur_cols->n; i++)
      if (c->cur_cols->kids[i] == inner) {
        /* render the label name, then the modifiers */
        if (inner->flags & RT_F_ANON)
          anon_label(c, inner);
        else
          rt_c_ident(c, inner->name);
        order_modifiers(c, e, inner);
        return;
      }
  }
  rt_c_expr(c, e);
}

static void order_list(rt_compiler *c, rt_node *l) {
  int i;
  for (i = 0; i < l->n; i++) {
    if (i) S(", ");
    order_item(c, l->kids[i]);
  }
}

/* GROUP BY items: a label object groups by what it labels (SQLAlchemy
** names a label only in ORDER BY) */
static void group_list(rt_compiler *c, rt_node *l) {
  int i;
  for (i = 0; i < l->n; i++) {
    rt_node *e = l->kids[i];
    if (i) S(", ");
    if (e->kind == RT_N_LABEL && e->a)
      rt_c_expr(c, e->a);
    else
      order_item(c, e);
  }
}

static void limit_default(rt_compiler *c, rt_node *limit, rt_node *offset) {
  if (limit) {
    S("\n LIMIT ");
    rt_c_expr(c, limit);
  }
  if (offset) {
    if (!limit) S("\n LIMIT -1");
    S(" OFFSET ");
    rt_c_expr(c, offset);
  }
}

void rt_c_for_update_of(rt_compiler *c, rt_node *fu, const char *read_kw) {
  rt_strbuf *b = rt_c_buf(c);
  int i;
  if (fu->flags & RT_FU_READ)
    rt_sb_adds(b, read_kw);
  else
    rt_sb_adds(b,
               (fu->flags & RT_FU_KEY_SHARE) && c->d == &rt_dialect_postgresql
                   ? " FOR NO KEY UPDATE"
                   : " FOR UPDATE");
  /* MySQL's OF needs MySQL 8 (SQLAlchemy leaves it out unless the server
  ** says so); MariaDB has none */
  for (i = 0; !rt_dialect_is_mysql(c->d) && i < fu->n; i++) {
    rt_node *t = fu->kids[i];
    rt_sb_adds(b, i ? ", " : " OF ");
    if (t->kind == RT_N_COLUMN) t = t->owner;
    if (t) rt_c_ident(c, t->name);
  }
  if (fu->flags & RT_FU_NOWAIT) rt_sb_adds(b, " NOWAIT");
  if (fu->flags & RT_FU_SKIP_LOCKED) rt_sb_adds(b, " SKIP LOCKED");
}

static void for_update(rt_compiler *c, rt_node *fu) {
  if (c->d->for_update)
    c->d->for_update(c, fu);
  else
    S(" FOR UPDATE");
}

/* prefix_with()/suffix_with() texts: an item named by a dialect renders
** only for that dialect. */
static void hints(rt_compiler *c, rt_node *list, int before) {
  int i;
  for (i = 0; list && i < list->n; i++) {
    rt_node *h = list->kids[i];
    if (h->kind == RT_N_LIST) {
      if (strcmp(h->name, c->d->name) != 0) continue;
      h = h->a;
    }
    if (!before) CH(' ');
    S(h->name);
    if (before) CH(' ');
  }
}

/* FETCH FIRST n [PERCENT] ROWS ONLY|WITH TIES, after OFFSET n ROWS;
** PostgreSQL wants the values parenthesised. */
static void fetch_clause(rt_compiler *c, rt_node *f, rt_node *offset) {
  int paren = strcmp(c->d->name, "postgresql") == 0;
  if (offset) {
    S("\n OFFSET ");
    if (paren) CH('(');
    rt_c_expr(c, offset);
    if (paren) CH(')');
    S(" ROWS");
  }
  S("\n FETCH FIRST ");
  if (paren) CH('(');
  rt_c_expr(c, f->a);
  if (paren) CH(')');
  S(f->flags & RT_FETCH_PERCENT ? " PERCENT ROWS" : " ROWS");
  S(f->flags & RT_FETCH_TIES ? " WITH TIES" : " ONLY");
}

static void compound(rt_compiler *c, rt_node *s, int asfrom) {
  static const char *const kw[] = {" UNION ", " UNION ALL ", " INTERSECT ",
                                   " EXCEPT "};
  rt_node *sels = s->kids[RT_S_COLUMNS];
  int i, standalone = c->from_subquery;
  c->from_subquery = 0;
  for (i = 0; i < sels->n; i++) {
    rt_node *sub = sels->kids[i];
    c->from_subquery = standalone;
    if (i)
      S(s->op == RT_OP_INTERSECT_ALL ? " INTERSECT ALL "
        : s->op == RT_OP_EXCEPT_ALL  ? " EXCEPT ALL "
                                     : kw[s->op - RT_OP_UNION]);
    if (sub->kind == RT_N_COMPOUND ||
        (sub->kind == RT_N_SELECT &&
         (sub->kids[RT_S_LIMIT] || sub->kids[RT_S_ORDER]))) {
      CH('(');
      select_stmt(c, sub, asfrom);
      CH(')');
    } else
      select_stmt(c, sub, asfrom);
  }
  if (s->kids[RT_S_ORDER]) {
    /* the members' columns by name alone, as SQLAlchemy orders a set
    ** operation (include_table=False) */
    rt_node *saved_ref = c->ref_sel;
    S(" ORDER BY ");
    c->no_qualify++;
    c->ref_sel = NULL; /* a name orders by itself here */
    order_list(c, s->kids[RT_S_ORDER]);
    c->ref_sel = saved_ref;
    c->no_qualify--;
  }
  if (s->kids[RT_S_LIMIT] || s->kids[RT_S_OFFSET]) {
    if (c->d->limit)
      c->d->limit(c, s->kids[RT_S_LIMIT], s->kids[RT_S_OFFSET]);
    else
      limit_default(c, s->kids[RT_S_LIMIT], s->kids[RT_S_OFFSET]);
  }
}

static void select_stmt(rt_compiler *c, rt_node *s, int asfrom) {
  rt_node *froms[MAXFROMS];
  usednames used;
  rt_node *cols, *saved_cols = c->cur_cols, *saved_ref = c->ref_sel;
  int nfroms, i, j, first = 1, standalone = c->from_subquery;
  c->from_subquery = 0;
  used.n = used.repeats = 0;
  used.style = s->flags & (RT_F_LS_TABLENAME | RT_F_LS_NONE);
  if (c->failed) return;
  if (s->kind == RT_N_SELECT || s->kind == RT_N_COMPOUND)
    independent_ctes(c, s->kids[RT_S_CTES]);
  if (s->kind == RT_N_COMPOUND) {
    c->from_subquery = standalone;
    compound(c, s, asfrom);
    return;
  }
  if (s->kind == RT_N_TEXT) {
    text(c, s);
    return;
  }
  if (s->kind != RT_N_SELECT) {
    rt_c_expr(c, s);
    return;
  }
  if (c->depth >= 15) {
    rt_c_fail(c, RT_ECOMPILE, "statement nested too deeply");
    return;
  }
  nfroms = select_froms(c, s, froms);
  if (!standalone) nfroms = correlate(c, s, froms, nfroms);
  c->frames[c->depth].froms = froms;
  c->frames[c->depth].nfroms = nfroms;
  c->depth++;
  cols = s->kids[RT_S_COLUMNS];
  c->cur_cols = cols;
  S("SELECT ");
  hints(c, s->kids[RT_S_PREFIX], 1);
  if (s->kids[RT_S_DISTINCT]) {
    rt_node *on = s->kids[RT_S_DISTINCT];
    if (on->n && strcmp(c->d->name, "postgresql") == 0) {
      S("DISTINCT ON (");
      list(c, on, ", ");
      S(") ");
    } else
      S("DISTINCT ");
  }
  for (i = 0; i < cols->n; i++) {
    rt_node *e = cols->kids[i];
    if (e->kind == RT_N_TABLE || e->kind == RT_N_ALIAS ||
        e->kind == RT_N_JOIN) {
      rt_node *tmp = rt_list_new();
      if (!tmp || rt_expand_columns(e, tmp) != 0) {
        rt_unref(tmp);
        rt_c_fail(c, RT_EMEMORY, "out of memory");
        break;
      }
      for (j = 0; j < tmp->n; j++) {
        if (!first) S(", ");
        first = 0;
        column_clause(c, tmp->kids[j], &used, asfrom);
      }
      rt_unref(tmp);
      continue;
    }
    if (!first) S(", ");
    first = 0;
    column_clause(c, e, &used, asfrom);
  }
  if (nfroms) {
    S(" \nFROM ");
    for (i = 0; i < nfroms; i++) {
      if (i) S(", ");
      from_item(c, froms[i]);
    }
  } else if (s->kids[RT_S_WHERE] && rt_dialect_is_mysql(c->d))
    S(" \nFROM DUAL"); /* MySQL's WHERE needs a FROM */
  if (s->kids[RT_S_WHERE]) {
    S(" \nWHERE ");
    criterion(c, s->kids[RT_S_WHERE]);
  }
  if (s->kids[RT_S_GROUP] && s->kids[RT_S_GROUP]->n) {
    S(" GROUP BY ");
    c->ref_sel = s;
    group_list(c, s->kids[RT_S_GROUP]);
    c->ref_sel = saved_ref;
  }
  if (s->kids[RT_S_HAVING]) {
    S(" \nHAVING ");
    criterion(c, s->kids[RT_S_HAVING]);
  }
  if (s->kids[RT_S_ORDER] && s->kids[RT_S_ORDER]->n) {
    S(" ORDER BY ");
    c->ref_sel = s;
    order_list(c, s->kids[RT_S_ORDER]);
    c->ref_sel = saved_ref;
  }
  if (s->kids[RT_S_FETCH])
    fetch_clause(c, s->kids[RT_S_FETCH], s->kids[RT_S_OFFSET]);
  else if (s->kids[RT_S_LIMIT] || s->kids[RT_S_OFFSET]) {
    if (c->d->limit)
      c->d->limit(c, s->kids[RT_S_LIMIT], s->kids[RT_S_OFFSET]);
    else
      limit_default(c, s->kids[RT_S_LIMIT], s->kids[RT_S_OFFSET]);
  }
  if (s->kids[RT_S_FORUPDATE]) for_update(c, s->kids[RT_S_FORUPDATE]);
  hints(c, s->kids[RT_S_SUFFIX], 0);
  c->depth--;
  c->cur_cols = saved_cols;
}

/* --- INSERT / UPDATE / DELETE --- */

static int key_given(rt_compiler *c, const char *key) {
  int i;
  for (i = 0; i < c->o->ncolumn_keys; i++)
    if (strcmp(c->o->column_keys[i], key) == 0) return 1;
  return 0;
}

static void returning(rt_compiler *c, rt_node *stmt) {
  rt_node *r = stmt->kids[RT_D_RETURNING];
  int i;
  usednames used;
  if (!r) return;
  used.n = used.repeats = 0;
  used.style = 0;
  if (!(c->d->flags & RT_DF_RETURNING)) {
    rt_c_fail(c, RT_ECOMPILE,
              "RETURNING is not supported by this dialect's statement "
              "compiler (%s).",
              c->d->name);
    return;
  }
  S(" RETURNING ");
  for (i = 0; i < r->n; i++) {
    rt_node *e = r->kids[i];
    if (i) S(", ");
    if (e->kind == RT_N_TABLE) {
      int j;
      for (j = 0; j < e->n; j++) {
        if (j) S(", ");
        column_clause(c, e->kids[j], &used, 0);
      }
    } else
      column_clause(c, e, &used, 0);
  }
}

/* The value rendered for column `col` of an INSERT/UPDATE: the statement's
** own, a parameter named after the key, or the column's default. */
typedef struct setcol {
  rt_node *col;
  rt_node *value; /* NULL: a parameter named after the key */
  int nextval;    /* the next value of the column's Sequence */
} setcol;

static int gather_set(rt_compiler *c, rt_node *stmt, setcol *out, int max,
                      int insert) {
  rt_node *t = stmt->kids[RT_D_TABLE], *vals = stmt->kids[RT_D_VALUES];
  int i, j, n = 0;
  /* nothing given: every column (the string form); an INSERT executed
  ** with no parameters sets only what has a default (DEFAULT VALUES) */
  int none = !vals && (insert ? !c->o->column_keys : c->o->ncolumn_keys == 0);
  int ordered = vals && (stmt->flags & RT_F_ORDERED);
  /* ordered_values(): those first, in the order given */
  for (j = 0; ordered && j < vals->n && n < max; j++)
    for (i = 0; i < t->n; i++)
      if (strcmp(vals->kids[j]->name, rt_column_key(t->kids[i])) == 0) {
        out[n].col = t->kids[i];
        out[n].value = vals->kids[j]->a;
        out[n].nextval = 0;
        n++;
        break;
      }
  for (i = 0; i < t->n && n < max; i++) {
    rt_node *col = t->kids[i], *v = NULL;
    const char *key = rt_column_key(col);
    rt_coldata *d = col->ext;
    int have = 0;
    if (ordered) {
      for (j = 0; j < vals->n; j++)
        if (strcmp(vals->kids[j]->name, key) == 0) break;
      if (j < vals->n) continue; /* set above */
    }
    for (j = 0; vals && j < vals->n; j++)
      if (strcmp(vals->kids[j]->name, key) == 0) v = vals->kids[j]->a, have = 1;
    if (!have && key_given(c, key)) have = 1;
    if (!have && none && insert) have = 1;
    if (!have && none && !insert) have = 1;
    /* a Lua-function default is a parameter execution fills */
    if (!have && d && (insert ? d->lua_default : d->lua_onupdate)) have = 1;
    if (!have && d) {
      if (insert && d->def)
        v = d->def, have = 1;
      else if (!insert && d->onupdate)
        v = d->onupdate, have = 1;
    }
    out[n].nextval = 0;
    if (!have && insert && d && d->seqname) {
      /* PostgreSQL fills it from its Sequence; the string form shows a
      ** parameter; other databases leave it out */
      if (c->d->flags & RT_DF_SEQUENCES)
        have = out[n].nextval = 1;
      else if (c->d == &rt_dialect_default && !(col->flags & RT_F_PK))
        have = out[n].nextval = 2; /* <next sequence value: s> */
      else if (c->d->paramstyle == RT_PS_NAMED)
        have = 1;
    }
    if (!have) continue;
    out[n].col = col;
    out[n].value = v;
    n++;
  }
  return n;
}

/* Render v as SQLAlchemy's crud renders a value, v.self_group() with
** nothing to compare against: an operator expression in parentheses
** (SET a = (b + 1), (-b), (EXISTS (...))), except NOT of a Boolean
** column, which SQLAlchemy's AsBoolean never groups. */
static void self_grouped(rt_compiler *c, rt_node *v) {
  int group = v->kind == RT_N_BINARY ||
              (v->kind == RT_N_BOOLLIST && v->n > 1) ||
              (v->kind == RT_N_UNARY &&
               (v->op == RT_OP_NOT || v->op == RT_OP_NEG ||
                v->op == RT_OP_DISTINCT || v->op == RT_OP_EXISTS) &&
               !not_of_boolean_column(v));
  if (group) CH('(');
  rt_c_expr(c, v);
  if (group) CH(')');
}

/* An anonymous bind given as a value (literal(5)) is named after its
** column, as SQLAlchemy's crud names it (:id, :id_m0); NULL-typed, it
** takes the column's type. */
static void crud_named_bind(rt_compiler *c, rt_node *v, rt_node *col,
                            const char *suffix) {
  char name[160];
  snprintf(name, sizeof name, "%s%s", rt_column_key(col), suffix);
  placeholder(c, &v->value, v->type ? v->type : col->type, name, 0, 0);
}

static void set_value(rt_compiler *c, setcol *s, const char *suffix) {
  rt_node *v = s->value;
  if (s->nextval) {
    const rt_coldata *d = s->col->ext;
    const char *p;
    S(s->nextval == 2 ? "<next sequence value: " : "nextval('");
    if (d->seqschema) {
      for (p = d->seqschema; *p; p++) {
        if (*p == '\'') CH('\'');
        CH(*p);
      }
      CH('.');
    }
    for (p = d->seqname; *p; p++) {
      if (*p == '\'') CH('\'');
      CH(*p);
    }
    S(s->nextval == 2 ? ">" : "')");
  } else if (!v) {
    char name[160];
    snprintf(name, sizeof name, "%s%s", rt_column_key(s->col), suffix);
    /* (a column's parameter with no value: a placeholder even under
    ** literal_binds, as SQLAlchemy's) */
    marker(c, &rt_required_value, s->col->type, name, 0, 0);
  } else if (v->kind == RT_N_BIND && c->o->literal_binds && s->col->ext &&
             (v == ((rt_coldata *)s->col->ext)->def ||
              v == ((rt_coldata *)s->col->ext)->onupdate)) {
    /* a default's value is a parameter execution fills: a literal_binds
    ** compile shows NULL, as SQLAlchemy's */
    S("NULL");
  } else if (v->kind == RT_N_BIND && !(v->flags & RT_F_ANON) && c->nested_dml) {
    /* a statement in a CTE binds its values anonymously, as SQLAlchemy's
    ** (param_1) */
    placeholder(c, &v->value, v->type ? v->type : s->col->type, "param",
                anon_num(c, v, TAG_BIND, "param"), 0);
  } else if (v->kind == RT_N_BIND && !(v->flags & RT_F_ANON)) {
    char name[160];
    snprintf(name, sizeof name, "%s%s", v->name, suffix);
    placeholder(c, &v->value, v->type ? v->type : s->col->type, name, 0, 0);
  } else if (v->kind == RT_N_BIND && !c->nested_dml &&
             !(v->flags & RT_F_EXPANDING))
    crud_named_bind(c, v, s->col, suffix);
  else
    self_grouped(c, v);
}

/* A value of an upsert's SET: a plain value stays a bound parameter even
** under literal_binds, as SQLAlchemy renders it without the compile's
** keywords. */
static void upsert_value(rt_compiler *c, rt_node *v) {
  /* an operator expression is grouped, as SQLAlchemy's self_group() with
  ** nothing to compare against does: SET a = (excluded.a + 1) */
  if (v->kind == RT_N_BIND && (v->flags & RT_F_ANON)) {
    rt_c_bound_param(c, v);
    return;
  }
  self_grouped(c, v);
}

static void upsert(rt_compiler *c, rt_node *stmt) {
  rt_node *u = stmt->kids[RT_D_CONFLICT];
  int i;
  if (!u) return;
  if (u->op == RT_UPSERT_DUPLICATE) {
    if (!(c->d->flags & RT_DF_ON_DUPLICATE)) {
      rt_c_fail(c, RT_ECOMPILE,
                "ON DUPLICATE KEY UPDATE is not supported by dialect %s",
                c->d->name);
      return;
    }
    S(" ON DUPLICATE KEY UPDATE ");
    c->inserted = stmt->kids[RT_D_TABLE];
    for (i = 0; u->b && i < u->b->n; i++) {
      if (i) S(", ");
      rt_c_ident(c, u->b->kids[i]->name);
      S(" = ");
      upsert_value(c, u->b->kids[i]->a);
    }
    c->inserted = NULL;
    return;
  }
  if (!(c->d->flags & RT_DF_ON_CONFLICT)) {
    rt_c_fail(c, RT_ECOMPILE, "ON CONFLICT is not supported by dialect %s",
              c->d->name);
    return;
  }
  S(" ON CONFLICT ");
  if (u->name) {
    /* SQLite's compile puts the name in parentheses, as SQLAlchemy's */
    if (strcmp(c->d->name, "sqlite") == 0) {
      CH('(');
      S(u->name);
      S(") ");
    } else {
      S("ON CONSTRAINT ");
      rt_c_ident(c, u->name);
      CH(' ');
    }
  } else if (u->a && u->a->n) {
    CH('(');
    c->no_qualify++;
    list(c, u->a, ", ");
    CH(')');
    if (u->n > 0) {
      /* index_where: SQLite's compile inlines its values */
      S(" WHERE ");
      if (strcmp(c->d->name, "sqlite") == 0)
        rt_c_ddl_expr(c, u->kids[0]);
      else
        rt_c_expr(c, u->kids[0]);
    }
    c->no_qualify--;
    CH(' ');
  }
  if (u->op == RT_UPSERT_NOTHING) {
    S("DO NOTHING");
    return;
  }
  S("DO UPDATE SET ");
  for (i = 0; u->b && i < u->b->n; i++) {
    if (i) S(", ");
    rt_c_ident(c, u->b->kids[i]->name);
    S(" = ");
    upsert_value(c, u->b->kids[i]->a);
  }
  if (u->c) {
    S(" WHERE ");
    rt_c_expr(c, u->c);
  }
}

/* Whether return_defaults() asked for column `col` (all when no list). */
static int retdefault_wanted(rt_node *stmt, rt_node *col) {
  rt_node *l = stmt->kids[RT_D_RETDEFAULTS];
  int i;
  if (!l) return 1;
  for (i = 0; i < l->n; i++)
    if (l->kids[i] == col) return 1;
  return 0;
}

/*
** The implicit RETURNING of return_defaults(), in table order, as
** SQLAlchemy's crud rules pick it.  INSERT: the primary key the database
** generates (autoincrement or server default), and of the asked for
** columns those a SQL expression or Sequence sets and those no parameter
** or default sets (a server default's among them).  UPDATE: of the asked
** for columns those a SQL expression (an onupdate's too) sets or a
** server_onupdate changes, and when named, those nothing sets.  A value sent as
*a parameter is known already and is not
** fetched.
*/
static void return_defaults(rt_compiler *c, rt_node *stmt, setcol *set, int n,
                            int insert) {
  rt_node *t = stmt->kids[RT_D_TABLE];
  int i, j, first = 1;
  for (i = 0; i < t->n; i++) {
    rt_node *col = t->kids[i];
    rt_coldata *d = col->ext;
    int pk = (col->flags & RT_F_PK) != 0, want = retdefault_wanted(stmt, col);
    int take = 0;
    setcol *sc = NULL;
    for (j = 0; j < n; j++)
      if (set[j].col == col) sc = &set[j];
    if (sc) {
      int expr = sc->nextval || (sc->value && sc->value->kind != RT_N_BIND);
      take = expr && (want || (insert && pk));
    } else if (insert && pk)
      take = rt_column_is_autoinc(t, col) || (d && d->server_default);
    else if (insert)
      take = want;
    else if (d && d->server_onupdate)
      take = want;
    else
      take = want && stmt->kids[RT_D_RETDEFAULTS];
    if (!take) continue;
    S(first ? " RETURNING " : ", ");
    first = 0;
    column(c, col);
  }
}

/* prefix_with() words after INSERT / UPDATE / DELETE, each followed by a
** space */
static void dml_prefixes(rt_compiler *c, rt_node *stmt) {
  int i;
  for (i = 0; stmt->kids[RT_D_PREFIX] && i < stmt->kids[RT_D_PREFIX]->n; i++) {
    S(stmt->kids[RT_D_PREFIX]->kids[i]->name);
    CH(' ');
  }
}

/* The value a row of a multi-VALUES INSERT gives column `key`, or NULL */
static rt_node *row_value(rt_node *row, const char *key) {
  int i;
  for (i = 0; i < row->n; i++)
    if (strcmp(row->kids[i]->name, key) == 0) return row->kids[i]->a;
  return NULL;
}

/* A column's default (a value or a SQL expression; not a Lua function)
** that an INSERT renders where no value is given, or NULL */
static rt_node *insert_default(rt_node *col) {
  rt_coldata *d = col->kind == RT_N_COLUMN ? col->ext : NULL;
  return d && d->def && !d->lua_default ? d->def : NULL;
}

/* Has the column a Lua-function default (a parameter execution fills)? */
static int lua_default(rt_node *col) {
  rt_coldata *d = col->kind == RT_N_COLUMN ? col->ext : NULL;
  return d && d->lua_default;
}

/* A default in row r of a multi-VALUES INSERT: an expression as it is
** (grouped), a value as a parameter named key, key_m1, ... (NULL under
** literal_binds, as SQLAlchemy's prefetch parameter shows) */
static void row_default(rt_compiler *c, rt_node *col, rt_node *def, int r) {
  if (!def || def->kind == RT_N_BIND) { /* a value, or a Lua function's */
    char name[160];
    if (c->o->literal_binds) {
      S("NULL");
      return;
    }
    if (r)
      snprintf(name, sizeof name, "%s_m%d", rt_column_key(col), r);
    else
      snprintf(name, sizeof name, "%s", rt_column_key(col));
    if (def)
      marker(c, &def->value, def->type ? def->type : col->type, name, 0, 0);
    else
      marker(c, &rt_required_value, col->type, name, 0, 0);
  } else if (def->kind == RT_N_BINARY || def->kind == RT_N_BOOLLIST) {
    CH('(');
    rt_c_expr(c, def);
    CH(')');
  } else
    rt_c_expr(c, def);
}

/*
** INSERT ... VALUES (...), (...): the first row's columns and those with
** a default, in the table's order; a row missing a column takes its
** default, as SQLAlchemy's multi-VALUES compile does.
*/
static void multi_values(rt_compiler *c, rt_node *t, rt_node *multi) {
  rt_node *cols[256];
  int nc = 0, i, r;
  for (i = 0; i < t->n && nc < 256; i++)
    if (row_value(multi->kids[0], rt_column_key(t->kids[i])) ||
        insert_default(t->kids[i]) || lua_default(t->kids[i]))
      cols[nc++] = t->kids[i];
  S(" (");
  for (i = 0; i < nc; i++) {
    if (i) S(", ");
    rt_c_ident(c, cols[i]->name);
  }
  S(") VALUES ");
  for (r = 0; r < multi->n; r++) {
    rt_node *row = multi->kids[r];
    if (r) S(", ");
    CH('(');
    for (i = 0; i < nc; i++) {
      rt_node *v = row_value(row, rt_column_key(cols[i]));
      if (i) S(", ");
      if (!v && (insert_default(cols[i]) || lua_default(cols[i])))
        row_default(c, cols[i], insert_default(cols[i]), r);
      else if (!v)
        rt_c_fail(c, RT_ECOMPILE,
                  "INSERT value for column %s.%s is explicitly rendered as a "
                  "boundparameter in the VALUES clause; a Python-side value "
                  "or SQL expression is required",
                  t->name, cols[i]->name);
      else if (v->kind == RT_N_BIND && !(v->flags & RT_F_ANON)) {
        char name[160];
        snprintf(name, sizeof name, "%s_m%d", v->name, r);
        placeholder(c, &v->value, v->type, name, 0, 0);
      } else if (v->kind == RT_N_BIND && r == 0)
        crud_named_bind(c, v, cols[i], "_m0"); /* (only the first row's) */
      else
        self_grouped(c, v);
    }
    CH(')');
  }
}

/*
** INSERT ... SELECT: the columns not named that have a default (a value,
** a SQL expression) are added, their defaults appended to the SELECT's
** columns, as SQLAlchemy's include_defaults does.  `names` gets the
** column names (at most max); the select to render is returned (a
** compile-owned copy when extended).
*/
static rt_node *from_select_defaults(rt_compiler *c, rt_node *t, rt_node *fs,
                                     rt_node **names, int *nnames, int max) {
  rt_node *sel = fs->a, *copy = NULL, *cols = NULL;
  int i, j, n = 0;
  for (i = 0; i < fs->n && n < max; i++) names[n++] = fs->kids[i];
  for (i = 0; i < t->n && n < max; i++) {
    rt_node *col = t->kids[i], *def = insert_default(col);
    rt_coldata *d = col->ext;
    int named = 0;
    for (j = 0; j < fs->n; j++)
      if (strcmp(fs->kids[j]->name, col->name) == 0) named = 1;
    if (named || !(def || (d && d->lua_default)) || sel->kind != RT_N_SELECT)
      continue;
    if (!copy) {
      copy = rt_node_copy(sel);
      cols = copy ? rt_node_copy(copy->kids[RT_S_COLUMNS]) : NULL;
      if (!copy || !cols) {
        rt_unref(copy);
        rt_unref(cols);
        rt_c_fail(c, RT_EMEMORY, "out of memory");
        *nnames = n;
        return sel;
      }
      rt_unref(copy->kids[RT_S_COLUMNS]);
      copy->kids[RT_S_COLUMNS] = cols;
      scratch(c, copy);
    }
    /* (an operator expression grouped, as SQLAlchemy's self_group; a Lua
    ** function's value a parameter named after the key, which execution
    ** fills) */
    if (!def) {
      rt_value none = {RT_V_NULL, 0, {0}};
      def = rt_bind(rt_column_key(col), none, col->type, 0);
      if (def) def->flags |= RT_F_REQUIRED;
    } else
      def = def->kind == RT_N_BINARY || def->kind == RT_N_BOOLLIST
                ? rt_grouping(rt_ref(def))
                : rt_ref(def);
    if (!def || rt_node_push(cols, def) != 0) {
      rt_unref(def);
      rt_c_fail(c, RT_EMEMORY, "out of memory");
      break;
    }
    names[n++] = col;
  }
  *nnames = n;
  return copy ? copy : sel;
}

static void insert(rt_compiler *c, rt_node *stmt) {
  rt_node *t = stmt->kids[RT_D_TABLE], *multi = stmt->kids[RT_D_MULTI];
  setcol set[128];
  int n, i, r;
  independent_ctes(c, stmt->kids[RT_D_CTES]);
  S("INSERT ");
  dml_prefixes(c, stmt);
  S("INTO ");
  from_item(c, t);
  if (stmt->kids[RT_D_SELECT]) {
    rt_node *fs = stmt->kids[RT_D_SELECT], *names[256], *sel;
    int nn;
    sel = t->kind == RT_N_TABLE
              ? from_select_defaults(c, t, fs, names, &nn, 256)
              : fs->a;
    if (t->kind != RT_N_TABLE)
      for (nn = 0; nn < fs->n && nn < 256; nn++) names[nn] = fs->kids[nn];
    S(" (");
    for (i = 0; i < nn; i++) {
      if (i) S(", ");
      rt_c_ident(c, names[i]->name);
    }
    S(") ");
    /* MySQL takes the CTEs after the column list (cte_follows_insert) */
    if (rt_dialect_is_mysql(c->d) && c->cur == &c->main)
      c->with_at = c->main.sb.n;
    select_stmt(c, sel, 0);
    upsert(c, stmt);
    returning(c, stmt);
    return;
  }
  if (multi && multi->n) {
    multi_values(c, t, multi);
    upsert(c, stmt);
    returning(c, stmt);
    return;
  }
  n = gather_set(c, stmt, set, 128, 1);
  if (n == 0) {
    S(c->d->flags & RT_DF_DEFAULT_VALUES ? " DEFAULT VALUES" : " () VALUES ()");
  } else {
    S(" (");
    for (i = 0; i < n; i++) {
      if (i) S(", ");
      rt_c_ident(c, set[i].col->name);
    }
    S(") VALUES (");
    for (i = 0; i < n; i++) {
      if (i) S(", ");
      set_value(c, &set[i], "");
    }
    CH(')');
    /* the same row again for each further parameter set */
    for (r = 1; r < c->o->insert_rows; r++) {
      S(", (");
      for (i = 0; i < n; i++) {
        if (i) S(", ");
        set_value(c, &set[i], "");
      }
      CH(')');
    }
    if (c->o->insert_rows > 1) c->rows = c->o->insert_rows;
  }
  upsert(c, stmt);
  if (stmt->kids[RT_D_RETURNING])
    returning(c, stmt);
  else if (stmt->flags & RT_F_INLINE)
    ; /* inline(): no key to fetch */
  else if (c->nested_dml)
    ; /* in a CTE: only what it is told to return */
  else if ((stmt->flags & RT_F_RETDEFAULTS) &&
           (c->d->flags & RT_DF_IMPLICIT_RETURNING) && t->kind == RT_N_TABLE &&
           c->o->insert_rows <= 1)
    return_defaults(c, stmt, set, n, 1);
  else if ((c->d->flags & RT_DF_IMPLICIT_RETURNING) && t->kind == RT_N_TABLE) {
    /* the key the database makes: an autoincrement column, or a primary
    ** key column with a server default (a FetchedValue too) */
    int first = 1;
    for (i = 0; i < t->n; i++) {
      rt_node *col = t->kids[i];
      rt_coldata *cd = col->ext;
      if (rt_column_is_autoinc(t, col) ||
          ((col->flags & RT_F_PK) && cd && cd->server_default)) {
        int j, given = 0;
        for (j = 0; j < n; j++)
          if (set[j].col == col && !set[j].nextval) given = 1;
        if (!given) {
          S(first ? " RETURNING " : ", ");
          first = 0;
          column(c, col);
        }
      }
    }
  }
}

/* Subqueries of an UPDATE or DELETE correlate to its table and the extra
** FROMs its WHERE names (froms: the table, then those). */
static void dml_frame(rt_compiler *c, rt_node **froms, int n) {
  c->frames[c->depth].froms = froms;
  c->frames[c->depth].nfroms = n;
  c->depth++;
}

/*
** The other tables an UPDATE's or DELETE's WHERE refers to (its values'
** are not looked at), as SQLAlchemy's extra FROMs: UPDATE ... FROM / DELETE ...
** USING on PostgreSQL, UPDATE t, u / DELETE FROM t USING t, u on MySQL;
** SQLite cannot.  Returns their count, in froms.
*/
static int dml_extra_froms(rt_compiler *c, rt_node *stmt, rt_node **froms) {
  rt_node *t = stmt->kids[RT_D_TABLE];
  int k = 0, i, j;
  collect_froms(stmt->kids[RT_D_WHERE], froms, &k);
  for (i = 0, j = 0; i < k; i++)
    if (froms[i] != t) froms[j++] = froms[i];
  if (j && c->d == &rt_dialect_sqlite) {
    rt_c_fail(c, RT_ECOMPILE,
              "This backend does not support multiple-table criteria within "
              "%s",
              stmt->kind == RT_N_UPDATE ? "UPDATE" : "DELETE");
    return 0;
  }
  return j;
}

static void from_list(rt_compiler *c, rt_node **froms, int n) {
  int i;
  for (i = 0; i < n; i++) {
    if (i) S(", ");
    from_item(c, froms[i]);
  }
}

static void update(rt_compiler *c, rt_node *stmt) {
  setcol set[128];
  rt_node *froms[MAXFROMS + 1], **extra = froms + 1;
  int n = gather_set(c, stmt, set, 128, 0), i;
  int nextra = stmt->kids[RT_D_TABLE]->kind == RT_N_TABLE
                   ? dml_extra_froms(c, stmt, extra)
                   : 0;
  int mysql = rt_dialect_is_mysql(c->d);
  independent_ctes(c, stmt->kids[RT_D_CTES]);
  S("UPDATE ");
  dml_prefixes(c, stmt);
  from_item(c, stmt->kids[RT_D_TABLE]);
  if (nextra && mysql) {
    S(", ");
    from_list(c, extra, nextra);
  }
  froms[0] = stmt->kids[RT_D_TABLE];
  dml_frame(c, froms, 1 + nextra);
  S(" SET ");
  for (i = 0; i < n; i++) {
    if (i) S(", ");
    if (nextra && mysql) { /* several tables: SET t.col */
      rt_c_ident(c, stmt->kids[RT_D_TABLE]->name);
      CH('.');
    }
    rt_c_ident(c, set[i].col->name);
    CH('=');
    set_value(c, &set[i], "");
  }
  if (nextra && !mysql) {
    S(" FROM ");
    from_list(c, extra, nextra);
  }
  if (stmt->kids[RT_D_WHERE]) {
    S(" WHERE ");
    criterion(c, stmt->kids[RT_D_WHERE]);
  }
  c->depth--;
  if ((stmt->flags & RT_F_RETDEFAULTS) && !stmt->kids[RT_D_RETURNING] &&
      (c->d->flags & RT_DF_IMPLICIT_RETURNING) && !c->nested_dml &&
      stmt->kids[RT_D_TABLE]->kind == RT_N_TABLE)
    return_defaults(c, stmt, set, n, 0);
  else
    returning(c, stmt);
}

static void delete_(rt_compiler *c, rt_node *stmt) {
  rt_node *froms[MAXFROMS + 1], **extra = froms + 1;
  int nextra = stmt->kids[RT_D_TABLE]->kind == RT_N_TABLE
                   ? dml_extra_froms(c, stmt, extra)
                   : 0;
  independent_ctes(c, stmt->kids[RT_D_CTES]);
  S("DELETE ");
  dml_prefixes(c, stmt);
  S("FROM ");
  from_item(c, stmt->kids[RT_D_TABLE]);
  if (nextra) {
    if (rt_dialect_is_mysql(c->d)) {
      S(" USING ");
      from_item(c, stmt->kids[RT_D_TABLE]);
      S(", ");
    } else
      S(c->d == &rt_dialect_postgresql ? " USING " : " , ");
    from_list(c, extra, nextra);
  }
  froms[0] = stmt->kids[RT_D_TABLE];
  dml_frame(c, froms, 1 + nextra);
  if (stmt->kids[RT_D_WHERE]) {
    S(" WHERE ");
    criterion(c, stmt->kids[RT_D_WHERE]);
  }
  c->depth--;
  returning(c, stmt);
}

void rt_ddl_compile(rt_compiler *c, rt_node *ddl); /* ddl.c */

/*
** --- the compiled-statement cache ---
**
** Like SQLAlchemy's compiled cache, keyed by the statement's structure and
** not its values: a signature walk records every node's kind, operator,
** names and types (a node met again is written as a back reference, so
** shared subtrees keep their meaning) and lists the bind values in walk
** order.  A hit copies the cached SQL and takes each parameter's value from
** the new tree through the recorded walk position.  Nothing in an entry
** points into a tree, so entries outlive the statements that made them.
*/
#define CACHE_SLOTS 256

typedef struct cache_entry {
  uint64_t hash;
  uint64_t id; /* unique to this entry's text (rt_compiled.text_id) */
  const rt_dialect *d;
  char *sig;
  size_t siglen;
  char *sql;
  size_t sqllen;
  int nparams;
  int *map;         /* parameter -> walk position of its bind, or -1 */
  rt_value *consts; /* parameters from no bind of the tree (LIMIT -1) */
  char *names;
  size_t nameslen;
  int *name_off;
  unsigned char *kind; /* per parameter: rt_param.kind */
  int returns_rows;
  double created; /* rt_compile_clock() when stored (echo shows its age) */
  int rows;
  int postcompile;
} cache_entry;

static _Thread_local cache_entry cache[CACHE_SLOTS];
/* (unique across threads: a Lua state may compile on more than one, and
** keeps its texts by these ids, see rt_compiled.text_id) */
static _Atomic uint64_t entry_ids;

typedef struct sigwalk {
  rt_strbuf sb;
  const rt_node **seen; /* open addressing: node -> position */
  int *seenpos;
  unsigned *seengen; /* a slot is live when it has this walk's generation */
  unsigned gen;
  int nseen, capseen;
  const rt_value **binds;
  int nbinds, capbinds;
  int failed;
} sigwalk;

/* Signature writes are many and tiny: room is made once per node and the
** bytes are stored directly. */
static inline int sig_room(sigwalk *w, size_t n) {
  if (w->sb.n + n + 1 <= w->sb.cap) return 0;
  if (rt_sb_reserve(&w->sb, n < 4096 ? 4096 : n) != 0) {
    w->failed = 1;
    return -1;
  }
  return 0;
}

static void sig_put(sigwalk *w, const void *p, size_t n) {
  memcpy(w->sb.p + w->sb.n, p, n);
  w->sb.n += n;
}

static void sig_raw(sigwalk *w, const void *p, size_t n) {
  if (sig_room(w, n) == 0) sig_put(w, p, n);
}

static void sig_byte(sigwalk *w, char c) {
  if (sig_room(w, 1) == 0) w->sb.p[w->sb.n++] = c;
}

static void sig_str(sigwalk *w, const char *str) {
  uint32_t n = str ? (uint32_t)strlen(str) : 0xffffffffu;
  if (sig_room(w, sizeof n + (str ? n : 0)) != 0) return;
  sig_put(w, &n, sizeof n);
  if (str) sig_put(w, str, n);
}

/* Room for a node's header, its name of `namelen` bytes and its type's
** compact form (SIG_FIXED), so that they are written without checks. */
#define SIG_FIXED 48

static void sig_type(sigwalk *w, const rt_type *t) {
  int v[8];
  if (!t) {
    sig_byte(w, 0);
    return;
  }
  /* a static bare type is all its kind and upper-case name say */
  if (t->refs == -1 && !t->fields && !t->item) {
    if (sig_room(w, 3) != 0) return;
    w->sb.p[w->sb.n++] = 2;
    w->sb.p[w->sb.n++] = (char)t->kind;
    w->sb.p[w->sb.n++] = (char)t->upper;
    return;
  }
  v[0] = (int)t->kind | (int)t->upper << 8;
  v[1] = t->length;
  v[2] = t->precision;
  v[3] = t->scale;
  v[4] = t->timezone;
  v[5] = t->nvalues;
  v[6] = t->width;
  v[7] = t->isunsigned | t->varying << 1 | (t->fields != NULL) << 2 |
         t->nonnative << 3 | t->create_constraint << 4;
  if (sig_room(w, 1 + sizeof v) != 0) return;
  w->sb.p[w->sb.n++] = 1;
  sig_put(w, v, sizeof v);
  if (t->fields) sig_str(w, t->fields);
  /* what else a type's DDL or CAST shows: an Enum's name and values, a
  ** string's character set and collation */
  if (t->kind == RT_TY_ENUM || t->upper == RT_UP_SET) {
    int i;
    sig_str(w, t->name);
    for (i = 0; i < t->nvalues; i++) sig_str(w, t->values[i]);
  }
  if (t->charset || t->collation) {
    sig_str(w, t->charset);
    sig_str(w, t->collation);
  }
  if (t->item) sig_type(w, t->item);
}

/* The probe of the seen set, which has room: the position of a node
** already walked, or -1 (and it is recorded). */
static inline int seen_probe(sigwalk *w, const rt_node *n) {
  size_t mask = (size_t)w->capseen - 1;
  size_t h = ((uintptr_t)n >> 4) & mask;
  while (w->seengen[h] == w->gen) {
    if (w->seen[h] == n) return w->seenpos[h];
    h = (h + 1) & mask;
  }
  w->seen[h] = n;
  w->seengen[h] = w->gen;
  w->seenpos[h] = w->nseen++;
  return -1;
}

/* Position of a node already walked, or -1 (and it is recorded), the set
** grown first when it is half full. */
static int seen_pos(sigwalk *w, const rt_node *n) {
  if (w->nseen * 2 >= w->capseen) {
    int cap = w->capseen ? w->capseen * 2 : 256, i;
    const rt_node **ns = malloc(sizeof *ns * (size_t)cap);
    int *np = malloc(sizeof(int) * (size_t)cap);
    unsigned *ng = calloc((size_t)cap, sizeof *ng);
    if (!ns || !np || !ng) {
      free(ns);
      free(np);
      free(ng);
      w->failed = 1;
      return -1;
    }
    for (i = 0; i < w->capseen; i++)
      if (w->seengen[i] == w->gen) {
        size_t k = ((uintptr_t)w->seen[i] >> 4) & (size_t)(cap - 1);
        while (ng[k] == w->gen) k = (k + 1) & (size_t)(cap - 1);
        ns[k] = w->seen[i];
        np[k] = w->seenpos[i];
        ng[k] = w->gen;
      }
    free(w->seen);
    free(w->seenpos);
    free(w->seengen);
    w->seen = ns;
    w->seenpos = np;
    w->seengen = ng;
    w->capseen = cap;
  }
  return seen_probe(w, n);
}

static void sig_node(sigwalk *w, const rt_node *n);

/* A node that may be absent (one zero byte then), checked throughout:
** for the rarer parts, outside a node's reserved room. */
static void sig_opt(sigwalk *w, const rt_node *n) {
  if (w->failed) return;
  if (n)
    sig_node(w, n);
  else
    sig_byte(w, 0);
}

/*
** A table, or a column of one, is written as its serial: its contents
** change only with the schema epoch, which the signature carries.  The
** binds of the table's column defaults are walked still, as an INSERT or
** UPDATE takes its parameter values from them.
*/
static void sig_schema_node(sigwalk *w, const rt_node *n) {
  int i;
  if (sig_room(w, 1 + sizeof n->serial) != 0) return;
  w->sb.p[w->sb.n++] = 5;
  sig_put(w, &n->serial, sizeof n->serial);
  /* sa.values(): its rows are binds like any other */
  if (n->flags & RT_F_VALUES) sig_opt(w, n->a);
  for (i = 0; i < n->n; i++) {
    const rt_coldata *d = n->kids[i]->ext;
    if (d && (d->def || d->onupdate)) {
      sig_opt(w, d->def);
      sig_opt(w, d->onupdate);
    }
  }
}

/* Position of a node already walked, or -1 (and it is recorded): the
** probe inline, the growth (seen_pos) apart. */
static inline int seen_at(sigwalk *w, const rt_node *n) {
  if (w->nseen * 2 >= w->capseen) return seen_pos(w, n);
  return seen_probe(w, n);
}

/*
** One operand or kid: an absent one is one byte, written without a check
** (the node reserved room for all of them); after a present one, room is
** made again for the `after` bytes the node may still write unchecked.
** Nonzero when the walk failed.
*/
static inline int sig_kid(sigwalk *w, const rt_node *k, size_t after) {
  if (!k) {
    w->sb.p[w->sb.n++] = 0;
    return 0;
  }
  /* a table's column (a leaf, and the most common kid) without a call:
  ** sig_node's form */
  if (k->kind == RT_N_COLUMN && k->owner && k->owner->kind == RT_N_TABLE) {
    char *p;
    if (sig_room(w, 1 + sizeof k->serial + after) != 0) return 1;
    p = w->sb.p + w->sb.n;
    *p = 4;
    memcpy(p + 1, &k->serial, sizeof k->serial);
    w->sb.n += 1 + sizeof k->serial;
    return 0;
  }
  sig_node(w, k);
  return w->failed || sig_room(w, after) != 0;
}

static void sig_node(sigwalk *w, const rt_node *n) {
  int pos, i, nk;
  uint32_t namelen;
  char *p;
  /* a table's column: its serial (see sig_schema_node) */
  if (n->kind == RT_N_COLUMN && n->owner && n->owner->kind == RT_N_TABLE) {
    if (sig_room(w, 1 + sizeof n->serial) != 0) return;
    p = w->sb.p + w->sb.n;
    *p = 4;
    memcpy(p + 1, &n->serial, sizeof n->serial);
    w->sb.n += 1 + sizeof n->serial;
    return;
  }
  nk = n->n;
  namelen = n->name ? (uint32_t)strlen(n->name) : 0xffffffffu;
  /* the header, name and short type, the operands' and kids' absent
  ** marks and the kid count: all written without further checks */
  if (sig_room(w, SIG_FIXED + (n->name ? namelen : 0) + (size_t)nk) != 0)
    return;
  p = w->sb.p + w->sb.n;
  /* A node with one reference in all (and no owner to share a count
  ** with) is reached once: it needs no place in the seen map, and says so
  ** (6), as the positions of back references count only the others (2). */
  if (n->owner || n->refs > 1) {
    pos = seen_at(w, n);
    if (pos >= 0) {
      *p++ = 1;
      memcpy(p, &pos, sizeof pos);
      w->sb.n += 1 + sizeof pos;
      return;
    }
    if (w->failed) return;
    *p++ = 2;
  } else
    *p++ = 6;
  /* (a table's own form, in place of the mark) */
  if (n->kind == RT_N_TABLE) {
    w->sb.n = (size_t)(p - w->sb.p);
    sig_schema_node(w, n);
    return;
  }
  *p++ = (char)n->kind;
  *p++ = (char)n->op;
  memcpy(p, &n->flags, sizeof n->flags);
  p += sizeof n->flags;
  memcpy(p, &namelen, sizeof namelen);
  p += sizeof namelen;
  if (n->name) {
    memcpy(p, n->name, namelen);
    p += namelen;
  }
  /* the type: none, a static bare one (in the room reserved), or the
  ** long form */
  if (!n->type) {
    *p++ = 0;
    w->sb.n = (size_t)(p - w->sb.p);
  } else if (n->type->refs == -1 && !n->type->fields && !n->type->item) {
    *p++ = 2;
    *p++ = (char)n->type->kind;
    *p++ = (char)n->type->upper;
    w->sb.n = (size_t)(p - w->sb.p);
  } else {
    w->sb.n = (size_t)(p - w->sb.p);
    sig_type(w, n->type);
  }
  if (n->kind == RT_N_BIND) {
    if (w->nbinds == w->capbinds) {
      int cap = w->capbinds ? w->capbinds * 2 : 32;
      const rt_value **b = realloc(w->binds, sizeof *b * (size_t)cap);
      if (!b) {
        w->failed = 1;
        return;
      }
      w->binds = b;
      w->capbinds = cap;
    }
    w->binds[w->nbinds++] = &n->value;
  } else if (n->kind == RT_N_COLUMN) {
    sig_opt(w, n->owner);
    if (n->ext) {
      rt_coldata *d = n->ext;
      sig_str(w, d->key);
      sig_byte(w, (char)(d->lua_default | d->lua_onupdate << 1));
      sig_opt(w, d->def);
      sig_opt(w, d->onupdate);
    }
  }
  /* (room again for what follows, when the type or a column's parts
  ** took some) */
  if (w->failed || sig_room(w, 7 + (size_t)nk) != 0) return;
  /* absent operands and slots (most of a SELECT's) as one byte each */
  if (sig_kid(w, n->a, 6 + (size_t)nk) || sig_kid(w, n->b, 5 + (size_t)nk) ||
      sig_kid(w, n->c, 4 + (size_t)nk))
    return;
  memcpy(w->sb.p + w->sb.n, &nk, sizeof nk);
  w->sb.n += sizeof nk;
  for (i = 0; i < nk; i++)
    if (sig_kid(w, n->kids[i], (size_t)(nk - i - 1))) return;
}

static uint64_t sig_hash(const char *p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n, g = 0xc2b2ae3d27d4eb4full, k, l;
  size_t i;
  /* two lanes, 16 bytes a round: signatures run to kilobytes */
  for (i = 0; i + 16 <= n; i += 16) {
    memcpy(&k, p + i, 8);
    memcpy(&l, p + i + 8, 8);
    h = (h ^ k) * 0xff51afd7ed558ccdull;
    g = (g ^ l) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    g ^= g >> 29;
  }
  h ^= g * 0x9e3779b97f4a7c15ull;
  for (; i + 8 <= n; i += 8) {
    memcpy(&k, p + i, 8);
    h = (h ^ k) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

/* One walk's scratch per thread, reused: a walk allocates nothing once
** the buffers have grown to fit. */
static _Thread_local sigwalk scratch_walk;

static sigwalk *sigwalk_begin(void) {
  sigwalk *w = &scratch_walk;
  rt_sb_reset(&w->sb);
  w->sb.failed = 0;
  w->nseen = 0;
  w->nbinds = 0;
  w->failed = 0;
  if (++w->gen == 0) {
    /* generations wrapped: forget every slot */
    if (w->seengen)
      memset(w->seengen, 0, sizeof(unsigned) * (size_t)w->capseen);
    w->gen = 1;
  }
  return w;
}

static void sigwalk_free(sigwalk *w) {
  rt_sb_free(&w->sb);
  free(w->seen);
  free(w->seenpos);
  free(w->seengen);
  free(w->binds);
  memset(w, 0, sizeof *w);
}

static void entry_free(cache_entry *e) {
  free(e->sig);
  free(e->sql);
  free(e->map);
  free(e->consts);
  free(e->names);
  free(e->name_off);
  free(e->kind);
  memset(e, 0, sizeof *e);
}

/* Free a result's text and parameters, keeping its block for reuse. */
static void result_clear(rt_compiled *c) {
  void *block = c->block;
  size_t cap = c->blockcap;
  if (!c->inblock) {
    free(c->sql);
    free(c->params);
    free(c->names);
  }
  memset(c, 0, sizeof *c);
  c->block = block;
  c->blockcap = cap;
}

/* Allocate a result for n parameters with room for their constant values:
** one block, the one res has when it is large enough. */
static int result_alloc(rt_compiled *res, size_t sqllen, size_t nameslen,
                        int n) {
  size_t pbytes =
      sizeof(rt_param) * (size_t)(n + 1) + sizeof(rt_value) * (size_t)(n + 1);
  size_t need = pbytes + sqllen + 1 + nameslen + 1;
  char *b;
  if (res->blockcap < need) {
    size_t cap = need < 512 ? 512 : need;
    free(res->block);
    res->blockcap = 0;
    res->block = malloc(cap);
    if (!res->block) return -1;
    res->blockcap = cap;
  }
  b = res->block;
  res->params = (rt_param *)b;
  res->sql = b + pbytes;
  res->names = res->sql + sqllen + 1;
  res->inblock = 1;
  return 0;
}

static int cache_hit(cache_entry *e, sigwalk *w, rt_compiled *res) {
  rt_value *consts;
  int i;
  if (result_alloc(res, e->sqllen, e->nameslen, e->nparams) != 0) return -1;
  memcpy(res->sql, e->sql, e->sqllen + 1);
  memcpy(res->names, e->names, e->nameslen);
  consts = (rt_value *)(res->params + e->nparams + 1);
  for (i = 0; i < e->nparams; i++) {
    if (e->map[i] >= 0)
      res->params[i].value = w->binds[e->map[i]];
    else if (e->map[i] == -2)
      res->params[i].value = &rt_required_value;
    else {
      consts[i] = e->consts[i];
      res->params[i].value = &consts[i];
    }
    res->params[i].name = res->names + e->name_off[i];
    res->params[i].kind = e->kind[i] & 0x7f;
    res->params[i].in_item = e->kind[i] >> 7;
  }
  res->nparams = e->nparams;
  res->returns_rows = e->returns_rows;
  res->cached_since = e->created;
  res->text_id = e->id;
  res->rows = e->rows;
  res->postcompile = e->postcompile;
  return 0;
}

/* Remember a fresh compile; quietly gives up when it can't. */
static int cache_store(uint64_t h, const rt_dialect *d, sigwalk *w,
                       const rt_compiled *res, size_t nameslen) {
  cache_entry e;
  int i, j, k, next = 0;
  memset(&e, 0, sizeof e);
  e.hash = h;
  e.id = atomic_fetch_add_explicit(&entry_ids, 1, memory_order_relaxed) + 1;
  e.d = d;
  e.siglen = w->sb.n;
  e.sqllen = strlen(res->sql);
  e.nparams = res->nparams;
  e.nameslen = nameslen;
  e.returns_rows = res->returns_rows;
  e.created = rt_compile_clock();
  e.rows = res->rows;
  e.postcompile = res->postcompile;
  e.sig = malloc(e.siglen + 1);
  e.sql = malloc(e.sqllen + 1);
  e.names = malloc(nameslen + 1);
  e.map = malloc(sizeof(int) * (size_t)(e.nparams + 1));
  e.consts = malloc(sizeof(rt_value) * (size_t)(e.nparams + 1));
  e.name_off = malloc(sizeof(int) * (size_t)(e.nparams + 1));
  e.kind = malloc((size_t)e.nparams + 1);
  if (!e.sig || !e.sql || !e.names || !e.map || !e.consts || !e.name_off ||
      !e.kind) {
    entry_free(&e);
    return -1;
  }
  memcpy(e.sig, w->sb.p, e.siglen);
  memcpy(e.sql, res->sql, e.sqllen + 1);
  memcpy(e.names, res->names, nameslen);
  for (i = 0; i < e.nparams; i++) {
    const rt_value *v = res->params[i].value;
    e.map[i] = v == &rt_required_value ? -2 : -1;
    e.consts[i] = rt_vnull();
    e.name_off[i] = (int)(res->params[i].name - res->names);
    /* (the high bit: in_item; kinds are below it) */
    e.kind[i] = (unsigned char)(res->params[i].kind |
                                (res->params[i].in_item ? 0x80 : 0));
    /* parameters mostly come in walk order: look on from the last one,
    ** so long IN lists map in linear time */
    for (k = 0; k < w->nbinds && v != &rt_required_value; k++) {
      j = (next + k) % w->nbinds;
      if (w->binds[j] == v) {
        e.map[i] = j;
        next = j + 1;
        break;
      }
    }
    if (e.map[i] == -1) {
      /* a value outside the tree: only plain constants can be kept */
      if (v->type == RT_V_TEXT || v->type == RT_V_BLOB) {
        entry_free(&e);
        return -1;
      }
      e.consts[i] = *v;
    }
  }
  entry_free(&cache[h % CACHE_SLOTS]);
  cache[h % CACHE_SLOTS] = e;
  return 0;
}

/*
** A first level in front of the cache: the last statements compiled, by
** node serial.  Compiling the very same statement again needs no walk; its
** parameter values are where they were.
*/
#define MEMO_SLOTS 64

typedef struct memo_entry {
  uint64_t serial;
  const rt_dialect *d;
  cache_entry *e;
  uint64_t hash;  /* e's, to notice it was replaced */
  uint64_t epoch; /* the schema's, when stored */
  const rt_value **values;
  int nvalues;
} memo_entry;

static _Thread_local memo_entry memo[MEMO_SLOTS];

static int memo_lookup(const rt_node *stmt, const rt_dialect *d,
                       rt_compiled *res) {
  memo_entry *m = &memo[stmt->serial % MEMO_SLOTS];
  rt_value *consts;
  int i;
  cache_entry *e = m->e;
  if (m->serial != stmt->serial || m->d != d || !e || !e->sig ||
      e->hash != m->hash || e->nparams != m->nvalues ||
      m->epoch != rt_schema_epoch())
    return -1;
  if (result_alloc(res, e->sqllen, e->nameslen, e->nparams) != 0) return -1;
  memcpy(res->sql, e->sql, e->sqllen + 1);
  memcpy(res->names, e->names, e->nameslen);
  consts = (rt_value *)(res->params + e->nparams + 1);
  for (i = 0; i < e->nparams; i++) {
    if (e->map[i] != -1)
      res->params[i].value = m->values[i];
    else {
      consts[i] = e->consts[i];
      res->params[i].value = &consts[i];
    }
    res->params[i].name = res->names + e->name_off[i];
    res->params[i].kind = e->kind[i] & 0x7f;
    res->params[i].in_item = e->kind[i] >> 7;
  }
  res->nparams = e->nparams;
  res->returns_rows = e->returns_rows;
  res->cached_since = e->created;
  res->text_id = e->id;
  res->rows = e->rows;
  res->postcompile = e->postcompile;
  return 0;
}

static void memo_store(const rt_node *stmt, const rt_dialect *d, cache_entry *e,
                       const rt_compiled *res) {
  memo_entry *m = &memo[stmt->serial % MEMO_SLOTS];
  int i;
  if (m->nvalues < res->nparams || !m->values) {
    const rt_value **v =
        realloc(m->values, sizeof *v * (size_t)(res->nparams + 1));
    if (!v) return;
    m->values = v;
  }
  for (i = 0; i < res->nparams; i++) m->values[i] = res->params[i].value;
  m->nvalues = res->nparams;
  m->serial = stmt->serial;
  m->d = d;
  m->e = e;
  m->hash = e->hash;
  m->epoch = rt_schema_epoch();
}

void rt_compile_cache_clear(void) {
  int i;
  for (i = 0; i < CACHE_SLOTS; i++) entry_free(&cache[i]);
  for (i = 0; i < MEMO_SLOTS; i++) {
    free(memo[i].values);
    memset(&memo[i], 0, sizeof memo[i]);
  }
  sigwalk_free(&scratch_walk);
}

/* --- entry points --- */

static void out_free(out *o) {
  rt_sb_free(&o->sb);
  free(o->params);
  free(o->name_off);
}

/* Number the positional markers of `sql` into dst. */
static void number_markers(rt_compiler *c, const char *sql, size_t n,
                           rt_strbuf *dst, int *counter) {
  const char *p = sql, *end = sql + n;
  int k = *counter;
  while (p < end) {
    const char *m = memchr(p, MARK, (size_t)(end - p));
    if (!m) {
      rt_sb_addlen(dst, p, (size_t)(end - p));
      break;
    }
    rt_sb_addlen(dst, p, (size_t)(m - p));
    if (c->d->paramstyle == RT_PS_DOLLAR) {
      rt_sb_addc(dst, '$');
      add_int(dst, ++k);
      *counter = k;
    } else
      rt_sb_addc(dst, '?');
    p = m + 1;
  }
}

static int compile_fresh(rt_node *stmt, const rt_dialect *d,
                         const rt_compile_opts *o, rt_compiled *res,
                         size_t *nameslen, rt_error *err) {
  rt_compiler c;
  rt_compile_opts none = {0, NULL, 0, 0, 0};
  rt_strbuf final = RT_STRBUF_INIT;
  int i, total, counter = 0;
  memset(&c, 0, sizeof c);
  result_clear(res);
  c.d = d;
  c.o = o ? o : &none;
  c.err = err;
  c.cur = &c.main;
  switch (stmt->kind) {
  case RT_N_SELECT:
  case RT_N_COMPOUND:
    select_stmt(&c, stmt, 0);
    res->returns_rows = 1;
    break;
  case RT_N_INSERT:
    insert(&c, stmt);
    break;
  case RT_N_UPDATE:
    update(&c, stmt);
    break;
  case RT_N_DELETE:
    delete_(&c, stmt);
    break;
  case RT_N_TEXT:
    text(&c, stmt);
    res->returns_rows = 1;
    break;
  case RT_N_DDL:
    rt_ddl_compile(&c, stmt);
    break;
  default:
    rt_c_expr(&c, stmt);
    break;
  }
  if ((stmt->kind == RT_N_INSERT || stmt->kind == RT_N_UPDATE ||
       stmt->kind == RT_N_DELETE) &&
      stmt->kids[RT_D_RETURNING])
    res->returns_rows = 1;
  if (!c.failed && (c.main.sb.failed || c.ctes.sb.failed || c.names.failed))
    rt_c_fail(&c, RT_EMEMORY, "out of memory");
  if (!c.failed) {
    if (c.ctes.sb.n) {
      if (c.with_at)
        number_markers(&c, c.main.sb.p, c.with_at, &final, &counter);
      rt_sb_adds(&final, c.recursive ? "WITH RECURSIVE " : "WITH ");
      number_markers(&c, c.ctes.sb.p, c.ctes.sb.n, &final, &counter);
      rt_sb_adds(&final, "\n "); /* (as SQLAlchemy ends its WITH clause) */
    }
    if (!c.ctes.sb.n && (d->paramstyle == RT_PS_NAMED || c.main.nparams == 0)) {
      /* nothing to number: the text is final as it is */
      final = c.main.sb;
      memset(&c.main.sb, 0, sizeof c.main.sb);
    } else if (c.main.sb.n) {
      size_t at = c.ctes.sb.n ? c.with_at : 0;
      number_markers(&c, c.main.sb.p + at, c.main.sb.n - at, &final, &counter);
    }
    rt_sb_adds(&final, ""); /* allocated even when empty */
    total = c.ctes.nparams + c.main.nparams;
    res->params = malloc(sizeof(rt_param) * (size_t)(total + 1));
    *nameslen = c.names.n;
    res->names = rt_sb_take(&c.names);
    res->sql = rt_sb_take(&final);
    if (!res->params || (!res->names && total) || !res->sql || final.failed) {
      rt_compiled_free(res);
      rt_c_fail(&c, RT_EMEMORY, "out of memory");
    } else {
      for (i = 0; i < c.ctes.nparams; i++) {
        res->params[i] = c.ctes.params[i];
        res->params[i].name = res->names + c.ctes.name_off[i];
      }
      for (i = 0; i < c.main.nparams; i++) {
        res->params[c.ctes.nparams + i] = c.main.params[i];
        res->params[c.ctes.nparams + i].name = res->names + c.main.name_off[i];
      }
      res->nparams = total;
      res->rows = c.rows;
      res->postcompile = c.postcompile;
    }
  }
  out_free(&c.main);
  out_free(&c.ctes);
  rt_sb_free(&c.names);
  rt_sb_free(&final);
  free(c.anon);
  free(c.slots);
  free(c.bases);
  for (i = 0; i < c.nscratch; i++) rt_unref(c.scratch[i]);
  free(c.scratch);
  free(c.cte_seen);
  return c.failed ? -1 : 0;
}

double rt_compile_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
** SQLAlchemy's PostgreSQL and MySQL drivers take pyformat/format SQL, so
** its literal_binds text shows every '%' (of a literal, text(), an
** identifier, the modulo operator) doubled.  Ours binds with $n / ?, so
** only the literal_binds text, which is for showing, gets the same form.
*/
static int double_percents(rt_compiled *res) {
  size_t n = 0, len = 0, j = 0;
  const char *p;
  char *out;
  for (p = res->sql; *p; p++, len++) n += *p == '%';
  if (n == 0) return 0;
  out = malloc(len + n + 1);
  if (!out) return -1;
  for (p = res->sql; *p; p++) {
    out[j++] = *p;
    if (*p == '%') out[j++] = '%';
  }
  out[j] = '\0';
  free(res->sql);
  res->sql = out;
  return 0;
}

/*
** The keys a statement is executed with shape only an INSERT's VALUES or
** an UPDATE's SET (no DML nests in other statements): any other compiles
** the same whatever they are, and keeps its memo.
*/
static int keys_matter(const rt_node *stmt, const rt_compile_opts *o) {
  return o && o->column_keys &&
         (stmt->kind == RT_N_INSERT || stmt->kind == RT_N_UPDATE);
}

int rt_compile(rt_node *stmt, const rt_dialect *d, const rt_compile_opts *o,
               rt_compiled *res, rt_error *err) {
  memset(res, 0, sizeof *res);
  return rt_compile_into(stmt, d, o, res, err);
}

int rt_compile_into(rt_node *stmt, const rt_dialect *d,
                    const rt_compile_opts *o, rt_compiled *res, rt_error *err) {
  sigwalk *w;
  uint64_t h;
  size_t nameslen = 0;
  int i, rc;
  uint64_t epoch;
  cache_entry *e;
  if (o && o->literal_binds) {
    rc = compile_fresh(stmt, d, o, res, &nameslen, err);
    if (rc == 0 && (d->flags & RT_DF_DOUBLE_PERCENT) &&
        double_percents(res) != 0) {
      rt_compiled_free(res);
      return rt_error_set(err, RT_EMEMORY, "out of memory");
    }
    return rc;
  }
  if (stmt->kind == RT_N_DDL)
    return compile_fresh(stmt, d, o, res, &nameslen, err);
  result_clear(res);
  if (!keys_matter(stmt, o) && memo_lookup(stmt, d, res) == 0) return 0;
  w = sigwalk_begin();
  sig_node(w, stmt);
  /* (the dialect by address: an entry's own test compares it too) */
  sig_raw(w, &d, sizeof d);
  sig_raw(w, &d->reserved, sizeof d->reserved); /* mysql and mariadb */
  epoch = rt_schema_epoch();
  sig_raw(w, &epoch, sizeof epoch);
  if (keys_matter(stmt, o)) {
    sig_byte(w, 3);
    for (i = 0; i < o->ncolumn_keys; i++) sig_str(w, o->column_keys[i]);
  }
  if (o && o->insert_rows > 1) {
    sig_byte(w, 4);
    sig_raw(w, &o->insert_rows, sizeof o->insert_rows);
  }
  if (o && o->for_executemany) sig_byte(w, 5);
  if (w->failed || w->sb.failed)
    return compile_fresh(stmt, d, o, res, &nameslen, err);
  h = sig_hash(w->sb.p, w->sb.n);
  e = &cache[h % CACHE_SLOTS];
  if (e->sig && e->hash == h && e->d == d && e->siglen == w->sb.n &&
      memcmp(e->sig, w->sb.p, w->sb.n) == 0) {
    if (cache_hit(e, w, res) == 0) {
      if (!keys_matter(stmt, o)) memo_store(stmt, d, e, res);
      return 0;
    }
    result_clear(res);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  rc = compile_fresh(stmt, d, o, res, &nameslen, err);
  if (rc == 0 && cache_store(h, d, w, res, nameslen) == 0) {
    res->text_id = cache[h % CACHE_SLOTS].id;
    if (!keys_matter(stmt, o))
      memo_store(stmt, d, &cache[h % CACHE_SLOTS], res);
  }
  return rc;
}

void rt_compiled_free(rt_compiled *c) {
  result_clear(c);
  free(c->block);
  memset(c, 0, sizeof *c);
}

const rt_dialect *rt_dialect_find(const char *name) {
  /* (the most named first) */
  if (name && strcmp(name, "sqlite") == 0) return &rt_dialect_sqlite;
  if (!name || strcmp(name, "default") == 0) return &rt_dialect_default;
  if (strcmp(name, "postgresql") == 0 || strcmp(name, "postgres") == 0)
    return &rt_dialect_postgresql;
  if (strcmp(name, "mysql") == 0) return &rt_dialect_mysql;
  if (strcmp(name, "mariadb") == 0) return &rt_dialect_mariadb;
  return NULL;
}
