/* realloc.c - C semantics plus kheap's policy: NULL pointer allocates, size 0 frees, data is
 * kept, shrinking and growing into a free next neighbour stay in place, anything else moves
 * (copy, then free), a failure leaves the block intact, and an aligned block stays aligned. */
#include "case_util.h"

static struct heap heap;

static int fresh(struct heap *h)
{
    return heap_init(h, case_arena_small, ARENA_SMALL) == 0 && heap_check(h) == 0 ? 0 : -1;
}

/* realloc(NULL, n) is alloc(n); realloc(p, 0) frees p and returns NULL. */
void case_realloc_null_and_zero(void)
{
    static struct walk fresh_walk, w;
    struct mem_stats fresh_stats, s;
    REQUIRE(fresh(&heap) == 0);
    heap_stats(&heap, &fresh_stats);
    walk_take(&heap, &fresh_walk);
    mem_error_fn previous = err_record_begin();

    char *p = heap_realloc(&heap, NULL, 100);
    VALID(&heap);
    CHECK(p != NULL && (uintptr_t)p == fresh_walk.b[0].ptr);  /* where alloc would put it */
    CHECK(heap_usable_size(&heap, p) >= 100);
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 1 && s.alloc_count == 1);
    CHECK(heap_realloc(&heap, p, 0) == NULL);
    VALID(&heap);
    heap_stats(&heap, &s);
    walk_take(&heap, &w);
    CHECK(stats_state_equal(&s, &fresh_stats) && walk_equal(&w, &fresh_walk));
    CHECK(s.free_count == 1 && s.failed_count == 0);
    /* the same pointer is free now: a second realloc to 0 is a use of a freed pointer, reported */
    CHECK(heap_realloc(&heap, p, 0) == NULL);
    CHECK(err_log.count == 1 && err_log.err == MEM_ERR_FREED_POINTER && err_log.ptr == p);
    CHECK(heap_realloc(&heap, NULL, 0) == NULL);  /* alloc(0) */
    VALID(&heap);
    CHECK(err_log.count == 1);
    err_record_end(previous);
}

/* Shrinking returns the same pointer; a tail that can stand as a block is freed (and merged with
 * a free neighbour); a tail too small to stand stays with the block. */
void case_realloc_shrink(void)
{
    static struct walk w;
    REQUIRE(fresh(&heap) == 0);
    char *p = heap_alloc(&heap, 1000);
    void *guard = heap_alloc(&heap, 16);
    REQUIRE(p && guard);
    stamp(p, 1000, 7);
    size_t full = heap_usable_size(&heap, p);

    CHECK(heap_realloc(&heap, p, full - (T_MIN_BLOCK - MEM_ALIGN)) == p);  /* tail < MIN_BLOCK */
    VALID(&heap);
    CHECK(heap_usable_size(&heap, p) == full);

    CHECK(heap_realloc(&heap, p, 100) == p);
    VALID(&heap);
    CHECK(heap_usable_size(&heap, p) == t_block_size(100) - T_WORD);
    CHECK(stamp_ok(p, 32, 7));  /* the first bytes are still there */
    walk_take(&heap, &w);
    REQUIRE(w.n == 4);
    CHECK(w.b[0].ptr == (uintptr_t)p && w.b[0].used);
    CHECK(w.b[1].ptr == (uintptr_t)(p + t_block_size(100)) && !w.b[1].used &&
          w.b[1].size == t_block_size(1000) - t_block_size(100) - T_WORD);
    CHECK(w.b[2].ptr == (uintptr_t)guard);
    CHECK(stats_match_walk(&heap) == 0);

    /* shrink again: the new tail merges with the free block after it */
    CHECK(heap_realloc(&heap, p, 20) == p);
    VALID(&heap);
    walk_take(&heap, &w);
    REQUIRE(w.n == 4);
    CHECK(w.b[1].ptr == (uintptr_t)(p + t_block_size(20)) && !w.b[1].used &&
          w.b[1].size == t_block_size(1000) - t_block_size(20) - T_WORD);
    CHECK(stats_match_walk(&heap) == 0);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.alloc_count == 2 && s.free_count == 0);  /* in-place resizing is neither */
    CHECK(heap_free(&heap, p) == 0 && heap_free(&heap, guard) == 0);
    VALID(&heap);
}

