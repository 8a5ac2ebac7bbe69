/*
** render.h -- printing rows as tables, CSV, TSV, JSON, Markdown or records.
**
** No Lua and no database here: the caller hands over column names and then
** one row of rt_value at a time.  The streaming formats (csv, tsv, json)
** write each row as it comes and hold nothing; the aligned ones (table,
** markdown) keep the rows they show, at most `limit`, and count the rest.
*/
#ifndef RT_RENDER_H
#define RT_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include "core/value.h"

typedef enum rt_format {
  RT_FMT_TABLE = 0,
  RT_FMT_CSV,
  RT_FMT_TSV,
  RT_FMT_JSON,
  RT_FMT_MARKDOWN,
  RT_FMT_VERTICAL
} rt_format;

enum { RT_EXPANDED_OFF = 0, RT_EXPANDED_ON, RT_EXPANDED_AUTO };

typedef struct rt_render_opts {
  rt_format format;
  int expanded;      /* RT_EXPANDED_*: the table format as records */
  int width;         /* fit tables to this many columns; 0: no limit */
  int height;        /* page when taller than this (with pager); 0: never */
  const char *pager; /* command to page through, or NULL */
  long limit;        /* rows shown by table/markdown/vertical; < 0: all */
  int color;         /* dim NULL markers (a terminal) */
  int no_count;      /* no `(N rows)` footer when every row shows (\d) */
} rt_render_opts;

typedef struct rt_render rt_render;

/* The format named `name` ("table", "csv", ...); -1 when unknown. */
int rt_format_byname(const char *name);
const char *rt_format_name(rt_format f);

/*
** Start a result with `ncols` columns named `names` (copied).  `types`
** (may be NULL) are the columns' declared SQL types: numeric columns are
** right-aligned and exact decimals print as JSON numbers.  NULL when out
** of memory.
*/
rt_render *rt_render_begin(FILE *out, const rt_render_opts *o, int ncols,
                           const char *const *names, const rt_sqltype *types);
/* The element families of the columns of type RT_T_ARRAY (ncols of
** them): the json format writes numbers, booleans and JSON as such. */
void rt_render_items(rt_render *r, const rt_sqltype *items);
/* One row of ncols values (their bytes are copied if kept). 0 or -1. */
int rt_render_row(rt_render *r, const rt_value *vals);
/* The same, where raw[i] nonzero marks vals[i] as JSON text already (a
** nested value): the json format writes it as it stands, the others as
** text. */
int rt_render_row_json(rt_render *r, const rt_value *vals,
                       const unsigned char *raw);
/* Finish: print what was held and the footer, and free r. */
void rt_render_end(rt_render *r);
/* Free r without printing anything more (the rows failed midway). */
void rt_render_free(rt_render *r);

/* Display width of UTF-8 text (wide characters count 2, combining 0). */
int rt_text_width(const char *s, size_t n);

/* Text of a value as the table shows it ("NULL" for NULL, \x.. for
** bytes), into a malloc'd string. */
char *rt_value_text(const rt_value *v);

#endif
