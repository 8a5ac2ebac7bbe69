/*
** check_shell_render.c -- the shell's output formats, text for text.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/render.h"

static const char *const names3[] = {"id", "name", "score"};

/* Render rows (ncols values each) with opts; returns the malloc'd text. */
static char *render(rt_render_opts *o, int ncols, const char *const *names,
                    const rt_sqltype *types, const rt_value *rows, int nrows) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  rt_render *r = rt_render_begin(f, o, ncols, names, types);
  int i;
  ck_assert_ptr_nonnull(r);
  for (i = 0; i < nrows; i++)
    ck_assert_int_eq(rt_render_row(r, rows + (size_t)i * (size_t)ncols), 0);
  rt_render_end(r);
  fclose(f);
  return buf;
}

static void opts(rt_render_opts *o, rt_format f) {
  memset(o, 0, sizeof *o);
  o->format = f;
  o->limit = -1;
}

#define T(s) rt_vtext(s, strlen(s))

static rt_value three[9];

static void setup_rows(void) {
  three[0] = rt_vint(1), three[1] = T("alice"), three[2] = rt_vfloat(1.5);
  three[3] = rt_vint(22), three[4] = T("bob"), three[5] = rt_vnull();
  three[6] = rt_vint(333), three[7] = T(""), three[8] = rt_vfloat(-2);
}

static void same(char *got, const char *want) {
  ck_assert_msg(strcmp(got, want) == 0, "got:\n%s\nwant:\n%s", got, want);
  free(got);
}

START_TEST(table_basic) {
  rt_render_opts o;
  setup_rows();
  opts(&o, RT_FMT_TABLE);
  same(render(&o, 3, names3, NULL, three, 3), " id  | name  | score\n"
                                              "-----+-------+-------\n"
                                              "   1 | alice |   1.5\n"
                                              "  22 | bob   |  NULL\n"
                                              " 333 |       |  -2.0\n"
                                              "(3 rows)\n");
}
END_TEST

START_TEST(table_one_and_none) {
  rt_render_opts o;
  setup_rows();
  opts(&o, RT_FMT_TABLE);
  same(render(&o, 3, names3, NULL, three, 1), " id | name  | score\n"
                                              "----+-------+-------\n"
                                              "  1 | alice |   1.5\n"
                                              "(1 row)\n");
  same(render(&o, 3, names3, NULL, three, 0), " id | name | score\n"
                                              "----+------+-------\n"
                                              "(0 rows)\n");
}
END_TEST

START_TEST(table_color_null) {
  rt_render_opts o;
  rt_value v[1] = {{RT_V_NULL, 0, {0}}};
  const char *const n[] = {"x"};
  opts(&o, RT_FMT_TABLE);
  o.color = 1;
  same(render(&o, 1, n, NULL, v, 1), "  x\n"
                                     "------\n"
                                     " \033[2mNULL\033[0m\n"
                                     "(1 row)\n");
}
END_TEST

START_TEST(table_limit) {
  rt_render_opts o;
  setup_rows();
  opts(&o, RT_FMT_TABLE);
  o.limit = 2;
  same(render(&o, 3, names3, NULL, three, 3),
       " id | name  | score\n"
       "----+-------+-------\n"
       "  1 | alice |   1.5\n"
       " 22 | bob   |  NULL\n"
       "(3 rows, 1 not shown: see \\limit)\n");
}
END_TEST

START_TEST(table_fits_width) {
  rt_render_opts o;
  const char *const n[] = {"id", "text"};
  rt_value v[2] = {rt_vint(1), T("a rather long value that will not fit")};
  opts(&o, RT_FMT_TABLE);
  o.width = 20;
  same(render(&o, 2, n, NULL, v, 1), " id |     text\n"
                                     "----+---------------\n"
                                     "  1 | a rather lon\xe2\x80\xa6\n"
                                     "(1 row)\n");
}
END_TEST

