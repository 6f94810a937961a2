/* karena.h - one arena per CPU (lib/arena.h), and the policy that splits the RAM among them.
 *
 * The policy, and why: every region the memory map gives (regions.c) of at least
 * KARENA_SPLIT_MIN bytes is cut in two halves. The default heap (lib/mem.c) keeps the first
 * half: the shared allocator cases, the timer case, the older SMP case and the shell all use
 * it, and some of them want a few MiB in one block. The second half is cut into equal,
 * page-aligned pieces, one per CPU online (the last takes the odd pages), and each piece is
 * added to that CPU's arena with arena_add_region. Equal shares, because every CPU runs the same
 * kind of work here and none has a claim to more; a CPU whose arena is full borrows from the
 * others anyway (arena_alloc tries them in turn). A smaller region stays whole in the default
 * heap: cut n + 1 ways it would give pieces too small to be worth their bookkeeping.
 *
 * Locks: each arena has its own ticket spinlock that masks interrupts (spinlock.h), and the
 * range table has one more. A CPU allocates with who = its index (smp_cpu_index), so with
 * nothing borrowed it takes only its own arena's lock, which no other CPU takes except to free
 * a block that CPU handed on. make kernel BROKEN_LOCK=1 keeps the interrupt masking and drops
 * the spinlocks, as it does for the default heap (seam.c). */
#ifndef KERNEL_KARENA_H
#define KERNEL_KARENA_H

#include <stddef.h>
#include <stdint.h>
#include "arena.h"

#define KARENA_SPLIT_MIN 0x400000u /* 4 MiB: a smaller region stays in the default heap */

/* Before regions_setup_with(boot, karena_add_region): one arena per CPU, cpus >= 1. */
void karena_init(unsigned cpus);
/* regions_setup_with's add: splits [start, start + size) as above, adds the pieces. 0, or the
 * default heap's refusal (an arena's refusal is printed, and its piece left out). */
int  karena_add_region(void *start, size_t size);

struct arena_set *karena_set(void); /* the set (count == CPUs online at boot) */
unsigned karena_count(void);

/* The pieces added, in the order they were: owner -1 for the default heap, else the arena. */
unsigned karena_pieces(void);
int      karena_piece(unsigned i, int *owner, uintptr_t *start, size_t *size);

/* Arena i's heap and lock, for a walk (memmap.c) that arena.h has no call for. */
struct heap  *karena_heap(unsigned i);
unsigned long karena_lock(unsigned i);
void          karena_unlock(unsigned i, unsigned long state);

/* Every heap at once: the default heap's stats and arena_stats(ARENA_ALL) summed. */
void karena_stats_all(struct mem_stats *out);

#endif
