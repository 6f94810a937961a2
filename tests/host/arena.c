/* arena.c - lib/arena.c on the host: single-thread correctness (frees across arenas, misuse
 * caught in any arena, foreign pointers, a full arena falling back to the others, stats totals,
 * growth from the platform and the rest of the malloc family), then a pthread stress test in
 * which every block is freed by a thread other than the one that allocated it.
 *
 * Built with -DARENA_BROKEN_LOCK the arena locks do nothing: the stress test must then fail
 * (make host-arena-broken requires that), which shows it can see a missing lock at all.
 * KHEAP_STRESS sets the stress test's operations per thread. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arena.h"

static int failures;
#define CHECK(c) do { if (!(c)) { failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

/* ---- the platform lock: a mutex per arena, and one for the table ------------------------ */

static unsigned long lock_fn(void *ctx)
{
#ifndef ARENA_BROKEN_LOCK
    pthread_mutex_lock(ctx);
#else
    (void)ctx;
#endif
    return 0;
}

static void unlock_fn(void *ctx, unsigned long st)
{
    (void)st;
#ifndef ARENA_BROKEN_LOCK
    pthread_mutex_unlock(ctx);
#else
    (void)ctx;
#endif
}

static const struct arena_lock ops = { lock_fn, unlock_fn };

#define MAXA 8
static pthread_mutex_t mtx[MAXA + 1];
static struct arena arenas[MAXA];
static struct arena_range ranges[32];
static struct arena_set set;

static void setup(unsigned count, size_t cap)
{
    for (unsigned i = 0; i < count; i++) {
        pthread_mutex_init(&mtx[i], NULL);
        arenas[i].lock_ctx = &mtx[i];
    }
    pthread_mutex_init(&mtx[MAXA], NULL);
    CHECK(arena_init(&set, arenas, count, &ops, &mtx[MAXA], ranges, cap) == 0);
}

static void *region(size_t size)
{
    void *p = aligned_alloc(4096, size);
    if (!p) {
        perror("aligned_alloc");
        exit(2);
    }
    return p;
}

/* ---- misuse reports: recorded, and the call returns (heap.h: a returning handler) --------- */

static enum mem_error last_err;
static const void *last_ptr;
static int reports;

static void record(enum mem_error err, const void *ptr)
{
    last_err = err;
    last_ptr = ptr;
    reports++;
}

static void expect_report(int before, enum mem_error err, const void *ptr, int line)
{
    if (reports != before + 1 || last_err != err || last_ptr != ptr) {
        failures++;
        fprintf(stderr, "arena.c:%d: expected one report '%s' for %p, got %d reports, last '%s' for %p\n",
                line, mem_strerror(err), ptr, reports - before, mem_strerror(last_err), last_ptr);
    }
}
#define EXPECT_REPORT(before, err, ptr) expect_report(before, err, ptr, __LINE__)

/* ---- single thread ------------------------------------------------------------------------ */

