/* heap_error.h - how a misuse travels from where it is found to the error handler, and text
 * output without libc. The bottom of lib/: it depends on heap.h alone.
 *
 * A misuse is found under the heap's lock (fault_set) and reported after it (fault_raise), so a
 * handler may print or stop without deadlocking on the heap. */
#ifndef KHEAP_HEAP_ERROR_H
#define KHEAP_HEAP_ERROR_H

#include <stdint.h>
#include "heap.h"

struct fault {                            /* a misuse found under the lock, reported after it */
    enum mem_error err;
    const void *ptr;
};

void fault_set(struct heap *h, struct fault *f, enum mem_error err, const void *ptr);
void fault_report(const struct fault *f); /* calls the error handler */

/* Report f if it holds an error, and return it: one test on the path of every call. */
static inline int fault_raise(const struct fault *f)
{
    if (f->err != MEM_OK)
        fault_report(f);
    return f->err;
}

/* Text output for dump, check and error reports. */
struct out { heap_write_fn write; void *ctx; };
void out_str(struct out *o, const char *s);
void out_num(struct out *o, uintmax_t v, unsigned base, int width);

#endif
