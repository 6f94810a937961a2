/* Frozen benchmark baseline: the red-black-tree design of lib/heap.c at commit 6dbb346, copied
 * unchanged below this comment for tests/bench (bench-rbtree). Do not edit; see README.md here. */
/* heap.c - the kheap allocator core: address-ordered first fit over one or more regions.
 *
 * ==== Memory format ==========================================================================
 *
 * W is the machine word (4 on i386, 8 on x86_64); sizes are multiples of MEM_ALIGN (16).
 *
 * A region, as heap_add_region lays it out over the memory it is given:
 *
 *   [ descriptor | start bitmap | pad ][ block ][ block ] ... [ block ][ end marker (W) ]
 *                                      ^ first                         ^ end
 *
 *   - the descriptor (struct region) records first, end and the bitmap; regions sit in a
 *     red-black tree keyed by address, so finding a pointer's region is O(log regions);
 *   - the start bitmap has one bit per 16-byte granule from `first`: a bit is set exactly where
 *     a block (or the end marker) starts. It costs 1/128 of the region and turns "is this a
 *     block I handed out?" into one bit test;
 *   - the end marker is a header of size 0 flagged used, so the last block has a next header.
 *   - a region may be added with a reserve: room beyond its end that it may grow into later
 *     (heap_region_extend moves the end marker up). Its bitmap covers the reserve.
 *
 * A block starts W bytes before a 16-aligned address, so its payload is 16-aligned:
 *
 *   allocated:  [ head ][ payload ....................................... ]
 *   free:       [ head ][ parent|colour ][ child[0] ][ child[1] ][ max ] ... [ foot ]
 *
 *   head = size | flags, size = the whole block in bytes (head included).
 *     F_USED       allocated (or a pad, below)
 *     F_PREV_USED  the block before is allocated, so there is no footer before this head
 *     F_ALIGNED    handed out by aligned_alloc above MEM_ALIGN (realloc keeps its alignment)
 *     F_PAD        a used fragment of 16 or 32 bytes, too small to be a free block, left in
 *                  front of an aligned block; it belongs to that block and is freed with it
 *   foot = size, in the last word of a free block only (boundary tag for coalescing).
 *   The free-index node (struct heap_node) sits right after the head of a free block.
 *
 * An allocated block costs one word (the head). The smallest block holds a free block's head,
 * node and foot: MIN_BLOCK = 32 bytes on i386, 48 on x86_64.
 *
 * ==== Invariants (heap_check verifies every one) ===============================================
 *
 *   1. Blocks tile each region from first to end: each starts where the previous ends.
 *   2. The start bitmap has a bit set at each block start and the end marker, nowhere else.
 *   3. Every block is >= MIN_BLOCK bytes, except pads (16 or 32 bytes, followed by an
 *      F_ALIGNED block); sizes are multiples of 16.
 *   4. A block's F_PREV_USED flag equals the used flag of the block before it (the region's
 *      first block counts its descriptor as used); every free block's foot equals its size.
 *   5. No two free blocks are adjacent: a freed block merges at once with free neighbours.
 *   6. The free index holds exactly the free blocks, in address order; each tree node's max is
 *      the largest size in its subtree.
 *   7. The heap's byte and block counts equal what a walk adds up.
 *
 * ==== Policies (the reference model in tests/ implements exactly these) ==========================
 *
 *   Block size for a request of n bytes: n + W rounded up to 16, at least MIN_BLOCK.
 *   alloc: the lowest-addressed free block (over all regions) of at least that size; if the
 *     rest can stand as a block (>= MIN_BLOCK) it is split off as a free block above, else the
 *     whole block is handed out.
 *   aligned_alloc(a > 16): the lowest-addressed free block of at least size + a - 16 bytes (any
 *     such block fits, wherever it starts, so the search stays logarithmic). The payload is the
 *     first a-aligned address in it. The gap before the payload stays a free block if it can
 *     stand as one, else it becomes a pad. The rest is split off as for alloc.
 *   free: the block merges with a pad before it and with free neighbours on both sides.
 *   realloc: shrinks in place (splitting off the rest if it can stand as a block, merged with a
 *     free next neighbour); grows in place into a free next neighbour when that is enough
 *     (splitting as alloc does); otherwise allocates (with the alignment of the old address if
 *     the block is F_ALIGNED: its lowest set bit), copies, and frees. A failure leaves the old
 *     block untouched.
 *
 * ==== Misuse (checked on every free, realloc and usable_size, in every build) =====================
 *
 *   Each pointer is checked in O(log regions) + O(1): its region, its alignment, its bit in
 *   the start bitmap, its head (used, not a pad), and the heads and feet of the blocks on both
 *   sides (so an overrun into the next block's head is caught by the next free of either
 *   block). Only when a check fails does the heap spend O(log n) more to name the cause
 *   (a pointer into free memory is a double free). Nothing is written before all checks pass.
 *
 * ==== Cost ============================================================================================
 *
 *   alloc, aligned_alloc, free, realloc in place: O(log free blocks + log regions) worst case,
 *   with no walk over blocks; realloc that moves adds one copy. calloc adds the clearing. The
 *   default heap's lock (mem.c) is held for exactly that, never across a copy larger than the
 *   block, and never while the error handler runs. heap_region_extend is O(log free blocks +
 *   log regions). heap_walk and heap_dump are O(blocks); heap_check is O(blocks) plus a scan of
 *   each start bitmap (reserve bytes / 128); heap_stats is O(1) (O(n) with the list index).
 *   Debug fill is O(block size).
 */
