/* overrun.c - what a careless program does to its heap, under LD_PRELOAD=libkheap.so (run by
 * preload-test): off-by-one string copies, a byte written past a block, garbage over whole
 * blocks. None of it may crash the allocator, make it hand out memory that overlaps a live
 * block, or fail its exit check (KHEAP_CHECK=1): kheap keeps nothing inside the blocks.
 * Prints "ok: N rounds" and exits 0, or names the first thing that went wrong. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE 64
static unsigned char *live[LIVE];

/* No two live blocks share a byte. */
static int overlaps(void)
{
    for (int i = 0; i < LIVE; i++)
        for (int j = 0; j < LIVE; j++) {
            if (i == j || !live[i] || !live[j])
                continue;
            uintptr_t a = (uintptr_t)live[i], b = (uintptr_t)live[j];
            if (a <= b && b < a + malloc_usable_size(live[i]))
                return 1;
        }
    return 0;
}

static void slot_free(int i)
{
    free(live[i]);
    live[i] = NULL;
}

int main(void)
{
    static const unsigned char past[] = { 'c', 0x63, 0x93, 0xc3, 0xf3, 'g', 'C', 0, 0xff };
    static const size_t sizes[] = { 40, 28, 24, 48, 100 };
    unsigned rounds = 0;
    srand(12345);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t v = 0; v < sizeof past; v++, rounds++) {
            /* a block, a freed one after it, a live one after that */
            live[0] = malloc(sizes[s]);
            live[1] = malloc(sizes[s]);
            live[2] = malloc(sizes[s]);
            slot_free(1);
            memset(live[0], 'a', sizes[s]);
            live[0][sizes[s]] = past[v];                   /* one byte past the end */
            live[1] = malloc(sizes[s]);                    /* reuses the freed one */
            live[3] = malloc(sizes[s] * 2);
            if (!live[0] || !live[1] || !live[2] || !live[3] || overlaps()) {
                printf("FAIL: a byte 0x%02x past a %zu-byte block: overlapping or no memory\n",
                       past[v], sizes[s]);
                return 1;
            }
            for (int i = 0; i < 4; i++)
                slot_free(i);
        }
    /* the classic: strcpy of a 40-character string into malloc(40), a free block after it */
    char *a = malloc(40), *b = malloc(40), *c = malloc(40);
    free(b);
    strcpy(a, "0123456789012345678901234567890123456789");   /* 41 bytes */
    char *d = malloc(40);
    if (!d || d == a || d == c) {
        printf("FAIL: malloc after an off-by-one strcpy\n");
        return 1;
    }
    free(a);
    free(c);
    free(d);
    /* garbage over random live blocks and 16 bytes past each, then churn */
    for (int round = 0; round < 2000; round++, rounds++) {
        int i = rand() % LIVE;
        if (live[i] && rand() % 2) {
            size_t n = malloc_usable_size(live[i]) + 16;
            for (size_t k = 0; k < n; k++)
                live[i][k] = (unsigned char)rand();
            slot_free(i);
        } else if (!live[i]) {
            live[i] = malloc(1 + (size_t)rand() % 300);
        }
        if (overlaps()) {
            printf("FAIL: overlapping blocks after garbage, round %d\n", round);
            return 1;
        }
    }
    for (int i = 0; i < LIVE; i++)
        slot_free(i);
    printf("ok: %u rounds\n", rounds);
    return 0;
}
