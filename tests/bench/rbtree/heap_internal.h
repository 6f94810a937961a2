/* Frozen benchmark baseline: the red-black-tree design of lib/heap_internal.h at commit 6dbb346, copied
 * unchanged below this comment for tests/bench (bench-rbtree). Do not edit; see README.md here. */
/* heap_internal.h - the block format and the helpers that read it, shared by the allocator core
 * (heap.c), the free index (index_tree.c or index_list.c) and the checker (heap_check.c).
 * The format and its invariants are described once, at the top of heap.c. */
#ifndef KHEAP_HEAP_INTERNAL_H
#define KHEAP_HEAP_INTERNAL_H

#include <stdint.h>
#include "heap.h"

/* All lib/ uses from outside itself besides the seam: the platform provides these four (the
 * kernel in kernel/string.c, the host's libc), so lib/ needs no <string.h>. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int   memcmp(const void *a, const void *b, size_t n);

/* Build with -DKHEAP_DEBUG_FILL=1 (make KHEAP_DEBUG_FILL=1) and every heap starts in debug-fill
 * mode (HEAP_F_POISON); otherwise heap_set_poison (or KHEAP_POISON=1 on the host) turns it on. */
#ifndef KHEAP_DEBUG_FILL
#define KHEAP_DEBUG_FILL 0
#endif

#define WORD       sizeof(size_t)
#define GRANULE    ((size_t)MEM_ALIGN)

/* Header flag bits; block sizes are multiples of GRANULE, so the low four bits are free. */
#define F_USED     ((size_t)1) /* allocated (or a pad) */
#define F_PREV_USED ((size_t)2) /* the block just before is allocated: there is no footer to read */
#define F_ALIGNED  ((size_t)4) /* handed out by aligned_alloc above MEM_ALIGN: realloc keeps alignment */
#define F_PAD      ((size_t)8) /* a used fragment smaller than MIN_BLOCK before an aligned block */
#define F_MASK     ((size_t)15)

/* The free index's links, stored in the payload of every free block (and in each region
 * descriptor, for the region tree). The word just before a node is always a size word. */
struct heap_node {
    uintptr_t parent_color;   /* tree: parent pointer, low bit 1 = red; list: unused */
    struct heap_node *child[2]; /* tree: [0] lower, [1] higher addresses; list: prev, next */
    size_t max;               /* tree: largest block size in this subtree; list: unused */
};

#define MIN_BLOCK  (((WORD + sizeof(struct heap_node) + WORD) + GRANULE - 1) & ~(GRANULE - 1))
#define MAX_BLOCK  (((size_t)-1 >> 1) & ~(GRANULE - 1)) /* sizes above this are refused outright */
#define MAX_REQUEST (MAX_BLOCK - WORD - GRANULE)          /* the largest n that alloc(n) accepts */

typedef struct block {
    size_t head;              /* size | F_* flags */
} block;

/* A region: the descriptor sits at the region's start, laid out like a block header (its size
 * word is the region's span) so that the same tree code indexes regions by address. */
struct region {
    size_t span;              /* bytes from the descriptor to the end marker's end */
    struct heap_node node;    /* in the heap's region tree */
    char *first;              /* first block */
    char *end;                /* the end marker: a used header of size 0 */
    uint8_t *starts;          /* one bit per granule from first: set where a block starts */
    char *clean;              /* never handed out from here up (zeroed regions; else = end) */
    char *base;               /* the start the caller handed in */
    size_t given;             /* the size the caller handed in (or extended it to) */
    size_t reserve;           /* the size it may be extended to (the bitmap covers it) */
};

/* ---- Blocks ------------------------------------------------------------------------------- */

/* The block whose head is at addr. Every head is word-aligned by the format, so the cast is
 * safe; converting through uintptr_t says so to -Wcast-align. */
static inline block *block_at(const void *addr) { return (block *)(uintptr_t)addr; }
static inline size_t *word_at(const void *addr) { return (size_t *)(uintptr_t)addr; }

static inline size_t bsize(const block *b)        { return b->head & ~F_MASK; }
static inline int    bused(const block *b)        { return (b->head & F_USED) != 0; }
static inline int    bprev_used(const block *b)   { return (b->head & F_PREV_USED) != 0; }
static inline block *bnext(const block *b)       { return block_at((const char *)b + bsize(b)); }
static inline void  *bpayload(const block *b)     { return (char *)b + WORD; }
static inline block *bfrom_payload(const void *p) { return block_at((const char *)p - WORD); }
static inline size_t *bfooter(const block *b)     { return word_at((const char *)b + bsize(b) - WORD); }
/* Only when !bprev_used(b): the previous block, found through its footer. */
static inline block *bprev(const block *b)        { return block_at((const char *)b - ((const size_t *)b)[-1]); }

static inline struct heap_node *bnode(const block *b)  { return (struct heap_node *)bpayload(b); }
static inline block *node_block(const struct heap_node *n) { return bfrom_payload(n); }
static inline size_t node_size(const struct heap_node *n)  { return ((const size_t *)n)[-1] & ~F_MASK; }

/* ---- Request sizes ------------------------------------------------------------------------ */

