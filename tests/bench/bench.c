/* bench.c - one allocator benchmark, built once per allocator:
 *
 *   -DALLOC_KHEAP       kheap (build/host/libkheap.a, lib/ with its fast free index)
 *   -DALLOC_RBTREE      the previous design, the red-black-tree free index, frozen at commit
 *                       6dbb346 in tests/bench/rbtree/ (compiled with -Itests/bench/rbtree only)
 *   -DALLOC_LIST        lib/ with the sorted-list index (libkheap-list.a): kheap's own O(n)
 *                       reference first fit, same block format
 *   -DALLOC_TEXTBOOK=A  the textbook first fit of textbook.c (size word per block, sorted
 *                       singly linked free list), payload alignment A = 8 or 16
 *   -DALLOC_GLIBC       glibc malloc/free/realloc
 *
 * kheap, rbtree and list run as one heap.h instance, the textbook allocator as its one
 * instance, over a 2 GiB arena reserved with mmap (MAP_NORESERVE: only the pages touched are
 * paid for), so nothing else shares the heap. One process runs one workload in one mode and
 * prints one line of key=value pairs; the driver (run.py) runs the binaries interleaved and
 * repeated and makes the table.
 *
 *   bench-X time  WORKLOAD [options]   ns per alloc+free pair: the thread's CPU time (and the
 *                                      wall time) around the measured phase only, no
 *                                      per-operation timers
 *   bench-X lat   WORKLOAD [options]   every operation timed alone with the TSC (p50, p99,
 *                                      max), and the space figures (peak live, peak extent)
 *   bench-X count WORKLOAD [options]   no timers at all: the loop callgrind counts
 *
 * WORKLOAD is one of
 *   churn:N      fill to N live blocks (16-512 B, uniform), then --pairs times free a random
 *                live block and allocate a new one in its place; only the pairs are measured
 *   mixed:N      the same with sizes log-uniform over 8 B - 64 KiB
 *   frag         rounds of: small and large blocks interleaved, free every large one, allocate
 *                mid sizes into the holes, keep half the survivors for a random lifetime
 *   trace:FILE   replay a CS:APP malloc-lab trace (.rep or .rep.gz): a, r, f
 *
 * Options: --pairs M (churn/mixed: measured pairs; frag: rounds), --warmup W (churn pairs run
 * before the measured ones), --cap S (stop the measured phase after S seconds and report what
 * ran: capped=1), --seed S, --check (all but glibc: the allocator's checker after the run, and
 * the heap must be empty after everything is freed).
 *
 * Definitions (printed by the driver, too):
 *   ops          allocations + frees + reallocs in the measured phase
 *   ns_pair      2 * measured CPU ns / ops (= ns per alloc+free pair for churn; a realloc counts
 *                as one operation). CPU time (CLOCK_THREAD_CPUTIME_ID), because on a shared
 *                machine wall time also counts the time spent waiting for a CPU; wall_ns_pair is
 *                the same from CLOCK_MONOTONIC. The cap is wall time.
 *   lat_*        one operation between `lfence; rdtsc` and `rdtscp; lfence`, minus the median
 *                cost of that empty pair of reads (measured at start), converted with the TSC
 *                frequency (calibrated against CLOCK_MONOTONIC). Churn: the measured pairs
 *                only; frag and traces: every operation.
 *   peak_live    highest sum of requested sizes live at once (over the whole run, fill included)
 *   extent       the memory the allocator needed for the blocks it handed out, at its peak.
 *                "Block end" below is payload + usable size, the highest byte the caller may use.
 *                kheap, rbtree, list (anything behind heap.h; nothing is assumed about the block
 *                format): (highest block end ever handed out - space_base) * (1 + ratio), where
 *                space_base = the first payload address heap_walk reports on the fresh heap,
 *                and ratio = overhead_bytes / total_bytes from heap_stats right after heap_init:
 *                the region's side tables (descriptor, bitmaps, end marker), charged in
 *                proportion to the part of the region used. textbook: highest block end ever
 *                handed out - the arena's start (it has no side tables). glibc: the highest
 *                chunk end ever handed out from the brk heap minus the program break at start,
 *                plus the bytes of live mmapped chunks (usable size + 16, page-rounded); the
 *                peak of that sum.
 *   eff          peak_live / peak extent
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(ALLOC_KHEAP) || defined(ALLOC_LIST) || defined(ALLOC_RBTREE)
#define HEAP_API 1 /* an instance of heap.h: lib/'s, or tests/bench/rbtree/'s for ALLOC_RBTREE */
#include "heap.h"
#elif defined(ALLOC_TEXTBOOK)
#include "textbook.h"
#elif defined(ALLOC_GLIBC)
#include <malloc.h>
#else
#error "build with -DALLOC_KHEAP, -DALLOC_RBTREE, -DALLOC_LIST, -DALLOC_TEXTBOOK=8|16 or -DALLOC_GLIBC"
#endif

