/*
** check_compiler.c -- the expression language in C, without Lua: schema,
** statement trees, and the text each dialect renders (expected strings from
** SQLAlchemy 1.4, the same as tests/lua/sql_cases.lua).
*/
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/ddl.h"
#include "core/dml.h"
#include "core/elements.h"
#include "core/schema.h"
#include "core/selectable.h"

static rt_metadata *md;
static rt_node *users, *addresses;

static rt_node *col(rt_node *t, const char *name, rt_type *ty, unsigned flags) {
  rt_error err = RT_ERROR_INIT;
  rt_node *c = rt_column_new(name, ty);
  c->flags |= flags;
  ck_assert_int_eq(rt_table_add_column(t, c, &err), 0);
  rt_unref(c); /* our reference now counts on the table */
  return c;
}

static void add_fk(rt_node *t, const char *c, const char *reftable,
                   const char *refcol) {
  rt_constraint k;
  memset(&k, 0, sizeof k);
  k.kind = RT_CON_FK;
  k.ncols = 1;
  k.cols = calloc(2, sizeof(char *));
  k.refcols = calloc(2, sizeof(char *));
  k.cols[0] = rt_strdup(c);
  k.refcols[0] = rt_strdup(refcol);
  k.reftable = rt_strdup(reftable);
  k.ondelete = rt_strdup("CASCADE");
  ck_assert_int_eq(rt_table_add_constraint(t, &k), 0);
}

static void setup(void) {
  rt_error err = RT_ERROR_INIT;
  rt_type *s50 = rt_type_new(RT_TY_STRING), *s100 = rt_type_new(RT_TY_STRING);
  s50->length = 50;
  s100->length = 100;
  md = rt_metadata_new();
  users = rt_table_new(md, "users", &err);
  col(users, "id", rt_type_bare(RT_TY_INTEGER), RT_F_PK | RT_F_NOTNULL);
  col(users, "name", s50, RT_F_NOTNULL);
  col(users, "order", rt_type_bare(RT_TY_INTEGER), 0);
  addresses = rt_table_new(md, "addresses", &err);
  col(addresses, "id", rt_type_bare(RT_TY_INTEGER), RT_F_PK | RT_F_NOTNULL);
  col(addresses, "user_id", NULL, RT_F_NOTNULL);
  col(addresses, "email", s100, 0);
  add_fk(addresses, "user_id", "users", "id");
  rt_table_resolve_types(addresses);
  rt_type_unref(s50);
  rt_type_unref(s100);
}

static void teardown(void) {
  rt_unref(users);
  rt_unref(addresses);
  rt_metadata_free(md);
}

/* Compile and compare, then free the statement. */
static void expect(rt_node *stmt, const char *dialect, const char *sql,
                   int nparams) {
  rt_compiled c;
  rt_error err = RT_ERROR_INIT;
  ck_assert_ptr_nonnull(stmt);
  ck_assert_msg(rt_compile(stmt, rt_dialect_find(dialect), NULL, &c, &err) == 0,
                "compile: %s", err.message);
  ck_assert_str_eq(c.sql, sql);
  ck_assert_int_eq(c.nparams, nparams);
  rt_compiled_free(&c);
}

static rt_node *C(rt_node *t, const char *k) {
  return rt_ref(rt_table_column(t, k));
}

static rt_node *eq_int(rt_node *t, const char *k, int64_t v) {
  rt_node *c = C(t, k);
  return rt_binary(RT_OP_EQ, c, rt_bind_against(c, rt_vint(v)));
}

static rt_node *select_of(rt_node *a, rt_node *b) {
  rt_node *s = rt_select_new();
  rt_node_push(s->kids[RT_S_COLUMNS], a);
  if (b) rt_node_push(s->kids[RT_S_COLUMNS], b);
  return s;
}

START_TEST(select_where) {
  rt_node *s = select_of(C(users, "name"), NULL);
  rt_node *w = rt_gen_where(s, RT_S_WHERE, eq_int(users, "id", 5));
  rt_unref(s);
  expect(w, "default",
         "SELECT users.name \nFROM users \nWHERE users.id = :id_1", 1);
  expect(w, "sqlite", "SELECT users.name \nFROM users \nWHERE users.id = ?", 1);
  expect(w, "postgresql",
         "SELECT users.name \nFROM users \nWHERE users.id = $1", 1);
  rt_unref(w);
}
END_TEST

START_TEST(quoting) {
  rt_node *s = select_of(C(users, "order"), NULL);
  expect(s, "default", "SELECT users.\"order\" \nFROM users", 0);
  expect(s, "mysql", "SELECT users.`order` \nFROM users", 0);
  rt_unref(s);
}
END_TEST

