/* index_list.c - the reference free index: the free blocks walked in address order, region by
 * region, from the start (the mark map's free starts are the sorted list). This is the textbook
 * first fit: obviously right and O(n). It stays in the tree as the oracle that index_tree.c
 * must agree with, block for block, and as the baseline `make bench` measures against. Built
 * instead of index_tree.c; it keeps no summary (the region's summary tables stay zero). */
#include "index.h"

const char *heap_index_name(void) { return "list"; }

void index_cut(struct heap *h, struct region *r, size_t g, size_t size, size_t rest)
{
    (void)h;
    (void)r;
    (void)g;
    (void)size;
    (void)rest;
}

void index_added(struct heap *h, struct region *r, size_t g, size_t size)
{
    (void)h;
    (void)r;
    (void)g;
    (void)size;
}

void index_freed(struct heap *h, struct region *r, size_t lo, size_t g, size_t end, size_t hi)
{
    (void)h;
    (void)r;
    (void)lo;
    (void)g;
    (void)end;
    (void)hi;
}

/* Each free block of r in address order: the next free start at or after granule g, or NONE. */
static size_t free_from(const struct region *r, size_t g)
{
    for (size_t w = g / MAP_BITS; w < r->map_words; w++) {
        mapword f = r->start[w] & r->mark[w];
        if (w == g / MAP_BITS)
            f &= ~(mapword)0 << (g % MAP_BITS);
        if (f)
            return w * MAP_BITS + low_bit(f);
    }
    return NONE;
}

size_t index_find(struct heap *h, size_t need, struct region **rp, size_t *end)
{
    for (struct region *r = region_first(h); r; r = region_next(r))
        for (size_t g = free_from(r, 0); g != NONE; g = free_from(r, g + 1))
            if (start_after(r, g) - g >= need) {
                *rp = r;
                *end = start_after(r, g);
                return g;
            }
    return NONE;
}

size_t index_largest(struct heap *h)
{
    size_t best = 0;
    for (struct region *r = region_first(h); r; r = region_next(r))
        for (size_t g = free_from(r, 0); g != NONE; g = free_from(r, g + 1))
            if (start_after(r, g) - g > best)
                best = start_after(r, g) - g;
    return best;
}

int index_check(const struct region *r)
{
    (void)r;
    return 0;
}
