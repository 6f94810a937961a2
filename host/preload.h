/* preload.h - the parts of libkheap.so that preload.c (the malloc family, knobs, exit reports)
 * and preload_trace.c (KHEAP_TRACE recording) share. Nothing here is exported from the library. */
#ifndef KHEAP_PRELOAD_H
#define KHEAP_PRELOAD_H

#include <stddef.h>

/* KHEAP_TRACE: start recording, in memory, for path.<pid>; each traced call takes the trace lock
 * around the heap call and its record, so records follow the heap's own order. */
void trace_start(const char *path);
int  trace_on(void);
void trace_lock(void);
void trace_unlock(void);
void trace_alloc(const void *p, size_t size);
void trace_free(const void *p);
void trace_realloc(const void *old, const void *p, size_t size);
void trace_setup_fork(void);   /* from a constructor: the child of a fork starts its own trace */
void trace_finish(void);       /* at exit: create path.<pid> (O_EXCL), write it all, close it */

/* Blocks of an alignment of ALONE_ALIGN or more, each mapped alone (preload_alone.c). */
#define ALONE_ALIGN ((size_t)1 << 20)
void  *alone_alloc(size_t alignment, size_t size);
int    alone_any(void);              /* there is one: free and realloc must look */
size_t alone_size(const void *p);    /* its usable size, or 0 if p is not one */
int    alone_free(void *p);          /* 1 if p was one (now unmapped), else 0 */

/* The descriptor for the library's lines: stderr while it is still the file it was when the
 * library started (or the copy kept of it for the exit reports); -1 when neither is. */
int    report_fd(void);

/* The arenas (preload_arena.c): the set, set up at the first call; this thread's arena (its
 * slot, given at its first call); an arena's lock, for walks over its heap (which <
 * preload_arenas()->count); the fork handlers, registered from a constructor before the trace's. */
/* Inline, since every malloc and free asks: one load and a test each once set up. */
struct arena_set;
extern struct arena_set preload_set;
extern int preload_set_state;      /* 2 once set up (atomic builtins) */
extern __thread unsigned preload_tls_slot __attribute__((tls_model("initial-exec")));
void preload_set_up(void);
unsigned preload_attach(void);
#define PRELOAD_DETACHED 0x10000u  /* slot bit: a thread past its key destructor, not counted */

static inline struct arena_set *preload_arenas(void)
{
    if (__builtin_expect(__atomic_load_n(&preload_set_state, __ATOMIC_ACQUIRE) != 2, 0))
        preload_set_up();
    return &preload_set;
}

/* The slot is the arena + 1 (0: none yet), with PRELOAD_DETACHED after the thread's key
 * destructor ran. */
static inline unsigned preload_slot(void)
{
    unsigned s = preload_tls_slot;
    return __builtin_expect(s != 0, 1) ? (s & ~PRELOAD_DETACHED) - 1 : preload_attach();
}
void preload_arena_lock(unsigned which);
void preload_arena_unlock(unsigned which);
void preload_arenas_setup_fork(void);

/* Check the heap now and print on stderr: periodic = a failure aborts, success is silent;
 * otherwise the exit verdict "kheap: check ok (N blocks)" or "kheap: check FAILED: ...". */
int  report_check(int periodic);

#endif