static void test_cross_arena(void)
{
    setup(4, 32);
    void *mem[4];
    struct mem_stats fresh[4];
    for (unsigned i = 0; i < 4; i++) {
        mem[i] = region(1 << 20);
        CHECK(arena_add_region(&set, i, mem[i], 1 << 20) == 0);
        arena_stats(&set, i, &fresh[i]);
    }
    /* Each caller gets its own arena; any arena frees any block. */
    void *p[8];
    for (unsigned i = 0; i < 8; i++) {
        p[i] = arena_alloc(&set, i, 100 + i);
        CHECK(p[i] && arena_owner(&set, p[i]) == (int)(i % 4));
        CHECK((uintptr_t)p[i] % MEM_ALIGN == 0);
        memset(p[i], 0xA5, 100 + i);
    }
    struct mem_stats all, one;
    size_t used = 0;
    arena_stats(&set, ARENA_ALL, &all);
    for (unsigned i = 0; i < 4; i++) {
        arena_stats(&set, i, &one);
        CHECK(one.used_blocks == 2);
        used += one.used_bytes;
    }
    CHECK(all.used_blocks == 8 && all.used_bytes == used && all.region_count == 4);
    CHECK(all.total_bytes == fresh[0].total_bytes * 4);
    CHECK(arena_usable_size(&set, p[5]) >= 105);
    for (unsigned i = 0; i < 8; i++)
        CHECK(arena_free(&set, p[7 - i]) == 0);
    for (unsigned i = 0; i < 4; i++) {
        arena_stats(&set, i, &one);
        CHECK(one.free_bytes == fresh[i].free_bytes && one.used_blocks == 0 && one.free_count == 2);
    }
    CHECK(arena_check(&set, ARENA_ALL) == 0);

    /* Misuse into another arena's block is caught by that arena, with the heap's codes. */
    mem_set_error_handler(record);
    char *q = arena_alloc(&set, 2, 64);
    CHECK(arena_owner(&set, q) == 2);
    CHECK(arena_free(&set, q) == 0);
    int r = reports;
    CHECK(arena_free(&set, q) == MEM_ERR_DOUBLE_FREE);
    EXPECT_REPORT(r, MEM_ERR_DOUBLE_FREE, q);
    arena_stats(&set, 2, &one);
    CHECK(one.error_count == 1);
    q = arena_alloc(&set, 1, 64);
    r = reports;
    CHECK(arena_free(&set, q + 16) == MEM_ERR_NOT_A_BLOCK || arena_free(&set, q + 16) == MEM_ERR_FREE_MEMORY);
    CHECK(reports > r && last_ptr == q + 16);
    r = reports;
    CHECK(arena_free(&set, q + 3) == MEM_ERR_MISALIGNED);
    EXPECT_REPORT(r, MEM_ERR_MISALIGNED, q + 3);
    r = reports;
    CHECK(arena_usable_size(&set, q + 32) == 0 && reports == r + 1);
    CHECK(arena_free(&set, q) == 0);

    /* A pointer in no arena, and one into a region an arena gave back. */
    int local;
    r = reports;
    CHECK(arena_free(&set, &local) == MEM_ERR_NOT_IN_HEAP);
    EXPECT_REPORT(r, MEM_ERR_NOT_IN_HEAP, &local);
    arena_stats(&set, ARENA_ALL, &all);
    CHECK(all.error_count == (uint64_t)(reports));
    void *big = region(1 << 16);
    CHECK(arena_add_region(&set, 3, big, 1 << 16) == 0);
    CHECK(arena_owner(&set, (char *)big + 100) == 3);
    CHECK(arena_check(&set, ARENA_ALL) == 0);
    void *inbig = NULL;
    for (int k = 0; k < 100 && !inbig; k++) { /* first fit: arena 3's low region first */
        void *t = arena_alloc(&set, 3, 1 << 15);
        if (t && arena_owner(&set, t) == 3 && (char *)t >= (char *)big && (char *)t < (char *)big + (1 << 16))
            inbig = t;
    }
    /* Free everything of arena 3 back, then give the small region back. */
    CHECK(inbig != NULL);
    CHECK(arena_free(&set, inbig) == 0);
    CHECK(arena_remove_region(&set, big) == 0);
    CHECK(arena_owner(&set, (char *)big + 100) == -1);
    r = reports;
    CHECK(arena_free(&set, inbig) == MEM_ERR_RETURNED);
    EXPECT_REPORT(r, MEM_ERR_RETURNED, inbig);
    CHECK(arena_remove_region(&set, big) == -1);

    /* Overlaps across arenas, and a full table, are refused. */
    CHECK(arena_add_region(&set, 0, (char *)mem[1] + 4096, 8192) == -MEM_ERR_REGION_OVERLAP);
    CHECK(arena_add_region(&set, 9, big, 1 << 16) == -MEM_ERR_REGION_RANGE);
    CHECK(arena_check(&set, ARENA_ALL) == 0);
    mem_set_error_handler(NULL);
    free(big);
    for (unsigned i = 0; i < 4; i++)
        free(mem[i]);
}

static char dump_buf[1 << 16];
static size_t dump_len;
static void dump_sink(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    if (dump_len + len < sizeof dump_buf) {
        memcpy(dump_buf + dump_len, text, len);
        dump_len += len;
    }
}

