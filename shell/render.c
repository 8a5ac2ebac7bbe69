/*
** render.c -- the output formats of the shell.
**
** table      psql's aligned format: centred header, ` | ` between columns,
**            a `-+-` rule, numbers right-aligned, `NULL` for NULL, a
**            `(N rows)` footer; cut to the terminal width with `…`; a
**            multi-line value continues on the next line with `+` in the
**            margin, as psql marks it.
** vertical   psql's \x: one `-[ RECORD n ]` block per row, the rule as
**            wide for every record.
** markdown   a pipe table with `---:` under numeric columns.
** csv        RFC 4180 (LF line ends); NULL is an empty field, the empty
**            string is `""`.
** tsv        PostgreSQL's COPY text format: \t \n \r \\ escaped, NULL `\N`.
** json       an array of objects, one per line; JSON values nested, and
**            PostgreSQL arrays as JSON arrays.
**
** The aligned formats (records too) hold the rows they show (at most
** `limit`) because a column's width is known only at the end; the rest
** stream.  Uncapped
** aligned output for a file or a program goes out in chunks instead.
*/
#include "render.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

#define ELLIPSIS "\xe2\x80\xa6" /* … */
#define CHUNK 1000
#define DIM "\033[2m"
#define UNDIM "\033[0m"

typedef struct cell {
  char *s; /* display text (NULL for a NULL value) */
  size_t n;
} cell;

struct rt_render {
  FILE *out;
  rt_render_opts o;
  int ncols;
  char **names;
  rt_sqltype *types;
  rt_sqltype *items;      /* arrays' element families (rt_render_items) */
  unsigned char *numeric; /* a number was seen in the column */
  unsigned char *textual; /* a non-number was seen */
  cell *cells;            /* held rows, ncols cells each */
  size_t nheld, cap;
  int64_t total; /* rows received */
  int buffered;  /* the aligned formats: hold rows until the end */
  int broken;    /* begin failed: print nothing */
  /* uncapped aligned output for a file or a program is printed in chunks
  ** of CHUNK rows, so a big result is never held whole: the widths only
  ** grow from one chunk to the next */
  int chunked, started;
  int64_t flushed; /* rows printed by earlier chunks */
  int *w;
  int vw; /* records: the widest value so far (psql's one width for all) */
};

static const char *const format_names[] = {
    "table", "csv", "tsv", "json", "markdown", "vertical", NULL};

int rt_format_byname(const char *name) {
  int i;
  for (i = 0; format_names[i]; i++)
    if (strcmp(name, format_names[i]) == 0) return i;
  return -1;
}

const char *rt_format_name(rt_format f) {
  return format_names[f];
}

/* --- text widths --- */

/* Decode one UTF-8 sequence at s[0..n); a bad byte decodes as itself. */
static size_t utf8_next(const char *s, size_t n, unsigned *cp) {
  const unsigned char *u = (const unsigned char *)s;
  size_t len, i;
  unsigned c = u[0];
  if (c < 0x80)
    len = 1;
  else if ((c & 0xe0) == 0xc0)
    len = 2, c &= 0x1f;
  else if ((c & 0xf0) == 0xe0)
    len = 3, c &= 0x0f;
  else if ((c & 0xf8) == 0xf0)
    len = 4, c &= 0x07;
  else {
    *cp = 0xfffd;
    return 1;
  }
  if (len > n) {
    *cp = 0xfffd;
    return 1;
  }
  for (i = 1; i < len; i++) {
    if ((u[i] & 0xc0) != 0x80) {
      *cp = 0xfffd;
      return 1;
    }
    c = (c << 6) | (u[i] & 0x3f);
  }
  *cp = c;
  return len;
}

static int cp_width(unsigned c) {
  if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) ||
      (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x1ab0 && c <= 0x1aff) ||
      (c >= 0x20d0 && c <= 0x20ff))
    return 0;
  if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
      (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
    return 2;
  return 1;
}

int rt_text_width(const char *s, size_t n) {
  int w = 0;
  size_t i = 0;
  while (i < n) {
    unsigned cp;
    i += utf8_next(s + i, n - i, &cp);
    w += cp_width(cp);
  }
  return w;
}

/* How many bytes of s[0..n) fit in `w` columns. */
static size_t fit_bytes(const char *s, size_t n, int w) {
  size_t i = 0;
  while (i < n) {
    unsigned cp;
    size_t len = utf8_next(s + i, n - i, &cp);
    int cw = cp_width(cp);
    if (cw > w) break;
    w -= cw;
    i += len;
  }
  return i;
}

/* --- values as text --- */

