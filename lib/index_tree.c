/* index_tree.c - the fast free index: a summary of each region's free blocks, kept beside its maps
 * (format.h), and the heap's region tree ordered by address and augmented with each region's
 * largest free block.
 *
 * Per region: a leaf per map word (a chunk of 64 granules on x86_64, 32 on i386) holds the size
 * of the largest free block that starts in the chunk, in granules, saturated at 255 (only the
 * chunk's last block can be longer than the chunk, so a saturated leaf asks one block for its
 * exact size). Above the leaves, a 16-way tree of exact maxima in flat arrays; its one top entry
 * is the region's largest free block. Each entry has a copy in a byte, saturated as the leaves
 * are, so that a search or a maximum over a node's 16 children reads 16 contiguous bytes (one
 * SSE2 register where there is one), and only a request or a maximum of 255 granules or more
 * reads the exact entries.
 *
 * Two free blocks stay out of the summary, each known by its start: the region's last block when
 * it is free (the wilderness, r->wild, which most allocations cut and most frees at the end
 * grow), and the cut block (r->cut, with its end): what is left of the last block an allocation
 * cut that was its chunk's largest. A program that eats a large hole from the front, one
 * allocation after the other, cuts the same block every time; kept in the summary, that block
 * is often the largest of its chunk and of every level above, and each cut would climb the
 * tree twice (down, then up with what is left). Out of it, a cut costs a compare, and so does a
 * free that merges with it. The region tree's key is the largest of the summary's top entry,
 * the wilderness and the cut block.
 *
 * First fit descends: in the region tree to the lowest region with room, then from the highest
 * summary level in use down, at each level to the first child whose maximum fits, to a chunk;
 * there it takes the lowest free start that fits. The cut block wins if it fits and is lower;
 * if neither fits, the wilderness does. That is exactly the block a walk of the free blocks in
 * address order would take (index_list.c), in O(log regions + log granules). */
#include "index.h"

const char *heap_index_name(void) { return "tree"; }


/* ---- A node's 16 children at once ---------------------------------------------------------
 * The leaves and the saturated copies of the entries above (r->sat) are bytes, so a node's 16
 * children are 16 contiguous bytes: a search asks which of them reach a threshold (node_fits),
 * an update asks for their largest (node_top). Every level is padded with zeros to whole nodes,
 * so a node's 16 bytes are always there. A saturated byte (255) says only "255 or more": then
 * the exact values decide (chunk_max, r->sum).
 *
 * With SSE2 (every x86_64 host; an i386 or x86_64 kernel built with -mno-sse has none) one
 * register holds a node: node_fits is a max, a compare and a mask move, node_top four folds.
 * The builtins are the compiler's own (GCC's and clang's spell two of them apart), so lib/
 * needs no <emmintrin.h>, which wants a hosted <stdlib.h>. Elsewhere, plain loops over bytes. */
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
typedef unsigned char u8x16 __attribute__((vector_size(16)));
typedef char i8x16 __attribute__((vector_size(16)));
typedef long long i64x2 __attribute__((vector_size(16)));
#ifdef __clang__
#define U8X16_MAX(a, b)  __builtin_elementwise_max((a), (b))
#define U8X16_DOWN(v, k) ((u8x16)__builtin_ia32_psrldqi128_byteshift((i64x2)(v), (k)))
#else
#define U8X16_MAX(a, b)  ((u8x16)__builtin_ia32_pmaxub128((i8x16)(a), (i8x16)(b)))
#define U8X16_DOWN(v, k) ((u8x16)__builtin_ia32_psrldqi128((i64x2)(v), 8 * (k)))
#endif

static inline u8x16 node_load(const uint8_t *p)
{
    u8x16 v;
    __builtin_memcpy(&v, p, sizeof v);          /* one unaligned load; lib/ is built -fno-builtin */
    return v;
}

