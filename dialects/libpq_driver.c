/*
** libpq_driver.c -- the driver for PostgreSQL, over libpq.
**
** Statements go through the extended protocol (PQexecParams) with text
** parameters, so `$1..$n` placeholders need no quoting and the server
** infers their types; only bytes travel in binary, so NUL bytes survive.
** Results come back as text and are converted per column from the type OID.
**
** A streaming execute (RT_EXEC_STREAM) reads rows one at a time in libpq's
** single-row mode.  Only one such query can be in flight on a connection:
** another statement arriving meanwhile first reads the rest of the stream
** ahead into the cursor.  Inside a transaction a stream runs under a
** savepoint, so closing its cursor early (which cancels the query) does not
** abort the transaction around it.
**
** executemany prepares the statement once and sends every row in one
** pipeline (libpq 14+), paying one round trip for the whole batch.  With
** RETURNING, each execution's result is kept in the pipeline's order, so
** the rows come back as the parameter sets went, whatever the server's
** plan for a multi-row VALUES would be.
*/
#include <libpq-fe.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/driver.h"
#include "decode.h"

/* type OIDs from the server's catalog/pg_type.h, which libpq does not
** install */
#define BOOLOID 16
#define BYTEAOID 17
#define CHAROID 18
#define NAMEOID 19
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23
#define TEXTOID 25
#define OIDOID 26
#define JSONOID 114
#define FLOAT4OID 700
#define FLOAT8OID 701
#define BPCHAROID 1042
#define VARCHAROID 1043
#define DATEOID 1082
#define TIMEOID 1083
#define TIMESTAMPOID 1114
#define TIMESTAMPTZOID 1184
#define INTERVALOID 1186
#define TIMETZOID 1266
#define NUMERICOID 1700
#define UUIDOID 2950
#define JSONBOID 3802

#define NUMLEN 32 /* room for the text of one number */
#define SAVEPOINT "retort_stream"

typedef struct pg_conn {
  rt_dbconn base;
  PGconn *pg;
  PGcancel *cancel;         /* made at connect time: PQcancel needs it */
  struct pg_cursor *stream; /* the cursor whose rows are still arriving */
  /* parameters of the statement being sent, reused from call to call */
  const char **values;
  int *lengths;
  int *formats;
  Oid *types;
  int maxparams;
  char *scratch; /* NUL-terminated copies of text, and numbers' text */
  size_t scratchcap;
  char version[32];
} pg_conn;

typedef enum pg_mode {
  BUFFERED,  /* every row is in res */
  STREAMING, /* rows arrive one by one from the server */
  READAHEAD, /* the rest of a stream was read into `ahead` */
  BATCH      /* `ahead` holds one result per row of an executemany */
} pg_mode;

typedef struct pg_cursor {
  rt_cursor base;
  pg_mode mode;
  PGresult *res;    /* the rows: the whole result, or the current row */
  PGresult *desc;   /* column descriptions, when res holds one row */
  int row;          /* current row of res; -1 before the first */
  int nrows;        /* rows in res */
  int pending;      /* execute already read the first streamed row */
  int savepoint;    /* the stream runs under SAVEPOINT retort_stream */
  PGresult **ahead; /* READAHEAD: the rows still to fetch */
  int nahead, iahead;
  PGresult *aheaderr; /* READAHEAD: the error that ended the stream */
  int aheadoom;       /* READAHEAD: rows were lost to an allocation failure */
  char **bytea;       /* decoded bytea of the current row, per column */
  size_t *byteacap;
} pg_cursor;

/*
** SQLSTATE to SQLAlchemy's exception kind, by class, as psycopg2 maps it.
*/
static rt_errkind kind_of(const char *state) {
  if (state == NULL || strlen(state) != 5) return RT_EDATABASE;
  if (strcmp(state, "57014") == 0) return RT_ECANCELED;
  switch (state[0]) {
  case '0':
    if (state[1] == '8') return RT_EOPERATIONAL;
    if (state[1] == 'A') return RT_ENOTSUPPORTED;
    break;
  case '2':
    switch (state[1]) {
    case '0':
    case '1':
      return RT_EPROGRAMMING;
    case '2':
      return RT_EDATA;
    case '3':
      return RT_EINTEGRITY;
    case '4':
    case '5':
    case 'B':
    case 'D':
    case 'F':
      return RT_EINTERNAL;
    case '6':
    case '7':
    case '8':
      return RT_EOPERATIONAL;
    }
    break;
  case '3':
    if (state[1] == '4') return RT_EOPERATIONAL;
    if (state[1] == '8' || state[1] == '9' || state[1] == 'B')
      return RT_EINTERNAL;
    if (state[1] == 'D' || state[1] == 'F') return RT_EPROGRAMMING;
    break;
  case '4':
    if (state[1] == '0') return RT_EOPERATIONAL; /* rollback, deadlock */
    if (state[1] == '2' || state[1] == '4') return RT_EPROGRAMMING;
    break;
  case '5':
  case 'F':
  case 'H':
    return RT_EOPERATIONAL;
  case 'P':
  case 'X':
    return RT_EINTERNAL;
  }
  return RT_EDATABASE;
}

/* Copy `msg` into err without the severity prefix ("ERROR:  ") and the
** trailing newlines libpq adds. */
static void set_message(rt_error *err, rt_errkind kind, const char *msg,
                        const char *severity) {
  size_t n;
  if (msg == NULL || *msg == '\0') msg = "unknown error";
  if (severity) {
    size_t sn = strlen(severity);
    if (strncmp(msg, severity, sn) == 0 && strncmp(msg + sn, ":  ", 3) == 0)
      msg += sn + 3;
  }
  n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) n--;
  rt_error_set(err, kind, "%.*s", (int)n, msg);
}

