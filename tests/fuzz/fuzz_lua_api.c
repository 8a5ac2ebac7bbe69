/*
** fuzz_lua_api.c -- the Lua API as a whole.  The fuzzer's bytes choose a
** Lua chunk from a small grammar of retort calls (statements, schema,
** types, operators, compile for each dialect, execution on an in-memory
** SQLite engine) with arguments of every shape: wrong types, nil, huge
** strings, deep nesting.  Each statement runs under pcall: any Lua error
** is fine; a crash, a leak or undefined behaviour is not.
**
** The chunk is printed when RETORT_FUZZ_PRINT is set, to turn a crash into
** a test.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/strbuf.h"
#include "lua/lretort.h"

/* a run that allocates more than this gets "not enough memory" */
#define MEM_LIMIT ((size_t)256 << 20)

static const char prelude[] =
    "local sa = require 'retort'\n"
    "local V, md = {}, sa.MetaData()\n"
    "local e = sa.create_engine('sqlite://')\n"
    "local conn = e:connect()\n"
    "local function deep(n, leaf) local t = leaf or {}\n"
    "  for _ = 1, n do t = {t} end return t end\n"
    "local function call(o, m, ...) return o[m](o, ...) end\n"
    "local function all(r) return r:all() end\n"
    "local big = string.rep('x', 1 << 20)\n"
    "V[1] = sa.Table('t1', md, sa.Column('id', sa.Integer, {primary_key = "
    "true}),\n"
    "  sa.Column('name', sa.String(20)), sa.Column('data', sa.JSON),\n"
    "  sa.Column('b', sa.Boolean), sa.Column('n', sa.Numeric(10, 2)))\n"
    "V[2] = sa.Table('t2', md, sa.Column('id', sa.Integer, {primary_key = "
    "true}),\n"
    "  sa.Column('t1_id', sa.ForeignKey('t1.id')), sa.Column('x', "
    "sa.Float))\n"
    "md:create_all(e)\n"
    "V[3], V[4], V[5] = V[1].c.id, V[1].c.name, V[2].c.t1_id\n"
    "V[6] = sa.select(V[1])\n"
    "V[7] = sa.insert(V[1])\n"
    "V[8] = sa.text('SELECT :x AS x')\n";

static const char *const sa_funcs[] = {"select",
                                       "insert",
                                       "update",
                                       "delete",
                                       "text",
                                       "and_",
                                       "or_",
                                       "not_",
                                       "literal",
                                       "literal_column",
                                       "column",
                                       "table",
                                       "bindparam",
                                       "case",
                                       "cast",
                                       "exists",
                                       "tuple_",
                                       "union",
                                       "union_all",
                                       "intersect",
                                       "except_",
                                       "asc",
                                       "desc",
                                       "distinct",
                                       "over",
                                       "extract",
                                       "true_",
                                       "false_",
                                       "null",
                                       "nulls_first",
                                       "nulls_last",
                                       "Column",
                                       "ForeignKey",
                                       "Index",
                                       "Sequence",
                                       "CheckConstraint",
                                       "UniqueConstraint",
                                       "PrimaryKeyConstraint",
                                       "ForeignKeyConstraint",
                                       "CreateTable",
                                       "DropTable",
                                       "CreateIndex",
                                       "make_url",
                                       "inspect",
                                       "MetaData"};

static const char *const sa_types[] = {
    "Integer",     "BigInteger", "SmallInteger", "Float",   "Double",
    "Numeric",     "String",     "Text",         "Unicode", "UnicodeText",
    "Boolean",     "Date",       "DateTime",     "Time",    "Interval",
    "LargeBinary", "Enum",       "JSON",         "JSONB",   "Uuid",
    "ARRAY"};

static const char *const methods[] = {"where",
                                      "filter",
                                      "filter_by",
                                      "join",
                                      "outerjoin",
                                      "join_from",
                                      "select_from",
                                      "group_by",
                                      "having",
                                      "order_by",
                                      "limit",
                                      "offset",
                                      "distinct",
                                      "add_columns",
                                      "with_only_columns",
                                      "correlate",
                                      "subquery",
                                      "alias",
                                      "cte",
                                      "scalar_subquery",
                                      "exists",
                                      "label",
                                      "union",
                                      "union_all",
                                      "intersect",
                                      "except_",
                                      "with_for_update",
                                      "execution_options",
                                      "values",
                                      "returning",
                                      "from_select",
                                      "prefix_with",
                                      "on_conflict_do_nothing",
                                      "on_conflict_do_update",
                                      "on_duplicate_key_update",
                                      "eq",
                                      "ne",
                                      "lt",
                                      "le",
                                      "gt",
                                      "ge",
                                      "like",
                                      "not_like",
                                      "ilike",
                                      "not_ilike",
                                      "in_",
                                      "not_in",
                                      "between",
                                      "is_",
                                      "is_not",
                                      "startswith",
                                      "endswith",
                                      "contains",
                                      "op",
                                      "asc",
                                      "desc",
                                      "collate",
                                      "nulls_first",
                                      "nulls_last",
                                      "cast",
                                      "bindparams",
                                      "columns",
                                      "compile",
                                      "params",
                                      "as_scalar",
                                      "over",
                                      "options",
                                      "table",
                                      "create",
                                      "drop",
                                      "get_table_names",
                                      "get_columns",
                                      "create_all",
                                      "drop_all",
                                      "reflect",
                                      "all",
                                      "first",
                                      "scalar",
                                      "one",
                                      "fetchmany",
                                      "mappings",
                                      "scalars",
                                      "keys",
                                      "_asdict",
                                      "close"};

