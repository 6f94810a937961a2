/* heap.h - kheap instance API: one first-fit heap over memory the caller hands in.
 *
 * Nothing here allocates or locks: a struct heap is plain data that the caller owns and
 * serialises. lib/mem.h wraps one default instance with the platform's lock and memory. */
#ifndef KHEAP_HEAP_H
#define KHEAP_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* Every pointer handed out is aligned to this, on every target. */
#define MEM_ALIGN 16

/* ---- Misuse reports, shared by heap_* and mem_* ---------------------------------------- */

enum mem_error {
    MEM_OK = 0,
    MEM_ERR_NOT_IN_HEAP,    /* the pointer lies outside every region of the heap */
    MEM_ERR_MISALIGNED,     /* inside a region, but not MEM_ALIGN-aligned: never a payload */
    MEM_ERR_NOT_A_BLOCK,    /* in the heap but not a block's start: interior pointer, or metadata */
    MEM_ERR_DOUBLE_FREE,    /* free of a pointer that starts a free block: freed already */
    MEM_ERR_CORRUPT,        /* the heap's own tables disagree: memory outside every block was overwritten */
    MEM_ERR_USE_AFTER_FREE, /* debug mode: a freed block's fill pattern changed before reuse */
    MEM_ERR_REGION_SMALL,   /* heap_add_region: too small to hold one block after its metadata */
    MEM_ERR_REGION_OVERLAP, /* heap_add_region: overlaps a region the heap already has */
    MEM_ERR_REGION_RANGE,   /* heap_add_region: NULL, or the range wraps the address space */
    MEM_ERR_FREED_POINTER,  /* realloc or usable_size of a pointer that starts a free block */
    MEM_ERR_FREE_MEMORY,    /* inside a free block, or in memory never handed out: not a block
                               (a double free of a block merged into the one before lands here) */
    MEM_ERR_RETURNED,       /* in a region the heap already gave back (heap_remove_region): the
                               block was freed and its memory returned, so this is a double free */
    MEM_ERR_COUNT
};

/* Called on every detected misuse with the cause and the offending pointer, never with a lock
 * held. The default prints one line and stops (kernel: panic; host: abort). A handler that
 * returns turns a call with a bad pointer into a no-op: free does nothing, realloc returns NULL
 * and usable_size 0, and the heap is exactly as before. A write after free found when a block
 * is handed out again (MEM_ERR_USE_AFTER_FREE) is different: the heap itself is sound (only the
 * block's old contents were damaged), so after the report the allocation goes on and returns
 * that block. It must not allocate. */
typedef void (*mem_error_fn)(enum mem_error err, const void *ptr);

mem_error_fn mem_set_error_handler(mem_error_fn fn); /* NULL restores the default; returns previous */
const char  *mem_strerror(enum mem_error err);       /* "double free", ... */

/* ---- Statistics ----------------------------------------------------------------------- */

/* Byte figures count whole blocks (a request rounded up to 16); total = free + used. The first five are
 * state: after freeing everything they equal those of the fresh heap. The rest keep history. */
struct mem_stats {
    size_t   total_bytes;     /* bytes in blocks, over all regions (region metadata excluded) */
    size_t   free_bytes;      /* bytes in free blocks */
    size_t   used_bytes;      /* bytes in allocated blocks, rounding included */
    size_t   largest_free;    /* largest request the heap can satisfy now (usable bytes at MEM_ALIGN) */
    size_t   free_blocks;     /* number of free blocks */
    size_t   used_blocks;     /* number of allocated blocks */
    size_t   peak_used_bytes; /* highest used_bytes ever */
    size_t   min_free_bytes;  /* lowest free_bytes ever (raised by the size of each region added) */
    size_t   region_count;    /* regions in the heap */
    size_t   overhead_bytes;  /* region metadata: descriptors and tables (maps, skip bits, summary), slack */
    uint64_t alloc_count;     /* successful allocations (alloc, calloc, aligned, realloc that moved) */
    uint64_t free_count;      /* successful frees (free, and realloc's release of a moved block) */
    uint64_t failed_count;    /* allocations refused: no room, zero or absurd size */
    uint64_t error_count;     /* misuse detected and reported (every enum mem_error ever raised) */
};

/* ---- The heap ---------------------------------------------------------------------------- */

#define HEAP_RETURNED 8

struct rb_node; /* the region tree's links, in each region's descriptor (see heap.c) */

/* A complete type so a caller can declare one; treat the fields as private. */
struct heap {
    struct rb_node *regions;      /* region descriptors by address (tree root) */
    void    *region_hint;         /* the region found last: most lookups hit it */
    size_t   total_bytes, free_bytes, used_bytes, free_blocks, used_blocks;
    size_t   peak_used_bytes, min_free_bytes, region_count, overhead_bytes;
    uint64_t alloc_count, free_count, failed_count, error_count;
    unsigned flags; /* HEAP_F_* */
    /* The last HEAP_RETURNED regions given back, [lo, hi), oldest first: a pointer into one is
     * named MEM_ERR_RETURNED rather than "outside the heap". Adding a region drops those it
     * overlaps. */
    struct { uintptr_t lo, hi; } returned[HEAP_RETURNED];
};

