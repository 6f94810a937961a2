/* test_default.c - host-only cmocka tests of the default heap (mem_*): it grows by mapping
 * regions, gives a request larger than a step its own region and unmaps it when freed, prints
 * mem_dump on stdout, places aligned blocks by the rule up to 1 MiB, and stays exact while
 * several threads hammer it. KHEAP_STRESS sets the threads' total number of operations. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "../cases/case_util.h"
#include "harness.h"
#include "mem.h"

#define STEP ((size_t)4 << 20) /* host/seam.c grows the heap by at least this much */

static struct mem_stats stats(void)
{
    struct mem_stats s;
    mem_stats(&s);
    return s;
}

/* Fill a block with a pattern that depends on every byte's offset and a tag. */
static void fill(unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(tag + i * 131 + (i >> 8));
}

static int filled(const unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(tag + i * 131 + (i >> 8)))
            return 0;
    return 1;
}

/* ---- Misuse, named by its cause ----------------------------------------------------------- */

/* Runs misuse `which` in a child with the default handler, which must print exactly one line
 * on stderr, starting "kheap: <want>", and abort. */
static void misuse_child(int which)
{
    unsigned char *p = mem_alloc(100), *q;
    if (!p)
        _exit(3);
    switch (which) {
    case 0:                                  /* free twice */
        mem_free(p);
        mem_free(p);
        break;
    case 1:                                  /* realloc of a freed pointer */
        mem_free(p);
        q = mem_realloc(p, 200);
        (void)q;
        break;
    case 2:                                  /* usable_size of a freed pointer */
        mem_free(p);
        (void)mem_usable_size(p);
        break;
    case 3:                                  /* an address never handed out, in free memory */
        mem_free(p + 4096);
        break;
    case 4: {                                /* 8 MiB: its own region, unmapped when freed */
        unsigned char *big = mem_alloc((size_t)8 << 20);
        if (!big)
            _exit(3);
        mem_free(big);
        mem_free(big);
        break;
    }
    }
    _exit(0);                                /* not reported: the parent sees status 0 */
}

