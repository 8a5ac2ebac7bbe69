/*
** lsqlschema.c -- types, MetaData, Table, Column and constraints for Lua.
*/
#include <stdlib.h>
#include <string.h>

#include "core/ddl.h"
#include "core/types.h"
#include "lsql.h"

/* --- types --- */

rt_type **lsql_newtype(lua_State *L) {
  ltype *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->t = NULL;
  luaL_setmetatable(L, TYPE_MT);
  return &u->t;
}

void lsql_pushtype(lua_State *L, rt_type *t) {
  *lsql_newtype(L) = t;
}

void lsql_pushtyperef(lua_State *L, rt_type *t) {
  rt_type **box = lsql_newtype(L);
  *box = rt_type_ref(t);
}

rt_type *lsql_totype(lua_State *L, int idx) {
  ltype *u = luaL_testudata(L, idx, TYPE_MT);
  return u ? u->t : NULL;
}

static int type_gc(lua_State *L) {
  ltype *u = lua_touserdata(L, 1);
  rt_type_unref(u->t);
  u->t = NULL;
  return 0;
}

static int type_tostring(lua_State *L) {
  ltype *u = luaL_checkudata(L, 1, TYPE_MT);
  rt_strbuf b = RT_STRBUF_INIT;
  rt_type_str(&b, u->t);
  lua_pushlstring(L, b.p ? b.p : "", b.n);
  rt_sb_free(&b);
  return 1;
}

static char *dupstr(lua_State *L, int idx) {
  char *s = rt_strdup(lua_tostring(L, idx));
  if (!s) rt_lua_error(L, RT_EMEMORY, "out of memory");
  return s;
}

/* String(50), Numeric(10, 2), DateTime{timezone = true},
** Enum("a", "b", {name = "x"}), ARRAY(Integer) */
static int type_call(lua_State *L) {
  ltype *self = luaL_checkudata(L, 1, TYPE_MT), *u;
  rt_typekind k = self->t->kind;
  int top = lua_gettop(L), i, opts = 0;
  const char *fname = rt_type_tname(self->t);
  if (top >= 2 && lua_istable(L, top) && !lua_getmetatable(L, top))
    opts = top--;
  else if (top >= 2 && lua_istable(L, top))
    lua_pop(L, 1);
  u = lua_newuserdatauv(L, sizeof *u, 0);
  u->t = NULL;
  luaL_setmetatable(L, TYPE_MT);
  u->t = rt_type_new(k);
  if (!u->t) return rt_lua_error(L, RT_EMEMORY, "out of memory");
  u->t->upper = self->t->upper;
  switch (k) {
  case RT_TY_STRING:
  case RT_TY_UNICODE:
  case RT_TY_TEXT:
  case RT_TY_UNICODETEXT:
  case RT_TY_FLOAT:
  case RT_TY_LARGEBINARY:
    if (top >= 2) {
      if (!lua_isinteger(L, 2))
        return rt_lua_error(L, RT_EARGUMENT,
                            "%s(): argument #1 (length) must be an integer",
                            fname);
      u->t->length = (int)lua_tointeger(L, 2);
    }
    break;
  case RT_TY_NUMERIC:
    if (top >= 2) u->t->precision = (int)luaL_checkinteger(L, 2);
    if (top >= 3) u->t->scale = (int)luaL_checkinteger(L, 3);
    break;
  case RT_TY_ENUM:
    u->t->values = calloc((size_t)top + 1, sizeof(char *));
    if (!u->t->values) return rt_lua_error(L, RT_EMEMORY, "out of memory");
    for (i = 2; i <= top; i++) {
      if (lua_type(L, i) != LUA_TSTRING)
        return rt_lua_error(L, RT_EARGUMENT,
                            "Enum(): argument #%d must be a string", i - 1);
      u->t->values[u->t->nvalues++] = dupstr(L, i);
    }
    break;
  case RT_TY_ARRAY:
    if (top < 2 || !lsql_totype(L, 2))
      return rt_lua_error(L, RT_EARGUMENT,
                          "ARRAY(): argument #1 must be a type");
    u->t->item = rt_type_ref(lsql_totype(L, 2));
    break;
  default:
    if (top >= 2)
      return rt_lua_error(L, RT_EARGUMENT, "%s() takes no positional arguments",
                          fname);
  }
  if (opts) {
    if (lua_getfield(L, opts, "timezone") != LUA_TNIL)
      u->t->timezone = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "name") == LUA_TSTRING)
      u->t->name = dupstr(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "length") == LUA_TNUMBER)
      u->t->length = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "precision") == LUA_TNUMBER) {
      /* Float{precision = 10} is FLOAT(10), as Float(10) */
      if (k == RT_TY_FLOAT)
        u->t->length = (int)lua_tointeger(L, -1);
      else
        u->t->precision = (int)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "scale") == LUA_TNUMBER)
      u->t->scale = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    /* Numeric gives decimals unless told not to; Float only when told */
    if (lua_getfield(L, opts, "asdecimal") != LUA_TNIL) {
      if (k == RT_TY_FLOAT || k == RT_TY_DOUBLE)
        u->t->asdecimal = lua_toboolean(L, -1);
      else
        u->t->asfloat = !lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    /* String(n, {collation = "x"}): COLLATE in DDL and CAST */
    if (lua_getfield(L, opts, "collation") == LUA_TSTRING &&
        rt_type_is_string(u->t))
      u->t->collation = dupstr(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "native_enum") != LUA_TNIL)
      u->t->nonnative = !lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "create_constraint") != LUA_TNIL)
      u->t->create_constraint = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "dimensions") == LUA_TNUMBER)
      u->t->dims = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "decimal_return_scale") == LUA_TNUMBER)
      u->t->retscale = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  return 1;
}

static int type_index(lua_State *L) {
  ltype *u = luaL_checkudata(L, 1, TYPE_MT);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "__name__") == 0 || strcmp(k, "name") == 0)
    lua_pushstring(L, rt_type_tname(u->t));
  else if (strcmp(k, "length") == 0 && u->t->length)
    lua_pushinteger(L, u->t->length);
  else if (strcmp(k, "enums") == 0) {
    int i;
    lua_createtable(L, u->t->nvalues, 0);
    for (i = 0; i < u->t->nvalues; i++)
      lua_pushstring(L, u->t->values[i]), lua_rawseti(L, -2, i + 1);
  } else if (strcmp(k, "timezone") == 0)
    lua_pushboolean(L, u->t->timezone);
  else if (strcmp(k, "enum_name") == 0 && u->t->name)
    lua_pushstring(L, u->t->name);
  else if (strcmp(k, "native_enum") == 0)
    lua_pushboolean(L, !u->t->nonnative);
  else if (strcmp(k, "precision") == 0 && u->t->precision > 0)
    lua_pushinteger(L, u->t->precision);
  else if (strcmp(k, "scale") == 0 && u->t->scale >= 0)
    lua_pushinteger(L, u->t->scale);
  else if (strcmp(k, "display_width") == 0 && u->t->width > 0)
    lua_pushinteger(L, u->t->width);
  else if (strcmp(k, "unsigned") == 0)
    lua_pushboolean(L, u->t->isunsigned);
  else if (strcmp(k, "collation") == 0 && u->t->collation)
    lua_pushstring(L, u->t->collation);
  else if (strcmp(k, "charset") == 0 && u->t->charset)
    lua_pushstring(L, u->t->charset);
  else if (strcmp(k, "fields") == 0 && u->t->fields)
    lua_pushstring(L, u->t->fields);
  else if (strcmp(k, "item_type") == 0 && u->t->item)
    lsql_pushtyperef(L, u->t->item);
  else
    lua_pushnil(L);
  return 1;
}

/* A Row (a table of values by position and name) is no options table
** nor constraint: refused at argument #argn of fname */
static void refuse_row(lua_State *L, int idx, const char *fname, int argn) {
  if (rt_lua_isrow(L, idx))
    rt_lua_error(L, RT_EARGUMENT,
                 "%s(): argument #%d must be a plain options table, not a Row",
                 fname, argn);
}

/* --- MetaData --- */

/* MetaData({schema}): md->schema, its tables' schema by default */
typedef struct lmeta {
  rt_metadata *md;
} lmeta;

/* Push table t's key in its MetaData: "schema.name", or the bare name */
static void push_key(lua_State *L, const rt_node *t) {
  const rt_tabledata *d = t->ext;
  if (d && d->schema)
    lua_pushfstring(L, "%s.%s", d->schema, t->name);
  else
    lua_pushstring(L, t->name);
}

static lmeta *checkmeta(lua_State *L, int idx, const char *fname) {
  lmeta *m = luaL_testudata(L, idx, META_MT);
  if (!m)
    rt_lua_error(L, RT_EARGUMENT, "%s: argument #%d must be a MetaData, not %s",
                 fname, idx, luaL_typename(L, idx));
  return m;
}

/* MetaData({schema}) */
static int l_metadata(lua_State *L) {
  lmeta *m;
  const char *schema = NULL;
  if (lua_istable(L, 1)) {
    refuse_row(L, 1, "MetaData", 1);
    if (lua_getfield(L, 1, "schema") == LUA_TSTRING)
      schema = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1))
      return rt_lua_error(L, RT_EARGUMENT, "MetaData: schema must be a string");
  } else if (!lua_isnoneornil(L, 1))
    rt_lua_checkarg(L, 1, LUA_TTABLE, "MetaData");
  m = lua_newuserdatauv(L, sizeof *m, 1);
  m->md = NULL;
  luaL_setmetatable(L, META_MT);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  m->md = rt_metadata_new();
  if (!m->md) return rt_lua_error(L, RT_EMEMORY, "out of memory");
  if (schema && !(m->md->schema = rt_strdup(schema)))
    return rt_lua_error(L, RT_EMEMORY, "out of memory");
  return 1;
}

static int meta_gc(lua_State *L) {
  lmeta *m = lua_touserdata(L, 1);
  rt_metadata_free(m->md);
  m->md = NULL;
  return 0;
}

/* A sort's result, owned by a userdata while Lua is consulted. */
static int fksort_gc(lua_State *L) {
  rt_fksort_free(lua_touserdata(L, 1));
  return 0;
}

/* A zeroed userdata of `size` bytes whose __gc (metatable `name`) is gc:
** C state owned by Lua while Lua is consulted, freed whatever raises. */
static void *new_owned(lua_State *L, size_t size, const char *name,
                       lua_CFunction gc) {
  void *p = lua_newuserdatauv(L, size, 0);
  memset(p, 0, size);
  if (luaL_newmetatable(L, name)) {
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return p;
}

static rt_fksort *new_fksort(lua_State *L) {
  return new_owned(L, sizeof(rt_fksort), "retort.FkSort", fksort_gc);
}

static int meta_index(lua_State *L) {
  lmeta *m = luaL_checkudata(L, 1, META_MT);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "tables") == 0) {
    /* a copy: key ("schema.name" or the bare name) -> Table */
    lua_getiuservalue(L, 1, 1);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -4);
    }
    return 1;
  }
  if (strcmp(k, "schema") == 0) {
    lua_pushstring(L, m->md->schema);
    return 1;
  }
  if (strcmp(k, "sorted_tables") == 0 || strcmp(k, "_sorted_tables") == 0) {
    /* _sorted_tables: for create_all / drop_all's sequences and types,
    ** which neither warns nor resolves foreign keys */
    int quiet = k[0] == '_', i;
    rt_error err = RT_ERROR_INIT;
    rt_fksort *o = new_fksort(L);
    if (rt_metadata_sort(m->md, quiet ? 0 : RT_FKSORT_RESOLVE, o, &err) != 0)
      return rt_lua_raise(L, &err);
    if (o->cycle && !quiet) {
      /* SQLAlchemy's warning, written as the library writes its others */
      if (lua_getglobal(L, "io") == LUA_TTABLE &&
          lua_getfield(L, -1, "stderr") != LUA_TNIL &&
          lua_getfield(L, -1, "write") == LUA_TFUNCTION) {
        lua_insert(L, -2);
        lua_pushfstring(L,
                        "SAWarning: Cannot correctly sort tables; there are "
                        "unresolvable cycles between tables \"%s\", which is "
                        "usually caused by mutually dependent foreign key "
                        "constraints.  Foreign key constraints involving "
                        "these tables will not be considered; this warning "
                        "may raise an error in a future release.\n",
                        o->cycle_names);
        lua_call(L, 2, 0);
      }
      lua_settop(L, 3);
    }
    lua_getiuservalue(L, 1, 1);
    lua_createtable(L, o->ntables, 0);
    for (i = 0; i < o->ntables; i++) {
      push_key(L, o->tables[i]);
      lua_gettable(L, -3);
      lua_rawseti(L, -2, i + 1);
    }
    return 1;
  }
  luaL_getmetafield(L, 1, "__methods");
  lua_getfield(L, -1, k);
  return 1;
}

