/* spinlock.h - a ticket spinlock for the kernel's few shared structures (the default heap's
 * lock in seam.c, the console in uart.c, the SMP self-test's mailboxes).
 *
 * A ticket lock rather than a test-and-set flag: CPUs that hold tickets get the lock in the
 * order they took them, so no CPU starves. Taking a ticket is one `lock xadd`
 * (__atomic_fetch_add); the holder releases by bumping `owner` with a release store, and a
 * waiter's acquire load of `owner` then sees everything the holder wrote. All zeros is the
 * unlocked state, so a static lock needs no initialiser.
 *
 * A CPU waits until the lock looks free before it takes a ticket. A plain ticket lock hands
 * the lock to the next ticket even when that CPU is not running, and everyone behind it waits
 * until it runs again. Under QEMU (TCG, a host thread per vCPU) with more vCPUs than host
 * cores, the host deschedules waiters all the time: with CPUS=4 on two cores the SMP
 * self-test took from 6 s to over 60 s that way, against 0.3-0.5 s with this wait (measured).
 * Waiting outside the queue costs nothing there, so queues stay short; FIFO order still
 * holds among the tickets taken.
 *
 * The _irqsave forms also mask interrupts on this CPU for as long as the lock is held: an
 * interrupt handler that wanted the same lock would otherwise spin forever on a lock its own
 * CPU holds. They return the caller's EFLAGS; the unlock restores IF only if it was set. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>
#include "io.h"

struct spinlock {
    uint32_t next;  /* the ticket the next arrival takes */
    uint32_t owner; /* the ticket that holds the lock */
};

/* pause: tells the CPU (and QEMU) that this is a spin-wait loop. */
static inline void cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }

static inline int spin_is_free(struct spinlock *l)
{
    return __atomic_load_n(&l->next, __ATOMIC_RELAXED) == __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
}

static inline void spin_acquire(struct spinlock *l)
{
    uint32_t ticket;

    while (!spin_is_free(l))
        cpu_relax();
    ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();
}

static inline void spin_release(struct spinlock *l)
{
    /* only the holder writes owner, so a plain read of it is exact */
    __atomic_store_n(&l->owner, __atomic_load_n(&l->owner, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

static inline uint32_t spin_lock_irqsave(struct spinlock *l)
{
    uint32_t flags = read_eflags();

    cpu_cli();
    spin_acquire(l);
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint32_t flags)
{
    spin_release(l);
    if (flags & EFLAGS_IF)
        cpu_sti();
}

#endif
