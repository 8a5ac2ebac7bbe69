/*
** mariadb_driver.c -- the driver for MySQL and MariaDB, over MariaDB
** Connector/C.
**
** Statements run as server-side prepared statements (binary protocol), kept
** in a small per-connection cache keyed by their SQL text, as the SQLite
** driver keeps its own.  A cursor borrows a cached statement while it is
** open; a second execute of the same text meanwhile prepares a private one.
** Statements the server cannot prepare (ER_UNSUPPORTED_PS) and that have no
** parameters go through the text protocol instead.
**
** Results are stored on the client (mysql_stmt_store_result) by default, so
** several cursors can be open at once.  With RT_EXEC_STREAM rows are read
** from the wire as they are fetched; until that cursor is closed (or read
** to its end) the connection can do nothing else, and every other call
** fails with "Commands out of sync" rather than silently dropping rows.
** The same holds for a stored result that has more results behind it (a
** CALL of a procedure that returns rows) until it is closed.
**
** executemany uses MariaDB's bulk execution (array binding): all rows in
** one round trip, split only to stay under max_allowed_packet.  A batch
** whose column mixes types, a statement returning rows, or a server
** without bulk support (MySQL) runs row by row instead.
**
** Values: integer columns come back as RT_V_INT; an UNSIGNED BIGINT above
** INT64_MAX comes back as its exact decimal text (RT_V_TEXT), never as a
** rounded float.  DOUBLE is RT_V_FLOAT, and so is FLOAT, read through its
** text so that 0.1 stays 0.1.  Binary strings (charset 63) are RT_V_BLOB,
** BIT columns are RT_V_INT; everything else (DECIMAL, dates and times, JSON,
** text) is RT_V_TEXT for the result layer to convert by declared type.
**
** Cancelling takes a second connection sending KILL QUERY.  That is not
** async-signal-safe: cancel must be called from an ordinary thread (the
** shell calls it from a watcher thread), never from a signal handler.
*/
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/driver.h"
#include "../core/stmtcache.h"
#include "decode.h"

/* a bulk request larger than this is split: the server refuses packets
** beyond max_allowed_packet (16 MiB by default) and drops the connection */
#define BULK_MAX_BYTES (4u << 20)
/* the first buffer for a streamed string column; longer values are read
** again into a bigger one */
#define STREAM_BUF 256

typedef struct my_cursor my_cursor;

typedef struct my_conn {
  rt_dbconn base;
  MYSQL *db;
  rt_stmtcache cache;
  my_cursor *active;   /* a cursor whose rows still occupy the wire */
  my_cursor *deferred; /* closed while another held the wire (see below) */
  atomic_int canceled;
  /* what cancel needs to open its own connection; never changes after
  ** connect, so another thread may read it */
  unsigned long thread_id;
  char *host, *user, *password, *socket;
  unsigned port;
  int bulk_ok;  /* the server takes array binding (MariaDB 10.2+) */
  char *dbname; /* the default database the cached statements were
                ** prepared in (the client library tracks USE) */
  char version[64];
} my_conn;

/* how a result column is bound and handed back */
enum { K_INT, K_DOUBLE, K_FLOAT, K_BITS, K_TEXT, K_BLOB };

typedef struct my_col {
  int kind;
  char *buf; /* string kinds: cap + 1 bytes */
  unsigned long cap;
  unsigned long len;
  int64_t i;
  double f;
  my_bool isnull, error;
  char num[24]; /* an unsigned value beyond INT64_MAX, as text */
} my_col;

struct my_cursor {
  rt_cursor base;
  MYSQL_STMT *stmt;  /* NULL for a text-protocol result */
  rt_stmtslot *slot; /* NULL when the statement is private */
  MYSQL_RES *res;    /* text protocol */
  MYSQL_ROW row;
  unsigned long *lengths;
  MYSQL_FIELD *fields;
  MYSQL_BIND *bind;
  my_col *cols;
  int rebind; /* a buffer grew: bind the results again before fetching */
  int stream; /* rows come from the wire as they are fetched */
  int done;
  uint64_t nrows, fetched; /* a stored result's size, and progress */
  my_cursor *next;         /* in the deferred list */
};

static void settle(my_conn *c);

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_failed;

static void library_init(void) {
  library_failed = mysql_library_init(0, NULL, NULL) != 0;
}

/*
** Map a server or client error number to SQLAlchemy's exception kind as
** mysqlclient (MySQLdb, SQLAlchemy's default MySQL driver) does: a short
** list each for ProgrammingError, DataError, IntegrityError and
** NotSupportedError, and every other server error an OperationalError
** (a NOT NULL violation, 1048, and an unknown column, 1054, among them).
*/
static rt_errkind kind_of(unsigned no) {
  switch (no) {
  case ER_DUP_ENTRY:            /* 1062 */
  case ER_DUP_UNIQUE:           /* 1169 */
  case ER_ROW_IS_REFERENCED_2:  /* 1451 */
  case ER_NO_REFERENCED_ROW_2:  /* 1452 */
  case ER_ROW_IS_REFERENCED:    /* 1217 */
  case ER_NO_REFERENCED_ROW:    /* 1216 */
  case ER_CANNOT_ADD_FOREIGN:   /* 1215 */
  case ER_NO_DEFAULT_FOR_FIELD: /* 1364 */
    return RT_EINTEGRITY;
  case ER_PARSE_ERROR:                        /* 1064 */
  case ER_NO_SUCH_TABLE:                      /* 1146 */
  case ER_SYNTAX_ERROR:                       /* 1149 */
  case ER_DB_CREATE_EXISTS:                   /* 1007 */
  case ER_WRONG_DB_NAME:                      /* 1102 */
  case ER_WRONG_TABLE_NAME:                   /* 1103 */
  case ER_FIELD_SPECIFIED_TWICE:              /* 1110 */
  case ER_INVALID_GROUP_FUNC_USE:             /* 1111 */
  case ER_UNSUPPORTED_EXTENSION:              /* 1112 */
  case ER_TABLE_MUST_HAVE_COLUMNS:            /* 1113 */
  case ER_CANT_DO_THIS_DURING_AN_TRANSACTION: /* 1179 */
  case CR_COMMANDS_OUT_OF_SYNC:               /* 2014 */
    return RT_EPROGRAMMING;
  case ER_WARN_DATA_OUT_OF_RANGE:     /* 1264 */
  case WARN_DATA_TRUNCATED:           /* 1265 */
  case ER_DATA_TOO_LONG:              /* 1406 */
  case ER_WARN_NULL_TO_NOTNULL:       /* 1263 */
  case ER_NO_DEFAULT:                 /* 1230 */
  case ER_PRIMARY_CANT_HAVE_NULL:     /* 1171 */
  case ER_DATETIME_FUNCTION_OVERFLOW: /* 1441 */
    return RT_EDATA;
  case ER_NOT_SUPPORTED_YET:             /* 1235 */
  case ER_WARNING_NOT_COMPLETE_ROLLBACK: /* 1196 */
  case ER_FEATURE_DISABLED:              /* 1289 */
  case ER_UNKNOWN_STORAGE_ENGINE:        /* 1286 */
    return RT_ENOTSUPPORTED;
  case CR_OUT_OF_MEMORY:
    return RT_EMEMORY;
  default:
    /* as mysqlclient: numbers below 1000 are internal errors */
    return no > 0 && no < 1000 ? RT_EINTERNAL : RT_EOPERATIONAL;
  }
}