/* ---- Small helpers ---------------------------------------------------------------------- */

static _Noreturn void die(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    if (write(2, "bench: ", 7) < 0 || write(2, line, (size_t)n) < 0)
        _exit(2);
    _exit(2);
}

/* All the harness's own memory comes from mmap, so glibc's heap holds only the workload. */
static void *xmap(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        die("mmap of %zu bytes failed: %s", bytes, strerror(errno));
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static uint64_t cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

/* splitmix64: small, fast, and the same sequence for every allocator. */
static uint64_t rng_state;
static inline uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline size_t rng_below(size_t n) { return (size_t)(((unsigned __int128)rng() * n) >> 64); }
static inline size_t rng_range(size_t lo, size_t hi) { return lo + rng_below(hi - lo + 1); }
static inline size_t size_uniform(void) { return rng_range(16, 512); }
static inline size_t size_logu(void) /* log-uniform over [8, 65536] */
{
    double u = (double)(rng() >> 11) * (1.0 / 9007199254740992.0);
    size_t s = (size_t)exp2(3.0 + 13.0 * u);
    return s < 8 ? 8 : s > 65536 ? 65536 : s;
}

/* ---- Cycle counter ------------------------------------------------------------------------ */

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t tsc_begin(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t tsc_end(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi)::"rcx", "memory");
    return ((uint64_t)hi << 32) | lo;
}
#define TIMER_NAME "tsc"
#else
static inline uint64_t tsc_begin(void) { return now_ns(); }
static inline uint64_t tsc_end(void) { return now_ns(); }
#define TIMER_NAME "clock_gettime"
#endif

static double tsc_per_ns = 1.0;
static uint64_t tsc_overhead, tsc_step;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The timer's own cost (median of back-to-back reads) and its rate against the clock. */
static void tsc_calibrate(void)
{
    enum { SAMPLES = 20001 };
    static uint32_t d[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t a = tsc_begin();
        uint64_t b = tsc_end();
        d[i] = (uint32_t)(b - a);
    }
    qsort(d, SAMPLES, sizeof d[0], cmp_u32);
    tsc_overhead = d[SAMPLES / 2];
    tsc_step = UINT64_MAX; /* the smallest step between two reads that differ */
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t a = tsc_begin(), b;
        while ((b = tsc_begin()) == a)
            ;
        if (b - a < tsc_step)
            tsc_step = b - a;
    }

    uint64_t n0 = now_ns(), t0 = tsc_begin(), n1;
    do
        n1 = now_ns();
    while (n1 - n0 < 20000000u);
    uint64_t t1 = tsc_end();
    tsc_per_ns = (double)(t1 - t0) / (double)(n1 - n0);
    if (tsc_per_ns <= 0)
        tsc_per_ns = 1.0;
}

/* ---- The allocator under test ------------------------------------------------------------- */

#define ARENA_BYTES ((size_t)2 << 30)
static uintptr_t space_base; /* where the extent is counted from (see the head comment) */

#if defined(HEAP_API)
#if defined(ALLOC_KHEAP)
#define ALLOC_NAME "kheap"
#elif defined(ALLOC_RBTREE)
#define ALLOC_NAME "rbtree"
#else
#define ALLOC_NAME "list"
#endif
static struct heap heap;
static char *arena;
static double side_ratio; /* side tables per byte of blocks (heap_stats), charged on the extent */

