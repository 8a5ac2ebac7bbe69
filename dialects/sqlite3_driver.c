/*
** sqlite3_driver.c -- the driver for SQLite, over the sqlite3 C API.
**
** Prepared statements are kept in a small per-connection cache keyed by
** their SQL text, so executing the same statement again only resets and
** rebinds it.  A cursor borrows a cached statement while it is open; a
** second execute of the same text while the first cursor is still open
** prepares a private statement instead.
*/
#include <regex.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/driver.h"
#include "../core/stmtcache.h"

/* A declared type and its family, remembered (see sq_coltype). */
typedef struct decl_memo {
  char decl[40];
  rt_sqltype type;
} decl_memo;

#define DECL_MEMO_SIZE 16

typedef struct sqlite_conn {
  rt_dbconn base;
  sqlite3 *db;
  rt_stmtcache cache;
  sqlite3_stmt *tx[3]; /* BEGIN, COMMIT, ROLLBACK (NULL: not prepared) */
  int tx_pending;      /* begun: BEGIN goes out before the first DML */
  char version[32];
  decl_memo decls[DECL_MEMO_SIZE];
  /* a closed cursor kept for the next execute: most run one at a time */
  struct sqlite_cursor *spare;
} sqlite_conn;

typedef struct sqlite_cursor {
  rt_cursor base;
  sqlite3_stmt *stmt;
  rt_stmtslot *slot; /* NULL when the statement is private */
  int pending;       /* the first row was already stepped by execute */
  int done;
} sqlite_cursor;

/*
** Map an SQLite result code to SQLAlchemy's (pysqlite's) exception kind,
** as Python's sqlite3 module does: every SQLITE_ERROR (a syntax error, a
** missing table or column) is operational, a constraint or a datatype
** mismatch breaks integrity, an unknown code is a DatabaseError.
*/
static rt_errkind kind_of(int rc) {
  switch (rc & 0xff) {
  case SQLITE_CONSTRAINT:
  case SQLITE_MISMATCH:
    return RT_EINTEGRITY;
  case SQLITE_TOOBIG:
    return RT_EDATA;
  case SQLITE_RANGE:
  case SQLITE_MISUSE:
    return RT_EINTERFACE;
  case SQLITE_INTERRUPT:
    return RT_ECANCELED;
  case SQLITE_NOMEM:
    return RT_EMEMORY;
  case SQLITE_INTERNAL:
  case SQLITE_NOTFOUND:
    return RT_EINTERNAL;
  case SQLITE_ERROR:
  case SQLITE_PERM:
  case SQLITE_ABORT:
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
  case SQLITE_READONLY:
  case SQLITE_IOERR:
  case SQLITE_FULL:
  case SQLITE_CANTOPEN:
  case SQLITE_PROTOCOL:
  case SQLITE_EMPTY:
  case SQLITE_SCHEMA:
    return RT_EOPERATIONAL;
  default: /* SQLITE_CORRUPT, SQLITE_NOTADB, ... */
    return RT_EDATABASE;
  }
}

/* Errors about the database file itself, whose message should name it:
** SQLite's own ("file is not a database") do not say which file. */
static int about_file(int rc) {
  switch (rc & 0xff) {
  case SQLITE_READONLY:
  case SQLITE_CANTOPEN:
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
  case SQLITE_IOERR:
  case SQLITE_PERM:
  case SQLITE_FULL:
    return 1;
  default:
    return 0;
  }
}

static int fail(sqlite_conn *c, int rc, rt_error *err) {
  const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
  const char *file = c->db ? sqlite3_db_filename(c->db, "main") : NULL;
  char code[16];
  if (about_file(rc) && file && file[0])
    rt_error_set(err, kind_of(rc), "%s (database file '%s')", msg, file);
  else
    rt_error_set(err, kind_of(rc), "%s", msg);
  snprintf(code, sizeof code, "%d",
           c->db ? sqlite3_extended_errcode(c->db) : rc);
  rt_error_setcode(err, code);
  if (c->db) {
    int off = sqlite3_error_offset(c->db);
    if (off >= 0) err->position = off + 1;
  }
  return -1;
}

static void finalize(void *stmt);
static void prepare_tx(sqlite_conn *c);

