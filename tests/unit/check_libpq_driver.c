/*
** check_libpq_driver.c -- the PostgreSQL driver against a live server.
**
** The server comes from RETORT_TEST_PG (scripts/test-servers starts one);
** without it the test is skipped.
*/
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "check_helpers.h"

static const char *pg_url;

static rt_engine *pg_engine(const rt_engine_opts *o) {
  rt_error err = RT_ERROR_INIT;
  rt_engine *e = rt_engine_create(pg_url, o, &err);
  ck_assert_msg(e != NULL, "%s", err.message);
  return e;
}

static int text_is(const rt_value *v, const char *s) {
  return v->type == RT_V_TEXT && v->u.s.n == strlen(s) &&
         memcmp(v->u.s.p, s, v->u.s.n) == 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(roundtrip_values) {
  rt_engine *e = pg_engine(NULL);
  const rt_driver *d = e->drv;
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_value p[11], v;
  static const char blob[] = {'a', '\0', 'b', '\xff', '\0'};
  static const rt_sqltype types[] = {
      RT_T_TEXT,    RT_T_INTEGER,  RT_T_INTEGER, RT_T_FLOAT,    RT_T_FLOAT,
      RT_T_FLOAT,   RT_T_FLOAT,    RT_T_TEXT,    RT_T_BLOB,     RT_T_BOOLEAN,
      RT_T_BOOLEAN, RT_T_NUMERIC,  RT_T_DATE,    RT_T_DATETIME, RT_T_DATETIME,
      RT_T_TIME,    RT_T_INTERVAL, RT_T_JSON,    RT_T_JSON,     RT_T_UUID,
      RT_T_ARRAY,   RT_T_BLOB};
  int i;
  ck_assert_str_eq(d->name, "postgresql");
  rt_connection_init(&c, e);
  p[0] = rt_vnull();
  p[1] = rt_vint(INT64_MIN);
  p[2] = rt_vint(INT64_MAX);
  p[3] = rt_vfloat(0.1);
  p[4] = rt_vfloat(NAN);
  p[5] = rt_vfloat(INFINITY);
  p[6] = rt_vfloat(-INFINITY);
  /* not NUL-terminated: the driver must copy it */
  p[7] = rt_vtext("h\xc3\xa9llo \xe2\x9c\x93 world", 10);
  p[8] = rt_vblob(blob, sizeof blob);
  p[9] = rt_vbool(1);
  p[10] = rt_vbool(0);
  ck_assert_int_eq(
      rt_connection_execute(
          &c,
          "SELECT $1 AS n, $2::int8 AS imin, $3::int8 AS imax, "
          "$4::float8 AS f, $5::float8 AS nan, $6::float8 AS inf, "
          "$7::float8 AS ninf, $8::text AS s, $9::bytea AS b, "
          "$10::bool AS t, $11::bool AS f2, 12345678901234567890.125::numeric "
          "AS num, DATE '2024-02-29' AS d, "
          "TIMESTAMP '2024-02-29 12:34:56.5' AS ts, "
          "TIMESTAMPTZ '2024-02-29 12:34:56+00' AS tstz, TIME '01:02:03' AS "
          "tm, "
          "INTERVAL '1 day 2 hours' AS iv, '{\"a\": [1, 2]}'::json AS j, "
          "'{\"a\": 1}'::jsonb AS jb, "
          "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, "
          "ARRAY[1, 2] AS arr, ''::bytea AS empty",
          p, 11, 0, &cur, &err),
      0);
  ck_assert_int_eq(cur->ncols, 22);
  for (i = 0; i < cur->ncols; i++)
    ck_assert_msg(d->coltype(cur, i) == types[i], "column %d (%s): %d", i,
                  d->colname(cur, i), d->coltype(cur, i));
  ck_assert_str_eq(d->colname(cur, 1), "imin");
  ck_assert_str_eq(d->colname(cur, 21), "empty");
  ck_assert_int_eq(cur->rowcount, 1);
  ck_assert_int_eq(cur->lastrowid, 0);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_NULL);
  d->column(cur, 1, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == INT64_MIN);
  d->column(cur, 2, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == INT64_MAX);
  d->column(cur, 3, &v);
  ck_assert(v.type == RT_V_FLOAT && v.u.f == 0.1);
  d->column(cur, 4, &v);
  ck_assert(v.type == RT_V_FLOAT && isnan(v.u.f));
  d->column(cur, 5, &v);
  ck_assert(v.type == RT_V_FLOAT && isinf(v.u.f) && v.u.f > 0);
  d->column(cur, 6, &v);
  ck_assert(v.type == RT_V_FLOAT && isinf(v.u.f) && v.u.f < 0);
  d->column(cur, 7, &v);
  ck_assert(text_is(&v, "h\xc3\xa9llo \xe2\x9c\x93"));
  d->column(cur, 8, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == sizeof blob &&
            memcmp(v.u.s.p, blob, sizeof blob) == 0);
  d->column(cur, 9, &v);
  ck_assert(v.type == RT_V_BOOL && v.u.b == 1);
  d->column(cur, 10, &v);
  ck_assert(v.type == RT_V_BOOL && v.u.b == 0);
  d->column(cur, 11, &v);
  ck_assert(text_is(&v, "12345678901234567890.125"));
  d->column(cur, 12, &v);
  ck_assert(text_is(&v, "2024-02-29"));
  d->column(cur, 13, &v);
  ck_assert(text_is(&v, "2024-02-29 12:34:56.5"));
  d->column(cur, 14, &v);
  ck_assert(v.type == RT_V_TEXT);
  d->column(cur, 15, &v);
  ck_assert(text_is(&v, "01:02:03"));
  d->column(cur, 16, &v);
  ck_assert(text_is(&v, "1 day 02:00:00"));
  d->column(cur, 17, &v);
  ck_assert(text_is(&v, "{\"a\": [1, 2]}"));
  d->column(cur, 18, &v);
  ck_assert(text_is(&v, "{\"a\": 1}"));
  d->column(cur, 19, &v);
  ck_assert(text_is(&v, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  d->column(cur, 20, &v);
  ck_assert(text_is(&v, "{1,2}"));
  d->column(cur, 21, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 0);
  /* two bytea columns of one row are both valid at once */
  d->column(cur, 8, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == sizeof blob &&
            memcmp(v.u.s.p, blob, sizeof blob) == 0);
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur);

  /* the same values through a table, typed by its columns */
  exec_ok(&c, "CREATE TEMP TABLE t (i int8, f float8, s text, b bytea, "
              "ok bool, n numeric)");
  p[0] = rt_vint(-42);
  p[1] = rt_vfloat(2.5);
  p[2] = p[7];
  p[3] = p[8];
  p[4] = rt_vbool(1);
  p[5] = rt_vtext("3.14159265358979323846", 22);
  ck_assert_int_eq(
      rt_connection_execute(&c, "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6)",
                            p, 6, 0, &cur, &err),
      0);
  ck_assert_int_eq(cur->rowcount, 1);
  ck_assert_int_eq(cur->ncols, 0);
  d->cursor_close(cur);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT * FROM t", NULL, 0, 0, &cur, &err), 0);
  ck_assert_int_eq(d->coltype(cur, 0), RT_T_INTEGER);
  ck_assert_int_eq(d->coltype(cur, 5), RT_T_NUMERIC);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == -42);
  d->column(cur, 1, &v);
  ck_assert(v.type == RT_V_FLOAT && v.u.f == 2.5);
  d->column(cur, 3, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == sizeof blob &&
            memcmp(v.u.s.p, blob, sizeof blob) == 0);
  d->column(cur, 5, &v);
  ck_assert(text_is(&v, "3.14159265358979323846"));
  d->cursor_close(cur);

  /* bytea in the old escape format decodes the same */
  exec_ok(&c, "SET LOCAL bytea_output = 'escape'");
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT b FROM t", NULL, 0, 0, &cur, &err), 0);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == sizeof blob &&
            memcmp(v.u.s.p, blob, sizeof blob) == 0);
  d->cursor_close(cur);

  /* text with a NUL byte cannot reach the server */
  p[0] = rt_vtext("a\0b", 3);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT $1::text", p, 1, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EDATA);
  ck_assert_int_eq(scalar_int(&c, "SELECT 1"), 1);
  ck_assert(strncmp(d->server_version(c.dbc), "1", 1) == 0);
  ck_assert_int_eq(d->ping(c.dbc, &err), 0);
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(rowcount) {
  rt_engine *e = pg_engine(NULL);
  const rt_driver *d = e->drv;
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TEMP TABLE t AS SELECT g AS x FROM generate_series(1, "
              "10) g");
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "UPDATE t SET x = x + 1 WHERE x "
                                         "> 3",
                                         NULL, 0, 0, &cur, &err),
                   0);
  ck_assert_int_eq(cur->rowcount, 7);
  d->cursor_close(cur);
  ck_assert_int_eq(
      rt_connection_execute(&c, "DELETE FROM t", NULL, 0, 0, &cur, &err), 0);
  ck_assert_int_eq(cur->rowcount, 10);
  d->cursor_close(cur);
  ck_assert_int_eq(rt_connection_execute(&c,
                                         "INSERT INTO t VALUES (1), (2) "
                                         "RETURNING x",
                                         NULL, 0, 0, &cur, &err),
                   0);
  ck_assert_int_eq(cur->rowcount, 2);
  ck_assert_int_eq(cur->ncols, 1);
  d->cursor_close(cur);
  /* statements without a count say -1 */
  ck_assert_int_eq(rt_connection_execute(&c, "SET LOCAL work_mem = '8MB'", NULL,
                                         0, 0, &cur, &err),
                   0);
  ck_assert_int_eq(cur->rowcount, -1);
  d->cursor_close(cur);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

