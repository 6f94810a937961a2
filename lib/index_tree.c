/* index_tree.c - the fast free index: a summary of each region's free blocks, kept beside its maps
 * (format.h), and the heap's region tree ordered by address and augmented with each region's
 * largest free block.
 *
 * Per region: a leaf per map word (a chunk of 64 granules on x86_64, 32 on i386) holds the size
 * of the largest free block that starts in the chunk, in granules, saturated at 255 (only the
 * chunk's last block can be longer than the chunk, so a saturated leaf asks one block for its
 * exact size). Above the leaves, a 16-way tree of exact maxima in flat arrays; its one top entry
 * is the region's largest free block. Each entry has a copy in a byte, saturated as the leaves
 * are, so that a search or a maximum over a node's 16 children reads 16 bytes, two words (SWAR),
 * and only a request or a maximum of 255 granules or more reads the exact entries.
 *
 * The region's last block, when it is free (the wilderness, which most allocations cut and most
 * frees at the end grow), stays out of the summary: the region keeps its start (r->wild), and
 * the region tree's key is the larger of the summary's top entry and the wilderness.
 *
 * First fit descends: in the region tree to the lowest region with room, then from the highest
 * summary level in use down, at each level to the first child whose maximum fits, to a chunk;
 * there it takes the lowest free start that fits; if the summary holds nothing big enough, the
 * wilderness fits. That is exactly the block a walk of the free blocks in address order would
 * take (index_list.c), in O(log regions + log granules). */
#include "index.h"

const char *heap_index_name(void) { return "tree"; }

static size_t align_up_fanout(size_t n) { return (n + FANOUT - 1) / FANOUT * FANOUT; }

/* ---- A node's 16 children at once ---------------------------------------------------------
 * The leaves and the saturated copies of the entries above (r->sat) are bytes, so a node's 16
 * children are FANOUT / sizeof(mapword) words of byte lanes (SWAR): a search compares them a
 * few operations a word, not a loop a child, and a maximum reads 16 bytes, not 16 entries.
 * Every level is padded with zeros to whole nodes, so a node's words are always there. A
 * saturated byte (255) says only "255 or more": then the exact values decide (chunk_max,
 * r->sum). */
#define LANES      sizeof(mapword)              /* bytes per word */
#define NODE_WORDS (FANOUT / LANES)
#define LANE_LOW   ((mapword)-1 / 0xFF)         /* 0x01 in every lane */
#define LANE_HIGH  (LANE_LOW << 7)              /* 0x80 in every lane */

static inline mapword bytes_word(const uint8_t *p)
{
    mapword w;
    __builtin_memcpy(&w, p, sizeof w);          /* one load; lib/ is built -fno-builtin */
    return w;
}

/* A search's threshold: n (1..255) in every lane, split as lanes_at_least wants it. */
struct lanes_min { mapword low; int high; };

static inline struct lanes_min lanes_min(size_t n)
{
    struct lanes_min t = { (n & 0x7F) * LANE_LOW, n >= 0x80 };
    return t;
}

/* The high bit of each lane of x that is at least t's byte (unsigned): the low 7 bits compare
 * in (x | 0x80) - low, which cannot borrow from the next lane; the high bits decide where they
 * differ. */
static inline mapword lanes_at_least(mapword x, struct lanes_min t)
{
    mapword low = (x | LANE_HIGH) - t.low;
    return (t.high ? x & low : x | low) & LANE_HIGH;
}

/* The lowest-addressed lane with its high bit set in m (not 0), and m without it. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
static inline size_t lane_first(mapword m) { return (MAP_BITS - 1 - high_bit(m)) / 8; }
static inline mapword lane_drop(mapword m) { return m & ~((mapword)1 << high_bit(m)); }
#else
static inline size_t lane_first(mapword m) { return low_bit(m) / 8; }
static inline mapword lane_drop(mapword m) { return m & (m - 1); }
#endif

/* The largest of the FANOUT bytes from p: unrolled, a load, a compare and a move each (a SWAR
 * maximum of full bytes costs more). */
#ifdef __OPTIMIZE_SIZE__                        /* -Os asks for the short loop: 120 bytes less on i386 */
#define UNROLL_NODE
#else
#define UNROLL_NODE _Pragma("GCC unroll 16")
#endif

static size_t bytes_max(const uint8_t *p)
{
    size_t best = 0;
    UNROLL_NODE
    for (size_t i = 0; i < FANOUT; i++)
        best = p[i] > best ? p[i] : best;
    return best;
}

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
        if (base + b == r->wild)
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