static void free_regex(void *p) {
  regfree(p);
  free(p);
}

/*
** REGEXP for `x REGEXP pattern`, which SQLite leaves to the application:
** SQLAlchemy's pysqlite dialect registers one (re.search), this is its
** POSIX extended counterpart.  SQLite calls regexp(pattern, x); NULL in,
** NULL out.  The compiled pattern is kept per statement.
*/
static void sq_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  regex_t *re;
  const char *s;
  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
      sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  re = sqlite3_get_auxdata(ctx, 0);
  if (!re) {
    const char *pat = (const char *)sqlite3_value_text(argv[0]);
    int rc;
    re = malloc(sizeof *re);
    if (!re || !pat) {
      free(re);
      sqlite3_result_error_nomem(ctx);
      return;
    }
    rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char msg[200];
      regerror(rc, re, msg, sizeof msg);
      free(re);
      sqlite3_result_error(ctx, msg, -1);
      return;
    }
    sqlite3_set_auxdata(ctx, 0, re, free_regex);
    re = sqlite3_get_auxdata(ctx, 0);
    if (!re) { /* SQLite freed it (out of memory): compile it again */
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  s = (const char *)sqlite3_value_text(argv[1]);
  if (!s) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_int(ctx, regexec(re, s, 0, NULL, 0) == 0);
}

/*
** SQLite's memory statistics take a global mutex around every allocation
** it makes, and a statement's step makes several; nothing here reads
** them.  The setting only takes before SQLite initializes, that is before
** the first connection opens (later calls fail harmlessly).
*/
static void sq_configure(void) {
  static int done;
  if (done) return;
  done = 1;
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_connect(const rt_url *url, int nargs, const rt_url_arg *args,
                      rt_dbconn **out, rt_error *err) {
  sqlite_conn *c = calloc(1, sizeof *c);
  const char *path = url->database;
  /* no per-call mutex: a driver connection is used by one thread at a time
  ** (the pool is not shared between threads), and sqlite3_interrupt, the
  ** one call that may come from elsewhere, needs none */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
              SQLITE_OPEN_NOMUTEX;
  int timeout_ms = 5000; /* pysqlite's default timeout is 5 seconds */
  int i, rc;
  if (c == NULL) return rt_error_set(err, RT_EMEMORY, "out of memory");
  if (path == NULL || path[0] == '\0') path = ":memory:";
  for (i = 0; i < nargs; i++) {
    if (strcmp(args[i].key, "timeout") == 0)
      timeout_ms = (int)(atof(args[i].value) * 1000);
    else if (strcmp(args[i].key, "mode") == 0 &&
             strcmp(args[i].value, "ro") == 0)
      flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
              SQLITE_OPEN_READONLY;
  }
  c->base.drv = &rt_sqlite3_driver;
  rt_stmtcache_init(&c->cache, finalize);
  sq_configure();
  rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    rt_error_set(err, RT_EOPERATIONAL, "unable to open database file '%s': %s",
                 path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    sqlite3_close(c->db);
    free(c);
    return -1;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, timeout_ms);
  sqlite3_create_function(c->db, "regexp", 2,
                          SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sq_regexp,
                          NULL, NULL);
  snprintf(c->version, sizeof c->version, "%s", sqlite3_libversion());
  prepare_tx(c);
  *out = &c->base;
  return 0;
}

/*
** Cached statements finalized so far, in any connection: a cursor's shape
** is its cached statement, and a statement made later at the same address
** must not pass for it.
*/
static atomic_uint_fast64_t cached_finalized;

static void finalize(void *stmt) {
  atomic_fetch_add_explicit(&cached_finalized, 1, memory_order_relaxed);
  sqlite3_finalize(stmt);
}

static void sq_close(rt_dbconn *base) {
  sqlite_conn *c = (sqlite_conn *)base;
  int i;
  for (i = 0; i < 3; i++) sqlite3_finalize(c->tx[i]);
  rt_stmtcache_free(&c->cache);
  sqlite3_close_v2(c->db);
  free(c->spare);
  free(c);
}

/*
** The cached statement for `sql`, or a new one (cached when there is room).
** *slot is NULL when the statement is private.
*/
static sqlite3_stmt *prepare(sqlite_conn *c, const char *sql,
                             rt_stmtslot **slot, rt_error *err) {
  sqlite3_stmt *stmt = rt_stmtcache_take(&c->cache, sql, slot);
  const char *tail = NULL;
  int rc;
  if (stmt) return stmt;
  rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                          &tail);
  if (rc != SQLITE_OK) {
    fail(c, rc, err);
    sqlite3_finalize(stmt);
    return NULL;
  }
  if (stmt == NULL) {
    rt_error_set(err, RT_EPROGRAMMING, "empty SQL statement");
    return NULL;
  }
  while (tail && (*tail == ' ' || *tail == '\t' || *tail == '\n' ||
                  *tail == '\r' || *tail == ';'))
    tail++;
  if (tail && *tail) {
    sqlite3_finalize(stmt);
    rt_error_set(err, RT_EPROGRAMMING,
                 "You can only execute one statement at a time.");
    return NULL;
  }
  rt_stmtcache_put(&c->cache, sql, stmt, slot);
  return stmt;
}

