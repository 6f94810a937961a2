/* mem.h - the default heap: malloc-style calls over one heap wired to the platform.
 *
 * Kernel: regions come from the memory map (mem_add_region), the lock masks interrupts, misuse
 * panics on serial. Host: regions are mapped on demand, the lock is a mutex, misuse aborts
 * after one line on stderr. Semantics of each call are those of its heap_* twin in heap.h. */
#ifndef KHEAP_MEM_H
#define KHEAP_MEM_H

#include "heap.h"

void  *mem_alloc(size_t size);
void   mem_free(void *ptr);
void  *mem_calloc(size_t count, size_t size);
void  *mem_realloc(void *ptr, size_t size);
void  *mem_aligned_alloc(size_t alignment, size_t size);
size_t mem_usable_size(const void *ptr);

int    mem_add_region(void *start, size_t size); /* 0 or a negative enum mem_error */
void   mem_dump(void);                           /* the heap's state on the platform console */
int    mem_check(void);                          /* 0 when every invariant holds */
void   mem_stats(struct mem_stats *out);
void   mem_set_poison(int on);                   /* debug fill of freed memory (see heap.h) */

/* The default instance itself, for code that wants heap_walk or heap_dump to its own sink.
 * Use it only under mem_lock()/mem_unlock(). */
struct heap *mem_heap(void);
unsigned long mem_lock(void);
void   mem_unlock(unsigned long state);

#endif