static inline void *A(size_t n) { return heap_alloc(&heap, n); }
static inline void F(void *p) { heap_free(&heap, p); }
static inline void *R(void *p, size_t n) { return heap_realloc(&heap, p, n); }
static inline size_t U(void *p) { return heap_usable_size(&heap, p); }

/* The fresh heap's first payload address (its one free block's), whatever the block format. */
static void first_payload(void *ctx, void *ptr, size_t size, int used)
{
    (void)size;
    (void)used;
    uintptr_t *first = ctx;
    if (!*first)
        *first = (uintptr_t)ptr;
}

static void alloc_setup(void)
{
    arena = xmap(ARENA_BYTES);
    int rc = heap_init(&heap, arena, ARENA_BYTES);
    if (rc)
        die("heap_init failed: %d", rc);
    heap_walk(&heap, first_payload, &space_base);
    if (!space_base)
        die("heap_walk reported no block in the fresh heap");
    struct mem_stats s;
    heap_stats(&heap, &s);
    if (!s.total_bytes)
        die("heap_stats: the fresh heap has no bytes in blocks");
    side_ratio = (double)s.overhead_bytes / (double)s.total_bytes;
}
#elif defined(ALLOC_TEXTBOOK)
#define STR_(x) #x
#define STR(x) STR_(x)
#define ALLOC_NAME "textbook" STR(ALLOC_TEXTBOOK)

static inline void *A(size_t n) { return tb_alloc(n); }
static inline void F(void *p) { tb_free(p); }
static inline void *R(void *p, size_t n) { return tb_realloc(p, n); }
static inline size_t U(void *p) { return tb_usable_size(p); }

static void alloc_setup(void)
{
    char *arena = xmap(ARENA_BYTES);
    if (tb_alignment() != (size_t)(ALLOC_TEXTBOOK))
        die("textbook.c was built with TEXTBOOK_ALIGN %zu, bench.c with ALLOC_TEXTBOOK=%d",
            tb_alignment(), ALLOC_TEXTBOOK);
    tb_init(arena, ARENA_BYTES);
    space_base = (uintptr_t)arena;
}
#else
#define ALLOC_NAME "glibc"
/* space_base: the program break before the first allocation */

static inline void *A(size_t n) { return malloc(n); }
static inline void F(void *p) { free(p); }
static inline void *R(void *p, size_t n) { return realloc(p, n); }
static inline size_t U(void *p) { return malloc_usable_size(p); }

static void alloc_setup(void) { space_base = (uintptr_t)sbrk(0); }
#endif

/* ---- One run's state ------------------------------------------------------------------------- */

enum mode { MODE_TIME, MODE_LAT, MODE_COUNT };

static struct run {
    enum mode mode;
    int recording;          /* lat mode: inside the measured phase */
    uint32_t *lat;          /* one entry per measured operation (TSC ticks, overhead included) */
    size_t nlat, lat_cap;
    uint64_t ops;           /* operations in the measured phase */
    double deadline;        /* 0: none */
    int capped;
    /* space (lat mode only) */
    size_t live, peak_live;
    uintptr_t high;         /* highest block end handed out (brk heap for glibc) */
    size_t mmapped_live;    /* glibc: bytes of live mmapped chunks */
    size_t peak_extent;
} run;

static inline int past_deadline(void) { return run.deadline > 0 && now_s() > run.deadline; }

#ifdef ALLOC_GLIBC
static inline int in_brk_heap(const void *p)
{
    return (uintptr_t)p >= space_base && (uintptr_t)p < (uintptr_t)sbrk(0);
}
static inline size_t mmapped_bytes(void *p) { return (U(p) + 16 + 4095) & ~(size_t)4095; }
#endif

static void space_after_alloc(void *p, size_t n)
{
    run.live += n;
    if (run.live > run.peak_live)
        run.peak_live = run.live;
    uintptr_t end = (uintptr_t)p + U(p);
    size_t extent;
#ifdef ALLOC_GLIBC
    if (!in_brk_heap(p))
        run.mmapped_live += mmapped_bytes(p);
    else if (end > run.high)
        run.high = end;
    extent = (run.high ? run.high - space_base : 0) + run.mmapped_live;
#else
    if (end > run.high)
        run.high = end;
    extent = run.high - space_base;
#ifdef HEAP_API
    extent += (size_t)((double)extent * side_ratio + 0.5); /* side tables, pro rata */
#endif
#endif
    if (extent > run.peak_extent)
        run.peak_extent = extent;
}

