/* idt.h - the Interrupt Descriptor Tables: every CPU exception and PIC IRQ enters trap.c. The
 * BSP builds one template; each CPU loads a copy of its own (idt_load), so that one CPU's
 * vectors can later be changed without touching the others'. */
#ifndef KERNEL_IDT_H
#define KERNEL_IDT_H

#include <stdint.h>

void     idt_init(void);          /* BSP: fills the template, then loads CPU 0's copy */
void     idt_load(unsigned cpu);  /* copies the template to CPU cpu's table; lidt it here */
uint32_t idt_base(unsigned cpu);  /* the linear base of CPU cpu's table (for the self-test) */
/* Points vector (48-255, past trap.c's stubs) at entry, an interrupt gate to raw assembly, in the
 * template and every copy already loaded. At boot, on the BSP, before the APs start. */
void     idt_set_handler(unsigned vector, void (*entry)(void));

#endif