static void test_causes(void **state)
{
    (void)state;
    static const char *const want[] = {
        "kheap: double free (the block is free already) at 0x",
        "kheap: use of a freed pointer (the block is free) at 0x",
        "kheap: use of a freed pointer (the block is free) at 0x",
        "kheap: pointer into free memory (never handed out, or freed and merged) at 0x",
        "kheap: pointer into memory the heap returned (its block was freed already) at 0x",
    };
    for (int i = 0; i < (int)(sizeof want / sizeof *want); i++) {
        int fd[2];
        assert_int_equal(pipe(fd), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            dup2(fd[1], 2);
            close(fd[0]);
            misuse_child(i);
        }
        close(fd[1]);
        char out[512];
        size_t n = 0;
        ssize_t got;
        while (n < sizeof out - 1 && (got = read(fd[0], out + n, sizeof out - 1 - n)) > 0)
            n += (size_t)got;
        out[n] = 0;
        close(fd[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (strncmp(out, want[i], strlen(want[i])) || strchr(out, '\n') != out + n - 1)
            print_error("case %d: stderr was \"%s\", wanted one line \"%s...\"\n", i, out, want[i]);
        assert_true(strncmp(out, want[i], strlen(want[i])) == 0);
        assert_true(n > 0 && strchr(out, '\n') == out + n - 1);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    }
}

/* ---- Simple edges --------------------------------------------------------------------- */

static void test_edges(void **state)
{
    (void)state;
    struct mem_stats before = stats(), after;
    mem_free(NULL);
    assert_null(mem_alloc(0));
    assert_null(mem_alloc(SIZE_MAX));
    assert_null(mem_alloc(SIZE_MAX / 2));
    assert_null(mem_aligned_alloc(SIZE_MAX / 2 + 1, 16));
    assert_null(mem_aligned_alloc(48, 16));
    assert_null(mem_calloc(SIZE_MAX / 2 + 1, 2));
    assert_null(mem_aligned_alloc(0, 16));
    assert_null(mem_aligned_alloc(SIZE_MAX / 2 + 1, SIZE_MAX / 2));  /* size + align wraps */
    assert_null(mem_realloc(NULL, SIZE_MAX - 8));
    assert_int_equal(mem_usable_size(NULL), 0);
    after = stats();
    if (after.region_count != before.region_count)
        printf("# refused requests mapped %zu new region(s)\n", after.region_count - before.region_count);
    assert_int_equal(after.region_count, before.region_count);  /* nothing was mapped for them */
    assert_true(stats_state_equal(&before, &after));
    assert_int_equal(after.failed_count, before.failed_count + 9);
    assert_int_equal(after.error_count, before.error_count);
    assert_int_equal(mem_check(), 0);
}

/* realloc(NULL, n) is alloc(n), growing the heap when it must. */
static void test_realloc_null_grows(void **state)
{
    (void)state;
    struct mem_stats before = stats();
    size_t n = before.largest_free + STEP / 2;  /* more than any free block holds */
    unsigned char *p = mem_realloc(NULL, n);
    assert_non_null(p);
    assert_true(mem_usable_size(p) >= n);
    p[n - 1] = 7;
    mem_free(p);
    assert_int_equal(mem_check(), 0);
    assert_int_equal(stats().used_blocks, before.used_blocks);
}

/* calloc hands out zeroes: from a fresh region, over memory freed dirty, and over the tail a
 * realloc grew into, dirtied and gave back. */
static void test_calloc_default(void **state)
{
    (void)state;
    const size_t big = STEP + 4096, mid = 200000;
    unsigned char *p = mem_calloc(1, big);  /* a region of its own, fresh from mmap */
    assert_non_null(p);
    assert_true(all_bytes(p, big, 0));
    mem_free(p);

    p = mem_alloc(mid);
    assert_non_null(p);
    memset(p, 0xAB, mid);
    mem_free(p);
    unsigned char *q = mem_calloc(mid / 8, 8);
    assert_non_null(q);
    assert_true(all_bytes(q, mid, 0));
    mem_free(q);

    p = mem_alloc(64);
    assert_non_null(p);
    p = mem_realloc(p, mid);
    assert_non_null(p);
    memset(p, 0xCD, mid);
    p = mem_realloc(p, 64);  /* the dirty tail goes back to the heap */
    assert_non_null(p);
    q = mem_calloc(1, mid / 2);
    assert_non_null(q);
    assert_true(all_bytes(q, mid / 2, 0));
    mem_free(q);
    mem_free(p);
    assert_int_equal(mem_check(), 0);
}

/* ---- Growth ----------------------------------------------------------------------------- */

static void test_growth(void **state)
{
    (void)state;
    enum { MAXB = 512, SIZE = 64 * 1024 };
    static unsigned char *p[MAXB];
    struct mem_stats before = stats(), mid, after;
    /* more than the heap has free now plus two steps: it must map at least two regions */
    size_t count = (before.free_bytes + 2 * STEP) / SIZE + 2;
    assert_true(count <= MAXB);
    for (size_t i = 0; i < count; i++) {
        p[i] = mem_alloc(SIZE);
        assert_non_null(p[i]);
        assert_true(ALIGNED(p[i], MEM_ALIGN));
        fill(p[i], SIZE, (uint32_t)i);
    }
    mid = stats();
    printf("# growth: %zu blocks of 64 KiB, regions %zu -> %zu\n", count, before.region_count,
           mid.region_count);
    assert_true(mid.region_count >= before.region_count + 2);
    assert_true(mid.total_bytes >= count * SIZE);
    assert_int_equal(mid.used_blocks, before.used_blocks + count);
    assert_int_equal(mem_check(), 0);
    for (size_t i = 0; i < count; i++) {
        assert_true(filled(p[i], SIZE, (uint32_t)i));
        mem_free(p[i]);
    }
    after = stats();
    assert_int_equal(after.used_blocks, before.used_blocks);
    assert_int_equal(after.used_bytes, before.used_bytes);
    assert_int_equal(after.free_bytes + after.used_bytes, after.total_bytes);
    assert_int_equal(mem_check(), 0);
}

/* A request larger than a step gets a region of its own, unmapped again when freed. */
static void test_own_region(void **state)
{
    (void)state;
    mem_free(mem_alloc(1));  /* the heap has its first region */
    struct mem_stats before = stats(), mid, after;
    const size_t big = 3 * STEP + 12345;
    unsigned char *p = mem_alloc(big);
    assert_non_null(p);
    mid = stats();
    assert_int_equal(mid.region_count, before.region_count + 1);
    assert_true(mem_usable_size(p) >= big);
    p[0] = 1;
    p[big - 1] = 2;
    assert_int_equal(mem_check(), 0);
    /* an aligned one as well */
    unsigned char *q = mem_aligned_alloc(1 << 20, big);
    assert_non_null(q);
    assert_true(ALIGNED(q, 1 << 20));
    assert_int_equal(stats().region_count, before.region_count + 2);
    mem_free(q);
    assert_int_equal(stats().region_count, before.region_count + 1);
    assert_true(p[0] == 1 && p[big - 1] == 2);
    mem_free(p);
    after = stats();
    assert_int_equal(after.region_count, before.region_count);
    assert_int_equal(after.total_bytes, before.total_bytes);
    assert_true(stats_state_equal(&before, &after));
    assert_int_equal(mem_check(), 0);
}

/* ---- The page after each region ------------------------------------------------------------ */

struct dumped { char text[1 << 16]; size_t n; };

static void dump_sink(void *ctx, const char *text, size_t len)
{
    struct dumped *d = ctx;
    if (d->n + len < sizeof d->text) {
        memcpy(d->text + d->n, text, len);
        d->n += len;
    }
}

/* The perms of the mapping that holds address a in /proc/self/maps ("" if none). */
static const char *perms_at(uintptr_t a, char out[8])
{
    FILE *f = fopen("/proc/self/maps", "r");
    unsigned long lo, hi;
    char perms[8];
    out[0] = 0;
    while (f && fscanf(f, "%lx-%lx %7s%*[^\n]", &lo, &hi, perms) == 3)
        if (a >= lo && a < hi) {
            strcpy(out, perms);
            break;
        }
    if (f)
        fclose(f);
    return out;
}

/* Every region the host maps is followed by a page with no access (host/seam.c): an overrun past
 * a region's last block faults at once, where it happens, instead of running into the region
 * mmap placed just above it. Two step regions at least, then a write one byte past the end of
 * one of them, in a child: it must die of SIGSEGV. */
static void test_region_guard_page(void **state)
{
    (void)state;
    enum { MAXB = 256, SIZE = 256 * 1024 };
    static void *p[MAXB];
    size_t count = (stats().free_bytes + 2 * STEP) / SIZE + 2;
    assert_true(count <= MAXB);
    for (size_t i = 0; i < count; i++)
        assert_non_null(p[i] = mem_alloc(SIZE));
    static struct dumped d;
    d.n = 0;
    unsigned long st = mem_lock();
    heap_dump(mem_heap(), dump_sink, &d);
    mem_unlock(st);
    d.text[d.n] = 0;
    int regions = 0;
    uintptr_t a_step_end = 0;
    for (const char *line = d.text; (line = strstr(line, "region ")) != NULL; line++) {
        unsigned long base, size;
        if (sscanf(line, "region %*u at 0x%lx size %lu", &base, &size) != 2)
            continue;
        uintptr_t end = ((uintptr_t)base + size + 4095) & ~(uintptr_t)4095;
        char perms[8];
        if (strcmp(perms_at(end, perms), "---p"))
            print_error("region at 0x%lx, %lu bytes: the page after it is \"%s\", not ---p\n", base, size, perms);
        assert_string_equal(perms, "---p");
        if (size == STEP)
            a_step_end = (uintptr_t)base + size;
        regions++;
    }
    printf("# guard pages: %d regions, each followed by a page with no access\n", regions);
    assert_true(regions >= 2 && a_step_end);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);                       /* cmocka's handler would catch it */
        *(volatile unsigned char *)a_step_end = 1;     /* one byte past the region's last block */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    for (size_t i = 0; i < count; i++)
        mem_free(p[i]);
    assert_int_equal(mem_check(), 0);
}

/* A buffer grown by realloc in small steps far past a step (the way a program reads a file of
 * unknown length): the data stays, the old regions go back as the block moves, and the block
 * moves only a few times (its region grows in place), not once per step. */
static void test_realloc_growth(void **state)
{
    (void)state;
    mem_free(mem_alloc(1));
    struct mem_stats before = stats(), s;
    const size_t grow = 64 << 10, top = 6 * STEP;
    unsigned char *p = NULL;
    size_t n = 0, moves = 0, most_regions = 0, most_total = 0;
    while (n < top) {
        unsigned char *q = mem_realloc(p, n + grow);
        assert_non_null(q);
        if (p && q != p)
            moves++;
        fill(q + n, grow, (uint32_t)n);
        p = q;
        n += grow;
        s = stats();
        if (s.region_count > most_regions)
            most_regions = s.region_count;
        if (s.total_bytes > most_total)
            most_total = s.total_bytes;
    }
    assert_null(mem_realloc(p, SIZE_MAX / 4));                 /* too big: p stays as it was */
    for (size_t off = 0; off < n; off += grow)
        assert_true(filled(p + off, grow, (uint32_t)off));
    printf("# realloc growth to %zu bytes in %zu-byte steps: %zu moves, at most %zu regions, "
           "%zu bytes\n", n, grow, moves, most_regions, most_total);
    assert_true(moves <= 8);                                   /* 384 steps: not one per step */
    assert_true(most_regions <= before.region_count + 2);      /* old regions went back */
    assert_true(most_total <= before.total_bytes + 3 * top);
    assert_int_equal(mem_check(), 0);
    mem_free(p);
    s = stats();
    assert_true(stats_state_equal(&before, &s));
}

/* realloc moves an aligned block with the alignment of its address (heap.c); when no region
 * holds the new size, the heap must grow by enough for that alignment too. */
static void test_realloc_aligned_grows(void **state)
{
    (void)state;
    mem_free(mem_alloc(1));
    struct mem_stats before = stats(), after;
    const size_t align = (size_t)1 << 20;
    unsigned char *p = mem_aligned_alloc(align, 1000);
    assert_non_null(p);
    fill(p, 1000, 5);
    uintptr_t lowbit = (uintptr_t)p & -(uintptr_t)p;
    unsigned char *q = mem_realloc(p, 3 * STEP);             /* larger than any region */
    assert_non_null(q);
    assert_true(ALIGNED(q, lowbit));
    assert_true(filled(q, 1000, 5));
    assert_int_equal(mem_check(), 0);
    mem_free(q);
    after = stats();
    assert_true(stats_state_equal(&before, &after));
}

/* Large blocks come and go in regions of their own: each round's calloc is zero whatever the
 * previous round left, realloc still grows the region, and every region goes back. */
static void test_big_reuse(void **state)
{
    (void)state;
    mem_free(mem_alloc(1));
    struct mem_stats before = stats(), after;
    const size_t big = 2 * STEP + 4096;
    for (int round = 0; round < 3; round++) {
        unsigned char *p = mem_alloc(big);
        assert_non_null(p);
        memset(p, 0xAB, big);
        mem_free(p);
        unsigned char *z = mem_calloc(1, big);
        assert_non_null(z);
        assert_true(all_bytes(z, big, 0));
        memset(z, 0xCD, big);
        unsigned char *g = mem_realloc(z, big + STEP);
        assert_non_null(g);
        assert_true(all_bytes(g, big, 0xCD));
        mem_free(g);
        assert_int_equal(mem_check(), 0);
    }
    after = stats();
    assert_true(stats_state_equal(&before, &after));
}

/* ---- mem_dump on stdout --------------------------------------------------------------------- */

/* Run mem_dump with fd 1 redirected to a temporary file; returns the text (malloc'd). */
static char *capture_dump(void)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stdout);
    int saved = dup(1);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 1) >= 0);
    mem_dump();
    assert_true(dup2(saved, 1) >= 0);
    close(saved);
    off_t len = lseek(fileno(tmp), 0, SEEK_END);  /* mem_dump wrote to the fd, not the FILE */
    assert_true(len > 0);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(pread(fileno(tmp), text, (size_t)len, 0), len);
    text[len] = 0;
    fclose(tmp);
    return text;
}

