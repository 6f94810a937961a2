/* stress.c - seeded random stress at ~50% and ~100% fill, and the leak check.
 *
 * Every block is stamped at both ends and checked before it is freed or resized; every
 * operation is followed by heap_check; stats are compared with a walk along the way. The seed
 * is printed, so a failure can be replayed (host: KHEAP_SEED=0x...). */
#include "case_util.h"

#define SLOTS 192

static struct heap heap;

struct slot {
    unsigned char *p;
    size_t size;   /* bytes requested */
    size_t align;  /* alignment asked for (MEM_ALIGN for plain allocations) */
    uint32_t tag;
};
static struct slot slots[SLOTS];

struct tally {
    unsigned allocs, frees, reallocs, failures;
    size_t peak_used;
    uint64_t used_sum;  /* used bytes summed over the operations: their mean is the fill */
};

static size_t random_size(struct rng *r)
{
    switch (rng_below(r, 8)) {
    case 0:  return 1 + rng_below(r, 4000);
    case 1:
    case 2:  return 1 + rng_below(r, 700);
    default: return 1 + rng_below(r, 120);
    }
}

/* A live block must not overlap any other live block. */
static int overlaps(size_t self, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < SLOTS; i++)
        if (i != self && slots[i].p && p < slots[i].p + slots[i].size && slots[i].p < p + n)
            return 1;
    return 0;
}

static int new_block_ok(size_t i, const unsigned char *p, size_t n, size_t align)
{
    return ALIGNED(p, align) && ALIGNED(p, MEM_ALIGN) && heap_usable_size(&heap, p) >= n &&
           p >= case_arena_small && p + n <= case_arena_small + ARENA_SMALL && !overlaps(i, p, n);
}

static void slot_free(struct slot *s, struct tally *t)
{
    CHECK(stamp_ok(s->p, s->size, s->tag));
    CHECK(heap_free(&heap, s->p) == 0);
    s->p = NULL;
    t->frees++;
}

static void slot_alloc(size_t i, struct rng *r, struct tally *t, uint32_t tag)
{
    struct slot *s = &slots[i];
    size_t n = random_size(r), align = MEM_ALIGN;
    unsigned char *p;
    unsigned kind = rng_below(r, 10);
    if (kind == 0) {
        align = (size_t)1 << rng_below(r, 11);  /* 1 .. 1024 */
        p = heap_aligned_alloc(&heap, align, n);
        if (align < MEM_ALIGN)
            align = MEM_ALIGN;
    } else if (kind == 1) {
        p = heap_calloc(&heap, 1 + n % 7, n / 7 + 1);
        n = (1 + n % 7) * (n / 7 + 1);
        if (p)
            CHECK(all_bytes(p, n, 0));
    } else {
        p = heap_alloc(&heap, n);
    }
    if (!p) {
        t->failures++;
        return;
    }
    CHECK(new_block_ok(i, p, n, align));
    s->p = p;
    s->size = n;
    s->align = align;
    s->tag = tag;
    stamp(p, n, tag);
    t->allocs++;
}

/* realloc keeps the first min(old, new) bytes: the head stamp survives (the tail, when the
 * block grew, is re-stamped); a failed realloc leaves the block as it was. */
static void slot_realloc(size_t i, struct rng *r, struct tally *t, uint32_t tag)
{
    struct slot *s = &slots[i];
    size_t n = random_size(r);
    size_t keep = n < s->size ? n : s->size;
    if (keep > 32)
        keep = 32;
    unsigned char head[32];
    memcpy(head, s->p, keep);
    CHECK(stamp_ok(s->p, s->size, s->tag));
    unsigned char *q = heap_realloc(&heap, s->p, n);
    if (!q) {
        t->failures++;
        CHECK(stamp_ok(s->p, s->size, s->tag));
        return;
    }
    CHECK(memcmp(head, q, keep) == 0);
    CHECK(ALIGNED(q, s->align));
    s->p = NULL;  /* the old block is gone: don't count it in the overlap test */
    CHECK(new_block_ok(i, q, n, s->align));
    s->p = q;
    s->size = n;
    s->tag = tag;
    stamp(q, n, tag);
    t->reallocs++;
}

/* Drive the heap toward `fill` percent of its bytes in use. At 100% the heap runs out again
 * and again; a failed allocation then frees a random block. */
