/*
** orm/lorm.c -- mapped instances: their state, attribute access with change
** tracking, and building them from rows through an identity map.
**
** An instance is one full userdata.  The C part (linst) holds its
** lifecycle, the id of the session it belongs to and one flag byte per
** column attribute (loaded? modified?).  The user values hold the Lua
** side:
**
**   UV_CLASS      the mapped class (a Lua table)
**   UV_EXTRAS     a table of attributes that are not mapped, or nil
**   UV_COMMITTED  attribute index -> value as last loaded, for modified
**                 attributes only (NULL stands as sa.null), or nil; or
**                 that value itself when one attribute is modified
**                 (see rt_orm_set_committed in orm/lorm.h)
**   UV_IDENTITY   the primary key it was loaded or inserted with: the value
**                 itself for a one-column key, else a list, or nil
**   UV_VALUES...  the current value of each column attribute, in the
**                 mapper's attribute order
**
** __index/__newindex are closures made per class with the mapper's key ->
** index table as upvalue 1, so reading an attribute is one raw lookup and
** one user value fetch; a write remembers the committed value once and
** flags the attribute, which is all dirty checking needs.  The session,
** the unit of work and declarative mapping are Lua on top of these
** primitives: the files of orm/, laid out as SQLAlchemy's orm package
** is, and run in this order (orm_lua_names in orm/meson.build):
**
**   base.lua             errors, object descriptions, the hooks C calls,
**                        live sessions by id, relationship state keys
**   events.lua           event.listen/remove; engine and session events
**   identity.lua         identity maps and identity keys
**   mapper.lua           Mapper, relationship registration, configure(),
**                        cascade iteration
**   decl_api.lua         declarative_base, registry, Base:class,
**                        declared_attr, map_imperatively
**   relationships.lua    relationship()/backref(), resolving joins and
**                        foreign keys, ON clauses, any/has/contains/eq/
**                        with_parent
**   collections.lua      list/set collections, assignment, change records,
**                        backref sync, attribute events
**   session.lua          Session, sessionmaker, SessionTx; add/delete/
**                        expunge/expire/refresh/merge/get, flush,
**                        commit/rollback, execute
**   strategy_options.lua selectinload/joinedload/... and Load paths;
**                        select():options(), join(User.addresses)
**   loading.lua          ORMResult, rows into objects, load by primary key
**   strategies.lua       lazy, selectin and joined loading; load plans
**   unitofwork.lua       flush order: table ranks, presort, delete levels,
**                        applying a flush's outcome
**   persistence.lua      INSERT/UPDATE/DELETE batches, post_update,
**                        association rows
**   query.lua            the legacy Query
**   inspection.lua       inspect(): InstanceState, attribute history
**   properties.lua       column_property, deferred columns and their
**                        loader options (defer, undefer, load_only)
**   descriptor_props.lua synonym, composite, hybrid_property, validates
**   versioning.lua       version_id_col, eager_defaults
**   bulk_persistence.lua execution options of statements, yield_per,
**                        bulk UPDATE/DELETE with synchronize_session
**   inheritance.lua      joined and single table inheritance: subclass
**                        mappers, polymorphic loading, selects of
**                        subclasses, with_polymorphic, a hierarchy's flush
**   concrete.lua         concrete table inheritance: polymorphic_union,
**                        ConcreteBase, AbstractConcreteBase
**   automap.lua          automap_base, DeferredReflection
**   ext/horizontal_shard.lua  ShardedSession (last: it wraps the session,
**                        the loading hooks and the Query)
**   expired_load.lua     loading expired attributes, refresh(), the
**                        flush's load of an expired primary key
**   compile_form.lua     tostring/compile() of an ORM select as it runs
**   result_views.lua     an ORM result's fetchone, keys, mappings, columns,
**                        scalars(i)
**
** Each file gets (sa, orm, C, I): the core module, the orm module table,
** the primitives below, and I, where a file puts what others use (its
** last lines) and takes what earlier files defined as locals (its first
** lines).  A function defined by a later file is called as I.name.
*/
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/dml.h"
#include "core/selectable.h"
#include "lua/lretort.h"
#include "lua/lsql.h"
#include "orm/loading.h"
#include "orm/lorm.h"
#include "orm/persistence.h"

#define INST_MT_FIELD "__instance_mt"

/* lifecycle names, in the order of the S_ values of orm/lorm.h */
static const char *const state_names[] = {"transient", "pending",  "persistent",
                                          "deleted",   "detached", NULL};

/* upvalues of the per-class closures */
#define UP_SLOTS lua_upvalueindex(1) /* key -> attribute index */
#define UP_HOOKS lua_upvalueindex(2) /* the module's hooks table */
#define UP_RELS lua_upvalueindex(3)  /* relationship key -> true */
/* (__newindex only) hooks.modified as the metatable was made: an
** attribute set calls it without looking it up */
#define UP_MODIFIED lua_upvalueindex(4)
#define UP_VIEWKEYS 4 /* 4..6: the keys to_view reads (inst_index) */
#define UP_SLOTCACHE lua_upvalueindex(7) /* (inst_index only) see below */

#define toinst rt_orm_toinst
#define checkinst rt_orm_checkinst
#define newinst rt_orm_newinst

/* Call hooks[name](args on top: n of them) -> 1 result. */
static void call_hook(lua_State *L, int hooks, const char *name, int n) {
  lua_getfield(L, hooks, name);
  lua_insert(L, -n - 1);
  lua_call(L, n, 1);
}

/* --- collection views ---
**
** An instance keeps a list or set collection as its member list: the
** members in the array part, read and written raw by the loaders, the
** flush and the cascades.  What obj.rel gives is the list's view, a table
** with no members of its own, so that every read and write of it
** reaches the metamethods: c[i] = x on a member already there replaces
** it with the events a change fires (orm/collections.lua).  A view is
** made the first time the list is read, when the list's metatable names
** the view's metatable (VIEW_MT_FIELD), and kept in the list
** (VIEW_FIELD); a keyed dict makes its view with the list.
*/

#define VIEW_FIELD "__view"
#define VIEW_MT_FIELD "__view_mt"
/* The key of a view's member list (C.LIST): a string no attribute name
** can be, so that reading it costs the least (see view_index) */
#define LIST_FIELD "\0list"

/* The keys to_view reads, upvalues of inst_index (a string pushed
** from C costs a lookup each time) */
#define UP_VIEW lua_upvalueindex(UP_VIEWKEYS)
#define UP_VIEW_MT lua_upvalueindex(UP_VIEWKEYS + 1)
#define UP_LIST lua_upvalueindex(UP_VIEWKEYS + 2)

/* The fields of the list view template at tmpl kept in its array part,
** read once with lua_next: the key "__index" (so that it is not looked
** up again), then the pairs k1, v1, k2, v2, ...; a view is then made
** with no table walk.  Returns the number of array items. */
static int template_pairs(lua_State *L, int tmpl) {
  int n = 1, i, pairs;
  lua_newtable(L);
  pairs = lua_gettop(L);
  lua_pushliteral(L, "__index");
  lua_rawseti(L, pairs, 1);
  lua_pushnil(L);
  while (lua_next(L, tmpl)) {
    lua_pushvalue(L, -2);
    lua_rawseti(L, pairs, ++n);
    lua_rawseti(L, pairs, ++n);
  }
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, pairs, i);
    lua_rawseti(L, tmpl, i);
  }
  lua_pop(L, 1);
  return n;
}

/* Push a new view of the list at l, of the metatable template at tmpl
** (a view's metatable, or one to copy).  A template with __index (a
** set's) is the view's metatable.  A list's has none: the view is its
** own metatable, the template's fields copied and __index the list, so
** that reading c[i] (every loop over a collection) goes straight to the
** list, no call (one table, made its size at once). */
static void new_view(lua_State *L, int l, int tmpl) {
  int view, n = (int)lua_rawlen(L, tmpl);
  if (n == 0) {
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, tmpl) == LUA_TNIL) n = template_pairs(L, tmpl);
    lua_pop(L, 1);
  }
  if (n == 0) {
    lua_createtable(L, 0, 1);
    view = lua_gettop(L);
    lua_pushvalue(L, tmpl);
    lua_setmetatable(L, view);
  } else {
    int i;
    lua_createtable(L, 0, n / 2 + 2); /* + __index, the list's key */
    view = lua_gettop(L);
    for (i = 2; i < n; i += 2) {
      lua_rawgeti(L, tmpl, i);
      lua_rawgeti(L, tmpl, i + 1);
      lua_rawset(L, view);
    }
    lua_rawgeti(L, tmpl, 1); /* "__index" */
    lua_pushvalue(L, l);
    lua_rawset(L, view);
    lua_pushvalue(L, view);
    lua_setmetatable(L, view);
  }
  lua_pushvalue(L, UP_LIST);
  lua_pushvalue(L, l);
  lua_rawset(L, view);
}

/* The value on top, a member list, replaced by its view (made when it
** has none yet); any other value stays as it is.  (In inst_index: its
** upvalues hold the keys.) */
static void to_view(lua_State *L) {
  int l = lua_gettop(L);
  if (lua_type(L, l) != LUA_TTABLE) return;
  lua_pushvalue(L, UP_VIEW);
  if (lua_rawget(L, l) != LUA_TNIL) {
    lua_replace(L, l);
    return;
  }
  lua_pop(L, 1);
  if (!lua_getmetatable(L, l)) return;
  lua_pushvalue(L, UP_VIEW_MT);
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_settop(L, l);
    return;
  }
  new_view(L, l, lua_gettop(L));
  lua_pushvalue(L, UP_VIEW);
  lua_pushvalue(L, -2);
  lua_rawset(L, l);
  lua_replace(L, l);
  lua_settop(L, l);
}

/* Push the keys to_view reads, as inst_index's upvalues. */
static void push_view_keys(lua_State *L) {
  lua_pushliteral(L, VIEW_FIELD);
  lua_pushliteral(L, VIEW_MT_FIELD);
  lua_pushlstring(L, LIST_FIELD, sizeof LIST_FIELD - 1);
}

/* C.new_list(items, ownerkey, owner, relkey, rel, mt) -> a member list:
** items' members (items may be nil) in a new table of metatable mt, its
** owner and relationship set, with room for its view: made whole at
** once, nothing set later makes the table grow. */
static int l_new_list(lua_State *L) {
  lua_Integer n = 0, i;
  if (!lua_isnil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    n = (lua_Integer)lua_rawlen(L, 1);
  }
  luaL_checktype(L, 6, LUA_TTABLE);
  lua_settop(L, 6);
  lua_createtable(L, n < INT_MAX ? (int)n : 0, 3);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    lua_rawseti(L, 7, i);
  }
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, 7);
  lua_pushvalue(L, 4);
  lua_pushvalue(L, 5);
  lua_rawset(L, 7);
  lua_pushvalue(L, 6);
  lua_setmetatable(L, 7);
  return 1;
}

/* C.own_list(items, ownerkey, owner, relkey, rel, mt) -> items made a
** member list: for a list a loader has just built and nothing else
** holds.  Its members are copied into a table made with room for the
** fields (as C.new_list): items has no hash part (a loader fills its
** array), and setting the owner, the relationship and then the view in
** it would rehash the whole table three times. */
static int l_own_list(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_getmetatable(L, 1))
    return luaL_error(L, "own_list: the table has a metatable");
  return l_new_list(L);
}