#include "annotate.h"
#include "heap_internal.h"

#define POISON_BYTE 0xDB

/* ---- Sizes --------------------------------------------------------------------------------- */

static uintptr_t align_up(uintptr_t v, uintptr_t a) { return (v + a - 1) & ~(a - 1); }
static uintptr_t align_down(uintptr_t v, uintptr_t a) { return v & ~(a - 1); }

/* ---- Debug fill (HEAP_F_POISON) ------------------------------------------------------------ */

static int poisoning(const struct heap *h) { return (h->flags & HEAP_F_POISON) != 0; }

static void poison(char *from, char *to)
{
    if (from < to)
        memset(from, POISON_BYTE, (size_t)(to - from));
}

/* The payload of a free block, less its node and foot: what the fill covers. */
static char *fill_start(block *f) { return (char *)bnode(f) + sizeof(struct heap_node); }
static char *fill_end(block *f)   { return (char *)bfooter(f); }

/* Bytes [lo, hi) of free block f are about to be handed out: are they still the fill? */
static int poison_intact(block *f, char *lo, char *hi)
{
    if (lo < fill_start(f))
        lo = fill_start(f);
    if (hi > fill_end(f))
        hi = fill_end(f);
    for (; lo < hi; lo++)
        if (*(unsigned char *)lo != POISON_BYTE)
            return 0;
    return 1;
}

void heap_set_poison(struct heap *h, int on)
{
    ANNOTATE_ENTER();
    if (on && !poisoning(h))
        for (block *f = free_first(h); f; f = free_next(h, f))
            poison(fill_start(f), fill_end(f));
    h->flags = on ? h->flags | HEAP_F_POISON : h->flags & ~HEAP_F_POISON;
    ANNOTATE_LEAVE();
}

/* ---- Regions ------------------------------------------------------------------------------- */

static struct region *node_region(struct heap_node *n)
{
    return n ? (struct region *)(uintptr_t)((char *)n - offsetof(struct region, node)) : NULL;
}

/* The region with the highest descriptor address at or below p. */
static struct region *region_floor(const struct heap *h, const void *p)
{
    struct heap_node *n = h->regions, *best = NULL;
    while (n) {
        if ((const char *)n <= (const char *)p) {
            best = n;
            n = n->child[1];
        } else {
            n = n->child[0];
        }
    }
    return node_region(best);
}

static int region_holds(const struct region *r, const void *p)
{
    return r && (uintptr_t)p - (uintptr_t)r->base < r->given;  /* below base wraps: large */
}

/* Most lookups hit the region found last: that test inline, the tree search out of line. */
static inline struct region *region_at(struct heap *h, const void *p)
{
    struct region *r = h->region_hint;
    return region_holds(r, p) ? r : region_of(h, p);
}

struct region *region_of(struct heap *h, const void *p)
{
    struct region *r = h->region_hint;
    if (region_holds(r, p))
        return r;
    r = region_floor(h, p);
    if (!region_holds(r, p)) {
        r = r ? region_next(r) : region_first(h); /* p may lie before the next descriptor */
        if (!region_holds(r, p))
            return NULL;
    }
    h->region_hint = r;
    return r;
}

struct region *region_first(const struct heap *h) { return node_region(rb_first(h->regions)); }
struct region *region_next(const struct region *r)
{
    return r ? node_region(rb_next((struct heap_node *)&r->node)) : NULL;
}

static int region_overlaps(const struct heap *h, uintptr_t lo, uintptr_t hi)
{
    struct region *r = region_floor(h, (const void *)(hi - 1));
    struct region *s = r ? region_next(r) : region_first(h);
    for (int i = 0; i < 2; i++, r = s)
        if (r && (uintptr_t)r->base < hi && (uintptr_t)r->base + r->reserve > lo)
            return 1;
    return 0;
}

static int region_add(struct heap *h, void *start, size_t size, size_t reserve, unsigned flags);
static void set_head(block *b, size_t head);
static void set_free(block *b, size_t size, size_t prev_used);
static void block_release(struct heap *h, struct region *r, block *b);
static int prev_sane(const struct region *r, const block *b);