static void add_value(rt_strbuf *b, const rt_value *v) {
  char buf[32];
  size_t i;
  switch (v->type) {
  case RT_V_NULL:
    rt_sb_adds(b, "NULL");
    break;
  case RT_V_INT:
    rt_sb_addf(b, "%lld", (long long)v->u.i);
    break;
  case RT_V_FLOAT:
    rt_sb_adds(b, rt_float_repr(v->u.f, buf));
    break;
  case RT_V_BOOL:
    rt_sb_adds(b, v->u.b ? "true" : "false");
    break;
  case RT_V_TEXT:
    rt_sb_addlen(b, v->u.s.p, v->u.s.n);
    break;
  case RT_V_BLOB: /* as PostgreSQL shows bytea */
    rt_sb_adds(b, "\\x");
    for (i = 0; i < v->u.s.n; i++)
      rt_sb_addf(b, "%02x", (unsigned char)v->u.s.p[i]);
    break;
  }
}

char *rt_value_text(const rt_value *v) {
  rt_strbuf b = RT_STRBUF_INIT;
  add_value(&b, v);
  rt_sb_addc(&b, '\0'); /* "" must still allocate */
  b.n--;
  return rt_sb_take(&b);
}

/* Text for an aligned cell: a tab is spaces up to the next multiple of 8
** columns, as psql shows it; other control characters but newline are
** shown escaped so they cannot break the alignment. */
static int make_cell(cell *c, const rt_value *v, int markdown) {
  rt_strbuf raw = RT_STRBUF_INIT, b = RT_STRBUF_INIT;
  size_t i = 0;
  int col = 0; /* display columns since the line began */
  c->s = NULL;
  c->n = 0;
  if (v->type == RT_V_NULL) return 0;
  add_value(&raw, v);
  while (i < raw.n) {
    unsigned char ch = (unsigned char)raw.p[i];
    size_t len = 1, from = b.n;
    unsigned cp;
    if (markdown && ch == '|')
      rt_sb_adds(&b, "\\|");
    else if (markdown && ch == '\n')
      rt_sb_adds(&b, "<br>");
    else if (ch == '\n') {
      rt_sb_addc(&b, '\n');
      col = 0;
    } else if (ch == '\t') {
      do rt_sb_addc(&b, ' ');
      while (++col % 8 != 0);
    } else if (ch == '\r')
      rt_sb_adds(&b, "\\r");
    else if (ch < 0x20 || ch == 0x7f)
      rt_sb_addf(&b, "\\x%02x", ch);
    else if (ch < 0x80)
      rt_sb_addc(&b, (char)ch);
    else {
      len = utf8_next(raw.p + i, raw.n - i, &cp);
      rt_sb_addlen(&b, raw.p + i, len);
      col += cp_width(cp);
    }
    if (ch != '\n' && ch != '\t' && ch < 0x80 && !b.failed)
      col += (int)(b.n - from);
    i += len;
  }
  rt_sb_free(&raw);
  rt_sb_addc(&b, '\0');
  if (b.failed) {
    rt_sb_free(&b);
    return -1;
  }
  c->n = b.n - 1;
  c->s = rt_sb_take(&b);
  return 0;
}

/* The i-th line of a cell: pointer and length; returns 0 past the last. */
static int cell_line(const cell *c, int i, const char **p, size_t *n) {
  const char *s, *e, *end;
  if (c->s == NULL) {
    if (i > 0) return 0;
    *p = "NULL";
    *n = 4;
    return 1;
  }
  s = c->s;
  end = c->s + c->n;
  while (i-- > 0) {
    e = memchr(s, '\n', (size_t)(end - s));
    if (e == NULL) return 0;
    s = e + 1;
  }
  e = memchr(s, '\n', (size_t)(end - s));
  *p = s;
  *n = (size_t)((e ? e : end) - s);
  return 1;
}

static int cell_nlines(const cell *c) {
  int n = 1;
  size_t i;
  if (c->s == NULL) return 1;
  for (i = 0; i < c->n; i++)
    if (c->s[i] == '\n') n++;
  return n;
}

static int cell_width(const cell *c, int *nlines) {
  const char *p;
  size_t n;
  int i, w = 0;
  for (i = 0; cell_line(c, i, &p, &n); i++) {
    int lw = rt_text_width(p, n);
    if (lw > w) w = lw;
  }
  if (nlines) *nlines = i;
  return w;
}

/* --- line output --- */

/* Write s (display width sw) into a field of width w, cutting it with …
** when it does not fit; `align` -1 left, 0 centre, 1 right. */
static void add_field(rt_strbuf *b, const char *s, size_t n, int w, int align,
                      int dim) {
  int sw = rt_text_width(s, n), pad, left;
  if (sw > w) {
    size_t keep = w > 0 ? fit_bytes(s, n, w - 1) : 0;
    sw = rt_text_width(s, keep) + (w > 0);
    n = keep;
  }
  pad = w - sw;
  left = align > 0 ? pad : align == 0 ? pad / 2 : 0;
  for (; left > 0; left--, pad--) rt_sb_addc(b, ' ');
  if (dim) rt_sb_adds(b, DIM);
  rt_sb_addlen(b, s, n);
  if (sw > rt_text_width(s, n)) rt_sb_adds(b, ELLIPSIS);
  if (dim) rt_sb_adds(b, UNDIM);
  for (; pad > 0; pad--) rt_sb_addc(b, ' ');
}

