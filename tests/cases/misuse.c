/* misuse.c - every class of bad pointer and corruption: the recording handler gets the
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
 * again is a double free; b now lies inside free memory, and the tables alone cannot tell that
 * it was ever a block: a pointer into free memory. */
MISUSE_CASE(case_misuse_double_free_merged)
{
    REQUIRE(setup() == 0);
    void *a = blk[2], *b = blk[3], *c = blk[5], *d = blk[6];
    CHECK(heap_free(&heap, a) == 0 && heap_free(&heap, b) == 0);
    blk[2] = blk[3] = NULL;
    VALID(&heap);
    free_refused(a, MEM_ERR_DOUBLE_FREE, "double free of a merged block's start");
    free_refused(b, MEM_ERR_FREE_MEMORY, "double free of a block merged into its neighbour");
    /* the same the other way round: free d, then c merges with it as its next neighbour */
    CHECK(heap_free(&heap, d) == 0 && heap_free(&heap, c) == 0);
    blk[5] = blk[6] = NULL;
    VALID(&heap);
    free_refused(d, MEM_ERR_FREE_MEMORY, "double free of a block merged into the one before");
    free_refused(c, MEM_ERR_DOUBLE_FREE, "double free of the merged block's start");
    /* the last block merged into the free rest of the heap */
    void *last = blk[7];
    CHECK(heap_free(&heap, last) == 0);
    blk[7] = NULL;
    free_refused(last, MEM_ERR_FREE_MEMORY, "double free of a block merged into the free before it");
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
    /* the 16-byte gap in front of an aligned block is a free block of its own: a filler
     * first, so that the free rest starts 16 bytes before a 64-aligned payload */
    char *top = (char *)blk[7] + t_block_size(96);   /* payload of the free rest */
    void *filler = NULL;
    for (size_t fb = T_MIN_BLOCK; fb < T_MIN_BLOCK + 64 && !filler; fb += 16) {
        uintptr_t t = (uintptr_t)top + fb;
        if (t_align_up(t, 64) - t == 16) {
            filler = heap_alloc(&heap, fb);
            top += fb;
        }
    }
    REQUIRE(filler);
    char *owner = heap_aligned_alloc(&heap, 64, 100);
    REQUIRE(owner == top + 16);
    free_refused(top, MEM_ERR_DOUBLE_FREE, "the free gap before an aligned block");
    free_refused(owner + 32, MEM_ERR_NOT_A_BLOCK, "inside an aligned block");
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
    /* nothing was ever handed out there: not a double free, a pointer into free memory */
    free_refused(top, MEM_ERR_FREE_MEMORY, "start of the free top, never handed out");
    free_refused(top + 64, MEM_ERR_FREE_MEMORY, "inside the free top");
    free_refused(top + s.largest_free / 2 / 16 * 16, MEM_ERR_FREE_MEMORY, "middle of the free top");
    /* a freed block in the middle */
    void *mid = blk[4];
    CHECK(heap_free(&heap, mid) == 0);
    blk[4] = NULL;
    free_refused((char *)mid + 32, MEM_ERR_FREE_MEMORY, "inside a freed block");
    free_refused(mid, MEM_ERR_DOUBLE_FREE, "the freed block's start");
    /* the free top was once handed out and freed: its start is a double free now */
    void *t = heap_alloc(&heap, 200);
    CHECK(t == top);
    CHECK(heap_free(&heap, t) == 0);
    free_refused(top, MEM_ERR_DOUBLE_FREE, "start of the free top, freed before");
    free_refused(top + 64, MEM_ERR_FREE_MEMORY, "inside the free top, freed before");
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
        { freed, MEM_ERR_FREED_POINTER },
        { (char *)freed + 16, MEM_ERR_FREE_MEMORY },
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

/* ---- Nothing in a block is the heap's ------------------------------------------------------ */

/* Blocks have no header: the bytes on both sides of every block boundary are the caller's. Each
 * layout below is built on a fresh heap; then one byte is written at one place around a
 * boundary, and a fixed script of calls on the block and its neighbours runs. Every result
 * (pointers, codes, sizes, heap_check, the stats) must equal the script's on the untouched heap:
 * what a caller writes over its blocks cannot mislead, damage or crash the heap. */
enum { L_USED, L_NEXT_FREE, L_PREV_FREE, L_LAST, L_ALIGNED, L_COUNT };
#define SCRIPT_MAX 24

struct scene {
    unsigned char *a, *b, *c;      /* a, b, c in address order; b is the block looked at */
    uintptr_t lo, hi;              /* b's block: [lo, hi) */
};

static int scene_build(int layout, struct scene *sc)
{
    size_t len = layout == L_LAST ? 2048 : MISUSE_ARENA;
    if (heap_init(&heap, case_arena_small, len) != 0)
        return -1;
    sc->a = heap_alloc(&heap, 40);
    sc->b = layout == L_ALIGNED ? NULL : heap_alloc(&heap, 40);
    sc->c = NULL;
    if (layout == L_ALIGNED) {       /* a filler, so that b sits behind a 16-byte free gap */
        uintptr_t t = (uintptr_t)sc->a + t_block_size(40);
        size_t fb = 16;
        while (t_align_up(t + fb, 64) - (t + fb) != 16)
            fb += 16;
        void *filler = heap_alloc(&heap, fb);
        sc->b = heap_aligned_alloc(&heap, 64, 40);
        if (!filler || !sc->b || (uintptr_t)sc->b != t + fb + 16)
            return -1;
    }
    if (layout == L_LAST) {          /* b takes the rest: it ends where the region ends */
        struct mem_stats s;
        heap_stats(&heap, &s);
        if (heap_free(&heap, sc->b) != 0)
            return -1;
        sc->b = heap_alloc(&heap, s.largest_free + t_block_size(40));
    } else {
        sc->c = heap_alloc(&heap, 40);
    }
    if (!sc->a || !sc->b || (layout != L_LAST && !sc->c))
        return -1;
    if (layout == L_NEXT_FREE && heap_free(&heap, sc->c) == 0)
        sc->c = NULL;
    if (layout == L_PREV_FREE && heap_free(&heap, sc->a) == 0)
        sc->a = NULL;
    sc->lo = (uintptr_t)sc->b;
    sc->hi = sc->lo + heap_usable_size(&heap, sc->b);
    return heap_check(&heap);
}

/* The calls; out[] gets every result. */
static size_t scene_script(struct scene *sc, uintptr_t *out)
{
    struct mem_stats s;
    size_t n = 0;
    out[n++] = (uintptr_t)heap_check(&heap);
    out[n++] = heap_usable_size(&heap, sc->b);
    out[n++] = sc->a ? heap_usable_size(&heap, sc->a) : 0;
    out[n++] = sc->c ? heap_usable_size(&heap, sc->c) : 0;
    unsigned char *b2 = heap_realloc(&heap, sc->b, 200);      /* grows or moves */
    out[n++] = (uintptr_t)b2;
    out[n++] = (uintptr_t)heap_free(&heap, sc->a);
    out[n++] = (uintptr_t)heap_free(&heap, b2);
    unsigned char *d = heap_alloc(&heap, 40), *e = heap_aligned_alloc(&heap, 64, 40);
    out[n++] = (uintptr_t)d;
    out[n++] = (uintptr_t)e;
    out[n++] = (uintptr_t)heap_free(&heap, sc->c);
    out[n++] = (uintptr_t)heap_free(&heap, d);
    out[n++] = (uintptr_t)heap_free(&heap, e);
    heap_stats(&heap, &s);
    out[n++] = s.used_blocks;
    out[n++] = s.free_blocks;
    out[n++] = s.free_bytes;
    out[n++] = s.error_count;
    out[n++] = (uintptr_t)heap_check(&heap);
    return n;
}

/* Every byte value (a sample of 16 values when case_scale is 1, as in the kernel) at every
 * byte of the 16 before and the 16 after each end of block b. */
MISUSE_CASE(case_misuse_no_header)
{
    static const unsigned char sample[16] = { 0x00, 0x01, 0x0f, 0x10, 0x11, 0x3f, 0x40, 0x5a,
                                              0x63, 0x80, 0x93, 0xc3, 0xdb, 0xf3, 0xfe, 0xff };
    unsigned values = case_scale >= 8 ? 256 : 16;
    unsigned long runs = 0;
    for (int layout = 0; layout < L_COUNT; layout++) {
        struct scene sc;
        uintptr_t want[SCRIPT_MAX], got[SCRIPT_MAX];
        REQUIRE(scene_build(layout, &sc) == 0);
        size_t n = scene_script(&sc, want);
        CHECK(want[0] == 0 && want[n - 1] == 0 && want[n - 2] == 0);   /* checks pass, no errors */
        for (int end = 0; end < 2; end++) {
            for (int off = -16; off < 16; off++) {
                for (unsigned v = 0; v < values; v++) {
                    REQUIRE(scene_build(layout, &sc) == 0);
                    unsigned char *at = (unsigned char *)(end ? sc.hi : sc.lo) + off;
                    if (at < case_arena_small || at >= case_arena_small + ARENA_SMALL)
                        continue;
                    *at = values == 256 ? (unsigned char)v : sample[v];
                    size_t m = scene_script(&sc, got);
                    runs++;
                    if (m != n || memcmp(got, want, n * sizeof got[0]) != 0) {
                        case_printf("layout %d, %s %+d, value 0x%02x: the heap saw the write",
                                    layout, end ? "end" : "start", off, (unsigned)*at);
                        CHECK(!"a write over the caller's bytes changed the heap's answers");
                        return;
                    }
                }
            }
        }
    }
    case_printf("no header: %lu writes around block boundaries, every answer unchanged", runs);
    CHECK(err_log.count == 0);
}

/* Random garbage over random blocks (live and freed ones, and the bytes around them), many
 * times: heap_check and heap_walk never fault, heap_check counts no violation (the tables are
 * out of reach), and the heap goes on allocating and freeing as before. Under ASan on the host. */
MISUSE_CASE(case_misuse_garbage)
{
    static void *p[32];
    struct rng rng;
    struct walk w;
    unsigned rounds = 200 * case_scale;
    rng_seed(&rng, case_seed(0x6a7ba6e5));
    REQUIRE(heap_init(&heap, case_arena_small, MISUSE_ARENA) == 0);
    for (unsigned round = 0; round < rounds; round++) {
        unsigned k = rng_below(&rng, 32);
        if (p[k] && rng_below(&rng, 3) == 0) {
            CHECK(heap_free(&heap, p[k]) == 0);
            p[k] = NULL;
        } else if (!p[k]) {
            p[k] = heap_alloc(&heap, 1 + rng_below(&rng, 400));
        }
        /* garbage: anywhere from 64 bytes before a block to 64 bytes past it, within the arena */
        unsigned j = rng_below(&rng, 32);
        unsigned char *at = p[j] ? (unsigned char *)p[j] : case_arena_small + rng_below(&rng, MISUSE_ARENA);
        size_t len = 1 + rng_below(&rng, 600);
        at -= rng_below(&rng, 64);
        struct mem_stats before, after;
        heap_stats(&heap, &before);
        walk_take(&heap, &w);
        uintptr_t first = w.n ? w.b[0].ptr : (uintptr_t)case_arena_small;
        if ((uintptr_t)at < first)       /* the region's tables are not the caller's to write */
            at = (unsigned char *)first;
        if (at + len > case_arena_small + MISUSE_ARENA)
            len = (size_t)(case_arena_small + MISUSE_ARENA - at);
        for (size_t i = 0; i < len; i++)
            at[i] = (unsigned char)rng_next(&rng);
        CHECK(heap_check(&heap) == 0);
        heap_stats(&heap, &after);
        CHECK(stats_state_equal(&before, &after));
    }
    for (unsigned k = 0; k < 32; k++)
        if (p[k]) {
            CHECK(heap_free(&heap, p[k]) == 0);
            p[k] = NULL;
        }
    VALID(&heap);
    CHECK(err_log.count == 0);
    case_printf("garbage: %u rounds of random bytes over random blocks, heap_check clean", rounds);
}

/* The classic off-by-one: a 40-character string copied into malloc(40), with a free block
 * after it, then more overruns of 8, 40 and 100 bytes; every call afterwards works. */
MISUSE_CASE(case_misuse_overrun)
{
    static const size_t lengths[] = { 1, 8, 40, 100 };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        REQUIRE(setup() == 0);
        CHECK(heap_free(&heap, blk[4]) == 0);
        blk[4] = NULL;
        memset((char *)blk[3] + 40, 'x', lengths[i]);      /* past the end of blk[3]'s 96 bytes */
        memset((char *)blk[3] + 96, 0, 1);
        VALID(&heap);
        void *p = heap_alloc(&heap, 40);
        CHECK(p == (char *)blk[3] + t_block_size(96));    /* the free block after it, as ever */
        CHECK(heap_free(&heap, blk[3]) == 0);
        blk[3] = NULL;
        CHECK(heap_free(&heap, p) == 0);
        VALID(&heap);
        for (int k = 5; k < 8; k++)                       /* its stamps may be gone: the caller's */
            if (lengths[i] > 60 && k == 5) {
                CHECK(heap_free(&heap, blk[k]) == 0);
                blk[k] = NULL;
            }
        CHECK(err_log.count == 0);
        teardown();
    }
}

