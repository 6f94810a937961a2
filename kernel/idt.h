/* idt.h - the Interrupt Descriptor Table: every CPU exception and PIC IRQ enters trap.c. */
#ifndef KERNEL_IDT_H
#define KERNEL_IDT_H

void idt_init(void);  /* fills the table and loads it on this CPU */
void idt_load(void);  /* loads the same table on this CPU (each AP) */
/* Points vector (48-255, past trap.c's stubs) at entry, an interrupt gate to raw assembly. */
void idt_set_handler(unsigned vector, void (*entry)(void));

#endif
