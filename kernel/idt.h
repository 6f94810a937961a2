/* idt.h - the Interrupt Descriptor Table: every CPU exception and PIC IRQ enters trap.c. */
#ifndef KERNEL_IDT_H
#define KERNEL_IDT_H

void idt_init(void);

#endif
