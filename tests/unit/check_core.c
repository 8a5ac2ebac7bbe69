/*
** check_core.c -- unit tests of the C core: URLs, errors, buffers, values.
*/
#include <check.h>
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/stmtcache.h"
#include "core/strbuf.h"
#include "core/url.h"
#include "core/value.h"
#include "dialects/decode.h"

static rt_url *parse_ok(const char *s) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u = rt_url_parse(s, &err);
  ck_assert_msg(u != NULL, "parse %s: %s", s, err.message);
  return u;
}

START_TEST(url_full) {
  rt_url *u = parse_ok("postgresql://scott:ti%40ger@localhost:5432/test");
  char *r;
  ck_assert_str_eq(u->drivername, "postgresql");
  ck_assert_str_eq(u->username, "scott");
  ck_assert_str_eq(u->password, "ti@ger");
  ck_assert_str_eq(u->host, "localhost");
  ck_assert_int_eq(u->port, 5432);
  ck_assert_str_eq(u->database, "test");
  r = rt_url_render(u, 1);
  ck_assert_str_eq(r, "postgresql://scott:***@localhost:5432/test");
  free(r);
  r = rt_url_render(u, 0);
  ck_assert_str_eq(r, "postgresql://scott:ti%40ger@localhost:5432/test");
  free(r);
  rt_url_free(u);
}
END_TEST

START_TEST(url_socket_query) {
  rt_url *u = parse_ok("mariadb://scott@localhost/test?unix_socket=/tmp/my.sock"
                       "&charset=utf8mb4");
  char buf[16], *r;
  ck_assert_ptr_null(u->password);
  ck_assert_str_eq(rt_url_arg_get(u, "unix_socket"), "/tmp/my.sock");
  ck_assert_str_eq(rt_url_backend(u, buf, sizeof buf), "mysql");
  r = rt_url_render(u, 1);
  /* keys sorted, values quote_plus'd, as SQLAlchemy renders */
  ck_assert_str_eq(r, "mariadb://scott@localhost/test?charset=utf8mb4&"
                      "unix_socket=%2Ftmp%2Fmy.sock");
  free(r);
  rt_url_free(u);
}
END_TEST

START_TEST(url_sqlite_forms) {
  rt_url *u = parse_ok("sqlite://");
  ck_assert_ptr_null(u->database);
  ck_assert_ptr_null(u->host);
  rt_url_free(u);
  u = parse_ok("sqlite:///data/app.db");
  ck_assert_str_eq(u->database, "data/app.db");
  rt_url_free(u);
  u = parse_ok("sqlite:////var/db/app.db");
  ck_assert_str_eq(u->database, "/var/db/app.db");
  rt_url_free(u);
  u = parse_ok("postgresql://scott@/test?host=/tmp/pgsock");
  ck_assert_ptr_null(u->host);
  ck_assert_str_eq(u->database, "test");
  ck_assert_str_eq(rt_url_arg_get(u, "host"), "/tmp/pgsock");
  rt_url_free(u);
}
END_TEST

START_TEST(url_ipv6_and_errors) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u = parse_ok("mysql+pymysql://u:p@[::1]:3306/db");
  char buf[16];
  ck_assert_str_eq(u->host, "::1");
  ck_assert_int_eq(u->port, 3306);
  ck_assert_str_eq(rt_url_backend(u, buf, sizeof buf), "mysql");
  rt_url_free(u);
  ck_assert_ptr_null(rt_url_parse("not a url", &err));
  ck_assert_int_eq(err.kind, RT_EARGUMENT);
  ck_assert_str_eq(err.message,
                   "Could not parse SQLAlchemy URL from string 'not a url'");
  ck_assert_ptr_null(rt_url_parse("pg://h:99999/x", &err));
  ck_assert_int_eq(err.kind, RT_EARGUMENT);
  rt_error_clear(&err);
}
END_TEST