static void release(sqlite3_stmt *stmt, rt_stmtslot *slot) {
  if (slot) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    rt_stmtcache_release(slot);
  } else
    sqlite3_finalize(stmt);
}

/*
** Bind one row.  `copy` is SQLITE_TRANSIENT when the statement may be
** stepped after the caller's values are gone (a cursor), SQLITE_STATIC when
** every step happens while they live (executemany).
*/
static int bind(sqlite_conn *c, sqlite3_stmt *stmt, const rt_value *params,
                int nparams, sqlite3_destructor_type copy, rt_error *err) {
  int i, rc = SQLITE_OK;
  int want = sqlite3_bind_parameter_count(stmt);
  if (want != nparams)
    return rt_error_set(err, RT_EPROGRAMMING,
                        "Incorrect number of bindings supplied. The current "
                        "statement uses %d, and there are %d supplied.",
                        want, nparams);
  for (i = 0; i < nparams && rc == SQLITE_OK; i++) {
    const rt_value *v = &params[i];
    switch (v->type) {
    case RT_V_NULL:
      rc = sqlite3_bind_null(stmt, i + 1);
      break;
    case RT_V_INT:
      rc = sqlite3_bind_int64(stmt, i + 1, v->u.i);
      break;
    case RT_V_FLOAT:
      rc = sqlite3_bind_double(stmt, i + 1, v->u.f);
      break;
    case RT_V_BOOL:
      rc = sqlite3_bind_int(stmt, i + 1, v->u.b);
      break;
    case RT_V_TEXT:
      rc = sqlite3_bind_text64(stmt, i + 1, v->u.s.p, v->u.s.n, copy,
                               SQLITE_UTF8);
      break;
    case RT_V_BLOB:
      rc = sqlite3_bind_blob64(stmt, i + 1, v->u.s.p, v->u.s.n, copy);
      break;
    }
  }
  return rc == SQLITE_OK ? 0 : fail(c, rc, err);
}

/*
** Transactions begin lazily, as in Python's sqlite3 module (pysqlite's
** legacy mode, which SQLAlchemy uses): begin only marks one pending, and
** BEGIN goes out just before the first INSERT, UPDATE, DELETE or REPLACE.
** Reads and DDL before it run in autocommit and leave no SHARED lock
** behind, so other connections can write meanwhile.  A statement is DML
** when its first keyword, past blanks and comments, starts so (the
** module's own test, no word boundary either).
*/
static const char *skip_blanks(const char *p) {
  for (;;) {
    if (*p == ' ' || *p == '\t' || *p == '\f' || *p == '\n' || *p == '\r')
      p++;
    else if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') p++;
    } else if (p[0] == '/' && p[1] == '*') {
      for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++) continue;
      if (*p) p += 2;
    } else
      return p;
  }
}

static int is_dml(const char *sql) {
  const char *p = skip_blanks(sql);
  return strncasecmp(p, "INSERT", 6) == 0 || strncasecmp(p, "UPDATE", 6) == 0 ||
         strncasecmp(p, "DELETE", 6) == 0 || strncasecmp(p, "REPLACE", 7) == 0;
}

