/*
** check_shell_classify.c -- the shell's line classifier and SQL statement
** scanner.
*/
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "shell/classify.h"

#define PG (RT_SQL_DOLLAR | RT_SQL_NESTCOMMENT)
#define MY RT_SQL_BACKSLASH

static void is_kind(const char *line, rt_linekind want) {
  ck_assert_msg(rt_classify_line(line) == want, "%s: got %d, want %d", line,
                (int)rt_classify_line(line), (int)want);
}

START_TEST(sql_lines) {
  is_kind("select * from users;", RT_LINE_SQL);
  is_kind("SELECT 1", RT_LINE_SQL);
  is_kind("  Select\t1", RT_LINE_SQL);
  is_kind("BEGIN;", RT_LINE_SQL);
  is_kind("begin", RT_LINE_SQL);
  /* SQL files open with block comments; no Lua line starts so */
  is_kind("/* Chinook */", RT_LINE_SQL);
  is_kind("  /*****", RT_LINE_SQL);
  is_kind("/ 2", RT_LINE_LUA);
  is_kind("select*from t", RT_LINE_SQL);
  is_kind("insert into t values (1);", RT_LINE_SQL);
  is_kind("update t set x = 1;", RT_LINE_SQL);
  is_kind("delete from t", RT_LINE_SQL);
  is_kind("with x as (select 1) select * from x;", RT_LINE_SQL);
  is_kind("create table t (x int)", RT_LINE_SQL);
  is_kind("DROP TABLE t;", RT_LINE_SQL);
  is_kind("alter table t add y int", RT_LINE_SQL);
  is_kind("explain select 1", RT_LINE_SQL);
  is_kind("pragma table_info(t)", RT_LINE_SQL);
  is_kind("show tables", RT_LINE_SQL);
  is_kind("describe t", RT_LINE_SQL);
  is_kind("commit", RT_LINE_SQL);
  is_kind("rollback;", RT_LINE_SQL);
  is_kind("savepoint a", RT_LINE_SQL);
  is_kind("release savepoint a", RT_LINE_SQL);
  is_kind("values (1), (2)", RT_LINE_SQL);
  is_kind("truncate t", RT_LINE_SQL);
  is_kind("grant all on t to u", RT_LINE_SQL);
  is_kind("revoke all on t from u", RT_LINE_SQL);
  is_kind("analyze", RT_LINE_SQL);
  is_kind("vacuum;", RT_LINE_SQL);
  is_kind("set search_path to x", RT_LINE_SQL);
  is_kind("replace into t values (1)", RT_LINE_SQL);
  is_kind("copy t to stdout", RT_LINE_SQL);
  is_kind("call p()", RT_LINE_SQL);
  is_kind("lock table t", RT_LINE_SQL);
  is_kind("table t", RT_LINE_SQL);
  is_kind("use test", RT_LINE_SQL);
  is_kind("start transaction", RT_LINE_SQL);
  is_kind("DO $$ BEGIN END $$;", RT_LINE_SQL);
  is_kind("do 'select 1'", RT_LINE_SQL);
  is_kind("select -- a comment", RT_LINE_SQL);
}
END_TEST

START_TEST(lua_lines) {
  is_kind("select(users)", RT_LINE_LUA);
  is_kind("select('#', 1, 2)", RT_LINE_LUA);
  is_kind("update = 1", RT_LINE_LUA);
  is_kind("select, update = 1, 2", RT_LINE_LUA);
  is_kind("begin  == 1", RT_LINE_LUA);
  is_kind("delete.x", RT_LINE_LUA);
  is_kind("update:go()", RT_LINE_LUA);
  is_kind("values[1]", RT_LINE_LUA);
  is_kind("set{1}", RT_LINE_LUA);
  is_kind("select'x'", RT_LINE_LUA);
  is_kind("select\"x\"", RT_LINE_LUA);
  is_kind("table.insert(t, 1)", RT_LINE_LUA);
  is_kind("selected = 1", RT_LINE_LUA);
  is_kind("selects", RT_LINE_LUA);
  is_kind("print(1)", RT_LINE_LUA);
  is_kind("1 + 1", RT_LINE_LUA);
  is_kind("", RT_LINE_LUA);
  is_kind("   ", RT_LINE_LUA);
  is_kind("do local x = 1 end", RT_LINE_LUA);
  is_kind("do", RT_LINE_LUA);
  is_kind("end", RT_LINE_LUA);
  is_kind("local select = 1", RT_LINE_LUA);
  is_kind("-- select 1", RT_LINE_LUA);
  is_kind("x = [[", RT_LINE_LUA);
}
END_TEST