static void put_line(FILE *f, rt_strbuf *b) {
  while (b->n > 0 && b->p[b->n - 1] == ' ') b->n--;
  if (b->n) fwrite(b->p, 1, b->n, f);
  fputc('\n', f);
  rt_sb_reset(b);
}

/* --- begin / rows / end --- */

static int is_numeric_type(rt_sqltype t) {
  return t == RT_T_INTEGER || t == RT_T_FLOAT || t == RT_T_NUMERIC;
}

rt_render *rt_render_begin(FILE *out, const rt_render_opts *o, int ncols,
                           const char *const *names, const rt_sqltype *types) {
  rt_render *r = calloc(1, sizeof *r);
  int i;
  if (r == NULL) return NULL;
  r->out = out;
  r->o = *o;
  r->ncols = ncols;
  r->names = calloc((size_t)ncols + 1, sizeof *r->names);
  r->types = calloc((size_t)ncols + 1, sizeof *r->types);
  r->items = calloc((size_t)ncols + 1, sizeof *r->items);
  r->numeric = calloc((size_t)ncols + 1, 1);
  r->textual = calloc((size_t)ncols + 1, 1);
  if (!r->names || !r->types || !r->items || !r->numeric || !r->textual)
    goto fail;
  for (i = 0; i < ncols; i++) {
    const char *name = names[i] ? names[i] : "";
    if (o->format == RT_FMT_MARKDOWN) {
      /* a `|` in a column name would split the header cell */
      cell c;
      rt_value v = rt_vtext(name, strlen(name));
      if (make_cell(&c, &v, 1) != 0) goto fail;
      r->names[i] = c.s;
    } else
      r->names[i] = strdup(name);
    if (r->names[i] == NULL) goto fail;
    if (types) r->types[i] = types[i];
  }
  if (r->o.format == RT_FMT_TABLE && r->o.expanded == RT_EXPANDED_ON)
    r->o.format = RT_FMT_VERTICAL;
  /* records are held too: psql draws every record's rule as wide as the
  ** widest value of the result */
  r->buffered = r->o.format == RT_FMT_TABLE || r->o.format == RT_FMT_MARKDOWN ||
                r->o.format == RT_FMT_VERTICAL;
  r->chunked =
      r->buffered && r->o.limit < 0 && r->o.pager == NULL && r->o.width == 0;
  if (r->chunked) {
    r->w = calloc((size_t)ncols + 1, sizeof *r->w);
    if (r->w == NULL) goto fail;
  }
  if (r->o.format == RT_FMT_CSV || r->o.format == RT_FMT_TSV) {
    /* the header row */
    rt_value *hv = calloc((size_t)ncols + 1, sizeof *hv);
    if (hv == NULL) goto fail;
    for (i = 0; i < ncols; i++)
      hv[i] = rt_vtext(r->names[i], strlen(r->names[i]));
    r->total = -1; /* the header is not a row */
    rt_render_row(r, hv);
    free(hv);
  }
  return r;
fail:
  r->broken = 1;
  rt_render_end(r);
  return NULL;
}

static void csv_field(FILE *f, const rt_value *v) {
  char *s;
  size_t i, n;
  if (v->type == RT_V_NULL) return;
  s = rt_value_text(v);
  if (s == NULL) return;
  n = v->type == RT_V_TEXT ? v->u.s.n : strlen(s);
  if (n == 0 || strpbrk(s, ",\"\r\n") != NULL) {
    fputc('"', f);
    for (i = 0; i < n; i++) {
      if (s[i] == '"') fputc('"', f);
      fputc(s[i], f);
    }
    fputc('"', f);
  } else
    fwrite(s, 1, n, f);
  free(s);
}

static void tsv_field(FILE *f, const rt_value *v) {
  char *s;
  size_t i, n;
  if (v->type == RT_V_NULL) {
    fputs("\\N", f);
    return;
  }
  s = rt_value_text(v);
  if (s == NULL) return;
  n = v->type == RT_V_TEXT ? v->u.s.n : strlen(s);
  for (i = 0; i < n; i++) {
    switch (s[i]) {
    case '\\':
      fputs("\\\\", f);
      break;
    case '\t':
      fputs("\\t", f);
      break;
    case '\n':
      fputs("\\n", f);
      break;
    case '\r':
      fputs("\\r", f);
      break;
    default:
      fputc(s[i], f);
    }
  }
  free(s);
}

