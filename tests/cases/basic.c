/* basic.c - placement and sizes: alignment, zero and huge requests, calloc, the split threshold,
 * coalescing, first fit (one region and two), reuse and a long-lived block across churn. */
#include "case_util.h"

static struct heap heap;

/* A fresh heap over the small arena, checked. */
static int fresh(struct heap *h)
{
    if (heap_init(h, case_arena_small, ARENA_SMALL) != 0 || heap_check(h) != 0)
        return -1;
    return 0;
}

/* Fresh allocations are carved one after another from the low end, each 16-aligned, each
 * holding what was asked, stamped at both ends and intact until freed. */
void case_alloc_sequence(void)
{
    static void *ptrs[400];
    static size_t sizes[400];
    size_t n = 0;
    REQUIRE(fresh(&heap) == 0);
    for (size_t want = 1; n < 400; want = want * 7 % 509 + 1) {
        void *p = heap_alloc(&heap, want);
        VALID(&heap);
        if (!p)
            break;
        CHECK(ALIGNED(p, MEM_ALIGN));
        CHECK((unsigned char *)p >= case_arena_small &&
              (unsigned char *)p + want <= case_arena_small + ARENA_SMALL);
        CHECK(heap_usable_size(&heap, p) >= want);
        if (n > 0)  /* carved right after the previous block */
            CHECK((char *)p == (char *)ptrs[n - 1] + t_block_size(sizes[n - 1]));
        stamp(p, want, (uint32_t)n);
        ptrs[n] = p;
        sizes[n++] = want;
    }
    CHECK(n > 100);  /* 64 KiB holds well over 100 blocks of at most 509 bytes */
    for (size_t i = 0; i < n; i++) {
        size_t k = (i * 37) % n;  /* 37 and the count are coprime unless n is a multiple of 37 */
        if (!ptrs[k])
            continue;
        CHECK(stamp_ok(ptrs[k], sizes[k], (uint32_t)k));
        CHECK(heap_free(&heap, ptrs[k]) == 0);
        VALID(&heap);
        ptrs[k] = NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (ptrs[i]) {
            CHECK(stamp_ok(ptrs[i], sizes[i], (uint32_t)i));
            CHECK(heap_free(&heap, ptrs[i]) == 0);
            VALID(&heap);
        }
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 0 && s.free_blocks == 1 && s.used_bytes == 0);
}

/* The smallest block is observable: two 1-byte blocks are MIN_BLOCK apart, and a request whose
 * block is exactly MIN_BLOCK is too, while one byte more takes another granule. */
void case_min_block(void)
{
    REQUIRE(fresh(&heap) == 0);
    char *a = heap_alloc(&heap, 1), *b = heap_alloc(&heap, 1);
    VALID(&heap);
    REQUIRE(a && b);
    CHECK((size_t)(b - a) == 16u);  /* heap.c: 16 bytes on every target */
    CHECK((size_t)(b - a) == T_MIN_BLOCK);
    CHECK(heap_usable_size(&heap, a) == T_MIN_BLOCK - T_WORD);
    char *c = heap_alloc(&heap, T_MIN_BLOCK - T_WORD), *d = heap_alloc(&heap, T_MIN_BLOCK - T_WORD + 1);
    char *e = heap_alloc(&heap, 1);
    VALID(&heap);
    REQUIRE(c && d && e);
    CHECK((size_t)(d - c) == T_MIN_BLOCK);
    CHECK((size_t)(e - d) == T_MIN_BLOCK + MEM_ALIGN);
    CHECK(heap_usable_size(&heap, d) == T_MIN_BLOCK + MEM_ALIGN - T_WORD);
    CHECK(heap_free(&heap, a) == 0 && heap_free(&heap, b) == 0 && heap_free(&heap, c) == 0);
    CHECK(heap_free(&heap, d) == 0 && heap_free(&heap, e) == 0);
    VALID(&heap);
    /* an aligned block takes two granules at least (its mark lies in the second) */
    char *f = heap_aligned_alloc(&heap, 32, 1);
    REQUIRE(f);
    CHECK(ALIGNED(f, 32) && heap_usable_size(&heap, f) == T_MIN_ALIGNED);
    CHECK(heap_free(&heap, f) == 0);
    VALID(&heap);
}