/* Is this the server telling us it is going away?  (08P01, a protocol
** violation, is also what a wrong number of parameters gets: the
** connection survives it.) */
static int fatal_state(const char *state) {
  return state &&
         ((strncmp(state, "08", 2) == 0 && strcmp(state, "08P01") != 0) ||
          strcmp(state, "57P01") == 0 || /* admin_shutdown */
          strcmp(state, "57P02") == 0 || /* crash_shutdown */
          strcmp(state, "57P03") == 0);  /* cannot_connect_now */
}

/*
** Fill err from a failed result (or from the connection when res is NULL),
** and mark the connection lost when the server is gone.
*/
static int fail(pg_conn *c, const PGresult *res, rt_error *err) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? PQresultErrorMessage(res) : NULL;
  const char *pos;
  int bad = PQstatus(c->pg) == CONNECTION_BAD;
  rt_errkind kind = kind_of(state);
  /* An error libpq made itself (no SQLSTATE) may be the first sign of a
  ** server that went away while the connection still looks good: reading
  ** what is there tells (before PQerrorMessage, which the read may move). */
  if (!bad && state == NULL && !PQconsumeInput(c->pg))
    bad = PQstatus(c->pg) == CONNECTION_BAD;
  if (msg == NULL || *msg == '\0') msg = PQerrorMessage(c->pg);
  if (bad || fatal_state(state)) {
    c->base.lost = 1;
    if (kind != RT_ECANCELED) kind = RT_EOPERATIONAL;
  } else if (state && strcmp(state, "08P01") == 0)
    /* a protocol violation on a healthy connection: the parameters did
    ** not match the statement's placeholders */
    kind = RT_EPROGRAMMING;
  set_message(err, kind, msg,
              res ? PQresultErrorField(res, PG_DIAG_SEVERITY) : NULL);
  rt_error_setcode(err, state ? state : "");
  pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
  if (pos) err->position = atoi(pos);
  return -1;
}

static void drain(PGconn *pg) {
  PGresult *r;
  while ((r = PQgetResult(pg)) != NULL) PQclear(r);
}

/* Notices (NOTICE, WARNING) would go to stderr: a driver never prints;
** they go to the connection's notice hook, or the process's sink, or
** nowhere. */
static void route_notice(void *arg, const char *message) {
  rt_driver_notice(arg, message);
}

/* Replace every occurrence of the password in a message with "***", in
** case libpq ever echoes part of the conninfo. */
static void hide_password(rt_error *err, const char *password) {
  char *p, *from;
  size_t pn;
  if (password == NULL || (pn = strlen(password)) < 3 || !err->message) return;
  from = err->message;
  while ((p = strstr(from, password)) != NULL) {
    memcpy(p, "***", 3);
    memmove(p + 3, p + pn, strlen(p + pn) + 1);
    from = p + 3;
  }
}

/* Was `key` already given earlier in args?  connect_args come before the
** URL's query and win over it, as in SQLAlchemy. */
static int seen_before(int i, const rt_url_arg *args) {
  int j;
  for (j = 0; j < i; j++)
    if (strcmp(args[j].key, args[i].key) == 0) return 1;
  return 0;
}

static int pg_connect(const rt_url *url, int nargs, const rt_url_arg *args,
                      rt_dbconn **out, rt_error *err) {
  const char **keys, **vals;
  char port[16];
  int n = 0, i;
  pg_conn *c = calloc(1, sizeof *c);
  const char *v;
  keys = calloc((size_t)nargs + 8, sizeof *keys);
  vals = calloc((size_t)nargs + 8, sizeof *vals);
  if (c == NULL || keys == NULL || vals == NULL) {
    free(c);
    free(keys);
    free(vals);
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  }
#define ADD(k, val)                                                            \
  do {                                                                         \
    keys[n] = (k);                                                             \
    vals[n] = (val);                                                           \
    n++;                                                                       \
  } while (0)
  ADD("fallback_application_name", "retort");
  if (url->host) ADD("host", url->host);
  if (url->port > 0) {
    snprintf(port, sizeof port, "%d", url->port);
    ADD("port", port);
  }
  if (url->username) ADD("user", url->username);
  if (url->password) ADD("password", url->password);
  if (url->database) ADD("dbname", url->database);
  /* later keywords override earlier ones in libpq */
  for (i = 0; i < nargs; i++)
    if (!seen_before(i, args)) ADD(args[i].key, args[i].value);
  /* values cross the driver boundary as UTF-8 */
  ADD("client_encoding", "UTF8");
#undef ADD
  c->base.drv = &rt_libpq_driver;
  c->pg = PQconnectdbParams(keys, vals, 0);
  free(keys);
  free(vals);
  if (c->pg == NULL) {
    free(c);
    return rt_error_set(err, RT_EMEMORY, "out of memory connecting");
  }
  if (PQstatus(c->pg) != CONNECTION_OK) {
    set_message(err, RT_EOPERATIONAL, PQerrorMessage(c->pg), NULL);
    hide_password(err, url->password);
    PQfinish(c->pg);
    free(c);
    return -1;
  }
  PQsetNoticeProcessor(c->pg, route_notice, &c->base);
  c->cancel = PQgetCancel(c->pg);
  v = PQparameterStatus(c->pg, "server_version");
  snprintf(c->version, sizeof c->version, "%.*s", v ? (int)strcspn(v, " ") : 0,
           v ? v : "");
  *out = &c->base;
  return 0;
}

static void pg_cursor_close(rt_cursor *base);
static int readahead(pg_cursor *cur);

