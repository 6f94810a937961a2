/* seam.c - the kernel's side of lib/seam.h: what the allocator needs from the platform.
 * Memory: the regions from the memory map are all there is.
 *
 * Lock: a ticket spinlock (spinlock.h) that also masks interrupts on the local CPU while it is
 * held. Both halves are needed. The spinlock keeps the other CPUs out of the heap (kernel/smp.c
 * starts them). Masking interrupts keeps this CPU's own interrupt handlers out: the timer
 * self-test (kcase_irq.c) allocates from IRQ 0, and a handler that found the lock taken by the
 * code it interrupted would spin forever, since that code cannot run again until the handler
 * returns. So interrupts go off first, then the ticket is taken; the unlock hands the lock on
 * first, then restores IF only if the caller had it set, so nested holders and code that runs
 * with interrupts off stay that way.
 *
 * make kernel BROKEN_LOCK=1 builds with -DKHEAP_BROKEN_LOCK: the spinlock goes, the interrupt
 * masking stays. One CPU still works (that is all the lock did before SMP); several corrupt the
 * heap, which the SMP self-test (kcase_smp.c) must then report as a failure. */
#include <stdint.h>
#include "io.h"
#include "qemu.h"
#include "seam.h"
#include "spinlock.h"
#include "uart.h"

static struct spinlock heap_lock;

unsigned long seam_lock(void)
{
#ifdef KHEAP_BROKEN_LOCK
    uint32_t flags = read_eflags();

    cpu_cli();
    (void)heap_lock;
    return flags;
#else
    return spin_lock_irqsave(&heap_lock);
#endif
}

void seam_unlock(unsigned long state)
{
#ifdef KHEAP_BROKEN_LOCK
    if (state & EFLAGS_IF)
        cpu_sti();
#else
    spin_unlock_irqrestore(&heap_lock, (uint32_t)state);
#endif
}

void seam_write(const char *text, size_t len)
{
    uart_write(text, len);
}

/* The default error handler's end: misuse of the heap is a kernel bug, so the run fails. */
void seam_fatal(const char *line, size_t len)
{
    cpu_cli();
    (void)uart_lock(); /* one line, even when two CPUs panic at once; never given back */
    uart_write("PANIC: ", 7);
    uart_write(line, len);
    if (len == 0 || line[len - 1] != '\n')
        uart_putc('\n');
    qemu_exit(QEMU_EXIT_FAILURE);
}

/* No paging and no reserve: the memory map's regions were the whole heap from the start. */
int seam_grow(size_t need, struct seam_region *out)
{
    (void)need;
    (void)out;
    return -1;
}

/* No region the kernel hands out has a reserve, so this is never asked. */
int seam_extend(void *start, size_t size)
{
    (void)start;
    (void)size;
    return -1;
}

/* Nowhere to give memory back to: keep every region. */
int seam_release_wanted(void *start, size_t size)
{
    (void)start;
    (void)size;
    return -1;
}

void seam_unmap(void *start, size_t size)
{
    (void)start;
    (void)size;
}
