/*
** ddl.h -- CREATE/DROP TABLE and INDEX statements.
**
** A DDL statement is an RT_N_DDL node (op RT_DDL_*, a: the table, name:
** the index name for index statements) compiled by rt_compile.
*/
#ifndef RT_DDL_H
#define RT_DDL_H

#include "compiler.h"
#include "elements.h"

rt_node *rt_ddl_new(int op, rt_node *table, const char *index_name);
/* An ADD CONSTRAINT node made: its constraint is left out of CREATE
** TABLE from then on, as SQLAlchemy's AddConstraint does.  0, or -1 when
** the table has no such constraint. */
int rt_ddl_mark_alter(rt_node *ddl);
/*
** create_all's statements: CREATE TABLE t without the foreign keys at
** indexes omit[0..n) of its constraints (left for ALTER), and ADD / DROP
** CONSTRAINT (op) of t's constraint at index con, which (unlike
** rt_ddl_mark_alter) leaves CREATE TABLE t as it was.  NULL out of memory.
*/
rt_node *rt_ddl_create_omitting(rt_node *t, const int *omit, int n);
rt_node *rt_ddl_constraint(int op, rt_node *t, int con);

#endif