START_TEST(executemany_pipeline) {
  enum { N = 1000 };
  rt_engine *e = pg_engine(NULL);
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_value *rows = calloc(2 * N, sizeof *rows);
  char(*names)[16] = calloc(N, sizeof *names);
  int64_t count = 0;
  int i;
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TABLE many (x int UNIQUE, s text, b bytea)");
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  for (i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "row %d", i);
    rows[2 * i] = rt_vint(i);
    rows[2 * i + 1] = rt_vtext(names[i], strlen(names[i]));
  }
  ck_assert_int_eq(
      rt_connection_executemany(&c, "INSERT INTO many (x, s) VALUES ($1, $2)",
                                rows, 2, N, &count, &err),
      0);
  ck_assert_int_eq(count, N);
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  ck_assert_int_eq(scalar_int(&c, "SELECT count(*) FROM many"), N);
  ck_assert_int_eq(scalar_int(&c, "SELECT sum(x) FROM many"), N * (N - 1) / 2);
  /* an UPDATE batch counts every row it touched */
  ck_assert_int_eq(
      rt_connection_executemany(&c, "UPDATE many SET s = $2 WHERE x >= $1",
                                rows, 2, 3, &count, &err),
      0);
  ck_assert_int_eq(count, N + (N - 1) + (N - 2));
  /* bytes in some rows only: the statement still takes them as bytea */
  rows[0] = rt_vint(-1), rows[1] = rt_vnull();
  rows[2] = rt_vint(-2), rows[3] = rt_vblob("\0\1", 2);
  ck_assert_int_eq(
      rt_connection_executemany(&c, "INSERT INTO many (x, b) VALUES ($1, $2)",
                                rows, 2, 2, &count, &err),
      0);
  ck_assert_int_eq(scalar_int(&c, "SELECT length(b) FROM many WHERE x = -2"),
                   2);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* row 500 collides: the whole batch fails with the first error */
  for (i = 0; i < N; i++) {
    rows[2 * i] = rt_vint(N + i);
    rows[2 * i + 1] = rt_vtext(names[i], strlen(names[i]));
  }
  rows[2 * 500] = rt_vint(7);
  ck_assert_int_eq(
      rt_connection_executemany(&c, "INSERT INTO many (x, s) VALUES ($1, $2)",
                                rows, 2, N, &count, &err),
      -1);
  ck_assert_int_eq(err.kind, RT_EINTEGRITY);
  ck_assert_str_eq(err.code, "23505");
  ck_assert_msg(strstr(err.message, "many_x_key") != NULL, "%s", err.message);
  ck_assert_msg(strncmp(err.message, "ERROR", 5) != 0, "%s", err.message);
  ck_assert(!c.dbc->lost);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(scalar_int(&c, "SELECT count(*) FROM many"), N);
  /* a batch that does not parse */
  ck_assert_int_eq(rt_connection_executemany(&c, "INSERT INTO many VALUE ($1)",
                                             rows, 1, 3, &count, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* no rows: nothing to do */
  ck_assert_int_eq(rt_connection_executemany(&c,
                                             "INSERT INTO many (x) VALUES ($1)",
                                             rows, 1, 0, &count, &err),
                   0);
  ck_assert_int_eq(count, 0);
  exec_ok(&c, "DROP TABLE many");
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
  free(rows);
  free(names);
}
END_TEST

/* executemany with RETURNING: every execution's rows, in the order of the
** parameter sets; an execution that returns none adds none */
START_TEST(executemany_rows) {
  enum { N = 2500 };
  rt_engine *e = pg_engine(NULL);
  const rt_driver *d = e->drv;
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_value *rows = calloc(N, sizeof *rows), v;
  rt_cursor *cur = NULL;
  int i, got = 0;
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TEMP TABLE mr (id serial PRIMARY KEY, x int UNIQUE)");
  for (i = 0; i < N; i++) rows[i] = rt_vint(N - i); /* descending values */
  ck_assert_int_eq(rt_connection_executemany_rows(
                       &c, "INSERT INTO mr (x) VALUES ($1) RETURNING mr.id, x",
                       rows, 1, N, &cur, &err),
                   0);
  ck_assert_int_eq(cur->ncols, 2);
  ck_assert_int_eq(cur->rowcount, N);
  ck_assert_str_eq(d->colname(cur, 1), "x");
  while (d->fetch(cur, &err) == 1) {
    d->column(cur, 0, &v);
    ck_assert_int_eq(v.u.i, got + 1);
    d->column(cur, 1, &v);
    ck_assert_int_eq(v.u.i, N - got);
    got++;
  }
  ck_assert_int_eq(got, N);
  d->cursor_close(cur);
  /* ON CONFLICT DO NOTHING: the rows left out return nothing */
  rows[0] = rt_vint(1), rows[1] = rt_vint(-5), rows[2] = rt_vint(2);
  ck_assert_int_eq(rt_connection_executemany_rows(
                       &c,
                       "INSERT INTO mr (x) VALUES ($1) ON CONFLICT DO NOTHING "
                       "RETURNING x",
                       rows, 1, 3, &cur, &err),
                   0);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert_int_eq(v.u.i, -5);
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur);
  /* a row that fails: the first error, the connection usable */
  ck_assert_int_eq(rt_connection_executemany_rows(
                       &c, "INSERT INTO mr (x) VALUES ($1) RETURNING x", rows,
                       1, 3, &cur, &err),
                   -1);
  ck_assert_int_eq(err.kind, RT_EINTEGRITY);
  ck_assert(!c.dbc->lost);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(scalar_int(&c, "SELECT 1"), 1);
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
  free(rows);
}
END_TEST

