/* errno.c - each malloc-family entry point's result and errno, case by case, for
 * tests/real/careless-test, which runs it under glibc and under libkheap.so and compares the two
 * outputs line by line. errno is set to a sentinel (1234) before each call, so a call that
 * leaves it alone prints 1234. "errno limited" runs the cases that must fail with ENOMEM under
 * `ulimit -v` (the test sets 1 GiB), next to ones that must still succeed there. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#define SENT 1234
#define CASE(name, expr) do { errno = SENT; long r_ = (long)(uintptr_t)(expr); int e_ = errno; printf("%-28s %s errno=%d\n", name, r_ ? "ok  " : "null", e_); } while (0)
#define GIB ((size_t)1 << 30)

static int limited(void)
{
    void *p, *q;
    int rc;
    CASE("malloc(2 GiB)", malloc(2 * GIB));
    CASE("malloc(600 MiB)", p = malloc(600u << 20)); free(p);
    CASE("calloc(1, 2 GiB)", calloc(1, 2 * GIB));
    CASE("calloc(600 MiB, 1)", p = calloc(600u << 20, 1)); free(p);
    p = malloc(100);
    CASE("realloc(p, 2 GiB)", realloc(p, 2 * GIB));
    CASE("realloc(p, 600 MiB)", p = realloc(p, 600u << 20)); free(p);
    errno = SENT; rc = posix_memalign(&q, 64, 2 * GIB); printf("%-28s rc=%d errno=%d\n", "posix_memalign(64, 2 GiB)", rc, errno);
    CASE("aligned_alloc(4096, 2 GiB)", aligned_alloc(4096, 2 * GIB));
    CASE("memalign(1 MiB, 2 GiB)", memalign(1u << 20, 2 * GIB));
    CASE("valloc(2 GiB)", valloc(2 * GIB));
    CASE("malloc(100) after", p = malloc(100)); free(p);
    return 0;
}

int main(int argc, char **argv)
{
    void *p, *q;
    if (argc > 1 && argv[1][0] == 'l')
        return limited();
    CASE("malloc(0)", p = malloc(0)); free(p);
    CASE("malloc(100)", p = malloc(100));
    CASE("free(p)", (free(p), 1));
    CASE("free(NULL)", (free(NULL), 1));
    CASE("malloc(SIZE_MAX)", malloc(SIZE_MAX));
    CASE("malloc(SIZE_MAX/2)", malloc(SIZE_MAX / 2));
    CASE("calloc(0,0)", p = calloc(0, 0)); free(p);
    CASE("calloc overflow", calloc(SIZE_MAX / 2, 3));
    CASE("calloc(1,SIZE_MAX)", calloc(1, SIZE_MAX));
    CASE("realloc(NULL,10)", p = realloc(NULL, 10));
    CASE("realloc(p,SIZE_MAX)", realloc(p, SIZE_MAX));
    CASE("realloc(p,1000)", p = realloc(p, 1000));
    CASE("realloc(p,0)", realloc(p, 0));
    CASE("reallocarray overflow", reallocarray(NULL, SIZE_MAX / 2, 3));
    CASE("reallocarray(NULL,2,8)", p = reallocarray(NULL, 2, 8)); free(p);
    int rc;
    errno = SENT; rc = posix_memalign(&q, 3, 10); printf("%-28s rc=%d errno=%d\n", "posix_memalign(3)", rc, errno);
    errno = SENT; rc = posix_memalign(&q, 0, 10); printf("%-28s rc=%d errno=%d\n", "posix_memalign(0)", rc, errno);
    errno = SENT; rc = posix_memalign(&q, 4, 10); printf("%-28s rc=%d errno=%d\n", "posix_memalign(4)", rc, errno);
    errno = SENT; rc = posix_memalign(&q, 64, SIZE_MAX); printf("%-28s rc=%d errno=%d\n", "posix_memalign(64,MAX)", rc, errno);
    errno = SENT; rc = posix_memalign(&q, 64, 100); printf("%-28s rc=%d errno=%d\n", "posix_memalign(64,100)", rc, errno); free(q);
    CASE("aligned_alloc(3,10)", p = aligned_alloc(3, 10)); free(p);
    CASE("aligned_alloc(0,10)", p = aligned_alloc(0, 10)); free(p);
    CASE("aligned_alloc(64,10)", p = aligned_alloc(64, 10)); free(p);
    CASE("aligned_alloc(64,MAX)", aligned_alloc(64, SIZE_MAX));
    CASE("aligned_alloc(2^63+1,1)", aligned_alloc(((size_t)1 << 63) + 1, 1));
    CASE("memalign(3,10)", p = memalign(3, 10)); free(p);
    CASE("memalign(0,10)", p = memalign(0, 10)); free(p);
    CASE("memalign(2^63,1)", memalign((size_t)1 << 63, 1));
    CASE("memalign(2^63+1,1)", memalign(((size_t)1 << 63) + 1, 1));
    CASE("memalign(64,MAX)", memalign(64, SIZE_MAX));
    CASE("valloc(10)", p = valloc(10)); free(p);
    CASE("valloc(MAX)", valloc(SIZE_MAX));
    CASE("pvalloc(0)", p = pvalloc(0)); free(p);
    CASE("pvalloc(MAX)", pvalloc(SIZE_MAX));
    CASE("malloc_usable_size(NULL)", malloc_usable_size(NULL) + 1);
    p = malloc(10);
    CASE("malloc_usable_size(p)", malloc_usable_size(p)); free(p);
    CASE("malloc_trim(0)", malloc_trim(0) + 1);
    CASE("mallopt(M_MXFAST,0)", mallopt(M_MXFAST, 0));
    CASE("mallopt(M_MXFAST,1000)", mallopt(M_MXFAST, 1000));
    CASE("mallopt(M_MXFAST,-1)", mallopt(M_MXFAST, -1));
    CASE("mallopt(M_TRIM_THRESHOLD,1)", mallopt(M_TRIM_THRESHOLD, 1));
    CASE("mallopt(M_TOP_PAD,1)", mallopt(M_TOP_PAD, 1));
    CASE("mallopt(M_MMAP_THRESHOLD,1)", mallopt(M_MMAP_THRESHOLD, 1));
    CASE("mallopt(M_MMAP_THRESHOLD,-1)", mallopt(M_MMAP_THRESHOLD, -1));
    CASE("mallopt(M_MMAP_MAX,1)", mallopt(M_MMAP_MAX, 1));
    CASE("mallopt(M_CHECK_ACTION,1)", mallopt(M_CHECK_ACTION, 1));
    CASE("mallopt(M_PERTURB,0)", mallopt(M_PERTURB, 0));
    CASE("mallopt(M_ARENA_TEST,1)", mallopt(M_ARENA_TEST, 1));
    CASE("mallopt(M_ARENA_TEST,0)", mallopt(M_ARENA_TEST, 0));
    CASE("mallopt(M_ARENA_MAX,0)", mallopt(M_ARENA_MAX, 0));
    CASE("mallopt(M_ARENA_MAX,-5)", mallopt(M_ARENA_MAX, -5));
    CASE("mallopt(12345,1)", mallopt(12345, 1));
    CASE("mallopt(-100,1)", mallopt(-100, 1));
    return 0;
}
