/* careless.c - programs that misbehave, for tests/real/careless-test: one mode per run.
 *   plain             a few allocations, then exit 0 (for the knob and verdict checks)
 *   damage            allocate, then overwrite part of the heap's own tables, exit 0
 *   fd900 FILE        dup2 its data file over descriptors 3..1023, write to it, exit 0
 *   stderr FILE [misuse]  close stderr, open its data file (it gets descriptor 2), write, exit 0
 *                     (with misuse: a double free at the end)
 *   huge              posix_memalign(1 << 40) and friends, then a thousand calls; prints "ok"
 *   misuse CASE       one misuse of the contract (see cases[]); should not return
 *   fork-stdio N      a thread in getline, a thread in fflush(NULL), the main one forking N times
 *   fork-signal MS    a timer signal whose handler forks while the program allocates, for MS ms
 *   info              mallinfo2, mallinfo, malloc_trim and malloc_stats on kheap's own figures
 * The data files hold the same bytes with or without libkheap.so: the test compares them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void churn(int rounds)
{
    static void *keep[256];
    for (int i = 0; i < rounds; i++) {
        int k = i % 256;
        free(keep[k]);
        keep[k] = malloc((size_t)(i * 7919 % 3000) + 1);
        if (keep[k])
            memset(keep[k], i, 1);
    }
}

static void write_data(int fd)
{
    char text[64];
    for (int i = 0; i < 2000; i++) {
        churn(20);
        int n = snprintf(text, sizeof text, "record %d of the program's own data\n", i);
        if (write(fd, text, (size_t)n) != n)
            exit(3);
    }
}

/* The mapping that holds p, from /proc/self/maps: the heap region's tables lie below p in it. */
static int mapping_of(const void *p, uintptr_t *lo, uintptr_t *hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    unsigned long a, b;
    int found = 0;
    while (f && !found && fscanf(f, "%lx-%lx%*[^\n]", &a, &b) == 2)
        found = a <= (uintptr_t)p && (uintptr_t)p < b;
    if (f)
        fclose(f);
    *lo = a;
    *hi = b;
    return found ? 0 : -1;
}

static int damage(void)
{
    char *p = malloc(64), *q = malloc(64);
    uintptr_t lo, hi;
    free(p);
    if (!q || mapping_of(q, &lo, &hi) != 0 || (uintptr_t)q - lo < 1024)
        return 2;
    /* the region's descriptor and the start map after it: flip bits there */
    for (uintptr_t at = lo + 256; at < (uintptr_t)q && at < lo + 1024; at++)
        *(volatile unsigned char *)at ^= 0x5a;
    exit(0);                        /* no more calls into the heap; the exit check runs */
}

static int huge(void)
{
    void *p, *q;
    for (int k = 20; k <= 40; k += 4) {
        if (posix_memalign(&p, (size_t)1 << k, 100) != 0 || ((uintptr_t)p & (((size_t)1 << k) - 1)))
            return printf("posix_memalign(1 << %d) failed\n", k), 1;
        memset(p, 0xab, 100);
        if (malloc_usable_size(p) < 100)
            return puts("usable size too small"), 1;
        q = realloc(p, 200000);
        if (!q || ((unsigned char *)q)[99] != 0xab)
            return puts("realloc lost the data"), 1;
        free(q);
    }
    if (posix_memalign(&p, (size_t)1 << 40, 100) != 0)
        return puts("posix_memalign(1 << 40) failed"), 1;
    for (int i = 0; i < 1000; i++)
        free(malloc((size_t)i + 1));
    free(p);
    puts("ok");
    return 0;
}

/* ---- Misuse ------------------------------------------------------------------------------------ */

static volatile size_t sink;

static void misuse(const char *name)
{
    char *p = malloc(100), *q = malloc(100), *big = malloc((size_t)8 << 20);
    char local[32];
    if (!strcmp(name, "double-free")) {
        free(p);
        free(p);
    } else if (!strcmp(name, "interior")) {
        free(p + 32);
    } else if (!strcmp(name, "foreign")) {
        free(local);
    } else if (!strcmp(name, "realloc-freed")) {
        free(p);
        sink = (size_t)realloc(p, 10);
    } else if (!strcmp(name, "usable-freed")) {
        free(p);
        sink = malloc_usable_size(p);
    } else if (!strcmp(name, "free-memory")) {
        char *r = malloc(4096);
        free(r);                    /* merged with the free space after it */
        free(r + 1024);
    } else if (!strcmp(name, "big-double-free")) {
        free(big);
        free(big);
    } else if (!strcmp(name, "misaligned")) {
        free(p + 1);
    } else if (!strcmp(name, "write-after-free")) {
        free(q);
        q[50] = 1;
        sink = (size_t)malloc(100);
    } else {
        fprintf(stderr, "careless: no misuse case %s\n", name);
        exit(2);
    }
    exit(0);                        /* not reported: the test fails */
}

/* ---- fork against stdio and signals ------------------------------------------------------------ */