int heap_init(struct heap *h, void *start, size_t size)
{
    memset(h, 0, sizeof *h);
    h->flags = KHEAP_DEBUG_FILL ? HEAP_F_POISON : 0;
    if (start == NULL && size == 0)
        return 0;
    return heap_add_region(h, start, size);
}

int heap_add_region(struct heap *h, void *start, size_t size)
{
    return heap_add_region_reserve(h, start, size, size, 0);
}

int heap_add_region_reserve(struct heap *h, void *start, size_t size, size_t reserve,
                            unsigned flags)
{
    ANNOTATE_ENTER();
    int err = region_add(h, start, size, reserve, flags);
    ANNOTATE_LEAVE();
    return err;
}

void heap_region_zeroed(struct heap *h, void *start)
{
    struct region *r = region_of(h, start);
    if (r && r->base == start)
        r->clean = r->first;
}

/* Where a region over [lo, hi) that may grow up to top (at least hi) puts its descriptor,
 * bitmap (covering up to top), first block and end marker; the bytes its one free block gets,
 * or 0 if that is less than a block. */
struct layout {
    uintptr_t desc, map, first, end;
    size_t map_bytes;
};

static size_t region_layout(uintptr_t lo, uintptr_t hi, uintptr_t top, struct layout *l)
{
    if (hi - lo < sizeof(struct region) + 4 * GRANULE + MIN_BLOCK)
        return 0;
    l->desc = align_up(lo + WORD, GRANULE) - WORD;
    l->map = l->desc + sizeof(struct region);
    l->end = align_down(hi, GRANULE) - WORD;
    if (top < hi)
        top = hi;
    l->map_bytes = ((align_down(top, GRANULE) - WORD - l->map) / GRANULE + 1 + 7) / 8;
    l->first = align_up(l->map + l->map_bytes + WORD, GRANULE) - WORD;
    if (l->first >= l->end || l->end - l->first < MIN_BLOCK)
        return 0;
    return l->end - l->first;
}

size_t heap_region_size(size_t block_bytes, size_t reserve)
{
    struct layout l;
    size_t most = block_bytes > reserve ? block_bytes : reserve;
    size_t given = block_bytes + most / 127 + sizeof(struct region) + 8 * GRANULE;
    if (block_bytes > MAX_BLOCK || most > (size_t)-1 / 2)
        return 0;
    while (region_layout(0, given, reserve, &l) < block_bytes)
        given += GRANULE;
    while (region_layout(0, given - GRANULE, reserve, &l) >= block_bytes)
        given -= GRANULE;
    given += GRANULE;                    /* a start that is not 16-aligned may cost up to 15 bytes */
    return reserve && given > reserve ? 0 : given;
}

/* Lay a region out over [start, start + size), its bitmap covering start + reserve: descriptor,
 * bitmap, one free block, end marker. The start is rounded up and the end down to the granule;
 * what is left must hold a block. Memory that holds zeros needs no clearing of the bitmap (a
 * large reserve's bitmap is mostly pages nobody has touched). */
static int region_add(struct heap *h, void *start, size_t size, size_t reserve, unsigned flags)
{
    uintptr_t lo = (uintptr_t)start, hi = lo + size, top = lo + reserve;
    struct layout l;
    if (!start || hi < lo || reserve < size || top < lo)
        return -MEM_ERR_REGION_RANGE;
    size_t bytes = region_layout(lo, hi, top, &l);
    if (!bytes)
        return -MEM_ERR_REGION_SMALL;
    if (region_overlaps(h, lo, top))
        return -MEM_ERR_REGION_OVERLAP;

    struct region *r = (struct region *)l.desc;
    r->span = l.end + WORD - l.desc;
    r->first = (char *)l.first;
    r->end = (char *)l.end;
    r->starts = (uint8_t *)l.map;
    r->base = start;
    r->given = size;
    r->reserve = reserve;
    if (flags & HEAP_REGION_ZEROED) {
        r->clean = (char *)l.first;      /* zero from the first block up (but for what follows) */
    } else {
        r->clean = (char *)l.end;        /* nothing known to be zero (until heap_region_zeroed) */
        memset(r->starts, 0, l.map_bytes);
    }
    rb_insert(&h->regions, &r->node);

    block *b = (block *)l.first;
    ANNOTATE_NOACCESS(b, bytes + WORD);  /* to memcheck, free memory is off limits */
    set_free(b, bytes, F_PREV_USED);     /* the descriptor before it counts as used */
    set_head((block *)l.end, F_USED);
    mark_start(r, b);
    mark_start(r, (void *)l.end);
    free_insert(h, b);
    if (poisoning(h))
        poison(fill_start(b), fill_end(b));

    h->region_count++;
    h->total_bytes += bytes;
    h->free_bytes += bytes;
    h->free_blocks++;
    h->min_free_bytes += bytes;
    h->overhead_bytes += size - bytes;
    return 0;
}