/* Bit i set where p[i] >= n (1 <= n <= 255): max(p[i], n) == p[i]. */
static inline unsigned node_fits(const uint8_t *p, size_t n)
{
    u8x16 v = node_load(p), t = (u8x16){ 0 } + (unsigned char)n;
    return (unsigned)__builtin_ia32_pmovmskb128((i8x16)(U8X16_MAX(v, t) == v));
}

/* The largest of p[0..15]: fold the upper half onto the lower, four times. */
static inline size_t node_top(const uint8_t *p)
{
    u8x16 v = node_load(p);
    v = U8X16_MAX(v, U8X16_DOWN(v, 8));
    v = U8X16_MAX(v, U8X16_DOWN(v, 4));
    v = U8X16_MAX(v, U8X16_DOWN(v, 2));
    v = U8X16_MAX(v, U8X16_DOWN(v, 1));
    return v[0];
}
#else
static inline unsigned node_fits(const uint8_t *p, size_t n)
{
    unsigned m = 0;
    for (unsigned i = 0; i < FANOUT; i++)
        m |= (unsigned)(p[i] >= n) << i;
    return m;
}

static size_t node_top(const uint8_t *p)
{
    size_t best = 0;
    for (size_t i = 0; i < FANOUT; i++)
        best = p[i] > best ? p[i] : best;
    return best;
}
#endif

static inline unsigned node_first(unsigned m) { return (unsigned)__builtin_ctz(m); }

/* Entry i of level k and its saturated copy, always written together. */
static inline void sum_set(struct region *r, size_t k, size_t i, size_t v)
{
    r->sum[k][i] = (uint32_t)v;
    r->sat[k][i] = (uint8_t)(v < LEAF_FULL ? v : LEAF_FULL);
}

/* The largest free block starting in chunk c, in granules (the wilderness aside). A free block
 * ends at the next start bit: in the same word but for the chunk's last block. */
static inline size_t chunk_max_inline(const struct region *r, size_t c)
{
    size_t best = 0, base = c * MAP_BITS;
    mapword s = r->start[c];
    for (mapword f = s & r->mark[c]; f; f &= f - 1) {
        unsigned b = low_bit(f);
        mapword after = s & (~(mapword)1 << b);
        if (base + b == r->wild || base + b == r->cut)
            continue;
        size_t size = after ? low_bit(after) - b : start_after(r, base + b) - (base + b);
        best = size > best ? size : best;
    }
    return best;
}

/* Node j of level k's children as bytes: its leaves, or the byte copies of level k - 1. */
static inline const uint8_t *children(const struct region *r, size_t k, size_t j)
{
    return (k ? r->sat[k - 1] : r->leaf) + j * FANOUT;
}

/* The same out of line, for the rare callers; chunk_update has its own copy. */
static size_t chunk_max(const struct region *r, size_t c) { return chunk_max_inline(r, c); }

/* The summary is kept up to the levels in use: the top entry is node 0 of the highest, and the
 * levels above it stay zero until the reach grows (index_reach). */
static size_t top_entry(const struct region *r) { return r->sum[r->sum_reach - 1][0]; }

/* A free block will be summarised in chunk c: grow the levels in use until node 0 of the highest
 * covers it. A new top node has the old top as its first child and zeros after it. */
static void index_reach(struct region *r, size_t c)
{
    while (r->sum_reach < r->sum_levels && c >> (4 * r->sum_reach)) {   /* FANOUT = 2^4 */
        sum_set(r, r->sum_reach, 0, r->sum[r->sum_reach - 1][0]);
        r->sum_reach++;
    }
    r->reach_end = r->sum_reach < r->sum_levels ? (size_t)1 << (4 * r->sum_reach) : NONE;
}

/* The cut block is [g, end), or with g = NONE there is none (its end is then 0, so that heap_check
 * sees a damaged end). */
static void cut_set(struct region *r, size_t g, size_t end)
{
    r->cut = g;
    r->cut_end = g == NONE ? 0 : end;
}

/* The region's largest free block: the summary's, the wilderness or the cut block. */
static size_t region_largest(const struct region *r)
{
    size_t top = top_entry(r), wild = r->wild == NONE ? 0 : r->granules - r->wild;
    size_t cut = r->cut == NONE ? 0 : r->cut_end - r->cut;
    size_t key = top > wild ? top : wild;
    return key > cut ? key : cut;
}

