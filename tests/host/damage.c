/* damage.c - a wild write outside every block: over a region's descriptor or its tables.
 * heap_check must report it and never fault (this runs under ASan and UBSan), and once the
 * byte is put back the heap checks clean again. White-box: it reads the layout in format.h to
 * know where the descriptor and the tables are.
 *
 *   - every byte of each of three regions' descriptors, their tree nodes included, three damages
 *     each (the low bit, the high bit, all bits): never a fault; a change to any word the layout,
 *     the walks or the region tree depend on (pointers, sizes, levels, the counts the maps are
 *     read by, links, seals, maxima) is reported;
 *   - every byte of the tables (maps, skip bits, leaves, summary and its padding), all bits
 *     flipped: never a fault, always reported;
 *   - the guard below the descriptor (an overrun from the memory below the region): garbage
 *     over all of it changes nothing, and the heap goes on as before. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"

#define ARENA (96 * 1024)
#define REGIONS 3

static _Alignas(64) unsigned char arena[REGIONS][ARENA];
static struct heap heap;
static int failures;

#define EXPECT(cond, ...)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            if (failures <= 20) {                                           \
                fprintf(stderr, "damage: " __VA_ARGS__);                    \
                fprintf(stderr, "\n");                                      \
            }                                                               \
        }                                                                   \
    } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* A heap of three regions (a tree with links to damage) and a few hundred blocks, used and
 * free; returns the root region. */
static struct region *build(void)
{
    static void *p[256];
    if (heap_init(&heap, arena[0], ARENA) != 0)
        return NULL;
    for (int i = 1; i < REGIONS; i++)
        if (heap_add_region(&heap, arena[i], ARENA) != 0)
            return NULL;
    for (int i = 0; i < 3000; i++) {
        int k = (int)(next() % 256);
        if (p[k]) {
            heap_free(&heap, p[k]);
            p[k] = NULL;
        } else {
            p[k] = heap_alloc(&heap, 1 + next() % 700);
        }
    }
    return (struct region *)(void *)heap.regions;    /* the node is the descriptor's first member */
}

/* Damage byte at with x, check, put it back, check again. Returns heap_check's count. */
static int damaged_check(unsigned char *at, unsigned char x, const char *what, size_t off)
{
    unsigned char was = *at;
    *at = (unsigned char)(was ^ x);
    int found = heap_check(&heap);
    *at = was;
    EXPECT(heap_check(&heap) == 0, "%s +%zu: the heap does not check clean once the byte is back", what, off);
    return found;
}

/* The descriptor's words the checker must find changed: named, with their sizes. */
struct field {
    const char *name;
    size_t off, size;
};

