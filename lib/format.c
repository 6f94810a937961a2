/* format.c - the regions by address (the tree search behind region_of); the start map's skip
 * bits: the slow paths of start_after and start_before, for a block that does not end in the
 * chunk it starts in, and keeping the skip bits with the map; and where a region's descriptor,
 * tables and blocks go (region_layout, tables_layout).
 *
 * skip[0] has one bit per start word, set while that word is not zero; skip[k] has one bit per
 * word of skip[k-1]. A search that finds nothing in its own word climbs until a level shows a
 * non-empty word further on, then takes the lowest (or highest) bit down again: O(levels), that
 * is O(log granules / log 64), however long the block. */
#include "format.h"

size_t start_after_far(const struct region *r, size_t i)
{
    size_t j = i / MAP_BITS + 1, words = r->map_words;   /* j: the next word of the level below */
    for (size_t k = 0; k < r->skip_levels; k++) {       /* climb while nothing lies further on */
        words = (words + MAP_BITS - 1) / MAP_BITS;
        if (j / MAP_BITS >= words)
            return NONE;
        mapword w = r->skip[k][j / MAP_BITS] & (~(mapword)0 << (j % MAP_BITS));
        if (w) {                                        /* word j below holds a start: descend */
            j = j - j % MAP_BITS + low_bit(w);
            while (k-- > 0)
                j = j * MAP_BITS + low_bit(r->skip[k][j]);
            return j * MAP_BITS + low_bit(r->start[j]);
        }
        j = j / MAP_BITS + 1;
    }
    return NONE;
}

size_t start_before_far(const struct region *r, size_t i)
{
    size_t j = i / MAP_BITS;                            /* j - 1: the word before, below */
    for (size_t k = 0; k < r->skip_levels && j > 0; k++) {
        j--;
        mapword w = r->skip[k][j / MAP_BITS] & (~(mapword)0 >> (MAP_BITS - 1 - j % MAP_BITS));
        if (w) {
            j = j - j % MAP_BITS + high_bit(w);
            while (k-- > 0)
                j = j * MAP_BITS + high_bit(r->skip[k][j]);
            return j * MAP_BITS + high_bit(r->start[j]);
        }
        j /= MAP_BITS;
    }
    return NONE;
}

/* Granule g's start word was empty: set the bit, then each skip bit while its word was empty. */
void start_set_skip(struct region *r, size_t g)
{
    mapword *w = &r->start[g / MAP_BITS];
    int was_empty = *w == 0;
    *w |= (mapword)1 << (g % MAP_BITS);
    for (size_t k = 0; was_empty && k < r->skip_levels; k++) {
        g /= MAP_BITS;
        w = &r->skip[k][g / MAP_BITS];
        was_empty = *w == 0;
        *w |= (mapword)1 << (g % MAP_BITS);
    }
}

/* Granule g's start word is empty now (its bit already cleared): clear each skip bit while the
 * word below it is empty. */
void start_clear_skip(struct region *r, size_t g)
{
    mapword *w = &r->start[g / MAP_BITS];
    for (size_t k = 0; *w == 0 && k < r->skip_levels; k++) {
        g /= MAP_BITS;
        w = &r->skip[k][g / MAP_BITS];
        *w &= ~((mapword)1 << (g % MAP_BITS));
    }
}

/* ---- Regions by address -------------------------------------------------------------------- */

/* The region with the highest descriptor address at or below p. */
struct region *region_floor(const struct heap *h, const void *p)
{
    struct rb_node *n = h->regions, *best = NULL;
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
    return r ? node_region(rb_next((struct rb_node *)&r->node)) : NULL;
}

/* ---- Region layout: where the descriptor, the tables and the blocks go --------------------- */

/* The tables for `capacity` granules, laid out from `at` (or only measured, at == NULL): the two
 * maps (one more bit for the sentinel), the skip levels, the summary's leaves and levels. */
size_t tables_layout(struct region *r, char *at, size_t capacity)
{
    size_t words = capacity / MAP_BITS + 1, n = words, bytes = 2 * words * sizeof(mapword), k = 0;
    if (r) {
        r->capacity = capacity;
        r->map_words = words;
        r->start = (mapword *)(void *)at;
        r->mark = r->start + words;
    }
    for (; n > 1; k++) {                 /* skip bits, until one word covers everything */
        n = (n + MAP_BITS - 1) / MAP_BITS;
        if (r)
            r->skip[k] = (mapword *)(void *)(at + bytes);
        bytes += n * sizeof(mapword);
    }
    if (r) {
        r->skip_levels = k;
        r->leaf = (uint8_t *)(at + bytes);
    }
    bytes += align_up(words, FANOUT);     /* every level padded to whole nodes: loops of 16 */
    n = words;
    k = 0;
    do {                                 /* summary levels, until one entry */
        n = (n + FANOUT - 1) / FANOUT;
        if (r) {
            r->sum[k] = (uint32_t *)(void *)(at + bytes);
            r->sat[k] = (uint8_t *)(at + bytes + align_up(n, FANOUT) * sizeof(uint32_t));
            r->sum_size[k] = n;
        }
        bytes += align_up(n, FANOUT) * (sizeof(uint32_t) + 1);   /* whole nodes keep words aligned */
        k++;
    } while (n > 1);
    if (r)
        r->sum_levels = k;
    return bytes;
}

size_t region_layout(uintptr_t lo, uintptr_t hi, uintptr_t top, struct layout *l)
{
    if (top < hi)
        top = hi;
    if (hi - lo < REGION_GUARD + sizeof(struct region) + 4 * GRANULE)
        return 0;
    l->desc = align_up(lo, GRANULE) + REGION_GUARD;
    l->tables = l->desc + sizeof(struct region);
    size_t most = (align_down(top, GRANULE) - l->tables) / GRANULE;  /* granules, at most */
    if (most > MAX_GRANULES)
        most = MAX_GRANULES;
    l->table_bytes = tables_layout(NULL, NULL, most);
    l->first = align_up(l->tables + l->table_bytes, GRANULE);
    if (l->first >= align_down(hi, GRANULE))
        return 0;
    l->capacity = (align_down(top, GRANULE) - l->first) / GRANULE;
    if (l->capacity > most)
        l->capacity = most;
    l->end = align_down(hi, GRANULE);
    if ((l->end - l->first) / GRANULE > l->capacity)
        l->end = l->first + l->capacity * GRANULE;
    return (l->end - l->first) / GRANULE;
}