/* Two regions back to back, as the kernel lays out its CPUs' arenas: an overrun of up to 64
 * bytes past the last block of the lower one lands in the guard below the upper one's
 * descriptor, and neither region notices. */
MISUSE_CASE(case_misuse_overrun_region_end)
{
    static _Alignas(16) unsigned char two[12288 + 8192];
    struct mem_stats s;
    REQUIRE(heap_init(&heap, two, 12288) == 0);
    REQUIRE(heap_add_region(&heap, two + 12288, 8192) == 0);
    heap_stats(&heap, &s);
    unsigned char *p = heap_alloc(&heap, s.largest_free);    /* the lower region's whole rest */
    REQUIRE(p != NULL);
    CHECK(p + heap_usable_size(&heap, p) == two + 12288);      /* it ends where the upper begins */
    for (unsigned v = 0; v < 256; v += 51) {
        memset(p + heap_usable_size(&heap, p), (int)v, 64);
        VALID(&heap);
        void *q = heap_alloc(&heap, 100);                      /* from the upper region */
        CHECK(q != NULL && (unsigned char *)q > two + 12288);
        CHECK(heap_free(&heap, q) == 0);
    }
    CHECK(heap_free(&heap, p) == 0);
    VALID(&heap);
    CHECK(err_log.count == 0);
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

    /* a write to any byte of the freed block is reported when it is handed out again */
    static const size_t where[] = { 0, 1, 8, 15, 16, 31, 32, 150, 199 };
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        err_log_clear();
        a[where[i]] = 0x77;
        unsigned char *c = heap_alloc(&heap, 200);
        VALID(&heap);
        CHECK(c == a);
        if (err_log.count != 1)
            case_printf("a write at byte %zu of a freed block went unreported", where[i]);
        CHECK(err_log.count == 1 && err_log.err == MEM_ERR_USE_AFTER_FREE && err_log.ptr == a);
        if (c)
            CHECK(heap_free(&heap, c) == 0);
    }
    struct mem_stats s;
    heap_stats(&heap, &s);
    CHECK(s.error_count == sizeof where / sizeof where[0]);
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
    CHECK(s.used_blocks == 0 && s.free_blocks == 1 && s.error_count == sizeof where / sizeof where[0] + 1);

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

