/*
** check_sqlite_driver.c -- the SQLite driver, the pool and the connection's
** transaction state, through the C API alone.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cancel.h"
#include "core/engine.h"
#include "check_helpers.h"

#include <pthread.h>

static rt_engine *mem_engine(void) {
  rt_error err = RT_ERROR_INIT;
  rt_engine *e = rt_engine_create("sqlite://", NULL, &err);
  ck_assert_msg(e != NULL, "%s", err.message);
  return e;
}

START_TEST(roundtrip_values) {
  rt_engine *e = mem_engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_value params[4], v;
  const rt_driver *d = e->drv;
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB)");
  params[0] = rt_vint(INT64_MAX);
  params[1] = rt_vfloat(2.5);
  params[2] = rt_vtext("h\xc3\xa9llo", 6);
  params[3] = rt_vblob("a\0b", 3);
  ck_assert_int_eq(rt_connection_execute(&c, "INSERT INTO t VALUES (?,?,?,?)",
                                         params, 4, 0, &cur, &err),
                   0);
  ck_assert_int_eq(cur->rowcount, 1);
  ck_assert_int_eq(cur->lastrowid, 1);
  d->cursor_close(cur);
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "SELECT i, f, s, b, NULL AS n FROM t",
                                         NULL, 0, 0, &cur, &err),
                   0);
  ck_assert_int_eq(cur->ncols, 5);
  ck_assert_str_eq(d->colname(cur, 4), "n");
  ck_assert_int_eq(d->coltype(cur, 0), RT_T_INTEGER);
  ck_assert_int_eq(d->coltype(cur, 3), RT_T_BLOB);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == INT64_MAX);
  d->column(cur, 1, &v);
  ck_assert(v.type == RT_V_FLOAT && v.u.f == 2.5);
  d->column(cur, 2, &v);
  ck_assert(v.type == RT_V_TEXT && v.u.s.n == 6 &&
            memcmp(v.u.s.p, "h\xc3\xa9llo", 6) == 0);
  d->column(cur, 3, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 3 &&
            memcmp(v.u.s.p, "a\0b", 3) == 0);
  d->column(cur, 4, &v);
  ck_assert(v.type == RT_V_NULL);
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(executemany_and_errors) {
  rt_engine *e = mem_engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_value rows[6];
  int64_t count = 0;
  rt_cursor *cur = NULL;
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TABLE t (x INTEGER UNIQUE, y TEXT)");
  rows[0] = rt_vint(1), rows[1] = rt_vtext("a", 1);
  rows[2] = rt_vint(2), rows[3] = rt_vtext("b", 1);
  rows[4] = rt_vint(3), rows[5] = rt_vnull();
  ck_assert_int_eq(rt_connection_executemany(&c, "INSERT INTO t VALUES (?, ?)",
                                             rows, 2, 3, &count, &err),
                   0);
  ck_assert_int_eq(count, 3);
  /* a duplicate is an IntegrityError with SQLite's extended code */
  ck_assert_int_eq(rt_connection_executemany(&c, "INSERT INTO t VALUES (?, ?)",
                                             rows, 2, 1, &count, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EINTEGRITY);
  ck_assert_str_eq(err.message, "UNIQUE constraint failed: t.x");
  ck_assert_str_eq(err.code, "2067");
  /* a syntax error is an OperationalError (as pysqlite reports every
  ** SQLITE_ERROR) with the position */
  ck_assert_int_eq(rt_connection_execute(&c, "SELEC 1", NULL, 0, 0, &cur, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_str_eq(err.message, "near \"SELEC\": syntax error");
  ck_assert_int_eq(err.position, 1);
  /* a missing table is an OperationalError, as pysqlite says */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT * FROM nope", NULL, 0, 0, &cur, &err),
      -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_str_eq(err.message, "no such table: nope");
  /* wrong parameter count */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT ?", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

static int64_t count_rows(rt_connection *c) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_value v;
  ck_assert_int_eq(rt_connection_execute(c, "SELECT count(*) FROM t", NULL, 0,
                                         0, &cur, &err),
                   0);
  ck_assert_int_eq(cur->conn->drv->fetch(cur, &err), 1);
  cur->conn->drv->column(cur, 0, &v);
  cur->conn->drv->cursor_close(cur);
  return v.u.i;
}

START_TEST(transactions_and_memory_sharing) {
  rt_engine *e = mem_engine();
  rt_connection c1, c2;
  rt_error err = RT_ERROR_INIT;
  rt_connection_init(&c1, e);
  rt_connection_init(&c2, e);
  exec_ok(&c1, "CREATE TABLE t (x INTEGER)");
  ck_assert_int_eq(rt_connection_commit(&c1, &err), 0);
  exec_ok(&c1, "INSERT INTO t VALUES (1)");
  ck_assert(c1.in_tx);
  ck_assert_int_eq(rt_connection_rollback(&c1, &err), 0);
  ck_assert_int_eq(count_rows(&c1), 0);
  exec_ok(&c1, "INSERT INTO t VALUES (1)");
  ck_assert_int_eq(rt_connection_commit(&c1, &err), 0);
  /* a second connection to sqlite:// sees the same in-memory database */
  ck_assert_int_eq(count_rows(&c2), 1);
  /* close never commits */
  exec_ok(&c2, "INSERT INTO t VALUES (2)");
  rt_connection_close(&c2);
  ck_assert_int_eq(count_rows(&c1), 1);
  ck_assert_int_eq(rt_connection_commit(&c1, &err), 0);
  rt_connection_close(&c1);
  ck_assert_int_eq(rt_connection_commit(&c1, &err), -1);
  ck_assert_int_eq(err.kind, RT_ERESOURCECLOSED);
  rt_error_clear(&err);
  rt_engine_free(e);
}
END_TEST

START_TEST(file_pool_reuses_connections) {
  char path[] = "/tmp/retort-check-XXXXXX";
  char url[64];
  int fd = mkstemp(path);
  rt_error err = RT_ERROR_INIT;
  rt_engine_opts o;
  rt_engine *e;
  rt_connection c1, c2, c3;
  ck_assert_int_ge(fd, 0);
  close(fd);
  snprintf(url, sizeof url, "sqlite:///%s", path);
  rt_engine_defaults(&o);
  o.pool.kind = RT_POOL_QUEUE; /* a file's default is NullPool */
  o.pool.pool_size = 1;
  o.pool.max_overflow = 1;
  o.pool.pool_timeout = 0;
  e = rt_engine_create(url, &o, &err);
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c1, e);
  rt_connection_init(&c2, e);
  rt_connection_init(&c3, e);
  ck_assert_int_eq(rt_connection_acquire(&c1, &err), 0);
  ck_assert_int_eq(rt_connection_acquire(&c2, &err), 0);
  ck_assert_int_eq(rt_pool_checkedout(&e->pool), 2);
  /* size 1 + overflow 1 are out: the third times out */
  ck_assert_int_eq(rt_connection_acquire(&c3, &err), -1);
  ck_assert_int_eq(err.kind, RT_ETIMEOUT);
  rt_connection_close(&c1);
  rt_connection_close(&c2);
  /* one is kept (pool_size 1), the overflow one is closed */
  ck_assert_int_eq(rt_pool_idle(&e->pool), 1);
  ck_assert_int_eq(rt_connection_acquire(&c3, &err), 0);
  ck_assert_int_eq(rt_pool_idle(&e->pool), 0);
  rt_connection_close(&c3);
  rt_error_clear(&err);
  rt_engine_free(e);
  unlink(path);
}
END_TEST

static int has_marker(rt_connection *c);

START_TEST(file_default_is_nullpool) {
  char path[] = "/tmp/retort-check-XXXXXX";
  char url[64];
  int fd = mkstemp(path);
  rt_error err = RT_ERROR_INIT;
  rt_engine *e;
  rt_connection c;
  close(fd);
  snprintf(url, sizeof url, "sqlite:///%s", path);
  e = rt_engine_create(url, NULL, &err);
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(e->pool.opts.kind, RT_POOL_NULL);
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TEMP TABLE m (x INTEGER)");
  ck_assert(has_marker(&c));
  rt_connection_close(&c);
  /* nothing is kept: the next checkout is a new connection */
  ck_assert_int_eq(rt_pool_idle(&e->pool), 0);
  rt_connection_init(&c, e);
  ck_assert(!has_marker(&c));
  rt_connection_close(&c);
  ck_assert_int_eq((int)e->pool.nconnects, 2);
  rt_engine_free(e);
  unlink(path);
}
END_TEST

START_TEST(bad_file_names_the_file) {
  rt_error err = RT_ERROR_INIT;
  rt_engine *e =
      rt_engine_create("sqlite:////nonexistent-dir/x.db", NULL, &err);
  rt_connection c;
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_acquire(&c, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_ptr_nonnull(strstr(err.message, "/nonexistent-dir/x.db"));
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
  ck_assert_ptr_null(rt_engine_create("nosuchdb://x", NULL, &err));
  ck_assert_int_eq(err.kind, RT_EARGUMENT);
  rt_error_clear(&err);
}
END_TEST

/* a TEMP table lives and dies with its driver connection */
static int has_marker(rt_connection *c) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  int found;
  ck_assert_int_eq(rt_connection_execute(
                       c, "SELECT 1 FROM sqlite_temp_master WHERE name = 'm'",
                       NULL, 0, 0, &cur, &err),
                   0);
  found = cur->conn->drv->fetch(cur, &err) == 1;
  cur->conn->drv->cursor_close(cur);
  return found;
}

START_TEST(pool_recycle_replaces_old_connections) {
  char path[] = "/tmp/retort-check-XXXXXX";
  char url[64];
  int fd = mkstemp(path);
  rt_error err = RT_ERROR_INIT;
  rt_engine_opts o;
  rt_engine *e;
  rt_connection c;
  close(fd);
  snprintf(url, sizeof url, "sqlite:///%s", path);
  rt_engine_defaults(&o);
  o.pool.kind = RT_POOL_QUEUE;
  o.pool.pool_recycle = 0.2;
  e = rt_engine_create(url, &o, &err);
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TEMP TABLE m (x INTEGER)");
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  rt_connection_close(&c);
  /* young enough: the same driver connection comes back */
  rt_connection_init(&c, e);
  ck_assert(has_marker(&c));
  rt_connection_close(&c);
  usleep(300000);
  /* older than pool_recycle: replaced by a new one */
  rt_connection_init(&c, e);
  ck_assert(!has_marker(&c));
  rt_connection_close(&c);
  rt_engine_free(e);
  unlink(path);
}
END_TEST

START_TEST(isolation_levels_sqlite) {
  rt_error err = RT_ERROR_INIT;
  rt_engine_opts o;
  rt_engine *e;
  rt_connection c;
  const char *name = NULL;
  rt_isolation level;
  rt_engine_defaults(&o);
  o.isolation_level = "read uncommitted";
  e = rt_engine_create("sqlite://", &o, &err);
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_get_isolation(&c, &name, &err), 0);
  ck_assert_str_eq(name, "READ UNCOMMITTED");
  ck_assert_int_eq(rt_isolation_parse(e, "SERIALIZABLE", &level, &err), 0);
  ck_assert_int_eq(rt_connection_set_isolation(&c, level, &err), 0);
  ck_assert_int_eq(rt_connection_get_isolation(&c, &name, &err), 0);
  ck_assert_str_eq(name, "SERIALIZABLE");
  /* SQLite has no READ COMMITTED */
  ck_assert_int_eq(rt_isolation_parse(e, "READ COMMITTED", &level, &err), -1);
  ck_assert_int_eq(err.kind, RT_EARGUMENT);
  ck_assert_str_eq(err.message,
                   "Invalid value 'READ COMMITTED' for isolation_level. Valid "
                   "isolation levels for sqlite are READ UNCOMMITTED, "
                   "SERIALIZABLE, AUTOCOMMIT");
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

static void *cancel_soon(void *arg) {
  int *was = arg;
  usleep(150000);
  *was = rt_cancel_running();
  return NULL;
}

START_TEST(cancel_interrupts_a_running_query) {
  rt_engine *e = mem_engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  pthread_t th;
  int was = -1, rc;
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_cancel_running(), 0); /* nothing runs */
  pthread_create(&th, NULL, cancel_soon, &was);
  rc = rt_connection_execute(
      &c,
      "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
      "SELECT count(*) FROM r",
      NULL, 0, 0, &cur, &err);
  pthread_join(th, NULL);
  ck_assert_int_eq(rc, -1);
  ck_assert_int_eq(was, 1);
  ck_assert_int_eq(err.kind, RT_ECANCELED);
  ck_assert(rt_errkind_isa(err.kind, RT_EOPERATIONAL));
  ck_assert_str_eq(err.message, "interrupted");
  rt_error_clear(&err);
  /* the connection still works */
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  exec_ok(&c, "SELECT 1");
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sqlite_driver");
  TCase *tc = tcase_create("sqlite");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, roundtrip_values);
  tcase_add_test(tc, executemany_and_errors);
  tcase_add_test(tc, transactions_and_memory_sharing);
  tcase_add_test(tc, file_pool_reuses_connections);
  tcase_add_test(tc, file_default_is_nullpool);
  tcase_add_test(tc, bad_file_names_the_file);
  tcase_add_test(tc, pool_recycle_replaces_old_connections);
  tcase_add_test(tc, isolation_levels_sqlite);
  tcase_add_test(tc, cancel_interrupts_a_running_query);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
