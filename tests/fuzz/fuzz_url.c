/*
** fuzz_url.c -- URLs: parse arbitrary text, render it both ways, copy it.
** A copy must render exactly as its original, and a rendered URL (password
** shown) must parse again to the same rendering.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"

static void same(const char *a, const char *b) {
  if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rt_error err = RT_ERROR_INIT;
  rt_url *u, *c, *again;
  char *s = malloc(size + 1), *shown, *hidden, *copied, *reshown;
  char buf[64];
  if (s == NULL) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  u = rt_url_parse(s, &err);
  free(s);
  if (u == NULL) {
    rt_error_clear(&err);
    return 0;
  }
  shown = rt_url_render(u, 0);
  hidden = rt_url_render(u, 1);
  rt_url_backend(u, buf, sizeof buf);
  rt_url_arg_get(u, "host");
  c = rt_url_copy(u);
  if (c) {
    copied = rt_url_render(c, 0);
    same(shown, copied);
    free(copied);
    rt_url_free(c);
  }
  if (shown) {
    again = rt_url_parse(shown, &err);
    if (again == NULL) abort();
    reshown = rt_url_render(again, 0);
    same(shown, reshown);
    free(reshown);
    rt_url_free(again);
  }
  free(shown);
  free(hidden);
  rt_url_free(u);
  return 0;
}
