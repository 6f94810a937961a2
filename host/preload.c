/* preload.c - the malloc family over kheap's default heap, for libkheap.so (LD_PRELOAD or -lkheap).
 *
 * glibc semantics on top of lib/mem.h: errno = ENOMEM on failure, malloc(0) is a unique pointer,
 * realloc(p, 0) frees, posix_memalign returns its error. Everything here works from the dynamic
 * loader's first allocation: the heap and its mutex are static, and nothing on a path reached from
 * malloc allocates (no stdio: text goes out through write(2) from our own buffers).
 *
 * Knobs, read once from the environment at the first call made after libc set `environ`:
 *   KHEAP_CHECK=1      check the heap at exit and print a one-line verdict on stderr
 *   KHEAP_CHECK=N      (N > 1) also check every N calls; a failed check prints and aborts
 *   KHEAP_STATS=1      print mem_stats and this library's call counters on stderr at exit
 *   KHEAP_POISON=1     debug fill of freed memory (mem_set_poison), checked on reuse
 *   KHEAP_TRACE=FILE   record the calls as FILE.<pid> in tests/traces' format (preload_trace.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mem.h"
#include "preload.h"

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

/* ---- Knobs ----------------------------------------------------------------------------------- */

static atomic_int knobs_state;        /* 0: not read, 1: being read, 2: read */
static unsigned long check_every;     /* KHEAP_CHECK value: 0 off, 1 at exit, N also every N calls */
static int stats_at_exit;
static int report_fd = 2;             /* stderr, kept open for the exit reports (see knobs_read) */
static atomic_ulong calls;            /* malloc-family calls, for KHEAP_CHECK=N */

/* Call counters for KHEAP_STATS: which entry points a program really uses. */
enum { C_MALLOC, C_CALLOC, C_REALLOC, C_FREE, C_ALIGNED, C_USABLE, C_FAILED, C_COUNT };
static atomic_ulong counters[C_COUNT];

static unsigned long parse_number(const char *s)
{
    unsigned long v = 0;
    if (!s)
        return 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (unsigned long)(*s - '0');
    return v;
}

