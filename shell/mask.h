/*
** mask.h -- passwords out of text the shell keeps (the history file).
*/
#ifndef RT_MASK_H
#define RT_MASK_H

/*
** A malloc'd copy of `text` with the passwords in it replaced by `***`:
** a URL's user:PASSWORD@ and ?password=VALUE, a quoted value after the
** word password or passwd (`password = "x"` in Lua, `PASSWORD 'x'` and
** `PASSWORD('x')` in SQL) and after MySQL's IDENTIFIED BY.  NULL when out
** of memory.
*/
char *rt_mask_secrets(const char *text);

#endif
