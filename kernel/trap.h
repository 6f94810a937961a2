/* trap.h - what the interrupt entry stubs (vectors.S) save, and the C side that handles it. */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

#define TRAP_EXCEPTIONS 32   /* vectors 0-31: CPU exceptions */
#define TRAP_IRQ_BASE   32   /* vectors 32-47: the two PICs' IRQ 0-15, after remapping */
#define TRAP_IRQS       16
#define TRAP_STUBS      (TRAP_IRQ_BASE + TRAP_IRQS)

/* The stack as vectors.S leaves it, lowest address first. Field order must match the pushes. */
struct trap_frame {
    uint32_t gs, fs, es, ds;                          /* pushed by trap_common */
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax; /* pusha */
    uint32_t vector, error;                           /* pushed by each stub (error 0 if none) */
    uint32_t eip, cs, eflags;                         /* pushed by the CPU */
};

extern const uint32_t trap_stubs[TRAP_STUBS]; /* entry address of each stub, from vectors.S */

typedef void (*trap_irq_fn)(void);

void trap_dispatch(struct trap_frame *frame);       /* called by vectors.S only */
/* The handler for IRQ line irq (NULL: none; the IRQ is then reported and ignored). The line
 * must be unmasked at the PIC separately; trap.c ends each IRQ at the PIC after the handler. */
void trap_set_irq_handler(unsigned irq, trap_irq_fn handler);
unsigned trap_irq_reports(void);                    /* IRQs reported and ignored so far */

#endif