START_TEST(errors) {
  rt_engine *e = pg_engine(NULL);
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_value p[1];
  rt_connection_init(&c, e);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1 FROM", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_str_eq(err.code, "42601");
  ck_assert_int_eq(err.position, 14);
  ck_assert_msg(strncmp(err.message, "syntax error at end of input", 28) == 0,
                "%s", err.message);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT * FROM nope", NULL, 0, 0, &cur, &err),
      -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_str_eq(err.code, "42P01");
  ck_assert_int_eq(err.position, 15);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1/0", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EDATA);
  ck_assert_str_eq(err.code, "22012");
  ck_assert_str_eq(err.message, "division by zero");
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* wrong parameter count is the server's complaint */
  p[0] = rt_vint(1);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT $1, $2", p, 1, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_str_eq(err.code, "08P01");
  ck_assert(!c.dbc->lost);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* one statement at a time */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1; SELECT 2", NULL, 0, 0, &cur, &err),
      -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(rt_connection_execute(&c, "", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EPROGRAMMING);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* a statement in an aborted transaction */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1/0", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1", NULL, 0, 0, &cur, &err), -1);
  ck_assert_str_eq(err.code, "25P02");
  ck_assert_int_eq(err.kind, RT_EINTERNAL);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(scalar_int(&c, "SELECT 2"), 2);
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

