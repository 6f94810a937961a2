/* heap.c - the kheap allocator core: address-ordered first fit over one or more regions, with
 * every byte of metadata out of band.
 *
 * ==== Memory format ==========================================================================
 *
 * The heap hands out 16-byte granules. A block is a run of granules; it has no header and no
 * footer: what the allocator knows of it lies in tables at the start of its region, which no
 * pointer handed out can reach by running past its block's end.
 *
 *   [ guard | descriptor | start map | mark map | skip bits | summary | pad ][ blocks ...... ]
 *   ^ base                                                                  ^ first         ^ end
 *
 *   - the guard: 64 bytes (REGION_GUARD) that the heap never uses or reads. What lies just
 *     below a region is often another region (the kernel lays its CPUs' arenas back to back; on
 *     the host a new mapping tends to land right under the last), so an overrun past the last
 *     block there, if shorter than that, reaches no word of the heap's;
 *   - the descriptor (struct region, format.h) says where everything is; regions sit in a
 *     red-black tree keyed by address (rbtree.c): a pointer's region is found in O(log regions);
 *   - the start map has one bit per granule, set where a block starts, and one more bit for the
 *     end (the sentinel), so a block's size is the distance to the next set bit;
 *   - the mark map has one bit per granule. At a block's start it says the block is free. At the
 *     second granule of a used block (never a start) it says the block came from aligned_alloc
 *     above MEM_ALIGN, so realloc keeps its alignment; such blocks are two granules at least.
 *     Every other mark bit is clear;
 *   - the skip bits (format.c) let a search for the next or previous block start jump over long
 *     blocks in O(log granules);
 *   - the summary (index_tree.c) holds, per map word (a chunk of 64 granules on x86_64, 32 on
 *     i386), its largest free block in a byte, and a 16-way tree of the exact maxima above, each
 *     with a copy in a byte saturated at 255 (what searches read: a node's 16 entries in 16 bytes).
 *   The tables cost 2 bits per granule (1/64) and the summary and skip bits about 1/700 more:
 *   1.70% of a region on x86_64, about 1.85% on i386 (a leaf per 512 bytes there). A region may be added with a reserve it can grow into later
 *   (heap_region_extend); the tables then cover the reserve.
 *
 * A block of n bytes takes n rounded up to 16: the smallest block is 16 bytes, on every target.
 * A payload is its block's first byte, so every pointer handed out is 16-aligned.
 *
 * ==== Invariants (heap_check verifies every one) ===============================================
 *
 *   1. Blocks tile each region: granule 0 starts a block; the sentinel bit marks the end; no
 *      start or mark bit is set beyond it.
 *   2. A mark bit is set exactly at the start of each free block and at the second granule of
 *      each aligned used block.
 *   3. No two free blocks are adjacent: a freed block merges at once with free neighbours.
 *   4. Each skip bit is set exactly when the word below it is not zero.
 *   5. Each summary entry holds the largest free block of the chunks below it (a leaf, and each
 *      entry's byte copy, saturates at 255 granules); the region tree's node for a region holds
 *      the region's largest.
 *   6. The heap's byte and block counts equal what a walk adds up; its overhead, the sum of
 *      each region's bytes outside its blocks.
 *   7. Each descriptor holds the layout that region_layout (format.c) gives for its base, given
 *      and reserve: the checker verifies that before it follows any of the descriptor's pointers.
 *
 * ==== Policies (the reference model in tests/model implements exactly these) ====================
 *
 *   Block size for a request of n bytes: n rounded up to 16 (n > 0); from aligned_alloc above
 *     MEM_ALIGN, at least 32.
 *   alloc: the lowest-addressed free block (over all regions) of at least that size; the rest
 *     is split off as a free block above (any rest can stand: 16 bytes are a block).
 *   aligned_alloc(a > 16): the lowest-addressed free block of at least size + a - 16 bytes (any
 *     such block fits, wherever it starts, so the search stays logarithmic). The payload is the
 *     first a-aligned address in it. The gap before the payload stays a free block. The rest is
 *     split off as for alloc.
 *   free: the block merges with free neighbours on both sides.
 *   realloc: shrinks in place (the rest is freed, merging with a free next neighbour); grows in
 *     place into a free next neighbour when that is enough (the rest of it stays free);
 *     otherwise allocates (with the alignment of the old address if the block is aligned: its
 *     lowest set bit), copies, and frees. A failure leaves the old block untouched.
 *
 * ==== Misuse (checked on every free, realloc and usable_size, in every build) =====================
 *
 *   A pointer is checked against the tables alone, in O(log regions) + O(1): its region, its
 *   alignment, its start bit and its mark. Nothing in memory that was handed out is ever read or
 *   believed, so an overrun, a write after free or garbage over any block cannot mislead the
 *   heap: they damage only the caller's data. The causes, named apart: a free block's start is a
 *   double free (to realloc and usable_size, a use of a freed pointer) if anything was ever
 *   handed out from there (the region's top); when the start bit is clear, O(log granules) more
 *   tells a pointer into free memory from an interior pointer of a used block; outside every
 *   region, the last HEAP_RETURNED regions given back name a free of memory already returned.
 *   Nothing is written before all checks pass.
 *
 * ==== Cost ============================================================================================
 *
 *   alloc, aligned_alloc: O(log regions) to choose the region, O(log granules) to descend its
 *   summary (16 entries a level), then one chunk: its free starts, at most 64. free, realloc in
 *   place: O(1) map work plus, when a block does not end in its own chunk, O(log granules) for
 *   the skip bits; then the summary: its changed entries up to the first that stays the same
 *   (none when an allocation cuts what is left of a block an earlier one cut, or a free merges
 *   with it: the index keeps that block, like the region's free last block, out of the summary).
 *   realloc that moves adds one copy; calloc adds the clearing (none in a fresh zeroed region).
 *   heap_region_extend is the same as a free. heap_walk, heap_dump and heap_check are O(blocks +
 *   tables); heap_stats is O(1) (O(n) with the list index). Debug fill is O(block size).
 *   The default heap's lock (mem.c) is held for exactly that, never across a copy larger than
 *   the block, and never while the error handler runs.
 */