START_TEST(join_inferred) {
  rt_error err = RT_ERROR_INIT;
  rt_node *j = rt_join(rt_ref(users), rt_ref(addresses), NULL, 0, &err);
  rt_node *s = select_of(C(users, "name"), C(addresses, "email")), *s2;
  ck_assert_ptr_nonnull(j);
  s2 = rt_gen_append(s, RT_S_FROMS, j);
  expect(s2, "sqlite",
         "SELECT users.name, addresses.email \nFROM users JOIN addresses ON "
         "users.id = addresses.user_id",
         0);
  expect(s2, "mysql",
         "SELECT users.name, addresses.email \nFROM users INNER JOIN addresses "
         "ON users.id = addresses.user_id",
         0);
  rt_unref(s);
  rt_unref(s2);
}
END_TEST

START_TEST(join_no_fk) {
  rt_error err = RT_ERROR_INIT;
  rt_node *j = rt_join(rt_ref(users), rt_ref(users), NULL, 0, &err);
  ck_assert_ptr_null(j);
  /* SQLAlchemy's NoForeignKeysError, an ArgumentError */
  ck_assert_int_eq(err.kind, RT_ENOFOREIGNKEYS);
  ck_assert(rt_errkind_isa(err.kind, RT_EARGUMENT));
  ck_assert_ptr_nonnull(strstr(err.message, "'users' and 'users'"));
  rt_error_clear(&err);
}
END_TEST

START_TEST(in_and_precedence) {
  rt_node *c = C(users, "id"), *list = rt_list_new(), *in, *s, *w, *arith;
  rt_node_push(list, rt_bind("id", rt_vint(1), NULL, 0));
  rt_node_push(list, rt_bind("id", rt_vint(2), NULL, 0));
  in = rt_in(c, list, 0);
  s = select_of(C(users, "id"), NULL);
  w = rt_gen_where(s, RT_S_WHERE, in);
  expect(w, "default",
         "SELECT users.id \nFROM users \nWHERE users.id IN (:id_1_1, :id_1_2)",
         2);
  rt_unref(w);
  rt_unref(s);
  /* (id + 1) - 2 * id */
  c = C(users, "id");
  arith = rt_binary(
      RT_OP_SUB, rt_binary(RT_OP_ADD, c, rt_bind_against(c, rt_vint(1))),
      rt_binary(RT_OP_MUL, rt_bind_against(c, rt_vint(2)), C(users, "id")));
  expect(arith, "default", "(users.id + :id_1) - :id_2 * users.id", 2);
  rt_unref(arith);
}
END_TEST

START_TEST(not_negates) {
  rt_node *e = rt_not(eq_int(users, "id", 1));
  expect(e, "default", "users.id != :id_1", 1);
  rt_unref(e);
}
END_TEST

START_TEST(limit_offset) {
  rt_node *s = select_of(C(users, "id"), NULL), *l, *o;
  l = rt_gen_set(s, RT_S_LIMIT,
                 rt_bind("param", rt_vint(10), rt_type_bare(RT_TY_INTEGER), 1));
  o = rt_gen_set(l, RT_S_OFFSET,
                 rt_bind("param", rt_vint(5), rt_type_bare(RT_TY_INTEGER), 1));
  expect(o, "default",
         "SELECT users.id \nFROM users\n LIMIT :param_1 OFFSET :param_2", 2);
  expect(o, "mysql", "SELECT users.id \nFROM users \n LIMIT ?, ?", 2);
  expect(l, "sqlite", "SELECT users.id \nFROM users\n LIMIT ? OFFSET ?", 2);
  rt_unref(s);
  rt_unref(l);
  rt_unref(o);
}
END_TEST

START_TEST(insert_update_delete) {
  rt_node *ins = rt_insert_new(users), *i2, *up, *u2, *u3, *del, *d2;
  i2 = rt_dml_value(ins, "name", rt_bind("name", rt_vtext("x", 1), NULL, 0));
  expect(i2, "default", "INSERT INTO users (name) VALUES (:name)", 1);
  expect(i2, "postgresql",
         "INSERT INTO users (name) VALUES ($1) RETURNING users.id", 1);
  up = rt_update_new(users);
  u2 = rt_dml_value(up, "name", rt_bind("name", rt_vtext("y", 1), NULL, 0));
  u3 = rt_gen_where(u2, RT_D_WHERE, eq_int(users, "id", 3));
  expect(u3, "default", "UPDATE users SET name=:name WHERE users.id = :id_1",
         2);
  del = rt_delete_new(users);
  d2 = rt_gen_where(del, RT_D_WHERE, eq_int(users, "id", 3));
  expect(d2, "sqlite", "DELETE FROM users WHERE users.id = ?", 1);
  rt_unref(ins);
  rt_unref(i2);
  rt_unref(up);
  rt_unref(u2);
  rt_unref(u3);
  rt_unref(del);
  rt_unref(d2);
}
END_TEST

