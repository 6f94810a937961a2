/* arena.h - several heaps (arenas) behind one API, one lock each, so CPUs or threads that
 * allocate at once do not queue on one lock.
 *
 * A caller names itself with an index (its CPU number, a thread's slot) and allocates from
 * arena index % count, trying the others in turn before it fails. A free goes to the arena
 * that owns the block, found by address in a sorted table of region ranges (binary search), and
 * runs under that arena's lock, whoever frees. Inside an arena placement is the heap's first fit.
 *
 * lib/ allocates nothing: the caller hands in the arenas, the range table and the lock
 * callbacks (kernel: a ticket spinlock that masks interrupts; host: a mutex).
 *
 * Growing (ARENA_F_GROW, off unless the caller sets it): an allocation that finds no room in
 * the caller's arena gets a new region for that arena from the platform (seam_grow, as the
 * default heap in mem.c does), entered in the range table; only if that fails are the other
 * arenas tried. A region a free leaves entirely empty goes back when the platform wants it
 * (seam_release_wanted), and realloc grows a region with a reserve in place (seam_extend). */
#ifndef KHEAP_ARENA_H
#define KHEAP_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"

/* The platform's lock, called with the ctx of the lock to take (an arena's, or the table's).
 * lock returns a state that goes back to unlock (the saved interrupt flag, say). */
struct arena_lock { /* lock NULL: no locking (one CPU, or the caller serialises) */
    unsigned long (*lock)(void *ctx);
    void          (*unlock)(void *ctx, unsigned long state);
};

/* Each arena on cache lines of its own: the heap's counters change on every call, and arenas
 * side by side in an array would otherwise bounce a shared line between the CPUs using them. */
#ifndef ARENA_ALIGN
#define ARENA_ALIGN 64
#endif
struct arena {
    _Alignas(ARENA_ALIGN) struct heap heap;
    void       *lock_ctx; /* set by the caller before arena_init */
    struct heap_locking locking;   /* arena_init: the set's callbacks with lock_ctx, for the
                                      heap's locked calls (heap_alloc_locked) */
};

/* One region of one arena, [lo, hi), in the caller's storage. Frees read the table without a
 * lock (a sequence count tells them to retry when it changed under them), so the fields are
 * read and written with atomic builtins only. */
struct arena_range { uintptr_t lo, hi, arena; };

struct arena_set {
    unsigned long (*lock)(void *ctx);   /* arena_lock's, copied: one load less per call */
    void          (*unlock)(void *ctx, unsigned long state);
    struct arena *arenas;
    unsigned      count;
    void         *table_ctx;      /* the lock serialising table changes: not an arena's (both are held at once) */
    struct arena_range *ranges;   /* sorted by address, `cap` entries of storage */
    size_t        cap;
    size_t        nranges;        /* accessed atomically */
    unsigned      seq;            /* odd while the table changes (accessed atomically) */
    uint64_t      error_count;    /* misuse the set found itself: a pointer in no arena */
    unsigned      flags;          /* ARENA_F_*, 0 after arena_init; set before any allocation */
};

#define ARENA_F_GROW 1u /* regions from the platform on demand, given back when empty (seam.h) */

/* Set up s over count arenas (each arenas[i].lock_ctx already set) with an empty table of cap
 * entries. Every arena starts empty. 0, or -MEM_ERR_REGION_RANGE for bad arguments. */
int    arena_init(struct arena_set *s, struct arena *arenas, unsigned count,
                  const struct arena_lock *ops, void *table_ctx,
                  struct arena_range *ranges, size_t cap);
/* Give arena `which` the memory [start, start + size), as heap_add_region. Refused also
 * (-MEM_ERR_REGION_OVERLAP) when the table is full or the range overlaps another arena's. */
int    arena_add_region(struct arena_set *s, unsigned which, void *start, size_t size);
/* Give back the entirely free region that starts at start, from whichever arena has it: 0, or -1. */
int    arena_remove_region(struct arena_set *s, void *start);

/* Caller `who` (any number: taken modulo count) allocates from its arena (grown first, in a set
 * with ARENA_F_GROW), then the others. */
void  *arena_alloc(struct arena_set *s, unsigned who, size_t size);
/* To the owning arena, under its lock. 0 or the error reported (the set's error handler is
 * mem_set_error_handler's, called with no lock held). */
int    arena_free(struct arena_set *s, void *ptr);
size_t arena_usable_size(struct arena_set *s, const void *ptr);
/* The arena that owns ptr's region, or -1 (no lock taken: an answer for diagnostics). */
int    arena_owner(struct arena_set *s, const void *ptr);

/* The rest of the malloc family, with arena_alloc's choice of arena (and growth, see above).
 * arena_aligned_alloc: any power of two, as heap_aligned_alloc. arena_calloc: zeroed.
 * arena_realloc: C semantics (NULL: allocate; size 0: free, NULL). A block of the caller's own
 * arena grows or shrinks in place, or moves inside that arena, as heap_realloc does; a block of
 * another arena shrinks in place, or moves: allocated from the caller's arena, copied, freed to
 * its owner. A failed realloc keeps the block. */
void  *arena_aligned_alloc(struct arena_set *s, unsigned who, size_t alignment, size_t size);
void  *arena_calloc(struct arena_set *s, unsigned who, size_t count, size_t size);
void  *arena_realloc(struct arena_set *s, unsigned who, void *ptr, size_t size);
/* heap_set_poison on every arena. */
void   arena_set_poison(struct arena_set *s, int on);
/* heap_note_returned into arena `which`'s ring: a later free of [start, start + size), which no
 * arena owns, is named MEM_ERR_RETURNED (for memory the caller mapped beside the arenas). */
void   arena_note_returned(struct arena_set *s, unsigned which, const void *start, size_t size);

/* Stats of one arena (which < count), or of all (which == ARENA_ALL: byte and block figures
 * summed, largest_free the largest of any, peak_used and min_free the sums of each arena's;
 * error_count includes the set's own). failed_count counts every arena's refusals, so a request
 * one arena refused and another served counts once there. */
#define ARENA_ALL (~0u)
void   arena_stats(struct arena_set *s, unsigned which, struct mem_stats *out);
/* Add m's figures into t as arena_stats sums them (largest_free: the larger). */
void   arena_stats_add(struct mem_stats *t, const struct mem_stats *m);
/* heap_check of one arena or of all (plus the table: sorted, disjoint, each range a region
 * of its arena): the number of violations. */
int    arena_check(struct arena_set *s, unsigned which);
/* arena_check(s, ARENA_ALL) with one line per violation to write (heap_check_report's lines,
 * and "check: arena table: ..." for the table's own). */
int    arena_check_report(struct arena_set *s, heap_write_fn write, void *ctx);
/* Each arena's heap_dump, under a header line per arena. */
void   arena_dump(struct arena_set *s, heap_write_fn write, void *ctx);

#endif
