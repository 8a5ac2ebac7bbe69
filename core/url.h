/*
** url.h -- database URLs: `dialect[+driver]://user:password@host:port/db?k=v`.
**
** Parsing follows SQLAlchemy's make_url: user and password are
** percent-decoded, the database part is kept as written, query arguments
** may repeat.  All strings are owned by the rt_url.
*/
#ifndef RT_URL_H
#define RT_URL_H

#include "error.h"

typedef struct rt_url_arg {
  char *key;
  char *value;
} rt_url_arg;

typedef struct rt_url {
  char *drivername; /* "postgresql", "mysql+pymysql", "sqlite" */
  char *username;   /* NULL when absent */
  char *password;   /* NULL when absent */
  char *host;       /* NULL when absent; IPv6 without brackets */
  int port;         /* 0 when absent */
  char *database;   /* NULL when absent */
  int nargs;
  rt_url_arg *args; /* query arguments in the order written */
} rt_url;

/* Parse `s`; returns NULL and sets an ArgumentError on a malformed URL. */
rt_url *rt_url_parse(const char *s, rt_error *err);
void rt_url_free(rt_url *u);
rt_url *rt_url_copy(const rt_url *u);

/* The dialect part of drivername: "postgresql" for "postgresql+psycopg2";
** "mariadb" is reported as "mysql".  Writes into buf (size n). */
const char *rt_url_backend(const rt_url *u, char *buf, size_t n);

/* The first value of query argument `key`, or NULL. */
const char *rt_url_arg_get(const rt_url *u, const char *key);

/* Render as SQLAlchemy does (query keys sorted); the password is shown as
** "***" when hide_password.  Returns a malloc'd string or NULL. */
char *rt_url_render(const rt_url *u, int hide_password);

#endif
