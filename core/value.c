/*
** value.c -- helpers for rt_value.
*/
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
** Python prints the shortest digit string that reads back as the same
** double, in fixed notation when the decimal exponent is in [-4, 16) and
** in scientific notation otherwise.
*/
const char *rt_float_repr(double f, char *buf) {
  char tmp[40], digits[24];
  int prec, exp, nd = 0, i, pos = 0;
  char *e;
  if (isnan(f)) return strcpy(buf, "nan");
  if (isinf(f)) return strcpy(buf, f < 0 ? "-inf" : "inf");
  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
    if (strtod(tmp, NULL) == f) break;
  }
  /* tmp is [-]d[.ddd]e[+-]xx */
  e = strchr(tmp, 'e');
  exp = atoi(e + 1);
  for (i = 0; tmp + i < e; i++)
    if (tmp[i] >= '0' && tmp[i] <= '9') digits[nd++] = tmp[i];
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  digits[nd] = '\0';
  if (f < 0 || (f == 0 && signbit(f))) buf[pos++] = '-';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      buf[pos++] = '0';
      buf[pos++] = '.';
      for (i = -1; i > exp; i--) buf[pos++] = '0';
      memcpy(buf + pos, digits, (size_t)nd);
      pos += nd;
    } else {
      for (i = 0; i <= exp; i++) buf[pos++] = i < nd ? digits[i] : '0';
      buf[pos++] = '.';
      if (nd > exp + 1) {
        memcpy(buf + pos, digits + exp + 1, (size_t)(nd - exp - 1));
        pos += nd - exp - 1;
      } else
        buf[pos++] = '0';
    }
    buf[pos] = '\0';
  } else {
    buf[pos++] = digits[0];
    if (nd > 1) {
      buf[pos++] = '.';
      memcpy(buf + pos, digits + 1, (size_t)(nd - 1));
      pos += nd - 1;
    }
    snprintf(buf + pos, 32 - (size_t)pos, "e%c%02d", exp < 0 ? '-' : '+',
             exp < 0 ? -exp : exp);
  }
  return buf;
}
