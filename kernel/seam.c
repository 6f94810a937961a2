/* seam.c - the kernel's side of lib/seam.h: what the allocator needs from the platform.
 * Lock: this kernel runs on one CPU, so masking interrupts is enough to keep an interrupt
 * handler from entering the heap halfway through an operation. On SMP a spinlock would be
 * taken here too, after the cli. Memory: the regions from the memory map are all there is. */
#include <stdint.h>
#include "io.h"
#include "qemu.h"
#include "seam.h"
#include "uart.h"

/* Returns the caller's EFLAGS, so the unlock restores IF only if it was set: nested lock
 * holders and code that runs with interrupts off stay that way. */
unsigned long seam_lock(void)
{
    uint32_t flags = read_eflags();

    cpu_cli();
    return flags;
}

void seam_unlock(unsigned long state)
{
    if (state & EFLAGS_IF)
        cpu_sti();
}

void seam_write(const char *text, size_t len)
{
    uart_write(text, len);
}

/* The default error handler's end: misuse of the heap is a kernel bug, so the run fails. */
void seam_fatal(const char *line, size_t len)
{
    cpu_cli();
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