static void pg_close(rt_dbconn *base) {
  pg_conn *c = (pg_conn *)base;
  if (c->stream) c->stream->mode = READAHEAD, c->stream = NULL;
  PQfreeCancel(c->cancel);
  PQfinish(c->pg);
  free(c->values);
  free(c->scratch);
  free(c);
}

/*
** Before another statement can use the connection, the rows of a stream
** still arriving are read ahead into its cursor.
*/
static void free_connection(pg_conn *c) {
  if (c->stream) readahead(c->stream);
}

/* Text with a NUL byte cannot be sent: find it before anything is. */
static int check_text(const rt_value *params, size_t n, rt_error *err) {
  size_t i;
  for (i = 0; i < n; i++)
    if (params[i].type == RT_V_TEXT &&
        memchr(params[i].u.s.p, '\0', params[i].u.s.n))
      return rt_error_set(err, RT_EDATA,
                          "A string literal cannot contain NUL (0x00) "
                          "characters.");
  return 0;
}

static int grow_params(pg_conn *c, int n) {
  size_t each = sizeof(char *) + 2 * sizeof(int) + sizeof(Oid);
  char *block;
  if (n <= c->maxparams) return 0;
  block = malloc((size_t)n * each);
  if (block == NULL) return -1;
  free(c->values);
  c->values = (const char **)(void *)block;
  c->lengths = (int *)(void *)(block + (size_t)n * sizeof(char *));
  c->formats = c->lengths + n;
  c->types = (Oid *)(void *)(c->formats + n);
  c->maxparams = n;
  return 0;
}

/*
** The type a parameter is sent with.  Numbers and booleans say theirs, as
** the literals psycopg2 writes into the statement do (5 is an integer,
** 5000000000 a bigint, 1.5 a numeric): SELECT $1 then gives a number
** back, and functions resolve as for a literal.  Text whose bind is a
** date, time or interval says so too, as psycopg2's '...'::date,
** ::timestamp[tz], ::time[tz] and ::interval literals for Python's date
** objects do, so that date + interval is not ambiguous.  Other text stays
** untyped, for the server to infer; bytes need bytea.
*/
static Oid int_oid(int64_t i) {
  return i >= INT32_MIN && i <= INT32_MAX ? INT4OID : INT8OID;
}

/* Does time text from `from` on carry a UTC offset ("+02:00", "-05",
** "Z")?  Then it is sent as the "with time zone" type, as psycopg2
** sends an aware datetime. */
static int has_offset(const char *s, size_t n, size_t from) {
  size_t i;
  for (i = from; i < n; i++)
    if (s[i] == '+' || s[i] == '-' || s[i] == 'Z' || s[i] == 'z') return 1;
  return 0;
}

static Oid text_oid(const rt_value *v) {
  switch ((rt_sqltype)v->sqltype) {
  case RT_T_DATE:
    return DATEOID;
  case RT_T_DATETIME:
    /* the offset can only follow the date's dashes */
    return has_offset(v->u.s.p, v->u.s.n, 10) ? TIMESTAMPTZOID : TIMESTAMPOID;
  case RT_T_TIME:
    return has_offset(v->u.s.p, v->u.s.n, 0) ? TIMETZOID : TIMEOID;
  case RT_T_INTERVAL:
    return INTERVALOID;
  default:
    return 0;
  }
}

static Oid param_oid(const rt_value *v) {
  switch (v->type) {
  case RT_V_INT:
    return int_oid(v->u.i);
  case RT_V_BOOL:
    return BOOLOID;
  case RT_V_FLOAT:
    return NUMERICOID;
  case RT_V_BLOB:
    return BYTEAOID;
  case RT_V_TEXT:
    return text_oid(v);
  default:
    return 0;
  }
}

/*
** Lay one row of parameters out for libpq: text for everything but bytes,
** which go in binary as bytea.  Text parameters must be NUL-terminated, so
** strings are copied into the scratch buffer.
*/
static int encode(pg_conn *c, const rt_value *params, int n, rt_error *err) {
  size_t need = 0, at = 0;
  int i;
  for (i = 0; i < n; i++) {
    if ((params[i].type == RT_V_TEXT || params[i].type == RT_V_BLOB) &&
        params[i].u.s.n > INT_MAX)
      return rt_error_set(err, RT_EDATA, "parameter %d is too long", i + 1);
    if (params[i].type == RT_V_TEXT)
      need += params[i].u.s.n + 1;
    else if (params[i].type == RT_V_INT || params[i].type == RT_V_FLOAT)
      need += NUMLEN;
  }
  if (grow_params(c, n) != 0) return rt_error_set(err, RT_EMEMORY, "no memory");
  if (need > c->scratchcap) {
    char *p = realloc(c->scratch, need);
    if (p == NULL) return rt_error_set(err, RT_EMEMORY, "out of memory");
    c->scratch = p;
    c->scratchcap = need;
  }
  for (i = 0; i < n; i++) {
    const rt_value *v = &params[i];
    char *s = c->scratch ? c->scratch + at : NULL;
    c->values[i] = s;
    c->lengths[i] = 0;
    c->formats[i] = 0;
    c->types[i] = 0;
    switch (v->type) {
    case RT_V_NULL:
      c->values[i] = NULL;
      break;
    case RT_V_INT:
      snprintf(s, NUMLEN, "%" PRId64, v->u.i);
      at += NUMLEN;
      c->types[i] = int_oid(v->u.i);
      break;
    case RT_V_FLOAT:
      if (isnan(v->u.f))
        strcpy(s, "NaN");
      else if (isinf(v->u.f))
        strcpy(s, v->u.f > 0 ? "Infinity" : "-Infinity");
      else
        rt_float_repr(v->u.f, s); /* Python's repr, as psycopg2 writes it */
      at += NUMLEN;
      c->types[i] = NUMERICOID;
      break;
    case RT_V_BOOL:
      c->values[i] = v->u.b ? "true" : "false";
      c->types[i] = BOOLOID;
      break;
    case RT_V_TEXT:
      if (v->u.s.n) memcpy(s, v->u.s.p, v->u.s.n);
      s[v->u.s.n] = '\0';
      at += v->u.s.n + 1;
      c->types[i] = text_oid(v);
      break;
    case RT_V_BLOB:
      c->values[i] = v->u.s.p ? v->u.s.p : "";
      c->lengths[i] = (int)v->u.s.n;
      c->formats[i] = 1;
      c->types[i] = BYTEAOID; /* binary data needs a known type */
      break;
    }
  }
  return 0;
}