/* What the fuzzer found: URLs whose parts did not survive render + parse
** (a '?' decoded into a user name, a bracketed host without ':', "%00"),
** which rt_url_copy relied on. */
static void same_after_render(const char *s) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u = parse_ok(s), *c = rt_url_copy(u), *again;
  char *shown = rt_url_render(u, 0), *copied = rt_url_render(c, 0);
  ck_assert_str_eq(shown, copied);
  again = rt_url_parse(shown, &err);
  ck_assert_msg(again != NULL, "%s renders as %s, which does not parse", s,
                shown);
  free(copied);
  copied = rt_url_render(again, 0);
  ck_assert_str_eq(shown, copied);
  free(shown);
  free(copied);
  rt_url_free(again);
  rt_url_free(c);
  rt_url_free(u);
}

START_TEST(url_render_parses_back) {
  rt_url *u = parse_ok("postgresql://%3Aw%3Fd%25@[::1]:5464/db?a=1");
  char *s;
  ck_assert_str_eq(u->username, ":w?d%");
  s = rt_url_render(u, 0);
  ck_assert_str_eq(s, "postgresql://%3Aw%3Fd%25@[::1]:5464/db?a=1");
  free(s);
  rt_url_free(u);
  u = parse_ok("pg://u@[[x]/db?k=%00v");
  ck_assert_str_eq(u->host, "[x");
  ck_assert_str_eq(u->args[0].value, "%00v");
  rt_url_free(u);
  same_after_render("postgresql+psycopg2://%3Aw%3Fd@[::1]:5464/db\xff"
                    "a=1&b=:5");
  same_after_render("2://u%401x:p&%sd@[[\xa1"
                    "\xa1]:5432/db?a=_>");
  same_after_render("pesql://st?h0nstmysql:=%00ox");
  same_after_render("x://%2500@h/d");
}
END_TEST

/* Server values decoded without a server (dialects/decode.h). */
START_TEST(pg_decode_values) {
  char *buf = NULL;
  size_t cap = 0;
  rt_value v;
  ck_assert_int_eq(rt_pg_decode(20, "-9223372036854775808", 20, &buf, &cap, &v),
                   0);
  ck_assert_int_eq(v.type, RT_V_INT);
  ck_assert(v.u.i == INT64_MIN);
  rt_pg_decode(701, "-Infinity", 9, &buf, &cap, &v);
  ck_assert(v.type == RT_V_FLOAT && v.u.f < -1e308);
  rt_pg_decode(16, "t", 1, &buf, &cap, &v);
  ck_assert(v.type == RT_V_BOOL && v.u.b == 1);
  rt_pg_decode(17, "\\x48690a", 8, &buf, &cap, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 3);
  ck_assert(memcmp(v.u.s.p, "Hi\n", 3) == 0);
  /* the escape format, and an odd hex digit count */
  rt_pg_decode(17, "a\\000\\\\b", 9, &buf, &cap, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 4);
  ck_assert(memcmp(v.u.s.p, "a\0\\b", 4) == 0);
  rt_pg_decode(17, "\\x414", 5, &buf, &cap, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 1 && v.u.s.p[0] == 'A');
  rt_pg_decode(1700, "1.50", 4, &buf, &cap, &v);
  ck_assert(v.type == RT_V_TEXT && v.u.s.n == 4);
  ck_assert_int_eq(rt_pg_sqltype(1700), RT_T_NUMERIC);
  ck_assert_int_eq(rt_pg_sqltype(3802), RT_T_JSON);
  ck_assert_int_eq(rt_pg_sqltype(1007), RT_T_ARRAY);
  free(buf);
}
END_TEST

