/*
** check_shell_mask.c -- passwords masked in what the shell keeps.
*/
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "shell/mask.h"

static void masks(const char *in, const char *want) {
  char *got = rt_mask_secrets(in);
  ck_assert_ptr_nonnull(got);
  ck_assert_msg(strcmp(got, want) == 0, "%s\n  got:  %s\n  want: %s", in, got,
                want);
  free(got);
}

START_TEST(urls) {
  masks("\\c postgresql://scott:tiger@db.example/test",
        "\\c postgresql://scott:***@db.example/test");
  masks("e = create_engine(\"mysql+mysqldb://root:p@ss:w@rd@h:3306/x\")",
        "e = create_engine(\"mysql+mysqldb://root:***@h:3306/x\")");
  masks("create_engine('postgresql://u:s3cret@/db?host=/tmp')",
        "create_engine('postgresql://u:***@/db?host=/tmp')");
  masks("two: a://u:x@h b://v:y@h", "two: a://u:***@h b://v:***@h");
  masks("postgresql://u@h/db?user=u&password=pw&sslmode=require",
        "postgresql://u@h/db?user=u&password=***&sslmode=require");
  /* no password: unchanged */
  masks("\\c postgresql://scott@db/test", "\\c postgresql://scott@db/test");
  masks("sqlite:///tmp/x.db", "sqlite:///tmp/x.db");
  masks("print('a:b@c')", "print('a:b@c')");
}
END_TEST

START_TEST(keywords) {
  masks("url = URL.create{drivername = 'postgresql', password = 'pw'}",
        "url = URL.create{drivername = 'postgresql', password = '***'}");
  masks("t = {password=\"a\\\"b\", user = 'x'}",
        "t = {password=\"***\", user = 'x'}");
  masks("ALTER ROLE bob WITH PASSWORD 'hunter2';",
        "ALTER ROLE bob WITH PASSWORD '***';");
  masks("SET PASSWORD FOR bob = PASSWORD('hunter2');",
        "SET PASSWORD FOR bob = PASSWORD('***');");
  masks("create user bob identified by 'hunter2';",
        "create user bob identified by '***';");
  masks("{\"passwd\": \"x\"}", "{\"passwd\": \"***\"}");
  /* a password that is not a literal is not the secret */
  masks("password = os.getenv('PW')", "password = os.getenv('PW')");
  masks("select password from users;", "select password from users;");
  masks("my_password = 'x'", "my_password = 'x'");
  /* an unfinished string is masked to its end */
  masks("password = 'abc", "password = '***");
}
END_TEST

int main(void) {
  Suite *s = suite_create("shell_mask");
  TCase *tc = tcase_create("all");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, urls);
  tcase_add_test(tc, keywords);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