/* pg_url with the user, password and database replaced. */
static char *url_with(const char *user, const char *password, const char *db) {
  const char *q = strchr(pg_url, '?');
  size_t n = strlen(pg_url) + 256;
  char *u = malloc(n);
  snprintf(u, n, "postgresql://%s:%s@/%s%s", user, password, db, q ? q : "");
  return u;
}

START_TEST(connect_errors_hide_password) {
  static const char secret[] = "s3cr3t-Pw";
  rt_engine *e0 = pg_engine(NULL), *e;
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  char *url;
  rt_connection_init(&c, e0);
  /* the test servers check passwords for this role only */
  exec_ok(&c, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname "
              "= 'retort_pwtest') THEN CREATE ROLE retort_pwtest LOGIN "
              "PASSWORD 'right'; END IF; END $$");
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  rt_connection_close(&c);

  url = url_with("retort_pwtest", secret, "retort_test");
  e = rt_engine_create(url, NULL, &err);
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_acquire(&c, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_msg(strstr(err.message, "password authentication failed") != NULL,
                "%s", err.message);
  ck_assert_msg(strstr(err.message, secret) == NULL, "%s", err.message);
  rt_connection_close(&c);
  rt_engine_free(e);
  free(url);

  url = url_with("postgres", secret, "no_such_db");
  e = rt_engine_create(url, NULL, &err);
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_acquire(&c, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_msg(strstr(err.message, "\"no_such_db\" does not exist") != NULL,
                "%s", err.message);
  ck_assert_msg(strstr(err.message, secret) == NULL, "%s", err.message);
  rt_connection_close(&c);
  rt_engine_free(e);
  free(url);

  /* an unknown connect argument is libpq's error, not a crash */
  {
    size_t n = strlen(pg_url) + 32;
    url = malloc(n);
    snprintf(url, n, "%s&no_such_option=1", pg_url);
    e = rt_engine_create(url, NULL, &err);
    rt_connection_init(&c, e);
    ck_assert_int_eq(rt_connection_acquire(&c, &err), -1);
    ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
    ck_assert_msg(strstr(err.message, "no_such_option") != NULL, "%s",
                  err.message);
    rt_connection_close(&c);
    rt_engine_free(e);
    free(url);
  }
  /* connect_args reach libpq */
  {
    rt_engine_opts o;
    rt_url_arg a = {"application_name", "retort-check"};
    rt_cursor *cur = NULL;
    rt_value v;
    rt_engine_defaults(&o);
    o.nargs = 1;
    o.args = &a;
    e = pg_engine(&o);
    rt_connection_init(&c, e);
    ck_assert_int_eq(rt_connection_execute(&c, "SHOW application_name", NULL, 0,
                                           0, &cur, &err),
                     0);
    ck_assert_int_eq(e->drv->fetch(cur, &err), 1);
    e->drv->column(cur, 0, &v);
    ck_assert(text_is(&v, "retort-check"));
    e->drv->cursor_close(cur);
    rt_connection_close(&c);
    rt_engine_free(e);
  }
  rt_error_clear(&err);
  rt_engine_free(e0);
}
END_TEST

START_TEST(streaming) {
  rt_engine *e = pg_engine(NULL);
  const rt_driver *d = e->drv;
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL, *other = NULL;
  rt_value v;
  int n, rc;
  rt_connection_init(&c, e);
  exec_ok(&c, "CREATE TEMP TABLE kept (x int)");
  exec_ok(&c, "INSERT INTO kept VALUES (1)");
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  /* uncommitted: it shows whether the transaction survives */
  exec_ok(&c, "INSERT INTO kept VALUES (2)");
  /* read all 10000 */
  ck_assert_int_eq(rt_connection_execute(
                       &c,
                       "SELECT g, 'row ' || g AS s FROM generate_series(1, "
                       "10000) g",
                       NULL, 0, RT_EXEC_STREAM, &cur, &err),
                   0);
  ck_assert_int_eq(cur->ncols, 2);
  ck_assert_str_eq(d->colname(cur, 1), "s");
  ck_assert_int_eq(d->coltype(cur, 0), RT_T_INTEGER);
  for (n = 0; (rc = d->fetch(cur, &err)) == 1; n++) {
    d->column(cur, 0, &v);
    ck_assert(v.type == RT_V_INT && v.u.i == n + 1);
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(n, 10000);
  ck_assert_int_eq(cur->rowcount, 10000);
  ck_assert_str_eq(d->colname(cur, 1), "s");
  d->cursor_close(cur);

  /* stop half way: the next statement works, in the same transaction */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT g FROM generate_series(1, 10000) g",
                            NULL, 0, RT_EXEC_STREAM, &cur, &err),
      0);
  for (n = 0; n < 5000; n++) ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->cursor_close(cur);
  ck_assert_int_eq(scalar_int(&c, "SELECT count(*) FROM kept"), 2);

  /* stop a query that is still running: it is canceled, the transaction
  ** survives (the first rows fill the server's send buffer, so they arrive
  ** before it sleeps) */
  {
    double t0 = now();
    ck_assert_int_eq(rt_connection_execute(
                         &c,
                         "SELECT g, repeat('x', 100), pg_sleep(CASE WHEN g = "
                         "1000 THEN 30 ELSE 0 END) FROM generate_series(1, "
                         "2000) g",
                         NULL, 0, RT_EXEC_STREAM, &cur, &err),
                     0);
    ck_assert_int_eq(d->fetch(cur, &err), 1);
    d->cursor_close(cur);
    ck_assert_msg(now() - t0 < 2.0, "stopping took %.1f s", now() - t0);
  }
  ck_assert_int_eq(scalar_int(&c, "SELECT count(*) FROM kept"), 2);

  /* another statement while a stream is open reads the stream ahead */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT g FROM generate_series(1, 1000) g",
                            NULL, 0, RT_EXEC_STREAM, &cur, &err),
      0);
  for (n = 0; n < 10; n++) ck_assert_int_eq(d->fetch(cur, &err), 1);
  ck_assert_int_eq(scalar_int(&c, "SELECT 7"), 7);
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT 8", NULL, 0,
                                         RT_EXEC_STREAM, &other, &err),
                   0);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->column(cur, 0, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 11);
  while ((rc = d->fetch(cur, &err)) == 1) n++;
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(n, 999);
  d->cursor_close(cur);
  ck_assert_int_eq(d->fetch(other, &err), 1);
  d->column(other, 0, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 8);
  ck_assert_int_eq(d->fetch(other, &err), 0);
  d->cursor_close(other);

  /* errors: at execute, and in the middle of a stream */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELEC 1", NULL, 0, RT_EXEC_STREAM, &cur, &err),
      -1);
  ck_assert_str_eq(err.code, "42601");
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(rt_connection_execute(
                       &c, "SELECT 10 / (5 - g) FROM generate_series(1, 10) g",
                       NULL, 0, RT_EXEC_STREAM, &cur, &err),
                   0);
  for (n = 0; (rc = d->fetch(cur, &err)) == 1; n++) continue;
  ck_assert_int_eq(rc, -1);
  ck_assert_int_eq(n, 4);
  ck_assert_str_eq(err.code, "22012");
  d->cursor_close(cur);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  /* no rows, and no rows at all */
  ck_assert_int_eq(rt_connection_execute(&c, "SELECT 1 WHERE false", NULL, 0,
                                         RT_EXEC_STREAM, &cur, &err),
                   0);
  ck_assert_int_eq(cur->ncols, 1);
  ck_assert_int_eq(d->fetch(cur, &err), 0);
  d->cursor_close(cur);
  ck_assert_msg(rt_connection_execute(&c, "DELETE FROM kept", NULL, 0,
                                      RT_EXEC_STREAM, &cur, &err) == 0,
                "%s", err.message);
  ck_assert_int_eq(cur->ncols, 0);
  ck_assert_int_eq(cur->rowcount, 1);
  d->cursor_close(cur);
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  /* outside a transaction too */
  ck_assert_int_eq(d->execute(c.dbc, "SELECT g FROM generate_series(1, 100) g",
                              NULL, 0, RT_EXEC_STREAM, &cur, &err),
                   0);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  d->cursor_close(cur);
  ck_assert_int_eq(scalar_int(&c, "SELECT 3"), 3);
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

