/* lapic.h - the local APIC of each CPU, in xAPIC mode: memory-mapped registers at the address
 * the MADT gives (normally 0xFEE00000; paging is off, so the MMIO address is used directly).
 * Every CPU sees its own APIC at the same address. */
#ifndef KERNEL_LAPIC_H
#define KERNEL_LAPIC_H

#include <stdint.h>

#define LAPIC_WAKE_VECTOR     0xF0 /* the IPI that wakes an idle AP from hlt (smp.c) */
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

#endif