START_TEST(table_multiline_and_wide) {
  rt_render_opts o;
  const char *const n[] = {"a", "b"};
  rt_value v[4] = {T("x\ny"), rt_vint(1), T("\xe6\x97\xa5\xe6\x9c\xac"),
                   T("tab\there")};
  opts(&o, RT_FMT_TABLE);
  /* 日本 is two wide characters: four columns */
  /* a tab is spaces to the next multiple of 8, as psql shows it */
  same(render(&o, 2, n, NULL, v, 2),
       "  a   |      b\n"
       "------+--------------\n"
       " x   +| 1\n"
       " y    |\n"
       " \xe6\x97\xa5\xe6\x9c\xac | tab     here\n"
       "(2 rows)\n");
}
END_TEST

START_TEST(table_types) {
  rt_render_opts o;
  const char *const n[] = {"n", "b", "bytes"};
  rt_sqltype t[] = {RT_T_NUMERIC, RT_T_BOOLEAN, RT_T_BLOB};
  rt_value v[3] = {T("12.50"), rt_vbool(1), rt_vblob("\x01\xff", 2)};
  opts(&o, RT_FMT_TABLE);
  same(render(&o, 3, n, t, v, 1), "   n   |  b   | bytes\n"
                                  "-------+------+--------\n"
                                  " 12.50 | true | \\x01ff\n"
                                  "(1 row)\n");
}
END_TEST

START_TEST(csv) {
  rt_render_opts o;
  const char *const n[] = {"a", "b,c", "d"};
  rt_value v[6] = {T("x,y"), T("say \"hi\""), rt_vnull(),
                   T(""),    T("two\nlines"), rt_vint(-3)};
  opts(&o, RT_FMT_CSV);
  same(render(&o, 3, n, NULL, v, 2), "a,\"b,c\",d\n"
                                     "\"x,y\",\"say \"\"hi\"\"\",\n"
                                     "\"\",\"two\nlines\",-3\n");
}
END_TEST

START_TEST(tsv) {
  rt_render_opts o;
  const char *const n[] = {"a", "b"};
  rt_value v[4] = {T("t\tab\\"), rt_vnull(), T("nl\nx"), rt_vfloat(0.5)};
  opts(&o, RT_FMT_TSV);
  same(render(&o, 2, n, NULL, v, 2), "a\tb\n"
                                     "t\\tab\\\\\t\\N\n"
                                     "nl\\nx\t0.5\n");
}
END_TEST

START_TEST(json) {
  rt_render_opts o;
  const char *const n[] = {"i", "s", "n", "b", "d", "j"};
  rt_sqltype t[] = {RT_T_INTEGER, RT_T_TEXT,    RT_T_UNKNOWN,
                    RT_T_BOOLEAN, RT_T_NUMERIC, RT_T_JSON};
  rt_value v[12] = {rt_vint(1),  T("q\"\\\n\x01"), rt_vnull(),
                    rt_vbool(0), T("1.50"),        T("{\"k\": [1]}"),
                    rt_vint(2),  T("caf\xc3\xa9"), rt_vfloat(2.5),
                    rt_vbool(1), T("NaN"),         T("3")};
  opts(&o, RT_FMT_JSON);
  same(render(&o, 6, n, t, v, 2),
       "[\n"
       "{\"i\": 1, \"s\": \"q\\\"\\\\\\n\\u0001\", \"n\": null, \"b\": false, "
       "\"d\": 1.50, \"j\": {\"k\": [1]}},\n"
       "{\"i\": 2, \"s\": \"caf\xc3\xa9\", \"n\": 2.5, \"b\": true, "
       "\"d\": \"NaN\", \"j\": 3}\n"
       "]\n");
  same(render(&o, 6, n, t, v, 0), "[]\n");
}
END_TEST