/* MetaData:create_all/drop_all are written in Lua (module chunk below). */

/* Push the Table of node t (the MetaData's map of them at map). */
static void push_table_of(lua_State *L, int map, const rt_node *t) {
  push_key(L, t);
  lua_gettable(L, map);
}

/* Give the box on top (pushed before the node was made: boxing it after
** could raise out of memory and leak it) the new DDL statement node n
** (NULL: out of memory). */
static void fill_ddl(lua_State *L, rt_node *n) {
  lnode *ud = lua_touserdata(L, -1);
  if (!n) rt_lua_error(L, RT_EMEMORY, "out of memory");
  ud->n = n;
}

/*
** md:_ddl_order(dialect, drop, keep): what create_all (drop false) or
** drop_all runs, as SQLAlchemy's SchemaGenerator / SchemaDropper order
** it, for the tables keep(t) is true of (nil: all) in the MetaData's
** order: {tables = them sorted by foreign keys (when stuck, as they
** were), creates = a CREATE TABLE per table, alters = ADD CONSTRAINT
** (create) or DROP CONSTRAINT (drop) of the foreign keys left for ALTER
** (none on SQLite, which has no ALTER for them: its CREATE TABLE keeps
** them all), cycle = the tables of the cycle met last ("a, b") or nil,
** stuck = a cycle no foreign key could be taken out of (drop)}.  A
** foreign key whose table the MetaData lacks is a NoReferencedTableError.
*/
static int meta_ddl_order(lua_State *L) {
  lmeta *m = checkmeta(L, 1, "_ddl_order");
  int alter = strcmp(luaL_checkstring(L, 2), "sqlite") != 0;
  int drop = lua_toboolean(L, 3), n = 0, i, j, k, *omit;
  rt_error err = RT_ERROR_INIT;
  rt_node **picked;
  rt_fksort *o;
  lua_settop(L, 4);
  lua_getiuservalue(L, 1, 1); /* 5: key -> Table */
  picked = lua_newuserdatauv(L, sizeof *picked * ((size_t)m->md->n + 1), 0);
  for (i = 0; i < m->md->n; i++) {
    if (!lua_isnil(L, 4)) {
      int keep;
      lua_pushvalue(L, 4);
      push_table_of(L, 5, m->md->tables[i]);
      lua_call(L, 1, 1);
      keep = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (i >= m->md->n) break; /* (keep changed the MetaData) */
      if (!keep) continue;
    }
    picked[n++] = m->md->tables[i];
  }
  o = new_fksort(L);
  if (rt_fk_sort(picked, n,
                 RT_FKSORT_RESOLVE | (drop ? RT_FKSORT_DROP : 0) |
                     (alter ? 0 : RT_FKSORT_NOALTER),
                 o, &err) != 0)
    return rt_lua_raise(L, &err);
  omit = lua_newuserdatauv(L, sizeof *omit * ((size_t)o->nfks + 1), 0);
  lua_createtable(L, 0, 6);
  lua_createtable(L, o->ntables, 0);
  for (i = 0; i < o->ntables; i++) {
    push_table_of(L, 5, o->tables[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "tables");
  lua_createtable(L, o->ntables, 0);
  for (i = 0; !drop && i < o->ntables; i++) {
    rt_node *t = o->tables[i];
    int nomit = 0;
    /* (the table's own foreign keys left for ALTER) */
    for (j = 0; alter && j < o->nfks; j++)
      if (o->fk_tables[j] == t) {
        for (k = 0; k < nomit && omit[k] != o->fk_cons[j]; k++)
          ;
        if (k == nomit) omit[nomit++] = o->fk_cons[j];
      }
    lsql_newnode(L);
    fill_ddl(L, rt_ddl_create_omitting(t, omit, nomit));
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "creates");
  lua_createtable(L, alter ? o->nfks : 0, 0);
  for (i = 0; alter && i < o->nfks; i++) {
    lsql_newnode(L);
    fill_ddl(L, rt_ddl_constraint(drop ? RT_DDL_DROP_CONSTRAINT
                                       : RT_DDL_ADD_CONSTRAINT,
                                  o->fk_tables[i], o->fk_cons[i]));
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "alters");
  if (o->cycle_names) {
    lua_pushstring(L, o->cycle_names);
    lua_setfield(L, -2, "cycle");
  }
  lua_pushboolean(L, o->stuck);
  lua_setfield(L, -2, "stuck");
  return 1;
}

/*
** metadata:remove(table): as SQLAlchemy's, whatever table the MetaData
** holds under the table's key ("schema.name") no longer belongs to it.
*/
static int meta_remove(lua_State *L) {
  lmeta *m = checkmeta(L, 1, "remove");
  rt_node *t = lsql_tonode(L, 2);
  if (!t || t->kind != RT_N_TABLE)
    return rt_lua_error(L, RT_EARGUMENT,
                        "remove: argument #1 must be a Table, not %s",
                        luaL_typename(L, 2));
  lua_settop(L, 2);
  lua_getiuservalue(L, 1, 1);
  push_key(L, t); /* 4 */
  lua_pushvalue(L, 4);
  lua_pushnil(L);
  lua_settable(L, 3);
  rt_metadata_remove(m->md, rt_metadata_find(m->md, lua_tostring(L, 4)));
  return 0;
}

/* metadata:clear(): forget every table */
static int meta_clear(lua_State *L) {
  lmeta *m = checkmeta(L, 1, "clear");
  while (m->md->n > 0) rt_metadata_remove(m->md, m->md->tables[0]);
  lua_newtable(L);
  lua_setiuservalue(L, 1, 1);
  return 0;
}

/* --- constraint records: plain tables with a __kind field --- */

static void newrecord(lua_State *L, const char *kind) {
  lua_newtable(L);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "__kind");
}

/* Copy the string options listed in `names` from the options table at
** opts into the record on top. */
static void copyopts(lua_State *L, int opts, const char *const *names) {
  int i;
  if (!opts) return;
  for (i = 0; names[i]; i++) {
    lua_getfield(L, opts, names[i]);
    lua_setfield(L, -2, names[i]);
  }
}

static int trailing_opts(lua_State *L) {
  int top = lua_gettop(L);
  if (top >= 1 && lua_type(L, top) == LUA_TTABLE && !lua_getmetatable(L, top))
    return top;
  if (top >= 1 && lua_type(L, top) == LUA_TTABLE) lua_pop(L, 1);
  return 0;
}

static const char *const fk_opts[] = {"name",       "ondelete",  "onupdate",
                                      "deferrable", "initially", "match",
                                      "use_alter",  NULL};

static int l_foreignkey(lua_State *L) {
  int opts = trailing_opts(L);
  if (lua_type(L, 1) == LUA_TSTRING) {
    newrecord(L, "ForeignKey");
    lua_pushvalue(L, 1);
  } else {
    rt_node *c = lsql_tonode(L, 1);
    if (!c || c->kind != RT_N_COLUMN || !c->owner)
      return rt_lua_error(L, RT_EARGUMENT,
                          "ForeignKey(): argument #1 must be a string "
                          "'table.column' or a table's Column");
    newrecord(L, "ForeignKey");
    push_key(L, c->owner); /* the column's table's fullname */
    lua_pushfstring(L, "%s.%s", lua_tostring(L, -1), c->name);
    lua_remove(L, -2);
  }
  lua_setfield(L, -2, "target");
  copyopts(L, opts, fk_opts);
  return 1;
}

static int attach_record(lua_State *L, rt_node *c);

static int l_fkconstraint(lua_State *L) {
  int opts = trailing_opts(L);
  rt_node *c;
  rt_lua_checkarg(L, 1, LUA_TTABLE, "ForeignKeyConstraint");
  rt_lua_checkarg(L, 2, LUA_TTABLE, "ForeignKeyConstraint");
  newrecord(L, "ForeignKeyConstraint");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "columns");
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "refcolumns");
  copyopts(L, opts, fk_opts);
  lua_rawgeti(L, 1, 1);
  c = lsql_tonode(L, -1);
  lua_pop(L, 1);
  return attach_record(L, c);
}

/* an Index's dialect options */
static const char *const index_opts[] = {"postgresql_where",
                                         "sqlite_where",
                                         "postgresql_using",
                                         "postgresql_include",
                                         "mysql_length",
                                         "mysql_prefix",
                                         "postgresql_concurrently",
                                         "mysql_using",
                                         "mysql_with_parser",
                                         NULL};

/* PrimaryKeyConstraint / UniqueConstraint / Index: names or columns */
static int column_list_record(lua_State *L, const char *kind, int first) {
  int opts = trailing_opts(L), top = opts ? opts - 1 : lua_gettop(L), i;
  static const char *const names[] = {"name", "unique", NULL};
  newrecord(L, kind);
  lua_createtable(L, top, 0);
  for (i = first; i <= top; i++) {
    rt_node *c = lsql_tonode(L, i);
    if (c && c->kind == RT_N_COLUMN)
      lua_pushvalue(L, i);
    else if (lua_type(L, i) == LUA_TSTRING)
      lua_pushvalue(L, i);
    else if (c && kind[0] == 'I' && !rt_is_selectable(c))
      lua_pushvalue(L, i); /* an Index on an expression */
    else
      return rt_lua_error(L, RT_EARGUMENT,
                          "%s(): argument #%d must be a column name or a "
                          "Column, not %s",
                          kind, i, luaL_typename(L, i));
    lua_rawseti(L, -2, i - first + 1);
  }
  lua_setfield(L, -2, "columns");
  copyopts(L, opts, names);
  if (kind[0] == 'I') copyopts(L, opts, index_opts);
  return 1;
}

static void add_record(lua_State *L, rt_node *t, int rec);

/* A constraint made of a table's Column objects joins that table at once,
** as SQLAlchemy's does (made of names, it waits for a Table(...)) */
static int attach_record(lua_State *L, rt_node *c) {
  if (c && c->kind == RT_N_COLUMN && c->owner && c->owner->kind == RT_N_TABLE)
    add_record(L, c->owner, -1);
  return 1;
}

static int l_pkconstraint(lua_State *L) {
  column_list_record(L, "PrimaryKeyConstraint", 1);
  return attach_record(L, lsql_tonode(L, 1));
}
static int l_uniqueconstraint(lua_State *L) {
  column_list_record(L, "UniqueConstraint", 1);
  return attach_record(L, lsql_tonode(L, 1));
}

static void add_record(lua_State *L, rt_node *t, int rec);
static char *optstr(lua_State *L, int rec, const char *field);

/* CheckConstraint(sqltext or expression, {name}): one given as an
** expression of a table's columns joins that table at once */
static int l_checkconstraint(lua_State *L) {
  int opts = trailing_opts(L);
  static const char *const names[] = {"name", NULL};
  rt_node *e = lsql_tonode(L, 1), *t;
  if (!e || rt_is_selectable(e))
    rt_lua_checkarg(L, 1, LUA_TSTRING, "CheckConstraint");
  newrecord(L, "CheckConstraint");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "sqltext");
  copyopts(L, opts, names);
  if (e && (t = rt_expr_table(e)) != NULL) add_record(L, t, -1);
  return 1;
}