static int tx_exec(rt_dbconn *base, int which, rt_error *err);

/* Send the pending BEGIN if sql is DML and no transaction is open. */
static int begin_for(sqlite_conn *c, const char *sql, rt_error *err) {
  if (!c->tx_pending || !sqlite3_get_autocommit(c->db) || !is_dml(sql))
    return 0;
  return tx_exec(&c->base, 0, err);
}

static int sq_execute(rt_dbconn *base, const char *sql, const rt_value *params,
                      int nparams, int flags, rt_cursor **out, rt_error *err) {
  sqlite_conn *c = (sqlite_conn *)base;
  sqlite_cursor *cur;
  rt_stmtslot *slot;
  sqlite3_stmt *stmt;
  int rc;
  (void)flags; /* SQLite always steps lazily */
  stmt = prepare(c, sql, &slot, err);
  if (stmt == NULL) return -1;
  if (begin_for(c, sql, err) != 0 ||
      bind(c, stmt, params, nparams, SQLITE_TRANSIENT, err) != 0) {
    release(stmt, slot);
    return -1;
  }
  if ((cur = c->spare) != NULL) {
    c->spare = NULL;
    memset(cur, 0, sizeof *cur);
  } else
    cur = calloc(1, sizeof *cur);
  if (cur == NULL) {
    release(stmt, slot);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  /* step once now, so errors and DML effects happen at execute time */
  rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    fail(c, rc, err);
    release(stmt, slot);
    free(cur);
    return -1;
  }
  cur->base.conn = base;
  cur->base.ncols = sqlite3_column_count(stmt);
  cur->stmt = stmt;
  cur->slot = slot;
  cur->pending = rc == SQLITE_ROW;
  cur->done = rc == SQLITE_DONE;
  if (slot) {
    /* the columns change only when SQLite prepares it again (the schema
    ** changed), which the first step above has done if it had to */
    cur->base.shape = stmt;
    cur->base.shape_gen =
        (atomic_load_explicit(&cached_finalized, memory_order_relaxed) << 32) ^
        (uint64_t)sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0);
  }
  /* as the sqlite3 module counts: rows changed by DML, -1 for anything
  ** else (DDL included, where sqlite3_changes still holds the last DML's) */
  cur->base.rowcount = is_dml(sql) ? (int64_t)sqlite3_changes64(c->db) : -1;
  cur->base.lastrowid = sqlite3_last_insert_rowid(c->db);
  *out = &cur->base;
  return 0;
}

/*
** executemany of a plain INSERT goes in batches of rows, one multi-row
** VALUES statement each: SQLite then enters its insert loop once a batch
** instead of once a row, which halves the work per row.  Only a VALUES
** tuple of bare placeholders closing the statement is batched: a function
** or subquery in it could see the batch's own rows otherwise than row by
** row.  A batch is one statement, so a failing row leaves none of its
** batch behind (the whole executemany fails either way).
*/
#define BATCH_ROWS 64

static int is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Where the "(?, ?, ...)" tuple of nparams bare placeholders that closes
** an INSERT ... VALUES statement starts, or -1 when sql is not one. */
static long values_tuple(const char *sql, int nparams) {
  long end = (long)strlen(sql), i, open;
  int n = 0;
  while (end > 0 && (is_space(sql[end - 1]) || sql[end - 1] == ';')) end--;
  if (nparams < 1 || end < 1 || sql[end - 1] != ')') return -1;
  for (i = 0; is_space(sql[i]); i++) continue;
  if (strncasecmp(sql + i, "INSERT", 6) != 0) return -1;
  /* back over "?, ?, ?" to the opening parenthesis */
  for (i = end - 2; i >= 0 && sql[i] != '('; i--) {
    if (sql[i] == '?')
      n++;
    else if (sql[i] != ',' && !is_space(sql[i]))
      return -1;
  }
  if (i < 0 || n != nparams) return -1;
  open = i;
  while (i > 0 && is_space(sql[i - 1])) i--;
  if (i < 7 || strncasecmp(sql + i - 6, "VALUES", 6) != 0 ||
      !is_space(sql[i - 7]))
    return -1;
  return open;
}

