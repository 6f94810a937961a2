/* string.c - memcpy, memmove, memset, memcmp (and a few str* helpers) for the kernel only.
 * Compilers emit calls to the mem* four even in freestanding code, and lib/ may use them.
 * Never linked into host programs: libc has its own.
 *
 * Copy and fill use the x86 string instructions: one instruction that modern CPUs run fast
 * (ERMSB) and that QEMU's TCG runs as a tight loop, which matters when a heap region's side
 * table of tens of MiB is cleared at boot. It also keeps the compiler from recognising the
 * loop and turning it back into a call to the function itself. */
#include <stdint.h>
#include "string.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    void *d = dst;

    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

/* Overlap with dst above src needs a backward copy: set DF, start at the last byte. The C ABI
 * requires DF clear again on return. */
static void copy_backward(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst + n - 1;
    const unsigned char *s = (const unsigned char *)src + n - 1;

    __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

void *memmove(void *dst, const void *src, size_t n)
{
    /* unsigned distance: dst below src wraps to a huge value, so only a dst inside
     * (src, src+n) copies backwards */
    if (n && (uintptr_t)dst - (uintptr_t)src < n)
        copy_backward(dst, src, n);
    else
        memcpy(dst, src, n);
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;

    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++)
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    return 0;
}
