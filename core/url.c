/*
** url.c -- URL parsing and rendering after SQLAlchemy's make_url.
*/
#include "url.h"
#include "strbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static char *dupn(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Percent-decode s[0..n); `plus` turns '+' into ' ' (query strings).
** "%00" stays as written: the parts are C strings, and a NUL would cut
** them short. */
static char *unquote(const char *s, size_t n, int plus) {
  char *out = malloc(n + 1), *o = out;
  size_t i;
  if (out == NULL) return NULL;
  for (i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
        hexval((unsigned char)s[i + 2]) >= 0 &&
        (s[i + 1] != '0' || s[i + 2] != '0')) {
      *o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 +
                    hexval((unsigned char)s[i + 2]));
      i += 2;
    } else if (plus && s[i] == '+')
      *o++ = ' ';
    else
      *o++ = s[i];
  }
  *o = '\0';
  return out;
}

void rt_url_free(rt_url *u) {
  int i;
  if (u == NULL) return;
  free(u->drivername);
  free(u->username);
  free(u->password);
  free(u->host);
  free(u->database);
  for (i = 0; i < u->nargs; i++) {
    free(u->args[i].key);
    free(u->args[i].value);
  }
  free(u->args);
  free(u);
}

static int addarg(rt_url *u, const char *k, size_t kn, const char *v,
                  size_t vn) {
  rt_url_arg *a = realloc(u->args, sizeof *a * (size_t)(u->nargs + 1));
  if (a == NULL) return -1;
  u->args = a;
  a[u->nargs].key = unquote(k, kn, 1);
  a[u->nargs].value = unquote(v, vn, 1);
  u->nargs++;
  if (a[u->nargs - 1].key == NULL || a[u->nargs - 1].value == NULL) return -1;
  return 0;
}

static int parse_query(rt_url *u, const char *q) {
  while (*q) {
    const char *amp = strchr(q, '&');
    const char *end = amp ? amp : q + strlen(q);
    const char *eq = memchr(q, '=', (size_t)(end - q));
    /* parse_qsl drops fields without '=' and with empty values */
    if (eq && eq + 1 < end &&
        addarg(u, q, (size_t)(eq - q), eq + 1, (size_t)(end - eq - 1)) != 0)
      return -1;
    q = amp ? amp + 1 : end;
  }
  return 0;
}

static rt_url *fail(rt_url *u, rt_error *err, rt_errkind kind, const char *what,
                    const char *s) {
  rt_url_free(u);
  rt_error_set(err, kind, "%s '%s'", what, s);
  return NULL;
}

rt_url *rt_url_parse(const char *s, rt_error *err) {
  const char *p = s, *sep, *at;
  rt_url *u;
  size_t n;
  static const char bad[] = "Could not parse SQLAlchemy URL from string";
  /* (?P<name>[\w\+]+):// */
  while (isalnum((unsigned char)*p) || *p == '_' || *p == '+') p++;
  if (p == s || strncmp(p, "://", 3) != 0)
    return fail(NULL, err, RT_EARGUMENT, bad, s);
  u = calloc(1, sizeof *u);
  if (u == NULL) return fail(NULL, err, RT_EMEMORY, "out of memory parsing", s);
  if ((u->drivername = dupn(s, (size_t)(p - s))) == NULL) goto oom;
  p += 3;
  /* the authority ends at the first '/' or '?' */
  n = strcspn(p, "/?");
  /* (?:user(:password)?@)? -- user has no ':' or '/', password no '@' */
  at = NULL;
  {
    size_t un = strcspn(p, ":/@?");
    if (p[un] == '@')
      at = p + un;
    else if (p[un] == ':') {
      const char *pw = p + un + 1;
      size_t pn = strcspn(pw, "@");
      if (pw[pn] == '@') at = pw + pn;
    }
  }
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    size_t un = colon ? (size_t)(colon - p) : (size_t)(at - p);
    if ((u->username = unquote(p, un, 0)) == NULL) goto oom;
    if (colon &&
        (u->password = unquote(colon + 1, (size_t)(at - colon - 1), 0)) == NULL)
      goto oom;
    p = at + 1;
    n = strcspn(p, "/?");
  }
  /* host, [ipv6] host, :port */
  if (*p == '[') {
    const char *close = strchr(p, ']');
    if (close == NULL || close > p + n)
      return fail(u, err, RT_EARGUMENT, bad, s);
    if ((u->host = dupn(p + 1, (size_t)(close - p - 1))) == NULL) goto oom;
    sep = close + 1;
  } else {
    size_t hn = strcspn(p, "/:?");
    if (hn > 0 && (u->host = dupn(p, hn)) == NULL) goto oom;
    sep = p + hn;
  }
  if (*sep == ':') {
    const char *d = sep + 1;
    long port = 0;
    size_t pn = strcspn(d, "/?");
    size_t i;
    for (i = 0; i < pn; i++) {
      if (!isdigit((unsigned char)d[i]) || port > 65535)
        return fail(u, err, RT_EARGUMENT, "invalid port in URL", s);
      port = port * 10 + (d[i] - '0');
    }
    if (port > 65535)
      return fail(u, err, RT_EARGUMENT, "invalid port in URL", s);
    u->port = (int)port;
    sep = d + pn;
  } else if (*sep != '\0' && *sep != '/' && *sep != '?')
    return fail(u, err, RT_EARGUMENT, bad, s);
  p = sep;
  /* (?:/(?P<database>[^\?]*))? (?:\?(?P<query>.*))? */
  if (*p == '/') {
    p++;
    n = strcspn(p, "?");
    if ((u->database = dupn(p, n)) == NULL) goto oom;
    p += n;
  }
  if (*p == '?' && parse_query(u, p + 1) != 0) goto oom;
  return u;