/* A view's __index (made by C.view_index(methods [, other])): an
** integer reads the member at that place; a name its method from
** methods (each takes the view); anything else goes to other(list, key)
** or is read raw from the list.  In C: loops over a collection read
** every member through here. */
static int view_index(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_rawget(L, 1);
  if (lua_isinteger(L, 2)) {
    lua_rawgeti(L, 3, lua_tointeger(L, 2));
    return 1;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (lua_isnil(L, lua_upvalueindex(2))) {
    lua_pushvalue(L, 2);
    lua_rawget(L, 3);
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 3);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

static int l_view_index(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushlstring(L, LIST_FIELD, sizeof LIST_FIELD - 1);
  lua_pushcclosure(L, view_index, 3);
  return 1;
}

/* A view's __len: its list's */
static int l_view_len(lua_State *L) {
  lua_pushlstring(L, LIST_FIELD, sizeof LIST_FIELD - 1);
  if (lua_rawget(L, 1) != LUA_TTABLE) return luaL_error(L, "not a view");
  lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
  return 1;
}

/* --- attribute access --- */

/*
** The slot cache of a class's __index: the attribute keys read lately,
** by the address of their string, so that reading an attribute (every
** obj.x) costs no table lookup.  Direct-mapped by that address; each
** entry's string is kept alive as a user value of the cache, so an
** address there is always the same string (a short string is one object
** in Lua: any equal key has that address; a long one that is another
** object only misses).  Only hits of the slots table are cached, and a
** mapping only adds keys to it once instances exist.
*/
#define SLOTCACHE_SIZE 16
typedef struct slotcache {
  const char *key[SLOTCACHE_SIZE];
  int idx[SLOTCACHE_SIZE];
} slotcache;

static unsigned slotcache_pos(const char *k) {
  uintptr_t a = (uintptr_t)k;
  return (unsigned)((a >> 4) ^ (a >> 9)) & (SLOTCACHE_SIZE - 1);
}

/* The slot index of the key at 2 (a string, read in place) or 0; a hit
** of the slots table is remembered. */
static int slot_of(lua_State *L) {
  slotcache *c = lua_touserdata(L, UP_SLOTCACHE);
  const char *k = lua_tostring(L, 2);
  unsigned h = slotcache_pos(k);
  int i;
  if (c->key[h] == k) return c->idx[h];
  lua_pushvalue(L, 2);
  if (lua_rawget(L, UP_SLOTS) != LUA_TNUMBER) {
    lua_pop(L, 1);
    return 0;
  }
  i = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, UP_SLOTCACHE, (int)h + 1);
  c->key[h] = k;
  c->idx[h] = i;
  return i;
}

/* obj[key], every case (inst_index has tried the common one); out of
** line, so that the common one saves no registers */
static __attribute__((noinline)) int index_slow(lua_State *L) {
  linst *o = lua_touserdata(L, 1);
  int i = 0;
  if (lua_type(L, 2) == LUA_TSTRING)
    i = slot_of(L);
  else {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, UP_SLOTS) == LUA_TNUMBER) i = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (i > 0) {
    /* (an attribute mapped after the object was made has no slot in it:
    ** not loaded) */
    if (i <= o->nattrs && (o->attr[i - 1] & A_LOADED)) {
      lua_getiuservalue(L, 1, UV_VALUES + i - 1);
      return 1;
    }
    if (i <= o->nattrs && (o->attr[i - 1] & A_ABSENT)) {
      lua_pushnil(L);
      return 1;
    }
    if (o->lifecycle == S_PERSISTENT || o->lifecycle == S_DELETED ||
        o->lifecycle == S_DETACHED) {
      /* expired: the session loads it (or raises for a detached one) */
      lua_pushvalue(L, 1);
      lua_pushvalue(L, 2);
      call_hook(L, UP_HOOKS, "load_expired", 2);
      return 1;
    }
    lua_pushnil(L);
    return 1;
  }
  if (lua_type(L, 2) == LUA_TSTRING &&
      strcmp(lua_tostring(L, 2), "__class__") == 0)
    return lua_getiuservalue(L, 1, UV_CLASS), 1;
  /* a loaded relationship is kept among the extras */
  if (lua_getiuservalue(L, 1, UV_EXTRAS) == LUA_TTABLE) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) != LUA_TNIL) {
      /* a collection's member list is read through its view */
      to_view(L);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, UP_RELS) != LUA_TNIL) {
    /* not loaded yet: the session decides (lazy load, empty, raise) */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    call_hook(L, UP_HOOKS, "rel_get", 2);
    to_view(L);
    return 1;
  }
  lua_pop(L, 1);
  lua_getiuservalue(L, 1, UV_CLASS);
  lua_pushvalue(L, 2);
  lua_gettable(L, -2);
  return 1;
}

/* obj[key]: a loaded column attribute whose name is in the slot cache
** (nearly every read) straight, anything else by index_slow */
static int inst_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    const slotcache *c = lua_touserdata(L, UP_SLOTCACHE);
    const char *k = lua_tostring(L, 2);
    unsigned h = slotcache_pos(k);
    if (c->key[h] == k) {
      const linst *o = lua_touserdata(L, 1);
      int i = c->idx[h];
      if (i <= o->nattrs && (o->attr[i - 1] & A_LOADED)) {
        lua_getiuservalue(L, 1, UV_VALUES + i - 1);
        return 1;
      }
    }
  }
  return index_slow(L);
}

/* The committed value of attribute i is remembered before its first
** change; NULL is kept as sa.null (a table cannot hold nil). */
static void remember_committed(lua_State *L, linst *o, int i) {
  lua_getiuservalue(L, 1, UV_VALUES + i - 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    rt_lua_pushnull(L);
  }
  rt_orm_set_committed(L, 1, o, i);
}

static int inst_newindex(lua_State *L) {
  linst *o = lua_touserdata(L, 1);
  lua_settop(L, 3);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, UP_SLOTS) == LUA_TNUMBER) {
    int i = (int)lua_tointeger(L, -1);
    unsigned char *a;
    lua_pop(L, 1);
    if (i > o->nattrs) /* its values were laid out before the mapping grew */
      return luaL_error(L,
                        "attribute '%s' was mapped after this object was "
                        "made: it has no place for it",
                        lua_tostring(L, 2));
    a = &o->attr[i - 1];
    if (!(*a & (A_LOADED | A_MODIFIED)) && o->lifecycle == S_PERSISTENT &&
        o->session) {
      /* an expired primary key or version is loaded first (SQLAlchemy's
      ** active history): the hook decides, and may load the object */
      lua_pushvalue(L, 1);
      lua_pushvalue(L, 2);
      call_hook(L, UP_HOOKS, "set_expired", 2);
      lua_pop(L, 1);
      a = &o->attr[i - 1];
    }
    /* an expired attribute of a detached object may be set as any
    ** other (SQLAlchemy's too): its committed value stays unknown */
    if (!(*a & A_MODIFIED)) {
      if (*a & A_LOADED) remember_committed(L, o, i);
      *a |= A_MODIFIED;
    }
    *a |= A_LOADED;
    if (rt_lua_isnull(L, 3)) { /* sa.null is Python's None: read as nil */
      lua_pushnil(L);
      lua_replace(L, 3);
    }
    /* a SQL expression goes into the flush's statement, not as a value:
    ** the flag lets the flush skip looking for them in other objects */
    if (lua_type(L, 3) == LUA_TUSERDATA && lsql_tonodebox(L, 3))
      o->flags |= O_SQLVALUE;
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, 1, UV_VALUES + i - 1);
    if (!(o->flags & O_MODIFIED)) {
      o->flags |= O_MODIFIED;
      if (o->lifecycle == S_PERSISTENT && o->session) {
        /* first change since the flush: the session holds it strongly */
        if (rt_orm_mark_modified(L, UP_MODIFIED, 1)) {
          /* (the session's own hook: done without a call) */
        } else if (lua_type(L, UP_MODIFIED) == LUA_TFUNCTION) {
          lua_pushvalue(L, UP_MODIFIED);
          lua_pushvalue(L, 1);
          lua_call(L, 1, 0);
        } else {
          lua_pushvalue(L, 1);
          call_hook(L, UP_HOOKS, "modified", 1);
        }
      }
    }
    return 0;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, UP_RELS) != LUA_TNIL) {
    /* relationships keep both sides and the session in step */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    call_hook(L, UP_HOOKS, "rel_set", 3);
    return 0;
  }
  lua_pop(L, 1);
  if (lua_getiuservalue(L, 1, UV_EXTRAS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, UV_EXTRAS);
  }
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, -3);
  return 0;
}

/* C.metatable(slots, hooks, tostring, rels) -> the metatable of a
** class's instances (rels: the relationship keys, filled in later) */
static int l_metatable(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 4);
  push_view_keys(L);
  memset(lua_newuserdatauv(L, sizeof(slotcache), SLOTCACHE_SIZE), 0,
         sizeof(slotcache));
  lua_pushcclosure(L, inst_index, 7);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 4);
  lua_getfield(L, 2, "modified");
  lua_pushcclosure(L, inst_newindex, 4);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "__tostring");
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "__orm_instance");
  return 1;
}

/* C.new(class, mt, nattrs) -> a transient instance */
static int l_new(lua_State *L) {
  int n = (int)luaL_checkinteger(L, 3);
  newinst(L, n);
  lua_pushvalue(L, 2);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, UV_CLASS);
  return 1;
}

/* --- state, for the session (Lua) --- */

/* C.isinstance(x): the one check on values users pass in, so besides the
** magic byte the metatable must be an instance metatable */
static int l_isinstance(lua_State *L) {
  int yes = toinst(L, 1) != NULL &&
            luaL_getmetafield(L, 1, "__orm_instance") != LUA_TNIL;
  lua_pushboolean(L, yes);
  return 1;
}

/* C.lifecycle(obj [, name]) -> name */
static int l_lifecycle(lua_State *L) {
  linst *o = checkinst(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    o->lifecycle = (unsigned char)luaL_checkoption(L, 2, NULL, state_names);
    return 0;
  }
  lua_pushstring(L, state_names[o->lifecycle]);
  return 1;
}

/* C.session(obj [, id]) -> id (0: none) */
static int l_session(lua_State *L) {
  linst *o = checkinst(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    o->session = luaL_checkinteger(L, 2);
    return 0;
  }
  lua_pushinteger(L, o->session);
  return 1;
}

/* Detach the instance at idx from its session (as C.lifecycle(obj,
** "detached") and C.session(obj, 0)). */
static void detach(lua_State *L, int idx) {
  linst *o = checkinst(L, idx);
  o->lifecycle = S_DETACHED;
  o->session = 0;
}