static void json_string_sb(rt_strbuf *b, const char *s, size_t n) {
  size_t i;
  rt_sb_addc(b, '"');
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"':
      rt_sb_adds(b, "\\\"");
      break;
    case '\\':
      rt_sb_adds(b, "\\\\");
      break;
    case '\n':
      rt_sb_adds(b, "\\n");
      break;
    case '\r':
      rt_sb_adds(b, "\\r");
      break;
    case '\t':
      rt_sb_adds(b, "\\t");
      break;
    case '\b':
      rt_sb_adds(b, "\\b");
      break;
    case '\f':
      rt_sb_adds(b, "\\f");
      break;
    default:
      if (c < 0x20 || c == 0x7f)
        rt_sb_addf(b, "\\u%04x", c);
      else
        rt_sb_addc(b, (char)c);
    }
  }
  rt_sb_addc(b, '"');
}

static void json_string(FILE *f, const char *s, size_t n) {
  rt_strbuf b = RT_STRBUF_INIT;
  json_string_sb(&b, s, n);
  if (!b.failed) fwrite(b.p, 1, b.n, f);
  rt_sb_free(&b);
}

/* Is s[0..n) a number JSON accepts as it stands? */
static int json_number(const char *s, size_t n) {
  size_t i = 0, d;
  if (i < n && s[i] == '-') i++;
  d = i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  if (i == d || (s[d] == '0' && i - d > 1)) return 0;
  if (i < n && s[i] == '.') {
    d = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == d) return 0;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == d) return 0;
  }
  return i == n;
}

/*
** A JSON checker: does one JSON value start at s[*i] (after white space)?
** It moves *i past it.  A JSON column's text is nested into the output as
** it stands only when it is JSON (a SQLite column declared JSON may hold
** anything).
*/
#define JSON_DEPTH 200