/* Zero, absurd and too-large requests return NULL, count as failed, and change nothing else. */
void case_zero_and_huge(void)
{
    static const size_t sizes[] = {
        0, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 15, SIZE_MAX - sizeof(size_t), SIZE_MAX / 2,
        SIZE_MAX / 2 + 1, SIZE_MAX / 2 - 16, SIZE_MAX / 4, ARENA_SMALL, ARENA_SMALL * 2,
    };
    struct snapshot snap;
    REQUIRE(fresh(&heap) == 0);
    void *live = heap_alloc(&heap, 100);
    REQUIRE(live);
    stamp(live, 100, 1);
    snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        CHECK(heap_alloc(&heap, n) == NULL);
        CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
        snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
        CHECK(heap_aligned_alloc(&heap, 64, n) == NULL);
        CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
        snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
        CHECK(heap_calloc(&heap, 1, n) == NULL);
        CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
        snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
        if (n) {  /* realloc to 0 frees: not a failure */
            CHECK(heap_realloc(&heap, live, n) == NULL);
            CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
            snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
        }
        VALID(&heap);
    }
    /* Alignments: absurdly large, not a power of two, zero. */
    static const size_t aligns[] = { SIZE_MAX / 2 + 1, (SIZE_MAX >> 2) + 1, 3, 24, 48, 0, ARENA_SMALL * 2 };
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        CHECK(heap_aligned_alloc(&heap, aligns[i], 16) == NULL);
        CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
        snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
        VALID(&heap);
    }
    CHECK(stamp_ok(live, 100, 1));
    CHECK(heap_usable_size(&heap, live) >= 100);
    CHECK(heap_free(&heap, live) == 0);
    VALID(&heap);
}

