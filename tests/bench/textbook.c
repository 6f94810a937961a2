/* textbook.c - the textbook allocator, as the benchmark's space baseline: address-ordered first
 * fit over one sorted, singly linked free list (K&R's malloc, made first fit and given a used
 * bit). Small on purpose: it is what kheap's space figure is compared against, not a product.
 *
 * Format. Every block, used or free, starts with one size_t word:
 *
 *   used:  [ size | USED ][ payload ................................ ]
 *   free:  [ size        ][ next free block ][ (unused) ............ ]
 *
 *   size = the whole block in bytes (this word included), a multiple of ALIGN, >= MIN_BLOCK (16:
 *   the size word and the next pointer). The free list holds every free block, sorted by
 *   address, linked through the first payload word. No footers, no side tables: the space used
 *   is exactly the blocks. The arena's last word is an end marker (size 0, USED), so every block
 *   has a next header to look at.
 *
 * TEXTBOOK_ALIGN (8 or 16, at compile time) is the payload alignment. At 16 the first block
 * starts 8 bytes into the (16-aligned) arena, so every size word sits 8 bytes before a
 * 16-aligned payload and sizes are multiples of 16; at 8 sizes are multiples of 8.
 *
 * Policies (those of lib/heap.c at commit 6dbb346, but for the format):
 *   block size for a request of n bytes: round_up(n + HDR, ALIGN), at least MIN_BLOCK;
 *   alloc: the lowest-addressed free block that is large enough; the rest is split off above
 *     as a free block if it can stand as one (>= MIN_BLOCK), else the whole block is handed out;
 *   free: the block goes into the list at its address and merges at once with the free blocks
 *     just before and just after it when they touch it (no two free blocks are ever adjacent);
 *   realloc: shrinks in place (the rest split off if it can stand, and merged with a free next
 *     neighbour); grows in place into a free next neighbour when that suffices (splitting as
 *     alloc does); otherwise allocates, copies and frees. A failure leaves the block alone.
 *
 * Cost: alloc, free and realloc walk the free list, O(free blocks) each. There are no misuse
 * checks: the benchmark hands back only what it got. */
#include "textbook.h"

#include <stdint.h>
#include <string.h>

#ifndef TEXTBOOK_ALIGN
#define TEXTBOOK_ALIGN 16
#endif
#if TEXTBOOK_ALIGN != 8 && TEXTBOOK_ALIGN != 16
#error "TEXTBOOK_ALIGN must be 8 or 16"
#endif

#define ALIGN     ((size_t)TEXTBOOK_ALIGN)
#define HDR       sizeof(size_t)  /* the size word: 8 bytes on the 64-bit hosts the bench runs on */
#define USED      ((size_t)1)     /* sizes are multiples of 8, so bit 0 is free for the flag */
#define MIN_BLOCK ((size_t)16)    /* size word + next pointer */

typedef struct blk {
    size_t hdr;        /* size | USED */
    struct blk *next;  /* free blocks only: the next free block up, or NULL */
} blk;

_Static_assert(sizeof(blk) <= MIN_BLOCK, "a free block's size word and link fit the minimum block");

static blk *free_head;   /* the lowest free block */
static blk *first;       /* the first block of the arena */
static blk *end_marker;  /* the last word: size 0, USED */

static inline size_t bsize(const blk *b) { return b->hdr & ~USED; }
static inline int    bused(const blk *b) { return (b->hdr & USED) != 0; }
static inline blk   *at(void *addr)      { return (blk *)addr; }
static inline blk   *bnext(blk *b)       { return at((char *)b + bsize(b)); }
static inline void  *payload(blk *b)     { return (char *)b + HDR; }
static inline blk   *block_of(const void *p) { return at((char *)(uintptr_t)p - HDR); }

/* The block size for a request of n bytes, or 0 if no block could be that large. */
static size_t block_size_for(size_t n)
{
    if (n > ((size_t)-1 >> 1))
        return 0;
    size_t s = (n + HDR + ALIGN - 1) & ~(ALIGN - 1);
    return s < MIN_BLOCK ? MIN_BLOCK : s;
}

size_t tb_alignment(void) { return ALIGN; }

