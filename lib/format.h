/* format.h - the heap's memory format: a region, its out-of-band tables, and the bit helpers that
 * read them. The format and its invariants are described once, at the top of heap.c; this file
 * is what heap.c, the free index (index.h) and the checker (heap_check.c) share.
 *
 * Nothing here reads memory that was handed out: a block is known only from the region's maps. */
#ifndef KHEAP_FORMAT_H
#define KHEAP_FORMAT_H

#include <stdint.h>
#include "heap.h"
#include "rbtree.h"

/* All lib/ uses from outside itself besides the seam: the platform provides these four (the
 * kernel in kernel/string.c, the host's libc), so lib/ needs no <string.h>. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int   memcmp(const void *a, const void *b, size_t n);

#define GRANULE     ((size_t)MEM_ALIGN)          /* blocks start and end on 16-byte granules */
#define NONE        ((size_t)-1)                 /* "no such granule" */

typedef size_t mapword;                          /* one word of a map: a chunk of granules */
#define MAP_BITS    (8 * sizeof(mapword))        /* granules per chunk: 64 (x86_64), 32 (i386) */

#define FANOUT      16                           /* children per node of the summary tree */
#define LEAF_FULL   255                          /* a leaf's "255 granules or more" */
#define SKIP_MAX    8                            /* levels of the start map's skip bits */
#define SUM_MAX     8                            /* levels of the summary tree above its leaves */

/* Block sizes, in granules. An aligned block (from aligned_alloc above MEM_ALIGN) is at least
 * two granules, so its mark fits inside it (heap.c). */
#define MIN_ALIGNED 2
#define MAX_GRANULES ((size_t)UINT32_MAX - 1)    /* per region: the summary counts in 32 bits */
/* The largest request: half the address space, or what a region's 32-bit summary can count. */
#define MAX_REQUEST (((size_t)-1 >> 1) / GRANULE < MAX_GRANULES ? ((size_t)-1 >> 1) & ~(GRANULE - 1) \
                                                                : MAX_GRANULES * GRANULE)

/* A region: the descriptor and its tables sit at the region's start, the blocks after them.
 * Granule g is the 16 bytes at first + 16 g. */
struct region {
    struct rb_node node;      /* in the heap's region tree; node.size = largest free (granules) */
    char *first;              /* granule 0 */
    size_t granules;          /* blocks tile granules [0, granules); the end sentinel follows */
    size_t capacity;          /* granules the tables cover: the region may grow to this */
    mapword *start;           /* bit g: a block starts at granule g (bit `granules`: sentinel) */
    mapword *mark;            /* bit g at a start: the block is free; inside a used block, at
                                 its second granule: the block is aligned */
    size_t map_words;         /* words in each of start and mark: capacity / MAP_BITS + 1 */
    mapword *skip[SKIP_MAX];  /* skip[0] bit i: start word i is not zero; skip[k]: of skip[k-1] */
    size_t skip_levels;
    uint8_t *leaf;            /* per start word: its largest free block (granules, LEAF_FULL = or more) */
    uint32_t *sum[SUM_MAX];   /* sum[0][j]: the largest free block in leaves FANOUT j ..; sum[k]:
                                 of sum[k-1]; the last level has one entry: the region's largest */
    uint8_t *sat[SUM_MAX];    /* sat[k][j]: sum[k][j] saturated at LEAF_FULL, as the leaves are:
                                 a node's 16 children are 16 contiguous bytes (index_tree.c) */
    size_t sum_levels;
    size_t sum_size[SUM_MAX]; /* entries per level */
    size_t sum_reach;         /* levels in use: every summarised free block starts below chunk
                                 FANOUT^sum_reach, so a search starts at sum[sum_reach - 1][0] */
    size_t reach_end;         /* FANOUT^sum_reach, or NONE when every level is in use: a free
                                 block from this chunk up needs more levels (one compare) */
    size_t wild;              /* the last block's start if it is free, else NONE: the index keeps
                                 it out of the summary (it changes with most allocations) */
    size_t cut, cut_end;      /* the cut block [cut, cut_end), or NONE (cut_end 0): what is left
                                 of the last block an allocation cut that was its chunk's largest,
                                 also kept out of the summary, so that cutting it again costs no
                                 climb (index_tree.c). Its end is kept, not searched for: it is
                                 usually a long block, whose end is a skip-bit search away */
    char *clean;              /* never handed out from here up (zeroed regions; else = end) */
    char *top;                /* never handed out from here up (every region): names misuse */
    char *base;               /* the start the caller handed in */
    size_t given;             /* the size the caller handed in (or extended it to) */
    size_t reserve;           /* the size it may be extended to (the tables cover it) */
};

/* ---- Granules and addresses ----------------------------------------------------------------- */

static inline uintptr_t align_up(uintptr_t v, uintptr_t a) { return (v + a - 1) & ~(a - 1); }
static inline uintptr_t align_down(uintptr_t v, uintptr_t a) { return v & ~(a - 1); }

