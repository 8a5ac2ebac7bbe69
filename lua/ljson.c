/*
** ljson.c -- JSON text <-> Lua values, for JSON columns.
**
** Encoding follows Python's json.dumps defaults, which is what SQLAlchemy
** stores: ", " and ": " separators, non-ASCII escaped as \uXXXX, floats in
** repr form.  Lua tables have no key order, so object keys are sorted.  A
** table whose keys are exactly 1..n is an array; the empty table is "{}".
** JSON null inside containers decodes to sa.null (nil would leave a hole);
** a top-level null decodes to nil.
**
** The decoder reads the text in place and builds values with the Lua API;
** it holds no C memory, so a Lua error in the middle leaks nothing.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "lretort.h"

#define MAXDEPTH 200

/* --- encoding --- */

static void enc_value(lua_State *L, rt_strbuf *b, int idx, int depth);

static void enc_string(rt_strbuf *b, const char *s, size_t n) {
  size_t i = 0;
  rt_sb_addc(b, '"');
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    char esc[16];
    if (c == '"' || c == '\\') {
      rt_sb_addc(b, '\\');
      rt_sb_addc(b, (char)c);
      i++;
    } else if (c < 0x20) {
      switch (c) {
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
        snprintf(esc, sizeof esc, "\\u%04x", c);
        rt_sb_adds(b, esc);
      }
      i++;
    } else if (c < 0x80) {
      rt_sb_addc(b, (char)c);
      i++;
    } else {
      /* decode one UTF-8 sequence; invalid bytes become U+FFFD */
      unsigned long cp = 0xFFFD;
      size_t len = 1;
      if ((c & 0xE0) == 0xC0 && i + 1 < n)
        cp = ((c & 0x1Ful) << 6) | (s[i + 1] & 0x3F), len = 2;
      else if ((c & 0xF0) == 0xE0 && i + 2 < n)
        cp = ((c & 0x0Ful) << 12) | ((s[i + 1] & 0x3Ful) << 6) |
             (s[i + 2] & 0x3F),
        len = 3;
      else if ((c & 0xF8) == 0xF0 && i + 3 < n)
        cp = ((c & 0x07ul) << 18) | ((s[i + 1] & 0x3Ful) << 12) |
             ((s[i + 2] & 0x3Ful) << 6) | (s[i + 3] & 0x3F),
        len = 4;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        snprintf(esc, sizeof esc, "\\u%04lx\\u%04lx", 0xD800 + (cp >> 10),
                 0xDC00 + (cp & 0x3FF));
      } else
        snprintf(esc, sizeof esc, "\\u%04lx", cp);
      rt_sb_adds(b, esc);
      i += len;
    }
  }
  rt_sb_addc(b, '"');
}

/* A Row also holds its values under their names (lresult.c): those keys
** are not its own, the table is read as the list of values it is. */
static int skip_key(lua_State *L, int row) {
  return row && lua_type(L, -1) == LUA_TSTRING;
}

/* Is the table at idx an array 1..n?  (n == 0 counts as an object) */
static int is_array(lua_State *L, int idx, int row, lua_Integer *n) {
  lua_Integer count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (skip_key(L, row)) continue;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      lua_Integer k = lua_tointeger(L, -1);
      if (k > max) max = k;
      count++;
    } else {
      lua_pop(L, 1);
      return 0;
    }
  }
  *n = max;
  return count > 0 && count == max;
}

static int keycmp(lua_State *L) {
  lua_pushboolean(L, strcmp(lua_tostring(L, 1), lua_tostring(L, 2)) < 0);
  return 1;
}

static void enc_table(lua_State *L, rt_strbuf *b, int idx, int depth) {
  lua_Integer n, i;
  int row;
  if (depth > MAXDEPTH)
    rt_lua_error(L, RT_EARGUMENT, "JSON: nesting deeper than %d", MAXDEPTH);
  luaL_checkstack(L, 8, "JSON encoding");
  row = rt_lua_isrow(L, idx);
  if (is_array(L, idx, row, &n)) {
    rt_sb_addc(b, '[');
    for (i = 1; i <= n; i++) {
      if (i > 1) rt_sb_adds(b, ", ");
      lua_rawgeti(L, idx, i);
      enc_value(L, b, lua_gettop(L), depth + 1);
      lua_pop(L, 1);
    }
    rt_sb_addc(b, ']');
    return;
  }
  /* object: keys as strings, sorted */
  lua_newtable(L);
  n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (skip_key(L, row)) continue;
    if (lua_type(L, -1) == LUA_TSTRING)
      lua_pushvalue(L, -1);
    else if (lua_isinteger(L, -1))
      lua_pushfstring(L, "%I", lua_tointeger(L, -1));
    else
      rt_lua_error(L, RT_EARGUMENT, "JSON: keys must be strings, not %s",
                   luaL_typename(L, -1));
    lua_rawseti(L, -3, ++n);
  }
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "sort");
  lua_pushvalue(L, -3);
  lua_pushcfunction(L, keycmp);
  lua_call(L, 2, 0);
  lua_pop(L, 1);
  rt_sb_addc(b, '{');
  for (i = 1; i <= n; i++) {
    size_t kl;
    const char *k;
    if (i > 1) rt_sb_adds(b, ", ");
    lua_rawgeti(L, -1, i);
    k = lua_tolstring(L, -1, &kl);
    enc_string(b, k, kl);
    rt_sb_adds(b, ": ");
    /* the value: by string key, or by the integer the string came from */
    lua_pushvalue(L, -1);
    if (lua_rawget(L, idx) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushinteger(L, (lua_Integer)strtoll(k, NULL, 10));
      lua_rawget(L, idx);
    }
    enc_value(L, b, lua_gettop(L), depth + 1);
    lua_pop(L, 2);
  }
  rt_sb_addc(b, '}');
  lua_pop(L, 1); /* key list */
}

