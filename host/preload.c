/* preload.c - the malloc family over kheap's arenas, for libkheap.so (LD_PRELOAD or -lkheap).
 *
 * Threads do not queue on one lock: the heap is lib/arena.h's set of arenas, one mutex each
 * (preload_arena.c). Each thread allocates from its own arena, the least loaded one when it
 * made its first call; a free goes to the arena that owns the block, whichever thread frees;
 * an arena with no room gets a new region from mmap (host/seam.c). Placement inside an arena
 * is the heap's first fit.
 *
 * glibc semantics on top of lib/arena.h, entry point by entry point (tests/real/errno.c compares
 * results and errno with the C library's own): ENOMEM on failure, errno left alone on success
 * and by free, malloc(0) a unique pointer, realloc(p, 0) frees, posix_memalign returns its error
 * (and sets ENOMEM, as glibc does). An alignment of 1 MiB or more is mapped alone
 * (preload_alone.c). glibc's introspection calls (mallinfo2, mallinfo, malloc_stats,
 * malloc_trim, mallopt) answer with kheap's figures. Everything here works from the dynamic
 * loader's first allocation: the arenas and their locks are static, and nothing on a path reached
 * from malloc allocates or uses stdio (text goes out through write(2) from our own buffers).
 *
 * Knobs, read once from the environment at the first call made after libc set `environ`. Only
 * these forms are accepted; anything else prints one line on stderr and leaves the feature off:
 *   KHEAP_CHECK=1      check the heap (every arena, and their region table) at exit, print a
 *                      one-line verdict on stderr; a failed check turns exit status 0 into 1
 *   KHEAP_CHECK=N      (a decimal N > 1) also check every N calls; a failure prints one line and
 *                      aborts. Either form may end in ",keep-status": the exit status is left alone
 *   KHEAP_STATS=1      print mem_stats (totals over the arenas) and this library's call counters
 *                      on stderr at exit
 *   KHEAP_POISON=1     debug fill of freed memory in every arena (arena_set_poison), checked on reuse
 *   KHEAP_TRACE=FILE   record the calls as FILE.<pid> in tests/traces' format (preload_trace.c)
 * Unset, empty or 0 is off. The exit reports go to stderr as it was when the knobs were read,
 * and only while that descriptor (or the copy kept of it) is still the same open file.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arena.h"
#include "heap.h"
#include "preload.h"

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

/* ---- Lines of text ------------------------------------------------------------------------------ */

/* A line buffer that goes out with write(2): nothing here may allocate, nor use stdio, whose
 * locks a thread inside malloc may be holding. A full buffer goes out as it is. */
struct line {
    char text[1024];
    size_t len;
};

static void line_flush(struct line *l);

static void line_str(struct line *l, const char *s)
{
    for (; *s; s++) {
        if (l->len == sizeof l->text)
            line_flush(l);
        l->text[l->len++] = *s;
    }
}

static void line_num(struct line *l, unsigned long long v)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0) {
        char c[2] = { digits[--n], 0 };
        line_str(l, c);
    }
}

/* Write the buffer to fd (none if fd < 0) and empty it. */
static void line_write(struct line *l, int fd)
{
    const char *at = l->text;
    while (fd >= 0 && l->len > 0) {
        ssize_t n = write(fd, at, l->len);
        if (n <= 0)
            break;
        at += n;
        l->len -= (size_t)n;
    }
    l->len = 0;
}

/* The exit reports' lines: to stderr as the knobs found it (report_fd). */
static void line_flush(struct line *l) { line_write(l, report_fd()); }

/* ---- Knobs ----------------------------------------------------------------------------------- */

static atomic_int knobs_state;        /* 0: not read, 1: being read, 2: read */
static unsigned long check_every;     /* KHEAP_CHECK value: 0 off, 1 at exit, N also every N calls */
static int check_keeps_status;        /* KHEAP_CHECK=N,keep-status: a failed exit check leaves it */
static int stats_at_exit;
static atomic_ulong calls;            /* malloc-family calls, for KHEAP_CHECK=N */

/* Call counters for KHEAP_STATS: which entry points a program really uses. */
enum { C_MALLOC, C_CALLOC, C_REALLOC, C_FREE, C_ALIGNED, C_USABLE, C_FAILED, C_COUNT };
static atomic_ulong counters[C_COUNT];

/* A decimal count: digits only (no sign, space, base prefix or exponent), that fits. The end of
 * the digits goes to *rest. -1 for anything else. */
