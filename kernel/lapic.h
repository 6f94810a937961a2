/* lapic.h - the local APIC of each CPU, in xAPIC mode: memory-mapped registers at the address
 * the MADT gives (normally 0xFEE00000; paging is off, so the MMIO address is used directly).
 * Every CPU sees its own APIC at the same address. */
#ifndef KERNEL_LAPIC_H
#define KERNEL_LAPIC_H

#include <stdint.h>

#define LAPIC_WAKE_VECTOR     0xF0 /* the IPI that wakes an idle AP from hlt (smp.c) */
#define LAPIC_TIMER_VECTOR    0xF1 /* each CPU's own timer (lapic_timer_start) */
#define LAPIC_SPURIOUS_VECTOR 0xFF /* low four bits all ones: older APICs hardwire them */

void     lapic_set_base(uint32_t address); /* before anything else here; sets the IDT gates */
int      lapic_present(void);              /* lapic_set_base was called */
uint32_t lapic_id(void);                   /* this CPU's APIC id */
/* Software-enables this CPU's APIC (spurious vector register), timer and error LVTs masked.
 * The BSP keeps LINT0 as ExtINT, so the 8259 PIC's interrupts still reach it (virtual wire
 * mode); an AP masks LINT0 and so never takes a PIC interrupt. LINT1 is NMI on both. */
void     lapic_enable(int bsp);
/* Start-up IPIs: INIT (the target resets and waits for a SIPI), then STARTUP, which starts it
 * in real mode at page * 4 KiB (CS = page << 8, IP = 0). Both wait for delivery (bounded). */
void     lapic_send_init(uint32_t apic_id);
void     lapic_send_startup(uint32_t apic_id, uint8_t page);
void     lapic_send_wake_others(void);      /* LAPIC_WAKE_VECTOR to every CPU but this one */

/* The local APIC's timer, which every CPU has (the PIT's IRQ 0 reaches the BSP only). Its rate
 * is the bus clock's, which nothing tells us: lapic_timer_calibrate counts it against the PIT
 * (10 ms on channel 2), once, on the BSP, with no other CPU using the PIT. Then any CPU can run
 * its own timer: lapic_timer_start(hz, tick) makes it periodic on LAPIC_TIMER_VECTOR and tick
 * the handler (one for every CPU: it asks smp_cpu_index which CPU it is on), called with
 * interrupts off; the EOI follows it. -1 if the timer was never calibrated. */
void     lapic_timer_calibrate(void);
uint32_t lapic_timer_counts_per_ms(void);  /* 0 before lapic_timer_calibrate */
int      lapic_timer_start(unsigned hz, void (*tick)(void));
void     lapic_timer_stop(void);            /* this CPU's timer only; masked, count 0 */

#endif