/* A CHECK's text, or its expression, from the record at rec into k */
static void check_sqltext(lua_State *L, int rec, rt_constraint *k) {
  k->sqltext = optstr(L, rec, "sqltext");
  if (!k->sqltext) {
    lua_getfield(L, rec, "sqltext");
    k->check = lsql_tonode(L, -1);
    if (k->check) rt_ref(k->check);
    lua_pop(L, 1);
  }
}

/* Identity{always, start, increment, minvalue, maxvalue, nominvalue,
** nomaxvalue, cache, order, cycle}: an identity column's options */
static int l_identity(lua_State *L) {
  static const char *const opts[] = {
      "always",     "start", "increment", "minvalue", "maxvalue", "nominvalue",
      "nomaxvalue", "cache", "order",     "cycle",    NULL};
  int i;
  newrecord(L, "Identity");
  if (lua_istable(L, 1))
    for (i = 0; opts[i]; i++) {
      lua_getfield(L, 1, opts[i]);
      lua_setfield(L, -2, opts[i]);
    }
  return 1;
}

/* The identity clause of the Identity record at idx, as SQLAlchemy's
** visit_identity_column writes it: its options in get_identity_options'
** order (a given nominvalue or nomaxvalue, even false, is NO ...) */
static char *identity_clause(lua_State *L, int idx) {
  static const char *const nums[][2] = {{"increment", "INCREMENT BY"},
                                        {"start", "START WITH"},
                                        {"minvalue", "MINVALUE"},
                                        {"maxvalue", "MAXVALUE"}};
  luaL_Buffer b;
  int i, n = 0;
  char *s;
  idx = lua_absindex(L, idx);
  luaL_buffinit(L, &b);
  lua_getfield(L, idx, "always");
  luaL_addstring(&b, lua_toboolean(L, -1) ? "GENERATED ALWAYS AS IDENTITY"
                                          : "GENERATED BY DEFAULT AS IDENTITY");
  lua_pop(L, 1);
#define OPT_SEP() luaL_addstring(&b, n++ ? " " : " (")
  for (i = 0; i < 4; i++) {
    if (lua_getfield(L, idx, nums[i][0]) != LUA_TNIL) {
      lua_Integer v = luaL_checkinteger(L, -1);
      lua_pop(L, 1);
      OPT_SEP();
      lua_pushfstring(L, "%s %I", nums[i][1], (LUAI_UACINT)v);
      luaL_addvalue(&b);
    } else
      lua_pop(L, 1);
  }
  if (lua_getfield(L, idx, "nominvalue") != LUA_TNIL)
    OPT_SEP(), luaL_addstring(&b, "NO MINVALUE");
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "nomaxvalue") != LUA_TNIL)
    OPT_SEP(), luaL_addstring(&b, "NO MAXVALUE");
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "cache") != LUA_TNIL) {
    lua_Integer v = luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    OPT_SEP();
    lua_pushfstring(L, "CACHE %I", (LUAI_UACINT)v);
    luaL_addvalue(&b);
  } else
    lua_pop(L, 1);
  if (lua_getfield(L, idx, "order") != LUA_TNIL)
    OPT_SEP(), luaL_addstring(&b, lua_toboolean(L, -1) ? "ORDER" : "NO ORDER");
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "cycle") != LUA_TNIL)
    OPT_SEP(), luaL_addstring(&b, lua_toboolean(L, -1) ? "CYCLE" : "NO CYCLE");
  lua_pop(L, 1);
#undef OPT_SEP
  if (n) luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  s = rt_strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  if (!s) rt_lua_error(L, RT_EMEMORY, "out of memory");
  return s;
}

/* Sequence(name, {start, increment, minvalue, maxvalue, nominvalue,
** nomaxvalue, cache, order, cycle}): the options as fields */
static int l_sequence(lua_State *L) {
  static const char *const opts[] = {
      "start", "increment", "minvalue", "maxvalue", "nominvalue", "nomaxvalue",
      "cache", "order",     "cycle",    "schema",   NULL};
  int i;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "Sequence");
  newrecord(L, "Sequence");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "name");
  if (lua_istable(L, 2)) {
    for (i = 0; opts[i]; i++) {
      lua_getfield(L, 2, opts[i]);
      lua_setfield(L, -2, opts[i]);
    }
    /* a Column keeps only the name: its .sequence (which create_all
    ** creates) finds the options here */
    if (lua_getfield(L, LUA_REGISTRYINDEX, LSQL_SEQUENCES) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_REGISTRYINDEX, LSQL_SEQUENCES);
    }
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, lua_tostring(L, 1));
    lua_pop(L, 1);
  }
  return 1;
}

/* --- Column --- */

static rt_node *bind_for(lua_State *L, int idx, const char *key, rt_type *t) {
  rt_value v;
  if (rt_lua_tovalue(L, idx, &v) != 0)
    rt_lua_error(L, RT_EARGUMENT,
                 "Column(): default for '%s' is not a SQL value", key);
  return rt_bind(key, v, t, 0);
}

/* An option value that may be a SQL expression or a plain value. */
static rt_node *default_node(lua_State *L, int idx, const char *key,
                             rt_type *t) {
  rt_node *n = lsql_tonode(L, idx);
  if (n) return rt_ref(n);
  return bind_for(L, idx, key, t);
}

/* server_default / server_onupdate: a FetchedValue given for the other
** one is copied with for_update set to fit, as SQLAlchemy's Column does */
static rt_node *server_node(lua_State *L, int idx, const char *key,
                            int for_update) {
  rt_node *n = lsql_tonode(L, idx), *cp;
  if (!n || !(n->flags & RT_F_FETCHED) || n->op == for_update)
    return default_node(L, idx, key, NULL);
  if (!(cp = rt_node_copy(n))) rt_lua_error(L, RT_EMEMORY, "out of memory");
  cp->op = (unsigned char)for_update;
  return cp;
}

static lua_Integer column_counter;

/* autoincrement = "auto" (the default) or "ignore_fk" (a foreign key does
** not keep the column from autoincrementing), as SQLAlchemy's */
static void autoinc_option(lua_State *L, rt_coldata *d, int idx) {
  const char *s = lua_tostring(L, idx);
  if (strcmp(s, "ignore_fk") == 0)
    d->autoinc_ignore_fk = 1;
  else if (strcmp(s, "auto") != 0)
    rt_lua_error(L, RT_EARGUMENT,
                 "Column(): autoincrement must be true, false, \"auto\" or "
                 "\"ignore_fk\", not '%s'",
                 s);
}

/*
** FetchedValue({for_update}): a marker for a value the database sets by
** itself (a trigger, a computed column).  The column counts as having a
** server default (or onupdate) -- RETURNING and the ORM fetch it -- but no
** DEFAULT is rendered.  An empty literal flagged RT_F_FETCHED; op 1 marks
** for_update.
*/
static int l_fetched_value(lua_State *L) {
  lnode *ud;
  int for_update = 0;
  if (lua_istable(L, 1)) {
    lua_getfield(L, 1, "for_update");
    for_update = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (!lua_isnoneornil(L, 1))
    return rt_lua_error(L, RT_EARGUMENT,
                        "FetchedValue(): argument #1 must be an options "
                        "table, not %s",
                        luaL_typename(L, 1));
  ud = lsql_newnode(L);
  ud->n = rt_literal_column("", NULL);
  if (!ud->n) return rt_lua_error(L, RT_EMEMORY, "out of memory");
  ud->n->flags |= RT_F_FETCHED;
  ud->n->op = (unsigned char)for_update;
  return 1;
}

/*
** --- .info ---
**
** SQLAlchemy's SchemaItem.info: a dictionary of the user's, given as the
** info option or made empty on first read.  A Table keeps its own and its
** columns' in the "infos" field of its uservalue (node serial -> table),
** found from any box of the table or a column through registry
** LSQL_INFOS; a Column not yet in a table keeps its own in its uservalue.
*/

/* The info option of the options table at opts pushed (1), or nothing
** (0) when it is absent. */
static int info_option(lua_State *L, int opts, const char *fname) {
  int t = lua_getfield(L, opts, "info");
  if (t == LUA_TTABLE) return 1;
  if (t != LUA_TNIL)
    rt_lua_error(L, RT_EARGUMENT, "%s: info must be a table, not %s", fname,
                 luaL_typename(L, -1));
  lua_pop(L, 1);
  return 0;
}

/* The infos table of table t pushed, or nil. */
static int push_infos(lua_State *L, const rt_node *t) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, LSQL_INFOS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  lua_rawgetp(L, -1, t);
  lua_remove(L, -2);
  return lua_type(L, -1);
}

/* The infos table of the Table object at tidx pushed. */
static void push_own_infos(lua_State *L, int tidx) {
  lua_getiuservalue(L, tidx, 1);
  lua_getfield(L, -1, "infos");
  lua_remove(L, -2);
}

/* infos[n] = the table on top (popped), in the infos table at infos. */
static void set_info(lua_State *L, int infos, const rt_node *n) {
  lua_rawseti(L, infos, (lua_Integer)n->serial);
}

/* The info a Column object at idx was given, moved into the infos of
** the table at infos that it joins. */
static void adopt_column_info(lua_State *L, int infos, int idx,
                              const rt_node *c) {
  int top = lua_gettop(L);
  if (lua_getiuservalue(L, idx, 1) == LUA_TTABLE &&
      lua_getfield(L, -1, "info") == LUA_TTABLE)
    set_info(L, infos, c);
  lua_settop(L, top);
}

/* Is t a Table of a MetaData (not a lightweight sa.table)? */
static int schema_table(const rt_node *t) {
  const rt_tabledata *d = t->ext;
  return t->kind == RT_N_TABLE && d && d->md;
}

/*
** t.info = {...} / col.info = {...}: replaces the dictionary, where
** lsql_push_info finds it.  1 when n (the box at idx) has one, 0 when it
** has none (sa.table, sa.column, an alias's column).
*/
int lsql_set_info(lua_State *L, int idx, rt_node *n, int vidx) {
  const rt_node *h = n->kind == RT_N_TABLE ? n : n->owner;
  int top = lua_gettop(L);
  idx = lua_absindex(L, idx);
  vidx = lua_absindex(L, vidx);
  if (lua_type(L, vidx) != LUA_TTABLE)
    return rt_lua_error(L, RT_EARGUMENT, "info must be a table, not %s",
                        luaL_typename(L, vidx));
  if (h && h->kind == RT_N_TABLE && !schema_table(h)) return 0;
  if (h && h->kind == RT_N_TABLE) {
    if (push_infos(L, h) != LUA_TTABLE) return lua_settop(L, top), 0;
    lua_pushvalue(L, vidx);
    set_info(L, -2, n);
    lua_settop(L, top);
    return 1;
  }
  if (!h && n->kind == RT_N_COLUMN && lua_rawlen(L, idx) == sizeof(lnode) &&
      lua_getiuservalue(L, idx, 1) == LUA_TTABLE) {
    lua_pushvalue(L, vidx);
    lua_setfield(L, -2, "info");
    lua_settop(L, top);
    return 1;
  }
  lua_settop(L, top);
  return 0;
}

int lsql_push_info(lua_State *L, int idx, rt_node *n) {
  const rt_node *h = n->kind == RT_N_TABLE ? n : n->owner;
  int top = lua_gettop(L);
  idx = lua_absindex(L, idx);
  /* sa.table and sa.column have none, as in SQLAlchemy */
  if (h && h->kind == RT_N_TABLE && !schema_table(h)) return 0;
  if (h && h->kind == RT_N_TABLE && push_infos(L, h) == LUA_TTABLE) {
    if (lua_rawgeti(L, -1, (lua_Integer)n->serial) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      set_info(L, -3, n);
    }
    lua_remove(L, -2);
    return 1;
  }
  lua_settop(L, top);
  /* a Column of no Table yet keeps it in its uservalue (an annotated
  ** box's holds its class instead) */
  if (!h && n->kind == RT_N_COLUMN) {
    if (lua_rawlen(L, idx) != sizeof(lnode) ||
        lua_getiuservalue(L, idx, 1) != LUA_TTABLE) {
      lua_settop(L, top);
      return 0;
    }
    if (lua_getfield(L, -1, "info") != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, "info");
    }
    lua_remove(L, -2);
    return 1;
  }
  /* an alias's column is a new proxy with an empty one of its own */
  lua_newtable(L);
  return 1;
}

