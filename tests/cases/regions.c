/* regions.c - heaps over several buffers: a second region is used when the first is full;
 * regions that are too small, overlap, are NULL or wrap are refused with the right error and
 * leave the heap (and the memory offered) untouched; a misaligned start is trimmed. */
#include "case_util.h"

static struct heap heap;

/* The first region full, a second one added: the request that failed now succeeds there. */
void case_region_second(void)
{
    static void *p[64];
    struct mem_stats one, two;
    unsigned char *r1 = case_arena_small, *r2 = case_arena_big;
    const size_t len2 = 32 * 1024;
    size_t n = 0;
    REQUIRE(heap_init(&heap, r1, ARENA_SMALL) == 0);
    heap_stats(&heap, &one);
    while (n < 64 && (p[n] = heap_alloc(&heap, 2000)) != NULL) {
        stamp(p[n], 2000, (uint32_t)n);
        n++;
    }
    VALID(&heap);
    REQUIRE(n > 0 && n < 64);
    CHECK(heap_add_region(&heap, r2, len2) == 0);
    VALID(&heap);
    heap_stats(&heap, &two);
    CHECK(two.region_count == 2 && two.total_bytes > one.total_bytes);
    CHECK(two.total_bytes + two.overhead_bytes == ARENA_SMALL + len2);
    CHECK(two.min_free_bytes >= two.total_bytes - one.total_bytes);  /* raised by the new region */
    unsigned char *q = heap_alloc(&heap, 2000);
    VALID(&heap);
    CHECK(q >= r2 && q + 2000 <= r2 + len2);
    void *q2 = heap_alloc(&heap, 20000);
    VALID(&heap);
    CHECK(q2 != NULL);
    for (size_t i = 0; i < n; i++) {
        CHECK(stamp_ok(p[i], 2000, (uint32_t)i));
        CHECK(heap_free(&heap, p[i]) == 0);
    }
    CHECK(heap_free(&heap, q) == 0 && heap_free(&heap, q2) == 0);
    VALID(&heap);
    heap_stats(&heap, &two);
    CHECK(two.used_blocks == 0 && two.free_blocks == 2);  /* one per region: never merged */
    CHECK(stats_match_walk(&heap) == 0);
    /* a heap can start empty and get all its memory from heap_add_region */
    REQUIRE(heap_init(&heap, NULL, 0) == 0);
    CHECK(heap_alloc(&heap, 1) == NULL);
    VALID(&heap);
    CHECK(heap_add_region(&heap, r1, 4096) == 0);
    void *x = heap_alloc(&heap, 1);
    CHECK(x != NULL && (unsigned char *)x > r1 && (unsigned char *)x < r1 + 4096);
    CHECK(heap_free(&heap, x) == 0);
    VALID(&heap);
}

/* A refused heap_add_region (or, with extend, heap_region_extend) changes nothing: the heap's
 * stats and walk, and the memory offered. */
static void refused_call(int extend, const void *start, size_t size, int want, const char *what)
{
    struct snapshot snap;
    snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
    int got = extend ? heap_region_extend(&heap, (void *)start, size)
                     : heap_add_region(&heap, (void *)start, size);
    if (got != want)
        case_printf("%s: %s returned %d, expected %d", what,
                    extend ? "heap_region_extend" : "heap_add_region", got, want);
    CHECK(got == want);
    CHECK(snapshot_same(&heap, &snap, 0, 0) == 0);
    VALID(&heap);
}

static void refused(const void *start, size_t size, int want, const char *what)
{
    refused_call(0, start, size, want, what);
}

