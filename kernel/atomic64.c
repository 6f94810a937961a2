/* atomic64.c - the 8-byte atomic calls clang makes on i386 and compiler-rt does not provide.
 *
 * lib/arena.c counts misuse in a uint64_t with __atomic_fetch_add and reads it with
 * __atomic_load_n. On i386 a uint64_t inside a struct is only 4-byte aligned, so clang cannot
 * use one cmpxchg8b it trusts to be atomic and calls __atomic_fetch_add_8 and __atomic_load_8
 * instead; GCC inlines them (so this file is empty there). Every such access then goes through
 * these two, so one lock makes them atomic with respect to each other: a ticket spinlock with
 * interrupts masked, since a timer handler may count an error too. The counter is a diagnostic,
 * read and bumped rarely; the lock costs nothing that matters. */
#ifdef __clang__
#include <stdint.h>
#include "spinlock.h"

uint64_t __atomic_load_8(const volatile void *p, int order);
uint64_t __atomic_fetch_add_8(volatile void *p, uint64_t v, int order);

static struct spinlock atomic64_lock;

uint64_t __atomic_load_8(const volatile void *p, int order)
{
    uint32_t flags = spin_lock_irqsave(&atomic64_lock);
    uint64_t v = *(const volatile uint64_t *)p;

    (void)order; /* the lock orders more strongly than any order asked */
    spin_unlock_irqrestore(&atomic64_lock, flags);
    return v;
}

uint64_t __atomic_fetch_add_8(volatile void *p, uint64_t v, int order)
{
    uint32_t flags = spin_lock_irqsave(&atomic64_lock);
    uint64_t old = *(volatile uint64_t *)p;

    (void)order;
    *(volatile uint64_t *)p = old + v;
    spin_unlock_irqrestore(&atomic64_lock, flags);
    return old;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int atomic64_unused;
#endif