/* Growing into a free next neighbour keeps the pointer and the data; the rest of the neighbour
 * stays free when it can stand as a block. */
void case_realloc_grow_in_place(void)
{
    static struct walk w;
    REQUIRE(fresh(&heap) == 0);
    char *p = heap_alloc(&heap, 100), *q = heap_alloc(&heap, 300);
    void *guard = heap_alloc(&heap, 16);
    REQUIRE(p && q && guard);
    stamp(p, 100, 11);
    CHECK(heap_free(&heap, q) == 0);
    VALID(&heap);
    const size_t both = t_block_size(100) + t_block_size(300);

    char *r = heap_realloc(&heap, p, 200);
    VALID(&heap);
    CHECK(r == p);
    CHECK(stamp_ok(p, 32, 11));
    CHECK(heap_usable_size(&heap, p) == t_block_size(200) - T_WORD);
    walk_take(&heap, &w);
    REQUIRE(w.n == 4);
    CHECK(w.b[1].ptr == (uintptr_t)(p + t_block_size(200)) && !w.b[1].used &&
          w.b[1].size == both - t_block_size(200) - T_WORD);

    /* exactly both blocks: the neighbour is used up, nothing free is left between p and guard */
    r = heap_realloc(&heap, p, both - T_WORD);
    VALID(&heap);
    CHECK(r == p);
    CHECK(stamp_ok(p, 32, 11));
    walk_take(&heap, &w);
    REQUIRE(w.n == 3);
    CHECK(w.b[0].size == both - T_WORD && w.b[1].ptr == (uintptr_t)guard);

    /* the last block grows into the free rest of the heap */
    char *last = heap_alloc(&heap, 64);
    REQUIRE(last);
    stamp(last, 64, 12);
    CHECK(heap_realloc(&heap, last, 20000) == last);
    VALID(&heap);
    CHECK(stamp_ok(last, 32, 12) && heap_usable_size(&heap, last) >= 20000);
    CHECK(stats_match_walk(&heap) == 0);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.alloc_count == 4 && s.free_count == 1);
    CHECK(heap_free(&heap, p) == 0 && heap_free(&heap, guard) == 0 && heap_free(&heap, last) == 0);
    VALID(&heap);
}

/* With a used block after it (or a free one too small), the block moves: to the lowest fit,
 * with its data, and its old place is freed. */
void case_realloc_move(void)
{
    static struct walk w;
    REQUIRE(fresh(&heap) == 0);
    char *hole = heap_alloc(&heap, 500);  /* exactly what the moved block will take */
    char *p = heap_alloc(&heap, 200);
    char *small = heap_alloc(&heap, 40);
    void *guard = heap_alloc(&heap, 16);
    REQUIRE(hole && p && small && guard);
    CHECK(heap_free(&heap, hole) == 0);  /* a hole below p */
    CHECK(heap_free(&heap, small) == 0); /* a free neighbour too small for the growth */
    for (int i = 0; i < 200; i++)
        p[i] = (char)(i * 3 + 1);
    VALID(&heap);

    char *q = heap_realloc(&heap, p, 500);
    VALID(&heap);
    CHECK(q == hole);  /* the lowest block that fits, below the old one */
    int same = 1;
    for (int i = 0; i < 200; i++)
        same &= q[i] == (char)(i * 3 + 1);
    CHECK(same);
    walk_take(&heap, &w);
    long at = walk_find(&w, p);
    CHECK(at >= 0 && !w.b[at].used);  /* the old block is free, merged with `small` */
    if (at >= 0)
        CHECK(w.b[at].size == t_block_size(200) + t_block_size(40) - T_WORD);
    CHECK(stats_match_walk(&heap) == 0);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.alloc_count == 5 && s.free_count == 3);

    /* the data moves whole: all of the old usable bytes, not only what was asked */
    size_t usable = heap_usable_size(&heap, q);
    for (size_t i = 0; i < usable; i++)
        q[i] = (char)(i ^ 0x55);
    char *r = heap_realloc(&heap, q, 3000);
    VALID(&heap);
    REQUIRE(r && r != q);
    same = 1;
    for (size_t i = 0; i < usable; i++)
        same &= r[i] == (char)(i ^ 0x55);
    CHECK(same);
    CHECK(heap_free(&heap, r) == 0 && heap_free(&heap, guard) == 0);
    VALID(&heap);
}