/* Called before the block goes. */
static void space_before_free(void *p, size_t n)
{
    run.live -= n;
#ifdef ALLOC_GLIBC
    if (p && !in_brk_heap(p))
        run.mmapped_live -= mmapped_bytes(p);
#else
    (void)p;
#endif
}

static inline void lat_push(uint64_t ticks)
{
    if (run.recording && run.nlat < run.lat_cap)
        run.lat[run.nlat++] = ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
}

/* The three operations, instrumented or not; `track` is a constant at every call site so the
 * time mode's loop has no trace of the lat mode's work. */
static inline __attribute__((always_inline)) void *op_alloc(size_t n, const int track)
{
    void *p;
    if (track) {
        uint64_t t0 = tsc_begin();
        p = A(n);
        uint64_t t1 = tsc_end();
        lat_push(t1 - t0);
    } else {
        p = A(n);
    }
    if (!p)
        die("allocation of %zu bytes failed", n);
    *(volatile char *)p = 1; /* touch it, as a program would */
    if (track)
        space_after_alloc(p, n);
    return p;
}

static inline __attribute__((always_inline)) void op_free(void *p, size_t n, const int track)
{
    if (track) {
        space_before_free(p, n);
        uint64_t t0 = tsc_begin();
        F(p);
        uint64_t t1 = tsc_end();
        lat_push(t1 - t0);
    } else {
        F(p);
    }
}

static inline __attribute__((always_inline)) void *op_realloc(void *p, size_t old, size_t n,
                                                              const int track)
{
    void *q;
    if (track) {
        space_before_free(p, old);
        uint64_t t0 = tsc_begin();
        q = R(p, n);
        uint64_t t1 = tsc_end();
        lat_push(t1 - t0);
    } else {
        q = R(p, n);
    }
    if (!q)
        die("realloc to %zu bytes failed", n);
    *(volatile char *)q = 1;
    if (track)
        space_after_alloc(q, n);
    return q;
}

/* ---- Workloads ------------------------------------------------------------------------------ */

struct params {
    size_t n;       /* live blocks (churn, mixed) */
    size_t pairs;   /* measured pairs (churn, mixed) or rounds (frag) */
    size_t warmup;  /* churn pairs before the measured ones */
    int logu;       /* mixed sizes */
    const char *trace;
};

static uint64_t measured_ns, measured_cpu_ns, phase_wall0, phase_cpu0;

/* Start and end of the measured phase (time mode): wall and this thread's CPU time. */
static void phase_start(void)
{
    if (run.mode == MODE_TIME) {
        phase_cpu0 = cpu_ns();
        phase_wall0 = now_ns();
    }
}
static void phase_end(void)
{
    if (run.mode == MODE_TIME) {
        measured_ns = now_ns() - phase_wall0;
        measured_cpu_ns = cpu_ns() - phase_cpu0;
    }
}

/* Steady churn: fill to n, warm up, then the measured pairs. */
static inline __attribute__((always_inline)) void churn_body(const struct params *pp, const int track)
{
    size_t n = pp->n;
    void **slot = xmap(n * sizeof *slot);
    uint32_t *size = xmap(n * sizeof *size);
#define NEXT_SIZE() (pp->logu ? size_logu() : size_uniform())
    for (size_t i = 0; i < n; i++) {
        size[i] = (uint32_t)NEXT_SIZE();
        slot[i] = op_alloc(size[i], track);
    }
    for (size_t k = 0; k < pp->warmup; k++) {
        size_t i = rng_below(n);
        op_free(slot[i], size[i], track);
        size[i] = (uint32_t)NEXT_SIZE();
        slot[i] = op_alloc(size[i], track);
    }
    run.recording = 1;
    phase_start();
    size_t k;
    for (k = 0; k < pp->pairs; k++) {
        if ((k & 31) == 0 && run.deadline > 0 && past_deadline()) {
            run.capped = 1;
            break;
        }
        size_t i = rng_below(n);
        op_free(slot[i], size[i], track);
        size[i] = (uint32_t)NEXT_SIZE();
        slot[i] = op_alloc(size[i], track);
    }
    phase_end();
    run.recording = 0;
    run.ops = 2 * k;
#undef NEXT_SIZE
    for (size_t i = 0; i < n; i++)
        op_free(slot[i], size[i], track);
}

