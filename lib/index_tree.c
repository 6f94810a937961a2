/* index_tree.c - the fast free index: a summary of each region's free blocks, kept beside its maps
 * (format.h), and the heap's region tree ordered by address and augmented with each region's
 * largest free block.
 *
 * Per region: a leaf per map word (a chunk of 64 granules on x86_64, 32 on i386) holds the size
 * of the largest free block that starts in the chunk, in granules, saturated at 255 (only the
 * chunk's last block can be longer than the chunk, so a saturated leaf asks one block for its
 * exact size). Above the leaves, a 16-way tree of exact maxima in flat arrays; its one top entry
 * is the region's largest free block.
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

/* The largest free block starting in chunk c, in granules (the wilderness aside). */
static size_t chunk_max(const struct region *r, size_t c)
{
    size_t best = 0;
    for (mapword f = r->start[c] & r->mark[c]; f; f &= f - 1) {
        size_t g = c * MAP_BITS + low_bit(f), size = start_after(r, g) - g;
        if (size > best && g != r->wild)
            best = size;
    }
    return best;
}

/* The summary is kept up to the levels in use: the top entry is node 0 of the highest, and the
 * levels above it stay zero until the reach grows (index_reach). */
static size_t top_entry(const struct region *r) { return r->sum[r->sum_reach - 1][0]; }

/* A free block will be summarised in chunk c: grow the levels in use until node 0 of the highest
 * covers it. A new top node has the old top as its first child and zeros after it. */
static void index_reach(struct region *r, size_t c)
{
    while (r->sum_reach < r->sum_levels && c >> (4 * r->sum_reach)) {   /* FANOUT = 2^4 */
        r->sum[r->sum_reach][0] = r->sum[r->sum_reach - 1][0];
        r->sum_reach++;
    }
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

/* The lowest free start in chunk c of at least `need` granules, or NONE. */
static size_t chunk_fit(const struct region *r, size_t c, size_t need)
{
    for (mapword f = r->start[c] & r->mark[c]; f; f &= f - 1) {
        size_t g = c * MAP_BITS + low_bit(f);
        if (start_after(r, g) - g >= need)
            return g;
    }
    return NONE;
}

/* The largest of node j's children at level k: 16 leaves (a saturated one asks its chunk), or
 * 16 entries of the level below. Every level is padded with zeros to whole nodes. */
static size_t node_max(const struct region *r, size_t k, size_t j)
{
    size_t best = 0;
    if (k) {
        const uint32_t *e = r->sum[k - 1] + j * FANOUT;
        for (size_t i = 0; i < FANOUT; i++)
            best = e[i] > best ? e[i] : best;
        return best;
    }
    const uint8_t *leaf = r->leaf + j * FANOUT;
    for (size_t i = 0; i < FANOUT; i++)
        best = leaf[i] > best ? leaf[i] : best;
    if (best < LEAF_FULL)
        return best;
    for (size_t i = 0; i < FANOUT; i++)  /* the rare long blocks: their exact sizes */
        if (leaf[i] == LEAF_FULL && chunk_max(r, j * FANOUT + i) > best)
            best = chunk_max(r, j * FANOUT + i);
    return best;
}

/* Chunk c changed: its leaf, then each level while the change reaches it. A larger value climbs
 * without reading siblings; a smaller one recomputes a node only if the old value may have been
 * its maximum. The region's top entry is its key in the region tree. */
static void chunk_update(struct region *r, size_t c)
{
    size_t now = chunk_max(r, c), was = r->leaf[c] < LEAF_FULL ? r->leaf[c] : (size_t)-1;
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
        *node = (uint32_t)v;
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
    if (r->sum_reach < r->sum_levels && c >> (4 * r->sum_reach))
        index_reach(r, c);
    if (size <= r->leaf[c] && size < LEAF_FULL)
        return;
    r->leaf[c] = (uint8_t)(size < LEAF_FULL ? size : LEAF_FULL);
    for (size_t k = 0, i = c; k < r->sum_reach; k++, i /= FANOUT) {
        uint32_t *node = &r->sum[k][i / FANOUT];
        if (*node >= size)
            return;
        *node = (uint32_t)size;
    }
    region_key(r);
}

/* The lowest free start of at least `need` granules in r, whose key says there is one. */
static size_t region_fit(const struct region *r, size_t need)
{
    size_t j = 0;
    if (top_entry(r) < need)
        return r->wild;
    for (size_t k = r->sum_reach - 1; k > 0; k--) {  /* the first child that fits, down to level 0 */
        size_t i = j * FANOUT, hi = i + FANOUT;
        while (i < hi && r->sum[k - 1][i] < need)
            i++;
        if (i == hi)
            return NONE;                 /* cannot happen while the summary holds */
        j = i;
    }
    size_t small = need < LEAF_FULL ? need : LEAF_FULL;
    for (size_t c = j * FANOUT, hi = c + FANOUT; c < hi; c++) {
        if (r->leaf[c] >= small) {
            size_t g = chunk_fit(r, c, need);
            if (g != NONE)
                return g;
        }
    }
    return NONE;
}

size_t index_find(struct heap *h, size_t need, struct region **rp)
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
    return region_fit(*rp, need);
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
    size_t last = start_before(r, r->granules);
    bad += r->wild != (is_free(r, last) ? last : NONE);
    if (r->sum_reach < r->sum_levels)    /* nothing summarised beyond the reach */
        for (size_t c = (size_t)1 << (4 * r->sum_reach); c < r->map_words; c++)
            bad += r->leaf[c] != 0;
    size_t top = top_entry(r), wild = r->wild == NONE ? 0 : r->granules - r->wild;
    bad += r->node.size != (top > wild ? top : wild);
    return bad;
}