START_TEST(command_lines) {
  is_kind("\\q", RT_LINE_COMMAND);
  is_kind("  \\x auto", RT_LINE_COMMAND);
  is_kind("\\?", RT_LINE_COMMAND);
}
END_TEST

/* The statements of sql, split by the scanner, joined with "|". */
static char *split(const char *sql, unsigned flags) {
  size_t n = strlen(sql), end;
  char *out = calloc(1, 2 * n + 16);
  while ((end = rt_sql_stmt_end(sql, n, flags)) > 0) {
    strncat(out, sql, end);
    strcat(out, "|");
    sql += end;
    n -= end;
  }
  strcat(out, "rest:");
  strcat(out, sql);
  return out;
}

static void splits(const char *sql, unsigned flags, const char *want) {
  char *got = split(sql, flags);
  ck_assert_msg(strcmp(got, want) == 0, "split %s\n  got:  %s\n  want: %s", sql,
                got, want);
  free(got);
}

START_TEST(split_basic) {
  splits("select 1;", 0, "select 1;|rest:");
  splits("select 1", 0, "rest:select 1");
  splits("select 1; select 2;", 0, "select 1;| select 2;|rest:");
  splits("select 1; select 2", 0, "select 1;|rest: select 2");
  splits("select 1;\nselect\n 2;\n", 0, "select 1;|\nselect\n 2;|rest:\n");
  splits(";", 0, ";|rest:");
}
END_TEST

START_TEST(split_strings) {
  splits("select 'a;b';", 0, "select 'a;b';|rest:");
  splits("select 'it''s;';", 0, "select 'it''s;';|rest:");
  splits("select 'open;", 0, "rest:select 'open;");
  splits("select 'x', 'y;", 0, "rest:select 'x', 'y;");
  /* E'' strings take backslash escapes everywhere */
  splits("select E'\\';';", PG, "select E'\\';';|rest:");
  splits("select e'a\\'b;c';", 0, "select e'a\\'b;c';|rest:");
  /* a plain '' string does not, except on MySQL */
  splits("select 'a\\';", 0, "select 'a\\';|rest:");
  splits("select 'a\\';", MY, "rest:select 'a\\';");
  splits("select 'a\\';';", MY, "select 'a\\';';|rest:");
  splits("select \"a\\\";\";", MY, "select \"a\\\";\";|rest:");
  /* a word ending in e before a quote is no E prefix */
  splits("select name'x;'", 0, "rest:select name'x;'");
}
END_TEST

START_TEST(split_identifiers) {
  splits("select \"a;b\" from t;", 0, "select \"a;b\" from t;|rest:");
  splits("select \"a\"\";\" from t;", 0, "select \"a\"\";\" from t;|rest:");
  splits("select `a;b` from t;", MY, "select `a;b` from t;|rest:");
  splits("select `a``;` from t;", MY, "select `a``;` from t;|rest:");
  splits("select `a;", MY, "rest:select `a;");
}
END_TEST

START_TEST(split_comments) {
  splits("select 1 -- no; end\n;", 0, "select 1 -- no; end\n;|rest:");
  splits("select 1 -- ;", 0, "rest:select 1 -- ;");
  splits("select /* ; */ 1;", 0, "select /* ; */ 1;|rest:");
  splits("select /* ; ", 0, "rest:select /* ; ");
  splits("select /* /* ; */ ; */ 1;", PG, "select /* /* ; */ ; */ 1;|rest:");
  splits("select /* /* */ 1;", 0, "select /* /* */ 1;|rest:");
  splits("select 1 # ;\n;", MY, "select 1 # ;\n;|rest:");
  splits("select 1 # x;", 0, "select 1 # x;|rest:");
  splits("select '--';", 0, "select '--';|rest:");
}
END_TEST

START_TEST(split_dollar) {
  splits("select $$a;b$$;", PG, "select $$a;b$$;|rest:");
  splits("select $tag$a;$$;b$tag$;", PG, "select $tag$a;$$;b$tag$;|rest:");
  splits("select $tag$a;", PG, "rest:select $tag$a;");
  splits("do $$ begin perform 1; end $$;", PG,
         "do $$ begin perform 1; end $$;|rest:");
  splits("select $1; select 2;", PG, "select $1;| select 2;|rest:");
  splits("select a$b$c; x", PG, "select a$b$c;|rest: x");
  /* not PostgreSQL: dollars are plain characters */
  splits("select $$;$$;", 0, "select $$;|$$;|rest:");
}
END_TEST