/* Move the end of the region at start up to start + size, within its reserve. The new bytes
 * enter as a used block that block_release frees at once: it merges them with a free last block,
 * indexes them and fills them in debug mode, as for any free. The old end marker (and a merged
 * block's old foot) then lie inside free memory, and the new bytes are the caller's, so nothing
 * in the region counts as known zero any more (r->clean). */
static int region_extend(struct heap *h, void *start, size_t size)
{
    struct region *r = region_of(h, start);
    if (!r || r->base != start || size < r->given || size > r->reserve)
        return -MEM_ERR_REGION_RANGE;
    char *end = (char *)align_down((uintptr_t)start + size, GRANULE) - WORD;
    block *old = block_at(r->end);
    size_t more = (size_t)(end - r->end);
    if (!bprev_used(old) && !prev_sane(r, old))
        return -MEM_ERR_CORRUPT;
    if (bprev_used(old) && more && more < MIN_BLOCK)
        return -MEM_ERR_REGION_SMALL;    /* the new bytes could not stand as a block */
    if (more) {
        ANNOTATE_NOACCESS(old, more + WORD);
        set_head(old, more | F_USED | (old->head & F_PREV_USED));
        set_head(block_at(end), F_USED | F_PREV_USED);
        mark_start(r, end);
        r->clean = r->end = end;
        r->span = (size_t)(end + WORD - (char *)r);
        rb_update_max(&r->node);         /* the span is the region tree's key size */
        h->total_bytes += more;
        h->min_free_bytes += more;
        h->used_bytes += more;           /* for block_release to move to free_bytes */
        block_release(h, r, old);
    }
    h->overhead_bytes += size - r->given - more;
    r->given = size;
    return 0;
}

int heap_region_extend(struct heap *h, void *start, size_t size)
{
    ANNOTATE_ENTER();
    int err = region_extend(h, start, size);
    ANNOTATE_LEAVE();
    return err;
}

/* The region holding p, if its blocks are all free (one free block spans it). */
static struct region *region_empty(struct heap *h, const void *p)
{
    struct region *r = region_of(h, p);
    if (!r)
        return NULL;
    block *b = block_at(r->first);
    return !bused(b) && (char *)bnext(b) == r->end ? r : NULL;
}

int heap_region_if_empty(struct heap *h, const void *ptr, void **start, size_t *size)
{
    ANNOTATE_ENTER();
    struct region *r = region_empty(h, ptr);
    if (r) {
        *start = r->base;
        *size = r->reserve;
    }
    ANNOTATE_LEAVE();
    return r != NULL;
}

int heap_remove_region(struct heap *h, void *start)
{
    ANNOTATE_ENTER();
    struct region *r = region_empty(h, start);
    if (!r || r->base != start) {
        ANNOTATE_LEAVE();
        return -1;
    }
    size_t bytes = (size_t)(r->end - r->first);
    free_remove(h, block_at(r->first));
    rb_erase(&h->regions, &r->node);
    if (h->region_hint == r)
        h->region_hint = NULL;
    h->region_count--;
    h->total_bytes -= bytes;
    h->free_bytes -= bytes;
    h->free_blocks--;
    h->min_free_bytes = h->min_free_bytes > bytes ? h->min_free_bytes - bytes : 0;
    h->overhead_bytes -= r->given - bytes;
    ANNOTATE_LEAVE();
    return 0;
}

/* ---- Blocks -------------------------------------------------------------------------------- */

/* Every word of metadata the heap writes is marked defined for memcheck (annotate.h): user
 * bytes around it may be unaddressable or undefined, the heap's own never are. */
static void set_head(block *b, size_t head)
{
    b->head = head;
    ANNOTATE_DEFINED(&b->head, WORD);
}

static void set_free(block *b, size_t size, size_t prev_used)
{
    set_head(b, size | prev_used);
    *bfooter(b) = size;
    ANNOTATE_DEFINED(bfooter(b), WORD);
}

static void account_used(struct heap *h, size_t bytes)
{
    h->used_bytes += bytes;
    h->free_bytes -= bytes;
    if (h->used_bytes > h->peak_used_bytes)
        h->peak_used_bytes = h->used_bytes;
    if (h->free_bytes < h->min_free_bytes)
        h->min_free_bytes = h->free_bytes;
}

static void account_free(struct heap *h, size_t bytes)
{
    h->used_bytes -= bytes;
    h->free_bytes += bytes;
}

/* Make bytes [b + need, b + size) a free block of their own, in the index (b stays used). */
static void block_split(struct heap *h, struct region *r, block *b, size_t need, size_t size)
{
    block *rest = block_at((char *)b + need);
    set_free(rest, size - need, F_PREV_USED);
    mark_start(r, rest);
    free_insert(h, rest);
    h->free_blocks++;
}