/* arena_dump: one header per arena, in order, each followed by that heap's own dump. */
static void test_dump(void)
{
    setup(2, 4);
    void *a = region(1 << 16), *b = region(1 << 16);
    CHECK(arena_add_region(&set, 0, a, 1 << 16) == 0);
    CHECK(arena_add_region(&set, 1, b, 1 << 16) == 0);
    void *p = arena_alloc(&set, 1, 100);
    dump_len = 0;
    arena_dump(&set, dump_sink, NULL);
    dump_buf[dump_len] = 0;
    char *h0 = strstr(dump_buf, "arena 0:\n"), *h1 = strstr(dump_buf, "arena 1:\n");
    CHECK(h0 == dump_buf && h1 && h1 > h0 + 9 && !strstr(h1 + 1, "arena 2:"));
    CHECK(arena_free(&set, p) == 0);
    free(a); free(b);
}

static void test_fallback(void)
{
    setup(3, 2); /* a table of 2: the third region must be refused */
    void *small = region(64 << 10), *large = region(1 << 20), *extra = region(1 << 16);
    CHECK(arena_add_region(&set, 0, small, 64 << 10) == 0);
    CHECK(arena_add_region(&set, 1, large, 1 << 20) == 0);
    CHECK(arena_add_region(&set, 2, extra, 1 << 16) == -MEM_ERR_REGION_OVERLAP);
    struct mem_stats s0, s1;
    /* Arena 2 has no memory: caller 2 is served by arena 0, then 1. */
    void *p = arena_alloc(&set, 2, 1000);
    CHECK(p && arena_owner(&set, p) == 0);
    CHECK(arena_free(&set, p) == 0);
    /* Fill arena 0, then caller 0 falls back to the next arena: through arena_alloc, then
     * through arena_aligned_alloc at MEM_ALIGN (malloc's path: the caller's arena in one locked
     * call, the others only when it has no room). */
    for (int how = 0; how < 2; how++) {
        void *blocks[200];
        int n = 0, moved = -1;
        for (; n < 200; n++) {
            blocks[n] = how ? arena_aligned_alloc(&set, 0, MEM_ALIGN, 4000) : arena_alloc(&set, 0, 4000);
            CHECK(blocks[n] != NULL);
            if (arena_owner(&set, blocks[n]) != 0) {
                moved = n;
                break;
            }
        }
        CHECK(moved > 0 && arena_owner(&set, blocks[moved]) == 1);
        arena_stats(&set, 0, &s0);
        CHECK(s0.largest_free < 4000);
        arena_stats(&set, 1, &s1);
        CHECK(s1.used_blocks == 1);
        /* Nothing fits anywhere: NULL, no report. */
        int r = reports;
        CHECK((how ? arena_aligned_alloc(&set, 0, MEM_ALIGN, 2 << 20) : arena_alloc(&set, 0, 2 << 20)) == NULL);
        CHECK((how ? arena_aligned_alloc(&set, 0, MEM_ALIGN, 0) : arena_alloc(&set, 0, 0)) == NULL);
        CHECK(reports == r);
        for (int i = 0; i <= moved; i++)
            CHECK(arena_free(&set, blocks[i]) == 0);
        arena_stats(&set, ARENA_ALL, &s0);
        CHECK(s0.used_blocks == 0);
        CHECK(arena_check(&set, ARENA_ALL) == 0);
    }
    free(small); free(large); free(extra);
}

static void test_single(void)
{
    setup(1, 4);
    void *mem = region(1 << 20);
    CHECK(arena_add_region(&set, 0, mem, 1 << 20) == 0);
    void *p = arena_alloc(&set, 7, 10);
    CHECK(p && arena_owner(&set, p) == 0);
    mem_set_error_handler(record);
    int local, r = reports;
    CHECK(arena_free(&set, &local) == MEM_ERR_NOT_IN_HEAP);
    EXPECT_REPORT(r, MEM_ERR_NOT_IN_HEAP, &local);
    CHECK(arena_free(&set, p) == 0);
    r = reports;
    CHECK(arena_free(&set, p) == MEM_ERR_DOUBLE_FREE);
    EXPECT_REPORT(r, MEM_ERR_DOUBLE_FREE, p);
    mem_set_error_handler(NULL);
    CHECK(arena_check(&set, ARENA_ALL) == 0);
    free(mem);
}

/* ---- placement: inside an arena, exactly the heap's first fit ------------------------------ */