START_TEST(my_decode_values) {
  MYSQL_FIELD f;
  rt_value v;
  memset(&f, 0, sizeof f);
  f.type = MYSQL_TYPE_LONGLONG;
  f.flags = UNSIGNED_FLAG;
  rt_my_decode_text(&f, "18446744073709551615", 20, &v);
  ck_assert(v.type == RT_V_TEXT && v.u.s.n == 20);
  rt_my_decode_text(&f, "42", 2, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 42);
  rt_my_decode_text(&f, NULL, 0, &v);
  ck_assert_int_eq(v.type, RT_V_NULL);
  f.type = MYSQL_TYPE_BIT;
  rt_my_decode_text(&f, "\x01\x02", 2, &v);
  ck_assert(v.type == RT_V_INT && v.u.i == 258);
  f.type = MYSQL_TYPE_BLOB;
  f.charsetnr = 63;
  rt_my_decode_text(&f, "\0\xff", 2, &v);
  ck_assert(v.type == RT_V_BLOB && v.u.s.n == 2);
  ck_assert_int_eq(rt_my_sqltype(&f), RT_T_BLOB);
  f.type = MYSQL_TYPE_TINY;
  f.length = 1;
  ck_assert_int_eq(rt_my_sqltype(&f), RT_T_BOOLEAN);
}
END_TEST

START_TEST(error_hierarchy) {
  ck_assert(rt_errkind_isa(RT_EINTEGRITY, RT_EDATABASE));
  ck_assert(rt_errkind_isa(RT_EINTEGRITY, RT_EDBAPI));
  ck_assert(rt_errkind_isa(RT_EINTEGRITY, RT_ESQLALCHEMY));
  ck_assert(!rt_errkind_isa(RT_EINTEGRITY, RT_EOPERATIONAL));
  ck_assert(rt_errkind_isa(RT_ECANCELED, RT_EOPERATIONAL));
  ck_assert(rt_errkind_isa(RT_ENORESULT, RT_EINVALIDREQUEST));
  ck_assert_str_eq(rt_errkind_name(RT_EMULTIPLERESULTS),
                   "MultipleResultsFound");
  ck_assert_int_eq(rt_errkind_byname("DataError"), RT_EDATA);
  ck_assert_int_eq(rt_errkind_byname("Nope"), RT_OK);
}
END_TEST

START_TEST(error_messages) {
  rt_error err = RT_ERROR_INIT;
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ck_assert_int_eq(rt_error_set(&err, RT_EDATA, "bad %d", 7), -1);
  ck_assert_str_eq(err.message, "bad 7");
  rt_error_setcode(&err, "22003");
  ck_assert_str_eq(err.code, "22003");
  rt_error_set(&err, RT_EDATA, "%s", big); /* longer than the fast path */
  ck_assert_uint_eq(strlen(err.message), sizeof big - 1);
  ck_assert_str_eq(err.code, "");
  rt_error_clear(&err);
  ck_assert_ptr_null(err.message);
  ck_assert_int_eq(err.kind, RT_OK);
}
END_TEST

START_TEST(strbuf_grows) {
  rt_strbuf b = RT_STRBUF_INIT;
  char *s;
  int i;
  for (i = 0; i < 1000; i++) rt_sb_addf(&b, "%d,", i % 10);
  ck_assert_uint_eq(b.n, 2000);
  rt_sb_adds(&b, "end");
  s = rt_sb_take(&b);
  ck_assert_str_eq(s + 2000, "end");
  ck_assert_ptr_null(b.p);
  free(s);
}
END_TEST

START_TEST(float_repr_matches_python) {
  char buf[32];
  ck_assert_str_eq(rt_float_repr(1.0, buf), "1.0");
  ck_assert_str_eq(rt_float_repr(0.1, buf), "0.1");
  ck_assert_str_eq(rt_float_repr(-2.5, buf), "-2.5");
  ck_assert_str_eq(rt_float_repr(1e16, buf), "1e+16");
  ck_assert_str_eq(rt_float_repr(1e15, buf), "1000000000000000.0");
  ck_assert_str_eq(rt_float_repr(1.5e-5, buf), "1.5e-05");
  ck_assert_str_eq(rt_float_repr(0.0001, buf), "0.0001");
  ck_assert_str_eq(rt_float_repr(123.456, buf), "123.456");
  ck_assert_str_eq(rt_float_repr(1.0 / 3.0, buf), "0.3333333333333333");
  ck_assert_str_eq(rt_float_repr(-0.0, buf), "-0.0");
}
END_TEST

static int finalized;

static void count_finalize(void *stmt) {
  (void)stmt;
  finalized++;
}

