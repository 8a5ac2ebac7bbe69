/*
** refresh.c -- the thread that reads completion's names in the background.
**
** One refresher at a time, for the engine the shell mirrors.  Its state
** is guarded by one mutex; the thread waits on a condition variable for
** the shell to go idle, for a kick, for the interval to pass, or for the
** order to stop.  The reading itself runs unlocked, on the thread's own
** engine (a copy of the URL and connect arguments), so nothing it touches
** is shared but the answer it hands over.
*/
#include "refresh.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cancel.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

/* Guarded by mu where the thread reads or writes it. */
typedef struct refresher {
  pthread_t th;
  int started; /* th runs */
  int stop, idle, kicked;
  unsigned long epoch; /* bumped by each kick */
  double used_at;      /* the last input or completion, for the interval */
  rt_engine *e;        /* the thread's own engine */
  const rt_engine *owner;
  char *owner_url; /* with its password: two engines differ by it too */
  rt_dbconn *busy; /* the connection a refresh reads on now */
  rt_refresh_answer *ready;
  unsigned long ready_epoch;
  char **want;
  int nwant;
} refresher;

static refresher R;

/* Most columns read in one refresh: completion asks about a few tables. */
#define MAX_COLUMN_TABLES 100

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void free_names(char **v, int n) {
  int i;
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* A copy of v[0..n), or NULL (n is then 0). */
static char **copy_names(const char *const *v, int *n) {
  char **out = *n > 0 ? calloc((size_t)*n, sizeof *out) : NULL;
  int i;
  if (out == NULL) {
    *n = 0;
    return NULL;
  }
  for (i = 0; i < *n; i++)
    if ((out[i] = strdup(v[i])) == NULL) break;
  *n = i;
  return out;
}

void rt_refresh_answer_free(rt_refresh_answer *a) {
  int i;
  if (a == NULL) return;
  rt_refl_free(&a->tables);
  rt_refl_free(&a->views);
  for (i = 0; i < a->ncols; i++) rt_refl_free(&a->cols[i]);
  free_names(a->coltables, a->ncols);
  free(a->cols);
  free(a->colok);
  free(a);
}

static void set_busy(rt_dbconn *c) {
  pthread_mutex_lock(&mu);
  R.busy = c;
  pthread_mutex_unlock(&mu);
}

/* The columns of want[0..n) into a; a table that cannot be read (it was
** dropped) is marked so.  The transaction is rolled back after a failure,
** which PostgreSQL would otherwise hold against the next query. */
static int read_columns(rt_connection *c, rt_refresh_answer *a, char **want,
                        int n) {
  rt_error err = RT_ERROR_INIT;
  int i;
  a->coltables = calloc((size_t)n + 1, sizeof *a->coltables);
  a->cols = calloc((size_t)n + 1, sizeof *a->cols);
  a->colok = calloc((size_t)n + 1, sizeof *a->colok);
  if (a->coltables == NULL || a->cols == NULL || a->colok == NULL) return -1;
  for (i = 0; i < n; i++) {
    rt_refl_init(&a->cols[i]);
    if ((a->coltables[i] = strdup(want[i])) == NULL) return -1;
    a->ncols++;
    if (rt_reflect_columns(c, NULL, want[i], &a->cols[i], &err) == 0) {
      a->colok[i] = 1;
      continue;
    }
    rt_error_clear(&err);
    if (c->dbc == NULL || c->dbc->lost ||
        rt_connection_rollback(c, &err) != 0) {
      rt_error_clear(&err);
      return -1;
    }
  }
  return 0;
}

/* One refresh on the thread's engine: an answer, or NULL when the
** database could not be read (it is tried again next time). */
static rt_refresh_answer *read_all(rt_engine *e, char **want, int nwant) {
  rt_refresh_answer *a = calloc(1, sizeof *a);
  rt_connection c;
  rt_error err = RT_ERROR_INIT;
  int rc = -1;
  if (a == NULL) return NULL;
  rt_refl_init(&a->tables);
  rt_refl_init(&a->views);
  rt_connection_init(&c, e);
  if (rt_connection_acquire(&c, &err) == 0) {
    set_busy(c.dbc);
    rc = rt_reflect_table_names(&c, NULL, &a->tables, &err) != 0 ||
                 rt_reflect_view_names(&c, NULL, &a->views, &err) != 0
             ? -1
             : read_columns(&c, a, want, nwant);
    set_busy(NULL);
  }
  rt_error_clear(&err);
  rt_connection_close(&c);
  if (rc != 0) {
    rt_refresh_answer_free(a);
    return NULL;
  }
  return a;
}

/* Wait on the condition variable for at most `secs`; mu is held. */
static void wait_for(double secs) {
  struct timespec ts;
  long ns;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (secs < 0.01) secs = 0.01;
  ts.tv_sec += (time_t)secs;
  ns = ts.tv_nsec + (long)((secs - (double)(time_t)secs) * 1e9);
  ts.tv_sec += ns / 1000000000L;
  ts.tv_nsec = ns % 1000000000L;
  pthread_cond_timedwait(&cv, &mu, &ts);
}

static void *run(void *arg) {
  rt_engine *e = arg;
  double last = -RT_REFRESH_INTERVAL;
  rt_cancel_exempt_thread(); /* Ctrl-C is for the user's statement */
  pthread_mutex_lock(&mu);
  while (!R.stop) {
    double since = now_s() - last;
    rt_refresh_answer *a;
    unsigned long epoch;
    char **want;
    int nwant;
    int in_use = now_s() - R.used_at < RT_REFRESH_IN_USE;
    if (!R.idle || (!R.kicked && (since < RT_REFRESH_INTERVAL || !in_use))) {
      /* a kick, a completion or the change to idle signals the wait */
      wait_for(R.idle && in_use ? RT_REFRESH_INTERVAL - since
                                : RT_REFRESH_IN_USE);
      continue;
    }
    epoch = R.epoch;
    R.kicked = 0;
    nwant = R.nwant;
    want = copy_names((const char *const *)R.want, &nwant);
    pthread_mutex_unlock(&mu);
    a = read_all(e, want, nwant);
    free_names(want, nwant);
    last = now_s();
    pthread_mutex_lock(&mu);
    if (a && !R.stop) {
      rt_refresh_answer_free(R.ready);
      R.ready = a;
      R.ready_epoch = epoch;
    } else
      rt_refresh_answer_free(a);
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void stop_thread(void) {
  if (R.started) {
    pthread_mutex_lock(&mu);
    R.stop = 1;
    if (R.busy) R.busy->drv->cancel(R.busy); /* a server that hangs */
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(R.th, NULL);
    R.started = 0;
  }
  rt_engine_free(R.e);
  R.e = NULL;
  rt_refresh_answer_free(R.ready);
  R.ready = NULL;
}

void rt_refresh_stop(void) {
  stop_thread();
  free(R.owner_url);
  R.owner_url = NULL;
  R.owner = NULL;
  free_names(R.want, R.nwant);
  R.want = NULL;
  R.nwant = 0;
}

static int same_owner(const rt_engine *e, const char *url) {
  return e == R.owner && url && R.owner_url && strcmp(url, R.owner_url) == 0;
}

int rt_refresh_following(const rt_engine *e) {
  char *url = e ? rt_url_render(e->url, 0) : NULL;
  int yes = R.started && same_owner(e, url);
  free(url);
  return yes;
}

int rt_refresh_follow(const rt_engine *e) {
  char *url = e ? rt_url_render(e->url, 0) : NULL;
  rt_engine_opts o;
  rt_error err = RT_ERROR_INIT;
  sigset_t all, old;
  int rc;
  if (same_owner(e, url)) {
    free(url);
    return 0;
  }
  rt_refresh_stop();
  if (e == NULL || url == NULL) {
    free(url);
    return e == NULL ? 0 : -1;
  }
  R.owner = e;
  R.owner_url = url;
  if (rt_pool_is_shared(&e->pool))
    return 0; /* in memory: nobody else sees it */
  rt_engine_defaults(&o);
  o.nargs = e->pool.nargs;
  o.args = e->pool.args;
  o.pool.pool_size = 1;
  R.e = rt_engine_create(url, &o, &err);
  rt_error_clear(&err);
  if (R.e == NULL) return -1;
  R.stop = R.kicked = 0;
  R.epoch++;
  R.used_at = now_s();
  /* the thread blocks every signal (it inherits the mask): Ctrl-C must
  ** reach the main thread, whose select() and sleeps it interrupts */
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  rc = pthread_create(&R.th, NULL, run, R.e);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    rt_engine_free(R.e);
    R.e = NULL;
    return -1;
  }
  R.started = 1;
  return 0;
}

void rt_refresh_idle(int idle) {
  if (!R.started) return;
  pthread_mutex_lock(&mu);
  R.idle = idle;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

void rt_refresh_kick(void) {
  if (!R.started) return;
  pthread_mutex_lock(&mu);
  R.epoch++;
  R.kicked = 1;
  R.used_at = now_s();
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

void rt_refresh_touch(void) {
  if (!R.started) return;
  pthread_mutex_lock(&mu);
  R.used_at = now_s();
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

rt_refresh_answer *rt_refresh_take(const rt_engine *e) {
  rt_refresh_answer *a = NULL;
  if (!R.started || e != R.owner) return NULL;
  pthread_mutex_lock(&mu);
  if (R.ready && R.ready_epoch == R.epoch)
    a = R.ready;
  else
    rt_refresh_answer_free(R.ready); /* read before the schema changed */
  R.ready = NULL;
  pthread_mutex_unlock(&mu);
  return a;
}

void rt_refresh_want_columns(const char *const *tables, int n) {
  char **copy;
  if (!R.started) return;
  if (n > MAX_COLUMN_TABLES) n = MAX_COLUMN_TABLES;
  copy = copy_names(tables, &n);
  pthread_mutex_lock(&mu);
  free_names(R.want, R.nwant);
  R.want = copy;
  R.nwant = n;
  pthread_mutex_unlock(&mu);
}
