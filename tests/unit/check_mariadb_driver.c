/*
** check_mariadb_driver.c -- the MySQL/MariaDB driver against a live server
** named by RETORT_TEST_MYSQL (skipped when it is not set).
*/
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "check_helpers.h"

static const char *test_url;

static rt_engine *engine(void) {
  rt_error err = RT_ERROR_INIT;
  rt_engine *e = rt_engine_create(test_url, NULL, &err);
  ck_assert_msg(e != NULL, "%s", err.message);
  return e;
}

/* A session status counter (SHOW STATUS answers text). */
static long status(rt_connection *c, const char *name) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_value v;
  char sql[96], buf[32];
  snprintf(sql, sizeof sql, "SHOW SESSION STATUS LIKE '%s'", name);
  ck_assert_int_eq(rt_connection_execute(c, sql, NULL, 0, 0, &cur, &err), 0);
  ck_assert_int_eq(cur->conn->drv->fetch(cur, &err), 1);
  cur->conn->drv->column(cur, 1, &v);
  ck_assert_int_eq(v.type, RT_V_TEXT);
  snprintf(buf, sizeof buf, "%.*s", (int)v.u.s.n, v.u.s.p);
  cur->conn->drv->cursor_close(cur);
  return atol(buf);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void assert_text(const rt_value *v, const char *s) {
  ck_assert_msg(v->type == RT_V_TEXT, "type %d, not text", (int)v->type);
  ck_assert_msg(v->u.s.n == strlen(s) && memcmp(v->u.s.p, s, v->u.s.n) == 0,
                "'%.*s' != '%s'", (int)v->u.s.n, v->u.s.p, s);
}