/* Hand out the first `need` bytes of free block b, which is not (or no longer) in the index.
 * The rest becomes a free block of its own when it can stand as one. */
static void block_carve(struct heap *h, struct region *r, block *b, size_t need, size_t flags)
{
    size_t size = bsize(b), prev_used = b->head & F_PREV_USED;
    if (size - need >= MIN_BLOCK) {
        block_split(h, r, b, need, size);
        size = need;
    } else {
        bnext(b)->head |= F_PREV_USED;
    }
    set_head(b, size | F_USED | prev_used | flags);
    h->used_blocks++;
    account_used(h, size);
}

/* Hand out free block b (in the index) for a request of `need` bytes: the rest above, if it can
 * stand as a block, takes b's place in the index, so no rebalancing is needed. */
static void block_take(struct heap *h, struct region *r, block *b, size_t need)
{
    size_t size = bsize(b);
    if (size - need >= MIN_BLOCK) {
        block *rest = block_at((char *)b + need);
        set_free(rest, size - need, F_PREV_USED);
        mark_start(r, rest);
        free_replace(h, b, rest);
        set_head(b, need | F_USED | (b->head & F_PREV_USED));
        size = need;
    } else {
        free_remove(h, b);
        h->free_blocks--;
        b->head |= F_USED;
        bnext(b)->head |= F_PREV_USED;
    }
    h->used_blocks++;
    account_used(h, size);
}

/* The pad in front of aligned block b, if it has one. */
static block *block_pad(const struct region *r, const block *b)
{
    if (!(b->head & F_ALIGNED) || !bprev_used(b))
        return NULL;
    for (size_t gap = GRANULE; gap < MIN_BLOCK; gap += GRANULE) {
        block *p = block_at((const char *)b - gap);
        if ((char *)p >= r->first && is_start(r, p) && (p->head & F_PAD) && bsize(p) == gap)
            return p;
    }
    return NULL;
}

/* Free used block b: merge it with its pad and free neighbours, and index the result.
 * Everything is read before anything is written; the debug fill comes last, over the bytes
 * that became interior (old heads, feet and nodes), so it never hides structure. */
static void block_release(struct heap *h, struct region *r, block *b)
{
    block *pad = block_pad(r, b), *lo = pad ? pad : b, *next = bnext(b);
    block *prev = bprev_used(lo) ? NULL : bprev(lo);
    int next_free = !bused(next);
    char *hi = next_free ? (char *)bnext(next) : (char *)next;
    block *merged = prev ? prev : lo;

    account_free(h, (size_t)((char *)next - (char *)lo));
    if (pad)
        clear_start(r, b);
    if (prev)
        clear_start(r, lo);
    if (next_free)
        clear_start(r, next);

    if (prev) {
        if (next_free) {
            free_remove(h, next);
            h->free_blocks--;
        }
        set_free(prev, (size_t)(hi - (char *)prev), prev->head & F_PREV_USED);
        free_resized(h, prev);
    } else {
        set_free(lo, (size_t)(hi - (char *)lo), F_PREV_USED);
        if (next_free) {
            free_replace(h, next, lo);
        } else {
            free_insert(h, lo);
            h->free_blocks++;
        }
    }
    block_at(hi)->head &= ~F_PREV_USED;

    if (poisoning(h)) {
        char *from = prev ? (char *)lo - WORD : fill_start(merged);
        char *to = next_free ? fill_start(next) : (char *)next;
        poison(from, to < fill_end(merged) ? to : fill_end(merged));
    }
}

/* The caller frees used block b: memcheck and the counters learn of it, then it is released. */
static void block_free(struct heap *h, struct region *r, block *b)
{
    ANNOTATE_FREE(bpayload(b));
    h->used_blocks--;
    h->free_count++;
    block_release(h, r, b);
}

/* ---- Checking a pointer handed back ---------------------------------------------------------- */

static int in_free_memory(struct heap *h, const block *b)
{
    block *f = free_floor(h, b);
    return f && (const char *)b < (const char *)f + bsize(f);
}

/* Is b a plausible block start in r whose size leads to another block start? */
static inline int head_sane(const struct region *r, const block *b)
{
    size_t size = bsize(b);
    size_t min = (b->head & F_PAD) ? GRANULE : MIN_BLOCK;
    return size >= min && size <= (size_t)(r->end - (const char *)b) && is_start(r, (char *)b + size);
}

/* A pad: used, smaller than a block, and followed by the aligned block it belongs to. */
static int pad_sane(const struct region *r, const block *b)
{
    if (!bused(b) || bsize(b) < GRANULE || bsize(b) >= MIN_BLOCK || (char *)bnext(b) >= r->end)
        return 0;
    const block *next = bnext(b);
    return is_start(r, next) && bused(next) && (next->head & F_ALIGNED);
}