static int parse_count(const char *s, unsigned long *out, const char **rest)
{
    unsigned long v = 0;
    const char *at = s;
    for (; *at >= '0' && *at <= '9'; at++) {
        unsigned long d = (unsigned long)(*at - '0');
        if (v > (ULONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (at == s)
        return -1;
    *out = v;
    *rest = at;
    return 0;
}

/* One stderr line for a knob we do not understand; the feature stays off, the program goes on. */
static void knob_refused(const char *name, const char *value, const char *want)
{
    struct line l = { .len = 0 };
    size_t n = strnlen(value, 64);
    line_str(&l, "kheap: ");
    line_str(&l, name);
    line_str(&l, "=\"");
    for (size_t i = 0; i < n; i++) {
        char c[2] = { value[i] >= ' ' && value[i] < 127 ? value[i] : '?', 0 };
        line_str(&l, c);
    }
    line_str(&l, n == 64 ? "...\" not understood (want " : "\" not understood (want ");
    line_str(&l, want);
    line_str(&l, "), left off\n");
    line_write(&l, report_fd());
}

/* KHEAP_STATS, KHEAP_POISON: unset, empty or "0" is off, "1" on. */
static int knob_switch(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v || (v[0] == '0' && !v[1]))
        return 0;
    if (v[0] == '1' && !v[1])
        return 1;
    knob_refused(name, v, "0 or 1");
    return 0;
}

/* KHEAP_CHECK: unset, empty or "0" off; "1" at exit; N > 1 also every N calls; either may end
 * in ",keep-status" (a failed exit check then leaves the exit status alone). */
static void knob_check(void)
{
    const char *v = getenv("KHEAP_CHECK"), *rest;
    unsigned long n;
    if (!v || !*v)
        return;
    if (parse_count(v, &n, &rest) == 0 && (!*rest || (n && !strcmp(rest, ",keep-status")))) {
        check_every = n;
        check_keeps_status = *rest != 0;
        return;
    }
    knob_refused("KHEAP_CHECK", v, "0, 1 or a count of calls, optionally followed by ,keep-status");
}

/* Where every line the library prints goes: stderr as it was when the library started. For the
 * exit reports programs may close stderr before exit (coreutils' close_stdout does), so a copy
 * is kept; a program may also dup2 its own file over that copy's number, or open a file on a
 * closed descriptor 2, so each is used only while it is still the same open file (device and
 * inode) it was. If neither is, the line goes nowhere: never into the program's own file. */
struct out_file { int fd; dev_t dev; ino_t ino; };
static struct out_file report_copy = { -1, 0, 0 }, report_stderr = { -1, 0, 0 };

static int out_file_note(struct out_file *o, int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return -1;
    *o = (struct out_file){ fd, st.st_dev, st.st_ino };
    return 0;
}

static int out_file_same(const struct out_file *o)
{
    struct stat st;
    return o->fd >= 0 && fstat(o->fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
}

int report_fd(void)
{
    if (out_file_same(&report_copy))
        return report_copy.fd;
    return out_file_same(&report_stderr) ? report_stderr.fd : -1;
}

/* getenv reads environ without allocating; before libc's init environ is NULL: try again later. */
static void knobs_read(void)
{
    int expected = 0;
    if (!environ || !atomic_compare_exchange_strong(&knobs_state, &expected, 1))
        return;
    knob_check();
    stats_at_exit = knob_switch("KHEAP_STATS");
    if (check_every || stats_at_exit) {
        int fd = fcntl(2, F_DUPFD_CLOEXEC, 900);
        if (fd < 0)
            fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
        out_file_note(&report_copy, fd);
    }
    if (knob_switch("KHEAP_POISON"))
        arena_set_poison(preload_arenas(), 1);
    const char *trace = getenv("KHEAP_TRACE");
    if (trace && *trace)
        trace_start(trace);
    atomic_store(&knobs_state, 2);
}

/* Every entry point starts here: the knobs once, the counters if asked for (a shared cache line
 * that threads would fight over), then the periodic check if asked for. */
static inline void on_call(int counter)
{
    if (__builtin_expect(atomic_load_explicit(&knobs_state, memory_order_acquire) != 2, 0))
        knobs_read();
    if (__builtin_expect(stats_at_exit, 0))
        atomic_fetch_add_explicit(&counters[counter], 1, memory_order_relaxed);
    if (__builtin_expect(check_every > 1, 0) &&
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) % check_every == check_every - 1)
        report_check(1);
}

static void *failed(void)
{
    if (stats_at_exit)
        atomic_fetch_add_explicit(&counters[C_FAILED], 1, memory_order_relaxed);
    errno = ENOMEM;
    return NULL;
}

static int power_of_two(size_t v) { return v && !(v & (v - 1)); }

static size_t page_size(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* ---- What the heap calls go to ------------------------------------------------------------------ */

/* A large alignment is mapped alone (preload_alone.c); the rest is this thread's arena's. */
static void *heap_aligned(size_t alignment, size_t size)
{
    return alignment >= ALONE_ALIGN ? alone_alloc(alignment, size)
                                    : arena_aligned_alloc(preload_arenas(), preload_slot(), alignment, size);
}

static void heap_release(void *ptr)
{
    if (!alone_any() || !alone_free(ptr))
        arena_free(preload_arenas(), ptr);
}

/* A block mapped alone stays while it is large enough, else moves into the heap (the
 * alignment is not kept, as glibc's realloc does not keep it). */
static void *heap_move(void *ptr, size_t size)
{
    size_t have = alone_any() ? alone_size(ptr) : 0;
    if (!have)
        return arena_realloc(preload_arenas(), preload_slot(), ptr, size);
    if (size <= have)
        return ptr;
    void *p = arena_aligned_alloc(preload_arenas(), preload_slot(), MEM_ALIGN, size);
    if (p) {
        memcpy(p, ptr, have);
        alone_free(ptr);
    }
    return p;
}

static size_t heap_usable(const void *ptr)
{
    size_t have = alone_any() ? alone_size(ptr) : 0;
    return have ? have : arena_usable_size(preload_arenas(), ptr);
}

/* ---- The heap calls, traced when KHEAP_TRACE is on -------------------------------------------- */

static void *heap_get(size_t alignment, size_t size)
{
    if (size == 0)
        size = 1;                      /* glibc: a unique pointer */
    if (trace_on()) {
        trace_lock();
        void *p = heap_aligned(alignment, size);
        if (p)
            trace_alloc(p, size);
        trace_unlock();
        return p;
    }
    return heap_aligned(alignment, size);
}

static void *heap_get_zeroed(size_t size)
{
    if (trace_on()) {
        trace_lock();
        void *p = arena_calloc(preload_arenas(), preload_slot(), size, 1);
        if (p)
            trace_alloc(p, size);
        trace_unlock();
        return p;
    }
    return arena_calloc(preload_arenas(), preload_slot(), size, 1);
}

static void heap_put(void *ptr)
{
    if (trace_on()) {
        trace_lock();
        heap_release(ptr);
        trace_free(ptr);
        trace_unlock();
        return;
    }
    heap_release(ptr);
}

static void *heap_resize(void *ptr, size_t size)
{
    if (trace_on()) {
        trace_lock();
        void *p = heap_move(ptr, size);
        if (p)
            trace_realloc(ptr, p, size);
        trace_unlock();
        return p;
    }
    return heap_move(ptr, size);
}

/* ---- The malloc family ---------------------------------------------------------------------- */

EXPORT void *malloc(size_t size)
{
    on_call(C_MALLOC);
    void *p = heap_get(MEM_ALIGN, size);
    return p ? p : failed();
}

/* errno is kept, as glibc 2.33 does: a munmap that fails must not show through. */
EXPORT void free(void *ptr)
{
    on_call(C_FREE);
    if (ptr) {
        int saved = errno;
        heap_put(ptr);
        errno = saved;
    }
}

/* Cleared by arena_calloc (whose heap knows fresh pages need no clearing). */
EXPORT void *calloc(size_t count, size_t size)
{
    on_call(C_CALLOC);
    if (size && count > (size_t)-1 / size)
        return failed();
    size_t bytes = count * size;
    void *p = heap_get_zeroed(bytes ? bytes : 1);
    return p ? p : failed();
}

/* realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL (glibc). */
EXPORT void *realloc(void *ptr, size_t size)
{
    on_call(C_REALLOC);
    if (!ptr) {
        void *p = heap_get(MEM_ALIGN, size);
        return p ? p : failed();
    }
    if (size == 0) {
        heap_put(ptr);
        return NULL;
    }
    void *p = heap_resize(ptr, size);
    return p ? p : failed();
}

EXPORT void *reallocarray(void *ptr, size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size) {
        on_call(C_REALLOC);
        return failed();
    }
    return realloc(ptr, count * size);
}

/* alignment: a power of two multiple of sizeof(void *). Returns the error; as glibc's, it also
 * sets errno to ENOMEM when there is no room, and leaves it alone for EINVAL. */
EXPORT int posix_memalign(void **out, size_t alignment, size_t size)
{
    on_call(C_ALIGNED);
    if (alignment % sizeof(void *) || !power_of_two(alignment))
        return EINVAL;
    void *p = heap_get(alignment, size);
    if (!p) {
        failed();
        return ENOMEM;
    }
    *out = p;
    return 0;
}

/* glibc's memalign: small alignments are plain malloc, others round up to a power of two. */
static void *memalign_any(size_t alignment, size_t size)
{
    if (alignment > (size_t)-1 / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment < MEM_ALIGN)
        alignment = MEM_ALIGN;
    while (!power_of_two(alignment))
        alignment = (alignment | (alignment - 1)) + 1;
    void *p = heap_get(alignment, size);
    return p ? p : failed();
}

EXPORT void *memalign(size_t alignment, size_t size)
{
    on_call(C_ALIGNED);
    return memalign_any(alignment, size);
}

/* From glibc 2.38 on, aligned_alloc refuses an alignment that is not a power of two (EINVAL),
 * as C17 allows; before, it was memalign. Do what the C library the program runs with does. */
static int glibc_refuses_odd_alignment(void)
{
    static int answer = -1;
    if (answer < 0) {
        const char *v = gnu_get_libc_version(), *rest;
        unsigned long major = 0, minor = 0;
        answer = parse_count(v, &major, &rest) == 0 && *rest == '.' &&
                 parse_count(rest + 1, &minor, &rest) == 0 && (major > 2 || (major == 2 && minor >= 38));
    }
    return answer;
}

EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
    on_call(C_ALIGNED);
    if (!power_of_two(alignment) && glibc_refuses_odd_alignment()) {
        errno = EINVAL;
        return NULL;
    }
    return memalign_any(alignment, size);
}

EXPORT void *valloc(size_t size)
{
    on_call(C_ALIGNED);
    return memalign_any(page_size(), size);
}

/* The size rounds up to whole pages (pvalloc(0) is one page, as in glibc). */
EXPORT void *pvalloc(size_t size)
{
    on_call(C_ALIGNED);
    size_t page = page_size();
    if (size > (size_t)-1 - page)
        return failed();
    size = size ? (size + page - 1) & ~(page - 1) : page;
    return memalign_any(page, size);
}

EXPORT size_t malloc_usable_size(void *ptr)
{
    on_call(C_USABLE);
    return ptr ? heap_usable(ptr) : 0;
}

/* ---- Reports ------------------------------------------------------------------------------------ */

/* heap_check_report writes one line per violation: the verdict keeps the first and counts all. */
struct first_line {
    char text[200];
    size_t len;
    int done;
};

static void first_line_write(void *ctx, const char *text, size_t len)
{
    struct first_line *f = ctx;
    for (size_t i = 0; i < len && !f->done; i++) {
        if (text[i] == '\n')
            f->done = 1;
        else if (f->len < sizeof f->text - 1)
            f->text[f->len++] = text[i];
    }
}

/* Check the whole heap. A failure prints one line, "kheap: check FAILED: N violations, the first:
 * ...", and in the middle of a run (periodic) stops the process; a pass prints "kheap: check ok
 * (N blocks)" at exit and nothing in the middle of a run. Returns the number of violations. */
int report_check(int periodic)
{
    /* On the stack: threads may check at once, each arena (and the table) under its own lock. */
    struct line l = { .len = 0 };
    struct first_line first = { .len = 0, .done = 0 };
    struct mem_stats s;
    int problems = arena_check_report(preload_arenas(), first_line_write, &first);
    arena_stats(preload_arenas(), ARENA_ALL, &s);
    if (problems) {
        first.text[first.len] = 0;
        line_str(&l, "kheap: check FAILED: ");
        line_num(&l, (unsigned long long)problems);
        line_str(&l, problems == 1 ? " violation" : " violations");
        if (periodic) {
            line_str(&l, " after call ");
            line_num(&l, atomic_load(&calls));
        }
        line_str(&l, problems == 1 ? ": " : ", the first: ");
        line_str(&l, strncmp(first.text, "check: ", 7) ? first.text : first.text + 7);
        line_str(&l, "\n");
    } else if (!periodic) {
        line_str(&l, "kheap: check ok (");
        line_num(&l, s.used_blocks + s.free_blocks);
        line_str(&l, " blocks)\n");
    }
    line_write(&l, report_fd());
    if (problems && periodic)
        abort();
    return problems;
}

/* "kheap: stats name value ...": every mem_stats field, on one line. */
static void stats_line(struct line *l)
{
    struct mem_stats s;
    arena_stats(preload_arenas(), ARENA_ALL, &s);
    const struct { const char *name; unsigned long long v; } fields[] = {
        { "total_bytes", s.total_bytes },     { "free_bytes", s.free_bytes },
        { "used_bytes", s.used_bytes },       { "largest_free", s.largest_free },
        { "free_blocks", s.free_blocks },     { "used_blocks", s.used_blocks },
        { "peak_used_bytes", s.peak_used_bytes }, { "min_free_bytes", s.min_free_bytes },
        { "region_count", s.region_count },   { "overhead_bytes", s.overhead_bytes },
        { "alloc_count", s.alloc_count },     { "free_count", s.free_count },
        { "failed_count", s.failed_count },   { "error_count", s.error_count },
    };
    line_str(l, "kheap: stats");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        line_str(l, " ");
        line_str(l, fields[i].name);
        line_str(l, " ");
        line_num(l, fields[i].v);
    }
    line_str(l, "\n");
}