/* Fragmenting pattern, per round of K: K small (16-64 B) and K large (1-8 KiB) interleaved,
 * free all the large ones, K mid sizes (256 B-3 KiB) into the holes, then each small and mid
 * block is freed at once (half of them) or parked in a pool of P survivors, where it replaces
 * (and frees) a random earlier survivor. */
static inline __attribute__((always_inline)) void frag_body(const struct params *pp, const int track)
{
    enum { K = 1000, P = 20000 };
    void **small = xmap(K * sizeof(void *)), **large = xmap(K * sizeof(void *)),
         **mid = xmap(K * sizeof(void *)), **pool = xmap(P * sizeof(void *));
    uint32_t *ssz = xmap(K * 4), *lsz = xmap(K * 4), *msz = xmap(K * 4), *psz = xmap(P * 4);
    uint64_t ops = 0;
    run.recording = 1;
    phase_start();
    for (size_t round = 0; round < pp->pairs; round++) {
        if (run.deadline > 0 && past_deadline()) {
            run.capped = 1;
            break;
        }
        for (size_t i = 0; i < K; i++) {
            ssz[i] = (uint32_t)rng_range(16, 64);
            small[i] = op_alloc(ssz[i], track);
            lsz[i] = (uint32_t)rng_range(1024, 8192);
            large[i] = op_alloc(lsz[i], track);
        }
        for (size_t i = 0; i < K; i++)
            op_free(large[i], lsz[i], track);
        for (size_t i = 0; i < K; i++) {
            msz[i] = (uint32_t)rng_range(256, 3072);
            mid[i] = op_alloc(msz[i], track);
        }
        ops += 4 * K;
        for (size_t i = 0; i < 2 * K; i++) {
            void *p = i < K ? small[i] : mid[i - K];
            uint32_t s = i < K ? ssz[i] : msz[i - K];
            if (rng() & 1) {
                op_free(p, s, track);
                ops++;
            } else {
                size_t j = rng_below(P);
                if (pool[j]) {
                    op_free(pool[j], psz[j], track);
                    ops++;
                }
                pool[j] = p;
                psz[j] = s;
            }
        }
    }
    phase_end();
    run.recording = 0;
    run.ops = ops;
    for (size_t j = 0; j < P; j++)
        if (pool[j])
            op_free(pool[j], psz[j], track);
}

/* A trace in memory. */
static struct trace {
    size_t nops, nids;
    uint8_t *kind;  /* 'a', 'r', 'f' */
    uint32_t *id, *size;
} tr;

static size_t read_all(const char *path, char **out)
{
    int gz = strlen(path) > 3 && strcmp(path + strlen(path) - 3, ".gz") == 0;
    int fd, pfd[2];
    pid_t pid = -1;
    if (gz) {
        if (pipe(pfd))
            die("pipe: %s", strerror(errno));
        pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            dup2(pfd[1], 1);
            close(pfd[0]);
            close(pfd[1]);
            execlp("gzip", "gzip", "-dc", path, (char *)NULL);
            _exit(127);
        }
        close(pfd[1]);
        fd = pfd[0];
    } else {
        fd = open(path, O_RDONLY);
        if (fd < 0)
            die("%s: %s", path, strerror(errno));
    }
    size_t cap = (size_t)1 << 30, len = 0; /* reserved, touched only as far as it is read */
    char *buf = xmap(cap);
    for (;;) {
        if (len == cap - 1)
            die("%s: larger than %zu bytes", path, cap);
        ssize_t got = read(fd, buf + len, cap - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            die("%s: %s", path, strerror(errno));
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    if (gz) {
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            die("%s: gzip -dc failed", path);
    }
    buf[len] = 0;
    *out = buf;
    return len;
}

static uint64_t parse_num(char **pp)
{
    char *p = *pp;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p < '0' || *p > '9')
        die("trace: number expected near \"%.20s\"", p);
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9')
        v = v * 10 + (uint64_t)(*p++ - '0');
    *pp = p;
    return v;
}