/* The region's key in the region tree: its largest free block. */
static void region_key(struct region *r)
{
    size_t key = region_largest(r);
    if (key != r->node.size) {
        r->node.size = key;
        rb_update_max(&r->node);
    }
}

/* The lowest free start in chunk c of at least `need` granules, or NONE; its end in *end. As in
 * chunk_max, a block's end is in the word at hand but for the chunk's last block. */
static size_t chunk_fit(const struct region *r, size_t c, size_t need, size_t *end)
{
    size_t base = c * MAP_BITS;
    mapword s = r->start[c];
    for (mapword f = s & r->mark[c]; f; f &= f - 1) {
        unsigned b = low_bit(f);
        mapword after = s & (~(mapword)1 << b);
        size_t e = after ? base + low_bit(after) : start_after(r, base + b);
        if (e - (base + b) >= need) {
            *end = e;
            return base + b;
        }
    }
    return NONE;
}

/* The largest of node j's children at level k: 16 leaves, or 16 entries of the level below.
 * Every level is padded with zeros to whole nodes. Below saturation the bytes are exact; at 255
 * or more only the saturated children can be the largest, and their exact values decide: the
 * entries of the level below, or at the leaves, the chunks (rare long blocks). */
static size_t node_max(const struct region *r, size_t k, size_t j)
{
    const uint8_t *b = children(r, k, j);
    size_t best = node_top(b);
    if (best < LEAF_FULL)
        return best;
    for (unsigned m = node_fits(b, LEAF_FULL); m; m &= m - 1) {
        size_t i = j * FANOUT + node_first(m), v = k ? r->sum[k - 1][i] : chunk_max(r, i);
        best = v > best ? v : best;
    }
    return best;
}

/* Chunk c changed: its leaf, then each level while the change reaches it. A larger value climbs
 * without reading siblings; a smaller one recomputes a node only if the old value may have been
 * its maximum. The region's top entry is its key in the region tree. */
static void chunk_update(struct region *r, size_t c)
{
    size_t now = chunk_max_inline(r, c), was = r->leaf[c] < LEAF_FULL ? r->leaf[c] : (size_t)-1;
    r->leaf[c] = (uint8_t)(now < LEAF_FULL ? now : LEAF_FULL);
    for (size_t k = 0, i = c; k < r->sum_reach; k++, i /= FANOUT) {
        uint32_t *node = &r->sum[k][i / FANOUT];
        size_t cur = *node, v;
        if (now >= cur)
            v = now;
        else if (was >= cur)
            v = node_max(r, k, i / FANOUT);
        else
            return;
        if (v == cur)
            return;
        sum_set(r, k, i / FANOUT, v);
        was = cur;
        now = v;
    }
    region_key(r);
}

/* A summarised free block of `size` granules that started at g is gone: only if it may have
 * been its chunk's largest does the chunk need a look. */
static void summary_removed(struct region *r, size_t g, size_t size)
{
    size_t c = g / MAP_BITS;
    if (size >= r->leaf[c])
        chunk_update(r, c);
}

/* index_freed of a block that merged with the free block above it. Out of line, so that the
 * other frees go to index_added without saving a register (-6 instructions per churn pair). */
static __attribute__((noinline)) void freed_above(struct heap *h, struct region *r, size_t lo, size_t g,
                                                  size_t end, size_t hi)
{
    if (end == r->cut) {
        cut_set(r, lo, hi);              /* first, so that the chunk's recount leaves it out */
        if (lo < g)
            summary_removed(r, lo, g - lo);
        region_key(r);
        return;
    }
    if (end != r->wild && (end / MAP_BITS != lo / MAP_BITS || lo == r->cut))
        summary_removed(r, end, hi - end);
    index_added(h, r, lo, hi - lo);
}

