/*
** commands.h -- the shell's backslash commands (\?, \x, \f, \o, \i, ...).
*/
#ifndef RT_COMMANDS_H
#define RT_COMMANDS_H

#include <lua.h>

/* Run one command line (starting with `\`).  Returns 0, or 1 when it
** failed (the message printed).  `\q` sets rt_sh.quit. */
int rt_cmd_run(lua_State *L, const char *line);

/* The commands' names, without the backslash, NULL-terminated. */
const char *const *rt_cmd_names(void);

#endif
