/* io.h - x86 port I/O and the few privileged instructions the kernel needs, as inline helpers
 * so that no C file carries raw inline assembly for them. */
#ifndef KERNEL_IO_H
#define KERNEL_IO_H

#include <stdint.h>

#define EFLAGS_IF (1u << 9) /* interrupt enable flag */

static inline void outb(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

/* A write to an unused port takes about a microsecond: old chips (the PIC) need the pause. */
static inline void io_wait(void)
{
    outb(0x80, 0);
}

static inline uint32_t read_eflags(void)
{
    uint32_t flags;
    __asm__ volatile("pushfl; popl %0" : "=r"(flags));
    return flags;
}

static inline uint32_t read_cr2(void)
{
    uint32_t value;
    __asm__ volatile("movl %%cr2, %0" : "=r"(value));
    return value;
}

/* The "memory" clobbers keep the compiler from moving heap accesses across the lock. */
static inline void cpu_cli(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void cpu_sti(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void cpu_hlt(void) { __asm__ volatile("hlt" : : : "memory"); }

#endif