void case_region_too_small(void)
{
    unsigned char *buf = case_arena_small;
    memset(buf, 0xCC, ARENA_SMALL);
    REQUIRE(heap_init(&heap, buf + 32768, 8192) == 0);
    static const size_t small[] = { 1, 16, 32, 64, 100, 128 };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        refused(buf, small[i], -MEM_ERR_REGION_SMALL, "small region");
    refused(buf, 0, -MEM_ERR_REGION_SMALL, "empty region");
    CHECK(all_bytes(buf, 4096, 0xCC));

    /* the smallest region accepted holds exactly one minimum block, usable at once */
    size_t size = 16;
    while (size < 4096 && heap_add_region(&heap, buf, size) != 0)
        size += 16;
    VALID(&heap);
    case_printf("smallest region accepted: %zu bytes", size);
    CHECK(size > 128 && size < 4096);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.region_count == 2);
    void *a = heap_alloc(&heap, 4096);  /* from the big region... */
    void *b = heap_alloc(&heap, 1);     /* ...while the small region is the lowest fit */
    VALID(&heap);
    CHECK(a && (unsigned char *)a >= buf + 32768);
    CHECK(b && (unsigned char *)b >= buf && (unsigned char *)b < buf + size);
    CHECK(heap_free(&heap, a) == 0 && heap_free(&heap, b) == 0);
    VALID(&heap);
}

/* Regions that overlap an existing one in any way are refused; touching ones are fine. */
void case_region_overlap(void)
{
    unsigned char *w = case_arena_small;  /* the existing region is [16K, 32K) */
    const size_t K = 1024;
    REQUIRE(heap_init(&heap, w + 16 * K, 16 * K) == 0);
    void *live = heap_alloc(&heap, 100);
    REQUIRE(live);
    refused(w + 16 * K, 16 * K, -MEM_ERR_REGION_OVERLAP, "same range");
    refused(w + 8 * K, 12 * K, -MEM_ERR_REGION_OVERLAP, "ends inside");
    refused(w + 20 * K, 4 * K, -MEM_ERR_REGION_OVERLAP, "inside");
    refused(w + 28 * K, 12 * K, -MEM_ERR_REGION_OVERLAP, "starts inside");
    refused(w, 48 * K, -MEM_ERR_REGION_OVERLAP, "contains it");
    refused(w + 32 * K - 1, 8 * K, -MEM_ERR_REGION_OVERLAP, "shares its last byte");
    refused(w + 8 * K, 8 * K + 1, -MEM_ERR_REGION_OVERLAP, "shares its first byte");
    CHECK(heap_add_region(&heap, w + 32 * K, 8 * K) == 0);   /* touching above */
    CHECK(heap_add_region(&heap, w + 8 * K, 8 * K) == 0);    /* touching below */
    VALID(&heap);
    refused(w + 12 * K, 8 * K, -MEM_ERR_REGION_OVERLAP, "overlaps two regions");
    refused(w + 36 * K, 8 * K, -MEM_ERR_REGION_OVERLAP, "overlaps the top region");
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.region_count == 3);
    /* the lowest region now comes first */
    void *low = heap_alloc(&heap, 100);
    CHECK(low && (unsigned char *)low >= w + 8 * K && (unsigned char *)low < w + 16 * K);
    CHECK(heap_free(&heap, low) == 0 && heap_free(&heap, live) == 0);
    VALID(&heap);
    heap_stats(&heap, &s);
    CHECK(s.free_blocks == 3 && s.used_blocks == 0);
}

/* A start that is not aligned is rounded up, the end rounded down: every block lies inside
 * the bytes given, and the bytes around them are never written. */
void case_region_misaligned(void)
{
    static void *p[256];
    unsigned char *buf = case_arena_small;
    for (size_t skew = 1; skew < 16; skew += 3) {
        unsigned char *start = buf + 64 + skew;
        size_t len = 8192 - 2 * skew - 1;
        memset(buf, 0xEE, 16384);
        REQUIRE(heap_init(&heap, start, len) == 0);
        VALID(&heap);
        size_t n = 0;
        while (n < 256 && (p[n] = heap_alloc(&heap, 40 + n % 50)) != NULL) {
            unsigned char *q = p[n];
            CHECK(ALIGNED(q, MEM_ALIGN));
            CHECK(q >= start && q + 40 + n % 50 <= start + len);
            memset(q, 0x11, heap_usable_size(&heap, q));  /* all of it, up to the last byte */
            n++;
        }
        VALID(&heap);
        CHECK(n > 50);
        CHECK(all_bytes(buf, 64 + skew, 0xEE) && all_bytes(start + len, 16384 - 64 - skew - len, 0xEE));
        for (size_t i = 0; i < n; i++)
            CHECK(heap_free(&heap, p[i]) == 0);
        VALID(&heap);
    }
}