typedef struct canceller {
  rt_connection *c;
  int delay_ms;
} canceller;

static void *cancel_later(void *arg) {
  canceller *k = arg;
  usleep((useconds_t)k->delay_ms * 1000);
  rt_connection_cancel(k->c);
  return NULL;
}

START_TEST(cancel_from_another_thread) {
  rt_engine *e = pg_engine(NULL);
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  pthread_t th;
  canceller k;
  double t0;
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_acquire(&c, &err), 0);
  k.c = &c;
  k.delay_ms = 200;
  ck_assert_int_eq(pthread_create(&th, NULL, cancel_later, &k), 0);
  t0 = now();
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT pg_sleep(30)", NULL, 0, 0, &cur, &err),
      -1);
  ck_assert_msg(now() - t0 < 2.0, "cancel took %.1f s", now() - t0);
  pthread_join(th, NULL);
  ck_assert_int_eq(err.kind, RT_ECANCELED);
  ck_assert_str_eq(err.code, "57014");
  ck_assert(!c.dbc->lost);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  ck_assert_int_eq(scalar_int(&c, "SELECT 5"), 5);
  /* a cancel with nothing running does no harm */
  rt_connection_cancel(&c);
  ck_assert_int_eq(scalar_int(&c, "SELECT 6"), 6);
  rt_error_clear(&err);
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

