/* model.h - the reference model of kheap: the placement, split, coalesce, realloc and aligned
 * policies of lib/heap.c, re-implemented over an abstract description of the heap (a sorted
 * array of spans) that never reads the real heap's memory or internals.
 *
 * The model is told where each region lies (the memory handed to heap_add_region) and where its
 * blocks run (first block and end marker, taken from the real heap's initial heap_walk). From
 * then on it predicts, for every operation, the address returned (or 0 for NULL), the misuse
 * reported (enum mem_error) and every figure of struct mem_stats. */
#ifndef KHEAP_MODEL_H
#define KHEAP_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "heap.h"

#define MODEL_MAX_REGIONS 8

/* One block: [addr, addr + size); blocks have no header, so addr is also the payload. */
struct mspan {
    uintptr_t addr;
    size_t size;
    unsigned char used;    /* allocated */
    unsigned char aligned; /* handed out by aligned_alloc above MEM_ALIGN */
};

struct mregion {
    uintptr_t base;  /* the memory handed in: [base, base + given) */
    size_t given;    /* (grown by heap_region_extend) */
    size_t reserve;  /* what it may be extended to */
    uintptr_t first; /* the first block */
    uintptr_t end;   /* blocks tile [first, end) */
    uintptr_t top;   /* nothing was handed out from here up (since it was last added) */
    int present;     /* 0 after heap_remove_region, until it is added again */
};

struct mstats {
    size_t total_bytes, free_bytes, used_bytes, largest_free, free_blocks, used_blocks;
    size_t peak_used_bytes, min_free_bytes, region_count, overhead_bytes;
    uint64_t alloc_count, free_count, failed_count, error_count;
};

struct model {
    struct mspan *s;   /* every block of every region, sorted by address */
    size_t n, cap;
    struct mregion r[MODEL_MAX_REGIONS];
    size_t nr;
    size_t total, used, peak, min_free;
    uint64_t allocs, frees, failed, errors;
};

/* Format constants, as the specification says: no header, 16-byte granules, a 16-byte smallest
 * block (32 for an aligned one), and requests up to half the address space or 2^32 - 2 granules
 * (what a region's summary can count), whichever is less. */
#define M_GRANULE  ((size_t)16)
#define M_MIN      M_GRANULE
#define M_MIN_ALIGNED (2 * M_GRANULE)
#define M_MAX      (((size_t)-1 >> 1) / 16 < (size_t)0xFFFFFFFEu ? ((size_t)-1 >> 1) & ~(size_t)15 \
                                                                : (size_t)0xFFFFFFFEu * 16)

/* How often each policy path was taken, over all models of the process (for coverage figures). */
enum model_path {
    MP_SPLIT, MP_WHOLE, MP_GAP0, MP_GAP_FREE, MP_MERGE_PREV,
    MP_MERGE_NEXT, MP_SHRINK_SPLIT, MP_SHRINK_MERGE, MP_SHRINK_KEEP, MP_GROW_SPLIT, MP_GROW_WHOLE,
    MP_MOVE_PLAIN, MP_MOVE_ALIGNED, MP_MOVE_FAIL, MP_NO_FIT, MP_BAD_SIZE,
    MP_ERR_NOT_IN_HEAP, MP_ERR_MISALIGNED, MP_ERR_NOT_A_BLOCK, MP_ERR_DOUBLE_FREE,
    MP_ERR_FREED_POINTER, MP_ERR_FREE_MEMORY, MP_ERR_RETURNED,
    MP_REGION_REMOVED, MP_REGION_BUSY, MP_REGION_READDED, MP_REGION_EXTENDED, MP_COUNT
};
extern uint64_t model_paths[MP_COUNT];
extern const char *const model_path_names[MP_COUNT];

void model_init(struct model *m);
void model_destroy(struct model *m);
/* A region the real heap accepted, with its block range [first, end) (end = end marker). */
int  model_add_region(struct model *m, uintptr_t base, size_t given, size_t reserve, uintptr_t first,
                      uintptr_t end);
/* heap_region_extend(base of region k, size): 0 or the negative enum mem_error it returns. */
int  model_extend_region(struct model *m, size_t k, size_t size);

/* heap_remove_region(base of region k, in the order added): 0, or -1 if it is not entirely
 * free (or not there). model_readd_region puts a removed region back as it was. */
int  model_remove_region(struct model *m, size_t k);
int  model_readd_region(struct model *m, size_t k);
/* heap_region_if_empty(p): 1 and the region's memory (base, reserve) if p's region is entirely free. */
int  model_region_if_empty(const struct model *m, uintptr_t p, uintptr_t *base, size_t *reserve);
/* Would heap_add_region(lo, size) overlap a region the heap has? */
int  model_overlaps(const struct model *m, uintptr_t lo, size_t size);

/* The operations; addresses are payload addresses, 0 is NULL. *err receives the misuse the
 * call reports (MEM_OK when none). */
uintptr_t model_alloc(struct model *m, size_t n);
uintptr_t model_calloc(struct model *m, size_t count, size_t size);
uintptr_t model_aligned_alloc(struct model *m, size_t align, size_t n);
uintptr_t model_realloc(struct model *m, uintptr_t p, size_t n, enum mem_error *err);
enum mem_error model_free(struct model *m, uintptr_t p);
size_t    model_usable_size(struct model *m, uintptr_t p, enum mem_error *err);

/* What free(p) would report (use: realloc or usable_size), without changing anything. */
enum mem_error model_classify(const struct model *m, uintptr_t p, int use);
/* Usable bytes of the live block whose payload is p (0 if there is none). */
size_t model_usable(const struct model *m, uintptr_t p);
void   model_stats(const struct model *m, struct mstats *out);
/* Block size for a request of n bytes (from aligned_alloc above MEM_ALIGN: aligned), 0 when n is
 * 0 or absurd. */
size_t model_block_size(size_t n, int aligned);

#endif