static int l_column(lua_State *L) {
  int top = lua_gettop(L), i, opts = 0, identity = 0;
  rt_type *type = NULL;
  lnode *ud;
  rt_node *col;
  rt_coldata *d;
  const char *name = NULL;
  /* Column(type, ...) without a name: a declarative class body names it
  ** after its attribute before the table is made */
  if (lua_type(L, 1) == LUA_TSTRING)
    name = lua_tostring(L, 1);
  else if (!lsql_totype(L, 1) && lua_type(L, 1) != LUA_TTABLE)
    rt_lua_checkarg(L, 1, LUA_TSTRING, "Column");
  ud = lsql_newnode(L); /* top + 1 */
  lua_newtable(L);      /* uservalue: foreign keys, Lua default, order */
  /* the creation counter orders columns given in a Lua table, which has
  ** no order of its own (a declarative class body) */
  lua_pushinteger(L, ++column_counter);
  lua_setfield(L, -2, "order");
  lua_setiuservalue(L, top + 1, 1);
  for (i = name ? 2 : 1; i <= top; i++) {
    rt_node *fv = lsql_tonode(L, i);
    if (fv && (fv->flags & RT_F_FETCHED))
      continue; /* Column(name, type, FetchedValue()): taken below */
    if (lua_isnil(L, i) && i == (name ? 2 : 1))
      continue; /* Column(name, nil, ForeignKey(...)): no type given */
    if (lsql_totype(L, i))
      type = lsql_totype(L, i);
    else if (lua_type(L, i) == LUA_TTABLE) {
      const char *kind;
      refuse_row(L, i, "Column", i);
      lua_getfield(L, i, "__kind");
      kind = lua_tostring(L, -1);
      lua_pop(L, 1);
      if (!kind) {
        if (i != top)
          return rt_lua_error(L, RT_EARGUMENT,
                              "Column(): the options table must be the last "
                              "argument");
        opts = i;
      } else if (strcmp(kind, "Identity") == 0) {
        if (identity)
          return rt_lua_error(L, RT_EARGUMENT,
                              "Column(): a column can only have one Identity");
        identity = i;
      } else if (strcmp(kind, "ForeignKey") == 0 ||
                 strcmp(kind, "Sequence") == 0 ||
                 strcmp(kind, "CheckConstraint") == 0) {
        lua_getiuservalue(L, top + 1, 1);
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        lua_pop(L, 1);
      } else
        return rt_lua_error(L, RT_EARGUMENT,
                            "Column(): argument #%d (%s) is not accepted", i,
                            kind);
    } else
      return rt_lua_error(L, RT_EARGUMENT,
                          "Column(): argument #%d must be a type, a "
                          "ForeignKey or an options table, not %s",
                          i, luaL_typename(L, i));
  }
  ud->n = col = rt_column_new(name, type);
  if (!col || !(d = rt_coldata_get(col)))
    return rt_lua_error(L, RT_EMEMORY, "out of memory");
  if (identity) {
    /* an identity column is NOT NULL unless nullable is given */
    d->identity = identity_clause(L, identity);
    col->flags |= RT_F_NOTNULL;
  }
  if (opts) {
    if (lua_getfield(L, opts, "primary_key") != LUA_TNIL &&
        lua_toboolean(L, -1))
      col->flags |= RT_F_PK | RT_F_NOTNULL;
    if (lua_getfield(L, opts, "nullable") != LUA_TNIL) {
      if (lua_toboolean(L, -1))
        col->flags &= ~(unsigned)RT_F_NOTNULL;
      else
        col->flags |= RT_F_NOTNULL;
    }
    if (lua_getfield(L, opts, "unique") != LUA_TNIL && lua_toboolean(L, -1))
      col->flags |= RT_F_UNIQUE;
    if (lua_getfield(L, opts, "index") != LUA_TNIL && lua_toboolean(L, -1))
      col->flags |= RT_F_INDEX;
    if (lua_getfield(L, opts, "autoincrement") == LUA_TSTRING)
      autoinc_option(L, d, -1);
    else if (!lua_isnil(L, -1))
      col->flags |= lua_toboolean(L, -1) ? RT_F_AUTOINC_YES : RT_F_AUTOINC_NO;
    if (lua_getfield(L, opts, "key") == LUA_TSTRING) d->key = dupstr(L, -1);
    if (lua_getfield(L, opts, "comment") == LUA_TSTRING)
      d->comment = dupstr(L, -1);
    lua_pop(L, 7);
    if (lua_getfield(L, opts, "default") == LUA_TFUNCTION) {
      d->lua_default = 1;
      lua_getiuservalue(L, top + 1, 1);
      lua_pushvalue(L, -2);
      lua_setfield(L, -2, "default");
      lua_pop(L, 1);
    } else if (!lua_isnil(L, -1))
      d->def = default_node(L, -1, rt_column_key(col), type);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "onupdate") == LUA_TFUNCTION) {
      d->lua_onupdate = 1;
      lua_getiuservalue(L, top + 1, 1);
      lua_pushvalue(L, -2);
      lua_setfield(L, -2, "onupdate");
      lua_pop(L, 1);
    } else if (!lua_isnil(L, -1))
      d->onupdate = default_node(L, -1, rt_column_key(col), type);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "server_default") != LUA_TNIL)
      d->server_default = server_node(L, -1, rt_column_key(col), 0);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "server_onupdate") != LUA_TNIL)
      d->server_onupdate = server_node(L, -1, rt_column_key(col), 1);
    lua_pop(L, 1);
    if (info_option(L, opts, "Column")) {
      lua_getiuservalue(L, top + 1, 1);
      lua_insert(L, -2);
      lua_setfield(L, -2, "info");
      lua_pop(L, 1);
    }
  }
  /* a FetchedValue among the arguments: the server default, or with
  ** for_update the server onupdate, as SQLAlchemy's _set_parent does */
  for (i = name ? 2 : 1; i <= top; i++) {
    rt_node *fv = lsql_tonode(L, i), **slot;
    if (!fv || !(fv->flags & RT_F_FETCHED)) continue;
    slot = fv->op ? &d->server_onupdate : &d->server_default;
    rt_unref(*slot);
    *slot = rt_ref(fv);
  }
  lua_settop(L, top + 1);
  return 1;
}

/* --- Table --- */

static char **strlist(lua_State *L, int idx, int *n, const char *fname) {
  int i, len = (int)lua_rawlen(L, idx);
  char **v = calloc((size_t)len + 1, sizeof(char *));
  if (!v) rt_lua_error(L, RT_EMEMORY, "out of memory");
  for (i = 0; i < len; i++) {
    rt_node *c;
    const char *name = NULL;
    lua_rawgeti(L, idx, i + 1);
    c = lsql_tonode(L, -1);
    if (c && c->kind == RT_N_COLUMN)
      name = c->name;
    else if (lua_type(L, -1) == LUA_TSTRING)
      name = lua_tostring(L, -1);
    if (name) v[i] = rt_strdup(name);
    lua_pop(L, 1);
    if (!v[i]) {
      int j;
      for (j = 0; j < i; j++) free(v[j]);
      free(v);
      if (name) rt_lua_error(L, RT_EMEMORY, "out of memory");
      rt_lua_error(L, RT_EARGUMENT, "%s: item %d is not a column name", fname,
                   i + 1);
    }
  }
  *n = len;
  return v;
}

/* An Index's elements at idx into c: a column (or its name) as its name,
** an expression kept as itself (cols[i] NULL). */
static void index_elements(lua_State *L, int idx, rt_constraint *c) {
  int i, len = (int)lua_rawlen(L, idx);
  idx = lua_absindex(L, idx);
  c->cols = calloc((size_t)len + 1, sizeof(char *));
  c->exprs = calloc((size_t)len + 1, sizeof(rt_node *));
  c->ncols = len; /* cleared half-built if an allocation fails */
  if (!c->cols || !c->exprs) rt_lua_error(L, RT_EMEMORY, "out of memory");
  for (i = 0; i < len; i++) {
    rt_node *e;
    lua_rawgeti(L, idx, i + 1);
    e = lsql_tonode(L, -1);
    if (e && e->kind != RT_N_COLUMN)
      c->exprs[i] = rt_ref(e);
    else if (!(c->cols[i] = rt_strdup(e ? e->name : lua_tostring(L, -1))))
      rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_pop(L, 1);
  }
}

static char *optstr(lua_State *L, int rec, const char *field) {
  char *s = NULL;
  if (lua_getfield(L, rec, field) == LUA_TSTRING &&
      (s = rt_strdup(lua_tostring(L, -1))) == NULL)
    rt_lua_error(L, RT_EMEMORY, "out of memory");
  lua_pop(L, 1);
  return s;
}