START_TEST(roundtrip_values) {
  static const char emoji[] = "h\xc3\xa9llo \xf0\x9f\x98\x80";
  rt_engine *e = engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_value p[12], v;
  const rt_driver *d = e->drv;
  rt_connection_init(&c, e);
  exec_ok(&c, "DROP TABLE IF EXISTS rt_values");
  exec_ok(&c, "CREATE TABLE rt_values (lo BIGINT, hi BIGINT, f DOUBLE, "
              "s VARCHAR(40), b BLOB, n INT, d DECIMAL(10,3), dt DATE, "
              "ts DATETIME(6), tm TIME, flag TINYINT(1), u BIGINT UNSIGNED)");
  p[0] = rt_vint(INT64_MIN);
  p[1] = rt_vint(INT64_MAX);
  p[2] = rt_vfloat(-2.5e-300);
  p[3] = rt_vtext(emoji, strlen(emoji));
  p[4] = rt_vblob("a\0b\0", 4);
  p[5] = rt_vnull();
  p[6] = rt_vtext("12345.678", 9);
  p[7] = rt_vtext("2024-02-29", 10);
  p[8] = rt_vtext("2024-02-29 13:14:15.000123", 26);
  p[9] = rt_vtext("-838:59:59", 10);
  p[10] = rt_vbool(1);
  p[11] = rt_vtext("18446744073709551615", 20);
  ck_assert_msg(rt_connection_execute(
                    &c,
                    "INSERT INTO rt_values VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", p,
                    12, 0, &cur, &err) == 0,
                "%s", err.message);
  ck_assert_int_eq(cur->ncols, 0);
  ck_assert_int_eq(cur->rowcount, 1);
  d->cursor_close(cur);
  ck_assert_msg(rt_connection_execute(&c, "SELECT * FROM rt_values", NULL, 0, 0,
                                      &cur, &err) == 0,
                "%s", err.message);
  ck_assert_int_eq(cur->ncols, 12);
  /* a stored result counts its rows, as mysqlclient's cursor does */
  ck_assert_int_eq(cur->rowcount, 1);
  ck_assert_str_eq(d->colname(cur, 0), "lo");
  ck_assert_str_eq(d->colname(cur, 10), "flag");
  ck_assert_int_eq(d->coltype(cur, 0), RT_T_INTEGER);
  ck_assert_int_eq(d->coltype(cur, 2), RT_T_FLOAT);
  ck_assert_int_eq(d->coltype(cur, 3), RT_T_TEXT);
  ck_assert_int_eq(d->coltype(cur, 4), RT_T_BLOB);
  ck_assert_int_eq(d->coltype(cur, 5), RT_T_INTEGER);
  ck_assert_int_eq(d->coltype(cur, 6), RT_T_NUMERIC);
  ck_assert_int_eq(d->coltype(cur, 7), RT_T_DATE);
  ck_assert_int_eq(d->coltype(cur, 8), RT_T_DATETIME);
  ck_assert_int_eq(d->coltype(cur, 9), RT_T_TIME);
  ck_assert_int_eq(d->coltype(cur, 10), RT_T_BOOLEAN);
  ck_assert_int_eq(d->coltype(cur, 11), RT_T_INTEGER);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == INT64_MIN);
  d->column(cur, 1, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == INT64_MAX);
  d->column(cur, 2, &v);
  ck_assert(v.type == RT_V_FLOAT && v.u.f == -2.5e-300);
  d->column(cur, 3, &v);
  assert_text(&v, emoji);
  d->column(cur, 4, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 4 &&
            memcmp(v.u.s.p, "a\0b\0", 4) == 0);
  d->column(cur, 5, &v);
  ck_assert(v.type == RT_V_NULL);
  d->column(cur, 6, &v);
  assert_text(&v, "12345.678");
  d->column(cur, 7, &v);
  assert_text(&v, "2024-02-29");
  d->column(cur, 8, &v);
  assert_text(&v, "2024-02-29 13:14:15.000123");
  d->column(cur, 9, &v);
  assert_text(&v, "-838:59:59");
  d->column(cur, 10, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 1);
  /* above INT64_MAX: exact text rather than a rounded float */
  d->column(cur, 11, &v);
  assert_text(&v, "18446744073709551615");
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur);
  /* expressions: FLOAT keeps its short value, BIT is an integer, a binary
  ** string a blob, JSON is recognised */
  ck_assert_msg(rt_connection_execute(&c,
                                      "SELECT CAST(0.1 AS FLOAT), b'101', "
                                      "CAST('ab' AS BINARY), "
                                      "JSON_OBJECT('a', 1), NULL, 7 DIV 2",
                                      NULL, 0, 0, &cur, &err) == 0,
                "%s", err.message);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_FLOAT && v.u.f == 0.1);
  d->column(cur, 1, &v);
  ck_assert_msg(v.type == RT_V_BLOB || v.type == RT_V_INT, "bit literal");
  d->column(cur, 2, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 2);
  ck_assert_int_eq(d->coltype(cur, 2), RT_T_BLOB);
  d->column(cur, 3, &v);
  assert_text(&v, "{\"a\": 1}");
  d->column(cur, 4, &v);
  ck_assert(v.type == RT_V_NULL);
  d->column(cur, 5, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 3);
  d->cursor_close(cur);
  /* a real BIT(1) column and a JSON column */
  exec_ok(&c, "DROP TABLE IF EXISTS rt_bits");
  exec_ok(&c, "CREATE TABLE rt_bits (b BIT(1), w BIT(12), j JSON, "
              "y YEAR, big LONGTEXT)");
  exec_ok(&c, "INSERT INTO rt_bits VALUES (b'1', b'101010101010', "
              "'[1, 2]', 2024, REPEAT('x', 100000))");
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT * FROM rt_bits", NULL, 0,
                                         RT_EXEC_STREAM, &cur, &err),
                   0);
  ck_assert_int_eq(d->coltype(cur, 0), RT_T_INTEGER);
  ck_assert_int_eq(d->coltype(cur, 2), RT_T_JSON);
  ck_assert_int_eq(d->coltype(cur, 3), RT_T_INTEGER);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 1);
  d->column(cur, 1, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 0xAAA);
  d->column(cur, 2, &v);
  assert_text(&v, "[1, 2]");
  d->column(cur, 3, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 2024);
  /* streamed, so this one was read again into a bigger buffer */
  d->column(cur, 4, &v);
  ck_assert(v.type == RT_V_TEXT && v.u.s.n == 100000 && v.u.s.p[99999] == 'x');
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur);
  exec_ok(&c, "DROP TABLE rt_values");
  exec_ok(&c, "DROP TABLE rt_bits");
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(rowcount_lastrowid_and_cache) {
  rt_engine *e = engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL, *cur2 = NULL;
  rt_value p[1], v;
  const rt_driver *d = e->drv;
  int i;
  rt_connection_init(&c, e);
  exec_ok(&c, "DROP TABLE IF EXISTS rt_auto");
  exec_ok(&c, "CREATE TABLE rt_auto (id INT AUTO_INCREMENT PRIMARY KEY, "
              "x INT)");
  for (i = 1; i <= 3; i++) {
    p[0] = rt_vint(i * 10);
    ck_assert_int_eq(rt_connection_execute(&c,
                                           "INSERT INTO rt_auto (x) VALUES (?)",
                                           p, 1, 0, &cur, &err),
                     0);
    ck_assert_int_eq(cur->rowcount, 1);
    ck_assert_int_eq(cur->lastrowid, i);
    d->cursor_close(cur);
  }
  /* an UPDATE reports matched rows, as SQLAlchemy's dialects ask */
  ck_assert_int_eq(rt_connection_execute(&c, "UPDATE rt_auto SET x = 10", NULL,
                                         0, 0, &cur, &err),
                   0);
  ck_assert_int_eq(cur->rowcount, 3);
  d->cursor_close(cur);
  /* the same text twice at once: the second gets a private statement */
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT id FROM rt_auto", NULL, 0,
                                         0, &cur, &err),
                   0);
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT id FROM rt_auto", NULL, 0,
                                         0, &cur2, &err),
                   0);
  for (i = 1; i <= 3; i++) {
    ck_assert_int_eq(d->fetch(cur, &err), 1);
    ck_assert_int_eq(d->fetch(cur2, &err), 1);
    d->column(cur, 0, &v);
    ck_assert_int_eq(v.u.i, i);
    d->column(cur2, 0, &v);
    ck_assert_int_eq(v.u.i, i);
  }
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur2);
  d->cursor_close(cur);
  /* statements the server won't prepare go through the text protocol */
  exec_ok(&c, "PREPARE rt_s FROM 'SELECT 42 AS answer, ''t'', 2.5e0, "
              "NULL, CAST(''b'' AS BINARY), 18446744073709551615'");
  ck_assert_int_eq(
      rt_connection_execute(&c, "EXECUTE rt_s", NULL, 0, 0, &cur, &err), 0);
  ck_assert_int_eq(cur->ncols, 6);
  ck_assert_str_eq(d->colname(cur, 0), "answer");
  ck_assert_int_eq(d->coltype(cur, 0), RT_T_INTEGER);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 42);
  d->column(cur, 1, &v);
  assert_text(&v, "t");
  d->column(cur, 2, &v);
  ck_assert(v.type == RT_V_FLOAT && v.u.f == 2.5);
  d->column(cur, 3, &v);
  ck_assert(v.type == RT_V_NULL);
  d->column(cur, 4, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 1);
  d->column(cur, 5, &v);
  assert_text(&v, "18446744073709551615");
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur);
  ck_assert_int_eq(rt_connection_execute(&c, "EXECUTE rt_s", NULL, 0,
                                         RT_EXEC_STREAM, &cur, &err),
                   0);
  d->cursor_close(cur); /* unread: closing drops the rows */
  exec_ok(&c, "DEALLOCATE PREPARE rt_s");
  ck_assert_int_eq(scalar_int(&c, "SELECT count(*) FROM rt_auto"), 3);
  /* ... but only without parameters */
  p[0] = rt_vint(1);
  ck_assert_int_eq(
      rt_connection_execute(&c, "EXECUTE rt_s", p, 1, 0, &cur, &err), -1);
  ck_assert_str_eq(err.code, "1295");
  /* wrong parameter count */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT ?", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  rt_error_clear(&err);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  exec_ok(&c, "DROP TABLE rt_auto");
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(executemany_bulk_and_errors) {
  rt_engine *e = engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_value *rows = malloc(sizeof *rows * 3000);
  char(*names)[16] = malloc(16 * 1000);
  int64_t count = 0;
  rt_cursor *cur = NULL;
  long executes;
  int i;
  rt_connection_init(&c, e);
  exec_ok(&c, "DROP TABLE IF EXISTS rt_many");
  exec_ok(&c, "CREATE TABLE rt_many (x INT PRIMARY KEY, y VARCHAR(16), "
              "z DOUBLE)");
  for (i = 0; i < 1000; i++) {
    snprintf(names[i], 16, "row %d", i);
    rows[3 * i] = rt_vint(i);
    rows[3 * i + 1] = i % 7 ? rt_vtext(names[i], strlen(names[i])) : rt_vnull();
    rows[3 * i + 2] = rt_vfloat(i / 4.0);
  }
  executes = status(&c, "Com_stmt_execute");
  ck_assert_msg(rt_connection_executemany(&c,
                                          "INSERT INTO rt_many VALUES (?,?,?)",
                                          rows, 3, 1000, &count, &err) == 0,
                "%s", err.message);
  ck_assert_int_eq(count, 1000);
  /* MariaDB sends the 1000 rows in one bulk execution (the SHOW STATUS
  ** itself is the other one) */
  if (strstr(e->drv->server_version(c.dbc), "MariaDB"))
    ck_assert_int_le(status(&c, "Com_stmt_execute") - executes, 2);
  ck_assert_int_eq(scalar_int(&c, "SELECT count(*) FROM rt_many"), 1000);
  ck_assert_int_eq(
      scalar_int(&c, "SELECT count(*) FROM rt_many WHERE y IS NULL"), 143);
  ck_assert_int_eq(
      scalar_int(&c, "SELECT count(*) FROM rt_many WHERE y = 'row 999' "
                     "AND z = 249.75"),
      1);
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  /* mixed types in one column go row by row, with the same total */
  rows[0] = rt_vint(2000), rows[1] = rt_vtext("a", 1), rows[2] = rt_vint(1);
  rows[3] = rt_vint(2001), rows[4] = rt_vint(5), rows[5] = rt_vfloat(1.5);
  ck_assert_msg(rt_connection_executemany(&c,
                                          "INSERT INTO rt_many VALUES (?,?,?)",
                                          rows, 3, 2, &count, &err) == 0,
                "%s", err.message);
  ck_assert_int_eq(count, 2);
  /* an UPDATE in bulk: the total of matched rows */
  rows[0] = rt_vint(1), rows[1] = rt_vint(2), rows[2] = rt_vint(3);
  ck_assert_msg(
      rt_connection_executemany(&c, "UPDATE rt_many SET z = 0 WHERE x < ?",
                                rows, 1, 3, &count, &err) == 0,
      "%s", err.message);
  ck_assert_int_eq(count, 1 + 2 + 3);
  /* a duplicate key in a batch is an IntegrityError 1062 */
  rows[0] = rt_vint(5000), rows[1] = rt_vtext("new", 3);
  rows[2] = rt_vfloat(0);
  rows[3] = rt_vint(5), rows[4] = rt_vtext("dup", 3), rows[5] = rt_vfloat(0);
  ck_assert_int_eq(
      rt_connection_executemany(&c, "INSERT INTO rt_many VALUES (?,?,?)", rows,
                                3, 2, &count, &err),
      -1);
  ck_assert_int_eq(err.kind, RT_EINTEGRITY);
  ck_assert_str_eq(err.code, "1062");
  ck_assert_str_eq(err.message, "Duplicate entry '5' for key 'PRIMARY'");
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* the connection is still usable, and the batch left nothing behind */
  ck_assert_int_eq(
      scalar_int(&c, "SELECT count(*) FROM rt_many WHERE x >= 2000"), 0);
  /* a syntax error is a ProgrammingError 1064 */
  ck_assert_int_eq(rt_connection_execute(&c, "SELEC 1", NULL, 0, 0, &cur, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_str_eq(err.code, "1064");
  ck_assert_ptr_nonnull(strstr(err.message, "You have an error in your SQL"));
  /* a missing table is a ProgrammingError 1146 */
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT * FROM rt_nope", NULL, 0,
                                         0, &cur, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_str_eq(err.code, "1146");
  ck_assert_str_eq(err.message, "Table 'retort_test.rt_nope' doesn't exist");
  /* NOT NULL (an OperationalError to mysqlclient) and out of range */
  rows[0] = rt_vnull();
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "INSERT INTO rt_many (x) VALUES (?)",
                                         rows, 1, 0, &cur, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_str_eq(err.code, "1048");
  rows[0] = rt_vint(INT64_MAX);
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "INSERT INTO rt_many (x) VALUES (?)",
                                         rows, 1, 0, &cur, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EDATA);
  ck_assert_str_eq(err.code, "1264");
  rt_error_clear(&err);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  exec_ok(&c, "DROP TABLE rt_many");
  rt_connection_close(&c);
  rt_engine_free(e);
  free(rows);
  free(names);
}
END_TEST

START_TEST(wrong_password) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u = rt_url_parse(test_url, &err);
  rt_engine *e;
  rt_connection c;
  char *url;
  ck_assert_ptr_nonnull(u);
  free(u->password);
  u->password = strdup("Sekr1t-pa55");
  url = rt_url_render(u, 0);
  rt_url_free(u);
  e = rt_engine_create(url, NULL, &err);
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_acquire(&c, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_str_eq(err.code, "1045");
  ck_assert_ptr_nonnull(strstr(err.message, "Access denied"));
  ck_assert_ptr_null(strstr(err.message, "Sekr1t-pa55"));
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
  free(url);
}
END_TEST

START_TEST(streaming) {
  static char padding[300];
  rt_engine *e = engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL, *other = NULL, *a = NULL, *b = NULL;
  const rt_driver *d = e->drv;
  rt_value v;
  int i;
  rt_value *rows = malloc(sizeof *rows * 20000);
  int64_t count;
  memset(padding, 'y', sizeof padding);
  rt_connection_init(&c, e);
  exec_ok(&c, "DROP TABLE IF EXISTS rt_stream");
  exec_ok(&c, "CREATE TABLE rt_stream (i INT PRIMARY KEY, s TEXT)");
  for (i = 0; i < 10000; i++) {
    rows[2 * i] = rt_vint(i + 1);
    rows[2 * i + 1] = rt_vtext(padding, (size_t)((i + 1) % 300));
  }
  ck_assert_int_eq(rt_connection_executemany(&c,
                                             "INSERT INTO rt_stream "
                                             "VALUES (?, ?)",
                                             rows, 2, 10000, &count, &err),
                   0);
  ck_assert_int_eq(count, 10000);
  free(rows);
  ck_assert_msg(rt_connection_execute(&c,
                                      "SELECT i, s FROM rt_stream ORDER BY i",
                                      NULL, 0, RT_EXEC_STREAM, &cur, &err) == 0,
                "%s", err.message);
  for (i = 1; i <= 5000; i++) {
    ck_assert_int_eq(d->fetch(cur, &err), 1);
    d->column(cur, 0, &v);
    ck_assert_int_eq(v.u.i, i);
    d->column(cur, 1, &v);
    ck_assert_int_eq((int)v.u.s.n, i % 300);
  }
  /* while the stream is open the connection can do nothing else */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1", NULL, 0, 0, &other, &err), -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_str_eq(err.code, "2014");
  d->cursor_close(cur);
  ck_assert_int_eq(scalar_int(&c, "SELECT 41 + 1"), 42);
  /* stored results opened before a stream are read and closed while it
  ** runs, without disturbing it (one of them on a private statement) */
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "SELECT i FROM rt_stream "
                                         "WHERE i <= 3 ORDER BY i",
                                         NULL, 0, 0, &a, &err),
                   0);
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "SELECT i FROM rt_stream "
                                         "WHERE i <= 3 ORDER BY i",
                                         NULL, 0, 0, &b, &err),
                   0);
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "SELECT i FROM rt_stream "
                                         "ORDER BY i",
                                         NULL, 0, RT_EXEC_STREAM, &cur, &err),
                   0);
  for (i = 1; i <= 3; i++) {
    ck_assert_int_eq(d->fetch(a, &err), 1);
    if (i < 3) ck_assert_int_eq(d->fetch(b, &err), 1);
    ck_assert_int_eq(d->fetch(cur, &err), 1);
    d->column(cur, 0, &v);
    ck_assert_int_eq(v.u.i, i);
  }
  /* one read to its end, one closed early */
  ck_assert_int_eq(d->fetch(a, &err), 0);
  d->cursor_close(a);
  d->cursor_close(b);
  for (i = 4; i <= 5000; i++) {
    ck_assert_int_eq(d->fetch(cur, &err), 1);
    d->column(cur, 0, &v);
    ck_assert_int_eq(v.u.i, i);
  }
  d->cursor_close(cur);
  ck_assert_int_eq(scalar_int(&c, "SELECT count(*) FROM rt_stream"), 10000);
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "SELECT i FROM rt_stream "
                                         "WHERE i <= 3 ORDER BY i",
                                         NULL, 0, 0, &a, &err),
                   0);
  ck_assert_int_eq(d->fetch(a, &err), 1);
  d->cursor_close(a);
  /* a stream read to its end frees the connection by itself */
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT 1 UNION SELECT 2", NULL, 0,
                                         RT_EXEC_STREAM, &cur, &err),
                   0);
  while (d->fetch(cur, &err) == 1) continue;
  ck_assert_int_eq(scalar_int(&c, "SELECT 7"), 7);
  d->cursor_close(cur);
  rt_error_clear(&err);
  exec_ok(&c, "DROP TABLE rt_stream");
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