#include "annotate.h"
#include "core.h"
#include "index.h"

#define POISON_BYTE 0xDB

/* ---- Sizes --------------------------------------------------------------------------------- */

/* Granules for a request of n bytes at alignment align, or 0 when n is 0 or absurd. */
static size_t granules_for(size_t n, size_t align)
{
    if (n == 0 || n > MAX_REQUEST)
        return 0;
    size_t g = (n + GRANULE - 1) / GRANULE;
    return align > MEM_ALIGN && g < MIN_ALIGNED ? MIN_ALIGNED : g;
}

/* Above MEM_ALIGN, the granules a block may need before its first aligned address; NONE for an
 * alignment the heap refuses (not a power of two, or too large). */
static size_t align_slack(size_t align)
{
    if (!align || (align & (align - 1)) || align > MAX_REQUEST / 2)
        return NONE;
    return align > MEM_ALIGN ? align / GRANULE - 1 : 0;
}

size_t fit_bytes(size_t align, size_t n)
{
    size_t need = granules_for(n, align), slack = align_slack(align);
    if (!need || slack == NONE || need > MAX_REQUEST / GRANULE - slack)
        return 0;
    return (need + slack) * GRANULE;
}

/* ---- Debug fill (HEAP_F_POISON) ------------------------------------------------------------ */

static int poisoning(const struct heap *h) { return (h->flags & HEAP_F_POISON) != 0; }

static void poison(struct heap *h, const struct region *r, size_t g, size_t end)
{
    if (poisoning(h))
        memset(gran_addr(r, g), POISON_BYTE, (end - g) * GRANULE);
}

/* Granules [g, end) of a free block are about to be handed out: do they still hold the fill? */
static int poison_intact(const struct region *r, size_t g, size_t end)
{
    for (const unsigned char *p = (const unsigned char *)gran_addr(r, g); p < (const unsigned char *)gran_addr(r, end); p++)
        if (*p != POISON_BYTE)
            return 0;
    return 1;
}

void heap_set_poison(struct heap *h, int on)
{
    ANNOTATE_ENTER();
    if (on && !poisoning(h)) {
        h->flags |= HEAP_F_POISON;
        for (struct region *r = region_first(h); r; r = region_next(r))
            for (size_t g = 0; g < r->granules; g = start_after(r, g))
                if (is_free(r, g))
                    poison(h, r, g, start_after(r, g));
    }
    h->flags = on ? h->flags | HEAP_F_POISON : h->flags & ~HEAP_F_POISON;
    ANNOTATE_LEAVE();
}

/* ---- Regions ------------------------------------------------------------------------------- */

