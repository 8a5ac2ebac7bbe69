/*
** linspect.c -- sa.inspect and the Inspector.
**
** An Inspector wraps an Engine or a Connection (its user value).  Each
** method asks core/reflection.c on a connection -- the wrapped one, whose
** transaction then sees the catalog as it stands, or a fresh one from the
** engine that is closed again before anything is pushed -- and turns the
** C answer into plain Lua tables shaped as SQLAlchemy's Inspector returns
** them.  The answer lives in a userdata with __gc while the tables are
** built, so an error on the way (a type converter that raises) leaks
** nothing.
*/
#include <string.h>

#include "core/reflection.h"
#include "lretort.h"
#include "lsql.h"

#define INSPECTOR_MT "retort.Inspector"
#define ANSWER_MT "retort.ReflectionAnswer"

/* registry: fn(dialect_name, type_text) -> type object, set by the types
** module; without it get_columns gives the type text */
#define TYPE_FROM_SQL "retort.type_from_sql"
/* registry: fn(obj) -> inspection or nil, for objects other than engines
** and connections (mapped classes, instances), set by the ORM */
#define INSPECT_HOOK "retort.inspect_hook"

enum query {
  Q_TABLES,
  Q_VIEWS,
  Q_SCHEMAS,
  Q_HAS_TABLE,
  Q_COLUMNS,
  Q_PK,
  Q_FKS,
  Q_INDEXES,
  Q_UNIQUES,
  Q_CHECKS,
  Q_COMMENT,
  Q_SORTED,
  Q_DEFAULT_SCHEMA,
  Q_SEQUENCES,
  Q_HAS_SEQUENCE,
  Q_VIEW_DEF
};

static int answer_gc(lua_State *L) {
  rt_refl_free(luaL_checkudata(L, 1, ANSWER_MT));
  return 0;
}

static int run_query(rt_connection *c, enum query q, const char *schema,
                     const char *table, rt_refl *out, int *exists,
                     rt_error *err) {
  switch (q) {
  case Q_TABLES:
    return rt_reflect_table_names(c, schema, out, err);
  case Q_VIEWS:
    return rt_reflect_view_names(c, schema, out, err);
  case Q_SCHEMAS:
    return rt_reflect_schema_names(c, out, err);
  case Q_HAS_TABLE:
    return rt_reflect_has_table(c, schema, table, exists, err);
  case Q_COLUMNS:
    return rt_reflect_columns(c, schema, table, out, err);
  case Q_PK:
    return rt_reflect_pk(c, schema, table, out, err);
  case Q_FKS:
    return rt_reflect_foreign_keys(c, schema, table, out, err);
  case Q_INDEXES:
    return rt_reflect_indexes(c, schema, table, out, err);
  case Q_UNIQUES:
    return rt_reflect_unique_constraints(c, schema, table, out, err);
  case Q_CHECKS:
    return rt_reflect_check_constraints(c, schema, table, out, err);
  case Q_COMMENT:
    return rt_reflect_table_comment(c, schema, table, out, err);
  case Q_SORTED:
    return rt_reflect_sorted_tables(c, schema, out, err);
  case Q_DEFAULT_SCHEMA:
    return rt_reflect_default_schema(c, out, err);
  case Q_SEQUENCES:
    return rt_reflect_sequence_names(c, schema, out, err);
  case Q_HAS_SEQUENCE:
    return rt_reflect_has_sequence(c, schema, table, exists, err);
  case Q_VIEW_DEF:
    return rt_reflect_view_definition(c, schema, table, out, err);
  }
  return rt_error_set(err, RT_EARGUMENT, "unknown reflection query");
}

