/* misuse.c - every class of bad pointer and corruption (issue 3): the recording handler gets the
 * right enum mem_error and the exact pointer, heap_free returns that code, error_count goes up
 * by one, and the heap is exactly as before (stats, walk and every byte of its memory). */
#include "case_util.h"

#define MISUSE_ARENA 16384

static struct heap heap;
static void *blk[8];

/* Each case runs with the recording handler installed, and the previous one restored after it
 * however the case ends (a REQUIRE returns early from the body, not from the case). */
#define MISUSE_CASE(name)                                     \
    static void name##_body(void);                            \
    void name(void)                                           \
    {                                                         \
        mem_error_fn previous = err_record_begin();           \
        name##_body();                                        \
        err_record_end(previous);                             \
    }                                                         \
    static void name##_body(void)

/* A small heap with eight live 96-byte blocks, stamped, and the free rest after them. */
static int setup(void)
{
    if (heap_init(&heap, case_arena_small, MISUSE_ARENA) != 0)
        return -1;
    for (int i = 0; i < 8; i++) {
        blk[i] = heap_alloc(&heap, 96);
        if (!blk[i])
            return -1;
        stamp(blk[i], 96, (uint32_t)i + 100);
    }
    return heap_check(&heap);
}

static int stamps_intact(void)
{
    for (int i = 0; i < 8; i++)
        if (blk[i] && !stamp_ok(blk[i], 96, (uint32_t)i + 100))
            return 0;
    return 1;
}

/* heap_free(ptr) must be refused with `want`, reported once with ptr, and change nothing. */
static void free_refused(void *ptr, enum mem_error want, const char *what)
{
    struct snapshot snap;
    snapshot_take(&heap, &snap, case_arena_small, MISUSE_ARENA);
    err_log_clear();
    int got = heap_free(&heap, ptr);
    if (got != (int)want || err_log.count != 1 || err_log.err != want || err_log.ptr != ptr)
        case_printf("%s: heap_free(%p) returned %d, handler saw %u report(s), last %d at %p; "
                    "expected %d (%s)", what, ptr, got, err_log.count, (int)err_log.err,
                    err_log.ptr, (int)want, mem_strerror(want));
    CHECK(got == (int)want);
    CHECK(err_log.count == 1 && err_log.err == want && err_log.ptr == ptr);
    CHECK(snapshot_same(&heap, &snap, 1, 0) == 0);
}

static void free_refused_either(void *ptr, enum mem_error one, enum mem_error other, const char *what)
{
    struct snapshot snap;
    snapshot_take(&heap, &snap, case_arena_small, MISUSE_ARENA);
    err_log_clear();
    int got = heap_free(&heap, ptr);
    if (got != (int)err_log.err || err_log.count != 1 || (got != (int)one && got != (int)other))
        case_printf("%s: heap_free(%p) returned %d, handler saw %u report(s), last %d",
                    what, ptr, got, err_log.count, (int)err_log.err);
    CHECK(got == (int)one || got == (int)other);
    CHECK(err_log.count == 1 && (int)err_log.err == got && err_log.ptr == ptr);
    CHECK(snapshot_same(&heap, &snap, 1, 0) == 0);
}

/* The whole heap goes back cleanly: every block frees, the check passes. */
static void teardown(void)
{
    CHECK(stamps_intact());
    for (int i = 0; i < 8; i++)
        if (blk[i]) {
            CHECK(heap_free(&heap, blk[i]) == 0);
            blk[i] = NULL;
        }
    VALID(&heap);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 0 && s.free_blocks == 1);
}

MISUSE_CASE(case_misuse_free_null)
{
    struct snapshot snap;
    REQUIRE(setup() == 0);
    snapshot_take(&heap, &snap, case_arena_small, MISUSE_ARENA);
    CHECK(heap_free(&heap, NULL) == 0);
    CHECK(heap_usable_size(&heap, NULL) == 0);
    CHECK(err_log.count == 0);
    CHECK(snapshot_same(&heap, &snap, 0, 0) == 0);
    teardown();
}

MISUSE_CASE(case_misuse_double_free)
{
    REQUIRE(setup() == 0);
    void *p = blk[3];
    CHECK(heap_free(&heap, p) == 0);
    blk[3] = NULL;
    VALID(&heap);
    free_refused(p, MEM_ERR_DOUBLE_FREE, "double free");
    free_refused(p, MEM_ERR_DOUBLE_FREE, "triple free");
    VALID(&heap);
    /* a pointer that starts a live block again after reuse is a legal free */
    void *again = heap_alloc(&heap, 96);
    CHECK(again == p);
    CHECK(heap_free(&heap, again) == 0);
    CHECK(err_log.count == 1);
    free_refused(p, MEM_ERR_DOUBLE_FREE, "double free after reuse");
    teardown();
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.error_count == 3);
}

