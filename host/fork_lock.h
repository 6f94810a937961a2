/* fork_lock.h - the locks the host build holds across fork(), and the order it takes them in.
 *
 * fork() runs the pthread_atfork prepare handlers first, then takes stdio's list lock, then forks.
 * A prepare handler that took the heap lock there would hold it while fork waits for the list
 * lock, and a thread in fflush(NULL) holds the list lock while it waits for a stream that a third
 * thread locked in getline, which waits for the heap lock in realloc: no one moves. So the
 * prepare handlers take stdio's list lock first (a recursive lock: fork takes it again without
 * harm), then the trace lock, then the heap lock, the order every other path takes them in.
 * The list lock is only needed when other threads exist (fork then resets it in the child); a
 * single-threaded process skips it, as glibc's fork does.
 *
 * A fork from a signal handler that interrupted this very thread inside a lock call must not
 * wait for a lock that thread holds, or is about to hold: each thread counts, in a variable of
 * its own (thread-local, initial-exec: no allocation on first use), the lock calls it is inside,
 * from before it asks for the lock to after it let go. The prepare handler takes only a lock this
 * thread is not inside; the child then inherits it as the interrupted frame left it, exactly as
 * glibc's malloc leaves its own arenas to a fork from a signal handler. */
#ifndef KHEAP_FORK_LOCK_H
#define KHEAP_FORK_LOCK_H

#include <pthread.h>

struct fork_lock {
    pthread_mutex_t mutex;
    int taken_for_fork;             /* the prepare handler took it: the parent and child drop it */
};
#define FORK_LOCK_INIT { PTHREAD_MUTEX_INITIALIZER, 0 }

/* Each lock's users: a thread-local count of the calls this thread is inside. */
#define FORK_LOCK_INSIDE(name) static __thread volatile int name __attribute__((tls_model("initial-exec")))

static inline void fork_lock_take(struct fork_lock *l, volatile int *inside)
{
    ++*inside;
    pthread_mutex_lock(&l->mutex);
}

static inline void fork_lock_drop(struct fork_lock *l, volatile int *inside)
{
    pthread_mutex_unlock(&l->mutex);
    --*inside;
}

static inline void fork_lock_prepare(struct fork_lock *l, const volatile int *inside)
{
    l->taken_for_fork = *inside == 0;
    if (l->taken_for_fork)
        pthread_mutex_lock(&l->mutex);
}

static inline void fork_lock_parent(struct fork_lock *l)
{
    if (l->taken_for_fork)
        pthread_mutex_unlock(&l->mutex);
}

/* The child is one thread: the lock is free again, unless the interrupted frame is in it. */
static inline void fork_lock_child(struct fork_lock *l)
{
    if (l->taken_for_fork)
        pthread_mutex_init(&l->mutex, NULL);
}

/* glibc's stdio list lock (exported since 2.2.5) and its single-thread flag (2.32): weak, so a
 * C library without them links, and the prepare handler then takes no stdio lock. */
extern void _IO_list_lock(void) __attribute__((weak));
extern void _IO_list_unlock(void) __attribute__((weak));
extern char __libc_single_threaded __attribute__((weak));

/* 1 if it took the list lock: the parent handler then drops it (the child's fork reset it). */
static inline int fork_stdio_lock(void)
{
    if (!_IO_list_lock || !_IO_list_unlock || !&__libc_single_threaded || __libc_single_threaded)
        return 0;
    _IO_list_lock();
    return 1;
}

static inline void fork_stdio_unlock(int taken)
{
    if (taken)
        _IO_list_unlock();
}

#endif