/* An Index's dialect options from the record at rec (see index_opts) */
static void index_options(lua_State *L, int rec, rt_constraint *k) {
  static const char *const wheres[] = {"postgresql_where", "sqlite_where"};
  int i;
  for (i = 0; i < 2; i++) {
    rt_node *w;
    if (lua_getfield(L, rec, wheres[i]) != LUA_TNIL) {
      if (lua_type(L, -1) == LUA_TSTRING) {
        w = rt_literal_column(lua_tostring(L, -1), NULL);
        if (!w) rt_lua_error(L, RT_EMEMORY, "out of memory");
      } else {
        w = lsql_tonode(L, -1);
        if (!w)
          rt_lua_error(L, RT_EARGUMENT,
                       "Index(): %s must be a SQL expression or a string",
                       wheres[i]);
        rt_ref(w);
      }
      if (i == 0)
        k->pg_where = w;
      else
        k->sqlite_where = w;
    }
    lua_pop(L, 1);
  }
  k->pg_using = optstr(L, rec, "postgresql_using");
  if (lua_getfield(L, rec, "postgresql_include") == LUA_TTABLE) {
    int n = (int)lua_rawlen(L, -1);
    k->pg_include = calloc((size_t)n + 1, sizeof(char *));
    if (!k->pg_include) rt_lua_error(L, RT_EMEMORY, "out of memory");
    for (i = 0; i < n; i++) {
      rt_node *c;
      lua_rawgeti(L, -1, i + 1);
      c = lsql_tonode(L, -1);
      k->pg_include[i] = rt_strdup(c ? c->name : luaL_checkstring(L, -1));
      if (!k->pg_include[i]) rt_lua_error(L, RT_EMEMORY, "out of memory");
      k->npg_include = i + 1;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, rec, "postgresql_concurrently");
  k->pg_concurrently = lua_toboolean(L, -1);
  lua_pop(L, 1);
  k->my_prefix = optstr(L, rec, "mysql_prefix");
  k->my_using = optstr(L, rec, "mysql_using");
  k->my_parser = optstr(L, rec, "mysql_with_parser");
  /* mysql_length: one length for every column, or {column = length} */
  i = lua_getfield(L, rec, "mysql_length");
  if (i == LUA_TNUMBER || i == LUA_TTABLE) {
    int j, t = i;
    k->my_length = calloc((size_t)k->ncols + 1, sizeof(int));
    if (!k->my_length) rt_lua_error(L, RT_EMEMORY, "out of memory");
    for (j = 0; j < k->ncols; j++) {
      if (t == LUA_TNUMBER)
        k->my_length[j] = (int)lua_tointeger(L, -1);
      else if (k->cols[j]) {
        if (lua_getfield(L, -1, k->cols[j]) == LUA_TNUMBER)
          k->my_length[j] = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
      }
    }
  }
  lua_pop(L, 1);
}

/* A foreign key's match, initially, deferrable and use_alter options
** from the record at rec */
static void fk_deferral(lua_State *L, int rec, rt_constraint *k) {
  k->match = optstr(L, rec, "match");
  k->initially = optstr(L, rec, "initially");
  if (lua_getfield(L, rec, "deferrable") != LUA_TNIL)
    k->deferrable = lua_toboolean(L, -1) ? 1 : 2;
  lua_getfield(L, rec, "use_alter");
  k->use_alter = lua_toboolean(L, -1);
  lua_pop(L, 2);
}

/* Add the constraint record at `rec` to table t.  The constraint struct
** is kept in a userdata while Lua is consulted, so nothing leaks. */
typedef struct lcons {
  rt_constraint c;
} lcons;

static int lcons_gc(lua_State *L) {
  lcons *k = lua_touserdata(L, 1);
  rt_constraint_clear(&k->c);
  return 0;
}

static lcons *newcons(lua_State *L) {
  return new_owned(L, sizeof(lcons), "retort.ConstraintBuilder", lcons_gc);
}

static void split_target(lua_State *L, lcons *k, const char *target, int i) {
  const char *dot = strrchr(target, '.');
  if (!dot)
    rt_lua_error(L, RT_EARGUMENT,
                 "ForeignKey: '%s' is not a 'table.column' name", target);
  if (!k->c.reftable) {
    k->c.reftable = malloc((size_t)(dot - target) + 1);
    if (!k->c.reftable) rt_lua_error(L, RT_EMEMORY, "out of memory");
    memcpy(k->c.reftable, target, (size_t)(dot - target));
    k->c.reftable[dot - target] = '\0';
  }
  k->c.refcols[i] = rt_strdup(dot + 1);
  if (!k->c.refcols[i]) rt_lua_error(L, RT_EMEMORY, "out of memory");
}

static void add_record(lua_State *L, rt_node *t, int rec) {
  const char *kind;
  lcons *k;
  int i;
  rec = lua_absindex(L, rec);
  lua_getfield(L, rec, "__kind");
  kind = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (!kind)
    rt_lua_error(L, RT_EARGUMENT, "Table(): unexpected table argument");
  if (strcmp(kind, "PrimaryKeyConstraint") == 0) {
    rt_tabledata *d = t->ext;
    lua_getfield(L, rec, "columns");
    for (i = 1; i <= (int)lua_rawlen(L, -1); i++) {
      rt_node *c;
      lua_rawgeti(L, -1, i);
      c = lsql_tonode(L, -1);
      if (!c)
        c = rt_table_column(t, lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
      if (!c)
        rt_lua_error(L, RT_EARGUMENT,
                     "PrimaryKeyConstraint: table '%s' has no column '%s'",
                     t->name, lua_tostring(L, -1));
      c->flags |= RT_F_PK | RT_F_NOTNULL;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!d->pk_name) d->pk_name = optstr(L, rec, "name");
    d->pk_explicit = 1;
    return;
  }
  k = newcons(L);
  k->c.name = optstr(L, rec, "name");
  if (strcmp(kind, "ForeignKeyConstraint") == 0) {
    int nref;
    k->c.kind = RT_CON_FK;
    lua_getfield(L, rec, "columns");
    k->c.cols = strlist(L, -1, &k->c.ncols, "ForeignKeyConstraint");
    lua_getfield(L, rec, "refcolumns");
    nref = (int)lua_rawlen(L, -1);
    if (nref != k->c.ncols)
      rt_lua_error(L, RT_EARGUMENT,
                   "ForeignKeyConstraint: %d columns but %d referred columns",
                   k->c.ncols, nref);
    k->c.refcols = calloc((size_t)nref + 1, sizeof(char *));
    if (!k->c.refcols) rt_lua_error(L, RT_EMEMORY, "out of memory");
    for (i = 0; i < nref; i++) {
      rt_node *c;
      lua_rawgeti(L, -1, i + 1);
      c = lsql_tonode(L, -1);
      if (c && c->owner)
        lua_pushfstring(L, "%s.%s", c->owner->name, c->name);
      else
        lua_pushvalue(L, -1);
      split_target(L, k, luaL_checkstring(L, -1), i);
      lua_pop(L, 2);
    }
    lua_pop(L, 2);
    k->c.ondelete = optstr(L, rec, "ondelete");
    k->c.onupdate = optstr(L, rec, "onupdate");
    fk_deferral(L, rec, &k->c);
  } else if (strcmp(kind, "Index") == 0) {
    k->c.kind = RT_CON_INDEX;
    lua_getfield(L, rec, "columns");
    index_elements(L, -1, &k->c);
    lua_pop(L, 1);
    lua_getfield(L, rec, "unique");
    k->c.unique = lua_toboolean(L, -1);
    lua_pop(L, 1);
    index_options(L, rec, &k->c);
  } else if (strcmp(kind, "UniqueConstraint") == 0) {
    k->c.kind = RT_CON_UNIQUE;
    lua_getfield(L, rec, "columns");
    k->c.cols = strlist(L, -1, &k->c.ncols, kind);
    lua_pop(L, 1);
    lua_getfield(L, rec, "unique");
    k->c.unique = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (strcmp(kind, "CheckConstraint") == 0) {
    k->c.kind = RT_CON_CHECK;
    check_sqltext(L, rec, &k->c);
  } else
    rt_lua_error(L, RT_EARGUMENT, "Table(): %s is not accepted here", kind);
  for (i = 0; i < k->c.ncols; i++)
    if (k->c.cols[i] && !rt_table_column(t, k->c.cols[i]))
      rt_lua_error(L, RT_EARGUMENT, "%s: table '%s' has no column '%s'", kind,
                   t->name, k->c.cols[i]);
  if (rt_table_add_constraint(t, &k->c) != 0)
    rt_lua_error(L, RT_EMEMORY, "out of memory");
  lua_pop(L, 1);
}

/* The constraints a Column's own options imply. */
static void column_constraints(lua_State *L, rt_node *t, int colidx,
                               rt_node *col) {
  int i, n;
  lua_getiuservalue(L, colidx, 1);
  n = (int)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    const char *kind;
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "__kind");
    kind = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (kind && strcmp(kind, "Sequence") == 0) {
      rt_coldata *d = rt_coldata_get(col);
      if (!d) rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_getfield(L, -1, "name");
      free(d->seqname);
      d->seqname = rt_strdup(lua_tostring(L, -1));
      if (lua_isstring(L, -1) && !d->seqname)
        rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
      free(d->seqschema);
      d->seqschema = optstr(L, lua_gettop(L), "schema");
    } else if (kind && strcmp(kind, "CheckConstraint") == 0) {
      /* a column-level CHECK, rendered with the column */
      lcons *k = newcons(L);
      k->c.kind = RT_CON_CHECK;
      k->c.column_level = 1;
      k->c.ncols = 1;
      k->c.cols = calloc(2, sizeof(char *));
      if (!k->c.cols || !(k->c.cols[0] = rt_strdup(col->name)))
        rt_lua_error(L, RT_EMEMORY, "out of memory");
      check_sqltext(L, lua_absindex(L, -2), &k->c);
      k->c.name = optstr(L, -2, "name");
      if (rt_table_add_constraint(t, &k->c) != 0)
        rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
    } else if (kind && strcmp(kind, "ForeignKey") == 0) {
      lcons *k = newcons(L);
      k->c.kind = RT_CON_FK;
      k->c.column_level = 1;
      k->c.ncols = 1;
      k->c.cols = calloc(2, sizeof(char *));
      k->c.refcols = calloc(2, sizeof(char *));
      if (!k->c.cols || !k->c.refcols || !(k->c.cols[0] = rt_strdup(col->name)))
        rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_getfield(L, -2, "target");
      split_target(L, k, lua_tostring(L, -1), 0);
      lua_pop(L, 1);
      k->c.name = optstr(L, -2, "name");
      k->c.ondelete = optstr(L, -2, "ondelete");
      k->c.onupdate = optstr(L, -2, "onupdate");
      fk_deferral(L, lua_absindex(L, -2), &k->c);
      if (rt_table_add_constraint(t, &k->c) != 0)
        rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (col->flags & (RT_F_UNIQUE | RT_F_INDEX)) {
    lcons *k = newcons(L);
    int index = (col->flags & RT_F_INDEX) != 0;
    k->c.kind = index ? RT_CON_INDEX : RT_CON_UNIQUE;
    k->c.unique = index && (col->flags & RT_F_UNIQUE);
    k->c.ncols = 1;
    k->c.cols = calloc(2, sizeof(char *));
    if (!k->c.cols || !(k->c.cols[0] = rt_strdup(col->name)))
      rt_lua_error(L, RT_EMEMORY, "out of memory");
    if (index) {
      /* SQLAlchemy's ix_%(column_0_label)s: the label has the schema */
      rt_tabledata *td = t->ext;
      if (td && td->schema)
        lua_pushfstring(L, "ix_%s_%s_%s", td->schema, t->name, col->name);
      else
        lua_pushfstring(L, "ix_%s_%s", t->name, col->name);
      k->c.name = rt_strdup(lua_tostring(L, -1));
      if (!k->c.name) rt_lua_error(L, RT_EMEMORY, "out of memory");
      lua_pop(L, 1);
    }
    if (rt_table_add_constraint(t, &k->c) != 0)
      rt_lua_error(L, RT_EMEMORY, "out of memory");
    lua_pop(L, 1);
  }
}

/* The index of Table()'s options table (a plain Lua table), or 0. */
static int table_options(lua_State *L, int top) {
  int i;
  for (i = 3; i <= top; i++) {
    int plain;
    if (lua_type(L, i) != LUA_TTABLE) continue;
    refuse_row(L, i, "Table", i);
    plain = lua_getfield(L, i, "__kind") == LUA_TNIL;
    lua_pop(L, 1);
    if (plain) return i;
  }
  return 0;
}

static int opt_flag(lua_State *L, int opts, const char *name) {
  int on;
  if (!opts) return 0;
  lua_getfield(L, opts, name);
  on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on;
}

/*
** Put Table()'s arguments 3..top onto t (the Table object at tidx).  With
** `replace`, a Column takes the place of the one with its key (extending an
** existing table); every replacement is checked first, so a refused one
** leaves the table as it was.
*/
/* t.c keeps the Columns it has handed out (lsql.c): forget them when
** extend_existing replaces columns, so t.c.x is the new one. */
static void forget_cached_columns(lua_State *L, int tidx) {
  int top = lua_gettop(L);
  if (lua_getiuservalue(L, tidx, 1) == LUA_TTABLE &&
      lua_getfield(L, -1, "__c") == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING) {
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, -4);
      }
    }
  }
  lua_settop(L, top);
}

/* The mysql_* keys of a Table's options table at idx (mysql_engine =
** "InnoDB", ...): kept as upper-cased names and string values, in key
** order, for MySQL's CREATE TABLE to render. */
static int mysql_key_cmp(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  /* COLLATE after a character set, as MySQL requires */
  int cx = strcmp(x, "COLLATE") == 0, cy = strcmp(y, "COLLATE") == 0;
  if (cx != cy) return cx - cy;
  return strcmp(x, y);
}

static void mysql_options(lua_State *L, rt_tabledata *d, int idx) {
  int n = 0, i;
  char **kv;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING &&
        strncmp(lua_tostring(L, -2), "mysql_", 6) == 0 &&
        lua_tostring(L, -2)[6] && lua_isstring(L, -1))
      n++;
    lua_pop(L, 1);
  }
  if (n == 0) return;
  kv = calloc((size_t)n * 2, sizeof *kv);
  if (!kv) {
    rt_lua_error(L, RT_EMEMORY, "out of memory");
    return;
  }
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (i < n && strncmp(k, "mysql_", 6) == 0 && k[6] && lua_isstring(L, -1)) {
      char *name = rt_strdup(k + 6), *p;
      if (name)
        for (p = name; *p; p++)
          if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
      kv[2 * i] = name;
      kv[2 * i + 1] = rt_strdup(lua_tostring(L, -1));
      i++;
    }
    lua_pop(L, 1);
  }
  for (i = 0; i < 2 * d->nmysql; i++) free(d->mysql[i]);
  free(d->mysql);
  d->mysql = kv;
  d->nmysql = n;
  for (i = 0; i < 2 * n; i++)
    if (!kv[i]) {
      rt_lua_error(L, RT_EMEMORY, "out of memory");
      return;
    }
  qsort(kv, (size_t)n, 2 * sizeof *kv, mysql_key_cmp);
}