/* Two arenas; one caller works only in arena 1 while the other holds blocks in arena 0. Every
 * block arena 1 hands out must sit at the offset a bare heap over an identical region gives
 * for the same calls: the differential test of heap.c against the model then covers arenas. */
static void test_placement(void)
{
    enum { SIZE = 1 << 21, SLOTS = 97, STEPS = 20000 };
    setup(2, 8);
    /* equally aligned bases: realloc keeps an aligned block's alignment, read from its address */
    char *m0 = aligned_alloc(SIZE, SIZE), *m1 = aligned_alloc(SIZE, SIZE), *mb = aligned_alloc(SIZE, SIZE);
    if (!m0 || !m1 || !mb)
        exit(2);
    CHECK(arena_add_region(&set, 0, m0, SIZE) == 0);
    CHECK(arena_add_region(&set, 1, m1, SIZE) == 0);
    struct heap bare;
    CHECK(heap_init(&bare, mb, SIZE) == 0);
    char *a[SLOTS] = { 0 }, *b[SLOTS] = { 0 }, *other = arena_alloc(&set, 0, 1000);
    uint32_t x = 12345;
    int differ = 0;
    for (int i = 0; i < STEPS && !differ; i++) {
        x = x * 1103515245u + 12345u;
        unsigned k = (x >> 8) % SLOTS, op = (x >> 20) % 4;
        size_t n = 1 + (x >> 4) % 2000;
        if (a[k] && op < 2) {
            CHECK(arena_free(&set, a[k]) == 0);
            heap_free(&bare, b[k]);
            a[k] = b[k] = NULL;
        } else if (a[k]) {
            a[k] = arena_realloc(&set, 1, a[k], n);
            b[k] = heap_realloc(&bare, b[k], n);
        } else if (op == 3) {
            a[k] = arena_aligned_alloc(&set, 1, (size_t)64 << (x % 4), n);
            b[k] = heap_aligned_alloc(&bare, (size_t)64 << (x % 4), n);
        } else {
            a[k] = op ? arena_alloc(&set, 1, n) : arena_calloc(&set, 1, n, 1);
            b[k] = op ? heap_alloc(&bare, n) : heap_calloc(&bare, n, 1);
        }
        differ = (a[k] == NULL) != (b[k] == NULL) || (a[k] && (a[k] - m1 != b[k] - mb));
        if (differ)
            fprintf(stderr, "placement: step %d (op %u, %zu bytes): arena at +%td, bare heap at +%td\n",
                    i, op, n, a[k] ? a[k] - m1 : -1, b[k] ? b[k] - mb : -1);
    }
    CHECK(!differ);
    CHECK(arena_owner(&set, other) == 0);
    CHECK(arena_check(&set, ARENA_ALL) == 0 && heap_check(&bare) == 0);
    free(m0); free(m1); free(mb);
}

/* ---- threads ------------------------------------------------------------------------------ */

#define NT 4
#define BOX 256
struct mailbox { /* blocks handed to a thread to check and free; the test's own lock */
    pthread_mutex_t m;
    void *item[BOX];
    unsigned head, n;
};
static struct mailbox box[NT];
static long ops_per_thread = 200000;

static size_t block_size(uint32_t x) { return 8 + x % 600; }

static void fill(unsigned char *p, size_t n, uint32_t tag)
{
    memcpy(p, &tag, 4);
    for (size_t i = 4; i < n; i++)
        p[i] = (unsigned char)(tag + i);
}

static int intact(const unsigned char *p)
{
    uint32_t tag;
    memcpy(&tag, p, 4);
    size_t n = block_size(tag);
    for (size_t i = 4; i < n; i++)
        if (p[i] != (unsigned char)(tag + i))
            return 0;
    return 1;
}

static int take_one(unsigned t, void **out)
{
    struct mailbox *b = &box[t];
    pthread_mutex_lock(&b->m);
    int got = b->n > 0;
    if (got) {
        *out = b->item[b->head];
        b->head = (b->head + 1) % BOX;
        b->n--;
    }
    pthread_mutex_unlock(&b->m);
    return got;
}

static int give(unsigned t, void *p)
{
    struct mailbox *b = &box[t];
    pthread_mutex_lock(&b->m);
    int ok = b->n < BOX;
    if (ok) {
        b->item[(b->head + b->n) % BOX] = p;
        b->n++;
    }
    pthread_mutex_unlock(&b->m);
    return ok;
}

