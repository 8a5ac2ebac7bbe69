/*
** alloc_fail.c -- run a Lua chunk with every allocation failing in turn.
**
**   alloc_fail CHUNK.lua [FIRST [LAST [STRIDE]]]
**
** CHUNK returns two functions, run and check.  The chunk runs once with
** allocations only counted, giving the number T that run makes.  Then,
** for N = FIRST, FIRST + STRIDE, ... up to LAST (default 1..T, every one),
** a fresh Lua state runs it again with the N-th allocation and every one
** after it failing: run must end in a clean Lua error about memory, never
** a crash or a leak (the sanitizer build sees to those).  A second run
** fails the N-th allocation only, which may be survived (Lua collects
** garbage and tries again; the C core may report it and the caller go on):
** it may succeed, or end in the same clean error.  After each, in the same
** state with allocations working again, check runs and must succeed: it
** tells a database left all-or-nothing from a half-written one.
**
** ALLOC_FAIL_TARGET says whose allocations are counted and failed:
**   lua (default)  Lua's, through the lua_Alloc of the state; only growing
**                  ones (Lua assumes a shrinking one never fails);
**   c              the C core's own malloc, calloc, realloc (growing) and
**                  strdup: this executable is linked with --wrap for them
**                  (tests/meson.build), which reaches every call in the
**                  static retort libraries but none inside the shared
**                  libraries they use (SQLite, libpq, Lua).
** ALLOC_FAIL_VERBOSE=1 prints how each run ended; ALLOC_FAIL_MODE=persist
** or once runs only that kind.
** Prints "CHUNK: T allocations, N runs, all clean".
**
** The state is made once (libraries, retort's globals, the chunk's own
** setup), and each run happens in a child process forked from it: every
** run starts from the same state at the cost of a fork, not of building
** it again, and a crash or leak (the sanitizer checks at the child's exit)
** is that run's alone, reported with its N.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/lretort.h"

typedef struct fail_state {
  long count;   /* counted allocations so far, while armed */
  long fail_at; /* the first one to fail (0: never) */
  int once;     /* fail only that one */
  int armed;
} fail_state;

/* The state whose allocations are being counted: Lua's or the core's. */
static fail_state *lua_target, *c_target;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *ptr, size_t size);
char *__real_strdup(const char *s);

/* Count one allocation of s; 1 when it is to fail. */
static int should_fail(fail_state *s) {
  if (s == NULL || !s->armed) return 0;
  s->count++;
  return s->fail_at > 0 &&
         (s->once ? s->count == s->fail_at : s->count >= s->fail_at);
}

void *__wrap_malloc(size_t size) {
  return should_fail(c_target) ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size) {
  return should_fail(c_target) ? NULL : __real_calloc(n, size);
}

/* realloc(p, 0) frees, and a shrinking realloc is not counted: callers
** may rightly treat those as unable to fail */
void *__wrap_realloc(void *ptr, size_t size) {
  if (ptr == NULL || size > malloc_usable_size(ptr))
    if (size > 0 && should_fail(c_target)) return NULL;
  return __real_realloc(ptr, size);
}

char *__wrap_strdup(const char *str) {
  return should_fail(c_target) ? NULL : __real_strdup(str);
}

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if ((ptr == NULL || nsize > osize) && should_fail(lua_target)) return NULL;
  return __real_realloc(ptr, nsize);
}

/* Point the counting at s, for the allocations ALLOC_FAIL_TARGET names. */
static void target(fail_state *s) {
  const char *t = getenv("ALLOC_FAIL_TARGET");
  if (t && strcmp(t, "c") == 0)
    c_target = s, lua_target = NULL;
  else
    lua_target = s, c_target = NULL;
}

/* A state with retort's globals, and CHUNK's run and check at 1 and 2. */
static lua_State *open_state(const char *chunk, fail_state *s) {
  lua_State *L = lua_newstate(alloc, NULL);
  target(s);
  if (L == NULL) return NULL;
  luaL_openlibs(L);
  rt_lua_setglobals(L);
  if (luaL_loadfile(L, chunk) != LUA_OK || lua_pcall(L, 0, 2, 0) != LUA_OK) {
    fprintf(stderr, "%s: %s\n", chunk, lua_tostring(L, -1));
    lua_close(L);
    target(NULL);
    return NULL;
  }
  return L;
}

static const char *message(lua_State *L) {
  const char *m = luaL_tolstring(L, -1, NULL);
  return m ? m : "?";
}