/* Used block [g, end) was freed into free block [lo, hi): merged with the free block below when
 * lo < g, with the one above when end < hi. The merged block is indexed as the blocks it took in
 * were: the wilderness if it reaches the region's end, the cut block if it took the cut block in
 * (so that a program freeing just below where it cuts keeps cutting without a climb), else a
 * summarised block, whose summary only grows but for the chunk of a block above it absorbed. */
void index_freed(struct heap *h, struct region *r, size_t lo, size_t g, size_t end, size_t hi)
{
    if (end < hi)
        freed_above(h, r, lo, g, end, hi);
    else
        index_added(h, r, lo, hi - lo);
}

/* A free block of `size` granules starts at g, new or grown: it raises its chunk's leaf and the
 * entries above as far as it beats them, reading no sibling. */
void index_added(struct heap *h, struct region *r, size_t g, size_t size)
{
    (void)h;
    size_t c = g / MAP_BITS;
    if (g + size == r->granules) {       /* the wilderness: out of the summary, where a free */
        r->wild = g;                     /* block that grew into it may still be counted */
        if (g == r->cut)
            cut_set(r, NONE, 0);
        else if (r->leaf[c])
            chunk_update(r, c);
        region_key(r);
        return;
    }
    if (g == r->cut) {                   /* the cut block grew: still out of the summary */
        r->cut_end = g + size;
        region_key(r);
        return;
    }
    if (c >= r->reach_end)
        index_reach(r, c);
    if (size <= r->leaf[c] && size < LEAF_FULL)
        return;
    r->leaf[c] = (uint8_t)(size < LEAF_FULL ? size : LEAF_FULL);
    for (size_t k = 0, i = c; k < r->sum_reach; k++, i /= FANOUT) {
        if (r->sum[k][i / FANOUT] >= size)
            return;
        sum_set(r, k, i / FANOUT, size);
    }
    region_key(r);
}

/* Summarised free block [g, g + size), its chunk's largest, lost its front: what is left from
 * `left` (NONE: nothing) becomes the cut block, and the previous cut block goes back into the
 * summary (nothing left: the cut block stays). */
static void summary_cut(struct heap *h, struct region *r, size_t g, size_t size, size_t left)
{
    size_t old = left == NONE ? NONE : r->cut, old_end = r->cut_end;
    if (left != NONE)
        cut_set(r, left, g + size);      /* first, so that the chunk's recount leaves it out */
    chunk_update(r, g / MAP_BITS);
    if (old != NONE)
        index_added(h, r, old, old_end - old);
    else
        region_key(r);
}

/* The front of free block [g, g + size) was handed out up to rest. The wilderness and the cut
 * block shrink, out of the summary. A block that was not its chunk's largest leaves the summary
 * as it was, and what is left of it goes in. The largest is where a removal climbs: what is
 * left of it becomes the cut block (summary_cut). Each case is a compare or two and one call. */
void index_cut(struct heap *h, struct region *r, size_t g, size_t size, size_t rest)
{
    size_t end = g + size, left = rest < end ? rest : NONE;
    if (g == r->wild) {
        r->wild = left;
        region_key(r);
    } else if (g == r->cut) {
        cut_set(r, left, end);
        region_key(r);
    } else if (size < r->leaf[g / MAP_BITS]) {
        if (left != NONE)
            index_added(h, r, left, end - left);
    } else {
        summary_cut(h, r, g, size, left);
    }
}

/* The lowest summarised free start of at least `need` granules in r, whose top entry says there
 * is one; its end in *end. */
static size_t summary_fit(const struct region *r, size_t need, size_t *end)
{
    size_t j = 0;
    size_t small = need < LEAF_FULL ? need : LEAF_FULL;
    for (size_t k = r->sum_reach - 1; k > 0; k--) {  /* the first child that fits, down to level 0 */
        size_t i = j * FANOUT, hi = i + FANOUT;
        if (need < LEAF_FULL) {          /* below saturation the byte copies are exact */
            unsigned m = node_fits(r->sat[k - 1] + i, small);
            i = m ? i + node_first(m) : hi;
        } else {
            while (i < hi && r->sum[k - 1][i] < need)
                i++;
        }
        if (i >= hi)
            return NONE;                 /* cannot happen while the summary holds */
        j = i;
    }
    for (unsigned m = node_fits(r->leaf + j * FANOUT, small); m; m &= m - 1) {
        size_t g = chunk_fit(r, j * FANOUT + node_first(m), need, end);   /* a saturated leaf may not fit */
        if (g != NONE)
            return g;
    }
    return NONE;
}

