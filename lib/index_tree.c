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
 * First fit descends: in the region tree to the lowest region with room, then from the region's
 * top entry down, at each level to the first child whose maximum fits, to a chunk; there it
 * takes the lowest free start that fits. That is exactly the block a walk of the free blocks in
 * address order would take (index_list.c), in O(log regions + log granules). */
#include "index.h"

const char *heap_index_name(void) { return "tree"; }

/* The largest free block starting in chunk c, in granules. */
static size_t chunk_max(const struct region *r, size_t c)
{
    size_t best = 0;
    for (mapword f = r->start[c] & r->mark[c]; f; f &= f - 1) {
        size_t g = c * MAP_BITS + low_bit(f), size = start_after(r, g) - g;
        if (size > best)
            best = size;
    }
    return best;
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

static size_t leaf_exact(const struct region *r, size_t c)
{
    return r->leaf[c] < LEAF_FULL ? r->leaf[c] : chunk_max(r, c);
}

/* Entries below level k (the leaves below level 0), and the largest of node j's children. */
static size_t children(const struct region *r, size_t k) { return k ? r->sum_size[k - 1] : r->map_words; }

static size_t node_max(const struct region *r, size_t k, size_t j)
{
    size_t lo = j * FANOUT, hi = lo + FANOUT < children(r, k) ? lo + FANOUT : children(r, k), best = 0;
    for (size_t i = lo; i < hi; i++) {
        size_t v = k ? r->sum[k - 1][i] : leaf_exact(r, i);
        if (v > best)
            best = v;
    }
    return best;
}

/* Chunk c changed: its leaf, then each level while the change reaches it. A larger value climbs
 * without reading siblings; a smaller one recomputes a node only if the old value may have been
 * its maximum. The region's top entry is its key in the region tree. */
void index_update(struct heap *h, struct region *r, size_t c)
{
    (void)h;
    size_t now = chunk_max(r, c), was = r->leaf[c] < LEAF_FULL ? r->leaf[c] : (size_t)-1;
    r->leaf[c] = (uint8_t)(now < LEAF_FULL ? now : LEAF_FULL);
    for (size_t k = 0, i = c; k < r->sum_levels; k++, i /= FANOUT) {
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
    r->node.size = now;
    rb_update_max(&r->node);
}

/* The lowest free start of at least `need` granules in r, whose top entry says there is one. */
static size_t region_fit(const struct region *r, size_t need)
{
    size_t j = 0;
    for (size_t k = r->sum_levels - 1; k > 0; k--) {  /* the first child that fits, down to level 0 */
        size_t i = j * FANOUT, hi = i + FANOUT < children(r, k) ? i + FANOUT : children(r, k);
        while (i < hi && r->sum[k - 1][i] < need)
            i++;
        if (i == hi)
            return NONE;                 /* cannot happen while the summary holds */
        j = i;
    }
    size_t small = need < LEAF_FULL ? need : LEAF_FULL;
    size_t c = j * FANOUT, hi = c + FANOUT < r->map_words ? c + FANOUT : r->map_words;
    for (; c < hi; c++) {
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

/* Every leaf and every entry equals its recomputation from the maps and the level below. */
int index_check(const struct region *r)
{
    int bad = 0;
    for (size_t c = 0; c < r->map_words; c++) {
        size_t m = chunk_max(r, c);
        bad += r->leaf[c] != (m < LEAF_FULL ? m : LEAF_FULL);
    }
    for (size_t k = 0; k < r->sum_levels; k++)
        for (size_t j = 0; j < r->sum_size[k]; j++)
            bad += r->sum[k][j] != node_max(r, k, j);
    bad += r->node.size != r->sum[r->sum_levels - 1][0];
    return bad;
}