/* Terminate a backend from a connection of another engine, and give it
** time to go. */
static void terminate(int64_t pid) {
  rt_engine *e = pg_engine(NULL);
  rt_connection c;
  char sql[80];
  rt_connection_init(&c, e);
  snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)",
           (long long)pid);
  exec_ok(&c, sql);
  rt_connection_close(&c);
  rt_engine_free(e);
  usleep(100 * 1000);
}

START_TEST(lost_connection_is_replaced) {
  rt_engine_opts o;
  rt_engine *e;
  const rt_driver *d;
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  rt_dbconn *first;
  rt_value pid;
  rt_engine_defaults(&o);
  o.pool.pool_size = 1;
  e = pg_engine(&o);
  d = e->drv;
  /* the backend kills itself */
  rt_connection_init(&c, e);
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT pg_terminate_backend(pg_backend_pid())",
                            NULL, 0, 0, &cur, &err),
      -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert(c.dbc->lost);
  /* the transaction stays, invalid, until rolled back (SQLAlchemy's) */
  ck_assert(c.in_tx);
  /* everything fails fast on it: no hang, no crash */
  ck_assert_int_eq(d->rollback(c.dbc, &err), -1);
  ck_assert_int_eq(d->ping(c.dbc, &err), -1);
  ck_assert_int_eq(d->execute(c.dbc, "SELECT 1", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert_int_eq(
      d->execute(c.dbc, "SELECT 1", NULL, 0, RT_EXEC_STREAM, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  {
    rt_value one = rt_vint(1);
    int64_t n = 0;
    ck_assert_int_eq(d->executemany(c.dbc, "SELECT $1", &one, 1, 1, &n, &err),
                     -1);
    ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  }
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  rt_connection_close(&c);
  ck_assert_int_eq(rt_pool_idle(&e->pool), 0);
  rt_connection_init(&c, e);
  ck_assert_int_eq(scalar_int(&c, "SELECT 1"), 1);
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  pid.u.i = scalar_int(&c, "SELECT pg_backend_pid()");
  first = c.dbc;
  rt_connection_close(&c);
  ck_assert_int_eq(rt_pool_idle(&e->pool), 1);

  /* an idle pooled connection killed from outside (a server restart) */
  terminate(pid.u.i);
  rt_connection_init(&c, e);
  ck_assert_int_eq(rt_connection_acquire(&c, &err), 0);
  ck_assert_ptr_eq(c.dbc, first); /* the pool cannot know yet */
  ck_assert_int_eq(
      rt_connection_execute(&c, "SELECT 1", NULL, 0, 0, &cur, &err), -1);
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert(c.dbc->lost);
  rt_connection_close(&c);
  rt_connection_init(&c, e);
  ck_assert_int_eq(scalar_int(&c, "SELECT 2"), 2);
  pid.u.i = scalar_int(&c, "SELECT pg_backend_pid()");
  rt_connection_close(&c);
  rt_engine_free(e);

  /* with pre_ping the pool notices by itself */
  o.pool.pre_ping = 1;
  e = pg_engine(&o);
  rt_connection_init(&c, e);
  pid.u.i = scalar_int(&c, "SELECT pg_backend_pid()");
  rt_connection_close(&c);
  terminate(pid.u.i);
  rt_connection_init(&c, e);
  ck_assert_int_eq(scalar_int(&c, "SELECT 3"), 3);

  /* lost in the middle of a stream */
  pid.u.i = scalar_int(&c, "SELECT pg_backend_pid()");
  ck_assert_int_eq(rt_connection_execute(
                       &c,
                       "SELECT g, repeat('x', 100), pg_sleep(CASE WHEN g = "
                       "1000 THEN 30 ELSE 0 END) FROM generate_series(1, "
                       "2000) g",
                       NULL, 0, RT_EXEC_STREAM, &cur, &err),
                   0);
  ck_assert_int_eq(d->fetch(cur, &err), 1);
  terminate(pid.u.i);
  {
    int rc, n = 0;
    while ((rc = d->fetch(cur, &err)) == 1) n++;
    ck_assert_int_eq(rc, -1);
    ck_assert_int_lt(n, 1000);
  }
  ck_assert_int_eq(err.kind, RT_EOPERATIONAL);
  ck_assert(c.dbc->lost);
  d->cursor_close(cur);
  rt_connection_close(&c);
  rt_connection_init(&c, e);
  ck_assert_int_eq(scalar_int(&c, "SELECT 4"), 4);
  rt_connection_close(&c);
  rt_error_clear(&err);
  rt_engine_free(e);
}
END_TEST

/* What a notice hook or the sink received, one message after the other. */
static char hooked[1024], sunk[1024];

static void to_buf(void *ud, const char *message) {
  char *b = ud;
  strncat(b, message, 1023 - strlen(b));
}

/*
** A notice goes to the connection's hook; without one to the process's
** sink; without either nowhere (a library never prints).
*/
START_TEST(notices_hook_and_sink) {
  rt_engine *e = pg_engine(NULL);
  rt_connection c;
  rt_connection_init(&c, e);
  exec_ok(&c, "DO $$ BEGIN RAISE NOTICE 'nobody'; END $$");
  rt_driver_set_notice(to_buf, sunk);
  exec_ok(&c, "DO $$ BEGIN RAISE NOTICE 'to the sink'; END $$");
  ck_assert_str_eq(sunk, "NOTICE:  to the sink\n");
  c.dbc->notice = to_buf;
  c.dbc->notice_ud = hooked;
  exec_ok(&c, "DROP TABLE IF EXISTS rt_nothere");
  ck_assert_str_eq(hooked,
                   "NOTICE:  table \"rt_nothere\" does not exist, skipping\n");
  ck_assert_str_eq(sunk, "NOTICE:  to the sink\n");
  c.dbc->notice = NULL;
  rt_driver_set_notice(NULL, NULL);
  exec_ok(&c, "DO $$ BEGIN RAISE WARNING 'nobody again'; END $$");
  ck_assert_str_eq(sunk, "NOTICE:  to the sink\n");
  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

int main(void) {
  Suite *s = suite_create("libpq_driver");
  TCase *tc = tcase_create("postgresql");
  SRunner *sr;
  int failed;
  pg_url = getenv("RETORT_TEST_PG");
  if (pg_url == NULL || *pg_url == '\0') {
    printf("SKIP: RETORT_TEST_PG not set\n");
    return 77;
  }
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, roundtrip_values);
  tcase_add_test(tc, rowcount);
  tcase_add_test(tc, executemany_pipeline);
  tcase_add_test(tc, executemany_rows);
  tcase_add_test(tc, errors);
  tcase_add_test(tc, connect_errors_hide_password);
  tcase_add_test(tc, streaming);
  tcase_add_test(tc, cancel_from_another_thread);
  tcase_add_test(tc, lost_connection_is_replaced);
  tcase_add_test(tc, notices_hook_and_sink);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