/* a, then its neighbour b: they merge into one free block. Freeing a (the merged block's start)
 * or b (now inside free memory) again is a double free. */
MISUSE_CASE(case_misuse_double_free_merged)
{
    REQUIRE(setup() == 0);
    void *a = blk[2], *b = blk[3], *c = blk[5], *d = blk[6];
    CHECK(heap_free(&heap, a) == 0 && heap_free(&heap, b) == 0);
    blk[2] = blk[3] = NULL;
    VALID(&heap);
    free_refused(a, MEM_ERR_DOUBLE_FREE, "double free of a merged block's start");
    free_refused(b, MEM_ERR_DOUBLE_FREE, "double free of a block merged into its neighbour");
    /* the same the other way round: free d, then c merges with it as its next neighbour */
    CHECK(heap_free(&heap, d) == 0 && heap_free(&heap, c) == 0);
    blk[5] = blk[6] = NULL;
    VALID(&heap);
    free_refused(d, MEM_ERR_DOUBLE_FREE, "double free of a block merged into the one before");
    free_refused(c, MEM_ERR_DOUBLE_FREE, "double free of the merged block's start");
    /* the last block merged into the free rest of the heap */
    void *last = blk[7];
    CHECK(heap_free(&heap, last) == 0);
    blk[7] = NULL;
    free_refused(last, MEM_ERR_DOUBLE_FREE, "double free of a block merged into the heap's top");
    teardown();
}

MISUSE_CASE(case_misuse_not_in_heap)
{
    static _Alignas(16) unsigned char elsewhere[64];
    REQUIRE(setup() == 0);
    free_refused(elsewhere, MEM_ERR_NOT_IN_HEAP, "static buffer");
    free_refused(case_arena_small + MISUSE_ARENA, MEM_ERR_NOT_IN_HEAP, "just past the region");
    free_refused(case_arena_small + MISUSE_ARENA + 4096, MEM_ERR_NOT_IN_HEAP, "beyond the region");
    free_refused((void *)(uintptr_t)16, MEM_ERR_NOT_IN_HEAP, "near NULL");
    free_refused((void *)(UINTPTR_MAX & ~(uintptr_t)15), MEM_ERR_NOT_IN_HEAP, "top of memory");
    free_refused(case_arena_big + 4096, MEM_ERR_NOT_IN_HEAP, "another arena");
    teardown();
}

MISUSE_CASE(case_misuse_misaligned)
{
    REQUIRE(setup() == 0);
    static const size_t offsets[] = { 1, 2, 4, 8, 15, 17, 24, 33 };
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++)
        free_refused((char *)blk[4] + offsets[i], MEM_ERR_MISALIGNED, "misaligned");
    free_refused((char *)blk[0] - 8, MEM_ERR_MISALIGNED, "misaligned, before a block");
    teardown();
}

MISUSE_CASE(case_misuse_interior)
{
    REQUIRE(setup() == 0);
    free_refused((char *)blk[4] + 16, MEM_ERR_NOT_A_BLOCK, "interior +16");
    free_refused((char *)blk[4] + 32, MEM_ERR_NOT_A_BLOCK, "interior +32");
    free_refused((char *)blk[4] + 80, MEM_ERR_NOT_A_BLOCK, "interior, last granule");
    free_refused((char *)blk[0] + 48, MEM_ERR_NOT_A_BLOCK, "interior of the first block");
    /* a big block: deep inside */
    void *big = heap_alloc(&heap, 4000);
    REQUIRE(big);
    free_refused((char *)big + 2048, MEM_ERR_NOT_A_BLOCK, "interior of a big block");
    CHECK(heap_free(&heap, big) == 0);
    /* the pad in front of an aligned block is not a block either: a filler first, so that
     * the free rest starts 16 bytes before a 64-aligned payload */
    char *top = (char *)blk[7] + t_block_size(96);   /* payload of the free rest */
    void *filler = NULL;
    for (size_t fb = T_MIN_BLOCK; fb < T_MIN_BLOCK + 64 && !filler; fb += 16) {
        uintptr_t t = (uintptr_t)top + fb;
        if (t_align_up(t, 64) - t == 16) {
            filler = heap_alloc(&heap, fb - T_WORD);
            top += fb;
        }
    }
    REQUIRE(filler);
    char *owner = heap_aligned_alloc(&heap, 64, 100);
    REQUIRE(owner == top + 16);
    free_refused(top, MEM_ERR_NOT_A_BLOCK, "the pad before an aligned block");
    CHECK(heap_free(&heap, owner) == 0 && heap_free(&heap, filler) == 0);
    teardown();
}