static void report_stats(void)
{
    static const char *const names[C_COUNT] = { "malloc_calls", "calloc_calls", "realloc_calls",
        "free_calls", "aligned_calls", "usable_size_calls", "failed_calls" };
    struct line l = { .len = 0 };
    stats_line(&l);
    line_str(&l, "kheap: calls");
    for (int i = 0; i < C_COUNT; i++) {
        line_str(&l, " ");
        line_str(&l, names[i]);
        line_str(&l, " ");
        line_num(&l, atomic_load(&counters[i]));
    }
    line_str(&l, "\n");
    line_flush(&l);
}

/* ---- glibc's introspection calls, with kheap's own figures --------------------------------------- */

/* The regions of one arena that are entirely free, found by a walk over its free blocks (a
 * region with no used block is one free block), under the arena's lock. At most REGIONS_MAX
 * per walk. */
#define REGIONS_MAX 32
struct empty_regions {
    struct heap *heap;
    void *start[REGIONS_MAX];
    size_t size[REGIONS_MAX];
    size_t count, bytes;            /* bytes: over all of them, also those past REGIONS_MAX */
};

static void empty_visit(void *ctx, void *ptr, size_t size, int used)
{
    struct empty_regions *e = ctx;
    void *start;
    size_t bytes;
    (void)size;
    if (used || !heap_region_if_empty(e->heap, ptr, &start, &bytes))
        return;
    e->bytes += bytes;
    if (e->count < REGIONS_MAX) {
        e->start[e->count] = start;
        e->size[e->count++] = bytes;
    }
}