/*
** C.detach_all(t, keys [, clear]) -- every instance of t leaves its
** session: t's keys with `keys` (a set of objects), else the values of
** each table that is a value of t (the identity maps of a session).  A
** closing session's objects, in one call rather than two per object.
** With `clear`, t's entries go too (t is empty after).
*/
static int l_detach_all(lua_State *L) {
  int keys = lua_toboolean(L, 2), clear = lua_toboolean(L, 3);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_checkstack(L, 6, "detach_all");
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    if (keys)
      detach(L, 2);
    else {
      luaL_checktype(L, 3, LUA_TTABLE);
      lua_pushnil(L);
      while (lua_next(L, 3)) {
        detach(L, 5);
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
    if (clear) {
      /* (clearing a field the traversal has passed is allowed) */
      lua_pushvalue(L, 2);
      lua_pushnil(L);
      lua_rawset(L, 1);
    }
  }
  return 0;
}

/* C.raw_empty(t, k...) -> whether each field k of t, read raw, is nil,
** false or an empty table (any other value counts as not empty): a
** session's sets made on first use (see C.method_index) are empty when
** not made yet, and asking does not make them */
static int l_raw_empty(lua_State *L) {
  int n = lua_gettop(L), i;
  luaL_checktype(L, 1, LUA_TTABLE);
  for (i = 2; i <= n; i++) {
    int t;
    lua_pushvalue(L, i);
    t = lua_rawget(L, 1);
    if (t == LUA_TTABLE) {
      lua_pushnil(L);
      if (lua_next(L, -2)) {
        lua_pushboolean(L, 0);
        return 1;
      }
    } else if (lua_toboolean(L, -1)) {
      lua_pushboolean(L, 0);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* C.identity(obj [, key]) -> key; C.setidentity(obj, key|nil) */
static int l_identity(lua_State *L) {
  checkinst(L, 1);
  lua_getiuservalue(L, 1, UV_IDENTITY);
  return 1;
}

static int l_setidentity(lua_State *L) {
  checkinst(L, 1);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, UV_IDENTITY);
  return 0;
}

static int l_class(lua_State *L) {
  checkinst(L, 1);
  lua_getiuservalue(L, 1, UV_CLASS);
  return 1;
}

/* C.flags(obj, i) -> loaded, modified, absent (see A_ABSENT) */
static int l_flags(lua_State *L) {
  linst *o = checkinst(L, 1);
  int i = (int)luaL_checkinteger(L, 2);
  luaL_argcheck(L, i >= 1 && i <= o->nattrs, 2, "attribute index");
  lua_pushboolean(L, o->attr[i - 1] & A_LOADED);
  lua_pushboolean(L, o->attr[i - 1] & A_MODIFIED);
  lua_pushboolean(L, o->attr[i - 1] & A_ABSENT);
  return 3;
}

/* C.modified(obj) -> whether any attribute was set since the last flush */
static int l_modified(lua_State *L) {
  linst *o = checkinst(L, 1);
  lua_pushboolean(L, o->flags & O_MODIFIED);
  return 1;
}

/* C.get(obj, i) -> value, loaded (never loads); an attribute mapped
** after the object was made is nil, not loaded, and placeless */
static int l_get(lua_State *L) {
  linst *o = checkinst(L, 1);
  int i = (int)luaL_checkinteger(L, 2);
  luaL_argcheck(L, i >= 1, 2, "attribute index");
  if (i > o->nattrs) { /* (and a third value: true, it has no place) */
    lua_pushnil(L);
    lua_pushboolean(L, 0);
    lua_pushboolean(L, 1);
    return 3;
  }
  lua_getiuservalue(L, 1, UV_VALUES + i - 1);
  lua_pushboolean(L, o->attr[i - 1] & A_LOADED);
  return 2;
}

/* C.set(obj, i, value): set as loaded from the database (not a change) */
static int l_set(lua_State *L) {
  linst *o = checkinst(L, 1);
  int i = (int)luaL_checkinteger(L, 2);
  luaL_argcheck(L, i >= 1 && i <= o->nattrs, 2, "attribute index");
  lua_settop(L, 3);
  if (rt_lua_isnull(L, 3)) {
    lua_pushnil(L);
    lua_replace(L, 3);
  }
  lua_setiuservalue(L, 1, UV_VALUES + i - 1);
  o->attr[i - 1] |= A_LOADED;
  return 0;
}

/* C.committed(obj, i) -> value, known: the value before the change */
static int l_committed(lua_State *L) {
  linst *o = checkinst(L, 1);
  int i = (int)luaL_checkinteger(L, 2);
  if (!(o->attr[i - 1] & A_MODIFIED)) {
    lua_getiuservalue(L, 1, UV_VALUES + i - 1);
    lua_pushboolean(L, (o->attr[i - 1] & A_LOADED) != 0);
    return 2;
  }
  if (rt_orm_push_committed(L, 1, o, i) == LUA_TNIL) {
    lua_pushnil(L);
    lua_pushboolean(L, 0);
    return 2;
  }
  if (rt_lua_isnull(L, -1)) lua_pushnil(L);
  lua_pushboolean(L, 1);
  return 2;
}

/* Push value i for a statement's parameters: NULL as sa.null. */
static void push_param(lua_State *L, int obj, int i) {
  if (lua_getiuservalue(L, obj, UV_VALUES + i - 1) == LUA_TNIL) {
    lua_pop(L, 1);
    rt_lua_pushnull(L);
  }
}

/* The attributes that are columns of the table come first; keys (the
** column keys, a list) has one entry per column, so its length is where
** the attributes computed by a query (column_property) begin. */
static int table_columns(lua_State *L, int keys, linst *o) {
  int n = o->nattrs;
  /* the last attribute with a key: keys may have holes (one table's
  ** columns of an inheritance hierarchy), where # is not reliable */
  while (n > 0 && lua_rawgeti(L, keys, n) == LUA_TNIL) {
    lua_pop(L, 1);
    n--;
  }
  if (n > 0) lua_pop(L, 1);
  return n;
}

/*
** C.insert_params(obj, keys [, none]) -> params, signature: the loaded
** attributes (keys[i] names attribute i's column) as a map, and a string
** saying which are present, so rows with the same set batch into one
** executemany.  Attributes never set whose index is a key of `none` (no
** default of any kind) are sent as NULL, as SQLAlchemy does.
*/
/*
** Does an INSERT of the instance at obj set attribute i from its value?
** Loaded, and not nil: SQLAlchemy leaves a None out of the INSERT (so a
** column default applies; one without any is sent as NULL all the same).
*/
int rt_orm_insert_sets(lua_State *L, int obj, linst *o, int i) {
  int isnil;
  if (!(o->attr[i - 1] & A_LOADED)) return 0;
  isnil = lua_getiuservalue(L, obj, UV_VALUES + i - 1) == LUA_TNIL;
  lua_pop(L, 1);
  return !isnil;
}

static int l_insert_params(lua_State *L) {
  linst *o = checkinst(L, 1);
  char sig[256];
  int i, n = o->nattrs < 255 ? o->nattrs : 255, ncols;
  int none = lua_istable(L, 3) ? 3 : 0;
  luaL_checktype(L, 2, LUA_TTABLE);
  ncols = table_columns(L, 2, o);
  if (n > ncols) n = ncols;
  lua_createtable(L, 0, ncols);
  for (i = 1; i <= ncols; i++) {
    int on = rt_orm_insert_sets(L, 1, o, i);
    if (!on && none) {
      on = lua_rawgeti(L, none, i) != LUA_TNIL;
      lua_pop(L, 1);
    }
    /* an attribute without a key here lives in another table */
    if (on && lua_rawgeti(L, 2, i) == LUA_TNIL) {
      lua_pop(L, 1);
      on = 0;
    }
    if (i <= n) sig[i - 1] = on ? '1' : '0';
    if (!on) continue;
    push_param(L, 1, i);
    lua_rawset(L, -3);
  }
  lua_pushlstring(L, sig, (size_t)n);
  return 2;
}

static int values_equal(lua_State *L, int a, int b) {
  if (lua_rawequal(L, a, b)) return 1;
  if (rt_lua_isnull(L, a) && lua_isnil(L, b)) return 1;
  if (lua_isnil(L, a) && rt_lua_isnull(L, b)) return 1;
  /* 1 and 1.0 are the same value for the database */
  if (lua_type(L, a) == LUA_TNUMBER && lua_type(L, b) == LUA_TNUMBER)
    return lua_compare(L, a, b, LUA_OPEQ);
  return 0;
}

/*
** C.positional(objs, i, j, order, many) -> the positional parameters of
** objs[i..j] for a statement compiled once: `order` lists per placeholder
** an attribute index, a negative identity position, or {constant}.  A
** list of lists when `many`, else the one list of objs[i].
*/
static int l_positional(lua_State *L) {
  int i = (int)luaL_checkinteger(L, 2), j = (int)luaL_checkinteger(L, 3);
  int many = lua_toboolean(L, 5), np = (int)lua_rawlen(L, 4), r, p;
  lua_settop(L, 5);
  if (many) lua_createtable(L, j - i + 1, 0); /* 6 */
  for (r = i; r <= j; r++) {
    int obj;
    lua_rawgeti(L, 1, r);
    checkinst(L, -1);
    obj = lua_gettop(L);
    lua_createtable(L, np, 0);
    for (p = 1; p <= np; p++) {
      lua_rawgeti(L, 4, p);
      rt_orm_push_ordered(L, obj, lua_gettop(L));
      lua_remove(L, -2);
      lua_rawseti(L, -2, p);
    }
    lua_remove(L, obj);
    if (!many) return 1;
    lua_rawseti(L, 6, r - i + 1);
  }
  return 1;
}

/* Has attribute i of o (at obj) a value other than its committed one? */
static int update_changed(lua_State *L, int obj, linst *o, int i) {
  int changed, top = lua_gettop(L);
  if (!(o->attr[i - 1] & A_MODIFIED)) return 0;
  lua_getiuservalue(L, obj, UV_VALUES + i - 1);
  if (rt_orm_push_committed(L, obj, o, i) != LUA_TNIL)
    changed = !values_equal(L, top + 1, top + 2);
  else
    changed = 1; /* never loaded: no committed value to compare */
  lua_settop(L, top);
  return changed;
}

/*
** C.update_sigs(objs [, ncols | keys]) -> sigs: per object the pattern
** of the attributes whose value changed since loaded, or false when none
** did; only the first ncols attributes (the table's columns) count, or
** with keys only the attributes that have a key there (the columns of one
** table of an inheritance hierarchy).
*/
static int l_update_sigs(lua_State *L) {
  int n = (int)lua_rawlen(L, 1), r, i;
  int keys = lua_istable(L, 2);
  int ncols = keys ? 255 : (int)luaL_optinteger(L, 2, 255);
  char sig[256];
  lua_settop(L, 2);
  lua_createtable(L, n, 0); /* 3 */
  for (r = 1; r <= n; r++) {
    linst *o;
    int m, any = 0;
    lua_rawgeti(L, 1, r); /* 4 */
    o = checkinst(L, 4);
    m = o->nattrs < 255 ? o->nattrs : 255;
    if (m > ncols) m = ncols;
    for (i = 1; i <= m; i++) {
      int c = update_changed(L, 4, o, i);
      if (c && keys) {
        c = lua_rawgeti(L, 2, i) != LUA_TNIL;
        lua_pop(L, 1);
      }
      sig[i - 1] = c ? '1' : '0';
      any |= c;
    }
    lua_settop(L, 3);
    if (any)
      lua_pushlstring(L, sig, (size_t)m);
    else
      lua_pushboolean(L, 0);
    lua_rawseti(L, 3, r);
  }
  return 1;
}

/*
** C.update_params(obj, keys [, pkkeys]) -> params or nil, signature:
** the modified attributes whose value differs from the committed one (an
** UPDATE sets only those), and their pattern for batching; with pkkeys,
** the identity's values are added under those names for the WHERE.
*/
static int l_update_params(lua_State *L) {
  linst *o = checkinst(L, 1);
  char sig[256];
  int i, any = 0, n = o->nattrs < 255 ? o->nattrs : 255;
  int ncols;
  luaL_checktype(L, 2, LUA_TTABLE);
  ncols = table_columns(L, 2, o);
  if (n > ncols) n = ncols;
  lua_settop(L, 3); /* 3: pkkeys or nil */
  lua_pushnil(L);   /* 4: (unused) */
  lua_newtable(L);  /* 5 */
  for (i = 1; i <= ncols; i++) {
    int changed = 0;
    if (o->attr[i - 1] & A_MODIFIED) {
      int top = lua_gettop(L);
      lua_getiuservalue(L, 1, UV_VALUES + i - 1);
      if (rt_orm_push_committed(L, 1, o, i) != LUA_TNIL)
        changed = !values_equal(L, top + 1, top + 2);
      else
        changed = 1; /* never loaded: no committed value to compare */
      lua_settop(L, top);
    }
    /* an attribute without a key here lives in another table */
    if (changed && lua_rawgeti(L, 2, i) == LUA_TNIL) {
      lua_pop(L, 1);
      changed = 0;
    }
    if (i <= n) sig[i - 1] = changed ? '1' : '0';
    if (!changed) continue;
    any = 1;
    push_param(L, 1, i);
    lua_rawset(L, 5);
  }
  if (!any) {
    lua_pushnil(L);
    return 1;
  }
  if (lua_istable(L, 3)) {
    /* the WHERE values: the primary key the row was loaded with, under
    ** the names in pkkeys */
    int npk = (int)lua_rawlen(L, 3), k;
    int single = lua_getiuservalue(L, 1, UV_IDENTITY) != LUA_TTABLE;
    for (k = 1; k <= npk; k++) {
      lua_rawgeti(L, 3, k);
      if (single)
        lua_pushvalue(L, -2);
      else
        lua_rawgeti(L, -2, k);
      lua_rawset(L, 5);
    }
    lua_pop(L, 1);
  }
  lua_pushlstring(L, sig, (size_t)n);
  return 2;
}

/*
** C.after_update(objs, pkidx) -> moved: the flushed objects' changes are
** committed; returns the list of those whose primary key attribute was
** changed (their identity must move), or nil.
*/
static int l_after_update(lua_State *L) {
  int n = (int)lua_rawlen(L, 1), npk = (int)lua_rawlen(L, 2), i, k;
  int moved = 0, pk[16];
  luaL_argcheck(L, npk <= 16, 2, "primary key size");
  lua_settop(L, 2);
  for (k = 0; k < npk; k++) {
    lua_rawgeti(L, 2, k + 1);
    pk[k] = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  for (i = 1; i <= n; i++) {
    linst *o;
    lua_rawgeti(L, 1, i);
    o = checkinst(L, -1);
    for (k = 0; k < npk; k++) {
      int a = pk[k];
      if (a >= 1 && a <= o->nattrs && (o->attr[a - 1] & A_MODIFIED)) {
        if (!moved) {
          /* the list goes below the object on top */
          lua_newtable(L);
          lua_rotate(L, -2, 1);
          moved = lua_gettop(L) - 1;
        }
        lua_pushvalue(L, -1);
        lua_rawseti(L, moved, (lua_Integer)lua_rawlen(L, moved) + 1);
        break;
      }
    }
    /* committed once its key change is noted: that needs the flags */
    for (k = 0; k < o->nattrs; k++) o->attr[k] &= (unsigned char)~A_MODIFIED;
    o->flags &= (unsigned char)~O_MODIFIED;
    rt_orm_clear_committed(L, lua_gettop(L), o);
    lua_pop(L, 1);
  }
  if (moved)
    lua_pushvalue(L, moved);
  else
    lua_pushnil(L);
  return 1;
}

/* C.extra(obj, key [, value]) -> the raw extra attribute `key`; with a
** third argument, sets it (nil removes it) without any event */
static int l_extra(lua_State *L) {
  checkinst(L, 1);
  if (lua_gettop(L) < 3) {
    if (lua_getiuservalue(L, 1, UV_EXTRAS) != LUA_TTABLE) return 0;
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
  }
  lua_settop(L, 3);
  if (lua_getiuservalue(L, 1, UV_EXTRAS) != LUA_TTABLE) {
    if (lua_isnil(L, 3)) return 0;
    lua_pop(L, 1);
    lua_createtable(L, 0, 1); /* (sized: a key goes in at once) */
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, UV_EXTRAS);
  }
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, -3);
  return 0;
}

/* C.commit(obj): the current values become the committed state */
static int l_commit(lua_State *L) {
  linst *o = checkinst(L, 1);
  int i;
  for (i = 0; i < o->nattrs; i++) o->attr[i] &= (unsigned char)~A_MODIFIED;
  o->flags &= (unsigned char)~O_MODIFIED;
  rt_orm_clear_committed(L, 1, o);
  return 0;
}

/* C.expire(obj [, list of attribute indexes]): forget loaded values (and
** pending changes) so the next access loads them */
static int l_expire(lua_State *L) {
  linst *o = checkinst(L, 1);
  int i;
  if (lua_istable(L, 2)) {
    int n = (int)lua_rawlen(L, 2), k;
    for (k = 1; k <= n; k++) {
      lua_rawgeti(L, 2, k);
      i = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
      if (i < 1 || i > o->nattrs) continue;
      o->attr[i - 1] = 0;
      lua_pushnil(L);
      lua_setiuservalue(L, 1, UV_VALUES + i - 1);
      rt_orm_drop_committed(L, 1, o, i);
    }
    for (i = 0; i < o->nattrs; i++)
      if (o->attr[i] & A_MODIFIED) return 0;
    o->flags &= (unsigned char)~O_MODIFIED;
    return 0;
  }
  for (i = 0; i < o->nattrs; i++) {
    o->attr[i] = 0;
    lua_pushnil(L);
    lua_setiuservalue(L, 1, UV_VALUES + i);
  }
  o->flags &= (unsigned char)~O_MODIFIED;
  rt_orm_clear_committed(L, 1, o);
  return 0;
}

/* --- loading rows --- */

/* Push the identity key of the row at idx: the value itself for one
** primary key column, else the values joined into a string. */
static int push_rowkey(lua_State *L, int row, const int *pkpos, int npk) {
  int k;
  if (npk == 1) return lua_rawgeti(L, row, pkpos[0]) != LUA_TNIL;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (k = 0; k < npk; k++) {
    /* the buffer must be on top when it grows: look at the type first */
    int t = lua_rawgeti(L, row, pkpos[k]);
    lua_pop(L, 1);
    if (t == LUA_TNIL) {
      luaL_pushresult(&b);
      return 0;
    }
    if (k) luaL_addchar(&b, '\x1f');
    if (t == LUA_TSTRING) luaL_addchar(&b, 's');
    lua_rawgeti(L, row, pkpos[k]);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

/* C.rowkey(values list, pk attribute indexes) -> identity key or nil */
static int l_rowkey(lua_State *L) {
  int pk[16], n = (int)lua_rawlen(L, 2), k;
  luaL_argcheck(L, n >= 1 && n <= 16, 2, "primary key size");
  for (k = 0; k < n; k++) {
    lua_rawgeti(L, 2, k + 1);
    pk[k] = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (!push_rowkey(L, 1, pk, n)) lua_pushnil(L);
  return 1;
}

/*
** C.load(rows, from, to, class, mt, nattrs, colpos, pkpos, idmap, sid,
**        populate_existing, out, outn [, gaps]) -> outn
**
** Rows from..to (Row tables: values at 1..n) become instances of `class`:
** colpos[i] is the row position of attribute i (0: not selected), pkpos
** the positions of the primary key.  An object already in the identity
** map `idmap` is reused, its unloaded attributes filled (all of them with
** `populate` true, except those with pending changes; with `populate` 2,
** populate_existing, its pending changes discarded); a new one is
** made persistent in session `sid` and entered in the map.  The objects
** are appended to `out`; with `gaps`, a row without a key (an outer
** join's empty side) appends false, so out stays aligned with the rows.
*/
static int l_load(lua_State *L) {
  enum {
    ROWS = 1,
    FROM,
    TO,
    CLASS,
    MT,
    NATTRS,
    COLPOS,
    PKPOS,
    IDMAP,
    SID,
    POPULATE,
    OUT,
    OUTN,
    GAPS,
    TOP = GAPS
  };
  int from = (int)luaL_checkinteger(L, FROM),
      to = (int)luaL_checkinteger(L, TO);
  int nattrs = (int)luaL_checkinteger(L, NATTRS);
  lua_Integer sid = luaL_checkinteger(L, SID);
  int populate = lua_toboolean(L, POPULATE);
  int discard = lua_isinteger(L, POPULATE) && lua_tointeger(L, POPULATE) == 2;
  lua_Integer outn = luaL_checkinteger(L, OUTN);
  int gaps = lua_toboolean(L, GAPS);
  int colpos[256], pkpos[16], npk, i, r;
  luaL_argcheck(L, nattrs >= 1 && nattrs <= 256, NATTRS, "attribute count");
  npk = (int)lua_rawlen(L, PKPOS);
  luaL_argcheck(L, npk >= 1 && npk <= 16, PKPOS, "primary key size");
  for (i = 0; i < nattrs; i++) {
    lua_rawgeti(L, COLPOS, i + 1);
    colpos[i] = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  for (i = 0; i < npk; i++) {
    lua_rawgeti(L, PKPOS, i + 1);
    pkpos[i] = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  lua_settop(L, TOP);
  for (r = from; r <= to; r++) {
    int row = TOP + 1, key = TOP + 2, obj = TOP + 3;
    linst *o;
    lua_rawgeti(L, ROWS, r);
    if (!push_rowkey(L, row, pkpos, npk)) {
      /* no primary key in the row (an outer join's empty side) */
      lua_settop(L, TOP);
      if (gaps) {
        lua_pushboolean(L, 0);
        lua_rawseti(L, OUT, ++outn);
      }
      continue;
    }
    lua_pushvalue(L, key);
    if (lua_rawget(L, IDMAP) != LUA_TNIL) {
      int n;
      o = lua_touserdata(L, obj);
      n = nattrs < o->nattrs ? nattrs : o->nattrs;
      for (i = 0; i < n; i++) {
        if (!colpos[i] || ((o->attr[i] & A_MODIFIED) && !discard)) continue;
        if ((o->attr[i] & A_LOADED) && !populate) continue;
        lua_rawgeti(L, row, colpos[i]);
        lua_setiuservalue(L, obj, UV_VALUES + i);
        o->attr[i] |= A_LOADED;
      }
      if (discard) {
        /* populate_existing: the row's state is the object's now, its
        ** pending changes discarded (as SQLAlchemy commits it all) */
        for (i = 0; i < o->nattrs; i++)
          o->attr[i] &= (unsigned char)~A_MODIFIED;
        o->flags &= (unsigned char)~O_MODIFIED;
        rt_orm_clear_committed(L, obj, o);
      }
    } else {
      lua_pop(L, 1);
      o = newinst(L, nattrs);
      lua_pushvalue(L, MT);
      lua_setmetatable(L, obj);
      lua_pushvalue(L, CLASS);
      lua_setiuservalue(L, obj, UV_CLASS);
      if (npk == 1)
        lua_pushvalue(L, key);
      else {
        /* a composite identity is kept as the list of its values */
        lua_createtable(L, npk, 0);
        for (i = 0; i < npk; i++) {
          lua_rawgeti(L, row, pkpos[i]);
          lua_rawseti(L, -2, i + 1);
        }
      }
      lua_setiuservalue(L, obj, UV_IDENTITY);
      for (i = 0; i < nattrs; i++) {
        if (!colpos[i]) continue;
        lua_rawgeti(L, row, colpos[i]);
        lua_setiuservalue(L, obj, UV_VALUES + i);
        o->attr[i] = A_LOADED;
      }
      o->lifecycle = S_PERSISTENT;
      o->session = sid;
      lua_pushvalue(L, key);
      lua_pushvalue(L, obj);
      lua_rawset(L, IDMAP);
    }
    lua_rawseti(L, OUT, ++outn);
    lua_settop(L, TOP);
  }
  lua_pushinteger(L, outn);
  return 1;
}

/* C.name_column(col, name): name a Column made without one (in a class
** body) before its table is built */
static int l_name_column(lua_State *L) {
  rt_node *c = lsql_checknode(L, 1, "name_column");
  const char *name = luaL_checkstring(L, 2);
  if (c->kind != RT_N_COLUMN || c->owner)
    return rt_lua_error(L, RT_EARGUMENT, "not an unattached Column");
  if (!c->name) {
    c->name = rt_strdup(name);
    lsql_check(L, c->name);
  }
  lua_pushstring(L, c->name);
  return 1;
}

/* C.column_info(col) -> name, owned?, primary key? */
static int l_column_info(lua_State *L) {
  rt_node *c = lsql_tonode(L, 1);
  if (!c || c->kind != RT_N_COLUMN) return 0;
  if (c->name)
    lua_pushstring(L, c->name);
  else
    lua_pushnil(L);
  lua_pushboolean(L, c->owner != NULL);
  lua_pushboolean(L, (c->flags & RT_F_PK) != 0);
  return 3;
}

/* C.is_table(x) -> whether x is a Table node; C.table_of(col) -> name */
static int l_node_kind(lua_State *L) {
  rt_node *n = lsql_tonodebox(L, 1);
  static const char *const kinds[] = {
      [RT_N_TABLE] = "table",       [RT_N_COLUMN] = "column",
      [RT_N_SELECT] = "select",     [RT_N_INSERT] = "insert",
      [RT_N_UPDATE] = "update",     [RT_N_DELETE] = "delete",
      [RT_N_COMPOUND] = "compound", [RT_N_TEXT] = "text",
      [RT_N_LITERAL] = "literal",   [RT_N_BIND] = "bind"};
  if (!n) return 0;
  if (n->kind < sizeof kinds / sizeof *kinds && kinds[n->kind])
    lua_pushstring(L, kinds[n->kind]);
  else
    lua_pushliteral(L, "expression");
  return 1;
}

/* C.sql_name(node) -> true when a columns clause names the expression
** after itself (a named column, literal column, label or function: what
** has a name to SQLAlchemy), else nothing, or for a CAST of a column
** (SQLAlchemy's WrapsColumnExpression) false and that column. */
static int l_sql_name(lua_State *L) {
  rt_node *n = lsql_tonodebox(L, 1);
  if (!n) return 0;
  if ((n->kind == RT_N_COLUMN || n->kind == RT_N_LITERAL ||
       n->kind == RT_N_LABEL || n->kind == RT_N_FUNC) &&
      n->name) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (n->kind == RT_N_CAST && n->a && n->a->kind == RT_N_COLUMN && n->a->name &&
      !(n->a->flags & RT_F_ANON)) {
    lua_pushboolean(L, 0);
    lsql_pushref(L, n->a);
    return 2;
  }
  return 0;
}

/* C.negated_column(node) -> the Boolean column of NOT column (SQLAlchemy's
** AsBoolean, which a columns clause names as the column), else nothing. */
static int l_negated_column(lua_State *L) {
  rt_node *n = lsql_tonodebox(L, 1);
  rt_node *col = n && n->kind == RT_N_UNARY && n->op == RT_OP_NOT ? n->a : NULL;
  if (!col || col->kind != RT_N_COLUMN || (col->flags & RT_F_ANON) ||
      !col->name || !col->type || col->type->kind != RT_TY_BOOLEAN)
    return 0;
  lsql_pushref(L, col);
  return 1;
}

/* C.select_unordered(stmt) -> a copy of a SELECT without its ORDER BY
** when it has no LIMIT or OFFSET (which the order decides), else the
** statement itself: the subquery a subqueryload joins to, as
** SQLAlchemy writes it. */
static int l_select_unordered(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "select_unordered");
  lnode *box;
  lua_settop(L, 1);
  if (s->kind != RT_N_SELECT || s->n <= RT_S_OFFSET || !s->kids[RT_S_ORDER] ||
      s->kids[RT_S_LIMIT] || s->kids[RT_S_OFFSET])
    return 1;
  box = lsql_newnode(L); /* before the copy, which it then owns */
  box->n = rt_node_copy(s);
  if (!box->n) return luaL_error(L, "out of memory");
  rt_node_setkid(box->n, RT_S_ORDER, NULL);
  return 1;
}

/* C.select_order(stmt) -> limited, {{expr, modifier}...} or nil, nests:
** whether a SELECT has LIMIT or OFFSET; its ORDER BY items, each an
** expression possibly under DESC or ASC ("desc"/"asc"; nil when some
** item is a label reference or has NULLS FIRST/LAST); and whether it has
** LIMIT, OFFSET, DISTINCT or GROUP BY, with which SQLAlchemy nests a
** statement that eagerly joins a collection in a subquery the joins are
** made to, the outer query ordered by the subquery's columns. */
static int l_select_order(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "select_order");
  rt_node *order;
  int i;
  if (s->kind != RT_N_SELECT || s->n <= RT_S_DISTINCT) return 0;
  lua_pushboolean(L, s->kids[RT_S_LIMIT] || s->kids[RT_S_OFFSET]);
  order = s->kids[RT_S_ORDER];
  lua_createtable(L, order ? order->n : 0, 0);
  for (i = 0; order && i < order->n; i++) {
    rt_node *e = order->kids[i];
    const char *mod = NULL;
    if (e->kind == RT_N_UNARY && (e->op == RT_OP_DESC || e->op == RT_OP_ASC)) {
      mod = e->op == RT_OP_DESC ? "desc" : "asc";
      e = e->a;
    }
    if (!e || (e->kind == RT_N_LITERAL && e->op == RT_LIT_LABELREF) ||
        (e->kind == RT_N_UNARY &&
         (e->op == RT_OP_NULLSFIRST || e->op == RT_OP_NULLSLAST ||
          e->op == RT_OP_DESC || e->op == RT_OP_ASC))) {
      lua_pop(L, 1);
      lua_pushnil(L);
      break;
    }
    lua_createtable(L, 2, 0);
    lsql_pushref(L, e);
    lua_rawseti(L, -2, 1);
    if (mod) {
      lua_pushstring(L, mod);
      lua_rawseti(L, -2, 2);
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushboolean(L, s->kids[RT_S_LIMIT] || s->kids[RT_S_OFFSET] ||
                         s->kids[RT_S_DISTINCT] ||
                         (s->kids[RT_S_GROUP] && s->kids[RT_S_GROUP]->n));
  return 3;
}

/* The expression n with the columns the table at stack index map lists
** (column address -> replacement column node) replaced: a new reference
** when something changed, NULL when n is unchanged.  Subqueries are left
** alone unless `deep` (an aliased class's column_property: a correlated
** subquery of the table then correlates to the alias, as SQLAlchemy's
** adapter does).  Nothing here raises (the map is only read): out of
** memory sets *oom and returns NULL, with what was built so far released. */
static rt_node *adapt_node(lua_State *L, rt_node *n, int map, int deep,
                           int *oom) {
  rt_node *copy = NULL, *sub;
  rt_node **fields[3];
  int i;
  if (!n) return NULL;
  switch (n->kind) {
  case RT_N_COLUMN: {
    rt_node *to = NULL;
    lua_pushlightuserdata(L, n);
    if (lua_rawget(L, map) != LUA_TNIL) to = lsql_tonode(L, -1);
    lua_pop(L, 1);
    return to ? rt_ref(to) : NULL;
  }
  case RT_N_SELECT:
  case RT_N_COMPOUND:
  case RT_N_SCALARSUB:
    if (!deep) return NULL;
    break;
  case RT_N_TABLE:
  case RT_N_ALIAS:
  case RT_N_TEXT:
    return NULL;
  default:
    break;
  }
  fields[0] = &n->a;
  fields[1] = &n->b;
  fields[2] = &n->c;
  for (i = 0; i < 3 + n->n && !*oom; i++) {
    rt_node *from = i < 3 ? *fields[i] : n->kids[i - 3];
    if ((sub = adapt_node(L, from, map, deep, oom)) == NULL) continue;
    if (!copy && !(copy = rt_node_copy(n))) {
      rt_unref(sub);
      *oom = 1;
      break;
    }
    if (i == 0) rt_unref(copy->a), copy->a = sub;
    if (i == 1) rt_unref(copy->b), copy->b = sub;
    if (i == 2) rt_unref(copy->c), copy->c = sub;
    if (i >= 3) rt_node_setkid(copy, i - 3, sub);
  }
  if (*oom) {
    rt_unref(copy);
    return NULL;
  }
  return copy;
}

/* C.adapt(expr, map [, deep]) -> expr with the columns map lists (column
** address -> column) replaced: a criterion on a table made one on its
** alias; `deep` goes into subqueries too.  The result's box is made first,
** so a failure leaves nothing unowned. */
static int l_adapt(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "adapt");
  lnode *box;
  int oom = 0, deep = lua_toboolean(L, 3);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  box = lsql_newnode(L);
  box->n = adapt_node(L, e, 2, deep, &oom);
  if (oom) return luaL_error(L, "out of memory");
  if (!box->n) lua_settop(L, 1);
  return 1;
}

/* C.select_items(stmt) -> for each item of a SELECT's columns clause
** {table address (light userdata) or false, width, name or nil, the
** item itself} */
static int l_select_items(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "select_items");
  rt_node *cols;
  int i;
  if (s->kind != RT_N_SELECT) return 0;
  cols = s->kids[0];
  lua_createtable(L, cols ? cols->n : 0, 0);
  for (i = 0; cols && i < cols->n; i++) {
    rt_node *c = cols->kids[i];
    lua_createtable(L, 3, 0);
    if (c->kind == RT_N_TABLE) {
      lua_pushlightuserdata(L, c);
      lua_pushinteger(L, c->n);
    } else if (c->kind == RT_N_ALIAS && c->a && c->a->kind == RT_N_TABLE) {
      /* an alias of a table: an aliased() entity when the ORM knows it */
      lua_pushlightuserdata(L, c);
      lua_pushinteger(L, c->a->n);
    } else if (c->kind == RT_N_ALIAS && c->a &&
               (c->a->kind == RT_N_SELECT || c->a->kind == RT_N_COMPOUND)) {
      /* a subquery: an aliased(User, subquery) entity when the ORM knows
      ** it, and as wide as its columns in any case */
      lua_pushlightuserdata(L, c);
      lua_pushinteger(L, c->n);
    } else {
      lua_pushboolean(L, 0);
      lua_pushinteger(L, 1);
    }
    lua_rawseti(L, -3, 2);
    lua_rawseti(L, -2, 1);
    if ((c->kind == RT_N_COLUMN || c->kind == RT_N_LABEL) && c->name) {
      lua_pushstring(L, c->kind == RT_N_COLUMN ? rt_column_key(c) : c->name);
      lua_rawseti(L, -2, 3);
    }
    lsql_pushref(L, c); /* the box first: a failure takes no reference */
    lua_rawseti(L, -2, 4);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* C.first_select(select, compound or subquery) -> the select whose
** columns a compound's rows have (its first, recursively), or nil */
static int l_first_select(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "first_select");
  if (s->kind == RT_N_ALIAS && s->a &&
      (s->a->kind == RT_N_SELECT || s->a->kind == RT_N_COMPOUND))
    s = s->a;
  while (s->kind == RT_N_COMPOUND && s->kids[RT_S_COLUMNS]->n > 0)
    s = s->kids[RT_S_COLUMNS]->kids[0];
  if (s->kind != RT_N_SELECT) return 0;
  lsql_pushref(L, s);
  return 1;
}

/* C.tablename_labels(select) -> whether its columns are labelled
** <table>_<column> (LABEL_STYLE_TABLENAME_PLUS_COL, a legacy Query's) */
static int l_tablename_labels(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "tablename_labels");
  lua_pushboolean(L, s->kind == RT_N_SELECT && (s->flags & RT_F_LS_TABLENAME));
  return 1;
}

/* Does expression `n` use a column of a table (or of an alias of a
** table) that the table at stack index `set` lists by address? */
static int uses_table(lua_State *L, const rt_node *n, int set, int depth) {
  int i, hit = 0;
  if (!n || depth > 64) return 0;
  if (n->kind == RT_N_TABLE || n->kind == RT_N_COLUMN) {
    const rt_node *t = n->kind == RT_N_TABLE ? n : n->owner;
    for (; t && !hit; t = t->kind == RT_N_ALIAS ? t->a : NULL) {
      lua_pushlightuserdata(L, (void *)t);
      hit = lua_rawget(L, set) != LUA_TNIL;
      lua_pop(L, 1);
    }
    return hit;
  }
  /* (SQLAlchemy's OVER and FILTER do not pass on the ORM's marks) */
  if (n->kind == RT_N_OVER || n->kind == RT_N_FUNCFILTER ||
      n->kind == RT_N_WITHINGROUP)
    return 0;
  if (uses_table(L, n->a, set, depth + 1) ||
      uses_table(L, n->b, set, depth + 1) ||
      uses_table(L, n->c, set, depth + 1))
    return 1;
  for (i = 0; i < n->n; i++)
    if (uses_table(L, n->kids[i], set, depth + 1)) return 1;
  return 0;
}

/* Does expression `n` use a table `set` lists by address, through a
** subquery's columns too (the proxied expression of an alias's column)? */
static int uses_mapped(lua_State *L, const rt_node *n, int set, int depth) {
  int i;
  if (!n || depth > 64) return 0;
  if (n->kind == RT_N_TABLE) return uses_table(L, n, set, depth);
  if (n->kind == RT_N_COLUMN)
    return uses_table(L, n, set, depth) || uses_mapped(L, n->a, set, depth + 1);
  if (n->kind == RT_N_OVER || n->kind == RT_N_FUNCFILTER ||
      n->kind == RT_N_WITHINGROUP)
    return 0;
  /* (a select inside, as a subquery or EXISTS, by its columns alone:
  ** its criteria do not make the enclosing statement ORM-enabled) */
  if (n->kind == RT_N_SELECT)
    return uses_mapped(L, n->kids[RT_S_COLUMNS], set, depth + 1);
  if (uses_mapped(L, n->a, set, depth + 1) ||
      uses_mapped(L, n->b, set, depth + 1) ||
      uses_mapped(L, n->c, set, depth + 1))
    return 1;
  for (i = 0; i < n->n; i++)
    if (uses_mapped(L, n->kids[i], set, depth + 1)) return 1;
  return 0;
}

/* C.uses_mapped(expr, mapped[, how]) -> whether expr (a select's columns
** clause, one of its items, a subquery) uses a table `mapped` lists by
** address: what makes a statement ORM-enabled to the Session (see
** orm_enabled in orm/session.lua).  how "subquery": false for anything
** but a subquery (a join of Tables is Core); how "item": false for a
** Table's own column (the Session tells its attribute by other means) */
static int l_uses_mapped(lua_State *L) {
  rt_node *n = lsql_tonode(L, 1);
  const char *how = luaL_optstring(L, 3, "");
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!n) return lua_pushboolean(L, 0), 1;
  if (strcmp(how, "item") == 0 && n->kind == RT_N_COLUMN &&
      (!n->owner || n->owner->kind == RT_N_TABLE))
    return lua_pushboolean(L, 0), 1;
  if (strcmp(how, "subquery") == 0) {
    if (n->kind != RT_N_ALIAS || !n->a ||
        (n->a->kind != RT_N_SELECT && n->a->kind != RT_N_COMPOUND))
      return lua_pushboolean(L, 0), 1;
    n = n->a;
  }
  if (n->kind == RT_N_SELECT) n = n->kids[RT_S_COLUMNS];
  lua_pushboolean(L, uses_mapped(L, n, 2, 0));
  return 1;
}

/* C.proxy_keys(select, mapped) -> nil unless the select's columns or
** select_from() use a table `mapped` lists by address (an ORM select to
** SQLAlchemy); else each columns-clause item's own name (SQLAlchemy's
** _proxy_key: a column's key, a label's or a function's name) or false */
static int l_proxy_keys(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "proxy_keys");
  rt_node *cols;
  int i;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (s->kind != RT_N_SELECT) return 0;
  cols = s->kids[RT_S_COLUMNS];
  if (!uses_table(L, cols, 2, 0) && !uses_table(L, s->kids[RT_S_FROMS], 2, 0))
    return 0;
  lua_createtable(L, cols ? cols->n : 0, 0);
  for (i = 0; cols && i < cols->n; i++) {
    const rt_node *c = cols->kids[i];
    if (c->kind == RT_N_COLUMN && c->name && !(c->flags & RT_F_ANON))
      lua_pushstring(L, rt_column_key(c));
    else if ((c->kind == RT_N_LABEL || c->kind == RT_N_FUNC ||
              c->kind == RT_N_LITERAL) &&
             c->name && !(c->flags & RT_F_ANON))
      lua_pushstring(L, c->name);
    else
      lua_pushboolean(L, 0);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/*
** C.select_shape(select) -> the addresses of its columns clause's items
** as one string (nil for anything else): the same string for two selects
** of the same items, so Session:execute can find what it learned of the
** first.  (Its caller keeps the items alive while it keeps the string,
** so an address is never another node's.)
*/
static int l_select_shape(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "select_shape");
  rt_node *cols;
  luaL_Buffer b;
  int i;
  if (s->kind != RT_N_SELECT || !s->kids[0]) return 0;
  cols = s->kids[0];
  luaL_buffinit(L, &b);
  for (i = 0; i < cols->n; i++)
    luaL_addlstring(&b, (const char *)&cols->kids[i], sizeof cols->kids[i]);
  luaL_pushresult(&b);
  return 1;
}

/* C.node_ptr(node) -> light userdata identifying it */
/* Collect the column = column comparisons of an AND of conditions. */
static int collect_pairs(lua_State *L, const rt_node *e, int out) {
  int other = 0, i;
  if (e->kind == RT_N_GROUPING) return collect_pairs(L, e->a, out);
  if (e->kind == RT_N_BOOLLIST && e->op == RT_OP_AND) {
    for (i = 0; i < e->n; i++) other |= collect_pairs(L, e->kids[i], out);
    return other;
  }
  if (e->kind == RT_N_BINARY && e->op == RT_OP_EQ && e->a &&
      e->a->kind == RT_N_COLUMN && e->b && e->b->kind == RT_N_COLUMN) {
    lua_createtable(L, 2, 0);
    lsql_pushref(L, e->a);
    lua_rawseti(L, -2, 1);
    lsql_pushref(L, e->b);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
    return 0;
  }
  return 1;
}

/* C.join_pairs(expr) -> {{col, col}...}, other: the column pairs a join
** condition compares for equality, and whether it has other terms */
static int l_join_pairs(lua_State *L) {
  rt_node *e = lsql_checknode(L, 1, "join_pairs");
  int other;
  lua_newtable(L);
  other = collect_pairs(L, e, lua_gettop(L));
  lua_pushboolean(L, other);
  return 2;
}

/* C.annotate(col, cls) -> col as the column attribute of class cls;
** C.annotation(x) -> the class x is an attribute of and x's column
** without the annotation, or nil */
static int l_annotate(lua_State *L) {
  luaL_checktype(L, 2, LUA_TTABLE);
  lsql_annotate(L, 1, 2);
  return 1;
}

/* C.attribute(x, label) -> x (a Node box) as a class attribute whose
** tostring() is label; any other x as it is */
static int l_attribute(lua_State *L) {
  luaL_checktype(L, 2, LUA_TSTRING);
  if (!lsql_tonodebox(L, 1)) {
    lua_settop(L, 1);
    return 1;
  }
  lsql_attribute(L, 1, 2);
  return 1;
}

static int l_annotation(lua_State *L) {
  if (!lsql_annotation(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  lsql_pushref(L, lsql_tonodebox(L, 1));
  return 2;
}

static int l_node_ptr(lua_State *L) {
  rt_node *n = lsql_checknode(L, 1, "node_ptr");
  lua_pushlightuserdata(L, n);
  return 1;
}

/* C.filter_entity(stmt) -> the address of what a SELECT's filter_by()
** works on (its last join target, else the first table or alias of its
** columns clause, as lsql.c's filter_by finds it), or nil */
static int l_filter_entity(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "filter_entity");
  rt_node *j, *cols;
  int i;
  if (s->kind != RT_N_SELECT) return 0;
  j = s->kids[RT_S_JOINS];
  cols = s->kids[RT_S_COLUMNS];
  if (j && j->n) {
    lua_pushlightuserdata(L, j->kids[j->n - 1]->b);
    return 1;
  }
  for (i = 0; cols && i < cols->n; i++) {
    rt_node *c = cols->kids[i];
    if (c->kind == RT_N_TABLE || c->kind == RT_N_ALIAS) {
      lua_pushlightuserdata(L, c);
      return 1;
    }
    if (c->kind == RT_N_COLUMN && c->owner) {
      lua_pushlightuserdata(L, c->owner);
      return 1;
    }
  }
  return 0;
}

/* C.raise(kind, message): raise a retort error of a kind by its name */
static int l_raise(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  int k;
  for (k = 1; k < RT_ERRKIND_COUNT; k++)
    if (strcmp(rt_errkind_name((rt_errkind)k), kind) == 0) break;
  if (k == RT_ERRKIND_COUNT) k = RT_ESQLALCHEMY;
  return rt_lua_error(L, (rt_errkind)k, "%s", luaL_checkstring(L, 2));
}

/* C.repr(value) -> Python-style text */
static int l_repr(lua_State *L) {
  lua_settop(L, 1);
  rt_lua_pushrepr(L, 1);
  return 1;
}

/* C.column_order(col) -> its creation number */
static int l_column_order(lua_State *L) {
  lsql_checknode(L, 1, "column_order");
  if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) return 0;
  lua_getfield(L, -1, "order");
  return 1;
}

/*
** C.copy_column(col) -> a new unattached Column with the same name, type,
** flags and defaults (a mixin's column, copied for each class).
*/
static int l_copy_column(lua_State *L) {
  rt_node *c = lsql_checknode(L, 1, "copy_column"), *n;
  rt_coldata *d = c->ext, *nd;
  lnode *ud;
  if (c->kind != RT_N_COLUMN)
    return rt_lua_error(L, RT_EARGUMENT, "copy_column: not a Column");
  ud = lsql_newnode(L);
  lua_newtable(L);
  if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -5);
    }
  }
  lua_pop(L, 1);
  lua_setiuservalue(L, -2, 1);
  ud->n = n = rt_column_new(c->name, c->type);
  lsql_check(L, n);
  n->flags = c->flags;
  nd = rt_coldata_get(n);
  lsql_check(L, nd);
  if (d) {
    nd->key = rt_strdup(d->key);
    nd->comment = rt_strdup(d->comment);
    nd->def = d->def ? rt_ref(d->def) : NULL;
    nd->server_default = d->server_default ? rt_ref(d->server_default) : NULL;
    nd->onupdate = d->onupdate ? rt_ref(d->onupdate) : NULL;
    nd->server_onupdate =
        d->server_onupdate ? rt_ref(d->server_onupdate) : NULL;
    nd->lua_default = d->lua_default;
    nd->seq = d->seq;
    nd->seqname = rt_strdup(d->seqname);
    nd->autoinc_ignore_fk = d->autoinc_ignore_fk;
  }
  return 1;
}

/* C.column_defaults(col) -> whether the column has a default of its own
** (client or server side, or a sequence), whether it is a Lua function,
** whether it has a server default, a server onupdate */
static int l_column_defaults(lua_State *L) {
  rt_node *c = lsql_checknode(L, 1, "column_defaults");
  rt_coldata *d = c->kind == RT_N_COLUMN ? c->ext : NULL;
  lua_pushboolean(
      L, d && (d->def || d->server_default || d->lua_default || d->seq));
  lua_pushboolean(L, d && d->lua_default);
  lua_pushboolean(L, d && d->server_default);
  lua_pushboolean(L, d && d->server_onupdate);
  return 4;
}

/*
** The column attribute keys of a class as their strings' addresses, so
** the constructor finds a key's index by comparing addresses: a key
** string that is short is one object in Lua (interned), and a table
** constructor's keys are such strings.  A key not found so is looked up
** in the slots table, the rule itself (a key added to it later, a long
** key).
*/
#define KEYS_MAX 64
typedef struct keycache {
  int n;
  const char *key[KEYS_MAX];
  int idx[KEYS_MAX];
} keycache;

/* The index of the key at idx (a string: read in place, it is not
** converted) by the cache, or 0. */
static int cached_index(lua_State *L, int idx, const keycache *kc) {
  const char *k = lua_tostring(L, idx);
  int j;
  for (j = 0; j < kc->n; j++)
    if (kc->key[j] == k) return kc->idx[j];
  return 0;
}

/*
** Build a transient instance of the class at cls (metatable at mt, n
** attributes, key -> index at slots, their cache kc or NULL) with the
** mapped attributes of the table at args set (sa.null as nil), pushing
** it and then the list of the keys that are not column attributes, or
** nil.  (Shared by C.construct and a class's __call, which calls it
** directly: one object per call is the hot path of building many.)
*/
static void construct(lua_State *L, int cls, int mt, int n, int slots,
                      const keycache *kc, int args) {
  int others = 0, obj;
  linst *o = newinst(L, n);
  obj = lua_gettop(L);
  lua_pushvalue(L, mt);
  lua_setmetatable(L, obj);
  lua_pushvalue(L, cls);
  lua_setiuservalue(L, obj, UV_CLASS);
  if (args == 0) {
    lua_pushnil(L);
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, args)) {
    int i = 0;
    if (kc && lua_type(L, -2) == LUA_TSTRING) i = cached_index(L, -2, kc);
    if (i == 0) {
      lua_pushvalue(L, -2);
      if (lua_rawget(L, slots) == LUA_TNUMBER) i = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    if (i >= 1 && i <= n) {
      if (rt_lua_isnull(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
      } else if (lua_type(L, -1) == LUA_TUSERDATA && lsql_tonodebox(L, -1))
        o->flags |= O_SQLVALUE; /* (see inst_newindex) */
      lua_setiuservalue(L, obj, UV_VALUES + i - 1);
      o->attr[i - 1] = A_LOADED | A_MODIFIED;
      o->flags |= O_MODIFIED;
    } else {
      lua_pop(L, 1);
      if (!others) {
        /* the list goes below the iteration key */
        lua_newtable(L);
        lua_insert(L, -2);
        others = lua_gettop(L) - 1;
      }
      lua_pushvalue(L, -1);
      lua_rawseti(L, others, (lua_Integer)lua_rawlen(L, others) + 1);
    }
  }
  if (!others) lua_pushnil(L);
}

/*
** C.construct(class, mt, nattrs, slots, args) -> obj, others
** A transient instance with the mapped attributes of the table `args` set
** (sa.null as nil); `others` lists the keys that are not column
** attributes, for the caller to check and set, or is nil.
*/
static int l_construct(lua_State *L) {
  int n = (int)luaL_checkinteger(L, 3);
  lua_settop(L, 5);
  if (!lua_isnil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  construct(L, 1, 2, n, 4, NULL, lua_isnil(L, 5) ? 0 : 5);
  return 2;
}

/* the class's __call: upvalues mt, nattrs, slots, the Lua function that
** handles keys that are not column attributes, and the key cache */
/* The registry key of the function that configures the mappers while
** some relationship waits to be resolved (or a registry failed): a
** constructor calls it first, as SQLAlchemy configures on the first
** instance (and raises a failure again on each). */
static const char pending_configure_key = 'p';

static int construct_call(lua_State *L) {
  lua_settop(L, 2); /* 1: class, 2: args */
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &pending_configure_key) ==
      LUA_TFUNCTION)
    lua_call(L, 0, 0);
  else
    lua_pop(L, 1);
  if (!lua_isnil(L, 2) && !lua_istable(L, 2))
    return rt_lua_error(L, RT_EARGUMENT,
                        "a mapped class takes a table of attributes");
  construct(L, 1, lua_upvalueindex(1),
            (int)lua_tointeger(L, lua_upvalueindex(2)), lua_upvalueindex(3),
            lua_touserdata(L, lua_upvalueindex(5)),
            lua_isnil(L, 2) ? 0 : 2); /* 3: obj, 4: others */
  if (!lua_isnil(L, 4)) {
    lua_pushvalue(L, lua_upvalueindex(4));
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 2);
    lua_call(L, 3, 0);
  }
  lua_settop(L, 3);
  return 1;
}