/* When nothing fits, realloc returns NULL and the old block is untouched and still usable. */
void case_realloc_failure(void)
{
    struct snapshot snap;
    REQUIRE(fresh(&heap) == 0);
    char *p = heap_alloc(&heap, 300);
    char *guard = heap_alloc(&heap, 16);
    struct mem_stats s;
    heap_stats(&heap, &s);
    char *filler = heap_alloc(&heap, s.largest_free);  /* the rest of the heap */
    REQUIRE(p && guard && filler);
    stamp(p, 300, 21);
    VALID(&heap);
    snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
    CHECK(heap_realloc(&heap, p, 301 + T_MIN_BLOCK) == NULL);  /* needs more than p has */
    CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
    snapshot_take(&heap, &snap, case_arena_small, ARENA_SMALL);
    CHECK(heap_realloc(&heap, p, 4000) == NULL);
    CHECK(snapshot_same(&heap, &snap, 0, 1) == 0);
    VALID(&heap);
    CHECK(stamp_ok(p, 300, 21));
    CHECK(heap_usable_size(&heap, p) >= 300);
    /* after room is made, the same call succeeds and the data comes along */
    CHECK(heap_free(&heap, filler) == 0);
    char *q = heap_realloc(&heap, p, 4000);
    VALID(&heap);
    REQUIRE(q);
    CHECK(stamp_ok(q, 32, 21));
    CHECK(heap_free(&heap, q) == 0 && heap_free(&heap, guard) == 0);
    VALID(&heap);
}

/* A block from aligned_alloc keeps its alignment when realloc moves it, and in place. */
void case_realloc_keeps_alignment(void)
{
    /* A heap at a fixed offset from a 64 KiB boundary, so that the addresses (and how aligned
     * they happen to be) are the same on every build. */
    unsigned char *base = (unsigned char *)t_align_up((uintptr_t)case_arena_big, 65536) + 4096;
    for (size_t align = 32; align <= 4096; align <<= 1) {
        REQUIRE(heap_init(&heap, base, 65536 - 4096) == 0);
        void *skew = heap_alloc(&heap, 24);  /* so the heap's first free payload is not aligned */
        char *p = heap_aligned_alloc(&heap, align, 100);
        REQUIRE(skew && p);
        /* a guard right after p: first fill the free gap before p, if the alignment left one */
        static struct walk w;
        walk_take(&heap, &w);
        long at = walk_find(&w, p);
        REQUIRE(at > 0);
        void *gap = w.b[at - 1].used ? NULL : heap_alloc(&heap, w.b[at - 1].size);
        void *guard = heap_alloc(&heap, 16);
        REQUIRE(guard && (char *)guard > p);
        CHECK(gap == NULL || (char *)gap < p);
        CHECK(ALIGNED(p, align));
        stamp(p, 100, (uint32_t)align);
        CHECK(heap_realloc(&heap, p, 50) == p);  /* shrink stays */
        VALID(&heap);
        char *q = heap_realloc(&heap, p, 2000);  /* guard is in the way: moves */
        VALID(&heap);
        REQUIRE(q);
        CHECK(q != p);
        CHECK(ALIGNED(q, align));
        CHECK(stamp_ok(q, 32, (uint32_t)align));
        char *r = heap_realloc(&heap, q, 5000);  /* q is last: grows in place */
        VALID(&heap);
        CHECK(r == q);
        CHECK(heap_free(&heap, r) == 0 && heap_free(&heap, guard) == 0 && heap_free(&heap, skew) == 0);
        CHECK(heap_free(&heap, gap) == 0);
        VALID(&heap);
        struct mem_stats s;
        heap_stats(&heap, &s);
        CHECK(s.used_blocks == 0 && s.free_blocks == 1);
    }
}
