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
** ALLOC_FAIL_VERBOSE=1 prints how each run ended (and a heap that is not
** the clean run's, below); ALLOC_FAIL_MODE=persist or once runs only that
** kind.
** Prints "CHUNK: T allocations, N runs, all clean".
**
** The state is made once (libraries, retort's globals, the chunk's own
** setup), and each run happens in a child process forked from it: every
** run starts from the same state at the cost of a fork, not of building
** it again, and a crash or leak is that run's alone, reported with its N.
**
** The leak check (address-sanitized build).  Each run ends by closing its
** Lua state and emptying the core's compiled-statement cache (the one
** store of the process a run fills), so a run that leaks nothing leaves
** the heap with the blocks it had at the fork less those the teardown
** freed.  Every child tallies the heap blocks made and freed after its
** fork, with a sum of a hash of their addresses, through malloc and free
** hooks of the sanitizer's allocator, which see every block of every
** library (Lua's, the core's, SQLite's, libc's).  The clean run -- the
** counting one, run to the end -- exits into LeakSanitizer, which proves
** the blocks it keeps all reachable; its tally after the teardown is the
** baseline.  A child ending with the same tally holds the same set of
** blocks as the clean run did there: it kept nothing it made and freed
** all the clean run freed, so it leaked nothing, and it skips
** LeakSanitizer's scan of the whole heap, which was most of a run's cost.
** A child ending with any other tally has LeakSanitizer scan it there and
** then, which decides (a block set up once and kept on purpose passes; a
** leak is reported with its N).  Only a block kept by both runs could
** escape the tally, and only by the run overwriting the last pointer to
** it outside the heap without freeing anything: the blocks kept by both
** are the process's own, made before the fork.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/compiler.h"
#include "lua/lretort.h"

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_TALLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_TALLY 1
#endif
#endif
#ifndef HEAP_TALLY
#define HEAP_TALLY 0
#endif
#if HEAP_TALLY
#include <sanitizer/lsan_interface.h>
#endif

typedef struct fail_state {
  long count;   /* counted allocations so far, while armed */
  long fail_at; /* the first one to fail (0: never) */
  int once;     /* fail only that one */
  int armed;
} fail_state;

/* The state whose allocations are being counted: Lua's or the core's. */
static fail_state *lua_target, *c_target;

/* Heap blocks made minus blocks freed since the fork, the same difference
** of a hash of their addresses, and how many were made. */
typedef struct tally {
  long blocks;
  uint64_t hash;
  long made;
} tally;

static tally heap;     /* this process's, while `tallying` */
static int tallying;   /* set in each child, from its fork to its teardown */
static int hooked;     /* the hooks are in place */
static tally baseline; /* the clean run's, after its teardown */

#if HEAP_TALLY
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

/* An address's hash (splitmix64's finalizer): the sum over a set of
** blocks tells sets apart, whatever order they were made in. */
static uint64_t hash_of(const volatile void *p) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

static void on_malloc(const volatile void *p, size_t size) {
  (void)size;
  if (tallying) heap.blocks++, heap.hash += hash_of(p), heap.made++;
}

static void on_free(const volatile void *p) {
  if (tallying) heap.blocks--, heap.hash -= hash_of(p);
}
#endif

/* Start counting, in a child just forked. */
static void start_tally(void) {
  heap.blocks = heap.made = 0;
  heap.hash = 0;
  tallying = 1;
}

/* Close the state and empty the compiled-statement cache, then stop
** counting. */
static void teardown(lua_State *L) {
  lua_close(L);
  rt_compile_cache_clear();
  tallying = 0;
}

/* LeakSanitizer's scan, now: nonzero when it reported a leak. */
static int leak_check(void) {
#if HEAP_TALLY
  return __lsan_do_recoverable_leak_check();
#else
  return 0;
#endif
}

/* After the teardown: 1 when the heap holds what the clean run's held.  A
** clean run that made no block means the hooks never ran: no verdict. */
static int heap_as_clean(void) {
  return hooked && baseline.made > 0 && heap.blocks == baseline.blocks &&
         heap.hash == baseline.hash;
}

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
  start_tally();
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
  teardown(L);
  target(NULL);
  if (!heap_as_clean()) {
    if (hooked && getenv("ALLOC_FAIL_VERBOSE"))
      fprintf(stderr,
              "N=%ld%s: the heap is not the clean run's (%+ld blocks)\n", n,
              once ? " once" : "", heap.blocks - baseline.blocks);
    if (leak_check() != 0) {
      fprintf(stderr, "N=%ld%s: leaked (LeakSanitizer's report above)\n", n,
              once ? " once" : "");
      status = 1;
    }
  }
  fflush(NULL);
  _exit(status); /* the leak check is done: none at the exit */
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

/* What the counting run sends back. */
typedef struct counted {
  long total;
  tally after; /* the heap after the teardown */
} counted;

/* The counting run, in a child too (the parent's state stays unused): the
** clean run.  Its total and its tally after the teardown (the baseline)
** come back through a pipe, and LeakSanitizer checks it at its exit.
** -1 when it failed. */
static long count_run(lua_State *L, fail_state *s, const char *chunk) {
  int fds[2], wstatus;
  counted c = {-1, {0, 0, 0}};
  pid_t pid;
  if (pipe(fds) != 0) return -1;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid == 0) {
    int ok = 1;
    start_tally();
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
    teardown(L);
    c.total = s->count;
    c.after = heap;
    if (ok && write(fds[1], &c, sizeof c) != sizeof c) ok = 0;
    fflush(stderr);
    exit(ok ? 0 : 1); /* the leak check of the clean run */
  }
  close(fds[1]);
  if (pid > 0 && read(fds[0], &c, sizeof c) != sizeof c) c.total = -1;
  close(fds[0]);
  if (pid > 0 && (waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus) ||
                  WEXITSTATUS(wstatus) != 0))
    c.total = -1;
  baseline = c.after;
  return c.total;
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
#if HEAP_TALLY
  hooked = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
#endif
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
