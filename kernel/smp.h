/* smp.h - the other CPUs: found in ACPI's MADT, started with INIT-SIPI-SIPI through the local
 * APIC and a real-mode trampoline (boot/trampoline.S), then kept idle (hlt) until the BSP
 * gives every CPU a job (smp_run_all). CPU 0 is the boot CPU (BSP); the APs that answer get
 * 1, 2, ... in MADT order, so the online CPUs are always 0 .. smp_cpus_online() - 1. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stddef.h>
#include <stdint.h>
#include "multiboot.h"

#define SMP_CPUS_MAX   8     /* make run / kernel-test allow CPUS=1..8 */
#define SMP_STACK_SIZE 16384 /* each AP's stack, from a static array in .bss */

/* One CPU's own record. Each CPU's GDT has a data segment over its record (gdt.h, GDT_PERCPU),
 * which that CPU keeps in %fs: reading a field is one `mov %fs:offset`, with no LAPIC register
 * read and no table search. Filled in by the BSP before the CPU starts (the CPU itself writes
 * the APIC id its local APIC reports as it comes up), read-only once the CPU is online. */
struct cpu {
    struct cpu *self;   /* at %fs:0, so this_cpu() turns the segment back into a pointer */
    unsigned    index;  /* 0 for the BSP, then 1, 2, ... in the order the APs answered */
    uint32_t    apic_id;
    uint32_t    stack_top;
};
#define CPU_SELF_OFFSET  0
#define CPU_INDEX_OFFSET 4
_Static_assert(offsetof(struct cpu, self) == CPU_SELF_OFFSET, "this_cpu reads %fs:0");
_Static_assert(offsetof(struct cpu, index) == CPU_INDEX_OFFSET, "smp_cpu_index reads %fs:4");

/* volatile: it must not be moved before the GDT load that sets %fs (gdt.c, trampoline.S). */
static inline struct cpu *this_cpu(void)
{
    struct cpu *c;

    __asm__ volatile("movl %%fs:0, %0" : "=r"(c));
    return c;
}

/* The first thing kmain does: CPU 0's record, and its GDT with %fs over that record. */
void     smp_boot_cpu_init(void);
/* CPU index's record (index < SMP_CPUS_MAX), e.g. to compare with this_cpu(). */
struct cpu *smp_cpu(unsigned index);
/* The index of the online CPU whose local APIC has this id, or -1. A table search: the
 * self-test uses it to check %fs against the APIC, everything else uses smp_cpu_index. */
int      smp_index_of_apic_id(uint32_t apic_id);

/* Chooses the page below 1 MiB for the trampoline and records it among the boot structures,
 * so regions.c keeps it out of the heap and the boot log lists it. Before regions_setup. */
void     smp_reserve(struct boot_info *boot);
/* BSP: enables its local APIC, starts every enabled AP in the MADT (each prints
 * `cpu N online (apic id X)`, or the BSP reports `cpu N (apic id X) did not start`). With
 * ghost (boot word ghostcpu), one more entry with an APIC id that no CPU has is added to the
 * MADT's list, to prove that a CPU that never answers is reported and the boot goes on. */
void     smp_start(int ghost);
unsigned smp_cpus_online(void);
/* This CPU's index: one load through %fs (struct cpu). Right from kmain's smp_boot_cpu_init on,
 * and in interrupt handlers too (they keep %fs): the console lock (uart.c) uses it. */
unsigned smp_cpu_index(void);

/* Runs fn(cpu, cpus, arg) on every online CPU at once, the BSP included, with interrupts off
 * on the APs. Returns 0 when all have returned, -1 if an AP had not after timeout_ms (it is
 * then still running the job). */
typedef void (*smp_job_fn)(unsigned cpu, unsigned cpus, void *arg);
int      smp_run_all(smp_job_fn fn, void *arg, unsigned timeout_ms);

#endif
