/*
** cancel.h -- cancelling the statement that is running now (Ctrl-C).
**
** The engine marks the driver connection that is executing or fetching;
** rt_cancel_running() asks that connection's driver to interrupt it.  It
** is meant to be called from a watcher thread (the shell's SIGINT handler
** wakes one through a pipe): MySQL's cancel opens a second connection,
** which no signal handler may do.  A mutex keeps the connection from being
** closed while its cancel is under way.
*/
#ifndef RT_CANCEL_H
#define RT_CANCEL_H

#include "driver.h"

/* Around a blocking driver call on c (execute, executemany, fetch). */
void rt_cancel_enter(rt_dbconn *c);
void rt_cancel_leave(void);
/* The statements of the calling thread are not Ctrl-C's to cancel (a
** background thread with connections of its own): enter and leave called
** on it leave the mark of the thread running the user's statement alone. */
void rt_cancel_exempt_thread(void);
/* Before closing c: make sure no cancel is using it. */
void rt_cancel_forget(rt_dbconn *c);
/* Is a statement running now?  Lock-free, so a signal handler may ask. */
int rt_cancel_busy(void);
/* Interrupt whatever statement is running; 1 if one was, else 0. */
int rt_cancel_running(void);

#endif