static void table_items(lua_State *L, int tidx, rt_node *t, int top,
                        int replace) {
  rt_error err = RT_ERROR_INIT;
  int i;
  for (i = 3; replace && i <= top; i++) {
    rt_node *c = lsql_tonode(L, i);
    if (c && c->kind == RT_N_COLUMN && c->name &&
        rt_table_check_replace(t, c, &err) != 0)
      rt_lua_raise(L, &err);
  }
  lua_getiuservalue(L, tidx, 1);
  lua_getfield(L, -1, "defaults");
  lua_replace(L, -2); /* top + 2: name -> Lua default function */
  for (i = 3; i <= top; i++) {
    rt_node *c = lsql_tonode(L, i);
    if (c && c->kind == RT_N_COLUMN) {
      rt_coldata *d = c->ext;
      int rc;
      if (!c->name)
        rt_lua_error(L, RT_EARGUMENT,
                     "Table(): argument #%d is a Column without a name", i);
      rc = replace ? rt_table_replace_column(t, c, &err)
                   : rt_table_add_column(t, c, &err);
      if (rc != 0) rt_lua_raise(L, &err);
      push_own_infos(L, tidx);
      adopt_column_info(L, lua_gettop(L), i, c);
      lua_pop(L, 1);
      if (d && d->lua_default) {
        lua_getiuservalue(L, i, 1);
        lua_getfield(L, -1, "default");
        lua_remove(L, -2);
      } else
        lua_pushnil(L);
      lua_setfield(L, top + 2, rt_column_key(c));
      /* known by the function kept with the Column (a copy of a Column
      ** keeps that, not the flag) */
      lua_getiuservalue(L, tidx, 1);
      lua_getfield(L, -1, "onupdates");
      if (lua_getiuservalue(L, i, 1) == LUA_TTABLE &&
          lua_getfield(L, -1, "onupdate") == LUA_TFUNCTION && d) {
        d->lua_onupdate = 1;
        lua_setfield(L, -3, rt_column_key(c));
      }
      lua_settop(L, top + 2);
    } else if (lua_type(L, i) == LUA_TTABLE) {
      lua_getfield(L, i, "__kind");
      if (lua_isnil(L, -1)) {
        rt_tabledata *d = t->ext;
        lua_pop(L, 1);
        if (lua_getfield(L, i, "schema") == LUA_TSTRING && !d->schema)
          d->schema = rt_strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (lua_getfield(L, i, "comment") == LUA_TSTRING) {
          free(d->comment);
          d->comment = rt_strdup(lua_tostring(L, -1));
        }
        lua_pop(L, 1);
        mysql_options(L, d, i);
        if (info_option(L, i, "Table")) {
          push_own_infos(L, tidx);
          lua_insert(L, -2);
          set_info(L, -2, t);
          lua_pop(L, 1);
        }
        continue;
      }
      lua_pop(L, 1);
      add_record(L, t, i);
    } else
      rt_lua_error(L, RT_EARGUMENT,
                   "Table(): argument #%d must be a Column, a "
                   "constraint or an options table, not %s",
                   i, luaL_typename(L, i));
  }
  lua_pop(L, 1);
  /* constraints a Column implies come after those given to the Table,
  ** which exist before it (SQLAlchemy orders them by creation) */
  for (i = 3; i <= top; i++) {
    rt_node *c = lsql_tonode(L, i);
    if (c && c->kind == RT_N_COLUMN) column_constraints(L, t, i, c);
  }
  if (replace) forget_cached_columns(L, tidx);
}

/*
** Table(name, md, ...) for a name md already holds: SQLAlchemy returns the
** existing Table, extended with the new arguments under extend_existing,
** and refuses new columns or constraints otherwise.
*/
static int existing_table(lua_State *L, rt_node *t, int top, int opts) {
  int i;
  lua_getiuservalue(L, 2, 1);
  push_key(L, t);
  lua_gettable(L, -2);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  if (opt_flag(L, opts, "keep_existing")) return 1;
  if (opt_flag(L, opts, "extend_existing")) {
    table_items(L, top + 1, t, top, 1);
    rt_table_resolve_types(t);
    /* t.c caches Column objects by key: replaced ones must not linger */
    lua_getiuservalue(L, top + 1, 1);
    if (lua_getfield(L, -1, "__c") == LUA_TUSERDATA) {
      lua_newtable(L);
      lua_setiuservalue(L, -2, 2);
    }
    lua_settop(L, top + 1);
    return 1;
  }
  for (i = 3; i <= top; i++) {
    if (i == opts) continue;
    push_key(L, t);
    return rt_lua_error(L, RT_EINVALIDREQUEST,
                        "Table '%s' is already defined for this MetaData "
                        "instance.  Specify 'extend_existing=True' to "
                        "redefine options and columns on an existing Table "
                        "object.",
                        lua_tostring(L, -1));
  }
  return 1;
}

/* registry[reg][t] = field `field` of the uservalue of the Table at
** tidx; registry[reg] is made on first use, with weak values. */
static void register_functions(lua_State *L, const char *reg, int tidx,
                               const char *field, const rt_node *t) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, reg) != LUA_TTABLE) {
    lua_pop(L, 1);
    rt_lua_newweaktable(L, "v");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, reg);
  }
  lua_getiuservalue(L, tidx, 1);
  lua_getfield(L, -1, field);
  lua_rawsetp(L, -3, t);
  lua_pop(L, 2);
}

/*
** The schema of Table(name, md, ..., {schema}), pushed: the one given, or
** none for false (SQLAlchemy's BLANK_SCHEMA), or the MetaData's when the
** options name none.  Then its key, "schema.name" or the bare name.
*/
static void push_schema_key(lua_State *L, lmeta *m, int opts) {
  int t = opts ? lua_getfield(L, opts, "schema") : LUA_TNIL;
  if (t == LUA_TNIL) {
    lua_pop(L, opts ? 1 : 0);
    lua_pushstring(L, m->md->schema);
  } else if (t != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  if (lua_isnil(L, -1))
    lua_pushvalue(L, 1);
  else
    lua_pushfstring(L, "%s.%s", lua_tostring(L, -1), lua_tostring(L, 1));
}

/*
** Table()'s new table, built by table_build under a protected call with
** Table()'s arguments and then its schema (a string or nil) and key.
*/
static int table_build(lua_State *L) {
  int top = lua_gettop(L) - 2, i;
  lmeta *m = lua_touserdata(L, 2);
  const char *schema = lua_tostring(L, top + 1);
  lnode *ud;
  rt_error err = RT_ERROR_INIT;
  rt_node *t;
  lua_settop(L, top);
  ud = lsql_newnode(L); /* top + 1 */
  lua_newtable(L);      /* uservalue: metadata, Lua defaults */
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "metadata");
  lua_newtable(L);
  lua_setfield(L, -2, "defaults");
  lua_newtable(L);
  lua_setfield(L, -2, "onupdates");
  lua_newtable(L);
  lua_setfield(L, -2, "infos");
  lua_setiuservalue(L, top + 1, 1);
  ud->n = t = rt_table_new_in(m->md, schema, lua_tostring(L, 1), &err);
  if (!t) return rt_lua_raise(L, &err);
  table_items(L, top + 1, t, top, 0);
  rt_table_resolve_types(t);
  rt_schema_changed(); /* flags and options set above, after the columns */
  /* tables defined earlier may have been waiting for this one's types */
  for (i = 0; i < m->md->n; i++)
    if (m->md->tables[i] != t) rt_table_resolve_types(m->md->tables[i]);
  /* registry[LSQL_DEFAULTS][t] and registry[LSQL_ONUPDATES][t]: the
  ** table's Lua-function defaults and onupdates, found at execution */
  register_functions(L, LSQL_DEFAULTS, top + 1, "defaults", t);
  register_functions(L, LSQL_ONUPDATES, top + 1, "onupdates", t);
  register_functions(L, LSQL_INFOS, top + 1, "infos", t);
  lua_settop(L, top + 1);
  return 1;
}

/*
** Table(name, metadata, items..., {schema, extend_existing,
** keep_existing, must_exist, ...}): the MetaData keys its tables as
** SQLAlchemy's does ("schema.name" with a schema); a key it holds already
** gives the existing Table, and must_exist wants one.  A table whose
*construction fails is forgotten, as
** SQLAlchemy removes it again.
*/
static int l_table(lua_State *L) {
  int top = lua_gettop(L), opts, i;
  lmeta *m;
  rt_node *t;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "Table");
  m = checkmeta(L, 2, "Table");
  opts = table_options(L, top);
  if (opt_flag(L, opts, "keep_existing") &&
      opt_flag(L, opts, "extend_existing"))
    return rt_lua_error(L, RT_EARGUMENT,
                        "keep_existing and extend_existing are mutually "
                        "exclusive.");
  push_schema_key(L, m, opts); /* top + 1: schema, top + 2: key */
  t = rt_metadata_find(m->md, lua_tostring(L, top + 2));
  if (t) {
    lua_settop(L, top + 1); /* top + 1: the Table */
    return existing_table(L, t, top, opts);
  }
  if (opt_flag(L, opts, "must_exist") || opt_flag(L, opts, "mustexist"))
    return rt_lua_error(L, RT_EINVALIDREQUEST, "Table '%s' not defined",
                        lua_tostring(L, top + 2));
  /* a copy of every argument goes on the stack: a table of many columns
  ** needs more than the LUA_MINSTACK slots a C function is given */
  luaL_checkstack(L, top + 4, "Table(): too many arguments");
  lua_pushcfunction(L, table_build);
  for (i = 1; i <= top + 2; i++) lua_pushvalue(L, i);
  if (lua_pcall(L, top + 2, 1, 0) != LUA_OK) {
    rt_metadata_remove(m->md,
                       rt_metadata_find(m->md, lua_tostring(L, top + 2)));
    return lua_error(L);
  }
  /* metadata.tables[key] = table */
  lua_getiuservalue(L, 2, 1);
  lua_pushvalue(L, top + 2);
  lua_pushvalue(L, top + 3);
  lua_settable(L, -3);
  lua_settop(L, top + 3);
  return 1;
}

/* Index(name, cols..., {unique}): attaches to the columns' table at once
** when given Columns. */
static int l_index(lua_State *L) {
  rt_node *c;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "Index");
  column_list_record(L, "Index", 2);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "name");
  /* the table of its first column, wherever it is in an expression */
  c = lsql_tonode(L, 2);
  if (c && (c = rt_expr_table(c)) != NULL) add_record(L, c, -1);
  return 1;
}

/*
** The schema of sa.table's trailing options table at idx ({schema = "s"},
** SQLAlchemy's only keyword there), or NULL.
*/
static const char *light_table_schema(lua_State *L, int idx) {
  const char *schema = NULL;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING ||
        strcmp(lua_tostring(L, -2), "schema") != 0)
      return (rt_lua_error(L, RT_EARGUMENT, "Unsupported argument(s): ['%s']",
                           luaL_tolstring(L, -2, NULL)),
              NULL);
    if (lua_type(L, -1) == LUA_TSTRING)
      schema = lua_tostring(L, -1); /* the options table keeps it */
    else if (!rt_lua_isnull(L, -1))
      return (rt_lua_error(L, RT_EARGUMENT, "table(): schema must be a string"),
              NULL);
    lua_pop(L, 1);
  }
  return schema;
}

/* sa.table(name, column(...)..., {schema}): a lightweight table */
static int l_light_table(lua_State *L) {
  int top = lua_gettop(L), i;
  lnode *ud;
  const char *schema = NULL;
  rt_error err = RT_ERROR_INIT;
  rt_lua_checkarg(L, 1, LUA_TSTRING, "table");
  if (top > 1 && lua_type(L, top) == LUA_TTABLE && !lsql_tonode(L, top))
    schema = light_table_schema(L, top--);
  ud = lsql_newnode(L);
  ud->n = rt_table_new_in(NULL, schema, lua_tostring(L, 1), &err);
  if (!ud->n) return rt_lua_raise(L, &err);
  for (i = 2; i <= top; i++) {
    rt_node *c = lsql_tonode(L, i);
    if (!c || c->kind != RT_N_COLUMN)
      return rt_lua_error(L, RT_EARGUMENT,
                          "table(): argument #%d must be a column()", i);
    if (rt_table_add_column(ud->n, c, &err) != 0) return rt_lua_raise(L, &err);
  }
  return 1;
}