/* NULL, and ranges that wrap the address space, are refused without touching memory. */
void case_region_range(void)
{
    REQUIRE(heap_init(&heap, case_arena_small, 8192) == 0);
    refused(NULL, 4096, -MEM_ERR_REGION_RANGE, "NULL");
    refused(NULL, 0, -MEM_ERR_REGION_RANGE, "NULL, empty");
    refused((void *)(UINTPTR_MAX - 4095), 8192, -MEM_ERR_REGION_RANGE, "wraps");
    refused((void *)(UINTPTR_MAX - 15), SIZE_MAX, -MEM_ERR_REGION_RANGE, "wraps far");
    struct heap other;
    CHECK(heap_init(&other, NULL, 4096) == -MEM_ERR_REGION_RANGE);
    CHECK(heap_init(&other, case_arena_big, 8) == -MEM_ERR_REGION_SMALL);
    void *p = heap_alloc(&heap, 100);
    CHECK(p != NULL);
    CHECK(heap_free(&heap, p) == 0);
    VALID(&heap);
}

static void extend_refused(const void *start, size_t size, int want, const char *what)
{
    refused_call(1, start, size, want, what);
}

/* A region added with a reserve grows in place: the new bytes join as free memory (merged with
 * a free last block), and a block at the end grows into them by realloc without moving. Other
 * regions may not overlap the reserve; bad extensions change nothing; heap_region_size sizes a
 * region for a block within a reserve exactly; the debug fill and calloc see the new bytes. */