/* PostgreSQL arrays become JSON arrays by their elements' family; a JSON
** column's text is nested only when it is JSON; raw cells as they stand. */
START_TEST(json_nested) {
  rt_render_opts o;
  const char *const n[] = {"a", "t", "b", "f", "j", "x", "r"};
  rt_sqltype t[] = {RT_T_ARRAY, RT_T_ARRAY, RT_T_ARRAY,  RT_T_ARRAY,
                    RT_T_ARRAY, RT_T_JSON,  RT_T_UNKNOWN};
  rt_sqltype items[] = {
      RT_T_INTEGER, RT_T_TEXT, RT_T_BOOLEAN, RT_T_FLOAT, RT_T_JSON, 0, 0};
  rt_value v[14] = {T("{{1,2},{3,NULL}}"),
                    T("{a,\"b c\",\"q\\\"\",NULL,\"NULL\",\"\"}"),
                    T("{t,f}"),
                    T("{1.5,NaN}"),
                    T("{\"{\\\"k\\\": [1]}\"}"),
                    T("{\"a\": [true, null]}"),
                    T("[1, 2]"),
                    T("{}"),
                    T("[0:1]={1,2}"),
                    T("{t}"),
                    T("{1,"),
                    T("{\"k\":}"),
                    T("not json"),
                    T("\"s\"")};
  unsigned char raw[7] = {0, 0, 0, 0, 0, 0, 1};
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  rt_render *r;
  opts(&o, RT_FMT_JSON);
  r = rt_render_begin(f, &o, 7, n, t);
  ck_assert_ptr_nonnull(r);
  rt_render_items(r, items);
  ck_assert_int_eq(rt_render_row_json(r, v, raw), 0);
  ck_assert_int_eq(rt_render_row_json(r, v + 7, NULL), 0);
  rt_render_end(r);
  fclose(f);
  same(buf, "[\n"
            "{\"a\": [[1, 2], [3, null]], "
            "\"t\": [\"a\", \"b c\", \"q\\\"\", null, \"NULL\", \"\"], "
            "\"b\": [true, false], \"f\": [1.5, null], \"j\": [{\"k\": [1]}], "
            "\"x\": {\"a\": [true, null]}, \"r\": [1, 2]},\n"
            "{\"a\": [], \"t\": \"[0:1]={1,2}\", \"b\": [true], "
            "\"f\": \"{1,\", \"j\": \"{\\\"k\\\":}\", \"x\": \"not json\", "
            "\"r\": \"\\\"s\\\"\"}\n"
            "]\n");
}
END_TEST

START_TEST(markdown) {
  rt_render_opts o;
  setup_rows();
  opts(&o, RT_FMT_MARKDOWN);
  three[4] = T("b|o\nb");
  same(render(&o, 3, names3, NULL, three, 3), "| id  | name      | score |\n"
                                              "|----:|-----------|------:|\n"
                                              "|   1 | alice     |   1.5 |\n"
                                              "|  22 | b\\|o<br>b |  NULL |\n"
                                              "| 333 |           |  -2.0 |\n");
}
END_TEST

START_TEST(vertical) {
  rt_render_opts o;
  setup_rows();
  opts(&o, RT_FMT_VERTICAL);
  three[1] = T("two\nlines");
  same(render(&o, 3, names3, NULL, three, 2), "-[ RECORD 1 ]\n"
                                              "id    | 1\n"
                                              "name  | two  +\n"
                                              "      | lines\n"
                                              "score | 1.5\n"
                                              "-[ RECORD 2 ]\n"
                                              "id    | 22\n"
                                              "name  | bob\n"
                                              "score | NULL\n"
                                              "(2 rows)\n");
}
END_TEST

START_TEST(expanded_modes) {
  rt_render_opts o;
  const char *const n[] = {"id", "text"};
  rt_value v[2] = {rt_vint(1), T("a rather long value that will not fit")};
  opts(&o, RT_FMT_TABLE);
  o.expanded = RT_EXPANDED_ON;
  same(render(&o, 2, n, NULL, v, 1),
       "-[ RECORD 1 ]-------------------------------\n"
       "id   | 1\n"
       "text | a rather long value that will not fit\n"
       "(1 row)\n");
  o.expanded = RT_EXPANDED_AUTO;
  o.width = 30;
  same(render(&o, 2, n, NULL, v, 1),
       "-[ RECORD 1 ]-----------------\n"
       "id   | 1\n"
       "text | a rather long value th\xe2\x80\xa6\n"
       "(1 row)\n");
  o.width = 80; /* fits: a table */
  same(render(&o, 2, n, NULL, v, 1),
       " id |                 text\n"
       "----+---------------------------------------\n"
       "  1 | a rather long value that will not fit\n"
       "(1 row)\n");
}
END_TEST