/* The text of a batch: sql with its closing tuple repeated `rows` times
** (malloc'd), or NULL when out of memory. */
static char *batch_sql(const char *sql, long open, int rows) {
  size_t end = strlen(sql), tlen, plen = (size_t)open, at;
  char *out;
  int r;
  while (end > 0 && (is_space(sql[end - 1]) || sql[end - 1] == ';')) end--;
  tlen = end - plen;
  out = malloc(plen + (size_t)rows * (tlen + 2) + 1);
  if (out == NULL) return NULL;
  memcpy(out, sql, plen);
  at = plen;
  for (r = 0; r < rows; r++) {
    if (r) out[at++] = ',', out[at++] = ' ';
    memcpy(out + at, sql + plen, tlen);
    at += tlen;
  }
  out[at] = '\0';
  return out;
}

/* Run stmt once for each of nrows rows of nparams values (each bound
** `per` rows at a time), adding the rows changed to *total. */
static int run_rows(sqlite_conn *c, sqlite3_stmt *stmt, const rt_value *params,
                    int nparams, int nrows, int per, int64_t *total,
                    rt_error *err) {
  int r, rc;
  for (r = 0; r + per <= nrows; r += per) {
    if (bind(c, stmt, params + (size_t)r * (size_t)nparams, nparams * per,
             SQLITE_STATIC, err) != 0)
      return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) continue;
    if (rc != SQLITE_DONE) {
      fail(c, rc, err);
      return -1;
    }
    *total += sqlite3_changes64(c->db);
    sqlite3_reset(stmt);
  }
  return 0;
}

/* Run stmt once for each parameter row from..nrows-1, adding up the rows
** changed in *total and, when ids is given, noting each row's new rowid. */
static int step_each(sqlite_conn *c, sqlite3_stmt *stmt, const rt_value *params,
                     int nparams, int from, int nrows, int64_t *total,
                     int64_t *ids, rt_error *err) {
  int r, rc;
  for (r = from; r < nrows; r++) {
    if (bind(c, stmt, params + (size_t)r * (size_t)nparams, nparams,
             SQLITE_STATIC, err) != 0)
      return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) continue;
    if (rc != SQLITE_DONE) return fail(c, rc, err);
    *total += sqlite3_changes64(c->db);
    if (ids) ids[r] = sqlite3_last_insert_rowid(c->db);
    sqlite3_reset(stmt);
  }
  return 0;
}

