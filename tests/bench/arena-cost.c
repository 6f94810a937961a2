/* arena-cost.c - what one arena costs over the bare heap, in instructions: `make bench-arena-cost`
 * runs this under callgrind at two loop counts and divides the difference by the extra pairs,
 * so setup and exit cancel out.
 *
 *   arena-cost MODE PAIRS    MODE: heap (heap_alloc/heap_free), arena (one arena, no lock),
 *                            heap-mutex (a mutex around each call by hand, through the
 *                            same out-of-line lock functions the arena gets),
 *                            arena-mutex (one arena, the same mutex as its lock callbacks)
 * Each pair allocates a size from a fixed cycle and frees the block allocated 8 pairs earlier,
 * so the heap does real first-fit work (splits and merges) rather than reusing one block. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, tm = PTHREAD_MUTEX_INITIALIZER;
static unsigned long lk(void *c) { pthread_mutex_lock(c); return 0; }
static void ulk(void *c, unsigned long s) { (void)s; pthread_mutex_unlock(c); }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s heap|arena|heap-mutex|arena-mutex PAIRS\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    long pairs = atol(argv[2]);
    int use_arena = !strcmp(mode, "arena") || !strcmp(mode, "arena-mutex");
    int use_mutex = !strcmp(mode, "heap-mutex") || !strcmp(mode, "arena-mutex");
    if ((!use_arena && strcmp(mode, "heap") && strcmp(mode, "heap-mutex")) || pairs <= 0) {
        fprintf(stderr, "%s: unknown mode '%s' or bad PAIRS '%s'\n", argv[0], mode, argv[2]);
        return 2;
    }
    static const struct arena_lock none = { NULL, NULL }, mutex = { lk, ulk };
    static struct arena one[1];
    static struct arena_range table[4];
    struct arena_set set;
    struct heap h;
    size_t size = 4 << 20;
    void *mem = malloc(size);
    if (!mem)
        return 2;
    one[0].lock_ctx = &m;
    if (use_arena) {
        if (arena_init(&set, one, 1, use_mutex ? &mutex : &none, &tm, table, 4) ||
            arena_add_region(&set, 0, mem, size))
            return 2;
    } else if (heap_init(&h, mem, size)) {
        return 2;
    }
    /* The hand-locked heap calls the same lock functions, out of line as a platform's are
     * (mem.c calls seam_lock in another file): the volatile keeps the compiler from inlining. */
    const struct arena_lock *volatile plat_v = &mutex;
    const struct arena_lock *plat = plat_v;
    void *ring[8] = { 0 };
    static const size_t sizes[] = { 24, 100, 40, 300, 16, 64, 1000, 48, 200, 32, 512 };
    for (long i = 0; i < pairs; i++) {
        size_t n = sizes[i % 11];
        void *old = ring[i % 8], *p;
        if (use_arena) {
            p = arena_alloc(&set, 0, n);
            arena_free(&set, old);
        } else {
            unsigned long st = 0;
            if (use_mutex)
                st = plat->lock(&m);
            p = heap_alloc(&h, n);
            if (use_mutex)
                plat->unlock(&m, st);
            if (use_mutex)
                st = plat->lock(&m);
            heap_free(&h, old);
            if (use_mutex)
                plat->unlock(&m, st);
        }
        if (!p)
            return 1;
        ring[i % 8] = p;
    }
    return 0;
}
