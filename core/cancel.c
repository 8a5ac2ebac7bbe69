/*
** cancel.c -- which driver connection is busy, for rt_cancel_running.
*/
#include "cancel.h"

#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rt_dbconn *running; /* guarded by lock */

void rt_cancel_enter(rt_dbconn *c) {
  pthread_mutex_lock(&lock);
  running = c;
  pthread_mutex_unlock(&lock);
}

void rt_cancel_leave(void) {
  pthread_mutex_lock(&lock);
  running = NULL;
  pthread_mutex_unlock(&lock);
}

void rt_cancel_forget(rt_dbconn *c) {
  pthread_mutex_lock(&lock);
  if (running == c) running = NULL;
  pthread_mutex_unlock(&lock);
}

int rt_cancel_running(void) {
  int was = 0;
  pthread_mutex_lock(&lock);
  if (running) {
    running->drv->cancel(running);
    was = 1;
  }
  pthread_mutex_unlock(&lock);
  return was;
}
