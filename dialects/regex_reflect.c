/*
** regex_reflect.c -- a backtracking matcher for SQLAlchemy's SQLite
** reflection patterns (see regex_reflect.h).
**
** A pattern is parsed into a small tree, then emitted as instructions in
** the style of Thompson and Pike: CHAR, ANY, CLASS, SPLIT (try one branch,
** then the other), JMP, SAVE (a group boundary), WORDB and MATCH.  SPLIT's
** branch order gives greedy and lazy quantifiers Python's preference, and
** the executor backtracks through an explicit stack, so a long table text
** can't exhaust the C stack.  A step budget bounds pathological patterns.
*/
#include "regex_reflect.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum { I_CHAR, I_ANY, I_CLASS, I_SPLIT, I_JMP, I_SAVE, I_WORDB, I_MATCH };

typedef struct inst {
  int op;
  int x, y; /* char, class index, targets, or save slot */
} inst;

typedef struct rxclass {
  unsigned char in[256];
} rxclass;

struct rt_rx {
  inst *code;
  int ncode;
  rxclass *classes;
  int nclasses;
  int ngroups; /* including group 0 */
  int icase;   /* CHARs were stored in lower case */
};

/* --- parsing --- */

enum { N_CHAR, N_ANY, N_CLASS, N_GROUP, N_CAT, N_ALT, N_REPEAT, N_WORDB };

typedef struct node {
  int kind;
  int c;         /* N_CHAR; class index for N_CLASS; group for N_GROUP */
  int min, lazy; /* N_REPEAT: min 0 or 1; max is 1 when `opt` */
  int opt;       /* N_REPEAT: `?` (at most once) */
  struct node **kids;
  int nkids;
} node;

typedef struct parser {
  const char *p;
  int icase, failed, ngroups;
  rt_rx *rx;
} parser;

static void node_free(node *n) {
  int i;
  if (!n) return;
  for (i = 0; i < n->nkids; i++) node_free(n->kids[i]);
  free(n->kids);
  free(n);
}

static node *new_node(parser *ps, int kind) {
  node *n = calloc(1, sizeof *n);
  if (!n) ps->failed = 1;
  if (n) n->kind = kind;
  return n;
}

static void add_kid(parser *ps, node *n, node *kid) {
  node **v;
  if (!n || !kid) {
    node_free(kid);
    ps->failed = 1;
    return;
  }
  v = realloc(n->kids, sizeof *v * (size_t)(n->nkids + 1));
  if (!v) {
    node_free(kid);
    ps->failed = 1;
    return;
  }
  n->kids = v;
  n->kids[n->nkids++] = kid;
}

static int new_class(parser *ps) {
  rt_rx *rx = ps->rx;
  rxclass *v = realloc(rx->classes, sizeof *v * (size_t)(rx->nclasses + 1));
  if (!v) {
    ps->failed = 1;
    return -1;
  }
  rx->classes = v;
  memset(&v[rx->nclasses], 0, sizeof *v);
  return rx->nclasses++;
}

static int is_word(int c) {
  return isalnum(c) || c == '_' || c >= 0x80;
}

/* \w \s \d into a class */
static int class_escape(unsigned char *in, int e) {
  int c;
  if (e != 'w' && e != 's' && e != 'd') return 0;
  for (c = 0; c < 256; c++)
    if ((e == 'w' && is_word(c)) || (e == 'd' && isdigit(c)) ||
        (e == 's' && (c == ' ' || (c >= '\t' && c <= '\r'))))
      in[c] = 1;
  return 1;
}

static void class_add(parser *ps, unsigned char *in, int lo, int hi) {
  int c;
  for (c = lo; c <= hi; c++) {
    in[c] = 1;
    if (ps->icase) in[tolower(c)] = in[toupper(c)] = 1;
  }
}

/* [...] after the '[' */
static node *parse_class(parser *ps) {
  int k = new_class(ps), neg = 0, first = 1, c;
  unsigned char in[256];
  node *n;
  if (k < 0) return NULL;
  memset(in, 0, sizeof in);
  if (*ps->p == '^') {
    neg = 1;
    ps->p++;
  }
  while (*ps->p && (*ps->p != ']' || first)) {
    int lo = (unsigned char)*ps->p++;
    first = 0;
    if (lo == '\\') {
      lo = (unsigned char)*ps->p++;
      if (class_escape(in, lo)) continue;
    }
    if (ps->p[0] == '-' && ps->p[1] && ps->p[1] != ']') {
      int hi = (unsigned char)ps->p[1];
      ps->p += 2;
      class_add(ps, in, lo, hi);
    } else
      class_add(ps, in, lo, lo);
  }
  if (*ps->p != ']') {
    ps->failed = 1;
    return NULL;
  }
  ps->p++;
  for (c = 0; c < 256; c++)
    ps->rx->classes[k].in[c] = (unsigned char)(neg ? !in[c] : in[c]);
  n = new_node(ps, N_CLASS);
  if (n) n->c = k;
  return n;
}