/* b's PREV_USED flag is clear: does its foot lead back to an intact free block? */
static int prev_sane(const struct region *r, const block *b)
{
    size_t foot = ((const size_t *)b)[-1];
    const block *prev = block_at((const char *)b - foot);
    return foot >= MIN_BLOCK && foot % GRANULE == 0 && foot <= (size_t)((const char *)b - r->first) &&
           is_start(r, prev) && !bused(prev) && bsize(prev) == foot;
}

/* The O(1) consistency checks around used block b: its head, the block before it (through
 * its foot, when free) and the block after it (its head, and its foot when free). */
static int block_sane(const struct region *r, const block *b)
{
    if (!head_sane(r, b))
        return 0;
    const block *next = bnext(b);
    if (!bprev_used(next))
        return 0;
    if ((const char *)next != r->end) {
        if (!head_sane(r, next))
            return 0;
        if (!bused(next) && (*bfooter(next) != bsize(next) || bprev_used(bnext(next))))
            return 0;
    }
    return bprev_used(b) || prev_sane(r, b);
}

/* Find the used block whose payload is p, or say why p is not one. Writes nothing. */
static enum mem_error block_lookup(struct heap *h, const void *p, struct region **rp, block **bp)
{
    struct region *r = region_at(h, p);
    if (!r)
        return MEM_ERR_NOT_IN_HEAP;
    if ((uintptr_t)p % MEM_ALIGN)
        return MEM_ERR_MISALIGNED;
    block *b = bfrom_payload(p);
    if ((char *)b < r->first || (char *)b >= r->end)
        return MEM_ERR_NOT_A_BLOCK;
    if (!is_start(r, b))
        return in_free_memory(h, b) ? MEM_ERR_DOUBLE_FREE : MEM_ERR_NOT_A_BLOCK;
    if (!bused(b))
        return free_floor(h, b) == b ? MEM_ERR_DOUBLE_FREE : MEM_ERR_CORRUPT;
    if (b->head & F_PAD)                 /* a real pad is never a payload; a fake one is damage */
        return pad_sane(r, b) ? MEM_ERR_NOT_A_BLOCK : MEM_ERR_CORRUPT;
    if (!block_sane(r, b))
        return MEM_ERR_CORRUPT;
    *rp = r;
    *bp = b;
    return MEM_OK;
}

/* ---- The operations, without locking or reporting (mem.c adds both) ---------------------------- */

/* A free block chosen for handing out must be intact: its foot and its bitmap bit. */
static int free_block_sane(struct heap *h, struct region **rp, block *f)
{
    struct region *r = region_at(h, f);
    *rp = r;
    return r && is_start(r, f) && !bused(f) && *bfooter(f) == bsize(f);
}

/* Memory at or above r->clean was never handed out; in a zeroed region it still holds zeros,
 * but for the heap's own words (see block_clear). Everything handed out moves the mark up. */
static void mark_dirty(struct region *r, const block *b)
{
    char *end = (char *)bnext(b);
    if (end > r->clean)
        r->clean = end;
}

/* Hand out the lowest-addressed block that fits n bytes at alignment align (a power of two):
 * the placement rules at the top of this file. *fresh says whether it came from never-used
 * zeroed memory. */
static void *block_alloc(struct heap *h, size_t align, size_t n, struct fault *fault, int *fresh)
{
    size_t want = fit_size(align, n), need = want - align_slack(align);
    struct region *r;
    block *f = want ? free_find(h, want) : NULL;
    if (!f) {
        h->failed_count++;
        return NULL;
    }
    if (!free_block_sane(h, &r, f)) {
        fault_set(h, fault, MEM_ERR_CORRUPT, bpayload(f));
        return NULL;
    }
    char *payload = (char *)align_up((uintptr_t)bpayload(f), align > MEM_ALIGN ? align : MEM_ALIGN);
    size_t gap = (size_t)(payload - (char *)bpayload(f)), size = bsize(f);
    block *b = bfrom_payload(payload);
    *fresh = payload >= r->clean && !poisoning(h);
    if (poisoning(h) && !poison_intact(f, payload, (char *)b + need))
        fault_set(h, fault, MEM_ERR_USE_AFTER_FREE, payload);

    size_t flags = align > MEM_ALIGN ? F_ALIGNED : 0;
    if (gap == 0) {
        block_take(h, r, f, need);
        f->head |= flags;
    } else {
        if (gap >= MIN_BLOCK) {          /* the gap stays free, in f's place in the index */
            set_free(f, gap, f->head & F_PREV_USED);
            free_resized(h, f);
            set_head(b, size - gap);
        } else {                         /* too small to stand: a pad that goes with b */
            free_remove(h, f);
            h->free_blocks--;
            set_head(f, gap | F_USED | F_PAD | (f->head & F_PREV_USED));
            account_used(h, gap);
            set_head(b, (size - gap) | F_PREV_USED);
        }
        mark_start(r, b);
        block_carve(h, r, b, need, flags);
    }
    mark_dirty(r, b);
    h->alloc_count++;
    return payload;
}