oom:
  return fail(u, err, RT_EMEMORY, "out of memory parsing", s);
}

static int dupfield(char **to, const char *from) {
  *to = NULL;
  return from && (*to = dupn(from, strlen(from))) == NULL ? -1 : 0;
}

/* A field by field copy: rendering and parsing again would not do, since
** a URL built by hand need not survive that. */
rt_url *rt_url_copy(const rt_url *u) {
  rt_url *c = calloc(1, sizeof *c);
  int i;
  if (c == NULL) return NULL;
  c->port = u->port;
  if (dupfield(&c->drivername, u->drivername) ||
      dupfield(&c->username, u->username) ||
      dupfield(&c->password, u->password) || dupfield(&c->host, u->host) ||
      dupfield(&c->database, u->database))
    goto oom;
  if (u->nargs > 0) {
    c->args = calloc((size_t)u->nargs, sizeof *c->args);
    if (c->args == NULL) goto oom;
  }
  for (; c->nargs < u->nargs; c->nargs++) {
    i = c->nargs;
    if (dupfield(&c->args[i].key, u->args[i].key) ||
        dupfield(&c->args[i].value, u->args[i].value)) {
      c->nargs++;
      goto oom;
    }
  }
  return c;
oom:
  rt_url_free(c);
  return NULL;
}

const char *rt_url_backend(const rt_url *u, char *buf, size_t n) {
  size_t len = strcspn(u->drivername, "+");
  if (len >= n) len = n - 1;
  memcpy(buf, u->drivername, len);
  buf[len] = '\0';
  if (strcmp(buf, "mariadb") == 0 && n > 5) strcpy(buf, "mysql");
  if (strcmp(buf, "postgres") == 0 && n > 10) strcpy(buf, "postgresql");
  return buf;
}

const char *rt_url_arg_get(const rt_url *u, const char *key) {
  int i;
  for (i = 0; i < u->nargs; i++)
    if (strcmp(u->args[i].key, key) == 0) return u->args[i].value;
  return NULL;
}

/* SQLAlchemy quotes ':', '@', '/' and '%' in user and password; '?' too
** here, where it would end a user name, so that the text parses back. */
static void add_userquoted(rt_strbuf *b, const char *s) {
  for (; *s; s++) {
    if (*s == ':' || *s == '@' || *s == '/' || *s == '%' || *s == '?')
      rt_sb_addf(b, "%%%X", (unsigned char)*s);
    else
      rt_sb_addc(b, *s);
  }
}

/* Python's quote_plus: letters, digits and "_.-~" stay, ' ' becomes '+'. */
static void add_quoteplus(rt_strbuf *b, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~')
      rt_sb_addc(b, (char)c);
    else if (c == ' ')
      rt_sb_addc(b, '+');
    else
      rt_sb_addf(b, "%%%02X", c);
  }
}

static int argcmp(const void *a, const void *b) {
  const rt_url_arg *const *x = a, *const *y = b;
  return strcmp((*x)->key, (*y)->key);
}

char *rt_url_render(const rt_url *u, int hide_password) {
  rt_strbuf b = RT_STRBUF_INIT;
  rt_sb_adds(&b, u->drivername);
  rt_sb_adds(&b, "://");
  if (u->username) {
    add_userquoted(&b, u->username);
    if (u->password) {
      rt_sb_addc(&b, ':');
      if (hide_password)
        rt_sb_adds(&b, "***");
      else
        add_userquoted(&b, u->password);
    }
    rt_sb_addc(&b, '@');
  }
  if (u->host) {
    /* brackets for IPv6, and for whatever was written in them */
    if (strchr(u->host, ':') || u->host[0] == '[')
      rt_sb_addf(&b, "[%s]", u->host);
    else
      rt_sb_adds(&b, u->host);
  }
  if (u->port) rt_sb_addf(&b, ":%d", u->port);
  if (u->database) {
    rt_sb_addc(&b, '/');
    rt_sb_adds(&b, u->database);
  }
  if (u->nargs > 0) {
    /* keys sorted, values of one key in the order written (stable) */
    const rt_url_arg **sorted = malloc(sizeof *sorted * (size_t)u->nargs);
    int i, j;
    if (sorted == NULL) {
      rt_sb_free(&b);
      return NULL;
    }
    for (i = 0; i < u->nargs; i++) sorted[i] = &u->args[i];
    /* insertion sort keeps equal keys in order */
    for (i = 1; i < u->nargs; i++)
      for (j = i; j > 0 && argcmp(&sorted[j - 1], &sorted[j]) > 0; j--) {
        const rt_url_arg *t = sorted[j];
        sorted[j] = sorted[j - 1];
        sorted[j - 1] = t;
      }
    for (i = 0; i < u->nargs; i++) {
      rt_sb_addc(&b, i ? '&' : '?');
      add_quoteplus(&b, sorted[i]->key);
      rt_sb_addc(&b, '=');
      add_quoteplus(&b, sorted[i]->value);
    }
    free(sorted);
  }
  return rt_sb_take(&b);
}
