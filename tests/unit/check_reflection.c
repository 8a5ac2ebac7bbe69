/*
** check_reflection.c -- core/reflection through the C API: SQLite always,
** PostgreSQL and MySQL when RETORT_TEST_PG / RETORT_TEST_MYSQL are set.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reflection.h"
#include "dialects/regex_reflect.h"

static void exec_ok(rt_connection *c, const char *sql) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  ck_assert_msg(rt_connection_execute(c, sql, NULL, 0, 0, &cur, &err) == 0,
                "%s: %s", sql, err.message);
  cur->conn->drv->cursor_close(cur);
}

static void exec_quiet(rt_connection *c, const char *sql) {
  rt_error err = RT_ERROR_INIT;
  rt_cursor *cur = NULL;
  if (rt_connection_execute(c, sql, NULL, 0, 0, &cur, &err) == 0)
    cur->conn->drv->cursor_close(cur);
  rt_error_clear(&err);
}

/* "a,b,c" against a name list */
static void names_eq(const rt_names *l, const char *want) {
  char buf[512];
  int i;
  buf[0] = '\0';
  for (i = 0; i < l->n; i++) {
    if (i) strcat(buf, ",");
    strcat(buf, l->v[i] ? l->v[i] : "<null>");
  }
  ck_assert_str_eq(buf, want);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The same, for the names starting "rtc_" only (a server's database is
** shared with other tests), sorted: PostgreSQL lists them in the
** catalog's order, as SQLAlchemy does. */
static void ours_eq(const rt_names *l, const char *want) {
  rt_names kept = {0, NULL};
  const char *v[64];
  int i;
  kept.v = v;
  for (i = 0; i < l->n && kept.n < 64; i++)
    if (l->v[i] && strncmp(l->v[i], "rtc_", 4) == 0) v[kept.n++] = l->v[i];
  qsort(v, (size_t)kept.n, sizeof *v, cmp_str);
  names_eq(&kept, want);
}

static int sorted_pos(const rt_refl *r, const char *table) {
  int i;
  for (i = 0; i < r->nsorted; i++)
    if (r->sorted[i].table && strcmp(r->sorted[i].table, table) == 0) return i;
  return -1;
}

static const char *const schema_sql[] = {
    "CREATE TABLE rtc_parent (a INTEGER NOT NULL, b VARCHAR(20) NOT NULL, "
    "label VARCHAR(50) DEFAULT 'none', PRIMARY KEY (a, b), "
    "CONSTRAINT rtc_uq_parent_label UNIQUE (label))",
    "CREATE TABLE rtc_node (id INTEGER PRIMARY KEY, parent_id INTEGER, "
    "pa INTEGER, pb VARCHAR(20), name VARCHAR(50) NOT NULL, code CHAR(4), "
    "qty INTEGER DEFAULT 0 NOT NULL, UNIQUE (code), "
    "CONSTRAINT rtc_fk_node_parent FOREIGN KEY (pa, pb) REFERENCES rtc_parent "
    "(a, b) "
    "ON DELETE CASCADE ON UPDATE SET NULL, "
    "FOREIGN KEY (parent_id) REFERENCES rtc_node (id))",
    "CREATE INDEX rtc_ix_node_name ON rtc_node (name)",
    "CREATE UNIQUE INDEX rtc_ux_node_pa_qty ON rtc_node (pa, qty)",
    "CREATE VIEW rtc_node_names AS SELECT id, name FROM rtc_node",
    NULL};

static void load_schema(rt_connection *c) {
  int i;
  exec_quiet(c, "DROP VIEW IF EXISTS rtc_node_names");
  exec_quiet(c, "DROP TABLE IF EXISTS rtc_node");
  exec_quiet(c, "DROP TABLE IF EXISTS rtc_parent");
  for (i = 0; schema_sql[i]; i++) exec_ok(c, schema_sql[i]);
}

static void drop_schema(rt_connection *c) {
  exec_quiet(c, "DROP VIEW IF EXISTS rtc_node_names");
  exec_quiet(c, "DROP TABLE IF EXISTS rtc_node");
  exec_quiet(c, "DROP TABLE IF EXISTS rtc_parent");
}

/* What every dialect agrees on for the schema above. */
static void check_common(rt_connection *c) {
  rt_error err = RT_ERROR_INIT;
  rt_refl r;
  int exists = -1, i;

  rt_refl_init(&r);
  ck_assert_int_eq(rt_reflect_table_names(c, NULL, &r, &err), 0);
  ours_eq(&r.names, "rtc_node,rtc_parent");
  rt_refl_free(&r);
  ck_assert_int_eq(rt_reflect_view_names(c, NULL, &r, &err), 0);
  ours_eq(&r.names, "rtc_node_names");
  rt_refl_free(&r);

  ck_assert_int_eq(rt_reflect_has_table(c, NULL, "rtc_node", &exists, &err), 0);
  ck_assert_int_eq(exists, 1);
  ck_assert_int_eq(rt_reflect_has_table(c, NULL, "nope", &exists, &err), 0);
  ck_assert_int_eq(exists, 0);
  /* (the table-level calls answer nothing on SQLite, as SQLAlchemy 1.4's
  ** do; reflecting the whole table raises everywhere) */
  ck_assert_int_eq(rt_reflect_table(c, NULL, "nope", &r, &err), -1);
  ck_assert_int_eq(err.kind, RT_ENOSUCHTABLE);
  ck_assert_str_eq(err.message, "nope");
  rt_error_clear(&err);
  rt_refl_free(&r);

  ck_assert_int_eq(rt_reflect_columns(c, NULL, "rtc_parent", &r, &err), 0);
  ck_assert_int_eq(r.ncols, 3);
  ck_assert_str_eq(r.cols[0].name, "a");
  ck_assert_int_eq(r.cols[0].nullable, 0);
  ck_assert_ptr_null(r.cols[0].dflt);
  ck_assert_str_eq(r.cols[2].name, "label");
  ck_assert_int_eq(r.cols[2].nullable, 1);
  ck_assert_ptr_nonnull(strstr(r.cols[2].dflt, "'none'"));
  rt_refl_free(&r);

  ck_assert_int_eq(rt_reflect_pk(c, NULL, "rtc_parent", &r, &err), 0);
  names_eq(&r.pk.cols, "a,b");
  rt_refl_free(&r);

  ck_assert_int_eq(rt_reflect_foreign_keys(c, NULL, "rtc_node", &r, &err), 0);
  ck_assert_int_eq(r.nfks, 2);
  ck_assert_str_eq(r.fks[0].name, "rtc_fk_node_parent");
  names_eq(&r.fks[0].cols, "pa,pb");
  ck_assert_str_eq(r.fks[0].reftable, "rtc_parent");
  names_eq(&r.fks[0].refcols, "a,b");
  ck_assert_ptr_null(r.fks[0].refschema);
  ck_assert_str_eq(r.fks[0].ondelete, "CASCADE");
  ck_assert_str_eq(r.fks[0].onupdate, "SET NULL");
  ck_assert_str_eq(r.fks[1].reftable, "rtc_node");
  names_eq(&r.fks[1].cols, "parent_id");
  ck_assert_ptr_null(r.fks[1].ondelete);
  rt_refl_free(&r);

  ck_assert_int_eq(rt_reflect_indexes(c, NULL, "rtc_node", &r, &err), 0);
  for (i = 0; i < r.nindexes; i++)
    if (strcmp(r.indexes[i].name, "rtc_ux_node_pa_qty") == 0) break;
  ck_assert_int_lt(i, r.nindexes);
  ck_assert_int_eq(r.indexes[i].unique, 1);
  names_eq(&r.indexes[i].cols, "pa,qty");
  rt_refl_free(&r);

  ck_assert_int_eq(
      rt_reflect_unique_constraints(c, NULL, "rtc_parent", &r, &err), 0);
  ck_assert_int_eq(r.nuniques, 1);
  ck_assert_str_eq(r.uniques[0].name, "rtc_uq_parent_label");
  names_eq(&r.uniques[0].cols, "label");
  rt_refl_free(&r);

  /* everything at once, as Table autoload asks */
  ck_assert_int_eq(rt_reflect_table(c, NULL, "rtc_node", &r, &err), 0);
  ck_assert_int_eq(r.ncols, 7);
  names_eq(&r.pk.cols, "id");
  ck_assert_int_eq(r.nfks, 2);
  ck_assert_int_ge(r.nindexes, 2);
  ck_assert_int_ge(r.nuniques, 1);
  rt_refl_free(&r);

  ck_assert_int_eq(rt_reflect_sorted_tables(c, NULL, &r, &err), 0);
  ck_assert_int_ge(sorted_pos(&r, "rtc_parent"), 0);
  ck_assert_int_lt(sorted_pos(&r, "rtc_parent"), sorted_pos(&r, "rtc_node"));
  ck_assert_int_eq(r.sorted[sorted_pos(&r, "rtc_node")].fknames.n, 2);
  ck_assert_ptr_null(r.sorted[r.nsorted - 1].table);
  rt_refl_free(&r);
}

START_TEST(sqlite_schema) {
  rt_error err = RT_ERROR_INIT;
  rt_engine *e = rt_engine_create("sqlite://", NULL, &err);
  rt_connection c;
  rt_refl r;
  ck_assert_ptr_nonnull(e);
  rt_connection_init(&c, e);
  load_schema(&c);
  check_common(&c);

  rt_refl_init(&r);
  ck_assert_int_eq(rt_reflect_schema_names(&c, &r, &err), 0);
  names_eq(&r.names, "main");
  rt_refl_free(&r);

  /* SQLite specifics: declared types as written (upper-cased), the pk
  ** position in each column, unnamed constraints */
  ck_assert_int_eq(rt_reflect_columns(&c, NULL, "rtc_node", &r, &err), 0);
  ck_assert_str_eq(r.cols[3].type, "VARCHAR(20)");
  ck_assert_int_eq(r.cols[0].pk, 1);
  ck_assert_int_eq(r.cols[0].autoincrement, RT_AUTOINC_AUTO);
  ck_assert_str_eq(r.cols[6].dflt, "0");
  rt_refl_free(&r);
  ck_assert_int_eq(
      rt_reflect_unique_constraints(&c, NULL, "rtc_node", &r, &err), 0);
  ck_assert_int_eq(r.nuniques, 1);
  ck_assert_ptr_null(r.uniques[0].name);
  names_eq(&r.uniques[0].cols, "code");
  rt_refl_free(&r);
  ck_assert_int_eq(rt_reflect_indexes(&c, NULL, "rtc_node", &r, &err), 0);
  ck_assert_int_eq(r.nindexes, 2); /* not the automatic ones */
  ck_assert_str_eq(r.indexes[0].name, "rtc_ix_node_name");
  rt_refl_free(&r);
  /* the schema argument names an attached database */
  ck_assert_int_eq(rt_reflect_pk(&c, "main", "rtc_parent", &r, &err), 0);
  names_eq(&r.pk.cols, "a,b");
  rt_refl_free(&r);
  ck_assert_int_eq(rt_reflect_table_names(&c, "nosuchdb", &r, &err), -1);
  rt_error_clear(&err);
  rt_refl_free(&r);

  rt_connection_close(&c);
  rt_engine_free(e);
}
END_TEST

/* PostgreSQL and MySQL, when a server is given and its driver is built. */
static void server_schema(const char *env) {
  const char *url = getenv(env);
  rt_error err = RT_ERROR_INIT;
  rt_engine *e;
  rt_connection c;
  if (url == NULL || *url == '\0') {
    printf("SKIP %s is not set\n", env);
    return;
  }
  e = rt_engine_create(url, NULL, &err);
  if (e == NULL) {
    printf("SKIP %s: %s\n", env, err.message);
    rt_error_clear(&err);
    return;
  }
  rt_connection_init(&c, e);
  if (rt_connection_acquire(&c, &err) != 0) {
    printf("SKIP %s: %s\n", env, err.message);
    rt_error_clear(&err);
    rt_connection_close(&c);
    rt_engine_free(e);
    return;
  }
  load_schema(&c);
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  check_common(&c);
  ck_assert_int_eq(rt_connection_rollback(&c, &err), 0);
  drop_schema(&c);
  ck_assert_int_eq(rt_connection_commit(&c, &err), 0);
  rt_connection_close(&c);
  rt_engine_free(e);
}

START_TEST(postgresql_schema) {
  server_schema("RETORT_TEST_PG");
}
END_TEST

START_TEST(mysql_schema) {
  server_schema("RETORT_TEST_MYSQL");
}
END_TEST

START_TEST(arena_grows) {
  rt_refl r;
  int i;
  char buf[16];
  rt_refl_init(&r);
  for (i = 0; i < 1000; i++) {
    snprintf(buf, sizeof buf, "n%d", i);
    ck_assert_int_eq(rt_names_add(&r.arena, &r.names, buf), 0);
  }
  ck_assert_int_eq(r.names.n, 1000);
  ck_assert_str_eq(r.names.v[0], "n0");
  ck_assert_str_eq(r.names.v[999], "n999");
  ck_assert_int_eq(rt_names_add(&r.arena, &r.names, NULL), 0);
  ck_assert_ptr_null(r.names.v[1000]);
  ck_assert_ptr_nonnull(rt_arena_alloc(&r.arena, 100000));
  rt_refl_free(&r);
  ck_assert_int_eq(r.names.n, 0);
}
END_TEST

/*
** The matcher behind SQLite's reflection against Python's re: each span
** list ("start:end" per group, group 0 first) is what re.search gave.
*/
static void rx_case(const char *pattern, int icase, const char *s,
                    const char *want) {
  rt_rx *rx = rt_rx_compile(pattern, icase);
  int cap[2 * RT_RX_MAXGROUPS], g, rc;
  char got[256] = "";
  ck_assert_msg(rx != NULL, "compile %s", pattern);
  rc = rt_rx_search(rx, s, strlen(s), 0, cap);
  rt_rx_free(rx);
  if (want == NULL) {
    ck_assert_msg(rc == 0, "%s on %s: a match", pattern, s);
    return;
  }
  ck_assert_msg(rc == 1, "%s on %s: no match", pattern, s);
  for (g = 0; g < RT_RX_MAXGROUPS && strlen(got) < strlen(want); g++)
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d:%d",
             g ? "," : "", cap[2 * g], cap[2 * g + 1]);
  ck_assert_str_eq(got, want);
}