static void test_dump(void **state)
{
    (void)state;
    void *p[20];
    for (int i = 0; i < 20; i++)
        assert_non_null(p[i] = mem_alloc(100 + 37 * (size_t)i));
    for (int i = 0; i < 20; i += 4)
        mem_free(p[i]);
    struct mem_stats s = stats();
    char *text = capture_dump();
    size_t used = 0, free_lines = 0, pads = 0, regions = 0, free_bytes = 0, used_bytes = 0;
    int summaries = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long long addr, off, bytes;
        char kind[8];
        if (strncmp(line, "region ", 7) == 0) {
            regions++;
        } else if (strncmp(line, "summary:", 8) == 0) {
            unsigned long long r, t, u, f, l, ub, fb;
            char check[16];
            double frag;
            summaries++;
            assert_int_equal(sscanf(line, "summary: regions %llu total %llu used %llu free %llu "
                                    "largest %llu used_blocks %llu free_blocks %llu "
                                    "fragmentation %lf%% check %15s",
                                    &r, &t, &u, &f, &l, &ub, &fb, &frag, check), 9);
            assert_int_equal(r, s.region_count);
            assert_int_equal(t, s.total_bytes);
            assert_int_equal(u, s.used_bytes);
            assert_int_equal(f, s.free_bytes);
            assert_int_equal(l, s.largest_free);
            assert_int_equal(ub, s.used_blocks);
            assert_int_equal(fb, s.free_blocks);
            assert_true(frag >= 0 && frag <= 100);
            assert_string_equal(check, "ok");
        } else {
            assert_int_equal(sscanf(line, " 0x%llx +0x%llx %7s %llu bytes", &addr, &off, kind, &bytes), 4);
            assert_int_equal(bytes % MEM_ALIGN, 0);
            if (strcmp(kind, "used") == 0) {
                used++;
                used_bytes += bytes;
            } else if (strcmp(kind, "free") == 0) {
                free_lines++;
                free_bytes += bytes;
            } else {
                assert_string_equal(kind, "pad");
                pads++;
                used_bytes += bytes;
            }
        }
    }
    free(text);
    assert_int_equal(summaries, 1);
    assert_int_equal(regions, s.region_count);
    assert_int_equal(used, s.used_blocks);
    assert_int_equal(free_lines, s.free_blocks);
    assert_int_equal(used_bytes, s.used_bytes);
    assert_int_equal(free_bytes, s.free_bytes);
    for (int i = 0; i < 20; i++)
        if (i % 4)
            mem_free(p[i]);
    assert_int_equal(mem_check(), 0);
}