static void trace_load(const char *path)
{
    char *text;
    read_all(path, &text);
    char *p = text;
    parse_num(&p);                 /* suggested heap size */
    tr.nids = parse_num(&p);
    tr.nops = parse_num(&p);
    parse_num(&p);                 /* weight */
    tr.kind = xmap(tr.nops);
    tr.id = xmap(tr.nops * 4);
    tr.size = xmap(tr.nops * 4);
    for (size_t i = 0; i < tr.nops; i++) {
        while (*p == ' ' || *p == '\r' || *p == '\n')
            p++;
        char k = *p++;
        if (k != 'a' && k != 'r' && k != 'f')
            die("%s: op %zu: unknown kind '%c'", path, i, k);
        tr.kind[i] = (uint8_t)k;
        uint64_t id = parse_num(&p);
        if (id >= tr.nids)
            die("%s: op %zu: id %llu out of range", path, i, (unsigned long long)id);
        tr.id[i] = (uint32_t)id;
        if (k != 'f') {
            uint64_t s = parse_num(&p);
            if (s > UINT32_MAX)
                die("%s: op %zu: size too large", path, i);
            tr.size[i] = s ? (uint32_t)s : 1; /* malloc(0) is replayed as 1 byte everywhere */
        }
    }
    munmap(text, (size_t)1 << 30);
}

static inline __attribute__((always_inline)) void trace_body(const struct params *pp, const int track)
{
    (void)pp;
    void **ptr = xmap(tr.nids * sizeof(void *));
    uint32_t *size = xmap(tr.nids * 4);
    run.recording = 1;
    phase_start();
    size_t i;
    for (i = 0; i < tr.nops; i++) {
        if ((i & 63) == 0 && run.deadline > 0 && past_deadline()) {
            run.capped = 1;
            break;
        }
        uint32_t id = tr.id[i];
        switch (tr.kind[i]) {
        case 'a':
            ptr[id] = op_alloc(tr.size[i], track);
            size[id] = tr.size[i];
            break;
        case 'r':
            ptr[id] = ptr[id] ? op_realloc(ptr[id], size[id], tr.size[i], track)
                              : op_alloc(tr.size[i], track);
            size[id] = tr.size[i];
            break;
        default:
            if (ptr[id])
                op_free(ptr[id], size[id], track);
            ptr[id] = NULL;
            size[id] = 0;
            break;
        }
    }
    phase_end();
    run.recording = 0;
    run.ops = i;
    if (run.capped) /* leave the heap clean for --check */
        for (size_t j = 0; j < tr.nids; j++)
            if (ptr[j])
                op_free(ptr[j], size[j], track);
}

/* Each body twice: plain (time, count) and instrumented (lat). */
#define VARIANTS(name)                                                                             \
    static __attribute__((noinline)) void name##_plain(const struct params *p) { name##_body(p, 0); } \
    static __attribute__((noinline)) void name##_track(const struct params *p) { name##_body(p, 1); }
VARIANTS(churn)
VARIANTS(frag)
VARIANTS(trace)

/* ---- Main ------------------------------------------------------------------------------------ */

static uint32_t pct(const uint32_t *sorted, size_t n, double q)
{
    if (!n)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i];
}

static double ticks_ns(uint32_t t)
{
    double c = (double)t - (double)tsc_overhead;
    return c < 0 ? 0 : c / tsc_per_ns;
}

static _Noreturn void usage(void)
{
    die("usage: bench-" ALLOC_NAME " time|lat|count churn:N|mixed:N|frag|trace:FILE "
        "[--pairs M] [--warmup W] [--cap SECONDS] [--seed S] [--check]");
}