/* getenv reads environ without allocating; before libc's init environ is NULL: try again later. */
static void knobs_read(void)
{
    int expected = 0;
    if (!environ || !atomic_compare_exchange_strong(&knobs_state, &expected, 1))
        return;
    check_every = parse_number(getenv("KHEAP_CHECK"));
    stats_at_exit = parse_number(getenv("KHEAP_STATS")) != 0;
    if (check_every || stats_at_exit) {
        /* Programs may close stderr before exit (coreutils' close_stdout does): keep a copy. */
        int fd = fcntl(2, F_DUPFD_CLOEXEC, 900);
        if (fd < 0)
            fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
        if (fd >= 0)
            report_fd = fd;
    }
    if (parse_number(getenv("KHEAP_POISON")))
        mem_set_poison(1);
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

/* ---- The heap calls, traced when KHEAP_TRACE is on -------------------------------------------- */

static void *heap_get(size_t alignment, size_t size)
{
    if (size == 0)
        size = 1;                      /* glibc: a unique pointer */
    if (trace_on()) {
        trace_lock();
        void *p = mem_aligned_alloc(alignment, size);
        if (p)
            trace_alloc(p, size);
        trace_unlock();
        return p;
    }
    return mem_aligned_alloc(alignment, size);
}

static void *heap_get_zeroed(size_t size)
{
    if (trace_on()) {
        trace_lock();
        void *p = mem_calloc(size, 1);
        if (p)
            trace_alloc(p, size);
        trace_unlock();
        return p;
    }
    return mem_calloc(size, 1);
}

static void heap_put(void *ptr)
{
    if (trace_on()) {
        trace_lock();
        mem_free(ptr);
        trace_free(ptr);
        trace_unlock();
        return;
    }
    mem_free(ptr);
}

static void *heap_resize(void *ptr, size_t size)
{
    if (trace_on()) {
        trace_lock();
        void *p = mem_realloc(ptr, size);
        if (p)
            trace_realloc(ptr, p, size);
        trace_unlock();
        return p;
    }
    return mem_realloc(ptr, size);
}

/* ---- The malloc family ---------------------------------------------------------------------- */

EXPORT void *malloc(size_t size)
{
    on_call(C_MALLOC);
    void *p = heap_get(MEM_ALIGN, size);
    return p ? p : failed();
}

EXPORT void free(void *ptr)
{
    on_call(C_FREE);
    if (ptr)
        heap_put(ptr);
}

/* Cleared by mem_calloc (which knows fresh pages need no clearing). */
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

/* alignment: a power of two multiple of sizeof(void *). Returns the error; errno is kept. */
EXPORT int posix_memalign(void **out, size_t alignment, size_t size)
{
    on_call(C_ALIGNED);
    if (alignment % sizeof(void *) || !power_of_two(alignment))
        return EINVAL;
    int saved = errno;
    void *p = heap_get(alignment, size);
    if (!p) {
        failed();
        errno = saved;
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

/* C17 (and glibc 2.38): the alignment must be a power of two. */
EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
    on_call(C_ALIGNED);
    if (!power_of_two(alignment)) {
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
    return ptr ? mem_usable_size(ptr) : 0;
}

/* ---- Reports at exit -------------------------------------------------------------------------- */

/* A line buffer that goes to stderr with write(2): nothing here may allocate. */
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

static void line_flush(struct line *l)
{
    const char *at = l->text;
    while (l->len > 0) {
        ssize_t n = write(report_fd, at, l->len);
        if (n <= 0)
            break;
        at += n;
        l->len -= (size_t)n;
    }
    l->len = 0;
}

/* heap_check_report's violation lines, to stderr (mem_check's would go to stdout). */
static void stderr_write(void *ctx, const char *text, size_t len)
{
    struct line *l = ctx;
    for (size_t i = 0; i < len; i++) {
        char c[2] = { text[i], 0 };
        line_str(l, c);
    }
}

/* Check the whole heap and print the verdict; a failure in the middle of a run stops it. */
void report_check(int periodic)
{
    static struct line l;   /* under the heap lock: one report at a time */
    struct mem_stats s;
    unsigned long state = mem_lock();
    l.len = 0;
    line_str(&l, "kheap: ");
    int problems = heap_check_report(mem_heap(), stderr_write, &l);
    heap_stats(mem_heap(), &s);
    if (problems) {
        line_str(&l, "check FAILED: ");
        line_num(&l, (unsigned long long)problems);
        line_str(&l, " violations");
        if (periodic) {
            line_str(&l, " after call ");
            line_num(&l, atomic_load(&calls));
        }
        line_str(&l, "\n");
    } else if (!periodic) {
        line_str(&l, "check ok (");
        line_num(&l, s.used_blocks + s.free_blocks);
        line_str(&l, " blocks)\n");
    } else {
        l.len = 0;
    }
    line_flush(&l);
    mem_unlock(state);
    if (problems && periodic)
        abort();
}

static void report_stats(void)
{
    static const char *const names[C_COUNT] = { "malloc_calls", "calloc_calls", "realloc_calls",
        "free_calls", "aligned_calls", "usable_size_calls", "failed_calls" };
    struct mem_stats s;
    struct line l = { .len = 0 };
    mem_stats(&s);
    const struct { const char *name; unsigned long long v; } fields[] = {
        { "total_bytes", s.total_bytes },     { "free_bytes", s.free_bytes },
        { "used_bytes", s.used_bytes },       { "largest_free", s.largest_free },
        { "free_blocks", s.free_blocks },     { "used_blocks", s.used_blocks },
        { "peak_used_bytes", s.peak_used_bytes }, { "min_free_bytes", s.min_free_bytes },
        { "region_count", s.region_count },   { "overhead_bytes", s.overhead_bytes },
        { "alloc_count", s.alloc_count },     { "free_count", s.free_count },
        { "failed_count", s.failed_count },   { "error_count", s.error_count },
    };
    line_str(&l, "kheap: stats");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        line_str(&l, " ");
        line_str(&l, fields[i].name);
        line_str(&l, " ");
        line_num(&l, fields[i].v);
    }
    line_str(&l, "\nkheap: calls");
    for (int i = 0; i < C_COUNT; i++) {
        line_str(&l, " ");
        line_str(&l, names[i]);
        line_str(&l, " ");
        line_num(&l, atomic_load(&counters[i]));
    }
    line_str(&l, "\n");
    line_flush(&l);
}

/* The trace's fork handlers must be registered after seam.c's (this object links after it), so
 * that fork takes the trace lock before the heap's, the order every traced call takes them in. */
__attribute__((constructor)) static void preload_setup(void)
{
    trace_setup_fork();
}

/* Destructors run after the program's atexit handlers and its own destructors. */
__attribute__((destructor)) static void preload_exit(void)
{
    if (atomic_load(&knobs_state) != 2)
        knobs_read();
    trace_finish();
    if (stats_at_exit)
        report_stats();
    if (check_every)
        report_check(0);
}
