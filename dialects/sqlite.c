/*
** sqlite.c -- the SQLite compile-side dialect, and the "default" dialect
** that renders SQLAlchemy's str(stmt) form.
*/
#include <string.h>

#include "core/compiler.h"
#include "core/schema.h"
#include "dialects/reserved.h"

/* SQLite has no LIMIT-less OFFSET: it is spelled LIMIT -1 OFFSET n, the
** -1 being a bound parameter like SQLAlchemy's (and a missing OFFSET a
** bound 0). */
static rt_node minus_one = {
    -1,   RT_N_BIND, 0,    RT_F_ANON, NULL, NULL, "param", {RT_V_INT, 0, {-1}},
    NULL, NULL,      NULL, 0,         NULL, NULL, 0,       {0}};
static rt_node zero = {
    -1,   RT_N_BIND, 0,    RT_F_ANON, NULL, NULL, "param", {RT_V_INT, 0, {0}},
    NULL, NULL,      NULL, 0,         NULL, NULL, 0,       {0}};

static void sqlite_limit(rt_compiler *c, rt_node *limit, rt_node *offset) {
  rt_strbuf *b = rt_c_buf(c);
  rt_sb_adds(b, "\n LIMIT ");
  if (limit)
    rt_c_expr(c, limit);
  else /* (SQLAlchemy renders it without literal_binds: always bound) */
    rt_c_bound_param(c, &minus_one);
  /* and OFFSET always, 0 when not given, as SQLAlchemy's does */
  rt_sb_adds(b, " OFFSET ");
  if (offset)
    rt_c_expr(c, offset);
  else
    rt_c_const_param(c, &zero);
}

static int sqlite_func(rt_compiler *c, rt_node *f) {
  if (strcmp(f->name, "now") == 0 && f->n == 0) {
    rt_sb_adds(rt_c_buf(c), "CURRENT_TIMESTAMP");
    return 1;
  }
  if (strcmp(f->name, "localtimestamp") == 0 && f->n == 0) {
    rt_sb_adds(rt_c_buf(c), "DATETIME(CURRENT_TIMESTAMP, \"localtime\")");
    return 1;
  }
  if (strcmp(f->name, "char_length") == 0) {
    int i;
    rt_sb_adds(rt_c_buf(c), "length(");
    for (i = 0; i < f->n; i++) {
      if (i) rt_sb_adds(rt_c_buf(c), ", ");
      rt_c_expr(c, f->kids[i]);
    }
    rt_sb_addc(rt_c_buf(c), ')');
    return 1;
  }
  return 0;
}

static void sqlite_extract(rt_compiler *c, rt_node *e) {
  static const char *const fields[][2] = {
      {"month", "%m"}, {"day", "%d"}, {"year", "%Y"},   {"second", "%S"},
      {"hour", "%H"},  {"doy", "%j"}, {"minute", "%M"}, {"epoch", "%s"},
      {"dow", "%w"},   {"week", "%W"}};
  size_t i;
  for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (strcmp(fields[i][0], e->name) == 0) {
      rt_sb_addf(rt_c_buf(c), "CAST(STRFTIME('%s', ", fields[i][1]);
      rt_c_expr(c, e->a);
      rt_sb_adds(rt_c_buf(c), ") AS INTEGER)");
      return;
    }
  rt_c_fail(c, RT_ECOMPILE, "%s is not a valid extract argument.", e->name);
}

static void no_for_update(rt_compiler *c, rt_node *fu) {
  (void)c;
  (void)fu;
}

const rt_dialect rt_dialect_sqlite = {
    "sqlite",
    RT_PS_QMARK,
    '"',
    '"',
    rt_rw_sqlite,
    &rt_rw_sqlite_count,
    RT_DF_RETURNING | RT_DF_ON_CONFLICT | RT_DF_EMPTY_IN_SELECT |
        RT_DF_TUPLE_IN_VALUES | RT_DF_DEFAULT_VALUES,
    sqlite_limit,
    sqlite_func,
    NULL,
    sqlite_extract,
    NULL,
    no_for_update};

const rt_dialect rt_dialect_default = {"default",
                                       RT_PS_NAMED,
                                       '"',
                                       '"',
                                       rt_rw_default,
                                       &rt_rw_default_count,
                                       RT_DF_NATIVE_BOOL | RT_DF_RETURNING |
                                           RT_DF_ON_CONFLICT |
                                           RT_DF_ON_DUPLICATE,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL};
