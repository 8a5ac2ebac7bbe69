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

/* Push the value the parameter order entry at e_idx asks of the object at
** obj: attribute e, identity value -e, or the constant {v}; NULL as
** sa.null.  (C.positional and C.positional_flat build with it.) */
void rt_orm_push_ordered(lua_State *L, int obj, int e_idx);

#endif
