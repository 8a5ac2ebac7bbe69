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

/* When the function at hook is the one C.modified_hook made, do what
** calling it with the instance at obj does and return 1, else return 0
** (hook and obj: indexes that stay put as values are pushed).  The first
** change of a persistent instance is the hot path of changing many, and
** the call would be most of its cost. */
int rt_orm_mark_modified(lua_State *L, int hook, int obj);

#endif