void tb_init(void *arena, size_t bytes)
{
    size_t lead = (ALIGN - HDR % ALIGN) % ALIGN;  /* so that the first payload is ALIGN-aligned */
    first = at((char *)arena + lead);
    first->hdr = (bytes - lead - HDR) & ~(ALIGN - 1); /* the end marker takes the last word */
    first->next = NULL;
    end_marker = bnext(first);
    end_marker->hdr = 0 | USED;
    free_head = first;
}

/* Put free block b into the list at its address, merging it with the free block before it
 * and the one after it where they touch. */
static void insert_free(blk *b)
{
    blk *prev = NULL, *next = free_head;
    while (next && next < b) {
        prev = next;
        next = next->next;
    }
    if (next && bnext(b) == next) {        /* merge with the one after */
        b->hdr += next->hdr;
        next = next->next;
    }
    b->next = next;
    if (!prev)
        free_head = b;
    else if (bnext(prev) == b) {           /* merge into the one before */
        prev->hdr += b->hdr;
        prev->next = next;
    } else
        prev->next = b;
}

/* Make the first `need` bytes of free block b (reached from the list through *link, `size`
 * bytes long, its successor in the list `after`) a used block: the rest stays free, in b's
 * place in the list, if it can stand as a block; else the whole block is used. */
static void take(blk **link, blk *b, size_t size, blk *after, size_t need)
{
    if (size - need >= MIN_BLOCK) {
        blk *rest = at((char *)b + need);
        rest->hdr = size - need;
        rest->next = after;
        *link = rest;
        size = need;
    } else {
        *link = after;
    }
    b->hdr = size | USED;
}

void *tb_alloc(size_t n)
{
    size_t need = block_size_for(n);
    if (!n || !need)
        return NULL;
    for (blk **link = &free_head; *link; link = &(*link)->next) {
        blk *b = *link;
        if (b->hdr >= need) {              /* free: the word is the size */
            take(link, b, b->hdr, b->next, need);
            return payload(b);
        }
    }
    return NULL;
}

void tb_free(void *p)
{
    if (!p)
        return;
    blk *b = block_of(p);
    b->hdr &= ~USED;
    insert_free(b);
}

size_t tb_usable_size(const void *p) { return p ? bsize(block_of(p)) - HDR : 0; }

void *tb_realloc(void *p, size_t n)
{
    if (!p)
        return tb_alloc(n);
    if (!n) {
        tb_free(p);
        return NULL;
    }
    blk *b = block_of(p);
    size_t size = bsize(b), need = block_size_for(n);
    if (!need)
        return NULL;
    if (need <= size) {                    /* shrink in place */
        if (size - need >= MIN_BLOCK) {
            blk *rest = at((char *)b + need);
            rest->hdr = size - need;
            b->hdr = need | USED;
            insert_free(rest);             /* b, before it, is used: merges only upwards */
        }
        return p;
    }
    blk *next = bnext(b);
    if (!bused(next) && size + next->hdr >= need) { /* grow in place into the next block */
        blk **link = &free_head;
        while (*link != next)
            link = &(*link)->next;
        size_t nsize = next->hdr;          /* read before the rest's word may land on them */
        blk *after = next->next;
        take(link, b, size + nsize, after, need);
        return p;
    }
    void *q = tb_alloc(n);                 /* move */
    if (!q)
        return NULL;
    memcpy(q, p, size - HDR < n ? size - HDR : n);
    tb_free(p);
    return q;
}

int tb_check(size_t *used_blocks, size_t *free_blocks)
{
    int problems = 0;
    size_t used = 0, nfree = 0;
    blk *want = free_head;                 /* the next free block the list says comes */
    int prev_free = 0;
    blk *b = first;
    while (b != end_marker) {
        size_t s = bsize(b);
        if (s < MIN_BLOCK || s % ALIGN || (uintptr_t)payload(b) % ALIGN ||
            (char *)b + s > (char *)end_marker) {
            problems++;                    /* a bad size: the walk cannot go on */
            break;
        }
        if (bused(b)) {
            used++;
            prev_free = 0;
        } else {
            nfree++;
            if (b != want)                 /* the list skips or misorders this block */
                problems++;
            if (prev_free)                 /* two free blocks side by side */
                problems++;
            want = b->next;
            prev_free = 1;
        }
        b = bnext(b);
    }
    if (want)                              /* the list holds something that is not a free block */
        problems++;
    if (end_marker->hdr != (0 | USED))
        problems++;
    *used_blocks = used;
    *free_blocks = nfree;
    return problems;
}