static const char *const words[] = {"id",
                                    "name",
                                    "data",
                                    "b",
                                    "n",
                                    "t1",
                                    "t2",
                                    "t1.id",
                                    "x",
                                    "select",
                                    "a b",
                                    "we\\\"ird",
                                    "'",
                                    "",
                                    "sqlite",
                                    "postgresql",
                                    "mysql",
                                    "default",
                                    "%",
                                    ":x",
                                    "?",
                                    "$1",
                                    "c",
                                    "primary_key",
                                    "nullable",
                                    "dialect",
                                    "recursive",
                                    "isouter",
                                    "full",
                                    "set_",
                                    "index_elements",
                                    "yield_per",
                                    "key",
                                    "unique",
                                    "nowait",
                                    "of",
                                    "autoload_with",
                                    "only",
                                    "name",
                                    "literal_binds",
                                    "OR IGNORE",
                                    "count",
                                    "max",
                                    "now",
                                    "coalesce"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct gen {
  const uint8_t *p, *end;
  rt_strbuf b;
} gen;

static unsigned byte(gen *g) {
  return g->p < g->end ? *g->p++ : 0;
}

static void quoted(gen *g) {
  unsigned n = byte(g) % 24, k;
  rt_sb_addc(&g->b, '"');
  for (k = 0; k < n && g->p < g->end; k++) {
    char esc[8];
    snprintf(esc, sizeof esc, "\\%u", byte(g));
    rt_sb_adds(&g->b, esc);
  }
  rt_sb_addc(&g->b, '"');
}

static void expr(gen *g, int depth);

static void args(gen *g, int depth) {
  unsigned n = byte(g) % 4, k;
  for (k = 0; k < n; k++) {
    if (k) rt_sb_adds(&g->b, ", ");
    expr(g, depth + 1);
  }
}

static void atom(gen *g) {
  char num[64];
  unsigned c = byte(g);
  switch (c % 16) {
  case 0:
  case 1:
  case 2:
    snprintf(num, sizeof num, "V[%u]", 1 + byte(g) % 12);
    rt_sb_adds(&g->b, num);
    break;
  case 3:
    snprintf(num, sizeof num, "%d", (int)(int8_t)byte(g));
    rt_sb_adds(&g->b, num);
    break;
  case 4: {
    static const char *const nums[] = {"0.5",
                                       "1e308",
                                       "-0.0",
                                       "(0/0)",
                                       "math.huge",
                                       "math.mininteger",
                                       "math.maxinteger",
                                       "-math.huge",
                                       "2^53",
                                       "1e-320",
                                       "0x7fffffff",
                                       "-1"};
    rt_sb_adds(&g->b, nums[byte(g) % N(nums)]);
    break;
  }
  case 5:
    quoted(g);
    break;
  case 6:
  case 7:
    rt_sb_addc(&g->b, '"');
    rt_sb_adds(&g->b, words[byte(g) % N(words)]);
    rt_sb_addc(&g->b, '"');
    break;
  case 8: {
    static const char *const lits[] = {"nil", "true", "false",   "sa.null",
                                       "{}",  "big",  "md",      "conn",
                                       "e",   "sa",   "sa.func", "print"};
    rt_sb_adds(&g->b, lits[byte(g) % N(lits)]);
    break;
  }
  case 9: {
    static const unsigned depths[] = {1, 10, 100, 200, 1000, 100000};
    snprintf(num, sizeof num, "deep(%u, V[%u])", depths[byte(g) % N(depths)],
             1 + byte(g) % 12);
    rt_sb_adds(&g->b, num);
    break;
  }
  default:
    rt_sb_adds(&g->b, "sa.");
    rt_sb_adds(&g->b, sa_types[byte(g) % N(sa_types)]);
  }
}

static void expr(gen *g, int depth) {
  unsigned c;
  if (depth > 4) {
    atom(g);
    return;
  }
  c = byte(g);
  switch (c % 14) {
  case 0:
  case 1:
  case 2:
    atom(g);
    break;
  case 3:
    rt_sb_adds(&g->b, "sa.");
    rt_sb_adds(&g->b, sa_funcs[byte(g) % N(sa_funcs)]);
    rt_sb_addc(&g->b, '(');
    args(g, depth);
    rt_sb_addc(&g->b, ')');
    break;
  case 4:
  case 5:
    rt_sb_adds(&g->b, "call(");
    expr(g, depth + 1);
    rt_sb_adds(&g->b, ", \"");
    rt_sb_adds(&g->b, methods[byte(g) % N(methods)]);
    rt_sb_adds(&g->b, "\"");
    if (byte(g) & 1) {
      rt_sb_adds(&g->b, ", ");
      args(g, depth);
    }
    rt_sb_addc(&g->b, ')');
    break;
  case 6:
    rt_sb_adds(&g->b, "sa.");
    rt_sb_adds(&g->b, sa_types[byte(g) % N(sa_types)]);
    rt_sb_addc(&g->b, '(');
    args(g, depth);
    rt_sb_addc(&g->b, ')');
    break;
  case 7: {
    static const char *const ops[] = {" + ", " - ",  " * ", " / ",
                                      " % ", " .. ", " & ", " | "};
    rt_sb_addc(&g->b, '(');
    expr(g, depth + 1);
    rt_sb_adds(&g->b, ops[byte(g) % N(ops)]);
    expr(g, depth + 1);
    rt_sb_addc(&g->b, ')');
    break;
  }
  case 8:
    rt_sb_adds(&g->b, (byte(g) & 1) ? "(~" : "(-");
    expr(g, depth + 1);
    rt_sb_addc(&g->b, ')');
    break;
  case 9: {
    static const char *const d[] = {
        "'sqlite'", "'postgresql'", "'mysql'", "'default'",
        "e",        "'bogus'",      "nil"};
    rt_sb_adds(&g->b, "tostring(call(");
    expr(g, depth + 1);
    rt_sb_adds(&g->b, ", 'compile', ");
    rt_sb_adds(&g->b, d[byte(g) % N(d)]);
    rt_sb_adds(&g->b, "))");
    break;
  }
  case 10: {
    int rows = byte(g) & 1;
    rt_sb_adds(&g->b, rows ? "all(conn:execute(" : "conn:execute(");
    expr(g, depth + 1);
    if (byte(g) & 1) {
      rt_sb_adds(&g->b, ", ");
      expr(g, depth + 1);
    }
    rt_sb_adds(&g->b, rows ? "))" : ")");
    break;
  }
  case 11: {
    unsigned n = byte(g) % 4, k;
    rt_sb_addc(&g->b, '{');
    for (k = 0; k < n; k++) {
      if (byte(g) & 1) {
        rt_sb_adds(&g->b, "[\"");
        rt_sb_adds(&g->b, words[byte(g) % N(words)]);
        rt_sb_adds(&g->b, "\"] = ");
      }
      expr(g, depth + 1);
      rt_sb_adds(&g->b, ", ");
    }
    rt_sb_addc(&g->b, '}');
    break;
  }
  case 12:
    rt_sb_adds(&g->b, "sa.func[");
    rt_sb_addc(&g->b, '"');
    rt_sb_adds(&g->b, words[byte(g) % N(words)]);
    rt_sb_adds(&g->b, "\"](");
    args(g, depth);
    rt_sb_addc(&g->b, ')');
    break;
  default:
    rt_sb_adds(&g->b, "sa.Table(");
    expr(g, depth + 1);
    rt_sb_adds(&g->b, ", md, sa.Column(");
    expr(g, depth + 1);
    rt_sb_adds(&g->b, ", ");
    expr(g, depth + 1);
    rt_sb_adds(&g->b, "), ");
    args(g, depth);
    rt_sb_addc(&g->b, ')');
  }
}

static size_t used;

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) {
    free(ptr);
    used -= osize;
    return NULL;
  }
  if (nsize > osize && used + (nsize - osize) > MEM_LIMIT) return NULL;
  ptr = realloc(ptr, nsize);
  if (ptr) used = used - osize + nsize;
  return ptr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gen g;
  lua_State *L;
  unsigned k = 0;
  g.p = data;
  g.end = data + size;
  rt_sb_init(&g.b);
  rt_sb_adds(&g.b, prelude);
  while (g.p < g.end && k++ < 24) {
    char head[48];
    snprintf(head, sizeof head, "pcall(function() V[%u] = ", 1 + byte(&g) % 12);
    rt_sb_adds(&g.b, head);
    expr(&g, 0);
    rt_sb_adds(&g.b, " end)\n");
  }
  rt_sb_adds(&g.b, "conn:close() e:dispose()\n");
  if (g.b.failed) {
    rt_sb_free(&g.b);
    return 0;
  }
  if (getenv("RETORT_FUZZ_PRINT")) fprintf(stderr, "%.*s", (int)g.b.n, g.b.p);
  used = 0;
  L = lua_newstate(limited_alloc, NULL);
  luaL_openlibs(L);
  luaL_requiref(L, "retort", luaopen_retort, 0);
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, g.b.p, g.b.n, "=fuzz") == LUA_OK)
    lua_pcall(L, 0, 0, 0);
  lua_close(L);
  rt_sb_free(&g.b);
  return 0;
}
