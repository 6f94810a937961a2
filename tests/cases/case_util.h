/* case_util.h - helpers shared by the allocator cases (tests/cases/): the block format the
 * cases rely on, a PRNG, stamps at both ends of a block, heap snapshots and a recording error
 * handler. Freestanding: the cases also run inside the i386 kernel. */
#ifndef KHEAP_CASE_UTIL_H
#define KHEAP_CASE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "case.h"
#include "heap.h"

/* ---- The block format as the cases see it (heap.c's top comment) ------------------------- */

/* Blocks have no header: a request takes its size rounded up to 16, at least 16 bytes (an
 * aligned block from aligned_alloc above 16: at least 32). */
#define T_WORD      ((size_t)0)
#define T_MIN_BLOCK ((size_t)16)
#define T_MIN_ALIGNED ((size_t)32)

size_t t_block_size(size_t n);            /* the whole block a request of n bytes takes */
size_t t_align_up(size_t v, size_t a);

/* ---- Knobs a runner may set before running cases (the kernel leaves the defaults) -------- */

extern uint32_t case_seed_override; /* non-zero: the seed every random case uses */
extern unsigned case_scale;         /* multiplies the operation counts of the stress cases */

uint32_t case_seed(uint32_t fallback);

/* ---- xorshift32 ----------------------------------------------------------------------- */

struct rng { uint32_t s; };
void     rng_seed(struct rng *r, uint32_t seed);
uint32_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n); /* 0 .. n-1 (n > 0) */

/* ---- Memory the cases build heaps over (cases run one at a time) ----------------------- */

#define ARENA_BIG   (256u * 1024u)
#define ARENA_SMALL (64u * 1024u)
extern unsigned char case_arena_big[ARENA_BIG];
extern unsigned char case_arena_small[ARENA_SMALL];

/* ---- Stamps: a pattern at both ends of a block, checked before it is freed ---------------- */

void stamp(void *p, size_t n, uint32_t tag);
int  stamp_ok(const void *p, size_t n, uint32_t tag);
int  all_bytes(const void *p, size_t n, unsigned char v);

/* ---- Snapshots ------------------------------------------------------------------------ */

#define WALK_MAX 512
struct wblock { uintptr_t ptr; size_t size; int used; };
struct walk { size_t n; int overflow; struct wblock b[WALK_MAX]; };

void   walk_take(struct heap *h, struct walk *w);
int    walk_equal(const struct walk *a, const struct walk *b);
/* Index of the block whose payload is p, or -1. */
long   walk_find(const struct walk *w, const void *p);
/* Compare heap_stats with what a walk adds up; returns 0 when they agree (prints otherwise). */
int    stats_match_walk(struct heap *h);
/* The state fields (free/used bytes and blocks, largest free) of two stats are equal. */
int    stats_state_equal(const struct mem_stats *a, const struct mem_stats *b);

/* An exact picture of a heap whose memory is [mem, mem + len): its stats, its walk and the
 * bytes themselves. A misuse must leave all three as they were. */
struct snapshot {
    struct mem_stats stats;
    const unsigned char *mem;
    size_t len;
};
extern struct walk snap_walk;
void snapshot_take(struct heap *h, struct snapshot *s, const void *mem, size_t len);
/* 0 when the heap is exactly as in s, except error_count raised by `errors` and failed_count
 * by `failed`. */
int  snapshot_same(struct heap *h, const struct snapshot *s, uint64_t errors, uint64_t failed);

/* ---- A recording error handler ---------------------------------------------------------- */

struct err_log {
    unsigned count;          /* reports since err_record_begin */
    enum mem_error err;      /* the last one */
    const void *ptr;
};
extern struct err_log err_log;
mem_error_fn err_record_begin(void);      /* install the recorder; returns the previous handler */
void         err_record_end(mem_error_fn previous);
void         err_log_clear(void);

/* ---- Checking after every operation ---------------------------------------------------- */

#define VALID(h) CHECK(heap_check(h) == 0)
#define ALIGNED(p, a) (((uintptr_t)(p) & ((uintptr_t)(a) - 1)) == 0)

/* Shared by the kernel-sized case and the host-only 1 MiB test: aligned_alloc for every power
 * of two up to max_align over a fresh heap on [mem, mem + len), checking the placement rule. */
void aligned_sweep(void *mem, size_t len, size_t max_align);

#endif