/* ---- aligned_alloc to 1 MiB ---------------------------------------------------------------- */

static struct walk default_walk;

/* The block the placement rule picks in the default heap now, or 0 if none fits. */
static uintptr_t predict_aligned(size_t align, size_t n)
{
    size_t need = t_block_size(n) + (align > MEM_ALIGN ? align - MEM_ALIGN : 0);
    unsigned long lock = mem_lock();
    walk_take(mem_heap(), &default_walk);
    mem_unlock(lock);
    if (default_walk.overflow)
        return 0;
    for (size_t i = 0; i < default_walk.n; i++)
        if (!default_walk.b[i].used && default_walk.b[i].size + T_WORD >= need)
            return align > MEM_ALIGN ? t_align_up(default_walk.b[i].ptr, align) : default_walk.b[i].ptr;
    return 0;
}

static void test_aligned_default(void **state)
{
    (void)state;
    unsigned predicted = 0;
    for (size_t align = 1; align <= ((size_t)1 << 20); align <<= 1) {
        size_t n = 100 + align / 3;
        uintptr_t want = predict_aligned(align, n);
        unsigned char *p = mem_aligned_alloc(align, n);
        assert_non_null(p);
        assert_true(ALIGNED(p, align) && ALIGNED(p, MEM_ALIGN));
        assert_true(mem_usable_size(p) >= n);
        if (want) {  /* it fitted without growing: the rule says exactly where */
            assert_ptr_equal(p, (void *)want);
            predicted++;
        }
        fill(p, n, (uint32_t)align);
        assert_true(filled(p, n, (uint32_t)align));
        mem_free(p);
        assert_int_equal(mem_check(), 0);
    }
    assert_true(predicted > 10);
}

