/*
** reserved.h -- reserved words per dialect (generated into reserved.c by
** tests/oracle/gen_reserved.py from SQLAlchemy's identifier preparers).
*/
#ifndef RT_RESERVED_H
#define RT_RESERVED_H
extern const char *const rt_rw_default[];
extern const int rt_rw_default_count;
extern const char *const rt_rw_sqlite[];
extern const int rt_rw_sqlite_count;
extern const char *const rt_rw_postgresql[];
extern const int rt_rw_postgresql_count;
extern const char *const rt_rw_mysql[];
extern const int rt_rw_mysql_count;
/* the MySQL dialect's once connected to MariaDB (and the mariadb one's) */
extern const char *const rt_rw_mariadb[];
extern const int rt_rw_mariadb_count;
#endif