static void json_ws(const char *s, size_t n, size_t *i) {
  while (*i < n &&
         (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
    (*i)++;
}

static int json_check(const char *s, size_t n, size_t *i, int depth) {
  size_t j;
  json_ws(s, n, i);
  if (*i >= n || depth > JSON_DEPTH) return 0;
  switch (s[*i]) {
  case '{':
  case '[': {
    char close = s[*i] == '{' ? '}' : ']';
    int object = close == '}';
    (*i)++;
    json_ws(s, n, i);
    if (*i < n && s[*i] == close) {
      (*i)++;
      return 1;
    }
    for (;;) {
      if (object) {
        json_ws(s, n, i);
        if (*i >= n || s[*i] != '"' || !json_check(s, n, i, depth + 1))
          return 0;
        json_ws(s, n, i);
        if (*i >= n || s[*i] != ':') return 0;
        (*i)++;
      }
      if (!json_check(s, n, i, depth + 1)) return 0;
      json_ws(s, n, i);
      if (*i < n && s[*i] == ',') {
        (*i)++;
        continue;
      }
      if (*i < n && s[*i] == close) {
        (*i)++;
        return 1;
      }
      return 0;
    }
  }
  case '"':
    for (j = *i + 1; j < n && s[j] != '"'; j++) {
      if ((unsigned char)s[j] < 0x20) return 0;
      if (s[j] == '\\') {
        j++;
        if (j >= n || strchr("\"\\/bfnrtu", s[j]) == NULL) return 0;
      }
    }
    if (j >= n) return 0;
    *i = j + 1;
    return 1;
  default:
    if (n - *i >= 4 &&
        (memcmp(s + *i, "true", 4) == 0 || memcmp(s + *i, "null", 4) == 0)) {
      *i += 4;
      return 1;
    }
    if (n - *i >= 5 && memcmp(s + *i, "false", 5) == 0) {
      *i += 5;
      return 1;
    }
    for (j = *i; j < n && strchr("+-.0123456789eE", s[j]) && s[j]; j++) {
    }
    if (j == *i || !json_number(s + *i, j - *i)) return 0;
    *i = j;
    return 1;
  }
}

static int json_valid(const char *s, size_t n) {
  size_t i = 0;
  if (!json_check(s, n, &i, 0)) return 0;
  json_ws(s, n, &i);
  return i == n;
}

/*
** One element of a PostgreSQL array literal as JSON: an unquoted NULL is
** null; numbers, booleans (t/f) and JSON elements by the array's element
** family; the rest strings.
*/
static void pgitem_json(rt_strbuf *b, const char *s, size_t n, int quoted,
                        rt_sqltype item) {
  if (!quoted && n == 4 && strncmp(s, "NULL", 4) == 0)
    rt_sb_adds(b, "null");
  else if ((item == RT_T_INTEGER || item == RT_T_FLOAT ||
            item == RT_T_NUMERIC) &&
           json_number(s, n))
    rt_sb_addlen(b, s, n);
  else if (item == RT_T_FLOAT && !quoted)
    rt_sb_adds(b, "null"); /* NaN, Infinity: no JSON number */
  else if (item == RT_T_BOOLEAN && n == 1 && (s[0] == 't' || s[0] == 'f'))
    rt_sb_adds(b, s[0] == 't' ? "true" : "false");
  else if (item == RT_T_JSON && json_valid(s, n))
    rt_sb_addlen(b, s, n);
  else
    json_string_sb(b, s, n);
}

/*
** A PostgreSQL array literal (`{1,2,NULL}`, `{{1,2},{3,4}}`,
** `{a,"b c","d\"e"}`) as a JSON array of arrays.  -1 when the text is not
** one this reads (bounds such as `[0:1]={..}`): it is shown as a string.
*/
static int pgarray_json(rt_strbuf *b, const char *s, size_t n, size_t *i,
                        rt_sqltype item, int depth) {
  rt_strbuf el = RT_STRBUF_INIT;
  int first = 1, rc = -1;
  if (*i >= n || s[*i] != '{' || depth > JSON_DEPTH) return -1;
  (*i)++;
  rt_sb_addc(b, '[');
  if (*i < n && s[*i] == '}') {
    (*i)++;
    rt_sb_addc(b, ']');
    return 0;
  }
  for (;;) {
    if (!first) rt_sb_adds(b, ", ");
    first = 0;
    if (*i < n && s[*i] == '{') {
      if (pgarray_json(b, s, n, i, item, depth + 1) != 0) goto done;
    } else if (*i < n && s[*i] == '"') {
      rt_sb_reset(&el);
      for ((*i)++; *i < n && s[*i] != '"'; (*i)++) {
        if (s[*i] == '\\' && *i + 1 < n) (*i)++;
        rt_sb_addc(&el, s[*i]);
      }
      if (*i >= n) goto done;
      (*i)++;
      pgitem_json(b, el.p ? el.p : "", el.n, 1, item);
    } else {
      size_t j = *i;
      while (j < n && s[j] != ',' && s[j] != '}') j++;
      if (j == *i || j >= n) goto done;
      pgitem_json(b, s + *i, j - *i, 0, item);
      *i = j;
    }
    if (*i < n && s[*i] == ',') {
      (*i)++;
      continue;
    }
    if (*i < n && s[*i] == '}') {
      (*i)++;
      rt_sb_addc(b, ']');
      rc = 0;
    }
    goto done;
  }
done:
  rt_sb_free(&el);
  return rc;
}

static void json_value(FILE *f, const rt_value *v, rt_sqltype t,
                       rt_sqltype item, int raw) {
  char buf[32];
  switch (v->type) {
  case RT_V_NULL:
    fputs("null", f);
    break;
  case RT_V_INT:
    fprintf(f, "%lld", (long long)v->u.i);
    break;
  case RT_V_FLOAT:
    if (isfinite(v->u.f))
      fputs(rt_float_repr(v->u.f, buf), f);
    else
      fputs("null", f);
    break;
  case RT_V_BOOL:
    fputs(v->u.b ? "true" : "false", f);
    break;
  case RT_V_TEXT:
    /* exact decimals are numbers; JSON is nested as it stands, arrays
    ** become JSON arrays */
    if (raw || (t == RT_T_NUMERIC && json_number(v->u.s.p, v->u.s.n)) ||
        (t == RT_T_JSON && json_valid(v->u.s.p, v->u.s.n)))
      fwrite(v->u.s.p, 1, v->u.s.n, f);
    else if (t == RT_T_ARRAY) {
      rt_strbuf b = RT_STRBUF_INIT;
      size_t i = 0;
      if (pgarray_json(&b, v->u.s.p, v->u.s.n, &i, item, 0) == 0 &&
          i == v->u.s.n && !b.failed)
        fwrite(b.p, 1, b.n, f);
      else
        json_string(f, v->u.s.p, v->u.s.n);
      rt_sb_free(&b);
    } else
      json_string(f, v->u.s.p, v->u.s.n);
    break;
  case RT_V_BLOB: {
    char *s = rt_value_text(v);
    if (s) json_string(f, s, strlen(s));
    free(s);
    break;
  }
  }
}

static void flush_chunk(rt_render *r);

static int hold_row(rt_render *r, const rt_value *vals) {
  int i;
  cell *row;
  if (r->nheld == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    cell *c = realloc(r->cells, cap * (size_t)r->ncols * sizeof *c + 1);
    if (c == NULL) return -1;
    r->cells = c;
    r->cap = cap;
  }
  row = r->cells + r->nheld * (size_t)r->ncols;
  for (i = 0; i < r->ncols; i++)
    if (make_cell(&row[i], &vals[i], r->o.format == RT_FMT_MARKDOWN) != 0) {
      while (i-- > 0) free(row[i].s);
      return -1;
    }
  r->nheld++;
  return 0;
}

void rt_render_items(rt_render *r, const rt_sqltype *items) {
  int i;
  for (i = 0; i < r->ncols; i++) r->items[i] = items[i];
}

int rt_render_row(rt_render *r, const rt_value *vals) {
  return rt_render_row_json(r, vals, NULL);
}

int rt_render_row_json(rt_render *r, const rt_value *vals,
                       const unsigned char *raw) {
  int i;
  FILE *f = r->out;
  int64_t no = ++r->total;
  for (i = 0; i < r->ncols; i++) {
    rt_vtype t = vals[i].type;
    if (t == RT_V_INT || t == RT_V_FLOAT ||
        (t == RT_V_TEXT && is_numeric_type(r->types[i])))
      r->numeric[i] = 1;
    else if (t != RT_V_NULL && !(t == RT_V_TEXT && vals[i].u.s.n == 0))
      r->textual[i] = 1; /* an empty cell aligns either way */
  }
  switch (r->o.format) {
  case RT_FMT_TABLE:
  case RT_FMT_MARKDOWN:
  case RT_FMT_VERTICAL:
    if (r->o.limit >= 0 && no > r->o.limit) return 0;
    if (hold_row(r, vals) != 0) return -1;
    if (r->chunked && r->nheld >= CHUNK) flush_chunk(r);
    return 0;
  case RT_FMT_CSV:
  case RT_FMT_TSV:
    for (i = 0; i < r->ncols; i++) {
      if (i) fputc(r->o.format == RT_FMT_CSV ? ',' : '\t', f);
      if (r->o.format == RT_FMT_CSV)
        csv_field(f, &vals[i]);
      else
        tsv_field(f, &vals[i]);
    }
    fputc('\n', f);
    return 0;
  case RT_FMT_JSON:
    fputs(no == 1 ? "[\n{" : ",\n{", f);
    for (i = 0; i < r->ncols; i++) {
      if (i) fputs(", ", f);
      json_string(f, r->names[i], strlen(r->names[i]));
      fputs(": ", f);
      json_value(f, &vals[i], r->types[i], r->items[i], raw && raw[i]);
    }
    fputc('}', f);
    return 0;
  }
  return 0;
}

/* --- the aligned formats, at the end --- */

static int right_aligned(const rt_render *r, int col) {
  return r->numeric[col] && !r->textual[col];
}

static int name_width(const rt_render *r) {
  int i, w = 0;
  for (i = 0; i < r->ncols; i++) {
    int nw = rt_text_width(r->names[i], strlen(r->names[i]));
    if (nw > w) w = nw;
  }
  return w;
}

/*
** The width of the values' column of records, as psql reckons it: the
** widest value of the held rows (*multi set when one has several lines,
** which takes a column more for the `+`), and at least what leaves the
** rule's `-[ RECORD n ]` title, for the highest record number `last`,
** no longer than the names, ` | ` and the values.
*/
static int record_width(const rt_render *r, int64_t last, int *multi) {
  size_t k;
  int w = 0, nw = name_width(r), title, nl;
  *multi = 0;
  for (k = 0; k < r->nheld * (size_t)r->ncols; k++) {
    int cw = cell_width(&r->cells[k], &nl);
    if (cw > w) w = cw;
    if (nl > 1) *multi = 1;
  }
  title = snprintf(NULL, 0, "-[ RECORD %lld ]", (long long)last);
  if (nw + 3 + *multi + w < title) w = title - nw - 3 - *multi;
  return w;
}

/*
** One record as psql's \x shows it: the rule `-[ RECORD n ]---` as wide as
** the names, ` | ` and the values' column `vw`, with `+` where the ` | `
** falls when the title leaves room; a value's lines but the last padded
** to vw and marked `+`.
*/
static void print_record(rt_render *r, FILE *f, const cell *cells, int64_t no,
                         int vw, int multi) {
  rt_strbuf b = RT_STRBUF_INIT;
  int nw = name_width(r), i, j, room;
  char head[64];
  room = r->o.width > 0 ? r->o.width - nw - 3 - multi : 0;
  if (room > 0 && vw > room) vw = room;
  snprintf(head, sizeof head, "-[ RECORD %lld ]", (long long)no);
  rt_sb_adds(&b, head);
  for (j = (int)strlen(head); j < nw + 3 + vw; j++)
    rt_sb_addc(&b, j == nw + 1 ? '+' : '-');
  put_line(f, &b);
  for (i = 0; i < r->ncols; i++) {
    const char *p, *q;
    size_t n, qn;
    for (j = 0; cell_line(&cells[i], j, &p, &n); j++) {
      int more = cell_line(&cells[i], j + 1, &q, &qn);
      add_field(&b, j == 0 ? r->names[i] : "", j == 0 ? strlen(r->names[i]) : 0,
                nw, -1, 0);
      rt_sb_adds(&b, " | ");
      add_field(&b, p, n, more || room > 0 ? vw : rt_text_width(p, n), -1,
                cells[i].s == NULL && r->o.color);
      if (more) rt_sb_addc(&b, '+');
      put_line(f, &b);
    }
  }
  rt_sb_free(&b);
}

static void footer(const rt_render *r, FILE *f) {
  int64_t shown = r->flushed + (int64_t)r->nheld;
  if (r->o.no_count && shown == r->total) return;
  if (r->o.format == RT_FMT_VERTICAL)
    shown = r->o.limit >= 0 && r->total > r->o.limit ? r->o.limit : r->total;
  if (r->o.format == RT_FMT_MARKDOWN) {
    if (shown < r->total)
      fprintf(f, "\n(%lld rows, %lld not shown: see \\limit)\n",
              (long long)r->total, (long long)(r->total - shown));
    return;
  }
  if (shown < r->total)
    fprintf(f, "(%lld rows, %lld not shown: see \\limit)\n",
            (long long)r->total, (long long)(r->total - shown));
  else
    fprintf(f, "(%lld row%s)\n", (long long)r->total, r->total == 1 ? "" : "s");
}

/* Column widths of the held rows (psql's `+` marker for a multi-line value
** takes the space after the cell: no column more). */
static void widths(rt_render *r, int *w) {
  size_t k;
  int i;
  for (i = 0; i < r->ncols; i++) {
    w[i] = rt_text_width(r->names[i], strlen(r->names[i]));
    if (r->o.format == RT_FMT_MARKDOWN && w[i] < 3) w[i] = 3;
  }
  for (k = 0; k < r->nheld; k++)
    for (i = 0; i < r->ncols; i++) {
      int cw = cell_width(&r->cells[k * (size_t)r->ncols + (size_t)i], NULL);
      if (cw > w[i]) w[i] = cw;
    }
}

static int table_width(const rt_render *r, const int *w) {
  int i, t = 1;
  for (i = 0; i < r->ncols; i++) t += w[i] + (i ? 3 : 1);
  return t;
}

/* Narrow the widest columns until the table fits o.width. */
static void fit(const rt_render *r, int *w) {
  if (r->o.width <= 0) return;
  while (table_width(r, w) > r->o.width) {
    int i, wide = 0;
    for (i = 1; i < r->ncols; i++)
      if (w[i] > w[wide]) wide = i;
    if (w[wide] <= 4) break;
    w[wide]--;
  }
}

static void print_table(rt_render *r, FILE *f, const int *w, int header) {
  rt_strbuf b = RT_STRBUF_INIT;
  int i, j;
  size_t k;
  for (i = 0; header && i < r->ncols; i++) {
    rt_sb_adds(&b, i ? "| " : " ");
    add_field(&b, r->names[i], strlen(r->names[i]), w[i], 0, 0);
    rt_sb_addc(&b, ' ');
  }
  if (header) {
    put_line(f, &b);
    for (i = 0; i < r->ncols; i++) {
      if (i) rt_sb_addc(&b, '+');
      for (j = 0; j < w[i] + 2; j++) rt_sb_addc(&b, '-');
    }
    put_line(f, &b);
  }
  for (k = 0; k < r->nheld; k++) {
    const cell *row = r->cells + k * (size_t)r->ncols;
    int nlines = 1;
    for (i = 0; i < r->ncols; i++)
      if (cell_nlines(&row[i]) > nlines) nlines = cell_nlines(&row[i]);
    for (j = 0; j < nlines; j++) {
      for (i = 0; i < r->ncols; i++) {
        const char *p = "", *q;
        size_t n = 0, qn;
        int more = cell_line(&row[i], j + 1, &q, &qn);
        if (!cell_line(&row[i], j, &p, &n)) p = "", n = 0;
        rt_sb_adds(&b, i ? "| " : " ");
        add_field(&b, p, n, w[i], right_aligned(r, i) ? 1 : -1,
                  row[i].s == NULL && r->o.color);
        rt_sb_addc(&b, more ? '+' : ' ');
      }
      put_line(f, &b);
    }
  }
  rt_sb_free(&b);
}

static void print_markdown(rt_render *r, FILE *f, const int *w, int header) {
  rt_strbuf b = RT_STRBUF_INIT;
  int i, j;
  size_t k;
  for (i = 0; header && i < r->ncols; i++) {
    rt_sb_adds(&b, "| ");
    add_field(&b, r->names[i], strlen(r->names[i]), w[i], -1, 0);
    rt_sb_addc(&b, ' ');
  }
  if (header && r->ncols > 0) { /* no columns: no pipe table at all */
    rt_sb_addc(&b, '|');
    put_line(f, &b);
    for (i = 0; i < r->ncols; i++) {
      rt_sb_addc(&b, '|');
      for (j = 0; j < w[i] + 1; j++) rt_sb_addc(&b, '-');
      rt_sb_addc(&b, right_aligned(r, i) ? ':' : '-');
    }
    rt_sb_addc(&b, '|');
    put_line(f, &b);
  }
  for (k = 0; k < r->nheld; k++) {
    const cell *row = r->cells + k * (size_t)r->ncols;
    for (i = 0; i < r->ncols; i++) {
      const char *p = row[i].s ? row[i].s : "NULL";
      size_t n = row[i].s ? row[i].n : 4;
      rt_sb_adds(&b, "| ");
      add_field(&b, p, n, w[i], right_aligned(r, i) ? 1 : -1, 0);
      rt_sb_addc(&b, ' ');
    }
    rt_sb_addc(&b, '|');
    put_line(f, &b);
  }
  rt_sb_free(&b);
}

/* Lines the table will take, to decide on paging. */
static long table_lines(const rt_render *r) {
  long lines = 3;
  size_t k;
  int i;
  for (k = 0; k < r->nheld; k++) {
    int nl = 1;
    for (i = 0; i < r->ncols; i++) {
      int c = cell_nlines(&r->cells[k * (size_t)r->ncols + (size_t)i]);
      if (c > nl) nl = c;
    }
    lines += nl;
  }
  return lines;
}

static void print_held(rt_render *r, FILE *f, const int *w) {
  size_t k;
  if (r->o.format == RT_FMT_MARKDOWN)
    print_markdown(r, f, w, 1);
  else if (r->o.format == RT_FMT_VERTICAL) {
    int multi, vw = record_width(r, (int64_t)r->nheld, &multi);
    for (k = 0; k < r->nheld; k++)
      print_record(r, f, r->cells + k * (size_t)r->ncols, (int64_t)k + 1, vw,
                   multi);
  } else
    print_table(r, f, w, 1);
  footer(r, f);
}

static void free_held(rt_render *r) {
  size_t k;
  for (k = 0; k < r->nheld * (size_t)r->ncols; k++) free(r->cells[k].s);
  r->nheld = 0;
}

/* Print the rows held so far (chunked output) and let them go. */
static void flush_chunk(rt_render *r) {
  int *w = calloc((size_t)r->ncols + 1, sizeof *w);
  int i;
  if (w) {
    widths(r, w);
    for (i = 0; i < r->ncols; i++)
      if (w[i] > r->w[i]) r->w[i] = w[i];
    if (r->o.format == RT_FMT_MARKDOWN)
      print_markdown(r, r->out, r->w, !r->started);
    else if (r->o.format == RT_FMT_VERTICAL) {
      size_t k;
      int multi, vw = record_width(r, r->flushed + (int64_t)r->nheld, &multi);
      if (vw > r->vw) r->vw = vw;
      for (k = 0; k < r->nheld; k++)
        print_record(r, r->out, r->cells + k * (size_t)r->ncols,
                     r->flushed + (int64_t)k + 1, r->vw, multi);
    } else
      print_table(r, r->out, r->w, !r->started);
    r->started = 1;
    r->flushed += (int64_t)r->nheld;
  }
  free(w);
  free_held(r);
}

static void finish_held(rt_render *r) {
  int *w = calloc((size_t)r->ncols + 1, sizeof *w);
  long lines;
  if (w == NULL) goto done;
  widths(r, w);
  if (r->o.format == RT_FMT_TABLE && r->o.expanded == RT_EXPANDED_AUTO &&
      r->o.width > 0 && r->nheld > 0 && table_width(r, w) > r->o.width)
    r->o.format = RT_FMT_VERTICAL;
  if (r->o.format == RT_FMT_TABLE) fit(r, w);
  lines = table_lines(r);
  if (r->o.format == RT_FMT_VERTICAL) lines += (long)r->nheld * r->ncols;
  if (r->o.pager && r->o.height > 0 && lines >= r->o.height) {
    FILE *p;
    void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* the pager may quit */
    fflush(r->out);
    p = popen(r->o.pager, "w");
    if (p) {
      print_held(r, p, w);
      pclose(p);
      signal(SIGPIPE, old);
      goto done;
    }
    signal(SIGPIPE, old);
  }
  print_held(r, r->out, w);
done:
  free(w);
}

void rt_render_end(rt_render *r) {
  int i;
  if (r == NULL) return;
  if (!r->broken) {
    if (r->started) { /* chunked: the last chunk, then the footer */
      flush_chunk(r);
      footer(r, r->out);
    } else if (r->buffered)
      finish_held(r);
    else if (r->o.format == RT_FMT_JSON)
      fputs(r->total > 0 ? "\n]\n" : "[]\n", r->out);
    fflush(r->out);
  }
  free_held(r);
  free(r->cells);
  free(r->w);
  if (r->names)
    for (i = 0; i < r->ncols; i++) free(r->names[i]);
  free(r->names);
  free(r->types);
  free(r->items);
  free(r->numeric);
  free(r->textual);
  free(r);
}

void rt_render_free(rt_render *r) {
  if (r == NULL) return;
  r->broken = 1;
  rt_render_end(r);
}
