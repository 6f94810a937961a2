/* karena.c - the CPUs' arenas (see karena.h for the policy and the locks). */
#include <stdint.h>
#include "io.h"
#include "karena.h"
#include "kprintf.h"
#include "mem.h"
#include "smp.h"
#include "spinlock.h"

#define PAGE_SIZE    0x1000u
#define REGIONS_MAX  16 /* regions.c's limit */
#define PIECES_MAX   (REGIONS_MAX * (SMP_CPUS_MAX + 1))

static struct arena arenas[SMP_CPUS_MAX];
static struct spinlock arena_locks[SMP_CPUS_MAX], table_lock;
static struct arena_range ranges[REGIONS_MAX * SMP_CPUS_MAX];
static struct arena_set set;

static struct piece {
    int owner;
    uintptr_t start;
    size_t size;
} pieces[PIECES_MAX];
static unsigned piece_count;

/* arena.h's lock callbacks; ctx is the spinlock. The broken build masks interrupts only, so
 * one CPU is still safe from its own timer and several CPUs race (the SMP cases must fail). */
static unsigned long lock_take(void *ctx)
{
#ifdef KHEAP_BROKEN_LOCK
    uint32_t flags = read_eflags();

    (void)ctx;
    cpu_cli();
    return flags;
#else
    return spin_lock_irqsave(ctx);
#endif
}

static void lock_drop(void *ctx, unsigned long state)
{
#ifdef KHEAP_BROKEN_LOCK
    (void)ctx;
    if (state & EFLAGS_IF)
        cpu_sti();
#else
    spin_unlock_irqrestore(ctx, (uint32_t)state);
#endif
}

static const struct arena_lock lock_ops = { lock_take, lock_drop };

void karena_init(unsigned cpus)
{
    if (cpus < 1)
        cpus = 1;
    if (cpus > SMP_CPUS_MAX)
        cpus = SMP_CPUS_MAX;
    for (unsigned i = 0; i < cpus; i++)
        arenas[i].lock_ctx = &arena_locks[i];
    if (arena_init(&set, arenas, cpus, &lock_ops, &table_lock, ranges, sizeof(ranges) / sizeof(ranges[0])) < 0)
        kprintf("karena: arena_init failed\n"); /* only for bad arguments, which these are not */
}

static void record(int owner, uintptr_t start, size_t size)
{
    if (piece_count < PIECES_MAX)
        pieces[piece_count++] = (struct piece){ owner, start, size };
}

int karena_add_region(void *start, size_t size)
{
    uintptr_t at = (uintptr_t)start;
    size_t keep = size, share;
    int err;

    /* regions.c hands over whole pages; the halves and shares stay whole pages too */
    if (size >= KARENA_SPLIT_MIN)
        keep = (size / 2) & ~(size_t)(PAGE_SIZE - 1);
    if ((err = mem_add_region(start, keep)) < 0)
        return err;
    record(-1, at, keep);
    if (keep == size) {
        kprintf("heap: 0x%08x-0x%08x to the default heap (under %u KiB: not split)\n", (unsigned)at,
                (unsigned)(at + size - 1), KARENA_SPLIT_MIN >> 10);
        return 0;
    }
    kprintf("heap: 0x%08x-0x%08x to the default heap, %zu KiB\n", (unsigned)at, (unsigned)(at + keep - 1),
            keep >> 10);
    share = ((size - keep) / set.count) & ~(size_t)(PAGE_SIZE - 1);
    at += keep;
    for (unsigned i = 0; i < set.count; i++) {
        size_t piece = i + 1 == set.count ? (uintptr_t)start + size - at : share;

        err = arena_add_region(&set, i, (void *)at, piece);
        if (err < 0)
            kprintf("heap: arena_add_region(cpu %u, 0x%08x, %zu) failed: %d (%s)\n", i, (unsigned)at, piece,
                    err, mem_strerror((enum mem_error)-err));
        else {
            record((int)i, at, piece);
            kprintf("heap: 0x%08x-0x%08x to cpu %u's arena, %zu KiB\n", (unsigned)at, (unsigned)(at + piece - 1),
                    i, piece >> 10);
        }
        at += piece;
    }
    return 0;
}

struct arena_set *karena_set(void)
{
    return &set;
}

unsigned karena_count(void)
{
    return set.count;
}

unsigned karena_pieces(void)
{
    return piece_count;
}

int karena_piece(unsigned i, int *owner, uintptr_t *start, size_t *size)
{
    if (i >= piece_count)
        return -1;
    *owner = pieces[i].owner;
    *start = pieces[i].start;
    *size = pieces[i].size;
    return 0;
}

struct heap *karena_heap(unsigned i)
{
    return &arenas[i].heap;
}

unsigned long karena_lock(unsigned i)
{
    return lock_take(arenas[i].lock_ctx);
}

void karena_unlock(unsigned i, unsigned long state)
{
    lock_drop(arenas[i].lock_ctx, state);
}

void karena_stats_all(struct mem_stats *out)
{
    struct mem_stats d, a;

    mem_stats(&d);
    arena_stats(&set, ARENA_ALL, &a);
    arena_stats_add(&d, &a);
    *out = d;
}