/* Uncapped tables for files and programs print in chunks of 1000 rows:
** one header, widths that only grow, every row, one footer. */
START_TEST(table_chunks) {
  rt_render_opts o;
  const char *const n[] = {"v"};
  char *buf = NULL, *p;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  rt_render *r;
  int i, lines = 0;
  opts(&o, RT_FMT_TABLE);
  r = rt_render_begin(f, &o, 1, n, NULL);
  for (i = 1; i <= 1500; i++) {
    rt_value v = i == 1200 ? T("wider") : T("x");
    ck_assert_int_eq(rt_render_row(r, &v), 0);
  }
  rt_render_end(r);
  fclose(f);
  for (p = buf; *p; p++) lines += *p == '\n';
  ck_assert_int_eq(lines, 1503);
  ck_assert(strncmp(buf, " v\n---\n x\n", 10) == 0);
  ck_assert_ptr_nonnull(strstr(buf, "\n wider\n x\n"));
  ck_assert_ptr_nonnull(strstr(buf, "\n x\n(1500 rows)\n"));
  ck_assert_ptr_null(strstr(buf + 1, " v\n"));
  free(buf);
}
END_TEST

/* Odd bytes (broken UTF-8, control characters, newlines) in every format
** and at narrow widths: the sanitizer build checks nothing overreads. */
START_TEST(random_bytes) {
  static const char bytes[] = "a\n\t\r\x01|\"\\,\xe6\x97\xa5\xc3\xff\x80 ";
  unsigned seed = 99;
  int round, i, f;
  const char *const n[] = {"a", "b"};
  for (round = 0; round < 300; round++) {
    char t1[24], t2[24];
    rt_value v[2];
    rt_render_opts o;
    for (i = 0; i < 24; i++) {
      seed = seed * 1103515245u + 12345u;
      t1[i] = bytes[(seed >> 16) % (sizeof bytes - 1)];
      t2[i] = bytes[(seed >> 8) % (sizeof bytes - 1)];
    }
    v[0] = rt_vtext(t1, (size_t)(round % 24));
    v[1] = round % 5 ? rt_vtext(t2, 24) : rt_vnull();
    for (f = RT_FMT_TABLE; f <= RT_FMT_VERTICAL; f++) {
      opts(&o, (rt_format)f);
      o.width = 6 + round % 20;
      o.expanded = round % 3;
      free(render(&o, 2, n, NULL, v, 1));
    }
  }
}
END_TEST

START_TEST(widths_and_names) {
  ck_assert_int_eq(rt_text_width("abc", 3), 3);
  ck_assert_int_eq(rt_text_width("\xe6\x97\xa5", 3), 2);
  ck_assert_int_eq(rt_text_width("e\xcc\x81", 3), 1);
  ck_assert_int_eq(rt_format_byname("json"), RT_FMT_JSON);
  ck_assert_int_eq(rt_format_byname("xml"), -1);
  ck_assert_str_eq(rt_format_name(RT_FMT_VERTICAL), "vertical");
}
END_TEST

int main(void) {
  Suite *s = suite_create("shell_render");
  TCase *tc = tcase_create("all");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, table_basic);
  tcase_add_test(tc, table_one_and_none);
  tcase_add_test(tc, table_color_null);
  tcase_add_test(tc, table_limit);
  tcase_add_test(tc, table_fits_width);
  tcase_add_test(tc, table_multiline_and_wide);
  tcase_add_test(tc, table_types);
  tcase_add_test(tc, csv);
  tcase_add_test(tc, tsv);
  tcase_add_test(tc, json);
  tcase_add_test(tc, json_nested);
  tcase_add_test(tc, markdown);
  tcase_add_test(tc, vertical);
  tcase_add_test(tc, expanded_modes);
  tcase_add_test(tc, table_chunks);
  tcase_add_test(tc, random_bytes);
  tcase_add_test(tc, widths_and_names);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