/* Rows affected, as PQcmdTuples says, or -1 when it says nothing. */
static int64_t cmd_rows(PGresult *res) {
  const char *t = PQcmdTuples(res);
  return t && *t ? (int64_t)strtoll(t, NULL, 10) : -1;
}

/* Run a statement without parameters or rows (SAVEPOINT and friends). */
static int simple(pg_conn *c, const char *sql, rt_error *err) {
  PGresult *res = PQexec(c->pg, sql);
  int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok) fail(c, res, err);
  PQclear(res);
  return ok ? 0 : -1;
}

/*
** A result the driver does not handle: COPY would leave the connection in
** COPY state, so end it before reporting.
*/
static int unsupported(pg_conn *c, PGresult *res, rt_error *err) {
  ExecStatusType st = PQresultStatus(res);
  PQclear(res);
  if (st == PGRES_COPY_IN)
    PQputCopyEnd(c->pg, "COPY FROM STDIN is not supported by retort");
  else if (st == PGRES_COPY_OUT) {
    char *buf;
    while (PQgetCopyData(c->pg, &buf, 0) > 0) PQfreemem(buf);
  }
  drain(c->pg);
  if (st == PGRES_EMPTY_QUERY)
    return rt_error_set(err, RT_EPROGRAMMING, "can't execute an empty query");
  return rt_error_set(err, RT_ENOTSUPPORTED, "%s is not supported",
                      PQresStatus(st));
}

static pg_cursor *new_cursor(pg_conn *c, rt_error *err) {
  pg_cursor *cur = calloc(1, sizeof *cur);
  if (cur == NULL) {
    rt_error_set(err, RT_EMEMORY, "out of memory");
    return NULL;
  }
  cur->base.conn = &c->base;
  cur->base.rowcount = -1;
  cur->row = -1;
  return cur;
}

static int execute_buffered(pg_conn *c, const char *sql, int nparams,
                            rt_cursor **out, rt_error *err) {
  pg_cursor *cur;
  PGresult *res = PQexecParams(c->pg, sql, nparams, c->types, c->values,
                               c->lengths, c->formats, 0);
  ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR ||
      st == PGRES_BAD_RESPONSE || res == NULL) {
    fail(c, res, err);
    PQclear(res);
    return -1;
  }
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    return unsupported(c, res, err);
  if ((cur = new_cursor(c, err)) == NULL) {
    PQclear(res);
    return -1;
  }
  cur->mode = BUFFERED;
  cur->res = res;
  cur->nrows = PQntuples(res);
  cur->base.ncols = PQnfields(res);
  cur->base.rowcount = cmd_rows(res);
  *out = &cur->base;
  return 0;
}

/*
** Send the query in single-row mode and read up to its first row, so that
** errors are reported by execute, as for a buffered query.
*/
static int execute_stream(pg_conn *c, const char *sql, int nparams,
                          rt_cursor **out, rt_error *err) {
  pg_cursor *cur;
  PGresult *res;
  ExecStatusType st;
  int savepoint = PQtransactionStatus(c->pg) == PQTRANS_INTRANS;
  if (savepoint && simple(c, "SAVEPOINT " SAVEPOINT, err) != 0) return -1;
  if (!PQsendQueryParams(c->pg, sql, nparams, c->types, c->values, c->lengths,
                         c->formats, 0))
    return fail(c, NULL, err);
  PQsetSingleRowMode(c->pg);
  res = PQgetResult(c->pg);
  st = PQresultStatus(res);
  if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
      st != PGRES_COMMAND_OK) {
    if (st == PGRES_FATAL_ERROR || res == NULL) {
      fail(c, res, err);
      PQclear(res);
      drain(c->pg);
      return -1;
    }
    return unsupported(c, res, err);
  }
  if ((cur = new_cursor(c, err)) == NULL ||
      (cur->desc = PQcopyResult(res, PG_COPYRES_ATTRS)) == NULL) {
    /* forget the query, but leave the connection usable */
    PQclear(res);
    pg_cursor_close(cur ? &cur->base : NULL);
    drain(c->pg);
    return cur ? rt_error_set(err, RT_EMEMORY, "out of memory") : -1;
  }
  cur->base.ncols = PQnfields(res);
  cur->savepoint = savepoint;
  if (st == PGRES_SINGLE_TUPLE) {
    cur->mode = STREAMING;
    cur->res = res;
    cur->nrows = 1;
    cur->pending = 1;
    c->stream = cur;
  } else {
    /* no rows at all: the query is complete */
    cur->mode = BUFFERED;
    cur->res = res;
    cur->nrows = 0;
    cur->base.rowcount = cmd_rows(res);
    drain(c->pg);
    if (savepoint && simple(c, "RELEASE SAVEPOINT " SAVEPOINT, err) != 0) {
      pg_cursor_close(&cur->base);
      return -1;
    }
  }
  *out = &cur->base;
  return 0;
}

