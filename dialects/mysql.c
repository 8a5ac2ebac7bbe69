/*
** mysql.c -- the MySQL / MariaDB compile-side dialect.
*/
#include <string.h>

#include "core/compiler.h"
#include "core/schema.h"
#include "core/selectable.h"
#include "dialects/reserved.h"

static void mysql_limit(rt_compiler *c, rt_node *limit, rt_node *offset) {
  rt_strbuf *b = rt_c_buf(c);
  /* LIMIT offset, count; the largest unsigned 64-bit count means "all" */
  rt_sb_adds(b, " \n LIMIT ");
  if (offset) {
    rt_c_expr(c, offset);
    rt_sb_adds(b, ", ");
    if (limit)
      rt_c_expr(c, limit);
    else
      rt_sb_adds(b, "18446744073709551615");
  } else
    rt_c_expr(c, limit);
}

static void mysql_cast_type(rt_compiler *c, const rt_type *t) {
  rt_strbuf *b = rt_c_buf(c);
  if (!t) {
    rt_sb_adds(b, "CHAR");
    return;
  }
  switch (t->kind) {
  case RT_TY_INTEGER:
  case RT_TY_BIGINTEGER:
  case RT_TY_SMALLINTEGER:
  case RT_TY_BOOLEAN:
    rt_sb_adds(b, "SIGNED INTEGER");
    break;
  case RT_TY_STRING:
  case RT_TY_UNICODE:
    rt_sb_adds(b, "CHAR");
    if (t->length > 0) rt_sb_addf(b, "(%d)", t->length);
    break;
  case RT_TY_TEXT:
  case RT_TY_UNICODETEXT:
  case RT_TY_ENUM:
    rt_sb_adds(b, "CHAR");
    break;
  case RT_TY_NUMERIC:
    rt_sb_adds(b, "DECIMAL");
    rt_type_add_precision(b, t);
    break;
  case RT_TY_LARGEBINARY:
    rt_sb_adds(b, "BINARY");
    break;
  case RT_TY_DATE:
    rt_sb_adds(b, "DATE");
    break;
  case RT_TY_DATETIME:
    rt_sb_adds(b, "DATETIME");
    break;
  case RT_TY_TIME:
    rt_sb_adds(b, "TIME");
    break;
  case RT_TY_JSON:
    rt_sb_adds(b, "JSON");
    break;
  default:
    rt_type_ddl(b, t, "mysql");
  }
}

static void mysql_column(rt_compiler *c, rt_node *t, rt_node *col) {
  (void)t;
  rt_type *ty = col->type;
  if (ty && ty->length == 0 &&
      ((!ty->upper &&
        (ty->kind == RT_TY_STRING || ty->kind == RT_TY_UNICODE)) ||
       ty->upper == RT_UP_VARCHAR || ty->upper == RT_UP_NVARCHAR ||
       ty->upper == RT_UP_VARBINARY)) {
    rt_c_fail(c, RT_ECOMPILE, "%s requires a length on dialect mysql",
              ty->upper ? rt_type_tname(ty) : "VARCHAR");
    return;
  }
  if (col->type)
    rt_type_ddl(rt_c_buf(c), col->type, "mysql");
  else
    rt_sb_adds(rt_c_buf(c), "NULL");
}

/* func.random() is MySQL's rand(), func.sysdate() its SYSDATE(), as
** SQLAlchemy renders them */
static int mysql_func(rt_compiler *c, rt_node *f) {
  int i;
  if (strcmp(f->name, "sysdate") == 0 && f->n == 0) {
    rt_sb_adds(rt_c_buf(c), "SYSDATE()");
    return 1;
  }
  if (strcmp(f->name, "random") != 0) return 0;
  rt_sb_adds(rt_c_buf(c), "rand(");
  for (i = 0; i < f->n; i++) {
    if (i) rt_sb_adds(rt_c_buf(c), ", ");
    rt_c_expr(c, f->kids[i]);
  }
  rt_sb_addc(rt_c_buf(c), ')');
  return 1;
}

static void mysql_for_update(rt_compiler *c, rt_node *fu) {
  rt_c_for_update_of(c, fu, " LOCK IN SHARE MODE");
}

/* MySQL and MariaDB differ only in the reserved words they quote. */
#define MYSQL_DIALECT(rw, rwcount)                                             \
  {                                                                            \
    "mysql", RT_PS_QMARK, '`', '`', rw, &rwcount,                              \
        RT_DF_BOOL_WORDS | RT_DF_INNER_JOIN | RT_DF_CONCAT_FUNC |              \
            RT_DF_BACKSLASH | RT_DF_ON_DUPLICATE | RT_DF_DOUBLE_PERCENT,       \
        mysql_limit, mysql_func, mysql_cast_type, NULL, mysql_column,          \
        mysql_for_update                                                       \
  }

const rt_dialect rt_dialect_mysql =
    MYSQL_DIALECT(rt_rw_mysql, rt_rw_mysql_count);

/* SQLAlchemy's MySQL dialect once connected to MariaDB (or its mariadb
** dialect): the same in all but the reserved words it quotes. */
const rt_dialect rt_dialect_mariadb =
    MYSQL_DIALECT(rt_rw_mariadb, rt_rw_mariadb_count);