/* C.pending_configure(fn or nil): what constructors call first. */
static int l_pending_configure(lua_State *L) {
  lua_settop(L, 1);
  if (!lua_isnil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &pending_configure_key);
  return 0;
}

/* C.constructor(mt, nattrs, slots, slowpath) -> the class's __call.  The
** key cache holds the slots' short string keys as they are now, the
** mapping being complete when its constructor is made (a key added later
** is found in slots); the cache keeps those strings alive itself. */
static int l_constructor(lua_State *L) {
  keycache *kc;
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 4);
  kc = lua_newuserdatauv(L, sizeof(keycache), 1); /* 5 */
  kc->n = 0;
  lua_newtable(L); /* 6: the key strings */
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    size_t len;
    if (lua_type(L, -2) == LUA_TSTRING && lua_isinteger(L, -1) &&
        kc->n < KEYS_MAX) {
      const char *k = lua_tolstring(L, -2, &len);
      if (len <= 40) { /* LUAI_MAXSHORTLEN: interned */
        kc->key[kc->n] = k;
        kc->idx[kc->n++] = (int)lua_tointeger(L, -1);
        lua_pushvalue(L, -2);
        lua_rawseti(L, 6, kc->n);
      }
    }
    lua_pop(L, 1);
  }
  lua_setiuservalue(L, 5, 1);
  lua_pushcclosure(L, construct_call, 5);
  return 1;
}