/* Zero a fresh block's first n bytes: only the words the heap itself wrote there can be
 * non-zero (the free node after the head, and the foot in the block's last word). */
static void block_clear(void *p, size_t n, int fresh)
{
    if (!fresh) {
        memset(p, 0, n);
        return;
    }
    memset(p, 0, n < sizeof(struct heap_node) ? n : sizeof(struct heap_node));
    size_t *foot = bfooter(bfrom_payload(p));
    if ((char *)foot < (char *)p + n)
        *foot = 0;
}

void *heap_aligned_alloc_quiet(struct heap *h, size_t align, size_t n, struct fault *fault)
{
    int fresh;
    ANNOTATE_ENTER();
    void *p = block_alloc(h, align, n, fault, &fresh);
    if (p)
        ANNOTATE_ALLOC(p, n);
    ANNOTATE_LEAVE();
    return p;
}

void *heap_alloc_quiet(struct heap *h, size_t n, struct fault *fault)
{
    return heap_aligned_alloc_quiet(h, MEM_ALIGN, n, fault);
}

void *heap_calloc_quiet(struct heap *h, size_t count, size_t size, struct fault *fault)
{
    size_t n = calloc_bytes(count, size);
    int fresh;
    if (!n) {
        h->failed_count++;
        return NULL;
    }
    ANNOTATE_ENTER();
    void *p = block_alloc(h, MEM_ALIGN, n, fault, &fresh);
    if (p) {
        ANNOTATE_ALLOC(p, n);
        block_clear(p, n, fresh);
        ANNOTATE_DEFINED(p, n);          /* zero, whether cleared now or fresh from the OS */
    }
    ANNOTATE_LEAVE();
    return p;
}

int heap_free_quiet(struct heap *h, void *p, struct fault *fault)
{
    struct region *r;
    block *b;
    if (!p)
        return MEM_OK;
    ANNOTATE_ENTER();
    enum mem_error err = block_lookup(h, p, &r, &b);
    if (err) {
        fault_set(h, fault, err, p);
    } else {
        block_free(h, r, b);
    }
    ANNOTATE_LEAVE();
    return err;
}

/* Shrink used block b to `need` bytes: the rest is released if it can stand as a block (its
 * bytes leave used_bytes; it was never a block of its own, so the block counts stay). */
static void block_shrink(struct heap *h, struct region *r, block *b, size_t need)
{
    size_t size = bsize(b);
    if (size - need < MIN_BLOCK)
        return;
    block *rest = block_at((char *)b + need);
    set_head(b, need | (b->head & F_MASK));
    set_head(rest, (size - need) | F_USED | F_PREV_USED);
    mark_start(r, rest);
    block_release(h, r, rest);
}

/* Can used block b grow in place to `need` bytes, into its free next neighbour? */
static int block_can_grow(const block *b, size_t need)
{
    const block *next = bnext(b);
    return !bused(next) && bsize(b) + bsize(next) >= need;
}

/* Grow used block b in place to `need` bytes from its free next neighbour (block_can_grow).
 * The rest's head may land inside the neighbour's node, so the node leaves the index first. */
static void block_grow(struct heap *h, struct region *r, block *b, size_t need, struct fault *fault)
{
    size_t size = bsize(b);
    block *next = bnext(b);
    size_t total = size + bsize(next);
    if (poisoning(h) && !poison_intact(next, (char *)next, (char *)b + need))
        fault_set(h, fault, MEM_ERR_USE_AFTER_FREE, bpayload(b));
    free_remove(h, next);
    h->free_blocks--;
    clear_start(r, next);
    if (total - need >= MIN_BLOCK) {
        block_split(h, r, b, need, total);
        total = need;
    } else {
        block_at((char *)b + total)->head |= F_PREV_USED;
    }
    account_used(h, total - size);
    set_head(b, total | (b->head & F_MASK));
    mark_dirty(r, b);
}

/* The alignment block b keeps when realloc moves it: MEM_ALIGN, or for an F_ALIGNED block
 * that of its payload's address. */
static size_t move_alignment(const block *b)
{
    uintptr_t v = (uintptr_t)bpayload(b);
    return (b->head & F_ALIGNED) ? (size_t)(v & -v) : MEM_ALIGN;
}