static void empty_find(struct empty_regions *e, unsigned which)
{
    e->heap = &preload_arenas()->arenas[which].heap;
    e->count = e->bytes = 0;
    preload_arena_lock(which);
    heap_walk(e->heap, empty_visit, e);
    preload_arena_unlock(which);
}

/* Returns the memory of entirely free regions to the kernel, keeping up to pad bytes of them for
 * what comes next; 1 if it returned any (glibc's answer), 0 if not. Free blocks inside regions
 * that hold used blocks stay: their pages are only as resident as the program made them. Each
 * arena in turn: its empty regions are found under its lock, then leave the range table and the
 * arena together (arena_remove_region, which finds each still empty or leaves it). */
EXPORT int malloc_trim(size_t pad)
{
    on_call(C_FREE);
    struct arena_set *set = preload_arenas();
    int returned = 0;
    size_t kept = 0;
    for (unsigned a = 0; a < set->count; a++) {
        for (;;) {
            struct empty_regions e;
            size_t gone = 0;
            empty_find(&e, a);
            for (size_t i = 0; i < e.count; i++) {
                if (kept + e.size[i] <= pad) {
                    kept += e.size[i];
                } else if (arena_remove_region(set, e.start[i]) == 0) {
                    munmap(e.start[i], e.size[i]);
                    gone++;
                }
            }
            returned |= gone > 0;
            if (e.count < REGIONS_MAX || !gone)
                break;
        }
    }
    return returned;
}