static int pg_execute(rt_dbconn *base, const char *sql, const rt_value *params,
                      int nparams, int flags, rt_cursor **out, rt_error *err) {
  pg_conn *c = (pg_conn *)base;
  if (check_text(params, (size_t)nparams, err) != 0) return -1;
  free_connection(c);
  if (encode(c, params, nparams, err) != 0) return -1;
  if (flags & RT_EXEC_STREAM) return execute_stream(c, sql, nparams, out, err);
  return execute_buffered(c, sql, nparams, out, err);
}

/*
** Collect the results of a pipeline up to its sync point: the rows
** affected are summed, the first error is kept (the server skips every
** statement after it up to the sync).  With `keep`, the results with rows
** are appended to its `ahead`, in the order the statements were sent.
*/
static int pipeline_results(pg_conn *c, int64_t *total, pg_cursor *keep,
                            rt_error *err) {
  PGresult *first_error = NULL, *res;
  int done = 0, rc = 0, oom = 0;
  *total = 0;
  while (!done) {
    res = PQgetResult(c->pg);
    if (res == NULL) {
      /* the end of one statement's results; with the connection gone
      ** there is no sync to wait for */
      if (PQstatus(c->pg) == CONNECTION_BAD) break;
      continue;
    }
    switch (PQresultStatus(res)) {
    case PGRES_PIPELINE_SYNC:
      done = 1;
      break;
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
      if (cmd_rows(res) > 0) *total += cmd_rows(res);
      if (keep && PQresultStatus(res) == PGRES_TUPLES_OK && !oom) {
        if (keep->nahead % 64 == 0) {
          PGresult **a =
              realloc(keep->ahead, sizeof *a * (size_t)(keep->nahead + 64));
          if (a == NULL) {
            oom = 1;
            break;
          }
          keep->ahead = a;
        }
        keep->ahead[keep->nahead++] = res;
        res = NULL;
      }
      break;
    case PGRES_PIPELINE_ABORTED:
      break;
    default:
      if (first_error == NULL) {
        first_error = res;
        res = NULL;
      }
    }
    PQclear(res);
  }
  if (first_error) {
    rc = fail(c, first_error, err);
    PQclear(first_error);
  } else if (!done)
    rc = fail(c, NULL, err);
  else if (oom)
    rc = rt_error_set(err, RT_EMEMORY, "out of memory reading rows");
  return rc;
}

/*
** Send sql for every row in one pipeline and read the results (kept in
** `keep` when not NULL); the rows affected in *total.
*/
static int run_pipeline(pg_conn *c, const char *sql, const rt_value *params,
                        int nparams, int nrows, int64_t *total, pg_cursor *keep,
                        rt_error *err) {
  rt_error later = RT_ERROR_INIT;
  int r, i, rc = -1;
  *total = 0;
  if (check_text(params, (size_t)nrows * (size_t)nparams, err) != 0) return -1;
  free_connection(c);
  /* the statement is prepared once, with bytea wherever any row has bytes */
  if (grow_params(c, nparams) != 0)
    return rt_error_set(err, RT_EMEMORY, "out of memory");
  for (i = 0; i < nparams; i++) {
    Oid t = 0;
    int first = 1;
    for (r = 0; r < nrows; r++) {
      Oid rt = param_oid(&params[(size_t)r * (size_t)nparams + (size_t)i]);
      if (params[(size_t)r * (size_t)nparams + (size_t)i].type == RT_V_NULL)
        continue;
      /* one type for the column: integers widen, other mixes stay unknown */
      if (first)
        t = rt;
      else if ((t == INT4OID || t == INT8OID) &&
               (rt == INT4OID || rt == INT8OID))
        t = t == INT8OID || rt == INT8OID ? INT8OID : INT4OID;
      else if (t != rt && t != BYTEAOID)
        t = rt == BYTEAOID ? BYTEAOID : 0;
      first = 0;
    }
    c->types[i] = t;
  }
  if (!PQenterPipelineMode(c->pg)) return fail(c, NULL, err);
  if (!PQsendPrepare(c->pg, "", sql, nparams, c->types)) {
    fail(c, NULL, err);
    goto out;
  }
  for (r = 0; r < nrows; r++) {
    if (encode(c, params + (size_t)r * (size_t)nparams, nparams, err) != 0)
      break;
    if (!PQsendQueryPrepared(c->pg, "", nparams, c->values, c->lengths,
                             c->formats, 0)) {
      fail(c, NULL, err);
      break;
    }
  }
  if (!PQpipelineSync(c->pg)) {
    fail(c, NULL, err);
    goto out;
  }
  /* after a failure to send, the results still need reading, but the
  ** error to report is the first one */
  rc = pipeline_results(c, total, keep, r < nrows ? &later : err);
  if (r < nrows) rc = -1;
out:
  rt_error_clear(&later);
  if (!PQexitPipelineMode(c->pg) && PQstatus(c->pg) != CONNECTION_BAD) {
    /* leftovers: read them so the connection leaves pipeline mode */
    drain(c->pg);
    PQexitPipelineMode(c->pg);
  }
  return rc;
}

static int pg_executemany(rt_dbconn *base, const char *sql,
                          const rt_value *params, int nparams, int nrows,
                          int64_t *rowcount, rt_error *err) {
  int64_t total = 0;
  if (rowcount) *rowcount = 0;
  if (nrows <= 0) return 0;
  if (run_pipeline((pg_conn *)base, sql, params, nparams, nrows, &total, NULL,
                   err) != 0)
    return -1;
  if (rowcount) *rowcount = total;
  return 0;
}

