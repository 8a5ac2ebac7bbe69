/*
** interrupt.h -- Ctrl-C cancels the statement that is running.
**
** A SIGINT handler may only do async-signal-safe things, and cancelling on
** MySQL means opening a second connection, so the handler writes a byte to
** a pipe and a watcher thread does the cancel (rt_cancel_running), on
** whichever connection the engine marked as busy: SQL typed at the prompt
** and statements run by Lua code alike.
*/
#ifndef RT_INTERRUPT_H
#define RT_INTERRUPT_H

/* Start the watcher thread (once); 0, or -1 when it could not start. */
int rt_interrupt_init(void);
/* From a signal handler: ask the watcher to cancel the running statement. */
void rt_interrupt_signal(void);
/* How many cancels were asked for so far: a loop such as \watch compares
** it before and after a statement, since a cancel that comes as the
** statement ends has nothing left to stop and is otherwise lost. */
unsigned rt_interrupt_count(void);

#endif