MISUSE_CASE(case_misuse_into_free)
{
    REQUIRE(setup() == 0);
    struct mem_stats s;
    heap_stats(&heap, &s);
    /* the free rest of the heap starts after blk[7] */
    char *top = (char *)blk[7] + t_block_size(96);
    free_refused(top, MEM_ERR_DOUBLE_FREE, "start of the free top");
    free_refused(top + 64, MEM_ERR_DOUBLE_FREE, "inside the free top");
    free_refused(top + s.largest_free / 2 / 16 * 16, MEM_ERR_DOUBLE_FREE, "middle of the free top");
    /* a freed block in the middle */
    void *mid = blk[4];
    CHECK(heap_free(&heap, mid) == 0);
    blk[4] = NULL;
    free_refused((char *)mid + 32, MEM_ERR_DOUBLE_FREE, "inside a freed block");
    teardown();
}

/* realloc and usable_size report bad pointers the same way and return NULL / 0. */
MISUSE_CASE(case_misuse_realloc_usable)
{
    struct snapshot snap;
    REQUIRE(setup() == 0);
    void *freed = blk[1];
    CHECK(heap_free(&heap, freed) == 0);
    blk[1] = NULL;
    struct { void *ptr; enum mem_error err; } bad[] = {
        { freed, MEM_ERR_DOUBLE_FREE },
        { (char *)blk[2] + 3, MEM_ERR_MISALIGNED },
        { (char *)blk[2] + 16, MEM_ERR_NOT_A_BLOCK },
        { case_arena_small + MISUSE_ARENA + 64, MEM_ERR_NOT_IN_HEAP },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snapshot_take(&heap, &snap, case_arena_small, MISUSE_ARENA);
        err_log_clear();
        CHECK(heap_realloc(&heap, bad[i].ptr, 50) == NULL);
        CHECK(err_log.count == 1 && err_log.err == bad[i].err && err_log.ptr == bad[i].ptr);
        CHECK(snapshot_same(&heap, &snap, 1, 0) == 0);
        err_log_clear();
        CHECK(heap_realloc(&heap, bad[i].ptr, 0) == NULL);
        CHECK(err_log.count == 1 && err_log.err == bad[i].err && err_log.ptr == bad[i].ptr);
        CHECK(snapshot_same(&heap, &snap, 2, 0) == 0);
        err_log_clear();
        CHECK(heap_usable_size(&heap, bad[i].ptr) == 0);
        CHECK(err_log.count == 1 && err_log.err == bad[i].err && err_log.ptr == bad[i].ptr);
        CHECK(snapshot_same(&heap, &snap, 3, 0) == 0);
    }
    teardown();
}

/* A live block's header overwritten: free, realloc and usable_size report MEM_ERR_CORRUPT and
 * write nothing; heap_check sees it; with the word restored all is well again. */
MISUSE_CASE(case_misuse_corrupt_header)
{
    REQUIRE(setup() == 0);
    size_t *head = (size_t *)blk[4] - 1, saved = *head;
    const size_t garbage[] = {
        (size_t)0xDEADBEEFu,           /* everything wrong, all flag bits set */
        (size_t)0x41414141u,           /* a string ran over it */
        0,                             /* zeroed */
        saved & ~(size_t)1,            /* the used flag cleared */
        saved ^ 2,                     /* the prev-used flag flipped */
        saved | 8,                     /* marked as a pad */
        saved + 16,                    /* size one granule too big */
        saved - 16,                    /* size one granule too small */
        saved * 2,                     /* size doubled */
        (saved & 15) | ((size_t)1 << (sizeof(size_t) * 8 - 2)), /* absurd size */
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        *head = garbage[i];
        if (heap_check(&heap) == 0)
            case_printf("header 0x%lx: heap_check sees nothing", (unsigned long)garbage[i]);
        CHECK(heap_check(&heap) != 0);
        free_refused(blk[4], MEM_ERR_CORRUPT, "corrupted header");
        struct snapshot snap;
        snapshot_take(&heap, &snap, case_arena_small, MISUSE_ARENA);
        err_log_clear();
        CHECK(heap_realloc(&heap, blk[4], 200) == NULL);
        CHECK(heap_usable_size(&heap, blk[4]) == 0);
        CHECK(err_log.count == 2 && err_log.err == MEM_ERR_CORRUPT && err_log.ptr == blk[4]);
        CHECK(snapshot_same(&heap, &snap, 2, 0) == 0);
        *head = saved;
        VALID(&heap);
    }
    CHECK(stamps_intact());
    teardown();
}

/* Writing past a block's end into the next block's header: the next free of either block
 * reports MEM_ERR_CORRUPT (and frees nothing), heap_check reports it; restored, all is well. */
