/* core.h - what the allocator core (heap.c) offers the default heap (mem.c) and the arenas
 * (arena.c): each operation without lock or report, so that they can take a lock around it and
 * report a misuse after dropping it; and mem.c's growing from the platform, which both use. */
#ifndef KHEAP_CORE_H
#define KHEAP_CORE_H

#include "heap.h"
#include "heap_error.h"
#include "seam.h"

/* Build with -DKHEAP_DEBUG_FILL=1 (make KHEAP_DEBUG_FILL=1) and every heap starts in debug-fill
 * mode (HEAP_F_POISON); otherwise heap_set_poison (or KHEAP_POISON=1 on the host) turns it on. */
#ifndef KHEAP_DEBUG_FILL
#define KHEAP_DEBUG_FILL 0
#endif

void  *heap_alloc_quiet(struct heap *h, size_t n, struct fault *f);
void  *heap_aligned_alloc_quiet(struct heap *h, size_t align, size_t n, struct fault *f);
void  *heap_calloc_quiet(struct heap *h, size_t count, size_t size, struct fault *f);
int    heap_free_quiet(struct heap *h, void *p, struct fault *f);
void  *heap_realloc_quiet(struct heap *h, void *p, size_t n, struct fault *f);
size_t heap_usable_size_quiet(struct heap *h, const void *p, struct fault *f);

/* heap_alloc and heap_free with a lock taken around the core and the report made after it, for
 * a caller that locks per call (arena.c: one arena, and malloc's first try in any arena): the
 * core inlined between the two calls costs what a caller's lock around heap_alloc does, with no
 * layer of calls between. The lock comes as one pointer to its callbacks and context, so that
 * only that pointer is kept across the core (make bench-arena-cost: 10 instructions a pair less
 * than three arguments). */
typedef unsigned long (*heap_lock_fn)(void *ctx);
typedef void (*heap_unlock_fn)(void *ctx, unsigned long state);
struct heap_locking { heap_lock_fn lock; heap_unlock_fn unlock; void *ctx; };
void  *heap_alloc_locked(struct heap *h, size_t n, const struct heap_locking *l);
int    heap_free_locked(struct heap *h, void *p, const struct heap_locking *l);

size_t calloc_bytes(size_t count, size_t size);   /* count * size, 0 on overflow */
/* The free block that surely holds n bytes at alignment align, in bytes (0: refused). */
size_t fit_bytes(size_t align, size_t n);
size_t heap_growth_size(struct heap *h, const void *p, size_t n, void **start); /* see heap.c */
size_t heap_move_size(struct heap *h, const void *p, size_t n);                 /* see heap.c */

/* Growing from the platform, shared by the default heap and lib/arena.c (see mem.c). */
size_t platform_region(size_t block_bytes, struct seam_region *g);
int    platform_extend(struct heap *h, void *p, size_t n);

#endif
