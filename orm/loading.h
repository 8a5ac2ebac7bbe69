/*
** orm/loading.h -- the loaders of orm/loading.c, which build instances
** (orm/lorm.h) straight from a Result's cursor.
*/
#ifndef RT_ORM_LOADING_H
#define RT_ORM_LOADING_H

#include "orm/lorm.h"

/* Add the loaders to the table of C primitives on top of the stack. */
void rt_orm_loading_register(lua_State *L);

#endif