int main(int argc, char **argv)
{
    alloc_setup(); /* first: glibc's break is read before anything could allocate */
    if (argc < 3)
        usage();
    struct params pp = { 0 };
    uint64_t seed = 12345;
    double cap = 0;
    int check = 0;
    const char *mode = argv[1], *wl = argv[2];
    if (!strcmp(mode, "time"))
        run.mode = MODE_TIME;
    else if (!strcmp(mode, "lat"))
        run.mode = MODE_LAT;
    else if (!strcmp(mode, "count"))
        run.mode = MODE_COUNT;
    else
        usage();
    int have_pairs = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) {
            check = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--pairs")) {
            pp.pairs = strtoull(v, NULL, 10);
            have_pairs = 1;
        } else if (!strcmp(argv[i - 1], "--warmup"))
            pp.warmup = strtoull(v, NULL, 10);
        else if (!strcmp(argv[i - 1], "--cap"))
            cap = strtod(v, NULL);
        else if (!strcmp(argv[i - 1], "--seed"))
            seed = strtoull(v, NULL, 10);
        else
            usage();
    }
    rng_state = seed;

    void (*body)(const struct params *);
    if (!strncmp(wl, "churn:", 6) || !strncmp(wl, "mixed:", 6)) {
        pp.n = strtoull(wl + 6, NULL, 10);
        pp.logu = wl[0] == 'm';
        if (!pp.n)
            usage();
        if (!have_pairs)
            pp.pairs = 1000000;
        body = run.mode == MODE_LAT ? churn_track : churn_plain;
    } else if (!strcmp(wl, "frag")) {
        if (!have_pairs)
            pp.pairs = 200;
        body = run.mode == MODE_LAT ? frag_track : frag_plain;
    } else if (!strncmp(wl, "trace:", 6)) {
        pp.trace = wl + 6;
        trace_load(pp.trace);
        body = run.mode == MODE_LAT ? trace_track : trace_plain;
    } else {
        usage();
    }

    if (run.mode == MODE_LAT) {
        tsc_calibrate();
        run.lat_cap = (size_t)1 << 28;
        run.lat = xmap(run.lat_cap * sizeof *run.lat);
    }
    double t_start = now_s();
    if (cap > 0)
        run.deadline = t_start + cap;
    body(&pp);
    double wall = now_s() - t_start;

    int problems = 0;
#if defined(HEAP_API)
    if (check) {
        struct mem_stats s;
        problems = heap_check(&heap);
        heap_stats(&heap, &s);
        if (s.used_blocks || s.used_bytes || s.free_blocks != 1)
            problems++;
        if (problems)
            die("heap check after the run: %d problem(s), %zu used blocks left", problems,
                s.used_blocks);
    }
#elif defined(ALLOC_TEXTBOOK)
    if (check) {
        size_t used, nfree;
        problems = tb_check(&used, &nfree);
        if (used || nfree != 1)
            problems++;
        if (problems)
            die("textbook check after the run: %d problem(s), %zu used blocks left", problems, used);
    }
#else
    (void)check;
#endif

    printf("alloc=%s mode=%s workload=%s ops=%llu capped=%d wall_s=%.3f", ALLOC_NAME, mode, wl,
           (unsigned long long)run.ops, run.capped, wall);
    if (run.mode == MODE_TIME)
        printf(" ns=%llu cpu_ns=%llu ns_pair=%.2f wall_ns_pair=%.2f", (unsigned long long)measured_ns,
               (unsigned long long)measured_cpu_ns,
               run.ops ? 2.0 * (double)measured_cpu_ns / (double)run.ops : 0.0,
               run.ops ? 2.0 * (double)measured_ns / (double)run.ops : 0.0);
    if (run.mode == MODE_LAT) {
        qsort(run.lat, run.nlat, sizeof *run.lat, cmp_u32);
        printf(" timer=%s timer_overhead_ticks=%llu tsc_step=%llu tsc_ghz=%.4f lat_n=%zu lat_p50_ns=%.1f "
               "lat_p99_ns=%.1f lat_max_ns=%.1f peak_live=%zu extent=%zu eff=%.4f",
               TIMER_NAME, (unsigned long long)tsc_overhead, (unsigned long long)tsc_step, tsc_per_ns, run.nlat,
               ticks_ns(pct(run.lat, run.nlat, 0.50)), ticks_ns(pct(run.lat, run.nlat, 0.99)),
               run.nlat ? ticks_ns(run.lat[run.nlat - 1]) : 0.0, run.peak_live, run.peak_extent,
               run.peak_extent ? (double)run.peak_live / (double)run.peak_extent : 0.0);
    }
    printf("\n");
    return problems ? 1 : 0;
}