START_TEST(ddl_create) {
  rt_node *d = rt_ddl_new(RT_DDL_CREATE_TABLE, addresses, NULL);
  expect(
      d, "postgresql",
      "\nCREATE TABLE addresses (\n\tid SERIAL NOT NULL, \n\tuser_id INTEGER "
      "NOT NULL, \n\temail VARCHAR(100), \n\tPRIMARY KEY (id), \n\tFOREIGN "
      "KEY(user_id) REFERENCES users (id) ON DELETE CASCADE\n)\n\n",
      0);
  rt_unref(d);
}
END_TEST

START_TEST(sorted_tables) {
  rt_node **list;
  int n = rt_metadata_sorted(md, &list);
  ck_assert_int_eq(n, 2);
  ck_assert_str_eq(list[0]->name, "users");
  ck_assert_str_eq(list[1]->name, "addresses");
  free(list);
}
END_TEST

START_TEST(returning_mysql_fails) {
  rt_node *ins = rt_insert_new(users), *r;
  rt_compiled c;
  rt_error err = RT_ERROR_INIT;
  r = rt_gen_append(ins, RT_D_RETURNING, C(users, "id"));
  ck_assert_int_eq(rt_compile(r, &rt_dialect_mysql, NULL, &c, &err), -1);
  ck_assert_int_eq(err.kind, RT_ECOMPILE);
  ck_assert_ptr_nonnull(strstr(err.message, "mysql"));
  rt_error_clear(&err);
  rt_unref(ins);
  rt_unref(r);
}
END_TEST

START_TEST(literal_binds) {
  rt_node *e = rt_binary(RT_OP_EQ, C(users, "name"),
                         rt_bind("name", rt_vtext("it's", 4), NULL, 1));
  rt_compile_opts o = {1, NULL, 0, 0, 0};
  rt_compiled c;
  rt_error err = RT_ERROR_INIT;
  ck_assert_int_eq(rt_compile(e, &rt_dialect_sqlite, &o, &c, &err), 0);
  ck_assert_str_eq(c.sql, "users.name = 'it''s'");
  ck_assert_int_eq(c.nparams, 0);
  rt_compiled_free(&c);
  rt_unref(e);
}
END_TEST

/* Adding or replacing a column clears its RT_F_LIGHT alone: every flag
** above the low 16 bits survives (a narrow mask once dropped them). */
START_TEST(add_column_keeps_high_flags) {
  rt_error err = RT_ERROR_INIT;
  rt_node *t = rt_table_new(md, "flagged", &err);
  rt_node *c = rt_column_new("x", rt_type_bare(RT_TY_INTEGER));
  rt_node *d = rt_column_new("x", rt_type_bare(RT_TY_INTEGER));
  unsigned high = RT_F_DEDUPED | RT_F_LATERAL | RT_F_REQUIRED;
  c->flags |= RT_F_LIGHT | RT_F_NOTNULL | high;
  ck_assert_int_eq(rt_table_add_column(t, c, &err), 0);
  ck_assert_uint_eq(c->flags, RT_F_NOTNULL | high);
  d->flags |= RT_F_LIGHT | high;
  ck_assert_int_eq(rt_table_replace_column(t, d, &err), 0);
  ck_assert_uint_eq(d->flags, high);
  rt_unref(c);
  rt_unref(d);
  rt_unref(t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("compiler");
  TCase *tc = tcase_create("compiler");
  SRunner *sr;
  int failed;
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, select_where);
  tcase_add_test(tc, quoting);
  tcase_add_test(tc, join_inferred);
  tcase_add_test(tc, join_no_fk);
  tcase_add_test(tc, in_and_precedence);
  tcase_add_test(tc, not_negates);
  tcase_add_test(tc, limit_offset);
  tcase_add_test(tc, insert_update_delete);
  tcase_add_test(tc, ddl_create);
  tcase_add_test(tc, sorted_tables);
  tcase_add_test(tc, returning_mysql_fails);
  tcase_add_test(tc, literal_binds);
  tcase_add_test(tc, add_column_keeps_high_flags);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