START_TEST(python_patterns) {
  rx_case("a.+?c", 0, "xxabcbc", "2:5");
  rx_case("a.+c", 0, "xxabcbc", "2:7");
  rx_case("(?:CONSTRAINT (\\w+) +)?FOREIGN KEY *\\( *(.+?) *\\)", 1,
          "x, CONSTRAINT fk_a FOREIGN KEY (a, b) REF", "3:37,14:18,32:36");
  rx_case("(?:\\\"(.+?)\\\")|([a-z0-9_]+)", 1, "  \"we \"\"ird\" ",
          "2:7,3:6,-1:-1");
  rx_case("(?:\\\"(.+?)\\\")|([a-z0-9_]+)", 1, " Col_9 ", "1:6,-1:-1,1:6");
  rx_case("ab|cd|ef", 0, "xxef", "2:4");
  rx_case("\\bON\\b", 0, "ACTION ON", "7:9");
  rx_case("[^,]*\\s+AS\\s+\\(([^,]*)\\)", 1, "g INT AS (a*2), h", "0:14,10:13");
  rx_case("(?:[\\[`])?([a-z0-9_]+)(?:[\\]`])? +UNIQUE", 1, "[col] UNIQUE",
          "0:12,1:4");
  rx_case("x(y)?z", 0, "xz", "0:2,-1:-1");
  rx_case("a.c", 0, "a\nc abc", "4:7");
  rx_case("ABC", 0, "xabc", NULL);
  rx_case("ABC", 1, "xabc", "1:4");
  rx_case("(a|ab)(c|bcd)(d*)", 0, "abcd", "0:4,0:1,1:4,4:4");
  rx_case("CHECK *\\( *(.+) *\\),? *", 1, "CHECK (a > (1)), x", "0:17,7:14");
  /* syntax outside the subset is refused, not misread */
  ck_assert_ptr_null(rt_rx_compile("a{2}", 0));
  ck_assert_ptr_null(rt_rx_compile("(?P<n>a)", 0));
  ck_assert_ptr_null(rt_rx_compile("(a", 0));
  ck_assert_ptr_null(rt_rx_compile("a)", 0));
}
END_TEST

int main(void) {
  Suite *s = suite_create("reflection");
  TCase *tc = tcase_create("reflection");
  SRunner *sr;
  int failed;
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, arena_grows);
  tcase_add_test(tc, python_patterns);
  tcase_add_test(tc, sqlite_schema);
  tcase_add_test(tc, postgresql_schema);
  tcase_add_test(tc, mysql_schema);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