static void enc_value(lua_State *L, rt_strbuf *b, int idx, int depth) {
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    rt_sb_adds(b, "null");
    break;
  case LUA_TBOOLEAN:
    rt_sb_adds(b, lua_toboolean(L, idx) ? "true" : "false");
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      rt_sb_addf(b, "%lld", (long long)lua_tointeger(L, idx));
    } else {
      char buf[32];
      double d = lua_tonumber(L, idx);
      if (isnan(d))
        rt_sb_adds(b, "NaN");
      else if (isinf(d))
        rt_sb_adds(b, d > 0 ? "Infinity" : "-Infinity");
      else
        rt_sb_adds(b, rt_float_repr(d, buf));
    }
    break;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    enc_string(b, s, n);
    break;
  }
  case LUA_TTABLE:
    enc_table(L, b, idx, depth);
    break;
  default:
    if (rt_lua_isnull(L, idx)) {
      rt_sb_adds(b, "null");
      break;
    }
    rt_lua_error(L, RT_EARGUMENT, "JSON: can't encode a %s",
                 luaL_typename(L, idx));
  }
}

/* The output buffer sits in a userdata whose __gc frees it, so a Lua error
** in the middle of encoding leaks nothing. */
static int jbuf_gc(lua_State *L) {
  rt_sb_free((rt_strbuf *)lua_touserdata(L, 1));
  return 0;
}

void rt_lua_json_encode(lua_State *L, int idx) {
  rt_strbuf *b;
  idx = lua_absindex(L, idx);
  b = lua_newuserdatauv(L, sizeof *b, 0);
  rt_sb_init(b);
  if (luaL_newmetatable(L, "retort.JSONBuffer")) {
    lua_pushcfunction(L, jbuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  enc_value(L, b, idx, 0);
  if (b->failed) rt_lua_error(L, RT_EMEMORY, "JSON: out of memory");
  lua_pushlstring(L, b->p ? b->p : "", b->n);
  rt_sb_free(b);
  lua_remove(L, -2);
}

/* --- decoding --- */

typedef struct jdec {
  lua_State *L;
  const char *p, *end, *start;
} jdec;

static void dec_value(jdec *d, int depth, int inner);

static int dec_fail(jdec *d, const char *what) {
  return rt_lua_error(d->L, RT_EDATA, "JSON: %s at character %d", what,
                      (int)(d->p - d->start) + 1);
}

static void skip_ws(jdec *d) {
  while (d->p < d->end &&
         (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
    d->p++;
}

static int hex4(jdec *d, const char *p) {
  int v = 0, i;
  if (d->end - p < 4) dec_fail(d, "truncated \\u escape");
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      dec_fail(d, "bad \\u escape");
  }
  return v;
}

static void add_utf8(luaL_Buffer *b, unsigned long cp) {
  char u[4];
  int n;
  if (cp < 0x80)
    u[0] = (char)cp, n = 1;
  else if (cp < 0x800)
    u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
    u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)),
    n = 4;
  luaL_addlstring(b, u, (size_t)n);
}

/* A string starting at d->p (the opening quote); pushes it. */
static void dec_string(jdec *d) {
  luaL_Buffer b;
  const char *run;
  d->p++;
  luaL_buffinit(d->L, &b);
  run = d->p;
  for (;;) {
    if (d->p >= d->end) {
      luaL_pushresult(&b);
      dec_fail(d, "unterminated string");
    }
    if (*d->p == '"') break;
    if ((unsigned char)*d->p < 0x20) {
      luaL_pushresult(&b);
      dec_fail(d, "control character in string");
    }
    if (*d->p != '\\') {
      d->p++;
      continue;
    }
    luaL_addlstring(&b, run, (size_t)(d->p - run));
    d->p++;
    if (d->p >= d->end) break;
    switch (*d->p) {
    case '"':
      luaL_addchar(&b, '"');
      break;
    case '\\':
      luaL_addchar(&b, '\\');
      break;
    case '/':
      luaL_addchar(&b, '/');
      break;
    case 'b':
      luaL_addchar(&b, '\b');
      break;
    case 'f':
      luaL_addchar(&b, '\f');
      break;
    case 'n':
      luaL_addchar(&b, '\n');
      break;
    case 'r':
      luaL_addchar(&b, '\r');
      break;
    case 't':
      luaL_addchar(&b, '\t');
      break;
    case 'u': {
      unsigned long cp = (unsigned long)hex4(d, d->p + 1);
      d->p += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && d->end - d->p > 6 && d->p[1] == '\\' &&
          d->p[2] == 'u') {
        unsigned long lo = (unsigned long)hex4(d, d->p + 3);
        if (lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          d->p += 6;
        }
      }
      add_utf8(&b, cp);
      break;
    }
    default:
      luaL_pushresult(&b);
      dec_fail(d, "bad escape");
    }
    d->p++;
    run = d->p;
  }
  luaL_addlstring(&b, run, (size_t)(d->p - run));
  d->p++; /* closing quote */
  luaL_pushresult(&b);
}