/* Mark absent (A_ABSENT) the attributes of o listed in the table at idx
** (indexes) that are neither loaded nor changed. */
static void mark_absent(lua_State *L, int idx, linst *o) {
  int k, n = (int)lua_rawlen(L, idx);
  for (k = 1; k <= n; k++) {
    int i = (lua_rawgeti(L, idx, k), (int)lua_tointeger(L, -1));
    lua_pop(L, 1);
    if (i >= 1 && i <= o->nattrs && !(o->attr[i - 1] & (A_LOADED | A_MODIFIED)))
      o->attr[i - 1] |= A_ABSENT;
  }
}

/*
** C.after_insert(objs, pkidx, idmap, sid, pending, level, absent) -- the
** objects just inserted become persistent in session sid: identity from
** their primary key attributes, entered in `idmap`, removed from the
** session's `pending` set (unless nil: the caller empties it whole),
** appended to the transaction level's list, changes committed; the
** attributes listed in `absent` (or none) that the INSERT sent as NULL
** read as nil without loading.
*/
static int l_after_insert(lua_State *L) {
  int pk[16], npk = (int)lua_rawlen(L, 2), k, i, n = (int)lua_rawlen(L, 1);
  lua_Integer sid = luaL_checkinteger(L, 4);
  lua_Integer nlevel;
  int pending, absent;
  luaL_argcheck(L, npk >= 1 && npk <= 16, 2, "primary key size");
  for (k = 0; k < npk; k++) {
    lua_rawgeti(L, 2, k + 1);
    pk[k] = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  lua_settop(L, 7);
  absent = lua_istable(L, 7);
  pending = lua_istable(L, 5);
  nlevel = (lua_Integer)lua_rawlen(L, 6);
  for (i = 1; i <= n; i++) {
    linst *o;
    lua_rawgeti(L, 1, i); /* 8 */
    o = checkinst(L, 8);
    if (npk == 1) {
      lua_getiuservalue(L, 8, UV_VALUES + pk[0] - 1);
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, 8, UV_IDENTITY);
    } else {
      luaL_Buffer b;
      lua_createtable(L, npk, 0);
      for (k = 0; k < npk; k++) {
        lua_getiuservalue(L, 8, UV_VALUES + pk[k] - 1);
        lua_rawseti(L, -2, k + 1);
      }
      lua_setiuservalue(L, 8, UV_IDENTITY);
      /* the same key push_rowkey makes */
      luaL_buffinit(L, &b);
      for (k = 0; k < npk; k++) {
        int t = lua_getiuservalue(L, 8, UV_VALUES + pk[k] - 1);
        lua_pop(L, 1);
        if (k) luaL_addchar(&b, '\x1f');
        if (t == LUA_TSTRING) luaL_addchar(&b, 's');
        lua_getiuservalue(L, 8, UV_VALUES + pk[k] - 1);
        luaL_addvalue(&b);
      }
      luaL_pushresult(&b);
    }
    /* 9: key */
    lua_pushvalue(L, 8);
    lua_rawset(L, 3);
    if (pending) {
      lua_pushvalue(L, 8);
      lua_pushnil(L);
      lua_rawset(L, 5);
    }
    lua_pushvalue(L, 8);
    lua_rawseti(L, 6, ++nlevel);
    o->lifecycle = S_PERSISTENT;
    o->session = sid;
    for (k = 0; k < o->nattrs; k++) o->attr[k] &= (unsigned char)~A_MODIFIED;
    o->flags &= (unsigned char)~O_MODIFIED;
    rt_orm_clear_committed(L, 8, o);
    if (absent) mark_absent(L, 7, o);
    lua_settop(L, 7);
  }
  return 0;
}