/* The shared sweep, to 1 MiB, over a 4 MiB instance heap. */
static void test_aligned_instance_1mib(void **state)
{
    (void)state;
    static _Alignas(64) unsigned char arena[4u << 20];
    harness_reset();
    aligned_sweep(arena, sizeof arena, (size_t)1 << 20);
    assert_int_equal(harness_failures, 0);
}

/* ---- Threads ------------------------------------------------------------------------------ */

#define THREADS 8
#define TSLOTS  64

struct worker {
    pthread_t thread;
    unsigned id;
    unsigned long ops;
    unsigned long bad;        /* bytes found changed, or calls that misbehaved */
    unsigned long allocs, frees, failed;
};

static void worker_slot_check(struct worker *w, unsigned char *p, size_t n, uint32_t tag)
{
    if (!filled(p, n, tag))
        w->bad++;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct rng r;
    unsigned char *p[TSLOTS] = { 0 };
    size_t size[TSLOTS] = { 0 };
    uint32_t tag[TSLOTS] = { 0 };
    rng_seed(&r, 0x7e57u + w->id * 7919u);
    for (unsigned long op = 0; op < w->ops; op++) {
        unsigned i = rng_below(&r, TSLOTS);
        uint32_t t = (w->id << 24) ^ (uint32_t)op;
        size_t n = rng_below(&r, 16) == 0 ? 1 + rng_below(&r, 65536) : 1 + rng_below(&r, 512);
        if (!p[i]) {
            unsigned kind = rng_below(&r, 8);
            unsigned char *q = kind == 0 ? mem_calloc(1, n)
                             : kind == 1 ? mem_aligned_alloc((size_t)64 << rng_below(&r, 6), n)
                             : mem_alloc(n);
            if (!q) {
                w->failed++;
                continue;
            }
            if (kind == 0 && !all_bytes(q, n, 0))
                w->bad++;
            if (!ALIGNED(q, MEM_ALIGN) || mem_usable_size(q) < n)
                w->bad++;
            fill(q, n, t);
            p[i] = q, size[i] = n, tag[i] = t;
            w->allocs++;
        } else if (rng_below(&r, 3) == 0) {
            worker_slot_check(w, p[i], size[i], tag[i]);
            unsigned char *q = mem_realloc(p[i], n);
            if (!q) {
                w->failed++;
                continue;
            }
            size_t keep = n < size[i] ? n : size[i];
            worker_slot_check(w, q, keep, tag[i]);
            fill(q, n, t);
            p[i] = q, size[i] = n, tag[i] = t;
        } else {
            worker_slot_check(w, p[i], size[i], tag[i]);
            mem_free(p[i]);
            p[i] = NULL;
            w->frees++;
        }
    }
    for (unsigned i = 0; i < TSLOTS; i++)
        if (p[i]) {
            worker_slot_check(w, p[i], size[i], tag[i]);
            mem_free(p[i]);
            w->frees++;
        }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    const char *env = getenv("KHEAP_STRESS");
    unsigned long total = env && atol(env) > 0 ? (unsigned long)atol(env) : 200000;
    struct worker w[THREADS];
    struct mem_stats before = stats(), after;
    printf("# threads: %d x %lu operations (KHEAP_STRESS=%lu)\n", THREADS, total / THREADS, total);
    for (unsigned i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i + 1;
        w[i].ops = total / THREADS;
        assert_int_equal(pthread_create(&w[i].thread, NULL, worker_run, &w[i]), 0);
    }
    unsigned long allocs = 0, frees = 0, bad = 0, failed = 0;
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
        allocs += w[i].allocs;
        frees += w[i].frees;
        bad += w[i].bad;
        failed += w[i].failed;
    }
    after = stats();
    printf("# threads: %lu allocs, %lu frees, %lu failed, %lu bad\n", allocs, frees, failed, bad);
    assert_int_equal(bad, 0);
    assert_int_equal(failed, 0);
    assert_int_equal(allocs, frees);
    assert_int_equal(mem_check(), 0);
    assert_int_equal(after.used_blocks, before.used_blocks);
    assert_int_equal(after.used_bytes, before.used_bytes);
    assert_int_equal(after.total_bytes, after.used_bytes + after.free_bytes);
    assert_int_equal(after.error_count, before.error_count);
    assert_int_equal(after.failed_count, before.failed_count);
    /* every allocation and every free the threads made was counted (realloc that moved counts
     * as both, so the two counters grew by the same amount) */
    assert_true(after.alloc_count - before.alloc_count >= allocs);
    assert_int_equal(after.alloc_count - before.alloc_count, after.free_count - before.free_count);
    assert_true(after.peak_used_bytes >= before.peak_used_bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_realloc_null_grows),
        cmocka_unit_test(test_calloc_default),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_own_region),
        cmocka_unit_test(test_region_guard_page),
        cmocka_unit_test(test_causes),
        cmocka_unit_test(test_realloc_growth),
        cmocka_unit_test(test_realloc_aligned_grows),
        cmocka_unit_test(test_big_reuse),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_aligned_default),
        cmocka_unit_test(test_aligned_instance_1mib),
        cmocka_unit_test(test_threads),
    };
    harness_setup();
    return cmocka_run_group_tests_name("kheap default heap (host)", tests, NULL, NULL) ? 1 : 0;
}