/*
** Ask the Inspector at index 1.  Pushes the answer userdata and returns it;
** *dialect is the engine's dialect name.
*/
static rt_refl *ask(lua_State *L, enum query q, const char *schema,
                    const char *table, int *exists, const char **dialect) {
  rt_error err = RT_ERROR_INIT;
  rt_refl *out;
  rt_engine *e;
  lconn *lc;
  int rc;
  luaL_checkudata(L, 1, INSPECTOR_MT);
  lua_getiuservalue(L, 1, 1);
  e = rt_lua_toengine(L, -1);
  lc = rt_lua_toconn(L, -1);
  lua_pop(L, 1);
  if (lc && lc->c.closed)
    rt_lua_error(L, RT_ERESOURCECLOSED, "This Connection is closed");
  if (e == NULL && lc == NULL)
    rt_lua_error(L, RT_EINVALIDREQUEST, "this Inspector's Engine was freed");
  out = lua_newuserdatauv(L, sizeof *out, 0);
  rt_refl_init(out);
  luaL_setmetatable(L, ANSWER_MT);
  /* freed when the method returns or raises, not at some later
  ** collection: a finalizer that cannot be called (no memory for its
  ** call while allocations fail) is never tried again */
  lua_toclose(L, -1);
  if (lc) {
    *dialect = lc->c.engine->dialect;
    rc = run_query(&lc->c, q, schema, table, out, exists, &err);
  } else {
    rt_connection c;
    *dialect = e->dialect;
    rt_connection_init(&c, e);
    rc = run_query(&c, q, schema, table, out, exists, &err);
    rt_connection_close(&c);
  }
  if (rc != 0) rt_lua_raise(L, &err);
  return out;
}

/* get_x(table [, schema]) or get_x(table, {schema = ...}) */
static const char *opt_schema(lua_State *L, int idx) {
  if (lua_istable(L, idx)) {
    lua_getfield(L, idx, "schema");
    lua_replace(L, idx);
  }
  if (lua_isnoneornil(L, idx)) return NULL;
  return luaL_checkstring(L, idx);
}

static const char *check_table(lua_State *L, const char *fname) {
  rt_lua_checkarg(L, 2, LUA_TSTRING, fname);
  return lua_tostring(L, 2);
}

static void push_str(lua_State *L, const char *s) {
  if (s)
    lua_pushstring(L, s);
  else
    lua_pushnil(L);
}

static void set_str(lua_State *L, const char *k, const char *s) {
  push_str(L, s);
  lua_setfield(L, -2, k);
}

/* A list of names; a NULL entry becomes sa.null (Python's None in a
** set). */
static void push_names(lua_State *L, const rt_names *l) {
  int i;
  lua_createtable(L, l->n, 0);
  for (i = 0; i < l->n; i++) {
    if (l->v[i])
      lua_pushstring(L, l->v[i]);
    else
      rt_lua_pushnull(L);
    lua_rawseti(L, -2, i + 1);
  }
}

static int names_query(lua_State *L, enum query q) {
  const char *dialect;
  const char *schema = q == Q_SCHEMAS ? NULL : opt_schema(L, 2);
  rt_refl *r = ask(L, q, schema, NULL, NULL, &dialect);
  push_names(L, &r->names);
  return 1;
}

static int insp_table_names(lua_State *L) {
  return names_query(L, Q_TABLES);
}

static int insp_view_names(lua_State *L) {
  return names_query(L, Q_VIEWS);
}

static int insp_schema_names(lua_State *L) {
  return names_query(L, Q_SCHEMAS);
}

static int insp_has_table(lua_State *L) {
  const char *dialect, *table = check_table(L, "has_table");
  int exists = 0;
  ask(L, Q_HAS_TABLE, opt_schema(L, 3), table, &exists, &dialect);
  lua_pushboolean(L, exists);
  return 1;
}

/* has_index(table, name [, schema]): false for a missing table, as
** SQLAlchemy's dialects answer */
static int insp_has_index(lua_State *L) {
  const char *dialect, *table = check_table(L, "has_index"), *schema;
  const char *name;
  rt_refl *r;
  int exists = 0, i;
  rt_lua_checkarg(L, 3, LUA_TSTRING, "has_index");
  name = lua_tostring(L, 3);
  schema = opt_schema(L, 4);
  ask(L, Q_HAS_TABLE, schema, table, &exists, &dialect);
  if (exists) {
    r = ask(L, Q_INDEXES, schema, table, NULL, &dialect);
    exists = 0;
    for (i = 0; i < r->nindexes && !exists; i++)
      exists = r->indexes[i].name && strcmp(r->indexes[i].name, name) == 0;
  }
  lua_pushboolean(L, exists);
  return 1;
}

