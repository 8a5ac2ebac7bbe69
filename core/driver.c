/*
** driver.c -- the table of drivers, and helpers common to all of them.
*/
#include "driver.h"

#include <string.h>

static const rt_driver *const drivers[] = {
    &rt_sqlite3_driver,
    &rt_libpq_driver,
    &rt_mariadb_driver,
};

const rt_driver *rt_driver_find(const char *dialect) {
  size_t i;
  for (i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
    if (strcmp(drivers[i]->name, dialect) == 0) return drivers[i];
  return NULL;
}

static void (*sink)(void *ud, const char *message);
static void *sink_ud;

void rt_driver_set_notice(void (*fn)(void *ud, const char *message), void *ud) {
  sink = fn;
  sink_ud = ud;
}

int rt_driver_wants_notice(const rt_dbconn *c) {
  return c->notice != NULL || sink != NULL;
}

void rt_driver_notice(rt_dbconn *c, const char *message) {
  if (c->notice)
    c->notice(c->notice_ud, message);
  else if (sink)
    sink(sink_ud, message);
}

int rt_driver_exec(rt_dbconn *c, const char *sql, rt_error *err) {
  rt_cursor *cur = NULL;
  if (c->drv->execute(c, sql, NULL, 0, 0, &cur, err) != 0) return -1;
  c->drv->cursor_close(cur);
  return 0;
}