/*
** executemany of a statement with RETURNING: a cursor over the rows of
** every execution, in the order of the parameter sets.
*/
static int pg_executemany_rows(rt_dbconn *base, const char *sql,
                               const rt_value *params, int nparams, int nrows,
                               rt_cursor **out, rt_error *err) {
  pg_conn *c = (pg_conn *)base;
  pg_cursor *cur = new_cursor(c, err);
  int64_t total = 0;
  if (cur == NULL) return -1;
  cur->mode = BATCH;
  if (nrows > 0 &&
      run_pipeline(c, sql, params, nparams, nrows, &total, cur, err) != 0) {
    pg_cursor_close(&cur->base);
    return -1;
  }
  if (cur->nahead > 0) {
    cur->desc = PQcopyResult(cur->ahead[0], PG_COPYRES_ATTRS);
    if (cur->desc == NULL) {
      pg_cursor_close(&cur->base);
      return rt_error_set(err, RT_EMEMORY, "out of memory");
    }
    cur->base.ncols = PQnfields(cur->desc);
  }
  cur->base.rowcount = total;
  *out = &cur->base;
  return 0;
}

/* End a stream that reached its last result: rowcount, savepoint. */
static int stream_done(pg_cursor *cur, PGresult *last, rt_error *err) {
  pg_conn *c = (pg_conn *)cur->base.conn;
  int ok = PQresultStatus(last) == PGRES_TUPLES_OK ||
           PQresultStatus(last) == PGRES_COMMAND_OK;
  if (ok) cur->base.rowcount = cmd_rows(last);
  drain(c->pg);
  c->stream = NULL;
  if (ok && cur->savepoint) {
    cur->savepoint = 0;
    return simple(c, "RELEASE SAVEPOINT " SAVEPOINT, err);
  }
  return 0;
}

static int readahead(pg_cursor *cur) {
  pg_conn *c = (pg_conn *)cur->base.conn;
  PGresult *res;
  rt_error ignored = RT_ERROR_INIT;
  while ((res = PQgetResult(c->pg)) != NULL) {
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_SINGLE_TUPLE) {
      if (cur->nahead % 64 == 0) {
        PGresult **a =
            realloc(cur->ahead, sizeof *a * (size_t)(cur->nahead + 64));
        if (a == NULL) {
          cur->aheadoom = 1;
          PQclear(res);
          continue;
        }
        cur->ahead = a;
      }
      cur->ahead[cur->nahead++] = res;
      continue;
    }
    if (st != PGRES_TUPLES_OK && cur->aheaderr == NULL) {
      cur->aheaderr = res;
      break;
    }
    stream_done(cur, res, &ignored);
    PQclear(res);
    break;
  }
  drain(c->pg);
  c->stream = NULL;
  cur->mode = READAHEAD;
  rt_error_clear(&ignored);
  return 0;
}

static void clear_row(pg_cursor *cur) {
  if (cur->res && cur->nrows == 1 && cur->mode != BUFFERED) {
    PQclear(cur->res);
    cur->res = NULL;
  }
}