/* has_sequence(name [, schema]) */
static int insp_has_sequence(lua_State *L) {
  const char *dialect, *name = check_table(L, "has_sequence");
  int exists = 0;
  ask(L, Q_HAS_SEQUENCE, opt_schema(L, 3), name, &exists, &dialect);
  lua_pushboolean(L, exists);
  return 1;
}

static int insp_sequence_names(lua_State *L) {
  return names_query(L, Q_SEQUENCES);
}

/* get_view_definition(view [, schema]): the text, or nil */
static int insp_view_definition(lua_State *L) {
  const char *dialect, *view = check_table(L, "get_view_definition");
  rt_refl *r = ask(L, Q_VIEW_DEF, opt_schema(L, 3), view, NULL, &dialect);
  push_str(L, r->text);
  return 1;
}

/* The column's type: the declared text, or what the types module makes of
** it. */
static void push_type(lua_State *L, const char *dialect, const char *text) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, TYPE_FROM_SQL) != LUA_TFUNCTION) {
    /* no override: the generic type the server's text maps to */
    rt_type **box;
    lua_pop(L, 1);
    box = lsql_newtype(L);
    *box = rt_reflect_type(dialect, text ? text : "");
    if (*box == NULL) rt_lua_error(L, RT_EMEMORY, "out of memory");
    return;
  }
  lua_pushstring(L, dialect);
  push_str(L, text);
  lua_call(L, 2, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    push_str(L, text);
  }
}

/* identity = {always, start, increment, minvalue, maxvalue, cache,
** cycle}, numbers as numbers */
static void push_identity(lua_State *L, const rt_refl_column *col) {
  static const char *const keys[6] = {"start",    "increment", "minvalue",
                                      "maxvalue", "cache",     "cycle"};
  int k;
  lua_createtable(L, 0, 7);
  lua_pushboolean(L, col->identity == RT_IDENTITY_ALWAYS);
  lua_setfield(L, -2, "always");
  for (k = 0; k < 5; k++) {
    if (col->seq[k] == NULL || lua_stringtonumber(L, col->seq[k]) == 0)
      lua_pushnil(L);
    lua_setfield(L, -2, keys[k]);
  }
  lua_pushboolean(L, rt_refl_truthy(col->seq[5]));
  lua_setfield(L, -2, keys[5]);
  lua_setfield(L, -2, "identity");
}