static int meta_newindex(lua_State *L) {
  return rt_lua_error(L, RT_EARGUMENT, "MetaData: can't set field '%s'",
                      luaL_tolstring(L, 2, NULL));
}

/*
** Table:append_column(col): a named, unattached Column joins the table
** (as SQLAlchemy's; single-table inheritance adds a subclass's columns to
** its parent's table this way), with the constraints its options imply.
*/
/* --- Table:to_metadata --- */

/*
** A copy of column c of the Table at tidx for to_metadata, boxed on the
** stack: name, type, flags and defaults.  Its Lua-function default and
** onupdate come from the table's registries (the Column object that held
** them may be gone); its constraints come with the table's.
*/
static void copy_column(lua_State *L, int tidx, rt_node *c) {
  rt_coldata *d = c->ext, *nd;
  lnode *ud = lsql_newnode(L);
  rt_node *n;
  int i, u;
  static const char *const fns[][2] = {{"defaults", "default"},
                                       {"onupdates", "onupdate"}};
  lua_newtable(L);
  u = lua_gettop(L);
  for (i = 0; i < 2; i++) {
    if (lua_getiuservalue(L, tidx, 1) == LUA_TTABLE &&
        lua_getfield(L, -1, fns[i][0]) == LUA_TTABLE &&
        lua_getfield(L, -1, rt_column_key(c)) == LUA_TFUNCTION)
      lua_setfield(L, u, fns[i][1]);
    lua_settop(L, u);
  }
  lua_setiuservalue(L, -2, 1);
  ud->n = n = rt_column_new(c->name, c->type);
  lsql_check(L, n);
  n->flags = c->flags;
  if (!d) return;
  lsql_check(L, nd = rt_coldata_get(n));
  nd->key = rt_strdup(d->key);
  nd->comment = rt_strdup(d->comment);
  nd->def = d->def ? rt_ref(d->def) : NULL;
  nd->server_default = d->server_default ? rt_ref(d->server_default) : NULL;
  nd->onupdate = d->onupdate ? rt_ref(d->onupdate) : NULL;
  nd->server_onupdate = d->server_onupdate ? rt_ref(d->server_onupdate) : NULL;
  nd->lua_default = d->lua_default;
  nd->seq = d->seq;
  nd->seqname = rt_strdup(d->seqname);
  nd->seqschema = d->seqschema ? rt_strdup(d->seqschema) : NULL;
  nd->identity = d->identity ? rt_strdup(d->identity) : NULL;
  nd->autoinc_ignore_fk = d->autoinc_ignore_fk;
  if ((d->key && !nd->key) || (d->comment && !nd->comment) ||
      (d->seqname && !nd->seqname))
    rt_lua_error(L, RT_EMEMORY, "out of memory");
}

/* A copy of Column-level CHECK k, on table nt */
static void copy_column_check(lua_State *L, rt_node *nt,
                              const rt_constraint *k) {
  lcons *nk = newcons(L);
  nk->c.kind = RT_CON_CHECK;
  nk->c.column_level = 1;
  nk->c.ncols = 1;
  nk->c.cols = calloc(2, sizeof(char *));
  if (!nk->c.cols || !(nk->c.cols[0] = rt_strdup(k->cols[0])) ||
      (k->sqltext && !(nk->c.sqltext = rt_strdup(k->sqltext))) ||
      (k->check && !(nk->c.check = rt_ref(k->check))) ||
      (k->name && !(nk->c.name = rt_strdup(k->name))) ||
      rt_table_add_constraint(nt, &nk->c) != 0)
    rt_lua_error(L, RT_EMEMORY, "out of memory");
  lua_pop(L, 1);
}

/* Is constraint k of t one a Column's unique/index flag made?  The copied
** column makes it again (SQLAlchemy's _column_flag). */
static int column_flag_cons(rt_node *t, const rt_constraint *k) {
  rt_node *col;
  rt_tabledata *d = t->ext;
  char name[256];
  if (k->ncols != 1 || !k->cols[0] || !(col = rt_table_column(t, k->cols[0])))
    return 0;
  if (k->kind == RT_CON_UNIQUE)
    return !k->name && (col->flags & RT_F_UNIQUE) && !(col->flags & RT_F_INDEX);
  if (k->kind != RT_CON_INDEX || !(col->flags & RT_F_INDEX) || !k->name)
    return 0;
  if (d->schema)
    snprintf(name, sizeof name, "ix_%s_%s_%s", d->schema, t->name, col->name);
  else
    snprintf(name, sizeof name, "ix_%s_%s", t->name, col->name);
  return strcmp(name, k->name) == 0;
}

/* Expression e with the columns of table from replaced by those of table
** to (an Index's expression, copied); a new reference */
static rt_node *repoint(rt_node *e, rt_node *from, rt_node *to) {
  rt_node *n;
  int i;
  if (!e) return NULL;
  /* (a table's constraint holds stand-ins, owned by no table, for the
  ** table's columns) */
  if (e->kind == RT_N_COLUMN && (e->owner == from || !e->owner)) {
    rt_node *c = rt_table_column(to, e->owner ? rt_column_key(e) : e->name);
    return rt_ref(c ? c : e);
  }
  if (e->kind == RT_N_TABLE || e->kind == RT_N_COLUMN ||
      (!e->a && !e->b && !e->c && e->n == 0))
    return rt_ref(e);
  if (!(n = rt_node_copy(e))) return NULL;
  rt_unref(n->a), n->a = repoint(e->a, from, to);
  rt_unref(n->b), n->b = repoint(e->b, from, to);
  rt_unref(n->c), n->c = repoint(e->c, from, to);
  for (i = 0; i < n->n; i++) {
    rt_unref(n->kids[i]);
    n->kids[i] = repoint(e->kids[i], from, to);
  }
  return n;
}

/* A list of k's column names (or, for an Index, expressions on table to) */
static void push_cons_columns(lua_State *L, const rt_constraint *k,
                              rt_node *from, rt_node *to) {
  int i;
  lua_createtable(L, k->ncols, 0);
  for (i = 0; i < k->ncols; i++) {
    if (k->cols[i])
      lua_pushstring(L, k->cols[i]);
    else {
      lnode *ud = lsql_newnode(L);
      lsql_check(L, ud->n = repoint(k->exprs[i], from, to));
    }
    lua_rawseti(L, -2, i + 1);
  }
}

static void set_str(lua_State *L, const char *field, const char *s) {
  if (!s) return;
  lua_pushstring(L, s);
  lua_setfield(L, -2, field);
}

/*
** The schema of a foreign key's target in the copy, as SQLAlchemy's
** to_metadata picks it: referred_schema_fn(table, to_schema, constraint,
** referred_schema) when given (at fn), else the new schema for a key into
** the table's own schema, else none (the target keeps its own).  Pushed
** (a string or nil).
*/
static void fk_copy_schema(lua_State *L, int tidx, rt_node *t,
                           const rt_constraint *k, const char *schema, int fn) {
  rt_tabledata *d = t->ext;
  const char *dot = strrchr(k->reftable, '.');
  if (dot)
    lua_pushlstring(L, k->reftable, (size_t)(dot - k->reftable));
  else
    lua_pushnil(L);
  if (fn) {
    int i;
    lua_pushvalue(L, fn);
    lua_pushvalue(L, tidx);
    if (schema)
      lua_pushstring(L, schema);
    else
      lua_pushnil(L);
    lua_createtable(L, 0, 4); /* the constraint, described */
    set_str(L, "name", k->name);
    set_str(L, "ondelete", k->ondelete);
    set_str(L, "onupdate", k->onupdate);
    set_str(L, "referred_table", k->reftable);
    lua_createtable(L, k->ncols, 0);
    for (i = 0; i < k->ncols; i++) {
      lua_pushstring(L, k->cols[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "columns");
    lua_pushvalue(L, -5); /* referred_schema */
    lua_call(L, 4, 1);
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
      rt_lua_error(L, RT_EARGUMENT,
                   "to_metadata: referred_schema_fn must return a schema "
                   "name or nil");
    lua_remove(L, -2);
    return;
  }
  if ((lua_isnil(L, -1) && !d->schema) ||
      (!lua_isnil(L, -1) && d->schema &&
       strcmp(lua_tostring(L, -1), d->schema) == 0)) {
    lua_pop(L, 1);
    if (schema)
      lua_pushstring(L, schema);
    else
      lua_pushnil(L);
    return;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
}

/*
** The referred columns of foreign key k in the copy (SQLAlchemy's
** ForeignKey._get_colspec), pushed as a list: "schema.table.col" when a
** schema was chosen; a key into the table itself names the copy;
** otherwise the target as the original resolved it, or as written.
*/
static void fk_copy_refs(lua_State *L, int tidx, rt_node *t,
                         const rt_constraint *k, const char *schema,
                         const char *name, int fn) {
  const char *dot = strrchr(k->reftable, '.'), *fks;
  rt_node *ref = rt_fk_target(t, k->reftable);
  int self = ref == t, i;
  rt_tabledata *rd = ref ? ref->ext : NULL;
  fk_copy_schema(L, tidx, t, k, schema, fn);
  fks = lua_tostring(L, -1);
  /* the schema token of the target as written */
  if (dot)
    lua_pushlstring(L, k->reftable, (size_t)(dot - k->reftable));
  else
    lua_pushnil(L);
  lua_createtable(L, k->ncols, 0);
  for (i = 0; i < k->ncols; i++) {
    const char *rc = k->refcols[i];
    if (fks)
      lua_pushfstring(L, "%s.%s.%s", fks,
                      self ? name : (dot ? dot + 1 : k->reftable), rc);
    else if (self && dot)
      lua_pushfstring(L, "%s.%s.%s", lua_tostring(L, -2), name, rc);
    else if (self)
      lua_pushfstring(L, "%s.%s", name, rc);
    else if (rd && rd->schema)
      lua_pushfstring(L, "%s.%s.%s", rd->schema, ref->name, rc);
    else
      lua_pushfstring(L, "%s.%s", ref ? ref->name : k->reftable, rc);
    lua_rawseti(L, -2, i + 1);
  }
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* A record for Table()'s add_record: the copy of constraint k */
static void cons_record(lua_State *L, int tidx, rt_node *t, rt_node *nt,
                        const rt_constraint *k, const char *schema,
                        const char *name, int fn) {
  static const char *const kinds[] = {NULL,
                                      NULL,
                                      "ForeignKeyConstraint",
                                      "UniqueConstraint",
                                      "CheckConstraint",
                                      "Index"};
  newrecord(L, kinds[k->kind]);
  set_str(L, "name", k->name);
  if (k->kind == RT_CON_CHECK) {
    set_str(L, "sqltext", k->sqltext);
    if (k->check) {
      lsql_pushref(L, k->check);
      lua_setfield(L, -2, "sqltext");
    }
    return;
  }
  push_cons_columns(L, k, t, nt);
  lua_setfield(L, -2, "columns");
  if (k->kind == RT_CON_FK) {
    fk_copy_refs(L, tidx, t, k, schema, name, fn);
    lua_setfield(L, -2, "refcolumns");
    set_str(L, "ondelete", k->ondelete);
    set_str(L, "onupdate", k->onupdate);
    set_str(L, "match", k->match);
    set_str(L, "initially", k->initially);
    if (k->deferrable) {
      lua_pushboolean(L, k->deferrable == 1);
      lua_setfield(L, -2, "deferrable");
    }
    if (k->use_alter) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "use_alter");
    }
  } else if (k->kind == RT_CON_INDEX) {
    int i;
    lua_pushboolean(L, k->unique);
    lua_setfield(L, -2, "unique");
    if (k->pg_where) {
      lsql_pushref(L, k->pg_where);
      lua_setfield(L, -2, "postgresql_where");
    }
    if (k->sqlite_where) {
      lsql_pushref(L, k->sqlite_where);
      lua_setfield(L, -2, "sqlite_where");
    }
    set_str(L, "postgresql_using", k->pg_using);
    if (k->npg_include) {
      lua_createtable(L, k->npg_include, 0);
      for (i = 0; i < k->npg_include; i++) {
        lua_pushstring(L, k->pg_include[i]);
        lua_rawseti(L, -2, i + 1);
      }
      lua_setfield(L, -2, "postgresql_include");
    }
    if (k->pg_concurrently) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "postgresql_concurrently");
    }
    set_str(L, "mysql_prefix", k->my_prefix);
    set_str(L, "mysql_using", k->my_using);
    set_str(L, "mysql_with_parser", k->my_parser);
    if (k->my_length) {
      lua_createtable(L, 0, k->ncols);
      for (i = 0; i < k->ncols; i++)
        if (k->cols[i] && k->my_length[i]) {
          lua_pushinteger(L, k->my_length[i]);
          lua_setfield(L, -2, k->cols[i]);
        }
      lua_setfield(L, -2, "mysql_length");
    }
  }
}