/* In a child: run with allocation n failing from there on (or at n only),
** then check; exits 0 when it behaved, 1 otherwise. */
static void run_child(lua_State *L, fail_state *s, long n, int once) {
  int rc, status = 0;
  s->count = 0;
  s->fail_at = n;
  s->once = once;
  lua_pushvalue(L, 1);
  /* While every allocation fails, the collector stays stopped (emergency
  ** collections still run): calling a finalizer needs memory itself, and
  ** Lua never retries one it could not call, so its C memory would leak
  ** for a reason no program can avoid.  Runs that fail once keep the
  ** collector, finalizers included. */
  if (!once) lua_gc(L, LUA_GCSTOP);
  s->armed = 1;
  rc = lua_pcall(L, 0, 0, 0);
  s->armed = 0;
  lua_gc(L, LUA_GCRESTART);
  if (rc == LUA_OK) {
    if (!once && s->count >= n) {
      fprintf(stderr, "N=%ld: run succeeded although allocation %ld failed\n",
              n, n);
      status = 1;
    }
  } else if (rc != LUA_ERRMEM && strstr(message(L), "memory") == NULL) {
    fprintf(stderr, "N=%ld%s: not a memory error: %s\n", n, once ? " once" : "",
            message(L));
    status = 1;
  }
  if (getenv("ALLOC_FAIL_VERBOSE"))
    fprintf(stderr, "N=%ld: %s\n", n, rc == LUA_OK ? "ok" : message(L));
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    fprintf(stderr, "N=%ld: check failed: %s\n", n, message(L));
    status = 1;
  }
  lua_close(L);
  target(NULL);
  fflush(stderr);
  exit(status); /* the leak check runs here, in sanitized builds */
}

/* One run in a child; 0 when it behaved, -1 otherwise. */
static int try_once(lua_State *L, fail_state *s, long n, int once) {
  int wstatus;
  pid_t pid;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid < 0) {
    perror("fork");
    return -1;
  }
  if (pid == 0) run_child(L, s, n, once);
  if (waitpid(pid, &wstatus, 0) != pid) return -1;
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return 0;
  if (WIFSIGNALED(wstatus))
    fprintf(stderr, "N=%ld%s: killed by signal %d\n", n, once ? " once" : "",
            WTERMSIG(wstatus));
  else if (WEXITSTATUS(wstatus) != 1) /* the sanitizer's exit code */
    fprintf(stderr, "N=%ld%s: sanitizer report above (exit %d)\n", n,
            once ? " once" : "", WEXITSTATUS(wstatus));
  return -1;
}

/* The counting run, in a child too (the parent's state stays unused);
** the total comes back through a pipe.  -1 when it failed. */
static long count_run(lua_State *L, fail_state *s, const char *chunk) {
  int fds[2], wstatus;
  long total = -1;
  pid_t pid;
  if (pipe(fds) != 0) return -1;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid == 0) {
    int ok = 1;
    close(fds[0]);
    lua_pushvalue(L, 1);
    s->armed = 1;
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
      fprintf(stderr, "%s: run failed: %s\n", chunk, message(L));
      ok = 0;
    }
    s->armed = 0;
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    if (ok && lua_pcall(L, 0, 0, 0) != LUA_OK) {
      fprintf(stderr, "%s: check failed: %s\n", chunk, message(L));
      ok = 0;
    }
    lua_close(L);
    if (ok && write(fds[1], &s->count, sizeof s->count) != sizeof s->count)
      ok = 0;
    fflush(stderr);
    exit(ok ? 0 : 1);
  }
  close(fds[1]);
  if (pid > 0 && read(fds[0], &total, sizeof total) != sizeof total) total = -1;
  close(fds[0]);
  if (pid > 0 && (waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus) ||
                  WEXITSTATUS(wstatus) != 0))
    total = -1;
  return total;
}

int main(int argc, char **argv) {
  static fail_state s = {0, 0, 0, 0};
  long total, first, last, stride, n, runs = 0, bad = 0;
  lua_State *L;
  const char *mode = getenv("ALLOC_FAIL_MODE");
  int only_once = mode && strcmp(mode, "once") == 0;
  int only_persist = mode && strcmp(mode, "persist") == 0;
  if (argc < 2) {
    fprintf(stderr, "usage: alloc_fail CHUNK.lua [FIRST [LAST [STRIDE]]]\n");
    return 2;
  }
  if ((L = open_state(argv[1], &s)) == NULL) return 1;
  if ((total = count_run(L, &s, argv[1])) < 0) return 1;
  first = argc > 2 ? atol(argv[2]) : 1;
  last = argc > 3 ? atol(argv[3]) : total;
  stride = argc > 4 ? atol(argv[4]) : 1;
  if (first < 1) first = 1;
  if (last > total) last = total;
  if (stride < 1) stride = 1;
  for (n = first; n <= last; n += stride) {
    runs++;
    if (!only_once && try_once(L, &s, n, 0) != 0 && ++bad >= 20) break;
    if (!only_persist && try_once(L, &s, n, 1) != 0 && ++bad >= 20) break;
  }
  lua_close(L);
  target(NULL);
  printf("%s: %ld allocations, %ld runs (%ld..%ld by %ld), %s\n", argv[1],
         total, runs, first, last, stride, bad ? "FAILED" : "all clean");
  return bad ? 1 : 0;
}