/* Texts that share a prefix or differ in length are different statements;
** a busy slot is not taken; the text taken last is found again. */
START_TEST(stmtcache_by_text) {
  rt_stmtcache c;
  rt_stmtslot *a, *b, *s;
  int sa, sb, sc;
  rt_stmtcache_init(&c, count_finalize);
  ck_assert_ptr_null(rt_stmtcache_take(&c, "SELECT 1", &s));
  ck_assert_ptr_null(s);
  rt_stmtcache_put(&c, "SELECT 1", &sa, &a);
  ck_assert_ptr_nonnull(a);
  rt_stmtcache_put(&c, "SELECT 12", &sb, &b);
  ck_assert_ptr_nonnull(b);
  /* both busy: no text is taken twice */
  ck_assert_ptr_null(rt_stmtcache_take(&c, "SELECT 1", &s));
  rt_stmtcache_release(a);
  rt_stmtcache_release(b);
  ck_assert_ptr_eq(rt_stmtcache_take(&c, "SELECT 12", &s), &sb);
  ck_assert_ptr_eq(s, b);
  rt_stmtcache_release(s);
  ck_assert_ptr_eq(rt_stmtcache_take(&c, "SELECT 1", &s), &sa);
  ck_assert_ptr_eq(s, a);
  rt_stmtcache_release(s);
  ck_assert_ptr_null(rt_stmtcache_take(&c, "SELECT 2", &s));
  ck_assert_ptr_null(rt_stmtcache_take(&c, "SELECT ", &s));
  /* the same text while its slot is busy stays private */
  ck_assert_ptr_eq(rt_stmtcache_take(&c, "SELECT 1", &s), &sa);
  rt_stmtcache_put(&c, "SELECT 1", &sc, &b);
  ck_assert_ptr_null(b);
  rt_stmtcache_release(s);
  ck_assert_ptr_eq(rt_stmtcache_take(&c, "SELECT 1", &s), &sa);
  rt_stmtcache_release(s);
  finalized = 0;
  rt_stmtcache_free(&c);
  ck_assert_int_eq(finalized, 2);
}
END_TEST

/* After forget no text is found: a free statement is finalized at once,
** one in use when its slot goes to another text. */
START_TEST(stmtcache_forget) {
  rt_stmtcache c;
  rt_stmtslot *a, *b, *s;
  int sa, sb, sc;
  rt_stmtcache_init(&c, count_finalize);
  rt_stmtcache_put(&c, "SELECT 1", &sa, &a);
  rt_stmtcache_put(&c, "SELECT 2", &sb, &b);
  rt_stmtcache_release(a);
  finalized = 0;
  rt_stmtcache_forget(&c);
  ck_assert_int_eq(finalized, 1);
  ck_assert_ptr_null(rt_stmtcache_take(&c, "SELECT 1", &s));
  rt_stmtcache_release(b);
  ck_assert_ptr_null(rt_stmtcache_take(&c, "SELECT 2", &s));
  rt_stmtcache_put(&c, "SELECT 1", &sc, &a);
  ck_assert_ptr_nonnull(a);
  rt_stmtcache_release(a);
  ck_assert_ptr_eq(rt_stmtcache_take(&c, "SELECT 1", &s), &sc);
  rt_stmtcache_release(s);
  finalized = 0;
  rt_stmtcache_free(&c);
  ck_assert_int_eq(finalized, 2); /* sb and sc, each once */
}
END_TEST

int main(void) {
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, url_full);
  tcase_add_test(tc, url_socket_query);
  tcase_add_test(tc, url_sqlite_forms);
  tcase_add_test(tc, url_ipv6_and_errors);
  tcase_add_test(tc, url_render_parses_back);
  tcase_add_test(tc, pg_decode_values);
  tcase_add_test(tc, my_decode_values);
  tcase_add_test(tc, error_hierarchy);
  tcase_add_test(tc, error_messages);
  tcase_add_test(tc, strbuf_grows);
  tcase_add_test(tc, float_repr_matches_python);
  tcase_add_test(tc, stmtcache_by_text);
  tcase_add_test(tc, stmtcache_forget);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
