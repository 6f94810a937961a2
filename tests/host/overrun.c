/* overrun.c - proof that valgrind sees inside the default heap when lib/ is built with
 * -DKHEAP_VALGRIND=1 (lib/annotate.h): a one-byte overrun past a mem_alloc'd block and reads
 * after mem_free must all be reported. Run under valgrind by `make host-valgrind-annotate`,
 * which requires the "Invalid write" and three "Invalid read"s and a non-zero --error-exitcode.
 * The request (33 bytes) leaves slack in its block, so the overrun stays inside the heap's
 * own bytes and only valgrind, not the heap, can notice it. One freed block merges into a free
 * neighbour, the other heads a free block of its own: the heap keeps nothing in either, so
 * every byte of both is off limits, the first ones included. */
#include <stdio.h>
#include "mem.h"

int main(void)
{
    void *before = mem_alloc(100);
    volatile unsigned char *p = mem_alloc(33);
    void *after = mem_alloc(100);
    volatile unsigned char *lone = mem_alloc(64);
    void *guard = mem_alloc(100);
    if (!before || !p || !after || !lone || !guard)
        return 2;
    for (int i = 0; i < 33; i++)
        p[i] = (unsigned char)i;
    p[33] = 0xEE;                /* one byte past the end: "Invalid write of size 1" */
    mem_free(before);
    mem_free((void *)p);         /* merges into the free block before it */
    unsigned char got = p[5];    /* use after free: "Invalid read of size 1" */
    mem_free((void *)lone);      /* between used blocks: a free block of its own */
    unsigned char first = lone[0], last32 = lone[31];   /* "Invalid read of size 1", twice */
    printf("overrun: read %u, %u and %u after free\n", got, first, last32);
    mem_free(after);
    mem_free(guard);
    return mem_check() == 0 ? 0 : 3;
}