int main(void)
{
    struct region *r = build();
    if (!r || heap_check(&heap) != 0) {
        fprintf(stderr, "damage: could not build a clean heap\n");
        return 1;
    }
    if (r->skip_levels < 2 || r->sum_levels < 2) {
        fprintf(stderr, "damage: the region is too small to have two skip and summary levels\n");
        return 1;
    }
    struct field must[] = {
        { "tree node", offsetof(struct region, node), sizeof r->node },
        { "first", offsetof(struct region, first), sizeof r->first },
        { "granules", offsetof(struct region, granules), sizeof r->granules },
        { "capacity", offsetof(struct region, capacity), sizeof r->capacity },
        { "start", offsetof(struct region, start), sizeof r->start },
        { "mark", offsetof(struct region, mark), sizeof r->mark },
        { "map_words", offsetof(struct region, map_words), sizeof r->map_words },
        { "skip", offsetof(struct region, skip), r->skip_levels * sizeof r->skip[0] },
        { "skip_levels", offsetof(struct region, skip_levels), sizeof r->skip_levels },
        { "leaf", offsetof(struct region, leaf), sizeof r->leaf },
        { "sum", offsetof(struct region, sum), r->sum_levels * sizeof r->sum[0] },
        { "sat", offsetof(struct region, sat), r->sum_levels * sizeof r->sat[0] },
        { "sum_levels", offsetof(struct region, sum_levels), sizeof r->sum_levels },
        { "sum_size", offsetof(struct region, sum_size), r->sum_levels * sizeof r->sum_size[0] },
        { "sum_reach", offsetof(struct region, sum_reach), sizeof r->sum_reach },
        { "reach_end", offsetof(struct region, reach_end), sizeof r->reach_end },
        { "wild", offsetof(struct region, wild), sizeof r->wild },
        { "cut", offsetof(struct region, cut), sizeof r->cut },
        { "cut_end", offsetof(struct region, cut_end), sizeof r->cut_end },
        { "base", offsetof(struct region, base), sizeof r->base },
        { "given", offsetof(struct region, given), sizeof r->given },
    };
    static const unsigned char damages[] = { 0x01, 0x80, 0xff };
    size_t tried = 0, reported = 0;

    /* Every byte of every descriptor, three damages each: never a fault. */
    int regions = 0;
    for (struct region *q = region_first(&heap); q; q = region_next(q), regions++) {
        unsigned char *d = (unsigned char *)q;
        for (size_t off = 0; off < sizeof *q; off++)
            for (size_t k = 0; k < sizeof damages; k++) {
                int found = damaged_check(d + off, damages[k], "descriptor", off);
                tried++;
                reported += found > 0;
                for (size_t f = 0; f < sizeof must / sizeof must[0]; f++)
                    if (off >= must[f].off && off < must[f].off + must[f].size)
                        EXPECT(found > 0, "region %d's descriptor %s +%zu ^ 0x%02x: not reported", regions,
                               must[f].name, off - must[f].off, damages[k]);
            }
    }
    EXPECT(regions == REGIONS, "%d regions, not %d", regions, REGIONS);
    EXPECT(r->node.child[0] && r->node.child[1], "the root region has not two children to damage");
    printf("damage: descriptors: %zu damages over %d x %zu bytes, %zu reported, no fault\n", tried, regions,
           sizeof *r, reported);

    /* Every byte of every region's tables, all bits flipped: reported, never a fault. They run
     * from the start map to the last summary level's byte copies (region_layout may leave a few
     * unused bytes after them: it measures the tables for the most granules the region could
     * hold). */
    size_t bytes = 0, missed = 0;
    for (struct region *q = region_first(&heap); q; q = region_next(q)) {
        size_t top = q->sum_levels - 1;
        unsigned char *lo = (unsigned char *)q->start;
        unsigned char *hi = q->sat[top] + align_up(q->sum_size[top], FANOUT);
        for (unsigned char *at = lo; at < hi; at++, bytes++)
            if (damaged_check(at, 0xff, "tables", (size_t)(at - lo)) == 0 && missed++ < 5)
                EXPECT(0, "tables +%zu (of %zu): all bits flipped, not reported", (size_t)(at - lo),
                       (size_t)(hi - lo));
    }
    EXPECT(missed == 0, "tables: %zu of %zu damaged bytes not reported", missed, bytes);
    printf("damage: tables: %zu bytes in %d regions, each flipped: %zu not reported, no fault\n", bytes,
           regions, missed);

    /* The guard: garbage over every byte of it is no damage at all. */
    unsigned char *guard = (unsigned char *)r - REGION_GUARD;
    EXPECT(guard >= (unsigned char *)r->base, "the descriptor has no guard of %d bytes below it", REGION_GUARD);
    for (int i = 0; i < REGION_GUARD; i++)
        guard[i] = (unsigned char)next();
    EXPECT(heap_check(&heap) == 0, "garbage over the guard was reported as damage");
    void *p = heap_alloc(&heap, 100);
    EXPECT(p && heap_free(&heap, p) == 0 && heap_check(&heap) == 0, "the heap did not go on after the guard was overwritten");
    printf("damage: guard: %d bytes of garbage below the descriptor, heap_check clean\n", REGION_GUARD);

    if (failures) {
        fprintf(stderr, "damage: %d failures\n", failures);
        return 1;
    }
    printf("damage: ok\n");
    return 0;
}