/* calloc hands out zeroes even over dirty memory, and rejects count * size that wraps. */
void case_calloc(void)
{
    const size_t half = (size_t)1 << (sizeof(size_t) * 4); /* half * half wraps to exactly 0 */
    struct snapshot snap;
    REQUIRE(fresh(&heap) == 0);
    unsigned char *dirty = heap_alloc(&heap, 1000);
    REQUIRE(dirty);
    memset(dirty, 0xA5, 1000);
    CHECK(heap_free(&heap, dirty) == 0);
    VALID(&heap);
    unsigned char *z = heap_calloc(&heap, 10, 100);
    VALID(&heap);
    REQUIRE(z);
    CHECK(z == dirty);  /* first fit: the same memory, so the zeroes are calloc's */
    CHECK(all_bytes(z, 1000, 0));
    CHECK(heap_usable_size(&heap, z) >= 1000);
    unsigned char *y = heap_calloc(&heap, 7, 3);
    VALID(&heap);
    REQUIRE(y);
    CHECK(ALIGNED(y, MEM_ALIGN) && all_bytes(y, 21, 0));

    snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
    const size_t bad[][2] = { { SIZE_MAX, 2 }, { 2, SIZE_MAX }, { SIZE_MAX / 2 + 1, 2 },
                              { half, half }, { half + 1, half }, { SIZE_MAX, SIZE_MAX },
                              { 0, 16 }, { 16, 0 }, { 0, 0 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(heap_calloc(&heap, bad[i][0], bad[i][1]) == NULL);
        CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
        snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
    }
    CHECK(heap_free(&heap, z) == 0 && heap_free(&heap, y) == 0);
    VALID(&heap);
}

/* A free block of exactly `bytes` at the arena's low end, followed by a live guard block. */
static char *hole(struct heap *h, size_t bytes, void **guard)
{
    char *a = heap_alloc(h, bytes - T_WORD);
    *guard = heap_alloc(h, 16);
    if (!a || !*guard || heap_free(h, a) != 0)
        return NULL;
    return a;
}

/* The rest of a block is split off only when it can stand as a block (>= MIN_BLOCK). */
void case_split_threshold(void)
{
    static struct walk w;
    const size_t hole_bytes = 256;
    void *guard;
    REQUIRE(fresh(&heap) == 0);
    char *h = hole(&heap, hole_bytes, &guard);
    VALID(&heap);
    REQUIRE(h);

    /* Remainder MIN_BLOCK - 16: not split, the whole hole is handed out. */
    size_t n = hole_bytes - (T_MIN_BLOCK - MEM_ALIGN) - T_WORD;
    char *p = heap_alloc(&heap, n);
    VALID(&heap);
    CHECK(p == h);
    CHECK(heap_usable_size(&heap, p) == hole_bytes - T_WORD);
    walk_take(&heap, &w);
    REQUIRE(w.n >= 3);
    CHECK(w.b[0].ptr == (uintptr_t)p && w.b[0].used && w.b[0].size == hole_bytes - T_WORD);
    CHECK(w.b[1].ptr == (uintptr_t)guard && w.b[1].used);
    CHECK(stats_match_walk(&heap) == 0);
    CHECK(heap_free(&heap, p) == 0);
    VALID(&heap);

    /* Remainder exactly MIN_BLOCK: split, the rest stays a free block right after. */
    n = hole_bytes - T_MIN_BLOCK - T_WORD;
    p = heap_alloc(&heap, n);
    VALID(&heap);
    CHECK(p == h);
    CHECK(heap_usable_size(&heap, p) == hole_bytes - T_MIN_BLOCK - T_WORD);
    walk_take(&heap, &w);
    REQUIRE(w.n >= 4);
    CHECK(w.b[0].ptr == (uintptr_t)p && w.b[0].used);
    CHECK(w.b[1].ptr == (uintptr_t)(p + hole_bytes - T_MIN_BLOCK) && !w.b[1].used &&
          w.b[1].size == T_MIN_BLOCK - T_WORD);
    CHECK(w.b[2].ptr == (uintptr_t)guard && w.b[2].used);
    CHECK(stats_match_walk(&heap) == 0);

    /* The split-off MIN_BLOCK is itself usable and exactly fits the smallest request. */
    char *q = heap_alloc(&heap, 1);
    VALID(&heap);
    CHECK(q == p + hole_bytes - T_MIN_BLOCK);
    CHECK(heap_free(&heap, q) == 0 && heap_free(&heap, p) == 0 && heap_free(&heap, guard) == 0);
    VALID(&heap);
    CHECK(stats_match_walk(&heap) == 0);
}

/* Four 100-byte blocks a b c d, then frees in the given order; returns the walk. */
static int coalesce_run(const int *order, size_t count, struct walk *w, char **blocks)
{
    if (fresh(&heap) != 0)
        return -1;
    for (int i = 0; i < 4; i++) {
        blocks[i] = heap_alloc(&heap, 100);
        if (!blocks[i])
            return -1;
        stamp(blocks[i], 100, (uint32_t)i);
    }
    for (size_t i = 0; i < count; i++) {
        if (!stamp_ok(blocks[order[i]], 100, (uint32_t)order[i]) ||
            heap_free(&heap, blocks[order[i]]) != 0 || heap_check(&heap) != 0)
            return -1;
    }
    walk_take(&heap, w);
    return stats_match_walk(&heap);
}

void case_coalesce(void)
{
    static struct walk w;
    char *b[4];
    const size_t bs = t_block_size(100);
    static const int with_prev[] = { 0, 1 }, with_next[] = { 1, 0 }, both[] = { 0, 2, 1 },
                     into_top[] = { 2, 3 };

    /* b merges with the free a before it */
    REQUIRE(coalesce_run(with_prev, 2, &w, b) == 0);
    REQUIRE(w.n == 4);
    CHECK(w.b[0].ptr == (uintptr_t)b[0] && !w.b[0].used && w.b[0].size == 2 * bs - T_WORD);
    CHECK(w.b[1].ptr == (uintptr_t)b[2] && w.b[1].used);

    /* a merges with the free b after it */
    REQUIRE(coalesce_run(with_next, 2, &w, b) == 0);
    REQUIRE(w.n == 4);
    CHECK(w.b[0].ptr == (uintptr_t)b[0] && !w.b[0].used && w.b[0].size == 2 * bs - T_WORD);

    /* b merges with a and c at once */
    REQUIRE(coalesce_run(both, 3, &w, b) == 0);
    REQUIRE(w.n == 3);
    CHECK(w.b[0].ptr == (uintptr_t)b[0] && !w.b[0].used && w.b[0].size == 3 * bs - T_WORD);
    CHECK(w.b[1].ptr == (uintptr_t)b[3] && w.b[1].used);
    CHECK(!w.b[2].used);

    /* c, then d: d merges with c before it and the free rest of the heap after it */
    REQUIRE(coalesce_run(into_top, 2, &w, b) == 0);
    REQUIRE(w.n == 3);
    CHECK(w.b[2].ptr == (uintptr_t)b[2] && !w.b[2].used);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.free_blocks == 1 && w.b[2].size == s.largest_free);
    CHECK(heap_free(&heap, b[0]) == 0 && heap_free(&heap, b[1]) == 0);
    VALID(&heap);
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 0 && s.free_blocks == 1);
}