static void stress(unsigned fill, uint32_t seed, unsigned ops)
{
    struct rng r;
    struct tally t = { 0, 0, 0, 0, 0, 0 };
    struct mem_stats fresh_stats, s;
    static struct walk fresh_walk, end_walk;
    rng_seed(&r, seed);
    case_printf("stress %u%% fill: seed 0x%x, %u operations", fill, (unsigned)seed, ops);
    REQUIRE(heap_init(&heap, case_arena_small, ARENA_SMALL) == 0);
    heap_stats(&heap, &fresh_stats);
    walk_take(&heap, &fresh_walk);
    memset(slots, 0, sizeof slots);
    size_t target = fresh_stats.total_bytes / 100 * fill;

    for (unsigned op = 0; op < ops; op++) {
        size_t i = rng_below(&r, SLOTS);
        heap_stats(&heap, &s);
        if (s.used_bytes > t.peak_used)
            t.peak_used = s.used_bytes;
        t.used_sum += s.used_bytes;
        int want_more = s.used_bytes < target;
        if (!slots[i].p) {
            if (want_more || rng_below(&r, 8) == 0) {
                unsigned failures = t.failures;
                slot_alloc(i, &r, &t, op + 1);
                if (t.failures != failures) {  /* full: make room somewhere */
                    size_t j = rng_below(&r, SLOTS);
                    for (size_t k = 0; k < SLOTS && !slots[j].p; k++)
                        j = (j + 1) % SLOTS;
                    if (slots[j].p)
                        slot_free(&slots[j], &t);
                }
            }
        } else if (rng_below(&r, 6) == 0) {
            slot_realloc(i, &r, &t, op + 1);
        } else if (!want_more || rng_below(&r, 3) == 0) {
            slot_free(&slots[i], &t);
        }
        if (heap_check(&heap) != 0) {
            CHECK(!"heap_check failed during stress");
            case_printf("stress: heap_check failed after operation %u (seed 0x%x)", op, (unsigned)seed);
            break;
        }
        if (op % 64 == 0 && stats_match_walk(&heap) != 0) {
            CHECK(!"stats differ from the walk during stress");
            break;
        }
    }
    unsigned mean = (unsigned)(t.used_sum / ops * 100 / fresh_stats.total_bytes);
    case_printf("stress %u%%: %u allocs, %u frees, %u reallocs, %u failures, mean fill %u%%, "
                "peak %zu of %zu bytes", fill, t.allocs, t.frees, t.reallocs, t.failures, mean,
                t.peak_used, fresh_stats.total_bytes);
    /* the fill level asked for was the one the heap ran at */
    if (fill == 100)
        CHECK(t.failures > 0 && mean >= 60);
    else
        CHECK(mean >= 40 && mean <= 60);
    CHECK(t.allocs > ops / 8 && t.frees > ops / 16 && t.reallocs > 0);

    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i].p) {
            slot_free(&slots[i], &t);
            VALID(&heap);
        }
    heap_stats(&heap, &s);
    walk_take(&heap, &end_walk);
    CHECK(stats_state_equal(&s, &fresh_stats));
    CHECK(walk_equal(&end_walk, &fresh_walk));
    CHECK(s.alloc_count == s.free_count);
}

void case_stress_half(void) { stress(50, case_seed(0xC0FFEE01u), 5000 * case_scale); }
void case_stress_full(void) { stress(100, case_seed(0xBADC0DE5u), 5000 * case_scale); }

/* After a mixed workload and freeing everything, the heap's state is that of a fresh heap,
 * while the counters keep their history. */
void case_leak_check(void)
{
    struct mem_stats fresh_stats, s;
    static struct walk fresh_walk, end_walk;
    void *p[12];
    REQUIRE(heap_init(&heap, case_arena_small, ARENA_SMALL) == 0);
    heap_stats(&heap, &fresh_stats);
    walk_take(&heap, &fresh_walk);
    CHECK(fresh_stats.used_bytes == 0 && fresh_stats.used_blocks == 0 && fresh_stats.free_blocks == 1);
    CHECK(fresh_stats.free_bytes == fresh_stats.total_bytes);
    CHECK(fresh_stats.largest_free == fresh_stats.free_bytes - T_WORD);
    CHECK(fresh_stats.region_count == 1 && fresh_stats.overhead_bytes + fresh_stats.total_bytes == ARENA_SMALL);

    p[0] = heap_alloc(&heap, 100);
    p[1] = heap_calloc(&heap, 30, 7);
    p[2] = heap_aligned_alloc(&heap, 256, 300);
    p[3] = heap_alloc(&heap, 1);
    p[4] = heap_aligned_alloc(&heap, 4096, 50);
    p[5] = heap_alloc(&heap, 5000);
    p[6] = heap_realloc(&heap, NULL, 64);
    p[7] = heap_alloc(&heap, 2000);
    p[8] = heap_aligned_alloc(&heap, 32, 33);
    p[9] = heap_alloc(&heap, 700);
    p[10] = heap_alloc(&heap, 48);
    p[11] = heap_alloc(&heap, 3);
    VALID(&heap);
    for (int i = 0; i < 12; i++)
        REQUIRE(p[i]);
    p[5] = heap_realloc(&heap, p[5], 100);     /* shrink in place */
    p[3] = heap_realloc(&heap, p[3], 3000);    /* move */
    p[7] = heap_realloc(&heap, p[7], 2100);    /* grow or move */
    p[2] = heap_realloc(&heap, p[2], 9000);    /* aligned move */
    VALID(&heap);
    for (int i = 0; i < 12; i++)
        REQUIRE(p[i]);
    CHECK(stats_match_walk(&heap) == 0);
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 12);
    size_t peak = s.used_bytes;

    static const int order[12] = { 7, 2, 11, 0, 5, 9, 3, 1, 10, 4, 8, 6 };
    for (int i = 0; i < 12; i++) {
        CHECK(heap_free(&heap, p[order[i]]) == 0);
        VALID(&heap);
    }
    CHECK(heap_realloc(&heap, heap_alloc(&heap, 10), 0) == NULL);  /* realloc to 0 frees too */
    VALID(&heap);
    heap_stats(&heap, &s);
    walk_take(&heap, &end_walk);
    CHECK(stats_state_equal(&s, &fresh_stats));
    CHECK(walk_equal(&end_walk, &fresh_walk));
    CHECK(s.region_count == fresh_stats.region_count && s.overhead_bytes == fresh_stats.overhead_bytes);
    /* counters kept their history */
    CHECK(s.alloc_count == s.free_count && s.alloc_count >= 13);
    CHECK(s.peak_used_bytes >= peak);
    CHECK(s.min_free_bytes <= fresh_stats.total_bytes - peak);
    CHECK(s.failed_count == 0 && s.error_count == 0);
}