static volatile int stop;
static FILE *lines;

static void *getline_loop(void *arg)
{
    (void)arg;
    while (!stop) {
        char *line = NULL;
        size_t n = 0;
        if (getline(&line, &n, lines) < 0)
            rewind(lines);          /* at the end: again, under the stream's lock */
        free(line);
    }
    return NULL;
}

static void *fflush_loop(void *arg)
{
    (void)arg;
    while (!stop)
        fflush(NULL);
    return NULL;
}

static int fork_stdio(int forks)
{
    char path[] = "/tmp/careless-lines-XXXXXX";
    int fd = mkstemp(path);
    for (int i = 0; fd >= 0 && i < 2000; i++)
        dprintf(fd, "line %d, long enough that getline must grow its buffer a few times......\n", i);
    lines = fd >= 0 ? fdopen(fd, "r") : NULL;
    unlink(path);
    if (!lines)
        return 2;
    rewind(lines);
    pthread_t a, b;
    pthread_create(&a, NULL, getline_loop, NULL);
    pthread_create(&b, NULL, fflush_loop, NULL);
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid < 0 || waitpid(pid, NULL, 0) != pid)
            return printf("fork %d failed\n", i), 1;
    }
    stop = 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("ok: %d forks\n", forks);
    return 0;
}

static volatile sig_atomic_t forks_done;

static void on_timer(int sig)
{
    (void)sig;
    int saved = errno;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    if (pid > 0 && waitpid(pid, NULL, 0) == pid)
        forks_done++;
    errno = saved;
}

static int fork_signal(int ms)
{
    struct sigaction sa = { .sa_handler = on_timer };
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval t = { { 0, 500 }, { 0, 500 } };   /* every half millisecond */
    setitimer(ITIMER_REAL, &t, NULL);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        churn(1000);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    printf("ok: %d forks from a signal handler\n", (int)forks_done);
    return forks_done > 0 ? 0 : 1;
}

/* ---- Introspection -------------------------------------------------------------------------- */

static long resident_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    if (f)
        fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

#define SMALL 20000
static int info(void)
{
    static char *blocks[SMALL];
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < SMALL; i++) {
        blocks[i] = malloc(1000);
        memset(blocks[i], 1, 1000);
    }
    struct mallinfo2 full = mallinfo2();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo small = mallinfo();  /* deprecated in glibc, still used: it must agree */
#pragma GCC diagnostic pop
    long rss_full = resident_kib();
    for (int i = 0; i < SMALL; i++)
        free(blocks[i]);
    struct mallinfo2 empty = mallinfo2();
    int trimmed = malloc_trim(0), again = malloc_trim(0);
    struct mallinfo2 after = mallinfo2();
    long rss_after = resident_kib();
    printf("used %zu -> %zu, arena %zu, free %zu, keepcost %zu -> %zu, arena after trim %zu, "
           "trim %d then %d, rss %ld KiB -> %ld KiB\n", before.uordblks, full.uordblks, full.arena,
           empty.fordblks, full.keepcost, empty.keepcost, after.arena, trimmed, again, rss_full,
           rss_after);
    int ok = full.uordblks >= before.uordblks + (size_t)SMALL * 1000 &&
             full.arena >= full.uordblks + full.fordblks && full.hblks > 0 &&
             (size_t)small.uordblks == full.uordblks && empty.keepcost >= (size_t)16 << 20 &&
             trimmed == 1 && again == 0 && after.arena + ((size_t)16 << 20) <= empty.arena &&
             rss_after + 16 * 1024 <= rss_full && after.keepcost == 0;
    malloc_stats();
    puts(ok ? "ok" : "FAILED");
    return !ok;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "plain";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(mode, "plain")) {
        churn(1000);
        return 0;
    }
    if (!strcmp(mode, "damage"))
        return damage();
    if (!strcmp(mode, "fd900")) {
        churn(10);                  /* the library has read its knobs and kept its copy */
        int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        for (int i = 3; fd >= 0 && i < 1024; i++)
            if (i != fd)
                dup2(fd, i);
        write_data(900);
        return 0;
    }
    if (!strcmp(mode, "stderr")) {
        churn(10);                  /* the library has read its knobs and kept its copy */
        close(2);
        int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd != 2)
            return 2;
        write_data(fd);
        if (argc > 3) {             /* "stderr FILE misuse": a double free, reported elsewhere */
            char *volatile p = malloc(100);
            free(p);
            free(p);
        }
        return 0;
    }
    if (!strcmp(mode, "huge"))
        return huge();
    if (!strcmp(mode, "misuse"))
        misuse(arg);
    if (!strcmp(mode, "fork-stdio"))
        return fork_stdio(atoi(arg));
    if (!strcmp(mode, "fork-signal"))
        return fork_signal(atoi(arg));
    if (!strcmp(mode, "info"))
        return info();
    fprintf(stderr, "careless: unknown mode %s\n", mode);
    return 2;
}