static int thread_bad[NT];

static void check_and_free(unsigned t, void *p)
{
    if (!intact(p))
        thread_bad[t]++;
    if (arena_free(&set, p) != 0)
        thread_bad[t]++;
}

static void *worker(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    uint32_t x = 0x9E3779B9u * (t + 1);
    void *own[64] = { 0 };
    for (long i = 0; i < ops_per_thread; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        void *q;
        if (take_one(t, &q))
            check_and_free(t, q);
        unsigned slot = x % 64;
        if (own[slot]) { /* hand an old block to the next thread, or free it here */
            if (!intact(own[slot]))
                thread_bad[t]++;
            if (!give((t + 1) % NT, own[slot]))
                check_and_free(t, own[slot]);
            own[slot] = NULL;
        }
        uint32_t tag = x & 0x7fffffffu;
        unsigned char *p = arena_alloc(&set, t, block_size(tag));
        if (!p) {
            thread_bad[t]++;
            continue;
        }
        fill(p, block_size(tag), tag);
        own[slot] = p;
    }
    for (unsigned s = 0; s < 64; s++)
        if (own[s])
            check_and_free(t, own[s]);
    return NULL;
}

static void test_threads(void)
{
    setup(NT, 32);
    void *mem[NT];
    struct mem_stats fresh[NT];
    for (unsigned i = 0; i < NT; i++) {
        mem[i] = region(8 << 20);
        CHECK(arena_add_region(&set, i, mem[i], 8 << 20) == 0);
        arena_stats(&set, i, &fresh[i]);
        pthread_mutex_init(&box[i].m, NULL);
    }
    pthread_t th[NT];
    for (unsigned i = 0; i < NT; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i) == 0);
    for (unsigned i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    void *q;
    for (unsigned i = 0; i < NT; i++)
        while (take_one(i, &q))
            check_and_free(i, q);
    int bad = 0;
    for (unsigned i = 0; i < NT; i++)
        bad += thread_bad[i];
    if (bad)
        fprintf(stderr, "threads: %d blocks damaged, lost or refused\n", bad);
    CHECK(bad == 0);
    struct mem_stats s, all;
    uint64_t allocs = 0, frees = 0;
    for (unsigned i = 0; i < NT; i++) {
        int v = arena_check(&set, i);
        if (v)
            fprintf(stderr, "threads: arena %u: heap_check found %d violations\n", i, v);
        CHECK(v == 0);
        arena_stats(&set, i, &s);
        CHECK(s.free_bytes == fresh[i].free_bytes && s.used_blocks == 0);
        allocs += s.alloc_count;
        frees += s.free_count;
    }
    arena_stats(&set, ARENA_ALL, &all);
    CHECK(allocs == (uint64_t)ops_per_thread * NT && frees == allocs);
    CHECK(all.alloc_count == allocs && all.error_count == 0);
    CHECK(arena_check(&set, ARENA_ALL) == 0);
    for (unsigned i = 0; i < NT; i++)
        free(mem[i]);
}

/* ARENA_F_GROW: arenas start with no memory and get regions from the platform (host/seam.c's
 * mmap); calloc, aligned alloc and realloc, in place and across arenas; a large block's own
 * region grows in place, goes back when freed, and a second free is named as returned memory. */