static size_t keep_cost(void)
{
    size_t bytes = 0;
    for (unsigned a = 0; a < preload_arenas()->count; a++) {
        struct empty_regions e;
        empty_find(&e, a);
        bytes += e.bytes;
    }
    return bytes;
}

/* Totals over the arenas. arena: every byte of the heaps' regions (blocks and tables); uordblks, fordblks: bytes in used
 * and free blocks; ordblks: free blocks; hblks: regions; usmblks: the peak of uordblks;
 * keepcost: bytes malloc_trim would return. kheap has no fast bins and no separate mmap'd
 * chunks: smblks, fsmblks and hblkhd are 0. */
EXPORT struct mallinfo2 mallinfo2(void)
{
    struct mem_stats s;
    arena_stats(preload_arenas(), ARENA_ALL, &s);
    return (struct mallinfo2){
        .arena = s.total_bytes + s.overhead_bytes,
        .ordblks = s.free_blocks,
        .hblks = s.region_count,
        .usmblks = s.peak_used_bytes,
        .uordblks = s.used_bytes,
        .fordblks = s.free_bytes,
        .keepcost = keep_cost(),
    };
}

/* The same figures in ints; one that does not fit reads INT_MAX (glibc's would wrap). */
static int saturated(size_t v) { return v > INT_MAX ? INT_MAX : (int)v; }

EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m = mallinfo2();
    return (struct mallinfo){
        .arena = saturated(m.arena),       .ordblks = saturated(m.ordblks),
        .smblks = saturated(m.smblks),     .hblks = saturated(m.hblks),
        .hblkhd = saturated(m.hblkhd),     .usmblks = saturated(m.usmblks),
        .fsmblks = saturated(m.fsmblks),   .uordblks = saturated(m.uordblks),
        .fordblks = saturated(m.fordblks), .keepcost = saturated(m.keepcost),
    };
}

/* glibc prints its arenas on stderr; kheap prints its one line of mem_stats there. */
EXPORT void malloc_stats(void)
{
    struct line l = { .len = 0 };
    stats_line(&l);
    line_write(&l, report_fd());
}

/* kheap has no tunables: every option is accepted and ignored, with glibc's answer: 1, except
 * 0 for an M_MXFAST value outside 0 to 80 * sizeof(size_t) / 4, which glibc refuses. */
EXPORT int mallopt(int param, int value)
{
    if (param == M_MXFAST)
        return value >= 0 && (size_t)value <= 80 * sizeof(size_t) / 4;
    return 1;
}

/* ---- Setup and exit ----------------------------------------------------------------------------- */

/* At exit, after every destructor (see preload_setup): the trace, the stats, then the check. A
 * failed check turns an exit status of 0 into 1 (KHEAP_CHECK=N,keep-status: leaves it). */
static void preload_exit(int status, void *arg)
{
    (void)arg;
    if (atomic_load(&knobs_state) != 2)
        knobs_read();
    trace_finish();
    if (stats_at_exit)
        report_stats();
    if (check_every && report_check(0) && status == 0 && !check_keeps_status) {
        fflush(NULL);             /* exit's own flush of stdio has not run yet */
        _exit(1);
    }
}

/* A misuse report: the default handler's line ("kheap: <cause> at 0x<address>"), but to stderr
 * only while it is still the stderr the program started with (report_fd), then stop. */
static void misuse_report(enum mem_error err, const void *ptr)
{
    struct line l = { .len = 0 };
    char hex[2 * sizeof(uintptr_t) + 1];
    uintptr_t v = (uintptr_t)ptr;
    int n = 0;
    do
        hex[n++] = "0123456789abcdef"[v % 16];
    while ((v /= 16) != 0);
    line_str(&l, "kheap: ");
    line_str(&l, mem_strerror(err));
    line_str(&l, " at 0x");
    while (n > 0) {
        char c[2] = { hex[--n], 0 };
        line_str(&l, c);
    }
    line_str(&l, "\n");
    line_write(&l, report_fd());
    abort();
}

/* Fork handlers run their prepare parts in reverse order of registration: seam.c's (heap lock,
 * for preload_alone.c) is registered first (that object links before this one), then the
 * arenas', then the trace's, so fork takes stdio's list lock, the trace lock, then the arena
 * table and arena locks: the order every traced call takes them in (fork_lock.h).
 * The exit handler is registered here, before libc's start code registers the one that runs
 * the destructors: handlers run in reverse, so the reports come after every destructor, and
 * count the frees they made. */
__attribute__((constructor)) static void preload_setup(void)
{
    out_file_note(&report_stderr, 2);
    mem_set_error_handler(misuse_report);
    preload_arenas_setup_fork();
    trace_setup_fork();
    on_exit(preload_exit, NULL);
}