/* Holes of 64, 256 and 256 bytes below the free top: each request takes the lowest that fits. */
void case_first_fit(void)
{
    char *p[8];
    static const size_t sizes[8] = { 40, 64 - T_WORD, 100, 256 - T_WORD, 100, 256 - T_WORD, 100, 30 };
    REQUIRE(fresh(&heap) == 0);
    for (int i = 0; i < 8; i++) {
        p[i] = heap_alloc(&heap, sizes[i]);
        REQUIRE(p[i]);
    }
    for (int i = 1; i < 6; i += 2) {
        CHECK(heap_free(&heap, p[i]) == 0);
        VALID(&heap);
    }
    char *big1 = heap_alloc(&heap, 200);   /* fits holes 3 and 5 and the top: 3 wins */
    VALID(&heap);
    CHECK(big1 == p[3]);
    char *small = heap_alloc(&heap, 20);   /* fits everything: the lowest hole, 1 */
    VALID(&heap);
    CHECK(small == p[1]);
    char *big2 = heap_alloc(&heap, 200);   /* 3 is gone: 5 */
    VALID(&heap);
    CHECK(big2 == p[5]);
    char *big3 = heap_alloc(&heap, 200);   /* only the top is left: right after p[7] */
    VALID(&heap);
    CHECK(big3 == p[7] + t_block_size(sizes[7]));
    /* A remainder left in a hole is itself the lowest candidate for the next small request. */
    CHECK(heap_free(&heap, big1) == 0);
    char *s1 = heap_alloc(&heap, 100), *s2 = heap_alloc(&heap, 100);
    VALID(&heap);
    CHECK(s1 == p[3]);
    CHECK(s2 == p[3] + t_block_size(100));
    void *all[] = { p[0], p[2], p[4], p[6], p[7], small, big2, big3, s1, s2 };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK(heap_free(&heap, all[i]) == 0);
        VALID(&heap);
    }
    CHECK(stats_match_walk(&heap) == 0);
}

/* A large hole in the middle, eaten from the front (the index keeps the block being cut out of
 * its summary: index_tree.c's cut block): every allocation still takes the lowest block that
 * fits, through frees below, inside and next to the hole, until the hole is gone. */
void case_first_fit_hole_eaten(void)
{
    enum { EAT = 48, N = 64, HOLE = 16384 };
    static char *q[N];
    REQUIRE(heap_init(&heap, case_arena_big, ARENA_BIG) == 0);
    char *a = heap_alloc(&heap, 1024), *hole = heap_alloc(&heap, HOLE), *b = heap_alloc(&heap, 1024);
    char *c = heap_alloc(&heap, 1024);
    REQUIRE(a && hole && b && c);
    CHECK(heap_free(&heap, hole) == 0);
    VALID(&heap);
    for (int i = 0; i < N; i++) {        /* one after the other from the hole's front */
        q[i] = heap_alloc(&heap, EAT);
        VALID(&heap);
        REQUIRE(q[i] == hole + (size_t)i * EAT);
    }
    char *rest = hole + (size_t)N * EAT;
    size_t left = HOLE - (size_t)N * EAT;
    CHECK(heap_free(&heap, q[10]) == 0);      /* a hole below the cut: it wins */
    VALID(&heap);
    CHECK(heap_alloc(&heap, EAT) == q[10]);
    CHECK(heap_alloc(&heap, EAT) == rest);    /* then the hole again */
    VALID(&heap);
    CHECK(heap_free(&heap, rest) == 0);       /* freed just below the rest: merges into it */
    CHECK(heap_free(&heap, q[N - 1]) == 0);
    VALID(&heap);
    rest = q[N - 1];
    left += EAT;
    char *top = heap_alloc(&heap, left + 1024);   /* too big for the hole: the top */
    VALID(&heap);
    CHECK(top == c + 1024);
    CHECK(heap_free(&heap, b) == 0);          /* the block above the hole merges into it */
    VALID(&heap);
    left += 1024;
    char *big = heap_alloc(&heap, left - EAT);   /* fits only the grown hole */
    VALID(&heap);
    CHECK(big == rest);
    CHECK(heap_alloc(&heap, EAT) == rest + left - EAT);  /* the hole's last granules */
    VALID(&heap);
    CHECK(heap_alloc(&heap, EAT) == top + t_block_size(left));   /* the hole is gone */
    VALID(&heap);
    CHECK(heap_free(&heap, big) == 0 && heap_free(&heap, a) == 0 && heap_free(&heap, top) == 0);
    VALID(&heap);
    CHECK(stats_match_walk(&heap) == 0);
}