static void test_grow(void)
{
    setup(3, 32);
    set.flags = ARENA_F_GROW;
    mem_set_error_handler(record);
    struct mem_stats one;
    /* arena_alloc grows an empty arena as the rest of the family does (arena.h) */
    void *first = arena_alloc(&set, 1, 100);
    CHECK(first && arena_owner(&set, first) == 1);
    CHECK(arena_free(&set, first) == 0);
    unsigned char *p = arena_aligned_alloc(&set, 1, MEM_ALIGN, 100);
    CHECK(p && arena_owner(&set, p) == 1);
    arena_stats(&set, 1, &one);
    CHECK(one.region_count == 1 && one.failed_count == 0);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)i;
    unsigned char *z = arena_calloc(&set, 2, 10, 10);
    CHECK(z && arena_owner(&set, z) == 2);
    for (int i = 0; z && i < 100; i++)
        CHECK(z[i] == 0);
    void *al = arena_aligned_alloc(&set, 0, 4096, 5000);
    CHECK(al && (uintptr_t)al % 4096 == 0 && arena_owner(&set, al) == 0);

    /* In place in the caller's own arena; moved to the caller's arena from another's. */
    CHECK(arena_realloc(&set, 1, p, 50) == p);
    unsigned char *q = arena_realloc(&set, 2, p, 20000);
    CHECK(q && arena_owner(&set, q) == 2);
    for (int i = 0; q && i < 50; i++)
        CHECK(q[i] == i);
    CHECK(arena_realloc(&set, 0, q, 10) == q);      /* another arena's block shrinks in place */
    CHECK(arena_owner(&set, q) == 2 && q[9] == 9);
    void *n = arena_realloc(&set, 1, NULL, 30);
    CHECK(n && arena_owner(&set, n) == 1);
    CHECK(arena_realloc(&set, 1, n, 0) == NULL);

    /* A large block: a region of its own, grown in place by realloc, given back by free. */
    size_t big = (size_t)8 << 20;
    char *b = arena_aligned_alloc(&set, 0, MEM_ALIGN, big);
    CHECK(b && arena_owner(&set, b) == 0);
    arena_stats(&set, 0, &one);
    CHECK(one.region_count == 2);
    char *b2 = b ? arena_realloc(&set, 0, b, big + (1 << 20)) : NULL;
    CHECK(b2 == b);
    CHECK(arena_check(&set, ARENA_ALL) == 0);
    int r = reports;
    CHECK(arena_free(&set, b2) == 0);
    arena_stats(&set, 0, &one);
    CHECK(one.region_count == 1);
    CHECK(arena_owner(&set, b2) == -1);
    CHECK(arena_free(&set, b2) == MEM_ERR_RETURNED);
    EXPECT_REPORT(r, MEM_ERR_RETURNED, b2);
    /* A double free of a block of another arena is caught by its owner. */
    CHECK(arena_free(&set, q) == 0);
    r = reports;
    CHECK(arena_free(&set, q) == MEM_ERR_DOUBLE_FREE);
    EXPECT_REPORT(r, MEM_ERR_DOUBLE_FREE, q);
    CHECK(arena_free(&set, z) == 0 && arena_free(&set, al) == 0);
    CHECK(arena_check_report(&set, NULL, NULL) == 0);
    struct mem_stats all;
    arena_stats(&set, ARENA_ALL, &all);
    CHECK(all.used_blocks == 0 && all.region_count == 3 && all.failed_count == 0);

    /* One arena that grows: arena_alloc maps its first region too. */
    setup(1, 32);
    set.flags = ARENA_F_GROW;
    void *one_p = arena_alloc(&set, 0, 1000);
    CHECK(one_p && arena_owner(&set, one_p) == 0);
    CHECK(arena_free(&set, one_p) == 0 && arena_check(&set, ARENA_ALL) == 0);
    mem_set_error_handler(NULL);
}

static void timeout(int sig)
{
    (void)sig;
    static const char msg[] = "arena test: timed out (a broken lock can make the heap loop)\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(3);
    _exit(3);
}

int main(void)
{
    const char *e = getenv("KHEAP_STRESS");
    if (e && atol(e) > 0)
        ops_per_thread = atol(e);
    signal(SIGALRM, timeout);
    alarm(300);
    struct { const char *name; void (*fn)(void); } tests[] = {
        { "cross-arena frees, misuse in another arena, foreign and returned pointers", test_cross_arena },
        { "a full or empty arena falls back to the others; a full table refuses", test_fallback },
        { "one arena: misuse still caught without the table", test_single },
        { "placement inside an arena is the bare heap's first fit, call by call", test_placement },
        { "arena_dump: every arena under its own header", test_dump },
        { "growth from the platform; calloc, aligned, realloc in place and across arenas", test_grow },
        { "threads free each other's blocks; every arena ends checked and whole", test_threads },
    };
    unsigned n = sizeof tests / sizeof tests[0];
    printf("1..%u\n", n);
    for (unsigned i = 0; i < n; i++) {
        int before = failures;
        tests[i].fn();
        printf("%s %u - %s\n", failures == before ? "ok" : "not ok", i + 1, tests[i].name);
        fflush(stdout);
    }
    return failures ? 1 : 0;
}
