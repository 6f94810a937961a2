/* aligned.c - aligned_alloc for every power of two, and its placement rule (heap.c):
 * the lowest-addressed free block of at least size + align - 16 bytes; the payload is the first
 * aligned address in it; the gap before stays a free block (any gap can: 16 bytes are a block).
 * Above 16, the block is at least 32 bytes. */
#include "case_util.h"

static struct heap heap;
static struct walk before, after;

struct sweep_tally { unsigned calls, gap_none, gap_free, gap_16; };

/* One aligned_alloc, predicted from a walk beforehand and checked against the walk after. */
static void aligned_one(struct heap *h, size_t align, size_t n, struct sweep_tally *t)
{
    walk_take(h, &before);
    size_t block = t_block_size(n);
    if (align > MEM_ALIGN && block < T_MIN_ALIGNED)
        block = T_MIN_ALIGNED;
    size_t need = block + (align > MEM_ALIGN ? align - MEM_ALIGN : 0);
    long fit = -1;
    for (size_t i = 0; i < before.n && fit < 0; i++)
        if (!before.b[i].used && before.b[i].size + T_WORD >= need)
            fit = (long)i;
    char *p = heap_aligned_alloc(h, align, n);
    VALID(h);
    if (fit < 0) {
        CHECK(p == NULL);
        return;
    }
    REQUIRE(p != NULL);
    t->calls++;
    uintptr_t start = before.b[fit].ptr;
    uintptr_t want = align > MEM_ALIGN ? t_align_up(start, align) : start;
    if ((uintptr_t)p != want)
        case_printf("aligned_alloc(%zu, %zu) = %p, expected %p", align, n, (void *)p, (void *)want);
    CHECK((uintptr_t)p == want);
    CHECK(ALIGNED(p, align) && ALIGNED(p, MEM_ALIGN));
    CHECK(heap_usable_size(h, p) >= n);
    stamp(p, n, (uint32_t)align);
    walk_take(h, &after);
    size_t gap = (size_t)((uintptr_t)p - start);
    long at = walk_find(&after, (void *)start);
    if (gap == 0) {
        t->gap_none++;
        CHECK(at >= 0 && after.b[at].used);
    } else {                          /* the gap stays a free block of its own */
        t->gap_free++;
        t->gap_16 += gap == 16;
        CHECK(at >= 0 && !after.b[at].used && after.b[at].size == gap);
    }
    CHECK(heap_usable_size(h, p) == block);
    CHECK(stats_match_walk(h) == 0);
    /* freeing it gives back exactly the heap it was taken from */
    CHECK(stamp_ok(p, n, (uint32_t)align));
    CHECK(heap_free(h, p) == 0);
    VALID(h);
    walk_take(h, &after);
    CHECK(walk_equal(&before, &after));
}

void aligned_sweep(void *mem, size_t len, size_t max_align)
{
    static const size_t skews[] = { 0, 1, 24, 40, 72, 100, 200, 500 };
    struct sweep_tally t = { 0, 0, 0, 0 };
    for (size_t align = 1; align <= max_align; align <<= 1) {
        for (size_t k = 0; k < sizeof skews / sizeof skews[0]; k++) {
            REQUIRE(heap_init(&heap, mem, len) == 0);
            void *skew = skews[k] ? heap_alloc(&heap, skews[k]) : NULL;  /* moves the free start */
            REQUIRE(!skews[k] || skew);
            size_t sizes[3] = { 1, 100, align + align / 2 + 5 };
            for (int s = 0; s < 3; s++)
                aligned_one(&heap, align, sizes[s], &t);
            if (skew)
                CHECK(heap_free(&heap, skew) == 0);
            VALID(&heap);
        }
    }
    case_printf("aligned_alloc sweep to %zu: %u calls, gap none %u, free %u (16 bytes: %u)",
                max_align, t.calls, t.gap_none, t.gap_free, t.gap_16);
    CHECK(t.gap_none > 0 && t.gap_free > 0 && t.gap_16 > 0);
}

/* Every power of two from 1 to 64 KiB over a 256 KiB heap. */
void case_aligned_powers(void)
{
    aligned_sweep(case_arena_big, ARENA_BIG, 65536);
}

/* The rule needs size + align - 16 bytes even where a smaller hole happens to start aligned:
 * such a hole is skipped (the search stays logarithmic); a request small enough is taken. */
void case_aligned_rule(void)
{
    const size_t align = 256, hole_bytes = 448;
    REQUIRE(heap_init(&heap, case_arena_small, ARENA_SMALL) == 0);
    /* a filler so that the next payload is 256-aligned */
    walk_take(&heap, &before);
    uintptr_t first = before.b[0].ptr;
    size_t fill = t_align_up(first, align) - first;
    while (fill < T_MIN_BLOCK)
        fill += align;
    void *filler = heap_alloc(&heap, fill - T_WORD);
    char *h1 = heap_alloc(&heap, hole_bytes - T_WORD);
    void *g1 = heap_alloc(&heap, 16);
    REQUIRE(filler && h1 && g1);
    REQUIRE(ALIGNED(h1, align));
    CHECK(heap_free(&heap, h1) == 0);  /* a 448-byte hole whose payload is 256-aligned */
    VALID(&heap);

    /* 300 bytes (a 304-byte block) would fit the hole at its aligned start, but the rule asks
     * for 304 + 240 = 544 bytes: the hole is skipped */
    char *p = heap_aligned_alloc(&heap, align, 300);
    VALID(&heap);
    CHECK(p != NULL && p > (char *)g1);
    CHECK(ALIGNED(p, align));
    /* 200 bytes: 208 + 240 = 448 fits exactly, at the hole's start, with no gap */
    char *q = heap_aligned_alloc(&heap, align, 200);
    VALID(&heap);
    CHECK(q == h1);
    CHECK(stats_match_walk(&heap) == 0);
    CHECK(heap_free(&heap, q) == 0 && heap_free(&heap, p) == 0);
    CHECK(heap_free(&heap, g1) == 0 && heap_free(&heap, filler) == 0);
    VALID(&heap);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 0 && s.free_blocks == 1 && s.used_bytes == 0);
}