static node *parse_alt(parser *ps);

static node *parse_atom(parser *ps) {
  int c = (unsigned char)*ps->p++;
  node *n;
  if (c == '(') {
    int group = -1;
    if (ps->p[0] == '?' && ps->p[1] == ':')
      ps->p += 2;
    else if (ps->p[0] == '?') {
      ps->failed = 1;
      return NULL;
    } else if ((group = ps->ngroups++) >= RT_RX_MAXGROUPS) {
      ps->failed = 1;
      return NULL;
    }
    n = new_node(ps, N_GROUP);
    if (n) n->c = group;
    add_kid(ps, n, parse_alt(ps));
    if (*ps->p != ')') ps->failed = 1;
    if (*ps->p) ps->p++;
    return n;
  }
  if (c == '[') return parse_class(ps);
  if (c == '.') return new_node(ps, N_ANY);
  if (c == '\\') {
    int k;
    c = (unsigned char)*ps->p++;
    if (c == 'b') return new_node(ps, N_WORDB);
    if (c == 'w' || c == 's' || c == 'd') {
      if ((k = new_class(ps)) < 0) return NULL;
      class_escape(ps->rx->classes[k].in, c);
      n = new_node(ps, N_CLASS);
      if (n) n->c = k;
      return n;
    }
    if (isalnum(c) || c == 0) {
      ps->failed = 1; /* an escape outside the subset */
      return NULL;
    }
  } else if (c == '^' || c == '$' || c == '{' || c == 0) {
    ps->failed = 1;
    return NULL;
  }
  n = new_node(ps, N_CHAR);
  if (n) n->c = ps->icase ? tolower(c) : c;
  return n;
}

static node *parse_cat(parser *ps) {
  node *cat = new_node(ps, N_CAT);
  while (!ps->failed && *ps->p && *ps->p != '|' && *ps->p != ')') {
    node *a = parse_atom(ps);
    if (*ps->p == '*' || *ps->p == '+' || *ps->p == '?') {
      node *r = new_node(ps, N_REPEAT);
      if (r) {
        r->min = *ps->p == '+';
        r->opt = *ps->p == '?';
      }
      ps->p++;
      if (*ps->p == '?') {
        if (r) r->lazy = 1;
        ps->p++;
      }
      add_kid(ps, r, a);
      a = r;
    }
    add_kid(ps, cat, a);
  }
  return cat;
}

static node *parse_alt(parser *ps) {
  node *alt = new_node(ps, N_ALT);
  add_kid(ps, alt, parse_cat(ps));
  while (!ps->failed && *ps->p == '|') {
    ps->p++;
    add_kid(ps, alt, parse_cat(ps));
  }
  return alt;
}

/* --- emitting --- */

static int emit(parser *ps, int op, int x, int y) {
  rt_rx *rx = ps->rx;
  inst *v;
  if (ps->failed) return 0;
  v = realloc(rx->code, sizeof *v * (size_t)(rx->ncode + 1));
  if (!v) {
    ps->failed = 1;
    return 0;
  }
  rx->code = v;
  v[rx->ncode].op = op;
  v[rx->ncode].x = x;
  v[rx->ncode].y = y;
  return rx->ncode++;
}

static void patch(parser *ps, int at, int x, int y) {
  if (ps->failed) return;
  ps->rx->code[at].x = x;
  ps->rx->code[at].y = y;
}

static int here(parser *ps) {
  return ps->rx->ncode;
}

static void gen(parser *ps, const node *n) {
  int i, a, b;
  if (ps->failed || !n) return;
  switch (n->kind) {
  case N_CHAR:
    emit(ps, I_CHAR, n->c, 0);
    break;
  case N_ANY:
    emit(ps, I_ANY, 0, 0);
    break;
  case N_CLASS:
    emit(ps, I_CLASS, n->c, 0);
    break;
  case N_WORDB:
    emit(ps, I_WORDB, 0, 0);
    break;
  case N_CAT:
    for (i = 0; i < n->nkids; i++) gen(ps, n->kids[i]);
    break;
  case N_GROUP:
    if (n->c >= 0) emit(ps, I_SAVE, 2 * n->c, 0);
    gen(ps, n->kids[0]);
    if (n->c >= 0) emit(ps, I_SAVE, 2 * n->c + 1, 0);
    break;
  case N_ALT: {
    int jumps[64], nj = 0;
    for (i = 0; i < n->nkids; i++) {
      if (i + 1 < n->nkids) {
        a = emit(ps, I_SPLIT, 0, 0);
        gen(ps, n->kids[i]);
        if (nj == 64) ps->failed = 1; /* more branches than kept here */
        if (nj < 64) jumps[nj++] = emit(ps, I_JMP, 0, 0);
        patch(ps, a, a + 1, here(ps));
      } else
        gen(ps, n->kids[i]);
    }
    for (i = 0; i < nj; i++) patch(ps, jumps[i], here(ps), 0);
    break;
  }
  case N_REPEAT:
    if (n->opt) { /* L: SPLIT body, end */
      a = emit(ps, I_SPLIT, 0, 0);
      gen(ps, n->kids[0]);
      b = here(ps);
      patch(ps, a, n->lazy ? b : a + 1, n->lazy ? a + 1 : b);
    } else if (n->min == 1) { /* L: body; SPLIT L, end */
      a = here(ps);
      gen(ps, n->kids[0]);
      b = emit(ps, I_SPLIT, 0, 0);
      patch(ps, b, n->lazy ? b + 1 : a, n->lazy ? a : b + 1);
    } else { /* L: SPLIT body, end; body; JMP L */
      a = emit(ps, I_SPLIT, 0, 0);
      gen(ps, n->kids[0]);
      emit(ps, I_JMP, a, 0);
      b = here(ps);
      patch(ps, a, n->lazy ? b : a + 1, n->lazy ? a + 1 : b);
    }
    break;
  }
}

