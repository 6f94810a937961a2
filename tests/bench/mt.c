/* mt.c - the multi-threaded bench's workload, through plain malloc/free so any allocator can be
 * preloaded under it (tests/bench/mt-run drives it).
 *
 *   mt larson THREADS OPS   a server pattern: each thread keeps a slot array of blocks and
 *                           replaces random slots; what it replaces it hands to the next
 *                           thread, which frees it (one thread frees what another allocated)
 *   mt churn  THREADS OPS   per-thread churn: each thread allocates and frees its own blocks
 *                           (random sizes, a live set of 512) with no sharing at all
 * OPS is per thread. At the end it prints its peak RSS (VmHWM, KiB) on stdout: a parent's
 * rusage would count the pages of the process it was forked from. Every block carries a pattern, checked when it is freed: exit 1 if a
 * block came back damaged, 2 on bad arguments.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MALLOC(n) malloc(n)
#define FREE(p)   free(p)

#define SLOTS 512
#define HANDOFF 1024

static long ops;
static unsigned nthreads;
static int larson;
static int damaged;

struct queue { /* blocks handed to one thread to free */
    pthread_mutex_t m;
    void *item[HANDOFF];
    unsigned head, n;
};
static struct queue queues[64];

static uint32_t next(uint32_t *x) { *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5; return *x; }

/* Sizes mostly small, sometimes up to 4 KiB, as servers and alloc-test see them. */
static size_t pick(uint32_t r) { return r % 8 ? 8 + r % 120 : 128 + r % 4000; }

static void *make(size_t n, uint32_t tag)
{
    unsigned char *p = MALLOC(n < 8 ? 8 : n);
    if (!p) {
        fprintf(stderr, "mt: malloc(%zu) failed\n", n);
        exit(1);
    }
    memcpy(p, &tag, 4);
    uint32_t len = (uint32_t)n;
    memcpy(p + 4, &len, 4);
    memset(p + 8, (int)(tag & 0xff), n > 8 ? n - 8 : 0);
    return p;
}

static void check_free(void *v)
{
    unsigned char *p = v;
    uint32_t tag, len;
    memcpy(&tag, p, 4);
    memcpy(&len, p + 4, 4);
    for (uint32_t i = 8; i < len; i += 61)
        if (p[i] != (tag & 0xff)) {
            __atomic_fetch_add(&damaged, 1, __ATOMIC_RELAXED);
            break;
        }
    FREE(p);
}

static int push(unsigned t, void *p)
{
    struct queue *q = &queues[t];
    pthread_mutex_lock(&q->m);
    int ok = q->n < HANDOFF;
    if (ok)
        q->item[(q->head + q->n++) % HANDOFF] = p;
    pthread_mutex_unlock(&q->m);
    return ok;
}

static void drain(unsigned t)
{
    struct queue *q = &queues[t];
    void *batch[HANDOFF];
    pthread_mutex_lock(&q->m);
    unsigned n = q->n;
    for (unsigned i = 0; i < n; i++)
        batch[i] = q->item[(q->head + i) % HANDOFF];
    q->head = (q->head + n) % HANDOFF;
    q->n = 0;
    pthread_mutex_unlock(&q->m);
    for (unsigned i = 0; i < n; i++)
        check_free(batch[i]);
}

static void *worker(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    uint32_t x = 0x9E3779B9u * (t + 1) | 1;
    void *slot[SLOTS] = { 0 };
    /* With one thread the larson hand-off goes to the thread itself: the same work either way. */
    unsigned to = (t + 1) % nthreads;
    for (long i = 0; i < ops; i++) {
        uint32_t r = next(&x);
        unsigned s = r % SLOTS;
        if (slot[s]) {
            if (!larson || !push(to, slot[s]))
                check_free(slot[s]);
            slot[s] = NULL;
        }
        slot[s] = make(pick(next(&x)), r);
        if (larson && i % 64 == 0)
            drain(t);
    }
    for (unsigned s = 0; s < SLOTS; s++)
        if (slot[s])
            check_free(slot[s]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "larson") && strcmp(argv[1], "churn")) ||
        atoi(argv[2]) < 1 || atoi(argv[2]) > 64 || atol(argv[3]) < 1) {
        fprintf(stderr, "usage: %s larson|churn THREADS(1-64) OPS_PER_THREAD\n", argv[0]);
        return 2;
    }
    larson = !strcmp(argv[1], "larson");
    nthreads = (unsigned)atoi(argv[2]);
    ops = atol(argv[3]);
    pthread_t th[64];
    for (unsigned i = 0; i < nthreads; i++)
        pthread_mutex_init(&queues[i].m, NULL);
    for (unsigned i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i)) {
            fprintf(stderr, "mt: pthread_create failed\n");
            return 2;
        }
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    for (unsigned i = 0; i < nthreads; i++)
        drain(i);
    FILE *st = fopen("/proc/self/status", "r");
    char line[256];
    long hwm = -1;
    while (st && fgets(line, sizeof line, st))
        if (sscanf(line, "VmHWM: %ld", &hwm) == 1)
            break;
    if (st)
        fclose(st);
    printf("peak_rss_kib %ld\n", hwm);
    if (damaged)
        fprintf(stderr, "mt: %d blocks came back damaged\n", damaged);
    return damaged ? 1 : 0;
}