static int insp_columns(lua_State *L) {
  const char *dialect, *table = check_table(L, "get_columns");
  rt_refl *r = ask(L, Q_COLUMNS, opt_schema(L, 3), table, NULL, &dialect);
  int i;
  lua_createtable(L, r->ncols, 0);
  for (i = 0; i < r->ncols; i++) {
    const rt_refl_column *col = &r->cols[i];
    lua_createtable(L, 0, 7);
    set_str(L, "name", col->name);
    push_type(L, dialect, col->type);
    lua_setfield(L, -2, "type");
    lua_pushboolean(L, col->nullable);
    lua_setfield(L, -2, "nullable");
    set_str(L, "default", col->dflt);
    switch (col->autoincrement) {
    case RT_AUTOINC_AUTO:
      lua_pushliteral(L, "auto");
      break;
    case RT_AUTOINC_UNSET:
      lua_pushnil(L);
      break;
    default:
      lua_pushboolean(L, col->autoincrement == RT_AUTOINC_TRUE);
    }
    lua_setfield(L, -2, "autoincrement");
    set_str(L, "comment", col->comment);
    if (col->report_pk) {
      lua_pushinteger(L, col->pk);
      lua_setfield(L, -2, "primary_key");
    }
    if (col->identity) push_identity(L, col);
    if (col->computed) {
      lua_createtable(L, 0, 2);
      set_str(L, "sqltext", col->computed_sqltext);
      lua_pushboolean(L, col->computed == RT_COMPUTED_STORED);
      lua_setfield(L, -2, "persisted");
      lua_setfield(L, -2, "computed");
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int insp_pk(lua_State *L) {
  const char *dialect, *table = check_table(L, "get_pk_constraint");
  rt_refl *r = ask(L, Q_PK, opt_schema(L, 3), table, NULL, &dialect);
  lua_createtable(L, 0, 2);
  push_names(L, &r->pk.cols);
  lua_setfield(L, -2, "constrained_columns");
  set_str(L, "name", r->pk.name);
  return 1;
}

static int insp_fks(lua_State *L) {
  const char *dialect, *table = check_table(L, "get_foreign_keys");
  rt_refl *r = ask(L, Q_FKS, opt_schema(L, 3), table, NULL, &dialect);
  int i;
  lua_createtable(L, r->nfks, 0);
  for (i = 0; i < r->nfks; i++) {
    const rt_refl_fk *fk = &r->fks[i];
    lua_createtable(L, 0, 6);
    set_str(L, "name", fk->name);
    push_names(L, &fk->cols);
    lua_setfield(L, -2, "constrained_columns");
    set_str(L, "referred_schema", fk->refschema);
    set_str(L, "referred_table", fk->reftable);
    push_names(L, &fk->refcols);
    lua_setfield(L, -2, "referred_columns");
    lua_createtable(L, 0, 2);
    set_str(L, "ondelete", fk->ondelete);
    set_str(L, "onupdate", fk->onupdate);
    if (fk->deferrable) {
      lua_pushboolean(L, fk->deferrable == RT_REFL_DEFERRABLE);
      lua_setfield(L, -2, "deferrable");
    }
    set_str(L, "initially", fk->initially);
    set_str(L, "match", fk->match);
    lua_setfield(L, -2, "options");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* A SQL fragment the way SQLAlchemy reports one: sa.text(s). */
static void push_text(lua_State *L, const char *s) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "retort");
  lua_getfield(L, -1, "text");
  lua_pushstring(L, s);
  lua_call(L, 1, 1);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* postgresql_with: the storage parameters, {fillfactor = "70"}. */
static void push_index_with(lua_State *L, const rt_names *with) {
  int k;
  lua_createtable(L, 0, with->n);
  for (k = 0; k < with->n; k++) {
    const char *eq = strchr(with->v[k], '=');
    if (eq == NULL) continue;
    lua_pushlstring(L, with->v[k], (size_t)(eq - with->v[k]));
    lua_pushstring(L, eq + 1);
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "postgresql_with");
}

/* column_sorting: {name = {"desc", "nulls_last"}} for the columns whose
** order is not the default one. */
static void push_index_sorting(lua_State *L, const rt_refl_index *ix) {
  int k;
  lua_newtable(L);
  for (k = 0; k < ix->cols.n; k++) {
    int s = ix->sorting[k], n = 0;
    if (s == 0) continue;
    lua_newtable(L);
    if (s & RT_SORT_DESC) {
      lua_pushliteral(L, "desc");
      lua_rawseti(L, -2, ++n);
    }
    if (s & RT_SORT_NULLS_FIRST) {
      lua_pushliteral(L, "nulls_first");
      lua_rawseti(L, -2, ++n);
    }
    if (s & RT_SORT_NULLS_LAST) {
      lua_pushliteral(L, "nulls_last");
      lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, -2, ix->cols.v[k]);
  }
  lua_setfield(L, -2, "column_sorting");
}

/* The index's dialect_options (and PostgreSQL's include_columns). */
static void push_index_options(lua_State *L, const char *dialect,
                               const rt_refl_index *ix) {
  lua_newtable(L);
  if (strcmp(dialect, "sqlite") == 0 && ix->where) {
    push_text(L, ix->where);
    lua_setfield(L, -2, "sqlite_where");
  }
  if (strcmp(dialect, "mysql") == 0 && ix->type) {
    lua_pushstring(L, ix->type);
    lua_setfield(L, -2, "mysql_prefix");
  }
  if (strcmp(dialect, "postgresql") == 0) {
    push_names(L, &ix->include);
    lua_setfield(L, -2, "postgresql_include");
    push_names(L, &ix->include);
    lua_setfield(L, -3, "include_columns");
    if (ix->where) {
      lua_pushstring(L, ix->where);
      lua_setfield(L, -2, "postgresql_where");
    }
    if (ix->using) {
      lua_pushstring(L, ix->using);
      lua_setfield(L, -2, "postgresql_using");
    }
    if (ix->with.n > 0) push_index_with(L, &ix->with);
  }
  lua_setfield(L, -2, "dialect_options");
}

static int insp_indexes(lua_State *L) {
  const char *dialect, *table = check_table(L, "get_indexes");
  rt_refl *r = ask(L, Q_INDEXES, opt_schema(L, 3), table, NULL, &dialect);
  int i;
  lua_createtable(L, r->nindexes, 0);
  for (i = 0; i < r->nindexes; i++) {
    const rt_refl_index *ix = &r->indexes[i];
    lua_createtable(L, 0, 4);
    set_str(L, "name", ix->name);
    push_names(L, &ix->cols);
    lua_setfield(L, -2, "column_names");
    lua_pushboolean(L, ix->unique);
    lua_setfield(L, -2, "unique");
    set_str(L, "duplicates_constraint", ix->duplicates);
    set_str(L, "type", ix->type);
    if (ix->sorting) push_index_sorting(L, ix);
    if (ix->has_dialect_options) push_index_options(L, dialect, ix);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int insp_uniques(lua_State *L) {
  const char *dialect, *table = check_table(L, "get_unique_constraints");
  rt_refl *r = ask(L, Q_UNIQUES, opt_schema(L, 3), table, NULL, &dialect);
  int i;
  lua_createtable(L, r->nuniques, 0);
  for (i = 0; i < r->nuniques; i++) {
    const rt_refl_unique *u = &r->uniques[i];
    lua_createtable(L, 0, 3);
    set_str(L, "name", u->name);
    push_names(L, &u->cols);
    lua_setfield(L, -2, "column_names");
    set_str(L, "duplicates_index", u->duplicates);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int insp_checks(lua_State *L) {
  const char *dialect, *table = check_table(L, "get_check_constraints");
  rt_refl *r = ask(L, Q_CHECKS, opt_schema(L, 3), table, NULL, &dialect);
  int i;
  lua_createtable(L, r->nchecks, 0);
  for (i = 0; i < r->nchecks; i++) {
    const rt_refl_check *ck = &r->checks[i];
    lua_createtable(L, 0, 3);
    set_str(L, "name", ck->name);
    set_str(L, "sqltext", ck->sqltext);
    if (ck->not_valid) {
      lua_createtable(L, 0, 1);
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "not_valid");
      lua_setfield(L, -2, "dialect_options");
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* {text = comment}: SQLAlchemy's shape, text nil when there is none */
static int insp_comment(lua_State *L) {
  const char *dialect, *table = check_table(L, "get_table_comment");
  rt_refl *r = ask(L, Q_COMMENT, opt_schema(L, 3), table, NULL, &dialect);
  lua_createtable(L, 0, 1);
  set_str(L, "text", r->comment);
  return 1;
}

/*
** {{"parent", {}}, {"child", {"fk_a", null}}, ..., {nil, {{"t", "fk"}}}}:
** SQLAlchemy's list of (name, set of key names) pairs, the last pair
** (None, [(table, key name), ...]) holding keys set aside for cycles.
*/
static int insp_sorted(lua_State *L) {
  const char *dialect;
  rt_refl *r = ask(L, Q_SORTED, opt_schema(L, 2), NULL, NULL, &dialect);
  int i, k;
  lua_createtable(L, r->nsorted, 0);
  for (i = 0; i < r->nsorted; i++) {
    const rt_refl_sorted *s = &r->sorted[i];
    lua_createtable(L, 2, 0);
    if (s->table) {
      lua_pushstring(L, s->table);
      lua_rawseti(L, -2, 1);
      push_names(L, &s->fknames);
    } else {
      lua_createtable(L, s->fknames.n, 0);
      for (k = 0; k < s->fknames.n; k++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, s->fktables.v[k]);
        lua_rawseti(L, -2, 1);
        if (s->fknames.v[k])
          lua_pushstring(L, s->fknames.v[k]);
        else
          rt_lua_pushnull(L);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, k + 1);
      }
    }
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int insp_index(lua_State *L) {
  const char *k;
  luaL_checkudata(L, 1, INSPECTOR_MT);
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "bind") == 0)
    lua_getiuservalue(L, 1, 1);
  else if (strcmp(k, "default_schema_name") == 0) {
    const char *dialect;
    lua_settop(L, 1);
    push_str(L, ask(L, Q_DEFAULT_SCHEMA, NULL, NULL, NULL, &dialect)->text);
  } else if (strcmp(k, "engine") == 0 || strcmp(k, "dialect") == 0) {
    lua_getiuservalue(L, 1, 1);
    if (rt_lua_toconn(L, -1) || strcmp(k, "dialect") == 0)
      lua_getfield(L, -1, k);
  } else {
    luaL_getmetafield(L, 1, "__methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

static int insp_tostring(lua_State *L) {
  lua_pushfstring(L, "<Inspector at %p>", lua_topointer(L, 1));
  return 1;
}

/* inspect(obj): an Inspector for an Engine or a Connection; other objects
** go to the hook the ORM registers. */
static int l_inspect(lua_State *L) {
  lua_settop(L, 1);
  if (rt_lua_toengine(L, 1) || rt_lua_toconn(L, 1)) {
    lua_newuserdatauv(L, 0, 1);
    luaL_setmetatable(L, INSPECTOR_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
  }
  if (lua_getfield(L, LUA_REGISTRYINDEX, INSPECT_HOOK) == LUA_TFUNCTION) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (!lua_isnil(L, -1)) return 1;
  }
  if (luaL_getmetafield(L, 1, "__name") == LUA_TSTRING)
    return rt_lua_error(
        L, RT_ENOINSPECTION,
        "No inspection system is available for object of type %s",
        lua_tostring(L, -1));
  return rt_lua_error(L, RT_ENOINSPECTION,
                      "No inspection system is available for object of type "
                      "%s",
                      luaL_typename(L, 1));
}

static const luaL_Reg insp_methods[] = {
    {"get_table_names", insp_table_names},
    {"get_view_names", insp_view_names},
    {"get_schema_names", insp_schema_names},
    {"has_table", insp_has_table},
    {"has_index", insp_has_index},
    {"has_sequence", insp_has_sequence},
    {"get_sequence_names", insp_sequence_names},
    {"get_view_definition", insp_view_definition},
    {"get_columns", insp_columns},
    {"get_pk_constraint", insp_pk},
    {"get_foreign_keys", insp_fks},
    {"get_indexes", insp_indexes},
    {"get_unique_constraints", insp_uniques},
    {"get_check_constraints", insp_checks},
    {"get_table_comment", insp_comment},
    {"get_sorted_table_and_fkc_names", insp_sorted},
    {NULL, NULL}};

void rt_lua_open_inspect(lua_State *L) {
  luaL_newmetatable(L, ANSWER_MT);
  lua_pushcfunction(L, answer_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, answer_gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  luaL_newmetatable(L, INSPECTOR_MT);
  lua_newtable(L);
  luaL_setfuncs(L, insp_methods, 0);
  lua_setfield(L, -2, "__methods");
  lua_pushcfunction(L, insp_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, insp_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_inspect);
  lua_setfield(L, -2, "inspect");
}
