/*
** cancel.c -- which driver connection is busy, for rt_cancel_running.
**
** Marking and unmarking happen around every execute and fetch (every row
** of a long result), so they are atomic stores.  The mutex is taken by a
** cancel (while it uses the connection) and by a close (rt_cancel_forget),
** so a connection is never closed under a cancel that is using it.
*/
#include "cancel.h"

#include <pthread.h>
#include <stdatomic.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(rt_dbconn *) running;
static atomic_int cancelling; /* a cancel holds the lock and may send */
static _Thread_local int exempt;

void rt_cancel_exempt_thread(void) {
  exempt = 1;
}

void rt_cancel_enter(rt_dbconn *c) {
  if (!exempt) atomic_store_explicit(&running, c, memory_order_release);
}

/*
** A cancel the watcher is sending for this statement must end before the
** connection runs the next one (it could hit that one).  Both sides store
** then load, sequentially consistent: a cancel that saw this connection
** marked set `cancelling` first, so this load sees it and waits for the
** lock; one that comes later sees no mark.  Leaving takes no lock unless
** a cancel is under way.
*/
void rt_cancel_leave(void) {
  if (exempt) return;
  atomic_store(&running, NULL);
  if (atomic_load(&cancelling)) {
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
  }
}

void rt_cancel_forget(rt_dbconn *c) {
  rt_dbconn *expected = c;
  pthread_mutex_lock(&lock);
  atomic_compare_exchange_strong(&running, &expected, NULL);
  pthread_mutex_unlock(&lock);
}

int rt_cancel_busy(void) {
  return atomic_load_explicit(&running, memory_order_acquire) != NULL;
}

int rt_cancel_running(void) {
  rt_dbconn *c;
  pthread_mutex_lock(&lock);
  atomic_store(&cancelling, 1);
  c = atomic_load(&running);
  if (c) c->drv->cancel(c);
  atomic_store(&cancelling, 0);
  pthread_mutex_unlock(&lock);
  return c != NULL;
}