/* Two regions: the lower-addressed region is searched first, whichever was added first. */
void case_first_fit_regions(void)
{
    const size_t half = ARENA_BIG / 2, len = 32 * 1024;
    unsigned char *low = case_arena_big, *high = case_arena_big + half;
    for (int order = 0; order < 2; order++) {
        REQUIRE(heap_init(&heap, order ? low : high, len) == 0);
        REQUIRE(heap_add_region(&heap, order ? high : low, len) == 0);
        VALID(&heap);
        struct mem_stats s;
        heap_stats(&heap, &s);
        CHECK(s.region_count == 2 && s.free_blocks == 2);
        unsigned char *a = heap_alloc(&heap, 1000);
        VALID(&heap);
        CHECK(a >= low && a < low + len);
        /* fill the low region until a request no longer fits there */
        unsigned char *last = a, *p;
        size_t in_low = 1;
        while ((p = heap_alloc(&heap, 1000)) != NULL && p < low + len) {
            last = p;
            in_low++;
        }
        VALID(&heap);
        REQUIRE(p);
        CHECK(p >= high && p < high + len);
        CHECK(in_low > 20);
        /* a hole in the low region wins over the free space left in the high one */
        CHECK(heap_free(&heap, last) == 0);
        unsigned char *q = heap_alloc(&heap, 500);
        VALID(&heap);
        CHECK(q == last);
        CHECK(heap_free(&heap, q) == 0 && heap_free(&heap, p) == 0);
        /* free everything in the low region, block by block */
        for (unsigned char *b = a; b < last; b += t_block_size(1000)) {
            CHECK(heap_free(&heap, b) == 0);
            VALID(&heap);
        }
        heap_stats(&heap, &s);
        CHECK(s.used_blocks == 0 && s.free_blocks == 2);
    }
}

/* Far more bytes than the heap holds go through it: freed memory is reused. */
void case_reuse(void)
{
    struct mem_stats s;
    size_t total = 0;
    REQUIRE(fresh(&heap) == 0);
    heap_stats(&heap, &s);
    for (unsigned round = 0; round < 400; round++) {
        void *p[3];
        for (int i = 0; i < 3; i++) {
            size_t n = 1000 + 500 * (size_t)i + round % 64;
            p[i] = heap_alloc(&heap, n);
            VALID(&heap);
            REQUIRE(p[i]);
            stamp(p[i], n, round * 3 + (unsigned)i);
            total += n;
        }
        for (int i = 0; i < 3; i++) {
            CHECK(stamp_ok(p[i], 1000 + 500 * (size_t)i + round % 64, round * 3 + (unsigned)i));
            CHECK(heap_free(&heap, p[i]) == 0);
            VALID(&heap);
        }
    }
    CHECK(total > 10 * s.total_bytes);
    struct mem_stats after;
    heap_stats(&heap, &after);
    CHECK(stats_state_equal(&s, &after));
    CHECK(after.alloc_count == 1200 && after.free_count == 1200 && after.failed_count == 0);
}

/* One block allocated first and held while everything around it churns stays intact. */
void case_long_lived(void)
{
    struct rng rng;
    static void *slot[24];
    static size_t slot_size[24];
    uint32_t seed = case_seed(0x1ee7b10cu);
    const size_t keep = 777;
    unsigned rounds = 600 * case_scale;
    case_printf("long-lived: seed 0x%x, %u rounds", (unsigned)seed, rounds);
    rng_seed(&rng, seed);
    REQUIRE(fresh(&heap) == 0);
    void *lived = heap_alloc(&heap, keep);
    REQUIRE(lived);
    stamp(lived, keep, 0xfeed);
    size_t usable = heap_usable_size(&heap, lived);
    memset(slot, 0, sizeof slot);
    for (unsigned r = 0; r < rounds; r++) {
        unsigned i = rng_below(&rng, 24);
        if (slot[i]) {
            CHECK(stamp_ok(slot[i], slot_size[i], i + 1));
            CHECK(heap_free(&heap, slot[i]) == 0);
            slot[i] = NULL;
        } else {
            slot_size[i] = 1 + rng_below(&rng, rng_below(&rng, 4) ? 200 : 3000);
            slot[i] = heap_alloc(&heap, slot_size[i]);
            CHECK(slot[i] != NULL);  /* 24 blocks of at most 3000 bytes fit in 64 KiB */
            if (slot[i])
                stamp(slot[i], slot_size[i], i + 1);
        }
        VALID(&heap);
        if (!stamp_ok(lived, keep, 0xfeed) || heap_usable_size(&heap, lived) != usable) {
            CHECK(!"long-lived block changed");
            break;
        }
    }
    for (unsigned i = 0; i < 24; i++)
        if (slot[i]) {
            CHECK(stamp_ok(slot[i], slot_size[i], i + 1));
            CHECK(heap_free(&heap, slot[i]) == 0);
            VALID(&heap);
        }
    CHECK(stamp_ok(lived, keep, 0xfeed));
    CHECK(heap_free(&heap, lived) == 0);
    VALID(&heap);
}
