/* pit.h - the 8254 programmable interval timer, channel 0, ticking on IRQ 0. */
#ifndef KERNEL_PIT_H
#define KERNEL_PIT_H

#include "trap.h"

/* Programs channel 0 as a rate generator at about hz ticks per second, sets tick as the IRQ 0
 * handler and unmasks the line. Interrupts still need sti to arrive. */
void pit_start(unsigned hz, trap_irq_fn tick);
void pit_stop(void); /* masks IRQ 0 and drops the handler */

/* Busy-waits at least us microseconds on channel 2, with no interrupt; channel 0 and IRQ 0
 * are untouched. One CPU at a time. */
void pit_delay_us(unsigned us);

#endif