/* The lowest free start of at least `need` granules in r, whose key says there is one: the
 * summary's, unless the cut block fits below it; else the wilderness. Its end in *end. */
static size_t region_fit(const struct region *r, size_t need, size_t *end)
{
    size_t g = top_entry(r) >= need ? summary_fit(r, need, end) : NONE;
    if (r->cut < g && r->cut_end - r->cut >= need) {     /* NONE is above every start */
        *end = r->cut_end;
        return r->cut;
    }
    if (g != NONE)
        return g;
    *end = r->granules;
    return r->wild;
}

size_t index_find(struct heap *h, size_t need, struct region **rp, size_t *end)
{
    struct rb_node *n = h->regions;
    if (!n || n->max < need)
        return NONE;
    for (;;) {                           /* the lowest-addressed region with room */
        if (n->child[0] && n->child[0]->max >= need)
            n = n->child[0];
        else if (n->size >= need)
            break;
        else
            n = n->child[1];             /* n->max >= need, so the right subtree has one */
    }
    *rp = node_region(n);
    return region_fit(*rp, need, end);
}

size_t index_largest(struct heap *h) { return h->regions ? h->regions->max : 0; }

/* Every leaf and every entry equals its recomputation from the maps and the level below; one
 * pass over each level, most of it over zeros (a large region is mostly one free block). */
int index_check(const struct region *r)
{
    int bad = 0;
    size_t best = 0;
    for (size_t c = 0; c < align_up(r->map_words, FANOUT); c++) {
        size_t m = c < r->map_words && (r->start[c] & r->mark[c]) ? chunk_max(r, c) : 0;
        bad += r->leaf[c] != (m < LEAF_FULL ? m : LEAF_FULL);
        best = m > best ? m : best;
        if (c % FANOUT == FANOUT - 1) {
            bad += r->sum[0][c / FANOUT] != best;
            best = 0;
        }
    }
    for (size_t k = 1; k < r->sum_levels; k++) {
        const uint32_t *below = r->sum[k - 1];
        for (size_t i = 0; i < align_up(r->sum_size[k - 1], FANOUT); i++) {
            best = below[i] > best ? below[i] : best;
            if (i % FANOUT == FANOUT - 1) {
                bad += r->sum[k][i / FANOUT] != (k < r->sum_reach ? best : 0);
                best = 0;
            }
        }
    }
    for (size_t k = 0; k < r->sum_levels; k++)   /* the byte copies, padding included */
        for (size_t i = 0; i < align_up(r->sum_size[k], FANOUT); i++)
            bad += r->sat[k][i] != (r->sum[k][i] < LEAF_FULL ? r->sum[k][i] : LEAF_FULL);
    size_t last = start_before(r, r->granules);
    bad += r->wild != (is_free(r, last) ? last : NONE);
    if (r->cut != NONE)                  /* a free block, not the last (heap_check: in range) */
        bad += !is_start(r, r->cut) || !is_free(r, r->cut) || r->cut == last ||
               r->cut_end != start_after(r, r->cut);
    else
        bad += r->cut_end != 0;
    bad += r->reach_end != (r->sum_reach < r->sum_levels ? (size_t)1 << (4 * r->sum_reach) : NONE);
    if (r->sum_reach < r->sum_levels)    /* nothing summarised beyond the reach */
        for (size_t c = (size_t)1 << (4 * r->sum_reach); c < r->map_words; c++)
            bad += r->leaf[c] != 0;
    bad += r->node.size != region_largest(r);
    return bad;
}