static void dec_number(jdec *d) {
  const char *s = d->p;
  int isfloat = 0;
  char buf[64];
  size_t n;
  if (d->p < d->end && *d->p == '-') d->p++;
  while (d->p < d->end &&
         ((*d->p >= '0' && *d->p <= '9') || *d->p == '.' || *d->p == 'e' ||
          *d->p == 'E' || *d->p == '+' || *d->p == '-')) {
    if (*d->p == '.' || *d->p == 'e' || *d->p == 'E') isfloat = 1;
    d->p++;
  }
  n = (size_t)(d->p - s);
  if (n == 0 || n >= sizeof buf) dec_fail(d, "bad number");
  memcpy(buf, s, n);
  buf[n] = '\0';
  /* lua_stringtonumber keeps integers as integers and falls back to a
  ** float when one is too large */
  if (!isfloat && lua_stringtonumber(d->L, buf) == n + 1) return;
  {
    char *endp;
    double v = strtod(buf, &endp);
    if (*endp != '\0') dec_fail(d, "bad number");
    lua_pushnumber(d->L, v);
  }
}

static int word(jdec *d, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(d->end - d->p) >= n && memcmp(d->p, w, n) == 0) {
    d->p += n;
    return 1;
  }
  return 0;
}

static void dec_value(jdec *d, int depth, int inner) {
  lua_State *L = d->L;
  if (depth > MAXDEPTH) dec_fail(d, "nesting too deep");
  luaL_checkstack(L, 6, "JSON decoding");
  skip_ws(d);
  if (d->p >= d->end) dec_fail(d, "unexpected end");
  switch (*d->p) {
  case '{': {
    d->p++;
    lua_newtable(L);
    skip_ws(d);
    if (d->p < d->end && *d->p == '}') {
      d->p++;
      return;
    }
    for (;;) {
      skip_ws(d);
      if (d->p >= d->end || *d->p != '"') dec_fail(d, "expected a key");
      dec_string(d);
      skip_ws(d);
      if (d->p >= d->end || *d->p != ':') dec_fail(d, "expected ':'");
      d->p++;
      dec_value(d, depth + 1, 1);
      lua_rawset(L, -3);
      skip_ws(d);
      if (d->p < d->end && *d->p == ',') {
        d->p++;
        continue;
      }
      if (d->p < d->end && *d->p == '}') {
        d->p++;
        return;
      }
      dec_fail(d, "expected ',' or '}'");
    }
  }
  case '[': {
    lua_Integer i = 0;
    d->p++;
    lua_newtable(L);
    skip_ws(d);
    if (d->p < d->end && *d->p == ']') {
      d->p++;
      return;
    }
    for (;;) {
      dec_value(d, depth + 1, 1);
      lua_rawseti(L, -2, ++i);
      skip_ws(d);
      if (d->p < d->end && *d->p == ',') {
        d->p++;
        continue;
      }
      if (d->p < d->end && *d->p == ']') {
        d->p++;
        return;
      }
      dec_fail(d, "expected ',' or ']'");
    }
  }
  case '"':
    dec_string(d);
    return;
  default:
    if (word(d, "true"))
      lua_pushboolean(L, 1);
    else if (word(d, "false"))
      lua_pushboolean(L, 0);
    else if (word(d, "null")) {
      if (inner)
        rt_lua_pushnull(L);
      else
        lua_pushnil(L);
    } else if (word(d, "NaN"))
      lua_pushnumber(L, NAN);
    else if (word(d, "Infinity"))
      lua_pushnumber(L, HUGE_VAL);
    else if (word(d, "-Infinity"))
      lua_pushnumber(L, -HUGE_VAL);
    else
      dec_number(d);
  }
}

void rt_lua_json_decode(lua_State *L, const char *s, size_t n) {
  jdec d;
  d.L = L;
  d.p = d.start = s;
  d.end = s + n;
  dec_value(&d, 0, 0);
  skip_ws(&d);
  if (d.p != d.end) dec_fail(&d, "extra data");
}