static int is_lost(unsigned no) {
  return no == CR_SERVER_GONE_ERROR || no == CR_SERVER_LOST ||
         no == CR_SERVER_LOST_EXTENDED || no == ER_CONNECTION_KILLED;
}

/*
** Fill err from an error number and message.  The password never appears
** in a message the server or the client library writes; should one ever
** echo it, it is blanked out (short passwords excepted: they would mangle
** ordinary words).
*/
static int fail_with(my_conn *c, unsigned no, const char *msg, rt_error *err) {
  rt_errkind kind = kind_of(no);
  char code[16];
  if (no == ER_QUERY_INTERRUPTED && atomic_load(&c->canceled))
    kind = RT_ECANCELED;
  if (is_lost(no)) c->base.lost = 1;
  rt_error_set(err, kind, "%s", msg && *msg ? msg : "unknown error");
  if (c->password && strlen(c->password) >= 6 && err->message) {
    char *p;
    size_t n = strlen(c->password);
    while ((p = strstr(err->message, c->password)) != NULL) {
      memset(p, '*', n > 3 ? 3 : n);
      memmove(p + (n > 3 ? 3 : n), p + n, strlen(p + n) + 1);
    }
  }
  snprintf(code, sizeof code, "%u", no);
  rt_error_setcode(err, code);
  return -1;
}

static int fail_db(my_conn *c, rt_error *err) {
  return fail_with(c, mysql_errno(c->db), mysql_error(c->db), err);
}

static int fail_stmt(my_conn *c, MYSQL_STMT *s, rt_error *err) {
  return fail_with(c, mysql_stmt_errno(s), mysql_stmt_error(s), err);
}

static int out_of_sync(my_conn *c, rt_error *err) {
  return fail_with(c, CR_COMMANDS_OUT_OF_SYNC,
                   "Commands out of sync; you can't run this command now "
                   "(close the result still being read first)",
                   err);
}

/* --- connecting --- */

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

static void free_params(my_conn *c) {
  free(c->host);
  free(c->user);
  free(c->password);
  free(c->socket);
}

static void set_timeout(MYSQL *db, enum mysql_option opt, const char *v) {
  unsigned t = (unsigned)atoi(v);
  if (t > 0) mysql_options(db, opt, &t);
}

/*
** Open a MYSQL handle with the settings every connection of ours has:
** utf8mb4, no LOCAL INFILE, no automatic reconnect, affected rows counted
** as found rows (as SQLAlchemy's MySQL dialects ask, so an UPDATE that
** changes nothing still reports its matches).
*/
static MYSQL *open_handle(const char *host, const char *user,
                          const char *password, const char *db, unsigned port,
                          const char *socket, const char *charset, int nargs,
                          const rt_url_arg *args, MYSQL **failed) {
  MYSQL *m = mysql_init(NULL);
  unsigned zero = 0;
  my_bool no = 0;
  int i;
  *failed = NULL;
  if (m == NULL) return NULL;
  mysql_options(m, MYSQL_SET_CHARSET_NAME, charset ? charset : "utf8mb4");
  mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &zero);
  mysql_options(m, MYSQL_OPT_RECONNECT, &no);
  for (i = 0; i < nargs; i++) {
    if (strcmp(args[i].key, "connect_timeout") == 0)
      set_timeout(m, MYSQL_OPT_CONNECT_TIMEOUT, args[i].value);
    else if (strcmp(args[i].key, "read_timeout") == 0)
      set_timeout(m, MYSQL_OPT_READ_TIMEOUT, args[i].value);
    else if (strcmp(args[i].key, "write_timeout") == 0)
      set_timeout(m, MYSQL_OPT_WRITE_TIMEOUT, args[i].value);
  }
  if (!mysql_real_connect(m, host, user, password, db, port, socket,
                          CLIENT_FOUND_ROWS)) {
    *failed = m;
    return NULL;
  }
  return m;
}

static const char *arg_get(int nargs, const rt_url_arg *args, const char *key) {
  int i;
  for (i = 0; i < nargs; i++)
    if (strcmp(args[i].key, key) == 0) return args[i].value;
  return NULL;
}