/* The region's key in the region tree: its largest free block. */
static void region_key(struct region *r)
{
    size_t top = top_entry(r), wild = r->wild == NONE ? 0 : r->granules - r->wild;
    size_t key = top > wild ? top : wild;
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

/* The largest of node j's children at level k: 16 leaves (a saturated one asks its chunk), or
 * 16 entries of the level below. Every level is padded with zeros to whole nodes. */
static size_t node_max(const struct region *r, size_t k, size_t j)
{
    const uint8_t *b = children(r, k, j);
    size_t best = bytes_max(b);
    if (best < LEAF_FULL)
        return best;
    for (size_t i = 0; i < FANOUT; i++) {   /* 255 or more: the exact values */
        size_t m = !k ? (b[i] == LEAF_FULL ? chunk_max(r, j * FANOUT + i) : 0)  /* rare long blocks */
                      : r->sum[k - 1][j * FANOUT + i];
        best = m > best ? m : best;
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

/* A free block of `size` granules that starts at g went or shrank: only if it may have been its
 * chunk's largest does the chunk need a look. */
void index_removed(struct heap *h, struct region *r, size_t g, size_t size)
{
    (void)h;
    size_t c = g / MAP_BITS;
    if (g == r->wild) {
        r->wild = NONE;
        region_key(r);
    } else if (size >= r->leaf[c]) {
        chunk_update(r, c);
    }
}

/* The block at `gone` merged into the free block at g, which index_added will raise to more than
 * `size`. In g's chunk that is all that changes; the wilderness is not summarised (and the
 * merged block becomes it, in index_added). Only another chunk may have lost its largest. */
void index_merged(struct heap *h, struct region *r, size_t g, size_t gone, size_t size)
{
    if (gone != r->wild && gone / MAP_BITS != g / MAP_BITS)
        index_removed(h, r, gone, size);
}

/* A free block of `size` granules starts at g, new or grown: it raises its chunk's leaf and the
 * entries above as far as it beats them, reading no sibling. */
void index_added(struct heap *h, struct region *r, size_t g, size_t size)
{
    (void)h;
    size_t c = g / MAP_BITS;
    if (g + size == r->granules) {       /* the wilderness: out of the summary, where a free */
        r->wild = g;                     /* block that grew into it may still be counted */
        if (r->leaf[c])
            chunk_update(r, c);
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

/* The lowest free start of at least `need` granules in r, whose key says there is one; its end
 * in *end. */
static size_t region_fit(const struct region *r, size_t need, size_t *end)
{
    size_t j = 0;
    if (top_entry(r) < need) {
        *end = r->granules;
        return r->wild;
    }
    struct lanes_min small = lanes_min(need < LEAF_FULL ? need : LEAF_FULL);
    for (size_t k = r->sum_reach - 1; k > 0; k--) {  /* the first child that fits, down to level 0 */
        size_t i = j * FANOUT, hi = i + FANOUT;
        if (need < LEAF_FULL) {          /* below saturation the byte copies are exact */
            mapword m = 0;
            for (; i < hi && !(m = lanes_at_least(bytes_word(r->sat[k - 1] + i), small)); i += LANES)
                ;
            i += m ? lane_first(m) : 0;
        } else {
            while (i < hi && r->sum[k - 1][i] < need)
                i++;
        }
        if (i >= hi)
            return NONE;                 /* cannot happen while the summary holds */
        j = i;
    }
    for (size_t c = j * FANOUT, hi = c + FANOUT; c < hi; c += LANES) {
        for (mapword m = lanes_at_least(bytes_word(r->leaf + c), small); m; m = lane_drop(m)) {
            size_t g = chunk_fit(r, c + lane_first(m), need, end);   /* a saturated leaf may not fit */
            if (g != NONE)
                return g;
        }
    }
    return NONE;
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
    for (size_t c = 0; c < align_up_fanout(r->map_words); c++) {
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
        for (size_t i = 0; i < align_up_fanout(r->sum_size[k - 1]); i++) {
            best = below[i] > best ? below[i] : best;
            if (i % FANOUT == FANOUT - 1) {
                bad += r->sum[k][i / FANOUT] != (k < r->sum_reach ? best : 0);
                best = 0;
            }
        }
    }
    for (size_t k = 0; k < r->sum_levels; k++)   /* the byte copies, padding included */
        for (size_t i = 0; i < align_up_fanout(r->sum_size[k]); i++)
            bad += r->sat[k][i] != (r->sum[k][i] < LEAF_FULL ? r->sum[k][i] : LEAF_FULL);
    size_t last = start_before(r, r->granules);
    bad += r->wild != (is_free(r, last) ? last : NONE);
    bad += r->reach_end != (r->sum_reach < r->sum_levels ? (size_t)1 << (4 * r->sum_reach) : NONE);
    if (r->sum_reach < r->sum_levels)    /* nothing summarised beyond the reach */
        for (size_t c = (size_t)1 << (4 * r->sum_reach); c < r->map_words; c++)
            bad += r->leaf[c] != 0;
    size_t top = top_entry(r), wild = r->wild == NONE ? 0 : r->granules - r->wild;
    bad += r->node.size != (top > wild ? top : wild);
    return bad;
}