static int sq_executemany(rt_dbconn *base, const char *sql,
                          const rt_value *params, int nparams, int nrows,
                          int64_t *rowcount, rt_error *err) {
  sqlite_conn *c = (sqlite_conn *)base;
  rt_stmtslot *slot;
  sqlite3_stmt *stmt;
  int64_t total = 0;
  int r = 0, rc, per = BATCH_ROWS;
  long open = nrows >= 2 ? values_tuple(sql, nparams) : -1;
  int limit = sqlite3_limit(c->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
  if (open >= 0 && per * nparams > limit) per = limit / nparams;
  if (per > nrows) per = nrows;
  if (open >= 0 && per >= 2) {
    char *text = batch_sql(sql, open, per);
    if (text == NULL) return rt_error_set(err, RT_EMEMORY, "out of memory");
    stmt = prepare(c, text, &slot, err);
    free(text);
    if (stmt == NULL) return -1;
    if (begin_for(c, sql, err) != 0) {
      release(stmt, slot);
      return -1;
    }
    rc = run_rows(c, stmt, params, nparams, nrows, per, &total, err);
    release(stmt, slot);
    if (rc != 0) return -1;
    r = nrows - nrows % per; /* the rest go one by one */
    if (r == nrows) {
      if (rowcount) *rowcount = total;
      return 0;
    }
  }
  stmt = prepare(c, sql, &slot, err);
  if (stmt == NULL) return -1;
  if (begin_for(c, sql, err) != 0) {
    release(stmt, slot);
    return -1;
  }
  rc = step_each(c, stmt, params, nparams, r, nrows, &total, NULL, err);
  release(stmt, slot);
  if (rc != 0) return -1;
  if (rowcount) *rowcount = total;
  return 0;
}

static int sq_insertmany(rt_dbconn *base, const char *sql,
                         const rt_value *params, int nparams, int nrows,
                         int64_t *ids, rt_error *err) {
  sqlite_conn *c = (sqlite_conn *)base;
  rt_stmtslot *slot;
  sqlite3_stmt *stmt = prepare(c, sql, &slot, err);
  int64_t total = 0;
  int rc;
  if (stmt == NULL) return -1;
  if (begin_for(c, sql, err) != 0) {
    release(stmt, slot);
    return -1;
  }
  rc = step_each(c, stmt, params, nparams, 0, nrows, &total, ids, err);
  release(stmt, slot);
  return rc;
}

static int sq_fetch(rt_cursor *base, rt_error *err) {
  sqlite_cursor *cur = (sqlite_cursor *)base;
  int rc;
  if (cur->pending) {
    cur->pending = 0;
    return 1;
  }
  if (cur->done || cur->stmt == NULL) return 0;
  rc = sqlite3_step(cur->stmt);
  if (rc == SQLITE_ROW) return 1;
  cur->done = 1;
  if (rc == SQLITE_DONE) return 0;
  return fail((sqlite_conn *)base->conn, rc, err);
}

/*
** One sqlite3_column_* call per column: each takes the connection's mutex,
** and the value it returns answers type, bytes and length without it.  The
** value is "unprotected", which is safe because a driver connection is used
** by one thread at a time (see sq_connect).
*/
static void sq_column(rt_cursor *base, int i, rt_value *v) {
  sqlite3_value *cv = sqlite3_column_value(((sqlite_cursor *)base)->stmt, i);
  switch (sqlite3_value_type(cv)) {
  case SQLITE_INTEGER:
    *v = rt_vint(sqlite3_value_int64(cv));
    break;
  case SQLITE_FLOAT:
    *v = rt_vfloat(sqlite3_value_double(cv));
    break;
  case SQLITE_TEXT: {
    const char *p = (const char *)sqlite3_value_text(cv);
    *v = rt_vtext(p, (size_t)sqlite3_value_bytes(cv));
    break;
  }
  case SQLITE_BLOB: {
    const char *p = sqlite3_value_blob(cv);
    *v = rt_vblob(p ? p : "", (size_t)sqlite3_value_bytes(cv));
    break;
  }
  default:
    *v = rt_vnull();
  }
}

static const char *sq_colname(rt_cursor *base, int i) {
  const char *n = sqlite3_column_name(((sqlite_cursor *)base)->stmt, i);
  return n ? n : "";
}

static int has(const char *decl, const char *word) {
  return strstr(decl, word) != NULL;
}

/*
** SQLite's column affinity rules, applied to the declared type, give the
** family; expressions have no declared type.
*/
static rt_sqltype classify(const char *d) {
  char up[64];
  size_t k;
  for (k = 0; d[k] && k < sizeof up - 1; k++)
    up[k] = (char)((d[k] >= 'a' && d[k] <= 'z') ? d[k] - 32 : d[k]);
  up[k] = '\0';
  if (has(up, "BOOL")) return RT_T_BOOLEAN;
  if (has(up, "DATETIME") || has(up, "TIMESTAMP")) return RT_T_DATETIME;
  if (has(up, "DATE")) return RT_T_DATE;
  if (has(up, "TIME")) return RT_T_TIME;
  if (has(up, "JSON")) return RT_T_JSON;
  if (has(up, "INT")) return RT_T_INTEGER;
  if (has(up, "CHAR") || has(up, "CLOB") || has(up, "TEXT")) return RT_T_TEXT;
  if (has(up, "BLOB")) return RT_T_BLOB;
  if (has(up, "REAL") || has(up, "FLOA") || has(up, "DOUB")) return RT_T_FLOAT;
  if (has(up, "NUMERIC") || has(up, "DECIMAL")) return RT_T_NUMERIC;
  return RT_T_UNKNOWN;
}

/*
** Every result asks for its columns' families, and a schema has few
** distinct declared types: the connection remembers the last ones by their
** text, so a repeated query hashes and compares instead of classifying.
*/
static rt_sqltype sq_coltype(rt_cursor *base, int i) {
  const char *d = sqlite3_column_decltype(((sqlite_cursor *)base)->stmt, i);
  sqlite_conn *c = (sqlite_conn *)base->conn;
  decl_memo *m;
  unsigned h = 5381;
  size_t n;
  if (d == NULL) return RT_T_UNKNOWN;
  for (n = 0; d[n]; n++) h = h * 33 + (unsigned char)d[n];
  if (n >= sizeof m->decl) return classify(d);
  m = &c->decls[h % DECL_MEMO_SIZE];
  if (m->decl[0] == '\0' || strcmp(m->decl, d) != 0) {
    memcpy(m->decl, d, n + 1);
    m->type = classify(d);
  }
  return m->type;
}

static void sq_cursor_close(rt_cursor *base) {
  sqlite_cursor *cur = (sqlite_cursor *)base;
  sqlite_conn *c;
  if (cur == NULL) return;
  if (cur->stmt) release(cur->stmt, cur->slot);
  c = (sqlite_conn *)cur->base.conn;
  if (c->spare == NULL)
    c->spare = cur;
  else
    free(cur);
}

/*
** Connections to sqlite:// share one handle (one in-memory database), so
** a second connection may find a transaction already open: it joins it, as
** pysqlite's implicit transactions do.
*/
/*
** Transaction control goes straight to SQLite, without a cursor of ours:
** a ROLLBACK must not fail for want of memory, or a transaction could
** stay open on a handle that goes back to the pool.  The three statements
** are prepared once per connection (a session begins and ends a
** transaction for every unit of work, and parsing BEGIN each time costs
** as much as the work of a lookup by primary key); one that could not be
** prepared goes through sqlite3_exec, as all did before.
*/
static const char *const tx_sql[3] = {"BEGIN", "COMMIT", "ROLLBACK"};

static void prepare_tx(sqlite_conn *c) {
  int i;
  for (i = 0; i < 3; i++)
    if (sqlite3_prepare_v3(c->db, tx_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                           &c->tx[i], NULL) != SQLITE_OK)
      c->tx[i] = NULL;
}

static int tx_exec(rt_dbconn *base, int which, rt_error *err) {
  sqlite_conn *c = (sqlite_conn *)base;
  sqlite3_stmt *stmt = c->tx[which];
  int rc;
  if (stmt == NULL)
    rc = sqlite3_exec(c->db, tx_sql[which], NULL, NULL, NULL);
  else {
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  return rc == SQLITE_OK ? 0 : fail(c, rc, err);
}

/* begin sends nothing (see begin_for); commit and rollback send nothing
** when no transaction is open: none began, or a SAVEPOINT opened one and
** its RELEASE already ended it, as under pysqlite. */
static int sq_begin(rt_dbconn *c, rt_error *err) {
  (void)err;
  ((sqlite_conn *)c)->tx_pending = 1;
  return 0;
}

static int sq_commit(rt_dbconn *c, rt_error *err) {
  ((sqlite_conn *)c)->tx_pending = 0;
  if (sqlite3_get_autocommit(((sqlite_conn *)c)->db)) return 0;
  return tx_exec(c, 1, err);
}

static int sq_rollback(rt_dbconn *c, rt_error *err) {
  ((sqlite_conn *)c)->tx_pending = 0;
  if (sqlite3_get_autocommit(((sqlite_conn *)c)->db)) return 0;
  return tx_exec(c, 2, err);
}

static int sq_ping(rt_dbconn *c, rt_error *err) {
  (void)c;
  (void)err;
  return 0; /* an open SQLite handle is always there */
}

static void sq_cancel(rt_dbconn *c) {
  sqlite3_interrupt(((sqlite_conn *)c)->db);
}

static const char *sq_server_version(rt_dbconn *c) {
  return ((sqlite_conn *)c)->version;
}

const rt_driver rt_sqlite3_driver = {
    "sqlite",          sq_connect, sq_close,    sq_execute, sq_executemany,
    sq_fetch,          sq_column,  sq_colname,  sq_coltype, sq_cursor_close,
    sq_begin,          sq_commit,  sq_rollback, sq_ping,    sq_cancel,
    sq_server_version, NULL, /* no arrays */
    sq_insertmany,     NULL, /* no executemany with rows */
};