START_TEST(split_trigger) {
  splits("create trigger t after insert on x begin "
         "insert into y values (1); delete from z; end; select 1;",
         0,
         "create trigger t after insert on x begin "
         "insert into y values (1); delete from z; end;| select 1;|rest:");
  splits("CREATE TEMP TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;", 0,
         "rest:CREATE TEMP TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;");
  splits("create trigger t before insert on x for each row set new.a = 1;", MY,
         "create trigger t before insert on x for each row set new.a = "
         "1;|rest:");
}
END_TEST

START_TEST(blank_and_words) {
  char w[16];
  ck_assert(rt_sql_is_blank("", 0, 0));
  ck_assert(rt_sql_is_blank("  \n ; -- x\n /* y */", 19, 0));
  ck_assert(!rt_sql_is_blank(" /* y ", 6, 0));
  ck_assert(!rt_sql_is_blank(" x", 2, 0));
  ck_assert_str_eq(rt_sql_word(" -- c\n /* d */ select 1", 23, 0, w, sizeof w),
                   "SELECT");
  ck_assert_str_eq(rt_sql_word("create table t", 14, 1, w, sizeof w), "TABLE");
  ck_assert_str_eq(rt_sql_word("begin;", 6, 1, w, sizeof w), "");
}
END_TEST

START_TEST(tx_kinds) {
  ck_assert_int_eq(rt_sql_txkind("BEGIN", 5), 1);
  ck_assert_int_eq(rt_sql_txkind("begin transaction", 17), 1);
  ck_assert_int_eq(rt_sql_txkind("start transaction", 17), 1);
  ck_assert_int_eq(rt_sql_txkind("commit", 6), 2);
  ck_assert_int_eq(rt_sql_txkind("END", 3), 2);
  ck_assert_int_eq(rt_sql_txkind("rollback", 8), 2);
  ck_assert_int_eq(rt_sql_txkind("abort", 5), 2);
  ck_assert_int_eq(rt_sql_txkind("rollback to savepoint a", 23), 0);
  ck_assert_int_eq(rt_sql_txkind("rollback transaction to a", 25), 0);
  ck_assert_int_eq(rt_sql_txkind("select 1", 8), 0);
  ck_assert_int_eq(rt_sql_txkind("savepoint a", 11), 0);
}
END_TEST

/* Random text from the characters that matter, in buffers of exactly its
** length (no NUL after it), so the sanitizer build sees any overread. */
START_TEST(random_text) {
  static const char alphabet[] = "'\"`$-/*;#\\ aEe\nt_1BEGIN";
  unsigned seed = 12345;
  int round, i;
  for (round = 0; round < 20000; round++) {
    size_t n = (size_t)(round % 40), end;
    char *buf = malloc(n + 1), w[8];
    unsigned flags = (unsigned)round & 7;
    for (i = 0; i < (int)n; i++) {
      seed = seed * 1103515245u + 12345u;
      buf[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
    }
    end = rt_sql_stmt_end(buf, n, flags);
    ck_assert(end <= n);
    if (end > 0) ck_assert(buf[end - 1] == ';');
    rt_sql_is_blank(buf, n, flags);
    rt_sql_word(buf, n, round % 3, w, sizeof w);
    ck_assert(strlen(w) < sizeof w);
    rt_sql_txkind(buf, n);
    free(buf);
  }
}
END_TEST

START_TEST(dialect_flags) {
  ck_assert_uint_eq(rt_sql_flags("postgresql"), PG);
  ck_assert_uint_eq(rt_sql_flags("mysql"), MY);
  ck_assert_uint_eq(rt_sql_flags("sqlite"), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("shell_classify");
  TCase *tc = tcase_create("all");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, sql_lines);
  tcase_add_test(tc, lua_lines);
  tcase_add_test(tc, command_lines);
  tcase_add_test(tc, split_basic);
  tcase_add_test(tc, split_strings);
  tcase_add_test(tc, split_identifiers);
  tcase_add_test(tc, split_comments);
  tcase_add_test(tc, split_dollar);
  tcase_add_test(tc, split_trigger);
  tcase_add_test(tc, blank_and_words);
  tcase_add_test(tc, tx_kinds);
  tcase_add_test(tc, random_text);
  tcase_add_test(tc, dialect_flags);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