#define HEAP_F_POISON 1u /* debug mode: fill freed payloads, verify the fill when handed out again */

/* Set up h over [start, start+size); start may be NULL with size 0 for an empty heap that
 * gets its memory from heap_add_region. Returns 0 or a negative enum mem_error. */
int    heap_init(struct heap *h, void *start, size_t size);
/* Add memory. The start is rounded up and the end down to what blocks need; a region that is
 * too small, overlaps another, or wraps is refused with a negative enum mem_error. */
int    heap_add_region(struct heap *h, void *start, size_t size);
/* Like heap_add_region, for a region that may grow later, up to start + reserve (reserve >=
 * size), with heap_region_extend. Its tables cover the reserve (1.7% of it). flags:
 * HEAP_REGION_ZEROED if [start, start + size) holds zeros (fresh pages): the heap then writes
 * only what it must, and calloc need not clear what it hands out from there (heap_region_zeroed). */
int    heap_add_region_reserve(struct heap *h, void *start, size_t size, size_t reserve,
                               unsigned flags);
#define HEAP_REGION_ZEROED 1u
/* Move the end of the region added at start up to start + size (no further than its reserve):
 * the new bytes join the heap as free memory, merged with a free last block (less than a granule
 * more joins nothing yet). 0, or -MEM_ERR_REGION_RANGE: not a region's start, shrinking, or past
 * the reserve. */
int    heap_region_extend(struct heap *h, void *start, size_t size);
/* The smallest region whose one free block can hold block_bytes (a block size: the request
 * rounded up to 16, plus any alignment slack) when added with the given reserve (0: no
 * reserve); 0 if no region can (or none within the reserve). */
size_t heap_region_size(size_t block_bytes, size_t reserve);
/* Give back a region whose memory is entirely free; 0, or -1 if it is not (or unknown). */
int    heap_remove_region(struct heap *h, void *start);
/* Memory the platform handed out beside the heap and took back: a later free into
 * [start, start + size) is named MEM_ERR_RETURNED, as one into a removed region is. */
void   heap_note_returned(struct heap *h, const void *start, size_t size);
/* The region that holds ptr, if it is entirely free: its start and size (its reserve, if it
 * was added with one); else 0. */
int    heap_region_if_empty(struct heap *h, const void *ptr, void **start, size_t *size);
/* The region that starts at start holds only zeros (fresh pages from the OS): calloc need not
 * clear what it hands out from the part never handed out before. */
void   heap_region_zeroed(struct heap *h, void *start);
/* Debug mode: fill freed payloads with a pattern, verify it when handed out again, report a
 * change as MEM_ERR_USE_AFTER_FREE. Turning it on fills every free block now. */
void   heap_set_poison(struct heap *h, int on);

/* ---- Allocation ---------------------------------------------------------------------------- */

void  *heap_alloc(struct heap *h, size_t size);                  /* NULL for 0, absurd or no room */
int    heap_free(struct heap *h, void *ptr);                     /* 0 or the error it reported */
void  *heap_calloc(struct heap *h, size_t count, size_t size);   /* zeroed; NULL if count*size overflows */
void  *heap_realloc(struct heap *h, void *ptr, size_t size);     /* C semantics; see heap.c */
void  *heap_aligned_alloc(struct heap *h, size_t alignment, size_t size); /* any power of two */
size_t heap_usable_size(struct heap *h, const void *ptr);        /* 0 for NULL or a bad pointer */

/* ---- Looking inside ------------------------------------------------------------------------- */

/* Every block in address order. ptr: the payload address the block has or would have; size: its
 * usable bytes (for a free block, the largest request this block alone could satisfy). */
typedef void (*heap_visit_fn)(void *ctx, void *ptr, size_t size, int used);
typedef void (*heap_write_fn)(void *ctx, const char *text, size_t len);

int    heap_check(struct heap *h);  /* 0 when every invariant holds, else the number of violations */
const char *heap_index_name(void);  /* the free index built in: "tree" (fast) or "list" (reference) */
void   heap_stats(struct heap *h, struct mem_stats *out);
void   heap_walk(struct heap *h, heap_visit_fn visit, void *ctx);
void   heap_dump(struct heap *h, heap_write_fn write, void *ctx);  /* mem_dump's text, to any sink */
/* Like heap_check, but also writes one line per violation to write (may be NULL). */
int    heap_check_report(struct heap *h, heap_write_fn write, void *ctx);

#endif