static void overrun(int next_is_free, const unsigned char *bytes, size_t count)
{
    REQUIRE(setup() == 0);
    unsigned char *a = blk[3];
    void *b = blk[4];
    if (next_is_free) {
        CHECK(heap_free(&heap, b) == 0);
        blk[4] = NULL;
    }
    size_t usable = heap_usable_size(&heap, a);
    unsigned char saved[sizeof(size_t)];
    memcpy(saved, a + usable, sizeof saved);
    memcpy(a + usable, bytes, count);  /* the overrun: `count` bytes past the end */
    if (memcmp(saved, a + usable, sizeof saved) == 0) {
        case_printf("overrun wrote what was there");
        CHECK(!"overrun bytes equal the header");
    }
    CHECK(heap_check(&heap) != 0);
    free_refused(a, MEM_ERR_CORRUPT, "free of the block that overran");
    if (next_is_free)  /* freeing a free block is wrong twice over: either cause will do */
        free_refused_either(b, MEM_ERR_DOUBLE_FREE, MEM_ERR_CORRUPT, "free of the free block overrun");
    else
        free_refused(b, MEM_ERR_CORRUPT, "free of the block overrun");
    CHECK(heap_check(&heap) != 0);
    memcpy(a + usable, saved, sizeof saved);
    VALID(&heap);
    CHECK(heap_free(&heap, a) == 0);
    blk[3] = NULL;
    VALID(&heap);
    teardown();
}

MISUSE_CASE(case_misuse_overrun)
{
    static const unsigned char one[1] = { 0x41 };
    static const unsigned char zero[1] = { 0 };
    static const unsigned char word[8] = { 'o', 'v', 'e', 'r', 'r', 'u', 'n', '!' };
    static const unsigned char ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    for (int next_free = 0; next_free < 2; next_free++) {
        overrun(next_free, one, 1);
        overrun(next_free, zero, 1);
        overrun(next_free, word, sizeof(size_t));
        overrun(next_free, ff, sizeof(size_t));
    }
}

/* Debug fill: a write into a freed block is reported when that block is handed out again. */
MISUSE_CASE(case_misuse_use_after_free)
{
    REQUIRE(heap_init(&heap, case_arena_small, MISUSE_ARENA) == 0);
    heap_set_poison(&heap, 1);
    unsigned char *a = heap_alloc(&heap, 200), *guard = heap_alloc(&heap, 16);
    REQUIRE(a && guard);
    memset(a, 0x33, 200);
    CHECK(heap_free(&heap, a) == 0);
    VALID(&heap);
    CHECK(err_log.count == 0);
    /* a clean reuse raises nothing */
    unsigned char *b = heap_alloc(&heap, 200);
    CHECK(b == a && err_log.count == 0);
    CHECK(heap_free(&heap, b) == 0);

    a[150] = 0x77;  /* use after free, past the free block's links */
    unsigned char *c = heap_alloc(&heap, 200);
    VALID(&heap);
    CHECK(c == a);
    CHECK(err_log.count == 1 && err_log.err == MEM_ERR_USE_AFTER_FREE && err_log.ptr == a);
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.error_count == 1);
    if (c)
        CHECK(heap_free(&heap, c) == 0);
    CHECK(heap_free(&heap, guard) == 0);
    VALID(&heap);

    /* the same through realloc growing in place into a dirtied free neighbour */
    err_log_clear();
    unsigned char *d = heap_alloc(&heap, 64), *e = heap_alloc(&heap, 300);
    unsigned char *g2 = heap_alloc(&heap, 16);
    REQUIRE(d && e && g2);
    REQUIRE(d == a && e == d + t_block_size(64) && g2 == e + t_block_size(300));
    CHECK(err_log.count == 0);
    CHECK(heap_free(&heap, e) == 0);
    e[100] = 1;
    CHECK(heap_realloc(&heap, d, 300) == d);
    CHECK(err_log.count == 1 && err_log.err == MEM_ERR_USE_AFTER_FREE && err_log.ptr == d);
    VALID(&heap);
    CHECK(heap_free(&heap, d) == 0 && heap_free(&heap, g2) == 0);
    VALID(&heap);
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 0 && s.free_blocks == 1 && s.error_count == 2);

    /* a region added while the fill is on is filled too: its first allocation is clean */
    err_log_clear();
    void *hold = heap_alloc(&heap, s.largest_free);  /* the whole first region */
    REQUIRE(hold);
    REQUIRE(heap_add_region(&heap, case_arena_small + MISUSE_ARENA, MISUSE_ARENA) == 0);
    void *second = heap_alloc(&heap, 1000);
    CHECK(second != NULL && (unsigned char *)second > case_arena_small + MISUSE_ARENA);
    CHECK(err_log.count == 0);
    CHECK(heap_free(&heap, second) == 0 && heap_free(&heap, hold) == 0);
    VALID(&heap);
    heap_set_poison(&heap, 0);
}
