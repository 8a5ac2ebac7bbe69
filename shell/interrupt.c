/*
** interrupt.c -- the watcher thread behind Ctrl-C.
*/
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "core/cancel.h"

static int pipefd[2] = {-1, -1};
static volatile sig_atomic_t asked;

static void *watch(void *arg) {
  char buf[16];
  (void)arg;
  for (;;) {
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n > 0)
      rt_cancel_running();
    else if (n < 0 && errno == EINTR)
      continue;
    else
      break;
  }
  return NULL;
}

int rt_interrupt_init(void) {
  pthread_t th;
  if (pipefd[0] >= 0) return 0;
  if (pipe(pipefd) != 0) return -1;
  /* the handler must never block on a full pipe */
  fcntl(pipefd[1], F_SETFL, fcntl(pipefd[1], F_GETFL) | O_NONBLOCK);
  fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
  fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
  if (pthread_create(&th, NULL, watch, NULL) != 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    pipefd[0] = pipefd[1] = -1;
    return -1;
  }
  pthread_detach(th);
  return 0;
}

void rt_interrupt_signal(void) {
  int saved = errno;
  asked = asked + 1;
  if (pipefd[1] >= 0) {
    ssize_t n = write(pipefd[1], "c", 1);
    (void)n;
  }
  errno = saved;
}

unsigned rt_interrupt_count(void) {
  return (unsigned)asked;
}
