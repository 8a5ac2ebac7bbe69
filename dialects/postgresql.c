/*
** postgresql.c -- the PostgreSQL compile-side dialect.
*/
#include <string.h>

#include "core/compiler.h"
#include "core/schema.h"
#include "core/selectable.h"
#include "dialects/reserved.h"

static void pg_limit(rt_compiler *c, rt_node *limit, rt_node *offset) {
  rt_strbuf *b = rt_c_buf(c);
  if (limit) {
    rt_sb_adds(b, " \n LIMIT ");
    rt_c_expr(c, limit);
  }
  if (offset) {
    if (!limit) rt_sb_adds(b, " \n LIMIT ALL");
    rt_sb_adds(b, " OFFSET ");
    rt_c_expr(c, offset);
  }
}

static void pg_column(rt_compiler *c, rt_node *t, rt_node *col) {
  rt_strbuf *b = rt_c_buf(c);
  /* a Sequence, an identity or a client-side default supplies the
  ** values, not SERIAL */
  if (rt_column_is_serial(t, col)) {
    switch (col->type->kind) {
    case RT_TY_BIGINTEGER:
      rt_sb_adds(b, "BIGSERIAL");
      return;
    case RT_TY_SMALLINTEGER:
      rt_sb_adds(b, "SMALLSERIAL");
      return;
    default:
      rt_sb_adds(b, "SERIAL");
      return;
    }
  }
  if (col->type)
    rt_type_ddl(b, col->type, "postgresql");
  else
    rt_sb_adds(b, "NULL");
}

static void pg_for_update(rt_compiler *c, rt_node *fu) {
  rt_c_for_update_of(c, fu, " FOR SHARE");
}

/* key_share: FOR NO KEY UPDATE, or FOR KEY SHARE when read */
static void pg_for_update_key(rt_compiler *c, rt_node *fu) {
  if (!(fu->flags & RT_FU_KEY_SHARE)) {
    pg_for_update(c, fu);
    return;
  }
  rt_c_for_update_of(c, fu, " FOR KEY SHARE");
}

const rt_dialect rt_dialect_postgresql = {
    "postgresql",
    RT_PS_DOLLAR,
    '"',
    '"',
    rt_rw_postgresql,
    &rt_rw_postgresql_count,
    RT_DF_NATIVE_BOOL | RT_DF_BACKSLASH | RT_DF_ILIKE | RT_DF_RETURNING |
        RT_DF_ON_CONFLICT | RT_DF_IMPLICIT_RETURNING | RT_DF_SEQUENCES |
        RT_DF_DEFAULT_VALUES | RT_DF_DOUBLE_PERCENT,
    pg_limit,
    NULL,
    NULL,
    NULL,
    pg_column,
    pg_for_update_key};