/* A region given back (heap_remove_region) takes its blocks' memory with it: a later free of a
 * pointer into it was freed already, and is named so, as long as the heap remembers the region
 * (the last HEAP_RETURNED); added back, the region's memory is the heap's again. */
MISUSE_CASE(case_misuse_returned)
{
    REQUIRE(setup() == 0);
    void *far = case_arena_big;
    REQUIRE(heap_add_region(&heap, far, 4 * MISUSE_ARENA) == 0);
    void *q = heap_alloc(&heap, 20000);          /* too big for the first region */
    REQUIRE(q && (char *)q >= (char *)far && (char *)q < (char *)far + 4 * MISUSE_ARENA);
    CHECK(heap_free(&heap, q) == 0);
    CHECK(heap_remove_region(&heap, far) == 0);
    VALID(&heap);
    free_refused(q, MEM_ERR_RETURNED, "free of a block whose region was returned");
    free_refused((char *)far + 4 * MISUSE_ARENA - 16, MEM_ERR_RETURNED, "the returned region's end");
    free_refused((char *)far + 4 * MISUSE_ARENA, MEM_ERR_NOT_IN_HEAP, "just past the returned region");
    err_log_clear();
    CHECK(heap_usable_size(&heap, q) == 0);
    CHECK(err_log.count == 1 && err_log.err == MEM_ERR_RETURNED && err_log.ptr == q);
    /* back in the heap, the memory is free memory again; given back, returned again */
    CHECK(heap_add_region(&heap, far, 4 * MISUSE_ARENA) == 0);
    free_refused(q, MEM_ERR_FREE_MEMORY, "the region added back");
    CHECK(heap_remove_region(&heap, far) == 0);
    free_refused(q, MEM_ERR_RETURNED, "returned once more");
    /* the heap remembers the last HEAP_RETURNED regions given back, no more */
    char *small = (char *)case_arena_big + 4 * MISUSE_ARENA;
    for (int i = 0; i < HEAP_RETURNED; i++) {
        REQUIRE(heap_add_region(&heap, small + i * 4096, 4096) == 0);
        CHECK(heap_remove_region(&heap, small + i * 4096) == 0);
    }
    free_refused(small + 64, MEM_ERR_RETURNED, "the oldest remembered region");
    free_refused(q, MEM_ERR_NOT_IN_HEAP, "a region returned longer ago than the heap remembers");
    teardown();
}