void case_region_extend(void)
{
    unsigned char *w = case_arena_big;
    const size_t K = 1024, reserve = 64 * K;
    struct mem_stats a, b;
    memset(w, 0, reserve);
    REQUIRE(heap_init(&heap, NULL, 0) == 0);
    REQUIRE(heap_add_region_reserve(&heap, w, 16 * K, reserve, 0) == 0);
    VALID(&heap);
    refused(w + 32 * K, 8 * K, -MEM_ERR_REGION_OVERLAP, "inside another region's reserve");
    CHECK(heap_add_region_reserve(&heap, w + 128 * K, 8 * K, 4 * K, 0) == -MEM_ERR_REGION_RANGE);

    /* the heap reads nothing in its blocks: garbage over the free block changes nothing */
    heap_stats(&heap, &a);
    memset(w + 16 * K - 4 * K, 0x5A, 4 * K);
    VALID(&heap);
    heap_stats(&heap, &b);
    CHECK(stats_state_equal(&a, &b));

    /* the whole region is free: the new bytes lengthen its one free block */
    heap_stats(&heap, &a);
    CHECK(heap_region_extend(&heap, w, 24 * K) == 0);
    VALID(&heap);
    heap_stats(&heap, &b);
    CHECK(b.total_bytes == a.total_bytes + 8 * K && b.free_bytes == a.free_bytes + 8 * K);
    CHECK(b.free_blocks == 1 && b.largest_free == a.largest_free + 8 * K);
    CHECK(b.total_bytes + b.overhead_bytes == 24 * K);

    /* a block fills it: the last block is in use */
    unsigned char *p = heap_alloc(&heap, b.largest_free);
    REQUIRE(p);
    size_t n = heap_usable_size(&heap, p);
    stamp(p, n, 7);
    CHECK(heap_realloc(&heap, p, n + 4 * K) == NULL);  /* no room anywhere yet */
    /* fewer new bytes than a granule: accepted, nothing joins the heap */
    heap_stats(&heap, &a);
    CHECK(heap_region_extend(&heap, w, 24 * K + 8) == 0);
    heap_stats(&heap, &b);
    CHECK(stats_state_equal(&a, &b) && b.overhead_bytes == a.overhead_bytes + 8);
    extend_refused(w, reserve + 16, -MEM_ERR_REGION_RANGE, "past the reserve");
    extend_refused(w, 16 * K, -MEM_ERR_REGION_RANGE, "shrinking");
    extend_refused(w + 16, 32 * K, -MEM_ERR_REGION_RANGE, "not a region's start");
    extend_refused(case_arena_small, 32 * K, -MEM_ERR_REGION_RANGE, "outside every region");

    /* the region grows, and the block grows into the new bytes in place */
    CHECK(heap_region_extend(&heap, w, 32 * K) == 0);
    VALID(&heap);
    heap_stats(&heap, &a);
    CHECK(a.free_blocks == 1 && a.largest_free == 8 * K);
    unsigned char *q = heap_realloc(&heap, p, n + 4 * K);
    CHECK(q == p);
    CHECK(stamp_ok(q, n, 7));
    VALID(&heap);

    /* the debug fill covers the new bytes: handing them out finds the fill intact */
    heap_set_poison(&heap, 1);
    CHECK(heap_region_extend(&heap, w, reserve) == 0);
    VALID(&heap);
    heap_stats(&heap, &a);
    void *r = heap_alloc(&heap, a.largest_free);
    CHECK(r != NULL);
    heap_stats(&heap, &b);
    CHECK(b.error_count == a.error_count);
    CHECK(heap_free(&heap, r) == 0 && heap_free(&heap, q) == 0);
    heap_set_poison(&heap, 0);
    VALID(&heap);
    void *start;
    size_t got;
    CHECK(heap_region_if_empty(&heap, w + 100, &start, &got) == 1);
    CHECK(start == w && got == reserve);                /* the reserve: what the caller mapped */

    /* heap_region_size with a reserve: the block fits in that size, not in one granule less
     * (w is 64-aligned, so the 15 bytes kept for a misaligned start are spare here) */
    const size_t blk = 8 * K;
    size_t s = heap_region_size(blk, reserve), s0 = heap_region_size(blk, 0);
    CHECK(s > s0 && s <= reserve);
    CHECK(heap_region_size(blk, 4 * K) == 0);
    REQUIRE(heap_init(&heap, NULL, 0) == 0);
    REQUIRE(heap_add_region_reserve(&heap, w, s, reserve, 0) == 0);
    CHECK(heap_alloc(&heap, blk) != NULL);
    REQUIRE(heap_init(&heap, NULL, 0) == 0);
    REQUIRE(heap_add_region_reserve(&heap, w, s - 32, reserve, 0) == 0);
    CHECK(heap_alloc(&heap, blk) == NULL);

    /* a zeroed region, extended over its free last block: the new bytes are the caller's, so
     * calloc clears what it hands out from there on */
    memset(w, 0, reserve);
    REQUIRE(heap_init(&heap, NULL, 0) == 0);
    REQUIRE(heap_add_region_reserve(&heap, w, 16 * K, reserve, HEAP_REGION_ZEROED) == 0);
    VALID(&heap);
    unsigned char *y = heap_calloc(&heap, 1, 1000);     /* fresh: zero without clearing */
    CHECK(y && all_bytes(y, 1000, 0));
    CHECK(heap_region_extend(&heap, w, 20 * K) == 0);   /* merges with the free block above y */
    heap_stats(&heap, &a);
    unsigned char *z = heap_calloc(&heap, 1, a.largest_free);
    REQUIRE(z);
    CHECK(z > y && all_bytes(z, a.largest_free, 0));
    CHECK(heap_free(&heap, z) == 0 && heap_free(&heap, y) == 0);
    VALID(&heap);
}