/* C.dml_info(stmt) -> table address, list of the column keys an INSERT
** or UPDATE sets (for an INSERT, UPDATE or DELETE of a table; nothing
** otherwise) */
static int l_dml_info(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "dml_info"), *t, *vals;
  int i;
  if (s->kind != RT_N_UPDATE && s->kind != RT_N_DELETE &&
      s->kind != RT_N_INSERT)
    return 0;
  t = s->kids[RT_D_TABLE];
  if (!t || t->kind != RT_N_TABLE) return 0;
  lua_pushlightuserdata(L, t);
  vals = s->kids[RT_D_VALUES];
  lua_createtable(L, vals ? vals->n : 0, 0);
  for (i = 0; vals && i < vals->n; i++) {
    lua_pushstring(L, vals->kids[i]->name);
    lua_rawseti(L, -2, i + 1);
  }
  return 2;
}

/* Where a statement keeps its WHERE clause: SELECT, UPDATE or DELETE. */
static int where_slot(const rt_node *s) {
  if (s->kind == RT_N_SELECT) return RT_S_WHERE;
  if (s->kind == RT_N_UPDATE || s->kind == RT_N_DELETE) return RT_D_WHERE;
  return -1;
}

/* C.copy_where(to, from) -> a copy of statement `to` with the WHERE clause
** of `from`: the rows a bulk UPDATE or DELETE will touch as a SELECT, or a
** legacy Query's criteria as an UPDATE or DELETE. */
static int l_copy_where(lua_State *L) {
  rt_node *to = lsql_checknode(L, 1, "copy_where");
  rt_node *from = lsql_checknode(L, 2, "copy_where");
  int ts = where_slot(to), fs = where_slot(from);
  lnode *ud;
  if (ts < 0 || fs < 0)
    return rt_lua_error(L, RT_EARGUMENT,
                        "copy_where: SELECT, UPDATE or DELETE statements");
  ud = lsql_newnode(L);
  ud->n = rt_gen_set(to, ts, from->kids[fs] ? rt_ref(from->kids[fs]) : NULL);
  lsql_check(L, ud->n);
  return 1;
}