/* realloc of checked block b: shrink or grow in place when it can, else allocate, copy, free. */
static void *block_realloc(struct heap *h, struct region *r, block *b, size_t n, struct fault *fault)
{
    void *p = bpayload(b), *q;
    size_t need = block_size_for(n), old = bsize(b) - WORD, keep = n < old ? n : old;
    int fresh;
    if (!need) {
        h->failed_count++;
        return NULL;
    }
    if (need > bsize(b) && !block_can_grow(b, need)) {
        q = block_alloc(h, move_alignment(b), n, fault, &fresh);
        if (!q)
            return NULL;
        ANNOTATE_ALLOC(q, n);
        memcpy(q, p, keep);
        block_free(h, r, b);
        return q;
    }
    ANNOTATE_FREE(p);                    /* in place: memcheck sees the new size (the old */
    if (need <= bsize(b))                /* range goes first, so metadata written in it stays */
        block_shrink(h, r, b, need);     /* visible) */
    else
        block_grow(h, r, b, need, fault);
    ANNOTATE_ALLOC(p, n);
    ANNOTATE_DEFINED(p, keep);
    return p;
}

/* The free block a realloc of used block p to n bytes needs when it moves (fit_size, with the
 * alignment the block keeps), so that the default heap can grow by enough; 0 for a bad pointer
 * or size. Writes nothing. */
size_t heap_move_size(struct heap *h, const void *p, size_t n)
{
    struct region *r;
    block *b;
    return block_lookup(h, p, &r, &b) == MEM_OK ? fit_size(move_alignment(b), n) : 0;
}

/* The size the region holding used block p must be extended to (heap_region_extend) so that
 * the block can grow in place to n bytes: when nothing but a free block lies between the block
 * and the region's end, and the reserve has the room. 0 otherwise. Writes nothing. */
size_t heap_growth_size(struct heap *h, const void *p, size_t n, void **start)
{
    struct region *r;
    block *b;
    size_t need = block_size_for(n);
    if (!need || block_lookup(h, p, &r, &b) != MEM_OK || need > r->reserve || need <= bsize(b))
        return 0;
    block *next = bnext(b);
    char *end = (char *)b + need;        /* where the end marker must move to */
    if (!bused(next)) {
        if ((char *)bnext(next) != r->end || block_can_grow(b, need))
            return 0;
    } else {
        if ((char *)next != r->end)
            return 0;
        if (end < r->end + MIN_BLOCK)    /* the new bytes must stand as a block; realloc */
            end = r->end + MIN_BLOCK;    /* then takes them whole */
    }
    size_t size = (size_t)(end + WORD - r->base);
    if (size > r->reserve)
        return 0;
    *start = r->base;
    return size;
}

void *heap_realloc_quiet(struct heap *h, void *p, size_t n, struct fault *fault)
{
    struct region *r;
    block *b;
    if (!p)
        return heap_alloc_quiet(h, n, fault);
    ANNOTATE_ENTER();
    void *q = NULL;
    enum mem_error err = block_lookup(h, p, &r, &b);
    if (err) {
        fault_set(h, fault, err, p);
    } else if (n == 0) {
        block_free(h, r, b);
    } else {
        q = block_realloc(h, r, b, n, fault);
    }
    ANNOTATE_LEAVE();
    return q;
}

size_t heap_usable_size_quiet(struct heap *h, const void *p, struct fault *fault)
{
    struct region *r;
    block *b;
    size_t n = 0;
    if (!p)
        return 0;
    ANNOTATE_ENTER();
    enum mem_error err = block_lookup(h, p, &r, &b);
    if (err)
        fault_set(h, fault, err, p);
    else
        n = bsize(b) - WORD;
    ANNOTATE_LEAVE();
    return n;
}

/* count * size, or 0 when it overflows. */
size_t calloc_bytes(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return 0;
    return count * size;
}

/* ---- The instance API: each call is the quiet operation, then the report ---------------------- */

void *heap_alloc(struct heap *h, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    void *p = heap_alloc_quiet(h, size, &f);
    fault_raise(&f);
    return p;
}

void *heap_aligned_alloc(struct heap *h, size_t alignment, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    void *p = heap_aligned_alloc_quiet(h, alignment, size, &f);
    fault_raise(&f);
    return p;
}

void *heap_calloc(struct heap *h, size_t count, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    void *p = heap_calloc_quiet(h, count, size, &f);
    fault_raise(&f);
    return p;
}

int heap_free(struct heap *h, void *ptr)
{
    struct fault f = { MEM_OK, NULL };
    return heap_free_quiet(h, ptr, &f) ? fault_raise(&f) : MEM_OK;
}

void *heap_realloc(struct heap *h, void *ptr, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    void *p = heap_realloc_quiet(h, ptr, size, &f);
    fault_raise(&f);
    return p;
}

size_t heap_usable_size(struct heap *h, const void *ptr)
{
    struct fault f = { MEM_OK, NULL };
    size_t n = heap_usable_size_quiet(h, ptr, &f);
    fault_raise(&f);
    return n;
}