static inline char  *gran_addr(const struct region *r, size_t g) { return r->first + g * GRANULE; }
static inline size_t gran_of(const struct region *r, const void *p)
{
    return (size_t)((const char *)p - r->first) / GRANULE;
}
static inline char  *region_end(const struct region *r) { return gran_addr(r, r->granules); }

/* ---- Bits of a map --------------------------------------------------------------------------- */

static inline int map_get(const mapword *m, size_t i) { return (int)((m[i / MAP_BITS] >> (i % MAP_BITS)) & 1); }
static inline void map_set(mapword *m, size_t i)   { m[i / MAP_BITS] |= (mapword)1 << (i % MAP_BITS); }
static inline void map_clear(mapword *m, size_t i) { m[i / MAP_BITS] &= ~((mapword)1 << (i % MAP_BITS)); }
static inline unsigned low_bit(mapword w)  { return (unsigned)__builtin_ctzl((unsigned long)w); }
static inline unsigned high_bit(mapword w) { return (unsigned)(MAP_BITS - 1) - (unsigned)__builtin_clzl((unsigned long)w); }

/* ---- Blocks, as the maps describe them --------------------------------------------------------- */

static inline int is_start(const struct region *r, size_t g) { return map_get(r->start, g); }
/* Only at a block start: */
static inline int is_free(const struct region *r, size_t g) { return map_get(r->mark, g); }
static inline int is_aligned(const struct region *r, size_t g)
{
    return !is_start(r, g + 1) && map_get(r->mark, g + 1);
}

/* ---- Region layout (format.c) ----------------------------------------------------------------
 * A region over [lo, hi) that may grow up to top puts its descriptor REGION_GUARD bytes above lo
 * rounded up to a granule, its tables (covering top) right after it, and its blocks from `first`. The layout is
 * a function of (lo, hi, top) alone, so heap_check can recompute it from a descriptor's base,
 * given and reserve and find a descriptor a wild write has changed. */
#define REGION_GUARD 64   /* bytes below the descriptor the heap never uses (heap.c, Memory format) */
struct layout {
    uintptr_t desc, tables, first, end;
    size_t table_bytes, capacity;
};
/* The granules such a region gets now (0: too small), its layout in *l. */
size_t region_layout(uintptr_t lo, uintptr_t hi, uintptr_t top, struct layout *l);
/* The tables for `capacity` granules from `at`: their pointers and sizes into r (if not NULL);
 * returns their bytes. */
size_t tables_layout(struct region *r, char *at, size_t capacity);

size_t start_after_far(const struct region *r, size_t i);   /* format.c: the slow paths */
size_t start_before_far(const struct region *r, size_t i);

/* The first block start after granule g (the sentinel at the latest). Most blocks end in the
 * chunk they start in: one word, one instruction; the skip bits cover the rest. */
static inline size_t start_after(const struct region *r, size_t g)
{
    size_t i = g + 1;
    mapword w = r->start[i / MAP_BITS] & (~(mapword)0 << (i % MAP_BITS));
    if (w)
        return i - i % MAP_BITS + low_bit(w);
    w = r->start[i / MAP_BITS + 1];      /* the word after: there is one, as the sentinel's is last */
    return w ? (i / MAP_BITS + 1) * MAP_BITS + low_bit(w) : start_after_far(r, i);
}

/* The last block start before granule g (g > 0: granule 0 always starts a block). */
static inline size_t start_before(const struct region *r, size_t g)
{
    size_t i = g - 1;
    mapword w = r->start[i / MAP_BITS] & (~(mapword)0 >> (MAP_BITS - 1 - i % MAP_BITS));
    if (w)
        return i - i % MAP_BITS + high_bit(w);
    w = i >= MAP_BITS ? r->start[i / MAP_BITS - 1] : 0;
    return w ? (i / MAP_BITS - 1) * MAP_BITS + high_bit(w) : start_before_far(r, i);
}

/* The start bit of granule g and, when its word turns empty or not, the skip bits above it:
 * inline for the usual case of a word that has other starts, format.c for the rest. */
void start_set_skip(struct region *r, size_t g);
void start_clear_skip(struct region *r, size_t g);

static inline void start_set(struct region *r, size_t g)
{
    mapword *w = &r->start[g / MAP_BITS];
    if (*w)
        *w |= (mapword)1 << (g % MAP_BITS);
    else
        start_set_skip(r, g);
}

static inline void start_clear(struct region *r, size_t g)
{
    mapword *w = &r->start[g / MAP_BITS];
    *w &= ~((mapword)1 << (g % MAP_BITS));
    if (!*w)
        start_clear_skip(r, g);
}

/* ---- Regions (heap.c) ------------------------------------------------------------------------ */

static inline int region_holds(const struct region *r, const void *p)
{
    return r && (uintptr_t)p - (uintptr_t)r->base < r->given;  /* below base wraps: large */
}
struct region *region_of(struct heap *h, const void *p);      /* the region whose memory holds p */
struct region *region_floor(const struct heap *h, const void *p); /* highest descriptor <= p */
struct region *region_first(const struct heap *h);
struct region *region_next(const struct region *r);
static inline struct region *node_region(struct rb_node *n)
{
    return n ? (struct region *)(void *)n : NULL;   /* node is the first member */
}

#endif