typedef struct canceller {
  rt_connection *c;
  int delay_ms;
} canceller;

static void *cancel_later(void *ud) {
  canceller *k = ud;
  usleep((useconds_t)k->delay_ms * 1000);
  rt_connection_cancel(k->c);
  return NULL;
}

START_TEST(cancel_from_another_thread) {
  rt_engine *e = engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  pthread_t th;
  canceller k;
  double t0;
  rt_value v;
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_acquire(&c, &err), 0);
  k.c = &c;
  k.delay_ms = 300;
  /* MySQL's SLEEP answers 1 when killed, MariaDB's fails: either way it
  ** must come back early */
  pthread_create(&th, NULL, cancel_later, &k);
  t0 = now();
  if (rt_connection_execute(&c, "SELECT SLEEP(30)", NULL, 0, 0, &cur, &err) ==
      0) {
    ck_assert_int_eq(e->drv->fetch(cur, &err), 1);
    e->drv->column(cur, 0, &v);
    ck_assert(v.type == RT_V_INT && v.u.i == 1);
    e->drv->cursor_close(cur);
  } else {
    ck_assert_int_eq(err.kind, RT_ECANCELED);
    ck_assert_str_eq(err.code, "1317");
    ck_assert_str_eq(err.message, "Query execution was interrupted");
    ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  }
  pthread_join(th, NULL);
  ck_assert_msg(now() - t0 < 10, "SLEEP was not interrupted");
  /* a long join is interrupted with an error */
  pthread_create(&th, NULL, cancel_later, &k);
  t0 = now();
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "SELECT COUNT(*) FROM "
                                         "information_schema.columns a, "
                                         "information_schema.columns b, "
                                         "information_schema.columns c",
                                         NULL, 0, 0, &cur, &err),
                   -1);
  pthread_join(th, NULL);
  ck_assert_msg(now() - t0 < 10, "the join was not interrupted");
  ck_assert_int_eq(err.kind, RT_ECANCELED);
  ck_assert_str_eq(err.code, "1317");
  ck_assert(!c.dbc->lost);
  rt_error_clear(&err);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* and the connection goes on */
  ck_assert_int_eq(scalar_int(&c, "SELECT 5"), 5);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(lost_connection) {
  rt_engine *e = engine();
  rt_connection c, killer;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_dbconn *dead;
  char sql[64];
  int64_t id;
  rt_connection_init(&c, e);
  rt_connection_init(&killer, e);
  id = scalar_int(&c, "SELECT CONNECTION_ID()");
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  snprintf(sql, sizeof sql, "KILL %lld", (long long)id);
  exec_ok(&killer, sql);
  rt_connection_close(&killer);
  dead = c.dbc;
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_msg(strcmp(err.code, "2006") == 0 ||
                    strcmp(err.code, "2013") == 0 ||
                    strcmp(err.code, "1927") == 0,
                "code %s: %s", err.code, err.message);
  ck_assert(dead->lost);
  rt_error_clear(&err);
  /* rollback does not hang on a dead connection; close discards it */
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  rt_connection_close(&c);
  /* the pool hands out a new, working connection */
  rt_connection_init(&c, e);
  ck_assert_int_eq(scalar_int(&c, "SELECT 3"), 3);
  ck_assert_int_ne(scalar_int(&c, "SELECT CONNECTION_ID()"), id);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(pre_ping_replaces_dead_idle_connection) {
  rt_error err = RT_ERROR_INIT;
  rt_engine_opts o;
  rt_engine *e, *other;
  rt_connection c, killer;
  char sql[64];
  int64_t id;
  rt_engine_defaults(&o);
  o.pool.pre_ping = 1;
  e = rt_engine_create(test_url, &o, &err);
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c, e);
  id = scalar_int(&c, "SELECT CONNECTION_ID()");
  rt_connection_close(&c);
  ck_assert_int_eq(rt_pool_idle(&e->pool), 1);
  /* the idle connection dies in the pool (killed from another engine) */
  other = engine();
  rt_connection_init(&killer, other);
  snprintf(sql, sizeof sql, "KILL %lld", (long long)id);
  exec_ok(&killer, sql);
  rt_connection_close(&killer);
  rt_engine_free(other);
  /* the ping notices, and a fresh one is handed out */
  rt_connection_init(&c, e);
  ck_assert_int_ne(scalar_int(&c, "SELECT CONNECTION_ID()"), id);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(transactions) {
  rt_engine *e = engine();
  rt_connection c1, c2;
  rt_error err = RT_ERROR_INIT;
  rt_connection_init(&c1, e);
  rt_connection_init(&c2, e);
  exec_ok(&c1, "DROP TABLE IF EXISTS rt_tx");
  exec_ok(&c1, "CREATE TABLE rt_tx (x INT) ENGINE=InnoDB");
  ck_assert_int_eq(rt_connection_commit(&c1, &err), 0);
  exec_ok(&c1, "INSERT INTO rt_tx VALUES (1)");
  ck_assert_int_eq(rt_connection_rollback(&c1, &err), 0);
  ck_assert_int_eq(scalar_int(&c1, "SELECT count(*) FROM rt_tx"), 0);
  exec_ok(&c1, "INSERT INTO rt_tx VALUES (1)");
  ck_assert_int_eq(rt_connection_commit(&c1, &err), 0);
  ck_assert_int_eq(scalar_int(&c2, "SELECT count(*) FROM rt_tx"), 1);
  ck_assert_int_eq(rt_connection_commit(&c2, &err), 0);
  /* close never commits */
  exec_ok(&c2, "INSERT INTO rt_tx VALUES (2)");
  rt_connection_close(&c2);
  ck_assert_int_eq(scalar_int(&c1, "SELECT count(*) FROM rt_tx"), 1);
  ck_assert_int_eq(e->drv->ping(c1.dbc, &err), 0);
  ck_assert_ptr_nonnull(strstr(e->drv->server_version(c1.dbc), "."));
  exec_ok(&c1, "DROP TABLE rt_tx");
  rt_connection_close(&c1);
  rt_engine_free(e);
}
END_TEST

/* What the notice hook received, one message after the other. */
static char notices[4096];

static void collect(void *ud, const char *message) {
  (void)ud;
  strncat(notices, message, sizeof notices - strlen(notices) - 1);
}

static int has_notice(const char *s) {
  return strstr(notices, s) != NULL;
}

/*
** A statement's warnings go to the notice hook, as psql words a notice,
** and SHOW WARNINGS is only sent when the server counted some and a hook
** takes them (the server's Com_show_warnings counts what it was sent).
*/
START_TEST(warnings_as_notices) {
  rt_engine *e = engine();
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  const rt_driver *d = e->drv;
  rt_value p[2];
  int64_t count;
  long shows;
  int rc;
  rt_connection_init(&c, e);
  exec_ok(&c, "SET SESSION sql_mode = ''");
  exec_ok(&c, "DROP TABLE IF EXISTS rt_warn");
  exec_ok(&c, "CREATE TABLE rt_warn (s VARCHAR(3))");
  /* nobody takes notices: warnings are never asked for */
  shows = status(&c, "Com_show_warnings");
  exec_ok(&c, "DROP TABLE IF EXISTS rt_nothere");
  exec_ok(&c, "INSERT INTO rt_warn VALUES ('abcdef')");
  ck_assert_int_eq(status(&c, "Com_show_warnings"), shows);

  notices[0] = '\0';
  c.dbc->notice = collect;
  /* no warnings: no SHOW WARNINGS either */
  exec_ok(&c, "INSERT INTO rt_warn VALUES ('ab')");
  ck_assert_int_eq(scalar_int(&c, "SELECT 2"), 2);
  ck_assert_str_eq(notices, "");
  ck_assert_int_eq(status(&c, "Com_show_warnings"), shows);

  exec_ok(&c, "DROP TABLE IF EXISTS rt_nothere");
  ck_assert_msg(has_notice("WARNING:  Note 1051: Unknown table '") &&
                    has_notice("rt_nothere'\n"),
                "%s", notices);
  ck_assert_int_eq(status(&c, "Com_show_warnings"), shows + 1);
  notices[0] = '\0';
  exec_ok(&c, "INSERT INTO rt_warn VALUES ('abcdef')");
  ck_assert_str_eq(notices,
                   "WARNING:  Warning 1265: Data truncated for column 's' "
                   "at row 1\n");

  /* a stored result's warnings are known once it is stored (division by
  ** zero warns in the default sql_mode) */
  exec_ok(&c, "SET SESSION sql_mode = DEFAULT");
  notices[0] = '\0';
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1/0", NULL, 0, 0, &cur, &err), 0);
  ck_assert_str_eq(notices, "WARNING:  Warning 1365: Division by 0\n");
  d->cursor_close(cur);
  /* a streamed one's when its rows end */
  notices[0] = '\0';
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT 1/0, s FROM rt_warn", NULL,
                                         0, RT_EXEC_STREAM, &cur, &err),
                   0);
  while ((rc = d->fetch(cur, &err)) > 0) {
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_msg(has_notice("WARNING:  Warning 1365: Division by 0\n"), "%s",
                notices);
  d->cursor_close(cur);

  /* executemany, batched into one statement */
  exec_ok(&c, "SET SESSION sql_mode = ''");
  notices[0] = '\0';
  p[0] = rt_vtext("wxyz", 4);
  p[1] = rt_vtext("klmno", 5);
  ck_assert_int_eq(rt_connection_executemany(&c,
                                             "INSERT INTO rt_warn VALUES (?)",
                                             p, 1, 2, &count, &err),
                   0);
  ck_assert_int_eq(count, 2);
  ck_assert_msg(has_notice("Data truncated for column 's' at row 1\n") &&
                    has_notice("Data truncated for column 's' at row 2\n"),
                "%s", notices);

  c.dbc->notice = NULL;
  exec_ok(&c, "DROP TABLE rt_warn");
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

int main(void) {
  Suite *s;
  TCase *tc;
  SRunner *sr;
  int failed;
  test_url = getenv("RETORT_TEST_MYSQL");
  if (test_url == NULL || *test_url == '\0') {
    printf("SKIP: RETORT_TEST_MYSQL not set\n");
    return 77;
  }
  s = suite_create("mariadb_driver");
  tc = tcase_create("mariadb");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, roundtrip_values);
  tcase_add_test(tc, rowcount_lastrowid_and_cache);
  tcase_add_test(tc, executemany_bulk_and_errors);
  tcase_add_test(tc, wrong_password);
  tcase_add_test(tc, streaming);
  tcase_add_test(tc, cancel_from_another_thread);
  tcase_add_test(tc, lost_connection);
  tcase_add_test(tc, pre_ping_replaces_dead_idle_connection);
  tcase_add_test(tc, transactions);
  tcase_add_test(tc, warnings_as_notices);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