static int pg_fetch(rt_cursor *base, rt_error *err) {
  pg_cursor *cur = (pg_cursor *)base;
  pg_conn *c = (pg_conn *)base->conn;
  PGresult *res;
  ExecStatusType st;
  if (cur->pending) {
    cur->pending = 0;
    cur->row = 0;
    return 1;
  }
  switch (cur->mode) {
  case BUFFERED:
    if (cur->row + 1 >= cur->nrows) return 0;
    cur->row++;
    return 1;
  case BATCH:
    if (cur->row + 1 < cur->nrows) {
      cur->row++;
      return 1;
    }
    while (cur->iahead < cur->nahead) {
      PQclear(cur->res);
      cur->res = cur->ahead[cur->iahead++];
      cur->nrows = PQntuples(cur->res);
      cur->row = 0;
      if (cur->nrows > 0) return 1;
    }
    return 0;
  case READAHEAD:
    clear_row(cur);
    if (cur->iahead < cur->nahead) {
      cur->res = cur->ahead[cur->iahead++];
      cur->nrows = 1;
      cur->row = 0;
      return 1;
    }
    if (cur->aheadoom) {
      cur->aheadoom = 0;
      return rt_error_set(err, RT_EMEMORY, "out of memory reading rows");
    }
    if (cur->aheaderr) {
      fail(c, cur->aheaderr, err);
      PQclear(cur->aheaderr);
      cur->aheaderr = NULL;
      return -1;
    }
    return 0;
  case STREAMING:
    break;
  }
  clear_row(cur);
  res = PQgetResult(c->pg);
  st = PQresultStatus(res);
  if (st == PGRES_SINGLE_TUPLE) {
    cur->res = res;
    cur->nrows = 1;
    cur->row = 0;
    return 1;
  }
  cur->mode = BUFFERED;
  cur->nrows = 0;
  if (st == PGRES_TUPLES_OK) {
    int rc = stream_done(cur, res, err);
    PQclear(res);
    return rc;
  }
  fail(c, res, err);
  PQclear(res);
  drain(c->pg);
  c->stream = NULL;
  return -1;
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/*
** bytea arrives as text: "\x" and hex digits (bytea_output 'hex', the
** default), or the old escape format, which libpq decodes.  The bytes go
** to *buf, grown as needed, which stays valid until the next call.
*/
static int decode_bytea(const char *s, size_t n, char **buf, size_t *cap,
                        size_t *outlen) {
  size_t len, k;
  char *out;
  unsigned char *u = NULL;
  if (n >= 2 && s[0] == '\\' && s[1] == 'x')
    len = (n - 2) / 2;
  else if ((u = PQunescapeBytea((const unsigned char *)s, &len)) == NULL)
    return -1;
  if (len + 1 > *cap) {
    out = realloc(*buf, len + 1);
    if (out == NULL) {
      PQfreemem(u);
      return -1;
    }
    *buf = out;
    *cap = len + 1;
  }
  out = *buf;
  if (u) {
    memcpy(out, u, len);
    PQfreemem(u);
  } else
    for (k = 0; k < len; k++)
      out[k] = (char)(hexval((unsigned char)s[2 + 2 * k]) * 16 +
                      hexval((unsigned char)s[3 + 2 * k]));
  *outlen = len;
  return 0;
}

int rt_pg_decode(unsigned oid, const char *s, size_t n, char **buf, size_t *cap,
                 rt_value *v) {
  size_t len;
  switch (oid) {
  case INT2OID:
  case INT4OID:
  case INT8OID:
  case OIDOID:
    *v = rt_vint((int64_t)strtoll(s, NULL, 10));
    return 0;
  case FLOAT4OID:
  case FLOAT8OID:
    /* strtod reads "NaN", "Infinity" and "-Infinity" too */
    *v = rt_vfloat(strtod(s, NULL));
    return 0;
  case BOOLOID:
    *v = rt_vbool(s[0] == 't');
    return 0;
  case BYTEAOID:
    if (decode_bytea(s, n, buf, cap, &len) != 0) {
      *v = rt_vnull();
      return -1;
    }
    *v = rt_vblob(*buf, len);
    return 0;
  default:
    *v = rt_vtext(s, n);
    return 0;
  }
}

static PGresult *desc_of(pg_cursor *cur) {
  return cur->desc ? cur->desc : cur->res;
}

static void pg_column(rt_cursor *base, int i, rt_value *v) {
  pg_cursor *cur = (pg_cursor *)base;
  PGresult *res = cur->res;
  *v = rt_vnull();
  if (res == NULL || cur->row < 0 || cur->row >= cur->nrows || i < 0 ||
      i >= base->ncols || PQgetisnull(res, cur->row, i))
    return;
  if (PQftype(res, i) == BYTEAOID && cur->bytea == NULL) {
    cur->bytea = calloc((size_t)base->ncols, sizeof *cur->bytea);
    cur->byteacap = calloc((size_t)base->ncols, sizeof *cur->byteacap);
    if (cur->bytea == NULL || cur->byteacap == NULL) {
      free(cur->bytea);
      free(cur->byteacap);
      cur->bytea = NULL;
      cur->byteacap = NULL;
      return; /* column cannot report errors */
    }
  }
  rt_pg_decode(PQftype(res, i), PQgetvalue(res, cur->row, i),
               (size_t)PQgetlength(res, cur->row, i),
               cur->bytea ? &cur->bytea[i] : NULL,
               cur->byteacap ? &cur->byteacap[i] : NULL, v);
}

static const char *pg_colname(rt_cursor *base, int i) {
  const char *n = PQfname(desc_of((pg_cursor *)base), i);
  return n ? n : "";
}

/* Array types of the families above (typarray in pg_type). */
static int array_oid(Oid t) {
  static const Oid arrays[] = {1000, 1001, 1002, 1003, 1005, 1007, 1009, 1014,
                               1015, 1016, 1021, 1022, 1028, 1115, 1182, 1183,
                               1185, 1187, 1231, 1270, 2951, 3807, 199};
  size_t k;
  for (k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
    if (arrays[k] == t) return 1;
  return 0;
}

static rt_sqltype pg_coltype(rt_cursor *base, int i) {
  return rt_pg_sqltype(PQftype(desc_of((pg_cursor *)base), i));
}

rt_sqltype rt_pg_sqltype(unsigned t) {
  switch (t) {
  case INT2OID:
  case INT4OID:
  case INT8OID:
  case OIDOID:
    return RT_T_INTEGER;
  case FLOAT4OID:
  case FLOAT8OID:
    return RT_T_FLOAT;
  case NUMERICOID:
    return RT_T_NUMERIC;
  case BOOLOID:
    return RT_T_BOOLEAN;
  case TEXTOID:
  case VARCHAROID:
  case BPCHAROID:
  case NAMEOID:
  case CHAROID:
    return RT_T_TEXT;
  case BYTEAOID:
    return RT_T_BLOB;
  case DATEOID:
    return RT_T_DATE;
  case TIMESTAMPOID:
  case TIMESTAMPTZOID:
    return RT_T_DATETIME;
  case TIMEOID:
  case TIMETZOID:
    return RT_T_TIME;
  case INTERVALOID:
    return RT_T_INTERVAL;
  case JSONOID:
  case JSONBOID:
    return RT_T_JSON;
  case UUIDOID:
    return RT_T_UUID;
  default:
    return array_oid(t) ? RT_T_ARRAY : RT_T_UNKNOWN;
  }
}

/*
** Take the results libpq already holds, without waiting for more.  Returns
** 1 when the query's end was among them, 0 when it is still running (or
** its rows are still on the way), -1 when the connection failed.
*/
static int skip_arrived(pg_conn *c, int *failed) {
  PGresult *res;
  if (!PQconsumeInput(c->pg)) return -1;
  while (!PQisBusy(c->pg)) {
    res = PQgetResult(c->pg);
    if (res == NULL) return 1;
    if (PQresultStatus(res) != PGRES_SINGLE_TUPLE &&
        PQresultStatus(res) != PGRES_TUPLES_OK)
      *failed = 1;
    PQclear(res);
  }
  return 0;
}

/*
** Stop a stream nobody will read to its end.  Rows already received are
** skipped; unless the query's end was among them, it is canceled first:
** rows can arrive as fast as they are skipped, so waiting for the end could
** mean reading the whole result.  The few rows in flight after the cancel
** are drained, and the savepoint rolled back so the transaction around the
** query survives.  A cancel that reaches the server after the query ended
** is ignored there (the backend is idle, reading its next command).
*/
static void stop_stream(pg_cursor *cur) {
  pg_conn *c = (pg_conn *)cur->base.conn;
  PGresult *res;
  int failed = 0, ended;
  char buf[256]; /* PQcancel writes its error here, not to the heap */
  rt_error ignored = RT_ERROR_INIT;
  ended = skip_arrived(c, &failed);
  if (ended <= 0) {
    if (ended == 0 && c->cancel) PQcancel(c->cancel, buf, sizeof buf);
    while ((res = PQgetResult(c->pg)) != NULL) {
      if (PQresultStatus(res) != PGRES_SINGLE_TUPLE &&
          PQresultStatus(res) != PGRES_TUPLES_OK)
        failed = 1;
      PQclear(res);
    }
  }
  c->stream = NULL;
  if (PQstatus(c->pg) == CONNECTION_BAD) {
    c->base.lost = 1;
    return;
  }
  if (cur->savepoint)
    simple(c,
           failed ? "ROLLBACK TO SAVEPOINT " SAVEPOINT
                    "; RELEASE SAVEPOINT " SAVEPOINT
                  : "RELEASE SAVEPOINT " SAVEPOINT,
           &ignored);
  rt_error_clear(&ignored);
}

static void pg_cursor_close(rt_cursor *base) {
  pg_cursor *cur = (pg_cursor *)base;
  int i;
  if (cur == NULL) return;
  if (cur->mode == STREAMING && ((pg_conn *)base->conn)->stream == cur)
    stop_stream(cur);
  PQclear(cur->res);
  PQclear(cur->desc);
  for (i = cur->iahead; i < cur->nahead; i++) PQclear(cur->ahead[i]);
  free(cur->ahead);
  PQclear(cur->aheaderr);
  if (cur->bytea)
    for (i = 0; i < base->ncols; i++) free(cur->bytea[i]);
  free(cur->bytea);
  free(cur->byteacap);
  free(cur);
}

/* Connections whose server went away fail fast instead of trying. */
static int check_alive(pg_conn *c, rt_error *err) {
  if (PQstatus(c->pg) != CONNECTION_BAD) return 0;
  c->base.lost = 1;
  return rt_error_set(err, RT_EOPERATIONAL, "connection already closed");
}

static int pg_begin(rt_dbconn *base, rt_error *err) {
  pg_conn *c = (pg_conn *)base;
  if (check_alive(c, err) != 0) return -1;
  free_connection(c);
  return simple(c, "BEGIN", err);
}

static int pg_commit(rt_dbconn *base, rt_error *err) {
  pg_conn *c = (pg_conn *)base;
  if (check_alive(c, err) != 0) return -1;
  free_connection(c);
  if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) return 0;
  return simple(c, "COMMIT", err);
}

static int pg_rollback(rt_dbconn *base, rt_error *err) {
  pg_conn *c = (pg_conn *)base;
  if (check_alive(c, err) != 0) return -1;
  free_connection(c);
  if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) return 0;
  return simple(c, "ROLLBACK", err);
}

