/*
** orm/persistence.h -- the per-object loops of the Session's add, flush
** and expiry (orm/persistence.c), primitives of the ORM's C table.
*/
#ifndef RT_ORM_PERSISTENCE_H
#define RT_ORM_PERSISTENCE_H

#include <lua.h>

/* Add the primitives to the table on top of the stack (the `C` table the
** ORM's Lua files get). */
void rt_orm_persistence_register(lua_State *L);

#endif
