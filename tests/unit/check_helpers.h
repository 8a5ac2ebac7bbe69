/*
** check_helpers.h -- what the driver unit tests share: running a statement
** that must succeed, and reading a one-row, one-column integer.
*/
#ifndef CHECK_HELPERS_H
#define CHECK_HELPERS_H

#include <check.h>

#include "core/engine.h"

static inline void exec_ok(rt_connection *c, const char *sql) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  ck_assert_msg(rt_connection_execute(c, sql, NULL, 0, 0, &cur, &err) == 0,
                "%s: %s", sql, err.message);
  cur->conn->drv->cursor_close(cur);
}

/* The single value of a one-row, one-column query, as an integer. */
static inline int64_t scalar_int(rt_connection *c, const char *sql) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_value v;
  ck_assert_msg(rt_connection_execute(c, sql, NULL, 0, 0, &cur, &err) == 0,
                "%s: %s", sql, err.message);
  ck_assert_int_eq(cur->conn->drv->fetch(cur, &err), 1);
  cur->conn->drv->column(cur, 0, &v);
  ck_assert_int_eq(v.type, RT_V_INT);
  cur->conn->drv->cursor_close(cur);
  return v.u.i;
}

#endif