/* C.where_of(stmt) -> the WHERE clause of a SELECT, UPDATE or DELETE as
** an expression, or nil (a legacy Query's whereclause). */
static int l_where_of(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "where_of");
  int slot = where_slot(s);
  lnode *ud;
  if (slot < 0 || !s->kids[slot]) return 0;
  ud = lsql_newnode(L);
  ud->n = rt_ref(s->kids[slot]);
  return 1;
}

/*
** C.expr_tree(expr) -> the expression as nested Lua tables, for what the
** ORM evaluates in Lua (a bulk UPDATE's criteria and values, checked
** against the objects in memory): {kind, ...} with kind "column" (ptr),
** "bind" (value), "null", "true", "false", "binary" (op, a, b), "unary"
** (op, a), "and"/"or"/"list"/"tuple" (items at 1..n), or "other" (with
** "func", a function's name, or "sa_class", SQLAlchemy's class name).
*/
static const char *const op_names[RT_OP_COUNT] = {
    [RT_OP_ADD] = "add",      [RT_OP_SUB] = "sub",
    [RT_OP_MUL] = "mul",      [RT_OP_DIV] = "div",
    [RT_OP_MOD] = "mod",      [RT_OP_CONCAT] = "concat",
    [RT_OP_EQ] = "eq",        [RT_OP_NE] = "ne",
    [RT_OP_LT] = "lt",        [RT_OP_LE] = "le",
    [RT_OP_GT] = "gt",        [RT_OP_GE] = "ge",
    [RT_OP_IN] = "in",        [RT_OP_NOTIN] = "notin",
    [RT_OP_IS] = "is",        [RT_OP_ISNOT] = "isnot",
    [RT_OP_NOT] = "not",      [RT_OP_NEG] = "neg",
    [RT_OP_ASBOOL] = "asbool"};

