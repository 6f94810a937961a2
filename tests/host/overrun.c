/* overrun.c - proof that valgrind sees inside the default heap when lib/ is built with
 * -DKHEAP_VALGRIND=1 (lib/annotate.h): a one-byte overrun past a mem_alloc'd block and a read
 * after mem_free must both be reported. Run under valgrind by `make host-valgrind-annotate`,
 * which requires "Invalid write" and "Invalid read" and a non-zero --error-exitcode.
 * The request (33 bytes) leaves slack in its block, so the overrun stays inside the heap's
 * own bytes and only valgrind, not the heap, can notice it. The block freed is merged into a
 * free neighbour, so all of it is off limits: a block that heads a free run keeps the heap's
 * index node in its first bytes, which memcheck must be able to read (lib/annotate.h). */
#include <stdio.h>
#include "mem.h"

int main(void)
{
    void *before = mem_alloc(100);
    volatile unsigned char *p = mem_alloc(33);
    void *after = mem_alloc(100);
    if (!before || !p || !after)
        return 2;
    for (int i = 0; i < 33; i++)
        p[i] = (unsigned char)i;
    p[33] = 0xEE;                /* one byte past the end: "Invalid write of size 1" */
    mem_free(before);
    mem_free((void *)p);         /* merges into the free block before it */
    unsigned char got = p[5];    /* use after free: "Invalid read of size 1" */
    printf("overrun: read %u after free\n", got);
    mem_free(after);
    return mem_check() == 0 ? 0 : 3;
}
