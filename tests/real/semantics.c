/* semantics.c - libkheap.so's malloc family keeps glibc's contract: run under LD_PRELOAD by
 * tests/real/preload-test. Each check prints "not ok" with the line on failure; exit status 1. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define CHECK(cond) do { if (!(cond)) { printf("not ok: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
                                        failures++; } } while (0)

static size_t big(void) { return (size_t)-1 / 2; }  /* not constant: the compiler can't fold it */

/* The thread hammer: THREADS threads allocate, fill and free; one free in eight instead swaps
 * the block into a shared mailbox and frees the block it takes out, which another thread
 * allocated (and filled with one byte value throughout: checked before the free). */
#define THREADS 8
#define MAILBOX 64
static _Atomic(unsigned char *) mailbox[MAILBOX];

static void *churn(void *arg)
{
    uintptr_t seed = (uintptr_t)arg;
    void *slots[64] = { 0 };
    size_t sizes[64] = { 0 };
    for (int i = 0; i < 800000 / THREADS; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int k = (int)(seed >> 58);
        if (slots[k]) {
            CHECK(*(unsigned char *)slots[k] == (unsigned char)k);
            if ((seed & 7) == 0 && sizes[k] >= 2) {
                unsigned char *other = atomic_exchange(&mailbox[(seed >> 20) % MAILBOX], slots[k]);
                if (other)
                    CHECK(other[0] == other[1]);
                free(other);
            } else {
                free(slots[k]);
            }
            slots[k] = NULL;
        } else {
            size_t n = 1 + (seed >> 40) % 3000;
            slots[k] = (seed >> 33) & 1 ? malloc(n) : aligned_alloc(64, n);
            sizes[k] = n;
            memset(slots[k], k, n);
        }
    }
    for (int k = 0; k < 64; k++)
        free(slots[k]);
    return NULL;
}

int main(void)
{
    void *a = malloc(0), *b = malloc(0), *p;
    CHECK(a && b && a != b);
    free(a);
    free(b);
    free(NULL);

    errno = 0;
    CHECK(malloc(big()) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(calloc(big(), 4) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(reallocarray(NULL, big(), 4) == NULL && errno == ENOMEM);
    p = calloc(0, 5);
    CHECK(p != NULL);
    free(p);

    p = calloc(1000, 10);
    int zero = 1;
    for (int i = 0; i < 10000; i++)
        zero &= ((unsigned char *)p)[i] == 0;
    CHECK(zero);
    free(p);

    /* posix_memalign: EINVAL for a bad alignment, errno untouched, the error returned */
    errno = 1234;
    CHECK(posix_memalign(&p, 3, 10) == EINVAL && errno == 1234);
    CHECK(posix_memalign(&p, sizeof(void *) / 2, 10) == EINVAL);
    CHECK(posix_memalign(&p, 24, 10) == EINVAL);
    CHECK(posix_memalign(&p, big() + 1, 10) == ENOMEM || posix_memalign(&p, big() + 1, 10) == EINVAL);
    CHECK(posix_memalign(&p, 64, big()) == ENOMEM && errno == ENOMEM);   /* glibc sets it too */
    for (size_t al = sizeof(void *); al <= ((size_t)1 << 20); al *= 2) {
        p = NULL;
        CHECK(posix_memalign(&p, al, 100) == 0 && p && (uintptr_t)p % al == 0);
        free(p);
    }
    CHECK(posix_memalign(&p, 32, 0) == 0 && p);
    free(p);

    /* aligned_alloc(24, 48): EINVAL from glibc 2.38 on, memalign's answer before; errno.c
     * compares it with the C library the test runs on. */
    p = aligned_alloc(4096, 10);
    CHECK(p && (uintptr_t)p % 4096 == 0);
    free(p);
    p = memalign(48, 10);                /* glibc rounds a non-power-of-two up */
    CHECK(p && (uintptr_t)p % 64 == 0);
    free(p);
    errno = 0;
    CHECK(memalign(big() + 2, 10) == NULL && errno == EINVAL);

    long page = sysconf(_SC_PAGESIZE);
    p = valloc(10);
    CHECK(p && (uintptr_t)p % (size_t)page == 0);
    free(p);
    p = pvalloc(10);
    CHECK(p && (uintptr_t)p % (size_t)page == 0 && malloc_usable_size(p) >= (size_t)page);
    free(p);

    /* realloc keeps the data, realloc(p, 0) frees, realloc(NULL, n) allocates */
    char *s = realloc(NULL, 6);
    CHECK(s != NULL);
    strcpy(s, "hello");
    s = realloc(s, 1 << 20);
    CHECK(s && strcmp(s, "hello") == 0);
    s = realloc(s, 3);
    CHECK(s && memcmp(s, "hel", 3) == 0);
    errno = 0;
    CHECK(realloc(s, big()) == NULL && errno == ENOMEM && memcmp(s, "hel", 3) == 0);
    CHECK(realloc(s, 0) == NULL);
    p = reallocarray(NULL, 10, 10);
    CHECK(p && malloc_usable_size(p) >= 100);
    free(p);
    CHECK(malloc_usable_size(NULL) == 0);

    /* an aligned block keeps its alignment when realloc moves it */
    p = aligned_alloc(256, 100);
    void *q = malloc(16);                /* a used neighbour, so growing must move */
    p = realloc(p, 100000);
    CHECK(p && (uintptr_t)p % 256 == 0);
    free(p);
    free(q);

    /* large blocks, past the heap's 4 MiB step, and an aligned one */
    for (size_t n = (size_t)3 << 20; n <= ((size_t)300 << 20); n = n * 5 / 2) {
        p = malloc(n);
        CHECK(p != NULL);
        if (p) {
            memset(p, 1, n);
            free(p);
        }
    }
    CHECK(posix_memalign(&p, (size_t)1 << 21, (size_t)100 << 20) == 0 && (uintptr_t)p % (1 << 21) == 0);
    free(p);
    p = calloc((size_t)80 << 20, 1);
    CHECK(p && ((char *)p)[12345] == 0 && ((char *)p)[(80 << 20) - 1] == 0);
    free(p);

    /* threads */
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < MAILBOX; i++)
        free(atomic_load(&mailbox[i]));

    printf("%s: %d failures\n", failures ? "FAILED" : "ok", failures);
    return failures != 0;
}