/* MARIADB_STMT_BULK_SUPPORTED, through the public API */
static int bulk_supported(MYSQL *db) {
  unsigned long caps = 0, ext = 0;
  if (mariadb_get_infov(db, MARIADB_CONNECTION_SERVER_CAPABILITIES, &caps) ||
      mariadb_get_infov(db, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES,
                        &ext))
    return 0;
  return !(caps & CLIENT_MYSQL) &&
         (ext & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

static void finalize(void *stmt);

static int my_connect(const rt_url *url, int nargs, const rt_url_arg *args,
                      rt_dbconn **out, rt_error *err) {
  my_conn *c;
  MYSQL *bad = NULL;
  const char *charset = arg_get(nargs, args, "charset");
  const char *socket = arg_get(nargs, args, "unix_socket");
  pthread_once(&library_once, library_init);
  if (library_failed)
    return rt_error_set(err, RT_EOPERATIONAL,
                        "could not initialize the MariaDB client library");
  c = calloc(1, sizeof *c);
  if (c == NULL) return rt_error_set(err, RT_EMEMORY, "out of memory");
  c->base.drv = &rt_mariadb_driver;
  rt_stmtcache_init(&c->cache, finalize);
  atomic_init(&c->canceled, 0);
  c->host = strdup(url->host && *url->host ? url->host : "localhost");
  c->user = dup_or_null(url->username);
  c->password = dup_or_null(url->password);
  c->socket = dup_or_null(socket);
  c->port = url->port > 0 ? (unsigned)url->port : 0;
  if (c->host == NULL || (url->username && !c->user) ||
      (url->password && !c->password) || (socket && !c->socket)) {
    free_params(c);
    free(c);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  c->db = open_handle(c->host, c->user, c->password,
                      url->database && *url->database ? url->database : NULL,
                      c->port, c->socket, charset, nargs, args, &bad);
  if (c->db == NULL) {
    if (bad) {
      fail_with(c, mysql_errno(bad), mysql_error(bad), err);
      err->kind = RT_EOPERATIONAL; /* whatever the number, connecting failed */
      mysql_close(bad);
    } else
      rt_error_set(err, RT_EMEMORY, "out of memory");
    free_params(c);
    free(c);
    return -1;
  }
  /* transactions are begun explicitly by the core */
  if (mysql_autocommit(c->db, 1)) {
    fail_db(c, err);
    mysql_close(c->db);
    free_params(c);
    free(c);
    return -1;
  }
  c->thread_id = mysql_thread_id(c->db);
  c->bulk_ok = bulk_supported(c->db);
  c->dbname = c->db->db ? strdup(c->db->db) : NULL;
  snprintf(c->version, sizeof c->version, "%s", mysql_get_server_info(c->db));
  *out = &c->base;
  return 0;
}

static void my_close(rt_dbconn *base) {
  my_conn *c = (my_conn *)base;
  c->active = NULL;
  settle(c);
  rt_stmtcache_free(&c->cache);
  mysql_close(c->db);
  free_params(c);
  free(c->dbname);
  free(c);
}

/* --- the statement cache --- */

/*
** Find `sql` in the cache or prepare it into the least recently used free
** slot.  Returns the statement; *slot is NULL when it is private.  When the
** server cannot prepare it, *unsupported is set and err filled.
*/
/*
** A prepared statement keeps reading the database that was the default
** when it was prepared: after a USE (which the client library follows in
** mysql->db) the cached ones would read the old one's tables, and
** DATABASE() would name it.  They are prepared again.
*/
static void follow_database(my_conn *c) {
  const char *now = c->db->db;
  if (now == NULL ? c->dbname == NULL
                  : c->dbname != NULL && strcmp(now, c->dbname) == 0)
    return;
  rt_stmtcache_forget(&c->cache);
  free(c->dbname);
  c->dbname = now ? strdup(now) : NULL; /* out of memory: forgot again */
}

static MYSQL_STMT *prepare(my_conn *c, const char *sql, rt_stmtslot **slot,
                           int *unsupported, rt_error *err) {
  MYSQL_STMT *stmt;
  follow_database(c);
  stmt = rt_stmtcache_take(&c->cache, sql, slot);
  *unsupported = 0;
  if (stmt) return stmt;
  stmt = mysql_stmt_init(c->db);
  if (stmt == NULL) {
    fail_db(c, err);
    return NULL;
  }
  if (mysql_stmt_prepare(stmt, sql, (unsigned long)strlen(sql)) != 0) {
    *unsupported = mysql_stmt_errno(stmt) == ER_UNSUPPORTED_PS;
    fail_stmt(c, stmt, err);
    mysql_stmt_close(stmt);
    return NULL;
  }
  rt_stmtcache_put(&c->cache, sql, stmt, slot);
  return stmt;
}

static void finalize(void *stmt) {
  mysql_stmt_close(stmt);
}

static void release(MYSQL_STMT *stmt, rt_stmtslot *slot) {
  if (slot) {
    unsigned zero = 0;
    mysql_stmt_free_result(stmt);
    mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &zero);
    rt_stmtcache_release(slot);
  } else
    mysql_stmt_close(stmt);
}

/* --- parameters --- */

static int check_count(MYSQL_STMT *stmt, int nparams, rt_error *err) {
  unsigned long want = mysql_stmt_param_count(stmt);
  if (want != (unsigned long)nparams)
    return rt_error_set(err, RT_EPROGRAMMING,
                        "Incorrect number of parameters: the statement uses "
                        "%lu, and there are %d supplied.",
                        want, nparams);
  return 0;
}

/*
** Bind one row of parameters.  `b` has nparams entries, `tiny` holds the
** bytes booleans are sent from.
*/
static void fill_bind(MYSQL_BIND *b, signed char *tiny, const rt_value *params,
                      int nparams) {
  int i;
  memset(b, 0, sizeof *b * (size_t)nparams);
  for (i = 0; i < nparams; i++) {
    const rt_value *v = &params[i];
    switch (v->type) {
    case RT_V_NULL:
      b[i].buffer_type = MYSQL_TYPE_NULL;
      break;
    case RT_V_INT:
      b[i].buffer_type = MYSQL_TYPE_LONGLONG;
      b[i].buffer = (void *)&v->u.i;
      break;
    case RT_V_FLOAT:
      b[i].buffer_type = MYSQL_TYPE_DOUBLE;
      b[i].buffer = (void *)&v->u.f;
      break;
    case RT_V_BOOL:
      tiny[i] = (signed char)(v->u.b != 0);
      b[i].buffer_type = MYSQL_TYPE_TINY;
      b[i].buffer = &tiny[i];
      break;
    case RT_V_TEXT:
    case RT_V_BLOB:
      b[i].buffer_type =
          v->type == RT_V_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
      /* a NULL buffer would be sent as SQL NULL */
      b[i].buffer = (void *)(v->u.s.p ? v->u.s.p : "");
      b[i].buffer_length = (unsigned long)v->u.s.n;
      break;
    }
  }
}

/* Bind `params` and execute; 0 or -1 with err filled. */
static int run(my_conn *c, MYSQL_STMT *stmt, const rt_value *params,
               int nparams, rt_error *err) {
  MYSQL_BIND small[8], *b = small;
  signed char stiny[8], *tiny = stiny;
  int rc = 0;
  if (nparams > 8) {
    b = malloc(sizeof *b * (size_t)nparams);
    tiny = malloc((size_t)nparams);
    if (b == NULL || tiny == NULL) {
      free(b);
      free(tiny);
      return rt_error_set(err, RT_EMEMORY, "out of memory");
    }
  }
  if (nparams > 0) {
    fill_bind(b, tiny, params, nparams);
    if (mysql_stmt_bind_param(stmt, b)) rc = fail_stmt(c, stmt, err);
  }
  if (rc == 0 && mysql_stmt_execute(stmt)) rc = fail_stmt(c, stmt, err);
  if (b != small) {
    free(b);
    free(tiny);
  }
  return rc;
}

/* --- result columns --- */

static int is_binary_string(const MYSQL_FIELD *f) {
  switch (f->type) {
  case MYSQL_TYPE_TINY_BLOB:
  case MYSQL_TYPE_MEDIUM_BLOB:
  case MYSQL_TYPE_LONG_BLOB:
  case MYSQL_TYPE_BLOB:
  case MYSQL_TYPE_STRING:
  case MYSQL_TYPE_VAR_STRING:
  case MYSQL_TYPE_VARCHAR:
  case MYSQL_TYPE_GEOMETRY:
    return f->charsetnr == 63;
  default:
    return 0;
  }
}

static int kind_of_field(const MYSQL_FIELD *f) {
  switch (f->type) {
  case MYSQL_TYPE_TINY:
  case MYSQL_TYPE_SHORT:
  case MYSQL_TYPE_LONG:
  case MYSQL_TYPE_LONGLONG:
  case MYSQL_TYPE_INT24:
  case MYSQL_TYPE_YEAR:
    return K_INT;
  case MYSQL_TYPE_DOUBLE:
    return K_DOUBLE;
  case MYSQL_TYPE_FLOAT:
    return K_FLOAT;
  case MYSQL_TYPE_BIT:
    return K_BITS;
  default:
    return is_binary_string(f) ? K_BLOB : K_TEXT;
  }
}

static int grow(my_col *col, unsigned long need) {
  char *p;
  if (need <= col->cap && col->buf) return 0;
  p = realloc(col->buf, (size_t)need + 1);
  if (p == NULL) return -1;
  col->buf = p;
  col->cap = need;
  return 0;
}

/*
** Set up the result binding.  Stored results know each column's longest
** value (max_length); streamed ones start small and grow on truncation.
*/
static int bind_results(my_cursor *cur, int stored, rt_error *err) {
  int i, n = cur->base.ncols;
  cur->bind = calloc((size_t)n, sizeof *cur->bind);
  cur->cols = calloc((size_t)n, sizeof *cur->cols);
  if (cur->bind == NULL || cur->cols == NULL)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  for (i = 0; i < n; i++) {
    const MYSQL_FIELD *f = &cur->fields[i];
    MYSQL_BIND *b = &cur->bind[i];
    my_col *col = &cur->cols[i];
    col->kind = kind_of_field(f);
    b->length = &col->len;
    b->is_null = &col->isnull;
    b->error = &col->error;
    if (col->kind == K_INT) {
      b->buffer_type = MYSQL_TYPE_LONGLONG;
      b->buffer = &col->i;
      b->is_unsigned = (f->flags & UNSIGNED_FLAG) != 0;
    } else if (col->kind == K_DOUBLE) {
      b->buffer_type = MYSQL_TYPE_DOUBLE;
      b->buffer = &col->f;
    } else {
      unsigned long cap = stored ? f->max_length : f->length;
      if (!stored && cap > STREAM_BUF) cap = STREAM_BUF;
      if (cap < 16) cap = 16;
      if (grow(col, cap) != 0)
        return rt_error_set(err, RT_EMEMORY, "out of memory");
      b->buffer_type =
          col->kind == K_BLOB ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
      b->buffer = col->buf;
      b->buffer_length = col->cap;
    }
  }
  if (mysql_stmt_bind_result(cur->stmt, cur->bind))
    return fail_stmt((my_conn *)cur->base.conn, cur->stmt, err);
  return 0;
}

/* Read again, into bigger buffers, the string columns that did not fit. */
static int refetch_truncated(my_cursor *cur, rt_error *err) {
  int i;
  for (i = 0; i < cur->base.ncols; i++) {
    my_col *col = &cur->cols[i];
    MYSQL_BIND *b = &cur->bind[i];
    if (col->kind == K_INT || col->kind == K_DOUBLE || col->isnull ||
        col->len <= col->cap)
      continue;
    if (grow(col, col->len) != 0)
      return rt_error_set(err, RT_EMEMORY, "out of memory");
    b->buffer = col->buf;
    b->buffer_length = col->cap;
    if (mysql_stmt_fetch_column(cur->stmt, b, (unsigned)i, 0))
      return fail_stmt((my_conn *)cur->base.conn, cur->stmt, err);
    cur->rebind = 1;
  }
  return 0;
}

/* --- executing --- */

/*
** Read and drop the results a statement left after its first (a CALL
** leaves a status result, and maybe more sets, behind).  Returns the
** warning count of the last one read: a CALL's status result counts the
** warnings of the procedure's last statement, as the mariadb client
** reports them; 0 when there was none.
*/
static unsigned drain_stmt_results(MYSQL_STMT *stmt) {
  unsigned warnings = 0;
  while (mysql_stmt_more_results(stmt)) {
    if (mysql_stmt_next_result(stmt) != 0) break;
    warnings = (unsigned)mysql_stmt_warning_count(stmt);
    mysql_stmt_free_result(stmt);
  }
  return warnings;
}

static unsigned drain_db_results(MYSQL *db) {
  unsigned warnings = 0;
  while (mysql_more_results(db)) {
    MYSQL_RES *r;
    if (mysql_next_result(db) != 0) break;
    warnings = mysql_warning_count(db);
    r = mysql_use_result(db);
    if (r) mysql_free_result(r);
  }
  return warnings;
}

/*
** The warnings of the statement just run, handed to the notice hook as
** psql would print notices ("WARNING:  Note 1051: Unknown table 'x'"):
** what the mariadb client counts ("1 warning") and lists with SHOW
** WARNINGS.  They are read only when somebody takes notices and the
** server counted some, so a statement without warnings costs nothing
** more.  The wire must be free (no result being read).  SHOW WARNINGS
** leaves the warnings in place; its own failure is no one's concern,
** unless it found the connection lost.
*/
static void report_warnings(my_conn *c, unsigned count) {
  MYSQL_RES *r;
  MYSQL_ROW row;
  if (count == 0 || c->active || c->base.lost ||
      !rt_driver_wants_notice(&c->base))
    return;
  if (mysql_real_query(c->db, "SHOW WARNINGS", 13) != 0 ||
      (r = mysql_store_result(c->db)) == NULL) {
    if (is_lost(mysql_errno(c->db))) c->base.lost = 1;
    return;
  }
  while ((row = mysql_fetch_row(r)) != NULL) {
    const char *level = row[0] ? row[0] : "", *code = row[1] ? row[1] : "",
               *text = mysql_num_fields(r) > 2 && row[2] ? row[2] : "";
    int n = snprintf(NULL, 0, "WARNING:  %s %s: %s\n", level, code, text);
    char *msg = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (msg == NULL) break;
    snprintf(msg, (size_t)n + 1, "WARNING:  %s %s: %s\n", level, code, text);
    rt_driver_notice(&c->base, msg);
    free(msg);
  }
  mysql_free_result(r);
}

/*
** The warnings of a streamed prepared statement whose rows just ended.
** Connector/C reads the EOF packet that ends them without keeping its
** count (mysql_stmt_warning_count stays what the execute reported), so
** the count is taken from that packet where the library left it: 0xFE,
** then the warnings, two bytes little-endian.  Any other packet there
** counts none.
*/
static unsigned stream_warnings(my_conn *c, MYSQL_STMT *stmt) {
  const unsigned char *p = c->db->net.read_pos;
  unsigned n = (unsigned)mysql_stmt_warning_count(stmt), eof;
  if (p == NULL || p[0] != 254) return n;
  eof = (unsigned)p[1] | (unsigned)p[2] << 8;
  return eof > n ? eof : n;
}

/* The text protocol, for statements the server will not prepare. */
static int execute_text(my_conn *c, const char *sql, int flags, rt_cursor **out,
                        rt_error *err) {
  my_cursor *cur;
  if (mysql_real_query(c->db, sql, (unsigned long)strlen(sql)))
    return fail_db(c, err);
  cur = calloc(1, sizeof *cur);
  if (cur == NULL) {
    MYSQL_RES *r = mysql_use_result(c->db);
    if (r) mysql_free_result(r);
    drain_db_results(c->db);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  cur->base.conn = &c->base;
  cur->base.ncols = (int)mysql_field_count(c->db);
  cur->base.rowcount = -1;
  cur->base.lastrowid = (int64_t)mysql_insert_id(c->db);
  if (cur->base.ncols == 0) {
    unsigned warnings = mysql_warning_count(c->db);
    cur->base.rowcount = (int64_t)mysql_affected_rows(c->db);
    drain_db_results(c->db);
    report_warnings(c, warnings);
    *out = &cur->base;
    return 0;
  }
  cur->stream = (flags & RT_EXEC_STREAM) != 0;
  cur->res = cur->stream ? mysql_use_result(c->db) : mysql_store_result(c->db);
  if (cur->res == NULL) {
    fail_db(c, err);
    free(cur);
    return -1;
  }
  cur->fields = mysql_fetch_fields(cur->res);
  if (!cur->stream) cur->base.rowcount = (int64_t)mysql_num_rows(cur->res);
  if (cur->stream || mysql_more_results(c->db)) c->active = cur;
  if (!cur->stream) report_warnings(c, mysql_warning_count(c->db));
  *out = &cur->base;
  return 0;
}

static int my_execute(rt_dbconn *base, const char *sql, const rt_value *params,
                      int nparams, int flags, rt_cursor **out, rt_error *err) {
  my_conn *c = (my_conn *)base;
  my_cursor *cur;
  rt_stmtslot *slot;
  MYSQL_STMT *stmt;
  int unsupported, stream = (flags & RT_EXEC_STREAM) != 0;
  settle(c);
  if (c->active) return out_of_sync(c, err);
  atomic_store(&c->canceled, 0);
  stmt = prepare(c, sql, &slot, &unsupported, err);
  if (stmt == NULL) {
    if (unsupported && nparams == 0) {
      rt_error_clear(err);
      return execute_text(c, sql, flags, out, err);
    }
    return -1;
  }
  if (check_count(stmt, nparams, err) != 0 ||
      run(c, stmt, params, nparams, err) != 0) {
    release(stmt, slot);
    return -1;
  }
  cur = calloc(1, sizeof *cur);
  if (cur == NULL) {
    release(stmt, slot);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  cur->base.conn = base;
  cur->stmt = stmt;
  cur->slot = slot;
  cur->stream = stream;
  cur->base.ncols = (int)mysql_stmt_field_count(stmt);
  cur->base.lastrowid = (int64_t)mysql_stmt_insert_id(stmt);
  *out = &cur->base;
  if (cur->base.ncols == 0) {
    unsigned warnings = mysql_stmt_warning_count(stmt);
    cur->base.rowcount = (int64_t)mysql_stmt_affected_rows(stmt);
    drain_stmt_results(stmt);
    report_warnings(c, warnings);
    return 0;
  }
  cur->base.rowcount = -1;
  if (!stream) {
    my_bool on = 1;
    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
    if (mysql_stmt_store_result(stmt)) {
      fail_stmt(c, stmt, err);
      goto failed;
    }
    cur->nrows = (uint64_t)mysql_stmt_num_rows(stmt);
    /* a stored result knows its rows, as mysqlclient's cursor reports */
    cur->base.rowcount = (int64_t)cur->nrows;
  }
  cur->fields = mariadb_stmt_fetch_fields(stmt);
  if (cur->fields == NULL) {
    fail_stmt(c, stmt, err);
    goto failed;
  }
  if (bind_results(cur, !stream, err) != 0) goto failed;
  if (stream || mysql_stmt_more_results(stmt)) c->active = cur;
  if (!stream) report_warnings(c, mysql_stmt_warning_count(stmt));
  return 0;
failed:
  *out = NULL;
  base->drv->cursor_close(&cur->base);
  return -1;
}

/* --- executemany --- */

/* One parameter column of a bulk batch. */
typedef struct bulk_col {
  enum enum_field_types type;
  void *values;           /* int64_t[], double[], signed char[] or char *[] */
  unsigned long *lengths; /* strings */
  char *ind;              /* indicators */
} bulk_col;

/*
** The type a parameter column is sent as, or -1 when its rows disagree
** (an integer in one row, text in another): those go row by row.
*/
static int column_type(const rt_value *params, int nparams, int nrows, int j) {
  int r, t = MYSQL_TYPE_NULL;
  for (r = 0; r < nrows; r++) {
    int u;
    switch (params[(size_t)r * (size_t)nparams + (size_t)j].type) {
    case RT_V_NULL:
      continue;
    case RT_V_INT:
    case RT_V_BOOL:
      u = MYSQL_TYPE_LONGLONG;
      break;
    case RT_V_FLOAT:
      u = MYSQL_TYPE_DOUBLE;
      break;
    case RT_V_TEXT:
      u = MYSQL_TYPE_STRING;
      break;
    default:
      u = MYSQL_TYPE_BLOB;
      break;
    }
    if (t == MYSQL_TYPE_NULL)
      t = u;
    else if (t != u)
      return -1;
  }
  return t;
}

/* Rows [first, first + n) as one bulk request; adds to *total. */
static int bulk_chunk(my_conn *c, MYSQL_STMT *stmt, bulk_col *cols,
                      const rt_value *params, int nparams, int first, int n,
                      int64_t *total, rt_error *err) {
  MYSQL_BIND *b = calloc((size_t)nparams, sizeof *b);
  unsigned size = (unsigned)n;
  int j, r, rc = 0;
  if (b == NULL) return rt_error_set(err, RT_EMEMORY, "out of memory");
  for (j = 0; j < nparams; j++) {
    bulk_col *bc = &cols[j];
    b[j].buffer_type = bc->type;
    for (r = 0; r < n; r++) {
      const rt_value *v = &params[(size_t)(first + r) * (size_t)nparams + j];
      bc->ind[r] =
          v->type == RT_V_NULL ? STMT_INDICATOR_NULL : STMT_INDICATOR_NONE;
      switch (bc->type) {
      case MYSQL_TYPE_LONGLONG:
        ((int64_t *)bc->values)[r] = v->type == RT_V_BOOL  ? v->u.b
                                     : v->type == RT_V_INT ? v->u.i
                                                           : 0;
        break;
      case MYSQL_TYPE_DOUBLE:
        ((double *)bc->values)[r] = v->type == RT_V_FLOAT ? v->u.f : 0;
        break;
      case MYSQL_TYPE_STRING:
      case MYSQL_TYPE_BLOB:
        ((const char **)bc->values)[r] =
            v->type != RT_V_NULL && v->u.s.p ? v->u.s.p : "";
        bc->lengths[r] = v->type != RT_V_NULL ? (unsigned long)v->u.s.n : 0;
        break;
      default:
        break;
      }
    }
    b[j].buffer = bc->values;
    b[j].length = bc->lengths;
    b[j].u.indicator = bc->ind;
  }
  if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &size) ||
      mysql_stmt_bind_param(stmt, b) || mysql_stmt_execute(stmt))
    rc = fail_stmt(c, stmt, err);
  else {
    *total += (int64_t)mysql_stmt_affected_rows(stmt);
    /* the batch's first generated id, as a multi-row INSERT reports */
    c->base.many_lastrowid = (int64_t)mysql_stmt_insert_id(stmt);
    report_warnings(c, mysql_stmt_warning_count(stmt));
  }
  size = 0;
  mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &size);
  free(b);
  return rc;
}

static size_t row_bytes(const rt_value *row, int nparams) {
  size_t n = 0;
  int j;
  for (j = 0; j < nparams; j++)
    n += 1 + (row[j].type == RT_V_TEXT || row[j].type == RT_V_BLOB
                  ? 9 + row[j].u.s.n
                  : 8);
  return n;
}

/*
** MariaDB's bulk execution: every row in one round trip (or a few, for
** very large batches).  Returns 1 when the batch can't go that way, so the
** caller executes row by row.
*/
static int bulk(my_conn *c, MYSQL_STMT *stmt, const rt_value *params,
                int nparams, int nrows, int64_t *total, rt_error *err) {
  bulk_col *cols;
  int j, r, first, rc = 0;
  if (nrows < 2 || nparams == 0 || mysql_stmt_field_count(stmt) > 0 ||
      !c->bulk_ok)
    return 1;
  cols = calloc((size_t)nparams, sizeof *cols);
  if (cols == NULL) return rt_error_set(err, RT_EMEMORY, "out of memory");
  for (j = 0; j < nparams && rc == 0; j++) {
    int t = column_type(params, nparams, nrows, j);
    size_t w =
        t == MYSQL_TYPE_STRING || t == MYSQL_TYPE_BLOB ? sizeof(char *) : 8;
    if (t < 0) {
      rc = 1;
      break;
    }
    cols[j].type = (enum enum_field_types)t;
    cols[j].values = malloc(w * (size_t)nrows);
    cols[j].ind = malloc((size_t)nrows);
    if (t == MYSQL_TYPE_STRING || t == MYSQL_TYPE_BLOB)
      cols[j].lengths = malloc(sizeof(unsigned long) * (size_t)nrows);
    if (!cols[j].values || !cols[j].ind ||
        ((t == MYSQL_TYPE_STRING || t == MYSQL_TYPE_BLOB) && !cols[j].lengths))
      rc = rt_error_set(err, RT_EMEMORY, "out of memory");
  }
  for (first = 0; rc == 0 && first < nrows; first = r) {
    size_t bytes = 0;
    for (r = first; r < nrows; r++) {
      size_t rb = row_bytes(params + (size_t)r * (size_t)nparams, nparams);
      if (r > first && bytes + rb > BULK_MAX_BYTES) break;
      bytes += rb;
    }
    rc = bulk_chunk(c, stmt, cols, params, nparams, first, r - first, total,
                    err);
    if (rc != 0 && first == 0 &&
        (strcmp(err->code, "1295") == 0 || strcmp(err->code, "5003") == 0 ||
         strcmp(err->code, "5006") == 0)) {
      rt_error_clear(err);
      rc = 1; /* the server refuses this statement in bulk */
    }
  }
  for (j = 0; j < nparams; j++) {
    free(cols[j].values);
    free(cols[j].lengths);
    free(cols[j].ind);
  }
  free(cols);
  return rc;
}

/*
** --- executemany of INSERT ... VALUES (?, ...) ---
**
** MySQLdb runs such an executemany as one INSERT with a VALUES group per
** row, and the server then numbers AUTO_INCREMENT keys consecutively
** (a bulk execution reserves them in blocks, leaving gaps: ids 1, 2 and
** then 4).  So this form goes that way here too, in statements of at most
** MAX_PARAMS parameters and about BULK_MAX_BYTES of values.
*/
#define MAX_PARAMS 65535

static int is_ident(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || ch == '_' || ch == '$';
}

/* The single VALUES group "(?, ...)" of an INSERT or REPLACE in sql: 1
** with its offset and length, or 0 when sql is not of that form (the
** group is followed by nothing but ON DUPLICATE KEY UPDATE). */
static int values_group(const char *sql, size_t *at, size_t *len) {
  size_t i = 0, j;
  char quote = 0;
  int marks = 0;
  while (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t') i++;
  if (strncasecmp(sql + i, "INSERT", 6) != 0 &&
      strncasecmp(sql + i, "REPLACE", 7) != 0)
    return 0;
  for (; sql[i]; i++) {
    if (quote) {
      if (sql[i] == '\\' && quote != '`' && sql[i + 1])
        i++;
      else if (sql[i] == quote)
        quote = 0;
    } else if (sql[i] == '\'' || sql[i] == '"' || sql[i] == '`')
      quote = sql[i];
    else if ((i == 0 || !is_ident(sql[i - 1])) &&
             strncasecmp(sql + i, "VALUES", 6) == 0 && !is_ident(sql[i + 6]))
      break;
  }
  if (!sql[i]) return 0;
  for (j = i + 6; sql[j] == ' ' || sql[j] == '\n' || sql[j] == '\t'; j++)
    ;
  if (sql[j] != '(') return 0;
  *at = j;
  for (j++; sql[j] && sql[j] != ')'; j++) {
    if (sql[j] == '?')
      marks++;
    else if (!strchr(" ,\n\t", sql[j]))
      return 0;
  }
  if (sql[j] != ')' || marks == 0) return 0;
  *len = j + 1 - *at;
  for (j++; sql[j] == ' ' || sql[j] == '\n' || sql[j] == '\t'; j++)
    ;
  return sql[j] == '\0' || strncasecmp(sql + j, "ON DUPLICATE", 12) == 0;
}

/* sql with its VALUES group (at, len) repeated k times; NULL when out of
** memory. */
static char *values_sql(const char *sql, size_t at, size_t len, int k) {
  size_t n = strlen(sql), size = n + (size_t)(k - 1) * (len + 2) + 1, o;
  char *out = malloc(size);
  int r;
  if (!out) return NULL;
  memcpy(out, sql, at + len);
  o = at + len;
  for (r = 1; r < k; r++) {
    memcpy(out + o, ", ", 2);
    memcpy(out + o + 2, sql + at, len);
    o += len + 2;
  }
  memcpy(out + o, sql + at + len, n - at - len + 1);
  return out;
}

/* Rows first.. as one multi-row INSERT: how many it takes. */
static int values_chunk(const rt_value *params, int nparams, int first,
                        int nrows) {
  size_t bytes = 0;
  int r, per = MAX_PARAMS / nparams;
  for (r = first; r < nrows && r - first < per; r++) {
    size_t rb = row_bytes(params + (size_t)r * (size_t)nparams, nparams);
    if (r > first && bytes + rb > BULK_MAX_BYTES) break;
    bytes += rb;
  }
  return r - first;
}

/* 1 when sql is not an INSERT of one VALUES group (the caller goes on),
** else 0 or -1 as executemany. */
static int multirow(my_conn *c, const char *sql, const rt_value *params,
                    int nparams, int nrows, int64_t *total, rt_error *err) {
  size_t at, len;
  int first, k;
  if (nrows < 2 || nparams == 0 || nparams > MAX_PARAMS ||
      !values_group(sql, &at, &len))
    return 1;
  for (first = 0; first < nrows; first += k) {
    rt_stmtslot *slot;
    MYSQL_STMT *stmt;
    int unsupported, rc;
    char *text;
    k = values_chunk(params, nparams, first, nrows);
    if ((text = values_sql(sql, at, len, k)) == NULL)
      return rt_error_set(err, RT_EMEMORY, "out of memory");
    stmt = prepare(c, text, &slot, &unsupported, err);
    free(text);
    if (stmt == NULL) return -1;
    rc = check_count(stmt, k * nparams, err);
    if (rc == 0)
      rc = run(c, stmt, params + (size_t)first * (size_t)nparams, k * nparams,
               err);
    if (rc == 0) {
      *total += (int64_t)mysql_stmt_affected_rows(stmt);
      /* the first id of the statement, as MySQLdb's lastrowid */
      c->base.many_lastrowid = (int64_t)mysql_stmt_insert_id(stmt);
      mysql_stmt_free_result(stmt);
      drain_stmt_results(stmt);
      report_warnings(c, mysql_stmt_warning_count(stmt));
    }
    release(stmt, slot);
    if (rc != 0) return -1;
  }
  return 0;
}

static int my_executemany(rt_dbconn *base, const char *sql,
                          const rt_value *params, int nparams, int nrows,
                          int64_t *rowcount, rt_error *err) {
  my_conn *c = (my_conn *)base;
  rt_stmtslot *slot;
  MYSQL_STMT *stmt;
  int64_t total = 0;
  int r, rc, unsupported;
  settle(c);
  c->base.many_lastrowid = 0;
  if (c->active) return out_of_sync(c, err);
  atomic_store(&c->canceled, 0);
  rc = multirow(c, sql, params, nparams, nrows, &total, err);
  if (rc != 1) {
    if (rc == 0 && rowcount) *rowcount = total;
    return rc;
  }
  stmt = prepare(c, sql, &slot, &unsupported, err);
  if (stmt == NULL) return -1;
  if (check_count(stmt, nparams, err) != 0) {
    release(stmt, slot);
    return -1;
  }
  rc = bulk(c, stmt, params, nparams, nrows, &total, err);
  for (r = 0; rc == 1 && r < nrows; r++) {
    if (run(c, stmt, params + (size_t)r * (size_t)nparams, nparams, err) != 0) {
      release(stmt, slot);
      return -1;
    }
    if (mysql_stmt_field_count(stmt) == 0)
      total += (int64_t)mysql_stmt_affected_rows(stmt);
    c->base.many_lastrowid = (int64_t)mysql_stmt_insert_id(stmt);
    mysql_stmt_free_result(stmt);
    drain_stmt_results(stmt);
    report_warnings(c, mysql_stmt_warning_count(stmt));
  }
  release(stmt, slot);
  if (rc == -1) return -1;
  if (rowcount) *rowcount = total;
  return 0;
}

/* --- cursors --- */

/*
** A streamed read that failed.  When the server is killed under it, the
** client library may report no error at all, neither on the statement nor
** on the connection: that is a lost connection.
*/
static int fetch_failed(my_conn *c, MYSQL_STMT *stmt, rt_error *err) {
  if (stmt && mysql_stmt_errno(stmt)) return fail_stmt(c, stmt, err);
  if (mysql_errno(c->db)) return fail_db(c, err);
  return fail_with(c, CR_SERVER_LOST,
                   "Lost connection to server while reading a result", err);
}

static int my_fetch(rt_cursor *base, rt_error *err) {
  my_cursor *cur = (my_cursor *)base;
  my_conn *c = (my_conn *)base->conn;
  int rc;
  if (cur->done || base->ncols == 0) return 0;
  if (cur->res) {
    cur->row = mysql_fetch_row(cur->res);
    if (cur->row) {
      cur->lengths = mysql_fetch_lengths(cur->res);
      return 1;
    }
    cur->done = 1;
    /* only a streamed read can fail; a stored result's end is just the
    ** end, whatever other statements left in mysql_errno meanwhile */
    if (!cur->stream) return 0;
    if (mysql_errno(c->db)) return fetch_failed(c, NULL, err);
    if (c->active == cur && !mysql_more_results(c->db)) {
      c->active = NULL;
      report_warnings(c, mysql_warning_count(c->db));
    }
    return 0;
  }
  /* the end of a stored result is found by counting: at its end
  ** mysql_stmt_fetch marks the whole connection idle, which would be wrong
  ** while another cursor streams */
  if (!cur->stream && cur->fetched >= cur->nrows) {
    cur->done = 1;
    return 0;
  }
  if (cur->rebind) {
    if (mysql_stmt_bind_result(cur->stmt, cur->bind))
      return fail_stmt(c, cur->stmt, err);
    cur->rebind = 0;
  }
  rc = mysql_stmt_fetch(cur->stmt);
  if (rc == 0 || rc == MYSQL_DATA_TRUNCATED) {
    cur->fetched++;
    return refetch_truncated(cur, err) == 0 ? 1 : -1;
  }
  cur->done = 1;
  if (rc == MYSQL_NO_DATA) {
    if (c->active == cur && !mysql_stmt_more_results(cur->stmt)) {
      c->active = NULL;
      report_warnings(c, stream_warnings(c, cur->stmt));
    }
    return 0;
  }
  return fetch_failed(c, cur->stmt, err);
}

/* An unsigned value, as an integer when it fits and as text when not. */
static void unsigned_value(my_col *col, uint64_t u, rt_value *v) {
  if (u <= (uint64_t)INT64_MAX) {
    *v = rt_vint((int64_t)u);
    return;
  }
  snprintf(col->num, sizeof col->num, "%llu", (unsigned long long)u);
  *v = rt_vtext(col->num, strlen(col->num));
}

static void bits_value(const unsigned char *p, size_t n, rt_value *v) {
  uint64_t u = 0;
  size_t k;
  for (k = 0; k < n; k++) u = (u << 8) | p[k];
  *v = rt_vint((int64_t)u);
}

/* Column i of a text-protocol row. */
static void text_column(my_cursor *cur, int i, rt_value *v) {
  rt_my_decode_text(&cur->fields[i], cur->row[i], cur->lengths[i], v);
}

void rt_my_decode_text(const MYSQL_FIELD *f, const char *s, size_t n,
                       rt_value *v) {
  if (s == NULL) {
    *v = rt_vnull();
    return;
  }
  switch (kind_of_field(f)) {
  case K_INT:
    if (f->flags & UNSIGNED_FLAG) {
      uint64_t u = strtoull(s, NULL, 10);
      if (u > (uint64_t)INT64_MAX) {
        *v = rt_vtext(s, n);
        return;
      }
      *v = rt_vint((int64_t)u);
    } else
      *v = rt_vint(strtoll(s, NULL, 10));
    break;
  case K_DOUBLE:
  case K_FLOAT:
    *v = rt_vfloat(strtod(s, NULL));
    break;
  case K_BITS:
    bits_value((const unsigned char *)s, n, v);
    break;
  case K_BLOB:
    *v = rt_vblob(s, n);
    break;
  default:
    *v = rt_vtext(s, n);
  }
}

static void my_column(rt_cursor *base, int i, rt_value *v) {
  my_cursor *cur = (my_cursor *)base;
  my_col *col;
  if (cur->res) {
    text_column(cur, i, v);
    return;
  }
  col = &cur->cols[i];
  if (col->isnull) {
    *v = rt_vnull();
    return;
  }
  switch (col->kind) {
  case K_INT:
    if (cur->bind[i].is_unsigned)
      unsigned_value(col, (uint64_t)col->i, v);
    else
      *v = rt_vint(col->i);
    break;
  case K_DOUBLE:
    *v = rt_vfloat(col->f);
    break;
  case K_FLOAT:
    col->buf[col->len <= col->cap ? col->len : col->cap] = '\0';
    *v = rt_vfloat(strtod(col->buf, NULL));
    break;
  case K_BITS:
    bits_value((const unsigned char *)col->buf,
               col->len <= col->cap ? col->len : col->cap, v);
    break;
  case K_BLOB:
    *v = rt_vblob(col->buf, col->len <= col->cap ? col->len : col->cap);
    break;
  default:
    *v = rt_vtext(col->buf, col->len <= col->cap ? col->len : col->cap);
  }
}

static const char *my_colname(rt_cursor *base, int i) {
  const char *n = ((my_cursor *)base)->fields[i].name;
  return n ? n : "";
}

/* MariaDB marks a JSON column (a LONGTEXT underneath) in its extended
** metadata. */
static int is_json(const MYSQL_FIELD *f) {
  MARIADB_CONST_STRING attr;
  if (f->type == MYSQL_TYPE_JSON) return 1;
  if (mariadb_field_attr(&attr, f, MARIADB_FIELD_ATTR_FORMAT_NAME) != 0 ||
      attr.str == NULL)
    return 0;
  return attr.length == 4 && strncmp(attr.str, "json", 4) == 0;
}

static rt_sqltype my_coltype(rt_cursor *base, int i) {
  return rt_my_sqltype(&((my_cursor *)base)->fields[i]);
}

rt_sqltype rt_my_sqltype(const MYSQL_FIELD *f) {
  switch (f->type) {
  case MYSQL_TYPE_TINY:
    return f->length == 1 ? RT_T_BOOLEAN : RT_T_INTEGER;
  case MYSQL_TYPE_SHORT:
  case MYSQL_TYPE_LONG:
  case MYSQL_TYPE_LONGLONG:
  case MYSQL_TYPE_INT24:
  case MYSQL_TYPE_YEAR:
  case MYSQL_TYPE_BIT:
    return RT_T_INTEGER;
  case MYSQL_TYPE_FLOAT:
  case MYSQL_TYPE_DOUBLE:
    return RT_T_FLOAT;
  case MYSQL_TYPE_DECIMAL:
  case MYSQL_TYPE_NEWDECIMAL:
    return RT_T_NUMERIC;
  case MYSQL_TYPE_DATE:
  case MYSQL_TYPE_NEWDATE:
    return RT_T_DATE;
  case MYSQL_TYPE_DATETIME:
  case MYSQL_TYPE_TIMESTAMP:
  case MYSQL_TYPE_DATETIME2:
  case MYSQL_TYPE_TIMESTAMP2:
    return RT_T_DATETIME;
  case MYSQL_TYPE_TIME:
  case MYSQL_TYPE_TIME2:
    return RT_T_TIME;
  case MYSQL_TYPE_NULL:
    return RT_T_UNKNOWN;
  default:
    if (is_json(f)) return RT_T_JSON;
    return is_binary_string(f) ? RT_T_BLOB : RT_T_TEXT;
  }
}

/*
** KILL QUERY from a connection of our own.  It only reads what connect
** stored and never touches c->db, so it may run in another thread while
** the owner is blocked in a statement.  The statement has been killed
** (or had ended) when this returns.
*/
static void kill_query(my_conn *c) {
  MYSQL *m, *bad = NULL;
  rt_url_arg timeout = {"connect_timeout", "5"};
  char sql[48];
  m = open_handle(c->host, c->user, c->password, NULL, c->port, c->socket, NULL,
                  1, &timeout, &bad);
  if (m) {
    snprintf(sql, sizeof sql, "KILL QUERY %lu", c->thread_id);
    mysql_real_query(m, sql, (unsigned long)strlen(sql));
    mysql_close(m);
  } else if (bad)
    mysql_close(bad);
}

static void my_cancel(rt_dbconn *base) {
  my_conn *c = (my_conn *)base;
  mysql_thread_init();
  atomic_store(&c->canceled, 1);
  kill_query(c);
  mysql_thread_end();
}

/*
** A stream closed before its end is killed first (finish_cursor): the
** client library would read every row left, having no way to abandon a
** result on the wire.  Should the query have ended before the kill arrived,
** the kill may still hit the connection's next statement: a DO 0 takes it,
** its error ignored.
*/
static void absorb_kill(my_conn *c) {
  if (c->base.lost) return;
  if (mysql_real_query(c->db, "DO 0", 4) == 0) return;
  if (is_lost(mysql_errno(c->db))) c->base.lost = 1;
}

/*
** Really close a cursor: give its statement back, reading and dropping
** whatever of its results is still on the wire.
*/
static void finish_cursor(my_conn *c, my_cursor *cur) {
  int i, owner = c->active == cur;
  int killed = owner && cur->stream && !cur->done && !c->base.lost;
  unsigned warnings = 0;
  if (killed) kill_query(c);
  if (cur->res) {
    mysql_free_result(cur->res); /* reads what is left of a streamed one */
    if (owner) warnings = drain_db_results(c->db);
  }
  if (cur->stmt) {
    /* frees a stored result, or reads and drops the rest of a stream */
    mysql_stmt_free_result(cur->stmt);
    if (owner) warnings = drain_stmt_results(cur->stmt);
    release(cur->stmt, cur->slot);
  }
  if (owner) c->active = NULL;
  if (killed)
    absorb_kill(c);
  else /* a CALL's, whose rows came first */
    report_warnings(c, warnings);
  if (cur->cols)
    for (i = 0; i < cur->base.ncols; i++) free(cur->cols[i].buf);
  free(cur->cols);
  free(cur->bind);
  free(cur);
}

/* Finish the cursors closed while another one held the wire. */
static void settle(my_conn *c) {
  while (c->deferred && !c->active) {
    my_cursor *cur = c->deferred;
    c->deferred = cur->next;
    finish_cursor(c, cur);
  }
}

/*
** The client library keeps some of a statement's state in the connection:
** freeing or closing one statement while another streams would read (and
** lose) the streamed rows.  So a cursor closed meanwhile is only put
** aside, and finished once the wire is free again.
*/
static void my_cursor_close(rt_cursor *base) {
  my_cursor *cur = (my_cursor *)base;
  my_conn *c;
  if (cur == NULL) return;
  c = (my_conn *)base->conn;
  if (c->active && c->active != cur) {
    cur->next = c->deferred;
    c->deferred = cur;
    return;
  }
  finish_cursor(c, cur);
  settle(c);
}

/* --- transactions and the rest --- */

static int my_begin(rt_dbconn *base, rt_error *err) {
  my_conn *c = (my_conn *)base;
  settle(c);
  if (c->active) return out_of_sync(c, err);
  if (mysql_real_query(c->db, "START TRANSACTION", 17)) return fail_db(c, err);
  return 0;
}

static int my_commit(rt_dbconn *base, rt_error *err) {
  my_conn *c = (my_conn *)base;
  settle(c);
  if (c->active) return out_of_sync(c, err);
  if (mysql_commit(c->db)) return fail_db(c, err);
  return 0;
}

static int my_rollback(rt_dbconn *base, rt_error *err) {
  my_conn *c = (my_conn *)base;
  if (c->base.lost)
    return fail_with(c, CR_SERVER_GONE_ERROR, "MySQL server has gone away",
                     err);
  settle(c);
  if (c->active) return out_of_sync(c, err);
  if (mysql_rollback(c->db)) return fail_db(c, err);
  return 0;
}

static int my_ping(rt_dbconn *base, rt_error *err) {
  my_conn *c = (my_conn *)base;
  settle(c);
  if (c->active) return out_of_sync(c, err);
  if (mysql_ping(c->db)) {
    fail_db(c, err);
    c->base.lost = 1;
    return -1;
  }
  return 0;
}

static const char *my_server_version(rt_dbconn *c) {
  return ((my_conn *)c)->version;
}

const rt_driver rt_mariadb_driver = {
    "mysql",        my_connect,
    my_close,       my_execute,
    my_executemany, my_fetch,
    my_column,      my_colname,
    my_coltype,     my_cursor_close,
    my_begin,       my_commit,
    my_rollback,    my_ping,
    my_cancel,      my_server_version,
    NULL,           NULL, /* no arrays, no insertmany */
    NULL,                 /* no executemany with rows */
};