/* The copy's MySQL table options, the original's */
static void copy_mysql_options(lua_State *L, rt_tabledata *from,
                               rt_tabledata *to) {
  int i;
  if (from->nmysql == 0) return;
  to->mysql = calloc((size_t)from->nmysql * 2, sizeof(char *));
  if (!to->mysql) rt_lua_error(L, RT_EMEMORY, "out of memory");
  to->nmysql = from->nmysql;
  for (i = 0; i < 2 * from->nmysql; i++)
    if (!(to->mysql[i] = rt_strdup(from->mysql[i])))
      rt_lua_error(L, RT_EMEMORY, "out of memory");
}

/*
** Table:to_metadata(metadata, {schema, referred_schema_fn, name}) (and its
** older name tometadata): a copy of the table in another MetaData, with
** its columns, constraints and indexes, as SQLAlchemy's.  schema absent
** keeps the table's schema; false or sa.null (SQLAlchemy's None) gives
** the target MetaData's, or none.  A table the MetaData holds under that
** key ("schema.name") already is returned as it is.
*/
/* A shallow copy of the table on top, replacing it. */
static void shallow_copy(lua_State *L) {
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, -3)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  lua_remove(L, -2);
}

/* The .info of table t and its columns, copied onto nt and its columns
** of the same key (as SQLAlchemy's to_metadata copies each dictionary). */
static void copy_infos(lua_State *L, const rt_node *t, rt_node *nt) {
  int top = lua_gettop(L), i;
  if (push_infos(L, t) != LUA_TTABLE || push_infos(L, nt) != LUA_TTABLE) {
    lua_settop(L, top);
    return;
  }
  for (i = -1; i < t->n; i++) {
    const rt_node *c = i < 0 ? t : t->kids[i];
    const rt_node *nc = i < 0 ? nt : rt_table_column(nt, rt_column_key(c));
    if (nc && lua_rawgeti(L, top + 1, (lua_Integer)c->serial) == LUA_TTABLE) {
      shallow_copy(L);
      set_info(L, top + 2, nc);
    } else
      lua_pop(L, nc ? 1 : 0);
  }
  lua_settop(L, top);
}

int lsql_table_to_metadata(lua_State *L) {
  rt_node *t = lsql_checknode(L, 1, "to_metadata"), *nt, *old;
  rt_tabledata *d = t->ext, *nd;
  lmeta *m;
  const char *schema, *name;
  int fn = 0, i, top, nidx;
  if (t->kind != RT_N_TABLE || !d || !d->md)
    return rt_lua_error(L, RT_EARGUMENT,
                        "to_metadata: a Table of a MetaData is needed");
  m = checkmeta(L, 2, "to_metadata");
  if (!lua_isnoneornil(L, 3)) rt_lua_checkarg(L, 3, LUA_TTABLE, "to_metadata");
  lua_settop(L, 3);
  schema = d->schema;
  name = t->name;
  if (lua_istable(L, 3)) {
    if (lua_getfield(L, 3, "schema") == LUA_TSTRING)
      schema = lua_tostring(L, -1);
    else if ((lua_toboolean(L, -1) == 0 && !lua_isnil(L, -1)) ||
             rt_lua_isnull(L, -1))
      schema = m->md->schema; /* SQLAlchemy's None: the MetaData's */
    else if (!lua_isnil(L, -1))
      return rt_lua_error(L, RT_EARGUMENT,
                          "to_metadata: schema must be a string");
    if (lua_getfield(L, 3, "name") == LUA_TSTRING)
      name = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1))
      return rt_lua_error(L, RT_EARGUMENT,
                          "to_metadata: name must be a string");
    if (lua_getfield(L, 3, "referred_schema_fn") == LUA_TFUNCTION)
      fn = lua_gettop(L);
    else if (!lua_isnil(L, -1))
      return rt_lua_error(L, RT_EARGUMENT,
                          "to_metadata: referred_schema_fn must be a function");
  }
  /* already there (under its key): SQLAlchemy warns and returns it */
  lua_pushfstring(L, schema ? "%s.%s" : "%s", schema ? schema : name, name);
  if ((old = rt_metadata_find(m->md, lua_tostring(L, -1)))) {
    lua_getiuservalue(L, 2, 1);
    lua_pushvalue(L, -2);
    lua_gettable(L, -2);
    return 1;
  }
  lua_pop(L, 1);
  /* Table(name, metadata, columns..., {schema, comment}) */
  top = lua_gettop(L);
  lua_pushcfunction(L, l_table);
  lua_pushstring(L, name);
  lua_pushvalue(L, 2);
  for (i = 0; i < t->n; i++) copy_column(L, 1, t->kids[i]);
  lua_createtable(L, 0, 2);
  set_str(L, "schema", schema);
  set_str(L, "comment", d->comment);
  lua_call(L, t->n + 3, 1);
  nidx = lua_gettop(L);
  nt = lsql_tonode(L, nidx);
  nd = nt->ext;
  if (d->pk_name && !nd->pk_name && !(nd->pk_name = rt_strdup(d->pk_name)))
    return rt_lua_error(L, RT_EMEMORY, "out of memory");
  nd->pk_explicit = d->pk_explicit;
  copy_mysql_options(L, d, nd);
  for (i = 0; i < d->ncons; i++) {
    const rt_constraint *k = &d->cons[i];
    if (k->kind == RT_CON_CHECK && k->column_level && k->ncols == 1) {
      copy_column_check(L, nt, k);
      continue;
    }
    if (column_flag_cons(t, k) || k->kind == RT_CON_PK) continue;
    cons_record(L, 1, t, nt, k, schema, name, fn);
    add_record(L, nt, -1);
    lua_pop(L, 1);
  }
  copy_infos(L, t, nt);
  rt_table_resolve_types(nt);
  for (i = 0; i < m->md->n; i++)
    if (m->md->tables[i] != nt) rt_table_resolve_types(m->md->tables[i]);
  rt_schema_changed();
  lua_settop(L, nidx);
  (void)top;
  return 1;
}

int lsql_table_append_column(lua_State *L) {
  rt_node *t = lsql_checknode(L, 1, "append_column");
  rt_node *c = lsql_checknode(L, 2, "append_column");
  rt_coldata *d = c->ext;
  rt_error err = RT_ERROR_INIT;
  if (t->kind != RT_N_TABLE || c->kind != RT_N_COLUMN || !c->name || c->owner)
    return rt_lua_error(L, RT_EARGUMENT,
                        "append_column: a Table and a named Column that "
                        "belongs to no table");
  lua_settop(L, 2);
  if (rt_table_add_column(t, c, &err) != 0) return rt_lua_raise(L, &err);
  if (d && d->lua_default) {
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "defaults");
    lua_getiuservalue(L, 2, 1);
    lua_getfield(L, -1, "default");
    lua_setfield(L, -3, rt_column_key(c));
    lua_pop(L, 3);
  }
  if (push_infos(L, t) == LUA_TTABLE) adopt_column_info(L, 3, 2, c);
  lua_settop(L, 2);
  column_constraints(L, t, 2, c);
  rt_table_resolve_types(t);
  return 0;
}

void lsql_open_schema(lua_State *L) {
  static const struct {
    const char *name;
    rt_typekind kind;
  } types[] = {{"Integer", RT_TY_INTEGER},
               {"BigInteger", RT_TY_BIGINTEGER},
               {"SmallInteger", RT_TY_SMALLINTEGER},
               {"Float", RT_TY_FLOAT},
               {"Double", RT_TY_DOUBLE},
               {"Numeric", RT_TY_NUMERIC},
               {"String", RT_TY_STRING},
               {"Text", RT_TY_TEXT},
               {"Unicode", RT_TY_UNICODE},
               {"UnicodeText", RT_TY_UNICODETEXT},
               {"Boolean", RT_TY_BOOLEAN},
               {"Date", RT_TY_DATE},
               {"DateTime", RT_TY_DATETIME},
               {"Time", RT_TY_TIME},
               {"Interval", RT_TY_INTERVAL},
               {"LargeBinary", RT_TY_LARGEBINARY},
               {"Enum", RT_TY_ENUM},
               {"JSON", RT_TY_JSON},
               {"Uuid", RT_TY_UUID},
               {"ARRAY", RT_TY_ARRAY},
               {"JSONB", RT_TY_JSONB},
               {NULL, RT_TY_NULL}};
  /* SQLAlchemy's upper-case types (see rt_sqltype) */
  static const char *const sqltypes[] = {
      "INTEGER",   "INT",     "BIGINT", "SMALLINT",  "VARCHAR", "TEXT",
      "FLOAT",     "NUMERIC", "DATE",   "BOOLEAN",   "TIME",    "DATETIME",
      "TIMESTAMP", "CHAR",    "NCHAR",  "NVARCHAR",  "DECIMAL", "REAL",
      "CLOB",      "BLOB",    "BINARY", "VARBINARY", NULL};
  static const luaL_Reg funcs[] = {{"MetaData", l_metadata},
                                   {"Table", l_table},
                                   {"Column", l_column},
                                   {"ForeignKey", l_foreignkey},
                                   {"ForeignKeyConstraint", l_fkconstraint},
                                   {"PrimaryKeyConstraint", l_pkconstraint},
                                   {"UniqueConstraint", l_uniqueconstraint},
                                   {"CheckConstraint", l_checkconstraint},
                                   {"Index", l_index},
                                   {"Sequence", l_sequence},
                                   {"Identity", l_identity},
                                   {"FetchedValue", l_fetched_value},
                                   {"table", l_light_table},
                                   {NULL, NULL}};
  int i;
  luaL_newmetatable(L, TYPE_MT);
  lua_pushcfunction(L, type_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, type_call);
  lua_setfield(L, -2, "__call");
  lua_pushcfunction(L, type_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, type_index);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, META_MT);
  lua_pushcfunction(L, meta_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, meta_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, meta_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_newtable(L);
  lua_pushcfunction(L, meta_remove);
  lua_setfield(L, -2, "remove");
  lua_pushcfunction(L, meta_clear);
  lua_setfield(L, -2, "clear");
  lua_pushcfunction(L, meta_ddl_order);
  lua_setfield(L, -2, "_ddl_order");
  lua_setfield(L, -2, "__methods");
  lua_pop(L, 1);
  for (i = 0; types[i].name; i++) {
    lsql_pushtype(L, rt_type_bare(types[i].kind));
    lua_setfield(L, -2, types[i].name);
  }
  for (i = 0; sqltypes[i]; i++) {
    lsql_pushtype(L, rt_type_bare_sql(sqltypes[i]));
    lua_setfield(L, -2, sqltypes[i]);
  }
  luaL_setfuncs(L, funcs, 0);
  rt_lua_open_timedelta(L); /* Interval values */
}