static int pg_ping(rt_dbconn *base, rt_error *err) {
  pg_conn *c = (pg_conn *)base;
  PGresult *res;
  int ok;
  if (check_alive(c, err) != 0) return -1;
  free_connection(c);
  /* the empty query is the cheapest round trip */
  res = PQexec(c->pg, "");
  ok = PQresultStatus(res) == PGRES_EMPTY_QUERY;
  if (!ok) fail(c, res, err);
  PQclear(res);
  return ok ? 0 : -1;
}

static void pg_cancel(rt_dbconn *base) {
  pg_conn *c = (pg_conn *)base;
  char buf[256]; /* PQcancel writes its error here, not to the heap */
  if (c->cancel) PQcancel(c->cancel, buf, sizeof buf);
}

static const char *pg_server_version(rt_dbconn *c) {
  return ((pg_conn *)c)->version;
}

/* The element family of an array type (typelem in pg_type), as far as a
** result needs it: integers, floats, exact numbers, booleans and JSON;
** the rest is text. */
static rt_sqltype pg_colitem(rt_cursor *base, int i) {
  switch (PQftype(desc_of((pg_cursor *)base), i)) {
  case 1005: /* int2[] */
  case 1007: /* int4[] */
  case 1016: /* int8[] */
  case 1028: /* oid[] */
    return RT_T_INTEGER;
  case 1021: /* float4[] */
  case 1022: /* float8[] */
    return RT_T_FLOAT;
  case 1000: /* bool[] */
    return RT_T_BOOLEAN;
  case 1231: /* numeric[] */
    return RT_T_NUMERIC;
  case 199:  /* json[] */
  case 3807: /* jsonb[] */
    return RT_T_JSON;
  default:
    return RT_T_TEXT;
  }
}

const rt_driver rt_libpq_driver = {
    "postgresql",        pg_connect,     pg_close,
    pg_execute,          pg_executemany, pg_fetch,
    pg_column,           pg_colname,     pg_coltype,
    pg_cursor_close,     pg_begin,       pg_commit,
    pg_rollback,         pg_ping,        pg_cancel,
    pg_server_version,   pg_colitem,     NULL, /* no insertmany */
    pg_executemany_rows,
};