void rt_rx_free(rt_rx *rx) {
  if (!rx) return;
  free(rx->code);
  free(rx->classes);
  free(rx);
}

rt_rx *rt_rx_compile(const char *pattern, int icase) {
  parser ps;
  node *root;
  rt_rx *rx = calloc(1, sizeof *rx);
  if (!rx) return NULL;
  memset(&ps, 0, sizeof ps);
  ps.p = pattern;
  ps.icase = icase;
  ps.rx = rx;
  ps.ngroups = 1;
  root = parse_alt(&ps);
  if (*ps.p) ps.failed = 1; /* an unbalanced ')' */
  emit(&ps, I_SAVE, 0, 0);
  gen(&ps, root);
  emit(&ps, I_SAVE, 1, 0);
  emit(&ps, I_MATCH, 0, 0);
  node_free(root);
  rx->ngroups = ps.ngroups;
  rx->icase = icase;
  if (ps.failed) {
    rt_rx_free(rx);
    return NULL;
  }
  return rx;
}

/* --- matching --- */

typedef struct frame {
  int pc;
  size_t sp;
  int cap[2 * RT_RX_MAXGROUPS];
} frame;

typedef struct stack {
  frame *v;
  int n, cap;
} stack;

static int push(stack *st, int pc, size_t sp, const int *cap) {
  if (st->n == st->cap) {
    int ncap = st->cap ? st->cap * 2 : 64;
    frame *v = realloc(st->v, sizeof *v * (size_t)ncap);
    if (!v) return -1;
    st->v = v;
    st->cap = ncap;
  }
  st->v[st->n].pc = pc;
  st->v[st->n].sp = sp;
  memcpy(st->v[st->n].cap, cap, sizeof st->v[st->n].cap);
  st->n++;
  return 0;
}

#define STEP_BUDGET 2000000L

/* Match at exactly `at`: 1, 0, or -1 (memory). */
static int match_at(const rt_rx *rx, const char *s, size_t len, size_t at,
                    stack *st, int *cap, long *budget) {
  int c[2 * RT_RX_MAXGROUPS];
  int i;
  for (i = 0; i < 2 * RT_RX_MAXGROUPS; i++) c[i] = -1;
  st->n = 0;
  if (push(st, 0, at, c) != 0) return -1;
  while (st->n > 0) {
    frame f = st->v[--st->n];
    int pc = f.pc;
    size_t sp = f.sp;
    for (;;) {
      const inst *in = &rx->code[pc];
      int ch = sp < len ? (unsigned char)s[sp] : -1;
      if (--*budget < 0) return 0;
      if (in->op == I_CHAR) {
        if (ch < 0 || (rx->icase ? tolower(ch) : ch) != in->x) break;
        sp++;
        pc++;
      } else if (in->op == I_ANY) {
        if (ch < 0 || ch == '\n') break;
        sp++;
        pc++;
      } else if (in->op == I_CLASS) {
        if (ch < 0 || !rx->classes[in->x].in[ch]) break;
        sp++;
        pc++;
      } else if (in->op == I_SPLIT) {
        if (push(st, in->y, sp, f.cap) != 0) return -1;
        pc = in->x;
      } else if (in->op == I_JMP) {
        pc = in->x;
      } else if (in->op == I_SAVE) {
        f.cap[in->x] = (int)sp;
        pc++;
      } else if (in->op == I_WORDB) {
        int before = sp > 0 && is_word((unsigned char)s[sp - 1]);
        int after = ch >= 0 && is_word(ch);
        if (before == after) break;
        pc++;
      } else { /* I_MATCH */
        memcpy(cap, f.cap, sizeof f.cap);
        return 1;
      }
    }
  }
  return 0;
}

int rt_rx_search(const rt_rx *rx, const char *s, size_t len, size_t from,
                 int cap[2 * RT_RX_MAXGROUPS]) {
  stack st = {NULL, 0, 0};
  long budget = STEP_BUDGET;
  size_t at;
  int rc = 0;
  for (at = from; at <= len && rc == 0; at++)
    rc = match_at(rx, s, len, at, &st, cap, &budget);
  free(st.v);
  return rc;
}
