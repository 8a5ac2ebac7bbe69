/*
** decode.h -- how the server drivers turn the bytes of a result column
** into an rt_value, apart from any connection, so that tests and fuzzers
** can feed them arbitrary bytes.
*/
#ifndef RT_DECODE_H
#define RT_DECODE_H

#include <stddef.h>

#include "../core/value.h"

/*
** PostgreSQL, text format: `s` (n bytes, NUL-terminated as libpq gives
** it) of a column of type `oid`.  bytea is decoded into *buf (capacity
** *cap, grown with realloc; the caller frees it), other values point into
** s.  Returns 0, or -1 when out of memory (v is then NULL).
*/
int rt_pg_decode(unsigned oid, const char *s, size_t n, char **buf, size_t *cap,
                 rt_value *v);
rt_sqltype rt_pg_sqltype(unsigned oid);

/*
** MySQL/MariaDB, text protocol: the value of field f (s is NULL for SQL
** NULL, else n bytes, NUL-terminated as the client library gives them).
*/
struct st_mysql_field;
void rt_my_decode_text(const struct st_mysql_field *f, const char *s, size_t n,
                       rt_value *v);
rt_sqltype rt_my_sqltype(const struct st_mysql_field *f);

#endif
