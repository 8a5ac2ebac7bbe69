/*
** cancel.c -- which driver connection is busy, for rt_cancel_running.
**
** Marking and unmarking happen around every execute and fetch, so they are
** plain atomic stores.  The mutex is taken only by a cancel (while it uses
** the connection) and by a close (rt_cancel_forget), so a connection is
** never closed under a cancel that is using it.
*/
#include "cancel.h"

#include <pthread.h>
#include <stdatomic.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(rt_dbconn *) running;
static _Thread_local int exempt;

void rt_cancel_exempt_thread(void) {
  exempt = 1;
}

void rt_cancel_enter(rt_dbconn *c) {
  if (!exempt) atomic_store_explicit(&running, c, memory_order_release);
}

/* Under the lock: a cancel the watcher is sending for this statement ends
** before the connection runs the next one (it could hit that one). */
void rt_cancel_leave(void) {
  if (exempt) return;
  pthread_mutex_lock(&lock);
  atomic_store_explicit(&running, NULL, memory_order_release);
  pthread_mutex_unlock(&lock);
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
  c = atomic_load_explicit(&running, memory_order_acquire);
  if (c) c->drv->cancel(c);
  pthread_mutex_unlock(&lock);
  return c != NULL;
}