/* Most lookups hit the region found last: that test inline, the tree search out of line. */
static inline struct region *region_at(struct heap *h, const void *p)
{
    struct region *r = h->region_hint;
    return region_holds(r, p) ? r : region_of(h, p);
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

size_t heap_region_size(size_t block_bytes, size_t reserve)
{
    struct layout l;
    size_t most = block_bytes > reserve ? block_bytes : reserve;
    if (block_bytes > MAX_REQUEST || most > (size_t)-1 / 4)
        return 0;
    size_t want = (block_bytes + GRANULE - 1) / GRANULE;
    size_t lo = block_bytes / GRANULE, hi = (block_bytes + most / 16 + REGION_GUARD + sizeof(struct region)) / GRANULE + 8;
    while (lo < hi) {                    /* the fewest granules of memory that hold the block */
        size_t mid = lo + (hi - lo) / 2;
        if (region_layout(0, mid * GRANULE, reserve, &l) >= want)
            hi = mid;
        else
            lo = mid + 1;
    }
    size_t given = (lo + 1) * GRANULE;   /* a start that is not 16-aligned may cost up to 15 bytes */
    return reserve && given > reserve ? 0 : given;
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

/* The heap remembers the last HEAP_RETURNED regions it gave back and was not given again, to
 * name a later free into one: oldest first, then empty slots (lo == hi == 0). A full list drops
 * its oldest; a region added again leaves the list, and the rest close up behind it, so a
 * region given back and added again many times never pushes out one that is still gone. */
static void returned_remember(struct heap *h, uintptr_t lo, uintptr_t hi)
{
    unsigned n = 0;
    while (n < HEAP_RETURNED && h->returned[n].hi)
        n++;
    if (n == HEAP_RETURNED) {
        memmove(&h->returned[0], &h->returned[1], (HEAP_RETURNED - 1) * sizeof h->returned[0]);
        n--;
    }
    h->returned[n].lo = lo;
    h->returned[n].hi = hi;
}

static void returned_forget(struct heap *h, uintptr_t lo, uintptr_t hi)
{
    unsigned k = 0;
    for (unsigned i = 0; i < HEAP_RETURNED; i++)
        if (!(h->returned[i].lo < hi && lo < h->returned[i].hi))
            h->returned[k++] = h->returned[i];
    for (; k < HEAP_RETURNED; k++)
        h->returned[k].lo = h->returned[k].hi = 0;
}

void heap_note_returned(struct heap *h, const void *start, size_t size)
{
    returned_remember(h, (uintptr_t)start, (uintptr_t)start + size);
}

static int returned_holds(const struct heap *h, const void *p)
{
    for (unsigned i = 0; i < HEAP_RETURNED; i++)
        if ((uintptr_t)p - h->returned[i].lo < h->returned[i].hi - h->returned[i].lo)
            return 1;
    return 0;
}

/* Lay a region out over [start, start + size), its tables covering start + reserve: descriptor,
 * tables, one free block. Memory that holds zeros needs no clearing of the tables (a large
 * reserve's tables are mostly pages nobody has touched). */
static int region_add(struct heap *h, void *start, size_t size, size_t reserve, unsigned flags)
{
    uintptr_t lo = (uintptr_t)start, hi = lo + size, top = lo + reserve;
    struct layout l;
    if (!start || hi < lo || reserve < size || top < lo)
        return -MEM_ERR_REGION_RANGE;
    size_t granules = region_layout(lo, hi, top, &l);
    if (!granules)
        return -MEM_ERR_REGION_SMALL;
    if (region_overlaps(h, lo, top))
        return -MEM_ERR_REGION_OVERLAP;

    struct region *r = (struct region *)l.desc;
    memset(r, 0, sizeof *r);
    if (!(flags & HEAP_REGION_ZEROED))
        memset((void *)l.tables, 0, l.table_bytes);
    tables_layout(r, (char *)l.tables, l.capacity);
    r->sum_reach = 1;
    r->reach_end = r->sum_levels > 1 ? FANOUT : NONE;
    r->wild = r->cut = NONE;
    r->first = (char *)l.first;
    r->granules = granules;
    r->base = start;
    r->given = size;
    r->reserve = reserve;
    r->clean = (flags & HEAP_REGION_ZEROED) ? r->first : region_end(r);
    r->top = r->first;
    returned_forget(h, lo, top);
    start_set(r, 0);
    map_set(r->mark, 0);                 /* one free block ... */
    start_set(r, granules);              /* ... up to the sentinel */
    rb_insert(&h->regions, &r->node);
    index_added(h, r, 0, granules);

    size_t bytes = granules * GRANULE;
    ANNOTATE_NOACCESS(r->first, bytes);  /* to memcheck, free memory is off limits */
    poison(h, r, 0, granules);
    h->region_count++;
    h->total_bytes += bytes;
    h->free_bytes += bytes;
    h->free_blocks++;
    h->min_free_bytes += bytes;
    h->overhead_bytes += size - bytes;
    return 0;
}

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

/* Move the end of the region at start up to start + size, within its reserve: the new granules
 * join the heap as free memory, merged with a free last block. They are the caller's bytes, so
 * nothing in the region counts as known zero any more (r->clean). */
static int region_extend(struct heap *h, void *start, size_t size)
{
    struct region *r = region_of(h, start);
    if (!r || r->base != start || size < r->given || size > r->reserve)
        return -MEM_ERR_REGION_RANGE;
    size_t old = r->granules;
    size_t now = (align_down((uintptr_t)start + size, GRANULE) - (uintptr_t)r->first) / GRANULE;
    if (now > r->capacity)
        now = r->capacity;
    if (now > old) {
        size_t last = start_before(r, old), lo = old;
        if (is_free(r, last)) {
            lo = last;                   /* the free last block grows */
            start_clear(r, old);
        } else {
            map_set(r->mark, old);       /* the sentinel's granule starts a free block */
            h->free_blocks++;
        }
        start_set(r, now);
        r->granules = now;
        r->clean = region_end(r);
        index_added(h, r, lo, now - lo);
        size_t more = (now - old) * GRANULE;
        ANNOTATE_NOACCESS(gran_addr(r, old), more);
        poison(h, r, old, now);
        h->total_bytes += more;
        h->free_bytes += more;
        h->min_free_bytes += more;
        h->overhead_bytes -= more;
    }
    h->overhead_bytes += size - r->given;
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
    return r && is_free(r, 0) && start_after(r, 0) == r->granules ? r : NULL;
}

int heap_region_if_empty(struct heap *h, const void *ptr, void **start, size_t *size)
{
    struct region *r = region_empty(h, ptr);
    if (r) {
        *start = r->base;
        *size = r->reserve;
    }
    return r != NULL;
}

int heap_remove_region(struct heap *h, void *start)
{
    struct region *r = region_empty(h, start);
    if (!r || r->base != start)
        return -1;
    size_t bytes = r->granules * GRANULE;
    returned_remember(h, (uintptr_t)r->base, (uintptr_t)r->base + r->reserve);
    rb_erase(&h->regions, &r->node);
    if (h->region_hint == r)
        h->region_hint = NULL;
    h->region_count--;
    h->total_bytes -= bytes;
    h->free_bytes -= bytes;
    h->free_blocks--;
    h->min_free_bytes = h->min_free_bytes > bytes ? h->min_free_bytes - bytes : 0;
    h->overhead_bytes -= r->given - bytes;
    return 0;
}

/* ---- Blocks -------------------------------------------------------------------------------- */

/* Memory at or above r->clean was never handed out; in a zeroed region it still holds zeros.
 * Everything handed out moves the mark up. */
static void mark_dirty(struct region *r, size_t end)
{
    char *e = gran_addr(r, end);
    if (e > r->clean)
        r->clean = e;
    if (e > r->top)
        r->top = e;
}

/* Free used block [g, end) of r: merge it with free neighbours and index the result. Everything
 * is read before anything is written. The block counts are the caller's (block_free). */
static void block_release(struct heap *h, struct region *r, size_t g, size_t end)
{
    size_t lo = g, hi = end, prev = g ? start_before(r, g) : NONE;
    int prev_free = prev != NONE && is_free(r, prev), next_free = end < r->granules && is_free(r, end);
    account_free(h, (end - g) * GRANULE);
    if (g + 1 < end)
        map_clear(r->mark, g + 1);       /* the aligned mark, if it was one */
    if (next_free) {
        hi = start_after(r, end);
        map_clear(r->mark, end);
        start_clear(r, end);
    }
    if (prev_free) {
        lo = prev;
        start_clear(r, g);
    } else {
        map_set(r->mark, g);
    }
    h->free_blocks += 1 - (size_t)prev_free - (size_t)next_free;
    poison(h, r, g, end);                /* the neighbours hold the fill already */
    index_freed(h, r, lo, g, end, hi);
}

/* The caller frees used block [g, end): memcheck and the counters learn of it, then it goes. */
static void block_free(struct heap *h, struct region *r, size_t g, size_t end)
{
    ANNOTATE_FREE(gran_addr(r, g));
    h->used_blocks--;
    h->free_count++;
    block_release(h, r, g, end);
}

/* Why p is not the payload of a used block; r is region_at(h, p). A pointer that starts a free
 * block is a double free (callers other than free rename it MEM_ERR_FREED_POINTER); one inside
 * a free block, or where nothing was ever handed out, is only known to be free memory. */
static enum mem_error block_misuse(struct heap *h, const struct region *r, const void *p)
{
    if (!r)
        return returned_holds(h, p) ? MEM_ERR_RETURNED : MEM_ERR_NOT_IN_HEAP;
    if ((uintptr_t)p % MEM_ALIGN)
        return MEM_ERR_MISALIGNED;
    if ((const char *)p < r->first || (const char *)p >= region_end(r))
        return MEM_ERR_NOT_A_BLOCK;      /* the region's tables, or its unusable tail */
    size_t g = gran_of(r, p);
    if (!is_start(r, g))
        return is_free(r, start_before(r, g)) ? MEM_ERR_FREE_MEMORY : MEM_ERR_NOT_A_BLOCK;
    return (const char *)p < r->top ? MEM_ERR_DOUBLE_FREE : MEM_ERR_FREE_MEMORY;   /* a free start */
}

/* Find the used block whose payload is p, or say why p is not one. Writes nothing in the heap. The checks
 * of a good pointer, inline; block_misuse names what a bad one is. */
static inline enum mem_error block_lookup(struct heap *h, const void *p, struct region **rp, size_t *gp)
{
    struct region *r = region_at(h, p);
    if (r && (uintptr_t)p % MEM_ALIGN == 0 && (const char *)p >= r->first &&
        (const char *)p < region_end(r)) {
        size_t g = gran_of(r, p);
        if (is_start(r, g) && !is_free(r, g)) {
            *rp = r;
            *gp = g;
            return MEM_OK;
        }
    }
    *rp = NULL;                          /* never read: only to tell the compiler so */
    *gp = 0;
    return block_misuse(h, r, p);
}

/* The same, for a call that uses the block rather than freeing it. */
static enum mem_error block_use(struct heap *h, const void *p, struct region **rp, size_t *gp)
{
    enum mem_error err = block_lookup(h, p, rp, gp);
    return err == MEM_ERR_DOUBLE_FREE ? MEM_ERR_FREED_POINTER : err;
}

/* Hand out `need` granules at alignment align from free block [g, end) of r, which holds them
 * (block_alloc). */
static void *block_take(struct heap *h, struct region *r, size_t g, size_t end, size_t need,
                        size_t align, struct fault *fault, int *fresh)
{
    char *payload = (char *)align_up((uintptr_t)gran_addr(r, g), align > MEM_ALIGN ? align : MEM_ALIGN);
    size_t b = gran_of(r, payload), rest = b + need;
    *fresh = payload >= r->clean && !poisoning(h);
    if (poisoning(h) && !poison_intact(r, b, rest))
        fault_set(h, fault, MEM_ERR_USE_AFTER_FREE, payload);

    if (b > g)
        start_set(r, b);                 /* the gap before stays a free block */
    else
        map_clear(r->mark, g);
    if (align > MEM_ALIGN)
        map_set(r->mark, b + 1);
    if (rest < end) {                    /* the rest after is a free block */
        start_set(r, rest);
        map_set(r->mark, rest);
    }
    h->free_blocks += (size_t)(b > g) + (size_t)(rest < end) - 1;
    index_cut(h, r, g, end - g, rest);
    if (b > g)
        index_added(h, r, g, b - g);
    h->used_blocks++;
    account_used(h, need * GRANULE);
    mark_dirty(r, rest);
    h->alloc_count++;
    return payload;
}

/* Hand out the lowest-addressed block that fits n bytes at alignment align: the placement rules
 * at the top of this file. *fresh says whether it came from never-used zeroed memory. Inline, so
 * that a constant alignment folds the request's arithmetic away. */
static inline void *block_alloc(struct heap *h, size_t align, size_t n, struct fault *fault, int *fresh)
{
    size_t need = granules_for(n, align), slack = align_slack(align), end;
    struct region *r;
    int ok = need && slack <= MAX_GRANULES && need <= MAX_GRANULES - slack;
    size_t g = ok ? index_find(h, need + slack, &r, &end) : NONE;
    if (g == NONE) {
        h->failed_count++;
        return NULL;
    }
    return block_take(h, r, g, end, need, align, fault, fresh);
}

/* The quiet operations, inline here so that the instance API below calls the core directly:
 * the public names are interposable in a shared build, so the compiler inlines none of them. */
static inline void *aligned_alloc_quiet(struct heap *h, size_t align, size_t n, struct fault *fault)
{
    int fresh;
    ANNOTATE_ENTER();
    void *p = block_alloc(h, align, n, fault, &fresh);
    if (p)
        ANNOTATE_ALLOC(p, n);
    ANNOTATE_LEAVE();
    return p;
}

void *heap_aligned_alloc_quiet(struct heap *h, size_t align, size_t n, struct fault *fault)
{
    return aligned_alloc_quiet(h, align, n, fault);
}

void *heap_alloc_quiet(struct heap *h, size_t n, struct fault *fault)
{
    return aligned_alloc_quiet(h, MEM_ALIGN, n, fault);
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
        if (!fresh)                      /* fresh zeroed memory: the heap never wrote in it */
            memset(p, 0, n);
        ANNOTATE_DEFINED(p, n);
    }
    ANNOTATE_LEAVE();
    return p;
}

static inline int free_quiet(struct heap *h, void *p, struct fault *fault)
{
    struct region *r;
    size_t g;
    if (!p)
        return MEM_OK;
    ANNOTATE_ENTER();
    enum mem_error err = block_lookup(h, p, &r, &g);
    if (err)
        fault_set(h, fault, err, p);
    else
        block_free(h, r, g, start_after(r, g));
    ANNOTATE_LEAVE();
    return err;
}

int heap_free_quiet(struct heap *h, void *p, struct fault *fault) { return free_quiet(h, p, fault); }

/* Shrink used block [g, end) to `need` granules: the rest is released (its bytes leave
 * used_bytes; it was never a block of its own, so the block counts stay). */
static void block_shrink(struct heap *h, struct region *r, size_t g, size_t end, size_t need)
{
    if (g + need == end)
        return;
    start_set(r, g + need);
    block_release(h, r, g + need, end);
}

/* Can used block [g, end) grow in place to `need` granules, into its free next neighbour? */
static int block_can_grow(const struct region *r, size_t g, size_t end, size_t need)
{
    return end < r->granules && is_free(r, end) && start_after(r, end) >= g + need;
}

/* Grow used block [g, end) in place to `need` granules from its free next neighbour
 * (block_can_grow); the rest of the neighbour stays free. */
static void block_grow(struct heap *h, struct region *r, size_t g, size_t end, size_t need,
                       struct fault *fault)
{
    size_t next_end = start_after(r, end), top = g + need;
    if (poisoning(h) && !poison_intact(r, end, top))
        fault_set(h, fault, MEM_ERR_USE_AFTER_FREE, gran_addr(r, g));
    map_clear(r->mark, end);
    start_clear(r, end);
    if (top < next_end) {
        start_set(r, top);
        map_set(r->mark, top);
    } else {
        h->free_blocks--;
    }
    index_cut(h, r, end, next_end - end, top);
    account_used(h, (top - end) * GRANULE);
    mark_dirty(r, top);
}

/* The alignment block g keeps when realloc moves it: MEM_ALIGN, or for an aligned block that of
 * its address. */
static size_t move_alignment(const struct region *r, size_t g)
{
    uintptr_t v = (uintptr_t)gran_addr(r, g);
    return is_aligned(r, g) ? (size_t)(v & -v) : MEM_ALIGN;
}

/* realloc of checked block g: shrink or grow in place when it can, else allocate, copy, free. */
static void *block_realloc(struct heap *h, struct region *r, size_t g, size_t n, struct fault *fault)
{
    size_t end = start_after(r, g), size = end - g;
    size_t need = granules_for(n, move_alignment(r, g)), keep = n < size * GRANULE ? n : size * GRANULE;
    void *p = gran_addr(r, g), *q;
    int fresh;
    if (!need) {
        h->failed_count++;
        return NULL;
    }
    if (need > size && !block_can_grow(r, g, end, need)) {
        q = block_alloc(h, move_alignment(r, g), n, fault, &fresh);
        if (!q)
            return NULL;
        ANNOTATE_ALLOC(q, n);
        memcpy(q, p, keep);
        block_free(h, r, g, end);
        return q;
    }
    ANNOTATE_FREE(p);                    /* in place: memcheck sees the new size */
    if (need <= size)
        block_shrink(h, r, g, end, need);
    else
        block_grow(h, r, g, end, need, fault);
    ANNOTATE_ALLOC(p, n);
    ANNOTATE_DEFINED(p, keep);
    return p;
}

/* The free block a realloc of used block p to n bytes needs when it moves (fit_bytes, with the
 * alignment the block keeps), so that the default heap can grow by enough; 0 for a bad pointer
 * or size. Writes nothing. */
size_t heap_move_size(struct heap *h, const void *p, size_t n)
{
    struct region *r;
    size_t g;
    return block_lookup(h, p, &r, &g) == MEM_OK ? fit_bytes(move_alignment(r, g), n) : 0;
}

/* The size the region holding used block p must be extended to (heap_region_extend) so that
 * the block can grow in place to n bytes: when nothing but a free block lies between the block
 * and the region's end, and the reserve has the room. 0 otherwise. Writes nothing. */
size_t heap_growth_size(struct heap *h, const void *p, size_t n, void **start)
{
    struct region *r;
    size_t g;
    if (block_lookup(h, p, &r, &g) != MEM_OK)
        return 0;
    size_t need = granules_for(n, move_alignment(r, g)), end = start_after(r, g);
    if (!need || need <= end - g || need > r->capacity - g)
        return 0;
    if (end < r->granules && (!is_free(r, end) || start_after(r, end) != r->granules ||
                              block_can_grow(r, g, end, need)))
        return 0;
    size_t size = (size_t)(gran_addr(r, g + need) - r->base);
    if (size > r->reserve)
        return 0;
    *start = r->base;
    return size;
}

void *heap_realloc_quiet(struct heap *h, void *p, size_t n, struct fault *fault)
{
    struct region *r;
    size_t g;
    if (!p)
        return heap_alloc_quiet(h, n, fault);
    ANNOTATE_ENTER();
    void *q = NULL;
    enum mem_error err = block_use(h, p, &r, &g);
    if (err)
        fault_set(h, fault, err, p);
    else if (n == 0)
        block_free(h, r, g, start_after(r, g));
    else
        q = block_realloc(h, r, g, n, fault);
    ANNOTATE_LEAVE();
    return q;
}

size_t heap_usable_size_quiet(struct heap *h, const void *p, struct fault *fault)
{
    struct region *r;
    size_t g, n = 0;
    if (!p)
        return 0;
    ANNOTATE_ENTER();
    enum mem_error err = block_use(h, p, &r, &g);
    if (err)
        fault_set(h, fault, err, p);
    else
        n = (start_after(r, g) - g) * GRANULE;
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
    void *p = aligned_alloc_quiet(h, MEM_ALIGN, size, &f);
    fault_raise(&f);
    return p;
}

void *heap_aligned_alloc(struct heap *h, size_t alignment, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    void *p = aligned_alloc_quiet(h, alignment, size, &f);
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
    return free_quiet(h, ptr, &f) ? fault_raise(&f) : MEM_OK;
}

void *heap_realloc(struct heap *h, void *ptr, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    void *p = heap_realloc_quiet(h, ptr, size, &f);
    fault_raise(&f);
    return p;
}

void *heap_alloc_locked(struct heap *h, size_t size, const struct heap_locking *l)
{
    struct fault f = { MEM_OK, NULL };
    unsigned long st = l->lock(l->ctx);
    void *p = aligned_alloc_quiet(h, MEM_ALIGN, size, &f);
    l->unlock(l->ctx, st);
    fault_raise(&f);
    return p;
}

int heap_free_locked(struct heap *h, void *ptr, const struct heap_locking *l)
{
    struct fault f = { MEM_OK, NULL };
    unsigned long st = l->lock(l->ctx);
    int err = free_quiet(h, ptr, &f);
    l->unlock(l->ctx, st);
    return err ? fault_raise(&f) : MEM_OK;
}

size_t heap_usable_size(struct heap *h, const void *ptr)
{
    struct fault f = { MEM_OK, NULL };
    size_t n = heap_usable_size_quiet(h, ptr, &f);
    fault_raise(&f);
    return n;
}