/* The block size for a request of n bytes, or 0 when n is 0 or absurd. */
static inline size_t block_size_for(size_t n)
{
    if (n == 0 || n > MAX_REQUEST)
        return 0;
    size_t s = (n + WORD + GRANULE - 1) & ~(GRANULE - 1);
    return s < MIN_BLOCK ? MIN_BLOCK : s;
}

/* Above MEM_ALIGN, the bytes a block may need before its first aligned payload address. */
static inline size_t align_slack(size_t align) { return align > MEM_ALIGN ? align - GRANULE : 0; }

/* The size of free block that surely holds n bytes at alignment align: the block size plus
 * the alignment slack. 0 for a request the heap refuses (zero or absurd size, alignment not a
 * power of two or too large). */
static inline size_t fit_size(size_t align, size_t n)
{
    size_t need = block_size_for(n), slack = align_slack(align);
    if (!need || !align || (align & (align - 1)) || align > MAX_BLOCK / 2 || need > MAX_BLOCK - slack)
        return 0;
    return need + slack;
}

/* ---- The region's block-start bitmap ---------------------------------------------------- */

static inline size_t start_bit(const struct region *r, const void *b)
{
    return (size_t)((const char *)b - r->first) / GRANULE;
}
static inline int is_start(const struct region *r, const void *b)
{
    size_t i = start_bit(r, b);
    return (r->starts[i / 8] >> (i % 8)) & 1;
}
static inline void mark_start(struct region *r, const void *b)
{
    size_t i = start_bit(r, b);
    r->starts[i / 8] |= (uint8_t)(1u << (i % 8));
}
static inline void clear_start(struct region *r, const void *b)
{
    size_t i = start_bit(r, b);
    r->starts[i / 8] &= (uint8_t)~(1u << (i % 8));
}

/* ---- The free index (index_tree.c or index_list.c) ---------------------------------------- */

void   free_insert(struct heap *h, block *b);             /* b's header holds its size */
void   free_remove(struct heap *h, block *b);
void   free_replace(struct heap *h, block *old, block *b); /* b takes old's place in address order */
void   free_resized(struct heap *h, block *b);            /* b's size changed */
block *free_find(struct heap *h, size_t size);            /* lowest-addressed block of >= size */
block *free_floor(struct heap *h, const void *addr);      /* highest-addressed block at or below addr */
size_t free_largest(struct heap *h);                      /* size of the largest free block, or 0 */
block *free_first(struct heap *h);                        /* address order, for the checker */
block *free_next(struct heap *h, block *b);
int    free_index_check(struct heap *h);                  /* 0 when the index's own links hold */

/* ---- Regions (tree of descriptors, in heap.c) -------------------------------------------- */

struct region *region_of(struct heap *h, const void *p);      /* the region whose memory holds p */
struct region *region_first(const struct heap *h);
struct region *region_next(const struct region *r);

/* The augmented red-black tree shared by the free tree and the region tree (rbtree.c). */
void rb_insert(struct heap_node **root, struct heap_node *n);
void rb_erase(struct heap_node **root, struct heap_node *n);
void rb_replace(struct heap_node **root, struct heap_node *old, struct heap_node *n);
void rb_update_max(struct heap_node *n);                  /* n's key size changed: fix maxima up */
struct heap_node *rb_first(struct heap_node *root);
struct heap_node *rb_next(struct heap_node *n);
int rb_check(const struct heap_node *root);               /* 0 when every tree rule holds */

/* ---- The operations without lock or report (heap.c), for the instance API and mem.c ---- */

struct fault {                            /* a misuse found under the lock, reported after it */
    enum mem_error err;
    const void *ptr;
};
struct fault *fault_set(struct heap *h, struct fault *f, enum mem_error err, const void *ptr);
void   fault_report(const struct fault *f); /* calls the error handler (heap_error.c) */

/* Report f if it holds an error, and return it: one test on the path of every call. */
static inline int fault_raise(const struct fault *f)
{
    if (f->err != MEM_OK)
        fault_report(f);
    return f->err;
}

void  *heap_alloc_quiet(struct heap *h, size_t n, struct fault *f);
void  *heap_aligned_alloc_quiet(struct heap *h, size_t align, size_t n, struct fault *f);
void  *heap_calloc_quiet(struct heap *h, size_t count, size_t size, struct fault *f);
int    heap_free_quiet(struct heap *h, void *p, struct fault *f);
void  *heap_realloc_quiet(struct heap *h, void *p, size_t n, struct fault *f);
size_t heap_usable_size_quiet(struct heap *h, const void *p, struct fault *f);
size_t calloc_bytes(size_t count, size_t size);   /* count * size, 0 on overflow */
size_t heap_growth_size(struct heap *h, const void *p, size_t n, void **start); /* see heap.c */
size_t heap_move_size(struct heap *h, const void *p, size_t n);                 /* see heap.c */

/* Text output for dump and check reports, without libc. */
struct out { heap_write_fn write; void *ctx; };
void out_str(struct out *o, const char *s);
void out_num(struct out *o, uintmax_t v, unsigned base, int width);

#endif