static void push_tree(lua_State *L, const rt_node *e, int depth) {
  int i;
  luaL_checkstack(L, 4, "expression too deep");
  lua_createtable(L, 4, 2);
  if (!e || depth > 200) {
    lua_pushliteral(L, "other");
    lua_setfield(L, -2, "kind");
    return;
  }
  switch (e->kind) {
  case RT_N_COLUMN:
    lua_pushliteral(L, "column");
    lua_setfield(L, -2, "kind");
    lua_pushlightuserdata(L, (void *)e);
    lua_setfield(L, -2, "ptr");
    return;
  case RT_N_BIND:
    lua_pushliteral(L, "bind");
    lua_setfield(L, -2, "kind");
    rt_lua_pushvalue(L, &e->value);
    lua_setfield(L, -2, "value");
    return;
  case RT_N_NULL:
  case RT_N_TRUE:
  case RT_N_FALSE:
    lua_pushstring(L, e->kind == RT_N_NULL   ? "null"
                      : e->kind == RT_N_TRUE ? "true"
                                             : "false");
    lua_setfield(L, -2, "kind");
    return;
  case RT_N_GROUPING:
    lua_pop(L, 1);
    push_tree(L, e->a, depth + 1);
    return;
  case RT_N_BINARY:
  case RT_N_UNARY:
    if (e->op >= RT_OP_COUNT || !op_names[e->op] ||
        (e->kind == RT_N_BINARY && e->c))
      break;
    lua_pushstring(L, e->kind == RT_N_BINARY ? "binary" : "unary");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, op_names[e->op]);
    lua_setfield(L, -2, "op");
    push_tree(L, e->a, depth + 1);
    lua_setfield(L, -2, "a");
    if (e->kind == RT_N_BINARY) {
      push_tree(L, e->b, depth + 1);
      lua_setfield(L, -2, "b");
    }
    return;
  case RT_N_BOOLLIST:
  case RT_N_LIST:
  case RT_N_TUPLE:
    if (e->kind == RT_N_BOOLLIST && e->op != RT_OP_AND && e->op != RT_OP_OR)
      break;
    lua_pushstring(L, e->kind == RT_N_LIST    ? "list"
                      : e->kind == RT_N_TUPLE ? "tuple"
                      : e->op == RT_OP_AND    ? "and"
                                              : "or");
    lua_setfield(L, -2, "kind");
    for (i = 0; i < e->n; i++) {
      push_tree(L, e->kids[i], depth + 1);
      lua_rawseti(L, -2, i + 1);
    }
    return;
  case RT_N_FUNC: /* (the name, for the message of what is not evaluated) */
    if (e->name) {
      lua_pushstring(L, e->name);
      lua_setfield(L, -2, "func");
    }
    break;
  case RT_N_CAST:
  case RT_N_CASE:
  case RT_N_SCALARSUB:
    lua_pushstring(L, e->kind == RT_N_CAST   ? "Cast"
                      : e->kind == RT_N_CASE ? "Case"
                                             : "Select");
    lua_setfield(L, -2, "sa_class");
    break;
  default:
    break;
  }
  lua_pushliteral(L, "other");
  lua_setfield(L, -2, "kind");
}

static int l_expr_tree(lua_State *L) {
  push_tree(L, lsql_checknode(L, 1, "expr_tree"), 0);
  return 1;
}

/* C.dml_parts(stmt) -> the WHERE of an UPDATE or DELETE as an
** expression tree (or nil), and for an UPDATE {column key, value tree}
** per SET item */
static int l_dml_parts(lua_State *L) {
  rt_node *s = lsql_checknode(L, 1, "dml_parts"), *vals;
  int i;
  if (s->kind != RT_N_UPDATE && s->kind != RT_N_DELETE) return 0;
  if (s->kids[RT_D_WHERE])
    push_tree(L, s->kids[RT_D_WHERE], 0);
  else
    lua_pushnil(L);
  vals = s->kind == RT_N_UPDATE ? s->kids[RT_D_VALUES] : NULL;
  lua_createtable(L, vals ? vals->n : 0, 0);
  for (i = 0; vals && i < vals->n; i++) {
    lua_createtable(L, 2, 0);
    lua_pushstring(L, vals->kids[i]->name);
    lua_rawseti(L, -2, 1);
    push_tree(L, vals->kids[i]->a, 0);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  return 2;
}

/*
** The generative methods as the ORM sees them: the statement a method
** returns takes over the ORM's notes on the statement it was called on
** (loader options, entities, the tables of mapped classes).  A wrapper in
** Lua costs Core statements more than the method itself, so the wrapper is
** this C closure: upvalue 1 a carry_fn (the method, a C function without
** upvalues, called in place, and the shared state), 2 the state shared by
** all of them (a carry_state whose user value is the list of the ORM's
** note tables -- statement -> note, weak keys -- once the ORM has noted a
** first statement; until then nothing is carried), 3 nil, or a Lua function
*that takes the calls whose second or
** third argument is a Lua table (a relationship, an aliased class: the
** join wrappers).  The plain call reads one block: no table or upvalue
** lookups of its own.
*/
#define CARRY_STATE "retort.orm.carry"

typedef struct carry_state {
  int on;
} carry_state;

typedef struct carry_fn {
  lua_CFunction f;
  carry_state *st; /* (upvalue 2 keeps it) */
  int slow;        /* upvalue 3 is a function */
} carry_fn;

static int carry_call(lua_State *L) {
  const carry_fn *cf = lua_touserdata(L, lua_upvalueindex(1));
  int top, i;
  if (cf->slow) {
    top = lua_gettop(L);
    if ((top >= 2 && lua_type(L, 2) == LUA_TTABLE) ||
        (top >= 3 && lua_type(L, 3) == LUA_TTABLE)) {
      lua_pushvalue(L, lua_upvalueindex(3));
      lua_insert(L, 1);
      lua_call(L, top, LUA_MULTRET);
      return lua_gettop(L);
    }
  }
  if (!cf->st->on) return cf->f(L);
  top = lua_gettop(L);
  lua_getiuservalue(L, lua_upvalueindex(2), 1); /* top + 1: the tables */
  lua_pushcfunction(L, cf->f);
  for (i = 1; i <= top; i++) lua_pushvalue(L, i);
  lua_call(L, top, 1); /* args, tables, out */
  {
    /* each table's note on the statement goes to the new one, raw */
    int n = (int)lua_rawlen(L, top + 1), j;
    for (j = 1; j <= n; j++) {
      lua_rawgeti(L, top + 1, j); /* top + 3 */
      lua_pushvalue(L, 1);
      if (lua_rawget(L, top + 3) != LUA_TNIL) {
        lua_pushvalue(L, top + 2);
        lua_insert(L, -2);
        lua_rawset(L, top + 3);
      } else
        lua_pop(L, 1);
      lua_pop(L, 1);
    }
  }
  return 1;
}

static carry_state *push_carry_state(lua_State *L) {
  carry_state *st;
  if (lua_getfield(L, LUA_REGISTRYINDEX, CARRY_STATE) == LUA_TUSERDATA)
    return lua_touserdata(L, -1);
  lua_pop(L, 1);
  st = lua_newuserdatauv(L, sizeof *st, 1);
  st->on = 0;
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, CARRY_STATE);
  return st;
}

/* C.carry(f [, slow]) -> the carrying method, or nil when f is not a C
** function without upvalues (the caller wraps it in Lua then). */
static int l_carry(lua_State *L) {
  lua_CFunction f = lua_tocfunction(L, 1);
  carry_fn *cf;
  if (!f || lua_getupvalue(L, 1, 1)) return 0;
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  cf = lua_newuserdatauv(L, sizeof *cf, 0);
  cf->f = f;
  cf->slow = !lua_isnil(L, 2);
  cf->st = push_carry_state(L);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, carry_call, 3);
  return 1;
}

/* C.carry_on(tables): from now on each carrying method's new statement
** gets the note of each table (a list of them) on the one it was called
** on, as a raw entry */
static int l_carry_on(lua_State *L) {
  carry_state *st;
  luaL_checktype(L, 1, LUA_TTABLE);
  st = push_carry_state(L);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  st->on = 1;
  return 0;
}

/* C.tostring_form(fn): tostring() of a select prints fn(stmt) instead
** when fn returns a statement (see LSQL_TOSTRING_FORM). */
static int l_tostring_form(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, LSQL_TOSTRING_FORM);
  return 0;
}

/* C.select_slow(set, fn): select() of an argument in `set` is fn(...)
** from now on (see lsql_select); returns the select() that fn calls. */
static int l_select_slow(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, 2);
  lua_setfield(L, LUA_REGISTRYINDEX, LSQL_SELECT_SLOW);
  lua_pushcfunction(L, lsql_select_plain);
  return 1;
}

static const luaL_Reg orm_c[] = {{"raise", l_raise},
                                 {"extra", l_extra},
                                 {"dml_info", l_dml_info},
                                 {"dml_parts", l_dml_parts},
                                 {"expr_tree", l_expr_tree},
                                 {"copy_where", l_copy_where},
                                 {"where_of", l_where_of},
                                 {"update_sigs", l_update_sigs},
                                 {"positional", l_positional},
                                 {"after_update", l_after_update},
                                 {"after_insert", l_after_insert},
                                 {"construct", l_construct},
                                 {"constructor", l_constructor},
                                 {"column_defaults", l_column_defaults},
                                 {"repr", l_repr},
                                 {"column_order", l_column_order},
                                 {"copy_column", l_copy_column},
                                 {"metatable", l_metatable},
                                 {"new", l_new},
                                 {"isinstance", l_isinstance},
                                 {"lifecycle", l_lifecycle},
                                 {"session", l_session},
                                 {"detach_all", l_detach_all},
                                 {"raw_empty", l_raw_empty},
                                 {"identity", l_identity},
                                 {"setidentity", l_setidentity},
                                 {"class", l_class},
                                 {"flags", l_flags},
                                 {"modified", l_modified},
                                 {"get", l_get},
                                 {"set", l_set},
                                 {"committed", l_committed},
                                 {"insert_params", l_insert_params},
                                 {"update_params", l_update_params},
                                 {"commit", l_commit},
                                 {"expire", l_expire},
                                 {"rowkey", l_rowkey},
                                 {"load", l_load},
                                 {"name_column", l_name_column},
                                 {"column_info", l_column_info},
                                 {"node_kind", l_node_kind},
                                 {"negated_column", l_negated_column},
                                 {"sql_name", l_sql_name},
                                 {"pending_configure", l_pending_configure},
                                 {"select_items", l_select_items},
                                 {"first_select", l_first_select},
                                 {"tablename_labels", l_tablename_labels},
                                 {"proxy_keys", l_proxy_keys},
                                 {"uses_mapped", l_uses_mapped},
                                 {"select_shape", l_select_shape},
                                 {"select_unordered", l_select_unordered},
                                 {"select_order", l_select_order},
                                 {"adapt", l_adapt},
                                 {"node_ptr", l_node_ptr},
                                 {"annotate", l_annotate},
                                 {"attribute", l_attribute},
                                 {"annotation", l_annotation},
                                 {"filter_entity", l_filter_entity},
                                 {"join_pairs", l_join_pairs},
                                 {"carry", l_carry},
                                 {"carry_on", l_carry_on},
                                 {"tostring_form", l_tostring_form},
                                 {"select_slow", l_select_slow},
                                 {"new_list", l_new_list},
                                 {"own_list", l_own_list},
                                 {"view_index", l_view_index},
                                 {"view_len", l_view_len},
                                 {NULL, NULL}};

/* Fill the orm module table on top: run the Lua half, the files of
** orm/ in the order orm/meson.build lists them (see the top of this file),
** each with the core module, the orm table, the C primitives and I, the
** table the files share (one file's functions that others use, and the
** compile hook). */
void rt_lua_open_orm(lua_State *L) {
  int mod = lua_gettop(L);
  luaL_requiref(L, "retort", luaopen_retort, 0);
  luaL_newlib(L, orm_c);
  lua_pushlstring(L, LIST_FIELD, sizeof LIST_FIELD - 1);
  lua_setfield(L, -2, "LIST");
  rt_orm_loading_register(L);     /* loading straight from cursors */
  rt_orm_persistence_register(L); /* the flush's per-object work */
  lua_newtable(L);
  lua_getfield(L, LUA_REGISTRYINDEX, RT_COMPILE_HOOK);
  lua_setfield(L, -2, "compile_hook");
  for (const struct rt_lua_chunk *c = rt_lua_chunks_orm; c->name; c++) {
    char chunkname[64];
    snprintf(chunkname, sizeof chunkname, "=orm/%s.lua", c->name);
    if (luaL_loadbuffer(L, c->src, c->len, chunkname) != LUA_OK) lua_error(L);
    lua_pushvalue(L, mod + 1);
    lua_pushvalue(L, mod);
    lua_pushvalue(L, mod + 2);
    lua_pushvalue(L, mod + 3);
    lua_call(L, 4, 0);
  }
  lua_settop(L, mod);
}
